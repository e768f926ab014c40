/* The probe engine: runs one account's test (SMTP, then IMAP) as a sequence
 * of steps and reports each as an event through a callback. It prints
 * nothing; the CLI printer, the JSON writer and the console consume the same
 * events. probe_run() blocks and is meant for a worker thread;
 * probe_cancel() may be called from any thread and the run ends within a
 * second. */
#ifndef FLUENZR_PROBE_H
#define FLUENZR_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "account.h"
#include "diag.h"
#include "mailhdr.h"
#include "tls.h"
#include "preset.h"

#define PROBE_MAX_STEPS  32
#define PROBE_STEP_NAME  32
#define PROBE_DETAIL     512

struct probe;
/* Called on the probe's thread once the test message was read, before the
 * findings and the last event: what the caller checks of the message
 * itself (its DKIM signature, src/app), reported with probe_set_dkim(). */
typedef void (*probe_message_fn)(struct probe *p, void *ud);

struct probe_opts {
	int timeout_s;          /* per step; default 10 */
	bool no_send;           /* stop after AUTH */
	bool smtp_only;
	bool imap_only;
	int reply_wait_s;       /* how long to poll INBOX for the test message */
	bool find_alternatives; /* after refused/timeout/tls_mismatch, probe others */
	probe_message_fn on_message;   /* NULL: none */
	void *on_message_ud;
	mailhdr_org_fn org_domain;     /* for the message's header; NULL: the
	                                  parser's own approximation */
};
void probe_opts_default(struct probe_opts *o);

struct probe_step {
	char name[PROBE_STEP_NAME];   /* "smtp.connect", "imap.login", ... */
	bool done;
	bool ok;
	int64_t ms;
	char detail[PROBE_DETAIL];    /* sanitised, never a secret */
};

struct probe_line {
	int64_t t_ms;                 /* since the start of the run */
	char dir;                     /* 'C' client, 'S' server, '*' note */
	char *text;                   /* redacted and sanitised */
};

/* The folders a reply detector watches, and where each name came from. */
enum probe_role {
	ROLE_INBOX, ROLE_SENT, ROLE_JUNK, ROLE_TRASH, ROLE_DRAFTS, ROLE_ARCHIVE,
	PROBE_NROLES
};
#define PROBE_FOLDER_MAX 200

struct probe_folder {
	char name[PROBE_FOLDER_MAX];  /* UTF-8, sanitised; "" not found */
	char raw[PROBE_FOLDER_MAX];   /* as the server names it (for EXAMINE) */
	const char *from;             /* "special-use", "name", NULL not found */
};

#define PROBE_MESSAGE_MAX (256 * 1024)   /* bytes of the test message fetched */

/* Our own verification of the message's DKIM signature. */
enum probe_dkim_verdict {
	PROBE_DKIM_UNCHECKED = -1,
	PROBE_DKIM_NONE = 0,          /* no signature */
	PROBE_DKIM_PASS,
	PROBE_DKIM_FAIL,
	PROBE_DKIM_TEMPERROR,         /* the key could not be fetched now */
};

struct probe_dkim {
	enum probe_dkim_verdict verdict;
	char d[254];
	char s[64];
	char why[512];                /* sanitised; "" on a pass */
};

/* Where the test message landed and what the server offers a reply
 * detector (after LOGIN; checked false when the run did not get there). */
struct probe_placement {
	bool checked;                 /* the folders were listed */
	struct probe_folder folders[PROBE_NROLES];
	bool caps_seen;               /* after LOGIN */
	bool idle, condstore, qresync, uidplus, special_use;
	char conn_limit[256];         /* what the server said of one, or "" */
	enum diag_landed landed;
	int sent_copy;                /* -1 unknown, 0 no, 1 yes */
	bool fetched;                 /* the message was read (BODY.PEEK[]) */
	size_t fetched_len;
	struct mailhdr_auth auth;     /* what the receiving side wrote on it */
	struct probe_dkim dkim;       /* its signature, verified by us */
};

struct probe_result {
	bool ok;
	struct diagnosis diag;
	struct probe_step steps[PROBE_MAX_STEPS];
	size_t nsteps;
	struct tls_info tls[4];
	size_t ntls;
	char message_id[256];
	char token[64];
	int reply_detection;          /* -1 not checked (null), 0 no, 1 yes */
	int64_t reply_ms;
	struct probe_placement place;
	struct diag_finding findings[DIAG_MAX_FINDINGS];
	size_t nfindings;
	struct probe_line *transcript;
	size_t ntranscript;
	int64_t started;              /* unix seconds */
};

enum probe_event_type {
	PROBE_EV_STEP_BEGIN,          /* step: name set, not done */
	PROBE_EV_STEP_END,            /* step: done, ok, ms, detail */
	PROBE_EV_TRANSCRIPT,          /* line */
	PROBE_EV_DONE,                /* result complete */
};

struct probe_event {
	enum probe_event_type type;
	const struct probe_step *step;
	const struct probe_line *line;
	const struct probe_result *result;
};

/* Called on the probe's thread. The pointers are valid during the call only. */
typedef void (*probe_cb)(const struct probe_event *ev, void *ud);

struct probe;

/* Copies the account and the passwords (into locked memory); imap_pw NULL
 * means the SMTP password. preset may be NULL. */
