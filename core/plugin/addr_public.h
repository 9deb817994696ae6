/*
 * addr_public.h - is an address on the public Internet? The one answer
 * shared by the two places that refuse non-public targets (SSRF): the
 * outbound HTTP module, where the connection is made (host_http.c), and
 * the core, where a webhook subscription's URL is first accepted
 * (auth/webhook_target.c). Pure: no allocation, no state.
 */
#ifndef GH_ADDR_PUBLIC_H
#define GH_ADDR_PUBLIC_H

#include <stdint.h>

/* 1 for an IPv4 address (host order) that is not on the public Internet:
 * "this network", private (RFC 1918), shared (CGNAT), loopback,
 * link-local (cloud metadata lives at 169.254.169.254), IETF and
 * documentation blocks, benchmarking, multicast, reserved, broadcast. */
int addr_v4_private(uint32_t a);
/* The same for IPv6 (16 bytes, network order); addresses that carry an
 * IPv4 address (mapped, compatible, NAT64, 6to4) are judged by it. */
int addr_v6_private(const unsigned char *b);

#endif
