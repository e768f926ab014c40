/* Probe jobs: each test runs probe_run() on a worker of the bounded runner
 * (app_runner.c), whose workers have the console's signals blocked. The
 * probe's callback copies each event into a locked queue and writes a byte
 * to a self-pipe, and the runner signals a finished job on the same pipe;
 * the UI thread, woken by poll(), drains both here. Workers never touch
 * curses or the store. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "i18n.h"
#include "app.h"
#include "secmem.h"
#include "tui.h"
#include "util.h"

struct worker_arg {
	struct worker_arg *next;        /* finished ones, while drained */
	struct tui *t;
	unsigned id;
	enum job_kind kind;
	enum diag_cat cat;              /* the outcome, once run */
	struct tui_discovery *disc;     /* JOB_DISCOVER: its lookup */
	struct tui_signin *signin;      /* JOB_SIGNIN: its sign-in */
	struct tui_domcheck *dom;       /* JOB_DOMAIN: its domain check */
	bool ran;                       /* the runner ran it (not dropped) */

	/* A test. p is the probe running (a retry replaces it): lock guards
	 * p and cancelled against the UI's cancel. */
	pthread_mutex_t lock;
	struct probe *p;
	bool cancelled;
	int cancel[2];                  /* written: the token request stops */
	struct account acct;
	struct probe_opts opts;
	/* An OAuth account's token material, opened by the UI thread: the
	 * worker refreshes the token (the network stays off the UI thread)
	 * and hands back in fresh what the UI thread seals. */
	bool oauth;
	struct app_oauth_keys keys;
	struct oauth_tokens fresh;
	bool refreshed, retried;
	int rc;                         /* no token: why, in dg and err */
	struct diagnosis dg;
	char err[APP_ERR_MAX];
};

/* A settings lookup: the worker writes r, the UI reads it once the runner
 * hands the job back; cancel[1] written stops it. */
struct tui_discovery {
	char email[ACCT_EMAIL_MAX + 1];
	struct disc_options o;
	struct disc_result r;
	int cancel[2];
};

static void
discovery_free(struct tui_discovery *d)
{
	if (!d)
		return;
	close(d->cancel[0]);
	close(d->cancel[1]);
	free(d);
}

/* Frees a job handed back by the runner. */
static void
worker_free(struct worker_arg *w)
{
	if (w->kind == JOB_DISCOVER)
		discovery_free(w->disc);
	if (w->kind == JOB_SIGNIN)
		tui_signin_free(w->signin);
	if (w->kind == JOB_DIAG || w->kind == JOB_BATCH) {
		if (w->p)
			probe_free(w->p);
		app_oauth_keys_free(&w->keys);
		oauth_tokens_free(&w->fresh);
		close(w->cancel[0]);
		close(w->cancel[1]);
		pthread_mutex_destroy(&w->lock);
	}
	if (w->kind == JOB_DOMAIN)
		tui_domain_free(w->dom);
	free(w);
}

/* Any thread: stops the token request and the probe of test w. */
static void
test_cancel(struct worker_arg *w)
{
	pthread_mutex_lock(&w->lock);
	if (!w->cancelled) {
		w->cancelled = true;
		(void)!write(w->cancel[1], "c", 1);
		if (w->p)
			probe_cancel(w->p);
	}
	pthread_mutex_unlock(&w->lock);
}

static void
post(struct tui *t, struct tui_msg *m)
{
	pthread_mutex_lock(&t->qlock);
	m->next = NULL;
	if (t->qtail)
		t->qtail->next = m;
	else
		t->qhead = m;
	t->qtail = m;
	pthread_mutex_unlock(&t->qlock);
	/* A full pipe already wakes the UI; EAGAIN is fine. */
	(void)!write(t->job_pipe[1], "j", 1);
}

