/*
 * metrics.h - Prometheus counters kept with relaxed atomics so loop threads
 * never contend: requests by route and status, a latency histogram, and
 * what /metrics reads from the pool and plugins when it renders.
 */
#ifndef GH_METRICS_H
#define GH_METRICS_H

#include <stddef.h>

struct evbuffer;
struct gh_app;

int metrics_init(size_t nroutes);  /* route index nroutes = "unmatched" */
void metrics_free(void);
void metrics_request(size_t route_index, int status, double seconds);
/* A read job ran on its event loop; moved: it had to go to a worker. */
void metrics_loop_job(int moved);
/* A loop's asynchronous kv read (api/job.c): what came of it. */
enum { LOOP_ASYNC_ANSWERED, LOOP_ASYNC_MOVED, LOOP_ASYNC_FAILED };
void metrics_loop_async(int outcome);
/* An access token refused: forged (token_refusal_forged), or otherwise
 * (expired, malformed). */
void metrics_token_refused(int forged);
/* A forged token whose audit row the rate limit left out. */
void metrics_forged_audit_dropped(void);
/* A trusted proxy's forwarding header that could not be read: the
 * request was taken as the proxy's own (http/client_ip.h). */
void metrics_forwarded_refused(void);
void metrics_render(struct evbuffer *out, const struct gh_app *app);

#endif
