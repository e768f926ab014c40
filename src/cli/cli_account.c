/* `fluenzr-tui account`: add, edit, list, show and remove accounts; every
 * field validated at the edge, passwords never from argv. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "i18n.h"
#include "account.h"
#include "app.h"
#include "cli.h"
#include "cli_int.h"
#include "file.h"
#include "json.h"
#include "policy.h"
#include "preset.h"
#include "secmem.h"
#include "store.h"
#include "util.h"


/* ---- account ---------------------------------------------------------- */

enum pw_source { PW_NONE, PW_PROMPT, PW_STDIN, PW_FD, PW_NOPASS };

struct acct_opts {
	struct account a;
	unsigned given;           /* PRESET_GIVEN_* for server fields */
	bool name_given, user_given, imap_user_given, ca_given, pin_given;
	bool allow_plain_given;
	int old_tls;              /* -1 not given, 0 --no-allow-old-tls, 1 --allow-old-tls */
	const char *preset_id;
	enum pw_source pw;
	int pw_fd;
	int imap_pw_fd;           /* -1: none */
	int oauth_secret_fd;      /* -1: none */
	bool sign_in_given, oauth_given;
	bool json;
	bool trust_discovered;    /* a discovered server outside the domain is accepted */
};

static int
set_text(char *dst, size_t len, const char *field, const char *v)
{
	const char *why = valid_text(v, len - 1);

	if (why)
		return cli_bad_field(field, why);
	str_copy(dst, len, v);
	return 0;
}

static int
set_host(char *dst, const char *field, const char *v)
{
	const char *why = *v ? valid_hostname(v) : NULL;

	if (why)
		return cli_bad_field(field, why);
	str_copy(dst, ACCT_HOST_MAX + 1, v);
	return 0;
}

static int
set_port(unsigned *dst, const char *field, const char *v)
{
	const char *why = valid_port(v, dst);

	return why ? cli_bad_field(field, why) : 0;
}

static int
set_security(enum security *dst, const char *field, const char *v)
{
	if (security_parse(v, dst) < 0)
		return cli_bad_field(field, _("must be starttls (or tls), ssl or none"));
	return 0;
}

/* The options of add and edit, each once: its name, whether a value
 * follows it (as the next argument or after '='), and the id the parser
 * dispatches on, so that adding one shifts no other. A flag matches only
 * its exact name. */
#define ACCOUNT_OPTIONS(X) \
	X("--email",            true,  AOPT_EMAIL) \
	X("--name",             true,  AOPT_NAME) \
	X("--preset",           true,  AOPT_PRESET) \
	X("--smtp-host",        true,  AOPT_SMTP_HOST) \
	X("--smtp-port",        true,  AOPT_SMTP_PORT) \
	X("--smtp-security",    true,  AOPT_SMTP_SECURITY) \
	X("--username",         true,  AOPT_USERNAME) \
	X("--password-fd",      true,  AOPT_PASSWORD_FD) \
	X("--imap-host",        true,  AOPT_IMAP_HOST) \
	X("--imap-port",        true,  AOPT_IMAP_PORT) \
	X("--imap-security",    true,  AOPT_IMAP_SECURITY) \
	X("--imap-username",    true,  AOPT_IMAP_USERNAME) \
	X("--ca-file",          true,  AOPT_CA_FILE) \
	X("--pin",              true,  AOPT_PIN) \
	X("--imap-password-fd", true,  AOPT_IMAP_PASSWORD_FD) \
	X("--password-stdin",   false, AOPT_PASSWORD_STDIN) \
	X("--no-password",      false, AOPT_NO_PASSWORD) \
	X("--allow-plain",      false, AOPT_ALLOW_PLAIN) \
	X("--allow-old-tls",    false, AOPT_ALLOW_OLD_TLS) \
	X("--no-allow-old-tls", false, AOPT_NO_ALLOW_OLD_TLS) \
	X("--json",             false, AOPT_JSON) \
	X("--trust-discovered", false, AOPT_TRUST_DISCOVERED) \
	X("--sign-in",          true,  AOPT_SIGN_IN) \
	X("--oauth-client-id",  true,  AOPT_OAUTH_CLIENT_ID) \
	X("--oauth-client-secret-fd", true, AOPT_OAUTH_SECRET_FD) \
	X("--oauth-token-url",  true,  AOPT_OAUTH_TOKEN_URL) \
	X("--oauth-device-url", true,  AOPT_OAUTH_DEVICE_URL) \
	X("--oauth-auth-url",   true,  AOPT_OAUTH_AUTH_URL) \
	X("--oauth-scope",      true,  AOPT_OAUTH_SCOPE)

enum account_opt {
#define X(name, arg, id) id,
	ACCOUNT_OPTIONS(X)
#undef X
};

static const struct account_option {
	const char *name;
	bool arg;
	enum account_opt id;
} account_options[] = {
#define X(name, arg, id) { name, arg, id },
	ACCOUNT_OPTIONS(X)
#undef X
};

/* Finds argv[*i] in account_options: the entry, with its value in *v (and
 * *i past it) when it takes one, or NULL. A value missing is said here and
 * leaves *v NULL. */
static const struct account_option *
account_option_find(int argc, char **argv, int *i, const char **v)
{
	const char *a = argv[*i];
	bool m = false;

	*v = NULL;
	for (size_t k = 0; k < sizeof account_options / sizeof account_options[0];
	     k++) {
		const struct account_option *op = &account_options[k];

		if (op->arg)
			*v = cli_opt_value(argc, argv, i, op->name, &m);
		else
			m = strcmp(a, op->name) == 0;
		if (m)
			return op;
	}
	return NULL;
}

