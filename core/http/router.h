/*
 * router.h - maps (method, path) to a handler. Patterns are made of
 * segments: literals and {name} parameters; a literal beats a parameter at
 * the same place, so /users/me wins over /users/{id}. A path that matches a
 * pattern but not the method gets 405 with an Allow header.
 */
#ifndef GH_ROUTER_H
#define GH_ROUTER_H

#include <stddef.h>

enum {
    GH_GET = 1 << 0, GH_POST = 1 << 1, GH_PUT = 1 << 2, GH_DELETE = 1 << 3,
    GH_PATCH = 1 << 4, GH_HEAD = 1 << 5, GH_OPTIONS = 1 << 6
};
#define GH_MAX_PARAMS 8

struct gh_req;
typedef void (*gh_handler)(struct gh_req *req);

typedef struct gh_route {
    unsigned methods;      /* GH_GET | ... */
    const char *pattern;   /* "/api/v1/users/{id}" */
    gh_handler handler;
    size_t index;          /* position in the router, for metrics */
    /* the pattern split at its slashes once, not on every request */
    unsigned char nseg;
    unsigned char seg_param[16];  /* segment i is a {param} */
    unsigned short seg_off[16], seg_len[16];
} gh_route;

typedef struct gh_match {
    const gh_route *route;  /* NULL: no match */
    unsigned allow;         /* methods the path accepts (405's Allow) */
    size_t nparams;
    struct { const char *name; char *value; } params[GH_MAX_PARAMS];
} gh_match;

typedef struct gh_router gh_router;

gh_router *router_new(void);
void router_free(gh_router *r);
/* -1 on a malformed pattern or one that clashes with an earlier route */
int router_add(gh_router *r, unsigned methods, const char *pattern, gh_handler h);
size_t router_count(const gh_router *r);
const gh_route *router_at(const gh_router *r, size_t i);

/* Match a path (without query; percent-decoding happens per segment).
 * Returns 200, 404 (no pattern) or 405 (pattern, not method). Parameter
 * values are malloc'd: release with match_clear(). */
int router_match(const gh_router *r, unsigned method, const char *path, gh_match *m);
void match_clear(gh_match *m);
unsigned method_from_name(const char *name); /* 0 if unknown */
/* "GET, POST" into buf */
void methods_format(unsigned methods, char *buf, size_t len);

#endif
