/* The grants: a form POSTed to the token or device endpoint through
 * src/http/ (the body, holding a refresh token or a device code, built in
 * locked memory; the reply read in locked memory), the reply read
 * strictly, the tokens copied into locked memory. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base64.h"
#include "http.h"
#include "i18n.h"
#include "oauth.h"
#include "oauth_int.h"
#include "secmem.h"
#include "util.h"

#define FORM_MAX   (OAUTH_TOKEN_MAX * 3 + 4096)
#define DEVICE_CODE_MAX 2048
/* RFC 8628 3.5: 5 s when the server names no interval; never faster. */
#define POLL_DEFAULT_S 5
#define POLL_MAX_S     60

void
oauth_tokens_free(struct oauth_tokens *t)
{
	if (t == NULL)
		return;
	secmem_free(t->access, OAUTH_TOKEN_MAX + 1);
	secmem_free(t->refresh, OAUTH_TOKEN_MAX + 1);
	memset(t, 0, sizeof(*t));
}

void
oauth_device_free(struct oauth_device *d)
{
	if (d == NULL)
		return;
	secmem_free(d->device_code, DEVICE_CODE_MAX + 1);
	memset(d, 0, sizeof(*d));
}

static void
set_error(struct oauth_error *e, long status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
set_error(struct oauth_error *e, long status, const char *code, const char *fmt, ...)
{
	va_list ap;

	memset(e, 0, sizeof(*e));
	e->status = status;
	str_copy(e->code, sizeof(e->code), code);
	va_start(ap, fmt);
	vsnprintf(e->description, sizeof(e->description), fmt, ap);
	va_end(ap);
}

/* ---- the form ------------------------------------------------------------ */

struct form {
	char *buf;           /* locked memory of FORM_MAX */
	size_t len;
	bool overflow;
};

static bool
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Appends "&name=value", value percent-encoded (RFC 6749 B). */
static void
form_add(struct form *f, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t need = strlen(name) + 2 + strlen(value) * 3;

	if (f->overflow || f->len + need + 1 > FORM_MAX) {
		f->overflow = true;
		return;
	}
	if (f->len)
		f->buf[f->len++] = '&';
	memcpy(f->buf + f->len, name, strlen(name));
	f->len += strlen(name);
	f->buf[f->len++] = '=';
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (unreserved(*p)) {
			f->buf[f->len++] = (char)*p;
		} else {
			f->buf[f->len++] = '%';
			f->buf[f->len++] = hex[*p >> 4];
			f->buf[f->len++] = hex[*p & 15];
		}
	}
	f->buf[f->len] = '\0';
}

static void
form_client(struct form *f, const struct oauth_client *c)
{
	form_add(f, "client_id", c->client_id);
	if (c->client_secret && c->client_secret[0])
		form_add(f, "client_secret", c->client_secret);
}

/* ---- one request ---------------------------------------------------------- */

static const char *
transport_code(enum http_result r)
{
	switch (r) {
	case HTTP_TIMEOUT: return "timeout";
	case HTTP_CANCELLED: return "cancelled";
	case HTTP_TLS: case HTTP_CERT: return "tls";
	case HTTP_DNS: return "dns";
	case HTTP_CONNECT: return "connect";
	default: return "http";
	}
}

/* Microsoft puts "AADSTS700016: …" at the start of error_description. */
static void
find_aadsts(struct oauth_error *e)
{
	const char *p = strstr(e->description, "AADSTS");
	size_t n = 6;

	if (p == NULL)
		return;
	while (p[n] >= '0' && p[n] <= '9' && n < sizeof(e->aadsts) - 1)
		n++;
	if (n > 6) {
		memcpy(e->aadsts, p, n);
		e->aadsts[n] = '\0';
	}
}

/* An RFC 6749 5.2 error reply into e; false when the body is not one. */
static bool
read_error(const struct oj *o, long status, struct oauth_error *e)
{
	char code[64];

	if (oj_str(o, "error", code, sizeof(code)) != 1 || code[0] == '\0')
		return false;
	memset(e, 0, sizeof(*e));
	e->status = status;
	str_copy(e->code, sizeof(e->code), code);
	if (oj_str(o, "error_description", e->description, sizeof(e->description)) < 0)
		e->description[0] = '\0';
	find_aadsts(e);
	return true;
}

