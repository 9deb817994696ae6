/*
 * server.h - the HTTP front: N event-loop threads, each with its own
 * event_base and evhttp on its own SO_REUSEPORT socket per listen address,
 * so accepting needs no lock and one loop never waits on another.
 */
#ifndef GH_SERVER_H
#define GH_SERVER_H

#include <stdint.h>
#include "http/pool.h"

struct event_base;
typedef struct gh_server gh_server;
struct gh_app;

/* Bind every listen address for every loop. -1 with err set on failure. */
gh_server *server_new(struct gh_app *app, char *err, size_t errlen);
/* Start the loop threads. hooks (may be NULL) run on each loop thread
 * before it serves and after it stops; a failing thread_start is the
 * hook's to report: the loop serves anyway. */
int server_start(gh_server *s, const gh_pool_hooks *hooks, char *err, size_t errlen);
/* Stop accepting; wait up to timeout_ms for requests in flight; end loops. */
void server_stop(gh_server *s, int64_t timeout_ms);
void server_free(gh_server *s);
/* The port a listen address was bound to (for port 0 in tests). */
uint16_t server_port(const gh_server *s, size_t listen_index);
/* SIGHUP: every TLS address reads its certificate and key again; one that
 * fails to load or check is refused, logged, and the previous one serves. */
void server_tls_reload(gh_server *s);

/* Post fn(arg) to run on loop's thread (any thread may call this). */
void loop_post(gh_loop *loop, gh_done_fn fn, void *arg);
struct event_base *loop_base(gh_loop *loop);
gh_loop *loop_current(void); /* the calling loop thread's, or NULL */
/* Requests in flight on a loop: +1 when one arrives, -1 when answered;
 * nothing for a request without a loop (NULL). */
void loop_track(gh_loop *loop, int delta);

#endif
