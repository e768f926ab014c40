/* The bounded runner of `test --all` and of the console's tests: at most n
 * worker threads take jobs from a queue, each finished job is put on a
 * done queue and a byte written to a descriptor the caller polls. Workers
 * are started as jobs come, with the signals the caller handles blocked,
 * and end as soon as the queue is empty, so that an idle program has no
 * thread but its own. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"

struct node {
	struct node *next;
	void (*run)(void *arg);
	void *arg;
	bool ran;
	bool join;              /* tid ended after running this: join it */
	pthread_t tid;
};

struct app_runner {
	pthread_mutex_t mu;
	pthread_cond_t ended;   /* a worker ended (for app_runner_stop) */
	struct node *qhead, *qtail;         /* waiting to run */
	struct node *dhead, *dtail;         /* finished, not yet collected */
	unsigned max, live;     /* workers allowed, workers not yet ended */
	size_t inflight;        /* submitted and not collected */
	bool stopping;
	pthread_t *zombies;     /* workers that ended with no job to hand back */
	size_t nzombies, capzombies;
	int pipe[2];            /* own notification pipe, or -1 */
	int notify;             /* where a finished job is signalled */
};

static void
set_fd_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
}

struct app_runner *
app_runner_new(unsigned max, int notify_fd)
{
	struct app_runner *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->max = max ? max : 1;
	r->pipe[0] = r->pipe[1] = -1;
	if (notify_fd < 0) {
		if (pipe(r->pipe) != 0) {
			free(r);
			return NULL;
		}
		set_fd_flags(r->pipe[0]);
		set_fd_flags(r->pipe[1]);
		notify_fd = r->pipe[1];
	}
	r->notify = notify_fd;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->ended, NULL);
	return r;
}

int
app_runner_fd(const struct app_runner *r)
{
	return r->pipe[0];
}

/* Called with r->mu held. */
static void
push_done(struct app_runner *r, struct node *n)
{
	n->next = NULL;
	if (r->dtail)
		r->dtail->next = n;
	else
		r->dhead = n;
	r->dtail = n;
	/* A full pipe already wakes the caller: EAGAIN is fine. */
	(void)!write(r->notify, "j", 1);
}

/* Called with r->mu held and a job queued: takes the first job off the
 * queue, runs it with the lock released, and returns it with the lock held
 * again. */
static struct node *
run_first(struct app_runner *r)
{
	struct node *n = r->qhead;

	r->qhead = n->next;
	if (!r->qhead)
		r->qtail = NULL;
	pthread_mutex_unlock(&r->mu);
	n->run(n->arg);
	n->ran = true;
	pthread_mutex_lock(&r->mu);
	return n;
}

static void *
worker(void *arg)
{
	struct app_runner *r = arg;
	struct node *n;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		if (!r->qhead || r->stopping)
			break;
		n = run_first(r);
		if (!r->qhead || r->stopping) {
			/* The last job of this worker: whoever collects it
			 * joins the thread, which has nothing left to do. */
			n->join = true;
			n->tid = pthread_self();
			r->live--;
			push_done(r, n);
			pthread_cond_broadcast(&r->ended);
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		push_done(r, n);
	}
	/* Started for a job another worker took, or stopping: joined by
	 * whoever next collects, or by app_runner_free(). */
	if (r->nzombies == r->capzombies) {
		size_t cap = r->capzombies ? r->capzombies * 2 : 8;
		pthread_t *v = realloc(r->zombies, cap * sizeof *v);

		if (v) {
			r->zombies = v;
			r->capzombies = cap;
		}
	}
	if (r->nzombies < r->capzombies)
		r->zombies[r->nzombies++] = pthread_self();
	else
		pthread_detach(pthread_self());
	r->live--;
	pthread_cond_broadcast(&r->ended);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int
app_runner_submit(struct app_runner *r, void (*run)(void *arg), void *arg)
{
	struct node *n = calloc(1, sizeof *n);
	sigset_t block, old;
	pthread_t tid;
	int rc = 0;

	if (!n)
		return -1;
	n->run = run;
	n->arg = arg;
	pthread_mutex_lock(&r->mu);
	if (r->stopping) {
		pthread_mutex_unlock(&r->mu);
		free(n);
		return -1;
	}
	if (r->qtail)
		r->qtail->next = n;
	else
		r->qhead = n;
	r->qtail = n;
	r->inflight++;
	if (r->live < r->max) {
		/* The caller's thread handles the signals: a worker never
		 * runs a handler. */
		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		sigaddset(&block, SIGHUP);
		sigaddset(&block, SIGWINCH);
		pthread_sigmask(SIG_BLOCK, &block, &old);
		rc = pthread_create(&tid, NULL, worker, r);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc == 0)
			r->live++;
	}
	if (rc != 0 && r->live == 0) {
		/* No worker at all: run it here rather than never (it is the
		 * only job queued, since none could be started before). */
		push_done(r, run_first(r));
	}
	pthread_mutex_unlock(&r->mu);
	return 0;
}