/* POSTs the form to url; *out is the parsed reply (status in *status) or
 * NULL with e filled for a transport failure or a body that is no JSON
 * object. */
static struct oj *
post_form(const struct oauth_client *c, const char *url, const struct form *f,
          long *status, struct oauth_error *e)
{
	static const struct http_header accept = { "Accept", "application/json" };
	struct http_request rq;
	struct http_response rs;
	struct oj *o = NULL;

	if (f->overflow) {
		set_error(e, 0, "client", _("the request is too long"));
		return NULL;
	}
	http_request_init(&rq, url);
	rq.post_body = f->buf;
	rq.post_len = f->len;
	rq.headers = &accept;
	rq.nheaders = 1;
	rq.ca_file = c->ca_file && c->ca_file[0] ? c->ca_file : NULL;
	rq.sensitive = true;
	rq.timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 15000;
	rq.cancel_fd = c->cancel_fd;
	rq.max_body = OJ_MAX_BYTES;
	rq.max_redirects = 0;
	if (http_perform(&rq, &rs) != HTTP_OK) {
		set_error(e, 0, transport_code(rs.result), "%s", rs.why);
	} else {
		*status = rs.status;
		o = rs.body ? oj_parse(rs.body, rs.len) : NULL;
		if (o == NULL)
			set_error(e, rs.status, "json", _("the authorization server answered "
			          "HTTP %ld without a JSON object"), rs.status);
	}
	http_response_free(&rs);
	return o;
}

/* A successful token reply (RFC 6749 5.1) into t. */
static int
read_tokens(const struct oj *o, long status, struct oauth_tokens *t,
            struct oauth_error *e)
{
	char type[32];
	int64_t expires = 0;

	memset(t, 0, sizeof(*t));
	t->access = secmem_alloc(OAUTH_TOKEN_MAX + 1);
	t->refresh = secmem_alloc(OAUTH_TOKEN_MAX + 1);
	if (t->access == NULL || t->refresh == NULL) {
		oauth_tokens_free(t);
		set_error(e, status, "client", _("out of memory"));
		return -1;
	}
	if (oj_secret(o, "access_token", t->access, OAUTH_TOKEN_MAX + 1) != 1 ||
	    oj_str(o, "token_type", type, sizeof(type)) != 1 ||
	    strcasecmp(type, "bearer") != 0 ||
	    oj_secret(o, "refresh_token", t->refresh, OAUTH_TOKEN_MAX + 1) < 0 ||
	    oj_int(o, "expires_in", 0, 10 * 365 * 86400LL, &expires) < 0 ||
	    oj_str(o, "scope", t->scope, sizeof(t->scope)) < 0) {
		oauth_tokens_free(t);
		set_error(e, status, "json", _("the token reply lacks a bearer "
		          "access_token or has a member of the wrong type"));
		return -1;
	}
	t->expires_at = expires ? (int64_t)time(NULL) + expires : 0;
	return 0;
}

/* POSTs a token request: 0 with t, or -1 with e. */
static int
token_request(const struct oauth_client *c, const struct form *f,
              struct oauth_tokens *t, struct oauth_error *e)
{
	long status = 0;
	struct oj *o = post_form(c, c->token_url, f, &status, e);
	int rc = -1;

	if (o == NULL)
		return -1;
	if (status == 200)
		rc = read_tokens(o, status, t, e);
	else if (!read_error(o, status, e))
		set_error(e, status, "http", _("the token endpoint answered HTTP %ld"),
		          status);
	oj_free(o);
	return rc;
}

static bool
form_new(struct form *f, struct oauth_error *e)
{
	f->len = 0;
	f->overflow = false;
	f->buf = secmem_alloc(FORM_MAX);
	if (f->buf == NULL)
		set_error(e, 0, "client", _("out of memory"));
	return f->buf != NULL;
}

static bool
client_ok(const struct oauth_client *c, struct oauth_error *e)
{
	if (c == NULL || c->token_url == NULL || c->token_url[0] == '\0' ||
	    c->client_id == NULL || c->client_id[0] == '\0') {
		set_error(e, 0, "client", _("no token endpoint or client ID is set"));
		return false;
	}
	return true;
}

