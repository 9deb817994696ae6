/*
 * client_ip.c - the client's address behind trusted proxies: address
 * ranges, and the walk of X-Forwarded-For or Forwarded (RFC 7239). See
 * client_ip.h.
 *
 * Nothing here trusts the header's text: an address found in it is parsed
 * to binary and written back by inet_ntop, so what reaches the logs, the
 * audit records and the rate-limit keys is always a plain address.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "http/client_ip.h"

typedef struct addr {
    int v6;
    uint8_t b[16];
} addr;

typedef struct span {
    const char *p;
    size_t len;
} span;

/* What one entry of the list names. */
enum { NODE_BAD = -1, NODE_ADDR, NODE_HIDDEN };

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static int is_digit(int c) { return c >= '0' && c <= '9'; }

/* ::ffff:a.b.c.d is an IPv4 client on a dual-stack socket: one address,
 * one rate-limit key, whichever way it arrived. */
static void unmap(addr *a, int *bits)
{
    if (!a->v6 || memcmp(a->b, v4_mapped, sizeof v4_mapped) != 0 || (bits && *bits < 96))
        return;
    memmove(a->b, a->b + 12, 4);
    memset(a->b + 4, 0, 12);
    a->v6 = 0;
    if (bits)
        *bits -= 96;
}

/* s[0..len) as an IPv4 or IPv6 address, nothing around it. */
static int addr_parse(const char *s, size_t len, addr *a)
{
    char buf[CLIENT_IP_LEN];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, buf, a->b) == 1)
        return 0;
    if (inet_pton(AF_INET6, buf, a->b) != 1)
        return -1;
    a->v6 = 1;
    return 0;
}

static void addr_text(const addr *a, char out[CLIENT_IP_LEN])
{
    if (!inet_ntop(a->v6 ? AF_INET6 : AF_INET, a->b, out, CLIENT_IP_LEN))
        snprintf(out, CLIENT_IP_LEN, "-");
}

int client_ip_cidr_parse(const char *s, gh_cidr *out, const char **why)
{
    const char *slash = strchr(s, '/');
    size_t len = slash ? (size_t)(slash - s) : strlen(s);
    addr a;
    if (addr_parse(s, len, &a) < 0) {
        *why = "expected an IPv4 or IPv6 address, optionally with a /prefix length";
        return -1;
    }
    int max = a.v6 ? 128 : 32, bits = max;
    if (slash) {
        const char *p = slash + 1;
        size_t nd = strspn(p, "0123456789");
        bits = 0;
        for (size_t i = 0; i < nd && i < 3; i++)
            bits = bits * 10 + (p[i] - '0');
        if (nd == 0 || nd > 3 || p[nd] || bits > max) {
            *why = a.v6 ? "the prefix length must be 0..128" : "the prefix length must be 0..32";
            return -1;
        }
    }
    for (int i = bits; i < max; i++) {
        if (a.b[i / 8] & (0x80 >> (i % 8))) {
            *why = "the address has bits set after the prefix length: give the range's "
                   "first address (10.0.0.0/8, not 10.0.0.1/8)";
            return -1;
        }
    }
    unmap(&a, &bits);
    out->v6 = a.v6;
    memcpy(out->addr, a.b, sizeof out->addr);
    out->bits = bits;
    return 0;
}

static int in_range(const gh_cidr *c, const addr *a)
{
    if (c->v6 != a->v6)
        return 0;
    int full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr, a->b, (size_t)full) != 0)
        return 0;
    return !rest || (a->b[full] & (uint8_t)(0xff << (8 - rest))) == c->addr[full];
}

static int in_ranges(const gh_trusted_proxies *tp, const addr *a)
{
    for (size_t i = 0; i < tp->n; i++)
        if (in_range(&tp->v[i], a))
            return 1;
    return 0;
}

int client_ip_trusted(const gh_trusted_proxies *tp, const char *text)
{
    addr a;
    if (!tp->n || addr_parse(text, strlen(text), &a) < 0)
        return 0;
    unmap(&a, NULL);
    return in_ranges(tp, &a);
}

/* ------------------------------------------------------------ the list */

static span trim(const char *p, size_t len)
{
    while (len && (*p == ' ' || *p == '\t'))
        p++, len--;
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    return (span){ p, len };
}

/* The end of one element of a list separated by sep: the next sep outside
 * a quoted string when the header has them (RFC 9110 5.6.4, Forwarded; a
 * backslash quotes the next byte), or NULL when a quote is left open. */
static const char *element_end(const char *p, const char *end, int sep, int quotes)
{
    int quoted = 0;
    for (; p < end && (quoted || *p != sep); p++) {
        if (*p == '"' && quotes)
            quoted = !quoted;
        else if (*p == '\\' && quoted && p + 1 < end)
            p++;
    }
    return quoted ? NULL : p;
}

/* Every line's elements, in order, as one list, of which the last
 * CLIENT_IP_MAX_HOPS are kept: the walk starts at the right, and whoever
 * sits left of our proxies may write as many as they like there, which
 * must not turn their own address into the proxy's. Empty elements are
 * skipped (RFC 9110 5.6.1). -1 when a quote is left open. */
static int split(const char *const *lines, size_t n, int quotes, span *out, size_t *count,
                 const char **why)
{
    *count = 0;
    for (size_t l = 0; l < n; l++) {
        const char *p = lines[l], *end = p + strlen(p);
        while (p <= end) {
            const char *e = element_end(p, end, ',', quotes);
            if (!e) {
                *why = "a quoted string is not closed";
                return -1;
            }
            span s = trim(p, (size_t)(e - p));
            if (s.len && *count == CLIENT_IP_MAX_HOPS) {
                memmove(out, out + 1, (CLIENT_IP_MAX_HOPS - 1) * sizeof *out);
                (*count)--;
            }
            if (s.len)
                out[(*count)++] = s;
            p = e + 1;
        }
    }
    return 0;
}

