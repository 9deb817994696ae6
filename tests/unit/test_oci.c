/*
 * test_oci.c - the oci cloud plugin (plugins/cloud/oci), loaded by the
 * real loader from the YAML the daemon would read, against the OCI
 * Identity stand-in (tests/standins/oci, Node) on 127.0.0.1, started here
 * for the group with Oracle's test key as the API key, and stopped at its
 * end.
 *
 * What it shows: the steps of the cloud contract provision a tenant to
 * "active" (a compartment, CREATING then ACTIVE, a group, a policy naming
 * both) and deprovision it to "deleted", each step signed so the stand-in
 * takes it; a key OCI does not know is DENIED with OCI's code and request
 * id and no secret; 429 and 5xx are transient; a hung request ends in
 * TIMEOUT within the call's deadline; a step repeated after a crash (the
 * id it made never recorded) finds the same compartment, through the
 * retry token and, once the stand-in forgot the tokens, through the tags
 * after a 409; and the options are checked at load, the key against its
 * fingerprint.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "asserts.h"
#include "call.h"
#include "clock.h"
#include "fixture.h"
#include "oci_test_key.h"
#include "standin.h"
#include "../../plugins/cloud/oci/oci_sign.h"

/* how long the stand-in keeps a compartment CREATING, and DELETING */
#define ACTIVE_AFTER_MS "400"

static const gh_host *const h = &gh_host_table;
static pid_t standin;
static unsigned port;
static char dir[1024];            /* the group's directory: the key files */
static char npm_dir[1024];        /* the stand-in's, with its packages */
static char other_fp[OCI_FINGERPRINT_LEN]; /* of other.pem, a key OCI does not know */

/* ------------------------------------------------------------ set-up */

static void write_text(const char *name, const char *text)
{
    FILE *f = fopen(name, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    fclose(f);
}

/* other.pem: a fresh RSA key, and its fingerprint */
static int make_other_key(void)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    FILE *f = fopen("other.pem", "w");
    int ok = k && f && PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1 &&
             oci_key_fingerprint(h, NULL, k, other_fp) == GH_OK;

    if (f)
        fclose(f);
    EVP_PKEY_free(k);
    return ok ? 0 : -1;
}

static int group_setup(void **state)
{
    const char *const args[] = {"--public-key", "public.pem", "--key-id",
                                TENANCY "/" USER "/" FINGERPRINT, "--active-after-ms",
                                ACTIVE_AFTER_MS, NULL};

    if (fx_group_setup(state) != 0 || !getcwd(dir, sizeof dir))
        return -1;
    write_text("key.pem", test_key);
    write_text("public.pem", test_public_key);
    if (make_other_key() != 0)
        return -1;
    port = standin_start_node(npm_dir, "oci-standin.mjs", args, &standin);
    return port ? 0 : -1;
}

static int group_teardown(void **state)
{
    standin_stop(standin);
    return fx_group_teardown(state);
}

/* ------------------------------------------------------------ the stand-in */

/* method path [body] on a control route; the answer's body (from malloc)
 * when status is wanted, else the test fails. */
static char *control(const char *method, const char *path, const char *body, int64_t want)
{
    char url[256];
    gh_out *resp = h->out_new();
    const int32_t yes = 1;
    const gh_param *st, *b;
    char *text;
    gh_param req[8] = {
        {"method", GH_T_STR, method, strlen(method)},
        {"url", GH_T_STR, url, 0},
        {"allow_http", GH_T_BOOL, &yes, sizeof yes},
        {"allow_private", GH_T_BOOL, &yes, sizeof yes},
        {"header", GH_T_STR, "Content-Type: application/json", 30},
    };

    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    req[1].len = strlen(url);
    if (body)
        req[5] = (gh_param){"body", GH_T_STR, body, strlen(body)};
    assert_int_equal(h->http(NULL, req, resp), GH_OK);
    st = h->out_get(resp, "status", 0);
    b = h->out_get(resp, "body", 0);
    assert_int_equal(*(const int64_t *)st->data, want);
    text = strndup(b ? b->data : "", b ? b->len : 0);
    h->out_free(resp);
    return text;
}

