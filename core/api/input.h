/*
 * input.h - reading and checking what a client sent, on the loop thread.
 *
 * Bodies and query strings become one shape, a JSON object of fields, so a
 * handler checks `email` the same way whether it came as JSON, as an OAuth
 * form or in the query. Each function either succeeds or has already sent
 * the problem (400, 404, 413, 415, 422) and returns NULL or -1; the handler
 * then just returns. Where a body holds data to keep (sign-up, profiles) a
 * field the handler does not know is refused (input_only): dropping it
 * would lose what the client meant to store, without telling it.
 *
 *   400 invalid_json, invalid_form, invalid_utf8   the body cannot be read
 *   413 body_too_large        415 unsupported_media_type
 *   422 missing_field, invalid_field (wrong type or value), field_too_long,
 *       unknown_field
 */
#ifndef GH_API_INPUT_H
#define GH_API_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "http/request.h"

enum {
    INPUT_JSON = 1 << 0,   /* application/json */
    INPUT_FORM = 1 << 1,   /* application/x-www-form-urlencoded */
    INPUT_OAUTH = 1 << 2,  /* form errors in RFC 6749 shape ("invalid_request") */
};

/* Percent-decode s[0..n) ('+' is a space) into a JSON string; NULL for a
 * broken escape, %00 or invalid UTF-8. The form bodies' decoding, which
 * HTTP Basic client credentials use too (RFC 6749 2.3.1). */
json_t *input_form_decode(const char *s, size_t n);
/* The body as an object. With INPUT_FORM every value is a string; a
 * repeated field is refused (RFC 6749 3.2), as is %00 (no silent
 * truncation) and invalid UTF-8. */
json_t *input_body(gh_req *req, unsigned accept);
/* The query string likewise; an absent query is an empty object. */
json_t *input_query(gh_req *req);

/* in[key] as a string of at most max bytes (null counts as absent).
 * *out is NULL when absent and not required. */
int input_string(gh_req *req, json_t *in, const char *key, int required, size_t max,
                 const char **out);
#define INPUT_OPTIONAL 0
#define INPUT_REQUIRED 1
/* in[key] as an integer in [min, max] (a JSON integer or decimal string);
 * *out = dflt when absent. */
int input_int(gh_req *req, json_t *in, const char *key, int64_t dflt, int64_t min, int64_t max,
              int64_t *out);
/* in[key] as a boolean; *out = -1 when absent. */
int input_bool(gh_req *req, json_t *in, const char *key, int *out);
/* The path parameter `name` as a UUID; anything else is 404 (no such id). */
int input_path_id(gh_req *req, const char *name, char out[37]);

/* The paging of a list, the same everywhere: "limit" (1 to 200, default
 * 50) and "offset" (from 0) of query q, checked and put back as integers. */
#define INPUT_PAGE_DEFAULT 50
#define INPUT_PAGE_MAX 200
#define INPUT_OFFSET_MAX 1000000000
int input_page(gh_req *req, json_t *q);

/* Every member of `in` is one of known (NULL-terminated): 0, or -1 with
 * 422 unknown_field naming the first that is not. */
int input_only(gh_req *req, const json_t *in, const char *const *known);

/* Send a 422 naming the field. */
void input_reject(gh_req *req, const char *code, const char *key, const char *why);

#endif
