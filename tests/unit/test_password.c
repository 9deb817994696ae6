/*
 * test_password.c - password hashing, verification and policy.
 *
 * argon2id runs with tiny costs here (the cost is a parameter, the code
 * path is the same); bcrypt hashes are made at test time with libxcrypt,
 * plus fixed vectors from the crypt_blowfish test suite for $2a$ and $2y$.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <argon2.h>
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/password.h"

static const gh_pw_params fast = { 256, 1, 1 };     /* KiB, passes, lanes */
static const gh_pw_params stronger = { 512, 2, 1 };
static const gh_pw_params owasp = { 19456, 2, 1 };

/* crypt_blowfish's vectors: the same salt and body under $2a$ and $2y$ */
#define BCRYPT_2A "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
#define BCRYPT_2Y "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
/* ... and one whose password is longer than the 72 bytes bcrypt reads */
#define BCRYPT_LONG "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui"
#define LONG_PW "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" \
                "chars after 72 are ignored"

static int verify(const char *pw, const char *hash, const gh_pw_params *p, int *rehash)
{
    return password_verify(pw, strlen(pw), hash, p, rehash);
}

/* A bcrypt hash of pw made now by libxcrypt ($2b$, cost 4). */
static void bcrypt_now(const char *pw, char out[GH_PW_HASH_MAX])
{
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];

    assert_non_null(cd);
    assert_non_null(crypt_gensalt_rn("$2b$", 4, NULL, 0, setting, sizeof(setting)));
    assert_non_null(crypt_rn(pw, setting, cd, sizeof(*cd)));
    assert_int_equal(strlen(cd->output), 60);
    memcpy(out, cd->output, 61); /* 60 characters and the NUL */
    free(cd);
}

/* ---------------------------------------------------------------- argon2id */

static void argon2id_round_trip(void **state)
{
    char h1[GH_PW_HASH_MAX], h2[GH_PW_HASH_MAX];
    int rehash = -1;

    (void)state;
    assert_int_equal(password_hash("correct horse", 13, &fast, h1), 0);
    assert_int_equal(strncmp(h1, "$argon2id$v=19$m=256,t=1,p=1$", 29), 0);
    assert_int_equal(verify("correct horse", h1, &fast, &rehash), 1);
    assert_int_equal(rehash, 0);
    /* a fresh salt every time */
    assert_int_equal(password_hash("correct horse", 13, &fast, h2), 0);
    assert_string_not_equal(h1, h2);
    assert_int_equal(verify("correct horse", h2, &fast, NULL), 1);
    /* bytes, not C strings: an empty password and one with NUL in it */
    assert_int_equal(password_hash("", 0, &fast, h1), 0);
    assert_int_equal(password_verify("", 0, h1, &fast, NULL), 1);
    assert_int_equal(password_hash("a\0b", 3, &fast, h1), 0);
    assert_int_equal(password_verify("a\0b", 3, h1, &fast, NULL), 1);
    assert_int_equal(password_verify("a\0c", 3, h1, &fast, NULL), 0);
    assert_int_equal(password_verify("a", 1, h1, &fast, NULL), 0);
}

static void argon2id_wrong_password(void **state)
{
    char h[GH_PW_HASH_MAX];

    (void)state;
    assert_int_equal(password_hash("correct horse", 13, &fast, h), 0);
    assert_int_equal(verify("correct horsf", h, &fast, NULL), 0);
    assert_int_equal(verify("Correct horse", h, &fast, NULL), 0);
    assert_int_equal(verify("correct hors", h, &fast, NULL), 0);
    assert_int_equal(verify("", h, &fast, NULL), 0);
}

static void argon2id_weaker_params_rehash(void **state)
{
    char h[GH_PW_HASH_MAX];
    int rehash = -1;
    gh_pw_params more_lanes = { 256, 1, 2 };

    (void)state;
    assert_int_equal(password_hash("pw-under-test", 13, &fast, h), 0);
    assert_int_equal(verify("pw-under-test", h, &stronger, &rehash), 1);
    assert_int_equal(rehash, 1);
    rehash = -1;
    assert_int_equal(verify("pw-under-test", h, &more_lanes, &rehash), 1);
    assert_int_equal(rehash, 1);
    /* a hash stronger than the configuration is kept */
    assert_int_equal(password_hash("pw-under-test", 13, &stronger, h), 0);
    rehash = -1;
    assert_int_equal(verify("pw-under-test", h, &fast, &rehash), 1);
    assert_int_equal(rehash, 0);
    /* version 1.0 hashes still verify, and are rehashed: with "v=16" and
     * in the older form without any "v=" */
    assert_int_equal(argon2_hash(1, 256, 1, "pw-under-test", 13, "saltsaltsaltsalt", 16, NULL, 32,
                                 h, sizeof(h), Argon2_id, ARGON2_VERSION_10), ARGON2_OK);
    assert_non_null(strstr(h, "$v=16$"));
    rehash = -1;
    assert_int_equal(verify("pw-under-test", h, &fast, &rehash), 1);
    assert_int_equal(rehash, 1);
    memmove(strstr(h, "v=16$"), strstr(h, "v=16$") + 5, strlen(strstr(h, "v=16$") + 5) + 1);
    rehash = -1;
    assert_int_equal(verify("pw-under-test", h, &fast, &rehash), 1);
    assert_int_equal(rehash, 1);
    assert_int_equal(verify("pw-under-tesT", h, &fast, &rehash), 0);
}