static void fault(const char *json)
{
    free(control("POST", "/_standin/faults", json, 204));
}

static void clear_faults(void)
{
    free(control("DELETE", "/_standin/faults", NULL, 204));
}

/* How many resources of type the stand-in holds for tenant (any state). */
static int made_for(const char *type, const char *tenant)
{
    char *text = control("GET", "/_standin/resources", NULL, 200);
    gh_json *doc = NULL;
    int n = 0;

    assert_int_equal(h->json_decode(NULL, text, strlen(text), &doc), GH_OK);
    for (size_t i = 0; i < h->json_len(doc); i++) {
        const gh_json *r = h->json_at(doc, i);
        const char *t = h->json_str(h->json_get(r, "type"));
        const char *tag = h->json_str(h->json_get(h->json_get(r, "freeformTags"),
                                                  "gatehouse-tenant"));

        n += t && tag && strcmp(t, type) == 0 && strcmp(tag, tenant) == 0;
    }
    h->json_free(doc);
    free(text);
    return n;
}

/* The stand-in's view of resource id: its field key, into buf. */
static const char *resource_field(const char *id, const char *key, char *buf, size_t len)
{
    char *text = control("GET", "/_standin/resources", NULL, 200);
    gh_json *doc = NULL;

    snprintf(buf, len, "(none)");
    assert_int_equal(h->json_decode(NULL, text, strlen(text), &doc), GH_OK);
    for (size_t i = 0; i < h->json_len(doc); i++) {
        const gh_json *r = h->json_at(doc, i);
        const char *v = h->json_str(h->json_get(r, key));

        if (strcmp(h->json_str(h->json_get(r, "id")), id) == 0) {
            char *dumped = NULL;

            if (v)
                snprintf(buf, len, "%s", v);
            else if (h->json_dump(NULL, h->json_get(r, key), &dumped) == GH_OK)
                snprintf(buf, len, "%s", dumped);
            h->free(dumped);
        }
    }
    h->json_free(doc);
    free(text);
    return buf;
}

/* How many times op answered status. */
static int answered(const char *op, const char *status)
{
    char *text = control("GET", "/_standin/requests", NULL, 200);
    gh_json *doc = NULL;
    int n;

    assert_int_equal(h->json_decode(NULL, text, strlen(text), &doc), GH_OK);
    n = (int)h->json_int(h->json_get(h->json_get(h->json_get(h->json_get(doc, "counts"), op),
                                                 "status"),
                                     status),
                         0);
    h->json_free(doc);
    free(text);
    return n;
}

/* ------------------------------------------------------------ the plugin */

/* The plugin as instance "oci" with the account's options and extra
 * (YAML lines of more options, indented 6); NULL with err on a refusal. */
static fx *load(const char *key_file, const char *fingerprint, const char *extra, char *err,
                size_t errlen)
{
    char yaml[4096];

    snprintf(yaml, sizeof yaml,
             "plugins:\n"
             "  - name: oci\n"
             "    options:\n"
             "      tenancy_ocid: " TENANCY "\n"
             "      user_ocid: " USER "\n"
             "      fingerprint: \"%s\"\n"
             "      private_key_file: %s/%s\n"
             "      region: us-phoenix-1\n"
             "      identity_endpoint: http://127.0.0.1:%u\n"
             "%s"
             "      allow_private: true\n"
             "      poll_interval: 100ms\n"
             "      timeout: 2s\n"
             "%s",
             fingerprint, dir, key_file, port,
             extra && strstr(extra, "allow_http") ? "" : "      allow_http: true\n",
             extra ? extra : "");
    return fx_load(yaml, err, errlen);
}

