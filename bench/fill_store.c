/* Fills a store with N generated accounts, for the benchmarks: the CLI would
 * pay a process start and a key unwrap per account. Passwords are sealed like
 * the CLI's, so the store is what a real one of that size is. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "store.h"
#include "util.h"

int
main(int argc, char **argv)
{
	struct store_opts o = { 0 };
	struct store *st;
	struct account a;
	char err[512] = "", pw[64];
	long n, i;
	int e;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: fill_store STORE KEYFILE N [HOST:PORT]\n");
		return 64;
	}
	o.dir = argv[1];
	o.key_file = argv[2];
	o.create = true;
	n = strtol(argv[3], NULL, 10);
	if ((e = store_open(&o, &st, err, sizeof err)) != STORE_OK ||
	    (e = store_unlock(st, NULL, err, sizeof err)) != STORE_OK) {
		fprintf(stderr, "fill_store: %s\n", err[0] ? err : store_strerror(e));
		return 1;
	}
	for (i = 1; i <= n; i++) {
		account_init(&a);
		str_printf(a.email, sizeof a.email, "sender%05ld@bench%ld.example.org", i, i % 97);
		str_printf(a.display_name, sizeof a.display_name, "Sender %ld", i);
		str_copy(a.smtp_host, sizeof a.smtp_host, "smtp.example.org");
		a.smtp_port = 587;
		if (argc == 5) {
			char *colon = strrchr(argv[4], ':');

			if (colon) {
				*colon = '\0';
				str_copy(a.smtp_host, sizeof a.smtp_host, argv[4]);
				a.smtp_port = (unsigned)atoi(colon + 1);
				*colon = ':';
			}
		}
		str_copy(a.username, sizeof a.username, a.email);
		if (i % 3 == 0) {
			str_copy(a.imap_host, sizeof a.imap_host, "imap.example.org");
			a.imap_port = 993;
			a.imap_security = SEC_SSL;
		}
		str_printf(pw, sizeof pw, "bench-password-%ld", i);
		if ((e = store_account_add(st, &a, pw, NULL, err, sizeof err)) != STORE_OK) {
			fprintf(stderr, "fill_store: %s: %s\n", a.email, err[0] ? err : store_strerror(e));
			store_close(st);
			return 1;
		}
	}
	store_close(st);
	return 0;
}
