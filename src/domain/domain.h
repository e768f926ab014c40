/* Sending-domain health: what receivers look at before they trust mail
 * from a domain (MX, SPF, DKIM, DMARC, the sending host's reverse DNS,
 * optionally DNS blocklists), checked through the DNS module under one
 * deadline and a cancel descriptor. Results are data: items, each with a
 * status, the evidence, the fix in words and the record to publish when
 * one is missing. Nothing here prints. */
#ifndef FLUENZR_DOMAIN_H
#define FLUENZR_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOM_MAX_ITEMS       32
#define DOM_MAX_BLOCKLISTS  8
#define DOM_DEFAULT_TIMEOUT_MS 10000
#define DOM_SPF_MAX_LOOKUPS 10          /* RFC 7208 §4.6.4 */
#define DOM_SPF_MAX_VOID    2

enum dom_status { DOM_PASS, DOM_WARN, DOM_FAIL, DOM_UNKNOWN };

/* Stable item ids (JSON "id"): "mx", "spf", "spf_lookups", "spf_all",
 * "spf_provider", "dkim", "dmarc", "dmarc_reports", "ptr", "blocklist". */
struct dom_item {
	char id[16];
	char subject[256];      /* the selector, the blocklist zone, the IP */
	enum dom_status status;
	bool advisory;          /* a guess (a provider's usual DKIM selector) */
	char title[96];         /* what was checked, a few words */
	char evidence[768];     /* what DNS said, sanitised */
	char fix[512];          /* what to do, "" when it passes */
	/* The record to publish, "" when none: name, type, value. */
	char rec_name[256];
	char rec_type[8];
	char rec_value[512];
};

struct dom_options {
	const char *domain;             /* the From domain */
	const char *selector;           /* seen on a test message; NULL: none */
	const char *sender_ip;          /* the host that sent it; NULL: none */
	/* The account's provider (from its preset), NULL/0 when none: its
	 * name, the SPF includes of which one is required, its usual DKIM
	 * selectors and its own domains (which the user cannot change). */
	const char *provider;
	const char *const *spf_includes;
	size_t nspf_includes;
	const char *const *dkim_selectors;
	size_t ndkim_selectors;
	const char *const *provider_domains;
	size_t nprovider_domains;
	/* With no provider: called with each MX host until one names the
	 * provider the domain's mail is at (a custom domain at Gmail), which it
	 * writes into provider..nprovider_domains of o; NULL: not asked. */
	bool (*provider_by_mx)(void *ud, const char *mx_host, struct dom_options *o);
	void *provider_ud;
	bool blocklists;                /* look the sender up on DNS blocklists */
	const char *const *bl_zones;    /* NULL: domain_default_blocklists */
	size_t nbl_zones;
	int timeout_ms;                 /* the whole check; 0: the default */
	int cancel_fd;                  /* readable = stop now; -1: none */
};

struct dom_result {
	char domain[254];
	char org_domain[254];           /* the organizational domain (PSL) */
	struct dom_item items[DOM_MAX_ITEMS];
	size_t n;
	int64_t elapsed_ms;
	bool cancelled;
	unsigned spf_lookups;           /* counted DNS lookups of the SPF tree */
	char provider_mx[254];          /* the MX host that named the provider, or "" */
};

extern const char *const domain_default_blocklists[];
extern const size_t domain_ndefault_blocklists;

/* Checks o->domain; r is fully written. Blocking: run it on a worker
 * where it must not block (the console). */
void domain_check(const struct dom_options *o, struct dom_result *r);
/* "pass", "warn", "fail", "unknown". */
const char *domain_status_name(enum dom_status s);
/* The worst status of r's items (fail > unknown > warn > pass). */
enum dom_status domain_worst(const struct dom_result *r);
/* Whether s is a domain name to check; NULL or why not. */
const char *domain_valid(const char *s);

/* The organizational domain of name (RFC 7489 §3.2, the Public Suffix
 * List through libpsl), into out; 0, or -1 when name is itself a public
 * suffix or not a name. domain_psl.c, the only file that sees libpsl. */
int domain_org(const char *name, char *out, size_t len);

/* --- parsers, exposed for the unit tests and the fuzz target --- */

enum spf_mech { SPF_ALL, SPF_INCLUDE, SPF_A, SPF_MX, SPF_PTR, SPF_IP4,
                SPF_IP6, SPF_EXISTS, SPF_REDIRECT, SPF_EXP, SPF_UNKNOWN_MOD };

#define SPF_MAX_TERMS 48

struct spf_term {
	enum spf_mech mech;
	char qualifier;                 /* '+', '-', '~', '?' */
	char arg[256];                  /* domain-spec or address, "" if none */
	bool macro;                     /* arg holds a macro (%{...}) */
};

struct spf_record {
	struct spf_term t[SPF_MAX_TERMS];
	size_t n;
	int all;                        /* index of the all mechanism, -1 */
	int redirect;                   /* index of redirect=, -1 */
};

/* Whether txt is an SPF record at all (RFC 7208 §4.5: "v=spf1" then a
 * space or the end). */
bool spf_is_record(const char *txt);
/* Parses an SPF record; 0, or -1 with why (a permerror, in words). */
int spf_parse(const char *txt, struct spf_record *out, char *why, size_t len);
/* Counts the DNS lookups one record's terms cause by themselves. */
unsigned spf_lookup_terms(const struct spf_record *r);

enum dmarc_policy { DMARC_P_NONE_GIVEN, DMARC_P_NONE, DMARC_P_QUARANTINE,
                    DMARC_P_REJECT };

struct dmarc_record {
	enum dmarc_policy p, sp;        /* sp: DMARC_P_NONE_GIVEN when absent */
	unsigned pct;                   /* 100 when absent */
	char rua[256];                  /* "" when absent */
	char ruf[256];
	char adkim, aspf;               /* 'r' or 's' */
};

/* Whether txt is a DMARC record (RFC 7489 §6.6.3: starts with v=DMARC1). */
bool dmarc_is_record(const char *txt);
/* Parses a DMARC record; 0, or -1 with why. */
int dmarc_parse(const char *txt, struct dmarc_record *out, char *why, size_t len);
const char *dmarc_policy_name(enum dmarc_policy p);

struct dkim_key {
	bool revoked;                   /* p= empty */
	char k[16];                     /* "rsa", "ed25519" */
	unsigned bits;                  /* RSA modulus size; 256 for ed25519 */
	bool testing;                   /* t=y */
};

/* Parses a DKIM key record (RFC 6376 §3.6.1); 0, or -1 with why. */
int dkim_parse_key(const char *txt, struct dkim_key *out, char *why, size_t len);

#endif
