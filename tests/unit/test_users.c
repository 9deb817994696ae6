/*
 * test_users.c - accounts (core/auth/users.c, users_crypt.c): normalising
 * addresses and names, create, find, update, erase, list, kept ids, and
 * the personal data sealed at rest, over the real SQLite plugin.
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

/* ----------------------------------------------------------- normalising */

static void test_email_normalize(void **state)
{
    static const char *const good[][2] = {
        { "Alice@Example.COM", "alice@example.com" },
        { "  bob@example.org\t", "bob@example.org" },
        { "a.b+tag@sub.example.co.uk", "a.b+tag@sub.example.co.uk" },
        { "J\xc3\xb6rg@EXAMPLE.de", "j\xc3\xb6rg@example.de" }, /* non-ASCII kept as is */
    };
    static const char *const bad[] = {
        "", "   ", "plain", "@example.com", "a@", "a@@example.com", "a@b@example.com",
        "a b@example.com", "a@exa mple.com", "a@localhost", "a@.example.com", "a@example.com.",
        "a@example..com", "a\x01@example.com", "a\x7f@example.com", "a@example.com\n@x.y",
        "\xff@example.com", "a@ex\xc3\x28.com", "\xc0\xaf@example.com", "\xed\xa0\x80@example.com",
    };
    char out[300], long_local[80], long_addr[300];

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (email_normalize(good[i][0], out, sizeof(out)) != 0)
            fail_msg("refused %s", good[i][0]);
        assert_string_equal(out, good[i][1]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (email_normalize(bad[i], out, sizeof(out)) != -1)
            fail_msg("accepted bad address #%zu", i);
    assert_int_equal(email_normalize(NULL, out, sizeof(out)), -1);
    /* 64 bytes of local part, 254 of address: no more */
    memset(long_local, 'x', 65);
    strcpy(long_local + 65, "@example.com");
    assert_int_equal(email_normalize(long_local, out, sizeof(out)), -1);
    strcpy(long_local + 64, "@example.com");
    assert_int_equal(email_normalize(long_local, out, sizeof(out)), 0);
    memset(long_addr, 'd', sizeof(long_addr));
    memcpy(long_addr, "x@", 2);
    strcpy(long_addr + 250, ".com"); /* 254 bytes */
    assert_int_equal(email_normalize(long_addr, out, sizeof(out)), 0);
    strcpy(long_addr + 251, ".com");
    assert_int_equal(email_normalize(long_addr, out, sizeof(out)), -1);
    /* the buffer too small is a refusal, not an overflow */
    assert_int_equal(email_normalize("alice@example.com", out, 10), -1);
}

static void test_username_normalize(void **state)
{
    static const char *const bad[] = {
        "ab", "", "with space", "a@b", "caf\xc3\xa9", "tab\tbed", "semi;colon",
        "0123456789012345678901234567890123456789012345678901234567890123x",
    };
    char out[80];

    (void)state;
    assert_int_equal(username_normalize("John_Doe-1.x", out, sizeof(out)), 0);
    assert_string_equal(out, "john_doe-1.x");
    assert_int_equal(username_normalize(" abc ", out, sizeof(out)), 0);
    assert_string_equal(out, "abc");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (username_normalize(bad[i], out, sizeof(out)) != -1)
            fail_msg("accepted %s", bad[i]);
}

/* ----------------------------------------------------------------- users */

static void test_users_create_find(void **state)
{
    fx *f = *state;
    char hash[GH_PW_HASH_MAX];
    gh_user u, got;
    int64_t t0 = gh_now_ms();

    new_user(f, ROOT, "  Alice@Example.COM ", "Alice_1", &u);
    assert_int_equal(strlen(u.id), 36);
    assert_true(u.created_at >= t0 && u.updated_at == u.created_at);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM credentials WHERE user_id = ? "
                                  "AND type = 'password'", u.id), 1);

    /* by email in any case, with the hash */
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "ALICE@example.com", &got, hash),
                     GH_OK);
    assert_string_equal(got.id, u.id);
    assert_string_equal(got.tenant_id, ROOT);
    assert_string_equal(got.email, "Alice@Example.COM"); /* as given, trimmed */
    assert_string_equal(got.username, "Alice_1");
    assert_string_equal(got.full_name, "Full Name");
    assert_null(got.phone);
    assert_true(got.is_active);
    assert_false(got.is_admin);
    assert_int_equal(got.email_verified_at, 0);
    assert_string_equal(hash, HASH);
    user_clear(&got);
    /* by username in any case; the hash is optional */
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "alice_1", &got, NULL), GH_OK);
    assert_string_equal(got.id, u.id);
    user_clear(&got);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "ALICE_1", &got, hash), GH_OK);
    user_clear(&got);
    /* misses: unknown, wrong tenant, malformed */
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "bob@example.com", &got, hash),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(users_find_login(f->c, &f->call, OTHER_TENANT, "alice@example.com", &got,
                                      hash), GH_ERR_NOT_FOUND);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "al", &got, hash), GH_ERR_NOT_FOUND);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "@@", &got, hash), GH_ERR_NOT_FOUND);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, NULL, &got, hash), GH_ERR_NOT_FOUND);

    /* by id, in its tenant or any */
    assert_int_equal(users_get(f->c, &f->call, ROOT, u.id, &got), GH_OK);
    assert_string_equal(got.email, "Alice@Example.COM");
    user_clear(&got);
    assert_int_equal(users_get(f->c, &f->call, NULL, u.id, &got), GH_OK);
    user_clear(&got);
    assert_int_equal(users_get(f->c, &f->call, OTHER_TENANT, u.id, &got), GH_ERR_NOT_FOUND);
    assert_int_equal(users_get(f->c, &f->call, ROOT, "nope", &got), GH_ERR_NOT_FOUND);

    assert_int_equal(users_password_hash(f->c, &f->call, u.id, hash), GH_OK);
    assert_string_equal(hash, HASH);
    assert_int_equal(users_password_hash(f->c, &f->call, "nope", hash), GH_ERR_NOT_FOUND);
    user_clear(&u);
}

