/* Provider presets: parsing one file, loading the shipped and the user's
 * directories, matching an address's domain, and filling an account. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "preset.h"
#include "preset_builtin.h"
#include "i18n.h"
#include "util.h"

#ifndef PRESETDIR
#define PRESETDIR "/usr/local/share/fluenzr/presets"
#endif

#define PRESET_FILE_MAX   (64 * 1024)   /* bytes in one preset file */
#define PRESET_LINE_MAX   1024          /* bytes in one line */
#define PRESET_DIR_MAX    256           /* preset files read per directory */

/* ---- parsing ------------------------------------------------------------- */

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* Preset ids are file-name stems: lowercase letters, digits, '-' and '_',
 * starting with a letter or digit (account.c accepts the same in
 * account->preset). */
static bool
valid_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > ACCT_PRESET_MAX || s[0] == '-' || s[0] == '_')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_'))
			return false;
	}
	return true;
}

static int perr(char *err, size_t errlen, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
perr(char *err, size_t errlen, unsigned line, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (err && errlen)
		str_printf(err, errlen, _("line %u: %s"), line, why);
	return -1;
}

/* Splits the next token (separated by blanks, and by commas when commas) off
 * *p; returns its length, 0 at the end. */
static size_t
next_token(char **p, bool commas, char **tok)
{
	char *s = *p;
	while (is_ws(*s) || (commas && *s == ','))
		s++;
	*tok = s;
	while (*s && !is_ws(*s) && !(commas && *s == ','))
		s++;
	size_t n = (size_t)(s - *tok);
	if (*s)
		*s++ = '\0';
	*p = s;
	return n;
}

/* "HOST PORT SECURITY" */
static int
parse_server(char *v, struct preset_server *out, unsigned line,
             char *err, size_t errlen)
{
	char *host, *port, *sec, *extra;
	const char *why;

	if (!next_token(&v, false, &host) || !next_token(&v, false, &port) ||
	    !next_token(&v, false, &sec))
		return perr(err, errlen, line, _("expected HOST PORT SECURITY, "
		            "like 'smtp.example.com 587 starttls'"));
	if (next_token(&v, false, &extra))
		return perr(err, errlen, line, _("unexpected text after the security "
		            "(expected HOST PORT SECURITY)"));
	if ((why = valid_hostname(host)))
		return perr(err, errlen, line, _("the server name %s"), why);
	if ((why = valid_port(port, &out->port)))
		return perr(err, errlen, line, _("the port %s"), why);
	if (security_parse(sec, &out->security))
		return perr(err, errlen, line, _("the security must be starttls, tls "
		            "or ssl"));
	/* A preset is a recommendation: it never proposes clear text. */
	if (out->security == SEC_NONE)
		return perr(err, errlen, line, _("a preset cannot offer an "
		            "unencrypted server (security none)"));
	str_copy(out->host, sizeof out->host, host);
	return 0;
}

/* Domains, MX host suffixes or SPF includes (kind 0, 1, 2): the same
 * syntax. */
static int
parse_domains(char *v, struct preset *out, int kind, unsigned line,
              char *err, size_t errlen)
{
	char *d;
	size_t n;
	const char *why;
	char (*list)[ACCT_HOST_MAX + 1] = kind == 1 ? out->mx :
	                                  kind == 2 ? out->spf_include : out->domains;
	size_t *count = kind == 1 ? &out->nmx : kind == 2 ? &out->nspf_include :
	                &out->ndomains;
	size_t max = kind == 1 ? PRESET_MAX_MX : kind == 2 ? PRESET_MAX_SPF :
	             PRESET_MAX_DOMAINS;
	/* TRANSLATORS: the subject of "the %s %s" ("the domain is empty") and
	 * of the other messages below. */
	const char *what = kind == 1 ? _("MX suffix") : kind == 2 ? _("SPF include") :
	                   _("domain");
	/* A plural of its own: "too many %ss" cannot be translated. */
	const char *whats = kind == 1 ? _("MX suffixes") : kind == 2 ?
	                    _("SPF includes") : _("domains");

	while ((n = next_token(&v, true, &d)) > 0) {
		for (size_t i = 0; i < n; i++)
			if (d[i] >= 'A' && d[i] <= 'Z')
				d[i] = (char)(d[i] - 'A' + 'a');
		/* An SPF include may have service labels (_spf.google.com). */
		char chk[ACCT_HOST_MAX + 1];
		str_copy(chk, sizeof chk, d);
		for (char *u = chk; kind == 2 && *u; u++)
			if (*u == '_')
				*u = 'x';
		if ((why = valid_hostname(chk)))
			return perr(err, errlen, line, _("the %s %s"), what, why);
		if (!strchr(d, '.') || strchr(d, ':') ||
		    strspn(d, "0123456789.") == n)
			return perr(err, errlen, line, _("a %s looks like "
			            "example.com (no IP address, at least one dot)"), what);
		for (size_t i = 0; i < *count; i++)
			if (!strcmp(list[i], d))
				return perr(err, errlen, line, _("the %s %s is listed "
				            "twice"), what, d);
		if (*count >= max)
			return perr(err, errlen, line, _("too many %s (at most %zu)"),
			            whats, max);
		str_copy(list[(*count)++], ACCT_HOST_MAX + 1, d);
	}
	return 0;
}

/* DKIM selectors: labels of letters, digits, '-' and '_', dots between
 * them (RFC 6376 §3.1), separated by blanks or commas. */
static int
parse_selectors(char *v, struct preset *out, unsigned line, char *err,
                size_t errlen)
{
	char *d;
	size_t n;

	while ((n = next_token(&v, true, &d)) > 0) {
		bool ok = n <= PRESET_SELECTOR_MAX && d[0] != '.' && d[n - 1] != '.' &&
		          !strstr(d, "..");
		for (size_t i = 0; ok && i < n; i++)
			ok = (d[i] >= 'a' && d[i] <= 'z') || (d[i] >= 'A' && d[i] <= 'Z') ||
			     (d[i] >= '0' && d[i] <= '9') || d[i] == '-' || d[i] == '_' ||
			     d[i] == '.';
		if (!ok)
			return perr(err, errlen, line, _("a DKIM selector is made of "
			            "letters, digits, '-', '_' and dots (at most %d)"),
			            PRESET_SELECTOR_MAX);
		if (out->ndkim_selectors >= PRESET_MAX_DKIM)
			return perr(err, errlen, line, _("too many DKIM selectors (at "
			            "most %d)"), PRESET_MAX_DKIM);
		str_copy(out->dkim_selectors[out->ndkim_selectors++],
		         sizeof out->dkim_selectors[0], d);
	}
	return 0;
}

/* One field of a hint, cut at the next '|' and trimmed; NULL when there is
 * no '|' left (the last field takes the rest). */
static char *
hint_field(char **p, bool last)
{
	char *s = *p, *bar = last ? NULL : strchr(s, '|'), *e;

	if (!last && bar == NULL)
		return NULL;
	if (bar)
		*bar = '\0';
	while (is_ws(*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_ws(e[-1]))
		*--e = '\0';
	*p = bar ? bar + 1 : s + strlen(s);
	return s;
}

static bool
all_in(const char *s, size_t n, const char *set)
{
	return n > 0 && strspn(s, set) >= n;
}

/* One match token: 535, 5.7.139, [ALERT], auth. */
static bool
hint_token_ok(const char *t, size_t n)
{
	if (n == 3 && all_in(t, n, "0123456789"))
		return t[0] >= '2' && t[0] <= '5';
	if (n >= 5 && (t[0] == '2' || t[0] == '4' || t[0] == '5') && t[1] == '.') {
		size_t dots = 0;
		for (size_t i = 1; i < n; i++)
			if (t[i] == '.')
				dots++;
			else if (t[i] < '0' || t[i] > '9')
				return false;
		return dots == 2 && t[n - 1] != '.' && !strstr(t, "..");
	}
	if (n >= 3 && t[0] == '[' && t[n - 1] == ']')
		return all_in(t + 1, n - 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZ-");
	return all_in(t, n, "abcdefghijklmnopqrstuvwxyz_");
}

/* "CODES | WORDS | CATEGORY/REASON | FIX" */
static int
parse_hint(char *v, struct preset_hint *h, unsigned line, char *err,
           size_t errlen)
{
	char *codes = hint_field(&v, false), *words = hint_field(&v, false);
	char *cr = hint_field(&v, false), *fix = hint_field(&v, true);
	char *slash, *tok, *c;
	const char *why;
	size_t n;

	if (!codes || !words || !cr)
		return perr(err, errlen, line, _("a hint is 'CODES | WORDS | "
		            "CATEGORY/REASON | FIX' (four fields)"));
	if (strchr(fix, '|'))
		return perr(err, errlen, line, _("a hint has four fields: a fifth "
		            "'|' is not allowed"));
	if (!strcmp(codes, "*"))
		codes[0] = '\0';
	if (!strcmp(words, "*"))
		words[0] = '\0';
	if (!codes[0] && !words[0])
		return perr(err, errlen, line, _("a hint needs codes or words to "
		            "match (both are '*')"));
	if (strlen(codes) >= sizeof h->codes)
		return perr(err, errlen, line, _("the hint's codes are longer than "
		            "%zu bytes"), sizeof h->codes - 1);
	str_copy(h->codes, sizeof h->codes, codes);
	c = codes;
	while ((n = next_token(&c, false, &tok)) > 0)
		if (!hint_token_ok(tok, n))
			return perr(err, errlen, line, _("the hint code '%s' is not a "
			            "reply code (535), an enhanced code (5.7.139), an "
			            "IMAP code ([ALERT]) or a stage (auth)"), tok);
	if ((why = valid_text(words, sizeof h->words - 1)))
		return perr(err, errlen, line, _("the hint's words %s"), why);
	if (strstr(words, ";;") || words[0] == ';' ||
	    (words[0] && words[strlen(words) - 1] == ';'))
		return perr(err, errlen, line, _("the hint's words have an empty "
		            "phrase between ';'"));
	str_copy(h->words, sizeof h->words, words);
	slash = strchr(cr, '/');
	if (!slash || slash == cr || !slash[1] ||
	    !all_in(cr, (size_t)(slash - cr), "abcdefghijklmnopqrstuvwxyz_") ||
	    !all_in(slash + 1, strlen(slash + 1), "abcdefghijklmnopqrstuvwxyz_") ||
	    (size_t)(slash - cr) >= sizeof h->cat ||
	    strlen(slash + 1) >= sizeof h->reason)
		return perr(err, errlen, line, _("the hint's third field is "
		            "CATEGORY/REASON, like auth_failed/smtp_auth_disabled"));
	*slash = '\0';
	str_copy(h->cat, sizeof h->cat, cr);
	str_copy(h->reason, sizeof h->reason, slash + 1);
	if (!fix[0])
		return perr(err, errlen, line, _("the hint has no fix"));
	if ((why = valid_text(fix, sizeof h->fix - 1)))
		return perr(err, errlen, line, _("the hint's fix %s"), why);
	str_copy(h->fix, sizeof h->fix, fix);
	return 0;
}

/* Checks a whole line before it is looked at: UTF-8, no control characters
 * but TAB (whitespace here). */
static const char *
check_line(const char *s, size_t n)
{
	if (!utf8_valid(s, n))
		return _("is not valid UTF-8");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return _("contains a control character");
		if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] < 0xa0)
			return _("contains a control character");
	}
	return NULL;
}


