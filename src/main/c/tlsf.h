/* tlsf.h - Two-Level Segregated Fit heap over caller-supplied memory.
 *
 * THREAD SAFETY
 *   The heap is NOT thread-safe and takes no locks. One heap (a tlsf_t and
 *   every pool added to it) must be used by one thread at a time: a caller
 *   that shares a heap between threads serializes every call on it,
 *   including the read-only ones (tlsf_owns, tlsf_check, tlsf_stats,
 *   tlsf_walk), because tlsf_owns updates a lookup cache. Different heaps
 *   share no state and may be used concurrently. tlsf_block_size() reads
 *   only the block's own header and may be called by whichever thread owns
 *   the block, as long as no call frees or reallocates that block meanwhile.
 *
 * MEMORY
 *   The heap never allocates: tlsf_create() places the control structure
 *   and the first pool in the region it is given, tlsf_add_pool() adds more
 *   regions. Regions must be ALIGN_SIZE aligned (tlsf_align_size()) and are
 *   owned by the heap until removed or until the heap is abandoned (there is
 *   no destroy: release the memory once no block is in use).
 *
 * GUARANTEES
 *   - Every pointer returned is aligned to tlsf_align_size(): 16 bytes on
 *     64-bit targets, 8 on 32-bit (two machine words, like glibc).
 *   - A used block costs exactly one word (sizeof(size_t)) of header.
 *   - malloc, free, memalign and the in-place paths of realloc are O(1) in
 *     the number of blocks. Finding a block's pool (to validate a pointer
 *     in free/realloc/owns, or to mark a new block live) is O(1) when it is
 *     the most recently used pool and O(number of pools) otherwise, so
 *     prefer few large pools.
 *   - Freeing a block and then asking for the same size again succeeds.
 *   - tlsf_free never corrupts the heap on a double free or a foreign
 *     pointer: it ignores pointers that are not live blocks of the heap.
 *   Errors are reported by return value only; nothing is printed.
 */
#ifndef NALLOC_TLSF_H
#define NALLOC_TLSF_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest alignment tlsf_memalign accepts. Larger ones would make the
 * worst-case search size (request + align) wasteful for a heap meant for
 * small and medium blocks; page-aligned allocations should use pools. */
#define TLSF_ALIGN_MAX 4096

/* Result codes of tlsf_add_pool, tlsf_remove_pool, tlsf_free_checked.
 * 0 is success; every error is negative so it cannot be confused with an
 * invariant code of tlsf_check. */
#define TLSF_OK                0
#define TLSF_ERR_ARG         (-1) /* NULL heap or memory, memory not ALIGN_SIZE aligned, or range wraps the address space */
#define TLSF_ERR_TOO_SMALL   (-2) /* region cannot hold the pool header, its bitmap and one minimum block */
#define TLSF_ERR_TOO_BIG     (-3) /* region's single free block would exceed the largest block size */
#define TLSF_ERR_OVERLAP     (-4) /* region overlaps a pool (or the control structure) of this heap */
#define TLSF_ERR_NOT_POOL    (-5) /* address is not the start of a pool added with tlsf_add_pool */
#define TLSF_ERR_POOL_IN_USE (-6) /* pool still holds a used block */
#define TLSF_ERR_FIRST_POOL  (-7) /* the pool made by tlsf_create holds the control structure */
#define TLSF_ERR_NOT_OWNED   (-8) /* pointer is not a live block of this heap (double free, interior or foreign) */

/* Codes returned by tlsf_check: the first broken invariant found, checked
 * in this order. tlsf_invariant_name() turns each into a sentence. */
enum tlsf_invariant {
    TLSF_INV_OK = 0,
    TLSF_INV_BITMAP_FL,      /* first-level bit set exactly when its second-level map is non-zero */
    TLSF_INV_BITMAP_SL,      /* second-level bit set exactly when its free list is non-empty */
    TLSF_INV_LIST_FOREIGN,   /* every free-list entry is a block position inside a pool */
    TLSF_INV_LIST_LINKS,     /* prev_free of each entry is its predecessor; lists are finite */
    TLSF_INV_LIST_NOT_FREE,  /* every free-list entry is marked free */
    TLSF_INV_LIST_MAPPING,   /* every free-list entry's size maps to that list */
    TLSF_INV_BLOCK_SIZE,     /* block sizes aligned, >= minimum, inside the pool */
    TLSF_INV_SENTINEL,       /* each pool ends with a used size-0 sentinel block */
    TLSF_INV_ADJACENT_FREE,  /* no two physically adjacent free blocks */
    TLSF_INV_PREV_FREE,      /* PREV_FREE flag equals the previous block's FREE flag */
    TLSF_INV_FREE_FLAGS,     /* a free block carries no ALIGNED flag */
    TLSF_INV_BACK_LINK,      /* the successor of a free block links back to it */
    TLSF_INV_LIVE_BITMAP,    /* live bits set exactly at used payload starts */
    TLSF_INV_FREE_NOT_LISTED,/* every free block found by the walk is in a list */
    TLSF_INV_STATS,          /* incremental counters equal the walk's totals */
    TLSF_INV_COUNT           /* number of codes, not an invariant */
};

/* Bytes are usable payload bytes (what tlsf_block_size reports), so
 * pool_bytes - used_bytes - free_bytes is the heap's overhead: control
 * structure, pool headers, live bitmaps, one header word per block,
 * sentinels and alignment padding. */
typedef struct tlsf_stats {
    size_t pool_bytes;         /* sum of the sizes given to tlsf_create and tlsf_add_pool */
    size_t used_bytes;         /* sum of tlsf_block_size() over used blocks */
    size_t free_bytes;         /* sum of the payload bytes of free blocks */
    size_t largest_free_block; /* payload bytes of the largest free block, 0 if none */
    size_t used_blocks;        /* blocks handed out and not yet freed */
    size_t free_blocks;        /* free blocks (after coalescing) */
} tlsf_stats_t;