static void test_users_conflicts(void **state)
{
    fx *f = *state;
    gh_user a, b;

    new_user(f, ROOT, "carol@example.com", "carol", &a);
    /* the same address in another case, the same username in another case */
    assert_int_equal(try_user(f, ROOT, "CAROL@Example.Com", NULL, &b), GH_ERR_CONFLICT);
    assert_null(strstr(f->call.message, "carol")); /* no personal data in messages */
    assert_null(strstr(f->call.message, "argon2"));
    user_clear(&b);
    assert_int_equal(try_user(f, ROOT, "other@example.com", "CAROL", &b), GH_ERR_CONFLICT);
    user_clear(&b);
    /* nothing of the refused accounts is left, credentials included */
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM users", NULL), 1);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM credentials", NULL), 1);

    /* the same address in another tenant is another account */
    add_tenant(f, OTHER_TENANT, "other");
    new_user(f, OTHER_TENANT, "Carol@example.com", "carol", &b);
    assert_string_not_equal(a.id, b.id);
    user_clear(&b);

    /* invalid input changes nothing */
    assert_int_equal(try_user(f, ROOT, "not-an-address", NULL, &b), GH_ERR_INVALID);
    user_clear(&b);
    assert_int_equal(try_user(f, ROOT, "ok@example.com", "x y", &b), GH_ERR_INVALID);
    user_clear(&b);
    assert_int_equal(try_user(f, ROOT, NULL, NULL, &b), GH_ERR_INVALID);
    user_clear(&b);
    memset(&b, 0, sizeof(b));
    strcpy(b.tenant_id, ROOT);
    b.email = strdup("hash@example.com");
    assert_int_equal(users_create(f->c, &f->call, &b, ""), GH_ERR_INVALID);
    user_clear(&b);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM users", NULL), 2);

    /* a username-only account, and one without a password (OAuth) */
    new_user(f, ROOT, NULL, "dave", &b);
    user_clear(&b);
    memset(&b, 0, sizeof(b));
    strcpy(b.tenant_id, ROOT);
    b.email = strdup("oauth@example.com");
    assert_int_equal(users_create(f->c, &f->call, &b, NULL), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM credentials WHERE user_id = ?", b.id), 0);
    user_clear(&b);
    user_clear(&a);
}

