/* Domain health from the console: the check `fluenzr-tui domain` runs
 * (app_domain_prepare(), domain_check()), of the selected account's
 * domain, on a runner worker; its end comes back through the job pipe.
 * The screen lists each item with its status, and the evidence, the fix
 * and the record to publish of the one under the cursor. Esc cancels. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui.h"
#include "i18n.h"
#include "util.h"

/* Shared with the worker: written by it before the runner hands it back. */
struct tui_domcheck {
	struct app_domain_req req;
	struct dom_result r;
	int cancel[2];
};

/* The screen's own state. */
struct domain_scr {
	char email[ACCT_EMAIL_MAX + 1];
	char domain[254];
	bool running;
	struct dom_result *r;           /* the last result, NULL before */
	int sel;
};

void
tui_domain_free(struct tui_domcheck *d)
{
	if (!d)
		return;
	close(d->cancel[0]);
	close(d->cancel[1]);
	free(d);
}

void
tui_domain_run(struct tui_domcheck *d)
{
	domain_check(&d->req.o, &d->r);
}

/* The check stops within moments; its end is dropped, not shown. */
void
tui_domain_cancel(struct tui *t)
{
	if (!t->domcheck)
		return;
	(void)!write(t->domcheck->cancel[1], "c", 1);
	t->domcheck = NULL;
}

static struct domain_scr *
scr_of(const struct tui *t)
{
	return tui_find(t, &tui_scr_domain);
}

/* Starts the check of sc's account; false with a message when it cannot. */
static bool
start(struct tui *t, struct domain_scr *sc)
{
	struct tui_domcheck *d;
	struct account a;
	const struct preset *p = NULL;
	const char *why;

	tui_domain_cancel(t);
	sc->running = false;
	if (store_account_get(t->st, sc->email, &a) != STORE_OK) {
		tui_message(t, true, _("Cannot read %s from the store."), sc->email);
		return false;
	}
	if (a.preset[0] && t->presets)
		p = preset_find(t->presets, a.preset);
	if (!(d = calloc(1, sizeof *d)) || pipe(d->cancel) != 0) {
		free(d);
		tui_message(t, true, _("Out of memory."));
		return false;
	}
	if ((why = app_domain_prepare(&d->req, a.email, p, NULL, NULL, NULL))) {
		tui_message(t, true, _("%s: the domain %s."), a.email, why);
		tui_domain_free(d);
		return false;
	}
	app_domain_by_mx(&d->req, t->presets);
	/* The selector and the sending host of the last test message, when
	 * there was one; else the preset's selectors, marked advisory. */
	app_domain_seen(&d->req, t->st, a.email);
	d->req.o.cancel_fd = d->cancel[0];
	if (tui_domain_submit(t, d) != 0) {
		tui_message(t, true, _("The check could not start."));
		tui_domain_free(d);
		return false;
	}
	t->domcheck = d;
	str_copy(sc->domain, sizeof sc->domain, d->req.domain);
	sc->running = true;
	tui_message(t, false, "%s", "");
	return true;
}

/* The runner handed the check back (ran: not dropped). */
void
tui_domain_done(struct tui *t, struct tui_domcheck *d, bool ran)
{
	struct domain_scr *sc;

	if (t->domcheck != d)
		return;         /* cancelled, or replaced by a retry */
	t->domcheck = NULL;
	t->dirty = true;
	if (!(sc = scr_of(t)))
		return;
	sc->running = false;
	if (!ran) {
		tui_message(t, true, _("The check did not run."));
		return;
	}
	*sc->r = d->r;
	/* The cursor starts on the first item that needs something done. */
	sc->sel = 0;
	for (size_t i = 0; i < sc->r->n; i++)
		if (sc->r->items[i].status != DOM_PASS) {
			sc->sel = (int)i;
			break;
		}
	switch (app_domain_exit(sc->r)) {
	case 0:
		tui_message(t, false, _("Every item passes."));
		break;
	case APP_DOMAIN_FAILING:
		tui_message(t, true, _("Some items fail: their fixes are below each."));
		break;
	default:
		tui_message(t, false, _("Some items need attention."));
		break;
	}
}

static int
domain_open(struct tui *t, void *priv, const void *arg)
{
	struct domain_scr *sc = priv;

	if (!(sc->r = calloc(1, sizeof *sc->r))) {
		tui_message(t, true, _("Out of memory."));
		return -1;
	}
	str_copy(sc->email, sizeof sc->email, arg);
	if (!start(t, sc)) {
		free(sc->r);
		sc->r = NULL;
		return -1;
	}
	return 0;
}

static void
domain_close(struct tui *t, void *priv)
{
	struct domain_scr *sc = priv;

	if (sc->running)
		tui_domain_cancel(t);
	free(sc->r);
}

