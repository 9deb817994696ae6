/*
 * wellknown.c - what other services need to verify our tokens without
 * calling us: the public keys (RFC 7517) and the discovery document
 * (OpenID Connect Discovery 1.0, the subset that applies to a server that
 * issues access tokens by the password, refresh and client_credentials
 * grants).
 *
 * Both answer from the loop thread: they read only the keyring and the
 * config. Caches may keep them five minutes, so a verifier that meets an
 * unknown kid (a key rotated in meanwhile) should fetch the keys again, as
 * JOSE libraries do.
 */
#include <stdio.h>
#include "api/api.h"
#include "app.h"
#include "auth/tokens.h"
#include "http/request.h"

#define PUBLIC_CACHE "public, max-age=300"

static void jwks(gh_req *req)
{
    const gh_keyring *kr = req->cycle->kr;
    json_t *keys = kr ? keyring_jwks(kr) : NULL;
    if (!keys) {
        req_problem(req, 503, "unavailable", "No signing keys are loaded.");
        return;
    }
    req_set_header(req, "Cache-Control", PUBLIC_CACHE);
    req_json(req, 200, keys);
}

static json_t *url(const char *base, const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s%s", base, path);
    return json_string(buf);
}

static json_t *strings(const char *const *v)
{
    json_t *a = json_array();
    for (; a && *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

static void openid_configuration(gh_req *req)
{
    static const char *const grants[] = { "password", "refresh_token", "client_credentials", NULL };
    static const char *const responses[] = { "token", NULL };
    static const char *const subjects[] = { "public", NULL };
    /* "none": the user grants' public clients */
    static const char *const auth_methods[] = { "none", "client_secret_basic", "client_secret_post",
                                                "private_key_jwt", NULL };
    /* what host->jwt_verify checks a client assertion with */
    static const char *const assertion_algs[] = { "RS256", "ES256", NULL };
    static const char *const claims[] = { "iss", "sub", "aud", "exp", "iat", "nbf", "jti",
                                          "sid", "tenant", "roles", NULL };
    const gh_config *cfg = req->cycle->cfg;
    const gh_keyring *kr = req->cycle->kr;
    const char *base = cfg->public_url;
    const char *alg = kr ? keyring_alg_name(kr) : "ES256";
    json_t *doc = json_pack(
        "{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:[s], s:o, s:o, s:o}",
        "issuer", cfg->tokens.issuer,
        "jwks_uri", url(base, "/.well-known/jwks.json"),
        "token_endpoint", url(base, "/oauth2/token"),
        "introspection_endpoint", url(base, "/oauth2/introspect"),
        "revocation_endpoint", url(base, "/oauth2/revoke"),
        "grant_types_supported", strings(grants),
        "response_types_supported", strings(responses),
        "subject_types_supported", strings(subjects),
        "id_token_signing_alg_values_supported", alg,
        "token_endpoint_auth_methods_supported", strings(auth_methods),
        "token_endpoint_auth_signing_alg_values_supported", strings(assertion_algs),
        "claims_supported", strings(claims));
    if (!doc) {
        req_problem(req, 500, "internal_error", NULL);
        return;
    }
    req_set_header(req, "Cache-Control", PUBLIC_CACHE);
    req_json(req, 200, doc);
}

int wellknown_register(gh_router *r)
{
    return router_add(r, GH_GET, "/.well-known/jwks.json", jwks) |
           router_add(r, GH_GET, "/.well-known/openid-configuration", openid_configuration);
}