static void test_users_update(void **state)
{
    fx *f = *state;
    gh_user u, v, got;
    text_ud t;

    new_user(f, ROOT, "erin@example.com", "erin", &u);
    new_user(f, ROOT, "frank@example.com", "frank", &v);
    assert_int_equal(users_mark_verified(f->c, &f->call, u.id, 12345), GH_OK);
    clock_advance_ms(5);

    /* profile fields; NULL keeps, "" clears */
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, NULL, NULL, "Erin E.",
                                  "+1 555 0100"), GH_OK);
    assert_int_equal(users_get(f->c, &f->call, ROOT, u.id, &got), GH_OK);
    assert_string_equal(got.full_name, "Erin E.");
    assert_string_equal(got.phone, "+1 555 0100");
    assert_string_equal(got.username, "erin");
    assert_int_equal(got.email_verified_at, 12345);
    assert_true(got.updated_at > got.created_at);
    user_clear(&got);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, NULL, "Erin_X", "", ""), GH_OK);
    assert_int_equal(users_get(f->c, &f->call, ROOT, u.id, &got), GH_OK);
    assert_null(got.full_name);
    assert_null(got.phone);
    assert_string_equal(got.username, "Erin_X");
    user_clear(&got);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "erin_x", &got, NULL), GH_OK);
    user_clear(&got);

    /* the same address in another case stays verified; a new one is not */
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, "ERIN@example.com", NULL, NULL,
                                  NULL), GH_OK);
    assert_int_equal(users_get(f->c, &f->call, ROOT, u.id, &got), GH_OK);
    assert_string_equal(got.email, "ERIN@example.com");
    assert_int_equal(got.email_verified_at, 12345);
    user_clear(&got);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, "erin2@example.com", NULL, NULL,
                                  NULL), GH_OK);
    assert_int_equal(users_get(f->c, &f->call, ROOT, u.id, &got), GH_OK);
    assert_int_equal(got.email_verified_at, 0);
    user_clear(&got);
    assert_string_equal(query_text(f, "SELECT email_normalized FROM users WHERE id = ?", u.id,
                                   &t), "erin2@example.com");

    /* taken, invalid, missing */
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, "Frank@Example.com", NULL, NULL,
                                  NULL), GH_ERR_CONFLICT);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, NULL, "FRANK", NULL, NULL),
                     GH_ERR_CONFLICT);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, "", NULL, NULL, NULL),
                     GH_ERR_INVALID);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, NULL, "no", NULL, NULL),
                     GH_ERR_INVALID);
    assert_int_equal(users_update(f->c, &f->call, OTHER_TENANT, u.id, NULL, NULL, "x", NULL),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(users_update(f->c, &f->call, ROOT, "nope", NULL, NULL, "x", NULL),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "erin2@EXAMPLE.com", &got, NULL),
                     GH_OK);
    user_clear(&got);
    user_clear(&u);
    user_clear(&v);
}

