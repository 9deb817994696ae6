/*
 * config.c - the core schema: the typed gh_config checked out of the tree
 * core/yaml_tree.c reads, the way nginx walks its ngx_command_t lists, so
 * adding a setting is one table row (its key, checker, bounds, default and
 * whether a reload applies it) and one struct member.
 *
 * The tree stays alive in gh_config: plugin `options:` subtrees point into
 * it and the plugin loader checks them later, with the same positions.
 *
 * Every error is one line, "file:line:col: message", naming the dotted key.
 * Secrets (inline, or read from the file a `*_file` key names) are never
 * quoted in one, and are wiped from memory when the config is freed.
 */
#include "config.h"

#include <gatehouse/plugin.h> /* GH_LOG_* */
#include "auth/tokens.h"      /* GH_ALG_* */
#include "auth/pii.h"         /* key ids and key text */
#include "auth/companies.h"   /* what a company slug is */

#include <arpa/inet.h>
#include <ctype.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KIB ((int64_t)1024)
#define MIB (1024 * KIB)
#define SECOND ((int64_t)1000)
#define MINUTE (60 * SECOND)
#define HOUR (60 * MINUTE)
#define DAY (86400 * SECOND)
#define MAX_PATH_LEN 256 /* dotted key in messages */

static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_lower(int c) { return c >= 'a' && c <= 'z'; }
static int is_alpha(int c) { return is_lower(c) || (c >= 'A' && c <= 'Z'); }

/* ------------------------------------------------------------ the schema */

typedef struct checker {
    gh_config *cfg;
    char *err;
    size_t errlen;
} checker;

typedef struct choice {
    const char *name;
    int value;
} choice;

typedef struct field field;
/* Checks value v of key `name` (dotted) and stores it at base + f->off. */
typedef int (*field_set)(checker *ck, const gh_node *v, const field *f, void *base,
                         const char *name);
struct field {
    const char *key;
    field_set set;
    size_t off;
    int64_t min, max;        /* ints, sizes, durations */
    const choice *choices;   /* enums; ends with a NULL name */
    int exact;               /* choices: case matters (JOSE names) */
    const field *sub;        /* sections */
    int required;            /* plugin blocks: `plugin:` must be given */
    const char *def;         /* the default, as YAML text etc/gatehouse.yaml
                                shows it; checked by `set` like any value */
    int restart;             /* read only at start-up: a reload does not
                                apply it (a section: all of it) */
};

#define AT(base, off, type) ((type *)(void *)((char *)(base) + (off)))

static int nomem(checker *ck)
{
    return cfg_error_at(ck->err, ck->errlen, ck->cfg->path, 0, 0, "out of memory");
}

/* "expected <what>, got <what v is>": the one message for wrong types. */
static int bad_value(checker *ck, const gh_node *v, const char *name, const char *what)
{
    if (v->type == GH_NODE_MAP || v->type == GH_NODE_SEQ)
        return cfg_error(ck->err, ck->errlen, v, "%s: expected %s, got a %s", name, what,
                         v->type == GH_NODE_MAP ? "map" : "list");
    if (cfg_is_null(v))
        return cfg_error(ck->err, ck->errlen, v, "%s: expected %s, got nothing", name, what);
    return cfg_error(ck->err, ck->errlen, v, "%s: expected %s, got %s'%.64s'", name, what,
                     v->quoted ? "the quoted string " : "", v->value);
}

/* Human units for range messages: 65536 -> "64k", 600000 -> "10m". */
static const char *fmt_size(char *buf, size_t len, int64_t n)
{
    if (n >= MIB && n % MIB == 0)
        snprintf(buf, len, "%lldm", (long long)(n / MIB));
    else if (n >= KIB && n % KIB == 0)
        snprintf(buf, len, "%lldk", (long long)(n / KIB));
    else
        snprintf(buf, len, "%lld", (long long)n);
    return buf;
}

static const char *fmt_ms(char *buf, size_t len, int64_t ms)
{
    static const struct { const char *unit; int64_t ms; } units[] = {
        { "d", DAY }, { "h", 3600 * SECOND }, { "m", 60 * SECOND }, { "s", SECOND },
    };
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (ms >= units[i].ms && ms % units[i].ms == 0) {
            snprintf(buf, len, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            return buf;
        }
    }
    snprintf(buf, len, "%lldms", (long long)ms);
    return buf;
}

static int replace_str(checker *ck, char **slot, const char *s)
{
    char *copy = strdup(s);
    if (!copy)
        return nomem(ck);
    free(*slot);
    *slot = copy;
    return 0;
}

/* Ints and booleans: YAML says a quoted scalar is a string, so "8" is not 8.
 * (Sizes and durations are strings in YAML anyway - "64k" - so quoting
 * them changes nothing and is accepted.) */
static int parse_int_in_range(checker *ck, const gh_node *v, const field *f, const char *name,
                              int64_t *n)
{
    if (v->type != GH_NODE_SCALAR || v->quoted || cfg_parse_int(v->value, n) < 0)
        return bad_value(ck, v, name, "an integer");
    if (*n < f->min || *n > f->max)
        return cfg_error(ck->err, ck->errlen, v, "%s: %lld is out of range %lld..%lld", name,
                         (long long)*n, (long long)f->min, (long long)f->max);
    return 0;
}

static int set_int(checker *ck, const gh_node *v, const field *f, void *base, const char *name)
{
    int64_t n;
    if (parse_int_in_range(ck, v, f, name, &n) < 0)
        return -1;
    *AT(base, f->off, int) = (int)n;
    return 0;
}

/* For the members libargon2 takes as uint32_t; the range keeps it >= 0. */
static int set_u32(checker *ck, const gh_node *v, const field *f, void *base, const char *name)
{
    int64_t n;
    if (parse_int_in_range(ck, v, f, name, &n) < 0)
        return -1;
    *AT(base, f->off, uint32_t) = (uint32_t)n;
    return 0;
}

static int set_bool(checker *ck, const gh_node *v, const field *f, void *base, const char *name)
{
    int b;
    if (v->type != GH_NODE_SCALAR || v->quoted || cfg_parse_bool(v->value, &b) < 0)
        return bad_value(ck, v, name, "a boolean (true/false, yes/no, on/off)");
    *AT(base, f->off, int) = b;
    return 0;
}

static int set_size(checker *ck, const gh_node *v, const field *f, void *base, const char *name)
{
    size_t n;
    char lo[32], hi[32];
    if (v->type != GH_NODE_SCALAR || cfg_parse_size(v->value, &n) < 0)
        return bad_value(ck, v, name, "a size (512, 64k, 1m)");
    if (n < (size_t)f->min || n > (size_t)f->max)
        return cfg_error(ck->err, ck->errlen, v, "%s: %s is out of range %s..%s", name, v->value,
                         fmt_size(lo, sizeof lo, f->min), fmt_size(hi, sizeof hi, f->max));
    *AT(base, f->off, size_t) = n;
    return 0;
}

static int parse_ms(checker *ck, const gh_node *v, const field *f, const char *name, int64_t *ms)
{
    char lo[32], hi[32];
    if (v->type != GH_NODE_SCALAR || cfg_parse_duration(v->value, ms) < 0)
        return bad_value(ck, v, name, "a duration (250ms, 30s, 5m, 1h, 7d)");
    if (*ms < f->min || *ms > f->max)
        return cfg_error(ck->err, ck->errlen, v, "%s: %s is out of range %s..%s", name, v->value,
                         fmt_ms(lo, sizeof lo, f->min), fmt_ms(hi, sizeof hi, f->max));
    return 0;
}

static int set_ms(checker *ck, const gh_node *v, const field *f, void *base, const char *name)
{
    return parse_ms(ck, v, f, name, AT(base, f->off, int64_t));
}

static int set_seconds(checker *ck, const gh_node *v, const field *f, void *base, const char *name)
{
    int64_t ms;
    if (parse_ms(ck, v, f, name, &ms) < 0)
        return -1;
    *AT(base, f->off, int64_t) = ms / SECOND;
    return 0;
}

static int set_choice(checker *ck, const gh_node *v, const field *f, void *base, const char *name)
{
    char names[128] = "";
    size_t len = 0;
    if (v->type == GH_NODE_SCALAR) {
        for (const choice *c = f->choices; c->name; c++) {
            if ((f->exact ? strcmp : strcasecmp)(v->value, c->name) == 0) {
                *AT(base, f->off, int) = c->value;
                return 0;
            }
        }
    }
    for (const choice *c = f->choices; c->name && len < sizeof names; c++) {
        int n = snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "", c->name);
        len += n > 0 ? (size_t)n : 0;
    }
    char what[160];
    snprintf(what, sizeof what, "one of %s", names);
    return bad_value(ck, v, name, what);
}

static int set_string(checker *ck, const gh_node *v, const field *f, void *base, const char *name)
{
    if (v->type != GH_NODE_SCALAR)
        return bad_value(ck, v, name, "a string");
    if (!v->value[0])
        return cfg_error(ck->err, ck->errlen, v, "%s: must not be empty", name);
    return replace_str(ck, AT(base, f->off, char *), v->value);
}

/* Values that end up in HTTP headers must not be able to break them. */
static int is_printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return 0;
    return 1;
}