/* Parses the options shared by add and edit into o, which starts empty
 * (smtp_port 0: not given). Returns 0 or an exit code. */
static int
parse_account_opts(struct cli_ctx *c, int argc, char **argv, int first,
                   struct acct_opts *o, const char **positional)
{
	const struct account_option *op;
	int i, rc;

	memset(o, 0, sizeof *o);
	account_init(&o->a);
	o->a.smtp_port = 0;
	o->imap_pw_fd = -1;
	o->oauth_secret_fd = -1;
	o->old_tls = -1;
	for (i = first; i < argc; i++) {
		const char *a = argv[i], *v = NULL;

		rc = cli_global_option(c, argc, argv, &i);
		if (rc < 0)
			return EX_USAGE;
		if (rc > 0)
			continue;
		if (strcmp(a, "--password") == 0 || strncmp(a, "--password=", 11) == 0) {
			fprintf(stderr, _("fluenzr-tui: passwords are never taken from the command line "
			        "(they would show in ps and shell history): use --password-stdin, "
			        "--password-fd N or the prompt\n"));
			return EX_USAGE;
		}
		op = account_option_find(argc, argv, &i, &v);
		if (!op) {
			if (a[0] == '-' || (positional && *positional)) {
				fprintf(stderr, _("fluenzr-tui: unexpected argument '%s'\n"), a);
				return EX_USAGE;
			}
			if (!positional) {
				fprintf(stderr, _("fluenzr-tui: unexpected argument '%s'\n"), a);
				return EX_USAGE;
			}
			*positional = a;
			continue;
		}
		if (op->arg && !v)
			return EX_USAGE;
		rc = 0;
		switch (op->id) {
		case AOPT_PASSWORD_STDIN:
			o->pw = PW_STDIN;
			break;
		case AOPT_NO_PASSWORD:
			o->pw = PW_NOPASS;
			break;
		case AOPT_ALLOW_PLAIN:
			o->a.allow_plain = true;
			o->allow_plain_given = true;
			break;
		case AOPT_ALLOW_OLD_TLS:
		case AOPT_NO_ALLOW_OLD_TLS:
			o->old_tls = op->id == AOPT_ALLOW_OLD_TLS;
			o->a.allow_old_tls = o->old_tls == 1;
			break;
		case AOPT_JSON:
			o->json = true;
			i18n_for_programs();
			break;
		case AOPT_TRUST_DISCOVERED:
			o->trust_discovered = true;
			break;
		case AOPT_EMAIL: {
			const char *why = valid_email(v);
			if (why)
				return cli_bad_field("email", why);
			str_copy(o->a.email, sizeof o->a.email, v);
			break;
		}
		case AOPT_NAME:
			rc = set_text(o->a.display_name, sizeof o->a.display_name, "name", v);
			o->name_given = true;
			break;
		case AOPT_PRESET:
			o->preset_id = v;
			break;
		case AOPT_SMTP_HOST:
			rc = set_host(o->a.smtp_host, "smtp-host", v);
			if (!*v)
				rc = cli_bad_field("smtp-host", _("must not be empty"));
			o->given |= PRESET_GIVEN_SMTP_HOST;
			break;
		case AOPT_SMTP_PORT:
			rc = set_port(&o->a.smtp_port, "smtp-port", v);
			o->given |= PRESET_GIVEN_SMTP_PORT;
			break;
		case AOPT_SMTP_SECURITY:
			rc = set_security(&o->a.smtp_security, "smtp-security", v);
			o->given |= PRESET_GIVEN_SMTP_SEC;
			break;
		case AOPT_USERNAME:
			rc = set_text(o->a.username, sizeof o->a.username, "username", v);
			if (!rc && !*v)
				rc = cli_bad_field("username", _("must not be empty"));
			o->user_given = true;
			break;
		case AOPT_PASSWORD_FD:
			o->pw = PW_FD;
			if (cli_parse_fd("--password-fd", v, &o->pw_fd) < 0)
				return EX_USAGE;
			break;
		case AOPT_IMAP_HOST:
			rc = set_host(o->a.imap_host, "imap-host", v);
			o->given |= PRESET_GIVEN_IMAP_HOST;
			break;
		case AOPT_IMAP_PORT:
			rc = set_port(&o->a.imap_port, "imap-port", v);
			o->given |= PRESET_GIVEN_IMAP_PORT;
			break;
		case AOPT_IMAP_SECURITY:
			rc = set_security(&o->a.imap_security, "imap-security", v);
			o->given |= PRESET_GIVEN_IMAP_SEC;
			break;
		case AOPT_IMAP_USERNAME:
			rc = set_text(o->a.imap_username, sizeof o->a.imap_username,
			              "imap-username", v);
			o->imap_user_given = true;
			break;
		case AOPT_CA_FILE: {
			char real[PATH_MAX];
			const char *why = valid_text(v, ACCT_PATH_MAX);

			o->ca_given = true;
			if (why)
				return cli_bad_field("ca-file", why);
			if (!*v) {
				o->a.ca_file[0] = '\0';
				break;
			}
			if (!realpath(v, real) || access(real, R_OK) < 0) {
				fprintf(stderr, _("fluenzr-tui: invalid ca-file: cannot read %s: %s\n"),
				        v, strerror(errno));
				return EX_NOINPUT;
			}
			/* The same check as at test time, now, so that nothing
			 * unsafe is saved (the test checks it again). */
			{
				char fwhy[FILE_WHY_MAX], sreal[PATH_MAX];
				size_t n;
				char *pem = file_read_checked(real, FILE_CA_MAX, &n, fwhy,
				                              sizeof fwhy);

				if (!pem) {
					str_sanitize(sreal, sizeof sreal, real, strlen(real));
					fprintf(stderr, _("fluenzr-tui: invalid ca-file: %s: %s\n"),
					        sreal, fwhy);
					return EX_NOINPUT;
				}
				free(pem);
			}
			if (str_copy(o->a.ca_file, sizeof o->a.ca_file, real) < 0)
				return cli_bad_field("ca-file", _("path too long"));
			break;
		}
		case AOPT_PIN: {
			const char *why = *v ? valid_pin(v, o->a.pin) : NULL;

			if (!*v)
				o->a.pin[0] = '\0';
			if (why)
				return cli_bad_field("pin", why);
			o->pin_given = true;
			break;
		}
		case AOPT_IMAP_PASSWORD_FD:
			if (cli_parse_fd("--imap-password-fd", v, &o->imap_pw_fd) < 0)
				return EX_USAGE;
			break;
		case AOPT_SIGN_IN:
			if (strcmp(v, "oauth") == 0)
				o->a.oauth = true;
			else if (strcmp(v, "password") == 0)
				o->a.oauth = false;
			else
				return cli_bad_field("sign-in", _("must be password or oauth"));
			o->sign_in_given = true;
			break;
		case AOPT_OAUTH_CLIENT_ID:
			o->oauth_given = true;
			rc = set_text(o->a.oauth_client_id, sizeof o->a.oauth_client_id,
			              "oauth-client-id", v);
			break;
		case AOPT_OAUTH_SECRET_FD:
			if (cli_parse_fd("--oauth-client-secret-fd", v, &o->oauth_secret_fd) < 0)
				return EX_USAGE;
			break;
		case AOPT_OAUTH_TOKEN_URL:
			o->oauth_given = true;
			rc = set_text(o->a.oauth_token_url, sizeof o->a.oauth_token_url,
			              "oauth-token-url", v);
			break;
		case AOPT_OAUTH_DEVICE_URL:
			o->oauth_given = true;
			rc = set_text(o->a.oauth_device_url, sizeof o->a.oauth_device_url,
			              "oauth-device-url", v);
			break;
		case AOPT_OAUTH_AUTH_URL:
			o->oauth_given = true;
			rc = set_text(o->a.oauth_auth_url, sizeof o->a.oauth_auth_url,
			              "oauth-auth-url", v);
			break;
		case AOPT_OAUTH_SCOPE:
			o->oauth_given = true;
			rc = set_text(o->a.oauth_scope, sizeof o->a.oauth_scope,
			              "oauth-scope", v);
			break;
		}
		if (rc)
			return rc;
	}
	return 0;
}

