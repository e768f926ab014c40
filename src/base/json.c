/* Streaming JSON writer. Whatever reaches it (a server's reply, a display
 * name) is escaped, and bytes that are not UTF-8 become U+FFFD, so the output
 * is always valid JSON; C1 controls and bidi or invisible characters are
 * written as \u escapes, never raw. */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "json.h"
#include "out.h"
#include "util.h"

void
json_init(struct json *j, FILE *f, bool pretty)
{
	memset(j, 0, sizeof *j);
	j->f = f;
	j->pretty = pretty;
	j->ascii = out_ascii();
	j->first[0] = true;
}

static void
indent(struct json *j)
{
	int i;

	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* "No item yet" of the innermost scope. Scopes nested deeper than
 * JSON_MAX_DEPTH share the last flag: only the innermost one's is read, and
 * close_scope() restores its parent's (see there), so the depth is counted
 * without limit and the nesting stays right at any depth. */
static bool *
first_item(struct json *j)
{
	return &j->first[j->depth < JSON_MAX_DEPTH ? j->depth
	                                           : JSON_MAX_DEPTH - 1];
}

/* Separator and indentation before a value or a key. */
static void
before_item(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0) {
		if (!*first_item(j))
			fputc(',', j->f);
		indent(j);
	}
	*first_item(j) = false;
}

static void
open_scope(struct json *j, char c)
{
	before_item(j);
	fputc(c, j->f);
	j->depth++;
	*first_item(j) = true;
}

static void
close_scope(struct json *j, char c)
{
	bool empty = *first_item(j);

	if (j->depth > 0)
		j->depth--;
	/* The parent has an item now: the scope just closed. */
	*first_item(j) = false;
	if (!empty)
		indent(j);
	fputc(c, j->f);
}

void json_obj_begin(struct json *j) { open_scope(j, '{'); }
void json_obj_end(struct json *j) { close_scope(j, '}'); }
void json_arr_begin(struct json *j) { open_scope(j, '['); }
void json_arr_end(struct json *j) { close_scope(j, ']'); }

/* Characters a terminal showing the JSON would act on, or that hide or
 * reorder text, go out as \u escapes: the data stays exact, the bytes
 * harmless. In a locale that is not UTF-8 every non-ASCII character does
 * (see out.h). */
static bool
escape_cp(const struct json *j, unsigned cp)
{
	return cp >= 0x80 && (j->ascii || cp < 0xa0 || utf8_invisible(cp));
}

static void
write_string(struct json *j, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;
	unsigned cp;

	fputc('"', j->f);
	while (i < n) {
		unsigned char c = p[i];

		if (c == '"' || c == '\\') {
			fputc('\\', j->f);
			fputc(c, j->f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(j->f, "\\u%04x", c);
			i++;
		} else if (c < 0x80) {
			/* A run of plain ASCII in one write: most of a listing. */
			size_t e = i + 1;

			while (e < n && p[e] >= 0x20 && p[e] < 0x7f && p[e] != '"' &&
			       p[e] != '\\')
				e++;
			fwrite(s + i, 1, e - i, j->f);
			i = e;
		} else if ((k = utf8_decode(s + i, n - i, &cp)) == 0) {
			fputs("\\ufffd", j->f);
			i++;
		} else if (!escape_cp(j, cp)) {
			fwrite(s + i, 1, k, j->f);
			i += k;
		} else if (cp < 0x10000) {
			fprintf(j->f, "\\u%04x", cp);
			i += k;
		} else {
			/* a UTF-16 surrogate pair, as JSON spells it */
			cp -= 0x10000;
			fprintf(j->f, "\\u%04x\\u%04x", 0xd800 + (cp >> 10),
			        0xdc00 + (cp & 0x3ff));
			i += k;
		}
	}
	fputc('"', j->f);
}

void
json_key(struct json *j, const char *k)
{
	before_item(j);
	write_string(j, k, strlen(k));
	fputc(':', j->f);
	if (j->pretty)
		fputc(' ', j->f);
	j->after_key = true;
}

void
json_strn(struct json *j, const char *s, size_t n)
{
	before_item(j);
	write_string(j, s, n);
}

void
json_str(struct json *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	json_strn(j, s, strlen(s));
}

void
json_int(struct json *j, int64_t v)
{
	before_item(j);
	fprintf(j->f, "%" PRId64, v);
}

void
json_bool(struct json *j, bool v)
{
	before_item(j);
	fputs(v ? "true" : "false", j->f);
}

void
json_null(struct json *j)
{
	before_item(j);
	fputs("null", j->f);
}

void
json_end(struct json *j)
{
	fputc('\n', j->f);
}
