/* The console as main.c sees it: its entry point and its key table as the
 * manual's KEYS section. Nothing of curses shows through this header. */
#ifndef FLUENZR_CONSOLE_H
#define FLUENZR_CONSOLE_H

#include <stdio.h>

struct cli_ctx;

/* The full-screen console (tui.c). Returns an exit code. */
int tui_main(struct cli_ctx *c);
/* The console's keys as the man page's KEYS section (tui_keys.c), printed
 * by the hidden `keys --man` command that keeps the manual true. */
void tui_keys_print_man(FILE *f);

#endif
