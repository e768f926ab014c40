/* The full-screen console: terminal setup and restore, signals, the event
 * loop (keyboard, worker events, signals and library stderr polled
 * together), the screen stack and the bottom-line prompts. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "i18n.h"
#include "secmem.h"
#include "tui.h"
#include "util.h"

static volatile sig_atomic_t got_signal;
static int sig_wfd = -1;

static void
on_signal(int sig)
{
	int saved = errno;

	got_signal = sig;
	if (sig_wfd >= 0)
		(void)!write(sig_wfd, "s", 1);
	errno = saved;
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

char *
tui_secdup(const char *s)
{
	size_t n;
	char *p;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	p = secmem_alloc(n > ACCT_SECRET_MAX + 1 ? n : ACCT_SECRET_MAX + 1);
	if (p)
		memcpy(p, s, n);
	return p;
}

void
tui_secfree(char **p)
{
	if (*p) {
		size_t n = strlen(*p) + 1;

		secmem_free(*p, n > ACCT_SECRET_MAX + 1 ? n : ACCT_SECRET_MAX + 1);
		*p = NULL;
	}
}

/* ---- the screen manager ------------------------------------------------ */

static void
screen_close(struct tui *t, struct tui_screen *sc)
{
	if (sc->ops->close)
		sc->ops->close(t, sc->priv);
	free(sc->priv);
	sc->priv = NULL;
	sc->ops = NULL;
}

void *
tui_push(struct tui *t, const struct screen_ops *s, const void *arg)
{
	struct tui_screen *sc;
	/* One byte at least: priv is also the screen's identity. */
	void *priv = calloc(1, s->private_size ? s->private_size : 1);

	if (!priv) {
		tui_message(t, true, _("Out of memory."));
		return NULL;
	}
	if (t->depth >= TUI_STACK) {
		free(priv);
		tui_message(t, true, _("Too many screens open."));
		return NULL;
	}
	if (s->open && s->open(t, priv, arg) != 0) {
		free(priv);
		return NULL;
	}
	sc = &t->stack[t->depth++];
	sc->ops = s;
	sc->priv = priv;
	sc->id = ++t->next_screen_id;
	t->dirty = true;
	return priv;
}

void
tui_pop(struct tui *t)
{
	if (t->depth > 1)
		screen_close(t, &t->stack[--t->depth]);
	t->dirty = true;
}

static int
find_index(const struct tui *t, const struct screen_ops *s)
{
	for (int i = t->depth - 1; i >= 0; i--)
		if (t->stack[i].ops == s)
			return i;
	return -1;
}

void *
tui_find(const struct tui *t, const struct screen_ops *s)
{
	int i = find_index(t, s);

	return i < 0 ? NULL : t->stack[i].priv;
}

bool
tui_pop_to(struct tui *t, const struct screen_ops *s)
{
	int i = find_index(t, s);

	if (i < 0)
		return false;
	while (t->depth > i + 1)
		tui_pop(t);
	return true;
}

void
tui_raise(struct tui *t, const struct screen_ops *s, const void *arg)
{
	if (tui_top(t) == s)
		return;
	if (t->depth >= 2 && t->stack[t->depth - 2].ops == s) {
		tui_pop(t);
		return;
	}
	tui_push(t, s, arg);
}

void
tui_reset(struct tui *t, const struct screen_ops *s, const void *arg)
{
	while (t->depth > 0)
		screen_close(t, &t->stack[--t->depth]);
	if (!tui_push(t, s, arg)) {
		t->quit = true;
		t->exit_code = EX_OSERR;
		str_copy(t->exit_msg, sizeof t->exit_msg,
		         _("fluenzr-tui: cannot open a screen (out of memory)"));
	}
}

const struct screen_ops *
tui_top(const struct tui *t)
{
	return t->depth ? t->stack[t->depth - 1].ops : NULL;
}

void
tui_message(struct tui *t, bool error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof t->msg, fmt, ap);
	va_end(ap);
	t->msg_error = error;
	t->dirty = true;
}

