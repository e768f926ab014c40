/* Fuzz target: autoconfig_parse() on arbitrary documents (an ISP's
 * autoconfig server is anyone's). Whatever comes in, the parse ends, and an
 * accepted document yields at least one SMTP server and at most the caps,
 * each with a valid host, a port in range and encryption on, and every
 * string terminated and free of control characters. */
#include "config.h"

#include <string.h>

#include "account.h"
#include "autoconfig.h"
#include "fuzz.h"

static void
clean(const char *s, size_t cap)
{
	FUZZ_ASSERT(memchr(s, '\0', cap) != NULL);
	for (; *s; s++)
		FUZZ_ASSERT((unsigned char)*s >= 0x20 && (unsigned char)*s != 0x7f);
}

static void
servers(const struct ac_server *v, size_t n)
{
	FUZZ_ASSERT(n <= AC_MAX_SERVERS);
	for (size_t i = 0; i < n; i++) {
		clean(v[i].host, sizeof v[i].host);
		clean(v[i].username, sizeof v[i].username);
		FUZZ_ASSERT(v[i].host[0] != '\0');
		FUZZ_ASSERT(v[i].port >= 1 && v[i].port <= 65535);
		FUZZ_ASSERT(v[i].security == SEC_SSL || v[i].security == SEC_STARTTLS);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ac_config c;
	char why[256];
	char *doc;
	int rc;

	if (size > AC_DOC_MAX + 16)
		return 0;
	doc = fuzz_strndup(data, size);
	memset(&c, 0xa5, sizeof c);
	rc = autoconfig_parse(doc, size, "jean@monentreprise.fr", &c, why, sizeof why);
	free(doc);
	clean(why, sizeof why);
	if (rc != 0) {
		FUZZ_ASSERT(why[0] != '\0');
		return 0;
	}
	FUZZ_ASSERT(c.nsmtp >= 1);
	servers(c.smtp, c.nsmtp);
	servers(c.imap, c.nimap);
	clean(c.name, sizeof c.name);
	clean(c.id, sizeof c.id);
	FUZZ_ASSERT(c.ndomains <= AC_MAX_DOMAINS);
	for (size_t i = 0; i < c.ndomains; i++)
		clean(c.domains[i], sizeof c.domains[i]);
	return 0;
}
