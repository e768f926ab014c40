/* The sources of discovery, each in its own thread under one deadline, and
 * the ranking of what they found. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "autoconfig.h"
#include "discover.h"
#include "i18n.h"
#include "dns.h"
#include "file.h"
#include "http.h"
#include "probe.h"
#include "util.h"

#ifndef ISPDBDIR
#define ISPDBDIR "/usr/local/share/fluenzr/ispdb"
#endif
#ifndef BUILD_ISPDBDIR
#define BUILD_ISPDBDIR ISPDBDIR
#endif

#define ISPDB_FILES_MAX  2048    /* files looked at in the ISPDB directory */
#define MX_TRIED         4       /* MX hosts matched, best preference first */

/* Ranks: a preset or ISPDB entry for the domain itself, then one reached
 * through the MX (the provider really receives the domain's mail), then
 * what the domain's own DNS or web server claims without confirmation. */
static const int rank_of[] = {
	[DISC_PRESET] = 100, [DISC_ISPDB] = 90, [DISC_MX_PRESET] = 85,
	[DISC_MX_ISPDB] = 80, [DISC_AUTOCONFIG] = 60, [DISC_SRV] = 50,
	[DISC_GUESS] = 40,
};
/* A server that fails its certificate check, or offers no AUTH after TLS,
 * is worth less than one that passes, whatever found it. */
#define BAD_CERT        (-30)
#define NO_AUTH         (-20)
#define CHECKS_MAX      8        /* found servers checked, best first */

const char *
discover_source_name(enum disc_source s)
{
	switch (s) {
	case DISC_PRESET: return "preset";
	case DISC_ISPDB: return "ispdb";
	case DISC_MX_PRESET: return "mx-preset";
	case DISC_MX_ISPDB: return "mx-ispdb";
	case DISC_AUTOCONFIG: return "autoconfig";
	case DISC_SRV: return "srv";
	case DISC_GUESS: return "guess";
	}
	return "?";
}

const char *
discover_ispdb_dir(void)
{
	struct stat st;
	if (stat(ISPDBDIR, &st) == 0 && S_ISDIR(st.st_mode))
		return ISPDBDIR;
	return BUILD_ISPDBDIR;
}

/* ---- what the sources share ---------------------------------------------- */

struct source {
	const struct disc_options *o;
	const char *domain;
	int64_t deadline;
	struct disc_candidate c[4];
	size_t n;
	char note[2][256];
	size_t nnotes;
	bool cancelled;
	int kind;
	int stop_fd;             /* guessing: readable = stop (see wait_threads) */
	int done_fd;             /* guessing: written when it ends */
	pthread_t th;
};

static int
left_ms(const struct source *s)
{
	int64_t l = s->deadline - now_ms();
	return l > 0 ? (int)l : 0;
}

