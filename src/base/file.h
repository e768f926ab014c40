/* Reading the small files the program trusts (a CA file, a user preset):
 * what decides whom we trust must be a regular file that only its user or
 * root can change. No library but libc. */
#ifndef FLUENZR_FILE_H
#define FLUENZR_FILE_H

#include <stddef.h>

#define FILE_CA_MAX      ((size_t)1 << 20)   /* a CA bundle: 1 MiB */
#define FILE_WHY_MAX     512

/* Reads path whole, at most max bytes, and only when it is safe to trust:
 * a regular file (a FIFO, device, directory or symbolic link is refused
 * without blocking: it is opened O_NONBLOCK|O_NOFOLLOW and checked with
 * fstat), owned by the effective user or root, not writable by group or
 * others, in a directory that no one else can write to (unless sticky).
 * Returns a malloc'd buffer, NUL-terminated, its length in *len; or NULL
 * with why filled with a sentence that says what is wrong and, when a
 * command fixes it, which (the path is quoted and sanitised). */
char *file_read_checked(const char *path, size_t max, size_t *len,
                        char *why, size_t whylen);

#endif
