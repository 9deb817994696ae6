/*
 * test_sessions.c - sessions (core/auth/sessions.c): create, rotate, reuse,
 * revoke, purge, concurrent refreshes, the token deny-list, and a kv that
 * is down, over the real SQLite plugin. Assertions stay on the main thread
 * (cmocka is not thread-safe): racing threads report what they saw.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/present.h"
#include "auth/audit.h"
#include "auth/lockout.h"
#include "auth/pii.h"
#include "auth/sessions.h"
#include "auth/tokens.h"
#include "auth/users.h"
#include "auth/users_crypt.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "store/migrations.h"
#include "store/store.h"

#include "accounts_fx.h"

/* -------------------------------------------------------------- sessions */

static void test_session_create_rotate_reuse(void **state)
{
    fx *f = *state;
    char t1[GH_SECRET_LEN], t2[GH_SECRET_LEN], t3[GH_SECRET_LEN], t4[GH_SECRET_LEN];
    char digest[GH_DIGEST_LEN];
    gh_session s, r, got;
    gh_user u;
    text_ud t;
    int64_t t0;

    new_user(f, ROOT, "jack@example.com", NULL, &u);
    t0 = gh_now_ms();
    new_session(f, &u, &s, t1);
    assert_int_equal(strlen(t1), GH_SECRET_LEN - 1);
    assert_string_equal(s.user_id, u.id);
    assert_string_equal(s.tenant_id, ROOT);
    assert_string_equal(s.user_agent, "test-agent/1.0");
    assert_string_equal(s.ip, "192.0.2.1");
    assert_true(s.created_at >= t0);
    assert_int_equal(s.expires_at, s.created_at + 30 * DAY);
    assert_int_equal(s.revoked_at, 0);
    /* a session is its own family; the token is stored only as its digest */
    assert_string_equal(query_text(f, "SELECT family_id FROM sessions WHERE id = ?", s.id, &t),
                        s.id);
    secret_digest(t1, digest);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM refresh_tokens WHERE token_hash = ?",
                               digest), 1);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM refresh_tokens WHERE token_hash = ?",
                               t1), 0);

    /* rotation: a new token each time, the device follows the client */
    clock_advance_ms(1000);
    assert_int_equal(refresh(f, t1, &r, t2), GH_REFRESH_OK);
    assert_string_not_equal(t1, t2);
    assert_string_equal(r.id, s.id);
    assert_string_equal(r.user_id, u.id);
    assert_string_equal(r.user_agent, "agent/2");
    assert_string_equal(r.ip, "198.51.100.7");
    assert_true(r.last_used_at >= s.created_at + 1000);
    assert_int_equal(r.expires_at, s.expires_at); /* rotation does not extend the session */
    assert_int_equal(session_get(f->c, &f->call, s.id, &got), GH_OK);
    assert_string_equal(got.user_agent, "agent/2");
    assert_int_equal(got.last_used_at, r.last_used_at);
    assert_int_equal(session_by_refresh(f->c, &f->call, t2, &got), GH_OK);
    assert_string_equal(got.id, s.id);
    assert_int_equal(session_by_refresh(f->c, &f->call, t1, &got), GH_ERR_NOT_FOUND);
    assert_int_equal(refresh(f, t2, &r, t3), GH_REFRESH_OK);
    assert_int_equal(token_denied(f->c, &f->call, s.id, NULL), 0);

    /* the first token again: stolen. The whole session goes. */
    assert_int_equal(refresh(f, t1, &r, t4), GH_REFRESH_REUSED);
    assert_string_equal(t4, "");
    assert_string_equal(r.id, s.id); /* for the audit record */
    assert_true(r.revoked_at > 0);
    assert_string_equal(query_text(f, "SELECT revoke_reason FROM sessions WHERE id = ?", s.id,
                                   &t), "refresh_token_reused");
    assert_int_equal(token_denied(f->c, &f->call, s.id, NULL), 1);
    /* and the newest token, never used, is dead with it */
    assert_int_equal(refresh(f, t3, &r, t4), GH_REFRESH_REVOKED);
    assert_int_equal(session_by_refresh(f->c, &f->call, t3, &got), GH_ERR_NOT_FOUND);
    /* the deny-list lasts deny_ttl_ms (15 min here), and the leeway */
    clock_advance_ms(15 * 60 * 1000 + GH_TOKEN_LEEWAY_S * 1000);
    assert_int_equal(token_denied(f->c, &f->call, s.id, NULL), 1);
    clock_advance_ms(GH_DENY_GRACE_MS - GH_TOKEN_LEEWAY_S * 1000 + 1);
    assert_int_equal(token_denied(f->c, &f->call, s.id, NULL), 0);
    user_clear(&u);
}

