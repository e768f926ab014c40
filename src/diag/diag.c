/* The troubleshooting knowledge base. Classification is data: a table of
 * rules, each a set of conditions on the evidence and the category + reason
 * it leads to; the first rule that matches wins, so the table runs from the
 * specific to the general and ends with one catch-all per stage. The fixes
 * are written per category in the voice of the product page's
 * Troubleshooting section, made precise with what the evidence, the account
 * and the provider's preset tell. No I/O. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "i18n.h"
#include "diag.h"
#include "util.h"

/* ---- categories, stages, certificate problems ------------------------- */

/* One row per category: its stable name, its title and the exit status of
 * `fluenzr-tui test` (sysexits.h). */
static const struct cat_info {
	const char *name;
	const char *title;
	int exit_code;
} cats[DIAG_NCATS] = {
	[DIAG_OK] =                   { "ok", N_("Test passed"), EX_OK },
	[DIAG_DNS_FAILURE] =          { "dns_failure", N_("Server not found"), EX_NOHOST },
	[DIAG_CONNECTION_REFUSED] =   { "connection_refused", N_("Connection refused"), EX_UNAVAILABLE },
	[DIAG_TIMEOUT] =              { "timeout", N_("No answer from the server"), EX_TEMPFAIL },
	[DIAG_TLS_MISMATCH] =         { "tls_mismatch", N_("Wrong encryption for this port"), EX_PROTOCOL },
	[DIAG_STARTTLS_UNAVAILABLE] = { "starttls_unavailable", N_("Encryption (STARTTLS) not offered"), EX_PROTOCOL },
	[DIAG_INVALID_CERTIFICATE] =  { "invalid_certificate", N_("Invalid certificate"), EX_NOPERM },
	[DIAG_AUTH_FAILED] =          { "auth_failed", N_("Authentication failed"), EX_NOPERM },
	[DIAG_AUTH_UNSUPPORTED] =     { "auth_unsupported", N_("No usable login method"), EX_NOPERM },
	[DIAG_ENCRYPTION_REQUIRED] =  { "encryption_required", N_("Encryption required"), EX_PROTOCOL },
	[DIAG_RATE_LIMITED] =         { "rate_limited", N_("Sending limit reached"), EX_TEMPFAIL },
	[DIAG_SENDER_REJECTED] =      { "sender_rejected", N_("Sender rejected"), EX_NOPERM },
	[DIAG_RECIPIENT_REJECTED] =   { "recipient_rejected", N_("Recipient rejected"), EX_NOUSER },
	[DIAG_SERVER_UNAVAILABLE] =   { "server_unavailable", N_("Server unavailable"), EX_UNAVAILABLE },
	[DIAG_PROTOCOL_ERROR] =       { "protocol_error", N_("Unexpected server reply"), EX_PROTOCOL },
	[DIAG_CANCELLED] =            { "cancelled", N_("Test cancelled"), EX_TEMPFAIL },
	[DIAG_INTERNAL_ERROR] =       { "internal_error", N_("Internal error"), EX_SOFTWARE },
};

static const char *const stage_names[] = {
	[STAGE_NONE] = "none",
	[STAGE_RESOLVE] = "resolve",
	[STAGE_CONNECT] = "connect",
	[STAGE_GREETING] = "greeting",
	[STAGE_EHLO] = "ehlo",
	[STAGE_STARTTLS] = "starttls",
	[STAGE_TLS] = "tls",
	[STAGE_CERT] = "certificate",
	[STAGE_AUTH] = "auth",
	[STAGE_MAIL] = "mail",
	[STAGE_RCPT] = "rcpt",
	[STAGE_DATA] = "data",
	[STAGE_QUIT] = "quit",
	[STAGE_IMAP_LOGIN] = "imap_login",
	[STAGE_IMAP_SELECT] = "imap_select",
	[STAGE_IMAP_SEARCH] = "imap_search",
};

const char *
diag_cat_name(enum diag_cat c)
{
	if ((unsigned)c >= DIAG_NCATS)
		return "internal_error";
	return cats[c].name;
}

bool
diag_cat_recorded(enum diag_cat c)
{
	return c != DIAG_CANCELLED;
}

int
diag_cat_from_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < DIAG_NCATS; i++)
		if (strcmp(cats[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *
diag_cat_title(enum diag_cat c)
{
	if ((unsigned)c >= DIAG_NCATS)
		return _(cats[DIAG_INTERNAL_ERROR].title);
	return _(cats[c].title);
}

const char *
diag_cat_title_en(enum diag_cat c)
{
	return cats[(unsigned)c < DIAG_NCATS ? c : DIAG_INTERNAL_ERROR].title;
}

int
diag_exit_code(enum diag_cat c)
{
	if ((unsigned)c >= DIAG_NCATS)
		return EX_SOFTWARE;
	return cats[c].exit_code;
}

const char *
diag_stage_name(enum diag_stage s)
{
	if ((unsigned)s >= sizeof stage_names / sizeof stage_names[0])
		return "unknown";
	return stage_names[s];
}

int
diag_stage_from_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 1; i < sizeof stage_names / sizeof stage_names[0]; i++)
		if (stage_names[i] && strcmp(stage_names[i], name) == 0)
			return (int)i;
	return -1;
}

/* ---- replies as a log shows them ------------------------------------- */

static bool
is_digit3(const char *s)
{
	return s[0] >= '2' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' &&
	       s[2] >= '0' && s[2] <= '9';
}

/* Appends n bytes of s to the text, one blank between parts, as the probe
 * joins a multi-line reply. */
static void
text_add(char *dst, size_t len, const char *s, size_t n)
{
	size_t o = strlen(dst);

	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n == 0 || o + 2 >= len)
		return;
	if (o > 0)
		dst[o++] = ' ';
	str_sanitize(dst + o, len - o, s, n);
}

static bool
word_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/* "A1 NO [CODE args] text", "NO text", "* BYE text": the code atom apart,
 * the text after it. */
static void
imap_reply_parse(struct diag_evidence *ev, const char *t)
{
	const char *w[2];
	size_t wn[2], i, n;

	for (i = 0; i < 2; i++) {
		while (*t == ' ' || *t == '\t')
			t++;
		w[i] = t;
		wn[i] = strcspn(t, " \t\r\n");
		t += wn[i];
	}
	/* Which of the first two words is the status (NO, BAD, BYE, OK)? */
	t = w[0];
	for (i = 0; i < 2; i++)
		if (word_is(w[i], wn[i], "NO") || word_is(w[i], wn[i], "BAD") ||
		    word_is(w[i], wn[i], "BYE") || word_is(w[i], wn[i], "OK")) {
			t = w[i] + wn[i];
			break;
		}
	while (*t == ' ' || *t == '\t')
		t++;
	if (*t == '[') {
		n = strcspn(t + 1, " ]\r\n");
		if (n < sizeof ev->imap_code)
			str_sanitize(ev->imap_code, sizeof ev->imap_code, t + 1, n);
		t += 1 + strcspn(t + 1, "]\r\n");
		if (*t == ']')
			t++;
	}
	text_add(ev->reply, sizeof ev->reply, t, strcspn(t, "\r\n"));
}

int
diag_evidence_from_reply(struct diag_evidence *ev, bool imap,
                         enum diag_stage stage, const char *text)
{
	const char *line = text;
	size_t n;

	memset(ev, 0, sizeof *ev);
	ev->imap = imap;
	ev->stage = stage;
	if (text == NULL)
		return -1;
	while (*line == ' ' || *line == '\t' || *line == '\r' || *line == '\n')
		line++;
	if (*line == '\0')
		return -1;
	if (imap) {
		imap_reply_parse(ev, line);
		return 0;
	}
	for (; *line; line += n + (line[n] == '\n')) {
		const char *l = line;

		n = strcspn(line, "\n");
		while (l < line + n && (*l == ' ' || *l == '\t'))
			l++;
		/* "NNN-text" and "NNN text": the code once, the text always. */
		if (line + n - l >= 3 && is_digit3(l) &&
		    (line + n - l == 3 || l[3] == ' ' || l[3] == '-' ||
		     l[3] == '\r')) {
			if (ev->reply_code == 0 && ev->reply[0] == '\0')
				ev->reply_code = (l[0] - '0') * 100 + (l[1] - '0') * 10 +
				                 (l[2] - '0');
			l += line + n - l > 3 ? 4 : 3;
		}
		text_add(ev->reply, sizeof ev->reply, l, (size_t)(line + n - l));
	}
	return 0;
}

/* ---- reasons ---------------------------------------------------------- */

/* The sub-reasons the rules give, each with its name in the diagnosis (the
 * JSON's "reason", the console's troubleshooting panel). A rule or a fix
 * that names a reason missing here does not compile; NONE, the zero, is
 * what a rule without a reason would give, and no rule does. */
#define DIAG_REASONS(X) \
	X(NONE, "") \
	X(USER, "user") \
	X(BUG, "bug") \
	X(CA_FILE_REFUSED, "ca_file_refused") \
	X(PIN_MISMATCH, "pin_mismatch") \
	X(EXPIRED, "expired") \
	X(NOT_YET_VALID, "not_yet_valid") \
	X(HOSTNAME_MISMATCH, "hostname_mismatch") \
	X(SELF_SIGNED, "self_signed") \
	X(UNTRUSTED, "untrusted") \
	X(NO_SUCH_HOST, "no_such_host") \
	X(NO_ADDRESS, "no_address") \
	X(RESOLVER_UNAVAILABLE, "resolver_unavailable") \
	X(RESOLVER_FAILURE, "resolver_failure") \
	X(RESOLVE_FAILED, "resolve_failed") \
	X(REFUSED, "refused") \
	X(NO_ANSWER, "no_answer") \
	X(UNREACHABLE, "unreachable") \
	X(NETWORK_UNREACHABLE, "network_unreachable") \
	X(BLOCKED_LOCALLY, "blocked_locally") \
	X(CONNECT_FAILED, "connect_failed") \
	X(OLD_TLS_ONLY, "old_tls_only") \
	X(SERVER_SPEAKS_PLAIN, "server_speaks_plain") \
	X(SERVER_SPEAKS_TLS, "server_speaks_tls") \
	X(PLAIN_TO_TLS_PORT, "plain_to_tls_port") \
	X(HANDSHAKE_FAILED, "handshake_failed") \
	X(NO_GREETING, "no_greeting") \
	X(HANDSHAKE, "handshake") \
	X(NO_REPLY, "no_reply") \
	X(TLS_HANDSHAKE_FAILED, "tls_handshake_failed") \
	X(MAILBOX_FULL, "mailbox_full") \
	X(CONNECTIONS, "connections") \
	X(RECIPIENTS, "recipients") \
	X(LOGIN_ATTEMPTS, "login_attempts") \
	X(QUOTA, "quota") \
	X(MESSAGES, "messages") \
	X(DEFERRED, "deferred") \
	X(LIMIT, "limit") \
	X(TOO_MANY, "too_many") \
	X(TEMPORARY, "temporary") \
	X(NOT_SUPPORTED, "not_supported") \
	X(DATA_AFTER_STARTTLS, "data_after_starttls") \
	X(UNPARSEABLE_REPLY, "unparseable_reply") \
	X(NOT_OFFERED, "not_offered") \
	X(APP_PASSWORD_REQUIRED, "app_password_required") \
	X(WEB_LOGIN_REQUIRED, "web_login_required") \
	X(STARTTLS_FIRST, "starttls_first") \
	X(ENCRYPTION_REQUIRED, "encryption_required") \
	X(PRIVACY_REQUIRED, "privacy_required") \
	X(PLAINTEXT_DISALLOWED, "plaintext_disallowed") \
	X(MECHANISM_TOO_WEAK, "mechanism_too_weak") \
	X(MECHANISM_NOT_SUPPORTED, "mechanism_not_supported") \
	X(AUTH_REQUIRED, "auth_required") \
	X(BAD_CREDENTIALS, "bad_credentials") \
	X(NOT_AUTHORIZED, "not_authorized") \
	X(PASSWORD_EXPIRED, "password_expired") \
	X(ACCOUNT_DISABLED, "account_disabled") \
	X(TEMPORARY_AUTH_FAILURE, "temporary_auth_failure") \
	X(EHLO_REJECTED, "ehlo_rejected") \
	X(SEND_AS_DENIED, "send_as_denied") \
	X(NOT_OWNED, "not_owned") \
	X(CLIENT_BLOCKED, "client_blocked") \
	X(ADDRESS_NOT_ALLOWED, "address_not_allowed") \
	X(BAD_ADDRESS, "bad_address") \
	X(RELAY_DENIED, "relay_denied") \
	X(UNKNOWN_USER, "unknown_user") \
	X(MESSAGE_REJECTED, "message_rejected") \
	X(CLOSING, "closing") \
	X(NO_SERVICE, "no_service") \
	X(BAD_REPLY, "bad_reply") \
	X(REPLY_WITHOUT_END, "reply_without_end") \
	X(CONNECTION_CLOSED, "connection_closed") \
	X(UNEXPECTED_GREETING, "unexpected_greeting") \
	X(EHLO_FAILED, "ehlo_failed") \
	X(REJECTED, "rejected") \
	X(DATA_FAILED, "data_failed") \
	X(QUIT_FAILED, "quit_failed") \
	X(SELECT_FAILED, "select_failed") \
	X(SEARCH_FAILED, "search_failed") \
	X(NO_STAGE, "no_stage") \
	X(UNCLASSIFIED, "unclassified") \
	X(DAILY_LIMIT, "daily_limit") \
	X(CREDITS, "credits") \
	X(VOLUME, "volume") \
	X(SMTP_AUTH_DISABLED, "smtp_auth_disabled") \
	X(POST_LOGIN_REJECTED, "post_login_rejected") \
	X(AUTH_AFTER_TLS, "auth_after_tls") \
	X(UNVERIFIED_SENDER, "unverified_sender") \
	X(ACCOUNT_BLOCKED, "account_blocked") \
	X(GREYLISTED, "greylisted")

