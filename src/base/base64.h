/* Base64 (RFC 4648, the standard alphabet, with padding): the one encoder
 * of the program, for SMTP AUTH, the redaction of a password's encoded
 * forms and RFC 2047 encoded-words; and the one decoder, for SASL error
 * replies and DKIM keys. */
#ifndef FLUENZR_BASE64_H
#define FLUENZR_BASE64_H

#include <stddef.h>

/* The room base64_encode() needs for n bytes, the NUL included. */
#define BASE64_LEN(n) ((((n) + 2) / 3) * 4 + 1)

/* Writes the base64 of in[0..n) and a NUL to out; the length written, or
 * 0 (out untouched) when out is shorter than BASE64_LEN(n). */
size_t base64_encode(const unsigned char *in, size_t n, char *out,
                     size_t outlen);
/* Decodes the base64 string s (padding optional) into out with a NUL
 * after it: the length, or -1 when s is not base64 or out is too short. */
long base64_decode(const char *s, unsigned char *out, size_t outlen);

#endif
