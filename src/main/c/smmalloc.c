/* smmalloc: bucket allocator with lock-free free lists and per-thread caches.
 * Read top-down: constants, types (with their invariants), thread-local
 * state, the shared bucket (block <-> address, bump, lock-free list), the
 * fallback map, thread caches, the public API, statistics and checks.
 *
 * Memory orderings, in one place:
 *  - bucket list head: every CAS is acq_rel. A pop must see the links and
 *    block contents written before the push that published them; pushes by
 *    several threads form a chain of RMWs, each acquiring the previous one.
 *  - side-table entries are relaxed: they are only ever read as a hint
 *    (validated by the head CAS) or by the thread that owns the block.
 *  - bump index is relaxed: fresh blocks carry no data from another thread.
 *  - statistics are relaxed counters; snapshots are not linearizable.
 */
/* The OS layer first: its feature macros must precede every system header. */
#include "sm_platform.h"

#include "nalloc_compiler.h"
#include "smmalloc.h"
#include "sm_internal.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- constants --------------------------------------------------------- */

/* Side-table entry values. A link is (next block index + 1), 0 = end of
 * list; links never exceed SM_BUCKET_SIZE_MAX / 16 = 2^26, far below the
 * marks. */
#define SM_BLOCK_USED 0xFFFFFFFFu       /* allocated */
#define SM_BLOCK_FREE_MARK 0xFFFFFFFEu  /* free, in a thread cache */

#define SM_CACHE_LINE 64
/* Side-table alignment and commit rounding, not the OS page size:
 * any page size works (tested with 4, 16 and 64 KiB pages under qemu);
 * nothing here needs the real one (munmap, VirtualAlloc round for us). */
#define SM_PAGE ((size_t)4096)
/* Largest request passed to the fallback: beyond this no object can be
 * indexed with ptrdiff_t, and rounding up cannot overflow. */
#define SM_REQUEST_MAX ((size_t)PTRDIFF_MAX - SM_ALIGN_MAX)

/* Results of bucket_select besides a bucket index. */
#define SM_SEL_FALLBACK (-1)
#define SM_SEL_INVALID (-2)

_Static_assert(SM_BLOCK_GRANULE == 16, "the address math shifts by 4");
_Static_assert(SM_MAX_BUCKETS <= SM_DIV_D_MAX,
               "sm_div_exact is proven only for divisors up to SM_DIV_D_MAX");
_Static_assert(SM_BUCKET_SIZE_MAX / SM_BLOCK_GRANULE <= SM_DIV_N_LIMIT,
               "sm_div_exact is proven only for n below SM_DIV_N_LIMIT");
_Static_assert(SM_BUCKET_SIZE_MAX / SM_BLOCK_GRANULE < SM_BLOCK_FREE_MARK,
               "links (index + 1) must not collide with the marks");
_Static_assert(sizeof(_Atomic uint32_t) == sizeof(uint32_t),
               "bindings access side entries and cache slots as plain uint32_t");
_Static_assert((SM_ALIGN_MAX & (SM_ALIGN_MAX - 1)) == 0, "power of two");
_Static_assert(SM_BUCKET_SIZE_MIN % SM_ALIGN_MAX == 0 && SM_PAGE % SM_ALIGN_MAX == 0,
               "bucket bases (page-aligned, power-of-two strides >= the "
               "minimum) must be SM_ALIGN_MAX-aligned so a block of size "
               "k*A is A-aligned");
_Static_assert(SM_MAX_BUCKETS * SM_BLOCK_GRANULE <= SM_ALIGN_MAX,
               "every block size divides into a page-aligned bucket");

/* ---- types ------------------------------------------------------------- */

/* One bucket: blocks of block_size = 16 * units bytes at data, block k at
 * data + k * block_size, k < nblocks. side[k] is block k's state and link.
 * Invariants (when quiescent):
 *   bumped <= nblocks; blocks >= bumped were never handed out (untouched);
 *   for k < bumped, side[k] is SM_BLOCK_USED, SM_BLOCK_FREE_MARK (the block
 *   sits in exactly one thread cache) or a link on the global list at head;
 *   #USED + #FREE_MARK + (global list length) == bumped;
 *   #USED == cache_hits + global_hits - frees (this struct plus live caches).
 * The mutable words get their own cache lines: head is hammered by every
 * uncached call, bumped only until the bucket is warm. */
typedef struct sm_bucket {
    _Alignas(SM_CACHE_LINE) unsigned char *data;
    _Atomic uint32_t *side;
    uint64_t magic;      /* sm_div_magic(units) */
    uint32_t nblocks;
    uint32_t block_size;
    uint32_t units;      /* block_size / 16 = bucket index + 1 */

    /* (ABA tag << 32) | (top index + 1); low half 0 = empty. The tag grows on
     * every successful CAS, so a CAS whose expected head was popped and
     * pushed back in between fails. It wraps after 2^32 successful CASes,
     * which would all have to happen between one thread's load and its CAS
     * for an ABA to slip through. A 64-bit CAS suffices (no DWCAS). */
    _Alignas(SM_CACHE_LINE) _Atomic uint64_t head;

    _Alignas(SM_CACHE_LINE) _Atomic uint32_t bumped; /* never-used frontier */
#if SM_OS_LAZY_COMMIT
    _Atomic uint32_t committed; /* blocks [0, committed): pages committed */
#endif

    /* Uncached traffic (fetch_add) and counters folded in from caches. */
    _Alignas(SM_CACHE_LINE) _Atomic uint64_t global_hits;
    _Atomic uint64_t cache_hits;
    _Atomic uint64_t frees;
    _Atomic uint64_t fallbacks;
} sm_bucket;

/* Fallback blocks, ptr -> usable size, open addressing with linear probing
 * and backward-shift deletion (no tombstones). Guarded by fb_lock.
 * Invariant: count == #non-zero keys, bytes == sum of their sizes,
 * 2 * count <= cap, every key reachable from its home slot without a gap. */
typedef struct sm_fb_entry {
    uintptr_t key; /* 0 = empty */
    size_t size;
} sm_fb_entry;

typedef struct sm_fb_map {
    sm_fb_entry *slots;
    size_t cap; /* 0 or a power of two */
    size_t count;
    uint64_t bytes;
} sm_fb_map;

/* A thread's cache of one bucket: a stack of free block indices.
 * Invariant: count <= capacity, slots[0, count) are distinct blocks whose
 * side entries are SM_BLOCK_FREE_MARK. Only the owning thread writes;
 * count, slots and the counters are atomics accessed with relaxed load +
 * store (plain moves, no locked RMW) so sm_get_stats and sm_check may read
 * them while the owner runs. */
typedef struct sm_cache_bucket {
    _Atomic uint32_t *slots;
    uint32_t capacity; /* >= 1 */
    _Atomic uint32_t count;
    _Atomic uint64_t hits;   /* served from slots */
    _Atomic uint64_t misses; /* served after a refill from the bucket */
    _Atomic uint64_t frees;
} sm_cache_bucket;