/* oauth_auth_url, oauth_token_url, oauth_device_url (https:// addresses),
 * oauth_scope (text) and oauth_flows (device, loopback, paste), each once. */
static int
parse_oauth(const char *k, const char *v, struct preset *out, int ln,
            char *err, size_t errlen)
{
	char *dst;
	size_t cap;
	const char *why;

	if (!strcmp(k, "oauth_auth_url"))
		dst = out->oauth_auth_url, cap = sizeof out->oauth_auth_url;
	else if (!strcmp(k, "oauth_token_url"))
		dst = out->oauth_token_url, cap = sizeof out->oauth_token_url;
	else if (!strcmp(k, "oauth_device_url"))
		dst = out->oauth_device_url, cap = sizeof out->oauth_device_url;
	else if (!strcmp(k, "oauth_scope"))
		dst = out->oauth_scope, cap = sizeof out->oauth_scope;
	else if (!strcmp(k, "oauth_flows"))
		dst = out->oauth_flows, cap = sizeof out->oauth_flows;
	else
		return perr(err, errlen, ln, _("unknown key '%s' (expected oauth_auth_url, "
		            "oauth_token_url, oauth_device_url, oauth_scope or "
		            "oauth_flows)"), k);
	if (dst[0])
		return perr(err, errlen, ln, _("'%s' is given twice"), k);
	if (!strcmp(k, "oauth_scope") || !strcmp(k, "oauth_flows"))
		why = valid_text(v, cap - 1);
	else
		why = valid_https_url(v);
	if (why)
		return perr(err, errlen, ln, "%s %s", k, why);
	if (!strcmp(k, "oauth_flows")) {
		char tmp[64];
		char *tok, *save = NULL;

		str_copy(tmp, sizeof tmp, v);
		for (tok = strtok_r(tmp, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			if (strcmp(tok, "device") && strcmp(tok, "loopback") && strcmp(tok, "paste"))
				return perr(err, errlen, ln, _("oauth_flows: unknown flow '%s' "
				            "(expected device, loopback or paste)"), tok);
	}
	str_copy(dst, cap, v);
	return 0;
}
static int
parse_line(char *line, unsigned ln, struct preset *out,
           bool *seen_name, bool *seen_app, char *err,
           size_t errlen)
{
	char *k = line, *v, *end;
	const char *why;

	while (is_ws(*k))
		k++;
	if (*k == '\0' || *k == '#')
		return 0;
	v = k;
	while ((*v >= 'a' && *v <= 'z') || *v == '_')
		v++;
	size_t kn = (size_t)(v - k);
	while (is_ws(*v))
		v++;
	if (kn == 0 || *v != '=')
		return perr(err, errlen, ln, _("expected 'key = value'"));
	k[kn] = '\0';
	v++;
	while (is_ws(*v))
		v++;
	end = v + strlen(v);
	while (end > v && is_ws(end[-1]))
		*--end = '\0';
	if (*v == '\0')
		return perr(err, errlen, ln, _("'%s' has no value"), k);

	if (!strcmp(k, "id")) {
		if (out->id[0])
			return perr(err, errlen, ln, _("'id' is given twice"));
		if (!valid_id(v))
			return perr(err, errlen, ln, _("the id may contain only lowercase "
			            "letters, digits, '-' and '_' (at most %d)"),
			            ACCT_PRESET_MAX);
		str_copy(out->id, sizeof out->id, v);
	} else if (!strcmp(k, "name")) {
		if (*seen_name)
			return perr(err, errlen, ln, _("'name' is given twice"));
		if ((why = valid_text(v, sizeof out->name - 1)))
			return perr(err, errlen, ln, _("the name %s"), why);
		str_copy(out->name, sizeof out->name, v);
		*seen_name = true;
	} else if (!strcmp(k, "domains")) {
		return parse_domains(v, out, 0, ln, err, errlen);
	} else if (!strcmp(k, "mx")) {
		return parse_domains(v, out, 1, ln, err, errlen);
	} else if (!strcmp(k, "spf_include")) {
		return parse_domains(v, out, 2, ln, err, errlen);
	} else if (!strcmp(k, "dkim_selectors")) {
		return parse_selectors(v, out, ln, err, errlen);
	} else if (!strcmp(k, "smtp") || !strcmp(k, "imap")) {
		bool smtp = k[0] == 's';
		size_t *n = smtp ? &out->nsmtp : &out->nimap;
		struct preset_server *srv = smtp ? out->smtp : out->imap;
		if (*n >= PRESET_MAX_SERVERS)
			return perr(err, errlen, ln, _("too many '%s' servers (at most %d)"),
			            k, PRESET_MAX_SERVERS);
		if (parse_server(v, &srv[*n], ln, err, errlen))
			return -1;
		(*n)++;
	} else if (!strcmp(k, "app_password")) {
		if (*seen_app)
			return perr(err, errlen, ln, _("'app_password' is given twice"));
		if (!strcasecmp(v, "yes"))
			out->app_password = true;
		else if (!strcasecmp(v, "no"))
			out->app_password = false;
		else
			return perr(err, errlen, ln, _("app_password must be yes or no"));
		*seen_app = true;
	} else if (!strcmp(k, "local_app")) {
		if (out->local_app[0])
			return perr(err, errlen, ln, _("'local_app' is given twice"));
		if ((why = valid_text(v, sizeof out->local_app - 1)))
			return perr(err, errlen, ln, _("the local_app %s"), why);
		str_copy(out->local_app, sizeof out->local_app, v);
	} else if (!strncmp(k, "oauth_", 6)) {
		return parse_oauth(k, v, out, ln, err, errlen);
	} else if (!strcmp(k, "note")) {
		if (out->nnotes >= PRESET_MAX_NOTES)
			return perr(err, errlen, ln, _("too many notes (at most %d)"),
			            PRESET_MAX_NOTES);
		if ((why = valid_text(v, sizeof out->notes[0] - 1)))
			return perr(err, errlen, ln, _("the note %s"), why);
		str_copy(out->notes[out->nnotes++], sizeof out->notes[0], v);
	} else if (!strcmp(k, "limit_day") || !strcmp(k, "limit_hour") ||
	           !strcmp(k, "limit_interval")) {
		/* The provider's published sending limits: a count, or seconds. */
		unsigned bit = k[6] == 'd' ? 1u : k[6] == 'h' ? 2u : 4u;
		unsigned *dst = bit == 1 ? &out->limit_day : bit == 2 ?
		                &out->limit_hour : &out->limit_interval;
		char *e;
		unsigned long n;

		if (out->limits_given & bit)
			return perr(err, errlen, ln, _("'%s' is given twice"), k);
		n = strtoul(v, &e, 10);
		if (*e || !(*v >= '0' && *v <= '9') || n > PRESET_LIMIT_MAX)
			return perr(err, errlen, ln, _("%s must be a number from 0 to %d"),
			            k, PRESET_LIMIT_MAX);
		*dst = (unsigned)n;
		out->limits_given |= bit;
	} else if (!strcmp(k, "hint")) {
		if (out->nhints >= PRESET_MAX_HINTS)
			return perr(err, errlen, ln, _("too many hints (at most %d)"),
			            PRESET_MAX_HINTS);
		if (parse_hint(v, &out->hints[out->nhints], ln, err, errlen))
			return -1;
		out->nhints++;
	} else {
		return perr(err, errlen, ln, _("unknown key '%s' (expected id, name, "
		            "domains, smtp, imap, app_password, local_app, note, hint, mx, "
		            "limit_day, limit_hour, limit_interval, oauth_*, spf_include or "
		            "dkim_selectors)"), k);
	}
	return 0;
}

int
preset_parse(const char *text, size_t len, const char *id_hint,
             struct preset *out, char *err, size_t errlen)
{
	char line[PRESET_LINE_MAX + 1];
	bool seen_name = false, seen_app = false;
	unsigned ln = 0;
	size_t pos = 0;

	memset(out, 0, sizeof *out);
	if (err && errlen)
		err[0] = '\0';
	if (len > PRESET_FILE_MAX)
		return perr(err, errlen, 1, _("the file is larger than %d bytes"),
		            PRESET_FILE_MAX);
	while (pos < len) {
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		const char *why;

		ln++;
		pos += n + (nl ? 1 : 0);
		if (n > 0 && s[n - 1] == '\r')
			n--;            /* a file saved with CRLF line ends */
		if (n > PRESET_LINE_MAX)
			return perr(err, errlen, ln, _("the line is longer than %d bytes"),
			            PRESET_LINE_MAX);
		if (memchr(s, '\0', n))
			return perr(err, errlen, ln, _("contains a NUL byte"));
		if ((why = check_line(s, n)))
			return perr(err, errlen, ln, _("the line %s"), why);
		memcpy(line, s, n);
		line[n] = '\0';
		if (parse_line(line, ln, out, &seen_name, &seen_app, err, errlen))
			return -1;
	}
	if (ln == 0)
		ln = 1;
	if (!out->id[0]) {
		if (!id_hint || !valid_id(id_hint))
			return perr(err, errlen, ln, _("no 'id' given, and the file name "
			            "is not a valid id"));
		str_copy(out->id, sizeof out->id, id_hint);
	}
	if (!seen_name)
		return perr(err, errlen, ln, _("missing 'name = ...' (end of file)"));
	if (out->nsmtp == 0)
		return perr(err, errlen, ln, _("missing 'smtp = HOST PORT SECURITY' "
		            "(end of file)"));
	return 0;
}

/* ---- loading ------------------------------------------------------------- */

static void warnf(preset_warn_cb warn, void *ud, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
warnf(preset_warn_cb warn, void *ud, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	if (!warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	warn(msg, ud);
}

/* Reads a regular file of at most PRESET_FILE_MAX bytes into buf (which has
 * PRESET_FILE_MAX + 1 bytes). O_NONBLOCK keeps a FIFO from hanging us. */
static int
read_small(const char *path, char *buf, size_t *len,
           const char **why)
{
	struct stat st;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*why = _("not a regular file");
		close(fd);
		return -1;
	}
	if (st.st_size > PRESET_FILE_MAX) {
		*why = _("larger than 64 KiB");
		close(fd);
		return -1;
	}
	while (n <= PRESET_FILE_MAX) {
		ssize_t r = read(fd, buf + n, PRESET_FILE_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*why = strerror(errno);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n > PRESET_FILE_MAX) {
		*why = _("larger than 64 KiB");
		return -1;
	}
	*len = n;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds p to the list; a preset from a later directory (pass) replaces one of
 * the same id from an earlier one; within one directory the first file (in
 * name order) wins. */
static int
list_add(struct preset_list *l, size_t *cap, const struct preset *p,
         size_t first_of_pass, preset_warn_cb warn, void *ud)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].id, p->id) != 0)
			continue;
		if (i >= first_of_pass) {
			char a[512], b[512];
			str_sanitize(a, sizeof a, p->origin, strlen(p->origin));
			str_sanitize(b, sizeof b, l->v[i].origin, strlen(l->v[i].origin));
			warnf(warn, ud, _("%s: id '%s' is already defined by %s; ignored"),
			      a, p->id, b);
			return 0;
		}
		l->v[i] = *p;
		return 0;
	}
	if (l->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 32;
		struct preset *nv = realloc(l->v, ncap * sizeof *nv);
		if (!nv)
			return -1;
		l->v = nv;
		*cap = ncap;
	}
	l->v[l->n++] = *p;
	return 0;
}

