/* Sockets owned by the probe. libetpan's own connect keeps no errno and
 * cannot be interrupted, so resolving, connecting and every wait happen
 * here, each bounded by a deadline and a cancel descriptor. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"
#include "util.h"

void
net_conn_init(struct net_conn *c, int cancel_fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->cancel_fd = cancel_fd;
}

void
net_set_timeout(struct net_conn *c, int seconds)
{
	c->deadline = now_ms() + (int64_t)(seconds > 0 ? seconds : 10) * 1000;
	c->step_rx = 0;
}

/* Waits for fd (may be -1: only the cancel fd and the clock) until the
 * absolute deadline. */
static int
wait_fd(int fd, short events, int cancel_fd, int64_t deadline)
{
	for (;;) {
		struct pollfd pf[2];
		int64_t left = deadline - now_ms();
		int n, r;

		if (left <= 0)
			return NET_TIMEOUT;
		n = 0;
		if (cancel_fd >= 0) {
			pf[n].fd = cancel_fd;
			pf[n].events = POLLIN;
			pf[n].revents = 0;
			n++;
		}
		if (fd >= 0) {
			pf[n].fd = fd;
			pf[n].events = events;
			pf[n].revents = 0;
			n++;
		}
		r = poll(pf, (nfds_t)n, left > 1000000 ? 1000000 : (int)left);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return NET_FAIL;
		}
		if (r == 0)
			continue;
		if (cancel_fd >= 0 && pf[0].revents)
			return NET_CANCELLED;
		return NET_OK;
	}
}

int
net_sleep(int cancel_fd, int ms)
{
	int r = wait_fd(-1, 0, cancel_fd, now_ms() + ms);

	return r == NET_CANCELLED ? NET_CANCELLED : 0;
}

/* ---- resolver: getaddrinfo() cannot be interrupted, so it runs in a
 * detached thread that may outlive the caller's interest. The job is
 * reference-counted; whoever drops the last reference frees it. ---- */

struct resolve_job {
	pthread_mutex_t mu;
	int refs;
	char host[256];
	char port[8];
	struct addrinfo *res;
	int rc;
	int pipefd[2];
};

static void
job_unref(struct resolve_job *j)
{
	bool last;

	pthread_mutex_lock(&j->mu);
	last = --j->refs == 0;
	pthread_mutex_unlock(&j->mu);
	if (!last)
		return;
	if (j->res)
		freeaddrinfo(j->res);
	close(j->pipefd[0]);
	close(j->pipefd[1]);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

static void *
resolve_thread(void *arg)
{
	struct resolve_job *j = arg;
	struct addrinfo hints, *res = NULL;
	int rc;
	ssize_t w;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(j->host, j->port, &hints, &res);
	pthread_mutex_lock(&j->mu);
	j->rc = rc;
	j->res = rc == 0 ? res : NULL;
	pthread_mutex_unlock(&j->mu);
	do
		w = write(j->pipefd[1], "x", 1);
	while (w < 0 && errno == EINTR);
	job_unref(j);
	return NULL;
}

int
net_resolve(const char *host, unsigned port, int cancel_fd, int timeout_ms,
            struct addrinfo **out, int *gai_err)
{
	struct resolve_job *j;
	pthread_attr_t attr;
	pthread_t th;
	sigset_t all, old;
	int r;

	*out = NULL;
	*gai_err = 0;
	j = calloc(1, sizeof(*j));
	if (!j)
		return NET_FAIL;
	if (str_copy(j->host, sizeof(j->host), host) < 0 ||
	    pipe2(j->pipefd, O_CLOEXEC) < 0) {
		free(j);
		*gai_err = EAI_NONAME;
		return NET_FAIL;
	}
	snprintf(j->port, sizeof(j->port), "%u", port);
	pthread_mutex_init(&j->mu, NULL);
	j->refs = 2;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* The helper must never take the CLI's SIGINT. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&th, &attr, resolve_thread, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		j->refs = 1;
		job_unref(j);
		*gai_err = EAI_SYSTEM;
		return NET_FAIL;
	}
	r = wait_fd(j->pipefd[0], POLLIN, cancel_fd, now_ms() + timeout_ms);
	if (r == NET_OK) {
		pthread_mutex_lock(&j->mu);
		*gai_err = j->rc;
		*out = j->res;
		j->res = NULL;
		pthread_mutex_unlock(&j->mu);
		r = *gai_err == 0 ? NET_OK : NET_FAIL;
	}
	job_unref(j);
	return r;
}

