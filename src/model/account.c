/* The account model: validation of every field, the store key, and the
 * record format. No I/O: inet_pton() only parses a string. */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account.h"
#include "i18n.h"
#include "policy.h"
#include "util.h"

void
account_init(struct account *a)
{
	memset(a, 0, sizeof *a);
	a->smtp_port = 587;
	a->smtp_security = SEC_STARTTLS;
	a->imap_port = 0;
	a->imap_security = SEC_SSL;
}

const char *
account_imap_user(const struct account *a)
{
	return a->imap_username[0] ? a->imap_username : a->username;
}

/* ---- field validators ---------------------------------------------------- */

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alnum(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

static bool
is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned char to_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Control characters become header or command injection once a value reaches
 * a mail header, an SMTP/IMAP command or a terminal: C0 (with TAB, CR, LF),
 * DEL, and C1 (U+0080..U+009F, encoded C2 80..C2 9F in valid UTF-8); bidi
 * and invisible format characters (utf8_invisible()) disguise a value. */
static const char *
check_text(const char *s, size_t n, size_t max)
{
	if (n > max)
		return _("is too long");
	if (!utf8_valid(s, n))
		return _("is not valid UTF-8");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return _("contains a control character (line break, tab, ...), "
			       "which is not allowed");
		if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return _("contains a control character (U+0080..U+009F), "
			       "which is not allowed");
	}
	/* Bidi controls reorder what a terminal or a mail client shows after
	 * them, and zero-width characters make two different values look
	 * the same: neither has a place in a name or an address. */
	if (utf8_has_invisible(s, n))
		return _("contains an invisible or text-direction character "
		       "(U+200B..U+200F, U+202A..U+202E, U+2066..U+2069, U+FEFF, "
		       "...), which is not allowed");
	return NULL;
}

const char *
valid_text(const char *s, size_t max)
{
	/* strnlen bounds the scan of an unterminated or huge input. */
	size_t n = strnlen(s, max + 1);
	return check_text(s, n, max);
}

/* Reasons read "The SMTP server <reason>" for a host, and "The email address
 * has a domain (after the '@') that <reason>" for an address's domain; each
 * is one whole message, so that a translation may order its words. */

/* One DNS label (RFC 1123): 1..63 bytes of letters, digits and hyphens, no
 * hyphen at either end. In an address's domain, bytes >= 0x80 are accepted
 * too (an internationalised label; UTF-8 validity is checked by the caller). */
static const char *
check_label(const char *s, size_t n, bool email)
{
	if (n == 0)
		return email ? _("has a domain (after the '@') that "
		               "has an empty label (two dots in a row, or a dot at "
		               "the start)")
		             : _("has an empty label (two dots in a row, or a dot at "
		                 "the start)");
	if (n > 63)
		return email ? _("has a domain (after the '@') that "
		               "has a label longer than 63 characters")
		             : _("has a label longer than 63 characters");
	if (s[0] == '-' || s[n - 1] == '-')
		return email ? _("has a domain (after the '@') that "
		               "has a label that starts or ends with a hyphen")
		             : _("has a label that starts or ends with a hyphen");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_alnum(c) || c == '-')
			continue;
		if (c >= 0x80) {
			if (email)
				continue;
			return _("contains non-ASCII characters: use the ASCII (xn--) "
			       "form of an international name");
		}
		return email ? _("has a domain (after the '@') that "
		               "may contain only letters, digits, hyphens and dots")
		             : _("may contain only letters, digits, hyphens and dots");
	}
	return NULL;
}

/* A dot-separated name of labels; no trailing dot. An address's domain needs
 * at least one dot. */
static const char *
check_domain(const char *s, size_t n, bool email)
{
	if (n == 0)
		return email ? _("has nothing after the '@'") : _("is empty");
	if (n > ACCT_HOST_MAX)
		return email ? _("has a domain (after the '@') that "
		               "is longer than 253 characters")
		             : _("is longer than 253 characters");
	if (s[n - 1] == '.')
		return email ? _("has a domain (after the '@') that "
		               "ends with a dot: drop the trailing dot")
		             : _("ends with a dot: drop the trailing dot");
	if (email && !memchr(s, '.', n))
		return _("has a domain (after the '@') that has no dot (a domain "
		         "looks like example.com)");
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			const char *why = check_label(s + start, i - start, email);
			if (why)
				return why;
			start = i + 1;
		}
	}
	return NULL;
}

