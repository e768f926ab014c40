/* config-v1.1 through expat's streaming parser. */
#include "config.h"

#include <expat.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "autoconfig.h"
#include "i18n.h"
#include "util.h"

#define AC_DEPTH_MAX     16      /* config-v1.1 nests four deep */
#define AC_ELEMENTS_MAX  4096    /* the largest ISPDB file has a few hundred */
#define AC_TEXT_MAX      512     /* bytes of one element's text */

enum where { W_NONE, W_PROVIDER, W_SMTP, W_IMAP, W_OTHER_SERVER };

struct ctx {
	XML_Parser p;
	struct ac_config *out;
	const char *email;
	int depth;
	unsigned elements;
	enum where where;
	int server_depth;
	struct ac_server cur;
	bool cur_sec_ok, cur_plain, cur_host_ok, cur_port_ok;
	char text[AC_TEXT_MAX + 1];
	size_t ntext;
	bool text_over;
	char why[256];
};

static void
stop(struct ctx *c, const char *why)
{
	if (!c->why[0])
		str_copy(c->why, sizeof c->why, why);
	XML_StopParser(c->p, XML_FALSE);
}

static const char *
attr(const XML_Char **a, const char *name)
{
	for (; a && a[0]; a += 2)
		if (!strcmp(a[0], name))
			return a[1];
	return NULL;
}

static void XMLCALL
on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct ctx *c = ud;

	if (++c->depth > AC_DEPTH_MAX) {
		stop(c, _("the document nests too deep"));
		return;
	}
	if (++c->elements > AC_ELEMENTS_MAX) {
		stop(c, _("the document has too many elements"));
		return;
	}
	c->ntext = 0;
	c->text_over = false;
	if (c->depth == 1 && strcmp(name, "clientConfig") != 0) {
		stop(c, _("the document is not a clientConfig (config-v1.1)"));
		return;
	}
	if (c->depth == 2 && !strcmp(name, "emailProvider")) {
		const char *id = attr(atts, "id");
		c->where = W_PROVIDER;
		if (id && !valid_hostname(id))
			str_copy(c->out->id, sizeof c->out->id, id);
		return;
	}
	if (c->depth == 3 && c->where == W_PROVIDER &&
	    (!strcmp(name, "incomingServer") || !strcmp(name, "outgoingServer"))) {
		const char *type = attr(atts, "type");
		bool out = name[0] == 'o';
		if (out && type && !strcmp(type, "smtp"))
			c->where = W_SMTP;
		else if (!out && type && !strcmp(type, "imap"))
			c->where = W_IMAP;
		else
			c->where = W_OTHER_SERVER;
		memset(&c->cur, 0, sizeof c->cur);
		c->cur_sec_ok = c->cur_plain = c->cur_host_ok = c->cur_port_ok = false;
	}
}

/* Replaces the placeholders in s (the document's text) into dst. */
static int
expand(const char *s, const char *email, char *dst, size_t dstlen)
{
	const char *at = strrchr(email, '@');
	size_t o = 0;
	static const char *const names[] = {
		"%EMAILADDRESS%", "%EMAILLOCALPART%", "%EMAILDOMAIN%"
	};

	while (*s) {
		const char *rep = NULL;
		size_t rlen = 0, skip = 1;
		for (size_t k = 0; k < 3 && at; k++) {
			size_t n = strlen(names[k]);
			if (strncmp(s, names[k], n))
				continue;
			skip = n;
			rep = k == 0 ? email : k == 1 ? email : at + 1;
			rlen = k == 0 ? strlen(email) : k == 1 ? (size_t)(at - email)
			                                        : strlen(at + 1);
			break;
		}
		if (!rep) {
			rep = s;
			rlen = 1;
		}
		if (o + rlen >= dstlen)
			return -1;
		memcpy(dst + o, rep, rlen);
		o += rlen;
		s += skip;
	}
	dst[o] = '\0';
	return 0;
}

