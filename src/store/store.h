/* The account store: one LMDB environment holding account records (not
 * secret, authenticated with HMAC-SHA256 under a key derived from the data
 * key) and sealed secrets (AES-256-GCM under the data key, wrapped in key
 * slots). Only the files of src/store/ include <lmdb.h>. */
#ifndef FLUENZR_STORE_H
#define FLUENZR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "account.h"

enum store_err {
	STORE_OK = 0,
	STORE_ENOENT,      /* no such account / no such store */
	STORE_EXISTS,      /* the account exists already */
	STORE_EPERM,       /* file or directory readable by group/others */
	STORE_EKEY,        /* wrong key file or passphrase */
	STORE_NEEDPASS,    /* only a passphrase opens this store, none given */
	STORE_ECORRUPT,    /* damaged environment or record */
	STORE_EIO,
	STORE_EINVAL,
	STORE_ENOMEM,
	STORE_ELOCKED,     /* a secret is needed but the store is not unlocked */
};

/* The field byte of a sealed secret. The OAuth ones are sealed like the
 * passwords, bound to the account and field: the client secret of the
 * account's registration, the refresh token, and the access token as
 * "EXPIRY TOKEN" (EXPIRY in unix seconds, 0 when unknown). */
enum secret_field {
	SECRET_SMTP = 0, SECRET_IMAP = 1,
	SECRET_OAUTH_CLIENT = 2, SECRET_OAUTH_REFRESH = 3, SECRET_OAUTH_ACCESS = 4,
};
#define SECRET_NFIELDS 5
/* The longest secret the store seals (an access token and its expiry). */
#define STORE_SECRET_MAX 8192

struct store_opts {
	const char *dir;          /* NULL: default_store_dir() */
	const char *key_file;     /* NULL: <config dir>/store.key */
	bool create;              /* create the store and key file if missing */
};

struct store;

/* Opens (and with opts->create, creates) the environment; any number of
 * processes may create the same store at once. No key is needed to list
 * accounts (records are then read unverified); store_unlock() is needed
 * for anything secret and for every change. */
int store_open(const struct store_opts *opts, struct store **out,
               char *err, size_t errlen);
void store_close(struct store *st);

/* Unwraps the data key: from the key file if it has a slot, else from the
 * passphrase (NULL: STORE_NEEDPASS), and checks the store's authenticated
 * generation against the one kept beside the key file (STORE_ECORRUPT when
 * the store is older). A wrong key writes nothing; the right one may
 * migrate a format 1 store, finish an interrupted rotation and note the
 * generation beside the key file. */
int store_unlock(struct store *st, const char *passphrase,
                 char *err, size_t errlen);
bool store_is_unlocked(const struct store *st);
bool store_has_passphrase(const struct store *st);
bool store_has_keyfile_slot(const struct store *st);

/* Accounts; every change needs the store unlocked (else STORE_ELOCKED).
 * Passwords: NULL = none (add) / keep as is (put). */
int store_account_add(struct store *st, const struct account *a,
                      const char *smtp_pw, const char *imap_pw,
                      char *err, size_t errlen);
/* Adds n accounts in one write transaction: all of them, or none (then
 * *failed, may be NULL, is the index of the one refused, e.g. STORE_EXISTS).
 * smtp_pw and imap_pw may be NULL, or hold n entries (NULL: none). */
int store_account_add_many(struct store *st, const struct account *a,
                           const char *const *smtp_pw,
                           const char *const *imap_pw, size_t n,
                           size_t *failed, char *err, size_t errlen);
/* Replaces the account stored under old_email (may rename it). */
int store_account_put(struct store *st, const char *old_email,
                      const struct account *a,
                      const char *smtp_pw, const char *imap_pw,
                      char *err, size_t errlen);
/* Unlocked, a record that fails its integrity check is STORE_ECORRUPT. */
int store_account_get(struct store *st, const char *email, struct account *out);
int store_account_remove(struct store *st, const char *email);
size_t store_account_count(struct store *st);

/* Calls cb for each account in key order, within one read transaction; a
 * record that does not parse is reported through bad (may be NULL) and
 * skipped. A nonzero return from cb stops the walk. */
typedef int (*store_account_cb)(const struct account *a, void *ud);
typedef void (*store_bad_cb)(const char *key, const char *problem, void *ud);
int store_account_foreach(struct store *st, store_account_cb cb,
                          store_bad_cb bad, void *ud);

/* Opens one secret into buf (NUL-terminated, caller wipes). STORE_ENOENT if
 * none is set, STORE_ECORRUPT if it or its account's record (the server it
 * is for) fails its integrity check. */
int store_secret_get(struct store *st, const char *email,
                     enum secret_field f, char *buf, size_t len);

/* Seals value as the secret f of email under its current settings (they
 * do not change, so no other secret is re-sealed); NULL or "" removes it.
 * For the OAuth fields only: a rotated or refreshed token is saved at
 * once, without touching the account. */
int store_secret_set(struct store *st, const char *email, enum secret_field f,
                     const char *value, char *err, size_t errlen);

