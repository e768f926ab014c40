/* The probe engine: the run, its steps, events and evidence, and the
 * plumbing shared by the SMTP and IMAP dialogues. libetpan parses the
 * protocols, but over a stream whose low-level driver is ours (net.c for
 * the socket, tls.c for TLS), so every wait has a deadline, a cancel wakes
 * it at once, errno survives, and each byte passes the transcript. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "base64.h"
#include "file.h"
#include "oauth.h"
#include "probe_int.h"
#include "secmem.h"
#include "tls.h"
#include "i18n.h"
#include "util.h"

void
probe_opts_default(struct probe_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_s = 10;
	o->reply_wait_s = 15;
	o->find_alternatives = true;
}

int
probe_global_init(void)
{
	signal(SIGPIPE, SIG_IGN);
	/* Only libetpan's own socket drivers use this; ours keep their own
	 * deadlines. A sane bound in case one is ever reached. */
	mailstream_network_delay.tv_sec = 30;
	mailstream_network_delay.tv_usec = 0;
	/* TLS is done by tls.c with GnuTLS directly and logs nothing, so the
	 * library's gnutls_perror() chatter on stderr cannot happen. */
	return tls_global_init();
}

/* ---- the stream driver over net_conn ---- */

/* The size of the literal a complete line announces ("... {123}\r"), or
 * 0 when it announces none. */
static uint64_t
line_literal(const char *l, size_t n)
{
	uint64_t v = 0, mul = 1;
	size_t digits = 0;

	if (n > 0 && l[n - 1] == '\r')
		n--;
	if (n < 3 || l[n - 1] != '}')
		return 0;
	for (n--; n > 0 && l[n - 1] >= '0' && l[n - 1] <= '9'; n--) {
		if (++digits > 12)
			return UINT64_MAX;
		v += (uint64_t)(l[n - 1] - '0') * mul;
		mul *= 10;
	}
	return digits && n > 0 && l[n - 1] == '{' ? v : 0;
}

/* libetpan 1.9.4 allocates an IMAP literal's whole announced size (up to
 * 4 GB) before reading it. One that cannot fit the step's receive budget
 * (NET_STEP_RX_MAX) would fail anyway: refuse it before the parser sees
 * it. Lines are followed across reads by their last bytes; a literal's own
 * bytes are data, skipped, so that a line of a message ending in "{N}" is
 * not taken for an announcement. */
static bool
literal_too_big(struct probe_io *io, const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (io->lit_left) {
			size_t k = n - i < io->lit_left ? n - i : (size_t)io->lit_left;

			io->lit_left -= k;
			i += k - 1;
			continue;
		}
		if (buf[i] == '\n') {
			uint64_t v = line_literal(io->ltail, io->nltail);

			io->nltail = 0;
			if (v > NET_STEP_RX_MAX) {
				io->big_literal = v;
				return true;
			}
			io->lit_left = v;       /* the line goes on after it */
			continue;
		}
		if (io->nltail == sizeof(io->ltail)) {
			memmove(io->ltail, io->ltail + 1, sizeof(io->ltail) - 1);
			io->nltail--;
		}
		io->ltail[io->nltail++] = buf[i];
	}
	return false;
}

static ssize_t
drv_read(mailstream_low *s, void *buf, size_t n)
{
	struct probe_io *io = s->data;
	ssize_t r = net_read(&io->conn, buf, n);

	if (r > 0 && io->tr.imap && literal_too_big(io, buf, (size_t)r)) {
		io->conn.err = EMSGSIZE;
		return -1;
	}
	return r;
}

static ssize_t
drv_write(mailstream_low *s, const void *buf, size_t n)
{
	struct probe_io *io = s->data;

	return net_write(&io->conn, buf, n);
}

/* The socket belongs to probe_io, not to the stream: libetpan closes
 * streams on its own error paths, and a closed-and-reused descriptor must
 * never be shut down by a cancel. */
static int
drv_close(mailstream_low *s)
{
	struct probe_io *io = s->data;
	mailstream *st = io->stream;

	/* Called by mailstream_close() just before it frees the stream's
	 * buffers with free(): the locked ones go back here, wiped. */
	if (st && io->bufcap) {
		secmem_free(st->read_buffer, io->bufcap);
		secmem_free(st->write_buffer, io->bufcap);
		st->read_buffer = st->write_buffer = NULL;
		io->bufcap = 0;
	}
	io->stream = NULL;
	return 0;
}

static int
drv_get_fd(mailstream_low *s)
{
	struct probe_io *io = s->data;

	return io->conn.fd;
}

static void
drv_free(mailstream_low *s)
{
	free(s);
}

static void
drv_cancel(mailstream_low *s)
{
	(void)s;
}

static struct mailstream_cancel *
drv_get_cancel(mailstream_low *s)
{
	(void)s;
	return NULL;
}

static carray *
drv_chain(mailstream_low *s)
{
	(void)s;
	return NULL;
}

static mailstream_low_driver probe_driver = {
	.mailstream_read = drv_read,
	.mailstream_write = drv_write,
	.mailstream_close = drv_close,
	.mailstream_get_fd = drv_get_fd,
	.mailstream_free = drv_free,
	.mailstream_cancel = drv_cancel,
	.mailstream_get_cancel = drv_get_cancel,
	.mailstream_get_certificate_chain = drv_chain,
};

#define STREAM_BUFFER 8192

