/* smmalloc: a small-block bucket allocator after smmalloc (Sergey Makeev)
 * and its C# binding, whose buckets are cut into thread-owned spans with a
 * local and a remote free list each (free-list sharding, as mimalloc's
 * pages): a thread allocates from and frees into its own spans without a
 * locked instruction except the one compare-and-swap that makes double
 * frees exact, and a block freed by another thread travels home on its
 * span's remote list. smmalloc.c's header comment has the design.
 *
 * THREAD-SAFETY CONTRACT
 *  - sm_allocator_create may be called from any thread at any time.
 *  - Every other function taking an allocator is thread-safe on that
 *    allocator: any number of threads may call sm_malloc, sm_free,
 *    sm_realloc, sm_msize, ... on the same allocator at once.
 *  - sm_allocator_destroy must only be called when no thread is inside a
 *    call on that allocator and none will start one. Threads may still hold
 *    (idle) thread caches for it: those become orphans that their threads
 *    release at thread exit or on their next call into smmalloc.
 *  - A thread cache belongs to the calling thread and to one allocator:
 *    sm_allocator_thread_cache_create/_destroy act on the calling thread's
 *    cache for that allocator only. A thread that ends without destroying
 *    its caches gives their blocks back to the allocators automatically.
 *  - A block may be freed by any thread, not only the one that allocated it;
 *    the caller must make the allocation happen-before the free (as with
 *    malloc: hand the pointer over through a mutex, an atomic, ...). A free
 *    by a thread that does not own the block's span is a remote free: one
 *    CAS to claim the block, one to push it on the span's remote list (a
 *    thread with a cache pushes up to 32 frees to one span at once, and
 *    pushes what it holds back whenever it refills, frees to another span
 *    or retires its cache); the owner takes the list back when it runs out
 *    of blocks.
 *  - Threads without a cache (any number at once) share one owner per
 *    bucket: their allocations take the bucket's lock, their frees are
 *    remote frees (lock-free). A thread's cache keeps the spans it owns
 *    until it is destroyed or its thread ends; the spans then go to the
 *    bucket's pool, lists intact, and other threads adopt them. A span that
 *    is not a cache's current one goes back to the pool as soon as all its
 *    blocks are freed to it locally; blocks freed remotely wait on their
 *    span's remote list until the owner refills (an idle cache holds its
 *    spans). When a bucket looks exhausted to a cache, the free spans of the
 *    threads without a cache are moved to the pool first.
 *  - sm_check and sm_get_stats may be called at any time. sm_check only
 *    reads, so it never disturbs other threads, but its answer is only
 *    meaningful while no other thread is using the allocator (quiescent):
 *    otherwise it may count changes in flight as broken invariants.
 *    sm_get_stats then returns a snapshot whose counters may be mutually
 *    slightly out of date.
 *
 * MEMORY
 *  Bucket i (0 <= i < bucket_count) serves blocks of 16*(i+1) bytes, taken
 *  from one virtual-memory reservation that is touched only as blocks are
 *  handed out. Requests no bucket can serve (larger than the largest block,
 *  an alignment no bucket's block size is a multiple of, or the bucket is
 *  exhausted) are passed to the system's aligned allocator (the fallback);
 *  every function below works the same for bucket and fallback blocks.
 *  Alignment: 0 means SM_ALIGN_DEFAULT (16); otherwise a power of two
 *  1..SM_ALIGN_FALLBACK_MAX; anything else makes the allocation fail (NULL).
 *  Buckets serve alignments up to SM_ALIGN_MAX; larger ones (up to
 *  SM_ALIGN_FALLBACK_MAX, 1 GiB) always go to the fallback, so callers whose
 *  contract takes any power of two (C11 aligned_alloc, LWJGL) are served.
 *  Sizes: 0 yields a minimum block (non-NULL); sizes beyond PTRDIFF_MAX
 *  minus SM_ALIGN_MAX fail (NULL).
 *
 * ERRORS
 *  Nothing here prints, aborts or crashes on a bad pointer: frees of
 *  pointers the allocator does not own (foreign, interior, already freed)
 *  are refused and change nothing; the *_checked variants say why.
 */
