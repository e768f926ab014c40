/* Unit tests of the presets: every shipped file parses, the page's providers
 * carry the page's facts, hostile files are refused with line numbers, user
 * files override shipped ones by id, domains match, preset_apply respects
 * what the user gave. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preset.h"
#include "util.h"
#include "unit.h"

static char shipped[1024];
static char tmpdir[256];

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(99);
	}
}

static char *
read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(128 * 1024);
	if (!f || !buf) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(99);
	}
	*len = fread(buf, 1, 128 * 1024, f);
	fclose(f);
	return buf;
}

/* ---- shipped files ------------------------------------------------------- */

static void
test_shipped_files(void)
{
	DIR *d = opendir(shipped);
	struct dirent *e;
	int count = 0;

	check(d != NULL, "open shipped preset directory %s", shipped);
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n <= 7 || strcmp(e->d_name + n - 7, ".preset"))
			continue;
		char path[2048], stem[128], err[512];
		size_t len;
		struct preset p;
		str_printf(path, sizeof path, "%s/%s", shipped, e->d_name);
		str_printf(stem, sizeof stem, "%.*s", (int)(n - 7), e->d_name);
		char *text = read_all(path, &len);
		int rc = preset_parse(text, len, stem, &p, err, sizeof err);
		check(rc == 0, "shipped %s parses%s%s", e->d_name, rc ? ": " : "",
		      rc ? err : "");
		if (rc == 0) {
			check(!strcmp(p.id, stem), "shipped %s: id matches the file name",
			      e->d_name);
			check(p.name[0] && p.nsmtp >= 1, "shipped %s: name and smtp",
			      e->d_name);
			/* Every server of a preset is usable as an account. */
			bool ok = true;
			for (size_t i = 0; i < p.nsmtp; i++)
				ok = ok && p.smtp[i].security != SEC_NONE;
			for (size_t i = 0; i < p.nimap; i++)
				ok = ok && p.imap[i].security != SEC_NONE;
			check(ok, "shipped %s: no clear-text server", e->d_name);
		}
		free(text);
		count++;
	}
	closedir(d);
	check(count >= 25, "at least 25 shipped presets (%d)", count);
}

struct warns {
	int n;
	char last[1536];
};

static void
on_warn(const char *msg, void *ud)
{
	struct warns *w = ud;
	w->n++;
	str_copy(w->last, sizeof w->last, msg);
	printf("# warning: %s\n", msg);
}

/* The built-in set is every shipped file, parsed to the same preset: an
 * uninstalled program (no installed directory at all) has them all. */
static void
test_builtin(void)
{
	struct preset_list l;
	struct warns w = { 0 };
	char empty[600], cfg[600];
	DIR *d = opendir(shipped);
	struct dirent *e;
	size_t count = 0;

	str_printf(empty, sizeof empty, "%s/no-such-installed-dir", tmpdir);
	str_printf(cfg, sizeof cfg, "%s/builtin-config", tmpdir);
	setenv("XDG_CONFIG_HOME", cfg, 1);
	unsetenv("FLUENZR_PRESET_DIR");
	/* PRESETDIR may hold an installed copy; point past it for this check. */
	setenv("FLUENZR_PRESET_DIR", empty, 1);
	check(preset_load_all(&l, on_warn, &w) == 0, "load the built-in set");
	check(w.n == 1, "a named missing directory is one warning (%d)", w.n);
	while (d && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n <= 7 || strcmp(e->d_name + n - 7, ".preset"))
			continue;
		char path[2048], stem[128], err[512], origin[200];
		size_t len;
		struct preset p;
		str_printf(path, sizeof path, "%s/%s", shipped, e->d_name);
		str_printf(stem, sizeof stem, "%.*s", (int)(n - 7), e->d_name);
		str_printf(origin, sizeof origin, "built-in %s", e->d_name);
		char *text = read_all(path, &len);
		if (preset_parse(text, len, stem, &p, err, sizeof err) == 0) {
			const struct preset *b = preset_find(&l, p.id);
			str_copy(p.origin, sizeof p.origin, origin);
			check(b && !memcmp(b, &p, sizeof p),
			      "built-in %s is the shipped file", e->d_name);
		}
		free(text);
		count++;
	}
	if (d)
		closedir(d);
	check(count == l.n && count >= 25, "as many built-in presets as shipped "
	      "files (%zu, %zu)", l.n, count);
	preset_list_free(&l);
	setenv("FLUENZR_PRESET_DIR", shipped, 1);
}

static bool
server_is(const struct preset_server *s, const char *host,
          unsigned port, enum security sec)
{
	return !strcmp(s->host, host) && s->port == port && s->security == sec;
}

static bool
has_domain(const struct preset *p, const char *d)
{
	for (size_t i = 0; i < p->ndomains; i++)
		if (!strcmp(p->domains[i], d))
			return true;
	return false;
}

static bool
has_alt(const struct preset_server *v, size_t n, const char *host,
        unsigned port, enum security sec)
{
	for (size_t i = 1; i < n; i++)
		if (server_is(&v[i], host, port, sec))
			return true;
	return false;
}

