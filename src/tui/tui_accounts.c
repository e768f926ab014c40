/* The home screen, "Email Accounts": the list is read once with
 * store_account_foreach() (no secret is opened), kept in key order, filtered
 * live, and only the visible rows are drawn, so 10,000 accounts stay quick.
 * "Test all" runs a bounded pool of probe workers and updates rows live. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "i18n.h"
#include "secmem.h"
#include "tui.h"
#include "util.h"

/* The list's state is the screen's own. Other screens and the job runner
 * reach it through the functions in tui.h, which do nothing while the
 * list is not open (behind the unlock screen). */
static struct tui_accounts *
accounts_of(const struct tui *t)
{
	return tui_find(t, &tui_scr_accounts);
}

static const char *
sec_label(enum security s)
{
	return _(security_spell(s, SPELL_SHORT));
}

static void
row_from_account(struct tui_row *r, const struct account *a)
{
	unsigned char state = r->state;

	memset(r, 0, sizeof *r);
	r->state = state;
	if (account_key(a->email, r->key, sizeof r->key) != 0)
		str_copy(r->key, sizeof r->key, a->email);
	str_copy(r->email, sizeof r->email, a->email);
	str_copy(r->name, sizeof r->name, a->display_name);
	str_copy(r->smtp_host, sizeof r->smtp_host, a->smtp_host);
	r->smtp_port = a->smtp_port;
	r->smtp_sec = a->smtp_security;
	r->imap = a->imap_host[0] != '\0';
	r->last_time = a->last_test_time;
	str_copy(r->last_result, sizeof r->last_result, a->last_result);
}

static int
grow(struct tui_accounts *acc, size_t need)
{
	if (need <= acc->cap)
		return 0;
	size_t cap = acc->cap ? acc->cap : 64;
	while (cap < need)
		cap *= 2;
	struct tui_row *r = realloc(acc->rows, cap * sizeof *r);
	if (!r)
		return -1;
	acc->rows = r;
	size_t *v = realloc(acc->vis, cap * sizeof *v);
	if (!v)
		return -1;
	acc->vis = v;
	acc->cap = cap;
	return 0;
}

static int
load_cb(const struct account *a, void *ud)
{
	struct tui *t = ud;
	struct tui_accounts *acc = accounts_of(t);

	if (grow(acc, acc->n + 1) != 0)
		return -1;
	acc->rows[acc->n].state = ROW_IDLE;
	row_from_account(&acc->rows[acc->n], a);
	acc->n++;
	return 0;
}

static void
bad_cb(const char *key, const char *problem, void *ud)
{
	struct tui *t = ud;

	(void)key;
	(void)problem;
	accounts_of(t)->bad++;
}

static bool
contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return true;
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

static void
refilter(struct tui *t)
{
	struct tui_accounts *acc = accounts_of(t);
	const char *f = acc->filter.buf ? acc->filter.buf : "";
	size_t selrow = acc->nvis ? acc->vis[acc->sel] : (size_t)-1;

	acc->nvis = 0;
	for (size_t i = 0; i < acc->n; i++) {
		const struct tui_row *r = &acc->rows[i];

		if (contains(r->email, f) || contains(r->name, f) ||
		    contains(r->smtp_host, f))
			acc->vis[acc->nvis++] = i;
	}
	acc->sel = 0;
	for (size_t i = 0; i < acc->nvis; i++)
		if (acc->vis[i] == selrow)
			acc->sel = i;
	acc->top = 0;
	t->dirty = true;
}