static const struct preset *
pick_preset(struct cli_ctx *c, const char *id, const char *email, int *rc)
{
	const struct preset *p;

	*rc = 0;
	if ((*rc = cli_load_presets(c)))
		return NULL;
	if (id) {
		p = preset_find(&c->presets, id);
		if (!p) {
			fprintf(stderr, _("fluenzr-tui: invalid preset: no preset '%s' "
			        "(see 'fluenzr-tui presets')\n"), id);
			*rc = EX_DATAERR;
		}
		return p;
	}
	return preset_match(&c->presets, email);
}

/* Reads the passwords the options ask for into secmem buffers. */
static int
read_passwords(const struct acct_opts *o, const char *email, char **pw, char **ipw)
{
	char prompt[ACCT_EMAIL_MAX + 32];
	const char *why;

	*pw = *ipw = NULL;
	if (o->pw == PW_NONE || o->pw == PW_NOPASS) {
		if (o->imap_pw_fd < 0)
			return 0;
	}
	if (o->pw != PW_NONE && o->pw != PW_NOPASS) {
		*pw = secmem_alloc(ACCT_SECRET_MAX + 2);
		if (!*pw)
			return EX_OSERR;
		str_printf(prompt, sizeof prompt, _("Password for %s: "), email);
		if (read_secret(o->pw == PW_STDIN ? STDIN_FILENO :
		                o->pw == PW_FD ? o->pw_fd : -1,
		                prompt, *pw, ACCT_SECRET_MAX + 2) < 0) {
			fprintf(stderr, _("fluenzr-tui: cannot read the password: %s\n"),
			        cli_secret_error(errno, _("longer than 1024 bytes")));
			return EX_NOINPUT;
		}
		if ((why = valid_secret(*pw)))
			return cli_bad_field("password", why);
	}
	if (o->imap_pw_fd >= 0) {
		*ipw = secmem_alloc(ACCT_SECRET_MAX + 2);
		if (!*ipw)
			return EX_OSERR;
		if (read_secret(o->imap_pw_fd, NULL, *ipw, ACCT_SECRET_MAX + 2) < 0) {
			fprintf(stderr, _("fluenzr-tui: cannot read the IMAP password: %s\n"),
			        cli_secret_error(errno, _("longer than 1024 bytes")));
			return EX_NOINPUT;
		}
		if ((why = valid_secret(*ipw)))
			return cli_bad_field("imap-password", why);
	}
	return 0;
}

static void
free_passwords(char *pw, char *ipw)
{
	secmem_free(pw, ACCT_SECRET_MAX + 2);
	secmem_free(ipw, ACCT_SECRET_MAX + 2);
}