static void note(struct source *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
note(struct source *s, const char *fmt, ...)
{
	va_list ap;
	char raw[512];

	if (s->nnotes >= 2)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	str_sanitize(s->note[s->nnotes++], sizeof s->note[0], raw, strlen(raw));
}

static struct disc_candidate *
add(struct source *s, enum disc_source src)
{
	if (s->n >= sizeof s->c / sizeof s->c[0])
		return NULL;
	struct disc_candidate *c = &s->c[s->n++];
	memset(c, 0, sizeof *c);
	c->source = src;
	c->score = rank_of[src];
	return c;
}

static void
from_preset(struct disc_candidate *c, const struct preset *p)
{
	str_copy(c->smtp.host, sizeof c->smtp.host, p->smtp[0].host);
	c->smtp.port = p->smtp[0].port;
	c->smtp.security = p->smtp[0].security;
	if (p->nimap) {
		c->has_imap = true;
		str_copy(c->imap.host, sizeof c->imap.host, p->imap[0].host);
		c->imap.port = p->imap[0].port;
		c->imap.security = p->imap[0].security;
	}
	str_copy(c->preset, sizeof c->preset, p->id);
}

/* The first (preferred) SMTP server of a document: submission with
 * STARTTLS or implicit TLS, in the document's order. */
static void
from_config(struct disc_candidate *c, const struct ac_config *a)
{
	const struct ac_server *s = &a->smtp[0];
	str_copy(c->smtp.host, sizeof c->smtp.host, s->host);
	c->smtp.port = s->port;
	c->smtp.security = s->security;
	str_copy(c->smtp.username, sizeof c->smtp.username, s->username);
	if (a->nimap) {
		c->has_imap = true;
		str_copy(c->imap.host, sizeof c->imap.host, a->imap[0].host);
		c->imap.port = a->imap[0].port;
		c->imap.security = a->imap[0].security;
		str_copy(c->imap.username, sizeof c->imap.username, a->imap[0].username);
	}
}

/* Whether host is domain or below it. */
static bool
within(const char *host, const char *domain)
{
	size_t h = strlen(host), d = strlen(domain);
	if (h == d)
		return !strcasecmp(host, domain);
	return h > d && host[h - d - 1] == '.' && !strcasecmp(host + h - d, domain);
}

/* ---- the ISPDB ----------------------------------------------------------- */

static bool
lists_domain(const struct ac_config *a, const char *domain)
{
	for (size_t i = 0; i < a->ndomains; i++)
		if (!strcasecmp(a->domains[i], domain))
			return true;
	return false;
}

static int
try_ispdb_file(const char *dir, const char *name, const char *email,
               const char *domain, struct ac_config *out)
{
	char path[1024], why[FILE_WHY_MAX];
	size_t len;
	char *text;

	if (str_printf(path, sizeof path, "%s/%s", dir, name) < 0)
		return -1;
	if (!(text = file_read_checked(path, AC_DOC_MAX, &len, why, sizeof why)))
		return -1;
	int rc = autoconfig_parse(text, len, email, out, why, sizeof why);
	free(text);
	return rc == 0 && lists_domain(out, domain) ? 0 : -1;
}

/* The ISPDB entry that lists domain: the file named after it first, then
 * every file's <domain> list. */
static int
ispdb_lookup(const char *dir, const char *email, const char *domain,
             struct ac_config *out)
{
	char name[ACCT_HOST_MAX + 8];
	DIR *d;
	struct dirent *e;
	unsigned seen = 0;
	int rc = -1;

	str_printf(name, sizeof name, "%s.xml", domain);
	if (try_ispdb_file(dir, name, email, domain, out) == 0)
		return 0;
	if (!(d = opendir(dir)))
		return -1;
	while (rc != 0 && (e = readdir(d)) && seen++ < ISPDB_FILES_MAX) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".xml") || e->d_name[0] == '.')
			continue;
		rc = try_ispdb_file(dir, e->d_name, email, domain, out);
	}
	closedir(d);
	return rc;
}

/* The registered domain of an MX host, roughly: its last two labels, or
 * three when the second-level label is short (mx.example.co.uk). The
 * ISPDB lookup is tried with both. */
static void
base_domains(const char *host, char out[2][ACCT_HOST_MAX + 1], size_t *n)
{
	const char *dots[3] = { NULL, NULL, NULL };
	size_t k = 0;

	*n = 0;
	for (const char *p = host + strlen(host); p > host && k < 3; p--)
		if (p[-1] == '.')
			dots[k++] = p;
	if (k >= 1 && dots[1])
		str_copy(out[(*n)++], ACCT_HOST_MAX + 1, dots[1]);
	else if (k >= 1)
		str_copy(out[(*n)++], ACCT_HOST_MAX + 1, host);
	if (k >= 2 && dots[2])
		str_copy(out[(*n)++], ACCT_HOST_MAX + 1, dots[2]);
}

/* ---- sources ------------------------------------------------------------- */

