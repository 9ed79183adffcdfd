/* Randomized model test of smmalloc: random malloc / realloc / free with
 * random sizes (mostly bucket sizes, some for the fallback) and power-of-two
 * alignments, against a model of the live blocks. Every block carries a
 * pattern checked before it is freed or moved; sm_check and the per-bucket
 * statistics are compared with the model every 256 operations. Runs without
 * and with a thread cache (re-created now and then with a random warmup).
 * Usage: test_sm_model [seed] */
#include "smmalloc.h"
#include "test_util.h"

#include <inttypes.h>

#define SLOTS 1500
#define OPS_PER_RUN 200000
#define CHECK_EVERY 256

typedef struct {
    unsigned char *p; /* NULL = slot empty */
    size_t size;
    size_t align;
    uint64_t tag;
    int bucket; /* sm_mbucket at allocation */
} live_block;

typedef struct {
    sm_allocator a;
    test_rng rng;
    live_block slot[SLOTS];
    uint64_t in_use[SM_MAX_BUCKETS];
    uint64_t fallback_in_use;
    uint64_t next_tag;
    uint64_t ops, mallocs, reallocs, frees, fallbacks_seen;
} model;

/* The bucket a request should land in (by the definition, with division),
 * -1 when no bucket fits. */
static int expected_bucket(size_t bytes, size_t align, size_t n)
{
    if (align == 0) align = 16;
    if (bytes == 0) bytes = 1;
    for (size_t i = 0; i < n; ++i) {
        size_t bs = 16 * (i + 1);
        if (bs >= bytes && bs % align == 0) return (int)i;
    }
    return -1;
}

static size_t random_size(test_rng *r)
{
    uint64_t k = rng_range(r, 0, 99);
    if (k < 90) return (size_t)rng_range(r, 0, 128);
    return (size_t)rng_range(r, 129, 4096);
}

static size_t random_align(test_rng *r)
{
    uint64_t k = rng_range(r, 0, 99);
    if (k < 55) return 0;
    if (k < 95) return (size_t)1 << rng_range(r, 0, 6);
    return (size_t)1 << rng_range(r, 7, 12);
}

static void account(model *m, int bucket, int delta)
{
    if (bucket >= 0) m->in_use[bucket] += (uint64_t)(int64_t)delta;
    else m->fallback_in_use += (uint64_t)(int64_t)delta;
}

/* A just-returned block: aligned, large enough, in the expected bucket (or
 * the fallback when that bucket is exhausted). */
static int check_new_block(model *m, void *p, size_t size, size_t align)
{
    int want = expected_bucket(size, align, sm_bucket_count(m->a));
    int got = sm_mbucket(m->a, p);
    size_t al = align ? align : 16;
    CHECK(p != NULL);
    CHECK((uintptr_t)p % al == 0);
    CHECK(sm_msize(m->a, p) >= size);
    CHECK(got == want || got == -1);
    CHECK(sm_owns(m->a, p) == 1);
    if (got == -1 && want >= 0) m->fallbacks_seen++;
    return got;
}

static void do_malloc(model *m, live_block *b)
{
    size_t size = random_size(&m->rng), align = random_align(&m->rng);
    void *p = sm_malloc(m->a, size, align);
    REQUIRE(p != NULL);
    b->bucket = check_new_block(m, p, size, align);
    b->p = (unsigned char *)p;
    b->size = size;
    b->align = align;
    b->tag = ++m->next_tag;
    pattern_fill(b->p, size, b->tag);
    account(m, b->bucket, +1);
    m->mallocs++;
}

static void do_realloc(model *m, live_block *b)
{
    size_t size = random_size(&m->rng), align = random_align(&m->rng);
    CHECK(pattern_ok(b->p, b->size, b->tag));
    void *q = sm_realloc(m->a, b->p, size, align);
    REQUIRE(q != NULL);
    int bucket = check_new_block(m, q, size, align);
    CHECK(pattern_ok(q, b->size < size ? b->size : size, b->tag));
    if (q != b->p) CHECK(sm_owns(m->a, b->p) == 0);
    account(m, b->bucket, -1);
    account(m, bucket, +1);
    b->p = (unsigned char *)q;
    b->bucket = bucket;
    b->size = size;
    b->align = align;
    b->tag = ++m->next_tag;
    pattern_fill(b->p, size, b->tag);
    m->reallocs++;
}

