/*
 * integrations.c - integrations and their API keys over HTTP, in the
 * caller's company:
 *   GET POST /api/v1/integrations     GET PUT DELETE /api/v1/integrations/{id}
 *   POST /api/v1/integrations/{id}/regenerate-secret
 *   POST /api/v1/integrations/{id}/signing-secret
 * Reading needs integrations:read, the rest integrations:write (the admin
 * role holds both); a superuser acts in another company by naming it
 * (?company=). One of another company answers 404 like a missing one.
 *
 *   integration {id, name, type, permissions: [], key_prefix, expires_at,
 *                last_used_at, disabled, signing_secret, created_at, updated_at}
 * A body sets name, type (api_key, oauth2, custom), permissions (RBAC
 * names), expires_in (seconds from now; 0: never), disabled and
 * signing_secret: true makes a new one (auth/webhook_sig.h), false or
 * null removes it. signing_secret answers true or false, except in the
 * one answer that makes a secret (creation, a change, .../signing-secret
 * rotating it), where it is the secret itself, "whsec_...". Nobody
 * hands out more than they hold: every permission must be the caller's
 * (403 not_held), as for roles (guard_role_allowed). The key is in the
 * answer ("api_key") of a creation and of a regeneration: only then,
 * never stored in clear, never audited. Every change is audited.
 * Like the key, the signing secret is never logged nor audited.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "api/api.h"
#include "api/input.h"
#include "api/job.h"
#include "api/present.h"
#include "auth/authz.h"
#include "auth/clients.h"
#include "auth/integrations.h"
#include "clock.h"

#define EXPIRES_MAX_S (10 * 366 * 86400LL)

static const char *const known[] = { "name", "type", "permissions", "expires_in", "disabled",
                                     "signing_secret", NULL };

/* ---------------------------------------------------------------- shapes */

static json_t *present_integration(const gh_integration *in)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:b, s:b, s:o, s:o}", "id", in->id,
                     "name", in->name, "type", in->type, "permissions", present_words(in->permissions),
                     "key_prefix", in->key_prefix, "expires_at", present_time(in->expires_at),
                     "last_used_at", present_time(in->last_used_at), "disabled", in->disabled,
                     "signing_secret", in->has_signing_secret,
                     "created_at", present_time(in->created_at),
                     "updated_at", present_time(in->updated_at));
}

/* The integration with its new key: the one answer that carries it. */
static json_t *present_with_key(const gh_integration *in, const char *key)
{
    json_t *o = present_integration(in);
    if (o)
        json_object_set_new(o, "api_key", json_string(key));
    return o;
}

/* The integration with its new signing secret, if it just got one
 * (secret not ""): the one answer that carries it. */
static json_t *present_with_secret(json_t *o, const char *secret)
{
    if (o && secret[0])
        json_object_set_new(o, "signing_secret", json_string(secret));
    return o;
}

/* ---------------------------------------------------------------- input */

/* What body asks of the signing secret: 1 a new one, 0 none, -1 nothing
 * (absent). Checked on the loop by integration_from. */
static int signing_secret_asked(json_t *body)
{
    json_t *v = json_object_get(body, "signing_secret");
    return !v ? -1 : json_is_true(v);
}

/* in.permissions, an array of permission names, as a space-separated
 * list in out; absent leaves out alone. 0, or -1 answered. */
static int input_perms(gh_req *req, json_t *in, char out[INTEGRATION_PERMS_MAX])
{
    json_t *a = json_object_get(in, "permissions"), *v;
    char buf[INTEGRATION_PERMS_MAX];
    size_t i, pos = 0;
    if (!a)
        return 0;
    if (!json_is_array(a)) {
        input_reject(req, "invalid_field", "permissions", "must be an array of strings.");
        return -1;
    }
    buf[0] = '\0';
    json_array_foreach(a, i, v) {
        const char *s = json_string_value(v);
        size_t n = s ? strlen(s) : 0;
        if (!s || !integration_perm_valid(s) || pos + n + 2 > sizeof buf ||
            client_list_has(buf, s)) {
            input_reject(req, "invalid_field", "permissions",
                         "must be permission names (resource:action), each once.");
            return -1;
        }
        pos += (size_t)snprintf(buf + pos, sizeof buf - pos, "%s%s", pos ? " " : "", s);
    }
    memcpy(out, buf, pos + 1);
    return 0;
}

/* A body's settings over in (creation: over the defaults). 0, or -1
 * answered. */
