/*
 * host_driver.c - the host table's services for storage and kv drivers: a
 * monotonic clock and URLs split and redacted (the deadline budget of one
 * wait is the core's call_left_ms). Each network driver used to carry its own copy of these, and
 * the copies had drifted; one tested copy here is what they share now.
 *
 * URLs are never quoted in a message: they may hold a password.
 */
#include <stdio.h>
#include <string.h>
#include "clock.h"
#include "plugin/host.h"

int64_t host_mono_ms(void)
{
    return gh_monotonic_ms();
}

/* [s, s + n) percent-decoded into dst (size dstlen); -1 when it does not
 * fit, has a bad escape or decodes to a NUL. */
static int pct_decode(char *dst, size_t dstlen, const char *s, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];

        if (c == '%') {
            int hi = n - i >= 3 ? host_hex_value(s[i + 1]) : -1;
            int lo = n - i >= 3 ? host_hex_value(s[i + 2]) : -1;

            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == 0 || o + 1 >= dstlen)
            return -1;
        dst[o++] = (char)c;
    }
    dst[o] = '\0';
    return 0;
}

static int copy_part(char *dst, size_t dstlen, const char *s, size_t n)
{
    if (n >= dstlen)
        return -1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

#define BAD(what) gh_host_table.fail(call, GH_ERR_INVALID, "url: %s", what)

gh_result host_url_parse(gh_call *call, const char *url, gh_url *out)
{
    const char *p, *auth_end, *at = NULL, *hp, *q;
    size_t n;

    if (out == NULL || out->size < sizeof(gh_url))
        return gh_host_table.fail(call, GH_ERR_INTERNAL, "url: the caller's gh_url is too small");
    memset((char *)out + sizeof(out->size), 0, sizeof(gh_url) - sizeof(out->size));
    if (url == NULL || (p = strstr(url, "://")) == NULL || p == url)
        return BAD("expected scheme://...");
    if (copy_part(out->scheme, sizeof(out->scheme), url, (size_t)(p - url)) < 0)
        return BAD("the scheme is too long");
    for (char *c = out->scheme; *c; c++) {
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
        else if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '+' ||
                   *c == '-' || *c == '.'))
            return BAD("bad scheme");
    }
    p += 3;
    if (strchr(p, '#') != NULL)
        return BAD("a fragment (#) has no meaning here; write # in a password as %23");
    /* the authority ends at the path or query; its userinfo at the last
     * '@', since a password may hold an unescaped '@' */
    auth_end = p + strcspn(p, "/?#");
    for (const char *c = p; c < auth_end; c++)
        if (*c == '@')
            at = c;
    if (at != NULL) {
        const char *colon = memchr(p, ':', (size_t)(at - p));

        n = (size_t)((colon ? colon : at) - p);
        if (pct_decode(out->user, sizeof(out->user), p, n) < 0)
            return BAD("the user name is malformed or too long");
        if (colon != NULL &&
            pct_decode(out->password, sizeof(out->password), colon + 1,
                       (size_t)(at - colon - 1)) < 0)
            return BAD("the password is malformed or too long");
        p = at + 1;
    }
    hp = p;
    if (*hp == '[') {
        const char *rb = memchr(hp, ']', (size_t)(auth_end - hp));

        if (rb == NULL || rb == hp + 1 ||
            copy_part(out->host, sizeof(out->host), hp + 1, (size_t)(rb - hp - 1)) < 0)
            return BAD("bad [IPv6] host");
        p = rb + 1;
    } else {
        n = strcspn(hp, ":/?#");
        if (hp + n > auth_end)
            n = (size_t)(auth_end - hp);
        if (copy_part(out->host, sizeof(out->host), hp, n) < 0)
            return BAD("the host is too long");
        p = hp + n;
    }
    if (*p == ':') {
        long port = 0;

        n = (size_t)(auth_end - p - 1);
        for (size_t i = 1; i <= n && port <= 65535; i++)
            port = p[i] >= '0' && p[i] <= '9' ? port * 10 + (p[i] - '0') : 65536;
        if (n == 0 || port < 1 || port > 65535)
            return BAD("the port must be 1 to 65535");
        out->port = (int32_t)port;
        p = auth_end;
    }
    if (p != auth_end)
        return BAD("bad host");
    q = p + strcspn(p, "?");
    if (pct_decode(out->path, sizeof(out->path), p, (size_t)(q - p)) < 0)
        return BAD("the path is malformed or too long");
    if (*q == '?' && copy_part(out->query, sizeof(out->query), q + 1, strlen(q + 1)) < 0)
        return BAD("the query is too long");
    return GH_OK;
}

void host_url_redact(const char *url, char *buf, size_t len)
{
    const char *p, *auth_end, *at = NULL, *colon;

    if (buf == NULL || len == 0)
        return;
    if (url == NULL || (p = strstr(url, "://")) == NULL) {
        /* not a URL: it may be a key=value string; show nothing of it */
        snprintf(buf, len, "%s", url && strchr(url, '=') == NULL ? url : "(not shown)");
        return;
    }
    p += 3;
    auth_end = p + strcspn(p, "/?#");
    for (const char *c = p; c < auth_end; c++)
        if (*c == '@')
            at = c;
    if (at == NULL || (colon = memchr(p, ':', (size_t)(at - p))) == NULL) {
        snprintf(buf, len, "%s", url);
        return;
    }
    snprintf(buf, len, "%.*s***%s", (int)(colon + 1 - url), url, at);
}
