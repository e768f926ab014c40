/* `fluenzr-tui store`: status, check, passphrase and rotate. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "app.h"
#include "cli.h"
#include "cli_int.h"
#include "file.h"
#include "json.h"
#include "policy.h"
#include "preset.h"
#include "secmem.h"
#include "store.h"
#include "util.h"


/* ---- store ------------------------------------------------------------ */

static void
check_report(const char *key, const char *problem, void *ud)
{
	(void)ud;
	printf("DAMAGED %s: %s\n", key, problem);
}

/* A new passphrase, twice on a terminal or once from --new-passphrase-fd. */
static char *
read_new_passphrase(int fd)
{
	char *a = secmem_alloc(PASS_MAX), *b = NULL;
	const char *why;

	if (!a)
		return NULL;
	if (read_secret(fd, "New store passphrase: ", a, PASS_MAX) < 0)
		goto fail;
	if (fd < 0) {
		b = secmem_alloc(PASS_MAX);
		if (!b || read_secret(-1, "Repeat it: ", b, PASS_MAX) < 0)
			goto fail;
		if (strcmp(a, b) != 0) {
			fprintf(stderr, "fluenzr-tui: the two passphrases differ; nothing changed\n");
			secmem_free(b, PASS_MAX);
			secmem_free(a, PASS_MAX);
			return NULL;
		}
		secmem_free(b, PASS_MAX);
	}
	if ((why = policy_passphrase(a))) {
		fprintf(stderr, "fluenzr-tui: invalid passphrase: %s; nothing changed\n",
		        why);
		secmem_free(a, PASS_MAX);
		return NULL;
	}
	return a;
fail:
	fprintf(stderr, "fluenzr-tui: cannot read the new passphrase: %s\n",
	        cli_secret_error(errno, "too long"));
	secmem_free(b, PASS_MAX);
	secmem_free(a, PASS_MAX);
	return NULL;
}

int
cmd_store(struct cli_ctx *c, int argc, char **argv)
{
	const char *sub = NULL;
	bool json = false, drop = false, m;
	int newfd = -1, i, rc, e;
	char err[512] = "";

	for (i = 1; i < argc; i++) {
		const char *v;

		rc = cli_global_option(c, argc, argv, &i);
		if (rc < 0)
			return EX_USAGE;
		if (rc > 0)
			continue;
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
			continue;
		}
		if (strcmp(argv[i], "--drop-key-file") == 0) {
			drop = true;
			continue;
		}
		v = cli_opt_value(argc, argv, &i, "--new-passphrase-fd", &m);
		if (m) {
			if (!v || cli_parse_fd("--new-passphrase-fd", v, &newfd) < 0)
				return EX_USAGE;
			continue;
		}
		if (argv[i][0] == '-' || sub) {
			fprintf(stderr, "fluenzr-tui: unexpected argument '%s'\n", argv[i]);
			return EX_USAGE;
		}
		sub = argv[i];
	}
	if (!sub) {
		fprintf(stderr, "fluenzr-tui: store wants status, check, passphrase or rotate\n");
		return EX_USAGE;
	}
	if (strcmp(sub, "status") == 0) {
		struct store_status s;

		if ((rc = cli_open_store(c, false, false)))
			return rc;
		if ((e = store_status(c->st, &s)) != STORE_OK)
			return cli_store_fail(e, NULL);
		if (json) {
			struct json j;

			json_init(&j, stdout, true);
			json_obj_begin(&j);
			json_key(&j, "store"); json_str(&j, s.dir);
			json_key(&j, "key_file"); json_str(&j, s.key_file);
			json_key(&j, "key_file_slot"); json_bool(&j, s.keyfile_slot);
			json_key(&j, "passphrase_slot"); json_bool(&j, s.passphrase_slot);
			json_key(&j, "pbkdf2_iterations"); json_int(&j, s.pbkdf2_iterations);
			json_key(&j, "accounts"); json_int(&j, (int64_t)s.accounts);
			json_key(&j, "secrets"); json_int(&j, (int64_t)s.secrets);
			json_key(&j, "map_size"); json_int(&j, (int64_t)s.map_size);
			json_key(&j, "format_version"); json_int(&j, s.format_version);
			json_obj_end(&j);
			json_end(&j);
			return 0;
		}
		printf("store:        %s\n", s.dir);
		printf("key file:     %s%s\n", s.key_file, s.keyfile_slot ? "" : " (no slot)");
		printf("key slots:    %s%s%s\n", s.keyfile_slot ? "key file" : "",
		       s.keyfile_slot && s.passphrase_slot ? ", " : "",
		       s.passphrase_slot ? "passphrase" : "");
		if (s.passphrase_slot)
			printf("pbkdf2:       %u iterations (HMAC-SHA256)\n", s.pbkdf2_iterations);
		printf("encryption:   AES-256-GCM, one random nonce per record\n");
		printf("accounts:     %zu (%zu secrets)\n", s.accounts, s.secrets);
		printf("format:       %d\n", s.format_version);
		return 0;
	}
	if (strcmp(sub, "check") == 0) {
		int bad;

		if ((rc = cli_open_store(c, false, true)))
			return rc;
		bad = store_check(c->st, check_report, NULL);
		if (bad < 0)
			return cli_store_fail(STORE_ECORRUPT, NULL);
		if (bad > 0) {
			printf("%d damaged record%s\n", bad, bad == 1 ? "" : "s");
			return EX_DATAERR;
		}
		printf("all records open and verify (%zu accounts)\n", store_account_count(c->st));
		return 0;
	}
	if (strcmp(sub, "passphrase") == 0) {
		char *np;

		if ((rc = cli_open_store(c, false, true)))
			return rc;
		np = read_new_passphrase(newfd);
		if (!np)
			return EX_DATAERR;
		e = store_set_passphrase(c->st, np, drop, err, sizeof err);
		secmem_free(np, PASS_MAX);
		if (e != STORE_OK)
			return cli_store_fail(e, err);
		printf("passphrase set%s\n", drop ? "; the key file no longer opens the store" : "");
		return 0;
	}
	if (strcmp(sub, "rotate") == 0) {
		const char *pass = NULL;

		if ((rc = cli_open_store(c, false, true)))
			return rc;
		if (store_has_passphrase(c->st)) {
			pass = cli_passphrase(c, "Store passphrase: ");
			if (!pass)
				return EX_NOPERM;
		}
		e = store_rotate(c->st, pass, err, sizeof err);
		if (e != STORE_OK)
			return cli_store_fail(e, err);
		printf("data key rotated; every secret re-encrypted\n");
		return 0;
	}
	fprintf(stderr, "fluenzr-tui: store wants status, check, passphrase or rotate\n");
	return EX_USAGE;
}
