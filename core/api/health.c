/*
 * health.c - what the server is, liveness, readiness and metrics.
 *
 * /health answers from the loop thread without touching anything that can
 * block: it says the process is alive and its loops turn. /health/ready
 * asks storage and every plugin, on a worker thread, whether they can serve.
 */
#include <stdlib.h>
#include <event2/buffer.h>
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

static void metrics(gh_req *req)
{
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
