/* oidc.c - an example OAuth plugin: OpenID Connect sign-in (code flow, PKCE) at any
 * provider whose endpoints are configured. host->jwt_verify checks the ID token (its
 * signature against the provider's key set, issuer, audience, expiry, nonce): the
 * plugin handles no keys. Needs ABI 1.1. */
#include <stdio.h>
#include <string.h>
#include <gatehouse/plugin.h>
static const gh_host *host;
enum { ISSUER, AUTHORIZE_URL, TOKEN_URL, JWKS_URI, CLIENT_ID, SCOPES, NOPT }; /* oidc_options' order */
typedef struct oidc { char opt[NOPT][512]; char *secret; int32_t allow_private; } oidc; /* read-only after instantiate */
static const gh_option oidc_options[] = {
    {"issuer", GH_T_STR, 1, "the provider's issuer, as its ID tokens name it"},
    {"authorize_url", GH_T_STR, 1, "the authorization endpoint"}, {"token_url", GH_T_STR, 1, "the token endpoint"},
    {"jwks_uri", GH_T_STR, 1, "the provider's key set"}, {"client_id", GH_T_STR, 1, "our client id there"},
    {"scopes", GH_T_STR, 0, "default \"openid email profile\""}, {"client_secret", GH_T_SECRET, 1, "ours there"},
    {"allow_private", GH_T_BOOL, 0, "an in-house provider: http and private addresses allowed"}, {NULL, 0, 0, NULL}};
