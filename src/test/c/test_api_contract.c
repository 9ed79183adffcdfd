/* Contract test of the two public headers: every function of tlsf.h and
 * smmalloc.h is called through a pointer of the exact type the header
 * declares (so a drifting signature stops the build) with inputs whose
 * results the headers document: NULL and zero arguments, the limits and
 * their functions, alignment rules and error codes. A wrong result fails
 * the test. How the allocators behave under load is the unit and model
 * tests' business, not this file's. */
#include "smmalloc.h"
#include "tlsf.h"
#include "test_util.h"

#include <stdint.h>
#include <string.h>

static const struct tlsf_api {
    tlsf_t (*create)(void *, size_t);
    int (*add_pool)(tlsf_t, void *, size_t);
    int (*remove_pool)(tlsf_t, void *);
    tlsf_pool_t (*get_pool)(tlsf_t);
    void *(*malloc)(tlsf_t, size_t);
    void *(*memalign)(tlsf_t, size_t, size_t);
    void *(*realloc)(tlsf_t, void *, size_t);
    void (*free)(tlsf_t, void *);
    int (*free_checked)(tlsf_t, void *);
    int (*owns)(tlsf_t, const void *);
    size_t (*block_size)(const void *);
    int (*check)(tlsf_t);
    const char *(*invariant_name)(int);
    void (*stats)(tlsf_t, tlsf_stats_t *);
    void (*walk_pool)(tlsf_pool_t, tlsf_walker, void *);
    void (*walk)(tlsf_t, tlsf_walker, void *);
    size_t (*size)(void);
    size_t (*align_size)(void);
    size_t (*block_size_min)(void);
    size_t (*block_size_max)(void);
    size_t (*pool_overhead)(size_t);
    size_t (*pool_size_for)(size_t, size_t);
} tl = {
    tlsf_create, tlsf_add_pool, tlsf_remove_pool, tlsf_get_pool, tlsf_malloc,
    tlsf_memalign, tlsf_realloc, tlsf_free, tlsf_free_checked, tlsf_owns,
    tlsf_block_size, tlsf_check, tlsf_invariant_name, tlsf_stats, tlsf_walk_pool,
    tlsf_walk, tlsf_size, tlsf_align_size, tlsf_block_size_min, tlsf_block_size_max,
    tlsf_pool_overhead, tlsf_pool_size_for,
};

static const struct sm_api {
    sm_allocator (*create)(size_t, size_t);
    void (*destroy)(sm_allocator);
    void (*cache_create)(sm_allocator, sm_cache_warmup, size_t);
    void (*cache_destroy)(sm_allocator);
    int (*cache_exists)(sm_allocator);
    void *(*malloc)(sm_allocator, size_t, size_t);
    void (*free)(sm_allocator, void *);
    void (*free_batch)(sm_allocator, void **, size_t);
    void *(*realloc)(sm_allocator, void *, size_t, size_t);
    size_t (*msize)(sm_allocator, void *);
    int32_t (*mbucket)(sm_allocator, void *);
    int (*free_checked)(sm_allocator, void *);
    size_t (*free_batch_checked)(sm_allocator, void **, size_t);
    int (*owns)(sm_allocator, const void *);
    size_t (*bucket_count)(sm_allocator);
    size_t (*max_block_size)(sm_allocator);
    void (*get_stats)(sm_allocator, sm_stats *);
    int (*check)(sm_allocator);
    size_t (*layout)(sm_allocator, uint64_t *, size_t);
} sm = {
    sm_allocator_create, sm_allocator_destroy, sm_allocator_thread_cache_create,
    sm_allocator_thread_cache_destroy, sm_allocator_thread_cache_exists, sm_malloc,
    sm_free, sm_free_batch, sm_realloc, sm_msize, sm_mbucket, sm_free_checked,
    sm_free_batch_checked, sm_owns, sm_bucket_count, sm_max_block_size, sm_get_stats,
    sm_check, sm_thread_cache_layout,
};

/* ---- tlsf.h ------------------------------------------------------------ */

/* Static, not aligned_alloc: the test must also build where C11's
 * aligned_alloc is missing (mingw). */
static _Alignas(64) unsigned char heap_region[1u << 18];
static _Alignas(64) unsigned char pool_region[1u << 16];