static void
src_mx(struct source *s)
{
	struct dns_answer a;
	const char *dir = s->o->ispdb_dir ? s->o->ispdb_dir : discover_ispdb_dir();

	dns_query(s->domain, DNS_MX, left_ms(s), s->o->cancel_fd, &a);
	if (a.result == DNS_CANCELLED)
		s->cancelled = true;
	if (a.result != DNS_OK) {
		note(s, _("MX of %s: %s (%s)"), s->domain, a.why, dns_result_name(a.result));
		return;
	}
	if (dns_null_mx(&a)) {
		note(s, _("MX of %s: a null MX (RFC 7505): the domain accepts no mail"),
		     s->domain);
		return;
	}
	for (size_t i = 0; i < a.n && i < MX_TRIED; i++) {
		const char *mx = a.rr[i].name;
		if (strcmp(mx, DNS_NULL_MX) == 0)
			continue;
		const struct preset *p = preset_match_mx(s->o->presets, mx);
		struct disc_candidate *c;
		if (p && (c = add(s, DISC_MX_PRESET))) {
			from_preset(c, p);
			str_printf(c->why, sizeof c->why, _("%s preset, because the MX is %s"),
			           p->name, mx);
			return;
		}
		char bases[2][ACCT_HOST_MAX + 1];
		size_t nb;
		base_domains(mx, bases, &nb);
		for (size_t b = 0; b < nb; b++) {
			struct ac_config cfg;
			if (ispdb_lookup(dir, s->o->email, bases[b], &cfg) == 0 &&
			    (c = add(s, DISC_MX_ISPDB))) {
				from_config(c, &cfg);
				str_printf(c->why, sizeof c->why, _("ISPDB entry for %s, because "
				           "the MX is %s"), bases[b], mx);
				return;
			}
		}
	}
	note(s, _("MX of %s: %s, at no provider known to the presets or the ISPDB"),
	     s->domain, a.rr[0].name);
}

/* One autoconfig URL: the host resolved through our resolver and pinned,
 * so that the deadline and the cancel cover the lookup too. */
static void
fetch_config(struct source *s, const char *host, const char *path, bool http)
{
	struct dns_answer a;
	char url[600], pin[400];
	const char *pins[2] = { pin, NULL };
	struct http_request rq;
	struct http_response rs;
	struct ac_config cfg;
	char why[256];
	struct disc_candidate *c;
	const char *scheme = http ? "http" : "https";

	str_printf(url, sizeof url, "%s://%s%s", scheme, host, path);
	dns_query(host, DNS_A, left_ms(s), s->o->cancel_fd, &a);
	if (a.result == DNS_CANCELLED)
		s->cancelled = true;
	if (a.result != DNS_OK) {
		note(s, "%s: %s", url, a.why);
		return;
	}
	str_printf(pin, sizeof pin, "%s:%u:%s", host, http ? 80u : 443u, a.rr[0].addr);
	http_request_init(&rq, url);
	rq.resolve = pins;
	rq.allow_http = http;
	rq.ca_file = s->o->ca_file;
	rq.cancel_fd = s->o->cancel_fd;
	rq.timeout_ms = left_ms(s) > 0 ? left_ms(s) : 1;
	rq.max_body = AC_DOC_MAX;
	rq.max_redirects = 3;
	http_perform(&rq, &rs);
	if (rs.result == HTTP_CANCELLED)
		s->cancelled = true;
	if (rs.result != HTTP_OK) {
		note(s, "%s: %s", url, rs.why);
	} else if (rs.status != 200) {
		note(s, _("%s: HTTP status %ld"), url, rs.status);
	} else if (autoconfig_parse(rs.body, rs.len, s->o->email, &cfg, why,
	                            sizeof why) < 0) {
		note(s, "%s: %s", url, why);
	} else if ((c = add(s, DISC_AUTOCONFIG))) {
		from_config(c, &cfg);
		c->over_http = http;
		if (http)
			c->score -= 20;
		str_printf(c->why, sizeof c->why, http ? _("%s over plain HTTP (not "
		           "authenticated: anyone on the path could have changed it)") :
		           _("%s over HTTPS"), host);
	}
	http_response_free(&rs);
}

static void
src_autoconfig(struct source *s)
{
	char host[ACCT_HOST_MAX + 16];

	str_printf(host, sizeof host, "autoconfig.%s", s->domain);
	fetch_config(s, host, "/mail/config-v1.1.xml", false);
	if (s->n == 0 && s->o->allow_http && !s->cancelled && left_ms(s) > 0)
		fetch_config(s, host, "/mail/config-v1.1.xml", true);
}