typedef struct tlsf_control *tlsf_t;
/* A pool is named by the address given to tlsf_add_pool (or returned by
 * tlsf_get_pool for the pool made by tlsf_create). */
typedef void *tlsf_pool_t;
/* ptr is the payload address, size its usable bytes, used 1 or 0. The
 * walker must not call into the heap it is walking. */
typedef void (*tlsf_walker)(void *ptr, size_t size, int used, void *user);

/* Control structure and first pool in one region. NULL if mem is NULL or
 * not tlsf_align_size() aligned, if the region cannot hold the control
 * structure plus a pool with one minimum block, or if the pool would be
 * too big (TLSF_ERR_TOO_BIG of tlsf_add_pool). For a heap that must serve
 * a request of n bytes: tlsf_size() + tlsf_pool_size_for(n, align). */
tlsf_t tlsf_create(void *mem, size_t bytes);
/* Adds a region as a new pool; 0 or a TLSF_ERR_* code (nothing changed).
 * The pool header and live bitmap are carved from the region's start.
 * A region whose single free block would exceed tlsf_block_size_max() is
 * rejected with TLSF_ERR_TOO_BIG: split such regions into several pools. */
int    tlsf_add_pool(tlsf_t t, void *mem, size_t bytes);
/* Removes a pool added with tlsf_add_pool when none of its blocks is used;
 * 0 or TLSF_ERR_NOT_POOL / TLSF_ERR_POOL_IN_USE / TLSF_ERR_FIRST_POOL. */
int    tlsf_remove_pool(tlsf_t t, void *mem);
/* The pool made by tlsf_create (to walk it). */
tlsf_pool_t tlsf_get_pool(tlsf_t t);

/* A block of at least bytes usable bytes, or NULL. malloc(0) returns a
 * unique minimum-size block that must be freed like any other. A request
 * above tlsf_block_size_max() (SIZE_MAX included) returns NULL without any
 * arithmetic that could wrap. */
void  *tlsf_malloc(tlsf_t t, size_t bytes);
/* As tlsf_malloc, aligned to align. NULL if align is not a power of two
 * (0 included) or exceeds TLSF_ALIGN_MAX; align <= tlsf_align_size() is
 * plain tlsf_malloc. The block remembers that it was aligned, so
 * tlsf_realloc keeps at least this alignment when it has to move it. */
void  *tlsf_memalign(tlsf_t t, size_t align, size_t bytes);
/* Resizes ptr. realloc(NULL, n) is malloc(n). realloc(p, 0) shrinks p in
 * place to a minimum-size block and returns p (it does not free it).
 * Shrinking and growing happen in place when the next block allows it;
 * otherwise a block that was not memalign'd may slide into a free previous
 * block (data moved with memmove); otherwise a new block is allocated, the
 * data copied and ptr freed. Returns NULL and leaves ptr untouched when
 * there is no room, when bytes is too big, or when ptr is not a live
 * block of the heap. */
void  *tlsf_realloc(tlsf_t t, void *ptr, size_t bytes);
/* Frees ptr; NULL and pointers that are not live blocks of this heap
 * (double free, interior or foreign pointer) are ignored. */
void   tlsf_free(tlsf_t t, void *ptr);
/* As tlsf_free but says what happened: 0 when freed or ptr is NULL,
 * TLSF_ERR_NOT_OWNED (heap unchanged) otherwise. */
int    tlsf_free_checked(tlsf_t t, void *ptr);
/* 1 if ptr is the address of a live block of this heap, else 0. Reads only
 * the heap's control structure, pool headers and live bitmaps, never the
 * memory at ptr, so any pointer value is safe to ask about. */
int    tlsf_owns(tlsf_t t, const void *ptr);

/* Usable bytes of a live block (>= the size requested); 0 for NULL. */
size_t tlsf_block_size(const void *ptr);

/* 0 when every invariant holds, else the first broken one (enum
 * tlsf_invariant), or TLSF_ERR_ARG for a NULL heap. Walks every block. */
int    tlsf_check(tlsf_t t);
/* A short sentence naming an invariant code (or "unknown invariant"). */
const char *tlsf_invariant_name(int code);
/* O(1) counters plus one free list scanned for the largest block. */
void   tlsf_stats(tlsf_t t, tlsf_stats_t *out);
/* Visits every block of one pool / of every pool, in address order within
 * a pool and in the order the pools were added. */
void   tlsf_walk_pool(tlsf_pool_t pool, tlsf_walker fn, void *user);
void   tlsf_walk(tlsf_t t, tlsf_walker fn, void *user);

/* Bytes tlsf_create uses for the control structure before the first pool. */
size_t tlsf_size(void);
/* Alignment of every block: 2 * sizeof(size_t). */
size_t tlsf_align_size(void);
/* Usable bytes of the smallest block (what malloc(0) gets). */
size_t tlsf_block_size_min(void);
/* Largest request that tlsf_malloc can satisfy. */
size_t tlsf_block_size_max(void);
/* Bytes of a fresh pool of pool_bytes bytes that the single free block
 * cannot use: pool header, live bitmap, first and sentinel headers,
 * rounding. pool_bytes itself when the pool would be too small. */
size_t tlsf_pool_overhead(size_t pool_bytes);
/* Smallest pool size such that, right after tlsf_add_pool of a pool that
 * size, tlsf_memalign(t, align, bytes) (align 0 or 1: tlsf_malloc)
 * succeeds. 0 when no pool can (too big, bad align). */
size_t tlsf_pool_size_for(size_t bytes, size_t align);

#ifdef __cplusplus
}
#endif

#endif
