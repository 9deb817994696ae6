/*
 * fuzz_template.c - mail templates (notify/template.c): an admin writes
 * them, users fill their variables. The input is the template; the
 * variables hold markup, which the HTML rendering must never let through.
 */
#include <stdlib.h>
#include <string.h>
#include "notify/template.h"
#include "fuzz.h"

/* A variable's markup, with a tag ("q7zx") to tell it from what the
 * template writes itself: when the template rendered without values has
 * no such tag, the tag in the output came through the variable, which
 * HTML must have escaped. */
#define MARK "<b q7zx>"
#define TAG "q7zx"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const gh_tvar vars[] = {
        { "name", MARK }, { "link", "https://app.example.com/?a=1&b=\"2\"" }, { "empty", NULL },
    };
    char *text = template_render((const char *)data, size, vars, 3, 0);
    char *html = template_render((const char *)data, size, vars, 3, 1);

    if (!text || !html)
        abort();
    static const gh_tvar none[] = { { "name", NULL }, { "link", NULL }, { "empty", NULL } };
    char *bare = template_render((const char *)data, size, none, 3, 1);

    if (!bare)
        abort();
    if (!strstr(bare, TAG) && strstr(html, MARK))
        abort();
    free(bare);
    free(text);
    free(html);
    return 0;
}
