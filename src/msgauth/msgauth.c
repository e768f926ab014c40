/* DKIM verification of a received message with libopendkim. The library's
 * own resolver is never used: its key-lookup hook asks src/dns (c-ares,
 * deadline, cancel) for the selector's TXT record. The hook has no context
 * argument, so the call's context travels in a thread-local pointer: each
 * verification runs on one thread from start to end. */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <dkim.h>

#include "dns.h"
#include "i18n.h"
#include "msgauth.h"
#include "util.h"

struct vctx {
	int64_t deadline;        /* now_ms() */
	int cancel_fd;
	bool key_tempfail;
	char why[512];
};

static _Thread_local struct vctx *cur;
static DKIM_LIB *lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static DKIM_CBSTAT
key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct vctx *c = cur;
	struct dns_answer *a;
	const char *d = (const char *)dkim_sig_getdomain(sig);
	const char *s = (const char *)dkim_sig_getselector(sig);
	char name[DNS_NAME_MAX + 1];
	int64_t left;
	DKIM_CBSTAT rc;

	(void)dkim;
	if (!c || !d || !s || str_printf(name, sizeof name, "%s._domainkey.%s", s, d) < 0 ||
	    !dns_valid_name(name))
		return DKIM_CBSTAT_NOTFOUND;
	left = c->deadline - now_ms();
	if (left <= 0) {
		c->key_tempfail = true;
		str_copy(c->why, sizeof c->why, _("no time was left to fetch the key"));
		return DKIM_CBSTAT_TRYAGAIN;
	}
	a = calloc(1, sizeof *a);
	if (!a)
		return DKIM_CBSTAT_ERROR;
	switch (dns_query(name, DNS_TXT, (int)left, c->cancel_fd, a)) {
	case DNS_OK:
		/* One key record is expected; more is the publisher's error
		 * and the library decides on the first. */
		if (strlen(a->rr[0].txt) >= buflen) {
			rc = DKIM_CBSTAT_ERROR;
			break;
		}
		memcpy(buf, a->rr[0].txt, strlen(a->rr[0].txt) + 1);
		rc = DKIM_CBSTAT_CONTINUE;
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		str_printf(c->why, sizeof c->why, _("no key record at %s"), name);
		rc = DKIM_CBSTAT_NOTFOUND;
		break;
	default:
		c->key_tempfail = true;
		str_printf(c->why, sizeof c->why, _("the key record %s could not be "
		           "fetched: %s"), name, a->why[0] ? a->why : _("DNS failed"));
		rc = DKIM_CBSTAT_TRYAGAIN;
		break;
	}
	free(a);
	return rc;
}

static void
lib_start(void)
{
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;

	lib = dkim_init(NULL, NULL);
	if (!lib)
		return;
	(void)dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags);
	(void)dkim_set_key_lookup(lib, key_lookup);
}

const char *
msgauth_verdict_name(enum msgauth_verdict v)
{
	switch (v) {
	case MSGAUTH_PASS: return "pass";
	case MSGAUTH_FAIL: return "fail";
	case MSGAUTH_TEMPERROR: return "temperror";
	default: return "none";
	}
}

static void
copy_clean(char *dst, size_t cap, const u_char *src)
{
	const char *s = src ? (const char *)src : "";

	str_sanitize(dst, cap, s, strlen(s));
}

int
msgauth_dkim_verify(const char *msg, size_t len, bool cut, int timeout_ms,
                    int cancel_fd, struct msgauth_dkim *out)
{
	struct vctx c;
	DKIM *dk;
	DKIM_SIGINFO *sig;
	DKIM_STAT st = DKIM_STAT_OK;
	int err;

	memset(out, 0, sizeof *out);
	memset(&c, 0, sizeof c);
	pthread_once(&lib_once, lib_start);
	if (!lib) {
		str_copy(out->why, sizeof out->why, _("the DKIM library did not start"));
		out->verdict = MSGAUTH_TEMPERROR;
		return -1;
	}
	c.deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 1);
	c.cancel_fd = cancel_fd;
	dk = dkim_verify(lib, (const unsigned char *)"fluenzr", NULL, &st);
	if (!dk) {
		str_copy(out->why, sizeof out->why, _("the DKIM library refused the message"));
		out->verdict = MSGAUTH_TEMPERROR;
		return -1;
	}
	cur = &c;
	st = dkim_chunk(dk, (u_char *)(uintptr_t)msg, len);
	if (st == DKIM_STAT_OK)
		st = dkim_chunk(dk, NULL, 0);
	if (st == DKIM_STAT_OK)
		st = dkim_eom(dk, NULL);
	cur = NULL;
	sig = dkim_getsignature(dk);
	if (!sig || st == DKIM_STAT_NOSIG) {
		out->verdict = MSGAUTH_NONE;
		str_copy(out->why, sizeof out->why, _("the message carries no DKIM signature"));
		dkim_free(dk);
		return 0;
	}
	copy_clean(out->d, sizeof out->d, dkim_sig_getdomain(sig));
	copy_clean(out->s, sizeof out->s, dkim_sig_getselector(sig));
	if (DKIM_SIG_CHECK(sig)) {
		out->verdict = MSGAUTH_PASS;
	} else if (c.key_tempfail) {
		out->verdict = MSGAUTH_TEMPERROR;
		str_copy(out->why, sizeof out->why, c.why);
	} else if (cut) {
		out->verdict = MSGAUTH_TEMPERROR;
		str_copy(out->why, sizeof out->why, _("the message is larger than the "
		         "part read: it cannot be verified"));
	} else {
		out->verdict = MSGAUTH_FAIL;
		err = dkim_sig_geterror(sig);
		if (err == DKIM_SIGERROR_NOKEY && c.why[0])
			str_copy(out->why, sizeof out->why, c.why);
		else if (err != DKIM_SIGERROR_OK && err != DKIM_SIGERROR_UNKNOWN &&
		         dkim_sig_geterrorstr(err))
			str_sanitize(out->why, sizeof out->why, dkim_sig_geterrorstr(err),
			             strlen(dkim_sig_geterrorstr(err)));
		else if (dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH)
			str_copy(out->why, sizeof out->why, _("the body hash does not match: "
			         "the body changed after signing"));
		else
			str_copy(out->why, sizeof out->why, _("the signature does not match "
			         "the key published in DNS"));
	}
	dkim_free(dk);
	return 0;
}
