/* nalloc_bench - the C speed harness: glibc, mimalloc, jemalloc, the TLSF
 * heap and the bucket allocator (with and without a thread cache) on the
 * same workloads.
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
 *                use); glibc and the peers are shared as usual.
 *   5. worst     TLSF (glibc for reference): timer ticks per malloc and per
 *                free at p50, p99, p99.9 and max over a long randomized run
 *                (rdtsc on x86-64, clock_gettime ns elsewhere).
 *   6. producer/consumer  one thread allocates 64 B blocks, writes a word
 *                into each and passes it through a bounded single-producer
 *                single-consumer ring to a second thread, which reads and
 *                frees it: every free is a free from another thread. Million
 *                blocks per second over 10 M blocks, and the process's
 *                VmRSS before and after. Not TLSF: a heap of one thread.
 *
 * Every figure is the median of several runs; ratios are to glibc (lower
 * is faster for ns, higher is better for rates) and, for the cached bucket
 * allocator, also to mimalloc. A report, not a test: nothing here asserts,
 * and on a shared machine the numbers move. Instruction counts, which do
 * not move, come from callgrind.sh.
 *
 * The peers run in binaries of their own, this source compiled with
 * NALLOC_BENCH_PEER_MIMALLOC or NALLOC_BENCH_PEER_JEMALLOC: Debian's
 * libmimalloc.so and libjemalloc.so both export plain malloc and free (no
 * prefixed-only build), so linking either one replaces glibc's allocator
 * for the whole process, the glibc column and the other peer included. A
 * peer binary measures its allocator alone and prints raw figures (--raw);
 * the main binary merges them into its table (--peer FILE).
 *
 *   nalloc_bench [--quick] [--raw] [--peer FILE]...
 *     --quick   CI-sized runs (well under a minute)
 *     --raw     "row allocator value" lines instead of the table
 *     --peer    merge another binary's --raw figures into the table
 */
#include "bench_util.h"

#include "smmalloc.h"
#include "tlsf.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
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

#if defined(NALLOC_BENCH_PEER_MIMALLOC)
#include <mimalloc.h>
#define PEER A_MI
/* mi_malloc is the same function as the malloc this binary now has; the
 * prefixed name documents which allocator is measured. */
static void *mi_alloc(void *ctx, size_t n) { (void)ctx; return mi_malloc(n); }
static void mi_release(void *ctx, void *p) { (void)ctx; mi_free(p); }
#elif defined(NALLOC_BENCH_PEER_JEMALLOC)
#include <jemalloc/jemalloc.h>
#define PEER A_JE
/* Debian's jemalloc is built without a prefix: its malloc and free are the
 * process's, so these are jemalloc's. */
static void *je_alloc(void *ctx, size_t n) { (void)ctx; return malloc(n); }
static void je_release(void *ctx, void *p) { (void)ctx; free(p); }
#endif

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

enum { A_GLIBC, A_MI, A_JE, A_TLSF, A_SM, A_SMC, A_COUNT };

/* The names double as the allocator keys of the --raw lines. */
static const char *const alloc_name[A_COUNT] = { "glibc", "mimalloc", "jemalloc",
                                                 "tlsf", "sm-nocache", "sm-cached" };

/* Table rows; the keys name them in --raw lines. */
enum {
    R_PAIR16, R_PAIR64, R_PAIR128, R_BATCH, R_RANDOM,
    R_THR1, R_THR2, R_SCALE,
    R_PC_RATE, R_PC_RSS0, R_PC_RSS1, R_PC_GROWTH,
    R_COUNT
};

static const struct row {
    const char *key, *label;
    int decimals;
} rows[R_COUNT] = {
    { "pair16", "pair 16 B (ns/pair)", 1 },
    { "pair64", "pair 64 B (ns/pair)", 1 },
    { "pair128", "pair 128 B (ns/pair)", 1 },
    { "batch", "batch 1000x64 B (ns/op)", 1 },
    { "random", "random 4096 x 8..256 (ns/op)", 1 },
    { "thr1", "random, 1 thread (Mops/s)", 1 },
    { "thr2", "random, 2 threads (Mops/s)", 1 },
    { "scale", "scaling 2T / 1T", 2 },
    { "pc-rate", "prod/cons 64 B (M blocks/s)", 2 },
    { "pc-rss0", "VmRSS before (MiB)", 1 },
    { "pc-rss1", "VmRSS after (MiB)", 1 },
    { "pc-growth", "VmRSS growth (MiB)", 1 },
};

/* Every figure, NAN where an allocator was not measured (not in this
 * binary, or the workload does not apply). */