void
net_addr_str(const struct sockaddr *sa, socklen_t len, char *out,
             size_t outlen, bool with_port)
{
	char h[INET6_ADDRSTRLEN], p[8];

	if (getnameinfo(sa, len, h, sizeof(h), p, sizeof(p),
	                NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		str_copy(out, outlen, "?");
		return;
	}
	if (!with_port)
		str_copy(out, outlen, h);
	else if (sa->sa_family == AF_INET6)
		str_printf(out, outlen, "[%s]:%s", h, p);
	else
		str_printf(out, outlen, "%s:%s", h, p);
}

int
net_connect(struct net_conn *c, const struct addrinfo *ai)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd, r, soerr = 0;
	socklen_t el = sizeof(soerr);

	c->err = 0;
	c->timed_out = false;
	net_addr_str(ai->ai_addr, ai->ai_addrlen, c->peer, sizeof(c->peer), true);
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            ai->ai_protocol);
	if (fd < 0) {
		c->err = errno;
		return NET_FAIL;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		c->err = errno;
		close(fd);
		return NET_FAIL;
	}
	r = wait_fd(fd, POLLOUT, c->cancel_fd, c->deadline);
	if (r != NET_OK) {
		if (r == NET_TIMEOUT) {
			c->timed_out = true;
			c->err = ETIMEDOUT;
		} else if (r == NET_CANCELLED) {
			c->cancelled = true;
		} else {
			c->err = errno;
		}
		close(fd);
		return r;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el) < 0)
		soerr = errno;
	if (soerr != 0) {
		c->err = soerr;
		close(fd);
		return NET_FAIL;
	}
	r = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &r, sizeof(r));
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		net_addr_str((struct sockaddr *)&ss, sl, c->local, sizeof(c->local),
		             false);
		c->local_v6 = ss.ss_family == AF_INET6;
	}
	c->fd = fd;
	c->eof = false;
	return NET_OK;
}

int
net_wait(struct net_conn *c, bool for_write)
{
	int r;

	if (c->cancelled)
		return NET_CANCELLED;
	r = wait_fd(c->fd, for_write ? POLLOUT : POLLIN, c->cancel_fd,
	            c->deadline);
	if (r == NET_TIMEOUT) {
		c->timed_out = true;
		c->err = ETIMEDOUT;
	} else if (r == NET_CANCELLED) {
		c->cancelled = true;
	} else if (r == NET_FAIL) {
		c->err = errno;
	}
	return r;
}

/* Whether the current step must stop reading (flags and err set). The
 * waits check the deadline and the cancel only when no data is there; a
 * peer that never pauses is stopped here. */
static bool
recv_refused(struct net_conn *c)
{
	struct pollfd pf;

	if (!c->cancelled && c->cancel_fd >= 0) {
		pf.fd = c->cancel_fd;
		pf.events = POLLIN;
		pf.revents = 0;
		if (poll(&pf, 1, 0) > 0 && pf.revents)
			c->cancelled = true;
	}
	if (c->cancelled) {
		c->err = errno = ECANCELED;
		return true;
	}
	if (now_ms() >= c->deadline) {
		c->timed_out = true;
		c->err = errno = ETIMEDOUT;
		return true;
	}
	if (c->step_rx >= NET_STEP_RX_MAX) {
		c->err = errno = EMSGSIZE;
		return true;
	}
	return false;
}

ssize_t
net_raw_recv(struct net_conn *c, void *buf, size_t n)
{
	ssize_t r;

	if (recv_refused(c))
		return -1;
	if (n > NET_STEP_RX_MAX - c->step_rx)
		n = (size_t)(NET_STEP_RX_MAX - c->step_rx);
	do
		r = recv(c->fd, buf, n, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		c->err = errno;
	if (r > 0) {
		size_t k = (size_t)r;

		if (c->nfirst < sizeof(c->first)) {
			size_t m = sizeof(c->first) - c->nfirst;

			if (m > k)
				m = k;
			memcpy(c->first + c->nfirst, buf, m);
			c->nfirst += m;
		}
		c->rx_bytes += k;
		c->step_rx += k;
	}
	return r;
}

ssize_t
net_raw_send(struct net_conn *c, const void *buf, size_t n)
{
	ssize_t r;

	do
		r = send(c->fd, buf, n, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r;
}

ssize_t
net_read(struct net_conn *c, void *buf, size_t n)
{
	ssize_t r;

	if (c->fd < 0 || c->cancelled)
		return -1;
	if (c->ops) {
		r = c->ops->read(c, buf, n);
	} else {
		for (;;) {
			r = net_raw_recv(c, buf, n);
			if (r >= 0)
				break;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				c->err = errno;
				return -1;
			}
			if (net_wait(c, false) != NET_OK)
				return -1;
		}
	}
	if (r == 0)
		c->eof = true;
	if (r > 0 && c->log)
		c->log(c->log_ud, 'S', buf, (size_t)r);
	return r;
}

ssize_t
net_write(struct net_conn *c, const void *buf, size_t n)
{
	const char *p = buf;
	size_t done = 0;

	if (c->fd < 0 || c->cancelled)
		return -1;
	if (c->log && n > 0)
		c->log(c->log_ud, 'C', buf, n);
	if (c->ops)
		return c->ops->write(c, buf, n);
	while (done < n) {
		ssize_t r = net_raw_send(c, p + done, n - done);

		if (r < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				c->err = errno;
				return -1;
			}
			if (net_wait(c, true) != NET_OK)
				return -1;
			continue;
		}
		done += (size_t)r;
	}
	return (ssize_t)n;
}

void
net_close(struct net_conn *c)
{
	if (c->ops)
		c->ops->close(c);
	c->ops = NULL;
	c->layer = NULL;
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}
