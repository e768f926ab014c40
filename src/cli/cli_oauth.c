/* `account authorize`: signs an OAuth account in from a terminal that may
 * be an SSH session on a server without a browser. The device flow shows
 * an address and a code to enter on any device; the tokens are sealed in
 * the store and never shown. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "i18n.h"
#include "app.h"
#include "cli.h"
#include "cli_int.h"
#include "secmem.h"
#include "util.h"

int
cli_read_oauth_secret(int fd, char **out)
{
	*out = secmem_alloc(STORE_SECRET_MAX + 2);
	if (*out == NULL)
		return EX_OSERR;
	if (read_secret(fd, NULL, *out, STORE_SECRET_MAX + 2) < 0) {
		fprintf(stderr, _("fluenzr-tui: cannot read the OAuth client secret: %s\n"),
		        cli_secret_error(errno, "too long"));
		return EX_NOINPUT;
	}
	for (const char *p = *out; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return cli_bad_field("oauth-client-secret",
			                     "must be printable ASCII");
	return 0;
}

/* The code, large: spaced out between rules, so that it reads at a
 * glance across a room and survives a narrow terminal. */
static void
show_device(const struct oauth_device *d, void *ud)
{
	const char *email = ud;
	int64_t mins = (d->expires_at - (int64_t)time(NULL) + 59) / 60;

	printf(_("\nTo sign %s in, open this address in a browser on any device\n"
	       "(your laptop or phone; this server needs none):\n\n    %s\n\n"
	       "and enter the code:\n\n"), email, d->verification_uri);
	printf("    +");
	for (size_t i = 0; i < strlen(d->user_code) * 2 + 3; i++)
		putchar('-');
	printf("+\n    |  ");
	for (const char *p = d->user_code; *p; p++)
		printf("%c ", *p);
	printf(" |\n    +");
	for (size_t i = 0; i < strlen(d->user_code) * 2 + 3; i++)
		putchar('-');
	printf("+\n\n");
	printf(_("user code: %s\n"), d->user_code);
	if (d->verification_uri_complete[0])
		printf(_("or open, with the code filled in: %s\n"),
		       d->verification_uri_complete);
	printf(ngettext("Waiting for you to approve (the code expires in %lld minute; "
	       "Ctrl-C cancels)...\n", "Waiting for you to approve (the code expires in %lld minutes; "
	       "Ctrl-C cancels)...\n", mins > 0 ? (unsigned long)mins : 0), (long long)mins);
	fflush(stdout);
}

struct browser_ctx {
	unsigned port;
	bool paste;
};

/* The address to open, and how the browser gets back here. */
static void
show_url(const char *url, void *ud)
{
	const struct browser_ctx *b = ud;
	char tunnel[400];

	if (b->paste) {
		printf(_("\nOpen this address in a browser on any device:\n\n    %s\n\n"
		       "After you sign in, the browser goes to http://127.0.0.1:%u/ and\n"
		       "fails to load it: that is expected. Copy the whole address from\n"
		       "its address bar and paste it here, then press Enter:\n"),
		       url, b->port);
	} else {
		app_oauth_tunnel(b->port, tunnel, sizeof tunnel);
		printf(_("\nThe browser comes back to port %u of this server. On your laptop,\n"
		       "first open the tunnel (leave it running):\n\n"
		       "    %s\n\n"
		       "then open this address in the laptop's browser:\n\n    %s\n\n"
		       "Waiting for the browser (10 minutes; Ctrl-C cancels)...\n"),
		       b->port, tunnel, url);
	}
	fflush(stdout);
}

static int
read_paste(char *buf, size_t len, void *ud)
{
	(void)ud;
	/* Not echoed: the address holds a code that is worth a sign-in. */
	return read_secret(isatty(STDIN_FILENO) ? -1 : STDIN_FILENO,
	                   "Address: ", buf, len);
}

int
cli_account_authorize(struct cli_ctx *c, int argc, char **argv)
{
	const char *target = NULL, *flow = "device";
	struct browser_ctx b = { app_oauth_port(), false };
	char err[APP_ERR_MAX];
	struct diagnosis dg;
	struct account a;
	int i, rc, e;

	for (i = 2; i < argc; i++) {
		const char *v;
		bool m = false;

		rc = cli_global_option(c, argc, argv, &i);
		if (rc < 0)
			return EX_USAGE;
		if (rc > 0)
			continue;
		v = cli_opt_value(argc, argv, &i, "--flow", &m);
		if (m) {
			if (v == NULL)
				return EX_USAGE;
			flow = v;
			continue;
		}
		v = cli_opt_value(argc, argv, &i, "--port", &m);
		if (m) {
			char *end = NULL;
			unsigned long n = v ? strtoul(v, &end, 10) : 0;

			if (v == NULL || *end || n < 1024 || n > 65535) {
				fprintf(stderr, _("fluenzr-tui: invalid port: --port wants a "
				        "number from 1024 to 65535\n"));
				return EX_USAGE;
			}
			b.port = (unsigned)n;
			continue;
		}
		if (argv[i][0] == '-' || target) {
			fprintf(stderr, _("fluenzr-tui: unexpected argument '%s'\n"), argv[i]);
			return EX_USAGE;
		}
		target = argv[i];
	}
	if (target == NULL) {
		fprintf(stderr, _("fluenzr-tui: account authorize needs the account's "
		        "address\n"));
		return EX_USAGE;
	}
	if (strcmp(flow, "device") && strcmp(flow, "loopback") && strcmp(flow, "paste")) {
		fprintf(stderr, _("fluenzr-tui: --flow wants device, loopback or paste\n"));
		return EX_USAGE;
	}
	b.paste = strcmp(flow, "paste") == 0;
	if ((rc = cli_open_store(c, false, true)))
		return rc;
	e = store_account_get(c->st, target, &a);
	if (e != STORE_OK) {
		str_printf(err, sizeof err, _("no account %s"), target);
		return cli_store_fail(e, e == STORE_ENOENT ? err : NULL);
	}
	if (strcmp(flow, "device") != 0) {
		rc = app_oauth_browser(c->st, &a, b.port, b.paste, -1, show_url,
		                       read_paste, &b, &dg, err, sizeof err);
		if (rc != 0) {
			fprintf(stderr, "fluenzr-tui: %s\n", err);
			return rc;
		}
		printf(_("signed in: %s (tokens encrypted in the store)\n"), a.email);
		return 0;
	}
	rc = app_oauth_device(c->st, &a, -1, show_device, a.email, &dg, err,
	                      sizeof err);
	if (rc != 0) {
		fprintf(stderr, "fluenzr-tui: %s\n", err);
		return rc;
	}
	printf(_("signed in: %s (tokens encrypted in the store)\n"), a.email);
	return 0;
}
