/* The troubleshooting knowledge base: what a probe found (the evidence of a
 * failure and what it learnt besides) goes in, exactly one category with its
 * title, reason and fixes comes out. The rules are a table (diag.c); no I/O,
 * no state: the diagnosis is a function of its input. */
#ifndef FLUENZR_DIAG_H
#define FLUENZR_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include "account.h"
#include "tls.h"   /* enum cert_problem */
#include "preset.h"

enum diag_cat {
	DIAG_OK = 0,
	DIAG_DNS_FAILURE,
	DIAG_CONNECTION_REFUSED,
	DIAG_TIMEOUT,
	DIAG_TLS_MISMATCH,
	DIAG_STARTTLS_UNAVAILABLE,
	DIAG_INVALID_CERTIFICATE,
	DIAG_AUTH_FAILED,
	DIAG_AUTH_UNSUPPORTED,
	DIAG_ENCRYPTION_REQUIRED,
	DIAG_RATE_LIMITED,
	DIAG_SENDER_REJECTED,
	DIAG_RECIPIENT_REJECTED,
	DIAG_SERVER_UNAVAILABLE,
	DIAG_PROTOCOL_ERROR,
	DIAG_CANCELLED,
	DIAG_INTERNAL_ERROR,
	DIAG_NCATS
};

/* Where in the dialogue the failure happened. */
enum diag_stage {
	STAGE_NONE = 0,
	STAGE_RESOLVE,
	STAGE_CONNECT,
	STAGE_GREETING,
	STAGE_EHLO,
	STAGE_STARTTLS,
	STAGE_TLS,          /* handshake (implicit TLS or after STARTTLS) */
	STAGE_CERT,         /* certificate verification */
	STAGE_AUTH,
	STAGE_MAIL,
	STAGE_RCPT,
	STAGE_DATA,
	STAGE_QUIT,
	STAGE_IMAP_LOGIN,
	STAGE_IMAP_SELECT,
	STAGE_IMAP_SEARCH,
};

/* Everything a probe knows about a failure. */
struct diag_evidence {
	bool imap;                 /* the failing dialogue is IMAP, not SMTP */
	enum diag_stage stage;
	int sys_errno;             /* from resolve/connect/read, 0 if none */
	int gai_error;             /* getaddrinfo() code at STAGE_RESOLVE */
	bool timed_out;            /* a step's timeout expired */
	bool cancelled;
	bool tls_handshake_failed; /* the TLS handshake itself failed */
	bool peer_spoke_plain;     /* a plain-text reply where TLS was expected */
	bool peer_spoke_tls;       /* TLS bytes where plain text was expected */
	enum cert_problem cert;
	int reply_code;            /* last SMTP reply code, 0 if none */
	char reply[512];           /* server's words, already sanitised */
	char imap_code[64];        /* IMAP response code, e.g. AUTHENTICATIONFAILED */
	bool auth_not_offered;     /* server offered no mechanism we speak */
	bool internal;             /* our own bug or resource failure */
	bool tls_version_refused;  /* the server offers no TLS 1.2 or later */
	char ca_file_why[512];     /* the CA file was refused: why (our words) */
	char host[ACCT_HOST_MAX + 1];
	unsigned port;
	enum security security;
	/* What the dialogue showed before the failure, so that the rules can
	 * reason with it (the probe's sink records them as they happen). */
	bool ehlo_seen;            /* an EHLO was answered (250) */
	bool offered_starttls;     /* the last EHLO offered STARTTLS */
	bool offered_auth;         /* the last EHLO offered AUTH (any method) */
	bool tls_on;               /* the failing dialogue was encrypted */
	bool auth_ok;              /* the login (AUTH, IMAP LOGIN) succeeded */
};

/* Fills ev from a reply as a log shows it ("535-5.7.8 Username ...\n535
 * 5.7.8 ..." for SMTP; "A1 NO [ALERT] ..." or "NO [ALERT] ..." for IMAP):
 * the code from the first line, the text without the codes, the IMAP
 * response code apart. The rest of ev is zero but for imap and stage.
 * 0, or -1 when text holds nothing. */
int diag_evidence_from_reply(struct diag_evidence *ev, bool imap,
                             enum diag_stage stage, const char *text);
/* The stage of a name ("auth", "imap_login", ...), or -1. */
int diag_stage_from_name(const char *name);

/* The whole input of a diagnosis. */
struct diag_input {
	const struct diag_evidence *ev;   /* NULL: none (an internal error) */
	const struct account *a;          /* may be NULL */
	const struct preset *preset;      /* the provider's hints; may be NULL */
	/* What the probe found besides the failure. The fingerprint of the
	 * certificate that failed, to pin ("" if none): shown only when the
	 * diagnosis is invalid_certificate. */
	char pin_candidate[ACCT_PIN_LEN + 1];
	/* A working alternative: port 0 = none. */
	unsigned alt_port;
	enum security alt_security;
	bool alt_imap;
	char suggestion[256];     /* e.g. "port 465 with ssl answers ..." or "" */
};

/* An input of ev, a and p, with nothing found besides. */
void diag_input_init(struct diag_input *in, const struct diag_evidence *ev,
                     const struct account *a, const struct preset *p);

#define DIAG_MAX_FIXES 8
/* A fix's and a finding's title's room: a translation in Devanagari takes
 * three bytes a letter, and a cut one would end on a broken character. */
#define DIAG_FIX_LEN 768
#define DIAG_TITLE_LEN 384

