/*
 * fuzz_token.c - access-token verification (auth/jwt.c token_verify) on
 * every input, against an ES256, an RS256 and an HS256 keyring made once:
 * the parser, the header checks and the signature paths an attacker
 * reaches with a Bearer header. Nothing may be accepted: the fuzzer holds
 * no private key, so an accepted token is a forgery and aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "auth/tokens.h"
#include "fuzz.h"

static gh_keyring *rings[3];
static const gh_token_conf tc = { .issuer = "https://id.example.com", .audience = "gatehouse",
                                  .ttl_s = 900 };

/* A keyring made in a temporary directory, which goes once the keys are
 * in memory. */
static gh_keyring *ring(gh_alg alg)
{
    char dir[64] = "/tmp/gh-fuzz-keys-XXXXXX", err[256];
    gh_keyring *kr;

    if (alg == GH_ALG_HS256)
        kr = keyring_load(NULL, alg, "fJ2mW9xQ4rT7vN1cK8bZ5hL3sD6gP0yA-fuzz-only", err,
                          sizeof err);
    else if (!mkdtemp(dir))
        kr = NULL;
    else {
        kr = keyring_load(dir, alg, NULL, err, sizeof err);
        fuzz_rmtree(dir);
    }
    if (!kr) {
        fprintf(stderr, "fuzz_token: keyring: %s\n", err);
        abort();
    }
    return kr;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    rings[0] = ring(GH_ALG_ES256);
    rings[1] = ring(GH_ALG_RS256);
    rings[2] = ring(GH_ALG_HS256);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *t = fuzz_text(data, size);
    const char *why;
    gh_claims c;
    json_t *pl;

    for (int i = 0; i < 3; i++)
        if (token_verify(rings[i], &tc, t, 1700000000, &c, &why) == 0)
            abort(); /* a forgery */
    pl = token_payload(t);
    json_decref(pl);
    free(t);
    return 0;
}
