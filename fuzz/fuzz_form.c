/*
 * fuzz_form.c - percent-decoding of form bodies, query strings and HTTP
 * Basic client credentials (api/input.c input_form_decode). What it
 * accepts must be a string without NUL (no silent truncation downstream)
 * and valid UTF-8 (jansson's strings are).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "api/input.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *s = input_form_decode((const char *)data, size);

    if (s) {
        if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s))
            abort();
        json_decref(s);
    }
    return 0;
}
