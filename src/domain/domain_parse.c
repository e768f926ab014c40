/* The parsers of the records domain health reads: SPF (RFC 7208 §4.6.1,
 * §7), DMARC (RFC 7489 §6.3) and DKIM keys (RFC 6376 §3.6.1). Every
 * record is hostile: lengths bounded, nothing trusted, an error is a why. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "dns.h"
#include "domain.h"
#include "i18n.h"
#include "util.h"

static int
why_set(char *why, size_t len, const char *s)
{
	str_copy(why, len, s);
	return -1;
}

bool
spf_is_record(const char *txt)
{
	return !strncasecmp(txt, "v=spf1", 6) && (txt[6] == ' ' || txt[6] == '\0');
}

/* A macro-string (RFC 7208 §7.1): literal characters %x21-7E, and macros
 * %{letter digits [r] delimiters}, %%, %_, %-. Sets *macro when one is seen. */
static bool
valid_macro_string(const char *s, bool exp, bool *macro)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x21 || c > 0x7e)
			return false;
		if (c != '%')
			continue;
		s++;
		if (*s == '%' || *s == '_' || *s == '-')
			continue;
		if (*s != '{')
			return false;
		s++;
		char l = (char)tolower((unsigned char)*s);
		if (!strchr("slodiphv", l) && !(exp && strchr("crt", l)))
			return false;
		s++;
		while (isdigit((unsigned char)*s))
			s++;
		if (*s == 'r' || *s == 'R')
			s++;
		while (*s && strchr(".-+,/_=", *s))
			s++;
		if (*s != '}')
			return false;
		*macro = true;
	}
	return true;
}

/* A domain-spec: a macro-string; without macros, a domain name (a
 * trailing dot allowed). */
static bool
valid_domain_spec(const char *s, bool *macro)
{
	char name[DNS_NAME_MAX + 2];
	size_t n = strlen(s);

	*macro = false;
	if (n == 0 || !valid_macro_string(s, false, macro))
		return false;
	if (*macro)
		return true;
	if (n > DNS_NAME_MAX + 1)
		return false;
	memcpy(name, s, n + 1);
	if (name[n - 1] == '.')
		name[n - 1] = '\0';
	return dns_valid_name(name) && strchr(name, '.') != NULL;
}

static bool
valid_cidr(const char *s, bool ip4, bool ip6)
{
	for (int pass = 0; pass < 2 && *s; pass++) {
		bool six = s[0] == '/' && s[1] == '/';
		if (*s != '/' || (six && !ip6) || (!six && (!ip4 || pass)))
			return false;
		s += six ? 2 : 1;
		if (!isdigit((unsigned char)*s))
			return false;
		char *e;
		long v = strtol(s, &e, 10);
		if (v > (six ? 128 : 32) || (*s == '0' && e - s > 1))
			return false;
		s = e;
		if (six)
			return *s == '\0';
	}
	return *s == '\0';
}

static const struct {
	const char *name;
	enum spf_mech mech;
} mechs[] = {
	{ "all", SPF_ALL }, { "include", SPF_INCLUDE }, { "a", SPF_A },
	{ "mx", SPF_MX }, { "ptr", SPF_PTR }, { "ip4", SPF_IP4 },
	{ "ip6", SPF_IP6 }, { "exists", SPF_EXISTS },
};

