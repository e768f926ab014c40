/* The transcript: every byte the probe sends or receives passes through
 * here, is cut into lines, redacted and sanitised before anyone sees it.
 * Redaction follows the dialogue itself rather than libetpan's
 * SENT_PRIVATE tag, which AUTH LOGIN does not use for its base64 password:
 * every client line from AUTH (SMTP) or LOGIN/AUTHENTICATE (IMAP) on is
 * replaced until the client itself goes on with another command. The
 * server's replies cannot end it: the client acts on replies it may have
 * buffered long before, so a hostile server could slip a final reply in
 * just before the password is sent. The message body is summarised. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probe_int.h"
#include "secmem.h"
#include "util.h"

#define REDACTED "<redacted>"

/* Every line's text goes out through the probe's cleaner: the passwords
 * redacted on the raw bytes, then sanitised (see probe_clean()). */
static void
clean(const struct transcript *t, char *out, size_t outlen, const char *line,
      size_t n, bool cut)
{
	probe_clean(t->redact, out, outlen, line, n, cut);
}

void
transcript_init(struct transcript *t, bool imap, transcript_emit_fn emit,
                void *ud)
{
	memset(t, 0, sizeof(*t));
	t->imap = imap;
	t->emit = emit;
	t->ud = ud;
}

/* Copies the first word of s (up to a space) into w; returns the rest
 * after the spaces, or NULL when there is no further word. */
static const char *
word(const char *s, char *w, size_t wlen)
{
	size_t n = 0;

	while (*s && *s != ' ') {
		if (n + 1 < wlen)
			w[n++] = *s;
		s++;
	}
	if (wlen)
		w[n] = '\0';
	while (*s == ' ')
		s++;
	return *s ? s : NULL;
}

/* The SMTP commands a client sends after AUTH, in capitals as libetpan
 * writes them. A SASL response is base64 (or "*") and never one of these:
 * each decodes to bytes no user name or password may hold (a control
 * character, or invalid UTF-8). */
static bool
smtp_verb(const char *cmd)
{
	static const char *const verbs[] = {
		"MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT", "EHLO",
		"HELO", "STARTTLS", "VRFY", "EXPN", "HELP",
	};

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(cmd, verbs[i]) == 0)
			return true;
	return false;
}

static void
smtp_client_words(struct transcript *t, const char *line, char *out,
                  size_t outlen, char *cmd, size_t cmdlen, char *raw,
                  size_t rawlen)
{
	char mech[32];
	const char *rest;

	rest = word(line, cmd, cmdlen);
	if (t->in_auth && smtp_verb(cmd))
		t->in_auth = false;
	if (strcasecmp(cmd, "AUTH") == 0) {
		t->in_auth = true;
		if (!rest) {
			str_copy(out, outlen, "AUTH");
			return;
		}
		rest = word(rest, raw, rawlen);
		str_sanitize(mech, sizeof(mech), raw, strlen(raw));
		str_printf(out, outlen, "AUTH %s%s", mech, rest ? " " REDACTED : "");
		return;
	}
	if (t->in_auth) {
		str_copy(out, outlen, REDACTED);
		return;
	}
	if (strcasecmp(cmd, "DATA") == 0 && !rest)
		t->data_sent = true;
	clean(t, out, outlen, line, strlen(line), t->ctrunc);
}

/* The words of a line are copied on the stack: a SASL response's first
 * bytes among them. Wiped on the way out. */
static bool
smtp_client_line(struct transcript *t, const char *line, char *out,
                 size_t outlen)
{
	char cmd[16], raw[32];

	smtp_client_words(t, line, out, outlen, cmd, sizeof(cmd), raw, sizeof(raw));
	secmem_wipe(cmd, sizeof(cmd));
	secmem_wipe(raw, sizeof(raw));
	return true;
}

/* Does the line end with a literal's announcement, "{N}" or "{N+}"? Then
 * the command goes on with N bytes on the next line. */
static bool
ends_with_literal(const char *line)
{
	size_t n = strlen(line);

	if (n < 3 || line[n - 1] != '}')
		return false;
	n--;
	if (line[n - 1] == '+')
		n--;
	if (n == 0 || line[n - 1] < '0' || line[n - 1] > '9')
		return false;
	while (n > 0 && line[n - 1] >= '0' && line[n - 1] <= '9')
		n--;
	return n > 0 && line[n - 1] == '{';
}