static void
fill_defaults(struct account *a, unsigned given)
{
	if (!(given & PRESET_GIVEN_SMTP_PORT) && a->smtp_port == 0)
		a->smtp_port = security_default_port(a->smtp_security, false);
	if (a->imap_host[0] && a->imap_port == 0)
		a->imap_port = security_default_port(a->imap_security, true);
}

static int
finish_account(struct acct_opts *o)
{
	struct acct_error e;

	if (o->a.smtp_security == SEC_NONE || (o->a.imap_host[0] && o->a.imap_security == SEC_NONE)) {
		if (!o->a.allow_plain) {
			return cli_bad_field(o->a.smtp_security == SEC_NONE ? "smtp-security" : "imap-security",
			                 _("'none' sends the password across the network in clear; "
			                 "add --allow-plain if you really mean it"));
		}
		fprintf(stderr, _("fluenzr-tui: warning: encryption 'none': the password will "
		        "cross the network in clear\n"));
	}
	if (o->a.allow_old_tls)
		fprintf(stderr, _("fluenzr-tui: warning: --allow-old-tls: TLS 1.0 and 1.1 "
		        "are broken (RFC 8996); the password may be read on the way\n"));
	if (account_validate(&o->a, &e) < 0)
		return cli_bad_field(e.field, e.msg);
	return 0;
}

int
cli_account_load(struct cli_ctx *c, const char *email, struct account *a)
{
	int e = store_account_get(c->st, email, a);

	if (e == STORE_ENOENT) {
		fprintf(stderr, _("fluenzr-tui: no account %s\n"), email);
		return EX_NOINPUT;
	}
	return e == STORE_OK ? 0 : cli_store_fail(e, NULL);
}

/* No server and no preset: the discovery engine, as `discover` runs it.
 * The best candidate is taken; one outside the address's domain found
 * through DNS or HTTP only with --trust-discovered. */
static int
discover_server(struct cli_ctx *c, struct acct_opts *o)
{
	struct disc_options d = { .email = o->a.email, .cancel_fd = -1,
	                          .timeout_ms = DISC_DEFAULT_TIMEOUT_MS,
	                          .presets = &c->presets,
	                          .ca_file = o->a.ca_file[0] ? o->a.ca_file : NULL };
	struct disc_result *r = calloc(1, sizeof *r);
	char warn[600];
	int rc = 0;

	if (!r)
		return EX_OSERR;
	fprintf(stderr, _("fluenzr-tui: no server given: looking up the settings of %s...\n"),
	        o->a.email);
	discover_run(&d, r);
	if (r->n == 0) {
		fprintf(stderr, _("fluenzr-tui: invalid smtp-host: none given, and none found "
		        "for %s (give --smtp-host or --preset; see 'fluenzr-tui discover')\n"),
		        o->a.email);
		rc = EX_DATAERR;
	} else {
		const struct disc_candidate *best = &r->c[0];
		fprintf(stderr, _("fluenzr-tui: found: %s (smtp %s %u %s)\n"), best->why,
		        best->smtp.host, best->smtp.port, security_name(best->smtp.security));
		if (app_discover_warning(best, o->a.email, warn, sizeof warn)) {
			fprintf(stderr, _("fluenzr-tui: warning: %s\n"), warn);
			if (!o->trust_discovered) {
				fprintf(stderr, _("fluenzr-tui: nothing saved: add --trust-discovered "
				        "to accept it, or give --smtp-host\n"));
				rc = EX_DATAERR;
			}
		}
		if (!rc)
			app_discover_apply(best, &o->a, o->given);
	}
	free(r);
	return rc;
}

/* What `account add` makes of its options argv[first..]: parsed, the
 * preset applied (or, with discover, the settings looked up when no
 * server and no preset is given), the defaults filled and the whole
 * checked. 0 or an exit status, the reason printed. */
static int
account_from_args(struct cli_ctx *c, int argc, char **argv, int first,
                  struct acct_opts *o, bool discover)
{
	const struct preset *p;
	int rc;

	if ((rc = parse_account_opts(c, argc, argv, first, o, NULL)))
		return rc;
	if (!o->a.email[0]) {
		fprintf(stderr, _("fluenzr-tui: account add needs --email\n"));
		return EX_USAGE;
	}
	if (o->preset_id || !(o->given & PRESET_GIVEN_SMTP_HOST)) {
		p = pick_preset(c, o->preset_id, o->a.email, &rc);
		if (rc)
			return rc;
		if (p)
			preset_apply(p, &o->a, o->given);
	}
	if (!o->a.smtp_host[0] && discover && (rc = discover_server(c, o)))
		return rc;
	if (!o->a.smtp_host[0])
		return cli_bad_field("smtp-host", _("none given and no preset serves the "
		                     "domain of the address (give --smtp-host or --preset)"));
	if (!o->user_given && !o->a.username[0])
		str_copy(o->a.username, sizeof o->a.username, o->a.email);
	fill_defaults(&o->a, o->given);
	return finish_account(o);
}

int
cli_account_build(struct cli_ctx *c, int argc, char **argv, struct account *out)
{
	struct acct_opts o;
	int rc = account_from_args(c, argc, argv, 0, &o, false);

	if (rc == 0)
		*out = o.a;
	return rc;
}

