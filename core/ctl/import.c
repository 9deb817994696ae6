/*
 * import.c - `gatehousectl user import`: accounts exported from the
 * services Gatehouse replaces, password hashes and all.
 *
 * One user per line of JSON Lines, or per record of a CSV file with a
 * header; the first non-blank character decides ('{': JSON). Fields, with
 * the names the seed services' tables use accepted as aliases:
 *   email                           required
 *   password_hash | hashed_password required: bcrypt or argon2id, kept
 *                                   as it is (rehashed at the next login)
 *   username, full_name, given_name | first_name, family_name | last_name
 *                                   (without full_name, the two make it)
 *   is_admin | is_superuser, email_verified | is_verified, is_active
 *   id                              the user's id in the old service: kept
 *                                   as the Gatehouse id when it is a UUID,
 *                                   else as external_id, so the old tables'
 *                                   references still lead to the user
 * Other fields are ignored, so a raw export imports as it is. Each user is
 * its own transaction: a bad or duplicate record is reported with its line
 * number and skipped, and costs none of the good ones. A record whose id
 * is already that of the same account (same tenant, same address) was
 * imported before and is left as it is, so a file can be imported again;
 * an id held by any other account is reported, never taken over.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "auth/password.h"
#include "auth/users.h"
#include "clock.h"
#include "ctl/ctl.h"

#define EXTERNAL_ID_MAX 255 /* MySQL's VARCHAR(255) for it */

typedef struct import_rec {
    const char *email, *hash, *username, *full_name;
    const char *first_name, *last_name;
    const char *id;                        /* the old service's, or NULL */
    int is_admin, is_active, verified;     /* -1: not given */
} import_rec;

typedef struct import_run {
    ctl *c;
    const char *tenant, *name;             /* name: the file, for messages */
    long imported, skipped, again;         /* again: imported before */
    int stop;                              /* the store failed: give up */
} import_run;

int ctl_import_usage(const char *cmd)
{
    printf("Usage: %s [--tenant ID] FILE|-\n%s", cmd,
        "Import users from FILE (- for stdin): JSON Lines, one object per line, or\n"
        "CSV with a header line. Fields: email and password_hash (required; also\n"
        "hashed_password), username, full_name, given_name (or first_name),\n"
        "family_name (or last_name), is_admin (or is_superuser), email_verified\n"
        "(or is_verified), is_active, id; others are ignored. Hashes must be\n"
        "bcrypt ($2a$, $2b$, $2y$) or argon2id; they are kept, and rehashed to\n"
        "argon2id at each user's next sign-in. An id that is a UUID becomes the\n"
        "user's id, any other is kept as its external_id. A bad or duplicate\n"
        "record is reported with its line number and skipped; one whose id is\n"
        "already that account's (imported before) is left as it is.\n"
        CTL_TENANT_HELP
        "Exit status 0 when every record was imported, 1 when any was skipped.\n");
    return CTL_OK;
}

/* Advance *p over characters of set; 0 when there was none. */
static int skip_run(const char **p, const char *set)
{
    size_t n = strspn(*p, set);

    *p += n;
    return n > 0;
}

/* $2b$12$ + 22 characters of salt + 31 of hash, in bcrypt's base64. */
static int is_bcrypt(const char *h)
{
    static const char alphabet[] =
        "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    int cost;

    if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) ||
        h[3] != '$' || !isdigit((unsigned char)h[4]) || !isdigit((unsigned char)h[5]) ||
        h[6] != '$')
        return 0;
    cost = (h[4] - '0') * 10 + (h[5] - '0');
    return cost >= 4 && cost <= 31 && strspn(h + 7, alphabet) == 53;
}

/* $argon2id$v=19$m=19456,t=2,p=1$salt$hash, PHC format; v= is absent
 * from hashes made before version 1.3 */
