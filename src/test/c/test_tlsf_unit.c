/* Unit tests of the TLSF heap: every public function and every documented
 * edge case. Each test builds its own heap in a fresh region so failures
 * stay local; tlsf_check runs after every scenario. */
#if !defined(_WIN32) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE under -std=c11 */
#endif

#include "tlsf.h"
#include "test_util.h"

#include <stdint.h>

#if !defined(_WIN32)
#include <sys/mman.h>
#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS MAP_ANON
#endif
#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif
#endif

#define WORD sizeof(size_t)
#define ALIGN (2 * sizeof(size_t))

typedef struct region {
    void *raw;
    char *mem; /* 64-byte aligned */
    size_t size;
} region_t;

static region_t region_new(size_t size)
{
    region_t r;
    r.raw = malloc(size + 64);
    REQUIRE(r.raw != NULL);
    r.mem = (char *)(((uintptr_t)r.raw + 63) & ~(uintptr_t)63);
    r.size = size;
    return r;
}

static void region_free(region_t *r) { free(r->raw); }

static tlsf_t heap_new(region_t *r, size_t size)
{
    tlsf_t t;
    *r = region_new(size);
    t = tlsf_create(r->mem, size);
    REQUIRE(t != NULL);
    REQUIRE(tlsf_check(t) == 0);
    return t;
}

static tlsf_stats_t stats_of(tlsf_t t)
{
    tlsf_stats_t s;
    tlsf_stats(t, &s);
    return s;
}

static int stats_equal(const tlsf_stats_t *a, const tlsf_stats_t *b)
{
    return a->pool_bytes == b->pool_bytes && a->used_bytes == b->used_bytes &&
           a->free_bytes == b->free_bytes && a->largest_free_block == b->largest_free_block &&
           a->used_blocks == b->used_blocks && a->free_blocks == b->free_blocks;
}

static size_t *header_of(void *p) { return (size_t *)p - 1; }

/* Allocates n-byte blocks, then minimum blocks, until nothing is left. */
static size_t fill_heap(tlsf_t t, size_t n, void **out, size_t cap)
{
    size_t count = 0;
    void *p;
    while (count < cap && (p = tlsf_malloc(t, n)) != NULL)
        out[count++] = p;
    while (count < cap && (p = tlsf_malloc(t, 0)) != NULL)
        out[count++] = p;
    return count;
}

static void free_all(tlsf_t t, void **ptrs, size_t count)
{
    for (size_t i = 0; i < count; ++i)
        tlsf_free(t, ptrs[i]);
}

typedef struct walk_acc {
    size_t used, free, used_bytes, free_bytes, largest_free;
    size_t blocks;
    char *last_ptr;
    size_t last_size;
    int ordered;
} walk_acc_t;

static void walker(void *ptr, size_t size, int used, void *user)
{
    walk_acc_t *w = (walk_acc_t *)user;
    if (w->last_ptr && (char *)ptr <= w->last_ptr)
        w->ordered = 0;
    w->last_ptr = (char *)ptr;
    w->last_size = size;
    w->blocks++;
    if (used) {
        w->used++;
        w->used_bytes += size;
    } else {
        w->free++;
        w->free_bytes += size;
        if (size > w->largest_free)
            w->largest_free = size;
    }
}

static walk_acc_t walk_of(tlsf_t t)
{
    walk_acc_t w;
    memset(&w, 0, sizeof w);
    w.ordered = 1;
    tlsf_walk(t, walker, &w);
    return w;
}

/* ---------------------------------------------------------------------- */

static void test_constants(void)
{
    CHECK(tlsf_align_size() == 2 * sizeof(size_t));
    CHECK(tlsf_block_size_min() == 3 * sizeof(size_t));
    CHECK(tlsf_size() > 0 && tlsf_size() % tlsf_align_size() == 0);
#if SIZE_MAX > 0xffffffffu
    CHECK(tlsf_block_size_max() == ((size_t)1 << 40) - 16 - 8);
#else
    CHECK(tlsf_block_size_max() == ((size_t)1 << 30) - 8 - 4);
#endif
    CHECK(TLSF_ALIGN_MAX == 4096);
    CHECK(tlsf_block_size(NULL) == 0);
}

static void test_create_errors(void)
{
    region_t r = region_new(1 << 16);
    CHECK(tlsf_create(NULL, 1 << 16) == NULL);
    CHECK(tlsf_create(r.mem + WORD, (1 << 16) - WORD) == NULL);
    CHECK(tlsf_create(r.mem + 1, (1 << 16) - 16) == NULL);
    CHECK(tlsf_create(r.mem, 0) == NULL);
    CHECK(tlsf_create(r.mem, tlsf_size()) == NULL);
    CHECK(tlsf_create(r.mem, tlsf_size() + 64) == NULL);
    /* An address range that wraps around. */
    CHECK(tlsf_create(r.mem, SIZE_MAX) == NULL);
#if SIZE_MAX > 0xffffffffu
    /* A first pool bigger than one maximum block: rejected before any byte
     * past the control structure is written. */
    CHECK(tlsf_create(r.mem, (size_t)1 << 41) == NULL);
#endif
    region_free(&r);
}

static void test_create_minimal(void)
{
    size_t pool = tlsf_pool_size_for(0, 0);
    size_t size = tlsf_size() + pool;
    region_t r = region_new(size);
    tlsf_t t;
    void *p;
    tlsf_stats_t s;
    CHECK(pool > 0);
    CHECK(tlsf_create(r.mem, size - ALIGN) == NULL);
    t = tlsf_create(r.mem, size);
    REQUIRE(t != NULL);
    CHECK(tlsf_check(t) == 0);
    s = stats_of(t);
    CHECK(s.pool_bytes == size);
    CHECK(s.free_blocks == 1 && s.used_blocks == 0);
    CHECK(s.free_bytes == tlsf_block_size_min());
    CHECK(s.free_bytes == size - tlsf_size() - tlsf_pool_overhead(size - tlsf_size()));
    p = tlsf_malloc(t, 0);
    CHECK(p != NULL);
    CHECK(tlsf_malloc(t, 0) == NULL);
    tlsf_free(t, p);
    CHECK(tlsf_check(t) == 0);
    region_free(&r);
}

