/* The account form ("+ SMTP" / edit), in the product page's order: Email,
 * Display name, SMTP server, Port, Username, Password, Encryption, then the
 * optional IMAP part and the trust settings. Validation uses the same
 * valid_*() rules as the CLI and shows next to each field. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#include "i18n.h"
#include "file.h"
#include "secmem.h"
#include "tui.h"
#include "util.h"

enum ftype { FT_TEXT, FT_SECRET, FT_PORT, FT_CHOICE };

/* The form's state is its screen's own; the nearest open form is the one
 * a test or troubleshooting above it changes. */
static struct tui_form *
form_of(const struct tui *t)
{
	return tui_find(t, &tui_scr_form);
}

static const struct {
	const char *label;
	enum ftype type;
	size_t max;
	const char *acct_field;   /* acct_error.field naming it */
	const char *help;
} fdef[FF_N] = {
	[FF_EMAIL] = { N_("Email"), FT_TEXT, ACCT_EMAIL_MAX, "email",
		N_("Your full email address: the sender of the test email.") },
	[FF_NAME] = { N_("Display name"), FT_TEXT, ACCT_NAME_MAX, "name",
		N_("The name shown as the sender.") },
	[FF_SMTP_HOST] = { N_("SMTP server"), FT_TEXT, ACCT_HOST_MAX, "smtp-host",
		N_("Outgoing server address, like smtp.example.com.") },
	[FF_SMTP_PORT] = { N_("Port"), FT_PORT, 5, "smtp-port",
		N_("Usually 587 (TLS) or 465 (SSL); follows the encryption until typed.") },
	[FF_USER] = { N_("Username"), FT_TEXT, ACCT_USER_MAX, "username",
		N_("Usually your email; follows it until you type here.") },
	[FF_PASS] = { N_("Password"), FT_SECRET, ACCT_SECRET_MAX, "password",
		N_("Your password or an app password. Ctrl-R shows or hides it.") },
	[FF_SMTP_SEC] = { N_("Encryption"), FT_CHOICE, 0, "smtp-security",
		N_("Space/Left/Right: TLS (STARTTLS, 587), SSL (465) or none.") },
	[FF_IMAP_HOST] = { N_("IMAP server"), FT_TEXT, ACCT_HOST_MAX, "imap-host",
		N_("Optional, for reply detection: incoming server, like imap.example.com.") },
	[FF_IMAP_PORT] = { N_("IMAP port"), FT_PORT, 5, "imap-port",
		N_("Usually 993 (SSL).") },
	[FF_IMAP_SEC] = { N_("IMAP encryption"), FT_CHOICE, 0, "imap-security",
		N_("Space/Left/Right: SSL (993), TLS (STARTTLS, 143) or none.") },
	[FF_IMAP_USER] = { N_("IMAP username"), FT_TEXT, ACCT_USER_MAX, "imap-username",
		N_("Empty: the same as the SMTP username.") },
	[FF_IMAP_PASS] = { N_("IMAP password"), FT_SECRET, ACCT_SECRET_MAX, "imap-password",
		N_("Empty: the same as the SMTP password.") },
	[FF_CA] = { N_("CA file"), FT_TEXT, ACCT_PATH_MAX, "ca-file",
		N_("Optional PEM file of extra trusted authorities (a private CA).") },
	[FF_PIN] = { N_("Pinned cert"), FT_TEXT, 128, "pin",
		N_("Optional sha256:<hex> of a certificate to trust as is.") },
	[FF_PRESET] = { N_("Preset"), FT_CHOICE, 0, "preset",
		N_("Ctrl-P or Space picks a provider preset; Left clears it.") },
	[FF_SIGNIN] = { N_("Sign-in"), FT_CHOICE, 0, "sign-in",
		N_("Space/Left/Right: password, or OAuth with the preset's endpoints.") },
	[FF_OAUTH_ID] = { N_("Client ID"), FT_TEXT, ACCT_USER_MAX, "oauth-client-id",
		N_("The client ID of your own app registration (see doc/oauth.md).") },
	[FF_OAUTH_SECRET] = { N_("Client secret"), FT_SECRET, STORE_SECRET_MAX,
		"oauth-client-secret",
		N_("Only if the registration has one; never shown. Ctrl-R shows or hides it.") },
};

static int
field_row(int f)
{
	/* An OAuth account has no passwords: its client takes their rows. */
	if (f == FF_OAUTH_ID)
		f = FF_PASS;
	else if (f == FF_OAUTH_SECRET)
		f = FF_IMAP_PASS;
	else if (f > FF_OAUTH_ID)
		f = FF_OAUTH_ID;
	/* Section headings sit before IMAP and before the trust settings;
	 * the form starts under the title bar, or 24 lines would leave the
	 * preset's notes no room. */
	return 1 + f + (f >= FF_IMAP_HOST) + (f >= FF_CA);
}

/* Whether field i is on the form for the sign-in chosen. */
static bool
shown(const struct tui_form *f, int i)
{
	if (i == FF_PASS || i == FF_IMAP_PASS)
		return !f->oauth;
	if (i == FF_OAUTH_ID || i == FF_OAUTH_SECRET)
		return f->oauth;
	return true;
}

static bool
is_text(int f)
{
	return fdef[f].type != FT_CHOICE;
}

static const struct preset *
cur_preset(struct tui *t)
{
	const struct tui_form *f = form_of(t);

	if (!t->presets || !f || !f->preset[0])
		return NULL;
	return preset_find(t->presets, f->preset);
}

static const char *
sec_choice(enum security s, bool imap)
{
	(void)imap;
	return _(security_spell(s, SPELL_CHOICE));
}

