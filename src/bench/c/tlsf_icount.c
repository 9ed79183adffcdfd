/* tlsf_icount - driver for callgrind.sh: instructions per tlsf_malloc and
 * tlsf_free, counted by callgrind (deterministic, unlike time).
 *
 * Callgrind attributes the cost of every call to its caller, so each
 * measurement below calls the heap from its own wrapper function and the
 * script reads "instructions of tlsf_malloc/tlsf_free called from wrapper
 * W" and "how many calls":
 *
 *   rnd_malloc / rnd_free     a long randomized run: mean per call
 *   wm_NNNN / wf_NNNN         the next WINDOW mallocs and frees of that run,
 *                             each through its own wrapper called exactly
 *                             once: the exact cost of every single call,
 *                             hence an observed maximum
 *   worst_*                   heap states built so that one call takes the
 *                             longest path the code has, each wrapper called
 *                             once: the worst case by construction
 *   pair_*                    the tight malloc+free pair of the harness
 *
 * The wrappers store their own id before calling so that no two bodies are
 * identical (gcc's identical-code folding would otherwise merge them).
 * Running it outside valgrind is harmless; it prints nothing useful.
 *
 *   tlsf_icount [random_ops]
 */
#include "bench_util.h"

#include "tlsf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

static volatile unsigned wrapper_id;
static void *volatile sink;

#define SLOTS 4096
#define WINDOW 1024

/* Requests follow the harness's wide worst-case size mix: rng_size(s, 1). */

NOINLINE static void *rnd_malloc(tlsf_t t, size_t n) { wrapper_id = 1; return tlsf_malloc(t, n); }
NOINLINE static void rnd_free(tlsf_t t, void *p) { wrapper_id = 2; tlsf_free(t, p); }

/* WINDOW distinct malloc wrappers and WINDOW distinct free wrappers. */
typedef void *(*malloc_fn)(tlsf_t, size_t);
typedef void (*free_fn)(tlsf_t, void *);
#define W1(n)                                                                              \
    NOINLINE static void *wm_##n(tlsf_t t, size_t s) { wrapper_id = 0x10000u + n; return tlsf_malloc(t, s); } \
    NOINLINE static void wf_##n(tlsf_t t, void *p) { wrapper_id = 0x20000u + n; tlsf_free(t, p); }
#define W4(n) W1(n##0) W1(n##1) W1(n##2) W1(n##3)
#define W16(n) W4(n##0) W4(n##1) W4(n##2) W4(n##3)
#define W64(n) W16(n##0) W16(n##1) W16(n##2) W16(n##3)
#define W256(n) W64(n##0) W64(n##1) W64(n##2) W64(n##3)
#define W1024(n) W256(n##0) W256(n##1) W256(n##2) W256(n##3)
W1024(1)
#define R1(n) wm_##n,
#define R4(n) R1(n##0) R1(n##1) R1(n##2) R1(n##3)
#define R16(n) R4(n##0) R4(n##1) R4(n##2) R4(n##3)
#define R64(n) R16(n##0) R16(n##1) R16(n##2) R16(n##3)
#define R256(n) R64(n##0) R64(n##1) R64(n##2) R64(n##3)
#define R1024(n) R256(n##0) R256(n##1) R256(n##2) R256(n##3)
static const malloc_fn window_malloc[WINDOW] = { R1024(1) };
#undef R1
#define R1(n) wf_##n,
static const free_fn window_free[WINDOW] = { R1024(1) };

/* ------------------------------------------------------------------------
 * Worst cases by construction. Every call below runs on a heap of two
 * pools whose blocks all sit in the second pool while the lookup cache
 * points at the first, so the pool search walks both (the only part of a
 * call that is not O(1): the cost of one more pool is one more compare).
 * ---------------------------------------------------------------------- */

typedef struct two_pools {
    void *r1, *r2;
    tlsf_t t;
    void *hold1; /* fills the first pool */
} two_pools_t;