bool
tui_global_key(struct tui *t, int key)
{
	switch (tui_keys_lookup(KS_ALL, key)) {
	case ACT_HELP: {
		enum tui_keyscreen ks = tui_top(t)->ks;

		tui_push(t, &tui_scr_help, &ks);
		return true;
	}
	case ACT_QUIT_NOW:
		t->quit = true;
		return true;
	case ACT_REDRAW:
		clearok(curscr, TRUE);
		return true;
	default:
		return false;
	}
}

/* ---- the question and the passphrase prompt: screens at the bottom ------- */

struct yesno {
	bool passthrough;
	char text[512];
	tui_yesno_cb cb;
	void *ud;
};

/* A question or a prompt has no body: the screen below shows through. */
static void
bottom_only_draw(struct tui *t, void *priv)
{
	(void)t;
	(void)priv;
}

static void
yesno_bottom(struct tui *t, void *priv)
{
	struct yesno *q = priv;

	attron(tui_attr(t, CP_WARN) | A_BOLD);
	tui_put(t, LINES - 1, 0, COLS, q->text, true, true);
	attroff(tui_attr(t, CP_WARN) | A_BOLD);
	t->cur_y = -1;
}

static enum tui_result
yesno_key(struct tui *t, void *priv, int key)
{
	struct yesno q = *(struct yesno *)priv;

	/* Closed before the answer runs: the answer may ask again. */
	tui_pop(t);
	if (key == 'y' || key == 'Y') {
		q.cb(t, true, q.ud);
		return TUI_REDRAW;
	}
	q.cb(t, false, q.ud);
	if (!q.passthrough || key == 'n' || key == 'N' || key == TUI_ESC)
		return TUI_REDRAW;
	return TUI_PASS;
}

static const struct screen_ops scr_yesno = {
	.ks = KS_ALL, .private_size = sizeof(struct yesno), .overlay = true,
	.draw = bottom_only_draw, .key = yesno_key, .bottom = yesno_bottom,
};