static void test_users_flags_password(void **state)
{
    fx *f = *state;
    char hash[GH_PW_HASH_MAX], big[GH_PW_HASH_MAX + 1];
    gh_user u, got;
    int64_t n = -1;

    new_user(f, ROOT, "gina@example.com", NULL, &u);
    assert_int_equal(users_count_admins(f->c, &f->call, ROOT, &n), GH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(users_set_flags(f->c, &f->call, ROOT, u.id, -1, 1), GH_OK);
    assert_int_equal(users_get(f->c, &f->call, ROOT, u.id, &got), GH_OK);
    assert_true(got.is_admin && got.is_active);
    user_clear(&got);
    assert_int_equal(users_count_admins(f->c, &f->call, ROOT, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(users_set_flags(f->c, &f->call, ROOT, u.id, 0, -1), GH_OK);
    assert_int_equal(users_get(f->c, &f->call, ROOT, u.id, &got), GH_OK);
    assert_true(got.is_admin && !got.is_active);
    user_clear(&got);
    assert_int_equal(users_count_admins(f->c, &f->call, ROOT, &n), GH_OK);
    assert_int_equal(n, 0); /* an inactive admin does not count */
    assert_int_equal(users_set_flags(f->c, &f->call, ROOT, u.id, 7, 0), GH_OK);
    assert_int_equal(users_get(f->c, &f->call, ROOT, u.id, &got), GH_OK);
    assert_true(!got.is_admin && got.is_active == 1);
    user_clear(&got);
    assert_int_equal(users_set_flags(f->c, &f->call, OTHER_TENANT, u.id, 1, 1),
                     GH_ERR_NOT_FOUND);

    /* a new password replaces the old credential */
    assert_int_equal(users_set_password(f->c, &f->call, u.id, "$2b$12$newhashnewhash"), GH_OK);
    assert_int_equal(users_password_hash(f->c, &f->call, u.id, hash), GH_OK);
    assert_string_equal(hash, "$2b$12$newhashnewhash");
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM credentials WHERE user_id = ?", u.id),
                     1);
    assert_int_equal(users_set_password(f->c, &f->call, "nope", HASH), GH_ERR_NOT_FOUND);
    memset(big, 'h', GH_PW_HASH_MAX);
    big[GH_PW_HASH_MAX] = '\0';
    assert_int_equal(users_set_password(f->c, &f->call, u.id, big), GH_ERR_INVALID);
    assert_int_equal(users_set_password(f->c, &f->call, u.id, NULL), GH_ERR_INVALID);
    assert_int_equal(users_password_hash(f->c, &f->call, u.id, hash), GH_OK);
    assert_string_equal(hash, "$2b$12$newhashnewhash");

    assert_int_equal(users_mark_verified(f->c, &f->call, "nope", 1), GH_ERR_NOT_FOUND);
    user_clear(&u);
}

/* Ids an import keeps: a caller's UUID is the id, any other id the
 * external_id; neither can be taken over, and erasing keeps both. */
static void test_users_kept_ids(void **state)
{
    fx *f = *state;
    static const char kept[] = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
    const gh_profile names = { NULL, NULL, NULL, NULL, "Kay", "Kept", "NZ" };
    gh_user u, b, got;

    memset(&u, 0, sizeof(u));
    strcpy(u.id, kept);
    strcpy(u.tenant_id, ROOT);
    u.email = strdup("kept@example.com");
    u.external_id = strdup("usr_17");
    assert_int_equal(users_create(f->c, &f->call, &u, HASH), GH_OK);
    assert_string_equal(u.id, kept);

    /* the same id again, or the same external id in the tenant: refused */
    memset(&b, 0, sizeof(b));
    strcpy(b.id, kept);
    strcpy(b.tenant_id, ROOT);
    b.email = strdup("thief@example.com");
    assert_int_equal(users_create(f->c, &f->call, &b, HASH), GH_ERR_CONFLICT);
    user_clear(&b);
    memset(&b, 0, sizeof(b));
    strcpy(b.tenant_id, ROOT);
    b.email = strdup("thief@example.com");
    b.external_id = strdup("usr_17");
    assert_int_equal(users_create(f->c, &f->call, &b, HASH), GH_ERR_CONFLICT);
    user_clear(&b);
    /* another tenant has its own external ids */
    add_tenant(f, OTHER_TENANT, "other");
    memset(&b, 0, sizeof(b));
    strcpy(b.tenant_id, OTHER_TENANT);
    b.email = strdup("thief@example.com");
    b.external_id = strdup("usr_17");
    assert_int_equal(users_create(f->c, &f->call, &b, HASH), GH_OK);
    user_clear(&b);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM users WHERE email = ?",
                               "kept@example.com"), 1);

    /* found by either key; the names and country read back */
    assert_int_equal(users_update_profile(f->c, &f->call, ROOT, kept, &names), GH_OK);
    assert_int_equal(users_find_key(f->c, &f->call, ROOT, NULL, "usr_17", 0, &got), GH_OK);
    assert_string_equal(got.id, kept);
    assert_string_equal(got.given_name, "Kay");
    assert_string_equal(got.family_name, "Kept");
    assert_string_equal(got.country_code, "NZ");
    assert_string_equal(got.external_id, "usr_17");
    user_clear(&got);
    assert_int_equal(users_find_key(f->c, &f->call, NULL, kept, NULL, 0, &got), GH_OK);
    user_clear(&got);

    /* erased: the names go, the keys stay, seen only with erased_too */
    assert_int_equal(users_erase(f->c, &f->call, ROOT, kept), GH_OK);
    assert_int_equal(users_find_key(f->c, &f->call, ROOT, NULL, "usr_17", 0, &got),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(users_find_key(f->c, &f->call, ROOT, NULL, "usr_17", 1, &got), GH_OK);
    assert_string_equal(got.id, kept);
    assert_null(got.email);
    assert_null(got.given_name);
    assert_null(got.country_code);
    assert_string_equal(got.external_id, "usr_17");
    user_clear(&got);
    user_clear(&u);
}

static void test_users_erase(void **state)
{
    fx *f = *state;
    char tok1[GH_SECRET_LEN], tok2[GH_SECRET_LEN], next[GH_SECRET_LEN];
    gh_session s1, s2, got;
    gh_user u, other, again;
    text_ud t;

    new_user(f, ROOT, "hank@example.com", "hank", &u);
    new_user(f, ROOT, "ivy@example.com", "ivy", &other);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, NULL, NULL, NULL, "+1 555 0101"),
                     GH_OK);
    assert_int_equal(users_mark_verified(f->c, &f->call, u.id, gh_now_ms()), GH_OK);
    new_session(f, &u, &s1, tok1);
    new_session(f, &u, &s2, tok2);
    assert_int_equal(store_exec_script(f->c, &f->call,
                                       "INSERT INTO one_time_tokens (id, user_id, purpose, "
                                       "token_hash, created_at, expires_at) SELECT 'ott', id, "
                                       "'reset', 'h', 1, 2 FROM users WHERE username = 'hank'"),
                     GH_OK);

    assert_int_equal(users_erase(f->c, &f->call, OTHER_TENANT, u.id), GH_ERR_NOT_FOUND);
    assert_int_equal(users_erase(f->c, &f->call, ROOT, u.id), GH_OK);

    /* the row stays, without a trace of the person */
    assert_int_equal(query_int(f, "SELECT email IS NULL AND email_normalized IS NULL "
                                  "AND username IS NULL AND username_normalized IS NULL "
                                  "AND full_name IS NULL AND phone IS NULL "
                                  "AND email_verified_at IS NULL AND is_active = 0 "
                                  "AND is_admin = 0 AND deleted_at IS NOT NULL "
                                  "FROM users WHERE id = ?", u.id), 1);
    assert_string_equal(query_text(f, "SELECT email FROM users WHERE id = ?", u.id, &t),
                        "(null)");
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM credentials WHERE user_id = ?", u.id),
                     0);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM one_time_tokens WHERE user_id = ?",
                               u.id), 0);
    /* every session revoked, with the reason, and deny-listed */
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM sessions WHERE user_id = ? "
                                  "AND revoked_at IS NOT NULL "
                                  "AND revoke_reason = 'account_deleted'", u.id), 2);
    assert_int_equal(token_denied(f->c, &f->call, s1.id, NULL), 1);
    assert_int_equal(token_denied(f->c, &f->call, s2.id, "some-jti"), 1);
    assert_int_equal(session_get(f->c, &f->call, s1.id, &got), GH_OK);
    assert_true(got.revoked_at > 0);
    assert_int_equal(refresh(f, tok1, &got, next), GH_REFRESH_REVOKED);

    /* gone for every lookup; the address and username are free again */
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "hank@example.com", &again, NULL),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(users_get(f->c, &f->call, NULL, u.id, &again), GH_ERR_NOT_FOUND);
    assert_int_equal(users_password_hash(f->c, &f->call, u.id, t.buf), GH_ERR_NOT_FOUND);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, NULL, NULL, "x", NULL),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(users_erase(f->c, &f->call, ROOT, u.id), GH_ERR_NOT_FOUND);
    new_user(f, ROOT, "hank@example.com", "hank", &again);
    user_clear(&again);

    /* the others are untouched */
    assert_int_equal(users_get(f->c, &f->call, ROOT, other.id, &again), GH_OK);
    assert_string_equal(again.email, "ivy@example.com");
    user_clear(&again);

    /* the deny-list entries last as long as any access token can, with the
     * leeway every instance grants past exp */
    clock_advance_ms(GH_ACCESS_TTL_MAX_MS + GH_DENY_GRACE_MS - 1000);
    assert_int_equal(token_denied(f->c, &f->call, s1.id, NULL), 1);
    clock_advance_ms(2000);
    assert_int_equal(token_denied(f->c, &f->call, s1.id, NULL), 0);
    user_clear(&u);
    user_clear(&other);
}

