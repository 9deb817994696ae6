/*
 * fuzz_url.c - the storage and kv drivers' URL parsing (host->url_parse,
 * plugin/host_driver.c) and the redaction that makes a URL fit for a log
 * (host->url_redact): a URL with a password must never come out of
 * redaction with that password in it.
 */
#include <stdlib.h>
#include <string.h>
#include "call.h"
#include "plugin/host.h"
#include "fuzz.h"

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = fuzz_text(data, size), red[512];
    gh_url u = { .size = sizeof u };
    gh_call call;

    call_init(&call, NULL, "fuzz", 1000);
    host_url_redact(url, red, sizeof red);
    /* a password written plainly in the userinfo (the URL begins
     * "scheme://user:password@") must be gone from the redacted URL,
     * though the same text may also be spelt out elsewhere in it (its
     * path): so there must be fewer of it after redaction. A
     * percent-encoded password or user is not looked for. */
    if (host_url_parse(&call, url, &u) == GH_OK && strlen(u.password) >= 8) {
        char plain[sizeof u.scheme + sizeof u.user + sizeof u.password + 8];
        snprintf(plain, sizeof plain, "%s://%s:%s@", u.scheme, u.user, u.password);
        if (strncmp(url, plain, strlen(plain)) == 0 &&
            count(red, u.password) >= count(url, u.password))
            abort();
    }
    free(url);
    return 0;
}
