/* The store on a real LMDB environment in a temporary directory. The test
 * also reaches under the store with raw LMDB, to move and damage sealed
 * records the way an attacker or a bad disk would.
 *
 *   test_store                          run the unit tests
 *   test_store --writer DIR KEY [MAX]   add accounts until killed (or MAX)
 *   test_store --verify DIR KEY         check a store the writer left */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>

#include "account.h"
#include "seal.h"
#include "secmem.h"
#include "store.h"
#include "util.h"
#include "unit.h"

#define CANARY_SMTP "Canary-SMTP-7f3a9c1e-pw"
#define CANARY_IMAP "Canary-IMAP-52d0b8aa-pw"

static char root[256];

static void
path(char *out, size_t len, const char *sub)
{
	snprintf(out, len, "%s/%s", root, sub);
}

static void
make_account(struct account *a, const char *email)
{
	account_init(a);
	snprintf(a->email, sizeof(a->email), "%s", email);
	snprintf(a->display_name, sizeof(a->display_name), "Test %s", email);
	snprintf(a->smtp_host, sizeof(a->smtp_host), "smtp.example.org");
	a->smtp_port = 587;
	a->smtp_security = SEC_STARTTLS;
	snprintf(a->username, sizeof(a->username), "%s", email);
	snprintf(a->imap_host, sizeof(a->imap_host), "imap.example.org");
	a->imap_port = 993;
	a->imap_security = SEC_SSL;
}

static int
open_store(const char *dir, const char *key, bool create, struct store **st,
           char *err, size_t errlen)
{
	struct store_opts o = { dir, key, create };

	err[0] = '\0';
	return store_open(&o, st, err, errlen);
}

/* ---- files ------------------------------------------------------------- */

static int
same_file(const char *p, const uint8_t *want, size_t wlen)
{
	size_t n;
	uint8_t *b = slurp(p, &n);
	int same = b && n == wlen && memcmp(b, want, n) == 0;

	free(b);
	return same;
}

static mode_t
mode_of(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0 ? sb.st_mode & 07777 : (mode_t)-1;
}

static const char *canary_needles[2] = { CANARY_SMTP, CANARY_IMAP };
static int canary_hits;
static int canary_files;

static int
canary_visit(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
	size_t n;
	uint8_t *b;

	(void)sb;
	(void)ftw;
	if (type != FTW_F)
		return 0;
	b = slurp(fpath, &n);
	canary_files++;
	for (int i = 0; i < 2 && b; i++)
		if (memmem(b, n, canary_needles[i], strlen(canary_needles[i])))
			canary_hits++;
	free(b);
	return 0;
}

static int
rm_visit(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(fpath);
}

static void
rm_rf(const char *p)
{
	nftw(p, rm_visit, 16, FTW_DEPTH | FTW_PHYS);
}

static int
copy_file(const char *from, const char *to)
{
	size_t n;
	uint8_t *b = slurp(from, &n);
	int fd, ok;

	if (b == NULL)
		return -1;
	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ok = fd >= 0 && write(fd, b, n) == (ssize_t)n;
	if (fd >= 0)
		close(fd);
	free(b);
	return ok ? 0 : -1;
}

/* A copy of a store directory (data.mdb only: LMDB makes a new lock file). */
static int
copy_store(const char *from, const char *to)
{
	char a[512], b[512];

	rm_rf(to);
	if (mkdir(to, 0700) != 0)
		return -1;
	snprintf(a, sizeof(a), "%s/data.mdb", from);
	snprintf(b, sizeof(b), "%s/data.mdb", to);
	return copy_file(a, b);
}

/* ---- raw LMDB, under the store ------------------------------------------- */

struct raw {
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
};

