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
#include <stdlib.h>
#include <string.h>
#include "store/migrations.h"
#include "clock.h"
#include "log.h"

/* Migrations may rewrite big tables: give them time. */
#define MIGRATE_TIMEOUT_MS (10 * 60 * 1000)

/* Portable across SQLite, PostgreSQL and MySQL, so it needs no dialects.
 * BIGINT: milliseconds overflow a 32-bit INTEGER on the servers (SQLite
 * reads it as INTEGER). */
static const char schema_migrations_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY NOT NULL,"
    " name TEXT NOT NULL,"
    " applied_at BIGINT NOT NULL)";

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

/* PostgreSQL: the same tables, columns, constraints and indexes. Times are
 * BIGINT (ms overflow INTEGER); flags stay INTEGER 0/1, because the core
 * binds and compares them as integers (`is_admin = 1`); BLOB is BYTEA. */
static const char v1_postgres[] =
    "CREATE TABLE tenants (\n"
    "    id          TEXT PRIMARY KEY NOT NULL,\n"
    "    slug        TEXT NOT NULL UNIQUE,\n"
    "    name        TEXT NOT NULL,\n"
    "    is_root     INTEGER NOT NULL DEFAULT 0,\n"
    "    is_active   INTEGER NOT NULL DEFAULT 1,\n"
    "    created_at  BIGINT NOT NULL,\n"
    "    updated_at  BIGINT NOT NULL\n"
    ");\n"
    "INSERT INTO tenants (id, slug, name, is_root, is_active, created_at, updated_at)\n"
    "VALUES ('00000000-0000-4000-8000-000000000000', 'root', 'Root', 1, 1,\n"
    "        CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) AS BIGINT) * 1000,\n"
    "        CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) AS BIGINT) * 1000);\n"
    "\n"
    "CREATE TABLE users (\n"
    "    id                  TEXT PRIMARY KEY NOT NULL,\n"
    "    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,\n"
    "    email               TEXT,\n"
    "    email_normalized    TEXT,\n"
    "    username            TEXT,\n"
    "    username_normalized TEXT,\n"
    "    full_name           TEXT,\n"
    "    phone               TEXT,\n"
    "    email_verified_at   BIGINT,\n"
    "    is_active           INTEGER NOT NULL DEFAULT 1,\n"
    "    is_admin            INTEGER NOT NULL DEFAULT 0,\n"
    "    created_at          BIGINT NOT NULL,\n"
    "    updated_at          BIGINT NOT NULL,\n"
    "    deleted_at          BIGINT,\n"
    "    UNIQUE (tenant_id, email_normalized),\n"
    "    UNIQUE (tenant_id, username_normalized)\n"
    ");\n"
    "\n"
    "CREATE TABLE credentials (\n"
    "    id           TEXT PRIMARY KEY NOT NULL,\n"
    "    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n"
    "    type         TEXT NOT NULL,\n"
    "    secret       BYTEA NOT NULL,\n"
    "    label        TEXT,\n"
    "    created_at   BIGINT NOT NULL,\n"
    "    last_used_at BIGINT\n"
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
    "    created_at    BIGINT NOT NULL,\n"
    "    last_used_at  BIGINT,\n"
    "    expires_at    BIGINT NOT NULL,\n"
    "    revoked_at    BIGINT,\n"
    "    revoke_reason TEXT\n"
    ");\n"
    "CREATE INDEX sessions_user ON sessions (user_id);\n"
    "CREATE INDEX sessions_family ON sessions (family_id);\n"
    "\n"
    "CREATE TABLE one_time_tokens (\n"
    "    id         TEXT PRIMARY KEY NOT NULL,\n"
    "    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n"
    "    purpose    TEXT NOT NULL,\n"
    "    token_hash TEXT NOT NULL UNIQUE,\n"
    "    created_at BIGINT NOT NULL,\n"
    "    expires_at BIGINT NOT NULL,\n"
    "    used_at    BIGINT\n"
    ");\n"
    "CREATE INDEX one_time_tokens_user_purpose ON one_time_tokens (user_id, purpose);\n"
    "\n"
    "CREATE TABLE audit_events (\n"
    "    id         TEXT PRIMARY KEY NOT NULL,\n"
    "    tenant_id  TEXT,\n"
    "    actor_id   TEXT,\n"
    "    subject_id TEXT,\n"
    "    action     TEXT NOT NULL,\n"
    "    outcome    TEXT NOT NULL,\n"
    "    ip         TEXT,\n"
    "    user_agent TEXT,\n"
    "    details    TEXT,\n"
    "    created_at BIGINT NOT NULL\n"
    ");\n"
    "CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, created_at);\n"
    "CREATE INDEX audit_events_subject_time ON audit_events (subject_id, created_at);\n"
    "\n"
    "CREATE TABLE kv (\n"
    "    key        TEXT PRIMARY KEY NOT NULL,\n"
    "    value      BYTEA NOT NULL,\n"
    "    expires_at BIGINT\n"
    ");\n"
    "CREATE INDEX kv_expires ON kv (expires_at);\n";

static const char v2_postgres[] =
    "CREATE TABLE refresh_tokens (\n"
    "    token_hash TEXT PRIMARY KEY NOT NULL,\n"
    "    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,\n"
    "    created_at BIGINT NOT NULL,\n"
    "    used_at    BIGINT\n"
    ");\n"
    "CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);\n"
    "\n"
    "CREATE INDEX users_tenant_created ON users (tenant_id, created_at);\n";

/* MySQL / MariaDB: the same tables, columns, constraints and indexes.
 *  - Keys and unique columns are VARCHAR (TEXT cannot be indexed without a
 *    prefix length): ids 36 (UUIDs), token hashes 128 (SHA-256 hex is 64),
 *    addresses 320, names 255, kv keys 512 (the core's longest is 511).
 *    Other text stays TEXT; times are BIGINT (ms); flags TINYINT 0/1;
 *    BLOB is LONGBLOB. `key` is reserved in MySQL: quoted here, and the
 *    shared queries name it kv.key, which every backend accepts.
 *  - utf8mb4 with utf8mb4_bin on every table, whatever the server's
 *    default: comparisons are byte-exact, so uniqueness is what the core
 *    decided when it normalised (lower-cased) a name, as on SQLite.
 *  - DDL commits as it goes in MySQL, so a migration that fails halfway
 *    cannot roll back: every step is idempotent instead (CREATE TABLE IF
 *    NOT EXISTS with its indexes inline, an upsert for the root tenant, an
 *    index added only when information_schema lacks it, since MySQL 8 has
 *    no CREATE INDEX IF NOT EXISTS), and re-running the migration finishes
 *    the job (a failed run's new tables are dropped: tables_drop_new()).
 *    Each script ends by naming every column of its tables, so a
 *    table of the same name that is not ours fails it instead of being
 *    passed over. migrations_apply() holds a named lock meanwhile, so two
 *    instances never run one at the same time. */
