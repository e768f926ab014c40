/* Reading the store's file safely and leaving no old secret in it: the
 * walk of every page at open with SIGBUS/SIGSEGV caught (LMDB has no page
 * checksums), and the zeroing of free pages after a change of secrets. */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "store.h"
#include "store_int.h"
#include "i18n.h"

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
	static const char *const names[] = { "meta", "accounts", "secrets", "activity" };
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

int
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
		set_err(err, errlen, _("the store at %s is damaged: a page of %s points "
		        "outside the file (move it aside and restore a backup)"),
		        st->dir, st->data_path);
		return STORE_ECORRUPT;
	}
	if (mrc != 0)
		return env_fail(st, mrc, true, err, errlen);
	return STORE_OK;
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
void
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