static void free_users(gh_user *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        user_clear(&v[i]);
    free(v);
}

static void test_users_list(void **state)
{
    fx *f = *state;
    static const char *const emails[] = {
        "a1@example.com", "b2@example.com", "c3@test.org", "d4@example.com", "e5@test.org",
        "f_6@example.com", "g%7@example.com",
    };
    gh_user u, *v;
    size_t n;
    int64_t total;
    char ids[7][37];

    add_tenant(f, OTHER_TENANT, "other");
    for (size_t i = 0; i < 7; i++) {
        new_user(f, ROOT, emails[i], NULL, &u);
        strcpy(ids[i], u.id);
        user_clear(&u);
        clock_advance_ms(1); /* created_at orders the list */
    }
    new_user(f, OTHER_TENANT, "zed@example.com", NULL, &u);
    user_clear(&u);
    assert_int_equal(users_erase(f->c, &f->call, ROOT, ids[3]), GH_OK);

    /* everything live in the tenant, oldest first */
    assert_int_equal(users_list(f->c, &f->call, ROOT, NULL, 0, 0, &v, &n, &total), GH_OK);
    assert_int_equal(total, 6);
    assert_int_equal(n, 6);
    assert_string_equal(v[0].id, ids[0]);
    assert_string_equal(v[2].id, ids[2]);
    assert_string_equal(v[3].id, ids[4]); /* the erased one is skipped */
    assert_string_equal(v[5].email, "g%7@example.com");
    free_users(v, n);

    /* pages: total is the whole match, n the page */
    assert_int_equal(users_list(f->c, &f->call, ROOT, NULL, 2, 2, &v, &n, &total), GH_OK);
    assert_int_equal(total, 6);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].id, ids[2]);
    assert_string_equal(v[1].id, ids[4]);
    free_users(v, n);
    assert_int_equal(users_list(f->c, &f->call, ROOT, NULL, 10, 100, &v, &n, &total), GH_OK);
    assert_int_equal(n, 0);
    assert_null(v);
    assert_int_equal(total, 6);

    /* case-insensitive substring; LIKE's wildcards are plain characters */
    assert_int_equal(users_list(f->c, &f->call, ROOT, "EXAMPLE", 50, 0, &v, &n, &total), GH_OK);
    assert_int_equal(total, 4);
    assert_int_equal(n, 4);
    free_users(v, n);
    assert_int_equal(users_list(f->c, &f->call, ROOT, "test.org", 1, 1, &v, &n, &total), GH_OK);
    assert_int_equal(total, 2);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].email, "e5@test.org");
    free_users(v, n);
    assert_int_equal(users_list(f->c, &f->call, ROOT, "%", 50, 0, &v, &n, &total), GH_OK);
    assert_int_equal(total, 1);
    assert_string_equal(v[0].email, "g%7@example.com");
    free_users(v, n);
    assert_int_equal(users_list(f->c, &f->call, ROOT, "_", 50, 0, &v, &n, &total), GH_OK);
    assert_int_equal(total, 1);
    assert_string_equal(v[0].email, "f_6@example.com");
    free_users(v, n);
    assert_int_equal(users_list(f->c, &f->call, ROOT, "nobody", 50, 0, &v, &n, &total), GH_OK);
    assert_int_equal(total, 0);
    assert_int_equal(n, 0);
    assert_int_equal(users_list(f->c, &f->call, ROOT, "\xff", 50, 0, &v, &n, &total),
                     GH_ERR_INVALID);

    /* the other tenant sees its own */
    assert_int_equal(users_list(f->c, &f->call, OTHER_TENANT, NULL, 50, 0, &v, &n, &total),
                     GH_OK);
    assert_int_equal(total, 1);
    assert_string_equal(v[0].email, "zed@example.com");
    free_users(v, n);
}