static int set_public_url(checker *ck, const gh_node *v, const field *f, void *base,
                          const char *name)
{
    gh_config *cfg = ck->cfg;
    if (v->type != GH_NODE_SCALAR)
        return bad_value(ck, v, name, "a URL");
    const char *s = v->value;
    int https = strncmp(s, "https://", 8) == 0;
    size_t scheme = https ? 8 : strncmp(s, "http://", 7) == 0 ? 7 : 0;
    if (!scheme || !s[scheme] || s[scheme] == '/' || !is_printable(s))
        return cfg_error(ck->err, ck->errlen, v,
                         "%s: expected an http:// or https:// URL, got '%.64s'", name, s);
    if (replace_str(ck, &cfg->public_url, s) < 0)
        return -1;
    /* Paths are appended to it: "https://a/" + "/x" would give "//x". */
    size_t len = strlen(cfg->public_url);
    while (len > scheme + 1 && cfg->public_url[len - 1] == '/')
        cfg->public_url[--len] = '\0';
    cfg->hsts = https;
    return 0;
}

/* Only the shape: local@domain, printable, no spaces. The accounts code
 * normalises it and decides the rest, as for any signup. */
static int set_email(checker *ck, const gh_node *v, const field *f, void *base, const char *name)
{
    if (v->type != GH_NODE_SCALAR)
        return bad_value(ck, v, name, "an email address");
    const char *s = v->value, *at = strrchr(s, '@');
    int ok = at && at > s && at[1] && strlen(s) <= 254;
    for (const char *p = s; ok && *p; p++)
        ok = (unsigned char)*p > ' ' && *p != 0x7f;
    if (!ok)
        return cfg_error(ck->err, ck->errlen, v, "%s: expected an email address, got '%.64s'",
                         name, s);
    return replace_str(ck, AT(base, f->off, char *), s);
}

/* "127.0.0.1:8080", "[::1]:8080", "host:8080", "*:8080" or ":8080". */
static const char *parse_listen(const char *s, char **host, uint16_t *port)
{
    const char *h = s, *colon;
    size_t hlen;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return "expected [ipv6]:port";
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
        char v6[INET6_ADDRSTRLEN];
        unsigned char bin[sizeof(struct in6_addr)];
        if (hlen == 0 || hlen >= sizeof v6)
            return "bad IPv6 address";
        memcpy(v6, h, hlen);
        v6[hlen] = '\0';
        if (inet_pton(AF_INET6, v6, bin) != 1)
            return "bad IPv6 address";
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return "expected host:port, [ipv6]:port, *:port or :port";
        hlen = (size_t)(colon - s);
        if (memchr(s, ':', hlen))
            return "IPv6 addresses go in brackets: [::1]:port";
        if (hlen == 1 && s[0] == '*')
            hlen = 0;
        for (size_t i = 0; i < hlen; i++)
            if (!is_alpha((unsigned char)s[i]) && !is_digit(s[i]) && s[i] != '.' && s[i] != '-')
                return "bad host name";
    }
    uint64_t p;
    const char *end;
    if (cfg_parse_digits(colon + 1, UINT64_MAX, &p, &end) < 0 || *end || p > 65535)
        return "the port must be 0..65535";
    *host = NULL;
    if (hlen && !(*host = strndup(h, hlen)))
        return ""; /* out of memory: the caller tells it from a bad address */
    *port = (uint16_t)p;
    return NULL;
}

static int same_listen(const gh_listen *a, const gh_listen *b)
{
    if (a->port != b->port || !a->host != !b->host)
        return 0;
    return !a->host || strcasecmp(a->host, b->host) == 0;
}

static int check_map(checker *ck, const gh_node *map, const char *name, const field *fields,
                     void *base);
static int set_section(checker *ck, const gh_node *v, const field *f, void *base,
                       const char *name);

/* The daemon works in its state directory and reads the TLS files again
 * on SIGHUP: a relative path would change meaning, so only absolute ones. */
static int set_tls_path(checker *ck, const gh_node *v, const field *f, void *base,
                        const char *name)
{
    if (v->type != GH_NODE_SCALAR || v->value[0] != '/')
        return bad_value(ck, v, name, "an absolute file path");
    return replace_str(ck, AT(base, f->off, char *), v->value);
}

static const field listen_tls_fields[] = {
    { .key = "certificate", .set = set_tls_path, .off = offsetof(gh_listen, tls_cert) },
    { .key = "key", .set = set_tls_path, .off = offsetof(gh_listen, tls_key) },
    { .key = "client_ca", .set = set_tls_path, .off = offsetof(gh_listen, tls_client_ca) },
    { 0 },
};

static int set_listen_address(checker *ck, const gh_node *v, const field *f, void *base,
                              const char *name)
{
    gh_listen *l = base;
    if (v->type != GH_NODE_SCALAR)
        return bad_value(ck, v, name, "an address like 127.0.0.1:8080");
    const char *why = parse_listen(v->value, &l->host, &l->port);
    if (why && !*why)
        return nomem(ck);
    if (why)
        return cfg_error(ck->err, ck->errlen, v, "%s: bad address '%.64s': %s", name, v->value,
                         why);
    return 0;
}

static const field listen_fields[] = {
    { .key = "address", .set = set_listen_address },
    { .key = "tls", .set = set_section, .sub = listen_tls_fields },
    { 0 },
};

/* One entry: an address, or { address, tls }. */
static int check_listen_item(checker *ck, const gh_node *item, const char *name, gh_listen *l)
{
    if (item->type == GH_NODE_SCALAR && !cfg_is_null(item))
        return set_listen_address(ck, item, NULL, l, name);
    if (item->type != GH_NODE_MAP)
        return bad_value(ck, item, name, "an address like 127.0.0.1:8080");
    if (check_map(ck, item, name, listen_fields, l) < 0)
        return -1;
    const gh_node *address = cfg_get(item, "address");
    if (!address || cfg_is_null(address))
        return cfg_error(ck->err, ck->errlen, item, "%s.address is required", name);
    const gh_node *tls = cfg_get(item, "tls");
    if (tls && (!l->tls_cert || !l->tls_key))
        return cfg_error(ck->err, ck->errlen, tls, "%s.tls: needs certificate and key", name);
    return 0;
}

static int set_listen(checker *ck, const gh_node *v, const field *f, void *base, const char *name)
{
    gh_config *cfg = ck->cfg;
    /* a lone map is one entry, as a lone address is */
    size_t n = v->type == GH_NODE_SEQ ? v->n : 1;
    if (n == 0)
        return cfg_error(ck->err, ck->errlen, v, "%s: needs at least one address", name);
    if (!(cfg->listen = calloc(n, sizeof *cfg->listen)))
        return nomem(ck);
    const gh_node *item = v->type == GH_NODE_SEQ ? v->child : v;
    for (; item && cfg->n_listen < n; item = item->next) {
        gh_listen *l = &cfg->listen[cfg->n_listen];
        l->where = item;
        cfg->n_listen++; /* freed by config_free, whatever is set */
        if (check_listen_item(ck, item, name, l) < 0)
            return -1;
        for (size_t i = 0; i + 1 < cfg->n_listen; i++)
            if (same_listen(&cfg->listen[i], l))
                return cfg_error(ck->err, ck->errlen, item, "%s: '%.64s' is listed twice",
                                 name, (item->type == GH_NODE_MAP ? cfg_get(item, "address")
                                        : item)->value);
    }
    return 0;
}

/* "*" or scheme://host[:port], nothing after: what a browser sends as
 * Origin. Lowercased, because browsers send them that way. */
static int valid_origin(char *s)
{
    if (strcmp(s, "*") == 0)
        return 1;
    for (char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    const char *p = s;
    if (!is_lower((unsigned char)*p))
        return 0;
    while (is_lower((unsigned char)*p) || is_digit(*p) || *p == '+' || *p == '-' || *p == '.')
        p++;
    if (strncmp(p, "://", 3) != 0)
        return 0;
    p += 3;
    const char *host = p;
    if (*p == '[') {
        while (is_digit(*++p) || (*p >= 'a' && *p <= 'f') || *p == ':' || *p == '.')
            ;
        if (*p++ != ']')
            return 0;
    } else {
        while (is_lower((unsigned char)*p) || is_digit(*p) || *p == '-' || *p == '.')
            p++;
    }
    if (p == host)
        return 0;
    if (*p == ':') {
        uint64_t port;
        const char *end;
        if (cfg_parse_digits(p + 1, UINT64_MAX, &port, &end) < 0 || port == 0 || port > 65535)
            return 0;
        p = end;
    }
    return *p == '\0';
}

static int set_origins(checker *ck, const gh_node *v, const field *f, void *base, const char *name)
{
    gh_config *cfg = ck->cfg;
    if (v->type != GH_NODE_SEQ)
        return bad_value(ck, v, name, "a list of origins");
    if (v->n && !(cfg->cors_origins = calloc(v->n, sizeof *cfg->cors_origins)))
        return nomem(ck);
    for (const gh_node *item = v->child; item; item = item->next) {
        if (item->type != GH_NODE_SCALAR || cfg_is_null(item))
            return bad_value(ck, item, name, "an origin");
        char *o = strdup(item->value);
        if (!o)
            return nomem(ck);
        cfg->cors_origins[cfg->n_cors_origins++] = o;
        if (!valid_origin(o))
            return cfg_error(ck->err, ck->errlen, item,
                             "%s: bad origin '%.64s': expected \"*\" or scheme://host[:port], no path",
                             name, item->value);
    }
    return 0;
}

/* RFC 9110 token: methods and header names. */
static int is_token(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!is_alpha((unsigned char)*s) && !is_digit(*s) && !strchr("!#$%&'*+-.^_`|~", *s))
            return 0;
    return 1;
}

