/*
 * keys.c - the keyring: the keys that sign access tokens and verify them.
 *
 * ES256 and RS256 keys are PEM private keys, one per file "<kid>.pem" in
 * the keys directory. Every key there verifies, so tokens signed before a
 * rotation stay valid until they expire; the newest file (mtime, ties
 * broken by name) signs. With no key at all, one is generated at first
 * start. HS256 has a single key: the configured secret, under kid "hs256",
 * and never appears in the JWKS.
 *
 * Each file is parsed once, here, and its text wiped as soon as it is
 * parsed: a ring keeps no PEM. jwt.c signs and verifies with OpenSSL on
 * what is kept - every key a public-only EVP_PKEY, which verifies; the
 * signer (the newest) its private EVP_PKEY too, which signs; keys that
 * only verify drop their private half once the signer is known. HS256
 * keeps its secret's bytes. After keyring_load a ring is never written
 * (EVP_PKEY is safe to share between threads that each bring their own
 * EVP_MD_CTX), so any number of threads may issue and verify at once.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zxcvbn.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "auth/tokens.h"

#define KEY_FILE_MAX (64 * 1024) /* far more than a 16384-bit RSA key */
#define KID_MAX 63
#define HS256_KID "hs256"
#define HS256_MIN_SECRET 32      /* RFC 7518 3.2: at least the hash size */
#define RSA_NEW_BITS 3072
#define RSA_MIN_BITS 2048

struct gh_key {
    char kid[KID_MAX + 1];
    EVP_PKEY *pub;            /* public half only, verifies; NULL for HS256 */
    EVP_PKEY *priv;           /* the private key, signs: the signer's only */
    unsigned char *secret;    /* HS256 only: the secret, signs and verifies */
    size_t secret_len;
    struct timespec mtime;
};

struct gh_keyring {
    gh_alg alg;
    gh_key *keys;             /* newest first: keys[0] signs */
    size_t n;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *alg_name(gh_alg alg)
{
    switch (alg) {
    case GH_ALG_ES256: return "ES256";
    case GH_ALG_RS256: return "RS256";
    case GH_ALG_HS256: return "HS256";
    }
    return "?";
}

/* ---------------------------------------------------------------- checks */

/* NULL if pk suits alg, else why not (for "file: ..." errors). */
static const char *key_mismatch(EVP_PKEY *pk, gh_alg alg)
{
    char group[32];

    if (alg == GH_ALG_ES256) {
        if (!EVP_PKEY_is_a(pk, "EC"))
            return EVP_PKEY_is_a(pk, "RSA") ? "an RSA key, but tokens.alg is ES256"
                                            : "not an EC key, but tokens.alg is ES256";
        if (!EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                            sizeof(group), NULL) ||
            strcmp(group, "prime256v1") != 0)
            return "an EC key not on curve P-256, which ES256 requires";
        return NULL;
    }
    if (!EVP_PKEY_is_a(pk, "RSA"))
        return EVP_PKEY_is_a(pk, "EC") ? "an EC key, but tokens.alg is RS256"
                                       : "not an RSA key, but tokens.alg is RS256";
    if (EVP_PKEY_get_bits(pk) < RSA_MIN_BITS)
        return "an RSA key shorter than 2048 bits";
    return NULL;
}

/* "<kid>.pem" with a kid safe to put in a JSON header; 0 or -1 (skip). */
static int kid_from_name(const char *name, char kid[KID_MAX + 1])
{
    size_t len = strlen(name);

    if (len <= 4 || strcmp(name + len - 4, ".pem") != 0 || name[0] == '.')
        return -1;
    len -= 4;
    if (len > KID_MAX)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return -1;
    }
    memcpy(kid, name, len);
    kid[len] = '\0';
    return 0;
}

/* Never prompt on a terminal for an encrypted key: refuse it. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

/* ---------------------------------------------------------------- PEM and DER */

/* Canonical unencrypted PKCS#8 PEM of pk's private key (malloc'd), for a
 * new key file; the caller wipes it. The BIO is a secure-memory one, so
 * its copy of the key's text is wiped when it is freed. */
static unsigned char *private_pem(EVP_PKEY *pk, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_secmem());
    unsigned char *out = NULL;
    char *data;
    long n;

    if (bio && PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) == 1 &&
        (n = BIO_get_mem_data(bio, &data)) > 0 && (out = malloc((size_t)n + 1))) {
        memcpy(out, data, (size_t)n);
        out[n] = '\0';
        *len = (size_t)n;
    }
    BIO_free(bio);
    return out;
}

