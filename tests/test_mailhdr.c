/* src/base/mailhdr.c: the Authentication-Results trusted (the topmost one,
 * of the receiving side only), DKIM-Signature and alignment, the Received
 * hop that handed the message over, modified UTF-7, and hostile headers.
 *
 * The samples follow the shape each provider writes (field order, comments,
 * the authserv-id or its absence), as seen on messages received at Gmail,
 * Outlook.com and Yahoo accounts; addresses, IPs and ids are made up. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "mailhdr.h"
#include "unit.h"

/* The program's organisational domain: the Public Suffix List's
 * (src/app/app_run.c passes the same). */
static void
org(const char *name, char *out, size_t outlen)
{
	if (domain_org(name, out, outlen) != 0 && outlen)
		out[0] = '\0';
}

/* Gmail: Received by mx.google.com, then Received-SPF and the A-R below
 * it; ARC fields (not A-R) above. */
static const char gmail[] =
	"Delivered-To: rcpt@gmail.com\r\n"
	"Received: by 2002:a05:6504:1234:b0:2a1:5c2e:91d with SMTP id x20csp123456lta;\r\n"
	"        Tue, 1 Dec 2026 08:01:02 -0800 (PST)\r\n"
	"ARC-Authentication-Results: i=1; mx.google.com;\r\n"
	"       dkim=pass header.i=@example.org header.s=s1 header.b=AbCdEf;\r\n"
	"       spf=pass smtp.mailfrom=bounce@example.org\r\n"
	"Return-Path: <bounce@example.org>\r\n"
	"Received: from mail.example.org (mail.example.org. [198.51.100.7])\r\n"
	"        by mx.google.com with ESMTPS id a1si123.2026.12.01.08.01.02\r\n"
	"        for <rcpt@gmail.com>; Tue, 01 Dec 2026 08:01:02 -0800 (PST)\r\n"
	"Received-SPF: pass (google.com: domain of bounce@example.org designates 198.51.100.7 as permitted sender) client-ip=198.51.100.7;\r\n"
	"Authentication-Results: mx.google.com;\r\n"
	"       dkim=pass header.i=@example.org header.s=s1 header.b=AbCdEf;\r\n"
	"       spf=pass (google.com: domain of bounce@example.org designates 198.51.100.7 as permitted sender) smtp.mailfrom=bounce@example.org;\r\n"
	"       dmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=example.org\r\n"
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=s1;\r\n"
	"\th=from:to:subject; bh=abc=; b=def\r\n"
	"From: \"Sender Name\" <sender@example.org>\r\n"
	"Subject: hello\r\n"
	"\r\n"
	"body\r\n";

/* Outlook.com: A-R without an authserv-id, comments glued to values. */
static const char outlook[] =
	"Received: from DB8PR01MB1234.eurprd01.prod.exchangelabs.com (2603:10a6:10:1::2)\r\n"
	" by AM0PR01MB5678.eurprd01.prod.exchangelabs.com with HTTPS; Tue, 1 Dec 2026\r\n"
	" 16:01:02 +0000\r\n"
	"Authentication-Results: spf=softfail (sender IP is 203.0.113.9)\r\n"
	" smtp.mailfrom=news.example.co.uk; dkim=fail (body hash did not verify)\r\n"
	" header.d=mailer.example.net;dmarc=fail action=quarantine\r\n"
	" header.from=example.co.uk;compauth=fail reason=001\r\n"
	"Received: from out.mailer.example.net (203.0.113.9) by\r\n"
	" AM1EUR01FT012.mail.protection.outlook.com (10.152.0.1) with Microsoft SMTP\r\n"
	" Server id 15.20.1; Tue, 1 Dec 2026 16:01:01 +0000\r\n"
	"DKIM-Signature: v=1; a=rsa-sha256; d=mailer.example.net; s=k2; h=from; bh=x; b=y\r\n"
	"From: News <news@example.co.uk>\r\n"
	"\r\n";

/* Yahoo: the authserv-id is a Yahoo host; the relay is in a comment. */
static const char yahoo[] =
	"Received: from 192.0.2.10 by atlas210.free.mail.ne1.yahoo.com with HTTP; Tue, 1 Dec 2026 16:01:03 +0000\r\n"
	"Authentication-Results: atlas210.free.mail.ne1.yahoo.com;\r\n"
	" dkim=pass header.i=@sub.example.com header.s=sel;\r\n"
	" spf=pass smtp.mailfrom=sub.example.com;\r\n"
	" dmarc=pass(p=REJECT) header.from=example.com;\r\n"
	"Received: from mail.sub.example.com (EHLO mail.sub.example.com) ([192.0.2.10])\r\n"
	"  by 10.197.1.2 (VZM Hermes SMTP Server) with ESMTPS ID abc;\r\n"
	"  Tue, 01 Dec 2026 16:01:03 +0000 (UTC)\r\n"
	"DKIM-Signature: v=1; a=rsa-sha256; d=sub.example.com; s=sel; bh=x; b=y\r\n"
	"From: someone@example.com\r\n"
	"\r\n";

