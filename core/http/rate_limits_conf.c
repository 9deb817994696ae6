/*
 * rate_limits_conf.c - `rate_limits:` checked into gh_rate_limits, and the
 * built-in limits. See rate_limits_conf.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/rate_limits_conf.h"
#include "http/router.h"

#define MINUTE_MS 60000
#define MAX_LIMIT 1000000000
#define MAX_WINDOW_MS (86400LL * 1000)

/* The built-in limits. The numbers are those of the service Gatehouse
 * replaces: 5 a minute per IP on sign-up, login and OTP checks, 10 on
 * email verification, 3 on password reset and on sending an SMS code, and
 * 60 a minute on API calls (here: incoming webhooks, per API key). Guessing
 * a password or a code is what they stop, so those fail closed. */
typedef struct builtin {
    const char *name;
    const char *routes[3];
    int key;
    int64_t limit;
    int fail_closed;
} builtin;

static const builtin builtins[] = {
    { "signup", { "POST /api/v1/auth/signup" }, RL_KEY_IP, 5, 0 },
    { "login", { "POST /api/v1/auth/login" }, RL_KEY_IP, 5, 1 },
    { "verification", { "POST /api/v1/auth/verify-email", "POST /api/v1/auth/verify-email/resend" },
      RL_KEY_IP, 10, 0 },
    { "password_reset",
      { "POST /api/v1/auth/password-reset-request", "POST /api/v1/auth/password-reset" },
      RL_KEY_IP, 3, 1 },
    { "otp_verify", { "POST /api/v1/auth/mfa/verify", "POST /api/v1/users/me/phone/confirm" },
      RL_KEY_IP, 5, 1 },
    { "sms_send",
      { "POST /api/v1/auth/mfa/challenge", "POST /api/v1/users/me/phone/verify",
        "POST /api/v1/users/me/mfa/sms" },
      RL_KEY_IP, 3, 0 },
    { "webhooks", { "POST /api/v1/webhooks/*" }, RL_KEY_KEY, 60, 0 },
    /* onboarding.public: anyone may make a company; as many as sign-ups */
    { "onboard", { "POST /api/v1/onboard" }, RL_KEY_IP, 5, 0 },
};

static void limit_free(gh_rate_limit *l)
{
    for (size_t i = 0; i < l->n_routes; i++)
        free(l->routes[i].pattern);
    free(l->routes);
    l->routes = NULL;
    l->n_routes = 0;
}

void rate_limits_free(gh_rate_limits *rl)
{
    for (size_t i = 0; i < rl->n; i++)
        limit_free(&rl->v[i]);
    free(rl->v);
    rl->v = NULL;
    rl->n = 0;
}

/* "POST /a/b", "GET,PUT /a/{id}", a prefix or "*" into r; NULL or why
 * not. */
static const char *parse_route(const char *s, gh_rl_route *r)
{
    const char *path = s;
    unsigned methods = 0;

    if (s[0] != '/' && strcmp(s, "*") != 0) {
        const char *sp = strchr(s, ' ');
        if (!sp)
            return "expected \"METHOD /path\", \"/path\" or \"*\"";
        for (const char *m = s; m < sp;) {
            size_t len = strcspn(m, ", ");
            char name[8];
            unsigned bit = 0;
            if (len > 0 && len < sizeof name) {
                memcpy(name, m, len);
                name[len] = '\0';
                bit = method_from_name(name);
            }
            if (!bit)
                return "unknown method";
            methods |= bit;
            m += len;
            m += *m == ',';
        }
        path = sp + strspn(sp, " ");
    }
    if (strcmp(path, "*") == 0)
        path = "/*";
    if (path[0] != '/')
        return "a path starts with '/'";
    size_t len = strlen(path);
    r->prefix = len >= 2 && strcmp(path + len - 2, "/*") == 0;
    if (!r->prefix && strchr(path, '*'))
        return "'*' may only end a path, after a '/'";
    r->methods = methods;
    r->pattern = r->prefix ? strndup(path, len - 1) : strdup(path);
    return r->pattern ? NULL : "out of memory";
}

static int set_routes(gh_rate_limit *l, const gh_node *v, const char *name, char *err,
                      size_t errlen)
{
    size_t n = v->type == GH_NODE_SEQ ? v->n : 1;
    const gh_node *item = v->type == GH_NODE_SEQ ? v->child : v;

    if ((v->type != GH_NODE_SEQ && v->type != GH_NODE_SCALAR) || n == 0)
        return cfg_error(err, errlen, v, "%s.routes: expected a route or a list of routes", name);
    limit_free(l);
    if (!(l->routes = calloc(n, sizeof *l->routes)))
        return cfg_error(err, errlen, v, "out of memory");
    for (; item && l->n_routes < n; item = item->next) {
        const char *why = item->type == GH_NODE_SCALAR ? parse_route(item->value, &l->routes[l->n_routes])
                                                       : "expected a route";
        if (why)
            return cfg_error(err, errlen, item, "%s.routes: %s", name, why);
        l->n_routes++;
    }
    return 0;
}