/* Parses one preset's text (from the file called name, shown as origin) and
 * adds it to l. A bad preset is a warning, not an error; -1 is out of memory. */
static int
load_text(const char *text, size_t len, const char *name, const char *origin,
          struct preset *p, struct preset_list *l, size_t *cap,
          size_t first_of_pass, preset_warn_cb warn, void *ud)
{
	char stem[ACCT_PRESET_MAX + 2], err[600];
	size_t sn = strlen(name) - 7;   /* without ".preset" */

	if (sn < sizeof stem) {
		memcpy(stem, name, sn);
		stem[sn] = '\0';
	} else {
		stem[0] = '\0';   /* too long to be an id */
	}
	if (preset_parse(text, len, stem, p, err, sizeof err)) {
		char sorigin[1024];
		str_sanitize(sorigin, sizeof sorigin, origin, strlen(origin));
		warnf(warn, ud, _("%s: %s; skipped"), sorigin, err);
		return 0;
	}
	str_copy(p->origin, sizeof p->origin, origin);
	return list_add(l, cap, p, first_of_pass, warn, ud);
}

/* The presets compiled into the program: the default set. */
static int
load_builtin(struct preset_list *l, size_t *cap, preset_warn_cb warn, void *ud)
{
	struct preset *p = malloc(sizeof *p);
	size_t first_of_pass = l->n;
	int rc = 0;

	if (!p)
		return -1;
	for (unsigned i = 0; rc == 0 && i < preset_nbuiltins; i++) {
		const struct preset_builtin *b = &preset_builtins[i];
		char origin[128];
		str_printf(origin, sizeof origin, "built-in %s", b->file);
		rc = load_text(b->text, strlen(b->text), b->file, origin, p, l, cap,
		               first_of_pass, warn, ud);
	}
	free(p);
	return rc;
}

