/* On the include path of every layer that may not use GnuTLS. */
#error "GnuTLS is for the store's seal and the connection's TLS: only src/store/ and src/conn/ may include it"
