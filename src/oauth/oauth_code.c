/* The authorization code grant with PKCE (RFC 7636, S256) and state, for a
 * browser on another machine than this one: the redirect comes back either
 * to a loopback listener here (reached from the user's laptop through
 * `ssh -L`), or as the address the browser ended on, pasted by the user.
 * SHA-256 and the random verifier come from GnuTLS, as in src/store/. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "i18n.h"
#include "oauth.h"
#include "oauth_int.h"
#include "secmem.h"
#include "util.h"

static void
b64url(const unsigned char *in, size_t n, char *out)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 |
		             (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
		             (i + 2 < n ? in[i + 2] : 0);

		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		if (i + 1 < n)
			out[o++] = a[v >> 6 & 63];
		if (i + 2 < n)
			out[o++] = a[v & 63];
	}
	out[o] = '\0';
}

int
oauth_pkce_new(struct oauth_pkce *p)
{
	unsigned char rnd[32], st[16], dig[32];

	memset(p, 0, sizeof(*p));
	if (gnutls_rnd(GNUTLS_RND_KEY, rnd, sizeof rnd) < 0 ||
	    gnutls_rnd(GNUTLS_RND_NONCE, st, sizeof st) < 0)
		return -1;
	b64url(rnd, sizeof rnd, p->verifier);          /* 43 characters */
	b64url(st, sizeof st, p->state);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, p->verifier, strlen(p->verifier), dig) < 0)
		return -1;
	b64url(dig, sizeof dig, p->challenge);
	secmem_wipe(rnd, sizeof rnd);
	return 0;
}

/* Appends "&name=value" percent-encoded to out. */
static void
q_add(char *out, size_t outlen, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(out);

	n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0, "%s%s=",
	                      strchr(out, '?') ? "&" : "?", name);
	for (const unsigned char *v = (const unsigned char *)value; *v && n + 4 < outlen; v++) {
		if ((*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z') ||
		    (*v >= '0' && *v <= '9') || strchr("-._~", *v)) {
			out[n++] = (char)*v;
		} else {
			out[n++] = '%';
			out[n++] = hex[*v >> 4];
			out[n++] = hex[*v & 15];
		}
	}
	if (n < outlen)
		out[n] = '\0';
}

int
oauth_auth_url(const struct oauth_client *c, const char *auth_url,
               const char *redirect_uri, const struct oauth_pkce *p,
               char *out, size_t outlen)
{
	if (auth_url == NULL || strncmp(auth_url, "https://", 8) != 0 ||
	    strchr(auth_url, '?') || strlen(auth_url) + 2 > outlen)
		return -1;
	str_copy(out, outlen, auth_url);
	q_add(out, outlen, "response_type", "code");
	q_add(out, outlen, "client_id", c->client_id);
	q_add(out, outlen, "redirect_uri", redirect_uri);
	if (c->scope && c->scope[0])
		q_add(out, outlen, "scope", c->scope);
	q_add(out, outlen, "state", p->state);
	q_add(out, outlen, "code_challenge", p->challenge);
	q_add(out, outlen, "code_challenge_method", "S256");
	/* Google gives a refresh token only with offline access asked. */
	q_add(out, outlen, "access_type", "offline");
	return strlen(out) + 8 < outlen ? 0 : -1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* The decoded value of query parameter name in q into out; 1, 0 absent,
 * -1 malformed or too long. */
static int
q_get(const char *q, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);

	for (const char *p = q; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
		size_t n = 0;

		if (strncmp(p, name, nl) != 0 || p[nl] != '=')
			continue;
		for (p += nl + 1; *p && *p != '&' && *p != '#'; p++) {
			int c = (unsigned char)*p;

			if (c == '%') {
				int h = hexval(p[1]), l = h < 0 ? -1 : hexval(p[2]);

				if (l < 0)
					return -1;
				c = h * 16 + l;
				p += 2;
			} else if (c == '+') {
				c = ' ';
			}
			if (c < 0x20 || c == 0x7f || n + 1 >= outlen)
				return -1;
			out[n++] = (char)c;
		}
		out[n] = '\0';
		return 1;
	}
	return 0;
}

