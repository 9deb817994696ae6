/*
 * mfa_conf.h - the limits of second factors (auth.mfa in the config).
 * Apart from mfa.h so that config.h can hold them without the store.
 */
#ifndef GH_MFA_CONF_H
#define GH_MFA_CONF_H

#include <stdint.h>

typedef struct gh_mfa_conf {
    int64_t token_ttl_ms;     /* an mfa_token's life */
    int token_tries;          /* wrong codes per mfa_token before the
                                 sign-in must start again */
    int64_t sms_code_ttl_ms;  /* an SMS code's life */
    int sms_code_tries;       /* guesses per SMS code */
    int sms_send_limit;       /* codes sent a minute, per account and per phone */
    int sms_verify_limit;     /* codes tried a minute, likewise */
    int64_t recent_signin_ms; /* enrolling a factor needs a sign-in this
                                 recent (the session's start) */
} gh_mfa_conf;

#endif
