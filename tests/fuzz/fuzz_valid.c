/* Fuzz target: every field validator (valid_*) and security_parse() on an
 * arbitrary string. What a validator accepts must have the properties the
 * rest of the program relies on. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "account.h"
#include "util.h"
#include "fuzz.h"

static bool
all_in(const char *s, const char *set_extra)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (!strchr(set_extra, c))
			return false;
	}
	return true;
}

static void
check_email(const char *s)
{
	char key[ACCT_EMAIL_MAX + 1];
	size_t n = strlen(s);
	const char *at;

	if (valid_email(s))
		return;
	FUZZ_ASSERT(n > 0 && n <= ACCT_EMAIL_MAX);
	FUZZ_ASSERT(utf8_valid(s, n));
	FUZZ_ASSERT(!fuzz_has_ctl(s, n, false));
	FUZZ_ASSERT(!utf8_has_invisible(s, n));
	FUZZ_ASSERT(!strchr(s, ' ') && !strchr(s, '<') && !strchr(s, '>'));
	at = strrchr(s, '@');
	FUZZ_ASSERT(at && at > s && strchr(s, '@') == at);
	FUZZ_ASSERT(strchr(at + 1, '.'));
	FUZZ_ASSERT(account_key(s, key, sizeof key) == 0);
}

static void
check_hostname(const char *s)
{
	size_t n = strlen(s);

	if (valid_hostname(s))
		return;
	FUZZ_ASSERT(n > 0 && n <= ACCT_HOST_MAX);
	/* What reaches a command line, a header or a terminal: ASCII name
	 * characters, or an IP address. */
	FUZZ_ASSERT(all_in(s, "-.:"));
}

static void
check_port(const char *s)
{
	unsigned v = 0;
	char back[16];

	if (valid_port(s, &v))
		return;
	FUZZ_ASSERT(v >= 1 && v <= 65535);
	snprintf(back, sizeof back, "%u", v);
	FUZZ_ASSERT(strcmp(back, s) == 0);
	FUZZ_ASSERT(valid_port(s, NULL) == NULL);
}

static void
check_pin(const char *s)
{
	char out[ACCT_PIN_LEN + 1], again[ACCT_PIN_LEN + 1];

	memset(out, 'x', sizeof out);
	if (valid_pin(s, out))
		return;
	FUZZ_ASSERT(memchr(out, '\0', sizeof out) != NULL);
	FUZZ_ASSERT(strlen(out) == ACCT_PIN_LEN);
	FUZZ_ASSERT(strncmp(out, "sha256:", 7) == 0);
	FUZZ_ASSERT(strspn(out + 7, "0123456789abcdef") == 64);
	/* The canonical form is accepted and canonical. */
	FUZZ_ASSERT(valid_pin(out, again) == NULL);
	FUZZ_ASSERT(strcmp(out, again) == 0);
	FUZZ_ASSERT(valid_pin(s, NULL) == NULL);
}

static void
check_secret(const char *s)
{
	size_t n = strlen(s);

	if (valid_secret(s))
		return;
	FUZZ_ASSERT(n > 0 && n <= ACCT_SECRET_MAX);
	FUZZ_ASSERT(utf8_valid(s, n));
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

static void
check_text(const char *s)
{
	static const size_t maxes[] = { 0, 1, 3, ACCT_RESULT_MAX, ACCT_NAME_MAX,
	                                ACCT_PATH_MAX };
	size_t n = strlen(s);

	for (size_t i = 0; i < sizeof maxes / sizeof maxes[0]; i++) {
		if (valid_text(s, maxes[i]))
			continue;
		FUZZ_ASSERT(n <= maxes[i]);
		FUZZ_ASSERT(utf8_valid(s, n));
		FUZZ_ASSERT(!fuzz_has_ctl(s, n, false));
		FUZZ_ASSERT(!utf8_has_invisible(s, n));
	}
}

static void
check_security(const char *s)
{
	enum security e = (enum security)99, again = (enum security)99;

	if (security_parse(s, &e) != 0) {
		FUZZ_ASSERT(e == (enum security)99);
		return;
	}
	FUZZ_ASSERT(e == SEC_STARTTLS || e == SEC_SSL || e == SEC_NONE);
	FUZZ_ASSERT(security_parse(security_name(e), &again) == 0);
	FUZZ_ASSERT(again == e);
	FUZZ_ASSERT(security_default_port(e, false) != 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strndup(data, size);

	check_email(s);
	check_hostname(s);
	check_port(s);
	check_pin(s);
	check_secret(s);
	check_text(s);
	check_security(s);
	free(s);
	return 0;
}
