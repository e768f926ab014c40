/* Inside src/oauth/: the JSON reader behind one door. */
#ifndef FLUENZR_OAUTH_INT_H
#define FLUENZR_OAUTH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Caps on any document read: an authorization server's reply is a flat
 * object of a few short members. */
#define OJ_MAX_BYTES  (64 * 1024)
#define OJ_MAX_DEPTH  4

struct oj;   /* a parsed object */

/* Parses buf[0..len) as one JSON object: -1 when it is not one, over the
 * caps, has a duplicate key or is not UTF-8. */
struct oj *oj_parse(const char *buf, size_t len);
void oj_free(struct oj *o);

/* A member's string: 1 copied (sanitised of controls), 0 absent, -1 of
 * another type or too long for out. */
int oj_str(const struct oj *o, const char *key, char *out, size_t outlen);
/* A secret member's string copied as is into out (locked memory by the
 * caller): printable ASCII only, as RFC 6749 A.12-A.17 allow. */
int oj_secret(const struct oj *o, const char *key, char *out, size_t outlen);
/* A member's integer (a JSON integer, or a string of digits as some
 * servers send): 1, 0 absent, -1 of another type or out of [min, max]. */
int oj_int(const struct oj *o, const char *key, int64_t min, int64_t max,
           int64_t *out);

/* A token request of the form pairs ({name, value, …, NULL}) and the
 * client's ID and secret, its reply read into t. 0, or -1 with e. */
struct oauth_client;
struct oauth_tokens;
struct oauth_error;
int oauth_token_form(const struct oauth_client *c, const char *const *pairs,
                     struct oauth_tokens *t, struct oauth_error *e);

#endif
