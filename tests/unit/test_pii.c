/*
 * test_pii.c - personal data at rest (core/auth/pii.c): values round-trip
 * and carry their key id; any change to a value, its row, its column or
 * its key id fails with a clear reason and never crashes; blind indexes
 * are stable, keyed and domain-separated; an old key still reads after a
 * new one takes over writes; key text in base64 and hex decodes, and bad
 * key text or key ids are refused; the config's encryption block builds
 * the keyring, and bad blocks fail with a position.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/pii.h"
#include "config.h"

static const uint8_t K1[PII_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                         17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
                                         31, 32 };
static const uint8_t K2[PII_KEY_LEN] = { 0xa5 };
static const uint8_t IDX[PII_KEY_LEN] = { 0x42, 0x42 };
static const uint8_t IDX2[PII_KEY_LEN] = { 0x43 };

#define ROW "6f1c2d3e-0000-4000-8000-000000000001"
#define ROW2 "6f1c2d3e-0000-4000-8000-000000000002"

static gh_pii *ring(const uint8_t *idx, int with_k2)
{
    gh_pii *p = pii_new(idx);

    assert_non_null(p);
    assert_int_equal(pii_add_key(p, "k1", K1), 0);
    if (with_k2)
        assert_int_equal(pii_add_key(p, "k2", K2), 0);
    return p;
}

static char *enc(const gh_pii *p, const char *col, const char *row, const char *s)
{
    const char *why = NULL;
    char *v = pii_encrypt(p, col, row, s, strlen(s), &why);

    assert_non_null(v);
    return v;
}

/* decrypts or fails; *why set on failure */
static int dec(const gh_pii *p, const char *col, const char *row, const char *v, char **out,
               const char **why)
{
    *why = NULL;
    int rc = pii_decrypt(p, col, row, v, out, why);
    if (rc < 0) {
        assert_null(*out);
        assert_non_null(*why);
    }
    return rc;
}

