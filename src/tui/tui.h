/* The full-screen console's shared state. One UI thread owns curses and the
 * store; probe workers talk to it only through the event queue (tui_jobs.c).
 * Included by tui*.c only. */
#ifndef FLUENZR_TUI_H
#define FLUENZR_TUI_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tui_keys.h"           /* includes <curses.h> with wide functions */
#include "account.h"
#include "app.h"
#include "cli.h"
#include "console.h"
#include "diag.h"
#include "policy.h"
#include "preset.h"
#include "probe.h"
#include "store.h"

#define TUI_MIN_COLS   80
#define TUI_MIN_LINES  24
#define TUI_MAX_JOBS   16
#define TUI_POOL       4        /* concurrent tests of "test all" */
#define TUI_STACK      8
#define TUI_ERRLOG_MAX 65536

/* ---- text fields ------------------------------------------------------- */

struct tui_input {
	char *buf;              /* UTF-8; secmem when secret */
	size_t cap;             /* bytes including the NUL */
	size_t len, cur;        /* bytes; cur on a code point boundary */
	bool secret;
	bool touched;           /* edited by the user */
};

int tui_input_init(struct tui_input *in, size_t maxlen, bool secret);
void tui_input_free(struct tui_input *in);
void tui_input_set(struct tui_input *in, const char *s);
/* Handles an editing key or a printable character; true when consumed.
 * *changed tells whether the text changed. */
bool tui_input_key(struct tui_input *in, int key, bool *changed);

/* ---- screens ----------------------------------------------------------- */

struct tui;

/* What a key handler asks of the screen manager (htop's HandlerResult);
 * only the manager redraws and closes screens in answer. */
enum tui_result {
	TUI_HANDLED,    /* consumed; the screen looks the same */
	TUI_REDRAW,     /* consumed; draw again */
	TUI_POP,        /* close this screen */
	TUI_PASS,       /* this screen closed itself: the key goes on to the
	                 * screen now on top (a question a key dismisses) */
	TUI_QUIT,       /* leave the console */
};

/* A screen (tig's view_ops with its private_size): the manager allocates
 * private_size zeroed bytes for each screen it opens and hands them to
 * every call; open() sets them up from its argument and close() frees what
 * open() took. draw() paints the body (rows 1 to LINES-3) and may place
 * the cursor (t->cur_y, t->cur_x). The manager paints the title bar from
 * the topmost full screen's title, the message line, and the bottom line:
 * the top screen's bottom() if it has one, else the hints of its keys.
 * An overlay (a question, a prompt, help, a picker) is drawn over the
 * screen below it; every screen is on the one stack tui.c owns. */
struct screen_ops {
	enum tui_keyscreen ks;          /* its keys, for the hints and help */
	const char *title;              /* full screens; NULL for overlays */
	size_t private_size;
	bool overlay;
	bool keep_hints;                /* the bottom line stays the hints of
	                                 * the screen below */
	int (*open)(struct tui *t, void *priv, const void *arg);   /* 0 or -1 */
	void (*draw)(struct tui *t, void *priv);
	enum tui_result (*key)(struct tui *t, void *priv, int key);
	void (*bottom)(struct tui *t, void *priv);      /* optional */
	void (*resize)(struct tui *t, void *priv);      /* optional */
	void (*close)(struct tui *t, void *priv);       /* optional */
	/* A title that depends on the state (optional; else title). */
	const char *(*title_of)(struct tui *t, void *priv);
};

struct tui_screen {
	const struct screen_ops *ops;
	void *priv;
	unsigned id;                    /* never reused: tells a reopened one */
};

extern const struct screen_ops tui_scr_unlock, tui_scr_accounts,
	tui_scr_form, tui_scr_diag, tui_scr_trouble, tui_scr_store,
	tui_scr_help, tui_scr_signin, tui_scr_domain;

/* ---- the account list -------------------------------------------------- */

enum row_state { ROW_IDLE = 0, ROW_QUEUED, ROW_RUNNING };

struct tui_row {
	char key[ACCT_EMAIL_MAX + 1];
	char email[ACCT_EMAIL_MAX + 1];
	char name[ACCT_NAME_MAX + 1];
	char smtp_host[ACCT_HOST_MAX + 1];
	unsigned smtp_port;
	enum security smtp_sec;
	bool imap;
	int64_t last_time;
	char last_result[ACCT_RESULT_MAX + 1];
	unsigned char state;
	/* Read from the store when the row is first drawn (a list of 10,000
	 * reads no history at start), again after a result is recorded. */
	bool health_known;
	struct app_health_info health;
};