#ifndef NALLOC_SMMALLOC_H
#define NALLOC_SMMALLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sm_allocator_s *sm_allocator;

typedef enum {
    SM_CACHE_COLD = 0, /* cache starts empty */
    SM_CACHE_WARM = 1, /* n / 2 blocks per bucket prepared (see below) */
    SM_CACHE_HOT = 2   /* n blocks per bucket prepared */
} sm_cache_warmup;

/* Limits of sm_allocator_create; arguments outside them return NULL. */
#define SM_MAX_BUCKETS 64                     /* largest block 64*16 = 1024 B */
#define SM_BUCKET_SIZE_MIN ((size_t)4096)     /* one page */
#define SM_BUCKET_SIZE_MAX ((size_t)1 << 30)  /* 1 GiB: exact block index */
#define SM_BLOCK_GRANULE 16                   /* bucket i: blocks of 16*(i+1) */
#define SM_ALIGN_DEFAULT 16
#define SM_ALIGN_MAX 4096                     /* largest alignment of a bucket block */
#define SM_ALIGN_FALLBACK_MAX ((size_t)1 << 30) /* largest alignment at all */

/* Results of sm_free_checked. */
#define SM_OK 0
#define SM_ERR_DOUBLE_FREE (-1) /* a bucket block that is already free */
#define SM_ERR_NOT_OWNED (-2)   /* not a live block start of this allocator
                                   (foreign, interior, or a fallback block
                                   already freed) */

/* Creates an allocator of bucket_count buckets (1..SM_MAX_BUCKETS) of
 * bucket_size_bytes each (SM_BUCKET_SIZE_MIN..SM_BUCKET_SIZE_MAX; bucket i
 * holds floor(bucket_size_bytes / (16*(i+1))) blocks). Reserves address
 * space only: no page of the pool is touched here. NULL on bad arguments or
 * when the reservation fails. */
sm_allocator sm_allocator_create(size_t bucket_count, size_t bucket_size_bytes);

/* Releases the pool, every live fallback block and the allocator itself.
 * NULL is ignored. See the contract above for the caches of other threads. */
void sm_allocator_destroy(sm_allocator a);

/* Gives the calling thread a cache for `a`: per bucket, the spans this
 * thread owns. n = max(1, cache_bytes_per_bucket / block size), at most a
 * span's blocks, sets how many never-used blocks are prepared at a time:
 * (n + 1) / 2 per refill, n (SM_CACHE_HOT) or n / 2 (SM_CACHE_WARM) at
 * creation, none (SM_CACHE_COLD); a cache may hold more free blocks than n
 * (those of adopted spans, blocks freed back to it). An existing cache of
 * this thread for `a` is destroyed first; cache_bytes_per_bucket == 0 only
 * destroys it. Without a cache every call takes the bucket's shared owner.
 * If memory for the cache cannot be obtained the thread simply has no cache
 * (see sm_allocator_thread_cache_exists). */
void sm_allocator_thread_cache_create(sm_allocator a, sm_cache_warmup warmup,
                                      size_t cache_bytes_per_bucket);

/* Gives the calling thread's spans for `a` to the buckets' pools (other
 * threads adopt them) and frees the cache. No-op when the thread has none. */
void sm_allocator_thread_cache_destroy(sm_allocator a);

/* 1 when the calling thread has a cache for `a`, else 0. */
int sm_allocator_thread_cache_exists(sm_allocator a);

/* A block of at least `bytes` bytes aligned to `alignment`; NULL when the
 * alignment is invalid, the size is too large, or memory is exhausted. */
void *sm_malloc(sm_allocator a, size_t bytes, size_t alignment);

/* Frees p (NULL ignored). Not-owned pointers are ignored. */
void sm_free(sm_allocator a, void *p);

/* Frees count pointers (NULL entries ignored, refused ones ignored). */
void sm_free_batch(sm_allocator a, void **ptrs, size_t count);

