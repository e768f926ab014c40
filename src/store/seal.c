/* AES-256-GCM sealing and PBKDF2-HMAC-SHA256 through GnuTLS. Every length
 * GnuTLS would accept silently (a 16-byte key runs AES-128, a short tag is
 * allowed, 0 PBKDF2 iterations abort) is checked here first. */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "seal.h"
#include "secmem.h"

/* The cipher must be what we think it is; checked once per call, cheap. */
static int
cipher_sane(void)
{
	return gnutls_cipher_get_key_size(GNUTLS_CIPHER_AES_256_GCM) == SEAL_KEY_LEN &&
	       gnutls_cipher_get_iv_size(GNUTLS_CIPHER_AES_256_GCM) == SEAL_NONCE_LEN &&
	       gnutls_cipher_get_tag_size(GNUTLS_CIPHER_AES_256_GCM) == SEAL_TAG_LEN;
}

static int
aead_open(gnutls_aead_cipher_hd_t *h, const uint8_t *key, size_t keylen)
{
	gnutls_datum_t k;

	if (key == NULL || keylen != SEAL_KEY_LEN || !cipher_sane())
		return -1;
	k.data = (unsigned char *)key;
	k.size = SEAL_KEY_LEN;
	return gnutls_aead_cipher_init(h, GNUTLS_CIPHER_AES_256_GCM, &k) < 0 ? -1 : 0;
}

/* GnuTLS wants real pointers even for empty buffers. */
static const uint8_t empty[1];

int
gcm_encrypt(const uint8_t *key, size_t keylen, const uint8_t *nonce,
            size_t noncelen, const void *aad, size_t aadlen,
            const void *in, size_t inlen, uint8_t *out, uint8_t *tag,
            size_t taglen)
{
	gnutls_aead_cipher_hd_t h;
	uint8_t *buf;
	size_t buflen, outl;
	int rc = -1;

	if (nonce == NULL || noncelen != SEAL_NONCE_LEN || taglen != SEAL_TAG_LEN ||
	    tag == NULL || (inlen > 0 && (in == NULL || out == NULL)) ||
	    (aadlen > 0 && aad == NULL) || inlen > (size_t)INT_MAX - SEAL_TAG_LEN)
		return -1;
	if (aead_open(&h, key, keylen) < 0)
		return -1;
	/* GnuTLS appends the tag to the ciphertext; split it for the caller. */
	buflen = inlen + SEAL_TAG_LEN;
	buf = secmem_alloc(buflen);
	if (buf == NULL)
		goto out;
	outl = buflen;
	if (gnutls_aead_cipher_encrypt(h, nonce, noncelen, aad ? aad : empty, aadlen,
	                               SEAL_TAG_LEN, inlen ? in : empty, inlen,
	                               buf, &outl) < 0 || outl != buflen)
		goto out;
	if (inlen > 0)
		memcpy(out, buf, inlen);
	memcpy(tag, buf + inlen, SEAL_TAG_LEN);
	rc = 0;
out:
	secmem_free(buf, buflen);
	gnutls_aead_cipher_deinit(h);
	return rc;
}

long
seal(const uint8_t key[SEAL_KEY_LEN], const void *aad, size_t aadlen,
     const void *in, size_t inlen, uint8_t *out, size_t outlen)
{
	gnutls_aead_cipher_hd_t h;
	size_t ctlen;
	long rc = -1;

	if (out == NULL || (inlen > 0 && in == NULL) || (aadlen > 0 && aad == NULL) ||
	    inlen > (size_t)LONG_MAX - SEAL_OVERHEAD || outlen < inlen + SEAL_OVERHEAD)
		return -1;
	if (aead_open(&h, key, SEAL_KEY_LEN) < 0)
		return -1;
	out[0] = SEAL_VERSION;
	/* A fresh random nonce per message: with 96 random bits, collisions
	 * stay negligible for far more writes than a store will ever see. */
	if (gnutls_rnd(GNUTLS_RND_NONCE, out + 1, SEAL_NONCE_LEN) < 0)
		goto out;
	ctlen = outlen - 1 - SEAL_NONCE_LEN;
	if (gnutls_aead_cipher_encrypt(h, out + 1, SEAL_NONCE_LEN,
	                               aad ? aad : empty, aadlen, SEAL_TAG_LEN,
	                               inlen ? in : empty, inlen,
	                               out + 1 + SEAL_NONCE_LEN, &ctlen) < 0 ||
	    ctlen != inlen + SEAL_TAG_LEN)
		goto out;
	rc = (long)(inlen + SEAL_OVERHEAD);
out:
	gnutls_aead_cipher_deinit(h);
	if (rc < 0)
		secmem_wipe(out, outlen);
	return rc;
}