static void test_null_heap(void)
{
    int x = 0;
    tlsf_stats_t s;
    walk_acc_t w;
    memset(&w, 0, sizeof w);
    CHECK(tlsf_malloc(NULL, 8) == NULL);
    CHECK(tlsf_memalign(NULL, 64, 8) == NULL);
    CHECK(tlsf_realloc(NULL, NULL, 8) == NULL);
    CHECK(tlsf_realloc(NULL, &x, 8) == NULL);
    tlsf_free(NULL, &x);
    CHECK(tlsf_free_checked(NULL, &x) == TLSF_ERR_NOT_OWNED);
    CHECK(tlsf_free_checked(NULL, NULL) == TLSF_OK);
    CHECK(tlsf_owns(NULL, &x) == 0);
    CHECK(tlsf_check(NULL) == TLSF_ERR_ARG);
    memset(&s, 0xff, sizeof s);
    tlsf_stats(NULL, &s);
    CHECK(s.pool_bytes == 0 && s.used_blocks == 0);
    tlsf_walk(NULL, walker, &w);
    CHECK(w.blocks == 0);
    CHECK(tlsf_get_pool(NULL) == NULL);
    CHECK(tlsf_add_pool(NULL, &x, 4096) == TLSF_ERR_ARG);
    CHECK(tlsf_remove_pool(NULL, &x) == TLSF_ERR_ARG);
}

static void test_add_pool(void)
{
    region_t r, a = region_new(1 << 16), b = region_new(1 << 16);
    tlsf_t t = heap_new(&r, 1 << 14);
    tlsf_stats_t s0 = stats_of(t), s1;
    void *big;

    CHECK(tlsf_add_pool(t, NULL, 1 << 16) == TLSF_ERR_ARG);
    CHECK(tlsf_add_pool(t, a.mem + WORD, 1 << 15) == TLSF_ERR_ARG);
    CHECK(tlsf_add_pool(t, a.mem, SIZE_MAX) == TLSF_ERR_ARG);
    CHECK(tlsf_add_pool(t, a.mem, 64) == TLSF_ERR_TOO_SMALL);
    CHECK(tlsf_add_pool(t, a.mem, 0) == TLSF_ERR_TOO_SMALL);
#if SIZE_MAX > 0xffffffffu
    CHECK(tlsf_add_pool(t, a.mem, (size_t)1 << 41) == TLSF_ERR_TOO_BIG);
#endif
    /* The create region (control structure and first pool) is taken. */
    CHECK(tlsf_add_pool(t, r.mem, 1 << 12) == TLSF_ERR_OVERLAP);
    CHECK(tlsf_add_pool(t, r.mem + (1 << 13), 1 << 12) == TLSF_ERR_OVERLAP);
    CHECK(tlsf_check(t) == 0);
    s1 = stats_of(t);
    CHECK(stats_equal(&s0, &s1));

    CHECK(tlsf_add_pool(t, a.mem, 1 << 16) == TLSF_OK);
    CHECK(tlsf_add_pool(t, a.mem, 1 << 16) == TLSF_ERR_OVERLAP);
    CHECK(tlsf_add_pool(t, a.mem + 4096, 1 << 12) == TLSF_ERR_OVERLAP);
    /* Adjacent halves of one region are separate, non-overlapping pools. */
    CHECK(tlsf_add_pool(t, b.mem, 1 << 15) == TLSF_OK);
    CHECK(tlsf_add_pool(t, b.mem + (1 << 15), 1 << 15) == TLSF_OK);
    CHECK(tlsf_check(t) == 0);
    s1 = stats_of(t);
    CHECK(s1.pool_bytes == s0.pool_bytes + 2 * (1 << 16));
    CHECK(s1.free_blocks == 4);
    CHECK(s1.free_bytes == s0.free_bytes + ((1 << 16) - tlsf_pool_overhead(1 << 16)) +
                               2 * ((1 << 15) - tlsf_pool_overhead(1 << 15)));

    /* A block larger than the first pool must come from the added one. */
    big = tlsf_malloc(t, 40000);
    CHECK(big != NULL && (char *)big > a.mem && (char *)big < a.mem + (1 << 16));
    tlsf_free(t, big);
    CHECK(tlsf_check(t) == 0);
    region_free(&a);
    region_free(&b);
    region_free(&r);
}

static void test_remove_pool(void)
{
    region_t r, a = region_new(1 << 16);
    tlsf_t t = heap_new(&r, 1 << 14);
    tlsf_stats_t s0 = stats_of(t), s1;
    void *p;
    int x;

    CHECK(tlsf_remove_pool(t, NULL) == TLSF_ERR_ARG);
    CHECK(tlsf_remove_pool(t, &x) == TLSF_ERR_NOT_POOL);
    CHECK(tlsf_remove_pool(t, r.mem) == TLSF_ERR_FIRST_POOL);
    CHECK(tlsf_remove_pool(t, tlsf_get_pool(t)) == TLSF_ERR_FIRST_POOL);
    CHECK(tlsf_remove_pool(t, a.mem) == TLSF_ERR_NOT_POOL);

    REQUIRE(tlsf_add_pool(t, a.mem, 1 << 16) == TLSF_OK);
    CHECK(tlsf_remove_pool(t, a.mem + 16) == TLSF_ERR_NOT_POOL);
    p = tlsf_malloc(t, 30000);
    REQUIRE(p != NULL && (char *)p > a.mem && (char *)p < a.mem + (1 << 16));
    CHECK(tlsf_remove_pool(t, a.mem) == TLSF_ERR_POOL_IN_USE);
    CHECK(tlsf_check(t) == 0);
    tlsf_free(t, p);
    CHECK(tlsf_remove_pool(t, a.mem) == TLSF_OK);
    CHECK(tlsf_check(t) == 0);
    s1 = stats_of(t);
    CHECK(stats_equal(&s0, &s1));
    CHECK(tlsf_remove_pool(t, a.mem) == TLSF_ERR_NOT_POOL);
    /* Nothing of the removed pool is owned any more. */
    CHECK(tlsf_owns(t, p) == 0);
    CHECK(tlsf_free_checked(t, p) == TLSF_ERR_NOT_OWNED);
    CHECK(tlsf_malloc(t, 30000) == NULL);
    /* The region can be handed back. */
    CHECK(tlsf_add_pool(t, a.mem, 1 << 16) == TLSF_OK);
    p = tlsf_malloc(t, 30000);
    CHECK(p != NULL);
    tlsf_free(t, p);
    CHECK(tlsf_check(t) == 0);
    region_free(&a);
    region_free(&r);
}

