/* Opening and unlocking the store, and the store passphrase, the same way
 * for the commands and the console. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sysexits.h>

#include "app.h"
#include "i18n.h"
#include "secmem.h"
#include "util.h"

int
app_store_exit(int e)
{
	switch (e) {
	case STORE_OK: return 0;
	case STORE_ENOENT: return EX_NOINPUT;
	case STORE_EXISTS: return EX_CANTCREAT;
	case STORE_EPERM: case STORE_EKEY: case STORE_NEEDPASS: return EX_NOPERM;
	case STORE_ECORRUPT: case STORE_EINVAL: return EX_DATAERR;
	case STORE_EIO: return EX_IOERR;
	case STORE_ENOMEM: return EX_OSERR;
	default: return EX_SOFTWARE;
	}
}

/* Why read_secret() failed, in words. */
static const char *
read_error(int e)
{
	if (e == EMSGSIZE)
		return _("too long");
	if (e == EILSEQ)
		return _("it contains a NUL byte (is the file UTF-16?)");
	return strerror(e);
}

const char *
app_passphrase(char **cache, int fd, const char *prompt, char *err,
               size_t errlen)
{
	if (*cache)
		return *cache;
	*cache = secmem_alloc(APP_PASS_MAX);
	if (!*cache) {
		str_copy(err, errlen, _("out of memory"));
		return NULL;
	}
	/* Without a descriptor read_secret() asks on /dev/tty, which is
	 * right for a user: only a missing terminal fails. */
	if (read_secret(fd, prompt, *cache, APP_PASS_MAX) < 0) {
		str_printf(err, errlen, _("cannot read the store passphrase: %s"),
		           read_error(errno));
		app_passphrase_free(cache);
		return NULL;
	}
	return *cache;
}

void
app_passphrase_free(char **cache)
{
	if (*cache)
		secmem_free(*cache, APP_PASS_MAX);
	*cache = NULL;
}

/* The store's own words, else its code's. */
static int
store_fail(int e, char *err, size_t errlen)
{
	if (!err[0])
		str_copy(err, errlen, store_strerror(e));
	return app_store_exit(e);
}

int
app_store_open(const char *dir, const char *key_file, bool create,
               struct store **st, char *err, size_t errlen)
{
	struct store_opts o = { dir, key_file, create };
	int e;

	err[0] = '\0';
	e = store_open(&o, st, err, errlen);
	if (e == STORE_OK)
		return 0;
	*st = NULL;
	if (e == STORE_ENOENT && !err[0])
		str_copy(err, errlen, _("no account store yet (add an account first)"));
	return store_fail(e, err, errlen);
}

int
app_store_unlock(struct store *st, int passphrase_fd, char **cache, bool ask,
                 int *store_err, char *err, size_t errlen)
{
	const char *pass = NULL;
	int dummy, e;

	if (!store_err)
		store_err = &dummy;
	*store_err = STORE_OK;
	err[0] = '\0';
	if (store_is_unlocked(st))
		return 0;
	if (passphrase_fd >= 0) {
		pass = app_passphrase(cache, passphrase_fd, NULL, err, errlen);
		if (!pass) {
			*store_err = STORE_NEEDPASS;
			return EX_NOINPUT;
		}
	}
	e = store_unlock(st, pass, err, errlen);
	if (e == STORE_NEEDPASS && !pass && ask) {
		err[0] = '\0';
		pass = app_passphrase(cache, -1, _("Store passphrase: "), err, errlen);
		if (!pass) {
			*store_err = STORE_NEEDPASS;
			return EX_NOPERM;
		}
		e = store_unlock(st, pass, err, errlen);
	}
	*store_err = e;
	if (e != STORE_OK)
		return store_fail(e, err, errlen);
	return 0;
}