enum diag_reason {
#define X(id, name) R_##id,
	DIAG_REASONS(X)
#undef X
	R_NREASONS
};

static const char *const reason_names[R_NREASONS] = {
#define X(id, name) [R_##id] = name,
	DIAG_REASONS(X)
#undef X
};

/* ---- the rules -------------------------------------------------------- */

/* Facts derived from the evidence, so that rules can require or exclude
 * them. */
enum {
	F_TIMEOUT      = 1u << 0,  /* timed_out, or ETIMEDOUT */
	F_CANCELLED    = 1u << 1,
	F_HS_FAILED    = 1u << 2,  /* the TLS handshake failed */
	F_PEER_PLAIN   = 1u << 3,  /* plain text where TLS was expected */
	F_PEER_TLS     = 1u << 4,  /* TLS where plain text was expected */
	F_AUTH_NONE    = 1u << 5,  /* no mechanism we speak was offered */
	F_INTERNAL     = 1u << 7,
	F_SEC_SSL      = 1u << 8,  /* the dialogue uses implicit TLS */
	F_TLS_PORT     = 1u << 9,  /* 465 or 993: implicit-TLS ports */
	F_NO_REPLY     = 1u << 10, /* the server said nothing */
	F_BAD_CODE     = 1u << 11, /* a reply code outside 200..599 */
	F_GARBLED      = 1u << 12, /* SMTP text without a reply code */
	F_OLD_TLS      = 1u << 13, /* the server offers no TLS 1.2 or later */
	F_CA_FILE      = 1u << 14, /* the account's CA file was refused */
	F_OFFER_TLS    = 1u << 15, /* the last EHLO offered STARTTLS */
	F_TLS_ON       = 1u << 16, /* the dialogue was encrypted */
	F_AUTH_OK      = 1u << 17, /* the login succeeded */
};

enum { P_ANY = 0, P_SMTP, P_IMAP };

#define S(x) (1u << (x))
#define S_LOGIN (S(STAGE_AUTH) | S(STAGE_IMAP_LOGIN))
#define S_ENVELOPE (S(STAGE_MAIL) | S(STAGE_RCPT) | S(STAGE_DATA))
#define S_DIALOGUE (S(STAGE_GREETING) | S(STAGE_EHLO) | S(STAGE_STARTTLS) | \
	S(STAGE_TLS) | S(STAGE_AUTH) | S_ENVELOPE | S(STAGE_QUIT) | \
	S(STAGE_IMAP_LOGIN) | S(STAGE_IMAP_SELECT) | S(STAGE_IMAP_SEARCH))

/* A rule matches when every condition it sets holds. Lists ('|'-separated
 * strings, zero-terminated arrays) match when any of their items does. */
struct diag_rule {
	const char *name;
	unsigned stages;        /* S(stage) bits; 0 = any stage */
	int proto;              /* P_ANY, P_SMTP, P_IMAP */
	int code_lo, code_hi;   /* SMTP reply code range; 0 = any */
	const char *esc;        /* enhanced status codes, "5.7.8"; a trailing
	                         * '.' makes a prefix ("5.1.") */
	const char *words;      /* case-insensitive substrings of the reply */
	const char *imap_code;  /* IMAP response code atoms */
	int errnos[4];          /* sys_errno values */
	int gai[4];             /* getaddrinfo() codes (never 0) */
	enum cert_problem cert; /* CERT_OK = any */
	unsigned need;          /* F_* that must all be set */
	unsigned deny;          /* F_* that must all be clear */
	bool hint;              /* the preset's hints decide (cat, reason) */
	bool fallback;          /* a catch-all: the server's words are the
	                         * best clue */
	enum diag_cat cat;
	enum diag_reason reason;
};

/* A limit, in words that do not say what it counts. */
#define RATE_LIMIT_WORDS \
	"rate limit|ratelimit|rate-limit|throttl|limit exceeded|" \
	"exceeded the limit|exceeded limit|slow down|rate overlimit|" \
	"reached its limit|reached your limit|reached the limit|" \
	"exceeded the maximum|thread limit|threads limit|concurrent limit|" \
	"too fast"

