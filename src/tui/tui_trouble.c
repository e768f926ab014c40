/* The troubleshooting panel: the diagnosis of the last test (category, what
 * the server said, the fixes as a checklist) and the actions that exist for
 * it: apply the working alternative the probe found, pin the certificate
 * shown, edit, retry. */
#include "config.h"

#include <string.h>

#include "i18n.h"
#include "tui.h"
#include "util.h"

/* The screen's own state. The test it explains is the live diagnostics'
 * (tui_diag_result() and the others), never that screen's fields. */
struct trouble {
	int scroll;
};

/* The certificate that failed: the diagnosis's candidate, else the TLS
 * info that was not verified. */
static const struct tls_info *
bad_cert(const struct tui_job *j)
{
	for (size_t i = 0; i < j->res.ntls; i++)
		if (!j->res.tls[i].verified)
			return &j->res.tls[i];
	return j->res.ntls ? &j->res.tls[0] : NULL;
}

static const char *
pin_candidate(const struct tui_job *j)
{
	const struct tls_info *ti;

	if (j->res.diag.pin_candidate[0])
		return j->res.diag.pin_candidate;
	ti = bad_cert(j);
	return ti && ti->sha256[0] ? ti->sha256 : NULL;
}

static const char *
sec_name(enum security s)
{
	return _(security_spell(s, SPELL_LABEL));
}

/* Saves a changed copy of the tested account: in the store (keeping its
 * passwords) and, when the test came from the form, in the form too.
 * *stored tells whether the test now stands for the stored account. */
static int
save_change(struct tui *t, const struct account *a, bool *stored)
{
	char err[256] = "";
	int rc;

	*stored = tui_diag_stored(t);
	/* From the form, the change goes into the form only: a retest must
	 * test it, not re-read the saved account, and records nothing. */
	if (tui_diag_from_form(t) && tui_form_active(t)) {
		*stored = false;
		return 0;
	}
	rc = store_account_put(t->st, tui_diag_account(t)->email, a, NULL, NULL,
	                       err, sizeof err);
	if (rc != STORE_OK) {
		tui_message(t, true, _("Not saved: %s"), err[0] ? err : store_strerror(rc));
		return -1;
	}
	tui_accounts_upsert(t, a);
	return 0;
}

/* The account to change: as saved now when the test was of the stored
 * one (another screen may have changed it), else as tested. A failed read
 * is said and changes nothing: a stale or empty copy must not be saved. */
static int
tested_account(struct tui *t, struct account *a)
{
	int rc;

	*a = *tui_diag_account(t);
	if (!tui_diag_stored(t))
		return 0;
	rc = store_account_get(t->st, a->email, a);
	if (rc != STORE_OK) {
		tui_message(t, true, _("Cannot read %s from the store: %s; nothing "
		            "was changed."), tui_diag_account(t)->email,
		            store_strerror(rc));
		*a = *tui_diag_account(t);
		return -1;
	}
	return 0;
}

static void
apply_alt(struct tui *t)
{
	struct tui_job *j = tui_diag_result(t);
	struct account a;
	const struct diagnosis *dg;
	bool stored;

	if (!j || j->res.diag.alt_port == 0) {
		tui_message(t, true, _("The test found no working alternative to apply."));
		return;
	}
	dg = &j->res.diag;
	if (tested_account(t, &a) != 0)
		return;
	if (dg->alt_imap) {
		a.imap_port = dg->alt_port;
		a.imap_security = dg->alt_security;
	} else {
		a.smtp_port = dg->alt_port;
		a.smtp_security = dg->alt_security;
	}
	if (dg->alt_security == SEC_NONE)
		a.allow_plain = true;
	if (save_change(t, &a, &stored) != 0)
		return;
	if (tui_diag_from_form(t))
		tui_form_apply_alt(t, dg->alt_port, dg->alt_security, dg->alt_imap);
	tui_diag_changed(t, &a, stored);
	tui_message(t, false, _("%s now uses port %u with %s%s. Press r to test again."),
	            dg->alt_imap ? "IMAP" : "SMTP", dg->alt_port,
	            sec_name(dg->alt_security),
	            tui_diag_from_form(t) ? _(" (in the form: Ctrl-S saves it)") : "");
}

static void
pin_answer(struct tui *t, bool yes, void *ud)
{
	struct tui_job *j = tui_diag_result(t);
	const char *cand;
	struct account a;
	bool stored;

	(void)ud;
	if (!yes || !j || !(cand = pin_candidate(j)))
		return;
	if (tested_account(t, &a) != 0)
		return;
	if (valid_pin(cand, a.pin)) {
		tui_message(t, true, _("The fingerprint is not usable as a pin."));
		return;
	}
	if (save_change(t, &a, &stored) != 0)
		return;
	if (tui_diag_from_form(t))
		tui_form_set_pin(t, a.pin);
	tui_diag_changed(t, &a, stored);
	tui_message(t, false, _("Certificate pinned%s. Press r to test again."),
	            tui_diag_from_form(t) ? _(" in the form (Ctrl-S saves it)") : "");
}

static void
pin(struct tui *t)
{
	struct tui_job *j = tui_diag_result(t);
	const char *cand;

	if (!j || j->cat != DIAG_INVALID_CERTIFICATE || !(cand = pin_candidate(j))) {
		tui_message(t, true, _("There is no certificate to pin for this result."));
		return;
	}
	tui_yesno(t, false, pin_answer, NULL,
	          _("Trust this certificate from now on (%s)? y/n"), cand);
}

