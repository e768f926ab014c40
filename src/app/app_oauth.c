/* OAuth for the commands and the console alike: the client of an account
 * (its client secret opened from the store), a valid access token before a
 * test (refreshed when it has expired, a rotated refresh token saved at
 * once), the device flow's sign-in, and a failure of the authorization
 * server turned into a diagnosis. Tokens live in locked memory only. */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "secmem.h"
#include "util.h"

/* "EXPIRY TOKEN" as the access token is sealed. */
#define ACCESS_LEN (OAUTH_TOKEN_MAX + 32)
/* A token this close to its expiry is refreshed before it is used. */
#define EXPIRY_MARGIN_S 60

static void
client_of(const struct account *a, const char *secret, int cancel_fd,
          struct oauth_client *c)
{
	memset(c, 0, sizeof(*c));
	c->token_url = a->oauth_token_url;
	c->device_url = a->oauth_device_url;
	c->scope = a->oauth_scope;
	c->client_id = a->oauth_client_id;
	c->client_secret = secret;
	c->ca_file = a->ca_file;
	c->timeout_ms = 15000;
	c->cancel_fd = cancel_fd;
}

/* The failure e as a diagnosis, and its title and first fix in err. */
static int
grant_failed(const struct account *a, const struct oauth_error *e,
             struct diagnosis *dg, char *err, size_t errlen)
{
	struct diagnosis local;
	char said[600];

	if (dg == NULL)
		dg = &local;
	str_printf(said, sizeof(said), "%s%s%s", e->code,
	           e->description[0] ? ": " : "", e->description);
	diag_oauth_grant(e->code, e->aadsts, said, a, dg);
	str_printf(err, errlen, "%s: %s (%s)%s%s", a->email, dg->title, said,
	           dg->nfixes ? "\n  fix: " : "", dg->nfixes ? dg->fixes[0] : "");
	for (size_t i = 1; i < dg->nfixes; i++) {
		size_t n = strlen(err);

		str_printf(err + n, errlen - n, "\n  fix: %s", dg->fixes[i]);
	}
	return diag_exit_code(dg->cat);
}

/* Opens the secret f of a into buf (buflen): "" when none is stored. */
static int
secret_open(struct store *st, const struct account *a, enum secret_field f,
            char *buf, size_t buflen, char *err, size_t errlen)
{
	int e = store_secret_get(st, a->email, f, buf, buflen);

	if (e == STORE_ENOENT) {
		buf[0] = '\0';
		return 0;
	}
	if (e != STORE_OK) {
		str_printf(err, errlen, "%s: OAuth secret: %s", a->email, store_strerror(e));
		return app_store_exit(e);
	}
	return 0;
}

/* Seals what t brought: the access token with its expiry, and the refresh
 * token when the server sent one (a rotated token replaces the old one
 * now, or the next refresh would use a dead one). */
static int
tokens_save(struct store *st, const struct account *a, const struct oauth_tokens *t,
            char *err, size_t errlen)
{
	char *val = secmem_alloc(ACCESS_LEN);
	char serr[256] = "";
	int e = STORE_OK;

	if (val == NULL) {
		str_printf(err, errlen, "%s: out of locked memory", a->email);
		return EX_OSERR;
	}
	if (t->refresh && t->refresh[0])
		e = store_secret_set(st, a->email, SECRET_OAUTH_REFRESH, t->refresh,
		                     serr, sizeof(serr));
	if (e == STORE_OK) {
		str_printf(val, ACCESS_LEN, "%lld %s", (long long)t->expires_at, t->access);
		e = store_secret_set(st, a->email, SECRET_OAUTH_ACCESS, val, serr,
		                     sizeof(serr));
	}
	secmem_free(val, ACCESS_LEN);
	if (e != STORE_OK) {
		str_printf(err, errlen, "%s: cannot save the tokens: %s", a->email,
		           serr[0] ? serr : store_strerror(e));
		return app_store_exit(e);
	}
	return 0;
}

/* The end of a sign-in: t sealed, then wiped. A sign-in without a
 * refresh token would last only as long as its access token. */
static int
signed_in(struct store *st, const struct account *a, struct oauth_tokens *t,
          char *err, size_t errlen)
{
	int rc;

	if (t->refresh[0] == '\0') {
		str_printf(err, errlen, "%s: the authorization server issued no refresh "
		           "token: add offline_access to the scopes (--oauth-scope)",
		           a->email);
		rc = EX_PROTOCOL;
	} else {
		rc = tokens_save(st, a, t, err, errlen);
	}
	oauth_tokens_free(t);
	return rc;
}

