/* Internals shared by the probe files (probe.c, evidence.c, probe_smtp.c,
 * probe_imap.c, transcript.c, message.c). Only the probe files include libetpan; this
 * header does not, so the unit tests of the transcript and the message can
 * use it without the library's types. */
#ifndef FLUENZR_PROBE_INT_H
#define FLUENZR_PROBE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "net.h"
#include "probe.h"
#include "tls.h"

/* ---- transcript.c: one redacting funnel for every byte on the wire ---- */

/* Receives each finished line (already redacted and sanitised). */
typedef void (*transcript_emit_fn)(char dir, const char *text, void *ud);

#define TRANSCRIPT_LINE_MAX 1024

struct transcript {
	bool imap;               /* IMAP rules (LOGIN) instead of SMTP (AUTH) */
	transcript_emit_fn emit;
	void *ud;
	const struct probe *redact;  /* whose secrets to redact; NULL: none */
	/* Partial lines per direction: the stream hands over arbitrary chunks. */
	char cbuf[TRANSCRIPT_LINE_MAX];
	size_t clen;
	bool ctrunc;
	char sbuf[TRANSCRIPT_LINE_MAX];
	size_t slen;
	bool strunc;
	/* Dialogue state, driven by the lines themselves. */
	bool in_auth;            /* the client's lines are its login's data */
	bool auth_literal;       /* IMAP: the next line is a literal of LOGIN */
	bool data_sent;          /* the client said DATA */
	bool in_body;            /* between 354 and the lone "." */
	size_t body_bytes;
};

void transcript_init(struct transcript *t, bool imap,
                     transcript_emit_fn emit, void *ud);
/* Raw bytes as they crossed the wire; dir is 'C' (sent) or 'S' (received). */
void transcript_feed(struct transcript *t, char dir, const void *buf, size_t n);
/* Emits whatever partial lines are pending (end of a connection). */
void transcript_flush(struct transcript *t);
/* Applies the redaction rules to one client line; exposed for tests.
 * Returns false when the line is swallowed (message body). */
bool transcript_client_line(struct transcript *t, const char *line,
                            char *out, size_t outlen);
/* line: n raw bytes (t->strunc: cut). */
void transcript_server_line(struct transcript *t, const char *line, size_t n,
                            char *out, size_t outlen);

/* ---- message.c: the test message ---- */

/* A growing text buffer (p NUL-terminated); err once memory ran out, after
 * which additions are ignored. */
struct msgbuf {
	char *p;
	size_t len, cap;
	bool err;
};
void msgbuf_add(struct msgbuf *b, const char *s, size_t n);

/* A random token of 24 lowercase hex digits; 0 or -1. */
int message_token(char *out, size_t outlen);
/* RFC 2047 "encoded-word"s for a display name (UTF-8, B encoding, each word
 * at most 75 characters, words separated by CRLF SP), or the name as a
 * quoted-string when it is ASCII. 0, or -1 if out is too small. */
int message_encode_name(const char *name, char *out, size_t outlen);
/* RFC 5322 date of t in UTC, e.g. "Wed, 26 Nov 2025 11:44:00 +0000". */
void message_date(time_t t, char *out, size_t outlen);
/* The From: header field of display_name (may be "") and email, CRLF
 * included, folded before the address when the line would pass 76
 * characters. 0, or -1 if out is too small. */
#define MESSAGE_FROM_MAX (ACCT_NAME_MAX * 3 + ACCT_EMAIL_MAX + 80)
int message_from_header(const char *display_name, const char *email,
                        char *out, size_t outlen);
/* The whole message, CRLF line endings, without the final CRLF (the SMTP
 * layer appends CRLF.CRLF). The Message-ID (with angle brackets) goes to
 * msgid. Returns a malloc'ed buffer or NULL. */
char *message_build(const struct account *a, const char *token, time_t when,
                    char *msgid, size_t msgidlen, size_t *len);

/* ---- evidence.c: the one sink of a failure's evidence ---- */

/* Where a dialogue reports its steps and the evidence of its failure. The
 * test's dialogues report to their run's sink (struct probe's); a check of
 * an alternative port passes NULL, a sink that keeps nothing: no step, no
 * evidence, only the check's answer counts. Each probe_fail_*() records
 * one kind of failure; the first one a run records is kept, later ones are
 * ignored. Nothing else writes the evidence. */
