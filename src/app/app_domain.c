/* Domain health as the commands and the console ask for it: the domain
 * of an address, and what its provider's preset knows (the SPF include
 * it needs, the DKIM selectors it signs with, its own domains). */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "i18n.h"
#include "util.h"

/* o (r's or the check's copy) asks what p knows; the lists are r's. */
static void
provider_from(struct app_domain_req *r, struct dom_options *o, const struct preset *p)
{
	o->provider = p->name;
	for (size_t i = 0; i < p->nspf_include; i++)
		r->inc[i] = p->spf_include[i];
	for (size_t i = 0; i < p->ndkim_selectors; i++)
		r->sel[i] = p->dkim_selectors[i];
	for (size_t i = 0; i < p->ndomains; i++)
		r->own[i] = p->domains[i];
	o->spf_includes = r->inc;
	o->nspf_includes = p->nspf_include;
	o->dkim_selectors = r->sel;
	o->ndkim_selectors = p->ndkim_selectors;
	o->provider_domains = r->own;
	o->nprovider_domains = p->ndomains;
}

const char *
app_domain_prepare(struct app_domain_req *r, const char *what,
                   const struct preset *p, const char *selector,
                   const char *sender_ip, const char **field)
{
	const char *at = strrchr(what, '@'), *why, *unused;
	unsigned char bin[16];

	memset(r, 0, sizeof *r);
	if (!field)
		field = &unused;
	*field = "domain";
	if (str_copy(r->domain, sizeof r->domain, at ? at + 1 : what) < 0)
		return _("is too long for a domain");
	for (char *c = r->domain; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	if ((why = domain_valid(r->domain)))
		return why;
	*field = "option";
	if (sender_ip && inet_pton(AF_INET, sender_ip, bin) != 1 &&
	    inet_pton(AF_INET6, sender_ip, bin) != 1)
		return _("the sender is not an IPv4 or IPv6 address");
	if (selector && (!selector[0] || strlen(selector) > PRESET_SELECTOR_MAX ||
	                 strspn(selector, "abcdefghijklmnopqrstuvwxyz"
	                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
	                 strlen(selector)))
		return _("the DKIM selector is made of letters, digits, '-', '_' and dots");
	r->o.domain = r->domain;
	r->o.selector = selector;
	r->o.sender_ip = sender_ip;
	r->o.cancel_fd = -1;
	r->o.timeout_ms = DOM_DEFAULT_TIMEOUT_MS;
	if (p)
		provider_from(r, &r->o, p);
	return NULL;
}

/* Called by the check with each MX host, on its thread: r is the job's. */
static bool
provider_by_mx(void *ud, const char *mx, struct dom_options *o)
{
	struct app_domain_req *r = ud;
	const struct preset *p = preset_match_mx(r->presets, mx);

	if (!p)
		return false;
	provider_from(r, o, p);
	return true;
}

void
app_domain_by_mx(struct app_domain_req *r, const struct preset_list *l)
{
	if (r->o.provider || !l)
		return;
	r->presets = l;
	r->o.provider_by_mx = provider_by_mx;
	r->o.provider_ud = r;
}

void
app_domain_seen(struct app_domain_req *r, struct store *st, const char *email)
{
	struct store_history h;

	if (store_history_get(st, email, &h) != STORE_OK || !h.seen_when)
		return;
	if (!r->o.selector && h.seen_dkim_s[0] &&
	    strcasecmp(h.seen_dkim_d, r->domain) == 0 &&
	    str_copy(r->seen_selector, sizeof r->seen_selector, h.seen_dkim_s) >= 0)
		r->o.selector = r->seen_selector;
	if (!r->o.sender_ip && h.seen_relay_ip[0] &&
	    str_copy(r->seen_ip, sizeof r->seen_ip, h.seen_relay_ip) >= 0)
		r->o.sender_ip = r->seen_ip;
}

int
app_domain_exit(const struct dom_result *r)
{
	switch (domain_worst(r)) {
	case DOM_PASS: return 0;
	case DOM_FAIL: return APP_DOMAIN_FAILING;
	default: return APP_DOMAIN_ATTENTION;
	}
}

const char *
app_domain_status_word(enum dom_status s)
{
	switch (s) {
	case DOM_PASS: return _("pass");
	case DOM_WARN: return _("warn");
	case DOM_FAIL: return _("FAIL");
	case DOM_UNKNOWN: break;
	}
	return _("unknown");
}
