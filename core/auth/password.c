/*
 * password.c - password hashes (argon2id, and bcrypt for imported users)
 * and the password policy.
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
 *
 * The policy follows NIST SP 800-63B: length in code points, a list of
 * common passwords (compiled in; a hash set is built on first use), no
 * password equal to the user's own email or name. Composition rules exist
 * because the seed services had them; they are off by default.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <argon2.h>
#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "auth/common_passwords.h"
#include "auth/password.h"

#define SALT_LEN 16
#define TAG_LEN 32
#define BCRYPT_PW_MAX 72
#define BCRYPT_HASH_LEN 60
#define BCRYPT_COST_MAX 16        /* ~4 s a try; anything above is an attack */
/* A stored or imported argon2id hash must not make one login allocate or
 * spin without bound: refuse costs far above any sane configuration. */
#define ARGON2_M_MAX (4u * 1024 * 1024) /* KiB: 4 GiB */
#define ARGON2_T_MAX 100u
#define ARGON2_P_MAX 64u
#define COMMON_MAX_LEN 64         /* longer than any entry of the list */

/* ---------------------------------------------------------------- hashing */

int password_hash(const char *pw, size_t len, const gh_pw_params *p, char out[GH_PW_HASH_MAX])
{
    unsigned char salt[SALT_LEN];
    int rc;

    if (argon2_encodedlen(p->iterations, p->memory_kib, p->parallelism, SALT_LEN, TAG_LEN,
                          Argon2_id) > GH_PW_HASH_MAX ||
        RAND_bytes(salt, sizeof(salt)) != 1)
        return -1;
    rc = argon2id_hash_encoded(p->iterations, p->memory_kib, p->parallelism, pw, len, salt,
                               SALT_LEN, TAG_LEN, out, GH_PW_HASH_MAX);
    return rc == ARGON2_OK ? 0 : -1;
}

/* "<key><decimal>" at s: the value into *v, the text after it, or NULL. */
static const char *take_u32(const char *s, const char *key, uint32_t *v)
{
    size_t klen = strlen(key);
    uint64_t n = 0;
    int digits = 0;

    if (strncmp(s, key, klen) != 0)
        return NULL;
    for (s += klen; *s >= '0' && *s <= '9' && digits < 10; s++, digits++)
        n = n * 10 + (uint64_t)(*s - '0');
    return digits > 0 && n <= UINT32_MAX ? (*v = (uint32_t)n, s) : NULL;
}

/* The version and costs of "$argon2id$[v=V$]m=M,t=T,p=P$salt$tag"; the
 * salt and tag are left to libargon2's own decoder. */
static int argon2id_costs(const char *h, uint32_t *v, uint32_t *m, uint32_t *t, uint32_t *p)
{
    const char *s = h + strlen("$argon2id$");

    *v = ARGON2_VERSION_10; /* no "v=": the original 1.0 */
    if (strncmp(s, "v=", 2) == 0) {
        s = take_u32(s, "v=", v);
        if (!s || *s++ != '$')
            return -1;
    }
    if (!(s = take_u32(s, "m=", m)) || *s++ != ',' || !(s = take_u32(s, "t=", t)) ||
        *s++ != ',' || !(s = take_u32(s, "p=", p)) || *s != '$')
        return -1;
    return 0;
}

static int verify_argon2id(const char *pw, size_t len, const char *hash, const gh_pw_params *p,
                           int *rehash)
{
    uint32_t v, m, t, par;
    int rc;

    if (argon2id_costs(hash, &v, &m, &t, &par) != 0 || m > ARGON2_M_MAX || t > ARGON2_T_MAX ||
        par > ARGON2_P_MAX)
        return -1;
    rc = argon2id_verify(hash, pw, len); /* compares in constant time */
    if (rc != ARGON2_OK && rc != ARGON2_VERIFY_MISMATCH)
        return -1; /* salt or tag malformed */
    *rehash = v != ARGON2_VERSION_13 || m < p->memory_kib || t < p->iterations ||
              par < p->parallelism;
    return rc == ARGON2_OK;
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

int password_verify(const char *pw, size_t len, const char *hash, const gh_pw_params *p,
                    int *rehash)
{
    int ignored;

    if (!rehash)
        rehash = &ignored;
    *rehash = 1;
    if (!hash)
        return -1;
    if (strncmp(hash, "$argon2id$", 10) == 0)
        return verify_argon2id(pw, len, hash, p, rehash);
    if (strncmp(hash, "$2a$", 4) == 0 || strncmp(hash, "$2b$", 4) == 0 ||
        strncmp(hash, "$2y$", 4) == 0)
        return verify_bcrypt(pw, len, hash);
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

/* ---------------------------------------------------------------- common list */

/* An open-addressing set of the list's lines, lower-cased. */
static struct {
    char *text;          /* the lower-cased list, '\n' turned into '\0' */
    const char **slots;  /* mask + 1 slots, NULL = empty */
    size_t mask, count;
} common;
static pthread_once_t common_once = PTHREAD_ONCE_INIT;

static unsigned char ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static size_t fnv1a(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return (size_t)h;
}

/* The slot holding s, or the empty slot where it belongs. */
static const char **common_slot(const char *s, size_t len)
{
    size_t i = fnv1a(s, len) & common.mask;

    while (common.slots[i] &&
           (strlen(common.slots[i]) != len || memcmp(common.slots[i], s, len) != 0))
        i = (i + 1) & common.mask;
    return &common.slots[i];
}

static void common_build(void)
{
    size_t lines = 1, size = 1;
    char *line, *next;

    if (!(common.text = strdup(gh_common_passwords)))
        return;
    for (char *c = common.text; *c; c++) {
        *c = (char)ascii_lower((unsigned char)*c);
        lines += *c == '\n';
    }
    while (size < 2 * lines) /* at most half full: short probes */
        size <<= 1;
    if (!(common.slots = calloc(size, sizeof(*common.slots))))
        return;
    common.mask = size - 1;
    for (line = common.text; *line; line = next) {
        size_t n = strcspn(line, "\n");
        const char **slot;
        next = line[n] ? line + n + 1 : line + n;
        line[n] = '\0';
        slot = common_slot(line, n);
        if (n > 0 && !*slot) { /* blank lines and duplicates: skipped */
            *slot = line;
            common.count++;
        }
    }
}

int password_is_common(const char *pw, size_t len)
{
    char low[COMMON_MAX_LEN];

    pthread_once(&common_once, common_build);
    if (!common.slots || len == 0 || len > sizeof(low))
        return 0;
    for (size_t i = 0; i < len; i++)
        low[i] = (char)ascii_lower((unsigned char)pw[i]);
    return *common_slot(low, len) != NULL;
}

size_t password_common_count(void)
{
    pthread_once(&common_once, common_build);
    return common.count;
}

/* ---------------------------------------------------------------- policy */

/* Code points in s, or -1 unless it is well-formed UTF-8 (no overlong
 * forms, surrogates or values past U+10FFFF; RFC 3629) without NUL. */
static long utf8_length(const unsigned char *s, size_t len)
{
    long n = 0;

    for (size_t i = 0; i < len; n++) {
        unsigned char c = s[i];
        size_t k = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (c == 0 || k == 0 || i + k > len)
            return -1;
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return -1;
        }
        /* the second byte's range excludes overlongs, surrogates, > U+10FFFF */
        if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] > 0x9f) ||
            (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] > 0x8f))
            return -1;
        i += k;
    }
    return n;
}

