/* Moving a store to another host: its accounts and their passwords sealed
 * under a passphrase of their own (store_export_sealed()), and read back
 * into another store (store_import_sealed()), without a secret in clear
 * on the way. The file is a header and a sequence of chunks, one per
 * account, each sealed on its own (AES-256-GCM, a key from PBKDF2 over
 * the passphrase and the header's salt) with the header and its index as
 * associated data: a chunk cannot be altered, moved, dropped or taken
 * into another file, and an end chunk with the count makes a truncated
 * file fail. Only one account's passwords are in memory at a time, in
 * locked memory. The import adds every account in one transaction, or
 * none. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "seal.h"
#include "secmem.h"
#include "store.h"
#include "store_int.h"
#include "i18n.h"
#include "util.h"

#define MAGIC          "FLUENZR-SEALED\n"
#define MAGIC_LEN      (sizeof(MAGIC) - 1)
#define HEADER_LEN     (MAGIC_LEN + 1 + 4 + PBKDF2_SALT_LEN)
#define EXPORT_ITER    PBKDF2_MIN_ITER
/* A chunk's text: 'A', then the record, NUL, the password, NUL, the IMAP
 * password, NUL; or 'E' and the count (8 bytes). */
#define CHUNK_MAX      (1 + RECORD_MAX + 2 * (ACCT_SECRET_MAX + 1) + 8)

static void
chunk_aad(const uint8_t *header, uint64_t index, uint8_t *aad)
{
	memcpy(aad, header, HEADER_LEN);
	put_be64(aad + HEADER_LEN, index);
}

struct export_ctx {
	struct store *st;
	uint8_t key[SEAL_KEY_LEN];
	uint8_t header[HEADER_LEN];
	int (*write)(const void *p, size_t n, void *ud);
	void *ud;
	uint64_t index;
	uint8_t *plain;                 /* secmem, CHUNK_MAX */
	uint8_t *sealed;                /* CHUNK_MAX + SEAL_OVERHEAD */
	int rc;
	char *err;
	size_t errlen;
};

static int
put_chunk(struct export_ctx *x, size_t n)
{
	uint8_t aad[HEADER_LEN + 8], len[4];
	long s;

	chunk_aad(x->header, x->index, aad);
	s = seal(x->key, aad, sizeof aad, x->plain, n, x->sealed, CHUNK_MAX + SEAL_OVERHEAD);
	secmem_wipe(x->plain, n);
	if (s < 0) {
		set_err(x->err, x->errlen, _("cannot seal the export"));
		return STORE_EIO;
	}
	put_be32(len, (uint32_t)s);
	if (x->write(len, 4, x->ud) < 0 || x->write(x->sealed, (size_t)s, x->ud) < 0) {
		set_err(x->err, x->errlen, _("cannot write the export: %s"), strerror(errno));
		return STORE_EIO;
	}
	x->index++;
	return STORE_OK;
}

/* The secret f of a into p (NUL-terminated; "" when none). */
static int
secret_into(struct export_ctx *x, const char *email, enum secret_field f,
            uint8_t *p, size_t *n)
{
	int e = store_secret_get(x->st, email, f, (char *)p, ACCT_SECRET_MAX + 1);

	if (e == STORE_ENOENT) {
		p[0] = '\0';
		e = STORE_OK;
	}
	if (e != STORE_OK) {
		set_err(x->err, x->errlen, f == SECRET_IMAP ?
		        _("%s: its IMAP password does not open: %s") :
		        _("%s: its password does not open: %s"), email, store_strerror(e));
		return e;
	}
	*n += strlen((char *)p) + 1;
	return STORE_OK;
}

