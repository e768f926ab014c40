/* The parsers of domain health (src/domain/domain_parse.c) on records as
 * providers publish them (Google, Microsoft, Gandi, Infomaniak, RFC 7208
 * and RFC 7489 examples) and on the malformed shapes receivers reject;
 * and the organizational domain from the Public Suffix List. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "domain.h"
#include "mailhdr.h"
#include "unit.h"

/* Real keys, made for this test with openssl (2048 and 512 bits,
 * SubjectPublicKeyInfo; the 2048-bit one also as a bare RSAPublicKey;
 * an Ed25519 key). */
#define K2048 "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwzEL/vxy7HOwnYXMvntNtreLDmaTrJ3RxT6Y3QUSyG8Lo5J06ljA2Q2VUFAJVjNwwaZRkh29R5LoXh32F9nKQKQZx7GSLUjpr6w+lGC0kr+nwhEoJubMRQ+BsGOjmr8ngKqTLfIiK/1TXUJDmNe7IaYg9PD6Zvtu0QDDVNZ+UMGTgh1/zJ3QbBb04i4zve6/HUSsMjdTqT7+FrULVpS4UYgvdNLhI4+XT4tKe+uYE+TqGefNgJhSPTNnZIZLhXmAeoSU4KYORFm874UQf4RPcI0g81KmpNk/ZOXRMPGhVCNnAL7iOoQQJVvNN9GFPi/bJ0hOMbAdUr880gH5wzqn7QIDAQAB"
#define K512 "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAK82yaJKqwfcAZqNqOOHsCo6kjJFu9tb6ftk3SL5LksY03w3Zq/q3SZ7N/CXP55at4O9KyH1h45YKEWMWRfjlNcCAwEAAQ=="
#define K2048_PKCS1 "MIIBCgKCAQEAwzEL/vxy7HOwnYXMvntNtreLDmaTrJ3RxT6Y3QUSyG8Lo5J06ljA2Q2VUFAJVjNwwaZRkh29R5LoXh32F9nKQKQZx7GSLUjpr6w+lGC0kr+nwhEoJubMRQ+BsGOjmr8ngKqTLfIiK/1TXUJDmNe7IaYg9PD6Zvtu0QDDVNZ+UMGTgh1/zJ3QbBb04i4zve6/HUSsMjdTqT7+FrULVpS4UYgvdNLhI4+XT4tKe+uYE+TqGefNgJhSPTNnZIZLhXmAeoSU4KYORFm874UQf4RPcI0g81KmpNk/ZOXRMPGhVCNnAL7iOoQQJVvNN9GFPi/bJ0hOMbAdUr880gH5wzqn7QIDAQAB"
#define KED "DjE1GkEp/zXr+SHpRwdFS6njPNJ+5Is7Mtu4b/32Cfg="

static void
spf_ok(const char *txt, size_t terms, unsigned lookups, char all)
{
	struct spf_record r;
	char why[160];
	int rc = spf_parse(txt, &r, why, sizeof why);

	check(rc == 0 && r.n == terms && spf_lookup_terms(&r) == lookups &&
	      (all ? r.all >= 0 && r.t[r.all].qualifier == all : r.all < 0),
	      "SPF '%s': %zu terms, %u lookups, all %c (%s; %zu terms, %u lookups)",
	      txt, terms, lookups, all ? all : '-', rc ? why : "parsed", r.n,
	      spf_lookup_terms(&r));
}

static void
spf_bad(const char *txt, const char *want)
{
	struct spf_record r;
	char why[160];
	int rc = spf_parse(txt, &r, why, sizeof why);

	check(rc < 0 && strstr(why, want), "SPF '%s' refused: %s", txt,
	      rc < 0 ? why : "accepted");
}

static void
dmarc_ok(const char *txt, enum dmarc_policy p, enum dmarc_policy sp,
         const char *rua, unsigned pct)
{
	struct dmarc_record d;
	char why[160];
	int rc = dmarc_parse(txt, &d, why, sizeof why);

	check(rc == 0 && dmarc_is_record(txt) && d.p == p && d.sp == sp &&
	      !strcmp(d.rua, rua) && d.pct == pct, "DMARC '%s' (%s)", txt,
	      rc ? why : "parsed");
}

