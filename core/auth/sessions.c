/*
 * sessions.c - login sessions, their rotating refresh tokens, and the
 * deny-list that stops a revoked session's access tokens everywhere.
 *
 * A refresh token is stored only as its SHA-256 digest, one row per token
 * (refresh_tokens, schema v2). Rotation marks the presented row used and
 * adds the next one, inside one transaction, so presenting a used token is
 * recognised as what it is, a copy in someone else's hands, and revokes the
 * whole session family.
 *
 * Access tokens are checked without the database: revoking a session puts
 * "deny:sid:<id>" in kv (shared by every instance) for the life of an
 * access token, and the token check asks kv. With the SQL store as kv the
 * deny-list write is part of the revoking transaction; with Redis it is
 * written before the commit, so a failed commit errs on the side of denying.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "auth/sessions.h"
#include "clock.h"
#include "store/row.h"

#define DENY_KEY_MAX TOKEN_DENY_KEY_MAX
#define STR_(x) #x
#define STR(x) STR_(x)

#define SESSION_COLS                                                          \
    "s.id, s.user_id, s.tenant_id, s.user_agent, s.ip, s.created_at, "        \
    "s.last_used_at, s.expires_at, s.revoked_at"
enum { S_ID, S_USER, S_TENANT, S_UA, S_IP, S_CREATED, S_USED, S_EXPIRES, S_REVOKED, S_NCOLS };

/* ------------------------------------------------------ values, columns */

static void session_from_row(gh_session *s, const gh_param *cols)
{
    memset(s, 0, sizeof(*s));
    col_copy(&cols[S_ID], s->id, sizeof(s->id));
    col_copy(&cols[S_USER], s->user_id, sizeof(s->user_id));
    col_copy(&cols[S_TENANT], s->tenant_id, sizeof(s->tenant_id));
    col_copy(&cols[S_UA], s->user_agent, sizeof(s->user_agent));
    col_copy(&cols[S_IP], s->ip, sizeof(s->ip));
    s->created_at = col_int(&cols[S_CREATED]);
    s->last_used_at = col_int(&cols[S_USED]);
    s->expires_at = col_int(&cols[S_EXPIRES]);
    s->revoked_at = col_int(&cols[S_REVOKED]);
}

/* ---------------------------------------------------------- device text */

/* Length of the valid UTF-8 character at s (at most n bytes), 0 if none. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
    size_t k;
    uint32_t cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        k = 1, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        k = 2, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        k = 3, cp = s[0] & 0x07;
    else
        return 0;
    if (n <= k)
        return 0;
    for (size_t j = 1; j <= k; j++) {
        if ((s[j] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[j] & 0x3f);
    }
    if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return k + 1;
}

void device_text_clip(char *dst, size_t dstlen, const char *src)
{
    const unsigned char *s = (const unsigned char *)(src ? src : "");
    size_t n = strlen((const char *)s), o = 0;

    if (dstlen == 0)
        return;
    while (n > 0) {
        size_t k = utf8_char(s, n);

        if (k == 0 || (k == 1 && (*s < 0x20 || *s == 0x7f))) {
            if (o + 1 >= dstlen)
                break;
            dst[o++] = '?';
            s++, n--;
            continue;
        }
        if (o + k >= dstlen)
            break;
        memcpy(dst + o, s, k);
        o += k;
        s += k;
        n -= k;
    }
    dst[o] = '\0';
}

/* ------------------------------------------------------------ deny-list */

static gh_result deny(gh_conn *c, gh_call *call, const char *prefix, const char *id,
                      int64_t ttl_ms)
{
    char key[DENY_KEY_MAX];

    if (id == NULL || *id == '\0' || strlen(id) >= DENY_KEY_MAX - strlen(prefix))
        return call_fail(call, GH_ERR_INVALID, "deny-list: unusable id");
    snprintf(key, sizeof(key), "%s%s", prefix, id);
    /* never forever: an entry outliving every token it could stop is a leak */
    if (ttl_ms <= 0 || ttl_ms > GH_ACCESS_TTL_MAX_MS)
        ttl_ms = GH_ACCESS_TTL_MAX_MS;
    /* ttl_ms runs to the token's exp, but every instance accepts it for
     * the leeway past exp: were the entry gone before, the token would
     * work again. */
    return store_kv_set(c, call, key, "1", 1, ttl_ms + GH_DENY_GRACE_MS, 0);
}