static int ascii_ieq(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++) {
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
            return 0;
    }
    return 1;
}

/* pw is one of the context strings, or an email's local part */
static int is_context(const char *pw, size_t len, const char *const *context)
{
    for (; context && *context; context++) {
        const char *c = *context, *at = strrchr(c, '@');
        if (ascii_ieq(pw, len, c, strlen(c)) ||
            (at && at > c && ascii_ieq(pw, len, c, (size_t)(at - c))))
            return 1;
    }
    return 0;
}

/* A refusal: its stable code, and the sentence for the client in *detail */
static const char *verdict(const char **detail, const char *code, const char *sentence)
{
    *detail = sentence;
    return code;
}

/* Character classes present; anything not an ASCII letter or digit
 * (punctuation, space, any non-ASCII character) counts as special. */
enum { HAS_UPPER = 1, HAS_LOWER = 2, HAS_DIGIT = 4, HAS_SPECIAL = 8 };

static int char_classes(const char *pw, size_t len)
{
    int has = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)pw[i];
        has |= c >= 'A' && c <= 'Z' ? HAS_UPPER : c >= 'a' && c <= 'z' ? HAS_LOWER
             : c >= '0' && c <= '9' ? HAS_DIGIT : HAS_SPECIAL;
    }
    return has;
}

static const char *composition(const gh_pw_policy *pol, const char *pw, size_t len,
                               const char **detail)
{
    int has = char_classes(pw, len);

    if (pol->require_upper && !(has & HAS_UPPER))
        return verdict(detail, "password_needs_upper", "Include at least one upper-case letter.");
    if (pol->require_lower && !(has & HAS_LOWER))
        return verdict(detail, "password_needs_lower", "Include at least one lower-case letter.");
    if (pol->require_digit && !(has & HAS_DIGIT))
        return verdict(detail, "password_needs_digit", "Include at least one digit.");
    if (pol->require_special && !(has & HAS_SPECIAL))
        return verdict(detail, "password_needs_special",
                       "Include at least one symbol, space or non-ASCII character.");
    return NULL;
}

const char *password_policy_check(const gh_pw_policy *pol, const char *pw, size_t len,
                                  const char *const *context, const char **detail)
{
    static _Thread_local char sentence[64];
    const char *ignored;
    long chars = utf8_length((const unsigned char *)pw, len);

    if (!detail)
        detail = &ignored;
    *detail = NULL;
    if (chars < 0)
        return verdict(detail, "password_invalid_utf8",
                       "The password must be valid UTF-8 text without NUL characters.");
    if (pol->min_length > 0 && chars < pol->min_length) {
        snprintf(sentence, sizeof(sentence), "Use at least %d characters.", pol->min_length);
        return verdict(detail, "password_too_short", sentence);
    }
    if (pol->max_length > 0 && chars > pol->max_length) {
        snprintf(sentence, sizeof(sentence), "Use at most %d characters.", pol->max_length);
        return verdict(detail, "password_too_long", sentence);
    }
    if (pol->check_common && password_is_common(pw, len))
        return verdict(detail, "password_too_common",
                       "This password is too common; choose one that is harder to guess.");
    if (is_context(pw, len, context))
        return verdict(detail, "password_too_common",
                       "Do not use your email address or username as your password.");
    return composition(pol, pw, len, detail);
}
