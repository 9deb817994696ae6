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
#include <pthread.h>
#include <stdatomic.h>
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

/* ---------------------------------------------------------------- libargon2 */

/* Hashes libargon2 encodes itself verify here, whatever their costs, salt
 * and tag lengths; version 1.0 ones too. */
static void libargon2_hashes_verify(void **state)
{
    static const struct { uint32_t t, m, p; size_t salt, tag; } cases[] = {
        { 1, 256, 1, 16, 32 }, { 3, 512, 2, 16, 32 }, { 2, 64, 4, 8, 4 },
        { 1, 1024, 3, 32, 64 }, { 4, 100, 1, 11, 17 },
    };
    const char salt[] = "0123456789abcdefghijklmnopqrstuv";
    char h[GH_PW_HASH_MAX * 2];
    int rehash;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (uint32_t v = ARGON2_VERSION_10; v <= ARGON2_VERSION_13; v += 3) {
            assert_int_equal(argon2_hash(cases[i].t, cases[i].m, cases[i].p, "open sesame", 11,
                                         salt, cases[i].salt, NULL, cases[i].tag, h, sizeof(h),
                                         Argon2_id, v), ARGON2_OK);
            rehash = -1;
            if (verify("open sesame", h, &fast, &rehash) != 1)
                fail_msg("case %zu v=%u: %s did not verify", i, v, h);
            assert_int_equal(rehash, v != ARGON2_VERSION_13 || cases[i].m < fast.memory_kib);
            assert_int_equal(verify("open sesamE", h, &fast, NULL), 0);
            assert_int_equal(verify("", h, &fast, NULL), 0);
        }
    }
    /* the short form libargon2 writes for the defaults */
    assert_int_equal(argon2id_hash_encoded(2, 512, 1, "pw", 2, salt, 16, 32, h, sizeof(h)),
                     ARGON2_OK);
    rehash = -1;
    assert_int_equal(verify("pw", h, &stronger, &rehash), 1);
    assert_int_equal(rehash, 0);
}

/* ... and ours verify with libargon2's own argon2id_verify */
static void hashes_verify_with_libargon2(void **state)
{
    const gh_pw_params params[] = { { 256, 1, 1 }, { 512, 2, 2 }, { 1024, 3, 4 }, { 64, 1, 8 } };
    char h[GH_PW_HASH_MAX], ref[GH_PW_HASH_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        const gh_pw_params *p = &params[i];
        assert_int_equal(password_hash("open sesame", 11, p, h), 0);
        if (argon2id_verify(h, "open sesame", 11) != ARGON2_OK)
            fail_msg("params %zu: libargon2 refuses %s", i, h);
        assert_int_equal(argon2id_verify(h, "open sesamE", 11), ARGON2_VERIFY_MISMATCH);
        assert_int_equal(password_verify("open sesame", 11, h, p, NULL), 1);
        /* the same shape as libargon2's own string */
        assert_int_equal(argon2id_hash_encoded(p->iterations, p->memory_kib, p->parallelism,
                                               "x", 1, "saltsaltsaltsalt", 16, 32, ref,
                                               sizeof(ref)), ARGON2_OK);
        assert_int_equal(strlen(h), strlen(ref));
        assert_int_equal(strrchr(h, '$') - h, strrchr(ref, '$') - ref);
    }
    /* binary passwords, too */
    assert_int_equal(password_hash("a\0b", 3, &fast, h), 0);
    assert_int_equal(argon2id_verify(h, "a\0b", 3), ARGON2_OK);
    assert_int_equal(argon2id_verify(h, "a\0c", 3), ARGON2_VERIFY_MISMATCH);
}

static char b64_char(int v)
{
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[v & 63];
}

static int b64_index(char c)
{
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    return (int)(strchr(a, c) - a);
}