static bool
note_has(const struct preset *p, const char *word)
{
	for (size_t i = 0; i < p->nnotes; i++)
		if (strstr(p->notes[i], word))
			return true;
	return false;
}

static void
test_page_facts(const struct preset_list *l)
{
	const struct preset *p;

	p = preset_find(l, "ovh");
	check(p && !strcmp(p->name, "OVH Mail") &&
	      server_is(&p->smtp[0], "ssl0.ovh.net", 587, SEC_STARTTLS) &&
	      has_alt(p->smtp, p->nsmtp, "ssl0.ovh.net", 465, SEC_SSL) &&
	      p->nimap >= 1 &&
	      server_is(&p->imap[0], "ssl0.ovh.net", 993, SEC_SSL),
	      "ovh: ssl0.ovh.net 587 starttls (alt 465 ssl), IMAP 993 ssl");

	p = preset_find(l, "gandi");
	check(p && server_is(&p->smtp[0], "mail.gandi.net", 587, SEC_STARTTLS) &&
	      has_alt(p->smtp, p->nsmtp, "mail.gandi.net", 465, SEC_SSL) &&
	      p->nimap >= 2 &&
	      server_is(&p->imap[0], "mail.gandi.net", 993, SEC_SSL) &&
	      has_alt(p->imap, p->nimap, "mail.gandi.net", 143, SEC_STARTTLS) &&
	      has_domain(p, "gandi.net"),
	      "gandi: mail.gandi.net 587/465, IMAP 993 (alt 143), gandi.net");

	p = preset_find(l, "zoho-eu");
	check(p && server_is(&p->smtp[0], "smtp.zoho.eu", 587, SEC_STARTTLS) &&
	      has_alt(p->smtp, p->nsmtp, "smtp.zoho.eu", 465, SEC_SSL) &&
	      p->nimap >= 1 && server_is(&p->imap[0], "imap.zoho.eu", 993, SEC_SSL) &&
	      p->app_password && note_has(p, "App Password") &&
	      note_has(p, "security settings"),
	      "zoho-eu: smtp.zoho.eu 587 (alt 465), imap.zoho.eu 993, app password");

	p = preset_find(l, "zoho");
	check(p && server_is(&p->smtp[0], "smtp.zoho.com", 587, SEC_STARTTLS) &&
	      p->nimap >= 1 && server_is(&p->imap[0], "imap.zoho.com", 993, SEC_SSL) &&
	      p->app_password && has_domain(p, "zoho.com") &&
	      has_domain(p, "zohomail.com"),
	      "zoho: smtp.zoho.com 587, imap.zoho.com 993, zoho.com zohomail.com");

	p = preset_find(l, "infomaniak");
	check(p && server_is(&p->smtp[0], "mail.infomaniak.com", 587, SEC_STARTTLS) &&
	      has_alt(p->smtp, p->nsmtp, "mail.infomaniak.com", 465, SEC_SSL) &&
	      p->nimap >= 1 &&
	      server_is(&p->imap[0], "mail.infomaniak.com", 993, SEC_SSL) &&
	      has_domain(p, "ik.me"),
	      "infomaniak: mail.infomaniak.com 587 (alt 465), IMAP 993, ik.me");

	p = preset_find(l, "protonmail-bridge");
	check(p && server_is(&p->smtp[0], "127.0.0.1", 1025, SEC_STARTTLS) &&
	      p->nimap >= 1 &&
	      server_is(&p->imap[0], "127.0.0.1", 1143, SEC_STARTTLS) &&
	      has_domain(p, "proton.me") && has_domain(p, "protonmail.com") &&
	      has_domain(p, "protonmail.ch") && has_domain(p, "pm.me") &&
	      note_has(p, "running") && note_has(p, "Bridge password") &&
	      note_has(p, "self-signed") && note_has(p, "pin"),
	      "protonmail-bridge: 127.0.0.1 1025/1143 starttls, domains, notes");

	p = preset_find(l, "gmail");
	check(p && server_is(&p->smtp[0], "smtp.gmail.com", 587, SEC_STARTTLS) &&
	      has_alt(p->smtp, p->nsmtp, "smtp.gmail.com", 465, SEC_SSL) &&
	      p->app_password && note_has(p, "OAuth"),
	      "gmail: smtp.gmail.com 587 (alt 465), app password, OAuth note");
	p = preset_find(l, "outlook");
	check(p && note_has(p, "OAuth") && has_domain(p, "hotmail.com"),
	      "outlook: OAuth-only note, hotmail.com");
	p = preset_find(l, "icloud");
	check(p && server_is(&p->smtp[0], "smtp.mail.me.com", 587, SEC_STARTTLS) &&
	      p->app_password, "icloud: smtp.mail.me.com 587, app password");

	/* Sorted by name. */
	bool sorted = true;
	for (size_t i = 1; i < l->n; i++)
		if (strcasecmp(l->v[i - 1].name, l->v[i].name) > 0)
			sorted = false;
	check(sorted, "the list is sorted by name");
}

/* ---- hostile texts ------------------------------------------------------- */

