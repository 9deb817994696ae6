/*
 * oauth_plugin.h - the core's side of the GH_KIND_OAUTH op contract
 * (<gatehouse/plugin.h>): the provider instance a URL names, and its
 * authorize_url and exchange ops in a call of their own (the instance's
 * name in the log and the metrics, the caller's deadline).
 */
#ifndef GH_AUTH_OAUTH_PLUGIN_H
#define GH_AUTH_OAUTH_PLUGIN_H

#include "plugin/loader.h"

/* The oauth plugin instance configured as name, or NULL. */
const gh_loaded *oauth_plugin_of(const gh_plugins *ps, const char *name);

/* The provider's authorization URL (malloc'd) into *url. */
gh_result oauth_plugin_authorize(const gh_loaded *p, gh_call *caller, const char *redirect_uri,
                                 const char *state, const char *nonce,
                                 const char *code_challenge, char **url);

/* What the provider says of the user (malloc'd strings, NULL: not given). */
typedef struct oauth_profile {
    char *subject, *email, *name, *given_name, *family_name;
    int email_verified;
} oauth_profile;

void oauth_profile_clear(oauth_profile *pr);

/* Redeem code: iss is the authorization response's (RFC 9207), NULL when
 * it had none. DENIED: the provider or the plugin refused it (the reason
 * in the log); UNAVAILABLE, UPSTREAM, TIMEOUT: the provider. */
gh_result oauth_plugin_exchange(const gh_loaded *p, gh_call *caller, const char *code,
                                const char *redirect_uri, const char *code_verifier,
                                const char *nonce, const char *iss, oauth_profile *pr);

#endif
