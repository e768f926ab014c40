/* Sending limits: which apply to an account (its own, a profile, its
 * preset's), whether a message may go now and, when not, at what time it
 * may; the pause a provider's limit reply asks for. Counts are kept in
 * the store (the account's activity) and checked and noted in one write
 * transaction, so that two senders of the same account cannot both take
 * the last place. Nothing here prints. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>

#include "i18n.h"
#include "app.h"
#include "util.h"

#define HOUR 3600
#define REFUSED 1000       /* store_activity_update(): not a store code */

void
app_limits_of(const struct account *a, const struct store_history *h,
              const struct preset_list *presets, struct app_limits *out)
{
	const struct preset *p = NULL;

	memset(out, 0, sizeof(*out));
	if (strcmp(h->profile, "none") == 0) {
		str_copy(out->source, sizeof(out->source), "none");
		return;
	}
	if (strcmp(h->profile, "outreach") == 0) {
		out->day = APP_OUTREACH_DAY;
		out->hour = APP_OUTREACH_HOUR;
		out->interval = APP_OUTREACH_INTERVAL;
		str_copy(out->source, sizeof(out->source), "outreach");
		return;
	}
	if (strcmp(h->profile, "custom") == 0) {
		out->day = h->lim_day;
		out->hour = h->lim_hour;
		out->interval = h->lim_interval;
		str_copy(out->source, sizeof(out->source), "account");
		return;
	}
	if (presets && a->preset[0])
		p = preset_find(presets, a->preset);
	if (p && (p->limit_day || p->limit_hour || p->limit_interval)) {
		out->day = p->limit_day;
		out->hour = p->limit_hour;
		out->interval = p->limit_interval;
		str_printf(out->source, sizeof(out->source), "preset %s", p->id);
		return;
	}
	str_copy(out->source, sizeof(out->source), "none");
}

bool
app_limits_active(const struct app_limits *l)
{
	return l->day || l->hour || l->interval;
}

void
app_limits_sent(const struct store_history *h, int64_t now, unsigned long *day,
       unsigned long *hour)
{
	int64_t nh = now / HOUR;
	size_t i;

	*day = *hour = 0;
	for (i = 0; i < h->nsend; i++) {
		if (h->send_hour[i] > nh - 24 && h->send_hour[i] <= nh)
			*day += h->send_count[i];
		if (h->send_hour[i] == nh)
			*hour += h->send_count[i];
	}
}

int
app_limits_check(const struct app_limits *l, const struct store_history *h,
                 int64_t now, unsigned nrcpt, int64_t *retry_at, char *why,
                 size_t whylen)
{
	unsigned long day, hour;
	int64_t nh = now / HOUR;

	*retry_at = 0;
	why[0] = '\0';
	if (h->paused_until > now) {
		*retry_at = h->paused_until;
		str_printf(why, whylen, _("the account is paused after a limit reply (%s)"),
		           h->pause_why[0] ? h->pause_why : "rate_limited");
		return APP_LIMIT_WAIT;
	}
	if ((l->day && nrcpt > l->day) || (l->hour && nrcpt > l->hour)) {
		str_printf(why, whylen, _("%u recipients are more than the account's "
		           "limit (%u a day, %u an hour)"), nrcpt, l->day, l->hour);
		return APP_LIMIT_NEVER;
	}
	if (l->interval && h->last_sent > 0 && now < h->last_sent + (int64_t)l->interval) {
		*retry_at = h->last_sent + (int64_t)l->interval;
		str_printf(why, whylen, _("at most one message every %u s"), l->interval);
		return APP_LIMIT_WAIT;
	}
	app_limits_sent(h, now, &day, &hour);
	if (l->hour && hour + nrcpt > l->hour) {
		*retry_at = (nh + 1) * HOUR;
		str_printf(why, whylen, _("the hourly limit of %u recipients is reached"),
		           l->hour);
		return APP_LIMIT_WAIT;
	}
	if (l->day && day + nrcpt > l->day) {
		/* The time when enough of the oldest hours have left the day. */
		unsigned long left = day;
		size_t i;

		for (i = 0; i < h->nsend; i++) {
			if (h->send_hour[i] <= nh - 24 || h->send_hour[i] > nh)
				continue;
			left -= h->send_count[i];
			*retry_at = (h->send_hour[i] + 24) * HOUR;
			if (left + nrcpt <= l->day)
				break;
		}
		str_printf(why, whylen, _("the daily limit of %u recipients is reached"),
		           l->day);
		return APP_LIMIT_WAIT;
	}
	return APP_LIMIT_OK;
}

void
app_limits_note(struct store_history *h, int64_t now, unsigned nrcpt)
{
	int64_t nh = now / HOUR;
	size_t i, k = 0;

	/* Hours older than a day are dropped. */
	for (i = 0; i < h->nsend; i++) {
		if (h->send_hour[i] > nh - 24 && h->send_hour[i] <= nh) {
			h->send_hour[k] = h->send_hour[i];
			h->send_count[k++] = h->send_count[i];
		}
	}
	h->nsend = k;
	if (k && h->send_hour[k - 1] == nh) {
		h->send_count[k - 1] += nrcpt;
	} else {
		if (h->nsend == STORE_SEND_HOURS) {
			memmove(h->send_hour, h->send_hour + 1, (k - 1) * sizeof(h->send_hour[0]));
			memmove(h->send_count, h->send_count + 1, (k - 1) * sizeof(h->send_count[0]));
			h->nsend--;
		}
		h->send_hour[h->nsend] = nh;
		h->send_count[h->nsend++] = nrcpt;
	}
	h->last_sent = now;
}

