/* `fluenzr-tui send`: the sending system's door. A message on stdin (or,
 * with --batch, an mbox of them) goes out through a stored account, with
 * its stored password (never shown, never in argv), over the same
 * connection, TLS checks and AUTH as `test` (probe_send()), one
 * connection for the whole batch. Its flags are sendmail's where a
 * sending system passes them (-t, -f, -F, -i, -oi); on failure it gives
 * the diagnosis `test` would give, and a sysexits status. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "i18n.h"
#include "account.h"
#include "app.h"
#include "cli.h"
#include "cli_int.h"
#include "diag.h"
#include "json.h"
#include "probe.h"
#include "store.h"
#include "util.h"

struct send_opts {
	const char *account;
	const char *from;          /* -f: the envelope sender; NULL: the account's */
	const char *name;          /* -F: the name of an added From: */
	bool rcpt_headers;         /* -t */
	bool batch, json, verbose;
	int wait_max;              /* --wait: seconds it may wait; -1 refuse */
	char **rcpt;               /* the arguments' recipients */
	size_t nrcpt;
	struct probe_opts po;
};

/* What one message became. */
struct sent_msg {
	bool ok;
	bool tried;                /* handed to the server */
	int64_t retry_after;       /* held back by a limit: when it may go */
	int code;
	char reply[512];           /* the server's words or ours */
};

struct sender {
	const struct send_opts *o;
	const struct account *a;
	const char *env_from;
	FILE *in;
	/* The mbox reader (--batch). */
	char *line;
	size_t linecap;
	bool pending;              /* line holds the next message's From_ line */
	bool eof;
	/* The message under way. */
	char *raw;
	size_t rawlen, rawcap;
	bool too_big;
	bool ready;                /* one message: cur is made ready, not sent */
	bool read_failed;
	struct outgoing cur;
	/* Every message so far. */
	struct sent_msg *msgs;
	size_t nmsgs, cap;
	bool oom;
	/* Limits (app_limits.c): the account's, and its pause. */
	struct store *st;
	struct app_limits lim;
	int64_t paused_until;
	bool limited;              /* a message was held back */
};

static volatile sig_atomic_t sig_stop;

static struct probe *volatile sig_probe;

static void
on_signal(int sig)
{
	(void)sig;
	sig_stop = 1;
	if (sig_probe)
		probe_cancel(sig_probe);
}

static int
usage_error(const char *msg)
{
	fprintf(stderr, _("fluenzr-tui send: %s\n"), msg);
	fputs(_("Usage: fluenzr-tui send --account ACCOUNT [-t] [-f ADDRESS] [-F NAME]"
	      " [-i | -oi] [--batch] [--wait[=S]] [--json] [-v] [--timeout S] [--]"
	      " [RECIPIENT...]\n"),
	      stderr);
	return EX_USAGE;
}

static int
parse_args(struct cli_ctx *c, int argc, char **argv, struct send_opts *o)
{
	bool ended = false;
	int i, r;

	memset(o, 0, sizeof(*o));
	o->wait_max = -1;
	probe_opts_default(&o->po);
	o->rcpt = calloc((size_t)argc, sizeof(*o->rcpt));
	if (!o->rcpt)
		return EX_OSERR;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool m;

		if (!ended && a[0] == '-') {
			const char *v;

			r = cli_global_option(c, argc, argv, &i);
			if (r < 0)
				return EX_USAGE;
			if (r > 0)
				continue;
			v = cli_opt_value(argc, argv, &i, "--account", &m);
			if (m) {
				if (!v)
					return EX_USAGE;
				o->account = v;
				continue;
			}
			v = cli_opt_value(argc, argv, &i, "--timeout", &m);
			if (m) {
				char *end;
				long n;

				if (!v)
					return EX_USAGE;
				errno = 0;
				n = strtol(v, &end, 10);
				if (errno || end == v || *end || n < 1 || n > 600)
					return usage_error(_("--timeout wants a number from 1 to 600"));
				o->po.timeout_s = (int)n;
				continue;
			}
			if (strcmp(a, "--wait") == 0 || strncmp(a, "--wait=", 7) == 0) {
				char *end;
				long n = 3600;

				if (a[6] == '=') {
					n = strtol(a + 7, &end, 10);
					if (*end || end == a + 7 || n < 0 || n > 86400)
						return usage_error(_("--wait= wants seconds from 0 to 86400"));
				}
				o->wait_max = (int)n;
				continue;
			}
			if (strcmp(a, "--") == 0) {
				ended = true;
			} else if (strcmp(a, "-t") == 0) {
				o->rcpt_headers = true;
			} else if (strcmp(a, "-i") == 0 || strcmp(a, "-oi") == 0 ||
			           strcmp(a, "-odi") == 0 || strcmp(a, "-oem") == 0) {
				/* The message always ends at the end of input: a lone
				 * dot is a line like another. */
			} else if (strncmp(a, "-f", 2) == 0 || strncmp(a, "-F", 2) == 0) {
				const char *val = a[2] ? a + 2 : i + 1 < argc ? argv[++i] : NULL;

				if (!val)
					return usage_error(a[1] == 'f' ? _("-f needs an address") :
					                   _("-F needs a name"));
				if (a[1] == 'f')
					o->from = val;
				else
					o->name = val;
			} else if (strcmp(a, "--batch") == 0) {
				o->batch = true;
			} else if (strcmp(a, "--json") == 0) {
				o->json = true;
				i18n_for_programs();
			} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
				o->verbose = true;
			} else {
				char msg[256];

				str_printf(msg, sizeof(msg), _("unknown option '%.200s'"), a);
				return usage_error(msg);
			}
			continue;
		}
		o->rcpt[o->nrcpt++] = argv[i];
	}
	if (!o->account)
		return usage_error(_("which account? (--account ACCOUNT)"));
	if (!o->rcpt_headers && o->nrcpt == 0)
		return usage_error(_("no recipient: give them as arguments, or -t to "
		                   "read them from To, Cc and Bcc"));
	return 0;
}

