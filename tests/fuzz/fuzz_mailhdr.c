/* Fuzz target: mailhdr_auth_parse() on arbitrary messages (a received
 * message is anyone's) and mailhdr_mutf7_decode() on arbitrary mailbox
 * names (a server's). The first input line is the receiving host name.
 * Whatever comes in, the parse ends and every string out is terminated,
 * within its field and free of control characters. */
#include "config.h"

#include <string.h>

#include "domain.h"
#include "fuzz.h"
#include "mailhdr.h"

/* The Public Suffix List's organisational domain, as the program's. */
static void
org(const char *name, char *out, size_t outlen)
{
	if (domain_org(name, out, outlen) != 0 && outlen)
		out[0] = '\0';
}

static void
clean(const char *s, size_t cap)
{
	FUZZ_ASSERT(memchr(s, '\0', cap) != NULL);
	for (; *s; s++)
		FUZZ_ASSERT((unsigned char)*s >= 0x20 && (unsigned char)*s != 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mailhdr_auth a;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hl = nl ? (size_t)(nl - data) : 0;
	char *host = fuzz_strndup(data, hl);
	char *msg = fuzz_strndup(nl ? nl + 1 : data, nl ? size - hl - 1 : size);
	char name[256], out[256];

	mailhdr_auth_parse(msg, nl ? size - hl - 1 : size, host, org, &a);
	clean(a.from_domain, sizeof a.from_domain);
	clean(a.ar_authserv, sizeof a.ar_authserv);
	clean(a.spf, sizeof a.spf);
	clean(a.dkim, sizeof a.dkim);
	clean(a.dmarc, sizeof a.dmarc);
	clean(a.ar_dkim_d, sizeof a.ar_dkim_d);
	clean(a.ar_mailfrom, sizeof a.ar_mailfrom);
	clean(a.sig_d, sizeof a.sig_d);
	clean(a.sig_s, sizeof a.sig_s);
	clean(a.sig_a, sizeof a.sig_a);
	clean(a.relay_ip, sizeof a.relay_ip);
	clean(a.relay_host, sizeof a.relay_host);
	FUZZ_ASSERT(a.ar_found || (!a.spf[0] && !a.dkim[0] && !a.dmarc[0]));
	FUZZ_ASSERT(a.dkim_sig == (a.sig_d[0] != '\0'));
	FUZZ_ASSERT(a.aligned_relaxed >= -1 && a.aligned_relaxed <= 1);
	FUZZ_ASSERT(a.aligned_strict <= a.aligned_relaxed);

	/* The same bytes as a mailbox name. */
	memcpy(name, data, size < sizeof name ? size : sizeof name - 1);
	name[size < sizeof name ? size : sizeof name - 1] = '\0';
	mailhdr_mutf7_decode(name, out, sizeof out);
	FUZZ_ASSERT(memchr(out, '\0', sizeof out) != NULL);
	mailhdr_mutf7_decode(name, out, 1);
	FUZZ_ASSERT(out[0] == '\0');
	free(host);
	free(msg);
	return 0;
}
