/*
 * webhook_sender.c - the outgoing events' sender thread. See
 * webhook_sender.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "auth/webhooks.h"
#include "clock.h"
#include "log.h"
#include "notify/sender.h"
#include "notify/webhook_sender.h"
#include "out.h"
#include "store/store.h"

/* Deliveries claimed per poll: a round trip each, so a few at a time keep
 * the claim short and let a second instance take its share. */
#define BATCH 16
/* A claim outlives the attempt's deadline by this much, so a delivery is
 * never sent twice at once; a sender that died mid-attempt leaves its
 * claim to run out, and the delivery is due again. */
#define LEASE_MARGIN_MS 30000

struct gh_webhook_sender {
    gh_poller pl;              /* the plugin, the thread, its polls */
    gh_webhook_policy policy;
    int allow_private, allow_http;
};

/* The running sender, for webhook_sender_wake from any thread. */
static gh_poller_slot slot = POLLER_SLOT_INIT;

/* ---------------------------------------------------------------- delivery */

/* One attempt: the plugin's answer as an HTTP status (0: none) and, for a
 * failure, why into err ("" on success). */
static int64_t attempt(gh_webhook_sender *s, const gh_webhook_job *job, char *err, size_t errlen)
{
    int64_t ts = gh_now_ms() / 1000;
    int32_t priv = s->allow_private, http = s->allow_http;
    gh_param in[] = {
        { "to", GH_T_STR, job->url, strlen(job->url) },
        { "text", GH_T_STR, job->payload, strlen(job->payload) },
        { "secret", GH_T_STR, job->secret, strlen(job->secret) },
        { "message_id", GH_T_STR, job->id, strlen(job->id) },
        { "timestamp", GH_T_INT, &ts, sizeof ts },
        { "allow_private", GH_T_BOOL, &priv, sizeof priv },
        { "allow_http", GH_T_BOOL, &http, sizeof http },
        { NULL, 0, NULL, 0 },
    };
    gh_call call;
    call_init(&call, s->pl.snd.plugin, NULL, s->policy.retry.send_timeout_ms);
    call.attempt = (int)job->attempts;
    gh_out *out;
    gh_result r = sender_deliver(&s->pl.snd, &call, in, &out);
    const gh_param *st = r == GH_OK ? out_get(out, "status", 0) : NULL;
    int64_t status = st && st->type == GH_T_INT ? *(const int64_t *)st->data : 0;
    out_free(out);
    r = call_result(&call, r); /* logs the plugin's reason, counts the error */
    err[0] = '\0';
    if (r != GH_OK)
        snprintf(err, errlen, "%s", call.message[0] ? call.message : gh_result_str(r));
    else if (status < 200 || status > 299)
        snprintf(err, errlen, "the receiver answered HTTP %lld", (long long)status);
    return status;
}

/* Claim what is due and send it (the poller's poll). How many were sent,
 * or -1 when the store failed (logged). */
static int poll_once(void *arg, gh_conn *c, int64_t *due_ms)
{
    gh_webhook_sender *s = arg;
    gh_webhook_job *jobs = NULL;
    size_t n = 0;
    gh_call call;
    int64_t lease = s->policy.retry.send_timeout_ms + LEASE_MARGIN_MS;
    call_init(&call, NULL, NULL, 30000);
    if (webhook_delivery_claim(c, &call, gh_now_ms(), lease, BATCH, &jobs, &n) != GH_OK) {
        gh_log(GH_LOG_ERROR, "webhooks: cannot read due deliveries: %s", call.message);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char err[WEBHOOK_ERROR_MAX];
        int64_t status = attempt(s, &jobs[i], err, sizeof err);
        call_init(&call, NULL, NULL, 30000);
        gh_result r = webhook_delivery_settle(c, &call, &jobs[i], status, err[0] ? err : NULL,
                                              gh_now_ms(), &s->policy);
        if (r != GH_OK)
            gh_log(GH_LOG_ERROR, "webhooks: delivery %s: cannot record its outcome: %s",
                   jobs[i].id, call.message);
        else if (!err[0])
            gh_log(GH_LOG_INFO, "webhooks: delivery %s to subscription %s: HTTP %lld "
                   "(attempt %lld)", jobs[i].id, jobs[i].subscription_id, (long long)status,
                   (long long)jobs[i].attempts);
        else
            gh_log(GH_LOG_WARNING, "webhooks: delivery %s to subscription %s: attempt %lld of "
                   "%d failed: %s", jobs[i].id, jobs[i].subscription_id,
                   (long long)jobs[i].attempts, s->policy.retry.max_attempts, err);
    }
    webhook_jobs_free(jobs, n);
    *due_ms = 0; /* the next poll finds what failed */
    return (int)n;
}

/* ---------------------------------------------------------------- the API */

static gh_loaded *find_plugin(const gh_config *cfg, const gh_plugins *ps, char *err,
                              size_t errlen)
{
    gh_loaded *p = plugins_find(ps, GH_KIND_NOTIFY, cfg->webhooks.name);
    if (!p)
        snprintf(err, errlen, "webhooks.plugin: '%s' is not a notify plugin",
                 cfg->webhooks.name);
    return p;
}

int webhook_sender_check(const gh_config *cfg, const gh_plugins *ps, char *err, size_t errlen)
{
    return !cfg->webhooks.name || find_plugin(cfg, ps, err, errlen) ? 0 : -1;
}

gh_webhook_sender *webhook_sender_new(const gh_config *cfg, const gh_plugins *ps,
                                      const gh_outbox_thread *thread, char *err, size_t errlen)
{
    err[0] = '\0';
    if (!cfg->webhooks.name)
        return NULL;
    gh_loaded *p = find_plugin(cfg, ps, err, errlen);
    gh_webhook_sender *s = p ? calloc(1, sizeof *s) : NULL;
    if (!s) {
        if (p)
            snprintf(err, errlen, "webhooks: out of memory");
        return NULL;
    }
    s->pl.snd.plugin = p;
    if (thread)
        s->pl.snd.setup = *thread;
    s->policy.retry = cfg->webhooks_retry;
    s->policy.disable_after = cfg->webhooks_disable_after;
    s->pl.poll_ms = cfg->webhooks_poll_ms;
    s->pl.batch = BATCH;
    s->pl.poll = poll_once;
    s->pl.arg = s;
    s->allow_private = cfg->webhooks_allow_private;
    s->allow_http = cfg->webhooks_allow_http;
    if (poller_launch(&s->pl, &slot) < 0) {
        snprintf(err, errlen, "webhooks: %.200s", s->pl.snd.err);
        free(s);
        return NULL;
    }
    gh_log(GH_LOG_INFO, "webhooks: delivering through plugin '%s'", p->name);
    return s;
}

void webhook_sender_free(gh_webhook_sender *s)
{
    if (!s)
        return;
    poller_stop(&s->pl, &slot);
    free(s);
}

void webhook_sender_wake(void)
{
    poller_wake(&slot);
}
