/* The console's keys: one table binds every key of every screen to a named
 * action, and the same table produces the help overlay, the hint bar and the
 * man page's KEYS section (tig's REQ_ X-macro). Included by tui*.c only. */
#ifndef FLUENZR_TUI_KEYS_H
#define FLUENZR_TUI_KEYS_H

#include <stdbool.h>
#include <stdio.h>

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>

#include "i18n.h"

/* A key as the console sees it: a character (wchar_t value) or a curses
 * function key marked with TUI_FN so that it cannot collide with a
 * character of the same code. */
#define TUI_FN(k)    ((int)(0x40000000 | (k)))
#define TUI_IS_FN(k) (((k) & 0x40000000) != 0)
#define TUI_CTRL(c)  ((c) & 0x1f)
#define TUI_ESC      27

/* Screens (contexts) that have keys. KS_ALL applies everywhere; KS_FIELD
 * is any text field (form, filter, passphrase, preset picker). */
#define TUI_KEY_SCREENS(S) \
	S(ALL,      N_("Everywhere")) \
	S(ACCOUNTS, N_("Email Accounts")) \
	S(FORM,     N_("Account form")) \
	S(FIELD,    N_("Editing a text field")) \
	S(DIAG,     N_("Live diagnostics")) \
	S(TROUBLE,  N_("Troubleshooting")) \
	S(STORE,    N_("Store")) \
	S(PICKER,   N_("Preset picker")) \
	S(SIGNIN,   N_("OAuth sign-in")) \
	S(DOMAIN,   N_("Domain health")) \
	S(HELP,     "Help")

enum tui_keyscreen {
#define S_(id, title) KS_##id,
	TUI_KEY_SCREENS(S_)
#undef S_
	KS_N
};

/* K(screen, key code, key name, action, help text, hint label or NULL).
 * Several rows may bind the same action; the help overlay joins their key
 * names. The hint label, when set, puts the key in the bottom bar. */