static int
raw_begin(struct raw *r, const char *dir, const char *db, bool write, size_t mapsize)
{
	int rc = mdb_env_create(&r->env);

	if (rc == 0)
		rc = mdb_env_set_maxdbs(r->env, 4);
	if (rc == 0)
		rc = mdb_env_set_mapsize(r->env, mapsize);
	if (rc == 0)
		rc = mdb_env_open(r->env, dir, MDB_NOSYNC, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(r->env, NULL, write ? 0 : MDB_RDONLY, &r->txn);
	if (rc == 0)
		rc = mdb_dbi_open(r->txn, db, 0, &r->dbi);
	if (rc != 0) {
		fprintf(stderr, "raw LMDB on %s: %s\n", dir, mdb_strerror(rc));
		if (r->env)
			mdb_env_close(r->env);
		r->env = NULL;
		return -1;
	}
	return 0;
}

static int
raw_end(struct raw *r, bool commit)
{
	int rc = 0;

	if (commit)
		rc = mdb_txn_commit(r->txn);
	else
		mdb_txn_abort(r->txn);
	mdb_env_close(r->env);
	return rc == 0 ? 0 : -1;
}

static int
raw_get(const char *dir, const char *db, const void *k, size_t klen, uint8_t *out,
        size_t *outlen)
{
	struct raw r;
	MDB_val key = { klen, (void *)k }, val;
	int rc;

	if (raw_begin(&r, dir, db, false, 0) < 0)
		return -1;
	rc = mdb_get(r.txn, r.dbi, &key, &val);
	if (rc == 0 && val.mv_size <= *outlen) {
		memcpy(out, val.mv_data, val.mv_size);
		*outlen = val.mv_size;
	} else {
		rc = -1;
	}
	raw_end(&r, false);
	return rc == 0 ? 0 : -1;
}

static int
raw_put(const char *dir, const char *db, const void *k, size_t klen,
        const void *v, size_t vlen)
{
	struct raw r;
	MDB_val key = { klen, (void *)k }, val = { vlen, (void *)v };

	if (raw_begin(&r, dir, db, true, 0) < 0)
		return -1;
	if (mdb_put(r.txn, r.dbi, &key, &val, 0) != 0) {
		raw_end(&r, false);
		return -1;
	}
	return raw_end(&r, true);
}

static int
raw_del(const char *dir, const char *db, const void *k, size_t klen)
{
	struct raw r;
	MDB_val key = { klen, (void *)k };

	if (raw_begin(&r, dir, db, true, 0) < 0)
		return -1;
	if (mdb_del(r.txn, r.dbi, &key, NULL) != 0) {
		raw_end(&r, false);
		return -1;
	}
	return raw_end(&r, true);
}

/* A new, empty environment with a small map, as if a store's creation had
 * been interrupted: store_open(create) finishes it and keeps the map. */
static int
raw_create_small(const char *dir, size_t mapsize)
{
	MDB_env *env;
	int rc;

	if (mkdir(dir, 0700) != 0)
		return -1;
	rc = mdb_env_create(&env);
	if (rc == 0)
		rc = mdb_env_set_mapsize(env, mapsize);
	if (rc == 0)
		rc = mdb_env_open(env, dir, 0, 0600);
	mdb_env_close(env);
	return rc == 0 ? 0 : -1;
}

static size_t
skey(const char *akey, int field, uint8_t *out)
{
	size_t n = strlen(akey);

	memcpy(out, akey, n);
	out[n] = 0;
	out[n + 1] = (uint8_t)field;
	return n + 2;
}

/* ---- reports ------------------------------------------------------------ */

struct reports {
	int n;
	char keys[16][300];
	char problems[16][300];
};

static void
collect(const char *key, const char *problem, void *ud)
{
	struct reports *r = ud;

	if (r->n < 16) {
		snprintf(r->keys[r->n], sizeof(r->keys[0]), "%s", key);
		snprintf(r->problems[r->n], sizeof(r->problems[0]), "%s", problem);
	}
	r->n++;
}

static int
reported(const struct reports *r, const char *key)
{
	for (int i = 0; i < r->n && i < 16; i++)
		if (strcmp(r->keys[i], key) == 0)
			return 1;
	return 0;
}

static int
count_cb(const struct account *a, void *ud)
{
	(void)a;
	(void)ud;
	return 0;
}

/* ---- the tests ---------------------------------------------------------- */

static char dir[300], keyf[300], data[320];

static int
secret_is(struct store *st, const char *email, enum secret_field f, const char *want)
{
	char buf[ACCT_SECRET_MAX + 1];
	int rc = store_secret_get(st, email, f, buf, sizeof(buf));
	int ok = rc == STORE_OK && strcmp(buf, want) == 0;

	secmem_wipe(buf, sizeof(buf));
	return ok;
}

struct walk {
	int n;
	char first[300];
	int stop_at;
	int with_pw;
};

static int
walk_cb(const struct account *a, void *ud)
{
	struct walk *w = ud;

	if (w->n == 0)
		snprintf(w->first, sizeof(w->first), "%s", a->email);
	w->n++;
	if (a->has_password)
		w->with_pw++;
	return w->stop_at && w->n >= w->stop_at;
}

/* The listing finds each account's secrets in one forward walk: it must
 * see what a lookup by key sees, for keys that are prefixes of one another
 * ("dan@example.co", "dan@example.com") and keys that sort around the
 * separator ('-' and '.' before the NUL that ends a key, 'z' after). */
#define WALK_N 6
struct seen_flags {
	int n;
	char email[WALK_N][ACCT_EMAIL_MAX + 1];
	bool pw[WALK_N], imap[WALK_N], refresh[WALK_N];
};

static int
seen_cb(const struct account *a, void *ud)
{
	struct seen_flags *s = ud;

	if (strncmp(a->email, "dan", 3) != 0 || s->n >= WALK_N)
		return 0;
	snprintf(s->email[s->n], sizeof(s->email[0]), "%s", a->email);
	s->pw[s->n] = a->has_password;
	s->imap[s->n] = a->has_imap_password;
	s->refresh[s->n] = a->has_oauth_refresh;
	s->n++;
	return 0;
}

static void
test_walk_secrets(struct store *st)
{
	static const struct { const char *email, *smtp, *imap, *refresh; } t[WALK_N] = {
		{ "dan@example.co", NULL, "i1", NULL },
		{ "dan@example.com", "s2", NULL, NULL },
		{ "dan-x@example.com", NULL, NULL, "r3" },
		{ "dan.y@example.com", "s4", "i4", NULL },
		{ "danz@example.com", NULL, NULL, NULL },
		{ "dan@example.coz", "s6", NULL, "r6" },
	};
	struct seen_flags s = { 0 };
	struct account a, got;
	char err[512];
	int same = 0, rc;

	for (int i = 0; i < WALK_N; i++) {
		make_account(&a, t[i].email);
		check(store_account_add(st, &a, t[i].smtp, t[i].imap, err, sizeof(err)) == STORE_OK,
		      "add %s (%s)", t[i].email, err);
		if (t[i].refresh)
			check(store_secret_set(st, t[i].email, SECRET_OAUTH_REFRESH, t[i].refresh,
			                       err, sizeof(err)) == STORE_OK,
			      "refresh token of %s (%s)", t[i].email, err);
	}
	rc = store_account_foreach(st, seen_cb, NULL, &s);
	check(rc == STORE_OK && s.n == WALK_N, "foreach lists the %d dan accounts (%d)",
	      WALK_N, s.n);
	for (int i = 0; i < s.n; i++) {
		int j = 0;

		while (j < WALK_N && strcmp(t[j].email, s.email[i]) != 0)
			j++;
		if (j == WALK_N || store_account_get(st, s.email[i], &got) != STORE_OK)
			continue;
		if (got.has_password == s.pw[i] && got.has_imap_password == s.imap[i] &&
		    got.has_oauth_refresh == s.refresh[i] && s.pw[i] == (t[j].smtp != NULL) &&
		    s.imap[i] == (t[j].imap != NULL) && s.refresh[i] == (t[j].refresh != NULL))
			same++;
		else
			fprintf(stderr, "# %s: listed pw=%d imap=%d refresh=%d\n", s.email[i],
			        s.pw[i], s.imap[i], s.refresh[i]);
	}
	check(same == WALK_N, "foreach sees each account's secrets as get does (%d of %d)",
	      same, WALK_N);
	for (int i = 0; i < WALK_N; i++)
		store_account_remove(st, t[i].email);
}

static void
test_basics(void)
{
	struct store *st = NULL;
	struct account a, b, got;
	struct walk w;
	char err[512], keydir[300];
	int rc;

	rc = open_store(dir, keyf, false, &st, err, sizeof(err));
	check(rc == STORE_ENOENT && st == NULL, "open without create on a missing store: ENOENT (%s)", err);

	rc = open_store(dir, keyf, true, &st, err, sizeof(err));
	check(rc == STORE_OK, "create the store (%s)", err);
	if (rc != STORE_OK)
		exit(1);
	snprintf(keydir, sizeof(keydir), "%s/keys", root);
	check(mode_of(dir) == 0700, "store directory is 0700 (%04o)", (unsigned)mode_of(dir));
	check(mode_of(data) == 0600, "data.mdb is 0600 (%04o)", (unsigned)mode_of(data));
	check(mode_of(keyf) == 0600, "key file is 0600 (%04o)", (unsigned)mode_of(keyf));
	check(mode_of(keydir) == 0700, "key directory is 0700 (%04o)", (unsigned)mode_of(keydir));
	check(store_is_unlocked(st), "a new store is unlocked");
	check(store_has_keyfile_slot(st) && !store_has_passphrase(st),
	      "a new store has a key-file slot and no passphrase");

	make_account(&a, "Alice@Example.org");
	rc = store_account_add(st, &a, CANARY_SMTP, CANARY_IMAP, err, sizeof(err));
	check(rc == STORE_OK, "add an account with both passwords (%s)", err);
	make_account(&b, "alice@EXAMPLE.ORG");
	rc = store_account_add(st, &b, NULL, NULL, err, sizeof(err));
	check(rc == STORE_EXISTS, "duplicate add (other case) is refused: %s", err);
	make_account(&b, "bob@example.org");
	b.smtp_host[0] = '\0';
	rc = store_account_add(st, &b, NULL, NULL, err, sizeof(err));
	check(rc == STORE_EINVAL && err[0], "invalid account refused: %s", err);
	make_account(&b, "bob@example.org");
	rc = store_account_add(st, &b, "bad\npassword", NULL, err, sizeof(err));
	check(rc == STORE_EINVAL, "password with a newline refused: %s", err);
	rc = store_account_add(st, &b, "bob-smtp-pw", NULL, err, sizeof(err));
	check(rc == STORE_OK, "add a second account with only an SMTP password");
	make_account(&b, "carol@example.org");
	rc = store_account_add(st, &b, NULL, NULL, err, sizeof(err));
	check(rc == STORE_OK, "add a third account without passwords");
	check(store_account_count(st) == 3, "count is 3 (%zu)", store_account_count(st));

	rc = store_account_get(st, "ALICE@example.org", &got);
	check(rc == STORE_OK && strcmp(got.email, "Alice@Example.org") == 0 &&
	      strcmp(got.smtp_host, "smtp.example.org") == 0 && got.imap_port == 993,
	      "get (case-insensitive) returns the record");
	check(rc == STORE_OK && got.has_password && got.has_imap_password,
	      "get reports both passwords present");
	rc = store_account_get(st, "bob@example.org", &got);
	check(rc == STORE_OK && got.has_password && !got.has_imap_password,
	      "get reports only the SMTP password of bob");
	check(store_account_get(st, "nobody@example.org", &got) == STORE_ENOENT,
	      "get of a missing account: ENOENT");
	check(secret_is(st, "alice@example.org", SECRET_SMTP, CANARY_SMTP) &&
	      secret_is(st, "alice@example.org", SECRET_IMAP, CANARY_IMAP),
	      "secrets round trip");
	{
		char buf[64];
		check(store_secret_get(st, "carol@example.org", SECRET_SMTP, buf,
		                       sizeof(buf)) == STORE_ENOENT,
		      "secret_get without a password: ENOENT");
	}

	rc = store_set_result(st, "bob@example.org", 1700000000, "ok");
	check(rc == STORE_OK, "set_result");
	rc = store_account_get(st, "bob@example.org", &got);
	check(rc == STORE_OK && got.last_test_time == 1700000000 &&
	      strcmp(got.last_result, "ok") == 0 && got.has_password,
	      "set_result is stored and keeps the password");
	check(store_set_result(st, "nobody@example.org", 1, "ok") == STORE_ENOENT,
	      "set_result on a missing account: ENOENT");

	memset(&w, 0, sizeof(w));
	rc = store_account_foreach(st, walk_cb, NULL, &w);
	check(rc == STORE_OK && w.n == 3 && strcmp(w.first, "Alice@Example.org") == 0 &&
	      w.with_pw == 2, "foreach visits 3 accounts in key order (%d)", w.n);
	memset(&w, 0, sizeof(w));
	w.stop_at = 2;
	store_account_foreach(st, walk_cb, NULL, &w);
	check(w.n == 2, "foreach stops when the callback says so");
	test_walk_secrets(st);
	store_close(st);

	/* Listing works locked; secrets do not. */
	rc = open_store(dir, keyf, false, &st, err, sizeof(err));
	check(rc == STORE_OK && !store_is_unlocked(st), "reopen: locked");
	memset(&w, 0, sizeof(w));
	rc = store_account_foreach(st, walk_cb, NULL, &w);
	check(rc == STORE_OK && w.n == 3 && w.with_pw == 2,
	      "foreach and has_password work while locked");
	{
		char buf[64];
		check(store_secret_get(st, "alice@example.org", SECRET_SMTP, buf,
		                       sizeof(buf)) == STORE_ELOCKED,
		      "secret_get while locked: ELOCKED");
	}
	make_account(&b, "dave@example.org");
	rc = store_account_add(st, &b, "dave-pw", NULL, err, sizeof(err));
	check(rc == STORE_ELOCKED, "add with a password while locked: ELOCKED");
	/* No change at all without the key: records are authenticated with it. */
	{
		size_t blen;
		uint8_t *bytes = slurp(data, &blen);
		struct account c;

		rc = store_account_add(st, &b, NULL, NULL, err, sizeof(err));
		check(rc == STORE_ELOCKED, "add without a password while locked: ELOCKED");
		rc = store_account_remove(st, "carol@example.org");
		check(rc == STORE_ELOCKED, "remove while locked: ELOCKED");
		check(store_account_get(st, "bob@example.org", &c) == STORE_OK, "get bob");
		snprintf(c.smtp_host, sizeof(c.smtp_host), "evil.example.net");
		rc = store_account_put(st, "bob@example.org", &c, NULL, NULL, err, sizeof(err));
		check(rc == STORE_ELOCKED, "edit while locked: ELOCKED");
		rc = store_set_result(st, "bob@example.org", 1700000000, "ok");
		check(rc == STORE_ELOCKED, "set_result while locked: ELOCKED");
		check(bytes && same_file(data, bytes, blen),
		      "data.mdb byte-for-byte unchanged by the locked writes");
		free(bytes);
	}
	check(store_check(st, NULL, NULL) == -1, "check needs the key: -1 while locked");

	rc = store_unlock(st, NULL, err, sizeof(err));
	check(rc == STORE_OK && store_is_unlocked(st), "unlock with the key file (%s)", err);
	check(secret_is(st, "Alice@example.org", SECRET_SMTP, CANARY_SMTP),
	      "secret opens after unlock");

	/* Edits and renames. */
	make_account(&b, "bob@example.org");
	b.smtp_port = 465;
	b.smtp_security = SEC_SSL;
	rc = store_account_put(st, "bob@example.org", &b, NULL, NULL, err, sizeof(err));
	check(rc == STORE_OK, "put edits an account (%s)", err);
	rc = store_account_get(st, "bob@example.org", &got);
	check(rc == STORE_OK && got.smtp_port == 465 && got.has_password,
	      "the edit is stored and the password kept");
	make_account(&b, "alice.new@example.org");
	rc = store_account_put(st, "alice@example.org", &b, NULL, NULL, err, sizeof(err));
	check(rc == STORE_OK, "put renames an account (%s)", err);
	check(store_account_get(st, "alice@example.org", &got) == STORE_ENOENT,
	      "the old name is gone");
	check(secret_is(st, "alice.new@example.org", SECRET_SMTP, CANARY_SMTP) &&
	      secret_is(st, "alice.new@example.org", SECRET_IMAP, CANARY_IMAP),
	      "both secrets follow the rename (re-sealed)");
	{
		char buf[64];
		check(store_secret_get(st, "alice@example.org", SECRET_SMTP, buf,
		                       sizeof(buf)) == STORE_ENOENT,
		      "no secret left under the old name");
	}
	make_account(&b, "carol@example.org");
	rc = store_account_put(st, "alice.new@example.org", &b, NULL, NULL, err, sizeof(err));
	check(rc == STORE_EXISTS, "rename onto an existing account: EXISTS (%s)", err);
	rc = store_account_put(st, "nobody@example.org", &b, NULL, NULL, err, sizeof(err));
	check(rc == STORE_ENOENT, "put of a missing account: ENOENT (%s)", err);
	make_account(&b, "carol@example.org");
	rc = store_account_put(st, "carol@example.org", &b, "carol-pw", NULL, err, sizeof(err));
	check(rc == STORE_OK && secret_is(st, "carol@example.org", SECRET_SMTP, "carol-pw"),
	      "put sets a new password");
	rc = store_account_put(st, "carol@example.org", &b, "", NULL, err, sizeof(err));
	check(rc == STORE_OK && store_account_get(st, "carol@example.org", &got) == STORE_OK &&
	      !got.has_password, "put with \"\" removes a password");

	rc = store_account_remove(st, "bob@example.org");
	check(rc == STORE_OK, "remove");
	check(store_account_remove(st, "bob@example.org") == STORE_ENOENT,
	      "remove again: ENOENT");
	{
		struct store_status ss;
		rc = store_status(st, &ss);
		check(rc == STORE_OK && ss.accounts == 2 && ss.secrets == 2 &&
		      ss.keyfile_slot && !ss.passphrase_slot && ss.format_version == 2 &&
		      ss.map_size >= ((uint64_t)16 << 20),
		      "status: 2 accounts, 2 secrets (bob's went with him), key-file slot");
	}
	{
		struct reports r = { 0 };
		check(store_check(st, collect, &r) == 0 && r.n == 0, "check of a healthy store: 0");
	}
	/* Bob again, for the tests below. */
	make_account(&b, "bob@example.org");
	check(store_account_add(st, &b, "bob-smtp-pw", "bob-imap-pw", err, sizeof(err)) ==
	      STORE_OK, "add bob back");
	store_close(st);

	canary_hits = canary_files = 0;
	nftw(root, canary_visit, 16, FTW_PHYS);
	check(canary_files >= 3 && canary_hits == 0,
	      "no canary password in any of %d files under the store and key dirs",
	      canary_files);
}

/* Blobs moved to another account or field do not open; a damaged blob only
 * breaks its own account. */
static void
test_tamper(void)
{
	struct store *st = NULL;
	uint8_t alice[300], bob[300], other[300], blob[2048], orig[2048], oblob[2048];
	size_t alen = skey("alice.new@example.org", SECRET_SMTP, alice);
	size_t blen = skey("bob@example.org", SECRET_SMTP, bob);
	size_t olen = skey("alice.new@example.org", SECRET_IMAP, other);
	size_t n = sizeof(orig), bn = sizeof(blob), on = sizeof(oblob);
	size_t bad_flip = 0, bad_trunc = 0;
	size_t caught_other = 0;
	char err[512];
	int rc;

	check(raw_get(dir, "secrets", alice, alen, orig, &n) == 0 && n > 29,
	      "raw read of alice's sealed SMTP password (%zu bytes)", n);
	check(raw_get(dir, "secrets", bob, blen, blob, &bn) == 0, "raw read of bob's blob");
	check(raw_get(dir, "secrets", other, olen, oblob, &on) == 0,
	      "raw read of alice's IMAP blob");

	/* alice's blob under bob's key, and under alice's IMAP field. */
	check(raw_put(dir, "secrets", bob, blen, orig, n) == 0 &&
	      raw_put(dir, "secrets", other, olen, orig, n) == 0, "raw: move blobs");
	rc = open_store(dir, keyf, false, &st, err, sizeof(err));
	if (rc == STORE_OK)
		rc = store_unlock(st, NULL, err, sizeof(err));
	check(rc == STORE_OK, "reopen and unlock");
	{
		char buf[ACCT_SECRET_MAX + 1];
		struct reports r = { 0 };

		check(store_secret_get(st, "bob@example.org", SECRET_SMTP, buf, sizeof(buf)) ==
		      STORE_ECORRUPT, "blob moved to another account does not open");
		check(store_secret_get(st, "alice.new@example.org", SECRET_IMAP, buf,
		                       sizeof(buf)) == STORE_ECORRUPT,
		      "blob moved to another field does not open");
		check(secret_is(st, "alice.new@example.org", SECRET_SMTP, CANARY_SMTP),
		      "the original still opens");
		rc = store_check(st, collect, &r);
		check(rc == 2 && reported(&r, "bob@example.org") &&
		      reported(&r, "alice.new@example.org"),
		      "check reports both moved blobs, naming the accounts (%d)", rc);
		for (int i = 0; i < r.n && i < 16; i++)
			printf("# %s: %s\n", r.keys[i], r.problems[i]);
	}
	store_close(st);
	check(raw_put(dir, "secrets", bob, blen, blob, bn) == 0 &&
	      raw_put(dir, "secrets", other, olen, oblob, on) == 0,
	      "raw: restore the moved-over blobs");

	/* Every byte of alice's blob flipped, and every truncation. */
	for (size_t i = 0; i < n + n; i++) {
		struct reports r = { 0 };
		uint8_t mod[2048];
		size_t mlen = n;

		memcpy(mod, orig, n);
		if (i < n)
			mod[i] ^= 0x41;
		else
			mlen = i - n;
		if (raw_put(dir, "secrets", alice, alen, mod, mlen) != 0) {
			bad_flip++;
			continue;
		}
		rc = open_store(dir, keyf, false, &st, err, sizeof(err));
		if (rc == STORE_OK)
			rc = store_unlock(st, NULL, err, sizeof(err));
		if (rc != STORE_OK) {
			bad_flip++;
			continue;
		}
		{
			char buf[ACCT_SECRET_MAX + 1];

			if (store_secret_get(st, "alice.new@example.org", SECRET_SMTP, buf,
			                     sizeof(buf)) != STORE_ECORRUPT)
				i < n ? bad_flip++ : bad_trunc++;
		}
		if (store_check(st, collect, &r) != 1 || !reported(&r, "alice.new@example.org"))
			i < n ? bad_flip++ : bad_trunc++;
		if (secret_is(st, "bob@example.org", SECRET_SMTP, "bob-smtp-pw") &&
		    secret_is(st, "alice.new@example.org", SECRET_IMAP, CANARY_IMAP))
			caught_other++;
		store_close(st);
	}
	check(bad_flip == 0, "each of %zu flipped bytes: ECORRUPT and reported by check", n);
	check(bad_trunc == 0, "each of %zu truncations: ECORRUPT and reported by check", n);
	check(caught_other == 2 * n, "the other secrets kept opening every time");

	/* The last round left alice's blob truncated: a rotation must refuse
	 * and change nothing at all (one transaction, aborted). */
	{
		uint8_t slot1[128], slot2[128], bob1[2048], bob2[2048];
		size_t s1 = sizeof(slot1), s2 = sizeof(slot2), b1 = sizeof(bob1), b2 = sizeof(bob2);

		raw_get(dir, "meta", "slot.keyfile", 12, slot1, &s1);
		raw_get(dir, "secrets", bob, blen, bob1, &b1);
		rc = open_store(dir, keyf, false, &st, err, sizeof(err));
		if (rc == STORE_OK)
			rc = store_unlock(st, NULL, err, sizeof(err));
		if (rc == STORE_OK)
			rc = store_rotate(st, NULL, err, sizeof(err));
		check(rc == STORE_ECORRUPT && strstr(err, "alice.new@example.org"),
		      "rotate with a damaged secret: refused, naming it (%s)", err);
		check(secret_is(st, "bob@example.org", SECRET_SMTP, "bob-smtp-pw"),
		      "the handle still opens the other secrets");
		store_close(st);
		check(raw_get(dir, "meta", "slot.keyfile", 12, slot2, &s2) == 0 &&
		      raw_get(dir, "secrets", bob, blen, bob2, &b2) == 0 &&
		      s1 == s2 && memcmp(slot1, slot2, s1) == 0 &&
		      b1 == b2 && memcmp(bob1, bob2, b1) == 0,
		      "the aborted rotation changed neither slots nor blobs");
	}
	check(raw_put(dir, "secrets", alice, alen, orig, n) == 0, "raw: restore alice");

	/* A damaged account record: reported, skipped, the rest still listed. */
	{
		static const char junk[] = "v=1\nemail=nonsense\n";
		uint8_t rec[8192];
		size_t rlen = sizeof(rec);
		struct reports r = { 0 };
		struct walk w = { 0 };
		struct account got;

		check(raw_get(dir, "accounts", "carol@example.org", 17, rec, &rlen) == 0 &&
		      raw_put(dir, "accounts", "carol@example.org", 17, junk,
		              sizeof(junk) - 1) == 0, "raw: damage carol's record");
		rc = open_store(dir, keyf, false, &st, err, sizeof(err));
		if (rc == STORE_OK)
			rc = store_unlock(st, NULL, err, sizeof(err));
		rc = store_account_foreach(st, walk_cb, NULL, &w);
		check(rc == STORE_OK && w.n == 2, "foreach lists the 2 good accounts");
		rc = store_account_foreach(st, count_cb, collect, &r);
		check(rc == STORE_OK && r.n == 1 && reported(&r, "carol@example.org"),
		      "foreach reports the bad record by its key");
		check(store_account_get(st, "carol@example.org", &got) == STORE_ECORRUPT,
		      "get of the bad record: ECORRUPT");
		memset(&r, 0, sizeof(r));
		check(store_check(st, collect, &r) == 1 && reported(&r, "carol@example.org"),
		      "check reports the bad record");
		store_close(st);
		check(raw_put(dir, "accounts", "carol@example.org", 17, rec, rlen) == 0,
		      "raw: restore carol");
	}
}

static void
test_keys(void)
{
	struct store *st = NULL;
	char err[512], other_dir[300], other_key[300], missing[300], junk_key[300];
	size_t before_len;
	uint8_t *before;
	int rc;

	/* A second store gives us a valid key file that is not ours. */
	path(other_dir, sizeof(other_dir), "other");
	path(other_key, sizeof(other_key), "other.key");
	path(missing, sizeof(missing), "keys/missing.key");
	path(junk_key, sizeof(junk_key), "junk.key");
	rc = open_store(other_dir, other_key, true, &st, err, sizeof(err));
	check(rc == STORE_OK, "create a second store with its own key file");
	store_close(st);

	before = slurp(data, &before_len);
	rc = open_store(dir, other_key, false, &st, err, sizeof(err));
	check(rc == STORE_OK, "open with another store's key file (listing needs no key)");
	rc = store_unlock(st, NULL, err, sizeof(err));
	check(rc == STORE_EKEY && strstr(err, other_key) != NULL,
	      "wrong key file: EKEY naming it (%s)", err);
	{
		struct walk w = { 0 };
		struct account got;
		store_account_foreach(st, walk_cb, NULL, &w);
		store_account_get(st, "bob@example.org", &got);
		check(w.n == 3, "listing still works");
	}
	store_close(st);

	rc = open_store(dir, missing, false, &st, err, sizeof(err));
	if (rc == STORE_OK)
		rc = store_unlock(st, NULL, err, sizeof(err));
	check(rc == STORE_EKEY && strstr(err, "not found") && strstr(err, missing),
	      "missing key file, no passphrase: EKEY (%s)", err);
	store_close(st);

	{
		FILE *f = fopen(junk_key, "w");
		fputs("fluenzr-store-key v1\nnot hex at all\n", f);
		fclose(f);
		chmod(junk_key, 0600);
	}
	rc = open_store(dir, junk_key, false, &st, err, sizeof(err));
	if (rc == STORE_OK)
		rc = store_unlock(st, NULL, err, sizeof(err));
	check(rc == STORE_EKEY, "malformed key file: EKEY (%s)", err);
	store_close(st);
	check(same_file(data, before, before_len),
	      "data.mdb byte-for-byte unchanged by the failed unlocks");
	free(before);

	/* Permissions. */
	chmod(keyf, 0644);
	rc = open_store(dir, keyf, false, &st, err, sizeof(err));
	if (rc == STORE_OK)
		rc = store_unlock(st, NULL, err, sizeof(err));
	check(rc == STORE_EPERM && strstr(err, "chmod 600") && strstr(err, keyf),
	      "key file 0644: EPERM (%s)", err);
	store_close(st);
	st = NULL;
	chmod(keyf, 0600);
	chmod(dir, 0755);
	rc = open_store(dir, keyf, false, &st, err, sizeof(err));
	check(rc == STORE_EPERM && st == NULL && strstr(err, "chmod 700"),
	      "store directory 0755: EPERM (%s)", err);
	chmod(dir, 0700);
	chmod(data, 0640);
	rc = open_store(dir, keyf, false, &st, err, sizeof(err));
	check(rc == STORE_EPERM && st == NULL && strstr(err, "data.mdb"),
	      "data.mdb 0640: EPERM (%s)", err);
	chmod(data, 0600);
	rc = open_store(dir, keyf, false, &st, err, sizeof(err));
	check(rc == STORE_OK, "modes restored: opens again");
	store_close(st);
}

static void
blobs_read(uint8_t out[4][2048], size_t lens[4])
{
	const char *who[2] = { "alice.new@example.org", "bob@example.org" };

	for (int i = 0; i < 4; i++) {
		uint8_t k[300];
		size_t kl = skey(who[i / 2], i % 2, k);

		lens[i] = 2048;
		if (raw_get(dir, "secrets", k, kl, out[i], &lens[i]) != 0)
			lens[i] = 0;
	}
}

static int
all_secrets_open(struct store *st)
{
	return secret_is(st, "alice.new@example.org", SECRET_SMTP, CANARY_SMTP) &&
	       secret_is(st, "alice.new@example.org", SECRET_IMAP, CANARY_IMAP) &&
	       secret_is(st, "bob@example.org", SECRET_SMTP, "bob-smtp-pw") &&
	       secret_is(st, "bob@example.org", SECRET_IMAP, "bob-imap-pw");
}

static void
test_passphrase_rotate(void)
{
	struct store *st = NULL;
	char err[512], missing[300];
	uint8_t b1[4][2048], b2[4][2048];
	size_t l1[4], l2[4], before_len;
	uint8_t *before;
	int rc, changed = 0;

	path(missing, sizeof(missing), "keys/missing.key");
	rc = open_store(dir, keyf, false, &st, err, sizeof(err));
	check(rc == STORE_OK, "open");
	rc = store_set_passphrase(st, "first pass", false, err, sizeof(err));
	check(rc == STORE_ELOCKED, "set_passphrase while locked: ELOCKED");
	store_unlock(st, NULL, err, sizeof(err));
	rc = store_set_passphrase(st, NULL, true, err, sizeof(err));
	check(rc == STORE_EINVAL && store_has_keyfile_slot(st),
	      "drop the key file without a passphrase: refused (%s)", err);
	rc = store_set_passphrase(st, "7 bytes", false, err, sizeof(err));
	check(rc == STORE_EINVAL && !store_has_passphrase(st) &&
	      strstr(err, "at least 8 characters"),
	      "a passphrase policy_passphrase() refuses: refused (%s)", err);
	rc = store_set_passphrase(st, "first pass", false, err, sizeof(err));
	check(rc == STORE_OK && store_has_passphrase(st) && store_has_keyfile_slot(st),
	      "set a passphrase (%s)", err);
	{
		struct store_status ss;
		store_status(st, &ss);
		check(ss.passphrase_slot && ss.pbkdf2_iterations >= 600000,
		      "status: passphrase slot with %u iterations", ss.pbkdf2_iterations);
	}
	store_close(st);

	/* Key file gone: the passphrase is needed. */
	rc = open_store(dir, missing, false, &st, err, sizeof(err));
	check(rc == STORE_OK, "open with the key file missing");
	rc = store_unlock(st, NULL, err, sizeof(err));
	check(rc == STORE_NEEDPASS, "unlock without passphrase: NEEDPASS (%s)", err);
	before = slurp(data, &before_len);
	rc = store_unlock(st, "wrong pass", err, sizeof(err));
	check(rc == STORE_EKEY && !store_is_unlocked(st),
	      "wrong passphrase: EKEY (%s)", err);
	check(same_file(data, before, before_len), "data.mdb unchanged by the wrong passphrase");
	free(before);
	rc = store_unlock(st, "first pass", err, sizeof(err));
	check(rc == STORE_OK && all_secrets_open(st), "the passphrase unlocks; secrets open");

	/* Rotation. */
	store_close(st);
	blobs_read(b1, l1);
	rc = open_store(dir, keyf, false, &st, err, sizeof(err));
	if (rc == STORE_OK)
		rc = store_unlock(st, NULL, err, sizeof(err));
	check(rc == STORE_OK, "reopen with the key file");
	rc = store_rotate(st, NULL, err, sizeof(err));
	check(rc == STORE_NEEDPASS, "rotate without the passphrase: NEEDPASS (%s)", err);
	rc = store_rotate(st, "wrong pass", err, sizeof(err));
	check(rc == STORE_EKEY, "rotate with a wrong passphrase: EKEY (%s)", err);
	store_close(st);
	blobs_read(b2, l2);
	for (int i = 0; i < 4; i++)
		changed += l1[i] != l2[i] || memcmp(b1[i], b2[i], l1[i]) != 0;
	check(l1[0] > 0 && changed == 0, "refused rotations changed no blob");

	rc = open_store(dir, keyf, false, &st, err, sizeof(err));
	if (rc == STORE_OK)
		rc = store_unlock(st, NULL, err, sizeof(err));
	rc = store_rotate(st, "first pass", err, sizeof(err));
	check(rc == STORE_OK, "rotate (%s)", err);
	check(all_secrets_open(st), "secrets open with the new key in the same handle");
	store_close(st);
	blobs_read(b2, l2);
	changed = 0;
	for (int i = 0; i < 4; i++)
		changed += l1[i] == l2[i] && l1[i] > 0 && memcmp(b1[i], b2[i], l1[i]) != 0;
	check(changed == 4, "rotation re-sealed all 4 blobs");
	rc = open_store(dir, keyf, false, &st, err, sizeof(err));
	if (rc == STORE_OK)
		rc = store_unlock(st, NULL, err, sizeof(err));
	check(rc == STORE_OK && all_secrets_open(st), "after rotation: key file unlocks, secrets open");
	store_close(st);
	rc = open_store(dir, missing, false, &st, err, sizeof(err));
	if (rc == STORE_OK)
		rc = store_unlock(st, "first pass", err, sizeof(err));
	check(rc == STORE_OK && all_secrets_open(st), "after rotation: passphrase unlocks");

	/* Only the passphrase from now on. */
	rc = store_set_passphrase(st, NULL, true, err, sizeof(err));
	check(rc == STORE_OK && !store_has_keyfile_slot(st) && store_has_passphrase(st),
	      "drop the key-file slot (%s)", err);
	store_close(st);
	rc = open_store(dir, keyf, false, &st, err, sizeof(err));
	if (rc == STORE_OK)
		rc = store_unlock(st, NULL, err, sizeof(err));
	check(rc == STORE_NEEDPASS, "the key file no longer opens it: NEEDPASS (%s)", err);
	rc = store_unlock(st, "first pass", err, sizeof(err));
	check(rc == STORE_OK && all_secrets_open(st), "the passphrase does");
	store_close(st);
}

/* Runs fn in a child: a crash there is a failed check, not a dead test. */
/* ---- authentication, rollback, migration --------------------------------- */

/* Replaces from with to in the text of a record, keeping whatever follows
 * the text (its authentication): what an attacker without the key can do. */
static int
record_edit(const char *d, const char *akey, const char *from, const char *to)
{
	uint8_t rec[9000], out[9000];
	size_t n = sizeof(rec), tl, fl = strlen(from), tol = strlen(to);
	uint8_t *hit, *nul;

	if (raw_get(d, "accounts", akey, strlen(akey), rec, &n) < 0)
		return -1;
	nul = memchr(rec, 0, n);
	tl = nul ? (size_t)(nul - rec) : n;
	hit = memmem(rec, tl, from, fl);
	if (hit == NULL || n - fl + tol > sizeof(out))
		return -1;
	memcpy(out, rec, (size_t)(hit - rec));
	memcpy(out + (hit - rec), to, tol);
	memcpy(out + (hit - rec) + tol, hit + fl, n - (size_t)(hit - rec) - fl);
	return raw_put(d, "accounts", akey, strlen(akey), out, n - fl + tol);
}

static int
open_unlocked(const char *d, const char *k, struct store **st, char *err, size_t errlen)
{
	int rc = open_store(d, k, false, st, err, errlen);

	if (rc == STORE_OK)
		rc = store_unlock(*st, NULL, err, errlen);
	return rc;
}

static int
reported_text(const struct reports *r, const char *needle)
{
	for (int i = 0; i < r->n && i < 16; i++)
		if (strstr(r->problems[i], needle))
			return 1;
	return 0;
}

static void
test_auth(void)
{
	char ad[300], ak[300], adata[320], akdir[300], next[320], err[512];
	static const char V[] = "vic@example.org";
	uint8_t rec[9000], sec1[2048];
	size_t rlen = sizeof(rec), s1 = sizeof(sec1), klen1, klen2, dlen;
	uint8_t skv[300], *k1, *k2, *dbcopy;
	size_t skl = skey(V, SECRET_SMTP, skv);
	struct store *st = NULL;
	struct account a, got;
	struct reports r;
	int rc;

	path(ad, sizeof(ad), "auth");
	path(akdir, sizeof(akdir), "auth-keys");
	path(ak, sizeof(ak), "auth-keys/store.key");
	snprintf(adata, sizeof(adata), "%s/data.mdb", ad);
	snprintf(next, sizeof(next), "%s.new", ak);
	rc = open_store(ad, ak, true, &st, err, sizeof(err));
	make_account(&a, V);
	if (rc == STORE_OK)
		rc = store_account_add(st, &a, "vic-pw-1", NULL, err, sizeof(err));
	check(rc == STORE_OK, "auth: a store with one account (%s)", err);
	store_close(st);
	check(raw_get(ad, "accounts", V, strlen(V), rec, &rlen) == 0, "raw read of the record");

	/* The server the password goes to, rewritten under the store. */
	{
		static const char *const edits[][2] = {
			{ "smtp-host=smtp.example.org", "smtp-host=evil.example.net" },
			{ "smtp-port=587", "smtp-port=25" },
			{ "smtp-security=starttls", "smtp-security=ssl" },
			{ "allow-plain=0", "allow-plain=1" },
			{ "ca-file=", "ca-file=/tmp/evil.pem" },
			{ "pin=", "pin=sha256:abababababababababababababababababababababababababababababababab" },
		};
		int caught = 0, refused = 0, kept = 0;

		for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
			char buf[ACCT_SECRET_MAX + 1];

			memset(&r, 0, sizeof(r));
			if (record_edit(ad, V, edits[i][0], edits[i][1]) != 0)
				continue;
			st = NULL;
			if (open_unlocked(ad, ak, &st, err, sizeof(err)) != STORE_OK) {
				store_close(st);
				continue;
			}
			if (store_check(st, collect, &r) >= 1 && reported(&r, V) &&
			    reported_text(&r, "integrity"))
				caught++;
			if (store_secret_get(st, V, SECRET_SMTP, buf, sizeof(buf)) == STORE_ECORRUPT &&
			    buf[0] == '\0' && store_account_get(st, V, &got) == STORE_ECORRUPT &&
			    store_set_result(st, V, 1, "ok") == STORE_ECORRUPT &&
			    store_account_put(st, V, &a, NULL, NULL, err, sizeof(err)) == STORE_ECORRUPT)
				refused++;
			store_close(st);
			st = NULL;
			/* Locked, the record still lists (unverified, as documented). */
			if (open_store(ad, ak, false, &st, err, sizeof(err)) == STORE_OK &&
			    store_account_get(st, V, &got) == STORE_OK)
				kept++;
			store_close(st);
			raw_put(ad, "accounts", V, strlen(V), rec, rlen);
		}
		check(caught == 6, "each of 6 rewritten settings: DAMAGED in check (%d)", caught);
		check(refused == 6, "each: no password, no get, no result, no edit (%d)", refused);
		check(kept == 6, "each: listing without the key still shows it (%d)", kept);
	}
	/* The record cut down to format 1 (no authentication). */
	{
		uint8_t *nul = memchr(rec, 0, rlen);
		char buf[ACCT_SECRET_MAX + 1];

		raw_put(ad, "accounts", V, strlen(V), rec, nul ? (size_t)(nul - rec) : rlen);
		rc = open_unlocked(ad, ak, &st, err, sizeof(err));
		check(rc == STORE_OK && store_secret_get(st, V, SECRET_SMTP, buf, sizeof(buf)) ==
		      STORE_ECORRUPT, "a record stripped of its HMAC: ECORRUPT");
		store_close(st);
		raw_put(ad, "accounts", V, strlen(V), rec, rlen);
	}
	rc = open_unlocked(ad, ak, &st, err, sizeof(err));
	check(rc == STORE_OK && secret_is(st, V, SECRET_SMTP, "vic-pw-1") &&
	      store_check(st, NULL, NULL) == 0, "restored: verifies, the password opens");

	/* An older sealed password put back over the current one. */
	check(raw_get(ad, "secrets", skv, skl, sec1, &s1) == 0, "raw read of the password");
	rc = store_account_put(st, V, &a, "vic-pw-2", NULL, err, sizeof(err));
	check(rc == STORE_OK && secret_is(st, V, SECRET_SMTP, "vic-pw-2"), "a new password");
	store_close(st);
	raw_put(ad, "secrets", skv, skl, sec1, s1);
	rc = open_unlocked(ad, ak, &st, err, sizeof(err));
	memset(&r, 0, sizeof(r));
	{
		char buf[ACCT_SECRET_MAX + 1];

		check(rc == STORE_OK && store_secret_get(st, V, SECRET_SMTP, buf, sizeof(buf)) ==
		      STORE_ECORRUPT, "the older password put back: ECORRUPT, not opened");
	}
	check(store_check(st, collect, &r) == 1 && reported_text(&r, "older copy"),
	      "check names it an older copy (%s)", r.problems[0]);
	rc = store_account_put(st, V, &a, "vic-pw-3", NULL, err, sizeof(err));
	check(rc == STORE_OK && store_check(st, NULL, NULL) == 0, "setting it again repairs it");

	/* An older record (its settings then) with the current password. */
	rlen = sizeof(rec);
	raw_get(ad, "accounts", V, strlen(V), rec, &rlen);
	snprintf(a.smtp_host, sizeof(a.smtp_host), "smtp2.example.org");
	rc = store_account_put(st, V, &a, NULL, NULL, err, sizeof(err));
	check(rc == STORE_OK && secret_is(st, V, SECRET_SMTP, "vic-pw-3"),
	      "a new server keeps the password (%s)", err);
	store_close(st);
	raw_put(ad, "accounts", V, strlen(V), rec, rlen);
	rc = open_unlocked(ad, ak, &st, err, sizeof(err));
	{
		char buf[ACCT_SECRET_MAX + 1];

		check(rc == STORE_OK && store_secret_get(st, V, SECRET_SMTP, buf, sizeof(buf)) ==
		      STORE_ECORRUPT, "the older record put back: the password is not given "
		      "for its server");
	}
	/* Given again, the password goes with the settings now stored. */
	rc = store_account_put(st, V, &a, "vic-pw-3", NULL, err, sizeof(err));
	check(rc == STORE_OK && store_check(st, NULL, NULL) == 0, "repaired (%s)", err);
	store_close(st);

	/* The meta data's generation rewritten. */
	{
		uint8_t g[8], g2[8];
		size_t gl = sizeof(g);

		raw_get(ad, "meta", "gen", 3, g, &gl);
		memcpy(g2, g, sizeof(g2));
		g2[7] ^= 1;
		raw_put(ad, "meta", "gen", 3, g2, sizeof(g2));
		st = NULL;
		rc = open_unlocked(ad, ak, &st, err, sizeof(err));
		check(rc == STORE_ECORRUPT && strstr(err, "integrity"),
		      "a rewritten generation: unlock refused (%s)", err);
		store_close(st);
		raw_put(ad, "meta", "gen", 3, g, gl);
	}

	/* The whole data.mdb put back from an older copy. */
	st = NULL;
	rc = open_unlocked(ad, ak, &st, err, sizeof(err));
	check(rc == STORE_OK, "reopen (%s)", err);
	snprintf(a.smtp_host, sizeof(a.smtp_host), "smtp.example.org");
	rc = store_account_put(st, V, &a, NULL, NULL, err, sizeof(err));
	check(rc == STORE_OK, "an edit (%s)", err);
	store_close(st);
	dbcopy = slurp(adata, &dlen);
	rc = open_unlocked(ad, ak, &st, err, sizeof(err));
	if (rc == STORE_OK)
		rc = store_set_result(st, V, 1700000000, "ok");
	check(rc == STORE_OK, "a later write");
	store_close(st);
	{
		size_t nl;
		uint8_t *newer = slurp(adata, &nl);
		int fd = open(adata, O_WRONLY | O_TRUNC);

		check(fd >= 0 && write(fd, dbcopy, dlen) == (ssize_t)dlen, "the older data.mdb put back");
		close(fd);
		st = NULL;
		rc = open_unlocked(ad, ak, &st, err, sizeof(err));
		check(rc == STORE_ECORRUPT && strstr(err, "older copy"),
		      "the older copy: unlock refused (%s)", err);
		store_close(st);
		fd = open(adata, O_WRONLY | O_TRUNC);
		check(fd >= 0 && write(fd, newer, nl) == (ssize_t)nl, "the newer one back");
		close(fd);
		free(newer);
	}
	free(dbcopy);

	/* Rotation: a copy taken before it does not open with the key file
	 * kept after it. */
	k1 = slurp(ak, &klen1);
	dbcopy = slurp(adata, &dlen);
	st = NULL;
	rc = open_unlocked(ad, ak, &st, err, sizeof(err));
	if (rc == STORE_OK)
		rc = store_rotate(st, NULL, err, sizeof(err));
	check(rc == STORE_OK && secret_is(st, V, SECRET_SMTP, "vic-pw-3"), "rotate (%s)", err);
	store_close(st);
	k2 = slurp(ak, &klen2);
	check(k1 && k2 && klen1 == klen2 && memcmp(k1, k2, klen1) != 0 && access(next, F_OK) != 0,
	      "rotate wrote a new key file, and no .new is left");
	{
		char od[300], odata[320];
		int fd;

		path(od, sizeof(od), "auth-old");
		mkdir(od, 0700);
		snprintf(odata, sizeof(odata), "%s/data.mdb", od);
		fd = open(odata, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		check(fd >= 0 && write(fd, dbcopy, dlen) == (ssize_t)dlen, "a copy from before");
		close(fd);
		st = NULL;
		rc = open_unlocked(od, ak, &st, err, sizeof(err));
		check(rc == STORE_EKEY, "the copy from before the rotation: EKEY (%s)", err);
		store_close(st);
	}
	free(dbcopy);

	/* Killed after the rotation's commit, before its rename: the old key
	 * file in place, the new one beside it. */
	{
		int fd = open(next, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		uint8_t *k3;
		size_t klen3;

		check(fd >= 0 && write(fd, k2, klen2) == (ssize_t)klen2, "the new key as .new");
		close(fd);
		fd = open(ak, O_WRONLY | O_TRUNC);
		check(fd >= 0 && write(fd, k1, klen1) == (ssize_t)klen1, "the old key in place");
		close(fd);
		st = NULL;
		rc = open_unlocked(ad, ak, &st, err, sizeof(err));
		check(rc == STORE_OK && secret_is(st, V, SECRET_SMTP, "vic-pw-3"),
		      "an interrupted rotation: unlock finishes it (%s)", err);
		store_close(st);
		k3 = slurp(ak, &klen3);
		check(k3 && klen3 == klen2 && memcmp(k3, k2, klen2) == 0 && access(next, F_OK) != 0,
		      "  the new key file is in place, .new gone");
		free(k3);
	}
	free(k1);
	free(k2);
}

/* A store of format 1, as the previous version wrote it, made by hand with
 * LMDB: it lists without the key and is migrated once, at the first unlock. */
static void
test_migrate(void)
{
	char od[300], ok[300], okdir[300], err[512], line[128];
	static const char V[] = "old@example.org";
	uint8_t kf[SEAL_KEY_LEN], dk[SEAL_KEY_LEN], id[16], slot[SEAL_KEY_LEN + SEAL_OVERHEAD];
	uint8_t sk[300], aad[301], blob[256], fmt = 1;
	char text[8192];
	struct account a, got;
	struct store *st = NULL;
	struct walk w = { 0 };
	struct store_status ss;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi m, ac, se;
	MDB_val k, v;
	size_t skl;
	long bl;
	int n, rc, fd;

	path(od, sizeof(od), "v1");
	path(okdir, sizeof(okdir), "v1-keys");
	path(ok, sizeof(ok), "v1-keys/store.key");
	mkdir(od, 0700);
	mkdir(okdir, 0700);
	random_bytes(kf, sizeof(kf));
	random_bytes(dk, sizeof(dk));
	random_bytes(id, sizeof(id));
	n = snprintf(line, sizeof(line), "fluenzr-store-key v1\n");
	for (size_t i = 0; i < SEAL_KEY_LEN; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%02x", kf[i]);
	n += snprintf(line + n, sizeof(line) - (size_t)n, "\n");
	fd = open(ok, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	check(fd >= 0 && write(fd, line, (size_t)n) == n, "v1: a key file");
	close(fd);
	make_account(&a, V);
	n = account_serialize(&a, text, sizeof(text));
	skl = skey(V, SECRET_SMTP, sk);
	aad[0] = 1;
	memcpy(aad + 1, sk, skl);
	bl = seal(dk, aad, skl + 1, "old-pw", 6, blob, sizeof(blob));
	check(seal(kf, "fluenzr-slot-keyfile-v1", 23, dk, SEAL_KEY_LEN, slot, sizeof(slot)) ==
	      (long)sizeof(slot) && bl > 0 && n > 0, "v1: sealed as format 1 did");
	rc = mdb_env_create(&env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(env, 4);
	if (rc == 0)
		rc = mdb_env_set_mapsize(env, (size_t)16 << 20);
	if (rc == 0)
		rc = mdb_env_open(env, od, 0, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &m);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "accounts", MDB_CREATE, &ac);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "secrets", MDB_CREATE, &se);
#define PUT(dbi, kp, kl, vp, vl) \
	if (rc == 0) { k.mv_data = (void *)(kp); k.mv_size = (kl); \
	               v.mv_data = (void *)(vp); v.mv_size = (vl); \
	               rc = mdb_put(txn, dbi, &k, &v, 0); }
	PUT(m, "format", 6, &fmt, 1);
	PUT(m, "keyid", 5, id, sizeof(id));
	PUT(m, "slot.keyfile", 12, slot, sizeof(slot));
	PUT(ac, V, strlen(V), text, (size_t)n);
	PUT(se, sk, skl, blob, (size_t)bl);
#undef PUT
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	mdb_env_close(env);
	check(rc == 0, "v1: the environment written with LMDB (%s)", mdb_strerror(rc));

	rc = open_store(od, ok, false, &st, err, sizeof(err));
	check(rc == STORE_OK && store_status(st, &ss) == STORE_OK && ss.format_version == 1,
	      "v1: opens, format 1 (%s)", err);
	store_account_foreach(st, walk_cb, NULL, &w);
	check(w.n == 1 && w.with_pw == 1, "v1: lists without the key");
	rc = store_unlock(st, NULL, err, sizeof(err));
	check(rc == STORE_OK && store_status(st, &ss) == STORE_OK && ss.format_version == 2,
	      "v1: the first unlock migrates it to format 2 (%s)", err);
	check(secret_is(st, V, SECRET_SMTP, "old-pw") && store_check(st, NULL, NULL) == 0 &&
	      store_account_get(st, V, &got) == STORE_OK && strcmp(got.smtp_host, a.smtp_host) == 0,
	      "v1: after migration the record verifies and the password opens");
	store_close(st);
	st = NULL;
	rc = open_unlocked(od, ok, &st, err, sizeof(err));
	check(rc == STORE_OK && secret_is(st, V, SECRET_SMTP, "old-pw") &&
	      store_check(st, NULL, NULL) == 0, "v1: and so it stays");
	store_close(st);
	/* Migrated records are authenticated like new ones. */
	record_edit(od, V, "smtp-port=587", "smtp-port=25");
	st = NULL;
	rc = open_unlocked(od, ok, &st, err, sizeof(err));
	check(rc == STORE_OK && store_check(st, NULL, NULL) >= 1,
	      "v1: a migrated record rewritten under the store is DAMAGED");
	store_close(st);
	secmem_wipe(kf, sizeof(kf));
	secmem_wipe(dk, sizeof(dk));
}

static int
in_child(int (*fn)(const char *), const char *arg)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(fn(arg));
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status)) {
		printf("# child killed by signal %d\n", WTERMSIG(status));
		return -1;
	}
	return WEXITSTATUS(status);
}