static void
src_wellknown(struct source *s)
{
	static const char path[] = "/.well-known/autoconfig/mail/config-v1.1.xml";

	fetch_config(s, s->domain, path, false);
	if (s->n == 0 && s->o->allow_http && !s->cancelled && left_ms(s) > 0)
		fetch_config(s, s->domain, path, true);
}

/* RFC 6186 and 8314: implicit TLS first for submission and for IMAP. */
static void
src_srv(struct source *s)
{
	static const struct { const char *label; bool imap; enum security sec; } q[] = {
		{ "_submissions._tcp", false, SEC_SSL },
		{ "_submission._tcp", false, SEC_STARTTLS },
		{ "_imaps._tcp", true, SEC_SSL },
		{ "_imap._tcp", true, SEC_STARTTLS },
	};
	struct disc_server smtp = { .port = 0 }, imap = { .port = 0 };
	char name[ACCT_HOST_MAX + 24];
	struct dns_answer a;

	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
		struct disc_server *d = q[i].imap ? &imap : &smtp;
		if (d->port || s->cancelled || left_ms(s) == 0)
			continue;
		str_printf(name, sizeof name, "%s.%s", q[i].label, s->domain);
		dns_query(name, DNS_SRV, left_ms(s), s->o->cancel_fd, &a);
		if (a.result == DNS_CANCELLED)
			s->cancelled = true;
		if (a.result != DNS_OK)
			continue;
		str_copy(d->host, sizeof d->host, a.rr[0].name);
		d->port = a.rr[0].port;
		d->security = q[i].sec;
	}
	struct disc_candidate *c;
	if (!smtp.port) {
		note(s, _("SRV: no _submissions._tcp or _submission._tcp record for %s"),
		     s->domain);
		return;
	}
	if ((c = add(s, DISC_SRV))) {
		c->smtp = smtp;
		if (imap.port) {
			c->has_imap = true;
			c->imap = imap;
		}
		str_printf(c->why, sizeof c->why, _("DNS SRV records of %s"), s->domain);
	}
}

/* prefix + the domain into host, when that name exists: only names that
 * exist are worth a connection. */
static bool
guess_name(struct source *s, const char *prefix, char *host, size_t len)
{
	struct dns_answer a;

	if (str_printf(host, len, "%s%s", prefix, s->domain) < 0 ||
	    strlen(host) > ACCT_HOST_MAX)
		return false;
	return dns_query(host, DNS_A, left_ms(s), s->stop_fd, &a) == DNS_OK;
}

/* The best a guess found, if any passed (score above the start). */
static void
keep_best(struct source *s, const struct disc_candidate *best)
{
	struct disc_candidate *c;

	if (best->score > -1000 && (c = add(s, DISC_GUESS)))
		*c = *best;
}

/* smtp., mail. and the bare domain on the implicit-TLS and STARTTLS
 * ports, each checked for real: the best that answers per host is kept. */
