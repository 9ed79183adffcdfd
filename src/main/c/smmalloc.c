/* smmalloc: bucket allocator of thread-owned spans with exact frees.
 * Read top-down: constants, types (with their invariants), thread-local
 * state, spans (claim, carve, remote list, pool), the fallback map, thread
 * caches, the public API, statistics and checks.
 *
 * DESIGN (free-list sharding, after mimalloc's pages, MSR-TR-2019-18)
 *  A bucket's blocks are cut into spans of 2^span_shift blocks (at most
 *  64 KiB of blocks; a small bucket is one span). A span is owned by one
 *  owner at a time: a thread cache's bucket (sm_cache_bucket), the bucket's
 *  shared owner (threads without a cache, under the bucket lock), or nobody
 *  (it sits in the bucket's pool: abandoned by an exiting cache, or given
 *  back when it became entirely free). Each span has
 *    - a local free list, written by its owner only (for the owner's current
 *      span the head lives in the cache bucket, next to the hit counters);
 *    - a remote free list that any thread pushes onto (one CAS) and that the
 *      owner takes whole with one exchange: no pop of single entries, so
 *      no ABA and no tag;
 *    - a fresh frontier: blocks [first, first + fresh) were handed out at
 *      least once; the rest were never touched.
 *  The per-block word side[k] is SM_BLOCK_USED for a live block, or a link
 *  (next index + 1, 0 = end) on exactly one list: its span's local or
 *  remote list, or a cache's pending chain of remote frees not yet pushed;
 *  or, for an instant, SM_BLOCK_FREE_MARK (claimed by a remote free of a
 *  thread without a cache, not yet pushed).
 *  Every free claims the block with one CAS from USED (block_claim): the
 *  owner's free CASes straight to the link onto its local head; a remote
 *  free by a thread with a cache CASes to the link onto its pending chain
 *  for that span (pushed whole, one CAS per up to SM_REMOTE_BATCH blocks);
 *  one without a cache CASes to FREE_MARK and then pushes. So exactly one of any number of
 *  frees of a block wins, whoever runs them, and the rest see a double free
 *  with nothing changed. Only the owner turns a free block back into USED.
 *  A thread thus writes only side words of blocks of its own spans, except
 *  for the one claim of a remote free: state lines stop bouncing between
 *  cores, which is what makes the allocator scale.
 *
 *  Refill, when the owner's current list is empty: take the current span's
 *  remote list; else carve fresh blocks of it; else rotate through the
 *  owner's other spans (taking their remote lists); else adopt a span from
 *  the pool; else claim a never-used span; else the bucket is exhausted and
 *  the request goes to the fallback. A non-current span whose blocks all
 *  come back to its local list goes to the pool (bounded hoarding: the
 *  bucket is a fixed pool shared by all threads). A cache that is destroyed
 *  (or whose thread exits) abandons its spans to the pool with their lists;
 *  remote frees to them keep working and come home to their adopter.
 *
 * Memory orderings, in one place:
 *  - remote list head: pushes CAS with release (the link in side[] and the
 *    freed block's last contents are published); the owner's exchange is
 *    acquire. The pool and the shared owner live under the bucket lock.
 *  - side-table entries are relaxed: a claim is a CAS on the word itself,
 *    every other access is by the span's owner or after the exchange above.
 *  - span frontier (spans_claimed) is release/acquire so that a span's
 *    metadata is committed (Windows) before anyone reads it; a span's fresh
 *    count is relaxed: a block's handing out happens-before its free through
 *    the caller's own synchronisation.
 *  - span owner is relaxed: only a thread comparing it to its own cache
 *    acts on it, and only that thread can make the comparison true or false.
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
#define SM_BLOCK_FREE_MARK 0xFFFFFFFEu  /* claimed by a remote free, being pushed */

#define SM_CACHE_LINE 64
/* Side-table alignment and commit rounding, not the OS page size:
 * any page size works (tested with 4, 16 and 64 KiB pages under qemu);
 * nothing here needs the real one (munmap, VirtualAlloc round for us). */
#define SM_PAGE ((size_t)4096)
/* Largest request passed to the fallback: beyond this no object can be
 * indexed with ptrdiff_t, and rounding up cannot overflow. */
#define SM_REQUEST_MAX ((size_t)PTRDIFF_MAX - SM_ALIGN_MAX)
/* Remote frees of a cache to one span pushed at once, at most. */
#define SM_REMOTE_BATCH 32u
/* A span holds the largest power of two of blocks that fits these bytes. */
#define SM_SPAN_BYTES ((size_t)64 * 1024)

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
               "bindings access side entries and list heads as plain uint32_t");
_Static_assert((SM_ALIGN_MAX & (SM_ALIGN_MAX - 1)) == 0, "power of two");
_Static_assert(SM_BUCKET_SIZE_MIN % SM_ALIGN_MAX == 0 && SM_PAGE % SM_ALIGN_MAX == 0,
               "bucket bases (page-aligned, power-of-two strides >= the "
               "minimum) must be SM_ALIGN_MAX-aligned so a block of size "
               "k*A is A-aligned");
_Static_assert(SM_MAX_BUCKETS * SM_BLOCK_GRANULE <= SM_ALIGN_MAX,
               "every block size divides into a page-aligned bucket");
_Static_assert(SM_SPAN_BYTES >= SM_MAX_BUCKETS * SM_BLOCK_GRANULE,
               "a span holds at least one block of every bucket");

/* ---- types ------------------------------------------------------------- */

/* A span: blocks [s << span_shift, min(nblocks, (s + 1) << span_shift)) of
 * its bucket. Who writes what:
 *   owner: the claimer or adopter (under the bucket lock for adoption and
 *     release), 0 while in the pool;
 *   fresh, local, local_count, next, prev: the owner only (pool links under
 *     the bucket lock);
 *   remote: any thread pushes with a CAS, the owner empties it with an
 *     exchange.
 * Invariants (when quiescent), with first = s << span_shift:
 *   fresh <= capacity; every block in [first, first + fresh) is USED or on
 *   exactly one of the span's lists (the local list, which for the owner's
 *   current span is the owner's head, or the remote list); links stay
 *   inside [first, first + fresh);
 *   local_count == length of local (0 and local empty for a current span);
 *   the high half of remote == length of its list;
 *   owned spans are on their owner's ring (next/prev) exactly once, pooled
 *   spans on the pool stack (next) exactly once, owner 0.
 * One cache line per span: neighbouring spans of different owners do not
 * share one. Lives in the reservation, committed with its span's blocks. */