/* A sender's forged A-R claiming Gmail, on a message to a server that adds
 * none of its own (the stack): ignored. */
static const char forged[] =
	"Received: from mail.test ([127.0.0.1])\r\n"
	"\tby mail.test with LMTP id X; Tue, 01 Dec 2026 15:44:45 +0000\r\n"
	"Received: from [127.0.0.1] (localhost [127.0.0.1])\r\n"
	"\tby mail.test (Postfix) with ESMTPSA id 91D41A949E3\r\n"
	"\tfor <junk@mail.test>; Tue,  1 Dec 2026 15:44:45 +0000 (UTC)\r\n"
	"Authentication-Results: mx.google.com; spf=pass smtp.mailfrom=paypal.com;\r\n"
	" dkim=pass header.d=paypal.com; dmarc=pass\r\n"
	"From: junk@mail.test\r\n"
	"\r\n";

static void
t_gmail(void)
{
	struct mailhdr_auth a;

	mailhdr_auth_parse(gmail, sizeof gmail - 1, "imap.gmail.com", org, &a);
	check(a.ar_found, "gmail: its A-R is trusted (by mx.google.com above it)");
	check(strcmp(a.ar_authserv, "mx.google.com") == 0, "gmail: authserv-id %s", a.ar_authserv);
	check(!strcmp(a.spf, "pass") && !strcmp(a.dkim, "pass") && !strcmp(a.dmarc, "pass"),
	      "gmail: spf=%s dkim=%s dmarc=%s", a.spf, a.dkim, a.dmarc);
	check(strcmp(a.ar_dkim_d, "example.org") == 0, "gmail: header.i gives d %s", a.ar_dkim_d);
	check(strcmp(a.ar_mailfrom, "example.org") == 0, "gmail: smtp.mailfrom %s", a.ar_mailfrom);
	check(a.ar_ignored == 0, "gmail: ARC-Authentication-Results is not an A-R");
	check(a.dkim_sig && !strcmp(a.sig_d, "example.org") && !strcmp(a.sig_s, "s1") &&
	      !strcmp(a.sig_a, "rsa-sha256"), "gmail: DKIM-Signature d=%s s=%s a=%s",
	      a.sig_d, a.sig_s, a.sig_a);
	check(a.aligned_strict == 1 && a.aligned_relaxed == 1, "gmail: aligned, strict");
	check(strcmp(a.relay_ip, "198.51.100.7") == 0, "gmail: relay %s", a.relay_ip);
	check(strcmp(a.relay_host, "mail.example.org") == 0, "gmail: relay host %s", a.relay_host);
	check(strcmp(a.from_domain, "example.org") == 0, "gmail: From domain");
	check(a.nreceived == 2, "gmail: two Received");
}

static void
t_outlook(void)
{
	struct mailhdr_auth a;

	mailhdr_auth_parse(outlook, sizeof outlook - 1, "outlook.office365.com", org, &a);
	check(a.ar_found && a.ar_authserv[0] == '\0',
	      "outlook: an A-R without authserv-id, trusted at Microsoft's IMAP");
	check(!strcmp(a.spf, "softfail") && !strcmp(a.dkim, "fail") && !strcmp(a.dmarc, "fail"),
	      "outlook: spf=%s dkim=%s dmarc=%s", a.spf, a.dkim, a.dmarc);
	check(strcmp(a.ar_mailfrom, "news.example.co.uk") == 0, "outlook: mailfrom %s", a.ar_mailfrom);
	check(strcmp(a.ar_dkim_d, "mailer.example.net") == 0, "outlook: header.d %s", a.ar_dkim_d);
	check(a.aligned_relaxed == 0 && a.aligned_strict == 0,
	      "outlook: d=mailer.example.net is not aligned with example.co.uk");
	mailhdr_auth_parse(outlook, sizeof outlook - 1, "imap.example.com", org, &a);
	check(!a.ar_found && a.ar_ignored == 1,
	      "outlook: the same A-R elsewhere is not trusted");
}

static void
t_yahoo(void)
{
	struct mailhdr_auth a;

	mailhdr_auth_parse(yahoo, sizeof yahoo - 1, "imap.mail.yahoo.com", org, &a);
	check(a.ar_found, "yahoo: trusted by the IMAP host's organisation");
	check(!strcmp(a.dmarc, "pass"), "yahoo: dmarc=pass(p=REJECT) reads pass: %s", a.dmarc);
	check(a.aligned_relaxed == 1 && a.aligned_strict == 0,
	      "yahoo: sub.example.com aligned relaxed, not strict, with example.com");
	check(strcmp(a.relay_ip, "192.0.2.10") == 0, "yahoo: relay from the comment %s", a.relay_ip);
}

