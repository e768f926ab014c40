/* The SMTP half of a test: greeting, EHLO, STARTTLS or implicit TLS,
 * certificate, EHLO again, AUTH, MAIL, RCPT, DATA, QUIT.
 *
 * libetpan's session sends MAIL, RCPT and DATA (with its dot-stuffing);
 * the greeting, EHLO, STARTTLS, AUTH and QUIT are sent and read here over
 * the same stream because libetpan 1.9.4 falls short there: its EHLO sends
 * gethostname() (not an FQDN), its AUTH goes through Cyrus SASL (which
 * fails locally, sending nothing, without libsasl2-modules), its QUIT does
 * not read the 221, and its greeting reader cannot tell garbage from EOF. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libetpan/libetpan.h>

#include "base64.h"
#include "oauth.h"
#include "probe_int.h"
#include "secmem.h"
#include "tls.h"
#include "i18n.h"
#include "util.h"

struct smtp_reply {
	int code;                 /* 0: no reply (stream), -1: not SMTP */
	char text[512];           /* lines joined by spaces, sanitised */
};

struct sctx {
	struct probe *p;
	struct probe_io io;
	mailsmtp *smtp;
	const char *host;
	unsigned port;
	enum security sec;
	/* Where the steps and the failure go: the run's sink for the test,
	 * NULL (nowhere) for an alternative's check. */
	struct probe_sink *sink;
	/* The TLS handshake: verified, with its steps, for the test; bare for
	 * an alternative's check, whose question is whether TLS works. */
	int (*tls)(struct sctx *x);
	bool tls_on;
	bool has_starttls, has_auth, has_plain, has_login;
	bool has_xoauth2, has_oauthbearer;
	char auth_line[256];
	char ehlo_name[300];
};

/* Each line is cleaned whole (probe_clean()) before it is joined: a
 * password quoted back across the cut of r->text is already redacted, and
 * where the join is cut, the cut is cleaned too (a mark kept whole). */
static void
reply_append(struct sctx *x, struct smtp_reply *r, const char *s, size_t n)
{
	size_t k = strlen(r->text);
	char clean[512], joined[sizeof(r->text)];

	probe_clean(x->p, clean, sizeof(clean), s, n, false);
	if (str_printf(r->text + k, sizeof(r->text) - k, "%s%s", k ? " " : "",
	               clean) < 0) {
		str_copy(joined, sizeof(joined), r->text);
		probe_clean(x->p, r->text, sizeof(r->text), joined, strlen(joined), true);
	}
}

static int
smtp_send(struct sctx *x, const char *line)
{
	mailstream *s = x->smtp->stream;

	if (!s || mailstream_write(s, line, strlen(line)) < 0 ||
	    mailstream_write(s, "\r\n", 2) < 0 || mailstream_flush(s) < 0)
		return -1;
	return 0;
}

/* Reads one (multi-line) reply. Returns 0, or -1 when the stream failed
 * (code 0) or the peer does not speak SMTP (code -1, text = what it said). */
static int
smtp_read(struct sctx *x, struct smtp_reply *r)
{
	r->code = 0;
	r->text[0] = '\0';
	if (!x->smtp->stream)
		return -1;
	for (;;) {
		char *line = mailstream_read_line_remove_eol(x->smtp->stream,
		                                             x->smtp->line_buffer);
		size_t n;

		if (!line)
			return -1;
		n = x->smtp->line_buffer->len;
		if (n < 3 || !isdigit((unsigned char)line[0]) ||
		    !isdigit((unsigned char)line[1]) || !isdigit((unsigned char)line[2]) ||
		    (n > 3 && line[3] != ' ' && line[3] != '-') || strlen(line) != n) {
			probe_clean(x->p, r->text, sizeof(r->text), line, n, false);
			r->code = -1;
			return -1;
		}
		reply_append(x, r, n > 4 ? line + 4 : "", n > 4 ? n - 4 : 0);
		if (n == 3 || line[3] == ' ') {
			r->code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
			return 0;
		}
	}
}

static int
smtp_cmd(struct sctx *x, const char *line, struct smtp_reply *r)
{
	if (smtp_send(x, line) < 0) {
		r->code = 0;
		r->text[0] = '\0';
		return -1;
	}
	return smtp_read(x, r);
}

/* libetpan keeps the previous reply when a command cannot even be sent
 * (a reset connection, a timeout or a cancel while writing): forget it
 * first, or a failed RCPT would report MAIL's "250 Ok" as its answer. */
