/*
 * test_refresh_race.c - refresh-token rotation (core/auth/sessions.c) on
 * every SQL backend the environment offers (store_backends.h): two workers,
 * each with its own connection as two instances would have, present the
 * same refresh token at the same instant. Exactly one gets the next token;
 * the other has presented a spent token, which is reuse: the session is
 * revoked and deny-listed, and the winner's new token is refused too.
 * Assertions stay on the main thread: the peers report what they saw.
 *
 * Then the corners of the spend, which PostgreSQL makes in one statement
 * (the token is marked used only when it is unused and its session live)
 * and the others in a select and an update: a reused token revokes its
 * family; an unknown, expired, idle or revoked one is refused and left
 * unspent, so that presenting it again is not taken for reuse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth/sessions.h"
#include "auth/tokens.h"
#include "clock.h"
#include "store/store.h"
#include "store_backends.h"

#define T(fn) cmocka_unit_test_setup_teardown(fn, sfx_setup, sfx_teardown)
#define ROUNDS 8
/* how long a racer waits for the other to be ready before it goes alone */
#define START_WAIT_MS 10000

typedef struct race {
    const char *token;
    atomic_int ready;
} race;

typedef struct racer_arg {
    race *rc;
    gh_refresh_outcome outcome;
    char next[GH_SECRET_LEN];
} racer_arg;

/* Both connected, then both at once: the start is as close as it gets. */
static int racer(peer *p, gh_conn *c)
{
    racer_arg *o = p->arg;
    race *rc = o->rc;
    int64_t until = gh_monotonic_ms() + START_WAIT_MS;
    char next[GH_SECRET_LEN];
    gh_refresh_outcome outcome;
    gh_session s;
    gh_call call;
    gh_result r;

    atomic_fetch_add(&rc->ready, 1);
    while (atomic_load(&rc->ready) < 2 && gh_monotonic_ms() < until)
        ;
    call_init(&call, NULL, "racer", 10000);
    r = session_refresh(c, &call, rc->token, "racer", "203.0.113.9", 60000, 0, &s, next,
                        &outcome);
    if (r != GH_OK) {
        snprintf(p->err, sizeof(p->err), "refresh: %s", call.message);
        return -1;
    }
    o->outcome = outcome;
    memcpy(o->next, next, sizeof(next));
    return 0;
}

static void test_refresh_race(void **state)
{
    fx *f = *state;
    char user[37], tok[GH_SECRET_LEN], next[GH_SECRET_LEN];
    gh_refresh_outcome outcome;
    gh_session s, out;

    uuid_new(user);
    assert_int_equal(insert_user(f, user, ROOT_TENANT, "racer@example.com"), GH_OK);
    for (int round = 0; round < ROUNDS; round++) {
        race rc = { .token = tok };
        racer_arg a = { .rc = &rc }, b = { .rc = &rc };
        peer pa, pb;
        const char *won;

        assert_int_equal(session_create(f->c, &f->call, ROOT_TENANT, user, "ua", "192.0.2.1",
                                        3600000, &s, tok), GH_OK);
        peer_start(&pa, f, racer, &a);
        peer_start(&pb, f, racer, &b);
        peer_join(&pa);
        peer_join(&pb);
        /* exactly one spent it; the other presented a spent token */
        assert_int_equal((a.outcome == GH_REFRESH_OK) + (b.outcome == GH_REFRESH_OK), 1);
        assert_int_equal((a.outcome == GH_REFRESH_REUSED) + (b.outcome == GH_REFRESH_REUSED), 1);
        won = a.outcome == GH_REFRESH_OK ? a.next : b.next;
        /* the family is revoked and deny-listed: the winner's token is
         * refused, and the access tokens of the session too */
        assert_int_equal(token_denied(f->c, &f->call, s.id, NULL), 1);
        assert_int_equal(session_refresh(f->c, &f->call, won, "ua", "192.0.2.1", 60000, 0, &out,
                                         next, &outcome), GH_OK);
        assert_int_not_equal(outcome, GH_REFRESH_OK);
    }
    /* one token spent per round, and one issued per winner */
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM refresh_tokens WHERE used_at IS NOT NULL"),
                     ROUNDS);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM refresh_tokens"), 2 * ROUNDS);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL"), 0);
}

static gh_refresh_outcome refresh(fx *f, const char *tok, int64_t idle_ms,
                                  char next[GH_SECRET_LEN], gh_session *out)
{
    gh_refresh_outcome outcome = GH_REFRESH_OK;

    call_init(&f->call, NULL, "test", 10000);
    assert_int_equal(session_refresh(f->c, &f->call, tok, "ua", "192.0.2.1", 60000, idle_ms, out,
                                     next, &outcome), GH_OK);
    return outcome;
}