static enum tui_result
domain_key(struct tui *t, void *priv, int key)
{
	struct domain_scr *sc = priv;

	if (tui_global_key(t, key))
		return TUI_REDRAW;
	switch (tui_keys_lookup(KS_DOMAIN, key)) {
	case ACT_BACK:
		if (sc->running) {
			tui_domain_cancel(t);
			tui_message(t, false, _("Domain check cancelled."));
		}
		return TUI_POP;
	case ACT_RETRY:
		start(t, sc);
		return TUI_REDRAW;
	case ACT_UP:
		if (sc->sel > 0)
			sc->sel--;
		return TUI_REDRAW;
	case ACT_DOWN:
		if (sc->sel + 1 < (int)sc->r->n)
			sc->sel++;
		return TUI_REDRAW;
	default:
		return TUI_HANDLED;
	}
}


static enum tui_color
status_color(enum dom_status s)
{
	switch (s) {
	case DOM_PASS: return CP_OK;
	case DOM_FAIL: return CP_FAIL;
	case DOM_WARN: return CP_WARN;
	case DOM_UNKNOWN: break;
	}
	return CP_DIM;
}

/* Spaces as wide as lead, in columns: the indent of the lines wrapped
 * under it. */
static const char *
indent_of(const struct tui *t, const char *lead, char *buf, size_t len)
{
	size_t n = (size_t)tui_cols(t, lead);

	if (n >= len)
		n = len - 1;
	memset(buf, ' ', n);
	buf[n] = '\0';
	return buf;
}

static void
domain_draw(struct tui *t, void *priv)
{
	struct domain_scr *sc = priv;
	const struct dom_result *r = sc->r;
	static struct tui_lines L;
	int y = 2, lx = 2, w = COLS - 4, bottom = LINES - 3;
	char line[1024], ind[64];

	str_printf(line, sizeof line, _("Domain health of %s (the domain of %s)"),
	           sc->domain, sc->email);
	tui_put(t, y, lx, w, line, false, true);
	y += 2;
	if (sc->running) {
		str_printf(line, sizeof line, _("Checking MX, SPF, DKIM and DMARC in "
		           "DNS %s (Esc cancels)"), tui_spinner(t));
		attron(tui_attr(t, CP_DIM));
		tui_put(t, y, lx, w, line, false, true);
		attroff(tui_attr(t, CP_DIM));
		return;
	}
	if (r->n == 0)
		return;
	/* The list, scrolled to keep the selection in view; the details of
	 * the selected item get the rest of the screen. */
	int room = (bottom - y) / 2, first = 0;
	if (room < 3)
		room = 3;
	if (sc->sel >= first + room)
		first = sc->sel - room + 1;
	for (int i = first; i < (int)r->n && i < first + room; i++) {
		const struct dom_item *it = &r->items[i];
		char title[300];
		str_printf(title, sizeof title, "%s%s%s%s", it->title,
		           it->subject[0] && strcmp(it->subject, r->domain) ? " [" : "",
		           it->subject[0] && strcmp(it->subject, r->domain) ? it->subject : "",
		           it->subject[0] && strcmp(it->subject, r->domain) ? "]" : "");
		if (it->advisory)
			str_copy(title + strlen(title), sizeof title - strlen(title),
			         _(" (advisory)"));
		bool cur = i == sc->sel;
		if (cur)
			attron(tui_attr(t, CP_SEL));
		tui_put(t, y, lx, w, cur ? "> " : "  ", false, false);
		if (!cur)
			attron(tui_attr(t, status_color(it->status)) | A_BOLD);
		str_printf(line, sizeof line, "%-8s", app_domain_status_word(it->status));
		tui_put(t, y, lx + 2, 8, line, false, false);
		if (!cur)
			attroff(tui_attr(t, status_color(it->status)) | A_BOLD);
		tui_put(t, y, lx + 10, w - 10, title, cur, true);
		if (cur)
			attroff(tui_attr(t, CP_SEL));
		y++;
	}
	y++;
	tui_hline(y++, lx, w);
	const struct dom_item *it = &r->items[sc->sel];
	L.n = 0;
	tui_lines_wrap(t, &L, A_NORMAL, "", "", it->evidence, w);
	if (it->fix[0])
		tui_lines_wrap(t, &L, A_BOLD, _("Fix: "),
		               indent_of(t, _("Fix: "), ind, sizeof ind), it->fix, w);
	if (it->rec_type[0]) {
		str_printf(line, sizeof line, "%s %s \"%s\"", it->rec_name,
		           it->rec_type, it->rec_value);
		tui_lines_wrap(t, &L, tui_attr(t, CP_KEY), _("Publish: "),
		               indent_of(t, _("Publish: "), ind, sizeof ind),
		               line, w);
	}
	for (int i = 0; i < L.n && y < bottom; i++, y++) {
		attron(L.attr[i]);
		tui_put(t, y, lx, w, L.text[i], false, true);
		attroff(L.attr[i]);
	}
}

const struct screen_ops tui_scr_domain = {
	.ks = KS_DOMAIN, .title = N_("Email Accounts > Domain health"),
	.private_size = sizeof(struct domain_scr), .open = domain_open,
	.draw = domain_draw, .key = domain_key, .close = domain_close,
};

void
tui_domain_open(struct tui *t, const char *email)
{
	tui_push(t, &tui_scr_domain, email);
}