static int pick(const gh_node *v, const char *const names[], int *out)
{
    for (int i = 0; names[i]; i++)
        if (v->type == GH_NODE_SCALAR && strcmp(v->value, names[i]) == 0)
            return *out = i, 0;
    return -1;
}

static int set_int(const gh_node *v, const char *name, const char *key, int64_t min, int64_t max,
                   int64_t *out, char *err, size_t errlen)
{
    if (v->type != GH_NODE_SCALAR || v->quoted || cfg_parse_int(v->value, out) < 0 || *out < min ||
        *out > max)
        return cfg_error(err, errlen, v, "%s.%s: expected an integer in %lld..%lld", name, key,
                         (long long)min, (long long)max);
    return 0;
}

/* One limit's members over l (a default's values, or zeroes). *enabled
 * reports `enabled:`. */
static int set_limit(gh_rate_limit *l, const gh_node *map, const char *name, int *enabled,
                     char *err, size_t errlen)
{
    static const char *const keys[] = { "ip", "user", "key", "client", NULL };
    static const char *const algorithms[] = { "sliding_window", "token_bucket", NULL };
    static const char *const failing[] = { "open", "closed", NULL };

    if (map->type != GH_NODE_MAP)
        return cfg_error(err, errlen, map, "%s: expected a map", name);
    for (const gh_node *m = map->child; m; m = m->next) {
        const char *k = m->key;
        if (cfg_is_null(m) || strcmp(k, "name") == 0)
            continue;
        if (strcmp(k, "routes") == 0) {
            if (set_routes(l, m, name, err, errlen) < 0)
                return -1;
        } else if (strcmp(k, "key") == 0) {
            if (pick(m, keys, &l->key) < 0)
                return cfg_error(err, errlen, m, "%s.key: expected ip, user, key or client", name);
        } else if (strcmp(k, "algorithm") == 0) {
            if (pick(m, algorithms, &l->algorithm) < 0)
                return cfg_error(err, errlen, m,
                                 "%s.algorithm: expected sliding_window or token_bucket", name);
        } else if (strcmp(k, "on_kv_error") == 0) {
            if (pick(m, failing, &l->fail_closed) < 0)
                return cfg_error(err, errlen, m, "%s.on_kv_error: expected open or closed", name);
        } else if (strcmp(k, "limit") == 0) {
            if (set_int(m, name, k, 1, MAX_LIMIT, &l->limit, err, errlen) < 0)
                return -1;
        } else if (strcmp(k, "burst") == 0) {
            if (set_int(m, name, k, 1, MAX_LIMIT, &l->burst, err, errlen) < 0)
                return -1;
        } else if (strcmp(k, "window") == 0) {
            if (m->type != GH_NODE_SCALAR || cfg_parse_duration(m->value, &l->window_ms) < 0 ||
                l->window_ms < 1000 || l->window_ms > MAX_WINDOW_MS)
                return cfg_error(err, errlen, m, "%s.window: expected a duration in 1s..1d", name);
        } else if (strcmp(k, "enabled") == 0) {
            if (m->type != GH_NODE_SCALAR || cfg_parse_bool(m->value, enabled) < 0)
                return cfg_error(err, errlen, m, "%s.enabled: expected true or false", name);
        } else {
            return cfg_error_at(err, errlen, m->file, m->key_line, m->key_col,
                                "unknown key '%.64s' in '%s'", k, name);
        }
    }
    if (l->n_routes == 0 || l->limit == 0)
        return cfg_error(err, errlen, map, "%s: needs routes and limit", name);
    if (l->window_ms == 0)
        l->window_ms = MINUTE_MS;
    if (l->burst && l->algorithm != RL_TOKEN_BUCKET)
        return cfg_error(err, errlen, cfg_get(map, "burst"), "%s.burst: only a token_bucket has one",
                         name);
    return 0;
}

static int name_ok(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-");
    return n > 0 && n <= RL_NAME_MAX && s[n] == '\0';
}

static gh_rate_limit *find(gh_rate_limits *rl, const char *name)
{
    for (size_t i = 0; i < rl->n; i++)
        if (strcmp(rl->v[i].name, name) == 0)
            return &rl->v[i];
    return NULL;
}

