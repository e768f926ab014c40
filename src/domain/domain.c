/* Sending-domain health: the checks, in order, each query under what is
 * left of the one deadline and stopped by the cancel descriptor. Every
 * answer is hostile: records are sanitised before they are kept as
 * evidence, the SPF tree is followed at most as far as RFC 7208 lets a
 * receiver follow it, loops are caught, and blocklist answers are only
 * "listed" on a listing code. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "domain.h"
#include "i18n.h"
#include "util.h"

const char *const domain_default_blocklists[] = {
	"zen.spamhaus.org", "bl.spamcop.net", "b.barracudacentral.org",
};
const size_t domain_ndefault_blocklists =
	sizeof domain_default_blocklists / sizeof domain_default_blocklists[0];

#define SPF_MAX_DEPTH (DOM_SPF_MAX_LOOKUPS + 1)
#define MX_RESOLVE_MAX 3
#define PTR_NAMES_MAX 4

struct ctx {
	struct dom_options opts;        /* the caller's, and a provider found by MX */
	struct dom_result *r;
	int64_t deadline;
	struct dns_answer *a;           /* one answer at a time, on the heap */
};

const char *
domain_status_name(enum dom_status s)
{
	switch (s) {
	case DOM_PASS: return "pass";
	case DOM_WARN: return "warn";
	case DOM_FAIL: return "fail";
	case DOM_UNKNOWN: return "unknown";
	}
	return "unknown";
}

enum dom_status
domain_worst(const struct dom_result *r)
{
	static const int rank[] = { [DOM_PASS] = 0, [DOM_WARN] = 1,
	                            [DOM_UNKNOWN] = 2, [DOM_FAIL] = 3 };
	enum dom_status w = DOM_PASS;

	for (size_t i = 0; i < r->n; i++)
		if (rank[r->items[i].status] > rank[w])
			w = r->items[i].status;
	return w;
}

const char *
domain_valid(const char *s)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (!dns_valid_name(s))
		return "is not a domain name (letters, digits, '-' labels, at most 253 bytes)";
	if (!strchr(s, '.'))
		return "is not a domain name with a dot, like example.com";
	if (inet_pton(AF_INET, s, &a4) == 1 || inet_pton(AF_INET6, s, &a6) == 1)
		return "is an IP address, not a domain";
	return NULL;
}

/* A query under what is left of the deadline; the answer is in c->a. */
static enum dns_result
query(struct ctx *c, const char *name, enum dns_type t)
{
	int64_t left = c->deadline - now_ms();

	if (c->r->cancelled) {
		memset(c->a, 0, sizeof *c->a);
		c->a->result = DNS_CANCELLED;
		return DNS_CANCELLED;
	}
	if (left <= 0) {
		memset(c->a, 0, sizeof *c->a);
		c->a->result = DNS_TIMEOUT;
		str_copy(c->a->why, sizeof c->a->why, _("no time was left for the query"));
		return DNS_TIMEOUT;
	}
	enum dns_result rc = dns_query(name, t, (int)left, c->opts.cancel_fd, c->a);
	if (rc == DNS_CANCELLED)
		c->r->cancelled = true;
	return rc;
}

static bool
is_void(enum dns_result r)
{
	return r == DNS_NXDOMAIN || r == DNS_NODATA;
}

static struct dom_item *
item_add(struct ctx *c, const char *id, const char *subject, const char *title)
{
	static struct dom_item spare;   /* written and dropped past the cap */
	struct dom_item *it;

	if (c->r->n >= DOM_MAX_ITEMS) {
		it = &spare;
	} else {
		it = &c->r->items[c->r->n++];
	}
	memset(it, 0, sizeof *it);
	str_copy(it->id, sizeof it->id, id);
	str_sanitize(it->subject, sizeof it->subject, subject, strlen(subject));
	str_copy(it->title, sizeof it->title, title);
	it->status = DOM_UNKNOWN;
	return it;
}

static void __attribute__((format(printf, 3, 4)))
evidence(struct dom_item *it, enum dom_status s, const char *fmt, ...)
{
	char raw[sizeof it->evidence];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	it->status = s;
	str_sanitize(it->evidence, sizeof it->evidence, raw, strlen(raw));
}

static void __attribute__((format(printf, 2, 3)))
fix(struct dom_item *it, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(it->fix, sizeof it->fix, fmt, ap);
	va_end(ap);
}

static void
record(struct dom_item *it, const char *name, const char *type, const char *value)
{
	str_sanitize(it->rec_name, sizeof it->rec_name, name, strlen(name));
	str_copy(it->rec_type, sizeof it->rec_type, type);
	str_sanitize(it->rec_value, sizeof it->rec_value, value, strlen(value));
}