/* Joins the workers that ended without a job to hand back. */
static void
reap(struct app_runner *r)
{
	pthread_t tid;

	for (;;) {
		pthread_mutex_lock(&r->mu);
		if (r->nzombies == 0) {
			pthread_mutex_unlock(&r->mu);
			return;
		}
		tid = r->zombies[--r->nzombies];
		pthread_mutex_unlock(&r->mu);
		pthread_join(tid, NULL);
	}
}

void *
app_runner_done(struct app_runner *r, bool *ran)
{
	struct node *n;
	void *arg;

	reap(r);
	pthread_mutex_lock(&r->mu);
	n = r->dhead;
	if (n) {
		r->dhead = n->next;
		if (!r->dhead)
			r->dtail = NULL;
		r->inflight--;
	}
	pthread_mutex_unlock(&r->mu);
	if (!n)
		return NULL;
	if (n->join)
		pthread_join(n->tid, NULL);
	if (ran)
		*ran = n->ran;
	arg = n->arg;
	free(n);
	return arg;
}

void *
app_runner_wait(struct app_runner *r, bool *ran)
{
	for (;;) {
		struct pollfd p = { r->pipe[0], POLLIN, 0 };
		char buf[64];
		size_t inflight;
		void *arg = app_runner_done(r, ran);

		if (arg)
			return arg;
		pthread_mutex_lock(&r->mu);
		inflight = r->inflight;
		pthread_mutex_unlock(&r->mu);
		if (inflight == 0 || r->pipe[0] < 0)
			return NULL;
		/* EINTR: a signal's handler ran (SIGINT cancels the probes);
		 * look again. */
		if (poll(&p, 1, -1) > 0)
			while (read(r->pipe[0], buf, sizeof buf) > 0)
				;
	}
}

size_t
app_runner_inflight(struct app_runner *r)
{
	size_t n;

	pthread_mutex_lock(&r->mu);
	n = r->inflight;
	pthread_mutex_unlock(&r->mu);
	return n;
}

bool
app_runner_stop(struct app_runner *r, int timeout_ms)
{
	struct timespec until;
	struct node *n;
	bool all;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->mu);
	r->stopping = true;
	/* What never started comes back as not run. */
	while ((n = r->qhead)) {
		r->qhead = n->next;
		push_done(r, n);
	}
	r->qtail = NULL;
	while (r->live > 0)
		if (pthread_cond_timedwait(&r->ended, &r->mu, &until) == ETIMEDOUT)
			break;
	all = r->live == 0;
	pthread_mutex_unlock(&r->mu);
	return all;
}

void
app_runner_free(struct app_runner *r)
{
	if (!r)
		return;
	while (app_runner_done(r, NULL))
		;
	reap(r);
	free(r->zombies);
	pthread_cond_destroy(&r->ended);
	pthread_mutex_destroy(&r->mu);
	if (r->pipe[0] >= 0)
		close(r->pipe[0]);
	if (r->pipe[1] >= 0)
		close(r->pipe[1]);
	free(r);
}