#define MYSQL_TABLE " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;\n"
static const char v1_mysql[] =
    "CREATE TABLE IF NOT EXISTS tenants (\n"
    "    id          VARCHAR(36) NOT NULL PRIMARY KEY,\n"
    "    slug        VARCHAR(255) NOT NULL,\n"
    "    name        TEXT NOT NULL,\n"
    "    is_root     TINYINT NOT NULL DEFAULT 0,\n"
    "    is_active   TINYINT NOT NULL DEFAULT 1,\n"
    "    created_at  BIGINT NOT NULL,\n"
    "    updated_at  BIGINT NOT NULL,\n"
    "    UNIQUE KEY tenants_slug (slug)\n"
    ")" MYSQL_TABLE
    "INSERT INTO tenants (id, slug, name, is_root, is_active, created_at, updated_at)\n"
    "VALUES ('00000000-0000-4000-8000-000000000000', 'root', 'Root', 1, 1,\n"
    "        CAST(UNIX_TIMESTAMP() AS SIGNED) * 1000, CAST(UNIX_TIMESTAMP() AS SIGNED) * 1000)\n"
    "ON DUPLICATE KEY UPDATE id = id;\n"
    "\n"
    "CREATE TABLE IF NOT EXISTS users (\n"
    "    id                  VARCHAR(36) NOT NULL PRIMARY KEY,\n"
    "    tenant_id           VARCHAR(36) NOT NULL,\n"
    "    email               VARCHAR(320),\n"
    "    email_normalized    VARCHAR(320),\n"
    "    username            VARCHAR(255),\n"
    "    username_normalized VARCHAR(255),\n"
    "    full_name           TEXT,\n"
    "    phone               TEXT,\n"
    "    email_verified_at   BIGINT,\n"
    "    is_active           TINYINT NOT NULL DEFAULT 1,\n"
    "    is_admin            TINYINT NOT NULL DEFAULT 0,\n"
    "    created_at          BIGINT NOT NULL,\n"
    "    updated_at          BIGINT NOT NULL,\n"
    "    deleted_at          BIGINT,\n"
    "    UNIQUE KEY users_tenant_email (tenant_id, email_normalized),\n"
    "    UNIQUE KEY users_tenant_username (tenant_id, username_normalized),\n"
    "    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE\n"
    ")" MYSQL_TABLE
    "\n"
    "CREATE TABLE IF NOT EXISTS credentials (\n"
    "    id           VARCHAR(36) NOT NULL PRIMARY KEY,\n"
    "    user_id      VARCHAR(36) NOT NULL,\n"
    "    type         VARCHAR(32) NOT NULL,\n"
    "    secret       LONGBLOB NOT NULL,\n"
    "    label        TEXT,\n"
    "    created_at   BIGINT NOT NULL,\n"
    "    last_used_at BIGINT,\n"
    "    KEY credentials_user_type (user_id, type),\n"
    "    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE\n"
    ")" MYSQL_TABLE
    "\n"
    "CREATE TABLE IF NOT EXISTS sessions (\n"
    "    id            VARCHAR(36) NOT NULL PRIMARY KEY,\n"
    "    user_id       VARCHAR(36) NOT NULL,\n"
    "    tenant_id     VARCHAR(36) NOT NULL,\n"
    "    refresh_hash  VARCHAR(128),\n"
    "    family_id     VARCHAR(36) NOT NULL,\n"
    "    user_agent    TEXT,\n"
    "    ip            TEXT,\n"
    "    created_at    BIGINT NOT NULL,\n"
    "    last_used_at  BIGINT,\n"
    "    expires_at    BIGINT NOT NULL,\n"
    "    revoked_at    BIGINT,\n"
    "    revoke_reason TEXT,\n"
    "    UNIQUE KEY sessions_refresh_hash (refresh_hash),\n"
    "    KEY sessions_user (user_id),\n"
    "    KEY sessions_family (family_id),\n"
    "    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE\n"
    ")" MYSQL_TABLE
    "\n"
    "CREATE TABLE IF NOT EXISTS one_time_tokens (\n"
    "    id         VARCHAR(36) NOT NULL PRIMARY KEY,\n"
    "    user_id    VARCHAR(36) NOT NULL,\n"
    "    purpose    VARCHAR(64) NOT NULL,\n"
    "    token_hash VARCHAR(128) NOT NULL,\n"
    "    created_at BIGINT NOT NULL,\n"
    "    expires_at BIGINT NOT NULL,\n"
    "    used_at    BIGINT,\n"
    "    UNIQUE KEY one_time_tokens_hash (token_hash),\n"
    "    KEY one_time_tokens_user_purpose (user_id, purpose),\n"
    "    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE\n"
    ")" MYSQL_TABLE
    "\n"
    /* ids of who did what: not only UUIDs ("cli"), and never foreign keys */
    "CREATE TABLE IF NOT EXISTS audit_events (\n"
    "    id         VARCHAR(36) NOT NULL PRIMARY KEY,\n"
    "    tenant_id  VARCHAR(255),\n"
    "    actor_id   VARCHAR(255),\n"
    "    subject_id VARCHAR(255),\n"
    "    action     TEXT NOT NULL,\n"
    "    outcome    TEXT NOT NULL,\n"
    "    ip         TEXT,\n"
    "    user_agent TEXT,\n"
    "    details    MEDIUMTEXT,\n"
    "    created_at BIGINT NOT NULL,\n"
    "    KEY audit_events_tenant_time (tenant_id, created_at),\n"
    "    KEY audit_events_subject_time (subject_id, created_at)\n"
    ")" MYSQL_TABLE
    "\n"
    "CREATE TABLE IF NOT EXISTS kv (\n"
    "    `key`      VARCHAR(512) NOT NULL PRIMARY KEY,\n"
    "    value      LONGBLOB NOT NULL,\n"
    "    expires_at BIGINT,\n"
    "    KEY kv_expires (expires_at)\n"
    ")" MYSQL_TABLE
    /* IF NOT EXISTS passes over a table of the same name that is not ours:
     * naming every column fails the migration on one ("Unknown column") */
    "SELECT tenants.id, tenants.slug, tenants.name, tenants.is_root, tenants.is_active,\n"
    "       tenants.created_at, tenants.updated_at FROM tenants LIMIT 0;\n"
    "SELECT users.id, users.tenant_id, users.email, users.email_normalized, users.username,\n"
    "       users.username_normalized, users.full_name, users.phone, users.email_verified_at,\n"
    "       users.is_active, users.is_admin, users.created_at, users.updated_at,\n"
    "       users.deleted_at FROM users LIMIT 0;\n"
    "SELECT credentials.id, credentials.user_id, credentials.type, credentials.secret,\n"
    "       credentials.label, credentials.created_at, credentials.last_used_at\n"
    "       FROM credentials LIMIT 0;\n"
    "SELECT sessions.id, sessions.user_id, sessions.tenant_id, sessions.refresh_hash,\n"
    "       sessions.family_id, sessions.user_agent, sessions.ip, sessions.created_at,\n"
    "       sessions.last_used_at, sessions.expires_at, sessions.revoked_at,\n"
    "       sessions.revoke_reason FROM sessions LIMIT 0;\n"
    "SELECT one_time_tokens.id, one_time_tokens.user_id, one_time_tokens.purpose,\n"
    "       one_time_tokens.token_hash, one_time_tokens.created_at, one_time_tokens.expires_at,\n"
    "       one_time_tokens.used_at FROM one_time_tokens LIMIT 0;\n"
    "SELECT audit_events.id, audit_events.tenant_id, audit_events.actor_id,\n"
    "       audit_events.subject_id, audit_events.action, audit_events.outcome, audit_events.ip,\n"
    "       audit_events.user_agent, audit_events.details, audit_events.created_at\n"
    "       FROM audit_events LIMIT 0;\n"
    "SELECT kv.key, kv.value, kv.expires_at FROM kv LIMIT 0;\n";

static const char v2_mysql[] =
    "CREATE TABLE IF NOT EXISTS refresh_tokens (\n"
    "    token_hash VARCHAR(128) NOT NULL PRIMARY KEY,\n"
    "    session_id VARCHAR(36) NOT NULL,\n"
    "    created_at BIGINT NOT NULL,\n"
    "    used_at    BIGINT,\n"
    "    KEY refresh_tokens_session (session_id),\n"
    "    FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE\n"
    ")" MYSQL_TABLE
    "\n"
    "SET @gh_ddl = IF((SELECT COUNT(*) FROM information_schema.statistics\n"
    "                  WHERE table_schema = DATABASE() AND table_name = 'users'\n"
    "                  AND index_name = 'users_tenant_created') = 0,\n"
    "                 'CREATE INDEX users_tenant_created ON users (tenant_id, created_at)',\n"
    "                 'DO 0');\n"
    "PREPARE gh_ddl FROM @gh_ddl;\n"
    "EXECUTE gh_ddl;\n"
    "DEALLOCATE PREPARE gh_ddl;\n"
    "SELECT refresh_tokens.token_hash, refresh_tokens.session_id, refresh_tokens.created_at,\n"
    "       refresh_tokens.used_at FROM refresh_tokens LIMIT 0;\n";

/* Personal data encrypted at rest (auth/pii.h) is longer than the clear
 * text: an address of 254 bytes becomes about 420 of "gh1:<kid>:<base64>".
 * SQLite and PostgreSQL store TEXT of any length, so nothing changes there.
 * MySQL's users.email was VARCHAR(320); it is not indexed (its blind
 * index, email_normalized, is: 68 bytes), so it becomes TEXT. Usernames
 * (64 bytes clear, about 160 sealed) fit their VARCHAR(255). MODIFY to
 * the same type is a no-op, so the script can run again. */
static const char v3_sqlite[] = "-- personal data at rest: TEXT already holds ciphertext\n";
static const char v3_postgres[] = "-- personal data at rest: TEXT already holds ciphertext\n";
static const char v3_mysql[] =
    "ALTER TABLE users MODIFY email TEXT;\n"
    "SELECT users.email FROM users LIMIT 0;\n";