/* The limit called lname at item, over what rl holds by that name. */
static int merge_one(gh_rate_limits *rl, const gh_node *item, const char *lname, const char *path,
                     char *err, size_t errlen)
{
    gh_rate_limit *old = find(rl, lname), l = { 0 };
    int enabled = 1;

    if (old) {
        l = *old;
        l.routes = NULL, l.n_routes = 0;
        if (old->n_routes && !(l.routes = calloc(old->n_routes, sizeof *l.routes)))
            return cfg_error(err, errlen, item, "out of memory");
        for (; l.n_routes < old->n_routes; l.n_routes++) {
            l.routes[l.n_routes] = old->routes[l.n_routes];
            if (!(l.routes[l.n_routes].pattern = strdup(old->routes[l.n_routes].pattern))) {
                limit_free(&l);
                return cfg_error(err, errlen, item, "out of memory");
            }
        }
    }
    snprintf(l.name, sizeof l.name, "%s", lname);
    if (cfg_is_null(item) || (item->type == GH_NODE_SCALAR && cfg_parse_bool(item->value, &enabled) == 0)) {
        if (!old)
            return cfg_error(err, errlen, item, "%s: no built-in limit has that name", path);
    } else if (set_limit(&l, item, path, &enabled, err, errlen) < 0) {
        limit_free(&l);
        return -1;
    }
    if (!enabled) {
        limit_free(&l);
        if (old) {
            limit_free(old);
            *old = rl->v[--rl->n];
        }
        return 0;
    }
    if (old) {
        limit_free(old);
        *old = l;
        return 0;
    }
    gh_rate_limit *v = realloc(rl->v, (rl->n + 1) * sizeof *v);
    if (!v) {
        limit_free(&l);
        return cfg_error(err, errlen, item, "out of memory");
    }
    rl->v = v;
    rl->v[rl->n++] = l;
    return 0;
}

int rate_limits_parse(gh_rate_limits *rl, const gh_node *v, const char *name, char *err,
                      size_t errlen)
{
    char path[160];

    if (v->type == GH_NODE_SEQ) {
        rate_limits_free(rl);
        size_t i = 0;
        for (const gh_node *item = v->child; item; item = item->next, i++) {
            const gh_node *n = item->type == GH_NODE_MAP ? cfg_get(item, "name") : NULL;
            snprintf(path, sizeof path, "%s[%zu]", name, i);
            if (!n || n->type != GH_NODE_SCALAR || !name_ok(n->value))
                return cfg_error(err, errlen, n ? n : item,
                                 "%s.name: required, 1 to %d of a-z, 0-9, '_' and '-'", path,
                                 RL_NAME_MAX);
            if (find(rl, n->value))
                return cfg_error(err, errlen, n, "%s.name: '%s' is listed twice", path, n->value);
            if (merge_one(rl, item, n->value, path, err, errlen) < 0)
                return -1;
        }
        return 0;
    }
    if (v->type != GH_NODE_MAP)
        return cfg_error(err, errlen, v, "%s: expected a list or a map of limits", name);
    for (const gh_node *m = v->child; m; m = m->next) {
        snprintf(path, sizeof path, "%s.%s", name, m->key);
        if (!name_ok(m->key))
            return cfg_error_at(err, errlen, m->file, m->key_line, m->key_col,
                                "%s: a limit's name is 1 to %d of a-z, 0-9, '_' and '-'", path,
                                RL_NAME_MAX);
        if (merge_one(rl, m, m->key, path, err, errlen) < 0)
            return -1;
    }
    return 0;
}

int rate_limits_default(gh_rate_limits *rl)
{
    size_t n = sizeof builtins / sizeof *builtins;

    rate_limits_free(rl);
    if (!(rl->v = calloc(n, sizeof *rl->v)))
        return -1;
    rl->n = n; /* zeroes until filled: rate_limits_free frees any part */
    for (size_t i = 0; i < n; i++) {
        const builtin *b = &builtins[i];
        gh_rate_limit *l = &rl->v[i];
        size_t routes = 0;
        while (routes < 3 && b->routes[routes])
            routes++;
        snprintf(l->name, sizeof l->name, "%s", b->name);
        l->key = b->key;
        l->algorithm = RL_SLIDING_WINDOW;
        l->limit = b->limit;
        l->window_ms = MINUTE_MS;
        l->fail_closed = b->fail_closed;
        if (!(l->routes = calloc(routes, sizeof *l->routes)))
            return -1;
        for (; l->n_routes < routes; l->n_routes++)
            if (parse_route(b->routes[l->n_routes], &l->routes[l->n_routes]))
                return -1;
    }
    return 0;
}