const char *
valid_hostname(const char *s)
{
	size_t n = strnlen(s, ACCT_HOST_MAX + 1);
	unsigned char addr[16];

	if (n == 0)
		return _("is empty");
	if (n > ACCT_HOST_MAX)
		return _("is longer than 253 characters");
	if (s[0] == '[')
		return _("is in brackets: give an IPv6 address without the brackets");
	if (memchr(s, ':', n)) {
		if (inet_pton(AF_INET6, s, addr) == 1)
			return NULL;
		return _("is not a valid IPv6 address (and a host name has no ':'; "
		       "give the port separately)");
	}
	/* All digits and dots: it must be an IPv4 address, since a real host
	 * name never has an all-numeric top-level label. */
	if (strspn(s, "0123456789.") == n) {
		if (inet_pton(AF_INET, s, addr) == 1)
			return NULL;
		return _("is not a valid IPv4 address");
	}
	return check_domain(s, n, false);
}

/* RFC 5322 atext, the characters of an unquoted local part besides dots. */
static bool
is_atext(unsigned char c)
{
	return is_alnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

const char *
valid_email(const char *s)
{
	size_t n = strnlen(s, ACCT_EMAIL_MAX + 1);
	const char *why;

	if (n == 0)
		return _("is empty");
	if (n > ACCT_EMAIL_MAX)
		return _("is longer than 254 characters");
	why = check_text(s, n, ACCT_EMAIL_MAX);
	if (why)
		return why;
	if (s[0] == '"')
		return _("has a quoted local part, which is not supported");
	const char *at = memrchr(s, '@', n);
	if (!at)
		return _("has no '@': give the full address, like user@example.com");
	size_t ln = (size_t)(at - s);
	size_t dn = n - ln - 1;
	if (ln == 0)
		return _("has nothing before the '@'");
	if (ln > 64)
		return _("has more than 64 characters before the '@'");
	if (s[0] == '.' || s[ln - 1] == '.')
		return _("has a dot at the start or the end of the part before the '@'");
	for (size_t i = 0; i < ln; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '@')
			return _("has more than one '@'");
		if (c == '.') {
			if (s[i + 1] == '.')
				return _("has two dots in a row before the '@'");
			continue;
		}
		if (c >= 0x80)
			return _("has non-ASCII characters before the '@', which are not "
			       "supported");
		if (!is_atext(c))
			return _("has a character before the '@' that an address cannot "
			       "contain (spaces, commas, brackets, quotes...)");
	}
	if (dn > 0 && at[1] == '[')
		return _("has an address literal after the '@', which is not supported");
	if (dn > 0 && strspn(at + 1, "0123456789.") == dn)
		return _("has an IP address after the '@': give the domain name");
	return check_domain(at + 1, dn, true);
}

const char *
valid_port(const char *s, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (s[0] == '\0')
		return _("is empty");
	for (i = 0; s[i]; i++) {
		if (!is_digit((unsigned char)s[i]))
			return _("must be a number from 1 to 65535 (digits only)");
		if (i >= 5)
			return _("must be a number from 1 to 65535");
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (s[0] == '0' && i > 1)
		return _("must be written without leading zeros");
	if (v == 0 || v > 65535)
		return _("must be a number from 1 to 65535");
	if (out)
		*out = v;
	return NULL;
}

const char *
valid_pin(const char *s, char out[ACCT_PIN_LEN + 1])
{
	static const char prefix[] = "sha256:";
	char hex[65];
	size_t k = 0;

	if (strncasecmp(s, prefix, sizeof prefix - 1) != 0)
		return _("must start with 'sha256:' followed by the certificate's "
		       "SHA-256 fingerprint");
	s += sizeof prefix - 1;
	size_t n = strnlen(s, 96);
	bool colons = n == 95;
	if (n != 64 && !colons)
		return _("must be 'sha256:' followed by 64 hexadecimal digits "
		       "(or 32 colon-separated pairs)");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (colons && i % 3 == 2) {
			if (c != ':')
				return _("has a misplaced ':' (expected 32 pairs like AB:CD:...)");
			continue;
		}
		if (!is_hex(c))
			return _("must contain only hexadecimal digits after 'sha256:'");
		hex[k++] = (char)to_lower(c);
	}
	hex[k] = '\0';
	if (out) {
		memcpy(out, prefix, sizeof prefix - 1);
		memcpy(out + sizeof prefix - 1, hex, 65);
	}
	return NULL;
}

