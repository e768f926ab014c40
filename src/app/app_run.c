/* Preparing a test of a stored account and recording its outcome, the same
 * way for `test` and the console: which password did not open and why, and
 * which outcomes are written on the account. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sysexits.h>

#include "app.h"
#include "i18n.h"
#include "domain.h"
#include "msgauth.h"
#include "secmem.h"
#include "util.h"

#define PW_LEN (ACCT_SECRET_MAX + 1)

void
app_secrets_free(struct app_secrets *s)
{
	if (s->smtp)
		secmem_free(s->smtp, PW_LEN);
	if (s->imap)
		secmem_free(s->imap, PW_LEN);
	s->smtp = s->imap = NULL;
}

int
app_secrets_open(struct store *st, const struct account *a,
                 struct app_secrets *s, char *err, size_t errlen)
{
	int e;

	s->smtp = secmem_alloc(PW_LEN);
	s->imap = NULL;
	err[0] = '\0';
	if (!s->smtp) {
		str_copy(err, errlen, _("out of memory"));
		return EX_OSERR;
	}
	e = store_secret_get(st, a->email, SECRET_SMTP, s->smtp, PW_LEN);
	if (e == STORE_ENOENT) {
		s->smtp[0] = '\0';
	} else if (e != STORE_OK) {
		str_printf(err, errlen, "%s: password: %s", a->email,
		           store_strerror(e));
		app_secrets_free(s);
		return app_store_exit(e);
	}
	if (!a->has_imap_password)
		return 0;
	s->imap = secmem_alloc(PW_LEN);
	if (!s->imap) {
		app_secrets_free(s);
		str_copy(err, errlen, _("out of memory"));
		return EX_OSERR;
	}
	e = store_secret_get(st, a->email, SECRET_IMAP, s->imap, PW_LEN);
	if (e == STORE_ENOENT) {
		secmem_free(s->imap, PW_LEN);
		s->imap = NULL;
	} else if (e != STORE_OK) {
		str_printf(err, errlen, _("%s: IMAP password: %s"), a->email,
		           store_strerror(e));
		app_secrets_free(s);
		return app_store_exit(e);
	}
	return 0;
}

/* The organisational domain for the test message's header (DKIM
 * alignment, whose Authentication-Results to trust) is the Public Suffix
 * List's, as for the domain check's DMARC: one rule for both. A name that
 * is a public suffix itself has none. */
static void
org_domain(const char *name, char *out, size_t outlen)
{
	if (domain_org(name, out, outlen) != 0 && outlen)
		out[0] = '\0';
}

/* On the probe's thread, once the test message was read: its DKIM
 * signature verified by us, the key fetched within the probe's step
 * deadline and cancel. */
static void
message_check(struct probe *p, void *ud)
{
	struct msgauth_dkim v;
	struct probe_dkim d;
	size_t len;
	const char *m = probe_message(p, &len);

	(void)ud;
	if (!m)
		return;
	msgauth_dkim_verify(m, len, len >= PROBE_MESSAGE_MAX, probe_timeout_ms(p),
	                    probe_cancel_fd(p), &v);
	memset(&d, 0, sizeof d);
	switch (v.verdict) {
	case MSGAUTH_PASS: d.verdict = PROBE_DKIM_PASS; break;
	case MSGAUTH_FAIL: d.verdict = PROBE_DKIM_FAIL; break;
	case MSGAUTH_TEMPERROR: d.verdict = PROBE_DKIM_TEMPERROR; break;
	default: d.verdict = PROBE_DKIM_NONE; break;
	}
	str_copy(d.d, sizeof d.d, v.d);
	str_copy(d.s, sizeof d.s, v.s);
	str_copy(d.why, sizeof d.why, v.why);
	probe_set_dkim(p, &d);
}

int
app_probe_new(const struct account *a, const char *pw, const char *imap_pw,
              const struct preset_list *presets, const struct probe_opts *po,
              struct probe **p, char *err, size_t errlen)
{
	const struct preset *pre = NULL;
	struct probe_opts o;

	err[0] = '\0';
	if (po)
		o = *po;
	else
		probe_opts_default(&o);
	o.on_message = message_check;
	o.on_message_ud = NULL;
	o.org_domain = org_domain;
	if (presets && a->preset[0])
		pre = preset_find(presets, a->preset);
	*p = probe_new(a, pw, imap_pw, pre, &o);
	if (!*p) {
		str_printf(err, errlen, _("%s: cannot set up the test: %s"), a->email,
		           strerror(errno));
		return EX_OSERR;
	}
	return 0;
}

