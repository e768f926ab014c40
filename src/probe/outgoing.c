/* A message a sending system hands to `send`, made ready for the wire:
 * its recipients read from To, Cc and Bcc when asked (sendmail -t), the
 * Bcc fields taken out, a From and a Date added when it has none, CRLF
 * line endings throughout. What arrives is hostile like everything else:
 * every address is checked as `account add` checks an account's, a NUL
 * byte or an oversized message is refused, and the header walk is bounded
 * by the message itself. No I/O. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account.h"
#include "probe.h"
#include "probe_int.h"
#include "i18n.h"
#include "util.h"

/* One line of raw, with its end normalised to CRLF. A CR alone inside it
 * (SMTP allows none) ends a line in the body; in the header it becomes a
 * space, so that it cannot start a field we did not see (a Bcc kept). */
static void
ob_line(struct msgbuf *b, const char *s, size_t n, bool header)
{
	size_t i, start = 0;

	if (n && s[n - 1] == '\n')
		n--;
	if (n && s[n - 1] == '\r')
		n--;
	for (i = 0; i < n; i++) {
		if (s[i] != '\r')
			continue;
		msgbuf_add(b, s + start, i - start);
		msgbuf_add(b, header ? " " : "\r\n", header ? 1 : 2);
		start = i + 1;
	}
	msgbuf_add(b, s + start, n - start);
	msgbuf_add(b, "\r\n", 2);
}

int
outgoing_add_rcpt(struct outgoing *m, const char *addr, char *err,
                  size_t errlen)
{
	const char *why = valid_email(addr);
	char **v;
	size_t i;

	if (why) {
		str_printf(err, errlen, "recipient '%.300s' %s", addr, why);
		return -1;
	}
	for (i = 0; i < m->nrcpt; i++)
		if (strcasecmp(m->rcpt[i], addr) == 0)
			return 0;           /* To and Cc may both name it */
	if (m->nrcpt >= OUTGOING_RCPT_MAX) {
		str_printf(err, errlen, _("more than %d recipients"), OUTGOING_RCPT_MAX);
		return -1;
	}
	v = realloc(m->rcpt, (m->nrcpt + 1) * sizeof(*v));
	if (!v || !(v[m->nrcpt] = strdup(addr))) {
		if (v)
			m->rcpt = v;
		str_copy(err, errlen, _("out of memory"));
		return -1;
	}
	m->rcpt = v;
	m->nrcpt++;
	return 0;
}

/* One element of an address list: the address in angle brackets when it
 * has some, else the bare text without its comments. */
static int
addr_done(struct outgoing *m, const char *field, char *bare, size_t nb,
          const char *angle, bool had_angle, char *err, size_t errlen)
{
	const char *a = had_angle ? angle : bare;
	char why[512];

	bare[nb] = '\0';
	if (!had_angle) {
		/* Trim; a bare element is one word. */
		while (*a == ' ' || *a == '\t')
			a++;
		while (nb && (bare[nb - 1] == ' ' || bare[nb - 1] == '\t'))
			bare[--nb] = '\0';
		if (strpbrk(a, " \t")) {
			str_printf(err, errlen, _("%s: '%.300s' is not an address"), field, a);
			return -1;
		}
	}
	if (!*a)
		return 0;                   /* "a,,b", "undisclosed-recipients:;" */
	if (outgoing_add_rcpt(m, a, why, sizeof(why)) < 0) {
		str_printf(err, errlen, "%s: %s", field, why);
		return -1;
	}
	return 0;
}

/* The addresses of an unfolded To, Cc or Bcc value (RFC 5322 address
 * lists: display names, quoted strings, comments, groups). */
static int
parse_addrs(struct outgoing *m, const char *field, const char *v, size_t n,
            char *err, size_t errlen)
{
	char bare[ACCT_EMAIL_MAX + 2], angle[ACCT_EMAIL_MAX + 2];
	size_t nb = 0, na = 0, i;
	int comment = 0;
	bool quote = false, in_angle = false, had_angle = false, over = false;

	angle[0] = '\0';
	for (i = 0; i <= n; i++) {
		char c = i < n ? v[i] : ',';

		if (quote) {
			if (c == '\\' && i + 1 < n)
				i++;
			else if (c == '"')
				quote = false;
			continue;           /* a display name's or a local part's */
		}
		if (comment) {
			if (c == '\\' && i + 1 < n)
				i++;
			else if (c == '(')
				comment++;
			else if (c == ')')
				comment--;
			continue;
		}
		if (c == '(') {
			comment = 1;
		} else if (c == '"') {
			quote = true;
			if (in_angle || !had_angle) {
				/* A quoted local part: let the check name it. */
				if (in_angle && na < sizeof(angle) - 1)
					angle[na++] = '"';
				else if (!in_angle && nb < sizeof(bare) - 1)
					bare[nb++] = ' ';
			}
		} else if (in_angle) {
			if (c == '>') {
				in_angle = false;
				angle[na] = '\0';
			} else if (na < sizeof(angle) - 1) {
				angle[na++] = c;
			} else {
				over = true;
			}
		} else if (c == '<') {
			in_angle = had_angle = true;
			na = 0;
		} else if (c == ':' ) {
			nb = 0;                 /* a group's name */
		} else if (c == ',' || c == ';') {
			if (over) {
				str_printf(err, errlen, _("%s: an address is longer than %d characters"),
				           field, ACCT_EMAIL_MAX);
				return -1;
			}
			if (addr_done(m, field, bare, nb, angle, had_angle, err, errlen) < 0)
				return -1;
			nb = na = 0;
			angle[0] = '\0';
			had_angle = over = false;
		} else if (!had_angle) {
			if (nb < sizeof(bare) - 1)
				bare[nb++] = c;
			else
				over = true;
		}
	}
	if (quote || comment || in_angle) {
		str_printf(err, errlen, _("%s: unbalanced quote, comment or angle bracket"),
		           field);
		return -1;
	}
	return 0;
}