typedef struct sm_span {
    _Alignas(SM_CACHE_LINE) _Atomic uintptr_t owner; /* sm_cache_bucket *, 0 = pool */
    /* (length << 32) | link of the remote free list: the owner learns how
     * many blocks came home from the exchange itself, without walking. */
    _Atomic uint64_t remote;
    _Atomic uint32_t fresh;
    _Atomic uint32_t local;       /* link of the local free list */
    _Atomic uint32_t local_count;
    _Atomic uint32_t next;        /* span index + 1 on the ring or pool, 0 = none */
    _Atomic uint32_t prev;
} sm_span;

/* One owner's state in one bucket: a thread cache's bucket, or a bucket's
 * shared owner (threads without a cache, under the bucket lock). head is
 * the current span's local list, [cur_lo, cur_hi) the current span's handed
 * out blocks (0, 0 when there is none), ring the circular list of every span
 * owned (current one included), nowned its length. Written by the owner only,
 * as relaxed atomics (plain moves) so sm_get_stats and sm_check may read them.
 * Counters: hits (served from head), misses (served after a refill), frees
 * (frees by this owner, local or remote) and supply (blocks that entered the
 * owner's local lists in slow paths, minus those that left them, minus the
 * owner's remote frees), so that the free blocks on the owner's local lists
 * number supply + frees - hits - misses (checked by sm_check).
 * pend_*: a cache's remote frees to one span, claimed and chained but not
 * yet pushed (pend_count blocks from pend_head, ending in link 0 at
 * pend_tail): consecutive remote frees to one span cost one push per
 * SM_REMOTE_BATCH blocks. Pushed when a remote free goes to another span,
 * when the batch is full, on every refill and when the cache retires. */
typedef struct sm_cache_bucket {
    _Atomic uint32_t head;
    _Atomic uint32_t cur_lo;
    _Atomic uint32_t cur_hi;
    _Atomic uint32_t cur;   /* current span index + 1, 0 = none */
    _Atomic uint32_t ring;  /* a span of the ring (index + 1), 0 = owns none */
    _Atomic uint32_t nowned;
    uint32_t carve;         /* fresh blocks linked per refill, >= 1 */
    _Atomic uint64_t hits;
    _Atomic uint64_t misses;
    _Atomic uint64_t frees;
    _Atomic uint64_t supply;
    _Atomic uint32_t pend_span; /* span index + 1, 0 = nothing pending */
    _Atomic uint32_t pend_head;
    _Atomic uint32_t pend_count;
    uint32_t pend_tail;
} sm_cache_bucket;

/* One bucket: blocks of block_size = 16 * units bytes at data, block k at
 * data + k * block_size, k < nblocks; side[k] is block k's state and link;
 * spans[s] describes span s. Spans [0, spans_claimed) were claimed (their
 * metadata is committed and written), the rest never used.
 * Invariants (when quiescent): every claimed span is owned by exactly one
 * live cache bucket or by `shared`, or sits in the pool;
 * #USED == cache_hits + global_hits - frees (this struct plus live caches).
 * The mutable words get their own cache lines. */
typedef struct sm_bucket {
    _Alignas(SM_CACHE_LINE) unsigned char *data;
    _Atomic uint32_t *side;
    sm_span *spans;
    uint64_t magic;      /* sm_div_magic(units) */
    uint32_t nblocks;
    uint32_t block_size;
    uint32_t units;      /* block_size / 16 = bucket index + 1 */
    uint32_t nspans;
    unsigned span_shift;

    _Alignas(SM_CACHE_LINE) _Atomic uint32_t spans_claimed;

    /* Guards pool and shared: span hand-overs and threads without a cache. */
    _Alignas(SM_CACHE_LINE) sm_mutex lock;
    _Atomic uint32_t pool; /* stack of unowned spans (index + 1) */
    sm_cache_bucket shared;

    /* Uncached frees (fetch_add) and counters folded in from caches. */
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
 * shift; then the side tables and the span tables, page-aligned. */
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
 * create/destroy, allocator destroy, thread exit, stats. Cold paths only.
 * Lock order: sm_registry, then a bucket lock. */
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


static inline void ctr_add_owner(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, ctr_get(c) + n, memory_order_relaxed);
}

/* Owner-only words (list heads, span fields): plain moves for the owner,
 * still atomics so sm_check and sm_get_stats may read them meanwhile. */
static inline uint32_t own_get(_Atomic uint32_t *w)
{
    return atomic_load_explicit(w, memory_order_relaxed);
}

static inline void own_set(_Atomic uint32_t *w, uint32_t v)
{
    atomic_store_explicit(w, v, memory_order_relaxed);
}

static inline uint32_t side_get(sm_bucket *b, uint32_t k)
{
    return atomic_load_explicit(&b->side[k], memory_order_relaxed);
}

static inline void side_set(sm_bucket *b, uint32_t k, uint32_t v)
{
    atomic_store_explicit(&b->side[k], v, memory_order_relaxed);
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

/* ---- spans ------------------------------------------------------------- */

static inline void *block_ptr(sm_bucket *b, uint32_t k)
{
    return b->data + (size_t)k * b->block_size;
}

static inline uint32_t span_first(sm_bucket *b, uint32_t s)
{
    return s << b->span_shift;
}

/* Blocks of span s: 2^span_shift, fewer for the bucket's last span. */
static inline uint32_t span_capacity(sm_bucket *b, uint32_t s)
{
    uint32_t left = b->nblocks - span_first(b, s);
    uint32_t full = (uint32_t)1 << b->span_shift;
    return left < full ? left : full;
}

static inline uintptr_t owner_token(sm_cache_bucket *cb)
{
    return (uintptr_t)cb;
}

/* Whether block k was handed out at least once, so its side word exists
 * (committed, written) and means something. */
static inline bool block_handed_out(sm_bucket *b, uint32_t k)
{
    if (k >= b->nblocks) return false;
    uint32_t s = k >> b->span_shift;
    if (s >= atomic_load_explicit(&b->spans_claimed, memory_order_acquire)) return false;
    return k - span_first(b, s) < own_get(&b->spans[s].fresh);
}

/* Bucket and block index of p without division: a shift finds the bucket,
 * the reciprocal the block, and k * units == n proves p is a block start.
 * 1 when p is a block handed out at least once (in any state); 0 when p is
 * inside the pool but not such a block; -1 when p is outside the pool. */
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
    *bucket = i;
    *block = k;
    return block_handed_out(b, k) ? 1 : 0;
}

#if SM_OS_LAZY_COMMIT
/* Windows: a committed page counts against the system commit limit even if
 * it is never touched, so committing whole buckets at create would charge
 * the whole pool (65 GiB for 64 buckets of 1 GiB) and fail on most machines.
 * Instead a span's blocks, side words and metadata are committed by the
 * thread that claims it, before the claim is published. Racing claimers may
 * commit the same pages twice, which VirtualAlloc allows. Cold path. */