/* A list of tokens, joined "A, B, C" the way the CORS headers want them. */
static int set_tokens(checker *ck, const gh_node *v, const field *f, void *base, const char *name)
{
    size_t len = 1;
    if (v->type != GH_NODE_SEQ)
        return bad_value(ck, v, name, "a list");
    for (const gh_node *item = v->child; item; item = item->next) {
        if (item->type != GH_NODE_SCALAR || cfg_is_null(item))
            return bad_value(ck, item, name, "a name");
        if (!is_token(item->value))
            return cfg_error(ck->err, ck->errlen, item, "%s: '%.64s' is not a valid name", name,
                             item->value);
        len += strlen(item->value) + 2;
    }
    char *joined = malloc(len), *p = joined;
    if (!joined)
        return nomem(ck);
    *p = '\0';
    for (const gh_node *item = v->child; item; item = item->next)
        p += sprintf(p, "%s%s", p == joined ? "" : ", ", item->value);
    char **slot = AT(base, f->off, char *);
    free(*slot);
    *slot = joined;
    return 0;
}

/* ------------------------------------------------------------ secret options
 *
 * A secret is given inline (`x`) or in a file (`x_file`), never both, and
 * no message ever quotes it: wrong types are named, values are not. */

static void free_secret(char *s)
{
    if (s)
        explicit_bzero(s, strlen(s));
    free(s);
}

/* f->key is "x" or "x_file"; either way the message names both. */
static int secret_given_twice(checker *ck, const gh_node *v, const field *f, const char *name)
{
    size_t len = strlen(f->key);
    if (len > 5 && strcmp(f->key + len - 5, "_file") == 0)
        len -= 5;
    return cfg_error(ck->err, ck->errlen, v, "%s: give either %.*s or %.*s_file, not both", name,
                     (int)len, f->key, (int)len, f->key);
}

static int set_secret(checker *ck, const gh_node *v, const field *f, void *base, const char *name)
{
    char **slot = AT(base, f->off, char *);
    if (v->type != GH_NODE_SCALAR)
        return bad_value(ck, v, name, "a string");
    if (*slot)
        return secret_given_twice(ck, v, f, name);
    if (!v->value[0])
        return cfg_error(ck->err, ck->errlen, v, "%s: must not be empty", name);
    if (!(*slot = strdup(v->value)))
        return nomem(ck);
    return 0;
}

/* Read now, so a missing or unreadable file fails the config check, not
 * the first request that needs it. */
static int set_secret_file(checker *ck, const gh_node *v, const field *f, void *base,
                           const char *name)
{
    char **slot = AT(base, f->off, char *), why[512];
    if (v->type != GH_NODE_SCALAR)
        return bad_value(ck, v, name, "a file name");
    if (*slot)
        return secret_given_twice(ck, v, f, name);
    if (!v->value[0])
        return cfg_error(ck->err, ck->errlen, v, "%s: must not be empty", name);
    if (!(*slot = cfg_read_secret_file(v->value, why, sizeof why)))
        return cfg_error(ck->err, ck->errlen, v, "%s: %s", name, why);
    return 0;
}

/* ------------------------------------------------------------ maps */

static const field *find_field(const field *fields, const char *key)
{
    for (; fields->key; fields++)
        if (strcmp(fields->key, key) == 0)
            return fields;
    return NULL;
}

/* Checks every member of map against fields; null members keep their
 * default. `name` is the map's dotted key, "" at the top. */
static int check_map(checker *ck, const gh_node *map, const char *name, const field *fields,
                     void *base)
{
    if (map->type != GH_NODE_MAP)
        return bad_value(ck, map, name, "a map");
    for (const gh_node *m = map->child; m; m = m->next) {
        const field *f = find_field(fields, m->key);
        if (!f && *name)
            return cfg_error_at(ck->err, ck->errlen, m->file, m->key_line, m->key_col,
                            "unknown key '%.64s' in '%s'", m->key, name);
        if (!f)
            return cfg_error_at(ck->err, ck->errlen, m->file, m->key_line, m->key_col,
                            "unknown key '%.64s'", m->key);
        if (cfg_is_null(m))
            continue;
        char sub[MAX_PATH_LEN];
        snprintf(sub, sizeof sub, "%s%s%s", name, *name ? "." : "", m->key);
        if (f->set(ck, m, f, base, sub) < 0)
            return -1;
    }
    return 0;
}

static int set_section(checker *ck, const gh_node *v, const field *f, void *base, const char *name)
{
    return check_map(ck, v, name, f->sub, base);
}

/* Same rule for every plugin name: it becomes a file name. The field's
 * offset picks the member: `name` (0, and the node errors point at) or a
 * list item's `plugin`. */
static int set_plugin_name(checker *ck, const gh_node *v, const field *f, void *base,
                           const char *name)
{
    gh_plugin_conf *pc = base;
    char **dst = AT(base, f->off, char *);
    size_t len = 0;
    if (v->type != GH_NODE_SCALAR)
        return bad_value(ck, v, name, "a plugin name");
    for (const char *p = v->value; *p; p++, len++)
        if (!is_lower((unsigned char)*p) && !is_digit(*p) && *p != '_' && *p != '-')
            break;
    if (len == 0 || len > 64 || v->value[len])
        return cfg_error(ck->err, ck->errlen, v,
                         "%s: bad plugin name '%.64s': use 1 to 64 of a-z, 0-9, '_' and '-'",
                         name, v->value);
    if (dst == &pc->name)
        pc->where = v;
    return replace_str(ck, dst, v->value);
}

/* Not checked here: the loader checks them against the plugin's own list. */
static int set_options(checker *ck, const gh_node *v, const field *f, void *base, const char *name)
{
    if (v->type != GH_NODE_MAP)
        return bad_value(ck, v, name, "a map");
    ((gh_plugin_conf *)base)->options = v;
    return 0;
}

static const field block_fields[] = {
    { .key = "plugin", .set = set_plugin_name },
    { .key = "options", .set = set_options },
    { 0 },
};

static const field item_fields[] = {
    { .key = "name", .set = set_plugin_name },
    { .key = "plugin", .set = set_plugin_name, .off = offsetof(gh_plugin_conf, plugin) },
    { .key = "options", .set = set_options },
    { 0 },
};

/* storage: and kv: blocks; kv names no default plugin, so it needs one. */
static int set_block(checker *ck, const gh_node *v, const field *f, void *base, const char *name)
{
    gh_plugin_conf *pc = AT(base, f->off, gh_plugin_conf);
    if (check_map(ck, v, name, block_fields, pc) < 0)
        return -1;
    if (!cfg_get(v, "plugin") || cfg_is_null(cfg_get(v, "plugin"))) {
        if (f->required)
            return cfg_error(ck->err, ck->errlen, v, "%s.plugin is required", name);
        pc->where = v;
    }
    return 0;
}

static int set_plugins(checker *ck, const gh_node *v, const field *f, void *base, const char *name)
{
    gh_config *cfg = ck->cfg;
    if (v->type != GH_NODE_SEQ)
        return bad_value(ck, v, name, "a list of plugins");
    if (v->n && !(cfg->plugins = calloc(v->n, sizeof *cfg->plugins)))
        return nomem(ck);
    for (const gh_node *item = v->child; item; item = item->next) {
        gh_plugin_conf *pc = &cfg->plugins[cfg->n_plugins++];
        char sub[MAX_PATH_LEN];
        snprintf(sub, sizeof sub, "%s[%zu]", name, cfg->n_plugins - 1);
        if (cfg_is_null(item))
            return bad_value(ck, item, sub, "a map");
        if (check_map(ck, item, sub, item_fields, pc) < 0)
            return -1;
        if (!pc->name)
            return cfg_error(ck->err, ck->errlen, item, "%s.name is required", sub);
        for (size_t i = 0; i + 1 < cfg->n_plugins; i++)
            if (strcmp(cfg->plugins[i].name, pc->name) == 0)
                return cfg_error(ck->err, ck->errlen, pc->where,
                                 "%s.name: plugin '%s' is listed twice (first at line %d)", sub,
                                 pc->name, cfg->plugins[i].where->line);
    }
    return 0;
}

/* ------------------------------------------------------------ encryption
 *
 * encryption.keys: a list of { id, key | key_file }, oldest first. The key
 * text is decoded here, so a bad key fails the config check (`-t`) and not
 * the first request; auth/pii.c decodes it again into its keyring. */

