/*
 * replay.c - main() for a fuzz target outside libFuzzer: runs
 * LLVMFuzzerTestOneInput once per file named on the command line or found
 * in the directories named (not recursively). Without arguments, as
 * `make check` runs it, replay_<target> replays fuzz/corpus/<target> and
 * fuzz/regressions/<target> under $top_srcdir, so the inputs keep passing
 * under the ordinary and the ASan builds, without clang.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fuzz.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    uint8_t *buf;
    size_t n;

    if (!f || fstat(fileno(f), &st) != 0) {
        perror(path);
        if (f)
            fclose(f);
        return -1;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        abort();
    n = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    int files = 0, bad = 0;
    char corpus[4096], regressions[4096];
    char *dflt[] = { argv[0], corpus, regressions, NULL };
    const char *name = strrchr(argv[0], '/'), *top = getenv("top_srcdir");

    name = name ? name + 1 : argv[0];
    if (strncmp(name, "lt-", 3) == 0) /* libtool's wrapper */
        name += 3;
    if (argc == 1 && strncmp(name, "replay_", 7) == 0) {
        snprintf(corpus, sizeof corpus, "%s/fuzz/corpus/%s", top ? top : ".", name + 7);
        snprintf(regressions, sizeof regressions, "%s/fuzz/regressions/%s", top ? top : ".",
                 name + 7);
        argc = access(regressions, F_OK) == 0 ? 3 : 2;
        argv = dflt;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        DIR *d;
        struct dirent *de;

        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            bad++;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            bad += run_file(argv[i]) != 0;
            files++;
            continue;
        }
        if (!(d = opendir(argv[i]))) {
            perror(argv[i]);
            bad++;
            continue;
        }
        while ((de = readdir(d))) {
            char path[4096];
            if (de->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
            bad += run_file(path) != 0;
            files++;
        }
        closedir(d);
    }
    printf("%s: %d inputs replayed\n", argv[0], files);
    return bad || files == 0 ? 1 : 0;
}
