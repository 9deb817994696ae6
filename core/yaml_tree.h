/*
 * yaml_tree.h - a YAML file read (libyaml) into a tree of nodes that remember
 * where they came from, and the scalar parsers shared by the core schema
 * (config.c) and plugins' options.
 *
 * Every error is one line "file:line:col: message". Scalars get ${VAR} and
 * ${VAR:-default} expanded from the environment ($$ is a literal $); an
 * unset VAR without a default is an error. No error message quotes a
 * secret.
 */
#ifndef GH_YAML_TREE_H
#define GH_YAML_TREE_H

#include <stddef.h>
#include <stdint.h>

typedef enum gh_node_type { GH_NODE_SCALAR = 1, GH_NODE_MAP, GH_NODE_SEQ } gh_node_type;

typedef struct gh_node gh_node;
struct gh_node {
    gh_node_type type;
    char *key;          /* member of a map: its key; otherwise NULL */
    char *value;        /* scalar: the text after ${VAR} expansion */
    int quoted;         /* scalar was quoted in YAML: a string, never null */
    const char *file;   /* owned by the root */
    int line, col;      /* 1-based position of the value */
    int key_line, key_col; /* 1-based position of the key (map members) */
    gh_node *child;     /* first member / item */
    gh_node *next;      /* next sibling */
    size_t n;           /* number of children */
};

/* Read and expand path into a tree (free with cfg_tree_free). NULL with
 * "file:line:col: message" in err when the file is not a config: not
 * YAML, not one mapping, anchors or tags, an unset ${VAR}, too big. */
gh_node *cfg_tree_read(const char *path, char *err, size_t errlen);
void cfg_tree_free(gh_node *root);

/* A tree of its own holding a copy of n and what is under it (not n's
 * siblings), with n's key and positions; at NULL: an empty mapping placed
 * where `at` is. Free with cfg_tree_free. NULL when out of memory. The
 * plugin loader keeps each plugin's options this way: they outlive the
 * config they came from (a reload frees it), and defaults are added. */
gh_node *cfg_tree_copy(const gh_node *n, const gh_node *at);
/* Append the scalar member key: value to map (one made by cfg_tree_copy),
 * placed where `at` is, for errors about it. 0, or -1 out of memory. */
int cfg_map_add(gh_node *map, const char *key, const char *value, const gh_node *at);

/* Tree helpers, for the schema, the plugin loader and the host table. */
const gh_node *cfg_get(const gh_node *map, const char *key); /* NULL if absent */
/* 1 if n is a YAML null: an unquoted "", "~" or "null" ("" quoted is a string) */
int cfg_is_null(const gh_node *n);
/* "file:line:col: " + message into err; returns -1 for `return cfg_error(...)` */
int cfg_error(char *err, size_t errlen, const gh_node *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Scalar parsers shared with plugins' options; 0 on success, -1 if invalid. */
int cfg_parse_bool(const char *s, int *out);        /* true/false/yes/no/on/off */
int cfg_parse_int(const char *s, int64_t *out);     /* decimal, whole string */
int cfg_parse_duration(const char *s, int64_t *ms); /* 250ms 30s 5m 1h 7d, bare = ms */
int cfg_parse_size(const char *s, size_t *bytes);   /* 512, 64k, 1m (KiB, MiB) */

/* Read a secret file (for `*_file` options): trailing newline removed.
 * Returns malloc'd text or NULL with err set. */
char *cfg_read_secret_file(const char *path, char *err, size_t errlen);

/* "file:line:col: " (or "file: " when line is 0) + message into err;
 * returns -1. For places that have a position but no node. */
int cfg_error_at(char *err, size_t errlen, const char *file, int line, int col,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Decimal digits at s, at most max: the value and where they end. 0, or
 * -1 when there are none or they overflow. */
int cfg_parse_digits(const char *s, uint64_t max, uint64_t *out, const char **end);

#endif