const char *
valid_secret(const char *s)
{
	size_t n = strnlen(s, ACCT_SECRET_MAX + 1);

	if (n == 0)
		return _("is empty");
	if (n > ACCT_SECRET_MAX)
		return _("is longer than 1024 bytes");
	if (!utf8_valid(s, n))
		return _("is not valid UTF-8");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return _("contains a control character (line break, tab, ...), "
			       "which cannot be sent to a server safely");
	}
	return NULL;
}

/* ---- security ------------------------------------------------------------ */

int
security_parse(const char *s, enum security *out)
{
	if (!strcasecmp(s, "starttls") || !strcasecmp(s, "tls"))
		*out = SEC_STARTTLS;
	else if (!strcasecmp(s, "ssl"))
		*out = SEC_SSL;
	else if (!strcasecmp(s, "none"))
		*out = SEC_NONE;
	else
		return -1;
	return 0;
}

const char *
security_name(enum security s)
{
	return security_spell(s, SPELL_NAME);
}

unsigned
security_default_port(enum security s, bool imap)
{
	if (imap)
		return s == SEC_SSL ? 993 : 143;
	return s == SEC_SSL ? 465 : 587;
}

/* ---- the whole account --------------------------------------------------- */

static int
fail(struct acct_error *err, const char *field, const char *what,
     const char *why)
{
	if (err) {
		err->field = field;
		str_printf(err->msg, sizeof err->msg, "%s %s", what, why);
	}
	return -1;
}

/* Preset ids are file-name stems: lowercase letters, digits, '-' and '_'. */
static const char *
check_ident(const char *s, size_t max, bool hyphen_digit)
{
	size_t n = strnlen(s, max + 1);
	if (n == 0)
		return _("is empty");
	if (n > max)
		return _("is too long");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || c == '_')
			continue;
		if (hyphen_digit && (is_digit(c) || (c == '-' && i > 0)))
			continue;
		return hyphen_digit
		       ? _("may contain only lowercase letters, digits, '-' and '_'")
		       : _("may contain only lowercase letters and '_'");
	}
	return NULL;
}

static int
check_server(const char *host, unsigned port, enum security sec,
             bool allow_plain, bool imap, struct acct_error *err)
{
	const char *why = valid_hostname(host);
	if (why)
		return fail(err, imap ? "imap-host" : "smtp-host",
		            imap ? _("The IMAP server") : _("The SMTP server"), why);
	if (port == 0 || port > 65535)
		return fail(err, imap ? "imap-port" : "smtp-port",
		            imap ? _("The IMAP port") : _("The SMTP port"),
		            _("must be a number from 1 to 65535"));
	if (sec != SEC_STARTTLS && sec != SEC_SSL && sec != SEC_NONE)
		return fail(err, imap ? "imap-security" : "smtp-security",
		            imap ? _("The IMAP security") : _("The SMTP security"),
		            _("must be starttls, ssl or none"));
	if (sec == SEC_NONE && !allow_plain)
		return fail(err, imap ? "imap-security" : "smtp-security",
		            imap ? _("The IMAP security") : _("The SMTP security"),
		            _("'none' would send your password across the network in "
		            "clear text; use starttls or ssl, or allow clear text "
		            "explicitly if you really mean it"));
	return 0;
}

const char *
valid_https_url(const char *s)
{
	size_t n = strnlen(s, ACCT_URL_MAX + 1);

	if (n > ACCT_URL_MAX)
		return _("is too long");
	if (strncasecmp(s, "https://", 8) != 0 || n == 8)
		return _("must be an https:// address");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return _("must not contain spaces, controls or non-ASCII characters");
	return NULL;
}

