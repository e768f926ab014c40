/* The IMAP half of a test: greeting, TLS (993 implicit, 143 STARTTLS) with
 * the same verification as SMTP, CAPABILITY, LOGIN, SELECT INBOX, the
 * folder map a reply detector needs (LIST: SPECIAL-USE flags, else the
 * names people know), and the reply check: polling INBOX and Junk for the
 * message the SMTP half just sent, reading it (BODY.PEEK, nothing is
 * flagged), and looking for its copy in Sent. Folders other than INBOX are
 * opened with EXAMINE only. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "base64.h"
#include "oauth.h"
#include "probe_int.h"
#include "secmem.h"
#include "i18n.h"
#include "util.h"

struct ictx {
	struct probe *p;
	struct probe_io io;
	mailimap *imap;
	bool idle, logindisabled, starttls;
	bool condstore, qresync, uidplus, special_use;
	char auth[128];          /* the AUTH= mechanisms, space-separated */
};

static const char *
imap_text(struct ictx *x, char *buf, size_t len)
{
	const char *t = x->imap ? x->imap->imap_response : NULL;

	probe_clean(x->p, buf, len, t ? t : "", t ? strlen(t) : 0, false);
	return buf;
}

/* Records a failed command: the server's words when it answered, else the
 * connection's state. */
static void
fail_cmd(struct ictx *x, enum diag_stage stage, int r)
{
	struct probe *p = x->p;
	char t[512], code[64] = "";

	if (r == MAILIMAP_ERROR_STREAM || x->io.conn.timed_out ||
	    x->io.conn.cancelled || x->io.conn.eof ||
	    x->io.conn.err == EMSGSIZE) {
		probe_fail_stream(&p->sink, true, stage, &x->io.conn, NULL, false);
		return;
	}
	if (x->imap && x->imap->imap_response_info &&
	    x->imap->imap_response_info->rsp_atom)
		probe_clean(p, code, sizeof(code),
		            x->imap->imap_response_info->rsp_atom,
		            strlen(x->imap->imap_response_info->rsp_atom), false);
	probe_fail_reply(&p->sink, true, stage, 0, imap_text(x, t, sizeof(t)), code);
}

static const char *
detail(struct ictx *x, int r, char *buf, size_t len)
{
	const struct net_conn *c = &x->io.conn;
	char t[400];

	if (c->cancelled)
		str_copy(buf, len, _("cancelled"));
	else if (c->timed_out)
		str_printf(buf, len, _("no reply within %d s"), x->p->opts.timeout_s);
	else if (c->eof)
		str_copy(buf, len, _("the server closed the connection"));
	else if (c->err == EMSGSIZE && x->io.big_literal == UINT64_MAX)
		str_copy(buf, len, _("the server announced a literal of absurd size"));
	else if (c->err == EMSGSIZE && x->io.big_literal)
		str_printf(buf, len, _("the server announced a literal of %llu bytes "
		           "(a reply may have %llu KiB)"),
		           (unsigned long long)x->io.big_literal,
		           (unsigned long long)(NET_STEP_RX_MAX / 1024));
	else if (c->err == EMSGSIZE)
		str_printf(buf, len, _("the server sent over %llu KiB without ending its reply"),
		           (unsigned long long)(NET_STEP_RX_MAX / 1024));
	else if (r == MAILIMAP_ERROR_MEMORY)
		str_copy(buf, len, _("out of memory for the server's reply"));
	else if (r == MAILIMAP_ERROR_PARSE)
		str_copy(buf, len, _("the server's reply is not IMAP"));
	else
		str_copy(buf, len, imap_text(x, t, sizeof(t)));
	return buf;
}

/* The reply to LOGIN may quote the password back: once reported, it goes
 * from libetpan's buffers (which it empties before each response). */
static void
wipe_reply(struct ictx *x)
{
	MMAPString *b = x->imap ? x->imap->imap_stream_buffer : NULL;

	if (b && b->str) {
		secmem_wipe(b->str, b->allocated_len);
		b->len = 0;
	}
	if (x->imap && x->imap->imap_response)
		secmem_wipe(x->imap->imap_response, strlen(x->imap->imap_response));
}

static struct probe_step *
begin(struct ictx *x, const char *name)
{
	net_set_timeout(&x->io.conn, x->p->opts.timeout_s);
	return probe_step_begin(x->p, name);
}

