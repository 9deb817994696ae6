/*
 * input.c - request bodies and query strings into checked fields. See
 * input.h. Form decoding is done here rather than with evhttp's query
 * parser because that one silently cuts a value at %00 and passes broken
 * escapes through; for passwords both are wrong.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include "api/input.h"
#include "auth/users.h"
#include "app.h"

#define FORM_TYPE "application/x-www-form-urlencoded"

static int media_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    return ct && strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static void reject_body(gh_req *req, unsigned accept, int status, const char *code,
                        const char *detail)
{
    if (!(accept & INPUT_OAUTH)) {
        req_problem(req, status, code, detail);
        return;
    }
    json_t *e = json_pack("{s:s, s:s}", "error", "invalid_request", "error_description", detail);
    if (e)
        req_json(req, status, e);
    else
        req_problem(req, 500, "internal_error", NULL);
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* Percent-decode s[0..n) ('+' is a space) into a JSON string; NULL for a
 * broken escape, %00 or invalid UTF-8 (jansson checks it). */
json_t *input_form_decode(const char *s, size_t n)
{
    char *buf = malloc(n + 1);
    size_t o = 0;
    if (!buf)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            buf[o++] = ' ';
        } else if (s[i] != '%') {
            buf[o++] = s[i];
        } else {
            int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(buf);
                return NULL;
            }
            buf[o++] = (char)(hi << 4 | lo);
            i += 2;
        }
    }
    json_t *v = memchr(buf, '\0', o) ? NULL : json_stringn(buf, o);
    memset(buf, 0, o); /* it may be a password */
    free(buf);
    return v;
}

/* One "key=value" into obj; NULL or why it cannot be. */
static const char *form_field(json_t *obj, const char *s, size_t n)
{
    const char *eq = memchr(s, '=', n);
    size_t klen = eq ? (size_t)(eq - s) : n;
    json_t *k = input_form_decode(s, klen);
    json_t *v = input_form_decode(eq ? eq + 1 : s + n, eq ? n - klen - 1 : 0);
    const char *why = NULL;
    if (!k || !v || json_string_length(k) == 0)
        why = "A form field is not validly encoded UTF-8.";
    else if (json_object_get(obj, json_string_value(k)))
        why = "A form field is repeated.";
    else if (json_object_set(obj, json_string_value(k), v) != 0)
        why = "Out of memory.";
    json_decref(k);
    json_decref(v);
    return why;
}

/* "a=1&b=2" into {"a":"1","b":"2"}; NULL with *why on a bad field. */
static json_t *form_parse(const char *s, size_t len, const char **why)
{
    json_t *obj = json_object();
    for (size_t i = 0; obj && i < len;) {
        const char *amp = memchr(s + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - s) : len;
        if (end > i && (*why = form_field(obj, s + i, end - i))) {
            json_decref(obj);
            return NULL;
        }
        i = end + 1;
    }
    return obj;
}

static json_t *form_body(gh_req *req, unsigned accept)
{
    const gh_config *cfg = req->cycle->cfg;
    struct evbuffer *in = evhttp_request_get_input_buffer(req->ev);
    size_t len = evbuffer_get_length(in);
    if (len > cfg->max_body_size) {
        reject_body(req, accept, 413, "body_too_large", "The request body is larger than allowed.");
        return NULL;
    }
    const char *text = len ? (const char *)evbuffer_pullup(in, -1) : "";
    const char *why = "Out of memory.";
    json_t *obj = text ? form_parse(text, len, &why) : NULL;
    if (!obj)
        reject_body(req, accept, 400, "invalid_form", why);
    return obj;
}