/* Loads a directory's *.preset files. quiet_missing: a directory that does
 * not exist is no warning. user: the files are the user's, checked like the
 * key file before they may override a shipped preset. */
static int
load_dir(const char *dir, bool quiet_missing, bool user, struct preset_list *l,
         size_t *cap, preset_warn_cb warn, void *ud)
{
	char sdir[512];
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t nnames = 0;
	int rc = 0;
	size_t first_of_pass = l->n;

	str_sanitize(sdir, sizeof sdir, dir, strlen(dir));
	if (!d) {
		if (!(quiet_missing && errno == ENOENT))
			warnf(warn, ud, _("preset directory %s: %s"), sdir, strerror(errno));
		return 0;
	}
	names = calloc(PRESET_DIR_MAX, sizeof *names);
	if (!names) {
		closedir(d);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] == '.' || n <= 7 ||
		    strcmp(e->d_name + n - 7, ".preset") != 0)
			continue;
		if (nnames == PRESET_DIR_MAX) {
			warnf(warn, ud, _("preset directory %s: more than %d presets; "
			      "the rest are ignored"), sdir, PRESET_DIR_MAX);
			break;
		}
		names[nnames] = strdup(e->d_name);
		if (!names[nnames]) {
			rc = -1;
			break;
		}
		nnames++;
	}
	closedir(d);
	/* readdir order is arbitrary: sort so that duplicates resolve the same
	 * way every time. */
	qsort(names, nnames, sizeof *names, cmp_str);

	char *buf = rc == 0 ? malloc(PRESET_FILE_MAX + 1) : NULL;
	struct preset *p = rc == 0 ? malloc(sizeof *p) : NULL;
	if (rc == 0 && (!buf || !p))
		rc = -1;
	for (size_t i = 0; rc == 0 && i < nnames; i++) {
		char path[1024], spath[1024], err[600];
		const char *why;
		size_t len;

		if (str_printf(path, sizeof path, "%s/%s", dir, names[i])) {
			warnf(warn, ud, _("preset directory %s: a file name is too long"),
			      sdir);
			continue;
		}
		str_sanitize(spath, sizeof spath, path, strlen(path));
		if (user) {
			/* A user preset overrides a shipped one (gmail's
			 * servers): only its user or root may write it. */
			char *data = file_read_checked(path, PRESET_FILE_MAX, &len,
			                               err, sizeof err);

			if (!data) {
				warnf(warn, ud, _("%s: %s; skipped"), spath, err);
				continue;
			}
			memcpy(buf, data, len + 1);
			free(data);
		} else if (read_small(path, buf, &len, &why)) {
			warnf(warn, ud, _("%s: %s; skipped"), spath, why);
			continue;
		}
		if (load_text(buf, len, names[i], path, p, l, cap, first_of_pass,
		              warn, ud))
			rc = -1;
	}
	free(p);
	free(buf);
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int
cmp_preset(const void *a, const void *b)
{
	const struct preset *x = a, *y = b;
	int c = strcasecmp(x->name, y->name);
	return c ? c : strcmp(x->id, y->id);
}