static void test_malloc_zero(void)
{
    region_t r;
    tlsf_t t = heap_new(&r, 1 << 14);
    void *a = tlsf_malloc(t, 0), *b = tlsf_malloc(t, 0);
    CHECK(a != NULL && b != NULL && a != b);
    CHECK(tlsf_block_size(a) == tlsf_block_size_min());
    CHECK(((uintptr_t)a & (ALIGN - 1)) == 0);
    CHECK(tlsf_owns(t, a) && tlsf_owns(t, b));
    /* The minimum block is usable in full. */
    memset(a, 0xab, tlsf_block_size(a));
    memset(b, 0xcd, tlsf_block_size(b));
    CHECK(tlsf_check(t) == 0);
    CHECK(tlsf_free_checked(t, a) == TLSF_OK);
    CHECK(tlsf_free_checked(t, b) == TLSF_OK);
    CHECK(stats_of(t).used_blocks == 0);
    CHECK(tlsf_check(t) == 0);
    region_free(&r);
}

static void test_malloc_too_big(void)
{
    region_t r;
    tlsf_t t = heap_new(&r, 1 << 16);
    tlsf_stats_t s0 = stats_of(t), s1;
    size_t max = tlsf_block_size_max();
    size_t huge[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - WORD, SIZE_MAX - ALIGN,
                     SIZE_MAX / 2, max + 1, max + WORD, max};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; ++i) {
        CHECK(tlsf_malloc(t, huge[i]) == NULL);
        CHECK(tlsf_memalign(t, 64, huge[i]) == NULL);
        CHECK(tlsf_memalign(t, 4096, huge[i]) == NULL);
    }
    /* Larger than the free space but representable. */
    CHECK(tlsf_malloc(t, s0.free_bytes + 1) == NULL);
    CHECK(tlsf_malloc(t, s0.free_bytes) != NULL);
    CHECK(tlsf_check(t) == 0);
    s1 = stats_of(t);
    CHECK(s1.used_blocks == 1 && s1.free_blocks == 0);
    region_free(&r);
}

static void test_memalign(void)
{
    region_t r;
    tlsf_t t = heap_new(&r, 1 << 20);
    static const size_t sizes[] = {0, 1, 24, 100, 1000, 5000};
    void *ptrs[13 * 6];
    size_t n = 0;
    for (size_t align = 1; align <= 4096; align <<= 1) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; ++i) {
            void *p = tlsf_memalign(t, align, sizes[i]);
            CHECK(p != NULL);
            if (!p)
                continue;
            CHECK(((uintptr_t)p & (align - 1)) == 0);
            CHECK(((uintptr_t)p & (ALIGN - 1)) == 0);
            CHECK(tlsf_block_size(p) >= sizes[i]);
            CHECK(tlsf_owns(t, p));
            pattern_fill(p, tlsf_block_size(p), n);
            ptrs[n++] = p;
        }
    }
    CHECK(tlsf_check(t) == 0);
    for (size_t i = 0; i < n; ++i)
        CHECK(pattern_ok(ptrs[i], tlsf_block_size(ptrs[i]), i));
    CHECK(tlsf_memalign(t, 0, 10) == NULL);
    CHECK(tlsf_memalign(t, 3, 10) == NULL);
    CHECK(tlsf_memalign(t, 48, 10) == NULL);
    CHECK(tlsf_memalign(t, 8192, 10) == NULL);
    CHECK(tlsf_memalign(t, (size_t)1 << 20, 10) == NULL);
    CHECK(tlsf_memalign(t, SIZE_MAX, 10) == NULL);
    free_all(t, ptrs, n);
    CHECK(tlsf_check(t) == 0);
    CHECK(stats_of(t).free_blocks == 1);
    region_free(&r);
}

static void test_realloc_basics(void)
{
    region_t r;
    tlsf_t t = heap_new(&r, 1 << 16);
    void *p = tlsf_realloc(t, NULL, 100), *q;
    CHECK(p != NULL && tlsf_block_size(p) >= 100);
    /* Same size: no change at all. */
    CHECK(tlsf_realloc(t, p, 100) == p);
    /* realloc(p, 0) shrinks to a minimum block and keeps p. */
    q = tlsf_realloc(t, p, 0);
    CHECK(q == p);
    CHECK(tlsf_block_size(p) == tlsf_block_size_min());
    CHECK(tlsf_owns(t, p));
    CHECK(tlsf_check(t) == 0);
    /* Too big: NULL, block untouched. */
    memset(p, 0x5a, tlsf_block_size(p));
    CHECK(tlsf_realloc(t, p, SIZE_MAX) == NULL);
    CHECK(tlsf_realloc(t, p, tlsf_block_size_max() + 1) == NULL);
    CHECK(tlsf_realloc(t, p, 1 << 17) == NULL);
    CHECK(tlsf_owns(t, p));
    CHECK(((unsigned char *)p)[0] == 0x5a);
    CHECK(tlsf_check(t) == 0);
    tlsf_free(t, p);
    CHECK(stats_of(t).used_blocks == 0);
    region_free(&r);
}

static void test_realloc_grow_in_place(void)
{
    region_t r;
    tlsf_t t = heap_new(&r, 1 << 16);
    void *a = tlsf_malloc(t, 100), *b = tlsf_malloc(t, 100), *c = tlsf_malloc(t, 100);
    void *q;
    REQUIRE(a && b && c);
    pattern_fill(a, 100, 1);
    tlsf_free(t, b);
    q = tlsf_realloc(t, a, 200);
    CHECK(q == a);
    CHECK(tlsf_block_size(a) >= 200);
    CHECK(pattern_ok(a, 100, 1));
    CHECK(tlsf_check(t) == 0);
    tlsf_free(t, c);
    tlsf_free(t, a);
    CHECK(stats_of(t).free_blocks == 1);

    /* Growing by exactly the whole free neighbour. */

    a = tlsf_malloc(t, 100);
    b = tlsf_malloc(t, 200);
    c = tlsf_malloc(t, 10);
    REQUIRE(a && b && c);
    tlsf_free(t, b);
    q = tlsf_realloc(t, a, tlsf_block_size(a) + 200 + WORD);
    CHECK(q == a);
    CHECK(stats_of(t).free_blocks == 1); /* b fully absorbed */
    CHECK(tlsf_check(t) == 0);

    /* The last block of the pool grows into the rest of the pool. */
    q = tlsf_realloc(t, c, 20000);
    CHECK(q == c);
    CHECK(tlsf_check(t) == 0);
    tlsf_free(t, a);
    tlsf_free(t, c);
    CHECK(tlsf_check(t) == 0);
    region_free(&r);
}

