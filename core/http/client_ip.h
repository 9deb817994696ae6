/*
 * client_ip.h - who the client is behind a reverse proxy or load balancer:
 * `server.trusted_proxies` and `server.client_ip_header`, read the way
 * nginx's real_ip module reads them.
 *
 * A request's socket peer is who connected. Only when that peer is one of
 * the trusted proxies is the forwarding header believed: its list is walked
 * right to left (each proxy appends the address it saw), trusted addresses
 * are skipped, and the first one that is not trusted is the client. Entries
 * to the left of it were written by that untrusted party and are never
 * looked at. Apart from config.h's other modules so that the config can
 * hold the list without the HTTP server.
 */
#ifndef GH_CLIENT_IP_H
#define GH_CLIENT_IP_H

#include <stddef.h>
#include <stdint.h>

/* server.client_ip_header */
enum { CLIENT_IP_HDR_XFF, CLIENT_IP_HDR_FORWARDED };

/* A list of more entries (or header lines) than this is refused whole
 * (the peer is the client): no real chain of proxies is that long, and the
 * walk stays bounded. */
#define CLIENT_IP_MAX_HOPS 32
/* Big enough for any address inet_ntop writes, with a zone or none. */
#define CLIENT_IP_LEN 64

/* An address range. IPv4-mapped IPv6 (::ffff:a.b.c.d) is kept as IPv4, so
 * a dual-stack listener's peers match the IPv4 ranges. */
typedef struct gh_cidr {
    int v6;                  /* 0: IPv4 (4 bytes of addr), 1: IPv6 */
    uint8_t addr[16];        /* network order, host bits zero */
    int bits;                /* prefix length: 0..32 or 0..128 */
} gh_cidr;

typedef struct gh_trusted_proxies {
    gh_cidr *v;              /* empty: no proxy is trusted, the peer is the
                                client (the default) */
    size_t n;
    int header;              /* CLIENT_IP_* */
} gh_trusted_proxies;

/* "10.0.0.0/8", "2001:db8::/32", or one address (as /32 or /128). 0, or -1
 * with why: a sentence for the config error. Host bits set below the
 * prefix ("10.0.0.1/8") are refused: they are usually a typo. */
int client_ip_cidr_parse(const char *s, gh_cidr *out, const char **why);

/* 1 when the textual address is in one of the ranges, 0 otherwise (and
 * for anything that is not an address). */
int client_ip_trusted(const gh_trusted_proxies *tp, const char *addr);

/* How client_ip_derive found the client. */
typedef enum {
    CLIENT_IP_PEER,          /* no proxy trusted, peer not trusted, or no
                                header: the socket peer */
    CLIENT_IP_FORWARDED,     /* from the header */
    CLIENT_IP_HIDDEN,        /* the walk met "unknown" or an obfuscated
                                identifier (RFC 7239 "_x"): the nearest
                                known hop, the trusted one that wrote it */
    CLIENT_IP_MALFORMED,     /* the header could not be read (a bad entry
                                on the walk, an open quote): the peer */
} client_ip_how;

/* The client of a request from `peer` that carried the header's `n` lines
 * (in order, as several lines are one list joined by commas), into out
 * (CLIENT_IP_LEN bytes). An address read from the header is written as
 * inet_ntop writes it, so it is always a plain address. When how is
 * CLIENT_IP_MALFORMED, *why (if given) says what was wrong. */
client_ip_how client_ip_derive(const gh_trusted_proxies *tp, const char *peer,
                               const char *const *lines, size_t n, char out[CLIENT_IP_LEN],
                               const char **why);

#endif