/* The diagnosis, output only. */
struct diagnosis {
	enum diag_cat cat;
	char reason[32];          /* sub-reason (cert problem name) or "" */
	/* The words or codes of the reply the diagnosis rests on, e.g.
	 * "535 5.7.139 \"SmtpClientAuthentication is disabled\"", or "". */
	char evidence[192];
	enum diag_stage stage;
	char reply[512];          /* what the server said, sanitised */
	char title[DIAG_TITLE_LEN];
	char fixes[DIAG_MAX_FIXES][DIAG_FIX_LEN];
	size_t nfixes;
	/* The input's findings, sanitised and checked: */
	char suggestion[256];     /* e.g. "port 465 with ssl works" or "" */
	/* A working alternative found by the probe, to apply: port 0 = none. */
	unsigned alt_port;
	enum security alt_security;
	bool alt_imap;
	/* For invalid_certificate: the fingerprint that could be pinned. */
	char pin_candidate[ACCT_PIN_LEN + 1];
};

/* Classifies in into out (all of it written); the fixes name a working
 * alternative or the fingerprint when the input has them. */
void diag_classify(const struct diag_input *in, struct diagnosis *out);
/* The same, returning the name of the rule that decided (for tests and
 * --verbose output). */
const char *diag_classify_rule(const struct diag_input *in,
                               struct diagnosis *out);
/* Whether a working other port would be the fix for in's failure (an SMTP
 * connection refused, timed out or of the wrong encryption): the probe
 * looks for one before the diagnosis is made. */
bool diag_wants_alternatives(const struct diag_input *in);
/* The rules table, in matching order. NULL past the end. */
size_t diag_rule_count(void);
const char *diag_rule_name(size_t i);
/* Whether a preset hint's category/reason names what diag knows, e.g.
 * "auth_failed/smtp_auth_disabled" (a hint that does not is ignored). */
bool diag_hint_valid(const struct preset_hint *h);
/* The reasons diag gives, in order; NULL past the end. */
const char *diag_reason_name(size_t i);
/* OAuth (diag_oauth.c). A failure of the authorization server to issue a
 * token: its error code (or ours: "timeout", "cancelled" …), Microsoft's
 * AADSTS number ("" if none) and its words, for account a (may be NULL). */
void diag_oauth_grant(const char *code, const char *aadsts, const char *said,
                      const struct account *a, struct diagnosis *out);
/* Rewrites an authentication failure of an OAuth account: the mail server
 * refused the token. true when it did. */
bool diag_oauth_refused(const struct diag_input *in, struct diagnosis *out);

/* A diagnosis for success. */
void diag_ok(struct diagnosis *out);

const char *diag_cat_name(enum diag_cat c);
/* Whether a test that ended in c is recorded on the account, by the CLI and
 * the console alike. A cancelled test is not: stopping a test says nothing
 * about the account, so the last real result stays. */
bool diag_cat_recorded(enum diag_cat c);
/* -1 when the name is unknown. */
int diag_cat_from_name(const char *name);
const char *diag_cat_title(enum diag_cat c);
/* The same in the catalog's English original: for what is stored, which
 * must not depend on the language it was recorded in. */
const char *diag_cat_title_en(enum diag_cat c);
const char *diag_stage_name(enum diag_stage s);
/* Exit status of `fluenzr-tui test` for a category (sysexits.h). */
int diag_exit_code(enum diag_cat c);

/* ---- where the test message landed (diag_place.c) ----
 * Not failures: a test that delivered its message passed, and what the
 * placement shows comes as findings beside the diagnosis, each with its
 * fixes in the same voice. */
enum diag_landed {
	DIAG_LANDED_UNCHECKED = -1,
	DIAG_LANDED_NOT_FOUND = 0,
	DIAG_LANDED_INBOX,
	DIAG_LANDED_JUNK,
};

#define DIAG_MAX_FINDINGS 4

struct diag_finding {
	char reason[32];          /* "landed_in_junk", "no_sent_copy" … */
	char title[DIAG_TITLE_LEN];
	char fixes[DIAG_MAX_FIXES][DIAG_FIX_LEN];
	size_t nfixes;
};

struct diag_place_input {
	enum diag_landed landed;
	const char *junk_folder;  /* where it landed in Junk, UTF-8; may be "" */
	int sent_copy;            /* -1 unknown, 0 no, 1 yes */
	int wait_s;               /* how long INBOX and Junk were watched */
	/* What the receiving side said (a trusted Authentication-Results;
	 * "" when none) and the signature the message carried. */
	const char *spf, *dkim, *dmarc;
	const char *from_domain;
	const char *sig_d;        /* "" when unsigned */
	int aligned_relaxed;      /* -1 nothing to compare, 0, 1 */
	/* Our own check of the signature: -1 not done, 0 no signature, 1
	 * pass, 2 fail, 3 the key could not be fetched; and why. */
	int dkim_verified;
	const char *dkim_why;
};

/* The findings of in into out (at most max); how many. */
size_t diag_placement(const struct diag_place_input *in,
                      struct diag_finding *out, size_t max);
/* The reasons diag_placement() gives, in order; NULL past the end. */
const char *diag_finding_name(size_t i);
/* Whether a server's words (sanitised) state a limit on one user's
 * connections: the words to show (with the number when it says one) in
 * out, true; false (out "") when they do not. Only what is said counts. */
bool diag_conn_limit(const char *said, char *out, size_t outlen);

#endif