static void
read_caps(struct ictx *x, struct mailimap_capability_data *cap)
{
	clistiter *it;

	x->idle = x->logindisabled = x->starttls = false;
	x->condstore = x->qresync = x->uidplus = x->special_use = false;
	x->auth[0] = '\0';
	if (!cap || !cap->cap_list)
		return;
	for (it = clist_begin(cap->cap_list); it; it = clist_next(it)) {
		struct mailimap_capability *c = clist_content(it);

		if (c->cap_type == MAILIMAP_CAPABILITY_AUTH_TYPE &&
		    c->cap_data.cap_auth_type) {
			char m[64];
			size_t n = strlen(x->auth);

			probe_clean(x->p, m, sizeof(m), c->cap_data.cap_auth_type,
			            strlen(c->cap_data.cap_auth_type), false);
			/* A list that does not fit is cut at a whole name. */
			if (n + strlen(m) + 2 < sizeof(x->auth))
				str_printf(x->auth + n, sizeof(x->auth) - n, "%s%s",
				           n ? " " : "", m);
			continue;
		}
		if (c->cap_type != MAILIMAP_CAPABILITY_NAME || !c->cap_data.cap_name)
			continue;
		if (strcasecmp(c->cap_data.cap_name, "IDLE") == 0)
			x->idle = true;
		else if (strcasecmp(c->cap_data.cap_name, "CONDSTORE") == 0)
			x->condstore = true;
		else if (strcasecmp(c->cap_data.cap_name, "QRESYNC") == 0)
			x->qresync = true;
		else if (strcasecmp(c->cap_data.cap_name, "UIDPLUS") == 0)
			x->uidplus = true;
		else if (strcasecmp(c->cap_data.cap_name, "SPECIAL-USE") == 0)
			x->special_use = true;
		else if (strcasecmp(c->cap_data.cap_name, "LOGINDISABLED") == 0)
			x->logindisabled = true;
		else if (strcasecmp(c->cap_data.cap_name, "STARTTLS") == 0)
			x->starttls = true;
	}
}

static int
do_capability(struct ictx *x)
{
	struct probe_step *s = begin(x, "imap.capability");
	struct mailimap_capability_data *cap = NULL;
	char d[PROBE_DETAIL];
	int r = mailimap_capability(x->imap, &cap);

	if (r != MAILIMAP_NO_ERROR) {
		fail_cmd(x, STAGE_IMAP_LOGIN, r);
		probe_step_end(x->p, s, false, "%s", detail(x, r, d, sizeof(d)));
		return -1;
	}
	read_caps(x, cap);
	mailimap_capability_data_free(cap);
	probe_step_end(x->p, s, true, x->idle ? _("IDLE yes%s") : _("IDLE no%s"),
	               x->logindisabled ? ", LOGINDISABLED" : "");
	return 0;
}

/* ---- the folder map ---- */

/* The names people know for each role, in the order of preference, UTF-8
 * ('/' stands for any delimiter). Matched case-insensitively, after an
 * "INBOX" prefix, whole first and then as the last part of a path. */
static const char *const junk_names[] = {
	"Junk", "Spam", "Junk E-mail", "Junk Email", "Junk Mail", "Junk-E-Mail",
	"[Gmail]/Spam", "[Google Mail]/Spam", "Bulk Mail", "Bulk",
	"Courrier indésirable", "Indésirables", "Pourriel", "Spamverdacht",
	"Posta indesiderata", "Correo no deseado", "Ongewenste e-mail", NULL
};
static const char *const sent_names[] = {
	"Sent", "Sent Items", "Sent Messages", "Sent Mail", "[Gmail]/Sent Mail",
	"[Google Mail]/Sent Mail", "Envoyés", "Éléments envoyés",
	"Messages envoyés", "Gesendet", "Gesendete Objekte",
	"Gesendete Elemente", "Posta inviata", "Inviata", "Enviados",
	"Elementos enviados", "Verzonden items", NULL
};
static const char *const trash_names[] = {
	"Trash", "Deleted Items", "Deleted Messages", "Bin", "[Gmail]/Trash",
	"[Gmail]/Bin", "[Google Mail]/Trash", "Corbeille", "Éléments supprimés",
	"Papierkorb", "Gelöschte Elemente", "Cestino", "Papelera", NULL
};
static const char *const drafts_names[] = {
	"Drafts", "[Gmail]/Drafts", "[Google Mail]/Drafts", "Brouillons",
	"Entwürfe", "Bozze", "Borradores", "Concepten", NULL
};
static const char *const archive_names[] = {
	"Archive", "Archives", "[Gmail]/All Mail", "[Google Mail]/All Mail",
	"All Mail", "Archiv", "Archivio", "Archivo", NULL
};

