/* On the include path of every layer that may not use libetpan. */
#error "libetpan speaks SMTP and IMAP for the probe: only src/probe/ may include it"
