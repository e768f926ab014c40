/* On the include path of every layer that may not use curses. */
#error "<curses.h> is the console's: only src/tui/ may include it"