static const struct {
	const char *flag;             /* RFC 6154, without the backslash */
	const char *alt;              /* a second flag for the role, or NULL */
	const char *const *names;
} roles[PROBE_NROLES] = {
	[ROLE_INBOX] = { NULL, NULL, NULL },
	[ROLE_SENT] = { "Sent", NULL, sent_names },
	[ROLE_JUNK] = { "Junk", NULL, junk_names },
	[ROLE_TRASH] = { "Trash", NULL, trash_names },
	[ROLE_DRAFTS] = { "Drafts", NULL, drafts_names },
	[ROLE_ARCHIVE] = { "Archive", "All", archive_names },
};

#define LIST_MAX 5000              /* mailboxes looked at */

/* How well name (UTF-8, its delimiter delim) matches the names of a role:
 * lower is better, -1 not at all. */
static int
name_score(const char *name, char delim, const char *const *names)
{
	char n[PROBE_FOLDER_MAX];
	const char *rest = n, *leaf;
	int depth = 0;

	str_copy(n, sizeof n, name);
	if (delim && delim != '/') {
		for (char *c = n; *c; c++) {
			if (*c == delim)
				*c = '/';
			else if (*c == '/')
				*c = '\x01';   /* a '/' that is not a delimiter */
		}
	}
	if (strncasecmp(n, "INBOX/", 6) == 0)
		rest = n + 6;
	for (const char *c = rest; *c; c++)
		depth += *c == '/';
	leaf = strrchr(rest, '/');
	leaf = leaf ? leaf + 1 : rest;
	for (int i = 0; names[i]; i++)
		if (strcasecmp(rest, names[i]) == 0)
			return i;
	for (int i = 0; names[i]; i++)
		if (!strchr(names[i], '/') && strcasecmp(leaf, names[i]) == 0)
			return 100 + depth * 100 + i;
	return -1;
}

static bool
has_flag(const struct mailimap_mbx_list_flags *f, const char *flag)
{
	clistiter *it;

	if (!f || !f->mbf_oflags || !flag)
		return false;
	for (it = clist_begin(f->mbf_oflags); it; it = clist_next(it)) {
		const struct mailimap_mbx_list_oflag *o = clist_content(it);

		if (o->of_type == MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT && o->of_flag_ext &&
		    strcasecmp(o->of_flag_ext[0] == '\\' ? o->of_flag_ext + 1 :
		               o->of_flag_ext, flag) == 0)
			return true;
	}
	return false;
}

static bool
selectable(const struct mailimap_mbx_list_flags *f)
{
	return !(f && f->mbf_type == MAILIMAP_MBX_LIST_FLAGS_SFLAG &&
	         f->mbf_sflag == MAILIMAP_MBX_LIST_SFLAG_NOSELECT) &&
	       !has_flag(f, "NonExistent") && !has_flag(f, "Noselect");
}

static void
set_folder(struct ictx *x, enum probe_role r, const char *raw, const char *from)
{
	struct probe_folder *f = &x->p->res.place.folders[r];
	char utf8[PROBE_FOLDER_MAX];

	if (strlen(raw) >= sizeof f->raw)
		return;                /* too long a name to use */
	str_copy(f->raw, sizeof f->raw, raw);
	mailhdr_mutf7_decode(raw, utf8, sizeof utf8);
	probe_clean(x->p, f->name, sizeof f->name, utf8, strlen(utf8), false);
	f->from = from;
}

static void
map_folders(struct ictx *x, clist *list)
{
	int best[PROBE_NROLES];
	const char *bestraw[PROBE_NROLES] = { NULL };
	bool flagged[PROBE_NROLES] = { false };
	clistiter *it;
	size_t seen = 0;

	for (int r = 0; r < PROBE_NROLES; r++)
		best[r] = -1;
	for (it = list ? clist_begin(list) : NULL; it && seen < LIST_MAX;
	     it = clist_next(it), seen++) {
		const struct mailimap_mailbox_list *m = clist_content(it);
		char utf8[PROBE_FOLDER_MAX];

		if (!m || !m->mb_name || !selectable(m->mb_flag) ||
		    strlen(m->mb_name) >= PROBE_FOLDER_MAX)
			continue;
		mailhdr_mutf7_decode(m->mb_name, utf8, sizeof utf8);
		for (int r = ROLE_SENT; r < PROBE_NROLES; r++) {
			int sc;

			if (flagged[r])
				continue;
			if (has_flag(m->mb_flag, roles[r].flag) ||
			    has_flag(m->mb_flag, roles[r].alt)) {
				/* \Archive wins over \All for the archive. */
				flagged[r] = has_flag(m->mb_flag, roles[r].flag);
				if (flagged[r] || !bestraw[r] || best[r] != -2) {
					bestraw[r] = m->mb_name;
					best[r] = -2;
				}
				continue;
			}
			if (best[r] == -2)
				continue;
			sc = name_score(utf8, m->mb_delimiter, roles[r].names);
			if (sc >= 0 && (best[r] < 0 || sc < best[r])) {
				best[r] = sc;
				bestraw[r] = m->mb_name;
			}
		}
	}
	set_folder(x, ROLE_INBOX, "INBOX", "standard");
	for (int r = ROLE_SENT; r < PROBE_NROLES; r++)
		if (bestraw[r])
			set_folder(x, r, bestraw[r], best[r] == -2 ? "special-use" : "name");
}