static int integration_from(gh_req *req, json_t *body, gh_integration *in)
{
    const char *name, *type;
    int64_t expires_in;
    int disabled;
    if (input_string(req, body, "name", INPUT_OPTIONAL, sizeof in->name - 1, &name) < 0 ||
        input_string(req, body, "type", INPUT_OPTIONAL, sizeof in->type - 1, &type) < 0 ||
        input_int(req, body, "expires_in", -1, 0, EXPIRES_MAX_S, &expires_in) < 0 ||
        input_bool(req, body, "disabled", &disabled) < 0 || input_perms(req, body, in->permissions) < 0)
        return -1;
    json_t *secret = json_object_get(body, "signing_secret");
    if (secret && !json_is_boolean(secret) && !json_is_null(secret)) {
        input_reject(req, "invalid_field", "signing_secret", "must be true (a new one), false "
                     "or null (none).");
        return -1;
    }
    if (type && !integration_type_valid(type)) {
        input_reject(req, "invalid_field", "type", "must be api_key, oauth2 or custom.");
        return -1;
    }
    if (name)
        snprintf(in->name, sizeof in->name, "%s", name);
    if (type)
        snprintf(in->type, sizeof in->type, "%s", type);
    if (expires_in >= 0)
        in->expires_at = expires_in ? gh_now_ms() + expires_in * 1000 : 0;
    if (disabled >= 0)
        in->disabled = disabled;
    return 0;
}

/* The checks a whole integration must pass, in the worker: a name, and
 * no permission its grantor lacks. 0, or -1 answered. */
static int integration_complete(api_job *j, gh_conn *c, const gh_integration *in)
{
    const authz_set *s;
    const char *p = in->permissions;
    if (!in->name[0]) {
        api_fail(j, 422, "missing_field", "name is required.");
        return -1;
    }
    gh_result r = authz_get(c, &j->call, j->claims.tenant, j->claims.sub, &s);
    if (r != GH_OK) {
        api_store_fail(j, r, "permission check");
        return -1;
    }
    if (authz_superuser(s))
        return 0;
    while (*p) {
        size_t n = strcspn(p, " ");
        char perm[INTEGRATION_PERMS_MAX];
        memcpy(perm, p, n);
        perm[n] = '\0';
        if (n && !authz_has(s, perm)) {
            api_fail(j, 403, "not_held", "You cannot give an integration a permission you do "
                     "not hold.");
            return -1;
        }
        p += n + (p[n] == ' ');
    }
    return 0;
}

/* ---------------------------------------------------------------- jobs */

static void integration_fail(api_job *j, gh_result r, const char *what)
{
    if (r == GH_ERR_NOT_FOUND)
        api_fail(j, 404, "not_found", "No such integration.");
    else
        api_store_fail(j, r, what);
}

/* The signing secret body asks for, onto the stored integration in: a new
 * one into secret, or none. */
static gh_result apply_signing_secret(api_job *j, gh_conn *c, gh_integration *in,
                                      char secret[WEBHOOK_SECRET_LEN])
{
    int asked = signing_secret_asked(j->in);
    gh_result r = GH_OK;
    if (asked == 1)
        r = integration_signing_secret_new(c, &j->call, api_tenant(j), in->id, secret);
    else if (asked == 0 && in->has_signing_secret)
        r = integration_signing_secret_drop(c, &j->call, api_tenant(j), in->id);
    if (asked >= 0 && r == GH_OK)
        in->has_signing_secret = asked;
    return r;
}

/* Commit with an audit row (the integration before, stolen, and after),
 * or roll back; answer with body (stolen; the key, if any, only here). */
static void finish(api_job *j, gh_conn *c, gh_result r, const char *action,
                   const gh_integration *in, json_t *before, json_t *body, int status)
{
    json_t *details = json_pack("{s:o*, s:o*}", "before", before,
                                "after", status == 204 || r != GH_OK ? NULL : present_integration(in));
    api_change_done(j, c, r, action, in->id, details, body, status, integration_fail);
}

static void list_work(api_job *j, gh_conn *c)
{
    gh_integration *v = NULL;
    size_t n = 0;
    gh_result r = integration_list(c, &j->call, api_tenant(j), &v, &n);
    size_t limit = (size_t)json_integer_value(json_object_get(j->in, "limit"));
    size_t offset = (size_t)json_integer_value(json_object_get(j->in, "offset"));
    json_t *items = r == GH_OK ? json_array() : NULL;
    for (size_t i = offset; items && i < n && i < offset + limit; i++)
        json_array_append_new(items, present_integration(&v[i]));
    if (r != GH_OK)
        api_store_fail(j, r, "integration list");
    else
        api_ok_page(j, items, (int64_t)n);
    free(v);
}

static void list(gh_req *req)
{
    api_job *j = api_job_perm_page(req, "integrations:read");
    if (j)
        api_job_run(req, j, list_work);
}

static void create_work(api_job *j, gh_conn *c)
{
    gh_integration *in = (gh_integration *)j->data;
    char key[INTEGRATION_KEY_LEN] = "", secret[WEBHOOK_SECRET_LEN] = "";
    if (integration_complete(j, c, in) < 0)
        return;
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK)
        r = integration_create(c, &j->call, api_tenant(j), in, key);
    if (r == GH_OK)
        r = apply_signing_secret(j, c, in, secret);
    finish(j, c, r, "integration.create", in, NULL,
           r == GH_OK ? present_with_secret(present_with_key(in, key), secret) : NULL, 201);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(secret, sizeof secret);
}