/* The checks of what came from the command line, before any connection. */
static int
check_args(const struct send_opts *o)
{
	struct outgoing probe_rcpts;
	const char *why;
	char err[512];
	size_t i;

	if (o->from && *o->from && strcmp(o->from, "<>") != 0 &&
	    (why = valid_email(o->from)))
		return cli_bad_field("-f address", why);
	if (o->name && (why = valid_text(o->name, ACCT_NAME_MAX)))
		return cli_bad_field("-F name", why);
	memset(&probe_rcpts, 0, sizeof(probe_rcpts));
	for (i = 0; i < o->nrcpt; i++) {
		if (outgoing_add_rcpt(&probe_rcpts, o->rcpt[i], err, sizeof(err)) < 0) {
			outgoing_free(&probe_rcpts);
			fprintf(stderr, _("fluenzr-tui send: %s\n"), err);
			return EX_DATAERR;
		}
	}
	outgoing_free(&probe_rcpts);
	return 0;
}

/* ---- reading the messages ---- */

static int
raw_add(struct sender *s, const char *p, size_t n)
{
	if (s->rawlen + n > OUTGOING_MSG_MAX) {
		s->too_big = true;
		return 0;
	}
	if (s->rawlen + n + 1 > s->rawcap) {
		size_t cap = s->rawcap * 2 + n + 4096;
		char *q = realloc(s->raw, cap);

		if (!q)
			return -1;
		s->raw = q;
		s->rawcap = cap;
	}
	memcpy(s->raw + s->rawlen, p, n);
	s->rawlen += n;
	return 0;
}

/* The whole of stdin, one message. 0 or -1. */
static int
read_single(struct sender *s)
{
	char buf[65536];
	size_t n;

	while ((n = fread(buf, 1, sizeof(buf), s->in)) > 0)
		if (raw_add(s, buf, n) < 0)
			return -1;
	return ferror(s->in) ? -1 : 0;
}

static bool
is_from_line(const char *l, ssize_t n)
{
	return n >= 5 && memcmp(l, "From ", 5) == 0;
}

/* The next message of an mboxrd stream: each starts with a "From " line
 * (not part of it), ">From " lines lose one '>', and the empty line before
 * the next "From " line is the mbox's, not the message's. 1, 0 (no more),
 * -1 (a read error, or not an mbox: errno EINVAL). */
static int
read_mbox(struct sender *s)
{
	ssize_t n;

	if (s->eof)
		return 0;
	if (!s->pending) {
		n = getline(&s->line, &s->linecap, s->in);
		if (n < 0) {
			s->eof = true;
			return ferror(s->in) ? -1 : 0;
		}
		if (!is_from_line(s->line, n)) {
			errno = EINVAL;
			s->eof = true;
			return -1;
		}
	}
	s->pending = false;
	for (;;) {
		const char *l;

		n = getline(&s->line, &s->linecap, s->in);
		if (n < 0) {
			s->eof = true;
			if (ferror(s->in))
				return -1;
			break;
		}
		if (is_from_line(s->line, n)) {
			s->pending = true;
			break;
		}
		l = s->line;
		if (l[0] == '>') {
			ssize_t k = 0;

			while (k < n && l[k] == '>')
				k++;
			if (n - k >= 5 && memcmp(l + k, "From ", 5) == 0) {
				l++;
				n--;
			}
		}
		if (raw_add(s, l, (size_t)n) < 0)
			return -1;
	}
	/* The separating empty line. */
	if (s->rawlen >= 2 && s->raw[s->rawlen - 1] == '\n' &&
	    s->raw[s->rawlen - 2] == '\n')
		s->rawlen--;
	else if (s->rawlen >= 3 && memcmp(s->raw + s->rawlen - 3, "\n\r\n", 3) == 0)
		s->rawlen -= 2;
	return 1;
}