static void
set_port(struct tui_input *in, unsigned port)
{
	char b[16];

	if (port == 0) {
		tui_input_set(in, "");
		return;
	}
	str_printf(b, sizeof b, "%u", port);
	tui_input_set(in, b);
}

/* ---- opening and closing ------------------------------------------------ */

static int
form_alloc(struct tui_form *f)
{
	for (int i = 0; i < FF_N; i++) {
		if (!is_text(i) || f->in[i].buf)
			continue;
		if (tui_input_init(&f->in[i], fdef[i].max,
		                   fdef[i].type == FT_SECRET) != 0)
			return -1;
	}
	return 0;
}

static void
fill_from(struct tui_form *f, const struct account *a)
{
	tui_input_set(&f->in[FF_EMAIL], a->email);
	tui_input_set(&f->in[FF_NAME], a->display_name);
	tui_input_set(&f->in[FF_SMTP_HOST], a->smtp_host);
	set_port(&f->in[FF_SMTP_PORT], a->smtp_port);
	tui_input_set(&f->in[FF_USER], a->username);
	tui_input_set(&f->in[FF_PASS], "");
	tui_input_set(&f->in[FF_IMAP_HOST], a->imap_host);
	set_port(&f->in[FF_IMAP_PORT], a->imap_host[0] ? a->imap_port : 0);
	tui_input_set(&f->in[FF_IMAP_USER], a->imap_username);
	tui_input_set(&f->in[FF_IMAP_PASS], "");
	tui_input_set(&f->in[FF_CA], a->ca_file);
	tui_input_set(&f->in[FF_PIN], a->pin);
	tui_input_set(&f->in[FF_OAUTH_ID], a->oauth_client_id);
	tui_input_set(&f->in[FF_OAUTH_SECRET], "");
	f->oauth = a->oauth;
	f->smtp_sec = a->smtp_security;
	f->imap_sec = a->imap_security;
	f->allow_plain = a->allow_plain;
	str_copy(f->preset, sizeof f->preset, a->preset);
	for (int i = 0; i < FF_N; i++) {
		f->in[i].touched = false;
		f->err[i][0] = '\0';
	}
}

static void
form_free(struct tui_form *f)
{
	/* Wipe the passwords as soon as the form is gone. */
	for (int i = 0; i < FF_N; i++)
		tui_input_free(&f->in[i]);
}

/* arg: the address of the account to edit, or NULL for a new one. */
static int
form_open(struct tui *t, void *priv, const void *arg)
{
	struct tui_form *f = priv;
	const char *email = arg;
	struct account a;

	if (form_alloc(f) != 0) {
		form_free(f);
		tui_message(t, true, _("Out of memory."));
		return -1;
	}
	account_init(&a);
	f->editing = false;
	f->old_email[0] = '\0';
	if (email) {
		if (store_account_get(t->st, email, &a) != STORE_OK) {
			form_free(f);
			tui_message(t, true, _("Cannot read %s from the store."), email);
			return -1;
		}
		f->editing = true;
		str_copy(f->old_email, sizeof f->old_email, a.email);
	}
	f->orig = a;
	fill_from(f, &a);
	f->focus = FF_EMAIL;
	f->reveal = false;
	f->dirty = false;
	/* An existing account's typed values are the user's own. */
	f->port_typed = f->editing && a.smtp_port !=
	                security_default_port(a.smtp_security, false);
	f->imap_port_typed = f->editing && a.imap_host[0] &&
	                     a.imap_port != security_default_port(a.imap_security, true);
	f->user_typed = f->editing && strcmp(a.username, a.email) != 0;
	str_copy(f->last_offer_email, sizeof f->last_offer_email, a.email);
	tui_message(t, false, "%s", "");
	return 0;
}

void
tui_form_open(struct tui *t, const char *email)
{
	tui_push(t, &tui_scr_form, email);
}

bool
tui_form_active(const struct tui *t)
{
	return form_of(t) != NULL;
}

/* The form is on top: closing its screen closes it (form_close). */
static void
leave(struct tui *t)
{
	tui_pop(t);
}

/* ---- collecting and validating ------------------------------------------ */

static void
set_err(struct tui_form *f, int i, const char *why)
{
	if (why)
		str_printf(f->err[i], sizeof f->err[i], "%s %s", _(fdef[i].label), why);
	else
		f->err[i][0] = '\0';
}

static void
check_field(struct tui_form *f, int i)
{
	const char *v = is_text(i) ? f->in[i].buf : "";
	unsigned port;
	char pin[ACCT_PIN_LEN + 1];
	bool imap = f->in[FF_IMAP_HOST].len > 0;

	switch (i) {
	case FF_EMAIL:
		set_err(f, i, v[0] ? valid_email(v) : _("is required"));
		break;
	case FF_NAME:
		set_err(f, i, valid_text(v, ACCT_NAME_MAX));
		break;
	case FF_SMTP_HOST:
		set_err(f, i, v[0] ? valid_hostname(v) : _("is required"));
		break;
	case FF_SMTP_PORT:
		set_err(f, i, valid_port(v, &port));
		break;
	case FF_USER:
		set_err(f, i, v[0] ? valid_text(v, ACCT_USER_MAX) : _("is required"));
		break;
	case FF_PASS:
	case FF_IMAP_PASS:
	case FF_OAUTH_SECRET:
		set_err(f, i, v[0] && shown(f, i) ? valid_secret(v) : NULL);
		break;
	case FF_OAUTH_ID:
		set_err(f, i, !shown(f, i) ? NULL
		        : v[0] ? valid_text(v, ACCT_USER_MAX) : _("is required"));
		break;
	case FF_IMAP_HOST:
		set_err(f, i, v[0] ? valid_hostname(v) : NULL);
		break;
	case FF_IMAP_PORT:
		set_err(f, i, imap ? valid_port(v, &port) : NULL);
		break;
	case FF_IMAP_USER:
		set_err(f, i, valid_text(v, ACCT_USER_MAX));
		break;
	case FF_CA:
		set_err(f, i, valid_text(v, ACCT_PATH_MAX));
		break;
	case FF_PIN:
		set_err(f, i, v[0] ? valid_pin(v, pin) : NULL);
		break;
	default:
		break;
	}
}

