/*
 * clients.c - OAuth clients over HTTP, in the caller's company:
 *   GET POST /api/v1/clients          GET PUT DELETE /api/v1/clients/{id}
 *   POST /api/v1/clients/{id}/secret  (rotate)
 * Reading needs clients:read, the rest clients:write (the admin role holds
 * both); a superuser acts in another company by naming it (?company=). A
 * client of another company answers 404 like a missing one.
 *
 *   client {id, client_id, name, grant_types: [], scopes: [], audiences: [],
 *           token_ttl (s), token_endpoint_auth_method, jwks_uri, jwks, introspect,
 *           disabled, previous_secret_expires_at, created_at, updated_at}
 * The secret is in the answer ("client_secret") of a creation, of a
 * rotation, and of a change to a secret method from private_key_jwt: only
 * then, never stored in clear, never audited. A rotated-out secret works
 * for oauth2.client_secret_grace more. Every change is audited.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "api/api.h"
#include "api/input.h"
#include "api/job.h"
#include "api/present.h"
#include "auth/clients.h"

#define TTL_MIN_S 30
#define TTL_MAX_S 86400

static const char *const known[] = { "name", "grant_types", "scopes", "audiences", "token_ttl",
                                     "token_endpoint_auth_method", "jwks_uri", "jwks", "introspect",
                                     "disabled", NULL };

/* ---------------------------------------------------------------- shapes */

static json_t *present_client(const gh_client *cl)
{
    json_t *jwks = cl->jwks[0] ? json_loads(cl->jwks, 0, NULL) : NULL;
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:I, s:s, s:o, s:o, s:b, s:b, s:o, s:o, s:o}",
                     "id", cl->id, "client_id", cl->client_id, "name", cl->name,
                     "grant_types", present_words(cl->grant_types), "scopes", present_words(cl->scopes),
                     "audiences", present_words(cl->audiences), "token_ttl",
                     (json_int_t)cl->token_ttl_s, "token_endpoint_auth_method", cl->auth_method,
                     "jwks_uri", cl->jwks_uri[0] ? json_string(cl->jwks_uri) : json_null(),
                     "jwks", jwks ? jwks : json_null(), "introspect", cl->may_introspect, "disabled", cl->disabled,
                     "previous_secret_expires_at", present_time(cl->old_secret_hash[0]
                                                                ? cl->old_secret_expires_at : 0),
                     "created_at", present_time(cl->created_at),
                     "updated_at", present_time(cl->updated_at));
}

/* The client, with its new secret when there is one: the one answer that
 * carries it. */
static json_t *present_with_secret(const gh_client *cl, const char *secret)
{
    json_t *o = present_client(cl);
    if (o && secret[0])
        json_object_set_new(o, "client_secret", json_string(secret));
    return o;
}

/* ---------------------------------------------------------------- input */

/* in[key], an array of strings, as a space-separated list in out (at
 * most CLIENT_LIST_MAX); absent leaves out alone. 0, or -1 answered. */
static int input_list(gh_req *req, json_t *in, const char *key, int uris, char *out)
{
    json_t *a = json_object_get(in, key), *v;
    char buf[CLIENT_LIST_MAX];
    size_t i, pos = 0;
    if (!a)
        return 0;
    if (!json_is_array(a)) {
        input_reject(req, "invalid_field", key, "must be an array of strings.");
        return -1;
    }
    buf[0] = '\0';
    json_array_foreach(a, i, v) {
        const char *s = json_string_value(v);
        size_t n = s ? strlen(s) : 0;
        if (!n || strchr(s, ' ') || pos + n + 2 > sizeof buf) {
            input_reject(req, "invalid_field", key, "holds an empty, spaced or too long item.");
            return -1;
        }
        pos += (size_t)snprintf(buf + pos, sizeof buf - pos, "%s%s", pos ? " " : "", s);
    }
    if (!client_list_valid(buf, uris)) {
        input_reject(req, "invalid_field", key, uris ? "must be absolute URIs without a "
                     "fragment, each once." : "must be OAuth scope tokens, each once.");
        return -1;
    }
    memcpy(out, buf, pos + 1);
    return 0;
}

/* in.jwks, a JWK Set ({"keys": [1 to 32 objects]}), as compact JSON in
 * out; null clears it, absent leaves it. 0, or -1 answered. The keys
 * themselves are checked when an assertion is: a key that cannot verify
 * is skipped then, as in a set at a jwks_uri. */
static int input_jwks(gh_req *req, json_t *in, char out[CLIENT_JWKS_MAX])
{
    json_t *set = json_object_get(in, "jwks"), *keys = json_object_get(set, "keys"), *k;
    size_t i;
    if (!set)
        return 0;
    if (json_is_null(set)) {
        out[0] = '\0';
        return 0;
    }
    int ok = json_is_object(set) && json_is_array(keys) && json_array_size(keys) >= 1 &&
             json_array_size(keys) <= 32;
    json_array_foreach(keys, i, k)
        ok = ok && json_is_object(k);
    char *text = ok ? json_dumps(set, JSON_COMPACT) : NULL;
    if (!text || strlen(text) >= CLIENT_JWKS_MAX) {
        input_reject(req, "invalid_field", "jwks", "must be a JWK Set of 1 to 32 keys, under 8 KiB.");
        free(text);
        return -1;
    }
    memcpy(out, text, strlen(text) + 1);
    free(text);
    return 0;
}