static void
etpan_forget(struct sctx *x)
{
	x->smtp->response = NULL;
	x->smtp->response_code = 0;
}

/* The reply of a libetpan command. */
static void
etpan_reply(struct sctx *x, struct smtp_reply *r)
{
	char *t = x->smtp->response, *nl;

	r->code = x->smtp->response_code;
	r->text[0] = '\0';
	while (t && *t) {
		nl = strchr(t, '\n');
		if (nl)
			*nl = '\0';
		reply_append(x, r, t, strlen(t));
		if (!nl)
			break;
		*nl = '\n';
		t = nl + 1;
	}
}

static bool
looks_tls(const struct net_conn *c)
{
	return c->nfirst >= 2 && c->first[0] >= 0x14 && c->first[0] <= 0x17 &&
	       c->first[1] == 0x03;
}

/* Records a failed reply (or the stream failure behind it); peer_tls:
 * the peer is known to speak TLS here. */
static void
fail_reply(struct sctx *x, enum diag_stage stage, const struct smtp_reply *r,
           bool peer_tls)
{
	char said[sizeof(r->text)];

	if (r->code > 0) {
		probe_fail_reply(x->sink, false, stage, r->code, r->text, NULL);
	} else if (r->code < 0) {
		probe_fail_stream(x->sink, false, stage, &x->io.conn, r->text,
		                  peer_tls || looks_tls(&x->io.conn));
	} else if (x->io.conn.err == EMSGSIZE) {
		/* It spoke without end: a broken reply, not a hang-up. */
		str_printf(said, sizeof(said), "(no end of reply after %llu KiB)",
		           (unsigned long long)(NET_STEP_RX_MAX / 1024));
		probe_fail_stream(x->sink, false, stage, &x->io.conn, said, peer_tls);
	} else {
		probe_fail_stream(x->sink, false, stage, &x->io.conn, NULL, peer_tls);
	}
}

static const char *
reply_detail(const struct sctx *x, const struct smtp_reply *r, char *buf,
             size_t len)
{
	const struct net_conn *c = &x->io.conn;

	if (r->code > 0)
		str_printf(buf, len, "%d %s", r->code, r->text);
	else if (r->code < 0)
		str_printf(buf, len, _("not an SMTP reply: %s"), r->text);
	else if (c->cancelled)
		str_copy(buf, len, _("cancelled"));
	else if (c->timed_out)
		str_printf(buf, len, _("no reply within %d s"), x->p->opts.timeout_s);
	else if (c->eof)
		str_copy(buf, len, _("the server closed the connection"));
	else if (c->err == EMSGSIZE)
		str_printf(buf, len, _("the server sent over %llu KiB without ending its reply"),
		           (unsigned long long)(NET_STEP_RX_MAX / 1024));
	else
		str_printf(buf, len, _("connection error: %s"), strerror(c->err ? c->err : EIO));
	return buf;
}

static struct probe_step *
step_begin(struct sctx *x, const char *name)
{
	net_set_timeout(&x->io.conn, x->p->opts.timeout_s);
	return probe_sink_step(x->sink, name);
}

static void
step_end(struct sctx *x, struct probe_step *s, bool ok, const char *detail)
{
	probe_step_end(x->p, s, ok, "%s", detail);
}

/* raw_cut: the last line of raw was cut. */
static void
parse_ehlo(struct sctx *x, const char *raw, bool raw_cut)
{
	x->has_starttls = x->has_auth = x->has_plain = x->has_login = false;
	x->has_xoauth2 = x->has_oauthbearer = false;
	x->auth_line[0] = '\0';
	/* raw: the lines of the reply as libetpan-free text, one per \n. */
	while (raw && *raw) {
		const char *nl = strchr(raw, '\n');
		size_t n = nl ? (size_t)(nl - raw) : strlen(raw);
		char line[256];
		bool cut = !nl && raw_cut;

		if (n >= sizeof(line)) {
			n = sizeof(line) - 1;
			cut = true;
		}
		memcpy(line, raw, n);
		line[n] = '\0';
		if (strcasecmp(line, "STARTTLS") == 0)
			x->has_starttls = true;
		else if (strncasecmp(line, "AUTH ", 5) == 0 ||
		         strncasecmp(line, "AUTH=", 5) == 0) {
			char *tok, *save = NULL;

			x->has_auth = true;
			probe_clean(x->p, x->auth_line, sizeof(x->auth_line),
			            line + 5, strlen(line + 5), cut);
			for (tok = strtok_r(line + 5, " ", &save); tok;
			     tok = strtok_r(NULL, " ", &save)) {
				if (strcasecmp(tok, "PLAIN") == 0)
					x->has_plain = true;
				else if (strcasecmp(tok, "LOGIN") == 0)
					x->has_login = true;
				else if (strcasecmp(tok, "XOAUTH2") == 0)
					x->has_xoauth2 = true;
				else if (strcasecmp(tok, "OAUTHBEARER") == 0)
					x->has_oauthbearer = true;
			}
		}
		raw = nl ? nl + 1 : NULL;
	}
}

