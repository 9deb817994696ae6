/*
 * row.h - small helpers for the services that query the store: typed
 * parameter values to bind, and column values read back in a row callback.
 * Header-only (static inline): each is one line or two, used in many files.
 */
#ifndef GH_STORE_ROW_H
#define GH_STORE_ROW_H

#include <stdlib.h>
#include <string.h>
#include <gatehouse/plugin.h>

static inline gh_param p_text(const char *s, size_t len)
{
    return (gh_param){ NULL, GH_T_STR, s, len };
}

static inline gh_param p_str(const char *s)
{
    return p_text(s, strlen(s));
}

static inline gh_param p_int(const int64_t *v)
{
    return (gh_param){ NULL, GH_T_INT, v, sizeof(*v) };
}

/* NULL is SQL NULL */
static inline gh_param p_opt(const char *s)
{
    return s ? p_str(s) : (gh_param){ NULL, GH_T_NULL, NULL, 0 };
}

/* NULL and "" are SQL NULL */
static inline gh_param p_opt_empty(const char *s)
{
    return s && *s ? p_str(s) : (gh_param){ NULL, GH_T_NULL, NULL, 0 };
}

static inline int col_is_text(const gh_param *p)
{
    return p->type == GH_T_STR || p->type == GH_T_BYTES;
}

static inline int64_t col_int(const gh_param *p)
{
    return p->type == GH_T_INT ? *(const int64_t *)p->data : 0;
}

/* A row callback for "SELECT COUNT(*) ...": the first column into the
 * int64_t at ud (0 without one); the first row ends the query. */
static inline int row_count(void *ud, const gh_param *cols, uint32_t n)
{
    *(int64_t *)ud = n > 0 ? col_int(&cols[0]) : 0;
    return 1;
}

/* Into a fixed buffer, cut to fit (ids always fit theirs). */
static inline void col_copy(const gh_param *p, char *buf, size_t size)
{
    size_t n = col_is_text(p) ? p->len : 0;
    if (n >= size)
        n = size - 1;
    if (n > 0)
        memcpy(buf, p->data, n);
    buf[n] = '\0';
}

/* A malloc'd copy (NULL for SQL NULL); -1 when out of memory. */
static inline int col_dup(const gh_param *p, char **out)
{
    *out = NULL;
    if (!col_is_text(p))
        return 0;
    if ((*out = malloc(p->len + 1)) == NULL)
        return -1;
    if (p->len > 0)
        memcpy(*out, p->data, p->len);
    (*out)[p->len] = '\0';
    return 0;
}

#endif
