/* The test message the probe sends to the account itself: well-formed
 * RFC 5322 + MIME, a display name in RFC 2047 encoded-words when it is not
 * ASCII, a unique token in the Subject and the Message-ID so the IMAP check
 * can find it, and a quoted-printable UTF-8 body (no 8BITMIME needed). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base64.h"
#include "probe_int.h"
#include "seal.h"
#include "util.h"

int
message_token(char *out, size_t outlen)
{
	unsigned char b[12];
	size_t i;

	if (outlen < 2 * sizeof(b) + 1 || random_bytes(b, sizeof(b)) < 0)
		return -1;
	for (i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

static size_t
utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	if ((c & 0xf8) == 0xf0)
		return 4;
	return 1;
}

/* RFC 5322 atext plus space: such a phrase needs no quoting, unless it
 * holds "=?", which a reader would take for the start of an RFC 2047
 * encoded-word (a quoted-string is never decoded). */
static bool
is_plain_phrase(const char *s)
{
	if (strstr(s, "=?"))
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x80 || c < 0x20 || c == 0x7f)
			return false;
		if (!(c == ' ' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') || strchr("!#$%&'*+-/=?^_`{|}~", c)))
			return false;
	}
	return true;
}

/* At most 39 bytes of UTF-8 per word: 52 base64 characters, 64 with the
 * "=?UTF-8?B?" "?=" frame, under RFC 2047's 75 even after "From: ". */
#define EW_BYTES 39

int
message_encode_name(const char *name, char *out, size_t outlen)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t n = strlen(name), i, o = 0;
	bool printable = true;

	/* Only printable ASCII goes in a quoted-string: a control character
	 * (CR or LF above all) would end the header there, so a name holding
	 * one is encoded like a non-ASCII name. */
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] >= 0x7f)
			printable = false;
	if (printable) {
		if (is_plain_phrase(name))
			return str_copy(out, outlen, name);
		if (outlen < 3)
			return -1;
		out[o++] = '"';
		for (i = 0; i < n; i++) {
			if (o + 3 >= outlen)
				return -1;
			if (s[i] == '"' || s[i] == '\\')
				out[o++] = '\\';
			out[o++] = (char)s[i];
		}
		out[o++] = '"';
		out[o] = '\0';
		return 0;
	}
	i = 0;
	while (i < n) {
		size_t take = 0;
		char enc[64];

		/* Never split a UTF-8 sequence between two words. */
		while (i + take < n) {
			size_t l = utf8_len(s[i + take]);

			if (take + l > EW_BYTES)
				break;
			take += l;
		}
		if (take == 0)
			take = 1;
		if (i + take > n)
			take = n - i;
		base64_encode(s + i, take, enc, sizeof(enc));
		if (str_printf(out + o, outlen - o, "%s=?UTF-8?B?%s?=",
		               i ? "\r\n " : "", enc) < 0)
			return -1;
		o += strlen(out + o);
		i += take;
	}
	return 0;
}

void
message_date(time_t t, char *out, size_t outlen)
{
	static const char *days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *mons[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	/* Written by hand: strftime's %a and %b follow the locale. */
	str_printf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	           days[tm.tm_wday % 7], tm.tm_mday, mons[tm.tm_mon % 12],
	           tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void
msgbuf_add(struct msgbuf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 1024) + n;
		char *q = realloc(b->p, cap);

		if (!q) {
			b->err = true;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_str(struct msgbuf *b, const char *s)
{
	msgbuf_add(b, s, strlen(s));
}

/* Quoted-printable (RFC 2045) of one line, soft breaks before 76. */
static void
buf_qp_line(struct msgbuf *b, const char *line)
{
	const unsigned char *s = (const unsigned char *)line;
	size_t col = 0, i, n = strlen(line);
	char tmp[4];

	for (i = 0; i < n; i++) {
		bool enc = s[i] == '=' || s[i] < 0x20 || s[i] > 0x7e ||
		           ((s[i] == ' ' || s[i] == '\t') && i + 1 == n);
		size_t w = enc ? 3 : 1;

		if (col + w > 75) {
			buf_str(b, "=\r\n");
			col = 0;
		}
		if (enc) {
			snprintf(tmp, sizeof(tmp), "=%02X", s[i]);
			msgbuf_add(b, tmp, 3);
		} else {
			msgbuf_add(b, (const char *)s + i, 1);
		}
		col += w;
	}
}

int
message_from_header(const char *display_name, const char *email, char *out,
                    size_t outlen)
{
	char name[ACCT_NAME_MAX * 3 + 64];
	const char *nl;
	size_t col;

	if (!display_name[0] ||
	    message_encode_name(display_name, name, sizeof(name)) < 0)
		return str_printf(out, outlen, "From: %s\r\n", email);
	/* Fold before the address when the line would pass 76. */
	nl = strrchr(name, '\n');
	col = nl ? strlen(nl + 1) : strlen(name) + 6;
	return str_printf(out, outlen, "From: %s%s <%s>\r\n", name,
	                  col + strlen(email) + 3 > 76 ? "\r\n" : "", email);
}

char *
message_build(const struct account *a, const char *token, time_t when,
              char *msgid, size_t msgidlen, size_t *len)
{
	struct msgbuf b = { NULL, 0, 0, false };
	const char *domain = strrchr(a->email, '@');
	char from[MESSAGE_FROM_MAX], date[64], line[1024];
	const char *body[6];
	size_t i;

	domain = domain ? domain + 1 : "localhost";
	if (str_printf(msgid, msgidlen, "<%s@%s>", token, domain) < 0)
		return NULL;
	message_date(when, date, sizeof(date));

	if (message_from_header(a->display_name, a->email, from, sizeof(from)) < 0)
		return NULL;
	buf_str(&b, from);
	str_printf(line, sizeof(line), "To: %s\r\n", a->email);
	buf_str(&b, line);
	str_printf(line, sizeof(line), "Subject: fluenzr-tui test %s\r\n", token);
	buf_str(&b, line);
	str_printf(line, sizeof(line), "Date: %s\r\n", date);
	buf_str(&b, line);
	str_printf(line, sizeof(line), "Message-ID: %s\r\n", msgid);
	buf_str(&b, line);
	buf_str(&b, "MIME-Version: 1.0\r\n"
	            "Content-Type: text/plain; charset=UTF-8\r\n"
	            "Content-Transfer-Encoding: quoted-printable\r\n"
	            "X-Mailer: fluenzr-tui " PACKAGE_VERSION "\r\n"
	            "\r\n");
	body[0] = "This is a test message sent by fluenzr-tui to check that this";
	body[1] = "account can send mail. You can delete it.";
	body[2] = "";
	body[3] = "UTF-8 check: Gr\xc3\xbc\xc3\x9f" "e \xe2\x9c\x93";
	body[4] = ". A line that starts with a dot (SMTP dot-stuffing check).";
	body[5] = NULL;
	for (i = 0; body[i]; i++) {
		buf_qp_line(&b, body[i]);
		buf_str(&b, "\r\n");
	}
	str_printf(line, sizeof(line), "Token: %s", token);
	buf_qp_line(&b, line);       /* the last line: no CRLF, see probe_int.h */
	if (b.err) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