/* The stored access token into tok when it is still good for a while. */
static bool
access_current(const char *val, char *tok, size_t toklen)
{
	char *end = NULL;
	long long exp = strtoll(val, &end, 10);

	if (end == NULL || end == val || *end != ' ' || exp < 0)
		return false;
	/* Without an expiry the token is refreshed each time: safe, if slow. */
	if (exp == 0 || exp - EXPIRY_MARGIN_S <= (long long)time(NULL))
		return false;
	return str_copy(tok, toklen, end + 1) == 0 && tok[0] != '\0';
}

void
app_oauth_settings(struct account *a, const struct preset *p)
{
	struct account t;

	if (!a->oauth) {
		a->oauth_token_url[0] = a->oauth_device_url[0] = a->oauth_auth_url[0] = '\0';
		a->oauth_scope[0] = a->oauth_client_id[0] = '\0';
		return;
	}
	if (p == NULL)
		return;
	t = *a;
	preset_apply(p, &t, ~0u);
	str_copy(a->oauth_token_url, sizeof a->oauth_token_url, t.oauth_token_url);
	str_copy(a->oauth_device_url, sizeof a->oauth_device_url, t.oauth_device_url);
	str_copy(a->oauth_auth_url, sizeof a->oauth_auth_url, t.oauth_auth_url);
	str_copy(a->oauth_scope, sizeof a->oauth_scope, t.oauth_scope);
}

void
app_oauth_keys_free(struct app_oauth_keys *k)
{
	if (k->access)
		secmem_free(k->access, ACCESS_LEN);
	if (k->refresh)
		secmem_free(k->refresh, STORE_SECRET_MAX + 1);
	if (k->secret)
		secmem_free(k->secret, STORE_SECRET_MAX + 1);
	k->access = k->refresh = k->secret = NULL;
}

int
app_oauth_keys_open(struct store *st, const struct account *a,
                    struct app_oauth_keys *k, char *err, size_t errlen)
{
	int rc;

	err[0] = '\0';
	k->access = secmem_alloc(ACCESS_LEN);
	k->refresh = secmem_alloc(STORE_SECRET_MAX + 1);
	k->secret = secmem_alloc(STORE_SECRET_MAX + 1);
	if (!k->access || !k->refresh || !k->secret) {
		app_oauth_keys_free(k);
		str_printf(err, errlen, "%s: out of locked memory", a->email);
		return EX_OSERR;
	}
	if ((rc = secret_open(st, a, SECRET_OAUTH_ACCESS, k->access, ACCESS_LEN,
	                      err, errlen)) != 0 ||
	    (rc = secret_open(st, a, SECRET_OAUTH_REFRESH, k->refresh,
	                      STORE_SECRET_MAX + 1, err, errlen)) != 0 ||
	    (rc = secret_open(st, a, SECRET_OAUTH_CLIENT, k->secret,
	                      STORE_SECRET_MAX + 1, err, errlen)) != 0)
		app_oauth_keys_free(k);
	return rc;
}

/* What a refresh brought, kept in *fresh for the store: the newest access
 * token, and the newest refresh token any reply rotated (a later reply
 * without one does not undo an earlier rotation). */
static void
fresh_keep(struct oauth_tokens *t, struct oauth_tokens *fresh)
{
	/* Both buffers are OAUTH_TOKEN_MAX + 1 (oauth_tokens_free()). */
	if (fresh->refresh && fresh->refresh[0] && t->refresh[0] == '\0')
		memcpy(t->refresh, fresh->refresh, strlen(fresh->refresh) + 1);
	oauth_tokens_free(fresh);
	*fresh = *t;
}

int
app_oauth_token(const struct account *a, struct app_oauth_keys *k, bool force,
                int cancel_fd, char *tok, size_t toklen,
                struct oauth_tokens *fresh, bool *refreshed,
                struct diagnosis *dg, char *err, size_t errlen)
{
	struct oauth_client c;
	struct oauth_tokens t;
	struct oauth_error e;
	int rc = 0;

	err[0] = tok[0] = '\0';
	if (refreshed)
		*refreshed = false;
	if (!force && access_current(k->access, tok, toklen))
		return 0;
	client_of(a, k->secret, cancel_fd, &c);
	if (oauth_refresh(&c, k->refresh, &t, &e) < 0)
		return grant_failed(a, &e, dg, err, errlen);
	/* A second refresh (the retry) must use the rotated token, and the
	 * stored access token is no longer the one to use. */
	if (t.refresh[0] && str_copy(k->refresh, STORE_SECRET_MAX + 1, t.refresh) < 0) {
		str_printf(err, errlen, "%s: the refresh token is too long", a->email);
		rc = EX_PROTOCOL;
	}
	k->access[0] = '\0';
	if (rc == 0 && str_copy(tok, toklen, t.access) < 0) {
		str_printf(err, errlen, "%s: the access token is too long", a->email);
		rc = EX_PROTOCOL;
	}
	if (rc != 0) {
		oauth_tokens_free(&t);
		secmem_wipe(tok, toklen);
		return rc;
	}
	fresh_keep(&t, fresh);
	if (refreshed)
		*refreshed = true;
	return 0;
}