static void
edit(struct tui *t)
{
	if (tui_diag_from_form(t) && tui_form_active(t)) {
		/* Back to the form the test came from; closing the test's
		 * screen forgets it. */
		tui_pop_to(t, &tui_scr_form);
		return;
	}
	if (!tui_diag_stored(t)) {
		tui_message(t, true, _("This account is not saved yet."));
		return;
	}
	tui_form_open(t, tui_diag_account(t)->email);
}

static void
trouble_draw(struct tui *t, void *priv)
{
	struct trouble *tr = priv;
	struct tui_job *j = tui_diag_result(t);
	const struct diagnosis *dg;
	static struct tui_lines L;
	int rows = LINES - 5, w = COLS - 4;
	const char *cand;
	char b[600];

#define ADD(a, ...) do { \
		str_printf(b, sizeof b, __VA_ARGS__); \
		tui_lines_wrap(t, &L, (a), "", "", b, w); \
	} while (0)

	L.n = 0;
	if (!j) {
		tui_put(t, 2, 2, COLS - 4, _("No finished test."), false, true);
		return;
	}
	dg = &j->res.diag;
	if (j->cat == DIAG_OK) {
		ADD(tui_attr(t, CP_OK) | A_BOLD, _("%s The test passed: nothing to fix."),
		    tui_mark_ok(t));
	} else {
		ADD(tui_attr(t, CP_FAIL) | A_BOLD, "%s %s", tui_mark_fail(t),
		    dg->title[0] ? dg->title : diag_cat_title(j->cat));
		ADD(tui_attr(t, CP_DIM), _("  category %s%s%s, at %s"),
		    diag_cat_name(j->cat), dg->reason[0] ? " / " : "", dg->reason,
		    diag_stage_name(dg->stage));
	}
	ADD(A_NORMAL, "%s", "");
	if (dg->reply[0]) {
		ADD(A_BOLD, _("What the server said:"));
		tui_lines_wrap(t, &L, A_NORMAL, "  ", "  ", dg->reply, w);
		ADD(A_NORMAL, "%s", "");
	}
	/* Which of those words the diagnosis rests on, so that a reader can
	 * judge it. */
	if (dg->evidence[0]) {
		ADD(A_BOLD, _("Based on:"));
		tui_lines_wrap(t, &L, A_NORMAL, "  ", "  ", dg->evidence, w);
		ADD(A_NORMAL, "%s", "");
	}
	if (dg->nfixes) {
		ADD(A_BOLD, _("What to check:"));
		for (size_t i = 0; i < dg->nfixes; i++)
			tui_lines_wrap(t, &L, A_NORMAL, "  [ ] ", "      ", dg->fixes[i], w);
		ADD(A_NORMAL, "%s", "");
	}
	if (dg->suggestion[0])
		ADD(tui_attr(t, CP_OK), "%s", dg->suggestion);
	if (dg->alt_port)
		ADD(tui_attr(t, CP_OK) | A_BOLD,
		    _("The test found that %s port %u with %s works: press a to apply it."),
		    dg->alt_imap ? "IMAP" : "SMTP", dg->alt_port,
		    sec_name(dg->alt_security));
	if (j->cat == DIAG_INVALID_CERTIFICATE && (cand = pin_candidate(j))) {
		const struct tls_info *ti = bad_cert(j);

		ADD(A_NORMAL, "%s", "");
		ADD(A_BOLD, _("The server's certificate:"));
		if (ti) {
			ADD(A_NORMAL, "  subject  %s", ti->subject);
			ADD(A_NORMAL, "  issuer   %s", ti->issuer);
			ADD(A_NORMAL, "  expires  %s", ti->not_after);
		}
		ADD(A_NORMAL, "  %s", cand);
		ADD(A_NORMAL, _("Only if you know this is your server's certificate: "
		    "press p to pin it."));
	}
#undef ADD
	if (tr->scroll > L.n - rows)
		tr->scroll = L.n - rows;
	if (tr->scroll < 0)
		tr->scroll = 0;
	for (int r = 0; r < rows && r + tr->scroll < L.n; r++) {
		int i = r + tr->scroll;

		attron(L.attr[i]);
		tui_put(t, 2 + r, 2, COLS - 4, L.text[i], false, true);
		attroff(L.attr[i]);
	}
}

static enum tui_result
trouble_key(struct tui *t, void *priv, int key)
{
	struct trouble *tr = priv;

	if (tui_global_key(t, key))
		return TUI_REDRAW;
	switch (tui_keys_lookup(KS_TROUBLE, key)) {
	case ACT_APPLY_ALT:
		apply_alt(t);
		break;
	case ACT_PIN:
		pin(t);
		break;
	case ACT_EDIT:
		edit(t);
		break;
	case ACT_RETRY:
		tui_diag_retry(t);
		break;
	case ACT_BACK:
		return TUI_POP;
	case ACT_UP:
		tr->scroll--;
		break;
	case ACT_DOWN:
		tr->scroll++;
		break;
	default:
		break;
	}
	return TUI_REDRAW;
}

/* Only over a test: the accessors of tui_diag.c need one. */
static int
trouble_open(struct tui *t, void *priv, const void *arg)
{
	(void)priv;
	(void)arg;
	return tui_top(t) == &tui_scr_diag ? 0 : -1;
}

const struct screen_ops tui_scr_trouble = {
	.ks = KS_TROUBLE, .title = N_("Troubleshooting"),
	.private_size = sizeof(struct trouble), .open = trouble_open,
	.draw = trouble_draw, .key = trouble_key,
};
