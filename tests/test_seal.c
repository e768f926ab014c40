/* Known-answer and tamper tests for src/store/seal.c. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seal.h"
#include "secmem.h"
#include "unit.h"

static size_t
unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;

	while (s[0] && s[1] && n < max) {
		unsigned v;

		if (sscanf(s, "%2x", &v) != 1)
			abort();
		out[n++] = (uint8_t)v;
		s += 2;
	}
	if (*s)
		abort();        /* vector longer than its buffer: a test bug */
	return n;
}

/* The GCM specification's test cases 13-16 (McGrew & Viega), 256-bit key. */
struct gcm_vec {
	const char *name, *key, *iv, *pt, *aad, *ct, *tag;
};

static const struct gcm_vec gcm_vecs[] = {
	{ "GCM test case 13 (empty)",
	  "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "", "", "",
	  "530f8afbc74536b9a963b4f1c4cb738b" },
	{ "GCM test case 14",
	  "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "00000000000000000000000000000000", "",
	  "cea7403d4d606b6e074ec5d3baf39d18",
	  "d0d1c8a799996bf0265b98b5d48ab919" },
	{ "GCM test case 15",
	  "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	  "cafebabefacedbaddecaf888",
	  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
	  "",
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
	  "b094dac5d93471bdec1a502270e3cc6c" },
	{ "GCM test case 16 (with AAD)",
	  "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	  "cafebabefacedbaddecaf888",
	  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	  "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	  "76fc6ece0f4e1768cddf8853bb2d551b" },
};

static void
test_gcm_vectors(void)
{
	for (size_t i = 0; i < sizeof(gcm_vecs) / sizeof(gcm_vecs[0]); i++) {
		const struct gcm_vec *v = &gcm_vecs[i];
		uint8_t key[32], iv[12], pt[64], aad[32], ct[64], tag[16];
		uint8_t out[64], outtag[16];
		size_t kl = unhex(v->key, key, sizeof(key)), ivl = unhex(v->iv, iv, sizeof(iv));
		size_t pl = unhex(v->pt, pt, sizeof(pt)), al = unhex(v->aad, aad, sizeof(aad));
		size_t cl = unhex(v->ct, ct, sizeof(ct));
		char what[128];
		int rc;

		unhex(v->tag, tag, sizeof(tag));
		memset(out, 0xaa, sizeof(out));
		rc = gcm_encrypt(key, kl, iv, ivl, al ? aad : NULL, al, pl ? pt : NULL, pl,
		                 out, outtag, sizeof(outtag));
		snprintf(what, sizeof(what), "%s: ciphertext", v->name);
		check(rc == 0 && cl == pl && memcmp(out, ct, cl) == 0, "%s", what);
		snprintf(what, sizeof(what), "%s: tag", v->name);
		check(rc == 0 && memcmp(outtag, tag, 16) == 0, "%s", what);
	}
}

static void
test_gcm_guards(void)
{
	uint8_t key[32] = { 0 }, iv[12] = { 0 }, out[16], tag[16];
	uint8_t pt[16] = { 0 };

	/* GnuTLS would run AES-128 with a 16-byte key under AES_256_GCM. */
	check(gcm_encrypt(key, 16, iv, 12, NULL, 0, pt, 16, out, tag, 16) == -1,
	      "gcm_encrypt rejects a 16-byte key");
	check(gcm_encrypt(key, 24, iv, 12, NULL, 0, pt, 16, out, tag, 16) == -1,
	      "gcm_encrypt rejects a 24-byte key");
	check(gcm_encrypt(key, 32, iv, 8, NULL, 0, pt, 16, out, tag, 16) == -1,
	      "gcm_encrypt rejects an 8-byte nonce");
	check(gcm_encrypt(key, 32, iv, 12, NULL, 0, pt, 16, out, tag, 12) == -1,
	      "gcm_encrypt rejects a 12-byte tag");
	check(gcm_encrypt(key, 32, iv, 12, NULL, 0, pt, 16, out, tag, 16) == 0,
	      "gcm_encrypt accepts the right lengths");
}

/* RFC 7914 section 11: PBKDF2-HMAC-SHA256 test vectors. */
static void
test_pbkdf2(void)
{
	uint8_t want[64], out[64];

	unhex("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
	      "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783",
	      want, sizeof(want));
	check(pbkdf2_sha256("passwd", 6, (const uint8_t *)"salt", 4, 1, out, 64) == 0 &&
	      memcmp(out, want, 64) == 0, "PBKDF2 RFC 7914 vector, c=1");

	unhex("4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
	      "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d",
	      want, sizeof(want));
	check(pbkdf2_sha256("Password", 8, (const uint8_t *)"NaCl", 4, 80000, out, 64) == 0 &&
	      memcmp(out, want, 64) == 0, "PBKDF2 RFC 7914 vector, c=80000");

	/* 0 iterations makes gnutls_pbkdf2() abort; we must refuse it first. */
	check(pbkdf2_sha256("passwd", 6, (const uint8_t *)"salt", 4, 0, out, 64) == -1,
	      "PBKDF2 rejects 0 iterations");
	check(pbkdf2_sha256("passwd", 6, (const uint8_t *)"salt", 4, PBKDF2_MAX_ITER + 1,
	                    out, 64) == -1, "PBKDF2 rejects too many iterations");
}

static void
test_seal_roundtrip(void)
{
	uint8_t key[SEAL_KEY_LEN], key2[SEAL_KEY_LEN];
	const char *msg = "correct horse battery staple";
	const char *aad = "account@example.org";
	size_t mlen = strlen(msg), alen = strlen(aad);
	uint8_t blob[128], blob2[128], mod[128], out[128];
	long n, n2, r;
	size_t flips = 0, caught = 0;

	check(random_bytes(key, sizeof(key)) == 0 && random_bytes(key2, sizeof(key2)) == 0,
	      "random_bytes");
	check(memcmp(key, key2, sizeof(key)) != 0, "two random keys differ");

	n = seal(key, aad, alen, msg, mlen, blob, sizeof(blob));
	check(n == (long)(mlen + SEAL_OVERHEAD), "seal returns length + overhead");
	check(n > 0 && blob[0] == SEAL_VERSION, "sealed blob starts with the version");
	check(n > 0 && memmem(blob, (size_t)n, msg, mlen) == NULL,
	      "plaintext absent from the sealed blob");
	r = unseal(key, aad, alen, blob, (size_t)n, out, sizeof(out));
	check(r == (long)mlen && memcmp(out, msg, mlen) == 0, "unseal round trip");

	n2 = seal(key, aad, alen, msg, mlen, blob2, sizeof(blob2));
	check(n2 == n && memcmp(blob + 1, blob2 + 1, SEAL_NONCE_LEN) != 0,
	      "each seal uses a fresh nonce");

	/* Every single-bit flip of every byte must be caught. */
	for (long i = 0; i < n; i++) {
		for (int b = 0; b < 8; b++) {
			memcpy(mod, blob, (size_t)n);
			mod[i] ^= (uint8_t)(1u << b);
			flips++;
			if (unseal(key, aad, alen, mod, (size_t)n, out, sizeof(out)) == -1)
				caught++;
		}
	}
	printf("# %zu of %zu bit flips detected\n", caught, flips);
	check(flips > 0 && caught == flips, "every bit flip of the blob is detected");

	caught = 0;
	for (long len = 0; len < n; len++)
		if (unseal(key, aad, alen, blob, (size_t)len, out, sizeof(out)) == -1)
			caught++;
	check(caught == (size_t)n, "every truncation is detected");

	check(unseal(key, "account@example.com", alen, blob, (size_t)n, out,
	             sizeof(out)) == -1, "wrong AAD is detected");
	check(unseal(key, aad, alen - 1, blob, (size_t)n, out, sizeof(out)) == -1,
	      "shortened AAD is detected");
	check(unseal(key2, aad, alen, blob, (size_t)n, out, sizeof(out)) == -1,
	      "wrong key is detected");
	memcpy(mod, blob, (size_t)n);
	memcpy(mod + (size_t)n, "x", 1);
	check(unseal(key, aad, alen, mod, (size_t)n + 1, out, sizeof(out)) == -1,
	      "an appended byte is detected");
	check(seal(key, aad, alen, msg, mlen, blob, mlen + SEAL_OVERHEAD - 1) == -1,
	      "seal refuses a short output buffer");
	check(unseal(key, aad, alen, blob2, (size_t)n2, out, mlen - 1) == -1,
	      "unseal refuses a short output buffer");

	/* An empty message still carries a tag. */
	n = seal(key, NULL, 0, "", 0, blob, sizeof(blob));
	check(n == SEAL_OVERHEAD && unseal(key, NULL, 0, blob, (size_t)n, out,
	                                   sizeof(out)) == 0, "empty message round trip");
	blob[SEAL_OVERHEAD - 1] ^= 1;
	check(unseal(key, NULL, 0, blob, (size_t)n, out, sizeof(out)) == -1,
	      "empty message: tag flip detected");
}

static void
test_secmem(void)
{
	uint8_t *p = secmem_alloc(100);
	int zero = 1;

	check(p != NULL, "secmem_alloc");
	if (p == NULL)
		return;
	for (int i = 0; i < 100; i++)
		zero &= p[i] == 0;
	check(zero, "secmem_alloc returns zeroed memory");
	memset(p, 0x5a, 100);
	secmem_wipe(p, 50);
	zero = 1;
	for (int i = 0; i < 50; i++)
		zero &= p[i] == 0;
	check(zero && p[50] == 0x5a, "secmem_wipe clears exactly what it is told");
	secmem_free(p, 100);
	secmem_free(NULL, 10);
}

/* RFC 4231 test case 2 ("Jefe"), then the keyed state against a fresh HMAC
 * for messages one after another: each MAC must start again from the key,
 * after a good one and after a failed one. */
static void
test_hmac(void)
{
	static const uint8_t want2[HMAC_LEN] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26,
		0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83,
		0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
	};
	uint8_t key[SEAL_KEY_LEN] = "Jefe", a[HMAC_LEN], b[HMAC_LEN];
	const char *msgs[] = { "what do ya want ", "for nothing?", "", "x" };
	const void *p[2];
	size_t l[2];
	struct hmac_keyed *k;
	int same = 0;

	/* RFC 4231's key is 4 bytes; HMAC pads a short key with zeros, so the
	 * same 4 bytes in a zeroed 32-byte key give the same MAC. */
	p[0] = msgs[0]; l[0] = strlen(msgs[0]);
	p[1] = msgs[1]; l[1] = strlen(msgs[1]);
	check(hmac_sha256(key, p, l, 2, a) == 0 && memcmp(a, want2, HMAC_LEN) == 0,
	      "HMAC-SHA256: RFC 4231 test case 2, in two parts");
	k = hmac_keyed_new(key);
	check(k != NULL && hmac_keyed_is(k, key), "a keyed state, made for its key");
	if (k == NULL)
		return;
	key[0] ^= 1;
	check(!hmac_keyed_is(k, key), "... and not for another");
	key[0] ^= 1;
	check(hmac_keyed_sum(k, p, l, 2, b) == 0 && memcmp(b, want2, HMAC_LEN) == 0,
	      "the keyed state gives test case 2");
	p[0] = NULL; l[0] = 5;
	check(hmac_keyed_sum(k, p, l, 1, b) == -1, "a NULL part of 5 bytes fails");
	for (int r = 0; r < 3; r++)
		for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
			p[0] = msgs[i]; l[0] = strlen(msgs[i]);
			p[1] = msgs[(i + 1) % 4]; l[1] = strlen(p[1]);
			if (hmac_sha256(key, p, l, 2, a) == 0 &&
			    hmac_keyed_sum(k, p, l, 2, b) == 0 && memcmp(a, b, HMAC_LEN) == 0)
				same++;
		}
	check(same == 12, "12 MACs in a row from the keyed state, each as a fresh "
	      "HMAC gives it (%d)", same);
	hmac_keyed_free(k);
	hmac_keyed_free(NULL);
}

int
main(void)
{
	secmem_harden_process();
	test_gcm_vectors();
	test_gcm_guards();
	test_pbkdf2();
	test_seal_roundtrip();
	test_secmem();
	test_hmac();
	return unit_done();
}
