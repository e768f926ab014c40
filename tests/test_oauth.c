/* Unit tests of src/oauth/ without a network: the strict JSON reader
 * (caps, duplicate keys, types, secrets), RFC 7628's error challenge and
 * the SASL initial responses. The grants themselves run in tests/oauth.sh
 * against a real server. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "oauth.h"
#include "oauth_int.h"
#include "unit.h"

static bool
parses(const char *s)
{
	struct oj *o = oj_parse(s, strlen(s));

	oj_free(o);
	return o != NULL;
}

static void
test_json(void)
{
	static const char reply[] = "{\"s\":\"a\\u0007b\",\"n\":42,\"ns\":\"17\","
		"\"neg\":-1,\"t\":\"tok\\u0001en\",\"ok\":\"abc.DEF-_~+/=\"}";
	char big[OJ_MAX_BYTES + 64], out[64];
	struct oj *o;
	int64_t n = 0;

	check(parses("{\"a\":1}"), "an object parses");
	check(!parses("[1,2]"), "an array is refused");
	check(!parses("\"x\""), "a string is refused");
	check(!parses("{\"a\":1,\"a\":2}"), "a duplicate key is refused");
	check(!parses("{\"a\":[[[[[1]]]]]}"), "nesting deeper than the cap is refused");
	check(parses("{\"a\":\"[[[[[[\"}"), "brackets inside a string do not count");
	check(!parses("{\"a\":1} trailing"), "trailing data is refused");
	check(!parses("{\"a\":\"\xff\"}"), "invalid UTF-8 is refused");
	memset(big, ' ', sizeof big);
	memcpy(big, "{\"a\":1}", 7);
	check(oj_parse(big, sizeof big) == NULL, "a document over the size cap is refused");

	o = oj_parse(reply, strlen(reply));
	check(o != NULL, "a token reply parses");
	if (o == NULL)
		return;
	check(oj_str(o, "s", out, sizeof out) == 1 && strchr(out, 7) == NULL,
	      "a string member is sanitised of controls");
	check(oj_str(o, "n", out, sizeof out) == -1, "a number is not a string");
	check(oj_str(o, "missing", out, sizeof out) == 0, "an absent member is 0");
	check(oj_int(o, "n", 0, 100, &n) == 1 && n == 42, "an integer member");
	check(oj_int(o, "ns", 0, 100, &n) == 1 && n == 17, "an integer sent as a string");
	check(oj_int(o, "neg", 0, 100, &n) == -1, "an integer out of range is refused");
	check(oj_int(o, "s", 0, 100, &n) == -1, "a non-numeric string is no integer");
	check(oj_secret(o, "t", out, sizeof out) == -1, "a secret with a control is refused");
	check(oj_secret(o, "ok", out, sizeof out) == 1 && !strcmp(out, "abc.DEF-_~+/="),
	      "a secret is copied as is");
	check(oj_secret(o, "ok", out, 5) == -1, "a secret too long for its buffer is refused");
	oj_free(o);
}

static void
test_sasl(void)
{
	const char *json = "{\"status\":\"invalid_token\",\"scope\":\"mail\","
	                   "\"openid-configuration\":\"https://as.example/.well-known\"}";
	char b64[512], raw[256];
	struct oauth_sasl_error se;
	long n;

	base64_encode((const unsigned char *)json, strlen(json), b64, sizeof b64);
	check(oauth_sasl_error_parse(b64, &se) == 0 && !strcmp(se.status, "invalid_token") &&
	      !strcmp(se.scope, "mail"), "RFC 7628 error challenge read");
	check(oauth_sasl_error_parse("eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJtYWlsIn0=",
	                             &se) == 0 && !strcmp(se.status, "401"),
	      "Dovecot's challenge read");
	check(oauth_sasl_error_parse("not base64!", &se) == -1, "a challenge that is not base64");
	base64_encode((const unsigned char *)"[1]", 3, b64, sizeof b64);
	check(oauth_sasl_error_parse(b64, &se) == -1, "a challenge that is no object");
	base64_encode((const unsigned char *)"{\"scope\":\"x\"}", 13, b64, sizeof b64);
	check(oauth_sasl_error_parse(b64, &se) == -1, "a challenge without a status");

	n = oauth_sasl_initial(OAUTH_XOAUTH2, "me@example.com", "T0K", raw, sizeof raw);
	check(n > 0 && (size_t)n == strlen("user=me@example.com\001auth=Bearer T0K\001\001") &&
	      !memcmp(raw, "user=me@example.com\001auth=Bearer T0K\001\001", (size_t)n),
	      "XOAUTH2 initial response");
	n = oauth_sasl_initial(OAUTH_OAUTHBEARER, "me@example.com", "T0K", raw, sizeof raw);
	check(n > 0 && !memcmp(raw, "n,a=me@example.com,\001auth=Bearer T0K\001\001", (size_t)n),
	      "OAUTHBEARER initial response (RFC 7628)");
	check(oauth_sasl_initial(OAUTH_OAUTHBEARER, "a,b", "T", raw, sizeof raw) == -1,
	      "a user name with a GS2 separator is refused");
	check(oauth_sasl_initial(OAUTH_XOAUTH2, "me", "T\001x", raw, sizeof raw) == -1,
	      "a token with a control is refused");
	check(oauth_sasl_initial(OAUTH_XOAUTH2, "me", "TOKEN", raw, 8) == -1,
	      "a response that does not fit is refused");
}

int
main(void)
{
	test_json();
	test_sasl();
	return unit_done();
}
