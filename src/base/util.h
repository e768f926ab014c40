/* Small helpers shared by every layer. */
#ifndef FLUENZR_UTIL_H
#define FLUENZR_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copies with truncation reported: 0 if it fit, -1 if truncated. */
int str_copy(char *dst, size_t dstlen, const char *src);
int str_printf(char *dst, size_t dstlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int str_vprintf(char *dst, size_t dstlen, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Replaces control characters (C0, DEL, C1), the bidi and invisible format
 * characters of utf8_invisible() and invalid UTF-8 by '?' so that a
 * server's words can reach a terminal or a log; copies at most dstlen-1
 * bytes and never cuts a character. Returns how many bytes of src it took:
 * less than srclen when dst was too small. */
size_t str_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen);

bool utf8_valid(const char *s, size_t len);
/* The one UTF-8 decoder: the length of the sequence at s (at most len
 * bytes) and its code point in *cp (may be NULL), or 0 when it is not a
 * valid, shortest-form, non-surrogate sequence. */
size_t utf8_decode(const char *s, size_t len, unsigned *cp);
/* Bidi controls (U+202A..U+202E, U+2066..U+2069, U+061C, U+200E/F) and
 * invisible format characters (zero-width ones, U+2028/9, U+FEFF, tags...):
 * text that can reorder or hide what a terminal shows. */
bool utf8_invisible(unsigned cp);
bool utf8_has_invisible(const char *s, size_t len);

/* Monotonic milliseconds. */
int64_t now_ms(void);

/* Reads a password: from fd (to EOF or the first newline), or, when fd < 0,
 * from the terminal without echo after printing prompt on it; an fd that is
 * a terminal is read like the terminal. Returns 0, or
 * -1 with errno (EMSGSIZE: too long, EILSEQ: a NUL byte); buf is wiped on
 * failure. */
int read_secret(int fd, const char *prompt, char *buf, size_t len);

/* Creates every missing directory of path with mode 0700. */
int mkdir_p(const char *path);

/* $XDG_DATA_HOME/fluenzr, $XDG_CONFIG_HOME/fluenzr (with ~ fallbacks). */
int default_store_dir(char *out, size_t len);
int default_config_dir(char *out, size_t len);

#endif
