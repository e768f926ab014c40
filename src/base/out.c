/* The commands' stdout and stderr pass one filter, whatever wrote to them
 * (a server's reply, a display name, an argument echoed in an error):
 * a C1 control (U+0080..U+009F, 8-bit CSI among them) is never written as
 * such. In a UTF-8 locale, its two bytes become '?'; in any other locale
 * every byte above 0x7f is written as "\xNN", since such a terminal may
 * take 0x80..0x9f as controls and UTF-8 text is made of those bytes. */
#include "config.h"

#include <errno.h>
#include <langinfo.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "out.h"

struct out_filter {
	int fd;
	bool ascii;
	bool pending;            /* UTF-8: a 0xc2 whose next byte is to come */
};

static struct out_filter filters[2];
static bool ascii_only;
static FILE *orig_out, *orig_err;

/* Writes all of buf to fd; false on an error (EPIPE, a closed terminal). */
static bool
write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		buf += w;
		n -= (size_t)w;
	}
	return true;
}

static ssize_t
filter_write(void *cookie, const char *buf, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	struct out_filter *f = cookie;
	char out[4096];
	size_t i, o = 0;

	/* The usual case: UTF-8 text without a C1 control goes out as is. */
	if (!f->ascii && !f->pending && !memchr(buf, 0xc2, n))
		return write_all(f->fd, buf, n) ? (ssize_t)n : -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (o + 4 > sizeof(out)) {
			if (!write_all(f->fd, out, o))
				return -1;
			o = 0;
		}
		if (f->ascii) {
			if (c < 0x80) {
				out[o++] = (char)c;
			} else {
				out[o++] = '\\';
				out[o++] = 'x';
				out[o++] = hex[c >> 4];
				out[o++] = hex[c & 15];
			}
			continue;
		}
		if (f->pending) {
			f->pending = false;
			if (c >= 0x80 && c <= 0x9f) {
				out[o++] = '?';
				continue;
			}
			out[o++] = (char)0xc2;
		}
		if (c == 0xc2)
			f->pending = true;
		else
			out[o++] = (char)c;
	}
	if (o && !write_all(f->fd, out, o))
		return -1;
	return (ssize_t)n;
}

static FILE *
filter_stream(struct out_filter *f, int fd, int mode)
{
	cookie_io_functions_t io = { .write = filter_write };
	FILE *s;

	f->fd = fd;
	f->ascii = ascii_only;
	f->pending = false;
	s = fopencookie(f, "w", io);
	if (s)
		setvbuf(s, NULL, mode, BUFSIZ);
	return s;
}

void
out_init(void)
{
	const char *cs = nl_langinfo(CODESET);
	FILE *o, *e;

	ascii_only = !cs || (strcmp(cs, "UTF-8") != 0 && strcmp(cs, "utf8") != 0);
	/* glibc lets stdout and stderr be assigned; what is buffered in the
	 * originals goes out first. */
	fflush(stdout);
	fflush(stderr);
	o = filter_stream(&filters[0], STDOUT_FILENO,
	                  isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF);
	e = filter_stream(&filters[1], STDERR_FILENO, _IONBF);
	orig_out = stdout;
	orig_err = stderr;
	if (o)
		stdout = o;
	if (e)
		stderr = e;
}

void
out_restore(void)
{
	if (!orig_out)
		return;
	fflush(stdout);
	fflush(stderr);
	if (stdout != orig_out)
		fclose(stdout);
	if (stderr != orig_err)
		fclose(stderr);
	stdout = orig_out;
	stderr = orig_err;
	orig_out = orig_err = NULL;
}

bool
out_ascii(void)
{
	return ascii_only;
}
