/*
 * users.c - accounts in the store: create, find, update, erase, list.
 *
 * Every query is a fixed text with `?` placeholders: values never become
 * SQL, and the store's statement cache serves each query after its first
 * use. Addresses and usernames are kept twice, as given (for display) and
 * normalised (for the unique indexes and for lookups), so uniqueness per
 * tenant is case-insensitive without a collation the backends disagree on.
 *
 * An erased account keeps its row, so audit events keep a subject, but
 * loses every personal field, its credentials and its sessions.
 *
 * With `encryption.keys` configured (auth/pii.h) the personal fields are
 * stored encrypted and the normalised columns hold blind indexes. Reads
 * take either form and lookups match either, so a database keeps working
 * while `gatehousectl reencrypt` moves its rows from clear text; writes
 * always use the newest key.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "auth/rbac.h"
#include "auth/users.h"
#include "auth/pii.h"
#include "auth/sessions.h"
#include "auth/tokens.h"
#include "clock.h"
#include "log.h"
#include "store/row.h"

#define EMAIL_MAX 254        /* RFC 5321: a path of 256 less the brackets */
#define EMAIL_LOCAL_MAX 64   /* RFC 5321 4.5.3.1.1 */
#define USERNAME_MIN 3
#define USERNAME_MAX 64
#define LIST_DEFAULT 50
#define LIST_MAX 500
#define FILTER_MAX 254       /* a substring of an address is no longer */

/* What every query that fills a gh_user selects, in this order; the
 * password-hash lookups append one column. */
#define USER_COLS                                                             \
    "u.id, u.tenant_id, u.email, u.username, u.full_name, u.phone, "          \
    "u.given_name, u.family_name, u.country_code, u.external_id, "            \
    "u.email_verified_at, u.is_active, u.is_admin, u.created_at, u.updated_at, "   \
    "u.phone_verified_at"
enum {
    C_ID, C_TENANT, C_EMAIL, C_USERNAME, C_FULL_NAME, C_PHONE, C_GIVEN, C_FAMILY, C_COUNTRY,
    C_EXTERNAL, C_VERIFIED, C_ACTIVE, C_ADMIN, C_CREATED, C_UPDATED, C_PHONE_VERIFIED, C_NCOLS
};

/* the newest password credential of u (there is one; newest is a guard) */
#define PASSWORD_SUBQUERY                                                     \
    "(SELECT cr.secret FROM credentials cr WHERE cr.user_id = u.id "          \
    "AND cr.type = 'password' ORDER BY cr.created_at DESC LIMIT 1)"

/* ------------------------------------------------------ values, columns */

/* The AAD names of the personal columns: a value decrypts only in its
 * own column of its own row. */
#define COL_EMAIL "users.email"
#define COL_USERNAME "users.username"

/* The profile fields, sealed alike: in this order in at_rest and writes. */
enum { P_FULL_NAME, P_PHONE, P_GIVEN, P_FAMILY, P_COUNTRY, P_COUNT };
static const char *const prof_col[P_COUNT] = {
    "users.full_name", "users.phone", "users.given_name", "users.family_name",
    "users.country_code",
};

/* The profile fields of u, in P_ order (pointers into u). */
static void prof_of(gh_user *u, char **v[P_COUNT])
{
    v[P_FULL_NAME] = &u->full_name;
    v[P_PHONE] = &u->phone;
    v[P_GIVEN] = &u->given_name;
    v[P_FAMILY] = &u->family_name;
    v[P_COUNTRY] = &u->country_code;
}

/* --------------------------------------------------------- normalising */

static int is_space(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static unsigned char ascii_lower(unsigned char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch + ('a' - 'A')) : ch;
}

/* Surrounding ASCII whitespace off: what is left is [*start, +*len). */
static void trim(const char *in, const char **start, size_t *len)
{
    size_t n = strlen(in);

    while (n > 0 && is_space((unsigned char)*in)) {
        in++;
        n--;
    }
    while (n > 0 && is_space((unsigned char)in[n - 1]))
        n--;
    *start = in;
    *len = n;
}

/* The trimmed original of a name that normalised, which is no longer than
 * its normalised form and so fits the same size of buffer. */
static void trimmed(const char *in, char *out, size_t size)
{
    const char *s;
    size_t len;

    trim(in, &s, &len);
    if (len >= size)
        len = size - 1;
    memcpy(out, s, len);
    out[len] = '\0';
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static int utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned char b = s[i];
        size_t k;
        uint32_t cp;

        if (b < 0x80) {
            i++;
            continue;
        }
        if (b >= 0xc2 && b <= 0xdf)
            k = 1, cp = b & 0x1f;
        else if (b >= 0xe0 && b <= 0xef)
            k = 2, cp = b & 0x0f;
        else if (b >= 0xf0 && b <= 0xf4)
            k = 3, cp = b & 0x07;
        else
            return 0;
        if (len - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* A domain needs a dot, and no empty label at either end or in between. */
static int domain_ok(const char *d, size_t len)
{
    if (len == 0 || d[0] == '.' || d[len - 1] == '.' || memchr(d, '.', len) == NULL)
        return 0;
    for (size_t i = 1; i < len; i++)
        if (d[i] == '.' && d[i - 1] == '.')
            return 0;
    return 1;
}

int email_normalize(const char *in, char *out, size_t outlen)
{
    const char *s;
    size_t len, at = 0, ats = 0;

    if (in == NULL || out == NULL)
        return -1;
    trim(in, &s, &len);
    if (len == 0 || len > EMAIL_MAX || len >= outlen ||
        !utf8_valid((const unsigned char *)s, len))
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch <= ' ' || ch == 0x7f) /* spaces and control bytes */
            return -1;
        if (ch == '@')
            at = i, ats++;
        /* only ASCII is folded: the domain is case-insensitive, and
         * every provider that matters treats the local part so too */
        out[i] = (char)ascii_lower(ch);
    }
    out[len] = '\0';
    if (ats != 1 || at == 0 || at > EMAIL_LOCAL_MAX || !domain_ok(out + at + 1, len - at - 1))
        return -1;
    return 0;
}