/* Records the outcome of a test on the account (time, diag category). */
int store_set_result(struct store *st, const char *email,
                     int64_t when, const char *category);

/* What happened to an account (activity.c): its last results and when its
 * password was set, kept beside its record. */
#define STORE_HISTORY_MAX 10
#define STORE_REASON_MAX  127

struct store_event {
	int64_t when;                         /* unix seconds */
	int64_t ms;                           /* how long it took */
	char category[ACCT_RESULT_MAX + 1];   /* diag category name, no space */
	char reason[STORE_REASON_MAX + 1];    /* sanitised text, may be "" */
};

#define STORE_SEND_HOURS 25        /* hours of sending counted back */
#define STORE_PROFILE_MAX 15
#define STORE_SEEN_DOMAIN_MAX   253
#define STORE_SEEN_SELECTOR_MAX 63
#define STORE_SEEN_IP_MAX       45

struct store_history {
	struct store_event ev[STORE_HISTORY_MAX];   /* oldest first */
	size_t n;
	int64_t secret_set;       /* when the password was last set; 0 unknown */
	/* Sending: recipients sent per hour (hour = unix time / 3600, oldest
	 * first), the last message's time, a pause a limit reply asked for. */
	int64_t send_hour[STORE_SEND_HOURS];
	unsigned send_count[STORE_SEND_HOURS];
	size_t nsend;
	int64_t last_sent;
	int64_t paused_until;                   /* 0: not paused */
	char pause_why[STORE_REASON_MAX + 1];
	/* The account's own limits: profile "" (the preset's), "outreach",
	 * "none" or "custom" with the three values. */
	char profile[STORE_PROFILE_MAX + 1];
	unsigned lim_day, lim_hour, lim_interval;
	/* What the last test message showed, for the sending domain's
	 * health: its DKIM signature's d= and s=, the address of the host
	 * that handed it to the receiving server, and when (0: never; the
	 * others "" when the message did not show them). */
	char seen_dkim_d[STORE_SEEN_DOMAIN_MAX + 1];
	char seen_dkim_s[STORE_SEEN_SELECTOR_MAX + 1];
	char seen_relay_ip[STORE_SEEN_IP_MAX + 1];
	int64_t seen_when;
};

/* Changes the account's activity in one write transaction: fn gets it as
 * stored and changes it (0), or refuses (nonzero, returned as is and
 * nothing written). The history's length and texts are checked after. */
int store_activity_update(struct store *st, const char *email,
                          int (*fn)(struct store_history *h, void *ud), void *ud,
                          char *err, size_t errlen);

/* The account's history (empty when none). STORE_ECORRUPT when what is
 * kept does not parse (*h is then empty). */
int store_history_get(struct store *st, const char *email, struct store_history *h);
/* Appends e to the account's history (the last STORE_HISTORY_MAX are
 * kept) and makes it the record's last result, in one transaction; the
 * history after it into *after (may be NULL). */
int store_history_add(struct store *st, const char *email,
                      const struct store_event *e, struct store_history *after,
                      char *err, size_t errlen);

/* Every account and its passwords sealed under passphrase (a key of its
 * own, from PBKDF2), written through write (0, or -1 with errno), one
 * chunk per account: *count accounts. A record or a password that does not
 * open stops it (no half-copy is made to look whole). */
int store_export_sealed(struct store *st, const char *passphrase,
                        int (*write)(const void *p, size_t n, void *ud), void *ud,
                        size_t *count, char *err, size_t errlen);
/* Adds every account of a sealed export (in, len bytes) in one
 * transaction, or none: STORE_EKEY for a wrong passphrase or an altered
 * file, STORE_ECORRUPT for a cut one, STORE_EXISTS (failed_email, of
 * ACCT_EMAIL_MAX + 1 bytes, names it) for an account already here. */
int store_import_sealed(struct store *st, const char *passphrase,
                        const uint8_t *in, size_t len, size_t *added,
                        char *failed_email, char *err, size_t errlen);

/* Opens every record; reports each that fails. Returns the number of bad
 * records, or -1 on a store error. */
int store_check(struct store *st, store_bad_cb report, void *ud);

struct store_status {
	char dir[1024];
	char key_file[1024];
	bool keyfile_slot;
	bool passphrase_slot;
	unsigned pbkdf2_iterations;
	size_t accounts;
	size_t secrets;
	uint64_t map_size;
	int format_version;
};
int store_status(struct store *st, struct store_status *out);

/* Sets or changes the passphrase slot (store must be unlocked). With
 * drop_keyfile the key-file slot is removed, so only the passphrase opens
 * the store. */
int store_set_passphrase(struct store *st, const char *passphrase,
                         bool drop_keyfile, char *err, size_t errlen);
/* New data key (and key-file key); every secret re-sealed, every record
 * re-authenticated and every slot re-wrapped in one write transaction.
 * passphrase is needed when a passphrase slot exists. */
int store_rotate(struct store *st, const char *passphrase,
                 char *err, size_t errlen);

const char *store_strerror(int code);

#endif
