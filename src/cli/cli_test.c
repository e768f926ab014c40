/* `fluenzr-tui test`: runs the probe on one account (printing each step as
 * it happens) or on every account through the bounded runner, prints the
 * diagnosis or JSON, records the outcome on the account and exits with the
 * category's status. */
#include "config.h"

#include <errno.h>
#include <langinfo.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "i18n.h"
#include "app.h"
#include "cli.h"
#include "cli_int.h"
#include "diag.h"
#include "json.h"
#include "probe.h"
#include "secmem.h"
#include "store.h"
#include "util.h"

#define PW_LEN (ACCT_SECRET_MAX + 1)

/* `check --all`'s exit statuses besides 0 (every account healthy). */
#define CHECK_EXIT_ATTENTION 1
#define CHECK_EXIT_FAILING   2

struct test_opts {
	const char *account;
	bool all, json, transcript;
	bool check;             /* `check`: health and history, quiet by --changed */
	bool changed;
	struct probe_opts po;
	int jobs;
};

/* The probes a SIGINT cancels. Set before the handler is installed and
 * cleared after it is removed; probe_cancel() is async-signal-safe (an
 * atomic store and a write()). */
static struct probe **sig_probes;
static size_t sig_nprobes;
static volatile sig_atomic_t sig_seen;

static void
on_sigint(int sig)
{
	size_t i;

	(void)sig;
	sig_seen = 1;
	for (i = 0; i < sig_nprobes; i++)
		if (sig_probes[i])
			probe_cancel(sig_probes[i]);
}

static void
catch_sigint(struct sigaction *old_int, struct sigaction *old_term)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, old_int);
	sigaction(SIGTERM, &sa, old_term);
}

static void
release_sigint(const struct sigaction *old_int, const struct sigaction *old_term)
{
	sigaction(SIGINT, old_int, NULL);
	sigaction(SIGTERM, old_term, NULL);
	sig_probes = NULL;
	sig_nprobes = 0;
}

static int
usage_error(const char *msg)
{
	fprintf(stderr, _("fluenzr-tui test: %s\n"), msg);
	fputs(_("Usage: fluenzr-tui test ACCOUNT [--no-send] [--smtp-only | --imap-only]"
	      " [--timeout S] [--reply-wait S] [--json] [--transcript]\n"
	      "       fluenzr-tui test --all [--jobs N] [--timeout S] [--json]\n"
	      "       fluenzr-tui check --all [--changed] [--send] [--jobs N] [--timeout S] [--json]\n"),
	      stderr);
	return EX_USAGE;
}

static int
parse_int(const char *opt, const char *v, int lo, int hi, int *out)
{
	char *end;
	long n;

	char msg[256];

	if (!v) {
		str_printf(msg, sizeof(msg), _("%s needs a value"), opt);
		return usage_error(msg);
	}
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi) {
		str_printf(msg, sizeof(msg), _("%s wants a number from %d to %d, not '%s'"),
		           opt, lo, hi, v);
		return usage_error(msg);
	}
	*out = (int)n;
	return 0;
}

static int
parse_args(struct cli_ctx *c, int argc, char **argv, struct test_opts *o,
           bool check)
{
	int i, r;

	memset(o, 0, sizeof(*o));
	probe_opts_default(&o->po);
	o->jobs = 8;
	o->check = check;
	/* A scheduled check signs in without sending, unless asked to. */
	o->po.no_send = check;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		r = cli_global_option(c, argc, argv, &i);
		if (r < 0)
			return EX_USAGE;
		if (r > 0)
			continue;
		if (strcmp(a, "--all") == 0)
			o->all = true;
		else if (strcmp(a, "--json") == 0) {
			o->json = true;
			i18n_for_programs();
		}
		else if (strcmp(a, "--transcript") == 0)
			o->transcript = true;
		else if (strcmp(a, "--no-send") == 0)
			o->po.no_send = true;
		else if (check && strcmp(a, "--changed") == 0)
			o->changed = true;
		else if (check && strcmp(a, "--send") == 0)
			o->po.no_send = false;
		else if (strcmp(a, "--smtp-only") == 0)
			o->po.smtp_only = true;
		else if (strcmp(a, "--imap-only") == 0)
			o->po.imap_only = true;
		else if (strcmp(a, "--no-alternatives") == 0)
			o->po.find_alternatives = false;
		else if (strcmp(a, "--timeout") == 0) {
			if ((r = parse_int(a, v, 1, 600, &o->po.timeout_s)) != 0)
				return r;
			i++;
		} else if (strcmp(a, "--reply-wait") == 0) {
			if ((r = parse_int(a, v, 1, 600, &o->po.reply_wait_s)) != 0)
				return r;
			i++;
		} else if (strcmp(a, "--jobs") == 0) {
			if ((r = parse_int(a, v, 1, 64, &o->jobs)) != 0)
				return r;
			i++;
		} else if (a[0] == '-') {
			char msg[256];

			str_printf(msg, sizeof(msg), _("unknown option '%s'"), a);
			return usage_error(msg);
		} else if (!o->account) {
			o->account = a;
		} else {
			char msg[512];

			str_printf(msg, sizeof(msg), _("one account at a time ('%s' is one "
			           "too many); use --all for every account"), a);
			return usage_error(msg);
		}
	}
	if (o->po.smtp_only && o->po.imap_only)
		return usage_error(_("--smtp-only and --imap-only exclude each other"));
	if (o->all && o->account)
		return usage_error(_("give an ACCOUNT or --all, not both"));
	if (!o->all && !o->account)
		return usage_error(_("which account? (or --all)"));
	if (o->all && o->transcript)
		return usage_error(_("--transcript works with one account only"));
	if (check && !o->all)
		return usage_error(_("check works on every account: check --all"));
	return 0;
}