static int username_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '-';
}

int username_normalize(const char *in, char *out, size_t outlen)
{
    const char *s;
    size_t len;

    if (in == NULL || out == NULL)
        return -1;
    trim(in, &s, &len);
    if (len < USERNAME_MIN || len > USERNAME_MAX || len >= outlen)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!username_char((unsigned char)s[i]))
            return -1;
        out[i] = (char)ascii_lower((unsigned char)s[i]);
    }
    out[len] = '\0';
    return 0;
}

/* ---------------------------------------------------------------- rows */

void user_clear(gh_user *u)
{
    if (u == NULL)
        return;
    free(u->email);
    free(u->username);
    free(u->full_name);
    free(u->phone);
    free(u->given_name);
    free(u->family_name);
    free(u->country_code);
    free(u->external_id);
    memset(u, 0, sizeof(*u));
}

/* *v decrypted in place (clear text stays as it is). The reason goes to
 * the log with the account's id: never the value. */
static int open_field(char **v, const char *col, const char *id)
{
    const char *why = "";
    char *clear;

    if (*v == NULL || !pii_is_encrypted(*v))
        return 0;
    if (pii_decrypt(pii_current(), col, id, *v, &clear, &why) < 0) {
        gh_log(GH_LOG_ERROR, "users: %s of user %s: %s", col, id, why);
        return -1;
    }
    free(*v);
    *v = clear;
    return 0;
}

static gh_result open_fields(gh_user *u)
{
    char **prof[P_COUNT];
    int bad = open_field(&u->email, COL_EMAIL, u->id) < 0 ||
              open_field(&u->username, COL_USERNAME, u->id) < 0;

    prof_of(u, prof);
    for (int i = 0; !bad && i < P_COUNT; i++)
        bad = open_field(prof[i], prof_col[i], u->id) < 0;
    if (bad) {
        user_clear(u);
        return GH_ERR_INTERNAL;
    }
    return GH_OK;
}

static gh_result user_from_row(gh_user *u, const gh_param *cols)
{
    memset(u, 0, sizeof(*u));
    col_copy(&cols[C_ID], u->id, sizeof(u->id));
    col_copy(&cols[C_TENANT], u->tenant_id, sizeof(u->tenant_id));
    u->email_verified_at = col_int(&cols[C_VERIFIED]);
    u->is_active = col_int(&cols[C_ACTIVE]) != 0;
    u->is_admin = col_int(&cols[C_ADMIN]) != 0;
    u->created_at = col_int(&cols[C_CREATED]);
    u->updated_at = col_int(&cols[C_UPDATED]);
    u->phone_verified_at = col_int(&cols[C_PHONE_VERIFIED]);
    if (col_dup(&cols[C_EMAIL], &u->email) < 0 || col_dup(&cols[C_USERNAME], &u->username) < 0 ||
        col_dup(&cols[C_FULL_NAME], &u->full_name) < 0 || col_dup(&cols[C_PHONE], &u->phone) < 0 ||
        col_dup(&cols[C_GIVEN], &u->given_name) < 0 ||
        col_dup(&cols[C_FAMILY], &u->family_name) < 0 ||
        col_dup(&cols[C_COUNTRY], &u->country_code) < 0 ||
        col_dup(&cols[C_EXTERNAL], &u->external_id) < 0) {
        user_clear(u);
        return GH_ERR_NOMEM;
    }
    return open_fields(u);
}

/* A password hash column into hash: "" for none; a stored value too long
 * for the buffer is refused rather than cut (a cut hash never verifies). */
static gh_result hash_from_col(const gh_param *p, char hash[GH_PW_HASH_MAX])
{
    hash[0] = '\0';
    if (!col_is_text(p))
        return GH_OK;
    if (p->len >= GH_PW_HASH_MAX)
        return GH_ERR_INTERNAL;
    col_copy(p, hash, GH_PW_HASH_MAX);
    return GH_OK;
}

typedef struct one_user {
    gh_user *u;
    char *hash;   /* GH_PW_HASH_MAX bytes, or NULL: not wanted */
    const users_more *more; /* or NULL: the user's columns alone */
    int found;
    gh_result r;
} one_user;

static int one_user_row(void *vud, const gh_param *cols, uint32_t n)
{
    one_user *ud = vud;

    if (n < C_NCOLS) {
        ud->r = GH_ERR_INTERNAL;
        return 1;
    }
    if ((ud->r = user_from_row(ud->u, cols)) == GH_OK && ud->hash != NULL && n > C_NCOLS &&
        (ud->r = hash_from_col(&cols[C_NCOLS], ud->hash)) != GH_OK)
        user_clear(ud->u);
    ud->found = ud->r == GH_OK;
    if (ud->found && ud->more != NULL)
        ud->more->cb(ud->more->ud, cols + C_NCOLS, n - C_NCOLS);
    return 1;
}

/* Run a query that selects USER_COLS (plus perhaps a hash) for one user. */
static gh_result query_user_more(gh_conn *c, gh_call *call, const char *sql,
                                 const gh_param *args, size_t nargs, gh_user *out, char *hash,
                                 const users_more *more)
{
    one_user ud = { out, hash, more, 0, GH_OK };
    gh_result r;

    memset(out, 0, sizeof(*out));
    if (hash != NULL)
        hash[0] = '\0';
    r = store_exec(c, call, sql, args, nargs, one_user_row, &ud, NULL);
    if (r == GH_OK && ud.r != GH_OK) {
        user_clear(out);
        return call_fail(call, ud.r, "users: reading the account failed");
    }
    if (r != GH_OK) {
        if (ud.found)
            user_clear(out);
        return r;
    }
    return ud.found ? GH_OK : GH_ERR_NOT_FOUND;
}

static gh_result query_user(gh_conn *c, gh_call *call, const char *sql, const gh_param *args,
                            size_t nargs, gh_user *out, char *hash)
{
    return query_user_more(c, call, sql, args, nargs, out, hash, NULL);
}

/* -------------------------------------------------------------- create */