static void
src_guess(struct source *s)
{
	static const char *const prefix[] = { "smtp.", "mail.", "" };
	unsigned ports[2] = { s->o->guess_ssl_port ? s->o->guess_ssl_port : 465,
	                      s->o->guess_starttls_port ? s->o->guess_starttls_port : 587 };
	const enum security secs[2] = { SEC_SSL, SEC_STARTTLS };
	char host[ACCT_HOST_MAX + 8];
	unsigned tried = 0;

	for (size_t h = 0; h < 3 && left_ms(s) > 0; h++) {
		if (!guess_name(s, prefix[h], host, sizeof host))
			continue;
		struct disc_candidate best = { .score = -1000 };
		for (int k = 0; k < 2 && left_ms(s) > 0; k++) {
			struct probe_check pc;
			int secs_left = (left_ms(s) + 999) / 1000;
			tried++;
			probe_check_smtp(host, ports[k], secs[k], s->o->ca_file, secs_left,
			                 s->stop_fd, &pc);
			if (!pc.reached || !pc.tls)
				continue;
			struct disc_candidate c = { .source = DISC_GUESS, .score = rank_of[DISC_GUESS] };
			str_copy(c.smtp.host, sizeof c.smtp.host, host);
			c.smtp.port = ports[k];
			c.smtp.security = secs[k];
			const char *how = secs[k] == SEC_SSL ? _("implicit TLS") : "STARTTLS";
			if (!pc.cert_ok) {
				c.score += BAD_CERT;
				str_printf(c.why, sizeof c.why, _("guessed: %s answered EHLO with %s, "
				           "but its certificate failed the check (%s)"), host, how, pc.why);
			} else if (!pc.auth[0]) {
				c.score += NO_AUTH;
				str_printf(c.why, sizeof c.why, _("guessed: %s answered EHLO with %s, "
				           "but offers no AUTH"), host, how);
			} else {
				str_printf(c.why, sizeof c.why, _("guessed: %s answered EHLO with %s "
				           "and AUTH %s"), host, how, pc.auth);
			}
			/* Implicit TLS first when both pass (RFC 8314). */
			if (c.score > best.score)
				best = c;
		}
		keep_best(s, &best);
	}
	if (s->n == 0)
		note(s, _("guessing: none of smtp.%s, mail.%s or %s answered with TLS "
		     "(%u tried)"), s->domain, s->domain, s->domain, tried);
}

/* imap. and mail. on the implicit-TLS and STARTTLS ports, checked up to
 * CAPABILITY after TLS: the best that passes the certificate check is the
 * IMAP side of the candidates that have none (see fill_imap). */
static void
src_guess_imap(struct source *s)
{
	static const char *const prefix[] = { "imap.", "mail." };
	unsigned ports[2] = { s->o->guess_imaps_port ? s->o->guess_imaps_port : 993,
	                      s->o->guess_imap_port ? s->o->guess_imap_port : 143 };
	const enum security secs[2] = { SEC_SSL, SEC_STARTTLS };
	char host[ACCT_HOST_MAX + 8];
	struct disc_candidate best = { .score = -1000 };
	char bad[256] = "";
	unsigned tried = 0;

	for (size_t h = 0; h < 2 && left_ms(s) > 0; h++) {
		if (!guess_name(s, prefix[h], host, sizeof host))
			continue;
		for (int k = 0; k < 2 && left_ms(s) > 0; k++) {
			struct probe_check pc;
			int secs_left = (left_ms(s) + 999) / 1000;
			const char *how = secs[k] == SEC_SSL ? _("implicit TLS") : "STARTTLS";
			tried++;
			probe_check_imap(host, ports[k], secs[k], s->o->ca_file, secs_left,
			                 s->stop_fd, &pc);
			if (!pc.tls)
				continue;
			if (!pc.cert_ok) {
				/* Never the IMAP side of an account: said in a note. With
				 * implicit TLS the handshake fails before any greeting. */
				if (!bad[0])
					str_printf(bad, sizeof bad, _("IMAP on %s port %u (%s): the "
					           "certificate failed the check (%s)"), host, ports[k],
					           how, pc.why);
				continue;
			}
			if (!pc.reached)
				continue;
			struct disc_candidate c = { .source = DISC_GUESS, .score = rank_of[DISC_GUESS],
			                            .has_imap = true };
			str_copy(c.imap.host, sizeof c.imap.host, host);
			c.imap.port = ports[k];
			c.imap.security = secs[k];
			if (pc.logindisabled && !pc.auth[0]) {
				c.score += NO_AUTH;
				str_printf(c.why, sizeof c.why, _("%s answered IMAP with %s, but "
				           "LOGINDISABLED and no AUTH"), host, how);
			} else if (pc.auth[0]) {
				str_printf(c.why, sizeof c.why, _("%s answered IMAP with %s and "
				           "AUTH=%s%s"), host, how, pc.auth,
				           pc.logindisabled ? " (LOGINDISABLED)" : "");
			} else {
				str_printf(c.why, sizeof c.why, _("%s answered IMAP with %s and "
				           "LOGIN"), host, how);
			}
			/* The first best: imap. before mail., implicit TLS first. */
			if (c.score > best.score)
				best = c;
		}
	}
	keep_best(s, &best);
	if (bad[0])
		note(s, _("guessing: %s"), bad);
	else if (s->n == 0)
		note(s, _("guessing: neither imap.%s nor mail.%s answered IMAP with TLS "
		     "(%u tried)"), s->domain, s->domain, tried);
}