static bool
imap_client_line(struct transcript *t, const char *line, char *out,
                 size_t outlen)
{
	char rawtag[32], tag[32], cmd[32], raw[32], mech[32];
	const char *rest;

	if (t->in_auth) {
		/* A literal of LOGIN (user name, password) is data whatever it
		 * holds; a SASL response (base64, or "*") has no space, and
		 * every command has one ("TAG COMMAND"). */
		if (t->auth_literal || !strchr(line, ' ')) {
			/* (a cut line may have lost its "{N}") */
			t->auth_literal = t->auth_literal &&
			                  (ends_with_literal(line) || t->ctrunc);
			str_copy(out, outlen, REDACTED);
			return true;
		}
		t->in_auth = false;
	}
	rest = word(line, rawtag, sizeof(rawtag));
	if (rest) {
		rest = word(rest, cmd, sizeof(cmd));
		str_sanitize(tag, sizeof(tag), rawtag, strlen(rawtag));
		if (strcasecmp(cmd, "LOGIN") == 0) {
			t->in_auth = true;
			t->auth_literal = ends_with_literal(line) || t->ctrunc;
			str_printf(out, outlen, "%s LOGIN " REDACTED " " REDACTED, tag);
			return true;
		}
		if (strcasecmp(cmd, "AUTHENTICATE") == 0) {
			t->in_auth = true;
			t->auth_literal = false;
			if (rest)
				rest = word(rest, raw, sizeof(raw));
			else
				raw[0] = '\0';
			str_sanitize(mech, sizeof(mech), raw, strlen(raw));
			str_printf(out, outlen, "%s AUTHENTICATE %s%s", tag, mech,
			           rest ? " " REDACTED : "");
			return true;
		}
	}
	clean(t, out, outlen, line, strlen(line), t->ctrunc);
	return true;
}

bool
transcript_client_line(struct transcript *t, const char *line, char *out,
                       size_t outlen)
{
	if (t->in_body)
		return false;
	return t->imap ? imap_client_line(t, line, out, outlen)
	               : smtp_client_line(t, line, out, outlen);
}

void
transcript_server_line(struct transcript *t, const char *line, size_t n,
                       char *out, size_t outlen)
{
	/* Only the body's start is taken from the server: what ends a login
	 * is the client's next command (see the top of this file). */
	if (!t->imap && n >= 3 && isdigit((unsigned char)line[0]) &&
	    isdigit((unsigned char)line[1]) &&
	    isdigit((unsigned char)line[2]) && line[3] != '-') {
		/* The last line of a reply decides the state. */
		if (t->data_sent) {
			t->data_sent = false;
			if (strncmp(line, "354", 3) == 0) {
				t->in_body = true;
				t->body_bytes = 0;
			}
		}
	}
	clean(t, out, outlen, line, n, t->strunc);
}

static void
finish_client(struct transcript *t, size_t rawlen)
{
	char out[TRANSCRIPT_LINE_MAX];

	t->cbuf[t->clen] = '\0';
	if (t->clen && t->cbuf[t->clen - 1] == '\r')
		t->cbuf[--t->clen] = '\0';
	if (t->in_body) {
		if (strcmp(t->cbuf, ".") == 0) {
			char sum[64];

			str_printf(sum, sizeof(sum), "<message body: %zu bytes>",
			           t->body_bytes);
			t->emit('C', sum, t->ud);
			t->emit('C', ".", t->ud);
			t->in_body = false;
		} else {
			t->body_bytes += rawlen;
		}
	} else if (transcript_client_line(t, t->cbuf, out, sizeof(out))) {
		t->emit('C', out, t->ud);
	}
	/* The line may have been a password or its base64: gone once it
	 * has been redacted. */
	secmem_wipe(t->cbuf, t->clen + 1);
	t->clen = 0;
	t->ctrunc = false;
}

static void
finish_server(struct transcript *t)
{
	char out[TRANSCRIPT_LINE_MAX];

	t->sbuf[t->slen] = '\0';
	if (t->slen && t->sbuf[t->slen - 1] == '\r')
		t->sbuf[--t->slen] = '\0';
	transcript_server_line(t, t->sbuf, t->slen, out, sizeof(out));
	t->emit('S', out, t->ud);
	/* A server may quote the password back. */
	secmem_wipe(t->sbuf, t->slen + 1);
	t->slen = 0;
	t->strunc = false;
}

void
transcript_feed(struct transcript *t, char dir, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < n; i++) {
		if (dir == 'C') {
			/* Bytes of an overlong body line are counted as they
			 * come; the rest when the line ends. */
			if (p[i] == '\n') {
				finish_client(t, t->clen + 1);
				continue;
			}
			if (t->clen + 1 < sizeof(t->cbuf))
				t->cbuf[t->clen++] = (char)p[i];
			else if (t->in_body)
				t->body_bytes++;
			else
				t->ctrunc = true;
		} else {
			if (p[i] == '\n') {
				finish_server(t);
				continue;
			}
			if (t->slen + 1 < sizeof(t->sbuf))
				t->sbuf[t->slen++] = (char)p[i];
			else
				t->strunc = true;
		}
	}
}

void
transcript_flush(struct transcript *t)
{
	if (t->clen)
		finish_client(t, t->clen);
	if (t->slen)
		finish_server(t);
}