void
tui_yesno(struct tui *t, bool passthrough, tui_yesno_cb cb, void *ud,
          const char *fmt, ...)
{
	struct yesno *q = tui_push(t, &scr_yesno, NULL);
	va_list ap;

	if (!q) {
		cb(t, false, ud);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(q->text, sizeof q->text, fmt, ap);
	va_end(ap);
	q->passthrough = passthrough;
	q->cb = cb;
	q->ud = ud;
}

struct ask {
	char label[160];
	struct tui_input in;
	tui_ask_cb cb;
	void *ud;
};

static int
ask_open(struct tui *t, void *priv, const void *arg)
{
	struct ask *q = priv;

	(void)t;
	(void)arg;
	return tui_input_init(&q->in, ACCT_SECRET_MAX, true);
}

static void
ask_close(struct tui *t, void *priv)
{
	struct ask *q = priv;

	(void)t;
	tui_input_free(&q->in);
}

static void
ask_bottom(struct tui *t, void *priv)
{
	struct ask *q = priv;
	int y = LINES - 1, lw;

	attron(A_BOLD);
	lw = tui_put(t, y, 0, COLS / 2, q->label, false, true);
	attroff(A_BOLD);
	tui_draw_input(t, &q->in, y, lw, COLS - lw - 1, true, true);
}

static enum tui_result
ask_key(struct tui *t, void *priv, int key)
{
	struct ask *q = priv;
	tui_ask_cb cb = q->cb;
	void *ud = q->ud;
	bool changed;

	if (key == TUI_ESC) {
		tui_pop(t);
		cb(t, NULL, ud);
		return TUI_REDRAW;
	}
	if (key == '\n' || key == '\r' || key == TUI_FN(KEY_ENTER)) {
		char *v = tui_secdup(q->in.buf);

		/* Closing wipes the entry; the copy is wiped after the answer. */
		tui_pop(t);
		cb(t, v ? v : "", ud);
		tui_secfree(&v);
		return TUI_REDRAW;
	}
	tui_input_key(&q->in, key, &changed);
	return TUI_REDRAW;
}

static const struct screen_ops scr_ask = {
	.ks = KS_FIELD, .private_size = sizeof(struct ask), .overlay = true,
	.open = ask_open, .close = ask_close, .draw = bottom_only_draw,
	.key = ask_key, .bottom = ask_bottom,
};

void
tui_ask_secret(struct tui *t, const char *label, tui_ask_cb cb, void *ud)
{
	struct ask *q = tui_push(t, &scr_ask, NULL);

	if (!q) {
		cb(t, NULL, ud);
		return;
	}
	str_copy(q->label, sizeof q->label, label);
	q->cb = cb;
	q->ud = ud;
}

/* ---- the unlock screen -------------------------------------------------- */

static void unlock_ask(struct tui *t);

static void
unlock_answer(struct tui *t, const char *pass, void *ud)
{
	char err[256];
	int rc;

	(void)ud;
	if (!pass) {
		t->quit = true;
		t->exit_code = EX_NOPERM;
		str_copy(t->exit_msg, sizeof t->exit_msg,
		         _("fluenzr-tui: no passphrase given; the store stays locked"));
		return;
	}
	rc = store_unlock(t->st, pass, err, sizeof err);
	if (rc == STORE_OK) {
		tui_reset(t, &tui_scr_accounts, NULL);
		tui_message(t, false, _("Store unlocked."));
		if (tui_accounts_load(t) != 0) {
			t->quit = true;
			t->exit_code = EX_SOFTWARE;
		}
		return;
	}
	if (rc != STORE_EKEY) {
		t->quit = true;
		t->exit_code = app_store_exit(rc);
		str_printf(t->exit_msg, sizeof t->exit_msg, "fluenzr-tui: %s",
		           err[0] ? err : store_strerror(rc));
		return;
	}
	if (++t->unlock_tries >= 3) {
		t->quit = true;
		t->exit_code = EX_NOPERM;
		str_copy(t->exit_msg, sizeof t->exit_msg,
		         _("fluenzr-tui: wrong passphrase three times; the store "
		         "stays locked"));
		return;
	}
	tui_message(t, true, _("Wrong passphrase (%d of 3 tries left)."),
	            3 - t->unlock_tries);
	unlock_ask(t);
}

static void
unlock_ask(struct tui *t)
{
	tui_ask_secret(t, _("Store passphrase: "), unlock_answer, NULL);
}

static void
unlock_draw(struct tui *t, void *priv)
{
	(void)priv;
	tui_put(t, 3, 2, COLS - 4, _("This account store is protected by a passphrase."),
	        false, true);
	tui_put(t, 5, 2, COLS - 4,
	        _("Type it below and press Enter (nothing is shown as you type)."),
	        false, true);
	tui_put(t, 6, 2, COLS - 4, _("Esc quits without opening the store."), false,
	        true);
}

/* The prompt is on top whenever it is open: a key reaching the screen
 * means it was closed, so ask again. */
static enum tui_result
unlock_key(struct tui *t, void *priv, int key)
{
	(void)priv;
	(void)key;
	unlock_ask(t);
	return TUI_REDRAW;
}

const struct screen_ops tui_scr_unlock = {
	.ks = KS_ALL, .title = N_("Unlock the store"),
	.draw = unlock_draw, .key = unlock_key,
};

/* ---- drawing ------------------------------------------------------------ */

static bool
too_small(void)
{
	return COLS < TUI_MIN_COLS || LINES < TUI_MIN_LINES;
}

/* The screens that show: the topmost full screen and the overlays above
 * it, bottom first. */
static int
first_shown(const struct tui *t)
{
	int i = t->depth - 1;

	while (i > 0 && t->stack[i].ops->overlay)
		i--;
	return i;
}

static void
draw_bottom(struct tui *t)
{
	char hints[512];
	int y = LINES - 1, i = t->depth - 1;
	struct tui_screen *top = &t->stack[i];

	move(y, 0);
	clrtoeol();
	if (top->ops->bottom) {
		top->ops->bottom(t, top->priv);
		return;
	}
	while (i > 0 && t->stack[i].ops->keep_hints)
		i--;
	tui_keys_hints(t->stack[i].ops->ks, hints, sizeof hints);
	attron(tui_attr(t, CP_TITLE));
	tui_put(t, y, 0, COLS, hints, true, true);
	attroff(tui_attr(t, CP_TITLE));
}

static void
draw_title(struct tui *t, struct tui_screen *sc)
{
	char title[256];

	attron(tui_attr(t, CP_TITLE) | A_BOLD);
	str_printf(title, sizeof title, " %s", sc->ops->title_of
	           ? sc->ops->title_of(t, sc->priv) : _(sc->ops->title));
	tui_put(t, 0, 0, COLS, title, true, true);
	if (t->st && !store_is_unlocked(t->st))
		tui_put(t, 0, COLS - 22, 21, _("[store locked]"), false, false);
	else
		tui_put(t, 0, COLS - 12, 12, "fluenzr-tui", false, false);
	attroff(tui_attr(t, CP_TITLE) | A_BOLD);
}

static void
draw(struct tui *t)
{
	int first = first_shown(t);

	erase();
	t->cur_y = t->cur_x = -1;
	if (too_small()) {
		char m[96];
		int y = LINES / 2 - 1;

		str_printf(m, sizeof m, _("Terminal too small (need %dx%d, have %dx%d)"),
		           TUI_MIN_COLS, TUI_MIN_LINES, COLS, LINES);
		if (y < 0)
			y = 0;
		tui_put(t, y, COLS > (int)strlen(m) ? (COLS - (int)strlen(m)) / 2 : 0,
		        COLS, m, false, true);
		if (y + 1 < LINES)
			tui_put(t, y + 1, 0, COLS, _("Enlarge the window, or press q to quit."),
			        false, true);
		curs_set(0);
		refresh();
		return;
	}

	/* Another screen on top is painted whole. A terminal whose idea of a
	 * character's width differs from the C library's (some Devanagari
	 * vowel signs, emoji) places text a column off from where curses
	 * thinks it is, so an update of the changed cells alone would leave
	 * pieces of the screen before it. */
	if (t->depth > 0 && t->stack[t->depth - 1].id != t->drawn_id) {
		clearok(curscr, TRUE);
		t->drawn_id = t->stack[t->depth - 1].id;
	}
	draw_title(t, &t->stack[first]);
	for (int i = first; i < t->depth; i++)
		t->stack[i].ops->draw(t, t->stack[i].priv);

	if (t->msg[0]) {
		attr_t a = t->msg_error ? tui_attr(t, CP_FAIL) | A_BOLD : A_NORMAL;

		attron(a);
		tui_put(t, LINES - 2, 0, COLS, t->msg, true, true);
		attroff(a);
	}
	draw_bottom(t);
	if (t->cur_y >= 0) {
		curs_set(1);
		move(t->cur_y, t->cur_x);
	} else {
		curs_set(0);
	}
	refresh();
}

/* ---- input -------------------------------------------------------------- */

static void
resize(struct tui *t)
{
	for (int i = 0; i < t->depth; i++)
		if (t->stack[i].ops->resize)
			t->stack[i].ops->resize(t, t->stack[i].priv);
}

/* The top screen has the key; the manager does what its answer asks. */
static void
dispatch(struct tui *t, int key)
{
	bool had_msg = t->msg[0] != '\0';

	if (key == TUI_FN(KEY_RESIZE)) {
		resize(t);
		t->dirty = true;
		return;
	}
	/* Ctrl-C always quits, whatever is open: raw mode made it a key. */
	if (key == TUI_CTRL('c')) {
		t->quit = true;
		return;
	}
	if (too_small()) {
		if (key == 'q')
			t->quit = true;
		t->dirty = true;
		return;
	}
	/* A message lasts until the next key. */
	t->msg[0] = '\0';
	for (int pass = 0; pass < TUI_STACK && t->depth > 0; pass++) {
		struct tui_screen *sc = &t->stack[t->depth - 1];
		unsigned id = sc->id;
		int at = t->depth - 1;
		enum tui_result r = sc->ops->key(t, sc->priv, key);

		/* Only a key that changed nothing (not even the message line)
		 * goes without a redraw. */
		if (r != TUI_HANDLED || had_msg)
			t->dirty = true;
		switch (r) {
		case TUI_HANDLED:
		case TUI_REDRAW:
			return;
		case TUI_POP:
			/* Unless the handler closed it already. */
			if (at < t->depth && t->stack[at].id == id) {
				while (t->depth > at + 1)
					tui_pop(t);
				tui_pop(t);
			}
			return;
		case TUI_QUIT:
			t->quit = true;
			return;
		case TUI_PASS:
			if (t->depth > at && t->stack[at].id == id)
				return;         /* still open: nothing to pass to */
			continue;
		}
	}
}

/* Returns the number of keys read. */
static int
read_keys(struct tui *t)
{
	wint_t wc;
	int rc, n = 0;

	while (!t->quit && (rc = get_wch(&wc)) != ERR) {
		int key = rc == KEY_CODE_YES ? TUI_FN((int)wc) : (int)wc;

		dispatch(t, key);
		n++;
	}
	return n;
}

/* The log kept for the exit path: what libraries wrote to stderr and
 * the presets that were skipped. */
static void
errlog_append(struct tui *t, const char *buf, size_t n)
{
	if (!t->errlog)
		t->errlog = calloc(1, TUI_ERRLOG_MAX);
	if (!t->errlog)
		return;
	if (t->errlog_len + n > TUI_ERRLOG_MAX - 1) {
		/* Keep the newest: drop the oldest half. */
		size_t keep = (TUI_ERRLOG_MAX - 1) / 2;

		if (n > keep)
			n = keep;
		memmove(t->errlog, t->errlog + t->errlog_len - keep / 2,
		        keep / 2);
		t->errlog_len = keep / 2;
	}
	memcpy(t->errlog + t->errlog_len, buf, n);
	t->errlog_len += n;
	t->errlog[t->errlog_len] = '\0';
}

static void
errlog_add(struct tui *t, const char *s)
{
	errlog_append(t, s, strlen(s));
}

static void
drain_stderr(struct tui *t)
{
	char buf[4096];
	ssize_t n;

	if (t->err_pipe < 0)
		return;
	while ((n = read(t->err_pipe, buf, sizeof buf)) > 0)
		errlog_append(t, buf, (size_t)n);
}

/* preset_load_all()'s warnings: kept for the exit path like the CLI's
 * (printed when the console fails), and told on the status line. */
static void
preset_warned(const char *msg, void *ud)
{
	struct tui *t = ud;
	const char *colon = strstr(msg, ": "), *shown = msg;
	char line[1700];

	str_printf(line, sizeof line, _("fluenzr-tui: preset skipped: %s\n"), msg);
	errlog_add(t, line);
	/* On one line, a file's name says enough; the log has its path. */
	if (msg[0] == '/' && colon)
		for (const char *q = msg; q < colon; q++)
			if (*q == '/')
				shown = q + 1;
	if (t->preset_skipped++ == 0)
		str_copy(t->preset_first, sizeof t->preset_first, shown);
}

static void
presets_note(struct tui *t)
{
	if (t->preset_skipped == 1)
		tui_message(t, true, _("Preset skipped: %s"), t->preset_first);
	else
		tui_message(t, true, ngettext("%u preset skipped; the first: %s",
		                              "%u presets skipped; the first: %s",
		                              t->preset_skipped),
		            t->preset_skipped, t->preset_first);
}

static void
drain_fd(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof buf) > 0)
		;
}

