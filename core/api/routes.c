/*
 * routes.c - every HTTP route the daemon serves, in one table, so what the
 * API exposes is visible at a glance.
 */
#include "api/api.h"

int api_register(gh_router *r)
{
    return health_register(r);
}
