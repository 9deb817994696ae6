/*
 * test_webhook_sig.c - Standard Webhooks signatures: the specification's
 * own example, the timestamp window, several listed signatures, and what
 * is refused (another body, id or secret, a malformed header or secret).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "auth/webhook_sig.h"

/* the example of the Standard Webhooks specification (and Svix's docs) */
#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define TS 1614265330
#define TS_TEXT "1614265330"
#define BODY "{\"test\": 2432232314}"
#define SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static webhook_check verify(const char *secret, const char *id, const char *ts, const char *sigs,
                            const char *body, int64_t now)
{
    return webhook_verify(secret, id, ts, sigs, body, strlen(body), now);
}

static void test_sign(void **state)
{
    char sig[WEBHOOK_SIG_LEN];
    (void)state;
    assert_int_equal(webhook_sign(SECRET, ID, TS, BODY, strlen(BODY), sig), 0);
    assert_string_equal(sig, SIG);
    assert_int_equal(webhook_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", ID, TS, BODY, strlen(BODY), sig), -1);
    assert_int_equal(webhook_sign(SECRET, "", TS, BODY, strlen(BODY), sig), -1);
}

static void test_verify(void **state)
{
    (void)state;
    assert_int_equal(verify(SECRET, ID, TS_TEXT, SIG, BODY, TS), WEBHOOK_SIG_OK);
    /* any listed one may match; other versions are skipped */
    assert_int_equal(verify(SECRET, ID, TS_TEXT, "v1,AAAA v1a,xyz " SIG, BODY, TS), WEBHOOK_SIG_OK);
    assert_int_equal(verify(SECRET, ID, TS_TEXT, SIG " v1,AAAA", BODY, TS), WEBHOOK_SIG_OK);
    /* without padding, as some senders write it */
    assert_int_equal(verify(SECRET, ID, TS_TEXT, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE", BODY, TS),
                     WEBHOOK_SIG_OK);
    /* what is signed */
    assert_int_equal(verify(SECRET, ID, TS_TEXT, SIG, "{\"test\": 2432232315}", TS), WEBHOOK_SIG_MISMATCH);
    assert_int_equal(verify(SECRET, ID "x", TS_TEXT, SIG, BODY, TS), WEBHOOK_SIG_MISMATCH);
    assert_int_equal(verify(SECRET, ID, "1614265331", SIG, BODY, TS), WEBHOOK_SIG_MISMATCH);
    assert_int_equal(verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx", ID, TS_TEXT, SIG, BODY, TS),
                     WEBHOOK_SIG_MISMATCH);
    assert_int_equal(verify(SECRET, ID, TS_TEXT, "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", BODY, TS), WEBHOOK_SIG_MISMATCH);
    assert_int_equal(verify(SECRET, ID, TS_TEXT, "", BODY, TS), WEBHOOK_SIG_MISMATCH);
    assert_int_equal(verify(SECRET, ID, TS_TEXT, "v1,g0hM9SsE-OTPJTGt_tmIKtSyZlE3uFJELVlNIOLJ1OE=", BODY, TS),
                     WEBHOOK_SIG_MISMATCH); /* base64url is not base64 */
    /* the window: 5 minutes either way */
    assert_int_equal(verify(SECRET, ID, TS_TEXT, SIG, BODY, TS + WEBHOOK_TOLERANCE_S), WEBHOOK_SIG_OK);
    assert_int_equal(verify(SECRET, ID, TS_TEXT, SIG, BODY, TS - WEBHOOK_TOLERANCE_S), WEBHOOK_SIG_OK);
    assert_int_equal(verify(SECRET, ID, TS_TEXT, SIG, BODY, TS + WEBHOOK_TOLERANCE_S + 1), WEBHOOK_SIG_STALE);
    assert_int_equal(verify(SECRET, ID, TS_TEXT, SIG, BODY, TS - WEBHOOK_TOLERANCE_S - 1), WEBHOOK_SIG_STALE);
    /* malformed */
    assert_int_equal(webhook_verify(SECRET, NULL, TS_TEXT, SIG, BODY, strlen(BODY), TS), WEBHOOK_SIG_MISSING);
    assert_int_equal(webhook_verify(SECRET, ID, NULL, SIG, BODY, strlen(BODY), TS), WEBHOOK_SIG_MISSING);
    assert_int_equal(webhook_verify(SECRET, ID, TS_TEXT, NULL, BODY, strlen(BODY), TS), WEBHOOK_SIG_MISSING);
    assert_int_equal(verify(SECRET, "msg 1", TS_TEXT, SIG, BODY, TS), WEBHOOK_SIG_MISSING);
    assert_int_equal(verify(SECRET, ID, "-1614265330", SIG, BODY, TS), WEBHOOK_SIG_TIMESTAMP);
    assert_int_equal(verify(SECRET, ID, "1614265330.5", SIG, BODY, TS), WEBHOOK_SIG_TIMESTAMP);
    assert_int_equal(verify(SECRET, ID, "", SIG, BODY, TS), WEBHOOK_SIG_TIMESTAMP);
    assert_int_equal(verify(SECRET, ID, "99999999999999999999", SIG, BODY, TS), WEBHOOK_SIG_TIMESTAMP);
    assert_int_equal(verify("whsec_!!", ID, TS_TEXT, SIG, BODY, TS), WEBHOOK_SIG_ERROR);
}

static void test_secret(void **state)
{
    char a[WEBHOOK_SECRET_LEN], b[WEBHOOK_SECRET_LEN], sig[WEBHOOK_SIG_LEN];
    unsigned char key[WEBHOOK_KEY_MAX];
    (void)state;
    assert_int_equal(webhook_secret_new(a), 0);
    assert_int_equal(webhook_secret_new(b), 0);
    assert_int_equal(strlen(a), WEBHOOK_SECRET_LEN - 1);
    assert_memory_equal(a, WEBHOOK_SECRET_TAG, strlen(WEBHOOK_SECRET_TAG));
    assert_string_not_equal(a, b);
    assert_int_equal(webhook_secret_key(a, key), WEBHOOK_KEY_BYTES);
    assert_int_equal(webhook_secret_key(SECRET, key), 24);
    assert_int_equal(webhook_secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key), -1);
    assert_int_equal(webhook_secret_key("whsec_", key), -1);
    assert_int_equal(webhook_secret_key(NULL, key), -1);
    /* what one signs, the other checks; a new secret does not */
    assert_int_equal(webhook_sign(a, "msg_1", 1000, "{}", 2, sig), 0);
    assert_int_equal(webhook_verify(a, "msg_1", "1000", sig, "{}", 2, 1000), WEBHOOK_SIG_OK);
    assert_int_equal(webhook_verify(b, "msg_1", "1000", sig, "{}", 2, 1000), WEBHOOK_SIG_MISMATCH);
}

static void test_id(void **state)
{
    char long_id[WEBHOOK_ID_MAX + 2];
    (void)state;
    assert_true(webhook_id_valid(ID));
    assert_false(webhook_id_valid(""));
    assert_false(webhook_id_valid(NULL));
    assert_false(webhook_id_valid("a\tb"));
    assert_false(webhook_id_valid("caf\xc3\xa9"));
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[WEBHOOK_ID_MAX] = '\0';
    assert_true(webhook_id_valid(long_id));
    long_id[WEBHOOK_ID_MAX] = 'a';
    long_id[WEBHOOK_ID_MAX + 1] = '\0';
    assert_false(webhook_id_valid(long_id));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_secret),
        cmocka_unit_test(test_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
