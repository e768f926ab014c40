/* `fluenzr-tui account import` and `account export`: many accounts at once
 * as CSV (RFC 4180), one row per account, the columns named as `account
 * add`'s options. Each row is made into an account by the code of
 * `account add` (cli_account_build()), so it is checked the same way, and
 * every error names its line and field. All rows are added in one store
 * transaction, or none; --continue adds the good ones. Passwords come from
 * a column or from a separate file of their own, never from argv, and are
 * wiped after use. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "i18n.h"
#include "account.h"
#include "app.h"
#include "cli.h"
#include "cli_int.h"
#include "file.h"
#include "secmem.h"
#include "store.h"
#include "util.h"

#define CSV_MAX       (64 << 20)   /* bytes of an input file */
#define CSV_FIELD_MAX 4096
#define CSV_COLS_MAX  32
#define IMPORT_ROWS_MAX 100000

/* The columns, in export order: an option of `account add` each (a flag
 * option takes yes/no), and the passwords. */
static const struct column {
	const char *name;
	const char *option;        /* NULL: a password */
	bool flag;
} columns[] = {
	{ "email", "--email", false },
	{ "name", "--name", false },
	{ "preset", "--preset", false },
	{ "smtp-host", "--smtp-host", false },
	{ "smtp-port", "--smtp-port", false },
	{ "smtp-security", "--smtp-security", false },
	{ "username", "--username", false },
	{ "imap-host", "--imap-host", false },
	{ "imap-port", "--imap-port", false },
	{ "imap-security", "--imap-security", false },
	{ "imap-username", "--imap-username", false },
	{ "ca-file", "--ca-file", false },
	{ "pin", "--pin", false },
	{ "allow-plain", "--allow-plain", true },
	{ "allow-old-tls", "--allow-old-tls", true },
	{ "password", NULL, false },
	{ "imap-password", NULL, false },
};
#define NCOLUMNS (sizeof columns / sizeof columns[0])
#define COL_PASSWORD (NCOLUMNS - 2)
#define COL_IMAP_PASSWORD (NCOLUMNS - 1)

/* ---- CSV ---- */

struct csv {
	const char *p;
	size_t len, pos;
	unsigned line;             /* of the record being read, from 1 */
	unsigned next_line;
};

/* One record's fields (malloc'ed, in secmem when secret is set: a
 * password column may be anywhere). 1, 0 at the end, -1 with why. */
static int
csv_record(struct csv *c, char **f, size_t *nf, char *why, size_t whylen)
{
	size_t n = 0;

	*nf = 0;
	if (c->pos >= c->len)
		return 0;
	c->line = c->next_line;
	for (;;) {
		char *buf = secmem_alloc(CSV_FIELD_MAX + 1);
		size_t bl = 0;
		bool quoted = false;

		if (!buf) {
			str_copy(why, whylen, _("out of locked memory"));
			return -1;
		}
		if (n == CSV_COLS_MAX) {
			secmem_free(buf, CSV_FIELD_MAX + 1);
			str_printf(why, whylen, _("more than %d fields"), CSV_COLS_MAX);
			return -1;
		}
		f[n++] = buf;
		*nf = n;
		if (c->pos < c->len && c->p[c->pos] == '"') {
			quoted = true;
			c->pos++;
		}
		for (;;) {
			char ch;

			if (c->pos >= c->len) {
				if (quoted) {
					str_copy(why, whylen, _("a quoted field does not end"));
					return -1;
				}
				buf[bl] = '\0';
				return 1;
			}
			ch = c->p[c->pos];
			if (quoted) {
				if (ch == '"') {
					if (c->pos + 1 < c->len && c->p[c->pos + 1] == '"') {
						c->pos += 2;
						ch = '"';
					} else {
						quoted = false;
						c->pos++;
						continue;
					}
				} else {
					if (ch == '\n')
						c->next_line++;
					c->pos++;
				}
			} else if (ch == ',') {
				c->pos++;
				buf[bl] = '\0';
				break;
			} else if (ch == '\n' || (ch == '\r' && c->pos + 1 < c->len &&
			                          c->p[c->pos + 1] == '\n')) {
				c->pos += ch == '\r' ? 2 : 1;
				c->next_line++;
				buf[bl] = '\0';
				return 1;
			} else if (ch == '"') {
				str_copy(why, whylen, _("a quote inside an unquoted field"));
				return -1;
			} else {
				c->pos++;
			}
			if (bl == CSV_FIELD_MAX) {
				str_printf(why, whylen, _("a field is longer than %d bytes"),
				           CSV_FIELD_MAX);
				return -1;
			}
			buf[bl++] = ch;
		}
	}
}