/* ------------------------------------------------- encryption at rest */

static int64_t sealed_count(fx *f, const char *col, const char *prefix)
{
    char sql[160];

    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM users WHERE substr(%s, 1, length(?)) = ?",
             col);
    gh_param p[2] = { str_arg(prefix), str_arg(prefix) };
    int64_t v = -2;
    assert_int_equal(store_exec(f->c, &f->call, sql, p, 2, int_row, &v, NULL), GH_OK);
    return v;
}

/* With encryption on (auth/pii.h) the table holds ciphertext and blind
 * indexes only, and every lookup, update, list and erase works on them;
 * a row still in clear text is found and keeps its names taken; a value
 * moved to another row does not decrypt; users_pii_move moves rows to a
 * new key and status counts them. */
static void test_users_encrypted(void **state)
{
    fx *f = *state;
    static const uint8_t idx[PII_KEY_LEN] = { 7 }, k1[PII_KEY_LEN] = { 1 },
                         k2[PII_KEY_LEN] = { 2 };
    gh_pii *p = pii_new(idx);
    gh_user old, u, v = { 0 }, *list = NULL;
    users_pii_status st;
    size_t n = 0;
    int64_t total = 0;
    text_ud t;

    new_user(f, ROOT, "Old.Clear@Example.com", "OldClear", &old);  /* before the switch */
    assert_int_equal(pii_add_key(p, "k1", k1), 0);
    pii_install(p);
    new_user(f, ROOT, "Enc.User@Example.com", "EncUser", &u);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, NULL, NULL, NULL, "+15550009999"),
                     GH_OK);
    assert_int_equal(users_update_profile(f->c, &f->call, ROOT, u.id,
                                          &(const gh_profile){ .given_name = "Encgiven",
                                                               .family_name = "Encfamily",
                                                               .country_code = "NZ" }),
                     GH_OK);
    assert_int_equal(sealed_count(f, "given_name", "gh1:k1:"), 1);
    assert_int_equal(sealed_count(f, "family_name", "gh1:k1:"), 1);
    assert_int_equal(sealed_count(f, "country_code", "gh1:k1:"), 1);
    assert_int_equal(sealed_count(f, "email", "gh1:k1:"), 1);
    assert_int_equal(sealed_count(f, "username", "gh1:k1:"), 1);
    assert_int_equal(sealed_count(f, "full_name", "gh1:k1:"), 1);
    assert_int_equal(sealed_count(f, "phone", "gh1:k1:"), 1);
    assert_int_equal(sealed_count(f, "email_normalized", "bi1:"), 1);
    assert_int_equal(sealed_count(f, "username_normalized", "bi1:"), 1);
    /* No value in clear, in any column. Case-sensitive whole values: a
     * short or case-folded pattern ("%enc%") also matches random base64
     * now and then, and did fail CI once. */
    static const char *const clear[] = { "Enc.User@Example.com", "enc.user@example.com",
                                         "EncUser", "encuser", "Full Name", "+15550009999" };
    for (size_t i = 0; i < sizeof clear / sizeof *clear; i++)
        assert_int_equal(query_int(f, "SELECT COUNT(*) FROM users WHERE instr(email || "
                                      "email_normalized || username || username_normalized || "
                                      "full_name || phone, ?) > 0", clear[i]), 0);

    /* reads and lookups, sealed and clear alike */
    user_clear(&u);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "ENC.user@example.com", &u, NULL),
                     GH_OK);
    assert_string_equal(u.email, "Enc.User@Example.com");
    assert_string_equal(u.username, "EncUser");
    assert_string_equal(u.full_name, "Full Name");
    assert_string_equal(u.phone, "+15550009999");
    user_clear(&v);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "encuser", &v, NULL), GH_OK);
    assert_string_equal(v.id, u.id);
    user_clear(&v);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "old.clear@EXAMPLE.com", &v, NULL),
                     GH_OK);
    assert_string_equal(v.id, old.id);
    user_clear(&v);

    /* names stay unique across both forms */
    assert_int_equal(try_user(f, ROOT, "enc.USER@example.com", NULL, &v), GH_ERR_CONFLICT);
    user_clear(&v);
    assert_int_equal(try_user(f, ROOT, "OLD.CLEAR@example.com", NULL, &v), GH_ERR_CONFLICT);
    user_clear(&v);
    assert_int_equal(try_user(f, ROOT, "new@example.com", "oldclear", &v), GH_ERR_CONFLICT);
    user_clear(&v);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, "old.clear@example.com", NULL,
                                  NULL, NULL), GH_ERR_CONFLICT);
    /* the same address in another case keeps the verification */
    assert_int_equal(users_mark_verified(f->c, &f->call, u.id, 1234), GH_OK);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, "ENC.User@Example.com", NULL,
                                  NULL, NULL), GH_OK);
    assert_int_equal(query_int(f, "SELECT email_verified_at FROM users WHERE id = ?", u.id),
                     1234);

    /* the list filter: whole addresses only */
    assert_int_equal(users_list(f->c, &f->call, ROOT, "enc.user@EXAMPLE.com", 10, 0, &list, &n,
                                &total), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(total, 1);
    assert_string_equal(list[0].id, u.id);
    user_clear(&list[0]);
    free(list);
    assert_int_equal(users_list(f->c, &f->call, ROOT, "old.clear@example.com", 10, 0, &list, &n,
                                &total), GH_OK);
    assert_int_equal(n, 1);
    user_clear(&list[0]);
    free(list);
    assert_int_equal(users_list(f->c, &f->call, ROOT, "enc", 10, 0, &list, &n, &total),
                     GH_ERR_INVALID);
    assert_non_null(strstr(f->call.message, "whole address"));

    /* a value copied into another row does not decrypt: an error, not a crash */
    gh_param ids[2] = { str_arg(u.id), str_arg(old.id) };
    assert_int_equal(store_exec(f->c, &f->call, "UPDATE users SET phone = (SELECT phone FROM "
                                "users WHERE id = ?) WHERE id = ?", ids, 2, NULL, NULL, NULL),
                     GH_OK);
    assert_int_equal(users_get(f->c, &f->call, ROOT, old.id, &v), GH_ERR_INTERNAL);
    assert_null(v.email);
    assert_int_equal(store_exec(f->c, &f->call, "UPDATE users SET phone = NULL WHERE id = ?",
                                &ids[1], 1, NULL, NULL, NULL), GH_OK);

    /* status, then rotation to k2 in batches of one */
    assert_int_equal(users_pii_status_get(f->c, &f->call, p, &st), GH_OK);
    assert_int_equal(st.clear, 1);
    assert_int_equal(st.newest, 1);
    assert_int_equal(pii_add_key(p, "k2", k2), 0);
    users_pii_batch b = { .after = "", .size = 1 };
    int moved = 0;
    do {
        assert_int_equal(users_pii_move(f->c, &f->call, p, &b), GH_OK);
        assert_int_equal(b.failed + b.raced, 0);
        moved += b.moved;
    } while (b.seen == b.size);
    assert_int_equal(moved, 2);
    assert_int_equal(users_pii_status_get(f->c, &f->call, p, &st), GH_OK);
    assert_int_equal(st.newest, 2);
    assert_int_equal(st.clear + st.old_key, 0);
    assert_int_equal(sealed_count(f, "email", "gh1:k1:"), 0);
    assert_int_equal(sealed_count(f, "email", "gh1:k2:"), 2);
    assert_int_equal(users_get(f->c, &f->call, ROOT, old.id, &v), GH_OK);
    assert_string_equal(v.email, "Old.Clear@Example.com");
    assert_string_equal(v.username, "OldClear");
    user_clear(&v);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "oldclear", &v, NULL), GH_OK);
    user_clear(&v);

    /* erasure leaves NULLs, whatever was sealed */
    assert_int_equal(users_erase(f->c, &f->call, ROOT, u.id), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM users WHERE id = ? AND email IS NULL "
                                  "AND email_normalized IS NULL AND username IS NULL AND "
                                  "username_normalized IS NULL AND full_name IS NULL AND "
                                  "phone IS NULL", u.id), 1);
    assert_int_equal(users_pii_status_get(f->c, &f->call, p, &st), GH_OK);
    assert_int_equal(st.erased, 1);

    /* without the keys an encrypted row is a clear error */
    pii_install(NULL);
    assert_int_equal(users_get(f->c, &f->call, ROOT, old.id, &v), GH_ERR_INTERNAL);
    (void)query_text;
    (void)t;
    user_clear(&old);
    user_clear(&u);
    pii_free(p);
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email_normalize),
        cmocka_unit_test(test_username_normalize),
        T(test_users_create_find),
        T(test_users_conflicts),
        T(test_users_update),
        T(test_users_flags_password),
        T(test_users_kept_ids),
        T(test_users_erase),
        T(test_users_list),
        T(test_users_encrypted),
    };

    return RUN(tests);
}