struct probe_sink {
	struct probe *p;
	bool failed;
	struct diag_evidence ev;
	char leaf_sha256[ACCT_PIN_LEN + 1];   /* of a certificate that failed */
};

void probe_sink_init(struct probe_sink *k, struct probe *p);
/* A step shown for the sink; NULL (nothing shown, probe_step_end() takes
 * it) for a NULL sink. */
struct probe_step *probe_sink_step(struct probe_sink *k, const char *name);
/* Whether a failure now would be kept: evidence that costs a detour
 * (another connection) is gathered only then. */
bool probe_sink_keeps(const struct probe_sink *k);
bool probe_sink_failed(const struct probe_sink *k);
/* The server of the dialogue under way, named by a failure's evidence. */
void probe_sink_target(struct probe_sink *k, const char *host, unsigned port,
                       enum security sec);
/* Our own failure (memory, a bug): nothing the server did. */
/* What the dialogue showed so far, for the rules that reason with it:
 * the last EHLO's offer, TLS on, a successful login. Kept until the
 * first failure; probe_sink_target() starts a new dialogue afresh. */
void probe_sink_ehlo(struct probe_sink *k, bool starttls, bool auth);
void probe_sink_tls_on(struct probe_sink *k);
void probe_sink_auth_ok(struct probe_sink *k);
void probe_fail_internal(struct probe_sink *k, bool imap, enum diag_stage stage);
/* Name resolution failed; net_rc is net_resolve()'s, gai getaddrinfo()'s. */
void probe_fail_resolve(struct probe_sink *k, bool imap, int net_rc, int gai);
/* No address took the connection; err is the most telling errno. */
void probe_fail_connect(struct probe_sink *k, bool imap, int err,
                        bool timed_out, bool cancelled);
/* The dialogue's stream failed at stage (c's errno, timeout, cancel; a
 * hang-up is ECONNRESET), or the peer said what is not the protocol: said
 * (cleaned, or NULL), peer_tls when it was TLS. */
void probe_fail_stream(struct probe_sink *k, bool imap, enum diag_stage stage,
                       const struct net_conn *c, const char *said, bool peer_tls);
/* The TLS handshake on c failed as f tells. */
void probe_fail_tls(struct probe_sink *k, bool imap, const struct net_conn *c,
                    const struct tls_fail *f);
/* The certificate (its fingerprint: sha256) did not verify. */
void probe_fail_cert(struct probe_sink *k, bool imap, enum cert_problem prob,
                     const char *sha256);
/* The account's CA file was refused: why, in our words. */
void probe_fail_ca_file(struct probe_sink *k, bool imap, const char *why);
/* The server answered, not as hoped: its SMTP code (0 for IMAP or our own
 * words), its words and IMAP response code (cleaned; NULL for none). */
void probe_fail_reply(struct probe_sink *k, bool imap, enum diag_stage stage,
                      int code, const char *text, const char *imap_code);
/* SMTP AUTH cannot start: the answer to a bare AUTH PLAIN; not_offered
 * unless that answer asks for encryption first. */
void probe_fail_no_auth(struct probe_sink *k, int code, const char *text,
                        bool not_offered);
/* Ends the run's evidence (a failure of a cancelled run is cancelled, the
 * passwords' forms are scrubbed from the server's words) and makes it, the
 * account, the preset and the failed certificate's fingerprint the input
 * of the diagnosis. false when nothing failed. */
bool probe_sink_close(struct probe_sink *k, struct diag_input *in);

/* ---- probe.c: the run, its steps and its evidence ---- */

#define PROBE_SECRET_FORMS 8

