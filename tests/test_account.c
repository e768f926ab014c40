/* Unit tests of the account model: every validation rule accepted and
 * refused, the store key, and the record format. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "util.h"
#include "unit.h"

/* A valid account every test starts from. */
static void
base(struct account *a)
{
	account_init(a);
	str_copy(a->email, sizeof a->email, "Alice.Martin@Example.com");
	str_copy(a->display_name, sizeof a->display_name, "Alice Martin");
	str_copy(a->smtp_host, sizeof a->smtp_host, "smtp.example.com");
	str_copy(a->username, sizeof a->username, "alice.martin@example.com");
}

static void
email_ok(const char *s)
{
	const char *why = valid_email(s);
	check(why == NULL, "email accepted: %s%s%s", s, why ? " -- " : "",
	      why ? why : "");
}

static void
email_bad(const char *s)
{
	const char *why = valid_email(s);
	check(why != NULL, "email refused: %s (%s)", s, why ? why : "accepted!");
}

static void
host_ok(const char *s)
{
	const char *why = valid_hostname(s);
	check(why == NULL, "host accepted: %s%s%s", s, why ? " -- " : "",
	      why ? why : "");
}

static void
host_bad(const char *s, const char *expect)
{
	const char *why = valid_hostname(s);
	check(why != NULL && (!expect || strstr(why, expect)),
	      "host refused: %s (%s)", s, why ? why : "accepted!");
}

static void
port_case(const char *s, bool ok, unsigned expect)
{
	unsigned v = 12345;
	const char *why = valid_port(s, &v);
	if (ok)
		check(why == NULL && v == expect, "port accepted: '%s' -> %u", s, v);
	else
		check(why != NULL, "port refused: '%s' (%s)", s,
		      why ? why : "accepted!");
}

static void
test_email(void)
{
	email_ok("user@example.com");
	email_ok("first.last+tag@mail.example.co.uk");
	email_ok("o'brien@example.ie");
	email_ok("x!#$%&'*+-/=?^_`{|}~@example.org");
	email_ok("zoe@bücher.example");          /* IDN domain in UTF-8 */
	email_ok("taro@例え.テスト");
	email_ok("a@b.c");
	email_bad("");
	email_bad("user");
	email_bad("@example.com");
	email_bad("user@");
	email_bad("user@localhost");              /* no dot */
	email_bad("a@b@example.com");
	email_bad("\"quoted\"@example.com");
	email_bad(".user@example.com");
	email_bad("user.@example.com");
	email_bad("us..er@example.com");
	email_bad("us er@example.com");
	email_bad("user,x@example.com");
	email_bad("user@exa mple.com");
	email_bad("user@example..com");
	email_bad("user@example.com.");
	email_bad("user@-example.com");
	email_bad("user@example-.com");
	email_bad("user@exa_mple.com");
	email_bad("user@[192.0.2.1]");
	email_bad("user@192.0.2.1");
	email_ok("user@123.example");
	email_bad("zoë@example.com");            /* non-ASCII local part */
	email_bad("user@b\xfcvcher.example");     /* Latin-1, not UTF-8 */
	email_bad("user@example.com\r\nBcc: victim@example.org");
	email_bad("user@example.com\n");
	email_bad("us\ter@example.com");
	email_bad("user@exa\x7fmple.com");
	email_bad("user@exa\xc2\x85mple.com");    /* U+0085 NEL */

	char buf[400];
	/* 64-byte local part is the limit. */
	memset(buf, 'a', 64);
	strcpy(buf + 64, "@example.com");
	email_ok(buf);
	memset(buf, 'a', 65);
	strcpy(buf + 65, "@example.com");
	email_bad(buf);
	/* A 63-byte label is fine, 64 is not. */
	strcpy(buf, "u@");
	memset(buf + 2, 'd', 63);
	strcpy(buf + 65, ".com");
	email_ok(buf);
	strcpy(buf, "u@");
	memset(buf + 2, 'd', 64);
	strcpy(buf + 66, ".com");
	email_bad(buf);
	/* Total length: 254 accepted, 255 refused. */
	/* "u@" + 4 labels of 49 + dots (200) + 48 + ".com" = 254 bytes. */
	strcpy(buf, "u@");
	for (int i = 0; i < 4; i++) {
		size_t n = strlen(buf);
		memset(buf + n, 'x', 49);
		strcpy(buf + n + 49, ".");
	}
	size_t n = strlen(buf);
	memset(buf + n, 'y', 48);
	strcpy(buf + n + 48, ".com");
	check(strlen(buf) == 254, "254-byte address built");
	email_ok(buf);
	buf[250] = 'z';
	strcpy(buf + 251, "y.com");
	email_bad(buf);
}

