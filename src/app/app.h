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
#include "discover.h"
#include "domain.h"
#include "oauth.h"
#include "preset.h"
#include "probe.h"
#include "store.h"

#define APP_PASS_MAX 1024       /* a store passphrase's buffer, NUL included */
#define APP_ERR_MAX  2048       /* room for any reason given here (and its fixes) */

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

/* An OAuth account's token may have been revoked or cut short before its
 * expiry: after an authentication failure (app_run_retry_wanted()) the
 * test is run once more with a token refreshed now, made by
 * app_run_prepare_retry() as app_run_prepare() makes the first. */
bool app_run_retry_wanted(const struct account *a, enum diag_cat cat);
int app_run_prepare_retry(struct store *st, const struct account *a,
                          const struct preset_list *presets,
                          const struct probe_opts *po, struct probe **p,
                          char *err, size_t errlen);

/* Records the outcome cat of a test, a check or a send of the stored
 * account email, at when, if it is one that is recorded
 * (diag_cat_recorded(): a cancelled test says nothing about the account):
 * the record's last result and a line of its history (the reason of its
 * diagnosis d, may be NULL; ms, how long it took), in one transaction; the history
 * after it into *after (may be NULL). Returns 1 when recorded, 0 when not
 * to be, -1 with the reason in err when the store refused. */
int app_result_record(struct store *st, const char *email, int64_t when,
                      enum diag_cat cat, const struct diagnosis *d, int64_t ms,
                      struct store_history *after, char *err, size_t errlen);

/* Records on the stored account email what the test message of r showed
 * (its DKIM signature's d= and s=, the relay's address), at when, for the
 * sending domain's health; nothing when the message was not read. 1 when
 * recorded, 0 when there was nothing to, -1 with the reason in err. */
int app_seen_record(struct store *st, const char *email, int64_t when,
                    const struct probe_result *r, char *err, size_t errlen);

/* ---- health (app_health.c) ----------------------------------------------- */

/* Healthy: the last result passed and the two before it too. Needs
 * attention: it passed after a recent failure, or failed once for a
 * reason that may pass by itself (timeout, limit, server busy), or its
 * password is older than the reminder. Failing: failed twice in a row,
 * or once for a reason that will not pass by itself, since the first
 * failure of that streak. */
enum app_health {
	APP_HEALTH_UNTESTED = 0,
	APP_HEALTH_OK,
	APP_HEALTH_ATTENTION,
	APP_HEALTH_FAILING,
};

#define APP_SECRET_DAYS_DEFAULT 180

struct app_health_info {
	enum app_health state;
	int64_t since;                    /* failing: since when */
	char strip[STORE_HISTORY_MAX + 1];   /* oldest first: '+' passed,
	                                      * '~' temporary failure, 'x' failed */
	int secret_age_days;              /* -1: not known */
	bool secret_old;                  /* at or past the reminder */
	char why[STORE_REASON_MAX + 64];
};

void app_health_of(const struct store_history *h, int64_t now, int remind_days,
                   struct app_health_info *out);
/* "healthy", "attention", "failing", "untested" (JSON, scripts). */
const char *app_health_name(enum app_health s);
/* "Healthy", "Needs attention", "Failing", "Not checked yet". */
const char *app_health_title(enum app_health s);
/* The health in a line: "Failing since 2026-12-01 12:40 UTC [++x~xx];
 * password 200 days old". */
void app_health_text(const struct app_health_info *h, char *out, size_t outlen);
/* The days after which a password is to be changed: FLUENZR_SECRET_DAYS
 * (0: no reminder), else APP_SECRET_DAYS_DEFAULT. */
int app_secret_remind_days(void);

/* ---- sending limits (app_limits.c) --------------------------------------- */

/* The outreach profile: a conservative pace for cold email, well under
 * any provider's limits. */
#define APP_OUTREACH_DAY      40
#define APP_OUTREACH_HOUR     10
#define APP_OUTREACH_INTERVAL 120
/* The pause after a limit reply that names no time. */
#define APP_PAUSE_DEFAULT     3600

struct app_limits {
	unsigned day, hour;       /* recipients; 0 = none */
	unsigned interval;        /* seconds between two messages; 0 = none */
	char source[ACCT_PRESET_MAX + 16];   /* "preset ID", "outreach",
	                                      * "account", "none" */
};