/* One thread's cache for one allocator, keyed by the allocator's unique id
 * (an address can be reused by a later allocator, an id cannot). Linked into
 * the owner's thread list (owner only) and into the allocator's list (under
 * sm_registry). When the allocator is destroyed first, the cache is unlinked
 * from it and marked orphaned; the owner then frees it without touching the
 * dead allocator. */
typedef struct sm_cache {
    uint64_t alloc_id;
    struct sm_allocator_s *alloc; /* valid while !orphaned */
    _Atomic int orphaned;
    struct sm_cache *thread_next;
    struct sm_cache *alloc_prev;
    struct sm_cache *alloc_next;
    uint32_t bucket_count;
    sm_cache_bucket b[];
} sm_cache;

/* Layout of the reservation: bucket i's blocks at base + (i << stride_log2),
 * stride a power of two >= bucket size, so the bucket of an address is one
 * shift; then the side tables, page-aligned. */
struct sm_allocator_s {
    uint64_t id;
    uintptr_t base;
    uintptr_t data_span; /* bucket_count << stride_log2 */
    unsigned stride_log2;
    uint32_t bucket_count;
    size_t max_block;
    void *reservation;
    size_t reservation_bytes;
    sm_cache *caches; /* live caches of every thread; under sm_registry */
    sm_mutex fb_lock;
    sm_fb_map fb;
    _Atomic uint64_t fallback_allocs;
    sm_bucket buckets[];
};

/* ---- process-wide and thread-local state ------------------------------- */

/* Guards every allocator's cache list and the orphaned transitions: cache
 * create/destroy, allocator destroy, thread exit, stats. Cold paths only. */
static sm_mutex sm_registry = SM_MUTEX_INIT;
static _Atomic uint64_t sm_next_id = 1; /* 0 never names an allocator */

/* memo: the last (allocator id -> cache or NULL) lookup, the hot-path key;
 * list: every cache of this thread (also registered for thread exit). */
typedef struct sm_tls_state {
    uint64_t memo_id;
    sm_cache *memo;
    sm_cache *list;
} sm_tls_state;

static _Thread_local sm_tls_state sm_tls SM_TLS_ATTR;

/* The OS key whose destructor, sm_thread_exit, hands a thread's caches back
 * when the thread ends; created once, by the first thread to need it. */
static sm_os_thread_key sm_exit_key;
static sm_os_once_flag sm_exit_once = SM_OS_ONCE_INIT;
static int sm_exit_key_ok;

/* ---- small helpers ----------------------------------------------------- */

static inline uint64_t ctr_get(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* Owner-only increment: no locked instruction; readers see a valid value. */
static inline void ctr_inc_owner(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, ctr_get(c) + 1, memory_order_relaxed);
}

