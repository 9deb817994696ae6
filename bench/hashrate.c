/*
 * hashrate.c - the login ceiling: how many argon2id hashes per second the
 * cores of this machine can compute at the configured cost.
 *
 * A login is one password verification, and a verification is one hash at
 * the stored parameters, so no server can log users in faster than this.
 * bench/run.sh compares gatehoused's login rate with it. THREADS threads
 * (default: one per core) hash for SECONDS each and the total is printed
 * as one line: "hashes/s N".
 *
 * Usage: hashrate [SECONDS [THREADS [MEMORY_KIB ITERATIONS PARALLELISM]]]
 * Defaults: 5 s, nproc threads, m=19456 t=2 p=1 (OWASP; gatehouse.yaml's).
 */
#define _GNU_SOURCE
#include <argon2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint32_t m_kib = 19456, t_cost = 2, lanes = 1;
static atomic_int stop;

typedef struct worker {
    pthread_t thread;
    long hashes;
    int failed;
} worker;

static void *hash_loop(void *arg)
{
    worker *w = arg;
    /* what a login hashes: a password of ordinary length, a 16-byte salt */
    static const char pw[] = "correct horse battery staple";
    static const unsigned char salt[16] = "0123456789abcdef";
    unsigned char out[32];
    while (!atomic_load(&stop)) {
        if (argon2id_hash_raw(t_cost, m_kib, lanes, pw, sizeof pw - 1, salt, sizeof salt, out,
                              sizeof out) != ARGON2_OK) {
            w->failed = 1;
            break;
        }
        w->hashes++;
    }
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 5;
    long n = argc > 2 ? atol(argv[2]) : sysconf(_SC_NPROCESSORS_ONLN);
    if (argc > 5) {
        m_kib = (uint32_t)strtoul(argv[3], NULL, 10);
        t_cost = (uint32_t)strtoul(argv[4], NULL, 10);
        lanes = (uint32_t)strtoul(argv[5], NULL, 10);
    }
    if (seconds <= 0 || n < 1 || n > 1024 || argc == 4 || argc == 5 || argc > 6) {
        fprintf(stderr, "usage: hashrate [SECONDS [THREADS [MEMORY_KIB ITERATIONS PARALLELISM]]]\n");
        return 2;
    }

    worker *w = calloc((size_t)n, sizeof *w);
    if (!w)
        return 1;
    double start = now_s();
    for (long i = 0; i < n; i++) {
        if (pthread_create(&w[i].thread, NULL, hash_loop, &w[i]) != 0) {
            fprintf(stderr, "hashrate: cannot start thread %ld\n", i);
            return 1;
        }
    }
    struct timespec nap = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };
    nanosleep(&nap, NULL);
    atomic_store(&stop, 1);
    long total = 0;
    int failed = 0;
    for (long i = 0; i < n; i++) {
        pthread_join(w[i].thread, NULL);
        total += w[i].hashes;
        failed |= w[i].failed;
    }
    /* the hashes in flight when told to stop finish after `seconds`: divide
     * by the time actually taken */
    double elapsed = now_s() - start;
    free(w);
    if (failed) {
        fprintf(stderr, "hashrate: argon2id failed (m=%u t=%u p=%u)\n", m_kib, t_cost, lanes);
        return 1;
    }
    printf("hashes/s %.1f (threads %ld, m=%u KiB t=%u p=%u, %ld hashes in %.2f s)\n",
           (double)total / elapsed, n, m_kib, t_cost, lanes, total, elapsed);
    return 0;
}