/* A body's settings over cl (creation: over the defaults). 0, or -1
 * answered. */
static int client_from(gh_req *req, api_job *j, gh_client *cl)
{
    json_t *in = j->in;
    const char *name, *method, *uri;
    int64_t ttl;
    int intro, disabled;
    if (input_string(req, in, "name", INPUT_OPTIONAL, sizeof cl->name - 1, &name) < 0 ||
        input_string(req, in, "token_endpoint_auth_method", INPUT_OPTIONAL, 31, &method) < 0 ||
        input_string(req, in, "jwks_uri", INPUT_OPTIONAL, CLIENT_URI_MAX - 1, &uri) < 0 ||
        input_int(req, in, "token_ttl", cl->token_ttl_s, TTL_MIN_S, TTL_MAX_S, &ttl) < 0 ||
        input_bool(req, in, "introspect", &intro) < 0 ||
        input_bool(req, in, "disabled", &disabled) < 0 ||
        input_list(req, in, "grant_types", 0, cl->grant_types) < 0 ||
        input_list(req, in, "scopes", 0, cl->scopes) < 0 ||
        input_list(req, in, "audiences", 1, cl->audiences) < 0 ||
        input_jwks(req, in, cl->jwks) < 0)
        return -1;
    if (cl->grant_types[0] && strcmp(cl->grant_types, CLIENT_GRANT) != 0) {
        input_reject(req, "invalid_field", "grant_types", "may hold client_credentials only.");
        return -1;
    }
    if (method && !client_auth_method_valid(method)) {
        input_reject(req, "invalid_field", "token_endpoint_auth_method", "must be "
                     CLIENT_SECRET_BASIC ", " CLIENT_SECRET_POST " or " CLIENT_PRIVATE_KEY_JWT ".");
        return -1;
    }
    if (uri && *uri && !client_jwks_uri_allowed(uri, j->cfg->client_jwks_allow_private)) {
        input_reject(req, "invalid_field", "jwks_uri", "must be an https:// URL.");
        return -1;
    }
    if (name)
        snprintf(cl->name, sizeof cl->name, "%s", name);
    if (method)
        snprintf(cl->auth_method, sizeof cl->auth_method, "%s", method);
    if (uri)
        snprintf(cl->jwks_uri, sizeof cl->jwks_uri, "%s", uri);
    cl->token_ttl_s = ttl;
    if (intro >= 0)
        cl->may_introspect = intro;
    if (disabled >= 0)
        cl->disabled = disabled;
    return 0;
}

/* The checks a whole client must pass, in the worker (a change is the
 * stored row and the body together). 0, or -1 answered. */