void
probe_stream_wipe(void *stream)
{
	mailstream *s = stream;

	if (!s)
		return;
	/* Sent: what a failed flush left is dropped too (the connection is
	 * broken then). Received: what was already read sits after the unread
	 * bytes, which libetpan keeps first. */
	if (s->write_buffer) {
		secmem_wipe(s->write_buffer, s->buffer_max_size);
		s->write_buffer_len = 0;
	}
	if (s->read_buffer && s->read_buffer_len < s->buffer_max_size)
		secmem_wipe(s->read_buffer + s->read_buffer_len,
		            s->buffer_max_size - s->read_buffer_len);
}

int
probe_stream_open(struct probe_io *io)
{
	mailstream_low *low = mailstream_low_new(io, &probe_driver);
	mailstream *s;

	if (!low)
		return -1;
	s = mailstream_new(low, STREAM_BUFFER);
	if (!s) {
		mailstream_low_free(low);
		return -1;
	}
	/* The stream's buffers hold the AUTH and LOGIN commands and what the
	 * server answers to them: locked memory instead of libetpan's. */
	{
		char *r = secmem_alloc(STREAM_BUFFER), *w = secmem_alloc(STREAM_BUFFER);

		if (r && w) {
			free(s->read_buffer);
			free(s->write_buffer);
			s->read_buffer = r;
			s->write_buffer = w;
			io->bufcap = STREAM_BUFFER;
		} else {
			secmem_free(r, STREAM_BUFFER);
			secmem_free(w, STREAM_BUFFER);
		}
	}
	io->stream = s;
	return 0;
}

void
probe_io_close(struct probe_io *io)
{
	if (io->stream) {
		mailstream *s = io->stream;

		io->stream = NULL;
		mailstream_close(s);
	}
	if (io->log)
		transcript_flush(&io->tr);
	net_close(&io->conn);
}

/* ---- the passwords' forms, kept out of everything we report ---- */

/* Forms shorter than this are not scrubbed: replacing every "abc" of a
 * reply would destroy it, and such a password is no secret anyway. */
#define SCRUB_MIN 4

static void
add_form(struct probe *p, const char *s, size_t n)
{
	size_t i;

	if (n < SCRUB_MIN)
		return;
	for (i = 0; i < PROBE_SECRET_FORMS && p->forms[i]; i++)
		if (strlen(p->forms[i]) == n && memcmp(p->forms[i], s, n) == 0)
			return;
	if (i == PROBE_SECRET_FORMS)
		return;
	p->forms[i] = secmem_alloc(n + 1);
	if (!p->forms[i])
		return;
	p->formcap[i] = n + 1;
	memcpy(p->forms[i], s, n);
	/* Longest first: the base64 of a password can be the tail of the
	 * AUTH PLAIN base64, which must go whole. */
	for (; i > 0 && strlen(p->forms[i - 1]) < n; i--) {
		char *f = p->forms[i];
		size_t c = p->formcap[i];

		p->forms[i] = p->forms[i - 1];
		p->formcap[i] = p->formcap[i - 1];
		p->forms[i - 1] = f;
		p->formcap[i - 1] = c;
	}
}

/* pw as typed, IMAP-quoted, base64 (AUTH LOGIN) and base64 of
 * "\0user\0pw" (AUTH PLAIN). */
static void
add_forms(struct probe *p, const char *user, const char *pw)
{
	size_t ul = strlen(user), pl = strlen(pw), i, o = 0;
	size_t rawlen = ul + pl + 2, cap = 2 * pl + ((rawlen + 2) / 3) * 4 + 8;
	char *buf = secmem_alloc(cap), *raw = secmem_alloc(rawlen + 1);

	if (buf && raw && pl > 0) {
		add_form(p, pw, pl);
		for (i = 0; i < pl; i++) {
			if (pw[i] == '"' || pw[i] == '\\')
				buf[o++] = '\\';
			buf[o++] = pw[i];
		}
		add_form(p, buf, o);
		add_form(p, buf, base64_encode((const unsigned char *)pw, pl, buf, cap));
		raw[0] = '\0';
		memcpy(raw + 1, user, ul);
		raw[1 + ul] = '\0';
		memcpy(raw + 2 + ul, pw, pl);
		add_form(p, buf, base64_encode((const unsigned char *)raw, rawlen, buf, cap));
	}
	secmem_free(buf, cap);
	secmem_free(raw, rawlen + 1);
}

static const char scrub_mark[] = "<redacted>";

void
probe_scrub(const struct probe *p, char *text, size_t cap)
{
	size_t i, n, ml = sizeof(scrub_mark) - 1, len;
	char *at;

	for (i = 0; i < PROBE_SECRET_FORMS && p->forms[i]; i++) {
		char *from = text;

		n = strlen(p->forms[i]);
		/* Search on after each mark: a password such as "redacted"
		 * would otherwise be found again inside its own mark. */
		while ((at = strstr(from, p->forms[i])) != NULL) {
			len = strlen(text);
			if (len - n + ml >= cap) {
				/* no room for the mark: cut the text there */
				*at = '\0';
				break;
			}
			memmove(at + ml, at + n, len - (size_t)(at - text) - n + 1);
			memcpy(at, scrub_mark, ml);
			from = at + ml;
		}
	}
}

/* The length of the longest tail of text[0..len) that is the start (not
 * the whole) of form (n bytes), or best if none is longer. */
