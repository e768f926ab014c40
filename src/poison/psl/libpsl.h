/* On the include path of every layer that may not use libpsl. */
#error "libpsl is for the organizational domain: only src/domain/ may include it"
