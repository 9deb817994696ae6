/*
 * router.c - (method, path) -> handler.
 *
 * Routes are few (tens) and matched segment by segment, so a linear scan is
 * both the simplest and, at this size, the fastest structure. Among the
 * patterns that match a path, the most specific wins: at the first segment
 * where two differ, a literal beats a {param}. A path may end in one '/'.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/router.h"

#define MAX_SEGMENTS 16
_Static_assert(MAX_SEGMENTS == sizeof(((gh_route *)0)->seg_len) / sizeof(unsigned short),
               "gh_route holds MAX_SEGMENTS segments");

struct gh_router {
    gh_route *v;
    size_t n, cap;
};

gh_router *router_new(void)
{
    return calloc(1, sizeof(gh_router));
}

void router_free(gh_router *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        free((char *)r->v[i].pattern);
    free(r->v);
    free(r);
}

size_t router_count(const gh_router *r)
{
    return r->n;
}

const gh_route *router_at(const gh_router *r, size_t i)
{
    return i < r->n ? &r->v[i] : NULL;
}

/* Split "/a/{b}/c" into segments; returns the count or -1 if malformed. */
static int split(const char *path, const char *seg[], size_t seglen[])
{
    if (path[0] != '/')
        return -1;
    int n = 0;
    const char *p = path + 1;
    if (*p == '\0')
        return 0;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (n == MAX_SEGMENTS)
            return -1;
        seg[n] = p;
        seglen[n++] = len;
        if (!slash)
            return n;
        p = slash + 1;
    }
}

static int is_param(const char *s, size_t len)
{
    return len >= 3 && s[0] == '{' && s[len - 1] == '}';
}

static int valid_pattern(const char *seg[], const size_t len[], int n)
{
    int params = 0;
    for (int i = 0; i < n; i++) {
        if (len[i] == 0 && i != n - 1)
            return 0; /* "//" */
        if (is_param(seg[i], len[i])) {
            if (++params > GH_MAX_PARAMS)
                return 0;
            for (size_t k = 1; k + 1 < len[i]; k++)
                if (!isalnum((unsigned char)seg[i][k]) && seg[i][k] != '_')
                    return 0;
        } else if (memchr(seg[i], '{', len[i]) || memchr(seg[i], '}', len[i])) {
            return 0;
        }
    }
    return 1;
}

/* Same shape: same segment count, literals equal, params anywhere equal. */
static int same_shape(const char *a, const char *b)
{
    const char *sa[MAX_SEGMENTS], *sb[MAX_SEGMENTS];
    size_t la[MAX_SEGMENTS], lb[MAX_SEGMENTS];
    int na = split(a, sa, la), nb = split(b, sb, lb);
    if (na != nb)
        return 0;
    for (int i = 0; i < na; i++) {
        int pa = is_param(sa[i], la[i]), pb = is_param(sb[i], lb[i]);
        if (pa != pb || (!pa && (la[i] != lb[i] || memcmp(sa[i], sb[i], la[i]) != 0)))
            return 0;
    }
    return 1;
}

int router_add(gh_router *r, unsigned methods, const char *pattern, gh_handler h)
{
    const char *seg[MAX_SEGMENTS];
    size_t len[MAX_SEGMENTS];
    int n = split(pattern, seg, len);
    if (n < 0 || !valid_pattern(seg, len, n) || methods == 0 || !h)
        return -1;
    for (size_t i = 0; i < r->n; i++)
        if (same_shape(r->v[i].pattern, pattern) && (r->v[i].methods & methods))
            return -1;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        gh_route *v = realloc(r->v, cap * sizeof *v);
        if (!v)
            return -1;
        r->v = v, r->cap = cap;
    }
    char *copy = strdup(pattern);
    if (!copy)
        return -1;
    gh_route *rt = &r->v[r->n];
    *rt = (gh_route){ .methods = methods, .pattern = copy, .handler = h, .index = r->n,
                      .nseg = (unsigned char)n };
    for (int i = 0; i < n; i++) {
        rt->seg_param[i] = (unsigned char)is_param(seg[i], len[i]);
        rt->seg_off[i] = (unsigned short)(seg[i] - pattern);
        rt->seg_len[i] = (unsigned short)len[i];
    }
    r->n++;
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode one segment; NULL if it decodes to a NUL or a slash, which
 * no identifier contains and which would confuse anything downstream. */