static bool
field_is(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);

	return n > k && line[k] == ':' && strncasecmp(line, name, k) == 0;
}

int
outgoing_prepare(const char *raw, size_t len, const struct outgoing_opts *o,
                 struct outgoing *m, char *err, size_t errlen)
{
	struct msgbuf b = { NULL, 0, 0, false };
	size_t pos = 0;
	bool has_from = false, has_date = false;
	char add[MESSAGE_FROM_MAX + 64], date[64];

	memset(m, 0, sizeof(*m));
	if (len > OUTGOING_MSG_MAX) {
		str_printf(err, errlen, _("the message is larger than %d MiB"),
		           OUTGOING_MSG_MAX >> 20);
		return -1;
	}
	if (memchr(raw, '\0', len)) {
		str_copy(err, errlen, _("the message contains a NUL byte"));
		return -1;
	}
	/* The header: fields, each with its continuation lines, up to an
	 * empty line or the first line that is not a field. */
	while (pos < len) {
		const char *line = raw + pos, *colon, *nl;
		size_t n, fstart = pos, vlen;
		bool bcc, rcpt;
		char *val;

		nl = memchr(line, '\n', len - pos);
		n = nl ? (size_t)(nl - line) + 1 : len - pos;
		if (n == 1 || (n == 2 && line[0] == '\r') || line[0] == ' ' ||
		    line[0] == '\t')
			break;
		colon = memchr(line, ':', n);
		if (!colon || colon == line)
			break;
		for (const char *c = line; c < colon; c++)
			if (*c <= ' ' || *c > '~')
				goto header_end;
		pos += n;
		while (pos < len && (raw[pos] == ' ' || raw[pos] == '\t')) {
			nl = memchr(raw + pos, '\n', len - pos);
			pos = nl ? (size_t)(nl - raw) + 1 : len;
		}
		if (field_is(line, n, "From"))
			has_from = true;
		else if (field_is(line, n, "Date"))
			has_date = true;
		bcc = field_is(line, n, "Bcc");
		rcpt = o->rcpt_from_headers &&
		       (bcc || field_is(line, n, "To") || field_is(line, n, "Cc"));
		if (rcpt) {
			/* The value unfolded: line ends dropped. */
			vlen = pos - (size_t)(colon + 1 - raw);
			val = malloc(vlen + 1);
			if (!val) {
				str_copy(err, errlen, _("out of memory"));
				goto fail;
			}
			memcpy(val, colon + 1, vlen);
			for (size_t i = 0; i < vlen; i++)
				if (val[i] == '\r' || val[i] == '\n')
					val[i] = ' ';
			val[vlen] = '\0';
			if (parse_addrs(m, bcc ? "Bcc" : field_is(line, n, "To") ? "To" : "Cc",
			                val, vlen, err, errlen) < 0) {
				free(val);
				goto fail;
			}
			free(val);
		}
		if (bcc)
			continue;               /* never on the wire */
		while (fstart < pos) {
			nl = memchr(raw + fstart, '\n', pos - fstart);
			n = nl ? (size_t)(nl - (raw + fstart)) + 1 : pos - fstart;
			ob_line(&b, raw + fstart, n, true);
			fstart += n;
		}
	}
header_end:
	if (!has_date) {
		message_date(o->now, date, sizeof(date));
		str_printf(add, sizeof(add), "Date: %s\r\n", date);
		msgbuf_add(&b, add, strlen(add));
	}
	if (!has_from) {
		if (message_from_header(o->from_name ? o->from_name : "", o->from_addr,
		                        add, sizeof(add)) < 0)
			str_printf(add, sizeof(add), "From: %s\r\n", o->from_addr);
		msgbuf_add(&b, add, strlen(add));
	}
	/* The header ends with an empty line: where it ended at a line that
	 * is no field, one is put before it, or the server would read the
	 * fields after it (a Bcc we did not remove) as the header's. */
	if (pos < len && raw[pos] != '\n' &&
	    !(raw[pos] == '\r' && pos + 1 < len && raw[pos + 1] == '\n'))
		msgbuf_add(&b, "\r\n", 2);
	/* The body, CRLF throughout. */
	while (pos < len) {
		const char *nl = memchr(raw + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (raw + pos)) + 1 : len - pos;

		ob_line(&b, raw + pos, n, false);
		pos += n;
	}
	if (b.err) {
		str_copy(err, errlen, _("out of memory"));
		goto fail;
	}
	/* The SMTP layer ends the data with CRLF.CRLF: no final CRLF here. */
	if (b.len >= 2)
		b.len -= 2;
	m->data = b.p;
	m->len = b.len;
	return 0;
fail:
	free(b.p);
	outgoing_free(m);
	return -1;
}

void
outgoing_free(struct outgoing *m)
{
	size_t i;

	for (i = 0; i < m->nrcpt; i++)
		free(m->rcpt[i]);
	free(m->rcpt);
	free(m->data);
	memset(m, 0, sizeof(*m));
}