static struct sent_msg *
msg_new(struct sender *s)
{
	if (s->nmsgs == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct sent_msg *v = realloc(s->msgs, cap * sizeof(*v));

		if (!v) {
			s->oom = true;
			return NULL;
		}
		s->msgs = v;
		s->cap = cap;
	}
	memset(&s->msgs[s->nmsgs], 0, sizeof(s->msgs[0]));
	return &s->msgs[s->nmsgs++];
}

/* The message in s->raw made ready in s->cur, with the arguments'
 * recipients. 0, or -1 with why in err. */
static int
prepare_current(struct sender *s, char *err, size_t errlen)
{
	struct outgoing_opts oo;
	size_t i;

	if (s->too_big) {
		str_printf(err, errlen, _("the message is larger than %d MiB"),
		           OUTGOING_MSG_MAX >> 20);
		return -1;
	}
	memset(&oo, 0, sizeof(oo));
	oo.rcpt_from_headers = s->o->rcpt_headers;
	oo.from_name = s->o->name ? s->o->name : s->a->display_name;
	oo.from_addr = *s->env_from ? s->env_from : s->a->email;
	oo.now = time(NULL);
	if (outgoing_prepare(s->raw, s->rawlen, &oo, &s->cur, err, errlen) < 0)
		return -1;
	for (i = 0; i < s->o->nrcpt; i++)
		if (outgoing_add_rcpt(&s->cur, s->o->rcpt[i], err, errlen) < 0)
			return -1;
	if (s->cur.nrcpt == 0) {
		str_copy(err, errlen, _("no recipient in To, Cc or Bcc"));
		return -1;
	}
	return 0;
}

static void
when_text(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
		str_copy(out, len, "later");
}

/* The account's limits and pause for the message in s->cur: 0 when it
 * may go (counted in the store), else sm says why and when. With --wait,
 * a wait of at most its seconds is waited here. */
static int
limit_gate(struct sender *s, struct sent_msg *sm)
{
	unsigned n = (unsigned)s->cur.nrcpt;

	for (;;) {
		int64_t now = (int64_t)time(NULL), retry = 0;
		char why[APP_ERR_MAX], when[64];
		int v;

		if (app_limits_active(&s->lim)) {
			v = app_limits_reserve(s->st, s->a->email, &s->lim, n, now, &retry,
			                       why, sizeof(why));
		} else if (s->paused_until > now) {
			/* No limits to count: only the pause holds it back. */
			v = APP_LIMIT_WAIT;
			retry = s->paused_until;
			str_copy(why, sizeof(why), _("the account is paused after a limit reply"));
		} else {
			return 0;
		}
		if (v == APP_LIMIT_OK)
			return 0;
		if (v == APP_LIMIT_WAIT && s->o->wait_max >= 0 && !sig_stop &&
		    retry - now <= s->o->wait_max) {
			struct timespec ts = { (time_t)(retry - now), 0 };

			while (!sig_stop && nanosleep(&ts, &ts) < 0)
				;
			if (!sig_stop)
				continue;
		}
		s->limited = v == APP_LIMIT_WAIT;
		sm->retry_after = v == APP_LIMIT_WAIT ? retry : 0;
		when_text(retry, when, sizeof(when));
		if (v == APP_LIMIT_WAIT)
			str_printf(sm->reply, sizeof(sm->reply), _("not sent: %s; retry after %s"),
			           why, when);
		else
			str_printf(sm->reply, sizeof(sm->reply), _("not sent: %s"), why);
		return -1;
	}
}

/* probe_sender.next. One message: the one read and made ready before the
 * connection. A batch: the next of the mbox; one that cannot be sent as
 * given is counted as not sent and the next one is read. */
