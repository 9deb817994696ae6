/*
 * header_c99.c - <gatehouse/plugin.h> must compile on its own as strict C99
 * with -pedantic (Makefile.am sets the flags), and its size rules must hold.
 */
#include <gatehouse/plugin.h>
#include <stdio.h>

int main(void)
{
    gh_host h = { 0 };
    h.size = (uint32_t)offsetof(gh_host, log); /* a host that has nothing yet */
    int bad = 0;
    if (GH_HAS(&h, log)) { puts("GH_HAS saw a member beyond size"); bad = 1; }
    if (offsetof(gh_plugin, size) != 0 || offsetof(gh_host, size) != 0 ||
        offsetof(gh_storage_ops, size) != 0 || offsetof(gh_kv_ops, size) != 0) {
        puts("size must be the first member of every ABI struct");
        bad = 1;
    }
    printf("%s: C99 header check\n", bad ? "FAIL" : "PASS");
    return bad;
}