static bool span_commit(sm_bucket *b, uint32_t s)
{
    size_t first = span_first(b, s), n = span_capacity(b, s);
    return sm_os_commit(b->data + first * b->block_size, n * b->block_size) &&
           sm_os_commit((void *)(b->side + first), n * sizeof *b->side) &&
           sm_os_commit((void *)&b->spans[s], sizeof(sm_span));
}
#else
static inline bool span_commit(sm_bucket *b, uint32_t s)
{
    (void)b; /* POSIX: the reservation is readable and writable already */
    (void)s;
    return true;
}
#endif

/* Claims a never-used span (its metadata is all zero); false when every
 * span was claimed or the commit failed. */
static bool span_claim_fresh(sm_bucket *b, uint32_t *out)
{
    uint32_t s = atomic_load_explicit(&b->spans_claimed, memory_order_relaxed);
    do {
        if (s >= b->nspans || !span_commit(b, s)) return false;
    } while (!atomic_compare_exchange_weak_explicit(&b->spans_claimed, &s, s + 1,
                                                    memory_order_acq_rel,
                                                    memory_order_relaxed));
    *out = s;
    return true;
}

/* Links up to `want` never-used blocks of span s, lowest address first, in
 * front of the list *list; how many. Writes side words only: a block's page
 * is touched when it is used. Owner only. */
static uint32_t span_carve(sm_bucket *b, uint32_t s, uint32_t want, _Atomic uint32_t *list)
{
    sm_span *sp = &b->spans[s];
    uint32_t fresh = own_get(&sp->fresh), left = span_capacity(b, s) - fresh;
    uint32_t n = left < want ? left : want;
    if (n == 0) return 0;
    uint32_t k0 = span_first(b, s) + fresh;
    for (uint32_t j = 0; j + 1 < n; ++j) side_set(b, k0 + j, k0 + j + 2);
    side_set(b, k0 + n - 1, own_get(list));
    own_set(list, k0 + 1);
    own_set(&sp->fresh, fresh + n);
    return n;
}

/* Pushes the chain first -> ... -> last of n claimed blocks of one span
 * onto the span's remote list with one CAS. The release CAS publishes the
 * links and the blocks' last contents to the owner's acquire exchange. */
static void span_push_remote_chain(sm_bucket *b, sm_span *sp, uint32_t first, uint32_t last,
                                   uint32_t n)
{
    uint64_t head = atomic_load_explicit(&sp->remote, memory_order_relaxed);
    uint64_t next;
    do {
        side_set(b, last, (uint32_t)head);
        next = (((head >> 32) + n) << 32) | (uint64_t)(first + 1);
        SM_HOOK(SM_HOOK_REMOTE_PUSH_WINDOW);
    } while (!atomic_compare_exchange_weak_explicit(&sp->remote, &head, next,
                                                    memory_order_release,
                                                    memory_order_relaxed));
}

/* A remote free's second step (block k already claimed, FREE_MARK): push
 * it onto its span's remote list. The release CAS publishes the link and
 * the block's last contents to the owner's acquire exchange. */
static void span_push_remote(sm_bucket *b, sm_span *sp, uint32_t k)
{
    span_push_remote_chain(b, sp, k, k, 1);
}

/* Takes the span's remote list whole (one exchange: nothing is popped one
 * by one, so there is no ABA) and puts it in front of *list; how many
 * blocks came home. Only a non-empty *list costs a walk (to its end). Owner
 * only. */
static uint32_t span_collect_remote(sm_bucket *b, sm_span *sp, _Atomic uint32_t *list)
{
    if (atomic_load_explicit(&sp->remote, memory_order_relaxed) == 0) return 0;
    uint64_t taken = atomic_exchange_explicit(&sp->remote, 0, memory_order_acquire);
    uint32_t chain = (uint32_t)taken, n = (uint32_t)(taken >> 32);
    if (chain == 0) return 0;
    uint32_t old = own_get(list);
    if (old != 0) {
        uint32_t last = chain - 1;
        for (uint32_t link = side_get(b, last); link != 0; link = side_get(b, last)) last = link - 1;
        side_set(b, last, old);
    }
    own_set(list, chain);
    return n;
}

static uint32_t list_length(sm_bucket *b, uint32_t link)
{
    uint32_t n = 0;
    for (; link != 0; link = side_get(b, link - 1)) n++;
    return n;
}

/* Pushes cb's pending remote frees home. Owner only. */
static void pending_flush(sm_bucket *b, sm_cache_bucket *cb)
{
    uint32_t span = own_get(&cb->pend_span);
    if (span == 0) return;
    span_push_remote_chain(b, &b->spans[span - 1], own_get(&cb->pend_head) - 1, cb->pend_tail,
                           own_get(&cb->pend_count));
    own_set(&cb->pend_span, 0);
    own_set(&cb->pend_head, 0);
    own_set(&cb->pend_count, 0);
}

/* ---- an owner's spans: the ring, the current span, the pool ----------- */

/* Free blocks on cb's local lists (see sm_cache_bucket). */
static inline uint64_t owner_cached(sm_cache_bucket *cb)
{
    return ctr_get(&cb->supply) + ctr_get(&cb->frees) - ctr_get(&cb->hits) - ctr_get(&cb->misses);
}

/* Adds span s to cb's ring, just behind the ring's start. */
static void ring_insert(sm_bucket *b, sm_cache_bucket *cb, uint32_t s)
{
    sm_span *sp = &b->spans[s];
    uint32_t h = own_get(&cb->ring);
    if (h == 0) {
        own_set(&sp->next, s + 1);
        own_set(&sp->prev, s + 1);
        own_set(&cb->ring, s + 1);
    } else {
        sm_span *head = &b->spans[h - 1];
        uint32_t t = own_get(&head->prev);
        own_set(&sp->next, h);
        own_set(&sp->prev, t);
        own_set(&b->spans[t - 1].next, s + 1);
        own_set(&head->prev, s + 1);
    }
    own_set(&cb->nowned, own_get(&cb->nowned) + 1);
}

static void ring_remove(sm_bucket *b, sm_cache_bucket *cb, uint32_t s)
{
    sm_span *sp = &b->spans[s];
    uint32_t n = own_get(&sp->next), p = own_get(&sp->prev);
    if (n == s + 1) {
        own_set(&cb->ring, 0);
    } else {
        own_set(&b->spans[p - 1].next, n);
        own_set(&b->spans[n - 1].prev, p);
        if (own_get(&cb->ring) == s + 1) own_set(&cb->ring, n);
    }
    own_set(&sp->next, 0);
    own_set(&sp->prev, 0);
    own_set(&cb->nowned, own_get(&cb->nowned) - 1);
}