static int
export_one(const struct account *a, void *ud)
{
	struct export_ctx *x = ud;
	size_t n = 1;
	int len;

	x->plain[0] = 'A';
	len = account_serialize(a, (char *)x->plain + 1, RECORD_MAX);
	if (len < 0) {
		set_err(x->err, x->errlen, _("%s: cannot write its record"), a->email);
		x->rc = STORE_EINVAL;
		return 1;
	}
	n += (size_t)len + 1;
	if ((x->rc = secret_into(x, a->email, SECRET_SMTP, x->plain + n, &n)) != STORE_OK ||
	    (x->rc = secret_into(x, a->email, SECRET_IMAP, x->plain + n, &n)) != STORE_OK) {
		secmem_wipe(x->plain, CHUNK_MAX);
		return 1;
	}
	x->rc = put_chunk(x, n);
	return x->rc != STORE_OK;
}

static void
export_bad(const char *key, const char *problem, void *ud)
{
	struct export_ctx *x = ud;

	/* A damaged record is not carried silently to another host. */
	if (x->rc == STORE_OK) {
		set_err(x->err, x->errlen, _("account %s: %s (see store check)"), key, problem);
		x->rc = STORE_ECORRUPT;
	}
}

int
store_export_sealed(struct store *st, const char *passphrase,
                    int (*write)(const void *p, size_t n, void *ud), void *ud,
                    size_t *count, char *err, size_t errlen)
{
	struct export_ctx x;
	int rc;

	memset(&x, 0, sizeof(x));
	*count = 0;
	if (st == NULL || passphrase == NULL || write == NULL)
		return STORE_EINVAL;
	if (st->data_key == NULL)
		return STORE_ELOCKED;
	x.st = st;
	x.write = write;
	x.ud = ud;
	x.err = err;
	x.errlen = errlen;
	memcpy(x.header, MAGIC, MAGIC_LEN);
	x.header[MAGIC_LEN] = 1;
	put_be32(x.header + MAGIC_LEN + 1, EXPORT_ITER);
	x.plain = secmem_alloc(CHUNK_MAX);
	x.sealed = malloc(CHUNK_MAX + SEAL_OVERHEAD);
	if (!x.plain || !x.sealed || random_bytes(x.header + MAGIC_LEN + 5, PBKDF2_SALT_LEN) < 0 ||
	    pbkdf2_sha256(passphrase, strlen(passphrase), x.header + MAGIC_LEN + 5,
	                  PBKDF2_SALT_LEN, EXPORT_ITER, x.key, sizeof x.key) < 0) {
		rc = STORE_ENOMEM;
		goto out;
	}
	if (write(x.header, HEADER_LEN, ud) < 0) {
		set_err(err, errlen, _("cannot write the export: %s"), strerror(errno));
		rc = STORE_EIO;
		goto out;
	}
	rc = store_account_foreach(st, export_one, export_bad, &x);
	if (rc == STORE_OK)
		rc = x.rc;
	if (rc == STORE_OK) {
		*count = (size_t)x.index;
		x.plain[0] = 'E';
		put_be64(x.plain + 1, x.index);
		rc = put_chunk(&x, 9);
	}
out:
	secmem_wipe(x.key, sizeof x.key);
	if (x.plain)
		secmem_free(x.plain, CHUNK_MAX);
	free(x.sealed);
	return rc;
}

/* ---- import ---- */

struct import_ctx {
	const uint8_t *in;
	size_t len;
	uint8_t key[SEAL_KEY_LEN];
	uint8_t *plain;                 /* secmem */
	size_t added;
	size_t *failed_at;
	char *failed_email;
};

