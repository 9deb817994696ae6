/*
 * fuzz_webhook.c - incoming webhook signature checks (auth/webhook_sig.c,
 * Standard Webhooks): the three headers and the body are the sender's.
 * Input: "id\ntimestamp\nsignatures\nbody". Without the secret no input
 * may pass.
 */
#include <stdlib.h>
#include <string.h>
#include "auth/webhook_sig.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_text(data, size), *part[3] = { NULL, NULL, NULL }, *p = s;
    size_t used;

    for (int i = 0; i < 3 && p; i++) {
        part[i] = p;
        if ((p = strchr(p, '\n')))
            *p++ = '\0';
    }
    used = p ? (size_t)(p - s) : size;
    if (webhook_verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", part[0], part[1], part[2],
                       data + used, size - used, 1700000000) == WEBHOOK_SIG_OK)
        abort();
    free(s);
    return 0;
}