static void
expect_bad(const char *what, const char *text, size_t len,
           const char *hint, const char *line_prefix)
{
	struct preset p;
	char err[512] = "";
	int rc = preset_parse(text, len, hint, &p, err, sizeof err);
	check(rc == -1 && !strncmp(err, line_prefix, strlen(line_prefix)),
	      "hostile preset refused: %s (%s)", what, rc ? err : "accepted!");
}

#define GOOD_HEAD "name = Example\nsmtp = smtp.example.com 587 starttls\n"

/* The OAuth keys: read strictly, carried into an OAuth account only. */
static void
test_oauth(void)
{
	struct preset p;
	struct account a;
	char err[512] = "";
	const char *good = GOOD_HEAD
		"oauth_auth_url = https://login.example.com/authorize\n"
		"oauth_token_url = https://login.example.com/token\n"
		"oauth_device_url = https://login.example.com/devicecode\n"
		"oauth_scope = smtp imap offline_access\n"
		"oauth_flows = device loopback paste\n";
	int rc = preset_parse(good, strlen(good), "x", &p, err, sizeof err);

	check(rc == 0 && !strcmp(p.oauth_token_url, "https://login.example.com/token") &&
	      !strcmp(p.oauth_scope, "smtp imap offline_access") &&
	      !strcmp(p.oauth_flows, "device loopback paste"),
	      "OAuth keys parse%s%s", rc ? ": " : "", rc ? err : "");
	account_init(&a);
	preset_apply(&p, &a, 0);
	check(a.oauth_token_url[0] == '\0', "a password account takes no OAuth settings");
	account_init(&a);
	a.oauth = true;
	str_copy(a.oauth_scope, sizeof a.oauth_scope, "mine");
	preset_apply(&p, &a, 0);
	check(!strcmp(a.oauth_device_url, "https://login.example.com/devicecode") &&
	      !strcmp(a.oauth_scope, "mine"),
	      "an OAuth account takes the preset's endpoints, keeps its own scopes");
	expect_bad("OAuth endpoint over http", GOOD_HEAD "oauth_token_url = http://x.example/t\n",
	           strlen(GOOD_HEAD "oauth_token_url = http://x.example/t\n"), "x", "line 3:");
	expect_bad("OAuth endpoint twice", GOOD_HEAD "oauth_token_url = https://a.example/t\n"
	           "oauth_token_url = https://b.example/t\n",
	           strlen(GOOD_HEAD "oauth_token_url = https://a.example/t\n"
	                  "oauth_token_url = https://b.example/t\n"), "x", "line 4:");
	expect_bad("unknown OAuth flow", GOOD_HEAD "oauth_flows = device oob\n",
	           strlen(GOOD_HEAD "oauth_flows = device oob\n"), "x", "line 3:");
	expect_bad("unknown OAuth key", GOOD_HEAD "oauth_colour = blue\n",
	           strlen(GOOD_HEAD "oauth_colour = blue\n"), "x", "line 3:");
	expect_bad("OAuth URL with a space", GOOD_HEAD "oauth_token_url = https://a.example/ t\n",
	           strlen(GOOD_HEAD "oauth_token_url = https://a.example/ t\n"), "x", "line 3:");
}