/* Makes span s (owned, its local list in the span) cb's current span: its
 * local list becomes cb's head. cb has no current span. */
static void cur_set(sm_bucket *b, sm_cache_bucket *cb, uint32_t s)
{
    sm_span *sp = &b->spans[s];
    own_set(&cb->head, own_get(&sp->local));
    own_set(&sp->local, 0);
    own_set(&sp->local_count, 0);
    own_set(&cb->cur, s + 1);
    own_set(&cb->cur_lo, span_first(b, s));
    own_set(&cb->cur_hi, span_first(b, s) + own_get(&sp->fresh));
}

/* The current span stops being current: cb's head goes back into it. */
static void cur_park(sm_bucket *b, sm_cache_bucket *cb)
{
    uint32_t cur = own_get(&cb->cur);
    if (cur == 0) return;
    sm_span *sp = &b->spans[cur - 1];
    uint32_t head = own_get(&cb->head);
    own_set(&sp->local, head);
    own_set(&sp->local_count, list_length(b, head));
    own_set(&cb->head, 0);
    own_set(&cb->cur, 0);
    own_set(&cb->cur_hi, 0);
    own_set(&cb->cur_lo, 0);
}

static inline void pool_lock(sm_bucket *b, sm_cache_bucket *cb)
{
    if (cb != &b->shared) sm_mutex_lock(&b->lock); /* the shared owner holds it */
}

static inline void pool_unlock(sm_bucket *b, sm_cache_bucket *cb)
{
    if (cb != &b->shared) sm_mutex_unlock(&b->lock);
}

/* Moves owned span s, lists intact, from cb's ring to the pool. Caller
 * holds the bucket lock. */
static void span_to_pool_locked(sm_bucket *b, sm_cache_bucket *cb, uint32_t s)
{
    sm_span *sp = &b->spans[s];
    ring_remove(b, cb, s);
    ctr_add_owner(&cb->supply, (uint64_t)0 - own_get(&sp->local_count));
    atomic_store_explicit(&sp->owner, 0, memory_order_relaxed);
    own_set(&sp->next, own_get(&b->pool));
    own_set(&b->pool, s + 1);
}

/* Span s (not current) became entirely free: give it to the bucket so that
 * other threads can use its blocks. */
static void span_release(sm_bucket *b, sm_cache_bucket *cb, uint32_t s)
{
    pool_lock(b, cb);
    span_to_pool_locked(b, cb, s);
    pool_unlock(b, cb);
}

/* Takes a span from the pool onto cb's ring; false when the pool is empty. */
static bool span_adopt(sm_bucket *b, sm_cache_bucket *cb, uint32_t *out)
{
    pool_lock(b, cb);
    uint32_t top = own_get(&b->pool);
    if (top != 0) {
        sm_span *sp = &b->spans[top - 1];
        own_set(&b->pool, own_get(&sp->next));
        own_set(&sp->next, 0);
        atomic_store_explicit(&sp->owner, owner_token(cb), memory_order_relaxed);
    }
    pool_unlock(b, cb);
    if (top == 0) return false;
    ring_insert(b, cb, top - 1);
    ctr_add_owner(&cb->supply, own_get(&b->spans[top - 1].local_count));
    *out = top - 1;
    return true;
}

/* Gives every span of cb to the pool, lists intact (cache destroy, thread
 * exit). Remote frees to them keep arriving; an adopter takes them home. */
static void owner_abandon(sm_bucket *b, sm_cache_bucket *cb)
{
    pending_flush(b, cb);
    cur_park(b, cb);
    pool_lock(b, cb);
    for (uint32_t r = own_get(&cb->ring); r != 0; r = own_get(&cb->ring))
        span_to_pool_locked(b, cb, r - 1);
    pool_unlock(b, cb);
}

/* Span s of cb (not current) becomes current if it has a free block: its
 * remote list is taken home first, fresh blocks carved when it has none. */
static bool span_try_current(sm_bucket *b, sm_cache_bucket *cb, uint32_t s)
{
    sm_span *sp = &b->spans[s];
    uint32_t have = own_get(&sp->local_count), got = 0;
    if (have == 0) { /* free blocks at hand: the remote list can wait */
        got = span_collect_remote(b, sp, &sp->local);
        have = got;
    }
    if (have == 0) {
        got = span_carve(b, s, cb->carve, &sp->local);
        have = got;
    }
    own_set(&sp->local_count, have);
    ctr_add_owner(&cb->supply, got);
    if (have == 0) return false;
    cur_set(b, cb, s);
    return true;
}

/* The shared owner (threads without a cache) never frees locally, so its
 * spans would never become free by themselves: when a cache finds the
 * bucket dry, it takes the shared owner's remote lists home on its behalf
 * (the shared owner's state is guarded by the bucket lock) and moves every
 * span of it that is entirely free to the pool. Cold path. */
static void shared_trim(sm_bucket *b)
{
    sm_cache_bucket *sh = &b->shared;
    sm_mutex_lock(&b->lock);
    cur_park(b, sh);
    for (uint32_t step = 0, n = own_get(&sh->nowned); step < n; ++step) {
        uint32_t s = own_get(&sh->ring) - 1;
        sm_span *sp = &b->spans[s];
        own_set(&sh->ring, own_get(&sp->next));
        uint32_t got = span_collect_remote(b, sp, &sp->local);
        own_set(&sp->local_count, own_get(&sp->local_count) + got);
        ctr_add_owner(&sh->supply, got);
        if (own_get(&sp->local_count) == own_get(&sp->fresh)) span_to_pool_locked(b, sh, s);
    }
    sm_mutex_unlock(&b->lock);
}

/* Refills cb's empty head: the current span's remote list, else its fresh
 * blocks, else the next span of the ring that has free blocks, else a span
 * adopted from the pool, else a never-used span. false: the bucket has no
 * block this owner can take (exhausted). */
NALLOC_NOINLINE static bool owner_refill(sm_bucket *b, sm_cache_bucket *cb)
{
    pending_flush(b, cb); /* a slow path anyway: bound how long frees wait */
    uint32_t cur = own_get(&cb->cur);
    if (cur != 0) {
        uint32_t s = cur - 1;
        uint32_t got = span_collect_remote(b, &b->spans[s], &cb->head);
        if (got == 0) {
            got = span_carve(b, s, cb->carve, &cb->head);
            own_set(&cb->cur_hi, span_first(b, s) + own_get(&b->spans[s].fresh));
        }
        if (got != 0) {
            ctr_add_owner(&cb->supply, got);
            return true;
        }
        cur_park(b, cb);
    }
    /* One turn of the ring: each visit moves the ring's start past the
     * span, so full spans are not asked first again next time. */
    for (uint32_t step = 0, n = own_get(&cb->nowned); step < n; ++step) {
        uint32_t s = own_get(&cb->ring) - 1;
        own_set(&cb->ring, own_get(&b->spans[s].next));
        if (span_try_current(b, cb, s)) return true;
    }
    uint32_t s;
    while (span_adopt(b, cb, &s))
        if (span_try_current(b, cb, s)) return true;
    if (span_claim_fresh(b, &s)) {
        atomic_store_explicit(&b->spans[s].owner, owner_token(cb), memory_order_relaxed);
        ring_insert(b, cb, s);
        return span_try_current(b, cb, s);
    }
    if (cb == &b->shared) return false;
    shared_trim(b);
    while (span_adopt(b, cb, &s))
        if (span_try_current(b, cb, s)) return true;
    return false;
}

