/*
 * users_crypt.c - rewrite the accounts' personal fields under the newest
 * encryption key (or back to clear text), a batch of rows at a time.
 *
 * Rows are walked in id order, so a run that stops (Ctrl-C, a crash, a
 * lost database) loses at most its open batch, which rolls back; running
 * again reads every row once more and rewrites only those not yet where
 * they should be. A row is rewritten only if its updated_at is still what
 * was read: a change the daemon made meanwhile (written under the newest
 * key anyway) is never overwritten with older values.
 */
#include <stdlib.h>
#include <string.h>
#include "auth/users.h"
#include "auth/users_crypt.h"
#include "log.h"
#include "store/row.h"

#define BATCH_MAX 1000

#define ROW_COLS                                                              \
    "id, email, email_normalized, username, username_normalized, full_name, " \
    "phone, given_name, family_name, country_code, updated_at"
enum { R_ID, R_EMAIL, R_EMAIL_N, R_USERNAME, R_USER_N, R_FULL_NAME, R_PHONE, R_GIVEN, R_FAMILY,
       R_COUNTRY, R_UPDATED, R_NCOLS };
#define NFIELDS (R_COUNTRY - R_EMAIL + 1)

/* the AAD column of each field; NULL for the blind index columns */
static const char *const aad_col[NFIELDS] = {
    "users.email", NULL, "users.username", NULL, "users.full_name", "users.phone",
    "users.given_name", "users.family_name", "users.country_code",
};

typedef struct pii_row {
    char id[37];
    char *v[NFIELDS];       /* R_EMAIL.. as stored, NULL for SQL NULL */
    int64_t updated;
} pii_row;

/* What a row holds, as flags. */
enum { HAS_ANY = 1, HAS_CLEAR = 2, HAS_OLD = 4, HAS_SEALED = 8 };

static int row_flags(const pii_row *r, const char *newest)
{
    char kid[PII_KID_MAX + 1];
    int fl = 0;

    for (int i = 0; i < NFIELDS; i++) {
        const char *v = r->v[i];

        if (v == NULL)
            continue;
        fl |= HAS_ANY;
        if (aad_col[i] == NULL) {
            fl |= pii_is_index(v) ? HAS_SEALED : HAS_CLEAR;
        } else if (!pii_is_encrypted(v)) {
            fl |= HAS_CLEAR;
        } else {
            fl |= HAS_SEALED;
            if (newest == NULL || pii_kid_of(v, kid) < 0 || strcmp(kid, newest) != 0)
                fl |= HAS_OLD;
        }
    }
    return fl;
}

static void row_clear(pii_row *r)
{
    for (int i = 0; i < NFIELDS; i++)
        free(r->v[i]);
    memset(r, 0, sizeof(*r));
}

static int row_read(pii_row *r, const gh_param *cols, uint32_t n)
{
    memset(r, 0, sizeof(*r));
    if (n < R_NCOLS)
        return -1;
    col_copy(&cols[R_ID], r->id, sizeof(r->id));
    r->updated = col_int(&cols[R_UPDATED]);
    for (int i = 0; i < NFIELDS; i++)
        if (col_dup(&cols[R_EMAIL + i], &r->v[i]) < 0) {
            row_clear(r);
            return -1;
        }
    return 0;
}

/* ---------------------------------------------------------------- status */

typedef struct status_ud {
    const char *newest;
    users_pii_status *st;
    int oom;
} status_ud;

static int status_row(void *vud, const gh_param *cols, uint32_t n)
{
    status_ud *ud = vud;
    pii_row r;
    int fl;

    if (row_read(&r, cols, n) < 0) {
        ud->oom = 1;
        return 1;
    }
    fl = row_flags(&r, ud->newest);
    row_clear(&r);
    if (!(fl & HAS_ANY))
        ud->st->erased++;
    else if (fl & HAS_CLEAR)
        ud->st->clear++;
    else if (fl & HAS_OLD)
        ud->st->old_key++;
    else
        ud->st->newest++;
    return 0;
}