int
preset_load_all(struct preset_list *out, preset_warn_cb warn, void *ud)
{
	const char *shipped = getenv("FLUENZR_PRESET_DIR");
	char user[1024];
	size_t cap = 0;

	out->v = NULL;
	out->n = 0;
	/* The built-in set first; an installed directory (or the one named by
	 * FLUENZR_PRESET_DIR) overrides it by id, the user's overrides both. An
	 * uninstalled build has no installed directory, and that is fine. */
	if (load_builtin(out, &cap, warn, ud))
		goto oom;
	bool named = shipped && shipped[0];
	if (!named)
		shipped = PRESETDIR;
	if (load_dir(shipped, !named, false, out, &cap, warn, ud))
		goto oom;
	if (default_config_dir(user, sizeof user) == 0 &&
	    strlen(user) + sizeof "/presets" <= sizeof user) {
		strcat(user, "/presets");
		if (load_dir(user, true, true, out, &cap, warn, ud))
			goto oom;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, cmp_preset);
	return 0;
oom:
	preset_list_free(out);
	return -1;
}

void
preset_list_free(struct preset_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* ---- lookup -------------------------------------------------------------- */

const struct preset *
preset_find(const struct preset_list *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].id, id))
			return &l->v[i];
	return NULL;
}

/* The length of the longest of the count suffixes in v that name (of
 * length n) equals or ends in on a label boundary; 0 if none.
 * strncasecmp folds ASCII only, as domains are compared. */