static void
fields_free(char **f, size_t nf)
{
	for (size_t i = 0; i < nf; i++)
		secmem_free(f[i], CSV_FIELD_MAX + 1);
}

static char *
read_input(const char *path, size_t *len, char *why, size_t whylen)
{
	char *buf;

	if (strcmp(path, "-") == 0) {
		size_t cap = 65536, n = 0, k;

		buf = malloc(cap + 1);
		while (buf && (k = fread(buf + n, 1, cap - n, stdin)) > 0) {
			n += k;
			if (n == cap) {
				char *q;

				if (cap >= CSV_MAX) {
					free(buf);
					str_printf(why, whylen, _("the input is larger than %d MiB"),
					           CSV_MAX >> 20);
					return NULL;
				}
				q = realloc(buf, cap * 2 + 1);
				if (!q) {
					free(buf);
					buf = NULL;
					break;
				}
				buf = q;
				cap *= 2;
			}
		}
		if (!buf) {
			str_copy(why, whylen, _("out of memory"));
			return NULL;
		}
		buf[n] = '\0';
		*len = n;
		return buf;
	}
	{
		char fwhy[FILE_WHY_MAX];

		buf = file_read_checked(path, CSV_MAX, len, fwhy, sizeof fwhy);
		if (!buf)
			str_copy(why, whylen, fwhy);
		return buf;
	}
}

/* ---- import ---- */

struct row {
	unsigned line;
	struct account a;
	char *pw, *ipw;            /* secmem or NULL */
};

static bool
yes_no(const char *v, bool *out)
{
	if (!*v || !strcasecmp(v, "no") || !strcmp(v, "0") || !strcasecmp(v, "false")) {
		*out = false;
		return true;
	}
	if (!strcasecmp(v, "yes") || !strcmp(v, "1") || !strcasecmp(v, "true")) {
		*out = true;
		return true;
	}
	return false;
}

static char *
secret_copy(const char *v)
{
	char *s = secmem_alloc(ACCT_SECRET_MAX + 1);

	if (s && str_copy(s, ACCT_SECRET_MAX + 1, v) < 0) {
		secmem_free(s, ACCT_SECRET_MAX + 1);
		return NULL;
	}
	return s;
}

static void
row_free(struct row *r)
{
	if (r->pw)
		secmem_free(r->pw, ACCT_SECRET_MAX + 1);
	if (r->ipw)
		secmem_free(r->ipw, ACCT_SECRET_MAX + 1);
	r->pw = r->ipw = NULL;
}

/* One data row into r: its account by `account add`'s code, its
 * passwords. 0 or an exit status, the reason printed with its line. */
