/*
 * api.h - the HTTP resources. Each file maps one resource between HTTP and
 * the services below; api_register() puts every route in the router.
 */
#ifndef GH_API_H
#define GH_API_H

#include "http/router.h"

int api_register(gh_router *r);

/* health.c */
int health_register(gh_router *r);

#endif
