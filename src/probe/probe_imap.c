/* The IMAP half of a test: greeting, TLS (993 implicit, 143 STARTTLS) with
 * the same verification as SMTP, CAPABILITY, LOGIN, SELECT INBOX, and the
 * reply check: polling INBOX for the message the SMTP half just sent. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "base64.h"
#include "oauth.h"
#include "probe_int.h"
#include "secmem.h"
#include "util.h"

struct ictx {
	struct probe *p;
	struct probe_io io;
	mailimap *imap;
	bool idle, logindisabled, starttls;
	char auth[128];          /* the AUTH= mechanisms, space-separated */
};

static const char *
imap_text(struct ictx *x, char *buf, size_t len)
{
	const char *t = x->imap ? x->imap->imap_response : NULL;

	probe_clean(x->p, buf, len, t ? t : "", t ? strlen(t) : 0, false);
	return buf;
}

/* Records a failed command: the server's words when it answered, else the
 * connection's state. */
static void
fail_cmd(struct ictx *x, enum diag_stage stage, int r)
{
	struct probe *p = x->p;
	char t[512], code[64] = "";

	if (r == MAILIMAP_ERROR_STREAM || x->io.conn.timed_out ||
	    x->io.conn.cancelled || x->io.conn.eof ||
	    x->io.conn.err == EMSGSIZE) {
		probe_fail_stream(&p->sink, true, stage, &x->io.conn, NULL, false);
		return;
	}
	if (x->imap && x->imap->imap_response_info &&
	    x->imap->imap_response_info->rsp_atom)
		probe_clean(p, code, sizeof(code),
		            x->imap->imap_response_info->rsp_atom,
		            strlen(x->imap->imap_response_info->rsp_atom), false);
	probe_fail_reply(&p->sink, true, stage, 0, imap_text(x, t, sizeof(t)), code);
}

static const char *
detail(struct ictx *x, int r, char *buf, size_t len)
{
	const struct net_conn *c = &x->io.conn;
	char t[400];

	if (c->cancelled)
		str_copy(buf, len, "cancelled");
	else if (c->timed_out)
		str_printf(buf, len, "no reply within %d s", x->p->opts.timeout_s);
	else if (c->eof)
		str_copy(buf, len, "the server closed the connection");
	else if (c->err == EMSGSIZE && x->io.big_literal == UINT64_MAX)
		str_copy(buf, len, "the server announced a literal of absurd size");
	else if (c->err == EMSGSIZE && x->io.big_literal)
		str_printf(buf, len, "the server announced a literal of %llu bytes "
		           "(a reply may have %llu KiB)",
		           (unsigned long long)x->io.big_literal,
		           (unsigned long long)(NET_STEP_RX_MAX / 1024));
	else if (c->err == EMSGSIZE)
		str_printf(buf, len, "the server sent over %llu KiB without ending its reply",
		           (unsigned long long)(NET_STEP_RX_MAX / 1024));
	else if (r == MAILIMAP_ERROR_MEMORY)
		str_copy(buf, len, "out of memory for the server's reply");
	else if (r == MAILIMAP_ERROR_PARSE)
		str_copy(buf, len, "the server's reply is not IMAP");
	else
		str_copy(buf, len, imap_text(x, t, sizeof(t)));
	return buf;
}

/* The reply to LOGIN may quote the password back: once reported, it goes
 * from libetpan's buffers (which it empties before each response). */
static void
wipe_reply(struct ictx *x)
{
	MMAPString *b = x->imap ? x->imap->imap_stream_buffer : NULL;

	if (b && b->str) {
		secmem_wipe(b->str, b->allocated_len);
		b->len = 0;
	}
	if (x->imap && x->imap->imap_response)
		secmem_wipe(x->imap->imap_response, strlen(x->imap->imap_response));
}

static struct probe_step *
begin(struct ictx *x, const char *name)
{
	net_set_timeout(&x->io.conn, x->p->opts.timeout_s);
	return probe_step_begin(x->p, name);
}

static void
read_caps(struct ictx *x, struct mailimap_capability_data *cap)
{
	clistiter *it;

	x->idle = x->logindisabled = x->starttls = false;
	x->auth[0] = '\0';
	if (!cap || !cap->cap_list)
		return;
	for (it = clist_begin(cap->cap_list); it; it = clist_next(it)) {
		struct mailimap_capability *c = clist_content(it);

		if (c->cap_type == MAILIMAP_CAPABILITY_AUTH_TYPE &&
		    c->cap_data.cap_auth_type) {
			char m[64];
			size_t n = strlen(x->auth);

			probe_clean(x->p, m, sizeof(m), c->cap_data.cap_auth_type,
			            strlen(c->cap_data.cap_auth_type), false);
			/* A list that does not fit is cut at a whole name. */
			if (n + strlen(m) + 2 < sizeof(x->auth))
				str_printf(x->auth + n, sizeof(x->auth) - n, "%s%s",
				           n ? " " : "", m);
			continue;
		}
		if (c->cap_type != MAILIMAP_CAPABILITY_NAME || !c->cap_data.cap_name)
			continue;
		if (strcasecmp(c->cap_data.cap_name, "IDLE") == 0)
			x->idle = true;
		else if (strcasecmp(c->cap_data.cap_name, "LOGINDISABLED") == 0)
			x->logindisabled = true;
		else if (strcasecmp(c->cap_data.cap_name, "STARTTLS") == 0)
			x->starttls = true;
	}
}

