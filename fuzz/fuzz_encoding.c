/*
 * fuzz_encoding.c - the strict decoders: base64url of tokens
 * (b64url_decode) and the host's RFC 4648 decoders plugins use (base64,
 * base64url, base32, hex). Strict means one text per byte string: what
 * decodes must encode back to the very same text (base32 and hex modulo
 * what the decoder documents it also takes), else the decoder accepted a
 * second spelling - the kind of gap a deny-list keyed on text falls into.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "auth/tokens.h"
#include "call.h"
#include "plugin/host.h"
#include "fuzz.h"

#define MAX 4096

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void round_trip(uint32_t enc, const char *text, size_t len)
{
    static unsigned char bytes[MAX];
    static char back[2 * MAX + 16];
    size_t n, m;
    gh_call call;

    call_init(&call, NULL, "fuzz", 1000);
    if (host_decode(&call, enc, text, len, bytes, sizeof bytes, &n) != GH_OK)
        return;
    call_init(&call, NULL, "fuzz", 1000);
    if (host_encode(&call, enc, bytes, n, back, sizeof back, &m) != GH_OK)
        abort();
    if (enc == GH_ENC_HEX) {
        if (m != len || strncasecmp(back, text, len) != 0)
            abort();
    } else if (enc == GH_ENC_BASE32) { /* unpadded input is allowed */
        if (m < len || strncmp(back, text, len) != 0 || strspn(back + len, "=") != m - len)
            abort();
    } else if (m != len || memcmp(back, text, len) != 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned char bytes[MAX];
    static char back[GH_B64URL_LEN(MAX)];
    const char *text = (const char *)data;
    size_t n;

    if (size > MAX)
        return 0;
    if (b64url_decode(text, size, bytes, sizeof bytes, &n) == 0) {
        if (b64url_encode(bytes, n, back, sizeof back) != size || memcmp(back, text, size) != 0)
            abort();
    }
    round_trip(GH_ENC_BASE64, text, size);
    round_trip(GH_ENC_BASE64URL, text, size);
    round_trip(GH_ENC_BASE32, text, size);
    round_trip(GH_ENC_HEX, text, size);
    return 0;
}
