/* Small helpers shared by every layer: bounded string copies, sanitising what
 * servers say, reading secrets, XDG directories. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "secmem.h"
#include "util.h"

/* A truncated copy ends on a whole character: a translated message is
 * several bytes a letter, and half a letter shows as garbage. */
static void
utf8_cut(char *s, size_t len)
{
	size_t p = len, need;
	unsigned char c;

	while (p > 0 && len - p < 4 && ((unsigned char)s[p - 1] & 0xC0) == 0x80)
		p--;
	if (p == 0)
		return;
	c = (unsigned char)s[p - 1];
	if (c < 0xC0)
		return;
	need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
	if (len - (p - 1) < need)
		s[p - 1] = '\0';
}

int
str_copy(char *dst, size_t dstlen, const char *src)
{
	size_t n;

	if (dstlen == 0)
		return -1;
	n = strlen(src);
	if (n >= dstlen) {
		memcpy(dst, src, dstlen - 1);
		dst[dstlen - 1] = '\0';
		utf8_cut(dst, dstlen - 1);
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

int
str_printf(char *dst, size_t dstlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = str_vprintf(dst, dstlen, fmt, ap);
	va_end(ap);
	return n;
}

int
str_vprintf(char *dst, size_t dstlen, const char *fmt, va_list ap)
{
	int n;

	if (dstlen == 0)
		return -1;
	n = vsnprintf(dst, dstlen, fmt, ap);
	if (n < 0 || (size_t)n >= dstlen) {
		if (n >= 0)
			utf8_cut(dst, strlen(dst));
		return -1;
	}
	return 0;
}

size_t
utf8_decode(const char *str, size_t len, unsigned *cpout)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned c = s[0];
	size_t n, i;
	unsigned cp;

	if (c < 0x80) {
		if (cpout)
			*cpout = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	if (cpout)
		*cpout = cp;
	return n;
}

bool
utf8_invisible(unsigned cp)
{
	/* Bidi embeddings, overrides and isolates reorder what follows them
	 * (a reply can make "ok" out of "failed"); the others are invisible
	 * and can hide or forge text: zero-width space, joiners and marks,
	 * line and paragraph separators, word joiner and invisible
	 * operators, deprecated format controls, BOM, interlinear
	 * annotations, tag characters, soft hyphen and the Mongolian vowel
	 * separator. */
	return cp == 0x00ad || cp == 0x061c || cp == 0x180e ||
	       (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x2064) ||
	       (cp >= 0x2066 && cp <= 0x206f) ||
	       cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) ||
	       (cp >= 0xe0000 && cp <= 0xe007f);
}

bool
utf8_has_invisible(const char *s, size_t len)
{
	size_t i = 0, n;
	unsigned cp;

	while (i < len) {
		/* Every invisible code point is above U+007F: ASCII, the
		 * usual text, needs no decoding. */
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_decode(s + i, len - i, &cp);
		if (n == 0)
			n = 1;
		else if (utf8_invisible(cp))
			return true;
		i += n;
	}
	return false;
}

bool
utf8_valid(const char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_decode(s + i, len - i, NULL);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

size_t
str_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t i = 0, o = 0, n;
	unsigned cp;

	if (dstlen == 0)
		return 0;
	while (i < srclen && o + 1 < dstlen) {
		n = utf8_decode(src + i, srclen - i, &cp);
		if (n == 0) {
			dst[o++] = '?';
			i++;
			continue;
		}
		/* C0, DEL, C1 (U+0080..U+009F: 8-bit CSI and friends) and the
		 * bidi and invisible format characters. */
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || utf8_invisible(cp)) {
			dst[o++] = '?';
			i += n;
			continue;
		}
		if (o + n >= dstlen)
			break;
		memcpy(dst + o, p + i, n);
		o += n;
		i += n;
	}
	dst[o] = '\0';
	return i;
}

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads up to the first newline or EOF; a secret longer than the buffer is an
 * error rather than silently cut, and so is a NUL byte (a UTF-16 file, say),
 * which would silently cut it at the first NUL. */