static fx *load_ok(const char *extra)
{
    char err[512];
    fx *f = load("key.pem", FINGERPRINT, extra, err, sizeof err);

    if (!f)
        fail_msg("%s", err);
    return f;
}

/* What a step answered. */
typedef struct step {
    gh_result r;
    gh_call call;
    char state[32];
    char res[3][300];     /* "type:id", in order */
    size_t n;
    int64_t retry_after_ms;
} step;

/* One op ("provision", ...) for tenant slug with the resources given
 * (n of them), within ms. */
static void run(fx *f, const char *op, const char *tenant, const char *slug,
                char res[][300], size_t n, int64_t ms, step *s)
{
    gh_loaded *p = plugins_find(&f->ps, GH_KIND_CLOUD, "oci");
    const gh_cloud_ops *ops;
    gh_param in[8];
    size_t k = 0;
    gh_out *out = h->out_new();
    const gh_param *v;
    gh_op fn;

    assert_non_null(p);
    ops = p->desc->ops;
    fn = strcmp(op, "provision") == 0 ? ops->provision
         : strcmp(op, "deprovision") == 0 ? ops->deprovision : ops->status;
    in[k++] = (gh_param){"tenant_id", GH_T_STR, tenant, strlen(tenant)};
    in[k++] = (gh_param){"tenant_slug", GH_T_STR, slug, strlen(slug)};
    in[k++] = (gh_param){"tenant_name", GH_T_STR, "Acme \"Rockets\" Ltd", 18};
    for (size_t i = 0; i < n; i++)
        in[k++] = (gh_param){"resource", GH_T_STR, res[i], strlen(res[i])};
    in[k] = (gh_param){NULL, 0, NULL, 0};
    memset(s, 0, sizeof *s);
    call_init(&s->call, p, "req-oci", ms);
    s->r = fn(p->inst, plugin_tinst(p), &s->call, in, out);
    if ((v = h->out_get(out, "state", 0)) != NULL)
        snprintf(s->state, sizeof s->state, "%.*s", (int)v->len, (const char *)v->data);
    for (; s->n < 3 && (v = h->out_get(out, "resource", s->n)) != NULL; s->n++)
        snprintf(s->res[s->n], sizeof s->res[s->n], "%.*s", (int)v->len, (const char *)v->data);
    assert_null(h->out_get(out, "resource", 3));
    if ((v = h->out_get(out, "retry_after_ms", 0)) != NULL)
        s->retry_after_ms = *(const int64_t *)v->data;
    h->out_free(out);
}

/* Steps of op until it answers final, as the core runs them: each step's
 * resources given to the next, its retry_after_ms waited. */
static int run_to(fx *f, const char *op, const char *final, const char *tenant,
                  const char *slug, step *s)
{
    char res[3][300];
    size_t n = 0;
    int steps = 0;

    for (; steps < 40; steps++) {
        run(f, op, tenant, slug, res, n, 5000, s);
        if (s->r != GH_OK)
            fail_msg("%s step %d: %s (%s)", op, steps, gh_result_str(s->r), s->call.message);
        memcpy(res, s->res, sizeof res);
        n = s->n;
        if (strcmp(s->state, final) == 0)
            return steps + 1;
        usleep((useconds_t)(s->retry_after_ms * 1000));
    }
    fail_msg("%s: no %s after %d steps", op, final, steps);
    return -1;
}

static const char *id_of(const char *res)
{
    return strchr(res, ':') + 1;
}

/* ------------------------------------------------------------ the runs */

#define ACME "0b7f3a52-1c2d-4e5f-8a9b-0c1d2e3f4a5b"