static void
test_hostname(void)
{
	host_ok("smtp.example.com");
	host_ok("localhost");
	host_ok("mail-1.example.com");
	host_ok("SSL0.OVH.NET");
	host_ok("127.0.0.1");
	host_ok("192.0.2.254");
	host_ok("::1");
	host_ok("2001:db8::25");
	host_ok("fe80::1:2:3:4");
	host_bad("", NULL);
	host_bad("[::1]", "brackets");
	host_bad("[2001:db8::1]", "brackets");
	host_bad("2001:db8::zz", "IPv6");
	host_bad("smtp.example.com:587", NULL);
	host_bad("256.1.1.1", "IPv4");
	host_bad("1.2.3", "IPv4");
	host_bad("smtp.example.com.", "trailing dot");
	host_bad(".example.com", NULL);
	host_bad("smtp..example.com", NULL);
	host_bad("-smtp.example.com", "hyphen");
	host_bad("smtp-.example.com", "hyphen");
	host_bad("smtp_1.example.com", NULL);
	host_bad("smtp example.com", NULL);
	host_bad("bücher.example", "xn--");
	host_bad("smtp.example.com\r\nMAIL FROM", NULL);
	host_bad("smtp.example\t.com", NULL);

	char buf[300];
	memset(buf, 'a', 63);
	strcpy(buf + 63, ".com");
	host_ok(buf);
	memset(buf, 'a', 64);
	strcpy(buf + 64, ".com");
	host_bad(buf, "63");
	/* 253 accepted, 254 refused. */
	buf[0] = '\0';
	while (strlen(buf) < 240)
		strcat(buf, "abcdefghi.");
	while (strlen(buf) < 253)
		strcat(buf, "x");
	check(strlen(buf) == 253, "253-byte host built");
	host_ok(buf);
	strcat(buf, "x");
	host_bad(buf, "253");
}

static void
test_port(void)
{
	port_case("587", true, 587);
	port_case("1", true, 1);
	port_case("65535", true, 65535);
	port_case("465", true, 465);
	port_case("0", false, 0);
	port_case("65536", false, 0);
	port_case("99999", false, 0);
	port_case("100000", false, 0);
	port_case("587x", false, 0);
	port_case("", false, 0);
	port_case("587 ", false, 0);
	port_case(" 587", false, 0);
	port_case("+587", false, 0);
	port_case("-587", false, 0);
	port_case("0587", false, 0);
	port_case("5 87", false, 0);
	port_case("0x24b", false, 0);
	port_case("4294967883", false, 0);   /* 2^32 + 587: no wrap-around */
}

