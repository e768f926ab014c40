/* What the fuzz targets share: the libFuzzer entry point (also called by the
 * replay driver, replay.c), a check that aborts so that both libFuzzer and
 * `make check` see a broken invariant, and a reader that splits the input
 * into the pieces a structured target needs. */
#ifndef FLUENZR_FUZZ_H
#define FLUENZR_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", \
			        __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* A NUL-terminated copy in a buffer of exactly n + 1 bytes, so that ASan
 * sees any read past the terminator. */
static inline char *
fuzz_strndup(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* Consumes the input front to back; past the end every read gives 0. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t
fuzz_byte(struct fuzz_in *in)
{
	uint8_t b;

	if (in->n == 0)
		return 0;
	b = in->p[0];
	in->p++;
	in->n--;
	return b;
}

/* Up to max bytes (fewer at the end of the input); the count in *len. */
static inline const uint8_t *
fuzz_bytes(struct fuzz_in *in, size_t max, size_t *len)
{
	const uint8_t *p = in->p;
	size_t n = max < in->n ? max : in->n;

	in->p += n;
	in->n -= n;
	*len = n;
	return p;
}

/* Does s hold a control character (C0, DEL, or C1 as UTF-8)? LF is let
 * through when allow_lf. */
static inline bool
fuzz_has_ctl(const char *s, size_t n, bool allow_lf)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' && allow_lf)
			continue;
		if (c < 0x20 || c == 0x7f)
			return true;
		if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return true;
	}
	return false;
}

#endif
