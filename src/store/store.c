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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <lmdb.h>

#include "account.h"
#include "seal.h"
#include "secmem.h"
#include "store.h"
#include "store_int.h"
#include "i18n.h"
#include "util.h"

void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
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

int
mdb_fail(int mrc, const char *what, char *err, size_t errlen)
{
	int code;

	if (mrc == MDB_MAP_FULL)
		return ST_GROW;
	code = mdb_to_store(mrc);
	set_err(err, errlen, _("%s: %s%s"), what, mdb_strerror(mrc),
	        code == STORE_ECORRUPT ? _(" (the store is damaged)") : "");
	return code;
}

/* LMDB failed on the whole environment while doing ("open", "read") it:
 * damage says what to do about it. */
int
env_fail(const struct store *st, int mrc, bool reading, char *err,
         size_t errlen)
{
	int rc = mdb_to_store(mrc);

	if (rc == STORE_ECORRUPT)
		set_err(err, errlen, _("the store at %s is damaged: %s (move it aside "
		        "and restore a backup)"), st->dir, mdb_strerror(mrc));
	else
		set_err(err, errlen, reading ? _("cannot read the store at %s: %s") :
		        _("cannot open the store at %s: %s"), st->dir,
		        mdb_strerror(mrc));
	return rc;
}

/* ---- transactions ---------------------------------------------------- */

int
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
		return mdb_fail(mrc, _("cannot begin a store transaction"), err, errlen);
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
		set_err(err, errlen, _("the store is full and cannot grow while it is being listed"));
		return STORE_EIO;
	}
	mrc = mdb_env_info(st->env, &info);
	if (mrc != 0)
		return mdb_fail(mrc, _("cannot read the store size"), err, errlen);
	if (info.me_mapsize >= MAP_MAX) {
		set_err(err, errlen, _("the store reached its maximum size (%zu MiB)"),
		        MAP_MAX >> 20);
		return STORE_EIO;
	}
	want = info.me_mapsize * 2;
	if (want > MAP_MAX)
		want = MAP_MAX;
	mrc = mdb_env_set_mapsize(st->env, want);
	if (mrc != 0)
		return mdb_fail(mrc, _("cannot grow the store"), err, errlen);
	return STORE_OK;
}

/* LMDB reports a short write as EIO: on a full disk (the space the partial
 * write took is gone, so little is left) say so. */
static void
disk_full_note(const struct store *st, int mrc, char *err, size_t errlen)
{
	struct statvfs vfs;

	if (mrc == ENOSPC || (statvfs(st->dir, &vfs) == 0 &&
	                      (uint64_t)vfs.f_bavail * vfs.f_frsize < ((uint64_t)256 << 10)))
		set_err(err, errlen, _("cannot commit to the store: %s (on the file "
		        "system of %s; free some space and try again; nothing was "
		        "changed)"), strerror(ENOSPC), st->dir);
}

/* Runs fn in one write transaction; on MDB_MAP_FULL the transaction is
 * aborted, the map doubled and fn run again from scratch. */
int
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
			rc = mdb_fail(mrc, _("cannot commit to the store"), err, errlen);
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
	set_err(err, errlen, _("the store could not grow enough"));
	return STORE_EIO;
}

/* ks, when not NULL, is mk's keyed state (mac_state()). */
static int
record_mac(const uint8_t *mk, struct hmac_keyed *ks, const char *akey,
           uint64_t g, const void *text, size_t len, uint8_t out[HMAC_LEN])
{
	uint8_t gb[GEN_LEN];
	const void *p[4] = { MAC_RECORD_LABEL, akey, gb, text };
	size_t l[4] = { sizeof(MAC_RECORD_LABEL), strlen(akey) + 1, GEN_LEN, len };

	put_be64(gb, g);
	return ks ? hmac_keyed_sum(ks, p, l, 4, out) : hmac_sha256(mk, p, l, 4, out);
}

/* The keyed MAC state of st->mac_key, for checking every record of a
 * listing: made on first use, and made again when another key took the
 * place of the one it was made for (an unlock, a rotation). NULL when
 * locked or out of memory, and then the MAC is computed the long way. */
static struct hmac_keyed *
mac_state(struct store *st)
{
	if (st->mac_key == NULL)
		return NULL;
	if (!hmac_keyed_is(st->mac_ctx, st->mac_key)) {
		hmac_keyed_free(st->mac_ctx);
		st->mac_ctx = hmac_keyed_new(st->mac_key);
	}
	return st->mac_ctx;
}

