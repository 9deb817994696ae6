/*
 * provisioner.h - the thread that provisions companies in the cloud
 * (onboarding.cloud, a plugin of kind cloud: docs/plugin-abi.md).
 *
 * The jobs wait in the store (auth/provisioning.h), not in memory: they
 * survive a restart, and several instances share them (each claims a job
 * for onboarding.lease before it runs one step). The thread polls every
 * onboarding.poll_interval, and at once when a request has just made or
 * changed a job (provisioner_wake). Each step is one call of the plugin's
 * provision or deprovision op, never on a request path; what it returns
 * is recorded before the next step. Transient errors (rate limited,
 * unavailable, timeout, upstream) are retried with backoff up to
 * onboarding.retries; after that, or at once for a permanent one, the job
 * rolls back or keeps what it made (onboarding.on_failure). Log lines
 * name the company and the plugin's message, which names the operation
 * and the provider's request id, never a key.
 */
#ifndef GH_PROVISIONER_H
#define GH_PROVISIONER_H

#include <stddef.h>
#include "config.h"
#include "notify/outbox.h"
#include "plugin/loader.h"

typedef struct gh_provisioner gh_provisioner;

/* NULL with err empty: onboarding.cloud is not set (companies onboard
 * without provisioning); NULL with err set: it is, and cannot start.
 * thread: the thread's setup, as for the mail outbox (outbox_new). */
gh_provisioner *provisioner_new(const gh_config *cfg, const gh_plugins *ps,
                                const gh_outbox_thread *thread, char *err, size_t errlen);
/* Stop after the step in flight; its job's lease runs out and the job is
 * resumed by the next start or another instance. */
void provisioner_free(gh_provisioner *p);
/* What provisioner_new checks, without starting anything (-t). */
int provisioner_check(const gh_config *cfg, const gh_plugins *ps, char *err, size_t errlen);

/* Any thread: a job was just made or changed; poll soon. No provisioner:
 * no-op. */
void provisioner_wake(void);

#endif
