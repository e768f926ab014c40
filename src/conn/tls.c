/* TLS with GnuTLS directly rather than through libetpan: libetpan verifies
 * nothing, hides the session (no version, cipher or alert text) and prints
 * GnuTLS errors on stderr. The probe hands libetpan a stream whose reads
 * and writes land here once the handshake is done. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tls.h"
#include "util.h"

static const char *const cert_names[] = {
	[CERT_OK] = "",
	[CERT_EXPIRED] = "expired",
	[CERT_NOT_YET_VALID] = "not_yet_valid",
	[CERT_HOSTNAME_MISMATCH] = "hostname_mismatch",
	[CERT_UNTRUSTED] = "untrusted",
	[CERT_SELF_SIGNED] = "self_signed",
	[CERT_PIN_MISMATCH] = "pin_mismatch",
};

const char *
cert_problem_name(enum cert_problem p)
{
	if ((unsigned)p >= sizeof cert_names / sizeof cert_names[0])
		return "untrusted";
	return cert_names[p];
}

struct tls_session {
	gnutls_session_t s;
	gnutls_certificate_credentials_t cred;
	struct net_conn *c;
};

int
tls_global_init(void)
{
	return gnutls_global_init() == GNUTLS_E_SUCCESS ? 0 : -1;
}

/* Transport functions: the socket is non-blocking, so EAGAIN goes back to
 * GnuTLS and the loops below wait with the connection's deadline. */
static ssize_t
pull_fn(gnutls_transport_ptr_t ptr, void *buf, size_t n)
{
	struct tls_session *t = ptr;
	ssize_t r = net_raw_recv(t->c, buf, n);

	if (r < 0)
		gnutls_transport_set_errno(t->s, errno);
	return r;
}

static ssize_t
push_fn(gnutls_transport_ptr_t ptr, const void *buf, size_t n)
{
	struct tls_session *t = ptr;
	ssize_t r = net_raw_send(t->c, buf, n);

	if (r < 0)
		gnutls_transport_set_errno(t->s, errno);
	return r;
}

static ssize_t tls_read(struct net_conn *c, void *buf, size_t n);
static ssize_t tls_write(struct net_conn *c, const void *buf, size_t n);
static void tls_close(struct net_conn *c);

/* What tls_handshake() installs on the connection: from then on its reads
 * and writes are TLS records, and closing it ends the session first. */
static const struct net_ops tls_ops = {
	.read = tls_read,
	.write = tls_write,
	.close = tls_close,
};

static bool
is_ip(const char *host)
{
	unsigned char b[16];

	return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

static void
tls_free(struct tls_session *t)
{
	if (!t)
		return;
	gnutls_deinit(t->s);
	gnutls_certificate_free_credentials(t->cred);
	free(t);
}

/* The system's policy minus TLS 1.0 and 1.1 (RFC 8996), or the system's
 * policy as it is when the account allows old versions. */
static int
set_priority(gnutls_session_t s, bool allow_old)
{
	const char *err = NULL;

	if (allow_old)
		return gnutls_set_default_priority(s);
	return gnutls_set_default_priority_append(s, "-VERS-TLS1.1:-VERS-TLS1.0",
	                                          &err, 0);
}

int
tls_handshake(struct net_conn *c, const char *host, bool allow_old,
              struct tls_fail *f)
{
	struct tls_session *t;
	int r;

	memset(f, 0, sizeof(*f));
	t = calloc(1, sizeof(*t));
	if (!t) {
		str_copy(f->msg, sizeof(f->msg), "out of memory");
		return -1;
	}
	t->c = c;
	if (gnutls_certificate_allocate_credentials(&t->cred) < 0) {
		free(t);
		str_copy(f->msg, sizeof(f->msg), "cannot allocate TLS credentials");
		return -1;
	}
	r = gnutls_init(&t->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
	if (r < 0) {
		gnutls_certificate_free_credentials(t->cred);
		free(t);
		str_copy(f->msg, sizeof(f->msg), gnutls_strerror(r));
		return -1;
	}
	if ((r = set_priority(t->s, allow_old)) < 0 ||
	    (r = gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, t->cred)) < 0 ||
	    (!is_ip(host) &&
	     (r = gnutls_server_name_set(t->s, GNUTLS_NAME_DNS, host,
	                                 strlen(host))) < 0)) {
		str_copy(f->msg, sizeof(f->msg), gnutls_strerror(r));
		tls_free(t);
		return -1;
	}
	gnutls_transport_set_ptr(t->s, t);
	gnutls_transport_set_pull_function(t->s, pull_fn);
	gnutls_transport_set_push_function(t->s, push_fn);
	/* The first bytes seen tell a clear-text server from a broken TLS one;
	 * only what arrives during this handshake counts. */
	c->nfirst = 0;
	for (;;) {
		r = gnutls_handshake(t->s);
		if (r == 0)
			break;
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			if (net_wait(c, gnutls_record_get_direction(t->s) == 1) != NET_OK) {
				str_copy(f->msg, sizeof(f->msg),
				         c->cancelled ? "cancelled" :
				         "no answer to the TLS handshake in time");
				tls_free(t);
				return -1;
			}
			continue;
		}
		if (!gnutls_error_is_fatal(r))
			continue;
		/* The socket layer refused a read: say why, not "Error in the
		 * pull function". */
		if (r == GNUTLS_E_PULL_ERROR && (c->cancelled || c->timed_out))
			str_copy(f->msg, sizeof(f->msg), c->cancelled ? "cancelled" :
			         "no answer to the TLS handshake in time");
		else if (r == GNUTLS_E_PULL_ERROR && c->err == EMSGSIZE)
			str_copy(f->msg, sizeof(f->msg),
			         "the server sent too much during the TLS handshake");
		else
			str_copy(f->msg, sizeof(f->msg), gnutls_strerror(r));
		/* A server that knows only TLS 1.0/1.1 answers our hello with
		 * its old version, or with a protocol_version alert. */
		if (!allow_old &&
		    (r == GNUTLS_E_UNSUPPORTED_VERSION_PACKET ||
		     (r == GNUTLS_E_FATAL_ALERT_RECEIVED &&
		      gnutls_alert_get(t->s) == GNUTLS_A_PROTOCOL_VERSION))) {
			f->version_refused = true;
			str_printf(f->msg, sizeof(f->msg), "%s (the server offers no "
			           "TLS 1.2 or later)", gnutls_strerror(r));
		}
		if (c->nfirst >= 3 && c->first[0] >= 0x20 && c->first[0] < 0x7f &&
		    c->first[1] >= 0x20 && c->first[1] < 0x7f)
			f->peer_spoke_plain = true;
		tls_free(t);
		return -1;
	}
	c->layer = t;
	c->ops = &tls_ops;
	return 0;
}

