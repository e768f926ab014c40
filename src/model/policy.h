/* The rules and words the commands, the console and the store must agree
 * on, written once: what a store passphrase must be, and how a security
 * mode is spelled in each output. */
#ifndef FLUENZR_POLICY_H
#define FLUENZR_POLICY_H

#include "account.h"

#define POLICY_PASSPHRASE_MIN 8         /* bytes */
#define POLICY_PASSPHRASE_MAX 1023      /* bytes, as read into 1024 */

/* Why p cannot be a new store passphrase, as a phrase that follows
 * "invalid passphrase: " ("use at least 8 characters"), or NULL if it can.
 * store_set_passphrase() refuses what this refuses. */
const char *policy_passphrase(const char *p);

/* The spellings of a security mode, one per kind of output. */
enum security_spelling {
	SPELL_NAME,     /* the commands, JSON, presets: "starttls" */
	SPELL_LABEL,    /* the console's panels: "TLS (STARTTLS)" */
	SPELL_SHORT,    /* the console's account list: "TLS" */
	SPELL_CHOICE,   /* the console's form: "SSL (implicit TLS)" */
};

/* s as spelled for sp; "unknown" for a value that is no mode. */
const char *security_spell(enum security s, enum security_spelling sp);

#endif