/* Resizes: sm_realloc(a, NULL, n, al) is sm_malloc(a, n, al). p is returned
 * unchanged when its block already holds `bytes`, meets `alignment` and is
 * where a fresh sm_malloc(a, bytes, alignment) would put it (same bucket, or
 * a fallback block at most twice the request when the request is too large
 * for any bucket); otherwise a new block gets min(old usable, bytes) bytes
 * of p's contents and p is freed. NULL (p unchanged and still valid) on
 * invalid alignment, too large a size, exhaustion, or a p this allocator
 * does not own. */
void *sm_realloc(sm_allocator a, void *p, size_t bytes, size_t alignment);

/* Usable size of the live block p (16*(i+1) for bucket i, the rounded
 * request for fallback blocks); 0 when p is not a live block of `a`. */
size_t sm_msize(sm_allocator a, void *p);

/* Bucket index of the live bucket block p; -1 for anything else (fallback
 * blocks, free blocks, foreign or interior pointers, NULL). */
int32_t sm_mbucket(sm_allocator a, void *p);

/* SM_OK when p was freed (or is NULL); SM_ERR_DOUBLE_FREE or
 * SM_ERR_NOT_OWNED otherwise, and then nothing changed. */
int sm_free_checked(sm_allocator a, void *p);

/* Frees the valid pointers of ptrs[0..count), setting each freed entry to
 * NULL and leaving refused ones in place; returns how many were refused.
 * Each block is freed as by sm_free_checked. */
size_t sm_free_batch_checked(sm_allocator a, void **ptrs, size_t count);

/* 1 when p is a live bucket block or a live fallback block of `a`, else 0. */
int sm_owns(sm_allocator a, const void *p);

size_t sm_bucket_count(sm_allocator a);    /* 0 for NULL */
size_t sm_max_block_size(sm_allocator a);  /* 16 * bucket_count, 0 for NULL */

/* Statistics, available in every build. Counters only grow, except the
 * *_in_use and blocks_cached gauges. */
typedef struct sm_bucket_stats {
    uint64_t block_size;      /* 16*(i+1) */
    uint64_t blocks_total;    /* capacity of the bucket */
    uint64_t blocks_touched;  /* blocks ever prepared for handing out (a
                                 cache prepares a few ahead); only these
                                 can have touched pages */
    uint64_t blocks_in_use;   /* allocated and not yet freed */
    uint64_t blocks_cached;   /* free, on the local lists of live thread
                                 caches' spans (not counting remote frees
                                 not yet taken home) */
    uint64_t cache_hits;      /* allocations served by a thread cache */
    uint64_t global_hits;     /* allocations after a refill of a cache's
                                 list, or by threads without a cache */
    uint64_t fallbacks;       /* allocations for this bucket that went to
                                 the fallback because it was exhausted */
} sm_bucket_stats;

typedef struct sm_stats {
    size_t bucket_count;
    sm_bucket_stats buckets[SM_MAX_BUCKETS]; /* [0, bucket_count) valid */
    uint64_t fallback_allocs;        /* all fallback allocations, any cause */
    uint64_t fallback_blocks_in_use;
    uint64_t fallback_bytes_in_use;  /* sum of their usable sizes */
    uint64_t thread_caches;          /* live thread caches for this allocator */
} sm_stats;

/* Fills *out (zeroed first). With a NULL allocator only zeroes. */
void sm_get_stats(sm_allocator a, sm_stats *out);

/* Walks every structure and returns the number of broken invariants
 * (0 = consistent; 1 for a NULL allocator), or SM_CHECK_NO_MEMORY when the
 * walk's own scratch memory (a bit per block of the largest bucket in use,
 * from malloc) cannot be had, and then nothing was checked. Safe at any
 * time; the count is meaningful only when quiescent (see the contract). */
#define SM_CHECK_NO_MEMORY (-1)
int sm_check(sm_allocator a);

