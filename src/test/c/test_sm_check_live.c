/* sm_check while other threads allocate and free. Its answer is then only
 * a guess (the allocator is not quiescent), but the walk must not disturb
 * anything: workers with and without thread caches run random allocate /
 * free among their own blocks while one thread calls sm_check over and
 * over. Every block carries its tag and a pattern, verified before it is
 * freed, so a block handed to two threads shows; a worker that stops making
 * progress (spinning on a damaged list) is reported as hung, and ctest's
 * timeout catches what the watchdog cannot. At the end, quiescent, sm_check
 * must pass and nothing may be in use.
 * Run time: NALLOC_CHECK_LIVE_MS (default 1000) of concurrent checking. */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L
#endif

#include "smmalloc.h"
#include "test_util.h"

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#define OWN_BLOCKS 64
#define HANG_MS 10000

static uint64_t now_ms(void)
{
#if defined(_WIN32)
    return (uint64_t)GetTickCount64();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
#endif
}

typedef struct {
    sm_allocator a;
    int id;
    test_rng rng;
    uint64_t counter;
    int failures;
    _Atomic uint64_t progress; /* operations done; the watchdog reads it */
    _Atomic int done;
} worker;

static _Atomic int stop;

static unsigned char *alloc_block(worker *w)
{
    uint64_t tag = ((uint64_t)(w->id + 1) << 40) | ++w->counter;
    unsigned char *p = (unsigned char *)sm_malloc(w->a, tagged_size(tag), 0);
    if (p == NULL) w->failures++;
    else tagged_fill(p, tag);
    return p;
}

static void free_block(worker *w, unsigned char *p)
{
    uint64_t tag;
    if (p == NULL) return;
    if (!tagged_ok(p, &tag) || (tag >> 40) != (uint64_t)(w->id + 1)) {
        w->failures++;
        return; /* someone else has it too: leave it */
    }
    if (sm_free_checked(w->a, p) != SM_OK) w->failures++;
}

static void *worker_main(void *arg)
{
    worker *w = (worker *)arg;
    /* small caches: they fill, flush to the shared lists and refill often */
    if (w->id % 3 != 2)
        sm_allocator_thread_cache_create(w->a, (sm_cache_warmup)(w->id % 3), 64);
    unsigned char *own[OWN_BLOCKS] = {0};
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        size_t j = (size_t)rng_range(&w->rng, 0, OWN_BLOCKS - 1);
        if (own[j] == NULL) {
            own[j] = alloc_block(w);
        } else {
            free_block(w, own[j]);
            own[j] = NULL;
        }
        atomic_fetch_add_explicit(&w->progress, 1, memory_order_relaxed);
    }
    for (size_t j = 0; j < OWN_BLOCKS; ++j) free_block(w, own[j]);
    if (w->id % 2 == 0) sm_allocator_thread_cache_destroy(w->a);
    atomic_store_explicit(&w->done, 1, memory_order_release);
    return NULL;
}

typedef struct {
    sm_allocator a;
    uint64_t calls;
    uint64_t inconsistent; /* non-zero answers: expected while not quiescent */
    _Atomic uint64_t progress;
    _Atomic int done;
} checker;

static void *checker_main(void *arg)
{
    checker *c = (checker *)arg;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        c->inconsistent += sm_check(c->a) != 0;
        c->calls++;
        atomic_fetch_add_explicit(&c->progress, 1, memory_order_relaxed);
    }
    atomic_store_explicit(&c->done, 1, memory_order_release);
    return NULL;
}

static void test_check_while_allocating(void)
{
    uint64_t run_ms = test_size_arg(0, NULL, "NALLOC_CHECK_LIVE_MS", 1000);
    int threads = test_cpu_count() - 1;
    if (threads < 4) threads = 4;
    if (threads > 8) threads = 8;

    /* 4 KiB buckets: lists are short and blocks are recycled constantly */
    sm_allocator a = sm_allocator_create(8, 4 * 1024);
    REQUIRE(a != NULL);
    worker *w = (worker *)calloc((size_t)threads, sizeof *w);
    pthread_t *t = (pthread_t *)calloc((size_t)threads + 1, sizeof *t);
    REQUIRE(w != NULL && t != NULL);
    checker c = {a, 0, 0, 0, 0};
    atomic_store(&stop, 0);
    for (int k = 0; k < threads; ++k) {
        w[k].a = a;
        w[k].id = k;
        w[k].rng.s = 0x9E3779B97F4A7C15ull * (uint64_t)(k + 1);
        REQUIRE(pthread_create(&t[k], NULL, worker_main, &w[k]) == 0);
    }
    REQUIRE(pthread_create(&t[threads], NULL, checker_main, &c) == 0);

    uint64_t start = now_ms();
    while (now_ms() - start < run_ms) sched_yield();
    atomic_store_explicit(&stop, 1, memory_order_relaxed);

    /* Watchdog: a thread that neither finishes nor progresses for HANG_MS
     * is stuck; the threads cannot be joined then, so the test ends here. */
    uint64_t last_change = now_ms(), last_sum = 0;
    for (;;) {
        int all_done = atomic_load_explicit(&c.done, memory_order_acquire);
        uint64_t sum = atomic_load_explicit(&c.progress, memory_order_relaxed);
        for (int k = 0; k < threads; ++k) {
            all_done &= atomic_load_explicit(&w[k].done, memory_order_acquire);
            sum += atomic_load_explicit(&w[k].progress, memory_order_relaxed);
        }
        if (all_done) break;
        if (sum != last_sum) {
            last_sum = sum;
            last_change = now_ms();
        }
        if (now_ms() - last_change > HANG_MS) {
            for (int k = 0; k < threads; ++k)
                if (!atomic_load_explicit(&w[k].done, memory_order_acquire))
                    fprintf(stderr, "worker %d hangs after %" PRIu64 " operations\n", k,
                            atomic_load_explicit(&w[k].progress, memory_order_relaxed));
            if (!atomic_load_explicit(&c.done, memory_order_acquire))
                fprintf(stderr, "the checker hangs after %" PRIu64 " calls\n",
                        atomic_load_explicit(&c.progress, memory_order_relaxed));
            fflush(stderr);
            _Exit(1);
        }
        sched_yield();
    }

    int failures = 0;
    uint64_t ops = 0;
    for (int k = 0; k <= threads; ++k) pthread_join(t[k], NULL);
    for (int k = 0; k < threads; ++k) {
        failures += w[k].failures;
        ops += atomic_load_explicit(&w[k].progress, memory_order_relaxed);
    }
    CHECK(failures == 0);
    CHECK(c.calls > 0);
    CHECK(sm_check(a) == 0);
    sm_stats st;
    sm_get_stats(a, &st);
    for (size_t i = 0; i < st.bucket_count; ++i) {
        CHECK(st.buckets[i].blocks_in_use == 0);
        CHECK(st.buckets[i].blocks_cached == 0);
    }
    CHECK(st.thread_caches == 0);
    CHECK(st.fallback_blocks_in_use == 0);
    printf("  %d workers, %" PRIu64 " operations, %" PRIu64 " sm_check calls (%" PRIu64
           " saw a moving allocator)%s\n",
           threads, ops, c.calls, c.inconsistent, failures ? "  FAILURES" : "");
    sm_allocator_destroy(a);
    free(w);
    free(t);
}

int main(void)
{
    RUN_TEST(test_check_while_allocating);
    return test_finish("test_sm_check_live");
}