/* EHLO, keeping each capability line apart for parse_ehlo(). */
static int
do_ehlo(struct sctx *x, const char *stepname)
{
	struct probe_step *s = step_begin(x, stepname);
	struct smtp_reply r;
	char cmd[320], raw[4096], d[PROBE_DETAIL];
	size_t rl = 0;
	bool raw_cut = false;

	str_printf(cmd, sizeof(cmd), "EHLO %s", x->ehlo_name);
	raw[0] = '\0';
	r.code = 0;
	r.text[0] = '\0';
	if (smtp_send(x, cmd) == 0) {
		/* Read line by line to keep the capability list. */
		for (;;) {
			char *line = mailstream_read_line_remove_eol(x->smtp->stream,
			                                             x->smtp->line_buffer);
			size_t n;

			if (!line)
				break;
			n = strlen(line);
			if (n < 3 || !isdigit((unsigned char)line[0]) ||
			    (n > 3 && line[3] != ' ' && line[3] != '-')) {
				r.code = -1;
				probe_clean(x->p, r.text, sizeof(r.text), line, n, false);
				break;
			}
			if (rl)
				str_printf(raw + rl, sizeof(raw) - rl, "\n");
			rl = strlen(raw);
			if (str_copy(raw + rl, sizeof(raw) - rl, n > 4 ? line + 4 : "") < 0)
				raw_cut = true;
			rl = strlen(raw);
			reply_append(x, &r, n > 4 ? line + 4 : "", n > 4 ? n - 4 : 0);
			if (n == 3 || line[3] == ' ') {
				r.code = atoi(line);
				break;
			}
		}
	}
	if (r.code != 250) {
		fail_reply(x, STAGE_EHLO, &r, false);
		step_end(x, s, false, reply_detail(x, &r, d, sizeof(d)));
		return -1;
	}
	/* The first line is the greeting name, not a capability. */
	{
		const char *caps = strchr(raw, '\n');

		parse_ehlo(x, caps ? caps + 1 : NULL, raw_cut);
	}
	probe_sink_ehlo(x->sink, x->has_starttls, x->has_auth);
	str_printf(d, sizeof(d), "%s%s%s%s", x->has_starttls ? "STARTTLS, " : "",
	           x->has_auth ? "AUTH " : _("no AUTH"), x->auth_line,
	           x->tls_on ? _(" (over TLS)") : "");
	step_end(x, s, true, d);
	return 0;
}

/* A server that did not greet us may be speaking TLS: try a handshake on a
 * fresh connection, briefly. */
static bool
sniff_tls(struct sctx *x)
{
	struct addrinfo *res = NULL, *ai;
	int gai;
	bool yes = false;
	int t = x->p->opts.timeout_s < 3 ? x->p->opts.timeout_s : 3;

	if (net_resolve(x->host, x->port, x->p->cancel_fd, t * 1000, &res, &gai) != NET_OK)
		return false;
	for (ai = res; ai && !yes; ai = ai->ai_next) {
		struct net_conn c;
		struct tls_fail f;

		net_conn_init(&c, x->p->cancel_fd);
		net_set_timeout(&c, t);
		if (net_connect(&c, ai) != NET_OK)
			continue;
		/* An old server's version refusal is TLS too. */
		if (tls_handshake(&c, x->host, x->p->a.allow_old_tls, &f) == 0 ||
		    f.version_refused)
			yes = true;
		net_close(&c);
		break;
	}
	freeaddrinfo(res);
	return yes;
}