/* ---- binding support: running a thread cache's hit path outside C ------
 *
 * A language binding whose calls into C are expensive (a JNI transition
 * costs more than a whole cached malloc) may run the hit path of the
 * calling thread's cache itself, with plain loads and stores on the
 * addresses below, and call sm_malloc / sm_free_checked for everything
 * else. nalloc's Java fast path (dev.nalloc.ThreadCache) does exactly this;
 * test_sm_unit.c runs the same protocol in C.
 *
 * sm_thread_cache_layout fills out[0, min(len, need)) and returns need =
 * SM_LAYOUT_HEADER + bucket_count * SM_LAYOUT_BUCKET when the calling
 * thread has a cache for `a`, else 0 (out untouched). Addresses are valid
 * until this thread's cache for `a` is destroyed or replaced
 * (sm_allocator_thread_cache_destroy/_create, thread exit) or `a` is
 * destroyed; only the owning thread may use them. Header, out[field]:
 *   BASE, DATA_SPAN, STRIDE_LOG2: address p is in bucket
 *     i = (p - BASE) >> STRIDE_LOG2 when p - BASE < DATA_SPAN (unsigned);
 *   BUCKET_COUNT; MARK_USED: the state word of a live block.
 * Bucket i, out[SM_LAYOUT_HEADER + i * SM_LAYOUT_BUCKET + field]:
 *   HEAD (address of uint32_t: the free list of the cache's current span,
 *   a link = block index + 1, 0 = empty), CUR_LO and CUR_HI (addresses of
 *   uint32_t: the current span's blocks handed out so far are the indices
 *   [*CUR_LO, *CUR_HI); both 0 when there is none), DATA, BLOCK_SIZE, SIDE
 *   (address of uint32_t[] state words, one per block: MARK_USED or a
 *   link), MAGIC, UNITS (BLOCK_SIZE / 16), HITS and FREES (addresses of
 *   uint64_t counters).
 * Hit path, owner thread only; every word is a C11 atomic that C accesses
 * relaxed, so plain aligned loads and stores (or release stores) match:
 *   malloc from bucket i: h = *HEAD; if h == 0 call sm_malloc instead;
 *     k = h - 1; *HEAD = SIDE[k]; SIDE[k] = MARK_USED; *HITS += 1;
 *     the block is DATA + k * BLOCK_SIZE.
 *   free of p in bucket i: in = (p - BASE) & ((1 << STRIDE_LOG2) - 1);
 *     refuse unless in % 16 == 0; q = in / 16; k = (q * MAGIC) >> 32
 *     (exact division by UNITS); refuse unless k * UNITS == q; unless
 *     *CUR_LO <= k < *CUR_HI call sm_free_checked instead (a block of
 *     another span: C frees it locally or remotely); else h = *HEAD and
 *     compare-and-swap SIDE[k] from MARK_USED to h (failure: double free,
 *     nothing changed); *HEAD = k + 1; *FREES += 1.
 *     Addresses outside the buckets go to sm_free_checked (fallback blocks,
 *     foreign pointers).
 * The words are the cache's own: thread exit, cache destruction and
 * sm_check see the blocks exactly as if C had moved them. */
#define SM_LAYOUT_BASE 0
#define SM_LAYOUT_DATA_SPAN 1
#define SM_LAYOUT_STRIDE_LOG2 2
#define SM_LAYOUT_BUCKET_COUNT 3
#define SM_LAYOUT_MARK_USED 4
#define SM_LAYOUT_HEADER 8
#define SM_LAYOUT_HEAD 0
#define SM_LAYOUT_CUR_LO 1
#define SM_LAYOUT_CUR_HI 2
#define SM_LAYOUT_DATA 3
#define SM_LAYOUT_BLOCK_SIZE 4
#define SM_LAYOUT_SIDE 5
#define SM_LAYOUT_MAGIC 6
#define SM_LAYOUT_UNITS 7
#define SM_LAYOUT_HITS 8
#define SM_LAYOUT_FREES 9
#define SM_LAYOUT_BUCKET 12

size_t sm_thread_cache_layout(sm_allocator a, uint64_t *out, size_t len);

#ifdef __cplusplus
}
#endif

#endif
