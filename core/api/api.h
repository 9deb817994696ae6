/*
 * api.h - the HTTP resources. Each file maps one resource between HTTP and
 * the services below; api_register() puts every route in the router.
 */
#ifndef GH_API_H
#define GH_API_H

#include "http/router.h"

int api_register(gh_router *r);

/* Each returns non-zero if a route could not be added. */
int health_register(gh_router *r);    /* health.c: /health, /metrics */
int auth_register(gh_router *r);      /* auth.c: /api/v1/auth/... */
int users_register(gh_router *r);     /* users.c: /api/v1/users/me */
int sessions_register(gh_router *r);  /* sessions.c: /api/v1/users/me/sessions, login history */
int admin_register(gh_router *r);     /* admin.c: /api/v1/users, /api/v1/audit-events */
int companies_register(gh_router *r); /* companies.c: /api/v1/companies */
int rbac_register(gh_router *r);      /* rbac.c: roles, permissions, resources, authz/check */
int oauth2_register(gh_router *r);    /* oauth2.c: /oauth2/token, introspect, revoke */
int wellknown_register(gh_router *r); /* wellknown.c: /.well-known/... */
int clients_register(gh_router *r);   /* clients.c: /api/v1/clients */
int integrations_register(gh_router *r); /* integrations.c: /api/v1/integrations */
int webhook_subscriptions_register(gh_router *r); /* webhook_subscriptions.c */
int mailflow_register(gh_router *r);  /* mailflow.c: verify-email, password-reset */
int mfa_register(gh_router *r);       /* mfa.c: second factors, /auth/mfa/verify */
int mfa_sms_register(gh_router *r);   /* mfa_sms.c: SMS codes, plugin callbacks */
int oauth_register(gh_router *r);     /* oauth.c: social sign-in, linked identities */
int webhooks_register(gh_router *r);  /* webhooks.c: incoming webhooks, their events */
int docs_register(gh_router *r);      /* docs.c: /openapi.json, /docs */
int onboard_register(gh_router *r);   /* onboard.c: onboarding, customer/me, provisioning */

#endif
