/*
 * migrations.c - the schema, one numbered migration at a time.
 *
 * Adding a version is appending one entry to gh_migrations[]; a released
 * entry is never edited, because databases in the field already ran it.
 * Conventions every table follows, so all backends and instances agree:
 *  - ids are TEXT UUID v4 strings made by the core, never autoincrement;
 *  - times are INTEGER Unix milliseconds (gh_now_ms());
 *  - secrets that are only compared are stored as hashes, never clear.
 *
 * Each migration runs in its own transaction, together with its row in
 * schema_migrations, and the version is read again inside the transaction:
 * with SQLite's BEGIN IMMEDIATE a second instance migrating at the same time
 * waits for the first, then sees the version already applied.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "store/migrations.h"
#include "clock.h"
#include "log.h"

/* Migrations may rewrite big tables: give them time. */
#define MIGRATE_TIMEOUT_MS (10 * 60 * 1000)

/* Portable across SQLite, PostgreSQL and MySQL, so it needs no dialects. */
static const char schema_migrations_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY NOT NULL,"
    " name TEXT NOT NULL,"
    " applied_at INTEGER NOT NULL)";

static const char v1_sqlite[] =
    "CREATE TABLE tenants (\n"
    "    id          TEXT PRIMARY KEY NOT NULL,\n"
    "    slug        TEXT NOT NULL UNIQUE,\n"
    "    name        TEXT NOT NULL,\n"
    "    is_root     INTEGER NOT NULL DEFAULT 0,\n"
    "    is_active   INTEGER NOT NULL DEFAULT 1,\n"
    "    created_at  INTEGER NOT NULL,\n"
    "    updated_at  INTEGER NOT NULL\n"
    ");\n"
    /* the well-known root tenant: the same id in every installation */
    "INSERT INTO tenants (id, slug, name, is_root, is_active, created_at, updated_at)\n"
    "VALUES ('00000000-0000-4000-8000-000000000000', 'root', 'Root', 1, 1,\n"
    "        CAST(strftime('%s', 'now') AS INTEGER) * 1000,\n"
    "        CAST(strftime('%s', 'now') AS INTEGER) * 1000);\n"
    "\n"
    /* NULLs are distinct in UNIQUE, so accounts without an email or a
     * username do not collide */
    "CREATE TABLE users (\n"
    "    id                  TEXT PRIMARY KEY NOT NULL,\n"
    "    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,\n"
    "    email               TEXT,\n"
    "    email_normalized    TEXT,\n"
    "    username            TEXT,\n"
    "    username_normalized TEXT,\n"
    "    full_name           TEXT,\n"
    "    phone               TEXT,\n"
    "    email_verified_at   INTEGER,\n"
    "    is_active           INTEGER NOT NULL DEFAULT 1,\n"
    "    is_admin            INTEGER NOT NULL DEFAULT 0,\n"
    "    created_at          INTEGER NOT NULL,\n"
    "    updated_at          INTEGER NOT NULL,\n"
    "    deleted_at          INTEGER,\n"
    "    UNIQUE (tenant_id, email_normalized),\n"
    "    UNIQUE (tenant_id, username_normalized)\n"
    ");\n"
    "\n"
    "CREATE TABLE credentials (\n"
    "    id           TEXT PRIMARY KEY NOT NULL,\n"
    "    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n"
    "    type         TEXT NOT NULL,\n"  /* password, totp, sms, ... */
    "    secret       BLOB NOT NULL,\n"  /* a hash or ciphertext, never clear */
    "    label        TEXT,\n"
    "    created_at   INTEGER NOT NULL,\n"
    "    last_used_at INTEGER\n"
    ");\n"
    "CREATE INDEX credentials_user_type ON credentials (user_id, type);\n"
    "\n"
    "CREATE TABLE sessions (\n"
    "    id            TEXT PRIMARY KEY NOT NULL,\n"
    "    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n"
    "    tenant_id     TEXT NOT NULL,\n"
    "    refresh_hash  TEXT UNIQUE,\n"
    "    family_id     TEXT NOT NULL,\n"
    "    user_agent    TEXT,\n"
    "    ip            TEXT,\n"
    "    created_at    INTEGER NOT NULL,\n"
    "    last_used_at  INTEGER,\n"
    "    expires_at    INTEGER NOT NULL,\n"
    "    revoked_at    INTEGER,\n"
    "    revoke_reason TEXT\n"
    ");\n"
    "CREATE INDEX sessions_user ON sessions (user_id);\n"
    /* reuse of a rotated refresh token revokes the whole family */
    "CREATE INDEX sessions_family ON sessions (family_id);\n"
    "\n"
    "CREATE TABLE one_time_tokens (\n"
    "    id         TEXT PRIMARY KEY NOT NULL,\n"
    "    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n"
    "    purpose    TEXT NOT NULL,\n"
    "    token_hash TEXT NOT NULL UNIQUE,\n"
    "    created_at INTEGER NOT NULL,\n"
    "    expires_at INTEGER NOT NULL,\n"
    "    used_at    INTEGER\n"
    ");\n"
    "CREATE INDEX one_time_tokens_user_purpose ON one_time_tokens (user_id, purpose);\n"
    "\n"
    /* no foreign keys: the record outlives the users and tenants it names */
    "CREATE TABLE audit_events (\n"
    "    id         TEXT PRIMARY KEY NOT NULL,\n"
    "    tenant_id  TEXT,\n"
    "    actor_id   TEXT,\n"
    "    subject_id TEXT,\n"
    "    action     TEXT NOT NULL,\n"
    "    outcome    TEXT NOT NULL,\n"
    "    ip         TEXT,\n"
    "    user_agent TEXT,\n"
    "    details    TEXT,\n"  /* JSON */
    "    created_at INTEGER NOT NULL\n"
    ");\n"
    "CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, created_at);\n"
    "CREATE INDEX audit_events_subject_time ON audit_events (subject_id, created_at);\n"
    "\n"
    /* kv when no kv plugin is configured; store_kv_purge() clears expired rows */
    "CREATE TABLE kv (\n"
    "    key        TEXT PRIMARY KEY NOT NULL,\n"
    "    value      BLOB NOT NULL,\n"
    "    expires_at INTEGER\n"
    ");\n"
    "CREATE INDEX kv_expires ON kv (expires_at);\n";