static void create(gh_req *req)
{
    api_job *j = api_job_perm(req, 0, "integrations:write");
    gh_integration *in = j ? calloc(1, sizeof *in) : NULL;
    if (j && in) {
        j->data = in;
        snprintf(in->type, sizeof in->type, "api_key");
    }
    if (j && (!in || !(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0 ||
              integration_from(req, j->in, in) < 0)) {
        if (!in)
            req_problem(req, 500, "internal_error", NULL);
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, create_work);
}

/* A change's start: the transaction, and the integration as it was
 * (before, for the audit row). */
static gh_result load(api_job *j, gh_conn *c, gh_integration *in, json_t **before)
{
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK && (r = integration_get(c, &j->call, api_tenant(j), j->target, in)) == GH_OK)
        *before = present_integration(in);
    return r;
}

static void get_work(api_job *j, gh_conn *c)
{
    gh_integration in = { 0 };
    gh_result r = integration_get(c, &j->call, api_tenant(j), j->target, &in);
    if (r == GH_OK)
        api_ok(j, 200, present_integration(&in));
    else
        integration_fail(j, r, "integration get");
}

static void get(gh_req *req)
{
    api_job_run_id(req, API_READ, "integrations:read", get_work);
}

/* The body is checked on the loop against an empty integration (so a
 * field's own checks answer there) and applied in the worker over the
 * stored one. */
static void put_work(api_job *j, gh_conn *c)
{
    gh_integration in = { 0 };
    char secret[WEBHOOK_SECRET_LEN] = "";
    json_t *before = NULL;
    gh_result r = load(j, c, &in, &before);
    if (r == GH_OK) {
        /* checked on the loop already: this cannot fail */
        integration_from(NULL, j->in, &in);
        if (integration_complete(j, c, &in) < 0) {
            store_rollback(c, &j->call);
            json_decref(before);
            return;
        }
        r = integration_update(c, &j->call, api_tenant(j), &in);
    }
    if (r == GH_OK)
        r = apply_signing_secret(j, c, &in, secret);
    finish(j, c, r, "integration.update", &in, before,
           r == GH_OK ? present_with_secret(present_integration(&in), secret) : NULL, 200);
    OPENSSL_cleanse(secret, sizeof secret);
}

static void put(gh_req *req)
{
    api_job *j = api_job_perm_id(req, 0, "integrations:write");
    gh_integration probe = { 0 };
    if (j && (!(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0 ||
              integration_from(req, j->in, &probe) < 0)) {
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, put_work);
}

static void delete_work(api_job *j, gh_conn *c)
{
    gh_integration in = { 0 };
    json_t *before = NULL;
    gh_result r = load(j, c, &in, &before);
    if (r == GH_OK)
        r = integration_delete(c, &j->call, api_tenant(j), j->target);
    finish(j, c, r, "integration.delete", &in, before, NULL, 204);
}

static void delete(gh_req *req)
{
    api_job_run_id(req, 0, "integrations:write", delete_work);
}

static void regenerate_work(api_job *j, gh_conn *c)
{
    gh_integration in = { 0 };
    char key[INTEGRATION_KEY_LEN] = "";
    json_t *before = NULL;
    gh_result r = load(j, c, &in, &before);
    if (r == GH_OK)
        r = integration_regenerate(c, &j->call, api_tenant(j), &in, key);
    finish(j, c, r, "integration.key.regenerate", &in, before,
           r == GH_OK ? present_with_key(&in, key) : NULL, 200);
    OPENSSL_cleanse(key, sizeof key);
}

static void regenerate(gh_req *req)
{
    api_job_run_id(req, 0, "integrations:write", regenerate_work);
}

static void signing_secret_work(api_job *j, gh_conn *c)
{
    gh_integration in = { 0 };
    char secret[WEBHOOK_SECRET_LEN] = "";
    json_t *before = NULL;
    gh_result r = load(j, c, &in, &before);
    if (r == GH_OK && (r = integration_signing_secret_new(c, &j->call, api_tenant(j), in.id,
                                                          secret)) == GH_OK)
        in.has_signing_secret = 1;
    finish(j, c, r, "integration.signing_secret.rotate", &in, before,
           r == GH_OK ? present_with_secret(present_integration(&in), secret) : NULL, 200);
    OPENSSL_cleanse(secret, sizeof secret);
}

static void signing_secret(gh_req *req)
{
    api_job_run_id(req, 0, "integrations:write", signing_secret_work);
}

int integrations_register(gh_router *r)
{
    return router_add(r, GH_GET, "/api/v1/integrations", list) |
           router_add(r, GH_POST, "/api/v1/integrations", create) |
           router_add(r, GH_GET, "/api/v1/integrations/{id}", get) |
           router_add(r, GH_PUT, "/api/v1/integrations/{id}", put) |
           router_add(r, GH_DELETE, "/api/v1/integrations/{id}", delete) |
           router_add(r, GH_POST, "/api/v1/integrations/{id}/regenerate-secret", regenerate) |
           router_add(r, GH_POST, "/api/v1/integrations/{id}/signing-secret", signing_secret);
}