static size_t
tail_of(const char *text, size_t len, const char *form, size_t n, size_t best)
{
	size_t l;

	for (l = (n - 1 < len ? n - 1 : len); l > best; l--)
		if (memcmp(text + len - l, form, l) == 0)
			return l;
	return best;
}

/* The longest tail that is the start of a form: what is left of a secret
 * where a text was cut. */
static size_t
secret_tail(const struct probe *p, const char *text, size_t len)
{
	size_t best = 0, i;

	for (i = 0; i < PROBE_SECRET_FORMS && p->forms[i]; i++)
		best = tail_of(text, len, p->forms[i], strlen(p->forms[i]), best);
	return best;
}

/* Replaces such a tail (or a mark that was cut) by the mark, cutting
 * further back (at a character boundary) when the mark needs the room. */
static void
redact_tail(const struct probe *p, char *text, size_t cap)
{
	size_t len = strlen(text), t, at;

	t = tail_of(text, len, scrub_mark, sizeof(scrub_mark) - 1,
	            secret_tail(p, text, len));
	if (t == 0)
		return;
	at = len - t;
	if (cap < sizeof(scrub_mark)) {
		text[0] = '\0';
		return;
	}
	if (at + sizeof(scrub_mark) > cap)
		at = cap - sizeof(scrub_mark);
	while (at > 0 && ((unsigned char)text[at] & 0xc0) == 0x80)
		at--;
	memcpy(text + at, scrub_mark, sizeof(scrub_mark));
}

void
probe_clean(const struct probe *p, char *dst, size_t dstlen, const char *src,
            size_t srclen, bool cut)
{
	size_t ml = sizeof(scrub_mark) - 1, cap, i = 0, o = 0, f, n = 0;
	bool secret;
	char *raw, *clean;

	if (dstlen == 0)
		return;
	if (!p || !p->forms[0]) {
		str_sanitize(dst, dstlen, src, srclen);
		return;
	}
	secret = cut && secret_tail(p, src, srclen) > 0;
	for (f = 0; !secret && f < PROBE_SECRET_FORMS && p->forms[f]; f++)
		secret = memmem(src, srclen, p->forms[f], strlen(p->forms[f])) != NULL;
	if (!secret) {
		/* The usual case, without copies: sanitised, then scrubbed,
		 * since replacing a character by '?' could make a password out
		 * of other text; and if that had to be cut, its tail. */
		if (str_sanitize(dst, dstlen, src, srclen) < srclen)
			cut = true;
		probe_scrub(p, dst, dstlen);
		if (cut)
			redact_tail(p, dst, dstlen);
		return;
	}
	/* A form has SCRUB_MIN bytes or more: a mark per SCRUB_MIN bytes of
	 * src at most, and one more for a cut. Both copies may hold what is
	 * left of a secret: locked memory. */
	cap = srclen + (srclen / SCRUB_MIN + 1) * ml + 1;
	raw = secmem_alloc(cap);
	clean = secmem_alloc(cap);
	if (!raw || !clean) {
		/* Nothing is better than a secret. */
		str_copy(dst, dstlen, "(not shown: out of memory)");
		goto out;
	}
	/* 1. The secrets, on the bytes as they came: a sanitised copy no
	 *    longer holds a password that contains a character sanitising
	 *    replaces (U+0085, say). Longest form first (see add_form()). */
	while (i < srclen) {
		for (f = 0; f < PROBE_SECRET_FORMS && p->forms[f]; f++) {
			n = strlen(p->forms[f]);
			if (n <= srclen - i && memcmp(src + i, p->forms[f], n) == 0)
				break;
		}
		if (f < PROBE_SECRET_FORMS && p->forms[f]) {
			memcpy(raw + o, scrub_mark, ml);
			o += ml;
			i += n;
		} else {
			raw[o++] = src[i++];
		}
	}
	raw[o] = '\0';
	/* 2. Where src was cut, what may be the start of a secret. */
	if (cut)
		redact_tail(p, raw, cap);
	/* 3. Sanitised and scrubbed again, as above; cut to fit dst at a
	 *    character boundary, which is a cut too. */
	str_sanitize(clean, cap, raw, strlen(raw));
	probe_scrub(p, clean, cap);
	if (str_sanitize(dst, dstlen, clean, strlen(clean)) < strlen(clean))
		redact_tail(p, dst, dstlen);
out:
	secmem_free(raw, cap);
	secmem_free(clean, cap);
}

/* ---- results and events ---- */

/* Bounds of one run's transcript. A server can send short lines without
 * pause for a whole step (10,000 continuation lines, endless untagged
 * responses): each would be kept, and posted to the console, for ever.
 * Beyond these a note says so and the rest is not recorded; the steps
 * and the diagnosis still tell how the run ended. */
#define TRANSCRIPT_MAX_LINES 4096
#define TRANSCRIPT_MAX_BYTES ((size_t)1 << 20)

