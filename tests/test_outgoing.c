/* Unit tests of what `send` makes of a message (outgoing.c): recipients
 * from To, Cc and Bcc (display names, quoted strings, comments, groups,
 * folding), Bcc removed, From and Date added only when missing, CRLF
 * throughout, hostile input refused with the field named. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "unit.h"

static struct outgoing_opts
opts(bool t)
{
	struct outgoing_opts o;

	memset(&o, 0, sizeof(o));
	o.rcpt_from_headers = t;
	o.from_name = "Alice";
	o.from_addr = "alice@example.org";
	o.now = 0;
	return o;
}

static int
prep(const char *raw, bool t, struct outgoing *m, char *err)
{
	struct outgoing_opts o = opts(t);

	return outgoing_prepare(raw, strlen(raw), &o, m, err, 512);
}

static bool
has(const struct outgoing *m, const char *s)
{
	return m->data && strstr(m->data, s) != NULL;
}

static void
test_rcpts(void)
{
	struct outgoing m;
	char err[512];
	int rc;

	rc = prep("To: \"Doe, John\" <john@example.com>, jane@example.com (Jane)\n"
	          "Cc: team: a@example.com, b@example.com;, \n"
	          " c@example.com\n"
	          "Bcc: hidden@example.com\n"
	          "Subject: hi\n\nbody\n", true, &m, err);
	check(rc == 0, "address lists parse (%s)", rc ? err : "ok");
	check(m.nrcpt == 6, "six recipients (got %zu)", m.nrcpt);
	check(m.nrcpt == 6 && strcmp(m.rcpt[0], "john@example.com") == 0 &&
	      strcmp(m.rcpt[1], "jane@example.com") == 0 &&
	      strcmp(m.rcpt[2], "a@example.com") == 0 &&
	      strcmp(m.rcpt[4], "c@example.com") == 0 &&
	      strcmp(m.rcpt[5], "hidden@example.com") == 0,
	      "in order, the group's and the folded line's included");
	check(!has(&m, "hidden@") && !has(&m, "Bcc"), "Bcc removed");
	check(has(&m, "To: \"Doe, John\" <john@example.com>"), "To kept as given");
	outgoing_free(&m);

	rc = prep("To: a@example.com, A@EXAMPLE.COM\nCc: a@example.com\n\nx", true, &m, err);
	check(rc == 0 && m.nrcpt == 1, "duplicates counted once");
	outgoing_free(&m);

	rc = prep("To: a@example.com\nBcc: b@example.com\n\nx", false, &m, err);
	check(rc == 0 && m.nrcpt == 0, "without -t no recipient from headers");
	check(rc == 0 && !has(&m, "b@example.com"), "Bcc removed without -t too");
	outgoing_free(&m);

	rc = prep("To: not an address\n\nx", true, &m, err);
	check(rc < 0 && strstr(err, "To:") && strstr(err, "not an address"),
	      "a bad address named with its field (%s)", err);
	rc = prep("Cc: <a@example.com\n\nx", true, &m, err);
	check(rc < 0 && strstr(err, "Cc:"), "an open angle bracket refused (%s)", err);
	rc = prep("To: x@\n\nx", true, &m, err);
	check(rc < 0 && strstr(err, "recipient 'x@'"), "an address checked as an account's (%s)", err);
	rc = prep("To: \"q\"@example.com\n\nx", true, &m, err);
	check(rc < 0, "a quoted local part refused (%s)", err);
	rc = prep("To: undisclosed-recipients:;\n\nx", true, &m, err);
	check(rc == 0 && m.nrcpt == 0, "an empty group is no recipient");
	outgoing_free(&m);
}

static void
test_headers(void)
{
	struct outgoing m;
	char err[512];
	int rc;

	rc = prep("Subject: s\n\nline 1\nline 2\n", false, &m, err);
	check(rc == 0, "a plain message");
	check(has(&m, "From: \"Alice\" <alice@example.org>\r\n") ||
	      has(&m, "From: Alice <alice@example.org>\r\n"), "From added: %s", m.data);
	check(has(&m, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"), "Date added");
	check(has(&m, "Subject: s\r\n") && has(&m, "\r\n\r\nline 1\r\nline 2"),
	      "CRLF throughout");
	check(m.len >= 6 && memcmp(m.data + m.len - 6, "line 2", 6) == 0,
	      "no final CRLF (the SMTP layer adds it)");
	outgoing_free(&m);

	rc = prep("From: Bob <bob@example.org>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nx\r\n",
	          false, &m, err);
	check(rc == 0 && !has(&m, "alice@") && !has(&m, "1970"), "From and Date kept when present");
	outgoing_free(&m);

	rc = prep("no header at all\n", false, &m, err);
	check(rc == 0 && has(&m, "\r\n\r\nno header at all"),
	      "a body without header gets an empty line after the added fields");
	outgoing_free(&m);

	rc = prep("Subject: s\nnot a field\nBcc: hidden@example.com\n", false, &m, err);
	check(rc == 0 && has(&m, "Subject: s\r\n") && has(&m, "\r\n\r\nnot a field\r\nBcc:"),
	      "a header ended by a line that is no field gets its empty line: what "
	      "follows is body, not fields the server would read");
	outgoing_free(&m);

	rc = prep("Subject: a\rBcc: x@example.com\n\nb\rc\n", false, &m, err);
	check(rc == 0 && has(&m, "Subject: a Bcc: x@example.com\r\n") &&
	      has(&m, "\r\n\r\nb\r\nc"),
	      "a lone CR: a space in the header, a line end in the body");
	outgoing_free(&m);

	rc = outgoing_prepare("To: a@b.c\n\0x", 12, &(struct outgoing_opts){ true, NULL, "a@b.c", 0 },
	                      &m, err, sizeof(err));
	check(rc < 0 && strstr(err, "NUL"), "a NUL byte refused");
}

static void
test_limits(void)
{
	struct outgoing m;
	char err[512];
	size_t n = OUTGOING_RCPT_MAX + 2, i, k = 0;
	char *big = malloc(n * 24 + 64);
	int rc;

	k += (size_t)sprintf(big, "To: ");
	for (i = 0; i < n; i++)
		k += (size_t)sprintf(big + k, "u%zu@example.com,", i);
	strcpy(big + k, "\n\nx");
	rc = prep(big, true, &m, err);
	check(rc < 0 && strstr(err, "more than"), "too many recipients refused (%s)", err);
	free(big);

	memset(&m, 0, sizeof(m));
	rc = outgoing_prepare("x", (size_t)OUTGOING_MSG_MAX + 1, &(struct outgoing_opts){ false, NULL, "a@b.c", 0 },
	                      &m, err, sizeof(err));
	check(rc < 0 && strstr(err, "larger"), "an oversized message refused before it is read");
}

int
main(void)
{
	test_rcpts();
	test_headers();
	test_limits();
	return unit_done();
}