static void test_session_unknown_expired_revoked(void **state)
{
    fx *f = *state;
    char tok[GH_SECRET_LEN], next[GH_SECRET_LEN], fake[GH_SECRET_LEN];
    gh_session s, r;
    gh_refresh_outcome o;
    gh_user u;

    new_user(f, ROOT, "kim@example.com", NULL, &u);
    assert_int_equal(secret_new(fake), 0);
    assert_int_equal(refresh(f, fake, &r, next), GH_REFRESH_UNKNOWN);
    assert_string_equal(r.id, "");
    assert_int_equal(refresh(f, "", &r, next), GH_REFRESH_UNKNOWN);
    assert_int_equal(session_refresh(f->c, &f->call, NULL, NULL, NULL, 1000, 0, &r, next, &o),
                     GH_OK);
    assert_int_equal(o, GH_REFRESH_UNKNOWN);

    /* expired: by the clock, not by a sweep */
    assert_int_equal(session_create(f->c, &f->call, ROOT, u.id, NULL, NULL, 60000, &s, tok),
                     GH_OK);
    assert_string_equal(s.user_agent, "");
    clock_advance_ms(60000);
    assert_int_equal(refresh(f, tok, &r, next), GH_REFRESH_EXPIRED);
    assert_string_equal(r.id, s.id);
    assert_string_equal(next, "");

    /* revoked (logout) */
    new_session(f, &u, &s, tok);
    assert_int_equal(session_revoke(f->c, &f->call, u.id, s.id, "logout", 900000), GH_OK);
    assert_int_equal(refresh(f, tok, &r, next), GH_REFRESH_REVOKED);
    assert_int_equal(token_denied(f->c, &f->call, s.id, NULL), 1);

    /* bad parameters */
    assert_int_equal(session_create(f->c, &f->call, ROOT, u.id, NULL, NULL, 0, &s, tok),
                     GH_ERR_INVALID);
    assert_int_equal(session_create(f->c, &f->call, ROOT, NULL, NULL, NULL, 1, &s, tok),
                     GH_ERR_INVALID);
    /* a session for nobody breaks the foreign key, and leaves nothing */
    assert_int_equal(session_create(f->c, &f->call, ROOT, "no-such-user", NULL, NULL, 1000, &s,
                                    tok), GH_ERR_CONFLICT);
    assert_string_equal(tok, "");
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM sessions WHERE user_id = ?",
                               "no-such-user"), 0);
    user_clear(&u);
}

/* auth.tokens.refresh_idle: a session refreshed in time lives on to its
 * end; one left unused for the idle time is over, though its life is not. */
