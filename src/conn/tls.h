/* TLS for the probes, done with GnuTLS directly: the handshake (SNI, system
 * trust plus the account's CA file) that wraps a net_conn in TLS, and
 * our own verification of the peer's certificate (chain, host name or IP
 * address, dates, or a pin). Nothing is ever written to stderr. */
#ifndef FLUENZR_TLS_H
#define FLUENZR_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "account.h"
#include "net.h"

/* Certificate problems, the sub-reasons of invalid_certificate. */
enum cert_problem {
	CERT_OK = 0,
	CERT_EXPIRED,
	CERT_NOT_YET_VALID,
	CERT_HOSTNAME_MISMATCH,
	CERT_UNTRUSTED,
	CERT_SELF_SIGNED,
	CERT_PIN_MISMATCH,
};

const char *cert_problem_name(enum cert_problem p);

/* What the handshake and the verification found: the session and the
 * server's leaf certificate. step is the caller's: which of its steps this
 * session belongs to. */
struct tls_info {
	char step[32];
	char version[32];
	char cipher[96];
	char subject[256];
	char issuer[256];
	char not_before[32];          /* ISO 8601 UTC */
	char not_after[32];
	char sha256[ACCT_PIN_LEN + 1];/* "sha256:<hex>" */
	bool verified;
	char problem[32];             /* cert_problem_name(), "" when verified */
};

struct tls_fail {
	char msg[256];           /* GnuTLS's words, e.g. "An unexpected TLS packet..." */
	bool peer_spoke_plain;   /* the server answered in clear text */
	bool version_refused;    /* no common version: the server is older
	                          * than TLS 1.2 (when old ones are off) */
};

int tls_global_init(void);

/* Runs the handshake on c (already connected) until c's deadline. host is
 * sent as SNI unless it is an IP address. TLS 1.2 or later only, unless
 * allow_old (RFC 8996: a credential never goes over TLS 1.0/1.1 unless the
 * user said so). On success the session wraps c: net_read(), net_write()
 * and net_close() go through it (c->ops, c->layer). */
int tls_handshake(struct net_conn *c, const char *host, bool allow_old,
                  struct tls_fail *f);

/* Fills version, cipher and the leaf certificate's fields, then verifies:
 * with a pin ("sha256:<hex>") only the pin decides; otherwise the chain
 * against the system trust and the CA file's contents (ca_pem, ca_len
 * bytes of PEM, read and checked by the caller; NULL for none; ca_name
 * names it in messages), the host name / IP address and the dates.
 * Returns CERT_OK or the problem; why gets a sentence. */
enum cert_problem tls_verify(struct net_conn *c, const char *host,
                             const char *ca_pem, size_t ca_len,
                             const char *ca_name, const char *pin,
                             struct tls_info *info, char *why,
                             size_t whylen);

#endif