static void test_realloc_shrink_in_place(void)
{
    region_t r;
    tlsf_t t = heap_new(&r, 1 << 16);
    void *a = tlsf_malloc(t, 1000), *b = tlsf_malloc(t, 1000), *c = tlsf_malloc(t, 10);
    tlsf_stats_t s0, s1;
    size_t old;
    REQUIRE(a && b && c);
    pattern_fill(a, 1000, 7);
    old = tlsf_block_size(a);
    s0 = stats_of(t);
    CHECK(tlsf_realloc(t, a, 100) == a);
    CHECK(tlsf_block_size(a) >= 100 && tlsf_block_size(a) < 1000);
    CHECK(pattern_ok(a, 100, 7));
    s1 = stats_of(t);
    CHECK(s1.free_blocks == s0.free_blocks + 1); /* the tail, before used b */
    CHECK(s1.used_bytes == s0.used_bytes - (old - tlsf_block_size(a)));
    CHECK(tlsf_check(t) == 0);

    /* The shrunk tail merges with a free successor. */
    tlsf_free(t, b);
    s0 = stats_of(t);
    CHECK(tlsf_realloc(t, a, 40) == a);
    s1 = stats_of(t);
    CHECK(s1.free_blocks == s0.free_blocks);
    CHECK(s1.free_bytes > s0.free_bytes);
    CHECK(pattern_ok(a, 40, 7));
    CHECK(tlsf_check(t) == 0);

    /* Shrinking by less than a minimum block, next used: nothing moves. */
    {
        void *d = tlsf_malloc(t, 100), *e = tlsf_malloc(t, 100);
        size_t before;
        REQUIRE(d && e);
        before = tlsf_block_size(d);
        s0 = stats_of(t);
        CHECK(tlsf_realloc(t, d, before - ALIGN) == d);
        s1 = stats_of(t);
        CHECK(tlsf_block_size(d) == before);
        CHECK(stats_equal(&s0, &s1));
        tlsf_free(t, d);
        tlsf_free(t, e);
    }
    CHECK(tlsf_check(t) == 0);
    tlsf_free(t, a);
    tlsf_free(t, c);
    CHECK(stats_of(t).free_blocks == 1);
    region_free(&r);
}

static void test_realloc_backward(void)
{
    region_t r;
    tlsf_t t = heap_new(&r, 1 << 16);
    void *a = tlsf_malloc(t, 200), *b = tlsf_malloc(t, 200), *c = tlsf_malloc(t, 200),
         *d = tlsf_malloc(t, 10), *q;
    REQUIRE(a && b && c && d);
    pattern_fill(b, 200, 3);
    tlsf_free(t, a);
    /* No free successor, free predecessor big enough: slide back. */
    q = tlsf_realloc(t, b, 300);
    CHECK(q == a);
    CHECK(pattern_ok(q, 200, 3));
    CHECK(tlsf_owns(t, q) && (q == b || !tlsf_owns(t, b)));
    CHECK(tlsf_check(t) == 0);
    /* Predecessor and successor together. */
    tlsf_free(t, d);
    d = tlsf_malloc(t, 10);
    {
        /* All four too big for the fragment left by the slide, so they are
         * consecutive and h keeps g from merging with the pool's tail. */
        void *e = tlsf_malloc(t, 200), *f = tlsf_malloc(t, 200), *g = tlsf_malloc(t, 200),
             *h = tlsf_malloc(t, 200);
        REQUIRE(e && f && g && h);
        pattern_fill(f, 200, 4);
        tlsf_free(t, e);
        tlsf_free(t, g);
        q = tlsf_realloc(t, f, 3 * tlsf_block_size(f));
        CHECK(q == e);
        CHECK(pattern_ok(q, 200, 4));
        CHECK(tlsf_check(t) == 0);
        tlsf_free(t, q);
        tlsf_free(t, h);
    }
    tlsf_free(t, c);
    tlsf_free(t, d);
    tlsf_free(t, a);
    CHECK(tlsf_check(t) == 0);
    CHECK(stats_of(t).used_blocks == 0 && stats_of(t).free_blocks == 1);
    region_free(&r);
}

static void test_realloc_move(void)
{
    region_t r;
    tlsf_t t = heap_new(&r, 1 << 16);
    void *a = tlsf_malloc(t, 100), *b = tlsf_malloc(t, 100), *q;
    size_t used_a;
    REQUIRE(a && b);
    used_a = tlsf_block_size(a);
    pattern_fill(a, used_a, 11);
    q = tlsf_realloc(t, a, 5000);
    CHECK(q != NULL && q != a);
    CHECK(pattern_ok(q, used_a, 11));
    CHECK(tlsf_block_size(q) >= 5000);
    CHECK(!tlsf_owns(t, a));
    CHECK(tlsf_owns(t, q));
    CHECK(stats_of(t).used_blocks == 2);
    CHECK(tlsf_check(t) == 0);
    tlsf_free(t, q);
    tlsf_free(t, b);
    CHECK(stats_of(t).free_blocks == 1);
    region_free(&r);
}

/* Uses up every free block, so nothing can grow in place or slide. */
static size_t exhaust(tlsf_t t, void **out, size_t cap)
{
    size_t n = 0;
    for (;;) {
        tlsf_stats_t s = stats_of(t);
        void *p;
        if (s.free_blocks == 0 || n == cap)
            break;
        p = tlsf_malloc(t, s.largest_free_block);
        if (!p)
            p = tlsf_malloc(t, 0);
        REQUIRE(p != NULL);
        out[n++] = p;
    }
    return n;
}

