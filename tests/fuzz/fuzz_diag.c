/* Fuzz target: diag_classify() on arbitrary evidence (reply text, codes,
 * flags, stages), with what the probe may have found besides, an account
 * and a preset. Every outcome has a known category, its title, a
 * known rule, at least one fix, and no control character anywhere the user
 * reads (the reply keeps its line breaks). */
#include "config.h"

#include <string.h>

#include "diag.h"
#include "util.h"
#include "fuzz.h"

/* Copies the next bytes of the input over a fixed-size string field and
 * terminates it, so that it may hold anything but cannot run off. */
static void
fill_str(struct fuzz_in *in, char *dst, size_t cap)
{
	size_t n, want = (size_t)fuzz_byte(in) << 8;
	const uint8_t *p;

	want |= fuzz_byte(in);
	p = fuzz_bytes(in, want % cap, &n);

	memcpy(dst, p, n);
	dst[n] = '\0';
}

static int
fill_int(struct fuzz_in *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 8 | fuzz_byte(in);
	return (int)v;
}

static void
check_text(const char *s, size_t cap, bool allow_lf)
{
	size_t n;

	FUZZ_ASSERT(memchr(s, '\0', cap) != NULL);
	n = strlen(s);
	FUZZ_ASSERT(utf8_valid(s, n));
	FUZZ_ASSERT(!fuzz_has_ctl(s, n, allow_lf));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct diag_evidence ev;
	static struct diag_input din;
	static struct diagnosis out;
	static struct account a;
	static struct preset p;
	struct fuzz_in in = { data, size };
	uint8_t flags, flags2, small;
	const char *rule;
	bool known = false, alts;

	memset(&ev, 0, sizeof ev);
	diag_input_init(&din, &ev, NULL, NULL);
	/* The diagnosis writes all of out: what it held must not show. */
	memset(&out, 0xff, sizeof out);
	flags = fuzz_byte(&in);
	flags2 = fuzz_byte(&in);
	ev.imap = flags & 1;
	ev.timed_out = flags & 2;
	ev.cancelled = (flags & 0x0c) == 0x0c;    /* rarer: it wins over all */
	ev.tls_handshake_failed = flags & 0x10;
	ev.peer_spoke_plain = flags & 0x20;
	ev.peer_spoke_tls = flags & 0x40;
	ev.auth_not_offered = flags & 0x80;
	ev.internal = (flags2 & 0x0c) == 0x0c;
	/* Small values hit the tables; big ones must not index past them. */
	small = fuzz_byte(&in);
	ev.stage = (enum diag_stage)(small & 0x80 ? fill_int(&in) : small % 20);
	small = fuzz_byte(&in);
	ev.cert = (enum cert_problem)(small & 0x80 ? fill_int(&in) : small % 9);
	small = fuzz_byte(&in);
	ev.security = (enum security)(small & 0x80 ? fill_int(&in) : small % 4);
	small = fuzz_byte(&in);
	ev.sys_errno = small & 0x80 ? fill_int(&in) : small % 120;
	small = fuzz_byte(&in);
	ev.gai_error = small & 0x80 ? fill_int(&in) : -(int)(small % 16);
	small = fuzz_byte(&in);
	ev.reply_code = small & 0x80 ? fill_int(&in)
	              : (small & 0x40 ? 0 : 200 + small * 7);
	ev.port = (unsigned)fill_int(&in);
	fill_str(&in, ev.reply, sizeof ev.reply);
	fill_str(&in, ev.imap_code, sizeof ev.imap_code);
	fill_str(&in, ev.host, sizeof ev.host);

	/* What the probe found: kept, sanitised. */
	if (flags2 & 0x10) {
		din.alt_port = (unsigned)fill_int(&in);
		din.alt_security = (enum security)(fuzz_byte(&in) % 5);
		din.alt_imap = fuzz_byte(&in) & 1;
		fill_str(&in, din.suggestion, sizeof din.suggestion);
		fill_str(&in, din.pin_candidate, sizeof din.pin_candidate);
	}
	/* An account: the strings of a stored one are validated, but the
	 * classifier must not rely on that. */
	if (flags2 & 0x20) {
		account_init(&a);
		fill_str(&in, a.email, sizeof a.email);
		fill_str(&in, a.username, sizeof a.username);
		fill_str(&in, a.imap_username, sizeof a.imap_username);
		fill_str(&in, a.smtp_host, sizeof a.smtp_host);
		fill_str(&in, a.imap_host, sizeof a.imap_host);
		a.smtp_port = (unsigned)fill_int(&in);
		a.imap_port = (unsigned)fill_int(&in);
		a.smtp_security = (enum security)(fuzz_byte(&in) % 3);
		a.imap_security = (enum security)(fuzz_byte(&in) % 3);
	}
	if (flags2 & 0x40) {
		memset(&p, 0, sizeof p);
		if (flags2 & 0x80)
			str_copy(p.id, sizeof p.id, "protonmail-bridge");
		else
			fill_str(&in, p.id, sizeof p.id);
		fill_str(&in, p.name, sizeof p.name);
		p.app_password = fuzz_byte(&in) & 1;
		p.nsmtp = fuzz_byte(&in) % (PRESET_MAX_SERVERS + 1);
		p.nimap = fuzz_byte(&in) % (PRESET_MAX_SERVERS + 1);
		for (size_t i = 0; i < p.nsmtp; i++)
			fill_str(&in, p.smtp[i].host, sizeof p.smtp[i].host);
		for (size_t i = 0; i < p.nimap; i++)
			fill_str(&in, p.imap[i].host, sizeof p.imap[i].host);
	}

	din.a = flags2 & 0x20 ? &a : NULL;
	din.preset = flags2 & 0x40 ? &p : NULL;
	rule = diag_classify_rule(&din, &out);
	alts = diag_wants_alternatives(&din);
	FUZZ_ASSERT(rule != NULL);
	for (size_t i = 0; i < diag_rule_count(); i++)
		if (strcmp(diag_rule_name(i), rule) == 0)
			known = true;
	FUZZ_ASSERT(known);
	FUZZ_ASSERT((unsigned)out.cat < DIAG_NCATS && out.cat != DIAG_OK);
	FUZZ_ASSERT(diag_cat_from_name(diag_cat_name(out.cat)) == (int)out.cat);
	FUZZ_ASSERT(out.title[0] != '\0');
	FUZZ_ASSERT(strcmp(out.title, diag_cat_title(out.cat)) == 0);
	FUZZ_ASSERT(out.stage == ev.stage);
	FUZZ_ASSERT(memchr(out.reason, '\0', sizeof out.reason));
	FUZZ_ASSERT(strspn(out.reason, "abcdefghijklmnopqrstuvwxyz_") ==
	            strlen(out.reason));
	FUZZ_ASSERT(out.nfixes >= 1 && out.nfixes <= DIAG_MAX_FIXES);
	for (size_t i = 0; i < out.nfixes; i++) {
		FUZZ_ASSERT(out.fixes[i][0] != '\0');
		check_text(out.fixes[i], sizeof out.fixes[i], false);
	}
	check_text(out.reply, sizeof out.reply, true);
	check_text(out.suggestion, sizeof out.suggestion, false);
	check_text(out.pin_candidate, sizeof out.pin_candidate, false);
	FUZZ_ASSERT(out.alt_port <= 65535);
	FUZZ_ASSERT(out.alt_port == 0 || (unsigned)out.alt_security <= SEC_NONE);
	FUZZ_ASSERT(out.pin_candidate[0] == '\0' ||
	            out.cat == DIAG_INVALID_CERTIFICATE);
	/* Another port is looked for exactly where the diagnosis would
	 * take it as the fix. */
	FUZZ_ASSERT(alts == (!ev.imap && (out.cat == DIAG_CONNECTION_REFUSED ||
	                                  out.cat == DIAG_TIMEOUT ||
	                                  out.cat == DIAG_TLS_MISMATCH)));
	/* Names of whatever the evidence holds stay within their tables. */
	FUZZ_ASSERT(diag_stage_name(ev.stage) != NULL);
	FUZZ_ASSERT(cert_problem_name(ev.cert) != NULL);
	(void)diag_exit_code(out.cat);
	return 0;
}
