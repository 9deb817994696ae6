/*
 * password.c - password hashes: argon2id, and bcrypt for imported users.
 * (The policy is in policy.c, argon2's working memory in argon2_mem.c.)
 *
 * New hashes are argon2id, PHC string format, 16-byte random salt, 32-byte
 * tag. bcrypt hashes from the seed services verify through libxcrypt and
 * always ask for a rehash; so do argon2id hashes weaker than the configured
 * parameters, so raising the cost upgrades users as they log in.
 *
 * bcrypt reads only the first 72 bytes of a password. Rather than let a
 * longer password match whatever shares its first 72 bytes (silent
 * truncation), such passwords never match a bcrypt hash; a NUL byte, which
 * would end the C string crypt reads, is refused the same way.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <argon2.h>
#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "auth/argon2_mem.h"
#include "auth/password.h"

#define SALT_LEN 16
#define TAG_LEN 32
#define SALT_MIN 8                /* ARGON2_MIN_SALT_LENGTH */
#define TAG_MIN 4                 /* ARGON2_MIN_OUTLEN */
#define TAG_MAX 64                /* longest tag a stored hash may have */
#define BCRYPT_PW_MAX 72
#define BCRYPT_HASH_LEN 60
#define BCRYPT_COST_MAX 16        /* ~4 s a try; anything above is an attack */
/* A stored or imported argon2id hash must not make one login allocate or
 * spin without bound: refuse costs far above any sane configuration. */
#define ARGON2_M_MAX (4u * 1024 * 1024) /* KiB: 4 GiB */
#define ARGON2_T_MAX 100u
#define ARGON2_P_MAX 64u

/* ---------------------------------------------------------------- PHC */

/* libargon2's encoding: standard base64 alphabet, no padding */
static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(char *dst, const unsigned char *src, size_t len)
{
    uint32_t acc = 0;
    int bits = 0;

    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | src[i];
        for (bits += 8; bits >= 6; bits -= 6)
            *dst++ = b64_alphabet[(acc >> (bits - 6)) & 63];
    }
    if (bits > 0)
        *dst++ = b64_alphabet[(acc << (6 - bits)) & 63];
    *dst = '\0';
    return dst;
}

