/* The account store: one LMDB environment with three named databases.
 *
 *   meta      "format"          1 byte, STORE_FORMAT (2; 1 is migrated)
 *             "keyid"           16 random bytes, changed by every rotation
 *             "slot.keyfile"    seal(key-file key, SLOT_KEYFILE_AAD, data key)
 *             "slot.passphrase" iterations (4, big-endian) | salt (16) |
 *                               seal(PBKDF2 key, SLOT_PASS_AAD|iter|salt, data key)
 *             "gen"             8 bytes, big-endian: one more at each write
 *             "mac"             HMAC(mac key, MAC_META_LABEL | format | keyid | gen)
 *   accounts  account_key(email) -> account_serialize() text | NUL | g (8) |
 *                               HMAC(mac key, MAC_RECORD_LABEL | key | NUL | g | text)
 *   secrets   account key "\0" field byte -> g (8) | seal(data key,
 *                               STORE_FORMAT | that same key | g, password)
 *
 * The mac key is HMAC(data key, MAC_KEY_LABEL). g is the generation at
 * which the account's settings or passwords last changed: every such change
 * re-seals its passwords under the new g, so a password opens only with the
 * record (the server) it was stored with, and an older copy of it no more.
 *
 * Only sealed bytes ever reach LMDB for secrets. Unlocking a store of the
 * current format writes nothing to it; every change is one write
 * transaction, so a crash leaves the old or the new state, and every change
 * needs the key.
 *
 * The key file is two lines: KEYFILE_HEADER, then the 32-byte key as 64
 * lowercase hex digits and a newline; anything else is refused.
 *
 * Beside LMDB's files the store directory holds "store.lock", flock()ed
 * exclusively by the one process creating the store and shared by every
 * other while it opens, and "creating", which exists from before LMDB's
 * first byte until the first key slot is committed: whoever takes the lock
 * next and finds it finishes the creation, or starts it again when the
 * environment holds nothing yet. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <lmdb.h>

#include "account.h"
#include "policy.h"
#include "seal.h"
#include "secmem.h"
#include "store.h"
#include "util.h"

#define STORE_FORMAT      2
#define STORE_FORMAT_V1   1       /* unauthenticated records; migrated at unlock */
#define KEYFILE_HEADER    "fluenzr-store-key v1\n"
#define KEYFILE_LEN       (sizeof(KEYFILE_HEADER) - 1 + 2 * SEAL_KEY_LEN + 1)
#define SLOT_KEYFILE_AAD  "fluenzr-slot-keyfile-v1"
#define SLOT_PASS_AAD     "fluenzr-slot-passphrase-v1"
#define SLOT_BLOB_LEN     (SEAL_KEY_LEN + SEAL_OVERHEAD)
#define PASS_SLOT_LEN     (4 + PBKDF2_SALT_LEN + SLOT_BLOB_LEN)
#define KEYID_LEN         16
#define PASS_MAX          1024

#define META_FORMAT       "format"
#define META_KEYID        "keyid"
#define META_SLOT_KEYFILE "slot.keyfile"
#define META_SLOT_PASS    "slot.passphrase"
#define META_GEN          "gen"
#define META_MAC          "mac"

/* What the data key's HMAC key authenticates; each label also names the
 * layout, so that a value of one kind never verifies as another. */
#define MAC_KEY_LABEL     "fluenzr-mac-key-v2"
#define MAC_META_LABEL    "fluenzr-meta-v2"
#define MAC_RECORD_LABEL  "fluenzr-record-v2"
#define MAC_GEN_LABEL     "fluenzr-gen-v2"
#define GEN_LEN           8
/* After a record's text: NUL | generation | HMAC. */
#define RECORD_TRAILER    (1 + GEN_LEN + HMAC_LEN)
#define GENFILE_HEADER    "fluenzr-store-gen v2\n"

#define RECORD_MAX        8192
#define SKEY_MAX          (ACCT_EMAIL_MAX + 1 + 2)
#define SECRET_BLOB_MAX   (ACCT_SECRET_MAX + SEAL_OVERHEAD)
/* A secret's value (format 2): the generation of its account | sealed blob. */
#define SECRET_VALUE_MAX  (GEN_LEN + SECRET_BLOB_MAX)

/* A new environment starts with this map; it doubles on MDB_MAP_FULL, and
 * the size reached is kept in the environment for the next open. */
#define MAP_INITIAL       ((size_t)16 << 20)
#define MAP_MAX           ((size_t)1 << 34)

/* Internal: the write ran out of map; grow and run it again. */
#define ST_GROW           (-100)
/* Internal: creating needs the creation lock exclusively. */
#define ST_NEED_EXCL      (-101)

struct store {
	MDB_env *env;
	MDB_dbi meta, accounts, secrets;
	char dir[1024];
	char key_file[1024];
	char data_path[1100];
	char lock_path[1100];           /* flock()ed around opening and creation */
	char marker_path[1100];         /* exists while a creation is unfinished */
	uint8_t *data_key;              /* secmem; NULL while locked */
	uint8_t *mac_key;               /* secmem, from data_key; NULL while locked */
	char gen_path[1100];            /* beside the key file: the last generation */
	uint64_t gen_pending;           /* generation the running write commits */
	uint8_t key_id[KEYID_LEN];      /* "keyid" when data_key was unwrapped */
	unsigned readers;               /* read txns held open across callbacks */
};

