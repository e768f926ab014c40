/* Fuzz target: outgoing_prepare() on arbitrary messages, as `send` gets
 * them from a sending system, with and without -t. What it makes must be
 * what the SMTP layer may send: CRLF line endings only (a CR never
 * alone, so the CRLF.CRLF added after it ends the data), no
 * NUL, no Bcc field left in the header, a From and a Date, every
 * recipient an address `account add` would take. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "account.h"
#include "probe.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outgoing_opts o;
	struct outgoing m;
	char err[512];
	size_t i, hdr_end;

	memset(&o, 0, sizeof o);
	o.rcpt_from_headers = size > 0 && (data[0] & 1);
	o.from_name = "Fuzz \xc3\xa9";
	o.from_addr = "fuzz@example.org";
	o.now = 1700000000;
	if (outgoing_prepare((const char *)data, size, &o, &m, err, sizeof err) != 0) {
		FUZZ_ASSERT(memchr(err, '\0', sizeof err) != NULL && err[0]);
		return 0;
	}
	FUZZ_ASSERT(m.data != NULL && memchr(m.data, '\0', m.len) == NULL);
	for (i = 0; i < m.len; i++) {
		if (m.data[i] == '\r')
			FUZZ_ASSERT(i + 1 < m.len && m.data[i + 1] == '\n');
		if (m.data[i] == '\n')
			FUZZ_ASSERT(i > 0 && m.data[i - 1] == '\r');
	}
	/* The header ends at the first empty line. */
	for (hdr_end = 0; hdr_end + 3 < m.len &&
	     memcmp(m.data + hdr_end, "\r\n\r\n", 4) != 0; hdr_end++)
		;
	for (i = 0; i < hdr_end; i++)
		if (i == 0 || m.data[i - 1] == '\n')
			FUZZ_ASSERT(strncasecmp(m.data + i, "Bcc:", 4) != 0);
	FUZZ_ASSERT(m.nrcpt <= OUTGOING_RCPT_MAX);
	for (i = 0; i < m.nrcpt; i++)
		FUZZ_ASSERT(valid_email(m.rcpt[i]) == NULL);
	if (!o.rcpt_from_headers)
		FUZZ_ASSERT(m.nrcpt == 0);
	outgoing_free(&m);
	return 0;
}