gh_result token_deny(gh_conn *c, gh_call *call, const char *jti, int64_t exp_s)
{
    /* at least 1 ms: a token past exp but inside the leeway is still live */
    int64_t left_ms = exp_s * 1000 - gh_now_ms();
    return deny(c, call, "deny:jti:", jti, left_ms > 0 ? left_ms : 1);
}

/* The deny-list key for id into key, or 0 when id cannot be ours (empty,
 * or too long: not denied, and it cannot have come from a token we
 * signed). */
static int deny_key(char key[DENY_KEY_MAX], const char *prefix, const char *id)
{
    size_t p = strlen(prefix), n = id ? strlen(id) : 0;
    if (n == 0 || p + n >= DENY_KEY_MAX)
        return 0;
    /* two of these on every authenticated request: not snprintf */
    memcpy(key, prefix, p);
    memcpy(key + p, id, n + 1);
    return 1;
}

size_t token_deny_keys(const char *sid, const char *jti, char keys[2][TOKEN_DENY_KEY_MAX])
{
    size_t n = deny_key(keys[0], "deny:sid:", sid);
    return n + (size_t)deny_key(keys[n], "deny:jti:", jti);
}

/* 1 denied, 0 not, -1 kv failed. Both keys in one kv question: this runs
 * on every authenticated request. */
int token_denied(gh_conn *c, gh_call *call, const char *sid, const char *jti)
{
    char ks[DENY_KEY_MAX], kj[DENY_KEY_MAX];
    int has_s = deny_key(ks, "deny:sid:", sid), has_j = deny_key(kj, "deny:jti:", jti);
    gh_result r;

    if (!has_s && !has_j)
        return 0;
    r = store_kv_any(c, call, has_s ? ks : kj, has_j ? kj : ks);
    return r == GH_OK ? 1 : r == GH_ERR_NOT_FOUND ? 0 : -1;
}

/* ----------------------------------------------------------- revoking */

/* Revoke one session (if it is not already) and deny-list it. */
static gh_result revoke_id(gh_conn *c, gh_call *call, const char *id, const char *reason,
                           int64_t now, int64_t deny_ttl_ms)
{
    const gh_param args[] = { p_int(&now), p_str(reason), p_str(id) };
    gh_result r = store_exec(c, call,
                             "UPDATE sessions SET revoked_at = ?, revoke_reason = ? "
                             "WHERE id = ? AND revoked_at IS NULL", args, 3, NULL, NULL, NULL);

    return r == GH_OK ? deny(c, call, "deny:sid:", id, deny_ttl_ms) : r;
}

typedef struct ids_ud {
    char (*v)[37];
    size_t n, cap;
    gh_result r;
} ids_ud;

static int id_row(void *vud, const gh_param *cols, uint32_t n)
{
    ids_ud *ud = vud;

    if (ud->n == ud->cap) {
        size_t cap = ud->cap ? ud->cap * 2 : 8;
        char (*v)[37] = realloc(ud->v, cap * sizeof(*v));

        if (v == NULL) {
            ud->r = GH_ERR_NOMEM;
            return 1;
        }
        ud->v = v;
        ud->cap = cap;
    }
    if (n > 0)
        col_copy(&cols[0], ud->v[ud->n++], sizeof(ud->v[0]));
    return 0;
}

/* Revoke every session the query (one id column) selects; the caller
 * holds the transaction. The ids are collected first: the updates must
 * not run while the select's statement is still stepping. */
