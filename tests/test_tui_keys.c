/* The console's key table: one binding per key and screen, help text for
 * every action, field-editing keys that never shadow a form command, and a
 * man page section generated from the same rows. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui_keys.h"
#include "unit.h"

int
main(void)
{
	char buf[256];
	char *man = NULL;
	size_t manlen = 0;
	FILE *f;

	for (size_t i = 0; i < tui_keymap_len; i++) {
		const struct tui_keydef *a = &tui_keymap[i];
		bool helped = false, twice = false;

		/* One line per key: one per pair would print thousands. */
		for (size_t j = i + 1; j < tui_keymap_len; j++) {
			const struct tui_keydef *b = &tui_keymap[j];

			if (a->screen == b->screen && a->key == b->key)
				twice = true;
		}
		check(!twice, "key %s bound once on screen %s", a->name,
		      tui_keys_screen_title(a->screen));
		for (size_t j = 0; j < tui_keymap_len; j++)
			if (tui_keymap[j].screen == a->screen &&
			    tui_keymap[j].action == a->action && tui_keymap[j].help)
				helped = true;
		check(helped, "%s on %s has help text", a->name,
		      tui_keys_screen_title(a->screen));
		check(tui_keys_lookup(a->screen, a->key) == a->action,
		      "lookup of %s on %s", a->name,
		      tui_keys_screen_title(a->screen));
		/* A text field takes its keys first: it must not swallow a
		 * form command (Tab, Enter, Esc, Ctrl-S, Ctrl-T, Ctrl-P...). */
		if (a->screen == KS_FORM && !TUI_IS_FN(a->key) && a->key < 0x20)
			check(tui_keys_lookup(KS_FIELD, a->key) == ACT_NONE,
			      "form key %s is not shadowed by a field key", a->name);
	}
	check(tui_keys_lookup(KS_FORM, TUI_CTRL('s')) == ACT_SAVE, "Ctrl-S saves");
	check(tui_keys_lookup(KS_ACCOUNTS, 'x') == ACT_NONE, "unbound key");

	tui_keys_names(KS_ACCOUNTS, ACT_EDIT, buf, sizeof buf);
	check(strcmp(buf, "Enter, e") == 0, "names of edit: '%s'", buf);
	tui_keys_hints(KS_FORM, buf, sizeof buf);
	check(strstr(buf, "Ctrl-S save") != NULL, "form hints: '%s'", buf);
	check(strstr(buf, "? help") != NULL, "form hints end with help: '%s'", buf);

	f = open_memstream(&man, &manlen);
	if (!f)
		return 99;
	tui_keys_print_man(f);
	fclose(f);
	check(strstr(man, ".Ss Email Accounts\n.Bl -tag -width Ds\n") != NULL,
	      "man: screen heading");
	check(strstr(man, ".It Sy \"Ctrl-S\"\nSave the account\n") != NULL,
	      "man: Ctrl-S row");
	check(strstr(man, ".It Sy \"Enter, e\"\nEdit the selected account\n") != NULL,
	      "man: joined key names");
	/* Every helped row appears once. */
	for (size_t i = 0; i < tui_keymap_len; i++) {
		const char *h = tui_keymap[i].help;

		if (h)
			check(strstr(man, h) != NULL,
			      "man has '%s'", h);
	}
	free(man);
	return unit_done();
}
