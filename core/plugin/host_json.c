/*
 * host_json.c - host->json_*: JSON for plugins, over jansson.
 *
 * A gh_json is a json_t behind an opaque name, so plugins never see (or
 * link against) jansson and each side may upgrade it alone. Decoding is
 * bounded (1 MiB, duplicate keys refused, no NUL inside strings, which a
 * plugin reading C strings would silently truncate). Encoding builds an
 * object from typed params (arrays and nested objects from GH_T_LIST and
 * GH_T_MAP params, so no plugin escapes JSON by hand) into host memory,
 * released with host->free; json_dump writes any decoded value the same way.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "plugin/host.h"

#define MAX_JSON (1u << 20)
#define MAX_DEPTH 32 /* nested GH_T_LIST/GH_T_MAP params in json_encode */

static const json_t *J(const gh_json *j)
{
    return (const json_t *)j;
}

gh_result host_json_decode(gh_call *call, const char *text, size_t len, gh_json **out)
{
    const gh_host *h = &gh_host_table;
    json_error_t e;
    json_t *j;

    if (!out)
        return h->fail(call, GH_ERR_INVALID, "json_decode: no output");
    *out = NULL;
    if (!text)
        return h->fail(call, GH_ERR_INVALID, "json_decode: no text");
    if (len > MAX_JSON)
        return h->fail(call, GH_ERR_INVALID, "json_decode: document over %u MiB", MAX_JSON >> 20);
    j = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
    if (!j)
        return h->fail(call, GH_ERR_INVALID, "json_decode: line %d column %d: %s",
                       e.line, e.column, e.text);
    *out = (gh_json *)j;
    return GH_OK;
}

void host_json_free(gh_json *json)
{
    json_decref((json_t *)json);
}

const gh_json *host_json_get(const gh_json *obj, const char *key)
{
    return json_is_object(J(obj)) && key ? (const gh_json *)json_object_get(J(obj), key) : NULL;
}

const gh_json *host_json_at(const gh_json *arr, size_t i)
{
    return json_is_array(J(arr)) ? (const gh_json *)json_array_get(J(arr), i) : NULL;
}

size_t host_json_len(const gh_json *arr)
{
    if (json_is_array(J(arr)))
        return json_array_size(J(arr));
    if (json_is_object(J(arr)))
        return json_object_size(J(arr));
    return 0;
}

uint32_t host_json_type(const gh_json *json)
{
    switch (json ? json_typeof(J(json)) : JSON_NULL) {
    case JSON_OBJECT:
        return GH_T_MAP;
    case JSON_ARRAY:
        return GH_T_LIST;
    case JSON_STRING:
        return GH_T_STR;
    case JSON_INTEGER:
        return GH_T_INT;
    case JSON_REAL:
        return GH_T_DOUBLE;
    case JSON_TRUE:
    case JSON_FALSE:
        return GH_T_BOOL;
    default:
        return GH_T_NULL;
    }
}

const char *host_json_str(const gh_json *json)
{
    return json_is_string(J(json)) ? json_string_value(J(json)) : NULL;
}

int64_t host_json_int(const gh_json *json, int64_t dflt)
{
    return json_is_integer(J(json)) ? (int64_t)json_integer_value(J(json)) : dflt;
}

int host_json_bool(const gh_json *json, int dflt)
{
    return json_is_boolean(J(json)) ? json_is_true(J(json)) : dflt;
}

/* Walks from the first member: objects from providers are small, and an
 * index kept between calls could outlive the object it points into. */
const char *host_json_key_at(const gh_json *obj, size_t i, const gh_json **value)
{
    void *it = json_is_object(J(obj)) ? json_object_iter((json_t *)J(obj)) : NULL;

    while (it && i--)
        it = json_object_iter_next((json_t *)J(obj), it);
    if (value)
        *value = it ? (const gh_json *)json_object_iter_value(it) : NULL;
    return it ? json_object_iter_key(it) : NULL;
}

double host_json_double(const gh_json *json, double dflt)
{
    return json_is_number(J(json)) ? json_number_value(J(json)) : dflt;
}

static json_t *params_object(gh_call *call, const gh_param *fields, int depth);

/* A GH_T_LIST param's array: data points at len params, keys unread. */
static json_t *params_array(gh_call *call, const gh_param *p, int depth);

