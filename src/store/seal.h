/* Sealing secrets with AES-256-GCM, authenticating records with HMAC-SHA256
 * and deriving keys with PBKDF2-HMAC-SHA256 through GnuTLS. Guards GnuTLS traps: key length is asserted (a 16-byte key
 * would silently run AES-128), tag and nonce lengths are checked by us, and
 * PBKDF2 iterations are bounds-checked (0 aborts inside GnuTLS). */
#ifndef FLUENZR_SEAL_H
#define FLUENZR_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define SEAL_KEY_LEN    32
#define SEAL_NONCE_LEN  12
#define SEAL_TAG_LEN    16
#define SEAL_VERSION    1
/* A sealed blob: version(1) | nonce(12) | ciphertext | tag(16). */
#define SEAL_OVERHEAD   (1 + SEAL_NONCE_LEN + SEAL_TAG_LEN)

#define PBKDF2_MIN_ITER   600000u
#define PBKDF2_MAX_ITER   100000000u
#define PBKDF2_SALT_LEN   16

/* out must hold inlen + SEAL_OVERHEAD bytes. Returns the sealed length or -1. */
long seal(const uint8_t key[SEAL_KEY_LEN], const void *aad, size_t aadlen,
          const void *in, size_t inlen, uint8_t *out, size_t outlen);
/* Returns the opened length, or -1 when the blob is malformed, the key is
 * wrong or anything (blob or aad) was altered. */
long unseal(const uint8_t key[SEAL_KEY_LEN], const void *aad, size_t aadlen,
            const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen);

/* Raw AES-256-GCM with explicit nonce, for known-answer tests. */
int gcm_encrypt(const uint8_t *key, size_t keylen, const uint8_t *nonce,
                size_t noncelen, const void *aad, size_t aadlen,
                const void *in, size_t inlen, uint8_t *out, uint8_t *tag,
                size_t taglen);

int pbkdf2_sha256(const void *pass, size_t passlen, const uint8_t *salt,
                  size_t saltlen, unsigned iterations, uint8_t *out,
                  size_t outlen);

#define HMAC_LEN 32

/* HMAC-SHA256 with a SEAL_KEY_LEN key over the n parts, one after another
 * (parts[i] may be NULL when lens[i] is 0). 0 or -1. */
int hmac_sha256(const uint8_t key[SEAL_KEY_LEN], const void *const *parts,
                const size_t *lens, size_t n, uint8_t out[HMAC_LEN]);

/* The same HMAC for many messages under one key, with the key set once.
 * hmac_keyed_is() tells whether k was made for key (constant time). A k is
 * changed by each MAC: one thread at a time, as the store it serves. */
struct hmac_keyed;
struct hmac_keyed *hmac_keyed_new(const uint8_t key[SEAL_KEY_LEN]);
void hmac_keyed_free(struct hmac_keyed *k);
int hmac_keyed_is(const struct hmac_keyed *k, const uint8_t key[SEAL_KEY_LEN]);
int hmac_keyed_sum(struct hmac_keyed *k, const void *const *parts,
                   const size_t *lens, size_t n, uint8_t out[HMAC_LEN]);

/* Constant-time comparison of two byte strings of length n: 1 if equal. */
int mem_equal(const void *a, const void *b, size_t n);

/* Cryptographically random bytes; 0 or -1. */
int random_bytes(void *out, size_t n);

#endif