static void tlsf_codes_and_limits(void)
{
    CHECK(TLSF_OK == 0);
    const int errs[] = {TLSF_ERR_ARG, TLSF_ERR_TOO_SMALL, TLSF_ERR_TOO_BIG, TLSF_ERR_OVERLAP,
                        TLSF_ERR_NOT_POOL, TLSF_ERR_POOL_IN_USE, TLSF_ERR_FIRST_POOL,
                        TLSF_ERR_NOT_OWNED};
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; ++i) {
        CHECK(errs[i] < 0);
        for (size_t j = 0; j < i; ++j) CHECK(errs[i] != errs[j]);
    }
    CHECK(tl.align_size() == 2 * sizeof(size_t));
    CHECK(tl.size() > 0);
    CHECK(tl.block_size_min() > 0 && tl.block_size_min() < tl.block_size_max());

    /* Every invariant has its own sentence; anything else is unknown. */
    const char *unknown = tl.invariant_name(TLSF_INV_COUNT);
    REQUIRE(unknown != NULL);
    CHECK(strcmp(unknown, "unknown invariant") == 0);
    CHECK(strcmp(tl.invariant_name(TLSF_INV_COUNT + 100), "unknown invariant") == 0);
    for (int code = TLSF_INV_OK; code < TLSF_INV_COUNT; ++code) {
        const char *name = tl.invariant_name(code);
        CHECK(name != NULL && strcmp(name, unknown) != 0);
    }

    CHECK(tl.pool_size_for(SIZE_MAX, 0) == 0);
    CHECK(tl.pool_size_for(64, 3) == 0);
    CHECK(tl.pool_size_for(64, 2 * TLSF_ALIGN_MAX) == 0);
    CHECK(tl.pool_overhead(16) == 16); /* too small for a pool */
}

static void tlsf_create_rejects(void)
{
    CHECK(tl.create(NULL, sizeof heap_region) == NULL);
    CHECK(tl.create(heap_region + 1, sizeof heap_region - 1) == NULL);
    CHECK(tl.create(heap_region, tl.size()) == NULL); /* no room for a pool */
}

/* Blocks and bytes seen by a walk, [0] free and [1] used. */
typedef struct walk_count {
    size_t blocks[2], bytes[2];
} walk_count;

static void count_block(void *ptr, size_t size, int used, void *user)
{
    walk_count *w = user;
    (void)ptr;
    w->blocks[used != 0]++;
    w->bytes[used != 0] += size;
}

/* A heap whose first pool holds nothing but a minimum block, so every
 * larger request is served by an added pool. */
static tlsf_t tiny_heap(size_t *bytes)
{
    *bytes = tl.size() + tl.pool_size_for(0, 0);
    return tl.create(heap_region, *bytes);
}

static void tlsf_pools(void)
{
    size_t first;
    tlsf_t t = tiny_heap(&first);
    REQUIRE(t != NULL);
    CHECK(tl.get_pool(t) != NULL);

    CHECK(tl.add_pool(NULL, pool_region, sizeof pool_region) == TLSF_ERR_ARG);
    CHECK(tl.add_pool(t, NULL, sizeof pool_region) == TLSF_ERR_ARG);
    CHECK(tl.add_pool(t, pool_region + 1, sizeof pool_region - 16) == TLSF_ERR_ARG);
    CHECK(tl.add_pool(t, pool_region, 16) == TLSF_ERR_TOO_SMALL);
    CHECK(tl.add_pool(t, heap_region, sizeof heap_region) == TLSF_ERR_OVERLAP);

    /* A fresh pool is one free block of pool_bytes - overhead. */
    size_t n = sizeof pool_region;
    CHECK(tl.add_pool(t, pool_region, n) == TLSF_OK);
    CHECK(tl.add_pool(t, pool_region, n) == TLSF_ERR_OVERLAP);
    walk_count w = {{0, 0}, {0, 0}};
    tl.walk_pool(pool_region, count_block, &w);
    CHECK(w.blocks[1] == 0 && w.blocks[0] == 1 && w.bytes[0] == n - tl.pool_overhead(n));

    tlsf_stats_t st;
    tl.stats(t, &st);
    CHECK(st.pool_bytes == first + n);
    CHECK(st.used_blocks == 0 && st.used_bytes == 0);

    CHECK(tl.remove_pool(t, pool_region + 4096) == TLSF_ERR_NOT_POOL);
    CHECK(tl.remove_pool(t, tl.get_pool(t)) == TLSF_ERR_FIRST_POOL);
    void *p = tl.malloc(t, 1000);
    REQUIRE(p != NULL);
    CHECK(tl.remove_pool(t, pool_region) == TLSF_ERR_POOL_IN_USE);
    tl.free(t, p);
    CHECK(tl.remove_pool(t, pool_region) == TLSF_OK);
    CHECK(tl.remove_pool(t, pool_region) == TLSF_ERR_NOT_POOL);
    CHECK(tl.malloc(t, 1000) == NULL);
    CHECK(tl.check(t) == 0);
}

