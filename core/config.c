/*
 * config.c - read the YAML config into a tree of positioned nodes, then
 * check that tree against the core schema into a gh_config.
 *
 * Two passes, on purpose. build_*() turns libyaml's event stream into
 * gh_node's, expanding ${VAR} in values and refusing the YAML features a
 * security daemon's config has no use for (anchors, aliases, tags, several
 * documents): what you read in the file is what runs. check_*() then walks
 * the tree against tables of fields, the way nginx walks its ngx_command_t
 * lists, so adding a setting is one table line and one struct member.
 *
 * The tree stays alive in gh_config: plugin `options:` subtrees point into
 * it and the plugin loader checks them later, with the same positions.
 *
 * Every error is one line, "file:line:col: message", naming the dotted key.
 * Secrets (inline, or read from the file a `*_file` key names) are never
 * quoted in one, and are wiped from memory when the config is freed.
 * Depends on libyaml and libc only (auth/tokens.h just for gh_alg).
 */
#include "config.h"

#include <gatehouse/plugin.h> /* GH_LOG_* */
#include "auth/tokens.h"      /* GH_ALG_* */
#include "auth/pii.h"         /* key ids and key text */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define MAX_CONFIG_SIZE (1024 * 1024) /* a config is a page or two; this is plenty */
#define MAX_DEPTH 64                  /* nesting; bounds our recursion */
#define MAX_SECRET_SIZE (64 * 1024)
#define MAX_PATH_LEN 256              /* dotted key in messages */

#define KIB ((int64_t)1024)
#define MIB (1024 * KIB)
#define SECOND ((int64_t)1000)
#define MINUTE (60 * SECOND)
#define HOUR (60 * MINUTE)
#define DAY (86400 * SECOND)

/* ------------------------------------------------------------ errors */

/* Errors end up in one log line: no control character may split it. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

__attribute__((format(printf, 6, 0)))
static int verror_at(char *err, size_t errlen, const char *file, int line, int col,
                     const char *fmt, va_list ap)
{
    if (!err || errlen == 0)
        return -1;
    int n = 0;
    if (file && line > 0)
        n = snprintf(err, errlen, "%s:%d:%d: ", file, line, col);
    else if (file)
        n = snprintf(err, errlen, "%s: ", file);
    if (n < 0)
        n = 0;
    if ((size_t)n < errlen)
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    one_line(err);
    return -1;
}

__attribute__((format(printf, 6, 7)))
static int error_at(char *err, size_t errlen, const char *file, int line, int col,
                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror_at(err, errlen, file, line, col, fmt, ap);
    va_end(ap);
    return -1;
}

int cfg_error(char *err, size_t errlen, const gh_node *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (at)
        verror_at(err, errlen, at->file, at->line, at->col, fmt, ap);
    else
        verror_at(err, errlen, NULL, 0, 0, fmt, ap);
    va_end(ap);
    return -1;
}

/* ------------------------------------------------------------ small helpers */

typedef struct strbuf {
    char *p;
    size_t len, cap;
} strbuf;

static int sb_add(strbuf *sb, const char *s, size_t n)
{
    if (n >= sb->cap - sb->len) {
        size_t cap = sb->cap ? sb->cap : 64;
        while (cap - sb->len <= n)
            cap *= 2;
        char *p = realloc(sb->p, cap);
        if (!p)
            return -1;
        sb->p = p;
        sb->cap = cap;
    }
    memcpy(sb->p + sb->len, s, n);
    sb->len += n;
    sb->p[sb->len] = '\0';
    return 0;
}

