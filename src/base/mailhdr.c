/* Authentication-Results, DKIM-Signature and Received of a received
 * message, read from hostile bytes: fields are unfolded into a bounded
 * buffer, comments are blanked in place (so positions still match the
 * original), and every value kept passes a character whitelist or is
 * dropped. */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mailhdr.h"
#include "util.h"

#define BY_MAX   16      /* "by" hosts of the Received fields seen so far */
#define SIG_MAX  8       /* DKIM-Signatures kept to choose from */

struct sig {
	char d[MAILHDR_DOMAIN_MAX + 1];
	char s[64];
	char a[32];
};

struct pstate {
	struct mailhdr_auth *out;
	mailhdr_org_fn org;
	char recv_org[MAILHDR_DOMAIN_MAX + 1];
	bool recv_microsoft;
	char by_org[BY_MAX][MAILHDR_DOMAIN_MAX + 1];
	size_t nby;
	bool seen_ar;
	bool seen_from;
	struct sig sigs[SIG_MAX];
	size_t nsigs;
};

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Copies n bytes of src to dst lowercased if every one is in the set
 * (alphanumerics plus extra); else dst is "". */
static void
copy_token(char *dst, size_t cap, const char *src, size_t n, const char *extra,
           bool lower)
{
	dst[0] = '\0';
	if (n == 0 || n >= cap)
		return;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		if (!(c < 0x80 && (isalnum(c) || (c && strchr(extra, c)))))
			return;
	}
	for (size_t i = 0; i < n; i++)
		dst[i] = lower ? (char)tolower((unsigned char)src[i]) : src[i];
	dst[n] = '\0';
}

static void
copy_domain(char *dst, size_t cap, const char *src, size_t n)
{
	while (n && src[n - 1] == '.')
		n--;
	copy_token(dst, cap, src, n, ".-_", true);
}

static bool
same_org(const struct pstate *st, const char *a, const char *b)
{
	char oa[MAILHDR_DOMAIN_MAX + 1], ob[MAILHDR_DOMAIN_MAX + 1];

	st->org(a, oa, sizeof oa);
	st->org(b, ob, sizeof ob);
	return oa[0] && strcmp(oa, ob) == 0;
}

/* Blanks comments (nested, with quoted pairs) in place; quoted strings
 * stay. */
static void
blank_comments(char *s)
{
	int depth = 0;
	bool quoted = false;

	for (; *s; s++) {
		if (*s == '\\' && s[1] && (depth || quoted)) {
			if (depth)
				s[0] = s[1] = ' ';
			s++;
			continue;
		}
		if (!depth && *s == '"') {
			quoted = !quoted;
			continue;
		}
		if (quoted)
			continue;
		if (*s == '(') {
			depth++;
			*s = ' ';
		} else if (*s == ')' && depth) {
			depth--;
			*s = ' ';
		} else if (depth) {
			*s = ' ';
		}
	}
}

/* The next whitespace-separated token of *p (advanced); its length, 0 at
 * the end. */
static size_t
next_token(const char **p, const char **tok)
{
	const char *s = *p;
	size_t n = 0;

	while (*s && (is_wsp(*s) || *s == '\r' || *s == '\n'))
		s++;
	*tok = s;
	while (s[n] && !is_wsp(s[n]) && s[n] != '\r' && s[n] != '\n')
		n++;
	*p = s + n;
	return n;
}

/* The domain of the last address in an address-ish value: after the last
 * '@', up to '>' or the end of the token. */
static void
addr_domain(const char *v, size_t n, char *out, size_t outlen)
{
	const char *at = NULL;
	size_t k;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (v[i] == '@')
			at = v + i;
	if (!at)
		return;
	at++;
	for (k = 0; at + k < v + n && at[k] != '>' && !is_wsp(at[k]) &&
	     at[k] != '"' && at[k] != ';' && at[k] != ','; k++)
		;
	copy_domain(out, outlen, at, k);
}