static void tlsf_pool_size_for_is_enough(void)
{
    const size_t cases[][2] = {{1000, 0}, {1000, 1}, {100, 256}, {0, TLSF_ALIGN_MAX}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        size_t bytes = cases[i][0], align = cases[i][1];
        size_t need = tl.pool_size_for(bytes, align);
        REQUIRE(need > 0 && need <= sizeof pool_region);
        size_t first;
        tlsf_t t = tiny_heap(&first);
        REQUIRE(t != NULL);
        REQUIRE(tl.add_pool(t, pool_region, need) == TLSF_OK);
        /* The first pool is too small for the request, so the block comes
         * from the fresh pool. */
        void *p = align > 1 ? tl.memalign(t, align, bytes) : tl.malloc(t, bytes);
        CHECK(p != NULL);
        if (p != NULL && align > 1) CHECK((uintptr_t)p % align == 0);
        CHECK(tl.check(t) == 0);
    }
}

static void tlsf_malloc_free_edges(void)
{
    tlsf_t t = tl.create(heap_region, sizeof heap_region);
    REQUIRE(t != NULL);
    const size_t align = tl.align_size();

    void *zero = tl.malloc(t, 0);
    void *zero2 = tl.malloc(t, 0);
    REQUIRE(zero && zero2);
    CHECK(zero != zero2);
    CHECK(tl.block_size(zero) == tl.block_size_min());
    CHECK((uintptr_t)zero % align == 0);
    CHECK(tl.malloc(t, tl.block_size_max() + 1) == NULL);
    CHECK(tl.malloc(t, SIZE_MAX) == NULL);

    CHECK(tl.memalign(t, 0, 64) == NULL);
    CHECK(tl.memalign(t, 48, 64) == NULL);
    CHECK(tl.memalign(t, 2 * TLSF_ALIGN_MAX, 64) == NULL);
    void *a = tl.memalign(t, TLSF_ALIGN_MAX, 64);
    void *small = tl.memalign(t, align, 64);
    REQUIRE(a && small);
    CHECK((uintptr_t)a % TLSF_ALIGN_MAX == 0);
    CHECK((uintptr_t)small % align == 0);

    CHECK(tl.block_size(NULL) == 0);
    CHECK(tl.owns(t, NULL) == 0);
    CHECK(tl.owns(t, (char *)a + align) == 0); /* interior */
    CHECK(tl.owns(t, a) == 1);

    CHECK(tl.free_checked(t, NULL) == TLSF_OK);
    CHECK(tl.free_checked(t, (char *)a + align) == TLSF_ERR_NOT_OWNED);
    CHECK(tl.free_checked(t, a) == TLSF_OK);
    CHECK(tl.free_checked(t, a) == TLSF_ERR_NOT_OWNED);
    CHECK(tl.owns(t, a) == 0);

    /* tlsf_free ignores NULL, double frees and foreign pointers. */
    tlsf_stats_t before, after;
    tl.stats(t, &before);
    tl.free(t, NULL);
    tl.free(t, a);
    tl.free(t, pool_region);
    tl.stats(t, &after);
    CHECK(memcmp(&before, &after, sizeof before) == 0);
    CHECK(before.used_blocks == 3);
    CHECK(before.used_bytes == tl.block_size(zero) + tl.block_size(zero2) + tl.block_size(small));

    walk_count w = {{0, 0}, {0, 0}};
    tl.walk(t, count_block, &w);
    CHECK(w.blocks[1] == before.used_blocks && w.bytes[1] == before.used_bytes);
    CHECK(w.blocks[0] == before.free_blocks && w.bytes[0] == before.free_bytes);

    CHECK(tl.check(NULL) == TLSF_ERR_ARG);
    CHECK(tl.check(t) == TLSF_INV_OK);
    tl.free(t, zero);
    tl.free(t, zero2);
    tl.free(t, small);
    tl.stats(t, &after);
    CHECK(after.used_blocks == 0 && after.free_blocks == 1);
    CHECK(after.largest_free_block == after.free_bytes);
}

