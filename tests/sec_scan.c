/* What an attacker holding a copy of data.mdb and the key file (or a
 * passphrase) can open from it: every byte offset of the file is tried as a
 * sealed key slot and as a sealed password, whether LMDB still uses that
 * page or freed it long ago. For tests/security-residue.sh.
 *
 *   sec_scan DATA.MDB KEYFILE [--pass PASSPHRASE]... [--acct EMAIL]...
 *            [--len N]...
 *
 * Prints one line per find:
 *   slot keyfile          a key-file slot that opens with KEYFILE
 *   slot passphrase P     a passphrase slot that opens with P
 *   secret EMAIL FIELD PW a password that opens with one of those data keys
 *   clearkey              a data key lying in the file unencrypted
 * then "keys N" (distinct data keys recovered). The sealed formats are those
 * of src/store/store.c, restated here on purpose: this is the outside view. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "seal.h"
#include "unit.h"

#define SLOT_LEN   (SEAL_KEY_LEN + SEAL_OVERHEAD)
#define MAX_KEYS   16
#define MAX_ARGS   16

static uint8_t keys[MAX_KEYS][SEAL_KEY_LEN];
static int nkeys;

static void
add_key(const uint8_t *k)
{
	for (int i = 0; i < nkeys; i++)
		if (memcmp(keys[i], k, SEAL_KEY_LEN) == 0)
			return;
	if (nkeys < MAX_KEYS)
		memcpy(keys[nkeys++], k, SEAL_KEY_LEN);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "fluenzr-store-key v1\n" then 64 hex digits. */