struct probe *probe_new(const struct account *a, const char *smtp_pw,
                        const char *imap_pw, const struct preset *preset,
                        const struct probe_opts *opts);
/* Runs the whole test; returns the category (DIAG_OK on success). */
enum diag_cat probe_run(struct probe *p, probe_cb cb, void *ud);
void probe_cancel(struct probe *p);
const struct probe_result *probe_result(const struct probe *p);
/* The test message as the receiving server stored it (at most
 * PROBE_MESSAGE_MAX bytes), once found; NULL before. Valid until
 * probe_free(). */
const char *probe_message(const struct probe *p, size_t *len);
/* Names of a role and of a landing, for output ("junk", "not_found" …). */
const char *probe_role_name(enum probe_role r);
const char *probe_landed_name(enum diag_landed l);
const char *probe_dkim_name(enum probe_dkim_verdict v);
/* For an on_message callback: the step deadline (ms) and the cancel
 * descriptor its waits must honour, and where its verdict goes. */
int probe_timeout_ms(const struct probe *p);
int probe_cancel_fd(const struct probe *p);
void probe_set_dkim(struct probe *p, const struct probe_dkim *d);
void probe_free(struct probe *p);

/* What an SMTP server says before any credential: discovery checks a
 * guessed server with it. Connect, greeting, EHLO, TLS (implicit or
 * STARTTLS) with the certificate checked for host (ca_file, NULL: the
 * system's), EHLO again; then QUIT. No AUTH is ever sent. Each step ends
 * within timeout_s or when cancel_fd (-1: none) is readable. */
struct probe_check {
	bool reached;            /* greeting and EHLO (IMAP: the greeting) */
	bool tls;                /* TLS handshake done */
	bool cert_ok;            /* and the certificate is valid for host */
	bool starttls;           /* STARTTLS offered (on a plain connection) */
	bool logindisabled;      /* IMAP: LOGINDISABLED after TLS */
	char auth[128];          /* AUTH mechanisms after TLS, "" if none */
	char why[PROBE_DETAIL];  /* the first failure, sanitised; "" if none */
};
int probe_check_smtp(const char *host, unsigned port, enum security sec,
                     const char *ca_file, int timeout_s, int cancel_fd,
                     struct probe_check *out);
/* The same for an IMAP server: greeting, TLS (993 implicit, 143 STARTTLS)
 * with the certificate verified for host, and CAPABILITY after TLS; no
 * LOGIN or AUTHENTICATE is sent. */
int probe_check_imap(const char *host, unsigned port, enum security sec,
                     const char *ca_file, int timeout_s, int cancel_fd,
                     struct probe_check *out);
/* ---- sending (outgoing.c, probe_send()) ---- */

#define OUTGOING_MSG_MAX  (64 << 20)   /* bytes of one message */
#define OUTGOING_RCPT_MAX 1000         /* recipients of one message */

/* A message made ready for the wire (outgoing_prepare()): data has CRLF
 * line endings and no final CRLF; rcpt are checked addresses. */
struct outgoing {
	char *data;
	size_t len;
	char **rcpt;
	size_t nrcpt;
};

struct outgoing_opts {
	bool rcpt_from_headers;  /* sendmail -t: To, Cc and Bcc are recipients */
	const char *from_name;   /* for a From: added when there is none; may be NULL */
	const char *from_addr;   /* its address */
	time_t now;              /* for a Date: added when there is none */
};

/* raw (len bytes, hostile) made ready into *m, its Bcc fields removed in
 * any case. 0, or -1 with the reason in err (naming the field). */
int outgoing_prepare(const char *raw, size_t len, const struct outgoing_opts *o,
                     struct outgoing *m, char *err, size_t errlen);
/* Adds a recipient (checked, duplicates ignored). 0 or -1 with why. */
int outgoing_add_rcpt(struct outgoing *m, const char *addr, char *err,
                      size_t errlen);
void outgoing_free(struct outgoing *m);

/* The messages of a send, one at a time: next() gives the next one's
 * envelope sender (may be "" for <>) and content through *from and *m
 * (valid until the next call), 1 when it did, 0 when there are no more,
 * -1 to stop (the reason is the caller's). sent() hears each message's
 * outcome: its index, ok, and the server's reply (code 0: the connection
 * failed; text sanitised, never a secret). Both run on the probe's thread
 * while the connection waits. */
struct probe_sender {
	int (*next)(void *ud, const char **from, const struct outgoing **m);
	void (*sent)(void *ud, size_t index, bool ok, int code, const char *text);
	void *ud;
};

/* Sends through the account of p (new with probe_new(), the same
 * connection, TLS checks and AUTH as a test) every message snd gives,
 * over one connection. A message refused for good (5xx) is reported and
 * the next one is tried; a temporary refusal (4xx) or a broken connection
 * ends the send. Steps and the diagnosis of the first failure as
 * probe_run() gives them (the steps of the messages are one, smtp.send);
 * returns its category (DIAG_OK when every message went). */
enum diag_cat probe_send(struct probe *p, const struct probe_sender *snd,
                         probe_cb cb, void *ud);

/* One-time process setup: ignores SIGPIPE, initialises GnuTLS and keeps the
 * TLS layer's stderr chatter out of the terminal. */
int probe_global_init(void);

#endif
