/* Randomized model test of the TLSF heap: a plain array of live blocks is
 * the model; every block carries a byte pattern that must survive until it
 * is freed, and realloc must carry min(old, new) bytes over. The heap is
 * checked against its invariants and against the model's totals as it
 * goes. Seeded: pass a seed as argv[1] to replay a failure. */
#include "tlsf.h"
#include "test_util.h"

#include <stdint.h>

#define ALIGN (2 * sizeof(size_t))
#define SLOTS 2048
#define OPS 250000
#define CHECK_EVERY 256
#define STALE 64

typedef struct slot {
    void *ptr;
    size_t size;  /* bytes requested: the patterned prefix */
    size_t align; /* 0 for malloc, else the memalign alignment */
    uint64_t tag;
} slot_t;

static slot_t slots[SLOTS];
static void *stale[STALE]; /* recently freed addresses */
static size_t stale_next;
static uint64_t next_tag = 1;
static long ops_done;
static long alloc_nulls, realloc_nulls; /* the heap-full paths were taken */

/* Mostly small, some medium, a few large: the mix a JVM off-heap user sees. */
static size_t random_size(test_rng *rng)
{
    uint64_t kind = rng_range(rng, 0, 99);
    if (kind < 80)
        return (size_t)rng_range(rng, 0, 256);
    if (kind < 95)
        return (size_t)rng_range(rng, 257, 4096);
    if (kind < 99)
        return (size_t)rng_range(rng, 4097, 65536);
    return (size_t)rng_range(rng, 65537, 512 * 1024);
}

static size_t random_align(test_rng *rng)
{
    return (size_t)1 << rng_range(rng, 0, 12);
}

static void remember_freed(void *p)
{
    stale[stale_next++ % STALE] = p;
}

static int model_has(const void *p)
{
    for (int i = 0; i < SLOTS; ++i)
        if (slots[i].ptr == p)
            return 1;
    return 0;
}

/* A new or moved block: alignment, size and ownership as promised. */
static void check_block(tlsf_t t, const slot_t *s)
{
    CHECK(((uintptr_t)s->ptr & (ALIGN - 1)) == 0);
    if (s->align)
        CHECK(((uintptr_t)s->ptr & (s->align - 1)) == 0);
    CHECK(tlsf_block_size(s->ptr) >= s->size);
    CHECK(tlsf_owns(t, s->ptr) == 1);
}

static void check_against_model(tlsf_t t)
{
    tlsf_stats_t st;
    size_t live = 0, bytes = 0;
    int rc = tlsf_check(t);
    CHECK(rc == 0);
    if (rc != 0)
        fprintf(stderr, "  after %ld ops: %s\n", ops_done, tlsf_invariant_name(rc));
    for (int i = 0; i < SLOTS; ++i) {
        if (slots[i].ptr) {
            live++;
            bytes += tlsf_block_size(slots[i].ptr);
        }
    }
    tlsf_stats(t, &st);
    CHECK(st.used_blocks == live);
    CHECK(st.used_bytes == bytes);
    CHECK(st.used_bytes + st.free_bytes <= st.pool_bytes);
    CHECK(st.largest_free_block <= st.free_bytes);
}

static void op_alloc(tlsf_t t, test_rng *rng, slot_t *s)
{
    size_t size = random_size(rng);
    size_t align = rng_range(rng, 0, 3) == 0 ? random_align(rng) : 0;
    void *p = align ? tlsf_memalign(t, align, size) : tlsf_malloc(t, size);
    if (!p) {
        alloc_nulls++; /* heap full for this size: allowed */
        return;
    }
    s->ptr = p;
    s->size = size;
    s->align = align > 1 ? align : 0;
    s->tag = next_tag++;
    check_block(t, s);
    pattern_fill(p, size, s->tag);
}

static void op_free(tlsf_t t, slot_t *s)
{
    CHECK(pattern_ok(s->ptr, s->size, s->tag));
    CHECK(tlsf_free_checked(t, s->ptr) == TLSF_OK);
    remember_freed(s->ptr);
    s->ptr = NULL;
}