/* What the seed services' sign-up and export carry beyond the v1 profile:
 * given and family names (OIDC's given_name and family_name), a country
 * (ISO 3166-1 alpha-2) and, from `gatehousectl user import`, the id a user
 * had in the service it came from when that id is no UUID Gatehouse can
 * keep as its own. The names and the country are personal data (sealed
 * like full_name when encryption is on: TEXT everywhere); external_id is
 * a key the old tables refer to, unique per tenant so an import can tell
 * a user it made before, and kept when an account is erased so that a
 * re-run of the import does not bring the account back. NULLs are
 * distinct in a unique index on every backend: users without one do not
 * collide. MySQL has no ADD COLUMN IF NOT EXISTS: each step looks in
 * information_schema first, so a failed run can run again. */
static const char v4_sqlite[] =
    "ALTER TABLE users ADD COLUMN given_name TEXT;\n"
    "ALTER TABLE users ADD COLUMN family_name TEXT;\n"
    "ALTER TABLE users ADD COLUMN country_code TEXT;\n"
    "ALTER TABLE users ADD COLUMN external_id TEXT;\n"
    "CREATE UNIQUE INDEX users_tenant_external ON users (tenant_id, external_id);\n";
static const char v4_postgres[] =
    "ALTER TABLE users ADD COLUMN given_name TEXT;\n"
    "ALTER TABLE users ADD COLUMN family_name TEXT;\n"
    "ALTER TABLE users ADD COLUMN country_code TEXT;\n"
    "ALTER TABLE users ADD COLUMN external_id TEXT;\n"
    "CREATE UNIQUE INDEX users_tenant_external ON users (tenant_id, external_id);\n";
#define MYSQL_IF_MISSING(table, what, cond, ddl)                              \
    "SET @gh_ddl = IF((SELECT COUNT(*) FROM information_schema." what "\n"    \
    "                  WHERE table_schema = DATABASE() AND table_name = '" table "'\n" \
    "                  AND " cond ") = 0, '" ddl "', 'DO 0');\n"               \
    "PREPARE gh_ddl FROM @gh_ddl;\n"                                          \
    "EXECUTE gh_ddl;\n"                                                       \
    "DEALLOCATE PREPARE gh_ddl;\n"
#define MYSQL_ADD_COLUMN(table, col, type)                                    \
    MYSQL_IF_MISSING(table, "columns", "column_name = '" col "'",             \
                     "ALTER TABLE " table " ADD COLUMN " col " " type)
static const char v4_mysql[] =
    MYSQL_ADD_COLUMN("users", "given_name", "TEXT")
    MYSQL_ADD_COLUMN("users", "family_name", "TEXT")
    MYSQL_ADD_COLUMN("users", "country_code", "TEXT")
    MYSQL_ADD_COLUMN("users", "external_id", "VARCHAR(255)")
    MYSQL_IF_MISSING("users", "statistics", "index_name = 'users_tenant_external'",
                     "CREATE UNIQUE INDEX users_tenant_external ON users (tenant_id, external_id)")
    "SELECT users.given_name, users.family_name, users.country_code, users.external_id\n"
    "       FROM users LIMIT 0;\n";

/* Companies (the tenants table): their settings as a JSON object (NULL:
 * every default; auth/companies.c reads and writes it), when one was
 * deactivated, when its personal data is due to be erased and when it
 * was; and the index that finds a deactivated company's sessions. */
static const char v5_sqlite[] =
    "ALTER TABLE tenants ADD COLUMN settings TEXT;\n"
    "ALTER TABLE tenants ADD COLUMN deactivated_at INTEGER;\n"
    "ALTER TABLE tenants ADD COLUMN erase_after INTEGER;\n"
    "ALTER TABLE tenants ADD COLUMN erased_at INTEGER;\n"
    "CREATE INDEX sessions_tenant ON sessions (tenant_id);\n";
static const char v5_postgres[] =
    "ALTER TABLE tenants ADD COLUMN settings TEXT;\n"
    "ALTER TABLE tenants ADD COLUMN deactivated_at BIGINT;\n"
    "ALTER TABLE tenants ADD COLUMN erase_after BIGINT;\n"
    "ALTER TABLE tenants ADD COLUMN erased_at BIGINT;\n"
    "CREATE INDEX sessions_tenant ON sessions (tenant_id);\n";
static const char v5_mysql[] =
    MYSQL_ADD_COLUMN("tenants", "settings", "TEXT")
    MYSQL_ADD_COLUMN("tenants", "deactivated_at", "BIGINT")
    MYSQL_ADD_COLUMN("tenants", "erase_after", "BIGINT")
    MYSQL_ADD_COLUMN("tenants", "erased_at", "BIGINT")
    MYSQL_IF_MISSING("sessions", "statistics", "index_name = 'sessions_tenant'",
                     "CREATE INDEX sessions_tenant ON sessions (tenant_id)")
    "SELECT tenants.settings, tenants.deactivated_at, tenants.erase_after, tenants.erased_at\n"
    "       FROM tenants LIMIT 0;\n";

/* Roles and permissions (auth/rbac.h). Resource types, permissions and
 * roles belong to a company, or to none: the system's own, the same in
 * every company, with fixed ids (RBAC_* in auth/rbac.h) so code and
 * migrations can name them. A permission is a resource type and an
 * action ("invoice:read"); a role has permissions and parent roles (it
 * holds its parents' permissions too); users hold roles. The built-in
 * role `admin` holds every permission of its holder's company and
 * `superuser`, for the root company, every company's: both by their
 * builtin mark, not by rows, so a new permission needs no grant. The
 * users' is_admin flag becomes the admin role (and superuser in the root
 * company, whose admins managed every company until now). */
#define RBAC_CATALOG(NOW, INSERT)                                                             \
    INSERT " INTO resource_types (id, tenant_id, name, description, created_at, updated_at) VALUES\n" \
    "('00000000-0000-4000-8001-000000000001', NULL, 'users', 'accounts', " NOW ", " NOW "),\n" \
    "('00000000-0000-4000-8001-000000000002', NULL, 'roles', 'roles and their grants', " NOW ", " NOW "),\n" \
    "('00000000-0000-4000-8001-000000000003', NULL, 'permissions', 'permissions', " NOW ", " NOW "),\n" \
    "('00000000-0000-4000-8001-000000000004', NULL, 'resources', 'resource types', " NOW ", " NOW "),\n" \
    "('00000000-0000-4000-8001-000000000005', NULL, 'sessions', 'sign-in sessions', " NOW ", " NOW "),\n" \
    "('00000000-0000-4000-8001-000000000006', NULL, 'audit', 'the audit trail', " NOW ", " NOW "),\n" \
    "('00000000-0000-4000-8001-000000000007', NULL, 'companies', 'companies', " NOW ", " NOW ");\n" \
    INSERT " INTO permissions (id, tenant_id, resource_type_id, action, name, description, created_at, updated_at) VALUES\n" \
    RBAC_PERM("01", "1", "read", "users:read", "list and read accounts", NOW)                 \
    RBAC_PERM("02", "1", "write", "users:write", "create, change and erase accounts", NOW)    \
    RBAC_PERM("03", "2", "read", "roles:read", "list roles and who holds them", NOW)          \
    RBAC_PERM("04", "2", "write", "roles:write", "create roles, grant and revoke them", NOW)  \
    RBAC_PERM("05", "3", "read", "permissions:read", "list permissions", NOW)                 \
    RBAC_PERM("06", "3", "write", "permissions:write", "create and delete permissions", NOW)  \
    RBAC_PERM("07", "4", "read", "resources:read", "list resource types", NOW)                \
    RBAC_PERM("08", "4", "write", "resources:write", "create and delete resource types", NOW) \
    RBAC_PERM("09", "5", "read", "sessions:read", "list the company sessions", NOW)           \
    RBAC_PERM("10", "5", "revoke", "sessions:revoke", "end sessions", NOW)                    \
    RBAC_PERM("11", "6", "read", "audit:read", "read the audit trail", NOW)                   \
    RBAC_PERM("12", "7", "read", "companies:read", "list and read companies", NOW)            \
    "('00000000-0000-4000-8002-000000000013', NULL, '00000000-0000-4000-8001-000000000007', " \
    "'write', 'companies:write', 'create, change and deactivate companies', " NOW ", " NOW ");\n" \
    INSERT " INTO roles (id, tenant_id, name, description, builtin, created_at, updated_at) VALUES\n" \
    "('00000000-0000-4000-8003-000000000001', NULL, 'admin', 'every permission in its company', " \
    "'admin', " NOW ", " NOW "),\n"                                                           \
    "('00000000-0000-4000-8003-000000000002', NULL, 'superuser', 'every permission in every " \
    "company (the root company only)', 'superuser', " NOW ", " NOW ");\n"                     \
    INSERT " INTO user_roles (user_id, role_id, created_at)\n"                                \
    "SELECT id, '00000000-0000-4000-8003-000000000001', " NOW " FROM users WHERE is_admin = 1;\n" \
    INSERT " INTO user_roles (user_id, role_id, created_at)\n"                                \
    "SELECT id, '00000000-0000-4000-8003-000000000002', " NOW " FROM users WHERE is_admin = 1 " \
    "AND tenant_id = '00000000-0000-4000-8000-000000000000';\n"
