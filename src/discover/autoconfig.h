/* Autoconfig documents (Thunderbird's config-v1.1 format, as ISPs publish
 * them and as the ISPDB ships them): the one module that owns expat. A
 * document is untrusted: its size, depth and element count are capped, a
 * DOCTYPE or an entity declaration makes it refused (so no entity is ever
 * expanded), and every value is validated before it is kept. */
#ifndef FLUENZR_AUTOCONFIG_H
#define FLUENZR_AUTOCONFIG_H

#include <stddef.h>
#include "account.h"

#define AC_DOC_MAX      (256 * 1024)  /* bytes of one document */
#define AC_MAX_SERVERS  4
#define AC_MAX_DOMAINS  64

struct ac_server {
	char host[ACCT_HOST_MAX + 1];
	unsigned port;
	enum security security;
	char username[ACCT_USER_MAX + 1];   /* placeholders replaced; "" if none */
};

struct ac_config {
	char id[ACCT_HOST_MAX + 1];          /* emailProvider id */
	char name[128];                      /* displayName, sanitised */
	char domains[AC_MAX_DOMAINS][ACCT_HOST_MAX + 1];
	size_t ndomains;
	struct ac_server smtp[AC_MAX_SERVERS];   /* in the document's order */
	size_t nsmtp;
	struct ac_server imap[AC_MAX_SERVERS];
	size_t nimap;
	unsigned skipped_plain;              /* unencrypted servers left out */
};

/* Parses a config-v1.1 document for the address email (its
 * %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN% placeholders).
 * 0, or -1 with why. A document with no usable SMTP server is an error. */
int autoconfig_parse(const char *xml, size_t len, const char *email,
                     struct ac_config *out, char *why, size_t whylen);

#endif