static gh_result revoke_selected(gh_conn *c, gh_call *call, const char *sql,
                                 const gh_param *args, size_t nargs, const char *reason,
                                 int64_t deny_ttl_ms, int64_t *count)
{
    ids_ud ud = { NULL, 0, 0, GH_OK };
    int64_t now = gh_now_ms();
    gh_result r = store_exec(c, call, sql, args, nargs, id_row, &ud, NULL);

    if (r == GH_OK && ud.r != GH_OK)
        r = call_fail(call, ud.r, "sessions: out of memory");
    for (size_t i = 0; r == GH_OK && i < ud.n; i++)
        r = revoke_id(c, call, ud.v[i], reason, now, deny_ttl_ms);
    if (r == GH_OK && count != NULL)
        *count = (int64_t)ud.n;
    free(ud.v);
    return r;
}

/* The end of every transaction here: commit what went well, else roll
 * back (which, nested in a caller's transaction, dooms that one too). */
static gh_result finish_tx(gh_conn *c, gh_call *call, gh_result r)
{
    if (r == GH_OK)
        return store_commit(c, call);
    store_rollback(c, call);
    return r;
}

gh_result session_revoke(gh_conn *c, gh_call *call, const char *user_id, const char *id,
                         const char *reason, int64_t deny_ttl_ms)
{
    int64_t now = gh_now_ms(), changed = 0;
    gh_param args[5];
    gh_result r;

    if (id == NULL)
        return GH_ERR_NOT_FOUND;
    args[0] = p_int(&now);
    args[1] = p_str(reason ? reason : "revoked");
    args[2] = p_str(id);
    args[3] = p_int(&now);
    if (user_id != NULL)
        args[4] = p_str(user_id);
    if ((r = store_begin(c, call)) != GH_OK)
        return r;
    if (user_id != NULL)
        r = store_exec(c, call,
                       "UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ? "
                       "AND revoked_at IS NULL AND expires_at > ? AND user_id = ?",
                       args, 5, NULL, NULL, &changed);
    else
        r = store_exec(c, call,
                       "UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ? "
                       "AND revoked_at IS NULL AND expires_at > ?",
                       args, 4, NULL, NULL, &changed);
    if (r == GH_OK && changed == 0)
        r = GH_ERR_NOT_FOUND;
    if (r == GH_OK)
        r = deny(c, call, "deny:sid:", id, deny_ttl_ms);
    return finish_tx(c, call, r);
}

/* Revoke every live session whose `col` (user_id or tenant_id: ours, never
 * input) is value, but except. A session that expired less than an
 * access-token life ago may still have live access tokens (issued just
 * before it ended): it is revoked and deny-listed too, and counted. */
static gh_result revoke_where(gh_conn *c, gh_call *call, const char *col, const char *value,
                              const char *except, const char *reason, int64_t deny_ttl_ms,
                              int64_t *count)
{
    int64_t ttl = deny_ttl_ms > 0 && deny_ttl_ms < GH_ACCESS_TTL_MAX_MS ? deny_ttl_ms
                                                                       : GH_ACCESS_TTL_MAX_MS;
    /* ended within a token life and the leeway: its tokens may be live */
    int64_t since = gh_now_ms() - ttl - GH_DENY_GRACE_MS;
    gh_param args[3];
    char sql[160];
    gh_result r;

    if (count != NULL)
        *count = 0;
    if (value == NULL)
        return GH_ERR_INVALID;
    args[0] = p_str(value);
    args[1] = p_int(&since);
    if (except != NULL)
        args[2] = p_str(except);
    snprintf(sql, sizeof sql, "SELECT id FROM sessions WHERE %s = ? AND revoked_at IS NULL "
             "AND expires_at > ?%s", col, except != NULL ? " AND id <> ?" : "");
    if ((r = store_begin(c, call)) != GH_OK)
        return r;
    r = revoke_selected(c, call, sql, args, except != NULL ? 3 : 2,
                        reason != NULL ? reason : "revoked", ttl, count);
    return finish_tx(c, call, r);
}

gh_result session_revoke_all(gh_conn *c, gh_call *call, const char *user_id, const char *except,
                             const char *reason, int64_t deny_ttl_ms, int64_t *count)
{
    return revoke_where(c, call, "user_id", user_id, except, reason, deny_ttl_ms, count);
}