static void test_realloc_keeps_alignment(void)
{
    for (size_t align = 2 * ALIGN; align <= 4096; align <<= 1) {
        region_t r, extra = region_new(1 << 16);
        tlsf_t t = heap_new(&r, 1 << 14);
        void *fill[256];
        void *p = tlsf_memalign(t, align, 100), *q;
        size_t n;
        REQUIRE(p != NULL);
        CHECK(((uintptr_t)p & (align - 1)) == 0);
        pattern_fill(p, 100, align);
        n = exhaust(t, fill, 256);
        REQUIRE(tlsf_add_pool(t, extra.mem, 1 << 16) == TLSF_OK);
        q = tlsf_realloc(t, p, 3000);
        CHECK(q != NULL && q != p);
        CHECK(((uintptr_t)q & (align - 1)) == 0);
        CHECK(pattern_ok(q, 100, align));
        CHECK(tlsf_check(t) == 0);
        /* Growing in place keeps the (aligned) address. */
        {
            void *q2 = tlsf_realloc(t, q, 3500);
            CHECK(q2 == q);
            CHECK(pattern_ok(q2, 100, align));
        }
        /* A second move still honours the alignment. */
        {
            void *blk = tlsf_malloc(t, 100), *q3;
            (void)blk;
            q3 = tlsf_realloc(t, q, 20000);
            CHECK(q3 != NULL);
            CHECK(((uintptr_t)q3 & (align - 1)) == 0);
            CHECK(q3 && pattern_ok(q3, 100, align));
            if (q3)
                q = q3;
            tlsf_free(t, blk);
        }
        tlsf_free(t, q);
        free_all(t, fill, n);
        CHECK(tlsf_check(t) == 0);
        CHECK(stats_of(t).used_blocks == 0 && stats_of(t).free_blocks == 2);
        region_free(&extra);
        region_free(&r);
    }
}

static void test_realloc_aligned_no_slide(void)
{
    /* A memalign'd block with a free predecessor must not slide back to an
     * address that may break its alignment: it moves to an aligned block
     * instead (or grows in place). */
    region_t r;
    tlsf_t t = heap_new(&r, 1 << 16);
    void *a = tlsf_malloc(t, 1000), *p = tlsf_memalign(t, 256, 64), *b = tlsf_malloc(t, 10), *q;
    REQUIRE(a && p && b);
    pattern_fill(p, 64, 9);
    tlsf_free(t, a);
    q = tlsf_realloc(t, p, 900);
    CHECK(q != NULL && ((uintptr_t)q & 255) == 0);
    CHECK(q && pattern_ok(q, 64, 9));
    CHECK(tlsf_check(t) == 0);
    tlsf_free(t, q);
    tlsf_free(t, b);
    CHECK(stats_of(t).free_blocks == 1);
    region_free(&r);
}

static void test_realloc_failure(void)
{
    region_t r;
    tlsf_t t = heap_new(&r, 1 << 14);
    void *fill[1024];
    void *a = tlsf_malloc(t, 200), *b = tlsf_malloc(t, 10);
    tlsf_stats_t s0, s1;
    size_t n;
    REQUIRE(a && b);
    pattern_fill(a, 200, 5);
    n = exhaust(t, fill, 1024);
    s0 = stats_of(t);
    CHECK(tlsf_realloc(t, a, 1000) == NULL);
    CHECK(tlsf_memalign(t, 64, 0) == NULL);
    s1 = stats_of(t);
    CHECK(stats_equal(&s0, &s1));
    CHECK(pattern_ok(a, 200, 5));
    CHECK(tlsf_owns(t, a));
    CHECK(tlsf_check(t) == 0);
    free_all(t, fill, n);
    tlsf_free(t, a);
    tlsf_free(t, b);
    CHECK(stats_of(t).free_blocks == 1);
    region_free(&r);
}

/* The classic rounded search skips the request's own list; a heap whose only
 * free block was just freed with the same size must still serve it. */
static void test_free_then_same_size(void)
{
    static const size_t sizes[] = {0,    1,    24,   100,  500,  504,   505,   520,
                                   1000, 1500, 3000, 4095, 5000, 10000, 33333, 100000};
    enum { CAP = 1 << 16 }; /* > 512 KiB / 16-byte minimum blocks on 32-bit */
    void **ptrs = (void **)malloc(CAP * sizeof(void *));
    REQUIRE(ptrs != NULL);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; ++k) {
        size_t n = sizes[k];
        region_t r;
        tlsf_t t = heap_new(&r, (size_t)1 << 19);
        size_t count = fill_heap(t, n, ptrs, CAP), full;
        REQUIRE(count < CAP);
        CHECK(stats_of(t).free_blocks == 0);
        /* Blocks of size n come first; leave a margin so both neighbours of
         * the freed block are used. */
        for (full = 0; full < count && tlsf_block_size(ptrs[full]) >= n &&
                       (n == 0 || tlsf_block_size(ptrs[full]) < n + 64);
             ++full)
            ;
        REQUIRE(full >= 4);
        for (size_t i = 1; i + 1 < full; i += (full / 7) + 1) {
            void *q;
            tlsf_free(t, ptrs[i]);
            q = tlsf_malloc(t, n);
            CHECK(q == ptrs[i]);
            if (q)
                ptrs[i] = q;
            else
                ptrs[i] = tlsf_malloc(t, 0);
        }
        /* Coalesced with a neighbour: found by the rounded search or as the
         * head of the same list. Then the split remainder again. */
        if (full >= 6) {
            void *q1, *q2;
            tlsf_free(t, ptrs[2]);
            tlsf_free(t, ptrs[3]);
            q1 = tlsf_malloc(t, n);
            q2 = tlsf_malloc(t, n);
            CHECK(q1 != NULL && q2 != NULL);
            ptrs[2] = q1;
            ptrs[3] = q2;
        }
        CHECK(tlsf_check(t) == 0);
        free_all(t, ptrs, count);
        CHECK(tlsf_check(t) == 0);
        CHECK(stats_of(t).used_blocks == 0 && stats_of(t).free_blocks == 1);
        region_free(&r);
    }
    free(ptrs);
}