static int two_pools_init(two_pools_t *h, size_t pool2_bytes)
{
    tlsf_stats_t st;
    size_t r1 = (tlsf_size() + 4096 + 63) & ~(size_t)63; /* aligned_alloc: a multiple of 64 */
    h->r1 = aligned_alloc(64, r1);
    h->r2 = aligned_alloc(64, pool2_bytes);
    if (!h->r1 || !h->r2)
        return 0;
    h->t = tlsf_create(h->r1, r1);
    if (!h->t)
        return 0;
    tlsf_stats(h->t, &st);
    h->hold1 = tlsf_malloc(h->t, st.largest_free_block);
    if (!h->hold1 || tlsf_add_pool(h->t, h->r2, pool2_bytes) != 0)
        return 0;
    return 1;
}

/* Points the pool cache at the first pool. */
static void aim_at_first_pool(two_pools_t *h) { (void)tlsf_owns(h->t, h->hold1); }

static void two_pools_done(two_pools_t *h)
{
    free(h->r1);
    free(h->r2);
}

/* Allocates the whole largest free block (exhausts the free lists when it
 * is the only one). */
static void *take_largest(tlsf_t t)
{
    tlsf_stats_t st;
    tlsf_stats(t, &st);
    return st.largest_free_block ? tlsf_malloc(t, st.largest_free_block) : NULL;
}

NOINLINE static void *worst_malloc_scan(tlsf_t t, size_t n) { wrapper_id = 0x30001; return tlsf_malloc(t, n); }
NOINLINE static void *worst_malloc_fallback(tlsf_t t, size_t n) { wrapper_id = 0x30002; return tlsf_malloc(t, n); }
NOINLINE static void *worst_malloc_nosplit(tlsf_t t, size_t n) { wrapper_id = 0x30003; return tlsf_malloc(t, n); }
NOINLINE static void worst_free_both(tlsf_t t, void *p) { wrapper_id = 0x30004; tlsf_free(t, p); }
NOINLINE static void worst_free_prev(tlsf_t t, void *p) { wrapper_id = 0x30005; tlsf_free(t, p); }
NOINLINE static void worst_free_refused(tlsf_t t, void *p) { wrapper_id = 0x30006; tlsf_free(t, p); }
NOINLINE static void *pair_malloc(tlsf_t t, size_t n) { wrapper_id = 0x30007; return tlsf_malloc(t, n); }
NOINLINE static void pair_free(tlsf_t t, void *p) { wrapper_id = 0x30008; tlsf_free(t, p); }

/* malloc through the first-level scan: the request's first level has no
 * block, the only candidate is the sole block of a higher first level, so
 * popping it clears its second- and first-level bits, and the rest lands in
 * a third list (one more first level), setting two bits. */
static int build_malloc_scan(void)
{
    two_pools_t h;
    void *a, *guard, *rest;
    if (!two_pools_init(&h, 1 << 16))
        return 0;
    a = tlsf_malloc(h.t, 4160 - 8);  /* stride 4160: just above 4096 */
    guard = tlsf_malloc(h.t, 16);
    rest = take_largest(h.t);        /* pool 2 has no other free block */
    tlsf_free(h.t, a);               /* the one free block, stride 4160 */
    aim_at_first_pool(&h);
    sink = worst_malloc_scan(h.t, 72); /* stride 80: rest 4080 < 4096 */
    sink = guard;
    sink = rest;
    two_pools_done(&h);
    return 1;
}

/* malloc through the fallback: the rounded search finds no list at all, so
 * the request's own list is tried; its head fits, popping it empties the
 * list (two bits cleared) and the rest goes to a small list (two bits set). */
static int build_malloc_fallback(void)
{
    two_pools_t h;
    void *a, *guard, *rest;
    if (!two_pools_init(&h, 1 << 16))
        return 0;
    a = tlsf_malloc(h.t, 2096 - 8);  /* stride 2096, list [2048, 2112) */
    guard = tlsf_malloc(h.t, 16);
    rest = take_largest(h.t);
    tlsf_free(h.t, a);
    aim_at_first_pool(&h);
    sink = worst_malloc_fallback(h.t, 2064 - 8); /* stride 2064: rest 32 */
    sink = guard;
    sink = rest;
    two_pools_done(&h);
    return 1;
}

/* malloc of a whole block through the scan (no split: the successor's
 * PREV_FREE is cleared instead), emptying its list. */