#define LIT(k, v) {k, GH_T_STR, v, strlen(v)}
static gh_result oidc_instantiate(void *inst, const gh_cfg *opts, gh_call *call)
{
    oidc *o = inst;
    if (!GH_HAS(host, form_encode) || !GH_HAS(host, jwt_verify))
        return host->fail(call, GH_ERR_UNSUPPORTED, "needs plugin ABI 1.1 host services");
    o->allow_private = host->cfg_bool(opts, "allow_private", 0); /* the admin's call, never ours */
    for (int i = 0; i < NOPT; i++) { /* copied: options are only borrowed */
        const char *v = host->cfg_str(opts, oidc_options[i].key, i == SCOPES ? "openid email profile" : "");
        if (strlen(v) >= sizeof o->opt[i] || (i < CLIENT_ID && strncmp(v, "https://", 8) && !o->allow_private))
            return host->fail(call, GH_ERR_INVALID, "option '%s' is too long or not https", oidc_options[i].key);
        strcpy(o->opt[i], v);
    }
    o->secret = host->cfg_secret(opts, "client_secret"); /* wiped and freed in detach */
    return o->secret ? GH_OK : host->fail(call, GH_ERR_INVALID, "option 'client_secret' is empty");
}
static void oidc_detach(void *inst)
{
    oidc *o = inst;
    if (o->secret)
        host->wipe(o->secret, strlen(o->secret)), host->free(o->secret);
}
/* The STR parameter key, or an empty one (the provider then refuses the request). */
static gh_param arg(const gh_param *in, const char *key)
{
    while (in && in->key && (in->type != GH_T_STR || strcmp(in->key, key) != 0))
        in++;
    return in && in->key ? *in : (gh_param){key, GH_T_STR, "", 0};
}
/* authorize_url  in: redirect_uri, state, nonce, code_challenge, scope?   out: url */
static gh_result oidc_authorize_url(const void *inst, void *tinst, gh_call *call, const gh_param *in, gh_out *out)
{
    const oidc *o = inst;
    gh_param scope = arg(in, "scope"), q[] = {LIT("response_type", "code"), LIT("client_id", o->opt[CLIENT_ID]),
        arg(in, "redirect_uri"), scope.len ? scope : (gh_param)LIT("scope", o->opt[SCOPES]), arg(in, "state"),
        arg(in, "nonce"), arg(in, "code_challenge"), LIT("code_challenge_method", "S256"), {NULL, 0, NULL, 0}};
    char *query = NULL, url[4096], sep = strchr(o->opt[AUTHORIZE_URL], '?') ? '&' : '?';
    gh_result r = host->form_encode(call, q, &query);
    int n = r ? 0 : snprintf(url, sizeof url, "%s%c%s", o->opt[AUTHORIZE_URL], sep, query);
    if (!r && (size_t)n >= sizeof url)
        r = host->fail(call, GH_ERR_INVALID, "the authorization URL is longer than %zu bytes", sizeof url);
    return host->free(query), (void)tinst, r ? r : host->put(out, &(gh_param){"url", GH_T_STR, url, (size_t)n});
}
/* exchange  in: code, redirect_uri, code_verifier, nonce   out: subject, email, email_verified, name */
static gh_result oidc_exchange(const void *inst, void *tinst, gh_call *call, const gh_param *in, gh_out *out)
{
    static const char *const map[][2] = {{"subject", "sub"}, {"email", "email"}, {"email_verified", "email_verified"}, {"name", "name"}};
    const oidc *o = inst;
    gh_param f[] = {LIT("grant_type", "authorization_code"), arg(in, "code"), arg(in, "redirect_uri"),
                    arg(in, "code_verifier"), {NULL, 0, NULL, 0}}, nonce = arg(in, "nonce");
    char *body = NULL, want_nonce[256];
    gh_json *doc = NULL, *claims = NULL;
    gh_out *resp = host->out_new();
    gh_result r = resp ? host->form_encode(call, f, &body) : GH_ERR_NOMEM;
    gh_param req[] = {LIT("method", "POST"), LIT("url", o->opt[TOKEN_URL]), LIT("header", "Accept: application/json"),
        LIT("header", "Content-Type: application/x-www-form-urlencoded"), LIT("body", body ? body : ""),
        LIT("user", o->opt[CLIENT_ID]), LIT("password", o->secret), /* client_secret_basic */
        {"allow_http", GH_T_BOOL, &o->allow_private, 4}, {"allow_private", GH_T_BOOL, &o->allow_private, 4}, {NULL, 0, NULL, 0}};
    const gh_param *st = r || (r = host->http(call, req, resp)) ? NULL : host->out_get(resp, "status", 0), *b = st ? host->out_get(resp, "body", 0) : NULL;
    int64_t status = st ? *(const int64_t *)st->data : 0; /* 4xx: the code was refused (used, expired, forged) */
    if (!r && (status != 200 || !b))
        r = host->fail(call, status / 100 == 4 ? GH_ERR_DENIED : GH_ERR_UNAVAILABLE, "the token endpoint answered %lld", (long long)status);
    if (!r && !(r = host->json_decode(call, b->data, b->len, &doc))) {
        const char *token = host->json_str(host->json_get(doc, "id_token"));
        snprintf(want_nonce, sizeof want_nonce, "%.*s", (int)nonce.len, (const char *)nonce.data);
        gh_jwt_policy p = {.size = sizeof p, .jwks_uri = o->opt[JWKS_URI], .issuer = o->opt[ISSUER],
                           .audience = o->opt[CLIENT_ID], .nonce = want_nonce, .leeway_s = -1, .allow_private = o->allow_private};
        r = token ? host->jwt_verify(call, token, &p, &claims) : host->fail(call, GH_ERR_DENIED, "no id_token");
    }
    for (size_t i = 0; !r && i < 4; i++) { /* the claims the token has, under our names */
        const gh_json *v = host->json_get(claims, map[i][1]);
        int32_t yes = host->json_bool(v, 0);
        if (host->json_str(v) || (v && host->json_type(v) == GH_T_BOOL))
            r = host->put(out, host->json_str(v) ? &(gh_param)LIT(map[i][0], host->json_str(v)) : &(gh_param){map[i][0], GH_T_BOOL, &yes, sizeof yes});
    }
    return host->json_free(claims), host->json_free(doc), host->free(body), host->out_free(resp), (void)tinst, r;
}
static const gh_oauth_ops oidc_ops = {.size = sizeof(gh_oauth_ops), .authorize_url = oidc_authorize_url, .exchange = oidc_exchange};
static const gh_plugin oidc_plugin = { /* the file oidc.so, the YAML name oidc */
    .size = sizeof(gh_plugin), .abi_major = GH_ABI_MAJOR, .abi_minor = GH_ABI_MINOR, .name = "oidc", .version = "1.0.0",
    .description = "OpenID Connect sign-in at a configured provider", .kind = GH_KIND_OAUTH, .options = oidc_options, .inst_size = sizeof(oidc),
    .instantiate = oidc_instantiate, .detach = oidc_detach, .ops = &oidc_ops, .flags = GH_PLUGIN_NEEDS_HTTP | GH_PLUGIN_MULTI_INSTANCE};
const gh_plugin *gatehouse_plugin_v1(const gh_host *h) { return host = h, &oidc_plugin; }