static const struct diag_rule rules[] = {
	/* -- The run itself: nothing else matters once it was stopped. */
	{ .name = "cancelled", .need = F_CANCELLED,
	  .cat = DIAG_CANCELLED, .reason = R_USER },
	{ .name = "internal", .need = F_INTERNAL,
	  .cat = DIAG_INTERNAL_ERROR, .reason = R_BUG },

	/* -- The CA file was unsafe or unreadable: nothing was sent. */
	{ .name = "ca_file_refused", .need = F_CA_FILE,
	  .cat = DIAG_INVALID_CERTIFICATE, .reason = R_CA_FILE_REFUSED },

	/* -- Certificates: the verification result is exact. */
	{ .name = "cert_pin_mismatch", .cert = CERT_PIN_MISMATCH,
	  .cat = DIAG_INVALID_CERTIFICATE, .reason = R_PIN_MISMATCH },
	{ .name = "cert_expired", .cert = CERT_EXPIRED,
	  .cat = DIAG_INVALID_CERTIFICATE, .reason = R_EXPIRED },
	{ .name = "cert_not_yet_valid", .cert = CERT_NOT_YET_VALID,
	  .cat = DIAG_INVALID_CERTIFICATE, .reason = R_NOT_YET_VALID },
	{ .name = "cert_hostname_mismatch", .cert = CERT_HOSTNAME_MISMATCH,
	  .cat = DIAG_INVALID_CERTIFICATE, .reason = R_HOSTNAME_MISMATCH },
	{ .name = "cert_self_signed", .cert = CERT_SELF_SIGNED,
	  .cat = DIAG_INVALID_CERTIFICATE, .reason = R_SELF_SIGNED },
	{ .name = "cert_untrusted", .cert = CERT_UNTRUSTED,
	  .cat = DIAG_INVALID_CERTIFICATE, .reason = R_UNTRUSTED },

	/* -- Name resolution. */
	{ .name = "dns_no_such_host", .stages = S(STAGE_RESOLVE),
	  .gai = { EAI_NONAME },
	  .cat = DIAG_DNS_FAILURE, .reason = R_NO_SUCH_HOST },
	{ .name = "dns_no_address", .stages = S(STAGE_RESOLVE),
	  .gai = { EAI_NODATA, EAI_ADDRFAMILY },
	  .cat = DIAG_DNS_FAILURE, .reason = R_NO_ADDRESS },
	{ .name = "dns_resolver_unavailable", .stages = S(STAGE_RESOLVE),
	  .gai = { EAI_AGAIN },
	  .cat = DIAG_DNS_FAILURE, .reason = R_RESOLVER_UNAVAILABLE },
	/* getaddrinfo() outlasted the step timeout and was abandoned: the
	 * resolver did not answer, whatever the name. */
	{ .name = "dns_resolver_timeout", .stages = S(STAGE_RESOLVE),
	  .need = F_TIMEOUT,
	  .cat = DIAG_DNS_FAILURE, .reason = R_RESOLVER_UNAVAILABLE },
	{ .name = "dns_resolver_failure", .stages = S(STAGE_RESOLVE),
	  .gai = { EAI_FAIL },
	  .cat = DIAG_DNS_FAILURE, .reason = R_RESOLVER_FAILURE },
	{ .name = "dns_other", .stages = S(STAGE_RESOLVE),
	  .cat = DIAG_DNS_FAILURE, .reason = R_RESOLVE_FAILED },

	/* -- Connecting. */
	{ .name = "connect_refused", .stages = S(STAGE_CONNECT),
	  .errnos = { ECONNREFUSED },
	  .cat = DIAG_CONNECTION_REFUSED, .reason = R_REFUSED },
	{ .name = "connect_timeout", .stages = S(STAGE_CONNECT),
	  .need = F_TIMEOUT,
	  .cat = DIAG_TIMEOUT, .reason = R_NO_ANSWER },
	/* EHOSTUNREACH / ENETUNREACH come back at once (an ICMP error, a
	 * firewall's REJECT rule, no route): the attempt was answered with a
	 * no, unlike a timeout where packets vanish and waiting may help. What
	 * the user does is what "Connection refused" says: check the host and
	 * the port, the firewall, the network. So connection_refused, with a
	 * reason that says which. */
	{ .name = "connect_host_unreachable", .stages = S(STAGE_CONNECT),
	  .errnos = { EHOSTUNREACH, EHOSTDOWN },
	  .cat = DIAG_CONNECTION_REFUSED, .reason = R_UNREACHABLE },
	{ .name = "connect_network_unreachable", .stages = S(STAGE_CONNECT),
	  .errnos = { ENETUNREACH, ENETDOWN, EADDRNOTAVAIL },
	  .cat = DIAG_CONNECTION_REFUSED, .reason = R_NETWORK_UNREACHABLE },
	{ .name = "connect_blocked_locally", .stages = S(STAGE_CONNECT),
	  .errnos = { EACCES, EPERM },
	  .cat = DIAG_CONNECTION_REFUSED, .reason = R_BLOCKED_LOCALLY },
	{ .name = "connect_other", .stages = S(STAGE_CONNECT),
	  .cat = DIAG_CONNECTION_REFUSED, .reason = R_CONNECT_FAILED },

	/* -- A server older than TLS 1.2: the password is not sent to it
	 * unless the account allows old TLS (RFC 8996). */
	{ .name = "tls_old_version", .stages = S(STAGE_TLS), .need = F_OLD_TLS,
	  .cat = DIAG_TLS_MISMATCH, .reason = R_OLD_TLS_ONLY },

	/* -- Encryption that does not match the port. */
	{ .name = "tls_server_speaks_plain", .need = F_PEER_PLAIN,
	  .cat = DIAG_TLS_MISMATCH, .reason = R_SERVER_SPEAKS_PLAIN },
	{ .name = "tls_server_speaks_tls", .need = F_PEER_TLS,
	  .cat = DIAG_TLS_MISMATCH, .reason = R_SERVER_SPEAKS_TLS },
	/* Plain text to an implicit-TLS port: the server waits for a TLS hello
	 * and we wait for a greeting, until a timeout or a close. */
	{ .name = "tls_plain_to_tls_port", .stages = S(STAGE_GREETING),
	  .need = F_TLS_PORT | F_NO_REPLY, .deny = F_SEC_SSL,
	  .cat = DIAG_TLS_MISMATCH, .reason = R_PLAIN_TO_TLS_PORT },
	{ .name = "tls_implicit_failed", .stages = S(STAGE_TLS),
	  .need = F_SEC_SSL, .deny = F_TIMEOUT,
	  .cat = DIAG_TLS_MISMATCH, .reason = R_HANDSHAKE_FAILED },

	/* -- Silence. A stale reply from an earlier step may still be in the
	 * evidence, so timeouts come before any rule on replies. */
	{ .name = "timeout_greeting", .stages = S(STAGE_GREETING),
	  .need = F_TIMEOUT,
	  .cat = DIAG_TIMEOUT, .reason = R_NO_GREETING },
	{ .name = "timeout_handshake",
	  .stages = S(STAGE_TLS) | S(STAGE_CERT),
	  .need = F_TIMEOUT,
	  .cat = DIAG_TIMEOUT, .reason = R_HANDSHAKE },
	{ .name = "timeout_reply", .need = F_TIMEOUT,
	  .cat = DIAG_TIMEOUT, .reason = R_NO_REPLY },

	/* -- What the provider's preset knows of its own replies (presets/
	 * README, "hint") comes before the general rules on replies. */
	{ .name = "preset_hint", .stages = S_DIALOGUE, .hint = true,
	  .deny = F_NO_REPLY },

	/* After STARTTLS was accepted the port is right; the two TLS stacks did
	 * not agree (versions, ciphers) or the server broke off. */
	{ .name = "tls_starttls_failed", .stages = S(STAGE_TLS),
	  .cat = DIAG_PROTOCOL_ERROR, .reason = R_TLS_HANDSHAKE_FAILED },

	/* -- Greylisting asks every new sender to come back later: before
	 * limits and recipients, whose words it shares. */
	{ .name = "greylisted", .stages = S_ENVELOPE,
	  .words = "greylist|graylist|grey-list|gray-list",
	  .cat = DIAG_SERVER_UNAVAILABLE, .reason = R_GREYLISTED },

	/* -- A recipient's full mailbox speaks of quotas too: before limits. */
	{ .name = "rcpt_mailbox_full_esc",
	  .stages = S(STAGE_RCPT) | S(STAGE_DATA), .esc = "5.2.2|4.2.2",
	  .cat = DIAG_RECIPIENT_REJECTED, .reason = R_MAILBOX_FULL },
	{ .name = "rcpt_mailbox_full_words",
	  .stages = S(STAGE_RCPT) | S(STAGE_DATA),
	  .words = "mailbox full|mailbox is full|tried to reach is over quota|"
	           "mailbox over quota|mailbox size limit|user is over quota|"
	           "recipient is over quota|exceeded storage|mailbox quota|"
	           "insufficient storage|out of storage",
	  .cat = DIAG_RECIPIENT_REJECTED, .reason = R_MAILBOX_FULL },

	/* -- Sending limits. Servers say it with 421, 450, 451, 452, 550, 554
	 * and many words; the words decide, before any rule on codes alone. */
	{ .name = "rate_connections",
	  .words = "too many connections|too many concurrent|"
	           "too many simultaneous|too many sessions|connection limit|"
	           "connection rate|maximum number of connections",
	  .cat = DIAG_RATE_LIMITED, .reason = R_CONNECTIONS },
	{ .name = "rate_recipients",
	  .words = "too many recipients|recipient limit|recipients limit",
	  .cat = DIAG_RATE_LIMITED, .reason = R_RECIPIENTS },
	{ .name = "rate_recipients_esc", .esc = "4.5.3|5.5.3",
	  .cat = DIAG_RATE_LIMITED, .reason = R_RECIPIENTS },
	{ .name = "rate_login_attempts",
	  .words = "too many login|too many auth|too many failed|"
	           "too many invalid|too many bad|too many unsuccessful",
	  .cat = DIAG_RATE_LIMITED, .reason = R_LOGIN_ATTEMPTS },
	/* A budget per day (Gmail 5.4.5, Microsoft's recipient rate, hosting
	 * companies' "N messages per day"): waiting for the next day helps. */
	{ .name = "rate_daily",
	  .words = "daily|per day|a day|24-hour|24 hour|24h|/ 1d|"
	           "submissionquotaexceeded",
	  .cat = DIAG_RATE_LIMITED, .reason = R_DAILY_LIMIT },
	{ .name = "rate_daily_esc", .esc = "5.4.5|4.4.5",
	  .cat = DIAG_RATE_LIMITED, .reason = R_DAILY_LIMIT },
	/* Paid-for sending (SendGrid, Brevo, Mailjet credits). */
	{ .name = "rate_credits",
	  .words = "credits exceeded|credit limit|out of credits|no credits|"
	           "maximum credits|credits have been|insufficient credits",
	  .cat = DIAG_RATE_LIMITED, .reason = R_CREDITS },
	/* The receiving side defers because of how much, or what, this sender
	 * sends: volume and complaints, not a setting of the account. */
	{ .name = "rate_volume",
	  .words = "unexpected volume|user complaints|complaint|"
	           "unsolicited mail|unusual rate of unsolicited|"
	           "suspicious volume|high volume|excessive volume",
	  .cat = DIAG_RATE_LIMITED, .reason = R_VOLUME },
	{ .name = "rate_quota",
	  .words = "quota exceeded|quotaexceeded|exceeded quota|"
	           "exceeded the quota|over quota|sending quota|outgoing quota|"
	           "email quota",
	  .cat = DIAG_RATE_LIMITED, .reason = R_QUOTA },
	/* Postfix, Exim (ratelimit ACLs, often without an enhanced code),
	 * hosting companies and the big providers, at any stage: words that
	 * count messages. */
	{ .name = "rate_messages",
	  .words = "too much mail|too many messages|too many mails|"
	           "too many emails|sending limit|unusual rate|message rate|"
	           "sending rate|sender rate|messaging limit|hourly limit|"
	           "per hour|an hour|/ 1h|sending activity|"
	           "maximum number of messages|messages per|emails per|"
	           "mails per|allowed outgoing messages|limit on the number",
	  .cat = DIAG_RATE_LIMITED, .reason = R_MESSAGES },
	/* Words that name a limit but not what it counts. At the greeting
	 * nothing has been sent yet: what is counted there is this host's
	 * connections (cPanel's "reached its limit for processing requests
	 * from your host"). Later, the messages. */
	{ .name = "rate_at_greeting", .stages = S(STAGE_GREETING),
	  .words = RATE_LIMIT_WORDS,
	  .cat = DIAG_RATE_LIMITED, .reason = R_CONNECTIONS },
	{ .name = "rate_limit_words", .words = RATE_LIMIT_WORDS,
	  .cat = DIAG_RATE_LIMITED, .reason = R_MESSAGES },
	/* Postfix and others defer a sender over its budget with a bare "try
	 * again later" under 4.7.x. */
	{ .name = "rate_try_later", .code_lo = 450, .code_hi = 452,
	  .esc = "4.7.", .words = "try again later|try later|retry later",
	  .cat = DIAG_RATE_LIMITED, .reason = R_DEFERRED },
	{ .name = "rate_imap_limit", .imap_code = "LIMIT",
	  .cat = DIAG_RATE_LIMITED, .reason = R_LIMIT },
	{ .name = "rate_too_many", .words = "too many",
	  .cat = DIAG_RATE_LIMITED, .reason = R_TOO_MANY },

	/* -- STARTTLS. */
	{ .name = "starttls_temporary", .stages = S(STAGE_STARTTLS),
	  .code_lo = 400, .code_hi = 499,
	  .cat = DIAG_STARTTLS_UNAVAILABLE, .reason = R_TEMPORARY },
	{ .name = "starttls_not_supported", .stages = S(STAGE_STARTTLS),
	  .code_lo = 500, .code_hi = 504,
	  .cat = DIAG_STARTTLS_UNAVAILABLE, .reason = R_NOT_SUPPORTED },
	/* The probe's own words: bytes that came after the STARTTLS reply,
	 * where a man in the middle could have injected them. */
	{ .name = "starttls_injected", .stages = S(STAGE_STARTTLS),
	  .words = "clear-text data after",
	  .cat = DIAG_PROTOCOL_ERROR, .reason = R_DATA_AFTER_STARTTLS },
	{ .name = "starttls_garbled", .stages = S(STAGE_STARTTLS),
	  .proto = P_SMTP, .need = F_GARBLED,
	  .cat = DIAG_PROTOCOL_ERROR, .reason = R_UNPARSEABLE_REPLY },
	{ .name = "starttls_not_offered", .stages = S(STAGE_STARTTLS),
	  .cat = DIAG_STARTTLS_UNAVAILABLE, .reason = R_NOT_OFFERED },

	/* -- Logging in. Gmail says "app password" under 534 5.7.9, others
	 * under 535 or an IMAP [ALERT]: the words decide. */
	{ .name = "auth_app_password", .stages = S_LOGIN,
	  .words = "application-specific password|app password|"
	           "app-specific password|apppassword|application password|"
	           "authorization code",
	  .cat = DIAG_AUTH_FAILED, .reason = R_APP_PASSWORD_REQUIRED },
	{ .name = "auth_web_login", .stages = S_LOGIN, .esc = "5.7.14|4.7.14",
	  .cat = DIAG_AUTH_FAILED, .reason = R_WEB_LOGIN_REQUIRED },
	{ .name = "auth_imap_webalert", .imap_code = "WEBALERT",
	  .cat = DIAG_AUTH_FAILED, .reason = R_WEB_LOGIN_REQUIRED },
	{ .name = "auth_web_login_words", .stages = S_LOGIN,
	  .words = "web browser|log in via your web|sign in via your web|"
	           "web login required|weblogin|suspicious|unusual sign-in|"
	           "unusual activity|verify your account|signin/continue|"
	           "please log in to|please sign in to",
	  .cat = DIAG_AUTH_FAILED, .reason = R_WEB_LOGIN_REQUIRED },
	/* Microsoft's 5.7.139 and its kin: password logins are turned off
	 * for the tenant, the mailbox or the protocol; no password fixes it. */
	{ .name = "auth_smtp_disabled_esc", .stages = S_LOGIN, .esc = "5.7.139",
	  .cat = DIAG_AUTH_FAILED, .reason = R_SMTP_AUTH_DISABLED },
	{ .name = "auth_smtp_disabled_words", .stages = S_LOGIN,
	  .words = "smtpclientauthentication is disabled|"
	           "basic authentication is disabled|smtp auth is disabled|"
	           "smtp authentication is disabled|smtp auth disabled|"
	           "authenticated smtp is disabled|imap is disabled|"
	           "imap access is disabled|imap is not enabled|"
	           "imap access not enabled|enable imap|not enabled for imap|"
	           "not enabled for smtp|smtp is disabled",
	  .cat = DIAG_AUTH_FAILED, .reason = R_SMTP_AUTH_DISABLED },
	{ .name = "enc_starttls_first", .code_lo = 530, .code_hi = 530,
	  .words = "starttls|tls|encrypt|ssl|secure",
	  .cat = DIAG_ENCRYPTION_REQUIRED, .reason = R_STARTTLS_FIRST },
	{ .name = "enc_538", .code_lo = 538, .code_hi = 538,
	  .cat = DIAG_ENCRYPTION_REQUIRED, .reason = R_ENCRYPTION_REQUIRED },
	{ .name = "enc_esc_5_7_11", .esc = "5.7.11",
	  .cat = DIAG_ENCRYPTION_REQUIRED, .reason = R_ENCRYPTION_REQUIRED },
	{ .name = "enc_imap_privacy", .imap_code = "PRIVACYREQUIRED",
	  .cat = DIAG_ENCRYPTION_REQUIRED, .reason = R_PRIVACY_REQUIRED },
	{ .name = "enc_words", .stages = S_LOGIN,
	  .words = "plaintext authentication|non-secure|without ssl|"
	           "without tls|requires encryption|encryption required|"
	           "must use tls|must use ssl|logindisabled",
	  .cat = DIAG_ENCRYPTION_REQUIRED, .reason = R_PLAINTEXT_DISALLOWED },
	/* No login in clear, STARTTLS on offer: the server logs in only after
	 * TLS, whatever the reply to our AUTH attempt said. */
	{ .name = "enc_auth_after_tls", .stages = S(STAGE_AUTH), .proto = P_SMTP,
	  .need = F_AUTH_NONE | F_OFFER_TLS, .deny = F_TLS_ON,
	  .cat = DIAG_ENCRYPTION_REQUIRED, .reason = R_AUTH_AFTER_TLS },
	{ .name = "auth_not_offered", .need = F_AUTH_NONE,
	  .cat = DIAG_AUTH_UNSUPPORTED, .reason = R_NOT_OFFERED },
	{ .name = "auth_too_weak", .stages = S_LOGIN,
	  .code_lo = 534, .code_hi = 534,
	  .cat = DIAG_AUTH_UNSUPPORTED, .reason = R_MECHANISM_TOO_WEAK },
	{ .name = "auth_mechanism_504", .stages = S_LOGIN,
	  .code_lo = 504, .code_hi = 504,
	  .cat = DIAG_AUTH_UNSUPPORTED, .reason = R_MECHANISM_NOT_SUPPORTED },
	{ .name = "auth_mechanism_words", .stages = S_LOGIN,
	  .words = "mechanism not supported|unrecognized authentication type|"
	           "unsupported authentication|unknown authentication|"
	           "mechanism not available|mechanism is not supported",
	  .cat = DIAG_AUTH_UNSUPPORTED, .reason = R_MECHANISM_NOT_SUPPORTED },
	/* An account closed or locked is no password problem. */
	{ .name = "login_account_disabled", .stages = S_LOGIN,
	  .words = "account disabled|account is disabled|account has been disabled|"
	           "account suspended|account is suspended|"
	           "account has been suspended|account blocked|"
	           "account is blocked|account has been blocked|account locked|"
	           "account is locked|account has been locked|"
	           "account is not active|inactive account",
	  .cat = DIAG_AUTH_FAILED, .reason = R_ACCOUNT_DISABLED },
	/* 530 after a successful login speaks of the sender, not of logging
	 * in: the sender rules below say what. */
	{ .name = "sender_530_after_auth", .stages = S_ENVELOPE,
	  .code_lo = 530, .code_hi = 530, .need = F_AUTH_OK,
	  .cat = DIAG_SENDER_REJECTED, .reason = R_NOT_OWNED },
	/* 530 without words of encryption: we sent mail without logging in. */
	{ .name = "auth_required_530", .code_lo = 530, .code_hi = 530,
	  .deny = F_AUTH_OK,
	  .cat = DIAG_AUTH_FAILED, .reason = R_AUTH_REQUIRED },
	{ .name = "auth_bad_535", .code_lo = 535, .code_hi = 535,
	  .cat = DIAG_AUTH_FAILED, .reason = R_BAD_CREDENTIALS },
	{ .name = "auth_bad_esc", .esc = "5.7.8",
	  .cat = DIAG_AUTH_FAILED, .reason = R_BAD_CREDENTIALS },
	{ .name = "auth_imap_failed", .imap_code = "AUTHENTICATIONFAILED",
	  .cat = DIAG_AUTH_FAILED, .reason = R_BAD_CREDENTIALS },
	{ .name = "auth_imap_authorization", .imap_code = "AUTHORIZATIONFAILED",
	  .cat = DIAG_AUTH_FAILED, .reason = R_NOT_AUTHORIZED },
	{ .name = "auth_imap_expired", .imap_code = "EXPIRED",
	  .cat = DIAG_AUTH_FAILED, .reason = R_PASSWORD_EXPIRED },
	{ .name = "auth_imap_contactadmin", .imap_code = "CONTACTADMIN",
	  .cat = DIAG_AUTH_FAILED, .reason = R_ACCOUNT_DISABLED },
	/* Exchange accepts a wrong password at LOGIN and fails the next
	 * command with these words. */
	{ .name = "imap_post_login_rejected", .proto = P_IMAP,
	  .stages = S(STAGE_IMAP_SELECT) | S(STAGE_IMAP_SEARCH) |
	            S(STAGE_IMAP_LOGIN),
	  .words = "authenticated but not connected",
	  .cat = DIAG_AUTH_FAILED, .reason = R_POST_LOGIN_REJECTED },
	{ .name = "imap_unavailable", .imap_code = "UNAVAILABLE|SERVERBUG",
	  .cat = DIAG_SERVER_UNAVAILABLE, .reason = R_TEMPORARY },
	/* 454 4.7.0 "Temporary authentication failure": the server's password
	 * backend is down; the password may well be right. */
	{ .name = "auth_temporary", .stages = S_LOGIN,
	  .code_lo = 400, .code_hi = 499,
	  .cat = DIAG_SERVER_UNAVAILABLE, .reason = R_TEMPORARY_AUTH_FAILURE },
	{ .name = "auth_words", .stages = S_LOGIN,
	  .words = "authentication failed|invalid credentials|not accepted|"
	           "login failed|incorrect|invalid login|invalid password|"
	           "bad password|wrong password|invalid user|"
	           "authentication unsuccessful|credentials invalid|"
	           "login fail|authentication credentials",
	  .cat = DIAG_AUTH_FAILED, .reason = R_BAD_CREDENTIALS },

	/* -- The envelope. Postfix checks the sender at RCPT time
	 * (smtpd_delay_reject), so sender words count at RCPT too. */
	{ .name = "helo_rejected", .stages = S(STAGE_EHLO) | S_ENVELOPE,
	  .words = "helo command rejected|ehlo command rejected|"
	           "need fully-qualified hostname|invalid helo|invalid ehlo",
	  .cat = DIAG_PROTOCOL_ERROR, .reason = R_EHLO_REJECTED },
	{ .name = "sender_send_as_esc", .stages = S_ENVELOPE, .esc = "5.7.60",
	  .cat = DIAG_SENDER_REJECTED, .reason = R_SEND_AS_DENIED },
	{ .name = "sender_send_as_words", .stages = S_ENVELOPE,
	  .words = "sendasdenied|send as denied|send as permission|"
	           "send-as permission",
	  .cat = DIAG_SENDER_REJECTED, .reason = R_SEND_AS_DENIED },
	/* A sender the service has not verified (SES, SendGrid, Mailgun's
	 * sandbox, Brevo): verifying it is the fix. */
	{ .name = "sender_unverified", .stages = S_ENVELOPE,
	  .words = "not verified|unverified|verified sender|sender identity|"
	           "verify the sender|verify your sender|sandbox|"
	           "authorized recipients|not a verified",
	  .cat = DIAG_SENDER_REJECTED, .reason = R_UNVERIFIED_SENDER },
	/* The account may not send at all for now: blocked, suspended. */
	{ .name = "sender_account_blocked", .stages = S_ENVELOPE,
	  .words = "outgoing blocked|outgoing mail blocked|sending blocked|"
	           "sending disabled|sending has been disabled|"
	           "account suspended|account is suspended|"
	           "account has been suspended|account blocked|"
	           "account is blocked|account has been blocked|"
	           "account disabled|account has been disabled|"
	           "account is disabled|blocked for sending|"
	           "suspended for sending|unblock|has been suspended|"
	           "is suspended",
	  .cat = DIAG_SENDER_REJECTED, .reason = R_ACCOUNT_BLOCKED },
	{ .name = "sender_not_owned", .stages = S_ENVELOPE,
	  .words = "not owned by user|sender address rejected|"
	           "sender not allowed|not allowed to send as|"
	           "not authorized to send|sender rejected|sender mismatch|"
	           "relaying disallowed|not available in bridge|"
	           "invalid return path|from address does not match|"
	           "not allowed to send from|not permitted to send|"
	           "sender is not allowed|is not allowed to send|"
	           "does not match authenticated|not logged in as|"
	           "not authenticated as|sender verify failed|"
	           "unauthenticated senders not allowed|not your address",
	  .cat = DIAG_SENDER_REJECTED, .reason = R_NOT_OWNED },
	{ .name = "client_blocked", .stages = S_DIALOGUE,
	  .words = "client host rejected|blocklist|blacklist|block list|"
	           "black list|spamhaus|dnsbl|blocked using|listed at",
	  .cat = DIAG_SERVER_UNAVAILABLE, .reason = R_CLIENT_BLOCKED },
	{ .name = "sender_mail_553", .stages = S(STAGE_MAIL),
	  .code_lo = 553, .code_hi = 553,
	  .cat = DIAG_SENDER_REJECTED, .reason = R_ADDRESS_NOT_ALLOWED },
	{ .name = "sender_mail_syntax", .stages = S(STAGE_MAIL),
	  .code_lo = 501, .code_hi = 501,
	  .cat = DIAG_SENDER_REJECTED, .reason = R_BAD_ADDRESS },
	{ .name = "rcpt_relay_denied", .stages = S(STAGE_RCPT) | S(STAGE_MAIL),
	  .words = "relay access denied|relaying denied|relay not permitted|"
	           "unable to relay|not permitted to relay|relay denied|"
	           "relaying not allowed",
	  .cat = DIAG_RECIPIENT_REJECTED, .reason = R_RELAY_DENIED },
	{ .name = "rcpt_unknown_esc", .stages = S(STAGE_RCPT),
	  .esc = "5.1.1|4.1.1",
	  .cat = DIAG_RECIPIENT_REJECTED, .reason = R_UNKNOWN_USER },
	{ .name = "rcpt_unknown_words", .stages = S(STAGE_RCPT),
	  .words = "user unknown|unknown user|no such user|does not exist|"
	           "mailbox unavailable|no mailbox|invalid recipient|"
	           "unknown recipient|recipient not found",
	  .cat = DIAG_RECIPIENT_REJECTED, .reason = R_UNKNOWN_USER },
	{ .name = "rcpt_bad_address_esc", .stages = S(STAGE_RCPT),
	  .esc = "5.1.",
	  .cat = DIAG_RECIPIENT_REJECTED, .reason = R_BAD_ADDRESS },
	{ .name = "data_rejected", .stages = S(STAGE_DATA),
	  .code_lo = 500, .code_hi = 599,
	  .cat = DIAG_SENDER_REJECTED, .reason = R_MESSAGE_REJECTED },

	/* -- The server's state. A 421 or 554 greeting without limit words is
	 * a server not taking mail now. */
	{ .name = "greeting_421", .stages = S(STAGE_GREETING),
	  .code_lo = 421, .code_hi = 421,
	  .cat = DIAG_SERVER_UNAVAILABLE, .reason = R_CLOSING },
	{ .name = "greeting_554", .stages = S(STAGE_GREETING),
	  .code_lo = 554, .code_hi = 554,
	  .cat = DIAG_SERVER_UNAVAILABLE, .reason = R_NO_SERVICE },
	{ .name = "greeting_5xx", .stages = S(STAGE_GREETING),
	  .code_lo = 500, .code_hi = 599,
	  .cat = DIAG_SERVER_UNAVAILABLE, .reason = R_NO_SERVICE },
	{ .name = "imap_bye", .proto = P_IMAP, .words = "bye",
	  .stages = S(STAGE_GREETING),
	  .cat = DIAG_SERVER_UNAVAILABLE, .reason = R_CLOSING },
	{ .name = "any_421", .code_lo = 421, .code_hi = 421,
	  .cat = DIAG_SERVER_UNAVAILABLE, .reason = R_CLOSING },
	{ .name = "any_4xx", .proto = P_SMTP, .code_lo = 400, .code_hi = 499,
	  .fallback = true,
	  .cat = DIAG_SERVER_UNAVAILABLE, .reason = R_TEMPORARY },

	/* -- Replies that are not SMTP. */
	{ .name = "bad_reply_code", .proto = P_SMTP, .need = F_BAD_CODE,
	  .cat = DIAG_PROTOCOL_ERROR, .reason = R_BAD_REPLY },
	{ .name = "unparseable_reply", .proto = P_SMTP, .need = F_GARBLED,
	  .stages = S_DIALOGUE,
	  .cat = DIAG_PROTOCOL_ERROR, .reason = R_UNPARSEABLE_REPLY },
	{ .name = "ehlo_rejected", .stages = S(STAGE_EHLO),
	  .code_lo = 500, .code_hi = 599,
	  .cat = DIAG_PROTOCOL_ERROR, .reason = R_EHLO_REJECTED },
	/* A reply that never ended (the probe stops reading at its budget):
	 * the server is not speaking the protocol, it did not hang up. */
	{ .name = "reply_without_end", .stages = S_DIALOGUE,
	  .errnos = { EMSGSIZE },
	  .cat = DIAG_PROTOCOL_ERROR, .reason = R_REPLY_WITHOUT_END },
	/* The server hung up without a word (before the stage's own rule:
	 * an empty login failure is not a wrong password). */
	{ .name = "connection_closed", .stages = S_DIALOGUE,
	  .need = F_NO_REPLY,
	  .cat = DIAG_SERVER_UNAVAILABLE, .reason = R_CONNECTION_CLOSED },

	/* -- One catch-all per stage. */
	{ .name = "greeting_other", .fallback = true, .stages = S(STAGE_GREETING),
	  .cat = DIAG_PROTOCOL_ERROR, .reason = R_UNEXPECTED_GREETING },
	{ .name = "ehlo_other", .fallback = true, .stages = S(STAGE_EHLO),
	  .cat = DIAG_PROTOCOL_ERROR, .reason = R_EHLO_FAILED },
	{ .name = "cert_other", .stages = S(STAGE_CERT),
	  .cat = DIAG_INVALID_CERTIFICATE, .reason = R_UNTRUSTED },
	{ .name = "login_other", .fallback = true, .stages = S_LOGIN,
	  .cat = DIAG_AUTH_FAILED, .reason = R_REJECTED },
	{ .name = "mail_other", .fallback = true, .stages = S(STAGE_MAIL),
	  .cat = DIAG_SENDER_REJECTED, .reason = R_REJECTED },
	{ .name = "rcpt_other", .fallback = true, .stages = S(STAGE_RCPT),
	  .cat = DIAG_RECIPIENT_REJECTED, .reason = R_REJECTED },
	{ .name = "data_other", .fallback = true, .stages = S(STAGE_DATA),
	  .cat = DIAG_PROTOCOL_ERROR, .reason = R_DATA_FAILED },
	{ .name = "quit_other", .fallback = true, .stages = S(STAGE_QUIT),
	  .cat = DIAG_PROTOCOL_ERROR, .reason = R_QUIT_FAILED },
	{ .name = "imap_select_other", .fallback = true, .stages = S(STAGE_IMAP_SELECT),
	  .cat = DIAG_PROTOCOL_ERROR, .reason = R_SELECT_FAILED },
	{ .name = "imap_search_other", .fallback = true, .stages = S(STAGE_IMAP_SEARCH),
	  .cat = DIAG_PROTOCOL_ERROR, .reason = R_SEARCH_FAILED },
	{ .name = "no_stage", .stages = S(STAGE_NONE),
	  .cat = DIAG_INTERNAL_ERROR, .reason = R_NO_STAGE },
	/* Only a stage outside the enum gets here. */
	{ .name = "unclassified",
	  .cat = DIAG_INTERNAL_ERROR, .reason = R_UNCLASSIFIED },
};

