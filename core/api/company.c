/*
 * company.c - the company of a request without an access token (company.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "api/company.h"
#include "api/input.h"
#include "auth/companies.h"

/* The Host header's name, lower case, without a port, into buf. */
static void host_name(const gh_req *req, char *buf, size_t len)
{
    const char *h = req_header(req, "Host");
    size_t n = 0;

    for (; h && *h && *h != ':' && n + 1 < len; h++)
        buf[n++] = (char)tolower((unsigned char)*h);
    buf[n] = '\0';
}

int api_company_pick(gh_req *req, api_job *j)
{
    const char *slug = NULL;
    char host[256];

    if (input_string(req, j->in, "company", INPUT_OPTIONAL, COMPANY_SLUG_MAX + 64, &slug) < 0) {
        api_job_free(j);
        return -1;
    }
    if (slug && !company_slug_valid(slug)) {
        input_reject(req, "invalid_company", "company", "is not a company slug.");
        api_job_free(j);
        return -1;
    }
    if (!slug) {
        host_name(req, host, sizeof host);
        for (size_t i = 0; !slug && i < j->cfg->n_company_hosts; i++)
            if (strcmp(j->cfg->company_hosts[i].host, host) == 0)
                slug = j->cfg->company_hosts[i].slug;
    }
    snprintf(j->company_slug, sizeof j->company_slug, "%s",
             slug ? slug : j->cfg->company_default);
    return 0;
}

int api_company_resolve(api_job *j, gh_conn *c)
{
    gh_result r;

    if (!j->company_slug[0])
        return 0;
    r = companies_find(c, &j->call, j->company_slug, &j->company);
    if (r == GH_OK && j->company.is_active) {
        j->call.tenant = j->company.id;
        return 0;
    }
    memset(&j->company, 0, sizeof j->company);
    if (r != GH_OK && r != GH_ERR_NOT_FOUND)
        api_store_fail(j, r, "company lookup");
    else if (j->flags & API_OAUTH)
        api_fail(j, 400, "invalid_grant", "No such company.");
    else
        api_fail(j, 404, "company_not_found", "No such company.");
    return -1;
}