static void
do_from(struct pstate *st, char *v)
{
	const char *lt;

	if (st->seen_from)
		return;
	st->seen_from = true;
	blank_comments(v);
	/* The angle-addr when there is one, else the whole value. */
	lt = strrchr(v, '<');
	if (lt) {
		const char *gt = strchr(lt, '>');

		addr_domain(lt + 1, gt ? (size_t)(gt - lt - 1) : strlen(lt + 1),
		            st->out->from_domain, sizeof st->out->from_domain);
	} else {
		addr_domain(v, strlen(v), st->out->from_domain,
		            sizeof st->out->from_domain);
	}
}

static bool
valid_ip(const char *s, size_t n)
{
	bool dot = false, colon = false;

	if (n < 2 || n > 45)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.')
			dot = true;
		else if (s[i] == ':')
			colon = true;
		else if (!isxdigit((unsigned char)s[i]))
			return false;
	}
	return dot || colon;
}

/* The first address literal [IP] (or [IPv6:IP]) in s[0..n). */
static bool
find_ip(const char *s, size_t n, char *out, size_t outlen)
{
	for (size_t i = 0; i < n; i++) {
		const char *b, *e;

		if (s[i] != '[')
			continue;
		b = s + i + 1;
		e = memchr(b, ']', n - (size_t)(b - s));
		if (!e)
			return false;
		if ((size_t)(e - b) > 5 && strncasecmp(b, "IPv6:", 5) == 0)
			b += 5;
		if (valid_ip(b, (size_t)(e - b))) {
			copy_token(out, outlen, b, (size_t)(e - b), ".:", true);
			return out[0] != '\0';
		}
	}
	return false;
}

static void
do_received(struct pstate *st, char *v)
{
	struct mailhdr_auth *o = st->out;
	char *top = strdup(v);
	const char *p, *tok, *from_at = NULL, *by_at = NULL;
	char from_host[MAILHDR_DOMAIN_MAX + 1] = "", by_host[MAILHDR_DOMAIN_MAX + 1] = "";
	char ip[64] = "";
	size_t n;

	o->nreceived++;
	if (!top)
		return;
	blank_comments(top);
	/* Only "from" and "by" matter; they come first in a trace field. */
	for (p = top; (n = next_token(&p, &tok)) > 0;) {
		if (n == 4 && strncasecmp(tok, "from", 4) == 0 && !from_at && !by_at) {
			from_at = tok;
			n = next_token(&p, &tok);
			copy_domain(from_host, sizeof from_host, tok, n);
		} else if (n == 2 && strncasecmp(tok, "by", 2) == 0 && !by_at) {
			by_at = tok;
			n = next_token(&p, &tok);
			copy_domain(by_host, sizeof by_host, tok, n);
			break;
		}
	}
	if (from_at) {
		/* The literal may be in the clause or in its comment: look in
		 * the original, which the blanked copy mirrors byte for byte. */
		size_t b = (size_t)(from_at - top);
		size_t e = by_at ? (size_t)(by_at - top) : strlen(top);

		find_ip(v + b, e - b, ip, sizeof ip);
	}
	/* The first hop, from the top, that came from outside the receiving
	 * side: an internal hop names the same organisation on both ends. */
	if (!o->relay_ip[0] && ip[0] &&
	    !(from_host[0] && by_host[0] && same_org(st, from_host, by_host))) {
		str_copy(o->relay_ip, sizeof o->relay_ip, ip);
		str_copy(o->relay_host, sizeof o->relay_host, from_host);
	}
	if (by_host[0] && st->nby < BY_MAX)
		st->org(by_host, st->by_org[st->nby++], MAILHDR_DOMAIN_MAX + 1);
	free(top);
}

/* One resinfo of an A-R ("dkim=pass header.d=example.com"), its '=' and
 * '.' already freed of surrounding space. */