static char *decode(const char *s, size_t len)
{
    char *out = malloc(len + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            if (i + 2 >= len) {
                free(out);
                return NULL;
            }
            int a = hexval((unsigned char)s[i + 1]), b = hexval((unsigned char)s[i + 2]);
            if (a < 0 || b < 0 || (a == 0 && b == 0) || (a * 16 + b) == '/') {
                free(out);
                return NULL;
            }
            *o++ = (char)(a * 16 + b);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

/* Does pattern p match the split path? Fills m's params when it does.
 * *score orders matches: a literal at an earlier segment scores higher. */
static int match_one(const gh_route *rt, const char *seg[], const size_t len[], int n,
                     unsigned long *score)
{
    if (rt->nseg != n)
        return 0;
    unsigned long s = 0;
    for (int i = 0; i < n; i++) {
        s <<= 1;
        if (rt->seg_param[i]) {
            if (len[i] == 0)
                return 0;
        } else if (rt->seg_len[i] != len[i] ||
                   memcmp(rt->pattern + rt->seg_off[i], seg[i], len[i]) != 0) {
            return 0;
        } else {
            s |= 1;
        }
    }
    *score = s;
    return 1;
}

static int fill_params(const gh_route *rt, const char *seg[], const size_t len[], int n, gh_match *m)
{
    for (int i = 0; i < n; i++) {
        if (!rt->seg_param[i])
            continue;
        char *v = decode(seg[i], len[i]);
        if (!v)
            return -1;
        /* the name points into the route's own pattern: "{id}" -> "id" */
        m->params[m->nparams].name = rt->pattern + rt->seg_off[i] + 1;
        m->params[m->nparams].value = v;
        m->nparams++;
    }
    return 0;
}

int router_match(const gh_router *r, unsigned method, const char *path, gh_match *m)
{
    memset(m, 0, sizeof *m);
    const char *seg[MAX_SEGMENTS];
    size_t len[MAX_SEGMENTS];
    int n = split(path, seg, len);
    if (n < 0)
        return 404;
    /* one trailing slash names the same resource: clients written for
     * other servers call "/api/v1/users/" */
    if (n > 0 && len[n - 1] == 0)
        n--;
    const gh_route *best = NULL;
    unsigned long best_score = 0;
    for (size_t i = 0; i < r->n; i++) {
        unsigned long score;
        if (!match_one(&r->v[i], seg, len, n, &score))
            continue;
        m->allow |= r->v[i].methods;
        if ((r->v[i].methods & method) && (!best || score > best_score))
            best = &r->v[i], best_score = score;
    }
    if (!best)
        return m->allow ? 405 : 404;
    if (fill_params(best, seg, len, n, m) < 0) {
        match_clear(m);
        return 404;
    }
    m->route = best;
    return 200;
}

void match_clear(gh_match *m)
{
    for (size_t i = 0; i < m->nparams; i++)
        free(m->params[i].value);
    m->nparams = 0;
    m->route = NULL;
}

static const struct { unsigned bit; const char *name; } method_names[] = {
    { GH_GET, "GET" }, { GH_HEAD, "HEAD" }, { GH_POST, "POST" }, { GH_PUT, "PUT" },
    { GH_PATCH, "PATCH" }, { GH_DELETE, "DELETE" }, { GH_OPTIONS, "OPTIONS" },
};

unsigned method_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof method_names / sizeof method_names[0]; i++)
        if (strcmp(name, method_names[i].name) == 0)
            return method_names[i].bit;
    return 0;
}

void methods_format(unsigned methods, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof method_names / sizeof method_names[0]; i++) {
        if (!(methods & method_names[i].bit))
            continue;
        int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", method_names[i].name);
        if (w < 0 || (size_t)w >= len - used)
            return;
        used += (size_t)w;
    }
}
