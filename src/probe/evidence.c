/* The sink of a failure's evidence: the only code that writes a struct
 * diag_evidence. The steps say what went wrong through one recorder per
 * kind of failure (OpenSMTPD's client reports every failure through one
 * smtp_client_abort() the same way); the first failure of a run is kept,
 * later ones are ignored, and a NULL sink keeps nothing (an alternative
 * port's check, where only the answer counts). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "probe_int.h"
#include "util.h"

void
probe_sink_init(struct probe_sink *k, struct probe *p)
{
	memset(k, 0, sizeof(*k));
	k->p = p;
}

struct probe_step *
probe_sink_step(struct probe_sink *k, const char *name)
{
	return k ? probe_step_begin(k->p, name) : NULL;
}

bool
probe_sink_keeps(const struct probe_sink *k)
{
	return k && !k->failed;
}

bool
probe_sink_failed(const struct probe_sink *k)
{
	return k && k->failed;
}

void
probe_sink_target(struct probe_sink *k, const char *host, unsigned port,
                  enum security sec)
{
	if (!k || k->failed)
		return;
	str_copy(k->ev.host, sizeof(k->ev.host), host);
	k->ev.port = port;
	k->ev.security = sec;
	/* A new dialogue: what an earlier one showed is not this one's. */
	k->ev.ehlo_seen = k->ev.offered_starttls = k->ev.offered_auth = false;
	k->ev.tls_on = k->ev.auth_ok = false;
}

void
probe_sink_ehlo(struct probe_sink *k, bool starttls, bool auth)
{
	if (!k || k->failed)
		return;
	k->ev.ehlo_seen = true;
	k->ev.offered_starttls = starttls;
	k->ev.offered_auth = auth;
}

void
probe_sink_tls_on(struct probe_sink *k)
{
	if (k && !k->failed)
		k->ev.tls_on = true;
}

void
probe_sink_auth_ok(struct probe_sink *k)
{
	if (k && !k->failed)
		k->ev.auth_ok = true;
}

/* The evidence to fill for a new failure, or NULL when it is not kept:
 * no sink, or the run already failed (the first failure is the one). */
static struct diag_evidence *
fail_begin(struct probe_sink *k, bool imap, enum diag_stage stage)
{
	if (!k || k->failed)
		return NULL;
	k->failed = true;
	k->ev.imap = imap;
	k->ev.stage = stage;
	k->ev.cancelled = probe_is_cancelled(k->p);
	return &k->ev;
}

/* The connection's state. hangup: a close without an error is a reset
 * (the server went away mid-dialogue). */
static void
fail_conn_state(struct probe_sink *k, struct diag_evidence *ev,
                const struct net_conn *c, bool hangup)
{
	ev->sys_errno = c->err;
	ev->timed_out = c->timed_out;
	ev->cancelled = c->cancelled || probe_is_cancelled(k->p);
	if (hangup && c->eof && !ev->sys_errno)
		ev->sys_errno = ECONNRESET;
}

void
probe_fail_internal(struct probe_sink *k, bool imap, enum diag_stage stage)
{
	struct diag_evidence *ev = fail_begin(k, imap, stage);

	if (ev)
		ev->internal = true;
}

void
probe_fail_resolve(struct probe_sink *k, bool imap, int net_rc, int gai)
{
	struct diag_evidence *ev = fail_begin(k, imap, STAGE_RESOLVE);

	if (!ev)
		return;
	ev->gai_error = gai;
	ev->timed_out = net_rc == NET_TIMEOUT;
	ev->cancelled = net_rc == NET_CANCELLED || probe_is_cancelled(k->p);
}

void
probe_fail_connect(struct probe_sink *k, bool imap, int err, bool timed_out,
                   bool cancelled)
{
	struct diag_evidence *ev = fail_begin(k, imap, STAGE_CONNECT);

	if (!ev)
		return;
	ev->sys_errno = err;
	ev->timed_out = timed_out;
	ev->cancelled = cancelled || probe_is_cancelled(k->p);
}

void
probe_fail_stream(struct probe_sink *k, bool imap, enum diag_stage stage,
                  const struct net_conn *c, const char *said, bool peer_tls)
{
	struct diag_evidence *ev = fail_begin(k, imap, stage);

	if (!ev)
		return;
	fail_conn_state(k, ev, c, true);
	if (said)
		str_copy(ev->reply, sizeof(ev->reply), said);
	ev->peer_spoke_tls = peer_tls;
}

void
probe_fail_tls(struct probe_sink *k, bool imap, const struct net_conn *c,
               const struct tls_fail *f)
{
	struct diag_evidence *ev = fail_begin(k, imap, STAGE_TLS);

	if (!ev)
		return;
	fail_conn_state(k, ev, c, false);
	ev->tls_handshake_failed = true;
	ev->peer_spoke_plain = f->peer_spoke_plain;
	ev->tls_version_refused = f->version_refused;
}

void
probe_fail_cert(struct probe_sink *k, bool imap, enum cert_problem prob,
                const char *sha256)
{
	struct diag_evidence *ev = fail_begin(k, imap, STAGE_CERT);

	if (!ev)
		return;
	ev->cert = prob;
	str_copy(k->leaf_sha256, sizeof(k->leaf_sha256), sha256);
}

void
probe_fail_ca_file(struct probe_sink *k, bool imap, const char *why)
{
	struct diag_evidence *ev = fail_begin(k, imap, STAGE_CERT);

	if (ev)
		str_copy(ev->ca_file_why, sizeof(ev->ca_file_why), why);
}

void
probe_fail_reply(struct probe_sink *k, bool imap, enum diag_stage stage,
                 int code, const char *text, const char *imap_code)
{
	struct diag_evidence *ev = fail_begin(k, imap, stage);

	if (!ev)
		return;
	ev->reply_code = code;
	str_copy(ev->reply, sizeof(ev->reply), text ? text : "");
	str_copy(ev->imap_code, sizeof(ev->imap_code), imap_code ? imap_code : "");
}

void
probe_fail_no_auth(struct probe_sink *k, int code, const char *text,
                   bool not_offered)
{
	struct diag_evidence *ev = fail_begin(k, false, STAGE_AUTH);

	if (!ev)
		return;
	ev->reply_code = code;
	str_copy(ev->reply, sizeof(ev->reply), text);
	ev->auth_not_offered = not_offered;
}

bool
probe_sink_close(struct probe_sink *k, struct diag_input *in)
{
	struct probe *p = k->p;

	if (!k->failed)
		return false;
	/* A failure of a run that was stopped says only that it was. */
	if (probe_is_cancelled(p))
		k->ev.cancelled = true;
	/* A last pass for the passwords' forms over the server's words
	 * (each part was cleaned where it was read). */
	probe_scrub(p, k->ev.reply, sizeof(k->ev.reply));
	probe_scrub(p, k->ev.imap_code, sizeof(k->ev.imap_code));
	diag_input_init(in, &k->ev, &p->a, p->has_preset ? &p->preset : NULL);
	str_copy(in->pin_candidate, sizeof(in->pin_candidate), k->leaf_sha256);
	return true;
}