static int
do_folders(struct ictx *x)
{
	struct probe *p = x->p;
	struct probe_placement *pl = &p->res.place;
	struct probe_step *s = begin(x, "imap.folders");
	struct mailimap_capability_data *cap = NULL;
	clist *list = NULL;
	char d[PROBE_DETAIL];
	int r;

	/* The capabilities after LOGIN are the ones that count. */
	r = mailimap_capability(x->imap, &cap);
	if (r == MAILIMAP_NO_ERROR) {
		read_caps(x, cap);
		mailimap_capability_data_free(cap);
		r = mailimap_list(x->imap, "", "*", &list);
	}
	if (r != MAILIMAP_NO_ERROR) {
		const struct net_conn *c = &x->io.conn;
		bool broken = r == MAILIMAP_ERROR_STREAM || c->timed_out ||
		              c->cancelled || c->eof || c->err;

		probe_step_end(p, s, false, "%s", detail(x, r, d, sizeof(d)));
		/* A server that refuses LIST still delivers to INBOX: the test
		 * goes on without the map. A broken connection ends it. */
		if (!broken)
			return 0;
		fail_cmd(x, STAGE_IMAP_SELECT, r);
		return -1;
	}
	pl->caps_seen = true;
	pl->idle = x->idle;
	pl->condstore = x->condstore;
	pl->qresync = x->qresync;
	pl->uidplus = x->uidplus;
	pl->special_use = x->special_use;
	map_folders(x, list);
	mailimap_list_result_free(list);
	pl->checked = true;
	str_printf(d, sizeof d, _("Sent %s, Junk %s"),
	           pl->folders[ROLE_SENT].from ? pl->folders[ROLE_SENT].name : _("none"),
	           pl->folders[ROLE_JUNK].from ? pl->folders[ROLE_JUNK].name : _("none"));
	probe_step_end(p, s, true, "%s (%s)", d,
	               pl->folders[ROLE_JUNK].from ? pl->folders[ROLE_JUNK].from :
	               pl->folders[ROLE_SENT].from ? pl->folders[ROLE_SENT].from :
	               _("no folder found"));
	return 0;
}

/* ---- the test message in a folder ---- */

/* EXAMINE raw (NULL: the selected INBOX, NOOP) and SEARCH for the token:
 * the message's sequence number, 0 when absent, -1 with *rc set. */
static long
search_in(struct ictx *x, const char *raw, int *rc)
{
	struct mailimap_search_key *key;
	clist *res = NULL;
	char *h = strdup("Subject"), *v = strdup(x->p->res.token);
	long seq = 0;
	int r;

	net_set_timeout(&x->io.conn, x->p->opts.timeout_s);
	/* NOOP lets the server report new mail before the search. */
	r = raw ? mailimap_examine(x->imap, raw) : mailimap_noop(x->imap);
	if (r != MAILIMAP_NO_ERROR)
		goto out;
	key = (h && v) ? mailimap_search_key_new_header(h, v) : NULL;
	if (!key) {
		r = MAILIMAP_ERROR_MEMORY;
		goto out;
	}
	h = v = NULL;              /* the key owns them */
	r = mailimap_search(x->imap, NULL, key, &res);
	mailimap_search_key_free(key);
	if (r == MAILIMAP_NO_ERROR && res && clist_begin(res)) {
		uint32_t *n = clist_content(clist_begin(res));

		seq = n ? (long)*n : 0;
	}
	if (res)
		mailimap_search_result_free(res);
out:
	free(h);
	free(v);
	*rc = r;
	return r == MAILIMAP_NO_ERROR ? seq : -1;
}