/* One directive or modifier of w (NUL-terminated, no blank) into t. */
static int
parse_term(char *w, struct spf_term *t, char *why, size_t len)
{
	size_t nl = strcspn(w, ":/=");

	memset(t, 0, sizeof *t);
	t->qualifier = '+';
	if (w[nl] == '=') {
		/* A modifier: name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ). */
		if (!isalpha((unsigned char)w[0]))
			return why_set(why, len, _("a modifier's name must start with a letter"));
		for (size_t i = 1; i < nl; i++)
			if (!isalnum((unsigned char)w[i]) && !strchr("-_.", w[i]))
				return why_set(why, len, _("a modifier's name has an invalid character"));
		const char *v = w + nl + 1;
		bool macro = false;
		if (nl == 8 && !strncasecmp(w, "redirect", 8)) {
			t->mech = SPF_REDIRECT;
			if (!valid_domain_spec(v, &macro))
				return why_set(why, len, _("redirect= does not name a domain"));
		} else if (nl == 3 && !strncasecmp(w, "exp", 3)) {
			t->mech = SPF_EXP;
			if (!valid_domain_spec(v, &macro))
				return why_set(why, len, _("exp= does not name a domain"));
		} else {
			t->mech = SPF_UNKNOWN_MOD;
			if (!valid_macro_string(v, false, &macro))
				return why_set(why, len, _("a modifier's value is not a valid macro string"));
		}
		t->macro = macro;
		str_copy(t->arg, sizeof t->arg, v);
		return 0;
	}
	if (strchr("+-~?", w[0])) {
		t->qualifier = w[0];
		w++;
		nl = strcspn(w, ":/");
	}
	size_t k;
	for (k = 0; k < sizeof mechs / sizeof mechs[0]; k++)
		if (strlen(mechs[k].name) == nl && !strncasecmp(w, mechs[k].name, nl))
			break;
	if (k == sizeof mechs / sizeof mechs[0])
		return why_set(why, len, _("an unknown mechanism (RFC 7208 §5: a permerror)"));
	t->mech = mechs[k].mech;
	char *rest = w + nl, *arg = NULL, *cidr = NULL;
	if (*rest == ':') {
		arg = rest + 1;
		cidr = arg + strcspn(arg, "/");
		if (t->mech == SPF_IP6) {
			/* An IPv6 address has no '/', but the first '/' starts
			 * its prefix length. */
			cidr = strchr(arg, '/');
			if (!cidr)
				cidr = arg + strlen(arg);
		}
	} else {
		cidr = rest;
	}
	char save = *cidr;
	*cidr = '\0';
	if (arg)
		str_copy(t->arg, sizeof t->arg, arg);
	*cidr = save;
	if (arg && strlen(arg) - strlen(cidr) >= sizeof t->arg)
		return why_set(why, len, _("a mechanism's argument is too long"));
	bool macro = false;
	switch (t->mech) {
	case SPF_ALL:
		if (arg || *cidr)
			return why_set(why, len, _("all takes no argument"));
		break;
	case SPF_INCLUDE:
	case SPF_EXISTS:
		if (!arg || *cidr || !valid_domain_spec(t->arg, &macro))
			return why_set(why, len, t->mech == SPF_INCLUDE ?
			               _("include: does not name a domain") :
			               _("exists: does not name a domain"));
		break;
	case SPF_A:
	case SPF_MX:
		if ((arg && !valid_domain_spec(t->arg, &macro)) ||
		    !valid_cidr(cidr, true, true))
			return why_set(why, len, t->mech == SPF_A ?
			               _("a: has an invalid domain or prefix length") :
			               _("mx: has an invalid domain or prefix length"));
		break;
	case SPF_PTR:
		if ((arg && !valid_domain_spec(t->arg, &macro)) || *cidr)
			return why_set(why, len, _("ptr: does not name a domain"));
		break;
	case SPF_IP4: {
		struct in_addr a;
		if (!arg || inet_pton(AF_INET, t->arg, &a) != 1 ||
		    !valid_cidr(cidr, true, false))
			return why_set(why, len, _("ip4: is not an IPv4 address or network"));
		break;
	}
	case SPF_IP6: {
		/* ip6-cidr-length is a single '/' (RFC 7208 §5.6). */
		struct in6_addr a;
		const char *c = *cidr ? cidr + 1 : "";
		if (!arg || inet_pton(AF_INET6, t->arg, &a) != 1 ||
		    (*cidr && (!isdigit((unsigned char)*c) || strlen(c) > 3 ||
		               strspn(c, "0123456789") != strlen(c) || atoi(c) > 128)))
			return why_set(why, len, _("ip6: is not an IPv6 address or network"));
		break;
	}
	default:
		break;
	}
	t->macro = macro;
	return 0;
}