struct tui_accounts {
	struct tui_row *rows;
	size_t n, cap;
	size_t *vis;            /* indexes of the rows the filter lets through */
	size_t nvis;
	size_t sel, top;        /* in vis */
	struct tui_input filter;
	bool filtering;         /* typing goes to the filter */
	size_t bad;             /* damaged records skipped at load */
	/* "test all": keys still to start */
	char (*pending)[ACCT_EMAIL_MAX + 1];
	size_t npending, pending_pos;
	size_t batch_total, batch_done, batch_ok, batch_stopped;
};

/* ---- the form ---------------------------------------------------------- */

enum form_field {
	FF_EMAIL, FF_NAME, FF_SMTP_HOST, FF_SMTP_PORT, FF_USER, FF_PASS,
	FF_SMTP_SEC,
	FF_IMAP_HOST, FF_IMAP_PORT, FF_IMAP_SEC, FF_IMAP_USER, FF_IMAP_PASS,
	FF_CA, FF_PIN, FF_PRESET,
	/* Sign-in; with OAuth, the client's fields take the password rows. */
	FF_SIGNIN, FF_OAUTH_ID, FF_OAUTH_SECRET,
	FF_N
};

/* The form screen's state (its private state; tui_form.c only). */
struct tui_form {
	bool editing;                   /* an existing account */
	char old_email[ACCT_EMAIL_MAX + 1];
	struct account orig;            /* as loaded, for "changed?" and keep */
	struct tui_input in[FF_N];      /* text fields (choices unused) */
	enum security smtp_sec, imap_sec;
	bool allow_plain;
	bool oauth;                     /* sign-in: OAuth, not passwords */
	char preset[ACCT_PRESET_MAX + 1];
	int focus;
	bool reveal;
	bool dirty;
	bool port_typed, imap_port_typed, user_typed;
	bool offered_preset;            /* asked once for this address */
	char last_offer_email[ACCT_EMAIL_MAX + 1];
	char err[FF_N][160];            /* inline validation messages */
	/* Discovery after the Email field: what it says, and the candidate
	 * waiting for the user's confirmation. */
	char disc_line[400];
	int disc_color;                 /* enum tui_color */
	bool disc_running;
	struct disc_candidate disc_wait;
};

/* ---- probe jobs -------------------------------------------------------- */

enum job_kind { JOB_DIAG, JOB_BATCH, JOB_DISCOVER, JOB_SIGNIN, JOB_DOMAIN };

struct tui_tline {
	int64_t t_ms;
	char dir;
	char *text;
};

struct tui_job {
	bool used;
	unsigned id;
	enum job_kind kind;
	struct worker_arg *work;        /* its worker's state, while running */
	bool running;           /* not handed back by the runner yet */
	bool finished;          /* res is complete */
	bool abandoned;         /* nobody looks at it: free when it ends */
	bool stored;            /* tests the stored account: record the result */
	struct account acct;
	int64_t t0_ms;
	struct probe_step steps[PROBE_MAX_STEPS];
	size_t nsteps;
	struct tui_tline *lines;
	size_t nlines, caplines;
	struct probe_result res;        /* after the end; transcript NULL */
	enum diag_cat cat;
	bool retried;           /* OAuth: run again with a fresh token */
	char note[APP_ERR_MAX];         /* why no token, or it was not saved */
};

/* A message from a worker: copies, never pointers into the probe. A job's
 * end comes back through the runner, not as a message. */
struct tui_msg {
	struct tui_msg *next;
	unsigned job;
	int type;                       /* probe_event_type */
	struct probe_step step;
	struct tui_tline line;
};

/* ---- the live test and troubleshooting screens -------------------------- */

/* The live test's screen state (its private state; tui_diag.c only). */
struct tui_diag {
	unsigned job;                   /* 0: none */
	struct account acct;
	bool stored;
	bool from_form;
	char *pw, *imap_pw;             /* secmem, NULL = none */
	bool show_transcript;
	int scroll;                     /* lines from the top of the body */
	bool follow;                    /* transcript sticks to the end */
	int tscroll;
};

struct tui_store_scr {
	struct store_status status;
	bool have_status;
	char *pass1;                    /* secmem, first entry of a new passphrase */
	char *oldpass;                  /* secmem, for rotate */
};

/* ---- the whole console ------------------------------------------------- */

typedef void (*tui_yesno_cb)(struct tui *t, bool yes, void *ud);
typedef void (*tui_ask_cb)(struct tui *t, const char *value, void *ud);

struct tui {
	struct cli_ctx *c;
	struct store *st;
	int secret_days;                        /* app_secret_remind_days() */
	const struct preset_list *presets;      /* &preset_list, or NULL */
	struct preset_list preset_list;
	unsigned preset_skipped;                /* warnings at load */
	char preset_first[256];                 /* the first of them */
	bool utf8, color;
	int sig_pipe[2], job_pipe[2], err_pipe, saved_stderr;
	char *errlog;
	size_t errlog_len;
	bool curses_on;
	bool dirty, quit;
	int exit_code;
	char exit_msg[256];

