/* OAuth sign-in from the console: the device flow (RFC 8628) of a saved
 * OAuth account. The UI thread opens the client secret and, at the end,
 * seals the tokens (app_oauth_device_prepare() and app_oauth_signed_in(),
 * the code `account authorize` runs); a runner worker only talks to the
 * authorization server (app_oauth_device_run()) and hands the address and
 * code to show through the job pipe. Tokens never reach the screen. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "i18n.h"
#include "secmem.h"
#include "tui.h"
#include "util.h"

/* Shared with the worker: the shown fields under t->qlock, the rest
 * written by the worker before the runner hands the job back. */
struct tui_signin {
	struct tui *t;
	struct account acct;
	char *secret;                   /* secmem: the client secret, or "" */
	int cancel[2];
	bool shown;
	char user_code[OAUTH_CODE_MAX];
	char uri[OAUTH_URL_MAX], uri_complete[OAUTH_URL_MAX];
	int64_t expires_at;
	struct oauth_tokens tok;
	struct diagnosis dg;
	int rc;
	char err[APP_ERR_MAX];
};

/* The screen's own state: a copy of what the worker showed. */
struct signin_scr {
	char email[ACCT_EMAIL_MAX + 1];
	bool shown, done, ok;
	char user_code[OAUTH_CODE_MAX];
	char uri[OAUTH_URL_MAX], uri_complete[OAUTH_URL_MAX];
	int64_t expires_at;
	char result[APP_ERR_MAX];
};

void
tui_signin_free(struct tui_signin *s)
{
	if (!s)
		return;
	oauth_tokens_free(&s->tok);
	secmem_free(s->secret, STORE_SECRET_MAX + 1);
	close(s->cancel[0]);
	close(s->cancel[1]);
	free(s);
}

/* On the worker. */
static void
on_show(const struct oauth_device *d, void *ud)
{
	struct tui_signin *s = ud;

	pthread_mutex_lock(&s->t->qlock);
	str_copy(s->user_code, sizeof s->user_code, d->user_code);
	str_copy(s->uri, sizeof s->uri, d->verification_uri);
	str_copy(s->uri_complete, sizeof s->uri_complete,
	         d->verification_uri_complete);
	s->expires_at = d->expires_at;
	s->shown = true;
	pthread_mutex_unlock(&s->t->qlock);
	(void)!write(s->t->job_pipe[1], "o", 1);
}

void
tui_signin_run(struct tui_signin *s)
{
	s->rc = app_oauth_device_run(&s->acct, s->secret, s->cancel[0], on_show, s,
	                             &s->tok, &s->dg, s->err, sizeof s->err);
}

static int
signin_open(struct tui *t, void *priv, const void *arg)
{
	struct signin_scr *sc = priv;
	struct tui_signin *s;
	int rc;

	if (t->signin) {
		tui_message(t, true, _("A sign-in is already waiting."));
		return -1;
	}
	if (!store_is_unlocked(t->st)) {
		tui_message(t, true, _("The store is locked: the tokens could not be "
		            "sealed. Restart with the key file or passphrase."));
		return -1;
	}
	s = calloc(1, sizeof *s);
	if (!s || !(s->secret = secmem_alloc(STORE_SECRET_MAX + 1)) ||
	    pipe(s->cancel) != 0) {
		if (s)
			secmem_free(s->secret, STORE_SECRET_MAX + 1);
		free(s);
		tui_message(t, true, _("Out of memory."));
		return -1;
	}
	s->t = t;
	if (store_account_get(t->st, arg, &s->acct) != STORE_OK) {
		tui_message(t, true, _("Cannot read %s from the store."), (const char *)arg);
		tui_signin_free(s);
		return -1;
	}
	rc = app_oauth_device_prepare(t->st, &s->acct, s->secret,
	                              STORE_SECRET_MAX + 1, s->err, sizeof s->err);
	if (rc != 0) {
		tui_message(t, true, "%s.", s->err);
		tui_signin_free(s);
		return -1;
	}
	if (tui_signin_submit(t, s) != 0) {
		tui_message(t, true, _("The sign-in could not start."));
		tui_signin_free(s);
		return -1;
	}
	t->signin = s;
	str_copy(sc->email, sizeof sc->email, s->acct.email);
	tui_message(t, false, _("Asking the authorization server for a code..."));
	return 0;
}

/* Called by tui_jobs_drain(): the worker showed its code. */
void
tui_signin_update(struct tui *t)
{
	struct signin_scr *sc = tui_find(t, &tui_scr_signin);
	struct tui_signin *s = t->signin;

	if (!sc || !s)
		return;
	pthread_mutex_lock(&t->qlock);
	if (s->shown && !sc->shown) {
		sc->shown = true;
		str_copy(sc->user_code, sizeof sc->user_code, s->user_code);
		str_copy(sc->uri, sizeof sc->uri, s->uri);
		str_copy(sc->uri_complete, sizeof sc->uri_complete, s->uri_complete);
		sc->expires_at = s->expires_at;
		tui_message(t, false, "%s", "");
	}
	pthread_mutex_unlock(&t->qlock);
	t->dirty = true;
}

