/*
 * host_jwks.c - host->jwt_verify: an ID token against a provider's JWKS.
 *
 * Every OpenID Connect plugin would otherwise carry its own JWK parser,
 * key cache and claim checks - the code where algorithm confusion and
 * "alg":"none" come from. Here, once:
 *
 *   1. the header pins nothing by itself: its "alg" must be one we verify
 *      (RS256/384/512, ES256/384: never "none", never HS* - a public key
 *      used as an HMAC secret) and one the policy allows; a "crit" header
 *      is refused;
 *   2. the key is looked up by "kid" in the cached set, and the key decides
 *      the algorithm: its "alg" if it states one, else its kty (and an EC
 *      key's curve), so a token cannot choose how its key is used;
 *   3. the signature, with OpenSSL through jwt.c's JWS verifiers;
 *   4. then the claims: iss exactly, aud contains the client id (azp, if
 *      present or needed, is it), exp/nbf/iat with leeway, nonce, and
 *      auth_time against max_age.
 *
 * The cache: one entry per JWKS URI, shared by every plugin and thread,
 * holding a reference-counted key set, so a verifier keeps using the set it
 * took while a fetch replaces it. A set lives for the response's
 * Cache-Control max-age (clamped), and an unknown kid fetches again - the
 * provider rotated - but an entry fetches at most once per
 * JWKS_REFETCH_MS whatever the outcome, so tokens with made-up kids cannot
 * turn the daemon into a flood against the provider. Fetches of one URI
 * are serialised and threads that waited reuse what the first fetched.
 * Failing to refresh keeps the old set until it is replaced.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <jansson.h>

#include "auth/tokens.h"
#include "clock.h"
#include "plugin/host.h"

#define JWT_MAX (16 * 1024)          /* longer tokens are refused unread */
#define JWKS_MAX_KEYS 32             /* keys kept from one set */
#define JWKS_MAX_URIS 64             /* distinct JWKS URIs in the cache */
#define JWKS_DEFAULT_TTL_MS (3600 * 1000LL)
#define JWKS_MIN_TTL_MS (60 * 1000LL)
#define JWKS_MAX_TTL_MS (86400 * 1000LL)
#define JWKS_REFETCH_MS (10 * 1000LL) /* at most one fetch per URI this often */
#define JWKS_TIMEOUT_MS 5000
#define DEFAULT_LEEWAY_S 30
#define RSA_MIN_BITS 2048

/* The algorithms we verify. An EC key's curve fixes its one algorithm. */
typedef struct jws_alg {
    const char *name;
    int rsa;     /* 1: RSASSA-PKCS1-v1_5; 0: ECDSA */
    size_t half; /* ECDSA: bytes of R and of S */
    const char *curve;
    const EVP_MD *(*md)(void);
} jws_alg;

static const jws_alg ALGS[] = {
    {"RS256", 1, 0, NULL, EVP_sha256}, {"RS384", 1, 0, NULL, EVP_sha384},
    {"RS512", 1, 0, NULL, EVP_sha512}, {"ES256", 0, 32, "P-256", EVP_sha256},
    {"ES384", 0, 48, "P-384", EVP_sha384},
};
#define N_ALGS (sizeof ALGS / sizeof ALGS[0])

static const jws_alg *alg_named(const char *name)
{
    for (size_t i = 0; name && i < N_ALGS; i++)
        if (strcmp(ALGS[i].name, name) == 0)
            return &ALGS[i];
    return NULL;
}

typedef struct jwk {
    char kid[128];
    int rsa;
    const jws_alg *alg; /* the one algorithm; NULL: any RS* (an RSA key without "alg") */
    EVP_PKEY *pk;
} jwk;

typedef struct jwks_set {
    int refs; /* under cache_lock */
    size_t n;
    jwk keys[JWKS_MAX_KEYS];
} jwks_set;

