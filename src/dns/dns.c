/* DNS queries through c-ares, driven by our own poll() loop so that the
 * deadline and the cancel descriptor are ours, not the resolver's. */
#include "config.h"

#include <arpa/inet.h>
#include <ares.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "i18n.h"
#include "util.h"

#define DNS_MAX_ANSWERS 64      /* records in one message we look at at all */

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_status = ARES_ENOTINITIALIZED;

static void
lib_init(void)
{
	lib_status = ares_library_init(ARES_LIB_INIT_ALL);
}

bool
dns_null_mx(const struct dns_answer *a)
{
	return a->result == DNS_OK && a->n == 1 && strcmp(a->rr[0].name, DNS_NULL_MX) == 0;
}

const char *
dns_result_name(enum dns_result r)
{
	switch (r) {
	case DNS_OK: return "ok";
	case DNS_NXDOMAIN: return "nxdomain";
	case DNS_NODATA: return "nodata";
	case DNS_TIMEOUT: return "timeout";
	case DNS_CANCELLED: return "cancelled";
	case DNS_SERVFAIL: return "servfail";
	case DNS_MALFORMED: return "malformed";
	case DNS_INTERNAL: return "internal";
	}
	return "internal";
}

int
dns_valid_name(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > DNS_NAME_MAX || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (label == 0 && c == '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

static int
type_code(enum dns_type t)
{
	switch (t) {
	case DNS_A: return 1;
	case DNS_AAAA: return 28;
	case DNS_MX: return 15;
	case DNS_SRV: return 33;
	case DNS_TXT: return 16;
	case DNS_PTR: return 12;
	}
	return 1;
}

struct query {
	bool done;
	struct dns_answer *out;
	enum dns_type type;
};

static enum dns_result
fail(struct dns_answer *out, enum dns_result r, const char *why)
{
	out->result = r;
	out->n = 0;
	str_copy(out->why, sizeof out->why, why);
	return r;
}

/* Walks the raw answer section before c-ares parses it: refuses a message
 * with more records than we would ever use, or a CNAME chain longer than
 * DNS_MAX_CNAME, so that a hostile resolver costs a bounded effort. */
static const char *
check_raw(const unsigned char *abuf, int alen)
{
	if (alen < 12)
		return _("the answer is shorter than a DNS header");
	unsigned qd = (unsigned)abuf[4] << 8 | abuf[5];
	unsigned an = (unsigned)abuf[6] << 8 | abuf[7];
	const unsigned char *p = abuf + 12;
	unsigned cnames = 0;

	if (qd != 1)
		return _("the answer does not carry exactly one question");
	if (an > DNS_MAX_ANSWERS)
		return _("the answer has too many records");
	for (unsigned i = 0; i < qd + an; i++) {
		char *name = NULL;
		long len = 0;
		if (ares_expand_name(p, abuf, alen, &name, &len) != ARES_SUCCESS)
			return _("a name in the answer is malformed");
		ares_free_string(name);
		p += len;
		if (i < qd) {
			if (p + 4 > abuf + alen)
				return _("the question is truncated");
			p += 4;
			continue;
		}
		if (p + 10 > abuf + alen)
			return _("a record is truncated");
		unsigned type = (unsigned)p[0] << 8 | p[1];
		unsigned rdlen = (unsigned)p[8] << 8 | p[9];
		p += 10;
		if (p + rdlen > abuf + alen)
			return _("a record's data is truncated");
		p += rdlen;
		if (type == 5 && ++cnames > DNS_MAX_CNAME)
			return _("the answer's CNAME chain is too long");
	}
	return NULL;
}

static int
cmp_rr(const void *a, const void *b)
{
	const struct dns_rr *x = a, *y = b;
	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Adds a host name record; a name that is not a valid host name makes the
 * whole answer refused: a resolver that sends one is not to be trusted. */
static int
add_name(struct dns_answer *out, const char *host, unsigned prio,
         unsigned weight, unsigned port)
{
	if (out->n >= DNS_MAX_RR)
		return 0;       /* the rest are dropped: the cap, not an error */
	if (!dns_valid_name(host))
		return -1;
	struct dns_rr *r = &out->rr[out->n++];
	str_copy(r->name, sizeof r->name, host);
	r->prio = prio;
	r->weight = weight;
	r->port = port;
	return 0;
}

void
dns_parse_answer(enum dns_type type, const unsigned char *abuf, int alen,
                 struct dns_answer *out)
{
	const char *why;

	memset(out, 0, sizeof *out);
	why = check_raw(abuf, alen);
	int rc = ARES_SUCCESS;

	if (why) {
		fail(out, DNS_MALFORMED, why);
		return;
	}
	out->n = 0;
	switch (type) {
	case DNS_MX: {
		struct ares_mx_reply *mx = NULL;
		if ((rc = ares_parse_mx_reply(abuf, alen, &mx)) != ARES_SUCCESS)
			break;
		for (struct ares_mx_reply *m = mx; m; m = m->next)
			if (!m->host[0] || !strcmp(m->host, ".")) {
				/* the root: a null MX (RFC 7505), kept as "." */
				if (out->n < DNS_MAX_RR) {
					str_copy(out->rr[out->n].name, sizeof out->rr[0].name, ".");
					out->rr[out->n++].prio = m->priority;
				}
			} else if (add_name(out, m->host, m->priority, 0, 0) < 0) {
				ares_free_data(mx);
				fail(out, DNS_MALFORMED, _("an MX host is not a valid host name"));
				return;
			}
		ares_free_data(mx);
		break;
	}
	case DNS_SRV: {
		struct ares_srv_reply *srv = NULL;
		if ((rc = ares_parse_srv_reply(abuf, alen, &srv)) != ARES_SUCCESS)
			break;
		for (struct ares_srv_reply *s = srv; s; s = s->next) {
			/* "." (RFC 2782): the service is decidedly not offered. */
			if (!s->host[0] || !strcmp(s->host, "."))
				continue;
			if (s->port == 0 || add_name(out, s->host, s->priority, s->weight,
			                             s->port) < 0) {
				ares_free_data(srv);
				fail(out, DNS_MALFORMED, _("an SRV record has an invalid target or port"));
				return;
			}
		}
		ares_free_data(srv);
		break;
	}
	case DNS_A: {
		struct ares_addrttl a[DNS_MAX_RR];
		int na = DNS_MAX_RR;
		if ((rc = ares_parse_a_reply(abuf, alen, NULL, a, &na)) != ARES_SUCCESS)
			break;
		for (int i = 0; i < na && out->n < DNS_MAX_RR; i++)
			inet_ntop(AF_INET, &a[i].ipaddr, out->rr[out->n++].addr,
			          sizeof out->rr[0].addr);
		break;
	}
	case DNS_AAAA: {
		struct ares_addr6ttl a[DNS_MAX_RR];
		int na = DNS_MAX_RR;
		if ((rc = ares_parse_aaaa_reply(abuf, alen, NULL, a, &na)) != ARES_SUCCESS)
			break;
		for (int i = 0; i < na && out->n < DNS_MAX_RR; i++)
			inet_ntop(AF_INET6, &a[i].ip6addr, out->rr[out->n++].addr,
			          sizeof out->rr[0].addr);
		break;
	}
	case DNS_PTR: {
		struct hostent *h = NULL;
		unsigned char any[4] = { 0 };   /* c-ares copies it; unused */
		if ((rc = ares_parse_ptr_reply(abuf, alen, any, sizeof any, AF_INET,
		                               &h)) != ARES_SUCCESS)
			break;
		for (char **al = h->h_aliases; al && *al; al++)
			if (add_name(out, *al, 0, 0, 0) < 0) {
				ares_free_hostent(h);
				fail(out, DNS_MALFORMED, _("a PTR name is not a valid host name"));
				return;
			}
		if (out->n == 0 && h->h_name && add_name(out, h->h_name, 0, 0, 0) < 0) {
			ares_free_hostent(h);
			fail(out, DNS_MALFORMED, _("a PTR name is not a valid host name"));
			return;
		}
		ares_free_hostent(h);
		break;
	}
	case DNS_TXT: {
		struct ares_txt_ext *txt = NULL;
		struct dns_rr *cur = NULL;
		size_t used = 0;
		if ((rc = ares_parse_txt_reply_ext(abuf, alen, &txt)) != ARES_SUCCESS)
			break;
		for (struct ares_txt_ext *t = txt; t; t = t->next) {
			if (t->record_start) {
				cur = out->n < DNS_MAX_RR ? &out->rr[out->n++] : NULL;
				used = 0;
			}
			if (!cur)
				continue;
			if (memchr(t->txt, '\0', t->length) ||
			    used + t->length > DNS_TXT_MAX) {
				ares_free_data(txt);
				fail(out, DNS_MALFORMED, _("a TXT record is too long or holds a NUL byte"));
				return;
			}
			memcpy(cur->txt + used, t->txt, t->length);
			used += t->length;
			cur->txt[used] = '\0';
		}
		ares_free_data(txt);
		break;
	}
	}
	if (rc == ARES_ENODATA || (rc == ARES_SUCCESS && out->n == 0)) {
		fail(out, DNS_NODATA, _("the name has no record of that type"));
		return;
	}
	if (rc != ARES_SUCCESS) {
		fail(out, DNS_MALFORMED, _("the answer could not be parsed"));
		return;
	}
	if (type == DNS_MX || type == DNS_SRV)
		qsort(out->rr, out->n, sizeof out->rr[0], cmp_rr);
	out->result = DNS_OK;
	out->why[0] = '\0';
}

static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query *q = arg;

	if (q->done)
		return;
	q->done = true;
	switch (status) {
	case ARES_SUCCESS:
		dns_parse_answer(q->type, abuf, alen, q->out);
		break;
	case ARES_ENOTFOUND:
		fail(q->out, DNS_NXDOMAIN, _("the name does not exist"));
		break;
	case ARES_ENODATA:
		fail(q->out, DNS_NODATA, _("the name has no record of that type"));
		break;
	case ARES_ETIMEOUT:
		fail(q->out, DNS_TIMEOUT, _("the resolver did not answer"));
		break;
	case ARES_ESERVFAIL:
	case ARES_EREFUSED:
	case ARES_ECONNREFUSED:
		fail(q->out, DNS_SERVFAIL, _("the resolver failed or refused the query"));
		break;
	case ARES_EBADRESP:
	case ARES_EFORMERR:
		fail(q->out, DNS_MALFORMED, _("the resolver's answer is malformed"));
		break;
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED:
		fail(q->out, DNS_CANCELLED, _("the query was abandoned"));
		break;
	default:
		fail(q->out, DNS_SERVFAIL, ares_strerror(status));
		break;
	}
}

enum dns_result
dns_query(const char *name, enum dns_type t, int timeout_ms, int cancel_fd,
          struct dns_answer *out)
{
	struct ares_options opts;
	ares_channel ch;
	struct query q = { .done = false, .out = out, .type = t };
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 1);

	memset(out, 0, sizeof *out);
	if (!dns_valid_name(name))
		return fail(out, DNS_MALFORMED, _("not a valid domain name"));
	pthread_once(&lib_once, lib_init);
	if (lib_status != ARES_SUCCESS)
		return fail(out, DNS_INTERNAL, _("the resolver library failed to start"));
	memset(&opts, 0, sizeof opts);
	/* Each try gets a share of the deadline, so a lost UDP packet is sent
	 * again in time; the deadline itself is enforced below. */
	opts.timeout = timeout_ms / 3 < 100 ? 100 : timeout_ms / 3 > 2000 ? 2000 : timeout_ms / 3;
	opts.tries = 3;
	if (ares_init_options(&ch, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS)
		return fail(out, DNS_INTERNAL, _("the resolver could not be set up "
		            "(is /etc/resolv.conf readable?)"));
	ares_query(ch, name, 1 /* IN */, type_code(t), on_answer, &q);
	while (!q.done) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM + 1];
		/* Unsigned: c-ares's own macros shift a signed 1 into bit 31. */
		unsigned bits = (unsigned)ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		int np = 0;
		int64_t left = deadline - now_ms();
		struct timeval tv, maxtv, *tvp;

		if (left <= 0) {
			ares_destroy(ch);
			if (!q.done || out->result == DNS_CANCELLED)
				fail(out, DNS_TIMEOUT, _("the resolver did not answer in time"));
			return out->result;
		}
		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;
			if (bits >> i & 1u)
				ev |= POLLIN;
			if (bits >> (i + ARES_GETSOCK_MAXNUM) & 1u)
				ev |= POLLOUT;
			if (ev)
				pfd[np++] = (struct pollfd){ .fd = socks[i], .events = ev };
		}
		int ncares = np;
		if (cancel_fd >= 0)
			pfd[np++] = (struct pollfd){ .fd = cancel_fd, .events = POLLIN };
		maxtv.tv_sec = (time_t)(left / 1000);
		maxtv.tv_usec = (suseconds_t)(left % 1000) * 1000;
		tvp = ares_timeout(ch, &maxtv, &tv);
		int wait = (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);
		int r = poll(pfd, (nfds_t)np, wait);
		if (r < 0 && errno != EINTR) {
			ares_destroy(ch);
			return fail(out, DNS_INTERNAL, _("poll failed"));
		}
		if (cancel_fd >= 0 && r > 0 && pfd[ncares].revents) {
			ares_destroy(ch);
			return fail(out, DNS_CANCELLED, _("cancelled"));
		}
		if (r <= 0) {
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (int i = 0; i < ncares; i++) {
			if (!pfd[i].revents)
				continue;
			ares_process_fd(ch,
			                pfd[i].revents & (POLLIN | POLLERR | POLLHUP) ? pfd[i].fd : ARES_SOCKET_BAD,
			                pfd[i].revents & POLLOUT ? pfd[i].fd : ARES_SOCKET_BAD);
		}
	}
	ares_destroy(ch);
	return out->result;
}