static int client_complete(api_job *j, const gh_client *cl)
{
    if (!cl->name[0]) {
        api_fail(j, 422, "missing_field", "name is required.");
        return -1;
    }
    if (strcmp(cl->auth_method, CLIENT_PRIVATE_KEY_JWT) == 0 && !cl->jwks_uri[0] == !cl->jwks[0]) {
        api_fail(j, 422, cl->jwks[0] ? "invalid_field" : "missing_field",
                 "private_key_jwt needs its keys: a jwks_uri or a jwks, not both.");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- jobs */

static void client_fail(api_job *j, gh_result r, const char *what)
{
    if (r == GH_ERR_NOT_FOUND)
        api_fail(j, 404, "not_found", "No such client.");
    else if (r == GH_ERR_INVALID)
        api_fail(j, 409, "no_secret", "A private_key_jwt client has no secret to rotate.");
    else
        api_store_fail(j, r, what);
}

/* Commit with an audit row (the client before, stolen, and after), or
 * roll back; answer with body (stolen; the secret, if any, only here). */
static void finish(api_job *j, gh_conn *c, gh_result r, const char *action, const gh_client *cl,
                   json_t *before, json_t *body, int status)
{
    json_t *details = json_pack("{s:s, s:o*, s:o*}", "client_id", cl->client_id, "before", before,
                                "after", status == 204 || r != GH_OK ? NULL : present_client(cl));
    api_change_done(j, c, r, action, cl->id, details, body, status, client_fail);
}

static void list_work(api_job *j, gh_conn *c)
{
    gh_client *v = NULL;
    size_t n = 0;
    gh_result r = client_list(c, &j->call, api_tenant(j), &v, &n);
    size_t limit = (size_t)json_integer_value(json_object_get(j->in, "limit"));
    size_t offset = (size_t)json_integer_value(json_object_get(j->in, "offset"));
    json_t *items = r == GH_OK ? json_array() : NULL;
    for (size_t i = offset; items && i < n && i < offset + limit; i++)
        json_array_append_new(items, present_client(&v[i]));
    if (r != GH_OK)
        api_store_fail(j, r, "client list");
    else
        api_ok_page(j, items, (int64_t)n);
    free(v);
}

static void list(gh_req *req)
{
    api_job *j = api_job_perm_page(req, "clients:read");
    if (j)
        api_job_run(req, j, list_work);
}

static void create_work(api_job *j, gh_conn *c)
{
    gh_client *cl = (gh_client *)j->data;
    char secret[CLIENT_SECRET_LEN];
    if (client_complete(j, cl) < 0)
        return;
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK)
        r = client_create(c, &j->call, api_tenant(j), cl, secret);
    finish(j, c, r, "client.create", cl, NULL, r == GH_OK ? present_with_secret(cl, secret) : NULL,
           201);
    OPENSSL_cleanse(secret, sizeof secret);
}

static void create(gh_req *req)
{
    api_job *j = api_job_perm(req, 0, "clients:write");
    gh_client *cl = j ? calloc(1, sizeof *cl) : NULL;
    if (j && cl) {
        j->data = cl;
        snprintf(cl->grant_types, sizeof cl->grant_types, CLIENT_GRANT);
        snprintf(cl->auth_method, sizeof cl->auth_method, CLIENT_SECRET_BASIC);
        cl->token_ttl_s = j->cfg->tokens.ttl_s;
    }
    if (j && (!cl || !(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0 ||
              client_from(req, j, cl) < 0)) {
        if (!cl)
            req_problem(req, 500, "internal_error", NULL);
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, create_work);
}

/* A change's start: the transaction, and the client as it was (before,
 * for the audit row). */
static gh_result load(api_job *j, gh_conn *c, gh_client *cl, json_t **before)
{
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK && (r = client_get(c, &j->call, api_tenant(j), j->target, cl)) == GH_OK)
        *before = present_client(cl);
    return r;
}

static void get_work(api_job *j, gh_conn *c)
{
    gh_client cl = { 0 };
    gh_result r = client_get(c, &j->call, api_tenant(j), j->target, &cl);
    if (r == GH_OK)
        api_ok(j, 200, present_client(&cl));
    else
        client_fail(j, r, "client get");
}

static void get(gh_req *req)
{
    api_job_run_id(req, API_READ, "clients:read", get_work);
}

/* The body is checked on the loop against an empty client (so a field's
 * own checks answer there) and applied in the worker over the stored one. */
static void put_work(api_job *j, gh_conn *c)
{
    gh_client cl = { 0 };
    char secret[CLIENT_SECRET_LEN] = "";
    json_t *before = NULL;
    gh_result r = load(j, c, &cl, &before);
    if (r == GH_OK) {
        /* checked on the loop already: this cannot fail */
        client_from(NULL, j, &cl);
        if (client_complete(j, &cl) < 0) {
            store_rollback(c, &j->call);
            json_decref(before);
            return;
        }
        r = client_update(c, &j->call, api_tenant(j), &cl, secret);
    }
    finish(j, c, r, "client.update", &cl, before,
           r == GH_OK ? present_with_secret(&cl, secret) : NULL, 200);
    OPENSSL_cleanse(secret, sizeof secret);
}

static void put(gh_req *req)
{
    api_job *j = api_job_perm_id(req, 0, "clients:write");
    gh_client probe = { .token_ttl_s = TTL_MIN_S };
    if (j && (!(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0 ||
              client_from(req, j, &probe) < 0)) {
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, put_work);
}

static void delete_work(api_job *j, gh_conn *c)
{
    gh_client cl = { 0 };
    json_t *before = NULL;
    gh_result r = load(j, c, &cl, &before);
    if (r == GH_OK)
        r = client_delete(c, &j->call, api_tenant(j), j->target);
    finish(j, c, r, "client.delete", &cl, before, NULL, 204);
}

static void delete(gh_req *req)
{
    api_job_run_id(req, 0, "clients:write", delete_work);
}

static void rotate_work(api_job *j, gh_conn *c)
{
    gh_client cl = { 0 };
    char secret[CLIENT_SECRET_LEN] = "";
    json_t *before = NULL;
    gh_result r = load(j, c, &cl, &before);
    if (r == GH_OK)
        r = client_rotate(c, &j->call, api_tenant(j), &cl, j->cfg->client_secret_grace_ms, secret);
    finish(j, c, r, "client.secret.rotate", &cl, before,
           r == GH_OK ? present_with_secret(&cl, secret) : NULL, 200);
    OPENSSL_cleanse(secret, sizeof secret);
}

static void rotate(gh_req *req)
{
    api_job_run_id(req, 0, "clients:write", rotate_work);
}

int clients_register(gh_router *r)
{
    return router_add(r, GH_GET, "/api/v1/clients", list) |
           router_add(r, GH_POST, "/api/v1/clients", create) |
           router_add(r, GH_GET, "/api/v1/clients/{id}", get) |
           router_add(r, GH_PUT, "/api/v1/clients/{id}", put) |
           router_add(r, GH_DELETE, "/api/v1/clients/{id}", delete) |
           router_add(r, GH_POST, "/api/v1/clients/{id}/secret", rotate);
}