static void tlsf_realloc_edges(void)
{
    tlsf_t t = tl.create(heap_region, sizeof heap_region);
    REQUIRE(t != NULL);

    char *p = tl.realloc(t, NULL, 100); /* tlsf_malloc */
    REQUIRE(p != NULL);
    CHECK(tl.owns(t, p) && tl.block_size(p) >= 100);
    pattern_fill(p, 100, 3);

    CHECK(tl.realloc(t, p, SIZE_MAX) == NULL); /* too big: p untouched */
    CHECK(tl.realloc(t, p, sizeof heap_region) == NULL); /* no room */
    CHECK(tl.owns(t, p) && pattern_ok(p, 100, 3));
    CHECK(tl.realloc(t, p + 16, 10) == NULL); /* not a live block */
    CHECK(tl.realloc(t, pool_region, 10) == NULL);

    char *q = tl.realloc(t, p, 0); /* shrinks in place, does not free */
    CHECK(q == p);
    CHECK(tl.owns(t, p) && tl.block_size(p) == tl.block_size_min());
    tl.free(t, p);
    CHECK(tl.check(t) == 0);
}

/* ---- smmalloc.h -------------------------------------------------------- */

static void sm_create_limits(void)
{
    CHECK(SM_OK == 0 && SM_ERR_DOUBLE_FREE < 0 && SM_ERR_NOT_OWNED < 0 &&
          SM_ERR_DOUBLE_FREE != SM_ERR_NOT_OWNED);
    CHECK(SM_CACHE_COLD == 0 && SM_CACHE_WARM == 1 && SM_CACHE_HOT == 2);

    CHECK(sm.create(0, SM_BUCKET_SIZE_MIN) == NULL);
    CHECK(sm.create(SM_MAX_BUCKETS + 1, SM_BUCKET_SIZE_MIN) == NULL);
    CHECK(sm.create(1, SM_BUCKET_SIZE_MIN - 1) == NULL);
    CHECK(sm.create(1, SM_BUCKET_SIZE_MAX + 1) == NULL);

    sm_allocator a = sm.create(SM_MAX_BUCKETS, SM_BUCKET_SIZE_MIN);
    REQUIRE(a != NULL);
    CHECK(sm.bucket_count(a) == SM_MAX_BUCKETS);
    CHECK(sm.max_block_size(a) == (size_t)SM_BLOCK_GRANULE * SM_MAX_BUCKETS);
    sm.destroy(a);

    sm.destroy(NULL);
    CHECK(sm.bucket_count(NULL) == 0);
    CHECK(sm.max_block_size(NULL) == 0);
    sm_stats st;
    memset(&st, 0xab, sizeof st);
    sm.get_stats(NULL, &st);
    sm_stats zero;
    memset(&zero, 0, sizeof zero);
    CHECK(memcmp(&st, &zero, sizeof st) == 0);
}

