/* Drawing helpers measured in terminal columns, not bytes ("山田太郎" is 8
 * columns), and the one-line text field used by every screen. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "i18n.h"
#include "secmem.h"
#include "tui.h"
#include "util.h"

/* ---- UTF-8 ---------------------------------------------------------------- */

/* Decodes one code point; invalid input yields -1 and consumes one byte. */
static size_t
utf8_next(const char *s, size_t len, long *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n;
	long c;

	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if ((u[0] & 0xe0) == 0xc0) {
		n = 2;
		c = u[0] & 0x1f;
	} else if ((u[0] & 0xf0) == 0xe0) {
		n = 3;
		c = u[0] & 0x0f;
	} else if ((u[0] & 0xf8) == 0xf0) {
		n = 4;
		c = u[0] & 0x07;
	} else {
		*cp = -1;
		return 1;
	}
	if (n > len) {
		*cp = -1;
		return 1;
	}
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80) {
			*cp = -1;
			return 1;
		}
		c = (c << 6) | (u[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		c = -1;
	*cp = c;
	return n;
}

static size_t
utf8_put(long cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* What to draw for a code point, and its width: anything the terminal
 * cannot show (controls, invalid bytes, non-ASCII outside a UTF-8 locale)
 * becomes '?'. */
static int
glyph(const struct tui *t, long cp, wchar_t *out)
{
	int w;

	if (cp < 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
		*out = L'?';
		return 1;
	}
	if (cp < 0x80) {
		*out = (wchar_t)cp;
		return 1;
	}
	if (!t->utf8) {
		*out = L'?';
		return 1;
	}
	w = wcwidth((wchar_t)cp);
	if (w < 0) {
		*out = L'?';
		return 1;
	}
	*out = (wchar_t)cp;
	return w;
}

int
tui_cols(const struct tui *t, const char *s)
{
	size_t len = strlen(s), i = 0;
	int cols = 0;

	while (i < len) {
		long cp;
		wchar_t wc;

		i += utf8_next(s + i, len - i, &cp);
		cols += glyph(t, cp, &wc);
	}
	return cols;
}

int
tui_put(const struct tui *t, int y, int x, int maxcols, const char *s,
        bool pad, bool ellipsis)
{
	wchar_t buf[512];
	size_t len = strlen(s), i = 0, nb = 0;
	int cols = 0, total, limit;

	if (maxcols <= 0 || y < 0 || y >= LINES || x >= COLS)
		return 0;
	if (x + maxcols > COLS)
		maxcols = COLS - x;
	total = tui_cols(t, s);
	limit = maxcols;
	if (ellipsis && total > maxcols)
		limit = maxcols - 1;
	while (i < len && nb < sizeof buf / sizeof buf[0] - 2) {
		long cp;
		wchar_t wc;
		size_t n = utf8_next(s + i, len - i, &cp);
		int w = glyph(t, cp, &wc);

		if (cols + w > limit)
			break;
		buf[nb++] = wc;
		cols += w;
		i += n;
	}
	if (ellipsis && total > maxcols && cols < maxcols) {
		buf[nb++] = t->utf8 ? L'\x2026' : L'~';
		cols++;
	}
	while (pad && cols < maxcols && nb < sizeof buf / sizeof buf[0] - 1) {
		buf[nb++] = L' ';
		cols++;
	}
	buf[nb] = L'\0';
	mvaddnwstr(y, x, buf, (int)nb);
	return cols;
}

void
tui_hline(int y, int x, int n)
{
	mvhline(y, x, ACS_HLINE, n);
}

void
tui_box(int y, int x, int h, int w)
{
	mvhline(y, x + 1, ACS_HLINE, w - 2);
	mvhline(y + h - 1, x + 1, ACS_HLINE, w - 2);
	mvvline(y + 1, x, ACS_VLINE, h - 2);
	mvvline(y + 1, x + w - 1, ACS_VLINE, h - 2);
	mvaddch(y, x, ACS_ULCORNER);
	mvaddch(y, x + w - 1, ACS_URCORNER);
	mvaddch(y + h - 1, x, ACS_LLCORNER);
	mvaddch(y + h - 1, x + w - 1, ACS_LRCORNER);
	for (int i = 1; i < h - 1; i++)
		mvhline(y + i, x + 1, ' ', w - 2);
}

attr_t
tui_attr(const struct tui *t, enum tui_color c)
{
	if (t->color)
		return c == CP_NONE ? A_NORMAL : COLOR_PAIR(c);
	/* Monochrome: keep the meaning with attributes alone. */
	switch (c) {
	case CP_TITLE:
	case CP_SEL:
		return A_REVERSE;
	case CP_FAIL:
	case CP_WARN:
	case CP_KEY:
		return A_BOLD;
	case CP_DIM:
		return A_DIM;
	default:
		return A_NORMAL;
	}
}

const char *
tui_mark_ok(const struct tui *t)
{
	return t->utf8 ? "\xe2\x9c\x93" : "ok";
}

const char *
tui_mark_fail(const struct tui *t)
{
	return t->utf8 ? "\xe2\x9c\x97" : "!!";
}

/* A finding beside a passed test: neither a pass nor a failure. */
const char *
tui_mark_warn(const struct tui *t)
{
	(void)t;
	return "!";
}

const char *
tui_mark_never(const struct tui *t)
{
	return t->utf8 ? "\xc2\xb7" : "-";
}

const char *
tui_spinner(const struct tui *t)
{
	static const char *const u[] = {
		"\xe2\xa0\x8b", "\xe2\xa0\x99", "\xe2\xa0\xb9", "\xe2\xa0\xb8",
		"\xe2\xa0\xbc", "\xe2\xa0\xb4", "\xe2\xa0\xa6", "\xe2\xa0\xa7",
		"\xe2\xa0\x87", "\xe2\xa0\x8f",
	};
	static const char *const a[] = { "|", "/", "-", "\\" };
	int64_t f = now_ms() / 100;

	return t->utf8 ? u[f % 10] : a[f % 4];
}

void
tui_reltime(int64_t when, int64_t now, char *out, size_t len)
{
	int64_t d = now - when;

	/* TRANSLATORS: the "Tested" column is 8 columns wide: keep these
	 * short ("m" minutes, "h" hours, "d" days). */
	if (when <= 0) {
		str_copy(out, len, _("never"));
	} else if (d < 60) {
		str_copy(out, len, _("just now"));
	} else if (d < 3600) {
		str_printf(out, len, _("%lldm ago"), (long long)(d / 60));
	} else if (d < 86400) {
		str_printf(out, len, _("%lldh ago"), (long long)(d / 3600));
	} else if (d < 86400 * 60) {
		str_printf(out, len, _("%lldd ago"), (long long)(d / 86400));
	} else {
		time_t tt = (time_t)when;
		struct tm tm;

		if (localtime_r(&tt, &tm))
			strftime(out, len, "%Y-%m-%d", &tm);
		else
			str_copy(out, len, _("long ago"));
	}
}

/* ---- text fields ------------------------------------------------------- */

int
tui_input_init(struct tui_input *in, size_t maxlen, bool secret)
{
	memset(in, 0, sizeof *in);
	in->cap = maxlen + 1;
	in->secret = secret;
	in->buf = secret ? secmem_alloc(in->cap) : calloc(1, in->cap);
	return in->buf ? 0 : -1;
}

void
tui_input_free(struct tui_input *in)
{
	if (!in->buf)
		return;
	if (in->secret)
		secmem_free(in->buf, in->cap);
	else
		free(in->buf);
	in->buf = NULL;
	in->len = in->cur = 0;
}

void
tui_input_set(struct tui_input *in, const char *s)
{
	if (!in->buf)
		return;
	if (in->secret)
		secmem_wipe(in->buf, in->cap);
	str_copy(in->buf, in->cap, s ? s : "");
	in->len = strlen(in->buf);
	/* A cut in the middle of a character would leave invalid UTF-8. */
	while (in->len > 0 && !utf8_valid(in->buf, in->len))
		in->buf[--in->len] = '\0';
	in->cur = in->len;
}

static size_t
prev_cp(const struct tui_input *in, size_t pos)
{
	if (pos == 0)
		return 0;
	pos--;
	while (pos > 0 && ((unsigned char)in->buf[pos] & 0xc0) == 0x80)
		pos--;
	return pos;
}

static size_t
next_cp(const struct tui_input *in, size_t pos)
{
	long cp;

	if (pos >= in->len)
		return in->len;
	return pos + utf8_next(in->buf + pos, in->len - pos, &cp);
}

bool
tui_input_key(struct tui_input *in, int key, bool *changed)
{
	size_t p;

	*changed = false;
	if (!in->buf)
		return false;
	switch (tui_keys_lookup(KS_FIELD, key)) {
	case ACT_ED_LEFT:
		in->cur = prev_cp(in, in->cur);
		return true;
	case ACT_ED_RIGHT:
		in->cur = next_cp(in, in->cur);
		return true;
	case ACT_ED_HOME:
		in->cur = 0;
		return true;
	case ACT_ED_END:
		in->cur = in->len;
		return true;
	case ACT_ED_BS:
		if (in->cur == 0)
			return true;
		p = prev_cp(in, in->cur);
		memmove(in->buf + p, in->buf + in->cur, in->len - in->cur + 1);
		in->len -= in->cur - p;
		in->cur = p;
		*changed = in->touched = true;
		return true;
	case ACT_ED_DEL:
		if (in->cur >= in->len)
			return true;
		p = next_cp(in, in->cur);
		memmove(in->buf + in->cur, in->buf + p, in->len - p + 1);
		in->len -= p - in->cur;
		*changed = in->touched = true;
		return true;
	case ACT_ED_KILL:
		if (in->secret)
			secmem_wipe(in->buf, in->cap);
		in->buf[0] = '\0';
		in->len = in->cur = 0;
		*changed = in->touched = true;
		return true;
	default:
		break;
	}
	if (TUI_IS_FN(key) || key < 0x20 || key == 0x7f ||
	    (key >= 0x80 && key < 0xa0) || key > 0x10ffff ||
	    (key >= 0xd800 && key <= 0xdfff))
		return false;
	{
		char u[4];
		size_t n = utf8_put(key, u);

		if (in->len + n >= in->cap)
			return true;        /* full: swallow, the field shows it */
		memmove(in->buf + in->cur + n, in->buf + in->cur,
		        in->len - in->cur + 1);
		memcpy(in->buf + in->cur, u, n);
		in->len += n;
		in->cur += n;
		*changed = in->touched = true;
		secmem_wipe(u, sizeof u);
	}
	return true;
}

void
tui_draw_input(struct tui *t, const struct tui_input *in, int y, int x,
               int width, bool focus, bool masked)
{
	/* Columns of each code point up to the cursor decide the scroll. */
	size_t i = 0, start = 0;
	int before = 0;
	wchar_t buf[512];
	size_t nb = 0;
	int cols = 0;

	if (width <= 0 || !in->buf)
		return;
	attron(A_UNDERLINE);
	mvhline(y, x, ' ', width);
	while (i < in->cur) {
		long cp;
		wchar_t wc;
		size_t n = utf8_next(in->buf + i, in->len - i, &cp);

		before += masked ? 1 : glyph(t, cp, &wc);
		i += n;
	}
	/* Drop characters from the left until the cursor fits. */
	while (before > width - 1 && start < in->cur) {
		long cp;
		wchar_t wc;
		size_t n = utf8_next(in->buf + start, in->len - start, &cp);

		before -= masked ? 1 : glyph(t, cp, &wc);
		start += n;
	}
	i = start;
	while (i < in->len && nb < sizeof buf / sizeof buf[0] - 1) {
		long cp;
		wchar_t wc;
		size_t n = utf8_next(in->buf + i, in->len - i, &cp);
		int w = glyph(t, cp, &wc);

		if (masked) {
			wc = L'*';
			w = 1;
		}
		if (cols + w > width)
			break;
		buf[nb++] = wc;
		cols += w;
		i += n;
	}
	buf[nb] = L'\0';
	mvaddnwstr(y, x, buf, (int)nb);
	secmem_wipe(buf, sizeof buf);
	attroff(A_UNDERLINE);
	if (focus) {
		t->cur_y = y;
		t->cur_x = x + before;
	}
}

void
tui_lines_wrap(const struct tui *t, struct tui_lines *L, attr_t a,
               const char *first, const char *cont, const char *text,
               int width)
{
	const char *p = text;
	bool firstline = true;

	do {
		char line[sizeof L->text[0]];
		size_t best = 0, len = strlen(p);
		const char *lead = firstline ? first : cont;

		/* The longest prefix ending at a space that fits. */
		for (size_t i = 1; i <= len; i++) {
			if (i < len && p[i] != ' ')
				continue;
			str_printf(line, sizeof line, "%s%.*s", lead, (int)i, p);
			if (tui_cols(t, line) > width && best > 0)
				break;
			best = i;
			if (tui_cols(t, line) > width)
				break;
		}
		if (L->n < 64) {
			L->attr[L->n] = a;
			str_printf(L->text[L->n], sizeof L->text[L->n], "%s%.*s", lead,
			           (int)best, p);
			L->n++;
		}
		p += best;
		while (*p == ' ')
			p++;
		firstline = false;
	} while (*p);
}