static void
on_event(const struct probe_event *ev, void *ud)
{
	struct worker_arg *w = ud;
	struct tui_msg *m;

	/* "Test all" shows only the outcome of each row. */
	if (w->kind == JOB_BATCH || ev->type == PROBE_EV_DONE)
		return;
	m = calloc(1, sizeof *m);
	if (!m)
		return;
	m->job = w->id;
	m->type = ev->type;
	if (ev->step)
		m->step = *ev->step;
	if (ev->type == PROBE_EV_TRANSCRIPT && ev->line) {
		m->line.t_ms = ev->line->t_ms;
		m->line.dir = ev->line->dir;
		m->line.text = strdup(ev->line->text ? ev->line->text : "");
		if (!m->line.text) {
			free(m);
			return;
		}
	}
	post(w->t, m);
}

/* A line of our own in the job's transcript. */
static void
note(struct worker_arg *w, const char *text)
{
	struct tui_msg *m = calloc(1, sizeof *m);

	if (!m)
		return;
	m->job = w->id;
	m->type = PROBE_EV_TRANSCRIPT;
	m->line.dir = '*';
	if (!(m->line.text = strdup(text))) {
		free(m);
		return;
	}
	post(w->t, m);
}

/* On the worker: the OAuth token (refreshed when due, or with force) and
 * a probe that sends it, in place of w->p. false when there is none: the
 * reason in w->dg and w->err. */
static bool
oauth_probe(struct worker_arg *w, bool force)
{
	char *tok = secmem_alloc(OAUTH_TOKEN_MAX + 1);
	struct probe *p = NULL, *old;
	bool r = false;

	if (!tok) {
		w->rc = EX_OSERR;
		str_printf(w->err, sizeof w->err, _("%s: out of locked memory"),
		           w->acct.email);
	} else {
		w->rc = app_oauth_token(&w->acct, &w->keys, force, w->cancel[0], tok,
		                        OAUTH_TOKEN_MAX + 1, &w->fresh, &r, &w->dg,
		                        w->err, sizeof w->err);
		if (r)
			w->refreshed = true;
		if (w->rc == 0)
			w->rc = app_probe_new(&w->acct, tok, tok, w->t->presets, &w->opts,
			                      &p, w->err, sizeof w->err);
		secmem_free(tok, OAUTH_TOKEN_MAX + 1);
	}
	if (w->rc != 0) {
		/* A failure of the grant is diagnosed; any other is ours. */
		if (w->dg.title[0] == '\0') {
			w->dg.cat = DIAG_INTERNAL_ERROR;
			str_copy(w->dg.title, sizeof w->dg.title,
			         _("No OAuth token could be had"));
		}
		w->cat = w->dg.cat;
		return false;
	}
	pthread_mutex_lock(&w->lock);
	old = w->p;
	w->p = p;
	if (w->cancelled)
		probe_cancel(p);
	pthread_mutex_unlock(&w->lock);
	if (old)
		probe_free(old);
	return true;
}

static bool
test_cancelled(struct worker_arg *w)
{
	bool c;

	pthread_mutex_lock(&w->lock);
	c = w->cancelled;
	pthread_mutex_unlock(&w->lock);
	return c;
}

/* On the worker: a test, its OAuth token refreshed first when it is due
 * and once more after an authentication failure (app_run_retry_wanted(),
 * as `test` does). */
static void
run_test(struct worker_arg *w)
{
	if (w->oauth && !oauth_probe(w, false))
		return;
	w->cat = probe_run(w->p, on_event, w);
	if (!w->oauth || test_cancelled(w) || !app_run_retry_wanted(&w->acct, w->cat))
		return;
	note(w, _("The OAuth token was refused: refreshing it and trying once more"));
	w->retried = true;
	if (!oauth_probe(w, true)) {
		/* The first run's result stands; the reason is noted. */
		note(w, w->err);
		w->rc = 0;
		w->cat = test_cancelled(w) ? DIAG_CANCELLED : DIAG_AUTH_FAILED;
		return;
	}
	w->cat = probe_run(w->p, on_event, w);
}