/* BODY.PEEK[]<0.max> of message seq of the selected folder into p->message;
 * the bytes stay out of the transcript. A failure is not the test's. */
static void
fetch_message(struct ictx *x, long seq)
{
	struct probe *p = x->p;
	struct mailimap_set *set = mailimap_set_new_single((uint32_t)seq);
	struct mailimap_section *sec = mailimap_section_new(NULL);
	struct mailimap_fetch_att *att = NULL;
	struct mailimap_fetch_type *ft = NULL;
	clist *res = NULL;
	clistiter *i, *j;
	bool log = x->io.log;
	int r;

	if (set && sec)
		att = mailimap_fetch_att_new_body_peek_section_partial(sec, 0,
		                                                      PROBE_MESSAGE_MAX);
	if (att)
		ft = mailimap_fetch_type_new_fetch_att(att);
	if (!ft) {
		if (att)
			mailimap_fetch_att_free(att);
		else if (sec)
			mailimap_section_free(sec);
		if (set)
			mailimap_set_free(set);
		return;
	}
	probe_note(p, "FETCH %ld BODY.PEEK[]<0.%d>: the message's bytes are "
	           "not shown", seq, PROBE_MESSAGE_MAX);
	x->io.log = false;
	r = mailimap_fetch(x->imap, set, ft, &res);
	x->io.log = log;
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR || !res)
		return;
	for (i = clist_begin(res); i && !p->message; i = clist_next(i)) {
		struct mailimap_msg_att *m = clist_content(i);

		for (j = m && m->att_list ? clist_begin(m->att_list) : NULL; j;
		     j = clist_next(j)) {
			struct mailimap_msg_att_item *it = clist_content(j);
			struct mailimap_msg_att_body_section *b;
			size_t n;

			if (it->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC ||
			    !it->att_data.att_static ||
			    it->att_data.att_static->att_type != MAILIMAP_MSG_ATT_BODY_SECTION)
				continue;
			b = it->att_data.att_static->att_data.att_body_section;
			if (!b || !b->sec_body_part)
				continue;
			n = b->sec_length < PROBE_MESSAGE_MAX ? b->sec_length : PROBE_MESSAGE_MAX;
			p->message = malloc(n + 1);
			if (!p->message)
				break;
			memcpy(p->message, b->sec_body_part, n);
			p->message[n] = '\0';
			p->message_len = n;
			break;
		}
	}
	mailimap_fetch_list_free(res);
	if (p->message) {
		p->res.place.fetched = true;
		p->res.place.fetched_len = p->message_len;
		mailhdr_auth_parse(p->message, p->message_len, p->a.imap_host,
		                   p->opts.org_domain, &p->res.place.auth);
	}
}

static int
do_reply_check(struct ictx *x)
{
	struct probe *p = x->p;
	struct probe_placement *pl = &p->res.place;
	struct probe_step *s = begin(x, "imap.reply_check");
	int64_t end = now_ms() + (int64_t)p->opts.reply_wait_s * 1000;
	const char *junk = pl->folders[ROLE_JUNK].from ? pl->folders[ROLE_JUNK].raw : NULL;
	bool reopen = junk != NULL;
	char d[PROBE_DETAIL];
	long seq = 0;
	int r = MAILIMAP_NO_ERROR;

	pl->landed = DIAG_LANDED_NOT_FOUND;
	for (;;) {
		/* With a Junk folder to look in too, INBOX is opened afresh. */
		seq = search_in(x, reopen ? "INBOX" : NULL, &r);
		if (seq < 0)
			break;
		if (seq > 0) {
			pl->landed = DIAG_LANDED_INBOX;
			break;
		}
		if (junk) {
			seq = search_in(x, junk, &r);
			if (seq < 0 && r == MAILIMAP_ERROR_EXAMINE &&
			    !x->io.conn.timed_out && !x->io.conn.cancelled) {
				/* A Junk folder that cannot be opened is not looked
				 * in again; the test goes on with INBOX alone. */
				probe_note(p, "the Junk folder %s cannot be opened",
				           pl->folders[ROLE_JUNK].name);
				junk = NULL;
				seq = 0;
				r = MAILIMAP_NO_ERROR;
			}
			if (seq < 0)
				break;
			if (seq > 0) {
				pl->landed = DIAG_LANDED_JUNK;
				break;
			}
		}
		if (now_ms() >= end)
			break;
		if (net_sleep(p->cancel_fd, 250) != 0) {
			x->io.conn.cancelled = true;
			r = MAILIMAP_ERROR_STREAM;
			break;
		}
	}
	if (r != MAILIMAP_NO_ERROR) {
		pl->landed = DIAG_LANDED_UNCHECKED;
		fail_cmd(x, STAGE_IMAP_SEARCH, r);
		probe_step_end(p, s, false, "%s", detail(x, r, d, sizeof(d)));
		return -1;
	}
	p->res.reply_detection = pl->landed == DIAG_LANDED_INBOX ? 1 : 0;
	if (pl->landed != DIAG_LANDED_NOT_FOUND)
		p->res.reply_ms = now_ms() - p->sent_ms;
	if (pl->landed == DIAG_LANDED_INBOX) {
		probe_step_end(p, s, true, _("the test message is in INBOX after %lld ms"),
		               (long long)p->res.reply_ms);
	} else if (pl->landed == DIAG_LANDED_JUNK) {
		/* Delivered, but where a reply detector may not look. */
		probe_step_end(p, s, false, _("the test message landed in Junk (%s) "
		               "after %lld ms"), pl->folders[ROLE_JUNK].name,
		               (long long)p->res.reply_ms);
	} else {
		/* Slow delivery is worth showing but is not a failed test. */
		probe_step_end(p, s, false, _("the test message reached neither INBOX "
		               "nor Junk within %d s"), p->opts.reply_wait_s);
	}
	if (seq > 0)
		fetch_message(x, seq);
	return 0;
}