	/* The screens, bottom first; only tui.c changes it. */
	struct tui_screen stack[TUI_STACK];
	int depth;
	unsigned next_screen_id;
	unsigned drawn_id;              /* the top screen last drawn */

	char msg[512];
	bool msg_error;

	/* Still shared, left for the store-opening and passphrase work
	 * that is changing them: the unlock screen's tries and the store
	 * screen's state. The other screens' state is their own. */
	int unlock_tries;
	struct tui_store_scr ss;

	struct tui_job jobs[TUI_MAX_JOBS];
	unsigned next_job_id;
	pthread_mutex_t qlock;
	struct tui_msg *qhead, *qtail;
	struct app_runner *runner;      /* runs the jobs (tui_jobs.c) */
	struct tui_discovery *disc;     /* the settings lookup in flight, or NULL */
	struct tui_signin *signin;      /* the OAuth sign-in waiting, or NULL */
	struct tui_domcheck *domcheck;  /* the domain check running, or NULL */

	int cur_y, cur_x;               /* where the cursor goes; -1 hidden */
};

/* tui.c: the screen manager. */
/* Opens s over the others with arg for its open(); returns its private
 * state, or NULL (out of memory, a full stack, or open() refused). */
void *tui_push(struct tui *t, const struct screen_ops *s, const void *arg);
/* Closes the top screen (never the last one). */
void tui_pop(struct tui *t);
/* Closes every screen above the nearest s; false when s is not open. */
bool tui_pop_to(struct tui *t, const struct screen_ops *s);
/* Brings s to the top: it is there, or just below a screen it opened
 * (which closes), or it opens. */
