/*
 * request.h - one HTTP request as handlers see it, and the only ways to
 * answer it. Every answer goes through req_send(), which adds the security
 * headers, CORS, X-Request-Id, counts it for /metrics and writes the access
 * log line. Handlers run on the request's loop thread; blocking work goes
 * through req_defer(), whose done callback runs back on that loop thread.
 */
#ifndef GH_REQUEST_H
#define GH_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "app.h"
#include "http/client_ip.h"
#include "http/router.h"

struct evhttp_request;
struct gh_app;
typedef struct gh_loop gh_loop;

typedef struct gh_req {
    struct evhttp_request *ev;
    gh_loop *loop;
    struct gh_app *app;
    struct gh_cycle *cycle;    /* the config and keys this request is served
                                  with, held until it is freed (app.h) */
    unsigned method;           /* GH_GET ... */
    const char *method_name;
    char *path;                /* decoded-free raw path, no query */
    char *query;               /* raw query string or NULL */
    gh_match match;
    char request_id[40];
    char peer[CLIENT_IP_LEN];  /* the socket's peer: who connected. Only
                                  for checks about the connection itself
                                  (health.c's loopback-only /metrics) */
    char client[CLIENT_IP_LEN]; /* the client: the peer, or behind a trusted
                                  proxy the address its header names
                                  (http/client_ip.h). Rate limits, lockout,
                                  audit and sessions use this one */
    int tls;                   /* came in over a TLS listener */
    int64_t start_us;          /* monotonic, for the access log */
    int closed;                /* the client went away: answer nothing */
    int answered;
    int in_done;               /* inside the deferred job's done callback */
    int status;
    /* the job a handler deferred to the pool */
    void (*job_work)(struct gh_req *req);
    void (*job_done)(struct gh_req *req);
    void *job_data;
} gh_req;

/* Entry point from the server: a new request on this loop; tls: it came
 * in over a TLS listener. */
void req_dispatch(struct evhttp_request *ev, gh_loop *loop, struct gh_app *app, int tls);

const char *req_param(const gh_req *req, const char *name);  /* path {name} */
const char *req_header(const gh_req *req, const char *name);
/* Every request header as "Name: value", in order: a JSON array (NULL:
 * out of memory). */
json_t *req_headers(const gh_req *req);

/* The body as JSON, checked for content type (415), size (413), syntax and
 * depth (400). On failure the problem is already sent and NULL returned. */
json_t *req_json_body(gh_req *req);

/* Answers. Each sends exactly once; later calls are ignored. */
void req_send(gh_req *req, int status, const char *content_type,
              const char *body, size_t len);
void req_json(gh_req *req, int status, json_t *body);   /* steals body */
/* RFC 9457 problem+json: type, title, status, detail, code, request_id */
void req_problem(gh_req *req, int status, const char *code, const char *detail);
void req_set_header(gh_req *req, const char *name, const char *value);

/* Run work on the worker pool, then done back on this loop. Returns -1 if
 * the pool is full: the request has had its 503 (code "overloaded"), neither
 * function runs, and the caller frees data. If the client has gone when the
 * work ends, done still runs (to free job_data) and its answer is dropped. */
int req_defer(gh_req *req, void (*work)(gh_req *), void (*done)(gh_req *), void *data);
/* The same on a given pool (the password-hashing pool, say). */
int req_defer_on(gh_req *req, gh_pool *pool, void (*work)(gh_req *), void (*done)(gh_req *),
                 void *data);
/* Hold req for an answer that comes later on this loop, from an event of
 * its own (an asynchronous read): the client may go meanwhile
 * (req->closed). The holder then either calls req_resume, which runs done
 * as req_defer's would (done frees data; its answer is dropped if the
 * client went), or hands req on with req_defer_on. */
void req_hold(gh_req *req, void (*done)(gh_req *), void *data);
void req_resume(gh_req *req);

#endif