/* The JSON value of one param, or NULL (and call failed) if it has none. */
static json_t *param_value(gh_call *call, const gh_param *p, int depth)
{
    const gh_host *h = &gh_host_table;
    json_error_t e;
    json_t *v = NULL;
    int64_t i;
    int32_t b;
    double d;

    if (p->type != GH_T_NULL && !p->data && (p->len || p->type == GH_T_INT ||
                                            p->type == GH_T_BOOL || p->type == GH_T_DOUBLE ||
                                            p->type == GH_T_MAP)) {
        h->fail(call, GH_ERR_INVALID, "json_encode: field '%s' has no data", p->key);
        return NULL;
    }
    switch (p->type) {
    case GH_T_NULL:
        v = json_null();
        break;
    case GH_T_STR:
        v = json_stringn(p->len ? p->data : "", p->len);
        if (!v)
            h->fail(call, GH_ERR_INVALID, "json_encode: field '%s' is not UTF-8", p->key);
        return v;
    case GH_T_INT:
        memcpy(&i, p->data, sizeof i);
        v = json_integer(i);
        break;
    case GH_T_BOOL:
        memcpy(&b, p->data, sizeof b);
        v = json_boolean(b);
        break;
    case GH_T_DOUBLE:
        memcpy(&d, p->data, sizeof d);
        v = json_real(d);
        if (!v)
            h->fail(call, GH_ERR_INVALID, "json_encode: field '%s' is not a finite number", p->key);
        return v;
    case GH_T_JSON:
        v = json_loadb(p->len ? p->data : "", p->len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
        if (!v)
            h->fail(call, GH_ERR_INVALID, "json_encode: field '%s' is not JSON: %s", p->key, e.text);
        return v;
    case GH_T_LIST:
        return params_array(call, p, depth);
    case GH_T_MAP:
        return params_object(call, p->data, depth + 1);
    case GH_T_BYTES:
        h->fail(call, GH_ERR_INVALID, "json_encode: field '%s' is BYTES; "
                "encode it (base64) into a STR first", p->key);
        return NULL;
    default:
        h->fail(call, GH_ERR_INVALID, "json_encode: field '%s' has type %u", p->key, p->type);
        return NULL;
    }
    if (!v)
        h->fail(call, GH_ERR_NOMEM, "json_encode: out of memory");
    return v;
}

static json_t *params_array(gh_call *call, const gh_param *p, int depth)
{
    const gh_host *h = &gh_host_table;
    const gh_param *item = p->data;
    json_t *arr;

    if (depth >= MAX_DEPTH) {
        h->fail(call, GH_ERR_INVALID, "json_encode: nested deeper than %d", MAX_DEPTH);
        return NULL;
    }
    if (!(arr = json_array())) {
        h->fail(call, GH_ERR_NOMEM, "json_encode: out of memory");
        return NULL;
    }
    for (size_t i = 0; i < p->len; i++) {
        gh_param named = item[i];
        json_t *v;

        named.key = p->key; /* messages name the array */
        if (!(v = param_value(call, &named, depth + 1)) || json_array_append_new(arr, v) != 0) {
            if (v)
                h->fail(call, GH_ERR_NOMEM, "json_encode: out of memory");
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *params_object(gh_call *call, const gh_param *fields, int depth)
{
    const gh_host *h = &gh_host_table;
    json_t *obj;

    if (depth >= MAX_DEPTH) {
        h->fail(call, GH_ERR_INVALID, "json_encode: nested deeper than %d", MAX_DEPTH);
        return NULL;
    }
    if (!(obj = json_object())) {
        h->fail(call, GH_ERR_NOMEM, "json_encode: out of memory");
        return NULL;
    }
    for (const gh_param *p = fields; p && p->key; p++) {
        json_t *v = param_value(call, p, depth);

        /* set_new takes v even when it fails (a key that is not UTF-8) */
        if (!v || json_object_set_new(obj, p->key, v) != 0) {
            if (v)
                h->fail(call, GH_ERR_INVALID, "json_encode: a key is not UTF-8");
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

/* v as compact JSON in our own malloc, sized first: the plugin frees the
 * result with host->free, whatever allocator jansson was given. */
static gh_result dump(gh_call *call, const char *who, const json_t *v, char **out)
{
    size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);

    if (n && (*out = malloc(n + 1)) != NULL) {
        json_dumpb(v, *out, n, JSON_COMPACT | JSON_ENCODE_ANY);
        (*out)[n] = '\0';
        return GH_OK;
    }
    return gh_host_table.fail(call, GH_ERR_NOMEM, "%s: out of memory", who);
}

gh_result host_json_encode_to(gh_call *call, const gh_param *fields, char **out)
{
    gh_call own = {0}; /* where the failure's code is kept when call is NULL */
    json_t *obj;
    gh_result r;

    if (!out)
        return gh_host_table.fail(call, GH_ERR_INVALID, "json_encode: no output");
    *out = NULL;
    if (!call)
        call = &own;
    if (!(obj = params_object(call, fields, 0)))
        return call->code;
    r = dump(call, "json_encode", obj, out);
    json_decref(obj);
    return r;
}

char *host_json_encode(gh_call *call, const gh_param *fields)
{
    char *text = NULL;

    host_json_encode_to(call, fields, &text);
    return text;
}

gh_result host_json_dump(gh_call *call, const gh_json *json, char **out)
{
    if (!out || !json)
        return gh_host_table.fail(call, GH_ERR_INVALID, "json_dump: no value or no output");
    *out = NULL;
    return dump(call, "json_dump", J(json), out);
}
