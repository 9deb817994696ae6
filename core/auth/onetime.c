/*
 * onetime.c - mailed one-time tokens in kv. See onetime.h for the keys.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include "auth/onetime.h"
#include "auth/pii.h"
#include "auth/users.h"
#include "out.h"

#define KEY_MAX 160
#define VALUE_MAX (37 + GH_DIGEST_LEN + 8)

static const char *const purposes[] = { "verify", "reset", "invite" };

static void token_key(char key[KEY_MAX], gh_ot_purpose p, const char *digest)
{
    snprintf(key, KEY_MAX, "ot:%s:%s", purposes[p], digest);
}

static void user_key(char key[KEY_MAX], gh_ot_purpose p, const char *user_id)
{
    snprintf(key, KEY_MAX, "ot:%s-user:%s", purposes[p], user_id);
}

/* The digest of the normalised address ("" when it does not normalise):
 * with encryption at rest, its keyed blind index (the hex after "bi1:"),
 * since whoever reads kv could confirm a guessed address against a plain
 * SHA-256. A token mailed before encryption was switched on then no
 * longer matches its address: it is asked for again. */
static void address_digest(const char *email, char out[GH_DIGEST_LEN])
{
    char norm[320], idx[PII_INDEX_LEN];
    if (!email || email_normalize(email, norm, sizeof norm) != 0)
        norm[0] = '\0';
    _Static_assert(PII_INDEX_LEN == 4 + GH_DIGEST_LEN, "bi1: and a SHA-256 in hex");
    if (pii_blind_index(pii_current(), "onetime", norm, idx) == 0)
        memcpy(out, idx + 4, GH_DIGEST_LEN);
    else
        secret_digest(norm, out);
    OPENSSL_cleanse(norm, sizeof norm);
}

/* The value under key, as text, into buf; NOT_FOUND when absent. */
static gh_result kv_text(gh_conn *c, gh_call *call, const char *key, char *buf, size_t len)
{
    gh_out *out = out_new();
    if (!out)
        return GH_ERR_NOMEM;
    gh_result r = store_kv_get(c, call, key, out);
    const gh_param *v = r == GH_OK ? out_get(out, "value", 0) : NULL;
    if (r == GH_OK && (!v || v->len >= len))
        r = GH_ERR_NOT_FOUND; /* not a value we wrote */
    else if (r == GH_OK) {
        memcpy(buf, v->data ? v->data : "", v->len);
        buf[v->len] = '\0';
    }
    out_free(out);
    return r;
}

gh_result onetime_issue(gh_conn *c, gh_call *call, gh_ot_purpose purpose, const char *user_id,
                        const char *email, int64_t ttl_ms, char secret[GH_SECRET_LEN])
{
    char digest[GH_DIGEST_LEN], old[GH_DIGEST_LEN], key[KEY_MAX], ukey[KEY_MAX];
    char value[VALUE_MAX], addr[GH_DIGEST_LEN];
    if (secret_new(secret) != 0)
        return GH_ERR_INTERNAL;
    secret_digest(secret, digest);
    address_digest(email, addr);
    user_key(ukey, purpose, user_id);
    /* the older token goes at once; the binding below would refuse it anyway */
    gh_result r = kv_text(c, call, ukey, old, sizeof old);
    if (r == GH_OK) {
        token_key(key, purpose, old);
        store_kv_del(c, call, key);
    } else if (r != GH_ERR_NOT_FOUND) {
        return r;
    }
    int n = snprintf(value, sizeof value, "%s %s", user_id, addr);
    token_key(key, purpose, digest);
    r = store_kv_set(c, call, key, value, (size_t)n, ttl_ms, 0);
    if (r == GH_OK)
        r = store_kv_set(c, call, ukey, digest, strlen(digest), ttl_ms, 0);
    if (r != GH_OK)
        OPENSSL_cleanse(secret, GH_SECRET_LEN);
    return r;
}

/* Parse "<user id> <address digest>". */
static int parse_value(const char *v, gh_ot_claim *out)
{
    const char *sp = strchr(v, ' ');
    if (!sp || sp - v != 36 || strlen(sp + 1) != GH_DIGEST_LEN - 1)
        return -1;
    memcpy(out->user_id, v, 36);
    out->user_id[36] = '\0';
    memcpy(out->address, sp + 1, GH_DIGEST_LEN);
    return 0;
}

/* The claim under the token's key, if the token is still its user's newest. */
static gh_result lookup(gh_conn *c, gh_call *call, gh_ot_purpose purpose, const char *secret,
                        char key[KEY_MAX], gh_ot_claim *out)
{
    char digest[GH_DIGEST_LEN], value[VALUE_MAX], current[GH_DIGEST_LEN], ukey[KEY_MAX];
    memset(out, 0, sizeof *out);
    secret_digest(secret, digest);
    token_key(key, purpose, digest);
    gh_result r = kv_text(c, call, key, value, sizeof value);
    if (r != GH_OK)
        return r;
    if (parse_value(value, out) < 0)
        return GH_ERR_NOT_FOUND;
    user_key(ukey, purpose, out->user_id);
    r = kv_text(c, call, ukey, current, sizeof current);
    if (r == GH_OK && strcmp(current, digest) != 0)
        r = GH_ERR_NOT_FOUND; /* superseded by a newer token */
    return r;
}

gh_result onetime_peek(gh_conn *c, gh_call *call, gh_ot_purpose purpose, const char *secret,
                       gh_ot_claim *out)
{
    char key[KEY_MAX];
    return lookup(c, call, purpose, secret, key, out);
}

gh_result onetime_take(gh_conn *c, gh_call *call, gh_ot_purpose purpose, const char *secret,
                       gh_ot_claim *out)
{
    char key[KEY_MAX];
    gh_result r = lookup(c, call, purpose, secret, key, out);
    /* the delete is the take: of two requests, only one finds the key */
    if (r == GH_OK)
        r = store_kv_del(c, call, key);
    if (r != GH_OK)
        memset(out, 0, sizeof *out);
    return r;
}

int onetime_address_is(const gh_ot_claim *cl, const char *email)
{
    char addr[GH_DIGEST_LEN];
    address_digest(email, addr);
    return email && CRYPTO_memcmp(addr, cl->address, GH_DIGEST_LEN) == 0;
}

void onetime_forget(gh_conn *c, gh_call *call, gh_ot_purpose purpose, const char *secret)
{
    char digest[GH_DIGEST_LEN], key[KEY_MAX];
    secret_digest(secret, digest);
    token_key(key, purpose, digest);
    store_kv_del(c, call, key);
}