static void test_double_free_and_foreign(void)
{
    region_t r;
    tlsf_t t = heap_new(&r, 1 << 16);
    void *a = tlsf_malloc(t, 100), *b = tlsf_malloc(t, 100), *c = tlsf_malloc(t, 100);
    int on_stack = 0;
    void *outside = malloc(64);
    tlsf_stats_t s0, s1;
    REQUIRE(a && b && c && outside);
    pattern_fill(a, 100, 21);
    pattern_fill(c, 100, 23);

    CHECK(tlsf_owns(t, a) && tlsf_owns(t, b) && tlsf_owns(t, c));
    CHECK(tlsf_free_checked(t, NULL) == TLSF_OK);
    CHECK(tlsf_owns(t, NULL) == 0);
    CHECK(tlsf_free_checked(t, b) == TLSF_OK);
    s0 = stats_of(t);
    /* Double free, interior, misaligned, header, foreign: all refused. */
    CHECK(tlsf_owns(t, b) == 0);
    CHECK(tlsf_free_checked(t, b) == TLSF_ERR_NOT_OWNED);
    tlsf_free(t, b);
    CHECK(tlsf_free_checked(t, (char *)a + ALIGN) == TLSF_ERR_NOT_OWNED);
    CHECK(tlsf_free_checked(t, (char *)a + 1) == TLSF_ERR_NOT_OWNED);
    CHECK(tlsf_free_checked(t, (char *)a - ALIGN) == TLSF_ERR_NOT_OWNED);
    CHECK(tlsf_free_checked(t, &on_stack) == TLSF_ERR_NOT_OWNED);
    CHECK(tlsf_free_checked(t, outside) == TLSF_ERR_NOT_OWNED);
    CHECK(tlsf_free_checked(t, r.mem) == TLSF_ERR_NOT_OWNED);
    CHECK(tlsf_free_checked(t, (char *)tlsf_get_pool(t) + 64) == TLSF_ERR_NOT_OWNED);
    CHECK(tlsf_free_checked(t, r.mem + r.size - ALIGN) == TLSF_ERR_NOT_OWNED);
    CHECK(tlsf_free_checked(t, (void *)(uintptr_t)ALIGN) == TLSF_ERR_NOT_OWNED);
    CHECK(tlsf_free_checked(t, (void *)(UINTPTR_MAX & ~(uintptr_t)(ALIGN - 1))) ==
          TLSF_ERR_NOT_OWNED);
    CHECK(tlsf_owns(t, (char *)a + ALIGN) == 0);
    CHECK(tlsf_owns(t, &on_stack) == 0);
    CHECK(tlsf_realloc(t, b, 50) == NULL);
    CHECK(tlsf_realloc(t, (char *)a + ALIGN, 50) == NULL);
    CHECK(tlsf_realloc(t, outside, 50) == NULL);
    s1 = stats_of(t);
    CHECK(stats_equal(&s0, &s1));
    CHECK(tlsf_check(t) == 0);
    CHECK(pattern_ok(a, 100, 21) && pattern_ok(c, 100, 23));

    /* A pointer into a freed and coalesced region stays refused. */
    tlsf_free(t, a);
    CHECK(tlsf_free_checked(t, a) == TLSF_ERR_NOT_OWNED);
    CHECK(tlsf_free_checked(t, b) == TLSF_ERR_NOT_OWNED);
    CHECK(tlsf_check(t) == 0);
    /* Still fully usable. */
    a = tlsf_malloc(t, 300);
    CHECK(a != NULL && tlsf_owns(t, a));
    tlsf_free(t, a);
    tlsf_free(t, c);
    CHECK(tlsf_check(t) == 0);
    CHECK(stats_of(t).used_blocks == 0 && stats_of(t).free_blocks == 1);
    free(outside);
    region_free(&r);
}

static void test_walk_and_stats(void)
{
    region_t r, extra = region_new(1 << 15);
    tlsf_t t = heap_new(&r, 1 << 17);
    test_rng rng = {12345};
    void *ptrs[200];
    size_t n = 0;
    walk_acc_t w;
    tlsf_stats_t s;
    REQUIRE(tlsf_add_pool(t, extra.mem, 1 << 15) == TLSF_OK);
    for (int i = 0; i < 200; ++i) {
        void *p = (i % 5 == 0) ? tlsf_memalign(t, 64, (size_t)rng_range(&rng, 0, 500))
                               : tlsf_malloc(t, (size_t)rng_range(&rng, 0, 1200));
        if (p)
            ptrs[n++] = p;
    }
    for (size_t i = 0; i < n; i += 3) {
        tlsf_free(t, ptrs[i]);
        ptrs[i] = NULL;
    }
    w = walk_of(t);
    s = stats_of(t);
    CHECK(w.used == s.used_blocks);
    CHECK(w.free == s.free_blocks);
    CHECK(w.used_bytes == s.used_bytes);
    CHECK(w.free_bytes == s.free_bytes);
    CHECK(w.largest_free == s.largest_free_block);
    CHECK(s.pool_bytes == (1 << 17) + (1 << 15));
    /* Overhead: one header word per block, plus fixed per-pool costs. */
    CHECK(s.pool_bytes - s.used_bytes - s.free_bytes ==
          (w.blocks - 2) * WORD + tlsf_size() + tlsf_pool_overhead((1 << 17) - tlsf_size()) +
              tlsf_pool_overhead(1 << 15));
    {
        size_t live = 0, bytes = 0;
        for (size_t i = 0; i < n; ++i)
            if (ptrs[i]) {
                live++;
                bytes += tlsf_block_size(ptrs[i]);
            }
        CHECK(live == s.used_blocks);
        CHECK(bytes == s.used_bytes);
    }
    /* walk_pool on the first pool alone. */
    memset(&w, 0, sizeof w);
    w.ordered = 1;
    tlsf_walk_pool(tlsf_get_pool(t), walker, &w);
    CHECK(w.blocks > 0 && w.ordered);
    tlsf_walk_pool(tlsf_get_pool(t), NULL, NULL);
    for (size_t i = 0; i < n; ++i)
        tlsf_free(t, ptrs[i]);
    w = walk_of(t);
    s = stats_of(t);
    CHECK(w.blocks == 2 && w.free == 2 && s.free_blocks == 2 && s.used_bytes == 0);
    CHECK(s.largest_free_block == (1 << 17) - tlsf_size() - tlsf_pool_overhead((1 << 17) - tlsf_size()));
    CHECK(tlsf_check(t) == 0);
    region_free(&extra);
    region_free(&r);
}