static void
emit_line(char dir, const char *text, void *ud)
{
	struct probe *p = ud;
	struct probe_result *r = &p->res;
	struct probe_line *l;
	struct probe_event ev;
	char clean[TRANSCRIPT_LINE_MAX];

	if (p->tcut)
		return;
	if (r->ntranscript + 1 >= TRANSCRIPT_MAX_LINES ||
	    p->tbytes + strlen(text) + 1 > TRANSCRIPT_MAX_BYTES) {
		p->tcut = true;
		dir = '*';
		text = "the transcript stops here: it reached its size limit";
	}
	if (r->ntranscript == p->tcap) {
		size_t cap = p->tcap ? p->tcap * 2 : 64;
		struct probe_line *v = realloc(r->transcript, cap * sizeof(*v));

		if (!v)
			return;
		r->transcript = v;
		p->tcap = cap;
	}
	l = &r->transcript[r->ntranscript];
	str_copy(clean, sizeof(clean), text);
	probe_scrub(p, clean, sizeof(clean));
	l->text = strdup(clean);
	if (!l->text)
		return;
	l->t_ms = now_ms() - p->t0;
	l->dir = dir;
	r->ntranscript++;
	p->tbytes += strlen(l->text) + 1;
	if (p->cb) {
		memset(&ev, 0, sizeof(ev));
		ev.type = PROBE_EV_TRANSCRIPT;
		ev.line = l;
		ev.result = r;
		p->cb(&ev, p->ud);
	}
}

static void
io_log(void *ud, char dir, const void *buf, size_t n)
{
	struct probe_io *io = ud;

	if (io->log)
		transcript_feed(&io->tr, dir, buf, n);
}

void
probe_io_init(struct probe *p, struct probe_io *io, bool imap, bool log)
{
	memset(io, 0, sizeof(*io));
	io->p = p;
	net_conn_init(&io->conn, p->cancel_fd);
	io->log = log;
	transcript_init(&io->tr, imap, emit_line, p);
	io->tr.redact = p;
	io->conn.log = io_log;
	io->conn.log_ud = io;
}

