/* What happens to an account, kept beside its record: its last results
 * (time, category, reason, duration) and when its password was last set
 * (never the password). One value per account in the "activity" database,
 * made when first needed: a store written before it has none, and an
 * older program that does not know it never opens it.
 *
 * The value is text: "v=1", then "pw=SECONDS", up to STORE_HISTORY_MAX
 * lines "e=WHEN MS CATEGORY REASON" (oldest first), the sending counts
 * "s=HOUR COUNT", "last=SECONDS", "pause=UNTIL WHY" and the account's own
 * limits "lim=PROFILE DAY HOUR INTERVAL", and what the last test message
 * showed, "seen=WHEN D S IP" ("-" for what it did not). It is not authenticated
 * like a record: it decides nothing (no server, no credential), and a
 * forged one shows a wrong health until the next check rewrites it. It
 * is parsed as hostile all the same; unknown keys are skipped, so that a
 * later version may add some. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "store.h"
#include "store_int.h"
#include "i18n.h"
#include "util.h"

#define ACTIVITY_DB  "activity"
#define ACTIVITY_MAX 8192

/* The activity database in txn; MDB_NOTFOUND (read-only) when the store
 * has none yet. */
static int
activity_dbi(MDB_txn *txn, bool create, MDB_dbi *dbi)
{
	return mdb_dbi_open(txn, ACTIVITY_DB, create ? MDB_CREATE : 0, dbi);
}

