/*
 * argon2_mem.h - libargon2's allocator callbacks, backed by one reusable
 * mapping per hashing thread (argon2_mem.c). password_release_idle_memory()
 * in password.h returns the pages of idle threads.
 */
#ifndef GH_ARGON2_MEM_H
#define GH_ARGON2_MEM_H

#include <stddef.h>
#include <stdint.h>

/* argon2_context.allocate_cbk / free_cbk: 0 or an ARGON2_* error */
int argon2_mem_get(uint8_t **memory, size_t bytes);
void argon2_mem_put(uint8_t *memory, size_t bytes);

#endif