static inline void ctr_add_shared(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline uint32_t side_get(sm_bucket *b, uint32_t k)
{
    return atomic_load_explicit(&b->side[k], memory_order_relaxed);
}

static inline void side_set(sm_bucket *b, uint32_t k, uint32_t v)
{
    atomic_store_explicit(&b->side[k], v, memory_order_relaxed);
}

static inline uint32_t slot_get(_Atomic uint32_t *slots, uint32_t j)
{
    return atomic_load_explicit(&slots[j], memory_order_relaxed);
}

static inline void slot_set(_Atomic uint32_t *slots, uint32_t j, uint32_t v)
{
    atomic_store_explicit(&slots[j], v, memory_order_relaxed);
}

static inline size_t round_up(size_t n, size_t pow2)
{
    return (n + pow2 - 1) & ~(pow2 - 1);
}

#ifdef NALLOC_TEST_HOOKS
#include "sm_test_hooks.h"

static _Atomic(sm_hook_fn) sm_hook;

void sm_test_set_hook(sm_hook_fn fn)
{
    atomic_store_explicit(&sm_hook, fn, memory_order_release);
}

static void sm_hook_run(sm_hook_point point)
{
    sm_hook_fn fn = atomic_load_explicit(&sm_hook, memory_order_acquire);
    if (fn != NULL) fn(point);
}
#define SM_HOOK(point) sm_hook_run(point)
#else
#define SM_HOOK(point) ((void)0)
#endif

/* ---- the shared bucket ------------------------------------------------- */

static inline void *block_ptr(sm_bucket *b, uint32_t k)
{
    return b->data + (size_t)k * b->block_size;
}

/* 1 and (bucket, block) when p is the start of a block handed out at least
 * once (in any state); 0 when p is inside the pool but not such a start;
 * -1 when p is outside the pool. No division: a shift finds the bucket, the
 * reciprocal the block, and k * units == n proves p is a block start. */
static inline int locate(struct sm_allocator_s *a, const void *p, uint32_t *bucket,
                         uint32_t *block)
{
    uintptr_t off = (uintptr_t)p - a->base; /* wraps for p < base */
    if (off >= a->data_span) return -1;
    uint32_t i = (uint32_t)(off >> a->stride_log2);
    uintptr_t in = off & (((uintptr_t)1 << a->stride_log2) - 1);
    sm_bucket *b = &a->buckets[i];
    if (in & (SM_BLOCK_GRANULE - 1)) return 0;
    uint64_t n = (uint64_t)(in >> 4); /* < 2^26: in < stride <= 1 GiB */
    uint32_t k = sm_div_exact(n, b->magic);
    if ((uint64_t)k * b->units != n) return 0;
    if (k >= atomic_load_explicit(&b->bumped, memory_order_relaxed)) return 0;
    *bucket = i;
    *block = k;
    return 1;
}

#if SM_OS_LAZY_COMMIT
/* Windows: a committed page counts against the system commit limit even if
 * it is never touched, so committing whole buckets at create would charge
 * the whole pool (65 GiB for 64 buckets of 1 GiB) and fail on most machines.
 * Instead the thread that bumps past the committed frontier commits the
 * data and side-table pages of the next SM_COMMIT_CHUNK bytes of blocks
 * (at least up to `end`) before it takes them. Racing threads may commit
 * the same pages twice, which VirtualAlloc allows. false: commit failed
 * (commit limit reached); the caller then takes no block. Cold path. */
#define SM_COMMIT_CHUNK ((size_t)64 * 1024)
static bool bucket_commit(sm_bucket *b, uint32_t end)
{
    uint32_t have = atomic_load_explicit(&b->committed, memory_order_acquire);
    if (NALLOC_LIKELY(end <= have)) return true;
    size_t bs = b->block_size;
    size_t bytes = (size_t)end * bs;
    if (bytes < (size_t)have * bs + SM_COMMIT_CHUNK) bytes = (size_t)have * bs + SM_COMMIT_CHUNK;
    uint32_t to = (uint32_t)((bytes + bs - 1) / bs);
    if (to > b->nblocks) to = b->nblocks;
    if (!sm_os_commit(b->data + (size_t)have * bs, (size_t)(to - have) * bs) ||
        !sm_os_commit((void *)(b->side + have), (size_t)(to - have) * sizeof *b->side))
        return false;
    while (have < to && !atomic_compare_exchange_weak_explicit(&b->committed, &have, to,
                                                               memory_order_release,
                                                               memory_order_acquire)) {
    }
    return true;
}
#else
static inline bool bucket_commit(sm_bucket *b, uint32_t end)
{
    (void)b; /* POSIX: the reservation is readable and writable already */
    (void)end;
    return true;
}
#endif

/* Takes up to `want` never-used blocks; the count, first index in *first. */
static uint32_t bucket_bump(sm_bucket *b, uint32_t want, uint32_t *first)
{
    uint32_t cur = atomic_load_explicit(&b->bumped, memory_order_relaxed);
    uint32_t n;
    do {
        if (cur >= b->nblocks) return 0;
        n = b->nblocks - cur < want ? b->nblocks - cur : want;
        if (!bucket_commit(b, cur + n)) return 0;
    } while (!atomic_compare_exchange_weak_explicit(&b->bumped, &cur, cur + n,
                                                    memory_order_relaxed,
                                                    memory_order_relaxed));
    *first = cur;
    return n;
}

/* Pops up to `want` blocks from the global list into out[] with one CAS.
 * The walk reads links of blocks that another thread may pop (and mark
 * USED) at the same time; the links are atomics in the side table, never
 * user memory, so that is no data race, and any stale view is caught by the
 * tagged head CAS. A link that is not a link (a mark) proves the view is
 * stale: start over. */
static uint32_t bucket_pop(sm_bucket *b, _Atomic uint32_t *out, uint32_t want)
{
    uint64_t head = atomic_load_explicit(&b->head, memory_order_acquire);
    for (;;) {
        uint32_t link = (uint32_t)head;
        uint32_t n = 0;
        bool stale = false;
        if (link == 0) return 0;
        do {
            slot_set(out, n++, link - 1);
            link = side_get(b, link - 1);
            if (link > b->nblocks) {
                stale = true;
                break;
            }
        } while (n < want && link != 0);
        if (stale) {
            head = atomic_load_explicit(&b->head, memory_order_acquire);
            continue;
        }
        uint64_t next = (((head >> 32) + 1) << 32) | link;
        SM_HOOK(SM_HOOK_POP_WINDOW);
        if (atomic_compare_exchange_weak_explicit(&b->head, &head, next,
                                                  memory_order_acq_rel,
                                                  memory_order_acquire))
            return n;
    }
}

/* Pushes the chain first -> ... -> last (already linked through the side
 * table, every block's entry no longer USED) with one CAS. */
static void bucket_push(sm_bucket *b, uint32_t first, uint32_t last)
{
    uint64_t head = atomic_load_explicit(&b->head, memory_order_relaxed);
    uint64_t next;
    do {
        side_set(b, last, (uint32_t)head);
        next = (((head >> 32) + 1) << 32) | (uint64_t)(first + 1);
    } while (!atomic_compare_exchange_weak_explicit(&b->head, &head, next,
                                                    memory_order_acq_rel,
                                                    memory_order_relaxed));
}

/* Up to `want` free blocks: recycled ones first (their pages are touched
 * already), then never-used ones. */
static uint32_t bucket_take(sm_bucket *b, _Atomic uint32_t *out, uint32_t want)
{
    uint32_t n = bucket_pop(b, out, want);
    if (n == 0) {
        uint32_t first = 0;
        n = bucket_bump(b, want, &first);
        for (uint32_t k = 0; k < n; ++k) slot_set(out, k, first + k);
    }
    return n;
}

/* Bucket for (bytes, alignment): the smallest whose block size holds bytes
 * and is a multiple of the alignment (then every block is aligned, as bucket
 * bases are SM_ALIGN_MAX-aligned). *alignment is normalised (0 -> 16).
 * Alignments above SM_ALIGN_MAX are the fallback's alone (no bucket base is
 * known to be aligned that far).
 * SM_SEL_FALLBACK: no bucket fits; SM_SEL_INVALID: refuse the request. */
static inline int32_t bucket_select(struct sm_allocator_s *a, size_t bytes,
                                    size_t *alignment)
{
    size_t al = *alignment ? *alignment : SM_ALIGN_DEFAULT;
    if ((al & (al - 1)) != 0 || al > SM_ALIGN_FALLBACK_MAX) return SM_SEL_INVALID;
    *alignment = al;
    if (bytes > a->max_block || al > SM_ALIGN_MAX)
        return bytes > SM_REQUEST_MAX ? SM_SEL_INVALID : SM_SEL_FALLBACK;
    size_t units = (bytes + SM_BLOCK_GRANULE - 1) >> 4;
    if (units == 0) units = 1; /* malloc(0): a minimum block */
    size_t step = al >> 4;     /* block size must be a multiple of al */
    if (step > 1) units = round_up(units, step);
    if (units > a->bucket_count) return SM_SEL_FALLBACK;
    return (int32_t)units - 1;
}

/* ---- fallback ---------------------------------------------------------- */

static inline size_t fb_home(uintptr_t key, size_t cap)
{
    uint64_t h = (uint64_t)(key >> 4) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32) & (cap - 1);
}

/* Slot holding key, or the empty slot where it would go. cap > 0. */
static size_t fb_probe(const sm_fb_map *m, uintptr_t key)
{
    size_t j = fb_home(key, m->cap);
    while (m->slots[j].key != 0 && m->slots[j].key != key) j = (j + 1) & (m->cap - 1);
    return j;
}

static bool fb_insert(sm_fb_map *m, uintptr_t key, size_t size)
{
    if (2 * (m->count + 1) > m->cap) {
        size_t ncap = m->cap ? 2 * m->cap : 64;
        sm_fb_entry *ns = (sm_fb_entry *)calloc(ncap, sizeof *ns);
        if (ns == NULL) return false;
        sm_fb_map grown = {ns, ncap, m->count, m->bytes};
        for (size_t j = 0; j < m->cap; ++j)
            if (m->slots[j].key != 0) grown.slots[fb_probe(&grown, m->slots[j].key)] = m->slots[j];
        free(m->slots);
        *m = grown;
    }
    size_t j = fb_probe(m, key);
    m->slots[j].key = key;
    m->slots[j].size = size;
    m->count++;
    m->bytes += size;
    return true;
}

/* Usable size of key, 0 when absent. */
static size_t fb_find(const sm_fb_map *m, uintptr_t key)
{
    if (m->cap == 0) return 0;
    size_t j = fb_probe(m, key);
    return m->slots[j].key == key ? m->slots[j].size : 0;
}

/* Removes key (returns false when absent), shifting later entries of the
 * probe run back so no lookup meets a premature hole. */
static bool fb_remove(sm_fb_map *m, uintptr_t key)
{
    if (m->cap == 0) return false;
    size_t mask = m->cap - 1;
    size_t hole = fb_probe(m, key);
    if (m->slots[hole].key != key) return false;
    m->count--;
    m->bytes -= m->slots[hole].size;
    for (size_t k = (hole + 1) & mask; m->slots[k].key != 0; k = (k + 1) & mask) {
        size_t home = fb_home(m->slots[k].key, m->cap);
        /* the entry's probe path home..k passes the hole: move it there */
        if (((hole - home) & mask) < ((k - home) & mask)) {
            m->slots[hole] = m->slots[k];
            hole = k;
        }
    }
    m->slots[hole].key = 0;
    m->slots[hole].size = 0;
    return true;
}

