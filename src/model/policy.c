/* The passphrase rule and the table of security-mode spellings. */
#include "config.h"

#include <string.h>

#include "i18n.h"
#include "policy.h"
#include "util.h"

const char *
policy_passphrase(const char *p)
{
	size_t n;

	if (!p)
		return _("none given");
	n = strnlen(p, POLICY_PASSPHRASE_MAX + 1);
	if (n < POLICY_PASSPHRASE_MIN)
		return _("use at least 8 characters");
	if (n > POLICY_PASSPHRASE_MAX)
		return _("use at most 1023 bytes");
	if (!utf8_valid(p, n))
		return _("it is not valid UTF-8");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] == 0x7f)
			return _("it contains a control character (line break, tab, ...)");
	return NULL;
}

/* Indexed by enum security, then by enum security_spelling. The console's
 * words are marked: it translates them where it draws them (SPELL_NAME is
 * an identifier, never translated). */
static const char *const spellings[][4] = {
	[SEC_STARTTLS] = { "starttls", "TLS (STARTTLS)", "TLS", "TLS (STARTTLS)" },
	[SEC_SSL] = { "ssl", "SSL", "SSL", N_("SSL (implicit TLS)") },
	[SEC_NONE] = { "none", N_("none"), N_("none"), N_("none (clear text!)") },
};

const char *
security_spell(enum security s, enum security_spelling sp)
{
	if ((unsigned)s >= sizeof spellings / sizeof spellings[0] ||
	    (unsigned)sp >= sizeof spellings[0] / sizeof spellings[0][0])
		return "unknown";
	return spellings[s][sp];
}
