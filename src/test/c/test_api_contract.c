/* The contract test: a program written only against the two public
 * headers, using exactly the names they promise, creates both allocators,
 * allocates, frees, reallocates and queries them. If a name or a signature
 * drifts, this file stops compiling. */
#include "smmalloc.h"
#include "tlsf.h"
#include "test_util.h"

#include <stdint.h>

/* Holding every contract function in a typed pointer pins its signature. */
static void signatures_are_the_promised_ones(void)
{
    tlsf_t (*create)(void *, size_t) = tlsf_create;
    int (*add_pool)(tlsf_t, void *, size_t) = tlsf_add_pool;
    int (*remove_pool)(tlsf_t, void *) = tlsf_remove_pool;
    void *(*t_malloc)(tlsf_t, size_t) = tlsf_malloc;
    void *(*t_memalign)(tlsf_t, size_t, size_t) = tlsf_memalign;
    void *(*t_realloc)(tlsf_t, void *, size_t) = tlsf_realloc;
    void (*t_free)(tlsf_t, void *) = tlsf_free;
    size_t (*block_size)(const void *) = tlsf_block_size;
    int (*check)(tlsf_t) = tlsf_check;
    void (*stats)(tlsf_t, tlsf_stats_t *) = tlsf_stats;

    sm_allocator (*sm_create)(size_t, size_t) = sm_allocator_create;
    void (*sm_destroy)(sm_allocator) = sm_allocator_destroy;
    void (*cache_create)(sm_allocator, sm_cache_warmup, size_t) = sm_allocator_thread_cache_create;
    void (*cache_destroy)(sm_allocator) = sm_allocator_thread_cache_destroy;
    void *(*s_malloc)(sm_allocator, size_t, size_t) = sm_malloc;
    void (*s_free)(sm_allocator, void *) = sm_free;
    void (*s_free_batch)(sm_allocator, void **, size_t) = sm_free_batch;
    void *(*s_realloc)(sm_allocator, void *, size_t, size_t) = sm_realloc;
    size_t (*s_msize)(sm_allocator, void *) = sm_msize;
    int32_t (*s_mbucket)(sm_allocator, void *) = sm_mbucket;

    CHECK(create && add_pool && remove_pool && t_malloc && t_memalign && t_realloc &&
          t_free && block_size && check && stats);
    CHECK(sm_create && sm_destroy && cache_create && cache_destroy && s_malloc &&
          s_free && s_free_batch && s_realloc && s_msize && s_mbucket);
    CHECK(SM_CACHE_COLD == 0 && SM_CACHE_WARM == 1 && SM_CACHE_HOT == 2);
}

/* Static, not aligned_alloc: the test must also build where C11's
 * aligned_alloc is missing (mingw). */
static _Alignas(64) unsigned char tlsf_region[1u << 20];

static void tlsf_round_trip(void)
{
    tlsf_t t = tlsf_create(tlsf_region, sizeof tlsf_region);
    REQUIRE(t != NULL);

    char *a = tlsf_malloc(t, 100);
    char *b = tlsf_memalign(t, 256, 40);
    REQUIRE(a && b);
    CHECK(tlsf_block_size(a) >= 100);
    CHECK((uintptr_t)b % 256 == 0);
    pattern_fill(a, 100, 1);
    a = tlsf_realloc(t, a, 5000);
    REQUIRE(a != NULL);
    CHECK(pattern_ok(a, 100, 1));

    tlsf_stats_t st;
    tlsf_stats(t, &st);
    CHECK(st.used_blocks == 2);
    CHECK(st.used_bytes >= 5000 + 40);
    CHECK(tlsf_check(t) == 0);

    tlsf_free(t, a);
    tlsf_free(t, b);
    tlsf_stats(t, &st);
    CHECK(st.used_blocks == 0 && st.free_blocks == 1);
    CHECK(tlsf_check(t) == 0);
}

static void smmalloc_round_trip(void)
{
    sm_allocator a = sm_allocator_create(8, 1u << 20);
    REQUIRE(a != NULL);
    sm_allocator_thread_cache_create(a, SM_CACHE_WARM, 4096);

    void *small = sm_malloc(a, 40, 0);
    void *big = sm_malloc(a, 4000, 0); /* beyond the buckets: the fallback */
    REQUIRE(small && big);
    CHECK(sm_mbucket(a, small) == 2); /* 48-byte blocks */
    CHECK(sm_msize(a, small) == 48);
    CHECK(sm_mbucket(a, big) == -1);
    CHECK(sm_msize(a, big) >= 4000);

    pattern_fill(small, 40, 7);
    void *grown = sm_realloc(a, small, 120, 0);
    REQUIRE(grown != NULL);
    CHECK(pattern_ok(grown, 40, 7));
    CHECK(sm_mbucket(a, grown) == 7);

    void *batch[2] = { grown, big };
    sm_free_batch(a, batch, 2);
    sm_stats st;
    sm_get_stats(a, &st);
    uint64_t in_use = st.fallback_blocks_in_use;
    for (size_t i = 0; i < st.bucket_count; ++i) in_use += st.buckets[i].blocks_in_use;
    CHECK(in_use == 0);

    sm_allocator_thread_cache_destroy(a);
    sm_allocator_destroy(a);
}

int main(void)
{
    RUN_TEST(signatures_are_the_promised_ones);
    RUN_TEST(tlsf_round_trip);
    RUN_TEST(smmalloc_round_trip);
    return test_finish("test_api_contract");
}
