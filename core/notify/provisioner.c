/*
 * provisioner.c - the cloud provisioning thread. See provisioner.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "auth/companies.h"
#include "auth/provisioning.h"
#include "clock.h"
#include "log.h"
#include "notify/provisioner.h"
#include "notify/sender.h"
#include "out.h"
#include "store/store.h"

/* Jobs claimed per poll: a step each, so a few at a time keep the claims
 * short and let a second instance take its share. */
#define BATCH 8

struct gh_provisioner {
    gh_poller pl;              /* the cloud plugin, the thread, its polls */
    gh_outbox_conf retry;      /* max_attempts: retries; the backoff */
    int keep;                  /* on_failure: keep */
    int64_t lease_ms;
};

/* The running provisioner, for provisioner_wake from any thread. */
static gh_poller_slot slot = POLLER_SLOT_INIT;

/* ---------------------------------------------------------------- one step */

/* What a step answered. */
typedef struct step_out {
    char state[PROV_STATE_MAX];
    char resources[PROV_RESOURCES_MAX];
    int64_t retry_after_ms;
} step_out;

/* The errors worth another try: the cloud was busy, down or slow. */
static int transient(gh_result r)
{
    return r == GH_ERR_RATE_LIMITED || r == GH_ERR_UNAVAILABLE || r == GH_ERR_TIMEOUT ||
           r == GH_ERR_UPSTREAM;
}

/* The op's inputs: the company, then every resource recorded so far. */
static gh_param *step_in(const gh_provisioning *j, const gh_company *co, char *copy)
{
    size_t n = 3, i = 0;
    for (const char *s = j->resources; *s; s++)
        n += *s == '\n';
    gh_param *in = calloc(n + 2, sizeof *in);
    if (!in)
        return NULL;
    in[i++] = (gh_param){ "tenant_id", GH_T_STR, co->id, strlen(co->id) };
    in[i++] = (gh_param){ "tenant_slug", GH_T_STR, co->slug, strlen(co->slug) };
    in[i++] = (gh_param){ "tenant_name", GH_T_STR, co->name, strlen(co->name) };
    strcpy(copy, j->resources);
    char *save = NULL;
    for (char *t = strtok_r(copy, "\n", &save); t && i <= n; t = strtok_r(NULL, "\n", &save))
        in[i++] = (gh_param){ "resource", GH_T_STR, t, strlen(t) };
    return in;
}

/* The op's results into so: every resource (the full list), the state,
 * and how long to wait. GH_ERR_INTERNAL for an answer out of contract. */
static gh_result step_read(const gh_out *out, int deprov, gh_call *call, step_out *so)
{
    size_t len = 0;
    const gh_param *p;
    for (size_t i = 0; (p = out_get(out, "resource", i)); i++) {
        if (p->type != GH_T_STR || !p->len || memchr(p->data, '\n', p->len) ||
            len + p->len + 2 > sizeof so->resources)
            return call_fail(call, GH_ERR_INTERNAL, "cloud plugin: a bad or too long resource");
        memcpy(so->resources + len, p->data, p->len);
        len += p->len;
        so->resources[len++] = '\n';
    }
    so->resources[len] = '\0';
    p = out_get(out, "state", 0);
    const char *more = deprov ? "deprovisioning" : "provisioning";
    const char *done = deprov ? "deleted" : "active";
    if (!p || p->type != GH_T_STR || p->len >= sizeof so->state)
        return call_fail(call, GH_ERR_INTERNAL, "cloud plugin: no state in its answer");
    memcpy(so->state, p->data, p->len);
    so->state[p->len] = '\0';
    if (strcmp(so->state, more) != 0 && strcmp(so->state, done) != 0)
        return call_fail(call, GH_ERR_INTERNAL, "cloud plugin: state '%s' is neither %s nor %s",
                         so->state, more, done);
    p = out_get(out, "retry_after_ms", 0);
    so->retry_after_ms = p && p->type == GH_T_INT ? *(const int64_t *)p->data : 0;
    return GH_OK;
}

