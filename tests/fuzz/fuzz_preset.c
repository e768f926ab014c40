/* Fuzz target: preset_parse() on preset files. A refused file gets a
 * "line N: why" message without control characters; an accepted one holds
 * only valid fields, is found by each of its domains, and makes a valid
 * account when applied to one. */
#include "config.h"

#include <string.h>

#include "account.h"
#include "preset.h"
#include "util.h"
#include "fuzz.h"

static void
check_server(const struct preset_server *s)
{
	FUZZ_ASSERT(memchr(s->host, '\0', sizeof s->host));
	FUZZ_ASSERT(valid_hostname(s->host) == NULL);
	FUZZ_ASSERT(s->port >= 1 && s->port <= 65535);
	FUZZ_ASSERT(s->security == SEC_STARTTLS || s->security == SEC_SSL);
}

static void
check_accepted(const struct preset *p)
{
	struct preset_list l = { (struct preset *)p, 1 };
	struct account a;
	struct acct_error err;

	FUZZ_ASSERT(memchr(p->id, '\0', sizeof p->id) && p->id[0]);
	FUZZ_ASSERT(strspn(p->id, "abcdefghijklmnopqrstuvwxyz0123456789-_") ==
	            strlen(p->id));
	FUZZ_ASSERT(memchr(p->name, '\0', sizeof p->name) && p->name[0]);
	FUZZ_ASSERT(valid_text(p->name, sizeof p->name - 1) == NULL);
	FUZZ_ASSERT(p->nsmtp >= 1 && p->nsmtp <= PRESET_MAX_SERVERS);
	FUZZ_ASSERT(p->nimap <= PRESET_MAX_SERVERS);
	FUZZ_ASSERT(p->ndomains <= PRESET_MAX_DOMAINS);
	FUZZ_ASSERT(p->nnotes <= PRESET_MAX_NOTES);
	for (size_t i = 0; i < p->nsmtp; i++)
		check_server(&p->smtp[i]);
	for (size_t i = 0; i < p->nimap; i++)
		check_server(&p->imap[i]);
	for (size_t i = 0; i < p->nnotes; i++) {
		FUZZ_ASSERT(memchr(p->notes[i], '\0', sizeof p->notes[i]));
		FUZZ_ASSERT(valid_text(p->notes[i], sizeof p->notes[i] - 1) == NULL);
	}
	for (size_t i = 0; i < p->ndomains; i++) {
		char email[ACCT_EMAIL_MAX + 64];

		FUZZ_ASSERT(memchr(p->domains[i], '\0', sizeof p->domains[i]));
		FUZZ_ASSERT(valid_hostname(p->domains[i]) == NULL);
		FUZZ_ASSERT(strchr(p->domains[i], '.'));
		FUZZ_ASSERT(preset_match(&l, p->domains[i]) == p);
		str_printf(email, sizeof email, "user@%s", p->domains[i]);
		FUZZ_ASSERT(preset_match(&l, email) == p);
	}
	FUZZ_ASSERT(preset_find(&l, p->id) == p);

	/* Applied to an account with every other field valid, the preset
	 * gives a valid account. */
	account_init(&a);
	str_copy(a.email, sizeof a.email, "user@example.org");
	str_copy(a.username, sizeof a.username, "user");
	preset_apply(p, &a, 0);
	if (account_validate(&a, &err) != 0) {
		fprintf(stderr, "preset %s gives an invalid account: %s: %s\n",
		        p->id, err.field, err.msg);
		FUZZ_ASSERT(!"applied preset gives a valid account");
	}
	/* The user gave a port and a security of their own. */
	account_init(&a);
	str_copy(a.email, sizeof a.email, "user@example.org");
	str_copy(a.username, sizeof a.username, "user");
	a.smtp_port = 2525;
	a.smtp_security = SEC_SSL;
	a.imap_port = 1993;
	a.imap_security = SEC_STARTTLS;
	preset_apply(p, &a, PRESET_GIVEN_SMTP_PORT | PRESET_GIVEN_IMAP_SEC);
	FUZZ_ASSERT(a.smtp_port == 2525);
	FUZZ_ASSERT(p->nimap == 0 || a.imap_security == SEC_STARTTLS);
	FUZZ_ASSERT(account_validate(&a, NULL) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct preset p, q;
	char err[600], small[12];
	int rc;

	rc = preset_parse((const char *)data, size, "fuzz-hint", &p, err,
	                  sizeof err);
	if (rc != 0) {
		FUZZ_ASSERT(strncmp(err, "line ", 5) == 0);
		FUZZ_ASSERT(utf8_valid(err, strlen(err)));
		FUZZ_ASSERT(!fuzz_has_ctl(err, strlen(err), false));
	} else {
		check_accepted(&p);
	}
	/* The same verdict without an error buffer, or with a tiny one. */
	FUZZ_ASSERT(preset_parse((const char *)data, size, "fuzz-hint", &q,
	                         NULL, 0) == rc);
	FUZZ_ASSERT(preset_parse((const char *)data, size, "fuzz-hint", &q,
	                         small, sizeof small) == rc);
	FUZZ_ASSERT(memchr(small, '\0', sizeof small));
	if (rc == 0)
		FUZZ_ASSERT(memcmp(&p, &q, sizeof p) == 0);
	/* Without a hint the file must name itself. */
	if (preset_parse((const char *)data, size, NULL, &q, NULL, 0) == 0)
		FUZZ_ASSERT(rc == 0 && strcmp(p.id, q.id) == 0);
	return 0;
}