static void test_session_idle(void **state)
{
    fx *f = *state;
    char tok[GH_SECRET_LEN], next[GH_SECRET_LEN];
    gh_session s, r;
    gh_refresh_outcome o;
    gh_user u;

    new_user(f, ROOT, "ida@example.com", NULL, &u);
    assert_int_equal(session_create(f->c, &f->call, ROOT, u.id, NULL, NULL, DAY, &s, tok),
                     GH_OK);
    for (int i = 0; i < 3; i++) { /* used every 50 minutes of a 1 h idle limit */
        clock_advance_ms(50 * 60 * 1000);
        assert_int_equal(session_refresh(f->c, &f->call, tok, NULL, NULL, 1000, HOUR, &r, next,
                                         &o), GH_OK);
        assert_int_equal(o, GH_REFRESH_OK);
        memcpy(tok, next, sizeof tok);
    }
    clock_advance_ms(HOUR);
    assert_int_equal(session_refresh(f->c, &f->call, tok, NULL, NULL, 1000, HOUR, &r, next, &o),
                     GH_OK);
    assert_int_equal(o, GH_REFRESH_EXPIRED);
    assert_string_equal(r.id, s.id);
    assert_string_equal(next, "");
    /* with no idle limit the same token still works: only the idle time ended it */
    assert_int_equal(session_refresh(f->c, &f->call, tok, NULL, NULL, 1000, 0, &r, next, &o),
                     GH_OK);
    assert_int_equal(o, GH_REFRESH_OK);
    user_clear(&u);
}

