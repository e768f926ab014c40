/* What the placement of a delivered test message tells: Junk, no copy in
 * Sent, a signature not of the From's domain, a receiving server whose
 * checks did not pass. Findings beside a passed test, with their fixes. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag.h"
#include "i18n.h"
#include "util.h"

static const char *const finding_names[] = {
	"landed_in_junk", "not_found", "no_sent_copy", "dkim_not_aligned",
	"auth_not_passed", "dkim_failed",
};

const char *
diag_finding_name(size_t i)
{
	return i < sizeof finding_names / sizeof finding_names[0] ?
	       finding_names[i] : NULL;
}

static struct diag_finding *
finding(struct diag_finding *out, size_t max, size_t *n, const char *reason)
{
	struct diag_finding *f;

	if (*n >= max)
		return NULL;
	f = &out[(*n)++];
	memset(f, 0, sizeof *f);
	str_copy(f->reason, sizeof f->reason, reason);
	return f;
}

static void
fix(struct diag_finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fix(struct diag_finding *f, const char *fmt, ...)
{
	va_list ap;

	if (!f || f->nfixes >= DIAG_MAX_FIXES)
		return;
	va_start(ap, fmt);
	vsnprintf(f->fixes[f->nfixes++], sizeof f->fixes[0], fmt, ap);
	va_end(ap);
}

static bool
passed(const char *v)
{
	return v && strcmp(v, "pass") == 0;
}

static bool
said(const char *v)
{
	return v && v[0];
}

/* "spf=fail, dmarc=none" of the verdicts that are not pass, or "". */
static void
not_passed(const struct diag_place_input *in, char *out, size_t len)
{
	const char *names[3] = { "spf", "dkim", "dmarc" };
	const char *v[3] = { in->spf, in->dkim, in->dmarc };
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < 3; i++)
		if (said(v[i]) && !passed(v[i]) && o < len)
			o += (size_t)snprintf(out + o, len - o, "%s%s=%s", o ? ", " : "",
			                      names[i], v[i]);
}

