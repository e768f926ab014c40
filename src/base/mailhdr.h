/* What the receiving side wrote on a message: its Authentication-Results
 * (RFC 8601), the DKIM-Signature it carries (RFC 6376) and the Received
 * chain (RFC 5321 trace fields). Pure parsing of hostile bytes: no I/O,
 * no library, every output bounded, terminated and free of control
 * characters. */
#ifndef FLUENZR_MAILHDR_H
#define FLUENZR_MAILHDR_H

#include <stdbool.h>
#include <stddef.h>

#define MAILHDR_DOMAIN_MAX 254
#define MAILHDR_VERDICT_MAX 16
#define MAILHDR_FIELD_MAX  (16 * 1024)   /* bytes of one unfolded field kept */
#define MAILHDR_FIELDS_MAX 1000          /* header fields looked at */

struct mailhdr_auth {
	char from_domain[MAILHDR_DOMAIN_MAX + 1];   /* of the From: address */
	/* The Authentication-Results trusted (see mailhdr_auth_parse()). */
	bool ar_found;
	char ar_authserv[MAILHDR_DOMAIN_MAX + 1];   /* "" when it had none */
	unsigned ar_ignored;                        /* A-R fields not trusted */
	char spf[MAILHDR_VERDICT_MAX];              /* "pass", "fail" …; "" */
	char dkim[MAILHDR_VERDICT_MAX];
	char dmarc[MAILHDR_VERDICT_MAX];
	char ar_dkim_d[MAILHDR_DOMAIN_MAX + 1];     /* header.d of dkim= */
	char ar_mailfrom[MAILHDR_DOMAIN_MAX + 1];   /* smtp.mailfrom of spf= */
	/* The DKIM-Signature chosen: the first aligned with From, else the
	 * first. */
	bool dkim_sig;
	unsigned dkim_sigs;                         /* how many there were */
	char sig_d[MAILHDR_DOMAIN_MAX + 1];
	char sig_s[64];
	char sig_a[32];
	/* Its d= against the From domain: -1 nothing to compare, else 0/1. */
	int aligned_relaxed;                        /* same organisational domain */
	int aligned_strict;                         /* the same domain */
	/* The address of the host that handed the message to the receiving
	 * side: the first Received (from the top) that is not an internal hop. */
	char relay_ip[64];
	char relay_host[MAILHDR_DOMAIN_MAX + 1];    /* its from-name, "" if none */
	unsigned nreceived;
	bool truncated;                             /* the header had to be cut */
};

/* Parses the header section of msg (len bytes, anything). receiver is the
 * receiving side's host name (the IMAP server's; may be "" or NULL).
 *
 * Which Authentication-Results is trusted: only the topmost one, because a
 * receiving server adds its own above everything it received (RFC 8601
 * section 5), so any other one was written before it, by anyone. And the
 * topmost only when its authserv-id belongs to the receiving side: the same
 * organisational domain as receiver or as the "by" host of a Received field
 * above it (a sender cannot put a field above the receiver's own). One with
 * no authserv-id at all (Microsoft writes them so) is trusted only when
 * receiver is one of Microsoft's. Every other A-R counts in ar_ignored.
 *
 * org gives the organisational domain of a name (lowercase) into out, ""
 * when it has none; the program passes the Public Suffix List's (src/app),
 * so alignment and trust follow the same rule as the domain check's DMARC.
 * Without org nothing is parsed (out says nothing found). */
typedef void (*mailhdr_org_fn)(const char *name, char *out, size_t outlen);
void mailhdr_auth_parse(const char *msg, size_t len, const char *receiver,
                        mailhdr_org_fn org, struct mailhdr_auth *out);


/* Modified UTF-7 (IMAP mailbox names, RFC 3501 5.1.3) to UTF-8; a name that
 * does not decode is copied as it is. Always terminated. */
void mailhdr_mutf7_decode(const char *in, char *out, size_t outlen);

#endif