static int is_argon2id(const char *h)
{
    static const char b64[] =
        "+/ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static const char digits[] = "0123456789";
    const char *p = h + 10;

    if (strncmp(h, "$argon2id$", 10) != 0)
        return 0;
    if (strncmp(p, "v=", 2) == 0 && (p += 2, !skip_run(&p, digits) || *p++ != '$'))
        return 0;
    if (strncmp(p, "m=", 2) != 0 || (p += 2, !skip_run(&p, digits)) ||
        strncmp(p, ",t=", 3) != 0 || (p += 3, !skip_run(&p, digits)) ||
        strncmp(p, ",p=", 3) != 0 || (p += 3, !skip_run(&p, digits)))
        return 0;
    return *p++ == '$' && skip_run(&p, b64) && *p++ == '$' && skip_run(&p, b64) && !*p;
}

/* "bcrypt", "argon2id", or NULL for what the server could not verify.
 * Only the shape is checked: a trial verification would cost a hash per
 * user, and the first sign-in verifies anyway. */
static const char *hash_scheme(const char *h)
{
    if (strlen(h) >= GH_PW_HASH_MAX)
        return NULL;
    return is_bcrypt(h) ? "bcrypt" : is_argon2id(h) ? "argon2id" : NULL;
}

static void import_skip(import_run *run, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void import_skip(import_run *run, long line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s:%ld: ", run->name, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (skipped)\n", stderr);
    run->skipped++;
}

/* One user, one transaction: the user, its verification, its audit row. */
static gh_result import_store(import_run *run, gh_call *call, gh_user *u, const char *hash,
                              const char *scheme, int verified, long line)
{
    gh_conn *conn = run->c->conn;
    gh_result r = store_begin(conn, call);

    if (r != GH_OK)
        return r;
    if ((r = users_create(conn, call, u, hash)) == GH_OK && verified)
        r = users_mark_verified(conn, call, u->id, gh_now_ms());
    if (r == GH_OK) {
        json_t *d = json_pack("{s:s, s:b, s:I}", "hash", scheme, "admin", u->is_admin,
                              "line", (json_int_t)line);
        r = ctl_audit(run->c, call, u->tenant_id, "user.import", u->id, d);
        json_decref(d);
    }
    if (r == GH_OK)
        return store_commit(conn, call);
    store_rollback(conn, call);
    return r;
}

static int given(const char *s)
{
    return s && *s;
}

/* Why rec cannot be imported, or NULL. Never quotes the hash: it is as
 * good as a password to whoever cracks it. */