/* Damaged salt and tag fields are refused, as libargon2's decoder does. */
static void malformed_salt_and_tag(void **state)
{
    char good[GH_PW_HASH_MAX], h[GH_PW_HASH_MAX * 2], *salt, *tag;
    /* text inserted into a good hash: at the start of the salt (AT_SALT),
     * at its end (before the '$'), at the start of the tag, or at the end */
    enum { AT_SALT, AFTER_SALT, AT_TAG, AT_END };
    static const struct { int at; const char *text; } edits[] = {
        { AFTER_SALT, "=" }, { AFTER_SALT, "==" }, { AT_END, "=" }, { AT_END, "==" },
        { AT_END, " " }, { AT_END, "\n" }, { AT_SALT, " " }, { AT_TAG, " " },
        { AFTER_SALT, "\t" }, { AT_END, "$" }, { AT_END, "!" }, { AT_TAG, "$" },
    };
    int rehash;

    (void)state;
    assert_int_equal(password_hash("pw", 2, &fast, good), 0);
    assert_int_equal(verify("pw", good, &fast, NULL), 1);
    salt = strchr(good + strlen("$argon2id$v=19$m=256,t=1,p=1"), '$') + 1;
    tag = strrchr(good, '$') + 1;
    assert_int_equal(strlen(salt), 22 + 1 + 43);
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        const char *at = edits[i].at == AT_SALT ? salt : edits[i].at == AFTER_SALT ? tag - 1
                       : edits[i].at == AT_TAG ? tag : good + strlen(good);
        snprintf(h, sizeof(h), "%.*s%s%s", (int)(at - good), good, edits[i].text, at);
        rehash = 0;
        if (verify("pw", h, &fast, &rehash) != -1)
            fail_msg("edit %zu (%s) was not refused", i, h);
        assert_int_equal(rehash, 1);
        /* libargon2 agrees */
        assert_int_not_equal(argon2id_verify(h, "pw", 2), ARGON2_OK);
    }
    /* a character outside the alphabet inside the salt, inside the tag */
    strcpy(h, good);
    h[salt - good + 3] = '-';
    assert_int_equal(verify("pw", h, &fast, NULL), -1);
    strcpy(h, good);
    h[tag - good + 3] = '_';
    assert_int_equal(verify("pw", h, &fast, NULL), -1);
    /* non-canonical: the 2 bits left over after 32 bytes are not zero */
    strcpy(h, good);
    h[strlen(h) - 1] = b64_char(b64_index(h[strlen(h) - 1]) | 1);
    assert_int_equal(verify("pw", h, &fast, NULL), -1);
    assert_int_not_equal(argon2id_verify(h, "pw", 2), ARGON2_OK);
    /* a length of 1 mod 4 cannot be base64 */
    snprintf(h, sizeof(h), "%sAA", good);
    assert_int_equal(verify("pw", h, &fast, NULL), -1);
    assert_int_not_equal(argon2id_verify(h, "pw", 2), ARGON2_OK);
    /* truncated tags: 3 bytes is too short, 4 is the least argon2 makes */
    snprintf(h, sizeof(h), "%.*saGFz", (int)(tag - good), good);
    assert_int_equal(verify("pw", h, &fast, NULL), -1);
    snprintf(h, sizeof(h), "%.*s", (int)(tag - good) + 40, good); /* 30 bytes: well formed */
    assert_int_equal(verify("pw", h, &fast, NULL), 0);
    snprintf(h, sizeof(h), "%.*s", (int)(tag - good), good); /* empty tag */
    assert_int_equal(verify("pw", h, &fast, NULL), -1);
    /* a salt shorter than 8 bytes, or none */
    snprintf(h, sizeof(h), "%.*sc2FsdA%s", (int)(salt - good), good, tag - 1);
    assert_int_equal(verify("pw", h, &fast, NULL), -1);
    snprintf(h, sizeof(h), "%.*s%s", (int)(salt - good), good, tag - 1);
    assert_int_equal(verify("pw", h, &fast, NULL), -1);
    /* a tag longer than 64 bytes (libargon2 made it: it is well formed) */
    assert_int_equal(argon2id_hash_encoded(1, 256, 1, "pw", 2, "saltsaltsaltsalt", 16, 65, h,
                                           sizeof(h)), ARGON2_OK);
    assert_int_equal(verify("pw", h, &fast, NULL), -1);
    assert_int_equal(argon2id_hash_encoded(1, 256, 1, "pw", 2, "saltsaltsaltsalt", 16, 64, h,
                                           sizeof(h)), ARGON2_OK);
    assert_int_equal(verify("pw", h, &fast, NULL), 1);
    /* costs: huge m, unknown version, leading zeros, fewer blocks than lanes need */
    {
        static const char *const costs[] = {
            "$argon2id$v=19$m=4194305,t=1,p=1$",
            "$argon2id$v=19$m=4294967295,t=1,p=1$",
            "$argon2id$v=18$m=256,t=1,p=1$",
            "$argon2id$v=20$m=256,t=1,p=1$",
            "$argon2id$v=019$m=256,t=1,p=1$",
            "$argon2id$v=19$m=0256,t=1,p=1$",
            "$argon2id$v=19$m=256,t=0,p=1$",
            "$argon2id$v=19$m=256,t=1,p=0$",
            "$argon2id$v=19$m=256,t=1,p=65$",
            "$argon2id$v=19$m=7,t=1,p=1$",
            "$argon2id$v=19$m=15,t=1,p=2$",
            "$argon2id$v=19$m=256,t=1,p=1,x=1$",
            "$argon2id$v=19$m=-256,t=1,p=1$",
        };
        for (size_t i = 0; i < sizeof(costs) / sizeof(costs[0]); i++) {
            snprintf(h, sizeof(h), "%s%s", costs[i], salt);
            if (verify("pw", h, &fast, NULL) != -1)
                fail_msg("costs %zu (%s) were not refused", i, h);
        }
    }
}

