/* nalloc_bench - the C speed harness: glibc, the TLSF heap and the bucket
 * allocator (with and without a thread cache) on the same workloads.
 *
 *   1. pair      malloc + free of one size (16, 64, 128 B), ns per pair
 *   2. batch     1,000 mallocs of 64 B, then the 1,000 frees in the same
 *                order, ns per operation (a malloc or a free)
 *   3. random    a live set of 4,096 slots: each step frees a random slot
 *                and refills it with a random size in 8..256 B, ns per op
 *   4. threads   the random set on 1 and 2 threads at once, total Mops/s
 *                and the 2-thread / 1-thread ratio. The bucket allocator is
 *                shared by both threads; TLSF is single-threaded by
 *                contract, so each thread gets its own heap (its intended
 *                use); glibc is shared as usual.
 *   5. worst     TLSF (glibc for reference): timer ticks per malloc and per
 *                free at p50, p99, p99.9 and max over a long randomized run
 *                (rdtsc on x86-64, clock_gettime ns elsewhere).
 *
 * Every figure is the median of several runs; ratios are to glibc (lower
 * is faster) except the thread scaling (higher is better). A report, not a
 * test: nothing here asserts, and on a shared machine the numbers move.
 * Instruction counts, which do not move, come from callgrind.sh.
 *
 *   nalloc_bench [--quick]     --quick: CI-sized runs (well under 30 s)
 */
#include "bench_util.h"

#include "smmalloc.h"
#include "tlsf.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Allocators behind one interface. Every allocator is called through the
 * same function pointers, so the indirection costs them all alike.
 * ---------------------------------------------------------------------- */

typedef struct allocator {
    const char *name;
    void *(*alloc)(void *ctx, size_t n);
    void (*release)(void *ctx, void *p);
    /* Per-thread setup/teardown: a TLSF heap, a bucket thread cache. */
    void *(*thread_begin)(struct allocator *a);
    void (*thread_end)(struct allocator *a, void *ctx);
    void *shared; /* the bucket allocator */
} allocator_t;

#define BUCKETS 16                 /* 16..256 B blocks */
#define BUCKET_BYTES (16u << 20)
#define CACHE_BYTES 16384          /* per bucket */
#define TLSF_REGION (32u << 20)

static void *sys_alloc(void *ctx, size_t n) { (void)ctx; return malloc(n); }
static void sys_release(void *ctx, void *p) { (void)ctx; free(p); }
static void *tl_alloc(void *ctx, size_t n) { return tlsf_malloc((tlsf_t)ctx, n); }
static void tl_release(void *ctx, void *p) { tlsf_free((tlsf_t)ctx, p); }
static void *sm_alloc(void *ctx, size_t n) { return sm_malloc((sm_allocator)ctx, n, 0); }
static void sm_release(void *ctx, void *p) { sm_free((sm_allocator)ctx, p); }

static void *sys_begin(allocator_t *a) { (void)a; return NULL; }
static void sys_end(allocator_t *a, void *ctx) { (void)a; (void)ctx; }

static void *tl_begin(allocator_t *a)
{
    void *region = aligned_alloc(64, TLSF_REGION);
    tlsf_t heap;
    (void)a;
    if (!region)
        return NULL;
    memset(region, 0, TLSF_REGION); /* fault the pages in outside the timing */
    heap = tlsf_create(region, TLSF_REGION);
    if (!heap)
        free(region);
    return heap;
}
/* tlsf_create puts the control structure at the region's start. */
static void tl_end(allocator_t *a, void *ctx) { (void)a; free(ctx); }

static void *sm_begin_nocache(allocator_t *a) { return a->shared; }
static void *sm_begin_cached(allocator_t *a)
{
    sm_allocator_thread_cache_create((sm_allocator)a->shared, SM_CACHE_WARM, CACHE_BYTES);
    return a->shared;
}
static void sm_end_nocache(allocator_t *a, void *ctx) { (void)a; (void)ctx; }
static void sm_end_cached(allocator_t *a, void *ctx)
{
    (void)ctx;
    sm_allocator_thread_cache_destroy((sm_allocator)a->shared);
}

enum { A_GLIBC, A_TLSF, A_SM, A_SMC, A_COUNT };

