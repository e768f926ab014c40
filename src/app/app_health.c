/* An account's health, from its history: the one rule the commands
 * (`check`, `account list`) and the console's list share. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "i18n.h"
#include "app.h"
#include "diag.h"
#include "util.h"

#define DAY (24 * 3600)

/* A result that may pass by itself: a timeout, a limit, a server busy. */
static bool
temporary(const char *category)
{
	int c = diag_cat_from_name(category);

	return c >= 0 && (diag_exit_code((enum diag_cat)c) == EX_TEMPFAIL ||
	                  c == DIAG_SERVER_UNAVAILABLE);
}

const char *
app_health_name(enum app_health s)
{
	switch (s) {
	case APP_HEALTH_OK: return "healthy";
	case APP_HEALTH_ATTENTION: return "attention";
	case APP_HEALTH_FAILING: return "failing";
	default: return "untested";
	}
}

const char *
app_health_title(enum app_health s)
{
	switch (s) {
	case APP_HEALTH_OK: return _("Healthy");
	case APP_HEALTH_ATTENTION: return _("Needs attention");
	case APP_HEALTH_FAILING: return _("Failing");
	default: return _("Not checked yet");
	}
}

int
app_secret_remind_days(void)
{
	const char *v = getenv("FLUENZR_SECRET_DAYS");
	char *end;
	long n;

	if (!v || !*v)
		return APP_SECRET_DAYS_DEFAULT;
	n = strtol(v, &end, 10);
	if (*end || n < 0 || n > 36500)
		return APP_SECRET_DAYS_DEFAULT;
	return (int)n;          /* 0: no reminder */
}

void
app_health_of(const struct store_history *h, int64_t now, int remind_days,
              struct app_health_info *out)
{
	size_t i, streak = 0, recent_bad = 0;
	const struct store_event *last;

	memset(out, 0, sizeof(*out));
	out->secret_age_days = -1;
	for (i = 0; i < h->n && i < STORE_HISTORY_MAX; i++) {
		const char *c = h->ev[i].category;

		out->strip[i] = strcmp(c, "ok") == 0 ? '+' : temporary(c) ? '~' : 'x';
	}
	out->strip[i] = '\0';
	if (h->secret_set > 0 && now >= h->secret_set) {
		out->secret_age_days = (int)((now - h->secret_set) / DAY);
		out->secret_old = remind_days > 0 && out->secret_age_days >= remind_days;
	}
	if (h->n == 0) {
		out->state = APP_HEALTH_UNTESTED;
		str_copy(out->why, sizeof(out->why), _("no check or test recorded"));
		return;
	}
	last = &h->ev[h->n - 1];
	for (i = h->n; i > 0 && strcmp(h->ev[i - 1].category, "ok") != 0; i--)
		streak++;
	for (i = h->n > 3 ? h->n - 3 : 0; i < h->n; i++)
		if (strcmp(h->ev[i].category, "ok") != 0)
			recent_bad++;
	if (streak == 0) {
		out->state = recent_bad ? APP_HEALTH_ATTENTION : APP_HEALTH_OK;
		str_copy(out->why, sizeof(out->why), recent_bad ?
		         _("works again after a recent failure") : _("the last results passed"));
	} else if (streak >= 2 || !temporary(last->category)) {
		/* Failing since the first failure of the streak. */
		out->state = APP_HEALTH_FAILING;
		out->since = h->ev[h->n - streak].when;
		/* A stored title is English: shown in the reader's language
		 * (a reason's name is not in the catalog and stays as it is). */
		str_printf(out->why, sizeof(out->why), "%s%s%s", last->category,
		           last->reason[0] ? ": " : "",
		           last->reason[0] ? _(last->reason) : "");
	} else {
		out->state = APP_HEALTH_ATTENTION;
		str_printf(out->why, sizeof(out->why), _("one temporary failure (%s)"),
		           last->category);
	}
	if (out->secret_old && out->state == APP_HEALTH_OK) {
		out->state = APP_HEALTH_ATTENTION;
		str_printf(out->why, sizeof(out->why),
		           ngettext("the password was set %d day ago: change it",
		                    "the password was set %d days ago: change it",
		                    out->secret_age_days), out->secret_age_days);
	}
}

void
app_health_text(const struct app_health_info *h, char *out, size_t outlen)
{
	/* room for a translation: Devanagari takes three bytes a letter */
	char since[160] = "", pw[160] = "";

	if (h->state == APP_HEALTH_FAILING && h->since > 0) {
		time_t t = (time_t)h->since;
		struct tm tm;

		if (gmtime_r(&t, &tm))
			strftime(since, sizeof since, _(" since %Y-%m-%d %H:%M UTC"), &tm);
	}
	if (h->secret_old)
		str_printf(pw, sizeof pw, ngettext("; password %d day old",
		           "; password %d days old", h->secret_age_days),
		           h->secret_age_days);
	str_printf(out, outlen, "%s%s [%s]%s", app_health_title(h->state), since,
	           h->strip, pw);
}