/* On a worker: the runner hands w back when this returns. */
static void
run_job(void *arg)
{
	struct worker_arg *w = arg;

	if (w->kind == JOB_DISCOVER)
		discover_run(&w->disc->o, &w->disc->r);
	else if (w->kind == JOB_SIGNIN)
		tui_signin_run(w->signin);
	else if (w->kind == JOB_DOMAIN)
		tui_domain_run(w->dom);
	else
		run_test(w);
}

int
tui_discover_start(struct tui *t, const char *email)
{
	struct worker_arg *w = calloc(1, sizeof *w);
	struct tui_discovery *d = calloc(1, sizeof *d);

	tui_discover_cancel(t);
	if (!w || !d || pipe(d->cancel) != 0) {
		free(w);
		free(d);
		return -1;
	}
	str_copy(d->email, sizeof d->email, email);
	d->o.email = d->email;
	d->o.timeout_ms = DISC_DEFAULT_TIMEOUT_MS;
	d->o.cancel_fd = d->cancel[0];
	d->o.presets = t->presets;
	w->t = t;
	w->kind = JOB_DISCOVER;
	w->disc = d;
	if (app_runner_submit(t->runner, run_job, w) != 0) {
		worker_free(w);
		return -1;
	}
	t->disc = d;
	return 0;
}

/* The lookup stops within moments; its end is dropped, not shown. */
void
tui_discover_cancel(struct tui *t)
{
	if (!t->disc)
		return;
	(void)!write(t->disc->cancel[1], "c", 1);
	t->disc = NULL;
}

int
tui_signin_submit(struct tui *t, struct tui_signin *s)
{
	struct worker_arg *w = calloc(1, sizeof *w);

	if (!w)
		return -1;
	w->t = t;
	w->kind = JOB_SIGNIN;
	w->signin = s;
	if (app_runner_submit(t->runner, run_job, w) != 0) {
		free(w);
		return -1;
	}
	return 0;
}

int
tui_domain_submit(struct tui *t, struct tui_domcheck *d)
{
	struct worker_arg *w = calloc(1, sizeof *w);

	if (!w)
		return -1;
	w->t = t;
	w->kind = JOB_DOMAIN;
	w->dom = d;
	if (app_runner_submit(t->runner, run_job, w) != 0) {
		free(w);
		return -1;
	}
	return 0;
}

int
tui_jobs_init(struct tui *t)
{
	if (pthread_mutex_init(&t->qlock, NULL) != 0)
		return -1;
	if (pipe(t->job_pipe) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		int fl = fcntl(t->job_pipe[i], F_GETFL);

		fcntl(t->job_pipe[i], F_SETFL, fl | O_NONBLOCK);
		fcntl(t->job_pipe[i], F_SETFD, FD_CLOEXEC);
	}
	t->next_job_id = 1;
	/* Finished jobs are signalled on the same pipe as the events. */
	t->runner = app_runner_new(TUI_MAX_JOBS, t->job_pipe[1]);
	return t->runner ? 0 : -1;
}

static void
job_free(struct tui_job *j)
{
	for (size_t i = 0; i < j->nlines; i++)
		free(j->lines[i].text);
	free(j->lines);
	memset(j, 0, sizeof *j);
}

static void
msg_free(struct tui_msg *m)
{
	free(m->line.text);
	free(m);
}

/* How long quitting waits for cancelled tests. A cancelled probe ends
 * within a second; one stuck in a system call that no cancel reaches must
 * not keep the console from quitting. */
#define JOINS_MAX_MS 2000

bool
tui_jobs_fini(struct tui *t)
{
	struct tui_msg *m, *next;
	struct worker_arg *w;

	if (t->job_pipe[0] < 0)
		return true;
	for (int i = 0; i < TUI_MAX_JOBS; i++)
		if (t->jobs[i].used && t->jobs[i].running)
			test_cancel(t->jobs[i].work);
	tui_discover_cancel(t);
	tui_signin_cancel(t);
	tui_domain_cancel(t);
	/* Still running: its probe, the queue and the pipe stay valid; the
	 * process ends next. */
	if (t->runner && !app_runner_stop(t->runner, JOINS_MAX_MS))
		return false;
	if (t->runner) {
		while ((w = app_runner_done(t->runner, NULL)))
			worker_free(w);
		app_runner_free(t->runner);
		t->runner = NULL;
	}
	for (int i = 0; i < TUI_MAX_JOBS; i++)
		if (t->jobs[i].used)
			job_free(&t->jobs[i]);
	for (m = t->qhead; m; m = next) {
		next = m->next;
		msg_free(m);
	}
	t->qhead = t->qtail = NULL;
	close(t->job_pipe[0]);
	close(t->job_pipe[1]);
	t->job_pipe[0] = t->job_pipe[1] = -1;
	pthread_mutex_destroy(&t->qlock);
	return true;
}