static ssize_t
tls_read(struct net_conn *c, void *buf, size_t n)
{
	struct tls_session *t = c->layer;

	for (;;) {
		ssize_t r = gnutls_record_recv(t->s, buf, n);

		if (r >= 0)
			return r;
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			if (net_wait(c, false) != NET_OK)
				return -1;
			continue;
		}
		if (r == GNUTLS_E_PREMATURE_TERMINATION)
			return 0;
		if (!gnutls_error_is_fatal((int)r))
			continue;
		/* A pull error keeps the socket layer's reason (timeout,
		 * cancel, too much data, reset). */
		if (r != GNUTLS_E_PULL_ERROR || c->err == 0)
			c->err = EPROTO;
		return -1;
	}
}

static ssize_t
tls_write(struct net_conn *c, const void *buf, size_t n)
{
	struct tls_session *t = c->layer;
	const char *p = buf;
	size_t done = 0;

	while (done < n) {
		ssize_t r = gnutls_record_send(t->s, p + done, n - done);

		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			if (net_wait(c, true) != NET_OK)
				return -1;
			continue;
		}
		if (r < 0) {
			c->err = EPIPE;
			return -1;
		}
		done += (size_t)r;
	}
	return (ssize_t)n;
}

static void
tls_close(struct net_conn *c)
{
	tls_free(c->layer);
	c->layer = NULL;
	c->ops = NULL;
}

static void
iso_time(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	if (t == (time_t)-1 || !gmtime_r(&t, &tm)) {
		str_copy(out, outlen, "");
		return;
	}
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
dn_copy(gnutls_x509_crt_t crt, bool issuer, char *out, size_t outlen)
{
	gnutls_datum_t d = { NULL, 0 };
	int r = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &d, 0)
	               : gnutls_x509_crt_get_dn3(crt, &d, 0);

	if (r < 0 || !d.data) {
		str_copy(out, outlen, "");
		return;
	}
	str_sanitize(out, outlen, (const char *)d.data, d.size);
	gnutls_free(d.data);
}

/* Fills the fields that do not depend on trust. */
static void
describe(struct tls_session *t, gnutls_x509_crt_t leaf,
         struct tls_info *info)
{
	const char *v = gnutls_protocol_get_name(gnutls_protocol_get_version(t->s));
	/* The IANA suite name (TLS_AES_256_GCM_SHA384, ...) is what users
	 * and servers' documentation call it. */
	const char *suite = gnutls_ciphersuite_get(t->s);
	unsigned char md[32];
	size_t mdlen = sizeof(md), i;
	char *p;

	str_copy(info->version, sizeof(info->version), v ? v : "?");
	if (suite) {
		str_copy(info->cipher, sizeof(info->cipher), suite);
	} else {
		char *desc = gnutls_session_get_desc(t->s);

		str_copy(info->cipher, sizeof(info->cipher), desc ? desc : "?");
		gnutls_free(desc);
	}
	if (!leaf)
		return;
	dn_copy(leaf, false, info->subject, sizeof(info->subject));
	dn_copy(leaf, true, info->issuer, sizeof(info->issuer));
	iso_time(gnutls_x509_crt_get_activation_time(leaf), info->not_before,
	         sizeof(info->not_before));
	iso_time(gnutls_x509_crt_get_expiration_time(leaf), info->not_after,
	         sizeof(info->not_after));
	if (gnutls_x509_crt_get_fingerprint(leaf, GNUTLS_DIG_SHA256, md, &mdlen) == 0 &&
	    mdlen == 32) {
		memcpy(info->sha256, "sha256:", 7);
		p = info->sha256 + 7;
		for (i = 0; i < 32; i++)
			sprintf(p + 2 * i, "%02x", md[i]);
	}
}