static void bad_params_fail(void **state)
{
    char h[GH_PW_HASH_MAX];
    gh_pw_params none = { 0, 0, 0 };

    (void)state;
    assert_int_equal(password_hash("x", 1, &none, h), -1);
}

/* ---------------------------------------------------------------- bcrypt */

static void bcrypt_made_now(void **state)
{
    char h[GH_PW_HASH_MAX];
    int rehash = -1;

    (void)state;
    bcrypt_now("Tr0ub4dor&3", h);
    assert_int_equal(strncmp(h, "$2b$04$", 7), 0);
    assert_int_equal(verify("Tr0ub4dor&3", h, &fast, &rehash), 1);
    assert_int_equal(rehash, 1); /* bcrypt always moves to argon2id */
    rehash = -1;
    assert_int_equal(verify("Tr0ub4dor&4", h, &fast, &rehash), 0);
    assert_int_equal(verify("", h, &fast, NULL), 0);
}

static void bcrypt_known_vectors(void **state)
{
    int rehash = -1;

    (void)state;
    assert_int_equal(verify("U*U", BCRYPT_2A, &fast, &rehash), 1);
    assert_int_equal(rehash, 1);
    rehash = -1;
    assert_int_equal(verify("U*U", BCRYPT_2Y, &fast, &rehash), 1);
    assert_int_equal(rehash, 1);
    assert_int_equal(verify("U*V", BCRYPT_2A, &fast, NULL), 0);
    assert_int_equal(verify("U*V", BCRYPT_2Y, &fast, NULL), 0);
}

/* bcrypt reads 72 bytes: longer passwords never match, never truncate */
static void bcrypt_no_truncation(void **state)
{
    char h[GH_PW_HASH_MAX], pw72[73], pw73[74];

    (void)state;
    /* the vector's hash is of its first 72 bytes: that prefix matches ... */
    memcpy(pw72, LONG_PW, 72);
    pw72[72] = '\0';
    assert_int_equal(verify(pw72, BCRYPT_LONG, &fast, NULL), 1);
    /* ... the full password, which bcrypt itself would accept, does not */
    assert_int_equal(verify(LONG_PW, BCRYPT_LONG, &fast, NULL), 0);
    /* nor does another password sharing the first 72 bytes */
    bcrypt_now(pw72, h);
    assert_int_equal(verify(pw72, h, &fast, NULL), 1);
    memcpy(pw73, pw72, 72);
    pw73[72] = 'x';
    pw73[73] = '\0';
    assert_int_equal(verify(pw73, h, &fast, NULL), 0);
    /* a NUL would end the phrase crypt reads: refused too */
    bcrypt_now("abc", h);
    assert_int_equal(password_verify("abc", 3, h, &fast, NULL), 1);
    assert_int_equal(password_verify("abc\0def", 7, h, &fast, NULL), 0);
}

/* ---------------------------------------------------------------- malformed */