/* The normalised forms of u's email and username into email_n, user_n
 * ("" when absent), with the trimmed originals. An account needs one. */
typedef struct names {
    char email_n[EMAIL_MAX + 1], user_n[USERNAME_MAX + 1];
    const char *email, *username;   /* trimmed, as given; NULL: none */
    size_t email_len, username_len;
} names;

static int names_from(names *nm, const char *email, const char *username)
{
    memset(nm, 0, sizeof(*nm));
    if (email != NULL) {
        if (email_normalize(email, nm->email_n, sizeof(nm->email_n)) < 0)
            return -1;
        trim(email, &nm->email, &nm->email_len);
    }
    if (username != NULL && *username != '\0') {
        if (username_normalize(username, nm->user_n, sizeof(nm->user_n)) < 0)
            return -1;
        trim(username, &nm->username, &nm->username_len);
    }
    return nm->email != NULL || nm->username != NULL ? 0 : -1;
}

/* a name as given (s, len) or its normalised form: SQL NULL when absent */
static gh_param p_name(const char *s, size_t len)
{
    return s ? p_text(s, len) : (gh_param){ NULL, GH_T_NULL, NULL, 0 };
}

static gh_param p_norm(const char *s, const char *norm)
{
    return s ? p_str(norm) : (gh_param){ NULL, GH_T_NULL, NULL, 0 };
}

/* ------------------------------------------------------------- at rest */

/* What a write stores for one row's personal fields when encryption is
 * on: ciphertext under the newest key, and blind indexes in place of the
 * normalised forms. Off (or a field absent or ""): NULL and "", and the
 * write stores the value as given. */
typedef struct at_rest {
    char *email, *username, *prof[P_COUNT];   /* malloc'd, or NULL */
    char email_i[PII_INDEX_LEN], user_i[PII_INDEX_LEN];
} at_rest;

static void at_rest_free(at_rest *a)
{
    free(a->email);
    free(a->username);
    for (int i = 0; i < P_COUNT; i++)
        free(a->prof[i]);
    memset(a, 0, sizeof(*a));
}

static int seal(const gh_pii *p, const char *col, const char *id, const char *s, size_t len,
                char **out)
{
    const char *why = "";

    *out = NULL;
    if (p == NULL || s == NULL || len == 0)
        return 0;
    if ((*out = pii_encrypt(p, col, id, s, len, &why)) == NULL) {
        gh_log(GH_LOG_ERROR, "users: %s of user %s: %s", col, id, why);
        return -1;
    }
    return 0;
}

static int index_into(const gh_pii *p, const char *domain, const char *norm,
                      char out[PII_INDEX_LEN])
{
    out[0] = '\0';
    if (p == NULL || norm == NULL || *norm == '\0')
        return 0;
    return pii_blind_index(p, domain, norm, out);
}

/* Every field of one row (NULL: not written), sealed for user `id`;
 * prof in P_ order. */
static int at_rest_make(at_rest *a, const char *id, const char *email, size_t email_len,
                        const char *email_n, const char *username, size_t username_len,
                        const char *user_n, const char *const prof[P_COUNT])
{
    const gh_pii *p = pii_current();
    int bad;

    memset(a, 0, sizeof(*a));
    bad = seal(p, COL_EMAIL, id, email, email_len, &a->email) < 0 ||
          seal(p, COL_USERNAME, id, username, username_len, &a->username) < 0 ||
          index_into(p, "email", email_n, a->email_i) < 0 ||
          index_into(p, "username", user_n, a->user_i) < 0;
    for (int i = 0; !bad && i < P_COUNT; i++)
        bad = seal(p, prof_col[i], id, prof[i], prof[i] ? strlen(prof[i]) : 0, &a->prof[i]) < 0;
    if (bad) {
        at_rest_free(a);
        return -1;
    }
    return 0;
}

/* what to store: the sealed form when there is one */
static const char *stored(const char *sealed, const char *plain)
{
    return sealed != NULL && *sealed != '\0' ? sealed : plain;
}

static int found_row(void *ud, const gh_param *cols, uint32_t n)
{
    (void)cols;
    *(int *)ud = n > 0;
    return 1;
}

/* With encryption on, a new address or username must also be free among
 * the rows still in clear text (a database being switched on): the unique
 * indexes cannot see that a blind index and a clear value are the same. */
static gh_result taken_in_clear(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                                const char *email_n, const char *user_n)
{
    const gh_param args[] = { p_str(tenant), p_opt_empty(email_n), p_opt_empty(user_n),
                              p_str(id) };
    int found = 0;
    gh_result r;

    if (pii_current() == NULL || ((email_n == NULL || *email_n == '\0') &&
                                  (user_n == NULL || *user_n == '\0')))
        return GH_OK;
    r = store_exec(c, call,
                   "SELECT 1 FROM users WHERE tenant_id = ? AND (email_normalized = ? "
                   "OR username_normalized = ?) AND id <> ? LIMIT 1",
                   args, 4, found_row, &found, NULL);
    if (r == GH_OK && found)
        return call_fail(call, GH_ERR_CONFLICT, "users: email or username taken");
    return r;
}