/* The limits of a: its own (h->profile "custom"), the outreach profile,
 * none, or by default its preset's (from presets, may be NULL). */
void app_limits_of(const struct account *a, const struct store_history *h,
                   const struct preset_list *presets, struct app_limits *out);
bool app_limits_active(const struct app_limits *l);
/* Recipients h counts in the last 24 hours (by the hour) and this hour. */
void app_limits_sent(const struct store_history *h, int64_t now,
                     unsigned long *day, unsigned long *hour);

enum {
	APP_LIMIT_OK = 0,
	APP_LIMIT_WAIT,           /* not now: at *retry_at */
	APP_LIMIT_NEVER,          /* more recipients than a limit allows */
	APP_LIMIT_ERROR,          /* the store refused */
};
/* Whether a message to nrcpt recipients may go at now, given what h
 * counts: APP_LIMIT_OK, or why not (and when it may). */
int app_limits_check(const struct app_limits *l, const struct store_history *h,
                     int64_t now, unsigned nrcpt, int64_t *retry_at,
                     char *why, size_t whylen);
/* Counts a message to nrcpt recipients sent at now in h. */
void app_limits_note(struct store_history *h, int64_t now, unsigned nrcpt);
/* The limits in words: "3 of 500 a day, no hourly limit (preset gmail);
 * paused until 2026-12-01 14:00 UTC". */
void app_limits_text(const struct app_limits *l, const struct store_history *h,
                     int64_t now, char *out, size_t len);
/* app_limits_check() and, when it may go, app_limits_note() on the
 * stored counts, in one write transaction. */
int app_limits_reserve(struct store *st, const char *email,
                       const struct app_limits *l, unsigned nrcpt, int64_t now,
                       int64_t *retry_at, char *why, size_t whylen);
/* The end of the pause a limit reply asks for ("try again in 15
 * minutes"), at most a day; APP_PAUSE_DEFAULT when it names no time. */
int64_t app_pause_until(const char *reply, int64_t now);
/* Pauses sending through email until what d's reply asks (*until). 0, or
 * -1 with why in err. */
int app_pause(struct store *st, const char *email, const struct diagnosis *d,
              int64_t now, int64_t *until, char *err, size_t errlen);

/* ---- OAuth (app_oauth.c) ------------------------------------------------- */

/* The OAuth settings of a after its sign-in changed, for `account edit`
 * and the form alike: a password account has none; an OAuth one takes
 * each endpoint and the scopes it lacks from its preset p (may be NULL). */
void app_oauth_settings(struct account *a, const struct preset *p);

/* A good access token of the OAuth account a into tok (locked memory of
 * toklen, at least OAUTH_TOKEN_MAX + 1): the stored one while it lasts,
 * else (or with force) a new one from the refresh grant, sealed at once
 * with any rotated refresh token. *refreshed (may be NULL) tells which.
 * 0, or an exit status with the reason and its fixes in err and the
 * diagnosis in dg (may be NULL). */
int app_oauth_access(struct store *st, const struct account *a, bool force,
                     char *tok, size_t toklen, bool *refreshed,
                     struct diagnosis *dg, char *err, size_t errlen);

/* app_oauth_access() in three parts, for a caller whose store stays on
 * one thread while the refresh runs on another (the console): the
 * token material opened from the store (locked memory), a token from it
 * (network only, any thread), and what a refresh brought sealed. */
struct app_oauth_keys {
	char *access;           /* "EXPIRY TOKEN" as stored, "" when none */
	char *refresh;
	char *secret;           /* the client secret, "" when none */
};
int app_oauth_keys_open(struct store *st, const struct account *a,
                        struct app_oauth_keys *k, char *err, size_t errlen);
void app_oauth_keys_free(struct app_oauth_keys *k);
/* The stored access token while it lasts, else (or with force) one from
 * the refresh grant, cancelled when cancel_fd (-1: none) is readable. A
 * refresh updates k (a second call uses the rotated refresh token) and
 * leaves in *fresh (zeroed before the first call) what the store must
 * keep: app_oauth_tokens_save() it, then oauth_tokens_free() it. Returns
 * as app_oauth_access(). */
