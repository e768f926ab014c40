/* The corpus of real replies (tests/diag-corpus.tsv) through the
 * diagnosis: each entry's reply, read as a log shows it, at the entry's
 * step, with the entry's preset, must get the entry's category and reason,
 * and a first fix that names the stated cause. The account and the
 * dialogue are those of tests/diag-corpus.sh, which replays the same
 * entries to the real `fluenzr-tui test`: an account without encryption on
 * loopback whose login is its address, a login that succeeded before the
 * envelope and before an IMAP SELECT. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag.h"
#include "unit.h"
#include "util.h"

enum { F_ID, F_PROVIDER, F_PROTO, F_STEP, F_PRESET, F_CAT, F_REASON, F_FIX,
       F_SOURCE, F_REPLY, NFIELDS };

/* "\n" is a line break and "\\" a backslash: the file's only escapes. */
static void
unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 'n') {
			*o++ = '\n';
			s++;
		} else if (s[0] == '\\' && s[1] == '\\') {
			*o++ = '\\';
			s++;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static bool
ci_has(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

static void
run_entry(char **f, const struct preset_list *presets, size_t *ok)
{
	struct diag_evidence ev;
	struct diag_input in;
	struct diagnosis d;
	struct account a;
	const struct preset *p = NULL;
	bool imap = strcmp(f[F_PROTO], "imap") == 0;
	int stage = diag_stage_from_name(f[F_STEP]);
	bool good;

	check(imap || strcmp(f[F_PROTO], "smtp") == 0, "%s: proto is smtp or "
	      "imap", f[F_ID]);
	check(stage > 0, "%s: step %s is a stage", f[F_ID], f[F_STEP]);
	check(strncmp(f[F_SOURCE], "https://", 8) == 0, "%s: has a source URL",
	      f[F_ID]);
	if (strcmp(f[F_PRESET], "-") != 0) {
		p = preset_find(presets, f[F_PRESET]);
		check(p != NULL, "%s: preset %s exists", f[F_ID], f[F_PRESET]);
	}
	unescape(f[F_REPLY]);
	if (stage <= 0 ||
	    diag_evidence_from_reply(&ev, imap, (enum diag_stage)stage,
	                             f[F_REPLY]) < 0) {
		check(false, "%s: the reply reads", f[F_ID]);
		return;
	}
	/* The dialogue of the replay: plain text on loopback, AUTH offered
	 * and, past the login step, accepted. */
	str_copy(ev.host, sizeof ev.host, "127.0.0.1");
	ev.port = imap ? 143 : 587;
	ev.security = SEC_NONE;
	ev.ehlo_seen = ev.offered_auth = !imap;
	ev.auth_ok = stage == STAGE_MAIL || stage == STAGE_RCPT ||
	             stage == STAGE_DATA || stage == STAGE_IMAP_SELECT ||
	             stage == STAGE_IMAP_SEARCH;
	memset(&a, 0, sizeof a);
	str_printf(a.email, sizeof a.email, "%s@corpus.test", f[F_ID]);
	str_copy(a.smtp_host, sizeof a.smtp_host, "127.0.0.1");
	a.smtp_port = 587;
	a.smtp_security = SEC_NONE;
	if (imap) {
		str_copy(a.imap_host, sizeof a.imap_host, "127.0.0.1");
		a.imap_port = 143;
		a.imap_security = SEC_NONE;
	}
	if (p)
		str_copy(a.preset, sizeof a.preset, p->id);
	diag_input_init(&in, &ev, &a, p);
	diag_classify(&in, &d);
	good = strcmp(diag_cat_name(d.cat), f[F_CAT]) == 0 &&
	       strcmp(d.reason, f[F_REASON]) == 0 && d.nfixes > 0 &&
	       ci_has(d.fixes[0], f[F_FIX]);
	check(good, "%s (%s %s at %s): %s/%s, first fix has \"%s\" (got %s/%s: "
	      "%s)", f[F_ID], f[F_PROVIDER], f[F_PROTO], f[F_STEP], f[F_CAT],
	      f[F_REASON], f[F_FIX], diag_cat_name(d.cat), d.reason,
	      d.nfixes ? d.fixes[0] : "no fix");
	if (good)
		(*ok)++;
}

int
main(void)
{
	const char *src = getenv("top_srcdir");
	char path[1024], dir[1024];
	struct preset_list presets;
	size_t len, n = 0, ok = 0;
	char *text, *line, *save = NULL;

	if (!src)
		src = ".";
	snprintf(dir, sizeof dir, "%s/presets", src);
	setenv("FLUENZR_PRESET_DIR", dir, 1);
	check(preset_load_all(&presets, NULL, NULL) == 0, "the presets load");
	snprintf(path, sizeof path, "%s/tests/diag-corpus.tsv", src);
	text = (char *)slurp(path, &len);
	if (!text) {
		check(false, "read %s", path);
		return unit_done();
	}
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[NFIELDS], *s = line;
		size_t k;

		if (line[0] == '#' || line[0] == '\0')
			continue;
		for (k = 0; k < NFIELDS && s; k++) {
			f[k] = s;
			s = strchr(s, '\t');
			if (s)
				*s++ = '\0';
		}
		if (k < NFIELDS || s) {
			check(false, "a corpus line has %d fields: %.40s", NFIELDS,
			      line);
			continue;
		}
		n++;
		run_entry(f, &presets, &ok);
	}
	check(n >= 100, "the corpus has at least 100 entries (%zu)", n);
	printf("corpus: %zu of %zu entries diagnosed as expected\n", ok, n);
	free(text);
	preset_list_free(&presets);
	return unit_done();
}