static int
do_capability(struct ictx *x)
{
	struct probe_step *s = begin(x, "imap.capability");
	struct mailimap_capability_data *cap = NULL;
	char d[PROBE_DETAIL];
	int r = mailimap_capability(x->imap, &cap);

	if (r != MAILIMAP_NO_ERROR) {
		fail_cmd(x, STAGE_IMAP_LOGIN, r);
		probe_step_end(x->p, s, false, "%s", detail(x, r, d, sizeof(d)));
		return -1;
	}
	read_caps(x, cap);
	mailimap_capability_data_free(cap);
	probe_step_end(x->p, s, true, "IDLE %s%s", x->idle ? "yes" : "no",
	               x->logindisabled ? ", LOGINDISABLED" : "");
	return 0;
}

static int
do_reply_check(struct ictx *x)
{
	struct probe *p = x->p;
	struct probe_step *s = begin(x, "imap.reply_check");
	int64_t end = now_ms() + (int64_t)p->opts.reply_wait_s * 1000;
	char d[PROBE_DETAIL];
	bool found = false;
	int r = MAILIMAP_NO_ERROR;

	while (!found) {
		struct mailimap_search_key *key;
		clist *res = NULL;
		char *h = strdup("Subject"), *v = strdup(p->res.token);

		net_set_timeout(&x->io.conn, p->opts.timeout_s);
		/* NOOP lets the server report new mail before the search. */
		r = mailimap_noop(x->imap);
		if (r != MAILIMAP_NO_ERROR) {
			free(h);
			free(v);
			break;
		}
		key = (h && v) ? mailimap_search_key_new_header(h, v) : NULL;
		if (!key) {
			free(h);
			free(v);
			r = MAILIMAP_ERROR_MEMORY;
			break;
		}
		r = mailimap_search(x->imap, NULL, key, &res);
		mailimap_search_key_free(key);
		if (r != MAILIMAP_NO_ERROR)
			break;
		found = res && clist_count(res) > 0;
		if (res)
			mailimap_search_result_free(res);
		if (found || now_ms() >= end)
			break;
		if (net_sleep(p->cancel_fd, 250) != 0) {
			x->io.conn.cancelled = true;
			r = MAILIMAP_ERROR_STREAM;
			break;
		}
	}
	if (r != MAILIMAP_NO_ERROR) {
		fail_cmd(x, STAGE_IMAP_SEARCH, r);
		probe_step_end(p, s, false, "%s", detail(x, r, d, sizeof(d)));
		return -1;
	}
	p->res.reply_detection = found ? 1 : 0;
	if (found) {
		p->res.reply_ms = now_ms() - p->sent_ms;
		probe_step_end(p, s, true, "the test message is in INBOX after %lld ms",
		               (long long)p->res.reply_ms);
	} else {
		/* Slow delivery is worth showing but is not a failed test. */
		probe_step_end(p, s, false, "the test message did not reach INBOX within %d s",
		               p->opts.reply_wait_s);
	}
	return 0;
}

/* Connect, TLS (implicit or STARTTLS, verified), greeting and CAPABILITY:
 * everything before a credential. 0 when all passed. */