/* Opens a damaged copy: 0 when it says ECORRUPT, 1 when it opens, 2 else. */
static int
open_damaged(const char *d)
{
	struct store *st = NULL;
	char err[512];
	int rc = open_store(d, keyf, false, &st, err, sizeof(err));

	printf("# %s: %s (%s)\n", d, store_strerror(rc), err);
	fflush(stdout);
	if (rc == STORE_OK) {
		struct walk w = { 0 };
		store_account_foreach(st, walk_cb, NULL, &w);
		store_close(st);
		return 1;
	}
	return rc == STORE_ECORRUPT ? 0 : 2;
}

static void
test_corrupt(void)
{
	char d[300], f[330], lock[330];
	uint8_t junk[65536];
	size_t n;
	uint8_t *orig = slurp(data, &n);
	int fd, rc;

	path(d, sizeof(d), "damaged");
	snprintf(f, sizeof(f), "%s/data.mdb", d);
	snprintf(lock, sizeof(lock), "%s/lock.mdb", d);
	srand(12345);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rand();

	/* Random bytes over the whole file. */
	copy_store(dir, d);
	fd = open(f, O_WRONLY);
	for (size_t off = 0; off < n; off += sizeof(junk))
		if (write(fd, junk, n - off < sizeof(junk) ? n - off : sizeof(junk)) < 0)
			break;
	close(fd);
	check(in_child(open_damaged, d) == 0, "garbage data.mdb: ECORRUPT, no crash");

	copy_store(dir, d);
	check(truncate(f, 0) == 0 && in_child(open_damaged, d) == 0,
	      "empty data.mdb: ECORRUPT, no crash");
	{
		struct stat sb;
		check(stat(f, &sb) == 0 && sb.st_size == 0,
		      "and LMDB did not start a new environment in it");
	}
	copy_store(dir, d);
	check(truncate(f, 5000) == 0 && in_child(open_damaged, d) == 0,
	      "data.mdb truncated to 5000 bytes: ECORRUPT");
	copy_store(dir, d);
	check(truncate(f, (off_t)(n / 2)) == 0 && in_child(open_damaged, d) == 0,
	      "data.mdb truncated to half (%zu bytes): ECORRUPT", n / 2);

	copy_store(dir, d);
	fd = open(f, O_WRONLY);
	check(fd >= 0 && write(fd, junk, 4096) == 4096, "garbage over the first meta page");
	close(fd);
	check(in_child(open_damaged, d) == 0, "bad LMDB meta page: ECORRUPT");

	/* Our own meta database. */
	copy_store(dir, d);
	check(raw_put(d, "meta", "format", 6, "\x07", 1) == 0 &&
	      in_child(open_damaged, d) == 0, "unknown store format: ECORRUPT");
	copy_store(dir, d);
	check(raw_del(d, "meta", "format", 6) == 0 && in_child(open_damaged, d) == 0,
	      "missing store format: ECORRUPT");
	copy_store(dir, d);
	check(raw_put(d, "meta", "slot.passphrase", 15, "short", 5) == 0 &&
	      in_child(open_damaged, d) == 0, "bad passphrase slot: ECORRUPT");
	copy_store(dir, d);
	{
		uint8_t slot[4 + 16 + 61];
		size_t sl = sizeof(slot);
		/* 0 iterations would abort inside gnutls_pbkdf2(). */
		check(raw_get(d, "meta", "slot.passphrase", 15, slot, &sl) == 0 && sl == sizeof(slot),
		      "raw read of the passphrase slot");
		memset(slot, 0, 4);
		check(raw_put(d, "meta", "slot.passphrase", 15, slot, sl) == 0 &&
		      in_child(open_damaged, d) == 0, "passphrase slot with 0 iterations: ECORRUPT");
	}
	copy_store(dir, d);
	check(raw_del(d, "meta", "slot.passphrase", 15) == 0 &&
	      in_child(open_damaged, d) == 0, "no key slot at all: ECORRUPT");

	/* Garbage inside the data pages (not the meta pages): LMDB has no page
	 * checksums, so this may open, but it must never crash. */
	for (size_t page = 2; page * 4096 < n; page++) {
		copy_store(dir, d);
		fd = open(f, O_WRONLY);
		rc = pwrite(fd, junk + page * 97 % 4096, 4096, (off_t)(page * 4096)) == 4096;
		close(fd);
		rc = rc ? in_child(open_damaged, d) : -1;
		check(rc == 0 || rc == 1, "garbage in page %zu: %s, no crash", page,
		      rc == 0 ? "ECORRUPT" : rc == 1 ? "opens" : "FAILED");
	}
	rm_rf(d);
	check(same_file(data, orig, n), "the original store was never touched");
	free(orig);
}

