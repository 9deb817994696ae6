/*
 * fixture.c - see fixture.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "log.h"
#include "store/migrations.h"

static int db_seq, yaml_seq;

/* Does yaml have a top-level key at the start of a line? */
static int has_section(const char *yaml, const char *key)
{
    size_t n = strlen(key);

    for (const char *p = yaml; p != NULL && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, key, n) == 0 && p[n] == ':')
            return 1;
    return 0;
}

static int write_all(int fd, const char *s)
{
    size_t len = strlen(s);

    while (len > 0) {
        ssize_t w = write(fd, s, len);

        if (w <= 0)
            return -1;
        s += w;
        len -= (size_t)w;
    }
    return 0;
}

fx *fx_load(const char *yaml, char *err, size_t errlen)
{
    fx *f = calloc(1, sizeof(*f));
    char path[64], block[256] = "";
    int fd, rc;

    assert_non_null(f);
    if (yaml == NULL)
        yaml = "";
    if (!has_section(yaml, "storage")) {
        snprintf(f->db, sizeof(f->db), "fx%ld-%d.db", (long)getpid(), ++db_seq);
        assert_int_equal(fx_block(block, sizeof(block), "storage", "sqlite", "path", f->db,
                                  "busy_timeout", "2s", NULL), 0);
    }
    /* digits only: tests look for words in messages that carry the name */
    snprintf(path, sizeof(path), "/tmp/gh-fx-%ld-%d.yaml", (long)getpid(), ++yaml_seq);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0) {
        snprintf(err, errlen, "%s: %m", path);
        free(f);
        return NULL;
    }
    rc = write_all(fd, yaml) == 0 && (!*yaml || yaml[strlen(yaml) - 1] == '\n' ||
                                      write_all(fd, "\n") == 0) && write_all(fd, block) == 0;
    close(fd);
    if (rc)
        f->cfg = config_load(path, err, errlen);
    else
        snprintf(err, errlen, "%s: cannot write", path);
    unlink(path);
    if (f->cfg == NULL) {
        free(f);
        return NULL;
    }
    if (plugins_load(&f->ps, f->cfg, err, errlen) != 0) {
        config_free(f->cfg);
        free(f);
        return NULL;
    }
    f->loaded = 1;
    return f;
}

int fx_connect(fx *f, const char *who, int64_t ms, char *err, size_t errlen)
{
    if (plugins_thread_init(&f->ps, err, errlen) != 0) {
        plugins_thread_fini(&f->ps); /* what did connect */
        return -1;
    }
    f->threaded = 1;
    if ((f->st = store_new(f->ps.storage, f->ps.kv)) == NULL) {
        snprintf(err, errlen, "store_new failed");
        return -1;
    }
    if ((f->c = store_thread_open(f->st, err, errlen)) == NULL)
        return -1;
    call_init(&f->call, NULL, who, ms);
    return 0;
}

int fx_migrate(fx *f, int *applied, char *err, size_t errlen)
{
    return store_migrate(f->c, applied, err, errlen);
}

void fx_close(fx *f)
{
    if (f == NULL)
        return;
    if (f->c != NULL)
        store_thread_close(f->c);
    store_free(f->st);
    if (f->threaded)
        plugins_thread_fini(&f->ps);
    if (f->loaded)
        plugins_unload(&f->ps);
    config_free(f->cfg);
    free(f);
}

fx *fx_open_raw(const char *yaml)
{
    char err[512];
    fx *f = fx_load(yaml, err, sizeof(err));

    if (f == NULL)
        fail_msg("fx_load: %s", err);
    if (fx_connect(f, "test", 10000, err, sizeof(err)) != 0) {
        fx_close(f);
        fail_msg("fx_connect: %s", err);
    }
    return f;
}

fx *fx_open(const char *yaml)
{
    char err[512];
    int applied = -1;
    fx *f = fx_open_raw(yaml);

    if (fx_migrate(f, &applied, err, sizeof(err)) != 0) {
        fx_close(f);
        fail_msg("store_migrate: %s", err);
    }
    assert_int_equal(applied, store_latest_version());
    return f;
}

/* v as a YAML scalar the loader reads back as v: plain when that is safe,
 * else double-quoted; $ doubled either way (the loader expands ${VAR}). */
