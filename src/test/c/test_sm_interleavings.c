/* Forced interleavings of smmalloc's lock-free paths, through the test-only
 * hooks (sm_test_hooks.h): races that the stress test meets only by luck
 * are made to happen every run, step by step.
 *   A remote free stopped between linking its block to the remote head it
 *   saw and its CAS, while the owner takes the list home and another remote
 *   free pushes: the stopped CAS must fail and relink.
 *   Abandoned spans (no hook needed, only order): a thread exits holding a
 *   span, blocks of it are freed remotely, a new cache adopts it and gets
 *   every free block of it back, the freed ones among them, and nothing new.
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

/* ---- a remote free racing the owner's collection ----------------------- */

/* Only the thread that armed itself stops, and only once: its retry (and
 * every other thread) runs straight through. */
static _Thread_local int push_armed;
static _Atomic int push_stage;

static void push_window_hook(sm_hook_point point)
{
    if (point != SM_HOOK_REMOTE_PUSH_WINDOW || !push_armed) return;
    push_armed = 0;
    atomic_store_explicit(&push_stage, 1, memory_order_release);
    wait_for(&push_stage, 2);
}

typedef struct {
    sm_allocator a;
    void *p;
    int stop; /* stop in the push window */
    int result;
} remote_freer;

/* A thread without a cache: its free of the owner's block is remote. */
static void *remote_free(void *arg)
{
    remote_freer *job = (remote_freer *)arg;
    push_armed = job->stop;
    job->result = sm_free_checked(job->a, job->p);
    push_armed = 0;
    return NULL;
}

static void free_remotely(sm_allocator a, void *p)
{
    remote_freer job = {a, p, 0, 99};
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, remote_free, &job) == 0);
    pthread_join(t, NULL);
    CHECK(job.result == SM_OK);
}

/* The owner (this thread, a cache refilling one block at a time) holds
 * x0, x1, x2 of one span. x1 is freed remotely; a second remote free, of
 * x0, is stopped after it linked x0 to the head it saw (x1). The owner then
 * takes the remote list home (x1, allocated again) and x2 is freed
 * remotely: the head is x2 now. The stopped push must fail its CAS and
 * relink x0 to x2; had it kept its link, x0 would lead to x1, a live
 * block. The owner then gets exactly x0 and x2 back, and the bucket, drained,
 * hands every block out once. */
