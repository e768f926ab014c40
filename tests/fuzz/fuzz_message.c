/* Fuzz target: message_encode_name() on arbitrary display names. The
 * result goes into a From: header, so it may hold no CR or LF but the
 * "CRLF SP" folding between encoded-words, no other control character,
 * each encoded-word is at most 75 characters, and decoding it (RFC 2047 B
 * words, or the quoted-string) gives the name back. */
#include "config.h"

#include <string.h>

#include "account.h"
#include "probe_int.h"
#include "fuzz.h"

static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict base64 (padding required); the decoded length, or -1. */
static long
b64dec(const char *s, size_t n, unsigned char *out)
{
	size_t o = 0;

	if (n % 4 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		int pad = 0;

		for (int k = 0; k < 4; k++) {
			if (s[i + k] == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
			} else if (pad || (v[k] = b64val(s[i + k])) < 0) {
				return -1;
			}
		}
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (pad < 1)
			out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	return (long)o;
}

/* Decodes what message_encode_name() wrote; the decoded length. */
static size_t
decode(const char *enc, unsigned char *out)
{
	size_t n = strlen(enc), o = 0;

	if (strncmp(enc, "=?", 2) != 0) {
		if (enc[0] != '"')
			return strlen(strcpy((char *)out, enc));
		/* quoted-string: qtext and quoted-pairs, closing quote last */
		FUZZ_ASSERT(n >= 2 && enc[n - 1] == '"');
		for (size_t i = 1; i + 1 < n; i++) {
			if (enc[i] == '\\') {
				i++;
				FUZZ_ASSERT(i + 1 < n);
			} else {
				FUZZ_ASSERT(enc[i] != '"');
			}
			out[o++] = (unsigned char)enc[i];
		}
		return o;
	}
	for (const char *w = enc;;) {
		const char *end = strstr(w, "?=");
		size_t wl;
		long d;

		FUZZ_ASSERT(strncmp(w, "=?UTF-8?B?", 10) == 0);
		end = strstr(w + 10, "?=");
		FUZZ_ASSERT(end != NULL);
		wl = (size_t)(end + 2 - w);
		FUZZ_ASSERT(wl <= 75);
		d = b64dec(w + 10, (size_t)(end - (w + 10)), out + o);
		FUZZ_ASSERT(d > 0);
		o += (size_t)d;
		w = end + 2;
		if (*w == '\0')
			break;
		/* words are folded: CRLF SP, nothing else between them */
		FUZZ_ASSERT(strncmp(w, "\r\n ", 3) == 0);
		w += 3;
	}
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[ACCT_NAME_MAX * 3 + 64];
	static unsigned char back[sizeof out];
	char *name;
	size_t n, outlen, dn;

	/* Names as long as the header buffer of message_build() allows, and
	 * smaller buffers that must be refused cleanly. */
	if (size > 0 && data[0] < 0x20) {
		outlen = (size_t)data[0] * 3 + 1;
		data++;
		size--;
	} else {
		outlen = sizeof out;
	}
	name = fuzz_strndup(data, size > 600 ? 600 : size);
	n = strlen(name);
	memset(out, 'x', sizeof out);
	if (message_encode_name(name, out, outlen) != 0) {
		free(name);
		return 0;
	}
	FUZZ_ASSERT(memchr(out, '\0', outlen) != NULL);
	for (size_t i = 0; out[i]; i++) {
		unsigned char c = (unsigned char)out[i];

		if (c == '\r') {
			FUZZ_ASSERT(out[i + 1] == '\n' && out[i + 2] == ' ');
			continue;
		}
		if (c == '\n') {
			FUZZ_ASSERT(i > 0 && out[i - 1] == '\r');
			continue;
		}
		FUZZ_ASSERT(c >= 0x20 && c < 0x7f);   /* 7-bit, no controls */
	}
	dn = decode(out, back);
	FUZZ_ASSERT(dn == n && memcmp(back, name, n) == 0);
	free(name);
	return 0;
}