static void op_realloc(tlsf_t t, test_rng *rng, slot_t *s)
{
    size_t size = random_size(rng);
    size_t keep = size < s->size ? size : s->size;
    void *old = s->ptr;
    void *p;
    CHECK(pattern_ok(s->ptr, s->size, s->tag));
    p = tlsf_realloc(t, s->ptr, size);
    if (!p) {
        realloc_nulls++;
        /* Failure leaves the block as it was. */
        CHECK(tlsf_owns(t, old) == 1);
        CHECK(pattern_ok(old, s->size, s->tag));
        return;
    }
    CHECK(pattern_ok(p, keep, s->tag));
    if (p != old)
        remember_freed(old);
    s->ptr = p;
    s->size = size;
    check_block(t, s); /* alignment of a memalign'd block survives */
    s->tag = next_tag++;
    pattern_fill(p, size, s->tag);
}

/* A recently freed address is owned only if it is live again. */
static void op_stale(tlsf_t t, test_rng *rng)
{
    void *p = stale[rng_range(rng, 0, STALE - 1)];
    if (!p)
        return;
    if (model_has(p)) {
        CHECK(tlsf_owns(t, p) == 1);
    } else {
        CHECK(tlsf_owns(t, p) == 0);
        CHECK(tlsf_free_checked(t, p) == TLSF_ERR_NOT_OWNED);
        CHECK(tlsf_realloc(t, p, 16) == NULL);
    }
}

static void run_random_phase(tlsf_t t, test_rng *rng, long ops)
{
    for (long i = 0; i < ops; ++i, ++ops_done) {
        slot_t *s = &slots[rng_range(rng, 0, SLOTS - 1)];
        uint64_t what = rng_range(rng, 0, 99);
        if (what < 3) {
            op_stale(t, rng);
        } else if (!s->ptr) {
            op_alloc(t, rng, s);
        } else if (what < 50) {
            op_free(t, s);
        } else if (what < 90) {
            op_realloc(t, rng, s);
        } else {
            CHECK(pattern_ok(s->ptr, s->size, s->tag));
            CHECK(tlsf_owns(t, s->ptr) == 1);
            CHECK(tlsf_owns(t, (char *)s->ptr + ALIGN) == 0);
        }
        if ((ops_done + 1) % CHECK_EVERY == 0)
            check_against_model(t);
    }
}

static void free_slots(tlsf_t t)
{
    for (int i = 0; i < SLOTS; ++i)
        if (slots[i].ptr)
            op_free(t, &slots[i]);
}

typedef struct pool_count {
    size_t blocks, free;
} pool_count_t;

static void count_block(void *ptr, size_t size, int used, void *user)
{
    pool_count_t *c = (pool_count_t *)user;
    (void)ptr;
    (void)size;
    c->blocks++;
    if (!used)
        c->free++;
}

/* Empty heap: one free block per pool, nothing else. */
static void check_empty(tlsf_t t, void **pools, int npools)
{
    tlsf_stats_t st;
    pool_count_t c;
    CHECK(tlsf_check(t) == 0);
    tlsf_stats(t, &st);
    CHECK(st.used_blocks == 0 && st.used_bytes == 0);
    CHECK(st.free_blocks == (size_t)npools);
    for (int i = 0; i < npools; ++i) {
        memset(&c, 0, sizeof c);
        tlsf_walk_pool(pools[i], count_block, &c);
        CHECK(c.blocks == 1 && c.free == 1);
    }
}

/* Fills the heap until not even a minimum block fits, then frees all in a
 * shuffled order. NULLs along the way are expected, corruption is not. */