int
spf_parse(const char *txt, struct spf_record *out, char *why, size_t len)
{
	char buf[DNS_TXT_MAX + 1];

	memset(out, 0, sizeof *out);
	out->all = out->redirect = -1;
	why[0] = '\0';
	if (!spf_is_record(txt))
		return why_set(why, len, _("the record does not start with v=spf1"));
	if (strlen(txt) > DNS_TXT_MAX)
		return why_set(why, len, _("the record is too long"));
	str_copy(buf, sizeof buf, txt + 6);
	bool exp_seen = false;
	for (char *p = buf; *p;) {
		if (*p == ' ') {
			p++;
			continue;
		}
		char *w = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
		if (out->n >= SPF_MAX_TERMS)
			return why_set(why, len, _("the record has too many terms"));
		struct spf_term *t = &out->t[out->n];
		if (parse_term(w, t, why, len) < 0) {
			char first[64];
			str_sanitize(first, sizeof first, w, strlen(w));
			size_t l = strlen(why);
			str_printf(why + l, len - l, ": %s", first);
			return -1;
		}
		if (t->mech == SPF_REDIRECT) {
			if (out->redirect >= 0)
				return why_set(why, len, _("redirect= is given twice (RFC 7208 §6: a permerror)"));
			out->redirect = (int)out->n;
		} else if (t->mech == SPF_EXP) {
			if (exp_seen)
				return why_set(why, len, _("exp= is given twice (RFC 7208 §6: a permerror)"));
			exp_seen = true;
		} else if (t->mech == SPF_ALL && out->all < 0) {
			out->all = (int)out->n;
		}
		out->n++;
	}
	return 0;
}

unsigned
spf_lookup_terms(const struct spf_record *r)
{
	unsigned n = 0;

	for (size_t i = 0; i < r->n; i++) {
		enum spf_mech m = r->t[i].mech;
		/* redirect= is not used when the record has all (RFC 7208 §6.1). */
		if (m == SPF_INCLUDE || m == SPF_A || m == SPF_MX || m == SPF_PTR ||
		    m == SPF_EXISTS || (m == SPF_REDIRECT && r->all < 0))
			n++;
	}
	return n;
}

/* --- tag=value lists (DMARC, DKIM) ------------------------------------- */

struct tag {
	char name[16];
	char value[DNS_TXT_MAX + 1];
};

/* The next tag of *p into t; 1, 0 at the end, -1 when malformed. */
static int
next_tag(const char **p, struct tag *t)
{
	const char *s = *p;

	while (*s == ' ' || *s == '\t' || *s == ';')
		s++;
	if (!*s)
		return 0;
	size_t n = 0;
	while (isalnum((unsigned char)s[n]) || s[n] == '_')
		n++;
	if (n == 0 || n >= sizeof t->name)
		return -1;
	memcpy(t->name, s, n);
	t->name[n] = '\0';
	s += n;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s != '=')
		return -1;
	s++;
	while (*s == ' ' || *s == '\t')
		s++;
	const char *e = strchr(s, ';');
	if (!e)
		e = s + strlen(s);
	size_t vl = (size_t)(e - s);
	while (vl && (s[vl - 1] == ' ' || s[vl - 1] == '\t'))
		vl--;
	if (vl >= sizeof t->value)
		return -1;
	memcpy(t->value, s, vl);
	t->value[vl] = '\0';
	*p = *e ? e + 1 : e;
	return 1;
}

bool
dmarc_is_record(const char *txt)
{
	const char *s = txt;
	while (*s == ' ')
		s++;
	if (strncmp(s, "v", 1))
		return false;
	s++;
	while (*s == ' ')
		s++;
	if (*s != '=')
		return false;
	s++;
	while (*s == ' ')
		s++;
	return !strncmp(s, "DMARC1", 6) && (!s[6] || s[6] == ';' || s[6] == ' ');
}

static enum dmarc_policy
policy_of(const char *v)
{
	if (!strcasecmp(v, "none"))
		return DMARC_P_NONE;
	if (!strcasecmp(v, "quarantine"))
		return DMARC_P_QUARANTINE;
	if (!strcasecmp(v, "reject"))
		return DMARC_P_REJECT;
	return DMARC_P_NONE_GIVEN;
}

const char *
dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_P_NONE: return "none";
	case DMARC_P_QUARANTINE: return "quarantine";
	case DMARC_P_REJECT: return "reject";
	case DMARC_P_NONE_GIVEN: break;
	}
	return "";
}

/* A comma-separated list of DMARC URIs (RFC 7489 §6.2): each mailto: (the
 * only scheme receivers use) with an address. */
static bool
valid_dmarc_uris(const char *v)
{
	if (!*v)
		return false;
	for (const char *p = v; *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		while (n && *p == ' ')
			p++, n--;
		if (n < 10 || strncasecmp(p, "mailto:", 7) || !memchr(p + 7, '@', n - 7))
			return false;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] > 0x7e)
				return false;
		p += n;
		if (*p == ',')
			p++;
	}
	return true;
}

