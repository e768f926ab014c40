/* The store's keys: the key file, the key slots in the meta data (the
 * data key wrapped by the key file and by a passphrase through PBKDF2),
 * the meta data's authenticated generation and the generation file beside
 * the key file; unlocking, setting a passphrase, rotating the data key. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "account.h"
#include "policy.h"
#include "seal.h"
#include "secmem.h"
#include "store.h"
#include "store_int.h"
#include "i18n.h"
#include "util.h"

/* ---- permissions and the key file -------------------------------------- */

int
check_private(const char *path, const struct stat *sb, bool dir, char *err,
              size_t errlen)
{
	/* A file of another user (reached through a symbolic link, say) may
	 * be read or replaced by that user: never trust it with a key. */
	if (sb->st_uid != geteuid()) {
		set_err(err, errlen, _("%s belongs to another user (uid %u); it must "
		        "be yours"), path, (unsigned)sb->st_uid);
		return STORE_EPERM;
	}
	if ((sb->st_mode & 077) == 0)
		return STORE_OK;
	set_err(err, errlen,
	        _("%s is accessible by group or others (mode %04o); "
	        "fix it with: chmod %s '%s'"), path, (unsigned)(sb->st_mode & 07777),
	        dir ? "700" : "600", path);
	return STORE_EPERM;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* STORE_OK, STORE_ENOENT (no such file), STORE_EPERM, STORE_EKEY (not a
 * key file) or STORE_EIO. */
static int
keyfile_read(const char *path, uint8_t key[SEAL_KEY_LEN], char *err,
             size_t errlen)
{
	const size_t hdr = sizeof(KEYFILE_HEADER) - 1;
	struct stat sb;
	char *buf;
	size_t got = 0;
	int fd, rc = STORE_EKEY;

	/* O_NONBLOCK: a FIFO in the key file's place must not hang the open;
	 * it is refused below as not a regular file. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT) {
			set_err(err, errlen, _("key file %s not found"), path);
			return STORE_ENOENT;
		}
		set_err(err, errlen, _("cannot open key file %s: %s"), path, strerror(errno));
		return STORE_EIO;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		set_err(err, errlen, _("key file %s is not a regular file"), path);
		close(fd);
		return STORE_EKEY;
	}
	rc = check_private(path, &sb, false, err, errlen);
	if (rc != STORE_OK) {
		close(fd);
		return rc;
	}
	buf = secmem_alloc(KEYFILE_LEN + 2);
	if (buf == NULL) {
		close(fd);
		return STORE_ENOMEM;
	}
	/* Read one byte more than a key file holds, to see trailing junk. */
	while (got < KEYFILE_LEN + 1) {
		ssize_t n = read(fd, buf + got, KEYFILE_LEN + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_err(err, errlen, _("cannot read key file %s: %s"), path,
			        strerror(errno));
			rc = STORE_EIO;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	rc = STORE_EKEY;
	if (got != KEYFILE_LEN || memcmp(buf, KEYFILE_HEADER, hdr) != 0 ||
	    buf[KEYFILE_LEN - 1] != '\n') {
		set_err(err, errlen, _("%s is not a fluenzr key file (expected the line "
		        "\"fluenzr-store-key v1\" and 64 lowercase hex digits)"), path);
		goto out;
	}
	for (size_t i = 0; i < SEAL_KEY_LEN; i++) {
		int hi = hexval(buf[hdr + 2 * i]), lo = hexval(buf[hdr + 2 * i + 1]);

		if (hi < 0 || lo < 0) {
			set_err(err, errlen, _("%s is not a fluenzr key file (bad hex digit)"),
			        path);
			secmem_wipe(key, SEAL_KEY_LEN);
			goto out;
		}
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	rc = STORE_OK;
out:
	secmem_free(buf, KEYFILE_LEN + 2);
	close(fd);
	return rc;
}

static int
parent_dir(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return str_copy(out, len, ".");
	if (slash == path)
		return str_copy(out, len, "/");
	if ((size_t)(slash - path) >= len)
		return -1;
	memcpy(out, path, (size_t)(slash - path));
	out[slash - path] = '\0';
	return 0;
}

/* Removes the temporary key files ("<key file>.tmp<pid>") of processes
 * that are gone: a kill -9 between creating and linking one leaves it. */
static void
keyfile_drop_stale(const char *dir, const char *path)
{
	const char *base = strrchr(path, '/');
	char prefix[300], stale[1400];
	struct dirent *de;
	size_t plen;
	DIR *d;

	base = base ? base + 1 : path;
	if (str_printf(prefix, sizeof(prefix), "%s.tmp", base) < 0)
		return;
	plen = strlen(prefix);
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		const char *p = de->d_name + plen;
		char *end;
		long pid;

		if (strncmp(de->d_name, prefix, plen) != 0 || *p < '1' || *p > '9')
			continue;
		errno = 0;
		pid = strtol(p, &end, 10);
		if (*end || errno || pid <= 0 || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if (str_printf(stale, sizeof(stale), "%s/%s", dir, de->d_name) == 0)
			(void)unlink(stale);
	}
	closedir(d);
}

/* The key file must stay out of the store directory (a copy of the store
 * would carry its key), and its directory must be the user's or root's and
 * not writable by others (who could replace the key file). */
static int
keyfile_place_check(const char *store_dir, const char *key_file, char *err,
                    size_t errlen)
{
	char kdir[1024], rk[PATH_MAX], rs[PATH_MAX];
	struct stat sb;
	size_t n;

	if (parent_dir(key_file, kdir, sizeof(kdir)) < 0)
		return STORE_EINVAL;
	if (stat(kdir, &sb) != 0) {
		if (errno == ENOENT)
			return STORE_OK;
		set_err(err, errlen, _("cannot examine %s: %s"), kdir, strerror(errno));
		return STORE_EIO;
	}
	if (sb.st_uid != geteuid() && sb.st_uid != 0) {
		set_err(err, errlen, _("the key file's directory %s belongs to another user "
		        "(uid %u); fix it with: chown %u '%s'"), kdir, (unsigned)sb.st_uid,
		        (unsigned)geteuid(), kdir);
		return STORE_EPERM;
	}
	if (sb.st_mode & 022) {
		set_err(err, errlen, _("the key file's directory %s can be written by group "
		        "or others (mode %04o), who could replace the key file; fix it "
		        "with: chmod go-w '%s'"), kdir, (unsigned)(sb.st_mode & 07777), kdir);
		return STORE_EPERM;
	}
	if (realpath(kdir, rk) == NULL || realpath(store_dir, rs) == NULL)
		return STORE_OK;        /* no store directory yet: nothing inside it */
	n = strlen(rs);
	if (strncmp(rk, rs, n) == 0 && (rk[n] == '\0' || rk[n] == '/' ||
	                                 strcmp(rs, "/") == 0)) {
		set_err(err, errlen, _("the key file %s is inside the store directory %s "
		        "(are the config and data directories the same?): a copy of the "
		        "store would carry its key; keep it elsewhere with --key-file or "
		        "FLUENZR_KEY_FILE"), key_file, store_dir);
		return STORE_EPERM;
	}
	return STORE_OK;
}

/* Creates a new key file (mode 0600, in a 0700 directory if we make it).
 * Written under a temporary name and linked into place, so that a crash
 * never leaves a half-written key file, and an existing one is never
 * replaced. */
static int
keyfile_create(const char *path, uint8_t key[SEAL_KEY_LEN], bool fresh,
               char *err, size_t errlen)
{
	static const char hex[] = "0123456789abcdef";
	const size_t hdr = sizeof(KEYFILE_HEADER) - 1;
	char dir[1024], tmp[1100];
	char *buf = NULL;
	mode_t old;
	size_t off = 0;
	int fd, dfd, rc = STORE_EIO;

	if (parent_dir(path, dir, sizeof(dir)) < 0 ||
	    str_printf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) < 0) {
		set_err(err, errlen, _("key file path too long: %s"), path);
		return STORE_EINVAL;
	}
	old = umask(077);
	if (mkdir_p(dir) < 0) {
		set_err(err, errlen, _("cannot create directory %s: %s"), dir, strerror(errno));
		umask(old);
		return STORE_EIO;
	}
	(void)unlink(tmp);      /* left by an earlier crash of this pid */
	keyfile_drop_stale(dir, path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	umask(old);
	if (fd < 0) {
		set_err(err, errlen, _("cannot create key file %s: %s"), path, strerror(errno));
		return STORE_EIO;
	}
	buf = secmem_alloc(KEYFILE_LEN);
	if (buf == NULL) {
		rc = STORE_ENOMEM;
		goto fail;
	}
	if (fchmod(fd, 0600) != 0 || (fresh && random_bytes(key, SEAL_KEY_LEN) < 0)) {
		set_err(err, errlen, _("cannot create key file %s: %s"), path, strerror(errno));
		goto fail;
	}
	memcpy(buf, KEYFILE_HEADER, hdr);
	for (size_t i = 0; i < SEAL_KEY_LEN; i++) {
		buf[hdr + 2 * i] = hex[key[i] >> 4];
		buf[hdr + 2 * i + 1] = hex[key[i] & 15];
	}
	buf[KEYFILE_LEN - 1] = '\n';
	while (off < KEYFILE_LEN) {
		ssize_t n = write(fd, buf + off, KEYFILE_LEN - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			set_err(err, errlen, _("cannot write key file %s: %s"), path,
			        strerror(errno));
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		set_err(err, errlen, _("cannot write key file %s: %s"), path, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (link(tmp, path) != 0) {
		if (errno == EEXIST && fresh) {
			/* Another program made it first (a second store sharing
			 * the key file): use that one, never replace it. */
			(void)unlink(tmp);
			secmem_free(buf, KEYFILE_LEN);
			return keyfile_read(path, key, err, errlen);
		}
		set_err(err, errlen, _("cannot create key file %s: %s"), path, strerror(errno));
		goto fail;
	}
	(void)unlink(tmp);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	secmem_free(buf, KEYFILE_LEN);
	return STORE_OK;
fail:
	secmem_free(buf, KEYFILE_LEN);
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	if (fresh)
		secmem_wipe(key, SEAL_KEY_LEN);
	return rc;
}

/* ---- meta and slots ---------------------------------------------------- */

static size_t
pass_aad(unsigned iterations, const uint8_t salt[PBKDF2_SALT_LEN], uint8_t *aad)
{
	size_t n = sizeof(SLOT_PASS_AAD) - 1;

	memcpy(aad, SLOT_PASS_AAD, n);
	put_be32(aad + n, iterations);
	memcpy(aad + n + 4, salt, PBKDF2_SALT_LEN);
	return n + 4 + PBKDF2_SALT_LEN;
}

#define PASS_AAD_MAX (sizeof(SLOT_PASS_AAD) + 4 + PBKDF2_SALT_LEN)

int
meta_read(struct store *st, MDB_txn *txn, struct meta_info *mi, char *err,
          size_t errlen)
{
	MDB_val k, v;
	int mrc;

	memset(mi, 0, sizeof(*mi));
	k = mval(META_FORMAT, sizeof(META_FORMAT) - 1);
	mrc = mdb_get(txn, st->meta, &k, &v);
	if (mrc == MDB_NOTFOUND || (mrc == 0 && v.mv_size != 1)) {
		set_err(err, errlen, _("the store at %s is damaged: its format version "
		        "is missing"), st->dir);
		return STORE_ECORRUPT;
	}
	if (mrc != 0)
		return mdb_fail(mrc, _("cannot read the store's meta data"), err, errlen);
	mi->format = *(const uint8_t *)v.mv_data;
	if (mi->format != STORE_FORMAT && mi->format != STORE_FORMAT_V1) {
		set_err(err, errlen, _("the store at %s has format %d; this program "
		        "reads formats %d and %d"), st->dir, mi->format, STORE_FORMAT_V1,
		        STORE_FORMAT);
		return STORE_ECORRUPT;
	}
	if (mi->format == STORE_FORMAT) {
		k = mval(META_GEN, sizeof(META_GEN) - 1);
		mrc = mdb_get(txn, st->meta, &k, &v);
		if (mrc == 0 && v.mv_size == GEN_LEN) {
			mi->gen = get_be64(v.mv_data);
			k = mval(META_MAC, sizeof(META_MAC) - 1);
			mrc = mdb_get(txn, st->meta, &k, &v);
		}
		if (mrc != 0 || v.mv_size != HMAC_LEN) {
			set_err(err, errlen, _("the store at %s is damaged: its generation "
			        "is missing"), st->dir);
			return STORE_ECORRUPT;
		}
		memcpy(mi->mac, v.mv_data, HMAC_LEN);
	}

	k = mval(META_KEYID, sizeof(META_KEYID) - 1);
	mrc = mdb_get(txn, st->meta, &k, &v);
	if (mrc == 0 && v.mv_size == KEYID_LEN) {
		mi->has_keyid = true;
		memcpy(mi->key_id, v.mv_data, KEYID_LEN);
	} else if (mrc != MDB_NOTFOUND) {
		set_err(err, errlen, _("the store at %s is damaged: bad key id"), st->dir);
		return STORE_ECORRUPT;
	}

	k = mval(META_SLOT_KEYFILE, sizeof(META_SLOT_KEYFILE) - 1);
	mrc = mdb_get(txn, st->meta, &k, &v);
	if (mrc == 0) {
		if (v.mv_size != SLOT_BLOB_LEN) {
			set_err(err, errlen, _("the store at %s is damaged: bad key-file slot"),
			        st->dir);
			return STORE_ECORRUPT;
		}
		mi->has_keyfile = true;
		memcpy(mi->keyfile_slot, v.mv_data, SLOT_BLOB_LEN);
	} else if (mrc != MDB_NOTFOUND) {
		return mdb_fail(mrc, _("cannot read the store's meta data"), err, errlen);
	}

	k = mval(META_SLOT_PASS, sizeof(META_SLOT_PASS) - 1);
	mrc = mdb_get(txn, st->meta, &k, &v);
	if (mrc == 0) {
		const uint8_t *p = v.mv_data;

		if (v.mv_size != PASS_SLOT_LEN) {
			set_err(err, errlen, _("the store at %s is damaged: bad passphrase slot"),
			        st->dir);
			return STORE_ECORRUPT;
		}
		mi->iterations = get_be32(p);
		/* Never hand gnutls_pbkdf2() a count from disk unchecked. */
		if (mi->iterations < PBKDF2_MIN_ITER || mi->iterations > PBKDF2_MAX_ITER) {
			set_err(err, errlen, _("the store at %s is damaged: passphrase slot "
			        "has %u PBKDF2 iterations"), st->dir, mi->iterations);
			return STORE_ECORRUPT;
		}
		mi->has_pass = true;
		memcpy(mi->salt, p + 4, PBKDF2_SALT_LEN);
		memcpy(mi->pass_slot, p + 4 + PBKDF2_SALT_LEN, SLOT_BLOB_LEN);
	} else if (mrc != MDB_NOTFOUND) {
		return mdb_fail(mrc, _("cannot read the store's meta data"), err, errlen);
	}

	if (!mi->has_keyfile && !mi->has_pass) {
		set_err(err, errlen, _("the store at %s is damaged: it has no key slot"),
		        st->dir);
		return STORE_ECORRUPT;
	}
	return STORE_OK;
}

static int
meta_load(struct store *st, struct meta_info *mi, char *err, size_t errlen)
{
	MDB_txn *txn;
	int rc = txn_begin(st, MDB_RDONLY, &txn, err, errlen);

	if (rc != STORE_OK)
		return rc == ST_GROW ? STORE_EIO : rc;
	rc = meta_read(st, txn, mi, err, errlen);
	mdb_txn_abort(txn);
	return rc;
}

/* Unwraps the data key from a slot: 0, or -1 if the key does not open it. */
static int
slot_open_keyfile(const struct meta_info *mi, const uint8_t kfkey[SEAL_KEY_LEN],
                  uint8_t *dk)
{
	return unseal(kfkey, SLOT_KEYFILE_AAD, sizeof(SLOT_KEYFILE_AAD) - 1,
	              mi->keyfile_slot, SLOT_BLOB_LEN, dk, SEAL_KEY_LEN)
	       == SEAL_KEY_LEN ? 0 : -1;
}

static int
slot_open_pass(const struct meta_info *mi, const uint8_t kek[SEAL_KEY_LEN],
               uint8_t *dk)
{
	uint8_t aad[PASS_AAD_MAX];
	size_t n = pass_aad(mi->iterations, mi->salt, aad);

	return unseal(kek, aad, n, mi->pass_slot, SLOT_BLOB_LEN, dk, SEAL_KEY_LEN)
	       == SEAL_KEY_LEN ? 0 : -1;
}

static int
derive_kek(const char *pass, const uint8_t salt[PBKDF2_SALT_LEN],
           unsigned iterations, uint8_t kek[SEAL_KEY_LEN])
{
	if (iterations < PBKDF2_MIN_ITER || iterations > PBKDF2_MAX_ITER)
		return -1;
	return pbkdf2_sha256(pass, strlen(pass), salt, PBKDF2_SALT_LEN, iterations,
	                     kek, SEAL_KEY_LEN);
}

/* Opens the passphrase slot with pass: the derived key lands in kek, the
 * data key in dk. */
static int
slot_open_passphrase(const struct store *st, const struct meta_info *mi,
                     const char *pass, uint8_t kek[SEAL_KEY_LEN], uint8_t *dk,
                     char *err, size_t errlen)
{
	if (derive_kek(pass, mi->salt, mi->iterations, kek) < 0 ||
	    slot_open_pass(mi, kek, dk) < 0) {
		set_err(err, errlen, _("wrong passphrase for the store at %s"), st->dir);
		return STORE_EKEY;
	}
	return STORE_OK;
}

int
put_meta(struct store *st, MDB_txn *txn, const char *name, const void *p,
         size_t n, char *err, size_t errlen)
{
	MDB_val k = mval(name, strlen(name)), v = mval(p, n);
	int mrc = mdb_put(txn, st->meta, &k, &v, 0);

	return mrc ? mdb_fail(mrc, _("cannot write the store's meta data"), err, errlen)
	           : STORE_OK;
}

static int
put_keyfile_slot(struct store *st, MDB_txn *txn, const uint8_t *kfkey,
                 const uint8_t *dk, char *err, size_t errlen)
{
	uint8_t slot[SLOT_BLOB_LEN];

	if (seal(kfkey, SLOT_KEYFILE_AAD, sizeof(SLOT_KEYFILE_AAD) - 1, dk,
	         SEAL_KEY_LEN, slot, sizeof(slot)) != SLOT_BLOB_LEN) {
		set_err(err, errlen, _("cannot seal the key-file slot"));
		return STORE_EIO;
	}
	return put_meta(st, txn, META_SLOT_KEYFILE, slot, sizeof(slot), err, errlen);
}

static int
put_pass_slot(struct store *st, MDB_txn *txn, const uint8_t *kek,
              unsigned iterations, const uint8_t *salt, const uint8_t *dk,
              char *err, size_t errlen)
{
	uint8_t val[PASS_SLOT_LEN], aad[PASS_AAD_MAX];
	size_t n = pass_aad(iterations, salt, aad);

	put_be32(val, iterations);
	memcpy(val + 4, salt, PBKDF2_SALT_LEN);
	if (seal(kek, aad, n, dk, SEAL_KEY_LEN, val + 4 + PBKDF2_SALT_LEN,
	         SLOT_BLOB_LEN) != SLOT_BLOB_LEN) {
		set_err(err, errlen, _("cannot seal the passphrase slot"));
		return STORE_EIO;
	}
	return put_meta(st, txn, META_SLOT_PASS, val, sizeof(val), err, errlen);
}

/* ---- authentication ---------------------------------------------------- */

/* Everything that is not a secret (the meta data's generation, account
 * records, the generation file) is authenticated with HMAC-SHA256 under a
 * key derived from the data key: without the data key nothing can be
 * changed so that it still verifies. */
static int
mac_key_derive(const uint8_t *dk, uint8_t *mk)
{
	const void *p[1] = { MAC_KEY_LABEL };
	size_t l[1] = { sizeof(MAC_KEY_LABEL) - 1 };

	return hmac_sha256(dk, p, l, 1, mk);
}

static int
meta_mac(const uint8_t *mk, const uint8_t key_id[KEYID_LEN], uint64_t gen,
         uint8_t out[HMAC_LEN])
{
	uint8_t fmt = STORE_FORMAT, g[GEN_LEN];
	const void *p[4] = { MAC_META_LABEL, &fmt, key_id, g };
	size_t l[4] = { sizeof(MAC_META_LABEL), 1, KEYID_LEN, GEN_LEN };

	put_be64(g, gen);
	return hmac_sha256(mk, p, l, 4, out);
}

bool
meta_verify(const struct meta_info *mi, const uint8_t *mk)
{
	uint8_t want[HMAC_LEN];

	return mi->format == STORE_FORMAT && mi->has_keyid &&
	       meta_mac(mk, mi->key_id, mi->gen, want) == 0 &&
	       mem_equal(want, mi->mac, HMAC_LEN);
}

int
put_gen(struct store *st, MDB_txn *txn, const uint8_t *mk,
        const uint8_t key_id[KEYID_LEN], uint64_t gen, char *err, size_t errlen)
{
	uint8_t g[GEN_LEN], mac[HMAC_LEN];
	int rc;

	put_be64(g, gen);
	if (meta_mac(mk, key_id, gen, mac) < 0) {
		set_err(err, errlen, _("cannot authenticate the store's meta data"));
		return STORE_EIO;
	}
	rc = put_meta(st, txn, META_GEN, g, GEN_LEN, err, errlen);
	if (rc == STORE_OK)
		rc = put_meta(st, txn, META_MAC, mac, HMAC_LEN, err, errlen);
	if (rc == STORE_OK)
		st->gen_pending = gen;
	return rc;
}

/* Every write transaction counts one generation: the store's meta data is
 * checked, and the new count written and authenticated. */
int
gen_bump(struct store *st, MDB_txn *txn, uint64_t *gen, char *err, size_t errlen)
{
	struct meta_info mi;
	int rc = meta_read(st, txn, &mi, err, errlen);

	if (rc != STORE_OK)
		return rc;
	if (!meta_verify(&mi, st->mac_key)) {
		set_err(err, errlen, _("the store at %s is damaged: its meta data fails "
		        "its integrity check"), st->dir);
		return STORE_ECORRUPT;
	}
	*gen = mi.gen + 1;
	return put_gen(st, txn, st->mac_key, st->key_id, *gen, err, errlen);
}

/* ---- the generation file -------------------------------------------------- */

/* A copy of data.mdb put back in place of a newer one carries an older
 * generation, with a valid HMAC. Only state outside the store can tell: the
 * generation of the last write is kept beside the key file, authenticated
 * like the meta data and naming the data key (by its id). The unlock of a
 * store whose generation is older than the file's is refused. The file is
 * written after each commit: a crash in between only makes the file lag. */
static void
hex_put(char *out, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
genfile_mac(const uint8_t *mk, const uint8_t key_id[KEYID_LEN], uint64_t gen,
             uint8_t out[HMAC_LEN])
{
	uint8_t g[GEN_LEN];
	const void *p[3] = { MAC_GEN_LABEL, key_id, g };
	size_t l[3] = { sizeof(MAC_GEN_LABEL), KEYID_LEN, GEN_LEN };

	put_be64(g, gen);
	return hmac_sha256(mk, p, l, 3, out);
}

void
genfile_write(struct store *st, uint64_t gen)
{
	char tmp[1200], kid[2 * KEYID_LEN + 1], mac[2 * HMAC_LEN + 1], line[256];
	uint8_t m[HMAC_LEN];
	mode_t old;
	int fd, n;

	if (st->mac_key == NULL || genfile_mac(st->mac_key, st->key_id, gen, m) < 0 ||
	    str_printf(tmp, sizeof(tmp), "%s.tmp%ld", st->gen_path, (long)getpid()) < 0)
		return;
	hex_put(kid, st->key_id, KEYID_LEN);
	hex_put(mac, m, HMAC_LEN);
	n = snprintf(line, sizeof(line), "%s%s %llu %s\n", GENFILE_HEADER, kid,
	             (unsigned long long)gen, mac);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	old = umask(077);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	umask(old);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)n) != n || close(fd) != 0 ||
	    rename(tmp, st->gen_path) != 0)
		(void)unlink(tmp);
}

/* What the generation file says, read before the store's meta data (so
 * that a commit in between can only make the store look newer), and
 * verified once the HMAC key is known. */
struct genfile {
	bool ok;
	char key_id[2 * KEYID_LEN + 1];
	unsigned long long gen;
	char mac[2 * HMAC_LEN + 1];
};

static void
genfile_load(const struct store *st, struct genfile *gf)
{
	const size_t hdr = sizeof(GENFILE_HEADER) - 1;
	char buf[256];
	ssize_t n;
	int fd = open(st->gen_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	memset(gf, 0, sizeof(*gf));
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= (ssize_t)hdr)
		return;
	buf[n] = '\0';
	gf->ok = memcmp(buf, GENFILE_HEADER, hdr) == 0 &&
	         sscanf(buf + hdr, "%32s %llu %64s", gf->key_id, &gf->gen, gf->mac) == 3;
}

/* The generation the file records for this data key, or 0 when there is
 * no file, or it is of another key or does not verify. */
static uint64_t
genfile_verified(const struct genfile *gf, const uint8_t *mk,
                 const uint8_t key_id[KEYID_LEN])
{
	char want[2 * HMAC_LEN + 1];
	uint8_t m[HMAC_LEN];

	if (!gf->ok)
		return 0;
	hex_put(want, key_id, KEYID_LEN);
	if (strcmp(gf->key_id, want) != 0 ||
	    genfile_mac(mk, key_id, (uint64_t)gf->gen, m) < 0)
		return 0;
	hex_put(want, m, HMAC_LEN);
	return strcmp(want, gf->mac) == 0 ? (uint64_t)gf->gen : 0;
}

struct init_ctx {
	const uint8_t *kfkey;
	const uint8_t *dk;
	const uint8_t *mk;
	const uint8_t *key_id;
};

static int
init_write(struct store *st, MDB_txn *txn, void *vctx, char *err, size_t errlen)
{
	const struct init_ctx *c = vctx;
	uint8_t fmt = STORE_FORMAT;
	int mrc = open_dbis(st, txn, MDB_CREATE), rc;

	if (mrc != 0)
		return mdb_fail(mrc, _("cannot create the store"), err, errlen);
	rc = put_meta(st, txn, META_FORMAT, &fmt, 1, err, errlen);
	if (rc == STORE_OK)
		rc = put_meta(st, txn, META_KEYID, c->key_id, KEYID_LEN, err, errlen);
	if (rc == STORE_OK)
		rc = put_keyfile_slot(st, txn, c->kfkey, c->dk, err, errlen);
	if (rc == STORE_OK)
		rc = put_gen(st, txn, c->mk, c->key_id, 0, err, errlen);
	return rc;
}

/* Fills the meta database of a new (empty) environment; the store comes
 * out unlocked with its fresh data key. */
int
store_init(struct store *st, char *err, size_t errlen)
{
	uint8_t *kfkey = secmem_alloc(SEAL_KEY_LEN);
	uint8_t *dk = secmem_alloc(SEAL_KEY_LEN);
	uint8_t *mk = secmem_alloc(SEAL_KEY_LEN);
	uint8_t key_id[KEYID_LEN];
	struct init_ctx c;
	int rc;

	if (kfkey == NULL || dk == NULL || mk == NULL) {
		rc = STORE_ENOMEM;
		goto out;
	}
	/* Its directory made first, so that where it ends up is checked. */
	{
		char kdir[1024];
		mode_t old = umask(077);

		if (parent_dir(st->key_file, kdir, sizeof(kdir)) == 0)
			(void)mkdir_p(kdir);
		umask(old);
	}
	rc = keyfile_place_check(st->dir, st->key_file, err, errlen);
	if (rc == STORE_OK)
		rc = keyfile_read(st->key_file, kfkey, err, errlen);
	if (rc == STORE_ENOENT)
		rc = keyfile_create(st->key_file, kfkey, true, err, errlen);
	if (rc != STORE_OK)
		goto out;
	if (random_bytes(dk, SEAL_KEY_LEN) < 0 || random_bytes(key_id, KEYID_LEN) < 0 ||
	    mac_key_derive(dk, mk) < 0) {
		set_err(err, errlen, _("the random number generator failed"));
		rc = STORE_EIO;
		goto out;
	}
	c.kfkey = kfkey;
	c.dk = dk;
	c.mk = mk;
	c.key_id = key_id;
	rc = store_write(st, init_write, &c, err, errlen);
	if (rc == STORE_OK) {
		st->data_key = dk;
		st->mac_key = mk;
		dk = mk = NULL;
		memcpy(st->key_id, key_id, KEYID_LEN);
	}
out:
	secmem_free(kfkey, SEAL_KEY_LEN);
	secmem_free(dk, SEAL_KEY_LEN);
	secmem_free(mk, SEAL_KEY_LEN);
	return rc;
}

/* A rotation writes the new key file as "<key file>.new", commits, then
 * renames it into place: killed in between, the store opens only with the
 * new file, which is then put in place here. */
static int
keyfile_finish_rotation(struct store *st, const struct meta_info *mi,
                        uint8_t *kk, uint8_t *dk)
{
	char next[1100];

	if (str_printf(next, sizeof(next), "%s.new", st->key_file) < 0 ||
	    keyfile_read(next, kk, NULL, 0) != STORE_OK ||
	    slot_open_keyfile(mi, kk, dk) < 0)
		return -1;
	if (rename(next, st->key_file) != 0 && errno != ENOENT)
		return -1;
	return 0;
}

int
store_unlock(struct store *st, const char *passphrase, char *err, size_t errlen)
{
	struct meta_info mi;
	struct genfile gf;
	uint8_t *dk, *kk, *mk;
	char kferr[512] = "";
	uint64_t seen;
	int rc, kfrc = STORE_ENOENT;

	if (st == NULL)
		return STORE_EINVAL;
	genfile_load(st, &gf);
	rc = meta_load(st, &mi, err, errlen);
	if (rc != STORE_OK)
		return rc;
	if (st->data_key && mi.has_keyid && memcmp(mi.key_id, st->key_id, KEYID_LEN) == 0)
		return STORE_OK;
	dk = secmem_alloc(SEAL_KEY_LEN);
	kk = secmem_alloc(SEAL_KEY_LEN);
	mk = secmem_alloc(SEAL_KEY_LEN);
	if (dk == NULL || kk == NULL || mk == NULL) {
		rc = STORE_ENOMEM;
		goto out;
	}
	if (mi.has_keyfile) {
		kfrc = keyfile_place_check(st->dir, st->key_file, kferr, sizeof(kferr));
		if (kfrc == STORE_OK)
			kfrc = keyfile_read(st->key_file, kk, kferr, sizeof(kferr));
		if (kfrc == STORE_OK) {
			if (slot_open_keyfile(&mi, kk, dk) == 0 ||
			    keyfile_finish_rotation(st, &mi, kk, dk) == 0)
				goto unlocked;
			kfrc = STORE_EKEY;
			set_err(kferr, sizeof(kferr), _("key file %s does not open this store "
			        "(it belongs to another store or was replaced)"), st->key_file);
		} else if (kfrc == STORE_EPERM) {
			set_err(err, errlen, "%s", kferr);
			rc = STORE_EPERM;
			goto out;
		}
	}
	if (!mi.has_pass) {
		set_err(err, errlen, "%s", kferr);
		rc = STORE_EKEY;
		goto out;
	}
	if (passphrase == NULL) {
		if (mi.has_keyfile && kfrc != STORE_ENOENT) {
			set_err(err, errlen, _("%s; the passphrase can open it instead"), kferr);
			rc = STORE_EKEY;
		} else {
			if (mi.has_keyfile)
				set_err(err, errlen, _("this store needs its passphrase (%s)"), kferr);
			else
				set_err(err, errlen, _("this store needs its passphrase"));
			rc = STORE_NEEDPASS;
		}
		goto out;
	}
	rc = slot_open_passphrase(st, &mi, passphrase, kk, dk, err, errlen);
	if (rc != STORE_OK)
		goto out;
unlocked:
	if (mac_key_derive(dk, mk) < 0) {
		rc = STORE_EIO;
		goto out;
	}
	if (mi.format == STORE_FORMAT && !meta_verify(&mi, mk)) {
		set_err(err, errlen, _("the store at %s is damaged: its meta data fails "
		        "its integrity check (altered, or key slots from another copy)"),
		        st->dir);
		rc = STORE_ECORRUPT;
		goto out;
	}
	seen = genfile_verified(&gf, mk, mi.key_id);
	if (mi.format == STORE_FORMAT && seen > mi.gen) {
		set_err(err, errlen, _("the store at %s is older than the last one written "
		        "with this key (generation %llu, %s says %llu): an older copy "
		        "was put back; restore the newest backup"), st->dir,
		        (unsigned long long)mi.gen, st->gen_path, (unsigned long long)seen);
		rc = STORE_ECORRUPT;
		goto out;
	}
	secmem_free(st->data_key, SEAL_KEY_LEN);
	secmem_free(st->mac_key, SEAL_KEY_LEN);
	st->data_key = dk;
	st->mac_key = mk;
	dk = mk = NULL;
	memcpy(st->key_id, mi.key_id, KEYID_LEN);
	rc = STORE_OK;
	if (mi.format == STORE_FORMAT_V1) {
		rc = store_write(st, migrate_write, NULL, err, errlen);
		if (rc == STORE_OK) {
			store_scrub(st);
		} else {
			secmem_free(st->data_key, SEAL_KEY_LEN);
			secmem_free(st->mac_key, SEAL_KEY_LEN);
			st->data_key = st->mac_key = NULL;
		}
	} else if (seen < mi.gen) {
		genfile_write(st, mi.gen);
	}
out:
	secmem_free(dk, SEAL_KEY_LEN);
	secmem_free(kk, SEAL_KEY_LEN);
	secmem_free(mk, SEAL_KEY_LEN);
	secmem_wipe(&mi, sizeof(mi));
	return rc;
}

bool
store_is_unlocked(const struct store *st)
{
	return st && st->data_key;
}

bool
store_has_passphrase(const struct store *st)
{
	struct meta_info mi;

	return st && meta_load((struct store *)st, &mi, NULL, 0) == STORE_OK && mi.has_pass;
}

bool
store_has_keyfile_slot(const struct store *st)
{
	struct meta_info mi;

	return st && meta_load((struct store *)st, &mi, NULL, 0) == STORE_OK &&
	       mi.has_keyfile;
}

/* The data key in memory must be the one in the store: another process may
 * have rotated it since we unlocked. */
int
check_key_current(struct store *st, MDB_txn *txn, char *err, size_t errlen)
{
	MDB_val k = mval(META_KEYID, sizeof(META_KEYID) - 1), v;

	if (st->data_key == NULL || st->mac_key == NULL) {
		set_err(err, errlen, _("the store is locked: unlock it to change it or "
		        "use passwords"));
		return STORE_ELOCKED;
	}
	if (mdb_get(txn, st->meta, &k, &v) != 0 || v.mv_size != KEYID_LEN ||
	    memcmp(v.mv_data, st->key_id, KEYID_LEN) != 0) {
		set_err(err, errlen, _("the store's key was changed by another program; "
		        "unlock it again"));
		return STORE_ELOCKED;
	}
	return STORE_OK;
}

/* ---- passphrase and rotation ------------------------------------------- */

struct pass_ctx {
	const uint8_t *kek;             /* NULL: keep the passphrase slot */
	unsigned iterations;
	const uint8_t *salt;
	bool drop_keyfile;
};

static int
pass_write(struct store *st, MDB_txn *txn, void *vctx, char *err, size_t errlen)
{
	const struct pass_ctx *c = vctx;
	struct meta_info mi;
	uint64_t g;
	MDB_val k;
	int rc, mrc;

	rc = check_key_current(st, txn, err, errlen);
	if (rc == STORE_OK)
		rc = gen_bump(st, txn, &g, err, errlen);
	if (rc == STORE_OK)
		rc = meta_read(st, txn, &mi, err, errlen);
	if (rc != STORE_OK)
		return rc;
	if (c->kek) {
		rc = put_pass_slot(st, txn, c->kek, c->iterations, c->salt, st->data_key,
		                   err, errlen);
		if (rc != STORE_OK)
			return rc;
	} else if (!mi.has_pass) {
		set_err(err, errlen, _("the store has no passphrase: set one before "
		        "removing the key file"));
		return STORE_EINVAL;
	}
	if (c->drop_keyfile && mi.has_keyfile) {
		k = mval(META_SLOT_KEYFILE, sizeof(META_SLOT_KEYFILE) - 1);
		mrc = mdb_del(txn, st->meta, &k, NULL);
		if (mrc != 0)
			return mdb_fail(mrc, _("cannot remove the key-file slot"), err, errlen);
	}
	return STORE_OK;
}

int
store_set_passphrase(struct store *st, const char *passphrase,
                     bool drop_keyfile, char *err, size_t errlen)
{
	uint8_t salt[PBKDF2_SALT_LEN];
	uint8_t *kek = NULL;
	struct pass_ctx c;
	const char *why;
	int rc;

	if (st == NULL)
		return STORE_EINVAL;
	if (st->data_key == NULL) {
		set_err(err, errlen, _("the store is locked: unlock it first"));
		return STORE_ELOCKED;
	}
	if (passphrase == NULL && !drop_keyfile) {
		set_err(err, errlen, _("no passphrase given"));
		return STORE_EINVAL;
	}
	/* The one rule of the commands and the console (model/policy.c). */
	if (passphrase && (why = policy_passphrase(passphrase))) {
		set_err(err, errlen, _("invalid passphrase: %s"), why);
		return STORE_EINVAL;
	}
	memset(&c, 0, sizeof(c));
	c.drop_keyfile = drop_keyfile;
	if (passphrase) {
		kek = secmem_alloc(SEAL_KEY_LEN);
		if (kek == NULL)
			return STORE_ENOMEM;
		if (random_bytes(salt, sizeof(salt)) < 0 ||
		    derive_kek(passphrase, salt, PBKDF2_MIN_ITER, kek) < 0) {
			secmem_free(kek, SEAL_KEY_LEN);
			set_err(err, errlen, _("cannot derive a key from the passphrase"));
			return STORE_EIO;
		}
		c.kek = kek;
		c.iterations = PBKDF2_MIN_ITER;
		c.salt = salt;
	}
	rc = store_write(st, pass_write, &c, err, errlen);
	secmem_free(kek, SEAL_KEY_LEN);
	/* The old slots must not open the store from a freed page. */
	if (rc == STORE_OK)
		store_scrub(st);
	return rc;
}

struct rotate_ctx {
	const uint8_t *new_dk;
	const uint8_t *new_mk;
	const uint8_t *new_id;
	const uint8_t *kfkey;           /* NULL: no key-file slot */
	const uint8_t *kek;             /* NULL: no passphrase slot */
	const struct meta_info *mi;
};

static int
rotate_write(struct store *st, MDB_txn *txn, void *vctx, char *err, size_t errlen)
{
	const struct rotate_ctx *c = vctx;
	struct meta_info mi;
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t *val;
	char *tmp;
	int rc, mrc;

	rc = check_key_current(st, txn, err, errlen);
	if (rc == STORE_OK)
		rc = meta_read(st, txn, &mi, err, errlen);
	if (rc != STORE_OK)
		return rc;
	if (!meta_verify(&mi, st->mac_key)) {
		set_err(err, errlen, _("the store at %s is damaged: its meta data fails "
		        "its integrity check"), st->dir);
		return STORE_ECORRUPT;
	}
	tmp = secmem_alloc(STORE_SECRET_MAX + 1);
	val = malloc(RECORD_MAX + RECORD_TRAILER + SECRET_VALUE_MAX);
	if (tmp == NULL || val == NULL) {
		secmem_free(tmp, STORE_SECRET_MAX + 1);
		free(val);
		return STORE_ENOMEM;
	}
	/* Secrets first: each is checked against its record under the old
	 * HMAC key, then sealed again under the new data key. */
	mrc = mdb_cursor_open(txn, st->secrets, &cur);
	if (mrc != 0) {
		rc = mdb_fail(mrc, _("cannot read the passwords"), err, errlen);
		goto out;
	}
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint8_t aad[SKEY_MAX + 1 + GEN_LEN];
		char shown[ACCT_EMAIL_MAX + 1], akey[ACCT_EMAIL_MAX + 1];
		const char *nul = k.mv_size ? memchr(k.mv_data, 0, k.mv_size) : NULL;
		size_t alen;
		uint64_t g = 0;
		long n;

		key_text(&k, shown, sizeof(shown));
		if (nul == NULL || k.mv_size < 2 || k.mv_size > SKEY_MAX ||
		    (size_t)(nul - (const char *)k.mv_data) + 2 != k.mv_size) {
			rc = STORE_ECORRUPT;
		} else {
			memcpy(akey, k.mv_data, (size_t)(nul - (const char *)k.mv_data) + 1);
			rc = record_get_gen(st, txn, akey, &g, NULL);
			if (rc == STORE_OK)
				rc = secret_open(st, k.mv_data, k.mv_size, g, &v, tmp);
		}
		if (rc != STORE_OK) {
			set_err(err, errlen, _("a password of %s fails its integrity check; "
			        "set it again or remove it before changing the key"), shown);
			rc = STORE_ECORRUPT;
			break;
		}
		alen = secret_aad(k.mv_data, k.mv_size, g, aad);
		put_be64(val, g);
		n = seal(c->new_dk, aad, alen, tmp, strlen(tmp), val + GEN_LEN,
		         SECRET_BLOB_MAX);
		secmem_wipe(tmp, STORE_SECRET_MAX + 1);
		if (n < 0) {
			set_err(err, errlen, _("cannot seal a password"));
			rc = STORE_EIO;
			break;
		}
		/* Same length as before: replaced in place under the cursor. */
		v = mval(val, GEN_LEN + (size_t)n);
		mrc = mdb_cursor_put(cur, &k, &v, MDB_CURRENT);
		if (mrc != 0) {
			rc = mdb_fail(mrc, _("cannot write a password"), err, errlen);
			break;
		}
	}
	if (rc == STORE_OK && mrc != MDB_NOTFOUND)
		rc = mdb_fail(mrc, _("cannot read the passwords"), err, errlen);
	mdb_cursor_close(cur);
	if (rc != STORE_OK)
		goto out;

	/* Then every record, authenticated again under the new HMAC key. */
	mrc = mdb_cursor_open(txn, st->accounts, &cur);
	if (mrc != 0) {
		rc = mdb_fail(mrc, _("cannot read the accounts"), err, errlen);
		goto out;
	}
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char akey[ACCT_EMAIL_MAX + 1];
		size_t tl, n;
		uint64_t g;

		if (k.mv_size == 0 || k.mv_size > ACCT_EMAIL_MAX ||
		    memchr(k.mv_data, 0, k.mv_size)) {
			rc = STORE_ECORRUPT;
		} else {
			memcpy(akey, k.mv_data, k.mv_size);
			akey[k.mv_size] = '\0';
			rc = record_split(st->mac_key, akey, &v, &tl, &g) == 0 ? STORE_OK
			     : STORE_ECORRUPT;
		}
		if (rc != STORE_OK) {
			key_text(&k, akey, sizeof(akey));
			set_err(err, errlen, _("the record of %s fails its integrity check; "
			        "remove the account before changing the key"), akey);
			break;
		}
		if (record_pack(c->new_mk, akey, g, v.mv_data, tl, val, &n) < 0) {
			rc = STORE_EIO;
			break;
		}
		v = mval(val, n);
		mrc = mdb_cursor_put(cur, &k, &v, MDB_CURRENT);
		if (mrc != 0) {
			rc = mdb_fail(mrc, _("cannot write the accounts"), err, errlen);
			break;
		}
	}
	if (rc == STORE_OK && mrc != MDB_NOTFOUND)
		rc = mdb_fail(mrc, _("cannot read the accounts"), err, errlen);
	mdb_cursor_close(cur);
	if (rc != STORE_OK)
		goto out;
	if (c->kfkey)
		rc = put_keyfile_slot(st, txn, c->kfkey, c->new_dk, err, errlen);
	if (rc == STORE_OK && c->kek)
		rc = put_pass_slot(st, txn, c->kek, c->mi->iterations, c->mi->salt,
		                   c->new_dk, err, errlen);
	if (rc == STORE_OK)
		rc = put_meta(st, txn, META_KEYID, c->new_id, KEYID_LEN, err, errlen);
	if (rc == STORE_OK)
		rc = put_gen(st, txn, c->new_mk, c->new_id, mi.gen + 1, err, errlen);
out:
	secmem_free(tmp, STORE_SECRET_MAX + 1);
	free(val);
	secmem_wipe(&mi, sizeof(mi));
	return rc;
}

int
store_rotate(struct store *st, const char *passphrase, char *err, size_t errlen)
{
	struct meta_info mi;
	struct rotate_ctx c;
	uint8_t new_id[KEYID_LEN];
	uint8_t *kfkey, *kek, *new_dk, *new_mk, *new_kf, *check;
	char next[1100], kfdir[1024];
	bool wrote_next = false;
	int rc, lockfd = -1;

	if (st == NULL)
		return STORE_EINVAL;
	if (st->data_key == NULL) {
		set_err(err, errlen, _("the store is locked: unlock it first"));
		return STORE_ELOCKED;
	}
	if (str_printf(next, sizeof(next), "%s.new", st->key_file) < 0 ||
	    parent_dir(st->key_file, kfdir, sizeof(kfdir)) < 0) {
		set_err(err, errlen, _("key file path too long: %s"), st->key_file);
		return STORE_EINVAL;
	}
	/* One rotation at a time: each writes "<key file>.new". One that ran
	 * while we waited changed the key: take the current one. */
	rc = lock_take(st, true, true, &lockfd, err, errlen);
	if (rc != STORE_OK)
		return rc;
	rc = store_unlock(st, passphrase, err, errlen);
	if (rc == STORE_OK)
		rc = meta_load(st, &mi, err, errlen);
	if (rc != STORE_OK) {
		close(lockfd);
		return rc;
	}
	kfkey = secmem_alloc(SEAL_KEY_LEN);
	kek = secmem_alloc(SEAL_KEY_LEN);
	new_dk = secmem_alloc(SEAL_KEY_LEN);
	new_mk = secmem_alloc(SEAL_KEY_LEN);
	new_kf = secmem_alloc(SEAL_KEY_LEN);
	check = secmem_alloc(SEAL_KEY_LEN);
	if (!kfkey || !kek || !new_dk || !new_mk || !new_kf || !check) {
		rc = STORE_ENOMEM;
		goto out;
	}
	memset(&c, 0, sizeof(c));
	c.mi = &mi;
	/* Every slot is re-wrapped, so every slot's key must be at hand and
	 * must really open its slot. */
	if (mi.has_keyfile) {
		rc = keyfile_read(st->key_file, kfkey, err, errlen);
		if (rc == STORE_ENOENT)
			rc = STORE_EKEY;
		if (rc != STORE_OK)
			goto out;
		if (slot_open_keyfile(&mi, kfkey, check) < 0) {
			set_err(err, errlen, _("key file %s does not open this store"), st->key_file);
			rc = STORE_EKEY;
			goto out;
		}
		c.kfkey = kfkey;
	}
	if (mi.has_pass) {
		if (passphrase == NULL) {
			set_err(err, errlen, _("this store has a passphrase: it is needed to "
			        "change the key"));
			rc = STORE_NEEDPASS;
			goto out;
		}
		rc = slot_open_passphrase(st, &mi, passphrase, kek, check, err, errlen);
		if (rc != STORE_OK)
			goto out;
		c.kek = kek;
	}
	if (random_bytes(new_dk, SEAL_KEY_LEN) < 0 || random_bytes(new_id, KEYID_LEN) < 0 ||
	    random_bytes(new_kf, SEAL_KEY_LEN) < 0 || mac_key_derive(new_dk, new_mk) < 0) {
		set_err(err, errlen, _("the random number generator failed"));
		rc = STORE_EIO;
		goto out;
	}
	/* A new key-file key too: a copy of the store taken before the
	 * rotation must not open with the key file kept after it. The new
	 * file goes in place only once the store is committed. */
	if (c.kfkey) {
		(void)unlink(next);
		rc = keyfile_create(next, new_kf, false, err, errlen);
		if (rc != STORE_OK)
			goto out;
		wrote_next = true;
		c.kfkey = new_kf;
	}
	c.new_dk = new_dk;
	c.new_mk = new_mk;
	c.new_id = new_id;
	rc = store_write(st, rotate_write, &c, err, errlen);
	if (rc == STORE_OK) {
		if (wrote_next) {
			if (rename(next, st->key_file) != 0 && errno != ENOENT) {
				set_err(err, errlen, _("the store was rotated but %s could not "
				        "replace %s: %s (rename it by hand)"), next, st->key_file,
				        strerror(errno));
				rc = STORE_EIO;
			}
			wrote_next = false;
			dir_sync(kfdir);
		}
		secmem_free(st->data_key, SEAL_KEY_LEN);
		secmem_free(st->mac_key, SEAL_KEY_LEN);
		st->data_key = new_dk;
		st->mac_key = new_mk;
		new_dk = new_mk = NULL;
		memcpy(st->key_id, new_id, KEYID_LEN);
		genfile_write(st, st->gen_pending);
		store_scrub(st);
	}
out:
	if (wrote_next)
		(void)unlink(next);
	close(lockfd);
	secmem_free(new_mk, SEAL_KEY_LEN);
	secmem_free(new_kf, SEAL_KEY_LEN);
	secmem_free(kfkey, SEAL_KEY_LEN);
	secmem_free(kek, SEAL_KEY_LEN);
	secmem_free(new_dk, SEAL_KEY_LEN);
	secmem_free(check, SEAL_KEY_LEN);
	secmem_wipe(&mi, sizeof(mi));
	return rc;
}
