/* The store screen: where the store and its key live, the key slots, and the
 * two operations on the key (set/change the passphrase, rotate the data
 * key), plus the product page's security recommendations. Passphrases are
 * typed in no-echo fields and kept in locked memory. */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "i18n.h"
#include "secmem.h"
#include "tui.h"
#include "util.h"

static void
refresh_status(struct tui *t)
{
	t->ss.have_status = store_status(t->st, &t->ss.status) == STORE_OK;
}

void
tui_store_open(struct tui *t)
{
	refresh_status(t);
	tui_push(t, &tui_scr_store, NULL);
}

void
tui_store_free(struct tui *t)
{
	tui_secfree(&t->ss.pass1);
	tui_secfree(&t->ss.oldpass);
}

/* ---- set / change the passphrase ---------------------------------------- */

static void
keyfile_answer(struct tui *t, bool drop, void *ud)
{
	char err[256] = "";
	int rc;

	(void)ud;
	if (!t->ss.pass1)
		return;
	rc = store_set_passphrase(t->st, t->ss.pass1, drop, err, sizeof err);
	tui_secfree(&t->ss.pass1);
	if (rc != STORE_OK)
		tui_message(t, true, _("Passphrase not set: %s"),
		            err[0] ? err : store_strerror(rc));
	else
		tui_message(t, false, _("Passphrase set%s."), drop
		            ? _("; the key file no longer opens the store") : "");
	refresh_status(t);
}

static void
second_answer(struct tui *t, const char *pass, void *ud)
{
	(void)ud;
	if (!pass || !t->ss.pass1) {
		tui_secfree(&t->ss.pass1);
		tui_message(t, false, _("Passphrase unchanged."));
		return;
	}
	if (strcmp(pass, t->ss.pass1) != 0) {
		tui_secfree(&t->ss.pass1);
		tui_message(t, true, _("The two entries differ; passphrase unchanged."));
		return;
	}
	if (t->ss.status.keyfile_slot)
		tui_yesno(t, false, keyfile_answer, NULL,
		          _("Also remove the key-file slot, so that only the passphrase "
		          "opens the store? y/n"));
	else
		keyfile_answer(t, false, NULL);
}

static void
first_answer(struct tui *t, const char *pass, void *ud)
{
	const char *why;

	(void)ud;
	if (!pass) {
		tui_message(t, false, _("Passphrase unchanged."));
		return;
	}
	/* The commands' rule (policy_passphrase()), as a sentence. */
	if ((why = policy_passphrase(pass))) {
		tui_message(t, true, "%c%s.", toupper((unsigned char)why[0]), why + 1);
		return;
	}
	tui_secfree(&t->ss.pass1);
	t->ss.pass1 = tui_secdup(pass);
	if (!t->ss.pass1)
		return;
	tui_ask_secret(t, _("Repeat the new passphrase: "), second_answer, NULL);
}

static void
set_passphrase(struct tui *t)
{
	if (!store_is_unlocked(t->st)) {
		tui_message(t, true, _("The store is locked."));
		return;
	}
	tui_ask_secret(t, _("New passphrase (no echo): "), first_answer, NULL);
}

/* ---- rotate ------------------------------------------------------------- */

static void
do_rotate(struct tui *t, const char *pass)
{
	char err[256] = "";
	int rc = store_rotate(t->st, pass, err, sizeof err);

	if (rc != STORE_OK)
		tui_message(t, true, _("Key not rotated: %s"),
		            err[0] ? err : store_strerror(rc));
	else
		tui_message(t, false, _("New data key: every secret was sealed again."));
	refresh_status(t);
}

static void
rotate_pass_answer(struct tui *t, const char *pass, void *ud)
{
	(void)ud;
	if (!pass) {
		tui_message(t, false, _("Key not rotated."));
		return;
	}
	do_rotate(t, pass);
}

static void
rotate_answer(struct tui *t, bool yes, void *ud)
{
	(void)ud;
	if (!yes) {
		tui_message(t, false, _("Key not rotated."));
		return;
	}
	if (store_has_passphrase(t->st))
		tui_ask_secret(t, _("Store passphrase: "), rotate_pass_answer, NULL);
	else
		do_rotate(t, NULL);
}