static void
loop(struct tui *t)
{
	int idle_reads = 0;

	while (!t->quit) {
		struct pollfd p[4];
		int n, timeout;

		if (t->dirty) {
			t->dirty = false;
			draw(t);
		}
		/* A spinner turns while a test runs. */
		timeout = tui_jobs_running(t) ? 100 : -1;
		p[0].fd = 0;
		p[0].events = POLLIN;
		p[1].fd = t->sig_pipe[0];
		p[1].events = POLLIN;
		p[2].fd = t->job_pipe[0];
		p[2].events = POLLIN;
		p[3].fd = t->err_pipe;
		p[3].events = POLLIN;
		for (int i = 0; i < 4; i++)
			p[i].revents = 0;
		n = poll(p, 4, timeout);
		if (n < 0 && errno != EINTR) {
			t->quit = true;
			t->exit_code = EX_OSERR;
			str_printf(t->exit_msg, sizeof t->exit_msg,
			           _("fluenzr-tui: poll: %s"), strerror(errno));
			break;
		}
		if (n == 0 || timeout > 0)
			t->dirty = true;
		if (n > 0 && (p[1].revents & POLLIN)) {
			drain_fd(t->sig_pipe[0]);
			/* SIGINT, SIGTERM, SIGHUP: leave through the one exit path;
			 * nothing unsaved is written. */
			if (got_signal) {
				t->quit = true;
				t->exit_code = 128 + got_signal;
				break;
			}
		}
		if (n > 0 && (p[3].revents & POLLIN))
			drain_stderr(t);
		if (n > 0 && (p[2].revents & POLLIN)) {
			drain_fd(t->job_pipe[0]);
			tui_jobs_drain(t);
		}
		if (n > 0 && (p[0].revents & (POLLHUP | POLLERR | POLLNVAL))) {
			/* The terminal went away (SSH link dropped). */
			t->quit = true;
			t->exit_code = 128 + SIGHUP;
			break;
		}
		/* Also after EINTR: ncurses turns SIGWINCH into KEY_RESIZE. */
		if (read_keys(t) == 0 && n > 0 && (p[0].revents & POLLIN)) {
			/* Readable yet no key, again and again: end of input. */
			if (++idle_reads > 100) {
				t->quit = true;
				t->exit_code = 128 + SIGHUP;
			}
		} else {
			idle_reads = 0;
		}
	}
}