/* The OAuth settings: all of them or none. */
static int
check_oauth(const struct account *a, struct acct_error *err)
{
	const char *why;

	if (!a->oauth) {
		if (a->oauth_token_url[0] || a->oauth_device_url[0] ||
		    a->oauth_auth_url[0] || a->oauth_scope[0] || a->oauth_client_id[0])
			return fail(err, "sign-in", _("The OAuth settings"),
			            _("are only for an account that signs in with OAuth"));
		return 0;
	}
	if (a->oauth_token_url[0] == '\0')
		return fail(err, "oauth-token-url", _("The OAuth token endpoint"),
		            _("is required (from the preset, or give it)"));
	if ((why = valid_https_url(a->oauth_token_url)))
		return fail(err, "oauth-token-url", _("The OAuth token endpoint"), why);
	if (a->oauth_device_url[0] && (why = valid_https_url(a->oauth_device_url)))
		return fail(err, "oauth-device-url", _("The OAuth device endpoint"), why);
	if (a->oauth_auth_url[0] && (why = valid_https_url(a->oauth_auth_url)))
		return fail(err, "oauth-auth-url", _("The OAuth authorization endpoint"), why);
	if ((why = valid_text(a->oauth_scope, ACCT_SCOPE_MAX)))
		return fail(err, "oauth-scope", _("The OAuth scopes"), why);
	if (a->oauth_client_id[0] == '\0')
		return fail(err, "oauth-client-id", _("The OAuth client ID"),
		            _("is required: register a client with the provider (see "
		            "\"OAuth\" in the manual)"));
	for (const char *p = a->oauth_client_id; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return fail(err, "oauth-client-id", _("The OAuth client ID"),
			            _("must be printable ASCII without spaces"));
	return 0;
}

int
account_validate(const struct account *a, struct acct_error *err)
{
	const char *why;

	if (a->email[0] == '\0')
		return fail(err, "email", _("The email address"), _("is required"));
	if ((why = valid_email(a->email)))
		return fail(err, "email", _("The email address"), why);
	if ((why = valid_text(a->display_name, ACCT_NAME_MAX)))
		return fail(err, "name", _("The display name"), why);
	if (a->smtp_host[0] == '\0')
		return fail(err, "smtp-host", _("The SMTP server"), _("is required"));
	if (check_server(a->smtp_host, a->smtp_port, a->smtp_security,
	                 a->allow_plain, false, err))
		return -1;
	if (a->username[0] == '\0')
		return fail(err, "username", _("The user name"), _("is required"));
	if ((why = valid_text(a->username, ACCT_USER_MAX)))
		return fail(err, "username", _("The user name"), why);
	if (a->imap_host[0] != '\0' &&
	    check_server(a->imap_host, a->imap_port, a->imap_security,
	                 a->allow_plain, true, err))
		return -1;
	if (a->imap_host[0] == '\0' && a->imap_port > 65535)
		return fail(err, "imap-port", _("The IMAP port"),
		            _("must be a number from 1 to 65535"));
	if ((why = valid_text(a->imap_username, ACCT_USER_MAX)))
		return fail(err, "imap-username", _("The IMAP user name"), why);
	if ((why = valid_text(a->ca_file, ACCT_PATH_MAX)))
		return fail(err, "ca-file", _("The CA file path"), why);
	if (a->pin[0] != '\0') {
		char canon[ACCT_PIN_LEN + 1];
		if ((why = valid_pin(a->pin, canon)))
			return fail(err, "pin", _("The certificate pin"), why);
		/* Consumers compare pins as strings: only the canonical form is
		 * stored (valid_pin() produces it). */
		if (strcmp(canon, a->pin) != 0)
			return fail(err, "pin", _("The certificate pin"),
			            _("must be in canonical form (sha256: and 64 lowercase "
			            "hexadecimal digits)"));
	}
	if (a->preset[0] != '\0' &&
	    (why = check_ident(a->preset, ACCT_PRESET_MAX, true)))
		return fail(err, "preset", _("The preset name"), why);
	if (a->last_test_time < 0)
		return fail(err, "last-test-time", _("The last test time"),
		            _("cannot be negative"));
	if (a->last_result[0] != '\0' &&
	    (why = check_ident(a->last_result, ACCT_RESULT_MAX, false)))
		return fail(err, "last-result", _("The last test result"), why);
	return check_oauth(a, err);
}

int
account_key(const char *email, char *out, size_t outlen)
{
	size_t i;

	if (outlen == 0)
		return -1;
	/* Only ASCII is folded: UTF-8 domain bytes stay as typed. */
	for (i = 0; email[i]; i++) {
		if (i + 1 >= outlen) {
			out[0] = '\0';
			return -1;
		}
		out[i] = (char)to_lower((unsigned char)email[i]);
	}
	out[i] = '\0';
	return 0;
}

/* ---- record format ------------------------------------------------------- */
/* Version 1 is one "key=value\n" line per field, every field present exactly
 * once, after a first line "v=1". Unknown keys are refused rather than
 * skipped: a newer format bumps the version, so an unknown key means a
 * damaged record. Values never contain a newline (validation refuses control
 * characters). The list of fields below is the single source of both the
 * writer and the reader. Version 2 adds the OAuth fields (F_V2): an
 * account without OAuth is still written as version 1, so it reads the
 * same everywhere. */

enum fkind { F_STR, F_PORT, F_SEC, F_BOOL, F_TIME };

struct field {
	const char *key;
	size_t keylen;
	enum fkind kind;
	size_t off;
	size_t size;           /* buffer size for F_STR */
	bool v2;               /* present in version 2 records only */
};

#define FS(k, m) { k, sizeof k - 1, F_STR, offsetof(struct account, m), \
	           sizeof ((struct account *)0)->m, false }
