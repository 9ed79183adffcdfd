/* First speed reading of the C core: ns per malloc+free pair of one size,
 * for glibc, the TLSF heap and the bucket allocator (with and without a
 * thread cache). A report, not a test: it asserts nothing. The full harness
 * (batches, random live sets, threads, worst case) builds on this.
 *
 *   bench_pairs [iterations]
 */
#define _POSIX_C_SOURCE 200809L
#include "smmalloc.h"
#include "tlsf.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RUNS 7

typedef void *(*alloc_fn)(void *ctx, size_t n);
typedef void (*free_fn)(void *ctx, void *p);

static void *sys_alloc(void *ctx, size_t n) { (void)ctx; return malloc(n); }
static void sys_free(void *ctx, void *p) { (void)ctx; free(p); }
static void *tl_alloc(void *ctx, size_t n) { return tlsf_malloc((tlsf_t)ctx, n); }
static void tl_free(void *ctx, void *p) { tlsf_free((tlsf_t)ctx, p); }
static void *sm_alloc(void *ctx, size_t n) { return sm_malloc((sm_allocator)ctx, n, 0); }
static void sm_release(void *ctx, void *p) { sm_free((sm_allocator)ctx, p); }

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The pointer is passed through a volatile sink so the pair cannot be
 * optimised away, as it would be for a plain malloc/free of glibc. */
static void *volatile sink;

static double pair_ns(alloc_fn al, free_fn fr, void *ctx, size_t n, long iters)
{
    double runs[RUNS];
    for (int r = 0; r < RUNS; ++r) {
        double t0 = now_ns();
        for (long i = 0; i < iters; ++i) {
            void *p = al(ctx, n);
            sink = p;
            fr(ctx, p);
        }
        runs[r] = (now_ns() - t0) / (double)iters;
    }
    qsort(runs, RUNS, sizeof runs[0], cmp_double);
    return runs[RUNS / 2];
}

static void *idle_thread(void *arg) { return arg; }

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 5000000;
    /* glibc takes its faster single-thread path until a thread exists;
     * JVM processes always have threads, so measure the threaded path. */
    pthread_t th;
    pthread_create(&th, NULL, idle_thread, NULL);
    pthread_join(th, NULL);

    static _Alignas(64) unsigned char region[8u << 20];
    tlsf_t heap = tlsf_create(region, sizeof region);
    sm_allocator sm = sm_allocator_create(8, 16u << 20);
    if (!heap || !sm) { fprintf(stderr, "allocator creation failed\n"); return 1; }

    static const size_t sizes[] = { 16, 64, 128 };
    printf("ns per malloc+free pair, median of %d runs of %ld pairs\n", RUNS, iters);
    printf("%-6s %10s %10s %12s %12s\n", "bytes", "glibc", "tlsf", "sm nocache", "sm cached");
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; ++i) {
        size_t n = sizes[i];
        double g = pair_ns(sys_alloc, sys_free, NULL, n, iters);
        double t = pair_ns(tl_alloc, tl_free, heap, n, iters);
        double s = pair_ns(sm_alloc, sm_release, sm, n, iters);
        sm_allocator_thread_cache_create(sm, SM_CACHE_HOT, 4096);
        double c = pair_ns(sm_alloc, sm_release, sm, n, iters);
        sm_allocator_thread_cache_destroy(sm);
        printf("%-6zu %10.1f %10.1f %12.1f %12.1f\n", n, g, t, s, c);
    }
    sm_allocator_destroy(sm);
    return 0;
}
