/* HTTPS through libcurl's multi interface: its poll takes our cancel
 * descriptor beside the transfer's sockets, so a request stops at once when
 * asked, and the whole request (resolving, connecting, TLS, redirects and
 * the body) shares one deadline. Content-Encoding is never requested, so a
 * small compressed body cannot grow past max_body behind our back. */
#include "config.h"

#include <curl/curl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "i18n.h"
#include "secmem.h"
#include "util.h"

#define HTTP_DEFAULT_MAX_BODY (1024 * 1024)
#define HTTP_URL_MAX 2048
#define HTTP_HEADER_MAX 1024

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_init_rc = CURLE_FAILED_INIT;

static void
http_global_init(void)
{
	/* CURL_GLOBAL_DEFAULT initialises GnuTLS too, which the program's
	 * other layers have done already: both are reference counted. */
	http_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
http_request_init(struct http_request *rq, const char *url)
{
	memset(rq, 0, sizeof(*rq));
	rq->url = url;
	rq->timeout_ms = 10000;
	rq->cancel_fd = -1;
	rq->max_body = HTTP_DEFAULT_MAX_BODY;
}

const char *
http_result_name(enum http_result r)
{
	static const char *const names[] = {
		[HTTP_OK] = "ok", [HTTP_BAD_URL] = "bad_url", [HTTP_DNS] = "dns",
		[HTTP_CONNECT] = "connect", [HTTP_TLS] = "tls", [HTTP_CERT] = "cert",
		[HTTP_TIMEOUT] = "timeout", [HTTP_CANCELLED] = "cancelled",
		[HTTP_TOO_LARGE] = "too_large", [HTTP_REDIRECTS] = "redirects",
		[HTTP_PROTOCOL] = "protocol", [HTTP_INTERNAL] = "internal",
	};
	if ((size_t)r < sizeof(names) / sizeof(names[0]) && names[r])
		return names[r];
	return "internal";
}

/* The body being received. */
struct sink {
	char *buf;
	size_t len, cap, max;
	bool sensitive;
	bool too_large;
	bool oom;
};

static void
sink_release(char *buf, size_t cap, bool sensitive)
{
	if (sensitive)
		secmem_free(buf, cap);
	else
		free(buf);
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	if (n > s->max - s->len) {
		s->too_large = true;
		return 0;    /* libcurl stops with CURLE_WRITE_ERROR */
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *nb;

		while (cap < s->len + n + 1)
			cap *= 2;
		if (cap > s->max + 1)
			cap = s->max + 1;
		nb = s->sensitive ? secmem_alloc(cap) : malloc(cap);
		if (!nb) {
			s->oom = true;
			return 0;
		}
		if (s->len)
			memcpy(nb, s->buf, s->len);
		sink_release(s->buf, s->cap, s->sensitive);
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

static bool
has_prefix_ci(const char *s, const char *p)
{
	return strncasecmp(s, p, strlen(p)) == 0;
}

/* A URL or header we pass on must be one line of printable ASCII. */
static bool
printable_line(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f || n >= max)
			return false;
	return true;
}

static enum http_result
map_error(CURLcode rc, const struct sink *s, int redirects, char *why, size_t whylen,
          const char *detail)
{
	enum http_result r;
	const char *what;

	switch (rc) {
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		if (s->oom) {
			r = HTTP_INTERNAL;
			what = _("out of memory");
		} else {
			r = HTTP_TOO_LARGE;
			what = _("the reply is larger than allowed");
		}
		break;
	case CURLE_URL_MALFORMAT:
		r = HTTP_BAD_URL;
		what = _("malformed URL");
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		if (redirects > 0) {
			r = HTTP_REDIRECTS;
			what = _("redirected away from HTTPS");
		} else {
			/* The URL was checked before: this is the reply (HTTP/0.9). */
			r = HTTP_PROTOCOL;
			what = _("the server's reply is not valid HTTP");
		}
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		r = HTTP_DNS;
		what = _("the host name does not resolve");
		break;
	case CURLE_COULDNT_CONNECT:
		r = HTTP_CONNECT;
		what = _("the connection was refused or the host is unreachable");
		break;
	case CURLE_OPERATION_TIMEDOUT:
		r = HTTP_TIMEOUT;
		what = _("no complete reply before the deadline");
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		r = HTTP_CERT;
		what = _("the server's certificate is not trusted for this host");
		break;
	case CURLE_SSL_CONNECT_ERROR:
		r = HTTP_TLS;
		what = _("the TLS handshake failed");
		break;
	case CURLE_SSL_CACERT_BADFILE:
		r = HTTP_INTERNAL;
		what = _("the CA file cannot be read");
		break;
	case CURLE_TOO_MANY_REDIRECTS:
		r = HTTP_REDIRECTS;
		what = _("too many redirects");
		break;
	case CURLE_OUT_OF_MEMORY:
		r = HTTP_INTERNAL;
		what = _("out of memory");
		break;
	default:
		r = HTTP_PROTOCOL;
		what = _("the server's reply is not valid HTTP");
		break;
	}
	if (detail && *detail)
		str_printf(why, whylen, "%s (%s)", what, detail);
	else
		str_copy(why, whylen, what);
	str_sanitize(why, whylen, why, strlen(why));
	return r;
}

/* Runs the transfer until it ends, the deadline passes or cancel_fd is
 * readable. */
static enum http_result
run_multi(CURLM *m, CURL *h, int cancel_fd, int64_t deadline, CURLcode *rc)
{
	for (;;) {
		struct curl_waitfd extra;
		int running = 0, numfds = 0;
		int64_t left;
		CURLMsg *msg;
		int q;

		if (curl_multi_perform(m, &running) != CURLM_OK)
			return HTTP_INTERNAL;
		while ((msg = curl_multi_info_read(m, &q)) != NULL)
			if (msg->msg == CURLMSG_DONE && msg->easy_handle == h) {
				*rc = msg->data.result;
				return HTTP_OK;
			}
		if (!running) {
			*rc = CURLE_GOT_NOTHING;
			return HTTP_OK;
		}
		left = deadline - now_ms();
		if (left <= 0)
			return HTTP_TIMEOUT;
		memset(&extra, 0, sizeof(extra));
		extra.fd = cancel_fd;
		extra.events = CURL_WAIT_POLLIN;
		if (curl_multi_poll(m, cancel_fd >= 0 ? &extra : NULL,
		                    cancel_fd >= 0 ? 1 : 0,
		                    left > 1000 ? 1000 : (int)left, &numfds) != CURLM_OK)
			return HTTP_INTERNAL;
		if (cancel_fd >= 0 && extra.revents)
			return HTTP_CANCELLED;
	}
}

static void
copy_info(CURL *h, CURLINFO what, char *dst, size_t dstlen)
{
	char *v = NULL;

	dst[0] = '\0';
	if (curl_easy_getinfo(h, what, &v) == CURLE_OK && v)
		str_sanitize(dst, dstlen, v, strlen(v));
}

enum http_result
http_perform(const struct http_request *rq, struct http_response *rs)
{
	struct sink s = { .max = rq->max_body ? rq->max_body : HTTP_DEFAULT_MAX_BODY,
	                  .sensitive = rq->sensitive };
	struct curl_slist *hdrs = NULL, *res = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *h = NULL;
	CURLM *m = NULL;
	CURLcode rc = CURLE_OK;
	int64_t deadline;
	long redirects = 0;
	enum http_result r;
	int timeout_ms = rq->timeout_ms > 0 ? rq->timeout_ms : 10000;

	memset(rs, 0, sizeof(*rs));
	deadline = now_ms() + timeout_ms;
	if (!rq->url || !printable_line(rq->url, HTTP_URL_MAX) ||
	    !(has_prefix_ci(rq->url, "https://") ||
	      (rq->allow_http && has_prefix_ci(rq->url, "http://")))) {
		snprintf(rs->why, sizeof(rs->why), "%s",
		         rq->allow_http ? _("not an http:// or https:// URL")
		                        : _("not an https:// URL (plain HTTP needs its option)"));
		return rs->result = HTTP_BAD_URL;
	}
	pthread_once(&http_once, http_global_init);
	if (http_init_rc != CURLE_OK) {
		str_copy(rs->why, sizeof(rs->why), _("libcurl could not start"));
		return rs->result = HTTP_INTERNAL;
	}
	for (size_t i = 0; i < rq->nheaders; i++) {
		char line[HTTP_HEADER_MAX];
		struct curl_slist *n;
		int len = snprintf(line, sizeof(line), "%s: %s", rq->headers[i].name,
		                   rq->headers[i].value);

		if (len < 0 || (size_t)len >= sizeof(line) || !printable_line(line, sizeof(line))) {
			str_copy(rs->why, sizeof(rs->why), _("a request header is not one printable line"));
			r = HTTP_INTERNAL;
			goto out;
		}
		if (!(n = curl_slist_append(hdrs, line)))
			goto oom;
		hdrs = n;
	}
	if (rq->post_body) {
		/* No "Expect: 100-continue" round trip for small bodies. */
		struct curl_slist *n = curl_slist_append(hdrs, "Expect:");
		char ct[160];

		if (!n)
			goto oom;
		hdrs = n;
		snprintf(ct, sizeof(ct), "Content-Type: %s",
		         rq->content_type ? rq->content_type : "application/x-www-form-urlencoded");
		if (!printable_line(ct, sizeof(ct)) || !(n = curl_slist_append(hdrs, ct)))
			goto oom;
		hdrs = n;
	}
	for (const char *const *e = rq->resolve; e && *e; e++) {
		struct curl_slist *n;

		if (!printable_line(*e, 512) || !(n = curl_slist_append(res, *e)))
			goto oom;
		res = n;
	}
	if (!(h = curl_easy_init()) || !(m = curl_multi_init()))
		goto oom;

	{
		const char *protos = rq->allow_http ? "http,https" : "https";
		bool ok = true;

#define SET(opt, val) ok = ok && curl_easy_setopt(h, opt, val) == CURLE_OK
		SET(CURLOPT_URL, rq->url);
		SET(CURLOPT_PROTOCOLS_STR, protos);
		SET(CURLOPT_REDIR_PROTOCOLS_STR, protos);
		SET(CURLOPT_FOLLOWLOCATION, rq->max_redirects > 0 ? 1L : 0L);
		SET(CURLOPT_MAXREDIRS, (long)(rq->max_redirects > 0 ? rq->max_redirects : 0));
		SET(CURLOPT_NOSIGNAL, 1L);
		SET(CURLOPT_TIMEOUT_MS, (long)timeout_ms);
		SET(CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
		SET(CURLOPT_SSL_VERIFYPEER, 1L);
		SET(CURLOPT_SSL_VERIFYHOST, 2L);
		SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
		SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s.max);
		SET(CURLOPT_WRITEFUNCTION, on_body);
		SET(CURLOPT_WRITEDATA, &s);
		SET(CURLOPT_ERRORBUFFER, errbuf);
		SET(CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
		SET(CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
		if (rq->ca_file)
			SET(CURLOPT_CAINFO, rq->ca_file);
		if (hdrs)
			SET(CURLOPT_HTTPHEADER, hdrs);
		if (res)
			SET(CURLOPT_RESOLVE, res);
		if (rq->post_body) {
			SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->post_len);
			SET(CURLOPT_POSTFIELDS, rq->post_body);
		}
#undef SET
		if (!ok) {
			str_copy(rs->why, sizeof(rs->why), _("libcurl refused a setting"));
			r = HTTP_INTERNAL;
			goto out;
		}
	}
	if (curl_multi_add_handle(m, h) != CURLM_OK)
		goto oom;
	r = run_multi(m, h, rq->cancel_fd, deadline, &rc);
	curl_easy_getinfo(h, CURLINFO_REDIRECT_COUNT, &redirects);
	rs->redirects = (int)redirects;
	if (r == HTTP_CANCELLED)
		str_copy(rs->why, sizeof(rs->why), _("cancelled"));
	else if (r == HTTP_TIMEOUT)
		str_copy(rs->why, sizeof(rs->why), _("no complete reply before the deadline"));
	else if (r == HTTP_OK && rc != CURLE_OK)
		r = map_error(rc, &s, rs->redirects, rs->why, sizeof(rs->why), errbuf);
	if (r == HTTP_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rs->status);
		copy_info(h, CURLINFO_CONTENT_TYPE, rs->content_type, sizeof(rs->content_type));
		copy_info(h, CURLINFO_EFFECTIVE_URL, rs->final_url, sizeof(rs->final_url));
		if (rs->status >= 300 && rs->status < 400)
			copy_info(h, CURLINFO_REDIRECT_URL, rs->location, sizeof(rs->location));
		rs->body = s.buf;
		rs->len = s.len;
		rs->body_sensitive = s.sensitive;
		rs->body_cap = s.cap;
		s.buf = NULL;
		if (!rs->body) {
			/* An empty body is still a string. */
			rs->body = s.sensitive ? secmem_alloc(1) : calloc(1, 1);
			rs->body_cap = 1;
			if (!rs->body) {
				r = HTTP_INTERNAL;
				str_copy(rs->why, sizeof(rs->why), _("out of memory"));
			}
		}
	}
	curl_multi_remove_handle(m, h);
	goto out;
oom:
	str_copy(rs->why, sizeof(rs->why), _("out of memory"));
	r = HTTP_INTERNAL;
out:
	if (s.buf)
		sink_release(s.buf, s.cap, s.sensitive);
	if (h)
		curl_easy_cleanup(h);
	if (m)
		curl_multi_cleanup(m);
	curl_slist_free_all(hdrs);
	curl_slist_free_all(res);
	return rs->result = r;
}

void
http_response_free(struct http_response *rs)
{
	if (!rs->body)
		return;
	sink_release(rs->body, rs->body_cap, rs->body_sensitive);
	rs->body = NULL;
	rs->len = rs->body_cap = 0;
}