/* A record's value: its text, NUL, the generation of its settings and
 * passwords, and the HMAC of all that with the account key. out holds
 * RECORD_MAX + RECORD_TRAILER bytes. */
int
record_pack(const uint8_t *mk, const char *akey, uint64_t g, const char *text,
            size_t len, uint8_t *out, size_t *outlen)
{
	if (len >= RECORD_MAX)
		return -1;
	memcpy(out, text, len);
	out[len] = 0;
	put_be64(out + len + 1, g);
	if (record_mac(mk, NULL, akey, g, text, len, out + len + 1 + GEN_LEN) < 0)
		return -1;
	*outlen = len + RECORD_TRAILER;
	return 0;
}

/* Splits a record's value into its text and generation; with mk, checks
 * its HMAC. 0; -1 malformed; -2 fails its integrity check. A record of
 * format 1 (text only) has generation 0 and never verifies. */
static int
split_checked(const uint8_t *mk, struct hmac_keyed *ks, const char *akey,
              const MDB_val *v, size_t *textlen, uint64_t *g)
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
	if (mk && (record_mac(mk, ks, akey, *g, p, n, want) < 0 ||
	           !mem_equal(want, p + n + 1 + GEN_LEN, HMAC_LEN)))
		return -2;
	return 0;
}

int
record_split(const uint8_t *mk, const char *akey, const MDB_val *v,
             size_t *textlen, uint64_t *g)
{
	return split_checked(mk, NULL, akey, v, textlen, g);
}

/* ---- opening ------------------------------------------------------------ */

int
open_dbis(struct store *st, MDB_txn *txn, unsigned flags)
{
	int mrc = mdb_dbi_open(txn, "meta", flags, &st->meta);

	if (mrc == 0)
		mrc = mdb_dbi_open(txn, "accounts", flags, &st->accounts);
	if (mrc == 0)
		mrc = mdb_dbi_open(txn, "secrets", flags, &st->secrets);
	return mrc;
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
		set_err(err, errlen, _("the store at %s is damaged: its databases are "
		        "missing (move it aside and restore a backup)"), st->dir);
		return STORE_ECORRUPT;
	}
	if (mrc != 0) {
		mdb_txn_abort(txn);
		rc = mdb_fail(mrc, _("cannot open the store"), err, errlen);
		return rc == ST_GROW ? STORE_EIO : rc;
	}
	rc = meta_read(st, txn, &mi, err, errlen);
	/* Committing a read transaction keeps the database handles. */
	mrc = mdb_txn_commit(txn);
	if (rc == STORE_OK && mrc != 0)
		rc = mdb_fail(mrc, _("cannot open the store"), err, errlen);
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
		set_err(err, errlen, _("cannot examine %s: %s"), path, strerror(errno));
		return STORE_EIO;
	}
	if (!dir && S_ISLNK(sb->st_mode)) {
		set_err(err, errlen, _("%s is a symbolic link; the store's files must be "
		        "regular files in its directory (remove the link)"), path);
		return STORE_EPERM;
	}
	if (dir ? !S_ISDIR(sb->st_mode) : !S_ISREG(sb->st_mode)) {
		set_err(err, errlen, dir ? _("%s is not a directory") :
		        _("%s is not a regular file"), path);
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
		set_err(err, errlen, _("cannot examine %s"), st->data_path);
		return STORE_EIO;
	}
	if ((uint64_t)sb.st_size < ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize) {
		set_err(err, errlen, _("the store at %s is damaged: %s is truncated "
		        "(move it aside and restore a backup)"), st->dir, st->data_path);
		return STORE_ECORRUPT;
	}
	return STORE_OK;
}

/* Takes the creation lock: exclusive to create, shared otherwise. A store
 * made before the lock existed has no lock file: opening it needs none. */
int
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
		set_err(err, errlen, _("cannot open %s: %s"), st->lock_path, strerror(errno));
		return errno == ELOOP ? STORE_EPERM : STORE_EIO;
	}
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
		if (errno == EINTR)
			continue;
		set_err(err, errlen, _("cannot lock %s: %s"), st->lock_path, strerror(errno));
		close(fd);
		return STORE_EIO;
	}
	*fdp = fd;
	return STORE_OK;
}

