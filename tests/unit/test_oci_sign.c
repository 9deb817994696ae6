/*
 * test_oci_sign.c - the oci plugin's request signature
 * (plugins/cloud/oci/oci_sign.c) against Oracle's published test vectors
 * (the docs' "Request Signatures" test values, as the Go SDK's
 * common/http_signer_test.go reproduces them): the GET and the POST
 * signing strings, signatures and Authorization headers byte for byte,
 * the body's x-content-sha256, and the test key's fingerprint. RSA
 * PKCS#1 v1.5 is deterministic, so exact signatures are a fair test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/pem.h>

#include "asserts.h"
#include "oci_test_key.h"
#include "call.h"
#include "plugin/host.h"
#include "../../plugins/cloud/oci/oci_sign.h"

static const gh_host *const h = &gh_host_table;

/* the Go SDK test's made-up fingerprint: the keyId is not signed */
#define GO_FINGERPRINT "20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34"
#define KEY_ID TENANCY "/" USER "/" GO_FINGERPRINT
#define DATE "Thu, 05 Jan 2014 21:31:40 GMT"
#define HOST "iaas.us-phoenix-1.oraclecloud.com"

#define GET_TARGET                                                                       \
    "/20160918/instances?availabilityDomain=Pjwf%3A%20PHX-AD-1&compartmentId=ocid1."      \
    "compartment.oc1..aaaaaaaam3we6vgnherjq5q2idnccdflvjsnog7mlr6rtdb25gilchfeyjxa&"      \
    "displayName=TeamXInstances&volumeId=ocid1.volume.oc1.phx."                           \
    "abyhqljrgvttnlx73nmrwfaux7kcvzfs3s66izvxf2h4lgvyndsdsnoiwr5q"
#define GET_SIGNATURE                                                                    \
    "GBas7grhyrhSKHP6AVIj/h5/Vp8bd/peM79H9Wv8kjoaCivujVXlpbKLjMPeDUhxkFIWtTtLBj3sUzaFj34X" \
    "E6YZAHc9r2DmE4pMwOAy/kiITcZxa1oHPOeRheC0jP2dqbTll8fmTZVwKZOKHYPtrLJIJQHJjNvxFWeHQjMa" \
    "R7M="

/* The POST body: exactly these 316 bytes, 4-space indents, no last newline. */
static const char post_body[] =
    "{\n"
    "    \"compartmentId\": \"ocid1.compartment.oc1..aaaaaaaam3we6vgnherjq5q2idnccdflvjsnog7mlr6rtdb25gilchfeyjxa\",\n"
    "    \"instanceId\": \"ocid1.instance.oc1.phx.abuw4ljrlsfiqw6vzzxb43vyypt4pkodawglp3wqxjqofakrwvou52gb6s5a\",\n"
    "    \"volumeId\": \"ocid1.volume.oc1.phx.abyhqljrgvttnlx73nmrwfaux7kcvzfs3s66izvxf2h4lgvyndsdsnoiwr5q\"\n"
    "}";
#define POST_SHA256 "V9Z20UJTvkvpJ50flBzKE32+6m2zJjweHpDMX/U4Uy0="
#define POST_SIGNATURE                                                                   \
    "Mje8vIDPlwIHmD/cTDwRxE7HaAvBg16JnVcsuqaNRim23fFPgQfLoOOxae6WqKb1uPjYEl0qIdazWaBy/Ml8" \
    "DRhqlocMwoSXv0fbukP8J5N80LCmzT/FFBvIvTB91XuXI3hYfP9Zt1l7S6ieVadHUfqBedWH0itrtPJBgKmr" \
    "Wso="

static EVP_PKEY *key;