void tui_raise(struct tui *t, const struct screen_ops *s, const void *arg);
/* Closes every screen and opens s alone. */
void tui_reset(struct tui *t, const struct screen_ops *s, const void *arg);
const struct screen_ops *tui_top(const struct tui *t);
/* The nearest open s's private state, or NULL when s is not open. */
void *tui_find(const struct tui *t, const struct screen_ops *s);
void tui_message(struct tui *t, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A one-line question at the bottom, a screen of its own. passthrough: a
 * key other than y/n/Esc answers "no" and then reaches the screen below. */
void tui_yesno(struct tui *t, bool passthrough, tui_yesno_cb cb, void *ud,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A one-line no-echo entry at the bottom (passphrases); NULL on Esc. */
void tui_ask_secret(struct tui *t, const char *label, tui_ask_cb cb,
                    void *ud);
/* Common keys of a screen (help, redraw, quit at once); true if handled. */
bool tui_global_key(struct tui *t, int key);

/* tui_widgets.c: drawing, wide-character aware. */
enum tui_color { CP_NONE = 0, CP_TITLE, CP_OK, CP_FAIL, CP_WARN, CP_DIM,
                 CP_SEL, CP_KEY };
attr_t tui_attr(const struct tui *t, enum tui_color c);
/* Columns the UTF-8 text takes (invalid or unprintable: 1 column each). */
int tui_cols(const struct tui *t, const char *s);
/* Draws at most maxcols columns of s at (y, x); with pad, fills the rest
 * with spaces. With ellipsis, a cut shows as "…" (or "~"). Returns the
 * columns drawn. */
int tui_put(const struct tui *t, int y, int x, int maxcols, const char *s,
            bool pad, bool ellipsis);
void tui_hline(int y, int x, int n);
void tui_draw_input(struct tui *t, const struct tui_input *in, int y, int x,
                    int width, bool focus, bool masked);
const char *tui_mark_ok(const struct tui *t);
const char *tui_mark_fail(const struct tui *t);
const char *tui_mark_never(const struct tui *t);
const char *tui_mark_warn(const struct tui *t);
const char *tui_spinner(const struct tui *t);
/* "just now", "5m ago", "3h ago", "2d ago", or a date. */
void tui_reltime(int64_t when, int64_t now, char *out, size_t len);
/* Draws a framed box (ACS lines; curses falls back to ASCII). */
void tui_box(int y, int x, int h, int w);
/* Lines of text for a scrolled pane, each with its attribute. */
struct tui_lines {
	char text[64][768];      /* a wide line in Devanagari: three bytes a letter */
	attr_t attr[64];
	int n;
};
/* Adds text cut at spaces into lines of at most width columns; the first
 * line starts with first, the others with cont. */
void tui_lines_wrap(const struct tui *t, struct tui_lines *L, attr_t a,
                    const char *first, const char *cont, const char *text,
                    int width);

/* tui_accounts.c: the list's state is its screen's (tui_scr_accounts);
 * these do nothing while the list is not open. */
int tui_accounts_load(struct tui *t);
void tui_accounts_upsert(struct tui *t, const struct account *a);
void tui_accounts_remove(struct tui *t, const char *email);
struct tui_row *tui_accounts_find(struct tui *t, const char *email);
void tui_accounts_select(struct tui *t, const char *email);
void tui_accounts_job_done(struct tui *t, struct tui_job *j);
void tui_accounts_cancel_batch(struct tui *t);
bool tui_accounts_busy(const struct tui *t);

/* tui_form.c */
void tui_form_open(struct tui *t, const char *email);   /* NULL: new */
/* A settings lookup for email ended (r NULL: cancelled or failed to run). */
void tui_form_discovered(struct tui *t, const char *email,
                         const struct disc_result *r);

/* tui_jobs.c: the settings lookup (discover_run) on the runner; one at a
 * time, its end posted through the job pipe to tui_form_discovered(). */
int tui_discover_start(struct tui *t, const char *email);
void tui_discover_cancel(struct tui *t);
/* Applies a working alternative found by a test to the form. */
void tui_form_apply_alt(struct tui *t, unsigned port, enum security sec,
                        bool imap);
void tui_form_set_pin(struct tui *t, const char *pin);
/* Whether the form is open (under a test it started, say). */
bool tui_form_active(const struct tui *t);

/* tui_jobs.c */
int tui_jobs_init(struct tui *t);
/* Cancels and joins every test, waiting a bounded time; false when a
 * worker is still running (the caller must end the process). */
bool tui_jobs_fini(struct tui *t);
/* Starts a probe of a on a worker thread; 0 when none could start. */
unsigned tui_job_start(struct tui *t, enum job_kind kind,
                       const struct account *a, const char *pw,
                       const char *imap_pw, bool stored);
struct tui_job *tui_job_get(struct tui *t, unsigned id);
void tui_job_cancel(struct tui *t, unsigned id);
/* Nobody will look at it any more: freed when its thread ends. */
void tui_job_abandon(struct tui *t, unsigned id);
void tui_jobs_drain(struct tui *t);
bool tui_jobs_running(const struct tui *t);
size_t tui_jobs_count(const struct tui *t, enum job_kind kind);
/* Opens the stored passwords of an account into secmem (app_secrets_open();
 * both NULL when the store is locked, and for an OAuth account, whose token
 * its test has on its worker). When they do not open, says why and
 * returns an exit status: the test must not run. */
int tui_open_passwords(struct tui *t, const char *email, char **pw,
                        char **imap_pw);

/* tui_diag.c */
void tui_diag_start(struct tui *t, const struct account *a, const char *pw,
                    const char *imap_pw, bool stored, bool from_form);
void tui_diag_job_event(struct tui *t, struct tui_job *j);
/* Runs the test again (re-reading a stored account and its passwords). */
void tui_diag_retry(struct tui *t);
/* What troubleshooting reads of the test it explains: the finished job
 * (NULL while it runs), the account as tested, whether it is the stored
 * one, whether it came from the form; and the account after a change. */
struct tui_job *tui_diag_result(struct tui *t);
const struct account *tui_diag_account(const struct tui *t);
bool tui_diag_stored(const struct tui *t);
bool tui_diag_from_form(const struct tui *t);
void tui_diag_changed(struct tui *t, const struct account *a, bool stored);

/* tui_oauth.c: the device flow of a saved OAuth account on its own
 * screen; one at a time. The worker's part runs through tui_jobs.c. */
struct tui_signin;
void tui_signin_open(struct tui *t, const char *email);
void tui_signin_run(struct tui_signin *s);             /* on the worker */
void tui_signin_update(struct tui *t);                 /* the code shown */
void tui_signin_done(struct tui *t, struct tui_signin *s, bool ran);
void tui_signin_cancel(struct tui *t);
void tui_signin_free(struct tui_signin *s);
/* tui_jobs.c: hands s to the runner; 0 or -1. */
int tui_signin_submit(struct tui *t, struct tui_signin *s);

/* tui_domain.c: the domain health of an account's domain on its own
 * screen; one check at a time. The worker's part runs through tui_jobs.c. */
struct tui_domcheck;
void tui_domain_open(struct tui *t, const char *email);
void tui_domain_run(struct tui_domcheck *d);           /* on the worker */
void tui_domain_done(struct tui *t, struct tui_domcheck *d, bool ran);
void tui_domain_cancel(struct tui *t);
void tui_domain_free(struct tui_domcheck *d);
/* tui_jobs.c: hands d to the runner; 0 or -1. */
int tui_domain_submit(struct tui *t, struct tui_domcheck *d);

/* tui_store.c */
void tui_store_open(struct tui *t);
void tui_store_free(struct tui *t);

/* tui_help.c: tui_scr_help, opened with the keyscreen it explains. */

/* Records a finished test's outcome on the stored account. */
void tui_record_result(struct tui *t, struct tui_job *j);

char *tui_secdup(const char *s);
void tui_secfree(char **p);

#endif
