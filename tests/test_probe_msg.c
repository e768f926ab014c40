/* Unit tests of the probe's pure parts: transcript redaction (AUTH PLAIN,
 * AUTH LOGIN, IMAP LOGIN, message body, chunking) and the test message
 * (RFC 2047 display names, headers, CRLF, quoted-printable body). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "base64.h"
#include "probe_int.h"
#include "util.h"
#include "unit.h"

/* ---- transcript ---- */

struct sink {
	char lines[64][TRANSCRIPT_LINE_MAX + 4];
	size_t n;
	char all[16384];
};

static void
sink_emit(char dir, const char *text, void *ud)
{
	struct sink *s = ud;
	size_t k = strlen(s->all);

	if (s->n < 64)
		snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%c %s", dir, text);
	snprintf(s->all + k, sizeof(s->all) - k, "%c %s\n", dir, text);
}

/* Feeds a whole string, optionally one byte at a time (the stream hands
 * over arbitrary chunks). */
static void
feed(struct transcript *t, char dir, const char *s, bool bytewise)
{
	size_t i, n = strlen(s);

	if (!bytewise) {
		transcript_feed(t, dir, s, n);
		return;
	}
	for (i = 0; i < n; i++)
		transcript_feed(t, dir, s + i, 1);
}

static const char *PW = "Alice-Secret-Pass-1";
/* base64("\0alice@mail.test\0Alice-Secret-Pass-1") */
static const char *PLAIN64 = "AGFsaWNlQG1haWwudGVzdABBbGljZS1TZWNyZXQtUGFzcy0x";
static const char *USER64 = "YWxpY2VAbWFpbC50ZXN0";          /* alice@mail.test */
static const char *PASS64 = "QWxpY2UtU2VjcmV0LVBhc3MtMQ==";  /* the password */

static void
test_smtp_plain(bool bytewise)
{
	struct transcript t;
	struct sink s;
	char line[256];

	memset(&s, 0, sizeof(s));
	transcript_init(&t, false, sink_emit, &s);
	feed(&t, 'S', "220 mail.test ESMTP\r\n", bytewise);
	feed(&t, 'C', "EHLO [127.0.0.1]\r\n", bytewise);
	feed(&t, 'S', "250-mail.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n", bytewise);
	snprintf(line, sizeof(line), "AUTH PLAIN %s\r\n", PLAIN64);
	feed(&t, 'C', line, bytewise);
	feed(&t, 'S', "235 2.7.0 Authentication successful\r\n", bytewise);
	feed(&t, 'C', "MAIL FROM:<alice@mail.test>\r\n", bytewise);
	transcript_flush(&t);
	check(strstr(s.all, "C AUTH PLAIN <redacted>\n") != NULL,
	      "AUTH PLAIN payload redacted (%s)", bytewise ? "bytewise" : "chunk");
	check(!strstr(s.all, PLAIN64) && !strstr(s.all, PW),
	      "no PLAIN payload or password in the transcript");
	check(strstr(s.all, "C MAIL FROM:<alice@mail.test>\n") != NULL,
	      "lines after the final AUTH reply are shown");
	check(strstr(s.all, "S 250-AUTH PLAIN LOGIN\n") != NULL,
	      "server lines kept, one per line");
}