static void
ar_resinfo(struct mailhdr_auth *o, const char *r, bool *dkim_pass)
{
	const char *p = r, *tok, *eq;
	char method[16], result[MAILHDR_VERDICT_MAX];
	size_t n = next_token(&p, &tok), ml;

	if (!n || !(eq = memchr(tok, '=', n)))
		return;
	ml = (size_t)(eq - tok);
	if (memchr(tok, '/', ml))          /* method/version */
		ml = (size_t)((const char *)memchr(tok, '/', ml) - tok);
	copy_token(method, sizeof method, tok, ml, "-_", true);
	copy_token(result, sizeof result, eq + 1, n - (size_t)(eq + 1 - tok), "", true);
	if (!method[0] || !result[0])
		return;
	if (strcmp(method, "spf") == 0 && !o->spf[0]) {
		str_copy(o->spf, sizeof o->spf, result);
		while ((n = next_token(&p, &tok)) > 0)
			if (n > 14 && strncasecmp(tok, "smtp.mailfrom=", 14) == 0) {
				if (memchr(tok, '@', n))
					addr_domain(tok + 14, n - 14, o->ar_mailfrom,
					            sizeof o->ar_mailfrom);
				else
					copy_domain(o->ar_mailfrom, sizeof o->ar_mailfrom,
					            tok + 14, n - 14);
			}
	} else if (strcmp(method, "dkim") == 0 && !*dkim_pass) {
		/* A passing signature tells more than a failed one before it. */
		*dkim_pass = strcmp(result, "pass") == 0;
		str_copy(o->dkim, sizeof o->dkim, result);
		o->ar_dkim_d[0] = '\0';
		while ((n = next_token(&p, &tok)) > 0) {
			if (n > 9 && strncasecmp(tok, "header.d=", 9) == 0)
				copy_domain(o->ar_dkim_d, sizeof o->ar_dkim_d, tok + 9, n - 9);
			else if (n > 9 && strncasecmp(tok, "header.i=", 9) == 0 &&
			         !o->ar_dkim_d[0])
				addr_domain(tok + 9, n - 9, o->ar_dkim_d, sizeof o->ar_dkim_d);
		}
	} else if (strcmp(method, "dmarc") == 0 && !o->dmarc[0]) {
		str_copy(o->dmarc, sizeof o->dmarc, result);
	}
}

/* Removes white space around '=' and '.' and unquotes values, so that
 * "dkim = pass header . d = \"x\"" reads as "dkim=pass header.d=x". */
static void
ar_normalise(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r == '"')
			continue;
		if (is_wsp(*r)) {
			char *q = r;

			while (is_wsp(*q))
				q++;
			if (*q == '=' || *q == '.' || (w > s && (w[-1] == '=' || w[-1] == '.'))) {
				r = q - 1;
				continue;
			}
		}
		*w++ = *r;
	}
	*w = '\0';
}

static bool
microsoft(const char *org)
{
	static const char *const ms[] = {
		"outlook.com", "office365.com", "hotmail.com", "live.com",
		"microsoft.com",
	};

	for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
		if (strcmp(org, ms[i]) == 0)
			return true;
	return false;
}

static void
do_ar(struct pstate *st, char *v)
{
	struct mailhdr_auth *o = st->out;
	char id[MAILHDR_DOMAIN_MAX + 1] = "", org[MAILHDR_DOMAIN_MAX + 1];
	char *seg, *save = NULL;
	const char *p, *tok;
	bool trusted = false, dkim_pass = false, first = true;
	size_t n;

	if (st->seen_ar) {
		o->ar_ignored++;
		return;
	}
	st->seen_ar = true;
	blank_comments(v);
	ar_normalise(v);
	p = v;
	n = next_token(&p, &tok);
	if (n && memchr(tok, ';', n))
		n = (size_t)((const char *)memchr(tok, ';', n) - tok);
	if (n && !memchr(tok, '=', n)) {
		copy_domain(id, sizeof id, tok, n);
		st->org(id, org, sizeof org);
		trusted = org[0] && strcmp(org, st->recv_org) == 0;
		for (size_t i = 0; !trusted && org[0] && i < st->nby; i++)
			trusted = strcmp(org, st->by_org[i]) == 0;
	} else if (n) {
		trusted = st->recv_microsoft;
	}
	if (!trusted) {
		o->ar_ignored++;
		return;
	}
	o->ar_found = true;
	str_copy(o->ar_authserv, sizeof o->ar_authserv, id);
	for (seg = strtok_r(v, ";", &save); seg; seg = strtok_r(NULL, ";", &save)) {
		/* The first segment is the authserv-id unless there was none. */
		if (first) {
			first = false;
			if (id[0])
				continue;
		}
		ar_resinfo(o, seg, &dkim_pass);
	}
}

