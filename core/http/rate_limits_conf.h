/*
 * rate_limits_conf.h - the `rate_limits:` settings (http/rate_limits.h
 * applies them). Apart from rate_limits.h so that config.h can hold them
 * without the store.
 */
#ifndef GH_RATE_LIMITS_CONF_H
#define GH_RATE_LIMITS_CONF_H

#include <stddef.h>
#include <stdint.h>
#include "yaml_tree.h"

/* Whose requests a limit counts together. A request without that kind of
 * caller (no API key on a `key` limit, say) is counted by its IP. */
enum { RL_KEY_IP, RL_KEY_USER, RL_KEY_KEY, RL_KEY_CLIENT };
enum { RL_SLIDING_WINDOW, RL_TOKEN_BUCKET };

#define RL_NAME_MAX 32

/* "POST /api/v1/auth/login": the methods (0: any) and a pattern as the
 * router knows it ("/api/v1/users/{id}"), or a prefix (a path ending in "/" and "*": every route
 * under it), or "*" alone: every route. */
typedef struct gh_rl_route {
    unsigned methods;
    char *pattern;
    int prefix;              /* a prefix: pattern is its stem, "/" kept */
} gh_rl_route;

typedef struct gh_rate_limit {
    char name[RL_NAME_MAX + 1];
    gh_rl_route *routes;
    size_t n_routes;
    int key;                 /* RL_KEY_* */
    int algorithm;           /* RL_* */
    int64_t limit;           /* requests per window */
    int64_t window_ms;
    int64_t burst;           /* token_bucket: the bucket's size; 0: limit */
    int fail_closed;         /* kv unreachable: refuse (503), not let in */
} gh_rate_limit;

typedef struct gh_rate_limits {
    gh_rate_limit *v;
    size_t n;
} gh_rate_limits;

/* The built-in limits, used when the config says nothing. 0 or -1 (out of
 * memory). */
int rate_limits_default(gh_rate_limits *rl);
/* `rate_limits:` at v: a list replaces the built-in limits; a map by name
 * changes them (a built-in one of that name is the default of each field;
 * `enabled: false` drops it) or adds new ones. 0, or -1 with the error in
 * err. */
int rate_limits_parse(gh_rate_limits *rl, const gh_node *v, const char *name, char *err,
                      size_t errlen);
void rate_limits_free(gh_rate_limits *rl);

#endif