int
app_oauth_tokens_save(struct store *st, const struct account *a,
                      const struct oauth_tokens *t, char *err, size_t errlen)
{
	return tokens_save(st, a, t, err, errlen);
}

int
app_oauth_access(struct store *st, const struct account *a, bool force,
                 char *tok, size_t toklen, bool *refreshed,
                 struct diagnosis *dg, char *err, size_t errlen)
{
	struct app_oauth_keys k;
	struct oauth_tokens fresh;
	bool r = false;
	int rc;

	tok[0] = '\0';
	memset(&fresh, 0, sizeof fresh);
	if (refreshed)
		*refreshed = false;
	if ((rc = app_oauth_keys_open(st, a, &k, err, errlen)) != 0)
		return rc;
	rc = app_oauth_token(a, &k, force, -1, tok, toklen, &fresh, &r, dg, err,
	                     errlen);
	app_oauth_keys_free(&k);
	if (rc == 0 && r) {
		rc = tokens_save(st, a, &fresh, err, errlen);
		if (rc != 0)
			secmem_wipe(tok, toklen);
	}
	oauth_tokens_free(&fresh);
	if (rc == 0 && refreshed)
		*refreshed = r;
	return rc;
}

int
app_oauth_device_prepare(struct store *st, const struct account *a,
                         char *secret, size_t secretlen, char *err, size_t errlen)
{
	err[0] = secret[0] = '\0';
	if (!a->oauth) {
		str_printf(err, errlen, "%s signs in with a password, not OAuth "
		           "(edit it with --sign-in oauth)", a->email);
		return EX_USAGE;
	}
	if (a->oauth_device_url[0] == '\0') {
		str_printf(err, errlen, "%s: the provider has no device flow "
		           "(no --oauth-device-url)", a->email);
		return EX_USAGE;
	}
	return secret_open(st, a, SECRET_OAUTH_CLIENT, secret, secretlen, err, errlen);
}

int
app_oauth_device_run(const struct account *a, const char *secret, int cancel_fd,
                     app_oauth_show_fn show, void *ud, struct oauth_tokens *t,
                     struct diagnosis *dg, char *err, size_t errlen)
{
	struct oauth_client c;
	struct oauth_device d;
	struct oauth_error e;
	int rc = 0;

	err[0] = '\0';
	memset(&d, 0, sizeof(d));
	memset(t, 0, sizeof(*t));
	client_of(a, secret, cancel_fd, &c);
	if (oauth_device_start(&c, &d, &e) < 0) {
		rc = grant_failed(a, &e, dg, err, errlen);
		goto out;
	}
	if (show)
		show(&d, ud);
	if (oauth_device_wait(&c, &d, t, &e) < 0)
		rc = grant_failed(a, &e, dg, err, errlen);
out:
	oauth_device_free(&d);
	return rc;
}

int
app_oauth_signed_in(struct store *st, const struct account *a,
                    struct oauth_tokens *t, char *err, size_t errlen)
{
	return signed_in(st, a, t, err, errlen);
}

int
app_oauth_device(struct store *st, const struct account *a, int cancel_fd,
                 app_oauth_show_fn show, void *ud, struct diagnosis *dg,
                 char *err, size_t errlen)
{
	char *secret = secmem_alloc(STORE_SECRET_MAX + 1);
	struct oauth_tokens t;
	int rc;

	if (secret == NULL) {
		str_printf(err, errlen, "%s: out of locked memory", a->email);
		return EX_OSERR;
	}
	rc = app_oauth_device_prepare(st, a, secret, STORE_SECRET_MAX + 1, err,
	                              errlen);
	if (rc == 0)
		rc = app_oauth_device_run(a, secret, cancel_fd, show, ud, &t, dg,
		                          err, errlen);
	if (rc == 0)
		rc = signed_in(st, a, &t, err, errlen);
	secmem_free(secret, STORE_SECRET_MAX + 1);
	return rc;
}

unsigned
app_oauth_port(void)
{
	const char *v = getenv("FLUENZR_OAUTH_PORT");
	char *end = NULL;
	unsigned long n = v && *v ? strtoul(v, &end, 10) : 0;

	return n >= 1024 && n <= 65535 && end && *end == '\0' ? (unsigned)n
	                                                      : APP_OAUTH_PORT;
}