static void
test_growth(void)
{
	struct store *st = NULL;
	struct store_status s1, s2;
	char d[300], err[512];
	int ok = 0, rc;

	path(d, sizeof(d), "growth");
	check(raw_create_small(d, 128 * 1024) == 0, "raw: an empty environment, 128 KiB map");
	rc = open_store(d, keyf, false, &st, err, sizeof(err));
	check(rc == STORE_ECORRUPT, "an unfinished store does not open without create (%s)", err);
	rc = open_store(d, keyf, true, &st, err, sizeof(err));
	check(rc == STORE_OK && store_is_unlocked(st),
	      "create finishes the interrupted store (%s)", err);
	memset(&s1, 0, sizeof(s1));
	if (rc == STORE_OK)
		rc = store_status(st, &s1);
	check(rc == STORE_OK && s1.map_size <= 128 * 1024, "it has the small map (%llu)",
	      (unsigned long long)s1.map_size);
	for (int i = 0; i < 600; i++) {
		struct account a;
		char email[64];

		snprintf(email, sizeof(email), "user%04d@example.org", i);
		make_account(&a, email);
		if (store_account_add(st, &a, "a-password-of-some-length-for-growth",
		                      NULL, err, sizeof(err)) == STORE_OK)
			ok++;
		else
			printf("# add %d: %s\n", i, err);
	}
	check(ok == 600, "600 accounts added through MDB_MAP_FULL (%d)", ok);
	store_status(st, &s2);
	check(s2.map_size > s1.map_size && s2.accounts == 600 && s2.secrets == 600,
	      "the map grew to %llu bytes", (unsigned long long)s2.map_size);
	check(secret_is(st, "user0000@example.org", SECRET_SMTP,
	                "a-password-of-some-length-for-growth") &&
	      secret_is(st, "user0599@example.org", SECRET_SMTP,
	                "a-password-of-some-length-for-growth"),
	      "first and last secrets open");
	store_close(st);
	rc = open_store(d, keyf, false, &st, err, sizeof(err));
	memset(&s1, 0, sizeof(s1));
	if (rc == STORE_OK)
		rc = store_status(st, &s1);
	check(rc == STORE_OK && s1.map_size >= s2.map_size && store_account_count(st) == 600,
	      "reopen keeps the grown map (%llu) and all accounts",
	      (unsigned long long)s1.map_size);
	store_close(st);
	rm_rf(d);
}

