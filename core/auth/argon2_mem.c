/*
 * argon2_mem.c - working memory for argon2 hashes.
 *
 * See the comment below: per-thread anonymous mappings, reused while a
 * thread hashes and handed back to the system when the hashing pool idles.
 * password.c gives these functions to libargon2 as its allocator.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <argon2.h>
#include "auth/argon2_mem.h"
#include "auth/password.h"

/* argon2 needs m KiB of working memory per hash (19 MiB at OWASP cost).
 * Taken from malloc, a hashing thread's glibc arena keeps it after a burst
 * of logins (the block merges into that arena's top, which malloc_trim
 * leaves alone); mapped and unmapped per hash, every hash pays page faults
 * and TLB shootdowns. So each thread that hashes owns one anonymous
 * mapping, made on its first hash, grown only when a hash needs more, and
 * reused for every later hash; password_release_idle_memory() hands its
 * pages back (MADV_DONTNEED) while the thread is not hashing.
 *
 * A buffer's state decides who may touch it: its thread moves it from FREE
 * or RELEASED to IN_USE for one hash; the releaser moves it from FREE to
 * RELEASING, drops its pages, then marks it RELEASED. Both are
 * compare-and-swap, so the pages of a hash in progress are never dropped;
 * a thread finding its buffer RELEASING does that one hash in a mapping of
 * its own instead of waiting. The registry (a list under a mutex) lets the
 * releaser find every buffer; a thread's buffer leaves it and is unmapped
 * when the thread ends (thread-specific data destructor). */
enum { BUF_FREE, BUF_IN_USE, BUF_RELEASING, BUF_RELEASED };
#define BUF_KEEP_MAX ((size_t)256 << 20) /* larger needs get a one-off mapping */

typedef struct hash_buf {
    _Atomic int state;
    uint8_t *mem;                /* changed only by its thread, while IN_USE */
    size_t size;
    struct hash_buf *prev, *next;
} hash_buf;

static pthread_mutex_t bufs_lock = PTHREAD_MUTEX_INITIALIZER;
static hash_buf *bufs;           /* the registry */
static pthread_key_t buf_key;
static int buf_key_ok;
static pthread_once_t buf_once = PTHREAD_ONCE_INIT;

static void buf_unlink(hash_buf *b)
{
    pthread_mutex_lock(&bufs_lock);
    if (b->prev)
        b->prev->next = b->next;
    else
        bufs = b->next;
    if (b->next)
        b->next->prev = b->prev;
    pthread_mutex_unlock(&bufs_lock);
}

/* Thread exit. Once unlinked, no releaser can be working on it (the
 * releaser holds the lock throughout), and its thread is gone. */
static void buf_destroy(void *v)
{
    hash_buf *b = v;

    buf_unlink(b);
    if (b->mem)
        munmap(b->mem, b->size);
    free(b);
}

static void buf_key_make(void)
{
    buf_key_ok = pthread_key_create(&buf_key, buf_destroy) == 0;
}

/* This thread's buffer, registered on first use; NULL if that failed. */
static hash_buf *buf_mine(void)
{
    hash_buf *b;

    pthread_once(&buf_once, buf_key_make);
    if (!buf_key_ok)
        return NULL;
    if ((b = pthread_getspecific(buf_key)))
        return b;
    if (!(b = calloc(1, sizeof(*b))))
        return NULL;
    atomic_init(&b->state, BUF_FREE);
    pthread_mutex_lock(&bufs_lock);
    b->next = bufs;
    if (bufs)
        bufs->prev = b;
    bufs = b;
    pthread_mutex_unlock(&bufs_lock);
    if (pthread_setspecific(buf_key, b) != 0) {
        buf_unlink(b);
        free(b);
        return NULL;
    }
    return b;
}

static size_t page_round(size_t n)
{
    long pg = sysconf(_SC_PAGESIZE);
    size_t page = pg > 0 ? (size_t)pg : 4096;

    return n > SIZE_MAX - page ? 0 : (n + page - 1) / page * page;
}

static uint8_t *map_anon(size_t size)
{
    void *m = size ? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                   : MAP_FAILED;
    return m == MAP_FAILED ? NULL : m;
}

/* argon2's allocate_cbk and free_cbk */
int argon2_mem_get(uint8_t **memory, size_t bytes)
{
    size_t size = page_round(bytes);
    hash_buf *b = size && size <= BUF_KEEP_MAX ? buf_mine() : NULL;
    int was = BUF_FREE;

    *memory = NULL;
    if (b && (atomic_compare_exchange_strong(&b->state, &was, BUF_IN_USE) ||
              (was == BUF_RELEASED &&
               atomic_compare_exchange_strong(&b->state, &was, BUF_IN_USE)))) {
        if (b->size < size) {
            if (b->mem)
                munmap(b->mem, b->size);
            b->size = (b->mem = map_anon(size)) ? size : 0;
        }
        if (b->mem) {
            *memory = b->mem;
            return ARGON2_OK;
        }
        atomic_store(&b->state, BUF_FREE);
        return ARGON2_MEMORY_ALLOCATION_ERROR;
    }
    /* too large to keep, no buffer, or being released right now */
    *memory = map_anon(size);
    return *memory ? ARGON2_OK : ARGON2_MEMORY_ALLOCATION_ERROR;
}

void argon2_mem_put(uint8_t *memory, size_t bytes)
{
    hash_buf *b;

    if (!memory)
        return;
    /* argon2 has already wiped it */
    pthread_once(&buf_once, buf_key_make);
    b = buf_key_ok ? pthread_getspecific(buf_key) : NULL;
    if (b && b->mem == memory && atomic_load(&b->state) == BUF_IN_USE)
        atomic_store(&b->state, BUF_FREE);
    else
        munmap(memory, page_round(bytes));
}

void password_release_idle_memory(void)
{
    pthread_mutex_lock(&bufs_lock);
    for (hash_buf *b = bufs; b; b = b->next) {
        int was = BUF_FREE;
        if (atomic_compare_exchange_strong(&b->state, &was, BUF_RELEASING)) {
            if (b->mem)
                madvise(b->mem, b->size, MADV_DONTNEED);
            atomic_store(&b->state, BUF_RELEASED);
        }
    }
    pthread_mutex_unlock(&bufs_lock);
}
