/*
 * test_host_services.c - the ABI 1.1 host services a plugin would
 * otherwise bring with its own libcrypto, checked against published
 * vectors: HMAC (RFC 4231), TOTP's HMAC-SHA-1 (RFC 6238), the encodings
 * (RFC 4648), percent and form encoding (RFC 3986), and the JSON members.
 * jwt_verify has its own test (it needs a key set server).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "log.h"
#include "plugin/host.h"

static const gh_host *h = &gh_host_table;

static void hex_of(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static void test_hmac_rfc4231(void **state)
{
    unsigned char key[20], mac[GH_DIGEST_MAX];
    char hex[2 * GH_DIGEST_MAX + 1];
    size_t n = 0;
    gh_call call;

    (void)state;
    call_init(&call, NULL, "test", 1000);
    memset(key, 0x0b, sizeof(key));
    /* test case 1 */
    assert_int_equal(h->hmac(&call, GH_SHA256, key, sizeof(key), "Hi There", 8, mac, sizeof(mac),
                             &n), GH_OK);
    assert_int_equal(n, 32);
    hex_of(mac, n, hex);
    assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    assert_int_equal(h->hmac(&call, GH_SHA512, key, sizeof(key), "Hi There", 8, mac, sizeof(mac),
                             &n), GH_OK);
    assert_int_equal(n, 64);
    hex_of(mac, n, hex);
    assert_string_equal(hex, "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
                             "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
    /* too small an output buffer is refused, not overrun */
    assert_int_equal(h->hmac(&call, GH_SHA256, key, sizeof(key), "x", 1, mac, 31, &n),
                     GH_ERR_INVALID);
    assert_int_equal(h->digest(&call, 99, "x", 1, mac, sizeof(mac), &n), GH_ERR_UNSUPPORTED);
}