static void
dmarc_bad(const char *txt, const char *want)
{
	struct dmarc_record d;
	char why[160];
	int rc = dmarc_parse(txt, &d, why, sizeof why);

	check(rc < 0 && strstr(why, want), "DMARC '%s' refused: %s", txt,
	      rc < 0 ? why : "accepted");
}

static void
dkim_ok(const char *txt, const char *k, unsigned bits, bool revoked)
{
	struct dkim_key key;
	char why[160];
	int rc = dkim_parse_key(txt, &key, why, sizeof why);

	check(rc == 0 && !strcmp(key.k, k) && key.bits == bits &&
	      key.revoked == revoked, "DKIM key %.40s…: %s %u bits%s (%s, %u bits)",
	      txt, k, bits, revoked ? " revoked" : "", rc ? why : key.k, key.bits);
}

static void
dkim_bad(const char *txt, const char *want)
{
	struct dkim_key key;
	char why[160];
	int rc = dkim_parse_key(txt, &key, why, sizeof why);

	check(rc < 0 && strstr(why, want), "DKIM key '%.50s' refused: %s", txt,
	      rc < 0 ? why : "accepted");
}

static void
org(const char *name, const char *want)
{
	char out[254];
	int rc = domain_org(name, out, sizeof out);

	check(want ? rc == 0 && !strcmp(out, want) : rc < 0,
	      "organizational domain of %s is %s (%s)", name, want ? want : "none",
	      rc ? "none" : out);
}

/* The organisational domain the program gives the header parser. */
static void
psl_org(const char *name, char *out, size_t len)
{
	if (domain_org(name, out, len) != 0)
		out[0] = '\0';
}

/* DKIM alignment of the test message follows the Public Suffix List, as
 * DMARC does: two sites under a public suffix (github.io) are two
 * organisations, which a label count would take for one. */
static void
alignment(void)
{
	static const char msg[] =
		"DKIM-Signature: v=1; a=rsa-sha256; d=bob.github.io; s=s1; h=from; bh=x; b=y\r\n"
		"From: Alice <alice@alice.github.io>\r\n"
		"Subject: t\r\n\r\nbody\r\n";
	static const char same[] =
		"DKIM-Signature: v=1; a=rsa-sha256; d=example.co.uk; s=s1; h=from; bh=x; b=y\r\n"
		"From: <news@mail.example.co.uk>\r\n\r\n";
	struct mailhdr_auth a;

	mailhdr_auth_parse(msg, sizeof msg - 1, "imap.example.net", psl_org, &a);
	check(a.dkim_sig && a.aligned_relaxed == 0 && a.aligned_strict == 0,
	      "d=bob.github.io is not aligned with alice.github.io (relaxed %d)",
	      a.aligned_relaxed);
	mailhdr_auth_parse(same, sizeof same - 1, "imap.example.net", psl_org, &a);
	check(a.dkim_sig && a.aligned_relaxed == 1 && a.aligned_strict == 0,
	      "d=example.co.uk is aligned, relaxed, with mail.example.co.uk");
}

