/*
 * mfa_plugin.h - the core's side of the GH_KIND_MFA op contract
 * (<gatehouse/plugin.h>): which loaded plugin computes codes, and calling
 * its enroll and verify with a call of its own (its name in the log and
 * the metrics, the caller's deadline).
 *
 * The TOTP factor is the first loaded mfa plugin whose ops table has
 * verify: a factor that computes codes is the only kind that implements
 * it (an SMS plugin only sends), so the plugins list already says which,
 * and no second setting can disagree with it. The SMS factor likewise is
 * the first with challenge and without verify.
 */
#ifndef GH_AUTH_MFA_PLUGIN_H
#define GH_AUTH_MFA_PLUGIN_H

#include <stdint.h>
#include "auth/factors.h"
#include "plugin/loader.h"

/* The TOTP plugin, or NULL when none is loaded. */
const gh_loaded *mfa_plugin_totp(const gh_plugins *ps);

/* The SMS plugin, or NULL. */
const gh_loaded *mfa_plugin_sms(const gh_plugins *ps);

/* The mfa plugin named name whose inbound op exists, or NULL. */
const gh_loaded *mfa_plugin_inbound_of(const gh_plugins *ps, const char *name);

/* challenge: send text (which holds code) to destination. The plugin's
 * result as the contract says (INVALID, DENIED, UNAVAILABLE,
 * RATE_LIMITED with caller->retry_after_ms, TIMEOUT). */
gh_result mfa_plugin_challenge(const gh_loaded *p, gh_call *caller, const char *destination,
                               const char *text, const char *code);

/* inbound: in is the op's input (url, header*, param*), *status its
 * answer (204 when it puts none). */
gh_result mfa_plugin_inbound(const gh_loaded *p, gh_call *caller, const gh_param *in,
                             int *status);

/* enroll for account_name: the secret into f (secret, secret_len), the
 * otpauth URI and the SVG (malloc'd; the SVG NULL when the plugin makes
 * none). */
gh_result mfa_plugin_enroll(const gh_loaded *p, gh_call *caller, const char *user_id,
                            const char *account_name, gh_factor *f, char **uri, char **qr_svg);

/* verify code against f's secret, past f->last_counter: the time step it
 * matched into *counter. GH_ERR_DENIED: wrong, or not past it. */
gh_result mfa_plugin_verify(const gh_loaded *p, gh_call *caller, const gh_factor *f,
                            const char *code, int64_t *counter);

#endif
