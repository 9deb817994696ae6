/*
 * oci_identity.c - the Identity API (20160918) calls the oci plugin makes,
 * signed (oci_sign.c) and sent through host->http: create, get, delete and
 * list compartments, groups and policies in the JSON shapes of Oracle's
 * spec. An error answer ({"code", "message"}) becomes a gh_result with the
 * operation, OCI's code and the opc-request-id in its message (never a key
 * or a signature): 429, 5xx and 409 IncorrectState are transient, the
 * other 4xx permanent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oci.h"

static const gh_host *host;

void oci_identity_use(const gh_host *h)
{
    host = h;
}

#define API "/20160918"

static const struct {
    const char *word, *noun, *path;
} kinds[OCI_KINDS] = {
    [OCI_COMPARTMENT] = {"compartment", "Compartment", API "/compartments"},
    [OCI_GROUP] = {"group", "Group", API "/groups"},
    [OCI_POLICY] = {"policy", "Policy", API "/policies"},
};

const char *oci_kind_name(oci_kind k)
{
    return kinds[k].word;
}

/* What one request answered: the status, OCI's request id, its error. */
typedef struct answer {
    int64_t status;
    int64_t retry_after_ms;
    char request_id[128];
    char code[64];
    char message[256];
    gh_json *doc; /* the body, when JSON */
} answer;

static void answer_free(answer *a)
{
    host->json_free(a->doc);
    a->doc = NULL;
}

/* s into dst as one printable line, bounded. */
static void one_line(char *dst, size_t len, const char *s, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < n && o + 1 < len; i++)
        dst[o++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
    dst[o] = '\0';
}

