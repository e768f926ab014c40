/* Fuzz target: dns_parse_answer() on arbitrary resolver answers. The first
 * byte picks the query type, the rest is the answer as the network gave it.
 * Whatever comes in, an accepted answer holds 1..DNS_MAX_RR records, each
 * host name (MX, SRV, PTR) valid, each address numeric, each TXT terminated within its
 * cap, MX and SRV sorted by priority; a refused one holds none and says
 * why. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "dns.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum dns_type types[] = { DNS_A, DNS_AAAA, DNS_MX, DNS_SRV, DNS_TXT,
	                                       DNS_PTR };
	static struct dns_answer out;
	enum dns_type t;
	unsigned char *abuf;
	unsigned char bin[16];

	if (size < 1 || size > 65536)
		return 0;
	t = types[data[0] % 6];
	/* An exact-size copy: ASan sees any read past the answer. */
	abuf = malloc(size - 1 ? size - 1 : 1);
	if (!abuf)
		abort();
	memcpy(abuf, data + 1, size - 1);
	memset(&out, 0xa5, sizeof out);
	dns_parse_answer(t, abuf, (int)(size - 1), &out);
	free(abuf);

	FUZZ_ASSERT(memchr(out.why, '\0', sizeof out.why) != NULL);
	if (out.result != DNS_OK) {
		FUZZ_ASSERT(out.n == 0 && out.why[0] != '\0');
		return 0;
	}
	FUZZ_ASSERT(out.n >= 1 && out.n <= DNS_MAX_RR);
	for (size_t i = 0; i < out.n; i++) {
		const struct dns_rr *r = &out.rr[i];

		switch (t) {
		case DNS_MX:
		case DNS_SRV:
			FUZZ_ASSERT(dns_valid_name(r->name));
			FUZZ_ASSERT(t == DNS_MX || (r->port >= 1 && r->port <= 65535));
			if (i > 0)
				FUZZ_ASSERT(out.rr[i - 1].prio <= r->prio);
			break;
		case DNS_PTR:
			FUZZ_ASSERT(dns_valid_name(r->name));
			break;
		case DNS_A:
			FUZZ_ASSERT(inet_pton(AF_INET, r->addr, bin) == 1);
			break;
		case DNS_AAAA:
			FUZZ_ASSERT(inet_pton(AF_INET6, r->addr, bin) == 1);
			break;
		case DNS_TXT:
			FUZZ_ASSERT(memchr(r->txt, '\0', sizeof r->txt) != NULL);
			FUZZ_ASSERT(strlen(r->txt) <= DNS_TXT_MAX);
			break;
		}
	}
	return 0;
}
