/* `fluenzr-tui store`: status, check, passphrase and rotate. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "i18n.h"
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
read_new_passphrase(int fd, const char *prompt)
{
	char *a = secmem_alloc(PASS_MAX), *b = NULL;
	const char *why;

	if (!a)
		return NULL;
	if (read_secret(fd, prompt, a, PASS_MAX) < 0)
		goto fail;
	if (fd < 0) {
		b = secmem_alloc(PASS_MAX);
		if (!b || read_secret(-1, _("Repeat it: "), b, PASS_MAX) < 0)
			goto fail;
		if (strcmp(a, b) != 0) {
			fprintf(stderr, _("fluenzr-tui: the two passphrases differ; nothing changed\n"));
			secmem_free(b, PASS_MAX);
			secmem_free(a, PASS_MAX);
			return NULL;
		}
		secmem_free(b, PASS_MAX);
	}
	if ((why = policy_passphrase(a))) {
		fprintf(stderr, _("fluenzr-tui: invalid passphrase: %s; nothing changed\n"),
		        why);
		secmem_free(a, PASS_MAX);
		return NULL;
	}
	return a;
fail:
	fprintf(stderr, _("fluenzr-tui: cannot read the new passphrase: %s\n"),
	        cli_secret_error(errno, _("too long")));
	secmem_free(b, PASS_MAX);
	secmem_free(a, PASS_MAX);
	return NULL;
}

static int
write_file(const void *p, size_t n, void *ud)
{
	return fwrite(p, 1, n, ud) == n ? 0 : -1;
}

/* `store export --sealed FILE`: written beside as FILE.tmp (0600) and
 * renamed once complete, so that a copy cut short never has the name. */