static int
do_greeting(struct sctx *x)
{
	struct probe_step *s = step_begin(x, "smtp.greeting");
	struct smtp_reply r;
	char d[PROBE_DETAIL];

	x->smtp->stream = x->io.stream;
	if (smtp_read(x, &r) < 0 || r.code != 220) {
		bool tls = false;

		/* Silence where no TLS was expected may be a server waiting for
		 * a TLS hello: asked on another connection, only when the
		 * failure is kept (not for an alternative's check). */
		if (r.code == 0 && probe_sink_keeps(x->sink)) {
			if (looks_tls(&x->io.conn)) {
				tls = true;
			} else if (x->io.conn.timed_out && x->sec != SEC_SSL &&
			           x->io.conn.rx_bytes == 0 && sniff_tls(x)) {
				tls = true;
				probe_note(x->p, "this port answers a TLS handshake: it expects implicit TLS (ssl)");
			}
		}
		fail_reply(x, STAGE_GREETING, &r, tls);
		step_end(x, s, false, reply_detail(x, &r, d, sizeof(d)));
		return -1;
	}
	step_end(x, s, true, reply_detail(x, &r, d, sizeof(d)));
	return 0;
}

static int
tls_verified(struct sctx *x)
{
	return probe_tls(x->p, &x->io, false, x->host, x->port);
}

static int
tls_bare(struct sctx *x)
{
	struct tls_fail f;

	net_set_timeout(&x->io.conn, x->p->opts.timeout_s);
	return tls_handshake(&x->io.conn, x->host, x->p->a.allow_old_tls, &f);
}

static int
do_tls(struct sctx *x)
{
	if (x->tls(x) < 0)
		return -1;
	x->tls_on = true;
	probe_sink_tls_on(x->sink);
	return 0;
}

static int
do_starttls(struct sctx *x)
{
	struct probe_step *s = step_begin(x, "smtp.starttls");
	struct smtp_reply r;
	char d[PROBE_DETAIL];
	mailstream *st;

	if (!x->has_starttls) {
		/* The EHLO reply was a 250 without STARTTLS in it. */
		probe_fail_reply(x->sink, false, STAGE_STARTTLS, 250, "", NULL);
		step_end(x, s, false, _("the server does not offer STARTTLS"));
		return -1;
	}
	if (smtp_cmd(x, "STARTTLS", &r) < 0 || r.code != 220) {
		fail_reply(x, STAGE_STARTTLS, &r, false);
		step_end(x, s, false, reply_detail(x, &r, d, sizeof(d)));
		return -1;
	}
	/* Anything already buffered after the 220 was sent before TLS and
	 * could be injected by a man in the middle: refuse it. */
	st = x->smtp->stream;
	if (st->read_buffer_len > 0) {
		probe_fail_reply(x->sink, false, STAGE_STARTTLS, 0,
		                 "clear-text data after the STARTTLS reply", NULL);
		step_end(x, s, false, _("the server sent clear-text data after 220 (refused)"));
		return -1;
	}
	step_end(x, s, true, reply_detail(x, &r, d, sizeof(d)));
	return do_tls(x);
}

/* AUTH is done here rather than with mailesmtp_auth_sasl(): PLAIN and
 * LOGIN are a few base64 lines, and doing them ourselves removes the
 * dependency on Cyrus SASL plugins (whose absence fails locally and looks
 * like a wrong password), keeps the secrets in locked memory, and lets the
 * transcript redact by dialogue state. Secrets are wiped from our buffers
 * and from the stream's write buffer afterwards. */
/* After the AUTH dialogue: what carried the credential wiped from the
 * stream, then the step ended with the final reply r. 0 when 235. */
static int
auth_end(struct sctx *x, struct probe_step *s, const struct smtp_reply *r,
         const char *mech, const char *user)
{
	char d[PROBE_DETAIL];

	probe_stream_wipe(x->smtp->stream);
	/* The last reply line read may quote the password back; libetpan
	 * empties this buffer before each line it reads. */
	if (x->smtp->line_buffer && x->smtp->line_buffer->str) {
		secmem_wipe(x->smtp->line_buffer->str, x->smtp->line_buffer->allocated_len);
		x->smtp->line_buffer->len = 0;
	}
	if (r->code != 235) {
		fail_reply(x, STAGE_AUTH, r, false);
		reply_detail(x, r, d, sizeof(d));
		step_end(x, s, false, d);
		return -1;
	}
	str_printf(d, sizeof(d), _("%s as %s: %d %s"), mech, user, r->code, r->text);
	step_end(x, s, true, d);
	probe_sink_auth_ok(x->sink);
	return 0;
}

/* AUTH with a bearer token (the account signs in with OAuth): OAUTHBEARER
 * (RFC 7628) when offered, else XOAUTH2, the initial response on the AUTH
 * line. A refusal comes as 334 and RFC 7628's JSON error in base64; the
 * client answers it with an empty line and the server ends with 5xx. */