static size_t
suffix_match(char (*v)[ACCT_HOST_MAX + 1], size_t count, const char *name,
             size_t n)
{
	size_t best = 0;

	for (size_t j = 0; j < count; j++) {
		size_t dn = strlen(v[j]);
		bool match = false;
		if (dn == n)
			match = !strncasecmp(name, v[j], n);
		else if (dn < n && name[n - dn - 1] == '.')
			match = !strncasecmp(name + n - dn, v[j], dn);
		if (match && dn > best)
			best = dn;
	}
	return best;
}

/* The preset with the most specific match of name among its domains (mx
 * false) or MX suffixes: mail.example.com over example.com. */
static const struct preset *
match_best(const struct preset_list *l, const char *name, bool mx)
{
	const struct preset *best = NULL;
	size_t best_len = 0, n = strlen(name);

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > ACCT_HOST_MAX)
		return NULL;
	for (size_t i = 0; i < l->n; i++) {
		struct preset *p = &l->v[i];
		size_t m = mx ? suffix_match(p->mx, p->nmx, name, n)
		              : suffix_match(p->domains, p->ndomains, name, n);
		if (m > best_len) {
			best = p;
			best_len = m;
		}
	}
	return best;
}

const struct preset *
preset_match(const struct preset_list *l,
             const char *email_or_domain)
{
	const char *at = strrchr(email_or_domain, '@');
	return match_best(l, at ? at + 1 : email_or_domain, false);
}