NALLOC_NOINLINE static void *fallback_alloc(struct sm_allocator_s *a, size_t bytes,
                                        size_t alignment)
{
    size_t usable = bytes == 0 ? SM_BLOCK_GRANULE : round_up(bytes, SM_BLOCK_GRANULE);
    void *p = sm_os_aligned_alloc(alignment < SM_ALIGN_DEFAULT ? SM_ALIGN_DEFAULT : alignment,
                                  usable);
    if (p == NULL) return NULL;
    sm_mutex_lock(&a->fb_lock);
    bool ok = fb_insert(&a->fb, (uintptr_t)p, usable);
    sm_mutex_unlock(&a->fb_lock);
    if (!ok) {
        sm_os_aligned_free(p);
        return NULL;
    }
    ctr_add_shared(&a->fallback_allocs, 1);
    return p;
}

NALLOC_NOINLINE static bool fallback_release(struct sm_allocator_s *a, void *p)
{
    sm_mutex_lock(&a->fb_lock);
    bool found = fb_remove(&a->fb, (uintptr_t)p);
    sm_mutex_unlock(&a->fb_lock);
    if (found) sm_os_aligned_free(p);
    return found;
}

static size_t fallback_size(struct sm_allocator_s *a, const void *p)
{
    sm_mutex_lock(&a->fb_lock);
    size_t size = fb_find(&a->fb, (uintptr_t)p);
    sm_mutex_unlock(&a->fb_lock);
    return size;
}

/* ---- thread caches ----------------------------------------------------- */

static void SM_OS_THREAD_EXIT_CALL sm_thread_exit(void *value);

static void sm_exit_key_init(void)
{
    sm_exit_key_ok = sm_os_thread_key_create(&sm_exit_key, sm_thread_exit);
}

/* Publishes the thread's list: TLS for lookups, the OS key for thread exit
 * (NULL when empty, so threads without caches cost nothing at exit). */
static bool thread_list_publish(sm_cache *head)
{
    sm_tls.list = head;
    sm_os_once(&sm_exit_once, sm_exit_key_init);
    return sm_exit_key_ok && sm_os_thread_key_set(sm_exit_key, head);
}

static void thread_list_unlink(sm_cache *c)
{
    for (sm_cache **pp = &sm_tls.list; *pp != NULL; pp = &(*pp)->thread_next) {
        if (*pp == c) {
            *pp = c->thread_next;
            break;
        }
    }
    if (sm_tls.memo == c) {
        sm_tls.memo_id = 0;
        sm_tls.memo = NULL;
    }
}

/* Finds this thread's cache for a (NULL: none) and remembers the answer.
 * Frees the orphans met on the way: their allocators are gone, and reading
 * the flag (atomic) is all that touches them. */
NALLOC_NOINLINE static sm_cache *cache_lookup_slow(struct sm_allocator_s *a)
{
    sm_cache *found = NULL;
    bool dropped = false;
    sm_cache **pp = &sm_tls.list;
    while (*pp != NULL) {
        sm_cache *c = *pp;
        if (atomic_load_explicit(&c->orphaned, memory_order_acquire)) {
            *pp = c->thread_next;
            if (sm_tls.memo == c) sm_tls.memo = NULL;
            free(c);
            dropped = true;
            continue;
        }
        if (c->alloc_id == a->id) found = c;
        pp = &c->thread_next;
    }
    if (dropped) (void)thread_list_publish(sm_tls.list);
    sm_tls.memo_id = a->id;
    sm_tls.memo = found;
    return found;
}

/* Hot path: one TLS load and compare. A memo for a live allocator's id can
 * never be an orphan (orphans belong to destroyed allocators only). */
static inline sm_cache *cache_of(struct sm_allocator_s *a)
{
    if (NALLOC_LIKELY(sm_tls.memo_id == a->id)) return sm_tls.memo;
    return cache_lookup_slow(a);
}

/* Moves up to `want` blocks from the bucket into the cache; how many. */
static uint32_t cache_fill(struct sm_allocator_s *a, sm_cache_bucket *cb, uint32_t i,
                           uint32_t want)
{
    sm_bucket *b = &a->buckets[i];
    uint32_t n = atomic_load_explicit(&cb->count, memory_order_relaxed);
    if (want > cb->capacity - n) want = cb->capacity - n;
    uint32_t got = bucket_take(b, cb->slots + n, want);
    for (uint32_t k = 0; k < got; ++k) side_set(b, slot_get(cb->slots, n + k), SM_BLOCK_FREE_MARK);
    atomic_store_explicit(&cb->count, n + got, memory_order_relaxed);
    return got;
}

/* Returns the k oldest cached blocks (bottom of the stack; the newest stay,
 * their lines are likelier in the CPU cache) with one CAS. */
static void cache_flush(struct sm_allocator_s *a, sm_cache_bucket *cb, uint32_t i, uint32_t k)
{
    sm_bucket *b = &a->buckets[i];
    uint32_t n = atomic_load_explicit(&cb->count, memory_order_relaxed);
    if (k > n) k = n;
    if (k == 0) return;
    for (uint32_t j = 0; j + 1 < k; ++j)
        side_set(b, slot_get(cb->slots, j), slot_get(cb->slots, j + 1) + 1);
    bucket_push(b, slot_get(cb->slots, 0), slot_get(cb->slots, k - 1));
    for (uint32_t j = k; j < n; ++j) slot_set(cb->slots, j - k, slot_get(cb->slots, j));
    atomic_store_explicit(&cb->count, n - k, memory_order_relaxed);
}

/* Puts a freed block (side entry already FREE_MARK) on the cache, first
 * returning half of a full cache to the bucket. */
static inline void cache_free(struct sm_allocator_s *a, sm_cache *c, uint32_t i, uint32_t k)
{
    sm_cache_bucket *cb = &c->b[i];
    uint32_t n = atomic_load_explicit(&cb->count, memory_order_relaxed);
    if (NALLOC_UNLIKELY(n == cb->capacity)) {
        cache_flush(a, cb, i, cb->capacity - (cb->capacity >> 1));
        n = atomic_load_explicit(&cb->count, memory_order_relaxed);
    }
    slot_set(cb->slots, n, k);
    atomic_store_explicit(&cb->count, n + 1, memory_order_relaxed);
    ctr_inc_owner(&cb->frees);
}

/* Gives a live cache's blocks and counters back to its allocator and unlinks
 * it from the allocator. Caller holds sm_registry, c is not orphaned. */