static void
test_smtp_login(void)
{
	struct transcript t;
	struct sink s;
	char line[128];

	memset(&s, 0, sizeof(s));
	transcript_init(&t, false, sink_emit, &s);
	feed(&t, 'C', "AUTH LOGIN\r\n", false);
	feed(&t, 'S', "334 VXNlcm5hbWU6\r\n", false);
	snprintf(line, sizeof(line), "%s\r\n", USER64);
	feed(&t, 'C', line, false);
	feed(&t, 'S', "334 UGFzc3dvcmQ6\r\n", false);
	snprintf(line, sizeof(line), "%s\r\n", PASS64);
	feed(&t, 'C', line, true);
	feed(&t, 'S', "535 5.7.8 Error: authentication failed\r\n", false);
	feed(&t, 'C', "QUIT\r\n", false);
	transcript_flush(&t);
	check(strstr(s.all, "C AUTH LOGIN\n") != NULL, "AUTH LOGIN shown");
	check(!strstr(s.all, USER64) && !strstr(s.all, PASS64) && !strstr(s.all, PW),
	      "AUTH LOGIN user and password lines redacted");
	check(s.n == 7 && strcmp(s.lines[2], "C <redacted>") == 0 &&
	      strcmp(s.lines[4], "C <redacted>") == 0,
	      "each continuation line becomes <redacted>");
	check(strcmp(s.lines[6], "C QUIT") == 0, "redaction ends at the final reply");
	/* AUTH LOGIN with an initial response carries the user name. */
	memset(&s, 0, sizeof(s));
	transcript_init(&t, false, sink_emit, &s);
	snprintf(line, sizeof(line), "AUTH LOGIN %s\r\n", USER64);
	feed(&t, 'C', line, false);
	check(strcmp(s.lines[0], "C AUTH LOGIN <redacted>") == 0,
	      "AUTH LOGIN initial response redacted");
	/* A partial line pending at the end is redacted too. */
	memset(&s, 0, sizeof(s));
	transcript_init(&t, false, sink_emit, &s);
	feed(&t, 'C', "AUTH LOGIN\r\n", false);
	feed(&t, 'S', "334 VXNlcm5hbWU6\r\n", false);
	feed(&t, 'C', PASS64, false);
	transcript_flush(&t);
	check(!strstr(s.all, PASS64), "a pending partial line is redacted at flush");
}

static void
test_body(void)
{
	struct transcript t;
	struct sink s;

	memset(&s, 0, sizeof(s));
	transcript_init(&t, false, sink_emit, &s);
	feed(&t, 'C', "DATA\r\n", false);
	feed(&t, 'S', "354 End data with <CR><LF>.<CR><LF>\r\n", false);
	feed(&t, 'C', "Subject: hi\r\n\r\nbody line\r\n..stuffed\r\n.\r\n", true);
	feed(&t, 'S', "250 2.0.0 Ok: queued\r\n", false);
	transcript_flush(&t);
	check(strstr(s.all, "C <message body: 37 bytes>\nC .\n") != NULL,
	      "message body summarised with its size (%s)", s.all);
	check(!strstr(s.all, "body line"), "body lines not in the transcript");
	/* DATA refused: no body mode. */
	memset(&s, 0, sizeof(s));
	transcript_init(&t, false, sink_emit, &s);
	feed(&t, 'C', "DATA\r\n", false);
	feed(&t, 'S', "554 5.5.1 Error: no valid recipients\r\n", false);
	feed(&t, 'C', "QUIT\r\n", false);
	check(strstr(s.all, "C QUIT\n") != NULL, "no body mode after a refused DATA");
}

static void
test_imap(void)
{
	struct transcript t;
	struct sink s;

	memset(&s, 0, sizeof(s));
	transcript_init(&t, true, sink_emit, &s);
	feed(&t, 'S', "* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n", false);
	feed(&t, 'C', "2 LOGIN alice@mail.test Alice-Secret-Pass-1\r\n", false);
	feed(&t, 'S', "2 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", false);
	feed(&t, 'C', "3 LOGIN {15}\r\n", false);
	feed(&t, 'S', "+ OK\r\n", false);
	feed(&t, 'C', "alice@mail.test {19}\r\n", false);
	feed(&t, 'S', "+ OK\r\n", false);
	feed(&t, 'C', "Alice-Secret-Pass-1\r\n", false);
	feed(&t, 'S', "3 OK Logged in\r\n", false);
	feed(&t, 'C', "4 SELECT INBOX\r\n", false);
	transcript_flush(&t);
	check(strstr(s.all, "C 2 LOGIN <redacted> <redacted>\n") != NULL,
	      "IMAP LOGIN arguments redacted");
	check(!strstr(s.all, PW) && !strstr(s.all, "alice@mail.test {"),
	      "IMAP literals redacted");
	check(strstr(s.all, "C 4 SELECT INBOX\n") != NULL,
	      "redaction ends at the tagged reply");
	check(strstr(s.all, "S 2 NO [AUTHENTICATIONFAILED]") != NULL,
	      "server replies kept");
}

