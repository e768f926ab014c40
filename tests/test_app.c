/* Unit tests of what the commands and the console share: the bounded
 * runner (never more than N at once, every job back once, the descriptor
 * signalled, no thread left when idle, a stop that hands back what never
 * ran), the passphrase rule and the table of security-mode spellings. */
#include "config.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "policy.h"
#include "unit.h"

struct tjob {
	int id;
	int seen;               /* times handed back */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int running, most;
static bool hold;               /* jobs wait while set */

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
tjob_run(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	if (++running > most)
		most = running;
	while (hold)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	sleep_ms(10);
	pthread_mutex_lock(&mu);
	running--;
	pthread_mutex_unlock(&mu);
}

static int
threads(void)
{
	char line[256];
	int n = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

static void
test_bound(void)
{
	struct tjob jobs[24];
	struct app_runner *r = app_runner_new(3, -1);
	struct pollfd p;
	struct tjob *j;
	bool ran, once = true, all_ran = true;
	int n = 0, refused = 0;

	check(r != NULL && app_runner_fd(r) >= 0, "a runner with its own pipe");
	for (int i = 0; i < 24; i++) {
		jobs[i].id = i;
		jobs[i].seen = 0;
		refused += app_runner_submit(r, tjob_run, &jobs[i]) != 0;
	}
	check(refused == 0, "24 jobs queued");
	p.fd = app_runner_fd(r);
	p.events = POLLIN;
	check(poll(&p, 1, 5000) == 1, "the descriptor is readable once a job ends");
	while ((j = app_runner_wait(r, &ran))) {
		j->seen++;
		all_ran &= ran;
		n++;
	}
	for (int i = 0; i < 24; i++)
		once &= jobs[i].seen == 1;
	check(n == 24 && once && all_ran, "every job back once, run (%d)", n);
	check(most > 1 && most <= 3, "at most 3 at once, and more than 1 (%d)", most);
	check(app_runner_inflight(r) == 0, "nothing in flight");
	check(app_runner_stop(r, 2000), "stop: every worker ended");
	check(threads() == 1, "no worker left (%d threads)", threads());
	app_runner_free(r);
}

static void
test_stop(void)
{
	struct tjob jobs[4];
	int fds[2];
	struct app_runner *r;
	struct tjob *j;
	bool ran;
	int nran = 0, nnot = 0;
	char c;

	check(pipe(fds) == 0, "pipe");
	r = app_runner_new(1, fds[1]);
	check(r != NULL && app_runner_fd(r) < 0, "a runner on the caller's pipe");
	hold = true;
	most = 0;
	for (int i = 0; i < 4; i++)
		app_runner_submit(r, tjob_run, &jobs[i]);
	sleep_ms(50);
	check(most == 1, "one at a time (%d)", most);
	check(!app_runner_stop(r, 100), "stop while a job is blocked: not all ended");
	pthread_mutex_lock(&mu);
	hold = false;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	check(app_runner_stop(r, 2000), "... and once it ends, all ended");
	check(read(fds[0], &c, 1) == 1, "the end signalled on the caller's pipe");
	while ((j = app_runner_done(r, &ran)))
		ran ? nran++ : nnot++;
	check(nran == 1 && nnot == 3, "what waited comes back as not run (%d ran, %d not)",
	      nran, nnot);
	check(app_runner_submit(r, tjob_run, &jobs[0]) != 0, "no job after a stop");
	app_runner_free(r);
	close(fds[0]);
	close(fds[1]);
}

static void
test_passphrase(void)
{
	char longp[1100];

	check(policy_passphrase("7 bytes") != NULL &&
	      strcmp(policy_passphrase("7 bytes"), "use at least 8 characters") == 0,
	      "7 bytes: use at least 8 characters");
	check(policy_passphrase("") != NULL, "empty refused");
	check(policy_passphrase(NULL) != NULL, "none refused");
	check(policy_passphrase("8 bytes!") == NULL, "8 bytes accepted");
	check(policy_passphrase("correct horse\tbattery") != NULL, "a tab refused");
	check(policy_passphrase("correct \xff horse") != NULL, "not UTF-8 refused");
	memset(longp, 'a', sizeof longp - 1);
	longp[sizeof longp - 1] = '\0';
	longp[1023] = '\0';
	check(policy_passphrase(longp) == NULL, "1023 bytes accepted");
	longp[1023] = 'a';
	longp[1024] = '\0';
	check(policy_passphrase(longp) != NULL, "1024 bytes refused");
}

static void
test_spellings(void)
{
	static const struct {
		enum security s;
		const char *name, *label, *brief, *choice;
	} want[] = {
		{ SEC_STARTTLS, "starttls", "TLS (STARTTLS)", "TLS", "TLS (STARTTLS)" },
		{ SEC_SSL, "ssl", "SSL", "SSL", "SSL (implicit TLS)" },
		{ SEC_NONE, "none", "none", "none", "none (clear text!)" },
	};

	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		check(strcmp(security_name(want[i].s), want[i].name) == 0 &&
		      strcmp(security_spell(want[i].s, SPELL_NAME), want[i].name) == 0,
		      "name %s", want[i].name);
		check(strcmp(security_spell(want[i].s, SPELL_LABEL), want[i].label) == 0,
		      "label %s", want[i].label);
		check(strcmp(security_spell(want[i].s, SPELL_SHORT), want[i].brief) == 0,
		      "short %s", want[i].brief);
		check(strcmp(security_spell(want[i].s, SPELL_CHOICE), want[i].choice) == 0,
		      "choice %s", want[i].choice);
	}
	check(strcmp(security_spell((enum security)7, SPELL_NAME), "unknown") == 0,
	      "no mode: unknown");
}

/* Sending limits and health: the rules of app_limits.c and app_health.c. */
static void
test_limits(void)
{
	struct store_history h;
	struct app_limits l;
	struct app_health_info hi;
	int64_t now = 1800000000, retry;   /* on the hour: 500000 * 3600 */
	char why[256];

	memset(&h, 0, sizeof h);
	memset(&l, 0, sizeof l);
	l.day = 10;
	l.hour = 4;
	check(app_limits_check(&l, &h, now, 4, &retry, why, sizeof why) == APP_LIMIT_OK,
	      "limits: an empty count lets 4 go");
	app_limits_note(&h, now, 4);
	check(app_limits_check(&l, &h, now + 10, 1, &retry, why, sizeof why) == APP_LIMIT_WAIT &&
	      retry == now + 3600, "limits: the hour is full until the next hour");
	app_limits_note(&h, now + 3600, 4);
	app_limits_note(&h, now + 7200, 2);
	check(app_limits_check(&l, &h, now + 7300, 1, &retry, why, sizeof why) == APP_LIMIT_WAIT &&
	      retry == now + 24 * 3600 && strstr(why, "daily"),
	      "limits: the day is full until its oldest hour leaves it (%s)", why);
	check(app_limits_check(&l, &h, now + 24 * 3600, 1, &retry, why, sizeof why) == APP_LIMIT_OK,
	      "limits: a day later there is room");
	check(app_limits_check(&l, &h, now, 11, &retry, why, sizeof why) == APP_LIMIT_NEVER,
	      "limits: more recipients than a day's limit never go");
	for (int i = 0; i < 40; i++)
		app_limits_note(&h, now + i * 3600, 1);
	check(h.nsend <= 24, "limits: at most a day of hours kept (%zu)", h.nsend);
	memset(&l, 0, sizeof l);
	l.interval = 60;
	h.last_sent = now;
	check(app_limits_check(&l, &h, now + 30, 1, &retry, why, sizeof why) == APP_LIMIT_WAIT &&
	      retry == now + 60, "limits: the interval");
	h.paused_until = now + 100;
	check(app_limits_check(&l, &h, now + 90, 1, &retry, why, sizeof why) == APP_LIMIT_WAIT &&
	      retry == now + 100 && strstr(why, "paused"), "limits: a pause holds");

	check(app_pause_until("450 4.7.1 try again in 15 minutes", now) == now + 900,
	      "pause: minutes");
	check(app_pause_until("421 retry after 30 seconds", now) == now + 30, "pause: seconds");
	check(app_pause_until("550 5.4.5 Daily user sending limit exceeded", now) ==
	      now + APP_PAUSE_DEFAULT, "pause: no time named: the default");
	check(app_pause_until("try again in 99999 hours", now) == now + 24 * 3600,
	      "pause: at most a day");

	memset(&h, 0, sizeof h);
	app_health_of(&h, now, 180, &hi);
	check(hi.state == APP_HEALTH_UNTESTED, "health: untested");
	h.n = 2;
	strcpy(h.ev[0].category, "ok");
	strcpy(h.ev[1].category, "timeout");
	h.ev[1].when = now;
	app_health_of(&h, now, 180, &hi);
	check(hi.state == APP_HEALTH_ATTENTION && strcmp(hi.strip, "+~") == 0,
	      "health: one temporary failure needs attention (%s)", hi.strip);
	strcpy(h.ev[1].category, "auth_failed");
	app_health_of(&h, now, 180, &hi);
	check(hi.state == APP_HEALTH_FAILING && hi.since == now,
	      "health: a lasting failure fails at once");
	strcpy(h.ev[0].category, "ok");
	strcpy(h.ev[1].category, "ok");
	h.secret_set = now - 200 * 86400;
	app_health_of(&h, now, 180, &hi);
	check(hi.state == APP_HEALTH_ATTENTION && hi.secret_old && hi.secret_age_days == 200,
	      "health: an old password needs attention");
	app_health_of(&h, now, 0, &hi);
	check(hi.state == APP_HEALTH_OK, "health: no reminder with 0 days");
}

int
main(void)
{
	test_limits();
	test_bound();
	test_stop();
	test_passphrase();
	test_spellings();
	return unit_done();
}