/* Does the provider keep a copy of what was sent over SMTP in Sent? */
static void
do_sent_copy(struct ictx *x)
{
	struct probe *p = x->p;
	struct probe_placement *pl = &p->res.place;
	struct probe_step *s;
	char d[PROBE_DETAIL];
	long seq;
	int r;

	if (!pl->folders[ROLE_SENT].from) {
		pl->sent_copy = -1;
		return;
	}
	s = begin(x, "imap.sent_copy");
	seq = search_in(x, pl->folders[ROLE_SENT].raw, &r);
	if (seq < 0) {
		/* Not the test's failure: the answer stays unknown. */
		probe_step_end(p, s, false, "%s", detail(x, r, d, sizeof(d)));
		return;
	}
	pl->sent_copy = seq > 0;
	probe_step_end(p, s, true, seq > 0 ? _("a copy of the test message in %s") :
	               _("no copy of the test message in %s"),
	               pl->folders[ROLE_SENT].name);
}

/* Connect, TLS (implicit or STARTTLS, verified), greeting and CAPABILITY:
 * everything before a credential. 0 when all passed. */
static int
connect_phase(struct ictx *x)
{
	struct probe *p = x->p;
	struct probe_step *s;
	enum security sec = p->a.imap_security;
	const char *host = p->a.imap_host;
	char d[PROBE_DETAIL];
	int r;

	probe_io_init(p, &x->io, true, true);
	if (probe_open(p, &x->io, true, host, p->a.imap_port) < 0)
		return -1;
	if (sec == SEC_SSL && probe_tls(p, &x->io, true, host, p->a.imap_port) < 0)
		return -1;
	if (probe_stream_open(&x->io) < 0 || !(x->imap = mailimap_new(0, NULL))) {
		probe_fail_internal(&p->sink, true, STAGE_CONNECT);
		return -1;
	}
	s = begin(x, "imap.greeting");
	r = mailimap_connect(x->imap, x->io.stream);
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		fail_cmd(x, STAGE_GREETING, r);
		diag_conn_limit(imap_text(x, d, sizeof(d)), p->res.place.conn_limit,
		                sizeof p->res.place.conn_limit);
		probe_step_end(p, s, false, "%s", detail(x, r, d, sizeof(d)));
		return -1;
	}
	probe_step_end(p, s, true, "%s", imap_text(x, d, sizeof(d)));
	if (sec == SEC_STARTTLS) {
		s = begin(x, "imap.starttls");
		r = mailimap_starttls(x->imap);
		if (r != MAILIMAP_NO_ERROR) {
			fail_cmd(x, STAGE_STARTTLS, r);
			probe_step_end(p, s, false, "%s", detail(x, r, d, sizeof(d)));
			return -1;
		}
		/* Bytes buffered before the handshake could be injected. */
		if (x->imap->imap_stream && x->imap->imap_stream->read_buffer_len > 0) {
			probe_fail_reply(&p->sink, true, STAGE_STARTTLS, 0,
			                 "clear-text data after the STARTTLS reply", NULL);
			probe_step_end(p, s, false,
			               "%s", _("the server sent clear-text data after STARTTLS (refused)"));
			return -1;
		}
		probe_step_end(p, s, true, "%s", imap_text(x, d, sizeof(d)));
		if (probe_tls(p, &x->io, true, host, p->a.imap_port) < 0)
			return -1;
	}
	if (sec != SEC_NONE)
		probe_sink_tls_on(&p->sink);
	return do_capability(x);
}