static void
test_sanitize(void)
{
	struct transcript t;
	struct sink s;

	memset(&s, 0, sizeof(s));
	transcript_init(&t, false, sink_emit, &s);
	feed(&t, 'S', "220 \x1b[2Jevil\x07 greeting\r\n", false);
	check(strchr(s.all, 0x1b) == NULL && strchr(s.all, 0x07) == NULL,
	      "control characters removed from server lines");
}

/* ---- message ---- */

static void
test_encode_name(void)
{
	char out[1024];
	const char *name = "J\xc3\xbcrgen M\xc3\xbcller-L\xc3\xbc" "denscheid "
	                   "\xe2\x9c\x93 \xf0\x9f\x93\xa7 Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln";
	char *p, *q;
	bool ok = true;

	check(message_encode_name("Alice Example", out, sizeof out) == 0 &&
	      strcmp(out, "Alice Example") == 0, "ASCII phrase as is");
	check(message_encode_name("Doe, John \"JD\"", out, sizeof out) == 0 &&
	      strcmp(out, "\"Doe, John \\\"JD\\\"\"") == 0, "specials quoted: %s", out);
	check(message_encode_name("Ren\xc3\xa9", out, sizeof out) == 0 &&
	      strcmp(out, "=?UTF-8?B?UmVuw6k=?=") == 0, "UTF-8 name as B encoded-word: %s", out);
	check(message_encode_name(name, out, sizeof out) == 0, "long UTF-8 name encodes");
	/* Every encoded-word at most 75 characters, words on folded lines, and
	 * no UTF-8 sequence split: each word decodes on its own. */
	for (p = out; p && *p; p = q) {
		size_t n;

		q = strstr(p, "\r\n ");
		n = q ? (size_t)(q - p) : strlen(p);
		if (n > 75 || strncmp(p, "=?UTF-8?B?", 10) != 0 || strncmp(p + n - 2, "?=", 2) != 0)
			ok = false;
		if (q)
			q += 3;
	}
	check(ok && strstr(out, "\r\n ") != NULL, "words <= 75 chars, folded: %s", out);
}

static void
test_build(void)
{
	struct account a;
	char msgid[256];
	size_t len = 0, i;
	char *m;
	bool crlf = true, longline = false;
	size_t col = 0;

	account_init(&a);
	str_copy(a.email, sizeof a.email, "alice@mail.test");
	str_copy(a.display_name, sizeof a.display_name, "Al\xc3\xaf" "ce \xc3\x89" "xample");
	m = message_build(&a, "0123456789abcdef01234567", 1764158640, msgid, sizeof msgid, &len);
	check(m != NULL && len == strlen(m), "message built");
	if (!m)
		return;
	check(strcmp(msgid, "<0123456789abcdef01234567@mail.test>") == 0, "Message-ID: %s", msgid);
	check(strstr(m, "From: =?UTF-8?B?") == m, "From starts with an encoded-word");
	check(strstr(m, "?= <alice@mail.test>\r\n") != NULL, "From ends with the address");
	check(strstr(m, "\r\nTo: alice@mail.test\r\n") != NULL, "To");
	check(strstr(m, "\r\nSubject: fluenzr-tui test 0123456789abcdef01234567\r\n") != NULL,
	      "Subject carries the token");
	check(strstr(m, "\r\nDate: Wed, 26 Nov 2025 12:04:00 +0000\r\n") != NULL, "RFC 5322 date");
	check(strstr(m, "\r\nMessage-ID: <0123456789abcdef01234567@mail.test>\r\n") != NULL,
	      "Message-ID header");
	check(strstr(m, "\r\nMIME-Version: 1.0\r\n") && strstr(m, "charset=UTF-8\r\n") &&
	      strstr(m, "Content-Transfer-Encoding: quoted-printable\r\n"), "MIME headers");
	check(strstr(m, "Gr=C3=BC=C3=9Fe =E2=9C=93") != NULL, "body is quoted-printable UTF-8");
	check(strstr(m, "\r\n. A line that starts") != NULL, "a body line starts with a dot");
	for (i = 0; i < len; i++) {
		if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r'))
			crlf = false;
		if ((unsigned char)m[i] >= 0x80)
			crlf = false;     /* 7-bit only */
		if (m[i] == '\n')
			col = 0;
		else if (++col > 78)
			longline = true;
	}
	check(crlf, "CRLF line endings, 7-bit");
	check(!longline, "no line over 78 characters");
	check(len >= 2 && !(m[len - 2] == '\r' && m[len - 1] == '\n'),
	      "no final CRLF (SMTP adds CRLF.CRLF)");
	free(m);
	/* No display name: the bare address. */
	a.display_name[0] = '\0';
	m = message_build(&a, "tok", 0, msgid, sizeof msgid, &len);
	check(m && strncmp(m, "From: alice@mail.test\r\n", 23) == 0, "From without a name");
	free(m);
}