/* ---------------------------------------------------------------- memory */

#define HASHERS 4
#define HASHES_EACH 5

static atomic_int hashers_left;

static void *hasher(void *arg)
{
    const gh_pw_params p = { 2048, 1, (uint32_t)((uintptr_t)arg % 2 + 1) };
    char h[GH_PW_HASH_MAX], pw[32];
    uintptr_t bad = 0;

    for (int i = 0; i < HASHES_EACH; i++) {
        int n = snprintf(pw, sizeof(pw), "thread %u hash %d", (unsigned)(uintptr_t)arg, i);
        if (password_hash(pw, (size_t)n, &p, h) != 0 ||
            password_verify(pw, (size_t)n, h, &p, NULL) != 1 ||
            password_verify(pw, (size_t)n - 1, h, &p, NULL) != 0 ||
            argon2id_verify(h, pw, (size_t)n) != ARGON2_OK)
            bad++;
    }
    atomic_fetch_sub(&hashers_left, 1);
    return (void *)bad;
}

static void *releaser(void *arg)
{
    long *rounds = arg;

    while (atomic_load(&hashers_left) > 0) {
        password_release_idle_memory();
        ++*rounds;
    }
    return NULL;
}

static void run_hashers(int with_releaser)
{
    pthread_t t[HASHERS], r;
    long rounds = 0;

    atomic_store(&hashers_left, HASHERS);
    for (uintptr_t i = 0; i < HASHERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hasher, (void *)i), 0);
    if (with_releaser)
        assert_int_equal(pthread_create(&r, NULL, releaser, &rounds), 0);
    for (int i = 0; i < HASHERS; i++) {
        void *bad;
        assert_int_equal(pthread_join(t[i], &bad), 0);
        if (bad)
            fail_msg("thread %d: %lu hashes failed", i, (unsigned long)(uintptr_t)bad);
    }
    if (with_releaser) {
        assert_int_equal(pthread_join(r, NULL), 0);
        print_message("%ld releases while hashing\n", rounds);
    }
}

static void threads_hash(void **state)
{
    (void)state;
    run_hashers(0);
}

/* Releasing never breaks a hash: between hashes, and while other threads
 * hash (a thread releasing in a loop). */
static void release_idle_memory(void **state)
{
    char h[GH_PW_HASH_MAX];

    (void)state;
    password_release_idle_memory();
    assert_int_equal(password_hash("pw", 2, &stronger, h), 0);
    password_release_idle_memory();
    assert_int_equal(verify("pw", h, &stronger, NULL), 1);
    password_release_idle_memory();
    password_release_idle_memory();
    assert_int_equal(verify("pX", h, &stronger, NULL), 0);
    assert_int_equal(password_hash("pw", 2, &owasp, h), 0); /* grows the buffer */
    password_release_idle_memory();
    assert_int_equal(verify("pw", h, &owasp, NULL), 1);
    assert_int_equal(password_hash("pw", 2, &fast, h), 0); /* fits in it */
    assert_int_equal(verify("pw", h, &fast, NULL), 1);
    run_hashers(1);
}