static int
do_auth_bearer(struct sctx *x)
{
	struct probe *p = x->p;
	struct probe_step *s = step_begin(x, "smtp.auth");
	const char *user = p->a.username[0] ? p->a.username : p->a.email;
	size_t rawcap = strlen(user) + strlen(p->smtp_pw) + 64;
	size_t b64cap = BASE64_LEN(rawcap) + 32;
	char *raw = secmem_alloc(rawcap), *line = secmem_alloc(b64cap + 32);
	char *b64 = secmem_alloc(b64cap);
	struct oauth_sasl_error se;
	struct smtp_reply r;
	char d[PROBE_DETAIL], why[PROBE_DETAIL];
	enum oauth_mech m;
	long n;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	memset(&se, 0, sizeof(se));
	if (!raw || !line || !b64) {
		probe_fail_internal(x->sink, false, STAGE_AUTH);
		step_end(x, s, false, _("out of locked memory"));
		goto out;
	}
	if (!x->has_xoauth2 && !x->has_oauthbearer) {
		probe_fail_no_auth(x->sink, 0, x->auth_line, true);
		step_end(x, s, false, x->has_auth ? _("no OAuth mechanism (XOAUTH2, "
		         "OAUTHBEARER) offered") : _("AUTH not offered"));
		goto out;
	}
	m = x->has_oauthbearer ? OAUTH_OAUTHBEARER : OAUTH_XOAUTH2;
	n = oauth_sasl_initial(m, user, p->smtp_pw, raw, rawcap);
	if (n < 0) {
		probe_fail_internal(x->sink, false, STAGE_AUTH);
		str_printf(d, sizeof(d), _("the user name or token cannot be sent in %s"),
		           oauth_mech_name(m));
		step_end(x, s, false, d);
		goto out;
	}
	base64_encode((const unsigned char *)raw, (size_t)n, b64, b64cap);
	str_printf(line, b64cap + 32, "AUTH %s %s", oauth_mech_name(m), b64);
	if (smtp_cmd(x, line, &r) == 0 && r.code == 334) {
		/* r.text is the challenge, base64; nothing secret in it. */
		oauth_sasl_error_parse(r.text, &se);
		smtp_cmd(x, "", &r);
	}
	if (r.code != 235 && se.status[0]) {
		/* The server's JSON verdict joins its words for the diagnosis. */
		str_printf(why, sizeof(why), "%s (OAuth status %s%s%s)", r.text,
		           se.status, se.scope[0] ? ", scope " : "", se.scope);
		str_copy(r.text, sizeof(r.text), why);
	}
	rc = auth_end(x, s, &r, oauth_mech_name(m), user);
out:
	secmem_free(raw, rawcap);
	secmem_free(b64, b64cap);
	secmem_free(line, b64cap + 32);
	return rc;
}

static int
do_auth(struct sctx *x)
{
	struct probe *p = x->p;
	struct probe_step *s;

	if (p->a.oauth)
		return do_auth_bearer(x);
	s = step_begin(x, "smtp.auth");
	const char *user = p->a.username[0] ? p->a.username : p->a.email;
	const char *pw = p->smtp_pw;
	size_t ul = strlen(user), pl = strlen(pw);
	size_t rawcap = ul * 2 + pl + 3, b64cap = ((rawcap + 2) / 3) * 4 + 32;
	unsigned char *raw = secmem_alloc(rawcap);
	char *b64 = secmem_alloc(b64cap);
	char *line = secmem_alloc(b64cap + 32);
	struct smtp_reply r;
	char d[PROBE_DETAIL];
	const char *mech;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	if (!raw || !b64 || !line) {
		probe_fail_internal(x->sink, false, STAGE_AUTH);
		step_end(x, s, false, _("out of locked memory"));
		goto out;
	}
	if (!x->has_plain && !x->has_login) {
		/* Ask anyway, without credentials: the answer tells "AUTH needs
		 * TLS first" (530/538) from "no AUTH here" (503/502). */
		if (smtp_cmd(x, "AUTH PLAIN", &r) == 0 && r.code == 334) {
			struct smtp_reply r2;

			smtp_cmd(x, "*", &r2);
		}
		probe_fail_no_auth(x->sink, r.code > 0 ? r.code : 0, r.text,
		                   r.code != 530 && r.code != 538);
		if (x->has_auth)
			str_printf(d, sizeof(d), _("no mechanism we speak (PLAIN, LOGIN) among: %s"),
			           x->auth_line);
		else if (r.code > 0)
			str_printf(d, sizeof(d), _("AUTH not offered; AUTH PLAIN got %d %s"),
			           r.code, r.text);
		else
			str_copy(d, sizeof(d), _("AUTH not offered"));
		step_end(x, s, false, d);
		goto out;
	}
	if (x->has_plain) {
		mech = "PLAIN";
		/* authzid \0 authcid \0 password, with an empty authzid. */
		raw[0] = '\0';
		memcpy(raw + 1, user, ul);
		raw[1 + ul] = '\0';
		memcpy(raw + 2 + ul, pw, pl);
		base64_encode(raw, ul + pl + 2, b64, b64cap);
		str_printf(line, b64cap + 32, "AUTH PLAIN %s", b64);
		if (smtp_cmd(x, line, &r) == 0 && r.code == 334)
			smtp_cmd(x, b64, &r);
	} else {
		mech = "LOGIN";
		if (smtp_cmd(x, "AUTH LOGIN", &r) == 0 && r.code == 334) {
			base64_encode((const unsigned char *)user, ul, b64, b64cap);
			if (smtp_cmd(x, b64, &r) == 0 && r.code == 334) {
				base64_encode((const unsigned char *)pw, pl, b64, b64cap);
				smtp_cmd(x, b64, &r);
			}
		}
	}
	rc = auth_end(x, s, &r, mech, user);
out:
	secmem_free(raw, rawcap);
	secmem_free(b64, b64cap);
	secmem_free(line, b64cap + 32);
	return rc;
}