static void round_trip(void **state)
{
    (void)state;
    gh_pii *p = ring(IDX, 0);
    const char *why;
    char *v = enc(p, "users.email", ROW, "Alice.Smith@Example.com"), *out = NULL, kid[64];

    assert_true(pii_is_encrypted(v));
    assert_int_equal(strncmp(v, "gh1:k1:", 7), 0);
    assert_null(strstr(v, "Alice"));
    assert_int_equal(pii_kid_of(v, kid), 0);
    assert_string_equal(kid, "k1");
    /* base64url without padding: nothing a URL or SQL needs to escape */
    assert_int_equal(strspn(v + 7, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789-_"), strlen(v + 7));
    assert_int_equal(dec(p, "users.email", ROW, v, &out, &why), 0);
    assert_string_equal(out, "Alice.Smith@Example.com");
    free(out);

    /* a fresh nonce each time: the same value twice looks different */
    char *v2 = enc(p, "users.email", ROW, "Alice.Smith@Example.com");
    assert_string_not_equal(v, v2);
    free(v2);

    /* UTF-8 and one byte both survive; clear text passes through as is */
    char *u = enc(p, "users.full_name", ROW, "Zoë Ødegård 山田");
    assert_int_equal(dec(p, "users.full_name", ROW, u, &out, &why), 0);
    assert_string_equal(out, "Zoë Ødegård 山田");
    free(out);
    free(u);
    u = enc(p, "users.phone", ROW, "7");
    assert_int_equal(dec(p, "users.phone", ROW, u, &out, &why), 0);
    assert_string_equal(out, "7");
    free(out);
    free(u);
    assert_int_equal(dec(p, "users.email", ROW, "plain@example.com", &out, &why), 0);
    assert_string_equal(out, "plain@example.com");
    free(out);
    assert_false(pii_is_encrypted("plain@example.com"));
    free(v);
    pii_free(p);
}

static void tamper(void **state)
{
    (void)state;
    gh_pii *p = ring(IDX, 0);
    const char *why;
    char *v = enc(p, "users.email", ROW, "bob@example.com"), *out = NULL;
    size_t len = strlen(v);

    /* every byte of the base64 flipped in turn: never decrypts, never crashes */
    for (size_t i = 7; i < len; i++) {
        char *t = strdup(v);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        assert_int_equal(dec(p, "users.email", ROW, t, &out, &why), -1);
        free(t);
    }
    /* another row, another column: the AAD does not match */
    assert_int_equal(dec(p, "users.email", ROW2, v, &out, &why), -1);
    assert_non_null(strstr(why, "another row or column"));
    assert_int_equal(dec(p, "users.phone", ROW, v, &out, &why), -1);
    /* an unknown key id says so */
    char *t = malloc(len + 8);
    snprintf(t, len + 8, "gh1:k9:%s", v + 7);
    assert_int_equal(dec(p, "users.email", ROW, t, &out, &why), -1);
    assert_non_null(strstr(why, "key id"));
    /* cut short, empty, malformed, no keyring at all */
    snprintf(t, len + 8, "%.*s", (int)(len - 5), v);
    assert_int_equal(dec(p, "users.email", ROW, t, &out, &why), -1);
    assert_int_equal(dec(p, "users.email", ROW, "gh1:k1:", &out, &why), -1);
    assert_int_equal(dec(p, "users.email", ROW, "gh1:k1:A", &out, &why), -1);
    assert_int_equal(dec(p, "users.email", ROW, "gh1:k1:!!!!", &out, &why), -1);
    assert_int_equal(dec(p, "users.email", ROW, "gh1:", &out, &why), -1);
    assert_int_equal(dec(p, "users.email", ROW, "gh1::abc", &out, &why), -1);
    assert_int_equal(dec(p, "users.email", ROW,
                         "gh1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:abcd", &out, &why), -1);
    assert_int_equal(dec(NULL, "users.email", ROW, v, &out, &why), -1);
    assert_non_null(strstr(why, "not configured"));
    assert_int_equal(pii_kid_of("gh1:nokid", (char[64]){ 0 }), -1);
    free(t);
    free(v);
    pii_free(p);
}

static void blind_index(void **state)
{
    (void)state;
    gh_pii *p = ring(IDX, 0), *q = ring(IDX, 1), *other = ring(IDX2, 0);
    char a[PII_INDEX_LEN], b[PII_INDEX_LEN], c[PII_INDEX_LEN], d[PII_INDEX_LEN];

    assert_int_equal(pii_blind_index(p, "email", "carol@example.com", a), 0);
    assert_int_equal(strlen(a), PII_INDEX_LEN - 1);
    assert_int_equal(strncmp(a, "bi1:", 4), 0);
    assert_true(pii_is_index(a));
    assert_int_equal(strspn(a + 4, "0123456789abcdef"), 64);
    /* stable, and independent of the encryption keys (they rotate, it must not) */
    assert_int_equal(pii_blind_index(q, "email", "carol@example.com", b), 0);
    assert_string_equal(a, b);
    /* keyed: another index key, another index */
    assert_int_equal(pii_blind_index(other, "email", "carol@example.com", c), 0);
    assert_string_not_equal(a, c);
    /* domain-separated, and not the unkeyed hash of the value */
    assert_int_equal(pii_blind_index(p, "username", "carol@example.com", d), 0);
    assert_string_not_equal(a, d);
    assert_int_equal(pii_blind_index(p, "email", "carol@example.org", d), 0);
    assert_string_not_equal(a, d);
    assert_int_equal(pii_blind_index(NULL, "email", "carol@example.com", d), -1);
    pii_free(p);
    pii_free(q);
    pii_free(other);
}

static void rotation(void **state)
{
    (void)state;
    gh_pii *old = ring(IDX, 0), *cur = ring(IDX, 1);
    const char *why;
    char *v1 = enc(old, "users.username", ROW, "dave"), *out = NULL, kid[64];

    assert_string_equal(pii_newest_kid(old), "k1");
    assert_string_equal(pii_newest_kid(cur), "k2");
    /* the new ring reads what the old key wrote ... */
    assert_int_equal(dec(cur, "users.username", ROW, v1, &out, &why), 0);
    assert_string_equal(out, "dave");
    free(out);
    /* ... and writes with the newest */
    char *v2 = enc(cur, "users.username", ROW, "dave");
    assert_int_equal(pii_kid_of(v2, kid), 0);
    assert_string_equal(kid, "k2");
    assert_int_equal(dec(old, "users.username", ROW, v2, &out, &why), -1);
    assert_non_null(strstr(why, "key id"));
    free(v1);
    free(v2);
    pii_free(old);
    pii_free(cur);
}

static void keys_and_ids(void **state)
{
    (void)state;
    uint8_t k[PII_KEY_LEN];
    const char *why = NULL;
    gh_pii *p = pii_new(IDX);

    /* `openssl rand -base64 32` output, with its newline; url-safe; hex */
    assert_int_equal(pii_key_decode("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n", k, &why), 0);
    assert_memory_equal(k, K1, PII_KEY_LEN);
    assert_int_equal(pii_key_decode("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA", k, &why), 0);
    assert_memory_equal(k, K1, PII_KEY_LEN);
    assert_int_equal(pii_key_decode("0102030405060708090a0b0c0d0e0f10"
                                    "1112131415161718191a1b1c1d1e1f20", k, &why), 0);
    assert_memory_equal(k, K1, PII_KEY_LEN);
    /* 16 bytes, 33 bytes, junk, empty */
    assert_int_equal(pii_key_decode("AAECAwQFBgcICQoLDA0ODw==", k, &why), -1);
    assert_non_null(strstr(why, "32 bytes"));
    assert_int_equal(pii_key_decode("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAh", k, &why), -1);
    assert_int_equal(pii_key_decode("not a key at all, not a key at all, not a ke", k, &why), -1);
    assert_int_equal(pii_key_decode("", k, &why), -1);

    assert_true(pii_kid_ok("2026-01"));
    assert_true(pii_kid_ok("a.b_c-D"));
    assert_false(pii_kid_ok(""));
    assert_false(pii_kid_ok("a:b"));
    assert_false(pii_kid_ok("a b"));
    assert_false(pii_kid_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 33 */
    assert_int_equal(pii_add_key(p, "k1", K1), 0);
    assert_int_equal(pii_add_key(p, "k1", K2), -1);  /* twice */
    assert_int_equal(pii_add_key(p, "bad:id", K2), -1);
    assert_string_equal(pii_newest_kid(p), "k1");
    pii_free(p);

    /* without a key there is nothing to encrypt with */
    p = pii_new(IDX);
    assert_null(pii_encrypt(p, "users.email", ROW, "x", 1, &why));
    assert_non_null(why);
    pii_free(p);
}

/* ------------------------------------------------------------ config */

static char dir[] = "/tmp/gh-test-pii-XXXXXX";

static gh_config *load(const char *yaml, char *err, size_t errlen)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/gh.yaml", dir);
    assert_non_null(f = fopen(path, "w"));
    fputs(yaml, f);
    fclose(f);
    return config_load(path, err, errlen);
}

static void write_key(const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_non_null(f = fopen(path, "w"));
    fputs(text, f);
    fclose(f);
}

#define B64K1 "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
#define SECRETISH "SECRETSECRETSECRETSECRETSECRETSECRETSECRET" /* 42 chars: not a key */

static void from_config(void **state)
{
    (void)state;
    char yaml[2048], err[512];
    gh_config *cfg;
    gh_pii *p = NULL;

    assert_non_null(mkdtemp(dir));
    write_key("index.key", B64K1 "\n");
    write_key("k2.key", "a5000000000000000000000000000000"
                        "00000000000000000000000000000000\n");
    snprintf(yaml, sizeof yaml,
             "encryption:\n"
             "  index_key_file: %s/index.key\n"
             "  keys:\n"
             "    - { id: old, key: \"" B64K1 "\" }\n"
             "    - { id: \"2026-02\", key_file: %s/k2.key }\n", dir, dir);
    assert_non_null(cfg = load(yaml, err, sizeof err));
    assert_int_equal(cfg->n_enc_keys, 2);
    assert_int_equal(pii_from_config(cfg, &p, err, sizeof err), 0);
    assert_non_null(p);
    assert_string_equal(pii_newest_kid(p), "2026-02");
    config_free(cfg);
    pii_free(p);

    /* no block: no keyring, encryption off */
    assert_non_null(cfg = load("log:\n  level: info\n", err, sizeof err));
    assert_int_equal(pii_from_config(cfg, &p, err, sizeof err), 0);
    assert_null(p);
    config_free(cfg);

    /* keys without the index key; the index key without keys; a bad key
     * (never quoted); a repeated id; a bad id; neither key nor key_file */
    assert_null(load("encryption:\n  keys:\n    - { id: a, key: \"" B64K1 "\" }\n", err,
                     sizeof err));
    assert_non_null(strstr(err, "3:5: encryption.keys: needs encryption.index_key"));
    assert_null(load("encryption:\n  index_key: \"" B64K1 "\"\n", err, sizeof err));
    assert_non_null(strstr(err, "encryption.index_key: needs encryption.keys"));
    assert_null(load("encryption:\n  index_key: \"" B64K1 "\"\n  keys:\n"
                     "    - { id: a, key: " SECRETISH " }\n", err, sizeof err));
    assert_non_null(strstr(err, "4:7: encryption.keys[0]: a key must be 32 bytes"));
    assert_null(strstr(err, "SECRET"));
    assert_null(load("encryption:\n  index_key: " SECRETISH "\n  keys:\n"
                     "    - { id: a, key: \"" B64K1 "\" }\n", err, sizeof err));
    assert_non_null(strstr(err, "2:14: encryption.index_key: a key must be 32 bytes"));
    assert_null(strstr(err, "SECRET"));
    assert_null(load("encryption:\n  index_key: \"" B64K1 "\"\n  keys:\n"
                     "    - { id: a, key: \"" B64K1 "\" }\n"
                     "    - { id: a, key: \"" B64K1 "\" }\n", err, sizeof err));
    assert_non_null(strstr(err, "encryption.keys[1].id: key id 'a' is listed twice"));
    assert_null(load("encryption:\n  index_key: \"" B64K1 "\"\n  keys:\n"
                     "    - { id: \"a:b\", key: \"" B64K1 "\" }\n", err, sizeof err));
    assert_non_null(strstr(err, "encryption.keys[0].id: bad key id"));
    assert_null(load("encryption:\n  index_key: \"" B64K1 "\"\n  keys:\n    - { id: a }\n",
                     err, sizeof err));
    assert_non_null(strstr(err, "encryption.keys[0]: needs key or key_file"));
    assert_null(load("encryption:\n  index_key: \"" B64K1 "\"\n  keys:\n"
                     "    - { id: a, key: \"" B64K1 "\", key_file: /x }\n", err, sizeof err));
    assert_non_null(strstr(err, "not both"));

    char path[600];
    snprintf(path, sizeof path, "%s/index.key", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/k2.key", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/gh.yaml", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),  cmocka_unit_test(tamper),
        cmocka_unit_test(blind_index), cmocka_unit_test(rotation),
        cmocka_unit_test(keys_and_ids), cmocka_unit_test(from_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