const struct preset *
preset_match_mx(const struct preset_list *l, const char *mx)
{
	return match_best(l, mx, true);
}

/* ---- applying ------------------------------------------------------------ */

/* Picks the preset server that agrees with what the user gave (a port, a
 * security) so that e.g. "--preset ovh --smtp-port 465" gets OVH's SSL
 * entry rather than 465 with STARTTLS. Falls back to the default entry. */
static const struct preset_server *
pick(const struct preset_server *v, size_t n, bool port_given, unsigned port,
     bool sec_given, enum security sec)
{
	for (size_t i = 0; i < n; i++)
		if ((!port_given || v[i].port == port) &&
		    (!sec_given || v[i].security == sec))
			return &v[i];
	return &v[0];
}

static void
apply_server(const struct preset_server *v, size_t n, char *host,
             unsigned *port, enum security *sec, unsigned given,
             unsigned g_host, unsigned g_port, unsigned g_sec, bool imap)
{
	bool pg = given & g_port, sg = given & g_sec;
	const struct preset_server *s = pick(v, n, pg, *port, sg, *sec);
	bool agrees = (!pg || s->port == *port) && (!sg || s->security == *sec);

	if (!(given & g_host))
		str_copy(host, ACCT_HOST_MAX + 1, s->host);
	if (agrees) {
		if (!pg)
			*port = s->port;
		if (!sg)
			*sec = s->security;
		return;
	}
	/* Nothing in the preset matches what was given: complete it with the
	 * usual pairing of ports and security. */
	if (pg && !sg)
		*sec = *port == (imap ? 993u : 465u) ? SEC_SSL : SEC_STARTTLS;
	else if (sg && !pg)
		*port = security_default_port(*sec, imap);
}