void
probe_note(struct probe *p, const char *fmt, ...)
{
	char buf[TRANSCRIPT_LINE_MAX], clean[TRANSCRIPT_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	probe_clean(p, clean, sizeof(clean), buf, strlen(buf),
	            n < 0 || (size_t)n >= sizeof(buf));
	secmem_wipe(buf, sizeof(buf));
	emit_line('*', clean, p);
}

struct probe_step *
probe_step_begin(struct probe *p, const char *name)
{
	struct probe_result *r = &p->res;
	struct probe_step *s;
	struct probe_event ev;

	if (r->nsteps == PROBE_MAX_STEPS)
		r->nsteps--;          /* never happens with our step list */
	s = &r->steps[r->nsteps++];
	memset(s, 0, sizeof(*s));
	str_copy(s->name, sizeof(s->name), name);
	s->ms = now_ms();         /* start time until the step ends */
	if (p->cb) {
		memset(&ev, 0, sizeof(ev));
		ev.type = PROBE_EV_STEP_BEGIN;
		ev.step = s;
		ev.result = r;
		p->cb(&ev, p->ud);
	}
	return s;
}

void
probe_step_end(struct probe *p, struct probe_step *s, bool ok,
               const char *fmt, ...)
{
	struct probe_event ev;
	char buf[PROBE_DETAIL];
	va_list ap;
	int n;

	if (!s)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* A detail that fills the buffer was most likely cut on its way
	 * here (a reply joined into PROBE_DETAIL bytes). */
	probe_clean(p, s->detail, sizeof(s->detail), buf, strlen(buf),
	            n < 0 || (size_t)n + 1 >= sizeof(buf));
	secmem_wipe(buf, sizeof(buf));
	s->ms = now_ms() - s->ms;
	s->done = true;
	s->ok = ok;
	if (p->cb) {
		memset(&ev, 0, sizeof(ev));
		ev.type = PROBE_EV_STEP_END;
		ev.step = s;
		ev.result = &p->res;
		p->cb(&ev, p->ud);
	}
}

bool
probe_is_cancelled(struct probe *p)
{
	return atomic_load(&p->cancelled);
}

/* ---- shared steps ---- */

int
probe_open(struct probe *p, struct probe_io *io, bool imap, const char *host,
           unsigned port)
{
	const char *pre = imap ? "imap" : "smtp";
	struct addrinfo *res = NULL, *ai;
	struct probe_step *s;
	char name[PROBE_STEP_NAME], list[PROBE_DETAIL], one[80];
	char errs[PROBE_DETAIL];
	int gai = 0, r, best_err = 0;
	bool any_timeout = false, any_refused = false, cancelled;

	probe_sink_target(&p->sink, host, port,
	                  imap ? p->a.imap_security : p->a.smtp_security);
	str_printf(name, sizeof(name), "%s.resolve", pre);
	s = probe_step_begin(p, name);
	r = net_resolve(host, port, p->cancel_fd, p->opts.timeout_s * 1000, &res,
	                &gai);
	if (r != NET_OK) {
		probe_fail_resolve(&p->sink, imap, r, gai);
		if (r == NET_TIMEOUT)
			probe_step_end(p, s, false, _("%s: the resolver did not answer within %d s"),
			               host, p->opts.timeout_s);
		else if (r == NET_CANCELLED)
			probe_step_end(p, s, false, "%s", _("cancelled"));
		else if (gai == EAI_NONAME)
			probe_step_end(p, s, false, _("%s: no such host name"), host);
		else if (gai == EAI_AGAIN)
			probe_step_end(p, s, false,
			               _("%s: the DNS resolver did not answer (temporary failure)"),
			               host);
		else
			probe_step_end(p, s, false, "%s: %s", host, gai_strerror(gai));
		return -1;
	}
	list[0] = '\0';
	for (ai = res; ai; ai = ai->ai_next) {
		net_addr_str(ai->ai_addr, ai->ai_addrlen, one, sizeof(one), false);
		if (!strstr(list, one)) {
			size_t k = strlen(list);

			str_printf(list + k, sizeof(list) - k, "%s%s", k ? ", " : "", one);
		}
	}
	probe_step_end(p, s, true, "%s", list);

	str_printf(name, sizeof(name), "%s.connect", pre);
	s = probe_step_begin(p, name);
	errs[0] = '\0';
	for (ai = res; ai; ai = ai->ai_next) {
		size_t k;

		net_set_timeout(&io->conn, p->opts.timeout_s);
		r = net_connect(&io->conn, ai);
		if (r == NET_OK)
			break;
		if (r == NET_CANCELLED)
			break;
		k = strlen(errs);
		str_printf(errs + k, sizeof(errs) - k, "%s%s: %s", k ? "; " : "",
		           io->conn.peer,
		           io->conn.timed_out ? _("no answer in time") : strerror(io->conn.err));
		if (io->conn.err == ECONNREFUSED)
			any_refused = true;
		else if (io->conn.timed_out)
			any_timeout = true;
		else if (!best_err)
			best_err = io->conn.err;
	}
	freeaddrinfo(res);
	if (io->conn.fd < 0) {
		cancelled = io->conn.cancelled || probe_is_cancelled(p);
		/* A refusal proves the host is up and the port closed: it is the
		 * most useful answer when addresses disagree. */
		probe_fail_connect(&p->sink, imap,
		                   any_refused ? ECONNREFUSED :
		                   any_timeout ? ETIMEDOUT : best_err,
		                   !any_refused && any_timeout, cancelled);
		probe_step_end(p, s, false, "%s", cancelled ? _("cancelled") : errs);
		return -1;
	}
	/* Name the addresses that failed first: a dead address in DNS is
	 * worth fixing even when another one works. */
	if (errs[0])
		probe_step_end(p, s, true, _("%s (after %s)"), io->conn.peer, errs);
	else
		probe_step_end(p, s, true, "%s", io->conn.peer);
	if (io->log)
		probe_note(p, "connected to %s from %s", io->conn.peer, io->conn.local);
	return 0;
}

int
probe_tls(struct probe *p, struct probe_io *io, bool imap, const char *host,
          unsigned port)
{
	const char *pre = imap ? "imap" : "smtp";
	struct probe_step *s;
	struct tls_fail f;
	struct tls_info info;
	char name[PROBE_STEP_NAME], why[PROBE_DETAIL];
	enum cert_problem prob;

	(void)port;
	str_printf(name, sizeof(name), "%s.tls", pre);
	s = probe_step_begin(p, name);
	net_set_timeout(&io->conn, p->opts.timeout_s);
	if (tls_handshake(&io->conn, host, p->a.allow_old_tls, &f) < 0) {
		probe_fail_tls(&p->sink, imap, &io->conn, &f);
		if (f.peer_spoke_plain)
			probe_note(p, "the server answered in clear text where TLS was expected");
		probe_note(p, "TLS: %s", f.msg);
		probe_step_end(p, s, false, "%s%s", f.msg,
		               f.peer_spoke_plain ? _(" (the server speaks clear text here)") : "");
		return -1;
	}
	memset(&info, 0, sizeof(info));
	prob = tls_verify(&io->conn, host, p->ca_pem, p->ca_len, p->a.ca_file,
	                  p->a.pin, &info, why, sizeof(why));
	probe_step_end(p, s, true, "%s %s", info.version, info.cipher);
	if (io->log)
		probe_note(p, "TLS %s %s", info.version, info.cipher);
	if (p->a.allow_old_tls && (strcmp(info.version, "TLS1.0") == 0 ||
	                           strcmp(info.version, "TLS1.1") == 0))
		probe_note(p, "warning: %s is obsolete (RFC 8996) and allowed for "
		           "this account only by --allow-old-tls", info.version);

	str_printf(name, sizeof(name), "%s.certificate", pre);
	s = probe_step_begin(p, name);
	str_copy(info.step, sizeof(info.step), name);
	if (p->res.ntls < sizeof(p->res.tls) / sizeof(p->res.tls[0]))
		p->res.tls[p->res.ntls++] = info;
	if (prob != CERT_OK) {
		probe_fail_cert(&p->sink, imap, prob, info.sha256);
		probe_note(p, "certificate: %s", why);
		probe_step_end(p, s, false, "%s: %s", cert_problem_name(prob), why);
		return -1;
	}
	probe_step_end(p, s, true, p->a.pin[0] ? _("pinned %s, valid until %s") :
	               _("%s, valid until %s"), info.subject, info.not_after);
	return 0;
}

void
probe_ehlo_name(const struct net_conn *c, char *out, size_t outlen)
{
	char h[256];

	/* A bare host name without a dot is not a valid EHLO argument
	 * (RFC 5321 4.1.1.1): fall back to an address literal. */
	if (gethostname(h, sizeof(h)) == 0) {
		h[sizeof(h) - 1] = '\0';
		if (strchr(h, '.') && !valid_hostname(h) && h[strlen(h) - 1] != '.') {
			str_copy(out, outlen, h);
			return;
		}
	}
	if (c->local[0] == '\0')
		str_copy(out, outlen, "[127.0.0.1]");
	else if (c->local_v6)
		str_printf(out, outlen, "[IPv6:%s]", c->local);
	else
		str_printf(out, outlen, "[%s]", c->local);
}

/* ---- public API ---- */

struct probe *
probe_new(const struct account *a, const char *smtp_pw, const char *imap_pw,
          const struct preset *preset, const struct probe_opts *opts)
{
	struct probe *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->a = *a;
	/* An OAuth account's "password" is its access token. */
	p->pwcap = a->oauth ? OAUTH_TOKEN_MAX + 1 : ACCT_SECRET_MAX + 1;
	p->smtp_pw = secmem_alloc(p->pwcap);
	p->imap_pw = secmem_alloc(p->pwcap);
	p->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!p->smtp_pw || !p->imap_pw || p->cancel_fd < 0) {
		probe_free(p);
		return NULL;
	}
	str_copy(p->smtp_pw, p->pwcap, smtp_pw ? smtp_pw : "");
	str_copy(p->imap_pw, p->pwcap, imap_pw ? imap_pw : (smtp_pw ? smtp_pw : ""));
	add_forms(p, p->a.username[0] ? p->a.username : p->a.email, p->smtp_pw);
	add_forms(p, account_imap_user(&p->a), p->imap_pw);
	if (preset) {
		p->preset = *preset;
		p->has_preset = true;
	}
	if (opts)
		p->opts = *opts;
	else
		probe_opts_default(&p->opts);
	if (p->opts.timeout_s <= 0)
		p->opts.timeout_s = 10;
	if (p->opts.reply_wait_s <= 0)
		p->opts.reply_wait_s = 15;
	p->res.reply_detection = -1;
	p->res.place.landed = DIAG_LANDED_UNCHECKED;
	p->res.place.sent_copy = -1;
	p->res.place.auth.aligned_relaxed = p->res.place.auth.aligned_strict = -1;
	p->res.place.dkim.verdict = PROBE_DKIM_UNCHECKED;
	atomic_init(&p->cancelled, false);
	probe_sink_init(&p->sink, p);
	return p;
}