/* Builds the account from the fields: 0, or -1 with the first bad field
 * focused and every problem shown. */
static int
collect(struct tui *t, struct account *a)
{
	struct tui_form *f = form_of(t);
	struct acct_error e;
	int first = -1;
	unsigned port = 0;

	for (int i = 0; i < FF_N; i++) {
		check_field(f, i);
		if (f->err[i][0] && first < 0)
			first = i;
	}
	/* The CA file decides who gets the password: the test's own check,
	 * now (a message in the bottom line has room for the fix). */
	if (first < 0 && f->in[FF_CA].buf[0]) {
		char why[FILE_WHY_MAX];
		size_t n;
		char *pem = file_read_checked(f->in[FF_CA].buf, FILE_CA_MAX, &n,
		                              why, sizeof why);

		if (!pem) {
			f->focus = FF_CA;
			str_copy(f->err[FF_CA], sizeof f->err[FF_CA], why);
			tui_message(t, true, _("CA file: %s"), why);
			return -1;
		}
		free(pem);
	}
	if (first >= 0) {
		f->focus = first;
		tui_message(t, true, "%s", f->err[first]);
		return -1;
	}
	*a = f->orig;            /* keeps the last test's outcome */
	str_copy(a->email, sizeof a->email, f->in[FF_EMAIL].buf);
	str_copy(a->display_name, sizeof a->display_name, f->in[FF_NAME].buf);
	str_copy(a->smtp_host, sizeof a->smtp_host, f->in[FF_SMTP_HOST].buf);
	valid_port(f->in[FF_SMTP_PORT].buf, &port);
	a->smtp_port = port;
	a->smtp_security = f->smtp_sec;
	str_copy(a->username, sizeof a->username, f->in[FF_USER].buf);
	str_copy(a->imap_host, sizeof a->imap_host, f->in[FF_IMAP_HOST].buf);
	port = 0;
	if (a->imap_host[0])
		valid_port(f->in[FF_IMAP_PORT].buf, &port);
	a->imap_port = port;
	a->imap_security = f->imap_sec;
	str_copy(a->imap_username, sizeof a->imap_username, f->in[FF_IMAP_USER].buf);
	str_copy(a->ca_file, sizeof a->ca_file, f->in[FF_CA].buf);
	a->pin[0] = '\0';
	if (f->in[FF_PIN].len)
		valid_pin(f->in[FF_PIN].buf, a->pin);
	str_copy(a->preset, sizeof a->preset, f->preset);
	a->allow_plain = f->allow_plain;
	a->oauth = f->oauth;
	str_copy(a->oauth_client_id, sizeof a->oauth_client_id,
	         f->oauth ? f->in[FF_OAUTH_ID].buf : "");
	app_oauth_settings(a, cur_preset(t));
	if (account_validate(a, &e) != 0) {
		for (int i = 0; i < FF_N; i++)
			if (strcmp(fdef[i].acct_field, e.field) == 0) {
				str_copy(f->err[i], sizeof f->err[i], e.msg);
				f->focus = i;
			}
		tui_message(t, true, "%s", e.msg);
		return -1;
	}
	return 0;
}

static const char *
secret_or_null(const struct tui_input *in)
{
	return in->touched && in->len ? in->buf : NULL;
}

/* The passwords of the form, NULL for an OAuth account (and its client
 * secret, NULL for a password one). */
static const char *
form_secret(const struct tui_form *f, int i)
{
	return shown(f, i) ? secret_or_null(&f->in[i]) : NULL;
}

static void
save(struct tui *t)
{
	struct tui_form *f = form_of(t);
	struct account a;
	char err[256] = "";
	int rc;

	if (collect(t, &a) != 0)
		return;
	if ((form_secret(f, FF_PASS) || form_secret(f, FF_IMAP_PASS) ||
	     form_secret(f, FF_OAUTH_SECRET)) && !store_is_unlocked(t->st)) {
		tui_message(t, true, _("The store is locked: the password cannot be "
		            "saved. Restart with the key file or passphrase."));
		return;
	}
	if (f->editing)
		rc = store_account_put(t->st, f->old_email, &a,
		                       form_secret(f, FF_PASS),
		                       form_secret(f, FF_IMAP_PASS),
		                       err, sizeof err);
	else
		rc = store_account_add(t->st, &a, form_secret(f, FF_PASS),
		                       form_secret(f, FF_IMAP_PASS),
		                       err, sizeof err);
	if (rc == STORE_OK && form_secret(f, FF_OAUTH_SECRET))
		rc = store_secret_set(t->st, a.email, SECRET_OAUTH_CLIENT,
		                      form_secret(f, FF_OAUTH_SECRET), err, sizeof err);
	if (rc == STORE_EXISTS) {
		str_printf(f->err[FF_EMAIL], sizeof f->err[FF_EMAIL],
		           _("%s is already in the store"), a.email);
		f->focus = FF_EMAIL;
		tui_message(t, true, _("%s is already in the store: edit it from the "
		            "list instead."), a.email);
		return;
	}
	if (rc != STORE_OK) {
		tui_message(t, true, _("Not saved: %s"), err[0] ? err : store_strerror(rc));
		return;
	}
	if (f->editing && strcasecmp(f->old_email, a.email) != 0)
		tui_accounts_remove(t, f->old_email);
	tui_accounts_upsert(t, &a);
	if (a.oauth && !a.has_oauth_refresh)
		tui_message(t, false, _("Saved %s: press o to sign it in."), a.email);
	else
		tui_message(t, false, _("Saved %s.%s"), a.email,
		            !f->editing && !secret_or_null(&f->in[FF_PASS])
		            ? _(" (no password given)") : "");
	leave(t);
}