#define NRULES (sizeof rules / sizeof rules[0])

size_t
diag_rule_count(void)
{
	return NRULES;
}

const char *
diag_rule_name(size_t i)
{
	return i < NRULES ? rules[i].name : NULL;
}

/* ---- matching --------------------------------------------------------- */

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Does hay contain the first n bytes of needle, ignoring ASCII case? */
static bool
ci_contains(const char *hay, const char *needle, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (; *hay; hay++) {
		for (i = 0; i < n && hay[i]; i++)
			if (lower(hay[i]) != lower(needle[i]))
				break;
		if (i == n)
			return true;
	}
	return false;
}

static bool
ci_equal(const char *a, size_t an, const char *b)
{
	size_t i;

	for (i = 0; i < an; i++)
		if (b[i] == '\0' || lower(a[i]) != lower(b[i]))
			return false;
	return b[an] == '\0';
}

/* The enhanced status code (RFC 3463, "class.subject.detail") at the start
 * of the reply, after an optional "NNN " or "NNN-"; "" when there is none. */
static void
parse_esc(const char *s, char *out, size_t outlen)
{
	const char *p;
	size_t n, i;
	int part;

	out[0] = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	if (is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) &&
	    (s[3] == ' ' || s[3] == '-'))
		s += 4;
	if (s[0] != '2' && s[0] != '4' && s[0] != '5')
		return;
	if (s[1] != '.')
		return;
	p = s + 2;
	for (part = 0; part < 2; part++) {
		for (n = 0; n < 3 && is_digit(p[n]); n++)
			;
		if (n == 0 || is_digit(p[n]))
			return;
		p += n;
		if (part == 0) {
			if (*p != '.')
				return;
			p++;
		}
	}
	if (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' && *p != ';'
	    && *p != ',')
		return;
	n = (size_t)(p - s);
	if (n >= outlen)
		return;
	for (i = 0; i < n; i++)
		out[i] = s[i];
	out[n] = '\0';
}