/* The runner handed the sign-in back (ran: not dropped). */
void
tui_signin_done(struct tui *t, struct tui_signin *s, bool ran)
{
	struct signin_scr *sc;
	char err[APP_ERR_MAX];
	int rc;

	if (t->signin != s)
		return;         /* cancelled: its end is dropped */
	tui_signin_update(t);
	t->signin = NULL;
	sc = tui_find(t, &tui_scr_signin);
	rc = ran ? s->rc : 1;
	if (rc == 0)
		rc = app_oauth_signed_in(t->st, &s->acct, &s->tok, err, sizeof err);
	else
		str_copy(err, sizeof err, ran ? s->err : _("the sign-in did not run"));
	t->dirty = true;
	if (!sc)
		return;
	sc->done = true;
	sc->ok = rc == 0;
	if (rc == 0) {
		str_printf(sc->result, sizeof sc->result, _("Signed in: %s (tokens "
		           "encrypted in the store)."), s->acct.email);
		tui_message(t, false, _("Signed in %s."), s->acct.email);
	} else {
		str_copy(sc->result, sizeof sc->result, err);
		tui_message(t, true, _("Not signed in."));
	}
}

static void
signin_cancel(struct tui *t)
{
	if (!t->signin)
		return;
	(void)!write(t->signin->cancel[1], "c", 1);
	t->signin = NULL;
}

void
tui_signin_cancel(struct tui *t)
{
	signin_cancel(t);
}

static enum tui_result
signin_key(struct tui *t, void *priv, int key)
{
	struct signin_scr *sc = priv;

	if (tui_global_key(t, key))
		return TUI_REDRAW;
	if (tui_keys_lookup(KS_SIGNIN, key) == ACT_BACK) {
		if (!sc->done) {
			signin_cancel(t);
			tui_message(t, false, _("Sign-in cancelled."));
		}
		return TUI_POP;
	}
	return TUI_HANDLED;
}

/* The code, large: spaced out in a box, bold, in the middle. */
static void
draw_code(struct tui *t, int y, const char *code)
{
	char spaced[OAUTH_CODE_MAX * 2 + 1];
	size_t n = 0;
	int w, x;

	for (const char *p = code; *p && n + 2 < sizeof spaced; p++) {
		spaced[n++] = *p;
		if (p[1])
			spaced[n++] = ' ';
	}
	spaced[n] = '\0';
	w = tui_cols(t, spaced) + 6;
	if (w > COLS - 2)
		w = COLS - 2;
	x = (COLS - w) / 2;
	tui_box(y, x, 3, w);
	attron(A_BOLD);
	tui_put(t, y + 1, x + 3, w - 6, spaced, false, true);
	attroff(A_BOLD);
}

static void
signin_draw(struct tui *t, void *priv)
{
	struct signin_scr *sc = priv;
	int y = 2, lx = 2, w = COLS - 4;
	char line[OAUTH_URL_MAX + 64];

	str_printf(line, sizeof line, _("Sign %s in with OAuth (device flow)."),
	           sc->email);
	tui_put(t, y, lx, w, line, false, true);
	y += 2;
	if (!sc->shown) {
		attron(tui_attr(t, CP_DIM));
		tui_put(t, y, lx, w, sc->done ? "" : _("Asking the authorization server "
		        "for a code..."), false, true);
		attroff(tui_attr(t, CP_DIM));
		y += 2;
	} else {
		int64_t mins = (sc->expires_at - (int64_t)time(NULL) + 59) / 60;

		tui_put(t, y++, lx, w, _("Open this address in a browser on any device "
		        "(your laptop or phone):"), false, true);
		attron(A_BOLD);
		tui_put(t, ++y, lx + 4, w - 4, sc->uri, false, true);
		attroff(A_BOLD);
		y += 2;
		tui_put(t, y++, lx, w, _("and enter the code:"), false, true);
		draw_code(t, ++y, sc->user_code);
		y += 4;
		str_printf(line, sizeof line, _("user code: %s"), sc->user_code);
		tui_put(t, y++, lx, w, line, false, true);
		if (sc->uri_complete[0]) {
			str_printf(line, sizeof line, _("or open, with the code filled in: %s"),
			           sc->uri_complete);
			tui_put(t, y++, lx, w, line, false, true);
		}
		y++;
		if (!sc->done) {
			str_printf(line, sizeof line, ngettext("Waiting for you to approve %s "
			           "(the code expires in %lld minute; Esc cancels)",
			           "Waiting for you to approve %s "
			           "(the code expires in %lld minutes; Esc cancels)",
			           mins > 0 ? (unsigned long)mins : 0),
			           tui_spinner(t), (long long)(mins > 0 ? mins : 0));
			attron(tui_attr(t, CP_DIM));
			tui_put(t, y++, lx, w, line, false, true);
			attroff(tui_attr(t, CP_DIM));
		}
	}
	if (sc->done) {
		/* The error may hold fixes on lines of their own. */
		const char *p = sc->result;

		attron(tui_attr(t, sc->ok ? CP_OK : CP_FAIL) | A_BOLD);
		while (*p && y < LINES - 3) {
			const char *nl = strchr(p, '\n');
			size_t len = nl ? (size_t)(nl - p) : strlen(p);
			char one[APP_ERR_MAX];

			str_sanitize(one, sizeof one, p, len);
			tui_put(t, y++, lx, w, one, false, true);
			p += len + (nl != NULL);
		}
		attroff(tui_attr(t, sc->ok ? CP_OK : CP_FAIL) | A_BOLD);
	}
}

static void
signin_close(struct tui *t, void *priv)
{
	struct signin_scr *sc = priv;

	if (!sc->done)
		signin_cancel(t);
}

const struct screen_ops tui_scr_signin = {
	.ks = KS_SIGNIN, .title = N_("Email Accounts > Sign in"),
	.private_size = sizeof(struct signin_scr), .open = signin_open,
	.draw = signin_draw, .key = signin_key, .close = signin_close,
};

void
tui_signin_open(struct tui *t, const char *email)
{
	tui_push(t, &tui_scr_signin, email);
}