static int
do_envelope(struct sctx *x)
{
	struct probe *p = x->p;
	struct probe_step *s;
	struct smtp_reply r;
	char d[PROBE_DETAIL], msgid[256];
	char *msg;
	size_t len = 0;
	int e;

	s = step_begin(x, "smtp.mail");
	etpan_forget(x);
	e = mailsmtp_mail(x->smtp, p->a.email);
	etpan_reply(x, &r);
	if (e != MAILSMTP_NO_ERROR || r.code != 250) {
		fail_reply(x, STAGE_MAIL, &r, false);
		step_end(x, s, false, reply_detail(x, &r, d, sizeof(d)));
		return -1;
	}
	step_end(x, s, true, reply_detail(x, &r, d, sizeof(d)));

	s = step_begin(x, "smtp.rcpt");
	etpan_forget(x);
	e = mailsmtp_rcpt(x->smtp, p->a.email);
	etpan_reply(x, &r);
	if (e != MAILSMTP_NO_ERROR || (r.code != 250 && r.code != 251)) {
		fail_reply(x, STAGE_RCPT, &r, false);
		step_end(x, s, false, reply_detail(x, &r, d, sizeof(d)));
		return -1;
	}
	step_end(x, s, true, reply_detail(x, &r, d, sizeof(d)));

	s = step_begin(x, "smtp.data");
	msg = message_build(&p->a, p->res.token, time(NULL), msgid, sizeof(msgid), &len);
	if (!msg) {
		probe_fail_internal(x->sink, false, STAGE_DATA);
		step_end(x, s, false, _("cannot build the test message"));
		return -1;
	}
	etpan_forget(x);
	e = mailsmtp_data(x->smtp);
	etpan_reply(x, &r);
	if (e == MAILSMTP_NO_ERROR && r.code == 354) {
		net_set_timeout(&x->io.conn, p->opts.timeout_s);
		etpan_forget(x);
		e = mailsmtp_data_message(x->smtp, msg, len);
		etpan_reply(x, &r);
	}
	free(msg);
	if (e != MAILSMTP_NO_ERROR || r.code != 250) {
		fail_reply(x, STAGE_DATA, &r, false);
		step_end(x, s, false, reply_detail(x, &r, d, sizeof(d)));
		return -1;
	}
	p->sent_ms = now_ms();
	str_copy(p->res.message_id, sizeof(p->res.message_id), msgid);
	str_printf(d, sizeof(d), _("%d %s; Message-ID %s"), r.code, r.text, msgid);
	step_end(x, s, true, d);
	return 0;
}

static void
do_quit(struct sctx *x, bool as_step)
{
	struct probe_step *s = as_step ? step_begin(x, "smtp.quit") : NULL;
	struct smtp_reply r;
	char d[PROBE_DETAIL];
	bool ok;

	if (!as_step)
		net_set_timeout(&x->io.conn, 2);
	/* After a flood (EMSGSIZE) the dialogue is out of step: a QUIT
	 * would only read more of it. */
	if (!x->smtp->stream || x->io.conn.fd < 0 || x->io.conn.eof ||
	    x->io.conn.cancelled || x->io.conn.timed_out ||
	    x->io.conn.err == EMSGSIZE)
		return;
	smtp_cmd(x, "QUIT", &r);
	/* A server that closes right after QUIT without 221 did no harm. */
	ok = r.code == 221 || (r.code == 0 && x->io.conn.eof);
	step_end(x, s, ok, r.code > 0 ? reply_detail(x, &r, d, sizeof(d)) :
	                   ok ? _("closed") : reply_detail(x, &r, d, sizeof(d)));
}