/* A public-only copy of pk, through its DER SubjectPublicKeyInfo: what
 * verifies carries no private material. */
static EVP_PKEY *public_only(EVP_PKEY *pk)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    EVP_PKEY *pub = NULL;
    int n = i2d_PUBKEY(pk, &der);

    if (n > 0) {
        p = der;
        pub = d2i_PUBKEY(NULL, &p, n);
    }
    OPENSSL_free(der);
    return pub;
}

/* kid of a generated key: 16 chars of base64url(SHA-256(DER SPKI)), so the
 * same key always gets the same id (RFC 7638 in spirit). */
static int make_kid(EVP_PKEY *pk, char kid[KID_MAX + 1])
{
    unsigned char *der = NULL, md[32];
    char b64[GH_B64URL_LEN(32)];
    int n = i2d_PUBKEY(pk, &der), ok;

    ok = n > 0 && EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL) == 1 &&
         b64url_encode(md, sizeof(md), b64, sizeof(b64)) > 0;
    OPENSSL_free(der);
    if (!ok)
        return -1;
    memcpy(kid, b64, 16);
    kid[16] = '\0';
    return 0;
}

/* ---------------------------------------------------------------- loading */

/* The whole of a small regular file (malloc'd, NUL-terminated). */
static unsigned char *read_small_file(const char *path, size_t *len, struct timespec *mtime,
                                      char *err, size_t errlen)
{
    struct stat st;
    unsigned char *buf = NULL;
    ssize_t got = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        fail(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > KEY_FILE_MAX) {
        fail(err, errlen, "%s: not a regular file of at most %d bytes", path, KEY_FILE_MAX);
    } else if (!(buf = malloc((size_t)st.st_size + 1))) {
        fail(err, errlen, "%s: out of memory", path);
    } else if ((got = read(fd, buf, (size_t)st.st_size)) != (ssize_t)st.st_size) {
        fail(err, errlen, "%s: short read", path);
        OPENSSL_cleanse(buf, (size_t)st.st_size);
        free(buf);
        buf = NULL;
    } else {
        buf[got] = '\0';
        *len = (size_t)got;
        *mtime = st.st_mtim;
    }
    close(fd);
    return buf;
}

/* Parse one key file into k; refuses a key that does not suit alg. */
static int load_key_file(gh_key *k, const char *path, gh_alg alg, char *err, size_t errlen)
{
    size_t len = 0;
    unsigned char *text = read_small_file(path, &len, &k->mtime, err, errlen);
    EVP_PKEY *pk = NULL;
    const char *why;
    BIO *bio;
    int rc = -1;

    if (!text)
        return -1;
    bio = BIO_new_mem_buf(text, (int)len);
    if (bio)
        pk = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    OPENSSL_cleanse(text, len);
    free(text);
    if (!pk)
        fail(err, errlen, "%s: not an unencrypted PEM private key", path);
    else if ((why = key_mismatch(pk, alg)))
        fail(err, errlen, "%s: %s", path, why);
    else if (!(k->pub = public_only(pk)))
        fail(err, errlen, "%s: cannot extract the public key", path);
    else
        rc = 0;
    if (rc == 0)
        k->priv = pk; /* kept parsed: token_issue signs with it */
    else
        EVP_PKEY_free(pk);
    return rc;
}

/* Newest first; among equal mtimes the greater name, so the choice is
 * the same on every instance that shares the directory. */
static int newest_first(const void *a, const void *b)
{
    const gh_key *x = a, *y = b;

    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec > y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec > y->mtime.tv_nsec ? -1 : 1;
    return -strcmp(x->kid, y->kid);
}

static int keyring_add(gh_keyring *kr, const char *dir, const char *name, const char *kid,
                       char *err, size_t errlen)
{
    char path[PATH_MAX];
    gh_key *grown;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return fail(err, errlen, "%s/%s: path too long", dir, name);
    grown = realloc(kr->keys, (kr->n + 1) * sizeof(*grown));
    if (!grown)
        return fail(err, errlen, "%s: out of memory", path);
    kr->keys = grown;
    memset(&kr->keys[kr->n], 0, sizeof(gh_key));
    snprintf(kr->keys[kr->n].kid, sizeof(kr->keys[kr->n].kid), "%s", kid);
    kr->n++; /* counted even on failure, so keyring_free releases it */
    return load_key_file(&kr->keys[kr->n - 1], path, kr->alg, err, errlen);
}

