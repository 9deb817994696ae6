/*
 * out.c - op results. See out.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "out.h"

/* One put value, in one allocation: the param, a number's storage, then
 * the key and the data, each followed by a NUL so strings need no copy. */
typedef struct out_entry {
    gh_param p;
    union {
        int64_t i;
        int32_t b;
        double d;
    } num;
    size_t size;
    char mem[];
} out_entry;

struct gh_out {
    out_entry **v;
    size_t n, cap;
};

gh_out *out_new(void)
{
    return calloc(1, sizeof(gh_out));
}

void out_free(gh_out *out)
{
    if (!out)
        return;
    for (size_t i = 0; i < out->n; i++) {
        /* results carry secrets (MFA seeds, tokens) */
        OPENSSL_cleanse(out->v[i], out->v[i]->size);
        free(out->v[i]);
    }
    free(out->v);
    free(out);
}

/* The bytes a put copies, or -1 if the param is malformed. */
static int data_len(const gh_param *p, size_t *len)
{
    switch (p->type) {
    case GH_T_NULL:
    case GH_T_INT:
    case GH_T_BOOL:
    case GH_T_DOUBLE:
        *len = 0;
        return p->type == GH_T_NULL || p->data ? 0 : -1;
    case GH_T_STR:
    case GH_T_BYTES:
    case GH_T_JSON:
        *len = p->len;
        return p->data || !p->len ? 0 : -1;
    default:
        return -1;
    }
}

gh_result out_put(gh_out *out, const gh_param *p)
{
    size_t klen, dlen;
    out_entry *e;

    if (!out || !p || !p->key || data_len(p, &dlen) != 0)
        return GH_ERR_INVALID;
    klen = strlen(p->key);
    if (dlen > SIZE_MAX / 2 || klen > SIZE_MAX / 4)
        return GH_ERR_INVALID;
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 8;
        out_entry **v = realloc(out->v, cap * sizeof *v);

        if (!v)
            return GH_ERR_NOMEM;
        out->v = v;
        out->cap = cap;
    }
    e = calloc(1, sizeof *e + klen + 1 + dlen + 1);
    if (!e)
        return GH_ERR_NOMEM;
    e->size = sizeof *e + klen + 1 + dlen + 1;
    memcpy(e->mem, p->key, klen);
    e->p.key = e->mem;
    e->p.type = p->type;
    switch (p->type) {
    case GH_T_INT:
        memcpy(&e->num.i, p->data, sizeof e->num.i);
        e->p.data = &e->num.i;
        e->p.len = sizeof e->num.i;
        break;
    case GH_T_BOOL:
        memcpy(&e->num.b, p->data, sizeof e->num.b);
        e->num.b = e->num.b != 0;
        e->p.data = &e->num.b;
        e->p.len = sizeof e->num.b;
        break;
    case GH_T_DOUBLE:
        memcpy(&e->num.d, p->data, sizeof e->num.d);
        e->p.data = &e->num.d;
        e->p.len = sizeof e->num.d;
        break;
    case GH_T_NULL:
        break;
    default: /* STR, BYTES, JSON */
        if (dlen)
            memcpy(e->mem + klen + 1, p->data, dlen);
        e->p.data = e->mem + klen + 1;
        e->p.len = dlen;
    }
    out->v[out->n++] = e;
    return GH_OK;
}

const gh_param *out_get(const gh_out *out, const char *key, size_t idx)
{
    if (!out || !key)
        return NULL;
    for (size_t i = 0; i < out->n; i++)
        if (strcmp(out->v[i]->p.key, key) == 0 && idx-- == 0)
            return &out->v[i]->p;
    return NULL;
}