struct tui_job *
tui_job_get(struct tui *t, unsigned id)
{
	if (id == 0)
		return NULL;
	for (int i = 0; i < TUI_MAX_JOBS; i++)
		if (t->jobs[i].used && t->jobs[i].id == id)
			return &t->jobs[i];
	return NULL;
}

bool
tui_jobs_running(const struct tui *t)
{
	for (int i = 0; i < TUI_MAX_JOBS; i++)
		if (t->jobs[i].used && t->jobs[i].running)
			return true;
	/* A domain check has no job slot; its spinner turns all the same. */
	return t->domcheck != NULL;
}

size_t
tui_jobs_count(const struct tui *t, enum job_kind kind)
{
	size_t n = 0;

	for (int i = 0; i < TUI_MAX_JOBS; i++)
		if (t->jobs[i].used && t->jobs[i].running &&
		    t->jobs[i].kind == kind)
			n++;
	return n;
}

/* A test's worker state; an OAuth account's token material opened now,
 * while the store is at hand (the refresh itself runs on the worker). */
static struct worker_arg *
test_new(struct tui *t, enum job_kind kind, const struct account *a,
         const char *pw, const char *imap_pw, bool stored)
{
	struct worker_arg *w = calloc(1, sizeof *w);
	char err[APP_ERR_MAX];

	if (!w)
		return NULL;
	w->cancel[0] = w->cancel[1] = -1;
	w->t = t;
	w->kind = kind;
	w->acct = *a;
	w->cat = DIAG_INTERNAL_ERROR;
	probe_opts_default(&w->opts);
	/* The troubleshooting panel can offer what works instead. */
	w->opts.find_alternatives = kind == JOB_DIAG;
	if (pthread_mutex_init(&w->lock, NULL) != 0) {
		free(w);
		return NULL;
	}
	if (pipe(w->cancel) != 0)
		goto fail;
	fcntl(w->cancel[0], F_SETFD, FD_CLOEXEC);
	fcntl(w->cancel[1], F_SETFD, FD_CLOEXEC);
	/* Locked, the store has no token: tested without, as a password
	 * account is. */
	if (a->oauth && stored && store_is_unlocked(t->st)) {
		if (app_oauth_keys_open(t->st, a, &w->keys, err, sizeof err) != 0) {
			tui_message(t, true, _("Not tested: %s."), err);
			goto fail;
		}
		w->oauth = true;
	} else if (app_probe_new(a, pw, imap_pw, t->presets, &w->opts, &w->p, err,
	                         sizeof err) != 0) {
		goto fail;
	}
	return w;
fail:
	worker_free(w);
	return NULL;
}

unsigned
tui_job_start(struct tui *t, enum job_kind kind, const struct account *a,
              const char *pw, const char *imap_pw, bool stored)
{
	struct tui_job *j = NULL;
	struct worker_arg *w;

	for (int i = 0; i < TUI_MAX_JOBS; i++)
		if (!t->jobs[i].used) {
			j = &t->jobs[i];
			break;
		}
	if (!j || !(w = test_new(t, kind, a, pw, imap_pw, stored)))
		return 0;
	memset(j, 0, sizeof *j);
	j->used = true;
	j->id = t->next_job_id++;
	if (t->next_job_id == 0)
		t->next_job_id = 1;
	j->kind = kind;
	j->stored = stored;
	j->acct = *a;
	j->t0_ms = now_ms();
	j->cat = DIAG_INTERNAL_ERROR;
	j->work = w;
	w->id = j->id;

	/* Signals stay with the UI thread (the runner's workers block them). */
	if (app_runner_submit(t->runner, run_job, w) != 0) {
		worker_free(w);
		job_free(j);
		return 0;
	}
	j->running = true;
	return j->id;
}