/* A temporary failure as an item's evidence: Unknown, not a verdict. */
static void
unknown(struct dom_item *it, const struct ctx *c, const char *what)
{
	evidence(it, DOM_UNKNOWN, "%s: %s (%s)", what, c->a->why,
	         dns_result_name(c->a->result));
	fix(it, _("Run the check again; if it keeps failing, check that the "
	    "domain's name servers answer."));
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* A domain-spec as a name to compare and query: lowercase, no final dot. */
static void
spec_name(const char *spec, char *out, size_t len)
{
	str_copy(out, len, spec);
	lower(out);
	size_t n = strlen(out);
	if (n && out[n - 1] == '.')
		out[n - 1] = '\0';
}

/* --- MX ---------------------------------------------------------------- */

static void
check_mx(struct ctx *c)
{
	struct dom_item *it = item_add(c, "mx", c->r->domain, _("MX: where replies go"));
	char hosts[MX_RESOLVE_MAX][DNS_NAME_MAX + 1];
	size_t n;

	switch (query(c, c->r->domain, DNS_MX)) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
		evidence(it, DOM_FAIL, _("%s does not exist in DNS"), c->r->domain);
		fix(it, _("Check the spelling of the domain, and that it is registered "
		    "and its name servers are set at the registrar."));
		return;
	case DNS_NODATA:
		evidence(it, DOM_FAIL, _("%s has no MX record: nobody can reply to "
		         "this address"), c->r->domain);
		fix(it, _("Add the MX records your email provider gives in your "
		    "domain's DNS zone."));
		record(it, c->r->domain, "MX", "10 <your provider's mail server>");
		return;
	default:
		unknown(it, c, _("The MX query failed"));
		return;
	}
	/* Only "." (a null MX, RFC 7505; beside other hosts it breaks the
	 * RFC, and those hosts still count). */
	n = 0;
	for (size_t i = 0; i < c->a->n && n < MX_RESOLVE_MAX; i++)
		if (strcmp(c->a->rr[i].name, DNS_NULL_MX) != 0)
			str_copy(hosts[n++], sizeof hosts[0], c->a->rr[i].name);
	if (n == 0) {
		evidence(it, DOM_FAIL, _("%s publishes a null MX (RFC 7505): it "
		         "accepts no mail, so nobody can reply to this address"),
		         c->r->domain);
		fix(it, _("If this domain sends mail, replace the null MX (\"0 .\") "
		    "with the MX records your email provider gives."));
		record(it, c->r->domain, "MX", "10 <your provider's mail server>");
		return;
	}
	/* The provider, when the caller has none: the checks after this one
	 * then know its SPF include and DKIM selectors. */
	for (size_t i = 0; i < n && !c->opts.provider && c->opts.provider_by_mx; i++)
		if (c->opts.provider_by_mx(c->opts.provider_ud, hosts[i], &c->opts))
			str_copy(c->r->provider_mx, sizeof c->r->provider_mx, hosts[i]);
	size_t total = c->a->n;
	for (size_t i = 0; i < n; i++) {
		if (query(c, hosts[i], DNS_A) != DNS_OK &&
		    query(c, hosts[i], DNS_AAAA) != DNS_OK) {
			if (c->r->cancelled)
				return;
			continue;
		}
		if (c->r->provider_mx[0])
			evidence(it, DOM_PASS, ngettext("%zu MX record; %s has an address; "
			         "the mail is at %s", "%zu MX records; %s has an address; "
			         "the mail is at %s", total), total, hosts[i], c->opts.provider);
		else
			evidence(it, DOM_PASS, ngettext("%zu MX record; %s has an address",
			                  "%zu MX records; %s has an address", total),
			         total, hosts[i]);
		return;
	}
	evidence(it, DOM_FAIL, _("none of the MX hosts (%s%s) has an address"),
	         hosts[0], n > 1 ? ", …" : "");
	fix(it, _("Correct the MX records: each must name a host with an A or "
	    "AAAA record (your provider's mail servers)."));
}

/* --- SPF --------------------------------------------------------------- */

enum fetch { FETCH_ONE, FETCH_NONE, FETCH_SEVERAL, FETCH_ERROR };

/* The one SPF record of name into txt. */
static enum fetch
fetch_spf(struct ctx *c, const char *name, char *txt, size_t len, bool *void_lookup)
{
	size_t found = 0;

	*void_lookup = false;
	enum dns_result rc = query(c, name, DNS_TXT);
	if (is_void(rc)) {
		*void_lookup = true;
		return FETCH_NONE;
	}
	if (rc != DNS_OK)
		return FETCH_ERROR;
	for (size_t i = 0; i < c->a->n; i++)
		if (spf_is_record(c->a->rr[i].txt) && found++ == 0)
			str_copy(txt, len, c->a->rr[i].txt);
	return found == 0 ? FETCH_NONE : found == 1 ? FETCH_ONE : FETCH_SEVERAL;
}

struct walk {
	unsigned lookups, voids;
	enum dom_status status;         /* PASS, FAIL (a permerror), UNKNOWN */
	char why[512];
	char stack[SPF_MAX_DEPTH][DNS_NAME_MAX + 1];
	size_t depth;
	bool provider_found;
	char provider_seen[DNS_NAME_MAX + 1];
	char all;                       /* the qualifier in force, 0: none */
	bool ptr_used;
};