void
app_oauth_tunnel(unsigned port, char *out, size_t len)
{
	char host[256] = "this-host";
	const char *user = getenv("USER");
	struct passwd *pw;

	if (gethostname(host, sizeof host) != 0)
		str_copy(host, sizeof host, "this-host");
	host[sizeof host - 1] = '\0';
	if (user == NULL || user[0] == '\0')
		user = (pw = getpwuid(getuid())) ? pw->pw_name : "you";
	str_printf(out, len, "ssh -L %u:127.0.0.1:%u %s@%s", port, port, user, host);
}

int
app_oauth_browser_prepare(struct store *st, const struct account *a,
                          char *secret, size_t secretlen, char *err,
                          size_t errlen)
{
	err[0] = secret[0] = '\0';
	if (!a->oauth || a->oauth_auth_url[0] == '\0') {
		str_printf(err, errlen, "%s: no OAuth authorization endpoint "
		           "(--oauth-auth-url, or a preset that has one)", a->email);
		return EX_USAGE;
	}
	return secret_open(st, a, SECRET_OAUTH_CLIENT, secret, secretlen, err, errlen);
}

int
app_oauth_browser_run(const struct account *a, const char *secret,
                      unsigned port, bool paste_it, int cancel_fd,
                      app_oauth_url_fn show, app_oauth_paste_fn paste, void *ud,
                      struct oauth_tokens *t, struct diagnosis *dg, char *err,
                      size_t errlen)
{
	char *where = secmem_alloc(OAUTH_URL_MAX * 4);
	char *code = secmem_alloc(OAUTH_URL_MAX * 2);
	char redirect[64], url[OAUTH_URL_MAX * 4];
	struct oauth_client c;
	struct oauth_pkce pk;
	struct oauth_error e;
	int rc = 0, lfd = -1;

	err[0] = '\0';
	memset(t, 0, sizeof(*t));
	memset(&pk, 0, sizeof pk);
	if (!where || !code) {
		str_printf(err, errlen, "%s: out of locked memory", a->email);
		rc = EX_OSERR;
		goto out;
	}
	client_of(a, secret, cancel_fd, &c);
	/* RFC 8252 7.3: a loopback redirect by IP literal; the port is fixed
	 * so that the same ssh -L reaches it. */
	str_printf(redirect, sizeof redirect, "http://127.0.0.1:%u/", port);
	if (oauth_pkce_new(&pk) < 0 ||
	    oauth_auth_url(&c, a->oauth_auth_url, redirect, &pk, url, sizeof url) < 0) {
		str_printf(err, errlen, "%s: cannot make the sign-in address", a->email);
		rc = EX_SOFTWARE;
		goto out;
	}
	if (!paste_it && (lfd = oauth_loopback_listen(port, &e)) < 0) {
		str_printf(err, errlen, "%s: %s", a->email, e.description);
		rc = EX_UNAVAILABLE;
		goto out;
	}
	if (show)
		show(url, ud);
	if (paste_it) {
		if (paste == NULL || paste(where, OAUTH_URL_MAX * 4, ud) < 0) {
			str_printf(err, errlen, "%s: no address was pasted", a->email);
			rc = EX_NOINPUT;
			goto out;
		}
	} else if (oauth_loopback_wait(lfd, cancel_fd, 600, where, OAUTH_URL_MAX * 4,
	                               &e) < 0) {
		rc = grant_failed(a, &e, dg, err, errlen);
		goto out;
	}
	if (oauth_redirect_parse(where, &pk, code, OAUTH_URL_MAX * 2, &e) < 0 ||
	    oauth_code_exchange(&c, code, redirect, &pk, t, &e) < 0)
		rc = grant_failed(a, &e, dg, err, errlen);
out:
	if (lfd >= 0)
		close(lfd);
	secmem_wipe(&pk, sizeof pk);
	secmem_free(where, OAUTH_URL_MAX * 4);
	secmem_free(code, OAUTH_URL_MAX * 2);
	return rc;
}

int
app_oauth_browser(struct store *st, const struct account *a, unsigned port,
                  bool paste_it, int cancel_fd, app_oauth_url_fn show,
                  app_oauth_paste_fn paste, void *ud, struct diagnosis *dg,
                  char *err, size_t errlen)
{
	char *secret = secmem_alloc(STORE_SECRET_MAX + 1);
	struct oauth_tokens t;
	int rc;

	if (secret == NULL) {
		str_printf(err, errlen, "%s: out of locked memory", a->email);
		return EX_OSERR;
	}
	rc = app_oauth_browser_prepare(st, a, secret, STORE_SECRET_MAX + 1, err,
	                               errlen);
	if (rc == 0)
		rc = app_oauth_browser_run(a, secret, port, paste_it, cancel_fd, show,
		                           paste, ud, &t, dg, err, errlen);
	if (rc == 0)
		rc = signed_in(st, a, &t, err, errlen);
	secmem_free(secret, STORE_SECRET_MAX + 1);
	return rc;
}
