/* `fluenzr-tui explain`: the diagnosis of a reply a sending system logged,
 * without a test. The reply is read as a log shows it (diag.c parses the
 * codes), classified by the same rules with the same preset hints as a
 * test's failure, and printed as `test` prints one (or as its JSON). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "i18n.h"
#include "cli.h"
#include "cli_int.h"
#include "diag.h"
#include "util.h"

/* More than any reply worth reading: a log line pasted by mistake is
 * refused rather than cut silently. */
#define EXPLAIN_MAX (16 * 1024)

struct explain_opts {
	const char *step;
	const char *preset;
	const char *account;
	const char *reply;
	bool imap, json;
};

static int
explain_usage(const char *why)
{
	fprintf(stderr, _("fluenzr-tui explain: %s\n"
	        "usage: fluenzr-tui explain [--step STEP] [--imap] [--preset ID] "
	        "[--account ACCOUNT] [--json] ['REPLY' | -]\n"), why);
	return EX_USAGE;
}

static int
parse_explain(struct cli_ctx *c, int argc, char **argv, struct explain_opts *o)
{
	bool m;
	int i, r;

	memset(o, 0, sizeof *o);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v;

		r = cli_global_option(c, argc, argv, &i);
		if (r < 0)
			return EX_USAGE;
		if (r > 0)
			continue;
		if ((v = cli_opt_value(argc, argv, &i, "--step", &m)) || m) {
			if (!v)
				return EX_USAGE;
			o->step = v;
		} else if ((v = cli_opt_value(argc, argv, &i, "--preset", &m)) || m) {
			if (!v)
				return EX_USAGE;
			o->preset = v;
		} else if ((v = cli_opt_value(argc, argv, &i, "--account", &m)) || m) {
			if (!v)
				return EX_USAGE;
			o->account = v;
		} else if (strcmp(a, "--imap") == 0) {
			o->imap = true;
		} else if (strcmp(a, "--json") == 0) {
			o->json = true;
			i18n_for_programs();
		} else if (a[0] == '-' && a[1] != '\0') {
			char msg[256];

			str_printf(msg, sizeof msg, _("unknown option '%s'"), a);
			return explain_usage(msg);
		} else if (!o->reply) {
			o->reply = a;
		} else {
			return explain_usage(_("one reply at a time (quote a reply "
			                     "with blanks, or give it on stdin)"));
		}
	}
	return 0;
}

/* The reply on stdin, whole; NULL with a message and the exit status in
 * *rc (EX_DATAERR for a reply that is no text, EX_IOERR, EX_OSERR). */
