/* Forced interleavings of smmalloc's lock-free paths, through the test-only
 * hooks (sm_test_hooks.h): races that the stress test meets only by luck
 * are made to happen every run, step by step.
 *   ABA on a bucket list: a thread is stopped between reading the head
 *   (block A, successor B) and its CAS while another pops A, pops B and
 *   pushes A back. The head shows A again; only the head's tag tells the
 *   stopped thread that its successor is stale (B is in use).
 *   Two frees of one block at once: both threads reach the claim CAS before
 *   either performs it; exactly one may win.
 * A wrong allocator makes a hook wait for ever; ctest's timeout turns that
 * into a failure. */
#include "smmalloc.h"
#include "sm_test_hooks.h"
#include "test_util.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define NBLOCKS 256 /* one bucket of 4 KiB, blocks of 16 B */

static void wait_for(_Atomic int *v, int value)
{
    while (atomic_load_explicit(v, memory_order_acquire) < value) sched_yield();
}

static int ptr_cmp(const void *x, const void *y)
{
    uintptr_t a = (uintptr_t) * (void *const *)x, b = (uintptr_t) * (void *const *)y;
    return a < b ? -1 : a > b;
}

/* ---- ABA on the bucket list ------------------------------------------- */

/* Only the thread that armed itself stops, and only once: its retry (and
 * every other thread) runs straight through. */
static _Thread_local int pop_armed;
static _Atomic int pop_stage;

static void pop_window_hook(sm_hook_point point)
{
    if (point != SM_HOOK_POP_WINDOW || !pop_armed) return;
    pop_armed = 0;
    atomic_store_explicit(&pop_stage, 1, memory_order_release);
    wait_for(&pop_stage, 2);
}

typedef struct {
    sm_allocator a;
    int cached;
    void *got[2];
} popper;

/* Uncached, a pop takes one block (successor read: B). With a cache of four
 * 16-byte blocks, a refill pops two at once (A and B, successor C), so a
 * stale successor would put B into this thread's cache while the other
 * thread holds it. */
static void *stopped_pop(void *arg)
{
    popper *job = (popper *)arg;
    if (job->cached) sm_allocator_thread_cache_create(job->a, SM_CACHE_COLD, 4 * 16);
    pop_armed = 1;
    job->got[0] = sm_malloc(job->a, 16, 0);
    pop_armed = 0;
    if (job->cached) {
        job->got[1] = sm_malloc(job->a, 16, 0); /* the refill's second block */
        sm_allocator_thread_cache_destroy(job->a);
    }
    return NULL;
}

static void aba_scenario(int cached)
{
    sm_allocator a = sm_allocator_create(1, NBLOCKS * 16);
    REQUIRE(a != NULL);
    void *x[3];
    for (int j = 0; j < 3; ++j) x[j] = sm_malloc(a, 16, 0);
    for (int j = 2; j >= 0; --j) sm_free(a, x[j]); /* list: x0 -> x1 -> x2 */
    REQUIRE(sm_check(a) == 0);

    atomic_store(&pop_stage, 0);
    sm_test_set_hook(pop_window_hook);
    popper job = {a, cached, {NULL, NULL}};
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, stopped_pop, &job) == 0);
    wait_for(&pop_stage, 1); /* stopped: it read head x0 and the chain */
    void *p = sm_malloc(a, 16, 0);
    void *q = sm_malloc(a, 16, 0);
    CHECK(p == x[0] && q == x[1]);
    sm_free(a, p); /* the head is x0 again, now followed by x2 */
    atomic_store_explicit(&pop_stage, 2, memory_order_release);
    pthread_join(t, NULL);
    sm_test_set_hook(NULL);

    /* Every block the bucket owns handed out exactly once: q, the stopped
     * thread's, then the rest of the list and the never-used blocks until
     * the bucket is dry. A broken list would make the drain spin, so it
     * runs only when sm_check found the list sound. */
    void *live[NBLOCKS + 2];
    size_t n = 0;
    live[n++] = q;
    for (int j = 0; j < 1 + cached; ++j) {
        CHECK(job.got[j] != NULL && sm_mbucket(a, job.got[j]) == 0);
        live[n++] = job.got[j];
    }
    int broken = sm_check(a);
    CHECK(broken == 0);
    if (broken == 0) {
        for (;;) {
            void *r = sm_malloc(a, 16, 0);
            if (sm_mbucket(a, r) != 0) {
                sm_free(a, r); /* the fallback: the bucket is dry */
                break;
            }
            REQUIRE(n < NBLOCKS + 2);
            live[n++] = r;
        }
        CHECK(n == NBLOCKS);
    }
    qsort(live, n, sizeof *live, ptr_cmp);
    int twice = 0;
    for (size_t j = 1; j < n; ++j) twice += live[j] == live[j - 1];
    CHECK(twice == 0);
    if (broken == 0) {
        for (size_t j = 0; j < n; ++j) CHECK(sm_free_checked(a, live[j]) == SM_OK);
        CHECK(sm_check(a) == 0);
    }
    sm_allocator_destroy(a);
}