/* Takes the head block of cb's current list (non-empty) and marks it USED. */
static inline void *owner_take(sm_bucket *b, sm_cache_bucket *cb, uint32_t head)
{
    uint32_t k = head - 1;
    own_set(&cb->head, side_get(b, k));
    side_set(b, k, SM_BLOCK_USED);
    return block_ptr(b, k);
}

/* An allocation by owner cb: a hit, or a refill and a miss; NULL when the
 * bucket is exhausted. */
static inline void *owner_alloc(sm_bucket *b, sm_cache_bucket *cb)
{
    uint32_t head = own_get(&cb->head);
    if (NALLOC_LIKELY(head != 0)) {
        ctr_inc_owner(&cb->hits);
        return owner_take(b, cb, head);
    }
    if (!owner_refill(b, cb)) return NULL;
    ctr_inc_owner(&cb->misses);
    return owner_take(b, cb, own_get(&cb->head));
}

/* Links free blocks onto cb's lists until it holds `target` (warmup), or
 * the bucket runs dry. */
static void owner_warm(sm_bucket *b, sm_cache_bucket *cb, uint64_t target)
{
    while (owner_cached(cb) < target) {
        uint64_t before = owner_cached(cb);
        uint32_t cur = own_get(&cb->cur);
        if (cur != 0) {
            uint32_t got = span_carve(b, cur - 1, (uint32_t)(target - before), &cb->head);
            if (got != 0) {
                own_set(&cb->cur_hi, span_first(b, cur - 1) + own_get(&b->spans[cur - 1].fresh));
                ctr_add_owner(&cb->supply, got);
                continue;
            }
        }
        /* a fresh span gets exactly the blocks still wanted */
        uint32_t carve = cb->carve;
        if (target - before < carve) cb->carve = (uint32_t)(target - before);
        bool refilled = owner_refill(b, cb);
        cb->carve = carve;
        if (!refilled || owner_cached(cb) <= before) break;
    }
}

/* Claims block k for freeing, writing `link` in place of USED: the CAS
 * fails on a block that is already free (double free, or the loser of two
 * racing frees), and then nothing has been changed. Every free path goes
 * through here so that exactly one of any number of racing frees of a block
 * wins. */
static inline bool block_claim(sm_bucket *b, uint32_t k, uint32_t link)
{
    uint32_t expected = SM_BLOCK_USED;
    SM_HOOK(SM_HOOK_CLAIM_WINDOW);
    return atomic_compare_exchange_strong_explicit(&b->side[k], &expected, link,
                                                   memory_order_relaxed, memory_order_relaxed);
}

/* A free by the owner into its current span: onto the head. */
static inline int owner_free_current(sm_bucket *b, sm_cache_bucket *cb, uint32_t k)
{
    if (!block_claim(b, k, own_get(&cb->head))) return SM_ERR_DOUBLE_FREE;
    own_set(&cb->head, k + 1);
    ctr_inc_owner(&cb->frees);
    return SM_OK;
}

/* A remote free by cache bucket cb of block k of span s: claimed onto the
 * pending chain of s (after pushing a chain of another span), pushed when
 * the batch is full. */
static int pending_free(sm_bucket *b, sm_cache_bucket *cb, uint32_t s, uint32_t k)
{
    if (own_get(&cb->pend_span) != s + 1) {
        /* claim first: a refused free must leave the pending chain alone */
        if (!block_claim(b, k, 0)) return SM_ERR_DOUBLE_FREE;
        pending_flush(b, cb);
        own_set(&cb->pend_span, s + 1);
        cb->pend_tail = k;
        own_set(&cb->pend_count, 1);
    } else {
        if (!block_claim(b, k, own_get(&cb->pend_head))) return SM_ERR_DOUBLE_FREE;
        own_set(&cb->pend_count, own_get(&cb->pend_count) + 1);
    }
    own_set(&cb->pend_head, k + 1);
    ctr_inc_owner(&cb->frees);
    ctr_add_owner(&cb->supply, (uint64_t)0 - 1); /* counted as freed, not on our lists */
    if (own_get(&cb->pend_count) >= SM_REMOTE_BATCH) pending_flush(b, cb);
    return SM_OK;
}

/* Frees block k (handed out) for a caller whose bucket owner is cb (NULL:
 * a thread without a cache): locally when cb owns the span, else onto the
 * span's remote list. */
