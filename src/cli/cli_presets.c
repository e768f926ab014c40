/* `fluenzr-tui presets`: the provider presets, as text or JSON. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "i18n.h"
#include "account.h"
#include "app.h"
#include "cli.h"
#include "cli_int.h"
#include "file.h"
#include "json.h"
#include "policy.h"
#include "preset.h"
#include "secmem.h"
#include "store.h"
#include "util.h"


/* ---- presets ---------------------------------------------------------- */

static void
json_servers(struct json *j, const struct preset_server *s, size_t n)
{
	size_t i;

	json_arr_begin(j);
	for (i = 0; i < n; i++)
		cli_json_server(j, s[i].host, s[i].port, s[i].security, NULL);
	json_arr_end(j);
}

static void
json_preset(struct json *j, const struct preset *p)
{
	size_t i;

	json_obj_begin(j);
	json_key(j, "id"); json_str(j, p->id);
	json_key(j, "name"); json_str(j, p->name);
	json_key(j, "domains");
	json_arr_begin(j);
	for (i = 0; i < p->ndomains; i++)
		json_str(j, p->domains[i]);
	json_arr_end(j);
	json_key(j, "smtp"); json_servers(j, p->smtp, p->nsmtp);
	json_key(j, "imap"); json_servers(j, p->imap, p->nimap);
	json_key(j, "app_password"); json_bool(j, p->app_password);
	json_key(j, "local_app");
	if (p->local_app[0])
		json_str(j, p->local_app);
	else
		json_null(j);
	json_key(j, "notes");
	json_arr_begin(j);
	for (i = 0; i < p->nnotes; i++)
		json_str(j, p->notes[i]);
	json_arr_end(j);
	json_key(j, "file"); json_str(j, p->origin);
	json_obj_end(j);
}

static void
print_preset(const struct preset *p)
{
	size_t i;

	printf("%-20s %-28s smtp %s:%u %s", p->id, p->name, p->smtp[0].host,
	       p->smtp[0].port, security_name(p->smtp[0].security));
	if (p->nimap)
		printf("  imap %s:%u %s", p->imap[0].host, p->imap[0].port,
		       security_name(p->imap[0].security));
	if (p->app_password)
		printf(_("  (app password)"));
	putchar('\n');
	for (i = 1; i < p->nsmtp; i++)
		printf("%-20s %-28s   or %s:%u %s\n", "", "", p->smtp[i].host, p->smtp[i].port,
		       security_name(p->smtp[i].security));
}

int
cmd_presets(struct cli_ctx *c, int argc, char **argv)
{
	const char *domain = NULL;
	const struct preset *p;
	bool json = false, m;
	struct json j;
	size_t k;
	int i, rc;

	for (i = 1; i < argc; i++) {
		const char *v;

		if (strcmp(argv[i], "--json") == 0) {
			json = true;
			i18n_for_programs();
			continue;
		}
		v = cli_opt_value(argc, argv, &i, "--domain", &m);
		if (m) {
			if (!v)
				return EX_USAGE;
			domain = v;
			continue;
		}
		rc = cli_global_option(c, argc, argv, &i);
		if (rc < 0)
			return EX_USAGE;
		if (rc > 0)
			continue;
		fprintf(stderr, _("fluenzr-tui: unexpected argument '%s'\n"), argv[i]);
		return EX_USAGE;
	}
	if ((rc = cli_load_presets(c)))
		return rc;
	if (domain) {
		const char *why = valid_text(domain, ACCT_EMAIL_MAX);

		if (why)
			return cli_bad_field("domain", why);
		p = preset_match(&c->presets, domain);
		if (!p) {
			if (json)
				puts("[]");
			else
				fprintf(stderr, _("fluenzr-tui: no preset serves %s\n"), domain);
			return json ? 0 : EX_NOINPUT;
		}
		if (json) {
			json_init(&j, stdout, true);
			json_arr_begin(&j);
			json_preset(&j, p);
			json_arr_end(&j);
			json_end(&j);
		} else {
			print_preset(p);
			for (k = 0; k < p->nnotes; k++)
				printf("  note: %s\n", p->notes[k]);
		}
		return 0;
	}
	if (json) {
		json_init(&j, stdout, true);
		json_arr_begin(&j);
		for (k = 0; k < c->presets.n; k++)
			json_preset(&j, &c->presets.v[k]);
		json_arr_end(&j);
		json_end(&j);
		return 0;
	}
	for (k = 0; k < c->presets.n; k++)
		print_preset(&c->presets.v[k]);
	return 0;
}
