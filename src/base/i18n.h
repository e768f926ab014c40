/* Messages in the user's language. _() translates a message where it is
 * used; N_() marks one kept in a static table, translated with _() where it
 * is shown; ngettext picks a count's plural form. Identifiers meant for
 * programs (categories, reasons, JSON, exit statuses) are never marked.
 * gettext is part of glibc: no layer owns a library for it. */
#ifndef FLUENZR_I18N_H
#define FLUENZR_I18N_H

#include "config.h"

#include <locale.h>

#if ENABLE_NLS
#include <libintl.h>
#define _(s) gettext(s)
#else
#define _(s) ((const char *)(s))
#define ngettext(s, p, n) ((n) == 1 ? (s) : (p))
#endif
#define N_(s) s

/* Output meant for programs (--json) is the same in every language: its
 * titles and fixes stay the catalog's English originals. Called while the
 * options are read, before any thread starts. */
static inline void
i18n_for_programs(void)
{
#if ENABLE_NLS
	setlocale(LC_MESSAGES, "C");
#endif
}

#endif