static void
rotate(struct tui *t)
{
	if (!store_is_unlocked(t->st)) {
		tui_message(t, true, _("The store is locked."));
		return;
	}
	tui_yesno(t, false, rotate_answer, NULL,
	          _("Make a new data key and seal every password again? y/n"));
}

/* ---- screen ------------------------------------------------------------- */

static void
store_draw(struct tui *t, void *priv)
{
	const struct store_status *s = &t->ss.status;
	char b[1200];
	int y = 2;
	static const char *const advice[] = {
		N_("Use a dedicated app password for each account."),
		N_("Enable login alerts with your provider."),
		N_("Change passwords regularly."),
		N_("Prefer OAuth (Gmail, Outlook) when possible."),
	};

	(void)priv;
	if (!t->ss.have_status) {
		tui_put(t, y, 2, COLS - 4, _("The store's status cannot be read."),
		        false, true);
		return;
	}
	attron(A_BOLD);
	tui_put(t, y++, 2, COLS - 4, _("Status"), false, true);
	attroff(A_BOLD);
	str_printf(b, sizeof b, _("Store       %s"), s->dir);
	tui_put(t, y++, 4, COLS - 6, b, false, true);
	str_printf(b, sizeof b, _("Key file    %s"), s->key_file[0] ? s->key_file : _("(none)"));
	tui_put(t, y++, 4, COLS - 6, b, false, true);
	str_printf(b, sizeof b, _("Key slots   %s%s%s"),
	           s->keyfile_slot ? _("key file") : "",
	           s->keyfile_slot && s->passphrase_slot ? ", " : "",
	           s->passphrase_slot ? _("passphrase") : "");
	tui_put(t, y++, 4, COLS - 6, b, false, true);
	if (s->passphrase_slot) {
		str_printf(b, sizeof b, _("PBKDF2      %u iterations"),
		           s->pbkdf2_iterations);
		tui_put(t, y++, 4, COLS - 6, b, false, true);
	}
	str_printf(b, sizeof b, ngettext("Accounts    %zu (%zu secret, AES-256-GCM)",
	           "Accounts    %zu (%zu secrets, AES-256-GCM)", s->secrets),
	           s->accounts, s->secrets);
	tui_put(t, y++, 4, COLS - 6, b, false, true);
	str_printf(b, sizeof b, _("State       %s, format %d"),
	           store_is_unlocked(t->st) ? _("unlocked") : _("locked"),
	           s->format_version);
	tui_put(t, y++, 4, COLS - 6, b, false, true);

	y++;
	attron(A_BOLD);
	tui_put(t, y++, 2, COLS - 4, _("Actions"), false, true);
	attroff(A_BOLD);
	tui_put(t, y++, 4, COLS - 6, s->passphrase_slot
	        ? _("p  change the passphrase") : _("p  set a passphrase"), false, true);
	tui_put(t, y++, 4, COLS - 6,
	        _("k  rotate the data key (every password is sealed again)"),
	        false, true);

	y++;
	attron(A_BOLD);
	tui_put(t, y++, 2, COLS - 4, _("Security recommendations"), false, true);
	attroff(A_BOLD);
	for (size_t i = 0; i < sizeof advice / sizeof advice[0] && y < LINES - 3; i++) {
		str_printf(b, sizeof b, "%zu. %s", i + 1, _(advice[i]));
		tui_put(t, y++, 4, COLS - 6, b, false, true);
	}
}

static enum tui_result
store_key(struct tui *t, void *priv, int key)
{
	(void)priv;
	if (tui_global_key(t, key))
		return TUI_REDRAW;
	switch (tui_keys_lookup(KS_STORE, key)) {
	case ACT_PASSPHRASE:
		set_passphrase(t);
		break;
	case ACT_ROTATE:
		rotate(t);
		break;
	case ACT_BACK:
		return TUI_POP;
	default:
		break;
	}
	return TUI_REDRAW;
}

const struct screen_ops tui_scr_store = {
	.ks = KS_STORE, .title = N_("Store"), .draw = store_draw, .key = store_key,
};