struct meta_info {
	int format;
	bool has_keyid;
	uint8_t key_id[KEYID_LEN];
	bool has_keyfile;
	uint8_t keyfile_slot[SLOT_BLOB_LEN];
	bool has_pass;
	unsigned iterations;
	uint8_t salt[PBKDF2_SALT_LEN];
	uint8_t pass_slot[SLOT_BLOB_LEN];
	uint64_t gen;                   /* format 2: write transactions so far */
	uint8_t mac[HMAC_LEN];          /* format 2: over format, key id, gen */
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static MDB_val
mval(const void *p, size_t n)
{
	MDB_val v;

	v.mv_data = (void *)p;
	v.mv_size = n;
	return v;
}

static int
mdb_to_store(int mrc)
{
	switch (mrc) {
	case 0:
		return STORE_OK;
	case MDB_NOTFOUND:
		return STORE_ENOENT;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE:
	case MDB_PANIC:
		return STORE_ECORRUPT;
	case ENOMEM:
		return STORE_ENOMEM;
	default:
		return STORE_EIO;
	}
}

static int
mdb_fail(int mrc, const char *what, char *err, size_t errlen)
{
	int code;

	if (mrc == MDB_MAP_FULL)
		return ST_GROW;
	code = mdb_to_store(mrc);
	set_err(err, errlen, "%s: %s%s", what, mdb_strerror(mrc),
	        code == STORE_ECORRUPT ? " (the store is damaged)" : "");
	return code;
}

/* LMDB failed on the whole environment while doing ("open", "read") it:
 * damage says what to do about it. */
static int
env_fail(const struct store *st, int mrc, const char *doing, char *err,
         size_t errlen)
{
	int rc = mdb_to_store(mrc);

	if (rc == STORE_ECORRUPT)
		set_err(err, errlen, "the store at %s is damaged: %s (move it aside "
		        "and restore a backup)", st->dir, mdb_strerror(mrc));
	else
		set_err(err, errlen, "cannot %s the store at %s: %s", doing, st->dir,
		        mdb_strerror(mrc));
	return rc;
}

/* ---- transactions ---------------------------------------------------- */

static int
txn_begin(struct store *st, unsigned flags, MDB_txn **txn, char *err,
          size_t errlen)
{
	int mrc = mdb_txn_begin(st->env, NULL, flags, txn);

	if (mrc == MDB_MAP_RESIZED && st->readers == 0) {
		/* Another process grew the map: adopt its size. */
		mrc = mdb_env_set_mapsize(st->env, 0);
		if (mrc == 0)
			mrc = mdb_txn_begin(st->env, NULL, flags, txn);
	}
	if (mrc != 0) {
		*txn = NULL;
		return mdb_fail(mrc, "cannot begin a store transaction", err, errlen);
	}
	return STORE_OK;
}

static int
grow_map(struct store *st, char *err, size_t errlen)
{
	MDB_envinfo info;
	size_t want;
	int mrc;

	if (st->readers > 0) {
		set_err(err, errlen, "the store is full and cannot grow while it is being listed");
		return STORE_EIO;
	}
	mrc = mdb_env_info(st->env, &info);
	if (mrc != 0)
		return mdb_fail(mrc, "cannot read the store size", err, errlen);
	if (info.me_mapsize >= MAP_MAX) {
		set_err(err, errlen, "the store reached its maximum size (%zu MiB)",
		        MAP_MAX >> 20);
		return STORE_EIO;
	}
	want = info.me_mapsize * 2;
	if (want > MAP_MAX)
		want = MAP_MAX;
	mrc = mdb_env_set_mapsize(st->env, want);
	if (mrc != 0)
		return mdb_fail(mrc, "cannot grow the store", err, errlen);
	return STORE_OK;
}

static void genfile_write(struct store *st, uint64_t gen);

/* LMDB reports a short write as EIO: on a full disk (the space the partial
 * write took is gone, so little is left) say so. */
static void
disk_full_note(const struct store *st, int mrc, char *err, size_t errlen)
{
	struct statvfs vfs;

	if (mrc == ENOSPC || (statvfs(st->dir, &vfs) == 0 &&
	                      (uint64_t)vfs.f_bavail * vfs.f_frsize < ((uint64_t)256 << 10)))
		set_err(err, errlen, "cannot commit to the store: %s (on the file "
		        "system of %s; free some space and try again; nothing was "
		        "changed)", strerror(ENOSPC), st->dir);
}
static void store_scrub(struct store *st);

typedef int (*write_fn)(struct store *st, MDB_txn *txn, void *ctx,
                        char *err, size_t errlen);

/* Runs fn in one write transaction; on MDB_MAP_FULL the transaction is
 * aborted, the map doubled and fn run again from scratch. */
static int
store_write(struct store *st, write_fn fn, void *ctx, char *err, size_t errlen)
{
	for (int attempt = 0; attempt < 24; attempt++) {
		MDB_txn *txn;
		uint64_t gen;
		int rc = txn_begin(st, 0, &txn, err, errlen);

		if (rc == ST_GROW)
			rc = STORE_EIO;
		if (rc != STORE_OK)
			return rc;
		st->gen_pending = 0;
		rc = fn(st, txn, ctx, err, errlen);
		/* Read while this transaction holds the writer lock. */
		gen = st->gen_pending;
		if (rc == STORE_OK) {
			int mrc = mdb_txn_commit(txn);

			if (mrc == 0) {
				if (gen)
					genfile_write(st, gen);
				return STORE_OK;
			}
			rc = mdb_fail(mrc, "cannot commit to the store", err, errlen);
			if (mrc == EIO || mrc == ENOSPC)
				disk_full_note(st, mrc, err, errlen);
		} else {
			mdb_txn_abort(txn);
		}
		if (rc != ST_GROW)
			return rc;
		rc = grow_map(st, err, errlen);
		if (rc != STORE_OK)
			return rc;
	}
	set_err(err, errlen, "the store could not grow enough");
	return STORE_EIO;
}

/* ---- permissions and the key file -------------------------------------- */

static int
check_private(const char *path, const struct stat *sb, bool dir, char *err,
              size_t errlen)
{
	/* A file of another user (reached through a symbolic link, say) may
	 * be read or replaced by that user: never trust it with a key. */
	if (sb->st_uid != geteuid()) {
		set_err(err, errlen, "%s belongs to another user (uid %u); it must "
		        "be yours", path, (unsigned)sb->st_uid);
		return STORE_EPERM;
	}
	if ((sb->st_mode & 077) == 0)
		return STORE_OK;
	set_err(err, errlen,
	        "%s is accessible by group or others (mode %04o); "
	        "fix it with: chmod %s '%s'", path, (unsigned)(sb->st_mode & 07777),
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
			set_err(err, errlen, "key file %s not found", path);
			return STORE_ENOENT;
		}
		set_err(err, errlen, "cannot open key file %s: %s", path, strerror(errno));
		return STORE_EIO;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		set_err(err, errlen, "key file %s is not a regular file", path);
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
			set_err(err, errlen, "cannot read key file %s: %s", path,
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
		set_err(err, errlen, "%s is not a fluenzr key file (expected the line "
		        "\"fluenzr-store-key v1\" and 64 lowercase hex digits)", path);
		goto out;
	}
	for (size_t i = 0; i < SEAL_KEY_LEN; i++) {
		int hi = hexval(buf[hdr + 2 * i]), lo = hexval(buf[hdr + 2 * i + 1]);

		if (hi < 0 || lo < 0) {
			set_err(err, errlen, "%s is not a fluenzr key file (bad hex digit)",
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
		set_err(err, errlen, "cannot examine %s: %s", kdir, strerror(errno));
		return STORE_EIO;
	}
	if (sb.st_uid != geteuid() && sb.st_uid != 0) {
		set_err(err, errlen, "the key file's directory %s belongs to another user "
		        "(uid %u); fix it with: chown %u '%s'", kdir, (unsigned)sb.st_uid,
		        (unsigned)geteuid(), kdir);
		return STORE_EPERM;
	}
	if (sb.st_mode & 022) {
		set_err(err, errlen, "the key file's directory %s can be written by group "
		        "or others (mode %04o), who could replace the key file; fix it "
		        "with: chmod go-w '%s'", kdir, (unsigned)(sb.st_mode & 07777), kdir);
		return STORE_EPERM;
	}
	if (realpath(kdir, rk) == NULL || realpath(store_dir, rs) == NULL)
		return STORE_OK;        /* no store directory yet: nothing inside it */
	n = strlen(rs);
	if (strncmp(rk, rs, n) == 0 && (rk[n] == '\0' || rk[n] == '/' ||
	                                 strcmp(rs, "/") == 0)) {
		set_err(err, errlen, "the key file %s is inside the store directory %s "
		        "(are the config and data directories the same?): a copy of the "
		        "store would carry its key; keep it elsewhere with --key-file or "
		        "FLUENZR_KEY_FILE", key_file, store_dir);
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
		set_err(err, errlen, "key file path too long: %s", path);
		return STORE_EINVAL;
	}
	old = umask(077);
	if (mkdir_p(dir) < 0) {
		set_err(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
		umask(old);
		return STORE_EIO;
	}
	(void)unlink(tmp);      /* left by an earlier crash of this pid */
	keyfile_drop_stale(dir, path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	umask(old);
	if (fd < 0) {
		set_err(err, errlen, "cannot create key file %s: %s", path, strerror(errno));
		return STORE_EIO;
	}
	buf = secmem_alloc(KEYFILE_LEN);
	if (buf == NULL) {
		rc = STORE_ENOMEM;
		goto fail;
	}
	if (fchmod(fd, 0600) != 0 || (fresh && random_bytes(key, SEAL_KEY_LEN) < 0)) {
		set_err(err, errlen, "cannot create key file %s: %s", path, strerror(errno));
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
			set_err(err, errlen, "cannot write key file %s: %s", path,
			        strerror(errno));
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		set_err(err, errlen, "cannot write key file %s: %s", path, strerror(errno));
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
		set_err(err, errlen, "cannot create key file %s: %s", path, strerror(errno));
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

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static uint64_t
get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

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

static int
meta_read(struct store *st, MDB_txn *txn, struct meta_info *mi, char *err,
          size_t errlen)
{
	MDB_val k, v;
	int mrc;

	memset(mi, 0, sizeof(*mi));
	k = mval(META_FORMAT, sizeof(META_FORMAT) - 1);
	mrc = mdb_get(txn, st->meta, &k, &v);
	if (mrc == MDB_NOTFOUND || (mrc == 0 && v.mv_size != 1)) {
		set_err(err, errlen, "the store at %s is damaged: its format version "
		        "is missing", st->dir);
		return STORE_ECORRUPT;
	}
	if (mrc != 0)
		return mdb_fail(mrc, "cannot read the store's meta data", err, errlen);
	mi->format = *(const uint8_t *)v.mv_data;
	if (mi->format != STORE_FORMAT && mi->format != STORE_FORMAT_V1) {
		set_err(err, errlen, "the store at %s has format %d; this program "
		        "reads formats %d and %d", st->dir, mi->format, STORE_FORMAT_V1,
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
			set_err(err, errlen, "the store at %s is damaged: its generation "
			        "is missing", st->dir);
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
		set_err(err, errlen, "the store at %s is damaged: bad key id", st->dir);
		return STORE_ECORRUPT;
	}

	k = mval(META_SLOT_KEYFILE, sizeof(META_SLOT_KEYFILE) - 1);
	mrc = mdb_get(txn, st->meta, &k, &v);
	if (mrc == 0) {
		if (v.mv_size != SLOT_BLOB_LEN) {
			set_err(err, errlen, "the store at %s is damaged: bad key-file slot",
			        st->dir);
			return STORE_ECORRUPT;
		}
		mi->has_keyfile = true;
		memcpy(mi->keyfile_slot, v.mv_data, SLOT_BLOB_LEN);
	} else if (mrc != MDB_NOTFOUND) {
		return mdb_fail(mrc, "cannot read the store's meta data", err, errlen);
	}

	k = mval(META_SLOT_PASS, sizeof(META_SLOT_PASS) - 1);
	mrc = mdb_get(txn, st->meta, &k, &v);
	if (mrc == 0) {
		const uint8_t *p = v.mv_data;

		if (v.mv_size != PASS_SLOT_LEN) {
			set_err(err, errlen, "the store at %s is damaged: bad passphrase slot",
			        st->dir);
			return STORE_ECORRUPT;
		}
		mi->iterations = get_be32(p);
		/* Never hand gnutls_pbkdf2() a count from disk unchecked. */
		if (mi->iterations < PBKDF2_MIN_ITER || mi->iterations > PBKDF2_MAX_ITER) {
			set_err(err, errlen, "the store at %s is damaged: passphrase slot "
			        "has %u PBKDF2 iterations", st->dir, mi->iterations);
			return STORE_ECORRUPT;
		}
		mi->has_pass = true;
		memcpy(mi->salt, p + 4, PBKDF2_SALT_LEN);
		memcpy(mi->pass_slot, p + 4 + PBKDF2_SALT_LEN, SLOT_BLOB_LEN);
	} else if (mrc != MDB_NOTFOUND) {
		return mdb_fail(mrc, "cannot read the store's meta data", err, errlen);
	}

	if (!mi->has_keyfile && !mi->has_pass) {
		set_err(err, errlen, "the store at %s is damaged: it has no key slot",
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
		set_err(err, errlen, "wrong passphrase for the store at %s", st->dir);
		return STORE_EKEY;
	}
	return STORE_OK;
}

static int
put_meta(struct store *st, MDB_txn *txn, const char *name, const void *p,
         size_t n, char *err, size_t errlen)
{
	MDB_val k = mval(name, strlen(name)), v = mval(p, n);
	int mrc = mdb_put(txn, st->meta, &k, &v, 0);

	return mrc ? mdb_fail(mrc, "cannot write the store's meta data", err, errlen)
	           : STORE_OK;
}

static int
put_keyfile_slot(struct store *st, MDB_txn *txn, const uint8_t *kfkey,
                 const uint8_t *dk, char *err, size_t errlen)
{
	uint8_t slot[SLOT_BLOB_LEN];

	if (seal(kfkey, SLOT_KEYFILE_AAD, sizeof(SLOT_KEYFILE_AAD) - 1, dk,
	         SEAL_KEY_LEN, slot, sizeof(slot)) != SLOT_BLOB_LEN) {
		set_err(err, errlen, "cannot seal the key-file slot");
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
		set_err(err, errlen, "cannot seal the passphrase slot");
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

static bool
meta_verify(const struct meta_info *mi, const uint8_t *mk)
{
	uint8_t want[HMAC_LEN];

	return mi->format == STORE_FORMAT && mi->has_keyid &&
	       meta_mac(mk, mi->key_id, mi->gen, want) == 0 &&
	       mem_equal(want, mi->mac, HMAC_LEN);
}

static int
put_gen(struct store *st, MDB_txn *txn, const uint8_t *mk,
        const uint8_t key_id[KEYID_LEN], uint64_t gen, char *err, size_t errlen)
{
	uint8_t g[GEN_LEN], mac[HMAC_LEN];
	int rc;

	put_be64(g, gen);
	if (meta_mac(mk, key_id, gen, mac) < 0) {
		set_err(err, errlen, "cannot authenticate the store's meta data");
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
static int
gen_bump(struct store *st, MDB_txn *txn, uint64_t *gen, char *err, size_t errlen)
{
	struct meta_info mi;
	int rc = meta_read(st, txn, &mi, err, errlen);

	if (rc != STORE_OK)
		return rc;
	if (!meta_verify(&mi, st->mac_key)) {
		set_err(err, errlen, "the store at %s is damaged: its meta data fails "
		        "its integrity check", st->dir);
		return STORE_ECORRUPT;
	}
	*gen = mi.gen + 1;
	return put_gen(st, txn, st->mac_key, st->key_id, *gen, err, errlen);
}

static int
record_mac(const uint8_t *mk, const char *akey, uint64_t g, const void *text,
           size_t len, uint8_t out[HMAC_LEN])
{
	uint8_t gb[GEN_LEN];
	const void *p[4] = { MAC_RECORD_LABEL, akey, gb, text };
	size_t l[4] = { sizeof(MAC_RECORD_LABEL), strlen(akey) + 1, GEN_LEN, len };

	put_be64(gb, g);
	return hmac_sha256(mk, p, l, 4, out);
}

/* A record's value: its text, NUL, the generation of its settings and
 * passwords, and the HMAC of all that with the account key. out holds
 * RECORD_MAX + RECORD_TRAILER bytes. */
static int
record_pack(const uint8_t *mk, const char *akey, uint64_t g, const char *text,
            size_t len, uint8_t *out, size_t *outlen)
{
	if (len >= RECORD_MAX)
		return -1;
	memcpy(out, text, len);
	out[len] = 0;
	put_be64(out + len + 1, g);
	if (record_mac(mk, akey, g, text, len, out + len + 1 + GEN_LEN) < 0)
		return -1;
	*outlen = len + RECORD_TRAILER;
	return 0;
}

/* Splits a record's value into its text and generation; with mk, checks
 * its HMAC. 0; -1 malformed; -2 fails its integrity check. A record of
 * format 1 (text only) has generation 0 and never verifies. */
static int
record_split(const uint8_t *mk, const char *akey, const MDB_val *v,
             size_t *textlen, uint64_t *g)
{
	const uint8_t *p = v->mv_data;
	const uint8_t *nul = v->mv_size ? memchr(p, 0, v->mv_size) : NULL;
	uint8_t want[HMAC_LEN];
	size_t n;

	*g = 0;
	if (nul == NULL) {
		*textlen = v->mv_size;
		return mk ? -2 : 0;
	}
	n = (size_t)(nul - p);
	if (v->mv_size != n + RECORD_TRAILER)
		return mk ? -2 : -1;
	*textlen = n;
	*g = get_be64(p + n + 1);
	if (mk && (record_mac(mk, akey, *g, p, n, want) < 0 ||
	           !mem_equal(want, p + n + 1 + GEN_LEN, HMAC_LEN)))
		return -2;
	return 0;
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

static void
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

/* ---- opening ------------------------------------------------------------ */

struct init_ctx {
	const uint8_t *kfkey;
	const uint8_t *dk;
	const uint8_t *mk;
	const uint8_t *key_id;
};

static int
open_dbis(struct store *st, MDB_txn *txn, unsigned flags)
{
	int mrc = mdb_dbi_open(txn, "meta", flags, &st->meta);

	if (mrc == 0)
		mrc = mdb_dbi_open(txn, "accounts", flags, &st->accounts);
	if (mrc == 0)
		mrc = mdb_dbi_open(txn, "secrets", flags, &st->secrets);
	return mrc;
}

static int
init_write(struct store *st, MDB_txn *txn, void *vctx, char *err, size_t errlen)
{
	const struct init_ctx *c = vctx;
	uint8_t fmt = STORE_FORMAT;
	int mrc = open_dbis(st, txn, MDB_CREATE), rc;

	if (mrc != 0)
		return mdb_fail(mrc, "cannot create the store", err, errlen);
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
static int
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
		set_err(err, errlen, "the random number generator failed");
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

/* Opens the named databases of an existing environment without writing:
 * only a read transaction. ENOENT when the environment is empty. */
static int
open_existing(struct store *st, char *err, size_t errlen)
{
	struct meta_info mi;
	MDB_txn *txn;
	MDB_stat ms;
	int rc, mrc;

	rc = txn_begin(st, MDB_RDONLY, &txn, err, errlen);
	if (rc != STORE_OK)
		return rc == ST_GROW ? STORE_EIO : rc;
	mrc = open_dbis(st, txn, 0);
	if (mrc == MDB_NOTFOUND) {
		/* An environment whose creation was interrupted is empty. */
		MDB_dbi main_dbi;
		int src = mdb_dbi_open(txn, NULL, 0, &main_dbi);

		if (src == 0)
			src = mdb_stat(txn, main_dbi, &ms);

		mdb_txn_abort(txn);
		if (src == 0 && ms.ms_entries == 0)
			return STORE_ENOENT;
		set_err(err, errlen, "the store at %s is damaged: its databases are "
		        "missing (move it aside and restore a backup)", st->dir);
		return STORE_ECORRUPT;
	}
	if (mrc != 0) {
		mdb_txn_abort(txn);
		rc = mdb_fail(mrc, "cannot open the store", err, errlen);
		return rc == ST_GROW ? STORE_EIO : rc;
	}
	rc = meta_read(st, txn, &mi, err, errlen);
	/* Committing a read transaction keeps the database handles. */
	mrc = mdb_txn_commit(txn);
	if (rc == STORE_OK && mrc != 0)
		rc = mdb_fail(mrc, "cannot open the store", err, errlen);
	return rc == ST_GROW ? STORE_EIO : rc;
}

static int
stat_private(const char *path, bool dir, struct stat *sb, char *err,
             size_t errlen)
{
	/* The store directory may be a link to one's own; its files may not:
	 * LMDB would write through a linked lock.mdb or data.mdb into
	 * whatever the link points to. */
	if ((dir ? stat(path, sb) : lstat(path, sb)) != 0) {
		if (errno == ENOENT)
			return STORE_ENOENT;
		set_err(err, errlen, "cannot examine %s: %s", path, strerror(errno));
		return STORE_EIO;
	}
	if (!dir && S_ISLNK(sb->st_mode)) {
		set_err(err, errlen, "%s is a symbolic link; the store's files must be "
		        "regular files in its directory (remove the link)", path);
		return STORE_EPERM;
	}
	if (dir ? !S_ISDIR(sb->st_mode) : !S_ISREG(sb->st_mode)) {
		set_err(err, errlen, "%s is not a %s", path, dir ? "directory" : "regular file");
		return dir ? STORE_EIO : STORE_ECORRUPT;
	}
	return check_private(path, sb, dir, err, errlen);
}

/* A truncated data file would make LMDB fault on access through its map:
 * refuse it before any page past the end is touched. */
static int
check_size(struct store *st, char *err, size_t errlen)
{
	MDB_envinfo info;
	MDB_stat ms;
	struct stat sb;

	if (mdb_env_info(st->env, &info) != 0 || mdb_env_stat(st->env, &ms) != 0 ||
	    stat(st->data_path, &sb) != 0) {
		set_err(err, errlen, "cannot examine %s", st->data_path);
		return STORE_EIO;
	}
	if ((uint64_t)sb.st_size < ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize) {
		set_err(err, errlen, "the store at %s is damaged: %s is truncated "
		        "(move it aside and restore a backup)", st->dir, st->data_path);
		return STORE_ECORRUPT;
	}
	return STORE_OK;
}

/* LMDB has no page checksums and reads the file through a map: a damaged
 * page can point LMDB (or us) past the end of the file, which is SIGBUS, not
 * an error code. So once, at open, every page of every database is walked
 * and every key and value byte touched, with SIGBUS/SIGSEGV turned into a
 * jump back here; a store that passes is safe to read afterwards. */
static __thread sigjmp_buf *walk_jmp;
/* What the walk holds, so that it can be let go after a jump. */
static __thread MDB_txn *walk_txn;
static __thread MDB_cursor *walk_cur;
static struct sigaction walk_old_bus, walk_old_segv;
/* The saved handlers are process-wide: one walk at a time. */
static pthread_mutex_t walk_lock = PTHREAD_MUTEX_INITIALIZER;

static void
walk_signal(int sig, siginfo_t *info, void *uctx)
{
	const struct sigaction *old = sig == SIGBUS ? &walk_old_bus : &walk_old_segv;

	if (walk_jmp)
		siglongjmp(*walk_jmp, sig);
	/* Another thread crashed meanwhile: hand it to whoever had it. */
	if (old->sa_flags & SA_SIGINFO) {
		old->sa_sigaction(sig, info, uctx);
	} else if (old->sa_handler != SIG_IGN && old->sa_handler != SIG_DFL) {
		old->sa_handler(sig);
	} else {
		signal(sig, SIG_DFL);
		raise(sig);
	}
}

#define WALK_VALUE_MAX ((size_t)64 << 20)

static int
walk_dbi(MDB_txn *txn, MDB_dbi dbi, volatile uint8_t *sink)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int mrc = mdb_cursor_open(txn, dbi, &cur);

	if (mrc != 0)
		return mrc;
	walk_cur = cur;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *p;

		if (v.mv_size > WALK_VALUE_MAX) {
			mrc = MDB_CORRUPTED;
			break;
		}
		p = k.mv_data;
		for (size_t i = 0; i < k.mv_size; i++)
			*sink ^= p[i];
		p = v.mv_data;
		for (size_t i = 0; i < v.mv_size; i++)
			*sink ^= p[i];
	}
	walk_cur = NULL;
	mdb_cursor_close(cur);
	return mrc == MDB_NOTFOUND ? 0 : mrc;
}

static int
walk_all(MDB_env *env)
{
	static const char *const names[] = { "meta", "accounts", "secrets" };
	volatile uint8_t sink = 0;
	MDB_txn *txn;
	MDB_dbi dbi;
	int mrc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);

	if (mrc != 0)
		return mrc;
	walk_txn = txn;
	/* 0 is LMDB's free-page list, read by every writer. */
	mrc = walk_dbi(txn, 0, &sink);
	if (mrc == 0)
		mrc = mdb_dbi_open(txn, NULL, 0, &dbi);
	if (mrc == 0)
		mrc = walk_dbi(txn, dbi, &sink);
	for (size_t i = 0; mrc == 0 && i < sizeof(names) / sizeof(names[0]); i++) {
		mrc = mdb_dbi_open(txn, names[i], 0, &dbi);
		if (mrc == MDB_NOTFOUND) {
			mrc = 0;        /* judged later, with a better message */
			continue;
		}
		if (mrc == 0)
			mrc = walk_dbi(txn, dbi, &sink);
	}
	walk_txn = NULL;
	mdb_txn_abort(txn);
	return mrc;
}

static int
walk_guarded(struct store *st, char *err, size_t errlen)
{
	struct sigaction sa;
	sigjmp_buf jb;
	volatile int mrc = 0;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = walk_signal;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	pthread_mutex_lock(&walk_lock);
	if (sigaction(SIGBUS, &sa, &walk_old_bus) != 0) {
		pthread_mutex_unlock(&walk_lock);
		return STORE_EIO;
	}
	if (sigaction(SIGSEGV, &sa, &walk_old_segv) != 0) {
		sigaction(SIGBUS, &walk_old_bus, NULL);
		pthread_mutex_unlock(&walk_lock);
		return STORE_EIO;
	}
	sig = sigsetjmp(jb, 1);
	if (sig == 0) {
		walk_jmp = &jb;
		mrc = walk_all(st->env);
	}
	walk_jmp = NULL;
	sigaction(SIGSEGV, &walk_old_segv, NULL);
	sigaction(SIGBUS, &walk_old_bus, NULL);
	pthread_mutex_unlock(&walk_lock);
	if (sig != 0) {
		/* A read transaction only holds its reader slot: let it go. */
		if (walk_cur)
			mdb_cursor_close(walk_cur);
		if (walk_txn)
			mdb_txn_abort(walk_txn);
		walk_cur = NULL;
		walk_txn = NULL;
		set_err(err, errlen, "the store at %s is damaged: a page of %s points "
		        "outside the file (move it aside and restore a backup)",
		        st->dir, st->data_path);
		return STORE_ECORRUPT;
	}
	if (mrc != 0)
		return env_fail(st, mrc, "read", err, errlen);
	return STORE_OK;
}

/* Takes the creation lock: exclusive to create, shared otherwise. A store
 * made before the lock existed has no lock file: opening it needs none. */
static int
lock_take(struct store *st, bool create, bool exclusive, int *fdp, char *err,
          size_t errlen)
{
	mode_t old = umask(077);
	int fd = open(st->lock_path, (create ? O_RDWR | O_CREAT : O_RDONLY) |
	              O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);

	umask(old);
	*fdp = -1;
	if (fd < 0) {
		if (!create && errno == ENOENT)
			return STORE_OK;
		set_err(err, errlen, "cannot open %s: %s", st->lock_path, strerror(errno));
		return errno == ELOOP ? STORE_EPERM : STORE_EIO;
	}
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
		if (errno == EINTR)
			continue;
		set_err(err, errlen, "cannot lock %s: %s", st->lock_path, strerror(errno));
		close(fd);
		return STORE_EIO;
	}
	*fdp = fd;
	return STORE_OK;
}

static void
dir_sync(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
}

/* Creates path (mode 0600) if missing, never through a symbolic link;
 * excl: it must not exist. */
static int
file_make(const char *path, bool excl, char *err, size_t errlen)
{
	mode_t old = umask(077);
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	              O_NONBLOCK | (excl ? O_EXCL : 0), 0600);
	struct stat sb;
	int rc;

	umask(old);
	if (fd < 0) {
		set_err(err, errlen, "cannot create %s: %s", path, errno == ELOOP ?
		        "it is a symbolic link (remove it)" : strerror(errno));
		return errno == ELOOP ? STORE_EPERM : STORE_EIO;
	}
	rc = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ?
	     check_private(path, &sb, false, err, errlen) : STORE_EIO;
	if (rc == STORE_EIO)
		set_err(err, errlen, "%s is not a regular file", path);
	close(fd);
	return rc;
}

/* Opens the environment (the creation lock is held). With create and the
 * lock exclusive, a missing store is made, and one whose creation was
 * interrupted (the marker file is still there) is finished or, when not
 * even LMDB's own header got written, started again: it holds nothing yet.
 * ST_NEED_EXCL: a creator holding the lock shared found work to do. */
static int
env_setup(struct store *st, bool create, bool exclusive, char *err,
          size_t errlen)
{
	char lock_path[1100];
	struct stat sb;
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t minsize = 2 * (uint64_t)(psz > 0 ? psz : 4096);
	bool newenv = false, marker = false;
	mode_t old;
	int rc, mrc, dead;

	if (str_printf(lock_path, sizeof(lock_path), "%s/lock.mdb", st->dir) < 0)
		return STORE_EINVAL;
	if (exclusive) {
		marker = lstat(st->marker_path, &sb) == 0;
		if (marker && (lstat(st->data_path, &sb) != 0 ||
		               (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size < minsize))) {
			/* Killed before LMDB wrote its header: nothing to keep. */
			(void)unlink(st->data_path);
			(void)unlink(lock_path);
		}
	}
	rc = stat_private(st->data_path, false, &sb, err, errlen);
	if (rc == STORE_ENOENT) {
		if (!create) {
			set_err(err, errlen, "no store at %s (%s not found)", st->dir,
			        st->data_path);
			return rc;
		}
		if (!exclusive)
			return ST_NEED_EXCL;
		newenv = true;
		rc = STORE_OK;
		if (!marker) {
			int fd;

			old = umask(077);
			fd = open(st->marker_path, O_WRONLY | O_CREAT | O_NOFOLLOW |
			          O_CLOEXEC, 0600);
			umask(old);
			if (fd < 0) {
				set_err(err, errlen, "cannot create %s: %s", st->marker_path,
				        strerror(errno));
				return STORE_EIO;
			}
			close(fd);
			dir_sync(st->dir);
			marker = true;
		}
	} else if (rc == STORE_OK && (uint64_t)sb.st_size < minsize) {
		/* LMDB would silently start a new environment over an empty file. */
		set_err(err, errlen, "the store at %s is damaged: %s is truncated "
		        "(move it aside and restore a backup)", st->dir, st->data_path);
		rc = STORE_ECORRUPT;
	}
	if (rc != STORE_OK)
		return rc;
	rc = stat_private(lock_path, false, &sb, err, errlen);
	if (rc != STORE_OK && rc != STORE_ENOENT)
		return rc;
	/* LMDB creates its files following links: make them first, without. */
	rc = file_make(lock_path, false, err, errlen);
	if (rc == STORE_OK && newenv)
		rc = file_make(st->data_path, true, err, errlen);
	if (rc != STORE_OK)
		return rc;

	mrc = mdb_env_create(&st->env);
	if (mrc == 0)
		mrc = mdb_env_set_maxdbs(st->env, 4);
	/* 0 = the size an earlier writer left in the environment. */
	if (mrc == 0)
		mrc = mdb_env_set_mapsize(st->env, newenv ? MAP_INITIAL : 0);
	if (mrc == 0) {
		old = umask(077);
		/* MDB_NOTLS: a walk's read transaction may stay open while the
		 * callback reads or writes through other transactions. */
		mrc = mdb_env_open(st->env, st->dir, MDB_NOTLS, 0600);
		umask(old);
	}
	if (mrc != 0)
		return env_fail(st, mrc, "open", err, errlen);
	/* Reader slots of killed processes would pin old pages forever. */
	(void)mdb_reader_check(st->env, &dead);
	rc = check_size(st, err, errlen);
	if (rc == STORE_OK && !newenv)
		rc = walk_guarded(st, err, errlen);
	if (rc != STORE_OK)
		return rc;

	rc = open_existing(st, err, errlen);
	if (rc == STORE_ENOENT) {
		if (!create) {
			set_err(err, errlen, "the store at %s was never completely created; "
			        "create it again", st->dir);
			return STORE_ECORRUPT;
		}
		if (!exclusive)
			return ST_NEED_EXCL;
		rc = store_init(st, err, errlen);
	}
	if (rc == STORE_OK && marker && exclusive) {
		/* Complete: only now may the marker go. */
		(void)unlink(st->marker_path);
		dir_sync(st->dir);
	}
	return rc;
}

int
store_open(const struct store_opts *opts, struct store **out, char *err,
           size_t errlen)
{
	char cfg[1024];
	struct store *st;
	struct stat sb;
	bool create = opts && opts->create;
	mode_t old;
	int rc;

	if (out == NULL)
		return STORE_EINVAL;
	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return STORE_ENOMEM;

	if (opts && opts->dir) {
		if (str_copy(st->dir, sizeof(st->dir), opts->dir) < 0 || !*st->dir) {
			set_err(err, errlen, "bad store directory name");
			rc = STORE_EINVAL;
			goto fail;
		}
	} else if (default_store_dir(st->dir, sizeof(st->dir)) < 0) {
		set_err(err, errlen, "cannot find the store directory (is HOME set?)");
		rc = STORE_EINVAL;
		goto fail;
	}
	if (opts && opts->key_file) {
		if (str_copy(st->key_file, sizeof(st->key_file), opts->key_file) < 0 ||
		    !*st->key_file) {
			set_err(err, errlen, "bad key file name");
			rc = STORE_EINVAL;
			goto fail;
		}
	} else if (default_config_dir(cfg, sizeof(cfg)) < 0 ||
	           str_printf(st->key_file, sizeof(st->key_file), "%s/store.key", cfg) < 0) {
		set_err(err, errlen, "cannot find the key file (is HOME set?)");
		rc = STORE_EINVAL;
		goto fail;
	}
	if (str_printf(st->gen_path, sizeof(st->gen_path), "%s.gen", st->key_file) < 0 ||
	    str_printf(st->data_path, sizeof(st->data_path), "%s/data.mdb", st->dir) < 0 ||
	    str_printf(st->lock_path, sizeof(st->lock_path), "%s/store.lock", st->dir) < 0 ||
	    str_printf(st->marker_path, sizeof(st->marker_path), "%s/creating", st->dir) < 0) {
		set_err(err, errlen, "store directory name too long");
		rc = STORE_EINVAL;
		goto fail;
	}

	rc = stat_private(st->dir, true, &sb, err, errlen);
	if (rc == STORE_ENOENT) {
		if (!create) {
			set_err(err, errlen, "no store at %s", st->dir);
			goto fail;
		}
		old = umask(077);
		if (mkdir_p(st->dir) < 0 || chmod(st->dir, 0700) < 0) {
			set_err(err, errlen, "cannot create %s: %s", st->dir, strerror(errno));
			umask(old);
			rc = STORE_EIO;
			goto fail;
		}
		umask(old);
		rc = STORE_OK;
	}
	if (rc != STORE_OK)
		goto fail;

	/* Creation is serialised by an exclusive flock(); everyone else
	 * holds it shared while opening, so that nobody sees a store that
	 * is half made. Only a creator that finds no store (or an interrupted
	 * creation) asks for it exclusively, and looks again once it has it. */
	for (int attempt = 0;; attempt++) {
		bool exclusive = create && (attempt > 0 || access(st->data_path, F_OK) != 0 ||
		                            access(st->marker_path, F_OK) == 0);
		int lockfd = -1;

		rc = lock_take(st, create, exclusive, &lockfd, err, errlen);
		if (rc == STORE_OK)
			rc = env_setup(st, create, exclusive, err, errlen);
		if (lockfd >= 0)
			close(lockfd);
		if (rc == ST_NEED_EXCL && attempt == 0) {
			mdb_env_close(st->env);
			st->env = NULL;
			continue;
		}
		break;
	}
	if (rc != STORE_OK)
		goto fail;
	*out = st;
	return STORE_OK;
fail:
	store_close(st);
	return rc;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->env)
		mdb_env_close(st->env);
	secmem_free(st->data_key, SEAL_KEY_LEN);
	secmem_free(st->mac_key, SEAL_KEY_LEN);
	secmem_wipe(st->key_id, sizeof(st->key_id));
	free(st);
}

/* ---- unlocking ---------------------------------------------------------- */

/* Format 1 authenticated nothing but the secrets: its records get their
 * HMAC (generation 1) and its secrets the generation in their AAD, in one
 * write transaction, with the key. A record or secret that does not read
 * is left as it is, to be reported by store_check(). */
static int
migrate_write(struct store *st, MDB_txn *txn, void *ctx, char *err, size_t errlen)
{
	uint8_t *val = NULL, fmt = STORE_FORMAT;
	struct meta_info mi;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	char *tmp = NULL;
	int rc, mrc;

	(void)ctx;
	rc = meta_read(st, txn, &mi, err, errlen);
	if (rc != STORE_OK || mi.format == STORE_FORMAT)
		return rc;      /* another program migrated it meanwhile */
	val = malloc(RECORD_MAX + RECORD_TRAILER + SECRET_VALUE_MAX);
	tmp = secmem_alloc(ACCT_SECRET_MAX + 1);
	if (val == NULL || tmp == NULL) {
		rc = STORE_ENOMEM;
		goto out;
	}
	mrc = mdb_cursor_open(txn, st->accounts, &cur);
	for (mrc = mrc ? mrc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char akey[ACCT_EMAIL_MAX + 1];
		size_t n;

		if (k.mv_size == 0 || k.mv_size > ACCT_EMAIL_MAX ||
		    memchr(k.mv_data, 0, k.mv_size) || v.mv_size == 0 ||
		    v.mv_size >= RECORD_MAX || memchr(v.mv_data, 0, v.mv_size))
			continue;
		memcpy(akey, k.mv_data, k.mv_size);
		akey[k.mv_size] = '\0';
		if (record_pack(st->mac_key, akey, 1, v.mv_data, v.mv_size, val, &n) < 0) {
			rc = STORE_EIO;
			goto out;
		}
		v = mval(val, n);
		mrc = mdb_cursor_put(cur, &k, &v, MDB_CURRENT);
		if (mrc != 0)
			break;
	}
	if (mrc != MDB_NOTFOUND) {
		rc = mdb_fail(mrc, "cannot update the account records", err, errlen);
		goto out;
	}
	mdb_cursor_close(cur);
	mrc = mdb_cursor_open(txn, st->secrets, &cur);
	if (mrc != 0) {
		cur = NULL;
		rc = mdb_fail(mrc, "cannot read the passwords", err, errlen);
		goto out;
	}
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint8_t aad[SKEY_MAX + 1 + GEN_LEN];
		long n;

		if (k.mv_size < 2 || k.mv_size > SKEY_MAX || v.mv_size < SEAL_OVERHEAD ||
		    v.mv_size > SECRET_BLOB_MAX)
			continue;
		aad[0] = STORE_FORMAT_V1;
		memcpy(aad + 1, k.mv_data, k.mv_size);
		n = unseal(st->data_key, aad, k.mv_size + 1, v.mv_data, v.mv_size,
		           (uint8_t *)tmp, ACCT_SECRET_MAX);
		if (n < 0)
			continue;
		aad[0] = STORE_FORMAT;
		put_be64(aad + 1 + k.mv_size, 1);
		put_be64(val, 1);
		n = seal(st->data_key, aad, k.mv_size + 1 + GEN_LEN, tmp, (size_t)n,
		         val + GEN_LEN, SECRET_BLOB_MAX);
		secmem_wipe(tmp, ACCT_SECRET_MAX + 1);
		if (n < 0) {
			rc = STORE_EIO;
			goto out;
		}
		v = mval(val, GEN_LEN + (size_t)n);
		mrc = mdb_cursor_put(cur, &k, &v, MDB_CURRENT);
		if (mrc != 0)
			break;
	}
	if (mrc != MDB_NOTFOUND) {
		rc = mdb_fail(mrc, "cannot update the passwords", err, errlen);
		goto out;
	}
	rc = put_meta(st, txn, META_FORMAT, &fmt, 1, err, errlen);
	if (rc == STORE_OK)
		rc = put_gen(st, txn, st->mac_key, st->key_id, 1, err, errlen);
out:
	if (cur)
		mdb_cursor_close(cur);
	free(val);
	secmem_free(tmp, ACCT_SECRET_MAX + 1);
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
			set_err(kferr, sizeof(kferr), "key file %s does not open this store "
			        "(it belongs to another store or was replaced)", st->key_file);
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
			set_err(err, errlen, "%s; the passphrase can open it instead", kferr);
			rc = STORE_EKEY;
		} else {
			if (mi.has_keyfile)
				set_err(err, errlen, "this store needs its passphrase (%s)", kferr);
			else
				set_err(err, errlen, "this store needs its passphrase");
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
		set_err(err, errlen, "the store at %s is damaged: its meta data fails "
		        "its integrity check (altered, or key slots from another copy)",
		        st->dir);
		rc = STORE_ECORRUPT;
		goto out;
	}
	seen = genfile_verified(&gf, mk, mi.key_id);
	if (mi.format == STORE_FORMAT && seen > mi.gen) {
		set_err(err, errlen, "the store at %s is older than the last one written "
		        "with this key (generation %llu, %s says %llu): an older copy "
		        "was put back; restore the newest backup", st->dir,
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
static int
check_key_current(struct store *st, MDB_txn *txn, char *err, size_t errlen)
{
	MDB_val k = mval(META_KEYID, sizeof(META_KEYID) - 1), v;

	if (st->data_key == NULL || st->mac_key == NULL) {
		set_err(err, errlen, "the store is locked: unlock it to change it or "
		        "use passwords");
		return STORE_ELOCKED;
	}
	if (mdb_get(txn, st->meta, &k, &v) != 0 || v.mv_size != KEYID_LEN ||
	    memcmp(v.mv_data, st->key_id, KEYID_LEN) != 0) {
		set_err(err, errlen, "the store's key was changed by another program; "
		        "unlock it again");
		return STORE_ELOCKED;
	}
	return STORE_OK;
}

/* ---- secrets ------------------------------------------------------------ */

/* The secrets key: account key, NUL, field byte. Returns its length. */
static size_t
secret_key(const char *akey, enum secret_field f, uint8_t out[SKEY_MAX])
{
	size_t n = strlen(akey);

	memcpy(out, akey, n);
	out[n] = 0;
	out[n + 1] = (uint8_t)f;
	return n + 2;
}

/* AAD = format version | secrets key | generation of the account: a blob
 * moved to another account or field no longer opens, nor one put back
 * from before the account's settings or password last changed. */
static size_t
secret_aad(const uint8_t *skey, size_t sklen, uint64_t g,
           uint8_t out[SKEY_MAX + 1 + GEN_LEN])
{
	out[0] = STORE_FORMAT;
	memcpy(out + 1, skey, sklen);
	put_be64(out + 1 + sklen, g);
	return sklen + 1 + GEN_LEN;
}

static const char *
field_name(enum secret_field f)
{
	return f == SECRET_SMTP ? "SMTP password" : "IMAP password";
}

/* The value: the generation in clear (to tell an old copy from damage),
 * then the blob sealed under the data key dk. */
/* The value: the generation in clear (to tell an older copy from damage),
 * then the blob sealed under the data key. */
static int
secret_put(struct store *st, MDB_txn *txn, const char *akey,
           enum secret_field f, uint64_t g, const char *pw, char *err,
           size_t errlen)
{
	uint8_t skey[SKEY_MAX], aad[SKEY_MAX + 1 + GEN_LEN], val[SECRET_VALUE_MAX];
	size_t sklen = secret_key(akey, f, skey);
	size_t alen = secret_aad(skey, sklen, g, aad);
	size_t pwlen = strlen(pw);
	MDB_val k, v;
	long n;
	int mrc;

	if (pwlen > ACCT_SECRET_MAX) {
		set_err(err, errlen, "the %s is too long", field_name(f));
		return STORE_EINVAL;
	}
	put_be64(val, g);
	n = seal(st->data_key, aad, alen, pw, pwlen, val + GEN_LEN, SECRET_BLOB_MAX);
	if (n < 0) {
		set_err(err, errlen, "cannot seal the %s", field_name(f));
		return STORE_EIO;
	}
	k = mval(skey, sklen);
	v = mval(val, GEN_LEN + (size_t)n);
	mrc = mdb_put(txn, st->secrets, &k, &v, 0);
	return mrc ? mdb_fail(mrc, "cannot write a password", err, errlen) : STORE_OK;
}

static int
secret_del(struct store *st, MDB_txn *txn, const char *akey,
           enum secret_field f, char *err, size_t errlen)
{
	uint8_t skey[SKEY_MAX];
	MDB_val k = mval(skey, secret_key(akey, f, skey));
	int mrc = mdb_del(txn, st->secrets, &k, NULL);

	if (mrc == 0 || mrc == MDB_NOTFOUND)
		return STORE_OK;
	return mdb_fail(mrc, "cannot remove a password", err, errlen);
}

/* The generation written in a secret's value, 0 when it has none. */
static uint64_t
secret_gen(const MDB_val *v)
{
	return v->mv_size >= GEN_LEN ? get_be64(v->mv_data) : 0;
}

/* Opens a secret's value into out (at least ACCT_SECRET_MAX + 1 bytes, NUL
 * terminated), for an account whose verified record has generation g.
 * STORE_ECORRUPT if it does not open. */
static int
secret_open(struct store *st, const uint8_t *skey, size_t sklen, uint64_t g,
            const MDB_val *val, char *out)
{
	uint8_t aad[SKEY_MAX + 1 + GEN_LEN];
	size_t alen = secret_aad(skey, sklen, g, aad);
	const uint8_t *blob = (const uint8_t *)val->mv_data + GEN_LEN;
	size_t blen;
	long n;

	if (val->mv_size < GEN_LEN + SEAL_OVERHEAD || val->mv_size > SECRET_VALUE_MAX ||
	    secret_gen(val) != g)
		return STORE_ECORRUPT;
	blen = val->mv_size - GEN_LEN;
	n = unseal(st->data_key, aad, alen, blob, blen, (uint8_t *)out, ACCT_SECRET_MAX);
	if (n < 0)
		return STORE_ECORRUPT;
	out[n] = '\0';
	/* A NUL inside would silently shorten the password. */
	if (strlen(out) != (size_t)n) {
		secmem_wipe(out, (size_t)n);
		return STORE_ECORRUPT;
	}
	return STORE_OK;
}

static bool
secret_exists(struct store *st, MDB_txn *txn, const char *akey, enum secret_field f)
{
	uint8_t skey[SKEY_MAX];
	MDB_val k = mval(skey, secret_key(akey, f, skey)), v;

	return mdb_get(txn, st->secrets, &k, &v) == 0;
}

/* Reads the record of akey and checks it with the HMAC key (when the
 * store is unlocked): STORE_OK with its generation, STORE_ENOENT, or
 * STORE_ECORRUPT. */
static int
record_get_gen(struct store *st, MDB_txn *txn, const char *akey, uint64_t *g,
               MDB_val *val)
{
	MDB_val k = mval(akey, strlen(akey)), v;
	size_t n;
	int mrc = mdb_get(txn, st->accounts, &k, &v);

	if (mrc != 0)
		return mrc == MDB_NOTFOUND ? STORE_ENOENT : mdb_to_store(mrc);
	if (record_split(st->mac_key, akey, &v, &n, g) != 0)
		return STORE_ECORRUPT;
	if (val)
		*val = v;
	return STORE_OK;
}

int
store_secret_get(struct store *st, const char *email, enum secret_field f,
                 char *buf, size_t len)
{
	char akey[ACCT_EMAIL_MAX + 1];
	uint8_t skey[SKEY_MAX];
	size_t sklen;
	uint64_t g;
	char *tmp;
	MDB_txn *txn;
	MDB_val k, v;
	int rc, mrc;

	if (st == NULL || email == NULL || buf == NULL || len == 0 ||
	    (f != SECRET_SMTP && f != SECRET_IMAP))
		return STORE_EINVAL;
	buf[0] = '\0';
	if (account_key(email, akey, sizeof(akey)) < 0)
		return STORE_EINVAL;
	if (st->data_key == NULL || st->mac_key == NULL)
		return STORE_ELOCKED;
	tmp = secmem_alloc(ACCT_SECRET_MAX + 1);
	if (tmp == NULL)
		return STORE_ENOMEM;
	rc = txn_begin(st, MDB_RDONLY, &txn, NULL, 0);
	if (rc != STORE_OK) {
		secmem_free(tmp, ACCT_SECRET_MAX + 1);
		return rc == ST_GROW ? STORE_EIO : rc;
	}
	rc = check_key_current(st, txn, NULL, 0);
	if (rc != STORE_OK)
		goto out;
	/* Never a password for settings that do not verify: the server it
	 * goes to is in the record. */
	rc = record_get_gen(st, txn, akey, &g, NULL);
	if (rc != STORE_OK)
		goto out;
	sklen = secret_key(akey, f, skey);
	k = mval(skey, sklen);
	mrc = mdb_get(txn, st->secrets, &k, &v);
	if (mrc != 0) {
		rc = mrc == MDB_NOTFOUND ? STORE_ENOENT : mdb_to_store(mrc);
		goto out;
	}
	rc = secret_open(st, skey, sklen, g, &v, tmp);
	if (rc == STORE_OK) {
		if (str_copy(buf, len, tmp) < 0) {
			secmem_wipe(buf, len);
			rc = STORE_EINVAL;
		}
	}
out:
	mdb_txn_abort(txn);
	secmem_free(tmp, ACCT_SECRET_MAX + 1);
	return rc;
}

/* ---- wiping freed pages ------------------------------------------------ */

/* LMDB never clears a page it frees: after a password is replaced or
 * removed, or a slot re-wrapped, the old sealed bytes stay in data.mdb until
 * the page happens to be reused, and they still open with the key file (an
 * old key-file slot gives back an old data key even after a rotation). So
 * after such a change, every free page that no snapshot can reach any more
 * is zeroed, by LMDB's own rule for reusing pages: a page freed by
 * transaction t is unreachable once t is older than the last committed
 * transaction and than every reader's snapshot. The free-page database
 * (DBI 0) maps t to an ID list: a count, then the page numbers. */

static int
touch_write(struct store *st, MDB_txn *txn, void *ctx, char *err, size_t errlen)
{
	uint8_t fmt = STORE_FORMAT;

	(void)ctx;
	return put_meta(st, txn, META_FORMAT, &fmt, 1, err, errlen);
}

/* mdb_reader_list() lines: "pid thread txnid", txnid "-" when idle. */
static int
oldest_reader(const char *line, void *ctx)
{
	size_t *oldest = ctx, txnid, tid;
	int pid;

	if (sscanf(line, "%d %zx %zu", &pid, &tid, &txnid) == 3 && txnid < *oldest)
		*oldest = txnid;
	return 0;
}

static void
wipe_page(int fd, size_t pgno, size_t psize, uint8_t *page, bool *wrote)
{
	off_t off = (off_t)(pgno * psize);
	size_t i;

	if (pread(fd, page, psize, off) != (ssize_t)psize)
		return;
	for (i = 0; i < psize && page[i] == 0; i++)
		;
	if (i == psize)
		return;
	memset(page, 0, psize);
	if (pwrite(fd, page, psize, off) == (ssize_t)psize)
		*wrote = true;
}

/* Best effort: the change itself is committed whatever happens here. */
static void
store_scrub(struct store *st)
{
	MDB_envinfo info;
	MDB_cursor *cur;
	MDB_stat ms;
	MDB_txn *txn, *rtxn = NULL;
	MDB_val k, v;
	uint8_t *page = NULL;
	size_t oldest;
	bool wrote = false;
	int fd, mrc;

	/* One more commit, so that the pages the change freed are older
	 * than the last committed transaction. */
	if (store_write(st, touch_write, NULL, NULL, 0) != STORE_OK)
		return;
	/* The write transaction only holds the writer lock, so that no other
	 * writer reuses a page meanwhile; LMDB lets only a read transaction
	 * (of the same, last committed state) see the free-page database. */
	if (txn_begin(st, 0, &txn, NULL, 0) != STORE_OK)
		return;
	oldest = mdb_txn_id(txn) - 1;
	if (mdb_txn_begin(st->env, NULL, MDB_RDONLY, &rtxn) != 0) {
		rtxn = NULL;
		goto out;
	}
	if (mdb_reader_list(st->env, oldest_reader, &oldest) < 0 ||
	    mdb_env_get_fd(st->env, &fd) != 0 || mdb_env_stat(st->env, &ms) != 0 ||
	    mdb_env_info(st->env, &info) != 0 ||
	    (page = malloc(ms.ms_psize)) == NULL ||
	    mdb_cursor_open(rtxn, 0, &cur) != 0)
		goto out;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *ids = v.mv_data;
		size_t t, n, cap = v.mv_size / sizeof(size_t);

		if (k.mv_size != sizeof(size_t) || cap == 0)
			continue;
		memcpy(&t, k.mv_data, sizeof(t));
		if (t >= oldest)
			break;          /* keys are in transaction order */
		memcpy(&n, ids, sizeof(n));
		if (n > cap - 1)
			n = cap - 1;
		for (size_t i = 1; i <= n; i++) {
			size_t pgno;

			memcpy(&pgno, ids + i * sizeof(size_t), sizeof(pgno));
			/* pages 0 and 1 are LMDB's meta pages, never free */
			if (pgno >= 2 && pgno <= info.me_last_pgno)
				wipe_page(fd, pgno, ms.ms_psize, page, &wrote);
		}
	}
	mdb_cursor_close(cur);
	if (wrote)
		(void)fdatasync(fd);
out:
	free(page);
	if (rtxn)
		mdb_txn_abort(rtxn);
	mdb_txn_abort(txn);
}

/* ---- accounts ----------------------------------------------------------- */

static int
check_passwords(struct store *st, const char *smtp_pw, const char *imap_pw,
                char *err, size_t errlen)
{
	const char *pws[2] = { smtp_pw, imap_pw };

	if (st->data_key == NULL) {
		set_err(err, errlen, "the store is locked: unlock it to change it");
		return STORE_ELOCKED;
	}
	for (int i = 0; i < 2; i++) {
		const char *why;

		if (pws[i] == NULL || pws[i][0] == '\0')
			continue;
		why = valid_secret(pws[i]);
		if (why) {
			set_err(err, errlen, "%s: %s", field_name((enum secret_field)i), why);
			return STORE_EINVAL;
		}
	}
	return STORE_OK;
}

static int
prepare_record(const struct account *a, char *akey, char *rec, size_t *reclen,
               char *err, size_t errlen)
{
	struct acct_error ae;
	int n;

	memset(&ae, 0, sizeof(ae));
	if (a == NULL) {
		set_err(err, errlen, "no account given");
		return STORE_EINVAL;
	}
	if (account_validate(a, &ae) < 0) {
		set_err(err, errlen, "%s", ae.msg[0] ? ae.msg : "invalid account");
		return STORE_EINVAL;
	}
	if (account_key(a->email, akey, ACCT_EMAIL_MAX + 1) < 0) {
		set_err(err, errlen, "invalid address: %s", a->email);
		return STORE_EINVAL;
	}
	n = account_serialize(a, rec, RECORD_MAX);
	if (n < 0 || (size_t)n >= RECORD_MAX) {
		set_err(err, errlen, "account record too large");
		return STORE_EINVAL;
	}
	*reclen = (size_t)n;
	return STORE_OK;
}

struct put_ctx {
	const char *old_key;            /* NULL: add */
	const char *new_key;
	const char *rec;
	size_t reclen;
	const char *pw[2];
};

/* Carries the secret of field f from (old_key, old_g) to (new_key, new_g),
 * re-sealed since the AAD binds both: a change of settings makes every
 * earlier copy of the password useless with them. */
static int
secret_carry(struct store *st, MDB_txn *txn, const char *old_key, uint64_t old_g,
             const char *new_key, uint64_t new_g, enum secret_field f,
             char *err, size_t errlen)
{
	uint8_t skey[SKEY_MAX];
	size_t sklen = secret_key(old_key, f, skey);
	MDB_val k = mval(skey, sklen), v;
	char *tmp;
	int mrc, rc;

	mrc = mdb_get(txn, st->secrets, &k, &v);
	if (mrc == MDB_NOTFOUND)
		return STORE_OK;
	if (mrc != 0)
		return mdb_fail(mrc, "cannot read a password", err, errlen);
	tmp = secmem_alloc(ACCT_SECRET_MAX + 1);
	if (tmp == NULL)
		return STORE_ENOMEM;
	rc = secret_open(st, skey, sklen, old_g, &v, tmp);
	if (rc != STORE_OK) {
		set_err(err, errlen, "the %s of %s fails its integrity check; give it "
		        "again to replace it", field_name(f), old_key);
	} else {
		rc = secret_put(st, txn, new_key, f, new_g, tmp, err, errlen);
	}
	secmem_free(tmp, ACCT_SECRET_MAX + 1);
	if (rc == STORE_OK && strcmp(old_key, new_key) != 0)
		rc = secret_del(st, txn, old_key, f, err, errlen);
	return rc;
}

static int
record_put(struct store *st, MDB_txn *txn, const char *akey, uint64_t g,
           const char *text, size_t len, char *err, size_t errlen)
{
	uint8_t val[RECORD_MAX + RECORD_TRAILER];
	MDB_val k = mval(akey, strlen(akey)), v;
	size_t n;
	int mrc;

	if (record_pack(st->mac_key, akey, g, text, len, val, &n) < 0) {
		set_err(err, errlen, "cannot authenticate the account record");
		return STORE_EIO;
	}
	v = mval(val, n);
	mrc = mdb_put(txn, st->accounts, &k, &v, 0);
	return mrc ? mdb_fail(mrc, "cannot write the account", err, errlen) : STORE_OK;
}

static int
put_write(struct store *st, MDB_txn *txn, void *vctx, char *err, size_t errlen)
{
	const struct put_ctx *c = vctx;
	bool rename = c->old_key && strcmp(c->old_key, c->new_key) != 0;
	uint64_t g, old_g = 0;
	MDB_val k, v;
	int mrc, rc;

	rc = check_key_current(st, txn, err, errlen);
	if (rc == STORE_OK)
		rc = gen_bump(st, txn, &g, err, errlen);
	if (rc != STORE_OK)
		return rc;
	if (c->old_key) {
		rc = record_get_gen(st, txn, c->old_key, &old_g, NULL);
		if (rc == STORE_ENOENT) {
			set_err(err, errlen, "no account %s", c->old_key);
			return rc;
		}
		if (rc == STORE_ECORRUPT) {
			set_err(err, errlen, "the record of %s fails its integrity check "
			        "(damaged or altered): remove the account and add it again",
			        c->old_key);
			return rc;
		}
		if (rc != STORE_OK)
			return mdb_fail(rc, "cannot read the account", err, errlen);
	}
	if (!c->old_key || rename) {
		k = mval(c->new_key, strlen(c->new_key));
		mrc = mdb_get(txn, st->accounts, &k, &v);
		if (mrc == 0) {
			set_err(err, errlen, "account %s exists already", c->new_key);
			return STORE_EXISTS;
		}
		if (mrc != MDB_NOTFOUND)
			return mdb_fail(mrc, "cannot read the account", err, errlen);
	}
	for (int f = 0; f < 2; f++) {
		enum secret_field fd = (enum secret_field)f;

		if (c->pw[f] == NULL) {
			rc = c->old_key ? secret_carry(st, txn, c->old_key, old_g, c->new_key,
			                               g, fd, err, errlen) : STORE_OK;
		} else {
			rc = c->old_key ? secret_del(st, txn, c->old_key, fd, err, errlen)
			                : STORE_OK;
			if (rc == STORE_OK && c->pw[f][0] != '\0')
				rc = secret_put(st, txn, c->new_key, fd, g, c->pw[f], err, errlen);
		}
		if (rc != STORE_OK)
			return rc;
	}
	if (rename) {
		k = mval(c->old_key, strlen(c->old_key));
		mrc = mdb_del(txn, st->accounts, &k, NULL);
		if (mrc != 0)
			return mdb_fail(mrc, "cannot rename the account", err, errlen);
	}
	return record_put(st, txn, c->new_key, g, c->rec, c->reclen, err, errlen);
}

int
store_account_add(struct store *st, const struct account *a,
                  const char *smtp_pw, const char *imap_pw,
                  char *err, size_t errlen)
{
	char akey[ACCT_EMAIL_MAX + 1], rec[RECORD_MAX];
	struct put_ctx c;
	int rc;

	if (st == NULL)
		return STORE_EINVAL;
	rc = prepare_record(a, akey, rec, &c.reclen, err, errlen);
	if (rc == STORE_OK)
		rc = check_passwords(st, smtp_pw, imap_pw, err, errlen);
	if (rc != STORE_OK)
		return rc;
	c.old_key = NULL;
	c.new_key = akey;
	c.rec = rec;
	/* For a new account "" and NULL both mean no password. */
	c.pw[0] = smtp_pw && *smtp_pw ? smtp_pw : NULL;
	c.pw[1] = imap_pw && *imap_pw ? imap_pw : NULL;
	return store_write(st, put_write, &c, err, errlen);
}

/* Passwords: NULL keeps the stored one, "" removes it, else replaces it. */
int
store_account_put(struct store *st, const char *old_email,
                  const struct account *a,
                  const char *smtp_pw, const char *imap_pw,
                  char *err, size_t errlen)
{
	char akey[ACCT_EMAIL_MAX + 1], okey[ACCT_EMAIL_MAX + 1], rec[RECORD_MAX];
	struct put_ctx c;
	int rc;

	if (st == NULL)
		return STORE_EINVAL;
	if (old_email == NULL || account_key(old_email, okey, sizeof(okey)) < 0) {
		set_err(err, errlen, "no account %s", old_email ? old_email : "(none)");
		return STORE_ENOENT;
	}
	rc = prepare_record(a, akey, rec, &c.reclen, err, errlen);
	if (rc == STORE_OK)
		rc = check_passwords(st, smtp_pw, imap_pw, err, errlen);
	if (rc != STORE_OK)
		return rc;
	c.old_key = okey;
	c.new_key = akey;
	c.rec = rec;
	c.pw[0] = smtp_pw;
	c.pw[1] = imap_pw;
	rc = store_write(st, put_write, &c, err, errlen);
	/* A replaced, removed or moved password leaves its old blob behind. */
	if (rc == STORE_OK && (smtp_pw || imap_pw || strcmp(okey, akey) != 0))
		store_scrub(st);
	return rc;
}

/* Parses a record read from LMDB (bounded, NUL-terminated copy first),
 * checking its HMAC when the store is unlocked: 0, -1 when it does not
 * parse, -2 when it fails its integrity check. Locked, a record is read
 * unverified (listing needs no key). */
static int
record_parse(const struct store *st, const MDB_val *v, const char *akey,
             struct account *a, uint64_t *gp)
{
	char rec[RECORD_MAX];
	char key2[ACCT_EMAIL_MAX + 1];
	uint64_t g;
	size_t n;
	int rc;

	account_init(a);
	rc = record_split(st->mac_key, akey, v, &n, &g);
	if (rc < 0)
		return rc;
	if (gp)
		*gp = g;
	if (n == 0 || n >= RECORD_MAX)
		return -1;
	memcpy(rec, v->mv_data, n);
	rec[n] = '\0';
	if (account_parse(rec, n, a) < 0)
		return -1;
	/* The record must belong under its key. */
	if (account_key(a->email, key2, sizeof(key2)) < 0 || strcmp(key2, akey) != 0)
		return -1;
	return 0;
}

int
store_account_get(struct store *st, const char *email, struct account *out)
{
	char akey[ACCT_EMAIL_MAX + 1];
	MDB_txn *txn;
	MDB_val k, v;
	int rc, mrc;

	if (st == NULL || email == NULL || out == NULL)
		return STORE_EINVAL;
	if (account_key(email, akey, sizeof(akey)) < 0)
		return STORE_ENOENT;
	rc = txn_begin(st, MDB_RDONLY, &txn, NULL, 0);
	if (rc != STORE_OK)
		return rc == ST_GROW ? STORE_EIO : rc;
	k = mval(akey, strlen(akey));
	mrc = mdb_get(txn, st->accounts, &k, &v);
	if (mrc != 0) {
		rc = mrc == MDB_NOTFOUND ? STORE_ENOENT : mdb_to_store(mrc);
	} else if (record_parse(st, &v, akey, out, NULL) < 0) {
		rc = STORE_ECORRUPT;
	} else {
		out->has_password = secret_exists(st, txn, akey, SECRET_SMTP);
		out->has_imap_password = secret_exists(st, txn, akey, SECRET_IMAP);
		rc = STORE_OK;
	}
	mdb_txn_abort(txn);
	return rc;
}

static int
remove_write(struct store *st, MDB_txn *txn, void *vctx, char *err, size_t errlen)
{
	const char *akey = vctx;
	MDB_val k = mval(akey, strlen(akey));
	uint64_t g;
	int mrc, rc;

	rc = check_key_current(st, txn, err, errlen);
	if (rc == STORE_OK)
		rc = gen_bump(st, txn, &g, err, errlen);
	if (rc != STORE_OK)
		return rc;
	mrc = mdb_del(txn, st->accounts, &k, NULL);
	if (mrc == MDB_NOTFOUND)
		return STORE_ENOENT;
	if (mrc != 0)
		return mdb_fail(mrc, "cannot remove the account", err, errlen);
	rc = secret_del(st, txn, akey, SECRET_SMTP, err, errlen);
	if (rc == STORE_OK)
		rc = secret_del(st, txn, akey, SECRET_IMAP, err, errlen);
	return rc;
}

int
store_account_remove(struct store *st, const char *email)
{
	char akey[ACCT_EMAIL_MAX + 1];
	int rc;

	if (st == NULL || email == NULL)
		return STORE_EINVAL;
	if (account_key(email, akey, sizeof(akey)) < 0)
		return STORE_ENOENT;
	rc = store_write(st, remove_write, akey, NULL, 0);
	if (rc == STORE_OK)
		store_scrub(st);
	return rc;
}

size_t
store_account_count(struct store *st)
{
	MDB_txn *txn;
	MDB_stat ms;
	size_t n = 0;

	if (st == NULL || txn_begin(st, MDB_RDONLY, &txn, NULL, 0) != STORE_OK)
		return 0;
	if (mdb_stat(txn, st->accounts, &ms) == 0)
		n = ms.ms_entries;
	mdb_txn_abort(txn);
	return n;
}

/* An LMDB key as printable text for a report. */
static void
key_text(const MDB_val *k, char *out, size_t len)
{
	size_t n = k->mv_size;
	const char *p = k->mv_data;
	const char *nul = memchr(p, '\0', n);

	if (nul)
		n = (size_t)(nul - p);
	str_sanitize(out, len, p, n);
}

/* One row of the accounts table: checks the key, copies it to akey and
 * parses the record into a. A row that cannot be read is reported to bad
 * (when given) and gives -1; the walk goes on with the next row. */
static int
account_row(const struct store *st, const MDB_val *k, const MDB_val *v,
            char akey[ACCT_EMAIL_MAX + 1], struct account *a, store_bad_cb bad,
            void *ud)
{
	char shown[ACCT_EMAIL_MAX + 1];
	int rc;

	if (k->mv_size == 0 || k->mv_size > ACCT_EMAIL_MAX ||
	    memchr(k->mv_data, '\0', k->mv_size)) {
		key_text(k, shown, sizeof(shown));
		if (bad)
			bad(shown, "bad account key in the store", ud);
		return -1;
	}
	memcpy(akey, k->mv_data, k->mv_size);
	akey[k->mv_size] = '\0';
	account_init(a);
	rc = record_parse(st, v, akey, a, NULL);
	if (rc < 0) {
		str_sanitize(shown, sizeof(shown), akey, strlen(akey));
		if (bad)
			bad(shown, rc == -2 ? "the account record fails its integrity check "
			    "(damaged or altered): remove the account and add it again"
			    : "the account record is damaged and cannot be read", ud);
		return -1;
	}
	return 0;
}

int
store_account_foreach(struct store *st, store_account_cb cb, store_bad_cb bad,
                      void *ud)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	struct account a;
	int rc, mrc;

	if (st == NULL || cb == NULL)
		return STORE_EINVAL;
	rc = txn_begin(st, MDB_RDONLY, &txn, NULL, 0);
	if (rc != STORE_OK)
		return rc == ST_GROW ? STORE_EIO : rc;
	mrc = mdb_cursor_open(txn, st->accounts, &cur);
	if (mrc != 0) {
		mdb_txn_abort(txn);
		return mdb_to_store(mrc);
	}
	st->readers++;
	rc = STORE_OK;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char akey[ACCT_EMAIL_MAX + 1];

		if (account_row(st, &k, &v, akey, &a, bad, ud) < 0)
			continue;
		a.has_password = secret_exists(st, txn, akey, SECRET_SMTP);
		a.has_imap_password = secret_exists(st, txn, akey, SECRET_IMAP);
		if (cb(&a, ud) != 0)
			break;
	}
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		rc = mdb_to_store(mrc);
	st->readers--;
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

struct result_ctx {
	const char *akey;
	int64_t when;
	const char *category;
};

static int
result_write(struct store *st, MDB_txn *txn, void *vctx, char *err, size_t errlen)
{
	const struct result_ctx *c = vctx;
	char rec[RECORD_MAX];
	struct account a;
	MDB_val k = mval(c->akey, strlen(c->akey)), v;
	uint64_t g, rg;
	int mrc, n, rc;

	rc = check_key_current(st, txn, err, errlen);
	if (rc == STORE_OK)
		rc = gen_bump(st, txn, &g, err, errlen);
	if (rc != STORE_OK)
		return rc;
	mrc = mdb_get(txn, st->accounts, &k, &v);
	if (mrc == MDB_NOTFOUND)
		return STORE_ENOENT;
	if (mrc != 0)
		return mdb_fail(mrc, "cannot read the account", err, errlen);
	/* Re-authenticating a record that does not verify would bless it. */
	if (record_parse(st, &v, c->akey, &a, &rg) < 0)
		return STORE_ECORRUPT;
	a.last_test_time = c->when;
	if (str_copy(a.last_result, sizeof(a.last_result), c->category) < 0 ||
	    account_validate(&a, NULL) < 0) {
		set_err(err, errlen, "invalid test result");
		return STORE_EINVAL;
	}
	n = account_serialize(&a, rec, sizeof(rec));
	if (n < 0 || (size_t)n >= sizeof(rec))
		return STORE_EINVAL;
	/* The generation stays: the settings and passwords did not change. */
	return record_put(st, txn, c->akey, rg, rec, (size_t)n, err, errlen);
}

int
store_set_result(struct store *st, const char *email, int64_t when,
                 const char *category)
{
	char akey[ACCT_EMAIL_MAX + 1];
	struct result_ctx c;

	if (st == NULL || email == NULL || category == NULL || when < 0 ||
	    valid_text(category, ACCT_RESULT_MAX) != NULL)
		return STORE_EINVAL;
	if (account_key(email, akey, sizeof(akey)) < 0)
		return STORE_ENOENT;
	c.akey = akey;
	c.when = when;
	c.category = category;
	return store_write(st, result_write, &c, NULL, 0);
}

/* ---- check, status ------------------------------------------------------ */

int
store_check(struct store *st, store_bad_cb report, void *ud)
{
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	struct account a;
	char *tmp;
	int bad = 0, mrc;

	if (st == NULL || st->data_key == NULL)
		return -1;
	tmp = secmem_alloc(ACCT_SECRET_MAX + 1);
	if (tmp == NULL)
		return -1;
	if (txn_begin(st, MDB_RDONLY, &txn, NULL, 0) != STORE_OK) {
		secmem_free(tmp, ACCT_SECRET_MAX + 1);
		return -1;
	}
	if (check_key_current(st, txn, NULL, 0) != STORE_OK)
		goto fail;
	{
		struct meta_info mi;

		if (meta_read(st, txn, &mi, NULL, 0) != STORE_OK ||
		    !meta_verify(&mi, st->mac_key)) {
			if (report)
				report("(meta data)", "the store's generation fails its "
				       "integrity check (damaged or altered)", ud);
			bad++;
		}
		secmem_wipe(&mi, sizeof(mi));
	}

	if (mdb_cursor_open(txn, st->accounts, &cur) != 0)
		goto fail;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char akey[ACCT_EMAIL_MAX + 1];

		if (account_row(st, &k, &v, akey, &a, report, ud) < 0)
			bad++;
	}
	mdb_cursor_close(cur);
	cur = NULL;
	if (mrc != MDB_NOTFOUND)
		goto fail;

	if (mdb_cursor_open(txn, st->secrets, &cur) != 0)
		goto fail;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char akey[ACCT_EMAIL_MAX + 1], shown[ACCT_EMAIL_MAX + 1];
		const uint8_t *p = k.mv_data;
		const uint8_t *nul = k.mv_size ? memchr(p, '\0', k.mv_size) : NULL;
		size_t alen = nul ? (size_t)(nul - p) : 0;
		enum secret_field f;
		uint64_t g;
		char msg[160];
		int rrc;

		key_text(&k, shown, sizeof(shown));
		if (nul == NULL || alen == 0 || alen > ACCT_EMAIL_MAX ||
		    k.mv_size != alen + 2 || (p[alen + 1] != SECRET_SMTP &&
		                              p[alen + 1] != SECRET_IMAP)) {
			if (report)
				report(shown, "bad password key in the store", ud);
			bad++;
			continue;
		}
		f = (enum secret_field)p[alen + 1];
		memcpy(akey, p, alen);
		akey[alen] = '\0';
		rrc = record_get_gen(st, txn, akey, &g, NULL);
		if (rrc != STORE_OK) {
			str_printf(msg, sizeof(msg), rrc == STORE_ENOENT ?
			           "%s stored for an account that does not exist" :
			           "%s of an account whose record fails its integrity "
			           "check: it is not used", field_name(f));
			if (report)
				report(shown, msg, ud);
			bad++;
			continue;
		}
		if (secret_open(st, p, k.mv_size, g, &v, tmp) != STORE_OK) {
			if (secret_gen(&v) < g)
				str_printf(msg, sizeof(msg), "the %s is an older copy put "
				           "back in place of the current one: set it again",
				           field_name(f));
			else
				str_printf(msg, sizeof(msg), "the %s fails its integrity "
				           "check (damaged or altered): set it again",
				           field_name(f));
			if (report)
				report(shown, msg, ud);
			bad++;
		}
		secmem_wipe(tmp, ACCT_SECRET_MAX + 1);
	}
	mdb_cursor_close(cur);
	if (mrc != MDB_NOTFOUND)
		goto fail_nocur;
	mdb_txn_abort(txn);
	secmem_free(tmp, ACCT_SECRET_MAX + 1);
	return bad;
fail:
	if (cur)
		mdb_cursor_close(cur);
fail_nocur:
	mdb_txn_abort(txn);
	secmem_free(tmp, ACCT_SECRET_MAX + 1);
	return -1;
}

int
store_status(struct store *st, struct store_status *out)
{
	struct meta_info mi;
	MDB_envinfo info;
	MDB_txn *txn;
	MDB_stat ms;
	int rc;

	if (st == NULL || out == NULL)
		return STORE_EINVAL;
	memset(out, 0, sizeof(*out));
	str_copy(out->dir, sizeof(out->dir), st->dir);
	str_copy(out->key_file, sizeof(out->key_file), st->key_file);
	rc = txn_begin(st, MDB_RDONLY, &txn, NULL, 0);
	if (rc != STORE_OK)
		return rc == ST_GROW ? STORE_EIO : rc;
	rc = meta_read(st, txn, &mi, NULL, 0);
	if (rc == STORE_OK) {
		out->format_version = mi.format;
		out->keyfile_slot = mi.has_keyfile;
		out->passphrase_slot = mi.has_pass;
		out->pbkdf2_iterations = mi.has_pass ? mi.iterations : 0;
		if (mdb_stat(txn, st->accounts, &ms) == 0)
			out->accounts = ms.ms_entries;
		if (mdb_stat(txn, st->secrets, &ms) == 0)
			out->secrets = ms.ms_entries;
	}
	mdb_txn_abort(txn);
	if (rc == STORE_OK && mdb_env_info(st->env, &info) == 0)
		out->map_size = info.me_mapsize;
	return rc == ST_GROW ? STORE_EIO : rc;
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
		set_err(err, errlen, "the store has no passphrase: set one before "
		        "removing the key file");
		return STORE_EINVAL;
	}
	if (c->drop_keyfile && mi.has_keyfile) {
		k = mval(META_SLOT_KEYFILE, sizeof(META_SLOT_KEYFILE) - 1);
		mrc = mdb_del(txn, st->meta, &k, NULL);
		if (mrc != 0)
			return mdb_fail(mrc, "cannot remove the key-file slot", err, errlen);
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
		set_err(err, errlen, "the store is locked: unlock it first");
		return STORE_ELOCKED;
	}
	if (passphrase == NULL && !drop_keyfile) {
		set_err(err, errlen, "no passphrase given");
		return STORE_EINVAL;
	}
	/* The one rule of the commands and the console (model/policy.c). */
	if (passphrase && (why = policy_passphrase(passphrase))) {
		set_err(err, errlen, "invalid passphrase: %s", why);
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
			set_err(err, errlen, "cannot derive a key from the passphrase");
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
		set_err(err, errlen, "the store at %s is damaged: its meta data fails "
		        "its integrity check", st->dir);
		return STORE_ECORRUPT;
	}
	tmp = secmem_alloc(ACCT_SECRET_MAX + 1);
	val = malloc(RECORD_MAX + RECORD_TRAILER + SECRET_VALUE_MAX);
	if (tmp == NULL || val == NULL) {
		secmem_free(tmp, ACCT_SECRET_MAX + 1);
		free(val);
		return STORE_ENOMEM;
	}
	/* Secrets first: each is checked against its record under the old
	 * HMAC key, then sealed again under the new data key. */
	mrc = mdb_cursor_open(txn, st->secrets, &cur);
	if (mrc != 0) {
		rc = mdb_fail(mrc, "cannot read the passwords", err, errlen);
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
			set_err(err, errlen, "a password of %s fails its integrity check; "
			        "set it again or remove it before changing the key", shown);
			rc = STORE_ECORRUPT;
			break;
		}
		alen = secret_aad(k.mv_data, k.mv_size, g, aad);
		put_be64(val, g);
		n = seal(c->new_dk, aad, alen, tmp, strlen(tmp), val + GEN_LEN,
		         SECRET_BLOB_MAX);
		secmem_wipe(tmp, ACCT_SECRET_MAX + 1);
		if (n < 0) {
			set_err(err, errlen, "cannot seal a password");
			rc = STORE_EIO;
			break;
		}
		/* Same length as before: replaced in place under the cursor. */
		v = mval(val, GEN_LEN + (size_t)n);
		mrc = mdb_cursor_put(cur, &k, &v, MDB_CURRENT);
		if (mrc != 0) {
			rc = mdb_fail(mrc, "cannot write a password", err, errlen);
			break;
		}
	}
	if (rc == STORE_OK && mrc != MDB_NOTFOUND)
		rc = mdb_fail(mrc, "cannot read the passwords", err, errlen);
	mdb_cursor_close(cur);
	if (rc != STORE_OK)
		goto out;

	/* Then every record, authenticated again under the new HMAC key. */
	mrc = mdb_cursor_open(txn, st->accounts, &cur);
	if (mrc != 0) {
		rc = mdb_fail(mrc, "cannot read the accounts", err, errlen);
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
			set_err(err, errlen, "the record of %s fails its integrity check; "
			        "remove the account before changing the key", akey);
			break;
		}
		if (record_pack(c->new_mk, akey, g, v.mv_data, tl, val, &n) < 0) {
			rc = STORE_EIO;
			break;
		}
		v = mval(val, n);
		mrc = mdb_cursor_put(cur, &k, &v, MDB_CURRENT);
		if (mrc != 0) {
			rc = mdb_fail(mrc, "cannot write the accounts", err, errlen);
			break;
		}
	}
	if (rc == STORE_OK && mrc != MDB_NOTFOUND)
		rc = mdb_fail(mrc, "cannot read the accounts", err, errlen);
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
	secmem_free(tmp, ACCT_SECRET_MAX + 1);
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
		set_err(err, errlen, "the store is locked: unlock it first");
		return STORE_ELOCKED;
	}
	if (str_printf(next, sizeof(next), "%s.new", st->key_file) < 0 ||
	    parent_dir(st->key_file, kfdir, sizeof(kfdir)) < 0) {
		set_err(err, errlen, "key file path too long: %s", st->key_file);
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
			set_err(err, errlen, "key file %s does not open this store", st->key_file);
			rc = STORE_EKEY;
			goto out;
		}
		c.kfkey = kfkey;
	}
	if (mi.has_pass) {
		if (passphrase == NULL) {
			set_err(err, errlen, "this store has a passphrase: it is needed to "
			        "change the key");
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
		set_err(err, errlen, "the random number generator failed");
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
				set_err(err, errlen, "the store was rotated but %s could not "
				        "replace %s: %s (rename it by hand)", next, st->key_file,
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

const char *
store_strerror(int code)
{
	switch (code) {
	case STORE_OK:       return "success";
	case STORE_ENOENT:   return "not found";
	case STORE_EXISTS:   return "the account exists already";
	case STORE_EPERM:    return "store files are accessible by other users";
	case STORE_EKEY:     return "wrong key file or passphrase";
	case STORE_NEEDPASS: return "the store needs its passphrase";
	case STORE_ECORRUPT: return "the store is damaged";
	case STORE_EIO:      return "store input/output error";
	case STORE_EINVAL:   return "invalid argument";
	case STORE_ENOMEM:   return "out of memory";
	case STORE_ELOCKED:  return "the store is locked";
	default:             return "unknown store error";
	}
}