static int
run_prepare(struct store *st, const struct account *a,
            const struct preset_list *presets, const struct probe_opts *po,
            bool force, struct probe **p, char *err, size_t errlen)
{
	struct app_secrets s;
	int rc;

	*p = NULL;
	if (a->oauth) {
		/* The probe sends the access token where a password would go. */
		char *tok = secmem_alloc(OAUTH_TOKEN_MAX + 1);

		if (tok == NULL) {
			str_printf(err, errlen, _("%s: out of locked memory"), a->email);
			return EX_OSERR;
		}
		rc = app_oauth_access(st, a, force, tok, OAUTH_TOKEN_MAX + 1, NULL,
		                      NULL, err, errlen);
		if (rc == 0)
			rc = app_probe_new(a, tok, tok, presets, po, p, err, errlen);
		secmem_free(tok, OAUTH_TOKEN_MAX + 1);
		return rc;
	}
	if ((rc = app_secrets_open(st, a, &s, err, errlen)) != 0)
		return rc;
	rc = app_probe_new(a, s.smtp, s.imap, presets, po, p, err, errlen);
	app_secrets_free(&s);
	return rc;
}

int
app_run_prepare(struct store *st, const struct account *a,
                const struct preset_list *presets, const struct probe_opts *po,
                struct probe **p, char *err, size_t errlen)
{
	return run_prepare(st, a, presets, po, false, p, err, errlen);
}

bool
app_run_retry_wanted(const struct account *a, enum diag_cat cat)
{
	return a->oauth && cat == DIAG_AUTH_FAILED;
}

int
app_run_prepare_retry(struct store *st, const struct account *a,
                      const struct preset_list *presets,
                      const struct probe_opts *po, struct probe **p,
                      char *err, size_t errlen)
{
	return run_prepare(st, a, presets, po, true, p, err, errlen);
}

int
app_result_record(struct store *st, const char *email, int64_t when,
                  enum diag_cat cat, const struct diagnosis *d, int64_t ms,
                  struct store_history *after, char *err, size_t errlen)
{
	struct store_event e;
	const char *reason = "";
	int rc;

	err[0] = '\0';
	if (!diag_cat_recorded(cat))
		return 0;
	memset(&e, 0, sizeof(e));
	e.when = when < 0 ? 0 : when;
	e.ms = ms < 0 ? 0 : ms;
	str_copy(e.category, sizeof(e.category), diag_cat_name(cat));
	/* The reason's name ("refused", "expired"), else the title in English:
	 * stored data is the same whatever the language of the run. */
	if (d && cat != DIAG_OK)
		reason = d->reason[0] ? d->reason : diag_cat_title_en(cat);
	str_sanitize(e.reason, sizeof(e.reason), reason, strlen(reason));
	if (valid_text(e.reason, STORE_REASON_MAX) != NULL)
		e.reason[0] = '\0';
	rc = store_history_add(st, email, &e, after, err, errlen);
	if (rc != STORE_OK) {
		str_printf(err, errlen, _("%s: cannot record the result: %s"), email,
		           store_strerror(rc));
		return -1;
	}
	/* A provider's limit reply pauses sending through the account, from
	 * a test, a check or a send alike. */
	if (cat == DIAG_RATE_LIMITED && d) {
		int64_t until;

		if (app_pause(st, email, d, e.when, &until, err, errlen) < 0)
			return -1;
		if (after)
			(void)store_history_get(st, email, after);
	}
	return 1;
}

struct seen {
	int64_t when;
	const struct probe_result *r;
};

static int
seen_fn(struct store_history *h, void *ud)
{
	const struct seen *s = ud;
	const struct mailhdr_auth *au = &s->r->place.auth;

	h->seen_when = s->when;
	h->seen_dkim_d[0] = h->seen_dkim_s[0] = h->seen_relay_ip[0] = '\0';
	/* The parser's whitelist already held; the store checks again. */
	if (au->dkim_sig) {
		str_copy(h->seen_dkim_d, sizeof h->seen_dkim_d, au->sig_d);
		str_copy(h->seen_dkim_s, sizeof h->seen_dkim_s, au->sig_s);
	}
	str_copy(h->seen_relay_ip, sizeof h->seen_relay_ip, au->relay_ip);
	return 0;
}

int
app_seen_record(struct store *st, const char *email, int64_t when,
                const struct probe_result *r, char *err, size_t errlen)
{
	struct seen s = { when > 0 ? when : 0, r };
	int rc;

	err[0] = '\0';
	if (!r || !r->place.fetched)
		return 0;
	rc = store_activity_update(st, email, seen_fn, &s, err, errlen);
	if (rc != STORE_OK) {
		str_printf(err, errlen, _("%s: cannot record what the test message "
		           "showed: %s"), email, store_strerror(rc));
		return -1;
	}
	return 1;
}
