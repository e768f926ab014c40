/* The DKIM signature of a received message, verified here rather than
 * taken on the receiving server's word: libopendkim canonicalises and
 * checks, the key record (s._domainkey.d TXT) comes from src/dns with the
 * caller's deadline and cancel. No output, no state kept between calls. */
#ifndef FLUENZR_MSGAUTH_H
#define FLUENZR_MSGAUTH_H

#include <stdbool.h>
#include <stddef.h>

enum msgauth_verdict {
	MSGAUTH_NONE = 0,       /* no DKIM-Signature */
	MSGAUTH_PASS,
	MSGAUTH_FAIL,           /* a signature that does not verify */
	MSGAUTH_TEMPERROR,      /* the key could not be fetched now */
};

struct msgauth_dkim {
	enum msgauth_verdict verdict;
	char d[254];            /* the signature's domain and selector, sanitised */
	char s[64];
	char why[512];          /* our words on anything but a pass */
};

/* Verifies the first DKIM signature of msg (len bytes, CRLF or LF lines,
 * hostile). cut: msg is only the start of the message (then a failure
 * says so). Waits at most timeout_ms for DNS, returns early once cancel_fd
 * (-1: none) is readable. 0, or -1 when the library could not start (why
 * in out). */
int msgauth_dkim_verify(const char *msg, size_t len, bool cut, int timeout_ms,
                        int cancel_fd, struct msgauth_dkim *out);
const char *msgauth_verdict_name(enum msgauth_verdict v);

#endif
