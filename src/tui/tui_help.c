/* The help overlay: every key of the current screen, read from the same
 * table that binds them (tui_keys.h), so it cannot drift from the code. */
#include "config.h"

#include <string.h>

#include "tui.h"
#include "util.h"

struct help_line {
	const char *keys_of;    /* NULL: a heading */
	enum tui_keyscreen s;
	enum tui_action a;
	const char *text;
};

static size_t
help_lines(const struct tui *t, struct help_line *out, size_t max)
{
	enum tui_keyscreen list[3];
	size_t nl = 0, n = 0;
	enum tui_keyscreen top = t->form.picker ? KS_PICKER : tui_top(t)->ks;

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

void
tui_help_draw(struct tui *t)
{
	struct help_line lines[128];
	size_t n = help_lines(t, lines, 128);
	int h = LINES - 4, w = COLS - 8, y0 = 2, x0 = 4;
	int rows = h - 2;

	if (t->help_scroll > (int)n - rows)
		t->help_scroll = (int)n - rows;
	if (t->help_scroll < 0)
		t->help_scroll = 0;
	tui_box(y0, x0, h, w);
	attron(A_BOLD);
	tui_put(t, y0, x0 + 2, w - 4, " Keys ", false, false);
	attroff(A_BOLD);
	for (int r = 0; r < rows && (size_t)(r + t->help_scroll) < n; r++) {
		const struct help_line *l = &lines[r + t->help_scroll];
		int y = y0 + 1 + r;

		if (!l->keys_of) {
			attron(A_BOLD | A_UNDERLINE);
			tui_put(t, y, x0 + 2, w - 4, l->text, false, true);
			attroff(A_BOLD | A_UNDERLINE);
		} else {
			char names[96];

			tui_keys_names(l->s, l->a, names, sizeof names);
			attron(tui_attr(t, CP_WARN) | A_BOLD);
			tui_put(t, y, x0 + 3, 17, names, false, true);
			attroff(tui_attr(t, CP_WARN) | A_BOLD);
			tui_put(t, y, x0 + 21, w - 23, l->text, false, true);
		}
	}
	if ((size_t)(t->help_scroll + rows) < n)
		tui_put(t, y0 + h - 1, x0 + w - 12, 10, " more... ", false, false);
}

void
tui_help_key(struct tui *t, int key)
{
	switch (tui_keys_lookup(KS_HELP, key)) {
	case ACT_BACK:
		t->help = false;
		break;
	case ACT_UP:
		t->help_scroll--;
		break;
	case ACT_DOWN:
		t->help_scroll++;
		break;
	default:
		break;
	}
	t->dirty = true;
}
