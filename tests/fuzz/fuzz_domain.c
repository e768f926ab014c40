/* Fuzz target: the record parsers of domain health (SPF, DMARC, DKIM
 * keys) on arbitrary TXT contents, the first byte picking the parser.
 * Whatever comes in, each parse ends; an accepted SPF record holds at most
 * SPF_MAX_TERMS terms, its all and redirect indexes in range and every
 * argument terminated, and its lookup count bounded by its terms; an
 * accepted DMARC record has a policy and a pct of at most 100; an accepted
 * DKIM key is revoked or has a size; a refusal always says why. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "domain.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct spf_record spf;
	struct dmarc_record d;
	struct dkim_key k;
	char why[160], *txt;
	int rc;

	if (size < 1 || size > DNS_TXT_MAX + 1)
		return 0;
	/* A TXT record as the DNS module hands it over: NUL-free, terminated. */
	if (!(txt = malloc(size)))
		abort();
	memcpy(txt, data + 1, size - 1);
	txt[size - 1] = '\0';
	if (memchr(data + 1, '\0', size - 1)) {
		free(txt);
		return 0;
	}
	memset(why, 0xa5, sizeof why);
	switch (data[0] % 3) {
	case 0:
		rc = spf_parse(txt, &spf, why, sizeof why);
		if (rc == 0) {
			FUZZ_ASSERT(spf.n <= SPF_MAX_TERMS);
			FUZZ_ASSERT(spf.all < (int)spf.n && spf.redirect < (int)spf.n);
			FUZZ_ASSERT(spf_lookup_terms(&spf) <= spf.n);
			for (size_t i = 0; i < spf.n; i++)
				FUZZ_ASSERT(memchr(spf.t[i].arg, '\0', sizeof spf.t[i].arg) != NULL);
		}
		break;
	case 1:
		rc = dmarc_parse(txt, &d, why, sizeof why);
		if (rc == 0) {
			FUZZ_ASSERT(d.p != DMARC_P_NONE_GIVEN && d.pct <= 100);
			FUZZ_ASSERT(memchr(d.rua, '\0', sizeof d.rua) != NULL);
			FUZZ_ASSERT(dmarc_is_record(txt));
		}
		break;
	default:
		rc = dkim_parse_key(txt, &k, why, sizeof why);
		if (rc == 0)
			FUZZ_ASSERT(k.revoked ? k.bits == 0 : k.bits > 0);
		break;
	}
	FUZZ_ASSERT(memchr(why, '\0', sizeof why) != NULL);
	FUZZ_ASSERT(rc == 0 || why[0] != '\0');
	free(txt);
	return 0;
}