#define RBAC_PERM(n, rt, action, name, what, NOW)                                             \
    "('00000000-0000-4000-8002-0000000000" n "', NULL, '00000000-0000-4000-8001-00000000000" rt \
    "', '" action "', '" name "', '" what "', " NOW ", " NOW "),\n"
#define RBAC_TABLES(TIME)                                                                     \
    "CREATE TABLE resource_types (\n"                                                         \
    "    id          TEXT PRIMARY KEY NOT NULL,\n"                                            \
    "    tenant_id   TEXT REFERENCES tenants (id) ON DELETE CASCADE,\n"                       \
    "    name        TEXT NOT NULL,\n"                                                        \
    "    description TEXT,\n"                                                                 \
    "    created_at  " TIME " NOT NULL,\n"                                                    \
    "    updated_at  " TIME " NOT NULL,\n"                                                    \
    "    UNIQUE (tenant_id, name)\n"                                                          \
    ");\n"                                                                                    \
    "CREATE TABLE permissions (\n"                                                            \
    "    id               TEXT PRIMARY KEY NOT NULL,\n"                                       \
    "    tenant_id        TEXT REFERENCES tenants (id) ON DELETE CASCADE,\n"                  \
    "    resource_type_id TEXT NOT NULL REFERENCES resource_types (id) ON DELETE CASCADE,\n"  \
    "    action           TEXT NOT NULL,\n"                                                   \
    "    name             TEXT NOT NULL,\n"                                                   \
    "    description      TEXT,\n"                                                            \
    "    created_at       " TIME " NOT NULL,\n"                                               \
    "    updated_at       " TIME " NOT NULL,\n"                                               \
    "    UNIQUE (tenant_id, name)\n"                                                          \
    ");\n"                                                                                    \
    "CREATE TABLE roles (\n"                                                                  \
    "    id          TEXT PRIMARY KEY NOT NULL,\n"                                            \
    "    tenant_id   TEXT REFERENCES tenants (id) ON DELETE CASCADE,\n"                       \
    "    name        TEXT NOT NULL,\n"                                                        \
    "    description TEXT,\n"                                                                 \
    "    builtin     TEXT,\n"                                                                 \
    "    created_at  " TIME " NOT NULL,\n"                                                    \
    "    updated_at  " TIME " NOT NULL,\n"                                                    \
    "    UNIQUE (tenant_id, name)\n"                                                          \
    ");\n"                                                                                    \
    "CREATE TABLE role_parents (\n"                                                           \
    "    role_id   TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,\n"                  \
    "    parent_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,\n"                  \
    "    PRIMARY KEY (role_id, parent_id)\n"                                                  \
    ");\n"                                                                                    \
    "CREATE TABLE role_permissions (\n"                                                       \
    "    role_id       TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,\n"              \
    "    permission_id TEXT NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,\n"        \
    "    PRIMARY KEY (role_id, permission_id)\n"                                              \
    ");\n"                                                                                    \
    "CREATE TABLE user_roles (\n"                                                             \
    "    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n"                 \
    "    role_id    TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,\n"                 \
    "    created_at " TIME " NOT NULL,\n"                                                     \
    "    PRIMARY KEY (user_id, role_id)\n"                                                    \
    ");\n"                                                                                    \
    "CREATE INDEX user_roles_role ON user_roles (role_id);\n"
#define SQLITE_NOW "CAST(strftime('%s', 'now') AS INTEGER) * 1000"
#define POSTGRES_NOW "CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) AS BIGINT) * 1000"
#define MYSQL_NOW "CAST(UNIX_TIMESTAMP() AS SIGNED) * 1000"
static const char v6_sqlite[] =
    RBAC_TABLES("INTEGER")
    RBAC_CATALOG(SQLITE_NOW, "INSERT");
static const char v6_postgres[] =
    RBAC_TABLES("BIGINT")
    RBAC_CATALOG(POSTGRES_NOW, "INSERT");
/* MySQL: the same, with its foreign keys as clauses (InnoDB ignores a
 * REFERENCES written on a column). DDL commits as it goes, so a failed
 * run leaves tables behind: IF NOT EXISTS and INSERT IGNORE make running
 * it again complete the rest. */
#define MYSQL_FK(col, table) \
    ",\n    FOREIGN KEY (" col ") REFERENCES " table " (id) ON DELETE CASCADE"
static const char v6_mysql[] =
    "CREATE TABLE IF NOT EXISTS resource_types (\n"
    "    id VARCHAR(36) NOT NULL PRIMARY KEY, tenant_id VARCHAR(36), name VARCHAR(255) NOT NULL,\n"
    "    description TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,\n"
    "    UNIQUE KEY resource_types_name (tenant_id, name)" MYSQL_FK("tenant_id", "tenants") "\n"
    ")" MYSQL_TABLE
    "CREATE TABLE IF NOT EXISTS permissions (\n"
    "    id VARCHAR(36) NOT NULL PRIMARY KEY, tenant_id VARCHAR(36),\n"
    "    resource_type_id VARCHAR(36) NOT NULL, action VARCHAR(255) NOT NULL,\n"
    "    name VARCHAR(255) NOT NULL, description TEXT, created_at BIGINT NOT NULL,\n"
    "    updated_at BIGINT NOT NULL, UNIQUE KEY permissions_name (tenant_id, name)"
    MYSQL_FK("tenant_id", "tenants") MYSQL_FK("resource_type_id", "resource_types") "\n"
    ")" MYSQL_TABLE
    "CREATE TABLE IF NOT EXISTS roles (\n"
    "    id VARCHAR(36) NOT NULL PRIMARY KEY, tenant_id VARCHAR(36), name VARCHAR(255) NOT NULL,\n"
    "    description TEXT, builtin VARCHAR(255), created_at BIGINT NOT NULL,\n"
    "    updated_at BIGINT NOT NULL, UNIQUE KEY roles_name (tenant_id, name)"
    MYSQL_FK("tenant_id", "tenants") "\n"
    ")" MYSQL_TABLE
    "CREATE TABLE IF NOT EXISTS role_parents (\n"
    "    role_id VARCHAR(36) NOT NULL, parent_id VARCHAR(36) NOT NULL,\n"
    "    PRIMARY KEY (role_id, parent_id)" MYSQL_FK("role_id", "roles")
    MYSQL_FK("parent_id", "roles") "\n"
    ")" MYSQL_TABLE
    "CREATE TABLE IF NOT EXISTS role_permissions (\n"
    "    role_id VARCHAR(36) NOT NULL, permission_id VARCHAR(36) NOT NULL,\n"
    "    PRIMARY KEY (role_id, permission_id)" MYSQL_FK("role_id", "roles")
    MYSQL_FK("permission_id", "permissions") "\n"
    ")" MYSQL_TABLE
    "CREATE TABLE IF NOT EXISTS user_roles (\n"
    "    user_id VARCHAR(36) NOT NULL, role_id VARCHAR(36) NOT NULL, created_at BIGINT NOT NULL,\n"
    "    PRIMARY KEY (user_id, role_id), KEY user_roles_role (role_id)"
    MYSQL_FK("user_id", "users") MYSQL_FK("role_id", "roles") "\n"
    ")" MYSQL_TABLE
    RBAC_CATALOG(MYSQL_NOW, "INSERT IGNORE")
    "SELECT roles.builtin, user_roles.role_id, role_parents.parent_id,\n"
    "       role_permissions.permission_id, permissions.resource_type_id\n"
    "       FROM roles, user_roles, role_parents, role_permissions, permissions LIMIT 0;\n";