static int
read_line_fd(int fd, char *buf, size_t len, const volatile sig_atomic_t *stop)
{
	size_t o = 0;
	bool nul = false;
	char ch;
	ssize_t r;

	for (;;) {
		r = read(fd, &ch, 1);
		if (r < 0) {
			if (errno == EINTR && !(stop && *stop))
				continue;
			return -1;
		}
		if (r == 0 || ch == '\n')
			break;
		if (o + 1 >= len) {
			errno = EMSGSIZE;
			return -1;
		}
		nul |= ch == '\0';
		buf[o++] = ch;
	}
	if (nul) {
		errno = EILSEQ;
		return -1;
	}
	if (o > 0 && buf[o - 1] == '\r')
		o--;
	buf[o] = '\0';
	return 0;
}

/* The signals that end or stop a prompt: the terminal gets its echo back
 * before the signal takes effect (else the shell is left typing blind). */
static const int prompt_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };
#define NPROMPT_SIGNALS (sizeof(prompt_signals) / sizeof(prompt_signals[0]))
static volatile sig_atomic_t prompt_signal;

static void
on_prompt_signal(int sig)
{
	prompt_signal = sig;
}

int
read_secret(int fd, const char *prompt, char *buf, size_t len)
{
	struct sigaction sa, saved_sa[NPROMPT_SIGNALS];
	bool caught[NPROMPT_SIGNALS];
	struct termios old, noecho;
	int tty = -1, rc, saved, sig;

	if (len == 0) {
		errno = EINVAL;
		return -1;
	}
	if (fd >= 0 && !isatty(fd)) {
		rc = read_line_fd(fd, buf, len, NULL);
		if (rc < 0)
			secmem_wipe(buf, len);
		return rc;
	}
	/* A descriptor that is a terminal (--password-fd 0 typed by hand)
	 * is read like the prompt: without echo. */
	tty = fd >= 0 ? fd : open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (tty < 0)
		return -1;
	if (tcgetattr(tty, &old) < 0) {
		saved = errno;
		if (tty != fd)
			close(tty);
		errno = saved;
		return -1;
	}
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	noecho.c_lflag |= ICANON;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_prompt_signal;       /* no SA_RESTART: read() returns */
	sigemptyset(&sa.sa_mask);
again:
	prompt_signal = 0;
	for (size_t i = 0; i < NPROMPT_SIGNALS; i++) {
		/* A signal the caller ignores stays ignored. */
		caught[i] = sigaction(prompt_signals[i], NULL, &saved_sa[i]) == 0 &&
		            saved_sa[i].sa_handler != SIG_IGN &&
		            sigaction(prompt_signals[i], &sa, NULL) == 0;
	}
	if (prompt && write(tty, prompt, strlen(prompt)) < 0) {
		/* a prompt that cannot be shown is not fatal */
	}
	tcsetattr(tty, TCSAFLUSH, &noecho);
	rc = read_line_fd(tty, buf, len, &prompt_signal);
	saved = errno;
	tcsetattr(tty, TCSAFLUSH, &old);
	if (write(tty, "\n", 1) < 0) {
		/* ignored: cosmetic */
	}
	for (size_t i = 0; i < NPROMPT_SIGNALS; i++)
		if (caught[i])
			sigaction(prompt_signals[i], &saved_sa[i], NULL);
	sig = prompt_signal;
	if (sig) {
		/* With the terminal restored, the signal does what it would have
		 * done: end the program, or stop it (then ask again, unless the
		 * line was complete). */
		if (rc < 0)
			secmem_wipe(buf, len);
		raise(sig);
		if (rc < 0 && sig == SIGTSTP)
			goto again;
		if (rc < 0)
			saved = EINTR;
	}
	if (tty != fd)
		close(tty);
	if (rc < 0) {
		secmem_wipe(buf, len);
		errno = saved;
	}
	return rc;
}

int
mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	char *p;

	if (str_copy(tmp, sizeof tmp, path) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* $VAR/fluenzr when VAR is an absolute path, else $HOME/fallback/fluenzr
 * (the XDG base directory rules). */
static int
xdg_dir(const char *var, const char *fallback, char *out, size_t len)
{
	const char *v = getenv(var), *home;

	if (v && v[0] == '/')
		return str_printf(out, len, "%s/fluenzr", v);
	home = getenv("HOME");
	if (!home || home[0] != '/') {
		errno = ENOENT;
		return -1;
	}
	return str_printf(out, len, "%s/%s/fluenzr", home, fallback);
}

int
default_store_dir(char *out, size_t len)
{
	return xdg_dir("XDG_DATA_HOME", ".local/share", out, len);
}

int
default_config_dir(char *out, size_t len)
{
	return xdg_dir("XDG_CONFIG_HOME", ".config", out, len);
}
