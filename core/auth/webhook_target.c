/*
 * webhook_target.c - may a subscription's URL be a target? Checked when a
 * subscription is made or changed; the outbound HTTP module checks the
 * address again at every delivery, where the connection is made (a name
 * may resolve elsewhere by then). See webhooks.h.
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include "auth/webhooks.h"
#include "plugin/addr_public.h"

static int refuse(char *why, size_t whylen, const char *reason)
{
    snprintf(why, whylen, "%s", reason);
    return -1;
}

/* 1 when the resolved address is not on the public Internet. */
static int private_addr(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return addr_v4_private(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
    if (sa->sa_family == AF_INET6)
        return addr_v6_private(((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
    return 1;
}

/* The host of url (after its scheme) into host: a name, an IPv4 address
 * or a bracketed IPv6 one (without the brackets). 0, or -1. */
static int host_of(const char *rest, char *host, size_t len)
{
    size_t n = strcspn(rest, "/?#");
    const char *end;
    if (memchr(rest, '@', n)) /* credentials in a URL end up in logs */
        return -1;
    if (rest[0] == '[') {
        end = memchr(rest, ']', n);
        if (!end || (end[1] != ':' && end + 1 != rest + n))
            return -1;
        rest++;
    } else {
        end = memchr(rest, ':', n);
        if (!end)
            end = rest + n;
    }
    size_t hl = (size_t)(end - rest);
    if (hl == 0 || hl >= len)
        return -1;
    memcpy(host, rest, hl);
    host[hl] = '\0';
    return 0;
}

int webhook_target_check(const char *url, int allow_http, int allow_private, char *why,
                         size_t whylen)
{
    char host[256];
    size_t skip;
    if (!url || strlen(url) >= WEBHOOK_URL_MAX)
        return refuse(why, whylen, "must be a URL shorter than 2048 characters.");
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return refuse(why, whylen, "must be a URL without spaces or control characters.");
    if (strncmp(url, "https://", 8) == 0)
        skip = 8;
    else if (strncmp(url, "http://", 7) == 0 && allow_http)
        skip = 7;
    else if (strncmp(url, "http://", 7) == 0)
        return refuse(why, whylen, "must be an https URL (webhooks.allow_http is off).");
    else
        return refuse(why, whylen, "must be an https URL.");
    if (host_of(url + skip, host, sizeof host) < 0)
        return refuse(why, whylen, "must name a host, without credentials.");
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
        return refuse(why, whylen, "names a host that does not resolve.");
    int refused = 0;
    for (struct addrinfo *a = res; a && !allow_private; a = a->ai_next)
        refused |= private_addr(a->ai_addr);
    freeaddrinfo(res);
    if (refused)
        return refuse(why, whylen, "resolves to a loopback, private, link-local or other "
                      "non-public address (webhooks.allow_private_targets is off).");
    return 0;
}