/* Second factors (auth/factors.h): a factor is pending until its first
 * code confirms it (confirmed_at NULL), and a TOTP factor keeps the last
 * time step a code was accepted for, so no code is accepted twice. Rows
 * from before were confirmed when made. A user's phone number is verified
 * by a code sent to it (phone_verified_at; a new number clears it). */
static const char v7_sqlite[] =
    "ALTER TABLE credentials ADD COLUMN confirmed_at INTEGER;\n"
    "ALTER TABLE credentials ADD COLUMN last_counter INTEGER;\n"
    "UPDATE credentials SET confirmed_at = created_at;\n"
    "ALTER TABLE users ADD COLUMN phone_verified_at INTEGER;\n";
static const char v7_postgres[] =
    "ALTER TABLE credentials ADD COLUMN confirmed_at BIGINT;\n"
    "ALTER TABLE credentials ADD COLUMN last_counter BIGINT;\n"
    "UPDATE credentials SET confirmed_at = created_at;\n"
    "ALTER TABLE users ADD COLUMN phone_verified_at BIGINT;\n";
static const char v7_mysql[] =
    MYSQL_ADD_COLUMN("credentials", "confirmed_at", "BIGINT")
    MYSQL_ADD_COLUMN("credentials", "last_counter", "BIGINT")
    MYSQL_ADD_COLUMN("users", "phone_verified_at", "BIGINT")
    "UPDATE credentials SET confirmed_at = created_at WHERE confirmed_at IS NULL;\n"
    "SELECT credentials.confirmed_at, credentials.last_counter FROM credentials LIMIT 0;\n"
    "SELECT users.phone_verified_at FROM users LIMIT 0;\n";

/* Identities at OAuth / OpenID Connect providers (auth/identities.h): the
 * provider instance's configured name and its subject, unique in a
 * company, so one provider account signs in to one user; the address the
 * provider gave when it was linked, for the user's list (sealed like the
 * users' with encryption at rest). */
#define IDENTITIES_TABLE(TEXT_KEY, INT)                                          \
    "CREATE TABLE identities (\n"                                               \
    "    id           " TEXT_KEY " PRIMARY KEY NOT NULL,\n"                     \
    "    tenant_id    " TEXT_KEY " NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,\n" \
    "    user_id      " TEXT_KEY " NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n" \
    "    provider     TEXT NOT NULL,\n"                                        \
    "    subject      TEXT NOT NULL,\n"                                        \
    "    email        TEXT,\n"                                                 \
    "    created_at   " INT " NOT NULL,\n"                                     \
    "    last_used_at " INT ",\n"                                              \
    "    UNIQUE (tenant_id, provider, subject)\n"                              \
    ");\n"                                                                      \
    "CREATE INDEX identities_user ON identities (user_id);\n"
static const char v8_sqlite[] = IDENTITIES_TABLE("TEXT", "INTEGER");
static const char v8_postgres[] = IDENTITIES_TABLE("TEXT", "BIGINT");
static const char v8_mysql[] =
    "CREATE TABLE IF NOT EXISTS identities (\n"
    "    id VARCHAR(36) NOT NULL PRIMARY KEY, tenant_id VARCHAR(36) NOT NULL,\n"
    "    user_id VARCHAR(36) NOT NULL, provider VARCHAR(64) NOT NULL,\n"
    "    subject VARCHAR(255) NOT NULL, email TEXT, created_at BIGINT NOT NULL,\n"
    "    last_used_at BIGINT, UNIQUE KEY identities_subject (tenant_id, provider, subject),\n"
    "    KEY identities_user (user_id)" MYSQL_FK("tenant_id", "tenants")
    MYSQL_FK("user_id", "users") "\n"
    ")" MYSQL_TABLE
    "SELECT id, tenant_id, user_id, provider, subject, email, created_at, last_used_at\n"
    "       FROM identities LIMIT 0;\n";

/* OAuth clients (auth/clients.h): a company's machines, which get access
 * tokens by the client_credentials grant. client_id is public and unique
 * across companies (the token endpoint finds the client by it alone).
 * Secrets are stored as their SHA-256 (auth/tokens.h secret_digest): they
 * are 256 random bits, so no slow hash is needed; the previous secret's
 * digest works until old_secret_expires_at (rotation's grace). Lists
 * (grant types, scopes, audiences) are space-separated, as OAuth writes
 * them. Permissions clients:read and clients:write join the catalog. */
#define CLIENTS_TABLE(INT)                                                                    \
    "CREATE TABLE oauth_clients (\n"                                                          \
    "    id VARCHAR(36) NOT NULL PRIMARY KEY,\n"                                              \
    "    tenant_id VARCHAR(36) NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,\n"          \
    "    client_id VARCHAR(64) NOT NULL UNIQUE, name VARCHAR(255) NOT NULL,\n"               \
    "    grant_types TEXT NOT NULL, scopes TEXT NOT NULL, audiences TEXT NOT NULL,\n"         \
    "    token_ttl " INT " NOT NULL, auth_method VARCHAR(32) NOT NULL,\n"                     \
    "    secret_hash VARCHAR(64), old_secret_hash VARCHAR(64), old_secret_expires_at " INT ",\n" \
    "    jwks_uri TEXT, jwks TEXT, may_introspect " INT " NOT NULL, disabled " INT " NOT NULL,\n" \
    "    created_at " INT " NOT NULL, updated_at " INT " NOT NULL\n"                           \
    ");\n"                                                                                    \
    "CREATE INDEX oauth_clients_tenant ON oauth_clients (tenant_id);\n"
#define CLIENTS_PERMS(NOW, INSERT)                                                            \
    INSERT " INTO resource_types (id, tenant_id, name, description, created_at, updated_at) VALUES\n" \
    "('00000000-0000-4000-8001-000000000008', NULL, 'clients', 'OAuth clients', " NOW ", " NOW ");\n" \
    INSERT " INTO permissions (id, tenant_id, resource_type_id, action, name, description, created_at, updated_at) VALUES\n" \
    RBAC_PERM("14", "8", "read", "clients:read", "list and read OAuth clients", NOW)         \
    "('00000000-0000-4000-8002-000000000015', NULL, '00000000-0000-4000-8001-000000000008', " \
    "'write', 'clients:write', 'create, change, rotate and delete OAuth clients', " NOW ", " NOW ");\n"
static const char v9_sqlite[] =
    CLIENTS_TABLE("INTEGER")
    CLIENTS_PERMS(SQLITE_NOW, "INSERT");
static const char v9_postgres[] =
    CLIENTS_TABLE("BIGINT")
    CLIENTS_PERMS(POSTGRES_NOW, "INSERT");
static const char v9_mysql[] =
    "CREATE TABLE IF NOT EXISTS oauth_clients (\n"
    "    id VARCHAR(36) NOT NULL PRIMARY KEY, tenant_id VARCHAR(36) NOT NULL,\n"
    "    client_id VARCHAR(64) NOT NULL, name VARCHAR(255) NOT NULL,\n"
    "    grant_types TEXT NOT NULL, scopes TEXT NOT NULL, audiences TEXT NOT NULL,\n"
    "    token_ttl BIGINT NOT NULL, auth_method VARCHAR(32) NOT NULL,\n"
    "    secret_hash VARCHAR(64), old_secret_hash VARCHAR(64), old_secret_expires_at BIGINT,\n"
    "    jwks_uri TEXT, jwks TEXT, may_introspect BIGINT NOT NULL, disabled BIGINT NOT NULL,\n"
    "    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,\n"
    "    UNIQUE KEY oauth_clients_client_id (client_id), KEY oauth_clients_tenant (tenant_id)"
    MYSQL_FK("tenant_id", "tenants") "\n"
    ")" MYSQL_TABLE
    CLIENTS_PERMS(MYSQL_NOW, "INSERT IGNORE")
    "SELECT oauth_clients.client_id FROM oauth_clients LIMIT 0;\n";

/* Integrations (auth/integrations.h): a company's API keys. A key is
 * gh_<prefix>_<secret>; key_prefix is public and unique across companies
 * (the guard finds the integration by it alone), key_hash the SHA-256 of
 * the whole key (auth/tokens.h secret_digest): the secret is 256 random
 * bits, so neither a slow hash nor a server key adds anything. permissions
 * is the space-separated list of RBAC permission names the key carries.
 * signing_secret, for incoming webhooks, is sealed like a second factor's
 * secret. Permissions integrations:read and integrations:write join the
 * catalog. */