gh_result session_revoke_tenant(gh_conn *c, gh_call *call, const char *tenant_id,
                                const char *reason, int64_t deny_ttl_ms, int64_t *count)
{
    return revoke_where(c, call, "tenant_id", tenant_id, NULL, reason, deny_ttl_ms, count);
}

/* -------------------------------------------------------------- create */

static gh_result insert_token(gh_conn *c, gh_call *call, const char *session_id,
                              char refresh[GH_SECRET_LEN], int64_t now)
{
    char digest[GH_DIGEST_LEN];
    gh_param args[3];

    if (secret_new(refresh) != 0)
        return call_fail(call, GH_ERR_INTERNAL, "sessions: no randomness");
    secret_digest(refresh, digest);
    args[0] = p_str(digest);
    args[1] = p_str(session_id);
    args[2] = p_int(&now);
    /* a fresh 256-bit digest takes no key anyone holds: deferred, it goes
     * with the transaction's next statement */
    return store_exec_deferred(c, call,
                               "INSERT INTO refresh_tokens (token_hash, session_id, created_at) "
                               "VALUES (?, ?, ?)", args, 3);
}

static gh_result insert_session(gh_conn *c, gh_call *call, const gh_session *s)
{
    /* a new session is its own family; v1's refresh_hash stays NULL */
    const gh_param args[] = {
        p_str(s->id), p_str(s->user_id), p_str(s->tenant_id), p_str(s->id),
        p_opt_empty(s->user_agent), p_opt_empty(s->ip), p_int(&s->created_at), p_int(&s->last_used_at),
        p_int(&s->expires_at),
    };

    return store_exec(c, call,
                      "INSERT INTO sessions (id, user_id, tenant_id, family_id, user_agent, ip, "
                      "created_at, last_used_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      args, 9, NULL, NULL, NULL);
}

gh_result session_create(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                         const char *user_agent, const char *ip, int64_t ttl_ms,
                         gh_session *out, char refresh[GH_SECRET_LEN])
{
    int64_t now = gh_now_ms();
    gh_result r;

    memset(out, 0, sizeof(*out));
    refresh[0] = '\0';
    if (tenant == NULL || user_id == NULL || ttl_ms <= 0 ||
        strlen(tenant) >= sizeof(out->tenant_id) || strlen(user_id) >= sizeof(out->user_id))
        return call_fail(call, GH_ERR_INVALID, "sessions: bad session parameters");
    uuid_new(out->id);
    strcpy(out->user_id, user_id);
    strcpy(out->tenant_id, tenant);
    device_text_clip(out->user_agent, sizeof(out->user_agent), user_agent);
    device_text_clip(out->ip, sizeof(out->ip), ip);
    out->created_at = out->last_used_at = now;
    out->expires_at = ttl_ms > INT64_MAX - now ? INT64_MAX : now + ttl_ms;
    if ((r = store_begin(c, call)) != GH_OK)
        return r;
    r = insert_session(c, call, out);
    if (r == GH_OK)
        r = insert_token(c, call, out->id, refresh, now);
    if ((r = finish_tx(c, call, r)) != GH_OK) {
        memset(refresh, 0, GH_SECRET_LEN);
        memset(out, 0, sizeof(*out));
    }
    return r;
}

/* ------------------------------------------------------------- refresh */

typedef struct token_row {
    gh_session s;
    char family[37];
    int64_t used_at;
    int found;
} token_row;

/* SESSION_COLS, then used_at and family_id */
static int token_row_cb(void *vud, const gh_param *cols, uint32_t n)
{
    token_row *t = vud;

    if (n < S_NCOLS + 2)
        return 1;
    session_from_row(&t->s, cols);
    t->used_at = col_int(&cols[S_NCOLS]);
    col_copy(&cols[S_NCOLS + 1], t->family, sizeof(t->family));
    t->found = 1;
    return 1;
}

static gh_result find_token(gh_conn *c, gh_call *call, const char *digest, token_row *t)
{
    gh_param arg = p_str(digest);

    memset(t, 0, sizeof(*t));
    return store_exec(c, call,
                      "SELECT " SESSION_COLS ", rt.used_at, s.family_id "
                      "FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id "
                      "WHERE rt.token_hash = ?", &arg, 1, token_row_cb, t, NULL);
}

/* A used token came back: whoever holds it is not (only) the client it was
 * issued to. The whole family goes, and stays deny-listed while any access
 * token of it can live. */
static gh_result revoke_family(gh_conn *c, gh_call *call, const char *family,
                               int64_t deny_ttl_ms)
{
    gh_param arg = p_str(family);

    return revoke_selected(c, call,
                           "SELECT id FROM sessions WHERE family_id = ? AND revoked_at IS NULL",
                           &arg, 1, "refresh_token_reused", deny_ttl_ms, NULL);
}

/* Mark the presented token used; 0 rows means another refresh got there
 * first (on backends that do not serialise the whole transaction). */
static gh_result mark_used(gh_conn *c, gh_call *call, const char *digest, int64_t now,
                           int *won)
{
    const gh_param args[] = { p_int(&now), p_str(digest) };
    int64_t changed = 0;
    gh_result r = store_exec(c, call,
                             "UPDATE refresh_tokens SET used_at = ? "
                             "WHERE token_hash = ? AND used_at IS NULL",
                             args, 2, NULL, NULL, &changed);

    *won = changed == 1;
    return r;
}

/* The select and the spend in one statement (PostgreSQL, which returns
 * rows from an UPDATE joined to another table): the token is marked used
 * only when it is unused and its session live, and comes back with its
 * session, as find_token would have read it. No row: it was not
 * spendable, or a concurrent spend of it committed first (the row lock
 * makes the second UPDATE wait, then see used_at set); the caller reads
 * the row again to say which. */
static gh_result spend_token(gh_conn *c, gh_call *call, const char *digest, int64_t now,
                             int64_t idle_ms, token_row *t)
{
    /* live while its last use is later than this */
    int64_t idle_since = idle_ms > 0 ? now - idle_ms : INT64_MIN;
    const gh_param args[] = { p_int(&now), p_str(digest), p_int(&now), p_int(&idle_since) };

    memset(t, 0, sizeof(*t));
    return store_exec(c, call,
                      "UPDATE refresh_tokens rt SET used_at = ? FROM sessions s "
                      "WHERE rt.token_hash = ? AND rt.used_at IS NULL AND s.id = rt.session_id "
                      "AND s.revoked_at IS NULL AND s.expires_at > ? AND CASE WHEN "
                      "s.last_used_at > 0 THEN s.last_used_at ELSE s.created_at END > ? "
                      "RETURNING " SESSION_COLS ", CAST(NULL AS BIGINT), s.family_id",
                      args, 4, token_row_cb, t, NULL);
}

static gh_result touch_session(gh_conn *c, gh_call *call, gh_session *s, const char *user_agent,
                               const char *ip, int64_t now)
{
    gh_param args[4];

    /* a NULL device string keeps what the session had */
    if (user_agent != NULL)
        device_text_clip(s->user_agent, sizeof(s->user_agent), user_agent);
    if (ip != NULL)
        device_text_clip(s->ip, sizeof(s->ip), ip);
    s->last_used_at = now;
    args[0] = p_int(&now);
    args[1] = p_opt_empty(s->user_agent);
    args[2] = p_opt_empty(s->ip);
    args[3] = p_str(s->id);
    return store_exec_deferred(c, call,
                               "UPDATE sessions SET last_used_at = ?, user_agent = ?, ip = ? "
                               "WHERE id = ?", args, 4);
}

/* *outcome REUSED: the family is revoked and deny-listed. */
static gh_result reused(gh_conn *c, gh_call *call, const token_row *t, int64_t deny_ttl_ms,
                        int64_t now, gh_session *out, gh_refresh_outcome *outcome)
{
    gh_result r = revoke_family(c, call, t->family, deny_ttl_ms);

    *outcome = GH_REFRESH_REUSED;
    if (r == GH_OK && out->revoked_at == 0)
        out->revoked_at = now;
    return r;
}

/* Why the token read into t cannot be spent now, or GH_REFRESH_OK. */
static gh_refresh_outcome unspendable(const token_row *t, int64_t now, int64_t idle_ms)
{
    if (!t->found)
        return GH_REFRESH_UNKNOWN;
    if (t->used_at != 0)
        return GH_REFRESH_REUSED;
    if (t->s.revoked_at != 0)
        return GH_REFRESH_REVOKED;
    int64_t last = t->s.last_used_at > 0 ? t->s.last_used_at : t->s.created_at;
    if (t->s.expires_at <= now || (idle_ms > 0 && last + idle_ms <= now))
        return GH_REFRESH_EXPIRED;
    return GH_REFRESH_OK;
}

/* Read the token into t (and *out) and say in *outcome whether it can be
 * spent now; a reuse has revoked the family by the return. */
static gh_result judge_token(gh_conn *c, gh_call *call, const char *digest, int64_t now,
                             int64_t idle_ms, int64_t deny_ttl_ms, token_row *t,
                             gh_session *out, gh_refresh_outcome *outcome)
{
    gh_result r = find_token(c, call, digest, t);

    if (r != GH_OK)
        return r;
    *out = t->s;
    if ((*outcome = unspendable(t, now, idle_ms)) == GH_REFRESH_REUSED)
        return reused(c, call, t, deny_ttl_ms, now, out, outcome);
    return GH_OK;
}

/* Read the token, then spend it: two statements, for backends that cannot
 * return rows from an UPDATE of a join. *won: the spend was ours; else
 * *outcome says why not (and a reuse has revoked the family). */
static gh_result select_then_spend(gh_conn *c, gh_call *call, const char *digest, int64_t now,
                                   int64_t idle_ms, int64_t deny_ttl_ms, token_row *t,
                                   gh_session *out, gh_refresh_outcome *outcome, int *won)
{
    gh_result r;

    *won = 0;
    if ((r = judge_token(c, call, digest, now, idle_ms, deny_ttl_ms, t, out, outcome)) != GH_OK ||
        *outcome != GH_REFRESH_OK)
        return r;
    if ((r = mark_used(c, call, digest, now, won)) != GH_OK || *won)
        return r;
    return reused(c, call, t, deny_ttl_ms, now, out, outcome);
}

/* The same in one statement when all goes well (spend_token), and a read
 * of the row only when it does not, to tell reuse from the rest. */
static gh_result spend_then_select(gh_conn *c, gh_call *call, const char *digest, int64_t now,
                                   int64_t idle_ms, int64_t deny_ttl_ms, token_row *t,
                                   gh_session *out, gh_refresh_outcome *outcome, int *won)
{
    gh_result r;

    *won = 0;
    if ((r = spend_token(c, call, digest, now, idle_ms, t)) != GH_OK)
        return r;
    if (t->found) {
        *out = t->s;
        *won = 1;
        return GH_OK;
    }
    if ((r = judge_token(c, call, digest, now, idle_ms, deny_ttl_ms, t, out, outcome)) != GH_OK)
        return r;
    /* spendable now, yet the spend matched nothing: only a change between
     * the two statements could do it; refuse rather than guess */
    if (*outcome == GH_REFRESH_OK)
        return call_fail(call, GH_ERR_CONFLICT, "sessions: the refresh token changed meanwhile");
    return GH_OK;
}

static gh_result refresh_locked(gh_conn *c, gh_call *call, const char *digest,
                                const char *user_agent, const char *ip, int64_t deny_ttl_ms,
                                int64_t idle_ms, gh_session *out,
                                char new_refresh[GH_SECRET_LEN], gh_refresh_outcome *outcome)
{
    int64_t now = gh_now_ms();
    token_row t;
    gh_result r;
    int won = 0;

    r = strcmp(store_dialect(c), "postgres") == 0
            ? spend_then_select(c, call, digest, now, idle_ms, deny_ttl_ms, &t, out, outcome, &won)
            : select_then_spend(c, call, digest, now, idle_ms, deny_ttl_ms, &t, out, outcome, &won);
    if (r != GH_OK || !won)
        return r;
    if ((r = insert_token(c, call, t.s.id, new_refresh, now)) != GH_OK ||
        (r = touch_session(c, call, out, user_agent, ip, now)) != GH_OK)
        return r;
    *outcome = GH_REFRESH_OK;
    return GH_OK;
}

gh_result session_refresh(gh_conn *c, gh_call *call, const char *refresh, const char *user_agent,
                          const char *ip, int64_t deny_ttl_ms, int64_t idle_ms,
                          gh_session *out, char new_refresh[GH_SECRET_LEN],
                          gh_refresh_outcome *outcome)
{
    char digest[GH_DIGEST_LEN];
    gh_result r;

    memset(out, 0, sizeof(*out));
    new_refresh[0] = '\0';
    *outcome = GH_REFRESH_UNKNOWN;
    if (refresh == NULL || *refresh == '\0')
        return GH_OK;
    secret_digest(refresh, digest);
    /* one transaction: on SQLite (BEGIN IMMEDIATE) a second refresh of the
     * same token waits here and then sees it used */
    if ((r = store_begin(c, call)) != GH_OK)
        return r;
    r = finish_tx(c, call, refresh_locked(c, call, digest, user_agent, ip, deny_ttl_ms, idle_ms,
                                      out, new_refresh, outcome));
    if (r != GH_OK || *outcome != GH_REFRESH_OK)
        memset(new_refresh, 0, GH_SECRET_LEN);
    if (r != GH_OK) {
        memset(out, 0, sizeof(*out));
        *outcome = GH_REFRESH_UNKNOWN;
    }
    return r;
}

/* -------------------------------------------------------------- lookups */

typedef struct one_session {
    gh_session *s;
    int found;
} one_session;

static int one_session_row(void *vud, const gh_param *cols, uint32_t n)
{
    one_session *ud = vud;

    if (n >= S_NCOLS) {
        session_from_row(ud->s, cols);
        ud->found = 1;
    }
    return 1;
}

static gh_result query_session(gh_conn *c, gh_call *call, const char *sql, const gh_param *args,
                               size_t nargs, gh_session *out)
{
    one_session ud = { out, 0 };
    gh_result r;

    memset(out, 0, sizeof(*out));
    r = store_exec(c, call, sql, args, nargs, one_session_row, &ud, NULL);
    return r == GH_OK && !ud.found ? GH_ERR_NOT_FOUND : r;
}

gh_result session_by_refresh(gh_conn *c, gh_call *call, const char *refresh, gh_session *out)
{
    char digest[GH_DIGEST_LEN];
    int64_t now = gh_now_ms();
    gh_param args[2];

    memset(out, 0, sizeof(*out));
    if (refresh == NULL || *refresh == '\0')
        return GH_ERR_NOT_FOUND;
    secret_digest(refresh, digest);
    args[0] = p_str(digest);
    args[1] = p_int(&now);
    return query_session(c, call,
                         "SELECT " SESSION_COLS " FROM refresh_tokens rt "
                         "JOIN sessions s ON s.id = rt.session_id WHERE rt.token_hash = ? "
                         "AND rt.used_at IS NULL AND s.revoked_at IS NULL AND s.expires_at > ?",
                         args, 2, out);
}

gh_result session_get(gh_conn *c, gh_call *call, const char *id, gh_session *out)
{
    gh_param arg;

    memset(out, 0, sizeof(*out));
    if (id == NULL)
        return GH_ERR_NOT_FOUND;
    arg = p_str(id);
    return query_session(c, call, "SELECT " SESSION_COLS " FROM sessions s WHERE s.id = ?",
                         &arg, 1, out);
}

typedef struct list_ud {
    gh_session *v;
    size_t n, cap;
    gh_result r;
} list_ud;

static int list_row(void *vud, const gh_param *cols, uint32_t n)
{
    list_ud *ud = vud;

    if (n < S_NCOLS)
        return 1;
    if (ud->n == ud->cap) {
        size_t cap = ud->cap ? ud->cap * 2 : 8;
        gh_session *v = realloc(ud->v, cap * sizeof(*v));

        if (v == NULL) {
            ud->r = GH_ERR_NOMEM;
            return 1;
        }
        ud->v = v;
        ud->cap = cap;
    }
    session_from_row(&ud->v[ud->n++], cols);
    return 0;
}

/* The end of a list query: the rows to the caller, or freed on failure. */
static gh_result list_done(gh_call *call, list_ud *ud, gh_result r, gh_session **out, size_t *n)
{
    if (r == GH_OK && ud->r != GH_OK)
        r = call_fail(call, ud->r, "sessions: out of memory");
    if (r != GH_OK) {
        free(ud->v);
        return r;
    }
    *out = ud->v;
    *n = ud->n;
    return GH_OK;
}

gh_result session_list(gh_conn *c, gh_call *call, const char *user_id, gh_session **out, size_t *n)
{
    int64_t now = gh_now_ms();
    list_ud ud = { NULL, 0, 0, GH_OK };
    gh_param args[2];
    gh_result r;

    *out = NULL;
    *n = 0;
    if (user_id == NULL)
        return GH_ERR_INVALID;
    args[0] = p_str(user_id);
    args[1] = p_int(&now);
    r = store_exec(c, call,
                   "SELECT " SESSION_COLS " FROM sessions s WHERE s.user_id = ? "
                   "AND s.revoked_at IS NULL AND s.expires_at > ? "
                   "ORDER BY s.created_at DESC, s.id DESC LIMIT " STR(GH_SESSION_LIST_MAX),
                   args, 2, list_row, &ud, NULL);
    return list_done(call, &ud, r, out, n);
}

gh_result session_list_tenant(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                              int limit, int offset, gh_session **out, size_t *n, int64_t *total)
{
    int64_t now = gh_now_ms(), lim = limit > 0 ? limit : 1, off = offset > 0 ? offset : 0;
    list_ud ud = { NULL, 0, 0, GH_OK };
    gh_param args[5];
    size_t k = 0;
    const char *by_user = user_id != NULL ? " AND s.user_id = ?" : "";
    char count_sql[192], page_sql[512];
    gh_result r;

    *out = NULL;
    *n = 0;
    *total = 0;
    if (tenant == NULL)
        return GH_ERR_INVALID;
    args[k++] = p_str(tenant);
    args[k++] = p_int(&now);
    if (user_id != NULL)
        args[k++] = p_str(user_id);
    args[k] = p_int(&lim);
    args[k + 1] = p_int(&off);
    snprintf(count_sql, sizeof count_sql, "SELECT COUNT(*) FROM sessions s WHERE s.tenant_id = ? "
             "AND s.revoked_at IS NULL AND s.expires_at > ?%s", by_user);
    snprintf(page_sql, sizeof page_sql, "SELECT " SESSION_COLS " FROM sessions s "
             "WHERE s.tenant_id = ? AND s.revoked_at IS NULL AND s.expires_at > ?%s "
             "ORDER BY s.created_at DESC, s.id DESC LIMIT ? OFFSET ?", by_user);
    r = store_exec(c, call, count_sql, args, k, row_count, total, NULL);
    if (r == GH_OK)
        r = store_exec(c, call, page_sql, args, k + 2, list_row, &ud, NULL);
    return list_done(call, &ud, r, out, n);
}

/* ---------------------------------------------------------------- purge */

int64_t session_purge(gh_conn *c, gh_call *call, int64_t keep_ms)
{
    int64_t before = gh_now_ms() - (keep_ms > 0 ? keep_ms : 0), removed = 0;
    const gh_param args[] = { p_int(&before), p_int(&before) };

    /* refresh_tokens go by ON DELETE CASCADE */
    if (store_exec(c, call,
                   "DELETE FROM sessions WHERE expires_at <= ? "
                   "OR (revoked_at IS NOT NULL AND revoked_at <= ?)",
                   args, 2, NULL, NULL, &removed) != GH_OK)
        return -1;
    return removed;
}