static int
connect_phase(struct ictx *x)
{
	struct probe *p = x->p;
	struct probe_step *s;
	enum security sec = p->a.imap_security;
	const char *host = p->a.imap_host;
	char d[PROBE_DETAIL];
	int r;

	probe_io_init(p, &x->io, true, true);
	if (probe_open(p, &x->io, true, host, p->a.imap_port) < 0)
		return -1;
	if (sec == SEC_SSL && probe_tls(p, &x->io, true, host, p->a.imap_port) < 0)
		return -1;
	if (probe_stream_open(&x->io) < 0 || !(x->imap = mailimap_new(0, NULL))) {
		probe_fail_internal(&p->sink, true, STAGE_CONNECT);
		return -1;
	}
	s = begin(x, "imap.greeting");
	r = mailimap_connect(x->imap, x->io.stream);
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		fail_cmd(x, STAGE_GREETING, r);
		probe_step_end(p, s, false, "%s", detail(x, r, d, sizeof(d)));
		return -1;
	}
	probe_step_end(p, s, true, "%s", imap_text(x, d, sizeof(d)));
	if (sec == SEC_STARTTLS) {
		s = begin(x, "imap.starttls");
		r = mailimap_starttls(x->imap);
		if (r != MAILIMAP_NO_ERROR) {
			fail_cmd(x, STAGE_STARTTLS, r);
			probe_step_end(p, s, false, "%s", detail(x, r, d, sizeof(d)));
			return -1;
		}
		/* Bytes buffered before the handshake could be injected. */
		if (x->imap->imap_stream && x->imap->imap_stream->read_buffer_len > 0) {
			probe_fail_reply(&p->sink, true, STAGE_STARTTLS, 0,
			                 "clear-text data after the STARTTLS reply", NULL);
			probe_step_end(p, s, false,
			               "the server sent clear-text data after STARTTLS (refused)");
			return -1;
		}
		probe_step_end(p, s, true, "%s", imap_text(x, d, sizeof(d)));
		if (probe_tls(p, &x->io, true, host, p->a.imap_port) < 0)
			return -1;
	}
	if (sec != SEC_NONE)
		probe_sink_tls_on(&p->sink);
	return do_capability(x);
}

static void
ictx_close(struct ictx *x)
{
	if (x->imap) {
		x->imap->imap_stream = NULL;   /* closed by probe_io */
		mailimap_free(x->imap);
		x->imap = NULL;
	}
	probe_io_close(&x->io);
}

static bool
offers(const struct ictx *x, const char *mech)
{
	char list[sizeof x->auth + 2], want[32];

	str_printf(list, sizeof list, " %s ", x->auth);
	str_printf(want, sizeof want, " %s ", mech);
	return strcasestr(list, want) != NULL;
}

/* Sends the raw bytes of a command (after the tag) and reads the first
 * line of the answer. */
static int
send_line(struct ictx *x, const char *line)
{
	mailstream *st = x->imap->imap_stream;

	if (mailstream_write(st, line, strlen(line)) < 0 ||
	    mailstream_flush(st) < 0 || mailimap_read_line(x->imap) == NULL)
		return MAILIMAP_ERROR_STREAM;
	return MAILIMAP_NO_ERROR;
}

/* AUTHENTICATE with the access token: OAUTHBEARER (RFC 7628) when
 * CAPABILITY offers it, else XOAUTH2, the initial response on the command
 * line as libetpan's XOAUTH2 sends it. libetpan has no OAUTHBEARER, and
 * its XOAUTH2 drops the server's error challenge and copies the token
 * outside locked memory, so both are done here. A refusal comes as "+ "
 * and RFC 7628's JSON in base64; the client answers it (OAUTHBEARER: a
 * lone %x01, XOAUTH2: an empty line) and the server ends with NO. The
 * JSON's status joins the server's words in *why (may stay ""). */
static int
auth_bearer(struct ictx *x, enum oauth_mech m, char *why, size_t whylen)
{
	struct probe *p = x->p;
	const char *user = account_imap_user(&p->a);
	size_t rawcap = strlen(user) + strlen(p->imap_pw) + 64;
	size_t b64cap = BASE64_LEN(rawcap) + 32;
	char *raw = secmem_alloc(rawcap), *line = secmem_alloc(b64cap + 32);
	char *b64 = secmem_alloc(b64cap);
	struct mailimap_response *resp = NULL;
	struct oauth_sasl_error se;
	char *buf;
	long n;
	int r = MAILIMAP_ERROR_MEMORY;

	why[0] = '\0';
	memset(&se, 0, sizeof se);
	if (!raw || !line || !b64)
		goto out;
	if ((n = oauth_sasl_initial(m, user, p->imap_pw, raw, rawcap)) < 0) {
		r = MAILIMAP_ERROR_INVAL;
		goto out;
	}
	base64_encode((const unsigned char *)raw, (size_t)n, b64, b64cap);
	str_printf(line, b64cap + 32, "AUTHENTICATE %s %s\r\n", oauth_mech_name(m),
	           b64);
	if ((r = mailimap_send_current_tag(x->imap)) != MAILIMAP_NO_ERROR ||
	    (r = send_line(x, line)) != MAILIMAP_NO_ERROR)
		goto out;
	buf = x->imap->imap_stream_buffer->str;
	if (buf[0] == '+') {
		char b[PROBE_DETAIL];

		/* The challenge is base64 of JSON: nothing secret in it. */
		probe_clean(p, b, sizeof b, buf + 1, strcspn(buf + 1, "\r\n"), false);
		oauth_sasl_error_parse(b[0] == ' ' ? b + 1 : b, &se);
		if ((r = send_line(x, m == OAUTH_OAUTHBEARER ? "AQ==\r\n" : "\r\n"))
		    != MAILIMAP_NO_ERROR)
			goto out;
	}
	if ((r = mailimap_parse_response(x->imap, &resp)) != MAILIMAP_NO_ERROR)
		goto out;
	if (resp->rsp_resp_done && resp->rsp_resp_done->rsp_type ==
	    MAILIMAP_RESP_DONE_TYPE_TAGGED &&
	    resp->rsp_resp_done->rsp_data.rsp_tagged->rsp_cond_state->rsp_type ==
	    MAILIMAP_RESP_COND_STATE_OK) {
		x->imap->imap_state = MAILIMAP_STATE_AUTHENTICATED;
		r = MAILIMAP_NO_ERROR;
	} else {
		r = MAILIMAP_ERROR_LOGIN;
	}
	mailimap_response_free(resp);
	if (r != MAILIMAP_NO_ERROR && se.status[0]) {
		char t[400];

		str_printf(why, whylen, "%s (OAuth status %s%s%s)",
		           imap_text(x, t, sizeof t), se.status,
		           se.scope[0] ? ", scope " : "", se.scope);
	}
out:
	secmem_free(raw, rawcap);
	secmem_free(b64, b64cap);
	secmem_free(line, b64cap + 32);
	return r;
}

