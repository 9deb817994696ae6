/*
 * health.c - what the server is, liveness, readiness and metrics.
 *
 * /health answers from the loop thread without touching anything that can
 * block: it says the process is alive and its loops turn. /health/ready
 * asks storage and every plugin, on a worker thread, whether they can serve.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/buffer.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <event2/http.h>
#include "api/api.h"
#include "app.h"
#include "http/metrics.h"
#include "http/request.h"
#include "plugin/host.h"
#include "store/store.h"

#define READY_TIMEOUT_MS 2000

/* GET /: a new user's first request gets the server's name and version and
 * where to go next, not a 404. */
static void about(gh_req *req)
{
    req_json(req, 200,
             json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s}}", "name", "Gatehouse", "version",
                       PACKAGE_VERSION, "links", "docs", "/docs", "openapi", "/openapi.json",
                       "health", "/health", "ready", "/health/ready",
                       "openid_configuration", "/.well-known/openid-configuration", "jwks",
                       "/.well-known/jwks.json"));
}

static void live(gh_req *req)
{
    req_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

typedef struct readiness {
    json_t *checks;
    int ok;
} readiness;

static void check(readiness *r, const char *name, gh_result res)
{
    json_object_set_new(r->checks, name, json_string(res == GH_OK ? "ok" : "unavailable"));
    if (res != GH_OK)
        r->ok = 0;
}

static void ready_work(gh_req *req)
{
    readiness *r = req->job_data;
    gh_call call;
    call_init(&call, req->app->plugins.storage, req->request_id, READY_TIMEOUT_MS);
    gh_conn *c = store_current();
    check(r, "storage", c ? store_ping(c, &call) : GH_ERR_UNAVAILABLE); /* the store counts its own errors */
    const gh_plugins *ps = &req->app->plugins;
    for (size_t i = 0; i < ps->n; i++) {
        const gh_loaded *p = &ps->v[i];
        gh_result res = GH_OK;
        if (p->desc->health) {
            call_init(&call, p, req->request_id, READY_TIMEOUT_MS);
            res = call_result(&call, c ? store_health(c, p, &call)
                                       : p->desc->health(p->inst, plugin_tinst(p), &call));
        }
        check(r, p->name, res);
    }
}

static void ready_done(gh_req *req)
{
    readiness *r = req->job_data;
    req_json(req, r->ok ? 200 : 503,
             json_pack("{s:s, s:o}", "status", r->ok ? "ready" : "unavailable", "checks", r->checks));
    free(r);
}

static void ready(gh_req *req)
{
    readiness *r = malloc(sizeof *r);
    if (!r || !(r->checks = json_object())) {
        free(r);
        req_problem(req, 500, "internal_error", NULL);
        return;
    }
    r->ok = 1;
    if (req_defer(req, ready_work, ready_done, r) < 0) {
        json_decref(r->checks);
        free(r);
    }
}

/* 1 when the peer is this machine: 127.0.0.0/8, ::1 or ::ffff:127.x. */
static int peer_is_loopback(const char *peer)
{
    unsigned char a[16];
    static const unsigned char v6_loop[16] = { [15] = 1 };
    static const unsigned char v4_mapped[12] = { [10] = 0xff, [11] = 0xff };

    if (inet_pton(AF_INET, peer, a) == 1)
        return a[0] == 127;
    if (inet_pton(AF_INET6, peer, a) != 1)
        return 0;
    return memcmp(a, v6_loop, 16) == 0 || (memcmp(a, v4_mapped, 12) == 0 && a[12] == 127);
}

/* 1 when the request carries the scraper's Bearer token. Both sides are
 * hashed first, so the comparison takes the same time whatever the
 * lengths. */
static int has_metrics_token(const gh_req *req, const char *token)
{
    const char *h = req_header(req, "Authorization");
    unsigned char got[SHA256_DIGEST_LENGTH], want[SHA256_DIGEST_LENGTH];

    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    SHA256((const unsigned char *)h + 7, strlen(h + 7), got);
    SHA256((const unsigned char *)token, strlen(token), want);
    return CRYPTO_memcmp(got, want, sizeof got) == 0;
}

/* server.metrics: a token when one is set; else this machine only, unless
 * the admin made it public. On refusal the answer is sent. */
static int metrics_allowed(gh_req *req)
{
    const gh_config *cfg = req->cycle->cfg;

    if (cfg->metrics_token) {
        if (has_metrics_token(req, cfg->metrics_token))
            return 1;
        req_set_header(req, "WWW-Authenticate", "Bearer realm=\"metrics\"");
        req_problem(req, 401, "unauthorized", "/metrics needs the scraper's bearer token");
        return 0;
    }
    if (cfg->metrics_public || peer_is_loopback(req->peer))
        return 1;
    req_problem(req, 403, "metrics_forbidden",
                "/metrics answers only this machine; set server.metrics.token for a scraper");
    return 0;
}

static void metrics(gh_req *req)
{
    if (!metrics_allowed(req))
        return;
    struct evbuffer *out = evbuffer_new();
    if (!out) {
        req_problem(req, 500, "internal_error", NULL);
        return;
    }
    metrics_render(out, req->app);
    size_t len = evbuffer_get_length(out);
    req_send(req, 200, "text/plain; version=0.0.4; charset=utf-8",
             (const char *)evbuffer_pullup(out, -1), len);
    evbuffer_free(out);
}

int health_register(gh_router *r)
{
    return router_add(r, GH_GET, "/", about) |
           router_add(r, GH_GET, "/health", live) |
           router_add(r, GH_GET, "/health/ready", ready) |
           router_add(r, GH_GET, "/metrics", metrics);
}
