/* The organizational domain through the Public Suffix List: the one file
 * that sees libpsl. A label count would get example.co.uk wrong; the list
 * is the reference RFC 7489 §3.2 names. libpsl's built-in list is used, or
 * the system's newer one (Debian's publicsuffix) when it is installed. */
#include "config.h"

#include <libpsl.h>
#include <pthread.h>
#include <string.h>

#include "domain.h"
#include "util.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const psl_ctx_t *ctx;

static void
load(void)
{
	ctx = psl_latest(NULL);
	if (!ctx)
		ctx = psl_builtin();
}

int
domain_org(const char *name, char *out, size_t len)
{
	const char *reg;

	out[0] = '\0';
	pthread_once(&once, load);
	if (!ctx || !name[0])
		return -1;
	reg = psl_registrable_domain(ctx, name);
	if (!reg || str_copy(out, len, reg) < 0) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}
