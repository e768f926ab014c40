/* Live diagnostics: the steps of a running test appear as the worker reports
 * them (spinner, then a mark, duration and detail), with the certificate and
 * delivery details at the end and a scrollable transcript pane. Keys keep
 * working during the test; Esc cancels it and goes back at once. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "secmem.h"
#include "tui.h"
#include "util.h"

/* The test's state is the screen's own (struct tui_diag). Troubleshooting,
 * just above it, reads it through the accessors at the end. */
static struct tui_diag *
diag_of(const struct tui *t)
{
	return tui_find(t, &tui_scr_diag);
}

static void
diag_free(struct tui *t, struct tui_diag *d)
{
	if (d->job)
		tui_job_abandon(t, d->job);
	d->job = 0;
	tui_secfree(&d->pw);
	tui_secfree(&d->imap_pw);
}

static void
diag_close(struct tui *t, void *priv)
{
	diag_free(t, priv);
}

static void
start_job(struct tui *t, struct tui_diag *d)
{
	if (d->job)
		tui_job_abandon(t, d->job);
	d->job = tui_job_start(t, JOB_DIAG, &d->acct, d->pw, d->imap_pw,
	                       d->stored);
	d->scroll = d->tscroll = 0;
	d->follow = true;
	if (!d->job)
		tui_message(t, true, _("The test could not start (too many running, "
		            "or out of memory)."));
	else
		tui_message(t, false, "%s", "");
}

void
tui_diag_start(struct tui *t, const struct account *a, const char *pw,
               const char *imap_pw, bool stored, bool from_form)
{
	struct tui_diag *d;
	char *npw = tui_secdup(pw), *nipw = tui_secdup(imap_pw);

	/* From troubleshooting, back to the test; else the test opens. */
	tui_raise(t, &tui_scr_diag, NULL);
	if (tui_top(t) != &tui_scr_diag) {
		tui_secfree(&npw);
		tui_secfree(&nipw);
		return;
	}
	d = diag_of(t);
	/* pw may be d->pw itself: copied before freeing. */
	diag_free(t, d);
	d->pw = npw;
	d->imap_pw = nipw;
	d->acct = *a;
	d->stored = stored;
	d->from_form = from_form;
	start_job(t, d);
}

void
tui_diag_retry(struct tui *t)
{
	struct tui_diag *d = diag_of(t);
	struct account a;

	if (!d)
		return;
	/* A stored account may have changed (pin, port, password): test what
	 * is saved now. */
	if (d->stored && store_account_get(t->st, d->acct.email, &a) == STORE_OK) {
		char *pw, *ipw;

		d->acct = a;
		if (tui_open_passwords(t, a.email, &pw, &ipw) != 0)
			return;
		if (pw || !d->pw) {
			tui_secfree(&d->pw);
			tui_secfree(&d->imap_pw);
			d->pw = pw;
			d->imap_pw = ipw;
		} else {
			tui_secfree(&pw);
			tui_secfree(&ipw);
		}
	}
	start_job(t, d);
	tui_raise(t, &tui_scr_diag, NULL);
}

void
tui_diag_job_event(struct tui *t, struct tui_job *j)
{
	struct tui_diag *d = diag_of(t);

	if (!d || j->id != d->job)
		return;
	if (j->finished) {
		tui_record_result(t, j);
		if (j->cat == DIAG_OK)
			tui_message(t, false, _("Test passed."));
		else if (j->cat != DIAG_CANCELLED)
			tui_message(t, true, _("%s: press f for troubleshooting."),
			            diag_cat_title(j->cat));
	}
	t->dirty = true;
}

/* ---- drawing ------------------------------------------------------------ */

static const char *
sec_label(enum security s)
{
	return _(security_spell(s, SPELL_LABEL));
}

struct dline {
	char text[DIAG_FIX_LEN + 128];  /* a fix, translated, and its indent */
	attr_t attr;
	const char *mark;
	attr_t mark_attr;
};

static const char *
yes_no(bool b)
{
	return b ? _("yes") : _("no");
}

static const char *
dash(const char *v)
{
	return v && v[0] ? v : "-";
}

/* A line of the screen's body, in out[n] while n < max (the locals of the
 * functions below). */
#define ADD(m, ma, a, ...) do { \
	if (n < max) { \
		out[n].mark = (m); out[n].mark_attr = (ma); out[n].attr = (a); \
		str_printf(out[n].text, sizeof out[n].text, __VA_ARGS__); \
		n++; \
	} \
} while (0)

/* Where the test email landed, the folders and capabilities a reply
 * detector uses, what the receiving side said, and the findings. */