static void malformed_hashes(void **state)
{
    static const char *const bad[] = {
        "",
        "plaintext",
        "$1$saltsalt$abcdefghijklmnopqrstuv",          /* MD5-crypt */
        "$6$saltsalt$abcdefghijklmnop",                /* SHA-512-crypt */
        "$argon2i$v=19$m=256,t=1,p=1$c29tZXNhbHQ$aGFzaA", /* not argon2id */
        "$argon2id$",
        "$argon2id$v=19$",
        "$argon2id$v=19$m=abc,t=1,p=1$c29tZXNhbHQ$aGFzaA",
        "$argon2id$v=19$m=256,t=1$c29tZXNhbHQ$aGFzaA",
        "$argon2id$v=19$m=256,t=1,p=1",
        "$argon2id$v=19$m=256,t=1,p=1$!!!$???",
        "$argon2id$v=19$m=99999999999,t=1,p=1$c29tZXNhbHQ$aGFzaA",
        "$argon2id$v=19$m=8388608,t=1,p=1$c29tZXNhbHQ$aGFzaA", /* 8 GiB: refused */
        "$argon2id$v=19$m=256,t=1000,p=1$c29tZXNhbHQ$aGFzaA",
        "$2b$04$short",
        "$2b$04$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWX", /* 61 */
        "$2b$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", /* cost */
        "$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", /* days */
        "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe!",
        "$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", /* buggy variant */
        "$2b$5$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWW",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rehash = 0;
        if (verify("U*U", bad[i], &fast, &rehash) != -1)
            fail_msg("hash %zu (%s) was not refused as malformed", i, bad[i]);
        assert_int_equal(rehash, 1);
    }
    assert_int_equal(password_verify("x", 1, NULL, &fast, NULL), -1);
}

/* ---------------------------------------------------------------- dummy */

