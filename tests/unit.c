/* See unit.h. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "util.h"

static int passed, failed;

void
check(bool ok, const char *fmt, ...)
{
	va_list ap;
	char what[1024], safe[1024];

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	/* Descriptions may hold the bytes under test: keep the log printable. */
	str_sanitize(safe, sizeof safe, what, strlen(what));
	printf("%s: %s\n", ok ? "ok" : "FAIL", safe);
	/* Some tests fork: nothing may sit in the buffer for a child to copy. */
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
}

int
unit_done(void)
{
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

uint8_t *
slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, got;

	*len = 0;
	if (f == NULL)
		return NULL;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (buf == NULL)
				abort();
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	*len = n;
	return buf;
}