long
unseal(const uint8_t key[SEAL_KEY_LEN], const void *aad, size_t aadlen,
       const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen)
{
	gnutls_aead_cipher_hd_t h;
	size_t ptlen, want;
	long rc = -1;

	if (in == NULL || inlen < SEAL_OVERHEAD || inlen > (size_t)LONG_MAX ||
	    (aadlen > 0 && aad == NULL) || in[0] != SEAL_VERSION)
		return -1;
	want = inlen - SEAL_OVERHEAD;
	if (outlen < want || (want > 0 && out == NULL))
		return -1;
	if (aead_open(&h, key, SEAL_KEY_LEN) < 0)
		return -1;
	ptlen = want;
	if (gnutls_aead_cipher_decrypt(h, in + 1, SEAL_NONCE_LEN,
	                               aad ? aad : empty, aadlen, SEAL_TAG_LEN,
	                               in + 1 + SEAL_NONCE_LEN,
	                               inlen - 1 - SEAL_NONCE_LEN,
	                               want ? out : (uint8_t *)empty, &ptlen) < 0 ||
	    ptlen != want)
		goto out;
	rc = (long)want;
out:
	gnutls_aead_cipher_deinit(h);
	/* Never hand back unauthenticated plaintext. */
	if (rc < 0 && want > 0)
		secmem_wipe(out, want);
	return rc;
}

int
pbkdf2_sha256(const void *pass, size_t passlen, const uint8_t *salt,
              size_t saltlen, unsigned iterations, uint8_t *out,
              size_t outlen)
{
	gnutls_datum_t k, s;

	/* gnutls_pbkdf2() aborts the process on 0 iterations. */
	if (iterations < 1 || iterations > PBKDF2_MAX_ITER)
		return -1;
	if ((passlen > 0 && pass == NULL) || salt == NULL || saltlen == 0 ||
	    out == NULL || outlen == 0 || passlen > UINT_MAX || saltlen > UINT_MAX)
		return -1;
	k.data = (unsigned char *)(passlen ? pass : empty);
	k.size = (unsigned)passlen;
	s.data = (unsigned char *)salt;
	s.size = (unsigned)saltlen;
	if (gnutls_pbkdf2(GNUTLS_MAC_SHA256, &k, &s, iterations, out, outlen) < 0) {
		secmem_wipe(out, outlen);
		return -1;
	}
	return 0;
}

/* Feeds the n parts to h: 0 or -1. */
static int
hmac_feed(gnutls_hmac_hd_t h, const void *const *parts, const size_t *lens, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (lens[i] == 0)
			continue;
		if (parts[i] == NULL || gnutls_hmac(h, parts[i], lens[i]) < 0)
			return -1;
	}
	return 0;
}

int
hmac_sha256(const uint8_t key[SEAL_KEY_LEN], const void *const *parts,
            const size_t *lens, size_t n, uint8_t out[HMAC_LEN])
{
	gnutls_hmac_hd_t h;

	if (key == NULL || out == NULL ||
	    gnutls_hmac_get_len(GNUTLS_MAC_SHA256) != HMAC_LEN ||
	    gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, key, SEAL_KEY_LEN) < 0)
		return -1;
	if (hmac_feed(h, parts, lens, n) < 0) {
		gnutls_hmac_deinit(h, NULL);
		return -1;
	}
	gnutls_hmac_deinit(h, out);
	return 0;
}

/* The keyed state: the key's two padded blocks are hashed once. GnuTLS's
 * output resets the state to just after the key, so the next MAC starts
 * there: a record's MAC then costs its own blocks only, not a new key, an
 * allocation and the wiping of a freed context (most of the time when a
 * store of 10,000 accounts is listed). */
struct hmac_keyed {
	uint8_t *key;                   /* secmem: what the state was made for */
	gnutls_hmac_hd_t h;             /* keyed; fed and output by each MAC */
};

struct hmac_keyed *
hmac_keyed_new(const uint8_t key[SEAL_KEY_LEN])
{
	struct hmac_keyed *k;

	if (key == NULL || gnutls_hmac_get_len(GNUTLS_MAC_SHA256) != HMAC_LEN ||
	    (k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	k->key = secmem_alloc(SEAL_KEY_LEN);
	if (k->key == NULL ||
	    gnutls_hmac_init(&k->h, GNUTLS_MAC_SHA256, key, SEAL_KEY_LEN) < 0) {
		secmem_free(k->key, SEAL_KEY_LEN);
		free(k);
		return NULL;
	}
	memcpy(k->key, key, SEAL_KEY_LEN);
	return k;
}

void
hmac_keyed_free(struct hmac_keyed *k)
{
	if (k == NULL)
		return;
	gnutls_hmac_deinit(k->h, NULL);
	secmem_free(k->key, SEAL_KEY_LEN);
	free(k);
}

int
hmac_keyed_is(const struct hmac_keyed *k, const uint8_t key[SEAL_KEY_LEN])
{
	return k != NULL && key != NULL && mem_equal(k->key, key, SEAL_KEY_LEN);
}

int
hmac_keyed_sum(struct hmac_keyed *k, const void *const *parts,
               const size_t *lens, size_t n, uint8_t out[HMAC_LEN])
{
	uint8_t discard[HMAC_LEN];

	if (k == NULL || out == NULL)
		return -1;
	if (hmac_feed(k->h, parts, lens, n) < 0) {
		gnutls_hmac_output(k->h, discard);      /* back to just keyed */
		secmem_wipe(discard, sizeof discard);
		return -1;
	}
	gnutls_hmac_output(k->h, out);
	return 0;
}

int
mem_equal(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

int
random_bytes(void *out, size_t n)
{
	if (n == 0)
		return 0;
	if (out == NULL)
		return -1;
	return gnutls_rnd(GNUTLS_RND_KEY, out, n) < 0 ? -1 : 0;
}