static void cache_retire_locked(sm_cache *c)
{
    struct sm_allocator_s *a = c->alloc;
    for (uint32_t i = 0; i < c->bucket_count; ++i) {
        sm_cache_bucket *cb = &c->b[i];
        sm_bucket *b = &a->buckets[i];
        cache_flush(a, cb, i, atomic_load_explicit(&cb->count, memory_order_relaxed));
        ctr_add_shared(&b->cache_hits, ctr_get(&cb->hits));
        ctr_add_shared(&b->global_hits, ctr_get(&cb->misses));
        ctr_add_shared(&b->frees, ctr_get(&cb->frees));
    }
    if (c->alloc_prev != NULL) c->alloc_prev->alloc_next = c->alloc_next;
    else a->caches = c->alloc_next;
    if (c->alloc_next != NULL) c->alloc_next->alloc_prev = c->alloc_prev;
}

/* Thread exit: return every live cache, free every cache. Allocators may
 * have been destroyed meanwhile: the orphaned flag, read under the same
 * mutex that sm_allocator_destroy sets it under, says which. */
static void SM_OS_THREAD_EXIT_CALL sm_thread_exit(void *value)
{
    if (value == NULL) return; /* Windows may call with an empty slot */
    sm_cache *c = (sm_cache *)value;
    sm_mutex_lock(&sm_registry);
    while (c != NULL) {
        sm_cache *next = c->thread_next;
        if (!atomic_load_explicit(&c->orphaned, memory_order_acquire)) cache_retire_locked(c);
        free(c);
        c = next;
    }
    sm_mutex_unlock(&sm_registry);
    sm_tls.memo_id = 0;
    sm_tls.memo = NULL;
    sm_tls.list = NULL;
}

/* ---- public API: lifetime ---------------------------------------------- */

sm_allocator sm_allocator_create(size_t bucket_count, size_t bucket_size_bytes)
{
    if (bucket_count < 1 || bucket_count > SM_MAX_BUCKETS) return NULL;
    if (bucket_size_bytes < SM_BUCKET_SIZE_MIN || bucket_size_bytes > SM_BUCKET_SIZE_MAX)
        return NULL;

    unsigned stride_log2 = 12;
    while (((size_t)1 << stride_log2) < bucket_size_bytes) ++stride_log2;
    /* 32-bit hosts: the reservation must fit the address space. */
    if (stride_log2 >= sizeof(size_t) * 8 - 1 ||
        ((bucket_count << stride_log2) >> stride_log2) != bucket_count)
        return NULL;
    size_t data_span = bucket_count << stride_log2;
    size_t side_bytes[SM_MAX_BUCKETS];
    size_t total = data_span;
    for (size_t i = 0; i < bucket_count; ++i) {
        size_t nblocks = bucket_size_bytes / (SM_BLOCK_GRANULE * (i + 1));
        side_bytes[i] = round_up(nblocks * sizeof(uint32_t), SM_PAGE);
        if (total + side_bytes[i] < total) return NULL;
        total += side_bytes[i];
    }

    struct sm_allocator_s *a = (struct sm_allocator_s *)sm_os_aligned_alloc(
        SM_CACHE_LINE, sizeof *a + bucket_count * sizeof(sm_bucket));
    if (a == NULL) return NULL;
    unsigned char *mem = (unsigned char *)sm_os_reserve(total);
    if (mem == NULL) {
        sm_os_aligned_free(a);
        return NULL;
    }
    memset(a, 0, sizeof *a + bucket_count * sizeof(sm_bucket));
    a->id = atomic_fetch_add_explicit(&sm_next_id, 1, memory_order_relaxed);
    a->base = (uintptr_t)mem;
    a->data_span = data_span;
    a->stride_log2 = stride_log2;
    a->bucket_count = (uint32_t)bucket_count;
    a->max_block = SM_BLOCK_GRANULE * bucket_count;
    a->reservation = mem;
    a->reservation_bytes = total;
    a->caches = NULL;
    sm_mutex_init(&a->fb_lock);
    atomic_init(&a->fallback_allocs, 0);

    /* Nothing below writes to the reservation: creating an allocator makes
     * none of its pool resident. */
    unsigned char *side = mem + data_span;
    bool committed = true;
    for (size_t i = 0; i < bucket_count; ++i) {
        sm_bucket *b = &a->buckets[i];
        b->units = (uint32_t)(i + 1);
        b->block_size = SM_BLOCK_GRANULE * b->units;
        b->nblocks = (uint32_t)(bucket_size_bytes / b->block_size);
        b->magic = sm_div_magic(b->units);
        b->data = mem + (i << stride_log2);
        b->side = (_Atomic uint32_t *)(void *)side;
#if SM_OS_LAZY_COMMIT
        atomic_init(&b->committed, 0); /* committed by bucket_commit, on demand */
#else
        committed = committed &&
                    sm_os_commit(b->data, round_up((size_t)b->nblocks * b->block_size, SM_PAGE)) &&
                    sm_os_commit(side, side_bytes[i]);
#endif
        side += side_bytes[i];
        atomic_init(&b->head, 0);
        atomic_init(&b->bumped, 0);
        atomic_init(&b->global_hits, 0);
        atomic_init(&b->cache_hits, 0);
        atomic_init(&b->frees, 0);
        atomic_init(&b->fallbacks, 0);
    }
    if (!committed) {
        sm_os_release(mem, total);
        sm_mutex_destroy(&a->fb_lock);
        sm_os_aligned_free(a);
        return NULL;
    }
    return a;
}

void sm_allocator_destroy(sm_allocator a)
{
    if (a == NULL) return;
    /* The calling thread's own cache is freed here directly (we own it; the
     * main thread gets no thread-exit callback, so leaving it orphaned would
     * leak it). Other threads' caches become orphans their owners free. */
    sm_cache *own = NULL;
    for (sm_cache *c = sm_tls.list; c != NULL; c = c->thread_next)
        if (c->alloc_id == a->id) own = c;
    sm_mutex_lock(&sm_registry);
    sm_cache *c = a->caches;
    while (c != NULL) {
        sm_cache *next = c->alloc_next;
        if (c != own) atomic_store_explicit(&c->orphaned, 1, memory_order_release);
        c = next; /* an orphan may be freed by its owner from here on */
    }
    a->caches = NULL;
    sm_mutex_unlock(&sm_registry);
    if (own != NULL) {
        thread_list_unlink(own);
        (void)thread_list_publish(sm_tls.list);
        free(own);
    }
    if (sm_tls.memo_id == a->id) {
        sm_tls.memo_id = 0;
        sm_tls.memo = NULL;
    }

    for (size_t j = 0; j < a->fb.cap; ++j)
        if (a->fb.slots[j].key != 0) sm_os_aligned_free((void *)a->fb.slots[j].key);
    free(a->fb.slots);
    sm_mutex_destroy(&a->fb_lock);
    sm_os_release(a->reservation, a->reservation_bytes);
    sm_os_aligned_free(a);
}

void sm_allocator_thread_cache_destroy(sm_allocator a)
{
    if (a == NULL) return;
    sm_cache *c = cache_lookup_slow(a);
    if (c == NULL) return;
    sm_mutex_lock(&sm_registry);
    cache_retire_locked(c);
    sm_mutex_unlock(&sm_registry);
    thread_list_unlink(c);
    (void)thread_list_publish(sm_tls.list);
    free(c);
}

