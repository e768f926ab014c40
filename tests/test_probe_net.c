/* Unit tests of the probe's bounds against a peer that never stops: a read
 * deadline that holds while data keeps coming, a cancel seen while data
 * keeps coming, the per-step receive budget, the transcript's bounds, and
 * the scrubbing of a password that is part of its own mark. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "account.h"
#include "base64.h"
#include "net.h"
#include "probe_int.h"
#include "util.h"
#include "unit.h"

/* ---- a peer that writes without pause ---- */

struct flood {
	int fd;
	atomic_bool stop;
	pthread_t th;
};

static void *
flood_thread(void *arg)
{
	struct flood *f = arg;
	char buf[4096];

	memset(buf, 'x', sizeof(buf));
	/* MSG_NOSIGNAL: once the connection's end is closed a write would
	 * raise SIGPIPE, which kills this program where it is not ignored (it
	 * is not under a fresh login shell). */
	while (!atomic_load(&f->stop))
		if (send(f->fd, buf, sizeof(buf), MSG_NOSIGNAL) < 0 && errno != EINTR)
			break;
	return NULL;
}

static void
flood_start(struct flood *f, int fd)
{
	f->fd = fd;
	atomic_init(&f->stop, false);
	if (pthread_create(&f->th, NULL, flood_thread, f) != 0)
		abort();
}

static void
flood_stop(struct flood *f)
{
	atomic_store(&f->stop, true);
	shutdown(f->fd, SHUT_RDWR);
	pthread_join(f->th, NULL);
	close(f->fd);
}