static const char *invalid(const import_rec *rec, const char **scheme)
{
    char norm[256];

    if (!given(rec->email))
        return "no email";
    if (email_normalize(rec->email, norm, sizeof norm) < 0)
        return "invalid email address";
    if (!given(rec->hash))
        return "no password_hash";
    if (!(*scheme = hash_scheme(rec->hash)))
        return "password_hash is neither bcrypt ($2a$, $2b$, $2y$) nor argon2id";
    if (given(rec->username) && username_normalize(rec->username, norm, sizeof norm) < 0)
        return "invalid username: 3 to 64 of A-Z a-z 0-9 . _ -";
    if (rec->id && !*rec->id)
        return "an empty id";
    if (rec->id && strlen(rec->id) > EXTERNAL_ID_MAX)
        return "an id longer than 255 bytes";
    for (const char *p = rec->id; p && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return "an id with control characters";
    return NULL;
}

/* rec as a gh_user of the run's tenant; -1 when out of memory. */
static int user_from(const import_run *run, const import_rec *rec, gh_user *u)
{
    const char *f = given(rec->first_name) ? rec->first_name : "";
    const char *l = given(rec->last_name) ? rec->last_name : "";

    snprintf(u->tenant_id, sizeof u->tenant_id, "%s", run->tenant);
    u->is_admin = rec->is_admin > 0;
    u->is_active = rec->is_active != 0;   /* absent (-1): active */
    if (rec->id && uuid_valid(rec->id)) {
        for (int i = 0; i < 37; i++)
            u->id[i] = (char)tolower((unsigned char)rec->id[i]);
    } else if (rec->id && !(u->external_id = strdup(rec->id))) {
        return -1;
    }
    if (!(u->email = strdup(rec->email)) ||
        (given(rec->username) && !(u->username = strdup(rec->username))) ||
        (*f && !(u->given_name = strdup(f))) || (*l && !(u->family_name = strdup(l))))
        return -1;
    if (given(rec->full_name))
        return (u->full_name = strdup(rec->full_name)) ? 0 : -1;
    if (*f || *l)
        return asprintf(&u->full_name, "%s%s%s", f, *f && *l ? " " : "", l) < 0
                   ? (u->full_name = NULL, -1) : 0;
    return 0;
}

/* Whose is u's id (or external id) already? 0 nobody's, 1 this account's
 * (imported before: leave it), -1 another's (reported) or a store error
 * (the run stopped). An erased account keeps its id: not made again. */
static int id_holder(import_run *run, const gh_user *u, long line)
{
    const char *ext = u->id[0] ? NULL : u->external_id;
    char a[256], b[256];
    gh_user old = { 0 };
    gh_call call;
    int rc = 0;

    if (!u->id[0] && !ext)
        return 0;
    ctl_call(&call);
    gh_result r = users_find_key(run->c->conn, &call, run->tenant, u->id[0] ? u->id : NULL, ext,
                                 1, &old);
    if (r == GH_OK && strcmp(old.tenant_id, run->tenant) == 0 && !old.email && !old.username) {
        fprintf(stderr, "%s:%ld: id %s: that account was erased since; not made again\n",
                run->name, line, u->id[0] ? u->id : ext);
        rc = 1;
    } else if (r == GH_OK && strcmp(old.tenant_id, run->tenant) == 0 && old.email &&
               email_normalize(old.email, a, sizeof a) == 0 &&
               email_normalize(u->email, b, sizeof b) == 0 && strcmp(a, b) == 0) {
        rc = 1;
    } else if (r == GH_OK) {
        import_skip(run, line, "id %s is already that of another user", u->id[0] ? u->id : ext);
        rc = -1;
    } else if (r != GH_ERR_NOT_FOUND) {
        fprintf(stderr, "%s:%ld: storage: %s\n", run->name, line, ctl_why(&call, r));
        run->stop = 1;
        rc = -1;
    }
    user_clear(&old);
    return rc;
}

static void import_one(import_run *run, const import_rec *rec, long line)
{
    const char *why, *scheme = NULL;
    gh_user u = { 0 };
    gh_call call;

    if ((why = invalid(rec, &scheme)))
        return import_skip(run, line, "%s", why);
    if (user_from(run, rec, &u) < 0) {
        user_clear(&u);
        run->stop = 1;
        ctl_fail("out of memory");
        return;
    }
    int held = id_holder(run, &u, line);
    if (held != 0) {
        run->again += held > 0;
        user_clear(&u);
        return;
    }
    ctl_call(&call);
    gh_result r = import_store(run, &call, &u, rec->hash, scheme, rec->verified > 0, line);
    if (r == GH_OK)
        run->imported++;
    else if (r == GH_ERR_CONFLICT)
        import_skip(run, line, "a user with this email, username or id already exists");
    else if (r == GH_ERR_INVALID)
        import_skip(run, line, "refused: %s", ctl_why(&call, r));
    else {
        /* the database, not the record: the next lines would fail alike */
        fprintf(stderr, "%s:%ld: storage: %s\n", run->name, line, ctl_why(&call, r));
        run->stop = 1;
    }
    user_clear(&u);
}

/* ---- JSON Lines */

/* A string member (first of two names), or NULL; *bad when not a string. */
static const char *json_field(json_t *o, const char *name, const char *alias, int *bad)
{
    json_t *v = json_object_get(o, name);

    if ((!v || json_is_null(v)) && alias)
        v = json_object_get(o, alias);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = 1;
        return NULL;
    }
    return json_string_value(v);
}

/* The id: a string, or an integer (serial keys) written out; NULL when
 * absent; *bad for another type. */