typedef struct jwks_entry {
    struct jwks_entry *next;
    char *uri;
    jwks_set *set;           /* NULL until a fetch succeeds */
    int64_t expires_ms;      /* set is fresh until */
    int64_t fetched_ms;      /* the last fetch attempt, 0: never */
    pthread_mutex_t fetching; /* one fetch of this URI at a time */
} jwks_entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static jwks_entry *cache;
static size_t cache_n;

/* ------------------------------------------------------------- key sets */

static void set_free(jwks_set *s)
{
    for (size_t i = 0; s && i < s->n; i++)
        EVP_PKEY_free(s->keys[i].pk);
    free(s);
}

static void set_release(jwks_set *s)
{
    int last;

    if (!s)
        return;
    pthread_mutex_lock(&cache_lock);
    last = --s->refs == 0;
    pthread_mutex_unlock(&cache_lock);
    if (last)
        set_free(s);
}

/* A base64url JWK member decoded into buf; its length, or 0. */
static size_t member_bytes(const json_t *k, const char *name, unsigned char *buf, size_t room)
{
    const json_t *v = json_object_get(k, name);
    size_t n = 0;

    if (!json_is_string(v) ||
        b64url_decode(json_string_value(v), json_string_length(v), buf, room, &n) != 0)
        return 0;
    return n;
}

/* The public key of an RSA or EC JWK, or NULL (another kty, a small RSA
 * modulus, a curve we do not verify). */
static EVP_PKEY *jwk_pkey(const json_t *k, const char *kty, const jws_alg **ec_alg)
{
    unsigned char a[1024], b[1024];
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pk = NULL;
    BIGNUM *n = NULL, *e = NULL;
    size_t an, bn;
    int ok = 0;

    if (!bld)
        return NULL;
    if (strcmp(kty, "RSA") == 0) {
        an = member_bytes(k, "n", a, sizeof a);
        bn = member_bytes(k, "e", b, sizeof b);
        ok = an * 8 >= RSA_MIN_BITS && bn && (n = BN_bin2bn(a, (int)an, NULL)) &&
             (e = BN_bin2bn(b, (int)bn, NULL)) &&
             OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
             OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
             (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL));
    } else if (strcmp(kty, "EC") == 0) {
        const char *crv = json_string_value(json_object_get(k, "crv"));

        for (size_t i = 0; crv && i < N_ALGS; i++)
            if (ALGS[i].curve && strcmp(ALGS[i].curve, crv) == 0)
                *ec_alg = &ALGS[i];
        /* an uncompressed point: 0x04 || x || y */
        a[0] = 4;
        ok = *ec_alg && member_bytes(k, "x", a + 1, (*ec_alg)->half) == (*ec_alg)->half &&
             member_bytes(k, "y", a + 1 + (*ec_alg)->half, (*ec_alg)->half) == (*ec_alg)->half &&
             OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, crv, 0) &&
             OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, a,
                                              1 + 2 * (*ec_alg)->half) &&
             (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL));
    }
    if (ok && (params = OSSL_PARAM_BLD_to_param(bld)) && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pk = NULL;
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    BN_free(n);
    BN_free(e);
    return pk;
}

/* One JWK into key; -1 for a key we do not use for signatures. */
static int jwk_parse(const json_t *k, jwk *key)
{
    const char *kty = json_string_value(json_object_get(k, "kty"));
    const char *use = json_string_value(json_object_get(k, "use"));
    const json_t *kid = json_object_get(k, "kid");
    const json_t *alg_j = json_object_get(k, "alg");
    const jws_alg *alg = alg_named(json_string_value(alg_j)), *ec_alg = NULL;

    memset(key, 0, sizeof *key);
    if (!kty || (use && strcmp(use, "sig") != 0) || (alg_j && !alg) ||
        (kid && (!json_is_string(kid) || json_string_length(kid) >= sizeof key->kid)))
        return -1;
    if (!(key->pk = jwk_pkey(k, kty, &ec_alg)))
        return -1;
    key->rsa = ec_alg == NULL;
    /* a stated alg must suit the key: RS* for RSA, the curve's own for EC */
    if ((alg && alg->rsa != key->rsa) || (ec_alg && alg && alg != ec_alg)) {
        EVP_PKEY_free(key->pk);
        return -1;
    }
    key->alg = ec_alg ? ec_alg : alg;
    if (kid)
        memcpy(key->kid, json_string_value(kid), json_string_length(kid) + 1);
    return 0;
}

