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
	struct preset_server smtp[PRESET_MAX_SERVERS];   /* [0] is the default */
	size_t nsmtp;
	struct preset_server imap[PRESET_MAX_SERVERS];
	size_t nimap;
	bool app_password;       /* the provider wants an app password */
	char notes[PRESET_MAX_NOTES][256];
	size_t nnotes;
	char origin[1024];       /* the file it came from */
	/* OAuth 2.0 of the provider ("" when it has none): the endpoints, the
	 * scopes for SMTP and IMAP, and the sign-in flows it allows, of
	 * "device", "loopback", "paste", separated by spaces. */
	char oauth_auth_url[ACCT_URL_MAX + 1];
	char oauth_token_url[ACCT_URL_MAX + 1];
	char oauth_device_url[ACCT_URL_MAX + 1];
	char oauth_scope[ACCT_SCOPE_MAX + 1];
	char oauth_flows[64];
};

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
