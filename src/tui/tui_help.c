/* The help overlay: every key of the current screen, read from the same
 * table that binds them (tui_keys.h), so it cannot drift from the code. */
#include "config.h"

#include <string.h>

#include "i18n.h"
#include "tui.h"
#include "util.h"

struct help_line {
	const char *keys_of;    /* NULL: a heading */
	enum tui_keyscreen s;
	enum tui_action a;
	const char *text;
};

/* The overlay's own state: the screen it explains, and how far down. */
struct help {
	enum tui_keyscreen of;
	int scroll;
};

static size_t
help_lines(enum tui_keyscreen top, struct help_line *out, size_t max)
{
	enum tui_keyscreen list[3];
	size_t nl = 0, n = 0;

	if (top != KS_ALL)
		list[nl++] = top;
	if (top == KS_FORM || top == KS_PICKER)
		list[nl++] = KS_FIELD;
	list[nl++] = KS_ALL;
	for (size_t l = 0; l < nl; l++) {
		if (n < max)
			out[n++] = (struct help_line){ NULL, list[l], ACT_NONE,
			                               tui_keys_screen_title(list[l]) };
		for (size_t i = 0; i < tui_keymap_len && n < max; i++) {
			const struct tui_keydef *k = &tui_keymap[i];

			if (k->screen != list[l] || !k->help)
				continue;
			out[n++] = (struct help_line){ "", k->screen, k->action,
			                               k->help };
		}
	}
	return n;
}

static int
help_open(struct tui *t, void *priv, const void *arg)
{
	struct help *h = priv;

	(void)t;
	h->of = *(const enum tui_keyscreen *)arg;
	return 0;
}

static void
help_draw(struct tui *t, void *priv)
{
	struct help *hs = priv;
	struct help_line lines[128];
	size_t n = help_lines(hs->of, lines, 128);
	int h = LINES - 4, w = COLS - 8, y0 = 2, x0 = 4;
	int rows = h - 2;

	if (hs->scroll > (int)n - rows)
		hs->scroll = (int)n - rows;
	if (hs->scroll < 0)
		hs->scroll = 0;
	t->cur_y = -1;          /* no cursor over the box */
	tui_box(y0, x0, h, w);
	attron(A_BOLD);
	tui_put(t, y0, x0 + 2, w - 4, _(" Keys "), false, false);
	attroff(A_BOLD);
	for (int r = 0; r < rows && (size_t)(r + hs->scroll) < n; r++) {
		const struct help_line *l = &lines[r + hs->scroll];
		int y = y0 + 1 + r;

		if (!l->keys_of) {
			attron(A_BOLD | A_UNDERLINE);
			tui_put(t, y, x0 + 2, w - 4, _(l->text), false, true);
			attroff(A_BOLD | A_UNDERLINE);
		} else {
			char names[96];

			tui_keys_names(l->s, l->a, names, sizeof names);
			attron(tui_attr(t, CP_WARN) | A_BOLD);
			tui_put(t, y, x0 + 3, 17, names, false, true);
			attroff(tui_attr(t, CP_WARN) | A_BOLD);
			tui_put(t, y, x0 + 21, w - 23, _(l->text), false, true);
		}
	}
	if ((size_t)(hs->scroll + rows) < n)
		tui_put(t, y0 + h - 1, x0 + w - 12, 10, _(" more... "), false, false);
}

static enum tui_result
help_key(struct tui *t, void *priv, int key)
{
	struct help *hs = priv;

	(void)t;
	switch (tui_keys_lookup(KS_HELP, key)) {
	case ACT_BACK:
		return TUI_POP;
	case ACT_UP:
		hs->scroll--;
		break;
	case ACT_DOWN:
		hs->scroll++;
		break;
	default:
		break;
	}
	return TUI_REDRAW;
}

const struct screen_ops tui_scr_help = {
	.ks = KS_HELP, .private_size = sizeof(struct help), .overlay = true,
	.open = help_open, .draw = help_draw, .key = help_key,
};