static int group_setup(void **state)
{
    char path[] = "/tmp/test_oci_sign.XXXXXX";
    int fd = mkstemp(path);
    char why[512];
    gh_result r;

    (void)state;
    if (fd < 0 || write(fd, test_key, sizeof test_key - 1) != (ssize_t)(sizeof test_key - 1))
        return -1;
    close(fd);
    r = oci_key_load(path, NULL, &key, why, sizeof why);
    unlink(path);
    return r == GH_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(key);
    return 0;
}

/* The fingerprint of the docs' key, and of its public half alone: what
 * the console shows for the uploaded public key. */
static void test_fingerprint(void **state)
{
    char fp[OCI_FINGERPRINT_LEN];
    BIO *b = BIO_new_mem_buf(test_public_key, -1);
    EVP_PKEY *pub = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;

    (void)state;
    assert_int_equal(oci_key_fingerprint(h, NULL, key, fp), GH_OK);
    assert_string_equal(fp, FINGERPRINT);
    assert_non_null(pub);
    assert_int_equal(oci_key_fingerprint(h, NULL, pub, fp), GH_OK);
    assert_string_equal(fp, FINGERPRINT);
    EVP_PKEY_free(pub);
    BIO_free(b);
}

static void test_get_vector(void **state)
{
    const oci_sig_input in = {"GET", GET_TARGET, HOST, DATE, 0, NULL};
    char *text = NULL, *auth = NULL, *sig = NULL;

    (void)state;
    assert_int_equal(oci_signing_string(h, NULL, &in, &text), GH_OK);
    assert_string_equal(text, "date: " DATE "\n"
                              "(request-target): get " GET_TARGET "\n"
                              "host: " HOST);
    assert_int_equal(oci_authorization(h, NULL, key, KEY_ID, &in, &auth, &sig), GH_OK);
    assert_string_equal(sig, GET_SIGNATURE);
    assert_string_equal(auth, "Signature version=\"1\",headers=\"date (request-target) host\","
                              "keyId=\"" KEY_ID "\",algorithm=\"rsa-sha256\",signature=\""
                              GET_SIGNATURE "\"");
    free(text);
    free(auth);
    free(sig);
}

static void test_post_vector(void **state)
{
    char sha[OCI_SHA256_B64_LEN], *text = NULL, *auth = NULL, *sig = NULL;
    oci_sig_input in = {"POST", "/20160918/volumeAttachments", HOST, DATE, sizeof post_body - 1,
                        sha};

    (void)state;
    assert_int_equal(sizeof post_body - 1, 316);
    assert_int_equal(oci_body_sha256(h, NULL, post_body, sizeof post_body - 1, sha), GH_OK);
    assert_string_equal(sha, POST_SHA256);
    assert_int_equal(oci_signing_string(h, NULL, &in, &text), GH_OK);
    assert_string_equal(text, "date: " DATE "\n"
                              "(request-target): post /20160918/volumeAttachments\n"
                              "host: " HOST "\n"
                              "content-length: 316\n"
                              "content-type: application/json\n"
                              "x-content-sha256: " POST_SHA256);
    assert_int_equal(oci_authorization(h, NULL, key, KEY_ID, &in, &auth, &sig), GH_OK);
    assert_string_equal(sig, POST_SIGNATURE);
    assert_string_equal(auth, "Signature version=\"1\",headers=\"date (request-target) host "
                              "content-length content-type x-content-sha256\",keyId=\"" KEY_ID
                              "\",algorithm=\"rsa-sha256\",signature=\"" POST_SIGNATURE "\"");
    free(text);
    free(auth);
    free(sig);
}

