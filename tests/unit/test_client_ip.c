/*
 * test_client_ip.c - the client's address behind trusted proxies
 * (http/client_ip.c): address ranges and their edges (/0, /32, /128,
 * IPv4-mapped IPv6), the walk of X-Forwarded-For and Forwarded right to
 * left, spoofed entries to the left of the client, hidden hops, and every
 * header that is refused for the peer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "http/client_ip.h"

/* A list of ranges, each of which must parse. */
static gh_trusted_proxies ranges(int header, const char *const *list, gh_cidr *store)
{
    gh_trusted_proxies tp = { .v = store, .header = header };
    for (; *list; list++) {
        const char *why = NULL;
        if (client_ip_cidr_parse(*list, &store[tp.n], &why) < 0)
            fail_msg("'%s' refused: %s", *list, why);
        tp.n++;
    }
    return tp;
}

/* derive over one header line (NULL: none); returns how, client in out. */
static client_ip_how one(const gh_trusted_proxies *tp, const char *peer, const char *line,
                         char out[CLIENT_IP_LEN])
{
    const char *lines[1] = { line };
    return client_ip_derive(tp, peer, lines, line ? 1 : 0, out, NULL);
}

static void cidr_parse_refuses_bad_ranges(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/+8",
        "10.0.0.0/8/8", "10.0.0.0/0x8", "10.0.0.0/1000", "10.0.0", "10.0.0.256",
        "example.com", "[::1]", "::1/64 ", " 10.0.0.1", "10.0.0.1/8", "2001:db8::1/32",
        "fe80::1%eth0", "0.0.0.1/0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        gh_cidr c;
        const char *why = NULL;
        if (client_ip_cidr_parse(bad[i], &c, &why) == 0)
            fail_msg("'%s' was accepted", bad[i]);
        assert_non_null(why);
    }
    gh_cidr c;
    const char *why = NULL;
    assert_int_equal(client_ip_cidr_parse("10.0.0.1/8", &c, &why), -1);
    assert_non_null(strstr(why, "10.0.0.0/8"));
    assert_int_equal(client_ip_cidr_parse("10.0.0.0/33", &c, &why), -1);
    assert_string_equal(why, "the prefix length must be 0..32");
    assert_int_equal(client_ip_cidr_parse("::/129", &c, &why), -1);
    assert_string_equal(why, "the prefix length must be 0..128");
}