static void test_session_revoke_list(void **state)
{
    fx *f = *state;
    char tok[4][GH_SECRET_LEN], long_ua[1000];
    gh_session s[4], *v, got;
    gh_user u, other;
    int64_t count = -1;
    size_t n;

    new_user(f, ROOT, "lee@example.com", NULL, &u);
    new_user(f, ROOT, "mo@example.com", NULL, &other);
    for (int i = 0; i < 3; i++) {
        new_session(f, &u, &s[i], tok[i]);
        clock_advance_ms(10);
    }
    new_session(f, &other, &s[3], tok[3]);

    /* live sessions, newest first */
    assert_int_equal(session_list(f->c, &f->call, u.id, &v, &n), GH_OK);
    assert_int_equal(n, 3);
    assert_string_equal(v[0].id, s[2].id);
    assert_string_equal(v[2].id, s[0].id);
    assert_string_equal(v[1].ip, "192.0.2.1");
    free(v);

    /* one: only the owner's, only once */
    assert_int_equal(session_revoke(f->c, &f->call, other.id, s[0].id, "logout", 60000),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(token_denied(f->c, &f->call, s[0].id, NULL), 0);
    assert_int_equal(session_revoke(f->c, &f->call, u.id, s[0].id, "logout", 60000), GH_OK);
    assert_int_equal(session_revoke(f->c, &f->call, u.id, s[0].id, "logout", 60000),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(token_denied(f->c, &f->call, s[0].id, NULL), 1);
    assert_int_equal(session_get(f->c, &f->call, s[0].id, &got), GH_OK);
    assert_true(got.revoked_at > 0);
    /* an admin (no user) may revoke anyone's */
    assert_int_equal(session_revoke(f->c, &f->call, NULL, s[3].id, "admin", 60000), GH_OK);
    assert_int_equal(session_revoke(f->c, &f->call, NULL, "nope", "admin", 60000),
                     GH_ERR_NOT_FOUND);

    /* all but this one */
    new_session(f, &u, &s[0], tok[0]);
    assert_int_equal(session_revoke_all(f->c, &f->call, u.id, s[2].id, "password_changed",
                                        60000, &count), GH_OK);
    assert_int_equal(count, 2);
    assert_int_equal(token_denied(f->c, &f->call, s[0].id, NULL), 1);
    assert_int_equal(token_denied(f->c, &f->call, s[1].id, NULL), 1);
    assert_int_equal(token_denied(f->c, &f->call, s[2].id, NULL), 0);
    assert_int_equal(session_list(f->c, &f->call, u.id, &v, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].id, s[2].id);
    free(v);
    assert_int_equal(session_revoke_all(f->c, &f->call, u.id, NULL, "admin", 60000, &count),
                     GH_OK);
    assert_int_equal(count, 1);
    assert_int_equal(session_list(f->c, &f->call, u.id, &v, &n), GH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(session_revoke_all(f->c, &f->call, u.id, NULL, "admin", 60000, &count),
                     GH_OK);
    assert_int_equal(count, 0);

    /* expired sessions are not listed; device strings are clipped and clean */
    memset(long_ua, 'x', sizeof(long_ua) - 1);
    long_ua[sizeof(long_ua) - 1] = '\0';
    memcpy(long_ua + 254, "\xc3\xa9", 2); /* a character across the cut goes whole */
    assert_int_equal(session_create(f->c, &f->call, ROOT, u.id, long_ua, "10.0.0.1\r\n\x01",
                                    1000, &s[0], tok[0]), GH_OK);
    assert_int_equal(session_create(f->c, &f->call, ROOT, u.id, "bad \xff\xfe utf8", "::1",
                                    DAY, &s[1], tok[1]), GH_OK);
    assert_int_equal(strlen(s[0].user_agent), 254);
    assert_int_equal(s[0].user_agent[253], 'x');
    assert_string_equal(s[0].ip, "10.0.0.1???");
    clock_advance_ms(1000);
    assert_int_equal(session_list(f->c, &f->call, u.id, &v, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].user_agent, "bad ?? utf8");
    assert_string_equal(v[0].ip, "::1");
    free(v);
    user_clear(&u);
    user_clear(&other);
}

static void test_session_purge(void **state)
{
    fx *f = *state;
    char tok[3][GH_SECRET_LEN], next[GH_SECRET_LEN];
    gh_session s[3], r;
    gh_user u;

    new_user(f, ROOT, "pat@example.com", NULL, &u);
    assert_int_equal(session_create(f->c, &f->call, ROOT, u.id, NULL, NULL, HOUR, &s[0], tok[0]),
                     GH_OK);                           /* will expire */
    new_session(f, &u, &s[1], tok[1]);                 /* will be revoked */
    new_session(f, &u, &s[2], tok[2]);                 /* stays live */
    assert_int_equal(refresh(f, tok[2], &r, next), GH_REFRESH_OK);
    assert_int_equal(session_revoke(f->c, &f->call, u.id, s[1].id, "logout", 60000), GH_OK);
    clock_advance_ms(HOUR);
    /* ended, but not long enough ago */
    assert_int_equal(session_purge(f->c, &f->call, DAY), 0);
    clock_advance_ms(DAY);
    assert_int_equal(session_purge(f->c, &f->call, DAY), 2);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM sessions WHERE user_id = ?", u.id), 1);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM refresh_tokens", NULL), 2);
    /* the live session's used token still tells reuse */
    assert_int_equal(refresh(f, tok[2], &r, next), GH_REFRESH_REUSED);
    assert_int_equal(refresh(f, tok[0], &r, next), GH_REFRESH_UNKNOWN);
    user_clear(&u);
}

/* Two workers present the same refresh token at the same instant. */
typedef struct racer {
    fx *f;
    const char *token;
    pthread_barrier_t *start;
    gh_refresh_outcome outcome;
    gh_result r;
    char next[GH_SECRET_LEN];
    char err[256];
    pthread_t tid;
} racer;

static void *racer_main(void *v)
{
    racer *p = v;
    gh_conn *c = NULL;
    gh_session s;
    gh_call call;
    int ready;

    p->r = GH_ERR_INTERNAL;
    ready = plugins_thread_init(&p->f->ps, p->err, sizeof(p->err)) == 0;
    if (ready && (c = store_thread_open(p->f->st, p->err, sizeof(p->err))) == NULL)
        plugins_thread_fini(&p->f->ps);
    pthread_barrier_wait(p->start); /* even when not ready: never strand the other */
    if (c == NULL)
        return NULL;
    call_init(&call, NULL, "racer", 10000);
    p->r = session_refresh(c, &call, p->token, "racer", "203.0.113.9", 60000, 0, &s, p->next,
                           &p->outcome);
    if (p->r != GH_OK)
        snprintf(p->err, sizeof(p->err), "%s", call.message);
    store_thread_close(c);
    plugins_thread_fini(&p->f->ps);
    return NULL;
}

static void test_refresh_concurrent(void **state)
{
    fx *f = *state;
    char tok[GH_SECRET_LEN];
    pthread_barrier_t start;
    gh_session s;
    gh_user u;

    new_user(f, ROOT, "nina@example.com", NULL, &u);
    for (int round = 0; round < 8; round++) {
        racer a = { .f = f, .token = tok, .start = &start };
        racer b = { .f = f, .token = tok, .start = &start };
        int ok;

        new_session(f, &u, &s, tok);
        assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
        assert_int_equal(pthread_create(&a.tid, NULL, racer_main, &a), 0);
        assert_int_equal(pthread_create(&b.tid, NULL, racer_main, &b), 0);
        assert_int_equal(pthread_join(a.tid, NULL), 0);
        assert_int_equal(pthread_join(b.tid, NULL), 0);
        pthread_barrier_destroy(&start);
        if (a.r != GH_OK || b.r != GH_OK)
            fail_msg("round %d: %s / %s", round, a.err, b.err);
        ok = (a.outcome == GH_REFRESH_OK) + (b.outcome == GH_REFRESH_OK);
        assert_int_equal(ok, 1);
        /* the loser presented a used token: that is reuse, and it counts */
        assert_int_equal(a.outcome == GH_REFRESH_REUSED || b.outcome == GH_REFRESH_REUSED, 1);
        assert_int_equal(token_denied(f->c, &f->call, s.id, NULL), 1);
    }
    user_clear(&u);
}

static void test_token_deny(void **state)
{
    fx *f = *state;
    char long_id[200];
    int64_t exp = gh_now_ms() / 1000 + 5;

    assert_int_equal(token_denied(f->c, &f->call, NULL, NULL), 0);
    assert_int_equal(token_denied(f->c, &f->call, "sid-1", "jti-1"), 0);
    assert_int_equal(token_deny(f->c, &f->call, "jti-1", exp), GH_OK);
    assert_int_equal(token_denied(f->c, &f->call, "sid-1", "jti-1"), 1);
    assert_int_equal(token_denied(f->c, &f->call, NULL, "jti-1"), 1);
    assert_int_equal(token_denied(f->c, &f->call, "jti-1", NULL), 0); /* separate namespaces */
    assert_int_equal(token_denied(f->c, &f->call, "sid-1", "jti-2"), 0);
    /* past exp, the token is still accepted for the leeway: so it is denied */
    clock_advance_ms(exp * 1000 - gh_now_ms() + GH_TOKEN_LEEWAY_S * 1000);
    assert_int_equal(token_denied(f->c, &f->call, NULL, "jti-1"), 1);
    clock_advance_ms(GH_DENY_GRACE_MS - GH_TOKEN_LEEWAY_S * 1000 + 1);
    assert_int_equal(token_denied(f->c, &f->call, NULL, "jti-1"), 0);

    assert_int_equal(token_deny(f->c, &f->call, "", exp), GH_ERR_INVALID);
    assert_int_equal(token_deny(f->c, &f->call, NULL, exp), GH_ERR_INVALID);
    memset(long_id, 'j', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    assert_int_equal(token_deny(f->c, &f->call, long_id, exp), GH_ERR_INVALID);
    assert_int_equal(token_denied(f->c, &f->call, long_id, long_id), 0);
    /* a token revoked after its exp, inside the leeway, is denied too */
    exp = gh_now_ms() / 1000 - 10;
    assert_int_equal(token_deny(f->c, &f->call, "jti-3", exp), GH_OK);
    clock_advance_ms(GH_TOKEN_LEEWAY_S * 1000);
    assert_int_equal(token_denied(f->c, &f->call, NULL, "jti-3"), 1);
    clock_advance_ms(GH_DENY_GRACE_MS);
    assert_int_equal(token_denied(f->c, &f->call, NULL, "jti-3"), 0);
}

/* A kv plugin that is down: every check answers "unavailable", never "ok". */
static gh_loaded down_kv;

static gh_result down_get(const void *inst, void *tinst, gh_call *call, const char *key,
                          gh_out *out)
{
    (void)inst, (void)tinst, (void)key, (void)out;
    return (gh_host_table.fail)(call, GH_ERR_UNAVAILABLE, "kv is down");
}

static gh_result down_set(const void *inst, void *tinst, gh_call *call, const char *key,
                          const void *val, size_t len, int64_t ttl_ms, uint32_t flags)
{
    (void)inst, (void)tinst, (void)key, (void)val, (void)len, (void)ttl_ms, (void)flags;
    return (gh_host_table.fail)(call, GH_ERR_UNAVAILABLE, "kv is down");
}

static gh_result down_incr(const void *inst, void *tinst, gh_call *call, const char *key,
                           int64_t delta, int64_t ttl_ms, int64_t *result)
{
    (void)inst, (void)tinst, (void)key, (void)delta, (void)ttl_ms, (void)result;
    return (gh_host_table.fail)(call, GH_ERR_UNAVAILABLE, "kv is down");
}

static gh_result down_del(const void *inst, void *tinst, gh_call *call, const char *key)
{
    (void)inst, (void)tinst, (void)key;
    return (gh_host_table.fail)(call, GH_ERR_UNAVAILABLE, "kv is down");
}

static void test_kv_down(void **state)
{
    static const gh_kv_ops ops = { .size = offsetof(gh_kv_ops, connect), .get = down_get,
                                   .set = down_set, .incr = down_incr, .del = down_del };
    static const gh_plugin desc = {
        .size = sizeof(gh_plugin), .abi_major = GH_ABI_MAJOR, .name = "downkv",
        .kind = GH_KIND_KV, .ops = &ops,
    };
    static const gh_lockout_conf lc = { 3, 1000, 4000, 60000, 5, 60000 };
    fx *f = *state;
    char tok[GH_SECRET_LEN], err[256];
    gh_session s, got;
    gh_store *st;
    gh_user u;

    new_user(f, ROOT, "omar@example.com", NULL, &u);
    new_session(f, &u, &s, tok);
    memset(&down_kv, 0, sizeof(down_kv));
    down_kv.name = "downkv";
    down_kv.desc = &desc;
    store_thread_close(f->c);
    assert_non_null(st = store_new(f->ps.storage, &down_kv));
    assert_non_null(f->c = store_thread_open(st, err, sizeof(err)));

    assert_int_equal(token_denied(f->c, &f->call, s.id, "jti"), -1);
    assert_int_equal(lockout_check(f->c, &f->call, &lc, "acct", "192.0.2.1"), -1);
    lockout_failure(f->c, &f->call, &lc, "acct", "192.0.2.1"); /* no crash, no answer */
    lockout_success(f->c, &f->call, "acct");
    /* a revocation that cannot be deny-listed does not half-happen */
    assert_int_equal(session_revoke(f->c, &f->call, u.id, s.id, "logout", 60000),
                     GH_ERR_UNAVAILABLE);
    assert_int_equal(session_get(f->c, &f->call, s.id, &got), GH_OK);
    assert_int_equal(got.revoked_at, 0);
    assert_int_equal(users_erase(f->c, &f->call, ROOT, u.id), GH_ERR_UNAVAILABLE);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM users WHERE id = ? "
                                  "AND deleted_at IS NULL AND email IS NOT NULL", u.id), 1);

    store_thread_close(f->c);
    store_free(st);
    assert_non_null(f->c = store_thread_open(f->st, err, sizeof(err)));
    user_clear(&u);
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_session_create_rotate_reuse),
        T(test_session_unknown_expired_revoked),
        T(test_session_idle),
        T(test_session_revoke_list),
        T(test_session_purge),
        T(test_refresh_concurrent),
        T(test_token_deny),
        T(test_kv_down),
    };

    return RUN(tests);
}
