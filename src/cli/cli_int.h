/* What the command files share with each other and nobody else: option
 * parsing and error reporting helpers (cli.c). */
#ifndef FLUENZR_CLI_INT_H
#define FLUENZR_CLI_INT_H

#include <stdbool.h>
#include "account.h"
#include "json.h"

/* The longest passphrase read from a descriptor or the terminal, NUL
 * included. */
#define PASS_MAX 1024

/* Why read_secret() failed, in words; too_long for EMSGSIZE. */
const char *cli_secret_error(int e, const char *too_long);
/* A file descriptor number for option opt; -1 with a message if s is not one. */
int cli_parse_fd(const char *opt, const char *s, int *out);
/* "--opt VALUE" or "--opt=VALUE": the value, advancing *i; NULL if absent
 * (*matched false) or with a message if the value is missing. */
const char *cli_opt_value(int argc, char **argv, int *i, const char *name,
                          bool *matched);
/* Prints a store error (err, else the code's words); returns its exit code. */
int cli_store_fail(int e, const char *err);

/* Reports an invalid field value; returns EX_DATAERR. */
int cli_bad_field(const char *field, const char *why);
/* One server as JSON: host, port, security and, when user is not NULL, the
 * user name. */
void cli_json_server(struct json *j, const char *host, unsigned port,
                     enum security sec, const char *user);

struct diagnosis;
/* A failed diagnosis for people: title, the server's words, what it rests
 * on, the fixes (cli_test.c; test and explain print it alike). */
void cli_print_diagnosis(const struct diagnosis *d);
/* The "diagnosis" object of test --json and explain --json. */
void cli_json_diagnosis(struct json *j, const struct diagnosis *d);
/* cli_oauth.c: an OAuth client secret read from fd into *out (locked
 * memory of STORE_SECRET_MAX + 2, secmem_free() it); 0 or an exit code. */
int cli_read_oauth_secret(int fd, char **out);
struct cli_ctx;
/* account authorize ACCOUNT [--flow device|loopback|paste] [--port N] */
int cli_account_authorize(struct cli_ctx *c, int argc, char **argv);

#endif