/* ---- kill -9 helpers ---------------------------------------------------- */

static int
writer(const char *d, const char *k, long max)
{
	struct store *st = NULL;
	char err[512];
	int rc = open_store(d, k, true, &st, err, sizeof(err));

	if (rc == STORE_OK)
		rc = store_unlock(st, NULL, err, sizeof(err));
	if (rc != STORE_OK) {
		fprintf(stderr, "writer: %s\n", err);
		return 1;
	}
	for (long i = (long)store_account_count(st); max < 0 || i < max; i++) {
		struct account a;
		char email[64], pw[64], ipw[64];

		snprintf(email, sizeof(email), "user%06ld@example.org", i);
		snprintf(pw, sizeof(pw), "smtp-pw-%ld", i);
		snprintf(ipw, sizeof(ipw), "imap-pw-%ld", i);
		make_account(&a, email);
		rc = store_account_add(st, &a, pw, ipw, err, sizeof(err));
		if (rc == STORE_OK && i % 3 == 0)
			rc = store_set_result(st, email, 1700000000 + i, "ok");
		if (rc != STORE_OK) {
			fprintf(stderr, "writer: add %ld: %s\n", i, err);
			store_close(st);
			return 1;
		}
	}
	store_close(st);
	return 0;
}

struct verify {
	struct store *st;
	long n, bad;
	bool seen[1000000];
};