static int
import_write(struct store *st, MDB_txn *txn, void *vctx, char *err, size_t errlen)
{
	struct import_ctx *c = vctx;
	size_t pos = HEADER_LEN;
	uint64_t index = 0;

	c->added = 0;
	for (;;) {
		uint8_t aad[HEADER_LEN + 8];
		uint32_t clen;
		long n;

		if (c->len - pos < 4) {
			set_err(err, errlen, _("the file is cut short (no end): nothing imported"));
			return STORE_ECORRUPT;
		}
		clen = get_be32(c->in + pos);
		pos += 4;
		if (clen > c->len - pos || clen > CHUNK_MAX + SEAL_OVERHEAD) {
			set_err(err, errlen, _("the file is cut short or damaged: nothing imported"));
			return STORE_ECORRUPT;
		}
		chunk_aad(c->in, index, aad);
		n = unseal(c->key, aad, sizeof aad, c->in + pos, clen, c->plain, CHUNK_MAX);
		pos += clen;
		if (n < 1) {
			set_err(err, errlen, index == 0 ? _("wrong passphrase, or the file was "
			        "altered: nothing imported") : _("the file was altered: nothing imported"));
			return STORE_EKEY;
		}
		if (c->plain[0] == 'E') {
			if (n != 9 || get_be64(c->plain + 1) != index || pos != c->len) {
				set_err(err, errlen, _("the file was altered: nothing imported"));
				return STORE_ECORRUPT;
			}
			return STORE_OK;
		}
		{
			const char *text = (const char *)c->plain + 1, *pw, *ipw;
			const char *end = (const char *)c->plain + n;
			struct account a;
			int rc;

			pw = memchr(text, '\0', (size_t)(end - text));
			ipw = pw ? memchr(pw + 1, '\0', (size_t)(end - pw - 1)) : NULL;
			if (c->plain[0] != 'A' || !pw || !ipw || !memchr(ipw + 1, '\0',
			                                                   (size_t)(end - ipw - 1)) ||
			    account_parse(text, (size_t)(pw - text), &a) < 0) {
				set_err(err, errlen, _("account %llu of the file does not parse: "
				        "nothing imported"), (unsigned long long)index + 1);
				return STORE_ECORRUPT;
			}
			pw++;
			ipw++;
			rc = account_put_txn(st, txn, &a, *pw ? pw : NULL, *ipw ? ipw : NULL,
			                     err, errlen);
			secmem_wipe(c->plain, CHUNK_MAX);
			if (rc != STORE_OK) {
				str_copy(c->failed_email, ACCT_EMAIL_MAX + 1, a.email);
				return rc;
			}
		}
		index++;
		c->added++;
	}
}

int
store_import_sealed(struct store *st, const char *passphrase, const uint8_t *in,
                    size_t len, size_t *added, char *failed_email,
                    char *err, size_t errlen)
{
	struct import_ctx c;
	uint32_t iter;
	int rc;

	*added = 0;
	failed_email[0] = '\0';
	if (st == NULL || passphrase == NULL || in == NULL)
		return STORE_EINVAL;
	if (st->data_key == NULL)
		return STORE_ELOCKED;
	if (len < HEADER_LEN || memcmp(in, MAGIC, MAGIC_LEN) != 0 || in[MAGIC_LEN] != 1) {
		set_err(err, errlen, _("not a sealed export of fluenzr-tui"));
		return STORE_EINVAL;
	}
	iter = get_be32(in + MAGIC_LEN + 1);
	if (iter < PBKDF2_MIN_ITER || iter > PBKDF2_MAX_ITER) {
		set_err(err, errlen, _("the file's key derivation is out of bounds"));
		return STORE_ECORRUPT;
	}
	memset(&c, 0, sizeof(c));
	c.in = in;
	c.len = len;
	c.failed_email = failed_email;
	c.plain = secmem_alloc(CHUNK_MAX);
	if (!c.plain || pbkdf2_sha256(passphrase, strlen(passphrase), in + MAGIC_LEN + 5,
	                              PBKDF2_SALT_LEN, iter, c.key, sizeof c.key) < 0) {
		if (c.plain)
			secmem_free(c.plain, CHUNK_MAX);
		return STORE_ENOMEM;
	}
	rc = store_write(st, import_write, &c, err, errlen);
	if (rc == STORE_OK)
		*added = c.added;
	secmem_wipe(c.key, sizeof c.key);
	secmem_free(c.plain, CHUNK_MAX);
	return rc;
}