static void
test_hostile(void)
{
	struct preset p;
	char err[512];
	const char *good = "# comment\n\n  id = ex-1\nname = Example Mail\n"
	                   "domains = Example.com, example.net\tmail.example.org\n"
	                   "smtp = smtp.example.com 587 TLS\r\n"
	                   "smtp = smtp.example.com 465 ssl\n"
	                   "imap = imap.example.com 993 ssl\n"
	                   "imap = 2001:db8::1 143 starttls\n"
	                   "app_password = YES\n"
	                   "note = First note — UTF-8 is fine.\n"
	                   "note=Second\n";
	int rc = preset_parse(good, strlen(good), "hint", &p, err, sizeof err);
	check(rc == 0, "well-formed preset parses%s%s", rc ? ": " : "",
	      rc ? err : "");
	check(rc == 0 && !strcmp(p.id, "ex-1") && p.ndomains == 3 &&
	      !strcmp(p.domains[0], "example.com") && p.nsmtp == 2 &&
	      p.smtp[0].security == SEC_STARTTLS && p.nimap == 2 &&
	      !strcmp(p.imap[1].host, "2001:db8::1") && p.app_password &&
	      p.nnotes == 2 && !strcmp(p.notes[1], "Second"),
	      "well-formed preset: every value read (tls synonym, CRLF, commas)");

	const char *noid = GOOD_HEAD;
	rc = preset_parse(noid, strlen(noid), "from-file", &p, err, sizeof err);
	check(rc == 0 && !strcmp(p.id, "from-file") && !p.app_password,
	      "id taken from the file name when missing");
	expect_bad("no id and a bad file name", noid, strlen(noid), "Bad Name",
	           "line 2:");

	expect_bad("empty file", "", 0, "x", "line 1:");
	expect_bad("missing smtp", "name = X\nimap = imap.example.com 993 ssl\n",
	           strlen("name = X\nimap = imap.example.com 993 ssl\n"), "x",
	           "line 2:");
	expect_bad("missing name", "smtp = smtp.example.com 587 starttls\n",
	           37, "x", "line 1:");
	expect_bad("limit_day not a number", GOOD_HEAD "limit_day = many\n",
	           strlen(GOOD_HEAD "limit_day = many\n"), "x", "line 3:");
	expect_bad("limit_day twice", GOOD_HEAD "limit_day = 1\nlimit_day = 2\n",
	           strlen(GOOD_HEAD "limit_day = 1\nlimit_day = 2\n"), "x", "line 4:");
	expect_bad("limit_interval too large", GOOD_HEAD "limit_interval = 99999999\n",
	           strlen(GOOD_HEAD "limit_interval = 99999999\n"), "x", "line 3:");
	{
		const char *lim = GOOD_HEAD "limit_day = 2000\nlimit_hour = 0\nlimit_interval = 2\n";

		check(preset_parse(lim, strlen(lim), "x", &p, err, sizeof err) == 0 &&
		      p.limit_day == 2000 && p.limit_hour == 0 && p.limit_interval == 2,
		      "limits read: day, hour, interval");
	}
	/* Hints: four fields, each checked. */
	{
		const char *h = GOOD_HEAD
		    "hint = auth 535 5.7.139 [ALERT] | SmtpClientAuthentication; "
		    "basic authentication | auth_failed/smtp_auth_disabled | "
		    "Ask an administrator.\n"
		    "hint = * | Relaying disallowed | sender_rejected/not_owned | "
		    "Send as yourself.\n";

		rc = preset_parse(h, strlen(h), "x", &p, err, sizeof err);
		check(rc == 0 && p.nhints == 2 &&
		      !strcmp(p.hints[0].codes, "auth 535 5.7.139 [ALERT]") &&
		      !strcmp(p.hints[0].words, "SmtpClientAuthentication; "
		              "basic authentication") &&
		      !strcmp(p.hints[0].cat, "auth_failed") &&
		      !strcmp(p.hints[0].reason, "smtp_auth_disabled") &&
		      !strcmp(p.hints[0].fix, "Ask an administrator.") &&
		      p.hints[1].codes[0] == '\0' &&
		      !strcmp(p.hints[1].words, "Relaying disallowed"),
		      "hints: every field read, '*' is any (%s)", rc ? err : "ok");
	}
#define BAD_HINT(what, line) \
	expect_bad("hint: " what, GOOD_HEAD "hint = " line "\n", \
	           strlen(GOOD_HEAD "hint = " line "\n"), "x", "line 3:")
	BAD_HINT("three fields", "535 | words | auth_failed/bad_credentials");
	BAD_HINT("five fields", "535 | w | auth_failed/x | fix | more");
	BAD_HINT("codes and words both any", "* | * | auth_failed/x | Fix.");
	BAD_HINT("a code that is none", "53 | w | auth_failed/x | Fix.");
	BAD_HINT("an enhanced code cut short", "5.7. | w | auth_failed/x | Fix.");
	BAD_HINT("an IMAP code in lowercase", "[alert] | w | auth_failed/x | Fix.");
	BAD_HINT("no slash", "535 | w | auth_failed | Fix.");
	BAD_HINT("an uppercase reason", "535 | w | auth_failed/Bad | Fix.");
	BAD_HINT("an empty phrase", "535 | a;;b | auth_failed/x | Fix.");
	BAD_HINT("no fix", "535 | w | auth_failed/x | ");
	BAD_HINT("a fix too long", "535 | w | auth_failed/x | "
	         "0123456789012345678901234567890123456789012345678901234567890123"
	         "0123456789012345678901234567890123456789012345678901234567890123"
	         "0123456789012345678901234567890123456789012345678901234567890123"
	         "0123456789012345678901234567890123456789012345678901234567890123");
#undef BAD_HINT
	expect_bad("unknown key", GOOD_HEAD "colour = blue\n",
	           strlen(GOOD_HEAD "colour = blue\n"), "x", "line 3:");
	expect_bad("no '='", GOOD_HEAD "just words\n",
	           strlen(GOOD_HEAD "just words\n"), "x", "line 3:");
	expect_bad("empty value", "name =\n", 7, "x", "line 1:");
	expect_bad("name twice", GOOD_HEAD "name = Y\n",
	           strlen(GOOD_HEAD "name = Y\n"), "x", "line 3:");
	expect_bad("id twice", "id = a\nid = b\n" GOOD_HEAD,
	           strlen("id = a\nid = b\n" GOOD_HEAD), "x", "line 2:");
	expect_bad("bad id", "id = Bad/Id\n" GOOD_HEAD,
	           strlen("id = Bad/Id\n" GOOD_HEAD), "x", "line 1:");
	expect_bad("bad host", "name = X\nsmtp = smtp..example.com 587 ssl\n",
	           strlen("name = X\nsmtp = smtp..example.com 587 ssl\n"), "x",
	           "line 2:");
	expect_bad("bracketed IPv6", "name = X\nsmtp = [::1] 587 ssl\n",
	           strlen("name = X\nsmtp = [::1] 587 ssl\n"), "x", "line 2:");
	expect_bad("port 0", "name = X\nsmtp = smtp.example.com 0 ssl\n",
	           strlen("name = X\nsmtp = smtp.example.com 0 ssl\n"), "x",
	           "line 2:");
	expect_bad("port 65536", "name = X\nsmtp = smtp.example.com 65536 ssl\n",
	           strlen("name = X\nsmtp = smtp.example.com 65536 ssl\n"), "x",
	           "line 2:");
	expect_bad("bad security", "name = X\nsmtp = smtp.example.com 587 tls13\n",
	           strlen("name = X\nsmtp = smtp.example.com 587 tls13\n"), "x",
	           "line 2:");
	expect_bad("clear text server", "name = X\nsmtp = smtp.example.com 25 none\n",
	           strlen("name = X\nsmtp = smtp.example.com 25 none\n"), "x",
	           "line 2:");
	expect_bad("missing security", "name = X\nsmtp = smtp.example.com 587\n",
	           strlen("name = X\nsmtp = smtp.example.com 587\n"), "x",
	           "line 2:");
	expect_bad("extra token",
	           "name = X\nsmtp = smtp.example.com 587 ssl extra\n",
	           strlen("name = X\nsmtp = smtp.example.com 587 ssl extra\n"), "x",
	           "line 2:");
	expect_bad("five smtp servers",
	           "name = X\nsmtp = a.example 1 ssl\nsmtp = b.example 2 ssl\n"
	           "smtp = c.example 3 ssl\nsmtp = d.example 4 ssl\n"
	           "smtp = e.example 5 ssl\n",
	           strlen("name = X\nsmtp = a.example 1 ssl\nsmtp = b.example 2 ssl\n"
	                  "smtp = c.example 3 ssl\nsmtp = d.example 4 ssl\n"
	                  "smtp = e.example 5 ssl\n"), "x", "line 6:");
	expect_bad("five notes",
	           GOOD_HEAD "note = 1\nnote = 2\nnote = 3\nnote = 4\nnote = 5\n",
	           strlen(GOOD_HEAD "note = 1\nnote = 2\nnote = 3\nnote = 4\n"
	                  "note = 5\n"), "x", "line 7:");
	expect_bad("local_app twice",
	           GOOD_HEAD "local_app = A Bridge\nlocal_app = B Bridge\n",
	           strlen(GOOD_HEAD "local_app = A Bridge\nlocal_app = B Bridge\n"),
	           "x", "line 4:");
	expect_bad("bad app_password", GOOD_HEAD "app_password = maybe\n",
	           strlen(GOOD_HEAD "app_password = maybe\n"), "x", "line 3:");
	expect_bad("IP as domain", GOOD_HEAD "domains = 192.0.2.1\n",
	           strlen(GOOD_HEAD "domains = 192.0.2.1\n"), "x", "line 3:");
	expect_bad("duplicate domain", GOOD_HEAD "domains = a.com b.com A.com\n",
	           strlen(GOOD_HEAD "domains = a.com b.com A.com\n"), "x", "line 3:");
	expect_bad("IP as MX suffix", GOOD_HEAD "mx = 192.0.2.1\n",
	           strlen(GOOD_HEAD "mx = 192.0.2.1\n"), "x", "line 3:");
	expect_bad("bad MX suffix", GOOD_HEAD "mx = mail..ovh.net\n",
	           strlen(GOOD_HEAD "mx = mail..ovh.net\n"), "x", "line 3:");
	expect_bad("duplicate MX suffix", GOOD_HEAD "mx = a.com\nmx = A.com\n",
	           strlen(GOOD_HEAD "mx = a.com\nmx = A.com\n"), "x", "line 4:");
	expect_bad("NUL byte", GOOD_HEAD "note = a\0b\n",
	           strlen(GOOD_HEAD) + 11, "x", "line 3:");
	expect_bad("escape sequence", GOOD_HEAD "note = \x1b[2J\n",
	           strlen(GOOD_HEAD "note = \x1b[2J\n"), "x", "line 3:");
	expect_bad("lone CR", GOOD_HEAD "note = a\rb\n",
	           strlen(GOOD_HEAD "note = a\rb\n"), "x", "line 3:");
	expect_bad("DEL", GOOD_HEAD "note = a\x7f\n",
	           strlen(GOOD_HEAD "note = a\x7f\n"), "x", "line 3:");
	expect_bad("C1 control", GOOD_HEAD "note = a\xc2\x9b" "2J\n",
	           strlen(GOOD_HEAD "note = a\xc2\x9b" "2J\n"), "x", "line 3:");
	expect_bad("invalid UTF-8", GOOD_HEAD "note = caf\xe9\n",
	           strlen(GOOD_HEAD "note = caf\xe9\n"), "x", "line 3:");
	expect_bad("tab inside a note", GOOD_HEAD "note = a\tb\n",
	           strlen(GOOD_HEAD "note = a\tb\n"), "x", "line 3:");

	/* A long note and a huge line. */
	char *big = malloc(200 * 1024);
	size_t n = (size_t)sprintf(big, GOOD_HEAD "note = ");
	memset(big + n, 'a', 300);
	strcpy(big + n + 300, "\n");
	expect_bad("note over 255 bytes", big, strlen(big), "x", "line 3:");
	n = (size_t)sprintf(big, GOOD_HEAD "note = ");
	memset(big + n, 'a', 5000);
	strcpy(big + n + 5000, "\n");
	expect_bad("5000-byte line", big, strlen(big), "x", "line 3:");
	/* Over 64 KiB in all. */
	n = 0;
	while (n < 70 * 1024) {
		memcpy(big + n, "# padding padding padding padding\n", 34);
		n += 34;
	}
	expect_bad("file over 64 KiB", big, n, "x", "line 1:");
	/* Too many domains. */
	n = (size_t)sprintf(big, GOOD_HEAD "domains =");
	for (int i = 0; i < 33; i++)
		n += (size_t)sprintf(big + n, " d%d.example", i);
	strcpy(big + n, "\n");
	expect_bad("33 domains", big, strlen(big), "x", "line 3:");
	free(big);

	/* Errors never echo raw bytes: the message is printable. */
	rc = preset_parse(GOOD_HEAD "\x1b]0;pwned\x07 = x\n",
	                  strlen(GOOD_HEAD "\x1b]0;pwned\x07 = x\n"), "x", &p, err,
	                  sizeof err);
	bool printable = true;
	for (const char *c = err; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			printable = false;
	check(rc == -1 && printable, "error message holds no control characters");
}

/* ---- loading, overriding -------------------------------------------------- */

static void
test_load_and_override(void)
{
	struct preset_list l;
	struct warns w = { 0 };
	char cfg[512], dir[600], path[700];

	str_printf(cfg, sizeof cfg, "%s/config", tmpdir);
	str_printf(dir, sizeof dir, "%s/fluenzr/presets", cfg);
	setenv("XDG_CONFIG_HOME", cfg, 1);

	/* No user directory at all: only the shipped presets, no warning. */
	check(preset_load_all(&l, on_warn, &w) == 0, "load with no user dir");
	size_t nshipped = l.n;
	check(nshipped >= 25 && w.n == 0, "shipped presets load cleanly (%zu, "
	      "%d warnings)", nshipped, w.n);
	test_page_facts(&l);
	const struct preset *ovh = preset_find(&l, "ovh");
	check(ovh && strstr(ovh->origin, "ovh.preset") != NULL,
	      "origin names the file");
	preset_list_free(&l);

	check(mkdir_p(dir) == 0, "create user preset dir");
	/* Overrides ovh by id from a file of another name. */
	str_printf(path, sizeof path, "%s/my-ovh.preset", dir);
	const char *ov = "id = ovh\nname = OVH (my relay)\n"
	                 "smtp = relay.example.net 2525 starttls\n";
	write_file(path, ov, strlen(ov));
	/* A new provider. */
	str_printf(path, sizeof path, "%s/acme.preset", dir);
	const char *acme = "name = ACME Mail\ndomains = acme.test\n"
	                   "smtp = smtp.acme.test 465 ssl\n";
	write_file(path, acme, strlen(acme));
	/* A broken one: reported, skipped. */
	str_printf(path, sizeof path, "%s/broken.preset", dir);
	write_file(path, "name = Broken\nsmtp = x 0 ssl\n", 29);
	/* Not a preset file name: ignored. */
	str_printf(path, sizeof path, "%s/notes.txt", dir);
	write_file(path, "garbage\n", 8);
	str_printf(path, sizeof path, "%s/.hidden.preset", dir);
	write_file(path, "garbage\n", 8);
	/* A FIFO must not hang the loader. */
	str_printf(path, sizeof path, "%s/fifo.preset", dir);
	check(mkfifo(path, 0600) == 0, "create a FIFO named fifo.preset");
	/* Too big. */
	str_printf(path, sizeof path, "%s/huge.preset", dir);
	{
		size_t n = 65 * 1024 + 1;
		char *b = malloc(n);
		memset(b, '#', n);
		write_file(path, b, n);
		free(b);
	}

	w.n = 0;
	check(preset_load_all(&l, on_warn, &w) == 0, "load with a user dir");
	ovh = preset_find(&l, "ovh");
	check(ovh && !strcmp(ovh->name, "OVH (my relay)") &&
	      server_is(&ovh->smtp[0], "relay.example.net", 2525, SEC_STARTTLS) &&
	      ovh->nimap == 0 && strstr(ovh->origin, "my-ovh.preset"),
	      "user file overrides ovh by id");
	const struct preset *a = preset_find(&l, "acme");
	check(a && !strcmp(a->name, "ACME Mail"), "user preset added (id from "
	      "the file name)");
	check(l.n == nshipped + 1, "count: shipped + 1 new (%zu)", l.n);
	check(preset_find(&l, "broken") == NULL && preset_find(&l, "fifo") == NULL &&
	      preset_find(&l, "huge") == NULL && preset_find(&l, "notes") == NULL,
	      "bad, special and unrelated files skipped");
	check(w.n == 3, "three warnings (broken, fifo, huge): %d", w.n);
	check(preset_match(&l, "wile@ACME.test") == a, "user preset matches its "
	      "domain");
	preset_list_free(&l);

	/* FLUENZR_PRESET_DIR replaces the shipped directory. */
	char alt[600];
	str_printf(alt, sizeof alt, "%s/alt", tmpdir);
	check(mkdir_p(alt) == 0, "create alternative shipped dir");
	str_printf(path, sizeof path, "%s/only.preset", alt);
	write_file(path, "name = Only\nsmtp = smtp.only.test 587 starttls\n",
	           strlen("name = Only\nsmtp = smtp.only.test 587 starttls\n"));
	char *saved = strdup(getenv("FLUENZR_PRESET_DIR") ?
	                     getenv("FLUENZR_PRESET_DIR") : "");
	setenv("FLUENZR_PRESET_DIR", alt, 1);
	check(preset_load_all(&l, NULL, NULL) == 0 && preset_find(&l, "only") &&
	      preset_find(&l, "acme"),
	      "FLUENZR_PRESET_DIR replaces the installed directory");
	const struct preset *g = preset_find(&l, "gandi");
	check(g && !strcmp(g->origin, "built-in gandi.preset"),
	      "the built-in set stays under it (%s)", g ? g->origin : "none");
	preset_list_free(&l);
	setenv("FLUENZR_PRESET_DIR", saved, 1);
	free(saved);
}

/* ---- matching and applying ------------------------------------------------ */

static void
test_match_apply(void)
{
	struct preset_list l;
	char cfg[512];

	str_printf(cfg, sizeof cfg, "%s/empty-config", tmpdir);
	setenv("XDG_CONFIG_HOME", cfg, 1);
	check(preset_load_all(&l, NULL, NULL) == 0, "load for matching");

	/* MX hosts against the presets' mx suffixes, on label boundaries. */
	struct { const char *mx, *id; } x[] = {
		{ "mx1.mail.ovh.net", "ovh" },
		{ "MX2.MAIL.OVH.NET.", "ovh" },
		{ "aspmx.l.google.com", "gmail" },
		{ "example-com.mail.protection.outlook.com", "office365" },
		{ "mx.zoho.eu", "zoho-eu" },
		{ "mx1.infomaniak.ch", "infomaniak" },
		{ "spool.mail.gandi.net", "gandi" },
		{ "mx.notovh.net", NULL },
		{ "ovh.net.evil.test", NULL },
		{ "", NULL },
	};
	for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) {
		const struct preset *p = preset_match_mx(&l, x[i].mx);
		check(x[i].id ? p && !strcmp(p->id, x[i].id) : !p,
		      "MX %s -> %s", x[i].mx, x[i].id ? x[i].id : "none");
	}

	struct { const char *in, *id; } m[] = {
		{ "someone@gmail.com", "gmail" },
		{ "Someone@GMAIL.COM", "gmail" },
		{ "gmail.com", "gmail" },
		{ "x@googlemail.com", "gmail" },
		{ "x@zoho.eu", "zoho-eu" },
		{ "x@zohomail.com", "zoho" },
		{ "x@pm.me", "protonmail-bridge" },
		{ "x@eu.proton.me", "protonmail-bridge" },   /* subdomain */
		{ "x@gandi.net", "gandi" },
		{ "x@hotmail.fr", "outlook" },
		{ "x@notgmail.com", NULL },                 /* not a subdomain */
		{ "x@gmail.com.evil.test", NULL },
		{ "x@example.com", NULL },
		{ "", NULL },
		{ "x@", NULL },
	};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		const struct preset *p = preset_match(&l, m[i].in);
		check(m[i].id ? (p && !strcmp(p->id, m[i].id)) : p == NULL,
		      "match '%s' -> %s (got %s)", m[i].in, m[i].id ? m[i].id : "none",
		      p ? p->id : "none");
	}

	const struct preset *ovh = preset_find(&l, "ovh");
	const struct preset *gandi = preset_find(&l, "gandi");
	const struct preset *gmail = preset_find(&l, "gmail");
	if (!ovh || !gandi || !gmail) {
		check(false, "presets for apply tests present");
		preset_list_free(&l);
		return;
	}
	struct account a;
	struct acct_error e;

	account_init(&a);
	str_copy(a.email, sizeof a.email, "me@mydomain.fr");
	str_copy(a.username, sizeof a.username, "me@mydomain.fr");
	preset_apply(ovh, &a, 0);
	check(!strcmp(a.smtp_host, "ssl0.ovh.net") && a.smtp_port == 587 &&
	      a.smtp_security == SEC_STARTTLS && !strcmp(a.imap_host, "ssl0.ovh.net")
	      && a.imap_port == 993 && a.imap_security == SEC_SSL &&
	      !strcmp(a.preset, "ovh"), "apply ovh with nothing given");
	check(account_validate(&a, &e) == 0, "applied account validates");

	/* The port given: the matching alternative supplies the security. */
	account_init(&a);
	a.smtp_port = 465;
	preset_apply(ovh, &a, PRESET_GIVEN_SMTP_PORT);
	check(!strcmp(a.smtp_host, "ssl0.ovh.net") && a.smtp_port == 465 &&
	      a.smtp_security == SEC_SSL, "given port 465 picks ovh's ssl entry");

	/* The security given: the matching alternative supplies the port. */
	account_init(&a);
	a.smtp_security = SEC_SSL;
	preset_apply(gandi, &a, PRESET_GIVEN_SMTP_SEC);
	check(a.smtp_port == 465 && a.smtp_security == SEC_SSL,
	      "given ssl picks gandi's 465 entry");
	account_init(&a);
	a.imap_security = SEC_STARTTLS;
	preset_apply(gandi, &a, PRESET_GIVEN_IMAP_SEC);
	check(!strcmp(a.imap_host, "mail.gandi.net") && a.imap_port == 143 &&
	      a.imap_security == SEC_STARTTLS, "given IMAP starttls picks 143");

	/* The host given: kept; port and security from the default entry. */
	account_init(&a);
	str_copy(a.smtp_host, sizeof a.smtp_host, "relay.mine.test");
	preset_apply(ovh, &a, PRESET_GIVEN_SMTP_HOST);
	check(!strcmp(a.smtp_host, "relay.mine.test") && a.smtp_port == 587 &&
	      a.smtp_security == SEC_STARTTLS &&
	      !strcmp(a.imap_host, "ssl0.ovh.net"),
	      "given SMTP host kept, the rest filled");

	/* Everything SMTP given: SMTP untouched. */
	account_init(&a);
	str_copy(a.smtp_host, sizeof a.smtp_host, "relay.mine.test");
	a.smtp_port = 2525;
	a.smtp_security = SEC_SSL;
	preset_apply(gmail, &a, PRESET_GIVEN_SMTP_HOST | PRESET_GIVEN_SMTP_PORT |
	             PRESET_GIVEN_SMTP_SEC);
	check(!strcmp(a.smtp_host, "relay.mine.test") && a.smtp_port == 2525 &&
	      a.smtp_security == SEC_SSL && !strcmp(a.imap_host, "imap.gmail.com"),
	      "every SMTP field given: left alone");

	/* A port no entry offers: security follows the usual pairing. */
	account_init(&a);
	a.smtp_port = 2525;
	preset_apply(ovh, &a, PRESET_GIVEN_SMTP_PORT);
	check(!strcmp(a.smtp_host, "ssl0.ovh.net") && a.smtp_port == 2525 &&
	      a.smtp_security == SEC_STARTTLS, "given unknown port: starttls");
	account_init(&a);
	a.imap_port = 993;
	preset_apply(preset_find(&l, "protonmail-bridge"), &a,
	             PRESET_GIVEN_IMAP_PORT);
	check(a.imap_port == 993 && a.imap_security == SEC_SSL &&
	      !strcmp(a.imap_host, "127.0.0.1"),
	      "given IMAP port 993 with no such entry: ssl");

	/* IMAP given: left alone. */
	account_init(&a);
	str_copy(a.imap_host, sizeof a.imap_host, "imap.mine.test");
	a.imap_port = 1993;
	a.imap_security = SEC_SSL;
	preset_apply(ovh, &a, PRESET_GIVEN_IMAP_HOST | PRESET_GIVEN_IMAP_PORT |
	             PRESET_GIVEN_IMAP_SEC);
	check(!strcmp(a.imap_host, "imap.mine.test") && a.imap_port == 1993 &&
	      !strcmp(a.smtp_host, "ssl0.ovh.net"), "given IMAP fields kept");

	/* A preset without IMAP leaves IMAP empty. */
	struct preset noimap;
	char err[256];
	const char *t = "name = N\nsmtp = smtp.n.test 587 starttls\n";
	check(preset_parse(t, strlen(t), "n", &noimap, err, sizeof err) == 0,
	      "parse an SMTP-only preset");
	account_init(&a);
	preset_apply(&noimap, &a, 0);
	check(a.imap_host[0] == '\0' && a.imap_port == 0 &&
	      !strcmp(a.preset, "n"), "SMTP-only preset leaves IMAP unset");

	preset_list_free(&l);
}

static void
rm_rf(const char *path)
{
	char cmd[600];
	/* tmpdir comes from mkdtemp under /tmp: no quoting surprises. */
	str_printf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", path);
}

int
main(void)
{
	const char *env = getenv("FLUENZR_PRESET_DIR");
	const char *src = getenv("top_srcdir");

	if (env && env[0])
		str_copy(shipped, sizeof shipped, env);
	else
		str_printf(shipped, sizeof shipped, "%s/presets", src ? src : ".");
	setenv("FLUENZR_PRESET_DIR", shipped, 1);
	str_copy(tmpdir, sizeof tmpdir, "/tmp/test_preset.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}

	test_shipped_files();
	test_builtin();
	test_hostile();
	test_oauth();
	test_load_and_override();
	test_match_apply();

	rm_rf(tmpdir);
	return unit_done();
}