enum { K_MX, K_AUTOCONFIG, K_WELLKNOWN, K_SRV, K_GUESS, K_GUESS_IMAP, K_COUNT };

static void *
run_source(void *arg)
{
	struct source *s = arg;
	switch (s->kind) {
	case K_MX: src_mx(s); break;
	case K_AUTOCONFIG: src_autoconfig(s); break;
	case K_WELLKNOWN: src_wellknown(s); break;
	case K_SRV: src_srv(s); break;
	case K_GUESS:
		src_guess(s);
		(void)!write(s->done_fd, "d", 1);
		break;
	case K_GUESS_IMAP:
		src_guess_imap(s);
		(void)!write(s->done_fd, "d", 1);
		break;
	}
	return NULL;
}

/* ---- ranking ------------------------------------------------------------- */

/* Guessing and checking run probes, whose steps each have their own
 * timeout: they are stopped through their own descriptor at the deadline or
 * on the caller's cancel, whichever comes first, so that the whole run keeps
 * its deadline. Each of the n threads writes one byte to done_fd when it
 * ends. */
static void
wait_threads(const struct disc_options *o, int done_fd, int stop_fd_w,
           int64_t deadline, int n)
{
	struct pollfd pf[2] = { { .fd = done_fd, .events = POLLIN },
	                        { .fd = o->cancel_fd, .events = POLLIN } };
	while (n > 0) {
		int64_t left = deadline - now_ms();
		char b[4];
		if (left <= 0)
			break;
		int r = poll(pf, o->cancel_fd >= 0 ? 2 : 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || (o->cancel_fd >= 0 && pf[1].revents))
			break;      /* the deadline, or the caller cancelled */
		ssize_t got = read(done_fd, b, sizeof b);
		if (got > 0)
			n -= (int)got;
		else if (got == 0 || (errno != EAGAIN && errno != EINTR))
			break;
	}
	(void)!write(stop_fd_w, "s", 1);
}

static bool
same_server(const struct disc_candidate *a, const struct disc_candidate *b)
{
	return !strcasecmp(a->smtp.host, b->smtp.host) && a->smtp.port == b->smtp.port &&
	       a->smtp.security == b->smtp.security;
}

static void
result_note(struct disc_result *r, const char *n)
{
	if (r->nnotes < DISC_MAX_NOTES)
		str_copy(r->notes[r->nnotes++], sizeof r->notes[0], n);
}

/* Adds c unless a candidate with the same SMTP server is there: then the
 * better one stays, and a confirmation by another source is said. */
static void
merge(struct disc_result *r, const struct disc_candidate *c)
{
	for (size_t i = 0; i < r->n; i++) {
		if (!same_server(&r->c[i], c))
			continue;
		struct disc_candidate *keep = &r->c[i];
		if (c->score > keep->score) {
			struct disc_candidate old = *keep;
			*keep = *c;
			c = &old;
			str_printf(keep->why + strlen(keep->why),
			           sizeof keep->why - strlen(keep->why), _("; also %s"),
			           discover_source_name(c->source));
		} else {
			str_printf(keep->why + strlen(keep->why),
			           sizeof keep->why - strlen(keep->why), _("; also %s"),
			           discover_source_name(c->source));
		}
		keep->score += 5;   /* two sources agree */
		return;
	}
	if (r->n < DISC_MAX_CANDIDATES)
		r->c[r->n++] = *c;
}

static int cmp_cand(const void *a, const void *b);

/* ---- checking what the other sources found -------------------------------- */

/* A found server gets the same check as a guessed one, all in parallel once
 * the sources are done, in what is left of the deadline and stopped like
 * guessing. Only a check that reached TLS changes the rank: a server this
 * machine cannot reach now may still be right (said in a note). */