/* VmRSS of this process in KiB */
static long rss_kib(void)
{
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");

    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    }
    fclose(f);
    assert_true(kib > 0);
    return kib;
}

static pthread_barrier_t rss_started, rss_hashed, rss_measured;

static void *owasp_hasher(void *arg)
{
    char h[GH_PW_HASH_MAX];
    uintptr_t bad = 0;

    (void)arg;
    pthread_barrier_wait(&rss_started); /* the baseline includes the threads */
    for (int i = 0; i < 2; i++)
        bad += password_hash("pw", 2, &owasp, h) != 0;
    pthread_barrier_wait(&rss_hashed);   /* the threads live on ... */
    pthread_barrier_wait(&rss_measured); /* ... until RSS is measured */
    return (void *)bad;
}

/* The memory behaviour that matters: after 4 hashes at OWASP cost on 2
 * threads that are still alive, releasing brings RSS back near where it
 * was, where malloc'd argon2 memory stayed in the threads' arenas. */
static void release_returns_memory(void **state)
{
    pthread_t t[2];
    long base, busy, after, slack = 4 * 1024;
#ifdef __SANITIZE_ADDRESS__
    slack += 2 * 19 * 1024 / 8; /* ASan's shadow of the two mappings, not ours to drop */
#endif

    (void)state;
    assert_int_equal(pthread_barrier_init(&rss_started, NULL, 3), 0);
    assert_int_equal(pthread_barrier_init(&rss_hashed, NULL, 3), 0);
    assert_int_equal(pthread_barrier_init(&rss_measured, NULL, 3), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, owasp_hasher, NULL), 0);
    password_release_idle_memory(); /* what earlier tests left */
    base = rss_kib();
    pthread_barrier_wait(&rss_started);
    pthread_barrier_wait(&rss_hashed);
    busy = rss_kib();
    password_release_idle_memory();
    after = rss_kib();
    pthread_barrier_wait(&rss_measured);
    for (int i = 0; i < 2; i++) {
        void *bad;
        assert_int_equal(pthread_join(t[i], &bad), 0);
        assert_null(bad);
    }
    pthread_barrier_destroy(&rss_started);
    pthread_barrier_destroy(&rss_hashed);
    pthread_barrier_destroy(&rss_measured);
    print_message("VmRSS %ld kB before, %ld kB after 4 hashes on 2 threads, %ld kB released\n",
                  base, busy, after);
    assert_true(busy >= base + 2 * 19 * 1024);   /* both buffers were kept ... */
    assert_true(after <= base + slack);           /* ... and are given back */
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
/* lengths and encodings alone: no guessability check in the way */
static const gh_pw_policy plain = { 8, 64, 0, 0, 0, 0, 0 };

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
    assert_null(check(&plain, pw, &detail));
    assert_string_equal(check(&nist, "", NULL), "password_too_short"); /* detail optional */
}

static void policy_utf8_code_points(void **state)
{
    const gh_pw_policy nine = { 9, 64, 0, 0, 0, 0, 0 };
    const gh_pw_policy eight = { 8, 8, 0, 0, 0, 0, 0 };
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
    assert_null(check(&plain, pw, &detail));
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
    assert_null(check(&plain, "abcdefgh\xf4\x8f\xbf\xbf\xe2\x82\xac", &detail));
}

static void policy_composition(void **state)
{
    gh_pw_policy all = { 8, 64, 1, 1, 1, 1, 0 };
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
    all = (gh_pw_policy){ 8, 64, 0, 0, 1, 0, 0 };
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
    /* built on them, not equal: zxcvbn finds them among its words */
    assert_string_equal(password_policy_check(&nist, "alice.smith!", 12, ctx, &detail),
                        "password_too_common");
    assert_non_null(strstr(detail, "your email address, username or name"));
}