static void test_aba_single_pop(void)
{
    aba_scenario(0);
}

static void test_aba_batch_pop(void)
{
    aba_scenario(1);
}

/* ---- two frees of one block -------------------------------------------- */

/* A two-thread barrier at the claim: neither CAS runs before both threads
 * have arrived. */
static _Thread_local int claim_armed;
static _Atomic int claim_arrived;

static void claim_window_hook(sm_hook_point point)
{
    if (point != SM_HOOK_CLAIM_WINDOW || !claim_armed) return;
    claim_armed = 0;
    atomic_fetch_add_explicit(&claim_arrived, 1, memory_order_acq_rel);
    wait_for(&claim_arrived, 2);
}

typedef struct {
    sm_allocator a;
    void *p;
    int batch;  /* through sm_free_batch_checked instead of sm_free_checked */
    int cached;
    int result; /* SM_OK or SM_ERR_DOUBLE_FREE */
} freer;

static void *racing_free(void *arg)
{
    freer *job = (freer *)arg;
    if (job->cached) sm_allocator_thread_cache_create(job->a, SM_CACHE_WARM, 256);
    claim_armed = 1;
    if (job->batch) {
        void *one[1] = {job->p};
        job->result = sm_free_batch_checked(job->a, one, 1) == 0 ? SM_OK : SM_ERR_DOUBLE_FREE;
    } else {
        job->result = sm_free_checked(job->a, job->p);
    }
    claim_armed = 0;
    /* half the cached threads leave their cache to thread exit */
    if (job->cached && job->batch) sm_allocator_thread_cache_destroy(job->a);
    return NULL;
}

static void test_same_block_free_race(void)
{
    sm_allocator a = sm_allocator_create(4, 64 * 1024);
    REQUIRE(a != NULL);
    sm_test_set_hook(claim_window_hook);
    int rounds = 0, sound = 1;
    for (int mode = 0; mode < 16 && sound; ++mode) {
        for (int round = 0; round < 8 && sound; ++round, ++rounds) {
            void *p = sm_malloc(a, 16 + (size_t)(round % 4) * 16, 0);
            REQUIRE(p != NULL);
            atomic_store(&claim_arrived, 0);
            freer job[2] = {{a, p, mode & 1, (mode >> 1) & 1, 99},
                            {a, p, (mode >> 2) & 1, (mode >> 3) & 1, 99}};
            pthread_t t[2];
            for (int j = 0; j < 2; ++j)
                REQUIRE(pthread_create(&t[j], NULL, racing_free, &job[j]) == 0);
            for (int j = 0; j < 2; ++j) pthread_join(t[j], NULL);
            int ok = (job[0].result == SM_OK) + (job[1].result == SM_OK);
            int doubles = (job[0].result == SM_ERR_DOUBLE_FREE) +
                          (job[1].result == SM_ERR_DOUBLE_FREE);
            CHECK(ok == 1 && doubles == 1);
            CHECK(!sm_owns(a, p));
            /* a block freed twice may sit on a list twice: further
             * allocations could spin, so stop at the first broken round */
            sound = ok == 1 && doubles == 1 && sm_check(a) == 0;
            CHECK(sound);
        }
    }
    sm_test_set_hook(NULL);
    sm_stats st;
    sm_get_stats(a, &st);
    uint64_t in_use = 0;
    for (size_t i = 0; i < st.bucket_count; ++i) in_use += st.buckets[i].blocks_in_use;
    CHECK(in_use == 0);
    CHECK(rounds == 128);
    sm_allocator_destroy(a);
}

int main(void)
{
    RUN_TEST(test_aba_single_pop);
    RUN_TEST(test_aba_batch_pop);
    RUN_TEST(test_same_block_free_race);
    return test_finish("test_sm_interleavings");
}