static size_t
place_lines(struct tui *t, const struct probe_result *r, struct dline *out,
            size_t max)
{
	const struct probe_placement *pl = &r->place;
	const struct mailhdr_auth *au = &pl->auth;
	size_t n = 0;

	if (pl->landed == DIAG_LANDED_JUNK)
		ADD(tui_mark_warn(t), tui_attr(t, CP_WARN) | A_BOLD, A_BOLD,
		    _("Placement: the test email landed in Junk (%s) after %lld ms"),
		    pl->folders[ROLE_JUNK].name, (long long)r->reply_ms);
	if (pl->landed >= DIAG_LANDED_INBOX)
		ADD(NULL, 0, A_NORMAL, _("Copy in Sent: %s"), pl->sent_copy < 0 ?
		    _("unknown (no Sent folder)") : yes_no(pl->sent_copy == 1));
	if (pl->checked) {
		char f[400] = "";
		size_t o = 0;

		for (int i = ROLE_SENT; i < PROBE_NROLES && o < sizeof f; i++)
			o += (size_t)snprintf(f + o, sizeof f - o, "%s%s %s (%s)",
			                      o ? ", " : "", probe_role_name((enum probe_role)i),
			                      pl->folders[i].from ? pl->folders[i].name : "-",
			                      pl->folders[i].from ? pl->folders[i].from : _("none"));
		ADD(NULL, 0, A_NORMAL, _("Folders: %s"), f);
	}
	if (pl->caps_seen)
		ADD(NULL, 0, A_NORMAL, _("Reply detection: IDLE %s, CONDSTORE %s, "
		    "QRESYNC %s, UIDPLUS %s, SPECIAL-USE %s"), yes_no(pl->idle),
		    yes_no(pl->condstore), yes_no(pl->qresync), yes_no(pl->uidplus),
		    yes_no(pl->special_use));
	if (pl->conn_limit[0])
		ADD(NULL, 0, A_NORMAL, _("Connection limit: %s"), pl->conn_limit);
	if (pl->fetched) {
		if (au->ar_found)
			ADD(NULL, 0, A_NORMAL, _("Receiving server (%s): spf=%s dkim=%s dmarc=%s"),
			    dash(au->ar_authserv), dash(au->spf), dash(au->dkim),
			    dash(au->dmarc));
		else
			ADD(NULL, 0, A_NORMAL, _("Receiving server: no Authentication-Results "
			    "of its own"));
		if (au->dkim_sig)
			ADD(NULL, 0, A_NORMAL, au->aligned_relaxed == 1
			    ? _("DKIM signature: d=%s s=%s, aligned with From %s")
			    : _("DKIM signature: d=%s s=%s, not aligned with From %s"),
			    au->sig_d, dash(au->sig_s), dash(au->from_domain));
		else
			ADD(NULL, 0, A_NORMAL, _("DKIM signature: none"));
		if (pl->dkim.verdict > PROBE_DKIM_NONE)
			ADD(NULL, 0, A_NORMAL, _("DKIM verified by us: %s%s%s"),
			    probe_dkim_name(pl->dkim.verdict), pl->dkim.why[0] ? ": " : "",
			    pl->dkim.why);
		if (au->relay_ip[0])
			ADD(NULL, 0, A_NORMAL, _("Handed over by %s"), au->relay_ip);
	}
	for (size_t i = 0; i < r->nfindings && i < DIAG_MAX_FINDINGS; i++) {
		const struct diag_finding *g = &r->findings[i];

		ADD(tui_mark_warn(t), tui_attr(t, CP_WARN) | A_BOLD, A_BOLD, "%s",
		    g->title);
		for (size_t k = 0; k < g->nfixes && k < DIAG_MAX_FIXES; k++)
			ADD(NULL, 0, A_NORMAL, "  - %s", g->fixes[k]);
	}
	return n;
}

