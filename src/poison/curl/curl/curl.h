/* On the include path of every layer that may not use libcurl. */
#error "libcurl is for HTTPS requests: only src/http/ may include it"
