/*
 * http_client.h - between the host and gatehouse-http.so, the module that
 * carries host->http (host_http.c, over libcurl). The host loads it the
 * first time a plugin makes a request, so libcurl and the libraries it
 * pulls in are mapped only by servers that use outbound HTTP.
 */
#ifndef GH_HTTP_CLIENT_H
#define GH_HTTP_CLIENT_H

#include <stddef.h>
#include <gatehouse/plugin.h>

#define GH_HTTP_MODULE "gatehouse-http.so"
#define GH_HTTP_ENTRY "gatehouse_http_client_v1"

typedef struct gh_http_client {
    /* host->http, with the same contract (include/gatehouse/plugin.h);
     * v1_0: the caller is a plugin built against ABI 1.0, which keeps
     * 1.0's rules */
    gh_result (*request)(gh_call *call, const gh_param *req, int v1_0, gh_out *resp);
    void (*cleanup)(void); /* once, at exit */
} gh_http_client;

/* The module's one export: NULL with err set when it cannot start. */
typedef const gh_http_client *(*gh_http_entry_fn)(const gh_host *host, char *err,
                                                  size_t errlen);
GH_EXPORT const gh_http_client *gatehouse_http_client_v1(const gh_host *host, char *err,
                                                         size_t errlen);

#endif