/* The value of header name (lower case, with the colon) in an answer. */
static const char *header_value(const gh_out *resp, const char *name, size_t *len)
{
    const gh_param *hd;
    size_t n = strlen(name);

    for (size_t i = 0; (hd = host->out_get(resp, "header", i)) != NULL; i++) {
        const char *v = hd->data;
        size_t vl = hd->len;

        if (vl < n || strncasecmp(v, name, n) != 0)
            continue;
        v += n, vl -= n;
        while (vl > 0 && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\r' || v[vl - 1] == '\n'))
            vl--;
        *len = vl;
        return v;
    }
    return NULL;
}

static void read_answer(gh_call *call, const gh_out *resp, answer *a)
{
    const gh_param *st = host->out_get(resp, "status", 0), *body = host->out_get(resp, "body", 0);
    const char *v;
    size_t n;

    a->status = st && st->type == GH_T_INT ? *(const int64_t *)st->data : 0;
    if ((v = header_value(resp, "opc-request-id:", &n)) != NULL)
        one_line(a->request_id, sizeof a->request_id, v, n);
    if ((v = header_value(resp, "retry-after:", &n)) != NULL && n > 0 && n < 8) {
        char s[8], *end;
        long secs;

        memcpy(s, v, n), s[n] = '\0';
        secs = strtol(s, &end, 10);
        a->retry_after_ms = *end == '\0' && secs > 0 ? (int64_t)secs * 1000 : 0;
    }
    if (body && body->len > 0 && host->json_decode(call, body->data, body->len, &a->doc) == GH_OK &&
        a->status >= 300) {
        const char *code = host->json_str(host->json_get(a->doc, "code"));
        const char *msg = host->json_str(host->json_get(a->doc, "message"));

        if (code)
            one_line(a->code, sizeof a->code, code, strlen(code));
        if (msg)
            one_line(a->message, sizeof a->message, msg, strlen(msg));
    }
}

/* One signed request; GH_OK with any HTTP answer in *a, else the
 * transport's failure, naming op. */
static gh_result send_signed(const oci *o, gh_call *call, const char *op, const char *method,
                             const char *target, const char *body, const char *retry_token,
                             answer *a)
{
    char url[2 * OCI_URL_MAX], h_token[96];
    gh_param req[OCI_SIGNED_HEADERS + 12];
    oci_signed_headers hd;
    size_t n = 0;
    gh_out *resp;
    gh_result r;

    memset(a, 0, sizeof *a);
    if ((r = oci_sign_request(host, call, o->key, o->key_id, method, target, o->host_header,
                              host->now_ms(), body, &hd)) != GH_OK)
        return r;
    snprintf(url, sizeof url, "%s%s", o->endpoint, target);
    req[n++] = (gh_param){"method", GH_T_STR, method, strlen(method)};
    req[n++] = (gh_param){"url", GH_T_STR, url, strlen(url)};
    n += oci_signed_header_params(&hd, req + n);
    req[n++] = (gh_param){"header", GH_T_STR, "Accept: application/json", 24};
    if (body)
        req[n++] = (gh_param){"body", GH_T_STR, body, strlen(body)};
    if (retry_token) {
        snprintf(h_token, sizeof h_token, "opc-retry-token: %s", retry_token);
        req[n++] = (gh_param){"header", GH_T_STR, h_token, strlen(h_token)};
    }
    req[n++] = (gh_param){"timeout_ms", GH_T_INT, &o->timeout_ms, sizeof o->timeout_ms};
    if (o->ca_file[0])
        req[n++] = (gh_param){"ca_file", GH_T_STR, o->ca_file, strlen(o->ca_file)};
    req[n++] = (gh_param){"allow_http", GH_T_BOOL, &o->allow_http, sizeof o->allow_http};
    req[n++] = (gh_param){"allow_private", GH_T_BOOL, &o->allow_private, sizeof o->allow_private};
    req[n] = (gh_param){NULL, 0, NULL, 0};
    if (!(resp = host->out_new())) {
        oci_signed_headers_free(&hd);
        return host->fail(call, GH_ERR_NOMEM, "oci %s: out of memory", op);
    }
    r = host->http(call, req, resp);
    oci_signed_headers_free(&hd);
    if (r == GH_OK)
        read_answer(call, resp, a);
    host->out_free(resp);
    if (r != GH_OK) /* the host logged the transport's reason */
        return host->fail(call, r, "oci %s: %s", op,
                          r == GH_ERR_TIMEOUT ? "no answer in time" : "the request failed");
    if (a->request_id[0])
        host->log(call, GH_LOG_DEBUG, "oci %s: HTTP %lld, opc-request-id %s", op,
                  (long long)a->status, a->request_id);
    return GH_OK;
}

/* The result an error answer means, logged with OCI's words. */
static gh_result answer_fail(const oci *o, gh_call *call, const char *op, const answer *a)
{
    const char *rid = a->request_id[0] ? a->request_id : "none";
    const char *code = a->code[0] ? a->code : "(no code)";
    int64_t wait = a->retry_after_ms > 0 ? a->retry_after_ms : o->poll_ms;
    gh_result r;

    if (a->status == 429)
        r = GH_ERR_RATE_LIMITED;
    else if (a->status == 409 && (strcmp(a->code, "IncorrectState") == 0 ||
                                  strcmp(a->code, "ExternalServerIncorrectState") == 0))
        r = GH_ERR_UNAVAILABLE; /* busy, e.g. still CREATING: retry later */
    else if (a->status == 503)
        r = GH_ERR_UNAVAILABLE;
    else if (a->status >= 500 || a->status < 400)
        r = GH_ERR_UPSTREAM;
    else if (a->status == 400)
        r = GH_ERR_INVALID;
    else
        r = GH_ERR_DENIED; /* credentials, permissions, a name taken: the admin's to fix */
    if (r == GH_ERR_RATE_LIMITED || r == GH_ERR_UNAVAILABLE || r == GH_ERR_UPSTREAM)
        return host->fail_retry(call, r, wait, "oci %s: HTTP %lld %s (opc-request-id %s): %s", op,
                                (long long)a->status, code, rid, a->message);
    return host->fail(call, r, "oci %s: HTTP %lld %s (opc-request-id %s): %s", op,
                      (long long)a->status, code, rid, a->message);
}

/* id and lifecycleState of a resource object into the caller's buffers. */
static gh_result read_resource(gh_call *call, const char *op, const answer *a, const gh_json *obj,
                               char id[OCI_OCID_MAX], char state[OCI_STATE_MAX])
{
    const char *i = host->json_str(host->json_get(obj, "id"));
    const char *s = host->json_str(host->json_get(obj, "lifecycleState"));

    if (!i || !*i || strlen(i) >= OCI_OCID_MAX)
        return host->fail_retry(call, GH_ERR_UPSTREAM, 0,
                                "oci %s: the answer has no id (opc-request-id %s)", op,
                                a->request_id[0] ? a->request_id : "none");
    memcpy(id, i, strlen(i) + 1);
    one_line(state, OCI_STATE_MAX, s ? s : "", s ? strlen(s) : 0);
    return GH_OK;
}

/* The freeform tag gatehouse-tenant of obj is tenant_id. */
static int made_for(const gh_json *obj, const char *tenant_id)
{
    const char *t =
        host->json_str(host->json_get(host->json_get(obj, "freeformTags"), "gatehouse-tenant"));

    return t && strcmp(t, tenant_id) == 0;
}

/* After 409 Conflict: the resource of that name in that parent that this
 * tenant made earlier (its tag says so), not deleted. */
static gh_result find_made(const oci *o, gh_call *call, const oci_create *c, char id[OCI_OCID_MAX],
                           char state[OCI_STATE_MAX])
{
    char op[48], target[1024], *parent = NULL, *name = NULL;
    answer a;
    gh_result r;

    snprintf(op, sizeof op, "List%s",
             c->kind == OCI_POLICY  ? "Policies"
             : c->kind == OCI_GROUP ? "Groups"
                                    : "Compartments");
    if ((r = host->url_encode(call, c->parent, strlen(c->parent), &parent)) != GH_OK ||
        (r = host->url_encode(call, c->name, strlen(c->name), &name)) != GH_OK) {
        host->free(parent);
        return r;
    }
    snprintf(target, sizeof target, "%s?compartmentId=%s&name=%s", kinds[c->kind].path, parent,
             name);
    host->free(parent);
    host->free(name);
    if ((r = send_signed(o, call, op, "GET", target, NULL, NULL, &a)) != GH_OK)
        return r;
    r = GH_ERR_NOT_FOUND;
    if (a.status != 200)
        r = answer_fail(o, call, op, &a);
    else if (host->json_type(a.doc) != GH_T_LIST)
        r = host->fail_retry(call, GH_ERR_UPSTREAM, 0,
                             "oci %s: the answer is not a list "
                             "(opc-request-id %s)",
                             op, a.request_id);
    for (size_t i = 0; r == GH_ERR_NOT_FOUND && i < host->json_len(a.doc); i++) {
        const gh_json *item = host->json_at(a.doc, i);
        const char *s = host->json_str(host->json_get(item, "lifecycleState"));
        const char *n = host->json_str(host->json_get(item, "name"));

        if (!made_for(item, c->tenant_id) || !n || strcmp(n, c->name) != 0 || !s)
            continue;
        if (strcmp(s, "CREATING") == 0 || strcmp(s, "ACTIVE") == 0)
            r = read_resource(call, op, &a, item, id, state);
        else if (strcmp(s, "DELETING") == 0) /* ours, from before a rollback: wait */
            r = host->fail_retry(call, GH_ERR_UNAVAILABLE, o->poll_ms,
                                 "oci Create%s: "
                                 "this tenant's earlier %s %s is still DELETING",
                                 kinds[c->kind].noun, kinds[c->kind].word, c->name);
    }
    answer_free(&a);
    if (r == GH_ERR_NOT_FOUND)
        return host->fail(call, GH_ERR_DENIED,
                          "oci Create%s: the name %s is taken by a %s "
                          "gatehouse did not make for this tenant",
                          kinds[c->kind].noun, c->name, kinds[c->kind].word);
    if (r == GH_OK)
        host->log(call, GH_LOG_NOTICE,
                  "oci: %s %s existed already (made earlier for this "
                  "tenant): %s",
                  kinds[c->kind].word, c->name, id);
    return r;
}

/* The body of a create, in the spec's shape. */
static gh_result create_body(const oci *o, gh_call *call, const oci_create *c, char **out)
{
    gh_param tags[OCI_TAGS_MAX + 2], stmts[64], fields[8];
    size_t n = 0, f = 0;

    if (c->n_statements > sizeof stmts / sizeof stmts[0])
        return host->fail(call, GH_ERR_INVALID, "oci: more than %zu policy statements",
                          sizeof stmts / sizeof stmts[0]);
    for (size_t i = 0; i < o->n_tags; i++)
        tags[n++] = (gh_param){o->tag_key[i], GH_T_STR, o->tag_value[i], strlen(o->tag_value[i])};
    tags[n++] = (gh_param){"gatehouse-tenant", GH_T_STR, c->tenant_id, strlen(c->tenant_id)};
    tags[n] = (gh_param){NULL, 0, NULL, 0};
    for (size_t i = 0; i < c->n_statements; i++)
        stmts[i] = (gh_param){"", GH_T_STR, c->statements[i], strlen(c->statements[i])};
    fields[f++] = (gh_param){"compartmentId", GH_T_STR, c->parent, strlen(c->parent)};
    fields[f++] = (gh_param){"name", GH_T_STR, c->name, strlen(c->name)};
    fields[f++] = (gh_param){"description", GH_T_STR, c->description, strlen(c->description)};
    if (c->kind == OCI_POLICY)
        fields[f++] = (gh_param){"statements", GH_T_LIST, stmts, c->n_statements};
    fields[f++] = (gh_param){"freeformTags", GH_T_MAP, tags, 0};
    fields[f] = (gh_param){NULL, 0, NULL, 0};
    return host->json_encode_to(call, fields, out);
}

gh_result oci_create_resource(const oci *o, gh_call *call, const oci_create *c,
                              char id[OCI_OCID_MAX], char state[OCI_STATE_MAX])
{
    char op[48], *body = NULL;
    answer a;
    gh_result r;

    snprintf(op, sizeof op, "Create%s", kinds[c->kind].noun);
    if ((r = create_body(o, call, c, &body)) != GH_OK)
        return r;
    r = send_signed(o, call, op, "POST", kinds[c->kind].path, body, c->retry_token, &a);
    host->free(body);
    if (r != GH_OK)
        return r;
    if (a.status == 200 && host->json_type(a.doc) == GH_T_MAP)
        r = read_resource(call, op, &a, a.doc, id, state);
    else if (a.status == 200)
        r = host->fail_retry(call, GH_ERR_UPSTREAM, 0,
                             "oci %s: the answer is not JSON "
                             "(opc-request-id %s)",
                             op, a.request_id);
    else if (a.status == 409 && strcmp(a.code, "Conflict") == 0)
        r = GH_ERR_CONFLICT;
    else if (a.status == 409 && strcmp(a.code, "InvalidatedRetryToken") == 0)
        r = GH_ERR_NOT_FOUND;
    else
        r = answer_fail(o, call, op, &a);
    if (r == GH_OK)
        host->log(call, GH_LOG_INFO, "oci %s %s: %s, %s (opc-request-id %s)", op, c->name, id,
                  state, a.request_id);
    answer_free(&a);
    return r == GH_ERR_CONFLICT ? find_made(o, call, c, id, state) : r;
}

/* method on one resource, /20160918/<kinds>/<id>, without a body. */
static gh_result send_to_one(const oci *o, gh_call *call, const char *op, const char *method,
                             oci_kind kind, const char *id, answer *a)
{
    char target[OCI_URL_MAX], *enc = NULL;
    gh_result r;

    if ((r = host->url_encode(call, id, strlen(id), &enc)) != GH_OK)
        return r;
    snprintf(target, sizeof target, "%s/%s", kinds[kind].path, enc);
    host->free(enc);
    return send_signed(o, call, op, method, target, NULL, NULL, a);
}

gh_result oci_get_state(const oci *o, gh_call *call, oci_kind kind, const char *id,
                        char state[OCI_STATE_MAX])
{
    char op[48], got[OCI_OCID_MAX];
    answer a;
    gh_result r;

    snprintf(op, sizeof op, "Get%s", kinds[kind].noun);
    if ((r = send_to_one(o, call, op, "GET", kind, id, &a)) != GH_OK)
        return r;
    if (a.status == 200)
        r = read_resource(call, op, &a, a.doc, got, state);
    else if (a.status == 404)
        r = GH_ERR_NOT_FOUND;
    else
        r = answer_fail(o, call, op, &a);
    answer_free(&a);
    return r;
}

/* A 409 IncorrectState to a delete: a compartment DELETING already (the
 * step repeated after a crash) counts as deleted. */
static int being_deleted(const oci *o, gh_call *call, oci_kind kind, const char *id,
                         const answer *a)
{
    char state[OCI_STATE_MAX];
    gh_result r;

    if (kind != OCI_COMPARTMENT || a->status != 409 || strcmp(a->code, "IncorrectState") != 0)
        return 0;
    r = oci_get_state(o, call, kind, id, state);
    return r == GH_ERR_NOT_FOUND ||
           (r == GH_OK && (strcmp(state, "DELETING") == 0 || strcmp(state, "DELETED") == 0));
}

gh_result oci_delete_resource(const oci *o, gh_call *call, oci_kind kind, const char *id)
{
    char op[48];
    answer a;
    gh_result r;

    snprintf(op, sizeof op, "Delete%s", kinds[kind].noun);
    if ((r = send_to_one(o, call, op, "DELETE", kind, id, &a)) != GH_OK)
        return r;
    if (a.status == 404 || being_deleted(o, call, kind, id, &a))
        host->log(call, GH_LOG_INFO, "oci %s %s: gone already, or going", op, id);
    else if (a.status >= 200 && a.status <= 299)
        host->log(call, GH_LOG_INFO, "oci %s %s: HTTP %lld (opc-request-id %s)", op, id,
                  (long long)a.status, a.request_id);
    else
        r = answer_fail(o, call, op, &a);
    answer_free(&a);
    return r;
}