void
probe_cancel(struct probe *p)
{
	uint64_t one = 1;
	ssize_t w;

	atomic_store(&p->cancelled, true);
	/* Every wait polls this descriptor; it stays readable from now on. */
	w = write(p->cancel_fd, &one, sizeof(one));
	(void)w;
}

const struct probe_result *
probe_result(const struct probe *p)
{
	return &p->res;
}

const char *
probe_message(const struct probe *p, size_t *len)
{
	*len = p->message ? p->message_len : 0;
	return p->message;
}

const char *
probe_role_name(enum probe_role r)
{
	static const char *const names[PROBE_NROLES] = {
		[ROLE_INBOX] = "inbox", [ROLE_SENT] = "sent", [ROLE_JUNK] = "junk",
		[ROLE_TRASH] = "trash", [ROLE_DRAFTS] = "drafts",
		[ROLE_ARCHIVE] = "archive",
	};

	return (unsigned)r < PROBE_NROLES ? names[r] : "";
}

const char *
probe_dkim_name(enum probe_dkim_verdict v)
{
	switch (v) {
	case PROBE_DKIM_NONE: return "none";
	case PROBE_DKIM_PASS: return "pass";
	case PROBE_DKIM_FAIL: return "fail";
	case PROBE_DKIM_TEMPERROR: return "temperror";
	default: return "";
	}
}

int
probe_timeout_ms(const struct probe *p)
{
	return p->opts.timeout_s * 1000;
}

int
probe_cancel_fd(const struct probe *p)
{
	return p->cancel_fd;
}

void
probe_set_dkim(struct probe *p, const struct probe_dkim *d)
{
	struct probe_dkim *o = &p->res.place.dkim;

	o->verdict = d->verdict;
	str_sanitize(o->d, sizeof o->d, d->d, strnlen(d->d, sizeof d->d));
	str_sanitize(o->s, sizeof o->s, d->s, strnlen(d->s, sizeof d->s));
	str_sanitize(o->why, sizeof o->why, d->why, strnlen(d->why, sizeof d->why));
}

const char *
probe_landed_name(enum diag_landed l)
{
	switch (l) {
	case DIAG_LANDED_INBOX: return "inbox";
	case DIAG_LANDED_JUNK: return "junk";
	case DIAG_LANDED_NOT_FOUND: return "not_found";
	default: return "";
	}
}

void
probe_free(struct probe *p)
{
	size_t i;

	if (!p)
		return;
	secmem_free(p->smtp_pw, p->pwcap);
	secmem_free(p->imap_pw, p->pwcap);
	for (i = 0; i < PROBE_SECRET_FORMS; i++)
		secmem_free(p->forms[i], p->formcap[i]);
	if (p->cancel_fd >= 0)
		close(p->cancel_fd);
	free(p->ca_pem);
	free(p->message);
	for (i = 0; i < p->res.ntranscript; i++)
		free(p->res.transcript[i].text);
	free(p->res.transcript);
	secmem_wipe(p, sizeof(*p));
	free(p);
}

/* ---- alternatives: other ports tried in parallel, without credentials ---- */

struct alt {
	struct probe *p;
	char host[ACCT_HOST_MAX + 1];
	unsigned port;
	enum security sec;
	int rc;
	pthread_t th;
	bool started;
};

static void *
alt_thread(void *arg)
{
	struct alt *x = arg;

	x->rc = probe_smtp_quick(x->p, x->host, x->port, x->sec,
	                         x->p->opts.timeout_s);
	return NULL;
}