int
oauth_redirect_parse(const char *where, const struct oauth_pkce *p,
                     char *code, size_t codelen, struct oauth_error *e)
{
	const char *q = where ? strchr(where, '?') : NULL;
	char state[64], err[64], desc[512];

	memset(e, 0, sizeof(*e));
	code[0] = '\0';
	if (q == NULL) {
		str_copy(e->code, sizeof e->code, "no_code");
		str_copy(e->description, sizeof e->description,
		         _("the address holds no code= (copy the whole address)"));
		return -1;
	}
	q++;
	if (q_get(q, "error", err, sizeof err) == 1) {
		str_copy(e->code, sizeof e->code, err);
		if (q_get(q, "error_description", desc, sizeof desc) == 1)
			str_sanitize(e->description, sizeof e->description, desc, strlen(desc));
		return -1;
	}
	/* A state not ours: another sign-in's redirect, or a forged one. */
	if (q_get(q, "state", state, sizeof state) != 1 || strcmp(state, p->state) != 0) {
		str_copy(e->code, sizeof e->code, "state_mismatch");
		str_copy(e->description, sizeof e->description,
		         _("the redirect is not the answer to this sign-in (state differs)"));
		return -1;
	}
	if (q_get(q, "code", code, codelen) != 1 || code[0] == '\0') {
		secmem_wipe(code, codelen);
		str_copy(e->code, sizeof e->code, "no_code");
		str_copy(e->description, sizeof e->description,
		         _("the address holds no code="));
		return -1;
	}
	return 0;
}

int
oauth_loopback_listen(unsigned port, struct oauth_error *e)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	memset(e, 0, sizeof(*e));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0) {
		str_copy(e->code, sizeof e->code, "listen");
		str_printf(e->description, sizeof e->description,
		           _("cannot listen on 127.0.0.1:%u: %s (choose another --port)"),
		           port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static const char page_head[] =
	"HTTP/1.0 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
	"Cache-Control: no-store\r\nConnection: close\r\n\r\n";

int
oauth_loopback_wait(int lfd, int cancel_fd, int timeout_s, char *target,
                    size_t len, struct oauth_error *e)
{
	int64_t end = now_ms() + (int64_t)timeout_s * 1000;

	memset(e, 0, sizeof(*e));
	for (;;) {
		struct pollfd pf[2] = { { .fd = lfd, .events = POLLIN },
		                        { .fd = cancel_fd, .events = POLLIN } };
		int64_t left = end - now_ms();
		size_t n = 0;
		int c, r;

		if (left <= 0) {
			str_copy(e->code, sizeof e->code, "timeout");
			str_copy(e->description, sizeof e->description,
			         _("no browser came back in time"));
			return -1;
		}
		r = poll(pf, cancel_fd >= 0 ? 2 : 1, (int)(left > 1000 ? 1000 : left));
		if (r > 0 && cancel_fd >= 0 && (pf[1].revents & POLLIN)) {
			str_copy(e->code, sizeof e->code, "cancelled");
			return -1;
		}
		if (r <= 0 || !(pf[0].revents & POLLIN))
			continue;
		c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		/* One request line, read with a short deadline: a port scan or a
		 * favicon request must not end the wait. */
		{
			struct pollfd cp = { .fd = c, .events = POLLIN };

			while (n + 1 < len && poll(&cp, 1, 3000) > 0) {
				ssize_t k = read(c, target + n, 1);

				if (k <= 0 || target[n] == '\n')
					break;
				n++;
			}
			target[n] = '\0';
		}
		if (strncmp(target, "GET /", 5) == 0 && strstr(target, "state=")) {
			char *sp;
			char page[1024];
			ssize_t w;

			/* The browser's tab is the user's too: it speaks their language. */
			str_printf(page, sizeof page, "%s<!doctype html><title>fluenzr-tui</title>"
			           "<p>%s</p>\n", page_head, _("Signed in: you can close this "
			           "tab and go back to the terminal."));
			w = write(c, page, strlen(page));
			(void)w;
			close(c);
			memmove(target, target + 4, strlen(target + 4) + 1);
			sp = strchr(target, ' ');
			if (sp)
				*sp = '\0';
			return 0;
		}
		secmem_wipe(target, len);
		close(c);
	}
}

int
oauth_code_exchange(const struct oauth_client *c, const char *code,
                    const char *redirect_uri, const struct oauth_pkce *p,
                    struct oauth_tokens *t, struct oauth_error *e)
{
	return oauth_token_form(c, (const char *const[]){
		"grant_type", "authorization_code", "code", code,
		"redirect_uri", redirect_uri, "code_verifier", p->verifier, NULL }, t, e);
}
