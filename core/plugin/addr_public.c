/*
 * addr_public.c - which addresses are not on the public Internet. See
 * addr_public.h.
 */
#include <string.h>
#include "plugin/addr_public.h"

int addr_v4_private(uint32_t a)
{
    static const struct { uint32_t net; int bits; } blocks[] = {
        {0x00000000, 8},  {0x0a000000, 8},  {0x64400000, 10}, {0x7f000000, 8},
        {0xa9fe0000, 16}, {0xac100000, 12}, {0xc0000000, 24}, {0xc0000200, 24},
        {0xc0a80000, 16}, {0xc6120000, 15}, {0xc6336400, 24}, {0xcb007100, 24},
        {0xe0000000, 4},  {0xf0000000, 4},
    };

    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
        if ((a >> (32 - blocks[i].bits)) == (blocks[i].net >> (32 - blocks[i].bits)))
            return 1;
    return 0;
}

static uint32_t v4_at(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

int addr_v6_private(const unsigned char *b)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    static const unsigned char zero[12] = {0};

    if (memcmp(b, zero, 12) == 0) /* ::, ::1 and the retired IPv4-compatible block */
        return 1;
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return addr_v4_private(v4_at(b + 12));
    if (b[0] == 0x20 && b[1] == 0x02) /* 6to4 */
        return addr_v4_private(v4_at(b + 2));
    return (b[0] & 0xfe) == 0xfc ||                      /* unique local fc00::/7 */
           (b[0] == 0xfe && (b[1] & 0x80) == 0x80) ||   /* link/site-local fe80::/9 */
           b[0] == 0xff ||                               /* multicast */
           (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) || /* docs */
           (b[0] == 0x01 && b[1] == 0 && !b[2] && !b[3] && !b[4] && !b[5] &&
            !b[6] && !b[7]);                             /* discard 100::/64 */
}