static int
store_export(struct cli_ctx *c, const char *file, int fd)
{
	char tmp[4200], err[512] = "", *pass;
	size_t n = 0;
	FILE *f;
	int e, tfd = -1;

	pass = read_new_passphrase(fd, _("Passphrase of the sealed copy: "));
	if (!pass)
		return EX_DATAERR;
	if (strcmp(file, "-") == 0) {
		f = stdout;
	} else {
		if (str_printf(tmp, sizeof tmp, "%s.tmp", file) < 0 ||
		    (tfd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
		    !(f = fdopen(tfd, "wb"))) {
			fprintf(stderr, _("fluenzr-tui: %s: %s\n"), tmp, strerror(errno));
			if (tfd >= 0)
				close(tfd);
			secmem_free(pass, PASS_MAX);
			return EX_CANTCREAT;
		}
	}
	e = store_export_sealed(c->st, pass, write_file, f, &n, err, sizeof err);
	secmem_free(pass, PASS_MAX);
	if (f != stdout) {
		bool ok = e == STORE_OK && fflush(f) == 0 && fsync(fileno(f)) == 0;

		if (fclose(f) != 0)
			ok = false;
		if (!ok || rename(tmp, file) != 0) {
			if (e == STORE_OK) {
				str_printf(err, sizeof err, _("cannot write %s: %s"), file, strerror(errno));
				e = STORE_EIO;
			}
			unlink(tmp);
		}
	} else if (fflush(stdout) != 0 && e == STORE_OK) {
		e = STORE_EIO;
	}
	if (e != STORE_OK)
		return cli_store_fail(e, err);
	fprintf(stderr, _("exported %zu account%s, sealed\n"), n, n == 1 ? "" : "s");
	return 0;
}

static int
store_import(struct cli_ctx *c, const char *file, int fd)
{
	char err[512] = "", failed[ACCT_EMAIL_MAX + 1], *pass;
	char fwhy[FILE_WHY_MAX];
	size_t len = 0, n = 0;
	uint8_t *in;
	int e;

	if (strcmp(file, "-") == 0) {
		fprintf(stderr, _("fluenzr-tui: store import reads a file (its passphrase "
		        "may come from the terminal)\n"));
		return EX_USAGE;
	}
	in = (uint8_t *)file_read_checked(file, 1u << 30, &len, fwhy, sizeof fwhy);
	if (!in) {
		fprintf(stderr, _("fluenzr-tui: %s: %s\n"), file, fwhy);
		return EX_NOINPUT;
	}
	pass = secmem_alloc(PASS_MAX);
	if (!pass || read_secret(fd, _("Passphrase of the sealed copy: "), pass, PASS_MAX) < 0) {
		fprintf(stderr, _("fluenzr-tui: cannot read the passphrase\n"));
		if (pass)
			secmem_free(pass, PASS_MAX);
		free(in);
		return EX_DATAERR;
	}
	e = store_import_sealed(c->st, pass, in, len, &n, failed, err, sizeof err);
	secmem_free(pass, PASS_MAX);
	free(in);
	if (e == STORE_EXISTS) {
		fprintf(stderr, _("fluenzr-tui: %s exists already in this store: nothing imported\n"),
		        failed);
		return EX_CANTCREAT;
	}
	if (e != STORE_OK)
		return cli_store_fail(e, err);
	printf(ngettext("imported %zu account\n", "imported %zu accounts\n", n), n);
	return 0;
}

int
cmd_store(struct cli_ctx *c, int argc, char **argv)
{
	const char *sub = NULL, *file = NULL;
	bool json = false, drop = false, sealed = false, m;
	int newfd = -1, sealfd = -1, i, rc, e;
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
			i18n_for_programs();
			continue;
		}
		if (strcmp(argv[i], "--drop-key-file") == 0) {
			drop = true;
			continue;
		}
		if (strcmp(argv[i], "--sealed") == 0) {
			sealed = true;
			continue;
		}
		v = cli_opt_value(argc, argv, &i, "--sealed-passphrase-fd", &m);
		if (m) {
			if (!v || cli_parse_fd("--sealed-passphrase-fd", v, &sealfd) < 0)
				return EX_USAGE;
			continue;
		}
		if (sub && !file && (strcmp(sub, "export") == 0 || strcmp(sub, "import") == 0) &&
		    (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)) {
			file = argv[i];
			continue;
		}
		v = cli_opt_value(argc, argv, &i, "--new-passphrase-fd", &m);
		if (m) {
			if (!v || cli_parse_fd("--new-passphrase-fd", v, &newfd) < 0)
				return EX_USAGE;
			continue;
		}
		if (argv[i][0] == '-' || sub) {
			fprintf(stderr, _("fluenzr-tui: unexpected argument '%s'\n"), argv[i]);
			return EX_USAGE;
		}
		sub = argv[i];
	}
	if (!sub) {
		fprintf(stderr, _("fluenzr-tui: store wants status, check, passphrase or rotate\n"));
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
		printf(_("store:        %s\n"), s.dir);
		printf(_("key file:     %s%s\n"), s.key_file, s.keyfile_slot ? "" : _(" (no slot)"));
		printf(_("key slots:    %s%s%s\n"), s.keyfile_slot ? _("key file") : "",
		       s.keyfile_slot && s.passphrase_slot ? ", " : "",
		       s.passphrase_slot ? _("passphrase") : "");
		if (s.passphrase_slot)
			printf(_("pbkdf2:       %u iterations (HMAC-SHA256)\n"), s.pbkdf2_iterations);
		printf(_("encryption:   AES-256-GCM, one random nonce per record\n"));
		printf(_("accounts:     %zu (%zu secrets)\n"), s.accounts, s.secrets);
		printf(_("format:       %d\n"), s.format_version);
		return 0;
	}
	if (strcmp(sub, "check") == 0) {
		size_t n;
		int bad;

		if ((rc = cli_open_store(c, false, true)))
			return rc;
		bad = store_check(c->st, check_report, NULL);
		if (bad < 0)
			return cli_store_fail(STORE_ECORRUPT, NULL);
		if (bad > 0) {
			printf(ngettext("%d damaged record\n", "%d damaged records\n", bad), bad);
			return EX_DATAERR;
		}
		n = store_account_count(c->st);
		printf(ngettext("all records open and verify (%zu account)\n",
		                "all records open and verify (%zu accounts)\n", n), n);
		return 0;
	}
	if (strcmp(sub, "passphrase") == 0) {
		char *np;

		if ((rc = cli_open_store(c, false, true)))
			return rc;
		np = read_new_passphrase(newfd, _("New store passphrase: "));
		if (!np)
			return EX_DATAERR;
		e = store_set_passphrase(c->st, np, drop, err, sizeof err);
		secmem_free(np, PASS_MAX);
		if (e != STORE_OK)
			return cli_store_fail(e, err);
		printf("%s\n", drop ? _("passphrase set; the key file no longer opens the store") :
		       _("passphrase set"));
		return 0;
	}
	if (strcmp(sub, "rotate") == 0) {
		const char *pass = NULL;

		if ((rc = cli_open_store(c, false, true)))
			return rc;
		if (store_has_passphrase(c->st)) {
			pass = cli_passphrase(c, _("Store passphrase: "));
			if (!pass)
				return EX_NOPERM;
		}
		e = store_rotate(c->st, pass, err, sizeof err);
		if (e != STORE_OK)
			return cli_store_fail(e, err);
		printf(_("data key rotated; every secret re-encrypted\n"));
		return 0;
	}
	if (strcmp(sub, "export") == 0 || strcmp(sub, "import") == 0) {
		if (!file) {
			fprintf(stderr, _("fluenzr-tui: store %s needs a file (or -)\n"), sub);
			return EX_USAGE;
		}
		if (sub[0] == 'e' && !sealed) {
			/* The only export: no secret ever leaves the store in clear. */
			fprintf(stderr, _("fluenzr-tui: store export writes only a sealed copy: "
			        "give --sealed (account export lists the accounts without "
			        "passwords)\n"));
			return EX_USAGE;
		}
		if ((rc = cli_open_store(c, sub[0] == 'i', true)))
			return rc;
		return sub[0] == 'e' ? store_export(c, file, sealfd)
		                     : store_import(c, file, sealfd);
	}
	fprintf(stderr, _("fluenzr-tui: store wants status, check, passphrase, rotate, "
	        "export or import\n"));
	return EX_USAGE;
}