void
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
		set_err(err, errlen, _("cannot create %s: %s"), path, errno == ELOOP ?
		        _("it is a symbolic link (remove it)") : strerror(errno));
		return errno == ELOOP ? STORE_EPERM : STORE_EIO;
	}
	rc = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ?
	     check_private(path, &sb, false, err, errlen) : STORE_EIO;
	if (rc == STORE_EIO)
		set_err(err, errlen, _("%s is not a regular file"), path);
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
			set_err(err, errlen, _("no store at %s (%s not found)"), st->dir,
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
				set_err(err, errlen, _("cannot create %s: %s"), st->marker_path,
				        strerror(errno));
				return STORE_EIO;
			}
			close(fd);
			dir_sync(st->dir);
			marker = true;
		}
	} else if (rc == STORE_OK && (uint64_t)sb.st_size < minsize) {
		/* LMDB would silently start a new environment over an empty file. */
		set_err(err, errlen, _("the store at %s is damaged: %s is truncated "
		        "(move it aside and restore a backup)"), st->dir, st->data_path);
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
		mrc = mdb_env_set_maxdbs(st->env, 8);
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
		return env_fail(st, mrc, false, err, errlen);
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
			set_err(err, errlen, _("the store at %s was never completely created; "
			        "create it again"), st->dir);
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
			set_err(err, errlen, _("bad store directory name"));
			rc = STORE_EINVAL;
			goto fail;
		}
	} else if (default_store_dir(st->dir, sizeof(st->dir)) < 0) {
		set_err(err, errlen, _("cannot find the store directory (is HOME set?)"));
		rc = STORE_EINVAL;
		goto fail;
	}
	if (opts && opts->key_file) {
		if (str_copy(st->key_file, sizeof(st->key_file), opts->key_file) < 0 ||
		    !*st->key_file) {
			set_err(err, errlen, _("bad key file name"));
			rc = STORE_EINVAL;
			goto fail;
		}
	} else if (default_config_dir(cfg, sizeof(cfg)) < 0 ||
	           str_printf(st->key_file, sizeof(st->key_file), "%s/store.key", cfg) < 0) {
		set_err(err, errlen, _("cannot find the key file (is HOME set?)"));
		rc = STORE_EINVAL;
		goto fail;
	}
	if (str_printf(st->gen_path, sizeof(st->gen_path), "%s.gen", st->key_file) < 0 ||
	    str_printf(st->data_path, sizeof(st->data_path), "%s/data.mdb", st->dir) < 0 ||
	    str_printf(st->lock_path, sizeof(st->lock_path), "%s/store.lock", st->dir) < 0 ||
	    str_printf(st->marker_path, sizeof(st->marker_path), "%s/creating", st->dir) < 0) {
		set_err(err, errlen, _("store directory name too long"));
		rc = STORE_EINVAL;
		goto fail;
	}

	rc = stat_private(st->dir, true, &sb, err, errlen);
	if (rc == STORE_ENOENT) {
		if (!create) {
			set_err(err, errlen, _("no store at %s"), st->dir);
			goto fail;
		}
		old = umask(077);
		if (mkdir_p(st->dir) < 0 || chmod(st->dir, 0700) < 0) {
			set_err(err, errlen, _("cannot create %s: %s"), st->dir, strerror(errno));
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
	hmac_keyed_free(st->mac_ctx);
	secmem_wipe(st->key_id, sizeof(st->key_id));
	free(st);
}

/* ---- unlocking ---------------------------------------------------------- */

/* Format 1 authenticated nothing but the secrets: its records get their
 * HMAC (generation 1) and its secrets the generation in their AAD, in one
 * write transaction, with the key. A record or secret that does not read
 * is left as it is, to be reported by store_check(). */
int
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
	tmp = secmem_alloc(STORE_SECRET_MAX + 1);
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
		rc = mdb_fail(mrc, _("cannot update the account records"), err, errlen);
		goto out;
	}
	mdb_cursor_close(cur);
	mrc = mdb_cursor_open(txn, st->secrets, &cur);
	if (mrc != 0) {
		cur = NULL;
		rc = mdb_fail(mrc, _("cannot read the passwords"), err, errlen);
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
		           (uint8_t *)tmp, STORE_SECRET_MAX);
		if (n < 0)
			continue;
		aad[0] = STORE_FORMAT;
		put_be64(aad + 1 + k.mv_size, 1);
		put_be64(val, 1);
		n = seal(st->data_key, aad, k.mv_size + 1 + GEN_LEN, tmp, (size_t)n,
		         val + GEN_LEN, SECRET_BLOB_MAX);
		secmem_wipe(tmp, STORE_SECRET_MAX + 1);
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
		rc = mdb_fail(mrc, _("cannot update the passwords"), err, errlen);
		goto out;
	}
	rc = put_meta(st, txn, META_FORMAT, &fmt, 1, err, errlen);
	if (rc == STORE_OK)
		rc = put_gen(st, txn, st->mac_key, st->key_id, 1, err, errlen);