static int
import_row(struct cli_ctx *c, char **f, size_t nf, const int *col, size_t ncol,
           unsigned line, struct row *r)
{
	char *args[2 * NCOLUMNS + 1];
	char ctx[64];
	int n = 0, rc;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->line = line;
	str_printf(ctx, sizeof ctx, "line %u: ", line);
	if (nf != ncol) {
		fprintf(stderr, _("fluenzr-tui: line %u: %zu fields where the header has %zu\n"),
		        line, nf, ncol);
		return EX_DATAERR;
	}
	for (i = 0; i < ncol; i++) {
		const struct column *k = &columns[col[i]];
		const char *why;

		if (!k->option) {
			if (!f[i][0])
				continue;
			if ((why = valid_secret(f[i]))) {
				fprintf(stderr, _("fluenzr-tui: line %u: invalid %s: %s\n"), line,
				        k->name, why);
				return EX_DATAERR;
			}
			if (!(*(col[i] == (int)COL_PASSWORD ? &r->pw : &r->ipw) = secret_copy(f[i]))) {
				fprintf(stderr, _("fluenzr-tui: line %u: %s: out of locked memory\n"),
				        line, k->name);
				return EX_OSERR;
			}
			continue;
		}
		if (k->flag) {
			bool on;

			if (!yes_no(f[i], &on)) {
				fprintf(stderr, _("fluenzr-tui: line %u: invalid %s: '%.40s' is "
				        "not yes or no\n"), line, k->name, f[i]);
				return EX_DATAERR;
			}
			if (on)
				args[n++] = (char *)k->option;
			continue;
		}
		/* An empty cell is an option not given (its default). */
		if (!f[i][0])
			continue;
		args[n++] = (char *)k->option;
		args[n++] = f[i];
	}
	args[n] = NULL;
	cli_error_context(ctx);
	rc = cli_account_build(c, n, args, &r->a);
	cli_error_context(NULL);
	if (rc && rc != EX_DATAERR && rc != EX_USAGE && rc != EX_NOINPUT)
		return rc;
	if (rc) {
		if (rc == EX_USAGE)
			fprintf(stderr, _("fluenzr-tui: line %u: invalid email: missing\n"), line);
		return EX_DATAERR;
	}
	return 0;
}

/* A secrets file: CSV with the header email,password[,imap-password]. */
static int
apply_secrets(const char *path, struct row *rows, size_t nrows)
{
	char why[256], *f[CSV_COLS_MAX];
	size_t len, nf, i;
	char *text = read_input(path, &len, why, sizeof why);
	struct csv c = { NULL, 0, 0, 1, 1 };
	int k, rc = 0, ipw_col = -1;

	if (!text) {
		fprintf(stderr, _("fluenzr-tui: --secrets %s: %s\n"), path, why);
		return EX_NOINPUT;
	}
	c.p = text;
	c.len = len;
	k = csv_record(&c, f, &nf, why, sizeof why);
	if (k <= 0 || nf < 2 || strcmp(f[0], "email") || strcmp(f[1], "password") ||
	    (nf == 3 && strcmp(f[2], "imap-password")) || nf > 3) {
		fprintf(stderr, _("fluenzr-tui: --secrets %s: line 1: the header must be "
		        "email,password[,imap-password]\n"), path);
		rc = EX_DATAERR;
		goto out;
	}
	if (nf == 3)
		ipw_col = 2;
	fields_free(f, nf);
	nf = 0;
	while ((k = csv_record(&c, f, &nf, why, sizeof why)) > 0) {
		struct row *r = NULL;

		if (nf == 1 && !f[0][0]) {
			fields_free(f, nf);
			nf = 0;
			continue;               /* an empty line */
		}
		if (nf < 2 || nf > 3) {
			fprintf(stderr, _("fluenzr-tui: --secrets %s: line %u: wants 2 or 3 fields\n"),
			        path, c.line);
			rc = EX_DATAERR;
			goto out;
		}
		for (i = 0; i < nrows; i++)
			if (strcasecmp(rows[i].a.email, f[0]) == 0)
				r = &rows[i];
		if (!r) {
			fprintf(stderr, _("fluenzr-tui: --secrets %s: line %u: no account %.254s "
			        "in the import\n"), path, c.line, f[0]);
			rc = EX_DATAERR;
			goto out;
		}
		for (int w = 1; w < (int)nf; w++) {
			char **dst = w == 1 ? &r->pw : &r->ipw;
			const char *why2 = valid_secret(f[w]);

			if (w == 2 && ipw_col < 0)
				break;
			if (!f[w][0])
				continue;
			if (why2) {
				fprintf(stderr, _("fluenzr-tui: --secrets %s: line %u: invalid %s: %s\n"),
				        path, c.line, w == 1 ? "password" : "imap-password", why2);
				rc = EX_DATAERR;
				goto out;
			}
			if (*dst)
				secmem_free(*dst, ACCT_SECRET_MAX + 1);
			*dst = secret_copy(f[w]);
			if (!*dst) {
				rc = EX_OSERR;
				goto out;
			}
		}
		fields_free(f, nf);
		nf = 0;
	}
	if (k < 0) {
		fprintf(stderr, _("fluenzr-tui: --secrets %s: line %u: %s\n"), path, c.line, why);
		rc = EX_DATAERR;
	}
out:
	fields_free(f, nf);
	secmem_wipe(text, len);
	free(text);
	return rc;
}

