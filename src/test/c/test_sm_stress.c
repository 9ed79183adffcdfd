/* Multi-threaded stress test of smmalloc: the four patterns of a lock-free
 * allocator test, each run with and without thread caches, one thread per
 * core (at least 4, so small machines still get preemption inside CAS
 * windows; NALLOC_TEST_THREADS overrides):
 *   1. allocate and free one block, over and over;
 *   2. random allocate / free among the thread's own blocks;
 *   3. all threads through the same buckets, blocks handed between threads
 *      through a shared exchange array (freed by another thread);
 *   4. allocate a random number of blocks, then free a random number.
 * Every block carries its tag (thread id and counter) and a pattern derived
 * from it, verified before the block is freed: two threads handed the same
 * block, or a block overwritten by the allocator, break the pattern.
 * At the end: sm_check passes, nothing in use, nothing cached.
 * Iterations per thread and pattern: argv[1], else NALLOC_STRESS_ITERS, else
 * 1000000, divided by 10 in sanitizer builds (detected at compile time) so
 * the ThreadSanitizer run stays within seconds. */
#include "smmalloc.h"
#include "test_util.h"

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifdef SANITIZED
#define DEFAULT_ITERS 100000
#else
#define DEFAULT_ITERS 1000000
#endif

#define OWN_BLOCKS 64
#define EXCHANGE_SLOTS 256

typedef struct {
    sm_allocator a;
    int id;
    int pattern;
    int cached;
    uint64_t iters;
    test_rng rng;
    uint64_t counter;
    uint64_t allocs;
    int failures;
} worker;

static _Atomic(unsigned char *) exchange_slots[EXCHANGE_SLOTS];
static _Atomic int start_line;

/* Like the size (tagged_size), the alignment follows from the tag. */
static size_t align_of_tag(uint64_t tag)
{
    static const size_t aligns[8] = {0, 0, 0, 0, 8, 16, 32, 64};
    return aligns[(tag * 0xD6E8FEB86659FD93ull) >> 61];
}

static unsigned char *alloc_block(worker *w)
{
    uint64_t tag = ((uint64_t)(w->id + 1) << 40) | ++w->counter;
    size_t size = tagged_size(tag), align = align_of_tag(tag);
    unsigned char *p = (unsigned char *)sm_malloc(w->a, size, align);
    if (p == NULL || (uintptr_t)p % (align ? align : 16) != 0) {
        w->failures++;
        return NULL;
    }
    tagged_fill(p, tag);
    w->allocs++;
    return p;
}

static void free_block(worker *w, unsigned char *p)
{
    uint64_t tag;
    if (p == NULL) return;
    if (!tagged_ok(p, &tag) || sm_msize(w->a, p) < tagged_size(tag)) {
        w->failures++;
        return; /* leave it: the end-of-test checks will report it too */
    }
    if (sm_free_checked(w->a, p) != SM_OK) w->failures++;
}

static void pattern_single(worker *w)
{
    for (uint64_t it = 0; it < w->iters; ++it) free_block(w, alloc_block(w));
}

static void pattern_random_own(worker *w)
{
    unsigned char *own[OWN_BLOCKS] = {0};
    for (uint64_t it = 0; it < w->iters; ++it) {
        size_t j = (size_t)rng_range(&w->rng, 0, OWN_BLOCKS - 1);
        if (own[j] == NULL) {
            own[j] = alloc_block(w);
        } else {
            free_block(w, own[j]);
            own[j] = NULL;
        }
    }
    for (size_t j = 0; j < OWN_BLOCKS; ++j) free_block(w, own[j]);
}

static void pattern_shared(worker *w)
{
    for (uint64_t it = 0; it < w->iters; ++it) {
        size_t j = (size_t)rng_range(&w->rng, 0, EXCHANGE_SLOTS - 1);
        unsigned char *mine = rng_range(&w->rng, 0, 2) != 0 ? alloc_block(w) : NULL;
        /* acq_rel: the writer's pattern happens-before the taker's check */
        unsigned char *theirs =
            atomic_exchange_explicit(&exchange_slots[j], mine, memory_order_acq_rel);
        free_block(w, theirs);
    }
}