out:
	if (cur)
		mdb_cursor_close(cur);
	free(val);
	secmem_free(tmp, STORE_SECRET_MAX + 1);
	return rc;
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
size_t
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
	static const char *const names[SECRET_NFIELDS] = {
		N_("SMTP password"), N_("IMAP password"), N_("OAuth client secret"),
		N_("OAuth refresh token"), N_("OAuth access token"),
	};

	return (unsigned)f < SECRET_NFIELDS ? _(names[f]) : _("secret");
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

	if (pwlen > STORE_SECRET_MAX) {
		set_err(err, errlen, _("the %s is too long"), field_name(f));
		return STORE_EINVAL;
	}
	put_be64(val, g);
	n = seal(st->data_key, aad, alen, pw, pwlen, val + GEN_LEN, SECRET_BLOB_MAX);
	if (n < 0) {
		set_err(err, errlen, _("cannot seal the %s"), field_name(f));
		return STORE_EIO;
	}
	k = mval(skey, sklen);
	v = mval(val, GEN_LEN + (size_t)n);
	mrc = mdb_put(txn, st->secrets, &k, &v, 0);
	return mrc ? mdb_fail(mrc, _("cannot write a password"), err, errlen) : STORE_OK;
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
	return mdb_fail(mrc, _("cannot remove a password"), err, errlen);
}

/* The generation written in a secret's value, 0 when it has none. */
static uint64_t
secret_gen(const MDB_val *v)
{
	return v->mv_size >= GEN_LEN ? get_be64(v->mv_data) : 0;
}

/* Opens a secret's value into out (at least STORE_SECRET_MAX + 1 bytes, NUL
 * terminated), for an account whose verified record has generation g.
 * STORE_ECORRUPT if it does not open. */
int
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
	n = unseal(st->data_key, aad, alen, blob, blen, (uint8_t *)out, STORE_SECRET_MAX);
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
int
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
	    (unsigned)f >= SECRET_NFIELDS)
		return STORE_EINVAL;
	buf[0] = '\0';
	if (account_key(email, akey, sizeof(akey)) < 0)
		return STORE_EINVAL;
	if (st->data_key == NULL || st->mac_key == NULL)
		return STORE_ELOCKED;
	tmp = secmem_alloc(STORE_SECRET_MAX + 1);
	if (tmp == NULL)
		return STORE_ENOMEM;
	rc = txn_begin(st, MDB_RDONLY, &txn, NULL, 0);
	if (rc != STORE_OK) {
		secmem_free(tmp, STORE_SECRET_MAX + 1);
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
	secmem_free(tmp, STORE_SECRET_MAX + 1);
	return rc;
}

/* ---- accounts ----------------------------------------------------------- */