NALLOC_NOINLINE static int block_free(sm_bucket *b, sm_cache_bucket *cb, uint32_t k)
{
    uint32_t s = k >> b->span_shift;
    sm_span *sp = &b->spans[s];
    if (cb != NULL && atomic_load_explicit(&sp->owner, memory_order_relaxed) == owner_token(cb)) {
        if (own_get(&cb->cur) == s + 1) return owner_free_current(b, cb, k);
        if (!block_claim(b, k, own_get(&sp->local))) return SM_ERR_DOUBLE_FREE;
        own_set(&sp->local, k + 1);
        uint32_t count = own_get(&sp->local_count) + 1;
        own_set(&sp->local_count, count);
        ctr_inc_owner(&cb->frees);
        if (count == own_get(&sp->fresh)) span_release(b, cb, s);
        else if (count == 1) own_set(&cb->ring, s + 1); /* ask it first next refill */
        return SM_OK;
    }
    if (cb != NULL) return pending_free(b, cb, s, k);
    if (!block_claim(b, k, SM_BLOCK_FREE_MARK)) return SM_ERR_DOUBLE_FREE;
    span_push_remote(b, sp, k);
    ctr_add_shared(&b->frees, 1);
    return SM_OK;
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

/* The memo alone, for the hit paths: NULL when it names no cache of `a`
 * (the slow path then looks the cache up). No call, so the hit paths need
 * no saved registers. */
static inline sm_cache *cache_memo(struct sm_allocator_s *a)
{
    return NALLOC_LIKELY(sm_tls.memo_id == a->id) ? sm_tls.memo : NULL;
}


/* Gives a live cache's spans and counters back to its allocator and unlinks
 * it from the allocator. Caller holds sm_registry, c is not orphaned. */
static void cache_retire_locked(sm_cache *c)
{
    struct sm_allocator_s *a = c->alloc;
    for (uint32_t i = 0; i < c->bucket_count; ++i) {
        sm_cache_bucket *cb = &c->b[i];
        sm_bucket *b = &a->buckets[i];
        owner_abandon(b, cb);
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

static void owner_init(sm_cache_bucket *cb, uint32_t carve)
{
    memset(cb, 0, sizeof *cb);
    cb->carve = carve;
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
    size_t side_bytes[SM_MAX_BUCKETS], span_bytes[SM_MAX_BUCKETS];
    unsigned shift[SM_MAX_BUCKETS];
    size_t total = data_span;
    for (size_t i = 0; i < bucket_count; ++i) {
        size_t bs = SM_BLOCK_GRANULE * (i + 1);
        size_t nblocks = bucket_size_bytes / bs;
        shift[i] = 0;
        while (((size_t)2 << shift[i]) * bs <= SM_SPAN_BYTES) ++shift[i];
        size_t nspans = (nblocks + ((size_t)1 << shift[i]) - 1) >> shift[i];
        side_bytes[i] = round_up(nblocks * sizeof(uint32_t), SM_PAGE);
        span_bytes[i] = round_up(nspans * sizeof(sm_span), SM_PAGE);
        if (total + side_bytes[i] + span_bytes[i] < total) return NULL;
        total += side_bytes[i] + span_bytes[i];
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
     * none of its pool resident. The span tables read as zero (no owner,
     * nothing handed out) until a span is claimed. */
    unsigned char *meta = mem + data_span;
    bool committed = true;
    for (size_t i = 0; i < bucket_count; ++i) {
        sm_bucket *b = &a->buckets[i];
        b->units = (uint32_t)(i + 1);
        b->block_size = SM_BLOCK_GRANULE * b->units;
        b->nblocks = (uint32_t)(bucket_size_bytes / b->block_size);
        b->magic = sm_div_magic(b->units);
        b->span_shift = shift[i];
        b->nspans = (uint32_t)((b->nblocks + ((size_t)1 << shift[i]) - 1) >> shift[i]);
        b->data = mem + (i << stride_log2);
        b->side = (_Atomic uint32_t *)(void *)meta;
        b->spans = (sm_span *)(void *)(meta + side_bytes[i]);
#if !SM_OS_LAZY_COMMIT
        committed = committed &&
                    sm_os_commit(b->data, round_up((size_t)b->nblocks * b->block_size, SM_PAGE)) &&
                    sm_os_commit(meta, side_bytes[i] + span_bytes[i]);
#endif
        meta += side_bytes[i] + span_bytes[i];
        atomic_init(&b->spans_claimed, 0);
        sm_mutex_init(&b->lock);
        atomic_init(&b->pool, 0);
        owner_init(&b->shared, 1); /* one block per refill: uncached use touches no more */
        atomic_init(&b->global_hits, 0);
        atomic_init(&b->cache_hits, 0);
        atomic_init(&b->frees, 0);
        atomic_init(&b->fallbacks, 0);
    }
    if (!committed) {
        sm_os_release(mem, total);
        for (size_t i = 0; i < bucket_count; ++i) sm_mutex_destroy(&a->buckets[i].lock);
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
    for (uint32_t i = 0; i < a->bucket_count; ++i) sm_mutex_destroy(&a->buckets[i].lock);
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
    for (uint32_t i = 0; i < a->bucket_count; ++i) {
        sm_bucket *b = &a->buckets[i];
        size_t n = cache_bytes_per_bucket / b->block_size;
        if (n == 0) n = 1;
        if (n > span_capacity(b, 0)) n = span_capacity(b, 0);
        cap[i] = (uint32_t)n;
    }
    sm_cache *c = (sm_cache *)malloc(sizeof(sm_cache) + a->bucket_count * sizeof(sm_cache_bucket));
    if (c == NULL) return;
    c->alloc_id = a->id;
    c->alloc = a;
    atomic_init(&c->orphaned, 0);
    c->thread_next = sm_tls.list;
    c->alloc_prev = NULL;
    c->bucket_count = a->bucket_count;
    for (uint32_t i = 0; i < a->bucket_count; ++i) owner_init(&c->b[i], (cap[i] + 1) >> 1);
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
        if (target != 0) owner_warm(&a->buckets[i], &c->b[i], target);
    }
}

int sm_allocator_thread_cache_exists(sm_allocator a)
{
    return a != NULL && cache_of(a) != NULL;
}

/* The protocol is documented in smmalloc.h; the addresses handed out are
 * those of the very fields owner_alloc and owner_free_current use, so a
 * binding's hit path and C's stay one cache. */
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
    for (size_t j = 0; j < SM_LAYOUT_HEADER && j < len; ++j) out[j] = header[j];
    for (uint32_t i = 0; i < a->bucket_count; ++i) {
        sm_bucket *b = &a->buckets[i];
        sm_cache_bucket *cb = &c->b[i];
        uint64_t v[SM_LAYOUT_BUCKET] = { 0 };
        v[SM_LAYOUT_HEAD] = (uint64_t)(uintptr_t)&cb->head;
        v[SM_LAYOUT_CUR_LO] = (uint64_t)(uintptr_t)&cb->cur_lo;
        v[SM_LAYOUT_CUR_HI] = (uint64_t)(uintptr_t)&cb->cur_hi;
        v[SM_LAYOUT_DATA] = (uint64_t)(uintptr_t)b->data;
        v[SM_LAYOUT_BLOCK_SIZE] = b->block_size;
        v[SM_LAYOUT_SIDE] = (uint64_t)(uintptr_t)b->side;
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

/* Threads without a cache share the bucket's `shared` owner, one at a time. */
NALLOC_NOINLINE static void *bucket_alloc_uncached(sm_bucket *b)
{
    sm_mutex_lock(&b->lock);
    void *p = owner_alloc(b, &b->shared);
    sm_mutex_unlock(&b->lock);
    return p;
}

/* A block of bucket i, through the calling thread's cache or the bucket's
 * shared owner; NULL when the bucket is exhausted. */
static void *bucket_alloc(struct sm_allocator_s *a, uint32_t i)
{
    sm_bucket *b = &a->buckets[i];
    sm_cache *c = cache_of(a);
    return c == NULL ? bucket_alloc_uncached(b) : owner_alloc(b, &c->b[i]);
}

/* Everything but a cache hit: refills, threads without a cache, the
 * fallback, invalid requests (i is bucket_select's answer). */
NALLOC_NOINLINE static void *malloc_slow(struct sm_allocator_s *a, size_t bytes,
                                         size_t alignment, int32_t i)
{
    if (i >= 0) {
        void *p = bucket_alloc(a, (uint32_t)i);
        if (NALLOC_LIKELY(p != NULL)) return p;
        ctr_add_shared(&a->buckets[i].fallbacks, 1);
    } else if (i == SM_SEL_INVALID) {
        return NULL;
    }
    return fallback_alloc(a, bytes, alignment);
}

/* The hit path pops the current span's local list with plain (relaxed)
 * accesses and marks the block USED; everything else is malloc_slow's. */
void *sm_malloc(sm_allocator a, size_t bytes, size_t alignment)
{
    if (NALLOC_UNLIKELY(a == NULL)) return NULL;
    int32_t i = bucket_select(a, bytes, &alignment);
    sm_cache *c = cache_memo(a);
    if (NALLOC_LIKELY(i >= 0 && c != NULL)) {
        sm_cache_bucket *cb = &c->b[i];
        uint32_t head = own_get(&cb->head);
        if (NALLOC_LIKELY(head != 0)) {
            ctr_inc_owner(&cb->hits);
            return owner_take(&a->buckets[i], cb, head);
        }
    }
    return malloc_slow(a, bytes, alignment, i);
}

/* The one free path for a single pointer: c is the caller's cache (NULL:
 * none). Locally when c owns the block's span, else remotely. */
static int free_one(struct sm_allocator_s *a, void *p, sm_cache *c)
{
    uint32_t i, k;
    int where = locate(a, p, &i, &k);
    if (NALLOC_LIKELY(where > 0)) return block_free(&a->buckets[i], c ? &c->b[i] : NULL, k);
    if (where == 0) return SM_ERR_NOT_OWNED;
    return fallback_release(a, p) ? SM_OK : SM_ERR_NOT_OWNED;
}

NALLOC_NOINLINE static int free_slow(struct sm_allocator_s *a, void *p)
{
    return free_one(a, p, cache_of(a));
}

/* The hit path: a block of the current span of the calling thread's cache
 * goes onto its list after the claim; everything else is free_slow's. */
int sm_free_checked(sm_allocator a, void *p)
{
    if (p == NULL) return SM_OK;
    if (a == NULL) return SM_ERR_NOT_OWNED;
    uintptr_t off = (uintptr_t)p - a->base; /* wraps for p < base */
    sm_cache *c = cache_memo(a);
    if (NALLOC_LIKELY(off < a->data_span && c != NULL)) {
        uint32_t i = (uint32_t)(off >> a->stride_log2);
        uintptr_t in = off & (((uintptr_t)1 << a->stride_log2) - 1);
        sm_bucket *b = &a->buckets[i];
        uint64_t n = (uint64_t)(in >> 4);
        uint32_t k = sm_div_exact(n, b->magic);
        sm_cache_bucket *cb = &c->b[i];
        uint32_t lo = own_get(&cb->cur_lo);
        if (NALLOC_LIKELY((in & (SM_BLOCK_GRANULE - 1)) == 0 && (uint64_t)k * b->units == n &&
                          k - lo < own_get(&cb->cur_hi) - lo))
            return owner_free_current(b, cb, k);
    }
    return free_slow(a, p);
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
    for (size_t j = 0; j < count; ++j) {
        if (ptrs[j] == NULL) continue;
        if (free_one(a, ptrs[j], c) == SM_OK) ptrs[j] = NULL;
        else ++refused;
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

/* Blocks of bucket b handed out at least once: the spans' fresh counts. */
static uint64_t bucket_touched(sm_bucket *b)
{
    uint32_t claimed = atomic_load_explicit(&b->spans_claimed, memory_order_acquire);
    uint64_t n = 0;
    for (uint32_t s = 0; s < claimed && s < b->nspans; ++s) n += own_get(&b->spans[s].fresh);
    return n;
}

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
        s->blocks_touched = bucket_touched(b);
        s->cache_hits = ctr_get(&b->cache_hits);
        s->global_hits = ctr_get(&b->global_hits) + ctr_get(&b->shared.hits) +
                         ctr_get(&b->shared.misses);
        s->fallbacks = ctr_get(&b->fallbacks);
        frees[i] = ctr_get(&b->frees);
    }
    for (sm_cache *c = a->caches; c != NULL; c = c->alloc_next) {
        out->thread_caches++;
        for (uint32_t i = 0; i < a->bucket_count; ++i) {
            sm_cache_bucket *cb = &c->b[i];
            uint64_t cached = owner_cached(cb);
            /* a racing snapshot may be off; never report a wrapped count */
            if (cached <= a->buckets[i].nblocks) out->buckets[i].blocks_cached += cached;
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

/* The walk of one bucket by sm_check: `seen` marks every block met on a
 * list (a private bitmap of nblocks bits), spans_seen every span met on a
 * ring or the pool. Reads only, every shared word with an atomic load; a
 * view torn by running threads is counted, never followed out of bounds. */
typedef struct check_walk {
    sm_bucket *b;
    uint32_t claimed;
    uint64_t *seen;
    uint64_t *spans_seen;
    uint64_t listed; /* blocks met on lists */
    int bad;
} check_walk;

static bool bit_test_set(uint64_t *bits, uint32_t j)
{
    uint64_t bit = (uint64_t)1 << (j & 63);
    bool was = (bits[j >> 6] & bit) != 0;
    bits[j >> 6] |= bit;
    return was;
}

/* Walks a free list of span s; its length, or counts it broken (a link out
 * of the span's handed-out blocks, a block met twice, a mark or USED). */
static uint32_t check_list(check_walk *w, uint32_t s, uint32_t link)
{
    sm_bucket *b = w->b;
    uint32_t first = span_first(b, s), fresh = own_get(&b->spans[s].fresh), n = 0;
    if (fresh > span_capacity(b, s)) fresh = span_capacity(b, s); /* stay in the bitmap */
    while (link != 0) {
        uint32_t k = link - 1;
        if (k - first >= fresh || bit_test_set(w->seen, k)) {
            w->bad++;
            break;
        }
        n++;
        link = side_get(b, k);
        if (link == SM_BLOCK_USED || link == SM_BLOCK_FREE_MARK) {
            w->bad++;
            break;
        }
    }
    w->listed += n;
    return n;
}

/* A span met on a ring or on the pool: a claimed span, met once. */
static bool check_span_once(check_walk *w, uint32_t s)
{
    if (s >= w->claimed || bit_test_set(w->spans_seen, s)) {
        w->bad++;
        return false;
    }
    return true;
}

/* The remote list and (unless current) the local list of span s. */
static uint32_t check_span_lists(check_walk *w, uint32_t s, bool current)
{
    sm_span *sp = &w->b->spans[s];
    if (own_get(&sp->fresh) > span_capacity(w->b, s)) w->bad++;
    uint64_t remote = atomic_load_explicit(&sp->remote, memory_order_relaxed);
    if (check_list(w, s, (uint32_t)remote) != (uint32_t)(remote >> 32)) w->bad++;
    if (current) {
        if (own_get(&sp->local) != 0 || own_get(&sp->local_count) != 0) w->bad++;
        return 0;
    }
    uint32_t n = check_list(w, s, own_get(&sp->local));
    if (n != own_get(&sp->local_count)) w->bad++;
    return n;
}

/* Owner cb's ring, current span and head; the blocks on its local lists
 * must match its counters. */
static void check_owner(check_walk *w, sm_cache_bucket *cb)
{
    sm_bucket *b = w->b;
    uint32_t cur = own_get(&cb->cur), n = own_get(&cb->nowned), steps = 0;
    uint64_t local = 0;
    bool cur_met = false, closed = false;
    uint32_t start = own_get(&cb->ring);
    if ((start == 0) != (n == 0)) w->bad++;
    for (uint32_t r = start; r != 0 && steps < n; ++steps) {
        uint32_t s = r - 1;
        if (!check_span_once(w, s)) break;
        sm_span *sp = &b->spans[s];
        if (atomic_load_explicit(&sp->owner, memory_order_relaxed) != owner_token(cb)) w->bad++;
        uint32_t next = own_get(&sp->next);
        if (next == 0 || next - 1 >= w->claimed || own_get(&b->spans[next - 1].prev) != r) {
            w->bad++;
            break;
        }
        bool is_cur = r == cur;
        cur_met |= is_cur;
        local += check_span_lists(w, s, is_cur);
        r = next;
        if (r == start) {
            steps++;
            closed = true;
            break;
        }
    }
    if (n != 0 && (!closed || steps != n)) w->bad++;
    if (cur != 0) {
        uint32_t s = cur - 1;
        if (!cur_met || own_get(&cb->cur_lo) != span_first(b, s) ||
            own_get(&cb->cur_hi) != span_first(b, s) + own_get(&b->spans[s].fresh))
            w->bad++;
        else
            local += check_list(w, s, own_get(&cb->head));
    } else if (own_get(&cb->head) != 0 || own_get(&cb->cur_hi) != own_get(&cb->cur_lo)) {
        w->bad++;
    }
    if (local != owner_cached(cb)) w->bad++;
    uint32_t pend = own_get(&cb->pend_span);
    if (pend == 0) {
        if (own_get(&cb->pend_head) != 0 || own_get(&cb->pend_count) != 0) w->bad++;
    } else if (pend - 1 >= w->claimed ||
               check_list(w, pend - 1, own_get(&cb->pend_head)) != own_get(&cb->pend_count) ||
               own_get(&cb->pend_count) >= SM_REMOTE_BATCH) {
        w->bad++;
    }
}

/* Broken invariants of bucket i. Caller holds sm_registry and the bucket
 * lock (so the pool and the shared owner hold still). */
static int check_bucket(struct sm_allocator_s *a, uint32_t i, uint32_t claimed,
                        uint64_t in_use_stat, uint64_t *seen, uint64_t *spans_seen)
{
    sm_bucket *b = &a->buckets[i];
    check_walk w = {b, claimed, seen, spans_seen, 0, 0};
    if (claimed > b->nspans) return 1;
    size_t blocks = (size_t)claimed << b->span_shift;
    if (blocks > b->nblocks) blocks = b->nblocks;
    memset(seen, 0, (blocks + 63) / 64 * sizeof *seen);
    memset(spans_seen, 0, ((size_t)b->nspans + 63) / 64 * sizeof *spans_seen);
    for (sm_cache *c = a->caches; c != NULL; c = c->alloc_next) check_owner(&w, &c->b[i]);
    check_owner(&w, &b->shared);
    uint32_t steps = 0;
    for (uint32_t r = own_get(&b->pool); r != 0; r = own_get(&b->spans[r - 1].next)) {
        if (!check_span_once(&w, r - 1) || ++steps > w.claimed) break;
        if (atomic_load_explicit(&b->spans[r - 1].owner, memory_order_relaxed) != 0) w.bad++;
        (void)check_span_lists(&w, r - 1, false);
    }
    /* every claimed span met; every handed-out block USED or listed */
    uint64_t used = 0, touched = 0, free_words = 0;
    for (uint32_t s = 0; s < w.claimed; ++s) {
        if (!bit_test_set(spans_seen, s)) w.bad++;
        uint32_t first = span_first(b, s), fresh = own_get(&b->spans[s].fresh);
        if (fresh > span_capacity(b, s)) continue;
        touched += fresh;
        for (uint32_t k = first; k < first + fresh; ++k) {
            uint32_t v = side_get(b, k);
            if (v == SM_BLOCK_USED) used++;
            else free_words++;
        }
    }
    if (free_words != w.listed || used + w.listed != touched) w.bad++;
    if (used != in_use_stat) w.bad++;
    return w.bad;
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
    size_t most = 0, most_spans = 0;
    uint32_t claimed[SM_MAX_BUCKETS];
    for (uint32_t i = 0; i < a->bucket_count; ++i) {
        sm_bucket *b = &a->buckets[i];
        claimed[i] = atomic_load_explicit(&b->spans_claimed, memory_order_acquire);
        size_t blocks = claimed[i] > b->nspans ? b->nblocks : (size_t)claimed[i] << b->span_shift;
        if (blocks > b->nblocks) blocks = b->nblocks;
        if (blocks > most) most = blocks;
        if (b->nspans > most_spans) most_spans = b->nspans;
    }
    uint64_t *seen = (uint64_t *)malloc((most + 64) / 64 * sizeof *seen);
    uint64_t *spans_seen = (uint64_t *)malloc((most_spans + 64) / 64 * sizeof *spans_seen);
    if (seen == NULL || spans_seen == NULL) {
        free(seen);
        free(spans_seen);
        return SM_CHECK_NO_MEMORY;
    }
    int bad = 0;
    sm_mutex_lock(&sm_registry);
    for (uint32_t i = 0; i < a->bucket_count; ++i) {
        sm_mutex_lock(&a->buckets[i].lock);
        bad += check_bucket(a, i, claimed[i], st.buckets[i].blocks_in_use, seen, spans_seen);
        sm_mutex_unlock(&a->buckets[i].lock);
    }
    for (sm_cache *c = a->caches; c != NULL; c = c->alloc_next)
        if (c->alloc != a || c->alloc_id != a->id ||
            atomic_load_explicit(&c->orphaned, memory_order_relaxed))
            bad++;
    sm_mutex_unlock(&sm_registry);
    free(seen);
    free(spans_seen);
    return bad + check_fallback(a);
}