static void
ictx_close(struct ictx *x)
{
	if (x->imap) {
		x->imap->imap_stream = NULL;   /* closed by probe_io */
		mailimap_free(x->imap);
		x->imap = NULL;
	}
	probe_io_close(&x->io);
}

static bool
offers(const struct ictx *x, const char *mech)
{
	char list[sizeof x->auth + 2], want[32];

	str_printf(list, sizeof list, " %s ", x->auth);
	str_printf(want, sizeof want, " %s ", mech);
	return strcasestr(list, want) != NULL;
}

/* Sends the raw bytes of a command (after the tag) and reads the first
 * line of the answer. */
static int
send_line(struct ictx *x, const char *line)
{
	mailstream *st = x->imap->imap_stream;

	if (mailstream_write(st, line, strlen(line)) < 0 ||
	    mailstream_flush(st) < 0 || mailimap_read_line(x->imap) == NULL)
		return MAILIMAP_ERROR_STREAM;
	return MAILIMAP_NO_ERROR;
}

/* AUTHENTICATE with the access token: OAUTHBEARER (RFC 7628) when
 * CAPABILITY offers it, else XOAUTH2, the initial response on the command
 * line as libetpan's XOAUTH2 sends it. libetpan has no OAUTHBEARER, and
 * its XOAUTH2 drops the server's error challenge and copies the token
 * outside locked memory, so both are done here. A refusal comes as "+ "
 * and RFC 7628's JSON in base64; the client answers it (OAUTHBEARER: a
 * lone %x01, XOAUTH2: an empty line) and the server ends with NO. The
 * JSON's status joins the server's words in *why (may stay ""). */
static int
auth_bearer(struct ictx *x, enum oauth_mech m, char *why, size_t whylen)
{
	struct probe *p = x->p;
	const char *user = account_imap_user(&p->a);
	size_t rawcap = strlen(user) + strlen(p->imap_pw) + 64;
	size_t b64cap = BASE64_LEN(rawcap) + 32;
	char *raw = secmem_alloc(rawcap), *line = secmem_alloc(b64cap + 32);
	char *b64 = secmem_alloc(b64cap);
	struct mailimap_response *resp = NULL;
	struct oauth_sasl_error se;
	char *buf;
	long n;
	int r = MAILIMAP_ERROR_MEMORY;

	why[0] = '\0';
	memset(&se, 0, sizeof se);
	if (!raw || !line || !b64)
		goto out;
	if ((n = oauth_sasl_initial(m, user, p->imap_pw, raw, rawcap)) < 0) {
		r = MAILIMAP_ERROR_INVAL;
		goto out;
	}
	base64_encode((const unsigned char *)raw, (size_t)n, b64, b64cap);
	str_printf(line, b64cap + 32, "AUTHENTICATE %s %s\r\n", oauth_mech_name(m),
	           b64);
	if ((r = mailimap_send_current_tag(x->imap)) != MAILIMAP_NO_ERROR ||
	    (r = send_line(x, line)) != MAILIMAP_NO_ERROR)
		goto out;
	buf = x->imap->imap_stream_buffer->str;
	if (buf[0] == '+') {
		char b[PROBE_DETAIL];

		/* The challenge is base64 of JSON: nothing secret in it. */
		probe_clean(p, b, sizeof b, buf + 1, strcspn(buf + 1, "\r\n"), false);
		oauth_sasl_error_parse(b[0] == ' ' ? b + 1 : b, &se);
		if ((r = send_line(x, m == OAUTH_OAUTHBEARER ? "AQ==\r\n" : "\r\n"))
		    != MAILIMAP_NO_ERROR)
			goto out;
	}
	if ((r = mailimap_parse_response(x->imap, &resp)) != MAILIMAP_NO_ERROR)
		goto out;
	if (resp->rsp_resp_done && resp->rsp_resp_done->rsp_type ==
	    MAILIMAP_RESP_DONE_TYPE_TAGGED &&
	    resp->rsp_resp_done->rsp_data.rsp_tagged->rsp_cond_state->rsp_type ==
	    MAILIMAP_RESP_COND_STATE_OK) {
		x->imap->imap_state = MAILIMAP_STATE_AUTHENTICATED;
		r = MAILIMAP_NO_ERROR;
	} else {
		r = MAILIMAP_ERROR_LOGIN;
	}
	mailimap_response_free(resp);
	if (r != MAILIMAP_NO_ERROR && se.status[0]) {
		char t[400];

		str_printf(why, whylen, "%s (OAuth status %s%s%s)",
		           imap_text(x, t, sizeof t), se.status,
		           se.scope[0] ? ", scope " : "", se.scope);
	}
out:
	secmem_free(raw, rawcap);
	secmem_free(b64, b64cap);
	secmem_free(line, b64cap + 32);
	return r;
}