static const char *json_id(json_t *o, char buf[24], int *bad)
{
    json_t *v = json_object_get(o, "id");

    if (json_is_integer(v)) {
        snprintf(buf, 24, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    return json_field(o, "id", NULL, bad);
}

/* true/false (or 1/0) -> 1/0; absent or null -> -1; else *bad. */
static int json_flag(json_t *o, const char *name, const char *alias, int *bad)
{
    json_t *v = json_object_get(o, name);

    if ((!v || json_is_null(v)) && alias)
        v = json_object_get(o, alias);
    if (!v || json_is_null(v))
        return -1;
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
        return (int)json_integer_value(v);
    *bad = 1;
    return -1;
}

static void import_json_line(import_run *run, const char *text, size_t len, long line)
{
    json_error_t e;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
    import_rec rec;
    char idbuf[24];
    int bad = 0;

    if (!o)
        return import_skip(run, line, "not valid JSON: %s", e.text);
    if (!json_is_object(o)) {
        json_decref(o);
        return import_skip(run, line, "not a JSON object");
    }
    rec.email = json_field(o, "email", NULL, &bad);
    rec.hash = json_field(o, "password_hash", "hashed_password", &bad);
    rec.username = json_field(o, "username", NULL, &bad);
    rec.full_name = json_field(o, "full_name", NULL, &bad);
    rec.first_name = json_field(o, "given_name", "first_name", &bad);
    rec.last_name = json_field(o, "family_name", "last_name", &bad);
    rec.id = json_id(o, idbuf, &bad);
    rec.is_admin = json_flag(o, "is_admin", "is_superuser", &bad);
    rec.verified = json_flag(o, "email_verified", "is_verified", &bad);
    rec.is_active = json_flag(o, "is_active", NULL, &bad);
    if (bad)
        import_skip(run, line, "a field has the wrong type (text fields are strings, "
                               "flags are true or false)");
    else
        import_one(run, &rec, line);
    json_decref(o);
}

static int import_jsonl(import_run *run, FILE *f, long line)
{
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;

    while (!run->stop && (n = getline(&buf, &cap, f)) >= 0) {
        line++;
        if (strspn(buf, " \t\r\n") == (size_t)n)
            continue;
        import_json_line(run, buf, (size_t)n, line);
    }
    free(buf);
    return ferror(f) ? -1 : 0;
}

/* ---- CSV (RFC 4180: quoted fields may hold commas, "" and newlines) */

typedef struct csv_rec {
    char **f;
    size_t n, cap;
    char *buf;          /* the current field */
    size_t len, bufcap;
} csv_rec;

static int csv_putc(csv_rec *r, int ch)
{
    if (r->len + 1 >= r->bufcap) {
        size_t cap = r->bufcap ? r->bufcap * 2 : 64;
        char *grown = realloc(r->buf, cap);
        if (!grown)
            return -1;
        r->buf = grown;
        r->bufcap = cap;
    }
    r->buf[r->len++] = (char)ch;
    return 0;
}

static int csv_end_field(csv_rec *r)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        char **grown = realloc(r->f, cap * sizeof *grown);
        if (!grown)
            return -1;
        r->f = grown;
        r->cap = cap;
    }
    if (!(r->f[r->n] = strndup(r->buf ? r->buf : "", r->len)))
        return -1;
    r->n++;
    r->len = 0;
    return 0;
}

static void csv_clear(csv_rec *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->f[i]);
    r->n = 0;
    r->len = 0;
}

/* Read one record; *lines gets the newlines it spanned. 1 a record, 0 end
 * of input, -1 out of memory, -2 a quote left open at the end. */
static int csv_read(FILE *f, csv_rec *r, long *lines)
{
    int ch, quoted = 0, any = 0;

    csv_clear(r);
    *lines = 0;
    while ((ch = getc(f)) != EOF) {
        any = 1;
        if (quoted) {
            if (ch == '"') {
                int next = getc(f);
                if (next == '"') {
                    if (csv_putc(r, '"') < 0)
                        return -1;
                    continue;
                }
                quoted = 0;
                if (next == EOF)
                    break;
                ch = next;
            } else {
                if (ch == '\n')
                    ++*lines;
                if (csv_putc(r, ch) < 0)
                    return -1;
                continue;
            }
        }
        if (ch == '"' && r->len == 0) {
            quoted = 1;
        } else if (ch == ',') {
            if (csv_end_field(r) < 0)
                return -1;
        } else if (ch == '\n') {
            ++*lines;
            if (r->len > 0 && r->buf[r->len - 1] == '\r')
                r->len--;
            return csv_end_field(r) < 0 ? -1 : 1;
        } else if (csv_putc(r, ch) < 0) {
            return -1;
        }
    }
    if (quoted)
        return -2;
    if (!any)
        return 0;
    if (r->len > 0 && r->buf[r->len - 1] == '\r')
        r->len--;
    return csv_end_field(r) < 0 ? -1 : 1;
}

