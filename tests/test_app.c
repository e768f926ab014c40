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

int
main(void)
{
	test_bound();
	test_stop();
	test_passphrase();
	test_spellings();
	return unit_done();
}