int
cli_account_import(struct cli_ctx *c, int argc, char **argv)
{
	const char *path = NULL, *secrets = NULL;
	bool dry = false, cont = false, pw_column = false;
	char why[256], err[512] = "", *f[CSV_COLS_MAX];
	int col[CSV_COLS_MAX];
	size_t ncol, nf = 0, nrows = 0, cap = 0, i, nbad = 0, added = 0;
	struct row *rows = NULL;
	struct csv cv = { NULL, 0, 0, 1, 1 };
	char *text = NULL;
	size_t len = 0;
	int i_arg, k, rc = 0;

	for (i_arg = 2; i_arg < argc; i_arg++) {
		const char *a = argv[i_arg], *v;
		bool m;

		k = cli_global_option(c, argc, argv, &i_arg);
		if (k < 0)
			return EX_USAGE;
		if (k > 0)
			continue;
		if (strcmp(a, "--dry-run") == 0) {
			dry = true;
			continue;
		}
		if (strcmp(a, "--continue") == 0) {
			cont = true;
			continue;
		}
		v = cli_opt_value(argc, argv, &i_arg, "--secrets", &m);
		if (m) {
			if (!v)
				return EX_USAGE;
			secrets = v;
			continue;
		}
		if ((a[0] == '-' && a[1]) || path) {
			fprintf(stderr, _("fluenzr-tui: unexpected argument '%s'\n"), a);
			return EX_USAGE;
		}
		path = a;
	}
	if (!path) {
		fprintf(stderr, _("fluenzr-tui: account import needs a file (or - for "
		        "standard input)\n"));
		return EX_USAGE;
	}
	if (secrets && strcmp(secrets, "-") == 0 && strcmp(path, "-") == 0) {
		fprintf(stderr, _("fluenzr-tui: the accounts and --secrets cannot both be "
		        "standard input\n"));
		return EX_USAGE;
	}
	text = read_input(path, &len, why, sizeof why);
	if (!text) {
		fprintf(stderr, _("fluenzr-tui: %s: %s\n"), path, why);
		return EX_NOINPUT;
	}
	cv.p = text;
	cv.len = len;

	/* The header: the columns by name, each once, email among them. */
	k = csv_record(&cv, f, &nf, why, sizeof why);
	if (k <= 0) {
		fprintf(stderr, _("fluenzr-tui: %s: line 1: %s\n"), path,
		        k < 0 ? why : _("no header (email,smtp-host,... see fluenzr-tui(1))"));
		rc = EX_DATAERR;
		goto out;
	}
	ncol = nf;
	for (i = 0; i < nf; i++) {
		size_t j;

		for (j = 0; j < NCOLUMNS && strcmp(f[i], columns[j].name); j++)
			;
		for (size_t p = 0; j < NCOLUMNS && p < i; p++)
			if (col[p] == (int)j)
				j = NCOLUMNS + 1;
		if (j >= NCOLUMNS) {
			fprintf(stderr, _("fluenzr-tui: %s: line 1: %s column '%.64s'\n"), path,
			        j == NCOLUMNS ? "unknown" : "repeated", f[i]);
			rc = EX_DATAERR;
			goto out;
		}
		col[i] = (int)j;
		if (j == COL_PASSWORD || j == COL_IMAP_PASSWORD)
			pw_column = true;
	}
	for (i = 0; i < ncol && col[i] != 0; i++)
		;
	if (i == ncol) {
		fprintf(stderr, _("fluenzr-tui: %s: line 1: no email column\n"), path);
		rc = EX_DATAERR;
		goto out;
	}
	fields_free(f, nf);
	nf = 0;

	/* Every row, checked; the bad ones named. */
	while ((k = csv_record(&cv, f, &nf, why, sizeof why)) > 0) {
		struct row r;
		int e;

		if (nf == 1 && !f[0][0]) {
			fields_free(f, nf);
			nf = 0;
			continue;               /* an empty line */
		}
		if (nrows + nbad >= IMPORT_ROWS_MAX) {
			fprintf(stderr, _("fluenzr-tui: %s: more than %d rows\n"), path,
			        IMPORT_ROWS_MAX);
			rc = EX_DATAERR;
			goto out;
		}
		e = import_row(c, f, nf, col, ncol, cv.line, &r);
		fields_free(f, nf);
		nf = 0;
		if (e == 0) {
			for (i = 0; i < nrows; i++)
				if (strcasecmp(rows[i].a.email, r.a.email) == 0)
					break;
			if (i < nrows) {
				fprintf(stderr, _("fluenzr-tui: line %u: invalid email: %s is also on "
				        "line %u\n"), r.line, r.a.email, rows[i].line);
				e = EX_DATAERR;
			}
		}
		if (e != 0) {
			row_free(&r);
			if (e != EX_DATAERR) {
				rc = e;
				goto out;
			}
			nbad++;
			continue;
		}
		if (nrows == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct row *v = realloc(rows, nc * sizeof(*v));

			if (!v) {
				row_free(&r);
				rc = EX_OSERR;
				goto out;
			}
			rows = v;
			cap = nc;
		}
		rows[nrows++] = r;
	}
	if (k < 0) {
		fprintf(stderr, _("fluenzr-tui: %s: line %u: %s\n"), path, cv.line, why);
		rc = EX_DATAERR;
		goto out;
	}
	if (secrets && (rc = apply_secrets(secrets, rows, nrows)) != 0)
		goto out;
	if (nbad && !cont) {
		char good[128];

		str_printf(good, sizeof good, ngettext("the %zu good one", "the %zu good ones",
		           nrows), nrows);
		fprintf(stderr, ngettext("fluenzr-tui: %zu row refused: nothing imported (fix "
		        "them, or --continue to import %s)\n", "fluenzr-tui: %zu rows refused: "
		        "nothing imported (fix them, or --continue to import %s)\n", nbad),
		        nbad, good);
		rc = EX_DATAERR;
		goto out;
	}
	if (dry) {
		for (i = 0; i < nrows; i++)
			printf(_("would add %s (%s:%u %s)%s\n"), rows[i].a.email, rows[i].a.smtp_host,
			       rows[i].a.smtp_port, security_name(rows[i].a.smtp_security),
			       rows[i].pw ? "" : _(" without a password"));
		printf(ngettext("%zu account to add, %zu refused (dry run: nothing written)\n",
		       "%zu accounts to add, %zu refused (dry run: nothing written)\n", nrows),
		       nrows, nbad);
		rc = nbad ? EX_DATAERR : 0;
		goto out;
	}
	if ((rc = cli_open_store(c, true, true)) != 0)
		goto out;
	if (!cont) {
		/* One transaction: all of them, or none. */
		struct account *v = calloc(nrows ? nrows : 1, sizeof(*v));
		const char **pw = calloc(nrows ? nrows : 1, sizeof(*pw));
		const char **ipw = calloc(nrows ? nrows : 1, sizeof(*ipw));
		size_t failed = 0;
		int e;

		if (!v || !pw || !ipw) {
			free(v);
			free(pw);
			free(ipw);
			rc = EX_OSERR;
			goto out;
		}
		for (i = 0; i < nrows; i++) {
			v[i] = rows[i].a;
			pw[i] = rows[i].pw;
			ipw[i] = rows[i].ipw;
		}
		e = store_account_add_many(c->st, v, pw, ipw, nrows, &failed, err, sizeof err);
		free(v);
		free(pw);
		free(ipw);
		if (e != STORE_OK) {
			fprintf(stderr, _("fluenzr-tui: line %u: %s: %s: nothing imported\n"),
			        nrows ? rows[failed].line : 0, nrows ? rows[failed].a.email : "",
			        e == STORE_EXISTS ? _("the account exists already") :
			        err[0] ? err : store_strerror(e));
			rc = cli_store_exit(e);
			goto out;
		}
		added = nrows;
	} else {
		for (i = 0; i < nrows; i++) {
			int e = store_account_add(c->st, &rows[i].a, rows[i].pw, rows[i].ipw,
			                          err, sizeof err);

			if (e != STORE_OK) {
				fprintf(stderr, _("fluenzr-tui: line %u: %s: %s\n"), rows[i].line,
				        rows[i].a.email, e == STORE_EXISTS ?
				        _("the account exists already") : err[0] ? err : store_strerror(e));
				nbad++;
				if (e != STORE_EXISTS && e != STORE_EINVAL) {
					rc = cli_store_exit(e);
					goto out;
				}
				continue;
			}
			added++;
		}
		if (nbad)
			rc = EX_DATAERR;
	}
	printf(ngettext("imported %zu account\n", "imported %zu accounts\n", added), added);
	if (nbad)
		printf(ngettext("%zu row refused (see above)\n", "%zu rows refused (see above)\n", nbad), nbad);
out:
	if (pw_column && strcmp(path, "-") != 0 && added)
		fprintf(stderr, _("fluenzr-tui: warning: %s holds passwords in clear: delete "
		        "it now (shred -u %s)\n"), path, path);
	if (secrets && strcmp(secrets, "-") != 0 && added)
		fprintf(stderr, _("fluenzr-tui: warning: %s holds passwords in clear: delete "
		        "it now (shred -u %s)\n"), secrets, secrets);
	fields_free(f, nf);
	for (i = 0; i < nrows; i++)
		row_free(&rows[i]);
	free(rows);
	secmem_wipe(text, len);
	free(text);
	return rc;
}