static void run_exhaustion_phase(tlsf_t t, test_rng *rng, size_t cap)
{
    slot_t *all = (slot_t *)calloc(cap, sizeof(slot_t));
    size_t n = 0;
    long nulls = 0;
    REQUIRE(all != NULL);
    for (;;) {
        size_t size = random_size(rng);
        size_t align = rng_range(rng, 0, 7) == 0 ? random_align(rng) : 0;
        void *p = NULL;
        REQUIRE(n < cap);
        /* Halve a failing request down to 0 before concluding. */
        for (;;) {
            p = align ? tlsf_memalign(t, align, size) : tlsf_malloc(t, size);
            ops_done++;
            if (p || size == 0)
                break;
            nulls++;
            size /= 2;
        }
        if (!p && align) {
            align = 0;
            p = tlsf_malloc(t, 0);
            ops_done++;
        }
        if (!p)
            break;
        all[n].ptr = p;
        all[n].size = size;
        all[n].align = align > 1 ? align : 0;
        all[n].tag = next_tag++;
        check_block(t, &all[n]);
        pattern_fill(p, size, all[n].tag);
        n++;
        if (n % 1024 == 0)
            CHECK(tlsf_check(t) == 0);
    }
    CHECK(tlsf_check(t) == 0);
    {
        tlsf_stats_t st;
        tlsf_stats(t, &st);
        CHECK(st.free_blocks == 0); /* a minimum block fits in any free block */
        CHECK(st.used_blocks == n);
    }
    printf("  exhaustion: %lu blocks, %ld NULL results\n", (unsigned long)n, nulls);
    for (size_t i = n; i > 1; --i) {
        size_t j = (size_t)rng_range(rng, 0, i - 1);
        slot_t tmp = all[i - 1];
        all[i - 1] = all[j];
        all[j] = tmp;
    }
    for (size_t i = 0; i < n; ++i) {
        CHECK(pattern_ok(all[i].ptr, all[i].size, all[i].tag));
        CHECK(tlsf_free_checked(t, all[i].ptr) == TLSF_OK);
        ops_done++;
        if (i % 4096 == 0)
            CHECK(tlsf_check(t) == 0);
    }
    free(all);
}

int main(int argc, char **argv)
{
    enum { MAIN_BYTES = 4 << 20, POOL2 = 2 << 20, POOL3 = 1 << 20 };
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x7153f00dULL;
    test_rng rng;
    char *raw = (char *)malloc(MAIN_BYTES + POOL2 + POOL3 + TLSF_ALIGN_MAX);
    char *mem;
    tlsf_t t;
    void *pools[3];
    REQUIRE(raw != NULL);
    /* Printed in hex halves: portable printf formats (mingw's msvcrt). */
    printf("test_tlsf_model: seed 0x%08lx%08lx\n", (unsigned long)(seed >> 32),
           (unsigned long)(seed & 0xffffffffu));
    rng.s = seed ? seed : 1;
    /* Aligned to the largest alignment so memalign's choices, and with them
     * a replayed seed, do not depend on where the C library put the buffer. */
    mem = (char *)(((uintptr_t)raw + TLSF_ALIGN_MAX - 1) & ~(uintptr_t)(TLSF_ALIGN_MAX - 1));

    t = tlsf_create(mem, MAIN_BYTES);
    REQUIRE(t != NULL);
    REQUIRE(tlsf_add_pool(t, mem + MAIN_BYTES, POOL2) == TLSF_OK);
    REQUIRE(tlsf_add_pool(t, mem + MAIN_BYTES + POOL2, POOL3) == TLSF_OK);
    pools[0] = tlsf_get_pool(t);
    pools[1] = mem + MAIN_BYTES;
    pools[2] = mem + MAIN_BYTES + POOL2;

    run_random_phase(t, &rng, OPS);
    check_against_model(t);
    free_slots(t);
    check_empty(t, pools, 3);

    /* At most one minimum block (payload + header word) per this many bytes. */
    run_exhaustion_phase(t, &rng,
                         (MAIN_BYTES + POOL2 + POOL3) / (tlsf_block_size_min() + sizeof(size_t)) + 16);
    check_empty(t, pools, 3);

    /* Heap fully reusable after exhaustion; then pools come out cleanly. */
    run_random_phase(t, &rng, OPS / 5);
    free_slots(t);
    check_empty(t, pools, 3);
    CHECK(tlsf_remove_pool(t, pools[2]) == TLSF_OK);
    CHECK(tlsf_remove_pool(t, pools[1]) == TLSF_OK);
    check_empty(t, pools, 1);

    printf("test_tlsf_model: %ld operations (%ld malloc/memalign and %ld realloc NULL results)\n",
           ops_done, alloc_nulls, realloc_nulls);
    free(raw);
    return test_finish("test_tlsf_model");
}