static double fig[R_COUNT][A_COUNT];

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
 * 6. Producer/consumer.
 * ---------------------------------------------------------------------- */

#define RING 1024 /* slots; also bounds the blocks in flight */
#define PC_BLOCK 64

/* Head and tail on lines of their own, so the two threads write apart and
 * only read each other's index when their cached copy runs out. */
typedef struct ring {
    _Alignas(64) atomic_size_t head; /* consumed; written by the consumer */
    _Alignas(64) atomic_size_t tail; /* produced; written by the producer */
    _Alignas(64) void *slot[RING];
} ring_t;

typedef struct pc_arg {
    allocator_t *a;
    ring_t *ring;
    long blocks;
    gate_t *start;
    double t; /* producer: start time; consumer: end time */
    uint64_t sum;
} pc_arg_t;

/* A spinning thread gives its core away after a while: with two threads on
 * two cores of a busy machine, a waiter that never yields can stall the
 * very thread it waits for. */
static void backoff(unsigned *spins)
{
    if (++*spins >= 64) {
        *spins = 0;
        sched_yield();
    }
}

static void *pc_producer(void *arg)
{
    pc_arg_t *t = arg;
    allocator_t *a = t->a;
    ring_t *r = t->ring;
    void *ctx = a->thread_begin(a);
    size_t tail = 0, head = 0;
    unsigned spins = 0;
    gate_wait(t->start);
    t->t = now_ns();
    for (long i = 0; i < t->blocks; ++i) {
        uint64_t *p = a->alloc(ctx, PC_BLOCK);
        if (!p)
            abort(); /* a figure without its blocks would be a lie */
        *p = (uint64_t)i;
        while (tail - head == RING) {
            head = atomic_load_explicit(&r->head, memory_order_acquire);
            if (tail - head == RING)
                backoff(&spins);
        }
        r->slot[tail % RING] = p;
        atomic_store_explicit(&r->tail, ++tail, memory_order_release);
    }
    a->thread_end(a, ctx);
    return NULL;
}

static void *pc_consumer(void *arg)
{
    pc_arg_t *t = arg;
    allocator_t *a = t->a;
    ring_t *r = t->ring;
    void *ctx = a->thread_begin(a);
    size_t head = 0, tail = 0, end = (size_t)t->blocks;
    unsigned spins = 0;
    uint64_t sum = 0;
    gate_wait(t->start);
    while (head < end) {
        tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (tail == head) {
            backoff(&spins);
            continue;
        }
        /* Everything published so far, then one store to hand the slots
         * back. */
        for (; head < tail; ++head) {
            uint64_t *p = r->slot[head % RING];
            sum += *p;
            a->release(ctx, p);
        }
        atomic_store_explicit(&r->head, head, memory_order_release);
    }
    t->t = now_ns();
    t->sum = sum;
    a->thread_end(a, ctx);
    return NULL;
}

/* VmRSS in MiB, NAN without /proc (macOS). */
static double vm_rss_mib(void)
{
    char line[256];
    double kib = NAN;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return NAN;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6)) {
            kib = strtod(line + 6, NULL);
            break;
        }
    }
    fclose(f);
    return kib / 1024;
}

/* Million blocks per second of one producer/consumer run. */
static double pc_run(allocator_t *a, long blocks)
{
    static ring_t ring;
    pthread_t prod, cons;
    pc_arg_t pa, ca;
    gate_t start;
    atomic_init(&ring.head, 0);
    atomic_init(&ring.tail, 0);
    atomic_init(&start.arrived, 0);
    start.threads = 2;
    pa = (pc_arg_t){ a, &ring, blocks, &start, 0, 0 };
    ca = pa;
    pthread_create(&prod, NULL, pc_producer, &pa);
    pthread_create(&cons, NULL, pc_consumer, &ca);
    pthread_join(prod, NULL);
    pthread_join(cons, NULL);
    /* the producer wrote 0..blocks-1: a lost or torn block shows here */
    if (ca.sum != (uint64_t)blocks * (uint64_t)(blocks - 1) / 2) {
        fprintf(stderr, "%s: producer/consumer lost blocks\n", a->name);
        exit(1);
    }
    return (double)blocks / (ca.t - pa.t) * 1e3;
}

static void bench_pc(allocator_t *a, int k, long blocks)
{
    double v[16];
    fig[R_PC_RSS0][k] = vm_rss_mib();
    for (int r = 0; r < runs; ++r)
        v[r] = pc_run(a, blocks);
    fig[R_PC_RSS1][k] = vm_rss_mib();
    fig[R_PC_RATE][k] = median(v, runs);
    fig[R_PC_GROWTH][k] = fig[R_PC_RSS1][k] - fig[R_PC_RSS0][k];
}

