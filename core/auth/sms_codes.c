/*
 * sms_codes.c - one-time SMS codes in kv. See sms_codes.h.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "auth/ratelimit.h"
#include "auth/sms_codes.h"
#include "auth/tokens.h"
#include "out.h"

#define KEY_MAX 160

static void keys(const char *purpose, const char *subject, char key[KEY_MAX], char tries[KEY_MAX])
{
    snprintf(key, KEY_MAX, "sms:%s:%s", purpose, subject);
    snprintf(tries, KEY_MAX, "sms-tries:%s:%s", purpose, subject);
}

/* The stored form: the code bound to its key, so a digest copied to
 * another purpose proves nothing there. */
static void digest(const char *key, const char *code, char out[GH_DIGEST_LEN])
{
    char text[KEY_MAX + SMS_CODE_LEN + 1];
    snprintf(text, sizeof text, "%s|%s", key, code);
    secret_digest(text, out);
    OPENSSL_cleanse(text, sizeof text);
}

gh_result sms_code_new(gh_conn *c, gh_call *call, const gh_mfa_conf *mc, const char *purpose,
                       const char *subject, char code[SMS_CODE_LEN])
{
    char key[KEY_MAX], tries[KEY_MAX], d[GH_DIGEST_LEN];
    uint32_t v;
    keys(purpose, subject, key, tries);
    do { /* below the largest multiple of 10^6, so every code is as likely */
        if (RAND_bytes((unsigned char *)&v, sizeof v) != 1)
            return GH_ERR_INTERNAL;
    } while (v >= 4294000000u);
    snprintf(code, SMS_CODE_LEN, "%06u", v % 1000000u);
    digest(key, code, d);
    gh_result r = store_kv_del(c, call, tries);
    if (r == GH_OK || r == GH_ERR_NOT_FOUND)
        r = store_kv_set(c, call, key, d, strlen(d), mc->sms_code_ttl_ms, 0);
    return r;
}

gh_result sms_code_check(gh_conn *c, gh_call *call, const gh_mfa_conf *mc, const char *purpose,
                         const char *subject, const char *code)
{
    char key[KEY_MAX], tries[KEY_MAX], d[GH_DIGEST_LEN];
    keys(purpose, subject, key, tries);
    gh_out *out = out_new();
    if (!out)
        return GH_ERR_NOMEM;
    gh_result r = store_kv_get(c, call, key, out);
    const gh_param *v = r == GH_OK ? out_get(out, "value", 0) : NULL;
    int right = 0;
    if (v && strlen(code) == SMS_CODE_LEN - 1) {
        digest(key, code, d);
        right = v->len == strlen(d) && CRYPTO_memcmp(v->data, d, v->len) == 0;
    }
    out_free(out);
    if (r != GH_OK)
        return r;
    if (right) /* the delete decides: a code is spent once */
        return store_kv_del(c, call, key);
    int64_t n = 0;
    r = store_kv_incr(c, call, tries, 1, mc->sms_code_ttl_ms, &n);
    if (r == GH_OK && n >= mc->sms_code_tries) {
        r = store_kv_del(c, call, key);
        if (r == GH_ERR_NOT_FOUND)
            r = GH_OK;
    }
    return r == GH_OK ? GH_ERR_DENIED : r;
}

int64_t sms_limit_hit(gh_conn *c, gh_call *call, const char *scope, const char *user_id,
                      const char *phone, int limit)
{
    char phone_scope[32];
    snprintf(phone_scope, sizeof phone_scope, "%s-phone", scope);
    int64_t w = ratelimit_hit(c, call, scope, user_id, limit, 60000);
    return w != 0 ? w : ratelimit_hit(c, call, phone_scope, phone, limit, 60000);
}