enum cert_problem
tls_verify(struct net_conn *c, const char *host, const char *ca_pem,
           size_t ca_len, const char *ca_name, const char *pin,
           struct tls_info *info, char *why, size_t whylen)
{
	struct tls_session *t = c->ops == &tls_ops ? c->layer : NULL;
	const gnutls_datum_t *peers;
	unsigned npeers = 0, i, status = 0;
	gnutls_x509_crt_t crts[16];
	unsigned ncrts = 0;
	gnutls_x509_trust_list_t tl = NULL;
	enum cert_problem prob = CERT_OK;
	gnutls_typed_vdata_st vd[1];

	str_copy(why, whylen, "");
	if (!t) {
		str_copy(why, whylen, "no TLS session");
		return CERT_UNTRUSTED;
	}
	peers = gnutls_certificate_get_peers(t->s, &npeers);
	for (i = 0; peers && i < npeers && ncrts < 16; i++) {
		if (gnutls_x509_crt_init(&crts[ncrts]) < 0)
			break;
		if (gnutls_x509_crt_import(crts[ncrts], &peers[i],
		                           GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(crts[ncrts]);
			break;
		}
		ncrts++;
	}
	describe(t, ncrts ? crts[0] : NULL, info);
	if (ncrts == 0) {
		str_copy(why, whylen, "the server sent no certificate");
		prob = CERT_UNTRUSTED;
		goto out;
	}
	if (pin && pin[0]) {
		if (strcasecmp(pin, info->sha256) != 0) {
			str_printf(why, whylen, "the certificate is %s, the pin is %s",
			           info->sha256, pin);
			prob = CERT_PIN_MISMATCH;
		}
		goto out;
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
		str_copy(why, whylen, "cannot build a trust list");
		prob = CERT_UNTRUSTED;
		goto out;
	}
	gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (ca_pem) {
		gnutls_datum_t d = { (unsigned char *)ca_pem, (unsigned)ca_len };
		char sname[256];

		if (gnutls_x509_trust_list_add_trust_mem(tl, &d, NULL,
		                                         GNUTLS_X509_FMT_PEM, 0, 0) <= 0) {
			str_sanitize(sname, sizeof sname, ca_name ? ca_name : "",
			             strlen(ca_name ? ca_name : ""));
			str_printf(why, whylen, "no certificate could be read from %s; ",
			           sname);
		}
	}
	vd[0].type = GNUTLS_DT_KEY_PURPOSE_OID;
	vd[0].data = (void *)GNUTLS_KP_TLS_WWW_SERVER;
	vd[0].size = 0;
	if (gnutls_x509_trust_list_verify_crt2(tl, crts, ncrts, vd, 1, 0,
	                                       &status, NULL) < 0)
		status = GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND;
	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND) {
		/* A lone certificate that signed itself is "self-signed";
		 * anything else whose root we do not know is "untrusted". */
		if (gnutls_x509_crt_check_issuer(crts[ncrts - 1], crts[ncrts - 1]) &&
		    ncrts == 1)
			prob = CERT_SELF_SIGNED;
		else
			prob = CERT_UNTRUSTED;
	} else if (status & GNUTLS_CERT_EXPIRED) {
		prob = CERT_EXPIRED;
	} else if (status & GNUTLS_CERT_NOT_ACTIVATED) {
		prob = CERT_NOT_YET_VALID;
	} else if (status != 0) {
		prob = CERT_UNTRUSTED;
	} else if (!gnutls_x509_crt_check_hostname2(crts[0], host, 0)) {
		prob = CERT_HOSTNAME_MISMATCH;
	}
	if (prob != CERT_OK) {
		gnutls_datum_t d = { NULL, 0 };
		size_t k = strlen(why);

		if (prob == CERT_HOSTNAME_MISMATCH)
			str_printf(why + k, whylen - k,
			           "the certificate (%s) is not valid for %s",
			           info->subject, host);
		else if (gnutls_certificate_verification_status_print(
		             status, GNUTLS_CRT_X509, &d, 0) == 0 && d.data) {
			str_sanitize(why + k, whylen - k, (const char *)d.data,
			             strlen((const char *)d.data));
			gnutls_free(d.data);
		}
	}
out:
	if (tl)
		gnutls_x509_trust_list_deinit(tl, 1);
	for (i = 0; i < ncrts; i++)
		gnutls_x509_crt_deinit(crts[i]);
	info->verified = prob == CERT_OK;
	str_copy(info->problem, sizeof(info->problem),
	         prob == CERT_OK ? "" : cert_problem_name(prob));
	return prob;
}