void sm_allocator_thread_cache_create(sm_allocator a, sm_cache_warmup warmup,
                                      size_t cache_bytes_per_bucket)
{
    if (a == NULL) return;
    sm_allocator_thread_cache_destroy(a);
    if (cache_bytes_per_bucket == 0) return;

    uint32_t cap[SM_MAX_BUCKETS];
    size_t bytes = sizeof(sm_cache) + a->bucket_count * sizeof(sm_cache_bucket);
    for (uint32_t i = 0; i < a->bucket_count; ++i) {
        size_t n = cache_bytes_per_bucket / a->buckets[i].block_size;
        if (n == 0) n = 1;
        if (n > a->buckets[i].nblocks) n = a->buckets[i].nblocks;
        cap[i] = (uint32_t)n;
        bytes += n * sizeof(_Atomic uint32_t);
    }
    sm_cache *c = (sm_cache *)malloc(bytes);
    if (c == NULL) return;
    c->alloc_id = a->id;
    c->alloc = a;
    atomic_init(&c->orphaned, 0);
    c->thread_next = sm_tls.list;
    c->alloc_prev = NULL;
    c->bucket_count = a->bucket_count;
    _Atomic uint32_t *slots = (_Atomic uint32_t *)(void *)&c->b[a->bucket_count];
    for (uint32_t i = 0; i < a->bucket_count; ++i) {
        sm_cache_bucket *cb = &c->b[i];
        cb->slots = slots;
        slots += cap[i];
        cb->capacity = cap[i];
        atomic_init(&cb->count, 0);
        atomic_init(&cb->hits, 0);
        atomic_init(&cb->misses, 0);
        atomic_init(&cb->frees, 0);
    }
    if (!thread_list_publish(c)) { /* no thread-exit key, no cache */
        (void)thread_list_publish(c->thread_next);
        free(c);
        return;
    }
    sm_mutex_lock(&sm_registry);
    c->alloc_next = a->caches;
    if (a->caches != NULL) a->caches->alloc_prev = c;
    a->caches = c;
    sm_mutex_unlock(&sm_registry);
    sm_tls.memo_id = a->id;
    sm_tls.memo = c;

    for (uint32_t i = 0; i < a->bucket_count; ++i) {
        uint32_t target = warmup == SM_CACHE_HOT    ? cap[i]
                          : warmup == SM_CACHE_WARM ? cap[i] >> 1
                                                    : 0;
        uint32_t have = 0;
        while (have < target) { /* the bucket may run dry before */
            uint32_t got = cache_fill(a, &c->b[i], i, target - have);
            if (got == 0) break;
            have += got;
        }
    }
}

int sm_allocator_thread_cache_exists(sm_allocator a)
{
    return a != NULL && cache_of(a) != NULL;
}

/* The protocol is documented in smmalloc.h; the addresses handed out are
 * those of the very fields bucket_alloc and free_one use, so a binding's
 * hit path and C's stay one cache. */
size_t sm_thread_cache_layout(sm_allocator a, uint64_t *out, size_t len)
{
    if (a == NULL) return 0;
    sm_cache *c = cache_of(a);
    if (c == NULL) return 0;
    size_t need = SM_LAYOUT_HEADER + (size_t)a->bucket_count * SM_LAYOUT_BUCKET;
    if (out == NULL) return need;
    uint64_t header[SM_LAYOUT_HEADER] = { 0 };
    header[SM_LAYOUT_BASE] = (uint64_t)a->base;
    header[SM_LAYOUT_DATA_SPAN] = (uint64_t)a->data_span;
    header[SM_LAYOUT_STRIDE_LOG2] = a->stride_log2;
    header[SM_LAYOUT_BUCKET_COUNT] = a->bucket_count;
    header[SM_LAYOUT_MARK_USED] = SM_BLOCK_USED;
    header[SM_LAYOUT_MARK_FREE] = SM_BLOCK_FREE_MARK;
    for (size_t j = 0; j < SM_LAYOUT_HEADER && j < len; ++j) out[j] = header[j];
    for (uint32_t i = 0; i < a->bucket_count; ++i) {
        sm_bucket *b = &a->buckets[i];
        sm_cache_bucket *cb = &c->b[i];
        uint64_t v[SM_LAYOUT_BUCKET] = { 0 };
        v[SM_LAYOUT_COUNT] = (uint64_t)(uintptr_t)&cb->count;
        v[SM_LAYOUT_SLOTS] = (uint64_t)(uintptr_t)cb->slots;
        v[SM_LAYOUT_CAPACITY] = cb->capacity;
        v[SM_LAYOUT_DATA] = (uint64_t)(uintptr_t)b->data;
        v[SM_LAYOUT_BLOCK_SIZE] = b->block_size;
        v[SM_LAYOUT_SIDE] = (uint64_t)(uintptr_t)b->side;
        v[SM_LAYOUT_BUMPED] = (uint64_t)(uintptr_t)&b->bumped;
        v[SM_LAYOUT_MAGIC] = b->magic;
        v[SM_LAYOUT_UNITS] = b->units;
        v[SM_LAYOUT_HITS] = (uint64_t)(uintptr_t)&cb->hits;
        v[SM_LAYOUT_FREES] = (uint64_t)(uintptr_t)&cb->frees;
        size_t at = SM_LAYOUT_HEADER + (size_t)i * SM_LAYOUT_BUCKET;
        for (size_t j = 0; j < SM_LAYOUT_BUCKET && at + j < len; ++j) out[at + j] = v[j];
    }
    return need;
}

/* ---- public API: allocation -------------------------------------------- */

/* Slow half of bucket_alloc: refill an empty cache (half its capacity, one
 * CAS), or take one block without a cache. NULL when the bucket is
 * exhausted. Kept out of line so the hit path needs few registers. */
NALLOC_NOINLINE static void *bucket_alloc_slow(struct sm_allocator_s *a, sm_cache *c, uint32_t i)
{
    sm_bucket *b = &a->buckets[i];
    uint32_t k;
    if (c != NULL) {
        sm_cache_bucket *cb = &c->b[i];
        uint32_t n = cache_fill(a, cb, i, (cb->capacity + 1) >> 1);
        if (n == 0) return NULL;
        k = slot_get(cb->slots, n - 1);
        atomic_store_explicit(&cb->count, n - 1, memory_order_relaxed);
        ctr_inc_owner(&cb->misses);
    } else {
        _Atomic uint32_t one;
        if (bucket_take(b, &one, 1) == 0) return NULL;
        k = atomic_load_explicit(&one, memory_order_relaxed);
        ctr_add_shared(&b->global_hits, 1);
    }
    side_set(b, k, SM_BLOCK_USED);
    return block_ptr(b, k);
}

/* A block of bucket i: the hit path pops the thread cache's stack with
 * plain (relaxed) accesses and marks the block USED. */
