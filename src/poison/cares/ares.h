/* On the include path of every layer that may not use c-ares. */
#error "c-ares is for DNS queries: only src/dns/ may include it"