static void
test_form(struct tui *t)
{
	struct tui_form *f = form_of(t);
	struct account a;
	char *pw = NULL, *ipw = NULL;

	if (collect(t, &a) != 0)
		return;
	if (a.oauth) {
		/* The token is the stored account's: sign in, then test. */
		if (!f->editing || f->dirty) {
			tui_message(t, true, _("Save the account (Ctrl-S) and sign it in "
			            "first."));
			return;
		}
		if (tui_open_passwords(t, f->old_email, &pw, &ipw) != 0)
			return;
	} else if (f->editing && !f->in[FF_PASS].touched && !f->in[FF_IMAP_PASS].touched) {
		if (tui_open_passwords(t, f->old_email, &pw, &ipw) != 0)
			return;
	} else {
		char *spw = NULL, *sipw = NULL;

		if (f->editing && tui_open_passwords(t, f->old_email, &spw, &sipw) != 0)
			return;
		pw = tui_secdup(f->in[FF_PASS].touched ? secret_or_null(&f->in[FF_PASS]) : spw);
		ipw = tui_secdup(f->in[FF_IMAP_PASS].touched
		                 ? secret_or_null(&f->in[FF_IMAP_PASS]) : sipw);
		tui_secfree(&spw);
		tui_secfree(&sipw);
	}
	/* The outcome is recorded only when the values tested are the stored
	 * ones. */
	tui_diag_start(t, &a, pw, ipw, f->editing && !f->dirty, true);
	tui_secfree(&pw);
	tui_secfree(&ipw);
}

/* ---- presets ------------------------------------------------------------ */

/* The server fields from a, as a preset or a discovered candidate
 * filled it. */
static void
set_servers(struct tui_form *f, const struct account *a)
{
	tui_input_set(&f->in[FF_SMTP_HOST], a->smtp_host);
	set_port(&f->in[FF_SMTP_PORT], a->smtp_port);
	f->smtp_sec = a->smtp_security;
	tui_input_set(&f->in[FF_IMAP_HOST], a->imap_host);
	set_port(&f->in[FF_IMAP_PORT], a->imap_host[0] ? a->imap_port : 0);
	f->imap_sec = a->imap_security;
}

static void
apply_preset(struct tui *t, const struct preset *p)
{
	struct tui_form *f = form_of(t);
	struct account a;

	account_init(&a);
	a.smtp_security = f->smtp_sec;
	a.imap_security = f->imap_sec;
	/* The user chose the preset: its servers replace what is there. */
	preset_apply(p, &a, 0);
	set_servers(f, &a);
	f->allow_plain = f->smtp_sec == SEC_NONE ||
	                 (a.imap_host[0] && f->imap_sec == SEC_NONE);
	str_copy(f->preset, sizeof f->preset, p->id);
	f->port_typed = f->imap_port_typed = false;
	f->err[FF_SMTP_HOST][0] = f->err[FF_SMTP_PORT][0] = '\0';
	f->err[FF_IMAP_HOST][0] = f->err[FF_IMAP_PORT][0] = '\0';
	f->dirty = true;
	tui_message(t, false, _("Preset %s applied."), p->name);
}

static void
offer_answer(struct tui *t, bool yes, void *ud)
{
	const struct preset *p = ud;

	if (yes && form_of(t))
		apply_preset(t, p);
}

/* ---- discovery ---------------------------------------------------------- */