/* The value of Cache-Control max-age in resp, as a TTL within bounds. */
static int64_t ttl_of(const gh_out *resp)
{
    const gh_host *h = &gh_host_table;
    const gh_param *p;
    int64_t ttl = JWKS_DEFAULT_TTL_MS;

    for (size_t i = 0; (p = h->out_get(resp, "header", i)); i++) {
        const char *line = p->data, *ma;

        if (strncasecmp(line, "Cache-Control:", 14) != 0)
            continue;
        if (strcasestr(line, "no-store") || strcasestr(line, "no-cache"))
            ttl = 0;
        else if ((ma = strcasestr(line, "max-age=")))
            ttl = strtoll(ma + 8, NULL, 10) * 1000;
    }
    return ttl < JWKS_MIN_TTL_MS ? JWKS_MIN_TTL_MS : ttl > JWKS_MAX_TTL_MS ? JWKS_MAX_TTL_MS : ttl;
}

/* GET the key set; NULL with call failed. */
/* The usable keys of a JWK Set's "keys" (the others are skipped), or NULL
 * with call failed. */
static jwks_set *set_of(gh_call *call, const json_t *keys)
{
    jwks_set *set = calloc(1, sizeof *set);
    const json_t *k;
    size_t i;

    if (!set) {
        gh_host_table.fail(call, GH_ERR_NOMEM, "jwt_verify: out of memory");
        return NULL;
    }
    set->refs = 1;
    json_array_foreach(keys, i, k) {
        if (set->n < JWKS_MAX_KEYS && jwk_parse(k, &set->keys[set->n]) == 0)
            set->n++;
    }
    return set;
}

static jwks_set *fetch(gh_call *call, const gh_jwt_policy *pol, int64_t *ttl_ms)
{
    const gh_host *h = &gh_host_table;
    static const int64_t timeout = JWKS_TIMEOUT_MS;
    static const int32_t yes = 1;
    gh_out *resp = h->out_new();
    const gh_param *status, *body;
    const json_t *keys;
    jwks_set *set = NULL;
    json_t *doc = NULL;
    int64_t code = 0;

    if (!resp) {
        h->fail(call, GH_ERR_NOMEM, "jwt_verify: out of memory");
        return NULL;
    }
    if (h->http(call, (const gh_param[]){
                    {"method", GH_T_STR, "GET", 3},
                    {"url", GH_T_STR, pol->jwks_uri, strlen(pol->jwks_uri)},
                    {"header", GH_T_STR, "Accept: application/json", 24},
                    {"timeout_ms", GH_T_INT, &timeout, sizeof timeout},
                    /* the policy's opt-in to http:// and private addresses;
                       without it the list ends here */
                    {pol->allow_private ? "allow_private" : NULL, GH_T_BOOL, &yes, sizeof yes},
                    {"allow_http", GH_T_BOOL, &yes, sizeof yes},
                    {NULL, 0, NULL, 0}},
                resp) != GH_OK) {
        h->fail(call, GH_ERR_UNAVAILABLE, "jwt_verify: key set %s: %s", pol->jwks_uri,
                call->message);
        goto out;
    }
    status = h->out_get(resp, "status", 0);
    body = h->out_get(resp, "body", 0);
    if (status)
        memcpy(&code, status->data, sizeof code);
    if (code != 200 || !body ||
        !(doc = json_loadb(body->data, body->len, JSON_REJECT_DUPLICATES, NULL)) ||
        !json_is_array(keys = json_object_get(doc, "keys"))) {
        h->fail(call, GH_ERR_UNAVAILABLE, "jwt_verify: key set %s: status %lld, no JWKS",
                pol->jwks_uri, (long long)code);
        goto out;
    }
    if ((set = set_of(call, keys)))
        *ttl_ms = ttl_of(resp);
out:
    json_decref(doc);
    h->out_free(resp);
    return set;
}

