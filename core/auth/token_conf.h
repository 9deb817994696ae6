/*
 * token_conf.h - what the access tokens we issue and accept say about us
 * (tokens.issuer, tokens.audience, tokens.access_ttl), embedded in
 * gh_config as cfg->tokens: callers pass &cfg->tokens. Needs nothing but
 * <stdint.h>, so config.h can include it.
 */
#ifndef GH_TOKEN_CONF_H
#define GH_TOKEN_CONF_H

#include <stdint.h>

typedef struct gh_token_conf {
    char *issuer;       /* `iss`; default: server.public_url */
    char *audience;     /* `aud`; default "gatehouse" */
    int64_t ttl_s;      /* derived: tokens.access_ttl in seconds */
    int permissions_claim; /* tokens.permissions_claim: the effective
                              permissions in every access token */
} gh_token_conf;

#endif