int
oauth_token_form(const struct oauth_client *c, const char *const *pairs,
                 struct oauth_tokens *t, struct oauth_error *e)
{
	struct form f;
	int rc;

	memset(t, 0, sizeof(*t));
	if (!client_ok(c, e) || !form_new(&f, e))
		return -1;
	for (size_t i = 0; pairs[i] && pairs[i + 1]; i += 2)
		form_add(&f, pairs[i], pairs[i + 1]);
	form_client(&f, c);
	rc = token_request(c, &f, t, e);
	secmem_free(f.buf, FORM_MAX);
	return rc;
}

int
oauth_refresh(const struct oauth_client *c, const char *refresh_token,
              struct oauth_tokens *t, struct oauth_error *e)
{
	struct form f;
	int rc;

	memset(t, 0, sizeof(*t));
	if (!client_ok(c, e))
		return -1;
	if (refresh_token == NULL || refresh_token[0] == '\0') {
		set_error(e, 0, "no_refresh_token", _("no refresh token is stored"));
		return -1;
	}
	if (!form_new(&f, e))
		return -1;
	form_add(&f, "grant_type", "refresh_token");
	form_add(&f, "refresh_token", refresh_token);
	form_client(&f, c);
	rc = token_request(c, &f, t, e);
	secmem_free(f.buf, FORM_MAX);
	return rc;
}

/* ---- the device flow (RFC 8628) ------------------------------------------- */

int
oauth_device_start(const struct oauth_client *c, struct oauth_device *d,
                   struct oauth_error *e)
{
	struct form f;
	struct oj *o;
	long status = 0;
	int64_t expires = 0, interval = 0;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	if (!client_ok(c, e))
		return -1;
	if (c->device_url == NULL || c->device_url[0] == '\0') {
		set_error(e, 0, "no_device_flow", _("the provider has no device "
		          "authorization endpoint"));
		return -1;
	}
	if (!form_new(&f, e))
		return -1;
	form_client(&f, c);
	if (c->scope && c->scope[0])
		form_add(&f, "scope", c->scope);
	o = post_form(c, c->device_url, &f, &status, e);
	secmem_free(f.buf, FORM_MAX);
	if (o == NULL)
		return -1;
	if (status != 200) {
		if (!read_error(o, status, e))
			set_error(e, status, "http", _("the device endpoint answered "
			          "HTTP %ld"), status);
		goto out;
	}
	d->device_code = secmem_alloc(DEVICE_CODE_MAX + 1);
	if (d->device_code == NULL) {
		set_error(e, status, "client", _("out of memory"));
		goto out;
	}
	/* Microsoft's v2 endpoint says verification_uri; its older one and
	 * Google's said verification_url. */
	if (oj_secret(o, "device_code", d->device_code, DEVICE_CODE_MAX + 1) != 1 ||
	    oj_str(o, "user_code", d->user_code, sizeof(d->user_code)) != 1 ||
	    d->user_code[0] == '\0' ||
	    (oj_str(o, "verification_uri", d->verification_uri,
	            sizeof(d->verification_uri)) != 1 &&
	     oj_str(o, "verification_url", d->verification_uri,
	            sizeof(d->verification_uri)) != 1) ||
	    strncmp(d->verification_uri, "https://", 8) != 0 ||
	    oj_str(o, "verification_uri_complete", d->verification_uri_complete,
	           sizeof(d->verification_uri_complete)) < 0 ||
	    oj_int(o, "expires_in", 1, 86400, &expires) != 1 ||
	    oj_int(o, "interval", 0, POLL_MAX_S, &interval) < 0) {
		set_error(e, status, "json", _("the device authorization reply lacks "
		          "a member or has one of the wrong type"));
		oauth_device_free(d);
		goto out;
	}
	if (strncmp(d->verification_uri_complete, "https://", 8) != 0)
		d->verification_uri_complete[0] = '\0';
	d->interval_s = interval > 0 ? (int)interval : POLL_DEFAULT_S;
	d->expires_at = (int64_t)time(NULL) + expires;
	rc = 0;
out:
	oj_free(o);
	return rc;
}

enum oauth_poll
oauth_device_poll(const struct oauth_client *c, struct oauth_device *d,
                  struct oauth_tokens *t, struct oauth_error *e)
{
	struct form f;
	int rc;