static int
next_msg(void *ud, const char **from, const struct outgoing **m)
{
	struct sender *s = ud;
	char err[512];

	for (;;) {
		struct sent_msg *sm;
		int k;

		if (!s->o->batch) {
			if (!s->ready)
				return 0;
			s->ready = false;
			k = 1;
		} else {
			outgoing_free(&s->cur);
			s->rawlen = 0;
			s->too_big = false;
			k = read_mbox(s);
		}
		if (k <= 0) {
			if (k < 0) {
				fprintf(stderr, _("fluenzr-tui send: cannot read the messages: %s\n"),
				        errno == EINVAL ? _("the input is not an mbox (the first "
				        "line must start with \"From \")") : strerror(errno));
				s->read_failed = true;
			}
			return k;
		}
		if (!(sm = msg_new(s)))
			return -1;
		if (s->o->batch && prepare_current(s, err, sizeof(err)) < 0) {
			str_printf(sm->reply, sizeof(sm->reply), _("not sent: %s"), err);
			continue;
		}
		/* A limit holds back this message and the rest of the batch. */
		if (s->o->batch && limit_gate(s, sm) < 0)
			return 0;
		sm->tried = true;
		*from = s->env_from;
		*m = &s->cur;
		return 1;
	}
}

/* probe_sender.sent: the outcome of the last message next_msg() gave. */
static void
sent_msg(void *ud, size_t index, bool ok, int code, const char *text)
{
	struct sender *s = ud;
	struct sent_msg *sm = s->nmsgs ? &s->msgs[s->nmsgs - 1] : NULL;

	(void)index;
	if (!sm)
		return;
	sm->ok = ok;
	sm->code = code;
	str_copy(sm->reply, sizeof(sm->reply), text ? text : "");
}

/* ---- output ---- */

