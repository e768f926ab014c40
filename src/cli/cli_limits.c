/* `fluenzr-tui account limits`: the sending limits of an account (its
 * preset's by default, the outreach profile, none, or its own), what it
 * sent in the last day and hour, and a pause a limit reply set. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "i18n.h"
#include "app.h"
#include "cli.h"
#include "cli_int.h"
#include "json.h"
#include "store.h"
#include "util.h"

struct limits_req {
	const char *profile;       /* NULL: unchanged */
	long day, hour, interval;  /* -1: not given */
	bool resume;
};

static int
limits_fn(struct store_history *h, void *ud)
{
	const struct limits_req *r = ud;

	if (r->profile) {
		/* "provider": the preset's, kept as no profile of its own. */
		str_copy(h->profile, sizeof(h->profile),
		         strcmp(r->profile, "provider") == 0 ? "" : r->profile);
		h->lim_day = h->lim_hour = h->lim_interval = 0;
	}
	if (r->day >= 0 || r->hour >= 0 || r->interval >= 0) {
		if (strcmp(h->profile, "custom") != 0) {
			str_copy(h->profile, sizeof(h->profile), "custom");
			h->lim_day = h->lim_hour = h->lim_interval = 0;
		}
		if (r->day >= 0)
			h->lim_day = (unsigned)r->day;
		if (r->hour >= 0)
			h->lim_hour = (unsigned)r->hour;
		if (r->interval >= 0)
			h->lim_interval = (unsigned)r->interval;
	}
	if (r->resume) {
		h->paused_until = 0;
		h->pause_why[0] = '\0';
	}
	return 0;
}

static int
num_arg(const char *opt, const char *v, long *out)
{
	char *end;

	if (!v)
		return EX_USAGE;
	errno = 0;
	*out = strtol(v, &end, 10);
	if (errno || end == v || *end || *out < 0 || *out > PRESET_LIMIT_MAX) {
		fprintf(stderr, _("fluenzr-tui: %s wants a number from 0 to %d, not '%s'\n"),
		        opt, PRESET_LIMIT_MAX, v);
		return EX_USAGE;
	}
	return 0;
}

int
cli_account_limits(struct cli_ctx *c, int argc, char **argv)
{
	struct limits_req r = { NULL, -1, -1, -1, false };
	const char *target = NULL;
	struct account a;
	struct store_history h;
	struct app_limits l;
	bool json = false, change;
	int i, rc, e;

	for (i = 2; i < argc; i++) {
		const char *v;
		bool m;

		rc = cli_global_option(c, argc, argv, &i);
		if (rc < 0)
			return EX_USAGE;
		if (rc > 0)
			continue;
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
			i18n_for_programs();
			continue;
		}
		if (strcmp(argv[i], "--resume") == 0) {
			r.resume = true;
			continue;
		}
		v = cli_opt_value(argc, argv, &i, "--profile", &m);
		if (m) {
			if (!v)
				return EX_USAGE;
			if (strcmp(v, "provider") && strcmp(v, "outreach") && strcmp(v, "none")) {
				fprintf(stderr, _("fluenzr-tui: --profile wants provider, outreach "
				        "or none, not '%s'\n"), v);
				return EX_USAGE;
			}
			r.profile = v;
			continue;
		}
		v = cli_opt_value(argc, argv, &i, "--day", &m);
		if (m) {
			if ((rc = num_arg("--day", v, &r.day)))
				return rc;
			continue;
		}
		v = cli_opt_value(argc, argv, &i, "--hour", &m);
		if (m) {
			if ((rc = num_arg("--hour", v, &r.hour)))
				return rc;
			continue;
		}
		v = cli_opt_value(argc, argv, &i, "--interval", &m);
		if (m) {
			if ((rc = num_arg("--interval", v, &r.interval)))
				return rc;
			continue;
		}
		if (argv[i][0] == '-' || target) {
			fprintf(stderr, _("fluenzr-tui: unexpected argument '%s'\n"), argv[i]);
			return EX_USAGE;
		}
		target = argv[i];
	}
	if (!target) {
		fprintf(stderr, _("fluenzr-tui: account limits needs the account's address\n"));
		return EX_USAGE;
	}
	change = r.profile || r.day >= 0 || r.hour >= 0 || r.interval >= 0 || r.resume;
	if ((rc = cli_open_store(c, false, change)))
		return rc;
	if ((rc = cli_account_load(c, target, &a)))
		return rc;
	if (change) {
		char err[APP_ERR_MAX] = "";

		e = store_activity_update(c->st, a.email, limits_fn, &r, err, sizeof err);
		if (e != STORE_OK)
			return cli_store_fail(e, err);
	}
	(void)store_history_get(c->st, a.email, &h);
	if (a.preset[0])
		(void)cli_load_presets(c);
	app_limits_of(&a, &h, c->presets_loaded ? &c->presets : NULL, &l);
	if (json) {
		struct json j;

		json_init(&j, stdout, true);
		cli_json_limits(&j, &l, &h, (int64_t)time(NULL));
		json_end(&j);
		return 0;
	}
	{
		char t[256];

		app_limits_text(&l, &h, (int64_t)time(NULL), t, sizeof t);
		printf("%s: %s\n", a.email, t);
	}
	return 0;
}

void
cli_json_limits(struct json *j, const struct app_limits *l,
                const struct store_history *h, int64_t now)
{
	unsigned long day, hour;

	app_limits_sent(h, now, &day, &hour);
	json_obj_begin(j);
	json_key(j, "source"); json_str(j, l->source);
	json_key(j, "day"); l->day ? json_int(j, l->day) : json_null(j);
	json_key(j, "hour"); l->hour ? json_int(j, l->hour) : json_null(j);
	json_key(j, "interval"); l->interval ? json_int(j, l->interval) : json_null(j);
	json_key(j, "sent_day"); json_int(j, (long long)day);
	json_key(j, "sent_hour"); json_int(j, (long long)hour);
	json_key(j, "paused_until");
	h->paused_until > now ? json_int(j, h->paused_until) : json_null(j);
	json_key(j, "pause_reason");
	h->paused_until > now ? json_str(j, h->pause_why) : json_null(j);
	json_obj_end(j);
}
