/* The config-v1.1 parser (src/discover/autoconfig.c): a good document with
 * its placeholders, unencrypted servers left out, and every hostile shape
 * refused (DOCTYPE, entities, depth, size, overlong values, no SMTP); and
 * every file of the shipped ISPDB parses. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoconfig.h"
#include "unit.h"
#include "util.h"

#define HEAD "<?xml version=\"1.0\"?><clientConfig version=\"1.1\"><emailProvider id=\"ex.test\">"
#define TAIL "</emailProvider></clientConfig>"
#define SMTP "<outgoingServer type=\"smtp\"><hostname>smtp.ex.test</hostname>" \
	"<port>587</port><socketType>STARTTLS</socketType></outgoingServer>"

static int
parse(const char *doc, struct ac_config *c, char *why)
{
	return autoconfig_parse(doc, strlen(doc), "Jean.D@ex.test", c, why, 256);
}

static void
bad(const char *what, const char *doc, const char *want)
{
	struct ac_config c;
	char why[256];
	int rc = parse(doc, &c, why);

	check(rc < 0 && strstr(why, want), "%s refused (%s)", what, rc < 0 ? why : "accepted");
}

int
main(void)
{
	struct ac_config c;
	char why[256];
	const char *good = HEAD "<domain>ex.test</domain><domain>EX2.test</domain>"
		"<displayName>Ex Mail</displayName>"
		"<incomingServer type=\"pop3\"><hostname>pop.ex.test</hostname><port>995</port>"
		"<socketType>SSL</socketType></incomingServer>"
		"<incomingServer type=\"imap\"><hostname> imap.%EMAILDOMAIN% </hostname>"
		"<port>993</port><socketType>SSL</socketType><username>%EMAILLOCALPART%</username>"
		"</incomingServer>"
		"<outgoingServer type=\"smtp\"><hostname>plain.ex.test</hostname><port>25</port>"
		"<socketType>plain</socketType></outgoingServer>"
		"<outgoingServer type=\"smtp\"><hostname>smtp.ex.test</hostname><port>465</port>"
		"<socketType>SSL</socketType><username>%EMAILADDRESS%</username></outgoingServer>"
		TAIL;

	check(parse(good, &c, why) == 0, "a good document parses (%s)", why);
	check(c.nsmtp == 1 && !strcmp(c.smtp[0].host, "smtp.ex.test") && c.smtp[0].port == 465 &&
	      c.smtp[0].security == SEC_SSL, "its SMTP server, the unencrypted one left out");
	check(c.skipped_plain == 1, "the unencrypted server is counted");
	check(!strcmp(c.smtp[0].username, "Jean.D@ex.test"), "%%EMAILADDRESS%% replaced");
	check(c.nimap == 1 && !strcmp(c.imap[0].host, "imap.ex.test") &&
	      !strcmp(c.imap[0].username, "Jean.D"), "%%EMAILDOMAIN%%, %%EMAILLOCALPART%%, blanks trimmed");
	check(c.ndomains == 2 && !strcmp(c.name, "Ex Mail"), "domains and name kept");
	bad("a control character", HEAD "<displayName>a\x1b[2J</displayName>" SMTP TAIL, "malformed XML");

	bad("a DOCTYPE", "<?xml version=\"1.0\"?><!DOCTYPE x><clientConfig/>", "DOCTYPE");
	bad("an internal entity",
	    "<?xml version=\"1.0\"?><!DOCTYPE c [<!ENTITY a \"b\">]><clientConfig>&a;</clientConfig>",
	    "DOCTYPE");
	bad("another root", "<html><body/></html>", "not a clientConfig");
	bad("malformed XML", HEAD SMTP "</clientConfig>", "malformed XML at line 1");
	bad("no SMTP server", HEAD TAIL, "no usable SMTP server");
	bad("only plain SMTP", HEAD "<outgoingServer type=\"smtp\"><hostname>s.ex.test</hostname>"
	    "<port>25</port><socketType>plain</socketType></outgoingServer>" TAIL, "only unencrypted");
	bad("a bad host name", HEAD "<outgoingServer type=\"smtp\"><hostname>s ex;rm</hostname>"
	    "<port>587</port><socketType>STARTTLS</socketType></outgoingServer>" TAIL, "no usable SMTP");
	bad("a bad port", HEAD "<outgoingServer type=\"smtp\"><hostname>s.ex.test</hostname>"
	    "<port>99999</port><socketType>STARTTLS</socketType></outgoingServer>" TAIL, "no usable SMTP");

	/* Deep nesting, many elements, an overlong value, a huge document. */
	size_t n = 64 * 1024;
	char *doc = malloc(AC_DOC_MAX + 64);
	if (!doc)
		return 99;
	strcpy(doc, "<clientConfig>");
	for (int i = 0; i < 40; i++)
		strcat(doc, "<a>");
	bad("nesting 40 deep", doc, "nests too deep");
	str_copy(doc, n, "<clientConfig>");
	for (size_t l = strlen(doc); l + 8 < n - 32; l += 4)
		memcpy(doc + l, "<b/>", 5);
	strcat(doc, "</clientConfig>");
	bad("thousands of elements", doc, "too many elements");
	str_printf(doc, n, HEAD "<outgoingServer type=\"smtp\"><hostname>%0600d.ex.test</hostname>"
	           "<port>587</port><socketType>STARTTLS</socketType></outgoingServer>" TAIL, 1);
	bad("an overlong host", doc, "no usable SMTP");
	memset(doc, ' ', AC_DOC_MAX + 1);
	doc[AC_DOC_MAX + 1] = '\0';
	bad("a document over 256 KiB", doc, "larger than 256 KiB");
	free(doc);

	/* The shipped ISPDB, each file unmodified, through the same parser. */
	char dir[1024], path[1400];
	const char *src = getenv("top_srcdir");
	str_printf(dir, sizeof dir, "%s/ispdb/data", src ? src : ".");
	DIR *d = opendir(dir);
	unsigned files = 0, parsed = 0, plain_only = 0;
	struct dirent *e;
	check(d != NULL, "the ISPDB directory %s opens", dir);
	while (d && (e = readdir(d))) {
		size_t len;
		if (!strstr(e->d_name, ".xml"))
			continue;
		files++;
		str_printf(path, sizeof path, "%s/%s", dir, e->d_name);
		uint8_t *text = slurp(path, &len);
		if (text && autoconfig_parse((char *)text, len, "u@example.org", &c, why,
		                             sizeof why) == 0 && c.ndomains > 0)
			parsed++;
		else if (text && strstr(why, "only unencrypted"))
			plain_only++;   /* a provider with no TLS: rightly not offered */
		else
			printf("# %s: %s\n", e->d_name, why);
		free(text);
	}
	if (d)
		closedir(d);
	check(files > 100 && parsed + plain_only == files,
	      "every ISPDB file parses (%u, and %u with only unencrypted servers, of %u)",
	      parsed, plain_only, files);
	return unit_done();
}