static size_t
body_lines(struct tui *t, struct tui_job *j, struct dline *out, size_t max)
{
	size_t n = 0;


	if (!j)
		return 0;
	for (size_t i = 0; i < j->nsteps; i++) {
		const struct probe_step *s = &j->steps[i];
		const char *m;
		attr_t ma;
		char dur[24] = "";

		if (!s->done) {
			m = j->running ? tui_spinner(t) : tui_mark_never(t);
			ma = tui_attr(t, CP_WARN);
		} else if (s->ok) {
			m = tui_mark_ok(t);
			ma = tui_attr(t, CP_OK) | A_BOLD;
		} else {
			m = tui_mark_fail(t);
			ma = tui_attr(t, CP_FAIL) | A_BOLD;
		}
		if (s->done)
			str_printf(dur, sizeof dur, "%lld ms", (long long)s->ms);
		ADD(m, ma, A_NORMAL, "%-18s %8s  %s", s->name, dur, s->detail);
	}
	if (!j->finished)
		return n;
	if (j->retried)
		ADD(NULL, 0, A_BOLD, _("The OAuth token was refused: it was refreshed "
		    "and the test run once more."));
	if (j->note[0])
		ADD(tui_mark_fail(t), tui_attr(t, CP_FAIL) | A_BOLD, A_NORMAL, "%s",
		    j->note);
	for (size_t i = 0; i < j->res.ntls; i++) {
		const struct tls_info *ti = &j->res.tls[i];

		ADD(NULL, 0, A_BOLD, "TLS (%s): %s %s%s%s", ti->step, ti->version,
		    ti->cipher, ti->verified ? "" : _("  NOT VERIFIED: "),
		    ti->verified ? "" : ti->problem);
		ADD(NULL, 0, A_NORMAL, "  subject  %s", ti->subject);
		ADD(NULL, 0, A_NORMAL, "  issuer   %s", ti->issuer);
		ADD(NULL, 0, A_NORMAL, "  valid    %s .. %s", ti->not_before,
		    ti->not_after);
		ADD(NULL, 0, A_NORMAL, "  %s", ti->sha256);
	}
	if (j->res.message_id[0])
		ADD(NULL, 0, A_NORMAL, _("Test email sent: Message-ID %s"),
		    j->res.message_id);
	if (j->res.reply_detection == 1)
		ADD(NULL, 0, A_NORMAL, _("Reply detection: the test email was found "
		    "in INBOX after %lld ms"), (long long)j->res.reply_ms);
	else if (j->res.reply_detection == 0 &&
	         j->res.place.landed != DIAG_LANDED_JUNK)
		ADD(NULL, 0, A_NORMAL, _("Reply detection: the test email was not "
		    "found in INBOX in time"));
	n += place_lines(t, &j->res, out + n, max - n);
#undef ADD
	return n;
}

static void
diag_draw(struct tui *t, void *priv)
{
	struct tui_diag *d = priv;
	struct tui_job *j = tui_job_get(t, d->job);
	static struct dline lines[PROBE_MAX_STEPS + 32 + 8 + DIAG_MAX_FINDINGS * (DIAG_MAX_FIXES + 1)];
	size_t n = body_lines(t, j, lines, sizeof lines / sizeof lines[0]);
	char buf[512];
	int y0 = 4, ybottom = LINES - 3, rows, trows = 0;

	str_printf(buf, sizeof buf, "%s  %s:%u %s%s%s", d->acct.email,
	           d->acct.smtp_host, d->acct.smtp_port,
	           sec_label(d->acct.smtp_security),
	           d->acct.imap_host[0] ? "  IMAP " : "",
	           d->acct.imap_host[0] ? d->acct.imap_host : "");
	attron(A_BOLD);
	tui_put(t, 1, 1, COLS - 2, buf, false, true);
	attroff(A_BOLD);

	if (!j) {
		tui_put(t, 2, 1, COLS - 2, _("No test running. Press r to start one."),
		        false, true);
	} else if (j->running) {
		str_printf(buf, sizeof buf, _("%s Testing... a test email is sent to "
		           "your own address. Esc cancels."), tui_spinner(t));
		attron(tui_attr(t, CP_WARN));
		tui_put(t, 2, 1, COLS - 2, buf, false, true);
		attroff(tui_attr(t, CP_WARN));
	} else if (j->cat == DIAG_OK) {
		str_printf(buf, sizeof buf, _("%s Everything works."), tui_mark_ok(t));
		attron(tui_attr(t, CP_OK) | A_BOLD);
		tui_put(t, 2, 1, COLS - 2, buf, false, true);
		attroff(tui_attr(t, CP_OK) | A_BOLD);
	} else {
		str_printf(buf, sizeof buf, _("%s %s (%s). Press f for troubleshooting."),
		           tui_mark_fail(t), j->res.diag.title[0] ? j->res.diag.title
		           : diag_cat_title(j->cat), diag_cat_name(j->cat));
		attron(tui_attr(t, CP_FAIL) | A_BOLD);
		tui_put(t, 2, 1, COLS - 2, buf, false, true);
		attroff(tui_attr(t, CP_FAIL) | A_BOLD);
	}

	rows = ybottom - y0;
	if (d->show_transcript) {
		trows = rows / 2;
		rows -= trows;
	}
	/* While the test runs, the newest step stays in view. */
	if (j && j->running)
		d->scroll = (int)n - rows;
	if (d->scroll > (int)n - rows)
		d->scroll = (int)n - rows;
	if (d->scroll < 0)
		d->scroll = 0;
	for (int r = 0; r < rows && (size_t)(r + d->scroll) < n; r++) {
		const struct dline *l = &lines[r + d->scroll];
		int x = 2;

		if (l->mark) {
			attron(l->mark_attr);
			tui_put(t, y0 + r, 1, 2, l->mark, false, false);
			attroff(l->mark_attr);
			x = 4;
		}
		attron(l->attr);
		tui_put(t, y0 + r, x, COLS - x - 1, l->text, false, true);
		attroff(l->attr);
	}

	if (d->show_transcript && j) {
		int ty = y0 + rows;
		int tr = trows - 1;

		tui_hline(ty, 0, COLS);
		attron(A_BOLD);
		tui_put(t, ty, 2, COLS - 4, _(" Transcript (credentials redacted) "),
		        false, false);
		attroff(A_BOLD);
		if (d->follow || d->tscroll > (int)j->nlines - tr)
			d->tscroll = (int)j->nlines - tr;
		if (d->tscroll < 0)
			d->tscroll = 0;
		for (int r = 0; r < tr && (size_t)(r + d->tscroll) < j->nlines; r++) {
			const struct tui_tline *l = &j->lines[r + d->tscroll];

			str_printf(buf, sizeof buf, "%6lld %c %s", (long long)l->t_ms,
			           l->dir, l->text ? l->text : "");
			attron(l->dir == 'S' ? tui_attr(t, CP_DIM) : A_NORMAL);
			tui_put(t, ty + 1 + r, 1, COLS - 2, buf, false, true);
			attroff(l->dir == 'S' ? tui_attr(t, CP_DIM) : A_NORMAL);
		}
	}
}

