/* The key table (see tui_keys.h) and what is derived from it: lookup for the
 * dispatcher, names for the help overlay and hint bar, roff for the man page. */
#include "config.h"

#include <string.h>

#include "i18n.h"
#include "console.h"
#include "tui_keys.h"
#include "util.h"

const struct tui_keydef tui_keymap[] = {
#define K_(scr, key, name, act, help, hint) \
	{ KS_##scr, (key), (name), ACT_##act, (help), (hint) },
	TUI_KEYMAP(K_)
#undef K_
};
const size_t tui_keymap_len = sizeof tui_keymap / sizeof tui_keymap[0];

static const char *const screen_titles[KS_N] = {
#define S_(id, title) [KS_##id] = title,
	TUI_KEY_SCREENS(S_)
#undef S_
};

enum tui_action
tui_keys_lookup(enum tui_keyscreen s, int key)
{
	for (size_t i = 0; i < tui_keymap_len; i++)
		if (tui_keymap[i].screen == s && tui_keymap[i].key == key)
			return tui_keymap[i].action;
	return ACT_NONE;
}

const char *
tui_keys_screen_title(enum tui_keyscreen s)
{
	return (unsigned)s < KS_N ? screen_titles[s] : "";
}

void
tui_keys_names(enum tui_keyscreen s, enum tui_action a, char *out,
               size_t outlen)
{
	size_t len = 0;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < tui_keymap_len; i++) {
		const struct tui_keydef *k = &tui_keymap[i];
		bool dup = false;

		if (k->screen != s || k->action != a)
			continue;
		/* Several codes may share a name (Enter is \n, \r, KEY_ENTER). */
		for (size_t j = 0; j < i; j++)
			if (tui_keymap[j].screen == s && tui_keymap[j].action == a &&
			    strcmp(tui_keymap[j].name, k->name) == 0)
				dup = true;
		if (dup)
			continue;
		str_printf(out + len, outlen - len, "%s%s", len ? ", " : "",
		           k->name);
		len = strlen(out);
	}
}

void
tui_keys_hints(enum tui_keyscreen s, char *out, size_t outlen)
{
	size_t len = 0;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < tui_keymap_len; i++) {
		const struct tui_keydef *k = &tui_keymap[i];

		if (k->screen != s || !k->hint)
			continue;
		str_printf(out + len, outlen - len, "%s%s %s", len ? "  " : "",
		           k->name, _(k->hint));
		len = strlen(out);
	}
	/* Help is everywhere; it goes last. */
	if (s != KS_HELP)
		str_printf(out + len, outlen - len, "%s? %s", len ? "  " : "",
		           _("help"));
}

/* roff needs a backslash doubled and a leading dot or quote escaped. */
static void
man_text(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '"')
			fputs("\\(dq", f);
		else
			fputc(*s, f);
	}
}

/* mdoc, like the rest of man/fluenzr-tui.1: a tagged list per screen. */
void
tui_keys_print_man(FILE *f)
{
	for (int s = 0; s < KS_N; s++) {
		fputs(".Ss ", f);
		man_text(f, screen_titles[s]);
		fputs("\n.Bl -tag -width Ds\n", f);
		for (size_t i = 0; i < tui_keymap_len; i++) {
			const struct tui_keydef *k = &tui_keymap[i];
			char names[128];

			if ((int)k->screen != s || !k->help)
				continue;
			tui_keys_names((enum tui_keyscreen)s, k->action, names,
			               sizeof names);
			fputs(".It Sy \"", f);
			man_text(f, names);
			fputs("\"\n", f);
			man_text(f, k->help);
			fputc('\n', f);
		}
		fputs(".El\n", f);
	}
}