struct probe {
	struct account a;
	char *smtp_pw;                 /* secmem */
	char *imap_pw;                 /* secmem */
	size_t pwcap;
	struct preset preset;
	bool has_preset;
	struct probe_opts opts;
	int cancel_fd;                 /* eventfd, readable once cancelled */
	atomic_bool cancelled;
	struct probe_result res;
	size_t tcap;
	size_t tbytes;                 /* text bytes in res.transcript */
	bool tcut;                     /* the transcript reached its bounds */
	probe_cb cb;
	void *ud;
	int64_t t0;
	struct probe_sink sink;        /* the run's evidence (evidence.c) */
	int64_t sent_ms;               /* now_ms() when DATA was accepted */
	char *message;                 /* the test message fetched, or NULL */
	size_t message_len;
	/* The account's CA file, read and checked before any connection so
	 * that the TLS step never opens a file (a FIFO there would hang it). */
	char *ca_pem;
	size_t ca_len;
	/* The forms the passwords take on the wire (as typed, IMAP-quoted,
	 * base64 for AUTH LOGIN and AUTH PLAIN), so that a server echoing
	 * one back cannot put it in a detail, a reply or the transcript. */
	char *forms[PROBE_SECRET_FORMS];  /* secmem */
	size_t formcap[PROBE_SECRET_FORMS];
};

/* One dialogue: the socket, its transcript and the libetpan stream over it. */
struct probe_io {
	struct probe *p;
	struct net_conn conn;
	struct transcript tr;
	bool log;                      /* feed the transcript */
	void *stream;                  /* mailstream *, NULL when not open */
	size_t bufcap;                 /* its buffers are secmem, this size */
	/* IMAP: the end of the line being received, to see a literal's
	 * announced size ("{4294967295}") before libetpan allocates it. */
	char ltail[24];
	size_t nltail;
	uint64_t big_literal;          /* the size refused, 0 if none */
	uint64_t lit_left;             /* bytes of the literal being read */
};

void probe_io_init(struct probe *p, struct probe_io *io, bool imap, bool log);
/* Replaces every form of the passwords in text (NUL-terminated, cap bytes)
 * by "<redacted>". */
void probe_scrub(const struct probe *p, char *text, size_t cap);
/* Copies srclen bytes a server sent (or text built from them) to dst for
 * output: every form of the passwords redacted on the raw bytes first, then
 * sanitised (str_sanitize), then scrubbed again; where src was cut (cut) or
 * is cut to fit dst, a tail that could be the start of a form is redacted
 * too. p may be NULL: sanitising only. */
void probe_clean(const struct probe *p, char *dst, size_t dstlen,
                 const char *src, size_t srclen, bool cut);
struct probe_step *probe_step_begin(struct probe *p, const char *name);
/* s may be NULL: a step not shown (probe_sink_step()). */
void probe_step_end(struct probe *p, struct probe_step *s, bool ok,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void probe_note(struct probe *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool probe_is_cancelled(struct probe *p);

/* Resolve + connect with steps "<proto>.resolve" and "<proto>.connect". */
int probe_open(struct probe *p, struct probe_io *io, bool imap,
               const char *host, unsigned port);
/* The libetpan stream over io->conn, its buffers in locked memory; 0 or
 * -1. */
int probe_stream_open(struct probe_io *io);
/* Wipes what the stream (a mailstream *) has sent and already read: after
 * a command that carried a credential and its reply. */
void probe_stream_wipe(void *stream);
/* Handshake + verification with steps "<proto>.tls" and
 * "<proto>.certificate"; 0 or -1 (evidence filled). */
int probe_tls(struct probe *p, struct probe_io *io, bool imap,
              const char *host, unsigned port);
void probe_io_close(struct probe_io *io);
/* The ehlo name: FQDN of this machine, else an address literal. */
void probe_ehlo_name(const struct net_conn *c, char *out, size_t outlen);

/* probe_smtp.c */
int probe_smtp_run(struct probe *p);
/* A quick check that host:port with sec answers: connect, greeting, TLS,
 * EHLO; no credentials, no step, no evidence (a NULL sink). 0 when it
 * works. */
int probe_smtp_quick(struct probe *p, const char *host, unsigned port,
                     enum security sec, int timeout_s);
/* The connect phase of probe_check_smtp() on p's account, certificate
 * verified; fills out's tls, starttls, auth. 0 when it all worked. */
int probe_smtp_check(struct probe *p, struct probe_check *out);
/* The same for IMAP: up to CAPABILITY after TLS, no credential. */
int probe_imap_check(struct probe *p, struct probe_check *out);
/* The messages of snd over one connection (probe_send()). */
int probe_smtp_send(struct probe *p, const struct probe_sender *snd);
/* probe_imap.c */
int probe_imap_run(struct probe *p, bool check_reply);

#endif