/* The tag list of a DKIM-Signature: d=, s=, a=. */
static void
do_dkim_sig(struct pstate *st, char *v)
{
	struct sig g;
	char *seg, *save = NULL;

	st->out->dkim_sigs++;
	if (st->nsigs >= SIG_MAX)
		return;
	memset(&g, 0, sizeof g);
	for (seg = strtok_r(v, ";", &save); seg; seg = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(seg, '='), *b, *e;

		if (!eq)
			continue;
		for (b = seg; is_wsp(*b) || *b == '\r' || *b == '\n'; b++)
			;
		for (e = eq; e > b && is_wsp(e[-1]); e--)
			;
		if (e - b != 1)
			continue;
		/* The value without any white space (it may be folded). */
		{
			char val[MAILHDR_DOMAIN_MAX + 1];
			size_t k = 0;

			bool over = false;

			for (char *r = eq + 1; *r; r++) {
				if (is_wsp(*r) || *r == '\r' || *r == '\n')
					continue;
				if (k == sizeof val - 1) {
					over = true;
					break;
				}
				val[k++] = *r;
			}
			if (over)
				continue;      /* too long to be what it claims */
			val[k] = '\0';
			if (*b == 'd')
				copy_domain(g.d, sizeof g.d, val, k);
			else if (*b == 's')
				copy_token(g.s, sizeof g.s, val, k, ".-_", false);
			else if (*b == 'a')
				copy_token(g.a, sizeof g.a, val, k, "-", true);
		}
	}
	if (g.d[0])
		st->sigs[st->nsigs++] = g;
}

static void
field(struct pstate *st, const char *name, size_t nlen, char *v)
{
#define IS(s) (nlen == sizeof(s) - 1 && strncasecmp(name, s, nlen) == 0)
	if (IS("From"))
		do_from(st, v);
	else if (IS("Received"))
		do_received(st, v);
	else if (IS("Authentication-Results"))
		do_ar(st, v);
	else if (IS("DKIM-Signature"))
		do_dkim_sig(st, v);
#undef IS
}

static void
choose_sig(struct pstate *st)
{
	struct mailhdr_auth *o = st->out;
	const struct sig *g = NULL;

	for (size_t i = 0; i < st->nsigs && !g; i++)
		if (o->from_domain[0] && same_org(st, st->sigs[i].d, o->from_domain))
			g = &st->sigs[i];
	if (!g && st->nsigs)
		g = &st->sigs[0];
	if (!g)
		return;
	o->dkim_sig = true;
	str_copy(o->sig_d, sizeof o->sig_d, g->d);
	str_copy(o->sig_s, sizeof o->sig_s, g->s);
	str_copy(o->sig_a, sizeof o->sig_a, g->a);
	if (o->from_domain[0]) {
		o->aligned_strict = strcmp(g->d, o->from_domain) == 0;
		o->aligned_relaxed = same_org(st, g->d, o->from_domain);
	}
}

/* Moves *i past the line starting there (LF or CRLF, or the end); returns
 * where its text ends. */
static size_t
next_line(const char *msg, size_t len, size_t *i)
{
	size_t s = *i, e;

	while (*i < len && msg[*i] != '\n')
		(*i)++;
	e = *i;
	if (e > s && msg[e - 1] == '\r')
		e--;
	if (*i < len)
		(*i)++;
	return e;
}

