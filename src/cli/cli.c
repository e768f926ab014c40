/* What every command shares: the global options, the store a command works
 * on (opened and unlocked through app/), the presets, and the helpers the
 * command files (cli_account.c, cli_presets.c, cli_store.c, cli_test.c)
 * use to parse options and report errors. Each command validates at the
 * edge and maps failures to sysexits codes. Passwords never come from argv. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

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

/* Why read_secret() failed, in words. */
const char *
cli_secret_error(int e, const char *too_long)
{
	if (e == EMSGSIZE)
		return too_long;
	if (e == EILSEQ)
		return _("it contains a NUL byte (is the file UTF-16?)");
	return strerror(e);
}

int
cli_parse_fd(const char *opt, const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > INT_MAX) {
		fprintf(stderr, _("fluenzr-tui: %s wants a file descriptor number, not '%s'\n"), opt, s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int
cli_parse_seconds(const char *opt, const char *s, int max, int *ms)
{
	char *end;
	double v = s ? strtod(s, &end) : 0;

	if (!s || end == s || *end || !(v > 0 && v <= max)) {
		fprintf(stderr, _("fluenzr-tui: %s wants seconds between 0 and %d\n"), opt, max);
		return -1;
	}
	*ms = (int)(v * 1000);
	if (*ms < 1)
		*ms = 1;
	return 0;
}

/* "--opt VALUE" or "--opt=VALUE": the value, advancing *i; NULL if absent. */
const char *
cli_opt_value(int argc, char **argv, int *i, const char *name, bool *matched)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	*matched = false;
	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=') {
		*matched = true;
		return a + n + 1;
	}
	if (a[n] != '\0')
		return NULL;
	*matched = true;
	if (*i + 1 >= argc) {
		fprintf(stderr, _("fluenzr-tui: %s needs a value\n"), name);
		return NULL;
	}
	return argv[++*i];
}

int
cli_global_option(struct cli_ctx *c, int argc, char **argv, int *i)
{
	static const char *names[] = { "--store", "--key-file", "--passphrase-fd" };
	const char *v;
	bool m;
	size_t k;

	for (k = 0; k < sizeof names / sizeof names[0]; k++) {
		v = cli_opt_value(argc, argv, i, names[k], &m);
		if (!m)
			continue;
		if (!v)
			return -1;
		if (k == 0)
			c->store_dir = v;
		else if (k == 1)
			c->key_file = v;
		else if (cli_parse_fd(names[k], v, &c->passphrase_fd) < 0)
			return -1;
		return 1;
	}
	return 0;
}

const char *
cli_passphrase(struct cli_ctx *c, const char *prompt)
{
	char err[APP_ERR_MAX];
	const char *pass = app_passphrase(&c->passphrase, c->passphrase_fd,
	                                  prompt, err, sizeof err);

	if (!pass)
		fprintf(stderr, "fluenzr-tui: %s\n", err);
	return pass;
}

int
cli_store_exit(int e)
{
	return app_store_exit(e);
}

int
cli_store_fail(int e, const char *err)
{
	fprintf(stderr, "fluenzr-tui: %s\n", err && *err ? err : store_strerror(e));
	return cli_store_exit(e);
}

int
cli_open_store(struct cli_ctx *c, bool create, bool unlock)
{
	char err[APP_ERR_MAX];
	int rc;

	if (!c->st) {
		rc = app_store_open(c->store_dir, c->key_file, create, &c->st, err,
		                    sizeof err);
		if (rc != 0) {
			fprintf(stderr, "fluenzr-tui: %s\n", err);
			return rc;
		}
	}
	if (!unlock)
		return 0;
	rc = app_store_unlock(c->st, c->passphrase_fd, &c->passphrase, true, NULL,
	                      err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "fluenzr-tui: %s\n", err);
	return rc;
}

static void
warn_preset(const char *msg, void *ud)
{
	(void)ud;
	fprintf(stderr, _("fluenzr-tui: preset skipped: %s\n"), msg);
}

int
cli_load_presets(struct cli_ctx *c)
{
	if (c->presets_loaded)
		return 0;
	if (preset_load_all(&c->presets, warn_preset, NULL) < 0) {
		fprintf(stderr, _("fluenzr-tui: cannot load presets\n"));
		return EX_CONFIG;
	}
	c->presets_loaded = true;
	return 0;
}

void
cli_close(struct cli_ctx *c)
{
	if (c->st)
		store_close(c->st);
	c->st = NULL;
	if (c->presets_loaded)
		preset_list_free(&c->presets);
	c->presets_loaded = false;
	app_passphrase_free(&c->passphrase);
}

/* Where the value came from, for a message that names it ("line 4: "). */
static char err_context[128];

void
cli_error_context(const char *ctx)
{
	str_copy(err_context, sizeof err_context, ctx ? ctx : "");
}

void
cli_pad_to(const char *s, int cols)
{
	wchar_t w[64];
	size_t n = mbstowcs(w, s, sizeof w / sizeof w[0] - 1);
	int used = n == (size_t)-1 ? (int)strlen(s) : wcswidth(w, n);

	if (used < 0)
		used = (int)strlen(s);
	fputs(s, stdout);
	for (; used < cols; used++)
		putchar(' ');
}

int
cli_bad_field(const char *field, const char *why)
{
	fprintf(stderr, _("fluenzr-tui: %sinvalid %s: %s\n"), err_context, field, why);
	return EX_DATAERR;
}

/* One server object, of an account (with its user name) or of a preset
 * (user NULL: none). */
void
cli_json_server(struct json *j, const char *host, unsigned port,
                enum security sec, const char *user)
{
	json_obj_begin(j);
	json_key(j, "host"); json_str(j, host);
	json_key(j, "port"); json_int(j, port);
	json_key(j, "security"); json_str(j, security_name(sec));
	if (user) {
		json_key(j, "username"); json_str(j, user);
	}
	json_obj_end(j);
}

void
cli_json_health(struct json *j, const struct app_health_info *h,
                const struct store_history *hist)
{
	size_t i;

	json_key(j, "state"); json_str(j, app_health_name(h->state));
	json_key(j, "since");
	h->state == APP_HEALTH_FAILING && h->since > 0 ? json_int(j, h->since) : json_null(j);
	json_key(j, "why"); json_str(j, h->why);
	json_key(j, "strip"); json_str(j, h->strip);
	json_key(j, "secret_age_days");
	h->secret_age_days >= 0 ? json_int(j, h->secret_age_days) : json_null(j);
	json_key(j, "secret_reminder"); json_bool(j, h->secret_old);
	if (!hist)
		return;
	json_key(j, "history");
	json_arr_begin(j);
	for (i = 0; i < hist->n; i++) {
		json_obj_begin(j);
		json_key(j, "time"); json_int(j, hist->ev[i].when);
		json_key(j, "category"); json_str(j, hist->ev[i].category);
		json_key(j, "reason"); json_str(j, hist->ev[i].reason);
		json_key(j, "ms"); json_int(j, hist->ev[i].ms);
		json_obj_end(j);
	}
	json_arr_end(j);
}