static void test_provision_and_deprovision(void **state)
{
    fx *f = load_ok("      freeform_tags: [\"cost-center=42\"]\n");
    char buf[512], res[3][300];
    step s;
    int steps;

    (void)state;
    steps = run_to(f, "provision", "active", ACME, "acme", &s);
    /* a compartment, a look at it until ACTIVE, a group, a policy */
    assert_true(steps >= 4);
    assert_int_equal(s.n, 3);
    assert_memory_equal(s.res[0], "compartment:ocid1.compartment.", 30);
    assert_memory_equal(s.res[1], "group:ocid1.group.", 18);
    assert_memory_equal(s.res[2], "policy:ocid1.policy.", 20);
    assert_int_equal(made_for("compartment", ACME), 1);
    assert_int_equal(made_for("group", ACME), 1);
    assert_int_equal(made_for("policy", ACME), 1);
    assert_string_equal(resource_field(id_of(s.res[0]), "name", buf, sizeof buf), "gh-acme");
    assert_string_equal(resource_field(id_of(s.res[0]), "lifecycleState", buf, sizeof buf),
                        "ACTIVE");
    assert_string_equal(resource_field(id_of(s.res[0]), "compartmentId", buf, sizeof buf),
                        TENANCY);
    assert_string_equal(resource_field(id_of(s.res[0]), "description", buf, sizeof buf),
                        "Gatehouse tenant Acme \"Rockets\" Ltd");
    assert_string_equal(resource_field(id_of(s.res[1]), "freeformTags", buf, sizeof buf),
                        "{\"cost-center\":\"42\",\"gatehouse-tenant\":\"" ACME "\"}");
    assert_string_equal(resource_field(id_of(s.res[2]), "statements", buf, sizeof buf),
                        "[\"Allow group gh-acme to manage all-resources in compartment "
                        "gh-acme\"]");
    /* the compartment was CREATING at first: looked at, not built upon */
    assert_true(answered("GetCompartment", "200") >= 1);

    memcpy(res, s.res, sizeof res);
    run(f, "status", ACME, "acme", res, 3, 5000, &s);
    assert_int_equal(s.r, GH_OK);
    assert_string_equal(s.state, "active");

    run(f, "provision", ACME, "acme", res, 3, 5000, &s); /* again: nothing more made */
    assert_int_equal(s.r, GH_OK);
    assert_string_equal(s.state, "active");
    assert_int_equal(made_for("group", ACME), 1);

    /* deprovision: policy, group, then compartment, one per step */
    run(f, "deprovision", ACME, "acme", res, 3, 5000, &s);
    assert_int_equal(s.r, GH_OK);
    assert_string_equal(s.state, "deprovisioning");
    assert_int_equal(s.n, 2);
    assert_string_equal(s.res[0], res[0]);
    assert_string_equal(s.res[1], res[1]);
    assert_string_equal(resource_field(id_of(res[2]), "lifecycleState", buf, sizeof buf),
                        "DELETED");
    memcpy(res, s.res, sizeof res);
    run(f, "deprovision", ACME, "acme", res, 2, 5000, &s);
    assert_int_equal(s.r, GH_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(resource_field(id_of(res[1]), "lifecycleState", buf, sizeof buf),
                        "DELETED");
    memcpy(res, s.res, sizeof res);
    run(f, "deprovision", ACME, "acme", res, 1, 5000, &s);
    assert_int_equal(s.r, GH_OK);
    assert_string_equal(s.state, "deleted");
    assert_int_equal(s.n, 0);
    assert_string_equal(resource_field(id_of(res[0]), "lifecycleState", buf, sizeof buf),
                        "DELETING");
    run(f, "status", ACME, "acme", res, 1, 5000, &s);
    assert_string_equal(s.state, "deleting");

    /* a resource already gone counts as deleted */
    run(f, "deprovision", ACME, "acme", res, 1, 5000, &s);
    assert_int_equal(s.r, GH_OK);
    assert_string_equal(s.state, "deleted");

    /* provisioned again (an admin's retry after a rollback), within the
     * retry tokens' life: new resources, not the deleted ones */
    run_to(f, "provision", "active", ACME, "acme", &s);
    assert_string_not_equal(s.res[0], res[0]);
    assert_int_equal(made_for("compartment", ACME), 2);
    assert_int_equal(made_for("group", ACME), 2);
    assert_int_equal(made_for("policy", ACME), 2);
    assert_string_equal(resource_field(id_of(s.res[0]), "lifecycleState", buf, sizeof buf),
                        "ACTIVE");
    fx_close(f);
}

/* A key OCI does not know: DENIED, with OCI's code and request id, and
 * nothing of the key or the signature in the message. */
static void test_unknown_key_denied(void **state)
{
    char err[512];
    fx *f = load("other.pem", other_fp, NULL, err, sizeof err);
    step s;

    (void)state;
    if (!f)
        fail_msg("%s", err);
    run(f, "provision", ACME, "acme", NULL, 0, 5000, &s);
    assert_int_equal(s.r, GH_ERR_DENIED);
    assert_contains(s.call.message, "oci CreateCompartment: HTTP 401 NotAuthenticated");
    assert_contains(s.call.message, "opc-request-id ");
    assert_null(strstr(s.call.message, "(opc-request-id none)"));
    assert_null(strstr(s.call.message, "signature=\""));
    assert_null(strstr(s.call.message, "BEGIN"));
    assert_int_equal(s.n, 0);
    fx_close(f);
}

/* A date more than five minutes off is refused as OCI refuses it. */
static void test_stale_date_denied(void **state)
{
    fx *f = load_ok(NULL);
    step s;

    (void)state;
    clock_advance_ms(-6 * 60 * 1000);
    run(f, "provision", ACME, "acme", NULL, 0, 5000, &s);
    clock_advance_ms(6 * 60 * 1000);
    assert_int_equal(s.r, GH_ERR_DENIED);
    assert_contains(s.call.message, "NotAuthenticated");
    assert_contains(s.call.message, "clock skew");
    fx_close(f);
}

/* 429 and 5xx: transient, with when to come back; the step, repeated,
 * then goes on. */
static void test_transient_errors(void **state)
{
    static const struct {
        const char *fault;
        gh_result want;
        const char *says;
    } cases[] = {
        {"{\"op\":\"CreateGroup\",\"status\":429,\"code\":\"TooManyRequests\",\"times\":1}",
         GH_ERR_RATE_LIMITED, "HTTP 429 TooManyRequests"},
        {"{\"op\":\"CreateGroup\",\"status\":500,\"code\":\"InternalServerError\",\"times\":1}",
         GH_ERR_UPSTREAM, "HTTP 500 InternalServerError"},
        {"{\"op\":\"CreateGroup\",\"status\":503,\"code\":\"ServiceUnavailable\",\"times\":1}",
         GH_ERR_UNAVAILABLE, "HTTP 503 ServiceUnavailable"},
        {"{\"op\":\"GetCompartment\",\"status\":409,\"code\":\"IncorrectState\",\"times\":1}",
         GH_ERR_UNAVAILABLE, "HTTP 409 IncorrectState"},
    };
    const char *tenant = "1d4c8e2a-0000-4000-8000-00000000000b";
    fx *f = load_ok(NULL);
    char res[3][300];
    step s;

    (void)state;
    run(f, "provision", tenant, "transient", NULL, 0, 5000, &s);
    assert_int_equal(s.r, GH_OK);
    memcpy(res, s.res, sizeof res);
    usleep(500 * 1000); /* ACTIVE: the next step makes the group */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fault(cases[i].fault);
        run(f, "provision", tenant, "transient", res, 1, 5000, &s);
        if (s.r != cases[i].want)
            fail_msg("%s: %s (%s)", cases[i].fault, gh_result_str(s.r), s.call.message);
        assert_contains(s.call.message, cases[i].says);
        assert_true(s.call.retry_after_ms > 0);
    }
    assert_int_equal(made_for("group", tenant), 0);
    run(f, "provision", tenant, "transient", res, 1, 5000, &s);
    assert_int_equal(s.r, GH_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(made_for("group", tenant), 1);
    clear_faults();
    fx_close(f);
}

/* A request OCI does not answer ends in TIMEOUT by the call's deadline. */
static void test_hung_request_times_out(void **state)
{
    const char *tenant = "1d4c8e2a-0000-4000-8000-00000000000c";
    fx *f = load_ok(NULL);
    int64_t t0;
    step s;

    (void)state;
    fault("{\"op\":\"CreateCompartment\",\"hang_ms\":4000,\"times\":1}");
    t0 = gh_monotonic_ms();
    run(f, "provision", tenant, "hung", NULL, 0, 700, &s);
    assert_int_equal(s.r, GH_ERR_TIMEOUT);
    assert_true(gh_monotonic_ms() - t0 < 1500);
    assert_contains(s.call.message, "oci CreateCompartment: no answer in time");
    clear_faults();
    fx_close(f);
}

/* A crash after a create, before the core recorded its id: the step
 * repeated finds the same compartment, by the retry token, and once the
 * tokens are forgotten, by its name and tag after a 409. */
static void test_repeated_step_after_crash(void **state)
{
    const char *tenant = "1d4c8e2a-0000-4000-8000-00000000000d";
    fx *f = load_ok(NULL);
    char first[300];
    int conflicts = answered("CreateCompartment", "409");
    step s;

    (void)state;
    run(f, "provision", tenant, "crashy", NULL, 0, 5000, &s);
    assert_int_equal(s.r, GH_OK);
    snprintf(first, sizeof first, "%s", s.res[0]);

    run(f, "provision", tenant, "crashy", NULL, 0, 5000, &s); /* the id was lost */
    assert_int_equal(s.r, GH_OK);
    assert_string_equal(s.res[0], first);
    assert_int_equal(answered("CreateCompartment", "409"), conflicts);

    free(control("DELETE", "/_standin/retry-tokens", NULL, 204));
    run(f, "provision", tenant, "crashy", NULL, 0, 5000, &s);
    assert_int_equal(s.r, GH_OK);
    assert_string_equal(s.res[0], first);
    assert_int_equal(answered("CreateCompartment", "409"), conflicts + 1);
    assert_int_equal(made_for("compartment", tenant), 1);
    fx_close(f);
}

/* A name another tenant's resource holds is not taken over. */
static void test_name_of_another_tenant(void **state)
{
    fx *f = load_ok(NULL);
    step s;

    (void)state;
    run(f, "provision", "1d4c8e2a-0000-4000-8000-00000000000e", "shared", NULL, 0, 5000, &s);
    assert_int_equal(s.r, GH_OK);
    run(f, "provision", "1d4c8e2a-0000-4000-8000-00000000000f", "shared", NULL, 0, 5000, &s);
    assert_int_equal(s.r, GH_ERR_DENIED);
    assert_contains(s.call.message, "gh-shared is taken");
    assert_int_equal(made_for("compartment", "1d4c8e2a-0000-4000-8000-00000000000f"), 0);
    fx_close(f);
}

/* Bad input never reaches OCI. */
static void test_bad_input(void **state)
{
    fx *f = load_ok(NULL);
    char res[1][300] = {"bucket:ocid1.bucket.oc1..x"};
    step s;

    (void)state;
    run(f, "provision", "not a uuid", "acme", NULL, 0, 5000, &s);
    assert_int_equal(s.r, GH_ERR_INVALID);
    run(f, "provision", ACME, "acme corp", NULL, 0, 5000, &s);
    assert_int_equal(s.r, GH_ERR_INVALID);
    assert_contains(s.call.message, "tenant_slug");
    run(f, "deprovision", ACME, "acme", res, 1, 5000, &s);
    assert_int_equal(s.r, GH_ERR_INVALID);
    assert_contains(s.call.message, "bucket:");
    fx_close(f);
}

/* ------------------------------------------------------------ the stand-in's checks */

/* A request to the stand-in signed here with key.pem (what the plugin
 * does), then spoilt as the test says; the status, and OCI's code into
 * code. */
enum spoil { SPOIL_NONE, SPOIL_SIGNATURE, SPOIL_HEADER_LIST, SPOIL_BODY };

static int64_t signed_request(const char *method, const char *target, const char *body,
                              enum spoil spoil, char *code, size_t len)
{
    char host[64], url[512], why[256], spoilt[512];
    const char *sent = body;
    EVP_PKEY *key = NULL;
    const int32_t yes = 1;
    gh_param req[OCI_SIGNED_HEADERS + 6];
    oci_signed_headers hd;
    size_t n = 0;
    gh_out *resp = h->out_new();
    const gh_param *st, *b;
    gh_json *doc = NULL;
    int64_t status;

    snprintf(host, sizeof host, "127.0.0.1:%u", port);
    snprintf(url, sizeof url, "http://%s%s", host, target);
    assert_int_equal(oci_key_load("key.pem", NULL, &key, why, sizeof why), GH_OK);
    /* SPOIL_HEADER_LIST: the body sent, but none of its headers signed */
    assert_int_equal(oci_sign_request(h, NULL, key, TENANCY "/" USER "/" FINGERPRINT, method,
                                      target, host, gh_now_ms(),
                                      spoil == SPOIL_HEADER_LIST ? NULL : body, &hd),
                     GH_OK);
    EVP_PKEY_free(key);
    if (spoil == SPOIL_BODY) { /* one character, the length kept as signed */
        snprintf(spoilt, sizeof spoilt, "%s", body);
        spoilt[strlen(spoilt) - 3] ^= 1;
        sent = spoilt;
    }
    if (spoil == SPOIL_SIGNATURE) /* one character of the signature */
        strstr(hd.authorization, "signature=\"")[12] ^= 1;
    req[n++] = (gh_param){"method", GH_T_STR, method, strlen(method)};
    req[n++] = (gh_param){"url", GH_T_STR, url, strlen(url)};
    req[n++] = (gh_param){"allow_http", GH_T_BOOL, &yes, sizeof yes};
    req[n++] = (gh_param){"allow_private", GH_T_BOOL, &yes, sizeof yes};
    n += oci_signed_header_params(&hd, req + n);
    if (sent)
        req[n++] = (gh_param){"body", GH_T_STR, sent, strlen(sent)};
    req[n] = (gh_param){NULL, 0, NULL, 0};
    assert_int_equal(h->http(NULL, req, resp), GH_OK);
    oci_signed_headers_free(&hd);
    st = h->out_get(resp, "status", 0);
    status = *(const int64_t *)st->data;
    b = h->out_get(resp, "body", 0);
    snprintf(code, len, "(none)");
    if (b && b->len && h->json_decode(NULL, b->data, b->len, &doc) == GH_OK &&
        h->json_str(h->json_get(doc, "code")))
        snprintf(code, len, "%s", h->json_str(h->json_get(doc, "code")));
    h->json_free(doc);
    /* every answer carries OCI's request id */
    for (size_t i = 0;; i++) {
        const gh_param *line = h->out_get(resp, "header", i);

        if (!line)
            fail_msg("no opc-request-id in the answer");
        if (line->len > 15 && strncasecmp(line->data, "opc-request-id:", 15) == 0)
            break;
    }
    h->out_free(resp);
    return status;
}

static void test_standin_refuses_what_oci_refuses(void **state)
{
    static const char good[] = "{\"compartmentId\":\"" TENANCY "\",\"name\":\"checks\","
                               "\"description\":\"d\"}";
    char code[64];

    (void)state;
    /* signed as the plugin signs: taken */
    assert_int_equal(signed_request("GET", "/20160918/compartments?compartmentId=" TENANCY,
                                    NULL, SPOIL_NONE, code, sizeof code),
                     200);
    assert_int_equal(signed_request("GET", "/20160918/compartments?compartmentId=" TENANCY,
                                    NULL, SPOIL_SIGNATURE, code, sizeof code),
                     401);
    assert_string_equal(code, "NotAuthenticated");
    /* a body whose headers are not signed, and one changed after signing */
    assert_int_equal(signed_request("POST", "/20160918/groups", good, SPOIL_HEADER_LIST, code,
                                    sizeof code),
                     401);
    assert_string_equal(code, "NotAuthenticated");
    assert_int_equal(signed_request("POST", "/20160918/groups", good, SPOIL_BODY, code,
                                    sizeof code),
                     401);
    assert_string_equal(code, "NotAuthenticated");
    /* the spec's shapes */
    assert_int_equal(signed_request("POST", "/20160918/groups",
                                    "{\"compartmentId\":\"" TENANCY "\",\"description\":\"d\"}",
                                    SPOIL_NONE, code, sizeof code),
                     400);
    assert_string_equal(code, "MissingParameter");
    assert_int_equal(signed_request("POST", "/20160918/groups",
                                    "{\"compartmentId\":\"" TENANCY "\",\"name\":\"x\","
                                    "\"description\":\"d\",\"colour\":\"red\"}",
                                    SPOIL_NONE, code, sizeof code),
                     400);
    assert_string_equal(code, "InvalidParameter");
    assert_int_equal(signed_request("GET", "/20160918/groups/ocid1.group.oc1..none", NULL,
                                    SPOIL_NONE, code, sizeof code),
                     404);
    assert_string_equal(code, "NotAuthorizedOrNotFound");
    /* a good create, then the same name again */
    assert_int_equal(signed_request("POST", "/20160918/groups", good, SPOIL_NONE, code,
                                    sizeof code),
                     200);
    assert_int_equal(signed_request("POST", "/20160918/groups", good, SPOIL_NONE, code,
                                    sizeof code),
                     409);
    assert_string_equal(code, "Conflict");
}

/* ------------------------------------------------------------ options */

static void test_options_checked_at_load(void **state)
{
    static const struct {
        const char *key_file, *fingerprint, *extra, *says;
    } cases[] = {
        {"key.pem", "aa:bb", NULL, "but the key in"},
        {"other.pem", FINGERPRINT, NULL, "but the key in"},
        {"missing.pem", FINGERPRINT, NULL, "cannot read the private key"},
        {"public.pem", FINGERPRINT, NULL, "cannot be read"},
        {"key.pem", FINGERPRINT, "      name_prefix: \"a b\"\n", "option 'name_prefix'"},
        {"key.pem", FINGERPRINT, "      policy_statements: []\n", "must not be empty"},
        {"key.pem", FINGERPRINT, "      freeform_tags: [novalue]\n", "key=value"},
        {"key.pem", FINGERPRINT, "      parent_compartment_ocid: nope\n", "must be an OCID"},
        {"key.pem", FINGERPRINT, "      allow_http: false\n", "must be https://"},
        {"key.pem", FINGERPRINT, "      poll_interval: 10ms\n", "poll_interval"},
    };
    char err[512];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx *f = load(cases[i].key_file, cases[i].fingerprint, cases[i].extra, err, sizeof err);

        if (f)
            fail_msg("case %zu loaded", i);
        assert_contains(err, cases[i].says);
        assert_null(strstr(err, "MIIC")); /* no key material */
    }
}

/* ------------------------------------------------------------ main */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_provision_and_deprovision),
        cmocka_unit_test(test_unknown_key_denied),
        cmocka_unit_test(test_stale_date_denied),
        cmocka_unit_test(test_transient_errors),
        cmocka_unit_test(test_hung_request_times_out),
        cmocka_unit_test(test_repeated_step_after_crash),
        cmocka_unit_test(test_name_of_another_tenant),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_standin_refuses_what_oci_refuses),
        cmocka_unit_test(test_options_checked_at_load),
    };

    if (standin_npm_install("oci", npm_dir, sizeof npm_dir) != 0) {
        printf("SKIP: the OCI stand-in cannot be installed (npm ci)\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