#define TUI_KEYMAP(K) \
	K(ALL,      '?',                   "?",         HELP,        N_("Show the keys of this screen"), N_("help")) \
	K(ALL,      TUI_FN(KEY_F(1)),      "F1",        HELP,        NULL, NULL) \
	K(ALL,      TUI_CTRL('c'),         "Ctrl-C",    QUIT_NOW,    N_("Quit at once; an unsaved form is not written"), NULL) \
	K(ALL,      TUI_CTRL('l'),         "Ctrl-L",    REDRAW,      N_("Redraw the screen"), NULL) \
	\
	K(ACCOUNTS, 'a',                   "a",         ADD,         N_("Add an account (+ SMTP)"), N_("add")) \
	K(ACCOUNTS, '\n',                  "Enter",     EDIT,        N_("Edit the selected account"), NULL) \
	K(ACCOUNTS, '\r',                  "Enter",     EDIT,        NULL, NULL) \
	K(ACCOUNTS, TUI_FN(KEY_ENTER),     "Enter",     EDIT,        NULL, NULL) \
	K(ACCOUNTS, 'e',                   "e",         EDIT,        NULL, N_("edit")) \
	K(ACCOUNTS, 't',                   "t",         TEST,        N_("Test the selected account (sends a test email)"), N_("test")) \
	K(ACCOUNTS, 'T',                   "T",         TEST_ALL,    N_("Test every account shown, several at a time"), N_("test all")) \
	K(ACCOUNTS, 'd',                   "d",         DELETE,      N_("Delete the selected account (asks first)"), N_("del")) \
	K(ACCOUNTS, '/',                   "/",         FILTER,      N_("Filter the list as you type (Enter keeps it)"), N_("filter")) \
	K(ACCOUNTS, TUI_ESC,               "Esc",       CLEAR,       N_("Clear the filter, or stop a running test of all"), NULL) \
	K(ACCOUNTS, 'o',                   "o",         AUTHORIZE,   N_("Sign the selected OAuth account in (device flow)"), NULL) \
	K(ACCOUNTS, 'h',                   "h",         DOMAIN,      N_("Domain health of its domain (SPF, DKIM, DMARC)"), NULL) \
	K(ACCOUNTS, 's',                   "s",         STORE,       N_("Store: key, passphrase, security advice"), N_("store")) \
	K(ACCOUNTS, 'q',                   "q",         QUIT,        N_("Quit"), N_("quit")) \
	K(ACCOUNTS, TUI_FN(KEY_UP),        "Up",        UP,          N_("Previous account"), NULL) \
	K(ACCOUNTS, 'k',                   "k",         UP,          NULL, NULL) \
	K(ACCOUNTS, TUI_FN(KEY_DOWN),      "Down",      DOWN,        N_("Next account"), NULL) \
	K(ACCOUNTS, 'j',                   "j",         DOWN,        NULL, NULL) \
	K(ACCOUNTS, TUI_FN(KEY_PPAGE),     "PgUp",      PGUP,        N_("One page up"), NULL) \
	K(ACCOUNTS, TUI_FN(KEY_NPAGE),     "PgDn",      PGDN,        N_("One page down"), NULL) \
	K(ACCOUNTS, TUI_FN(KEY_HOME),      "Home",      TOP,         N_("First account"), NULL) \
	K(ACCOUNTS, 'g',                   "g",         TOP,         NULL, NULL) \
	K(ACCOUNTS, TUI_FN(KEY_END),       "End",       BOTTOM,      N_("Last account"), NULL) \
	K(ACCOUNTS, 'G',                   "G",         BOTTOM,      NULL, NULL) \
	\
	K(FORM,     '\t',                  "Tab",       NEXT,        N_("Next field"), N_("next")) \
	K(FORM,     TUI_FN(KEY_DOWN),      "Down",      NEXT,        NULL, NULL) \
	K(FORM,     '\n',                  "Enter",     NEXT,        NULL, NULL) \
	K(FORM,     '\r',                  "Enter",     NEXT,        NULL, NULL) \
	K(FORM,     TUI_FN(KEY_ENTER),     "Enter",     NEXT,        NULL, NULL) \
	K(FORM,     TUI_FN(KEY_BTAB),      "Shift-Tab", PREV,        N_("Previous field"), NULL) \
	K(FORM,     TUI_FN(KEY_UP),        "Up",        PREV,        NULL, NULL) \
	K(FORM,     ' ',                   "Space",     CHOICE_NEXT, N_("Next choice (encryption, preset)"), NULL) \
	K(FORM,     TUI_FN(KEY_RIGHT),     "Right",     CHOICE_NEXT, NULL, NULL) \
	K(FORM,     TUI_FN(KEY_LEFT),      "Left",      CHOICE_PREV, N_("Previous choice"), NULL) \
	K(FORM,     TUI_CTRL('p'),         "Ctrl-P",    PRESETS,     N_("Pick a provider preset"), N_("presets")) \
	K(FORM,     TUI_CTRL('r'),         "Ctrl-R",    REVEAL,      N_("Show or hide the passwords"), NULL) \
	K(FORM,     TUI_CTRL('s'),         "Ctrl-S",    SAVE,        N_("Save the account"), N_("save")) \
	K(FORM,     TUI_CTRL('t'),         "Ctrl-T",    TEST_FORM,   N_("Test the values on screen, saved or not"), N_("test")) \
	K(FORM,     TUI_CTRL('o'),         "Ctrl-O",    AUTHORIZE,   N_("Sign a saved OAuth account in (device flow)"), NULL) \
	K(FORM,     TUI_ESC,               "Esc",       BACK,        N_("Back to the list (asks when changed)"), N_("back")) \
	\
	K(FIELD,    TUI_FN(KEY_LEFT),      "Left",      ED_LEFT,     N_("Cursor left"), NULL) \
	K(FIELD,    TUI_FN(KEY_RIGHT),     "Right",     ED_RIGHT,    N_("Cursor right"), NULL) \
	K(FIELD,    TUI_FN(KEY_HOME),      "Home",      ED_HOME,     N_("Start of the field"), NULL) \
	K(FIELD,    TUI_CTRL('a'),         "Ctrl-A",    ED_HOME,     NULL, NULL) \
	K(FIELD,    TUI_FN(KEY_END),       "End",       ED_END,      N_("End of the field"), NULL) \
	K(FIELD,    TUI_CTRL('e'),         "Ctrl-E",    ED_END,      NULL, NULL) \
	K(FIELD,    TUI_FN(KEY_BACKSPACE), "Backspace", ED_BS,       N_("Delete the character before the cursor"), NULL) \
	K(FIELD,    127,                   "Backspace", ED_BS,       NULL, NULL) \
	K(FIELD,    TUI_CTRL('h'),         "Backspace", ED_BS,       NULL, NULL) \
	K(FIELD,    TUI_FN(KEY_DC),        "Delete",    ED_DEL,      N_("Delete the character under the cursor"), NULL) \
	K(FIELD,    TUI_CTRL('d'),         "Ctrl-D",    ED_DEL,      NULL, NULL) \
	K(FIELD,    TUI_CTRL('u'),         "Ctrl-U",    ED_KILL,     N_("Clear the field"), NULL) \
	\
	K(DIAG,     TUI_ESC,               "Esc",       BACK,        N_("Cancel a running test, or go back"), N_("cancel/back")) \
	K(DIAG,     'q',                   "q",         BACK,        NULL, NULL) \
	K(DIAG,     'f',                   "f",         TROUBLE,     N_("Troubleshooting for this result"), N_("fix")) \
	K(DIAG,     'r',                   "r",         RETRY,       N_("Run the test again"), N_("retry")) \
	K(DIAG,     'l',                   "l",         TRANSCRIPT,  N_("Show or hide the protocol transcript"), N_("transcript")) \
	K(DIAG,     TUI_FN(KEY_PPAGE),     "PgUp",      PGUP,        N_("Scroll up a page"), NULL) \
	K(DIAG,     TUI_FN(KEY_NPAGE),     "PgDn",      PGDN,        N_("Scroll down a page"), NULL) \
	K(DIAG,     'k',                   "k",         UP,          N_("Scroll up a line"), NULL) \
	K(DIAG,     TUI_FN(KEY_UP),        "Up",        UP,          NULL, NULL) \
	K(DIAG,     'j',                   "j",         DOWN,        N_("Scroll down a line"), NULL) \
	K(DIAG,     TUI_FN(KEY_DOWN),      "Down",      DOWN,        NULL, NULL) \
	\
	K(TROUBLE,  'a',                   "a",         APPLY_ALT,   N_("Apply the working port/encryption the test found"), N_("apply")) \
	K(TROUBLE,  'p',                   "p",         PIN,         N_("Pin the server's certificate (shows it first)"), N_("pin")) \
	K(TROUBLE,  'e',                   "e",         EDIT,        N_("Edit the account"), N_("edit")) \
	K(TROUBLE,  'r',                   "r",         RETRY,       N_("Run the test again"), N_("retry")) \
	K(TROUBLE,  TUI_ESC,               "Esc",       BACK,        N_("Back to the test"), N_("back")) \
	K(TROUBLE,  'q',                   "q",         BACK,        NULL, NULL) \
	K(TROUBLE,  'k',                   "k",         UP,          N_("Scroll up"), NULL) \
	K(TROUBLE,  TUI_FN(KEY_UP),        "Up",        UP,          NULL, NULL) \
	K(TROUBLE,  'j',                   "j",         DOWN,        N_("Scroll down"), NULL) \
	K(TROUBLE,  TUI_FN(KEY_DOWN),      "Down",      DOWN,        NULL, NULL) \
	\
	K(STORE,    'p',                   "p",         PASSPHRASE,  N_("Set or change the store passphrase"), N_("passphrase")) \
	K(STORE,    'k',                   "k",         ROTATE,      N_("Rotate the data key (re-seals every secret)"), N_("rotate key")) \
	K(STORE,    TUI_ESC,               "Esc",       BACK,        N_("Back to the list"), N_("back")) \
	K(STORE,    'q',                   "q",         BACK,        NULL, NULL) \
	\
	K(PICKER,   TUI_FN(KEY_UP),        "Up",        UP,          N_("Previous preset"), NULL) \
	K(PICKER,   TUI_FN(KEY_DOWN),      "Down",      DOWN,        N_("Next preset"), NULL) \
	K(PICKER,   '\n',                  "Enter",     SELECT,      N_("Use the selected preset"), N_("use")) \
	K(PICKER,   '\r',                  "Enter",     SELECT,      NULL, NULL) \
	K(PICKER,   TUI_FN(KEY_ENTER),     "Enter",     SELECT,      NULL, NULL) \
	K(PICKER,   TUI_ESC,               "Esc",       BACK,        N_("Close without choosing (typing filters)"), N_("cancel")) \
	\
	K(SIGNIN,   'd',                   "d",         FLOW_DEVICE, N_("Sign in with the device flow: a code to enter on any device"), N_("device")) \
	K(SIGNIN,   'l',                   "l",         FLOW_LOOPBACK, N_("Sign in through a browser on your laptop, the redirect back over ssh -L"), N_("loopback")) \
	K(SIGNIN,   'p',                   "p",         FLOW_PASTE,  N_("Sign in through a browser anywhere, then paste the address it ended on"), N_("paste")) \
	K(SIGNIN,   '\n',                  "Enter",     SELECT,      N_("Use the flow marked (the provider's first)"), NULL) \
	K(SIGNIN,   '\r',                  "Enter",     SELECT,      NULL, NULL) \
	K(SIGNIN,   TUI_FN(KEY_ENTER),     "Enter",     SELECT,      NULL, NULL) \
	K(SIGNIN,   TUI_ESC,               "Esc",       BACK,        N_("Cancel a waiting sign-in, or go back"), N_("cancel/back")) \
	K(SIGNIN,   'q',                   "q",         BACK,        NULL, NULL) \
	\
	K(DOMAIN,   TUI_ESC,               "Esc",       BACK,        N_("Cancel a running check, or go back"), N_("cancel/back")) \
	K(DOMAIN,   'q',                   "q",         BACK,        NULL, NULL) \
	K(DOMAIN,   'r',                   "r",         RETRY,       N_("Check the domain again"), N_("retry")) \
	K(DOMAIN,   TUI_FN(KEY_UP),        "Up",        UP,          N_("Previous item (its fix and record below)"), NULL) \
	K(DOMAIN,   'k',                   "k",         UP,          NULL, NULL) \
	K(DOMAIN,   TUI_FN(KEY_DOWN),      "Down",      DOWN,        N_("Next item"), NULL) \
	K(DOMAIN,   'j',                   "j",         DOWN,        NULL, NULL) \
	\
	K(HELP,     TUI_ESC,               "Esc",       BACK,        N_("Close the help"), N_("close")) \
	K(HELP,     'q',                   "q",         BACK,        NULL, NULL) \
	K(HELP,     '?',                   "?",         BACK,        NULL, NULL) \
	K(HELP,     TUI_FN(KEY_UP),        "Up",        UP,          N_("Scroll up"), NULL) \
	K(HELP,     'k',                   "k",         UP,          NULL, NULL) \
	K(HELP,     TUI_FN(KEY_DOWN),      "Down",      DOWN,        N_("Scroll down"), NULL) \
	K(HELP,     'j',                   "j",         DOWN,        NULL, NULL)

