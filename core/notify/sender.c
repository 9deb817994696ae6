/*
 * sender.c - a notify sender thread's set-up and backoff. See sender.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <openssl/crypto.h>
#include "notify/sender.h"
#include "out.h"
#include "plugin/host.h"

int sender_thread_start(gh_sender *s)
{
    const gh_plugin *d = s->plugin->desc;
    if (s->setup.start) {
        char why[sizeof s->err - 32];
        if (s->setup.start(s->setup.ud, why, sizeof why) < 0) {
            snprintf(s->err, sizeof s->err, "sender thread: %s", why);
            return -1;
        }
        s->tinst = plugin_tinst(s->plugin); /* the hooks ran its thread_init */
        return 0;
    }
    if (d->thread_size && !(s->tinst = calloc(1, d->thread_size))) {
        snprintf(s->err, sizeof s->err, "out of memory");
        return -1;
    }
    if (!d->thread_init)
        return 0;
    gh_call call;
    call_init(&call, s->plugin, NULL, 30000);
    const gh_node *saved = host_cfg_scope(s->plugin->options);
    gh_result r = d->thread_init(s->plugin->inst, s->tinst, &call);
    host_cfg_scope(saved);
    if (r == GH_OK)
        return 0;
    free(s->tinst);
    s->tinst = NULL;
    snprintf(s->err, sizeof s->err, "plugin '%.64s': thread_init: %.100s", s->plugin->name,
             call.message[0] ? call.message : gh_result_str(r));
    return -1;
}

void sender_thread_stop(gh_sender *s)
{
    const gh_plugin *d = s->plugin->desc;
    if (s->setup.start) {
        s->setup.stop(s->setup.ud);
        s->tinst = NULL;
        return;
    }
    if (d->thread_fini)
        d->thread_fini(s->plugin->inst, s->tinst);
    if (s->tinst)
        OPENSSL_cleanse(s->tinst, d->thread_size);
    free(s->tinst);
    s->tinst = NULL;
}

int64_t sender_backoff(const gh_outbox_conf *c, int attempts)
{
    int64_t d = c->retry_delay_ms;
    for (int i = 1; i < attempts && d < c->retry_max_delay_ms; i++)
        d = d > c->retry_max_delay_ms / 2 ? c->retry_max_delay_ms : d * 2;
    return d < c->retry_max_delay_ms ? d : c->retry_max_delay_ms;
}