static void
t_forged(void)
{
	struct mailhdr_auth a;

	mailhdr_auth_parse(forged, sizeof forged - 1, "localhost", org, &a);
	check(!a.ar_found && a.ar_ignored == 1 && a.spf[0] == '\0',
	      "forged: an A-R of a foreign authserv-id is ignored");
	check(strcmp(a.relay_ip, "127.0.0.1") == 0 && a.relay_host[0] == '\0',
	      "forged: the LMTP hop is internal, the relay is Postfix's client");
	/* A second A-R below a trusted one is ignored as well. */
	{
		static const char two[] =
			"Authentication-Results: mail.test; spf=fail smtp.mailfrom=x.test\r\n"
			"Authentication-Results: mail.test; spf=pass smtp.mailfrom=x.test\r\n"
			"\r\n";

		mailhdr_auth_parse(two, sizeof two - 1, "imap.mail.test", org, &a);
		check(a.ar_found && !strcmp(a.spf, "fail") && a.ar_ignored == 1,
		      "two A-R: only the topmost counts");
	}
}

static void
clean(const char *s, size_t cap, const char *what)
{
	bool ok = memchr(s, '\0', cap) != NULL;

	for (const char *c = s; ok && *c; c++)
		ok = (unsigned char)*c >= 0x20 && *c != 0x7f;
	check(ok, "hostile: %s terminated and clean", what);
}

static void
t_hostile(void)
{
	struct mailhdr_auth a;
	size_t n = 4u << 20;
	char *big = malloc(n + 64), *p;

	if (!big)
		abort();
	/* One field of 4 MiB folded into short lines. */
	p = big;
	p += sprintf(p, "DKIM-Signature: d=");
	while ((size_t)(p - big) < n)
		p += sprintf(p, "aaaaaaaaaa\r\n ");
	p += sprintf(p, "\r\nFrom: <x@y.test>\r\n\r\n");
	mailhdr_auth_parse(big, (size_t)(p - big), "y.test", org, &a);
	check(a.truncated && !a.dkim_sig, "hostile: a huge folded field is cut, its d= dropped");
	check(strcmp(a.from_domain, "y.test") == 0, "hostile: the fields after it are read");
	free(big);

	{
		static const char bad[] =
			"Authentication-Results: mail.test; spf=pa\x1bss smtp.mailfrom=\"a;b\"@x\x01.test;"
			" dkim=((nested) comment) pass header.d=evil\\x.test\r\n"
			"Received: from [1.2.3.4\r\n"
			"Received: from h ([IPv6:2001:db8::1]) by mail.test\r\n"
			"DKIM-Signature: d=; s=\x7f; a\r\n"
			"From: <@>\r\n"
			" continuation without a field\r\n"
			"no colon line\r\n"
			"\r\n";

		mailhdr_auth_parse(bad, sizeof bad - 1, "mail.test", org, &a);
		clean(a.spf, sizeof a.spf, "spf");
		clean(a.ar_mailfrom, sizeof a.ar_mailfrom, "mailfrom");
		clean(a.relay_ip, sizeof a.relay_ip, "relay");
		check(a.spf[0] == '\0', "hostile: a verdict with a control character is dropped");
		check(strcmp(a.relay_ip, "2001:db8::1") == 0, "hostile: IPv6 literal %s", a.relay_ip);
		check(!a.dkim_sig, "hostile: an empty d= is no signature");
		check(a.from_domain[0] == '\0', "hostile: From <@> has no domain");
	}
	mailhdr_auth_parse("", 0, NULL, org, &a);
	check(!a.ar_found && a.aligned_relaxed == -1, "empty message");
	mailhdr_auth_parse("From: a@b.test", 14, "", org, &a);
	check(strcmp(a.from_domain, "b.test") == 0, "a header without its end");
}

static void
t_mutf7(void)
{
	char o[128];

	mailhdr_mutf7_decode("Courrier ind&AOk-sirable", o, sizeof o);
	check(strcmp(o, "Courrier ind\xc3\xa9sirable") == 0, "mutf7: %s", o);
	mailhdr_mutf7_decode("&AMk-l&AOk-ments envoy&AOk-s", o, sizeof o);
	check(strcmp(o, "\xc3\x89l\xc3\xa9ments envoy\xc3\xa9s") == 0, "mutf7: %s", o);
	mailhdr_mutf7_decode("A&-B", o, sizeof o);
	check(strcmp(o, "A&B") == 0, "mutf7: &-");
	mailhdr_mutf7_decode("bad&AOk", o, sizeof o);
	check(strcmp(o, "bad&AOk") == 0, "mutf7: unterminated is kept raw");
	mailhdr_mutf7_decode("&AAE-", o, sizeof o);
	check(strcmp(o, "&AAE-") == 0, "mutf7: a control character is kept raw");
	mailhdr_mutf7_decode("&2D3eAA-", o, sizeof o);
	check(strcmp(o, "\xf0\x9f\x98\x80") == 0, "mutf7: a surrogate pair");
}

int
main(void)
{
	t_gmail();
	t_outlook();
	t_yahoo();
	t_forged();
	t_hostile();
	t_mutf7();
	return unit_done();
}