/* A connection over one end of a socket pair; the other end floods. */
static void
conn_open(struct net_conn *c, struct flood *f, int cancel_fd)
{
	int sv[2];

	/* Our end non-blocking like the probe's sockets; the writer's end
	 * blocks, so it refills as soon as we read. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
	    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK) != 0)
		abort();
	net_conn_init(c, cancel_fd);
	c->fd = sv[0];
	flood_start(f, sv[1]);
}

/* Reads until net_read() fails, or 5 s (no bound at all: the checks then
 * fail); returns the bytes read. A pause between reads keeps the budget
 * from ending the step before its deadline. */
static uint64_t
read_all(struct net_conn *c, useconds_t pause)
{
	char buf[8192];
	uint64_t total = 0;
	int64_t t0 = now_ms();
	ssize_t r;

	while ((r = net_read(c, buf, sizeof(buf))) > 0) {
		total += (uint64_t)r;
		if (pause)
			usleep(pause);
		if (now_ms() - t0 > 5000)
			break;
	}
	return total;
}

static void
test_budget(void)
{
	struct net_conn c;
	struct flood f;
	uint64_t n;

	conn_open(&c, &f, -1);
	net_set_timeout(&c, 30);
	n = read_all(&c, 0);
	check(c.err == EMSGSIZE && !c.timed_out,
	      "a peer that floods: the step's reads stop with EMSGSIZE (err %d)", c.err);
	check(n <= NET_STEP_RX_MAX && n >= NET_STEP_RX_MAX / 2,
	      "a peer that floods: about NET_STEP_RX_MAX read (%llu bytes)",
	      (unsigned long long)n);
	/* A new step has a new budget. */
	c.err = 0;
	net_set_timeout(&c, 30);
	{
		char b[16];

		check(net_read(&c, b, sizeof(b)) > 0, "a new step may read again");
	}
	close(c.fd);
	flood_stop(&f);
}

static void
test_deadline(void)
{
	struct net_conn c;
	struct flood f;
	int64_t t0;

	conn_open(&c, &f, -1);
	net_set_timeout(&c, 1);
	t0 = now_ms();
	/* 20 ms between 8 KiB reads: at most 400 KiB/s, within the budget
	 * for a second, and data is always there: no read ever waits. */
	(void)read_all(&c, 20000);
	check(c.timed_out && c.err == ETIMEDOUT,
	      "data without pause: the deadline still ends the step (err %d)", c.err);
	check(now_ms() - t0 < 1500, "... on time (%lld ms for a 1 s step)",
	      (long long)(now_ms() - t0));
	close(c.fd);
	flood_stop(&f);
}

static void
test_cancel(void)
{
	struct net_conn c;
	struct flood f;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t one = 1;
	char buf[64];
	int i;

	if (efd < 0)
		abort();
	conn_open(&c, &f, efd);
	net_set_timeout(&c, 30);
	for (i = 0; i < 10; i++)
		(void)net_read(&c, buf, sizeof(buf));
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		abort();
	check(net_read(&c, buf, sizeof(buf)) < 0 && c.cancelled,
	      "data without pause: a cancel stops the next read");
	close(c.fd);
	flood_stop(&f);
	close(efd);
}

/* ---- the probe's own bounds ---- */

static struct probe *
new_probe(const char *pw)
{
	struct account a;
	struct probe *p;

	account_init(&a);
	str_copy(a.email, sizeof(a.email), "alice@example.org");
	str_copy(a.smtp_host, sizeof(a.smtp_host), "smtp.example.org");
	a.smtp_port = 587;
	p = probe_new(&a, pw, NULL, NULL, NULL);
	if (!p)
		abort();
	return p;
}

static void
test_scrub(void)
{
	struct probe *p = new_probe("redacted");
	char text[256];

	str_copy(text, sizeof(text), "535 bad password redacted, try again");
	probe_scrub(p, text, sizeof(text));
	check(strcmp(text, "535 bad password <redacted>, try again") == 0,
	      "a password found inside its own mark is replaced once: '%s'", text);
	str_copy(text, sizeof(text), "redacted redacted");
	probe_scrub(p, text, sizeof(text));
	check(strcmp(text, "<redacted> <redacted>") == 0,
	      "... every occurrence: '%s'", text);
	probe_free(p);
}

/* probe_clean(): the secrets go on the raw bytes, before sanitising, and
 * at a cut what may be the start of one goes too. */
static void
test_clean(void)
{
	struct probe *p = new_probe("C1-Canary\xc2\x85pw");
	char out[64], big[600];
	size_t i;

	probe_clean(p, out, sizeof(out), "535 no: C1-Canary\xc2\x85pw!",
	            strlen("535 no: C1-Canary\xc2\x85pw!"), false);
	check(strcmp(out, "535 no: <redacted>!") == 0,
	      "a password with U+0085 is redacted before U+0085 becomes '?': '%s'", out);
	probe_clean(p, out, sizeof(out), "535 no: C1-Canary\xc2", 18, true);
	check(strcmp(out, "535 no: <redacted>") == 0,
	      "a cut inside the password: what is left of it goes: '%s'", out);
	probe_clean(p, out, sizeof(out), "535 no: C1-Can", 14, false);
	check(strcmp(out, "535 no: C1-Can") == 0,
	      "... but only at a cut: '%s'", out);
	probe_clean(p, out, sizeof(out), "535 \xe2\x80\xae C1-Canary\xc2\x9bpw", 21, false);
	check(strstr(out, "\xe2\x80\xae") == NULL && strstr(out, "\xc2\x9b") == NULL,
	      "bidi and C1 controls are neutralised: '%s'", out);
	probe_free(p);

	/* A form that sanitising makes: U+0085 and a raw 0x85 both become
	 * '?', and "ab?cd-pw" is the password. */
	p = new_probe("ab?cd-pw");
	probe_clean(p, out, sizeof(out), "535 ab\x85" "cd-pw", 12, false);
	check(strcmp(out, "535 <redacted>") == 0,
	      "a password that sanitising spells out is redacted too: '%s'", out);
	probe_free(p);

	/* A cut inside the AUTH PLAIN base64 of "\0alice@example.org\0pw". */
	p = new_probe("Cut-Canary-Pw-31337");
	{
		static const char raw[] = "\0alice@example.org\0Cut-Canary-Pw-31337";
		char b64[128], line[160];

		base64_encode((const unsigned char *)raw, sizeof(raw) - 1, b64, sizeof(b64));
		str_printf(line, sizeof(line), "501 bad: %.20s", b64);
		probe_clean(p, out, sizeof(out), line, strlen(line), true);
		check(strcmp(out, "501 bad: <redacted>") == 0,
		      "a cut inside the AUTH PLAIN base64: what is left goes: '%s'", out);
	}
	probe_free(p);

	/* Cut to fit dst: the password straddles the end of out. */
	p = new_probe("Cut-Canary-Pw-31337");
	memset(big, 'x', sizeof(big));
	memcpy(big + 60, "Cut-Canary-Pw-31337", 19);
	probe_clean(p, out, sizeof(out), big, 79, false);
	check(strstr(out, "Cut") == NULL && strstr(out, "<redacted>") != NULL &&
	      strlen(out) < sizeof(out),
	      "cut to fit: the start of the password does not show: '%s'", out);
	/* The same, on the bytes as they came: one redaction, kept whole. */
	memcpy(big + 58, "Cut-Canary-Pw-31337", 19);
	probe_clean(p, out, sizeof(out), big, 77, false);
	i = strlen(out);
	check(i >= 10 && strcmp(out + i - 10, "<redacted>") == 0,
	      "a mark that does not fit is not cut in the middle: '%s'", out);
	probe_free(p);
}

static void
test_transcript_bound(void)
{
	struct probe *p = new_probe("s3cret-pw");
	const struct probe_result *r = probe_result(p);
	int i;

	for (i = 0; i < 20000; i++)
		probe_note(p, "250-continuation line %d of a reply without end", i);
	check(r->ntranscript > 100 && r->ntranscript <= 4096,
	      "20,000 lines: the transcript keeps a bounded number (%zu)",
	      r->ntranscript);
	check(r->ntranscript > 0 &&
	      strstr(r->transcript[r->ntranscript - 1].text, "transcript stops here") != NULL,
	      "... and its last line says it was cut");
	probe_free(p);
}

int
main(void)
{
	/* As probe_global_init() does for the program: a flooding peer that
	 * writes after our end closed gets EPIPE, not the process a SIGPIPE
	 * (which killed this test now and then). */
	signal(SIGPIPE, SIG_IGN);
	test_budget();
	test_deadline();
	test_cancel();
	test_scrub();
	test_clean();
	test_transcript_bound();
	return unit_done();
}