void
tui_job_cancel(struct tui *t, unsigned id)
{
	struct tui_job *j = tui_job_get(t, id);

	if (j && j->running)
		test_cancel(j->work);
}

void
tui_job_abandon(struct tui *t, unsigned id)
{
	struct tui_job *j = tui_job_get(t, id);

	if (!j)
		return;
	if (j->running) {
		test_cancel(j->work);
		j->abandoned = true;
	} else {
		job_free(j);
	}
}

static struct probe_step *
step_slot(struct tui_job *j, const char *name)
{
	/* The step still running with that name, else a new one. */
	for (size_t i = j->nsteps; i-- > 0;)
		if (!j->steps[i].done && strcmp(j->steps[i].name, name) == 0)
			return &j->steps[i];
	if (j->nsteps >= PROBE_MAX_STEPS)
		return NULL;
	return &j->steps[j->nsteps++];
}

static void
add_line(struct tui_job *j, struct tui_tline *l)
{
	if (j->nlines == j->caplines) {
		size_t cap = j->caplines ? j->caplines * 2 : 64;
		struct tui_tline *v = realloc(j->lines, cap * sizeof *v);

		if (!v)
			return;
		j->lines = v;
		j->caplines = cap;
	}
	j->lines[j->nlines++] = *l;
	l->text = NULL;
}

void
tui_record_result(struct tui *t, struct tui_job *j)
{
	struct tui_row *r;
	char err[APP_ERR_MAX];
	int64_t when;

	if (!j->stored)
		return;
	when = j->res.started > 0 ? j->res.started : (int64_t)time(NULL);
	switch (app_result_record(t->st, j->acct.email, when, j->cat, &j->res.diag,
	                          j->res.nsteps ? now_ms() - j->t0_ms : 0, NULL,
	                          err, sizeof err)) {
	case 1:
		break;
	case 0:
		return;
	default:
		tui_message(t, true, "%s.", err);
		return;
	}
	if (app_seen_record(t->st, j->acct.email, when, &j->res, err, sizeof err) < 0)
		tui_message(t, true, "%s.", err);
	r = tui_accounts_find(t, j->acct.email);
	if (r) {
		r->health_known = false;
		r->last_time = when;
		str_copy(r->last_result, sizeof r->last_result,
		         diag_cat_name(j->cat));
	}
}

/* The end of test j, from its worker's w. The tokens a refresh brought
 * are sealed first, whatever became of the test: a rotated refresh token
 * not saved now would be lost. */
static void
finish(struct tui *t, struct tui_job *j, struct worker_arg *w)
{
	const struct probe_result *r;
	char err[APP_ERR_MAX];

	j->running = false;
	j->finished = true;
	j->work = NULL;
	j->cat = w->cat;
	j->retried = w->retried;
	if (w->refreshed &&
	    app_oauth_tokens_save(t->st, &w->acct, &w->fresh, err, sizeof err) != 0) {
		str_printf(j->note, sizeof j->note, _("The refreshed OAuth token was "
		           "not saved: %s. Sign the account in again (o)."), err);
		tui_message(t, true, "%s", j->note);
	}
	if (w->rc != 0) {
		/* No token, so no probe ran: the grant's diagnosis is the
		 * outcome. */
		j->res.diag = w->dg;
		j->res.started = (int64_t)time(NULL);
		if (!j->note[0]) {
			/* The fixes are the troubleshooting panel's. */
			str_copy(j->note, sizeof j->note, w->err);
			j->note[strcspn(j->note, "\n")] = '\0';
		}
		return;
	}
	r = w->p ? probe_result(w->p) : NULL;
	if (r) {
		j->res = *r;
		j->res.transcript = NULL;
		j->res.ntranscript = 0;
		/* The final steps are the authoritative ones. */
		memcpy(j->steps, r->steps, sizeof j->steps);
		j->nsteps = r->nsteps;
	}
}