static void pattern_burst(worker *w)
{
    unsigned char *own[OWN_BLOCKS];
    size_t n = 0;
    for (uint64_t it = 0; it < w->iters;) {
        size_t add = (size_t)rng_range(&w->rng, 1, OWN_BLOCKS - n > 0 ? OWN_BLOCKS - n : 1);
        for (size_t k = 0; k < add && n < OWN_BLOCKS; ++k, ++it) own[n++] = alloc_block(w);
        size_t del = (size_t)rng_range(&w->rng, 1, n);
        for (size_t k = 0; k < del && n > 0; ++k, ++it) {
            size_t j = (size_t)rng_range(&w->rng, 0, n - 1);
            free_block(w, own[j]);
            own[j] = own[--n];
        }
    }
    while (n > 0) free_block(w, own[--n]);
}

static void *worker_main(void *arg)
{
    worker *w = (worker *)arg;
    if (w->cached)
        sm_allocator_thread_cache_create(w->a, (sm_cache_warmup)(w->id % 3),
                                         w->id % 2 ? 1024 : 128);
    atomic_fetch_add_explicit(&start_line, 1, memory_order_acq_rel);
    while (atomic_load_explicit(&start_line, memory_order_acquire) > 0) sched_yield();
    switch (w->pattern) {
    case 1: pattern_single(w); break;
    case 2: pattern_random_own(w); break;
    case 3: pattern_shared(w); break;
    default: pattern_burst(w); break;
    }
    /* half the threads destroy their cache, half leave it to thread exit */
    if (w->cached && w->id % 2 == 0) sm_allocator_thread_cache_destroy(w->a);
    return NULL;
}

static void run(int pattern, int cached, int threads, uint64_t iters)
{
    /* 4 KiB buckets (256 blocks of 16 B .. 32 of 128 B): busy buckets run
     * dry now and then, so exhaustion and fallbacks happen under contention
     * too, and blocks are recycled often (ABA windows). */
    sm_allocator a = sm_allocator_create(8, 4 * 1024);
    REQUIRE(a != NULL);
    worker *w = (worker *)calloc((size_t)threads, sizeof *w);
    pthread_t *t = (pthread_t *)calloc((size_t)threads, sizeof *t);
    REQUIRE(w != NULL && t != NULL);
    atomic_store(&start_line, -threads);
    for (int k = 0; k < threads; ++k) {
        w[k].a = a;
        w[k].id = k;
        w[k].pattern = pattern;
        w[k].cached = cached;
        w[k].iters = iters;
        w[k].rng.s = 0x9E3779B97F4A7C15ull * (uint64_t)(k + 1) + (uint64_t)pattern;
        REQUIRE(pthread_create(&t[k], NULL, worker_main, &w[k]) == 0);
    }
    int failures = 0;
    uint64_t allocs = 0;
    for (int k = 0; k < threads; ++k) {
        pthread_join(t[k], NULL);
        failures += w[k].failures;
        allocs += w[k].allocs;
    }
    worker drain = {a, threads, 0, 0, 0, {1}, 0, 0, 0};
    for (size_t j = 0; j < EXCHANGE_SLOTS; ++j)
        free_block(&drain, atomic_exchange(&exchange_slots[j], NULL));
    failures += drain.failures;
    CHECK(failures == 0);
    CHECK(sm_check(a) == 0);
    sm_stats st;
    sm_get_stats(a, &st);
    uint64_t fallbacks = 0;
    for (size_t i = 0; i < st.bucket_count; ++i) {
        CHECK(st.buckets[i].blocks_in_use == 0);
        CHECK(st.buckets[i].blocks_cached == 0);
        fallbacks += st.buckets[i].fallbacks;
    }
    CHECK(st.thread_caches == 0);
    CHECK(st.fallback_blocks_in_use == 0 && st.fallback_bytes_in_use == 0);
    printf("  pattern %d %s cache: %d threads, %" PRIu64 " allocations, %" PRIu64
           " to the fallback (%" PRIu64 " bucket exhausted)%s\n",
           pattern, cached ? "with" : "without", threads, allocs, st.fallback_allocs, fallbacks,
           failures ? "  FAILURES" : "");
    sm_allocator_destroy(a);
    free(w);
    free(t);
}

int main(int argc, char **argv)
{
    uint64_t iters = test_size_arg(argc, argv, "NALLOC_STRESS_ITERS", DEFAULT_ITERS);
    int threads = test_cpu_count();
    if (threads < 4 && getenv("NALLOC_TEST_THREADS") == NULL) threads = 4;
    printf("test_sm_stress: %d threads, %" PRIu64 " iterations per thread and run\n", threads,
           iters);
    for (int pattern = 1; pattern <= 4; ++pattern)
        for (int cached = 0; cached < 2; ++cached) run(pattern, cached, threads, iters);
    return test_finish("test_sm_stress");
}