/* An empty body still signs its length and hash, as the SDKs do. */
static void test_empty_body(void **state)
{
    char sha[OCI_SHA256_B64_LEN], *text = NULL;
    oci_sig_input in = {"POST", "/x", HOST, DATE, 0, sha};

    (void)state;
    assert_int_equal(oci_body_sha256(h, NULL, "", 0, sha), GH_OK);
    assert_string_equal(sha, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    assert_int_equal(oci_signing_string(h, NULL, &in, &text), GH_OK);
    assert_contains(text, "\ncontent-length: 0\n");
    free(text);
}

static void test_http_date(void **state)
{
    char d[OCI_DATE_LEN];

    (void)state;
    /* the vectors' moment: the docs call that Sunday a Thursday, and
     * since the date is only signed, never parsed, that does not matter */
    oci_http_date(1388957500000, d);
    assert_string_equal(d, "Sun, 05 Jan 2014 21:31:40 GMT");
    oci_http_date(0, d);
    assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 GMT");
}

/* An encrypted key needs its passphrase, and refuses a wrong one; the
 * failure never shows the key. */
static void test_encrypted_key(void **state)
{
    char path[] = "/tmp/test_oci_sign.XXXXXX";
    EVP_PKEY *k = NULL;
    char fp[OCI_FINGERPRINT_LEN], why[512];
    FILE *f;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_PrivateKey(f, key, EVP_aes_256_cbc(), NULL, 0, NULL,
                                          (void *)"open sesame"),
                     1);
    fclose(f);
    assert_int_equal(oci_key_load(path, NULL, &k, why, sizeof why), GH_ERR_INVALID);
    assert_null(k);
    assert_contains(why, "encrypted? give passphrase_file");
    assert_int_equal(oci_key_load(path, "wrong", &k, why, sizeof why), GH_ERR_INVALID);
    assert_int_equal(oci_key_load(path, "open sesame", &k, why, sizeof why), GH_OK);
    assert_int_equal(oci_key_fingerprint(h, NULL, k, fp), GH_OK);
    assert_string_equal(fp, FINGERPRINT);
    EVP_PKEY_free(k);
    unlink(path);
    assert_int_equal(oci_key_load(path, NULL, &k, why, sizeof why), GH_ERR_INVALID);
    assert_contains(why, "cannot read the private key");
}

/* What would not be sent as signed is refused, not signed: a CR or LF
 * (a line of its own in the signing string and the request), a blank in
 * the request line, a Host longer than its header holds. A plain request
 * next to them still signs. */
static void test_hostile_refused(void **state)
{
    static const char *const bad[][3] = {
        {"GET", "/20160918/users", HOST "\r\nx-injected: 1"},
        {"GET", "/20160918/users?name=a\nhost: evil.example.com", HOST},
        {"GET /other", "/20160918/users", HOST},
        {"GET", "/20160918/users name", HOST},
        {"GET", "20160918/users", HOST},
        {"GET", "/20160918/users", ""},
    };
    char long_host[400];
    oci_signed_headers hd;
    gh_call call;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        call_init(&call, NULL, "t", 1000);
        assert_int_equal(oci_sign_request(h, &call, key, KEY_ID, bad[i][0], bad[i][1], bad[i][2],
                                          0, NULL, &hd),
                         GH_ERR_INVALID);
        assert_null(hd.authorization);
        assert_null(strstr(call.message, "evil")); /* hostile text is not logged */
    }
    memset(long_host, 'h', sizeof long_host - 1);
    long_host[sizeof long_host - 1] = '\0';
    assert_int_equal(oci_sign_request(h, &call, key, KEY_ID, "GET", "/x", long_host, 0, NULL, &hd),
                     GH_ERR_INVALID);
    assert_contains(call.message, "longer than 313 bytes");
    long_host[313] = '\0'; /* "Host: " and 313 bytes fill the header's 320 */
    assert_int_equal(oci_sign_request(h, &call, key, KEY_ID, "GET", "/x", long_host, 0, NULL, &hd),
                     GH_OK);
    assert_string_equal(hd.host + 6, long_host);
    oci_signed_headers_free(&hd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fingerprint), cmocka_unit_test(test_get_vector),
        cmocka_unit_test(test_post_vector), cmocka_unit_test(test_empty_body),
        cmocka_unit_test(test_http_date),   cmocka_unit_test(test_encrypted_key),
        cmocka_unit_test(test_hostile_refused),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