gh_result users_pii_status_get(gh_conn *c, gh_call *call, const gh_pii *p,
                               users_pii_status *st)
{
    status_ud ud = { pii_newest_kid(p), st, 0 };
    gh_result r;

    memset(st, 0, sizeof(*st));
    r = store_exec(c, call, "SELECT " ROW_COLS " FROM users", NULL, 0, status_row, &ud, NULL);
    if (r == GH_OK && ud.oom)
        r = call_fail(call, GH_ERR_NOMEM, "reencrypt: out of memory");
    return r;
}

/* ---------------------------------------------------------------- one row */

/* The clear text of every field of r into out (NULL where r has none);
 * the blind index columns are left NULL: they are made from the clear
 * email and username. */
static int open_row(const gh_pii *p, const pii_row *r, char *out[NFIELDS])
{
    const char *why = "";

    memset(out, 0, NFIELDS * sizeof(*out));
    for (int i = 0; i < NFIELDS; i++) {
        if (aad_col[i] == NULL || r->v[i] == NULL)
            continue;
        if (pii_decrypt(p, aad_col[i], r->id, r->v[i], &out[i], &why) < 0) {
            gh_log(GH_LOG_ERROR, "reencrypt: %s of user %s: %s", aad_col[i], r->id, why);
            return -1;
        }
    }
    return 0;
}

/* The index columns of clear values: normalised, then (to a key) indexed. */
static int make_index(const gh_pii *p, const char *domain, const char *clear, char **out)
{
    char norm[256], idx[PII_INDEX_LEN];
    int rc = strcmp(domain, "email") == 0 ? email_normalize(clear, norm, sizeof(norm))
                                          : username_normalize(clear, norm, sizeof(norm));

    if (rc < 0 || (p != NULL && pii_blind_index(p, domain, norm, idx) < 0))
        return -1;
    return (*out = strdup(p != NULL ? idx : norm)) != NULL ? 0 : -1;
}

/* The stored form of every field: p NULL means clear text. */
static int seal_row(const gh_pii *p, const char *id, char *v[NFIELDS])
{
    const char *why = "";

    if ((v[R_EMAIL - 1] && make_index(p, "email", v[R_EMAIL - 1], &v[R_EMAIL_N - 1]) < 0) ||
        (v[R_USERNAME - 1] &&
         make_index(p, "username", v[R_USERNAME - 1], &v[R_USER_N - 1]) < 0)) {
        gh_log(GH_LOG_ERROR, "reencrypt: user %s: an address or username does not normalise",
               id);
        return -1;
    }
    for (int i = 0; p != NULL && i < NFIELDS; i++) {
        char *sealed;

        if (aad_col[i] == NULL || v[i] == NULL)
            continue;
        if ((sealed = pii_encrypt(p, aad_col[i], id, v[i], strlen(v[i]), &why)) == NULL) {
            gh_log(GH_LOG_ERROR, "reencrypt: %s of user %s: %s", aad_col[i], id, why);
            return -1;
        }
        free(v[i]);
        v[i] = sealed;
    }
    return 0;
}

static void fields_free(char *v[NFIELDS])
{
    for (int i = 0; i < NFIELDS; i++)
        free(v[i]);
}