static void
test_text(void)
{
	check(valid_text("Zoë Ünïcødé 山田", ACCT_NAME_MAX) == NULL,
	      "UTF-8 display name accepted");
	check(valid_text("", 10) == NULL, "empty text is valid text");
	check(valid_text("😀 emoji", 20) == NULL, "4-byte UTF-8 accepted");
	static const char *const bad[] = {
		"a\rb", "a\nb", "a\tb", "a\x7f" "b", "a\x01" "b", "a\x1b[31mb",
		"a\xc2\x80" "b", "a\xc2\x9f" "b", "a\xc2\x85" "b",
		"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		check(valid_text(bad[i], 100) != NULL, "text refused: case %zu", i);
	check(valid_text("abcd", 3) != NULL, "text longer than max refused");
	check(valid_text("abc", 3) == NULL, "text of exactly max accepted");
	check(valid_text("a\xc2\xa0" "b", 10) == NULL,
	      "U+00A0 (not a control) accepted");
}

/* Bidi controls and invisible characters: refused in names, user names
 * and addresses (their domain included), with a reason that says so; an
 * IDN domain stays valid. str_sanitize() turns them into '?'. */
static void
test_invisible(void)
{
	static const char *const inv[] = {
		"\xe2\x80\xaa", "\xe2\x80\xae",         /* U+202A, U+202E */
		"\xe2\x81\xa6", "\xe2\x81\xa9",         /* U+2066, U+2069 */
		"\xe2\x80\x8b", "\xe2\x80\x8f",         /* U+200B, U+200F */
		"\xe2\x80\xa8", "\xe2\x80\xa9",         /* U+2028, U+2029 */
		"\xef\xbb\xbf", "\xd8\x9c",             /* U+FEFF, U+061C */
		"\xe2\x81\xa0", "\xf3\xa0\x80\x81",     /* U+2060, U+E0001 */
	};
	char buf[128], out[128];

	for (size_t i = 0; i < sizeof inv / sizeof inv[0]; i++) {
		const char *why;
		struct account a;
		struct acct_error e = { 0 };

		str_printf(buf, sizeof buf, "Alice%sMartin", inv[i]);
		why = valid_text(buf, ACCT_NAME_MAX);
		check(why && strstr(why, "invisible or text-direction"),
		      "text with invisible character %zu refused (%s)", i,
		      why ? why : "accepted!");
		str_printf(buf, sizeof buf, "alice@exa%smple.com", inv[i]);
		email_bad(buf);
		str_printf(buf, sizeof buf, "alice@b\xc3\xbc" "cher%s.example", inv[i]);
		email_bad(buf);

		base(&a);
		str_printf(a.display_name, sizeof a.display_name, "Alice%s", inv[i]);
		check(account_validate(&a, &e) == -1 && e.field &&
		      !strcmp(e.field, "name"), "name with invisible %zu refused", i);
		base(&a);
		str_printf(a.username, sizeof a.username, "alice%s", inv[i]);
		check(account_validate(&a, &e) == -1 && e.field &&
		      !strcmp(e.field, "username"), "username with invisible %zu refused", i);
		base(&a);
		a.imap_port = 993;
		str_copy(a.imap_host, sizeof a.imap_host, "imap.example.com");
		str_printf(a.imap_username, sizeof a.imap_username, "%salice", inv[i]);
		check(account_validate(&a, &e) == -1 && e.field &&
		      !strcmp(e.field, "imap-username"),
		      "imap-username with invisible %zu refused", i);

		str_printf(buf, sizeof buf, "ok%sko", inv[i]);
		str_sanitize(out, sizeof out, buf, strlen(buf));
		check(strcmp(out, "ok?ko") == 0, "sanitised: invisible %zu -> '%s'", i, out);
	}
	email_ok("zoe@b\xc3\xbc" "cher.example");
	email_ok("zoe@\xe5\xb1\xb1\xe7\x94\xb0.example");
	check(valid_text("Zo\xc3\xab \xe5\xb1\xb1\xe7\x94\xb0 \xd8\xb9\xd9\x84\xd9\x8a", 100) == NULL,
	      "Latin, CJK and Arabic letters stay valid");
	str_sanitize(out, sizeof out, "a\xc2\x9b[31mb\xc2\x85", 9);
	check(strcmp(out, "a?[31mb?") == 0, "sanitised: C1 CSI and NEL -> '%s'", out);
}

/* Every text field of the account refuses every control character. */
static void
test_fields_controls(void)
{
	static const char *const ctl[] = {
		"\r", "\n", "\t", "\x7f", "\x01", "\xc2\x80", "\xc2\x9f",
	};
	static const char *const names[] = {
		"CR", "LF", "TAB", "DEL", "SOH", "U+0080", "U+009F",
	};
	struct {
		const char *field;
		size_t off, size;
		const char *prefix;
	} f[] = {
		{ "email", offsetof(struct account, email),
		  sizeof ((struct account *)0)->email, "us" },
		{ "name", offsetof(struct account, display_name),
		  sizeof ((struct account *)0)->display_name, "Alice" },
		{ "smtp-host", offsetof(struct account, smtp_host),
		  sizeof ((struct account *)0)->smtp_host, "smtp" },
		{ "username", offsetof(struct account, username),
		  sizeof ((struct account *)0)->username, "alice" },
		{ "imap-host", offsetof(struct account, imap_host),
		  sizeof ((struct account *)0)->imap_host, "imap" },
		{ "imap-username", offsetof(struct account, imap_username),
		  sizeof ((struct account *)0)->imap_username, "alice" },
		{ "ca-file", offsetof(struct account, ca_file),
		  sizeof ((struct account *)0)->ca_file, "/etc/ca" },
		{ "pin", offsetof(struct account, pin),
		  sizeof ((struct account *)0)->pin, "sha256:" },
		{ "preset", offsetof(struct account, preset),
		  sizeof ((struct account *)0)->preset, "ovh" },
		{ "last-result", offsetof(struct account, last_result),
		  sizeof ((struct account *)0)->last_result, "ok" },
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		for (size_t c = 0; c < sizeof ctl / sizeof ctl[0]; c++) {
			struct account a;
			struct acct_error e = { 0 };
			base(&a);
			if (!strcmp(f[i].field, "imap-host"))
				a.imap_port = 993;
			char *dst = (char *)&a + f[i].off;
			str_printf(dst, f[i].size, "%s%s%s", f[i].prefix, ctl[c],
			           !strcmp(f[i].field, "email") ? "er@example.com"
			           : !strcmp(f[i].field, "smtp-host") ||
			             !strcmp(f[i].field, "imap-host") ? ".example.com"
			           : "x");
			int rc = account_validate(&a, &e);
			check(rc == -1 && e.field && !strcmp(e.field, f[i].field),
			      "%s with %s refused (field %s: %s)", f[i].field, names[c],
			      e.field ? e.field : "-", e.msg);
		}
	}
}

static void
expect_field(const struct account *a, const char *field,
             const char *what)
{
	struct acct_error e = { 0 };
	int rc = account_validate(a, &e);
	check(rc == -1 && e.field && !strcmp(e.field, field) && e.msg[0],
	      "%s refused as %s (%s: %s)", what, field, e.field ? e.field : "-",
	      e.msg);
}

static void
expect_ok(const struct account *a, const char *what)
{
	struct acct_error e = { 0 };
	int rc = account_validate(a, &e);
	check(rc == 0, "%s accepted%s%s", what, rc ? " -- " : "",
	      rc ? e.msg : "");
}

static void
test_validate(void)
{
	struct account a;

	account_init(&a);
	check(a.smtp_port == 587 && a.smtp_security == SEC_STARTTLS &&
	      a.imap_port == 0 && a.imap_security == SEC_SSL && !a.email[0] &&
	      !a.allow_plain && a.last_test_time == 0,
	      "account_init defaults (587 starttls, no IMAP)");
	expect_field(&a, "email", "empty account");

	base(&a);
	expect_ok(&a, "base account");

	base(&a);
	str_copy(a.display_name, sizeof a.display_name, "Zoë Ünïcødé 山田");
	expect_ok(&a, "UTF-8 display name");
	a.display_name[0] = '\0';
	expect_ok(&a, "empty display name");
	memset(a.display_name, 'n', ACCT_NAME_MAX);
	a.display_name[ACCT_NAME_MAX] = '\0';
	expect_ok(&a, "display name of the maximum length");
	str_copy(a.display_name, sizeof a.display_name, "Ma\xc3");
	expect_field(&a, "name", "display name with broken UTF-8");

	base(&a);
	a.smtp_host[0] = '\0';
	expect_field(&a, "smtp-host", "missing SMTP host");
	str_copy(a.smtp_host, sizeof a.smtp_host, "[::1]");
	expect_field(&a, "smtp-host", "bracketed IPv6 SMTP host");
	str_copy(a.smtp_host, sizeof a.smtp_host, "::1");
	expect_ok(&a, "IPv6 SMTP host");

	base(&a);
	a.smtp_port = 0;
	expect_field(&a, "smtp-port", "SMTP port 0");
	a.smtp_port = 65536;
	expect_field(&a, "smtp-port", "SMTP port 65536");
	a.smtp_port = 65535;
	expect_ok(&a, "SMTP port 65535");

	base(&a);
	a.smtp_security = (enum security)7;
	expect_field(&a, "smtp-security", "unknown security value");
	a.smtp_security = SEC_NONE;
	expect_field(&a, "smtp-security", "SMTP security none without allow_plain");
	{
		struct acct_error e = { 0 };
		account_validate(&a, &e);
		check(strstr(e.msg, "clear") != NULL && strstr(e.msg, "password"),
		      "the none message warns of a clear-text password: %s", e.msg);
	}
	a.allow_plain = true;
	expect_ok(&a, "SMTP security none with allow_plain");
	a.smtp_security = SEC_SSL;
	a.allow_plain = false;
	a.smtp_port = 465;
	expect_ok(&a, "SMTP ssl on 465");

	base(&a);
	a.username[0] = '\0';
	expect_field(&a, "username", "empty user name");
	memset(a.username, 'u', ACCT_USER_MAX);
	a.username[ACCT_USER_MAX] = '\0';
	expect_ok(&a, "user name of the maximum length");

	/* IMAP: optional, but checked once a host is set. */
	base(&a);
	str_copy(a.imap_host, sizeof a.imap_host, "imap.example.com");
	a.imap_port = 0;
	expect_field(&a, "imap-port", "IMAP host without a port");
	a.imap_port = 993;
	expect_ok(&a, "IMAP host and port 993");
	a.imap_port = 70000;
	expect_field(&a, "imap-port", "IMAP port 70000");
	a.imap_port = 143;
	a.imap_security = SEC_NONE;
	expect_field(&a, "imap-security", "IMAP none without allow_plain");
	a.allow_plain = true;
	expect_ok(&a, "IMAP none with allow_plain");
	a.allow_plain = false;
	a.imap_security = SEC_STARTTLS;
	str_copy(a.imap_host, sizeof a.imap_host, "imap..example.com");
	expect_field(&a, "imap-host", "bad IMAP host");
	str_copy(a.imap_host, sizeof a.imap_host, "[2001:db8::1]");
	expect_field(&a, "imap-host", "bracketed IPv6 IMAP host");
	str_copy(a.imap_host, sizeof a.imap_host, "2001:db8::1");
	expect_ok(&a, "IPv6 IMAP host");

	base(&a);
	a.imap_security = SEC_NONE;   /* irrelevant without an IMAP host */
	expect_ok(&a, "no IMAP host: IMAP security not checked");
	str_copy(a.imap_username, sizeof a.imap_username, "other");
	expect_ok(&a, "IMAP user name without host");
	check(!strcmp(account_imap_user(&a), "other"), "imap user: explicit");
	a.imap_username[0] = '\0';
	check(!strcmp(account_imap_user(&a), "alice.martin@example.com"),
	      "imap user: falls back to the SMTP user name");

	base(&a);
	str_copy(a.ca_file, sizeof a.ca_file, "/home/alice/ca bundle/é.pem");
	expect_ok(&a, "CA file path with space and UTF-8");
	memset(a.ca_file, 'p', ACCT_PATH_MAX);
	a.ca_file[ACCT_PATH_MAX] = '\0';
	expect_ok(&a, "CA file path of the maximum length");

	base(&a);
	str_copy(a.pin, sizeof a.pin, "sha256:"
	         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	expect_ok(&a, "canonical pin");
	str_copy(a.pin, sizeof a.pin, "sha256:"
	         "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef");
	expect_field(&a, "pin", "upper-case pin stored as is");
	str_copy(a.pin, sizeof a.pin, "sha256:0123");
	expect_field(&a, "pin", "short pin");

	base(&a);
	str_copy(a.preset, sizeof a.preset, "protonmail-bridge");
	expect_ok(&a, "preset id");
	str_copy(a.preset, sizeof a.preset, "OVH");
	expect_field(&a, "preset", "upper-case preset id");

	base(&a);
	str_copy(a.last_result, sizeof a.last_result, "auth_failed");
	a.last_test_time = 1700000000;
	expect_ok(&a, "last result identifier");
	str_copy(a.last_result, sizeof a.last_result, "Auth failed");
	expect_field(&a, "last-result", "last result with space and capital");
	str_copy(a.last_result, sizeof a.last_result, "ok1");
	expect_field(&a, "last-result", "last result with a digit");
	memset(a.last_result, 'a', ACCT_RESULT_MAX);
	a.last_result[ACCT_RESULT_MAX] = '\0';
	expect_ok(&a, "last result of 31 characters");
	a.last_result[0] = '\0';
	a.last_test_time = -1;
	expect_field(&a, "last-test-time", "negative test time");

	base(&a);
	str_copy(a.email, sizeof a.email, "no-at-sign");
	expect_field(&a, "email", "address without '@'");
	{
		struct acct_error e = { 0 };
		account_validate(&a, &e);
		check(strncmp(e.msg, "The email address ", 18) == 0,
		      "message is a sentence naming the field: %s", e.msg);
	}
}

static void
test_pin(void)
{
	char out[ACCT_PIN_LEN + 1];
	const char *lower =
		"sha256:ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01";

	check(valid_pin("sha256:AB01CD23EF45AB01CD23EF45AB01CD23EF45AB01CD23EF45AB01CD23EF45AB01",
	                out) == NULL && !strcmp(out, lower),
	      "upper-case pin canonicalised to lower case");
	check(valid_pin("SHA256:ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01",
	                out) == NULL && !strcmp(out, lower),
	      "upper-case prefix accepted");
	check(valid_pin("sha256:AB:01:CD:23:EF:45:AB:01:CD:23:EF:45:AB:01:CD:23:"
	                "EF:45:AB:01:CD:23:EF:45:AB:01:CD:23:EF:45:AB:01", out)
	      == NULL && !strcmp(out, lower),
	      "colon-separated pin canonicalised");
	check(strlen(out) == ACCT_PIN_LEN, "canonical pin is %d bytes",
	      ACCT_PIN_LEN);
	check(valid_pin("ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01",
	                out) != NULL, "pin without the sha256: prefix refused");
	check(valid_pin("sha1:ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01", out) != NULL,
	      "sha1 pin refused");
	check(valid_pin("sha256:ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45ab0",
	                out) != NULL, "63 hex digits refused");
	check(valid_pin("sha256:ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45ab012",
	                out) != NULL, "65 hex digits refused");
	check(valid_pin("sha256:gb01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01",
	                out) != NULL, "non-hex digit refused");
	check(valid_pin("sha256:AB:01:CD:23:EF:45:AB:01:CD:23:EF:45:AB:01:CD:23:"
	                "EF:45:AB:01:CD:23:EF:45:AB:01:CD:23:EF:45:AB0:1", out) != NULL,
	      "misplaced colon refused");
	check(valid_pin("sha256:ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45ab0\n",
	                out) != NULL, "pin with a newline refused");
}

static void
test_secret(void)
{
	check(valid_secret("correct horse battery staple") == NULL,
	      "password with spaces accepted");
	check(valid_secret("pässwörd€") == NULL, "UTF-8 password accepted");
	check(valid_secret("") != NULL, "empty password refused");
	check(valid_secret("pass\r\nRSET") != NULL, "password with CRLF refused");
	check(valid_secret("pa\tss") != NULL, "password with TAB refused");
	check(valid_secret("pa\xffss") != NULL, "password with invalid UTF-8 refused");
	char big[ACCT_SECRET_MAX + 2];
	memset(big, 'p', sizeof big - 1);
	big[ACCT_SECRET_MAX] = '\0';
	check(valid_secret(big) == NULL, "1024-byte password accepted");
	big[ACCT_SECRET_MAX] = 'p';
	big[ACCT_SECRET_MAX + 1] = '\0';
	check(valid_secret(big) != NULL, "1025-byte password refused");
}

static void
test_security(void)
{
	enum security s = SEC_NONE;
	check(security_parse("starttls", &s) == 0 && s == SEC_STARTTLS, "starttls");
	s = SEC_NONE;
	check(security_parse("TLS", &s) == 0 && s == SEC_STARTTLS,
	      "tls is a synonym of starttls (case-insensitive)");
	check(security_parse("SsL", &s) == 0 && s == SEC_SSL, "ssl");
	check(security_parse("none", &s) == 0 && s == SEC_NONE, "none");
	check(security_parse("", &s) == -1, "empty security refused");
	check(security_parse("tls1.3", &s) == -1, "tls1.3 refused");
	check(security_parse("starttls ", &s) == -1, "trailing space refused");
	check(!strcmp(security_name(SEC_STARTTLS), "starttls") &&
	      !strcmp(security_name(SEC_SSL), "ssl") &&
	      !strcmp(security_name(SEC_NONE), "none"), "canonical names");
	check(security_default_port(SEC_STARTTLS, false) == 587 &&
	      security_default_port(SEC_SSL, false) == 465 &&
	      security_default_port(SEC_NONE, false) == 587, "SMTP default ports");
	check(security_default_port(SEC_SSL, true) == 993 &&
	      security_default_port(SEC_STARTTLS, true) == 143 &&
	      security_default_port(SEC_NONE, true) == 143, "IMAP default ports");
}

static void
test_key(void)
{
	char k[ACCT_EMAIL_MAX + 1];
	check(account_key("Alice.Martin@Example.COM", k, sizeof k) == 0 &&
	      !strcmp(k, "alice.martin@example.com"), "key lower-cases ASCII");
	check(account_key("ZOE@BÜCHER.EXAMPLE", k, sizeof k) == 0 &&
	      !strcmp(k, "zoe@bÜcher.example"), "key leaves UTF-8 bytes alone: %s",
	      k);
	char small[8];
	check(account_key("abcdefg", small, sizeof small) == 0, "key fits exactly");
	check(account_key("abcdefgh", small, sizeof small) == -1,
	      "key too long for the buffer refused");
	check(account_key("a", small, 0) == -1, "zero-length buffer refused");
}

/* Format 2: the OAuth fields, written only for an OAuth account. */
static void
test_record_oauth(void)
{
	struct account a, b;
	char buf[8192], rec[8192];
	struct acct_error e;
	int n;

	base(&a);
	a.oauth = true;
	str_copy(a.oauth_token_url, sizeof a.oauth_token_url, "https://login.example.com/token");
	str_copy(a.oauth_device_url, sizeof a.oauth_device_url, "https://login.example.com/device");
	str_copy(a.oauth_scope, sizeof a.oauth_scope, "smtp imap offline_access");
	str_copy(a.oauth_client_id, sizeof a.oauth_client_id, "client-1");
	check(account_validate(&a, &e) == 0, "an OAuth account validates");
	n = account_serialize(&a, buf, sizeof buf);
	check(n > 0 && strncmp(buf, "v=2\n", 4) == 0, "an OAuth account is written as v=2");
	check(n > 0 && account_parse(buf, (size_t)n, &b) == 0 && b.oauth &&
	      !strcmp(b.oauth_token_url, a.oauth_token_url) &&
	      !strcmp(b.oauth_device_url, a.oauth_device_url) &&
	      !strcmp(b.oauth_scope, a.oauth_scope) &&
	      !strcmp(b.oauth_client_id, a.oauth_client_id) && b.oauth_auth_url[0] == '\0',
	      "an OAuth record round trips");
	/* v=1 with an OAuth key, or v=2 that is not OAuth, is damage. */
	memcpy(rec, buf, (size_t)n);
	rec[2] = '1';
	check(account_parse(rec, (size_t)n, &b) == -1, "v=1 with OAuth keys is refused");
	base(&b);
	n = account_serialize(&b, buf, sizeof buf);
	check(n > 0 && strncmp(buf, "v=1\n", 4) == 0 && !strstr(buf, "oauth"),
	      "a password account stays v=1 without OAuth keys");
	a.oauth = false;
	check(account_validate(&a, &e) == -1, "OAuth settings on a password account are refused");
	a.oauth = true;
	str_copy(a.oauth_token_url, sizeof a.oauth_token_url, "http://login.example.com/token");
	check(account_validate(&a, &e) == -1 && !strcmp(e.field, "oauth-token-url"),
	      "an http:// token endpoint is refused");
	str_copy(a.oauth_token_url, sizeof a.oauth_token_url, "https://login.example.com/token");
	a.oauth_client_id[0] = '\0';
	check(account_validate(&a, &e) == -1 && !strcmp(e.field, "oauth-client-id"),
	      "an OAuth account needs a client ID");
}

static void
test_record(void)
{
	struct account a, b;
	char buf[8192];
	int n;

	base(&a);
	str_copy(a.display_name, sizeof a.display_name, "Zoë Ünïcødé 山田 = x");
	str_copy(a.imap_host, sizeof a.imap_host, "2001:db8::1");
	a.imap_port = 993;
	a.imap_security = SEC_SSL;
	str_copy(a.imap_username, sizeof a.imap_username, "imap-user");
	str_copy(a.ca_file, sizeof a.ca_file, "/etc/ssl/extra ca.pem");
	str_copy(a.pin, sizeof a.pin, "sha256:"
	         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	str_copy(a.preset, sizeof a.preset, "gandi");
	a.smtp_security = SEC_NONE;
	a.allow_plain = true;
	a.smtp_port = 25;
	a.last_test_time = 1732600000;
	str_copy(a.last_result, sizeof a.last_result, "auth_failed");
	a.has_password = true;

	n = account_serialize(&a, buf, sizeof buf);
	check(n > 0 && (size_t)n == strlen(buf), "serialize returns its length");
	check(strncmp(buf, "v=1\n", 4) == 0, "record starts with v=1");
	check(strstr(buf, "\nsmtp-security=none\n") != NULL &&
	      strstr(buf, "\nallow-plain=1\n") != NULL &&
	      strstr(buf, "\nlast-test-time=1732600000\n") != NULL,
	      "record holds one key=value per line");
	check(account_parse(buf, (size_t)n, &b) == 0, "record parses back");
	check(!strcmp(a.email, b.email) && !strcmp(a.display_name, b.display_name) &&
	      !strcmp(a.smtp_host, b.smtp_host) && a.smtp_port == b.smtp_port &&
	      a.smtp_security == b.smtp_security &&
	      !strcmp(a.username, b.username) &&
	      !strcmp(a.imap_host, b.imap_host) && a.imap_port == b.imap_port &&
	      a.imap_security == b.imap_security &&
	      !strcmp(a.imap_username, b.imap_username) &&
	      !strcmp(a.ca_file, b.ca_file) && !strcmp(a.pin, b.pin) &&
	      !strcmp(a.preset, b.preset) && a.allow_plain == b.allow_plain &&
	      a.last_test_time == b.last_test_time &&
	      !strcmp(a.last_result, b.last_result),
	      "round trip keeps every field");
	check(!b.has_password && !b.has_imap_password,
	      "store-only flags are not serialised");

	/* A buffer one byte too small fails; the exact size works. */
	char exact[8192];
	check(account_serialize(&a, exact, (size_t)n) == -1,
	      "serialize into a too-small buffer fails");
	check(account_serialize(&a, exact, (size_t)n + 1) == n,
	      "serialize into an exact buffer works");
	check(account_serialize(&a, exact, 3) == -1, "tiny buffer fails");

	/* Minimal account round trip. */
	base(&a);
	n = account_serialize(&a, buf, sizeof buf);
	check(n > 0 && account_parse(buf, (size_t)n, &b) == 0 &&
	      b.imap_host[0] == '\0' && b.imap_port == 0 && b.smtp_port == 587,
	      "minimal account round trip");

	/* Parsing uses the length, not a terminating NUL. */
	char copy[8192];
	memcpy(copy, buf, (size_t)n);
	memset(copy + n, 'Z', 16);
	check(account_parse(copy, (size_t)n, &b) == 0,
	      "parse stops at len (no NUL needed)");

	/* Hostile records. */
	char rec[8192];
	struct { const char *what, *from, *to; } cases[] = {
		{ "wrong version", "v=1\n", "v=2\n" },
		{ "missing version", "v=1\n", "" },
		{ "unknown key", "\nname=", "\nnickname=" },
		{ "injected newline in the name", "\nname=Alice Martin\n",
		  "\nname=Alice\nMartin\n" },
		{ "injected header via username", "\nusername=alice.martin@example.com\n",
		  "\nusername=alice\r\n" },
		{ "repeated key", "\nsmtp-port=587\n", "\nsmtp-port=587\nsmtp-port=25\n" },
		{ "missing field", "\npreset=\n", "\n" },
		{ "bad port", "\nsmtp-port=587\n", "\nsmtp-port=587x\n" },
		{ "port 0", "\nsmtp-port=587\n", "\nsmtp-port=0\n" },
		{ "port with sign", "\nsmtp-port=587\n", "\nsmtp-port=+587\n" },
		{ "bad security", "\nsmtp-security=starttls\n",
		  "\nsmtp-security=tls13\n" },
		{ "plain without allow", "\nsmtp-security=starttls\n",
		  "\nsmtp-security=none\n" },
		{ "bad bool", "\nallow-plain=0\n", "\nallow-plain=yes\n" },
		{ "negative time", "\nlast-test-time=0\n", "\nlast-test-time=-5\n" },
		{ "huge time", "\nlast-test-time=0\n",
		  "\nlast-test-time=99999999999999999999\n" },
		{ "bad email", "\nemail=Alice.Martin@Example.com\n",
		  "\nemail=Alice.Martin\n" },
		{ "empty smtp host", "\nsmtp-host=smtp.example.com\n",
		  "\nsmtp-host=\n" },
		{ "line without '='", "\npreset=\n", "\npreset\n" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *at = strstr(buf, cases[i].from);
		if (!at) {
			check(false, "hostile record %s: pattern not found",
			      cases[i].what);
			continue;
		}
		size_t pre = (size_t)(at - buf);
		str_printf(rec, sizeof rec, "%.*s%s%s", (int)pre, buf, cases[i].to,
		           at + strlen(cases[i].from));
		check(account_parse(rec, strlen(rec), &b) == -1,
		      "hostile record refused: %s", cases[i].what);
	}
	/* Truncation anywhere is refused (no final newline / missing fields). */
	bool all = true;
	for (int cut = 0; cut < n; cut++)
		if (account_parse(buf, (size_t)cut, &b) == 0)
			all = false;
	check(all, "every truncated record refused");
	/* A NUL byte inside a value. */
	memcpy(rec, buf, (size_t)n);
	char *nm = strstr(rec, "\nname=");
	nm[7] = '\0';
	check(account_parse(rec, (size_t)n, &b) == -1, "NUL byte refused");
	/* An over-long value does not overflow the field. */
	char longname[1024];
	memset(longname, 'n', 600);
	longname[600] = '\0';
	str_printf(rec, sizeof rec, "%.*sname=%s%s",
	           (int)(strstr(buf, "\nname=") - buf + 1), buf, longname,
	           strstr(buf, "\nsmtp-host="));
	check(account_parse(rec, strlen(rec), &b) == -1,
	      "over-long value refused");
	check(account_parse("", 0, &b) == -1, "empty record refused");
}

/* Parsing must be cheap: the store lists 10,000 accounts. */
static void
test_speed(void)
{
	struct account a, b;
	char buf[4096];
	base(&a);
	str_copy(a.imap_host, sizeof a.imap_host, "imap.example.com");
	a.imap_port = 993;
	int n = account_serialize(&a, buf, sizeof buf);
	int64_t t0 = now_ms();
	int ok = 0;
	for (int i = 0; i < 100000; i++)
		ok += account_parse(buf, (size_t)n, &b) == 0;
	int64_t dt = now_ms() - t0;
	printf("# 100000 parses in %lld ms\n", (long long)dt);
	/* Generous bound (sanitizer builds are slow): 10 us per record would
	 * already be 100 ms for the 10,000 accounts of the benchmark. */
	check(ok == 100000 && dt < 5000, "100000 parses under 5 s (%lld ms)",
	      (long long)dt);
}

/* A too long text is cut before a character, never inside one: a
 * translated reason is several bytes a letter. */
static void
test_cut(void)
{
	char b[8];

	check(str_copy(b, sizeof b, "abcdef\xc3\xa9") < 0 && !strcmp(b, "abcdef"),
	      "str_copy drops a cut 2-byte character (%s)", b);
	check(str_copy(b, sizeof b, "abcde\xc3\xa9") == 0 && !strcmp(b, "abcde\xc3\xa9"),
	      "str_copy keeps a whole one at the end");
	check(str_copy(b, 5, "ab\xe0\xa4\x95") < 0 && !strcmp(b, "ab"),
	      "str_copy drops a cut 3-byte character (%s)", b);
	check(str_copy(b, sizeof b, "ab\xe0\xa4\x95\xe0\xa4\x96") < 0 &&
	      !strcmp(b, "ab\xe0\xa4\x95"), "... and keeps the whole one before it");
	check(str_printf(b, sizeof b, "%s\xf0\x9f\x93\xa7", "abcd") < 0 && !strcmp(b, "abcd"),
	      "str_printf drops a cut 4-byte character (%s)", b);
	check(str_printf(b, sizeof b, "%s", "abcdefghij") < 0 && !strcmp(b, "abcdefg"),
	      "ASCII is cut at the buffer's end");
}

int
main(void)
{
	test_email();
	test_hostname();
	test_port();
	test_text();
	test_invisible();
	test_fields_controls();
	test_validate();
	test_pin();
	test_secret();
	test_security();
	test_key();
	test_record();
	test_record_oauth();
	test_speed();
	test_cut();
	return unit_done();
}