/* Refresh tokens get a row each, so that rotation can tell a token that
 * was already used (a leak: the session is revoked) from one that never
 * existed. This replaces v1's sessions.refresh_hash, which held only the
 * current token: that column is no longer read or written (a column is
 * not dropped in place, so old rows keep whatever it had). */
static const char v2_sqlite[] =
    "CREATE TABLE refresh_tokens (\n"
    "    token_hash TEXT PRIMARY KEY NOT NULL,\n"  /* SHA-256 hex, never the token */
    "    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,\n"
    "    created_at INTEGER NOT NULL,\n"
    "    used_at    INTEGER\n"                   /* set when rotated */
    ");\n"
    "CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);\n"
    "\n"
    /* the admin user list pages a tenant's users by creation time */
    "CREATE INDEX users_tenant_created ON users (tenant_id, created_at);\n";

/* Append only. The postgres and mysql scripts are NULL until the
 * storage-backends issue writes them; migrations_apply() refuses such a
 * dialect with a clear error rather than half-building a schema. */
const gh_migration gh_migrations[] = {
    { 1, "initial", v1_sqlite, NULL, NULL },
    { 2, "refresh_tokens", v2_sqlite, NULL, NULL },
};
const size_t gh_migrations_count = sizeof(gh_migrations) / sizeof(gh_migrations[0]);

int store_latest_version(void)
{
    return (int)gh_migrations_count;
}

static int set_err(char *err, size_t errlen, const char *fmt, ...) GH_PRINTF(3, 4);

static int set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* What went wrong in a call: the driver's message, or the bare code. */
static const char *why(const gh_call *call, gh_result r)
{
    return call->message[0] != '\0' ? call->message : gh_result_str(r);
}

static const char *script_for(const gh_migration *m, const char *dialect)
{
    if (strcmp(dialect, "sqlite") == 0)
        return m->sqlite;
    if (strcmp(dialect, "postgres") == 0)
        return m->postgres;
    if (strcmp(dialect, "mysql") == 0)
        return m->mysql;
    return NULL;
}

static int version_row(void *ud, const gh_param *cols, uint32_t n)
{
    int *version = ud;

    if (n > 0 && cols[0].type == GH_T_INT)
        *version = (int)*(const int64_t *)cols[0].data;
    return 1;
}

/* The version recorded in schema_migrations (0: none), creating the empty
 * table when it is missing so that a fresh database simply reads 0. */