struct check_job {
	struct disc_candidate *c;
	const struct disc_options *o;
	int64_t deadline;
	int stop_fd, done_fd;
	struct probe_check pc;
	pthread_t th;
};

static void *
run_check(void *arg)
{
	struct check_job *j = arg;
	int64_t left = j->deadline - now_ms();
	probe_check_smtp(j->c->smtp.host, j->c->smtp.port, j->c->smtp.security,
	                 j->o->ca_file, left > 0 ? (int)((left + 999) / 1000) : 1,
	                 j->stop_fd, &j->pc);
	(void)!write(j->done_fd, "d", 1);
	return NULL;
}

static void
apply_check(struct disc_result *r, struct check_job *j)
{
	struct disc_candidate *c = j->c;
	const struct probe_check *pc = &j->pc;
	size_t n = strlen(c->why);
	const char *how = c->smtp.security == SEC_SSL ? _("implicit TLS") :
	                  c->smtp.security == SEC_STARTTLS ? "STARTTLS" : _("no TLS");
	char buf[256];

	if (!pc->tls) {
		str_printf(buf, sizeof buf, _("check of %s port %u: %s"), c->smtp.host,
		           c->smtp.port, pc->why[0] ? pc->why : _("no TLS"));
		result_note(r, buf);
	} else if (!pc->cert_ok) {
		c->score += BAD_CERT;
		str_printf(c->why + n, sizeof c->why - n, _("; checked: %s, but its "
		           "certificate failed the check (%s)"), how, pc->why);
	} else if (!pc->auth[0]) {
		c->score += NO_AUTH;
		str_printf(c->why + n, sizeof c->why - n, _("; checked: %s, but no AUTH"),
		           how);
	} else {
		str_printf(c->why + n, sizeof c->why - n, _("; checked: %s and AUTH %s"),
		           how, pc->auth);
	}
}

static void
check_found(const struct disc_options *o, struct disc_result *r, int64_t deadline)
{
	struct check_job job[CHECKS_MAX];
	int stop[2], done[2];
	int n = 0;

	if (deadline - now_ms() <= 0)
		return;
	if (pipe2(stop, O_CLOEXEC | O_NONBLOCK) < 0)
		return;
	if (pipe2(done, O_CLOEXEC | O_NONBLOCK) < 0) {
		close(stop[0]);
		close(stop[1]);
		return;
	}
	qsort(r->c, r->n, sizeof r->c[0], cmp_cand);
	for (size_t i = 0; i < r->n && n < CHECKS_MAX; i++) {
		if (r->c[i].source == DISC_GUESS)
			continue;       /* checked already */
		struct check_job *j = &job[n];
		memset(j, 0, sizeof *j);
		j->c = &r->c[i];
		j->o = o;
		j->deadline = deadline;
		j->stop_fd = stop[0];
		j->done_fd = done[1];
		if (pthread_create(&j->th, NULL, run_check, j) == 0)
			n++;
	}
	wait_threads(o, done[0], stop[1], deadline, n);
	struct pollfd pf = { .fd = o->cancel_fd, .events = POLLIN };
	if (o->cancel_fd >= 0 && poll(&pf, 1, 0) > 0)
		r->cancelled = true;
	for (int k = 0; k < n; k++) {
		pthread_join(job[k].th, NULL);
		apply_check(r, &job[k]);
	}
	for (int i = 0; i < 2; i++) {
		close(stop[i]);
		close(done[i]);
	}
}

/* The guessed IMAP server is the IMAP side of every candidate in the
 * address's domain that has none; the "why" says what it showed. */
static void
fill_imap(struct disc_result *r, const struct disc_candidate *g, const char *domain)
{
	for (size_t i = 0; i < r->n; i++) {
		struct disc_candidate *c = &r->c[i];
		size_t n = strlen(c->why);
		if (c->has_imap || !within(c->smtp.host, domain))
			continue;
		c->has_imap = true;
		c->imap = g->imap;
		str_printf(c->why + n, sizeof c->why - n, _("; IMAP guessed: %s"), g->why);
	}
}

