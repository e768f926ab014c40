/* Fuzz target: utf8_valid(), str_sanitize() and the JSON writer on arbitrary
 * bytes. utf8_valid() must agree with a reference decoder written from the
 * Unicode table of well-formed byte sequences; str_sanitize() must give
 * short, valid text free of controls and bidi or invisible characters, and
 * keep clean text as it is; a document
 * built from arbitrary strings must parse as strict JSON (RFC 8259), be
 * valid UTF-8, and give back every string (invalid bytes as U+FFFD) and
 * number. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"
#include "fuzz.h"

/* ---- reference UTF-8 (Unicode 15, table 3-7) ---- */

/* Length of the well-formed sequence at s, 0 if there is none. */
static size_t
ref_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c <= 0x7f)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static bool
ref_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if ((k = ref_seq(s + i, n - i)) == 0)
			return false;
		i += k;
	}
	return true;
}

/* What the writer promises for a string: invalid bytes become U+FFFD. */
static size_t
ref_replace(const unsigned char *s, size_t n, char *out)
{
	size_t i = 0, o = 0, k;

	while (i < n) {
		if ((k = ref_seq(s + i, n - i)) == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
		}
	}
	return o;
}

/* ---- a strict JSON reader that checks what it reads ---- */

struct val {
	bool is_str;
	char *s;               /* the string, or the number's text */
	size_t n;
};

struct want {
	struct val v[512];
	size_t n;
};

struct rd {
	const unsigned char *p, *end;
	const struct want *want;
	size_t next;           /* index of the next expected scalar */
	int depth;
};