static void
walk_fail(struct walk *w, enum dom_status s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
walk_fail(struct walk *w, enum dom_status s, const char *fmt, ...)
{
	va_list ap;

	if (w->status != DOM_PASS)
		return;         /* the first error is the one receivers stop at */
	w->status = s;
	va_start(ap, fmt);
	str_vprintf(w->why, sizeof w->why, fmt, ap);
	va_end(ap);
}

/* The path from the domain to the current record: "a → b → c". */
static void
walk_path(const struct walk *w, const char *last, char *out, size_t len)
{
	out[0] = '\0';
	for (size_t i = 0; i < w->depth; i++) {
		size_t l = strlen(out);
		str_printf(out + l, len - l, "%s → ", w->stack[i]);
	}
	size_t l = strlen(out);
	str_printf(out + l, len - l, "%s", last);
}

static bool
is_provider_include(const struct ctx *c, const char *name)
{
	for (size_t i = 0; i < c->opts.nspf_includes; i++)
		if (!strcasecmp(c->opts.spf_includes[i], name))
			return true;
	return false;
}

static bool
count_lookup(struct walk *w, const char *term, const char *where)
{
	if (++w->lookups <= DOM_SPF_MAX_LOOKUPS)
		return true;
	char path[400];
	walk_path(w, where, path, sizeof path);
	walk_fail(w, DOM_FAIL, _("more than %d DNS lookups: the 11th is %s in %s"),
	          DOM_SPF_MAX_LOOKUPS, term, path);
	return false;
}

static void
walk_void(struct walk *w, const char *name)
{
	if (++w->voids > DOM_SPF_MAX_VOID)
		walk_fail(w, DOM_FAIL, _("more than %d lookups found nothing "
		          "(the last: %s; RFC 7208 §4.6.4)"), DOM_SPF_MAX_VOID, name);
}

static void spf_walk(struct ctx *c, struct walk *w, const char *name,
                     const char *txt, bool top);

/* Follows include: or redirect= (top: of the domain's own record) to
 * target. */
static void
walk_into(struct ctx *c, struct walk *w, const char *term, const char *target,
          bool top)
{
	char *txt;
	bool v;

	for (size_t i = 0; i < w->depth; i++)
		if (!strcmp(w->stack[i], target)) {
			char path[400];
			walk_path(w, target, path, sizeof path);
			walk_fail(w, DOM_FAIL, _("the includes loop: %s"), path);
			return;
		}
	if (w->depth >= SPF_MAX_DEPTH) {
		walk_fail(w, DOM_FAIL, _("the includes nest too deep"));
		return;
	}
	if (is_provider_include(c, target)) {
		w->provider_found = true;
		str_copy(w->provider_seen, sizeof w->provider_seen, target);
	}
	if (!(txt = malloc(DNS_TXT_MAX + 1))) {
		walk_fail(w, DOM_UNKNOWN, _("out of memory"));
		return;
	}
	switch (fetch_spf(c, target, txt, DNS_TXT_MAX + 1, &v)) {
	case FETCH_ONE:
		spf_walk(c, w, target, txt, top);
		break;
	case FETCH_NONE:
		if (v)
			walk_void(w, target);
		walk_fail(w, DOM_FAIL, _("%s names %s, which has no SPF record "
		          "(RFC 7208 §5.2: a permerror)"), term, target);
		break;
	case FETCH_SEVERAL:
		walk_fail(w, DOM_FAIL, _("%s names %s, which has several SPF records"),
		          term, target);
		break;
	case FETCH_ERROR:
		walk_fail(w, DOM_UNKNOWN, _("%s: the TXT query for %s failed (%s)"),
		          term, target, dns_result_name(c->a->result));
		break;
	}
	free(txt);
}

/* Evaluates what a receiver would look up for the record txt of name:
 * every counted term, the void answers, and the includes and redirect
 * followed depth first, as RFC 7208 §4.6 does. */
static void
spf_walk(struct ctx *c, struct walk *w, const char *name, const char *txt,
         bool top)
{
	struct spf_record *rec = malloc(sizeof *rec);
	char why[384], target[DNS_NAME_MAX + 2], term[300];

	if (!rec) {
		walk_fail(w, DOM_UNKNOWN, _("out of memory"));
		return;
	}
	if (spf_parse(txt, rec, why, sizeof why) < 0) {
		walk_fail(w, DOM_FAIL, _("the SPF record of %s is invalid: %s"), name, why);
		free(rec);
		return;
	}
	str_copy(w->stack[w->depth++], sizeof w->stack[0], name);
	for (size_t i = 0; i < rec->n && w->status == DOM_PASS && !c->r->cancelled; i++) {
		const struct spf_term *t = &rec->t[i];
		const char *arg = t->arg[0] ? t->arg : name;
		spec_name(arg, target, sizeof target);
		switch (t->mech) {
		case SPF_INCLUDE:
			str_printf(term, sizeof term, "include:%s", target);
			if (!count_lookup(w, term, name) || t->macro)
				break;
			walk_into(c, w, term, target, false);
			break;
		case SPF_A:
		case SPF_EXISTS:
			str_printf(term, sizeof term, "%s%s%s",
			           t->mech == SPF_A ? "a" : "exists:",
			           t->mech == SPF_A && t->arg[0] ? ":" : "",
			           t->arg[0] ? target : "");
			if (!count_lookup(w, term, name) || t->macro)
				break;
			if (query(c, target, DNS_A) == DNS_OK)
				break;
			if (is_void(c->a->result) && t->mech == SPF_A &&
			    query(c, target, DNS_AAAA) == DNS_OK)
				break;
			if (is_void(c->a->result))
				walk_void(w, target);
			break;
		case SPF_MX:
			str_printf(term, sizeof term, "mx%s%s", t->arg[0] ? ":" : "",
			           t->arg[0] ? target : "");
			if (!count_lookup(w, term, name) || t->macro)
				break;
			if (query(c, target, DNS_MX) == DNS_OK) {
				if (c->a->n > DOM_SPF_MAX_LOOKUPS)
					walk_fail(w, DOM_FAIL, _("%s in %s has more than %d MX "
					          "hosts (RFC 7208 §4.6.4)"), term, name,
					          DOM_SPF_MAX_LOOKUPS);
			} else if (is_void(c->a->result)) {
				walk_void(w, target);
			}
			break;
		case SPF_PTR:
			w->ptr_used = true;
			count_lookup(w, "ptr", name);
			break;
		default:
			break;
		}
	}
	if (top && rec->all >= 0)
		w->all = rec->t[rec->all].qualifier;
	/* redirect= only counts and applies when the record has no all. */
	if (rec->redirect >= 0 && rec->all < 0 && w->status == DOM_PASS &&
	    !c->r->cancelled) {
		const struct spf_term *t = &rec->t[rec->redirect];
		spec_name(t->arg, target, sizeof target);
		str_printf(term, sizeof term, "redirect=%s", target);
		/* The redirected record's all is the one in force. */
		if (count_lookup(w, term, name) && !t->macro)
			walk_into(c, w, term, target, top);
	}
	w->depth--;
	free(rec);
}

/* The record to publish: the current one with the provider's include put
 * before its all, or a new one. */
static void
spf_suggest(const struct ctx *c, const char *current, char *out, size_t len)
{
	const char *inc = c->opts.nspf_includes ? c->opts.spf_includes[0] : NULL;

	if (!current) {
		if (inc)
			str_printf(out, len, "v=spf1 include:%s ~all", inc);
		else
			str_printf(out, len, "v=spf1 mx ~all");
		return;
	}
	const char *all = NULL;
	for (const char *p = current; (p = strcasestr(p, "all")); p += 3)
		if ((p[-1] == ' ' || strchr("+-~?", p[-1])) && (p[3] == ' ' || !p[3]))
			all = strchr("+-~?", p[-1]) ? p - 1 : p;
	if (!all)
		str_printf(out, len, "%s include:%s", current, inc);
	else
		str_printf(out, len, "%.*sinclude:%s %s", (int)(all - current),
		           current, inc, all);
}

static bool
provider_domain(const struct ctx *c)
{
	for (size_t i = 0; i < c->opts.nprovider_domains; i++)
		if (!strcasecmp(c->opts.provider_domains[i], c->r->domain))
			return true;
	return false;
}

static void
check_spf(struct ctx *c)
{
	struct dom_item *it = item_add(c, "spf", c->r->domain, _("SPF: who may send"));
	char *txt = malloc(DNS_TXT_MAX + 1), sug[600];
	struct walk *w = calloc(1, sizeof *w);
	bool v;
	size_t nspf = 0;

	if (!txt || !w) {
		evidence(it, DOM_UNKNOWN, _("out of memory"));
		goto out;
	}
	enum fetch f = fetch_spf(c, c->r->domain, txt, DNS_TXT_MAX + 1, &v);
	if (f == FETCH_ERROR) {
		if (c->a->result == DNS_MALFORMED)
			evidence(it, DOM_FAIL, _("the domain's TXT answer is refused: %s"),
			         c->a->why);
		else
			unknown(it, c, _("The TXT query failed"));
		if (c->a->result == DNS_MALFORMED)
			fix(it, _("Keep each TXT record short (an SPF record under 450 "
			    "bytes, RFC 7208 §3.4): use include: instead of long lists."));
		goto out;
	}
	if (f == FETCH_NONE) {
		evidence(it, DOM_FAIL, _("%s has no SPF record (a TXT record starting "
		         "with v=spf1)"), c->r->domain);
		spf_suggest(c, NULL, sug, sizeof sug);
		if (c->opts.nspf_includes)
			fix(it, _("Publish an SPF record that includes %s's servers, as "
			    "below: without it, Gmail, Yahoo and Outlook.com treat your "
			    "mail as unauthenticated."), c->opts.provider);
		else
			fix(it, _("Publish an SPF record listing the servers that send your "
			    "mail (your provider's include:, or ip4: of your own server)."));
		record(it, c->r->domain, "TXT", sug);
		goto out;
	}
	if (f == FETCH_SEVERAL) {
		for (size_t i = 0; i < c->a->n; i++)
			nspf += spf_is_record(c->a->rr[i].txt);
		evidence(it, DOM_FAIL, _("%s has %zu SPF records: receivers treat "
		         "that as an error (RFC 7208 §4.5, permerror)"), c->r->domain, nspf);
		fix(it, _("Merge them into one TXT record: keep one v=spf1 with every "
		    "include: and ip4:, and delete the others."));
		goto out;
	}
	struct spf_record *rec = malloc(sizeof *rec);
	char why[384];
	if (!rec || spf_parse(txt, rec, why, sizeof why) < 0) {
		evidence(it, DOM_FAIL, _("the SPF record is invalid: %s. Record: %s"),
		         rec ? why : _("out of memory"), txt);
		fix(it, _("Correct the record's syntax: terms are separated by single "
		    "spaces, like v=spf1 include:provider.example ~all."));
		free(rec);
		goto out;
	}
	free(rec);
	evidence(it, DOM_PASS, "%s", txt);

	struct dom_item *lk = item_add(c, "spf_lookups", c->r->domain,
	                               _("SPF: DNS lookups (at most 10)"));
	spf_walk(c, w, c->r->domain, txt, true);
	c->r->spf_lookups = w->lookups;
	if (c->r->cancelled) {
		evidence(lk, DOM_UNKNOWN, _("cancelled"));
		goto out;
	}
	if (w->status == DOM_FAIL) {
		evidence(lk, DOM_FAIL, "%s", w->why);
		fix(lk, _("Receivers stop at 10 DNS lookups and fail SPF: remove "
		    "includes you no longer use, or replace an include by the "
		    "ip4:/ip6: ranges it stands for."));
	} else if (w->status == DOM_UNKNOWN) {
		evidence(lk, DOM_UNKNOWN, "%s", w->why);
		fix(lk, _("Run the check again; if it keeps failing, check that the "
		    "included domains' name servers answer."));
	} else {
		evidence(lk, DOM_PASS, _("%u of %d DNS lookups%s"), w->lookups,
		         DOM_SPF_MAX_LOOKUPS, w->ptr_used ? _(" (ptr is used: RFC 7208 "
		         "§5.5 asks not to)") : "");
		if (w->ptr_used)
			lk->status = DOM_WARN;
		if (w->ptr_used)
			fix(lk, _("Replace ptr with the ip4:/ip6: ranges of your servers."));
	}

	struct dom_item *al = item_add(c, "spf_all", c->r->domain,
	                               _("SPF: what happens to others"));
	switch (w->all) {
	case '+':
		evidence(al, DOM_FAIL, _("+all: the record lets every server on the "
		         "Internet send as %s"), c->r->domain);
		fix(al, _("End the record with ~all (or -all once you are sure every "
		    "sender is listed), never +all."));
		break;
	case '?':
		evidence(al, DOM_WARN, _("?all: receivers are told nothing about "
		         "servers not listed"));
		fix(al, _("End the record with ~all, or -all once you are sure every "
		    "sender is listed."));
		break;
	case '~':
	case '-':
		evidence(al, DOM_PASS, "%call", w->all);
		break;
	default:
		evidence(al, DOM_WARN, _("the record has no all: servers not listed "
		         "get a neutral result"));
		fix(al, _("End the record with ~all, or -all once you are sure every "
		    "sender is listed."));
		break;
	}

	if (c->opts.nspf_includes && !provider_domain(c)) {
		struct dom_item *pv = item_add(c, "spf_provider", c->r->domain,
		                               _("SPF: includes your provider"));
		if (w->provider_found) {
			evidence(pv, DOM_PASS, "include:%s (%s)", w->provider_seen,
			         c->opts.provider);
		} else if (w->status != DOM_PASS) {
			evidence(pv, DOM_UNKNOWN, _("the SPF tree could not be followed "
			         "to the end"));
		} else {
			evidence(pv, DOM_FAIL, _("the SPF record does not include %s, "
			         "which %s sends from"), c->opts.spf_includes[0], c->opts.provider);
			fix(pv, _("Add include:%s to the SPF record, before its all: "
			    "otherwise mail sent through %s fails SPF."),
			    c->opts.spf_includes[0], c->opts.provider);
			spf_suggest(c, txt, sug, sizeof sug);
			record(pv, c->r->domain, "TXT", sug);
		}
	}
out:
	free(w);
	free(txt);
}

/* --- DKIM -------------------------------------------------------------- */

static void
check_selector(struct ctx *c, const char *sel, bool advisory)
{
	struct dom_item *it = item_add(c, "dkim", sel, _("DKIM: signing key"));
	char name[DNS_NAME_MAX + 2], why[384];
	struct dkim_key k;

	it->advisory = advisory;
	if (str_printf(name, sizeof name, "%s._domainkey.%s", sel, c->r->domain) < 0 ||
	    !dns_valid_name(name)) {
		evidence(it, DOM_FAIL, _("the selector %s does not make a valid name"), sel);
		return;
	}
	enum dns_result rc = query(c, name, DNS_TXT);
	if (is_void(rc)) {
		evidence(it, advisory ? DOM_WARN : DOM_FAIL, _("%s has no DKIM key%s"),
		         name, advisory ? _(" (a selector the provider usually uses: a "
		         "guess)") : "");
		fix(it, _("Turn on DKIM signing in %s's admin console for %s and "
		    "publish the key record it gives (a TXT or CNAME record)."),
		    c->opts.provider ? c->opts.provider : _("your provider"), c->r->domain);
		record(it, name, "TXT", "v=DKIM1; k=rsa; p=<the public key your "
		       "provider gives>");
		return;
	}
	if (rc != DNS_OK) {
		unknown(it, c, _("The DKIM key query failed"));
		return;
	}
	/* Several TXT records: the first that is a key decides. */
	int ok = -1;
	char first_why[384] = "";
	for (size_t i = 0; i < c->a->n && ok < 0; i++) {
		ok = dkim_parse_key(c->a->rr[i].txt, &k, why, sizeof why);
		if (ok < 0 && !first_why[0])
			str_copy(first_why, sizeof first_why, why);
	}
	if (ok < 0) {
		evidence(it, DOM_FAIL, _("the record at %s is not a DKIM key: %s"),
		         name, first_why);
		fix(it, _("Publish the key record exactly as %s gives it: v=DKIM1; "
		    "k=rsa; p=… on one TXT record."),
		    c->opts.provider ? c->opts.provider : _("your provider"));
		return;
	}
	if (k.revoked) {
		evidence(it, DOM_FAIL, _("%s has an empty p=: the key is revoked"), name);
		fix(it, _("Signatures with this selector fail: sign with a current key "
		    "and publish it, or remove the selector from the signer."));
		return;
	}
	if (!strcmp(k.k, "rsa") && k.bits < 1024) {
		evidence(it, DOM_WARN, _("%s: an RSA key of %u bits (receivers ignore "
		         "keys under 1024 bits, RFC 8301)"), name, k.bits);
		fix(it, _("Create a 2048-bit key at %s and publish its record."),
		    c->opts.provider ? c->opts.provider : _("your provider"));
		return;
	}
	evidence(it, DOM_PASS, !strcmp(k.k, "rsa") ? _("%s: an RSA key of %u bits%s")
	         : _("%s: an Ed25519 key of %u bits%s"), name, k.bits,
	         k.testing ? _(" (t=y: testing mode)") : "");
}

static void
check_dkim(struct ctx *c)
{
	const struct dom_options *o = &c->opts;

	if (o->selector && o->selector[0]) {
		check_selector(c, o->selector, false);
		return;
	}
	for (size_t i = 0; i < o->ndkim_selectors && !c->r->cancelled; i++)
		check_selector(c, o->dkim_selectors[i], true);
	if (o->ndkim_selectors == 0) {
		struct dom_item *it = item_add(c, "dkim", "", _("DKIM: signing key"));
		evidence(it, DOM_UNKNOWN, _("no DKIM selector is known for %s"),
		         c->r->domain);
		fix(it, _("Send a test message (fluenzr-tui test) so the selector "
		    "it was signed with is seen, or give it with --selector."));
	}
}

/* --- DMARC ------------------------------------------------------------- */

/* The DMARC record at _dmarc.name into txt; *several on more than one. */
static enum fetch
fetch_dmarc(struct ctx *c, const char *name, char *txt, size_t len)
{
	char q[DNS_NAME_MAX + 2];
	size_t found = 0;

	if (str_printf(q, sizeof q, "_dmarc.%s", name) < 0)
		return FETCH_NONE;
	enum dns_result rc = query(c, q, DNS_TXT);
	if (is_void(rc))
		return FETCH_NONE;
	if (rc != DNS_OK)
		return FETCH_ERROR;
	for (size_t i = 0; i < c->a->n; i++)
		if (dmarc_is_record(c->a->rr[i].txt) && found++ == 0)
			str_copy(txt, len, c->a->rr[i].txt);
	return found == 0 ? FETCH_NONE : found == 1 ? FETCH_ONE : FETCH_SEVERAL;
}

static void
check_dmarc(struct ctx *c)
{
	struct dom_item *it = item_add(c, "dmarc", c->r->domain, _("DMARC: policy"));
	char *txt = malloc(DNS_TXT_MAX + 1), why[384], at[DNS_NAME_MAX + 8], rec[400];
	const char *from = c->r->domain;
	struct dmarc_record d;
	bool inherited = false;

	if (!txt) {
		evidence(it, DOM_UNKNOWN, _("out of memory"));
		return;
	}
	enum fetch f = fetch_dmarc(c, from, txt, DNS_TXT_MAX + 1);
	if (f == FETCH_NONE && c->r->org_domain[0] &&
	    strcmp(c->r->org_domain, c->r->domain)) {
		from = c->r->org_domain;
		inherited = true;
		f = fetch_dmarc(c, from, txt, DNS_TXT_MAX + 1);
	}
	str_printf(at, sizeof at, "_dmarc.%s", from);
	str_printf(rec, sizeof rec, "v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@%s",
	           c->r->org_domain[0] ? c->r->org_domain : c->r->domain);
	switch (f) {
	case FETCH_ERROR:
		unknown(it, c, _("The DMARC query failed"));
		goto out;
	case FETCH_NONE:
		if (inherited)
			evidence(it, DOM_FAIL, _("no DMARC record at _dmarc.%s nor at %s"),
			         c->r->domain, at);
		else
			evidence(it, DOM_FAIL, _("no DMARC record at _dmarc.%s"),
			         c->r->domain);
		fix(it, _("Publish a DMARC record: Gmail and Yahoo require one of bulk "
		    "senders. Start with p=none for a few weeks and read the reports, "
		    "then move to quarantine."));
		str_printf(at, sizeof at, "_dmarc.%s",
		           c->r->org_domain[0] ? c->r->org_domain : c->r->domain);
		record(it, at, "TXT", rec);
		goto out;
	case FETCH_SEVERAL:
		evidence(it, DOM_FAIL, _("%s has several DMARC records: receivers "
		         "then apply none (RFC 7489 §6.6.3)"), at);
		fix(it, _("Keep one v=DMARC1 record at %s and delete the others."), at);
		goto out;
	case FETCH_ONE:
		break;
	}
	if (dmarc_parse(txt, &d, why, sizeof why) < 0) {
		evidence(it, DOM_FAIL, _("the DMARC record at %s is invalid: %s. "
		         "Record: %s"), at, why, txt);
		fix(it, _("Correct the record: v=DMARC1 first, then p=none, "
		    "quarantine or reject, tags separated by ';'."));
		record(it, at, "TXT", rec);
		goto out;
	}
	enum dmarc_policy eff = inherited && d.sp != DMARC_P_NONE_GIVEN ? d.sp : d.p;
	char extra[200] = "";
	if (inherited)
		str_printf(extra, sizeof extra, _(" (inherited from %s%s)"), from,
		           d.sp != DMARC_P_NONE_GIVEN ? _(", its sp=") : "");
	if (d.pct < 100) {
		size_t l = strlen(extra);
		str_printf(extra + l, sizeof extra - l, _("; pct=%u: applied to %u%% "
		           "of failing mail"), d.pct, d.pct);
	}
	if (eff == DMARC_P_NONE) {
		evidence(it, DOM_WARN, _("p=none at %s%s: receivers are asked to do "
		         "nothing with mail that fails"), at, extra);
		fix(it, _("Once the reports show your own mail passes, move to "
		    "p=quarantine, then p=reject."));
	} else if (!inherited && d.sp == DMARC_P_NONE && d.p != DMARC_P_NONE) {
		evidence(it, DOM_WARN, _("p=%s but sp=none at %s: subdomains are not "
		         "protected%s"), dmarc_policy_name(d.p), at, extra);
		fix(it, _("Remove sp=none (subdomains then follow p=) unless a "
		    "subdomain still sends unauthenticated mail."));
	} else {
		evidence(it, DOM_PASS, _("p=%s at %s%s"), dmarc_policy_name(eff), at, extra);
	}

	struct dom_item *rp = item_add(c, "dmarc_reports", c->r->domain,
	                               _("DMARC: aggregate reports"));
	if (d.rua[0]) {
		evidence(rp, DOM_PASS, "rua=%s", d.rua);
	} else {
		evidence(rp, DOM_WARN, _("the record at %s has no rua=: nobody is "
		         "told who sends as the domain"), at);
		fix(rp, _("Add rua=mailto:an address you read (or a DMARC report "
		    "service) to see who sends as %s and whether it passes."),
		    c->r->domain);
	}
out:
	free(txt);
}

/* --- the sending host: reverse DNS and blocklists ---------------------- */

/* The reverse name of ip below zone ("in-addr.arpa", a blocklist); 4 or 6,
 * or 0 when ip is not an address. */
static int
reverse_name(const char *ip, const char *zone, char *out, size_t len,
             unsigned char bin[16])
{
	if (inet_pton(AF_INET, ip, bin) == 1) {
		str_printf(out, len, "%u.%u.%u.%u.%s", bin[3], bin[2], bin[1], bin[0], zone);
		return 4;
	}
	if (inet_pton(AF_INET6, ip, bin) == 1) {
		out[0] = '\0';
		for (int i = 15; i >= 0; i--) {
			size_t l = strlen(out);
			str_printf(out + l, len - l, "%x.%x.", bin[i] & 15, bin[i] >> 4);
		}
		size_t l = strlen(out);
		str_printf(out + l, len - l, "%s", zone);
		return 6;
	}
	return 0;
}

static void
check_ptr(struct ctx *c, const char *ip)
{
	struct dom_item *it = item_add(c, "ptr", ip, _("Reverse DNS of the sending host"));
	char rev[DNS_NAME_MAX + 1], names[PTR_NAMES_MAX][DNS_NAME_MAX + 1];
	unsigned char bin[16], got[16];
	int fam = reverse_name(ip, "", rev, sizeof rev, bin);
	size_t n;

	if (fam == 0) {
		evidence(it, DOM_FAIL, _("%s is not an IP address"), ip);
		return;
	}
	str_copy(rev + strlen(rev), sizeof rev - strlen(rev),
	         fam == 4 ? "in-addr.arpa" : "ip6.arpa");
	enum dns_result rc = query(c, rev, DNS_PTR);
	if (is_void(rc)) {
		evidence(it, DOM_FAIL, _("%s has no PTR record"), ip);
		fix(it, _("Ask whoever runs %s (your provider or host) to set its "
		    "reverse DNS to the server's name, a name whose A record is %s: "
		    "Gmail and Outlook.com refuse or junk mail from hosts without it."),
		    ip, ip);
		record(it, rev, "PTR", "<the server's host name>");
		return;
	}
	if (rc != DNS_OK) {
		unknown(it, c, _("The PTR query failed"));
		return;
	}
	n = c->a->n < PTR_NAMES_MAX ? c->a->n : PTR_NAMES_MAX;
	for (size_t i = 0; i < n; i++)
		str_copy(names[i], sizeof names[i], c->a->rr[i].name);
	bool temp = false;
	for (size_t i = 0; i < n && !c->r->cancelled; i++) {
		rc = query(c, names[i], fam == 4 ? DNS_A : DNS_AAAA);
		if (rc != DNS_OK) {
			temp |= !is_void(rc);
			continue;
		}
		for (size_t k = 0; k < c->a->n; k++)
			if (inet_pton(fam == 4 ? AF_INET : AF_INET6, c->a->rr[k].addr, got) == 1 &&
			    !memcmp(got, bin, fam == 4 ? 4 : 16)) {
				evidence(it, DOM_PASS, "%s → %s → %s", ip, names[i], ip);
				return;
			}
	}
	if (temp || c->r->cancelled) {
		unknown(it, c, _("The forward query failed"));
		return;
	}
	evidence(it, DOM_FAIL, _("%s → %s, but %s does not resolve back to %s: "
	         "the reverse DNS is not forward-confirmed"), ip, names[0], names[0], ip);
	fix(it, _("Make the names agree: give %s an A (or AAAA) record of %s, or "
	    "have the PTR of %s changed to a name that has it."), names[0], ip, ip);
	record(it, names[0], fam == 4 ? "A" : "AAAA", ip);
}

static void
check_blocklist(struct ctx *c, const char *ip, const char *zone)
{
	struct dom_item *it = item_add(c, "blocklist", zone, _("DNS blocklist"));
	char q[DNS_NAME_MAX + 2];
	unsigned char bin[16];

	if (!dns_valid_name(zone) || !reverse_name(ip, zone, q, sizeof q, bin) ||
	    !dns_valid_name(q)) {
		evidence(it, DOM_UNKNOWN, _("%s cannot be looked up on %s"), ip, zone);
		return;
	}
	enum dns_result rc = query(c, q, DNS_A);
	if (is_void(rc)) {
		evidence(it, DOM_PASS, _("%s is not listed on %s"), ip, zone);
		return;
	}
	if (rc != DNS_OK) {
		unknown(it, c, _("The blocklist did not answer"));
		return;
	}
	bool listed = false, refused = false;
	char codes[200] = "";
	for (size_t i = 0; i < c->a->n; i++) {
		unsigned a, b, cc, d;
		const char *addr = c->a->rr[i].addr;
		if (sscanf(addr, "%u.%u.%u.%u", &a, &b, &cc, &d) != 4)
			continue;
		if (a == 127 && b == 255 && cc == 255)
			refused = true;     /* Spamhaus: public resolver, over the limit */
		else if (a == 127 && b == 0 && cc == 0 && d >= 2)
			listed = true;
		size_t l = strlen(codes);
		str_printf(codes + l, sizeof codes - l, "%s%s", l ? " " : "", addr);
	}
	if (listed) {
		evidence(it, DOM_FAIL, _("%s is listed on %s (%s)"), ip, zone, codes);
		fix(it, _("Look %s up on the list's web site to learn why, fix the "
		    "cause (a compromised account, a form that sends mail), then ask "
		    "for the delisting there."), ip);
	} else if (refused) {
		evidence(it, DOM_UNKNOWN, _("%s refused to answer (%s: the query came "
		         "through a public resolver or over its free limit)"), zone, codes);
		fix(it, _("Run the check from a network whose resolver is not a public "
		    "one (8.8.8.8, 1.1.1.1), or use the list's data query service."));
	} else {
		evidence(it, DOM_UNKNOWN, _("%s answered %s, not a listing code"), zone, codes);
	}
}

static void
check_sender(struct ctx *c)
{
	const struct dom_options *o = &c->opts;
	const char *ip = o->sender_ip && o->sender_ip[0] ? o->sender_ip : NULL;

	if (ip)
		check_ptr(c, ip);
	if (!o->blocklists || c->r->cancelled)
		return;
	if (!ip) {
		struct dom_item *it = item_add(c, "blocklist", "", _("DNS blocklist"));
		evidence(it, DOM_UNKNOWN, _("the sending host is not known"));
		fix(it, _("Send a test message first, or give the host with --sender-ip."));
		return;
	}
	const char *const *z = o->bl_zones ? o->bl_zones : domain_default_blocklists;
	size_t nz = o->bl_zones ? o->nbl_zones : domain_ndefault_blocklists;
	for (size_t i = 0; i < nz && !c->r->cancelled; i++)
		check_blocklist(c, ip, z[i]);
}

void
domain_check(const struct dom_options *o, struct dom_result *r)
{
	struct ctx c = { .opts = *o, .r = r };
	int64_t t0 = now_ms();

	memset(r, 0, sizeof *r);
	c.deadline = t0 + (o->timeout_ms > 0 ? o->timeout_ms : DOM_DEFAULT_TIMEOUT_MS);
	str_copy(r->domain, sizeof r->domain, o->domain ? o->domain : "");
	lower(r->domain);
	if (domain_valid(r->domain)) {
		struct dom_item *it = item_add(&c, "mx", r->domain, _("MX: where replies go"));
		evidence(it, DOM_FAIL, _("not a domain name"));
		return;
	}
	domain_org(r->domain, r->org_domain, sizeof r->org_domain);
	if (!(c.a = malloc(sizeof *c.a))) {
		struct dom_item *it = item_add(&c, "mx", r->domain, _("MX: where replies go"));
		evidence(it, DOM_UNKNOWN, _("out of memory"));
		return;
	}
	void (*const step[])(struct ctx *) = { check_mx, check_spf, check_dkim,
	                                       check_dmarc, check_sender };
	for (size_t i = 0; i < sizeof step / sizeof step[0] && !r->cancelled; i++)
		step[i](&c);
	free(c.a);
	r->elapsed_ms = now_ms() - t0;
}