#define FO(k, kind, m) { k, sizeof k - 1, kind, offsetof(struct account, m), 0, false }
#define FS2(k, m) { k, sizeof k - 1, F_STR, offsetof(struct account, m), \
	            sizeof ((struct account *)0)->m, true }

static const struct field fields[] = {
	FS("email", email),
	FS("name", display_name),
	FS("smtp-host", smtp_host),
	FO("smtp-port", F_PORT, smtp_port),
	FO("smtp-security", F_SEC, smtp_security),
	FS("username", username),
	FS("imap-host", imap_host),
	FO("imap-port", F_PORT, imap_port),
	FO("imap-security", F_SEC, imap_security),
	FS("imap-username", imap_username),
	FS("ca-file", ca_file),
	FS("pin", pin),
	FS("preset", preset),
	FO("allow-plain", F_BOOL, allow_plain),
	FO("allow-old-tls", F_BOOL, allow_old_tls),
	FO("last-test-time", F_TIME, last_test_time),
	FS("last-result", last_result),
	{ "oauth", 5, F_BOOL, offsetof(struct account, oauth), 0, true },
	FS2("oauth-token-url", oauth_token_url),
	FS2("oauth-device-url", oauth_device_url),
	FS2("oauth-auth-url", oauth_auth_url),
	FS2("oauth-scope", oauth_scope),
	FS2("oauth-client-id", oauth_client_id),
};
#define NFIELDS (sizeof fields / sizeof fields[0])

/* Appends n bytes; false when the buffer is full (one byte kept for NUL). */
static bool
put(char *buf, size_t len, size_t *pos, const char *s, size_t n)
{
	if (n >= len - *pos)
		return false;
	memcpy(buf + *pos, s, n);
	*pos += n;
	return true;
}