size_t
diag_placement(const struct diag_place_input *in, struct diag_finding *out,
               size_t max)
{
	struct diag_finding *f;
	char bad[96];
	size_t n = 0;

	not_passed(in, bad, sizeof bad);
	if (in->landed == DIAG_LANDED_JUNK) {
		f = finding(out, max, &n, "landed_in_junk");
		if (f)
			str_printf(f->title, sizeof f->title,
			           _("The test email landed in Junk (%s), not in INBOX"),
			           in->junk_folder && in->junk_folder[0] ?
			           in->junk_folder : "Junk");
		if (bad[0])
			fix(f, _("The receiving server's own checks did not pass (%s): "
			    "fix those first, they weigh the most."), bad);
		fix(f, _("Authenticate your sending domain: publish an SPF record "
		    "naming the provider, sign with DKIM for your own domain and "
		    "publish DMARC, all aligned with the From address."));
		fix(f, _("Open the test email in %s and mark it as not spam: the "
		    "provider learns from it."), in->junk_folder && in->junk_folder[0] ?
		    in->junk_folder : "Junk");
		fix(f, _("Warm up a new address or domain: a few emails a day to "
		    "people who answer, more each week, rather than a campaign "
		    "on the first day."));
		fix(f, _("Avoid what filters dislike in a first email: link "
		    "shorteners, many links or images, attachments, a subject in "
		    "capitals."));
		fix(f, _("Send through the provider's own SMTP server with an address "
		    "of your domain; sending in the name of another domain fails "
		    "the checks."));
	} else if (in->landed == DIAG_LANDED_NOT_FOUND) {
		f = finding(out, max, &n, "not_found");
		if (f)
			str_printf(f->title, sizeof f->title,
			           _("The test email was found neither in INBOX nor in "
			           "Junk within %d s"), in->wait_s);
		fix(f, _("Delivery can be slow at first: test again with a longer "
		    "--reply-wait."));
		fix(f, _("Look for the test email in your other folders and in the "
		    "provider's quarantine, if it has one: a filter rule may move it."));
		fix(f, _("Check that the IMAP account is the mailbox of the sending "
		    "address: the test email goes to your own address."));
	}
	if (in->landed >= DIAG_LANDED_INBOX && in->sent_copy == 0) {
		f = finding(out, max, &n, "no_sent_copy");
		if (f)
			str_copy(f->title, sizeof f->title,
			         _("The provider keeps no copy in Sent of emails sent "
			         "over SMTP"));
		fix(f, _("A reply detector that threads replies on Sent sees none of "
		    "the emails the app sends: have the app save a copy in Sent "
		    "over IMAP (APPEND) after each send, or thread on INBOX and the "
		    "Message-IDs it keeps itself."));
	}
	if (in->sig_d && in->sig_d[0] && in->aligned_relaxed == 0) {
		f = finding(out, max, &n, "dkim_not_aligned");
		if (f)
			str_printf(f->title, sizeof f->title,
			           _("The DKIM signature is not of your From domain "
			           "(d=%s, From %s)"), in->sig_d,
			           in->from_domain ? in->from_domain : "");
		fix(f, _("Set up DKIM signing for your own domain at the provider: it "
		    "gives you a selector and a TXT record to publish under "
		    "_domainkey. Gmail, Yahoo and Outlook.com want bulk senders' "
		    "signatures aligned with the From."));
	}
	if (in->dkim_verified == 2) {
		f = finding(out, max, &n, "dkim_failed");
		if (f)
			str_printf(f->title, sizeof f->title,
			           _("The DKIM signature (d=%s) does not verify: %s"),
			           in->sig_d && in->sig_d[0] ? in->sig_d : "?",
			           in->dkim_why && in->dkim_why[0] ? in->dkim_why : _("it failed"));
		fix(f, _("Publish the key your provider gives for this selector "
		    "exactly as given, as one TXT record under "
		    "SELECTOR._domainkey.DOMAIN, and remove an old one: a "
		    "signature whose key does not match counts as no signature."));
		fix(f, _("If the provider rotated its key, copy the new one from its "
		    "DKIM settings; DNS can take up to a day to show it everywhere."));
	}
	if (bad[0] && in->landed != DIAG_LANDED_JUNK) {
		f = finding(out, max, &n, "auth_not_passed");
		if (f)
			str_printf(f->title, sizeof f->title,
			           _("The receiving server's checks did not all pass (%s)"),
			           bad);
		fix(f, _("Publish what is missing for your sending domain (SPF, DKIM, "
		    "DMARC) and keep it aligned with the From: a message that "
		    "fails them lands in Junk or is refused by large providers."));
	}
	return n;
}

static const char *
find_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	return NULL;
}

bool
diag_conn_limit(const char *said_text, char *out, size_t outlen)
{
	static const char *const phrases[] = {
		"mail_max_userip_connections",        /* Dovecot */
		"too many simultaneous connections",  /* Gmail */
		"maximum number of connections",      /* Dovecot, older words */
		"too many connections",
		"connection limit",
	};
	const char *p = NULL, *num;
	char w[200];

	out[0] = '\0';
	if (!said_text)
		return false;
	for (size_t i = 0; !p && i < sizeof phrases / sizeof phrases[0]; i++)
		p = find_ci(said_text, phrases[i]);
	if (!p)
		return false;
	str_sanitize(w, sizeof w, said_text, strlen(said_text));
	/* Dovecot names the setting and its value. */
	num = find_ci(said_text, "mail_max_userip_connections=");
	if (num && isdigit((unsigned char)num[28])) {
		long v = strtol(num + 28, NULL, 10);

		str_printf(out, outlen, _("%ld per user and address (the server said: %s)"),
		           v, w);
	} else {
		str_printf(out, outlen, _("the server said: %s"), w);
	}
	return true;
}