void
mailhdr_auth_parse(const char *msg, size_t len, const char *receiver,
                   mailhdr_org_fn org, struct mailhdr_auth *out)
{
	struct pstate *st = calloc(1, sizeof *st);
	char *buf = malloc(MAILHDR_FIELD_MAX + 1);
	size_t i = 0, nfields = 0;

	memset(out, 0, sizeof *out);
	out->aligned_relaxed = out->aligned_strict = -1;
	if (!st || !buf || !msg || !org) {
		free(st);
		free(buf);
		return;
	}
	st->out = out;
	st->org = org;
	st->org(receiver ? receiver : "", st->recv_org, sizeof st->recv_org);
	st->recv_microsoft = microsoft(st->recv_org);
	while (i < len && nfields < MAILHDR_FIELDS_MAX) {
		size_t ls = i, le = next_line(msg, len, &i), colon, blen = 0, ns, nlen;

		if (le == ls)
			break;             /* an empty line ends the header */
		if (is_wsp(msg[ls]))
			continue;          /* a continuation without a field: skip */
		for (colon = ls; colon < le && msg[colon] != ':'; colon++)
			;
		if (colon == le || colon - ls > 64)
			continue;          /* not a field */
		nfields++;
		ns = ls;
		nlen = colon - ls;
		/* The value and its continuation lines, unfolded. */
		for (size_t k = colon + 1;; ) {
			for (; k < le; k++) {
				if (blen == MAILHDR_FIELD_MAX) {
					out->truncated = true;
					break;
				}
				buf[blen++] = msg[k] == '\0' ? ' ' : msg[k];
			}
			if (i >= len || !is_wsp(msg[i]))
				break;
			k = i;
			le = next_line(msg, len, &i);
		}
		buf[blen] = '\0';
		field(st, msg + ns, nlen, buf);
	}
	choose_sig(st);
	free(buf);
	free(st);
}

void
mailhdr_mutf7_decode(const char *in, char *out, size_t outlen)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
	size_t o = 0;
	const char *s = in;

	if (!outlen)
		return;
	while (*s) {
		if (*s != '&') {
			if (o + 1 >= outlen)
				goto raw;
			out[o++] = *s++;
			continue;
		}
		s++;
		if (*s == '-') {
			if (o + 1 >= outlen)
				goto raw;
			out[o++] = '&';
			s++;
			continue;
		}
		{
			uint32_t bits = 0, hi = 0;
			int nb = 0;

			for (; *s && *s != '-'; s++) {
				const char *c = strchr(b64, *s);
				uint32_t u;

				if (!c || !*c)
					goto raw;
				bits = (bits << 6) | (uint32_t)(c - b64);
				nb += 6;
				if (nb < 16)
					continue;
				nb -= 16;
				u = (bits >> nb) & 0xffff;
				if (u >= 0xd800 && u < 0xdc00) {
					if (hi)
						goto raw;
					hi = u;
					continue;
				}
				if (u >= 0xdc00 && u < 0xe000) {
					if (!hi)
						goto raw;
					u = 0x10000 + ((hi - 0xd800) << 10) + (u - 0xdc00);
					hi = 0;
				} else if (hi) {
					goto raw;
				}
				if (u < 0x20 || u == 0x7f)
					goto raw;
				if (o + 5 >= outlen)
					goto raw;
				if (u < 0x80) {
					out[o++] = (char)u;
				} else if (u < 0x800) {
					out[o++] = (char)(0xc0 | (u >> 6));
					out[o++] = (char)(0x80 | (u & 0x3f));
				} else if (u < 0x10000) {
					out[o++] = (char)(0xe0 | (u >> 12));
					out[o++] = (char)(0x80 | ((u >> 6) & 0x3f));
					out[o++] = (char)(0x80 | (u & 0x3f));
				} else {
					out[o++] = (char)(0xf0 | (u >> 18));
					out[o++] = (char)(0x80 | ((u >> 12) & 0x3f));
					out[o++] = (char)(0x80 | ((u >> 6) & 0x3f));
					out[o++] = (char)(0x80 | (u & 0x3f));
				}
			}
			if (*s != '-' || hi)
				goto raw;
			s++;
		}
	}
	out[o] = '\0';
	return;
raw:
	str_copy(out, outlen, in);
}