/* ------------------------------------------------------------------------
 * Output: the table, or raw lines for another binary's --peer.
 * ---------------------------------------------------------------------- */

#ifdef PEER
/* The peer's version, for the table's header. */
static void peer_version(char *out, size_t n)
{
#if defined(NALLOC_BENCH_PEER_MIMALLOC)
    int v = mi_version();
    snprintf(out, n, "%d.%d.%d", v / 100, v / 10 % 10, v % 10);
#elif defined(NALLOC_BENCH_PEER_JEMALLOC)
    const char *v = "?";
    size_t len = sizeof v;
    /* also keeps libjemalloc linked under --as-needed: malloc alone would
     * not ask for it */
    mallctl("version", (void *)&v, &len, NULL, 0);
    snprintf(out, n, "%s", v);
#endif
}
#endif

static void print_raw(void)
{
#ifdef PEER
    char v[64];
    peer_version(v, sizeof v);
    printf("version %s %s\n", alloc_name[PEER], v);
#endif
    for (int r = 0; r < R_COUNT; ++r)
        for (int k = 0; k < A_COUNT; ++k)
            if (!isnan(fig[r][k]))
                printf("%s %s %.17g\n", rows[r].key, alloc_name[k], fig[r][k]);
}

static int read_raw(const char *path)
{
    char line[256], key[32], name[32], text[64];
    double v;
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        int r = 0, k = 0;
        if (sscanf(line, "version %31s %63s", name, text) == 2) {
            printf("%s %s (its own process, --peer %s)\n", name, text, path);
            continue;
        }
        if (sscanf(line, "%31s %31s %lf", key, name, &v) != 3)
            continue;
        while (r < R_COUNT && strcmp(rows[r].key, key))
            ++r;
        while (k < A_COUNT && strcmp(alloc_name[k], name))
            ++k;
        if (r < R_COUNT && k < A_COUNT)
            fig[r][k] = v;
    }
    fclose(f);
    return 0;
}

static void print_ratio(double x, double base)
{
    if (isnan(x) || isnan(base) || base <= 0)
        printf(" %6s", "-");
    else
        printf(" %6.2f", x / base);
}

static void print_rows(int from, int to)
{
    for (int r = from; r < to; ++r) {
        printf("%-30s", rows[r].label);
        for (int k = 0; k < A_COUNT; ++k) {
            if (isnan(fig[r][k]))
                printf(" %9s", "-");
            else
                printf(" %9.*f", rows[r].decimals, fig[r][k]);
            print_ratio(fig[r][k], fig[r][A_GLIBC]);
        }
        print_ratio(fig[r][A_SMC], fig[r][A_MI]);
        printf("\n");
    }
}

static void print_head(const char *title)
{
    printf("%-30s", title);
    for (int k = 0; k < A_COUNT; ++k)
        printf(" %9s %6s", alloc_name[k], "/glibc");
    printf(" %6s\n", "c/mi");
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
    int quick = 0, raw = 0, npeers = 0;
    const char *peers[8];
    long pair_iters, batch_rounds, rnd_steps, thr_steps, worst_ops, pc_blocks = 10000000;
    allocator_t al[A_COUNT];
    int present[A_COUNT] = { 0 };
    void *ctx;
    static rnd_plan_t plans[2];
    static const size_t pair_sizes[] = { 16, 64, 128 };
    uint32_t *tm, *tf;
    sm_allocator sm = NULL;

    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--quick")) {
            quick = 1;
        } else if (!strcmp(argv[i], "--raw")) {
            raw = 1;
        } else if (!strcmp(argv[i], "--peer") && i + 1 < argc && npeers < 8) {
            peers[npeers++] = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--quick] [--raw] [--peer FILE]...\n", argv[0]);
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
    for (int r = 0; r < R_COUNT; ++r)
        for (int k = 0; k < A_COUNT; ++k)
            fig[r][k] = NAN;

    /* glibc takes its faster single-thread path until a thread exists;
     * JVM processes always have threads, so measure the threaded path
     * (the peers likewise). */
    {
        pthread_t th;
        pthread_create(&th, NULL, idle_thread, NULL);
        pthread_join(th, NULL);
    }

#ifdef PEER
    present[PEER] = 1;