static int csv_blank(const csv_rec *r)
{
    return r->n == 1 && strspn(r->f[0], " \t\r") == strlen(r->f[0]);
}

/* Where each field is in a record: column index or -1. */
enum { K_EMAIL, K_HASH, K_USERNAME, K_FULL, K_FIRST, K_LAST, K_ADMIN, K_VERIFIED, K_ACTIVE,
       K_ID, K_COUNT };
static const char *const csv_names[K_COUNT][2] = {
    [K_EMAIL] = { "email", NULL },         [K_HASH] = { "password_hash", "hashed_password" },
    [K_USERNAME] = { "username", NULL },   [K_FULL] = { "full_name", NULL },
    [K_FIRST] = { "given_name", "first_name" }, [K_LAST] = { "family_name", "last_name" },
    [K_ADMIN] = { "is_admin", "is_superuser" },
    [K_VERIFIED] = { "email_verified", "is_verified" }, [K_ACTIVE] = { "is_active", NULL },
    [K_ID] = { "id", NULL },
};

static int csv_header(const csv_rec *h, int col[K_COUNT])
{
    for (int k = 0; k < K_COUNT; k++) {
        col[k] = -1;
        /* the first name wins over its alias, as in JSON */
        for (int a = 1; a >= 0; a--)
            for (size_t i = 0; i < h->n; i++)
                if (csv_names[k][a] && strcasecmp(h->f[i], csv_names[k][a]) == 0)
                    col[k] = (int)i;
    }
    return col[K_EMAIL] >= 0 && col[K_HASH] >= 0 ? 0 : -1;
}

/* CSV flags: what PostgreSQL, MySQL and spreadsheets write for booleans. */
static int csv_flag(const char *s, int *bad)
{
    static const char *const yes[] = { "true", "t", "1", "yes", "y", NULL };
    static const char *const no[] = { "false", "f", "0", "no", "n", NULL };

    if (!s || !*s)
        return -1;
    for (int i = 0; yes[i]; i++)
        if (strcasecmp(s, yes[i]) == 0)
            return 1;
    for (int i = 0; no[i]; i++)
        if (strcasecmp(s, no[i]) == 0)
            return 0;
    *bad = 1;
    return -1;
}

static int utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2
              : (*p & 0xf8) == 0xf0 ? 3 : -1;
        if (n < 0 || (n == 1 && *p < 0xc2) || (n == 3 && *p > 0xf4))
            return 0;
        for (int i = 1; i <= n; i++)
            if ((p[i] & 0xc0) != 0x80)
                return 0;
        /* overlong 3- and 4-byte forms, surrogates, beyond U+10FFFF */
        if ((n == 2 && ((*p == 0xe0 && p[1] < 0xa0) || (*p == 0xed && p[1] >= 0xa0))) ||
            (n == 3 && ((*p == 0xf0 && p[1] < 0x90) || (*p == 0xf4 && p[1] >= 0x90))))
            return 0;
        p += n + 1;
    }
    return 1;
}