/* Every "<kid>.pem" in dir into kr; 0 (a missing dir holds no keys) or -1. */
static int load_dir(gh_keyring *kr, const char *dir, char *err, size_t errlen)
{
    char kid[KID_MAX + 1];
    struct dirent *de;
    DIR *d = opendir(dir);
    int rc = 0;

    if (!d)
        return errno == ENOENT ? 0 : fail(err, errlen, "%s: %s", dir, strerror(errno));
    while (rc == 0 && (de = readdir(d))) {
        if (kid_from_name(de->d_name, kid) == 0)
            rc = keyring_add(kr, dir, de->d_name, kid, err, errlen);
    }
    closedir(d);
    if (rc == 0 && kr->n > 1)
        qsort(kr->keys, kr->n, sizeof(gh_key), newest_first);
    /* only keys[0] signs: the others keep their public half alone */
    for (size_t i = 1; rc == 0 && i < kr->n; i++) {
        EVP_PKEY_free(kr->keys[i].priv);
        kr->keys[i].priv = NULL;
    }
    return rc;
}

/*
 * RFC 8725 3.5: a human password is not a key. zxcvbn estimates how many
 * bits of guessing a secret is worth, knowing words, names, keyboard walks,
 * repeats and sequences. A key needs 128 bits; and text people write, even
 * long enough to reach that, estimates near 3 bits a character, where
 * generated keys (hex, base64) estimate 3.6 or more: below 3.4 it is a
 * phrase, not a key.
 */
#define HS256_MIN_BITS 128.0
#define HS256_MIN_BITS_PER_CHAR 3.4

const char *keyring_secret_weak(const char *secret)
{
    static _Thread_local char why[256];
    size_t len = secret ? strlen(secret) : 0;

    if (len < HS256_MIN_SECRET) {
        snprintf(why, sizeof why, "HS256 needs a secret of at least %d bytes; make one with "
                 "`openssl rand -base64 32`", HS256_MIN_SECRET);
        return why;
    }
    double bits = ZxcvbnMatch(secret, NULL, NULL);
    if (bits < HS256_MIN_BITS || bits / (double)len < HS256_MIN_BITS_PER_CHAR) {
        snprintf(why, sizeof why, "the secret looks like a password or a phrase, not a random "
                 "key (about %.0f bits of guessing; a key needs %.0f from a random source); "
                 "make one with `openssl rand -base64 32`", bits, HS256_MIN_BITS);
        return why;
    }
    return NULL;
}

static gh_keyring *load_hs256(const char *secret, char *err, size_t errlen)
{
    gh_keyring *kr;
    size_t len = secret ? strlen(secret) : 0;
    const char *weak = keyring_secret_weak(secret);

    if (weak) {
        fail(err, errlen, "tokens.hs256_secret: %s", weak);
        return NULL;
    }
    kr = calloc(1, sizeof(*kr));
    if (kr && (kr->keys = calloc(1, sizeof(gh_key))) &&
        (kr->keys[0].secret = malloc(len + 1))) {
        kr->alg = GH_ALG_HS256;
        kr->n = 1;
        memcpy(kr->keys[0].secret, secret, len + 1);
        kr->keys[0].secret_len = len;
        snprintf(kr->keys[0].kid, sizeof(kr->keys[0].kid), "%s", HS256_KID);
        return kr;
    }
    keyring_free(kr);
    fail(err, errlen, "out of memory");
    return NULL;
}

gh_keyring *keyring_load(const char *dir, gh_alg alg, const char *secret, char *err,
                         size_t errlen)
{
    return keyring_open(dir, alg, secret, 1, err, errlen);
}

gh_keyring *keyring_open(const char *dir, gh_alg alg, const char *secret, int generate,
                         char *err, size_t errlen)
{
    gh_keyring *kr;
    char kid[KID_MAX + 1];

    if (alg == GH_ALG_HS256)
        return load_hs256(secret, err, errlen);
    if (alg != GH_ALG_ES256 && alg != GH_ALG_RS256) {
        fail(err, errlen, "unknown token algorithm");
        return NULL;
    }
    if (!(kr = calloc(1, sizeof(*kr)))) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    kr->alg = alg;
    if (load_dir(kr, dir, err, errlen) != 0)
        goto failed;
    if (kr->n == 0 && generate) {
        /* first start: make a key, then read it back the way a restart will */
        if (keyring_rotate(dir, alg, kid, sizeof(kid), err, errlen) != 0 ||
            load_dir(kr, dir, err, errlen) != 0)
            goto failed;
        if (kr->n == 0) {
            fail(err, errlen, "%s: the generated key did not load", dir);
            goto failed;
        }
    }
    return kr;
failed:
    keyring_free(kr);
    return NULL;
}