static void
add_alt(struct alt *v, size_t *n, size_t max, struct probe *p,
        const char *host, unsigned port, enum security sec)
{
	size_t i;

	if (*n == max)
		return;
	if (strcasecmp(host, p->a.smtp_host) == 0 && port == p->a.smtp_port &&
	    sec == p->a.smtp_security)
		return;
	for (i = 0; i < *n; i++)
		if (v[i].port == port && v[i].sec == sec &&
		    strcasecmp(v[i].host, host) == 0)
			return;
	memset(&v[*n], 0, sizeof(v[*n]));
	v[*n].p = p;
	str_copy(v[*n].host, sizeof(v[*n].host), host);
	v[*n].port = port;
	v[*n].sec = sec;
	v[*n].rc = -1;
	(*n)++;
}

/* The finding goes to in: the first alternative that works. */
static void
find_alternatives(struct probe *p, struct diag_input *in)
{
	struct alt v[2 + PRESET_MAX_SERVERS];
	size_t n = 0, i;
	struct probe_step *s;
	sigset_t all, old;

	add_alt(v, &n, 2 + PRESET_MAX_SERVERS, p, p->a.smtp_host, 587, SEC_STARTTLS);
	add_alt(v, &n, 2 + PRESET_MAX_SERVERS, p, p->a.smtp_host, 465, SEC_SSL);
	for (i = 0; p->has_preset && i < p->preset.nsmtp; i++)
		add_alt(v, &n, 2 + PRESET_MAX_SERVERS, p, p->preset.smtp[i].host,
		        p->preset.smtp[i].port, p->preset.smtp[i].security);
	if (n == 0)
		return;
	s = probe_step_begin(p, "smtp.alternatives");
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < n; i++)
		v[i].started = pthread_create(&v[i].th, NULL, alt_thread, &v[i]) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (i = 0; i < n; i++)
		if (v[i].started)
			pthread_join(v[i].th, NULL);
	for (i = 0; i < n; i++) {
		probe_note(p, "alternative %s:%u %s: %s", v[i].host, v[i].port,
		           security_name(v[i].sec), v[i].rc == 0 ? "works" : "does not work");
	}
	/* The first in our order of preference that works. */
	for (i = 0; i < n; i++) {
		if (v[i].rc != 0)
			continue;
		if (strcasecmp(v[i].host, p->a.smtp_host) == 0)
			str_printf(in->suggestion, sizeof(in->suggestion),
			           _("port %u with %s answers and its TLS works"), v[i].port,
			           security_name(v[i].sec));
		else
			str_printf(in->suggestion, sizeof(in->suggestion),
			           _("%s port %u with %s answers and its TLS works"),
			           v[i].host, v[i].port, security_name(v[i].sec));
		in->alt_port = v[i].port;
		in->alt_security = v[i].sec;
		in->alt_imap = false;
		probe_step_end(p, s, true, "%s", in->suggestion);
		return;
	}
	probe_step_end(p, s, false, "%s", _("no other port answered with working TLS"));
}

/* The CA file decides whom the password goes to: it is read once, before
 * any connection, and only if it is safe (file_read_checked). It may have
 * changed since the account was saved. */
static int
read_ca_file(struct probe *p)
{
	struct probe_step *s;
	char why[FILE_WHY_MAX], msg[PROBE_DETAIL];
	bool imap = p->opts.imap_only;

	if (!p->a.ca_file[0])
		return 0;
	p->ca_pem = file_read_checked(p->a.ca_file, FILE_CA_MAX, &p->ca_len, why,
	                              sizeof(why));
	if (p->ca_pem)
		return 0;
	s = probe_step_begin(p, imap ? "imap.ca_file" : "smtp.ca_file");
	str_printf(msg, sizeof(msg), _("CA file %s: %s"), p->a.ca_file, why);
	probe_fail_ca_file(&p->sink, imap, msg);
	probe_note(p, "%s", msg);
	probe_step_end(p, s, false, "%s", msg);
	return -1;
}

/* The checks of discovery: the connect phase of one server on a throwaway
 * account that has no password at all, so nothing here could send one. */
static int
check_server(bool imap, const char *host, unsigned port, enum security sec,
             const char *ca_file, int timeout_s, int cancel_fd,
             struct probe_check *out)
{
	struct account a;
	struct probe_opts o;
	struct probe *p;
	const char *reached_step = imap ? "imap.greeting" : "smtp.ehlo";
	int rc = -1;