/* Does the '|'-separated list match? kind: 'w' substring of text, 'e'
 * enhanced code (exact, or prefix when the item ends with '.'), 'a' IMAP
 * atom (case-insensitive equality). */
static bool
list_find(const char *list, char sep, const char *text, char kind,
          const char **hit, size_t *hitlen)
{
	const char *item = list, *bar;
	size_t n;
	bool yes;

	if (text[0] == '\0')
		return false;
	for (;;) {
		bar = strchr(item, sep);
		n = bar ? (size_t)(bar - item) : strlen(item);
		yes = false;
		if (n > 0) {
			switch (kind) {
			case 'w':
				yes = ci_contains(text, item, n);
				break;
			case 'e':
				yes = item[n - 1] == '.' ? strncmp(text, item, n) == 0
				    : (strlen(text) == n && strncmp(text, item, n) == 0);
				break;
			default:
				yes = ci_equal(item, n, text);
				break;
			}
		}
		if (yes) {
			if (hit) {
				*hit = item;
				*hitlen = n;
			}
			return true;
		}
		if (bar == NULL)
			return false;
		item = bar + 1;
	}
}

static bool
list_match(const char *list, const char *text, char kind)
{
	return list_find(list, '|', text, kind, NULL, NULL);
}

static bool
int_in(const int *v, size_t n, int x)
{
	size_t i;

	for (i = 0; i < n && v[i] != 0; i++)
		if (v[i] == x)
			return true;
	return false;
}

struct facts {
	unsigned flags;
	char esc[16];
	char imap_code[64];
	const struct preset *preset;
	/* The preset's hint that matched, with its category and reason. */
	const struct preset_hint *hint;
	enum diag_cat hint_cat;
	enum diag_reason hint_reason;
};

static int
reason_from_name(const char *name)
{
	size_t i;

	for (i = 1; i < R_NREASONS; i++)
		if (strcmp(reason_names[i], name) == 0)
			return (int)i;
	return -1;
}

bool
diag_hint_valid(const struct preset_hint *h)
{
	int c = h ? diag_cat_from_name(h->cat) : -1;

	/* A hint explains a reply: not success, not our own states. */
	return c > DIAG_OK && c != DIAG_CANCELLED && c != DIAG_INTERNAL_ERROR &&
	       reason_from_name(h->reason) > 0;
}

const char *
diag_reason_name(size_t i)
{
	return i + 1 < R_NREASONS ? reason_names[i + 1] : NULL;
}

/* Does the hint's every kind of code hold (one of each kind given)? */
static bool
hint_codes_match(const struct preset_hint *h, const struct diag_evidence *ev,
                 const struct facts *f)
{
	bool want[4] = { false }, got[4] = { false };
	const char *s = h->codes;
	char tok[40], code[8];
	size_t n;
	int k;

	str_printf(code, sizeof code, "%d", ev->reply_code);
	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		n = strcspn(s, " \t");
		if (n == 0)
			break;
		if (n >= sizeof tok)
			return false;
		memcpy(tok, s, n);
		tok[n] = '\0';
		s += n;
		if (n == 3 && is_digit(tok[0])) {
			k = 0;
			got[k] |= ev->reply_code != 0 && strcmp(tok, code) == 0;
		} else if (is_digit(tok[0])) {
			k = 1;
			got[k] |= strcmp(tok, f->esc) == 0;
		} else if (tok[0] == '[') {
			k = 2;
			tok[n - 1] = '\0';
			got[k] |= ci_equal(tok + 1, n - 2, f->imap_code);
		} else {
			k = 3;
			got[k] |= strcmp(tok, diag_stage_name(ev->stage)) == 0;
		}
		want[k] = true;
	}
	for (k = 0; k < 4; k++)
		if (want[k] && !got[k])
			return false;
	return true;
}

/* The preset's first hint that matches the reply. */
static bool
hint_find(const struct diag_evidence *ev, struct facts *f)
{
	const struct preset *p = f->preset;
	size_t i;

	if (p == NULL)
		return false;
	for (i = 0; i < p->nhints && i < PRESET_MAX_HINTS; i++) {
		const struct preset_hint *h = &p->hints[i];

		if (!diag_hint_valid(h))
			continue;
		if (h->words[0] && !list_find(h->words, ';', ev->reply, 'w',
		                              NULL, NULL))
			continue;
		if (!hint_codes_match(h, ev, f))
			continue;
		f->hint = h;
		f->hint_cat = (enum diag_cat)diag_cat_from_name(h->cat);
		f->hint_reason = (enum diag_reason)reason_from_name(h->reason);
		return true;
	}
	return false;
}

static void
facts_gather(const struct diag_evidence *ev, enum security sec,
             unsigned port, struct facts *f)
{
	const char *s;
	size_t n;

	f->flags = 0;
	if (ev->timed_out || ev->sys_errno == ETIMEDOUT)
		f->flags |= F_TIMEOUT;
	if (ev->cancelled)
		f->flags |= F_CANCELLED;
	if (ev->tls_handshake_failed)
		f->flags |= F_HS_FAILED;
	if (ev->peer_spoke_plain)
		f->flags |= F_PEER_PLAIN;
	if (ev->peer_spoke_tls)
		f->flags |= F_PEER_TLS;
	if (ev->auth_not_offered)
		f->flags |= F_AUTH_NONE;
	if (ev->internal)
		f->flags |= F_INTERNAL;
	if (ev->tls_version_refused)
		f->flags |= F_OLD_TLS;
	if (ev->ca_file_why[0])
		f->flags |= F_CA_FILE;
	if (ev->offered_starttls)
		f->flags |= F_OFFER_TLS;
	if (ev->tls_on)
		f->flags |= F_TLS_ON;
	if (ev->auth_ok)
		f->flags |= F_AUTH_OK;
	if (sec == SEC_SSL)
		f->flags |= F_SEC_SSL;
	if (port == 465 || port == 993)
		f->flags |= F_TLS_PORT;
	if (ev->reply_code == 0 && ev->reply[0] == '\0' &&
	    ev->imap_code[0] == '\0')
		f->flags |= F_NO_REPLY;
	if (ev->reply_code != 0 &&
	    (ev->reply_code < 200 || ev->reply_code > 599))
		f->flags |= F_BAD_CODE;
	if (!ev->imap && ev->reply_code == 0 && ev->reply[0] != '\0')
		f->flags |= F_GARBLED;
	parse_esc(ev->reply, f->esc, sizeof f->esc);
	/* The atom alone: "[AUTHENTICATIONFAILED]" and "ALERT foo" both
	 * reduce to their first word. */
	s = ev->imap_code;
	while (*s == '[' || *s == ' ')
		s++;
	n = strcspn(s, " ]");
	if (n >= sizeof f->imap_code)
		n = 0;
	memcpy(f->imap_code, s, n);
	f->imap_code[n] = '\0';
}

static bool
rule_matches(const struct diag_rule *r, const struct diag_evidence *ev,
             struct facts *f)
{
	if (r->stages != 0 &&
	    ((unsigned)ev->stage >= 32 || !(r->stages & S(ev->stage))))
		return false;
	if (r->proto == P_SMTP && ev->imap)
		return false;
	if (r->proto == P_IMAP && !ev->imap)
		return false;
	if (r->code_lo != 0 &&
	    (ev->reply_code < r->code_lo || ev->reply_code > r->code_hi))
		return false;
	if (r->esc != NULL && !list_match(r->esc, f->esc, 'e'))
		return false;
	if (r->words != NULL && !list_match(r->words, ev->reply, 'w'))
		return false;
	if (r->imap_code != NULL && !list_match(r->imap_code, f->imap_code, 'a'))
		return false;
	if (r->errnos[0] != 0 &&
	    !int_in(r->errnos, sizeof r->errnos / sizeof r->errnos[0],
	            ev->sys_errno))
		return false;
	if (r->gai[0] != 0 &&
	    !int_in(r->gai, sizeof r->gai / sizeof r->gai[0], ev->gai_error))
		return false;
	if (r->cert != CERT_OK && ev->cert != r->cert)
		return false;
	if ((f->flags & r->need) != r->need)
		return false;
	if ((f->flags & r->deny) != 0)
		return false;
	if (r->hint && !hint_find(ev, f))
		return false;
	return true;
}

