/*
 * fuzz_config.c - the YAML config loader (config.c on libyaml and
 * yaml_tree.c): an admin's file, and whatever a broken editor or a
 * hostile package leaves in /etc/gatehouse. Every input is loaded from a
 * file, as the daemon does, and must either load or be refused with a
 * message - never crash, never leak.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "config.h"
#include "fuzz.h"

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(path, sizeof path, "/tmp/gh-fuzz-config-%ld.yaml", (long)getpid());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    FILE *f = fopen(path, "wb");
    gh_config *cfg;

    if (!f)
        abort();
    if (fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    cfg = config_load(path, err, sizeof err);
    if (cfg)
        config_free(cfg);
    else if (!err[0])
        abort(); /* refused without saying why */
    unlink(path);
    return 0;
}
