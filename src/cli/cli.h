/* The command-line interface: global options, the store a command works on,
 * and one entry point per command. Exit codes follow sysexits.h. */
#ifndef FLUENZR_CLI_H
#define FLUENZR_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include "preset.h"
#include "store.h"

struct cli_ctx {
	const char *store_dir;    /* --store / FLUENZR_STORE, NULL = default */
	const char *key_file;     /* --key-file / FLUENZR_KEY_FILE */
	int passphrase_fd;        /* --passphrase-fd, -1 = ask on the terminal */
	struct store *st;         /* after cli_open_store() */
	struct preset_list presets;
	bool presets_loaded;
	char *passphrase;         /* secmem, read once */
};

/* Consumes a global option at argv[*i] (and its value, advancing *i).
 * Returns 1 if it was one, 0 if not, -1 (message printed) if malformed. */
int cli_global_option(struct cli_ctx *c, int argc, char **argv, int *i);

/* The store passphrase from --passphrase-fd (read once, kept in locked
 * memory) or the terminal; NULL with a message when none can be had. */
const char *cli_passphrase(struct cli_ctx *c, const char *prompt);

/* Opens the store (creating it when create), and unlocks it when unlock,
 * reading the passphrase from --passphrase-fd or the terminal when only a
 * passphrase opens it. Prints its own error; returns 0 or an exit code. */
int cli_open_store(struct cli_ctx *c, bool create, bool unlock);
/* Loads presets once; prints warnings for bad files on stderr. */
int cli_load_presets(struct cli_ctx *c);
/* Maps a store error to an exit code. */
int cli_store_exit(int store_err);
void cli_close(struct cli_ctx *c);

int cmd_account(struct cli_ctx *c, int argc, char **argv);
int cmd_presets(struct cli_ctx *c, int argc, char **argv);
int cmd_discover(struct cli_ctx *c, int argc, char **argv);   /* cli_discover.c */
int cmd_domain(struct cli_ctx *c, int argc, char **argv);     /* cli_domain.c */
int cmd_store(struct cli_ctx *c, int argc, char **argv);
int cmd_test(struct cli_ctx *c, int argc, char **argv);   /* cli_test.c */
int cmd_check(struct cli_ctx *c, int argc, char **argv);  /* cli_test.c */
int cmd_send(struct cli_ctx *c, int argc, char **argv);   /* cli_send.c */
int cmd_explain(struct cli_ctx *c, int argc, char **argv); /* cli_explain.c */

#endif