static void
disc_say(struct tui_form *f, enum tui_color color, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
disc_say(struct tui_form *f, enum tui_color color, const char *fmt, ...)
{
	char raw[sizeof f->disc_line];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	/* The words come from DNS answers and documents: no control bytes. */
	str_sanitize(f->disc_line, sizeof f->disc_line, raw, strlen(raw));
	f->disc_color = color;
}

/* No preset serves the domain: the lookup runs on the runner while the
 * user goes on typing; its end comes back through the job pipe. */
static void
start_discovery(struct tui *t, struct tui_form *f)
{
	const char *at = strrchr(f->in[FF_EMAIL].buf, '@');

	if (tui_discover_start(t, f->in[FF_EMAIL].buf) != 0) {
		disc_say(f, CP_WARN, _("The settings could not be looked up: enter "
		         "the server by hand."));
		return;
	}
	f->disc_running = true;
	disc_say(f, CP_DIM, _("Looking up settings for %s... (Esc cancels)"),
	         at ? at + 1 : "");
}

/* Fills the server fields from a candidate, as `account add` does. */
static void
apply_candidate(struct tui *t, struct tui_form *f, const struct disc_candidate *c)
{
	struct account a;

	account_init(&a);
	app_discover_apply(c, &a, 0);
	set_servers(f, &a);
	if (a.username[0] && !f->user_typed)
		tui_input_set(&f->in[FF_USER], a.username);
	if (a.imap_username[0])
		tui_input_set(&f->in[FF_IMAP_USER], a.imap_username);
	str_copy(f->preset, sizeof f->preset, a.preset);
	f->allow_plain = false;
	f->port_typed = f->imap_port_typed = false;
	f->err[FF_SMTP_HOST][0] = f->err[FF_SMTP_PORT][0] = '\0';
	f->err[FF_IMAP_HOST][0] = f->err[FF_IMAP_PORT][0] = '\0';
	f->dirty = true;
	disc_say(f, CP_OK, _("Found: %s."), c->why);
	tui_message(t, false, _("Settings filled in: check them, then test."));
}

static void
disc_answer(struct tui *t, bool yes, void *ud)
{
	struct tui_form *f = form_of(t);

	(void)ud;
	if (!f)
		return;
	if (yes)
		apply_candidate(t, f, &f->disc_wait);
	else
		disc_say(f, CP_WARN, _("Not used: enter the server by hand."));
}

void
tui_form_discovered(struct tui *t, const char *email, const struct disc_result *r)
{
	struct tui_form *f = form_of(t);
	char warn[600];
	const char *at = strrchr(email, '@');

	if (!f || !f->disc_running || strcmp(email, f->in[FF_EMAIL].buf) != 0)
		return;
	f->disc_running = false;
	t->dirty = true;
	if (!r) {
		disc_say(f, CP_WARN, _("The lookup was stopped: enter the server by hand."));
		return;
	}
	if (r->n == 0) {
		disc_say(f, CP_WARN, _("No settings found for %s: enter the server by "
		         "hand."), at ? at + 1 : email);
		return;
	}
	if (f->in[FF_SMTP_HOST].len) {
		disc_say(f, CP_DIM, _("Found %s, but a server is already entered: "
		         "kept."), r->c[0].smtp.host);
		return;
	}
	/* A server outside the domain found through DNS or HTTP is confirmed
	 * before it can be saved or tested with a password. */
	if (app_discover_warning(&r->c[0], email, warn, sizeof warn)) {
		f->disc_wait = r->c[0];
		disc_say(f, CP_WARN, "%s.", warn);
		tui_yesno(t, true, disc_answer, NULL, _("Use %s (%s)? y/n"),
		          r->c[0].smtp.host, r->c[0].why);
		return;
	}
	apply_candidate(t, f, &r->c[0]);
}

/* When Email is left: a matching provider is offered once per address. */
static void
offer_preset(struct tui *t)
{
	struct tui_form *f = form_of(t);
	const struct preset *p;

	if (!t->presets || !f->in[FF_EMAIL].len ||
	    strcmp(f->last_offer_email, f->in[FF_EMAIL].buf) == 0)
		return;
	str_copy(f->last_offer_email, sizeof f->last_offer_email,
	         f->in[FF_EMAIL].buf);
	if (valid_email(f->in[FF_EMAIL].buf))
		return;
	p = preset_match(t->presets, f->in[FF_EMAIL].buf);
	if (!p && !f->editing && !f->in[FF_SMTP_HOST].len && !f->preset[0]) {
		start_discovery(t, f);
		return;
	}
	if (!p || strcmp(p->id, f->preset) == 0)
		return;
	tui_yesno(t, true, offer_answer, (void *)p, _("Use preset %s? y/n"),
	          p->name);
}

static bool
preset_matches(const struct preset *p, const char *q)
{
	size_t n = strlen(q);

	if (n == 0)
		return true;
	for (const char *s = p->name; *s; s++)
		if (strncasecmp(s, q, n) == 0)
			return true;
	for (const char *s = p->id; *s; s++)
		if (strncasecmp(s, q, n) == 0)
			return true;
	for (size_t d = 0; d < p->ndomains; d++)
		for (const char *s = p->domains[d]; *s; s++)
			if (strncasecmp(s, q, n) == 0)
				return true;
	return false;
}

/* The preset picker: a screen over the form, with its own search field
 * and list; choosing applies the preset to the form. */
struct picker {
	struct tui_input filter;
	size_t *vis, nvis, sel, top;
};

static void
picker_refilter(struct tui *t, struct picker *pk)
{
	pk->nvis = 0;
	pk->sel = pk->top = 0;
	for (size_t i = 0; i < t->presets->n; i++)
		if (preset_matches(&t->presets->v[i], pk->filter.buf))
			pk->vis[pk->nvis++] = i;
}

static int
picker_open(struct tui *t, void *priv, const void *arg)
{
	struct tui_form *f = form_of(t);
	struct picker *pk = priv;
	const struct preset *want = cur_preset(t);

	(void)arg;
	if (!t->presets || t->presets->n == 0) {
		tui_message(t, true, _("No presets are installed."));
		return -1;
	}
	pk->vis = calloc(t->presets->n, sizeof *pk->vis);
	if (!pk->vis || tui_input_init(&pk->filter, 64, false) != 0) {
		free(pk->vis);
		return -1;
	}
	picker_refilter(t, pk);
	/* Start on the current preset, or the one the address matches. */
	if (!want && f->in[FF_EMAIL].len)
		want = preset_match(t->presets, f->in[FF_EMAIL].buf);
	for (size_t i = 0; want && i < pk->nvis; i++)
		if (&t->presets->v[pk->vis[i]] == want)
			pk->sel = i;
	return 0;
}

static void
picker_close(struct tui *t, void *priv)
{
	struct picker *pk = priv;

	(void)t;
	tui_input_free(&pk->filter);
	free(pk->vis);
}

static enum tui_result
picker_key(struct tui *t, void *priv, int key)
{
	struct picker *pk = priv;
	bool changed;

	switch (tui_keys_lookup(KS_PICKER, key)) {
	case ACT_UP:
		if (pk->sel > 0)
			pk->sel--;
		return TUI_REDRAW;
	case ACT_DOWN:
		if (pk->sel + 1 < pk->nvis)
			pk->sel++;
		return TUI_REDRAW;
	case ACT_SELECT:
		if (pk->nvis)
			apply_preset(t, &t->presets->v[pk->vis[pk->sel]]);
		return TUI_POP;
	case ACT_BACK:
		return TUI_POP;
	default:
		break;
	}
	if (tui_input_key(&pk->filter, key, &changed)) {
		if (changed)
			picker_refilter(t, pk);
		return TUI_REDRAW;
	}
	tui_global_key(t, key);
	return TUI_REDRAW;
}

static void
picker_draw(struct tui *t, void *priv)
{
	struct picker *pk = priv;
	int h = LINES - 6, w = 60, y0 = 3, x0 = (COLS - 60) / 2;
	int rows = h - 4;

	tui_box(y0, x0, h, w);
	attron(A_BOLD);
	tui_put(t, y0, x0 + 2, w - 4, _(" Presets "), false, false);
	attroff(A_BOLD);
	tui_put(t, y0 + 1, x0 + 2, 8, _("Search:"), false, false);
	tui_draw_input(t, &pk->filter, y0 + 1, x0 + 10, w - 12, true, false);
	if (pk->sel < pk->top)
		pk->top = pk->sel;
	if (pk->sel >= pk->top + (size_t)rows)
		pk->top = pk->sel - (size_t)rows + 1;
	if (pk->nvis == 0)
		tui_put(t, y0 + 3, x0 + 2, w - 4, _("No preset matches."), false, true);
	for (int r = 0; r < rows && pk->top + (size_t)r < pk->nvis; r++) {
		const struct preset *p = &t->presets->v[pk->vis[pk->top + (size_t)r]];
		char line[256];
		bool sel = pk->top + (size_t)r == pk->sel;

		str_printf(line, sizeof line, " %-24s %s:%u", p->name,
		           p->nsmtp ? p->smtp[0].host : "",
		           p->nsmtp ? p->smtp[0].port : 0);
		if (sel)
			attron(tui_attr(t, CP_SEL));
		tui_put(t, y0 + 3 + r, x0 + 1, w - 2, line, true, true);
		if (sel)
			attroff(tui_attr(t, CP_SEL));
	}
}

/* The bottom line keeps the form's hints, as it always did. */
static const struct screen_ops scr_picker = {
	.ks = KS_PICKER, .private_size = sizeof(struct picker), .overlay = true,
	.keep_hints = true, .open = picker_open, .close = picker_close,
	.draw = picker_draw, .key = picker_key,
};

/* ---- keys --------------------------------------------------------------- */

static void
after_change(struct tui *t, int i)
{
	struct tui_form *f = form_of(t);

	f->dirty = true;
	f->err[i][0] = '\0';
	switch (i) {
	case FF_EMAIL:
		if (!f->user_typed)
			tui_input_set(&f->in[FF_USER], f->in[FF_EMAIL].buf);
		break;
	case FF_USER:
		f->user_typed = f->in[FF_USER].len > 0;
		break;
	case FF_SMTP_PORT:
		f->port_typed = f->in[FF_SMTP_PORT].len > 0;
		break;
	case FF_IMAP_PORT:
		f->imap_port_typed = f->in[FF_IMAP_PORT].len > 0;
		break;
	case FF_IMAP_HOST:
		if (!f->imap_port_typed)
			set_port(&f->in[FF_IMAP_PORT], f->in[FF_IMAP_HOST].len
			         ? security_default_port(f->imap_sec, true) : 0);
		break;
	default:
		break;
	}
}

static void
cycle(struct tui *t, int dir)
{
	struct tui_form *f = form_of(t);
	/* TLS/STARTTLS -> SSL -> none, and back. */
	static const enum security order[3] = { SEC_STARTTLS, SEC_SSL, SEC_NONE };
	static const enum security iorder[3] = { SEC_SSL, SEC_STARTTLS, SEC_NONE };
	const enum security *o;
	enum security *s;
	int k = 0;

	if (f->focus == FF_PRESET) {
		if (dir > 0) {
			tui_push(t, &scr_picker, NULL);
		} else if (f->preset[0]) {
			f->preset[0] = '\0';
			f->dirty = true;
		}
		return;
	}
	if (f->focus == FF_SIGNIN) {
		f->oauth = !f->oauth;
		f->dirty = true;
		return;
	}
	if (f->focus == FF_SMTP_SEC) {
		o = order;
		s = &f->smtp_sec;
	} else if (f->focus == FF_IMAP_SEC) {
		o = iorder;
		s = &f->imap_sec;
	} else {
		return;
	}
	for (int i = 0; i < 3; i++)
		if (o[i] == *s)
			k = i;
	*s = o[(k + 3 + dir) % 3];
	f->dirty = true;
	/* Choosing "none" is the user's explicit consent to clear text. */
	f->allow_plain = f->smtp_sec == SEC_NONE || f->imap_sec == SEC_NONE;
	if (f->focus == FF_SMTP_SEC && !f->port_typed)
		set_port(&f->in[FF_SMTP_PORT], security_default_port(f->smtp_sec, false));
	if (f->focus == FF_IMAP_SEC && !f->imap_port_typed && f->in[FF_IMAP_HOST].len)
		set_port(&f->in[FF_IMAP_PORT], security_default_port(f->imap_sec, true));
}

static void
move_focus(struct tui *t, int dir)
{
	struct tui_form *f = form_of(t);
	int old = f->focus;

	do
		f->focus = (f->focus + FF_N + dir) % FF_N;
	while (!shown(f, f->focus));
	/* Passing through an empty field is no mistake yet; saving says
	 * what is required. */
	if (!is_text(old) || f->in[old].len)
		check_field(f, old);
	if (old == FF_EMAIL)
		offer_preset(t);
}

static void
discard_answer(struct tui *t, bool yes, void *ud)
{
	(void)ud;
	if (yes) {
		leave(t);
		tui_message(t, false, _("Changes discarded."));
	}
}

static enum tui_result
form_key(struct tui *t, void *priv, int key)
{
	struct tui_form *f = priv;
	bool changed;

	if (is_text(f->focus)) {
		/* Ports take digits only; anything else is refused quietly. */
		if (fdef[f->focus].type == FT_PORT && !TUI_IS_FN(key) &&
		    key >= 0x20 && key != 0x7f && (key < '0' || key > '9'))
			return TUI_HANDLED;
		if (tui_input_key(&f->in[f->focus], key, &changed)) {
			if (changed)
				after_change(t, f->focus);
			return TUI_REDRAW;
		}
	}
	if (tui_global_key(t, key))
		return TUI_REDRAW;
	switch (tui_keys_lookup(KS_FORM, key)) {
	case ACT_NEXT:
		move_focus(t, 1);
		break;
	case ACT_PREV:
		move_focus(t, -1);
		break;
	case ACT_CHOICE_NEXT:
		cycle(t, 1);
		break;
	case ACT_CHOICE_PREV:
		cycle(t, -1);
		break;
	case ACT_PRESETS:
		tui_push(t, &scr_picker, NULL);
		break;
	case ACT_REVEAL:
		f->reveal = !f->reveal;
		break;
	case ACT_SAVE:
		save(t);
		break;
	case ACT_TEST_FORM:
		test_form(t);
		break;
	case ACT_AUTHORIZE:
		/* The sign-in reads the account from the store. */
		if (!f->editing || f->dirty)
			tui_message(t, true, _("Save the account first (Ctrl-S), then "
			            "sign it in."));
		else
			tui_signin_open(t, f->old_email);
		break;
	case ACT_BACK:
		if (f->disc_running) {
			tui_discover_cancel(t);
			f->disc_running = false;
			disc_say(f, CP_WARN, _("Lookup cancelled: enter the server by hand."));
		} else if (f->dirty)
			tui_yesno(t, false, discard_answer, NULL,
			          _("Leave the form and discard your changes? y/n"));
		else
			leave(t);
		break;
	default:
		break;
	}
	return TUI_REDRAW;
}

void
tui_form_apply_alt(struct tui *t, unsigned port, enum security sec, bool imap)
{
	struct tui_form *f = form_of(t);

	if (!f)
		return;
	if (imap) {
		f->imap_sec = sec;
		set_port(&f->in[FF_IMAP_PORT], port);
		f->imap_port_typed = true;
	} else {
		f->smtp_sec = sec;
		set_port(&f->in[FF_SMTP_PORT], port);
		f->port_typed = true;
	}
	f->allow_plain = f->smtp_sec == SEC_NONE || f->imap_sec == SEC_NONE;
	f->dirty = true;
}

void
tui_form_set_pin(struct tui *t, const char *pin)
{
	struct tui_form *f = form_of(t);

	if (!f)
		return;
	tui_input_set(&f->in[FF_PIN], pin);
	f->dirty = true;
}

/* ---- drawing ------------------------------------------------------------ */

static void
form_draw(struct tui *t, void *priv)
{
	struct tui_form *f = priv;
	const struct preset *p = cur_preset(t);
	/* TRANSLATORS: a field's label has 17 columns (vx - lx - 1). */
	int lx = 2, vx = 20, vw = 36, ex = vx + vw + 2;
	int ny;
	/* Under the picker, no field has the focus. */
	bool picker = tui_find(t, &scr_picker) != NULL;


	attron(A_BOLD | A_UNDERLINE);
	tui_put(t, field_row(FF_IMAP_HOST) - 1, lx, COLS - 4,
	        _("IMAP (optional, for reply detection)"), false, true);
	tui_put(t, field_row(FF_CA) - 1, lx, COLS - 4,
	        _("Trust and preset"), false, true);
	attroff(A_BOLD | A_UNDERLINE);

	for (int i = 0; i < FF_N; i++) {
		int y = field_row(i);
		bool focus = i == f->focus && !picker;

		if (!shown(f, i))
			continue;
		if (focus)
			attron(A_BOLD);
		tui_put(t, y, lx - 2, 2, focus ? ">" : " ", false, false);
		tui_put(t, y, lx, vx - lx - 1, _(fdef[i].label), false, true);
		if (focus)
			attroff(A_BOLD);
		if (is_text(i)) {
			bool secret = fdef[i].type == FT_SECRET;

			if (secret && f->editing && !f->in[i].touched &&
			    (i == FF_PASS ? f->orig.has_password
			     : i == FF_IMAP_PASS ? f->orig.has_imap_password
			     : f->orig.has_oauth_secret)) {
				attron(A_UNDERLINE);
				mvhline(y, vx, ' ', vw);
				attroff(A_UNDERLINE);
				char v[96];
				bool old = false;

				/* The password's age, from the store (never the
				 * password): past the reminder, in the warning colour. */
				str_copy(v, sizeof v, _("(unchanged)"));
				if (i == FF_PASS) {
					struct store_history h;
					struct app_health_info hi;

					(void)store_history_get(t->st, f->old_email, &h);
					app_health_of(&h, (int64_t)time(NULL), t->secret_days, &hi);
					if (hi.secret_age_days >= 0)
						str_printf(v, sizeof v, ngettext("(unchanged) set %d day ago%s",
						           "(unchanged) set %d days ago%s", hi.secret_age_days),
						           hi.secret_age_days,
						           hi.secret_old ? _(": change it") : "");
					old = hi.secret_old;
				}
				attron(old ? tui_attr(t, CP_WARN) : tui_attr(t, CP_DIM));
				tui_put(t, y, vx, vw, v, false, false);
				attroff(old ? tui_attr(t, CP_WARN) : tui_attr(t, CP_DIM));
				if (focus) {
					t->cur_y = y;
					t->cur_x = vx;
				}
			} else {
				tui_draw_input(t, &f->in[i], y, vx, vw, focus,
				               secret && !f->reveal);
			}
		} else {
			char v[160];

			if (i == FF_PRESET)
				str_printf(v, sizeof v, "%s", p ? p->name
				           : f->preset[0] ? f->preset : _("(none)  Ctrl-P to pick"));
			else if (i == FF_SIGNIN)
				str_printf(v, sizeof v, "< %s >", f->oauth ? "OAuth" : _("Password"));
			else
				str_printf(v, sizeof v, "< %s >",
				           sec_choice(i == FF_SMTP_SEC ? f->smtp_sec
				                      : f->imap_sec, i == FF_IMAP_SEC));
			if (focus)
				attron(A_REVERSE);
			tui_put(t, y, vx, vw, v, false, true);
			if (focus)
				attroff(A_REVERSE);
		}
		if (f->err[i][0]) {
			attron(tui_attr(t, CP_FAIL));
			tui_put(t, y, ex, COLS - ex - 1, f->err[i], false, true);
			attroff(tui_attr(t, CP_FAIL));
		}
	}

	/* The preset's notes (app password needed, Bridge must run, ...). */
	ny = field_row(FF_SIGNIN) + 1;
	if (f->disc_line[0] && ny < LINES - 3) {
		attron(tui_attr(t, f->disc_color));
		tui_put(t, ny++, lx, COLS - 4, f->disc_line, false, true);
		attroff(tui_attr(t, f->disc_color));
	}
	/* The sending limits that apply (`account limits` changes them). */
	if (f->editing && ny < LINES - 3) {
		struct store_history h;
		struct app_limits l;
		char m[256], txt[200];

		(void)store_history_get(t->st, f->old_email, &h);
		app_limits_of(&f->orig, &h, t->presets, &l);
		app_limits_text(&l, &h, (int64_t)time(NULL), txt, sizeof txt);
		str_printf(m, sizeof m, _("Sending: %s"), txt);
		attron(tui_attr(t, CP_DIM));
		tui_put(t, ny++, lx, COLS - 4, m, false, true);
		attroff(tui_attr(t, CP_DIM));
	}
	if (p) {
		if (p->app_password && ny < LINES - 3) {
			char m[256];

			str_printf(m, sizeof m, _("%s wants an app password: create one in "
			           "your account's security settings."), p->name);
			attron(tui_attr(t, CP_WARN));
			tui_put(t, ny++, lx, COLS - 4, m, false, true);
			attroff(tui_attr(t, CP_WARN));
		}
		for (size_t n = 0; n < p->nnotes && ny < LINES - 3; n++) {
			attron(tui_attr(t, CP_WARN));
			tui_put(t, ny++, lx, COLS - 4, p->notes[n], false, true);
			attroff(tui_attr(t, CP_WARN));
		}
	}
	if (f->oauth && ny < LINES - 3) {
		char m[256];

		if (p && p->oauth_token_url[0])
			str_printf(m, sizeof m, _("OAuth with %s: save, then o on the list "
			           "(or Ctrl-O here) signs it in."), p->name);
		else if (f->orig.oauth_token_url[0])
			str_copy(m, sizeof m, _("OAuth: save, then o on the list (or "
			         "Ctrl-O here) signs it in."));
		else
			str_copy(m, sizeof m, _("OAuth needs a preset with OAuth endpoints "
			         "(or account add --oauth-token-url)."));
		attron(tui_attr(t, CP_WARN));
		tui_put(t, ny++, lx, COLS - 4, m, false, true);
		attroff(tui_attr(t, CP_WARN));
	}
	if (f->smtp_sec == SEC_NONE && ny < LINES - 3) {
		attron(tui_attr(t, CP_FAIL) | A_BOLD);
		tui_put(t, ny++, lx, COLS - 4, _("Encryption none: your password "
		        "would cross the network readable by anyone on the path."),
		        false, true);
		attroff(tui_attr(t, CP_FAIL) | A_BOLD);
	}
	/* The focused field: its full problem, or what it is for. */
	if (!picker) {
		if (f->err[f->focus][0]) {
			attron(tui_attr(t, CP_FAIL) | A_BOLD);
			tui_put(t, LINES - 3, lx, COLS - 4, f->err[f->focus], false, true);
			attroff(tui_attr(t, CP_FAIL) | A_BOLD);
		} else {
			attron(tui_attr(t, CP_DIM));
			tui_put(t, LINES - 3, lx, COLS - 4, _(fdef[f->focus].help), false, true);
			attroff(tui_attr(t, CP_DIM));
		}
	}
}

static const char *
form_title(struct tui *t, void *priv)
{
	const struct tui_form *f = priv;

	(void)t;
	return f->editing ? _("Email Accounts > Edit account")
	       : _("Email Accounts > + SMTP");
}

static void
form_close(struct tui *t, void *priv)
{
	struct tui_form *f = priv;

	if (f->disc_running)
		tui_discover_cancel(t);
	form_free(priv);
}

const struct screen_ops tui_scr_form = {
	.ks = KS_FORM, .title = N_("Account"), .title_of = form_title,
	.private_size = sizeof(struct tui_form), .open = form_open,
	.draw = form_draw, .key = form_key, .close = form_close,
};