static size_t
fmt_u64(char *tmp, uint64_t v)
{
	char r[24];
	size_t n = 0, k = 0;
	do {
		r[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		tmp[k++] = r[--n];
	return k;
}

int
account_serialize(const struct account *a, char *buf, size_t len)
{
	size_t pos = 0;
	char num[24];
	bool v2 = a->oauth;

	if (len == 0 || !put(buf, len, &pos, v2 ? "v=2\n" : "v=1\n", 4))
		return -1;
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *f = &fields[i];
		const char *base = (const char *)a + f->off;
		const char *v = num;
		size_t vn;

		if (f->v2 && !v2)
			continue;

		switch (f->kind) {
		case F_STR:
			v = base;
			vn = strnlen(base, f->size);
			if (vn == f->size || memchr(v, '\n', vn))
				return -1;  /* unterminated or unsafe: never written */
			break;
		case F_PORT:
			vn = fmt_u64(num, *(const unsigned *)(const void *)base);
			break;
		case F_SEC:
			v = security_name(*(const enum security *)(const void *)base);
			vn = strlen(v);
			break;
		case F_BOOL:
			num[0] = *(const bool *)(const void *)base ? '1' : '0';
			vn = 1;
			break;
		case F_TIME: {
			int64_t t = *(const int64_t *)(const void *)base;
			if (t < 0)
				return -1;
			vn = fmt_u64(num, (uint64_t)t);
			break;
		}
		default:
			return -1;
		}
		if (!put(buf, len, &pos, f->key, f->keylen) ||
		    !put(buf, len, &pos, "=", 1) ||
		    !put(buf, len, &pos, v, vn) ||
		    !put(buf, len, &pos, "\n", 1))
			return -1;
	}
	buf[pos] = '\0';
	return (int)pos;
}

/* Decimal digits only, at most maxdig of them, no leading zero. */
static bool
parse_uint(const char *s, size_t n, size_t maxdig, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0 || n > maxdig || (s[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

static int
parse_value(const struct field *f, const char *v, size_t vn,
            struct account *a)
{
	char *base = (char *)a + f->off;
	uint64_t u;
	char tmp[16];

	switch (f->kind) {
	case F_STR:
		if (vn >= f->size)
			return -1;
		memcpy(base, v, vn);
		base[vn] = '\0';
		return 0;
	case F_PORT:
		/* imap-port is 0 when there is no IMAP server. */
		if (!parse_uint(v, vn, 5, &u) || u > 65535)
			return -1;
		*(unsigned *)(void *)base = (unsigned)u;
		return 0;
	case F_SEC: {
		enum security s;
		if (vn >= sizeof tmp)
			return -1;
		memcpy(tmp, v, vn);
		tmp[vn] = '\0';
		if (security_parse(tmp, &s))
			return -1;
		*(enum security *)(void *)base = s;
		return 0;
	}
	case F_BOOL:
		if (vn != 1 || (v[0] != '0' && v[0] != '1'))
			return -1;
		*(bool *)(void *)base = v[0] == '1';
		return 0;
	case F_TIME:
		/* 18 digits keep the value far below INT64_MAX. */
		if (!parse_uint(v, vn, 18, &u))
			return -1;
		*(int64_t *)(void *)base = (int64_t)u;
		return 0;
	}
	return -1;
}

int
account_parse(const char *buf, size_t len, struct account *a)
{
	bool seen[NFIELDS] = { false };
	size_t pos, nseen = 0, nwanted = 0;
	bool v2;

	account_init(a);
	if (len < 4 || (memcmp(buf, "v=1\n", 4) != 0 && memcmp(buf, "v=2\n", 4) != 0))
		return -1;
	v2 = buf[2] == '2';
	for (size_t i = 0; i < NFIELDS; i++)
		nwanted += v2 || !fields[i].v2;
	if (memchr(buf, '\0', len))
		return -1;
	pos = 4;
	/* Fields are usually in the written order: try the expected one first,
	 * which keeps parsing linear in the record's length. */
	size_t hint = 0;
	while (pos < len) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		if (!nl)
			return -1;           /* every line ends with a newline */
		size_t ln = (size_t)(nl - line);
		const char *eq = memchr(line, '=', ln);
		if (!eq)
			return -1;
		size_t kn = (size_t)(eq - line);
		const struct field *f = NULL;
		size_t fi = 0;
		for (size_t t = 0; t < NFIELDS; t++) {
			fi = (hint + t) % NFIELDS;
			if (fields[fi].keylen == kn &&
			    memcmp(fields[fi].key, line, kn) == 0) {
				f = &fields[fi];
				break;
			}
		}
		if (!f || seen[fi] || (f->v2 && !v2))
			return -1;           /* unknown or repeated key */
		seen[fi] = true;
		nseen++;
		hint = fi + 1;
		if (parse_value(f, eq + 1, ln - kn - 1, a))
			return -1;
		pos += ln + 1;
	}
	if (nseen != nwanted || (v2 && !a->oauth))
		return -1;
	if (account_validate(a, NULL))
		return -1;
	return 0;
}