static void cidr_edges(void **state)
{
    (void)state;
    gh_cidr store[4];
    /* /0 takes every address of its family, and only of its family */
    gh_trusted_proxies all4 = ranges(CLIENT_IP_HDR_XFF, (const char *[]){ "0.0.0.0/0", NULL }, store);
    assert_true(client_ip_trusted(&all4, "1.2.3.4"));
    assert_true(client_ip_trusted(&all4, "255.255.255.255"));
    assert_false(client_ip_trusted(&all4, "::1"));
    assert_false(client_ip_trusted(&all4, "not an address"));
    gh_trusted_proxies all6 = ranges(CLIENT_IP_HDR_XFF, (const char *[]){ "::/0", NULL }, store);
    assert_true(client_ip_trusted(&all6, "2001:db8::1"));
    assert_false(client_ip_trusted(&all6, "10.0.0.1"));

    /* a bare address is /32 or /128: its neighbours are out */
    gh_trusted_proxies one4 = ranges(CLIENT_IP_HDR_XFF, (const char *[]){ "10.1.2.3", "192.0.2.7/32", NULL }, store);
    assert_true(client_ip_trusted(&one4, "10.1.2.3"));
    assert_false(client_ip_trusted(&one4, "10.1.2.2"));
    assert_false(client_ip_trusted(&one4, "10.1.2.4"));
    assert_true(client_ip_trusted(&one4, "192.0.2.7"));
    assert_false(client_ip_trusted(&one4, "192.0.2.6"));
    gh_trusted_proxies one6 = ranges(CLIENT_IP_HDR_XFF, (const char *[]){ "2001:db8::5/128", NULL }, store);
    assert_true(client_ip_trusted(&one6, "2001:db8::5"));
    assert_true(client_ip_trusted(&one6, "2001:DB8:0::5"));
    assert_false(client_ip_trusted(&one6, "2001:db8::4"));

    /* a prefix that is not on a byte boundary */
    gh_trusted_proxies mid = ranges(CLIENT_IP_HDR_XFF, (const char *[]){ "172.16.0.0/12", "2001:db8:8000::/33", NULL }, store);
    assert_true(client_ip_trusted(&mid, "172.16.0.0"));
    assert_true(client_ip_trusted(&mid, "172.31.255.255"));
    assert_false(client_ip_trusted(&mid, "172.32.0.0"));
    assert_false(client_ip_trusted(&mid, "172.15.255.255"));
    assert_true(client_ip_trusted(&mid, "2001:db8:ffff::1"));
    assert_false(client_ip_trusted(&mid, "2001:db8:7fff::1"));

    /* a dual-stack socket's ::ffff:a.b.c.d peer is the IPv4 address, and
     * a mapped range is an IPv4 one */
    gh_trusted_proxies mapped = ranges(CLIENT_IP_HDR_XFF, (const char *[]){ "10.0.0.0/8", "::ffff:192.168.0.0/112", NULL }, store);
    assert_true(client_ip_trusted(&mapped, "::ffff:10.9.8.7"));
    assert_true(client_ip_trusted(&mapped, "192.168.3.4"));
    assert_false(client_ip_trusted(&mapped, "192.169.0.1"));

    /* no ranges: nobody is trusted */
    gh_trusted_proxies none = { .n = 0 };
    assert_false(client_ip_trusted(&none, "127.0.0.1"));
}

static const char *const lb[] = { "10.0.0.0/8", "2001:db8::/32", NULL };

static void xff_walks_right_to_left(void **state)
{
    (void)state;
    gh_cidr store[4];
    gh_trusted_proxies tp = ranges(CLIENT_IP_HDR_XFF, lb, store);
    char out[CLIENT_IP_LEN];

    assert_int_equal(one(&tp, "10.0.0.1", "203.0.113.9", out), CLIENT_IP_FORWARDED);
    assert_string_equal(out, "203.0.113.9");
    /* trusted hops are skipped; what the client wrote on the left is not
     * read: spoofing the leftmost entry changes nothing */
    assert_int_equal(one(&tp, "10.0.0.1", "127.0.0.1, 198.51.100.4, 10.2.2.2,10.3.3.3", out),
                     CLIENT_IP_FORWARDED);
    assert_string_equal(out, "198.51.100.4");
    assert_int_equal(one(&tp, "10.0.0.1", "garbage!, 198.51.100.4, 10.2.2.2", out),
                     CLIENT_IP_FORWARDED);
    assert_string_equal(out, "198.51.100.4");
    /* all trusted: the leftmost */
    assert_int_equal(one(&tp, "10.0.0.1", "10.9.9.9, 10.2.2.2", out), CLIENT_IP_FORWARDED);
    assert_string_equal(out, "10.9.9.9");
    /* IPv6, bare or in brackets with a port; IPv4 with a port; written
     * back as inet_ntop writes it */
    assert_int_equal(one(&tp, "2001:db8::1", "2001:DB8:1::0:7", out), CLIENT_IP_FORWARDED);
    assert_string_equal(out, "2001:db8:1::7");
    assert_int_equal(one(&tp, "10.0.0.1", "[2001:db9::7]:4711", out), CLIENT_IP_FORWARDED);
    assert_string_equal(out, "2001:db9::7");
    assert_int_equal(one(&tp, "10.0.0.1", "198.51.100.4:51000", out), CLIENT_IP_FORWARDED);
    assert_string_equal(out, "198.51.100.4");
    assert_int_equal(one(&tp, "10.0.0.1", "::ffff:198.51.100.4", out), CLIENT_IP_FORWARDED);
    assert_string_equal(out, "198.51.100.4");
    /* a dual-stack peer */
    assert_int_equal(one(&tp, "::ffff:10.0.0.1", "198.51.100.4", out), CLIENT_IP_FORWARDED);
    assert_string_equal(out, "198.51.100.4");
    /* empty elements are nothing (RFC 9110 5.6.1) */
    assert_int_equal(one(&tp, "10.0.0.1", " , 198.51.100.4 ,, ", out), CLIENT_IP_FORWARDED);
    assert_string_equal(out, "198.51.100.4");
}

