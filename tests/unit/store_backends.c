/*
 * store_backends.c - see store_backends.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "store/migrations.h"
#include "store_backends.h"

static const backend backends[] = {
    { "sqlite", NULL, NULL, NULL, NULL,
      "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
      "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?",
      "CREATE TABLE t (n, s TEXT, i INTEGER, b INTEGER, y BLOB, d REAL, i2 INTEGER)", 1 },
    { "postgres", "GH_TEST_POSTGRES_URL", "CREATE DATABASE ", "DROP DATABASE IF EXISTS ",
      " WITH (FORCE)", /* a failed test may leave a connection behind */
      "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?",
      "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ?",
      "CREATE TABLE t (n TEXT, s TEXT, i BIGINT, b INTEGER, y BYTEA, d DOUBLE PRECISION, "
      "i2 BIGINT)", 1 },
    { "mysql", "GH_TEST_MYSQL_URL", "CREATE DATABASE ", "DROP DATABASE IF EXISTS ", "",
      "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
      "AND table_name = ?",
      "SELECT COUNT(DISTINCT index_name) FROM information_schema.statistics "
      "WHERE table_schema = DATABASE() AND index_name = ?",
      "CREATE TABLE t (n TEXT, s TEXT, i BIGINT, b INTEGER, y BLOB, d DOUBLE, i2 BIGINT)", 0 },
};

const backend *be;
const char *server_url;
static char server_bare[512]; /* server_url without the password, */
char server_pw[128];          /* which goes in the password option */
static int db_seq;

/* Split url's password out: scheme://user:pw@rest -> scheme://user@rest. */
static int url_split_password(const char *url)
{
    const char *user = strstr(url, "://"), *at, *colon;

    server_pw[0] = '\0';
    if (user == NULL || (at = strchr(user += 3, '@')) == NULL ||
        (colon = memchr(user, ':', (size_t)(at - user))) == NULL)
        return snprintf(server_bare, sizeof(server_bare), "%s", url) < (int)sizeof(server_bare)
                   ? 0 : -1;
    if ((size_t)(at - colon) > sizeof(server_pw))
        return -1;
    snprintf(server_pw, sizeof(server_pw), "%.*s", (int)(at - colon - 1), colon + 1);
    return snprintf(server_bare, sizeof(server_bare), "%.*s%s", (int)(colon - url), url, at)
                   < (int)sizeof(server_bare) ? 0 : -1;
}

/* url with its path (the database) replaced by db: URIs only, which is
 * what tests/servers.sh exports. 0, or -1 when it does not fit. */
