/* Fuzz target: the transcript redactor. The input is a script of client
 * lines and raw server bytes, each fed in chunks of fuzzer-chosen sizes,
 * around one login that carries a secret (AUTH PLAIN, AUTH LOGIN, IMAP
 * LOGIN or AUTHENTICATE). Every emitted line must be short, valid UTF-8
 * without control characters, and no client line may show the secret. */
#include "config.h"

#include <string.h>

#include "probe_int.h"
#include "util.h"
#include "fuzz.h"

/* Looks like what a client sends: base64 of "\0user\0password". */
#define SECRET "AHVzZXIAaHVudGVyMlNlY3JldA=="

struct sink {
	bool check_secret;
	size_t lines;
};

static bool hostile;

static void
emit(char dir, const char *text, void *ud)
{
	struct sink *s = ud;
	size_t n = strlen(text);

	FUZZ_ASSERT(dir == 'C' || dir == 'S');
	FUZZ_ASSERT(n < TRANSCRIPT_LINE_MAX);
	FUZZ_ASSERT(utf8_valid(text, n));
	FUZZ_ASSERT(!fuzz_has_ctl(text, n, false));
	if (dir == 'C' && s->check_secret && strstr(text, SECRET)) {
		fprintf(stderr, "client line shows the secret: %s\n", text);
		FUZZ_ASSERT(!"the secret never reaches the transcript");
	}
	s->lines++;
}

/* Feeds n bytes in chunks whose sizes come from the input. */
static void
feed(struct transcript *t, struct fuzz_in *in, char dir, const void *buf,
     size_t n)
{
	const char *p = buf;

	while (n > 0) {
		size_t k = (size_t)fuzz_byte(in) % 17 + 1;

		if (k > n)
			k = n;
		transcript_feed(t, dir, p, k);
		p += k;
		n -= k;
	}
}

/* A client line: whole, as the library writes commands, so a partial line
 * left by the random part is ended first. */
static void
client(struct transcript *t, struct fuzz_in *in, const char *line)
{
	if (t->clen)
		feed(t, in, 'C', "\r\n", 2);
	feed(t, in, 'C', line, strlen(line));
	feed(t, in, 'C', "\r\n", 2);
}

/* A server line as the client's library would act on it: whole, so any
 * partial line left by the random part is ended first. When hostile, the
 * library acts on lines it buffered before, and the wire carries anything
 * at this point (a final reply above all). */
static void
server(struct transcript *t, struct fuzz_in *in, const char *line)
{
	if (hostile) {
		size_t n;
		const uint8_t *p = fuzz_bytes(in, fuzz_byte(in), &n);

		feed(t, in, 'S', p, n);
		return;
	}
	if (t->slen)
		feed(t, in, 'S', "\r\n", 2);
	feed(t, in, 'S', line, strlen(line));
	feed(t, in, 'S', "\r\n", 2);
}

static void
login(struct transcript *t, struct fuzz_in *in, uint8_t how)
{
	hostile = how & 0x10;
	if (!t->imap) {
		switch (how % 3) {
		case 0:
			client(t, in, "AUTH PLAIN " SECRET);
			break;
		case 1:
			client(t, in, "AUTH PLAIN");
			server(t, in, "334 ");
			client(t, in, SECRET);
			break;
		default:
			client(t, in, "AUTH LOGIN");
			server(t, in, "334 VXNlcm5hbWU6");
			client(t, in, "dXNlcg==");
			server(t, in, "334 UGFzc3dvcmQ6");
			client(t, in, SECRET);
			break;
		}
		return;
	}
	switch (how % 4) {
	case 0:
		client(t, in, "a1 LOGIN user " SECRET);
		break;
	case 1:
		client(t, in, "a1 LOGIN {4}");
		server(t, in, "+ Ready for literal data");
		client(t, in, "user {28}");
		server(t, in, "+ Ready for literal data");
		client(t, in, SECRET);
		break;
	case 2:
		client(t, in, "a1 AUTHENTICATE PLAIN " SECRET);
		break;
	default:
		client(t, in, "a1 AUTHENTICATE PLAIN");
		server(t, in, "+ ");
		client(t, in, SECRET);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct transcript t;
	struct fuzz_in in = { data, size };
	struct sink s = { true, 0 };
	uint8_t mode = fuzz_byte(&in);
	bool logged_in = false;

	/* The secret may appear in the fuzzer's own client bytes; that is
	 * not a leak. */
	if (memmem(data, size, SECRET, sizeof SECRET - 1))
		s.check_secret = false;
	transcript_init(&t, mode & 1, emit, &s);
	while (in.n > 0) {
		uint8_t op = fuzz_byte(&in);
		size_t len;
		const uint8_t *p;

		switch (op % 6) {
		case 0:     /* a whole client line (it may hold more '\n') */
		case 1: {
			char *line;

			p = fuzz_bytes(&in, fuzz_byte(&in), &len);
			line = fuzz_strndup(p, len);
			/* C strings: the part before a NUL */
			client(&t, &in, line);
			free(line);
			break;
		}
		case 2:     /* raw server bytes, partial lines included */
			p = fuzz_bytes(&in, fuzz_byte(&in), &len);
			feed(&t, &in, 'S', p, len);
			break;
		case 3:     /* raw client bytes */
			p = fuzz_bytes(&in, fuzz_byte(&in), &len);
			feed(&t, &in, 'C', p, len);
			break;
		case 4:
			if (!logged_in) {
				login(&t, &in, (uint8_t)(op / 6));
				logged_in = true;
			}
			break;
		default:    /* the end of a connection */
			transcript_flush(&t);
			break;
		}
	}
	transcript_flush(&t);
	return 0;
}
