/* The account model and its validation. No I/O here: every other layer (CLI,
 * store, console, probes) trusts a struct account only after
 * account_validate() accepted it. */
#ifndef FLUENZR_ACCOUNT_H
#define FLUENZR_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Field limits, in bytes (RFC 5321 for the address, RFC 1035 for names). */
#define ACCT_EMAIL_MAX   254
#define ACCT_NAME_MAX    256
#define ACCT_HOST_MAX    253
#define ACCT_USER_MAX    256
#define ACCT_PATH_MAX    1024
#define ACCT_PIN_LEN     71          /* "sha256:" + 64 hex */
#define ACCT_PRESET_MAX  63
#define ACCT_RESULT_MAX  31
#define ACCT_SECRET_MAX  1024
#define ACCT_URL_MAX     1024
#define ACCT_SCOPE_MAX   512

enum security {
	SEC_STARTTLS = 0,   /* the page's "TLS", usually port 587 */
	SEC_SSL = 1,        /* implicit TLS, the page's "SSL", usually 465 */
	SEC_NONE = 2,       /* clear text: refused unless allow_plain */
};

struct account {
	char email[ACCT_EMAIL_MAX + 1];
	char display_name[ACCT_NAME_MAX + 1];
	char smtp_host[ACCT_HOST_MAX + 1];
	unsigned smtp_port;
	enum security smtp_security;
	char username[ACCT_USER_MAX + 1];
	char imap_host[ACCT_HOST_MAX + 1];          /* "" = no IMAP */
	unsigned imap_port;
	enum security imap_security;
	char imap_username[ACCT_USER_MAX + 1];      /* "" = same as username */
	char ca_file[ACCT_PATH_MAX + 1];            /* extra trust anchors, PEM */
	char pin[ACCT_PIN_LEN + 1];                 /* "sha256:<64 lowercase hex>" */
	char preset[ACCT_PRESET_MAX + 1];
	bool allow_plain;                           /* user accepted SEC_NONE */
	bool allow_old_tls;                         /* user accepted TLS 1.0/1.1 */
	int64_t last_test_time;                     /* unix seconds; 0 = never */
	char last_result[ACCT_RESULT_MAX + 1];      /* diag category name */
	/* OAuth 2.0 sign-in for SMTP and IMAP instead of the passwords (record
	 * format 2): the authorization server's endpoints, the scopes and the
	 * client ID of the operator's own registration, from the preset or
	 * given. The client secret and the tokens are sealed secrets. */
	bool oauth;
	char oauth_token_url[ACCT_URL_MAX + 1];
	char oauth_device_url[ACCT_URL_MAX + 1];     /* "" = no device flow */
	char oauth_auth_url[ACCT_URL_MAX + 1];       /* "" = no browser flow */
	char oauth_scope[ACCT_SCOPE_MAX + 1];
	char oauth_client_id[ACCT_USER_MAX + 1];
	/* Filled by the store when reading; never serialised by the model. */
	bool has_password;
	bool has_imap_password;
	bool has_oauth_secret;                       /* a client secret */
	bool has_oauth_refresh;                      /* signed in: a refresh token */
};

/* A validation failure: which field, and a sentence for the user. */
struct acct_error {
	const char *field;      /* CLI-facing name: "email", "smtp-port", ... */
	char msg[256];
};

void account_init(struct account *a);

/* Checks every field. Returns 0, or -1 with err filled for the first bad one. */
int account_validate(const struct account *a, struct acct_error *err);

/* The store key of an address: ASCII lower-cased. -1 if it does not fit. */
int account_key(const char *email, char *out, size_t outlen);

const char *account_imap_user(const struct account *a);

/* Record format of the non-secret fields ("key=value\n" lines). serialize
 * returns the length written (excluding NUL) or -1 when buf is too small;
 * parse returns 0 or -1 (unknown version, bad field, failed validation). */
int account_serialize(const struct account *a, char *buf, size_t len);
int account_parse(const char *buf, size_t len, struct account *a);

/* Field validators: NULL when valid, else a static sentence saying why. */
const char *valid_email(const char *s);
const char *valid_hostname(const char *s);
const char *valid_text(const char *s, size_t max);     /* UTF-8, no controls */
const char *valid_port(const char *s, unsigned *out);
const char *valid_pin(const char *s, char out[ACCT_PIN_LEN + 1]);
const char *valid_secret(const char *s);
/* An https:// URL without spaces or controls (http:// too when
 * allow_http, for tests of the caller's own choosing). */
const char *valid_https_url(const char *s);

/* "starttls"/"tls", "ssl", "none" (case-insensitive). 0 or -1. */
int security_parse(const char *s, enum security *out);
const char *security_name(enum security s);     /* security_spell() SPELL_NAME */
unsigned security_default_port(enum security s, bool imap);

#endif