/* ---- output ---- */

static bool
utf8_locale(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

const char *
cli_mark(bool ok)
{
	static int u = -1;

	if (u < 0)
		u = utf8_locale();
	if (u)
		return ok ? "\xe2\x9c\x93" : "\xe2\x9c\x97";
	return ok ? "ok  " : "FAIL";
}

void
cli_print_step(const struct probe_event *ev, void *ud)
{
	FILE *f = ud ? ud : stdout;

	if (ev->type != PROBE_EV_STEP_END)
		return;
	fprintf(f, "%s %-18s %5lld ms  %s\n", cli_mark(ev->step->ok), ev->step->name,
	       (long long)ev->step->ms, ev->step->detail);
	fflush(f);
}

static const char *
verdict(const char *v)
{
	return v[0] ? v : "-";
}

static const char *
yes_no(bool b)
{
	return b ? _("yes") : _("no");
}

/* Where the test message landed, the folder map, what the server offers a
 * reply detector and what the receiving side wrote on the message. */
static void
print_placement(FILE *f, const struct probe_result *r)
{
	const struct probe_placement *pl = &r->place;
	const struct mailhdr_auth *au = &pl->auth;

	if (pl->landed == DIAG_LANDED_JUNK)
		fprintf(f, _("  landed in Junk (%s) after %lld ms\n"),
		        pl->folders[ROLE_JUNK].name, (long long)r->reply_ms);
	if (pl->landed >= DIAG_LANDED_INBOX)
		fprintf(f, _("  copy in Sent: %s\n"), pl->sent_copy < 0 ? _("unknown (no Sent folder)") :
		        yes_no(pl->sent_copy));
	if (pl->checked) {
		fprintf(f, _("  folders:\n"));
		for (int i = 0; i < PROBE_NROLES; i++)
			fprintf(f, "    %-8s %s%s%s%s\n", probe_role_name((enum probe_role)i),
			        pl->folders[i].from ? pl->folders[i].name : _("(none)"),
			        pl->folders[i].from ? " (" : "",
			        pl->folders[i].from ? pl->folders[i].from : "",
			        pl->folders[i].from ? ")" : "");
	}
	if (pl->caps_seen)
		fprintf(f, _("  IMAP for reply detection: IDLE %s, CONDSTORE %s, QRESYNC %s, "
		        "UIDPLUS %s, SPECIAL-USE %s\n"), yes_no(pl->idle),
		        yes_no(pl->condstore), yes_no(pl->qresync),
		        yes_no(pl->uidplus), yes_no(pl->special_use));
	if (pl->conn_limit[0])
		fprintf(f, _("  connection limit: %s\n"), pl->conn_limit);
	if (!pl->fetched)
		return;
	if (au->ar_found)
		fprintf(f, _("  receiving server (%s) said: spf=%s dkim=%s dmarc=%s\n"),
		        au->ar_authserv[0] ? au->ar_authserv : _("no authserv-id"),
		        verdict(au->spf), verdict(au->dkim), verdict(au->dmarc));
	else
		fprintf(f, _("  receiving server: no Authentication-Results of its own%s\n"),
		        au->ar_ignored ? _(" (others ignored)") : "");
	if (au->dkim_sig)
		fprintf(f, au->aligned_strict == 1
		        ? _("  DKIM signature: d=%s s=%s a=%s, the same as the From domain %s\n")
		        : au->aligned_relaxed == 1
		        ? _("  DKIM signature: d=%s s=%s a=%s, aligned (relaxed) with the From domain %s\n")
		        : _("  DKIM signature: d=%s s=%s a=%s, not aligned with the From domain %s\n"),
		        au->sig_d, verdict(au->sig_s), verdict(au->sig_a),
		        verdict(au->from_domain));
	else
		fprintf(f, _("  DKIM signature: none\n"));
	if (pl->dkim.verdict > PROBE_DKIM_NONE)
		fprintf(f, _("  DKIM verified by us: %s%s%s\n"), probe_dkim_name(pl->dkim.verdict),
		        pl->dkim.why[0] ? ": " : "", pl->dkim.why);
	if (au->relay_ip[0])
		fprintf(f, _("  handed over by: %s%s%s%s\n"), au->relay_ip,
		        au->relay_host[0] ? " (" : "", au->relay_host,
		        au->relay_host[0] ? ")" : "");
}

static void
print_findings(FILE *f, const struct probe_result *r)
{
	for (size_t i = 0; i < r->nfindings && i < DIAG_MAX_FINDINGS; i++) {
		const struct diag_finding *g = &r->findings[i];

		fprintf(f, "! %s (%s)\n", g->title, g->reason);
		if (g->nfixes)
			fprintf(f, _("  what to check:\n"));
		for (size_t k = 0; k < g->nfixes && k < DIAG_MAX_FIXES; k++)
			fprintf(f, "   - %s\n", g->fixes[k]);
	}
}

void
cli_print_result(FILE *f, const struct probe_result *r)
{
	const struct diagnosis *d = &r->diag;

	fputc('\n', f);
	if (d->cat == DIAG_OK) {
		fprintf(f, "%s %s\n", cli_mark(true), d->title[0] ? d->title : diag_cat_title(DIAG_OK));
		if (r->message_id[0])
			fprintf(f, _("  test message: %s\n"), r->message_id);
		if (r->reply_detection == 1)
			fprintf(f, _("  seen in INBOX after %lld ms\n"), (long long)r->reply_ms);
		else if (r->reply_detection == 0 && r->place.landed != DIAG_LANDED_JUNK)
			fprintf(f, _("  not seen in INBOX in time\n"));
		print_placement(f, r);
		print_findings(f, r);
		return;
	}
	cli_print_diagnosis(f, d);
	print_placement(f, r);
}

void
cli_print_diagnosis(FILE *f, const struct diagnosis *d)
{
	size_t i;

	fprintf(f, "%s %s (%s%s%s)\n", cli_mark(false),
	        d->title[0] ? d->title : diag_cat_title(d->cat), diag_cat_name(d->cat),
	        d->reason[0] ? ": " : "", d->reason);
	if (d->reply[0])
		fprintf(f, _("  server said: %s\n"), d->reply);
	if (d->evidence[0])
		fprintf(f, _("  based on: %s\n"), d->evidence);
	if (d->nfixes) {
		fprintf(f, _("  what to check:\n"));
		for (i = 0; i < d->nfixes && i < DIAG_MAX_FIXES; i++)
			fprintf(f, "   - %s\n", d->fixes[i]);
	}
	if (d->suggestion[0])
		fprintf(f, _("  suggestion: %s\n"), d->suggestion);
	if (d->pin_candidate[0])
		fprintf(f, _("  certificate fingerprint: %s\n"), d->pin_candidate);
}

void
cli_json_diagnosis(struct json *j, const struct diagnosis *d)
{
	size_t i;

	json_obj_begin(j);
	json_key(j, "category"); json_str(j, diag_cat_name(d->cat));
	json_key(j, "reason"); json_str(j, d->reason);
	json_key(j, "stage"); json_str(j, diag_stage_name(d->stage));
	json_key(j, "reply"); json_str(j, d->reply);
	json_key(j, "evidence"); json_str(j, d->evidence);
	json_key(j, "title"); json_str(j, d->title[0] ? d->title : diag_cat_title(d->cat));
	json_key(j, "fixes");
	json_arr_begin(j);
	for (i = 0; i < d->nfixes && i < DIAG_MAX_FIXES; i++)
		json_str(j, d->fixes[i]);
	json_arr_end(j);
	json_key(j, "suggestion"); json_str(j, d->suggestion);
	json_key(j, "alt_port");
	if (d->alt_port)
		json_int(j, d->alt_port);
	else
		json_null(j);
	json_key(j, "alt_security");
	if (d->alt_port)
		json_str(j, security_name(d->alt_security));
	else
		json_null(j);
	json_key(j, "pin_candidate");
	d->pin_candidate[0] ? json_str(j, d->pin_candidate) : json_null(j);
	json_obj_end(j);
}

static void
print_transcript(const struct probe_result *r)
{
	size_t i;

	printf(_("\ntranscript:\n"));
	for (i = 0; i < r->ntranscript; i++)
		printf("%7lld ms %c: %s\n", (long long)r->transcript[i].t_ms,
		       r->transcript[i].dir, r->transcript[i].text);
}

static void
json_str_or_null(struct json *j, const char *key, const char *v)
{
	json_key(j, key);
	v && v[0] ? json_str(j, v) : json_null(j);
}

static void
json_tristate(struct json *j, const char *key, int v)
{
	json_key(j, key);
	v < 0 ? json_null(j) : json_bool(j, v == 1);
}

/* "placement": stable keys, null where the run did not find out. */
static void
json_placement(struct json *j, const struct probe_result *r)
{
	const struct probe_placement *pl = &r->place;
	const struct mailhdr_auth *au = &pl->auth;

	json_key(j, "placement");
	json_obj_begin(j);
	json_str_or_null(j, "landed", probe_landed_name(pl->landed));
	json_str_or_null(j, "landed_folder",
	                 pl->landed == DIAG_LANDED_INBOX ? pl->folders[ROLE_INBOX].name :
	                 pl->landed == DIAG_LANDED_JUNK ? pl->folders[ROLE_JUNK].name : NULL);
	json_key(j, "sent_copy");
	json_str(j, pl->sent_copy < 0 ? "unknown" : pl->sent_copy ? "yes" : "no");
	json_key(j, "folders");
	if (!pl->checked) {
		json_null(j);
	} else {
		json_obj_begin(j);
		for (int i = 0; i < PROBE_NROLES; i++) {
			json_key(j, probe_role_name((enum probe_role)i));
			if (!pl->folders[i].from) {
				json_null(j);
				continue;
			}
			json_obj_begin(j);
			json_key(j, "name"); json_str(j, pl->folders[i].name);
			json_key(j, "from"); json_str(j, pl->folders[i].from);
			json_obj_end(j);
		}
		json_obj_end(j);
	}
	json_key(j, "capabilities");
	if (!pl->caps_seen) {
		json_null(j);
	} else {
		json_obj_begin(j);
		json_key(j, "idle"); json_bool(j, pl->idle);
		json_key(j, "condstore"); json_bool(j, pl->condstore);
		json_key(j, "qresync"); json_bool(j, pl->qresync);
		json_key(j, "uidplus"); json_bool(j, pl->uidplus);
		json_key(j, "special_use"); json_bool(j, pl->special_use);
		json_obj_end(j);
	}
	json_str_or_null(j, "connection_limit", pl->conn_limit);
	json_key(j, "message_bytes");
	pl->fetched ? json_int(j, (int64_t)pl->fetched_len) : json_null(j);
	json_key(j, "received");
	if (!pl->fetched) {
		json_null(j);
	} else {
		json_obj_begin(j);
		json_key(j, "authentication_results");
		if (!au->ar_found) {
			json_null(j);
		} else {
			json_obj_begin(j);
			json_str_or_null(j, "authserv_id", au->ar_authserv);
			json_str_or_null(j, "spf", au->spf);
			json_str_or_null(j, "dkim", au->dkim);
			json_str_or_null(j, "dmarc", au->dmarc);
			json_str_or_null(j, "header_d", au->ar_dkim_d);
			json_str_or_null(j, "smtp_mailfrom", au->ar_mailfrom);
			json_obj_end(j);
		}
		json_key(j, "ignored_authentication_results");
		json_int(j, au->ar_ignored);
		json_str_or_null(j, "from_domain", au->from_domain);
		json_key(j, "dkim_signature");
		if (!au->dkim_sig) {
			json_null(j);
		} else {
			json_obj_begin(j);
			json_str_or_null(j, "d", au->sig_d);
			json_str_or_null(j, "s", au->sig_s);
			json_str_or_null(j, "a", au->sig_a);
			json_tristate(j, "aligned_relaxed", au->aligned_relaxed);
			json_tristate(j, "aligned_strict", au->aligned_strict);
			json_key(j, "count"); json_int(j, au->dkim_sigs);
			json_obj_end(j);
		}
		json_key(j, "dkim_verified");
		if (pl->dkim.verdict == PROBE_DKIM_UNCHECKED) {
			json_null(j);
		} else {
			json_obj_begin(j);
			json_key(j, "result"); json_str(j, probe_dkim_name(pl->dkim.verdict));
			json_str_or_null(j, "d", pl->dkim.d);
			json_str_or_null(j, "s", pl->dkim.s);
			json_str_or_null(j, "why", pl->dkim.why);
			json_obj_end(j);
		}
		json_str_or_null(j, "relay_ip", au->relay_ip);
		json_str_or_null(j, "relay_host", au->relay_host);
		json_obj_end(j);
	}
	json_obj_end(j);
}

void
cli_json_result_fields(struct json *j, const char *email,
                       const struct probe_result *r)
{
	const struct diagnosis *d = &r->diag;
	char dir[2] = { 0, 0 };
	size_t i;

	json_key(j, "account"); json_str(j, email);
	json_key(j, "ok"); json_bool(j, r->ok);
	json_key(j, "category"); json_str(j, diag_cat_name(d->cat));
	json_key(j, "steps");
	json_arr_begin(j);
	for (i = 0; i < r->nsteps; i++) {
		json_obj_begin(j);
		json_key(j, "name"); json_str(j, r->steps[i].name);
		json_key(j, "ok"); json_bool(j, r->steps[i].ok);
		json_key(j, "ms"); json_int(j, r->steps[i].ms);
		json_key(j, "detail"); json_str(j, r->steps[i].detail);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "tls");
	json_arr_begin(j);
	for (i = 0; i < r->ntls; i++) {
		const struct tls_info *t = &r->tls[i];

		json_obj_begin(j);
		json_key(j, "step"); json_str(j, t->step);
		json_key(j, "version"); json_str(j, t->version);
		json_key(j, "cipher"); json_str(j, t->cipher);
		json_key(j, "subject"); json_str(j, t->subject);
		json_key(j, "issuer"); json_str(j, t->issuer);
		json_key(j, "not_before"); json_str(j, t->not_before);
		json_key(j, "not_after"); json_str(j, t->not_after);
		json_key(j, "sha256"); json_str(j, t->sha256);
		json_key(j, "verified"); json_bool(j, t->verified);
		json_key(j, "problem"); t->problem[0] ? json_str(j, t->problem) : json_null(j);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "diagnosis");
	cli_json_diagnosis(j, d);
	json_key(j, "message_id");
	r->message_id[0] ? json_str(j, r->message_id) : json_null(j);
	json_key(j, "token"); json_str(j, r->token);
	json_key(j, "reply_detection");
	if (r->reply_detection < 0)
		json_null(j);
	else
		json_bool(j, r->reply_detection == 1);
	json_key(j, "reply_ms");
	if (r->reply_detection == 1)
		json_int(j, r->reply_ms);
	else
		json_null(j);
	json_placement(j, r);
	json_key(j, "findings");
	json_arr_begin(j);
	for (i = 0; i < r->nfindings && i < DIAG_MAX_FINDINGS; i++) {
		const struct diag_finding *g = &r->findings[i];

		json_obj_begin(j);
		json_key(j, "reason"); json_str(j, g->reason);
		json_key(j, "title"); json_str(j, g->title);
		json_key(j, "fixes");
		json_arr_begin(j);
		for (size_t k = 0; k < g->nfixes && k < DIAG_MAX_FIXES; k++)
			json_str(j, g->fixes[k]);
		json_arr_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "transcript");
	json_arr_begin(j);
	for (i = 0; i < r->ntranscript; i++) {
		dir[0] = r->transcript[i].dir;
		json_obj_begin(j);
		json_key(j, "t_ms"); json_int(j, r->transcript[i].t_ms);
		json_key(j, "dir"); json_str(j, dir);
		json_key(j, "text"); json_str(j, r->transcript[i].text);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void
json_result(struct json *j, const char *email, const struct probe_result *r)
{
	json_obj_begin(j);
	cli_json_result_fields(j, email, r);
	json_obj_end(j);
}

/* ---- one account ---- */

struct job {
	struct account a;
	struct probe *p;
	enum diag_cat cat;
	int64_t ms;
	int prep_rc;            /* --all: exit status when it could not start */
	struct app_health_info before;   /* check: the health before this run */
	bool done;              /* --all: finished (or never started) */
	struct pool *pl;        /* --all: the run it belongs to */
};

/* Reads the account's passwords and makes its probe (which copies them). */
static int
job_prepare(struct cli_ctx *c, struct job *jb, const struct test_opts *o)
{
	const struct preset_list *presets = NULL;
	char err[APP_ERR_MAX];
	int rc;

	if (jb->a.preset[0] && cli_load_presets(c) == 0)
		presets = &c->presets;
	rc = app_run_prepare(c->st, &jb->a, presets, &o->po, &jb->p, err,
	                     sizeof err);
	if (rc != 0)
		fprintf(stderr, "fluenzr-tui: %s\n", err);
	return rc;
}

static int
save_result(struct cli_ctx *c, const struct job *jb, struct store_history *after)
{
	char err[APP_ERR_MAX];
	const struct probe_result *r = jb->p ? probe_result(jb->p) : NULL;
	int rc = app_result_record(c->st, jb->a.email, (int64_t)time(NULL), jb->cat,
	                           r ? &r->diag : NULL, jb->ms, after, err, sizeof err);

	if (rc >= 0 && app_seen_record(c->st, jb->a.email, (int64_t)time(NULL), r,
	                               err, sizeof err) < 0)
		rc = -1;
	if (rc < 0)
		fprintf(stderr, "fluenzr-tui: %s\n", err);
	return rc;
}

static int
test_one(struct cli_ctx *c, const struct test_opts *o)
{
	struct sigaction oi, ot;
	struct job jb;
	struct probe *arr[1];
	int64_t t0;
	int e, rc;

	memset(&jb, 0, sizeof(jb));
	e = store_account_get(c->st, o->account, &jb.a);
	if (e == STORE_ENOENT) {
		fprintf(stderr, _("fluenzr-tui: no account '%s' (see: fluenzr-tui account list)\n"),
		        o->account);
		return EX_NOINPUT;
	}
	if (e != STORE_OK) {
		fprintf(stderr, _("fluenzr-tui: %s: %s\n"), o->account, store_strerror(e));
		return cli_store_exit(e);
	}
	if (o->po.imap_only && !jb.a.imap_host[0]) {
		fprintf(stderr, _("fluenzr-tui test: %s has no IMAP server (--imap-only)\n"),
		        jb.a.email);
		return EX_USAGE;
	}
	if ((rc = job_prepare(c, &jb, o)) != 0)
		return rc;
	if (!o->json) {
		bool smtp = !o->po.imap_only, imap = jb.a.imap_host[0] && !o->po.smtp_only;

		printf(_("Testing %s ("), jb.a.email);
		if (smtp)
			printf("SMTP %s:%u %s", jb.a.smtp_host, jb.a.smtp_port,
			       security_name(jb.a.smtp_security));
		if (imap)
			printf("%sIMAP %s:%u %s", smtp ? ", " : "", jb.a.imap_host,
			       jb.a.imap_port, security_name(jb.a.imap_security));
		printf(")\n");
	}
	fflush(stdout);
	arr[0] = jb.p;
	sig_probes = arr;
	sig_nprobes = 1;
	catch_sigint(&oi, &ot);
	t0 = now_ms();
	jb.cat = probe_run(jb.p, o->json ? NULL : cli_print_step, NULL);
	if (app_run_retry_wanted(&jb.a, jb.cat)) {
		const struct preset_list *presets =
			jb.a.preset[0] && cli_load_presets(c) == 0 ? &c->presets : NULL;
		struct probe *again = NULL;
		char err[APP_ERR_MAX];

		if (!o->json)
			printf(_("The OAuth token was refused: refreshing it and trying "
			       "once more\n"));
		if (app_run_prepare_retry(c->st, &jb.a, presets, &o->po, &again, err,
		                          sizeof err) != 0) {
			release_sigint(&oi, &ot);
			fprintf(stderr, "fluenzr-tui: %s\n", err);
			probe_free(jb.p);
			return diag_exit_code(DIAG_AUTH_FAILED);
		}
		probe_free(jb.p);
		jb.p = arr[0] = again;
		jb.cat = probe_run(jb.p, o->json ? NULL : cli_print_step, NULL);
	}
	jb.ms = now_ms() - t0;
	release_sigint(&oi, &ot);
	if (o->json) {
		struct json j;

		json_init(&j, stdout, true);
		json_result(&j, jb.a.email, probe_result(jb.p));
		json_end(&j);
	} else {
		cli_print_result(stdout, probe_result(jb.p));
		if (o->transcript)
			print_transcript(probe_result(jb.p));
	}
	fflush(stdout);
	save_result(c, &jb, NULL);
	probe_free(jb.p);
	return diag_exit_code(jb.cat);
}

/* ---- every account ---- */

/* The main thread reads the secrets and makes the probes (the store stays
 * on one thread), the runner's workers run them (app_runner.c: at most
 * --jobs at once), and the main thread prints, records and frees each
 * result in account order. Only a window of probes exists at a time: each
 * holds locked pages and a descriptor, and making all of them first
 * failed at a few hundred accounts under a common `ulimit -n` of 1024. An
 * account whose test cannot start (its password does not open) is
 * reported and the others still run. */
struct pool {
	struct job *jobs;
	size_t n;
	size_t nready;           /* jobs [0, nready) are set up (or failed) */
	size_t next_out;         /* the next one to print */
	size_t alive;            /* probes made and not yet freed */
	struct app_runner *r;
	pthread_mutex_t out_mu;  /* stdout, between the workers' lines */
	bool json;
	const struct test_opts *o;
	size_t nstate[APP_HEALTH_FAILING + 1];   /* check: accounts per health */
	int remind_days;
};

/* On a worker: runs one probe and prints its line as it ends. */
static void
pool_run_job(void *arg)
{
	struct job *jb = arg;
	struct pool *pl = jb->pl;
	int64_t t0 = now_ms();

	jb->cat = probe_run(jb->p, NULL, NULL);
	jb->ms = now_ms() - t0;
	if (!pl->json && !pl->o->check) {
		pthread_mutex_lock(&pl->out_mu);
		printf("%s %-40s %-22s %6lld ms\n", cli_mark(jb->cat == DIAG_OK),
		       jb->a.email, diag_cat_name(jb->cat), (long long)jb->ms);
		fflush(stdout);
		pthread_mutex_unlock(&pl->out_mu);
	}
}

/* The result of an account whose test never ran, in the same shape. */
static void
not_run_result(const struct job *jb, struct probe_result *r)
{
	struct diagnosis *d = &r->diag;

	memset(r, 0, sizeof(*r));
	r->reply_detection = -1;
	d->cat = jb->cat;
	d->stage = STAGE_NONE;
	if (jb->cat == DIAG_CANCELLED) {
		str_copy(d->reason, sizeof(d->reason), "user");
		str_copy(d->title, sizeof(d->title), _("Not tested: the run was interrupted"));
	} else {
		str_copy(d->reason, sizeof(d->reason), "password_unreadable");
		str_copy(d->title, sizeof(d->title),
		         _("Not tested: its password could not be opened"));
		str_copy(d->fixes[0], sizeof(d->fixes[0]),
		         _("Run `fluenzr-tui store check`, then set the password again "
		         "with `fluenzr-tui account edit`."));
		d->nfixes = 1;
	}
}

/* check: records the result, then prints the account's health when it
 * changed or unless --changed; an account not checked keeps its health. */
static void
check_collect(struct cli_ctx *c, struct pool *pl, struct job *jb, struct json *j)
{
	struct store_history after;
	struct app_health_info now;
	bool changed;

	memset(&after, 0, sizeof(after));
	if (jb->p && save_result(c, jb, &after) > 0)
		app_health_of(&after, (int64_t)time(NULL), pl->remind_days, &now);
	else
		now = jb->before;
	pl->nstate[now.state]++;
	changed = now.state != jb->before.state;
	if (pl->o->changed && !changed)
		return;
	if (pl->json) {
		json_obj_begin(j);
		json_key(j, "account"); json_str(j, jb->a.email);
		json_key(j, "checked"); json_bool(j, jb->p != NULL);
		json_key(j, "category"); json_str(j, diag_cat_name(jb->cat));
		json_key(j, "ms"); json_int(j, jb->ms);
		json_key(j, "previous_state"); json_str(j, app_health_name(jb->before.state));
		json_key(j, "changed"); json_bool(j, changed);
		cli_json_health(j, &now, jb->p ? &after : NULL);
		json_obj_end(j);
	} else {
		char h[256];

		app_health_text(&now, h, sizeof(h));
		printf("%-40s %-22s %6lld ms  %s%s\n", jb->a.email,
		       jb->p ? diag_cat_name(jb->cat) : _("not checked"),
		       (long long)jb->ms, h, changed ? _(" (changed)") : "");
	}
}

/* Prints, records and frees the finished jobs at the head of the list. */
static void
pool_collect(struct cli_ctx *c, struct pool *pl, struct json *j, int *rc,
             size_t *nok)
{
	for (;;) {
		struct job *jb;
		struct probe *p;

		while ((jb = app_runner_done(pl->r, NULL)))
			jb->done = true;
		if (pl->next_out >= pl->nready || !pl->jobs[pl->next_out].done)
			return;
		jb = &pl->jobs[pl->next_out];

		p = jb->p;
		if (pl->o->check) {
			check_collect(c, pl, jb, j);
		} else if (pl->json) {
			struct probe_result nr;

			if (!p)
				not_run_result(jb, &nr);
			json_result(j, jb->a.email, p ? probe_result(p) : &nr);
		} else if (!p) {
			pthread_mutex_lock(&pl->out_mu);
			printf("%s %-40s %-22s %s\n", cli_mark(false), jb->a.email,
			       diag_cat_name(jb->cat), jb->cat == DIAG_CANCELLED ?
			       _("not tested") : _("not tested: password unreadable"));
			fflush(stdout);
			pthread_mutex_unlock(&pl->out_mu);
		}
		if (p && !pl->o->check)
			save_result(c, jb, NULL);
		if (jb->cat == DIAG_OK)
			(*nok)++;
		if (*rc == 0 && jb->cat != DIAG_OK)
			*rc = p ? diag_exit_code(jb->cat) :
			      jb->prep_rc ? jb->prep_rc : diag_exit_code(jb->cat);
		if (p) {
			/* Out of the signal handler's reach before it goes. */
			sig_probes[pl->next_out] = NULL;
			jb->p = NULL;
			probe_free(p);
		}
		pl->next_out++;
		if (p)
			pl->alive--;
	}
}

struct collect {
	struct job *v;
	size_t n, cap;
	bool oom;
	size_t bad;               /* records skipped as damaged */
};

static int
collect_one(const struct account *a, void *ud)
{
	struct collect *cl = ud;

	if (cl->n == cl->cap) {
		size_t cap = cl->cap ? cl->cap * 2 : 32;
		struct job *v = realloc(cl->v, cap * sizeof(*v));

		if (!v) {
			cl->oom = true;
			return 1;
		}
		cl->v = v;
		cl->cap = cap;
	}
	memset(&cl->v[cl->n], 0, sizeof(cl->v[cl->n]));
	cl->v[cl->n++].a = *a;
	return 0;
}

static void
collect_bad(const char *key, const char *problem, void *ud)
{
	struct collect *cl = ud;

	cl->bad++;
	fprintf(stderr, _("fluenzr-tui: account %s skipped: %s\n"), key, problem);
}


/* Waits until a job ends (something to collect, room in the window). */
static void
pool_wait(struct pool *pl)
{
	struct job *jb = app_runner_wait(pl->r, NULL);

	if (jb)
		jb->done = true;
}

static int
test_all(struct cli_ctx *c, const struct test_opts *o)
{
	struct collect cl = { NULL, 0, 0, false, 0 };
	struct sigaction oi, ot;
	struct pool pl;
	struct probe **probes = NULL;
	struct json j;
	size_t i, nth, window, nok = 0;
	int e, rc = 0;

	e = store_account_foreach(c->st, collect_one, collect_bad, &cl);
	if (e != STORE_OK || cl.oom) {
		fprintf(stderr, _("fluenzr-tui: cannot read the accounts: %s\n"),
		        cl.oom ? _("out of memory") : store_strerror(e));
		free(cl.v);
		return cl.oom ? EX_OSERR : cli_store_exit(e);
	}
	if (cl.n == 0) {
		if (o->json)
			puts("[]");
		else
			printf(_("no accounts to test\n"));
		free(cl.v);
		return cl.bad ? EX_DATAERR : 0;
	}
	nth = (size_t)o->jobs < cl.n ? (size_t)o->jobs : cl.n;
	memset(&pl, 0, sizeof(pl));
	probes = calloc(cl.n, sizeof(*probes));
	pl.r = probes ? app_runner_new((unsigned)nth, -1) : NULL;
	if (!pl.r) {
		free(probes);
		free(cl.v);
		fprintf(stderr, _("fluenzr-tui: cannot start the tests: %s\n"),
		        strerror(errno));
		return EX_OSERR;
	}
	memset(&j, 0, sizeof(j));
	pl.jobs = cl.v;
	pl.n = cl.n;
	pthread_mutex_init(&pl.out_mu, NULL);
	pl.json = o->json;
	pl.o = o;
	pl.remind_days = app_secret_remind_days();
	if (o->json) {
		json_init(&j, stdout, true);
		json_arr_begin(&j);
	}
	/* Enough set up ahead that a slow account at the head of the list
	 * (printed first) does not leave the workers idle for long. */
	window = nth * 4;
	(void)cli_mark(true);            /* settle the locale check before threads */
	sig_probes = probes;
	sig_nprobes = cl.n;
	/* The runner's workers never take the signals: the main thread
	 * handles them, so the handler never runs while it frees a probe. */
	catch_sigint(&oi, &ot);

	for (i = 0; i < cl.n; i++) {
		struct job *jb = &cl.v[i];

		for (;;) {
			pool_collect(c, &pl, &j, &rc, &nok);
			if (pl.alive < window)
				break;
			pool_wait(&pl);
		}
		jb->pl = &pl;
		if (o->check) {
			struct store_history h;

			/* A history that does not parse counts as none. */
			(void)store_history_get(c->st, jb->a.email, &h);
			app_health_of(&h, (int64_t)time(NULL), pl.remind_days, &jb->before);
		}
		if (sig_seen) {
			jb->cat = DIAG_CANCELLED;
		} else if ((jb->prep_rc = job_prepare(c, jb, o)) != 0) {
			jb->cat = DIAG_INTERNAL_ERROR;
		} else {
			probes[i] = jb->p;
			/* A signal between the check above and now missed it. */
			if (sig_seen)
				probe_cancel(jb->p);
		}
		pl.nready = i + 1;
		if (!jb->p) {
			jb->done = true;
			continue;
		}
		pl.alive++;
		if (app_runner_submit(pl.r, pool_run_job, jb) != 0) {
			pool_run_job(jb);        /* out of memory: here, then */
			jb->done = true;
		}
	}
	for (;;) {
		pool_collect(c, &pl, &j, &rc, &nok);
		if (pl.alive == 0)
			break;
		pool_wait(&pl);
	}
	/* Every job is collected: only ending workers are left. */
	if (app_runner_stop(pl.r, 10000))
		app_runner_free(pl.r);
	release_sigint(&oi, &ot);
	pthread_mutex_destroy(&pl.out_mu);

	if (o->json) {
		json_arr_end(&j);
		json_end(&j);
	} else if (o->check) {
		/* With --changed, a run that changed nothing says nothing. */
		if (!o->changed)
			printf(_("%zu healthy, %zu need attention, %zu failing, %zu not checked\n"),
			       pl.nstate[APP_HEALTH_OK], pl.nstate[APP_HEALTH_ATTENTION],
			       pl.nstate[APP_HEALTH_FAILING], pl.nstate[APP_HEALTH_UNTESTED]);
	} else {
		printf(ngettext("%zu of %zu account ok\n", "%zu of %zu accounts ok\n", cl.n), nok, cl.n);
	}
	fflush(stdout);
	free(probes);
	free(cl.v);
	if (o->check) {
		/* The summary of the health, for cron and timers (the man page's
		 * EXIT STATUS): failing beats attention beats healthy. */
		if (pl.nstate[APP_HEALTH_FAILING])
			return CHECK_EXIT_FAILING;
		if (pl.nstate[APP_HEALTH_ATTENTION] || pl.nstate[APP_HEALTH_UNTESTED] || cl.bad)
			return CHECK_EXIT_ATTENTION;
		return 0;
	}
	/* A damaged account was not tested: that is not a success. */
	return rc == 0 && cl.bad ? EX_DATAERR : rc;
}

/* `test` and `check`: the same options (check adds --changed and --send),
 * the same start. */
static int
run_command(struct cli_ctx *c, int argc, char **argv, bool check)
{
	struct test_opts o;
	int rc;

	if ((rc = parse_args(c, argc, argv, &o, check)) != 0)
		return rc;
	if (probe_global_init() < 0) {
		fprintf(stderr, _("fluenzr-tui: cannot initialise TLS\n"));
		return EX_SOFTWARE;
	}
	if ((rc = cli_open_store(c, false, true)) != 0)
		return rc;
	return o.all ? test_all(c, &o) : test_one(c, &o);
}

int
cmd_test(struct cli_ctx *c, int argc, char **argv)
{
	return run_command(c, argc, argv, false);
}

int
cmd_check(struct cli_ctx *c, int argc, char **argv)
{
	return run_command(c, argc, argv, true);
}