int
probe_imap_check(struct probe *p, struct probe_check *out)
{
	struct ictx x;
	int rc;

	memset(&x, 0, sizeof(x));
	x.p = p;
	rc = connect_phase(&x);
	/* STARTTLS was offered when the server accepted it. */
	for (size_t i = 0; i < p->res.nsteps; i++)
		if (!strcmp(p->res.steps[i].name, "imap.starttls") && p->res.steps[i].ok)
			out->starttls = true;
	out->tls = p->res.ntls > 0;
	if (rc == 0) {
		str_copy(out->auth, sizeof(out->auth), x.auth);
		out->logindisabled = x.logindisabled;
		net_set_timeout(&x.io.conn, 2);
		mailimap_logout(x.imap);
	}
	ictx_close(&x);
	return rc;
}

int
probe_imap_run(struct probe *p, bool check_reply)
{
	struct ictx x;
	struct probe_step *s;
	char d[PROBE_DETAIL], why[PROBE_DETAIL] = "";
	enum oauth_mech mech = OAUTH_XOAUTH2;
	int r, rc = -1;

	memset(&x, 0, sizeof(x));
	x.p = p;
	if (connect_phase(&x) < 0)
		goto out;

	s = begin(&x, "imap.login");
	if (p->a.oauth) {
		if (offers(&x, "OAUTHBEARER"))
			mech = OAUTH_OAUTHBEARER;
		else if (!offers(&x, "XOAUTH2")) {
			probe_fail_reply(&p->sink, true, STAGE_IMAP_LOGIN, 0,
			                 "the server offers no AUTH=OAUTHBEARER or "
			                 "AUTH=XOAUTH2", NULL);
			probe_step_end(p, s, false, "%s", _("no OAuth mechanism (OAUTHBEARER, "
			               "XOAUTH2) among the capabilities"));
			goto out;
		}
	}
	/* An OAuth account's IMAP "password" is its access token. */
	r = p->a.oauth ? auth_bearer(&x, mech, why, sizeof why)
	               : mailimap_login(x.imap, account_imap_user(&p->a), p->imap_pw);
	probe_stream_wipe(x.imap->imap_stream);
	if (r != MAILIMAP_NO_ERROR) {
		if (why[0])
			probe_fail_reply(&p->sink, true, STAGE_IMAP_LOGIN, 0, why, NULL);
		else
			fail_cmd(&x, STAGE_IMAP_LOGIN, r);
		probe_step_end(p, s, false, "%s", why[0] ? why : detail(&x, r, d, sizeof(d)));
		/* A refusal may state the per-user connection limit. */
		diag_conn_limit(imap_text(&x, d, sizeof(d)), p->res.place.conn_limit,
		                sizeof p->res.place.conn_limit);
		wipe_reply(&x);
		goto out;
	}
	wipe_reply(&x);
	probe_step_end(p, s, true, _("%s%sas %s"), p->a.oauth ? oauth_mech_name(mech) : "",
	               p->a.oauth ? " " : "", account_imap_user(&p->a));
	probe_sink_auth_ok(&p->sink);

	s = begin(&x, "imap.select");
	r = mailimap_select(x.imap, "INBOX");
	if (r != MAILIMAP_NO_ERROR) {
		fail_cmd(&x, STAGE_IMAP_SELECT, r);
		probe_step_end(p, s, false, "%s", detail(&x, r, d, sizeof(d)));
		goto out;
	}
	probe_step_end(p, s, true, _("INBOX, %u messages"),
	               x.imap->imap_selection_info ?
	               x.imap->imap_selection_info->sel_exists : 0);
	if (do_folders(&x) < 0)
		goto out;
	if (check_reply && p->res.message_id[0]) {
		if (do_reply_check(&x) < 0)
			goto out;
		do_sent_copy(&x);
	}
	rc = 0;
	net_set_timeout(&x.io.conn, 2);
	mailimap_logout(x.imap);
out:
	ictx_close(&x);
	return rc;
}
