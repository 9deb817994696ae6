/*
 * routes.c - every HTTP route the daemon serves, in one table, so what the
 * API exposes is visible at a glance.
 *
 *   (each path may also end in one "/": router.c)
 *   GET    /  /health  /health/ready  /metrics                  health.c
 *   POST   /api/v1/auth/{signup,login,refresh,logout,change-password}  auth.c
 *   GET PUT DELETE /api/v1/users/me                              users.c
 *   GET DELETE /api/v1/users/me/sessions, DELETE .../sessions/{id},
 *   GET    /api/v1/users/me/login-history                        sessions.c
 *   GET    /api/v1/users, GET PUT DELETE /api/v1/users/{id},
 *   POST   /api/v1/users/{id}/{activate,deactivate},
 *   GET    /api/v1/sessions, DELETE /api/v1/sessions/{id},
 *   GET    /api/v1/audit-events                                  admin.c
 *   GET POST /api/v1/companies, GET PUT DELETE .../companies/{id}  companies.c
 *   GET POST /api/v1/{resources,permissions,roles}, .../{id}, grants,
 *   users' roles and permissions, POST /api/v1/authz/check         rbac.c
 *   POST   /oauth2/{token,introspect,revoke}                     oauth2.c
 *   GET    /.well-known/{jwks.json,openid-configuration}         wellknown.c
 *   POST   /api/v1/auth/{verify-email,verify-email/resend,
 *                        password-reset-request,password-reset}  mailflow.c
 *   GET    /api/v1/users/me/mfa, POST .../mfa/{totp,recovery-codes},
 *   POST   .../mfa/{id}/confirm, DELETE .../mfa/{id},
 *   POST   /api/v1/auth/mfa/verify, DELETE /api/v1/users/{id}/mfa  mfa.c
 *   POST   /api/v1/users/me/mfa/sms, /api/v1/auth/mfa/challenge,
 *   POST   /api/v1/users/me/phone/{verify,confirm},
 *   POST   /api/v1/mfa/{name}/callback                           mfa_sms.c
 *   GET    /api/v1/oauth/{name}, .../{name}/callback,
 *   POST   /api/v1/oauth/exchange, GET /api/v1/users/me/identities,
 *   POST   .../identities/{name}, DELETE .../identities/{id}       oauth.c
 *   POST   /api/v1/webhooks/{integration_type},
 *   GET    /api/v1/webhooks/events, .../events/{id}              webhooks.c
 *   GET POST /api/v1/webhooks/subscriptions[/{id}...]  webhook_subscriptions.c
 *   GET    /openapi.json, /docs, /docs/{file}                    docs.c
 *   POST   /api/v1/onboard, GET /api/v1/customer/me,
 *   GET DELETE /api/v1/companies/{id}/provisioning, POST .../retry   onboard.c
 */
#include "api/api.h"

int api_register(gh_router *r)
{
    int (*const parts[])(gh_router *) = {
        health_register, auth_register, users_register, sessions_register,
        admin_register, companies_register, rbac_register, oauth2_register, wellknown_register,
        mailflow_register, mfa_register, mfa_sms_register, oauth_register, clients_register,
        integrations_register, webhooks_register, webhook_subscriptions_register,
        docs_register,
        onboard_register,
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (parts[i](r) != 0)
            return -1;
    return 0;
}