static int64_t spent_tokens(fx *f)
{
    return query_int(f, "SELECT COUNT(*) FROM refresh_tokens WHERE used_at IS NOT NULL");
}

static void new_session(fx *f, int64_t ttl_ms, gh_session *s, char tok[GH_SECRET_LEN])
{
    char user[37], email[64];

    uuid_new(user);
    snprintf(email, sizeof email, "%s@example.com", user);
    assert_int_equal(insert_user(f, user, ROOT_TENANT, email), GH_OK);
    assert_int_equal(session_create(f->c, &f->call, ROOT_TENANT, user, "ua", "192.0.2.1", ttl_ms,
                                    s, tok), GH_OK);
}

/* A spent token presented again revokes the session it came from, and the
 * token that replaced it dies with it. */
static void test_refresh_reused(void **state)
{
    fx *f = *state;
    char t1[GH_SECRET_LEN], t2[GH_SECRET_LEN], t3[GH_SECRET_LEN];
    gh_session s, out;
    text_ud why;

    new_session(f, 3600000, &s, t1);
    assert_int_equal(refresh(f, t1, 0, t2, &out), GH_REFRESH_OK);
    assert_string_equal(out.id, s.id);
    assert_int_equal(out.revoked_at, 0);
    assert_int_equal(refresh(f, t1, 0, t3, &out), GH_REFRESH_REUSED);
    assert_string_equal(out.id, s.id);
    assert_int_not_equal(out.revoked_at, 0);
    assert_string_equal(query_text(f, "SELECT revoke_reason FROM sessions", &why),
                        "refresh_token_reused");
    assert_int_equal(token_denied(f->c, &f->call, s.id, NULL), 1);
    assert_int_equal(refresh(f, t2, 0, t3, &out), GH_REFRESH_REVOKED);
    assert_int_equal(spent_tokens(f), 1);
}

/* A token nobody issued: refused, nothing written. */
static void test_refresh_unknown(void **state)
{
    fx *f = *state;
    char t1[GH_SECRET_LEN], fake[GH_SECRET_LEN], next[GH_SECRET_LEN];
    gh_session s, out;

    new_session(f, 3600000, &s, t1);
    assert_int_equal(secret_new(fake), 0);
    assert_int_equal(refresh(f, fake, 0, next, &out), GH_REFRESH_UNKNOWN);
    assert_string_equal(out.id, "");
    assert_string_equal(next, "");
    assert_int_equal(spent_tokens(f), 0);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM refresh_tokens"), 1);
    assert_int_equal(refresh(f, t1, 0, next, &out), GH_REFRESH_OK);
}

/* A session past its end, or idle too long, refuses its token and leaves
 * it unspent: presented again it is still expired, never reuse. */
static void test_refresh_expired(void **state)
{
    fx *f = *state;
    char t1[GH_SECRET_LEN], t2[GH_SECRET_LEN], next[GH_SECRET_LEN];
    gh_session s, out;

    new_session(f, 1000, &s, t1);
    advance(f, 1000);
    assert_int_equal(refresh(f, t1, 0, next, &out), GH_REFRESH_EXPIRED);
    assert_string_equal(out.id, s.id);
    assert_string_equal(next, "");
    assert_int_equal(refresh(f, t1, 0, next, &out), GH_REFRESH_EXPIRED);
    assert_int_equal(spent_tokens(f), 0);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL"), 1);

    /* idle: used a minute ago, allowed 30 s */
    new_session(f, 3600000, &s, t2);
    advance(f, 60000);
    assert_int_equal(refresh(f, t2, 30000, next, &out), GH_REFRESH_EXPIRED);
    assert_int_equal(spent_tokens(f), 0);
    /* allowed two minutes: live, and spent */
    assert_int_equal(refresh(f, t2, 120000, next, &out), GH_REFRESH_OK);
    assert_int_equal(spent_tokens(f), 1);
}

/* A revoked session's token is refused as revoked, and stays unspent. */
static void test_refresh_revoked(void **state)
{
    fx *f = *state;
    char t1[GH_SECRET_LEN], next[GH_SECRET_LEN];
    gh_session s, out;

    new_session(f, 3600000, &s, t1);
    assert_int_equal(session_revoke(f->c, &f->call, NULL, s.id, "test", 60000), GH_OK);
    assert_int_equal(refresh(f, t1, 0, next, &out), GH_REFRESH_REVOKED);
    assert_int_equal(refresh(f, t1, 0, next, &out), GH_REFRESH_REVOKED);
    assert_int_equal(spent_tokens(f), 0);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        T(test_refresh_race),
        T(test_refresh_reused),
        T(test_refresh_unknown),
        T(test_refresh_expired),
        T(test_refresh_revoked),
    };
    static const sfx_group groups[] = {
        SFX_GROUP(NULL, "refresh-race", tests),
    };

    return sfx_main(groups, sizeof(groups) / sizeof(groups[0]));
}
