/* The JSON of authorization servers through jansson, strictly: one object,
 * bounded size and depth, no duplicate keys, each member's type checked.
 * jansson's allocator is replaced by one that wipes what it frees, so the
 * token strings it held while parsing do not linger in the heap. */
#include "config.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "oauth_int.h"
#include "secmem.h"
#include "util.h"

struct oj {
	json_t *root;
};

/* Each block carries its size in front, to wipe it all on free. */
union oj_head {
	size_t n;
	max_align_t align;
};

static void *
oj_malloc(size_t n)
{
	union oj_head *h;

	if (n > OJ_MAX_BYTES * 4)
		return NULL;
	h = malloc(sizeof(*h) + n);
	if (h == NULL)
		return NULL;
	h->n = n;
	return h + 1;
}

static void
oj_release(void *p)
{
	union oj_head *h;

	if (p == NULL)
		return;
	h = (union oj_head *)p - 1;
	secmem_wipe(h + 1, h->n);
	free(h);
}

static pthread_once_t oj_once = PTHREAD_ONCE_INIT;

static void
oj_init(void)
{
	json_set_alloc_funcs(oj_malloc, oj_release);
}

/* Nesting depth outside strings; jansson's own limit is far higher. */
static bool
depth_ok(const char *s, size_t len)
{
	int depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '{' || c == '[') {
			if (++depth > OJ_MAX_DEPTH)
				return false;
		} else if (c == '}' || c == ']')
			depth--;
	}
	return true;
}

struct oj *
oj_parse(const char *buf, size_t len)
{
	json_error_t jerr;
	struct oj *o;
	json_t *root;

	pthread_once(&oj_once, oj_init);
	if (buf == NULL || len == 0 || len > OJ_MAX_BYTES || !depth_ok(buf, len))
		return NULL;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return NULL;
	if (!json_is_object(root) || (o = malloc(sizeof(*o))) == NULL) {
		json_decref(root);
		return NULL;
	}
	o->root = root;
	return o;
}

void
oj_free(struct oj *o)
{
	if (o == NULL)
		return;
	json_decref(o->root);
	free(o);
}

static const char *
member_string(const struct oj *o, const char *key, size_t *len, int *rc)
{
	json_t *v = json_object_get(o->root, key);

	*rc = 0;
	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*rc = -1;
		return NULL;
	}
	*len = json_string_length(v);
	*rc = 1;
	return json_string_value(v);
}

int
oj_str(const struct oj *o, const char *key, char *out, size_t outlen)
{
	size_t len = 0;
	int rc;
	const char *s = member_string(o, key, &len, &rc);

	out[0] = '\0';
	if (rc != 1)
		return rc;
	if (len >= outlen || memchr(s, '\0', len))
		return -1;
	str_sanitize(out, outlen, s, len);
	return 1;
}

int
oj_secret(const struct oj *o, const char *key, char *out, size_t outlen)
{
	size_t len = 0;
	int rc;
	const char *s = member_string(o, key, &len, &rc);

	out[0] = '\0';
	if (rc != 1)
		return rc;
	if (len == 0 || len >= outlen)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return -1;
	memcpy(out, s, len);
	out[len] = '\0';
	return 1;
}

int
oj_int(const struct oj *o, const char *key, int64_t min, int64_t max,
       int64_t *out)
{
	json_t *v = json_object_get(o->root, key);
	int64_t n = 0;

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		n = (int64_t)json_integer_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);

		if (len == 0 || len > 12)
			return -1;
		for (size_t i = 0; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			n = n * 10 + (s[i] - '0');
		}
	} else {
		return -1;
	}
	if (n < min || n > max)
		return -1;
	*out = n;
	return 1;
}
