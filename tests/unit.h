/* What the C test programs share. The unit tests' one way to report:
 * check() prints "ok: WHAT" or "FAIL: WHAT" and counts; unit_done() prints
 * "N passed, M failed" and gives main() its exit status (1 when anything
 * failed). */
#ifndef FLUENZR_TESTS_UNIT_H
#define FLUENZR_TESTS_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int unit_done(void);

/* A whole file in a malloc'ed buffer (*len its size), or NULL if it cannot
 * be opened; aborts when out of memory. */
uint8_t *slurp(const char *p, size_t *len);

#endif