static int set_kid(checker *ck, const gh_node *v, const field *f, void *base, const char *name)
{
    if (v->type != GH_NODE_SCALAR)
        return bad_value(ck, v, name, "a key id");
    if (!pii_kid_ok(v->value))
        return cfg_error(ck->err, ck->errlen, v,
                         "%s: bad key id '%.64s': use 1 to %d of A-Z, a-z, 0-9, '.', '_' and '-'",
                         name, v->value, PII_KID_MAX);
    return replace_str(ck, AT(base, f->off, char *), v->value);
}

static const field enc_key_fields[] = {
    { .key = "id", .set = set_kid, .off = offsetof(gh_enc_key, id) },
    { .key = "key", .set = set_secret, .off = offsetof(gh_enc_key, key) },
    { .key = "key_file", .set = set_secret_file, .off = offsetof(gh_enc_key, key) },
    { 0 },
};

/* The key text decodes to 32 bytes; the message names the key, never
 * quotes it. */
static int check_key_text(checker *ck, const gh_node *at, const char *name, const char *text)
{
    uint8_t key[PII_KEY_LEN];
    const char *why = NULL;
    int rc = pii_key_decode(text, key, &why);
    explicit_bzero(key, sizeof key);
    return rc < 0 ? cfg_error(ck->err, ck->errlen, at, "%s: %s", name, why) : 0;
}

static int check_enc_key(checker *ck, const gh_node *item, const char *sub, gh_enc_key *k)
{
    gh_config *cfg = ck->cfg;
    if (cfg_is_null(item))
        return bad_value(ck, item, sub, "a map");
    k->where = item;
    if (check_map(ck, item, sub, enc_key_fields, k) < 0)
        return -1;
    if (!k->id)
        return cfg_error(ck->err, ck->errlen, item, "%s.id is required", sub);
    if (!k->key)
        return cfg_error(ck->err, ck->errlen, item, "%s: needs key or key_file", sub);
    for (size_t i = 0; i + 1 < cfg->n_enc_keys; i++)
        if (strcmp(cfg->enc_keys[i].id, k->id) == 0)
            return cfg_error(ck->err, ck->errlen, cfg_get(item, "id"),
                             "%s.id: key id '%s' is listed twice", sub, k->id);
    return check_key_text(ck, item, sub, k->key);
}

static int set_enc_keys(checker *ck, const gh_node *v, const field *f, void *base,
                        const char *name)
{
    gh_config *cfg = ck->cfg;
    if (v->type != GH_NODE_SEQ)
        return bad_value(ck, v, name, "a list of keys");
    if (v->n && !(cfg->enc_keys = calloc(v->n, sizeof *cfg->enc_keys)))
        return nomem(ck);
    for (const gh_node *item = v->child; item; item = item->next) {
        char sub[MAX_PATH_LEN];
        snprintf(sub, sizeof sub, "%s[%zu]", name, cfg->n_enc_keys);
        if (check_enc_key(ck, item, sub, &cfg->enc_keys[cfg->n_enc_keys++]) < 0)
            return -1;
    }
    return 0;
}

static int set_company_slug(checker *ck, const gh_node *v, const field *f, void *base,
                            const char *name)
{
    if (v->type != GH_NODE_SCALAR || !company_slug_valid(v->value))
        return bad_value(ck, v, name, "a company slug (a-z, 0-9 and '-')");
    return set_string(ck, v, f, base, name);
}