static void import_csv_record(import_run *run, const csv_rec *r, const int col[K_COUNT],
                              long line)
{
    const char *v[K_COUNT];
    import_rec rec;
    int bad = 0;

    for (int k = 0; k < K_COUNT; k++) {
        v[k] = col[k] >= 0 && (size_t)col[k] < r->n ? r->f[col[k]] : NULL;
        if (v[k] && !utf8_ok(v[k]))
            return import_skip(run, line, "column %s is not valid UTF-8", csv_names[k][0]);
    }
    rec.email = v[K_EMAIL];
    rec.hash = v[K_HASH];
    rec.username = v[K_USERNAME];
    rec.full_name = v[K_FULL];
    rec.first_name = v[K_FIRST];
    rec.last_name = v[K_LAST];
    rec.id = v[K_ID] && *v[K_ID] ? v[K_ID] : NULL; /* an empty cell: none */
    rec.is_admin = csv_flag(v[K_ADMIN], &bad);
    rec.verified = csv_flag(v[K_VERIFIED], &bad);
    rec.is_active = csv_flag(v[K_ACTIVE], &bad);
    if (bad)
        return import_skip(run, line, "a flag is neither true nor false");
    import_one(run, &rec, line);
}

/* The header, then one user per record; 0, or -1 when the file as a
 * whole is unusable (said why). */
static int import_csv(import_run *run, FILE *f, long line)
{
    csv_rec r = { 0 };
    int col[K_COUNT], got, failed = 0;
    long spanned, header_line = 0;

    while (!failed && !run->stop && (got = csv_read(f, &r, &spanned)) != 0) {
        long start = line + 1;

        line += spanned > 0 ? spanned : 1;   /* the last line may lack its \n */
        if (got == -1) {
            failed = ctl_fail("out of memory");
        } else if (got == -2) {
            import_skip(run, start, "a quoted field is not closed before the end of the file");
            break;
        } else if (csv_blank(&r)) {
            continue;
        } else if (!header_line) {
            header_line = start;
            if (csv_header(&r, col) < 0)
                failed = ctl_fail("%s:%ld: the CSV header must name the columns email and "
                                  "password_hash", run->name, start);
        } else {
            import_csv_record(run, &r, col, start);
        }
    }
    csv_clear(&r);
    free(r.f);
    free(r.buf);
    if (!failed && !header_line && !run->stop)
        failed = ctl_fail("%s: no users in it", run->name);
    return failed || ferror(f) ? -1 : 0;
}

/* Skip a UTF-8 byte-order mark and blank lines; return the first other
 * character, pushed back, and count the lines skipped. */
static int first_char(FILE *f, long *lines)
{
    int ch = getc(f);

    if (ch == 0xef) {
        if (getc(f) != 0xbb || getc(f) != 0xbf)
            return -2;
        ch = getc(f);
    }
    for (; ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; ch = getc(f))
        if (ch == '\n')
            ++*lines;
    if (ch != EOF)
        ungetc(ch, f);
    return ch;
}

int ctl_import_users(ctl *c, const char *tenant, const char *path)
{
    import_run run = { c, tenant, strcmp(path, "-") == 0 ? "stdin" : path, 0, 0, 0, 0 };
    FILE *f;
    long line = 0;
    int ch, rc;

    if (ctl_open_tenant(c, &run.tenant) < 0)
        return CTL_FAIL;
    if (!(f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r")))
        return ctl_fail("%s: %s", path, strerror(errno));
    ch = first_char(f, &line);
    if (ch == -2)
        rc = ctl_fail("%s: neither JSON Lines nor CSV (a stray byte-order mark)", run.name);
    else if (ch == EOF)
        rc = ctl_fail("%s: no users in it", run.name);
    else if (ch == '[')
        rc = ctl_fail("%s: a JSON array; write one object per line (JSON Lines), "
                      "e.g. with jq -c '.[]'", run.name);
    else
        rc = (ch == '{' ? import_jsonl(&run, f, line) : import_csv(&run, f, line)) < 0
                 ? CTL_FAIL : CTL_OK;
    if (rc == CTL_OK && ferror(f))
        rc = ctl_fail("reading %s: %s", run.name, strerror(errno));
    if (f != stdin)
        fclose(f);
    if (run.again)
        printf("imported %ld, skipped %ld, already imported %ld\n", run.imported, run.skipped,
               run.again);
    else if (run.imported || run.skipped || run.stop)
        printf("imported %ld, skipped %ld\n", run.imported, run.skipped);
    if (run.stop)
        return ctl_fail("import stopped early; the users imported so far stay imported");
    return rc == CTL_OK && run.skipped == 0 ? CTL_OK : CTL_FAIL;
}