/* ------------------------------------------------------------------------
 * Run settings and the optimiser's sink (timing, RNG and sorting helpers
 * are in bench_util.h).
 * ---------------------------------------------------------------------- */

/* Defeats dead-store elimination of malloc/free pairs (glibc's are
 * builtins the compiler knows). */
static void *volatile sink;

static int runs = 7;

/* ------------------------------------------------------------------------
 * 1. Pairs.
 * ---------------------------------------------------------------------- */

static double bench_pair(allocator_t *a, void *ctx, size_t n, long iters)
{
    double v[16];
    for (int r = 0; r < runs; ++r) {
        double t0 = now_ns();
        for (long i = 0; i < iters; ++i) {
            void *p = a->alloc(ctx, n);
            sink = p;
            a->release(ctx, p);
        }
        v[r] = (now_ns() - t0) / (double)iters;
    }
    return median(v, runs);
}

/* ------------------------------------------------------------------------
 * 2. Batch.
 * ---------------------------------------------------------------------- */

#define BATCH 1000

static double bench_batch(allocator_t *a, void *ctx, long rounds)
{
    static void *ptrs[BATCH];
    double v[16];
    for (int r = 0; r < runs; ++r) {
        double t0 = now_ns();
        for (long k = 0; k < rounds; ++k) {
            for (int i = 0; i < BATCH; ++i)
                ptrs[i] = a->alloc(ctx, 64);
            sink = ptrs[BATCH - 1];
            for (int i = 0; i < BATCH; ++i)
                a->release(ctx, ptrs[i]);
        }
        v[r] = (now_ns() - t0) / (double)(rounds * 2 * BATCH);
    }
    return median(v, runs);
}

/* ------------------------------------------------------------------------
 * 3. Random live set (and 4. on threads).
 * ---------------------------------------------------------------------- */

#define SLOTS 4096
#define OPS_TABLE 65536 /* precomputed (slot, size) steps, cycled */

typedef struct rnd_plan {
    uint16_t slot[OPS_TABLE];
    uint16_t size[OPS_TABLE];
    uint16_t fill[SLOTS];
} rnd_plan_t;

static void plan_init(rnd_plan_t *p, uint64_t seed)
{
    uint64_t s = seed | 1;
    for (int i = 0; i < OPS_TABLE; ++i) {
        uint64_t x = rng_next(&s);
        p->slot[i] = (uint16_t)(x % SLOTS);
        p->size[i] = (uint16_t)(8 + (x >> 32) % 249); /* 8..256 */
    }
    for (int i = 0; i < SLOTS; ++i)
        p->fill[i] = (uint16_t)(8 + rng_next(&s) % 249);
}

/* Fills the slots, then `steps` times frees a random slot and refills it;
 * returns ns per operation (steps * 2 operations) of the timed part. */
static double random_run(allocator_t *a, void *ctx, const rnd_plan_t *p, long steps)
{
    void **slots = calloc(SLOTS, sizeof *slots);
    double t0, t;
    if (!slots)
        return 0;
    for (int i = 0; i < SLOTS; ++i)
        slots[i] = a->alloc(ctx, p->fill[i]);
    t0 = now_ns();
    for (long i = 0; i < steps; ++i) {
        unsigned k = (unsigned)(i & (OPS_TABLE - 1));
        unsigned slot = p->slot[k];
        a->release(ctx, slots[slot]);
        slots[slot] = a->alloc(ctx, p->size[k]);
    }
    t = now_ns() - t0;
    sink = slots[0];
    for (int i = 0; i < SLOTS; ++i)
        a->release(ctx, slots[i]);
    free(slots);
    return t / (double)(steps * 2);
}

static double bench_random(allocator_t *a, void *ctx, const rnd_plan_t *p, long steps)
{
    double v[16];
    for (int r = 0; r < runs; ++r)
        v[r] = random_run(a, ctx, p, steps);
    return median(v, runs);
}

/* A start gate (pthread barriers are missing on macOS): each thread checks
 * in, then waits until all have. */
typedef struct gate {
    atomic_int arrived;
    int threads;
} gate_t;

static void gate_wait(gate_t *g)
{
    atomic_fetch_add(&g->arrived, 1);
    while (atomic_load(&g->arrived) < g->threads)
        ;
}