static void
server_field(struct ctx *c, const char *name, const char *v)
{
	char buf[AC_TEXT_MAX + 1];

	if (!strcmp(name, "hostname")) {
		if (expand(v, c->email, buf, sizeof buf) == 0 && !valid_hostname(buf) &&
		    strlen(buf) <= ACCT_HOST_MAX) {
			str_copy(c->cur.host, sizeof c->cur.host, buf);
			c->cur_host_ok = true;
		}
	} else if (!strcmp(name, "port")) {
		c->cur_port_ok = !valid_port(v, &c->cur.port);
	} else if (!strcmp(name, "socketType")) {
		if (!strcmp(v, "SSL")) {
			c->cur.security = SEC_SSL;
			c->cur_sec_ok = true;
		} else if (!strcmp(v, "STARTTLS")) {
			c->cur.security = SEC_STARTTLS;
			c->cur_sec_ok = true;
		} else if (!strcmp(v, "plain")) {
			c->cur_plain = true;
		}
	} else if (!strcmp(name, "username")) {
		if (expand(v, c->email, buf, sizeof buf) == 0 &&
		    strlen(buf) <= ACCT_USER_MAX && !valid_text(buf, ACCT_USER_MAX))
			str_copy(c->cur.username, sizeof c->cur.username, buf);
	}
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
	struct ctx *c = ud;
	char v[AC_TEXT_MAX + 1];
	size_t a = 0, b = c->ntext;

	/* The element's text, without the blanks around it. */
	while (a < b && strchr(" \t\r\n", c->text[a]))
		a++;
	while (b > a && strchr(" \t\r\n", c->text[b - 1]))
		b--;
	memcpy(v, c->text + a, b - a);
	v[b - a] = '\0';
	if (c->text_over)
		v[0] = '\0';        /* an overlong value is no value */

	if (c->depth == 3 && c->where == W_PROVIDER) {
		if (!strcmp(name, "domain") && v[0] && !valid_hostname(v) &&
		    c->out->ndomains < AC_MAX_DOMAINS)
			str_copy(c->out->domains[c->out->ndomains++], ACCT_HOST_MAX + 1, v);
		else if (!strcmp(name, "displayName") && v[0] && !c->out->name[0])
			str_sanitize(c->out->name, sizeof c->out->name, v, strlen(v));
	} else if (c->depth == 4 && (c->where == W_SMTP || c->where == W_IMAP)) {
		server_field(c, name, v);
	} else if (c->depth == 3 && c->where != W_PROVIDER && c->where != W_NONE) {
		bool smtp = c->where == W_SMTP;
		if (c->where != W_OTHER_SERVER && c->cur_host_ok && c->cur_port_ok) {
			if (c->cur_plain && !c->cur_sec_ok) {
				c->out->skipped_plain++;
			} else if (c->cur_sec_ok) {
				size_t *n = smtp ? &c->out->nsmtp : &c->out->nimap;
				struct ac_server *s = smtp ? c->out->smtp : c->out->imap;
				if (*n < AC_MAX_SERVERS)
					s[(*n)++] = c->cur;
			}
		}
		c->where = W_PROVIDER;
	} else if (c->depth == 2) {
		c->where = W_NONE;
	}
	c->ntext = 0;
	c->depth--;
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
	struct ctx *c = ud;

	if (len < 0)
		return;
	if (c->ntext + (size_t)len > AC_TEXT_MAX) {
		c->text_over = true;
		return;
	}
	memcpy(c->text + c->ntext, s, (size_t)len);
	c->ntext += (size_t)len;
	c->text[c->ntext] = '\0';
}

/* A DTD is where entities come from: none is accepted, internal or
 * external, so nothing is ever expanded (expat's own amplification guard
 * stays on as a second wall). */
static void XMLCALL
on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
           const XML_Char *pubid, int has_internal)
{
	stop(ud, _("the document has a DOCTYPE (refused: no entities)"));
}

static void XMLCALL
on_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
          int value_len, const XML_Char *base, const XML_Char *sysid,
          const XML_Char *pubid, const XML_Char *notation)
{
	stop(ud, _("the document declares an entity (refused)"));
}

int
autoconfig_parse(const char *xml, size_t len, const char *email,
                 struct ac_config *out, char *why, size_t whylen)
{
	struct ctx c;
	int rc = -1;

	memset(out, 0, sizeof *out);
	memset(&c, 0, sizeof c);
	if (why && whylen)
		why[0] = '\0';
	if (len > AC_DOC_MAX) {
		str_copy(why, whylen, _("the document is larger than 256 KiB"));
		return -1;
	}
	c.p = XML_ParserCreate("UTF-8");
	if (!c.p) {
		str_copy(why, whylen, _("out of memory"));
		return -1;
	}
	c.out = out;
	c.email = email;
	XML_SetUserData(c.p, &c);
	XML_SetElementHandler(c.p, on_start, on_end);
	XML_SetCharacterDataHandler(c.p, on_text);
	XML_SetStartDoctypeDeclHandler(c.p, on_doctype);
	XML_SetEntityDeclHandler(c.p, on_entity);
	XML_SetParamEntityParsing(c.p, XML_PARAM_ENTITY_PARSING_NEVER);
	if (XML_Parse(c.p, xml, (int)len, XML_TRUE) == XML_STATUS_ERROR) {
		if (c.why[0])
			str_copy(why, whylen, c.why);
		else
			str_printf(why, whylen, _("malformed XML at line %lu: %s"),
			           (unsigned long)XML_GetCurrentLineNumber(c.p),
			           XML_ErrorString(XML_GetErrorCode(c.p)));
	} else if (out->nsmtp == 0) {
		str_copy(why, whylen, out->skipped_plain
		         ? _("the document offers only unencrypted servers")
		         : _("the document names no usable SMTP server"));
	} else {
		rc = 0;
	}
	XML_ParserFree(c.p);
	return rc;
}