#define INTEGRATIONS_TABLE(INT)                                                               \
    "CREATE TABLE integrations (\n"                                                           \
    "    id VARCHAR(36) NOT NULL PRIMARY KEY,\n"                                              \
    "    tenant_id VARCHAR(36) NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,\n"          \
    "    name VARCHAR(255) NOT NULL, type VARCHAR(16) NOT NULL, permissions TEXT NOT NULL,\n" \
    "    key_prefix VARCHAR(16) NOT NULL UNIQUE, key_hash VARCHAR(64) NOT NULL,\n"           \
    "    expires_at " INT ", last_used_at " INT ", signing_secret TEXT,\n"                     \
    "    disabled " INT " NOT NULL, created_at " INT " NOT NULL, updated_at " INT " NOT NULL\n" \
    ");\n"                                                                                    \
    "CREATE INDEX integrations_tenant ON integrations (tenant_id);\n"
#define INTEGRATIONS_PERMS(NOW, INSERT)                                                       \
    INSERT " INTO resource_types (id, tenant_id, name, description, created_at, updated_at) VALUES\n" \
    "('00000000-0000-4000-8001-000000000009', NULL, 'integrations', 'integrations and their API keys', " NOW ", " NOW ");\n" \
    INSERT " INTO permissions (id, tenant_id, resource_type_id, action, name, description, created_at, updated_at) VALUES\n" \
    RBAC_PERM("16", "9", "read", "integrations:read", "list and read integrations", NOW)     \
    "('00000000-0000-4000-8002-000000000017', NULL, '00000000-0000-4000-8001-000000000009', " \
    "'write', 'integrations:write', 'create, change, regenerate and delete integrations', " NOW ", " NOW ");\n"
static const char v10_sqlite[] =
    INTEGRATIONS_TABLE("INTEGER")
    INTEGRATIONS_PERMS(SQLITE_NOW, "INSERT");
static const char v10_postgres[] =
    INTEGRATIONS_TABLE("BIGINT")
    INTEGRATIONS_PERMS(POSTGRES_NOW, "INSERT");
static const char v10_mysql[] =
    "CREATE TABLE IF NOT EXISTS integrations (\n"
    "    id VARCHAR(36) NOT NULL PRIMARY KEY, tenant_id VARCHAR(36) NOT NULL,\n"
    "    name VARCHAR(255) NOT NULL, type VARCHAR(16) NOT NULL, permissions TEXT NOT NULL,\n"
    "    key_prefix VARCHAR(16) NOT NULL, key_hash VARCHAR(64) NOT NULL,\n"
    "    expires_at BIGINT, last_used_at BIGINT, signing_secret TEXT,\n"
    "    disabled BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,\n"
    "    UNIQUE KEY integrations_key_prefix (key_prefix), KEY integrations_tenant (tenant_id)"
    MYSQL_FK("tenant_id", "tenants") "\n"
    ")" MYSQL_TABLE
    INTEGRATIONS_PERMS(MYSQL_NOW, "INSERT IGNORE")
    "SELECT integrations.key_prefix FROM integrations LIMIT 0;\n";

/* Incoming webhooks (auth/webhook_events.h): what integrations sent to
 * POST /api/v1/webhooks/{type}, kept as received. The unique
 * (integration_id, webhook_id) refuses a replayed Standard Webhooks id
 * for good, past the timestamp tolerance (NULL ids, unsigned senders that
 * send none, never collide). No foreign key to integrations: the events
 * stay the company's record after their integration is deleted. Only
 * non-secret headers are kept. Permission webhook_events:read joins the
 * catalog. */
#define WEBHOOK_EVENTS_TABLE(INT)                                                             \
    "CREATE TABLE webhook_events (\n"                                                         \
    "    id VARCHAR(36) NOT NULL PRIMARY KEY,\n"                                              \
    "    tenant_id VARCHAR(36) NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,\n"          \
    "    integration_id VARCHAR(36) NOT NULL, integration_type VARCHAR(16) NOT NULL,\n"       \
    "    webhook_id VARCHAR(255), webhook_timestamp " INT ", verified " INT " NOT NULL,\n"    \
    "    source_ip VARCHAR(64), user_agent TEXT, payload TEXT NOT NULL,\n"                    \
    "    received_at " INT " NOT NULL,\n"                                                     \
    "    UNIQUE (integration_id, webhook_id)\n"                                               \
    ");\n"                                                                                    \
    "CREATE INDEX webhook_events_tenant ON webhook_events (tenant_id, received_at);\n"
#define WEBHOOK_EVENTS_PERMS(NOW, INSERT)                                                     \
    INSERT " INTO resource_types (id, tenant_id, name, description, created_at, updated_at) VALUES\n" \
    "('00000000-0000-4000-8001-000000000110', NULL, 'webhook_events', 'incoming webhooks received', " NOW ", " NOW ");\n" \
    INSERT " INTO permissions (id, tenant_id, resource_type_id, action, name, description, created_at, updated_at) VALUES\n" \
    "('00000000-0000-4000-8002-000000000110', NULL, '00000000-0000-4000-8001-000000000110', " \
    "'read', 'webhook_events:read', 'list and read incoming webhooks', " NOW ", " NOW ");\n"
static const char v11_sqlite[] =
    WEBHOOK_EVENTS_TABLE("INTEGER")
    WEBHOOK_EVENTS_PERMS(SQLITE_NOW, "INSERT");
static const char v11_postgres[] =
    WEBHOOK_EVENTS_TABLE("BIGINT")
    WEBHOOK_EVENTS_PERMS(POSTGRES_NOW, "INSERT");
static const char v11_mysql[] =
    "CREATE TABLE IF NOT EXISTS webhook_events (\n"
    "    id VARCHAR(36) NOT NULL PRIMARY KEY, tenant_id VARCHAR(36) NOT NULL,\n"
    "    integration_id VARCHAR(36) NOT NULL, integration_type VARCHAR(16) NOT NULL,\n"
    "    webhook_id VARCHAR(255), webhook_timestamp BIGINT, verified BIGINT NOT NULL,\n"
    "    source_ip VARCHAR(64), user_agent TEXT, payload MEDIUMTEXT NOT NULL,\n"
    "    received_at BIGINT NOT NULL,\n"
    "    UNIQUE KEY webhook_events_replay (integration_id, webhook_id),\n"
    "    KEY webhook_events_tenant (tenant_id, received_at)"
    MYSQL_FK("tenant_id", "tenants") "\n"
    ")" MYSQL_TABLE
    WEBHOOK_EVENTS_PERMS(MYSQL_NOW, "INSERT IGNORE")
    "SELECT webhook_events.webhook_id FROM webhook_events LIMIT 0;\n";
/* Outgoing events (auth/webhooks.h): a company's subscriptions and the
 * deliveries of its events to them, the durable outbox the webhook
 * sender (notify/webhook_sender.h) works through. event_types is a
 * space-separated list of patterns; secret (whsec_...) is sealed like a
 * second factor's secret. A delivery row is written in the transaction
 * of the change it tells of, so it exists exactly when the change does;
 * (status, next_attempt_at) is the sender's poll, (subscription_id,
 * created_at) a subscription's log. Permissions webhooks:read and
 * webhooks:write join the catalog. */
#define WEBHOOKS_TABLES(INT)                                                                  \
    "CREATE TABLE webhook_subscriptions (\n"                                                  \
    "    id VARCHAR(36) NOT NULL PRIMARY KEY,\n"                                              \
    "    tenant_id VARCHAR(36) NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,\n"          \
    "    url TEXT NOT NULL, event_types TEXT NOT NULL, secret TEXT NOT NULL,\n"              \
    "    disabled " INT " NOT NULL, disabled_reason TEXT,\n"                                  \
    "    consecutive_failures " INT " NOT NULL,\n"                                            \
    "    created_at " INT " NOT NULL, updated_at " INT " NOT NULL\n"                           \
    ");\n"                                                                                    \
    "CREATE INDEX webhook_subscriptions_tenant ON webhook_subscriptions (tenant_id);\n"      \
    "CREATE TABLE webhook_deliveries (\n"                                                     \
    "    id VARCHAR(36) NOT NULL PRIMARY KEY,\n"                                              \
    "    subscription_id VARCHAR(36) NOT NULL REFERENCES webhook_subscriptions (id) "         \
    "ON DELETE CASCADE,\n"                                                                    \
    "    tenant_id VARCHAR(36) NOT NULL, event_type VARCHAR(64) NOT NULL,\n"                  \
    "    payload TEXT NOT NULL, status VARCHAR(16) NOT NULL, attempts " INT " NOT NULL,\n"    \
    "    next_attempt_at " INT " NOT NULL, last_status " INT ", last_error TEXT,\n"           \
    "    created_at " INT " NOT NULL, updated_at " INT " NOT NULL\n"                           \
    ");\n"                                                                                    \
    "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);\n" \
    "CREATE INDEX webhook_deliveries_log ON webhook_deliveries (subscription_id, created_at);\n"