static void test_remote_push_vs_collect(void)
{
    sm_allocator a = sm_allocator_create(1, NBLOCKS * 16);
    REQUIRE(a != NULL);
    sm_allocator_thread_cache_create(a, SM_CACHE_COLD, 16); /* carves one block at a time */
    void *x[3];
    for (int j = 0; j < 3; ++j) x[j] = sm_malloc(a, 16, 0);
    free_remotely(a, x[1]);
    REQUIRE(sm_check(a) == 0);

    atomic_store(&push_stage, 0);
    sm_test_set_hook(push_window_hook);
    remote_freer job = {a, x[0], 1, 99};
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, remote_free, &job) == 0);
    wait_for(&push_stage, 1); /* stopped: x0 links to x1 */
    void *again = sm_malloc(a, 16, 0); /* collects the remote list: x1 */
    CHECK(again == x[1]);
    free_remotely(a, x[2]);
    atomic_store_explicit(&push_stage, 2, memory_order_release);
    pthread_join(t, NULL);
    sm_test_set_hook(NULL);
    CHECK(job.result == SM_OK);

    void *live[NBLOCKS + 2];
    size_t n = 0;
    live[n++] = again;
    void *p = sm_malloc(a, 16, 0), *q = sm_malloc(a, 16, 0);
    CHECK((p == x[0] && q == x[2]) || (p == x[2] && q == x[0]));
    live[n++] = p;
    live[n++] = q;
    int broken = sm_check(a);
    CHECK(broken == 0);
    if (broken == 0) { /* a broken list could make the drain spin */
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

/* ---- abandoned spans are adopted, remote frees come home ---------------- */

typedef struct {
    sm_allocator a;
    void **p;
    int n;
} span_user;

/* Allocates n blocks of one span, frees the first half locally and exits
 * without destroying its cache: the span is abandoned to the pool. */
static void *allocate_and_exit(void *arg)
{
    span_user *job = (span_user *)arg;
    sm_allocator_thread_cache_create(job->a, SM_CACHE_COLD, 4096);
    for (int j = 0; j < job->n; ++j) job->p[j] = sm_malloc(job->a, 16, 0);
    for (int j = 0; j < job->n / 2; ++j) sm_free(job->a, job->p[j]);
    return NULL;
}

/* A new cache adopts the abandoned span and hands out its free blocks:
 * those freed to it locally before the abandonment, those freed remotely
 * after, and those the first cache had prepared but never handed out. */
static void *adopt_and_take(void *arg)
{
    span_user *job = (span_user *)arg;
    sm_allocator_thread_cache_create(job->a, SM_CACHE_COLD, 4096);
    for (int j = 0; j < job->n; ++j) job->p[j] = sm_malloc(job->a, 16, 0);
    sm_allocator_thread_cache_destroy(job->a);
    return NULL;
}

static int contains(void *const *sorted, int n, void *p)
{
    return bsearch(&p, sorted, (size_t)n, sizeof *sorted, ptr_cmp) != NULL;
}

static void test_abandoned_span_adopted(void)
{
    enum { N = 10, LIVE = N - N / 2 - 2 };
    sm_allocator a = sm_allocator_create(1, NBLOCKS * 16);
    REQUIRE(a != NULL);
    void *p[N];
    span_user first = {a, p, N};
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, allocate_and_exit, &first) == 0);
    pthread_join(t, NULL);
    sm_stats st;
    sm_get_stats(a, &st);
    CHECK(st.thread_caches == 0 && st.buckets[0].blocks_in_use == N - N / 2);
    CHECK(st.buckets[0].blocks_cached == 0);
    uint64_t touched = st.buckets[0].blocks_touched;
    REQUIRE(touched >= N && touched <= NBLOCKS);
    CHECK(sm_check(a) == 0);
    /* remote frees to the abandoned span, from a thread without a cache */
    CHECK(sm_free_checked(a, p[N - 1]) == SM_OK);
    CHECK(sm_free_checked(a, p[N - 2]) == SM_OK);
    CHECK(sm_free_checked(a, p[N - 2]) == SM_ERR_DOUBLE_FREE);
    CHECK(sm_check(a) == 0);

    /* Every free block of the span, and nothing new: the adopter gets
     * touched - LIVE blocks without carving, among them all seven freed. */
    int back = (int)touched - LIVE;
    void **got = (void **)malloc((size_t)back * sizeof *got);
    REQUIRE(got != NULL);
    span_user second = {a, got, back};
    REQUIRE(pthread_create(&t, NULL, adopt_and_take, &second) == 0);
    pthread_join(t, NULL);
    qsort(got, (size_t)back, sizeof *got, ptr_cmp);
    for (int j = 1; j < back; ++j) CHECK(got[j] != got[j - 1]);
    for (int j = 0; j < N / 2; ++j) CHECK(contains(got, back, p[j]));
    CHECK(contains(got, back, p[N - 1]) && contains(got, back, p[N - 2]));
    for (int j = N / 2; j < N - 2; ++j) CHECK(!contains(got, back, p[j]));
    sm_get_stats(a, &st);
    CHECK(st.buckets[0].blocks_touched == touched); /* nothing new was carved */
    CHECK(st.buckets[0].blocks_in_use == (uint64_t)back + LIVE);
    CHECK(sm_check(a) == 0);
    for (int j = 0; j < back; ++j) CHECK(sm_free_checked(a, got[j]) == SM_OK);
    for (int j = N / 2; j < N - 2; ++j) CHECK(sm_free_checked(a, p[j]) == SM_OK);
    sm_get_stats(a, &st);
    CHECK(st.buckets[0].blocks_in_use == 0);
    CHECK(sm_check(a) == 0);
    free(got);
    sm_allocator_destroy(a);
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
    RUN_TEST(test_remote_push_vs_collect);
    RUN_TEST(test_abandoned_span_adopted);
    RUN_TEST(test_same_block_free_race);
    return test_finish("test_sm_interleavings");
}