int
main(void)
{
	/* Providers' records. */
	spf_ok("v=spf1 include:_spf.google.com ~all", 2, 1, '~');
	spf_ok("v=spf1 include:_netblocks.google.com include:_netblocks2.google.com "
	       "include:_netblocks3.google.com ~all", 4, 3, '~');
	spf_ok("v=spf1 ip4:35.190.247.0/24 ip4:64.233.160.0/19 ip4:66.102.0.0/20 "
	       "ip6:2001:4860:4000::/36 ip6:2404:6800:4000::/36 ~all", 6, 0, '~');
	spf_ok("v=spf1 redirect=_spf.google.com", 1, 1, 0);
	spf_ok("v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip4:52.100.0.0/15 "
	       "ip6:2a01:111:f400::/48 include:spfd.protection.outlook.com -all", 6, 1, '-');
	spf_ok("v=spf1 include:_mailcust.gandi.net ?all", 2, 1, '?');
	spf_ok("v=spf1 include:spf.infomaniak.ch -all", 2, 1, '-');
	spf_ok("v=spf1 include:mx.ovh.com include:zoho.eu ~all", 3, 2, '~');
	/* RFC 7208 examples, macros, modifiers, CIDR forms, case. */
	spf_ok("v=spf1 +mx a:colo.example.com/28 -all", 3, 2, '-');
	spf_ok("v=spf1 a/24//64 mx:example.com/24 ptr:example.org ~all", 4, 3, '~');
	spf_ok("v=spf1 exists:%{i}._spf.%{d2} -all", 2, 1, '-');
	spf_ok("v=spf1 include:%{l1r-}.%{d} exp=explain._spf.%{d} -all", 3, 1, '-');
	spf_ok("v=spf1 mx -all exp=explain._spf.%{d}", 3, 1, '-');
	spf_ok("V=SPF1 MX IP4:192.0.2.1 -ALL", 3, 1, '-');
	spf_ok("v=spf1 ip6:2001:db8::/32 ip6:::1 ~all", 3, 0, '~');
	spf_ok("v=spf1 mx foo.bar=a%%b%_c%-d -all", 3, 1, '-');
	spf_ok("v=spf1   ip4:192.0.2.0/24    -all  ", 2, 0, '-');
	spf_ok("v=spf1", 0, 0, 0);
	spf_ok("v=spf1 +all", 1, 0, '+');
	/* redirect= counts only without all. */
	spf_ok("v=spf1 a mx ptr exists:x.example include:y.example redirect=z.example", 6, 6, 0);
	spf_ok("v=spf1 a mx ptr exists:x.example include:y.example redirect=z.example -all", 7, 5, '-');
	/* What receivers reject (permerror). */
	spf_bad("v=spf1 foo:bar -all", "unknown mechanism");
	spf_bad("v=spf1 ip4:999.1.1.1 -all", "ip4");
	spf_bad("v=spf1 ip4:192.0.2.1/33", "ip4");
	spf_bad("v=spf1 ip4:192.0.2.1/024", "ip4");
	spf_bad("v=spf1 ip6:2001:db8::/129", "ip6");
	spf_bad("v=spf1 ip6:192.0.2.1", "ip6");
	spf_bad("v=spf1 include: -all", "include");
	spf_bad("v=spf1 include -all", "include");
	spf_bad("v=spf1 include:nodot -all", "include");
	spf_bad("v=spf1 redirect=a.example redirect=b.example", "twice");
	spf_bad("v=spf1 exp=a.example exp=b.example -all", "twice");
	spf_bad("v=spf1 include:%{z}.example.com", "include");
	spf_bad("v=spf1 include:%x.example.com", "include");
	spf_bad("v=spf1 all:example.com", "all takes no");
	spf_bad("v=spf1 ptr/24", "ptr");
	spf_bad("v=spf1 mx//129", "mx");
	spf_bad("v=spf1 1x=y", "modifier");
	spf_bad("v=spf1 a:exa\x01mple.com", "a:");
	spf_bad("v=spf10 -all", "v=spf1");
	spf_bad("spf1 -all", "v=spf1");
	check(!spf_is_record("v=spf1-all") && spf_is_record("v=spf1") &&
	      spf_is_record("v=spf1 -all") && !spf_is_record("v=DMARC1; p=none"),
	      "an SPF record is v=spf1 then a space or the end");
	{
		char big[2400];
		size_t n = (size_t)snprintf(big, sizeof big, "v=spf1");
		while (n + 20 < sizeof big)
			n += (size_t)snprintf(big + n, sizeof big - n, " ip4:192.0.2.%zu", n % 250);
		spf_bad(big, "too long");
		n = (size_t)snprintf(big, sizeof big, "v=spf1");
		for (int i = 0; i < SPF_MAX_TERMS + 1; i++)
			n += (size_t)snprintf(big + n, sizeof big - n, " a");
		spf_bad(big, "too many terms");
	}

	/* DMARC: Google's, RFC 7489's, and the tolerated spacing. */
	dmarc_ok("v=DMARC1; p=reject; rua=mailto:mailauth-reports@google.com", DMARC_P_REJECT,
	         DMARC_P_NONE_GIVEN, "mailto:mailauth-reports@google.com", 100);
	dmarc_ok("v=DMARC1; p=none; sp=quarantine; rua=mailto:dmarc@example.com; pct=50",
	         DMARC_P_NONE, DMARC_P_QUARANTINE, "mailto:dmarc@example.com", 50);
	dmarc_ok("v=DMARC1;p=quarantine", DMARC_P_QUARANTINE, DMARC_P_NONE_GIVEN, "", 100);
	dmarc_ok("v=DMARC1 ; p = Reject ; adkim=s; aspf=r; fo=1; ri=86400",
	         DMARC_P_REJECT, DMARC_P_NONE_GIVEN, "", 100);
	dmarc_ok("v=DMARC1; p=none; rua=mailto:a@x.example,mailto:b@y.example!10m;",
	         DMARC_P_NONE, DMARC_P_NONE_GIVEN, "mailto:a@x.example,mailto:b@y.example!10m", 100);
	dmarc_bad("p=reject; v=DMARC1", "does not start");
	dmarc_bad("v=DMARC2; p=reject", "DMARC1");
	dmarc_bad("v=DMARC1; p=block", "p=");
	dmarc_bad("v=DMARC1; p=none; sp=maybe", "sp=");
	dmarc_bad("v=DMARC1; rua=mailto:x@example.com", "no p=");
	dmarc_bad("v=DMARC1; p=none; pct=150", "pct=");
	dmarc_bad("v=DMARC1; p=none; pct=", "pct=");
	dmarc_bad("v=DMARC1; p=none; rua=https://example.com/r", "rua=");
	dmarc_bad("v=DMARC1; p=none; rua=mailto:", "rua=");
	dmarc_bad("v=DMARC1; p=none; adkim=x", "adkim");
	dmarc_bad("v=DMARC1; p none", "tag=value");
	dmarc_bad("", "does not start");
	check(dmarc_is_record("v=DMARC1; p=none") && dmarc_is_record("v = DMARC1") &&
	      !dmarc_is_record("v=DMARC10; p=none") && !dmarc_is_record("v=spf1 -all") &&
	      !dmarc_is_record("p=none; v=DMARC1"), "a DMARC record starts with v=DMARC1");

	/* DKIM keys. */
	dkim_ok("v=DKIM1; k=rsa; p=" K2048, "rsa", 2048, false);
	dkim_ok("v=DKIM1; p=" K2048, "rsa", 2048, false);
	dkim_ok("k=rsa; t=y; p=" K2048, "rsa", 2048, false);
	dkim_ok("v=DKIM1; k=rsa; p=" K2048_PKCS1, "rsa", 2048, false);
	dkim_ok("v=DKIM1; k=rsa; p=" K512, "rsa", 512, false);
	dkim_ok("v=DKIM1; k=ed25519; p=" KED, "ed25519", 256, false);
	dkim_ok("v=DKIM1; k=rsa; p=", "rsa", 0, true);
	dkim_ok("v=DKIM1; k=rsa; h=sha256; s=email; n=notes; p=" K2048, "rsa", 2048, false);
	{
		/* Folded the way a zone's long string is split. */
		char folded[600];
		snprintf(folded, sizeof folded, "v=DKIM1; k=rsa; p=%.200s %s", K2048, K2048 + 200);
		dkim_ok(folded, "rsa", 2048, false);
	}
	dkim_bad("v=DKIM2; p=" K2048, "DKIM1");
	dkim_bad("k=rsa; v=DKIM1; p=" K2048, "first");
	dkim_bad("v=DKIM1; k=dsa; p=" K2048, "k=");
	dkim_bad("v=DKIM1; k=rsa", "no p=");
	dkim_bad("v=DKIM1; p=!!!notbase64", "base64");
	dkim_bad("v=DKIM1; p=" K2048 "; p=" K2048, "twice");
	dkim_bad("v=DKIM1; p=QUJDREVGRw==", "RSA");
	dkim_bad("v=DKIM1; k=ed25519; p=" K2048, "Ed25519");
	dkim_bad("v=DKIM1; p" K2048, "tag=value");

	/* The Public Suffix List, not a label count. */
	org("example.com", "example.com");
	org("mail.example.com", "example.com");
	org("a.b.example.co.uk", "example.co.uk");
	org("sub.example.test", "example.test");
	org("example.test", "example.test");
	org("co.uk", NULL);
	org("com", NULL);

	/* The layer's own checks of its input. */
	check(domain_valid("example.com") == NULL && domain_valid("localhost") != NULL &&
	      domain_valid("192.0.2.1") != NULL && domain_valid("a..b") != NULL &&
	      domain_valid("ex ample.com") != NULL, "domain_valid takes names with a dot only");
	alignment();
	return unit_done();
}
