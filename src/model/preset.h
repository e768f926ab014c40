/* Provider presets: one plain-text file per provider (see presets/README).
 * User presets in $XDG_CONFIG_HOME/fluenzr/presets override shipped ones by
 * id. */
#ifndef FLUENZR_PRESET_H
#define FLUENZR_PRESET_H

#include <stdbool.h>
#include <stddef.h>
#include "account.h"

#define PRESET_MAX_SERVERS  4
#define PRESET_MAX_DOMAINS  32
#define PRESET_MAX_NOTES    4
#define PRESET_MAX_MX       16
#define PRESET_MAX_HINTS    12
#define PRESET_MAX_SPF      4
#define PRESET_MAX_DKIM     4
#define PRESET_SELECTOR_MAX 63

/* A provider's knowledge of one of its replies (presets/README, "hint"):
 * what to match and what it means. The category and reason are checked
 * against the diagnosis's names where they are used (diag_hint_valid()). */
struct preset_hint {
	char codes[96];      /* blank-separated: reply codes "535", enhanced
	                      * codes "5.7.139", IMAP codes "[ALERT]", stages
	                      * "auth"; "" = any */
	char words[256];     /* ';'-separated phrases, one must be in the
	                      * reply (any case); "" = any */
	char cat[32];        /* a category name, e.g. auth_failed */
	char reason[32];     /* a reason name, e.g. smtp_auth_disabled */
	char fix[256];       /* the first fix shown */
};

struct preset_server {
	char host[ACCT_HOST_MAX + 1];
	unsigned port;
	enum security security;
};

struct preset {
	char id[ACCT_PRESET_MAX + 1];
	char name[128];
	char domains[PRESET_MAX_DOMAINS][ACCT_HOST_MAX + 1];
	size_t ndomains;
	/* Host name suffixes of the MX servers the provider runs: a custom
	 * domain whose MX ends in one is hosted there (discovery). */
	char mx[PRESET_MAX_MX][ACCT_HOST_MAX + 1];
	size_t nmx;
	struct preset_server smtp[PRESET_MAX_SERVERS];   /* [0] is the default */
	size_t nsmtp;
	struct preset_server imap[PRESET_MAX_SERVERS];
	size_t nimap;
	bool app_password;       /* the provider wants an app password */
	/* The servers are an application on the user's machine (a bridge),
	 * named here; "" when they are the provider's. */
	char local_app[128];
	char notes[PRESET_MAX_NOTES][256];
	size_t nnotes;
	struct preset_hint hints[PRESET_MAX_HINTS];
	size_t nhints;
	char origin[1024];       /* the file it came from */
	/* Published sending limits, 0 = none given: recipients a day and an
	 * hour, seconds between two messages. */
	unsigned limit_day, limit_hour, limit_interval;
	unsigned limits_given;   /* which were given (bits 1, 2, 4) */
	/* OAuth 2.0 of the provider ("" when it has none): the endpoints, the
	 * scopes for SMTP and IMAP, and the sign-in flows it allows, of
	 * "device", "loopback", "paste", separated by spaces. */
	char oauth_auth_url[ACCT_URL_MAX + 1];
	char oauth_token_url[ACCT_URL_MAX + 1];
	char oauth_device_url[ACCT_URL_MAX + 1];
	char oauth_scope[ACCT_SCOPE_MAX + 1];
	char oauth_flows[64];
	/* Domain health: the SPF includes of which a domain sending through
	 * the provider needs one, and the DKIM selectors it usually signs
	 * with (a guess until a test message shows the one in use). */
	char spf_include[PRESET_MAX_SPF][ACCT_HOST_MAX + 1];
	size_t nspf_include;
	char dkim_selectors[PRESET_MAX_DKIM][PRESET_SELECTOR_MAX + 1];
	size_t ndkim_selectors;
};

#define PRESET_LIMIT_MAX 10000000

struct preset_list {
	struct preset *v;
	size_t n;
};

/* Parses one preset file's text. id_hint (the file name's stem) is the id
 * when the file gives none. 0, or -1 with "line N: why" in err. */
int preset_parse(const char *text, size_t len, const char *id_hint,
                 struct preset *out, char *err, size_t errlen);

/* Loads the built-in presets, then the installed directory ($FLUENZR_PRESET_DIR,
 * else PRESETDIR; missing is fine), then the user's; each overrides the
 * earlier ones by id. A bad file is reported through warn (may be
 * NULL) and skipped. The list is sorted by name. */
typedef void (*preset_warn_cb)(const char *msg, void *ud);
int preset_load_all(struct preset_list *out, preset_warn_cb warn, void *ud);
void preset_list_free(struct preset_list *l);

const struct preset *preset_find(const struct preset_list *l, const char *id);
/* The preset serving the address's (or a bare) domain, or NULL. */
const struct preset *preset_match(const struct preset_list *l,
                                  const char *email_or_domain);

/* The preset whose MX suffixes serve the MX host mx (a label-aligned suffix,
 * without regard to case), or NULL. */
const struct preset *preset_match_mx(const struct preset_list *l,
                                     const char *mx);

/* Which server fields the user gave; preset_apply() leaves those alone. */
enum {
	PRESET_GIVEN_SMTP_HOST = 1 << 0,
	PRESET_GIVEN_SMTP_PORT = 1 << 1,
	PRESET_GIVEN_SMTP_SEC  = 1 << 2,
	PRESET_GIVEN_IMAP_HOST = 1 << 3,
	PRESET_GIVEN_IMAP_PORT = 1 << 4,
	PRESET_GIVEN_IMAP_SEC  = 1 << 5,
};
/* Fills every server field not in given from p's defaults (smtp[0], imap[0])
 * and sets a->preset; for an OAuth account, every OAuth field still empty
 * from p's. */
void preset_apply(const struct preset *p, struct account *a, unsigned given);

#endif