enum tui_action {
	ACT_NONE = 0,
	ACT_HELP, ACT_QUIT_NOW, ACT_REDRAW,
	ACT_ADD, ACT_EDIT, ACT_TEST, ACT_TEST_ALL, ACT_DELETE, ACT_FILTER,
	ACT_CLEAR, ACT_STORE, ACT_QUIT, ACT_UP, ACT_DOWN, ACT_PGUP, ACT_PGDN,
	ACT_TOP, ACT_BOTTOM,
	ACT_NEXT, ACT_PREV, ACT_CHOICE_NEXT, ACT_CHOICE_PREV, ACT_PRESETS,
	ACT_REVEAL, ACT_SAVE, ACT_TEST_FORM, ACT_BACK,
	ACT_ED_LEFT, ACT_ED_RIGHT, ACT_ED_HOME, ACT_ED_END, ACT_ED_BS,
	ACT_ED_DEL, ACT_ED_KILL,
	ACT_TROUBLE, ACT_RETRY, ACT_TRANSCRIPT,
	ACT_APPLY_ALT, ACT_PIN,
	ACT_PASSPHRASE, ACT_ROTATE,
	ACT_SELECT, ACT_AUTHORIZE,
	ACT_FLOW_DEVICE, ACT_FLOW_LOOPBACK, ACT_FLOW_PASTE, ACT_DOMAIN,
};

struct tui_keydef {
	enum tui_keyscreen screen;
	int key;
	const char *name;
	enum tui_action action;
	const char *help;       /* NULL: another row of the same action has it */
	const char *hint;
};

extern const struct tui_keydef tui_keymap[];
extern const size_t tui_keymap_len;

/* The action bound to key on screen s (not KS_ALL), or ACT_NONE. */
enum tui_action tui_keys_lookup(enum tui_keyscreen s, int key);
const char *tui_keys_screen_title(enum tui_keyscreen s);
/* All key names bound to the action on the screen, ", "-joined. */
void tui_keys_names(enum tui_keyscreen s, enum tui_action a, char *out,
                    size_t outlen);
/* The "key label" pairs of the hint bar, two spaces apart. */
void tui_keys_hints(enum tui_keyscreen s, char *out, size_t outlen);
/* The man page's KEYS section body, in roff (.SS per screen, .TP per key). */
void tui_keys_print_man(FILE *f);

#endif
