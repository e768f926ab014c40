/* What the commands and the console do with a discovered candidate. */
#include "config.h"

#include <string.h>

#include "app.h"
#include "i18n.h"
#include "util.h"

void
app_discover_apply(const struct disc_candidate *c, struct account *a,
                   unsigned given)
{
	if (!(given & PRESET_GIVEN_SMTP_HOST))
		str_copy(a->smtp_host, sizeof a->smtp_host, c->smtp.host);
	if (!(given & PRESET_GIVEN_SMTP_PORT))
		a->smtp_port = c->smtp.port;
	if (!(given & PRESET_GIVEN_SMTP_SEC))
		a->smtp_security = c->smtp.security;
	if (c->has_imap) {
		if (!(given & PRESET_GIVEN_IMAP_HOST))
			str_copy(a->imap_host, sizeof a->imap_host, c->imap.host);
		if (!(given & PRESET_GIVEN_IMAP_PORT))
			a->imap_port = c->imap.port;
		if (!(given & PRESET_GIVEN_IMAP_SEC))
			a->imap_security = c->imap.security;
		if (c->imap.username[0] && strcmp(c->imap.username, a->email) &&
		    strcmp(c->imap.username, c->smtp.username))
			str_copy(a->imap_username, sizeof a->imap_username, c->imap.username);
	}
	if (c->smtp.username[0] && !a->username[0])
		str_copy(a->username, sizeof a->username, c->smtp.username);
	if (c->preset[0])
		str_copy(a->preset, sizeof a->preset, c->preset);
}

const char *
app_discover_warning(const struct disc_candidate *c, const char *email,
                     char *buf, size_t len)
{
	const char *at = strrchr(email, '@');

	if (!c->foreign && !c->over_http)
		return NULL;
	str_printf(buf, len, _("%s is not in %s and was found through %s, which can "
	           "be spoofed: check it is your provider before sending your "
	           "password there"), c->smtp.host, at ? at + 1 : email,
	           c->over_http ? _("plain HTTP") : _("DNS or HTTP"));
	return buf;
}