/* companies.hosts: { "auth.acme.example": acme, ... } */
static int set_company_hosts(checker *ck, const gh_node *v, const field *f, void *base,
                             const char *name)
{
    gh_config *cfg = ck->cfg;
    (void)f, (void)base;
    if (v->type != GH_NODE_MAP)
        return bad_value(ck, v, name, "a mapping of host names to company slugs");
    if (v->n && !(cfg->company_hosts = calloc(v->n, sizeof *cfg->company_hosts)))
        return nomem(ck);
    for (const gh_node *item = v->child; item; item = item->next) {
        if (!*item->key || strpbrk(item->key, ":/ ") || strlen(item->key) > 253)
            return cfg_error(ck->err, ck->errlen, item, "%s: '%.64s' is not a host name "
                             "(no port, no scheme)", name, item->key);
        if (item->type != GH_NODE_SCALAR || !company_slug_valid(item->value))
            return bad_value(ck, item, name, "a company slug (a-z, 0-9 and '-')");
        gh_company_host *h = &cfg->company_hosts[cfg->n_company_hosts++];
        if (!(h->host = strdup(item->key)) || !(h->slug = strdup(item->value)))
            return nomem(ck);
        for (char *p = h->host; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    return 0;
}

/* oauth.redirect_allowlist: where a social sign-in may send the browser
 * back, each an absolute http(s) URL without a fragment, compared whole. */
static int set_redirect_allowlist(checker *ck, const gh_node *v, const field *f, void *base,
                                  const char *name)
{
    gh_config *cfg = ck->cfg;
    (void)f, (void)base;
    if (v->type != GH_NODE_SEQ)
        return bad_value(ck, v, name, "a list of URLs");
    if (v->n && !(cfg->oauth_redirects = calloc(v->n, sizeof *cfg->oauth_redirects)))
        return nomem(ck);
    for (const gh_node *item = v->child; item; item = item->next) {
        const char *s = item->type == GH_NODE_SCALAR ? item->value : "";
        size_t scheme = strncmp(s, "https://", 8) == 0 ? 8 : strncmp(s, "http://", 7) == 0 ? 7 : 0;
        if (!scheme || !s[scheme] || s[scheme] == '/' || strchr(s, '#') || !is_printable(s))
            return cfg_error(ck->err, ck->errlen, item,
                             "%s: expected an http:// or https:// URL without a fragment, "
                             "got '%.64s'", name, s);
        if (!(cfg->oauth_redirects[cfg->n_oauth_redirects++] = strdup(s)))
            return nomem(ck);
    }
    return 0;
}

/* server.trusted_proxies: addresses and ranges, each checked now so that
 * a typo fails `gatehoused -t` rather than trusting the wrong hosts. */
static int set_trusted_proxies(checker *ck, const gh_node *v, const field *f, void *base,
                               const char *name)
{
    gh_trusted_proxies *tp = &ck->cfg->proxies;
    (void)f, (void)base;
    if (v->type != GH_NODE_SEQ)
        return bad_value(ck, v, name, "a list of addresses or ranges (10.0.0.0/8)");
    if (v->n && !(tp->v = calloc(v->n, sizeof *tp->v)))
        return nomem(ck);
    for (const gh_node *item = v->child; item; item = item->next) {
        const char *why;
        if (item->type != GH_NODE_SCALAR || cfg_is_null(item))
            return bad_value(ck, item, name, "an address or a range (10.0.0.0/8)");
        if (client_ip_cidr_parse(item->value, &tp->v[tp->n], &why) < 0)
            return cfg_error(ck->err, ck->errlen, item, "%s: bad address or range '%.64s': %s",
                             name, item->value, why);
        tp->n++;
    }
    return 0;
}

static const choice client_ip_headers[] = {
    { "x-forwarded-for", CLIENT_IP_HDR_XFF }, { "forwarded", CLIENT_IP_HDR_FORWARDED }, { 0 },
};

#define OFF(m) offsetof(gh_config, m)

static const field companies_fields[] = {
    { .key = "default", .set = set_company_slug, .off = OFF(company_default), .def = "root" },
    { .key = "hosts", .set = set_company_hosts },
    { .key = "erasure_delay", .set = set_ms, .off = OFF(company_erasure_delay_ms), .min = 0, .max = 365 * DAY, .def = "30d" },
    { 0 },
};

static const field oauth_fields[] = {
    { .key = "redirect_allowlist", .set = set_redirect_allowlist },
    { .key = "link_by_verified_email", .set = set_bool, .off = OFF(oauth_link_verified), .def = "false" },
    { 0 },
};

static const field cors_fields[] = {
    { .key = "allowed_origins", .set = set_origins },
    { .key = "allowed_methods", .set = set_tokens, .off = OFF(cors_methods) },
    { .key = "allowed_headers", .set = set_tokens, .off = OFF(cors_headers) },
    { .key = "allow_credentials", .set = set_bool, .off = OFF(cors_credentials), .def = "false" },
    { .key = "max_age", .set = set_seconds, .off = OFF(cors_max_age_s), .min = 0, .max = DAY, .def = "10m" },
    { 0 },
};

/* Without a token only this machine may read /metrics: its counters tell
 * an outsider which routes fail and how often sign-ins are refused. */
static const field metrics_fields[] = {
    { .key = "token", .set = set_secret, .off = OFF(metrics_token) },
    { .key = "token_file", .set = set_secret_file, .off = OFF(metrics_token) },
    { .key = "public", .set = set_bool, .off = OFF(metrics_public), .def = "false" },
    { 0 },
};

static const field server_fields[] = {
    { .key = "listen", .set = set_listen, .restart = 1 },
    { .key = "threads", .set = set_int, .off = OFF(threads), .min = 0, .max = 256, .def = "0", .restart = 1 },
    { .key = "workers", .set = set_int, .off = OFF(workers), .min = 0, .max = 1024, .def = "0", .restart = 1 },
    { .key = "queue_size", .set = set_int, .off = OFF(queue_size), .min = 1, .max = 1000000, .def = "1024", .restart = 1 },
    { .key = "max_body_size", .set = set_size, .off = OFF(max_body_size), .min = KIB, .max = 64 * MIB, .def = "64k" },
    { .key = "max_header_size", .set = set_size, .off = OFF(max_header_size), .min = KIB, .max = MIB, .def = "16k", .restart = 1 },
    { .key = "max_json_depth", .set = set_int, .off = OFF(max_json_depth), .min = 1, .max = 512, .def = "32" },
    { .key = "request_timeout", .set = set_ms, .off = OFF(request_timeout_ms), .min = 1, .max = DAY, .def = "30s", .restart = 1 },
    { .key = "shutdown_timeout", .set = set_ms, .off = OFF(shutdown_timeout_ms), .min = 0, .max = DAY, .def = "10s" },
    { .key = "public_url", .set = set_public_url, .def = "http://127.0.0.1:8080" },
    { .key = "user", .set = set_string, .off = OFF(run_user), .restart = 1 },
    { .key = "group", .set = set_string, .off = OFF(run_group), .restart = 1 },
    { .key = "cors", .set = set_section, .sub = cors_fields },
    { .key = "metrics", .set = set_section, .sub = metrics_fields },
    { .key = "trusted_proxies", .set = set_trusted_proxies },
    { .key = "client_ip_header", .set = set_choice, .off = OFF(proxies.header), .choices = client_ip_headers, .def = "x-forwarded-for" },
    { 0 },
};

static const choice log_levels[] = {
    { "debug", GH_LOG_DEBUG }, { "info", GH_LOG_INFO }, { "notice", GH_LOG_NOTICE },
    { "warning", GH_LOG_WARNING }, { "error", GH_LOG_ERROR }, { 0 },
};
static const choice log_formats[] = { { "plain", 0 }, { "json", 1 }, { 0 } };
static const choice log_outputs[] = { { "stderr", 0 }, { "syslog", 1 }, { 0 } };

static const field log_fields[] = {
    { .key = "level", .set = set_choice, .off = OFF(log_level), .choices = log_levels, .def = "info" },
    { .key = "format", .set = set_choice, .off = OFF(log_json), .choices = log_formats, .def = "plain" },
    { .key = "output", .set = set_choice, .off = OFF(log_syslog), .choices = log_outputs, .def = "stderr" },
    { .key = "access_log", .set = set_bool, .off = OFF(access_log), .def = "true" },
    { 0 },
};

static const field paths_fields[] = {
    { .key = "state_dir", .set = set_string, .off = OFF(state_dir), .def = "./var" },
    { .key = "plugin_dir", .set = set_string, .off = OFF(plugin_dir) },
    { .key = "data_dir", .set = set_string, .off = OFF(data_dir) },
    { 0 },
};

/* JOSE names are case-sensitive ("es256" is not an algorithm): so are these. */
static const choice token_algs[] = {
    { "ES256", GH_ALG_ES256 }, { "RS256", GH_ALG_RS256 }, { "HS256", GH_ALG_HS256 }, { 0 },
};

static const field tokens_fields[] = {
    { .key = "issuer", .set = set_string, .off = OFF(tokens.issuer) },
    { .key = "audience", .set = set_string, .off = OFF(tokens.audience), .def = "gatehouse" },
    { .key = "algorithm", .set = set_choice, .off = OFF(token_alg), .choices = token_algs, .exact = 1, .def = "ES256" },
    { .key = "access_ttl", .set = set_ms, .off = OFF(access_ttl_ms), .min = 30 * SECOND, .max = DAY, .def = "15m" },
    { .key = "refresh_ttl", .set = set_ms, .off = OFF(refresh_ttl_ms), .min = MINUTE, .max = 365 * DAY, .def = "30d" },
    { .key = "refresh_idle", .set = set_ms, .off = OFF(refresh_idle_ms), .min = 0, .max = 365 * DAY, .def = "15d" },
    { .key = "keys_dir", .set = set_string, .off = OFF(keys_dir), .def = "keys" },
    { .key = "hs256_secret", .set = set_secret, .off = OFF(hs256_secret) },
    { .key = "hs256_secret_file", .set = set_secret_file, .off = OFF(hs256_secret) },
    { .key = "permissions_claim", .set = set_bool, .off = OFF(tokens.permissions_claim), .def = "false" },
    { 0 },
};

/* OWASP's argon2id floor is m=19456 KiB, t=2, p=1; the bounds only stop
 * mistakes (a 1 MiB hash is trivial to crack, a 4 GiB one is a DoS). */
static const field argon2_fields[] = {
    { .key = "memory_kib", .set = set_u32, .off = OFF(argon2.memory_kib), .min = 1024, .max = 4194304, .def = "19456" },
    { .key = "iterations", .set = set_u32, .off = OFF(argon2.iterations), .min = 1, .max = 100, .def = "2" },
    { .key = "parallelism", .set = set_u32, .off = OFF(argon2.parallelism), .min = 1, .max = 64, .def = "1" },
    { 0 },
};

/* NIST SP 800-63B: at least 8 by default, and at least 64 must be allowed. */
static const field password_fields[] = {
    { .key = "min_length", .set = set_int, .off = OFF(pw.min_length), .min = 1, .max = 1024, .def = "8" },
    { .key = "max_length", .set = set_int, .off = OFF(pw.max_length), .min = 64, .max = 4096, .def = "128" },
    { .key = "require_upper", .set = set_bool, .off = OFF(pw.require_upper), .def = "false" },
    { .key = "require_lower", .set = set_bool, .off = OFF(pw.require_lower), .def = "false" },
    { .key = "require_digit", .set = set_bool, .off = OFF(pw.require_digit), .def = "false" },
    { .key = "require_special", .set = set_bool, .off = OFF(pw.require_special), .def = "false" },
    { .key = "check_common", .set = set_bool, .off = OFF(pw.check_common), .def = "true" },
    { .key = "argon2", .set = set_section, .sub = argon2_fields },
    { 0 },
};

/* Keycloak's brute-force detection, by account and by client address. */
static const field lockout_fields[] = {
    { .key = "account_failures", .set = set_int, .off = OFF(lockout.account_failures), .min = 1, .max = 1000, .def = "5" },
    { .key = "base_delay", .set = set_ms, .off = OFF(lockout.base_delay_ms), .min = SECOND, .max = DAY, .def = "1m" },
    { .key = "max_delay", .set = set_ms, .off = OFF(lockout.max_delay_ms), .min = SECOND, .max = DAY, .def = "15m" },
    { .key = "window", .set = set_ms, .off = OFF(lockout.window_ms), .min = MINUTE, .max = 365 * DAY, .def = "12h" },
    { .key = "ip_failures", .set = set_int, .off = OFF(lockout.ip_failures), .min = 1, .max = 1000000, .def = "50" },
    { .key = "ip_window", .set = set_ms, .off = OFF(lockout.ip_window_ms), .min = SECOND, .max = DAY, .def = "15m" },
    { 0 },
};

/* Seed 003's limits: 3 codes sent and 5 tried a minute. */
static const field mfa_fields[] = {
    { .key = "token_ttl", .set = set_ms, .off = OFF(mfa.token_ttl_ms), .min = MINUTE, .max = HOUR, .def = "5m" },
    { .key = "token_tries", .set = set_int, .off = OFF(mfa.token_tries), .min = 1, .max = 20, .def = "5" },
    { .key = "sms_code_ttl", .set = set_ms, .off = OFF(mfa.sms_code_ttl_ms), .min = MINUTE, .max = HOUR, .def = "5m" },
    { .key = "sms_code_tries", .set = set_int, .off = OFF(mfa.sms_code_tries), .min = 1, .max = 20, .def = "5" },
    { .key = "sms_send_limit", .set = set_int, .off = OFF(mfa.sms_send_limit), .min = 1, .max = 100, .def = "3" },
    { .key = "sms_verify_limit", .set = set_int, .off = OFF(mfa.sms_verify_limit), .min = 1, .max = 100, .def = "5" },
    { .key = "recent_signin", .set = set_ms, .off = OFF(mfa.recent_signin_ms), .min = SECOND, .max = DAY, .def = "5m" },
    { 0 },
};

static const field auth_fields[] = {
    { .key = "allow_signup", .set = set_bool, .off = OFF(allow_signup), .def = "true" },
    { .key = "require_verified_email", .set = set_bool, .off = OFF(require_verified_email), .def = "false" },
    { .key = "mfa_required", .set = set_bool, .off = OFF(mfa_required), .def = "false" },
    { .key = "password", .set = set_section, .sub = password_fields },
    { .key = "lockout", .set = set_section, .sub = lockout_fields },
    { .key = "mfa", .set = set_section, .sub = mfa_fields },
    { 0 },
};

/* mail.plugin names a notify plugin of the plugins: list (checked in
 * finish_mail; its kind when it loads). */
static int set_mail_plugin(checker *ck, const gh_node *v, const field *f, void *base,
                           const char *name)
{
    return set_plugin_name(ck, v, f, &ck->cfg->mail, name);
}

/* Links in mail: an http(s) URL without a trailing slash, one line. */
static int set_link_base(checker *ck, const gh_node *v, const field *f, void *base,
                         const char *name)
{
    const char *s = v->type == GH_NODE_SCALAR ? v->value : "";
    size_t scheme = strncmp(s, "https://", 8) == 0 ? 8 : strncmp(s, "http://", 7) == 0 ? 7 : 0;
    if (!scheme || !s[scheme] || s[scheme] == '/' || !is_printable(s))
        return cfg_error(ck->err, ck->errlen, v,
                         "%s: expected an http:// or https:// URL, got '%.64s'", name, s);
    char **slot = AT(base, f->off, char *);
    if (replace_str(ck, slot, s) < 0)
        return -1;
    size_t len = strlen(*slot);
    while (len > scheme + 1 && (*slot)[len - 1] == '/')
        (*slot)[--len] = '\0';
    return 0;
}

/* A path appended to frontend_url: starts with '/', printable. */
static int set_link_path(checker *ck, const gh_node *v, const field *f, void *base,
                         const char *name)
{
    if (v->type != GH_NODE_SCALAR || v->value[0] != '/' || !is_printable(v->value) ||
        strpbrk(v->value, "?#"))
        return cfg_error(ck->err, ck->errlen, v, "%s: expected a path such as /verify-email",
                         name);
    return replace_str(ck, AT(base, f->off, char *), v->value);
}

static const field mail_fields[] = {
    { .key = "plugin", .set = set_mail_plugin, .restart = 1 },
    { .key = "frontend_url", .set = set_link_base, .off = OFF(mail_frontend_url) },
    { .key = "product_name", .set = set_string, .off = OFF(mail_product_name), .def = "Gatehouse" },
    { .key = "templates_dir", .set = set_string, .off = OFF(mail_templates_dir), .restart = 1 },
    { .key = "verify_path", .set = set_link_path, .off = OFF(mail_verify_path), .def = "/verify-email" },
    { .key = "reset_path", .set = set_link_path, .off = OFF(mail_reset_path), .def = "/reset-password" },
    { .key = "invitation_path", .set = set_link_path, .off = OFF(mail_invite_path), .def = "/accept-invitation" },
    { .key = "verification_ttl", .set = set_ms, .off = OFF(mail_verify_ttl_ms), .min = SECOND, .max = 30 * DAY, .def = "24h" },
    { .key = "reset_ttl", .set = set_ms, .off = OFF(mail_reset_ttl_ms), .min = SECOND, .max = 7 * DAY, .def = "1h" },
    { .key = "invitation_ttl", .set = set_ms, .off = OFF(mail_invite_ttl_ms), .min = SECOND, .max = 30 * DAY, .def = "7d" },
    { .key = "queue_size", .set = set_int, .off = OFF(mail_outbox.capacity), .min = 1, .max = 1000000, .def = "1000", .restart = 1 },
    { .key = "max_attempts", .set = set_int, .off = OFF(mail_outbox.max_attempts), .min = 1, .max = 100, .def = "8", .restart = 1 },
    { .key = "retry_delay", .set = set_ms, .off = OFF(mail_outbox.retry_delay_ms), .min = 10, .max = DAY, .def = "5s", .restart = 1 },
    { .key = "retry_max_delay", .set = set_ms, .off = OFF(mail_outbox.retry_max_delay_ms), .min = 10, .max = DAY, .def = "10m", .restart = 1 },
    { .key = "address_limit", .set = set_int, .off = OFF(mail_address_limit), .min = 1, .max = 1000000, .def = "5" },
    { .key = "ip_limit", .set = set_int, .off = OFF(mail_ip_limit), .min = 1, .max = 1000000, .def = "50" },
    { .key = "limit_window", .set = set_ms, .off = OFF(mail_limit_window_ms), .min = SECOND, .max = DAY, .def = "1h" },
    { 0 },
};

static const field bootstrap_fields[] = {
    { .key = "admin_email", .set = set_email, .off = OFF(bootstrap_admin_email) },
    { .key = "admin_password", .set = set_secret, .off = OFF(bootstrap_admin_password) },
    { .key = "admin_password_file", .set = set_secret_file, .off = OFF(bootstrap_admin_password) },
    { 0 },
};

static const field encryption_fields[] = {
    { .key = "index_key", .set = set_secret, .off = OFF(enc_index_key) },
    { .key = "index_key_file", .set = set_secret_file, .off = OFF(enc_index_key) },
    { .key = "keys", .set = set_enc_keys },
    { 0 },
};

/* OAuth clients (auth/clients.h). A rotated-out secret keeps working for
 * a day by default: long enough to roll the new one out to every
 * instance of a service across a working day, short enough that a leaked
 * old secret dies soon. */
static const field oauth2_fields[] = {
    { .key = "client_secret_grace", .set = set_ms, .off = OFF(client_secret_grace_ms), .min = 0, .max = 30 * DAY, .def = "24h" },
    { .key = "jwks_allow_private", .set = set_bool, .off = OFF(client_jwks_allow_private), .def = "false" },
    { 0 },
};

/* rate_limits: a list or a map of limits (http/rate_limits_conf.h). */
static int set_rate_limits(checker *ck, const gh_node *v, const field *f, void *base,
                           const char *name)
{
    (void)f, (void)base;
    return rate_limits_parse(&ck->cfg->rate_limits, v, name, ck->err, ck->errlen);
}

/* webhooks.plugin names a notify plugin of the plugins: list (checked in
 * finish_webhooks; its kind when it loads). */
static int set_webhooks_plugin(checker *ck, const gh_node *v, const field *f, void *base,
                               const char *name)
{
    return set_plugin_name(ck, v, f, &ck->cfg->webhooks, name);
}

/* Outgoing events (auth/webhooks.h). A receiver that is down for a while
 * gets its events late, not never: the retries span about a day by
 * default, and only a run of failures across deliveries disables it. */
static const field webhooks_fields[] = {
    { .key = "plugin", .set = set_webhooks_plugin, .restart = 1 },
    { .key = "max_attempts", .set = set_int, .off = OFF(webhooks_retry.max_attempts), .min = 1, .max = 100, .def = "12", .restart = 1 },
    { .key = "retry_delay", .set = set_ms, .off = OFF(webhooks_retry.retry_delay_ms), .min = 10, .max = DAY, .def = "30s", .restart = 1 },
    { .key = "retry_max_delay", .set = set_ms, .off = OFF(webhooks_retry.retry_max_delay_ms), .min = 10, .max = 7 * DAY, .def = "6h", .restart = 1 },
    { .key = "timeout", .set = set_ms, .off = OFF(webhooks_retry.send_timeout_ms), .min = 100, .max = 5 * 60 * SECOND, .def = "10s", .restart = 1 },
    { .key = "disable_after", .set = set_int, .off = OFF(webhooks_disable_after), .min = 1, .max = 100000, .def = "20", .restart = 1 },
    { .key = "poll_interval", .set = set_ms, .off = OFF(webhooks_poll_ms), .min = 10, .max = 10 * 60 * SECOND, .def = "5s", .restart = 1 },
    { .key = "allow_private_targets", .set = set_bool, .off = OFF(webhooks_allow_private), .def = "false", .restart = 1 },
    { .key = "allow_http", .set = set_bool, .off = OFF(webhooks_allow_http), .def = "false", .restart = 1 },
    { 0 },
};

/* onboarding.cloud names a cloud plugin of the plugins: list (checked in
 * finish_onboarding; its kind when it loads). */
static int set_onboarding_cloud(checker *ck, const gh_node *v, const field *f, void *base,
                                const char *name)
{
    return set_plugin_name(ck, v, f, &ck->cfg->onboarding_cloud, name);
}

static const choice onboarding_failures[] = { { "rollback", 0 }, { "keep", 1 }, { 0 } };

/* Onboarding (api/onboard.c) and the provisioning jobs (auth/provisioning.h).
 * A cloud that is down for a while is waited for: transient errors are
 * retried with backoff before the job gives up. The lease outlasts one
 * step's deadline (half the lease), so a step is never run twice at once. */
static const field onboarding_fields[] = {
    { .key = "public", .set = set_bool, .off = OFF(onboarding_public), .def = "false" },
    { .key = "cloud", .set = set_onboarding_cloud, .restart = 1 },
    { .key = "retries", .set = set_int, .off = OFF(onboarding_retry.max_attempts), .min = 0, .max = 100, .def = "5", .restart = 1 },
    { .key = "backoff", .set = set_ms, .off = OFF(onboarding_retry.retry_delay_ms), .min = 10, .max = DAY, .def = "2s", .restart = 1 },
    { .key = "backoff_max", .set = set_ms, .off = OFF(onboarding_retry.retry_max_delay_ms), .min = 10, .max = DAY, .def = "5m", .restart = 1 },
    { .key = "on_failure", .set = set_choice, .off = OFF(onboarding_keep), .choices = onboarding_failures, .def = "rollback", .restart = 1 },
    { .key = "lease", .set = set_ms, .off = OFF(onboarding_lease_ms), .min = 200, .max = DAY, .def = "5m", .restart = 1 },
    { .key = "poll_interval", .set = set_ms, .off = OFF(onboarding_poll_ms), .min = 10, .max = 10 * 60 * SECOND, .def = "5s", .restart = 1 },
    { 0 },
};

static const field top_fields[] = {
    { .key = "server", .set = set_section, .sub = server_fields },
    { .key = "log", .set = set_section, .sub = log_fields },
    { .key = "paths", .set = set_section, .sub = paths_fields, .restart = 1 },
    { .key = "tokens", .set = set_section, .sub = tokens_fields },
    { .key = "auth", .set = set_section, .sub = auth_fields },
    { .key = "bootstrap", .set = set_section, .sub = bootstrap_fields },
    { .key = "encryption", .set = set_section, .sub = encryption_fields, .restart = 1 },
    { .key = "storage", .set = set_block, .off = OFF(storage), .restart = 1 },
    { .key = "kv", .set = set_block, .off = OFF(kv), .required = 1, .restart = 1 },
    { .key = "plugins", .set = set_plugins, .restart = 1 },
    { .key = "mail", .set = set_section, .sub = mail_fields },
    { .key = "companies", .set = set_section, .sub = companies_fields },
    { .key = "oauth", .set = set_section, .sub = oauth_fields },
    { .key = "oauth2", .set = set_section, .sub = oauth2_fields },
    { .key = "rate_limits", .set = set_rate_limits },
    { .key = "webhooks", .set = set_section, .sub = webhooks_fields },
    { .key = "onboarding", .set = set_section, .sub = onboarding_fields },
    { 0 },
};

/* Each row's default, through the row's own checker as if the file said
 * it: a default can never be a value the file could not give. */
static int set_row_defaults(checker *ck, const field *fields, const char *name, void *base)
{
    for (const field *f = fields; f->key; f++) {
        char sub[MAX_PATH_LEN];
        snprintf(sub, sizeof sub, "%s%s%s", name, *name ? "." : "", f->key);
        if (f->set == set_section && set_row_defaults(ck, f->sub, sub, base) < 0)
            return -1;
        if (!f->def)
            continue;
        gh_node v = { .type = GH_NODE_SCALAR, .key = (char *)f->key, .value = (char *)f->def,
                      .file = ck->cfg->path };
        if (f->set(ck, &v, f, base, sub) < 0)
            return -1;
    }
    return 0;
}

/* The rows' defaults, then those a scalar row cannot carry: lists, and the
 * storage block. */
static int set_defaults(checker *ck)
{
    gh_config *cfg = ck->cfg;
    if (set_row_defaults(ck, top_fields, "", cfg) < 0)
        return -1;
    if (!(cfg->cors_methods = strdup("GET, POST, PUT, PATCH, DELETE")) ||
        !(cfg->cors_headers = strdup("Authorization, Content-Type, X-Request-Id")) ||
        !(cfg->storage.name = strdup("sqlite")) || rate_limits_default(&cfg->rate_limits) < 0)
        return nomem(ck);
    cfg->storage.where = cfg->root;
    return 0;
}

static void each_setting(const field *fields, const char *name,
                         void (*each)(const char *key, const char *value, void *arg), void *arg)
{
    for (const field *f = fields; f->key; f++) {
        char sub[MAX_PATH_LEN];
        snprintf(sub, sizeof sub, "%s%s%s", name, *name ? "." : "", f->key);
        if (f->set == set_section)
            each_setting(f->sub, sub, each, arg);
        else
            each(sub, f->def, arg);
    }
}

static int nodes_equal(const gh_node *a, const gh_node *b)
{
    if (!a || !b)
        return a == b;
    if (a->type != b->type || a->n != b->n)
        return 0;
    if ((a->key || b->key) && (!a->key || !b->key || strcmp(a->key, b->key) != 0))
        return 0;
    if ((a->value || b->value) && (!a->value || !b->value || strcmp(a->value, b->value) != 0))
        return 0;
    for (const gh_node *x = a->child, *y = b->child; x || y; x = x->next, y = y->next)
        if (!nodes_equal(x, y))
            return 0;
    return 1;
}

static void each_restart_change(const field *fields, const char *name, const gh_node *old,
                                const gh_node *cur,
                                void (*each)(const char *key, void *arg), void *arg)
{
    for (const field *f = fields; f->key; f++) {
        char sub[MAX_PATH_LEN];
        snprintf(sub, sizeof sub, "%s%s%s", name, *name ? "." : "", f->key);
        const gh_node *o = old ? cfg_get(old, f->key) : NULL;
        const gh_node *c = cur ? cfg_get(cur, f->key) : NULL;
        if (f->restart) {
            if (!nodes_equal(o, c))
                each(sub, arg);
        } else if (f->set == set_section) {
            each_restart_change(f->sub, sub, o && o->type == GH_NODE_MAP ? o : NULL,
                                c && c->type == GH_NODE_MAP ? c : NULL, each, arg);
        }
    }
}

void config_restart_changes(const gh_config *old, const gh_config *cur,
                            void (*each)(const char *key, void *arg), void *arg)
{
    each_restart_change(top_fields, "", old->root, cur->root, each, arg);
}

void config_each_setting(void (*each)(const char *key, const char *value, void *arg), void *arg)
{
    each_setting(top_fields, "", each, arg);
}

/* The node at a dotted path of plain keys ("tokens.algorithm"), or NULL
 * when it is absent or null: where to point a rule across keys. */
static const gh_node *given(const gh_config *cfg, const char *path)
{
    const gh_node *n = cfg->root;
    char key[64];
    while (n && *path) {
        size_t len = strcspn(path, ".");
        if (len >= sizeof key)
            return NULL;
        memcpy(key, path, len);
        key[len] = '\0';
        n = cfg_get(n, key);
        path += len + (path[len] == '.');
    }
    return n && !cfg_is_null(n) ? n : NULL;
}

/* tokens: the HS256 secret is there exactly when HS256 is chosen. */
static int finish_tokens(checker *ck)
{
    gh_config *cfg = ck->cfg;
    const gh_node *inline_s = given(cfg, "tokens.hs256_secret");
    const gh_node *at = inline_s ? inline_s : given(cfg, "tokens.hs256_secret_file");
    const char *key = inline_s ? "tokens.hs256_secret" : "tokens.hs256_secret_file";

    /* A token's `iss` is how other services find our keys: by default the
     * address clients already use. */
    if (!cfg->tokens.issuer && replace_str(ck, &cfg->tokens.issuer, cfg->public_url) < 0)
        return -1;
    cfg->tokens.ttl_s = cfg->access_ttl_ms / 1000;

    if (cfg->token_alg != GH_ALG_HS256) {
        if (!cfg->hs256_secret)
            return 0;
        /* A stray secret suggests the admin meant HS256: say so, not ignore it. */
        const gh_node *alg = given(cfg, "tokens.algorithm");
        return cfg_error(ck->err, ck->errlen, at, "%s: only used with algorithm HS256, not %s",
                         key, alg ? alg->value : "ES256 (the default)");
    }
    if (!cfg->hs256_secret)
        return cfg_error(ck->err, ck->errlen, given(cfg, "tokens.algorithm"),
                         "tokens.algorithm: HS256 needs tokens.hs256_secret or "
                         "tokens.hs256_secret_file");
    const char *weak = keyring_secret_weak(cfg->hs256_secret);
    return weak ? cfg_error(ck->err, ck->errlen, at, "%s: %s", key, weak) : 0;
}

static int finish_auth(checker *ck)
{
    gh_config *cfg = ck->cfg;
    char a[32], b[32];
    /* min_length has a default of 8 and max_length a floor of 64, so only
     * a given min_length can be the one at fault */
    if (cfg->pw.min_length > cfg->pw.max_length)
        return cfg_error(ck->err, ck->errlen, given(cfg, "auth.password.min_length"),
                         "auth.password.min_length: %d is more than max_length (%d)",
                         cfg->pw.min_length, cfg->pw.max_length);
    if (cfg->lockout.base_delay_ms > cfg->lockout.max_delay_ms) {
        const gh_node *max = given(cfg, "auth.lockout.max_delay");
        fmt_ms(a, sizeof a, cfg->lockout.base_delay_ms);
        fmt_ms(b, sizeof b, cfg->lockout.max_delay_ms);
        if (max)
            return cfg_error(ck->err, ck->errlen, max,
                             "auth.lockout.max_delay: %s is less than base_delay (%s)", b, a);
        return cfg_error(ck->err, ck->errlen, given(cfg, "auth.lockout.base_delay"),
                         "auth.lockout.base_delay: %s is more than max_delay (%s)", a, b);
    }
    return 0;
}

/* bootstrap: an admin needs both an address and a password, or nothing. */
static int finish_bootstrap(checker *ck)
{
    gh_config *cfg = ck->cfg;
    if (cfg->bootstrap_admin_email && !cfg->bootstrap_admin_password)
        return cfg_error(ck->err, ck->errlen, given(cfg, "bootstrap.admin_email"),
                         "bootstrap.admin_email: needs bootstrap.admin_password or "
                         "bootstrap.admin_password_file");
    if (!cfg->bootstrap_admin_email && cfg->bootstrap_admin_password) {
        const gh_node *at = given(cfg, "bootstrap.admin_password");
        return cfg_error(ck->err, ck->errlen, at ? at : given(cfg, "bootstrap.admin_password_file"),
                         "%s: needs bootstrap.admin_email",
                         at ? "bootstrap.admin_password" : "bootstrap.admin_password_file");
    }
    return 0;
}

/* encryption: keys and the index key come together, or neither. */
static int finish_encryption(checker *ck)
{
    gh_config *cfg = ck->cfg;
    const gh_node *inline_k = given(cfg, "encryption.index_key");
    const gh_node *at = inline_k ? inline_k : given(cfg, "encryption.index_key_file");
    const char *key = inline_k ? "encryption.index_key" : "encryption.index_key_file";
    if (cfg->n_enc_keys > 0 && !cfg->enc_index_key)
        return cfg_error(ck->err, ck->errlen, given(cfg, "encryption.keys"),
                         "encryption.keys: needs encryption.index_key or "
                         "encryption.index_key_file (the blind index key)");
    if (!cfg->enc_index_key)
        return 0;
    if (cfg->n_enc_keys == 0)
        return cfg_error(ck->err, ck->errlen, at, "%s: needs encryption.keys", key);
    return check_key_text(ck, at, key, cfg->enc_index_key);
}

/* mail: the plugin is one of plugins:, links start at public_url unless
 * told otherwise, and retries never start slower than they may end. */
static int finish_mail(checker *ck)
{
    gh_config *cfg = ck->cfg;
    int listed = 0;
    for (size_t i = 0; cfg->mail.name && i < cfg->n_plugins; i++)
        listed |= strcmp(cfg->plugins[i].name, cfg->mail.name) == 0;
    if (cfg->mail.name && !listed)
        return cfg_error(ck->err, ck->errlen, cfg->mail.where,
                         "mail.plugin: '%s' is not in the plugins: list", cfg->mail.name);
    if (cfg->mail_outbox.retry_delay_ms > cfg->mail_outbox.retry_max_delay_ms)
        return cfg_error(ck->err, ck->errlen, given(cfg, "mail.retry_delay"),
                         "mail.retry_delay: more than retry_max_delay");
    if (!cfg->mail_frontend_url)
        return replace_str(ck, &cfg->mail_frontend_url, cfg->public_url);
    return 0;
}

/* webhooks: the plugin is one of plugins:, and retries never start slower
 * than they may end. */
static int finish_webhooks(checker *ck)
{
    gh_config *cfg = ck->cfg;
    int listed = 0;
    for (size_t i = 0; cfg->webhooks.name && i < cfg->n_plugins; i++)
        listed |= strcmp(cfg->plugins[i].name, cfg->webhooks.name) == 0;
    if (cfg->webhooks.name && !listed)
        return cfg_error(ck->err, ck->errlen, cfg->webhooks.where,
                         "webhooks.plugin: '%s' is not in the plugins: list", cfg->webhooks.name);
    if (cfg->webhooks_retry.retry_delay_ms > cfg->webhooks_retry.retry_max_delay_ms)
        return cfg_error(ck->err, ck->errlen, given(cfg, "webhooks.retry_delay"),
                         "webhooks.retry_delay: more than retry_max_delay");
    return 0;
}

/* onboarding: the cloud is one of plugins:, and retries never start
 * slower than they may end. */
static int finish_onboarding(checker *ck)
{
    gh_config *cfg = ck->cfg;
    int listed = 0;
    for (size_t i = 0; cfg->onboarding_cloud.name && i < cfg->n_plugins; i++)
        listed |= strcmp(cfg->plugins[i].name, cfg->onboarding_cloud.name) == 0;
    if (cfg->onboarding_cloud.name && !listed)
        return cfg_error(ck->err, ck->errlen, cfg->onboarding_cloud.where,
                         "onboarding.cloud: '%s' is not in the plugins: list",
                         cfg->onboarding_cloud.name);
    if (cfg->onboarding_retry.retry_delay_ms > cfg->onboarding_retry.retry_max_delay_ms)
        return cfg_error(ck->err, ck->errlen, given(cfg, "onboarding.backoff"),
                         "onboarding.backoff: more than backoff_max");
    return 0;
}

/* What depends on more than one key, or on the machine. */
static int finish(checker *ck)
{
    gh_config *cfg = ck->cfg;
    if (finish_tokens(ck) < 0 || finish_auth(ck) < 0 || finish_bootstrap(ck) < 0 ||
        finish_encryption(ck) < 0)
        return -1;
    if (finish_mail(ck) < 0 || finish_webhooks(ck) < 0 || finish_onboarding(ck) < 0)
        return -1;
    if (cfg->run_group && !cfg->run_user)
        return cfg_error(ck->err, ck->errlen, given(cfg, "server.group"),
                         "server.group: needs server.user");
    if (cfg->n_listen == 0) {
        if (!(cfg->listen = calloc(1, sizeof *cfg->listen)) ||
            !(cfg->listen[0].host = strdup("127.0.0.1")))
            return nomem(ck);
        cfg->listen[0].port = 8080;
        cfg->listen[0].where = cfg->root;
        cfg->n_listen = 1;
    }

    if (cfg->metrics_token && (cfg->metrics_public || strlen(cfg->metrics_token) < 16)) {
        const gh_node *m = cfg_get(cfg_get(cfg->root, "server"), "metrics");
        const gh_node *tok = cfg_get(m, "token") ? cfg_get(m, "token") : cfg_get(m, "token_file");
        if (cfg->metrics_public)
            return cfg_error(ck->err, ck->errlen, cfg_get(m, "public"),
                             "server.metrics.public: true and a token: choose one");
        return cfg_error(ck->err, ck->errlen, tok,
                         "server.metrics.%s: at least 16 characters (openssl rand -hex 32 "
                         "makes one)", cfg_get(m, "token") ? "token" : "token_file");
    }

    if (cfg->cors_credentials) {
        for (size_t i = 0; i < cfg->n_cors_origins; i++) {
            if (strcmp(cfg->cors_origins[i], "*") != 0)
                continue;
            const gh_node *at = cfg_get(cfg_get(cfg_get(cfg->root, "server"), "cors"),
                                        "allow_credentials");
            return cfg_error(ck->err, ck->errlen, at,
                             "server.cors.allow_credentials: cannot be true when "
                             "allowed_origins has \"*\" (browsers refuse it; list the origins)");
        }
    }

    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        cpus = 1;
    if (cfg->threads == 0)
        cfg->threads = cpus > 256 ? 256 : (int)cpus;
    /* workers 0 stays 0: main.c picks the number once it knows the store */
    return 0;
}

gh_config *config_load(const char *path, char *err, size_t errlen)
{
    gh_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->path = strdup(path))) {
        cfg_error_at(err, errlen, path, 0, 0, "out of memory");
        free(cfg);
        return NULL;
    }
    checker ck = { .cfg = cfg, .err = err, .errlen = errlen };
    if (!(cfg->root = cfg_tree_read(path, err, errlen)) || set_defaults(&ck) < 0 ||
        check_map(&ck, cfg->root, "", top_fields, cfg) < 0 || finish(&ck) < 0) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

void config_free(gh_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n_listen; i++) {
        free(cfg->listen[i].host);
        free(cfg->listen[i].tls_cert);
        free(cfg->listen[i].tls_key);
        free(cfg->listen[i].tls_client_ca);
    }
    free(cfg->listen);
    free(cfg->proxies.v);
    for (size_t i = 0; i < cfg->n_cors_origins; i++)
        free(cfg->cors_origins[i]);
    free(cfg->cors_origins);
    free(cfg->company_default);
    for (size_t i = 0; i < cfg->n_company_hosts; i++) {
        free(cfg->company_hosts[i].host);
        free(cfg->company_hosts[i].slug);
    }
    free(cfg->company_hosts);
    for (size_t i = 0; i < cfg->n_oauth_redirects; i++)
        free(cfg->oauth_redirects[i]);
    free(cfg->oauth_redirects);
    free(cfg->cors_methods);
    free(cfg->cors_headers);
    free(cfg->public_url);
    free(cfg->run_user);
    free(cfg->run_group);
    free(cfg->state_dir);
    free(cfg->plugin_dir);
    free(cfg->data_dir);
    free(cfg->tokens.issuer);
    free(cfg->tokens.audience);
    free(cfg->keys_dir);
    free_secret(cfg->hs256_secret);
    free_secret(cfg->metrics_token);
    free(cfg->bootstrap_admin_email);
    free_secret(cfg->bootstrap_admin_password);
    free_secret(cfg->enc_index_key);
    for (size_t i = 0; i < cfg->n_enc_keys; i++) {
        free(cfg->enc_keys[i].id);
        free_secret(cfg->enc_keys[i].key);
    }
    free(cfg->enc_keys);
    free(cfg->storage.name);
    free(cfg->kv.name);
    free(cfg->mail.name);
    free(cfg->webhooks.name);
    free(cfg->onboarding_cloud.name);
    free(cfg->mail_frontend_url);
    free(cfg->mail_product_name);
    free(cfg->mail_templates_dir);
    free(cfg->mail_verify_path);
    free(cfg->mail_reset_path);
    free(cfg->mail_invite_path);
    for (size_t i = 0; i < cfg->n_plugins; i++) {
        free(cfg->plugins[i].name);
        free(cfg->plugins[i].plugin);
    }
    free(cfg->plugins);
    rate_limits_free(&cfg->rate_limits);
    cfg_tree_free(cfg->root);
    free(cfg->path);
    free(cfg);
}