	memset(out, 0, sizeof(*out));
	account_init(&a);
	str_copy(a.email, sizeof(a.email), "discovery@invalid");
	if (str_copy(a.smtp_host, sizeof(a.smtp_host), host) < 0 ||
	    (imap && str_copy(a.imap_host, sizeof(a.imap_host), host) < 0) ||
	    (ca_file && str_copy(a.ca_file, sizeof(a.ca_file), ca_file) < 0)) {
		str_copy(out->why, sizeof(out->why), _("host name or CA path too long"));
		return -1;
	}
	if (imap) {
		a.imap_port = port;
		a.imap_security = sec;
	} else {
		a.smtp_port = port;
		a.smtp_security = sec;
	}
	probe_opts_default(&o);
	o.timeout_s = timeout_s > 0 ? timeout_s : 1;
	o.no_send = true;
	o.smtp_only = !imap;
	o.imap_only = imap;
	if (!(p = probe_new(&a, NULL, NULL, NULL, &o))) {
		str_copy(out->why, sizeof(out->why), _("out of memory"));
		return -1;
	}
	if (cancel_fd >= 0) {
		/* The caller's cancel, polled where the probe's own would be. */
		int fd = fcntl(cancel_fd, F_DUPFD_CLOEXEC, 0);
		if (fd >= 0) {
			close(p->cancel_fd);
			p->cancel_fd = fd;
		}
	}
	if (read_ca_file(p) == 0)
		rc = imap ? probe_imap_check(p, out) : probe_smtp_check(p, out);
	out->cert_ok = rc == 0 && out->tls;
	for (size_t i = 0; i < p->res.nsteps; i++)
		if (!strcmp(p->res.steps[i].name, reached_step) && p->res.steps[i].ok)
			out->reached = true;
	for (size_t i = 0; i < p->res.nsteps && !out->why[0]; i++)
		if (p->res.steps[i].done && !p->res.steps[i].ok)
			str_printf(out->why, sizeof(out->why), "%s: %s", p->res.steps[i].name,
			           p->res.steps[i].detail);
	probe_free(p);
	return rc;
}

int
probe_check_smtp(const char *host, unsigned port, enum security sec,
                 const char *ca_file, int timeout_s, int cancel_fd,
                 struct probe_check *out)
{
	return check_server(false, host, port, sec, ca_file, timeout_s, cancel_fd, out);
}

int
probe_check_imap(const char *host, unsigned port, enum security sec,
                 const char *ca_file, int timeout_s, int cancel_fd,
                 struct probe_check *out)
{
	return check_server(true, host, port, sec, ca_file, timeout_s, cancel_fd, out);
}

static void
run_begin(struct probe *p, probe_cb cb, void *ud)
{
	p->cb = cb;
	p->ud = ud;
	p->t0 = now_ms();
	p->res.started = time(NULL);
}

/* What the placement of the test message shows, beside the diagnosis. */
static void
placement_findings(struct probe *p)
{
	const struct probe_placement *pl = &p->res.place;
	struct diag_place_input in;

	if (pl->landed == DIAG_LANDED_UNCHECKED || probe_is_cancelled(p))
		return;
	memset(&in, 0, sizeof in);
	in.landed = pl->landed;
	in.junk_folder = pl->folders[ROLE_JUNK].name;
	in.sent_copy = pl->sent_copy;
	in.wait_s = p->opts.reply_wait_s;
	if (pl->auth.ar_found) {
		in.spf = pl->auth.spf;
		in.dkim = pl->auth.dkim;
		in.dmarc = pl->auth.dmarc;
	}
	in.from_domain = pl->auth.from_domain;
	in.sig_d = pl->auth.sig_d;
	in.aligned_relaxed = pl->auth.aligned_relaxed;
	in.dkim_verified = pl->dkim.verdict;
	in.dkim_why = pl->dkim.why;
	p->res.nfindings = diag_placement(&in, p->res.findings, DIAG_MAX_FINDINGS);
}

/* The diagnosis of what the run's sink holds, and the run's last event. */
static enum diag_cat
run_end(struct probe *p)
{
	struct probe_event ev;
	struct diag_input in;

	if (!probe_sink_close(&p->sink, &in)) {
		diag_ok(&p->res.diag);
		p->res.ok = true;
	} else {
		/* What the probe finds besides goes into the input first, so
		 * that the fixes can name it. */
		if (p->opts.find_alternatives && !probe_is_cancelled(p) &&
		    diag_wants_alternatives(&in))
			find_alternatives(p, &in);
		diag_classify(&in, &p->res.diag);
	}
	if (p->message && p->opts.on_message && !probe_is_cancelled(p))
		p->opts.on_message(p, p->opts.on_message_ud);
	placement_findings(p);
	if (p->cb) {
		memset(&ev, 0, sizeof(ev));
		ev.type = PROBE_EV_DONE;
		ev.result = &p->res;
		p->cb(&ev, p->ud);
	}
	return p->res.diag.cat;
}

enum diag_cat
probe_run(struct probe *p, probe_cb cb, void *ud)
{
	int r = 0;

	run_begin(p, cb, ud);
	if (message_token(p->res.token, sizeof(p->res.token)) < 0) {
		probe_fail_internal(&p->sink, false, STAGE_NONE);
		r = -1;
	}
	if (r == 0)
		r = read_ca_file(p);
	if (r == 0 && !p->opts.imap_only)
		r = probe_smtp_run(p);
	if (r == 0 && !p->opts.smtp_only && p->a.imap_host[0])
		r = probe_imap_run(p, !p->opts.imap_only && !p->opts.no_send);
	if (!probe_sink_failed(&p->sink) && p->opts.imap_only && !p->a.imap_host[0]) {
		struct probe_step *s = probe_step_begin(p, "imap.resolve");

		probe_step_end(p, s, false, "%s", _("this account has no IMAP server"));
		probe_fail_internal(&p->sink, true, STAGE_NONE);
	}
	return run_end(p);
}

enum diag_cat
probe_send(struct probe *p, const struct probe_sender *snd, probe_cb cb,
           void *ud)
{
	run_begin(p, cb, ud);
	if (read_ca_file(p) == 0)
		probe_smtp_send(p, snd);
	return run_end(p);
}