int url_with_db(const char *url, const char *db, char *out, size_t len)
{
    const char *auth = strstr(url, "://"), *path, *query;
    int n;

    if (auth == NULL)
        return -1;
    auth += 3;
    path = auth + strcspn(auth, "/?");
    query = strchr(path, '?');
    n = snprintf(out, len, "%.*s/%s%s", (int)(path - url), url, db, query ? query : "");
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* ---------------------------------------------------------------- fixture */

fx *sfx_load(char *err, size_t errlen, ...)
{
    char yaml[2048] = "";
    va_list ap;
    int rc;

    va_start(ap, errlen);
    rc = fx_block_v(yaml, sizeof(yaml), "storage", be->name, ap);
    va_end(ap);
    if (rc != 0)
        fail_msg("sfx_load: the options do not fit");
    return fx_load(yaml, err, errlen);
}

void sfx_connect(fx *f, const char *who, int64_t ms)
{
    char err[512];

    if (fx_connect(f, who, ms, err, sizeof(err)) != 0)
        fail_msg("connect (%s): %s", be->name, err);
}

/* Run one statement on the server's own database (CREATE/DROP DATABASE),
 * with a connection of its own: this thread must have no other open. */
static void server_admin(const char *head, const char *db, const char *tail)
{
    char err[512], sql[256];
    fx *a = sfx_load(err, sizeof(err), "url", server_bare, "password", server_pw, NULL);

    if (a == NULL)
        fail_msg("load (%s): %s", be->name, err);
    snprintf(sql, sizeof(sql), "%s%s%s", head, db, tail);
    sfx_connect(a, "admin", 30000);
    /* a few tries: PostgreSQL's DROP ... WITH (FORCE) may not end a
     * backend of its own (an autovacuum worker on the fresh database) */
    gh_result r = GH_OK;
    for (int i = 0; i < 10 && (r = store_exec_script(a->c, &a->call, sql)) != GH_OK; i++)
        usleep(200 * 1000);
    snprintf(err, sizeof(err), "%s", a->call.message);
    fx_close(a); /* before failing: the next test connects on this thread */
    if (r != GH_OK)
        fail_msg("%s: %s", sql, err);
}

int sfx_setup_raw(void **state)
{
    char db[64], url[512], err[512];
    fx *f;

    if (server_url == NULL) {
        snprintf(db, sizeof(db), "t%d.db", ++db_seq);
        f = sfx_load(err, sizeof(err), "path", db, "busy_timeout", "200ms", NULL);
    } else {
        snprintf(db, sizeof(db), "gh_t_%ld_%d", (long)getpid(), ++db_seq);
        if (url_with_db(server_bare, db, url, sizeof(url)) != 0)
            fail_msg("%s: the URL is too long or not a URL", be->url_env);
        server_admin(be->create_db, db, "");
        f = sfx_load(err, sizeof(err), "url", url, "password", server_pw, NULL);
        if (f != NULL)
            snprintf(f->url, sizeof(f->url), "%s", url);
    }
    if (f == NULL)
        fail_msg("load (%s): %s", be->name, err);
    snprintf(f->db, sizeof(f->db), "%s", db);
    sfx_connect(f, "test", 10000);
    *state = f;
    return 0;
}

int sfx_setup(void **state)
{
    char err[512];
    int applied = -1;

    sfx_setup_raw(state);
    if (fx_migrate(*state, &applied, err, sizeof(err)) != 0)
        fail_msg("store_migrate: %s", err);
    assert_int_equal(applied, store_latest_version());
    return 0;
}

int sfx_teardown(void **state)
{
    fx *f = *state;
    char db[64];

    snprintf(db, sizeof(db), "%s", f->db);
    fx_close(f);
    if (server_url != NULL)
        server_admin(be->drop_db, db, be->drop_tail);
    return 0;
}

/* The backend's groups, or why they cannot run: a server without its URL
 * is skipped (a failure when GH_TEST_REQUIRE_SERVERS=1), and a URL
 * without the plugin built is a failure. */
static int run_backend(const backend *b, const sfx_group *groups, size_t n)
{
    const char *dir = getenv("GATEHOUSE_PLUGIN_DIR");
    const char *require = getenv("GH_TEST_REQUIRE_SERVERS");
    char so[4096], name[96];
    int failed = 0;

    be = b;
    server_url = b->url_env ? getenv(b->url_env) : NULL;
    if (b->url_env != NULL && (server_url == NULL || server_url[0] == '\0')) {
        if (require != NULL && strcmp(require, "1") == 0) {
            fprintf(stderr, "%s: %s is not set, and GH_TEST_REQUIRE_SERVERS=1 (run the tests "
                    "under tests/servers.sh)\n", b->name, b->url_env);
            return 1;
        }
        printf("# %s: skipped (%s is not set; tests/servers.sh sets it)\n", b->name,
               b->url_env);
        return 0;
    }
    if (server_url != NULL && url_split_password(server_url) != 0) {
        fprintf(stderr, "%s: %s is too long or not a URL\n", b->name, b->url_env);
        return 1;
    }
    snprintf(so, sizeof(so), "%s/%s.so", dir ? dir : ".", b->name);
    if (access(so, R_OK) != 0) {
        fprintf(stderr, "%s: %s is set but the %s plugin is not built (%s): configure found "
                "no client library for it\n", b->name, b->url_env, b->name, so);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (groups[i].only != NULL && strcmp(groups[i].only, b->name) != 0)
            continue;
        snprintf(name, sizeof(name), "%s/%s", groups[i].name, b->name);
        failed += _cmocka_run_group_tests(name, groups[i].tests, groups[i].n, fx_group_setup,
                                          fx_group_teardown);
    }
    return failed;
}

int sfx_main(const sfx_group *groups, size_t n)
{
    int failed = 0;

    if (getenv("GATEHOUSE_PLUGIN_DIR") == NULL) {
        fprintf(stderr, "GATEHOUSE_PLUGIN_DIR is not set (make check sets it)\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        failed += run_backend(&backends[i], groups, n);
    return failed ? 1 : 0;
}

/* ---------------------------------------------------------------- helpers */

int int_row(void *ud, const gh_param *cols, uint32_t n)
{
    int64_t *v = ud;

    *v = n > 0 && cols[0].type == GH_T_INT ? *(const int64_t *)cols[0].data : -1;
    return 1;
}

/* The integer a one-column query returns (-1: NULL or not an integer). */
int64_t query_int(fx *f, const char *sql)
{
    int64_t v = -2;

    assert_int_equal(store_exec(f->c, &f->call, sql, NULL, 0, int_row, &v, NULL), GH_OK);
    return v;
}

static int text_row(void *vud, const gh_param *cols, uint32_t n)
{
    text_ud *ud = vud;

    if (n > 0 && (cols[0].type == GH_T_STR || cols[0].type == GH_T_BYTES) &&
        cols[0].len < sizeof(ud->buf)) {
        memcpy(ud->buf, cols[0].data, cols[0].len);
        ud->buf[cols[0].len] = '\0';
    }
    return 1;
}

const char *query_text(fx *f, const char *sql, text_ud *ud)
{
    ud->buf[0] = '\0';
    assert_int_equal(store_exec(f->c, &f->call, sql, NULL, 0, text_row, ud, NULL), GH_OK);
    return ud->buf;
}

int table_exists(fx *f, const char *name)
{
    gh_param p = { NULL, GH_T_STR, name, strlen(name) };
    int64_t n = -1;

    assert_int_equal(store_exec(f->c, &f->call, be->table_exists, &p, 1, int_row, &n, NULL),
                     GH_OK);
    return n == 1;
}

int index_exists(fx *f, const char *name)
{
    gh_param p = { NULL, GH_T_STR, name, strlen(name) };
    int64_t n = -1;

    assert_int_equal(store_exec(f->c, &f->call, be->index_exists, &p, 1, int_row, &n, NULL),
                     GH_OK);
    return n == 1;
}

/* Moving the clock also moves past the deadline of a call made before:
 * the next calls get a fresh one, as a new request would. */
void advance(fx *f, int64_t ms)
{
    clock_advance_ms(ms);
    call_init(&f->call, NULL, "test", 10000);
}

/* case-insensitive strstr: backends word their messages differently */
int mentions(const char *msg, const char *word)
{
    return strcasestr(msg, word) != NULL;
}

int version(fx *f)
{
    int v = -1;

    assert_int_equal(store_schema_version(f->c, &v), 0);
    return v;
}

gh_result tenant_row(gh_conn *c, gh_call *call, const char *id, const char *slug, int deferred)
{
    static const char sql[] = "INSERT INTO tenants (id, slug, name, created_at, updated_at) "
                              "VALUES (?, ?, 'T', ?, ?)";
    int64_t now = gh_now_ms();
    gh_param p[] = {
        { NULL, GH_T_STR, id, strlen(id) },
        { NULL, GH_T_STR, slug, strlen(slug) },
        { NULL, GH_T_INT, &now, sizeof(now) },
        { NULL, GH_T_INT, &now, sizeof(now) },
    };

    call->message[0] = '\0';
    return deferred ? store_exec_deferred(c, call, sql, p, 4)
                    : store_exec(c, call, sql, p, 4, NULL, NULL, NULL);
}

gh_result insert_tenant(fx *f, const char *id, const char *slug)
{
    return tenant_row(f->c, &f->call, id, slug, 0);
}

gh_result defer_tenant(fx *f, const char *id, const char *slug)
{
    return tenant_row(f->c, &f->call, id, slug, 1);
}

gh_result insert_user(fx *f, const char *id, const char *tenant, const char *email)
{
    int64_t now = gh_now_ms();
    gh_param mail = email ? (gh_param){ NULL, GH_T_STR, email, strlen(email) }
                          : (gh_param){ NULL, GH_T_NULL, NULL, 0 };
    gh_param p[] = {
        { NULL, GH_T_STR, id, strlen(id) },
        { NULL, GH_T_STR, tenant, strlen(tenant) },
        mail,
        mail,
        { NULL, GH_T_INT, &now, sizeof(now) },
        { NULL, GH_T_INT, &now, sizeof(now) },
    };

    f->call.message[0] = '\0';
    return store_exec(f->c, &f->call,
                      "INSERT INTO users (id, tenant_id, email, email_normalized, "
                      "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                      p, 6, NULL, NULL, NULL);
}

static void *peer_main(void *v)
{
    peer *p = v;
    gh_conn *c;

    p->rc = -1;
    if (plugins_thread_init(&p->f->ps, p->err, sizeof(p->err)) != 0)
        return NULL;
    if ((c = store_thread_open(p->f->st, p->err, sizeof(p->err))) != NULL) {
        p->rc = p->fn(p, c);
        store_thread_close(c);
    }
    plugins_thread_fini(&p->f->ps);
    return NULL;
}

void peer_start(peer *p, fx *f, int (*fn)(peer *, gh_conn *), void *arg)
{
    memset(p, 0, sizeof(*p));
    p->f = f;
    p->fn = fn;
    p->arg = arg;
    assert_int_equal(pthread_create(&p->tid, NULL, peer_main, p), 0);
}

void peer_join(peer *p)
{
    assert_int_equal(pthread_join(p->tid, NULL), 0);
    if (p->rc != 0)
        fail_msg("peer failed (%d): %s", p->rc, p->err);
}

/* Copy what is needed: the columns are only valid during the callback. */
int cols_row(void *vud, const gh_param *cols, uint32_t n)
{
    cols_ud *ud = vud;

    ud->rows++;
    ud->n = n;
    for (uint32_t k = 0; k < n && k < 8; k++) {
        ud->p[k] = cols[k];
        snprintf(ud->keys[k], sizeof(ud->keys[k]), "%s", cols[k].key ? cols[k].key : "");
        if (cols[k].type == GH_T_INT)
            ud->i[k] = *(const int64_t *)cols[k].data;
        if (cols[k].type == GH_T_DOUBLE)
            ud->d = *(const double *)cols[k].data;
        if (cols[k].type == GH_T_BYTES && cols[k].len > 0 && cols[k].len <= sizeof(ud->bytes))
            memcpy(ud->bytes, cols[k].data, cols[k].len);
        if (cols[k].type == GH_T_STR && cols[k].len < sizeof(ud->str)) {
            memcpy(ud->str, cols[k].data, cols[k].len);
            ud->str[cols[k].len] = '\0';
        }
    }
    return 0;
}