json_t *input_body(gh_req *req, unsigned accept)
{
    const char *ct = req_header(req, "Content-Type");
    if ((accept & INPUT_FORM) && media_is(ct, FORM_TYPE))
        return form_body(req, accept);
    if ((accept & INPUT_JSON) && (!(accept & INPUT_FORM) || media_is(ct, "application/json")))
        return req_json_body(req); /* checks type, size, syntax, depth, UTF-8 */
    reject_body(req, accept, 415, "unsupported_media_type",
                (accept & INPUT_JSON) ? "Send the body as application/json or " FORM_TYPE "."
                                      : "Send the body as " FORM_TYPE ".");
    return NULL;
}

json_t *input_query(gh_req *req)
{
    const char *why = "Out of memory.";
    json_t *q = req->query ? form_parse(req->query, strlen(req->query), &why) : json_object();
    if (!q)
        req_problem(req, 400, "invalid_query", why);
    return q;
}

void input_reject(gh_req *req, const char *code, const char *key, const char *why)
{
    char detail[200];
    snprintf(detail, sizeof detail, "'%s' %s", key, why);
    req_problem(req, 422, code, detail);
}

int input_only(gh_req *req, const json_t *in, const char *const *known)
{
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)in, key, v) {
        const char *const *k = known;
        while (*k && strcmp(*k, key) != 0)
            k++;
        if (!*k) {
            /* a long name would be cut in the detail, perhaps inside a character */
            input_reject(req, "unknown_field", strlen(key) <= 64 ? key : "(a long name)",
                         "is not a field of this request.");
            return -1;
        }
    }
    return 0;
}

int input_string(gh_req *req, json_t *in, const char *key, int required, size_t max,
                 const char **out)
{
    json_t *v = json_object_get(in, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (!required)
            return 0;
        input_reject(req, "missing_field", key, "is required.");
        return -1;
    }
    if (!json_is_string(v)) {
        input_reject(req, "invalid_field", key, "must be a string.");
        return -1;
    }
    if (json_string_length(v) > max) {
        char why[64];
        snprintf(why, sizeof why, "is longer than %zu bytes.", max);
        input_reject(req, "field_too_long", key, why);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

static int parse_int(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || isspace((unsigned char)*s))
        return -1;
    *out = v;
    return 0;
}

int input_int(gh_req *req, json_t *in, const char *key, int64_t dflt, int64_t min, int64_t max,
              int64_t *out)
{
    json_t *v = json_object_get(in, key);
    *out = dflt;
    if (!v || json_is_null(v))
        return 0;
    int64_t n = 0;
    int ok = 0;
    if (json_is_integer(v)) {
        n = json_integer_value(v);
        ok = 1;
    } else if (json_is_string(v)) {
        ok = parse_int(json_string_value(v), &n) == 0;
    }
    if (ok && n >= min && n <= max) {
        *out = n;
        return 0;
    }
    char why[96];
    snprintf(why, sizeof why, "must be an integer from %lld to %lld.", (long long)min,
             (long long)max);
    input_reject(req, "invalid_field", key, why);
    return -1;
}

int input_bool(gh_req *req, json_t *in, const char *key, int *out)
{
    json_t *v = json_object_get(in, key);
    *out = -1;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v)) {
        input_reject(req, "invalid_field", key, "must be true or false.");
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

int input_path_id(gh_req *req, const char *name, char out[37])
{
    const char *v = req_param(req, name);
    if (!v || strlen(v) != 36 || !uuid_valid(v)) {
        req_problem(req, 404, "not_found", "No such resource.");
        return -1;
    }
    for (int i = 0; i < 37; i++)
        out[i] = (char)tolower((unsigned char)v[i]);
    return 0;
}

int input_page(gh_req *req, json_t *q)
{
    int64_t limit, offset;
    if (input_int(req, q, "limit", INPUT_PAGE_DEFAULT, 1, INPUT_PAGE_MAX, &limit) < 0 ||
        input_int(req, q, "offset", 0, 0, INPUT_OFFSET_MAX, &offset) < 0)
        return -1;
    json_object_set_new(q, "limit", json_integer(limit));
    json_object_set_new(q, "offset", json_integer(offset));
    return 0;
}
