/* `fluenzr-tui domain DOMAIN|ACCOUNT`: the sending domain's health, each
 * item with its status, evidence, fix and the record to publish; as text
 * or JSON, with the same findings. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "account.h"
#include "app.h"
#include "cli.h"
#include "cli_int.h"
#include "i18n.h"
#include "json.h"
#include "util.h"

#define MAX_ZONES DOM_MAX_BLOCKLISTS

static void
print_json(const struct dom_result *r)
{
	struct json j;

	json_init(&j, stdout, true);
	json_obj_begin(&j);
	json_key(&j, "domain"); json_str(&j, r->domain);
	json_key(&j, "org_domain"); json_str(&j, r->org_domain);
	json_key(&j, "status"); json_str(&j, domain_status_name(domain_worst(r)));
	json_key(&j, "cancelled"); json_bool(&j, r->cancelled);
	json_key(&j, "elapsed_ms"); json_int(&j, r->elapsed_ms);
	json_key(&j, "spf_lookups"); json_int(&j, r->spf_lookups);
	json_key(&j, "provider_mx"); json_str(&j, r->provider_mx);
	json_key(&j, "items");
	json_arr_begin(&j);
	for (size_t i = 0; i < r->n; i++) {
		const struct dom_item *it = &r->items[i];
		json_obj_begin(&j);
		json_key(&j, "id"); json_str(&j, it->id);
		json_key(&j, "subject"); json_str(&j, it->subject);
		json_key(&j, "status"); json_str(&j, domain_status_name(it->status));
		json_key(&j, "advisory"); json_bool(&j, it->advisory);
		json_key(&j, "title"); json_str(&j, it->title);
		json_key(&j, "evidence"); json_str(&j, it->evidence);
		json_key(&j, "fix");
		if (it->fix[0])
			json_str(&j, it->fix);
		else
			json_null(&j);
		json_key(&j, "record");
		if (it->rec_type[0]) {
			json_obj_begin(&j);
			json_key(&j, "name"); json_str(&j, it->rec_name);
			json_key(&j, "type"); json_str(&j, it->rec_type);
			json_key(&j, "value"); json_str(&j, it->rec_value);
			json_obj_end(&j);
		} else {
			json_null(&j);
		}
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_end(&j);
}

static void
print_text(const struct dom_result *r)
{
	printf(_("Domain health of %s"), r->domain);
	if (r->org_domain[0] && strcmp(r->org_domain, r->domain))
		printf(_(" (organizational domain %s)"), r->org_domain);
	printf("\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct dom_item *it = &r->items[i];
		fputs("  ", stdout);
		cli_pad_to(app_domain_status_word(it->status), 7);
		printf(" %s", it->title);
		if (it->subject[0] && strcmp(it->subject, r->domain))
			printf(" [%s]", it->subject);
		if (it->advisory)
			printf(_(" (advisory)"));
		printf("\n          %s\n", it->evidence);
		if (it->fix[0])
			printf(_("          fix: %s\n"), it->fix);
		if (it->rec_type[0])
			printf(_("          publish: %s %s \"%s\"\n"), it->rec_name,
			       it->rec_type, it->rec_value);
	}
	if (r->cancelled)
		printf(_("Cancelled: the items above are what was checked.\n"));
}

/* A comma-separated list of zones into zones (pointers into buf). */
static int
parse_zones(const char *v, char *buf, size_t len, const char **zones, size_t *n)
{
	*n = 0;
	if (str_copy(buf, len, v) < 0)
		return -1;
	for (char *save = NULL, *z = strtok_r(buf, ",", &save); z;
	     z = strtok_r(NULL, ",", &save)) {
		if (*n >= MAX_ZONES || domain_valid(z))
			return -1;
		zones[(*n)++] = z;
	}
	return *n ? 0 : -1;
}

