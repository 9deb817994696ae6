/*
 * client_auth.c - a client's authentication (client_auth.h).
 */
#include <stdio.h>
#include <string.h>
#include "auth/client_auth.h"
#include "auth/lockout.h"
#include "auth/ratelimit.h"
#include "clock.h"
#include "log.h"
#include "plugin/host.h"

#define JTI_MAX 128

static int claim_is(const json_t *pl, const char *name, const char *want)
{
    const char *v = json_string_value(json_object_get(pl, name));
    return v && strcmp(v, want) == 0;
}

const char *client_assertion_refusal(const json_t *pl, const char *client_id,
                                     const char *token_endpoint, const char *issuer,
                                     int64_t now_s)
{
    const json_t *aud = json_object_get(pl, "aud"), *exp = json_object_get(pl, "exp");
    const char *jti = json_string_value(json_object_get(pl, "jti"));
    if (!claim_is(pl, "iss", client_id) || !claim_is(pl, "sub", client_id))
        return "iss and sub must be the client_id";
    if (!jwt_audience_has(aud, token_endpoint) && !(issuer && jwt_audience_has(aud, issuer)))
        return "aud is neither our token endpoint nor our issuer";
    if (!json_is_integer(exp) || json_integer_value(exp) <= now_s - CLIENT_ASSERTION_LEEWAY_S)
        return "expired";
    /* a jti is remembered until exp: a far exp would keep it for ever */
    if (json_integer_value(exp) > now_s + CLIENT_ASSERTION_MAX_S + CLIENT_ASSERTION_LEEWAY_S)
        return "exp too far ahead";
    if (!jti || !*jti || strlen(jti) > JTI_MAX)
        return "jti missing or too long";
    return NULL;
}

const char *client_assertion_audience(const char *assertion, const char *token_endpoint,
                                      const char *issuer)
{
    json_t *pl = token_payload(assertion);
    int iss = issuer && jwt_audience_has(json_object_get(pl, "aud"), issuer);
    json_decref(pl);
    return iss ? issuer : token_endpoint;
}

/* The assertion's jti, used once: kv takes it only while absent, for as
 * long as the assertion could be accepted. */
static client_auth_outcome jti_once(gh_conn *c, gh_call *call, const char *client_id,
                                    const json_t *pl, int64_t now_s)
{
    char key[GH_KV_KEY_MAX];
    int64_t ttl_s = json_integer_value(json_object_get(pl, "exp")) - now_s +
                    CLIENT_ASSERTION_LEEWAY_S + 1;
    snprintf(key, sizeof key, "cjti:%s:%s", client_id,
             json_string_value(json_object_get(pl, "jti")));
    gh_result r = store_kv_set(c, call, key, "1", 1, ttl_s * 1000, GH_KV_NX);
    if (r == GH_ERR_CONFLICT)
        return CLIENT_AUTH_FAILED;
    return r == GH_OK ? CLIENT_AUTH_OK : CLIENT_AUTH_ERROR;
}

static client_auth_outcome check_assertion(gh_conn *c, gh_call *call, const gh_config *cfg,
                                           const char *token_endpoint, const gh_client *cl,
                                           const char *assertion, const char **why)
{
    gh_jwt_policy pol = {
        .size = sizeof pol, .jwks_uri = cl->jwks_uri[0] ? cl->jwks_uri : NULL,
        .issuer = cl->client_id,
        .audience = client_assertion_audience(assertion, token_endpoint, cfg->tokens.issuer),
        .leeway_s = CLIENT_ASSERTION_LEEWAY_S, .allow_private = cfg->client_jwks_allow_private,
    };
    gh_json *claims = NULL;
    int64_t now_s = gh_now_ms() / 1000;
    /* inline keys win; the API lets a client have one kind only */
    json_t *keys = cl->jwks[0] ? json_loads(cl->jwks, 0, NULL) : NULL;
    if (!keys && !cl->jwks_uri[0]) {
        *why = "no keys";
        return CLIENT_AUTH_FAILED;
    }
    gh_result r = host_jwt_verify_keys(call, assertion, &pol, keys, &claims);
    json_decref(keys);
    if (r == GH_ERR_DENIED) {
        *why = "assertion refused";
        return CLIENT_AUTH_FAILED;
    }
    if (r != GH_OK)
        return CLIENT_AUTH_ERROR;
    client_auth_outcome o = CLIENT_AUTH_FAILED;
    if (!(*why = client_assertion_refusal((json_t *)claims, cl->client_id, token_endpoint,
                                          cfg->tokens.issuer, now_s)) &&
        (o = jti_once(c, call, cl->client_id, (json_t *)claims, now_s)) == CLIENT_AUTH_FAILED)
        *why = "jti replayed";
    json_decref((json_t *)claims);
    return o;
}

/* The client_id an assertion names when the request names none. */
static const char *assertion_client(const char *assertion, char *buf, size_t size)
{
    json_t *pl = token_payload(assertion);
    const char *iss = json_string_value(json_object_get(pl, "iss"));
    snprintf(buf, size, "%s", iss ? iss : "");
    json_decref(pl);
    return buf;
}

client_auth_outcome client_authenticate(gh_conn *c, gh_call *call, const gh_config *cfg,
                                        const char *token_endpoint, const client_creds *cr,
                                        const char *ip, gh_client *out, int64_t *retry_ms)
{
    char named[CLIENT_ID_MAX], account[CLIENT_ID_MAX + 8];
    const char *id = cr->client_id ? cr->client_id
                                   : assertion_client(cr->assertion, named, sizeof named);
    const char *why = NULL;
    client_auth_outcome o = CLIENT_AUTH_FAILED;

    snprintf(account, sizeof account, "client:%s", id);
    int64_t wait = lockout_check(c, call, &cfg->lockout, account, ip);
    if (wait != 0) {
        *retry_ms = wait;
        return wait < 0 ? CLIENT_AUTH_ERROR : CLIENT_AUTH_LOCKED;
    }
    gh_result r = *id ? client_by_client_id(c, call, id, out) : GH_ERR_NOT_FOUND;
    if (r != GH_OK && r != GH_ERR_NOT_FOUND)
        return CLIENT_AUTH_ERROR;
    if (r == GH_ERR_NOT_FOUND)
        why = "unknown client";
    else if (out->disabled)
        why = "disabled";
    else if (strcmp(out->auth_method, cr->method) != 0)
        why = "not its authentication method";
    else if (cr->assertion)
        o = check_assertion(c, call, cfg, token_endpoint, out, cr->assertion, &why);
    else if (client_secret_matches(out, cr->secret, gh_now_ms()))
        o = CLIENT_AUTH_OK;
    else
        why = "wrong secret";
    if (o == CLIENT_AUTH_FAILED) {
        /* the id as sent is the caller's text: named only once known */
        gh_log(GH_LOG_INFO, "client authentication failed: %s: %s",
               r == GH_OK ? out->client_id : "(unknown client)", why);
        lockout_failure(c, call, &cfg->lockout, account, ip);
    }
    return o;
}