static int
cmp_cand(const void *a, const void *b)
{
	const struct disc_candidate *x = a, *y = b;
	return (x->score < y->score) - (x->score > y->score);
}

int
discover_run(const struct disc_options *o, struct disc_result *out)
{
	int64_t t0 = now_ms();
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : DISC_DEFAULT_TIMEOUT_MS;
	struct source src[K_COUNT], local;
	const char *at, *why;
	char domain[ACCT_HOST_MAX + 1];

	memset(out, 0, sizeof *out);
	if ((why = valid_email(o->email)) || !(at = strrchr(o->email, '@'))) {
		result_note(out, _("the address is not valid"));
		return -1;
	}
	str_copy(domain, sizeof domain, at + 1);
	for (char *p = domain; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');

	int stop[2] = { -1, -1 }, done[2] = { -1, -1 };
	bool guess = !o->no_guess && pipe2(stop, O_CLOEXEC | O_NONBLOCK) == 0 &&
	             pipe2(done, O_CLOEXEC | O_NONBLOCK) == 0;

	memset(src, 0, sizeof src);
	for (int k = 0; k < K_COUNT; k++) {
		src[k].o = o;
		src[k].domain = domain;
		src[k].deadline = t0 + timeout;
		src[k].kind = k;
		src[k].stop_fd = stop[0];
		src[k].done_fd = done[1];
		if (((k == K_GUESS || k == K_GUESS_IMAP) && !guess) ||
		    pthread_create(&src[k].th, NULL, run_source, &src[k]) != 0)
			src[k].kind = -1;
	}

	/* The local sources while the network ones wait for answers. */
	memset(&local, 0, sizeof local);
	local.o = o;
	const struct preset *p = o->presets ? preset_match(o->presets, o->email) : NULL;
	struct disc_candidate *c;
	if (p && (c = add(&local, DISC_PRESET))) {
		from_preset(c, p);
		str_printf(c->why, sizeof c->why, _("%s preset, which lists %s"), p->name,
		           domain);
	}
	struct ac_config cfg;
	const char *dir = o->ispdb_dir ? o->ispdb_dir : discover_ispdb_dir();
	if (ispdb_lookup(dir, o->email, domain, &cfg) == 0 &&
	    (c = add(&local, DISC_ISPDB))) {
		from_config(c, &cfg);
		str_printf(c->why, sizeof c->why, _("ISPDB entry for %s"), domain);
	}
	for (size_t i = 0; i < local.n; i++)
		merge(out, &local.c[i]);

	int guessing = (src[K_GUESS].kind >= 0) + (src[K_GUESS_IMAP].kind >= 0);
	for (int k = 0; k < K_COUNT; k++) {
		if (src[k].kind < 0)
			continue;
		if (guessing && (k == K_GUESS || k == K_GUESS_IMAP)) {
			wait_threads(o, done[0], stop[1], t0 + timeout, guessing);
			guessing = 0;
		}
		pthread_join(src[k].th, NULL);
		for (size_t i = 0; i < src[k].n && k != K_GUESS_IMAP; i++)
			merge(out, &src[k].c[i]);
		for (size_t i = 0; i < src[k].nnotes; i++)
			result_note(out, src[k].note[i]);
		out->cancelled |= src[k].cancelled;
	}
	if (!out->cancelled)
		check_found(o, out, t0 + timeout);
	if (src[K_GUESS_IMAP].kind >= 0 && src[K_GUESS_IMAP].n)
		fill_imap(out, &src[K_GUESS_IMAP].c[0], domain);
	for (size_t i = 0; i < out->n; i++) {
		struct disc_candidate *d = &out->c[i];
		bool spoofable = d->source != DISC_PRESET && d->source != DISC_ISPDB;
		d->foreign = spoofable && !within(d->smtp.host, domain);
	}
	for (int i = 0; i < 2; i++) {
		if (stop[i] >= 0)
			close(stop[i]);
		if (done[i] >= 0)
			close(done[i]);
	}
	qsort(out->c, out->n, sizeof out->c[0], cmp_cand);
	out->elapsed_ms = now_ms() - t0;
	return 0;
}