typedef struct thread_arg {
    allocator_t *a;
    const rnd_plan_t *plan;
    long steps;
    gate_t *start;
    double ns_per_op;
} thread_arg_t;

static void *random_thread(void *arg)
{
    thread_arg_t *t = arg;
    void *ctx = t->a->thread_begin(t->a);
    gate_wait(t->start);
    if (t->a->thread_begin == tl_begin && !ctx)
        return NULL;
    t->ns_per_op = random_run(t->a, ctx, t->plan, t->steps);
    t->a->thread_end(t->a, ctx);
    return NULL;
}

/* Total operations per second of `threads` threads each running the
 * random set: sum of the threads' own rates, each taken over its timed
 * loop only (slot filling, cache and heap setup excluded). */
static double threads_mops(allocator_t *a, const rnd_plan_t *plans, int threads, long steps)
{
    pthread_t th[2];
    thread_arg_t args[2];
    gate_t start;
    double total = 0;
    atomic_init(&start.arrived, 0);
    start.threads = threads;
    for (int i = 0; i < threads; ++i) {
        args[i] = (thread_arg_t){ a, &plans[i], steps, &start, 0 };
        pthread_create(&th[i], NULL, random_thread, &args[i]);
    }
    for (int i = 0; i < threads; ++i) {
        pthread_join(th[i], NULL);
        if (args[i].ns_per_op > 0)
            total += 1e3 / args[i].ns_per_op;
    }
    return total;
}

static double bench_threads(allocator_t *a, const rnd_plan_t *plans, int threads, long steps)
{
    double v[16];
    for (int r = 0; r < runs; ++r)
        v[r] = threads_mops(a, plans, threads, steps);
    return median(v, runs);
}

/* ------------------------------------------------------------------------
 * 5. Worst case: every malloc and free of a long random run timed alone.
 * ---------------------------------------------------------------------- */

typedef struct pct {
    double p50, p99, p999, max;
} pct_t;

static pct_t percentiles(uint32_t *v, size_t n, double minus)
{
    pct_t r;
    qsort(v, n, sizeof v[0], cmp_u32);
    r.p50 = v[n / 2] - minus;
    r.p99 = v[(size_t)((double)n * 0.99)] - minus;
    r.p999 = v[(size_t)((double)n * 0.999)] - minus;
    r.max = v[n - 1] - minus;
    return r;
}

static uint32_t clamp32(uint64_t d) { return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d; }

/* Whether the worst-case run uses rng_size's wide mix. */
static int wide_sizes;

static void bench_worst(allocator_t *a, void *ctx, long ops, uint32_t *tm, uint32_t *tf,
                        pct_t *m, pct_t *f, double overhead)
{
    void **slots = calloc(SLOTS, sizeof *slots);
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    long nm = 0, nf = 0;
    if (!slots)
        return;
    for (int i = 0; i < SLOTS; ++i)
        slots[i] = a->alloc(ctx, rng_size(&s, wide_sizes));
    for (long i = 0; i < ops; ++i) {
        unsigned slot = (unsigned)(rng_next(&s) % SLOTS);
        size_t n = rng_size(&s, wide_sizes);
        uint64_t t0, t1, t2;
        void *old = slots[slot];
        t0 = ticks();
        a->release(ctx, old);
        t1 = ticks();
        slots[slot] = a->alloc(ctx, n);
        t2 = ticks();
        tf[nf++] = clamp32(t1 - t0);
        tm[nm++] = clamp32(t2 - t1);
    }
    sink = slots[0];
    for (int i = 0; i < SLOTS; ++i)
        a->release(ctx, slots[i]);
    free(slots);
    *m = percentiles(tm, (size_t)nm, overhead);
    *f = percentiles(tf, (size_t)nf, overhead);
}

static double timer_overhead(uint32_t *buf, long n)
{
    for (long i = 0; i < n; ++i) {
        uint64_t t0 = ticks();
        uint64_t t1 = ticks();
        buf[i] = clamp32(t1 - t0);
    }
    qsort(buf, (size_t)n, sizeof buf[0], cmp_u32);
    return buf[n / 2];
}

/* ------------------------------------------------------------------------ */