/* ----------------------------------------------------------------- cache */

/* The entry of uri, made if new; NULL when the cache is full. Entries live
 * until exit: a daemon verifies against the few providers it is set up for. */
static jwks_entry *entry_of(const char *uri)
{
    jwks_entry *e;

    pthread_mutex_lock(&cache_lock);
    for (e = cache; e && strcmp(e->uri, uri) != 0; e = e->next) {}
    if (!e && cache_n < JWKS_MAX_URIS && (e = calloc(1, sizeof *e))) {
        if ((e->uri = strdup(uri))) {
            pthread_mutex_init(&e->fetching, NULL);
            e->next = cache;
            cache = e;
            cache_n++;
        } else {
            free(e);
            e = NULL;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return e;
}

/* kid "" (a token naming no key) is known to a set of exactly one key. */
static int set_has(const jwks_set *s, const char *kid)
{
    if (!*kid)
        return s && s->n == 1;
    for (size_t i = 0; s && i < s->n; i++)
        if (strcmp(s->keys[i].kid, kid) == 0)
            return 1;
    return 0;
}

/* e's set with a reference taken (NULL if none); *fetched when it was
 * last fetched; *usable when it is fresh and has kid. */
static jwks_set *take(jwks_entry *e, const char *kid, int64_t now, int64_t *fetched, int *usable)
{
    jwks_set *s;

    pthread_mutex_lock(&cache_lock);
    if ((s = e->set))
        s->refs++;
    *fetched = e->fetched_ms;
    *usable = s && now < e->expires_ms && set_has(s, kid);
    pthread_mutex_unlock(&cache_lock);
    return s;
}

/* The key set to verify a token naming kid with: the cached one when it is
 * fresh and knows kid, else a new fetch if one is due. Release with
 * set_release. NULL with call failed when there is none. */
static jwks_set *key_set(gh_call *call, const gh_jwt_policy *pol, const char *kid)
{
    jwks_entry *e = entry_of(pol->jwks_uri);
    int64_t now = gh_now_ms(), seen, again, ttl = 0;
    jwks_set *s, *fresh = NULL, *old = NULL;
    int usable, last = 0;

    if (!e) {
        gh_host_table.fail(call, GH_ERR_UNAVAILABLE, "jwt_verify: more than %d key set URIs",
                           JWKS_MAX_URIS);
        return NULL;
    }
    s = take(e, kid, now, &seen, &usable);
    if (usable || (seen && now - seen < JWKS_REFETCH_MS))
        goto done;
    pthread_mutex_lock(&e->fetching);
    set_release(s);
    s = take(e, kid, now, &again, &usable);
    if (again != seen) { /* fetched while we waited: use that */
        pthread_mutex_unlock(&e->fetching);
        goto done;
    }
    fresh = fetch(call, pol, &ttl);
    pthread_mutex_lock(&cache_lock);
    e->fetched_ms = now;
    if (fresh) {
        old = e->set;
        e->set = fresh;
        e->expires_ms = now + ttl;
        fresh->refs++; /* the cache's reference and ours */
        last = old && --old->refs == 0;
    }
    pthread_mutex_unlock(&cache_lock);
    pthread_mutex_unlock(&e->fetching);
    if (!fresh)
        return s; /* the old set if any; call says why there is no new one */
    if (last)
        set_free(old);
    set_release(s);
    return fresh;
done:
    if (!s)
        gh_host_table.fail(call, GH_ERR_UNAVAILABLE,
                           "jwt_verify: no key set from %s (the last fetch failed)",
                           pol->jwks_uri);
    return s;
}

void host_jwks_cleanup(void)
{
    pthread_mutex_lock(&cache_lock);
    while (cache) {
        jwks_entry *e = cache;

        cache = e->next;
        if (e->set && --e->set->refs == 0)
            set_free(e->set);
        pthread_mutex_destroy(&e->fetching);
        free(e->uri);
        free(e);
    }
    cache_n = 0;
    pthread_mutex_unlock(&cache_lock);
}

/* ---------------------------------------------------------------- verify */

/* A base64url JSON object of the token, or NULL. */
static json_t *part_json(const char *b64, size_t len)
{
    unsigned char buf[JWT_MAX];
    size_t n;
    json_t *j;

    if (b64url_decode(b64, len, buf, sizeof buf, &n) != 0 ||
        !(j = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL)))
        return NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static int alg_allowed(const gh_jwt_policy *pol, const char *alg)
{
    static const char *const dflt[] = {"RS256", "ES256", NULL};

    for (const char *const *a = pol->algs ? pol->algs : dflt; *a; a++)
        if (strcmp(*a, alg) == 0)
            return 1;
    return 0;
}

/* The key of s for a token of alg naming kid ("" when it names none: then
 * the set must hold exactly one key); *why when there is none. */
static const jwk *key_for(const jwks_set *s, const char *kid, const jws_alg *alg, const char **why)
{
    const jwk *k = NULL;

    for (size_t i = 0; s && i < s->n && !k; i++)
        if (strcmp(s->keys[i].kid, kid) == 0 || (!*kid && s->n == 1))
            k = &s->keys[i];
    if (!k)
        *why = "unknown kid";
    else if (k->rsa != alg->rsa || (k->alg && k->alg != alg))
        *why = "algorithm not the key's";
    else
        return k;
    return NULL;
}

static int signature_ok(const jwk *k, const jws_alg *alg, const char *token, size_t input_len,
                        const char *sig_b64, size_t sig_b64_len)
{
    unsigned char sig[1024];
    size_t n;

    if (b64url_decode(sig_b64, sig_b64_len, sig, sizeof sig, &n) != 0)
        return 0;
    if (alg->rsa)
        return n == (size_t)EVP_PKEY_get_size(k->pk) &&
               jws_verify_pkey(k->pk, alg->md(), sig, n, token, input_len) == 0;
    return jws_verify_ecdsa(k->pk, alg->md(), alg->half, sig, n, token, input_len) == 0;
}

/* A NumericDate claim (RFC 7519: may have a fraction); 0 when absent. */
static int claim_time(const json_t *pl, const char *name, int64_t *t)
{
    const json_t *v = json_object_get(pl, name);

    if (!json_is_number(v))
        return -1;
    *t = (int64_t)json_number_value(v);
    return 0;
}

/* NULL when the claims satisfy pol at now_s, else why not. */
static const char *claims_refusal(const json_t *pl, const gh_jwt_policy *pol, int64_t now_s)
{
    const char *iss = json_string_value(json_object_get(pl, "iss"));
    const json_t *aud = json_object_get(pl, "aud"), *azp = json_object_get(pl, "azp");
    const json_t *nonce = json_object_get(pl, "nonce");
    int64_t leeway = pol->leeway_s >= 0 ? pol->leeway_s : DEFAULT_LEEWAY_S, exp, nbf, iat, at;

    if (!iss || strcmp(iss, pol->issuer) != 0)
        return "wrong issuer";
    if (!jwt_audience_has(aud, pol->audience))
        return "wrong audience";
    /* OpenID Connect Core 3.1.3.7: several audiences need an azp, and an
     * azp must be us */
    if ((json_is_array(aud) && json_array_size(aud) > 1 && !azp) ||
        (azp && (!json_is_string(azp) || strcmp(json_string_value(azp), pol->audience) != 0)))
        return "wrong authorized party";
    if (claim_time(pl, "exp", &exp) != 0 || claim_time(pl, "iat", &iat) != 0)
        return "missing exp or iat";
    if (exp <= now_s - leeway)
        return "expired";
    if (claim_time(pl, "nbf", &nbf) == 0 && nbf > now_s + leeway)
        return "not yet valid";
    if (iat > now_s + leeway)
        return "issued in the future";
    if (pol->nonce &&
        (!json_is_string(nonce) || json_string_length(nonce) != strlen(pol->nonce) ||
         CRYPTO_memcmp(json_string_value(nonce), pol->nonce, strlen(pol->nonce)) != 0))
        return "wrong nonce";
    if (pol->max_age_s > 0 &&
        (claim_time(pl, "auth_time", &at) != 0 || at + pol->max_age_s < now_s - leeway))
        return "authentication too old";
    return NULL;
}

/* host_jwt_verify, with the keys of `inline_set` (a JWK Set) instead of
 * those at pol->jwks_uri when it is not NULL. */
static gh_result verify(gh_call *call, const char *token, const gh_jwt_policy *pol,
                        const json_t *inline_set, gh_json **claims)
{
    const gh_host *h = &gh_host_table;
    gh_call own = {0}; /* where a failure's code is kept when call is NULL */
    const char *dot1, *dot2, *why = NULL, *kid;
    const jws_alg *alg;
    json_t *hdr = NULL, *pl = NULL;
    jwks_set *set = NULL;
    const jwk *k;
    size_t len;

    if (!call)
        call = &own;
    if (!claims)
        return h->fail(call, GH_ERR_INVALID, "jwt_verify: no output");
    *claims = NULL;
    if (!pol || pol->size < offsetof(gh_jwt_policy, allow_private) + sizeof pol->allow_private ||
        (!pol->jwks_uri && !inline_set) || !pol->issuer || !*pol->issuer || !pol->audience ||
        !*pol->audience)
        return h->fail(call, GH_ERR_INVALID, "jwt_verify: a policy needs jwks_uri, issuer "
                       "and audience");
    if (!inline_set && strncmp(pol->jwks_uri, "https://", 8) != 0 &&
        !(pol->allow_private && strncmp(pol->jwks_uri, "http://", 7) == 0))
        return h->fail(call, GH_ERR_INVALID, "jwt_verify: jwks_uri must be https://");
    len = token ? strnlen(token, JWT_MAX + 1) : 0;
    dot1 = len ? memchr(token, '.', len) : NULL;
    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (len > JWT_MAX || !dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) ||
        !(hdr = part_json(token, (size_t)(dot1 - token))))
        why = "malformed";
    else if (!(alg = alg_named(json_string_value(json_object_get(hdr, "alg")))) ||
             !alg_allowed(pol, alg->name))
        why = "algorithm not allowed";
    else if (json_object_get(hdr, "crit"))
        why = "unsupported critical header";
    else if (json_object_get(hdr, "kid") && !json_is_string(json_object_get(hdr, "kid")))
        why = "malformed";
    if (why)
        goto refuse;
    kid = json_string_value(json_object_get(hdr, "kid"));
    if (!kid)
        kid = "";
    if (!(set = inline_set ? set_of(call, json_object_get(inline_set, "keys"))
                           : key_set(call, pol, kid))) {
        json_decref(hdr);
        return call->code;
    }
    if (!(k = key_for(set, kid, alg, &why)))
        goto refuse;
    if (!signature_ok(k, alg, token, (size_t)(dot2 - token), dot2 + 1,
                      len - (size_t)(dot2 + 1 - token)))
        why = "bad signature";
    else if (!(pl = part_json(dot1 + 1, (size_t)(dot2 - dot1 - 1))))
        why = "malformed payload";
    else if (!(why = claims_refusal(pl, pol, gh_now_ms() / 1000)))
        *claims = (gh_json *)pl;
refuse:
    set_release(set);
    json_decref(hdr);
    if (!why)
        return GH_OK;
    json_decref(pl);
    return h->fail(call, GH_ERR_DENIED, "jwt_verify: token refused: %s", why);
}

gh_result host_jwt_verify(gh_call *call, const char *token, const gh_jwt_policy *pol,
                          gh_json **claims)
{
    return verify(call, token, pol, NULL, claims);
}

gh_result host_jwt_verify_keys(gh_call *call, const char *token, const gh_jwt_policy *pol,
                               const json_t *jwks, gh_json **claims)
{
    return verify(call, token, pol, jwks, claims);
}
