/* fluenzr-tui: with no command, the full-screen console; otherwise one of the
 * scriptable commands. Global options come before the command (they are also
 * accepted after it). */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "cli.h"
#include "console.h"
#include "i18n.h"
#include "out.h"
#include "secmem.h"

static void
warn_unlocked(void)
{
	fputs("fluenzr-tui: " SECMEM_UNLOCKED_MSG "\n", stderr);
}

static void
usage(FILE *f)
{
	/* TRANSLATORS: command names, option names and their arguments in
	 * capitals (ACCOUNT, FILE...) are typed as shown: keep them; translate
	 * only the descriptions, keeping the columns aligned. */
	fputs(_("Usage: fluenzr-tui [GLOBAL OPTIONS] [COMMAND ...]\n"
	      "Set up and diagnose the mail accounts a sending system uses.\n"
	      "With no command, the full-screen console starts.\n"
	      "\n"
	      "Commands:\n"
	      "  account add|list|show|edit|remove   manage sending accounts\n"
	      "  account import FILE | export        many accounts as CSV\n"
	      "  account limits ACCOUNT              its sending limits\n"
	      "  account authorize ACCOUNT [--flow device|loopback|paste]\n"
	      "                                      sign an OAuth account in\n"
	      "  test ACCOUNT | test --all           sign in, send a test email, diagnose\n"
	      "  check --all [--changed] [--json]    check every account, keep its history\n"
	      "  send --account ACCOUNT [-t] [-f ADDR] [-F NAME] [-i] [--batch] [RCPT...]\n"
	      "                                      send stdin through an account (sendmail flags)\n"
	      "  explain [--step STEP] [--imap] [--preset ID] [--account A] [--json]\n"
	      "          ['REPLY' | -]               diagnose a server's reply from a log\n"
	      "  presets [--json] [--domain DOMAIN]  provider presets\n"
	      "  discover ADDRESS [--json] [--timeout S] [--allow-http] [--ca-file F]\n"
	      "           [--guess-ports SSL,STARTTLS[,IMAPS,IMAP]] [--no-guess]\n"
	      "                                      find the settings of an address\n"
	      "  domain DOMAIN|ACCOUNT [--json] [--selector S] [--sender-ip IP]\n"
	      "         [--blocklists] [--blocklist-zones Z,...] [--preset ID] [--timeout S]\n"
	      "                                      check a sending domain's SPF, DKIM, DMARC\n"
	      "  store status|check|passphrase|rotate\n"
	      "  store export --sealed FILE | import FILE\n"
	      "\n"
	      "Global options:\n"
	      "  --store DIR          account store (default ~/.local/share/fluenzr)\n"
	      "  --key-file FILE      store key (default ~/.config/fluenzr/store.key)\n"
	      "  --passphrase-fd N    read the store passphrase from file descriptor N\n"
	      "  --help, --version\n"
	      "\n"
	      "See fluenzr-tui(1) for every option and exit status.\n"), f);
}

int
main(int argc, char **argv)
{
	struct cli_ctx c;
	const char *cmd;
	int i, rc;

	secmem_harden_process();
	secmem_on_unlocked(warn_unlocked);
	umask(077);
	setlocale(LC_ALL, "");
#if ENABLE_NLS
	/* the catalogs where `make install` puts them: the console and the
	 * commands share this one binding */
	bindtextdomain(PACKAGE, LOCALEDIR);
	textdomain(PACKAGE);
#endif
	out_init();

	memset(&c, 0, sizeof c);
	c.passphrase_fd = -1;
	c.store_dir = getenv("FLUENZR_STORE");
	c.key_file = getenv("FLUENZR_KEY_FILE");
	if (c.store_dir && !*c.store_dir)
		c.store_dir = NULL;
	if (c.key_file && !*c.key_file)
		c.key_file = NULL;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
			printf("fluenzr-tui %s\n", PACKAGE_VERSION);
			return 0;
		}
		rc = cli_global_option(&c, argc, argv, &i);
		if (rc < 0)
			return EX_USAGE;
		if (rc > 0)
			continue;
		if (a[0] == '-') {
			fprintf(stderr, _("fluenzr-tui: unknown option '%s' (see --help)\n"), a);
			return EX_USAGE;
		}
		break;
	}

	if (i >= argc) {
		/* curses writes to the terminal itself, through the real stdout */
		out_restore();
		rc = tui_main(&c);
	} else {
		cmd = argv[i];
		argc -= i;
		argv += i;
		if (strcmp(cmd, "account") == 0)
			rc = cmd_account(&c, argc, argv);
		else if (strcmp(cmd, "test") == 0)
			rc = cmd_test(&c, argc, argv);
		else if (strcmp(cmd, "check") == 0)
			rc = cmd_check(&c, argc, argv);
		else if (strcmp(cmd, "send") == 0)
			rc = cmd_send(&c, argc, argv);
		else if (strcmp(cmd, "explain") == 0)
			rc = cmd_explain(&c, argc, argv);
		else if (strcmp(cmd, "presets") == 0)
			rc = cmd_presets(&c, argc, argv);
		else if (strcmp(cmd, "discover") == 0)
			rc = cmd_discover(&c, argc, argv);
		else if (strcmp(cmd, "domain") == 0)
			rc = cmd_domain(&c, argc, argv);
		else if (strcmp(cmd, "store") == 0)
			rc = cmd_store(&c, argc, argv);
		else if (strcmp(cmd, "keys") == 0 && argc == 2 &&
		         strcmp(argv[1], "--man") == 0) {
			/* undocumented: regenerates the manual's KEYS section */
			tui_keys_print_man(stdout);
			rc = 0;
		} else if (strcmp(cmd, "help") == 0) {
			usage(stdout);
			rc = 0;
		} else {
			fprintf(stderr, _("fluenzr-tui: unknown command '%s' (see --help)\n"), cmd);
			rc = EX_USAGE;
		}
	}
	cli_close(&c);
	return rc;
}
