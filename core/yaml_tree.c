/*
 * yaml_tree.c - read a YAML file into a tree of nodes that remember where they
 * came from (libyaml), for the core schema (config.c) and for plugins'
 * options alike; the scalar parsers and secret files both use.
 *
 * It refuses the YAML features a security daemon's config has no use for
 * (anchors, aliases, tags, several documents): what you read in the file
 * is what runs. Values get ${VAR} and ${VAR:-default} expanded from the
 * environment. Every error is one line, "file:line:col: message", and
 * never quotes a secret. Depends on libyaml and libc only.
 */
#include "yaml_tree.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int cfg_error_at(char *err, size_t errlen, const char *file, int line, int col,
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
int cfg_parse_digits(const char *s, uint64_t max, uint64_t *out, const char **end)
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
    if (cfg_parse_digits(s, (uint64_t)INT64_MAX + (uint64_t)neg, &v, &end) < 0 || *end)
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
    if (!s || cfg_parse_digits(s, INT64_MAX, &v, &end) < 0)
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
    if (!s || cfg_parse_digits(s, SIZE_MAX, &v, &end) < 0)
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
void cfg_tree_free(gh_node *n)
{
    while (n) {
        gh_node *next = n->next;
        cfg_tree_free(n->child);
        free(n->key);
        if (n->value) /* it may be a secret */
            explicit_bzero(n->value, strlen(n->value));
        free(n->value);
        free(n);
        n = next;
    }
}

/* n's children and what is under them, into the empty copy c, whose
 * positions name file. */
static int copy_children(gh_node *c, const gh_node *n, const char *file)
{
    gh_node **tail = &c->child;

    for (const gh_node *m = n->child; m; m = m->next) {
        gh_node *k = calloc(1, sizeof *k);
        if (!k)
            return -1;
        *tail = k;
        tail = &k->next;
        c->n++;
        *k = (gh_node){ .type = m->type, .quoted = m->quoted, .file = file, .line = m->line,
                        .col = m->col, .key_line = m->key_line, .key_col = m->key_col };
        if ((m->key && !(k->key = strdup(m->key))) || (m->value && !(k->value = strdup(m->value))) ||
            copy_children(k, m, file) < 0)
            return -1;
    }
    return 0;
}

gh_node *cfg_tree_copy(const gh_node *n, const gh_node *at)
{
    const gh_node *from = n ? n : at;
    const char *file = from && from->file ? from->file : "";
    size_t flen = strlen(file);
    gh_node *c = calloc(1, sizeof *c + flen + 1);

    if (!c)
        return NULL;
    c->file = memcpy((char *)(c + 1), file, flen + 1);
    c->type = n ? n->type : GH_NODE_MAP;
    c->line = from ? from->line : 0;
    c->col = from ? from->col : 0;
    if (n) {
        c->quoted = n->quoted;
        c->key_line = n->key_line;
        c->key_col = n->key_col;
        if ((n->key && !(c->key = strdup(n->key))) || (n->value && !(c->value = strdup(n->value))) ||
            copy_children(c, n, c->file) < 0) {
            cfg_tree_free(c);
            return NULL;
        }
    }
    return c;
}

int cfg_map_add(gh_node *map, const char *key, const char *value, const gh_node *at)
{
    gh_node *k = calloc(1, sizeof *k), **tail = &map->child;

    if (!k || !(k->key = strdup(key)) || !(k->value = strdup(value))) {
        cfg_tree_free(k);
        return -1;
    }
    while (*tail)
        tail = &(*tail)->next;
    *tail = k;
    map->n++;
    k->type = GH_NODE_SCALAR;
    k->quoted = 1; /* a default is a value, never YAML's null */
    k->file = map->file;
    k->line = k->key_line = at ? at->line : map->line;
    k->col = k->key_col = at ? at->col : map->col;
    return 0;
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
    return cfg_error_at(b->err, b->errlen, b->file, 0, 0, "out of memory");
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
        return cfg_error_at(b->err, b->errlen, b->file, line, col, "%s",
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

/* the least read_file reads into: a file that says it is empty (a pipe,
 * /proc) may not be */
#define READ_CHUNK 4096

/* buf (*cap bytes, all of them read) moved to one twice as big, at most
 * limit; the old one wiped, as a config may hold secrets. NULL (buf
 * wiped and freed) when out of memory. */
static char *grow(char *buf, size_t *cap, size_t limit)
{
    size_t n = *cap * 2 < limit ? *cap * 2 : limit;
    char *bigger = malloc(n);
    if (bigger)
        memcpy(bigger, buf, *cap);
    explicit_bzero(buf, *cap);
    free(buf);
    *cap = n;
    return bigger;
}

/* Reads the whole file: configs are small, and having the bytes lets us
 * place libyaml's reader errors (bad UTF-8) at a line and column. */
static char *read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        cfg_error_at(err, errlen, path, 0, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    int e = fstat(fd, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (e) {
        cfg_error_at(err, errlen, path, 0, 0, "cannot open: %s", strerror(e));
        close(fd);
        return NULL;
    }
    /* A buffer the size the file says, not max: a config is a page or two,
     * and a megabyte for each (a reload, the fuzz target's every input)
     * is mostly page faults. It grows if the file does while it is read. */
    size_t cap = (uint64_t)st.st_size < max ? (size_t)st.st_size + 1 : max + 1;
    if (cap < READ_CHUNK)
        cap = max + 1 < READ_CHUNK ? max + 1 : READ_CHUNK;
    char *buf = malloc(cap);
    size_t got = 0;
    if (!buf) {
        cfg_error_at(err, errlen, path, 0, 0, "out of memory");
        close(fd);
        return NULL;
    }
    /* Read one byte past max to tell "exactly max" from "too big". */
    for (;;) {
        if (got == cap && !(buf = grow(buf, &cap, max + 1))) {
            cfg_error_at(err, errlen, path, 0, 0, "out of memory");
            close(fd);
            return NULL;
        }
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            cfg_error_at(err, errlen, path, 0, 0, "cannot read: %s", strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        got += (size_t)r;
        if (got > max) {
            cfg_error_at(err, errlen, path, 0, 0, "file is larger than %zu KiB", max / 1024);
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

gh_node *cfg_tree_read(const char *path, char *err, size_t errlen)
{
    builder b = { .err = err, .errlen = errlen };
    size_t flen = strlen(path);
    gh_node *root = calloc(1, sizeof *root + flen + 1);
    if (!root) {
        cfg_error_at(err, errlen, path, 0, 0, "out of memory");
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
        cfg_tree_free(root);
        return NULL;
    }
    return root;
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
        cfg_error_at(err, errlen, path, 0, 0, "%s", why);
        explicit_bzero(s, len);
        free(s);
        return NULL;
    }
    return s;
}
