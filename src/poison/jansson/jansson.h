/* On the include path of every layer that may not use jansson. */
#error "jansson is for the JSON of OAuth replies: only src/oauth/ may include it"