static void
ws(struct rd *r)
{
	while (r->p < r->end &&
	       (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static bool
lit(struct rd *r, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
		return false;
	r->p += n;
	return true;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
hex4(struct rd *r, unsigned *out)
{
	unsigned v = 0;

	if (r->end - r->p < 4)
		return false;
	for (int i = 0; i < 4; i++) {
		int h = hexval(r->p[i]);

		if (h < 0)
			return false;
		v = v << 4 | (unsigned)h;
	}
	r->p += 4;
	*out = v;
	return true;
}

static size_t
put_cp(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string, decoded into a malloc'ed buffer. */
static bool
string(struct rd *r, char **out, size_t *outn)
{
	char *b = malloc((size_t)(r->end - r->p) * 2 + 8);
	size_t o = 0;

	if (!b)
		abort();
	if (!lit(r, "\""))
		goto bad;
	for (;;) {
		unsigned char c;

		if (r->p >= r->end)
			goto bad;
		c = *r->p++;
		if (c == '"')
			break;
		if (c < 0x20)
			goto bad;
		if (c != '\\') {
			b[o++] = (char)c;
			continue;
		}
		if (r->p >= r->end)
			goto bad;
		c = *r->p++;
		switch (c) {
		case '"': case '\\': case '/': b[o++] = (char)c; break;
		case 'b': b[o++] = '\b'; break;
		case 'f': b[o++] = '\f'; break;
		case 'n': b[o++] = '\n'; break;
		case 'r': b[o++] = '\r'; break;
		case 't': b[o++] = '\t'; break;
		case 'u': {
			unsigned cp, lo;

			if (!hex4(r, &cp))
				goto bad;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				goto bad;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (!lit(r, "\\u") || !hex4(r, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff)
					goto bad;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			o += put_cp(b + o, cp);
			break;
		}
		default:
			goto bad;
		}
	}
	*out = b;
	*outn = o;
	return true;
bad:
	free(b);
	return false;
}

static bool
check_scalar(struct rd *r, bool is_str, const char *s, size_t n)
{
	const struct val *w;

	if (r->next >= r->want->n)
		return false;
	w = &r->want->v[r->next++];
	return w->is_str == is_str && w->n == n && memcmp(w->s, s, n) == 0;
}

static bool value(struct rd *r);

static bool
number(struct rd *r)
{
	const unsigned char *s = r->p;

	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p >= r->end || *r->p < '0' || *r->p > '9')
		return false;
	if (*r->p == '0')
		r->p++;
	else
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	/* the writer writes integers only */
	return check_scalar(r, false, (const char *)s, (size_t)(r->p - s));
}

static bool
value(struct rd *r)
{
	char *s;
	size_t n;
	bool ok;

	ws(r);
	if (r->p >= r->end)
		return false;
	switch (*r->p) {
	case '{':
	case '[': {
		bool obj = *r->p == '{';

		r->p++;
		if (++r->depth > 64)
			return false;
		ws(r);
		if (r->p < r->end && *r->p == (obj ? '}' : ']')) {
			r->p++;
			r->depth--;
			return true;
		}
		for (;;) {
			if (obj) {
				ws(r);
				if (!string(r, &s, &n))
					return false;
				ok = check_scalar(r, true, s, n);
				free(s);
				if (!ok)
					return false;
				ws(r);
				if (!lit(r, ":"))
					return false;
			}
			if (!value(r))
				return false;
			ws(r);
			if (lit(r, ","))
				continue;
			if (lit(r, obj ? "}" : "]"))
				break;
			return false;
		}
		r->depth--;
		return true;
	}
	case '"':
		if (!string(r, &s, &n))
			return false;
		ok = check_scalar(r, true, s, n);
		free(s);
		return ok;
	case 't':
		return lit(r, "true") && check_scalar(r, false, "true", 4);
	case 'f':
		return lit(r, "false") && check_scalar(r, false, "false", 5);
	case 'n':
		return lit(r, "null") && check_scalar(r, false, "null", 4);
	default:
		return number(r);
	}
}

/* ---- the target ---- */

static void
want_add(struct want *w, bool is_str, const char *s, size_t n)
{
	struct val *v;

	FUZZ_ASSERT(w->n < sizeof w->v / sizeof w->v[0]);
	v = &w->v[w->n++];
	v->is_str = is_str;
	v->s = malloc(n * 3 + 1);
	if (!v->s)
		abort();
	if (is_str) {
		v->n = ref_replace((const unsigned char *)s, n, v->s);
	} else {
		memcpy(v->s, s, n);
		v->n = n;
	}
}

static void
check_sanitize(struct fuzz_in *in)
{
	size_t n, dstlen = fuzz_byte(in), want = fuzz_byte(in);
	const uint8_t *src = fuzz_bytes(in, want, &n);
	char *dst = malloc(dstlen ? dstlen : 1);
	size_t o;

	if (!dst)
		abort();
	FUZZ_ASSERT(utf8_valid((const char *)src, n) ==
	            ref_valid(src, n));
	dst[0] = 'x';
	str_sanitize(dst, dstlen, (const char *)src, n);
	if (dstlen == 0) {
		FUZZ_ASSERT(dst[0] == 'x');
		free(dst);
		return;
	}
	FUZZ_ASSERT(memchr(dst, '\0', dstlen) != NULL);
	o = strlen(dst);
	FUZZ_ASSERT(o < dstlen && o <= n);
	FUZZ_ASSERT(ref_valid((const unsigned char *)dst, o));
	FUZZ_ASSERT(!fuzz_has_ctl(dst, o, false));
	FUZZ_ASSERT(!utf8_has_invisible(dst, o));
	/* Clean text that fits comes out as it went in. */
	if (n < dstlen && ref_valid(src, n) && !memchr(src, '\0', n) &&
	    !fuzz_has_ctl((const char *)src, n, false) &&
	    !utf8_has_invisible((const char *)src, n))
		FUZZ_ASSERT(o == n && memcmp(dst, src, n) == 0);
	free(dst);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct want want;
	struct fuzz_in in = { data, size };
	/* Deeper than the writer's JSON_MAX_DEPTH flags, on purpose. */
	bool inobj[JSON_MAX_DEPTH + 8];
	int depth = 0;
	uint8_t mode = fuzz_byte(&in);
	struct json j;
	char *doc = NULL;
	size_t doclen = 0;
	FILE *f;

	check_sanitize(&in);

	f = open_memstream(&doc, &doclen);
	if (!f)
		abort();
	want.n = 0;
	json_init(&j, f, mode & 1);
	/* One top-level container, filled by the script that follows. */
	if (mode & 2) {
		json_obj_begin(&j);
		inobj[0] = true;
	} else {
		json_arr_begin(&j);
		inobj[0] = false;
	}
	depth = 1;
	while (in.n > 0 && want.n < 400) {
		uint8_t op = fuzz_byte(&in);
		size_t n;
		const uint8_t *p;

		if (inobj[depth - 1] && op % 8 != 7) {
			/* a key first: a C string, so up to a NUL */
			char *k;

			p = fuzz_bytes(&in, fuzz_byte(&in), &n);
			k = fuzz_strndup(p, n);
			json_key(&j, k);
			want_add(&want, true, k, strlen(k));
			free(k);
		}
		switch (op % 8) {
		case 0:
		case 1:      /* bytes, NULs included */
			p = fuzz_bytes(&in, fuzz_byte(&in), &n);
			json_strn(&j, (const char *)p, n);
			want_add(&want, true, (const char *)p, n);
			break;
		case 2: {    /* a C string */
			char *s;

			p = fuzz_bytes(&in, fuzz_byte(&in), &n);
			s = fuzz_strndup(p, n);
			json_str(&j, s);
			want_add(&want, true, s, strlen(s));
			free(s);
			break;
		}
		case 3: {
			int64_t v = 0;
			char num[32];

			for (int i = 0; i < 8; i++)
				v = (int64_t)((uint64_t)v << 8 | fuzz_byte(&in));
			json_int(&j, v);
			snprintf(num, sizeof num, "%" PRId64, v);
			want_add(&want, false, num, strlen(num));
			break;
		}
		case 4:
			if (op & 0x80) {
				json_bool(&j, op & 0x40);
				want_add(&want, false, op & 0x40 ? "true" : "false",
				         op & 0x40 ? 4 : 5);
			} else {
				json_null(&j);
				want_add(&want, false, "null", 4);
			}
			break;
		case 5:
		case 6:      /* a nested container */
			if (depth >= (int)(sizeof inobj / sizeof inobj[0])) {
				json_null(&j);
				want_add(&want, false, "null", 4);
				break;
			}
			if (op & 0x80)
				json_obj_begin(&j);
			else
				json_arr_begin(&j);
			inobj[depth++] = op & 0x80;
			break;
		default:     /* close the innermost container */
			if (depth == 1)
				break;
			if (inobj[--depth])
				json_obj_end(&j);
			else
				json_arr_end(&j);
			break;
		}
	}
	while (depth > 0) {
		if (inobj[--depth])
			json_obj_end(&j);
		else
			json_arr_end(&j);
	}
	json_end(&j);
	fclose(f);

	FUZZ_ASSERT(doclen > 0 && doc[doclen - 1] == '\n');
	FUZZ_ASSERT(ref_valid((const unsigned char *)doc, doclen));
	FUZZ_ASSERT(utf8_valid(doc, doclen));
	{
		struct rd r = { (const unsigned char *)doc,
		                (const unsigned char *)doc + doclen, &want, 0, 0 };

		FUZZ_ASSERT(value(&r));
		ws(&r);
		FUZZ_ASSERT(r.p == r.end);
		FUZZ_ASSERT(r.next == want.n);
	}
	free(doc);
	for (size_t i = 0; i < want.n; i++)
		free(want.v[i].s);
	return 0;
}