static int build_malloc_nosplit(void)
{
    two_pools_t h;
    void *a, *guard, *rest;
    if (!two_pools_init(&h, 1 << 16))
        return 0;
    a = tlsf_malloc(h.t, 4160 - 8);
    guard = tlsf_malloc(h.t, 16);
    rest = take_largest(h.t);
    tlsf_free(h.t, a);
    aim_at_first_pool(&h);
    sink = worst_malloc_nosplit(h.t, 4160 - 8 - 16);
    sink = guard;
    sink = rest;
    two_pools_done(&h);
    return 1;
}

/* free that merges both neighbours, each the sole block of its own first
 * level (removing each clears two bits), into a block of a third first
 * level (setting two bits): strides 608 + 80 + 1504 = 2192. */
static int build_free_both(void)
{
    two_pools_t h;
    void *x1, *x2, *x3, *guard, *rest;
    if (!two_pools_init(&h, 1 << 16))
        return 0;
    x1 = tlsf_malloc(h.t, 600);
    x2 = tlsf_malloc(h.t, 64);
    x3 = tlsf_malloc(h.t, 1500);
    guard = tlsf_malloc(h.t, 16);
    rest = take_largest(h.t);
    tlsf_free(h.t, x1);
    tlsf_free(h.t, x3);
    aim_at_first_pool(&h);
    worst_free_both(h.t, x2);
    sink = guard;
    sink = rest;
    two_pools_done(&h);
    return 1;
}

/* free that merges only its predecessor (the successor is used), the
 * predecessor being the sole block of its first level. */
static int build_free_prev(void)
{
    two_pools_t h;
    void *x1, *x2, *guard, *rest;
    if (!two_pools_init(&h, 1 << 16))
        return 0;
    x1 = tlsf_malloc(h.t, 3000);
    x2 = tlsf_malloc(h.t, 1200);
    guard = tlsf_malloc(h.t, 16);
    rest = take_largest(h.t);
    tlsf_free(h.t, x1);
    aim_at_first_pool(&h);
    worst_free_prev(h.t, x2);
    sink = guard;
    sink = rest;
    two_pools_done(&h);
    return 1;
}

/* A refused free: a pointer aligned and inside the second pool, not live
 * (the full validation runs, then nothing changes). */
static int build_free_refused(void)
{
    two_pools_t h;
    void *x1;
    if (!two_pools_init(&h, 1 << 16))
        return 0;
    x1 = tlsf_malloc(h.t, 256);
    aim_at_first_pool(&h);
    worst_free_refused(h.t, (char *)x1 + 64);
    sink = x1;
    two_pools_done(&h);
    return 1;
}

int main(int argc, char **argv)
{
    long ops = argc > 1 ? atol(argv[1]) : 200000;
    size_t region_bytes = 32u << 20;
    void *region = aligned_alloc(64, region_bytes);
    void **slots = calloc(SLOTS, sizeof *slots);
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    tlsf_t t;
    int ok = 1;
    if (!region || !slots)
        return 1;

    /* The pair, on a fresh single-pool heap, 1000 times (steady state). */
    t = tlsf_create(region, region_bytes);
    if (!t)
        return 1;
    for (int i = 0; i < 1000; ++i) {
        void *p = pair_malloc(t, 64);
        sink = p;
        pair_free(t, p);
    }

    /* Random run: fill, churn, then the window call by call. */
    t = tlsf_create(region, region_bytes);
    for (int i = 0; i < SLOTS; ++i)
        slots[i] = tlsf_malloc(t, rng_size(&s, 1));
    for (long i = 0; i < ops; ++i) {
        unsigned slot = (unsigned)(rng_next(&s) % SLOTS);
        rnd_free(t, slots[slot]);
        slots[slot] = rnd_malloc(t, rng_size(&s, 1));
    }
    for (int i = 0; i < WINDOW; ++i) {
        unsigned slot = (unsigned)(rng_next(&s) % SLOTS);
        window_free[i](t, slots[slot]);
        slots[slot] = window_malloc[i](t, rng_size(&s, 1));
    }
    if (tlsf_check(t) != 0) {
        fprintf(stderr, "tlsf_check failed after the random run\n");
        ok = 0;
    }

    ok &= build_malloc_scan();
    ok &= build_malloc_fallback();
    ok &= build_malloc_nosplit();
    ok &= build_free_both();
    ok &= build_free_prev();
    ok &= build_free_refused();
    if (!ok)
        fprintf(stderr, "a worst-case scenario could not be built\n");
    free(slots);
    free(region);
    return ok ? 0 : 1;
}