static void
sctx_close(struct sctx *x)
{
	if (x->smtp) {
		x->smtp->stream = NULL;   /* the stream is closed by probe_io */
		mailsmtp_free(x->smtp);
		x->smtp = NULL;
	}
	probe_io_close(&x->io);
}

/* Everything up to the second EHLO. */
static int
smtp_connect_phase(struct sctx *x)
{
	if (x->sec == SEC_SSL && do_tls(x) < 0)
		return -1;
	if (probe_stream_open(&x->io) < 0) {
		probe_fail_internal(x->sink, false, STAGE_CONNECT);
		return -1;
	}
	x->smtp = mailsmtp_new(0, NULL);
	if (!x->smtp) {
		probe_fail_internal(x->sink, false, STAGE_CONNECT);
		return -1;
	}
	if (do_greeting(x) < 0)
		return -1;
	probe_ehlo_name(&x->io.conn, x->ehlo_name, sizeof(x->ehlo_name));
	if (do_ehlo(x, "smtp.ehlo") < 0)
		return -1;
	if (x->sec == SEC_STARTTLS) {
		if (do_starttls(x) < 0)
			return -1;
		if (do_ehlo(x, "smtp.ehlo2") < 0)
			return -1;
	}
	return 0;
}

/* A dialogue with the account's server, its certificate verified; log:
 * the transcript is kept. */
static void
sctx_for_account(struct sctx *x, struct probe *p, bool log)
{
	memset(x, 0, sizeof(*x));
	x->p = p;
	x->host = p->a.smtp_host;
	x->port = p->a.smtp_port;
	x->sec = p->a.smtp_security;
	x->sink = &p->sink;
	x->tls = tls_verified;
	probe_io_init(p, &x->io, false, log);
}

/* One message of a send: MAIL, each RCPT, DATA. -1 with the refusing
 * reply in r (code 0: the stream failed) and its stage. */
static int
send_one(struct sctx *x, const char *from, const struct outgoing *m,
         struct smtp_reply *r, enum diag_stage *stage)
{
	int e;
	size_t i;

	net_set_timeout(&x->io.conn, x->p->opts.timeout_s);
	*stage = STAGE_MAIL;
	etpan_forget(x);
	e = mailsmtp_mail(x->smtp, from);
	etpan_reply(x, r);
	if (e != MAILSMTP_NO_ERROR || r->code != 250)
		return -1;
	*stage = STAGE_RCPT;
	for (i = 0; i < m->nrcpt; i++) {
		net_set_timeout(&x->io.conn, x->p->opts.timeout_s);
		etpan_forget(x);
		e = mailsmtp_rcpt(x->smtp, m->rcpt[i]);
		etpan_reply(x, r);
		if (e != MAILSMTP_NO_ERROR || (r->code != 250 && r->code != 251))
			return -1;
	}
	*stage = STAGE_DATA;
	net_set_timeout(&x->io.conn, x->p->opts.timeout_s);
	etpan_forget(x);
	e = mailsmtp_data(x->smtp);
	etpan_reply(x, r);
	if (e != MAILSMTP_NO_ERROR || r->code != 354)
		return -1;
	net_set_timeout(&x->io.conn, x->p->opts.timeout_s);
	etpan_forget(x);
	e = mailsmtp_data_message(x->smtp, m->data, m->len);
	etpan_reply(x, r);
	if (e != MAILSMTP_NO_ERROR || r->code != 250)
		return -1;
	return 0;
}

/* The messages of snd, one after the other on this connection: a message
 * refused for good is followed by RSET and the next; a temporary refusal
 * or a broken stream ends the send (what follows would meet the same). */