/* What follows a message or the end of job j. */
static void
job_changed(struct tui *t, struct tui_job *j)
{
	if (j->kind == JOB_BATCH) {
		if (j->finished) {
			tui_accounts_job_done(t, j);
			job_free(j);
		}
	} else {
		tui_diag_job_event(t, j);
	}
	t->dirty = true;
}

void
tui_jobs_drain(struct tui *t)
{
	struct tui_msg *m, *next;
	struct worker_arg *done = NULL, **tail = &done, *w;
	bool ran;

	/* The finished jobs first: every event of theirs was queued before
	 * they ended, so it is in the queue taken next and is shown before
	 * the end, never after. */
	while ((w = app_runner_done(t->runner, &ran))) {
		w->ran = ran;
		if (!ran)
			w->cat = DIAG_CANCELLED;
		w->next = NULL;
		*tail = w;
		tail = &w->next;
	}
	pthread_mutex_lock(&t->qlock);
	m = t->qhead;
	t->qhead = t->qtail = NULL;
	pthread_mutex_unlock(&t->qlock);
	tui_signin_update(t);

	for (; m; m = next) {
		struct tui_job *j = tui_job_get(t, m->job);
		struct probe_step *s;

		next = m->next;
		if (!j || j->finished) {
			msg_free(m);
			continue;
		}
		switch (m->type) {
		case PROBE_EV_STEP_BEGIN:
		case PROBE_EV_STEP_END:
			if ((s = step_slot(j, m->step.name)))
				*s = m->step;
			break;
		case PROBE_EV_TRANSCRIPT:
			add_line(j, &m->line);
			break;
		default:
			break;
		}
		msg_free(m);
		job_changed(t, j);
	}
	for (w = done; w; w = w->next) {
		struct tui_job *j;

		if (w->kind == JOB_DISCOVER) {
			/* Shown only if it is still the lookup in flight. */
			if (t->disc == w->disc) {
				t->disc = NULL;
				tui_form_discovered(t, w->disc->email, w->ran ? &w->disc->r : NULL);
			}
			continue;
		}
		if (w->kind == JOB_SIGNIN) {
			tui_signin_done(t, w->signin, w->ran);
			continue;
		}
		if (w->kind == JOB_DOMAIN) {
			tui_domain_done(t, w->dom, w->ran);
			continue;
		}
		if (!(j = tui_job_get(t, w->id)))
			continue;
		finish(t, j, w);
		if (j->abandoned) {
			job_free(j);
			continue;
		}
		job_changed(t, j);
	}
	while (done) {
		w = done->next;
		worker_free(done);
		done = w;
	}
}

int
tui_open_passwords(struct tui *t, const char *email, char **pw, char **imap_pw)
{
	struct app_secrets sec;
	struct account a;
	char err[APP_ERR_MAX];
	int e, rc;

	*pw = *imap_pw = NULL;
	/* Locked, the console tests without the passwords and says so. */
	if (!store_is_unlocked(t->st))
		return 0;
	e = store_account_get(t->st, email, &a);
	if (e != STORE_OK) {
		tui_message(t, true, _("Not tested: %s: %s."), email, store_strerror(e));
		return app_store_exit(e);
	}
	/* An OAuth account's token is had on the test's worker
	 * (tui_job_start()): a refresh is network. */
	if (a.oauth)
		return 0;
	rc = app_secrets_open(t->st, &a, &sec, err, sizeof err);
	if (rc != 0) {
		tui_message(t, true, _("Not tested: %s."), err);
		return rc;
	}
	*pw = tui_secdup(sec.smtp);
	*imap_pw = tui_secdup(sec.imap);
	app_secrets_free(&sec);
	if (!*pw) {
		tui_secfree(imap_pw);
		tui_message(t, true, _("Not tested: out of memory."));
		return EX_OSERR;
	}
	return 0;
}
