/*
 * template.c - `{{var}}` templates for mail, and loading them from the
 * templates directory. Deliberately tiny: no loops, no conditions, no
 * expressions; an administrator who wants more edits the files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "notify/template.h"

#define TEMPLATE_MAX (256 * 1024)
#define NAME_MAX_LEN 64

typedef struct buf {
    char *s;
    size_t len, cap;
    int failed;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void put_escaped(buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': put(b, "&amp;", 5); break;
        case '<': put(b, "&lt;", 4); break;
        case '>': put(b, "&gt;", 4); break;
        case '"': put(b, "&quot;", 6); break;
        case '\'': put(b, "&#39;", 5); break;
        default: put(b, s, 1);
        }
    }
}

static const char *lookup(const gh_tvar *vars, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0)
            return vars[i].value ? vars[i].value : "";
    return "";
}

/* At src[i] == "{{": the placeholder's name and where it ends, or 0 when
 * this is not a placeholder (copied then as text). */
static size_t placeholder(const char *src, size_t len, size_t i, const char **name,
                          size_t *nlen)
{
    size_t j = i + 2;
    while (j < len && src[j] == ' ')
        j++;
    size_t start = j;
    while (j < len && j - start <= NAME_MAX_LEN &&
           ((src[j] >= 'a' && src[j] <= 'z') || (src[j] >= 'A' && src[j] <= 'Z') ||
            (src[j] >= '0' && src[j] <= '9') || src[j] == '_'))
        j++;
    size_t end = j;
    while (j < len && src[j] == ' ')
        j++;
    if (end == start || end - start > NAME_MAX_LEN || j + 1 >= len || src[j] != '}' ||
        src[j + 1] != '}')
        return 0;
    *name = src + start;
    *nlen = end - start;
    return j + 2;
}

char *template_render(const char *src, size_t len, const gh_tvar *vars, size_t nvars, int html)
{
    buf b = { 0 };
    size_t i = 0, text = 0;
    put(&b, "", 0);
    while (i + 1 < len) {
        const char *name;
        size_t nlen, next;
        if (src[i] != '{' || src[i + 1] != '{' ||
            !(next = placeholder(src, len, i, &name, &nlen))) {
            i++;
            continue;
        }
        put(&b, src + text, i - text);
        const char *v = lookup(vars, nvars, name, nlen);
        if (html)
            put_escaped(&b, v);
        else
            put(&b, v, strlen(v));
        i = text = next;
    }
    put(&b, src + text, len - text);
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* ------------------------------------------------------------ loading */

static char *read_all(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *s = malloc(TEMPLATE_MAX + 1);
    size_t n = s ? fread(s, 1, TEMPLATE_MAX + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!s || bad || n > TEMPLATE_MAX || memchr(s, '\0', n)) {
        snprintf(err, errlen, "%s: %s", path,
                 !s ? "out of memory" : bad ? "cannot read it"
                 : n > TEMPLATE_MAX ? "larger than 256 KiB" : "contains a NUL byte");
        free(s);
        return NULL;
    }
    s[n] = '\0';
    *len = n;
    return s;
}

/* "Subject: ...\n\n" off the front of text, into t->subject. */
static int split_subject(gh_mail_template *t, char *text, const char *path, char *err,
                         size_t errlen)
{
    char *eol = strchr(text, '\n');
    if (strncmp(text, "Subject:", 8) != 0 || !eol) {
        snprintf(err, errlen, "%s: the first line must be \"Subject: ...\"", path);
        return -1;
    }
    char *s = text + 8;
    while (*s == ' ')
        s++;
    size_t n = (size_t)(eol - s);
    if (n && s[n - 1] == '\r')
        n--;
    char *body = eol + 1;
    if (*body == '\r')
        body++;
    if (*body == '\n')
        body++;
    t->subject = strndup(s, n);
    t->text = strdup(body);
    if (!t->subject || !t->text) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    return 0;
}

int template_load(gh_mail_template *t, const char *dir, const char *name, char *err,
                  size_t errlen)
{
    char path[4096];
    size_t len;
    memset(t, 0, sizeof *t);
    snprintf(path, sizeof path, "%s/%s.txt", dir, name);
    char *text = read_all(path, &len, err, errlen);
    if (!text)
        return -1;
    int rc = split_subject(t, text, path, err, errlen);
    free(text);
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/%s.html", dir, name);
        FILE *probe = fopen(path, "rb");
        if (probe) {
            fclose(probe);
            if (!(t->html = read_all(path, &len, err, errlen)))
                rc = -1;
        } else if (errno != ENOENT) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            rc = -1;
        }
    }
    if (rc < 0)
        template_clear(t);
    return rc;
}

void template_clear(gh_mail_template *t)
{
    free(t->subject);
    free(t->text);
    free(t->html);
    memset(t, 0, sizeof *t);
}
