/* `fluenzr-tui discover ADDRESS`: what the discovery engine found, best
 * first, each with where it came from; as text or JSON. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "i18n.h"
#include "account.h"
#include "app.h"
#include "cli.h"
#include "cli_int.h"
#include "discover.h"
#include "json.h"
#include "util.h"

static void
json_server(struct json *j, const struct disc_server *s, const char *email)
{
	cli_json_server(j, s->host, s->port, s->security,
	                s->username[0] ? s->username : email);
}

static void
print_json(const struct disc_result *r, const char *email)
{
	struct json j;

	json_init(&j, stdout, true);
	json_obj_begin(&j);
	json_key(&j, "email"); json_str(&j, email);
	json_key(&j, "found"); json_bool(&j, r->n > 0);
	json_key(&j, "elapsed_ms"); json_int(&j, r->elapsed_ms);
	json_key(&j, "candidates");
	json_arr_begin(&j);
	for (size_t i = 0; i < r->n; i++) {
		const struct disc_candidate *c = &r->c[i];
		json_obj_begin(&j);
		json_key(&j, "source"); json_str(&j, discover_source_name(c->source));
		json_key(&j, "why"); json_str(&j, c->why);
		json_key(&j, "score"); json_int(&j, c->score);
		json_key(&j, "preset");
		if (c->preset[0])
			json_str(&j, c->preset);
		else
			json_null(&j);
		json_key(&j, "smtp"); json_server(&j, &c->smtp, email);
		json_key(&j, "imap");
		if (c->has_imap)
			json_server(&j, &c->imap, email);
		else
			json_null(&j);
		json_key(&j, "foreign_domain"); json_bool(&j, c->foreign);
		json_key(&j, "over_http"); json_bool(&j, c->over_http);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "notes");
	json_arr_begin(&j);
	for (size_t i = 0; i < r->nnotes; i++)
		json_str(&j, r->notes[i]);
	json_arr_end(&j);
	json_obj_end(&j);
	json_end(&j);
}

static void
print_text(const struct disc_result *r, const char *email)
{
	char warn[600];

	if (r->n == 0) {
		printf(_("No settings found for %s.\n"), email);
		for (size_t i = 0; i < r->nnotes; i++)
			printf("  %s\n", r->notes[i]);
		printf(_("Enter the server by hand: fluenzr-tui account add --email %s "
		       "--smtp-host HOST --smtp-port 587 --smtp-security starttls\n"), email);
		return;
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct disc_candidate *c = &r->c[i];
		printf("%s%s\n", i == 0 ? "" : "or: ", c->why);
		printf("  smtp %s %u %s\n", c->smtp.host, c->smtp.port,
		       security_name(c->smtp.security));
		if (c->has_imap)
			printf("  imap %s %u %s\n", c->imap.host, c->imap.port,
			       security_name(c->imap.security));
		if (c->preset[0])
			printf("  preset %s\n", c->preset);
		if (app_discover_warning(c, email, warn, sizeof warn))
			printf(_("  warning: %s\n"), warn);
	}
}

int
cmd_discover(struct cli_ctx *cx, int argc, char **argv)
{
	struct disc_options o = { .cancel_fd = -1, .timeout_ms = DISC_DEFAULT_TIMEOUT_MS };
	const char *email = NULL, *why;
	bool json = false, m;
	struct disc_result *r;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		if ((rc = cli_global_option(cx, argc, argv, &i)) < 0)
			return EX_USAGE;
		if (rc > 0)
			continue;
		if (!strcmp(a, "--json")) {
			json = true;
			i18n_for_programs();
		} else if (!strcmp(a, "--allow-http")) {
			o.allow_http = true;
		} else if ((v = cli_opt_value(argc, argv, &i, "--timeout", &m)) || m) {
			if (cli_parse_seconds("--timeout", v, 60, &o.timeout_ms) < 0)
				return EX_USAGE;
		} else if ((v = cli_opt_value(argc, argv, &i, "--guess-ports", &m)) || m) {
			/* SMTP's two ports, then optionally IMAP's two. */
			unsigned pt[4] = { 0, 0, 0, 0 };
			int n = 0;
			bool ok = v != NULL;
			for (const char *q = v; ok && *q; n++) {
				char *end;
				unsigned long x = *q >= '0' && *q <= '9' ? strtoul(q, &end, 10) : 0;
				ok = n < 4 && x >= 1 && x <= 65535 && (*end == ',' ? end[1] : !*end);
				if (ok) {
					pt[n] = (unsigned)x;
					q = *end ? end + 1 : end;
				}
			}
			if (!ok || (n != 2 && n != 4)) {
				fprintf(stderr, _("fluenzr-tui: --guess-ports wants SSL,STARTTLS "
				        "ports, like 465,587, optionally followed by IMAP's "
				        "IMAPS,IMAP, like 465,587,993,143\n"));
				return EX_USAGE;
			}
			o.guess_ssl_port = pt[0];
			o.guess_starttls_port = pt[1];
			o.guess_imaps_port = pt[2];
			o.guess_imap_port = pt[3];
		} else if (!strcmp(a, "--no-guess")) {
			o.no_guess = true;
		} else if ((v = cli_opt_value(argc, argv, &i, "--ca-file", &m)) || m) {
			if (!v)
				return EX_USAGE;
			o.ca_file = v;
		} else if (a[0] == '-') {
			fprintf(stderr, _("fluenzr-tui: discover: unknown option '%s'\n"), a);
			return EX_USAGE;
		} else if (!email) {
			email = a;
		} else {
			fprintf(stderr, _("fluenzr-tui: discover takes one address\n"));
			return EX_USAGE;
		}
	}
	if (!email) {
		fprintf(stderr, _("Usage: fluenzr-tui discover ADDRESS [--json] [--timeout S] "
		        "[--allow-http] [--ca-file FILE] "
		        "[--guess-ports SSL,STARTTLS[,IMAPS,IMAP]] "
		        "[--no-guess]\n"));
		return EX_USAGE;
	}
	if ((why = valid_email(email)))
		return cli_bad_field("email", why);
	if ((rc = cli_load_presets(cx)) != 0)
		return rc;
	o.email = email;
	o.presets = &cx->presets;
	if (o.allow_http)
		fprintf(stderr, _("fluenzr-tui: warning: --allow-http: an autoconfig document "
		        "fetched over plain HTTP can be changed by anyone on the path\n"));
	if (!(r = calloc(1, sizeof *r))) {
		fprintf(stderr, _("fluenzr-tui: out of memory\n"));
		return EX_OSERR;
	}
	discover_run(&o, r);
	if (json)
		print_json(r, email);
	else
		print_text(r, email);
	rc = r->n ? 0 : EX_UNAVAILABLE;
	free(r);
	return rc;
}
