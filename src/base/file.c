/* Checked reads of the files that decide whom we trust. A CA file that
 * another user can rewrite hands them the password (their CA, their
 * server); a FIFO or a device where a file should be must neither hang a
 * test nor be read for ever. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "i18n.h"
#include "util.h"

static const char *
kind_name(mode_t m)
{
	if (S_ISDIR(m))
		return _("a directory");
	if (S_ISFIFO(m))
		return _("a FIFO");
	if (S_ISCHR(m))
		return _("a character device");
	if (S_ISBLK(m))
		return _("a block device");
	if (S_ISSOCK(m))
		return _("a socket");
	return _("not a regular file");
}

static void
size_name(size_t n, char *out, size_t outlen)
{
	if (n >= ((size_t)1 << 20) && n % ((size_t)1 << 20) == 0)
		str_printf(out, outlen, "%zu MiB", n >> 20);
	else if (n >= 1024 && n % 1024 == 0)
		str_printf(out, outlen, "%zu KiB", n >> 10);
	else
		str_printf(out, outlen, _("%zu bytes"), n);
}

static void
me_name(char *out, size_t outlen)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) == 0 && res &&
	    res->pw_name[0])
		str_sanitize(out, outlen, res->pw_name, strlen(res->pw_name));
	else
		str_printf(out, outlen, "%u", (unsigned)geteuid());
}

/* Who may change st: its owner must be us or root, and no one else may
 * write it (a directory's sticky bit keeps others from replacing a file
 * that is not theirs). what is "it" or "its directory DIR". */
static int
check_owner(const struct stat *st, bool dir, const char *spath,
            const char *what, char *why, size_t whylen)
{
	char me[64];

	if (st->st_uid != geteuid() && st->st_uid != 0) {
		me_name(me, sizeof me);
		str_printf(why, whylen, _("%s belongs to uid %u, not to you or root, "
		           "so its owner could change whom we trust (fix: chown %s "
		           "'%s', or use a copy of your own)"), what,
		           (unsigned)st->st_uid, me, spath);
		return -1;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) &&
	    !(dir && (st->st_mode & S_ISVTX))) {
		str_printf(why, whylen, _("%s is writable by %s (mode %04o), so "
		           "another user could change whom we trust (fix: chmod "
		           "go-w '%s')"), what,
		           (st->st_mode & S_IWOTH) ? _("everyone") : _("its group"),
		           (unsigned)(st->st_mode & 07777), spath);
		return -1;
	}
	return 0;
}

char *
file_read_checked(const char *path, size_t max, size_t *len, char *why,
                  size_t whylen)
{
	char spath[1024], sdir[1024], what[1100], num[32];
	struct stat st, dst;
	char *buf = NULL, *slash;
	size_t n = 0, cap;
	int fd;

	*len = 0;
	str_copy(why, whylen, "");
	str_sanitize(spath, sizeof spath, path, strlen(path));
	/* O_NONBLOCK: opening a FIFO without a writer must not wait;
	 * O_NOFOLLOW: the checks below are about the file itself. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ELOOP)
			str_printf(why, whylen, _("it is a symbolic link (give the "
			           "path of the file itself)"));
		else
			str_printf(why, whylen, _("cannot open it: %s"), strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		str_printf(why, whylen, _("cannot examine it: %s"), strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		str_printf(why, whylen, _("it is %s, not a regular file"),
		           kind_name(st.st_mode));
		goto fail;
	}
	if ((uint64_t)st.st_size > (uint64_t)max) {
		size_name(max, num, sizeof num);
		str_printf(why, whylen, _("it is larger than %s (%lld bytes)"), num,
		           (long long)st.st_size);
		goto fail;
	}
	/* TRANSLATORS: the file itself, as in "it belongs to uid 1001" */
	if (check_owner(&st, false, spath, _("it"), why, whylen) < 0)
		goto fail;
	/* The directory: whoever can write it can put another file here. */
	str_copy(sdir, sizeof sdir, path);
	slash = strrchr(sdir, '/');
	if (!slash)
		str_copy(sdir, sizeof sdir, ".");
	else if (slash == sdir)
		sdir[1] = '\0';
	else
		*slash = '\0';
	if (stat(sdir, &dst) == 0) {
		char s[1024];

		str_sanitize(s, sizeof s, sdir, strlen(sdir));
		str_printf(what, sizeof what, _("its directory %s"), s);
		if (check_owner(&dst, true, s, what, why, whylen) < 0)
			goto fail;
	}
	/* The size may change while we read: never more than max + 1. */
	cap = (size_t)st.st_size < max ? (size_t)st.st_size + 1 : max + 1;
	buf = malloc(cap + 1);
	if (!buf) {
		str_printf(why, whylen, _("out of memory"));
		goto fail;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *v;

			if (cap > max)
				break;
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			v = realloc(buf, cap + 1);
			if (!v) {
				str_printf(why, whylen, _("out of memory"));
				goto fail;
			}
			buf = v;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			str_printf(why, whylen, _("cannot read it: %s"), strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		size_name(max, num, sizeof num);
		str_printf(why, whylen, _("it is larger than %s"), num);
		goto fail;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}