static char *
read_stdin(int *rc)
{
	size_t n = 0, cap = 4096;
	char *buf = malloc(cap + 1);
	ssize_t k;

	*rc = EX_OSERR;
	if (!buf) {
		fprintf(stderr, _("fluenzr-tui explain: out of memory\n"));
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			char *b;

			if (cap >= EXPLAIN_MAX) {
				fprintf(stderr, _("fluenzr-tui explain: the reply is longer "
				        "than %d bytes\n"), EXPLAIN_MAX);
				*rc = EX_DATAERR;
				free(buf);
				return NULL;
			}
			cap *= 2;
			b = realloc(buf, cap + 1);
			if (!b) {
				free(buf);
				fprintf(stderr, _("fluenzr-tui explain: out of memory\n"));
				return NULL;
			}
			buf = b;
		}
		k = read(STDIN_FILENO, buf + n, cap - n);
		if (k < 0) {
			perror("fluenzr-tui explain: stdin");
			*rc = EX_IOERR;
			free(buf);
			return NULL;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	if (strlen(buf) != n) {
		fprintf(stderr, _("fluenzr-tui explain: the reply contains a NUL "
		        "byte\n"));
		*rc = EX_DATAERR;
		free(buf);
		return NULL;
	}
	return buf;
}

/* The stage a reply failed at: --step, else what its code says. */
static int
pick_stage(const struct explain_opts *o, const struct diag_evidence *ev)
{
	static const char *const smtp_ok[] = { "greeting", "ehlo", "starttls",
		"auth", "mail", "rcpt", "data", "quit", NULL };
	static const char *const imap_ok[] = { "greeting", "starttls",
		"imap_login", "imap_select", "imap_search", NULL };
	const char *const *ok = o->imap ? imap_ok : smtp_ok;
	char name[32];
	size_t i;

	if (!o->step) {
		if (o->imap)
			return STAGE_IMAP_LOGIN;
		switch (ev->reply_code) {
		case 534: case 535: case 538:
			return STAGE_AUTH;
		default:
			return STAGE_MAIL;
		}
	}
	/* With --imap, login, select and search name the IMAP steps. */
	str_printf(name, sizeof name, "%s%s",
	           o->imap && (!strcmp(o->step, "login") ||
	                       !strcmp(o->step, "select") ||
	                       !strcmp(o->step, "search")) ? "imap_" : "",
	           o->step);
	for (i = 0; ok[i]; i++)
		if (strcmp(ok[i], name) == 0)
			return diag_stage_from_name(name);
	return -1;
}

int
cmd_explain(struct cli_ctx *c, int argc, char **argv)
{
	struct explain_opts o;
	struct diag_evidence ev;
	struct diag_input in;
	struct diagnosis d;
	struct account a;
	const struct preset *p = NULL;
	const char *preset_id;
	char *text = NULL;
	int rc, stage, e;

	if ((rc = parse_explain(c, argc, argv, &o)) != 0)
		return rc;
	if (!o.reply || strcmp(o.reply, "-") == 0) {
		if (!o.reply && isatty(STDIN_FILENO))
			return explain_usage(_("give the server's reply as an argument "
			                     "or on stdin"));
		if (!(text = read_stdin(&rc)))
			return rc;
	} else if (strlen(o.reply) > EXPLAIN_MAX) {
		return explain_usage(_("the reply is too long"));
	}
	memset(&a, 0, sizeof a);
	if (o.account) {
		if ((rc = cli_open_store(c, false, true)) != 0)
			goto out;
		e = store_account_get(c->st, o.account, &a);
		if (e == STORE_ENOENT) {
			fprintf(stderr, _("fluenzr-tui: no account '%s' (see: "
			        "fluenzr-tui account list)\n"), o.account);
			rc = EX_NOINPUT;
			goto out;
		}
		if (e != STORE_OK) {
			fprintf(stderr, _("fluenzr-tui: %s: %s\n"), o.account,
			        store_strerror(e));
			rc = cli_store_exit(e);
			goto out;
		}
	}
	preset_id = o.preset ? o.preset : a.preset[0] ? a.preset : NULL;
	if (preset_id) {
		cli_load_presets(c);
		p = preset_find(&c->presets, preset_id);
		if (!p && o.preset) {
			fprintf(stderr, _("fluenzr-tui explain: no preset '%s' (see: "
			        "fluenzr-tui presets)\n"), o.preset);
			rc = EX_USAGE;
			goto out;
		}
	}
	if (diag_evidence_from_reply(&ev, o.imap, STAGE_NONE,
	                             text ? text : o.reply) < 0) {
		rc = explain_usage(_("the reply is empty"));
		goto out;
	}
	if ((stage = pick_stage(&o, &ev)) < 0) {
		rc = explain_usage(o.imap ? _("--step is one of greeting, starttls, "
		                   "login, select, search (with --imap)") :
		                   _("--step is one of greeting, ehlo, starttls, auth, "
		                   "mail, rcpt, data, quit"));
		goto out;
	}
	ev.stage = (enum diag_stage)stage;
	/* The server the reply came from, as far as we know it. */
	if (o.account) {
		str_copy(ev.host, sizeof ev.host, o.imap ? a.imap_host : a.smtp_host);
		ev.port = o.imap ? a.imap_port : a.smtp_port;
		ev.security = o.imap ? a.imap_security : a.smtp_security;
	} else if (p && (o.imap ? p->nimap : p->nsmtp) > 0) {
		const struct preset_server *s = o.imap ? &p->imap[0] : &p->smtp[0];

		str_copy(ev.host, sizeof ev.host, s->host);
		ev.port = s->port;
		ev.security = s->security;
	} else {
		ev.security = SEC_STARTTLS;
	}
	diag_input_init(&in, &ev, o.account ? &a : NULL, p);
	diag_classify(&in, &d);
	if (o.json) {
		struct json j;

		json_init(&j, stdout, true);
		json_obj_begin(&j);
		json_key(&j, "account");
		o.account ? json_str(&j, a.email) : json_null(&j);
		json_key(&j, "ok"); json_bool(&j, false);
		json_key(&j, "category"); json_str(&j, diag_cat_name(d.cat));
		json_key(&j, "diagnosis");
		cli_json_diagnosis(&j, &d);
		json_obj_end(&j);
		json_end(&j);
	} else {
		cli_print_diagnosis(stdout, &d);
	}
	fflush(stdout);
	rc = diag_exit_code(d.cat);
out:
	free(text);
	return rc;
}
