/* Memory for key material and passwords: locked (never swapped), wiped before
 * it is released, and a process that leaves no core dump behind. */
#ifndef FLUENZR_SECMEM_H
#define FLUENZR_SECMEM_H

#include <stdbool.h>
#include <stddef.h>

/* Forbid core dumps and ptrace attachment. Call first thing in main(). */
void secmem_harden_process(void);

/* Zero-filled, mlock()ed allocation; NULL on failure. */
void *secmem_alloc(size_t n);
/* Wipes n bytes and frees; NULL is fine. */
void secmem_free(void *p, size_t n);
/* Wipe that the compiler may not remove. */
void secmem_wipe(void *p, size_t n);

/* What the program says, once, the first time memory cannot be locked
 * (RLIMIT_MEMLOCK too low, "ulimit -l"): secrets then live in pages that
 * may be swapped out, and the user should know. */
#define SECMEM_UNLOCKED_MSG \
	"warning: memory cannot be locked (RLIMIT_MEMLOCK, see ulimit -l): " \
	"passwords and keys may be written to swap"
/* cb is called (once, from the thread that allocated) when that happens. */
void secmem_on_unlocked(void (*cb)(void));
/* True once an allocation could not be locked. */
bool secmem_unlocked(void);

#endif