	memset(t, 0, sizeof(*t));
	if (d->device_code == NULL) {
		set_error(e, 0, "client", _("no device authorization is under way"));
		return OAUTH_POLL_FAILED;
	}
	if (!form_new(&f, e))
		return OAUTH_POLL_FAILED;
	form_add(&f, "grant_type", "urn:ietf:params:oauth:grant-type:device_code");
	form_add(&f, "device_code", d->device_code);
	form_client(&f, c);
	rc = token_request(c, &f, t, e);
	secmem_free(f.buf, FORM_MAX);
	if (rc == 0)
		return OAUTH_POLL_DONE;
	if (strcmp(e->code, "authorization_pending") == 0)
		return OAUTH_POLL_PENDING;
	if (strcmp(e->code, "slow_down") == 0) {
		if (d->interval_s + 5 <= POLL_MAX_S)
			d->interval_s += 5;
		return OAUTH_POLL_SLOW_DOWN;
	}
	return OAUTH_POLL_FAILED;
}

/* Sleeps s seconds unless cancel_fd becomes readable first (true then). */
static bool
wait_cancelled(int cancel_fd, int s)
{
	struct pollfd pfd = { .fd = cancel_fd, .events = POLLIN };
	int64_t end = now_ms() + (int64_t)s * 1000;

	for (;;) {
		int64_t left = end - now_ms();
		int n;

		if (left <= 0)
			return false;
		n = poll(cancel_fd >= 0 ? &pfd : NULL, cancel_fd >= 0 ? 1 : 0, (int)left);
		if (n > 0)
			return true;
		if (n < 0 && errno != EINTR)
			return false;
	}
}

int
oauth_device_wait(const struct oauth_client *c, struct oauth_device *d,
                  struct oauth_tokens *t, struct oauth_error *e)
{
	for (;;) {
		if (wait_cancelled(c->cancel_fd, d->interval_s)) {
			set_error(e, 0, "cancelled", _("the sign-in was cancelled"));
			return -1;
		}
		if ((int64_t)time(NULL) >= d->expires_at) {
			set_error(e, 0, "expired_token", _("the code expired before it was "
			          "entered"));
			return -1;
		}
		switch (oauth_device_poll(c, d, t, e)) {
		case OAUTH_POLL_DONE:
			return 0;
		case OAUTH_POLL_PENDING:
		case OAUTH_POLL_SLOW_DOWN:
			break;
		case OAUTH_POLL_FAILED:
			return -1;
		}
	}
}

/* ---- SASL ----------------------------------------------------------------- */

int
oauth_sasl_error_parse(const char *b64, struct oauth_sasl_error *out)
{
	char raw[2048];
	long n;
	struct oj *o;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (b64 == NULL || strlen(b64) > 2 * sizeof(raw) - 8)
		return -1;
	n = base64_decode(b64, (unsigned char *)raw, sizeof(raw));
	if (n <= 0)
		return -1;
	o = oj_parse(raw, (size_t)n);
	if (o == NULL)
		return -1;
	if (oj_str(o, "status", out->status, sizeof(out->status)) == 1 &&
	    oj_str(o, "scope", out->scope, sizeof(out->scope)) >= 0 &&
	    oj_str(o, "openid-configuration", out->openid_configuration,
	           sizeof(out->openid_configuration)) >= 0)
		rc = 0;
	oj_free(o);
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

long
oauth_sasl_initial(enum oauth_mech m, const char *user, const char *token,
                   char *out, size_t outlen)
{
	int n;

	/* ^A ends each part and "," and "=" are RFC 5801's separators. */
	for (const char *p = user; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == ',' || *p == '=' || *p == 0x7f)
			return -1;
	for (const char *p = token; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			return -1;
	if (m == OAUTH_XOAUTH2)
		n = snprintf(out, outlen, "user=%s\001auth=Bearer %s\001\001", user, token);
	else
		n = snprintf(out, outlen, "n,a=%s,\001auth=Bearer %s\001\001", user, token);
	if (n < 0 || (size_t)n >= outlen) {
		secmem_wipe(out, outlen);
		return -1;
	}
	return n;
}

const char *
oauth_mech_name(enum oauth_mech m)
{
	return m == OAUTH_XOAUTH2 ? "XOAUTH2" : "OAUTHBEARER";
}