/* The text built so far, owned by the caller ("" if nothing was added). */
static char *sb_take(strbuf *sb)
{
    char *p = sb->p ? sb->p : strdup("");
    sb->p = NULL;
    sb->len = sb->cap = 0;
    return p;
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_lower(int c) { return c >= 'a' && c <= 'z'; }
static int is_alpha(int c) { return is_lower(c) || (c >= 'A' && c <= 'Z'); }

/* ------------------------------------------------------------ scalar parsers */

int cfg_parse_bool(const char *s, int *out)
{
    static const char *const yes[] = { "true", "yes", "on" };
    static const char *const no[] = { "false", "no", "off" };
    if (!s)
        return -1;
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Leading digits of s as an unsigned number; *end after them. -1 on
 * overflow or when there is no digit. */
static int parse_digits(const char *s, uint64_t max, uint64_t *out, const char **end)
{
    uint64_t v = 0;
    const char *p = s;
    for (; is_digit(*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (p == s)
        return -1;
    *out = v;
    *end = p;
    return 0;
}

int cfg_parse_int(const char *s, int64_t *out)
{
    uint64_t v;
    const char *end;
    int neg = 0;
    if (!s)
        return -1;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    /* INT64_MIN's magnitude is one more than INT64_MAX's */
    if (parse_digits(s, (uint64_t)INT64_MAX + (uint64_t)neg, &v, &end) < 0 || *end)
        return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int cfg_parse_duration(const char *s, int64_t *ms)
{
    static const struct { const char *suffix; int64_t ms; } units[] = {
        { "", 1 }, { "ms", 1 }, { "s", SECOND }, { "m", 60 * SECOND },
        { "h", 3600 * SECOND }, { "d", DAY },
    };
    uint64_t v;
    const char *end;
    if (!s || parse_digits(s, INT64_MAX, &v, &end) < 0)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (strcmp(end, units[i].suffix) != 0)
            continue;
        if (v > (uint64_t)(INT64_MAX / units[i].ms))
            return -1;
        *ms = (int64_t)v * units[i].ms;
        return 0;
    }
    return -1;
}

int cfg_parse_size(const char *s, size_t *bytes)
{
    uint64_t v, mult;
    const char *end;
    if (!s || parse_digits(s, SIZE_MAX, &v, &end) < 0)
        return -1;
    if (end[0] == '\0')
        mult = 1;
    else if (end[1] == '\0' && (end[0] == 'k' || end[0] == 'K'))
        mult = (uint64_t)KIB;
    else if (end[1] == '\0' && (end[0] == 'm' || end[0] == 'M'))
        mult = (uint64_t)MIB;
    else
        return -1;
    if (v > SIZE_MAX / mult)
        return -1;
    *bytes = (size_t)(v * mult);
    return 0;
}

/* ------------------------------------------------------------ the tree */

int cfg_is_null(const gh_node *n)
{
    if (!n || n->type != GH_NODE_SCALAR || n->quoted)
        return 0;
    return n->value[0] == '\0' || strcmp(n->value, "~") == 0 ||
           strcmp(n->value, "null") == 0 || strcmp(n->value, "Null") == 0 ||
           strcmp(n->value, "NULL") == 0;
}

const gh_node *cfg_get(const gh_node *map, const char *key)
{
    if (!map || map->type != GH_NODE_MAP)
        return NULL;
    for (const gh_node *m = map->child; m; m = m->next)
        if (strcmp(m->key, key) == 0)
            return m;
    return NULL;
}

/* Frees n and everything under it. The root also frees the file name,
 * which lives in the same allocation. Depth is bounded by MAX_DEPTH. */
static void node_free(gh_node *n)
{
    while (n) {
        gh_node *next = n->next;
        node_free(n->child);
        free(n->key);
        if (n->value) /* it may be a secret */
            explicit_bzero(n->value, strlen(n->value));
        free(n->value);
        free(n);
        n = next;
    }
}

typedef struct builder {
    yaml_parser_t parser;
    const char *file;          /* lives in the root node */
    const char *text;          /* the file's bytes, for reader-error positions */
    size_t textlen;
    char *err;
    size_t errlen;
    char path[MAX_PATH_LEN];   /* dotted key of the node being built */
    size_t pathlen;
    int depth;
} builder;

__attribute__((format(printf, 3, 4)))
static int build_error(builder *b, const yaml_mark_t *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror_at(b->err, b->errlen, b->file, (int)m->line + 1, (int)m->column + 1, fmt, ap);
    va_end(ap);
    return -1;
}

static int build_nomem(builder *b)
{
    return error_at(b->err, b->errlen, b->file, 0, 0, "out of memory");
}

/* Appends ".key" or "[i]" to the dotted path; returns the length to go
 * back to. A path too long for the buffer is cut, never overrun. */
static size_t path_push(builder *b, const char *key, size_t index)
{
    size_t old = b->pathlen, room = sizeof b->path - old;
    int n;
    if (key)
        n = snprintf(b->path + old, room, "%s%s", old ? "." : "", key);
    else
        n = snprintf(b->path + old, room, "[%zu]", index);
    b->pathlen = n < 0 ? old : (size_t)n >= room ? sizeof b->path - 1 : old + (size_t)n;
    return old;
}

static void path_pop(builder *b, size_t old)
{
    b->pathlen = old;
    b->path[old] = '\0';
}

/* The problem libyaml reported, at its position. */
static int syntax_error(builder *b)
{
    yaml_parser_t *p = &b->parser;
    if (p->error == YAML_MEMORY_ERROR)
        return build_nomem(b);
    if (p->error == YAML_READER_ERROR) {
        /* The reader reports a byte offset, not a mark: count lines. */
        int line = 1, col = 1;
        for (size_t i = 0; i < p->problem_offset && i < b->textlen; i++) {
            if (b->text[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return error_at(b->err, b->errlen, b->file, line, col, "%s",
                        p->problem ? p->problem : "cannot read the file");
    }
    const char *problem = p->problem ? p->problem : "YAML syntax error";
    if (p->context)
        return build_error(b, &p->problem_mark, "%s %s started at %d:%d", problem, p->context,
                           (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    return build_error(b, &p->problem_mark, "%s", problem);
}

static int next_event(builder *b, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&b->parser, ev))
        return syntax_error(b);
    return 0;
}

/* What we refuse in any node: anchors and aliases (a config is read by
 * people; references make it a puzzle, and alias bombs a danger) and tags
 * (the schema, not the file, says what a value is). */
static int refuse_extras(builder *b, const yaml_event_t *ev)
{
    const yaml_char_t *anchor = NULL, *tag = NULL;
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return build_error(b, &ev->start_mark, "anchors and aliases are not supported");
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        break;
    default:
        break;
    }
    if (anchor)
        return build_error(b, &ev->start_mark, "anchors and aliases are not supported");
    if (tag)
        return build_error(b, &ev->start_mark, "YAML tags are not supported");
    return 0;
}

static int is_name_start(int c) { return is_alpha(c) || c == '_'; }
static int is_name_char(int c) { return is_name_start(c) || is_digit(c); }

/* Whether the value of the dotted key `path` is a secret, which no message
 * may quote: a last component naming a secret or password, but not the
 * `_file` option that only names where one is kept. */
static int is_secret_key(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *key = dot ? dot + 1 : path;
    size_t len = strlen(key);
    if (len > 5 && strcmp(key + len - 5, "_file") == 0)
        return 0;
    /* and encryption keys: `key`, `index_key` */
    return strstr(key, "secret") || strstr(key, "password") || strcmp(key, "key") == 0 ||
           (len > 4 && strcmp(key + len - 4, "_key") == 0);
}

/* ${VAR}, ${VAR:-default} (used when VAR is unset or empty) and $$ for a
 * literal $. A '$' followed by anything else is kept as it is, so values
 * like "^a$" need no escaping. The default is taken literally. */
static char *expand(builder *b, const char *s, size_t len, const yaml_mark_t *at)
{
    const char *key = b->pathlen ? b->path : "value";
    strbuf out = { 0 };
    size_t i = 0;

    while (i < len) {
        const char *dollar = memchr(s + i, '$', len - i);
        size_t run = dollar ? (size_t)(dollar - (s + i)) : len - i;
        if (sb_add(&out, s + i, run) < 0)
            goto nomem;
        i += run;
        if (i == len)
            break;
        char next = i + 1 < len ? s[i + 1] : '\0';
        if (next != '{') {
            /* "$$" is one literal $; any other $ stands for itself */
            if (sb_add(&out, "$", 1) < 0)
                goto nomem;
            i += next == '$' ? 2 : 1;
            continue;
        }

        const char *name = s + i + 2;
        const char *close = memchr(name, '}', len - i - 2);
        if (!close) {
            build_error(b, at, "%s: unterminated '${' (write $$ for a literal $)", key);
            goto fail;
        }
        size_t body = (size_t)(close - name), nlen = 0;
        if (body > 0 && is_name_start((unsigned char)name[0]))
            while (nlen < body && is_name_char((unsigned char)name[nlen]))
                nlen++;
        const char *def = NULL;
        size_t deflen = 0;
        if (nlen > 0 && body - nlen >= 2 && name[nlen] == ':' && name[nlen + 1] == '-') {
            def = name + nlen + 2;
            deflen = body - nlen - 2;
        } else if ((nlen == 0 || nlen < body) && is_secret_key(key)) {
            build_error(b, at, "%s: bad '${...}': expected ${NAME} or ${NAME:-default}", key);
            goto fail;
        } else if (nlen == 0 || nlen < body) {
            build_error(b, at, "%s: bad '${%.*s}': expected ${NAME} or ${NAME:-default}",
                        key, (int)(body > 64 ? 64 : body), name);
            goto fail;
        }

        char var[128];
        if (nlen >= sizeof var) {
            build_error(b, at, "%s: environment variable name too long", key);
            goto fail;
        }
        memcpy(var, name, nlen);
        var[nlen] = '\0';
        const char *val = getenv(var);
        if (def && (!val || !*val)) {
            if (sb_add(&out, def, deflen) < 0)
                goto nomem;
        } else if (!val) {
            build_error(b, at, "%s: environment variable '%s' is not set", key, var);
            goto fail;
        } else if (sb_add(&out, val, strlen(val)) < 0) {
            goto nomem;
        }
        i = (size_t)(close - s) + 1;
    }
    char *r = sb_take(&out);
    if (!r)
        build_nomem(b);
    return r;
nomem:
    build_nomem(b);
fail:
    free(out.p);
    return NULL;
}

static void set_pos(gh_node *n, builder *b, const yaml_mark_t *m)
{
    n->file = b->file;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
}

static const char *kind_name(yaml_event_type_t t)
{
    return t == YAML_MAPPING_START_EVENT ? "a map" : t == YAML_SEQUENCE_START_EVENT ? "a list" : "a scalar";
}

static int build_node(builder *b, const yaml_event_t *ev, gh_node *n);

static int build_scalar(builder *b, const yaml_event_t *ev, gh_node *n)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    n->type = GH_NODE_SCALAR;
    set_pos(n, b, &ev->start_mark);
    /* C strings end at the first NUL: a "\0" escape would cut the value
     * silently, so refuse it. */
    if (memchr(s, '\0', len))
        return build_error(b, &ev->start_mark, "%s: NUL characters are not allowed",
                           b->pathlen ? b->path : "value");
    /* Block scalars (| and >) are strings too: only plain ones can be null. */
    n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    n->value = expand(b, s, len, &ev->start_mark);
    return n->value ? 0 : -1;
}

static gh_node *add_child(gh_node *parent, gh_node ***tail)
{
    gh_node *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    **tail = c;
    *tail = &c->next;
    parent->n++;
    return c;
}

/* Builds the value of one member from its already-read key event. */
static int build_member(builder *b, gh_node *map, gh_node ***tail, const yaml_event_t *k)
{
    if (k->type != YAML_SCALAR_EVENT)
        return build_error(b, &k->start_mark, "%s: keys must be scalars, not %s",
                           b->pathlen ? b->path : "top level", kind_name(k->type));
    if (refuse_extras(b, k) < 0)
        return -1;
    const char *key = (const char *)k->data.scalar.value;
    if (memchr(key, '\0', k->data.scalar.length))
        return build_error(b, &k->start_mark, "NUL characters are not allowed in keys");
    for (const gh_node *m = map->child; m; m = m->next) {
        if (strcmp(m->key, key) != 0)
            continue;
        if (b->pathlen)
            return build_error(b, &k->start_mark, "duplicate key '%s' in '%s' (first at line %d)",
                               key, b->path, m->key_line);
        return build_error(b, &k->start_mark, "duplicate key '%s' (first at line %d)", key,
                           m->key_line);
    }

    gh_node *c = add_child(map, tail);
    if (!c || !(c->key = strdup(key)))
        return build_nomem(b);
    c->key_line = (int)k->start_mark.line + 1;
    c->key_col = (int)k->start_mark.column + 1;

    yaml_event_t v;
    if (next_event(b, &v) < 0)
        return -1;
    size_t old = path_push(b, key, 0);
    int rc = build_node(b, &v, c);
    path_pop(b, old);
    yaml_event_delete(&v);
    return rc;
}

static int build_map(builder *b, const yaml_event_t *ev, gh_node *n)
{
    gh_node **tail = &n->child;
    n->type = GH_NODE_MAP;
    set_pos(n, b, &ev->start_mark);
    for (;;) {
        yaml_event_t k;
        if (next_event(b, &k) < 0)
            return -1;
        if (k.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&k);
            return 0;
        }
        int rc = build_member(b, n, &tail, &k);
        yaml_event_delete(&k);
        if (rc < 0)
            return -1;
    }
}

static int build_seq(builder *b, const yaml_event_t *ev, gh_node *n)
{
    gh_node **tail = &n->child;
    n->type = GH_NODE_SEQ;
    set_pos(n, b, &ev->start_mark);
    for (;;) {
        yaml_event_t v;
        if (next_event(b, &v) < 0)
            return -1;
        if (v.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&v);
            return 0;
        }
        gh_node *c = add_child(n, &tail);
        size_t old = path_push(b, NULL, n->n - 1);
        int rc = c ? build_node(b, &v, c) : build_nomem(b);
        path_pop(b, old);
        yaml_event_delete(&v);
        if (rc < 0)
            return -1;
    }
}

static int build_node(builder *b, const yaml_event_t *ev, gh_node *n)
{
    if (refuse_extras(b, ev) < 0)
        return -1;
    if (ev->type == YAML_SCALAR_EVENT)
        return build_scalar(b, ev, n);
    if (ev->type != YAML_MAPPING_START_EVENT && ev->type != YAML_SEQUENCE_START_EVENT)
        return build_error(b, &ev->start_mark, "unexpected YAML event");
    if (b->depth >= MAX_DEPTH)
        return build_error(b, &ev->start_mark, "nested deeper than %d levels", MAX_DEPTH);
    b->depth++;
    int rc = ev->type == YAML_MAPPING_START_EVENT ? build_map(b, ev, n) : build_seq(b, ev, n);
    b->depth--;
    return rc;
}

/* The document's top node goes into root, which must be a map of sections;
 * a null document (empty, "---", "~") leaves root an empty map. */
static int build_document(builder *b, gh_node *root)
{
    yaml_event_t ev;
    if (next_event(b, &ev) < 0)
        return -1;
    int rc = refuse_extras(b, &ev);
    if (rc == 0 && ev.type == YAML_MAPPING_START_EVENT) {
        b->depth++;
        rc = build_map(b, &ev, root);
        b->depth--;
    } else if (rc == 0) {
        gh_node probe = { .type = GH_NODE_SCALAR, .value = "" };
        if (ev.type == YAML_SCALAR_EVENT) {
            probe.value = (char *)ev.data.scalar.value;
            probe.quoted = ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        }
        if (ev.type != YAML_SCALAR_EVENT || !cfg_is_null(&probe))
            rc = build_error(b, &ev.start_mark, "expected a map of sections at the top level, got %s",
                             kind_name(ev.type));
    }
    yaml_event_delete(&ev);
    if (rc < 0 || next_event(b, &ev) < 0) /* DOCUMENT-END */
        return -1;
    yaml_event_delete(&ev);
    return 0;
}

/* Reads the whole file: configs are small, and having the bytes lets us
 * place libyaml's reader errors (bad UTF-8) at a line and column. */
static char *read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        error_at(err, errlen, path, 0, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    int e = fstat(fd, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (e) {
        error_at(err, errlen, path, 0, 0, "cannot open: %s", strerror(e));
        close(fd);
        return NULL;
    }
    char *buf = malloc(max + 1);
    size_t got = 0;
    if (!buf) {
        error_at(err, errlen, path, 0, 0, "out of memory");
        close(fd);
        return NULL;
    }
    /* Read one byte past max to tell "exactly max" from "too big". */
    for (;;) {
        ssize_t r = read(fd, buf + got, max + 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            error_at(err, errlen, path, 0, 0, "cannot read: %s", strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        got += (size_t)r;
        if (got > max) {
            error_at(err, errlen, path, 0, 0, "file is larger than %zu KiB", max / 1024);
            goto fail;
        }
    }
    close(fd);
    buf[got] = '\0';
    *len = got;
    return buf;
fail:
    explicit_bzero(buf, got); /* it may be a secret file */
    free(buf);
    close(fd);
    return NULL;
}

static gh_node *read_tree(const char *path, char *err, size_t errlen)
{
    builder b = { .err = err, .errlen = errlen };
    size_t flen = strlen(path);
    gh_node *root = calloc(1, sizeof *root + flen + 1);
    if (!root) {
        error_at(err, errlen, path, 0, 0, "out of memory");
        return NULL;
    }
    b.file = memcpy((char *)(root + 1), path, flen + 1);
    root->type = GH_NODE_MAP;
    root->file = b.file;
    root->line = root->col = 1;

    char *text = read_file(path, MAX_CONFIG_SIZE, &b.textlen, err, errlen);
    if (!text) {
        free(root);
        return NULL;
    }
    b.text = text;
    if (!yaml_parser_initialize(&b.parser)) {
        build_nomem(&b);
        explicit_bzero(text, b.textlen);
        free(text);
        free(root);
        return NULL;
    }
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, b.textlen);

    int rc = 0, documents = 0;
    for (;;) {
        yaml_event_t ev;
        if (next_event(&b, &ev) < 0) {
            rc = -1;
            break;
        }
        yaml_event_type_t t = ev.type;
        if (t == YAML_DOCUMENT_START_EVENT && documents++ > 0)
            rc = build_error(&b, &ev.start_mark, "only one YAML document is allowed");
        yaml_event_delete(&ev);
        if (rc < 0 || t == YAML_STREAM_END_EVENT)
            break;
        if (t == YAML_DOCUMENT_START_EVENT && (rc = build_document(&b, root)) < 0)
            break;
    }
    yaml_parser_delete(&b.parser);
    explicit_bzero(text, b.textlen); /* secrets may be written inline */
    free(text);
    if (rc < 0) {
        node_free(root);
        return NULL;
    }
    return root;
}

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
};

#define AT(base, off, type) ((type *)(void *)((char *)(base) + (off)))

static int nomem(checker *ck)
{
    return error_at(ck->err, ck->errlen, ck->cfg->path, 0, 0, "out of memory");
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
    if (parse_digits(colon + 1, UINT64_MAX, &p, &end) < 0 || *end || p > 65535)
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

static int set_listen(checker *ck, const gh_node *v, const field *f, void *base, const char *name)
{
    gh_config *cfg = ck->cfg;
    const char *what = "an address or a list of addresses";
    if (v->type == GH_NODE_MAP)
        return bad_value(ck, v, name, what);
    size_t n = v->type == GH_NODE_SEQ ? v->n : 1;
    if (n == 0)
        return cfg_error(ck->err, ck->errlen, v, "%s: needs at least one address", name);
    if (!(cfg->listen = calloc(n, sizeof *cfg->listen)))
        return nomem(ck);
    const gh_node *item = v->type == GH_NODE_SEQ ? v->child : v;
    for (; item && cfg->n_listen < n; item = item->next) {
        gh_listen *l = &cfg->listen[cfg->n_listen];
        if (item->type != GH_NODE_SCALAR || cfg_is_null(item))
            return bad_value(ck, item, name, "an address like 127.0.0.1:8080");
        const char *why = parse_listen(item->value, &l->host, &l->port);
        if (why && !*why)
            return nomem(ck);
        if (why)
            return cfg_error(ck->err, ck->errlen, item, "%s: bad address '%.64s': %s", name,
                             item->value, why);
        l->where = item;
        cfg->n_listen++;
        for (size_t i = 0; i + 1 < cfg->n_listen; i++)
            if (same_listen(&cfg->listen[i], l))
                return cfg_error(ck->err, ck->errlen, item, "%s: '%.64s' is listed twice", name,
                                 item->value);
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
        if (parse_digits(p + 1, UINT64_MAX, &port, &end) < 0 || port == 0 || port > 65535)
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
    strbuf out = { 0 };
    if (v->type != GH_NODE_SEQ)
        return bad_value(ck, v, name, "a list");
    for (const gh_node *item = v->child; item; item = item->next) {
        if (item->type != GH_NODE_SCALAR || cfg_is_null(item)) {
            free(out.p);
            return bad_value(ck, item, name, "a name");
        }
        if (!is_token(item->value)) {
            free(out.p);
            return cfg_error(ck->err, ck->errlen, item, "%s: '%.64s' is not a valid name", name,
                             item->value);
        }
        if ((out.len && sb_add(&out, ", ", 2) < 0) ||
            sb_add(&out, item->value, strlen(item->value)) < 0) {
            free(out.p);
            return nomem(ck);
        }
    }
    char *joined = sb_take(&out);
    if (!joined)
        return nomem(ck);
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
            return error_at(ck->err, ck->errlen, m->file, m->key_line, m->key_col,
                            "unknown key '%.64s' in '%s'", m->key, name);
        if (!f)
            return error_at(ck->err, ck->errlen, m->file, m->key_line, m->key_col,
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

#define OFF(m) offsetof(gh_config, m)

static const field cors_fields[] = {
    { .key = "allowed_origins", .set = set_origins },
    { .key = "allowed_methods", .set = set_tokens, .off = OFF(cors_methods) },
    { .key = "allowed_headers", .set = set_tokens, .off = OFF(cors_headers) },
    { .key = "allow_credentials", .set = set_bool, .off = OFF(cors_credentials) },
    { .key = "max_age", .set = set_seconds, .off = OFF(cors_max_age_s), .min = 0, .max = DAY },
    { 0 },
};

static const field server_fields[] = {
    { .key = "listen", .set = set_listen },
    { .key = "threads", .set = set_int, .off = OFF(threads), .min = 0, .max = 256 },
    { .key = "workers", .set = set_int, .off = OFF(workers), .min = 0, .max = 1024 },
    { .key = "queue_size", .set = set_int, .off = OFF(queue_size), .min = 1, .max = 1000000 },
    { .key = "max_body_size", .set = set_size, .off = OFF(max_body_size), .min = KIB, .max = 64 * MIB },
    { .key = "max_header_size", .set = set_size, .off = OFF(max_header_size), .min = KIB, .max = MIB },
    { .key = "max_json_depth", .set = set_int, .off = OFF(max_json_depth), .min = 1, .max = 512 },
    { .key = "request_timeout", .set = set_ms, .off = OFF(request_timeout_ms), .min = 1, .max = DAY },
    { .key = "shutdown_timeout", .set = set_ms, .off = OFF(shutdown_timeout_ms), .min = 0, .max = DAY },
    { .key = "public_url", .set = set_public_url },
    { .key = "user", .set = set_string, .off = OFF(run_user) },
    { .key = "group", .set = set_string, .off = OFF(run_group) },
    { .key = "cors", .set = set_section, .sub = cors_fields },
    { 0 },
};

static const choice log_levels[] = {
    { "debug", GH_LOG_DEBUG }, { "info", GH_LOG_INFO }, { "notice", GH_LOG_NOTICE },
    { "warning", GH_LOG_WARNING }, { "error", GH_LOG_ERROR }, { 0 },
};
static const choice log_formats[] = { { "plain", 0 }, { "json", 1 }, { 0 } };
static const choice log_outputs[] = { { "stderr", 0 }, { "syslog", 1 }, { 0 } };

static const field log_fields[] = {
    { .key = "level", .set = set_choice, .off = OFF(log_level), .choices = log_levels },
    { .key = "format", .set = set_choice, .off = OFF(log_json), .choices = log_formats },
    { .key = "output", .set = set_choice, .off = OFF(log_syslog), .choices = log_outputs },
    { .key = "access_log", .set = set_bool, .off = OFF(access_log) },
    { 0 },
};

static const field paths_fields[] = {
    { .key = "state_dir", .set = set_string, .off = OFF(state_dir) },
    { .key = "plugin_dir", .set = set_string, .off = OFF(plugin_dir) },
    { 0 },
};

/* JOSE names are case-sensitive ("es256" is not an algorithm): so are these. */
static const choice token_algs[] = {
    { "ES256", GH_ALG_ES256 }, { "RS256", GH_ALG_RS256 }, { "HS256", GH_ALG_HS256 }, { 0 },
};

static const field tokens_fields[] = {
    { .key = "issuer", .set = set_string, .off = OFF(token_issuer) },
    { .key = "audience", .set = set_string, .off = OFF(token_audience) },
    { .key = "algorithm", .set = set_choice, .off = OFF(token_alg), .choices = token_algs, .exact = 1 },
    { .key = "access_ttl", .set = set_ms, .off = OFF(access_ttl_ms), .min = 30 * SECOND, .max = DAY },
    { .key = "refresh_ttl", .set = set_ms, .off = OFF(refresh_ttl_ms), .min = MINUTE, .max = 365 * DAY },
    { .key = "keys_dir", .set = set_string, .off = OFF(keys_dir) },
    { .key = "hs256_secret", .set = set_secret, .off = OFF(hs256_secret) },
    { .key = "hs256_secret_file", .set = set_secret_file, .off = OFF(hs256_secret) },
    { 0 },
};

/* OWASP's argon2id floor is m=19456 KiB, t=2, p=1; the bounds only stop
 * mistakes (a 1 MiB hash is trivial to crack, a 4 GiB one is a DoS). */
static const field argon2_fields[] = {
    { .key = "memory_kib", .set = set_u32, .off = OFF(argon2_memory_kib), .min = 1024, .max = 4194304 },
    { .key = "iterations", .set = set_u32, .off = OFF(argon2_iterations), .min = 1, .max = 100 },
    { .key = "parallelism", .set = set_u32, .off = OFF(argon2_parallelism), .min = 1, .max = 64 },
    { 0 },
};

/* NIST SP 800-63B: at least 8 by default, and at least 64 must be allowed. */
static const field password_fields[] = {
    { .key = "min_length", .set = set_int, .off = OFF(pw_min_length), .min = 1, .max = 1024 },
    { .key = "max_length", .set = set_int, .off = OFF(pw_max_length), .min = 64, .max = 4096 },
    { .key = "require_upper", .set = set_bool, .off = OFF(pw_require_upper) },
    { .key = "require_lower", .set = set_bool, .off = OFF(pw_require_lower) },
    { .key = "require_digit", .set = set_bool, .off = OFF(pw_require_digit) },
    { .key = "require_special", .set = set_bool, .off = OFF(pw_require_special) },
    { .key = "check_common", .set = set_bool, .off = OFF(pw_check_common) },
    { .key = "argon2", .set = set_section, .sub = argon2_fields },
    { 0 },
};

/* Keycloak's brute-force detection, by account and by client address. */
static const field lockout_fields[] = {
    { .key = "account_failures", .set = set_int, .off = OFF(lockout_account_failures), .min = 1, .max = 1000 },
    { .key = "base_delay", .set = set_ms, .off = OFF(lockout_base_delay_ms), .min = SECOND, .max = DAY },
    { .key = "max_delay", .set = set_ms, .off = OFF(lockout_max_delay_ms), .min = SECOND, .max = DAY },
    { .key = "window", .set = set_ms, .off = OFF(lockout_window_ms), .min = MINUTE, .max = 365 * DAY },
    { .key = "ip_failures", .set = set_int, .off = OFF(lockout_ip_failures), .min = 1, .max = 1000000 },
    { .key = "ip_window", .set = set_ms, .off = OFF(lockout_ip_window_ms), .min = SECOND, .max = DAY },
    { 0 },
};

static const field auth_fields[] = {
    { .key = "allow_signup", .set = set_bool, .off = OFF(allow_signup) },
    { .key = "require_verified_email", .set = set_bool, .off = OFF(require_verified_email) },
    { .key = "password", .set = set_section, .sub = password_fields },
    { .key = "lockout", .set = set_section, .sub = lockout_fields },
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
    { .key = "plugin", .set = set_mail_plugin },
    { .key = "frontend_url", .set = set_link_base, .off = OFF(mail_frontend_url) },
    { .key = "product_name", .set = set_string, .off = OFF(mail_product_name) },
    { .key = "templates_dir", .set = set_string, .off = OFF(mail_templates_dir) },
    { .key = "verify_path", .set = set_link_path, .off = OFF(mail_verify_path) },
    { .key = "reset_path", .set = set_link_path, .off = OFF(mail_reset_path) },
    { .key = "verification_ttl", .set = set_ms, .off = OFF(mail_verify_ttl_ms), .min = SECOND, .max = 30 * DAY },
    { .key = "reset_ttl", .set = set_ms, .off = OFF(mail_reset_ttl_ms), .min = SECOND, .max = 7 * DAY },
    { .key = "queue_size", .set = set_int, .off = OFF(mail_queue_size), .min = 1, .max = 1000000 },
    { .key = "max_attempts", .set = set_int, .off = OFF(mail_max_attempts), .min = 1, .max = 100 },
    { .key = "retry_delay", .set = set_ms, .off = OFF(mail_retry_delay_ms), .min = 10, .max = DAY },
    { .key = "retry_max_delay", .set = set_ms, .off = OFF(mail_retry_max_delay_ms), .min = 10, .max = DAY },
    { .key = "address_limit", .set = set_int, .off = OFF(mail_address_limit), .min = 1, .max = 1000000 },
    { .key = "ip_limit", .set = set_int, .off = OFF(mail_ip_limit), .min = 1, .max = 1000000 },
    { .key = "limit_window", .set = set_ms, .off = OFF(mail_limit_window_ms), .min = SECOND, .max = DAY },
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

static const field top_fields[] = {
    { .key = "server", .set = set_section, .sub = server_fields },
    { .key = "log", .set = set_section, .sub = log_fields },
    { .key = "paths", .set = set_section, .sub = paths_fields },
    { .key = "tokens", .set = set_section, .sub = tokens_fields },
    { .key = "auth", .set = set_section, .sub = auth_fields },
    { .key = "bootstrap", .set = set_section, .sub = bootstrap_fields },
    { .key = "encryption", .set = set_section, .sub = encryption_fields },
    { .key = "storage", .set = set_block, .off = OFF(storage) },
    { .key = "kv", .set = set_block, .off = OFF(kv), .required = 1 },
    { .key = "plugins", .set = set_plugins },
    { .key = "mail", .set = set_section, .sub = mail_fields },
    { 0 },
};

/* Defaults that need memory; the plain numbers are set in config_load. */
static int set_defaults(checker *ck)
{
    gh_config *cfg = ck->cfg;
    if (!(cfg->public_url = strdup("http://127.0.0.1:8080")) ||
        !(cfg->cors_methods = strdup("GET, POST, PUT, PATCH, DELETE")) ||
        !(cfg->cors_headers = strdup("Authorization, Content-Type, X-Request-Id")) ||
        !(cfg->state_dir = strdup("./var")) || !(cfg->storage.name = strdup("sqlite")) ||
        !(cfg->token_audience = strdup("gatehouse")) || !(cfg->keys_dir = strdup("keys")) ||
        !(cfg->mail_product_name = strdup("Gatehouse")) ||
        !(cfg->mail_verify_path = strdup("/verify-email")) ||
        !(cfg->mail_reset_path = strdup("/reset-password")))
        return nomem(ck);
    cfg->storage.where = cfg->root;
    return 0;
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
    if (!cfg->token_issuer && replace_str(ck, &cfg->token_issuer, cfg->public_url) < 0)
        return -1;

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
    if (cfg->pw_min_length > cfg->pw_max_length)
        return cfg_error(ck->err, ck->errlen, given(cfg, "auth.password.min_length"),
                         "auth.password.min_length: %d is more than max_length (%d)",
                         cfg->pw_min_length, cfg->pw_max_length);
    if (cfg->lockout_base_delay_ms > cfg->lockout_max_delay_ms) {
        const gh_node *max = given(cfg, "auth.lockout.max_delay");
        fmt_ms(a, sizeof a, cfg->lockout_base_delay_ms);
        fmt_ms(b, sizeof b, cfg->lockout_max_delay_ms);
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
    if (cfg->mail_retry_delay_ms > cfg->mail_retry_max_delay_ms)
        return cfg_error(ck->err, ck->errlen, given(cfg, "mail.retry_delay"),
                         "mail.retry_delay: more than retry_max_delay");
    if (!cfg->mail_frontend_url)
        return replace_str(ck, &cfg->mail_frontend_url, cfg->public_url);
    return 0;
}

/* What depends on more than one key, or on the machine. */
static int finish(checker *ck)
{
    gh_config *cfg = ck->cfg;
    if (finish_tokens(ck) < 0 || finish_auth(ck) < 0 || finish_bootstrap(ck) < 0 ||
        finish_encryption(ck) < 0)
        return -1;
    if (finish_mail(ck) < 0)
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
        error_at(err, errlen, path, 0, 0, "out of memory");
        free(cfg);
        return NULL;
    }
    cfg->queue_size = 1024;
    cfg->max_body_size = 64 * KIB;
    cfg->max_header_size = 16 * KIB;
    cfg->max_json_depth = 32;
    cfg->request_timeout_ms = 30 * SECOND;
    cfg->shutdown_timeout_ms = 10 * SECOND;
    cfg->cors_max_age_s = 600;
    cfg->log_level = GH_LOG_INFO;
    cfg->access_log = 1;
    cfg->token_alg = GH_ALG_ES256;
    cfg->access_ttl_ms = 15 * MINUTE;
    cfg->refresh_ttl_ms = 30 * DAY;
    cfg->allow_signup = 1;
    cfg->pw_min_length = 8;
    cfg->pw_max_length = 128;
    cfg->pw_check_common = 1;
    cfg->argon2_memory_kib = 19456;
    cfg->argon2_iterations = 2;
    cfg->argon2_parallelism = 1;
    cfg->lockout_account_failures = 5;
    cfg->lockout_base_delay_ms = MINUTE;
    cfg->lockout_max_delay_ms = 15 * MINUTE;
    cfg->lockout_window_ms = 12 * HOUR;
    cfg->lockout_ip_failures = 50;
    cfg->lockout_ip_window_ms = 15 * MINUTE;
    cfg->mail_verify_ttl_ms = 24 * HOUR;
    cfg->mail_reset_ttl_ms = HOUR;
    cfg->mail_queue_size = 1000;
    cfg->mail_max_attempts = 8;
    cfg->mail_retry_delay_ms = 5 * SECOND;
    cfg->mail_retry_max_delay_ms = 10 * MINUTE;
    cfg->mail_address_limit = 5;
    cfg->mail_ip_limit = 50;
    cfg->mail_limit_window_ms = HOUR;

    checker ck = { .cfg = cfg, .err = err, .errlen = errlen };
    if (!(cfg->root = read_tree(path, err, errlen)) || set_defaults(&ck) < 0 ||
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
    for (size_t i = 0; i < cfg->n_listen; i++)
        free(cfg->listen[i].host);
    free(cfg->listen);
    for (size_t i = 0; i < cfg->n_cors_origins; i++)
        free(cfg->cors_origins[i]);
    free(cfg->cors_origins);
    free(cfg->cors_methods);
    free(cfg->cors_headers);
    free(cfg->public_url);
    free(cfg->run_user);
    free(cfg->run_group);
    free(cfg->state_dir);
    free(cfg->plugin_dir);
    free(cfg->token_issuer);
    free(cfg->token_audience);
    free(cfg->keys_dir);
    free_secret(cfg->hs256_secret);
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
    free(cfg->mail_frontend_url);
    free(cfg->mail_product_name);
    free(cfg->mail_templates_dir);
    free(cfg->mail_verify_path);
    free(cfg->mail_reset_path);
    for (size_t i = 0; i < cfg->n_plugins; i++) {
        free(cfg->plugins[i].name);
        free(cfg->plugins[i].plugin);
    }
    free(cfg->plugins);
    node_free(cfg->root);
    free(cfg->path);
    free(cfg);
}

/* ------------------------------------------------------------ secrets */

char *cfg_read_secret_file(const char *path, char *err, size_t errlen)
{
    size_t len;
    char *s = read_file(path, MAX_SECRET_SIZE, &len, err, errlen);
    if (!s)
        return NULL;
    /* Editors add a final newline; a secret never ends with one on purpose. */
    if (len > 0 && s[len - 1] == '\n') {
        s[--len] = '\0';
        if (len > 0 && s[len - 1] == '\r')
            s[--len] = '\0';
    }
    const char *why = len == 0 ? "secret file is empty"
                      : memchr(s, '\0', len) ? "secret file contains a NUL byte"
                                             : NULL;
    if (why) {
        error_at(err, errlen, path, 0, 0, "%s", why);
        explicit_bzero(s, len);
        free(s);
        return NULL;
    }
    return s;
}
