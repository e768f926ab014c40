/* What the command files share with each other and nobody else: option
 * parsing and error reporting helpers (cli.c). */
#ifndef FLUENZR_CLI_INT_H
#define FLUENZR_CLI_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "account.h"
#include "cli.h"
#include "json.h"

/* The longest passphrase read from a descriptor or the terminal, NUL
 * included. */
#define PASS_MAX 1024

/* Why read_secret() failed, in words; too_long for EMSGSIZE. */
const char *cli_secret_error(int e, const char *too_long);
/* A file descriptor number for option opt; -1 with a message if s is not one. */
int cli_parse_fd(const char *opt, const char *s, int *out);
/* Seconds for option opt (more than 0, at most max; NULL: missing) into
 * *ms, at least 1; -1 with a message if s is not that. */
int cli_parse_seconds(const char *opt, const char *s, int max, int *ms);
/* "--opt VALUE" or "--opt=VALUE": the value, advancing *i; NULL if absent
 * (*matched false) or with a message if the value is missing. */
const char *cli_opt_value(int argc, char **argv, int *i, const char *name,
                          bool *matched);
/* Prints a store error (err, else the code's words); returns its exit code. */
int cli_store_fail(int e, const char *err);
/* The account stored under email into *a: 0, or the exit status with the
 * reason printed (EX_NOINPUT when there is none). The store is open. */
int cli_account_load(struct cli_ctx *c, const char *email, struct account *a);

/* A prefix for cli_bad_field()'s messages ("line 4: "), NULL or "" for
 * none. */
void cli_error_context(const char *ctx);
/* Reports an invalid field value; returns EX_DATAERR. */
int cli_bad_field(const char *field, const char *why);
/* Prints s padded to cols columns in any language: its width on screen
 * (accents, Devanagari), not its bytes. */
void cli_pad_to(const char *s, int cols);
/* One server as JSON: host, port, security and, when user is not NULL, the
 * user name. */
void cli_json_server(struct json *j, const char *host, unsigned port,
                     enum security sec, const char *user);

struct diagnosis;
/* A failed diagnosis for people, to f: title, the server's words, what it
 * rests on, the fixes (cli_test.c; test, send and explain print it alike). */
void cli_print_diagnosis(FILE *f, const struct diagnosis *d);
/* The "diagnosis" object of test --json and explain --json. */
void cli_json_diagnosis(struct json *j, const struct diagnosis *d);
/* cli_oauth.c: an OAuth client secret read from fd into *out (locked
 * memory of STORE_SECRET_MAX + 2, secmem_free() it); 0 or an exit code. */
int cli_read_oauth_secret(int fd, char **out);
struct cli_ctx;
/* account authorize ACCOUNT [--flow device|loopback|paste] [--port N] */
int cli_account_authorize(struct cli_ctx *c, int argc, char **argv);

/* The members of a test's JSON object (account, ok, category, steps, tls,
 * diagnosis, ..., transcript), for `test` and `send` alike; the caller
 * opens and closes the object. cli_test.c. */
struct probe_result;
struct probe_event;
void cli_json_result_fields(struct json *j, const char *email,
                            const struct probe_result *r);
/* The mark of a step or a result: a check or a cross in UTF-8, else
 * "ok  " or "FAIL". cli_test.c. */
const char *cli_mark(bool ok);
/* A step's line as `test` prints it, for a probe's callback; ud is
 * the FILE * to print to (NULL: stdout). cli_test.c. */
void cli_print_step(const struct probe_event *ev, void *ud);
/* A test's outcome as `test` prints it: the passed test, or the
 * diagnosis (cli_print_diagnosis()). cli_test.c. */
void cli_print_result(FILE *f, const struct probe_result *r);

struct app_health_info;
struct store_history;
/* The health's members of a JSON object (state, since, why, strip,
 * secret_age_days, secret_reminder) and, with hist, its history. cli.c. */
void cli_json_health(struct json *j, const struct app_health_info *h,
                     const struct store_history *hist);

/* `account limits` (cli_limits.c), and the limits in JSON
 * (an object: source, day, hour, interval, sent_day, sent_hour,
 * paused_until, pause_reason) for it and `account show`. */
struct app_limits;
int cli_account_limits(struct cli_ctx *c, int argc, char **argv);
void cli_json_limits(struct json *j, const struct app_limits *l,
                     const struct store_history *h, int64_t now);

/* The account that `account add` would make of the account options in
 * argv[0..argc) (no password options): the same parsing, preset and
 * checks. 0 or an exit status, the reason printed. cli_account.c. */
int cli_account_build(struct cli_ctx *c, int argc, char **argv, struct account *out);
/* `account import` and `account export` (cli_import.c). */
int cli_account_import(struct cli_ctx *c, int argc, char **argv);
int cli_account_export(struct cli_ctx *c, int argc, char **argv);

#endif
