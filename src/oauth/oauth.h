/* OAuth 2.0 for mail sign-in: the device authorization grant (RFC 8628)
 * and the refresh grant against an authorization server, through
 * src/http/, and the strict reading of their JSON replies and of RFC 7628's
 * SASL error. The one layer that sees jansson. Tokens are kept in locked
 * memory and wiped; nothing here prints or stores. */
#ifndef FLUENZR_OAUTH_H
#define FLUENZR_OAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An access token of Microsoft's runs to about 2.5 KiB. */
#define OAUTH_TOKEN_MAX   4096
#define OAUTH_URL_MAX     1024
#define OAUTH_CODE_MAX    128         /* a device flow's user code */

/* Where and as whom the client talks to the authorization server. */
struct oauth_client {
	const char *token_url;       /* https:// */
	const char *device_url;      /* https://, NULL: no device flow */
	const char *scope;           /* space-separated */
	const char *client_id;
	const char *client_secret;   /* NULL or "": a public client */
	const char *ca_file;         /* extra trust anchors, NULL: the system's */
	int timeout_ms;              /* per request; 0: 15 s */
	int cancel_fd;               /* readable = stop; -1: none */
};

/* Tokens, in locked memory (oauth_tokens_free() wipes them). */
struct oauth_tokens {
	char *access;                /* never NULL after success */
	char *refresh;               /* "" when the server sent none */
	int64_t expires_at;          /* unix seconds; 0: not said */
	char scope[512];             /* granted, when the server said so */
};
void oauth_tokens_free(struct oauth_tokens *t);

/* Why a grant failed: the server's error code (RFC 6749 5.2, RFC 8628
 * 3.5) or our own ("http", "json", "cancelled", "timeout", "tls"), and
 * the server's words, sanitised. */
struct oauth_error {
	char code[64];
	char description[512];
	char aadsts[24];             /* "AADSTS700016" when Microsoft names one */
	long status;                 /* HTTP status, 0 if none */
};

/* A started device authorization (RFC 8628 3.2). */
struct oauth_device {
	char *device_code;           /* locked memory: it redeems the grant */
	char user_code[OAUTH_CODE_MAX];
	char verification_uri[OAUTH_URL_MAX];
	char verification_uri_complete[OAUTH_URL_MAX];  /* "" if not given */
	int interval_s;              /* polling interval, raised by slow_down */
	int64_t expires_at;          /* unix seconds */
};
void oauth_device_free(struct oauth_device *d);

/* 0, or -1 with e filled. */
int oauth_device_start(const struct oauth_client *c, struct oauth_device *d,
                       struct oauth_error *e);

enum oauth_poll {
	OAUTH_POLL_DONE,             /* tokens issued */
	OAUTH_POLL_PENDING,          /* authorization_pending: wait, ask again */
	OAUTH_POLL_SLOW_DOWN,        /* interval raised by 5 s: wait, ask again */
	OAUTH_POLL_FAILED,           /* e says why (expired_token, access_denied …) */
};
/* One token request of the device flow. */
enum oauth_poll oauth_device_poll(const struct oauth_client *c,
                                  struct oauth_device *d,
                                  struct oauth_tokens *t, struct oauth_error *e);
/* Polls until the user approved, refused, the code expired or cancel_fd
 * became readable, waiting the server's interval between requests. 0, or
 * -1 with e filled. */
int oauth_device_wait(const struct oauth_client *c, struct oauth_device *d,
                      struct oauth_tokens *t, struct oauth_error *e);

/* The refresh grant (RFC 6749 6). t->refresh is the rotated token when
 * the server sent one, else "" (keep the old one). 0, or -1 with e. */
int oauth_refresh(const struct oauth_client *c, const char *refresh_token,
                  struct oauth_tokens *t, struct oauth_error *e);

/* ---- the authorization code grant with PKCE (oauth_code.c) ---- */

struct oauth_pkce {
	char verifier[64];           /* RFC 7636 code_verifier, 43 characters */
	char challenge[64];          /* BASE64URL(SHA-256(verifier)) */
	char state[32];              /* ties the redirect to this sign-in */
};
/* Fresh random verifier and state. 0 or -1. */
int oauth_pkce_new(struct oauth_pkce *p);
/* The address to open in a browser. 0, or -1 when it does not fit. */
int oauth_auth_url(const struct oauth_client *c, const char *auth_url,
                   const char *redirect_uri, const struct oauth_pkce *p,
                   char *out, size_t outlen);
/* The code of a redirect (a whole address, or a request target
 * "/?code=…&state=…"), its state checked against p's; the server's error
 * (error=access_denied …) into e. 0, or -1 with e. */
int oauth_redirect_parse(const char *where, const struct oauth_pkce *p,
                         char *code, size_t codelen, struct oauth_error *e);
/* A listener on 127.0.0.1:port (the fd), or -1 with e. */
int oauth_loopback_listen(unsigned port, struct oauth_error *e);
/* Waits for the browser's GET of the redirect (other requests are
 * dropped), answers a page saying the terminal goes on, and puts the
 * request target in target. 0, or -1 with e (timeout, cancelled). */
int oauth_loopback_wait(int lfd, int cancel_fd, int timeout_s, char *target,
                        size_t len, struct oauth_error *e);
/* The code for tokens (RFC 6749 4.1.3 with the PKCE verifier). */
int oauth_code_exchange(const struct oauth_client *c, const char *code,
                        const char *redirect_uri, const struct oauth_pkce *p,
                        struct oauth_tokens *t, struct oauth_error *e);

/* RFC 7628 3.2.2: the JSON of a server's failure challenge, given as the
 * base64 text after "334 " / "+ ". 0, or -1 when it is not one. */
struct oauth_sasl_error {
	char status[32];             /* "invalid_token", "401", … */
	char scope[256];
	char openid_configuration[OAUTH_URL_MAX];
};
int oauth_sasl_error_parse(const char *b64, struct oauth_sasl_error *out);

/* The initial SASL response, raw (not base64), into out (locked memory of
 * outlen): XOAUTH2 "user=U^Aauth=Bearer T^A^A", OAUTHBEARER (RFC 7628)
 * "n,a=U,^Aauth=Bearer T^A^A". Its length, or -1 when it does not fit or
 * U has a character neither may carry. */
enum oauth_mech { OAUTH_XOAUTH2, OAUTH_OAUTHBEARER };
long oauth_sasl_initial(enum oauth_mech m, const char *user, const char *token,
                        char *out, size_t outlen);

/* A stable name of a mechanism: "XOAUTH2", "OAUTHBEARER". */
const char *oauth_mech_name(enum oauth_mech m);

#endif