int app_oauth_token(const struct account *a, struct app_oauth_keys *k, bool force,
                    int cancel_fd, char *tok, size_t toklen,
                    struct oauth_tokens *fresh, bool *refreshed,
                    struct diagnosis *dg, char *err, size_t errlen);
int app_oauth_tokens_save(struct store *st, const struct account *a,
                          const struct oauth_tokens *t, char *err, size_t errlen);

/* Signs a in with the device flow (RFC 8628): show(d, ud) is called once
 * with the address and the code for the user; then the server is polled
 * until the user approved, refused, the code expired or cancel_fd (-1:
 * none) became readable. The tokens are sealed in the store. 0, or an
 * exit status with the reason in err and the diagnosis in dg. */
typedef void (*app_oauth_show_fn)(const struct oauth_device *d, void *ud);
int app_oauth_device(struct store *st, const struct account *a, int cancel_fd,
                     app_oauth_show_fn show, void *ud, struct diagnosis *dg,
                     char *err, size_t errlen);

/* The device flow in three parts, for a caller whose store stays on one
 * thread (the console): prepare (store: checks a, opens the client secret
 * into secret), run (network only, on any thread; tokens into t), and
 * app_oauth_signed_in() (store: seals t and wipes it). app_oauth_device()
 * is the three in a row. Each 0, or an exit status with err (and dg). */
int app_oauth_device_prepare(struct store *st, const struct account *a,
                             char *secret, size_t secretlen, char *err,
                             size_t errlen);
int app_oauth_device_run(const struct account *a, const char *secret,
                         int cancel_fd, app_oauth_show_fn show, void *ud,
                         struct oauth_tokens *t, struct diagnosis *dg,
                         char *err, size_t errlen);
int app_oauth_signed_in(struct store *st, const struct account *a,
                        struct oauth_tokens *t, char *err, size_t errlen);

/* Signs a in with the authorization code grant, PKCE and state: show(url,
 * ud) gives the user the address to open. With port > 0 the redirect is
 * awaited on 127.0.0.1:port (reached through ssh -L); with port 0,
 * paste(buf, len, ud) reads the address the browser ended on (redirect
 * http://127.0.0.1:paste_port/, which no listener answers). The tokens
 * are sealed in the store. 0, or an exit status with err and dg. */
typedef void (*app_oauth_url_fn)(const char *url, void *ud);
typedef int (*app_oauth_paste_fn)(char *buf, size_t len, void *ud);
int app_oauth_browser(struct store *st, const struct account *a, unsigned port,
                      bool paste_it, int cancel_fd, app_oauth_url_fn show,
                      app_oauth_paste_fn paste, void *ud, struct diagnosis *dg,
                      char *err, size_t errlen);

/* The same in parts, as app_oauth_device_prepare() and _run(), for the
 * console: prepare on the store's thread, run on a worker (paste may block
 * there until the user pasted), then app_oauth_signed_in(). */
int app_oauth_browser_prepare(struct store *st, const struct account *a,
                              char *secret, size_t secretlen, char *err,
                              size_t errlen);
int app_oauth_browser_run(const struct account *a, const char *secret,
                          unsigned port, bool paste_it, int cancel_fd,
                          app_oauth_url_fn show, app_oauth_paste_fn paste,
                          void *ud, struct oauth_tokens *t,
                          struct diagnosis *dg, char *err, size_t errlen);

/* The loopback redirect's port: FLUENZR_OAUTH_PORT (1024-65535), else
 * APP_OAUTH_PORT. */
#define APP_OAUTH_PORT 8765
unsigned app_oauth_port(void);
/* The tunnel to run on the laptop for port: "ssh -L PORT:127.0.0.1:PORT
 * user@this-host". */
void app_oauth_tunnel(unsigned port, char *out, size_t len);

/* ---- the runner (app_runner.c) ------------------------------------------- */

/* At most max jobs run at once, each on a worker thread started with
 * SIGINT, SIGTERM, SIGHUP and SIGWINCH blocked (the caller's thread
 * handles them); the others wait in a queue. A finished job is put on a
 * done queue and a byte written to notify_fd (the caller's own pipe), or,
 * with notify_fd -1, to the runner's pipe (app_runner_fd()). A worker ends
 * when the queue is empty: an idle program has only its own thread. */