static int
account_add(struct cli_ctx *c, int argc, char **argv)
{
	struct acct_opts o;
	char err[512] = "";
	char *pw = NULL, *ipw = NULL, *csecret = NULL;
	int rc, e;

	if ((rc = account_from_args(c, argc, argv, 2, &o, true)))
		return rc;
	/* An OAuth account has no password: it is signed in by 'account
	 * authorize' afterwards. */
	if (o.a.oauth && o.pw == PW_NONE)
		o.pw = PW_NOPASS;
	if (o.pw == PW_NONE) {
		if (!isatty(STDIN_FILENO)) {
			fprintf(stderr, _("fluenzr-tui: no password: give --password-stdin, "
			        "--password-fd N or --no-password\n"));
			return EX_USAGE;
		}
		o.pw = PW_PROMPT;
	}
	if ((rc = read_passwords(&o, o.a.email, &pw, &ipw)))
		goto out;
	if (o.oauth_secret_fd >= 0 &&
	    (rc = cli_read_oauth_secret(o.oauth_secret_fd, &csecret)))
		goto out;
	/* Every change needs the key: the record is authenticated with it. */
	if ((rc = cli_open_store(c, true, true)))
		goto out;
	e = store_account_add(c->st, &o.a, pw, ipw, err, sizeof err);
	if (e == STORE_OK && csecret && csecret[0])
		e = store_secret_set(c->st, o.a.email, SECRET_OAUTH_CLIENT, csecret,
		                     err, sizeof err);
	if (e != STORE_OK) {
		if (e == STORE_EXISTS && !err[0])
			str_printf(err, sizeof err, _("account %s exists already (use 'account edit')"),
			           o.a.email);
		rc = cli_store_fail(e, err);
		goto out;
	}
	printf(_("added %s (%s:%u %s)\n"), o.a.email, o.a.smtp_host, o.a.smtp_port,
	       security_name(o.a.smtp_security));
	if (o.a.oauth)
		printf(_("sign in with: fluenzr-tui account authorize %s\n"), o.a.email);
out:
	free_passwords(pw, ipw);
	secmem_free(csecret, STORE_SECRET_MAX + 2);
	return rc;
}

/* A new encryption on edit: a default port follows it unless a port was
 * given too. */
static void
edit_security(enum security *sec, unsigned *port, enum security new_sec,
              bool port_given, bool imap)
{
	if (!port_given && *port == security_default_port(*sec, imap))
		*port = security_default_port(new_sec, imap);
	*sec = new_sec;
}

/* The edit starts from the record read before the store was unlocked:
 * it must be the one that verifies now, or the fields not given would
 * come from unauthenticated data. */
static int
same_as_stored(struct cli_ctx *c, const struct account *cur)
{
	char a[8192], b[8192];
	struct account now;
	int e = store_account_get(c->st, cur->email, &now);

	if (e != STORE_OK) {
		fprintf(stderr, _("fluenzr-tui: %s: %s%s\n"), cur->email, store_strerror(e),
		        e == STORE_ECORRUPT ? _(" (the record fails its integrity check: "
		        "remove the account and add it again)") : "");
		return cli_store_exit(e);
	}
	if (account_serialize(cur, a, sizeof a) < 0 ||
	    account_serialize(&now, b, sizeof b) < 0 || strcmp(a, b) != 0) {
		fprintf(stderr, _("fluenzr-tui: %s changed while it was being edited; "
		        "nothing changed, try again\n"), cur->email);
		return EX_TEMPFAIL;
	}
	return 0;
}

/* The sign-in and OAuth settings given on edit: a change to password
 * sign-in drops the OAuth settings; one to OAuth takes what was not given
 * from the account's preset. */
static void
edit_oauth(struct cli_ctx *c, struct account *n, const struct account *given,
           bool sign_in_given)
{
	const struct preset *p;

	if (sign_in_given)
		n->oauth = given->oauth;
	if (n->oauth) {
#define TAKE(f) if (given->f[0]) str_copy(n->f, sizeof n->f, given->f)
		TAKE(oauth_token_url);
		TAKE(oauth_device_url);
		TAKE(oauth_auth_url);
		TAKE(oauth_scope);
		TAKE(oauth_client_id);
#undef TAKE
	}
	p = NULL;
	if (n->oauth && n->preset[0] && cli_load_presets(c) == 0)
		p = preset_find(&c->presets, n->preset);
	app_oauth_settings(n, p);
}