static void sm_malloc_free_edges(void)
{
    sm_allocator a = sm.create(8, 1u << 16);
    REQUIRE(a != NULL);

    CHECK(sm.malloc(a, 64, 3) == NULL);
    CHECK(sm.malloc(a, 64, 2 * SM_ALIGN_FALLBACK_MAX) == NULL);
    CHECK(sm.malloc(a, (size_t)PTRDIFF_MAX - SM_ALIGN_MAX + 1, 0) == NULL);
    CHECK(sm.malloc(a, SIZE_MAX, 0) == NULL);

    void *zero = sm.malloc(a, 0, 0);
    void *b = sm.malloc(a, 33, 0); /* bucket 2: 48-byte blocks */
    void *fb = sm.malloc(a, sm.max_block_size(a) + 1, 0);
    void *page = sm.malloc(a, 64, SM_ALIGN_MAX);
    REQUIRE(zero && b && fb && page);
    CHECK((uintptr_t)b % SM_ALIGN_DEFAULT == 0 && (uintptr_t)fb % SM_ALIGN_DEFAULT == 0);
    CHECK((uintptr_t)page % SM_ALIGN_MAX == 0);

    CHECK(sm.mbucket(a, b) == 2 && sm.msize(a, b) == 48);
    CHECK(sm.mbucket(a, fb) == -1 && sm.msize(a, fb) >= sm.max_block_size(a) + 1);
    CHECK(sm.mbucket(a, NULL) == -1 && sm.msize(a, NULL) == 0);
    CHECK(sm.mbucket(a, (char *)b + 16) == -1 && sm.msize(a, (char *)b + 16) == 0);
    CHECK(sm.owns(a, b) && sm.owns(a, fb) && !sm.owns(a, NULL) && !sm.owns(a, (char *)b + 16));
    CHECK(!sm.owns(a, heap_region));

    CHECK(sm.free_checked(a, NULL) == SM_OK);
    CHECK(sm.free_checked(a, (char *)b + 16) == SM_ERR_NOT_OWNED);
    CHECK(sm.free_checked(a, heap_region) == SM_ERR_NOT_OWNED);
    CHECK(sm.free_checked(a, b) == SM_OK);
    CHECK(sm.free_checked(a, b) == SM_ERR_DOUBLE_FREE);
    CHECK(sm.mbucket(a, b) == -1 && sm.msize(a, b) == 0 && !sm.owns(a, b));
    CHECK(sm.free_checked(a, fb) == SM_OK);
    CHECK(sm.free_checked(a, fb) == SM_ERR_NOT_OWNED);

    /* sm_free ignores NULL and what it does not own. */
    sm.free(a, NULL);
    sm.free(a, heap_region);
    sm.free(a, page);
    CHECK(!sm.owns(a, page));

    /* Batch: valid entries freed and set to NULL, refused ones left. */
    void *x = sm.malloc(a, 16, 0), *y = sm.malloc(a, 2000, 0);
    REQUIRE(x && y);
    void *batch[5] = {x, NULL, heap_region, y, x};
    CHECK(sm.free_batch_checked(a, batch, 5) == 2);
    CHECK(batch[0] == NULL && batch[1] == NULL && batch[2] == heap_region && batch[3] == NULL);
    CHECK(batch[4] == x);
    CHECK(!sm.owns(a, x) && !sm.owns(a, y));

    x = sm.malloc(a, 16, 0);
    y = sm.malloc(a, 2000, 0);
    REQUIRE(x && y);
    void *plain[4] = {x, NULL, heap_region, y};
    sm.free_batch(a, plain, 4);
    CHECK(!sm.owns(a, x) && !sm.owns(a, y));

    sm.free(a, zero);
    sm_stats st;
    sm.get_stats(a, &st);
    CHECK(st.bucket_count == 8 && st.fallback_blocks_in_use == 0);
    for (size_t i = 0; i < st.bucket_count; ++i) {
        CHECK(st.buckets[i].block_size == SM_BLOCK_GRANULE * (i + 1));
        CHECK(st.buckets[i].blocks_total == (1u << 16) / (SM_BLOCK_GRANULE * (i + 1)));
        CHECK(st.buckets[i].blocks_in_use == 0);
    }
    CHECK(sm.check(a) == 0);
    sm.destroy(a);
}

static void sm_realloc_edges(void)
{
    sm_allocator a = sm.create(8, 1u << 16);
    REQUIRE(a != NULL);

    char *p = sm.realloc(a, NULL, 40, 0); /* sm_malloc */
    REQUIRE(p != NULL);
    CHECK(sm.mbucket(a, p) == 2);
    pattern_fill(p, 40, 9);
    CHECK(sm.realloc(a, p, 48, 0) == p); /* same bucket: unchanged */
    CHECK(sm.realloc(a, p, 64, 3) == NULL); /* bad alignment: p still valid */
    CHECK(sm.realloc(a, p, SIZE_MAX, 0) == NULL);
    CHECK(sm.realloc(a, heap_region, 64, 0) == NULL);
    CHECK(sm.owns(a, p) && pattern_ok(p, 40, 9));

    char *q = sm.realloc(a, p, 120, 0); /* another bucket: moved, contents kept */
    REQUIRE(q != NULL);
    CHECK(sm.mbucket(a, q) == 7 && pattern_ok(q, 40, 9));
    CHECK(!sm.owns(a, p) || p == q);
    sm.free(a, q);
    CHECK(sm.check(a) == 0);
    sm.destroy(a);
}

/* Alignments past what a bucket can give (SM_ALIGN_MAX) up to
 * SM_ALIGN_FALLBACK_MAX are served by the fallback: aligned, owned, sized,
 * resizable with the alignment kept, freed like any other block. */