static void test_digest(void **state)
{
    unsigned char d[GH_DIGEST_MAX];
    char hex[2 * GH_DIGEST_MAX + 1];
    size_t n = 0;
    gh_call call;

    (void)state;
    call_init(&call, NULL, "test", 1000);
    assert_int_equal(h->digest(&call, GH_SHA256, "abc", 3, d, sizeof(d), &n), GH_OK);
    hex_of(d, n, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(h->digest(&call, GH_SHA1, "abc", 3, d, sizeof(d), &n), GH_OK);
    hex_of(d, n, hex);
    assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
}

/* RFC 6238 appendix B, SHA-1: the secret "12345678901234567890" given in
 * base32 as an authenticator app has it, decoded, then HOTP's dynamic
 * truncation over HMAC-SHA-1 of the time step. */
static uint32_t totp(const unsigned char *key, size_t klen, uint64_t t)
{
    unsigned char msg[8], mac[GH_DIGEST_MAX];
    uint64_t step = t / 30;
    size_t n = 0, off;
    gh_call call;

    call_init(&call, NULL, "test", 1000);
    for (int i = 7; i >= 0; i--, step >>= 8)
        msg[i] = (unsigned char)(step & 0xff);
    assert_int_equal(h->hmac(&call, GH_SHA1, key, klen, msg, 8, mac, sizeof(mac), &n), GH_OK);
    assert_int_equal(n, 20);
    off = mac[19] & 0xf;
    return (((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
            ((uint32_t)mac[off + 2] << 8) | mac[off + 3]) % 100000000u;
}

static void test_totp_rfc6238(void **state)
{
    static const char b32[] = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    unsigned char key[64];
    size_t n = 0;
    gh_call call;

    (void)state;
    call_init(&call, NULL, "test", 1000);
    assert_int_equal(h->decode(&call, GH_ENC_BASE32, b32, strlen(b32), key, sizeof(key), &n),
                     GH_OK);
    assert_int_equal(n, 20);
    assert_memory_equal(key, "12345678901234567890", 20);
    assert_int_equal(totp(key, n, 59), 94287082);
    assert_int_equal(totp(key, n, 1111111109), 7081804);
    assert_int_equal(totp(key, n, 2000000000), 69279037);
}

typedef struct vec {
    uint32_t enc;
    const char *plain, *text;
} vec;

static void test_encodings_rfc4648(void **state)
{
    static const vec v[] = {
        { GH_ENC_BASE64, "", "" },           { GH_ENC_BASE64, "f", "Zg==" },
        { GH_ENC_BASE64, "fo", "Zm8=" },     { GH_ENC_BASE64, "foo", "Zm9v" },
        { GH_ENC_BASE64, "foob", "Zm9vYg==" }, { GH_ENC_BASE64, "fooba", "Zm9vYmE=" },
        { GH_ENC_BASE64, "foobar", "Zm9vYmFy" },
        { GH_ENC_BASE32, "f", "MY======" },  { GH_ENC_BASE32, "fo", "MZXQ====" },
        { GH_ENC_BASE32, "foo", "MZXW6===" }, { GH_ENC_BASE32, "foob", "MZXW6YQ=" },
        { GH_ENC_BASE32, "fooba", "MZXW6YTB" }, { GH_ENC_BASE32, "foobar", "MZXW6YTBOI======" },
        { GH_ENC_HEX, "foobar", "666f6f626172" },
        { GH_ENC_BASE64URL, "\xfb\xff", "-_8" },
    };
    char text[64];
    unsigned char bytes[64];
    size_t n;
    gh_call call;

    (void)state;
    call_init(&call, NULL, "test", 1000);
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        size_t plen = strlen(v[i].plain);

        assert_int_equal(h->encode(&call, v[i].enc, v[i].plain, plen, text, sizeof(text), &n),
                         GH_OK);
        assert_string_equal(text, v[i].text);
        assert_int_equal(n, strlen(v[i].text));
        assert_int_equal(h->decode(&call, v[i].enc, v[i].text, strlen(v[i].text), bytes,
                                   sizeof(bytes), &n), GH_OK);
        assert_int_equal(n, plen);
        assert_memory_equal(bytes, v[i].plain, plen);
    }
    /* strict: one byte string, one text */
    assert_int_equal(h->decode(&call, GH_ENC_BASE64, "Zg=", 3, bytes, sizeof(bytes), &n),
                     GH_ERR_INVALID); /* padding missing */
    assert_int_equal(h->decode(&call, GH_ENC_BASE64, "Zh==", 4, bytes, sizeof(bytes), &n),
                     GH_ERR_INVALID); /* bits left over */
    assert_int_equal(h->decode(&call, GH_ENC_BASE64, "Zm9v\n", 5, bytes, sizeof(bytes), &n),
                     GH_ERR_INVALID);
    assert_int_equal(h->decode(&call, GH_ENC_BASE64URL, "-_8=", 4, bytes, sizeof(bytes), &n),
                     GH_ERR_INVALID); /* base64url has no padding */
    assert_int_equal(h->decode(&call, GH_ENC_BASE32, "MY1=====", 8, bytes, sizeof(bytes), &n),
                     GH_ERR_INVALID);
    assert_int_equal(h->decode(&call, GH_ENC_HEX, "6g", 2, bytes, sizeof(bytes), &n),
                     GH_ERR_INVALID);
    assert_int_equal(h->decode(&call, GH_ENC_HEX, "666", 3, bytes, sizeof(bytes), &n),
                     GH_ERR_INVALID);
    /* the output must fit */
    assert_int_equal(h->encode(&call, GH_ENC_HEX, "foobar", 6, text, 12, &n), GH_ERR_INVALID);
}

static void test_equal_ct(void **state)
{
    (void)state;
    assert_int_equal(h->equal_ct("abcdef", "abcdef", 6), 1);
    assert_int_equal(h->equal_ct("abcdef", "abcdeg", 6), 0);
    assert_int_equal(h->equal_ct("xbcdef", "abcdef", 6), 0);
    assert_int_equal(h->equal_ct("a", "b", 0), 1);
}

static void test_url_and_form(void **state)
{
    int64_t n = 42;
    int32_t yes = 1;
    const gh_param form[] = {
        { "grant_type", GH_T_STR, "authorization_code", 18 },
        { "redirect_uri", GH_T_STR, "https://a.example/cb?x=1&y", 26 },
        { "n", GH_T_INT, &n, sizeof(n) },
        { "ok", GH_T_BOOL, &yes, sizeof(yes) },
        { "scope", GH_T_STR, "openid email", 12 },
        { NULL, 0, NULL, 0 },
    };
    char *out = NULL;
    gh_call call;

    (void)state;
    call_init(&call, NULL, "test", 1000);
    assert_int_equal(h->url_encode(&call, "a b/ü~-._", strlen("a b/ü~-._"), &out), GH_OK);
    assert_string_equal(out, "a%20b%2F%C3%BC~-._");
    h->free(out);
    assert_int_equal(h->form_encode(&call, form, &out), GH_OK);
    assert_string_equal(out, "grant_type=authorization_code&redirect_uri=https%3A%2F%2F"
                             "a.example%2Fcb%3Fx%3D1%26y&n=42&ok=true&scope=openid+email");
    h->free(out);
}

static void test_json(void **state)
{
    static const char doc[] = "{\"b\":1.5,\"a\":[1,2],\"c\":{\"d\":true}}";
    gh_json *j = NULL;
    const gh_json *v = NULL;
    const char *key;
    char *out = NULL;
    gh_call call;
    const gh_param items[] = { { NULL, GH_T_STR, "x", 1 }, { NULL, GH_T_STR, "y\"", 2 } };
    const gh_param inner[] = { { "k", GH_T_STR, "v", 1 }, { NULL, 0, NULL, 0 } };
    const gh_param fields[] = {
        { "list", GH_T_LIST, items, 2 },
        { "map", GH_T_MAP, inner, 0 },
        { NULL, 0, NULL, 0 },
    };

    (void)state;
    call_init(&call, NULL, "test", 1000);
    assert_int_equal(h->json_decode(&call, doc, strlen(doc), &j), GH_OK);
    /* members in document order, then NULL */
    assert_string_equal(key = h->json_key_at(j, 0, &v), "b");
    assert_true(h->json_double(v, 0) == 1.5);
    assert_string_equal(h->json_key_at(j, 1, NULL), "a");
    assert_string_equal(h->json_key_at(j, 2, &v), "c");
    assert_null(h->json_key_at(j, 3, &v));
    assert_null(h->json_key_at(h->json_get(j, "a"), 0, &v)); /* not an object */
    assert_true(h->json_double(h->json_get(j, "c"), -1) == -1);
    assert_int_equal(h->json_dump(&call, h->json_get(j, "c"), &out), GH_OK);
    assert_string_equal(out, "{\"d\":true}");
    h->free(out);
    h->json_free(j);

    assert_int_equal(h->json_encode_to(&call, fields, &out), GH_OK);
    assert_string_equal(out, "{\"list\":[\"x\",\"y\\\"\"],\"map\":{\"k\":\"v\"}}");
    h->free(out);
}

int main(void)
{
    gh_log_conf quiet = { .level = GH_LOG_ERROR };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_digest),
        cmocka_unit_test(test_totp_rfc6238),
        cmocka_unit_test(test_encodings_rfc4648),
        cmocka_unit_test(test_equal_ct),
        cmocka_unit_test(test_url_and_form),
        cmocka_unit_test(test_json),
    };

    log_configure(&quiet); /* refusals are logged; keep the output to results */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