static bool
parse_num(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;

	if (n == 0 || n > 15)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* One "e=" value: WHEN MS CATEGORY REASON (the reason may be empty and may
 * hold spaces). */
static bool
parse_event(const char *s, size_t n, struct store_event *e)
{
	const char *f[3];
	size_t fl[3], k = 0, i = 0, start = 0;

	memset(e, 0, sizeof(*e));
	for (; i <= n && k < 3; i++) {
		if (i == n || s[i] == ' ') {
			f[k] = s + start;
			fl[k++] = i - start;
			start = i + 1;
		}
	}
	if (k < 3 || !parse_num(f[0], fl[0], &e->when) || !parse_num(f[1], fl[1], &e->ms) ||
	    fl[2] == 0 || fl[2] > ACCT_RESULT_MAX)
		return false;
	memcpy(e->category, f[2], fl[2]);
	e->category[fl[2]] = '\0';
	if (start < n) {
		if (n - start > STORE_REASON_MAX)
			return false;
		memcpy(e->reason, s + start, n - start);
		e->reason[n - start] = '\0';
	}
	return valid_text(e->category, ACCT_RESULT_MAX) == NULL &&
	       !strchr(e->category, ' ') &&
	       valid_text(e->reason, STORE_REASON_MAX) == NULL;
}

/* The characters a seen value may hold ("-" alone is "none"). */
#define SEEN_DOMAIN "abcdefghijklmnopqrstuvwxyz0123456789.-_"
#define SEEN_SELECTOR "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_"
#define SEEN_IP "0123456789abcdefABCDEF.:"

static bool
seen_ok(const char *v, size_t cap, const char *set)
{
	return strnlen(v, cap) < cap && strspn(v, set) == strlen(v) &&
	       strcmp(v, "-") != 0;
}

static bool
seen_field(const char **s, const char *end, char *out, size_t cap,
           const char *set)
{
	const char *sp = memchr(*s, ' ', (size_t)(end - *s));
	size_t n = (size_t)((sp ? sp : end) - *s);

	if (n == 0 || n >= cap)
		return false;
	memcpy(out, *s, n);
	out[n] = '\0';
	*s = sp ? sp + 1 : end;
	if (strcmp(out, "-") == 0) {
		out[0] = '\0';
		return true;
	}
	return seen_ok(out, cap, set);
}

/* "seen=WHEN D S IP". */
static bool
parse_seen(const char *s, size_t n, struct store_history *h)
{
	const char *end = s + n, *sp = memchr(s, ' ', n);

	if (!sp || !parse_num(s, (size_t)(sp - s), &h->seen_when))
		return false;
	s = sp + 1;
	return seen_field(&s, end, h->seen_dkim_d, sizeof h->seen_dkim_d, SEEN_DOMAIN) &&
	       seen_field(&s, end, h->seen_dkim_s, sizeof h->seen_dkim_s, SEEN_SELECTOR) &&
	       seen_field(&s, end, h->seen_relay_ip, sizeof h->seen_relay_ip, SEEN_IP) &&
	       s == end;
}

static int
activity_parse(const char *p, size_t len, struct store_history *h)
{
	size_t pos = 4;

	memset(h, 0, sizeof(*h));
	if (len < 4 || len > ACTIVITY_MAX || memcmp(p, "v=1\n", 4) != 0 ||
	    memchr(p, '\0', len))
		return -1;
	while (pos < len) {
		const char *line = p + pos, *nl = memchr(line, '\n', len - pos);
		size_t n;

		if (!nl)
			return -1;
		n = (size_t)(nl - line);
		if (n > 3 && memcmp(line, "pw=", 3) == 0) {
			if (!parse_num(line + 3, n - 3, &h->secret_set))
				return -1;
		} else if (n > 2 && memcmp(line, "s=", 2) == 0) {
			const char *sp = memchr(line + 2, ' ', n - 2);
			int64_t hr, cnt;

			if (!sp || h->nsend == STORE_SEND_HOURS ||
			    !parse_num(line + 2, (size_t)(sp - line - 2), &hr) ||
			    !parse_num(sp + 1, (size_t)(line + n - sp - 1), &cnt) ||
			    cnt > 100000000)
				return -1;
			h->send_hour[h->nsend] = hr;
			h->send_count[h->nsend++] = (unsigned)cnt;
		} else if (n > 5 && memcmp(line, "last=", 5) == 0) {
			if (!parse_num(line + 5, n - 5, &h->last_sent))
				return -1;
		} else if (n > 6 && memcmp(line, "pause=", 6) == 0) {
			const char *sp = memchr(line + 6, ' ', n - 6);
			size_t wl = sp ? (size_t)(line + n - sp - 1) : 0;

			if (!parse_num(line + 6, sp ? (size_t)(sp - line - 6) : n - 6,
			               &h->paused_until) || wl > STORE_REASON_MAX)
				return -1;
			if (sp)
				memcpy(h->pause_why, sp + 1, wl);
			h->pause_why[wl] = '\0';
			if (valid_text(h->pause_why, STORE_REASON_MAX))
				return -1;
		} else if (n > 4 && memcmp(line, "lim=", 4) == 0) {
			char prof[STORE_PROFILE_MAX + 1];
			unsigned long d, hr, iv;
			char tmp[96];
			int used = 0;

			if (n - 4 >= sizeof(tmp))
				return -1;
			memcpy(tmp, line + 4, n - 4);
			tmp[n - 4] = '\0';
			if (sscanf(tmp, "%15[a-z] %lu %lu %lu%n", prof, &d, &hr, &iv, &used) != 4 ||
			    (size_t)used != n - 4 || d > 10000000 || hr > 10000000 || iv > 10000000)
				return -1;
			str_copy(h->profile, sizeof(h->profile), prof);
			h->lim_day = (unsigned)d;
			h->lim_hour = (unsigned)hr;
			h->lim_interval = (unsigned)iv;
		} else if (n > 5 && memcmp(line, "seen=", 5) == 0) {
			if (!parse_seen(line + 5, n - 5, h))
				return -1;
		} else if (n > 2 && memcmp(line, "e=", 2) == 0) {
			if (h->n == STORE_HISTORY_MAX ||
			    !parse_event(line + 2, n - 2, &h->ev[h->n]))
				return -1;
			h->n++;
		}
		pos += n + 1;
	}
	return 0;
}

static int
activity_format(const struct store_history *h, char *buf, size_t len)
{
	size_t pos;
	size_t i;

	if (str_copy(buf, len, "v=1\n") < 0)
		return -1;
	pos = 4;
	if (h->secret_set > 0) {
		if (str_printf(buf + pos, len - pos, "pw=%lld\n", (long long)h->secret_set) < 0)
			return -1;
		pos += strlen(buf + pos);
	}
	for (i = 0; i < h->n; i++) {
		const struct store_event *e = &h->ev[i];

		if (str_printf(buf + pos, len - pos, "e=%lld %lld %s %s\n",
		               (long long)e->when, (long long)e->ms, e->category,
		               e->reason) < 0)
			return -1;
		pos += strlen(buf + pos);
	}
	for (i = 0; i < h->nsend; i++) {
		if (str_printf(buf + pos, len - pos, "s=%lld %u\n",
		               (long long)h->send_hour[i], h->send_count[i]) < 0)
			return -1;
		pos += strlen(buf + pos);
	}
	if (h->last_sent > 0) {
		if (str_printf(buf + pos, len - pos, "last=%lld\n", (long long)h->last_sent) < 0)
			return -1;
		pos += strlen(buf + pos);
	}
	if (h->paused_until > 0) {
		if (str_printf(buf + pos, len - pos, "pause=%lld%s%s\n",
		               (long long)h->paused_until, h->pause_why[0] ? " " : "",
		               h->pause_why) < 0)
			return -1;
		pos += strlen(buf + pos);
	}
	if (h->profile[0]) {
		if (str_printf(buf + pos, len - pos, "lim=%s %u %u %u\n", h->profile,
		               h->lim_day, h->lim_hour, h->lim_interval) < 0)
			return -1;
		pos += strlen(buf + pos);
	}
	if (h->seen_when > 0) {
		if (str_printf(buf + pos, len - pos, "seen=%lld %s %s %s\n",
		               (long long)h->seen_when,
		               h->seen_dkim_d[0] ? h->seen_dkim_d : "-",
		               h->seen_dkim_s[0] ? h->seen_dkim_s : "-",
		               h->seen_relay_ip[0] ? h->seen_relay_ip : "-") < 0)
			return -1;
		pos += strlen(buf + pos);
	}
	return (int)pos;
}

/* The account's activity in txn (empty when none). */
static int
activity_read(MDB_txn *txn, bool create, const char *akey,
              struct store_history *h)
{
	MDB_dbi dbi;
	MDB_val k = mval(akey, strlen(akey)), v;
	int mrc = activity_dbi(txn, create, &dbi);

	memset(h, 0, sizeof(*h));
	if (mrc == MDB_NOTFOUND)
		return STORE_OK;
	if (mrc == 0)
		mrc = mdb_get(txn, dbi, &k, &v);
	if (mrc == MDB_NOTFOUND)
		return STORE_OK;
	if (mrc != 0)
		return mdb_to_store(mrc);
	if (activity_parse(v.mv_data, v.mv_size, h) < 0) {
		memset(h, 0, sizeof(*h));
		return STORE_ECORRUPT;
	}
	return STORE_OK;
}

static int
activity_write(MDB_txn *txn, const char *akey, const struct store_history *h,
               char *err, size_t errlen)
{
	char buf[ACTIVITY_MAX + 1];
	MDB_dbi dbi;
	MDB_val k = mval(akey, strlen(akey)), v;
	int n = activity_format(h, buf, sizeof(buf)), mrc;

	if (n < 0)
		return STORE_EINVAL;
	mrc = activity_dbi(txn, true, &dbi);
	if (mrc == 0) {
		v = mval(buf, (size_t)n);
		mrc = mdb_put(txn, dbi, &k, &v, 0);
	}
	return mrc ? mdb_fail(mrc, _("cannot write the account's history"), err, errlen)
	           : STORE_OK;
}

int
activity_secret_set(struct store *st, MDB_txn *txn, const char *akey,
                    int64_t when, char *err, size_t errlen)
{
	struct store_history h;

	(void)st;
	/* A damaged value is replaced: its history is lost, not the change. */
	(void)activity_read(txn, true, akey, &h);
	h.secret_set = when;
	return activity_write(txn, akey, &h, err, errlen);
}

int
activity_move(struct store *st, MDB_txn *txn, const char *old_key,
              const char *new_key, char *err, size_t errlen)
{
	struct store_history h;
	MDB_dbi dbi;
	MDB_val k = mval(old_key, strlen(old_key));
	int mrc, rc;

	(void)st;
	if (activity_dbi(txn, false, &dbi) == MDB_NOTFOUND)
		return STORE_OK;
	rc = activity_read(txn, false, old_key, &h);
	mrc = mdb_del(txn, dbi, &k, NULL);
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		return mdb_fail(mrc, _("cannot move the account's history"), err, errlen);
	if (!new_key || rc != STORE_OK)
		return STORE_OK;
	return activity_write(txn, new_key, &h, err, errlen);
}

int
store_history_get(struct store *st, const char *email, struct store_history *h)
{
	char akey[ACCT_EMAIL_MAX + 1];
	MDB_txn *txn;
	int rc;

	memset(h, 0, sizeof(*h));
	if (st == NULL || email == NULL)
		return STORE_EINVAL;
	if (account_key(email, akey, sizeof(akey)) < 0)
		return STORE_ENOENT;
	rc = txn_begin(st, MDB_RDONLY, &txn, NULL, 0);
	if (rc != STORE_OK)
		return rc == ST_GROW ? STORE_EIO : rc;
	rc = activity_read(txn, false, akey, h);
	mdb_txn_abort(txn);
	return rc;
}

struct event_ctx {
	const char *akey;
	const struct store_event *e;
	struct store_history *out;
};

static int
event_write(struct store *st, MDB_txn *txn, void *vctx, char *err, size_t errlen)
{
	struct event_ctx *c = vctx;
	struct store_history h;
	int rc;

	/* The last result on the record, as store_set_result() writes it. */
	rc = result_write_txn(st, txn, c->akey, c->e->when, c->e->category, err, errlen);
	if (rc != STORE_OK)
		return rc;
	(void)activity_read(txn, true, c->akey, &h);
	if (h.n == STORE_HISTORY_MAX) {
		memmove(&h.ev[0], &h.ev[1], (STORE_HISTORY_MAX - 1) * sizeof(h.ev[0]));
		h.n--;
	}
	h.ev[h.n++] = *c->e;
	rc = activity_write(txn, c->akey, &h, err, errlen);
	if (rc == STORE_OK && c->out)
		*c->out = h;
	return rc;
}

int
store_history_add(struct store *st, const char *email,
                  const struct store_event *e, struct store_history *after,
                  char *err, size_t errlen)
{
	char akey[ACCT_EMAIL_MAX + 1];
	struct event_ctx c;

	if (st == NULL || email == NULL || e == NULL || e->when < 0 || e->ms < 0 ||
	    e->when > 999999999999999LL || e->ms > 999999999999999LL ||
	    valid_text(e->category, ACCT_RESULT_MAX) != NULL || !e->category[0] ||
	    strchr(e->category, ' ') || valid_text(e->reason, STORE_REASON_MAX) != NULL)
		return STORE_EINVAL;
	if (account_key(email, akey, sizeof(akey)) < 0)
		return STORE_ENOENT;
	c.akey = akey;
	c.e = e;
	c.out = after;
	return store_write(st, event_write, &c, err, errlen);
}

/* What an update may leave: the same bounds the parser holds. */
static bool
activity_valid(const struct store_history *h)
{
	size_t i;

	if (h->n > STORE_HISTORY_MAX || h->nsend > STORE_SEND_HOURS ||
	    h->secret_set < 0 || h->last_sent < 0 || h->paused_until < 0 ||
	    valid_text(h->pause_why, STORE_REASON_MAX) ||
	    strspn(h->profile, "abcdefghijklmnopqrstuvwxyz") != strlen(h->profile) ||
	    strnlen(h->profile, sizeof(h->profile)) == sizeof(h->profile))
		return false;
	for (i = 0; i < h->nsend; i++)
		if (h->send_hour[i] < 0)
			return false;
	if (h->seen_when < 0 ||
	    (h->seen_dkim_d[0] && !seen_ok(h->seen_dkim_d, sizeof h->seen_dkim_d, SEEN_DOMAIN)) ||
	    (h->seen_dkim_s[0] && !seen_ok(h->seen_dkim_s, sizeof h->seen_dkim_s, SEEN_SELECTOR)) ||
	    (h->seen_relay_ip[0] && !seen_ok(h->seen_relay_ip, sizeof h->seen_relay_ip, SEEN_IP)))
		return false;
	return true;
}

struct update_ctx {
	const char *akey;
	int (*fn)(struct store_history *h, void *ud);
	void *ud;
	int refused;
};

static int
update_write(struct store *st, MDB_txn *txn, void *vctx, char *err, size_t errlen)
{
	struct update_ctx *c = vctx;
	struct store_history h;
	MDB_val k = mval(c->akey, strlen(c->akey)), v;
	int rc, mrc;

	rc = check_key_current(st, txn, err, errlen);
	if (rc != STORE_OK)
		return rc;
	mrc = mdb_get(txn, st->accounts, &k, &v);
	if (mrc == MDB_NOTFOUND)
		return STORE_ENOENT;
	if (mrc != 0)
		return mdb_fail(mrc, _("cannot read the account"), err, errlen);
	(void)activity_read(txn, true, c->akey, &h);
	c->refused = c->fn(&h, c->ud);
	if (c->refused)
		return STORE_EINVAL;        /* aborts: nothing written */
	if (!activity_valid(&h))
		return STORE_EINVAL;
	return activity_write(txn, c->akey, &h, err, errlen);
}

int
store_activity_update(struct store *st, const char *email,
                      int (*fn)(struct store_history *h, void *ud), void *ud,
                      char *err, size_t errlen)
{
	char akey[ACCT_EMAIL_MAX + 1];
	struct update_ctx c;
	int rc;

	if (st == NULL || email == NULL || fn == NULL)
		return STORE_EINVAL;
	if (account_key(email, akey, sizeof(akey)) < 0)
		return STORE_ENOENT;
	c.akey = akey;
	c.fn = fn;
	c.ud = ud;
	c.refused = 0;
	rc = store_write(st, update_write, &c, err, errlen);
	return c.refused ? c.refused : rc;
}