/* One call of provision or deprovision for j. */
static gh_result step(gh_provisioner *p, gh_conn *c, const gh_provisioning *j, int deprov,
                      gh_call *call, step_out *so)
{
    const gh_cloud_ops *ops = p->pl.snd.plugin->desc->ops;
    gh_op op = !deprov && GH_OPS_HAS(gh_cloud_ops, ops, provision)     ? ops->provision
               : deprov && GH_OPS_HAS(gh_cloud_ops, ops, deprovision) ? ops->deprovision
                                                                       : NULL;
    gh_company co;
    gh_call read;
    call_init(&read, NULL, NULL, 30000);
    gh_result r = companies_get(c, &read, j->tenant_id, &co);
    if (r != GH_OK)
        return call_fail(call, r, "provisioning: company %s: cannot read it: %s", j->tenant_id,
                         read.message);
    if (!op)
        return call_fail(call, GH_ERR_UNSUPPORTED, "cloud plugin: no %s op",
                         deprov ? "deprovision" : "provision");
    char *copy = malloc(PROV_RESOURCES_MAX);
    gh_param *in = copy ? step_in(j, &co, copy) : NULL;
    gh_out *out = in ? out_new() : NULL;
    if (!out)
        r = call_fail(call, GH_ERR_NOMEM, "provisioning: out of memory");
    else if ((r = op(p->pl.snd.plugin->inst, p->pl.snd.tinst, call, in, out)) == GH_OK)
        r = step_read(out, deprov, call, so);
    out_free(out);
    free(in);
    free(copy);
    return r;
}

/* ---------------------------------------------------------------- a job */

/* After the last try, or a permanent error: roll back what a provisioning
 * made, or keep it (on_failure: keep) and stop; a deprovisioning stops.
 * The audit action for the change, or NULL. */
static const char *give_up(const gh_provisioner *p, gh_provisioning *j, int deprov,
                           int64_t now)
{
    if (!deprov && !p->keep) {
        strcpy(j->state, "deprovisioning");
        j->undo = 1;
        j->attempts = 0;
        j->next_attempt_at = now;
        return NULL;
    }
    strcpy(j->state, "failed");
    j->undo = 0;
    return "provisioning.failed";
}

/* What the step's answer makes of j; the audit action, or NULL. */
static const char *settle(const gh_provisioner *p, gh_provisioning *j, int deprov, gh_result r,
                          const gh_call *call, const step_out *so, int64_t now)
{
    if (r != GH_OK) {
        snprintf(j->last_error, sizeof j->last_error, "%s",
                 call->message[0] ? call->message : gh_result_str(r));
        j->attempts++;
        if (!transient(r) || j->attempts > p->retry.max_attempts)
            return give_up(p, j, deprov, now);
        int64_t wait = sender_backoff(&p->retry, (int)j->attempts);
        j->next_attempt_at = now + (call->retry_after_ms > wait ? call->retry_after_ms : wait);
        return NULL;
    }
    strcpy(j->resources, so->resources);
    j->attempts = 0;
    j->next_attempt_at = now + (so->retry_after_ms > 0 ? so->retry_after_ms : 0);
    if (!j->undo) /* a rollback keeps the error that caused it */
        j->last_error[0] = '\0';
    if (!deprov && strcmp(so->state, "active") == 0) {
        strcpy(j->state, "active");
        return "provisioning.active";
    }
    if (deprov && strcmp(so->state, "deleted") == 0) {
        int undo = j->undo;
        strcpy(j->state, undo ? "failed" : "deprovisioned");
        j->undo = 0;
        return undo ? "provisioning.failed" : "provisioning.deprovisioned";
    }
    return NULL;
}

/* One step of a claimed job, recorded; when it is next due (ms, on
 * gh_now_ms's clock), or 0 when it is not running any more. */