static void xff_lines_join_in_order(void **state)
{
    (void)state;
    gh_cidr store[4];
    gh_trusted_proxies tp = ranges(CLIENT_IP_HDR_XFF, lb, store);
    char out[CLIENT_IP_LEN];
    /* the last line is the nearest proxy's */
    const char *lines[] = { "198.51.100.1, 198.51.100.2", "10.2.2.2" };
    assert_int_equal(client_ip_derive(&tp, "10.0.0.1", lines, 2, out, NULL), CLIENT_IP_FORWARDED);
    assert_string_equal(out, "198.51.100.2");
    const char *lines2[] = { "198.51.100.1", "198.51.100.3, 10.2.2.2", "" };
    assert_int_equal(client_ip_derive(&tp, "10.0.0.1", lines2, 3, out, NULL), CLIENT_IP_FORWARDED);
    assert_string_equal(out, "198.51.100.3");
}

static void untrusted_peer_ignores_the_header(void **state)
{
    (void)state;
    gh_cidr store[4];
    gh_trusted_proxies tp = ranges(CLIENT_IP_HDR_XFF, lb, store);
    char out[CLIENT_IP_LEN];
    assert_int_equal(one(&tp, "198.51.100.4", "127.0.0.1", out), CLIENT_IP_PEER);
    assert_string_equal(out, "198.51.100.4");
    /* garbage from an untrusted peer is not even read */
    assert_int_equal(one(&tp, "198.51.100.4", "\"unclosed, x", out), CLIENT_IP_PEER);
    assert_string_equal(out, "198.51.100.4");
    /* a trusted peer without the header is its own client */
    assert_int_equal(one(&tp, "10.0.0.1", NULL, out), CLIENT_IP_PEER);
    assert_string_equal(out, "10.0.0.1");
    assert_int_equal(one(&tp, "10.0.0.1", " , ", out), CLIENT_IP_PEER);
    assert_string_equal(out, "10.0.0.1");
    /* nothing trusted (the default) */
    gh_trusted_proxies none = { .n = 0 };
    assert_int_equal(one(&none, "10.0.0.1", "198.51.100.4", out), CLIENT_IP_PEER);
    assert_string_equal(out, "10.0.0.1");
}

static void malformed_uses_the_peer(void **state)
{
    (void)state;
    gh_cidr store[4];
    gh_trusted_proxies tp = ranges(CLIENT_IP_HDR_XFF, lb, store);
    char out[CLIENT_IP_LEN];
    static const char *const bad[] = {
        "garbage", "198.51.100.4, <script>", "1.2.3.4.5", "198.51.100.4:", "198.51.100.4:123456",
        "[2001:db9::7", "[198.51.100.4]", "2001:db9::7]:80", "unknown", "_hidden",
        "198.51.100.4 10.2.2.2", "999.1.1.1",
        "198.51.100.4, 1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (one(&tp, "10.0.0.1", bad[i], out) != CLIENT_IP_MALFORMED)
            fail_msg("'%s' was not refused (client %s)", bad[i], out);
        assert_string_equal(out, "10.0.0.1");
    }
    const char *why = NULL;
    const char *lines[] = { "garbage" };
    assert_int_equal(client_ip_derive(&tp, "10.0.0.1", lines, 1, out, &why), CLIENT_IP_MALFORMED);
    assert_string_equal(why, "an entry is not an address");
}