int64_t
app_pause_until(const char *reply, int64_t now)
{
	/* "try again in 15 minutes", "retry after 300 seconds", "in 2 hours". */
	const char *s = reply ? reply : "";

	for (; *s; s++) {
		char *end;
		long n;
		const char *u;

		if (!isdigit((unsigned char)*s) || (s > reply && isdigit((unsigned char)s[-1])))
			continue;
		n = strtol(s, &end, 10);
		u = end;
		while (*u == ' ')
			u++;
		if (n <= 0 || n > 100000)
			continue;
		if (strncasecmp(u, "sec", 3) == 0 || strncasecmp(u, "s ", 2) == 0)
			return now + (n < 24 * HOUR ? n : 24 * HOUR);
		if (strncasecmp(u, "min", 3) == 0)
			return now + (n < 24 * 60 ? n * 60 : 24 * HOUR);
		if (strncasecmp(u, "hour", 4) == 0)
			return now + (n < 24 ? n * HOUR : 24 * HOUR);
	}
	return now + APP_PAUSE_DEFAULT;
}

struct reserve {
	const struct app_limits *l;
	int64_t now;
	unsigned nrcpt;
	int64_t retry_at;
	char why[APP_ERR_MAX];
	int verdict;
};

static int
reserve_fn(struct store_history *h, void *ud)
{
	struct reserve *r = ud;

	r->verdict = app_limits_check(r->l, h, r->now, r->nrcpt, &r->retry_at,
	                              r->why, sizeof(r->why));
	if (r->verdict != APP_LIMIT_OK)
		return REFUSED;         /* nothing written */
	app_limits_note(h, r->now, r->nrcpt);
	return 0;
}

int
app_limits_reserve(struct store *st, const char *email,
                   const struct app_limits *l, unsigned nrcpt, int64_t now,
                   int64_t *retry_at, char *why, size_t whylen)
{
	struct reserve r;
	char err[APP_ERR_MAX];
	int rc;

	memset(&r, 0, sizeof(r));
	r.l = l;
	r.now = now;
	r.nrcpt = nrcpt;
	rc = store_activity_update(st, email, reserve_fn, &r, err, sizeof(err));
	*retry_at = r.retry_at;
	if (rc == REFUSED) {
		str_copy(why, whylen, r.why);
		return r.verdict;
	}
	if (rc != STORE_OK) {
		str_printf(why, whylen, _("cannot count the message: %s"),
		           err[0] ? err : store_strerror(rc));
		return APP_LIMIT_ERROR;
	}
	return APP_LIMIT_OK;
}

struct pause {
	int64_t until;
	const char *why;
};

static int
pause_fn(struct store_history *h, void *ud)
{
	const struct pause *p = ud;

	if (p->until > h->paused_until) {
		h->paused_until = p->until;
		str_sanitize(h->pause_why, sizeof(h->pause_why), p->why, strlen(p->why));
		if (valid_text(h->pause_why, STORE_REASON_MAX))
			h->pause_why[0] = '\0';
	}
	return 0;
}

int
app_pause(struct store *st, const char *email, const struct diagnosis *d,
          int64_t now, int64_t *until, char *err, size_t errlen)
{
	struct pause p;
	int rc;

	p.until = app_pause_until(d->reply, now);
	p.why = d->reason[0] ? d->reason : "rate_limited";
	*until = p.until;
	rc = store_activity_update(st, email, pause_fn, &p, err, errlen);
	if (rc != STORE_OK) {
		str_printf(err, errlen, _("%s: cannot pause the account: %s"), email,
		           store_strerror(rc));
		return -1;
	}
	return 0;
}

void
app_limits_text(const struct app_limits *l, const struct store_history *h,
                int64_t now, char *out, size_t len)
{
	/* room for a translation: Devanagari takes three bytes a letter */
	char d[96], hr[96], iv[144] = "";
	char pause[192] = "";
	unsigned long day, hour;

	str_copy(d, sizeof d, _("no daily limit"));
	str_copy(hr, sizeof hr, _("no hourly limit"));
	app_limits_sent(h, now, &day, &hour);
	if (l->day)
		str_printf(d, sizeof d, _("%lu of %u a day"), day, l->day);
	if (l->hour)
		str_printf(hr, sizeof hr, _("%lu of %u an hour"), hour, l->hour);
	if (l->interval)
		str_printf(iv, sizeof iv, _(", one message every %u s"), l->interval);
	if (h->paused_until > now) {
		time_t t = (time_t)h->paused_until;
		struct tm tm;
		char w[96];

		str_copy(w, sizeof w, _("later"));
		if (gmtime_r(&t, &tm))
			strftime(w, sizeof w, "%Y-%m-%d %H:%M UTC", &tm);
		str_printf(pause, sizeof pause, _("; paused until %s"), w);
	}
	if (!app_limits_active(l))
		str_printf(out, len, _("no sending limits (%s)%s"), l->source, pause);
	else
		str_printf(out, len, "%s, %s%s (%s)%s", d, hr, iv, l->source, pause);
}