static int
verify_cb(const struct account *a, void *ud)
{
	struct verify *v = ud;
	char pw[64];
	long i;

	if (sscanf(a->email, "user%ld@", &i) != 1 || i < 0 || i >= 1000000 || v->seen[i]) {
		v->bad++;
		return 0;
	}
	v->seen[i] = true;
	v->n++;
	snprintf(pw, sizeof(pw), "smtp-pw-%ld", i);
	if (!a->has_password || !a->has_imap_password ||
	    !secret_is(v->st, a->email, SECRET_SMTP, pw)) {
		fprintf(stderr, "verify: %s incomplete\n", a->email);
		v->bad++;
	}
	snprintf(pw, sizeof(pw), "imap-pw-%ld", i);
	if (!secret_is(v->st, a->email, SECRET_IMAP, pw))
		v->bad++;
	return 0;
}

static void
verify_bad(const char *key, const char *problem, void *ud)
{
	struct verify *v = ud;

	fprintf(stderr, "verify: %s: %s\n", key, problem);
	v->bad++;
}

static int
verify(const char *d, const char *k)
{
	static struct verify v;
	char err[512];
	int rc = open_store(d, k, false, &v.st, err, sizeof(err)), bad;

	if (rc == STORE_OK)
		rc = store_unlock(v.st, NULL, err, sizeof(err));
	if (rc != STORE_OK) {
		printf("verify: %s: %s\n", store_strerror(rc), err);
		return 1;
	}
	bad = store_check(v.st, verify_bad, &v);
	rc = store_account_foreach(v.st, verify_cb, verify_bad, &v);
	/* Adds are sequential and atomic: exactly accounts 0..n-1 exist. */
	for (long i = 0; i < v.n; i++)
		if (!v.seen[i])
			v.bad++;
	printf("verify: %ld accounts, check %d, %ld problems\n", v.n, bad, v.bad);
	store_close(v.st);
	return rc == STORE_OK && bad == 0 && v.bad == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");

	secmem_harden_process();
	if (argc >= 4 && strcmp(argv[1], "--writer") == 0)
		return writer(argv[2], argv[3], argc >= 5 ? atol(argv[4]) : -1);
	if (argc == 4 && strcmp(argv[1], "--verify") == 0)
		return verify(argv[2], argv[3]);

	snprintf(root, sizeof(root), "%s/fluenzr-test-store.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	path(dir, sizeof(dir), "store");
	path(keyf, sizeof(keyf), "keys/store.key");
	snprintf(data, sizeof(data), "%s/data.mdb", dir);

	test_basics();
	test_tamper();
	test_keys();
	test_passphrase_rotate();
	test_corrupt();
	test_growth();
	test_auth();
	test_migrate();

	rm_rf(root);
	return unit_done();
}