/* Whoever sits left of our proxies may pad the list: it must not turn
 * their address into the proxy's (which would put their failures on
 * everyone behind it), nor hide it. */
static void padding_left_of_the_client_changes_nothing(void **state)
{
    (void)state;
    gh_cidr store[4];
    gh_trusted_proxies tp = ranges(CLIENT_IP_HDR_XFF, lb, store);
    char out[CLIENT_IP_LEN], line[4096] = "";
    for (int i = 0; i < 3 * CLIENT_IP_MAX_HOPS; i++)
        snprintf(line + strlen(line), sizeof line - strlen(line), "%s198.51.100.%d",
                 i ? ", " : "", i % 200 + 1);
    strcat(line, ", 203.0.113.7, 10.0.0.2"); /* the client, then a proxy of ours */
    assert_int_equal(one(&tp, "10.0.0.1", line, out), CLIENT_IP_FORWARDED);
    assert_string_equal(out, "203.0.113.7");
    /* as many lines, each its own hop: the last ones count */
    const char *many[3 * CLIENT_IP_MAX_HOPS + 1];
    for (size_t i = 0; i + 1 < sizeof many / sizeof *many; i++)
        many[i] = "not an address at all";
    many[3 * CLIENT_IP_MAX_HOPS] = "203.0.113.8";
    assert_int_equal(client_ip_derive(&tp, "10.0.0.1", many, sizeof many / sizeof *many, out, NULL),
                     CLIENT_IP_FORWARDED);
    assert_string_equal(out, "203.0.113.8");
    /* a quote means nothing in X-Forwarded-For */
    assert_int_equal(one(&tp, "10.0.0.1", "\"junk, 203.0.113.9", out), CLIENT_IP_FORWARDED);
    assert_string_equal(out, "203.0.113.9");
}

static void forwarded_quotes_ports_and_pairs(void **state)
{
    (void)state;
    gh_cidr store[4];
    gh_trusted_proxies tp = ranges(CLIENT_IP_HDR_FORWARDED, lb, store);
    char out[CLIENT_IP_LEN];

    /* RFC 7239 section 4's examples */
    assert_int_equal(one(&tp, "10.0.0.1", "for=\"_gazonk\"", out), CLIENT_IP_HIDDEN);
    assert_string_equal(out, "10.0.0.1");
    assert_int_equal(one(&tp, "10.0.0.1", "For=\"[2001:db9:cafe::17]:4711\"", out),
                     CLIENT_IP_FORWARDED);
    assert_string_equal(out, "2001:db9:cafe::17");
    assert_int_equal(one(&tp, "10.0.0.1", "for=192.0.2.60;proto=http;by=203.0.113.43", out),
                     CLIENT_IP_FORWARDED);
    assert_string_equal(out, "192.0.2.60");
    assert_int_equal(one(&tp, "10.0.0.1", "for=192.0.2.43, for=198.51.100.17", out),
                     CLIENT_IP_FORWARDED);
    assert_string_equal(out, "198.51.100.17");
    /* an IPv4 address with a port, an obfuscated port, pairs in any order
     * and a quoted value holding the separators */
    assert_int_equal(one(&tp, "10.0.0.1", "for=\"192.0.2.60:8080\"", out), CLIENT_IP_FORWARDED);
    assert_string_equal(out, "192.0.2.60");
    assert_int_equal(one(&tp, "10.0.0.1", "for=\"[2001:db9::1]:_p1\"", out), CLIENT_IP_FORWARDED);
    assert_string_equal(out, "2001:db9::1");
    assert_int_equal(one(&tp, "10.0.0.1", "for=\"192.0.2.61:_p\"", out), CLIENT_IP_FORWARDED);
    assert_string_equal(out, "192.0.2.61");
    assert_int_equal(one(&tp, "10.0.0.1",
                         "host=\"a.example;x, y\";proto=https;; for=192.0.2.60 ;by=_lb;", out),
                     CLIENT_IP_FORWARDED);
    assert_string_equal(out, "192.0.2.60");
    /* trusted hops skipped, the spoofed left never read */
    assert_int_equal(one(&tp, "10.0.0.1",
                         "for=127.0.0.1, for=garbage, for=192.0.2.9, for=\"[2001:db8::2]\", "
                         "for=10.1.1.1;proto=https",
                         out),
                     CLIENT_IP_FORWARDED);
    assert_string_equal(out, "192.0.2.9");
}