static int b64_value(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26
         : c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* The base64 run at s into dst (at most cap bytes), its length into *n;
 * the text after it, or NULL if it is too long or not canonical (a length
 * of 1 mod 4, or non-zero bits left over). Stops at the first character
 * outside the alphabet, which the caller checks. */
static const char *b64_decode(const char *s, unsigned char *dst, size_t cap, size_t *n)
{
    uint32_t acc = 0;
    int bits = 0, d;
    size_t len = 0;

    for (; (d = b64_value((unsigned char)*s)) >= 0; s++) {
        acc = ((acc << 6) | (uint32_t)d) & 0xffffff;
        if ((bits += 6) >= 8) {
            bits -= 8;
            if (len >= cap)
                return NULL;
            dst[len++] = (unsigned char)(acc >> bits);
        }
    }
    if (bits > 4 || (acc & ((1u << bits) - 1)) != 0)
        return NULL;
    *n = len;
    return s;
}

/* One argon2id computation through argon2_ctx, with our memory. */
static int argon2id_raw(uint32_t version, uint32_t m, uint32_t t, uint32_t par, const char *pw,
                        size_t len, const unsigned char *salt, size_t salt_len, unsigned char *tag,
                        size_t tag_len)
{
    argon2_context ctx;

    if (len > ARGON2_MAX_PWD_LENGTH || salt_len > ARGON2_MAX_SALT_LENGTH ||
        tag_len > ARGON2_MAX_OUTLEN)
        return -1;
    memset(&ctx, 0, sizeof(ctx));
    ctx.out = tag;
    ctx.outlen = (uint32_t)tag_len;
    ctx.pwd = (uint8_t *)(uintptr_t)pw; /* not written: no ARGON2_FLAG_CLEAR_PASSWORD */
    ctx.pwdlen = (uint32_t)len;
    ctx.salt = (uint8_t *)(uintptr_t)salt;
    ctx.saltlen = (uint32_t)salt_len;
    ctx.t_cost = t;
    ctx.m_cost = m;
    ctx.lanes = ctx.threads = par;
    ctx.version = version;
    ctx.allocate_cbk = argon2_mem_get;
    ctx.free_cbk = argon2_mem_put;
    ctx.flags = ARGON2_DEFAULT_FLAGS;
    return argon2_ctx(&ctx, Argon2_id) == ARGON2_OK ? 0 : -1;
}

/* ---------------------------------------------------------------- hashing */

int password_hash(const char *pw, size_t len, const gh_pw_params *p, char out[GH_PW_HASH_MAX])
{
    unsigned char salt[SALT_LEN], tag[TAG_LEN];
    char *o;
    int n, rc = -1;

    if (argon2_encodedlen(p->iterations, p->memory_kib, p->parallelism, SALT_LEN, TAG_LEN,
                          Argon2_id) > GH_PW_HASH_MAX ||
        RAND_bytes(salt, sizeof(salt)) != 1)
        return -1;
    if (argon2id_raw(ARGON2_VERSION_13, p->memory_kib, p->iterations, p->parallelism, pw, len,
                     salt, SALT_LEN, tag, TAG_LEN) == 0) {
        n = snprintf(out, GH_PW_HASH_MAX, "$argon2id$v=%u$m=%u,t=%u,p=%u$",
                     (unsigned)ARGON2_VERSION_13, (unsigned)p->memory_kib,
                     (unsigned)p->iterations, (unsigned)p->parallelism);
        /* the two base64 fields and a '$': 22 + 1 + 43 characters and NUL */
        if (n > 0 && (size_t)n + 22 + 1 + 43 + 1 <= GH_PW_HASH_MAX) {
            o = b64_encode(out + n, salt, SALT_LEN);
            *o++ = '$';
            b64_encode(o, tag, TAG_LEN);
            rc = 0;
        }
    }
    OPENSSL_cleanse(tag, sizeof(tag));
    if (rc != 0)
        out[0] = '\0';
    return rc;
}

/* "<key><decimal>" at s: the value into *v, the text after it, or NULL.
 * As libargon2: no leading zeros, at most UINT32_MAX. */
static const char *take_u32(const char *s, const char *key, uint32_t *v)
{
    size_t klen = strlen(key);
    uint64_t n = 0;
    int digits = 0;

    if (strncmp(s, key, klen) != 0)
        return NULL;
    s += klen;
    if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
        return NULL;
    for (; *s >= '0' && *s <= '9' && digits < 10; s++, digits++)
        n = n * 10 + (uint64_t)(*s - '0');
    return digits > 0 && n <= UINT32_MAX ? (*v = (uint32_t)n, s) : NULL;
}

/* The version and costs of "$argon2id$[v=V$]m=M,t=T,p=P$salt$tag"; the
 * text after "p=P" (the '$' before the salt), or NULL. */
static const char *argon2id_costs(const char *h, uint32_t *v, uint32_t *m, uint32_t *t,
                                  uint32_t *p)
{
    const char *s = h + strlen("$argon2id$");

    *v = ARGON2_VERSION_10; /* no "v=": the original 1.0 */
    if (strncmp(s, "v=", 2) == 0) {
        s = take_u32(s, "v=", v);
        if (!s || *s++ != '$')
            return NULL;
    }
    if (!(s = take_u32(s, "m=", m)) || *s++ != ',' || !(s = take_u32(s, "t=", t)) ||
        *s++ != ',' || !(s = take_u32(s, "p=", p)) || *s != '$')
        return NULL;
    return s;
}

/* 1 match, 0 mismatch, -1 malformed or not computable */
static int argon2id_check(const char *pw, size_t len, const char *s, uint32_t v, uint32_t m,
                          uint32_t t, uint32_t par)
{
    unsigned char *salt, want[TAG_MAX], got[TAG_MAX];
    size_t cap = strlen(s), salt_len = 0, tag_len = 0;
    int rc = -1;

    if (!(salt = malloc(cap ? cap : 1)))
        return -1;
    if (*s++ == '$' && (s = b64_decode(s, salt, cap, &salt_len)) && *s++ == '$' &&
        (s = b64_decode(s, want, sizeof(want), &tag_len)) && *s == '\0' &&
        salt_len >= SALT_MIN && tag_len >= TAG_MIN &&
        argon2id_raw(v, m, t, par, pw, len, salt, salt_len, got, tag_len) == 0)
        rc = CRYPTO_memcmp(got, want, tag_len) == 0;
    OPENSSL_cleanse(got, sizeof(got));
    OPENSSL_cleanse(want, sizeof(want));
    OPENSSL_cleanse(salt, cap ? cap : 1);
    free(salt);
    return rc;
}

static int verify_argon2id(const char *pw, size_t len, const char *hash, const gh_pw_params *p,
                           int *rehash)
{
    uint32_t v, m, t, par;
    const char *rest = argon2id_costs(hash, &v, &m, &t, &par);
    int rc;

    if (!rest || m > ARGON2_M_MAX || t > ARGON2_T_MAX || par > ARGON2_P_MAX ||
        (v != ARGON2_VERSION_10 && v != ARGON2_VERSION_13))
        return -1;
    rc = argon2id_check(pw, len, rest, v, m, t, par); /* compares in constant time */
    if (rc < 0)
        return -1; /* salt or tag malformed, or costs argon2 refuses */
    *rehash = v != ARGON2_VERSION_13 || m < p->memory_kib || t < p->iterations ||
              par < p->parallelism;
    return rc;
}

/* "$2a$NN$" + 53 characters of bcrypt's alphabet, cost 4..BCRYPT_COST_MAX */
static int bcrypt_wellformed(const char *h)
{
    int cost;

    if (strlen(h) != BCRYPT_HASH_LEN || h[6] != '$' || h[4] < '0' || h[4] > '9' ||
        h[5] < '0' || h[5] > '9')
        return 0;
    cost = (h[4] - '0') * 10 + (h[5] - '0');
    if (cost < 4 || cost > BCRYPT_COST_MAX)
        return 0;
    return strspn(h + 7, "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
           BCRYPT_HASH_LEN - 7;
}

static int verify_bcrypt(const char *pw, size_t len, const char *hash)
{
    char phrase[BCRYPT_PW_MAX + 1];
    struct crypt_data *cd;
    const char *out;
    int match;

    if (!bcrypt_wellformed(hash))
        return -1;
    if (len > BCRYPT_PW_MAX || memchr(pw, '\0', len))
        return 0; /* bcrypt would see only a prefix of it: never a match */
    if (!(cd = calloc(1, sizeof(*cd)))) /* ~32 KiB: not for a worker's stack */
        return -1;
    memcpy(phrase, pw, len);
    phrase[len] = '\0';
    out = crypt_rn(phrase, hash, cd, sizeof(*cd));
    match = out && strlen(out) == BCRYPT_HASH_LEN &&
            CRYPTO_memcmp(out, hash, BCRYPT_HASH_LEN) == 0;
    OPENSSL_cleanse(phrase, sizeof(phrase));
    OPENSSL_cleanse(cd, sizeof(*cd));
    free(cd);
    return out ? match : -1;
}

/* Verifications run (argon2id or bcrypt, the dummy one included), for
 * /metrics: it shows that an unknown account costs a real hash. */
static _Atomic uint64_t checks;

uint64_t password_checks_total(void)
{
    return atomic_load_explicit(&checks, memory_order_relaxed);
}

int password_verify(const char *pw, size_t len, const char *hash, const gh_pw_params *p,
                    int *rehash)
{
    int ignored;

    if (!rehash)
        rehash = &ignored;
    *rehash = 1;
    if (!hash)
        return -1;
    if (strncmp(hash, "$argon2id$", 10) == 0) {
        atomic_fetch_add_explicit(&checks, 1, memory_order_relaxed);
        return verify_argon2id(pw, len, hash, p, rehash);
    }
    if (strncmp(hash, "$2a$", 4) == 0 || strncmp(hash, "$2b$", 4) == 0 ||
        strncmp(hash, "$2y$", 4) == 0) {
        atomic_fetch_add_explicit(&checks, 1, memory_order_relaxed);
        return verify_bcrypt(pw, len, hash);
    }
    return -1;
}

/* The dummy hash is made lazily, once per set of parameters (a reload may
 * change them), from a random password nobody knows. */
static pthread_mutex_t dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static gh_pw_params dummy_params;
static char dummy_hash[GH_PW_HASH_MAX];

void password_verify_dummy(const char *pw, size_t len, const gh_pw_params *p)
{
    char hash[GH_PW_HASH_MAX];
    unsigned char unknown[32];

    pthread_mutex_lock(&dummy_lock);
    if (!dummy_hash[0] || dummy_params.memory_kib != p->memory_kib ||
        dummy_params.iterations != p->iterations || dummy_params.parallelism != p->parallelism) {
        if (RAND_bytes(unknown, sizeof(unknown)) == 1 &&
            password_hash((const char *)unknown, sizeof(unknown), p, dummy_hash) == 0)
            dummy_params = *p;
        else
            dummy_hash[0] = '\0'; /* try again next time */
        OPENSSL_cleanse(unknown, sizeof(unknown));
    }
    memcpy(hash, dummy_hash, sizeof(hash));
    pthread_mutex_unlock(&dummy_lock);
    if (hash[0])
        (void)password_verify(pw, len, hash, p, NULL);
}