static void *idle_thread(void *arg) { return arg; }

int main(int argc, char **argv)
{
    int quick = 0;
    long pair_iters, batch_rounds, rnd_steps, thr_steps, worst_ops;
    allocator_t al[A_COUNT];
    void *ctx[A_COUNT];
    static rnd_plan_t plans[2];
    static const size_t pair_sizes[] = { 16, 64, 128 };
    double pair[3][A_COUNT], batch[A_COUNT], rnd[A_COUNT], thr1[A_COUNT], thr2[A_COUNT];
    uint32_t *tm, *tf;
    sm_allocator sm;

    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--quick")) {
            quick = 1;
        } else {
            fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
            return 2;
        }
    }
    if (quick) {
        runs = 3;
        pair_iters = 300000;
        batch_rounds = 150;
        rnd_steps = 200000;
        thr_steps = 300000;
        worst_ops = 300000;
    } else {
        runs = 7;
        pair_iters = 3000000;
        batch_rounds = 1500;
        rnd_steps = 1500000;
        thr_steps = 2000000;
        worst_ops = 2000000;
    }

    /* glibc takes its faster single-thread path until a thread exists;
     * JVM processes always have threads, so measure the threaded path. */
    {
        pthread_t th;
        pthread_create(&th, NULL, idle_thread, NULL);
        pthread_join(th, NULL);
    }

    sm = sm_allocator_create(BUCKETS, BUCKET_BYTES);
    if (!sm) {
        fprintf(stderr, "sm_allocator_create failed\n");
        return 1;
    }
    al[A_GLIBC] = (allocator_t){ "glibc", sys_alloc, sys_release, sys_begin, sys_end, NULL };
    al[A_TLSF] = (allocator_t){ "tlsf", tl_alloc, tl_release, tl_begin, tl_end, NULL };
    al[A_SM] = (allocator_t){ "sm nocache", sm_alloc, sm_release, sm_begin_nocache, sm_end_nocache, sm };
    al[A_SMC] = (allocator_t){ "sm cached", sm_alloc, sm_release, sm_begin_cached, sm_end_cached, sm };
    plan_init(&plans[0], 12345);
    plan_init(&plans[1], 67890);

    printf("nalloc C harness%s: median of %d runs; ratio = allocator / glibc (lower is faster)\n",
           quick ? " (--quick)" : "", runs);
    printf("bucket allocator: %d buckets (16..%d B), thread cache %d B per bucket, warm\n\n",
           BUCKETS, BUCKETS * 16, CACHE_BYTES);

    /* Single-threaded sections: one context per allocator on this thread.
     * The cached and uncached bucket runs share one allocator, so the
     * cache exists only around the cached runs. */
    for (int k = 0; k < A_COUNT; ++k) {
        if (k == A_SMC)
            continue;
        ctx[k] = al[k].thread_begin(&al[k]);
        if (k == A_TLSF && !ctx[k]) {
            fprintf(stderr, "tlsf_create failed\n");
            return 1;
        }
        for (int s = 0; s < 3; ++s)
            pair[s][k] = bench_pair(&al[k], ctx[k], pair_sizes[s], pair_iters);
        batch[k] = bench_batch(&al[k], ctx[k], batch_rounds);
        rnd[k] = bench_random(&al[k], ctx[k], &plans[0], rnd_steps);
        if (k != A_SM)
            al[k].thread_end(&al[k], ctx[k]);
    }
    ctx[A_SMC] = al[A_SMC].thread_begin(&al[A_SMC]);
    for (int s = 0; s < 3; ++s)
        pair[s][A_SMC] = bench_pair(&al[A_SMC], ctx[A_SMC], pair_sizes[s], pair_iters);
    batch[A_SMC] = bench_batch(&al[A_SMC], ctx[A_SMC], batch_rounds);
    rnd[A_SMC] = bench_random(&al[A_SMC], ctx[A_SMC], &plans[0], rnd_steps);
    al[A_SMC].thread_end(&al[A_SMC], ctx[A_SMC]);

    printf("%-30s", "workload");
    for (int k = 0; k < A_COUNT; ++k)
        printf(" %10s %6s", al[k].name, "ratio");
    printf("\n");
    for (int s = 0; s < 3; ++s) {
        char label[64];
        snprintf(label, sizeof label, "pair %zu B (ns/pair)", pair_sizes[s]);
        printf("%-30s", label);
        for (int k = 0; k < A_COUNT; ++k)
            printf(" %10.1f %6.2f", pair[s][k], pair[s][k] / pair[s][A_GLIBC]);
        printf("\n");
    }
    printf("%-30s", "batch 1000x64 B (ns/op)");
    for (int k = 0; k < A_COUNT; ++k)
        printf(" %10.1f %6.2f", batch[k], batch[k] / batch[A_GLIBC]);
    printf("\n%-30s", "random 4096 x 8..256 (ns/op)");
    for (int k = 0; k < A_COUNT; ++k)
        printf(" %10.1f %6.2f", rnd[k], rnd[k] / rnd[A_GLIBC]);
    printf("\n\n");

    /* 4. Threads. */
    for (int k = 0; k < A_COUNT; ++k) {
        thr1[k] = bench_threads(&al[k], plans, 1, thr_steps);
        thr2[k] = bench_threads(&al[k], plans, 2, thr_steps);
    }
    printf("random set on threads (total Mops/s, higher is better; tlsf: one heap per thread)\n");
    printf("%-30s", "threads");
    for (int k = 0; k < A_COUNT; ++k)
        printf(" %10s %6s", al[k].name, "ratio");
    printf("\n%-30s", "1 thread (Mops/s)");
    for (int k = 0; k < A_COUNT; ++k)
        printf(" %10.1f %6.2f", thr1[k], thr1[k] / thr1[A_GLIBC]);
    printf("\n%-30s", "2 threads (Mops/s)");
    for (int k = 0; k < A_COUNT; ++k)
        printf(" %10.1f %6.2f", thr2[k], thr2[k] / thr2[A_GLIBC]);
    printf("\n%-30s", "scaling 2T / 1T");
    for (int k = 0; k < A_COUNT; ++k)
        printf(" %10.2f %6s", thr2[k] / thr1[k], "");
    printf("\n\n");

    /* 5. Worst case. */
    tm = malloc((size_t)worst_ops * sizeof *tm);
    tf = malloc((size_t)worst_ops * sizeof *tf);
    if (!tm || !tf) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    {
        double overhead = timer_overhead(tm, 100000);
        static const int who[] = { A_TLSF, A_GLIBC };
        printf("per-call latency over %ld random frees + mallocs of 4096 slots, each call timed alone\n",
               worst_ops);
        printf("unit: %s; the timer's own cost (p50 of an empty window, %.0f) is subtracted\n", TICK_UNIT,
               overhead);
        printf("%-26s %8s %8s %8s %10s %10s\n", "call", "p50", "p99", "p99.9", "max", "p99.9/p50");
        for (int w = 0; w < 4; ++w) {
            allocator_t *a = &al[who[w % 2]];
            void *c = a->thread_begin(a);
            pct_t m = { 0, 0, 0, 0 }, f = { 0, 0, 0, 0 };
            char label[48];
            if (who[w % 2] == A_TLSF && !c)
                continue;
            wide_sizes = w >= 2;
            bench_worst(a, c, worst_ops, tm, tf, &m, &f, overhead);
            a->thread_end(a, c);
            snprintf(label, sizeof label, "%s malloc %s", a->name, wide_sizes ? "8B..8K" : "8..256B");
            printf("%-26s %8.0f %8.0f %8.0f %10.0f %10.2f\n", label, m.p50, m.p99, m.p999, m.max,
                   m.p50 > 0 ? m.p999 / m.p50 : 0);
            snprintf(label, sizeof label, "%s free %s", a->name, wide_sizes ? "8B..8K" : "8..256B");
            printf("%-26s %8.0f %8.0f %8.0f %10.0f %10.2f\n", label, f.p50, f.p99, f.p999, f.max,
                   f.p50 > 0 ? f.p999 / f.p50 : 0);
        }
        printf("(max includes interrupts and preemption on a shared machine; callgrind.sh gives\n"
               " the deterministic instruction counts)\n");
    }
    free(tm);
    free(tf);
    sm_allocator_destroy(sm);
    return 0;
}