/* 0 rewritten, 1 raced, -1 failed (logged); a store error in *res. */
static int rewrite(gh_conn *c, gh_call *call, const gh_pii *p, int to_clear, const pii_row *r,
                   gh_result *res)
{
    char *v[NFIELDS];
    int64_t changed = 0;
    int rc = -1;

    *res = GH_OK;
    if (open_row(p, r, v) == 0 && seal_row(to_clear ? NULL : p, r->id, v) == 0) {
        const gh_param args[] = {
            p_opt(v[0]), p_opt(v[1]), p_opt(v[2]), p_opt(v[3]), p_opt(v[4]), p_opt(v[5]),
            p_opt(v[6]), p_opt(v[7]), p_opt(v[8]), p_str(r->id), p_int(&r->updated),
        };
        *res = store_exec(c, call,
                          "UPDATE users SET email = ?, email_normalized = ?, username = ?, "
                          "username_normalized = ?, full_name = ?, phone = ?, given_name = ?, "
                          "family_name = ?, country_code = ? "
                          "WHERE id = ? AND updated_at = ?", args,
                          sizeof(args) / sizeof(args[0]), NULL, NULL, &changed);
        if (*res == GH_ERR_CONFLICT) {
            gh_log(GH_LOG_ERROR, "reencrypt: user %s: its address or username is taken by "
                   "another row in clear text", r->id);
            *res = GH_OK;
        } else {
            rc = *res != GH_OK ? -1 : changed == 0 ? 1 : 0;
        }
    }
    fields_free(v);
    return rc;
}

/* ---------------------------------------------------------------- batches */

typedef struct batch_ud {
    pii_row *rows;
    int n, cap, oom;
} batch_ud;

static int batch_row(void *vud, const gh_param *cols, uint32_t n)
{
    batch_ud *ud = vud;

    if (ud->n == ud->cap || row_read(&ud->rows[ud->n], cols, n) < 0) {
        ud->oom = ud->n < ud->cap;
        return 1;
    }
    ud->n++;
    return 0;
}

static gh_result read_batch(gh_conn *c, gh_call *call, const char *after, int64_t size,
                            batch_ud *ud)
{
    const gh_param args[] = { p_str(after), p_int(&size) };
    gh_result r = store_exec(c, call,
                             "SELECT " ROW_COLS " FROM users WHERE id > ? "
                             "ORDER BY id LIMIT ?", args, 2, batch_row, ud, NULL);

    if (r == GH_OK && ud->oom)
        r = call_fail(call, GH_ERR_NOMEM, "reencrypt: out of memory");
    return r;
}

static gh_result move_rows(gh_conn *c, gh_call *call, const gh_pii *p, users_pii_batch *b,
                           const batch_ud *ud)
{
    const char *newest = pii_newest_kid(p);
    gh_result res = GH_OK;

    for (int i = 0; i < ud->n && res == GH_OK; i++) {
        int fl = row_flags(&ud->rows[i], newest);
        int due = b->to_clear ? (fl & HAS_SEALED) : (fl & (HAS_CLEAR | HAS_OLD));

        if (due) {
            int rc = rewrite(c, call, p, b->to_clear, &ud->rows[i], &res);

            b->moved += rc == 0;
            b->raced += rc == 1;
            b->failed += rc < 0 && res == GH_OK;
        }
    }
    return res;
}

gh_result users_pii_move(gh_conn *c, gh_call *call, const gh_pii *p, users_pii_batch *b)
{
    int size = b->size < 1 ? 1 : b->size > BATCH_MAX ? BATCH_MAX : b->size;
    batch_ud ud = { calloc((size_t)size, sizeof(pii_row)), 0, size, 0 };
    gh_result r;

    b->seen = b->moved = b->raced = b->failed = 0;
    if (ud.rows == NULL)
        return call_fail(call, GH_ERR_NOMEM, "reencrypt: out of memory");
    if ((r = store_begin(c, call)) == GH_OK) {
        r = read_batch(c, call, b->after, size, &ud);
        if (r == GH_OK)
            r = move_rows(c, call, p, b, &ud);
        if (r == GH_OK)
            r = store_commit(c, call);
        else
            store_rollback(c, call);
    }
    if (r == GH_OK) {
        b->seen = ud.n;
        if (ud.n > 0)
            memcpy(b->after, ud.rows[ud.n - 1].id, sizeof(b->after));
    }
    for (int i = 0; i < ud.n; i++)
        row_clear(&ud.rows[i]);
    free(ud.rows);
    return r;
}