int
dmarc_parse(const char *txt, struct dmarc_record *out, char *why, size_t len)
{
	struct tag *t = malloc(sizeof *t);
	const char *p = txt;
	int first = 1, r, rc = -1;
	bool seen_p = false;

	memset(out, 0, sizeof *out);
	out->pct = 100;
	out->adkim = out->aspf = 'r';
	why[0] = '\0';
	if (!t)
		return why_set(why, len, _("out of memory"));
	while ((r = next_tag(&p, t)) > 0) {
		if (first && strcmp(t->name, "v")) {
			why_set(why, len, _("the record does not start with v=DMARC1"));
			goto out;
		}
		if (first) {
			if (strcmp(t->value, "DMARC1")) {
				why_set(why, len, _("the version is not DMARC1"));
				goto out;
			}
			first = 0;
			continue;
		}
		if (!strcmp(t->name, "p") || !strcmp(t->name, "sp")) {
			enum dmarc_policy pol = policy_of(t->value);
			if (pol == DMARC_P_NONE_GIVEN) {
				why_set(why, len, t->name[0] == 'p' ?
				        _("p= is not none, quarantine or reject") :
				        _("sp= is not none, quarantine or reject"));
				goto out;
			}
			if (t->name[0] == 'p') {
				out->p = pol;
				seen_p = true;
			} else {
				out->sp = pol;
			}
		} else if (!strcmp(t->name, "pct")) {
			char *e;
			long v = strtol(t->value, &e, 10);
			if (!isdigit((unsigned char)t->value[0]) || *e || v > 100) {
				why_set(why, len, _("pct= is not a number from 0 to 100"));
				goto out;
			}
			out->pct = (unsigned)v;
		} else if (!strcmp(t->name, "rua") || !strcmp(t->name, "ruf")) {
			if (!valid_dmarc_uris(t->value)) {
				why_set(why, len, t->name[2] == 'a' ?
				        _("rua= is not a list of mailto: addresses") :
				        _("ruf= is not a list of mailto: addresses"));
				goto out;
			}
			str_sanitize(t->name[2] == 'a' ? out->rua : out->ruf, sizeof out->rua,
			             t->value, strlen(t->value));
		} else if (!strcmp(t->name, "adkim") || !strcmp(t->name, "aspf")) {
			if (strcmp(t->value, "r") && strcmp(t->value, "s")) {
				why_set(why, len, _("adkim= and aspf= are r or s"));
				goto out;
			}
			*(t->name[1] == 'd' ? &out->adkim : &out->aspf) = t->value[0];
		}
		/* Other tags (fo, rf, ri, np, …) are not ours to judge. */
	}
	if (r < 0) {
		why_set(why, len, _("a tag is not written tag=value"));
		goto out;
	}
	if (first) {
		why_set(why, len, _("the record does not start with v=DMARC1"));
		goto out;
	}
	if (!seen_p) {
		why_set(why, len, _("the record has no p= policy"));
		goto out;
	}
	rc = 0;
out:
	free(t);
	return rc;
}

/* --- DKIM keys --------------------------------------------------------- */

/* One DER element at *p (below end): its tag and contents; 0 or -1. */
static int
der_next(const unsigned char **p, const unsigned char *end, unsigned *tag,
         const unsigned char **body, size_t *blen)
{
	const unsigned char *s = *p;
	size_t n;

	if (end - s < 2)
		return -1;
	*tag = *s++;
	n = *s++;
	if (n & 0x80) {
		unsigned k = n & 0x7f;
		if (k == 0 || k > 3 || (size_t)(end - s) < k)
			return -1;
		n = 0;
		while (k--)
			n = n << 8 | *s++;
	}
	if ((size_t)(end - s) < n)
		return -1;
	*body = s;
	*blen = n;
	*p = s + n;
	return 0;
}

/* The bits of an INTEGER's contents (leading zero bytes dropped). */
static unsigned
int_bits(const unsigned char *b, size_t n)
{
	while (n && *b == 0)
		b++, n--;
	if (!n)
		return 0;
	unsigned bits = (unsigned)(n - 1) * 8, c = *b;
	while (c) {
		bits++;
		c >>= 1;
	}
	return bits;
}