static gh_result insert_user(gh_conn *c, gh_call *call, const gh_user *u, const names *nm,
                             const at_rest *a)
{
    int64_t active = u->is_active != 0, admin = u->is_admin != 0;
    const gh_param args[] = {
        p_str(u->id), p_str(u->tenant_id),
        a->email ? p_str(a->email) : p_name(nm->email, nm->email_len),
        p_norm(nm->email, stored(a->email_i, nm->email_n)),
        a->username ? p_str(a->username) : p_name(nm->username, nm->username_len),
        p_norm(nm->username, stored(a->user_i, nm->user_n)),
        p_opt(stored(a->prof[P_FULL_NAME], u->full_name)),
        p_opt(stored(a->prof[P_PHONE], u->phone)),
        p_opt(stored(a->prof[P_GIVEN], u->given_name)),
        p_opt(stored(a->prof[P_FAMILY], u->family_name)),
        p_opt(stored(a->prof[P_COUNTRY], u->country_code)), p_opt(u->external_id),
        p_int(&active), p_int(&admin), p_int(&u->created_at), p_int(&u->updated_at),
    };

    return store_exec(c, call,
                      "INSERT INTO users (id, tenant_id, email, email_normalized, username, "
                      "username_normalized, full_name, phone, given_name, family_name, "
                      "country_code, external_id, is_active, is_admin, created_at, "
                      "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      args, sizeof(args) / sizeof(args[0]), NULL, NULL, NULL);
}

static gh_result insert_password(gh_conn *c, gh_call *call, const char *user_id,
                                 const char *hash, int64_t now)
{
    char id[37];
    gh_param args[4];

    uuid_new(id);
    args[0] = p_str(id);
    args[1] = p_str(user_id);
    args[2] = p_str(hash);
    args[3] = p_int(&now);
    return store_exec(c, call,
                      "INSERT INTO credentials (id, user_id, type, secret, created_at) "
                      "VALUES (?, ?, 'password', ?, ?)", args, 4, NULL, NULL, NULL);
}

static int hash_ok(const char *hash)
{
    return hash != NULL && *hash != '\0' && strlen(hash) < GH_PW_HASH_MAX;
}

/* is_admin and the admin role (auth/rbac.h) say the same: the flag is
 * what tokens and the admin routes read until they read permissions. */
static gh_result admin_role(gh_conn *c, gh_call *call, const char *id, int on)
{
    int64_t now = gh_now_ms();
    gh_param args[3] = { p_str(id), p_str(RBAC_ROLE_ADMIN), p_int(&now) };
    gh_result r = store_exec(c, call, "DELETE FROM user_roles WHERE user_id = ? AND role_id = ?",
                             args, 2, NULL, NULL, NULL);

    if (r == GH_OK && on)
        r = store_exec(c, call, "INSERT INTO user_roles (user_id, role_id, created_at) "
                       "VALUES (?, ?, ?)", args, 3, NULL, NULL, NULL);
    return r;
}

gh_result users_create(gh_conn *c, gh_call *call, gh_user *u, const char *password_hash)
{
    at_rest a;
    names nm;
    gh_result r;

    if (u == NULL || u->tenant_id[0] == '\0' || names_from(&nm, u->email, u->username) < 0)
        return call_fail(call, GH_ERR_INVALID, "users: invalid email or username");
    /* NULL: an account that signs in some other way (OAuth) */
    if (password_hash != NULL && !hash_ok(password_hash))
        return call_fail(call, GH_ERR_INVALID, "users: unusable password hash");
    if (u->id[0] == '\0')
        uuid_new(u->id);
    u->created_at = u->updated_at = gh_now_ms();
    if (at_rest_make(&a, u->id, nm.email, nm.email_len, nm.email_n, nm.username,
                     nm.username_len, nm.user_n,
                     (const char *const[P_COUNT]){ u->full_name, u->phone, u->given_name,
                                                   u->family_name, u->country_code }) < 0)
        return call_fail(call, GH_ERR_INTERNAL, "users: cannot encrypt the account");
    if ((r = store_begin(c, call)) != GH_OK) {
        at_rest_free(&a);
        return r;
    }
    r = taken_in_clear(c, call, u->tenant_id, u->id, nm.email_n, nm.user_n);
    if (r == GH_OK)
        r = insert_user(c, call, u, &nm, &a);
    at_rest_free(&a);
    if (r == GH_OK && password_hash != NULL)
        r = insert_password(c, call, u->id, password_hash, u->created_at);
    if (r == GH_OK && u->is_admin)
        r = admin_role(c, call, u->id, 1);
    if (r == GH_OK)
        return store_commit(c, call);
    store_rollback(c, call);
    return r;
}

/* ---------------------------------------------------------------- find */

/* tenant, then a normalised name in both forms it may be stored in: its
 * blind index (encryption on; else the name again) and the clear name (a
 * row not yet moved by `gatehousectl reencrypt`). idx holds the index. */
static int lookup_args(gh_param args[3], const char *tenant, const char *domain,
                       const char *norm, char idx[PII_INDEX_LEN])
{
    if (index_into(pii_current(), domain, norm, idx) < 0)
        return -1;
    args[0] = p_str(tenant);
    args[1] = p_str(stored(idx, norm));
    args[2] = p_str(norm);
    return 0;
}

gh_result users_find_login(gh_conn *c, gh_call *call, const char *tenant, const char *login,
                           gh_user *out, char hash[GH_PW_HASH_MAX])
{
    char norm[EMAIL_MAX + 1], idx[PII_INDEX_LEN];
    gh_param args[3];

    memset(out, 0, sizeof(*out));
    if (tenant == NULL || login == NULL)
        return GH_ERR_NOT_FOUND;
    /* usernames cannot hold '@', so the form of `login` says which it is;
     * what cannot be normalised cannot match: the same "not found" */
    if (strchr(login, '@') != NULL) {
        if (email_normalize(login, norm, sizeof(norm)) < 0 ||
            lookup_args(args, tenant, "email", norm, idx) < 0)
            return GH_ERR_NOT_FOUND;
        return query_user(c, call,
                          "SELECT " USER_COLS ", " PASSWORD_SUBQUERY " FROM users u "
                          "WHERE u.tenant_id = ? AND u.email_normalized IN (?, ?) "
                          "AND u.deleted_at IS NULL", args, 3, out, hash);
    }
    if (username_normalize(login, norm, sizeof(norm)) < 0 ||
        lookup_args(args, tenant, "username", norm, idx) < 0)
        return GH_ERR_NOT_FOUND;
    return query_user(c, call,
                      "SELECT " USER_COLS ", " PASSWORD_SUBQUERY " FROM users u "
                      "WHERE u.tenant_id = ? AND u.username_normalized IN (?, ?) "
                      "AND u.deleted_at IS NULL", args, 3, out, hash);
}

gh_result users_login_taken(gh_conn *c, gh_call *call, const char *login, int *taken)
{
    char norm[EMAIL_MAX + 1], idx[PII_INDEX_LEN];
    const char *domain = strchr(login, '@') ? "email" : "username";
    int64_t n = 0;
    gh_param args[3];

    *taken = 0;
    if ((domain[0] == 'e' ? email_normalize(login, norm, sizeof(norm))
                          : username_normalize(login, norm, sizeof(norm))) < 0 ||
        lookup_args(args, "", domain, norm, idx) < 0)
        return GH_OK; /* what cannot be normalised matches nobody */
    gh_result r = store_exec(c, call, domain[0] == 'e'
                             ? "SELECT COUNT(*) FROM users WHERE email_normalized IN (?, ?) "
                               "AND deleted_at IS NULL"
                             : "SELECT COUNT(*) FROM users WHERE username_normalized IN (?, ?) "
                               "AND deleted_at IS NULL", &args[1], 2, row_count, &n, NULL);
    *taken = n > 0;
    return r;
}

gh_result users_get(gh_conn *c, gh_call *call, const char *tenant, const char *id, gh_user *out)
{
    gh_param args[2];

    memset(out, 0, sizeof(*out));
    if (id == NULL)
        return GH_ERR_NOT_FOUND;
    args[0] = p_str(id);
    if (tenant == NULL)
        return query_user(c, call,
                          "SELECT " USER_COLS " FROM users u "
                          "WHERE u.id = ? AND u.deleted_at IS NULL", args, 1, out, NULL);
    args[1] = p_str(tenant);
    return query_user(c, call,
                      "SELECT " USER_COLS " FROM users u "
                      "WHERE u.id = ? AND u.tenant_id = ? AND u.deleted_at IS NULL",
                      args, 2, out, NULL);
}

gh_result users_get_more(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                         const users_more *more, gh_user *out)
{
    gh_param args[USERS_MORE_ARGS + 2];
    char sql[1024];

    memset(out, 0, sizeof(*out));
    if (id == NULL || tenant == NULL)
        return GH_ERR_NOT_FOUND;
    if (more->nargs > USERS_MORE_ARGS ||
        (size_t)snprintf(sql, sizeof sql, "SELECT " USER_COLS ", %s FROM users u "
                         "WHERE u.id = ? AND u.tenant_id = ? AND u.deleted_at IS NULL",
                         more->cols) >= sizeof sql)
        return call_fail(call, GH_ERR_INVALID, "users: too much to read with a user");
    /* the select list's parameters come first, as their ? do */
    memcpy(args, more->args, more->nargs * sizeof *args);
    args[more->nargs] = p_str(id);
    args[more->nargs + 1] = p_str(tenant);
    return query_user_more(c, call, sql, args, more->nargs + 2, out, NULL, more);
}

gh_result users_find_key(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                         const char *external_id, int erased_too, gh_user *out)
{
    gh_param args[2];

    memset(out, 0, sizeof(*out));
    if (id != NULL) {
        args[0] = p_str(id);
        return query_user(c, call,
                          erased_too ? "SELECT " USER_COLS " FROM users u WHERE u.id = ?"
                                     : "SELECT " USER_COLS " FROM users u WHERE u.id = ? "
                                       "AND u.deleted_at IS NULL", args, 1, out, NULL);
    }
    if (tenant == NULL || external_id == NULL)
        return GH_ERR_NOT_FOUND;
    args[0] = p_str(tenant);
    args[1] = p_str(external_id);
    return query_user(c, call,
                      erased_too ? "SELECT " USER_COLS " FROM users u "
                                   "WHERE u.tenant_id = ? AND u.external_id = ?"
                                 : "SELECT " USER_COLS " FROM users u "
                                   "WHERE u.tenant_id = ? AND u.external_id = ? "
                                   "AND u.deleted_at IS NULL", args, 2, out, NULL);
}

typedef struct hash_ud {
    char *hash;
    int found;
    gh_result r;
} hash_ud;

static int hash_row(void *vud, const gh_param *cols, uint32_t n)
{
    hash_ud *ud = vud;

    if (n > 0 && col_is_text(&cols[0]))
        ud->found = (ud->r = hash_from_col(&cols[0], ud->hash)) == GH_OK;
    return 1;
}

gh_result users_password_hash(gh_conn *c, gh_call *call, const char *user_id,
                              char hash[GH_PW_HASH_MAX])
{
    hash_ud ud = { hash, 0, GH_OK };
    gh_param arg;
    gh_result r;

    hash[0] = '\0';
    if (user_id == NULL)
        return GH_ERR_NOT_FOUND;
    arg = p_str(user_id);
    r = store_exec(c, call,
                   "SELECT " PASSWORD_SUBQUERY " FROM users u "
                   "WHERE u.id = ? AND u.deleted_at IS NULL", &arg, 1, hash_row, &ud, NULL);
    if (r == GH_OK && ud.r != GH_OK)
        r = call_fail(call, ud.r, "users: the stored password hash is too long");
    if (r == GH_OK && !ud.found)
        r = GH_ERR_NOT_FOUND;
    return r;
}

/* ------------------------------------------------------------ stamps */

void users_stamp_key(char key[USERS_STAMP_KEY_MAX], const char *user_id)
{
    snprintf(key, USERS_STAMP_KEY_MAX, "user:ver:%s", user_id);
}

void users_company_stamp_key(char key[USERS_STAMP_KEY_MAX], const char *tenant)
{
    snprintf(key, USERS_STAMP_KEY_MAX, "users:ver:%s", tenant);
}

/* After a write to the row of id: its cached copies on every instance go
 * stale once it commits. r: the write's result, passed on. */
static gh_result stamp_user(gh_conn *c, gh_call *call, const char *id, gh_result r)
{
    char key[USERS_STAMP_KEY_MAX];

    if (r == GH_OK) {
        users_stamp_key(key, id);
        store_stamp_renew(c, call, key);
    }
    return r;
}

/* -------------------------------------------------------------- update */

/* Touch a live account's updated_at: GH_ERR_NOT_FOUND when there is none. */
static gh_result touch_user(gh_conn *c, gh_call *call, const char *id, int64_t now)
{
    const gh_param args[] = { p_int(&now), p_str(id) };
    int64_t n = 0;
    gh_result r = store_exec(c, call,
                             "UPDATE users SET updated_at = ? WHERE id = ? "
                             "AND deleted_at IS NULL", args, 2, NULL, NULL, &n);

    return stamp_user(c, call, id, r == GH_OK && n == 0 ? GH_ERR_NOT_FOUND : r);
}

/* The old credential goes and a new one takes its place: one password per
 * account, and its created_at says when it was set. */
gh_result users_set_password(gh_conn *c, gh_call *call, const char *user_id, const char *hash)
{
    int64_t now = gh_now_ms();
    gh_param arg;
    gh_result r;

    if (user_id == NULL || !hash_ok(hash))
        return call_fail(call, GH_ERR_INVALID, "users: unusable password hash");
    arg = p_str(user_id);
    if ((r = store_begin(c, call)) != GH_OK)
        return r;
    r = touch_user(c, call, user_id, now);
    if (r == GH_OK)
        r = store_exec(c, call, "DELETE FROM credentials WHERE user_id = ? AND type = 'password'",
                       &arg, 1, NULL, NULL, NULL);
    if (r == GH_OK)
        r = insert_password(c, call, user_id, hash, now);
    if (r == GH_OK)
        return store_commit(c, call);
    store_rollback(c, call);
    return r;
}

/* A "set this field" flag and its value, for the CASE in users_update:
 * NULL leaves the field, "" stores NULL. */
static void field_args(gh_param *args, int64_t *flag, const char *v)
{
    *flag = v != NULL;
    args[0] = p_int(flag);
    args[1] = v != NULL && *v != '\0' ? p_str(v) : (gh_param){ NULL, GH_T_NULL, NULL, 0 };
}

/* One statement whatever is set, so the query text stays fixed. A new
 * address is unverified: email_verified_at is cleared when the normalised
 * address changes (it is assigned first, so every backend compares the old
 * value, which may be a blind index or, not yet moved, the clear form). A
 * phone number set is unverified, even the same one: its stored form may
 * be a ciphertext, which no statement can compare. */
static const char update_sql[] =
    "UPDATE users SET "
    "phone_verified_at = CASE WHEN ? = 1 THEN NULL ELSE phone_verified_at END, "
    "email_verified_at = CASE WHEN ? = 1 AND COALESCE(email_normalized, '') NOT IN (?, ?) "
    "THEN NULL ELSE email_verified_at END, "
    "email = CASE WHEN ? = 1 THEN ? ELSE email END, "
    "email_normalized = CASE WHEN ? = 1 THEN ? ELSE email_normalized END, "
    "username = CASE WHEN ? = 1 THEN ? ELSE username END, "
    "username_normalized = CASE WHEN ? = 1 THEN ? ELSE username_normalized END, "
    "full_name = CASE WHEN ? = 1 THEN ? ELSE full_name END, "
    "phone = CASE WHEN ? = 1 THEN ? ELSE phone END, "
    "given_name = CASE WHEN ? = 1 THEN ? ELSE given_name END, "
    "family_name = CASE WHEN ? = 1 THEN ? ELSE family_name END, "
    "country_code = CASE WHEN ? = 1 THEN ? ELSE country_code END, "
    "updated_at = ? "
    "WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL";

/* The values update_sql writes, as stored (NULL: leave the field). */
typedef struct update_vals {
    const char *email, *email_norm, *email_clear, *username, *user_norm, *prof[P_COUNT];
} update_vals;

static gh_result update_row(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                            const update_vals *v)
{
    int64_t f[5 + P_COUNT], now = gh_now_ms(), changed = 0, phone_set = v->prof[P_PHONE] != NULL;
    gh_param all[15 + 2 * P_COUNT], *a = all + 1;
    gh_result r;

    all[0] = p_int(&phone_set);
    f[0] = v->email != NULL;
    a[0] = p_int(&f[0]);
    a[1] = p_str(v->email_norm ? v->email_norm : "");
    a[2] = p_str(v->email_clear);
    field_args(&a[3], &f[1], v->email);
    field_args(&a[5], &f[2], v->email_norm);
    field_args(&a[7], &f[3], v->username);
    field_args(&a[9], &f[4], v->user_norm);
    for (int i = 0; i < P_COUNT; i++)
        field_args(&a[11 + 2 * i], &f[5 + i], v->prof[i]);
    a[11 + 2 * P_COUNT] = p_int(&now);
    a[12 + 2 * P_COUNT] = p_str(id);
    a[13 + 2 * P_COUNT] = p_str(tenant);
    r = store_exec(c, call, update_sql, all, 15 + 2 * P_COUNT, NULL, NULL, &changed);
    return stamp_user(c, call, id, r == GH_OK && changed == 0 ? GH_ERR_NOT_FOUND : r);
}

gh_result users_mark_phone_verified(gh_conn *c, gh_call *call, const char *tenant,
                                   const char *id, int64_t when)
{
    static const char sql[] = "UPDATE users SET phone_verified_at = ?, updated_at = ?"
                              " WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL";
    int64_t now = gh_now_ms(), changed = 0;
    gh_param a[] = { p_int(&when), p_int(&now), p_str(id), p_str(tenant) };
    gh_result r = store_exec(c, call, sql, a, 4, NULL, NULL, &changed);
    return stamp_user(c, call, id, r == GH_OK && changed == 0 ? GH_ERR_NOT_FOUND : r);
}

gh_result users_update_profile(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                               const gh_profile *p)
{
    char email_n[EMAIL_MAX + 1] = "", user_n[USERNAME_MAX + 1] = "", email_t[EMAIL_MAX + 1] = "";
    char user_t[USERNAME_MAX + 1] = "";
    const char *email = p->email, *username = p->username;
    const char *const prof[P_COUNT] = { p->full_name, p->phone, p->given_name, p->family_name,
                                        p->country_code };
    update_vals v = { 0 };
    at_rest ar;
    gh_result r;

    if (tenant == NULL || id == NULL)
        return GH_ERR_NOT_FOUND;
    if ((email != NULL && email_normalize(email, email_n, sizeof(email_n)) < 0) ||
        (username != NULL && *username != '\0' &&
         username_normalize(username, user_n, sizeof(user_n)) < 0))
        return call_fail(call, GH_ERR_INVALID, "users: invalid email or username");
    if (email != NULL)
        trimmed(email, email_t, sizeof(email_t));
    if (username != NULL && *username != '\0')
        trimmed(username, user_t, sizeof(user_t));
    if (at_rest_make(&ar, id, email_t, strlen(email_t), email_n, user_t, strlen(user_t), user_n,
                     prof) < 0)
        return call_fail(call, GH_ERR_INTERNAL, "users: cannot encrypt the account");
    v.email = email ? stored(ar.email, email_t) : NULL;
    v.email_norm = email ? stored(ar.email_i, email_n) : NULL;
    v.email_clear = email_n;
    v.username = username ? stored(ar.username, user_t) : NULL;
    v.user_norm = username ? stored(ar.user_i, user_n) : NULL;
    for (int i = 0; i < P_COUNT; i++)
        v.prof[i] = prof[i] ? stored(ar.prof[i], prof[i]) : NULL;
    r = taken_in_clear(c, call, tenant, id, email_n, user_n);
    if (r == GH_OK)
        r = update_row(c, call, tenant, id, &v);
    at_rest_free(&ar);
    return r;
}

gh_result users_update(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                       const char *email, const char *username, const char *full_name,
                       const char *phone)
{
    const gh_profile p = { email, username, full_name, phone, NULL, NULL, NULL };

    return users_update_profile(c, call, tenant, id, &p);
}

gh_result users_set_flags(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                          int is_active, int is_admin)
{
    int64_t active = is_active < 0 ? -1 : is_active != 0;
    int64_t admin = is_admin < 0 ? -1 : is_admin != 0;
    int64_t now = gh_now_ms(), changed = 0;
    gh_param args[7];
    gh_result r;

    if (tenant == NULL || id == NULL)
        return GH_ERR_NOT_FOUND;
    args[0] = args[1] = p_int(&active);
    args[2] = args[3] = p_int(&admin);
    args[4] = p_int(&now);
    args[5] = p_str(id);
    args[6] = p_str(tenant);
    if ((r = store_begin(c, call)) != GH_OK)
        return r;
    r = store_exec(c, call,
                   "UPDATE users SET "
                   "is_active = CASE WHEN ? < 0 THEN is_active ELSE ? END, "
                   "is_admin = CASE WHEN ? < 0 THEN is_admin ELSE ? END, "
                   "updated_at = ? WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL",
                   args, 7, NULL, NULL, &changed);
    if (r == GH_OK && changed == 0)
        r = GH_ERR_NOT_FOUND;
    if (r == GH_OK && admin >= 0)
        r = admin_role(c, call, id, (int)admin);
    if (stamp_user(c, call, id, r) == GH_OK)
        return store_commit(c, call);
    store_rollback(c, call);
    return r;
}

gh_result users_mark_verified(gh_conn *c, gh_call *call, const char *id, int64_t at_ms)
{
    int64_t now = gh_now_ms(), changed = 0;
    gh_param args[3];
    gh_result r;

    if (id == NULL)
        return GH_ERR_NOT_FOUND;
    args[0] = p_int(&at_ms);
    args[1] = p_int(&now);
    args[2] = p_str(id);
    r = store_exec(c, call,
                   "UPDATE users SET email_verified_at = ?, updated_at = ? "
                   "WHERE id = ? AND deleted_at IS NULL AND email IS NOT NULL",
                   args, 3, NULL, NULL, &changed);
    return stamp_user(c, call, id, r == GH_OK && changed == 0 ? GH_ERR_NOT_FOUND : r);
}

/* --------------------------------------------------------------- erase */

static gh_result erase_locked(gh_conn *c, gh_call *call, const char *tenant, const char *id)
{
    int64_t now = gh_now_ms(), changed = 0;
    const gh_param args[] = { p_int(&now), p_int(&now), p_str(id), p_str(tenant) };
    gh_result r;

    r = store_exec(c, call,
                   "UPDATE users SET email = NULL, email_normalized = NULL, username = NULL, "
                   "username_normalized = NULL, full_name = NULL, phone = NULL, given_name = NULL, "
                   "family_name = NULL, country_code = NULL, "
                   "email_verified_at = NULL, is_active = 0, is_admin = 0, "
                   "deleted_at = ?, updated_at = ? "
                   "WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL",
                   args, 4, NULL, NULL, &changed);
    if (r != GH_OK)
        return r;
    if (changed == 0)
        return GH_ERR_NOT_FOUND;
    stamp_user(c, call, id, r);
    if ((r = store_exec(c, call, "DELETE FROM credentials WHERE user_id = ?", &args[2], 1,
                        NULL, NULL, NULL)) != GH_OK ||
        (r = store_exec(c, call, "DELETE FROM one_time_tokens WHERE user_id = ?", &args[2], 1,
                        NULL, NULL, NULL)) != GH_OK ||
        /* a provider's account would otherwise sign in to the erased row */
        (r = store_exec(c, call, "DELETE FROM identities WHERE user_id = ?", &args[2], 1,
                        NULL, NULL, NULL)) != GH_OK)
        return r;
    /* The erase does not know the configured access-token life, so the
     * sessions are deny-listed for the longest one the config allows: no
     * access token of theirs outlives that. */
    return session_revoke_all(c, call, id, NULL, "account_deleted", GH_ACCESS_TTL_MAX_MS, NULL);
}

gh_result users_erase(gh_conn *c, gh_call *call, const char *tenant, const char *id)
{
    gh_result r;

    if (tenant == NULL || id == NULL)
        return GH_ERR_NOT_FOUND;
    if ((r = store_begin(c, call)) != GH_OK)
        return r;
    if ((r = erase_locked(c, call, tenant, id)) == GH_OK)
        return store_commit(c, call);
    store_rollback(c, call);
    return r;
}

/* ---------------------------------------------------------------- list */

typedef struct list_ud {
    gh_user *v;
    size_t n, cap;
    gh_result r;
} list_ud;

static int list_row(void *vud, const gh_param *cols, uint32_t n)
{
    list_ud *ud = vud;

    if (n < C_NCOLS) {
        ud->r = GH_ERR_INTERNAL;
        return 1;
    }
    if (ud->n == ud->cap) {
        size_t cap = ud->cap ? ud->cap * 2 : 16;
        gh_user *v = realloc(ud->v, cap * sizeof(*v));

        if (v == NULL) {
            ud->r = GH_ERR_NOMEM;
            return 1;
        }
        ud->v = v;
        ud->cap = cap;
    }
    if ((ud->r = user_from_row(&ud->v[ud->n], cols)) != GH_OK)
        return 1;
    ud->n++;
    return 0;
}

/* "%<filter, lower-cased, with LIKE's wildcards escaped by '!'>%": '!'
 * because a backslash means something else in MySQL string literals. */
static char *like_pattern(const char *filter)
{
    size_t len = strlen(filter);
    char *pat = malloc(2 * len + 3), *o = pat;

    if (pat == NULL)
        return NULL;
    *o++ = '%';
    for (const char *s = filter; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '!')
            *o++ = '!';
        *o++ = (char)ascii_lower((unsigned char)*s);
    }
    *o++ = '%';
    *o = '\0';
    return pat;
}

