/* What the store's files share (store.c, keyring.c, guard.c): its layout
 * constants, struct store, the meta data as read, and the helpers each
 * file calls in another. Only src/store/ includes it, and with it
 * <lmdb.h>; the layout itself is described at the top of store.c. */
#ifndef FLUENZR_STORE_INT_H
#define FLUENZR_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "account.h"
#include "seal.h"
#include "store.h"

#define STORE_FORMAT      2
#define STORE_FORMAT_V1   1       /* unauthenticated records; migrated at unlock */
#define KEYFILE_HEADER    "fluenzr-store-key v1\n"
#define KEYFILE_LEN       (sizeof(KEYFILE_HEADER) - 1 + 2 * SEAL_KEY_LEN + 1)
#define SLOT_KEYFILE_AAD  "fluenzr-slot-keyfile-v1"
#define SLOT_PASS_AAD     "fluenzr-slot-passphrase-v1"
#define SLOT_BLOB_LEN     (SEAL_KEY_LEN + SEAL_OVERHEAD)
#define PASS_SLOT_LEN     (4 + PBKDF2_SALT_LEN + SLOT_BLOB_LEN)
#define KEYID_LEN         16

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
#define SECRET_BLOB_MAX   (STORE_SECRET_MAX + SEAL_OVERHEAD)
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
	struct hmac_keyed *mac_ctx;     /* mac_key set once, for listings (mac_state()) */
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

static inline MDB_val
mval(const void *p, size_t n)
{
	MDB_val v;

	v.mv_data = (void *)p;
	v.mv_size = n;
	return v;
}

typedef int (*write_fn)(struct store *st, MDB_txn *txn, void *ctx,
                        char *err, size_t errlen);

static inline void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static inline uint64_t
get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* ---- store.c: errors, transactions, records, secrets ------------------- */

void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* An LMDB code as a store code. */
int mdb_to_store(int mrc);
/* Sets err from an LMDB failure; ST_GROW on MDB_MAP_FULL. */
int mdb_fail(int mrc, const char *what, char *err, size_t errlen);
int env_fail(const struct store *st, int mrc, bool reading, char *err,
             size_t errlen);
int txn_begin(struct store *st, unsigned flags, MDB_txn **txn, char *err,
              size_t errlen);
/* Runs fn in one write transaction, growing the map as needed. */
int store_write(struct store *st, write_fn fn, void *ctx, char *err,
                size_t errlen);
int open_dbis(struct store *st, MDB_txn *txn, unsigned flags);
int lock_take(struct store *st, bool create, bool exclusive, int *fdp, char *err,
              size_t errlen);
void dir_sync(const char *dir);
/* The write_fn that brings a format-1 store to STORE_FORMAT. */
int migrate_write(struct store *st, MDB_txn *txn, void *ctx, char *err,
                  size_t errlen);
int record_pack(const uint8_t *mk, const char *akey, uint64_t g, const char *text,
                size_t len, uint8_t *out, size_t *outlen);
int record_split(const uint8_t *mk, const char *akey, const MDB_val *v,
                 size_t *textlen, uint64_t *g);
int record_get_gen(struct store *st, MDB_txn *txn, const char *akey, uint64_t *g,
                   MDB_val *val);
size_t secret_aad(const uint8_t *skey, size_t sklen, uint64_t g,
                  uint8_t out[SKEY_MAX + 1 + GEN_LEN]);
int secret_open(struct store *st, const uint8_t *skey, size_t sklen, uint64_t g,
                const MDB_val *val, char *out);
/* A database key as printable text, for messages. */
void key_text(const MDB_val *k, char *out, size_t len);

/* Adds the account a (with its passwords, NULL: none) in txn, as
 * store_account_add() does. */
int account_put_txn(struct store *st, MDB_txn *txn, const struct account *a,
                    const char *smtp_pw, const char *imap_pw, char *err,
                    size_t errlen);
/* The last result on the account's record, in txn (store_set_result()). */
int result_write_txn(struct store *st, MDB_txn *txn, const char *akey,
                     int64_t when, const char *category, char *err,
                     size_t errlen);

/* ---- activity.c: history and the password's age, beside the record ----- */

/* Notes in txn that the account's password was set at when. */
int activity_secret_set(struct store *st, MDB_txn *txn, const char *akey,
                        int64_t when, char *err, size_t errlen);
/* Moves the activity of old_key to new_key, or deletes it (new_key NULL). */
int activity_move(struct store *st, MDB_txn *txn, const char *old_key,
                  const char *new_key, char *err, size_t errlen);

/* ---- keyring.c: key file, slots, meta data, generation ----------------- */

int check_private(const char *path, const struct stat *sb, bool dir, char *err,
                  size_t errlen);
int meta_read(struct store *st, MDB_txn *txn, struct meta_info *mi, char *err,
              size_t errlen);
bool meta_verify(const struct meta_info *mi, const uint8_t *mk);
int put_meta(struct store *st, MDB_txn *txn, const char *name, const void *p,
             size_t n, char *err, size_t errlen);
int put_gen(struct store *st, MDB_txn *txn, const uint8_t *mk,
            const uint8_t key_id[KEYID_LEN], uint64_t gen, char *err,
            size_t errlen);
int gen_bump(struct store *st, MDB_txn *txn, uint64_t *gen, char *err,
             size_t errlen);
int check_key_current(struct store *st, MDB_txn *txn, char *err, size_t errlen);
void genfile_write(struct store *st, uint64_t gen);
/* Fills the meta data of a new environment; the store comes out unlocked. */
int store_init(struct store *st, char *err, size_t errlen);

/* ---- guard.c: the guarded page walk, the free-page scrub --------------- */

int walk_guarded(struct store *st, char *err, size_t errlen);
void store_scrub(struct store *st);

#endif