/* ---- export ---- */

static void
csv_field(FILE *out, const char *v, bool last)
{
	if (strpbrk(v, ",\"\r\n")) {
		fputc('"', out);
		for (; *v; v++) {
			if (*v == '"')
				fputc('"', out);
			fputc(*v, out);
		}
		fputc('"', out);
	} else {
		fputs(v, out);
	}
	fputc(last ? '\n' : ',', out);
}

struct export_ctx {
	FILE *out;
	int bad;
};

static int
export_one(const struct account *a, void *ud)
{
	FILE *out = ((struct export_ctx *)ud)->out;
	char port[8], iport[8];

	str_printf(port, sizeof port, "%u", a->smtp_port);
	str_printf(iport, sizeof iport, "%u", a->imap_port);
	csv_field(out, a->email, false);
	csv_field(out, a->display_name, false);
	csv_field(out, a->preset, false);
	csv_field(out, a->smtp_host, false);
	csv_field(out, port, false);
	csv_field(out, security_name(a->smtp_security), false);
	csv_field(out, a->username, false);
	csv_field(out, a->imap_host, false);
	csv_field(out, a->imap_host[0] ? iport : "", false);
	csv_field(out, a->imap_host[0] ? security_name(a->imap_security) : "", false);
	csv_field(out, a->imap_username, false);
	csv_field(out, a->ca_file, false);
	csv_field(out, a->pin, false);
	csv_field(out, a->allow_plain ? "yes" : "no", false);
	csv_field(out, a->allow_old_tls ? "yes" : "no", true);
	return 0;
}

