/*
 * fuzz.h - what every fuzz target here defines: libFuzzer's entry points.
 * Built with clang -fsanitize=fuzzer for fuzzing (make fuzz), and with
 * replay.c's main() instead for `make check`, which runs every target
 * over its seed corpus and its regressions (fuzz/corpus/<target>/,
 * fuzz/regressions/<target>/): an input that once crashed stays a test.
 */
#ifndef GH_FUZZ_H
#define GH_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data as a NUL-terminated string (a NUL inside ends it early, as a C
 * caller would see it); malloc'd */
char *fuzz_text(const uint8_t *data, size_t size);
/* A memfd holding data[0..size), its /proc/self/fd path in path (len
 * bytes): a file to hand to what opens one by name, with nothing made or
 * left on disk. The descriptor (close it when done). */
int fuzz_memfd(const void *data, size_t size, char *path, size_t len);
/* remove dir and everything in it (a target's temporary files) */
void fuzz_rmtree(const char *dir);

#endif