static inline void *bucket_alloc(struct sm_allocator_s *a, uint32_t i)
{
    sm_cache *c = cache_of(a);
    if (NALLOC_LIKELY(c != NULL)) {
        sm_cache_bucket *cb = &c->b[i];
        uint32_t n = atomic_load_explicit(&cb->count, memory_order_relaxed);
        if (NALLOC_LIKELY(n != 0)) {
            sm_bucket *b = &a->buckets[i];
            uint32_t k = slot_get(cb->slots, n - 1);
            atomic_store_explicit(&cb->count, n - 1, memory_order_relaxed);
            ctr_inc_owner(&cb->hits);
            side_set(b, k, SM_BLOCK_USED);
            return block_ptr(b, k);
        }
    }
    return bucket_alloc_slow(a, c, i);
}

void *sm_malloc(sm_allocator a, size_t bytes, size_t alignment)
{
    if (NALLOC_UNLIKELY(a == NULL)) return NULL;
    int32_t i = bucket_select(a, bytes, &alignment);
    if (NALLOC_LIKELY(i >= 0)) {
        void *p = bucket_alloc(a, (uint32_t)i);
        if (NALLOC_LIKELY(p != NULL)) return p;
        ctr_add_shared(&a->buckets[i].fallbacks, 1);
    } else if (i == SM_SEL_INVALID) {
        return NULL;
    }
    return fallback_alloc(a, bytes, alignment);
}

/* Claims block k for freeing: the CAS USED -> FREE_MARK fails on a block
 * that is already free (double free, or the loser of two racing frees), and
 * then nothing has been changed. Every free path goes through here so that
 * exactly one of any number of racing frees of a block wins. */
static inline bool block_claim(sm_bucket *b, uint32_t k)
{
    uint32_t expected = SM_BLOCK_USED;
    SM_HOOK(SM_HOOK_CLAIM_WINDOW);
    return atomic_compare_exchange_strong_explicit(&b->side[k], &expected, SM_BLOCK_FREE_MARK,
                                                   memory_order_relaxed, memory_order_relaxed);
}

/* The one free path for a single pointer. */
static int free_one(struct sm_allocator_s *a, void *p, sm_cache *c)
{
    uint32_t i, k;
    int where = locate(a, p, &i, &k);
    if (NALLOC_LIKELY(where > 0)) {
        sm_bucket *b = &a->buckets[i];
        if (!block_claim(b, k)) return SM_ERR_DOUBLE_FREE;
        if (c != NULL) {
            cache_free(a, c, i, k);
        } else {
            bucket_push(b, k, k);
            ctr_add_shared(&b->frees, 1);
        }
        return SM_OK;
    }
    if (where == 0) return SM_ERR_NOT_OWNED;
    return fallback_release(a, p) ? SM_OK : SM_ERR_NOT_OWNED;
}

int sm_free_checked(sm_allocator a, void *p)
{
    if (p == NULL) return SM_OK;
    if (a == NULL) return SM_ERR_NOT_OWNED;
    return free_one(a, p, cache_of(a));
}

void sm_free(sm_allocator a, void *p)
{
    (void)sm_free_checked(a, p);
}

size_t sm_free_batch_checked(sm_allocator a, void **ptrs, size_t count)
{
    if (ptrs == NULL) return 0;
    size_t refused = 0;
    if (a == NULL) {
        for (size_t j = 0; j < count; ++j) refused += ptrs[j] != NULL;
        return refused;
    }
    sm_cache *c = cache_of(a);
    if (c != NULL) {
        for (size_t j = 0; j < count; ++j) {
            if (ptrs[j] == NULL) continue;
            if (free_one(a, ptrs[j], c) == SM_OK) ptrs[j] = NULL;
            else ++refused;
        }
        return refused;
    }
    /* Uncached: chain the blocks per bucket through the side table, then
     * one push per bucket. */
    uint32_t first[SM_MAX_BUCKETS], last[SM_MAX_BUCKETS], n[SM_MAX_BUCKETS];
    memset(n, 0, sizeof n);
    for (size_t j = 0; j < count; ++j) {
        void *p = ptrs[j];
        uint32_t i, k;
        if (p == NULL) continue;
        int where = locate(a, p, &i, &k);
        if (where > 0) {
            sm_bucket *b = &a->buckets[i];
            if (!block_claim(b, k)) {
                ++refused;
                continue;
            }
            if (n[i] == 0) last[i] = k;
            else side_set(b, k, first[i] + 1);
            first[i] = k;
            n[i]++;
            ptrs[j] = NULL;
        } else if (where < 0 && fallback_release(a, p)) {
            ptrs[j] = NULL;
        } else {
            ++refused;
        }
    }
    for (uint32_t i = 0; i < a->bucket_count; ++i) {
        if (n[i] == 0) continue;
        bucket_push(&a->buckets[i], first[i], last[i]);
        ctr_add_shared(&a->buckets[i].frees, n[i]);
    }
    return refused;
}

void sm_free_batch(sm_allocator a, void **ptrs, size_t count)
{
    (void)sm_free_batch_checked(a, ptrs, count);
}

/* Bucket of a live bucket block (-1 otherwise) and its usable size (0 when
 * p is not live in a). One helper for msize, mbucket, owns and realloc. */
static size_t block_info(struct sm_allocator_s *a, const void *p, int32_t *bucket)
{
    uint32_t i, k;
    *bucket = -1;
    if (a == NULL || p == NULL) return 0;
    int where = locate(a, p, &i, &k);
    if (where > 0) {
        if (side_get(&a->buckets[i], k) != SM_BLOCK_USED) return 0;
        *bucket = (int32_t)i;
        return a->buckets[i].block_size;
    }
    return where < 0 ? fallback_size(a, p) : 0;
}

void *sm_realloc(sm_allocator a, void *p, size_t bytes, size_t alignment)
{
    if (a == NULL) return NULL;
    if (p == NULL) return sm_malloc(a, bytes, alignment);
    int32_t want = bucket_select(a, bytes, &alignment);
    if (want == SM_SEL_INVALID) return NULL;
    int32_t have;
    size_t old = block_info(a, p, &have);
    if (old == 0) return NULL; /* not ours: refuse, change nothing */
    if (have >= 0 && have == want) return p;
    if (have < 0 && want == SM_SEL_FALLBACK && old >= bytes && (old >> 1) <= bytes &&
        ((uintptr_t)p & (alignment - 1)) == 0)
        return p;
    void *q = sm_malloc(a, bytes, alignment);
    if (q == NULL) return NULL;
    memcpy(q, p, old < bytes ? old : bytes);
    (void)free_one(a, p, cache_of(a));
    return q;
}

size_t sm_msize(sm_allocator a, void *p)
{
    int32_t bucket;
    return block_info(a, p, &bucket);
}

int32_t sm_mbucket(sm_allocator a, void *p)
{
    int32_t bucket;
    (void)block_info(a, p, &bucket);
    return bucket;
}

int sm_owns(sm_allocator a, const void *p)
{
    int32_t bucket;
    return block_info(a, p, &bucket) != 0;
}

size_t sm_bucket_count(sm_allocator a)
{
    return a == NULL ? 0 : a->bucket_count;
}