static void test_overhead_one_word(void)
{
    region_t r;
    tlsf_t t = heap_new(&r, 1 << 16);
    tlsf_stats_t s0 = stats_of(t), s1;
    size_t o0 = s0.pool_bytes - s0.used_bytes - s0.free_bytes, o1;
    size_t n = 3 * WORD; /* n + one word is a multiple of the alignment */
    void *a = tlsf_malloc(t, n), *b = tlsf_malloc(t, n), *c = tlsf_malloc(t, 5 * WORD);
    REQUIRE(a && b && c);
    CHECK(tlsf_block_size(a) == n);
    CHECK((size_t)((char *)b - (char *)a) == tlsf_block_size(a) + sizeof(size_t));
    CHECK((size_t)((char *)c - (char *)b) == tlsf_block_size(b) + sizeof(size_t));
    CHECK(tlsf_block_size(c) == 5 * WORD);
    s1 = stats_of(t);
    o1 = s1.pool_bytes - s1.used_bytes - s1.free_bytes;
    CHECK(o1 == o0 + 3 * sizeof(size_t));
    /* Whole usable size is writable (the successor's back-link slot). */
    memset(a, 1, tlsf_block_size(a));
    memset(b, 2, tlsf_block_size(b));
    memset(c, 3, tlsf_block_size(c));
    CHECK(tlsf_check(t) == 0);
    tlsf_free(t, b);
    CHECK(tlsf_check(t) == 0);
    tlsf_free(t, a);
    tlsf_free(t, c);
    s1 = stats_of(t);
    CHECK(stats_equal(&s0, &s1));
    region_free(&r);
}

static void test_pool_overhead_and_size_for(void)
{
    static const size_t sizes[] = {0, 1, 100, 1000, 4096, 65536, 1 << 20};
    static const size_t aligns[] = {0, 1, 16, 64, 4096};
    CHECK(tlsf_pool_overhead(1) == 1);
    CHECK(tlsf_pool_overhead(0) == 0);
    CHECK(tlsf_pool_overhead(1 << 20) < (1 << 20) / 64);
    CHECK(tlsf_pool_size_for(SIZE_MAX, 0) == 0);
    CHECK(tlsf_pool_size_for(tlsf_block_size_max() + 1, 0) == 0);
    CHECK(tlsf_pool_size_for(100, 3) == 0);
    CHECK(tlsf_pool_size_for(100, 0) == tlsf_pool_size_for(100, 1));
    CHECK(tlsf_pool_size_for(100, ALIGN) == tlsf_pool_size_for(100, 1));
    CHECK(tlsf_pool_size_for(100, 8192) == 0);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; ++i) {
        for (size_t j = 0; j < sizeof aligns / sizeof aligns[0]; ++j) {
            size_t n = sizes[i], align = aligns[j];
            size_t need = tlsf_pool_size_for(n, align);
            region_t r, pool;
            tlsf_t t;
            void *fill[64], *p;
            size_t count;
            CHECK(need > 0 && need % ALIGN == 0);
            if (!need)
                continue;
            t = heap_new(&r, tlsf_size() + 1024);
            count = exhaust(t, fill, 64);
            pool = region_new(need);
            REQUIRE(tlsf_add_pool(t, pool.mem, need) == TLSF_OK);
            p = align > 1 ? tlsf_memalign(t, align, n) : tlsf_malloc(t, n);
            CHECK(p != NULL);
            CHECK(p && (char *)p >= pool.mem && (char *)p < pool.mem + need);
            CHECK(p && (align < 2 || ((uintptr_t)p & (align - 1)) == 0));
            CHECK(tlsf_check(t) == 0);
            tlsf_free(t, p);
            REQUIRE(tlsf_remove_pool(t, pool.mem) == TLSF_OK);
            if (align <= ALIGN) {
                /* Minimal: one alignment unit less cannot serve it. */
                int rc = tlsf_add_pool(t, pool.mem, need - ALIGN);
                if (rc == TLSF_OK) {
                    CHECK(tlsf_malloc(t, n) == NULL);
                    CHECK(tlsf_remove_pool(t, pool.mem) == TLSF_OK);
                } else {
                    CHECK(rc == TLSF_ERR_TOO_SMALL);
                }
            }
            free_all(t, fill, count);
            CHECK(tlsf_check(t) == 0);
            region_free(&pool);
            region_free(&r);
        }
    }
}

