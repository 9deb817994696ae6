/*
 * fuzz_config.c - the YAML config loader (config.c on libyaml and
 * yaml_tree.c): an admin's file, and whatever a broken editor or a
 * hostile package leaves in /etc/gatehouse. Every input is loaded from a
 * file, as the daemon does, and must either load or be refused with a
 * message - never crash, never leak.
 *
 * The file is a memfd, rewritten for each input and opened by its /proc
 * path: config_load opens, stats and reads it as it would /etc's, without
 * a file created and removed on disk per input (the file system's inode
 * allocation made that the target's main cost, ever slower as it ran).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "config.h"
#include "fuzz.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fd = fuzz_memfd("", 0, path, sizeof path);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    gh_config *cfg;

    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    err[0] = '\0';
    cfg = config_load(path, err, sizeof err);
    if (cfg)
        config_free(cfg);
    else if (!err[0])
        abort(); /* refused without saying why */
    return 0;
}