void keyring_free(gh_keyring *kr)
{
    if (!kr)
        return;
    for (size_t i = 0; i < kr->n; i++) {
        EVP_PKEY_free(kr->keys[i].pub);
        EVP_PKEY_free(kr->keys[i].priv); /* OpenSSL clears its private parts */
        if (kr->keys[i].secret) {
            OPENSSL_cleanse(kr->keys[i].secret, kr->keys[i].secret_len);
            free(kr->keys[i].secret);
        }
    }
    free(kr->keys);
    free(kr);
}

/* ---------------------------------------------------------------- generating */

static EVP_PKEY *generate(gh_alg alg)
{
    if (alg == GH_ALG_ES256)
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_NEW_BITS);
}

/* The newest mtime among dir's key files (0 if none). */
static struct timespec newest_mtime(const char *dir)
{
    struct timespec best = { 0, 0 };
    char kid[KID_MAX + 1], path[PATH_MAX];
    struct dirent *de;
    struct stat st;
    DIR *d = opendir(dir);

    if (!d)
        return best;
    while ((de = readdir(d))) {
        if (kid_from_name(de->d_name, kid) != 0 ||
            (size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path) ||
            stat(path, &st) != 0)
            continue;
        if (st.st_mtim.tv_sec > best.tv_sec ||
            (st.st_mtim.tv_sec == best.tv_sec && st.st_mtim.tv_nsec > best.tv_nsec))
            best = st.st_mtim;
    }
    closedir(d);
    return best;
}

/* File timestamps tick with the kernel's coarse clock, so a key written
 * just after another may carry the same mtime and lose the tie on its
 * name. A rotated key must sign: make it strictly the newest. */
static void make_newest(int fd, const char *dir)
{
    struct timespec newest = newest_mtime(dir), times[2];
    struct stat st;

    if (fstat(fd, &st) != 0)
        return;
    if (st.st_mtim.tv_sec > newest.tv_sec ||
        (st.st_mtim.tv_sec == newest.tv_sec && st.st_mtim.tv_nsec > newest.tv_nsec))
        return;
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1] = newest;
    times[1].tv_nsec += 1000;
    if (times[1].tv_nsec >= 1000000000L) {
        times[1].tv_sec++;
        times[1].tv_nsec -= 1000000000L;
    }
    futimens(fd, times);
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Write pem to dir/<kid>.pem, mode 0600, atomically: a reader (another
 * instance, a SIGHUP) sees the whole key or none. */
static int write_key_file(const char *dir, const char *kid, const unsigned char *pem, size_t len,
                          char *err, size_t errlen)
{
    char tmp[PATH_MAX], path[PATH_MAX];
    int fd, ok, dfd;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s.pem", dir, kid) >= sizeof(path) ||
        (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.pem.tmp", dir, kid) >= sizeof(tmp))
        return fail(err, errlen, "%s: path too long", dir);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(err, errlen, "%s: %s", tmp, strerror(errno));
    ok = write_all(fd, pem, len) == 0 && fsync(fd) == 0;
    if (ok)
        make_newest(fd, dir);
    if (close(fd) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return fail(err, errlen, "%s: %s", path, strerror(e));
    }
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(dfd); /* make the rename itself durable */
        close(dfd);
    }
    return 0;
}

int keyring_rotate(const char *dir, gh_alg alg, char *kid_out, size_t kid_len, char *err,
                   size_t errlen)
{
    char kid[KID_MAX + 1];
    unsigned char *pem = NULL;
    size_t pem_len = 0;
    EVP_PKEY *pk;
    int rc = -1;

    if (alg == GH_ALG_HS256)
        return fail(err, errlen, "HS256 signs with tokens.hs256_secret: change the secret "
                                 "to rotate it");
    if (alg != GH_ALG_ES256 && alg != GH_ALG_RS256)
        return fail(err, errlen, "unknown token algorithm");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return fail(err, errlen, "%s: %s", dir, strerror(errno));
    if (!(pk = generate(alg)))
        return fail(err, errlen, "cannot generate a %s key", alg_name(alg));
    if (make_kid(pk, kid) != 0 || !(pem = private_pem(pk, &pem_len)))
        fail(err, errlen, "cannot encode the new %s key", alg_name(alg));
    else if (write_key_file(dir, kid, pem, pem_len, err, errlen) == 0)
        rc = 0;
    if (rc == 0 && kid_out && kid_len)
        snprintf(kid_out, kid_len, "%s", kid);
    if (pem) {
        OPENSSL_cleanse(pem, pem_len);
        free(pem);
    }
    EVP_PKEY_free(pk);
    return rc;
}

