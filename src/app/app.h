/* What the commands and the console share: opening and unlocking the
 * store, preparing a test (its secrets, its probe) and recording its
 * result. Nothing here prints: each call returns an exit status
 * (sysexits.h, 0 = done) and the reason in words, and its caller shows
 * them, so that both say the same thing for the same failure. */
#ifndef FLUENZR_APP_H
#define FLUENZR_APP_H

#include <stdbool.h>
#include <stddef.h>

#include "account.h"
#include "diag.h"
#include "preset.h"
#include "probe.h"
#include "store.h"

#define APP_PASS_MAX 1024       /* a store passphrase's buffer, NUL included */
#define APP_ERR_MAX  512        /* room for any reason given here */

/* ---- the store (app_store.c) -------------------------------------------- */

/* The exit status of a store error. */
int app_store_exit(int store_err);

/* The store passphrase, read once into *cache (locked memory, freed by
 * app_passphrase_free()) from fd, or from the terminal with prompt when
 * fd < 0. NULL with the reason in err when none can be had. */
const char *app_passphrase(char **cache, int fd, const char *prompt,
                           char *err, size_t errlen);
void app_passphrase_free(char **cache);

/* Opens the store in dir with key_file (NULL: the defaults), creating it
 * when create. 0 or an exit status, the reason in err. */
int app_store_open(const char *dir, const char *key_file, bool create,
                   struct store **st, char *err, size_t errlen);

/* Unlocks st. A passphrase given on passphrase_fd (>= 0) is read into
 * *cache and used even when a key file exists, so scripts can rely on it;
 * without one the key file is tried, then, when ask, the terminal.
 * *store_err (may be NULL) gets the store's own result: the console asks
 * in its own prompt when it is STORE_NEEDPASS. 0 or an exit status, the
 * reason in err. */
int app_store_unlock(struct store *st, int passphrase_fd, char **cache,
                     bool ask, int *store_err, char *err, size_t errlen);

/* ---- a test (app_run.c) -------------------------------------------------- */

/* An account's stored passwords, in locked memory. imap NULL: none of its
 * own (the SMTP one is used). */
struct app_secrets {
	char *smtp;
	char *imap;
};

/* Opens a's SMTP and IMAP passwords into s. A password not set is empty
 * (SMTP) or NULL (IMAP); one that does not open (damaged record, no key)
 * is an error naming it: "EMAIL: password: why" or "EMAIL: IMAP password:
 * why". 0 or an exit status. */
int app_secrets_open(struct store *st, const struct account *a,
                     struct app_secrets *s, char *err, size_t errlen);
void app_secrets_free(struct app_secrets *s);

/* The probe of a with passwords pw and imap_pw (see probe_new()) and a's
 * preset from presets (may be NULL). 0 or an exit status. */
int app_probe_new(const struct account *a, const char *pw, const char *imap_pw,
                  const struct preset_list *presets,
                  const struct probe_opts *po, struct probe **p,
                  char *err, size_t errlen);

/* Prepares a test of the stored account a: opens its passwords and makes
 * its probe (which copies them; they are wiped before this returns).
 * 0 or an exit status, the reason in err. */
int app_run_prepare(struct store *st, const struct account *a,
                    const struct preset_list *presets,
                    const struct probe_opts *po, struct probe **p,
                    char *err, size_t errlen);

/* Records the outcome cat of a test of the stored account email, at when,
 * if it is one that is recorded (diag_cat_recorded(): a cancelled test
 * says nothing about the account). Returns 1 when recorded, 0 when not to
 * be, -1 with the reason in err when the store refused. */
int app_result_record(struct store *st, const char *email, int64_t when,
                      enum diag_cat cat, char *err, size_t errlen);

#endif