int
probe_imap_check(struct probe *p, struct probe_check *out)
{
	struct ictx x;
	int rc;

	memset(&x, 0, sizeof(x));
	x.p = p;
	rc = connect_phase(&x);
	/* STARTTLS was offered when the server accepted it. */
	for (size_t i = 0; i < p->res.nsteps; i++)
		if (!strcmp(p->res.steps[i].name, "imap.starttls") && p->res.steps[i].ok)
			out->starttls = true;
	out->tls = p->res.ntls > 0;
	if (rc == 0) {
		str_copy(out->auth, sizeof(out->auth), x.auth);
		out->logindisabled = x.logindisabled;
		net_set_timeout(&x.io.conn, 2);
		mailimap_logout(x.imap);
	}
	ictx_close(&x);
	return rc;
}

int
probe_imap_run(struct probe *p, bool check_reply)
{
	struct ictx x;
	struct probe_step *s;
	char d[PROBE_DETAIL], why[PROBE_DETAIL] = "";
	enum oauth_mech mech = OAUTH_XOAUTH2;
	int r, rc = -1;

	memset(&x, 0, sizeof(x));
	x.p = p;
	if (connect_phase(&x) < 0)
		goto out;

	s = begin(&x, "imap.login");
	if (p->a.oauth) {
		if (offers(&x, "OAUTHBEARER"))
			mech = OAUTH_OAUTHBEARER;
		else if (!offers(&x, "XOAUTH2")) {
			probe_fail_reply(&p->sink, true, STAGE_IMAP_LOGIN, 0,
			                 "the server offers no AUTH=OAUTHBEARER or "
			                 "AUTH=XOAUTH2", NULL);
			probe_step_end(p, s, false, "no OAuth mechanism (OAUTHBEARER, "
			               "XOAUTH2) among the capabilities");
			goto out;
		}
	}
	/* An OAuth account's IMAP "password" is its access token. */
	r = p->a.oauth ? auth_bearer(&x, mech, why, sizeof why)
	               : mailimap_login(x.imap, account_imap_user(&p->a), p->imap_pw);
	probe_stream_wipe(x.imap->imap_stream);
	if (r != MAILIMAP_NO_ERROR) {
		if (why[0])
			probe_fail_reply(&p->sink, true, STAGE_IMAP_LOGIN, 0, why, NULL);
		else
			fail_cmd(&x, STAGE_IMAP_LOGIN, r);
		probe_step_end(p, s, false, "%s", why[0] ? why : detail(&x, r, d, sizeof(d)));
		wipe_reply(&x);
		goto out;
	}
	wipe_reply(&x);
	probe_step_end(p, s, true, "%s%sas %s", p->a.oauth ? oauth_mech_name(mech) : "",
	               p->a.oauth ? " " : "", account_imap_user(&p->a));
	probe_sink_auth_ok(&p->sink);

	s = begin(&x, "imap.select");
	r = mailimap_select(x.imap, "INBOX");
	if (r != MAILIMAP_NO_ERROR) {
		fail_cmd(&x, STAGE_IMAP_SELECT, r);
		probe_step_end(p, s, false, "%s", detail(&x, r, d, sizeof(d)));
		goto out;
	}
	probe_step_end(p, s, true, "INBOX, %u messages",
	               x.imap->imap_selection_info ?
	               x.imap->imap_selection_info->sel_exists : 0);
	if (check_reply && p->res.message_id[0] && do_reply_check(&x) < 0)
		goto out;
	rc = 0;
	net_set_timeout(&x.io.conn, 2);
	mailimap_logout(x.imap);
out:
	ictx_close(&x);
	return rc;
}