static int
account_edit(struct cli_ctx *c, int argc, char **argv)
{
	struct acct_opts o;
	struct account cur;
	const struct preset *p;
	const char *target = NULL;
	char err[512] = "";
	char *pw = NULL, *ipw = NULL, *csecret = NULL;
	int rc, e;

	if ((rc = parse_account_opts(c, argc, argv, 2, &o, &target)))
		return rc;
	if (!target) {
		fprintf(stderr, _("fluenzr-tui: account edit needs the account's address\n"));
		return EX_USAGE;
	}
	/* Unlocked only after the passwords are read (from one pipe they come
	 * first); the record is read again then, verified. */
	if ((rc = cli_open_store(c, false, false)))
		return rc;
	e = store_account_get(c->st, target, &cur);
	if (e != STORE_OK) {
		str_printf(err, sizeof err, _("no account %s"), target);
		return cli_store_fail(e, e == STORE_ENOENT ? err : NULL);
	}
	/* Start from the stored account; apply what was given. */
	{
		struct account n = cur;

		if (o.a.email[0])
			str_copy(n.email, sizeof n.email, o.a.email);
		if (o.name_given)
			str_copy(n.display_name, sizeof n.display_name, o.a.display_name);
		if (o.preset_id) {
			p = pick_preset(c, o.preset_id, n.email, &rc);
			if (rc)
				return rc;
			/* a preset on edit replaces the server settings not given */
			if (!(o.given & PRESET_GIVEN_SMTP_HOST))
				n.smtp_host[0] = '\0';
			if (!(o.given & PRESET_GIVEN_IMAP_HOST))
				n.imap_host[0] = '\0';
			n.smtp_port = 0;
			n.imap_port = 0;
			preset_apply(p, &n, o.given & ~(unsigned)(PRESET_GIVEN_SMTP_PORT |
			                                          PRESET_GIVEN_IMAP_PORT));
		}
		if (o.given & PRESET_GIVEN_SMTP_HOST)
			str_copy(n.smtp_host, sizeof n.smtp_host, o.a.smtp_host);
		if (o.given & PRESET_GIVEN_SMTP_SEC)
			edit_security(&n.smtp_security, &n.smtp_port, o.a.smtp_security,
			              o.given & PRESET_GIVEN_SMTP_PORT, false);
		if (o.given & PRESET_GIVEN_SMTP_PORT)
			n.smtp_port = o.a.smtp_port;
		if (o.user_given)
			str_copy(n.username, sizeof n.username, o.a.username);
		if (o.given & PRESET_GIVEN_IMAP_HOST)
			str_copy(n.imap_host, sizeof n.imap_host, o.a.imap_host);
		if (o.given & PRESET_GIVEN_IMAP_SEC)
			edit_security(&n.imap_security, &n.imap_port, o.a.imap_security,
			              o.given & PRESET_GIVEN_IMAP_PORT, true);
		if (o.given & PRESET_GIVEN_IMAP_PORT)
			n.imap_port = o.a.imap_port;
		if (!n.imap_host[0])
			n.imap_port = 0;
		if (o.imap_user_given)
			str_copy(n.imap_username, sizeof n.imap_username, o.a.imap_username);
		if (o.ca_given)
			str_copy(n.ca_file, sizeof n.ca_file, o.a.ca_file);
		if (o.pin_given)
			str_copy(n.pin, sizeof n.pin, o.a.pin);
		if (o.allow_plain_given)
			n.allow_plain = true;
		if (o.old_tls >= 0)
			n.allow_old_tls = o.old_tls == 1;
		if (o.sign_in_given || o.oauth_given)
			edit_oauth(c, &n, &o.a, o.sign_in_given);
		fill_defaults(&n, o.given | PRESET_GIVEN_SMTP_PORT);
		if (n.smtp_port == 0)
			n.smtp_port = security_default_port(n.smtp_security, false);
		o.a = n;
	}
	if ((rc = finish_account(&o)))
		return rc;
	if ((rc = read_passwords(&o, o.a.email, &pw, &ipw)))
		goto out;
	if (o.oauth_secret_fd >= 0 &&
	    (rc = cli_read_oauth_secret(o.oauth_secret_fd, &csecret)))
		goto out;
	if ((rc = cli_open_store(c, false, true)))
		goto out;
	if ((rc = same_as_stored(c, &cur)))
		goto out;
	e = store_account_put(c->st, cur.email, &o.a, pw, ipw, err, sizeof err);
	/* An empty secret read removes it (a public client sends none). */
	if (e == STORE_OK && csecret)
		e = store_secret_set(c->st, o.a.email, SECRET_OAUTH_CLIENT, csecret,
		                     err, sizeof err);
	if (e != STORE_OK) {
		rc = cli_store_fail(e, err);
		goto out;
	}
	printf(_("updated %s\n"), o.a.email);
out:
	free_passwords(pw, ipw);
	secmem_free(csecret, STORE_SECRET_MAX + 2);
	return rc;
}

