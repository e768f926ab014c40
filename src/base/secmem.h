/* Memory for key material and passwords: locked (never swapped), wiped before
 * it is released, and a process that leaves no core dump behind. */
#ifndef FLUENZR_SECMEM_H
#define FLUENZR_SECMEM_H

#include <stddef.h>

/* Forbid core dumps and ptrace attachment. Call first thing in main(). */
void secmem_harden_process(void);

/* Zero-filled, mlock()ed allocation; NULL on failure. */
void *secmem_alloc(size_t n);
/* Wipes n bytes and frees; NULL is fine. */
void secmem_free(void *p, size_t n);
/* Wipe that the compiler may not remove. */
void secmem_wipe(void *p, size_t n);

#endif