/* One page of a tenant's live users, filtered by `where` (a fixed SQL
 * fragment, "" for none), and how many match in all. args: the tenant and
 * the fragment's parameters (nargs in all), then limit and offset. Fixed
 * texts per filter rather than one with "? IS NULL OR": PostgreSQL cannot
 * type a parameter seen only there. */
static gh_result list_page(gh_conn *c, gh_call *call, const char *where, const gh_param *args,
                           size_t nargs, list_ud *ud, int64_t *total)
{
    char count_sql[256], page_sql[512];
    gh_result r;

    snprintf(count_sql, sizeof(count_sql),
             "SELECT COUNT(*) FROM users u WHERE u.tenant_id = ? AND u.deleted_at IS NULL%s",
             where);
    snprintf(page_sql, sizeof(page_sql),
             "SELECT " USER_COLS " FROM users u WHERE u.tenant_id = ? "
             "AND u.deleted_at IS NULL%s ORDER BY u.created_at, u.id LIMIT ? OFFSET ?",
             where);
    r = store_exec(c, call, count_sql, args, nargs, row_count, total, NULL);
    if (r == GH_OK)
        r = store_exec(c, call, page_sql, args, nargs + 2, list_row, ud, NULL);
    return r;
}

static void list_free(gh_user *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        user_clear(&v[i]);
    free(v);
}