static void
json_messages(struct json *j, const struct sender *s)
{
	size_t i;

	json_key(j, "messages");
	json_arr_begin(j);
	for (i = 0; i < s->nmsgs; i++) {
		const struct sent_msg *m = &s->msgs[i];

		json_obj_begin(j);
		json_key(j, "index"); json_int(j, (long long)i + 1);
		json_key(j, "sent"); json_bool(j, m->ok);
		json_key(j, "code");
		m->code ? json_int(j, m->code) : json_null(j);
		json_key(j, "reply"); json_str(j, m->reply[0] ? m->reply :
		                                  m->tried ? "" : "not sent");
		json_key(j, "retry_after");
		m->retry_after ? json_int(j, m->retry_after) : json_null(j);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void
print_messages(FILE *f, const struct sender *s)
{
	size_t i;

	for (i = 0; i < s->nmsgs; i++) {
		const struct sent_msg *m = &s->msgs[i];

		if (m->ok)
			fprintf(f, _("%s message %zu: sent\n"), cli_mark(m->ok), i + 1);
		else
			fprintf(f, _("%s message %zu: %s\n"), cli_mark(m->ok), i + 1,
			        m->reply[0] ? m->reply : _("not sent"));
	}
}

/* The exit status: 0 when every message went; a temporary refusal or
 * failure is EX_TEMPFAIL (try again later); otherwise the diagnosis's
 * status, or EX_DATAERR for a message we could not send as given. */
static int
send_status(const struct sender *s, enum diag_cat cat)
{
	size_t i;
	bool bad_input = false;

	if (s->limited)
		return EX_TEMPFAIL;
	for (i = 0; i < s->nmsgs; i++) {
		if (s->msgs[i].code >= 400 && s->msgs[i].code < 500)
			return EX_TEMPFAIL;
		if (!s->msgs[i].tried)
			bad_input = true;
	}
	if (cat != DIAG_OK)
		return diag_exit_code(cat);
	if (s->read_failed)
		return EX_IOERR;
	if (s->oom)
		return EX_OSERR;
	return bad_input ? EX_DATAERR : 0;
}

int
cmd_send(struct cli_ctx *c, int argc, char **argv)
{
	struct send_opts o;
	struct sender s;
	struct probe_sender ps;
	struct account a;
	struct sigaction sa, oi, ot;
	const struct preset_list *presets = NULL;
	struct probe *p = NULL;
	char err[APP_ERR_MAX];
	enum diag_cat cat;
	int64_t t0;
	int rc, e;

	if ((rc = parse_args(c, argc, argv, &o)) != 0 || (rc = check_args(&o)) != 0) {
		free(o.rcpt);
		return rc;
	}
	if (probe_global_init() < 0) {
		free(o.rcpt);
		fprintf(stderr, _("fluenzr-tui: cannot initialise TLS\n"));
		return EX_SOFTWARE;
	}
	if ((rc = cli_open_store(c, false, true)) != 0) {
		free(o.rcpt);
		return rc;
	}
	e = store_account_get(c->st, o.account, &a);
	if (e != STORE_OK) {
		free(o.rcpt);
		if (e == STORE_ENOENT) {
			fprintf(stderr, _("fluenzr-tui: no account '%s' (see: fluenzr-tui account list)\n"),
			        o.account);
			return EX_NOINPUT;
		}
		fprintf(stderr, _("fluenzr-tui: %s: %s\n"), o.account, store_strerror(e));
		return cli_store_exit(e);
	}
	if (a.preset[0] && cli_load_presets(c) == 0)
		presets = &c->presets;
	/* The passwords are opened, copied into the probe and wiped here. */
	rc = app_run_prepare(c->st, &a, presets, &o.po, &p, err, sizeof err);
	if (rc != 0) {
		free(o.rcpt);
		fprintf(stderr, "fluenzr-tui: %s\n", err);
		return rc;
	}

	memset(&s, 0, sizeof(s));
	s.o = &o;
	s.a = &a;
	s.in = stdin;
	s.env_from = !o.from ? a.email : strcmp(o.from, "<>") == 0 ? "" : o.from;
	if (!o.batch) {
		if (read_single(&s) < 0) {
			fprintf(stderr, _("fluenzr-tui send: cannot read the message: %s\n"),
			        strerror(errno));
			rc = EX_IOERR;
		} else if (prepare_current(&s, err, sizeof(err)) < 0) {
			fprintf(stderr, _("fluenzr-tui send: %s\n"), err);
			rc = EX_DATAERR;
		}
		if (rc != 0) {
			probe_free(p);
			outgoing_free(&s.cur);
			free(s.raw);
			free(o.rcpt);
			return rc;
		}
		s.ready = true;
	}
	s.st = c->st;
	{
		struct store_history h;

		(void)store_history_get(c->st, a.email, &h);
		app_limits_of(&a, &h, presets, &s.lim);
		s.paused_until = h.paused_until;
	}
	if (!o.batch) {
		struct sent_msg *sm = msg_new(&s);

		if (sm && limit_gate(&s, sm) < 0) {
			if (o.json) {
				struct json j;

				json_init(&j, stdout, true);
				json_obj_begin(&j);
				json_key(&j, "account"); json_str(&j, a.email);
				json_key(&j, "ok"); json_bool(&j, false);
				json_key(&j, "category"); json_str(&j, "limited");
				json_messages(&j, &s);
				json_obj_end(&j);
				json_end(&j);
			} else {
				fprintf(stderr, _("fluenzr-tui send: %s\n"), sm->reply);
			}
			rc = s.limited ? EX_TEMPFAIL : EX_UNAVAILABLE;
			probe_free(p);
			outgoing_free(&s.cur);
			free(s.raw);
			free(s.msgs);
			free(o.rcpt);
			return rc;
		}
		/* The message next_msg() gives is this one. */
		if (sm)
			s.nmsgs--;
	}
	ps.next = next_msg;
	ps.sent = sent_msg;
	ps.ud = &s;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sig_probe = p;
	sigaction(SIGINT, &sa, &oi);
	sigaction(SIGTERM, &sa, &ot);
	t0 = now_ms();
	cat = probe_send(p, &ps, o.verbose && !o.json ? cli_print_step : NULL,
	                 stderr);
	sigaction(SIGINT, &oi, NULL);
	sigaction(SIGTERM, &ot, NULL);
	sig_probe = NULL;

	/* A connection that failed before the first message read none. */
	if (s.nmsgs == 0 && cat != DIAG_OK && !o.batch) {
		struct sent_msg *sm = msg_new(&s);

		if (sm)
			str_copy(sm->reply, sizeof(sm->reply), _("not sent"));
	}
	rc = send_status(&s, cat);
	if (o.json) {
		struct json j;

		json_init(&j, stdout, true);
		json_obj_begin(&j);
		cli_json_result_fields(&j, a.email, probe_result(p));
		json_messages(&j, &s);
		json_obj_end(&j);
		json_end(&j);
	} else {
		if (o.batch || o.verbose)
			print_messages(o.batch ? stdout : stderr, &s);
		if (cat != DIAG_OK)
			cli_print_result(stderr, probe_result(p));
		else if (rc != 0 && !o.batch)
			print_messages(stderr, &s);
	}
	fflush(stdout);
	/* A line in the account's history, as a test leaves one. */
	{
		if (app_result_record(c->st, a.email, (int64_t)time(NULL), cat,
		                      &probe_result(p)->diag, now_ms() - t0, NULL, err,
		                      sizeof err) < 0)
			fprintf(stderr, "fluenzr-tui: %s\n", err);
	}
	probe_free(p);
	outgoing_free(&s.cur);
	free(s.raw);
	free(s.line);
	free(s.msgs);
	free(o.rcpt);
	return rc;
}