static void sm_large_alignments(void)
{
    sm_allocator a = sm.create(64, 1u << 16);
    REQUIRE(a != NULL);
    for (size_t al = 2 * SM_ALIGN_MAX; al <= ((size_t)1 << 20); al <<= 1) {
        char *p = sm.malloc(a, 100, al);
        REQUIRE(p != NULL);
        CHECK((uintptr_t)p % al == 0);
        CHECK(sm.owns(a, p) && sm.mbucket(a, p) == -1 && sm.msize(a, p) >= 100);
        pattern_fill(p, 100, 3);
        char *q = sm.realloc(a, p, 3000, al);
        REQUIRE(q != NULL);
        CHECK((uintptr_t)q % al == 0 && pattern_ok(q, 100, 3));
        CHECK(sm.free_checked(a, q) == SM_OK);
        CHECK(sm.free_checked(a, q) == SM_ERR_NOT_OWNED);
        char *small = sm.malloc(a, 0, al); /* a bucket-sized request still honours it */
        REQUIRE(small != NULL);
        CHECK((uintptr_t)small % al == 0);
        sm.free(a, small);
    }
    CHECK(sm.malloc(a, 16, 2 * SM_ALIGN_FALLBACK_MAX) == NULL);
    void *p = sm.malloc(a, 16, 0);
    CHECK(sm.realloc(a, p, 16, 2 * SM_ALIGN_FALLBACK_MAX) == NULL && sm.owns(a, p));
    sm.free(a, p);
    CHECK(sm.check(a) == 0);
    sm.destroy(a);
}

static void sm_thread_cache_edges(void)
{
    sm_allocator a = sm.create(4, 1u << 16);
    REQUIRE(a != NULL);
    uint64_t out[SM_LAYOUT_HEADER + 4 * SM_LAYOUT_BUCKET + 1];
    const size_t need = SM_LAYOUT_HEADER + 4 * SM_LAYOUT_BUCKET;

    CHECK(sm.cache_exists(a) == 0);
    sm.cache_destroy(a); /* none: no-op */
    out[0] = 77;
    CHECK(sm.layout(a, out, need) == 0 && out[0] == 77);

    sm.cache_create(a, SM_CACHE_HOT, 4096);
    CHECK(sm.cache_exists(a) == 1);
    sm_stats st;
    sm.get_stats(a, &st);
    CHECK(st.thread_caches == 1);

    /* Only min(len, need) entries are written. */
    for (size_t i = 0; i < need + 1; ++i) out[i] = 77;
    CHECK(sm.layout(a, out, 2) == need);
    CHECK(out[2] == 77);
    CHECK(sm.layout(a, out, need) == need);
    CHECK(out[need] == 77);
    CHECK(out[SM_LAYOUT_BUCKET_COUNT] == 4);
    for (size_t i = 0; i < 4; ++i)
        CHECK(out[SM_LAYOUT_HEADER + i * SM_LAYOUT_BUCKET + SM_LAYOUT_BLOCK_SIZE] ==
              SM_BLOCK_GRANULE * (i + 1));

    sm.cache_create(a, SM_CACHE_COLD, 0); /* 0 bytes only destroys */
    CHECK(sm.cache_exists(a) == 0);
    sm.cache_create(a, SM_CACHE_WARM, 4096);
    CHECK(sm.cache_exists(a) == 1);
    sm.cache_destroy(a);
    CHECK(sm.cache_exists(a) == 0);
    sm.get_stats(a, &st);
    CHECK(st.thread_caches == 0);
    CHECK(sm.check(a) == 0);
    sm.destroy(a);
}

int main(void)
{
    RUN_TEST(tlsf_codes_and_limits);
    RUN_TEST(tlsf_create_rejects);
    RUN_TEST(tlsf_pools);
    RUN_TEST(tlsf_pool_size_for_is_enough);
    RUN_TEST(tlsf_malloc_free_edges);
    RUN_TEST(tlsf_realloc_edges);
    RUN_TEST(sm_create_limits);
    RUN_TEST(sm_malloc_free_edges);
    RUN_TEST(sm_realloc_edges);
    RUN_TEST(sm_large_alignments);
    RUN_TEST(sm_thread_cache_edges);
    return test_finish("test_api_contract");
}
