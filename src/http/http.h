/* HTTPS requests with hard limits: the one module that owns libcurl.
 * Discovery fetches autoconfig documents through it and OAuth talks to the
 * authorization server through it. Every request ends by its deadline or
 * when its cancel descriptor becomes readable, whatever the server does;
 * bodies are capped, redirects counted and kept on HTTPS, and certificates
 * always verified. Nothing here prints. */
#ifndef FLUENZR_HTTP_H
#define FLUENZR_HTTP_H

#include <stdbool.h>
#include <stddef.h>

enum http_result {
	HTTP_OK = 0,            /* a reply arrived (any status code) */
	HTTP_BAD_URL,           /* not https:// (or http:// when allowed) */
	HTTP_DNS,               /* the host name does not resolve */
	HTTP_CONNECT,           /* refused, unreachable */
	HTTP_TLS,               /* the handshake failed */
	HTTP_CERT,              /* the certificate is not trusted for the host */
	HTTP_TIMEOUT,           /* the deadline passed */
	HTTP_CANCELLED,         /* cancel_fd became readable */
	HTTP_TOO_LARGE,         /* the body is over max_body */
	HTTP_REDIRECTS,         /* more redirects than max_redirects, or to plain HTTP */
	HTTP_PROTOCOL,          /* a malformed HTTP reply */
	HTTP_INTERNAL,          /* out of memory, libcurl refused a setting */
};

struct http_header {
	const char *name, *value;
};

struct http_request {
	const char *url;
	/* NULL: GET. Otherwise POSTed as is (libcurl keeps no copy, so a body
	 * holding a secret stays in the caller's locked memory). */
	const char *post_body;
	size_t post_len;
	const char *content_type;        /* of the POST body; NULL: form-encoded */
	const struct http_header *headers;   /* extra request headers, or NULL */
	size_t nheaders;
	const char *ca_file;             /* PEM bundle; NULL: the system's */
	/* "host:port:address" entries: connect there without resolving (the
	 * caller's own resolver answered already). NULL-terminated or NULL. */
	const char *const *resolve;
	bool allow_http;                 /* plain http:// permitted (explicit option) */
	bool sensitive;                  /* the body holds secrets: locked memory, wiped */
	int timeout_ms;                  /* the whole request, redirects included; > 0 */
	int cancel_fd;                   /* readable = stop now; -1: none */
	size_t max_body;                 /* larger body: HTTP_TOO_LARGE; 0: 1 MiB */
	int max_redirects;               /* 0: a redirect is returned, not followed */
};

/* A request with the defaults: GET, 10 s, no cancel, 1 MiB, no redirect. */
void http_request_init(struct http_request *rq, const char *url);

struct http_response {
	enum http_result result;
	long status;                     /* HTTP status code, 0 if none arrived */
	char *body;                      /* NUL-terminated; NULL if none */
	size_t len;
	bool body_sensitive;             /* body is in locked memory */
	size_t body_cap;                 /* its allocation, to wipe */
	char content_type[128];          /* sanitised, "" if none */
	char location[1024];             /* Location of an unfollowed redirect */
	char final_url[1024];            /* after the redirects followed */
	int redirects;                   /* how many were followed */
	char why[512];                   /* our words on a failure, "" on HTTP_OK */
};

/* Performs rq into rs (always fully written; free it even on failure).
 * Returns rs->result. Thread-safe: each call has its own handle. */
enum http_result http_perform(const struct http_request *rq,
                              struct http_response *rs);
void http_response_free(struct http_response *rs);
/* A stable name for r: "ok", "bad_url", "dns", … */
const char *http_result_name(enum http_result r);

#endif
