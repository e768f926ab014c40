/* What the commands write to stdout and stderr, made safe for the
 * terminal's character set. */
#ifndef FLUENZR_OUT_H
#define FLUENZR_OUT_H

#include <stdbool.h>

/* Call once, after setlocale(), before anything is written: stdout and
 * stderr are replaced by streams that never write a C1 control. In a
 * UTF-8 locale, U+0080..U+009F becomes '?'. In any other locale every byte
 * above 0x7f is written as "\xNN": such a terminal may take 0x80..0x9f as
 * 8-bit controls (0x9b is CSI), and UTF-8 text, even sanitised, is made of
 * those bytes. */
void out_init(void);
/* The original streams again (before the console takes the terminal). */
void out_restore(void);
/* True when the locale's character set is not UTF-8 (after out_init()):
 * the JSON writer then escapes every non-ASCII character. */
bool out_ascii(void);

#endif