/* ---------------------------------------------------------------- accessors */

const char *keyring_alg_name(const gh_keyring *kr) { return alg_name(kr->alg); }
gh_alg keyring_alg(const gh_keyring *kr) { return kr->alg; }
size_t keyring_count(const gh_keyring *kr) { return kr->n; }
const gh_key *keyring_signer(const gh_keyring *kr) { return &kr->keys[0]; }
const char *keyring_signing_kid(const gh_keyring *kr) { return kr->keys[0].kid; }
const char *key_kid(const gh_key *k) { return k->kid; }
EVP_PKEY *key_pkey(const gh_key *k) { return k->pub; }
EVP_PKEY *key_private(const gh_key *k) { return k->priv; }

const unsigned char *key_hmac_secret(const gh_key *k, size_t *len)
{
    *len = k->secret_len;
    return k->secret;
}

const gh_key *keyring_find(const gh_keyring *kr, const char *kid, size_t kid_len)
{
    /* a handful of keys at most: a linear scan beats any index */
    for (size_t i = 0; i < kr->n; i++) {
        if (strlen(kr->keys[i].kid) == kid_len && memcmp(kr->keys[i].kid, kid, kid_len) == 0)
            return &kr->keys[i];
    }
    return NULL;
}

/* ---------------------------------------------------------------- JWKS */

/* base64url of bn, big-endian, left-padded to pad bytes (0: minimal). */
static json_t *bn_b64(const BIGNUM *bn, int pad)
{
    unsigned char buf[1024];
    char b64[GH_B64URL_LEN(sizeof(buf))];
    int n = pad ? pad : BN_num_bytes(bn);

    if (n <= 0 || n > (int)sizeof(buf) || BN_bn2binpad(bn, buf, n) != n)
        return NULL;
    if (b64url_encode(buf, (size_t)n, b64, sizeof(b64)) == 0)
        return NULL;
    return json_string(b64);
}

/* Set o[key] to the base64url of bn, or fail. */
static int set_bn(json_t *o, const char *key, const BIGNUM *bn, int pad)
{
    json_t *v = bn_b64(bn, pad);

    return v ? json_object_set_new(o, key, v) : -1;
}

/* The public JWK of one key (RFC 7517/7518): its key type's members, then
 * kid, alg and use, which JOSE libraries match on. */
static json_t *jwk(const gh_key *k, gh_alg alg)
{
    int ec = alg == GH_ALG_ES256;
    BIGNUM *a = NULL, *b = NULL;
    json_t *o = json_object();
    int bad = !o;

    /* EC coordinates are fixed-size fields (32 bytes for P-256); RSA
     * integers are minimal big-endian */
    bad = bad || !EVP_PKEY_get_bn_param(k->pub, ec ? OSSL_PKEY_PARAM_EC_PUB_X
                                                    : OSSL_PKEY_PARAM_RSA_N, &a)
              || !EVP_PKEY_get_bn_param(k->pub, ec ? OSSL_PKEY_PARAM_EC_PUB_Y
                                                    : OSSL_PKEY_PARAM_RSA_E, &b);
    bad = bad || json_object_set_new(o, "kty", json_string(ec ? "EC" : "RSA")) != 0;
    if (ec)
        bad = bad || json_object_set_new(o, "crv", json_string("P-256")) != 0 ||
              set_bn(o, "x", a, 32) != 0 || set_bn(o, "y", b, 32) != 0;
    else
        bad = bad || set_bn(o, "n", a, 0) != 0 || set_bn(o, "e", b, 0) != 0;
    bad = bad || json_object_set_new(o, "kid", json_string(k->kid)) != 0 ||
          json_object_set_new(o, "alg", json_string(alg_name(alg))) != 0 ||
          json_object_set_new(o, "use", json_string("sig")) != 0;
    BN_free(a);
    BN_free(b);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *keyring_jwks(const gh_keyring *kr)
{
    json_t *keys = json_array();

    for (size_t i = 0; keys && kr->alg != GH_ALG_HS256 && i < kr->n; i++) {
        json_t *k = jwk(&kr->keys[i], kr->alg);
        if (!k || json_array_append_new(keys, k) != 0) {
            json_decref(keys);
            return NULL;
        }
    }
    return keys ? json_pack("{s:o}", "keys", keys) : NULL;
}
