/* Stress of smmalloc's remote-free path: a producer thread allocates blocks
 * and hands them through one single-producer ring per consumer to consumer
 * threads, which check each block's pattern and free it: every free is a
 * free by a thread that does not own the block's span, so it travels home
 * on the span's remote list and the producer must take it back, or its
 * spans would run dry and its memory grow. One consumer has a thread cache,
 * the other has none (the two remote paths); the producer runs with a
 * cache, then without one (the bucket's shared owner, under its lock).
 * Checked: every free succeeds, no block is handed out twice (patterns),
 * the memory touched stays bounded by what is in flight (remote frees come
 * home), and at quiescence sm_check passes with exact counts: nothing in
 * use, nothing cached, nothing on the fallback.
 * Blocks per run: argv[1], else NALLOC_REMOTE_BLOCKS, else 2000000 (200000
 * in sanitizer builds); raise it for a run of minutes under TSan. */
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
#define DEFAULT_BLOCKS 200000
#else
#define DEFAULT_BLOCKS 2000000
#endif

#define CONSUMERS 2
#define RING 256 /* a power of two */
#define BUCKETS 8 /* blocks of up to 128 B: tagged_size's bucket sizes */
#define BUCKET_BYTES ((size_t)1 << 20)

/* Single producer, single consumer: the producer writes slot[head], the
 * consumer reads slot[tail]; release/acquire on the indices hands the
 * block's contents over. */
typedef struct {
    _Alignas(64) _Atomic uint64_t head;
    _Alignas(64) _Atomic uint64_t tail;
    unsigned char *slot[RING];
} ring;

typedef struct {
    sm_allocator a;
    ring *r;
    int cached;
    uint64_t freed;
    int failures;
} consumer;

typedef struct {
    sm_allocator a;
    ring *rings;
    int cached;
    uint64_t blocks;
    int failures;
} producer;

static _Atomic int producing;

static void *consume(void *arg)
{
    consumer *c = (consumer *)arg;
    if (c->cached) sm_allocator_thread_cache_create(c->a, SM_CACHE_WARM, 1024);
    for (;;) {
        uint64_t tail = atomic_load_explicit(&c->r->tail, memory_order_relaxed);
        if (atomic_load_explicit(&c->r->head, memory_order_acquire) == tail) {
            if (!atomic_load_explicit(&producing, memory_order_acquire) &&
                atomic_load_explicit(&c->r->head, memory_order_acquire) == tail)
                break;
            sched_yield();
            continue;
        }
        unsigned char *p = c->r->slot[tail & (RING - 1)];
        atomic_store_explicit(&c->r->tail, tail + 1, memory_order_release);
        uint64_t tag;
        if (!tagged_ok(p, &tag) || sm_msize(c->a, p) < tagged_size(tag)) c->failures++;
        if (sm_free_checked(c->a, p) != SM_OK) c->failures++;
        c->freed++;
    }
    /* the cached consumer leaves its cache to thread exit */
    return NULL;
}

static void *produce(void *arg)
{
    producer *p = (producer *)arg;
    if (p->cached) sm_allocator_thread_cache_create(p->a, SM_CACHE_WARM, 4096);
    for (uint64_t n = 0; n < p->blocks; ++n) {
        ring *r = &p->rings[n % CONSUMERS];
        uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
        while (head - atomic_load_explicit(&r->tail, memory_order_acquire) == RING) sched_yield();
        uint64_t tag = ((uint64_t)1 << 40) | n;
        size_t size = tagged_size(tag); /* 1 in 32 is too large: the fallback */
        unsigned char *b = (unsigned char *)sm_malloc(p->a, size, 0);
        if (b == NULL) {
            p->failures++;
            continue;
        }
        tagged_fill(b, tag);
        r->slot[head & (RING - 1)] = b;
        atomic_store_explicit(&r->head, head + 1, memory_order_release);
    }
    atomic_store_explicit(&producing, 0, memory_order_release);
    if (p->cached) sm_allocator_thread_cache_destroy(p->a);
    return NULL;
}

static void run(int producer_cached, uint64_t blocks)
{
    sm_allocator a = sm_allocator_create(BUCKETS, BUCKET_BYTES);
    REQUIRE(a != NULL);
    ring *rings = (ring *)calloc(CONSUMERS, sizeof *rings);
    REQUIRE(rings != NULL);
    atomic_store(&producing, 1);
    consumer c[CONSUMERS];
    pthread_t tc[CONSUMERS], tp;
    for (int j = 0; j < CONSUMERS; ++j) {
        c[j] = (consumer){a, &rings[j], j == 0, 0, 0};
        REQUIRE(pthread_create(&tc[j], NULL, consume, &c[j]) == 0);
    }
    producer p = {a, rings, producer_cached, blocks, 0};
    REQUIRE(pthread_create(&tp, NULL, produce, &p) == 0);
    pthread_join(tp, NULL);
    uint64_t freed = 0;
    int failures = p.failures;
    for (int j = 0; j < CONSUMERS; ++j) {
        pthread_join(tc[j], NULL);
        freed += c[j].freed;
        failures += c[j].failures;
    }
    CHECK(failures == 0);
    CHECK(freed == blocks);
    CHECK(sm_check(a) == 0);
    sm_stats st;
    sm_get_stats(a, &st);
    uint64_t touched = 0, allocs = 0;
    for (size_t i = 0; i < st.bucket_count; ++i) {
        CHECK(st.buckets[i].blocks_in_use == 0);
        CHECK(st.buckets[i].blocks_cached == 0);
        CHECK(st.buckets[i].fallbacks == 0); /* no bucket ran dry */
        touched += st.buckets[i].blocks_touched;
        allocs += st.buckets[i].cache_hits + st.buckets[i].global_hits;
    }
    CHECK(allocs + st.fallback_allocs == blocks);
    CHECK(st.thread_caches == 0 && st.fallback_blocks_in_use == 0);
    /* Bounded memory: what is in flight (the rings and the blocks between
     * ring and free), plus per bucket the spans the producer and the
     * consumers' caches may hold; a remote free that never came home would
     * make this grow with the number of blocks until the buckets ran dry. */
    uint64_t bound = (uint64_t)CONSUMERS * (RING + 2) + BUCKETS * 2 * 4096;
    CHECK(touched <= bound);
    printf("  producer %s cache: %" PRIu64 " blocks through %d consumers, %" PRIu64
           " blocks touched (bound %" PRIu64 ")%s\n",
           producer_cached ? "with" : "without", blocks, CONSUMERS, touched, bound,
           failures ? "  FAILURES" : "");
    sm_allocator_destroy(a);
    free(rings);
}

int main(int argc, char **argv)
{
    uint64_t blocks = test_size_arg(argc, argv, "NALLOC_REMOTE_BLOCKS", DEFAULT_BLOCKS);
    for (int cached = 1; cached >= 0; --cached) run(cached, blocks);
    return test_finish("test_sm_remote_stress");
}