static void forwarded_hidden_hops(void **state)
{
    (void)state;
    gh_cidr store[4];
    gh_trusted_proxies tp = ranges(CLIENT_IP_HDR_FORWARDED, lb, store);
    char out[CLIENT_IP_LEN];
    /* "unknown" or "_x" on the walk: the nearest known hop, the trusted
     * one that wrote it */
    assert_int_equal(one(&tp, "10.0.0.1", "for=192.0.2.9, for=unknown, for=10.1.1.1", out),
                     CLIENT_IP_HIDDEN);
    assert_string_equal(out, "10.1.1.1");
    assert_int_equal(one(&tp, "10.0.0.1", "for=UNKNOWN", out), CLIENT_IP_HIDDEN);
    assert_string_equal(out, "10.0.0.1");
    assert_int_equal(one(&tp, "10.0.0.1", "for=_x.y-z_1", out), CLIENT_IP_HIDDEN);
    assert_string_equal(out, "10.0.0.1");
    /* an element without for= is a hop that did not say */
    assert_int_equal(one(&tp, "10.0.0.1", "for=192.0.2.9, proto=https;by=10.0.0.1", out),
                     CLIENT_IP_HIDDEN);
    assert_string_equal(out, "10.0.0.1");
    /* left of the client, a hidden hop is never reached */
    assert_int_equal(one(&tp, "10.0.0.1", "for=unknown, for=192.0.2.9", out),
                     CLIENT_IP_FORWARDED);
    assert_string_equal(out, "192.0.2.9");
}

static void forwarded_malformed(void **state)
{
    (void)state;
    gh_cidr store[4];
    gh_trusted_proxies tp = ranges(CLIENT_IP_HDR_FORWARDED, lb, store);
    char out[CLIENT_IP_LEN];
    static const char *const bad[] = {
        "192.0.2.9",                       /* not a pair */
        "for=",                            /* no value */
        "=192.0.2.9",                      /* no name */
        "for=\"192.0.2.9",                 /* quote left open */
        "for=\"192.0.2.9\\\"\"",           /* a quoted-pair: never an address */
        "for=192.0.2.9;for=192.0.2.10",    /* two for= in one element */
        "for=\"[2001:db9::1]:_\"",         /* an empty obfuscated port */
        "for=\"[2001:db9::1]:port\"",      /* a port is digits or _obf */
        "for=_",                           /* an empty obfuscated identifier */
        "for=_bad!",
        "for=\"192.0.2.9:\"",              /* a colon and no port */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        client_ip_how how = one(&tp, "10.0.0.1", bad[i], out);
        if (how != CLIENT_IP_MALFORMED)
            fail_msg("'%s' was not refused (client %s, how %d)", bad[i], out, how);
        assert_string_equal(out, "10.0.0.1");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cidr_parse_refuses_bad_ranges),
        cmocka_unit_test(cidr_edges),
        cmocka_unit_test(xff_walks_right_to_left),
        cmocka_unit_test(xff_lines_join_in_order),
        cmocka_unit_test(untrusted_peer_ignores_the_header),
        cmocka_unit_test(malformed_uses_the_peer),
        cmocka_unit_test(padding_left_of_the_client_changes_nothing),
        cmocka_unit_test(forwarded_quotes_ports_and_pairs),
        cmocka_unit_test(forwarded_hidden_hops),
        cmocka_unit_test(forwarded_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