static void
test_token(void)
{
	char a[64], b[64];

	check(message_token(a, sizeof a) == 0 && message_token(b, sizeof b) == 0 &&
	      strlen(a) == 24 && strcmp(a, b) != 0 && strspn(a, "0123456789abcdef") == 24,
	      "tokens are 24 random hex digits");
	check(message_token(a, 10) == -1, "token refuses a short buffer");
}

/* Once a line is redacted, nothing of it stays in the transcript's line
 * buffers: neither a SASL response sent nor a password quoted back. */
static void
test_wiped(void)
{
	struct transcript t;
	struct sink s;
	char line[256];

	memset(&s, 0, sizeof(s));
	transcript_init(&t, false, sink_emit, &s);
	feed(&t, 'S', "250-mail.test\r\n250 AUTH PLAIN LOGIN\r\n", false);
	snprintf(line, sizeof(line), "AUTH PLAIN %s\r\n", PLAIN64);
	feed(&t, 'C', line, false);
	snprintf(line, sizeof(line), "535 5.7.8 no: %s\r\n", PW);
	feed(&t, 'S', line, false);
	feed(&t, 'C', "AUTH LOGIN\r\n", false);
	feed(&t, 'S', "334 VXNlcm5hbWU6\r\n", false);
	snprintf(line, sizeof(line), "%s\r\n", USER64);
	feed(&t, 'C', line, false);
	snprintf(line, sizeof(line), "%s\r\n", PASS64);
	feed(&t, 'C', line, false);
	check(!memmem(&t, sizeof(t), PLAIN64, strlen(PLAIN64)) &&
	      !memmem(&t, sizeof(t), PASS64, 12) &&
	      !memmem(&t, sizeof(t), PW, 8),
	      "the line buffers hold nothing of the secrets after the lines");
	transcript_flush(&t);
}

/* The encoder of AUTH and the encoded-words: RFC 4648's vectors, and no
 * write when the room is short. */
static void
test_base64(void)
{
	static const char *const vec[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	char out[16];
	size_t i, n;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		n = base64_encode((const unsigned char *)vec[i][0],
		                  strlen(vec[i][0]), out, sizeof(out));
		check(n == strlen(vec[i][1]) && strcmp(out, vec[i][1]) == 0,
		      "base64 of \"%s\" is \"%s\"", vec[i][0], vec[i][1]);
	}
	n = base64_encode((const unsigned char *)"\xff\xfe\x00", 3, out,
	                  sizeof(out));
	check(n == 4 && strcmp(out, "//4A") == 0, "base64 of bytes with a NUL");
	strcpy(out, "unchanged");
	check(base64_encode((const unsigned char *)"foo", 3, out, 4) == 0 &&
	      strcmp(out, "unchanged") == 0,
	      "base64 without room for the NUL writes nothing");
	check(base64_encode((const unsigned char *)"foo", 3, out, 5) == 4,
	      "base64 fits BASE64_LEN(n) bytes exactly (%d)", BASE64_LEN(3));
}

int
main(void)
{
	test_smtp_plain(false);
	test_smtp_plain(true);
	test_smtp_login();
	test_body();
	test_imap();
	test_wiped();
	test_sanitize();
	test_encode_name();
	test_build();
	test_token();
	test_base64();
	return unit_done();
}
