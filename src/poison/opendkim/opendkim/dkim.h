/* On the include path of every layer that may not use libopendkim. */
#error "libopendkim verifies DKIM signatures: only src/msgauth/ may include it"