/* ---- fixes ------------------------------------------------------------ */

struct ctx {
	const struct diag_evidence *ev;
	const struct account *a;
	const struct preset *p;
	struct diagnosis *out;
	enum diag_reason reason;
	bool imap;
	const char *proto;      /* "SMTP" or "IMAP" */
	const char *host;
	unsigned port;
	enum security sec;
	const char *pname;      /* the provider's name, NULL without preset */
	const char *local_app;  /* the preset's local application, or NULL */
	const struct preset_hint *hint;  /* the preset's hint that decided */
	bool fallback;          /* no specific rule: the words are the clue */
};

static void fix(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Adds one fix, sanitised (a host or a name could carry anything) and
 * bounded; duplicates are dropped. */
static void
fix(struct ctx *c, const char *fmt, ...)
{
	char tmp[sizeof c->out->fixes[0]];
	va_list ap;
	size_t i;
	int n;

	if (c->out->nfixes >= DIAG_MAX_FIXES)
		return;
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	str_sanitize(c->out->fixes[c->out->nfixes], sizeof c->out->fixes[0],
	             tmp, strlen(tmp));
	for (i = 0; i < c->out->nfixes; i++)
		if (strcmp(c->out->fixes[i], c->out->fixes[c->out->nfixes]) == 0)
			return;
	c->out->nfixes++;
}

static bool
reason_is(const struct ctx *c, enum diag_reason r)
{
	return c->reason == r;
}

static const char *
sec_name(enum security s)
{
	return security_name(s);
}

/* The usual other way in: implicit TLS becomes STARTTLS on the submission
 * port, and the reverse. */
static void
other_way(const struct ctx *c, unsigned *port, enum security *sec)
{
	if (c->sec == SEC_SSL) {
		*sec = SEC_STARTTLS;
		*port = c->imap ? 143 : 587;
	} else {
		*sec = SEC_SSL;
		*port = c->imap ? 993 : 465;
	}
}

static void
fix_try_other_port(struct ctx *c)
{
	unsigned port;
	enum security sec;

	other_way(c, &port, &sec);
	fix(c, _("Test with another port: %u with %s instead of %u with %s."),
	    port, sec_name(sec), c->port, sec_name(c->sec));
}

static const char *
login_name(const struct ctx *c)
{
	if (c->a == NULL)
		return "";
	if (c->imap && c->a->imap_username[0])
		return c->a->imap_username;
	return c->a->username;
}

static void
fixes_dns(struct ctx *c)
{
	if (reason_is(c, R_RESOLVER_UNAVAILABLE)) {
		fix(c, _("Check this machine's network connection and DNS "
		    "settings: the name server did not answer for %s."), c->host);
		fix(c, _("Try again in a moment: a resolver that does not answer "
		    "is usually a temporary problem."));
		return;
	}
	if (reason_is(c, R_NO_ADDRESS))
		fix(c, _("Check the server name with your provider: %s exists but "
		    "has no address."), c->host);
	else if (reason_is(c, R_NO_SUCH_HOST))
		fix(c, _("Check the server name \"%s\": it does not exist in DNS "
		    "(look for a typo)."), c->host);
	else
		fix(c, _("Check the server name \"%s\": it could not be looked "
		    "up."), c->host);
	if (c->p != NULL) {
		const struct preset_server *ps = c->imap ? c->p->imap : c->p->smtp;
		size_t n = c->imap ? c->p->nimap : c->p->nsmtp;

		if (n > 0 && strcmp(ps[0].host, c->host) != 0)
			fix(c, _("Use %s's %s server %s."), c->pname, c->proto,
			    ps[0].host);
	}
	fix(c, _("Check this machine's network connection and DNS settings."));
}

static void
fixes_refused(struct ctx *c)
{
	if (c->local_app) {
		fix(c, _("%s is not running: start it on this machine."), c->local_app);
		fix(c, _("Check the %s port in %s's settings; this account uses %u."),
		    c->proto, c->local_app, c->port);
	}
	if (reason_is(c, R_UNREACHABLE))
		fix(c, _("Check the server %s: this machine has no route to it, "
		    "or a firewall on the way rejects it."), c->host);
	else if (reason_is(c, R_NETWORK_UNREACHABLE))
		fix(c, _("Check this machine's network connection: it has no route "
		    "to %s."), c->host);
	else if (reason_is(c, R_BLOCKED_LOCALLY))
		fix(c, _("Allow outgoing connections to port %u: a firewall or "
		    "security policy on this machine blocked it."), c->port);
	else
		/* only a refusal proves the host answered */
		fix(c, _("Check the server and the port: nothing accepted a "
		    "connection on %s:%u."), c->host, c->port);
	fix(c, _("Make sure no firewall blocks outgoing port %u."), c->port);
	if (!c->local_app)
		fix_try_other_port(c);
}

static void
fixes_timeout(struct ctx *c)
{
	if (reason_is(c, R_NO_ANSWER)) {
		fix(c, _("Check the server and the port: nothing answered on "
		    "%s:%u in time."), c->host, c->port);
		if (c->port == 25 && !c->imap)
			fix(c, _("Use port 587 with starttls: many networks block "
			    "outgoing port 25."));
		else
			fix(c, _("Make sure no firewall silently drops outgoing "
			    "port %u."), c->port);
		fix_try_other_port(c);
		return;
	}
	if (reason_is(c, R_NO_GREETING) && c->sec != SEC_SSL) {
		fix(c, _("Check the encryption: a server on %s:%u that says "
		    "nothing may expect ssl from the first byte."), c->host,
		    c->port);
		fix_try_other_port(c);
	}
	fix(c, _("Try again later: the server %s may be overloaded."), c->host);
	fix(c, _("Check your network connection: the %s server stopped "
	    "answering at stage %s."), c->proto, diag_stage_name(c->ev->stage));
}

static void
fixes_tls_mismatch(struct ctx *c)
{
	const struct diag_evidence *ev = c->ev;
	const char *stream = c->imap ? "IMAP" : "SMTP";
	unsigned port;

	if (reason_is(c, R_OLD_TLS_ONLY)) {
		fix(c, _("The server %s:%u offers only TLS 1.0 or 1.1, which are "
		    "broken (RFC 8996): ask your provider for TLS 1.2 or later."),
		    c->host, c->port);
		fix(c, _("Test another port of this server: one may speak a newer "
		    "TLS."));
		fix(c, _("Only if you accept that an attacker on the network may "
		    "read your password: account edit %s --allow-old-tls."),
		    c->a && c->a->email[0] ? c->a->email : "EMAIL");
		return;
	}
	if (c->sec == SEC_SSL) {
		/* Implicit TLS met plain text. A greeting means this very port
		 * speaks the protocol, so STARTTLS on it; else the usual port.
		 * Mail servers speak first, so clear text with no reply kept
		 * is taken for a greeting. */
		bool greeted = ev->peer_spoke_plain &&
		    ((ev->reply_code == 0 && ev->reply[0] == '\0') ||
		     ev->reply_code == 220 ||
		     (c->imap && ci_contains(ev->reply, "OK", 2)));

		port = greeted ? c->port : (c->imap ? 143 : 587);
		if (ev->peer_spoke_plain)
			fix(c, _("This port speaks plain %s: use port %u with "
			    "starttls."), stream, port);
		else
			fix(c, _("The TLS handshake on port %u failed: use port "
			    "%u with starttls."), c->port, port);
		fix(c, _("Or use port %u with ssl, if your provider offers it."),
		    c->imap ? 993 : 465);
	} else {
		/* Plain text (or STARTTLS) met a TLS-only port. */
		fix(c, _("This port expects TLS from the first byte: use port %u "
		    "with ssl."), c->port);
		fix(c, _("Or use port %u with starttls."), c->imap ? 143 : 587);
	}
	fix(c, _("Match the encryption to the port: %s with starttls (TLS), "
	    "%s with ssl (SSL)."), c->imap ? "143" : "587",
	    c->imap ? "993" : "465");
}

static void
fixes_starttls(struct ctx *c)
{
	if (reason_is(c, R_TEMPORARY))
		fix(c, _("Try again later: the server could not start encryption "
		    "just now."));
	fix(c, _("Use port %u with ssl: the server on %s:%u does not offer "
	    "STARTTLS."), c->imap ? 993 : 465, c->host, c->port);
	fix(c, _("Ask your provider which port supports encryption."));
	fix(c, _("Choose encryption none only for a server on this machine or a "
	    "network you trust."));
}

static void
fixes_certificate(struct ctx *c)
{
	const char *pin = c->out->pin_candidate;

	if (reason_is(c, R_CA_FILE_REFUSED)) {
		fix(c, "%s.", c->ev->ca_file_why);
		fix(c, _("Nothing was sent: the CA file decides which server gets "
		    "the password, so it must be a regular file that only you "
		    "or root can change."));
		fix(c, _("Or stop using it: account edit %s --ca-file ''."),
		    c->a && c->a->email[0] ? c->a->email : "EMAIL");
		return;
	}
	if (reason_is(c, R_PIN_MISMATCH)) {
		fix(c, _("The certificate changed since you pinned it: check with "
		    "your provider before re-pinning."));
		if (pin[0])
			fix(c, _("The server now shows %s: pin it only once your "
			    "provider confirms it."), pin);
		return;
	}
	fix(c, _("Make sure you use the right encryption type and server name "
	    "for port %u."), c->port);
	if (reason_is(c, R_EXPIRED)) {
		fix(c, _("Contact your provider: the certificate of %s has "
		    "expired."), c->host);
		fix(c, _("Check this machine's date and time."));
	} else if (reason_is(c, R_NOT_YET_VALID)) {
		fix(c, _("Check this machine's date and time: the certificate is "
		    "not valid yet."));
	} else if (reason_is(c, R_HOSTNAME_MISMATCH)) {
		fix(c, _("The certificate is for another name: use the server name "
		    "on the certificate instead of %s."), c->host);
		if (c->p != NULL) {
			const struct preset_server *ps =
			    c->imap ? c->p->imap : c->p->smtp;
			size_t n = c->imap ? c->p->nimap : c->p->nsmtp;

			if (n > 0 && strcmp(ps[0].host, c->host) != 0)
				fix(c, _("Use %s's server %s."), c->pname,
				    ps[0].host);
		}
	} else if (reason_is(c, R_SELF_SIGNED)) {
		fix(c, _("The server uses a self-signed certificate (ProtonMail "
		    "Bridge does): pin its fingerprint instead of turning "
		    "checks off."));
		if (pin[0])
			fix(c, _("Check it with the server's administrator, then "
			    "pin it: p in the console, or account edit --pin "
			    "%s."), pin);
	} else {
		fix(c, _("Add your provider's CA certificate with --ca-file, or "
		    "pin the server's fingerprint."));
		if (pin[0])
			fix(c, _("The fingerprint to pin is %s: check it with your "
			    "provider first."), pin);
		fix(c, _("Contact your provider: the certificate of %s is not "
		    "signed by an authority this machine trusts."), c->host);
	}
}

static void
fixes_auth_failed(struct ctx *c)
{
	const char *user = login_name(c);
	const char *email = c->a ? c->a->email : "";

	if (reason_is(c, R_APP_PASSWORD_REQUIRED)) {
		if (c->pname)
			fix(c, _("%s requires an app password: create one in %s's "
			    "security settings."), c->pname, c->pname);
		else
			fix(c, _("Your provider requires an app password: create "
			    "one in its security settings (Settings > "
			    "Security > App passwords)."));
		fix(c, _("Use the app password instead of your main password."));
		return;
	}
	if (reason_is(c, R_WEB_LOGIN_REQUIRED)) {
		fix(c, _("Sign in once with a web browser on your provider's web "
		    "page: it blocked this login until you confirm it."));
		fix(c, _("Use an app password if two-factor authentication (2FA) "
		    "is enabled."));
		return;
	}
	if (reason_is(c, R_SMTP_AUTH_DISABLED)) {
		fix(c, _("Ask your administrator to enable %s AUTH (password "
		    "login) for this mailbox: the server turned it off, and no "
		    "password can fix that."), c->proto);
		fix(c, _("Or sign in with OAuth, if your provider and sending "
		    "system offer it."));
		return;
	}
	if (reason_is(c, R_POST_LOGIN_REJECTED)) {
		fix(c, _("Check the password: the server accepted LOGIN but refused "
		    "the next command, as Exchange does with a wrong password."));
		fix(c, _("If the password is right, ask your administrator whether "
		    "IMAP is enabled for this mailbox."));
		return;
	}
	if (reason_is(c, R_ACCOUNT_DISABLED)) {
		fix(c, _("Contact your provider: the account is disabled, "
		    "suspended or locked, and no setting here can fix it."));
		return;
	}
	if (reason_is(c, R_PASSWORD_EXPIRED)) {
		fix(c, _("Change your password in your provider's web interface: "
		    "it has expired."));
		return;
	}
	if (reason_is(c, R_NOT_AUTHORIZED)) {
		fix(c, _("Enable %s access for this account in your provider's "
		    "settings, or ask your administrator."), c->proto);
		fix(c, _("Contact your provider: the account may be disabled."));
		return;
	}
	if (reason_is(c, R_AUTH_REQUIRED)) {
		fix(c, _("Set the username and password: the server only accepts "
		    "mail after login."));
		return;
	}
	if (c->local_app)
		fix(c, _("Use the password %s shows for this account, not your "
		    "account's own password."), c->local_app);
	if (user[0] && email[0] && strcmp(user, email) != 0)
		fix(c, _("Check the username: it is often the full email address "
		    "(you use \"%s\", the address is %s)."), user, email);
	else if (user[0])
		fix(c, _("Check the username \"%s\" (often the full email "
		    "address)."), user);
	else
		fix(c, _("Check the username (often the full email address)."));
	if (c->p != NULL && c->p->app_password && !c->local_app)
		fix(c, _("%s requires an app password: create one in %s's security "
		    "settings."), c->pname, c->pname);
	else if (!c->local_app)
		fix(c, _("Use an app password if two-factor authentication (2FA) "
		    "is enabled."));
	fix(c, _("Check the password's case (Caps Lock)."));
}

static void
fixes_auth_unsupported(struct ctx *c)
{
	if (reason_is(c, R_NOT_OFFERED) && c->sec == SEC_NONE && !c->ev->tls_on)
		fix(c, _("Turn encryption on: most servers offer login only after "
		    "TLS (port 587 with starttls, or 465 with ssl)."));
	if (reason_is(c, R_NOT_OFFERED) && c->port == 25)
		fix(c, _("Use a submission port (587 or 465): port 25 often offers "
		    "no login."));
	else if (reason_is(c, R_NOT_OFFERED))
		fix(c, _("Check the port with your provider: %s:%u offers no login "
		    "method at all."), c->host, c->port);
	if (reason_is(c, R_MECHANISM_TOO_WEAK) && !c->ev->tls_on &&
	    c->sec == SEC_NONE)
		fix(c, _("Use an encrypted connection: the server refuses this login "
		    "method without it."));
	fix(c, _("Ask your provider which login methods %s:%u accepts (PLAIN "
	    "and LOGIN are supported)."), c->host, c->port);
}

static void
fixes_encryption_required(struct ctx *c)
{
	if (reason_is(c, R_AUTH_AFTER_TLS))
		fix(c, _("Set the encryption to starttls on port %u: the server "
		    "offers STARTTLS and logs in only after it."), c->port);
	else if (c->sec == SEC_NONE)
		fix(c, _("Turn encryption on: this account is set to none on "
		    "port %u."), c->port);
	if (c->imap)
		fix(c, _("Set the encryption to starttls (port 143) or ssl (port "
		    "993): the server refuses to log in without it."));
	else
		fix(c, _("Set the encryption to starttls (port 587) or ssl (port "
		    "465): the server refuses to continue without it."));
}

static void
fixes_rate_limited(struct ctx *c)
{
	bool temporary = c->ev->reply_code >= 400 && c->ev->reply_code < 500;
	bool quota = true;      /* a budget the provider could raise */

	/* What the reason says first, then the page's general advice. */
	if (reason_is(c, R_DAILY_LIMIT)) {
		fix(c, _("Wait until the daily sending limit resets (usually 24 "
		    "hours after the first message): the account sent as much "
		    "as it may per day."));
	} else if (reason_is(c, R_CREDITS)) {
		fix(c, _("Add credits or upgrade the plan: the account has used "
		    "all the messages it paid for."));
	} else if (reason_is(c, R_VOLUME)) {
		fix(c, _("Send less, and only to people who asked for it: the "
		    "server defers this sender for its volume or its "
		    "recipients' complaints."));
		quota = false;
	} else if (reason_is(c, R_CONNECTIONS)) {
		fix(c, _("Close other mail programs using this account: the server "
		    "allows few connections at a time."));
		quota = false;
		/* IMAP's limit is on sessions, not on sending: the page's
		 * sending advice does not apply. */
		if (c->imap) {
			fix(c, _("Keep the sending system to one IMAP connection per "
			    "account: one session is enough to watch for replies."));
			return;
		}
	} else if (reason_is(c, R_RECIPIENTS)) {
		fix(c, _("Send to fewer recipients per message."));
	} else if (reason_is(c, R_LOGIN_ATTEMPTS)) {
		fix(c, _("Wait before trying again, and check the password: too "
		    "many failed logins lock the account for a while."));
		quota = false;
	}
	if (temporary && !reason_is(c, R_DAILY_LIMIT))
		fix(c, _("Wait and retry later: this limit is temporary."));
	if (c->pname)
		fix(c, _("Check your provider's sending limits for %s."), c->pname);
	else
		fix(c, _("Check your provider's sending limits."));
	fix(c, _("Space out your sending."));
	if (quota)
		fix(c, _("Contact your host to increase the quota."));
}

/* Whether the login is the address (or none is set apart from it). */
static bool
login_is_address(const struct ctx *c)
{
	const char *user = login_name(c);

	return c->a != NULL && c->a->email[0] &&
	       (user[0] == '\0' || strcasecmp(user, c->a->email) == 0);
}

static void
fixes_sender(struct ctx *c)
{
	const char *email = c->a ? c->a->email : "";
	const char *user = login_name(c);

	if (reason_is(c, R_UNVERIFIED_SENDER) &&
	    ci_contains(c->ev->reply, "sandbox", 7)) {
		fix(c, _("Leave the sandbox: add and verify your own domain with the "
		    "sending service, or add each recipient to its authorized "
		    "recipients."));
		fix(c, _("Verify the sender address %s with the sending service."),
		    email[0] ? email : _("you use"));
		return;
	}
	if (reason_is(c, R_UNVERIFIED_SENDER)) {
		fix(c, _("Verify the sender address %s with the sending service "
		    "(its sender identities or verified domains): it refuses "
		    "a From it has not verified."), email[0] ? email : _("you use"));
		fix(c, _("If the account is in a sandbox (trial), verify the "
		    "recipients too or ask to leave the sandbox."));
		return;
	}
	if (reason_is(c, R_ACCOUNT_BLOCKED)) {
		fix(c, _("Contact your provider to unblock the account: it may not "
		    "send for now (blocked or suspended, often after unusual "
		    "activity)."));
		fix(c, _("Check your provider's web mail for a notice on how to "
		    "unblock it."));
		return;
	}
	if (reason_is(c, R_SEND_AS_DENIED)) {
		if (login_is_address(c))
			fix(c, _("Send with the From set to the mailbox you log in "
			    "as (%s), or ask your administrator for \"Send As\" "
			    "permission for the other address."), email);
		else
			fix(c, _("Ask your administrator to give %s \"Send As\" "
			    "permission for %s."), user[0] ? user : _("your login"),
			    email[0] ? email : _("the From address"));
		fix(c, _("Or send from the mailbox you log in as."));
		return;
	}
	if (reason_is(c, R_MESSAGE_REJECTED)) {
		fix(c, _("Read the server's reply: it refused the message itself "
		    "(content or size)."));
		fix(c, _("Check with your provider why the message was refused."));
		return;
	}
	if (reason_is(c, R_BAD_ADDRESS)) {
		fix(c, _("Check the email address %s."), email);
		return;
	}
	if (user[0] && email[0] && !login_is_address(c))
		fix(c, _("Send from the address you log in with: the server does "
		    "not let %s send as %s."), user, email);
	else
		fix(c, _("Send from an address this login owns: the server refused "
		    "%s as the sender."), email[0] ? email : _("the From address"));
	fix(c, _("Ask your provider to allow this address (an alias) for your "
	    "account."));
}

static void
fixes_recipient(struct ctx *c)
{
	const char *email = c->a ? c->a->email : "";

	if (reason_is(c, R_MAILBOX_FULL)) {
		fix(c, _("Free space in the mailbox %s: it is full."), email);
		return;
	}
	if (reason_is(c, R_RELAY_DENIED)) {
		fix(c, _("Log in to send: the server relays only for authenticated "
		    "users (set the username and password)."));
		fix(c, _("Use your provider's submission server (port 587 or 465), "
		    "not its incoming server."));
		return;
	}
	/* A refusal that names no cause, of the address the server has just
	 * accepted as the login: that mailbox exists, so saying it may not
	 * would contradict what was seen. */
	if (c->fallback && c->ev->auth_ok && login_is_address(c)) {
		fix(c, _("Ask your provider why it refuses mail to %s: it accepts "
		    "that address as your login, so the mailbox exists."), email);
		return;
	}
	fix(c, _("Check the email address %s: the test message goes to it and "
	    "the server does not accept it."), email);
	fix(c, _("Check that the mailbox exists at your provider."));
}

static void
fixes_unavailable(struct ctx *c)
{
	if (reason_is(c, R_GREYLISTED)) {
		fix(c, _("Retry in a few minutes: the server greylists new senders "
		    "and accepts the same message when it comes back."));
		fix(c, _("Nothing in the account needs changing."));
		return;
	}
	if (reason_is(c, R_CLIENT_BLOCKED)) {
		fix(c, _("Check whether your network's address is on a blocklist: "
		    "the server refuses it."));
		if (c->port == 25)
			fix(c, _("Send through your provider's submission port (587 "
			    "or 465) with login, not port 25."));
		else
			fix(c, _("Ask your provider or host to get the address "
			    "delisted, or send from another network."));
		return;
	}
	if (reason_is(c, R_CONNECTION_CLOSED))
		fix(c, _("Check the server and the port: %s:%u closed the "
		    "connection without a word."), c->host, c->port);
	if (reason_is(c, R_TEMPORARY_AUTH_FAILURE))
		fix(c, _("Try again later: the server could not check passwords "
		    "just now (your password may be right)."));
	else
		fix(c, _("Try again later: the server %s is not available right "
		    "now."), c->host);
	fix(c, _("If it lasts, check your provider's status page or contact "
	    "them."));
}

static void
fixes_protocol(struct ctx *c)
{
	if (reason_is(c, R_TLS_HANDSHAKE_FAILED)) {
		fix(c, _("Try port %u with ssl: encryption after STARTTLS could "
		    "not be agreed on."), c->imap ? 993 : 465);
		fix(c, _("Ask your provider which TLS versions the server "
		    "supports."));
		return;
	}
	if (reason_is(c, R_DATA_AFTER_STARTTLS)) {
		fix(c, _("Do not trust this network path: data arrived before "
		    "encryption started, as a man in the middle would send it."));
		fix(c, _("Use port %u with ssl, which encrypts from the first byte."),
		    c->imap ? 993 : 465);
		return;
	}
	if (reason_is(c, R_EHLO_REJECTED)) {
		fix(c, _("Give this machine a fully-qualified host name: the "
		    "server refused the name it sent in EHLO."));
		fix(c, _("Use your provider's submission port (587 with starttls "
		    "or 465 with ssl): it accepts any client name after login."));
		return;
	}
	if (reason_is(c, R_SELECT_FAILED) || reason_is(c, R_SEARCH_FAILED)) {
		fix(c, _("Check that the mailbox INBOX exists and that %s may "
		    "read it."), login_name(c)[0] ? login_name(c) : _("this login"));
		fix(c, _("Set up IMAP only for reply detection; the SMTP test does "
		    "not need it."));
		return;
	}
	fix(c, _("Check that %s:%u is an %s server: its reply did not follow the "
	    "protocol."), c->host, c->port, c->proto);
	fix(c, _("Check that the encryption matches the port: %s with "
	    "starttls, %s with ssl."), c->imap ? "143" : "587",
	    c->imap ? "993" : "465");
	fix(c, _("Try again later; if it lasts, send the transcript to your "
	    "provider."));
}

static void
fixes_internal(struct ctx *c)
{
	fix(c, _("Run the test again; if it fails the same way, report a bug "
	    "with the transcript (it holds no password)."));
}

static void
fixes_write(struct ctx *c)
{
	struct diagnosis *out = c->out;

	/* The provider's own explanation of its reply comes first. */
	if (c->hint)
		fix(c, "%s", c->hint->fix);
	/* No rule knows this reply: what the server said is the best clue,
	 * better than advice made for other replies. */
	if (c->fallback && c->ev->reply[0])
		fix(c, _("Read the server's own words, the best clue here: \"%.180s\"."),
		    c->ev->reply);
	/* What the probe found that works goes first: it is the fix. Its
	 * suggestion may name another host, which alt_port alone cannot. */
	if (out->alt_port != 0 && out->suggestion[0])
		fix(c, _("The test found that %s: use it."), out->suggestion);
	else if (out->alt_port != 0)
		fix(c, _("Use %s port %u with %s: the test found that it works."),
		    out->alt_imap ? "IMAP" : "SMTP", out->alt_port,
		    sec_name(out->alt_security));
	switch (out->cat) {
	case DIAG_DNS_FAILURE: fixes_dns(c); break;
	case DIAG_CONNECTION_REFUSED: fixes_refused(c); break;
	case DIAG_TIMEOUT: fixes_timeout(c); break;
	case DIAG_TLS_MISMATCH: fixes_tls_mismatch(c); break;
	case DIAG_STARTTLS_UNAVAILABLE: fixes_starttls(c); break;
	case DIAG_INVALID_CERTIFICATE: fixes_certificate(c); break;
	case DIAG_AUTH_FAILED: fixes_auth_failed(c); break;
	case DIAG_AUTH_UNSUPPORTED: fixes_auth_unsupported(c); break;
	case DIAG_ENCRYPTION_REQUIRED: fixes_encryption_required(c); break;
	case DIAG_RATE_LIMITED: fixes_rate_limited(c); break;
	case DIAG_SENDER_REJECTED: fixes_sender(c); break;
	case DIAG_RECIPIENT_REJECTED: fixes_recipient(c); break;
	case DIAG_SERVER_UNAVAILABLE: fixes_unavailable(c); break;
	case DIAG_PROTOCOL_ERROR: fixes_protocol(c); break;
	case DIAG_CANCELLED:
		fix(c, _("Run the test again when you are ready."));
		break;
	case DIAG_INTERNAL_ERROR: fixes_internal(c); break;
	case DIAG_OK:
	case DIAG_NCATS:
		break;
	}
}

/* ---- entry points ----------------------------------------------------- */

void
diag_ok(struct diagnosis *out)
{
	if (out == NULL)
		return;
	memset(out, 0, sizeof *out);
	out->cat = DIAG_OK;
	str_copy(out->title, sizeof out->title, _(cats[DIAG_OK].title));
}

/* Copies the reply keeping its line breaks and nothing else of control. */
static void
reply_copy(char *dst, size_t dstlen, const char *src)
{
	size_t o = 0, n;

	dst[0] = '\0';
	while (*src && o + 1 < dstlen) {
		n = strcspn(src, "\n");
		str_sanitize(dst + o, dstlen - o, src, n);
		o += strlen(dst + o);
		src += n;
		if (*src == '\n') {
			src++;
			if (*src && o + 1 < dstlen) {
				dst[o++] = '\n';
				dst[o] = '\0';
			}
		}
	}
}

void
diag_input_init(struct diag_input *in, const struct diag_evidence *ev,
                const struct account *a, const struct preset *p)
{
	memset(in, 0, sizeof *in);
	in->ev = ev;
	in->a = a;
	in->preset = p;
}

/* The server the failing dialogue talked to: the evidence names it; the
 * account's when the probe left it out. */
static void
ctx_target(struct ctx *c, const struct diag_evidence *ev,
           const struct account *a)
{
	c->host = ev->host;
	c->port = ev->port;
	c->sec = (unsigned)ev->security <= SEC_NONE ? ev->security : SEC_STARTTLS;
	if (c->host[0] == '\0' && a != NULL) {
		c->host = ev->imap ? a->imap_host : a->smtp_host;
		c->port = ev->imap ? a->imap_port : a->smtp_port;
		c->sec = ev->imap ? a->imap_security : a->smtp_security;
	}
	/* A reply explained without a test (explain) may name no server. */
	if (c->host[0] == '\0')
		c->host = _("the server");
}

static const struct diag_evidence no_evidence = { .internal = true };

/* The first rule that matches; the table ends with one that matches
 * anything. f: the facts it was matched on (and the hint, for a hint). */
static const struct diag_rule *
rule_find(const struct diag_evidence *ev, const struct ctx *c,
          struct facts *f)
{
	size_t i;

	memset(f, 0, sizeof *f);
	facts_gather(ev, c->sec, c->port, f);
	f->preset = c->p;
	for (i = 0; i < NRULES; i++)
		if (rule_matches(&rules[i], ev, f))
			return &rules[i];
	return &rules[NRULES - 1];
}

static size_t
ev_printf(char *buf, size_t len, size_t o, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t
ev_printf(char *buf, size_t len, size_t o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o >= len)
		return o;
	va_start(ap, fmt);
	n = vsnprintf(buf + o, len - o, fmt, ap);
	va_end(ap);
	if (n < 0)
		return o;
	return o + (size_t)n < len ? o + (size_t)n : len - 1;
}

/* What of the reply (and of the dialogue) the rule rests on: its codes
 * and the words that matched, as the server wrote them. */
static void
evidence_write(const struct diag_rule *r, const struct diag_evidence *ev,
               const struct facts *f, char *buf, size_t len)
{
	const char *hit = NULL, *words = r->words;
	size_t n = 0, o = 0, i;
	char sep = '|';
	bool on_reply;

	buf[0] = '\0';
	if (r->hint && f->hint) {
		words = f->hint->words[0] ? f->hint->words : NULL;
		sep = ';';
	}
	on_reply = r->code_lo || r->esc || r->words || r->imap_code ||
	                r->hint || r->fallback;

	if (ev->reply_code > 0 && on_reply)
		o = ev_printf(buf, len, o, "%d", ev->reply_code);
	if (f->esc[0] && on_reply)
		o = ev_printf(buf, len, o, "%s%s", o ? " " : "", f->esc);
	if (f->imap_code[0] && on_reply)
		o = ev_printf(buf, len, o, "%s[%s]", o ? " " : "", f->imap_code);
	if (words && list_find(words, sep, ev->reply, 'w', &hit, &n)) {
		/* The server's spelling of the words, not the rule's. */
		for (i = 0; ev->reply[i]; i++) {
			size_t k;

			for (k = 0; k < n && ev->reply[i + k]; k++)
				if (lower(ev->reply[i + k]) != lower(hit[k]))
					break;
			if (k == n)
				break;
		}
		if (ev->reply[i]) {
			char w[96];

			str_sanitize(w, sizeof w, ev->reply + i,
			             n < sizeof w - 1 ? n : sizeof w - 1);
			o = ev_printf(buf, len, o, "%s\"%s\"", o ? " " : "", w);
		}
	}
	if (r->need & F_AUTH_NONE)
		o = ev_printf(buf, len, o, _("%sno login method offered%s"), o ? "; " : "",
		              (r->need & F_OFFER_TLS) ? _(" before STARTTLS, which "
		              "was offered") : "");
	if (r->need & F_AUTH_OK)
		o = ev_printf(buf, len, o, _("%safter a successful login"),
		              o ? ", " : "");
	else if (r->reason == R_POST_LOGIN_REJECTED && ev->auth_ok)
		o = ev_printf(buf, len, o, _("%safter a LOGIN that succeeded"),
		              o ? ", " : "");
	if (r->fallback && ev->reply[0])
		(void)ev_printf(buf, len, o, _("%sno rule knows these words"),
		                o ? ": " : "");
}

bool
diag_wants_alternatives(const struct diag_input *in)
{
	const struct diag_evidence *ev = in && in->ev ? in->ev : &no_evidence;
	const struct diag_rule *r;
	struct facts f;
	struct ctx c;

	if (ev->imap)
		return false;
	memset(&c, 0, sizeof c);
	ctx_target(&c, ev, in ? in->a : NULL);
	c.p = in ? in->preset : NULL;
	r = rule_find(ev, &c, &f);
	return r->cat == DIAG_CONNECTION_REFUSED || r->cat == DIAG_TIMEOUT ||
	       r->cat == DIAG_TLS_MISMATCH;
}

const char *
diag_classify_rule(const struct diag_input *in, struct diagnosis *out)
{
	const struct diag_evidence *ev;
	const struct diag_rule *r;
	const struct preset *p;
	struct facts f;
	struct ctx c;

	if (out == NULL)
		return NULL;
	memset(out, 0, sizeof *out);
	ev = in && in->ev ? in->ev : &no_evidence;
	p = in ? in->preset : NULL;

	memset(&c, 0, sizeof c);
	c.ev = ev;
	c.a = in ? in->a : NULL;
	c.p = p;
	c.out = out;
	c.imap = ev->imap;
	c.proto = ev->imap ? "IMAP" : "SMTP";
	ctx_target(&c, ev, c.a);
	if (p != NULL) {
		c.pname = p->name[0] ? p->name : p->id;
		c.local_app = p->local_app[0] ? p->local_app : NULL;
	}
	r = rule_find(ev, &c, &f);

	out->cat = r->hint ? f.hint_cat : r->cat;
	c.reason = r->hint ? f.hint_reason : r->reason;
	c.hint = r->hint ? f.hint : NULL;
	c.fallback = r->fallback;
	str_copy(out->reason, sizeof out->reason, reason_names[c.reason]);
	evidence_write(r, ev, &f, out->evidence, sizeof out->evidence);
	out->stage = ev->stage;
	reply_copy(out->reply, sizeof out->reply, ev->reply);
	/* The category's title, but for a limit on IMAP sessions, which the
	 * page's "Sending limit reached" would misname. */
	str_copy(out->title, sizeof out->title,
	         c.imap && c.reason == R_CONNECTIONS ? _("Too many connections")
	                                             : _(cats[out->cat].title));
	/* What the probe found, checked: it reaches the screen and may be
	 * applied to the account. */
	if (in != NULL) {
		if (out->cat == DIAG_INVALID_CERTIFICATE)
			str_sanitize(out->pin_candidate, sizeof out->pin_candidate,
			             in->pin_candidate,
			             strnlen(in->pin_candidate,
			                     sizeof in->pin_candidate));
		str_sanitize(out->suggestion, sizeof out->suggestion,
		             in->suggestion,
		             strnlen(in->suggestion, sizeof in->suggestion));
		if (in->alt_port != 0 && in->alt_port <= 65535 &&
		    (unsigned)in->alt_security <= SEC_NONE) {
			out->alt_port = in->alt_port;
			out->alt_security = in->alt_security;
			out->alt_imap = in->alt_imap;
			if (out->suggestion[0] == '\0')
				str_printf(out->suggestion, sizeof out->suggestion,
				           _("port %u with %s works"), in->alt_port,
				           sec_name(in->alt_security));
		}
	}
	fixes_write(&c);
	if (diag_oauth_refused(in, out))
		return "oauth_token_refused";
	return r->name;
}

void
diag_classify(const struct diag_input *in, struct diagnosis *out)
{
	(void)diag_classify_rule(in, out);
}