static int
check_passwords(struct store *st, const char *smtp_pw, const char *imap_pw,
                char *err, size_t errlen)
{
	const char *pws[2] = { smtp_pw, imap_pw };

	if (st->data_key == NULL) {
		set_err(err, errlen, _("the store is locked: unlock it to change it"));
		return STORE_ELOCKED;
	}
	for (int i = 0; i < 2; i++) {
		const char *why;

		if (pws[i] == NULL || pws[i][0] == '\0')
			continue;
		why = valid_secret(pws[i]);
		if (why) {
			set_err(err, errlen, _("%s: %s"), field_name((enum secret_field)i), why);
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
		set_err(err, errlen, _("no account given"));
		return STORE_EINVAL;
	}
	if (account_validate(a, &ae) < 0) {
		set_err(err, errlen, "%s", ae.msg[0] ? ae.msg : _("invalid account"));
		return STORE_EINVAL;
	}
	if (account_key(a->email, akey, ACCT_EMAIL_MAX + 1) < 0) {
		set_err(err, errlen, _("invalid address: %s"), a->email);
		return STORE_EINVAL;
	}
	n = account_serialize(a, rec, RECORD_MAX);
	if (n < 0 || (size_t)n >= RECORD_MAX) {
		set_err(err, errlen, _("account record too large"));
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
		return mdb_fail(mrc, _("cannot read a password"), err, errlen);
	tmp = secmem_alloc(STORE_SECRET_MAX + 1);
	if (tmp == NULL)
		return STORE_ENOMEM;
	rc = secret_open(st, skey, sklen, old_g, &v, tmp);
	if (rc != STORE_OK) {
		set_err(err, errlen, _("the %s of %s fails its integrity check; give it "
		        "again to replace it"), field_name(f), old_key);
	} else {
		rc = secret_put(st, txn, new_key, f, new_g, tmp, err, errlen);
	}
	secmem_free(tmp, STORE_SECRET_MAX + 1);
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
		set_err(err, errlen, _("cannot authenticate the account record"));
		return STORE_EIO;
	}
	v = mval(val, n);
	mrc = mdb_put(txn, st->accounts, &k, &v, 0);
	return mrc ? mdb_fail(mrc, _("cannot write the account"), err, errlen) : STORE_OK;
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
			set_err(err, errlen, _("no account %s"), c->old_key);
			return rc;
		}
		if (rc == STORE_ECORRUPT) {
			set_err(err, errlen, _("the record of %s fails its integrity check "
			        "(damaged or altered): remove the account and add it again"),
			        c->old_key);
			return rc;
		}
		if (rc != STORE_OK)
			return mdb_fail(rc, _("cannot read the account"), err, errlen);
	}
	if (!c->old_key || rename) {
		k = mval(c->new_key, strlen(c->new_key));
		mrc = mdb_get(txn, st->accounts, &k, &v);
		if (mrc == 0) {
			set_err(err, errlen, _("account %s exists already"), c->new_key);
			return STORE_EXISTS;
		}
		if (mrc != MDB_NOTFOUND)
			return mdb_fail(mrc, _("cannot read the account"), err, errlen);
	}
	for (int f = 0; f < SECRET_NFIELDS; f++) {
		enum secret_field fd = (enum secret_field)f;

		/* Only the passwords are given here; the OAuth secrets go along. */
		if (f >= 2 || c->pw[f] == NULL) {
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
			return mdb_fail(mrc, _("cannot rename the account"), err, errlen);
	}
	/* The history follows a renamed account; a new one starts without
	 * what an account of that name left. */
	if (rename || !c->old_key)
		rc = activity_move(st, txn, c->old_key ? c->old_key : c->new_key,
		                   c->old_key ? c->new_key : NULL, err, errlen);
	/* When the password was set (never what it is): its age. */
	if (rc == STORE_OK && c->pw[SECRET_SMTP] && c->pw[SECRET_SMTP][0])
		rc = activity_secret_set(st, txn, c->new_key, (int64_t)time(NULL),
		                         err, errlen);
	if (rc != STORE_OK)
		return rc;
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

int
account_put_txn(struct store *st, MDB_txn *txn, const struct account *a,
                const char *smtp_pw, const char *imap_pw, char *err, size_t errlen)
{
	char akey[ACCT_EMAIL_MAX + 1], *rec = malloc(RECORD_MAX);
	struct put_ctx c;
	int rc;

	if (!rec)
		return STORE_ENOMEM;
	rc = prepare_record(a, akey, rec, &c.reclen, err, errlen);
	if (rc == STORE_OK)
		rc = check_passwords(st, smtp_pw, imap_pw, err, errlen);
	if (rc == STORE_OK) {
		c.old_key = NULL;
		c.new_key = akey;
		c.rec = rec;
		c.pw[0] = smtp_pw && *smtp_pw ? smtp_pw : NULL;
		c.pw[1] = imap_pw && *imap_pw ? imap_pw : NULL;
		rc = put_write(st, txn, &c, err, errlen);
	}
	free(rec);
	return rc;
}

struct many_ctx {
	struct put_ctx *v;
	size_t n;
	size_t *failed;                 /* the index that failed */
};

static int
many_write(struct store *st, MDB_txn *txn, void *vctx, char *err, size_t errlen)
{
	struct many_ctx *m = vctx;
	size_t i;
	int rc;

	for (i = 0; i < m->n; i++) {
		rc = put_write(st, txn, &m->v[i], err, errlen);
		if (rc != STORE_OK) {
			*m->failed = i;
			return rc;
		}
	}
	return STORE_OK;
}

int
store_account_add_many(struct store *st, const struct account *a,
                       const char *const *smtp_pw, const char *const *imap_pw,
                       size_t n, size_t *failed, char *err, size_t errlen)
{
	char (*keys)[ACCT_EMAIL_MAX + 1] = NULL;
	char **recs = NULL, *rec = NULL;
	struct many_ctx m;
	size_t i, dummy = 0;
	int rc = STORE_OK;

	if (failed == NULL)
		failed = &dummy;
	*failed = 0;
	if (st == NULL || (n && a == NULL))
		return STORE_EINVAL;
	if (n == 0)
		return STORE_OK;
	keys = calloc(n, sizeof(*keys));
	recs = calloc(n, sizeof(*recs));
	m.v = calloc(n, sizeof(*m.v));
	rec = malloc(RECORD_MAX);
	if (!keys || !recs || !m.v || !rec) {
		rc = STORE_ENOMEM;
		goto out;
	}
	for (i = 0; i < n && rc == STORE_OK; i++) {
		const char *pw = smtp_pw ? smtp_pw[i] : NULL;
		const char *ipw = imap_pw ? imap_pw[i] : NULL;

		rc = prepare_record(&a[i], keys[i], rec, &m.v[i].reclen, err, errlen);
		if (rc == STORE_OK && !(recs[i] = malloc(m.v[i].reclen + 1)))
			rc = STORE_ENOMEM;
		if (rc == STORE_OK) {
			memcpy(recs[i], rec, m.v[i].reclen + 1);
			rc = check_passwords(st, pw, ipw, err, errlen);
		}
		if (rc != STORE_OK) {
			*failed = i;
			break;
		}
		m.v[i].old_key = NULL;
		m.v[i].new_key = keys[i];
		m.v[i].rec = recs[i];
		m.v[i].pw[0] = pw && *pw ? pw : NULL;
		m.v[i].pw[1] = ipw && *ipw ? ipw : NULL;
	}
	if (rc == STORE_OK) {
		m.n = n;
		m.failed = failed;
		rc = store_write(st, many_write, &m, err, errlen);
	}
out:
	if (recs)
		for (i = 0; i < n; i++)
			free(recs[i]);
	free(keys);
	free(recs);
	free(rec);
	free(m.v);
	return rc;
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
		set_err(err, errlen, _("no account %s"), old_email ? old_email : _("(none)"));
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
record_parse(struct store *st, const MDB_val *v, const char *akey,
             struct account *a, uint64_t *gp)
{
	char rec[RECORD_MAX];
	char key2[ACCT_EMAIL_MAX + 1];
	uint64_t g;
	size_t n;
	int rc;

	account_init(a);
	rc = split_checked(st->mac_key, mac_state(st), akey, v, &n, &g);
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
		out->has_oauth_secret = secret_exists(st, txn, akey, SECRET_OAUTH_CLIENT);
		out->has_oauth_refresh = secret_exists(st, txn, akey, SECRET_OAUTH_REFRESH);
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
		return mdb_fail(mrc, _("cannot remove the account"), err, errlen);
	for (int f = 0; f < SECRET_NFIELDS && rc == STORE_OK; f++)
		rc = secret_del(st, txn, akey, (enum secret_field)f, err, errlen);
	if (rc == STORE_OK)
		rc = activity_move(st, txn, akey, NULL, err, errlen);
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
void
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
account_row(struct store *st, const MDB_val *k, const MDB_val *v,
            char akey[ACCT_EMAIL_MAX + 1], struct account *a, store_bad_cb bad,
            void *ud)
{
	char shown[ACCT_EMAIL_MAX + 1];
	int rc;

	if (k->mv_size == 0 || k->mv_size > ACCT_EMAIL_MAX ||
	    memchr(k->mv_data, '\0', k->mv_size)) {
		key_text(k, shown, sizeof(shown));
		if (bad)
			bad(shown, _("bad account key in the store"), ud);
		return -1;
	}
	memcpy(akey, k->mv_data, k->mv_size);
	akey[k->mv_size] = '\0';
	rc = record_parse(st, v, akey, a, NULL);
	if (rc < 0) {
		str_sanitize(shown, sizeof(shown), akey, strlen(akey));
		if (bad)
			bad(shown, rc == -2 ? _("the account record fails its integrity check "
			    "(damaged or altered): remove the account and add it again")
			    : _("the account record is damaged and cannot be read"), ud);
		return -1;
	}
	return 0;
}

/* Which secrets each account has, for a walk over the accounts in key
 * order. A secret's key is the account's key, NUL, the field; an account's
 * key holds no NUL, so the secrets sort in the accounts' order and one
 * cursor moving forward finds them all, where four lookups per account
 * were most of a 10,000-account listing's time. */
struct secret_walk {
	struct store *st;
	MDB_txn *txn;
	MDB_cursor *cur;                /* NULL: one lookup per field instead */
	MDB_val k;
	int mrc;                        /* of the last move; 0 while on a row */
};

static void
secret_walk_start(struct secret_walk *w, struct store *st, MDB_txn *txn)
{
	MDB_val v;

	w->st = st;
	w->txn = txn;
	w->cur = NULL;
	if (mdb_cursor_open(txn, st->secrets, &w->cur) != 0)
		w->cur = NULL;
	else
		w->mrc = mdb_cursor_get(w->cur, &w->k, &v, MDB_FIRST);
}

static void
secret_walk_end(struct secret_walk *w)
{
	if (w->cur)
		mdb_cursor_close(w->cur);
}

/* Sets a's has_* flags; akey comes after the previous call's. */
static void
secret_walk_flags(struct secret_walk *w, const char *akey, struct account *a)
{
	size_t n = strlen(akey);
	bool has[SECRET_NFIELDS] = { false };
	MDB_val v;

	if (w->cur == NULL) {
		for (int f = 0; f < SECRET_NFIELDS; f++)
			has[f] = secret_exists(w->st, w->txn, akey, (enum secret_field)f);
	}
	/* akey with its NUL is the prefix of this account's secrets' keys. */
	while (w->cur && w->mrc == 0) {
		const uint8_t *sk = w->k.mv_data;
		size_t m = w->k.mv_size < n + 1 ? w->k.mv_size : n + 1;
		int c = memcmp(sk, akey, m);

		if (c > 0)
			break;  /* a later account's */
		/* this account's, or before it: a secret of no account */
		if (c == 0 && w->k.mv_size == n + 2 && sk[n + 1] < SECRET_NFIELDS)
			has[sk[n + 1]] = true;
		w->mrc = mdb_cursor_get(w->cur, &w->k, &v, MDB_NEXT);
	}
	a->has_password = has[SECRET_SMTP];
	a->has_imap_password = has[SECRET_IMAP];
	a->has_oauth_secret = has[SECRET_OAUTH_CLIENT];
	a->has_oauth_refresh = has[SECRET_OAUTH_REFRESH];
}

int
store_account_foreach(struct store *st, store_account_cb cb, store_bad_cb bad,
                      void *ud)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	struct account a;
	struct secret_walk sw;
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
	secret_walk_start(&sw, st, txn);
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char akey[ACCT_EMAIL_MAX + 1];

		if (account_row(st, &k, &v, akey, &a, bad, ud) < 0)
			continue;
		secret_walk_flags(&sw, akey, &a);
		if (cb(&a, ud) != 0)
			break;
	}
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		rc = mdb_to_store(mrc);
	st->readers--;
	secret_walk_end(&sw);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

struct secret_ctx {
	const char *akey;
	enum secret_field f;
	const char *value;
};

static int
secret_write(struct store *st, MDB_txn *txn, void *vctx, char *err, size_t errlen)
{
	const struct secret_ctx *c = vctx;
	uint64_t g, rg;
	int rc;

	rc = check_key_current(st, txn, err, errlen);
	if (rc == STORE_OK)
		rc = gen_bump(st, txn, &g, err, errlen);
	if (rc != STORE_OK)
		return rc;
	/* Never a token for settings that do not verify. */
	rc = record_get_gen(st, txn, c->akey, &rg, NULL);
	if (rc != STORE_OK) {
		set_err(err, errlen, rc == STORE_ENOENT ? _("no account %s") :
		        _("the record of %s fails its integrity check"), c->akey);
		return rc;
	}
	if (c->value == NULL || c->value[0] == '\0')
		return secret_del(st, txn, c->akey, c->f, err, errlen);
	return secret_put(st, txn, c->akey, c->f, rg, c->value, err, errlen);
}

int
store_secret_set(struct store *st, const char *email, enum secret_field f,
                 const char *value, char *err, size_t errlen)
{
	char akey[ACCT_EMAIL_MAX + 1];
	struct secret_ctx c;

	if (st == NULL || email == NULL || f < SECRET_OAUTH_CLIENT ||
	    (unsigned)f >= SECRET_NFIELDS)
		return STORE_EINVAL;
	if (account_key(email, akey, sizeof(akey)) < 0)
		return STORE_ENOENT;
	if (st->data_key == NULL) {
		set_err(err, errlen, _("the store is locked: unlock it to change it"));
		return STORE_ELOCKED;
	}
	if (value && strnlen(value, STORE_SECRET_MAX + 1) > STORE_SECRET_MAX) {
		set_err(err, errlen, _("the %s is too long"), field_name(f));
		return STORE_EINVAL;
	}
	c.akey = akey;
	c.f = f;
	c.value = value;
	return store_write(st, secret_write, &c, err, errlen);
}

struct result_ctx {
	const char *akey;
	int64_t when;
	const char *category;
};

int
result_write_txn(struct store *st, MDB_txn *txn, const char *akey,
                 int64_t when, const char *category, char *err, size_t errlen)
{
	char rec[RECORD_MAX];
	struct account a;
	MDB_val k = mval(akey, strlen(akey)), v;
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
		return mdb_fail(mrc, _("cannot read the account"), err, errlen);
	/* Re-authenticating a record that does not verify would bless it. */
	if (record_parse(st, &v, akey, &a, &rg) < 0)
		return STORE_ECORRUPT;
	a.last_test_time = when;
	if (str_copy(a.last_result, sizeof(a.last_result), category) < 0 ||
	    account_validate(&a, NULL) < 0) {
		set_err(err, errlen, _("invalid test result"));
		return STORE_EINVAL;
	}
	n = account_serialize(&a, rec, sizeof(rec));
	if (n < 0 || (size_t)n >= sizeof(rec))
		return STORE_EINVAL;
	/* The generation stays: the settings and passwords did not change. */
	return record_put(st, txn, akey, rg, rec, (size_t)n, err, errlen);
}

static int
result_write(struct store *st, MDB_txn *txn, void *vctx, char *err, size_t errlen)
{
	const struct result_ctx *c = vctx;

	return result_write_txn(st, txn, c->akey, c->when, c->category, err, errlen);
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
	tmp = secmem_alloc(STORE_SECRET_MAX + 1);
	if (tmp == NULL)
		return -1;
	if (txn_begin(st, MDB_RDONLY, &txn, NULL, 0) != STORE_OK) {
		secmem_free(tmp, STORE_SECRET_MAX + 1);
		return -1;
	}
	if (check_key_current(st, txn, NULL, 0) != STORE_OK)
		goto fail;
	{
		struct meta_info mi;

		if (meta_read(st, txn, &mi, NULL, 0) != STORE_OK ||
		    !meta_verify(&mi, st->mac_key)) {
			if (report)
				report(_("(meta data)"), _("the store's generation fails its "
				       "integrity check (damaged or altered)"), ud);
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
		char msg[480];  /* room for a translation */
		int rrc;

		key_text(&k, shown, sizeof(shown));
		if (nul == NULL || alen == 0 || alen > ACCT_EMAIL_MAX ||
		    k.mv_size != alen + 2 || p[alen + 1] >= SECRET_NFIELDS) {
			if (report)
				report(shown, _("bad password key in the store"), ud);
			bad++;
			continue;
		}
		f = (enum secret_field)p[alen + 1];
		memcpy(akey, p, alen);
		akey[alen] = '\0';
		rrc = record_get_gen(st, txn, akey, &g, NULL);
		if (rrc != STORE_OK) {
			str_printf(msg, sizeof(msg), rrc == STORE_ENOENT ?
			           _("%s stored for an account that does not exist") :
			           _("%s of an account whose record fails its integrity "
			           "check: it is not used"), field_name(f));
			if (report)
				report(shown, msg, ud);
			bad++;
			continue;
		}
		if (secret_open(st, p, k.mv_size, g, &v, tmp) != STORE_OK) {
			if (secret_gen(&v) < g)
				str_printf(msg, sizeof(msg), _("the %s is an older copy put "
				           "back in place of the current one: set it again"),
				           field_name(f));
			else
				str_printf(msg, sizeof(msg), _("the %s fails its integrity "
				           "check (damaged or altered): set it again"),
				           field_name(f));
			if (report)
				report(shown, msg, ud);
			bad++;
		}
		secmem_wipe(tmp, STORE_SECRET_MAX + 1);
	}
	mdb_cursor_close(cur);
	if (mrc != MDB_NOTFOUND)
		goto fail_nocur;
	mdb_txn_abort(txn);
	secmem_free(tmp, STORE_SECRET_MAX + 1);
	return bad;
fail:
	if (cur)
		mdb_cursor_close(cur);
fail_nocur:
	mdb_txn_abort(txn);
	secmem_free(tmp, STORE_SECRET_MAX + 1);
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

const char *
store_strerror(int code)
{
	switch (code) {
	case STORE_OK:       return _("success");
	case STORE_ENOENT:   return _("not found");
	case STORE_EXISTS:   return _("the account exists already");
	case STORE_EPERM:    return _("store files are accessible by other users");
	case STORE_EKEY:     return _("wrong key file or passphrase");
	case STORE_NEEDPASS: return _("the store needs its passphrase");
	case STORE_ECORRUPT: return _("the store is damaged");
	case STORE_EIO:      return _("store input/output error");
	case STORE_EINVAL:   return _("invalid argument");
	case STORE_ENOMEM:   return _("out of memory");
	case STORE_ELOCKED:  return _("the store is locked");
	default:             return _("unknown store error");
	}
}