static int
read_keyfile(const char *p, uint8_t out[SEAL_KEY_LEN])
{
	static const char hdr[] = "fluenzr-store-key v1\n";
	size_t n;
	uint8_t *b = slurp(p, &n);
	int ok = b && n >= sizeof(hdr) - 1 + 64 && memcmp(b, hdr, sizeof(hdr) - 1) == 0;

	for (int i = 0; ok && i < SEAL_KEY_LEN; i++) {
		int hi = hexval(b[sizeof(hdr) - 1 + 2 * i]), lo = hexval(b[sizeof(hdr) + 2 * i]);

		ok = hi >= 0 && lo >= 0;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	free(b);
	return ok ? 0 : -1;
}

static void
scan_keyfile_slots(const uint8_t *d, size_t n, const uint8_t *kf)
{
	static const char aad[] = "fluenzr-slot-keyfile-v1";
	uint8_t dk[SEAL_KEY_LEN];

	for (size_t o = 0; o + SLOT_LEN <= n; o++) {
		if (d[o] != SEAL_VERSION)
			continue;
		if (unseal(kf, aad, sizeof(aad) - 1, d + o, SLOT_LEN, dk, sizeof(dk))
		    == SEAL_KEY_LEN) {
			printf("slot keyfile\n");
			add_key(dk);
		}
	}
}

/* iterations (4, big-endian) | salt (16) | sealed data key; the AAD is
 * "fluenzr-slot-passphrase-v1" | iterations | salt. */
static void
scan_pass_slots(const uint8_t *d, size_t n, const char *pass)
{
	static const char tag[] = "fluenzr-slot-passphrase-v1";
	uint8_t aad[sizeof(tag) - 1 + 4 + PBKDF2_SALT_LEN], kek[SEAL_KEY_LEN];
	uint8_t dk[SEAL_KEY_LEN];

	for (size_t o = 0; o + 4 + PBKDF2_SALT_LEN + SLOT_LEN <= n; o++) {
		uint32_t it = (uint32_t)d[o] << 24 | (uint32_t)d[o + 1] << 16 |
		              (uint32_t)d[o + 2] << 8 | d[o + 3];

		if (it < PBKDF2_MIN_ITER || it > 4 * PBKDF2_MIN_ITER ||
		    d[o + 4 + PBKDF2_SALT_LEN] != SEAL_VERSION)
			continue;
		memcpy(aad, tag, sizeof(tag) - 1);
		memcpy(aad + sizeof(tag) - 1, d + o, 4 + PBKDF2_SALT_LEN);
		if (pbkdf2_sha256(pass, strlen(pass), d + o + 4, PBKDF2_SALT_LEN, it,
		                  kek, sizeof(kek)) < 0)
			continue;
		if (unseal(kek, aad, sizeof(aad), d + o + 4 + PBKDF2_SALT_LEN, SLOT_LEN,
		           dk, sizeof(dk)) == SEAL_KEY_LEN) {
			printf("slot passphrase %s\n", pass);
			add_key(dk);
		}
	}
}

static void
scan_secrets(const uint8_t *d, size_t n, const char *email, const size_t *lens,
             int nlens)
{
	static const char *fields[2] = { "smtp", "imap" };
	char akey[ACCT_EMAIL_MAX + 1];
	uint8_t aad[ACCT_EMAIL_MAX + 12];
	char pw[ACCT_SECRET_MAX + 1];
	size_t alen;

	if (account_key(email, akey, sizeof(akey)) < 0)
		return;
	alen = strlen(akey);
	/* STORE_FORMAT | account key | NUL | field | generation; the value
	 * is the generation (8 bytes, big-endian) then the sealed blob. */
	aad[0] = 2;
	memcpy(aad + 1, akey, alen);
	aad[1 + alen] = 0;
	for (size_t o = 8; o < n; o++) {
		if (d[o] != SEAL_VERSION)
			continue;
		memcpy(aad + 3 + alen, d + o - 8, 8);
		for (int l = 0; l < nlens; l++) {
			size_t bl = lens[l] + SEAL_OVERHEAD;

			if (o + bl > n)
				continue;
			for (int f = 0; f < 2; f++) {
				aad[2 + alen] = (uint8_t)f;
				for (int k = 0; k < nkeys; k++) {
					long got = unseal(keys[k], aad, alen + 11, d + o, bl,
					                  (uint8_t *)pw, sizeof(pw) - 1);

					if (got >= 0) {
						pw[got] = '\0';
						printf("secret %s %s %s\n", email, fields[f], pw);
					}
				}
			}
		}
	}
}

int
main(int argc, char **argv)
{
	const char *pass[MAX_ARGS], *acct[MAX_ARGS];
	size_t lens[MAX_ARGS];
	int npass = 0, nacct = 0, nlens = 0;
	uint8_t kf[SEAL_KEY_LEN], *d;
	size_t n;

	if (argc < 3) {
		fprintf(stderr, "usage: sec_scan DATA.MDB KEYFILE [--pass P]... "
		        "[--acct EMAIL]... [--len N]...\n");
		return 2;
	}
	for (int i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--pass") == 0 && npass < MAX_ARGS)
			pass[npass++] = argv[i + 1];
		else if (strcmp(argv[i], "--acct") == 0 && nacct < MAX_ARGS)
			acct[nacct++] = argv[i + 1];
		else if (strcmp(argv[i], "--len") == 0 && nlens < MAX_ARGS)
			lens[nlens++] = strtoul(argv[i + 1], NULL, 10);
		else
			return 2;
	}
	d = slurp(argv[1], &n);
	if (d == NULL) {
		perror(argv[1]);
		return 2;
	}
	/* A missing key file is a case too: only passphrases then. */
	if (read_keyfile(argv[2], kf) == 0)
		scan_keyfile_slots(d, n, kf);
	for (int i = 0; i < npass; i++)
		scan_pass_slots(d, n, pass[i]);
	for (int i = 0; i < nacct; i++)
		scan_secrets(d, n, acct[i], lens, nlens);
	for (int k = 0; k < nkeys; k++)
		if (memmem(d, n, keys[k], SEAL_KEY_LEN))
			printf("clearkey\n");
	printf("keys %d\n", nkeys);
	free(d);
	return 0;
}