static double elapsed_ms(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static void dummy_verify_costs_a_verify(void **state)
{
    char h[GH_PW_HASH_MAX];
    struct timespec t0, t1, t2, t3;

    (void)state;
    password_verify_dummy("anything", 8, &owasp); /* makes the dummy hash */
    assert_int_equal(password_hash("real password", 13, &owasp, h), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    password_verify_dummy("anything", 8, &owasp);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(verify("wrong password", h, &owasp, NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    /* new parameters (a reload): a new dummy hash, still no crash */
    password_verify_dummy("anything", 8, &fast);
    password_verify_dummy("", 0, &fast);
    clock_gettime(CLOCK_MONOTONIC, &t3);
    print_message("dummy verify %.1f ms, real verify %.1f ms (OWASP params)\n",
                  elapsed_ms(&t0, &t1), elapsed_ms(&t1, &t2));
}

/* ---------------------------------------------------------------- policy */

static const gh_pw_policy nist = { 8, 64, 0, 0, 0, 0, 1 };

static const char *check(const gh_pw_policy *pol, const char *pw, const char **detail)
{
    return password_policy_check(pol, pw, strlen(pw), NULL, detail);
}

static void policy_lengths(void **state)
{
    const char *detail = NULL;
    char pw[200];

    (void)state;
    assert_null(check(&nist, "zebra-kettle", &detail));
    assert_null(detail);
    assert_string_equal(check(&nist, "zebra-k", &detail), "password_too_short");
    assert_string_equal(detail, "Use at least 8 characters.");
    memset(pw, 'q', 65);
    pw[65] = '\0';
    assert_string_equal(check(&nist, pw, &detail), "password_too_long");
    assert_string_equal(detail, "Use at most 64 characters.");
    pw[64] = '\0';
    assert_null(check(&nist, pw, &detail));
    assert_string_equal(check(&nist, "", NULL), "password_too_short"); /* detail optional */
}

static void policy_utf8_code_points(void **state)
{
    const gh_pw_policy nine = { 9, 64, 0, 0, 0, 0, 1 };
    const gh_pw_policy eight = { 8, 8, 0, 0, 0, 0, 1 };
    const char *detail = NULL;
    char pw[4 * 65 + 1] = "";

    (void)state;
    /* "pässwörd": 10 bytes, 8 characters */
    assert_int_equal(strlen("p\xc3\xa4ssw\xc3\xb6rd"), 10);
    assert_null(check(&eight, "p\xc3\xa4ssw\xc3\xb6rd", &detail));
    assert_string_equal(check(&nine, "p\xc3\xa4ssw\xc3\xb6rd", &detail), "password_too_short");
    /* 64 four-byte characters fit a 64-character maximum; 65 do not */
    for (int i = 0; i < 64; i++)
        strcat(pw, "\xf0\x9f\x94\x91"); /* U+1F511 */
    assert_null(check(&nist, pw, &detail));
    strcat(pw, "\xf0\x9f\x94\x91");
    assert_string_equal(check(&nist, pw, &detail), "password_too_long");
}

static void policy_invalid_utf8(void **state)
{
    static const char *const bad[] = {
        "abcdefgh\xc3\x28",          /* bad continuation */
        "abcdefgh\xc0\xaf",          /* overlong '/' */
        "abcdefgh\xe0\x80\xaf",      /* overlong, 3 bytes */
        "abcdefgh\xed\xa0\x80",      /* UTF-16 surrogate */
        "abcdefgh\xf4\x90\x80\x80",  /* past U+10FFFF */
        "abcdefgh\xe2\x82",          /* truncated */
        "abcdefgh\x80",              /* lone continuation */
        "abcdefgh\xff",
    };
    const char *detail = NULL;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *code = check(&nist, bad[i], &detail);
        if (!code || strcmp(code, "password_invalid_utf8") != 0)
            fail_msg("sample %zu: %s", i, code ? code : "accepted");
    }
    assert_non_null(detail);
    assert_string_equal(password_policy_check(&nist, "abcd\0efghij", 11, NULL, &detail),
                        "password_invalid_utf8");
    /* the largest code point and a 3-byte one are fine */
    assert_null(check(&nist, "abcdefgh\xf4\x8f\xbf\xbf\xe2\x82\xac", &detail));
}

static void policy_composition(void **state)
{
    gh_pw_policy all = { 8, 64, 1, 1, 1, 1, 1 };
    const char *detail = NULL;

    (void)state;
    assert_string_equal(check(&all, "lowercase-7x", &detail), "password_needs_upper");
    assert_string_equal(detail, "Include at least one upper-case letter.");
    assert_string_equal(check(&all, "UPPERCASE-7X", &detail), "password_needs_lower");
    assert_string_equal(check(&all, "MixedCase-xx", &detail), "password_needs_digit");
    assert_string_equal(check(&all, "MixedCase7xx", &detail), "password_needs_special");
    assert_non_null(detail);
    assert_null(check(&all, "MixedCase7x!", &detail));
    assert_null(check(&all, "MixedCase7x ", &detail));           /* space is special */
    assert_null(check(&all, "MixedCase7x\xc3\xa9", &detail));    /* so is non-ASCII */
    /* each rule alone */
    all = (gh_pw_policy){ 8, 64, 0, 0, 1, 0, 1 };
    assert_string_equal(check(&all, "no-digits-here", &detail), "password_needs_digit");
    assert_null(check(&all, "one-digit-9", &detail));
}

static void common_list_loaded(void **state)
{
    (void)state;
    print_message("%zu distinct common passwords\n", password_common_count());
    assert_true(password_common_count() > 3000);
    assert_true(password_is_common("password1", 9));
    assert_true(password_is_common("PASSWORD1", 9));
    assert_true(password_is_common("Baseball", 8));
    assert_true(password_is_common("bAsEbAlL", 8));
    assert_false(password_is_common("zebra-kettle-lamp", 17));
    assert_false(password_is_common("", 0));
    assert_false(password_is_common("password1 ", 10));
    assert_false(password_is_common("basebal", 7)); /* a prefix is not a match */
}

static void policy_common(void **state)
{
    gh_pw_policy off = nist;
    const char *detail = NULL;

    (void)state;
    assert_string_equal(check(&nist, "password1", &detail), "password_too_common");
    assert_non_null(detail);
    assert_string_equal(check(&nist, "Baseball", &detail), "password_too_common");
    assert_string_equal(check(&nist, "BASEBALL", &detail), "password_too_common");
    off.check_common = 0;
    assert_null(check(&off, "Baseball", &detail));
}

static void policy_context(void **state)
{
    const char *ctx[] = { "Alice.Smith@Example.com", "SuperAlice", NULL };
    const char *detail = NULL;
    const char *pw[] = { "alice.smith@example.com", "ALICE.SMITH", "superalice" };

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        const char *code = password_policy_check(&nist, pw[i], strlen(pw[i]), ctx, &detail);
        if (!code || strcmp(code, "password_too_common") != 0)
            fail_msg("%s: %s", pw[i], code ? code : "accepted");
        assert_string_equal(detail, "Do not use your email address or username as your password.");
    }
    assert_null(password_policy_check(&nist, "alice.smith!", 12, ctx, &detail));
    assert_null(password_policy_check(&nist, "Example.com", 11, ctx, &detail));
    /* no context at all */
    assert_null(password_policy_check(&nist, "superalice", 10, NULL, &detail));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(argon2id_round_trip),
        cmocka_unit_test(argon2id_wrong_password),
        cmocka_unit_test(argon2id_weaker_params_rehash),
        cmocka_unit_test(bad_params_fail),
        cmocka_unit_test(bcrypt_made_now),
        cmocka_unit_test(bcrypt_known_vectors),
        cmocka_unit_test(bcrypt_no_truncation),
        cmocka_unit_test(malformed_hashes),
        cmocka_unit_test(dummy_verify_costs_a_verify),
        cmocka_unit_test(policy_lengths),
        cmocka_unit_test(policy_utf8_code_points),
        cmocka_unit_test(policy_invalid_utf8),
        cmocka_unit_test(policy_composition),
        cmocka_unit_test(common_list_loaded),
        cmocka_unit_test(policy_common),
        cmocka_unit_test(policy_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
