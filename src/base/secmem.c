/* Locked, wiped memory for key material and passwords. */
#include "config.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "secmem.h"

static atomic_bool unlocked;
static void (*_Atomic unlocked_cb)(void);

void
secmem_on_unlocked(void (*cb)(void))
{
	atomic_store(&unlocked_cb, cb);
}

bool
secmem_unlocked(void)
{
	return atomic_load(&unlocked);
}

void
secmem_harden_process(void)
{
	struct rlimit rl = { 0, 0 };

	/* No core file may carry a password or a data key. */
	(void)setrlimit(RLIMIT_CORE, &rl);
#ifndef FLUENZR_SANITIZERS
	/* Not dumpable: no core either, and no ptrace by other processes of the
	 * same user. Skipped under sanitizers only because LeakSanitizer works
	 * by ptrace-attaching to its own process, which this forbids. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

void
secmem_wipe(void *p, size_t n)
{
	if (p == NULL || n == 0)
		return;
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, n);
#else
	volatile uint8_t *v = p;
	while (n--)
		*v++ = 0;
#endif
}

/* Whole pages, so that munlock() of one buffer never unlocks a page that
 * another locked buffer shares. */
static size_t
page_round(size_t n)
{
	long ps = sysconf(_SC_PAGESIZE);
	size_t page = ps > 0 ? (size_t)ps : 4096;

	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - page)
		return 0;
	return (n + page - 1) / page * page;
}

void *
secmem_alloc(size_t n)
{
	size_t len = page_round(n);
	long ps = sysconf(_SC_PAGESIZE);
	void *p = NULL;

	if (len == 0)
		return NULL;
	if (posix_memalign(&p, ps > 0 ? (size_t)ps : 4096, len) != 0)
		return NULL;
	memset(p, 0, len);
#ifdef HAVE_MLOCK
	/* Best effort: RLIMIT_MEMLOCK may be small (64 KiB), and an unlocked
	 * page is still better than no buffer at all; but not in silence. */
	if (mlock(p, len) != 0 && !atomic_exchange(&unlocked, true)) {
		void (*cb)(void) = atomic_load(&unlocked_cb);

		if (cb)
			cb();
	}
#endif
	return p;
}

void
secmem_free(void *p, size_t n)
{
	size_t len = page_round(n);

	if (p == NULL)
		return;
	/* The whole rounded allocation: callers may have used the slack. */
	secmem_wipe(p, len ? len : n);
#ifdef HAVE_MLOCK
	(void)munlock(p, len ? len : n);
#endif
	free(p);
}
