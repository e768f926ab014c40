/* OAuth sign-in from the console of a saved OAuth account, with the flow
 * picked on the screen (the provider's first by default): the device flow
 * (RFC 8628), the loopback redirect through ssh -L, or the address the
 * browser ended on pasted back. The UI thread opens the client secret and,
 * at the end, seals the tokens (app_oauth_*_prepare() and
 * app_oauth_signed_in(), the code `account authorize` runs); a runner
 * worker only talks to the authorization server (app_oauth_*_run()) and
 * hands what to show through the job pipe; a pasted address goes to it
 * through a pipe of its own. Tokens never reach the screen. */
#include "config.h"

#include <errno.h>
#include <poll.h>
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
enum flow { FLOW_DEVICE, FLOW_LOOPBACK, FLOW_PASTE, FLOW_N };

static const char *const flow_name[FLOW_N] = { "device", "loopback", "paste" };

struct tui_signin {
	struct tui *t;
	struct account acct;
	enum flow flow;
	unsigned port;
	char *secret;                   /* secmem: the client secret, or "" */
	char *pasted;                   /* secmem: the address, until taken */
	int cancel[2];
	int paste[2];                   /* a byte: pasted holds the address */
	bool shown;
	char url[OAUTH_URL_MAX * 4];    /* the browser flows' address */
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
	bool choosing;                  /* the flow is not picked yet */
	bool can[FLOW_N];
	enum flow flow, mark;
	unsigned port;
	char tunnel[400];
	char url[OAUTH_URL_MAX * 4];
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
	secmem_free(s->pasted, OAUTH_URL_MAX * 4);
	close(s->cancel[0]);
	close(s->cancel[1]);
	close(s->paste[0]);
	close(s->paste[1]);
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

/* On the worker: the browser flows' address. */
static void
on_url(const char *url, void *ud)
{
	struct tui_signin *s = ud;

	pthread_mutex_lock(&s->t->qlock);
	str_copy(s->url, sizeof s->url, url);
	s->shown = true;
	pthread_mutex_unlock(&s->t->qlock);
	(void)!write(s->t->job_pipe[1], "o", 1);
}

/* On the worker: waits for the address the user pastes, or the cancel. */
static int
on_paste(char *buf, size_t len, void *ud)
{
	struct tui_signin *s = ud;
	struct pollfd pf[2] = { { .fd = s->cancel[0], .events = POLLIN },
	                        { .fd = s->paste[0], .events = POLLIN } };
	char c;
	int rc;

	while (poll(pf, 2, -1) < 0)
		if (errno != EINTR)
			return -1;
	if (pf[0].revents || !(pf[1].revents & POLLIN) ||
	    read(s->paste[0], &c, 1) != 1)
		return -1;
	pthread_mutex_lock(&s->t->qlock);
	rc = str_copy(buf, len, s->pasted) < 0 || s->pasted[0] == '\0' ? -1 : 0;
	secmem_wipe(s->pasted, OAUTH_URL_MAX * 4);
	pthread_mutex_unlock(&s->t->qlock);
	return rc;
}

void
tui_signin_run(struct tui_signin *s)
{
	if (s->flow == FLOW_DEVICE)
		s->rc = app_oauth_device_run(&s->acct, s->secret, s->cancel[0], on_show,
		                             s, &s->tok, &s->dg, s->err, sizeof s->err);
	else
		s->rc = app_oauth_browser_run(&s->acct, s->secret, s->port,
		                              s->flow == FLOW_PASTE, s->cancel[0],
		                              on_url, on_paste, s, &s->tok, &s->dg,
		                              s->err, sizeof s->err);
}

/* The flows a's provider offers (its preset's oauth_flows, in its order;
 * else what its endpoints allow), the first marked. */
static void
flows_of(struct tui *t, const struct account *a, struct signin_scr *sc)
{
	const struct preset *p = t->presets && a->preset[0]
	                         ? preset_find(t->presets, a->preset) : NULL;
	bool first = true;

	sc->can[FLOW_DEVICE] = a->oauth_device_url[0] != '\0';
	sc->can[FLOW_LOOPBACK] = sc->can[FLOW_PASTE] = a->oauth_auth_url[0] != '\0';
	sc->mark = sc->can[FLOW_DEVICE] ? FLOW_DEVICE : FLOW_LOOPBACK;
	if (p == NULL || p->oauth_flows[0] == '\0')
		return;
	for (int f = 0; f < FLOW_N; f++) {
		const char *w = strstr(p->oauth_flows, flow_name[f]);

		if (!w || !sc->can[f])
			continue;
		if (first || w < strstr(p->oauth_flows, flow_name[sc->mark])) {
			sc->mark = (enum flow)f;
			first = false;
		}
	}
}

/* Starts the flow picked: the client secret opened, the worker started. */
static void
signin_start(struct tui *t, struct signin_scr *sc, enum flow flow)
{
	struct tui_signin *s;
	int rc;

	if (!sc->can[flow]) {
		tui_message(t, true, _("The provider has no %s flow for this account."),
		            flow_name[flow]);
		return;
	}
	s = calloc(1, sizeof *s);
	if (!s || !(s->secret = secmem_alloc(STORE_SECRET_MAX + 1)) ||
	    !(s->pasted = secmem_alloc(OAUTH_URL_MAX * 4)) ||
	    pipe(s->cancel) != 0) {
		if (s) {
			secmem_free(s->secret, STORE_SECRET_MAX + 1);
			secmem_free(s->pasted, OAUTH_URL_MAX * 4);
		}
		free(s);
		tui_message(t, true, _("Out of memory."));
		return;
	}
	s->paste[0] = s->paste[1] = -1;
	s->t = t;
	s->flow = flow;
	s->port = sc->port;
	if (pipe(s->paste) != 0 ||
	    store_account_get(t->st, sc->email, &s->acct) != STORE_OK) {
		tui_message(t, true, _("Cannot read %s from the store."), sc->email);
		tui_signin_free(s);
		return;
	}
	rc = flow == FLOW_DEVICE
	     ? app_oauth_device_prepare(t->st, &s->acct, s->secret,
	                                STORE_SECRET_MAX + 1, s->err, sizeof s->err)
	     : app_oauth_browser_prepare(t->st, &s->acct, s->secret,
	                                 STORE_SECRET_MAX + 1, s->err, sizeof s->err);
	if (rc != 0) {
		tui_message(t, true, "%s.", s->err);
		tui_signin_free(s);
		return;
	}
	if (tui_signin_submit(t, s) != 0) {
		tui_message(t, true, _("The sign-in could not start."));
		tui_signin_free(s);
		return;
	}
	t->signin = s;
	sc->choosing = false;
	sc->flow = flow;
	tui_message(t, false, "%s", flow == FLOW_DEVICE
	            ? _("Asking the authorization server for a code...") : "");
}

static int
signin_open(struct tui *t, void *priv, const void *arg)
{
	struct signin_scr *sc = priv;
	struct account a;

	if (t->signin) {
		tui_message(t, true, _("A sign-in is already waiting."));
		return -1;
	}
	if (!store_is_unlocked(t->st)) {
		tui_message(t, true, _("The store is locked: the tokens could not be "
		            "sealed. Restart with the key file or passphrase."));
		return -1;
	}
	if (store_account_get(t->st, arg, &a) != STORE_OK) {
		tui_message(t, true, _("Cannot read %s from the store."), (const char *)arg);
		return -1;
	}
	if (!a.oauth) {
		tui_message(t, true, _("%s signs in with a password, not OAuth."), a.email);
		return -1;
	}
	str_copy(sc->email, sizeof sc->email, a.email);
	flows_of(t, &a, sc);
	if (!sc->can[FLOW_DEVICE] && !sc->can[FLOW_LOOPBACK]) {
		tui_message(t, true, _("%s has no OAuth device or authorization "
		            "endpoint (edit it, or use a preset that has them)."), a.email);
		return -1;
	}
	sc->port = app_oauth_port();
	app_oauth_tunnel(sc->port, sc->tunnel, sizeof sc->tunnel);
	sc->choosing = true;
	tui_message(t, false, "%s", "");
	return 0;
}

/* The pasted address (NULL: Esc), for the worker. Not kept here. */
static void
pasted(struct tui *t, const char *value, void *ud)
{
	struct tui_signin *s = t->signin;

	(void)ud;
	if (!s || s->flow != FLOW_PASTE)
		return;
	if (!value) {
		struct signin_scr *sc = tui_find(t, &tui_scr_signin);

		tui_signin_cancel(t);
		tui_message(t, false, _("Sign-in cancelled."));
		if (sc) {
			sc->done = true;
			str_copy(sc->result, sizeof sc->result, _("Sign-in cancelled."));
		}
		return;
	}
	pthread_mutex_lock(&t->qlock);
	str_copy(s->pasted, OAUTH_URL_MAX * 4, value);
	pthread_mutex_unlock(&t->qlock);
	(void)!write(s->paste[1], "p", 1);
	tui_message(t, false, _("Exchanging the code for tokens..."));
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
		str_copy(sc->url, sizeof sc->url, s->url);
		str_copy(sc->user_code, sizeof sc->user_code, s->user_code);
		str_copy(sc->uri, sizeof sc->uri, s->uri);
		str_copy(sc->uri_complete, sizeof sc->uri_complete, s->uri_complete);
		sc->expires_at = s->expires_at;
		tui_message(t, false, "%s", "");
		if (s->flow == FLOW_PASTE) {
			pthread_mutex_unlock(&t->qlock);
			/* Not echoed: the address holds a code worth a sign-in. */
			tui_ask_secret(t, _("Paste the address, then Enter (Esc cancels): "),
			               pasted, NULL);
			t->dirty = true;
			return;
		}
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
	switch (tui_keys_lookup(KS_SIGNIN, key)) {
	case ACT_BACK:
		if (!sc->done && !sc->choosing) {
			signin_cancel(t);
			tui_message(t, false, _("Sign-in cancelled."));
		}
		return TUI_POP;
	case ACT_FLOW_DEVICE:
	case ACT_FLOW_LOOPBACK:
	case ACT_FLOW_PASTE:
	case ACT_SELECT:
		if (!sc->choosing)
			return TUI_HANDLED;
		{
			enum tui_action a = tui_keys_lookup(KS_SIGNIN, key);

			signin_start(t, sc, a == ACT_FLOW_DEVICE ? FLOW_DEVICE
			             : a == ACT_FLOW_LOOPBACK ? FLOW_LOOPBACK
			             : a == ACT_FLOW_PASTE ? FLOW_PASTE : sc->mark);
		}
		return TUI_REDRAW;
	default:
		return TUI_HANDLED;
	}
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

/* The whole address, wrapped: it must be copied exactly. */
static int
draw_wrapped(struct tui *t, int y, int x, int w, const char *s)
{
	char part[OAUTH_URL_MAX * 4];
	size_t n = strlen(s), at = 0, cut = w > 8 ? (size_t)w : 8;

	attron(A_BOLD);
	while (at < n && y < LINES - 4) {
		size_t k = n - at < cut ? n - at : cut;

		memcpy(part, s + at, k);
		part[k] = '\0';
		tui_put(t, y++, x, w, part, false, false);
		at += k;
	}
	attroff(A_BOLD);
	return y;
}

static int
draw_browser(struct tui *t, struct signin_scr *sc, int y, int lx, int w)
{
	char line[640];  /* a sentence, in Devanagari three bytes a letter */

	if (sc->flow == FLOW_LOOPBACK) {
		str_printf(line, sizeof line, _("The browser comes back to port %u of "
		           "this server. On your laptop, first open the tunnel "
		           "(leave it running):"), sc->port);
		tui_put(t, y++, lx, w, line, false, true);
		attron(A_BOLD);
		tui_put(t, ++y, lx + 4, w - 4, sc->tunnel, false, true);
		attroff(A_BOLD);
		y += 2;
		tui_put(t, y++, lx, w, _("then open this address in the laptop's browser:"),
		        false, true);
	} else {
		tui_put(t, y++, lx, w, _("Open this address in a browser on any device:"),
		        false, true);
	}
	y = draw_wrapped(t, y + 1, lx, w, sc->url) + 1;
	if (sc->flow == FLOW_PASTE) {
		str_printf(line, sizeof line, _("After you sign in, the browser goes to "
		           "http://127.0.0.1:%u/ and fails to load it: that is "
		           "expected. Copy its whole address and paste it below."),
		           sc->port);
		tui_put(t, y++, lx, w, line, false, true);
	} else if (!sc->done) {
		str_printf(line, sizeof line, _("Waiting for the browser %s (10 minutes; "
		           "Esc cancels)"), tui_spinner(t));
		attron(tui_attr(t, CP_DIM));
		tui_put(t, y++, lx, w, line, false, true);
		attroff(tui_attr(t, CP_DIM));
	}
	return y + 1;
}

static void
signin_draw(struct tui *t, void *priv)
{
	struct signin_scr *sc = priv;
	int y = 2, lx = 2, w = COLS - 4;
	char line[OAUTH_URL_MAX + 64];

	if (sc->choosing) {
		static const char *const what[FLOW_N] = {
			N_("device code: enter a code on any device (laptop, phone)"),
			N_("loopback: a browser on your laptop, back through ssh -L"),
			N_("paste: a browser anywhere, then paste the address it ended on"),
		};
		static const char keys[FLOW_N] = { 'd', 'l', 'p' };

		str_printf(line, sizeof line, _("Sign %s in with OAuth. How?"), sc->email);
		tui_put(t, y, lx, w, line, false, true);
		y += 2;
		for (int f = 0; f < FLOW_N; f++) {
			str_printf(line, sizeof line, "%s %c  %s%s", f == (int)sc->mark
			           ? ">" : " ", keys[f], _(what[f]), sc->can[f] ? ""
			           : _(" (not offered)"));
			attron(sc->can[f] ? (f == (int)sc->mark ? A_BOLD : A_NORMAL)
			       : tui_attr(t, CP_DIM));
			tui_put(t, y++, lx, w, line, false, true);
			attroff(A_BOLD | tui_attr(t, CP_DIM));
		}
		y++;
		tui_put(t, y, lx, w, _("Press d, l or p, or Enter for the one marked "
		        "(the provider's first)."), false, true);
		return;
	}
	str_printf(line, sizeof line, _("Sign %s in with OAuth (%s flow)."),
	           sc->email, flow_name[sc->flow]);
	tui_put(t, y, lx, w, line, false, true);
	y += 2;
	if (sc->flow != FLOW_DEVICE && sc->shown) {
		y = draw_browser(t, sc, y, lx, w);
	} else if (!sc->shown) {
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

	if (!sc->done && !sc->choosing)
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