static int put_value(char *out, size_t len, size_t *at, const char *v)
{
    int plain = *v != '\0' && strchr("-?:,[]{}#&*!|>'\"%@`", *v) == NULL &&
                strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                          "._/:@=+-") == strlen(v) && strstr(v, ": ") == NULL &&
                v[strlen(v) - 1] != ':'; /* "a:" at a line's end starts a mapping */
    char buf[1024];
    size_t n = 0;

    if (!plain)
        buf[n++] = '"';
    for (; *v && n + 4 < sizeof(buf); v++) {
        if (*v == '$')
            buf[n++] = '$';
        else if (!plain && (*v == '"' || *v == '\\'))
            buf[n++] = '\\';
        buf[n++] = *v;
    }
    if (*v)
        return -1;
    if (!plain)
        buf[n++] = '"';
    buf[n] = '\0';
    if (*at + n + 1 >= len)
        return -1;
    memcpy(out + *at, buf, n + 1);
    *at += n;
    return 0;
}

int fx_block_v(char *out, size_t len, const char *section, const char *plugin, va_list ap)
{
    size_t at = strlen(out);
    const char *key;
    int n, first = 1;

    n = snprintf(out + at, len - at, "%s:\n  plugin: %s\n", section, plugin);
    if (n < 0 || (size_t)n >= len - at)
        return -1;
    at += (size_t)n;
    while ((key = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);

        n = snprintf(out + at, len - at, "%s    %s: ", first ? "  options:\n" : "", key);
        if (n < 0 || (size_t)n >= len - at)
            return -1;
        at += (size_t)n;
        first = 0;
        if (put_value(out, len, &at, value) != 0 || at + 2 >= len)
            return -1;
        out[at++] = '\n';
        out[at] = '\0';
    }
    return 0;
}

int fx_block(char *out, size_t len, const char *section, const char *plugin, ...)
{
    va_list ap;
    int rc;

    va_start(ap, plugin);
    rc = fx_block_v(out, len, section, plugin, ap);
    va_end(ap);
    return rc;
}

int fx_setup(void **state)
{
    *state = fx_open(NULL);
    return 0;
}

int fx_setup_raw(void **state)
{
    *state = fx_open_raw(NULL);
    return 0;
}

int fx_teardown(void **state)
{
    fx_close(*state);
    *state = NULL;
    return 0;
}

static char group_dir[64];

int fx_group_setup(void **state)
{
    gh_log_conf quiet = { .level = GH_LOG_ERROR };

    (void)state;
    if (getenv("GATEHOUSE_PLUGIN_DIR") == NULL) {
        fprintf(stderr, "GATEHOUSE_PLUGIN_DIR is not set (make check sets it)\n");
        return -1;
    }
    log_configure(&quiet);
    snprintf(group_dir, sizeof(group_dir), "/tmp/gh-unit-XXXXXX");
    if (mkdtemp(group_dir) == NULL || chdir(group_dir) != 0) {
        group_dir[0] = '\0';
        return -1;
    }
    return 0;
}

/* Empties and removes the group's directory, by its path: never ".", which
 * is the build tree when the setup failed before its chdir. */
int fx_group_teardown(void **state)
{
    (void)state;
    DIR *d = group_dir[0] == '/' ? opendir(group_dir) : NULL;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            unlinkat(dirfd(d), e->d_name, 0);
    if (d != NULL) {
        closedir(d);
        if (chdir("/") == 0)
            rmdir(group_dir);
    }
    host_global_cleanup();
    return 0;
}

static int int_row(void *ud, const gh_param *cols, uint32_t n)
{
    *(int64_t *)ud = n > 0 && cols[0].type == GH_T_INT ? *(const int64_t *)cols[0].data : -1;
    return 1;
}

int64_t fx_query_int(fx *f, const char *sql, const char *arg)
{
    gh_param p = arg ? (gh_param){ NULL, GH_T_STR, arg, strlen(arg) } : (gh_param){ 0 };
    int64_t v = -2;

    assert_int_equal(store_exec(f->c, &f->call, sql, arg ? &p : NULL, arg ? 1 : 0, int_row, &v,
                                NULL), GH_OK);
    return v;
}

typedef struct text_ud {
    char *buf;
    size_t len;
} text_ud;

static int text_row(void *vud, const gh_param *cols, uint32_t n)
{
    text_ud *ud = vud;

    snprintf(ud->buf, ud->len, "(null)");
    if (n > 0 && (cols[0].type == GH_T_STR || cols[0].type == GH_T_BYTES) &&
        cols[0].len < ud->len) {
        memcpy(ud->buf, cols[0].data, cols[0].len);
        ud->buf[cols[0].len] = '\0';
    }
    return 1;
}

const char *fx_query_text(fx *f, const char *sql, const char *arg, char *buf, size_t len)
{
    gh_param p = arg ? (gh_param){ NULL, GH_T_STR, arg, strlen(arg) } : (gh_param){ 0 };
    text_ud ud = { buf, len };

    snprintf(buf, len, "(no row)");
    assert_int_equal(store_exec(f->c, &f->call, sql, arg ? &p : NULL, arg ? 1 : 0, text_row, &ud,
                                NULL), GH_OK);
    return buf;
}