size_t sm_max_block_size(sm_allocator a)
{
    return a == NULL ? 0 : a->max_block;
}

/* ---- statistics and checks --------------------------------------------- */

void sm_get_stats(sm_allocator a, sm_stats *out)
{
    if (out == NULL) return;
    memset(out, 0, sizeof *out);
    if (a == NULL) return;
    out->bucket_count = a->bucket_count;
    uint64_t frees[SM_MAX_BUCKETS];
    sm_mutex_lock(&sm_registry);
    for (uint32_t i = 0; i < a->bucket_count; ++i) {
        sm_bucket *b = &a->buckets[i];
        sm_bucket_stats *s = &out->buckets[i];
        s->block_size = b->block_size;
        s->blocks_total = b->nblocks;
        s->blocks_touched = atomic_load_explicit(&b->bumped, memory_order_relaxed);
        s->cache_hits = ctr_get(&b->cache_hits);
        s->global_hits = ctr_get(&b->global_hits);
        s->fallbacks = ctr_get(&b->fallbacks);
        frees[i] = ctr_get(&b->frees);
    }
    for (sm_cache *c = a->caches; c != NULL; c = c->alloc_next) {
        out->thread_caches++;
        for (uint32_t i = 0; i < a->bucket_count; ++i) {
            sm_cache_bucket *cb = &c->b[i];
            out->buckets[i].blocks_cached += atomic_load_explicit(&cb->count, memory_order_relaxed);
            out->buckets[i].cache_hits += ctr_get(&cb->hits);
            out->buckets[i].global_hits += ctr_get(&cb->misses);
            frees[i] += ctr_get(&cb->frees);
        }
    }
    sm_mutex_unlock(&sm_registry);
    for (uint32_t i = 0; i < a->bucket_count; ++i) {
        uint64_t allocs = out->buckets[i].cache_hits + out->buckets[i].global_hits;
        /* a racing snapshot may count a free before its allocation */
        out->buckets[i].blocks_in_use = allocs > frees[i] ? allocs - frees[i] : 0;
    }
    sm_mutex_lock(&a->fb_lock);
    out->fallback_blocks_in_use = a->fb.count;
    out->fallback_bytes_in_use = a->fb.bytes;
    sm_mutex_unlock(&a->fb_lock);
    out->fallback_allocs = ctr_get(&a->fallback_allocs);
}

/* Broken invariants of bucket i, whose blocks [0, bumped) are walked (a
 * snapshot: bumped only grows). Caller holds sm_registry. Reads only: other
 * threads may be running on the bucket, so every shared word is read with
 * an atomic load and nothing shared is written; duplicates among the cached
 * blocks are found with `seen`, a private bitmap of at least bumped bits. */
static int check_bucket(struct sm_allocator_s *a, uint32_t i, uint32_t bumped,
                        uint64_t in_use_stat, uint64_t *seen)
{
    sm_bucket *b = &a->buckets[i];
    int bad = 0;
    if (bumped > b->nblocks) return 1;
    memset(seen, 0, ((size_t)bumped + 63) / 64 * sizeof *seen);
    uint64_t used = 0, marked = 0, linked = 0;
    for (uint32_t k = 0; k < bumped; ++k) {
        uint32_t v = side_get(b, k);
        if (v == SM_BLOCK_USED) used++;
        else if (v == SM_BLOCK_FREE_MARK) marked++;
        else if (v <= bumped) linked++;
        else bad++; /* a link to a block never handed out, or garbage */
    }
    /* The global list: links only, no cycle (at most `linked` steps). */
    uint64_t steps = 0;
    for (uint32_t link = (uint32_t)atomic_load_explicit(&b->head, memory_order_relaxed);
         link != 0;) {
        if (link > bumped || ++steps > linked) {
            bad++;
            break;
        }
        uint32_t v = side_get(b, link - 1);
        if (v == SM_BLOCK_USED || v == SM_BLOCK_FREE_MARK) {
            bad++;
            break;
        }
        link = v;
    }
    if (steps != linked) bad++;
    /* Caches: every slot a distinct FREE_MARK block. */
    uint64_t cached = 0;
    for (sm_cache *c = a->caches; c != NULL; c = c->alloc_next) {
        sm_cache_bucket *cb = &c->b[i];
        uint32_t n = atomic_load_explicit(&cb->count, memory_order_relaxed);
        if (n > cb->capacity) {
            bad++;
            n = cb->capacity;
        }
        for (uint32_t s = 0; s < n; ++s) {
            uint32_t k = slot_get(cb->slots, s);
            uint64_t bit = (uint64_t)1 << (k & 63);
            if (k >= bumped || side_get(b, k) != SM_BLOCK_FREE_MARK || (seen[k >> 6] & bit)) {
                bad++;
                continue;
            }
            seen[k >> 6] |= bit;
            cached++;
        }
    }
    if (cached != marked) bad++;
    if (used != in_use_stat) bad++;
    return bad;
}

/* Broken invariants of the fallback map (see sm_fb_map). */
static int check_fallback(struct sm_allocator_s *a)
{
    int bad = 0;
    sm_mutex_lock(&a->fb_lock);
    const sm_fb_map *m = &a->fb;
    size_t count = 0;
    uint64_t bytes = 0;
    for (size_t j = 0; j < m->cap; ++j) {
        if (m->slots[j].key == 0) continue;
        count++;
        bytes += m->slots[j].size;
        if (fb_probe(m, m->slots[j].key) != j) bad++; /* unreachable entry */
        if ((m->slots[j].key & (SM_ALIGN_DEFAULT - 1)) != 0 || m->slots[j].size == 0) bad++;
    }
    if (count != m->count || bytes != m->bytes || 2 * m->count > m->cap) bad++;
    sm_mutex_unlock(&a->fb_lock);
    return bad;
}

int sm_check(sm_allocator a)
{
    if (a == NULL) return 1;
    sm_stats st;
    sm_get_stats(a, &st);
    uint32_t bumped[SM_MAX_BUCKETS], most = 0;
    for (uint32_t i = 0; i < a->bucket_count; ++i) {
        bumped[i] = atomic_load_explicit(&a->buckets[i].bumped, memory_order_relaxed);
        if (bumped[i] <= a->buckets[i].nblocks && bumped[i] > most) most = bumped[i];
    }
    uint64_t *seen = (uint64_t *)malloc(((size_t)most + 64) / 64 * sizeof *seen);
    if (seen == NULL) return SM_CHECK_NO_MEMORY;
    int bad = 0;
    sm_mutex_lock(&sm_registry);
    for (uint32_t i = 0; i < a->bucket_count; ++i)
        bad += check_bucket(a, i, bumped[i], st.buckets[i].blocks_in_use, seen);
    for (sm_cache *c = a->caches; c != NULL; c = c->alloc_next)
        if (c->alloc != a || c->alloc_id != a->id ||
            atomic_load_explicit(&c->orphaned, memory_order_relaxed))
            bad++;
    sm_mutex_unlock(&sm_registry);
    free(seen);
    return bad + check_fallback(a);
}
