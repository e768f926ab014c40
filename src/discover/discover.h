/* Discovery: from an email address to the settings that serve it. The
 * sources run in parallel under one deadline and stop on a cancel: the
 * presets by domain, the domain's MX matched against the presets' MX
 * suffixes and its base domain looked up in the ISPDB, the ISPDB by
 * domain, the ISP's autoconfig over HTTPS, DNS SRV (RFC 6186/8314), and
 * usual host names checked with a real greeting, EHLO (IMAP: CAPABILITY)
 * and a certificate check (no AUTH, LOGIN or AUTHENTICATE is sent); the
 * SMTP servers the other sources found get the same check afterwards, in
 * what is left of the deadline, and it re-ranks them.
 * Results are data, ranked, each saying where it came from; nothing here
 * prints and no credential is ever sent. */
#ifndef FLUENZR_DISCOVER_H
#define FLUENZR_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "account.h"
#include "preset.h"

#define DISC_MAX_CANDIDATES 16
#define DISC_MAX_NOTES      12
#define DISC_DEFAULT_TIMEOUT_MS 5000

enum disc_source {
	DISC_PRESET,        /* a preset lists the address's domain */
	DISC_ISPDB,         /* the shipped ISPDB lists the address's domain */
	DISC_MX_PRESET,     /* the domain's MX is at a preset's provider */
	DISC_MX_ISPDB,      /* the MX's base domain is in the ISPDB */
	DISC_AUTOCONFIG,    /* the ISP's autoconfig document */
	DISC_SRV,           /* DNS SRV records */
	DISC_GUESS,         /* a usual host name that answered EHLO */
};

struct disc_server {
	char host[ACCT_HOST_MAX + 1];
	unsigned port;
	enum security security;
	char username[ACCT_USER_MAX + 1];   /* "" = the address */
};

struct disc_candidate {
	enum disc_source source;
	int score;                          /* higher is better (ranking) */
	struct disc_server smtp;
	bool has_imap;
	struct disc_server imap;
	char preset[ACCT_PRESET_MAX + 1];   /* the preset's id, or "" */
	char why[384];                      /* where it came from, in words */
	/* The server is outside the address's domain and the source is DNS
	 * or HTTP, both spoofable: ask before a password is sent there. */
	bool foreign;
	bool over_http;                     /* fetched over plain HTTP */
};

struct disc_options {
	const char *email;
	int timeout_ms;                     /* the whole discovery; 0: 5 s */
	int cancel_fd;                      /* readable = stop now; -1: none */
	bool allow_http;                    /* autoconfig over plain HTTP too */
	const char *ca_file;                /* PEM for HTTPS; NULL: the system's */
	const char *ispdb_dir;              /* NULL: discover_ispdb_dir() */
	const struct preset_list *presets;
	/* The ports guessing tries, implicit TLS and STARTTLS; 0: 465, 587. */
	unsigned guess_ssl_port, guess_starttls_port;
	/* The same for IMAP; 0: 993, 143. */
	unsigned guess_imaps_port, guess_imap_port;
	bool no_guess;                      /* skip guessing */
};

struct disc_result {
	struct disc_candidate c[DISC_MAX_CANDIDATES];   /* best first */
	size_t n;
	/* What each source found or why it found nothing, in words. */
	char notes[DISC_MAX_NOTES][256];
	size_t nnotes;
	int64_t elapsed_ms;
	bool cancelled;
};

/* Runs every source for opts->email into out (always written). 0, or -1
 * with out->notes[0] saying why (an invalid address). Finding nothing is
 * 0 with out->n == 0. */
int discover_run(const struct disc_options *opts, struct disc_result *out);
/* A stable name: "preset", "ispdb", "mx-preset", "mx-ispdb", "autoconfig",
 * "srv", "guess". */
const char *discover_source_name(enum disc_source s);
/* Where the shipped ISPDB is: the installed directory, else the one of the
 * source tree the program was built from (an uninstalled build). */
const char *discover_ispdb_dir(void);

#endif