/* ---- setup and the one exit path ---------------------------------------- */

static int
capture_stderr(struct tui *t)
{
	int p[2];

	t->err_pipe = -1;
	t->saved_stderr = -1;
	if (pipe(p) != 0)
		return -1;
	t->saved_stderr = fcntl(2, F_DUPFD_CLOEXEC, 3);
	if (t->saved_stderr < 0 || dup2(p[1], 2) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	set_nonblock(p[0]);
	/* A library that writes a lot must not block a worker. */
	set_nonblock(2);
	t->err_pipe = p[0];
	return 0;
}

static void
restore_stderr(struct tui *t)
{
	if (t->saved_stderr >= 0) {
		drain_stderr(t);
		dup2(t->saved_stderr, 2);
		close(t->saved_stderr);
		t->saved_stderr = -1;
	}
	if (t->err_pipe >= 0) {
		close(t->err_pipe);
		t->err_pipe = -1;
	}
}

static int
install_signals(struct tui *t)
{
	struct sigaction sa;

	if (pipe(t->sig_pipe) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		fcntl(t->sig_pipe[i], F_SETFD, FD_CLOEXEC);
		set_nonblock(t->sig_pipe[i]);
	}
	sig_wfd = t->sig_pipe[1];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: poll() must wake up. Installed before curses starts,
	 * so ncurses leaves these signals to us and keeps only SIGWINCH. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void
restore_signals(struct tui *t)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sig_wfd = -1;
	for (int i = 0; i < 2; i++)
		if (t->sig_pipe[i] >= 0)
			close(t->sig_pipe[i]);
}

static void
start_curses(struct tui *t)
{
	const char *nc = getenv("NO_COLOR");

	set_escdelay(25);
	raw();          /* Ctrl-S, Ctrl-Q, Ctrl-C reach us (no IXON, no ISIG) */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	if (has_colors() && !(nc && *nc)) {
		t->color = true;
		start_color();
		use_default_colors();
		init_pair(CP_TITLE, COLOR_WHITE, COLOR_BLUE);
		init_pair(CP_OK, COLOR_GREEN, -1);
		init_pair(CP_FAIL, COLOR_RED, -1);
		init_pair(CP_WARN, COLOR_YELLOW, -1);
		init_pair(CP_DIM, COLOR_CYAN, -1);
		init_pair(CP_SEL, COLOR_BLACK, COLOR_CYAN);
		init_pair(CP_KEY, COLOR_YELLOW, COLOR_BLUE);
	}
	t->curses_on = true;
}

/* Returns false when a test's worker would not end: the caller must end
 * the process rather than return into code that frees what it uses. */
static bool
cleanup(struct tui *t)
{
	bool joined = tui_jobs_fini(t);

	tui_store_free(t);
	while (t->depth > 0) {
		struct tui_screen *sc = &t->stack[--t->depth];

		if (sc->ops->close)
			sc->ops->close(t, sc->priv);
		free(sc->priv);
	}
	if (t->curses_on) {
		curs_set(1);
		endwin();
		t->curses_on = false;
	}
	restore_stderr(t);
	restore_signals(t);
	if (t->exit_msg[0])
		fprintf(stderr, "%s\n", t->exit_msg);
	/* Libraries' complaints are worth seeing when something failed. */
	if (t->exit_code != 0 && t->exit_code < 128 && t->errlog_len)
		fprintf(stderr, "%s", t->errlog);
	free(t->errlog);
	preset_list_free(&t->preset_list);
	return joined;
}

int
tui_main(struct cli_ctx *c)
{
	static struct tui tui;   /* big (job results): not on the stack */
	struct tui *t = &tui;
	SCREEN *scr;
	char err[APP_ERR_MAX];
	int rc, xrc;

	setlocale(LC_ALL, "");
	if (!isatty(0) || !isatty(1)) {
		fprintf(stderr, _("fluenzr-tui: the console needs a terminal; the "
		        "commands work without one (see --help)\n"));
		return EX_USAGE;
	}
	memset(t, 0, sizeof *t);
	t->c = c;
	t->sig_pipe[0] = t->sig_pipe[1] = -1;
	t->job_pipe[0] = t->job_pipe[1] = -1;
	t->err_pipe = t->saved_stderr = -1;
	t->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;

	rc = cli_open_store(c, true, false);
	if (rc != 0)
		return rc;
	t->st = c->st;
	t->secret_days = app_secret_remind_days();

	/* The commands' rule (app_store_unlock()): a passphrase on
	 * --passphrase-fd must open the store. Without one, STORE_NEEDPASS is
	 * asked in the console, not on the terminal; another failure leaves
	 * the store locked: the list still works, secrets do not. */
	xrc = app_store_unlock(t->st, c->passphrase_fd, &c->passphrase, false,
	                       &rc, err, sizeof err);
	if (xrc != 0 && c->passphrase_fd >= 0) {
		fprintf(stderr, "fluenzr-tui: %s\n", err);
		return xrc;
	}

	if (tui_jobs_init(t) != 0 || install_signals(t) != 0) {
		fprintf(stderr, _("fluenzr-tui: cannot set up the console: %s\n"),
		        strerror(errno));
		return EX_OSERR;
	}
	probe_global_init();
	capture_stderr(t);
	/* Presets' warnings come to preset_warned(), not over the screen. */
	if (preset_load_all(&t->preset_list, preset_warned, t) == 0)
		t->presets = &t->preset_list;
	else
		errlog_add(t, _("fluenzr-tui: cannot load presets\n"));

	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		restore_stderr(t);
		fprintf(stderr, _("fluenzr-tui: cannot use terminal type '%s'\n"),
		        getenv("TERM") ? getenv("TERM") : "(unset)");
		restore_signals(t);
		tui_jobs_fini(t);
		preset_list_free(&t->preset_list);
		return EX_UNAVAILABLE;
	}
	set_term(scr);
	start_curses(t);

	if (rc == STORE_NEEDPASS) {
		tui_reset(t, &tui_scr_unlock, NULL);
		unlock_ask(t);
	} else {
		tui_reset(t, &tui_scr_accounts, NULL);
		if (rc != STORE_OK)
			tui_message(t, true, _("The store is locked (%s): passwords can "
			            "be neither saved nor tested."),
			            err[0] ? err : store_strerror(rc));
		else if (secmem_unlocked())
			tui_message(t, true, "%s.", SECMEM_UNLOCKED_MSG);
		else if (t->preset_skipped)
			presets_note(t);
		if (tui_accounts_load(t) != 0) {
			t->quit = true;
			t->exit_code = EX_SOFTWARE;
			str_copy(t->exit_msg, sizeof t->exit_msg,
			         _("fluenzr-tui: cannot read the account list"));
		}
	}
	t->dirty = true;
	loop(t);
	if (!cleanup(t)) {
		/* A worker is stuck where no cancel reaches (a blocking system
		 * call). The terminal is restored: leave without waiting. */
		fprintf(stderr, _("fluenzr-tui: a test did not stop in time; "
		        "quitting anyway\n"));
		cli_close(c);
		fflush(stdout);
		fflush(stderr);
		_exit(t->exit_code);
	}
	return t->exit_code;
}
