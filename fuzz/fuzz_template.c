/*
 * fuzz_template.c - mail templates (notify/template.c): an admin writes
 * them, users fill their variables. The input is the template; the
 * variables hold markup, which the HTML rendering must never let through.
 */
#include <stdlib.h>
#include <string.h>
#include "notify/template.h"
#include "fuzz.h"

#define MARK "<script>x</script>"

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
    /* the markup can only be in the HTML if the template itself wrote it */
    if (strstr(html, MARK) && !memmem(data, size, MARK, strlen(MARK)))
        abort();
    free(text);
    free(html);
    return 0;
}