/* An RSAPublicKey (RFC 8017 A.1.1) in b: the modulus's bits, 0 if not one. */
static unsigned
rsa_pkcs1_bits(const unsigned char *b, size_t n)
{
	const unsigned char *p = b, *body, *q;
	unsigned tag;
	size_t blen, ilen;

	if (der_next(&p, b + n, &tag, &body, &blen) || tag != 0x30)
		return 0;
	q = body;
	const unsigned char *ib;
	if (der_next(&q, body + blen, &tag, &ib, &ilen) || tag != 0x02)
		return 0;
	unsigned bits = int_bits(ib, ilen);
	const unsigned char *eb;
	size_t elen;
	if (der_next(&q, body + blen, &tag, &eb, &elen) || tag != 0x02)
		return 0;
	return bits;
}

/* The RSA modulus's bits of a SubjectPublicKeyInfo (the form RFC 6376
 * §3.6.1 asks for), or of a bare RSAPublicKey; 0 when neither. */
static unsigned
rsa_key_bits(const unsigned char *b, size_t n)
{
	static const unsigned char rsa_oid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7,
	                                         0x0d, 0x01, 0x01, 0x01 };
	const unsigned char *p = b, *body, *q, *alg, *oid, *bits;
	unsigned tag;
	size_t blen, alen, olen, bl;

	if (der_next(&p, b + n, &tag, &body, &blen) || tag != 0x30)
		return 0;
	q = body;
	if (der_next(&q, body + blen, &tag, &alg, &alen) || tag != 0x30)
		return rsa_pkcs1_bits(b, n);
	const unsigned char *a = alg;
	if (der_next(&a, alg + alen, &tag, &oid, &olen) || tag != 0x06 ||
	    olen != sizeof rsa_oid || memcmp(oid, rsa_oid, olen))
		return 0;
	if (der_next(&q, body + blen, &tag, &bits, &bl) || tag != 0x03 || bl < 2 ||
	    bits[0] != 0)
		return 0;
	return rsa_pkcs1_bits(bits + 1, bl - 1);
}

int
dkim_parse_key(const char *txt, struct dkim_key *out, char *why, size_t len)
{
	struct tag *t = malloc(sizeof *t);
	char *p64 = NULL;
	unsigned char *der = NULL;
	const char *p = txt;
	int first = 1, r, rc = -1;

	memset(out, 0, sizeof *out);
	str_copy(out->k, sizeof out->k, "rsa");
	why[0] = '\0';
	if (!t)
		return why_set(why, len, _("out of memory"));
	while ((r = next_tag(&p, t)) > 0) {
		if (!strcmp(t->name, "v")) {
			if (!first || strcmp(t->value, "DKIM1")) {
				why_set(why, len, _("v= is not DKIM1 or is not the first tag"));
				goto out;
			}
		} else if (!strcmp(t->name, "k")) {
			if (strcmp(t->value, "rsa") && strcmp(t->value, "ed25519")) {
				why_set(why, len, _("k= is not rsa or ed25519"));
				goto out;
			}
			str_copy(out->k, sizeof out->k, t->value);
		} else if (!strcmp(t->name, "t")) {
			out->testing = strchr(t->value, 'y') != NULL;
		} else if (!strcmp(t->name, "p")) {
			if (p64) {
				why_set(why, len, _("p= is given twice"));
				goto out;
			}
			if (!(p64 = malloc(strlen(t->value) + 1)))
				goto oom;
			size_t n = 0;
			for (const char *s = t->value; *s; s++)
				if (*s != ' ' && *s != '\t')
					p64[n++] = *s;
			p64[n] = '\0';
		}
		first = 0;
	}
	if (r < 0) {
		why_set(why, len, _("a tag is not written tag=value"));
		goto out;
	}
	if (!p64) {
		why_set(why, len, _("the record has no p= key"));
		goto out;
	}
	if (!p64[0]) {
		out->revoked = true;
		rc = 0;
		goto out;
	}
	size_t cap = strlen(p64) + 1;
	if (!(der = malloc(cap)))
		goto oom;
	long n = base64_decode(p64, der, cap);
	if (n <= 0) {
		why_set(why, len, _("p= is not base64"));
		goto out;
	}
	if (!strcmp(out->k, "ed25519")) {
		if (n != 32) {
			why_set(why, len, _("p= is not a 32-byte Ed25519 key"));
			goto out;
		}
		out->bits = 256;
	} else if (!(out->bits = rsa_key_bits(der, (size_t)n))) {
		why_set(why, len, _("p= is not an RSA public key"));
		goto out;
	}
	rc = 0;
	goto out;
oom:
	why_set(why, len, _("out of memory"));
out:
	free(der);
	free(p64);
	free(t);
	return rc;
}