static void do_free(model *m, live_block *b)
{
    CHECK(pattern_ok(b->p, b->size, b->tag));
    CHECK(sm_mbucket(m->a, b->p) == b->bucket);
    CHECK(sm_free_checked(m->a, b->p) == SM_OK);
    CHECK(sm_owns(m->a, b->p) == 0);
    if (rng_range(&m->rng, 0, 99) == 0) { /* a double free changes nothing */
        int r = sm_free_checked(m->a, b->p);
        CHECK(r == (b->bucket >= 0 ? SM_ERR_DOUBLE_FREE : SM_ERR_NOT_OWNED));
    }
    account(m, b->bucket, -1);
    b->p = NULL;
    m->frees++;
}

static void compare_with_model(model *m)
{
    CHECK(sm_check(m->a) == 0);
    sm_stats st;
    sm_get_stats(m->a, &st);
    for (size_t i = 0; i < st.bucket_count; ++i) CHECK(st.buckets[i].blocks_in_use == m->in_use[i]);
    CHECK(st.fallback_blocks_in_use == m->fallback_in_use);
}

static void run(uint64_t seed, int cached)
{
    static model m;
    memset(&m, 0, sizeof m);
    m.rng.s = seed ? seed : 1;
    /* 16 KiB buckets: 1024 blocks of 16 B down to 128 of 128 B, so busy
     * buckets run out now and then and the fallback takes over. */
    m.a = sm_allocator_create(8, 16 * 1024);
    REQUIRE(m.a != NULL);
    if (cached) sm_allocator_thread_cache_create(m.a, SM_CACHE_WARM, 512);
    for (uint64_t op = 0; op < OPS_PER_RUN; ++op) {
        live_block *b = &m.slot[rng_range(&m.rng, 0, SLOTS - 1)];
        if (b->p == NULL) do_malloc(&m, b);
        else if (rng_range(&m.rng, 0, 99) < 30) do_realloc(&m, b);
        else do_free(&m, b);
        m.ops++;
        if (op % CHECK_EVERY == CHECK_EVERY - 1) compare_with_model(&m);
        if (cached && op % 20000 == 19999) {
            sm_allocator_thread_cache_create(m.a, (sm_cache_warmup)rng_range(&m.rng, 0, 2),
                                             (size_t)rng_range(&m.rng, 16, 2048));
            compare_with_model(&m);
        }
    }
    for (size_t j = 0; j < SLOTS; ++j)
        if (m.slot[j].p != NULL) do_free(&m, &m.slot[j]);
    compare_with_model(&m);
    sm_allocator_thread_cache_destroy(m.a);
    sm_stats st;
    sm_get_stats(m.a, &st);
    for (size_t i = 0; i < st.bucket_count; ++i) {
        CHECK(st.buckets[i].blocks_in_use == 0);
        CHECK(st.buckets[i].blocks_cached == 0);
    }
    CHECK(st.fallback_blocks_in_use == 0 && st.fallback_bytes_in_use == 0);
    CHECK(sm_check(m.a) == 0);
    printf("  %s cache: %" PRIu64 " ops (%" PRIu64 " malloc, %" PRIu64 " realloc, %" PRIu64
           " free), %" PRIu64 " exhausted-bucket fallbacks\n",
           cached ? "with" : "without", m.ops, m.mallocs, m.reallocs, m.frees, m.fallbacks_seen);
    sm_allocator_destroy(m.a);
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x5EEDC0FFEEULL;
    printf("test_sm_model: seed %" PRIu64 ", %d ops per run\n", seed, OPS_PER_RUN);
    run(seed, 0);
    run(seed, 1);
    return test_finish("test_sm_model");
}