gh_result users_list(gh_conn *c, gh_call *call, const char *tenant, const char *email_filter,
                     int limit, int offset, gh_user **out, size_t *n, int64_t *total)
{
    int64_t lim = limit <= 0 ? LIST_DEFAULT : limit > LIST_MAX ? LIST_MAX : limit;
    int64_t off = offset < 0 ? 0 : offset, count = 0;
    int filtered = email_filter != NULL && *email_filter != '\0';
    list_ud ud = { NULL, 0, 0, GH_OK };
    char *pat = NULL, norm[EMAIL_MAX + 1], idx[PII_INDEX_LEN];
    int exact = filtered && pii_current() != NULL;
    gh_param args[5];
    size_t k = 0;
    gh_result r;

    *out = NULL;
    *n = 0;
    if (total != NULL)
        *total = 0;
    if (tenant == NULL)
        return GH_ERR_INVALID;
    if (filtered && (strlen(email_filter) > FILTER_MAX ||
                     !utf8_valid((const unsigned char *)email_filter, strlen(email_filter))))
        return call_fail(call, GH_ERR_INVALID, "users: invalid email filter");
    if (exact && (email_normalize(email_filter, norm, sizeof(norm)) < 0 ||
                  lookup_args(args, tenant, "email", norm, idx) < 0))
        return call_fail(call, GH_ERR_INVALID, USERS_FILTER_EXACT);
    if (filtered && !exact && (pat = like_pattern(email_filter)) == NULL)
        return call_fail(call, GH_ERR_NOMEM, "users: out of memory");
    k = exact ? 3 : 0;
    if (!exact)
        args[k++] = p_str(tenant);
    if (pat != NULL)
        args[k++] = p_str(pat);
    args[k++] = p_int(&lim);
    args[k++] = p_int(&off);
    /* with encryption on, a stored address is a blind index: only a whole
     * address can match (by its index, or clear while not yet moved) */
    if (exact)
        r = list_page(c, call, " AND u.email_normalized IN (?, ?)", args, 3, &ud, &count);
    else if (filtered)
        r = list_page(c, call, " AND u.email_normalized LIKE ? ESCAPE '!'", args, 2, &ud, &count);
    else
        r = list_page(c, call, "", args, 1, &ud, &count);
    free(pat);
    if (r == GH_OK && ud.r != GH_OK)
        r = call_fail(call, ud.r, "users: reading the list failed");
    if (r != GH_OK) {
        list_free(ud.v, ud.n);
        return r;
    }
    *out = ud.v;
    *n = ud.n;
    if (total != NULL)
        *total = count;
    return GH_OK;
}

gh_result users_count_admins(gh_conn *c, gh_call *call, const char *tenant, int64_t *n)
{
    gh_param arg;

    *n = 0;
    if (tenant == NULL)
        return GH_ERR_INVALID;
    arg = p_str(tenant);
    /* active ones: a deactivated admin cannot act, so does not count as
     * "an admin exists" (bootstrap) or as "not the last admin" */
    return store_exec(c, call,
                      "SELECT COUNT(*) FROM users WHERE tenant_id = ? AND is_admin = 1 "
                      "AND is_active = 1 AND deleted_at IS NULL",
                      &arg, 1, row_count, n, NULL);
}

int uuid_valid(const char *s)
{
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return 0; /* a NUL stops here too: nothing past it is read */
    }
    return s[36] == '\0';
}