/* ":1234", or with obf (RFC 7239 obfport) "_" and token characters. */
static int port_ok(const char *p, size_t len, int obf)
{
    if (len < 2 || p[0] != ':')
        return 0;
    if (obf && p[1] == '_') {
        if (len < 3)
            return 0;
        for (size_t i = 2; i < len; i++)
            if (!isalnum((unsigned char)p[i]) && !strchr("._-", p[i]))
                return 0;
        return 1;
    }
    if (len > 6)
        return 0;
    for (size_t i = 1; i < len; i++)
        if (!is_digit(p[i]))
            return 0;
    return 1;
}

/* An address with an optional port, as proxies write them: a.b.c.d,
 * a.b.c.d:port, a bare IPv6 address, [v6] or [v6]:port. */
static int node_addr(span s, addr *a, int obf_port)
{
    const char *p = s.p, *end = s.p + s.len;
    if (s.len && p[0] == '[') {
        const char *close = memchr(p, ']', s.len);
        if (!close || (close + 1 < end && !port_ok(close + 1, (size_t)(end - close - 1), obf_port)))
            return NODE_BAD;
        if (addr_parse(p + 1, (size_t)(close - p - 1), a) < 0 || !a->v6)
            return NODE_BAD;
        unmap(a, NULL);
        return NODE_ADDR;
    }
    const char *colon = memchr(p, ':', s.len);
    size_t len = s.len;
    /* one colon: an IPv4 address and its port; more: a bare IPv6 address */
    if (colon && !memchr(colon + 1, ':', (size_t)(end - colon - 1))) {
        if (!port_ok(colon, (size_t)(end - colon), obf_port))
            return NODE_BAD;
        len = (size_t)(colon - p);
    }
    if (addr_parse(p, len, a) < 0 || (len != s.len && a->v6))
        return NODE_BAD;
    unmap(a, NULL);
    return NODE_ADDR;
}

/* RFC 7239 6: "unknown", or an obfuscated identifier "_x". */
static int node_hidden(span s)
{
    if (s.len == 7 && strncasecmp(s.p, "unknown", 7) == 0)
        return 1;
    if (s.len < 2 || s.p[0] != '_')
        return 0;
    for (size_t i = 1; i < s.len; i++)
        if (!isalnum((unsigned char)s.p[i]) && !strchr("._-", s.p[i]))
            return 0;
    return 1;
}

/* One Forwarded element's for= value, unquoted. An element without one
 * is a hop that did not say who its client was: hidden. */
static int forwarded_for(span el, span *value)
{
    const char *p = el.p, *end = el.p + el.len;
    int found = 0;
    while (p <= end) {
        const char *e = element_end(p, end, ';', 1);
        if (!e)
            return -1;
        span pair = trim(p, (size_t)(e - p));
        p = e + 1;
        if (!pair.len)
            continue; /* RFC 7239 4: a pair may be empty */
        const char *eq = memchr(pair.p, '=', pair.len);
        if (!eq || eq == pair.p)
            return -1;
        if (eq - pair.p == 3 && strncasecmp(pair.p, "for", 3) == 0) {
            span v = { eq + 1, (size_t)(pair.p + pair.len - eq - 1) };
            if (found++ || !v.len)
                return -1;
            if (v.p[0] == '"') {
                /* an address never needs a quoted-pair: one is garbage */
                if (v.len < 2 || v.p[v.len - 1] != '"' || memchr(v.p, '\\', v.len))
                    return -1;
                v = (span){ v.p + 1, v.len - 2 };
            }
            *value = v;
        }
    }
    return found;
}

static int entry_node(int header, span s, addr *a)
{
    if (header == CLIENT_IP_HDR_XFF)
        return node_addr(s, a, 0);
    span v;
    int found = forwarded_for(s, &v);
    if (found < 0)
        return NODE_BAD;
    if (!found || node_hidden(v))
        return NODE_HIDDEN;
    return node_addr(v, a, 1);
}

client_ip_how client_ip_derive(const gh_trusted_proxies *tp, const char *peer,
                               const char *const *lines, size_t n, char out[CLIENT_IP_LEN],
                               const char **why)
{
    const char *unused;
    span e[CLIENT_IP_MAX_HOPS];
    size_t ne;
    why = why ? why : &unused;
    snprintf(out, CLIENT_IP_LEN, "%s", peer);
    if (!client_ip_trusted(tp, peer))
        return CLIENT_IP_PEER;
    if (split(lines, n, tp->header == CLIENT_IP_HDR_FORWARDED, e, &ne, why) < 0)
        return CLIENT_IP_MALFORMED;
    if (ne == 0)
        return CLIENT_IP_PEER;
    /* the nearest hop known so far: the peer, then each trusted address */
    char hop[CLIENT_IP_LEN];
    snprintf(hop, sizeof hop, "%s", peer);
    for (size_t i = ne; i-- > 0;) {
        addr a;
        int node = entry_node(tp->header, e[i], &a);
        if (node == NODE_BAD) {
            *why = "an entry is not an address";
            return CLIENT_IP_MALFORMED;
        }
        if (node == NODE_HIDDEN) {
            memcpy(out, hop, CLIENT_IP_LEN);
            return CLIENT_IP_HIDDEN;
        }
        addr_text(&a, hop);
        if (!in_ranges(tp, &a))
            break;
    }
    /* the first untrusted address; all trusted: the leftmost */
    memcpy(out, hop, CLIENT_IP_LEN);
    return CLIENT_IP_FORWARDED;
}