static gh_result read_version(gh_conn *c, gh_call *call, int *version)
{
    gh_result r;

    *version = 0;
    if ((r = store_exec(c, call, schema_migrations_sql, NULL, 0, NULL, NULL, NULL)) != GH_OK)
        return r;
    return store_exec(c, call, "SELECT MAX(version) FROM schema_migrations", NULL, 0,
                      version_row, version, NULL);
}

int store_schema_version(gh_conn *c, int *version)
{
    gh_call call;

    call_init(&call, NULL, NULL, MIGRATE_TIMEOUT_MS);
    return read_version(c, &call, version) == GH_OK ? 0 : -1;
}

/* Apply list[version] (the next one) with its schema_migrations row. */
static gh_result apply_one(gh_conn *c, gh_call *call, const gh_migration *m)
{
    int64_t version = m->version, now = gh_now_ms();
    size_t name_len = strlen(m->name);
    const gh_param row[] = {
        { "version", GH_T_INT, &version, sizeof(version) },
        { "name", GH_T_STR, m->name, name_len },
        { "applied_at", GH_T_INT, &now, sizeof(now) },
    };
    gh_result r = store_exec_script(c, call, script_for(m, store_dialect(c)));

    if (r == GH_OK)
        r = store_exec(c, call,
                       "INSERT INTO schema_migrations (version, name, applied_at) "
                       "VALUES (?, ?, ?)", row, 3, NULL, NULL, NULL);
    return r;
}

/* Refuse, before touching the database, a list that is out of order or has
 * no SQL for this dialect: better no schema than half of one. */
static int check_list(const gh_migration *list, size_t n, int target, const char *dialect,
                      char *err, size_t errlen)
{
    if (target < 0 || (size_t)target > n)
        return set_err(err, errlen, "migrate: no version %d (latest is %zu)", target, n);
    for (size_t i = 0; i < n; i++) {
        if (list[i].version != (int)i + 1)
            return set_err(err, errlen, "migrate: entry %zu has version %d, expected %zu",
                           i, list[i].version, i + 1);
        if (script_for(&list[i], dialect) == NULL)
            return set_err(err, errlen, "migration %d (%s): no SQL for the %s dialect",
                           list[i].version, list[i].name, dialect);
    }
    return 0;
}

int migrations_apply(gh_conn *c, const gh_migration *list, size_t n, int target,
                     int *applied, char *err, size_t errlen)
{
    gh_call call;
    int done = 0, rc = 0;

    if (applied != NULL)
        *applied = 0;
    if (check_list(list, n, target, store_dialect(c), err, errlen) < 0)
        return -1;
    call_init(&call, NULL, NULL, MIGRATE_TIMEOUT_MS);
    for (;;) {
        const gh_migration *m;
        int version;
        gh_result r;

        call.message[0] = '\0';
        if ((r = store_begin(c, &call)) != GH_OK) {
            rc = set_err(err, errlen, "migrate: %s", why(&call, r));
            break;
        }
        if ((r = read_version(c, &call, &version)) != GH_OK) {
            rc = set_err(err, errlen, "migrate: reading the schema version: %s", why(&call, r));
            store_rollback(c, &call);
            break;
        }
        if ((size_t)version > n) {
            rc = set_err(err, errlen, "migrate: the database is at schema version %d, "
                         "newer than this gatehouse knows (%zu)", version, n);
            store_rollback(c, &call);
            break;
        }
        if (version >= target) {
            if ((r = store_commit(c, &call)) != GH_OK)
                rc = set_err(err, errlen, "migrate: %s", why(&call, r));
            break;
        }
        m = &list[version];
        if ((r = apply_one(c, &call, m)) == GH_OK)
            r = store_commit(c, &call);
        else
            store_rollback(c, &call);
        if (r != GH_OK) {
            rc = set_err(err, errlen, "migration %d (%s): %s", m->version, m->name,
                         why(&call, r));
            break;
        }
        gh_log(GH_LOG_NOTICE, "schema: applied migration %d (%s)", m->version, m->name);
        done++;
    }
    if (applied != NULL)
        *applied = done;
    return rc;
}

int store_migrate_to(gh_conn *c, int target, int *applied, char *err, size_t errlen)
{
    return migrations_apply(c, gh_migrations, gh_migrations_count, target, applied,
                            err, errlen);
}

int store_migrate(gh_conn *c, int *applied, char *err, size_t errlen)
{
    return store_migrate_to(c, store_latest_version(), applied, err, errlen);
}