int
cmd_domain(struct cli_ctx *cx, int argc, char **argv)
{
	const char *what = NULL, *selector = NULL, *sender = NULL, *preset_id = NULL;
	const char *zones[MAX_ZONES], *why, *v, *field;
	char zbuf[1024];
	size_t nzones = 0;
	bool json = false, bl = false, m;
	int timeout_ms = DOM_DEFAULT_TIMEOUT_MS, rc;
	struct account a;
	const struct preset *p = NULL;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if ((rc = cli_global_option(cx, argc, argv, &i)) < 0)
			return EX_USAGE;
		if (rc > 0)
			continue;
		if (!strcmp(arg, "--json")) {
			json = true;
			i18n_for_programs();
		} else if (!strcmp(arg, "--blocklists")) {
			bl = true;
		} else if ((v = cli_opt_value(argc, argv, &i, "--blocklist-zones", &m)) || m) {
			if (!v || parse_zones(v, zbuf, sizeof zbuf, zones, &nzones) < 0) {
				fprintf(stderr, _("fluenzr-tui: --blocklist-zones wants up to %d "
				        "domain names separated by commas\n"), MAX_ZONES);
				return EX_USAGE;
			}
			bl = true;
		} else if ((v = cli_opt_value(argc, argv, &i, "--selector", &m)) || m) {
			if (!v)
				return EX_USAGE;
			selector = v;
		} else if ((v = cli_opt_value(argc, argv, &i, "--sender-ip", &m)) || m) {
			if (!v)
				return EX_USAGE;
			sender = v;
		} else if ((v = cli_opt_value(argc, argv, &i, "--preset", &m)) || m) {
			if (!v)
				return EX_USAGE;
			preset_id = v;
		} else if ((v = cli_opt_value(argc, argv, &i, "--timeout", &m)) || m) {
			if (cli_parse_seconds("--timeout", v, 120, &timeout_ms) < 0)
				return EX_USAGE;
		} else if (arg[0] == '-') {
			fprintf(stderr, _("fluenzr-tui: domain: unknown option '%s'\n"), arg);
			return EX_USAGE;
		} else if (!what) {
			what = arg;
		} else {
			fprintf(stderr, _("fluenzr-tui: domain takes one domain or account\n"));
			return EX_USAGE;
		}
	}
	if (!what) {
		fprintf(stderr, _("Usage: fluenzr-tui domain DOMAIN|ACCOUNT [--json] "
		        "[--selector S] [--sender-ip IP] [--blocklists] "
		        "[--blocklist-zones Z,...] [--preset ID] [--timeout S]\n"));
		return EX_USAGE;
	}
	if ((rc = cli_load_presets(cx)) != 0)
		return rc;
	if (strchr(what, '@')) {
		/* An account: its preset says what its provider needs. */
		if ((why = valid_email(what)))
			return cli_bad_field("account", why);
		if ((rc = cli_open_store(cx, false, true)) != 0)
			return rc;
		if ((rc = cli_account_load(cx, what, &a)) != 0)
			return rc;
		if (!preset_id && a.preset[0])
			p = preset_find(&cx->presets, a.preset);
	} else if (!preset_id) {
		p = preset_match(&cx->presets, what);
	}
	if (preset_id && !(p = preset_find(&cx->presets, preset_id))) {
		fprintf(stderr, _("fluenzr-tui: no preset %s (see fluenzr-tui presets)\n"),
		        preset_id);
		return EX_USAGE;
	}
	struct app_domain_req *req = calloc(1, sizeof *req);
	struct dom_result *r = calloc(1, sizeof *r);
	if (!req || !r) {
		free(req);
		free(r);
		fprintf(stderr, _("fluenzr-tui: out of memory\n"));
		return EX_OSERR;
	}
	if ((why = app_domain_prepare(req, what, p, selector, sender, &field))) {
		free(req);
		free(r);
		return cli_bad_field(field, why);
	}
	if (strchr(what, '@'))
		app_domain_seen(req, cx->st, what);
	app_domain_by_mx(req, &cx->presets);
	req->o.timeout_ms = timeout_ms;
	req->o.blocklists = bl;
	if (nzones) {
		req->o.bl_zones = zones;
		req->o.nbl_zones = nzones;
	}
	domain_check(&req->o, r);
	if (json)
		print_json(r);
	else
		print_text(r);
	rc = app_domain_exit(r);
	free(req);
	free(r);
	return rc;
}