static int64_t run_one(gh_provisioner *p, gh_conn *c, gh_provisioning *j)
{
    gh_call rec;
    call_init(&rec, NULL, NULL, 30000);
    if (strcmp(j->state, "pending") == 0) {
        strcpy(j->state, "provisioning");
        j->last_error[0] = '\0';
        if (provisioning_record(c, &rec, j, j->lease_until, "provisioning.started") != GH_OK) {
            gh_log(GH_LOG_ERROR, "provisioning: company %s: %s", j->tenant_id, rec.message);
            return 0;
        }
    }
    int deprov = strcmp(j->state, "deprovisioning") == 0;
    gh_call call;
    /* half the lease: a step that runs to its deadline is still recorded
     * before another instance may take the job over */
    call_init(&call, p->pl.snd.plugin, NULL, p->lease_ms / 2);
    call.tenant = j->tenant_id;
    call.attempt = j->attempts + 1;
    step_out so = { 0 };
    gh_result r = call_result(&call, step(p, c, j, deprov, &call, &so));
    int64_t now = gh_now_ms();
    const char *action = settle(p, j, deprov, r, &call, &so, now);
    call_init(&rec, NULL, NULL, 30000);
    if (provisioning_record(c, &rec, j, 0, action) != GH_OK) {
        gh_log(GH_LOG_ERROR, "provisioning: company %s: cannot record a step: %s", j->tenant_id,
               rec.message);
        return 0;
    }
    if (r != GH_OK)
        gh_log(GH_LOG_WARNING, "provisioning: company %s: %s step failed (try %lld): %s; "
               "now %s", j->tenant_id, deprov ? "deprovision" : "provision",
               (long long)call.attempt, j->last_error, j->state);
    else
        gh_log(GH_LOG_INFO, "provisioning: company %s: %s step: %s", j->tenant_id,
               deprov ? "deprovision" : "provision", j->state);
    return strcmp(j->state, "provisioning") == 0 || strcmp(j->state, "deprovisioning") == 0
               ? j->next_attempt_at : 0;
}

/* Claim what is due and run a step of each (the poller's poll): how many
 * ran, or -1 when the store failed (logged); *due_ms the soonest a job
 * is due again. */
static int poll_once(void *arg, gh_conn *c, int64_t *due_ms)
{
    gh_provisioner *p = arg;
    gh_provisioning *jobs = NULL;
    size_t n = 0;
    gh_call call;
    call_init(&call, NULL, NULL, 30000);
    *due_ms = 0;
    if (provisioning_claim(c, &call, gh_now_ms(), p->lease_ms, BATCH, &jobs, &n) != GH_OK) {
        gh_log(GH_LOG_ERROR, "provisioning: cannot read due jobs: %s", call.message);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t due = run_one(p, c, &jobs[i]);
        if (due && (!*due_ms || due < *due_ms))
            *due_ms = due;
    }
    free(jobs);
    return (int)n;
}

/* ---------------------------------------------------------------- the API */

static gh_loaded *find_plugin(const gh_config *cfg, const gh_plugins *ps, char *err,
                              size_t errlen)
{
    gh_loaded *p = plugins_find(ps, GH_KIND_CLOUD, cfg->onboarding_cloud.name);
    if (!p)
        snprintf(err, errlen, "onboarding.cloud: '%s' is not a cloud plugin",
                 cfg->onboarding_cloud.name);
    return p;
}

int provisioner_check(const gh_config *cfg, const gh_plugins *ps, char *err, size_t errlen)
{
    return !cfg->onboarding_cloud.name || find_plugin(cfg, ps, err, errlen) ? 0 : -1;
}

gh_provisioner *provisioner_new(const gh_config *cfg, const gh_plugins *ps,
                                const gh_outbox_thread *thread, char *err, size_t errlen)
{
    err[0] = '\0';
    if (!cfg->onboarding_cloud.name)
        return NULL;
    gh_loaded *pl = find_plugin(cfg, ps, err, errlen);
    gh_provisioner *p = pl ? calloc(1, sizeof *p) : NULL;
    if (!p) {
        if (pl)
            snprintf(err, errlen, "provisioning: out of memory");
        return NULL;
    }
    p->pl.snd.plugin = pl;
    if (thread)
        p->pl.snd.setup = *thread;
    p->retry = cfg->onboarding_retry;
    p->keep = cfg->onboarding_keep;
    p->lease_ms = cfg->onboarding_lease_ms;
    p->pl.poll_ms = cfg->onboarding_poll_ms;
    p->pl.batch = BATCH;
    p->pl.poll = poll_once;
    p->pl.arg = p;
    if (poller_launch(&p->pl, &slot) < 0) {
        snprintf(err, errlen, "provisioning: %.200s", p->pl.snd.err);
        free(p);
        return NULL;
    }
    gh_log(GH_LOG_INFO, "provisioning: through cloud plugin '%s'", pl->name);
    return p;
}

void provisioner_free(gh_provisioner *p)
{
    if (!p)
        return;
    poller_stop(&p->pl, &slot);
    free(p);
}

void provisioner_wake(void)
{
    poller_wake(&slot);
}