static void
json_account(struct json *j, const struct account *a,
             const struct app_health_info *h, const struct store_history *hist,
             const struct app_limits *lim)
{
	json_obj_begin(j);
	json_key(j, "email"); json_str(j, a->email);
	json_key(j, "display_name"); json_str(j, a->display_name);
	json_key(j, "smtp");
	cli_json_server(j, a->smtp_host, a->smtp_port, a->smtp_security, a->username);
	json_key(j, "imap");
	if (a->imap_host[0])
		cli_json_server(j, a->imap_host, a->imap_port, a->imap_security,
		            account_imap_user(a));
	else
		json_null(j);
	json_key(j, "has_password"); json_bool(j, a->has_password);
	json_key(j, "has_imap_password"); json_bool(j, a->has_imap_password);
	json_key(j, "sign_in"); json_str(j, a->oauth ? "oauth" : "password");
	if (a->oauth) {
		json_key(j, "oauth");
		json_obj_begin(j);
		json_key(j, "client_id"); json_str(j, a->oauth_client_id);
		json_key(j, "token_url"); json_str(j, a->oauth_token_url);
		json_key(j, "device_url");
		a->oauth_device_url[0] ? json_str(j, a->oauth_device_url) : json_null(j);
		json_key(j, "scope"); json_str(j, a->oauth_scope);
		json_key(j, "has_client_secret"); json_bool(j, a->has_oauth_secret);
		json_key(j, "signed_in"); json_bool(j, a->has_oauth_refresh);
		json_obj_end(j);
	}
	json_key(j, "preset"); a->preset[0] ? json_str(j, a->preset) : json_null(j);
	json_key(j, "ca_file"); a->ca_file[0] ? json_str(j, a->ca_file) : json_null(j);
	json_key(j, "pin"); a->pin[0] ? json_str(j, a->pin) : json_null(j);
	json_key(j, "allow_plain"); json_bool(j, a->allow_plain);
	json_key(j, "allow_old_tls"); json_bool(j, a->allow_old_tls);
	json_key(j, "last_test");
	if (a->last_test_time) {
		json_obj_begin(j);
		json_key(j, "time"); json_int(j, a->last_test_time);
		json_key(j, "result"); json_str(j, a->last_result);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	if (h) {
		json_key(j, "health");
		json_obj_begin(j);
		cli_json_health(j, h, hist);
		json_obj_end(j);
	}
	if (lim && hist) {
		json_key(j, "limits");
		cli_json_limits(j, lim, hist, (int64_t)time(NULL));
	}
	if (hist) {
		/* What the last test message showed (the domain's health). */
		json_key(j, "last_message");
		if (hist->seen_when > 0) {
			json_obj_begin(j);
			json_key(j, "time"); json_int(j, hist->seen_when);
			json_key(j, "dkim_d");
			hist->seen_dkim_d[0] ? json_str(j, hist->seen_dkim_d) : json_null(j);
			json_key(j, "dkim_s");
			hist->seen_dkim_s[0] ? json_str(j, hist->seen_dkim_s) : json_null(j);
			json_key(j, "relay_ip");
			hist->seen_relay_ip[0] ? json_str(j, hist->seen_relay_ip) : json_null(j);
			json_obj_end(j);
		} else {
			json_null(j);
		}
	}
	json_obj_end(j);
}

struct list_ctx {
	struct json j;
	bool json;
	size_t n;
	int bad;
	struct store *st;
	int64_t now;
	int remind_days;
};

/* The health of a listed account; a history that does not parse counts
 * as none. */
static void
list_health(const struct list_ctx *l, const struct account *a,
            struct app_health_info *h)
{
	struct store_history hist;

	(void)store_history_get(l->st, a->email, &hist);
	app_health_of(&hist, l->now, l->remind_days, h);
}

static int
list_one(const struct account *a, void *ud)
{
	struct list_ctx *l = ud;
	struct app_health_info h;
	char ht[256];

	l->n++;
	list_health(l, a, &h);
	if (l->json) {
		json_account(&l->j, a, &h, NULL, NULL);
		return 0;
	}
	app_health_text(&h, ht, sizeof ht);
	cli_pad_to(a->last_test_time ? (strcmp(a->last_result, "ok") == 0 ? _("ok") :
	                            _("FAIL")) : "-", 7);
	printf("%-32s %s:%u %s%s  %s\n", a->email, a->smtp_host, a->smtp_port, security_name(a->smtp_security),
	       a->imap_host[0] ? " +imap" : "", ht);
	return 0;
}

static void
list_bad(const char *key, const char *problem, void *ud)
{
	struct list_ctx *l = ud;

	l->bad++;
	fprintf(stderr, _("fluenzr-tui: account %s: %s\n"), key, problem);
}

static int
account_list(struct cli_ctx *c, int argc, char **argv)
{
	static char buf[1 << 16];
	struct list_ctx l;
	int i, rc, e;

	memset(&l, 0, sizeof l);
	for (i = 2; i < argc; i++) {
		rc = cli_global_option(c, argc, argv, &i);
		if (rc < 0)
			return EX_USAGE;
		if (rc > 0)
			continue;
		if (strcmp(argv[i], "--json") == 0) {
			l.json = true;
			i18n_for_programs();
			continue;
		}
		fprintf(stderr, _("fluenzr-tui: unexpected argument '%s'\n"), argv[i]);
		return EX_USAGE;
	}
	rc = cli_open_store(c, false, false);
	if (rc == EX_NOINPUT && l.json) {
		/* no store yet: an empty list, not an error */
		puts("[]");
		return 0;
	}
	if (rc == EX_NOINPUT) {
		puts(_("No accounts yet: add one with 'fluenzr-tui account add --email ADDRESS'."));
		return 0;
	}
	if (rc)
		return rc;
	setvbuf(stdout, buf, _IOFBF, sizeof buf);
	l.st = c->st;
	l.now = (int64_t)time(NULL);
	l.remind_days = app_secret_remind_days();
	if (l.json) {
		json_init(&l.j, stdout, false);
		json_arr_begin(&l.j);
	}
	e = store_account_foreach(c->st, list_one, list_bad, &l);
	if (l.json) {
		json_arr_end(&l.j);
		json_end(&l.j);
	} else if (l.n == 0 && e == STORE_OK) {
		puts(_("No accounts yet: add one with 'fluenzr-tui account add --email ADDRESS'."));
	}
	fflush(stdout);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (e != STORE_OK)
		return cli_store_fail(e, NULL);
	return l.bad ? EX_DATAERR : 0;
}

static int
one_account_arg(struct cli_ctx *c, int argc, char **argv, const char **target, bool *json)
{
	int i, rc;

	*target = NULL;
	for (i = 2; i < argc; i++) {
		rc = cli_global_option(c, argc, argv, &i);
		if (rc < 0)
			return EX_USAGE;
		if (rc > 0)
			continue;
		if (json && strcmp(argv[i], "--json") == 0) {
			*json = true;
			i18n_for_programs();
			continue;
		}
		if (argv[i][0] == '-' || *target) {
			fprintf(stderr, _("fluenzr-tui: unexpected argument '%s'\n"), argv[i]);
			return EX_USAGE;
		}
		*target = argv[i];
	}
	if (!*target) {
		fprintf(stderr, _("fluenzr-tui: account %s needs the account's address\n"), argv[1]);
		return EX_USAGE;
	}
	return 0;
}

/* "label:" padded to one column, then the value. */
static void show(const char *fmt, const char *label, ...)
	__attribute__((format(printf, 1, 3)));

static void
show(const char *fmt, const char *label, ...)
{
	char l[128];
	va_list ap;

	str_printf(l, sizeof l, _("%s:"), label);
	cli_pad_to(l, 15);
	va_start(ap, label);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int
account_show(struct cli_ctx *c, int argc, char **argv)
{
	struct account a;
	const char *target;
	char when[64] = "", ht[256];
	bool json = false;
	struct json j;
	struct store_history hist;
	struct app_health_info h;
	struct app_limits lim;
	int rc;

	if ((rc = one_account_arg(c, argc, argv, &target, &json)))
		return rc;
	if ((rc = cli_open_store(c, false, false)))
		return rc;
	if ((rc = cli_account_load(c, target, &a)))
		return rc;
	(void)store_history_get(c->st, a.email, &hist);
	app_health_of(&hist, (int64_t)time(NULL), app_secret_remind_days(), &h);
	if (a.preset[0])
		(void)cli_load_presets(c);
	app_limits_of(&a, &hist, c->presets_loaded ? &c->presets : NULL, &lim);
	if (json) {
		json_init(&j, stdout, true);
		json_account(&j, &a, &h, &hist, &lim);
		json_end(&j);
		return 0;
	}
	if (a.last_test_time) {
		time_t t = (time_t)a.last_test_time;
		struct tm tm;

		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", localtime_r(&t, &tm));
	}
	show("%s", _("email"), a.email);
	show("%s", _("display name"), a.display_name);
	show("%s:%u %s", _("smtp"), a.smtp_host, a.smtp_port, security_name(a.smtp_security));
	show("%s", _("username"), a.username);
	if (a.oauth) {
		show("OAuth, %s", _("sign-in"), a.has_oauth_refresh ?
		     _("signed in (tokens encrypted)") :
		     _("not signed in yet (account authorize)"));
		show("%s%s", _("client id"), a.oauth_client_id,
		     a.has_oauth_secret ? _(" (with a secret, encrypted)") : "");
		show("%s", _("token url"), a.oauth_token_url);
		if (a.oauth_device_url[0])
			show("%s", _("device url"), a.oauth_device_url);
		show("%s", _("scopes"), a.oauth_scope);
	} else {
		show("%s", _("password"), a.has_password ? _("set (encrypted)") : _("not set"));
	}
	if (a.imap_host[0]) {
		show("%s:%u %s", _("imap"), a.imap_host, a.imap_port,
		     security_name(a.imap_security));
		show("%s", _("imap username"), account_imap_user(&a));
		show("%s", _("imap password"), a.has_imap_password ? _("set (encrypted)") :
		     _("same as smtp"));
	} else {
		show("%s", _("imap"), _("none"));
	}
	if (a.ca_file[0])
		show("%s", _("ca file"), a.ca_file);
	if (a.pin[0])
		show("%s", _("pinned"), a.pin);
	if (a.allow_old_tls)
		show("%s", _("old tls"), _("allowed (TLS 1.0/1.1, insecure)"));
	show("%s", _("preset"), a.preset[0] ? a.preset : _("none"));
	show("%s%s%s", _("last test"), a.last_test_time ? when : _("never"),
	     a.last_test_time ? ", " : "", a.last_test_time ? a.last_result : "");
	app_health_text(&h, ht, sizeof ht);
	show("%s", _("health"), ht);
	if (h.secret_age_days >= 0) {
		char age[64];

		str_printf(age, sizeof age, ngettext("%d day", "%d days", h.secret_age_days),
		           h.secret_age_days);
		show("%s%s", _("password age"), age, h.secret_old ? _(" (change it)") : "");
	}
	app_limits_text(&lim, &hist, (int64_t)time(NULL), ht, sizeof ht);
	show("%s", _("sending"), ht);
	return 0;
}

static int
account_remove(struct cli_ctx *c, int argc, char **argv)
{
	const char *target;
	int rc, e;

	if ((rc = one_account_arg(c, argc, argv, &target, NULL)))
		return rc;
	if ((rc = cli_open_store(c, false, true)))
		return rc;
	e = store_account_remove(c->st, target);
	if (e == STORE_ENOENT) {
		fprintf(stderr, _("fluenzr-tui: no account %s\n"), target);
		return EX_NOINPUT;
	}
	if (e != STORE_OK)
		return cli_store_fail(e, NULL);
	printf(_("removed %s\n"), target);
	return 0;
}

int
cmd_account(struct cli_ctx *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (strcmp(sub, "add") == 0)
		return account_add(c, argc, argv);
	if (strcmp(sub, "list") == 0)
		return account_list(c, argc, argv);
	if (strcmp(sub, "show") == 0)
		return account_show(c, argc, argv);
	if (strcmp(sub, "edit") == 0)
		return account_edit(c, argc, argv);
	if (strcmp(sub, "remove") == 0 || strcmp(sub, "rm") == 0)
		return account_remove(c, argc, argv);
	if (strcmp(sub, "limits") == 0)
		return cli_account_limits(c, argc, argv);
	if (strcmp(sub, "import") == 0)
		return cli_account_import(c, argc, argv);
	if (strcmp(sub, "export") == 0)
		return cli_account_export(c, argc, argv);
	if (strcmp(sub, "authorize") == 0)
		return cli_account_authorize(c, argc, argv);
	fprintf(stderr, _("fluenzr-tui: account wants add, list, show, edit, remove, limits, "
	        "import, export or authorize\n"));
	return EX_USAGE;
}