void
preset_apply(const struct preset *p, struct account *a, unsigned given)
{
	if (p->nsmtp > 0)
		apply_server(p->smtp, p->nsmtp, a->smtp_host, &a->smtp_port,
		             &a->smtp_security, given, PRESET_GIVEN_SMTP_HOST,
		             PRESET_GIVEN_SMTP_PORT, PRESET_GIVEN_SMTP_SEC, false);
	if (p->nimap > 0)
		apply_server(p->imap, p->nimap, a->imap_host, &a->imap_port,
		             &a->imap_security, given, PRESET_GIVEN_IMAP_HOST,
		             PRESET_GIVEN_IMAP_PORT, PRESET_GIVEN_IMAP_SEC, true);
	str_copy(a->preset, sizeof a->preset, p->id);
	if (a->oauth && p->oauth_token_url[0]) {
		if (!a->oauth_token_url[0])
			str_copy(a->oauth_token_url, sizeof a->oauth_token_url,
			         p->oauth_token_url);
		if (!a->oauth_device_url[0])
			str_copy(a->oauth_device_url, sizeof a->oauth_device_url,
			         p->oauth_device_url);
		if (!a->oauth_auth_url[0])
			str_copy(a->oauth_auth_url, sizeof a->oauth_auth_url,
			         p->oauth_auth_url);
		if (!a->oauth_scope[0])
			str_copy(a->oauth_scope, sizeof a->oauth_scope, p->oauth_scope);
	}
}