int
tui_accounts_load(struct tui *t)
{
	struct tui_accounts *acc = accounts_of(t);

	if (!acc)
		return -1;
	if (!acc->filter.buf && tui_input_init(&acc->filter, 128, false) != 0)
		return -1;
	acc->n = 0;
	acc->bad = 0;
	if (grow(acc, 64) != 0)
		return -1;
	if (store_account_foreach(t->st, load_cb, bad_cb, t) != STORE_OK)
		return -1;
	if (acc->bad)
		tui_message(t, true, ngettext("%zu damaged account record skipped; "
		            "`fluenzr-tui store check` lists it.",
		            "%zu damaged account records skipped; "
		            "`fluenzr-tui store check` lists them.", acc->bad),
		            acc->bad);
	refilter(t);
	return 0;
}

static void
accounts_close(struct tui *t, void *priv)
{
	struct tui_accounts *acc = priv;

	(void)t;
	free(acc->rows);
	free(acc->vis);
	free(acc->pending);
	tui_input_free(&acc->filter);
}

/* Binary search in key order; *pos gets the insertion point. */
static struct tui_row *
find_key(struct tui_accounts *acc, const char *key, size_t *pos)
{
	size_t lo = 0, hi = acc->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(acc->rows[mid].key, key);

		if (c == 0) {
			if (pos)
				*pos = mid;
			return &acc->rows[mid];
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (pos)
		*pos = lo;
	return NULL;
}

struct tui_row *
tui_accounts_find(struct tui *t, const char *email)
{
	struct tui_accounts *acc = accounts_of(t);
	char key[ACCT_EMAIL_MAX + 1];

	if (!acc || account_key(email, key, sizeof key) != 0)
		return NULL;
	return find_key(acc, key, NULL);
}

void
tui_accounts_select(struct tui *t, const char *email)
{
	struct tui_accounts *acc = accounts_of(t);
	struct tui_row *r = tui_accounts_find(t, email);

	if (!r)
		return;
	for (size_t i = 0; i < acc->nvis; i++)
		if (&acc->rows[acc->vis[i]] == r)
			acc->sel = i;
}

void
tui_accounts_upsert(struct tui *t, const struct account *a)
{
	struct tui_accounts *acc = accounts_of(t);
	char key[ACCT_EMAIL_MAX + 1];
	struct tui_row *r;
	size_t pos;

	if (!acc || account_key(a->email, key, sizeof key) != 0)
		return;
	r = find_key(acc, key, &pos);
	if (!r) {
		if (grow(acc, acc->n + 1) != 0)
			return;
		memmove(&acc->rows[pos + 1], &acc->rows[pos],
		        (acc->n - pos) * sizeof acc->rows[0]);
		acc->n++;
		r = &acc->rows[pos];
		r->state = ROW_IDLE;
	}
	row_from_account(r, a);
	refilter(t);
	tui_accounts_select(t, a->email);
}

void
tui_accounts_remove(struct tui *t, const char *email)
{
	struct tui_accounts *acc = accounts_of(t);
	char key[ACCT_EMAIL_MAX + 1];
	size_t pos;

	if (!acc || account_key(email, key, sizeof key) != 0 ||
	    !find_key(acc, key, &pos))
		return;
	memmove(&acc->rows[pos], &acc->rows[pos + 1],
	        (acc->n - pos - 1) * sizeof acc->rows[0]);
	acc->n--;
	refilter(t);
	if (pos > 0 && acc->nvis)
		acc->sel = pos - 1 < acc->nvis ? pos - 1 : acc->nvis - 1;
}

/* ---- "test all" --------------------------------------------------------- */

bool
tui_accounts_busy(const struct tui *t)
{
	const struct tui_accounts *acc = accounts_of(t);

	return (acc && acc->pending_pos < acc->npending) ||
	       tui_jobs_count(t, JOB_BATCH) > 0;
}

static void
batch_fill(struct tui *t)
{
	struct tui_accounts *acc = accounts_of(t);

	while (acc->pending_pos < acc->npending &&
	       tui_jobs_count(t, JOB_BATCH) < TUI_POOL) {
		const char *email = acc->pending[acc->pending_pos++];
		struct tui_row *r = tui_accounts_find(t, email);
		struct account a;
		char *pw, *ipw;
		unsigned id;

		if (!r || store_account_get(t->st, email, &a) != STORE_OK) {
			if (r)
				r->state = ROW_IDLE;
			acc->batch_done++;
			continue;
		}
		if (tui_open_passwords(t, email, &pw, &ipw) != 0) {
			r->state = ROW_IDLE;    /* not tested: a failure */
			acc->batch_done++;
			continue;
		}
		id = tui_job_start(t, JOB_BATCH, &a, pw, ipw, true);
		tui_secfree(&pw);
		tui_secfree(&ipw);
		if (id == 0) {
			/* No slot: try again when a batch job ends. With none
			 * running nothing would call back, so this account is
			 * counted as not tested rather than left pending. */
			if (tui_jobs_count(t, JOB_BATCH) > 0) {
				acc->pending_pos--;
				break;
			}
			r->state = ROW_IDLE;
			acc->batch_done++;
			tui_message(t, true, _("Could not start a test for %s."), email);
			continue;
		}
		r->state = ROW_RUNNING;
	}
}

static void
batch_status(struct tui *t)
{
	struct tui_accounts *acc = accounts_of(t);

	if (tui_accounts_busy(t))
		tui_message(t, false, _("Testing: %zu of %zu done, %zu ok. Esc stops."),
		            acc->batch_done, acc->batch_total, acc->batch_ok);
	else if (acc->batch_stopped)
		tui_message(t, true, ngettext("Tested %zu account: %zu ok, %zu failed, "
		            "%zu stopped.", "Tested %zu accounts: %zu ok, %zu failed, "
		            "%zu stopped.", acc->batch_total), acc->batch_total,
		            acc->batch_ok,
		            acc->batch_total - acc->batch_ok - acc->batch_stopped,
		            acc->batch_stopped);
	else
		tui_message(t, acc->batch_ok < acc->batch_total,
		            ngettext("Tested %zu account: %zu ok, %zu failed.",
		                     "Tested %zu accounts: %zu ok, %zu failed.",
		                     acc->batch_total),
		            acc->batch_total, acc->batch_ok, acc->batch_total - acc->batch_ok);
}

void
tui_accounts_job_done(struct tui *t, struct tui_job *j)
{
	struct tui_accounts *acc = accounts_of(t);
	struct tui_row *r = tui_accounts_find(t, j->acct.email);

	tui_record_result(t, j);
	if (!acc)
		return;
	if (r)
		r->state = ROW_IDLE;
	acc->batch_done++;
	if (j->cat == DIAG_OK)
		acc->batch_ok++;
	else if (j->cat == DIAG_CANCELLED)
		acc->batch_stopped++;
	batch_fill(t);
	batch_status(t);
}

void
tui_accounts_cancel_batch(struct tui *t)
{
	struct tui_accounts *acc = accounts_of(t);

	if (!acc)
		return;
	for (size_t i = acc->pending_pos; i < acc->npending; i++) {
		struct tui_row *r = tui_accounts_find(t, acc->pending[i]);

		if (r)
			r->state = ROW_IDLE;
	}
	acc->batch_total -= acc->npending - acc->pending_pos;
	acc->npending = acc->pending_pos = 0;
	for (int i = 0; i < TUI_MAX_JOBS; i++)
		if (t->jobs[i].used && t->jobs[i].kind == JOB_BATCH)
			tui_job_cancel(t, t->jobs[i].id);
}

static void
test_all(struct tui *t)
{
	struct tui_accounts *acc = accounts_of(t);

	if (tui_accounts_busy(t)) {
		tui_message(t, true, _("A test of all accounts is running; Esc stops it."));
		return;
	}
	if (acc->nvis == 0) {
		tui_message(t, true, _("No account to test."));
		return;
	}
	if (!store_is_unlocked(t->st)) {
		tui_message(t, true, _("The store is locked: passwords cannot be opened."));
		return;
	}
	free(acc->pending);
	acc->pending = calloc(acc->nvis, sizeof *acc->pending);
	if (!acc->pending) {
		acc->npending = 0;
		return;
	}
	for (size_t i = 0; i < acc->nvis; i++) {
		struct tui_row *r = &acc->rows[acc->vis[i]];

		str_copy(acc->pending[i], sizeof acc->pending[i], r->email);
		r->state = ROW_QUEUED;
	}
	acc->npending = acc->nvis;
	acc->pending_pos = 0;
	acc->batch_total = acc->nvis;
	acc->batch_done = acc->batch_ok = acc->batch_stopped = 0;
	batch_fill(t);
	batch_status(t);
}

/* ---- actions ------------------------------------------------------------ */

static struct tui_row *
selected(struct tui *t)
{
	struct tui_accounts *acc = accounts_of(t);

	if (acc->nvis == 0)
		return NULL;
	return &acc->rows[acc->vis[acc->sel]];
}

static void
delete_answer(struct tui *t, bool yes, void *ud)
{
	char *email = ud;
	int rc;

	if (yes) {
		rc = store_account_remove(t->st, email);
		if (rc == STORE_OK) {
			tui_accounts_remove(t, email);
			tui_message(t, false, _("Deleted %s."), email);
		} else {
			tui_message(t, true, _("Could not delete %s: %s"), email,
			            store_strerror(rc));
		}
	}
	free(email);
}

static void
test_one(struct tui *t)
{
	struct tui_row *r = selected(t);
	struct account a;
	char *pw, *ipw;

	if (!r)
		return;
	if (store_account_get(t->st, r->email, &a) != STORE_OK) {
		tui_message(t, true, _("Cannot read %s from the store."), r->email);
		return;
	}
	if (tui_open_passwords(t, r->email, &pw, &ipw) != 0)
		return;
	if (!pw && !store_is_unlocked(t->st))
		tui_message(t, true, _("The store is locked: testing without the "
		            "password."));
	tui_diag_start(t, &a, pw, ipw, true, false);
	tui_secfree(&pw);
	tui_secfree(&ipw);
}

static void
move_sel(struct tui *t, long delta)
{
	struct tui_accounts *acc = accounts_of(t);
	long s = (long)acc->sel + delta;

	if (acc->nvis == 0)
		return;
	if (s < 0)
		s = 0;
	if (s >= (long)acc->nvis)
		s = (long)acc->nvis - 1;
	acc->sel = (size_t)s;
}

static int
body_rows(void)
{
	return LINES - 5;       /* title, header, filter line, message, hints */
}

static enum tui_result
accounts_key(struct tui *t, void *priv, int key)
{
	struct tui_accounts *acc = priv;
	struct tui_row *r;
	bool changed;

	if (acc->filtering) {
		if (key == TUI_ESC) {
			tui_input_set(&acc->filter, "");
			acc->filtering = false;
			refilter(t);
			return TUI_REDRAW;
		}
		if (key == '\n' || key == '\r' || key == TUI_FN(KEY_ENTER)) {
			acc->filtering = false;
			return TUI_REDRAW;
		}
		if (tui_input_key(&acc->filter, key, &changed)) {
			if (changed)
				refilter(t);
			return TUI_REDRAW;
		}
	}
	if (tui_global_key(t, key))
		return TUI_REDRAW;
	switch (tui_keys_lookup(KS_ACCOUNTS, key)) {
	case ACT_ADD:
		tui_form_open(t, NULL);
		break;
	case ACT_EDIT:
		if ((r = selected(t)))
			tui_form_open(t, r->email);
		break;
	case ACT_TEST:
		test_one(t);
		break;
	case ACT_TEST_ALL:
		test_all(t);
		break;
	case ACT_DELETE:
		if ((r = selected(t))) {
			char *e = strdup(r->email);

			if (e)
				tui_yesno(t, false, delete_answer, e,
				          _("Delete %s and its password? y/n"), r->email);
		}
		break;
	case ACT_FILTER:
		acc->filtering = true;
		break;
	case ACT_CLEAR:
		if (tui_accounts_busy(t)) {
			tui_accounts_cancel_batch(t);
			tui_message(t, false, _("Stopping the tests..."));
		} else if (acc->filter.len) {
			tui_input_set(&acc->filter, "");
			refilter(t);
		}
		break;
	case ACT_AUTHORIZE:
		if ((r = selected(t)))
			tui_signin_open(t, r->email);
		break;
	case ACT_DOMAIN:
		if ((r = selected(t)))
			tui_domain_open(t, r->email);
		break;
	case ACT_STORE:
		tui_store_open(t);
		break;
	case ACT_QUIT:
		return TUI_QUIT;
	case ACT_UP:
		move_sel(t, -1);
		break;
	case ACT_DOWN:
		move_sel(t, 1);
		break;
	case ACT_PGUP:
		move_sel(t, -body_rows());
		break;
	case ACT_PGDN:
		move_sel(t, body_rows());
		break;
	case ACT_TOP:
		acc->sel = 0;
		break;
	case ACT_BOTTOM:
		if (acc->nvis)
			acc->sel = acc->nvis - 1;
		break;
	default:
		break;
	}
	return TUI_REDRAW;
}

/* ---- drawing ------------------------------------------------------------ */

enum { C_STATUS, C_HEALTH, C_EMAIL, C_NAME, C_SMTP, C_IMAP, C_TESTED, C_N };

/* The Health column needs room: under 100 columns it is left out (the
 * addresses and servers keep their width) and the selected account's
 * health is still on the line above the keys. */
#define HEALTH_MIN_COLS 100

static void
columns(int x[C_N], int w[C_N])
{
	static const int fixed[C_N] = { 13, 12, 0, 0, 0, 4, 8 };
	static const int weight[C_N] = { 0, 0, 4, 2, 4, 0, 0 };
	bool health = COLS >= HEALTH_MIN_COLS;
	int ncols = health ? C_N : C_N - 1;
	int flex = COLS - 1 - (ncols - 1), sum = 0, pos = 1;

	for (int i = 0; i < C_N; i++)
		if (i != C_HEALTH || health)
			flex -= fixed[i];
	for (int i = 0; i < C_N; i++)
		sum += weight[i];
	for (int i = 0; i < C_N; i++) {
		if (i == C_HEALTH && !health) {
			w[i] = 0;
			x[i] = pos;
			continue;
		}
		w[i] = fixed[i] ? fixed[i] : flex * weight[i] / sum;
		x[i] = pos;
		pos += w[i] + 1;
	}
}

/* The row's health, read once from the store (app_health_of(), the rule
 * of `account list` and `check`). */
static const struct app_health_info *
row_health(struct tui *t, struct tui_row *r, int64_t now)
{
	if (!r->health_known) {
		struct store_history h;

		memset(&h, 0, sizeof h);
		if (t->st)
			(void)store_history_get(t->st, r->email, &h);
		app_health_of(&h, now, t->secret_days, &r->health);
		r->health_known = true;
	}
	return &r->health;
}

/* "Healthy ++++", "Failing +xx": the state's word and the latest results
 * that fit. */
static void
health_cell(const struct tui *t, const struct app_health_info *h, int width,
            char *buf, size_t len)
{
	static const char *const word[] = { "-", N_("Healthy"), N_("Attention"), N_("Failing") };
	const char *wd = _(word[h->state <= APP_HEALTH_FAILING ? h->state : 0]);
	/* the word's width in columns: a translation may take several bytes
	 * a column */
	size_t wcols = (size_t)tui_cols(t, wd);
	size_t n = strlen(h->strip), room = (size_t)width > wcols + 1 ?
	                                     (size_t)width - wcols - 1 : 0;

	str_printf(buf, len, "%s %s", wd, h->strip + (n > room ? n - room : 0));
}

static void
draw_row(struct tui *t, int y, struct tui_row *r, bool sel,
         const int x[C_N], const int w[C_N], int64_t now)
{
	const struct app_health_info *h = row_health(t, r, now);
	char buf[ACCT_HOST_MAX + 32];
	attr_t base = sel ? tui_attr(t, CP_SEL) : A_NORMAL;
	attr_t mark;
	const char *res;

	if (sel) {
		attron(base);
		mvhline(y, 0, ' ', COLS);
	}
	if (r->state == ROW_RUNNING) {
		str_printf(buf, sizeof buf, _("%s testing"), tui_spinner(t));
		mark = tui_attr(t, CP_WARN);
	} else if (r->state == ROW_QUEUED) {
		str_printf(buf, sizeof buf, _("%s queued"), tui_mark_never(t));
		mark = tui_attr(t, CP_DIM);
	} else if (r->last_time <= 0 || !r->last_result[0]) {
		str_printf(buf, sizeof buf, _("%s never"), tui_mark_never(t));
		mark = A_NORMAL;
	} else if (strcmp(r->last_result, "ok") == 0) {
		str_printf(buf, sizeof buf, "%s ok", tui_mark_ok(t));
		mark = tui_attr(t, CP_OK) | A_BOLD;
	} else {
		res = r->last_result;
		str_printf(buf, sizeof buf, "%s %s", tui_mark_fail(t), res);
		mark = tui_attr(t, CP_FAIL) | A_BOLD;
	}
	if (!sel)
		attron(mark);
	tui_put(t, y, x[C_STATUS], w[C_STATUS], buf, false, true);
	if (!sel)
		attroff(mark);
	if (w[C_HEALTH])
		health_cell(t, h, w[C_HEALTH], buf, sizeof buf);
	mark = h->state == APP_HEALTH_FAILING ? tui_attr(t, CP_FAIL) :
	       h->state == APP_HEALTH_ATTENTION ? tui_attr(t, CP_WARN) :
	       h->state == APP_HEALTH_OK ? tui_attr(t, CP_OK) : tui_attr(t, CP_DIM);
	if (w[C_HEALTH]) {
		if (!sel)
			attron(mark);
		tui_put(t, y, x[C_HEALTH], w[C_HEALTH], buf, false, true);
		if (!sel)
			attroff(mark);
	}
	tui_put(t, y, x[C_EMAIL], w[C_EMAIL], r->email, false, true);
	tui_put(t, y, x[C_NAME], w[C_NAME], r->name, false, true);
	str_printf(buf, sizeof buf, "%s:%u %s", r->smtp_host, r->smtp_port,
	           sec_label(r->smtp_sec));
	tui_put(t, y, x[C_SMTP], w[C_SMTP], buf, false, true);
	tui_put(t, y, x[C_IMAP], w[C_IMAP], r->imap ? _("on") : _("off"), false, true);
	tui_reltime(r->last_time, now, buf, sizeof buf);
	tui_put(t, y, x[C_TESTED], w[C_TESTED], buf, false, true);
	if (sel)
		attroff(base);
}

static void
accounts_draw(struct tui *t, void *priv)
{
	struct tui_accounts *acc = priv;
	int x[C_N], w[C_N], rows = body_rows();
	int64_t now = (int64_t)time(NULL);
	char line[256];

	columns(x, w);
	attron(A_BOLD);
	tui_put(t, 1, x[C_STATUS], w[C_STATUS], _("Status"), false, true);
	if (w[C_HEALTH])
		tui_put(t, 1, x[C_HEALTH], w[C_HEALTH], _("Health"), false, true);
	tui_put(t, 1, x[C_EMAIL], w[C_EMAIL], _("Email"), false, true);
	tui_put(t, 1, x[C_NAME], w[C_NAME], _("Name"), false, true);
	tui_put(t, 1, x[C_SMTP], w[C_SMTP], _("SMTP server"), false, true);
	tui_put(t, 1, x[C_IMAP], w[C_IMAP], "IMAP", false, true);
	tui_put(t, 1, x[C_TESTED], w[C_TESTED], _("Tested"), false, true);
	attroff(A_BOLD);

	if (acc->sel >= acc->nvis)
		acc->sel = acc->nvis ? acc->nvis - 1 : 0;
	if (acc->sel < acc->top)
		acc->top = acc->sel;
	if (acc->sel >= acc->top + (size_t)rows)
		acc->top = acc->sel - (size_t)rows + 1;
	if (acc->top + (size_t)rows > acc->nvis)
		acc->top = acc->nvis > (size_t)rows ? acc->nvis - (size_t)rows : 0;

	if (acc->n == 0) {
		const char *m = _("No accounts yet. Press a to add one.");

		attron(A_BOLD);
		tui_put(t, 2 + rows / 2 - 1, COLS > tui_cols(t, m) ? (COLS - tui_cols(t, m)) / 2 : 0, COLS, m,
		        false, true);
		attroff(A_BOLD);
		m = _("You need the SMTP server, port and password.");
		tui_put(t, 2 + rows / 2 + 1, COLS > tui_cols(t, m) ? (COLS - tui_cols(t, m)) / 2 : 0, COLS,
		        m, false, true);
	} else if (acc->nvis == 0) {
		const char *m = _("No account matches the filter. Esc clears it.");

		tui_put(t, 2 + rows / 2, COLS > tui_cols(t, m) ? (COLS - tui_cols(t, m)) / 2 : 0, COLS, m,
		        false, true);
	}
	/* Only the rows on screen are drawn. */
	for (int i = 0; i < rows && acc->top + (size_t)i < acc->nvis; i++) {
		size_t v = acc->top + (size_t)i;

		draw_row(t, 2 + i, &acc->rows[acc->vis[v]], v == acc->sel, x, w,
		         now);
	}

	/* Filter / count line. */
	if (acc->filtering || acc->filter.len) {
		attron(A_BOLD);
		tui_put(t, LINES - 3, 0, 8, _("Filter /"), false, false);
		attroff(A_BOLD);
		tui_draw_input(t, &acc->filter, LINES - 3, 9, 30, acc->filtering,
		               false);
		if (!acc->filtering)
			t->cur_y = -1;
		str_printf(line, sizeof line, ngettext("%zu of %zu account",
		           "%zu of %zu accounts", acc->n), acc->nvis, acc->n);
	} else {
		str_printf(line, sizeof line, ngettext("%zu account",
		           "%zu accounts", acc->n), acc->n);
		/* The selected account's health in words: since when it
		 * fails, how old its password is. */
		if (acc->nvis && acc->sel < acc->nvis) {
			struct tui_row *r = &acc->rows[acc->vis[acc->sel]];
			const struct app_health_info *h = row_health(t, r, now);
			char text[320];

			if (h->state == APP_HEALTH_FAILING || h->state == APP_HEALTH_ATTENTION ||
			    h->secret_old) {
				app_health_text(h, text, sizeof text);
				tui_put(t, LINES - 3, 1, COLS - 2 - tui_cols(t, line) - 2, text,
				        false, true);
			}
		}
	}
	attron(tui_attr(t, CP_DIM));
	tui_put(t, LINES - 3, COLS - 1 - tui_cols(t, line), COLS, line, false,
	        false);
	attroff(tui_attr(t, CP_DIM));
}

const struct screen_ops tui_scr_accounts = {
	.ks = KS_ACCOUNTS, .title = N_("Email Accounts"),
	.private_size = sizeof(struct tui_accounts),
	.draw = accounts_draw, .key = accounts_key, .close = accounts_close,
};