static void
export_bad(const char *key, const char *problem, void *ud)
{
	struct export_ctx *x = ud;

	x->bad++;
	fprintf(stderr, _("fluenzr-tui: account %s skipped: %s\n"), key, problem);
}

int
cli_account_export(struct cli_ctx *c, int argc, char **argv)
{
	struct export_ctx x = { stdout, 0 };
	size_t i;
	int k, rc, e;

	for (int a = 2; a < argc; a++) {
		k = cli_global_option(c, argc, argv, &a);
		if (k < 0)
			return EX_USAGE;
		if (k > 0)
			continue;
		fprintf(stderr, _("fluenzr-tui: unexpected argument '%s'\n"), argv[a]);
		return EX_USAGE;
	}
	/* Verified records only: what is exported is imported elsewhere. */
	if ((rc = cli_open_store(c, false, true)) != 0)
		return rc;
	/* The header: the import's columns without the passwords. */
	for (i = 0; i < COL_PASSWORD; i++)
		printf("%s%c", columns[i].name, i + 1 < COL_PASSWORD ? ',' : '\n');
	e = store_account_foreach(c->st, export_one, export_bad, &x);
	fflush(stdout);
	if (e != STORE_OK)
		return cli_store_fail(e, NULL);
	return x.bad ? EX_DATAERR : 0;
}