static int
send_messages(struct sctx *x, const struct probe_sender *snd)
{
	struct probe_step *s = step_begin(x, "smtp.send");
	struct smtp_reply r, rr;
	enum diag_stage stage;
	char d[PROBE_DETAIL];
	size_t i, nok = 0, nbad = 0;
	int rc = 0;

	for (i = 0;; i++) {
		const struct outgoing *m = NULL;
		const char *from = NULL;
		int k = snd->next(snd->ud, &from, &m);

		if (k <= 0) {
			rc = k;
			break;
		}
		if (!m || !from || m->nrcpt == 0) {
			probe_fail_internal(x->sink, false, STAGE_RCPT);
			rc = -1;
			break;
		}
		if (send_one(x, from, m, &r, &stage) == 0) {
			nok++;
			snd->sent(snd->ud, i, true, r.code, r.text);
			continue;
		}
		nbad++;
		fail_reply(x, stage, &r, false);
		snd->sent(snd->ud, i, false, r.code > 0 ? r.code : 0,
		          r.code > 0 ? r.text : reply_detail(x, &r, d, sizeof(d)));
		if (r.code < 500) {
			rc = -1;
			break;
		}
		net_set_timeout(&x->io.conn, x->p->opts.timeout_s);
		if (smtp_cmd(x, "RSET", &rr) < 0 || rr.code != 250) {
			fail_reply(x, stage, &rr, false);
			rc = -1;
			break;
		}
	}
	str_printf(d, sizeof(d), ngettext("%zu message accepted, %zu refused",
	                                   "%zu messages accepted, %zu refused", nok),
	           nok, nbad);
	step_end(x, s, rc == 0 && nbad == 0, d);
	return rc == 0 && nbad == 0 ? 0 : -1;
}

/* A test's dialogue up to AUTH, then body (its envelope, or a send's
 * messages), then QUIT: the test and `send` share every step before. */
static int
smtp_session(struct probe *p, int (*body)(struct sctx *x, const void *arg),
             const void *arg)
{
	struct sctx x;
	int rc = -1;

	sctx_for_account(&x, p, true);
	if (probe_open(p, &x.io, false, x.host, x.port) < 0)
		goto out;
	if (smtp_connect_phase(&x) < 0)
		goto quit;
	/* An account without a password (a server that needs no AUTH, such
	 * as a relay that trusts the sending host) does not log in: AUTH
	 * with an empty password would fail where the server never asked. */
	if (p->smtp_pw[0] && do_auth(&x) < 0)
		goto quit;
	if (body && body(&x, arg) < 0)
		goto quit;
	do_quit(&x, true);
	rc = 0;
	goto out;
quit:
	if (x.smtp)
		do_quit(&x, false);
out:
	sctx_close(&x);
	return rc;
}

static int
test_envelope(struct sctx *x, const void *arg)
{
	(void)arg;
	return do_envelope(x);
}

static int
send_body(struct sctx *x, const void *arg)
{
	return send_messages(x, arg);
}

int
probe_smtp_run(struct probe *p)
{
	return smtp_session(p, p->opts.no_send ? NULL : test_envelope, NULL);
}

int
probe_smtp_send(struct probe *p, const struct probe_sender *snd)
{
	return smtp_session(p, send_body, snd);
}

int
probe_smtp_quick(struct probe *p, const char *host, unsigned port,
                 enum security sec, int timeout_s)
{
	struct sctx x;
	struct addrinfo *res = NULL, *ai;
	int gai, rc = -1;

	memset(&x, 0, sizeof(x));
	x.p = p;
	x.host = host;
	x.port = port;
	x.sec = sec;
	x.sink = NULL;
	x.tls = tls_bare;
	probe_io_init(p, &x.io, false, false);
	if (net_resolve(host, port, p->cancel_fd, timeout_s * 1000, &res, &gai) != NET_OK)
		return -1;
	for (ai = res; ai; ai = ai->ai_next) {
		net_set_timeout(&x.io.conn, timeout_s);
		if (net_connect(&x.io.conn, ai) == NET_OK)
			break;
	}
	freeaddrinfo(res);
	if (x.io.conn.fd >= 0 && smtp_connect_phase(&x) == 0 && x.tls_on) {
		rc = 0;
		do_quit(&x, false);
	}
	sctx_close(&x);
	return rc;
}

int
probe_smtp_check(struct probe *p, struct probe_check *out)
{
	struct sctx x;
	int rc = -1;

	sctx_for_account(&x, p, false);
	if (probe_open(p, &x.io, false, x.host, x.port) == 0) {
		rc = smtp_connect_phase(&x);
		out->starttls = x.has_starttls;
		out->tls = x.tls_on || p->res.ntls > 0;
		if (rc == 0 && x.tls_on && x.has_auth)
			str_copy(out->auth, sizeof(out->auth), x.auth_line);
		if (x.smtp)
			do_quit(&x, false);
	}
	sctx_close(&x);
	return rc;
}