#else
    present[A_GLIBC] = present[A_TLSF] = present[A_SM] = present[A_SMC] = 1;
    sm = sm_allocator_create(BUCKETS, BUCKET_BYTES);
    if (!sm) {
        fprintf(stderr, "sm_allocator_create failed\n");
        return 1;
    }
#endif
    al[A_GLIBC] = (allocator_t){ "glibc", sys_alloc, sys_release, sys_begin, sys_end, NULL };
#if defined(NALLOC_BENCH_PEER_MIMALLOC)
    al[A_MI] = (allocator_t){ "mimalloc", mi_alloc, mi_release, sys_begin, sys_end, NULL };
#else
    al[A_MI] = al[A_GLIBC];
#endif
#if defined(NALLOC_BENCH_PEER_JEMALLOC)
    al[A_JE] = (allocator_t){ "jemalloc", je_alloc, je_release, sys_begin, sys_end, NULL };
#else
    al[A_JE] = al[A_GLIBC];
#endif
    al[A_TLSF] = (allocator_t){ "tlsf", tl_alloc, tl_release, tl_begin, tl_end, NULL };
    al[A_SM] = (allocator_t){ "sm nocache", sm_alloc, sm_release, sm_begin_nocache, sm_end_nocache, sm };
    al[A_SMC] = (allocator_t){ "sm cached", sm_alloc, sm_release, sm_begin_cached, sm_end_cached, sm };
    plan_init(&plans[0], 12345);
    plan_init(&plans[1], 67890);

    if (!raw) {
        printf("nalloc C harness%s: median of %d runs; /glibc = allocator / glibc (lower is faster for\n"
               "ns, higher is better for rates); c/mi = bucket cached / mimalloc\n",
               quick ? " (--quick)" : "", runs);
        printf("bucket allocator: %d buckets (16..%d B), thread cache %d B per bucket, warm\n",
               BUCKETS, BUCKETS * 16, CACHE_BYTES);
#ifdef PEER
        {
            char v[64];
            peer_version(v, sizeof v);
            printf("%s %s\n", alloc_name[PEER], v);
        }
#endif
        fflush(stdout);
    }

    /* 6 first: VmRSS before it is then the process at its smallest. */
    for (int k = 0; k < A_COUNT; ++k)
        if (present[k] && k != A_TLSF)
            bench_pc(&al[k], k, pc_blocks);

    /* Single-threaded sections: one context per allocator on this thread.
     * The cached and uncached bucket runs share one allocator, so the
     * cache exists only around the cached runs. */
    for (int k = 0; k < A_COUNT; ++k) {
        if (!present[k])
            continue;
        ctx = al[k].thread_begin(&al[k]);
        if (k == A_TLSF && !ctx) {
            fprintf(stderr, "tlsf_create failed\n");
            return 1;
        }
        for (int s = 0; s < 3; ++s)
            fig[R_PAIR16 + s][k] = bench_pair(&al[k], ctx, pair_sizes[s], pair_iters);
        fig[R_BATCH][k] = bench_batch(&al[k], ctx, batch_rounds);
        fig[R_RANDOM][k] = bench_random(&al[k], ctx, &plans[0], rnd_steps);
        al[k].thread_end(&al[k], ctx);
    }

    /* 4. Threads. */
    for (int k = 0; k < A_COUNT; ++k) {
        if (!present[k])
            continue;
        fig[R_THR1][k] = bench_threads(&al[k], plans, 1, thr_steps);
        fig[R_THR2][k] = bench_threads(&al[k], plans, 2, thr_steps);
        fig[R_SCALE][k] = fig[R_THR2][k] / fig[R_THR1][k];
    }

    if (raw) {
        print_raw();
        sm_allocator_destroy(sm);
        return 0;
    }
    for (int i = 0; i < npeers; ++i)
        if (read_raw(peers[i]))
            return 1;
    printf("\n");

    print_head("single thread");
    print_rows(R_PAIR16, R_THR1);
    printf("\n");
    print_head("random set on threads");
    print_rows(R_THR1, R_PC_RATE);
    printf("(tlsf: one heap per thread; the others shared)\n\n");
    print_head("producer/consumer");
    print_rows(R_PC_RATE, R_COUNT);
    printf("(%ld blocks of %d B through a %d-slot ring, freed on the other thread; VmRSS of\n"
           " each peer's own process, the others share one; tlsf: a heap of one thread)\n\n",
           pc_blocks, PC_BLOCK, RING);

    /* 5. Worst case: TLSF, glibc for reference. */
    if (!present[A_TLSF] || !present[A_GLIBC]) {
        sm_allocator_destroy(sm);
        return 0;
    }
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
