/*
 * fuzz_client_ip.c - the forwarding headers a trusted proxy passes on
 * (http/client_ip.c), in which the client writes everything left of the
 * proxy's own entry. The input: a first byte choosing the header (its low
 * bit: X-Forwarded-For or Forwarded), then header lines separated by
 * '\n'; the first line is also tried as a trusted_proxies range.
 *
 * What must hold, besides no crash: from an untrusted peer the header is
 * never read; a refused header gives the peer; a client taken from the
 * header is a plain address (inet_pton reads it back, nothing of the
 * header's text around it); a hidden hop gives a trusted address; and a
 * range accepted from the config holds its own first address.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "http/client_ip.h"
#include "fuzz.h"

#define MAX_LINES (CLIENT_IP_MAX_HOPS + 8) /* more than the walk keeps */
#define PEER "10.0.0.1"

static gh_cidr ranges[3];
static gh_trusted_proxies tp = { .v = ranges };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const list[] = { "10.0.0.0/8", "2001:db8::/32", "::ffff:192.0.2.0/120" };
    const char *why;
    (void)argc;
    (void)argv;
    for (size_t i = 0; i < sizeof list / sizeof *list; i++)
        if (client_ip_cidr_parse(list[i], &ranges[tp.n++], &why) < 0)
            abort();
    return 0;
}

static int is_address(const char *s)
{
    unsigned char b[16];
    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/* A range accepted holds the address it starts at. */
static void range_holds_itself(const char *text)
{
    gh_cidr c;
    const char *why = NULL;
    char first[CLIENT_IP_LEN];
    if (client_ip_cidr_parse(text, &c, &why) < 0) {
        if (!why)
            abort();
        return;
    }
    gh_trusted_proxies one = { .v = &c, .n = 1 };
    if (!inet_ntop(c.v6 ? AF_INET6 : AF_INET, c.addr, first, sizeof first) ||
        !client_ip_trusted(&one, first))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char *text = fuzz_text(data + 1, size - 1), out[CLIENT_IP_LEN];
    const char *lines[MAX_LINES];
    size_t n = 0;
    for (char *p = text; p && n < MAX_LINES;) {
        lines[n++] = p;
        if ((p = strchr(p, '\n')))
            *p++ = '\0';
    }
    range_holds_itself(lines[0]);
    tp.header = data[0] & 1 ? CLIENT_IP_HDR_FORWARDED : CLIENT_IP_HDR_XFF;

    if (client_ip_derive(&tp, "198.51.100.1", lines, n, out, NULL) != CLIENT_IP_PEER ||
        strcmp(out, "198.51.100.1") != 0)
        abort();
    const char *why = NULL;
    switch (client_ip_derive(&tp, PEER, lines, n, out, &why)) {
    case CLIENT_IP_PEER:
        if (strcmp(out, PEER) != 0)
            abort();
        break;
    case CLIENT_IP_MALFORMED:
        if (strcmp(out, PEER) != 0 || !why)
            abort();
        break;
    case CLIENT_IP_FORWARDED:
        if (!is_address(out) || strspn(out, "0123456789abcdef.:") != strlen(out))
            abort();
        break;
    case CLIENT_IP_HIDDEN:
        if (!client_ip_trusted(&tp, out))
            abort();
        break;
    }
    free(text);
    return 0;
}
