/*
 * host_json.c - host->json_*: JSON for plugins, over jansson.
 *
 * A gh_json is a json_t behind an opaque name, so plugins never see (or
 * link against) jansson and each side may upgrade it alone. Decoding is
 * bounded (1 MiB, duplicate keys refused, no NUL inside strings, which a
 * plugin reading C strings would silently truncate). Encoding builds one
 * flat object from typed params into host memory, released with host->free.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "plugin/host.h"

#define MAX_JSON (1u << 20)

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

/* The JSON value of one param, or NULL (and call failed) if it has none. */
static json_t *param_value(gh_call *call, const gh_param *p)
{
    const gh_host *h = &gh_host_table;
    json_error_t e;
    json_t *v = NULL;
    int64_t i;
    int32_t b;
    double d;

    if (p->type != GH_T_NULL && !p->data && (p->len || p->type == GH_T_INT ||
                                            p->type == GH_T_BOOL || p->type == GH_T_DOUBLE)) {
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

char *host_json_encode(gh_call *call, const gh_param *fields)
{
    const gh_host *h = &gh_host_table;
    json_t *obj = json_object();
    char *text = NULL;
    size_t n;

    if (!obj) {
        h->fail(call, GH_ERR_NOMEM, "json_encode: out of memory");
        return NULL;
    }
    for (const gh_param *p = fields; p && p->key; p++) {
        json_t *v = param_value(call, p);

        /* set_new takes v even when it fails (a key that is not UTF-8) */
        if (!v || json_object_set_new(obj, p->key, v) != 0) {
            if (v)
                h->fail(call, GH_ERR_INVALID, "json_encode: a key is not UTF-8");
            json_decref(obj);
            return NULL;
        }
    }
    /* sized first, then dumped into our own malloc: the plugin frees the
     * result with host->free, whatever allocator jansson was given */
    n = json_dumpb(obj, NULL, 0, JSON_COMPACT);
    if (n && (text = malloc(n + 1)) != NULL) {
        json_dumpb(obj, text, n, JSON_COMPACT);
        text[n] = '\0';
    } else {
        h->fail(call, GH_ERR_NOMEM, "json_encode: out of memory");
    }
    json_decref(obj);
    return text;
}