static void test_large_pool(void)
{
#if SIZE_MAX > 0xffffffffu
    size_t bytes = (size_t)5 << 30, n = (size_t)9 << 29; /* 5 GiB pool, 4.5 GiB block */
#if defined(_WIN32)
    /* LLP64 (long is 32 bits): where a size stored in a long would break.
     * Commit is charged up front on Windows; a machine short of it skips. */
    void *mem = VirtualAlloc(NULL, bytes, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (mem == NULL) {
#else
    void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) {
#endif
        printf("  note: mapping 5 GiB failed, >4 GiB pool test skipped\n");
        return;
    }
    tlsf_t t;
    unsigned char *p;
    tlsf_stats_t s;
    t = tlsf_create(mem, bytes);
    REQUIRE(t != NULL);
    s = stats_of(t);
    CHECK(s.free_bytes > n && s.largest_free_block == s.free_bytes);
    p = (unsigned char *)tlsf_malloc(t, n);
    CHECK(p != NULL);
    if (p) {
        CHECK(tlsf_block_size(p) >= n);
        p[0] = 1;
        p[n - 1] = 2;
        CHECK(p[0] == 1 && p[n - 1] == 2);
        CHECK(tlsf_owns(t, p));
        CHECK(tlsf_owns(t, p + ((size_t)1 << 32)) == 0);
        CHECK(tlsf_check(t) == 0);
        CHECK(stats_of(t).used_bytes == tlsf_block_size(p));
        /* Shrink and regrow in place across the 4 GiB mark. */
        CHECK(tlsf_realloc(t, p, (size_t)1 << 20) == p);
        CHECK(tlsf_realloc(t, p, n) == p);
        tlsf_free(t, p);
    }
    CHECK(tlsf_check(t) == 0);
    s = stats_of(t);
    CHECK(s.used_blocks == 0 && s.free_blocks == 1);
#if defined(_WIN32)
    VirtualFree(mem, 0, MEM_RELEASE);
#else
    munmap(mem, bytes);
#endif
#else
    printf("  note: >4 GiB pool test needs a 64-bit target, skipped\n");
#endif
}

/* tlsf_check must be able to fail: corrupt headers in controlled ways,
 * expect the matching code, restore, expect 0. */
static void test_check_detects_corruption(void)
{
    region_t r;
    tlsf_t t = heap_new(&r, 1 << 16);
    void *a = tlsf_malloc(t, 64), *b = tlsf_malloc(t, 64), *c = tlsf_malloc(t, 64),
         *f = tlsf_malloc(t, 64), *g = tlsf_malloc(t, 64);
    size_t *hb, *hc, *hf, *hg, saved, saved2;
    void **links, *saved_link;
    REQUIRE(a && b && c && f && g);
    hb = header_of(b);
    hc = header_of(c);
    hf = header_of(f);
    hg = header_of(g);
    tlsf_free(t, f); /* f: a free block between used c and g */
    REQUIRE(tlsf_check(t) == 0);

    saved = *hb;
    *hb |= 2; /* PREV_FREE while a is used */
    CHECK(tlsf_check(t) == TLSF_INV_PREV_FREE);
    *hb = saved;
    CHECK(tlsf_check(t) == 0);

    /* b marked free: first the missing back link, then the live bit. */
    *hb |= 1;
    CHECK(tlsf_check(t) != 0);
    saved_link = ((void **)c)[-2];
    ((void **)c)[-2] = (char *)b - ALIGN;
    CHECK(tlsf_check(t) == TLSF_INV_LIVE_BITMAP);
    ((void **)c)[-2] = saved_link;
    *hb = saved;
    CHECK(tlsf_check(t) == 0);

    /* b's size one unit too big, walk lands inside c's zeroed payload. */
    memset(c, 0, 64);
    *hb = saved + ALIGN;
    CHECK(tlsf_check(t) == TLSF_INV_BLOCK_SIZE);
    *hb = saved;
    CHECK(tlsf_check(t) == 0);

    /* Back link of the free block's successor. */
    saved_link = ((void **)g)[-2];
    ((void **)g)[-2] = (char *)c - ALIGN;
    CHECK(tlsf_check(t) == TLSF_INV_BACK_LINK);
    ((void **)g)[-2] = saved_link;
    CHECK(tlsf_check(t) == 0);

    /* Free-list links of f. */
    links = (void **)f;
    saved_link = links[0];
    links[0] = &saved;
    CHECK(tlsf_check(t) == TLSF_INV_LIST_FOREIGN);
    links[0] = (char *)f - ALIGN; /* points to itself: prev_free mismatch */
    CHECK(tlsf_check(t) == TLSF_INV_LIST_LINKS);
    links[0] = saved_link;
    CHECK(tlsf_check(t) == 0);

    saved2 = *hf;
    *hf &= ~(size_t)1;
    CHECK(tlsf_check(t) == TLSF_INV_LIST_NOT_FREE);
    *hf = saved2 | 4; /* ALIGNED on a free block */
    CHECK(tlsf_check(t) == TLSF_INV_FREE_FLAGS);
    *hf = saved2;
    CHECK(tlsf_check(t) == 0);

    saved = *hg;
    *hg |= 1; /* g free next to free f */
    CHECK(tlsf_check(t) == TLSF_INV_ADJACENT_FREE);
    *hg = saved;
    CHECK(tlsf_check(t) == 0);

    /* The sentinel: header word right after the last block's payload. */
    {
        walk_acc_t w = walk_of(t);
        size_t *sentinel = (size_t *)(void *)(w.last_ptr + w.last_size);
        saved = *sentinel;
        *sentinel |= 1;
        CHECK(tlsf_check(t) == TLSF_INV_SENTINEL);
        *sentinel = saved;
        CHECK(tlsf_check(t) == 0);
    }
    (void)hc;
    tlsf_free(t, a);
    tlsf_free(t, b);
    tlsf_free(t, c);
    tlsf_free(t, g);
    CHECK(tlsf_check(t) == 0);
    region_free(&r);
}

static void test_invariant_names(void)
{
    for (int i = 0; i < TLSF_INV_COUNT; ++i) {
        const char *name = tlsf_invariant_name(i);
        CHECK(name != NULL && name[0] != '\0');
        CHECK(strcmp(name, "unknown invariant") != 0);
        for (int j = 0; j < i; ++j)
            CHECK(strcmp(name, tlsf_invariant_name(j)) != 0);
    }
    CHECK(strcmp(tlsf_invariant_name(TLSF_INV_COUNT), "unknown invariant") == 0);
    CHECK(strcmp(tlsf_invariant_name(-1000), "unknown invariant") == 0);
}

int main(void)
{
    RUN_TEST(test_constants);
    RUN_TEST(test_create_errors);
    RUN_TEST(test_create_minimal);
    RUN_TEST(test_null_heap);
    RUN_TEST(test_add_pool);
    RUN_TEST(test_remove_pool);
    RUN_TEST(test_malloc_zero);
    RUN_TEST(test_malloc_too_big);
    RUN_TEST(test_memalign);
    RUN_TEST(test_realloc_basics);
    RUN_TEST(test_realloc_grow_in_place);
    RUN_TEST(test_realloc_shrink_in_place);
    RUN_TEST(test_realloc_backward);
    RUN_TEST(test_realloc_move);
    RUN_TEST(test_realloc_keeps_alignment);
    RUN_TEST(test_realloc_aligned_no_slide);
    RUN_TEST(test_realloc_failure);
    RUN_TEST(test_free_then_same_size);
    RUN_TEST(test_double_free_and_foreign);
    RUN_TEST(test_walk_and_stats);
    RUN_TEST(test_overhead_one_word);
    RUN_TEST(test_pool_overhead_and_size_for);
    RUN_TEST(test_large_pool);
    RUN_TEST(test_check_detects_corruption);
    RUN_TEST(test_invariant_names);
    return test_finish("test_tlsf_unit");
}