struct app_runner;

struct app_runner *app_runner_new(unsigned max, int notify_fd);
/* The descriptor to poll when the runner has its own pipe, else -1. */
int app_runner_fd(const struct app_runner *r);
/* Queues run(arg). 0, or -1 (out of memory, or stopping). */
int app_runner_submit(struct app_runner *r, void (*run)(void *arg), void *arg);
/* A finished job's arg (ran: whether it ran, false when the runner
 * stopped first), or NULL when none is finished yet. Never blocks long. */
void *app_runner_done(struct app_runner *r, bool *ran);
/* Like app_runner_done() but waits on the runner's pipe for one; NULL when
 * nothing is queued or running. A signal's handler may run meanwhile. */
void *app_runner_wait(struct app_runner *r, bool *ran);
/* Jobs submitted and not yet collected. */
size_t app_runner_inflight(struct app_runner *r);
/* Runs nothing more (what waits comes back as not run) and waits at most
 * timeout_ms for the running jobs to end (cancel them first). false when
 * one still runs: then the runner must not be freed (end the process). */
bool app_runner_stop(struct app_runner *r, int timeout_ms);
/* After app_runner_stop() returned true, or with nothing in flight. Jobs
 * not collected are dropped: collect them first to free their args. */
void app_runner_free(struct app_runner *r);

/* Fills the server fields of a that the user did not give (PRESET_GIVEN_*
 * in given) from a discovered candidate, as the commands and the console
 * both do: the preset's id when it came from one, the username when the
 * source named one other than the address. */
void app_discover_apply(const struct disc_candidate *c, struct account *a,
                        unsigned given);
/* The sentence to show before a password goes to c's server, or NULL when
 * none is needed: the server is outside the address's domain and the
 * source (DNS or HTTP) could have been spoofed. */
const char *app_discover_warning(const struct disc_candidate *c,
                                 const char *email, char *buf, size_t len);

/* ---- sending-domain health (app_domain.c) ------------------------------- */

/* What a domain check of one address or domain asks, the provider's
 * knowledge taken from a preset (NULL: none): o points into the arrays. */
struct app_domain_req {
	struct dom_options o;
	char domain[254];
	const char *inc[PRESET_MAX_SPF];
	const char *sel[PRESET_MAX_DKIM];
	const char *own[PRESET_MAX_DOMAINS];
	/* What the account's last test message showed (app_domain_seen()). */
	char seen_selector[STORE_SEEN_SELECTOR_MAX + 1];
	char seen_ip[STORE_SEEN_IP_MAX + 1];
	const struct preset_list *presets;      /* app_domain_by_mx() */
};

/* Prepares r for what (an address: its domain; or a domain) with preset p;
 * selector and sender_ip as seen on a test message (NULL: not known).
 * NULL, or why what is neither, with in *field (unless NULL) which input
 * is wrong: "domain" or "option". */
const char *app_domain_prepare(struct app_domain_req *r, const char *what,
                               const struct preset *p, const char *selector,
                               const char *sender_ip, const char **field);
/* When r has no provider: the check finds it by the domain's MX among l's
 * presets (a custom domain at Gmail or Microsoft 365). l must outlive the
 * check. */
void app_domain_by_mx(struct app_domain_req *r, const struct preset_list *l);
/* `domain`'s exit status for a result: 0 all pass, APP_DOMAIN_ATTENTION
 * for a warning or an unknown, APP_DOMAIN_FAILING for a failure. */
/* Fills r's selector and sending host from what the account's last test
 * message showed, where r has none given: the DKIM selector only when the
 * signature's d= is the domain checked (a provider signing with its own
 * domain says nothing of the user's keys), the relay always. Nothing is
 * changed when the account has no test message on record. */
void app_domain_seen(struct app_domain_req *r, struct store *st,
                     const char *email);
#define APP_DOMAIN_ATTENTION 1
#define APP_DOMAIN_FAILING   2
int app_domain_exit(const struct dom_result *r);
/* An item's status as people read it, in their language: "pass", "warn",
 * "FAIL" (loud, it is what to look at), "unknown". --json has the
 * identifiers of domain_status_name(). */
const char *app_domain_status_word(enum dom_status s);

#endif