#define WEBHOOKS_PERMS(NOW, INSERT)                                                           \
    INSERT " INTO resource_types (id, tenant_id, name, description, created_at, updated_at) VALUES\n" \
    "('00000000-0000-4000-8001-00000000000a', NULL, 'webhooks', 'outgoing event subscriptions', " NOW ", " NOW ");\n" \
    INSERT " INTO permissions (id, tenant_id, resource_type_id, action, name, description, created_at, updated_at) VALUES\n" \
    RBAC_PERM("20", "a", "read", "webhooks:read", "list subscriptions and their deliveries", NOW) \
    "('00000000-0000-4000-8002-000000000021', NULL, '00000000-0000-4000-8001-00000000000a', " \
    "'write', 'webhooks:write', 'create, change and delete subscriptions, redeliver', " NOW ", " NOW ");\n"
static const char v12_sqlite[] =
    WEBHOOKS_TABLES("INTEGER")
    WEBHOOKS_PERMS(SQLITE_NOW, "INSERT");
static const char v12_postgres[] =
    WEBHOOKS_TABLES("BIGINT")
    WEBHOOKS_PERMS(POSTGRES_NOW, "INSERT");
static const char v12_mysql[] =
    "CREATE TABLE IF NOT EXISTS webhook_subscriptions (\n"
    "    id VARCHAR(36) NOT NULL PRIMARY KEY, tenant_id VARCHAR(36) NOT NULL,\n"
    "    url TEXT NOT NULL, event_types TEXT NOT NULL, secret TEXT NOT NULL,\n"
    "    disabled BIGINT NOT NULL, disabled_reason TEXT, consecutive_failures BIGINT NOT NULL,\n"
    "    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,\n"
    "    KEY webhook_subscriptions_tenant (tenant_id)" MYSQL_FK("tenant_id", "tenants") "\n"
    ")" MYSQL_TABLE
    "CREATE TABLE IF NOT EXISTS webhook_deliveries (\n"
    "    id VARCHAR(36) NOT NULL PRIMARY KEY, subscription_id VARCHAR(36) NOT NULL,\n"
    "    tenant_id VARCHAR(36) NOT NULL, event_type VARCHAR(64) NOT NULL,\n"
    "    payload MEDIUMTEXT NOT NULL, status VARCHAR(16) NOT NULL, attempts BIGINT NOT NULL,\n"
    "    next_attempt_at BIGINT NOT NULL, last_status BIGINT, last_error TEXT,\n"
    "    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,\n"
    "    KEY webhook_deliveries_due (status, next_attempt_at),\n"
    "    KEY webhook_deliveries_log (subscription_id, created_at)"
    MYSQL_FK("subscription_id", "webhook_subscriptions") "\n"
    ")" MYSQL_TABLE
    WEBHOOKS_PERMS(MYSQL_NOW, "INSERT IGNORE")
    "SELECT webhook_deliveries.status FROM webhook_deliveries LIMIT 0;\n";

/* Onboarding (api/onboard.c) and its cloud provisioning (auth/provisioning.h):
 * one durable job per company, whose state and resource ids ("type:id",
 * one a line, in the order they were made) are written after every step
 * of the cloud plugin, so a restarted or another instance resumes it.
 * lease_until and lease_owner are the claim of the instance running a
 * step: a job is taken only when due and its lease has run out, by a
 * conditional UPDATE, so several instances share the jobs and one whose
 * instance died is taken over. rolling_back marks a deprovisioning that
 * undoes a failure (it ends in "failed"; one asked for, in "deprovisioned").
 * Permission companies:onboard joins the catalog. */
#define PROVISIONING_TABLE(INT)                                                               \
    "CREATE TABLE provisioning_jobs (\n"                                                      \
    "    tenant_id VARCHAR(36) NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,\n" \
    "    cloud VARCHAR(64) NOT NULL, state VARCHAR(16) NOT NULL,\n"                         \
    "    rolling_back " INT " NOT NULL,\n"                                                    \
    "    resources TEXT NOT NULL, attempts " INT " NOT NULL, next_attempt_at " INT " NOT NULL,\n" \
    "    lease_until " INT " NOT NULL, lease_owner VARCHAR(36), last_error TEXT,\n"          \
    "    created_at " INT " NOT NULL, updated_at " INT " NOT NULL\n"                           \
    ");\n"                                                                                    \
    "CREATE INDEX provisioning_jobs_due ON provisioning_jobs (state, next_attempt_at);\n"
#define ONBOARD_PERM(NOW, INSERT)                                                             \
    INSERT " INTO permissions (id, tenant_id, resource_type_id, action, name, description, created_at, updated_at) VALUES\n" \
    "('00000000-0000-4000-8002-000000000130', NULL, '00000000-0000-4000-8001-000000000007', " \
    "'onboard', 'companies:onboard', 'onboard a customer: a new company and its first admin', " NOW ", " NOW ");\n"
static const char v13_sqlite[] =
    PROVISIONING_TABLE("INTEGER")
    ONBOARD_PERM(SQLITE_NOW, "INSERT");
static const char v13_postgres[] =
    PROVISIONING_TABLE("BIGINT")
    ONBOARD_PERM(POSTGRES_NOW, "INSERT");
static const char v13_mysql[] =
    "CREATE TABLE IF NOT EXISTS provisioning_jobs (\n"
    "    tenant_id VARCHAR(36) NOT NULL PRIMARY KEY, cloud VARCHAR(64) NOT NULL,\n"
    "    state VARCHAR(16) NOT NULL, rolling_back BIGINT NOT NULL, resources MEDIUMTEXT NOT NULL,\n"
    "    attempts BIGINT NOT NULL, next_attempt_at BIGINT NOT NULL, lease_until BIGINT NOT NULL,\n"
    "    lease_owner VARCHAR(36), last_error TEXT, created_at BIGINT NOT NULL,\n"
    "    updated_at BIGINT NOT NULL, KEY provisioning_jobs_due (state, next_attempt_at)"
    MYSQL_FK("tenant_id", "tenants") "\n"
    ")" MYSQL_TABLE
    ONBOARD_PERM(MYSQL_NOW, "INSERT IGNORE")
    "SELECT provisioning_jobs.lease_owner FROM provisioning_jobs LIMIT 0;\n";

/* The mail outbox (core/notify/outbox.h): one row per mail to send, the
 * INTENT only - whom (user_id) and what (purpose: verify, reset, invite) -
 * never the message: the sender reads the current address, mints the
 * one-time token and renders the template when it sends, so no live link
 * is ever at rest. A row is written in the transaction of the change that
 * mails (a sign-up, an invited account), so it exists exactly when the
 * account does. lease_until and lease_owner are a sender's claim, taken
 * by a conditional UPDATE as for provisioning jobs, so several instances
 * share the rows; a sent row is deleted, a failed one stays with its
 * reason (last_error) until the housekeeping purge a week later. (status, next_attempt_at) is the sender's poll. */
#define MAIL_OUTBOX_TABLE(INT)                                                                \
    "CREATE TABLE mail_outbox (\n"                                                            \
    "    id VARCHAR(36) NOT NULL PRIMARY KEY,\n"                                              \
    "    tenant_id VARCHAR(36) NOT NULL,\n"                                                   \
    "    user_id VARCHAR(36) NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n"             \
    "    purpose VARCHAR(16) NOT NULL, status VARCHAR(16) NOT NULL,\n"                        \
    "    attempts " INT " NOT NULL, next_attempt_at " INT " NOT NULL,\n"                       \
    "    lease_until " INT " NOT NULL, lease_owner VARCHAR(36), last_error TEXT,\n"           \
    "    created_at " INT " NOT NULL, updated_at " INT " NOT NULL\n"                           \
    ");\n"                                                                                    \
    "CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);\n"