/* A name zxcvbn does not know: strong alone, guessable as the user's own. */
static void policy_context_words(void **state)
{
    const char *ctx[] = { "qelmorvath@example.com", NULL };
    const char *detail = NULL;

    (void)state;
    assert_null(password_policy_check(&nist, "Qelmorvath1", 11, NULL, &detail));
    assert_string_equal(password_policy_check(&nist, "Qelmorvath1", 11, ctx, &detail),
                        "password_too_common");
    assert_non_null(strstr(detail, "your email address, username or name"));
    /* the product's name is a word everyone's context holds */
    assert_string_equal(check(&nist, "Gatehouse2024!", &detail), "password_too_common");
    assert_non_null(strstr(detail, "this service's name"));
}

/* NIST SP 800-63B's "commonly used, expected, or compromised", by zxcvbn:
 * each kind of guessable password, refused with a sentence naming why. */
static void policy_guessable(void **state)
{
    static const struct {
        const char *pw, *code, *why;
    } weak[] = {
        { "password123", "password_too_common", "commonly used password" },
        { "Password1!", "password_too_common", "commonly used password" },
        { "iloveyou2", "password_too_common", "commonly used password" },
        { "P@ssw0rd2024", "password_too_common", "commonly used password" },
        { "monkeydragon", "password_too_common", "common word or name" },
        { "aaaaaaaaaaaa", "password_too_weak", "repeats" },
        { "abcabcabcabc", "password_too_weak", "repeats" },
        { "abcdefghijk", "password_too_weak", "sequence" },
        { "qwertyuiop", "password_too_common", "commonly used password" },
        { "asdfghjkl;", "password_too_weak", "keyboard pattern" },
        { "zxcvbnm,./", "password_too_weak", "keyboard pattern" },
        { "1985-12-31", "password_too_weak", "date or a year" },
    };
    static const char *const strong[] = {
        "correct horse battery staple", "Kx9-orbit-Tm4-harbour", "zebra-kettle",
        "MixedCase7x!", "p\xc3\xa4ssw\xc3\xb6rd-tr\xc3\xa4um",
    };
    const char *detail = NULL;

    (void)state;
    for (size_t i = 0; i < sizeof weak / sizeof weak[0]; i++) {
        const char *code = check(&nist, weak[i].pw, &detail);
        if (!code || strcmp(code, weak[i].code) != 0)
            fail_msg("%s: %s, not %s", weak[i].pw, code ? code : "accepted", weak[i].code);
        if (!strstr(detail, weak[i].why))
            fail_msg("%s: \"%s\" does not say \"%s\"", weak[i].pw, detail, weak[i].why);
    }
    for (size_t i = 0; i < sizeof strong / sizeof strong[0]; i++) {
        const char *code = check(&nist, strong[i], &detail);
        if (code)
            fail_msg("%s refused: %s (%s)", strong[i], code, detail);
    }
    /* check_common off: the estimator is off with the list */
    assert_null(check(&plain, "password123", &detail));
    /* the longest allowed repeat is still one */
    char pw[300];
    memset(pw, 'z', 64);
    pw[64] = '\0';
    assert_string_equal(check(&nist, pw, &detail), "password_too_weak");
    /* past ESTIMATE_MAX bytes only the head is judged (zxcvbn's work grows
     * with the length): a long passphrase passes, quickly */
    gh_pw_policy any = nist;
    any.max_length = 0;
    pw[0] = '\0';
    while (strlen(pw) + 30 < sizeof pw)
        strcat(pw, "Kx9-orbit-Tm4-harbour-lantern ");
    assert_null(check(&any, pw, &detail));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(argon2id_round_trip),
        cmocka_unit_test(argon2id_wrong_password),
        cmocka_unit_test(argon2id_weaker_params_rehash),
        cmocka_unit_test(bad_params_fail),
        cmocka_unit_test(libargon2_hashes_verify),
        cmocka_unit_test(hashes_verify_with_libargon2),
        cmocka_unit_test(malformed_salt_and_tag),
        cmocka_unit_test(threads_hash),
        cmocka_unit_test(release_idle_memory),
        cmocka_unit_test(release_returns_memory),
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
        cmocka_unit_test(policy_context_words),
        cmocka_unit_test(policy_guessable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
