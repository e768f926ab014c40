/* Fuzz target: account_parse() on store records. Whatever parses must be a
 * valid account, serialise, and parse back to the very same account (and
 * the same record). */
#include "config.h"

#include <string.h>

#include "account.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct account a, b;
	static char rec1[8192], rec2[8192];
	char key[ACCT_EMAIL_MAX + 1];
	int n, m;

	if (account_parse((const char *)data, size, &a) != 0)
		return 0;
	FUZZ_ASSERT(account_validate(&a, NULL) == 0);
	FUZZ_ASSERT(account_key(a.email, key, sizeof key) == 0);
	n = account_serialize(&a, rec1, sizeof rec1);
	FUZZ_ASSERT(n > 0 && (size_t)n < sizeof rec1);
	FUZZ_ASSERT(strlen(rec1) == (size_t)n);
	FUZZ_ASSERT(account_parse(rec1, (size_t)n, &b) == 0);
	/* Both start from account_init()'s memset: padding compares too. */
	FUZZ_ASSERT(memcmp(&a, &b, sizeof a) == 0);
	m = account_serialize(&b, rec2, sizeof rec2);
	FUZZ_ASSERT(m == n && memcmp(rec1, rec2, (size_t)n) == 0);
	/* A buffer one byte short must be refused, never overrun. */
	FUZZ_ASSERT(account_serialize(&a, rec2, (size_t)n) == -1);
	return 0;
}