static const char v14_sqlite[] = MAIL_OUTBOX_TABLE("INTEGER");
static const char v14_postgres[] = MAIL_OUTBOX_TABLE("BIGINT");
static const char v14_mysql[] =
    "CREATE TABLE IF NOT EXISTS mail_outbox (\n"
    "    id VARCHAR(36) NOT NULL PRIMARY KEY, tenant_id VARCHAR(36) NOT NULL,\n"
    "    user_id VARCHAR(36) NOT NULL, purpose VARCHAR(16) NOT NULL,\n"
    "    status VARCHAR(16) NOT NULL, attempts BIGINT NOT NULL, next_attempt_at BIGINT NOT NULL,\n"
    "    lease_until BIGINT NOT NULL, lease_owner VARCHAR(36), last_error TEXT,\n"
    "    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,\n"
    "    KEY mail_outbox_due (status, next_attempt_at)"
    MYSQL_FK("user_id", "users") "\n"
    ")" MYSQL_TABLE
    "SELECT mail_outbox.lease_owner FROM mail_outbox LIMIT 0;\n";

/* Append only. A dialect without a script (NULL) is refused by
 * migrations_apply() with a clear error rather than half-building a schema. */
const gh_migration gh_migrations[] = {
    { 1, "initial", v1_sqlite, v1_postgres, v1_mysql },
    { 2, "refresh_tokens", v2_sqlite, v2_postgres, v2_mysql },
    { 3, "pii_at_rest", v3_sqlite, v3_postgres, v3_mysql },
    { 4, "profile_names_external_id", v4_sqlite, v4_postgres, v4_mysql },
    { 5, "company_settings", v5_sqlite, v5_postgres, v5_mysql },
    { 6, "roles_permissions", v6_sqlite, v6_postgres, v6_mysql },
    { 7, "second_factors", v7_sqlite, v7_postgres, v7_mysql },
    { 8, "identities", v8_sqlite, v8_postgres, v8_mysql },
    { 9, "oauth_clients", v9_sqlite, v9_postgres, v9_mysql },
    { 10, "integrations", v10_sqlite, v10_postgres, v10_mysql },
    { 11, "webhook_events", v11_sqlite, v11_postgres, v11_mysql },
    { 12, "webhooks", v12_sqlite, v12_postgres, v12_mysql },
    { 13, "provisioning", v13_sqlite, v13_postgres, v13_mysql },
    { 14, "mail_outbox", v14_sqlite, v14_postgres, v14_mysql },
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

/* A database server does not serialise migrators as SQLite's BEGIN
 * IMMEDIATE does: two instances would both read version N and both apply
 * N + 1. A lock held until the transaction ends makes the second wait,
 * then read the version the first one wrote. */
static gh_result migrate_lock(gh_conn *c, gh_call *call)
{
    if (strcmp(store_dialect(c), "postgres") == 0)
        return store_exec(c, call, "SELECT pg_advisory_xact_lock(1734439013)", /* "gate" */
                          NULL, 0, NULL, NULL, NULL);
    return GH_OK;
}

/* MySQL commits DDL as it goes, which ends the transaction that
 * migrate_lock() would hold a lock in: there a named lock, held by the
 * session across all the steps, keeps a second migrator out instead. The
 * server drops it with the connection if this process dies. The wait stays
 * under the driver's default read_timeout (30s). */
static gh_result migrate_session_lock(gh_conn *c, gh_call *call, int take)
{
    int got = 0;
    gh_result r;

    if (strcmp(store_dialect(c), "mysql") != 0)
        return GH_OK;
    if (!take)
        return store_exec(c, call, "SELECT RELEASE_LOCK('gatehouse.migrate')", NULL, 0, NULL,
                          NULL, NULL);
    r = store_exec(c, call, "SELECT GET_LOCK('gatehouse.migrate', 20)", NULL, 0, version_row,
                   &got, NULL);
    if (r == GH_OK && got != 1)
        r = call_fail(call, GH_ERR_UNAVAILABLE,
                      "another instance has been migrating for 20s; try again");
    return r;
}

/* MySQL commits DDL as it goes, so a migration that fails halfway leaves
 * the tables it had created. Dropping them (they hold nothing but what the
 * failed migration put there) is as close to a rollback as MySQL allows;
 * changes to tables that were there before stay, and every MySQL script is
 * written so that running it again completes them. The named lock keeps
 * other migrators out meanwhile, so "new" means "made by this migration". */
typedef struct table_list {
    char **v;
    size_t n;
    int oom;
} table_list;

static int table_row(void *ud, const gh_param *cols, uint32_t n)
{
    table_list *l = ud;
    char **grown, *name;

    if (n < 1 || (cols[0].type != GH_T_STR && cols[0].type != GH_T_BYTES))
        return 0;
    if ((grown = realloc(l->v, (l->n + 1) * sizeof(*grown))) == NULL ||
        (name = malloc(cols[0].len + 1)) == NULL) {
        if (grown != NULL)
            l->v = grown;
        l->oom = 1;
        return 1;
    }
    memcpy(name, cols[0].data, cols[0].len);
    name[cols[0].len] = '\0';
    l->v = grown;
    l->v[l->n++] = name;
    return 0;
}

static void tables_free(table_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* The tables of the connection's database; MySQL only (else none). */
static gh_result tables_list(gh_conn *c, gh_call *call, table_list *l)
{
    gh_result r;

    memset(l, 0, sizeof(*l));
    if (strcmp(store_dialect(c), "mysql") != 0)
        return GH_OK;
    r = store_exec(c, call,
                   "SELECT table_name FROM information_schema.tables "
                   "WHERE table_schema = DATABASE()", NULL, 0, table_row, l, NULL);
    if (r == GH_OK && l->oom)
        r = call_fail(call, GH_ERR_NOMEM, "migrate: out of memory");
    return r;
}

/* Drop the tables that are not in `before`, on a call of their own so the
 * migration's error stays what is reported. */
static void tables_drop_new(gh_conn *c, const table_list *before)
{
    table_list now;
    gh_call call;
    char sql[4096];
    size_t len;
    int dropped = 0;

    call_init(&call, NULL, NULL, MIGRATE_TIMEOUT_MS);
    if (strcmp(store_dialect(c), "mysql") != 0 || tables_list(c, &call, &now) != GH_OK)
        return;
    len = (size_t)snprintf(sql, sizeof(sql), "SET FOREIGN_KEY_CHECKS = 0; DROP TABLE IF EXISTS ");
    for (size_t i = 0; i < now.n; i++) {
        size_t k = 0;

        while (k < before->n && strcmp(before->v[k], now.v[i]) != 0)
            k++;
        /* names of our own migrations: no backquote to escape */
        if (k < before->n || strchr(now.v[i], '`') != NULL ||
            len + strlen(now.v[i]) + 64 >= sizeof(sql))
            continue;
        len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s`%s`", dropped ? ", " : "",
                                now.v[i]);
        dropped++;
    }
    snprintf(sql + len, sizeof(sql) - len, "; SET FOREIGN_KEY_CHECKS = 1");
    if (dropped > 0 && store_exec_script(c, &call, sql) != GH_OK)
        gh_log(GH_LOG_ERROR, "migrate: could not drop the tables of the failed migration: %s",
               call.message);
    tables_free(&now);
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
    gh_result r;

    if (applied != NULL)
        *applied = 0;
    if (check_list(list, n, target, store_dialect(c), err, errlen) < 0)
        return -1;
    call_init(&call, NULL, NULL, MIGRATE_TIMEOUT_MS);
    if ((r = migrate_session_lock(c, &call, 1)) != GH_OK)
        return set_err(err, errlen, "migrate: %s", why(&call, r));
    for (;;) {
        const gh_migration *m;
        table_list before;
        int version;

        call.message[0] = '\0';
        if ((r = store_begin(c, &call)) != GH_OK) {
            rc = set_err(err, errlen, "migrate: %s", why(&call, r));
            break;
        }
        if ((r = migrate_lock(c, &call)) != GH_OK ||
            (r = read_version(c, &call, &version)) != GH_OK) {
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
        if ((r = tables_list(c, &call, &before)) != GH_OK) {
            store_rollback(c, &call);
        } else if ((r = apply_one(c, &call, m)) != GH_OK) {
            store_rollback(c, &call);
            tables_drop_new(c, &before); /* only when the list is complete */
        } else {
            r = store_commit(c, &call);
        }
        tables_free(&before);
        if (r != GH_OK) {
            rc = set_err(err, errlen, "migration %d (%s): %s", m->version, m->name,
                         why(&call, r));
            break;
        }
        gh_log(GH_LOG_NOTICE, "schema: applied migration %d (%s)", m->version, m->name);
        done++;
    }
    migrate_session_lock(c, &call, 0);
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
