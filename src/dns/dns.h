/* DNS queries with one deadline and a cancel descriptor: the one module
 * that owns c-ares. Discovery asks for MX, SRV, A/AAAA and TXT records
 * through it; domain health asks for PTR records too. The resolver comes from /etc/resolv.conf (a test's private
 * mount namespace sees its own); every answer is validated before it is
 * returned: names checked, records counted and capped, CNAME chains
 * bounded. Nothing here prints. */
#ifndef FLUENZR_DNS_H
#define FLUENZR_DNS_H

#include <stdbool.h>
#include <stddef.h>

enum dns_type { DNS_A, DNS_AAAA, DNS_MX, DNS_SRV, DNS_TXT, DNS_PTR };

enum dns_result {
	DNS_OK = 0,             /* at least one record */
	DNS_NXDOMAIN,           /* the name does not exist */
	DNS_NODATA,             /* the name exists, no record of that type */
	DNS_TIMEOUT,            /* no answer by the deadline */
	DNS_CANCELLED,          /* cancel_fd became readable */
	DNS_SERVFAIL,           /* the resolver failed or refused */
	DNS_MALFORMED,          /* an answer we do not accept (see why) */
	DNS_INTERNAL,           /* out of memory, no resolver configured */
};

#define DNS_MAX_RR      16      /* records kept from one answer */
#define DNS_MAX_CNAME   8       /* CNAMEs followed within one answer */
#define DNS_NAME_MAX    253
/* Bytes of one TXT record, strings joined: room for a 4096-bit DKIM key. */
#define DNS_TXT_MAX     2048

struct dns_rr {
	char name[DNS_NAME_MAX + 1];  /* MX exchange, SRV target, PTR name; "" for A/AAAA/TXT */
	char addr[46];                /* A/AAAA, numeric */
	unsigned prio, weight, port;  /* MX preference; SRV priority, weight, port */
	char txt[DNS_TXT_MAX + 1];    /* TXT, NUL-free */
};

/* An MX answer's "." is the root: the domain takes no mail. */
#define DNS_NULL_MX "."

struct dns_answer {
	enum dns_result result;
	size_t n;                     /* records in rr, sorted: MX and SRV by priority */
	struct dns_rr rr[DNS_MAX_RR];
	char why[384];                /* our words on a failure, "" on DNS_OK */
};

/* Whether an MX answer is a null MX (RFC 7505): one record, naming ".",
 * by which a domain says it accepts no mail at all. */
bool dns_null_mx(const struct dns_answer *a);

/* Asks for the records of type t of name, until timeout_ms has passed or
 * cancel_fd (-1: none) is readable. out is always fully written. Returns
 * out->result. Thread-safe: each call has its own channel. */
enum dns_result dns_query(const char *name, enum dns_type t, int timeout_ms,
                          int cancel_fd, struct dns_answer *out);
/* What dns_query() makes of a raw answer of alen bytes (hostile) to a
 * query of type: out fully written, DNS_OK or why not. */
void dns_parse_answer(enum dns_type type, const unsigned char *abuf, int alen,
                      struct dns_answer *out);
/* A stable name: "ok", "nxdomain", "timeout", … */
const char *dns_result_name(enum dns_result r);
/* Whether s is a host name a DNS answer may carry (LDH labels, '_' allowed
 * for service labels, at most 253 bytes, no trailing dot). */
int dns_valid_name(const char *s);

#endif