static void
scroll_by(struct tui *t, struct tui_diag *d, int delta)
{
	struct tui_job *j = tui_job_get(t, d->job);

	if (d->show_transcript) {
		d->tscroll += delta;
		/* Back at the end: follow new lines again. */
		d->follow = j && d->tscroll >= (int)j->nlines - (LINES - 7) / 2;
		if (d->tscroll < 0)
			d->tscroll = 0;
	} else {
		d->scroll += delta;
	}
}

static enum tui_result
diag_key(struct tui *t, void *priv, int key)
{
	struct tui_diag *d = priv;
	struct tui_job *j = tui_job_get(t, d->job);

	if (tui_global_key(t, key))
		return TUI_REDRAW;
	switch (tui_keys_lookup(KS_DIAG, key)) {
	case ACT_BACK:
		/* A running probe is cancelled and forgotten: its thread ends
		 * within a second, unseen. */
		if (j && j->running)
			tui_message(t, false, _("Test cancelled."));
		return TUI_POP;         /* diag_close() forgets the test */
	case ACT_TROUBLE:
		if (!j || !j->finished)
			tui_message(t, true, _("The test is still running."));
		else {
			tui_message(t, false, "%s", "");
			tui_push(t, &tui_scr_trouble, NULL);
		}
		break;
	case ACT_RETRY:
		tui_diag_retry(t);
		break;
	case ACT_TRANSCRIPT:
		d->show_transcript = !d->show_transcript;
		d->follow = true;
		break;
	case ACT_PGUP:
		scroll_by(t, d, -(LINES / 2 - 4));
		break;
	case ACT_PGDN:
		scroll_by(t, d, LINES / 2 - 4);
		break;
	case ACT_UP:
		scroll_by(t, d, -1);
		break;
	case ACT_DOWN:
		scroll_by(t, d, 1);
		break;
	default:
		break;
	}
	return TUI_REDRAW;
}

const struct screen_ops tui_scr_diag = {
	.ks = KS_DIAG, .title = N_("Live diagnostics"),
	.private_size = sizeof(struct tui_diag),
	.draw = diag_draw, .key = diag_key, .close = diag_close,
};

/* ---- what troubleshooting reads and changes of the test ----------------- */

struct tui_job *
tui_diag_result(struct tui *t)
{
	struct tui_diag *d = diag_of(t);
	struct tui_job *j = d ? tui_job_get(t, d->job) : NULL;

	return j && j->finished ? j : NULL;
}

/* Troubleshooting opens over a test only (trouble_open checks), so these
 * always find one. */
const struct account *
tui_diag_account(const struct tui *t)
{
	return &diag_of(t)->acct;
}

bool
tui_diag_stored(const struct tui *t)
{
	return diag_of(t)->stored;
}

bool
tui_diag_from_form(const struct tui *t)
{
	return diag_of(t)->from_form;
}

void
tui_diag_changed(struct tui *t, const struct account *a, bool stored)
{
	struct tui_diag *d = diag_of(t);

	d->acct = *a;
	d->stored = stored;
}
