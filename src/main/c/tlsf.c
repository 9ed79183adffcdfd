/* tlsf.c - Two-Level Segregated Fit heap (Masmano et al.), nalloc variant.
 *
 * Read top-down: bit operations, constants, compile-time checks, the block
 * and its one-line accessors, the pool header and live bitmap, the control
 * structure with its invariants, size-to-list mapping, free-list insert and
 * remove, split / absorb / merge, pool lookup, allocation helpers, the
 * malloc and free paths (fused), pool setup, checks, public API.
 *
 * Freestanding: no allocation, no locks, no I/O. Only memcpy and memmove
 * from <string.h> (plus memset), so it links into kernels and JNI alike.
 */
#include "tlsf.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Branch hints follow the heap's fast path, the "block found, no pool
 * switch" case. The malloc and free paths are written as small helpers for
 * reading; at -O2 gcc would keep some of them as calls (each costs a call, a
 * return and re-reading the control structure), so the hot ones are forced
 * inline (NALLOC_FORCE_INLINE) and the rare ones kept out of line. */
#include "nalloc_compiler.h"

/* ------------------------------------------------------------------------
 * Bit operations. Builtins on gcc/clang; a branch-light portable version
 * elsewhere (MSVC, tiny compilers) so the file needs no intrinsics header.
 * ---------------------------------------------------------------------- */

#if defined(__GNUC__) || defined(__clang__)
/* Index of the lowest set bit; word != 0. */
static inline int tlsf_ffs(uint32_t word) { return __builtin_ctz(word); }
/* Index of the highest set bit; word != 0. */
static inline int tlsf_fls(uint32_t word) { return 31 - __builtin_clz(word); }
#else
static inline int tlsf_fls(uint32_t word)
{
    int bit = 0;
    if (word & 0xffff0000u) { word >>= 16; bit += 16; }
    if (word & 0x0000ff00u) { word >>= 8; bit += 8; }
    if (word & 0x000000f0u) { word >>= 4; bit += 4; }
    if (word & 0x0000000cu) { word >>= 2; bit += 2; }
    if (word & 0x00000002u) { bit += 1; }
    return bit;
}
static inline int tlsf_ffs(uint32_t word) { return tlsf_fls(word & (~word + 1u)); }
#endif

/* Highest set bit of a size, which may exceed 32 bits on 64-bit targets. */
static inline int tlsf_fls_sizet(size_t size)
{
#if defined(__GNUC__) || defined(__clang__)
    /* One bsr/lzcnt on 64-bit targets instead of a split at bit 32. */
    return (int)(sizeof(unsigned long long) * CHAR_BIT) - 1 - __builtin_clzll((unsigned long long)size);
#elif SIZE_MAX > 0xffffffffu
    uint32_t high = (uint32_t)((uint64_t)size >> 32);
    return high ? 32 + tlsf_fls(high) : tlsf_fls((uint32_t)size);
#else
    return tlsf_fls((uint32_t)size);
#endif
}

/* ------------------------------------------------------------------------
 * Constants.
 * ---------------------------------------------------------------------- */

/* Two words, like glibc: enough for any scalar type the JVM side stores,
 * and the header word sits in the odd word in front of each payload. */
#if SIZE_MAX > 0xffffffffu
#define TLSF_64BIT 1
#define ALIGN_SIZE_LOG2 4
/* 1 TiB blocks: beyond any single Java-managed region, keeps the first
 * level map in 32 bits. */
#define FL_INDEX_MAX 40
#else
#define ALIGN_SIZE_LOG2 3
/* 1 GiB: the largest block a 32-bit address space can sensibly hold. */
#define FL_INDEX_MAX 30
#endif

#define WORD_SIZE ((size_t)sizeof(size_t))
#define ALIGN_SIZE ((size_t)1 << ALIGN_SIZE_LOG2)

/* 32 second-level lists per power of two: worst-case internal
 * fragmentation of the rounded search is 1/32 (~3%), and one 32-bit word
 * holds a second-level map. */
#define SL_INDEX_COUNT_LOG2 5
#define SL_INDEX_COUNT (1 << SL_INDEX_COUNT_LOG2)

/* Below SMALL_BLOCK_SIZE the lists are linear, one per ALIGN_SIZE step,
 * so small requests are exact fits and need no rounding. */
#define FL_INDEX_SHIFT (SL_INDEX_COUNT_LOG2 + ALIGN_SIZE_LOG2)
#define FL_INDEX_COUNT (FL_INDEX_MAX - FL_INDEX_SHIFT + 1)
#define SMALL_BLOCK_SIZE ((size_t)1 << FL_INDEX_SHIFT)

/* Header flags live in the low bits that ALIGN_SIZE-multiple sizes leave 0.
 * ALIGNED marks a block handed out by memalign with a larger alignment, so
 * realloc knows the caller relies on more than ALIGN_SIZE. */
#define BLOCK_FREE      ((size_t)1)
#define BLOCK_PREV_FREE ((size_t)2)
#define BLOCK_ALIGNED   ((size_t)4)
#define BLOCK_FLAGS     (ALIGN_SIZE - 1)

#define BITS_PER_WORD (WORD_SIZE * CHAR_BIT)

/* ------------------------------------------------------------------------
 * Compile-time checks: the constants above derive from each other.
 * ---------------------------------------------------------------------- */

_Static_assert(ALIGN_SIZE == 2 * sizeof(size_t), "ALIGN_SIZE is two words");
_Static_assert(sizeof(void *) == sizeof(size_t), "a free-list link fits in a word");
_Static_assert(ALIGN_SIZE >= 8, "three flag bits must fit under the size");
_Static_assert((BLOCK_FREE | BLOCK_PREV_FREE | BLOCK_ALIGNED) <= BLOCK_FLAGS,
               "flags fit in the alignment bits");
_Static_assert(SL_INDEX_COUNT <= 32, "a second-level map is one uint32_t");
_Static_assert(FL_INDEX_COUNT <= 32, "the first-level map is one uint32_t");
_Static_assert(FL_INDEX_MAX < (int)(sizeof(size_t) * CHAR_BIT), "block sizes fit in size_t");
_Static_assert(SMALL_BLOCK_SIZE / SL_INDEX_COUNT == ALIGN_SIZE,
               "the linear lists step by exactly one alignment unit");
_Static_assert(TLSF_ALIGN_MAX >= (int)ALIGN_SIZE && (TLSF_ALIGN_MAX & (TLSF_ALIGN_MAX - 1)) == 0,
               "TLSF_ALIGN_MAX is a power of two at least ALIGN_SIZE");

/* ------------------------------------------------------------------------
 * Block.
 *
 * A block pointer addresses prev_phys_block, which is the LAST word of the
 * previous block's payload: it is only meaningful (and only written) while
 * the previous block is free, so a used block pays for `size` alone. The
 * payload starts right after `size`; next_free/prev_free exist only while
 * the block is free.
 *
 *   block:        [prev_phys_block][size|flags][payload ...............]
 *   next block:                                 ... [prev_phys][size] ...
 *
 * `size` is the stride from this block to the next one, a multiple of
 * ALIGN_SIZE. The header word sits at an address = WORD_SIZE mod
 * ALIGN_SIZE, so every payload is ALIGN_SIZE aligned, and the usable bytes
 * are size - WORD_SIZE (the payload runs up to the next header word,
 * including the next block's prev_phys_block slot).
 *
 * Why usable sizes are k * ALIGN_SIZE - WORD_SIZE (24, 40, 56 ... on 64-bit,
 * as in glibc) rather than ALIGN_SIZE multiples: with a one-word header,
 * two consecutive payloads are both ALIGN_SIZE aligned only if the stride
 * is an ALIGN_SIZE multiple; whole-multiple payloads would need a second
 * header word per used block.
 * ---------------------------------------------------------------------- */

typedef struct block_header {
    struct block_header *prev_phys_block;
    size_t size;
    struct block_header *next_free;
    struct block_header *prev_free;
} block_header_t;

/* A free block must hold size, next_free, prev_free and the successor's
 * back link: the whole struct. */
#define BLOCK_SIZE_MIN ((size_t)sizeof(block_header_t))
/* Largest stride that still maps to a first-level index below FL_INDEX_MAX. */
#define BLOCK_SIZE_MAX (((size_t)1 << FL_INDEX_MAX) - ALIGN_SIZE)
/* Payload offset from the block pointer: back link + size word. */
#define BLOCK_START_OFFSET (2 * WORD_SIZE)

_Static_assert(BLOCK_SIZE_MIN % ALIGN_SIZE == 0, "minimum block is aligned");
_Static_assert(BLOCK_START_OFFSET == ALIGN_SIZE, "payload of an aligned block pointer is aligned");
_Static_assert(offsetof(block_header_t, size) == WORD_SIZE, "size is the one header word");

static inline size_t block_size(const block_header_t *b) { return b->size & ~BLOCK_FLAGS; }
static inline void block_set_size(block_header_t *b, size_t size) { b->size = size | (b->size & BLOCK_FLAGS); }
static inline int block_is_last(const block_header_t *b) { return block_size(b) == 0; }

static inline int block_is_free(const block_header_t *b) { return (b->size & BLOCK_FREE) != 0; }
static inline void block_set_used(block_header_t *b) { b->size &= ~BLOCK_FREE; }

static inline int block_is_prev_free(const block_header_t *b) { return (b->size & BLOCK_PREV_FREE) != 0; }
static inline void block_set_prev_free(block_header_t *b) { b->size |= BLOCK_PREV_FREE; }
static inline void block_set_prev_used(block_header_t *b) { b->size &= ~BLOCK_PREV_FREE; }

static inline int block_is_aligned(const block_header_t *b) { return (b->size & BLOCK_ALIGNED) != 0; }
static inline void block_set_aligned(block_header_t *b) { b->size |= BLOCK_ALIGNED; }

/* Via void * so -Wcast-align sees no char-to-struct cast: every block
 * address is ALIGN_SIZE aligned by construction. */
static inline block_header_t *offset_to_block(const void *p, size_t off)
{
    return (block_header_t *)(void *)((char *)(uintptr_t)p + off);
}
static inline block_header_t *block_from_ptr(const void *ptr)
{
    return (block_header_t *)(void *)((char *)(uintptr_t)ptr - BLOCK_START_OFFSET);
}
static inline void *block_to_ptr(const block_header_t *b)
{
    return (char *)(uintptr_t)b + BLOCK_START_OFFSET;
}
static inline size_t block_usable(const block_header_t *b) { return block_size(b) - WORD_SIZE; }

static inline block_header_t *block_next(const block_header_t *b) { return offset_to_block(b, block_size(b)); }
static inline block_header_t *block_prev(const block_header_t *b) { return b->prev_phys_block; }

/* Points the successor's back link at b and returns the successor. */
static inline block_header_t *block_link_next(block_header_t *b)
{
    block_header_t *next = block_next(b);
    next->prev_phys_block = b;
    return next;
}

static inline size_t align_up(size_t x, size_t align) { return (x + (align - 1)) & ~(align - 1); }
static inline size_t align_down(size_t x, size_t align) { return x & ~(align - 1); }
static inline int is_pow2(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

/* ------------------------------------------------------------------------
 * Pool header and live bitmap.
 *
 * Carved from the start of each pool region: [pool_header][live bitmap]
 * [pad word][first block ... ][sentinel]. The live bitmap has one bit per
 * ALIGN_SIZE granule of the block area, set exactly where a used block's
 * payload starts, so ownership of any pointer is decided from heap-owned
 * memory without reading *ptr: exact (no false positive on interior or
 * stale pointers) and O(1) per pool.
 * ---------------------------------------------------------------------- */

typedef struct pool_header {
    struct pool_header *next;  /* pools in the order they were added */
    const char *range_begin;   /* caller's region (the control structure too, for the first pool) */
    const char *range_end;
    char *area;                /* payload address of the first block: live bit 0 */
    char *limit;               /* sentinel block address: no payload at or above */
    size_t *live;
    size_t bytes;              /* as given by the caller, for pool_bytes */
    int first;                 /* made by tlsf_create: holds the control structure */
} pool_header_t;

typedef struct pool_layout {
    size_t live_words;   /* size of the live bitmap */
    size_t first_block;  /* offset of the first block pointer */
    size_t sentinel;     /* offset of the sentinel block pointer */
} pool_layout_t;

/* Where everything goes in a region of `bytes` bytes starting at an
 * ALIGN_SIZE-aligned address; 0 when not even one block fits. Independent
 * of the address, so overhead and sizing can be computed in advance. */
static int pool_layout(size_t bytes, pool_layout_t *out)
{
    size_t header = align_up(sizeof(pool_header_t), ALIGN_SIZE);
    size_t end = align_down(bytes, ALIGN_SIZE);
    /* bytes / ALIGN_SIZE granules bound the area's; the excess is a few
     * words, cheaper than solving the circular size exactly. */
    size_t granules = end / ALIGN_SIZE;
    size_t words = granules / BITS_PER_WORD + 1;
    size_t first;
    if (end < header + ALIGN_SIZE)
        return 0;
    first = header + align_up(words * WORD_SIZE, ALIGN_SIZE);
    /* Sentinel header word is the region's last word. */
    if (end - ALIGN_SIZE < first || end - ALIGN_SIZE - first < BLOCK_SIZE_MIN)
        return 0;
    out->live_words = words;
    out->first_block = first;
    out->sentinel = end - ALIGN_SIZE;
    return 1;
}

static inline size_t live_index(const pool_header_t *p, const void *ptr)
{
    return (size_t)((const char *)ptr - p->area) / ALIGN_SIZE;
}
static inline void live_set(pool_header_t *p, const void *ptr)
{
    size_t i = live_index(p, ptr);
    p->live[i / BITS_PER_WORD] |= (size_t)1 << (i % BITS_PER_WORD);
}
static inline void live_clear(pool_header_t *p, const void *ptr)
{
    size_t i = live_index(p, ptr);
    p->live[i / BITS_PER_WORD] &= ~((size_t)1 << (i % BITS_PER_WORD));
}
static inline int live_test(const pool_header_t *p, const void *ptr)
{
    size_t i = live_index(p, ptr);
    return (int)((p->live[i / BITS_PER_WORD] >> (i % BITS_PER_WORD)) & 1u);
}
static inline block_header_t *pool_first_block(const pool_header_t *p)
{
    return block_from_ptr(p->area);
}

/* ------------------------------------------------------------------------
 * Control structure.
 *
 * Invariants (tlsf_check verifies each, in this order):
 *  - fl_bitmap bit f is set  <=>  sl_bitmap[f] != 0;
 *    sl_bitmap[f] bit s is set  <=>  list (f,s) != &block_null.
 *  - every block in list (f,s) lies inside a pool, is marked free, has a
 *    size that maps to (f,s), and its prev_free is its list predecessor.
 *  - walking each pool physically: sizes are ALIGN_SIZE multiples
 *    >= BLOCK_SIZE_MIN that stay inside the pool, the walk ends exactly on
 *    a used size-0 sentinel, no two adjacent blocks are free, PREV_FREE
 *    equals the previous block's FREE, free blocks carry no ALIGNED flag,
 *    the successor of a free block has prev_phys_block == that block.
 *  - live bits are set exactly at the payloads of used blocks.
 *  - free blocks walked == entries in all lists.
 *  - free_count and used_count/used_sum equal the walk's counts and
 *    stride sums, area_sum - used_sum equals the walk's free stride sum;
 *    pool_bytes equals the sum of pool sizes.
 * Counters hold strides (header included) so splits and merges inside one
 * state change nothing; stats subtract one word per block. The free stride
 * sum is not kept: every pool's block area (first block to sentinel) is
 * tiled exactly by its used and free blocks, so it is area_sum - used_sum,
 * and malloc/free pay for one sum instead of two.
 * ---------------------------------------------------------------------- */

typedef struct tlsf_control {
    /* Empty lists point here instead of NULL so unlinking needs no branch. */
    block_header_t block_null;

    uint32_t fl_bitmap;
    uint32_t sl_bitmap[FL_INDEX_COUNT];
    /* List (fl, sl) is blocks[fl * SL_INDEX_COUNT + sl]: one flat index
     * names a list, so comparing two lists is one compare and rounding a
     * request up to the next list is index + 1 (carrying into the next
     * first level by itself). */
    block_header_t *blocks[FL_INDEX_COUNT * SL_INDEX_COUNT];

    pool_header_t *pools;
    pool_header_t *last_hit; /* most recent pool found by address */
    /* A guess, never trusted: the list of the free block a free() will
     * most likely merge with (where the last split or merge left its free
     * block). free() verifies it against the block's size with one shift
     * and compare; a right guess lets the list head's address be known
     * before the neighbour's size is loaded and mapped, which shortens the
     * dependency chain of a malloc/free sequence. Always a valid index. */
    int merge_hint;

    size_t pool_bytes;
    size_t area_sum; /* strides of all pools' block areas (first block to sentinel) */
    size_t used_count, used_sum;
    size_t free_count;
} control_t;

#define CONTROL_SIZE (align_up(sizeof(control_t), ALIGN_SIZE))
#define LIST_COUNT (FL_INDEX_COUNT * SL_INDEX_COUNT)

/* ------------------------------------------------------------------------
 * Mapping from sizes to lists.
 * ---------------------------------------------------------------------- */

/* The list whose range holds size, as a flat index. size <= BLOCK_SIZE_MAX.
 * For size >= SMALL_BLOCK_SIZE with top bit f: fl = f - (FL_INDEX_SHIFT - 1)
 * and sl = (size >> (f - SL_INDEX_COUNT_LOG2)) - SL_INDEX_COUNT, which
 * fold into one shift and one add. */
static inline int mapping_index(size_t size)
{
    int f;
    if (size < SMALL_BLOCK_SIZE)
        return (int)(size >> ALIGN_SIZE_LOG2);
    f = tlsf_fls_sizet(size);
    return ((f - FL_INDEX_SHIFT) << SL_INDEX_COUNT_LOG2) + (int)(size >> (f - SL_INDEX_COUNT_LOG2));
}

/* log2 of the width of list idx: its blocks are exactly the sizes with
 * size >> list_shift(idx) == list_lower(idx) >> list_shift(idx). */
static inline int list_shift(int idx)
{
    int fl = idx >> SL_INDEX_COUNT_LOG2;
    return fl ? fl + FL_INDEX_SHIFT - 1 - SL_INDEX_COUNT_LOG2 : ALIGN_SIZE_LOG2;
}

/* Smallest size of list idx. */
static inline size_t list_lower(int idx)
{
    int fl = idx >> SL_INDEX_COUNT_LOG2;
    size_t sl = (size_t)(idx & (SL_INDEX_COUNT - 1));
    return fl ? (SL_INDEX_COUNT + sl) << list_shift(idx) : sl << ALIGN_SIZE_LOG2;
}

/* list_lower(idx) >> list_shift(idx): the quotient every size of list idx
 * has by the list's width. */
static inline size_t list_quotient(int idx)
{
    return (size_t)(idx & (SL_INDEX_COUNT - 1)) + (idx >= SL_INDEX_COUNT ? SL_INDEX_COUNT : 0);
}

static inline void mapping_insert(size_t size, int *fli, int *sli)
{
    int idx = mapping_index(size);
    *fli = idx >> SL_INDEX_COUNT_LOG2;
    *sli = idx & (SL_INDEX_COUNT - 1);
}

/* The first list all of whose blocks hold size: size's own list when size
 * is that list's lower bound, else the next one. May be LIST_COUNT (no
 * such list). */
static inline int mapping_search_index(size_t size)
{
    int f;
    if (size < SMALL_BLOCK_SIZE)
        return (int)(size >> ALIGN_SIZE_LOG2); /* linear lists: exact */
    f = tlsf_fls_sizet(size);
    return ((f - FL_INDEX_SHIFT) << SL_INDEX_COUNT_LOG2) + (int)(size >> (f - SL_INDEX_COUNT_LOG2)) +
           ((size & (((size_t)1 << (f - SL_INDEX_COUNT_LOG2)) - 1)) != 0);
}

/* First non-empty list at or after idx (< LIST_COUNT); -1 if none. */
static inline int search_suitable_list(const control_t *c, int idx)
{
    int fl = idx >> SL_INDEX_COUNT_LOG2;
    uint32_t sl_map = c->sl_bitmap[fl] & (~0u << (idx & (SL_INDEX_COUNT - 1)));
    if (!sl_map) {
        /* A 64-bit shift: fl + 1 may be 32, the top list has no larger
         * first level. */
        uint32_t fl_map = (uint32_t)((uint64_t)c->fl_bitmap & (~(uint64_t)0 << (fl + 1)));
        if (!fl_map)
            return -1;
        fl = tlsf_ffs(fl_map);
        sl_map = c->sl_bitmap[fl];
    }
    return (fl << SL_INDEX_COUNT_LOG2) + tlsf_ffs(sl_map);
}

/* ------------------------------------------------------------------------
 * Free lists. The free block count changes only here, so it cannot drift
 * from the lists. A free block's flags are exactly BLOCK_FREE: its
 * predecessor is used (no two adjacent free blocks) and it is not ALIGNED.
 * ---------------------------------------------------------------------- */

static inline void list_set_bits(control_t *c, int idx)
{
    int fl = idx >> SL_INDEX_COUNT_LOG2;
    c->fl_bitmap |= 1u << fl;
    c->sl_bitmap[fl] |= 1u << (idx & (SL_INDEX_COUNT - 1));
}

static inline void list_clear_bits(control_t *c, int idx)
{
    int fl = idx >> SL_INDEX_COUNT_LOG2;
    c->sl_bitmap[fl] &= ~(1u << (idx & (SL_INDEX_COUNT - 1)));
    if (!c->sl_bitmap[fl])
        c->fl_bitmap &= ~(1u << fl);
}

static NALLOC_FORCE_INLINE void remove_free_block(control_t *c, block_header_t *b, int idx)
{
    block_header_t *prev = b->prev_free;
    block_header_t *next = b->next_free;
    next->prev_free = prev;
    prev->next_free = next;
    if (c->blocks[idx] == b) {
        c->blocks[idx] = next;
        if (next == &c->block_null)
            list_clear_bits(c, idx);
    }
    c->free_count--;
}

/* At the head: a block just freed is the first one its list offers, which
 * is what makes "free then malloc the same size" succeed (see
 * block_find_free). */
static NALLOC_FORCE_INLINE void insert_free_block(control_t *c, block_header_t *b, int idx)
{
    block_header_t *current = c->blocks[idx];
    b->next_free = current;
    b->prev_free = &c->block_null;
    current->prev_free = b;
    c->blocks[idx] = b;
    list_set_bits(c, idx);
    c->free_count++;
}

/* Unlinks b, the head of list idx. */
static NALLOC_FORCE_INLINE void pop_head_block(control_t *c, block_header_t *b, int idx)
{
    block_header_t *next = b->next_free;
    next->prev_free = &c->block_null;
    c->blocks[idx] = next;
    if (next == &c->block_null)
        list_clear_bits(c, idx);
    c->free_count--;
}

/* Removing `old` from list idx and inserting `b` at the head of the same
 * list, in one step: the list stays non-empty, so neither bitmap changes,
 * and the list ends up exactly as remove + insert would leave it. This is
 * the common case of a split (the rest of a large block stays in its list)
 * and of a merge with a large successor. */
static NALLOC_FORCE_INLINE void swap_free_block(control_t *c, block_header_t *old, block_header_t *b, int idx)
{
    block_header_t *next = old->next_free;
    if (NALLOC_UNLIKELY(c->blocks[idx] != old)) {
        block_header_t *prev = old->prev_free;
        next->prev_free = prev;
        prev->next_free = next;
        next = c->blocks[idx];
    }
    b->next_free = next;
    b->prev_free = &c->block_null;
    next->prev_free = b;
    c->blocks[idx] = b;
}

/* As swap_free_block when `old` is known to be the head. */
static NALLOC_FORCE_INLINE void swap_head_block(control_t *c, block_header_t *old, block_header_t *b, int idx)
{
    block_header_t *next = old->next_free;
    b->next_free = next;
    b->prev_free = &c->block_null;
    next->prev_free = b;
    c->blocks[idx] = b;
}

static void block_remove(control_t *c, block_header_t *b)
{
    remove_free_block(c, b, mapping_index(block_size(b)));
}

static void block_insert(control_t *c, block_header_t *b)
{
    insert_free_block(c, b, mapping_index(block_size(b)));
}

/* ------------------------------------------------------------------------
 * Split, absorb, merge.
 * ---------------------------------------------------------------------- */

/* b absorbs its successor `next`; next's header becomes payload. */
static inline void block_absorb(block_header_t *b, const block_header_t *next)
{
    b->size += block_size(next);
}

/* b is used (FREE clear) and its successor is not free. Cuts b to `size`
 * when the tail can form a block, returning the tail to the free lists;
 * fixes the successor's PREV_FREE and back link either way. */
static void block_trim_used(control_t *c, block_header_t *b, size_t size)
{
    block_header_t *next;
    if (block_size(b) >= size + BLOCK_SIZE_MIN) {
        block_header_t *rest = offset_to_block(b, size);
        rest->size = (block_size(b) - size) | BLOCK_FREE; /* predecessor b is used */
        block_set_size(b, size);
        next = block_link_next(rest);
        block_set_prev_free(next);
        block_insert(c, rest);
    } else {
        next = block_next(b);
        block_set_prev_used(next);
    }
}

/* ------------------------------------------------------------------------
 * Pool lookup.
 * ---------------------------------------------------------------------- */

/* Address comparisons go through uintptr_t: relational operators on
 * pointers into different objects (a foreign pointer against a pool) are
 * undefined in C. */
static inline int addr_within(const void *a, const void *lo, const void *hi)
{
    return (uintptr_t)a >= (uintptr_t)lo && (uintptr_t)a < (uintptr_t)hi;
}

/* The pool whose block area contains addr, or NULL. Reads only pool
 * headers. The last hit is tried first (inline): consecutive calls usually
 * stay in one pool, and most heaps have only one. */
static NALLOC_NOINLINE pool_header_t *pool_find_slow(control_t *c, const void *addr)
{
    pool_header_t *p;
    for (p = c->pools; p; p = p->next) {
        if (addr_within(addr, p->area, p->limit)) {
            c->last_hit = p;
            return p;
        }
    }
    return NULL;
}

static NALLOC_FORCE_INLINE pool_header_t *pool_find(control_t *c, const void *addr)
{
    pool_header_t *p = c->last_hit;
    if (NALLOC_LIKELY(p && addr_within(addr, p->area, p->limit)))
        return p;
    return pool_find_slow(c, addr);
}

/* The pool of a live block, or NULL when ptr is not one. */
static NALLOC_FORCE_INLINE pool_header_t *live_pool(control_t *c, const void *ptr)
{
    pool_header_t *p;
    if (NALLOC_UNLIKELY(!ptr || ((uintptr_t)ptr & (ALIGN_SIZE - 1))))
        return NULL;
    p = pool_find(c, ptr);
    if (NALLOC_UNLIKELY(!p || !live_test(p, ptr)))
        return NULL;
    return p;
}

/* ------------------------------------------------------------------------
 * Allocation helpers. block_find_free serves both tlsf_malloc and
 * tlsf_memalign; block_locate_free and block_prepare_used serve memalign
 * only (tlsf_malloc goes through the fused heap_malloc below).
 * ---------------------------------------------------------------------- */

/* Stride for a request; 0 when too big. Checked before the addition so
 * nothing can wrap. */
static inline size_t adjust_request_size(size_t bytes)
{
    size_t size;
    if (NALLOC_UNLIKELY(bytes > BLOCK_SIZE_MAX - WORD_SIZE))
        return 0;
    size = align_up(bytes + WORD_SIZE, ALIGN_SIZE);
    return size < BLOCK_SIZE_MIN ? BLOCK_SIZE_MIN : size;
}

/* Finds a free block of at least `size` bytes and returns it still linked
 * as the head of list *idx, or NULL.
 *
 * The rounded search alone (classic TLSF) never looks at the request's own
 * list, because that list may hold blocks smaller than the request; so a
 * block just freed with exactly the requested size would be missed and a
 * full heap would fail a request it had just given back. If the rounded
 * search finds nothing, the head of the request's own list is tried: a
 * freed block is inserted at the head, and if it coalesced into a bigger
 * list the rounded search finds it instead. Still O(1). */
static NALLOC_FORCE_INLINE block_header_t *block_find_free(control_t *c, size_t size, int *idx)
{
    int i = -1;
    block_header_t *b;
    if (NALLOC_UNLIKELY(size > BLOCK_SIZE_MAX))
        return NULL;
    {
        int s = mapping_search_index(size);
        if (NALLOC_LIKELY(s < LIST_COUNT))
            i = search_suitable_list(c, s);
    }
    if (NALLOC_UNLIKELY(i < 0)) {
        i = mapping_index(size);
        b = c->blocks[i];
        if (b == &c->block_null || block_size(b) < size)
            return NULL;
    } else {
        b = c->blocks[i];
    }
    *idx = i;
    return b;
}

/* Finds and unlinks a free block of at least `size` bytes, or NULL. */
static block_header_t *block_locate_free(control_t *c, size_t size)
{
    int idx;
    block_header_t *b = block_find_free(c, size, &idx);
    if (b)
        pop_head_block(c, b, idx);
    return b;
}

/* Turns the unlinked free block b into a used block of `size` and hands
 * out its payload. */
static void *block_prepare_used(control_t *c, block_header_t *b, size_t size)
{
    void *ptr = block_to_ptr(b);
    pool_header_t *p = pool_find(c, ptr);
    block_set_used(b);
    block_trim_used(c, b, size);
    live_set(p, ptr);
    c->used_count++;
    c->used_sum += block_size(b);
    return ptr;
}

/* ------------------------------------------------------------------------
 * malloc and free paths (fused). heap_malloc and block_free_merge split
 * and merge in place, each header word written once, instead of unlinking
 * and relinking through the helpers; heap_free reads the live bitmap once;
 * block_alloc_aligned is memalign's path, on the helpers above.
 * ---------------------------------------------------------------------- */

/* tlsf_malloc after the request is sized: block_find_free, then the split
 * done in place. Same result as block_locate_free + block_prepare_used,
 * without unlinking and relinking when the rest stays in the block's list,
 * and with every header word written once. */
static NALLOC_FORCE_INLINE void *heap_malloc(control_t *c, size_t size)
{
    int idx;
    block_header_t *b = block_find_free(c, size, &idx);
    block_header_t *next;
    size_t bsize, rest_size;
    pool_header_t *p;
    void *ptr;
    if (NALLOC_UNLIKELY(!b))
        return NULL;
    bsize = block_size(b);
    next = offset_to_block(b, bsize);
    rest_size = bsize - size;
    if (NALLOC_LIKELY(rest_size >= BLOCK_SIZE_MIN)) {
        block_header_t *rest = offset_to_block(b, size);
        rest->size = rest_size | BLOCK_FREE; /* predecessor b is used */
        next->prev_phys_block = rest;        /* next already has PREV_FREE */
        b->size = size;                      /* used, predecessor used, not aligned */
        /* rest < bsize, so it stays in b's list when it is at least the
         * list's lower bound, which depends on idx only (known before b is
         * loaded, so the test adds one compare after the load). */
        if (NALLOC_LIKELY(rest_size >= list_lower(idx))) {
            swap_head_block(c, b, rest, idx);
        } else {
            pop_head_block(c, b, idx);
            idx = mapping_index(rest_size);
            insert_free_block(c, rest, idx);
        }
        c->merge_hint = idx;
    } else {
        pop_head_block(c, b, idx);
        b->size = bsize;
        block_set_prev_used(next);
        size = bsize;
    }
    ptr = block_to_ptr(b);
    p = pool_find(c, ptr);
    live_set(p, ptr);
    c->used_count++;
    c->used_sum += size;
    return ptr;
}

/* Returns a used block, already validated and with its live bit cleared,
 * to the free lists, merging it with free neighbours. The result is the
 * same as removing the neighbours and inserting the merged block; when
 * the merged block lands in its successor's list it takes the successor's
 * place without touching the bitmaps. */
static NALLOC_FORCE_INLINE void block_free_merge(control_t *c, block_header_t *b)
{
    size_t raw = b->size;
    size_t size = raw & ~BLOCK_FLAGS;
    block_header_t *next = offset_to_block(b, size);
    size_t next_raw = next->size;
    c->used_count--;
    c->used_sum -= size;
    if (NALLOC_UNLIKELY(raw & BLOCK_PREV_FREE)) {
        block_header_t *prev = block_prev(b);
        block_remove(c, prev);
        size += block_size(prev);
        b = prev;
    }
    if (next_raw & BLOCK_FREE) {
        size_t next_size = next_raw & ~BLOCK_FLAGS;
        block_header_t *after = offset_to_block(next, next_size);
        int guess = c->merge_hint, shift = list_shift(guess);
        size_t q = list_quotient(guess);
        size += next_size;
        b->size = size | BLOCK_FREE;   /* predecessor is used after merging */
        after->prev_phys_block = b;    /* after already has PREV_FREE */
        /* A size is in list i exactly when size >> list_shift(i) equals
         * list_quotient(i): the successor and the merged block both in the
         * guessed list means the merged block simply takes its place. */
        if (NALLOC_LIKELY(((next_size >> shift) ^ q) == 0 && ((size >> shift) ^ q) == 0)) {
            swap_free_block(c, next, b, guess);
        } else {
            int next_idx = mapping_index(next_size), idx;
            shift = list_shift(next_idx);
            if ((size >> shift) == (next_size >> shift)) { /* size > next_size */
                idx = next_idx;
                swap_free_block(c, next, b, idx);
            } else {
                idx = mapping_index(size);
                remove_free_block(c, next, next_idx);
                insert_free_block(c, b, idx);
            }
            c->merge_hint = idx;
        }
        return;
    }
    b->size = size | BLOCK_FREE;
    next->prev_phys_block = b;
    next->size = next_raw | BLOCK_PREV_FREE;
    block_insert(c, b);
}

/* Returns a used block (already validated) to the free lists. */
static void block_release(control_t *c, pool_header_t *p, block_header_t *b)
{
    live_clear(p, block_to_ptr(b));
    block_free_merge(c, b);
}

/* tlsf_free_checked without the NULL test: validates ptr against the live
 * bitmap (alignment, pool, bit) and frees it. The bitmap word is read once
 * for the test and written once to clear the bit. */
static NALLOC_FORCE_INLINE int heap_free(control_t *c, void *ptr)
{
    pool_header_t *p;
    size_t i, *word, mask;
    if (NALLOC_UNLIKELY(((uintptr_t)ptr & (ALIGN_SIZE - 1)) != 0))
        return TLSF_ERR_NOT_OWNED;
    p = pool_find(c, ptr);
    if (NALLOC_UNLIKELY(!p))
        return TLSF_ERR_NOT_OWNED;
    i = live_index(p, ptr);
    word = &p->live[i / BITS_PER_WORD];
    mask = (size_t)1 << (i % BITS_PER_WORD);
    if (NALLOC_UNLIKELY(!(*word & mask)))
        return TLSF_ERR_NOT_OWNED;
    *word &= ~mask;
    block_free_merge(c, block_from_ptr(ptr));
    return TLSF_OK;
}

/* align is a power of two in (ALIGN_SIZE, TLSF_ALIGN_MAX]. */
static void *block_alloc_aligned(control_t *c, size_t align, size_t bytes)
{
    size_t size = adjust_request_size(bytes);
    size_t gap;
    uintptr_t payload;
    block_header_t *b;
    void *ptr;
    if (NALLOC_UNLIKELY(!size))
        return NULL;
    /* The leading gap is 0 or a whole free block (>= BLOCK_SIZE_MIN), so
     * at most align + BLOCK_SIZE_MIN - ALIGN_SIZE extra bytes are needed. */
    b = block_locate_free(c, size + align + BLOCK_SIZE_MIN);
    if (!b)
        return NULL;
    payload = (uintptr_t)block_to_ptr(b);
    gap = (size_t)(((payload + (align - 1)) & ~(uintptr_t)(align - 1)) - payload);
    if (gap && gap < BLOCK_SIZE_MIN)
        gap = (size_t)(((payload + BLOCK_SIZE_MIN + (align - 1)) & ~(uintptr_t)(align - 1)) - payload);
    if (gap) {
        /* b's predecessor is used (b was free), so the lead stays apart. */
        block_header_t *lead = b;
        b = offset_to_block(lead, gap);
        b->size = (block_size(lead) - gap) | BLOCK_FREE | BLOCK_PREV_FREE;
        b->prev_phys_block = lead;
        block_set_size(lead, gap);
        block_link_next(b);
        block_insert(c, lead);
    }
    ptr = block_prepare_used(c, b, size);
    block_set_aligned(b);
    return ptr;
}

/* Lowest set bit of an address, capped: the alignment a moved block must
 * keep. At least the alignment memalign was asked for. */
static inline size_t natural_align(const void *ptr)
{
    uintptr_t a = (uintptr_t)ptr;
    size_t low = (size_t)(a & (~a + 1));
    return (low == 0 || low > TLSF_ALIGN_MAX) ? (size_t)TLSF_ALIGN_MAX : low;
}

/* ------------------------------------------------------------------------
 * Pool setup.
 * ---------------------------------------------------------------------- */

/* Whether a region of `bytes` can be a pool, on its own. */
static int pool_size_check(size_t bytes, pool_layout_t *lay)
{
    if (!pool_layout(bytes, lay))
        return TLSF_ERR_TOO_SMALL;
    if (lay->sentinel - lay->first_block > BLOCK_SIZE_MAX)
        return TLSF_ERR_TOO_BIG;
    return TLSF_OK;
}

/* Writes a pool into [mem, mem+bytes); `range_begin` and `accounted` cover
 * the control structure too for the first pool. */
static int pool_init(control_t *c, void *mem, size_t bytes, const void *range_begin,
                     size_t accounted, int first)
{
    pool_layout_t lay;
    pool_header_t *p, **tail;
    block_header_t *b, *sentinel;
    char *base = (char *)mem;
    int rc = pool_size_check(bytes, &lay);
    if (rc != TLSF_OK)
        return rc;

    p = (pool_header_t *)mem;
    p->next = NULL;
    p->range_begin = (const char *)range_begin;
    p->range_end = base + bytes;
    p->live = (size_t *)(void *)(base + align_up(sizeof(pool_header_t), ALIGN_SIZE));
    /* The padding up to the first block is zeroed too: tlsf_check counts
     * every bit of the region. */
    memset(p->live, 0, align_up(lay.live_words * WORD_SIZE, ALIGN_SIZE));
    b = offset_to_block(base, lay.first_block);
    sentinel = offset_to_block(base, lay.sentinel);
    p->area = (char *)block_to_ptr(b);
    p->limit = (char *)sentinel;
    p->bytes = accounted;
    p->first = first;

    /* The first block has no predecessor: PREV_FREE clear, its back-link
     * word is padding never read. */
    b->size = (lay.sentinel - lay.first_block) | BLOCK_FREE;
    sentinel->size = BLOCK_PREV_FREE;
    sentinel->prev_phys_block = b;
    block_insert(c, b);

    for (tail = &c->pools; *tail; tail = &(*tail)->next)
        ;
    *tail = p;
    c->pool_bytes += accounted;
    c->area_sum += lay.sentinel - lay.first_block;
    return TLSF_OK;
}

static int range_ok(const void *mem, size_t bytes)
{
    return mem && ((uintptr_t)mem & (ALIGN_SIZE - 1)) == 0 &&
           (uintptr_t)mem + bytes >= (uintptr_t)mem;
}

/* ------------------------------------------------------------------------
 * Checks.
 * ---------------------------------------------------------------------- */

/* Pool whose block positions include b (block pointer, not payload). */
static const pool_header_t *pool_of_block(const control_t *c, const block_header_t *b)
{
    const pool_header_t *p;
    for (p = c->pools; p; p = p->next) {
        const char *lo = p->area - BLOCK_START_OFFSET;
        if (addr_within(b, lo, p->limit) && ((uintptr_t)b - (uintptr_t)lo) % ALIGN_SIZE == 0)
            return p;
    }
    return NULL;
}

static int check_lists(const control_t *c, size_t *listed)
{
    /* More entries than blocks could exist means a cycle. */
    size_t bound = c->pool_bytes / BLOCK_SIZE_MIN + 1;
    int fl, sl;
    *listed = 0;
    for (fl = 0; fl < FL_INDEX_COUNT; ++fl) {
        int fl_bit = (int)((c->fl_bitmap >> fl) & 1u);
        if (fl_bit != (c->sl_bitmap[fl] != 0))
            return TLSF_INV_BITMAP_FL;
        for (sl = 0; sl < SL_INDEX_COUNT; ++sl) {
            const block_header_t *b = c->blocks[fl * SL_INDEX_COUNT + sl];
            const block_header_t *prev = &c->block_null;
            int sl_bit = (int)((c->sl_bitmap[fl] >> sl) & 1u);
            if (sl_bit != (b != &c->block_null))
                return TLSF_INV_BITMAP_SL;
            for (; b != &c->block_null; prev = b, b = b->next_free) {
                int f, s;
                if (!pool_of_block(c, b))
                    return TLSF_INV_LIST_FOREIGN;
                if (++*listed > bound || b->prev_free != prev)
                    return TLSF_INV_LIST_LINKS;
                if (!block_is_free(b))
                    return TLSF_INV_LIST_NOT_FREE;
                if (block_size(b) < BLOCK_SIZE_MIN || block_size(b) > BLOCK_SIZE_MAX)
                    return TLSF_INV_LIST_MAPPING;
                mapping_insert(block_size(b), &f, &s);
                if (f != fl || s != sl)
                    return TLSF_INV_LIST_MAPPING;
            }
        }
    }
    return TLSF_INV_OK;
}

typedef struct walk_totals {
    size_t free_count, free_sum, used_count, used_sum, pool_bytes;
} walk_totals_t;

static int check_pool(const pool_header_t *p, walk_totals_t *w)
{
    const block_header_t *b = pool_first_block(p);
    const block_header_t *end = (const block_header_t *)(const void *)p->limit;
    size_t used = 0, bits = 0, words, i;
    int prev_free = 0;
    for (;;) {
        size_t size = block_size(b);
        if (b == end) {
            if (size != 0 || block_is_free(b))
                return TLSF_INV_SENTINEL;
            if (block_is_prev_free(b) != prev_free)
                return TLSF_INV_PREV_FREE;
            break;
        }
        if (size < BLOCK_SIZE_MIN || size > (size_t)(p->limit - (const char *)b))
            return TLSF_INV_BLOCK_SIZE;
        if (block_is_free(b) && prev_free)
            return TLSF_INV_ADJACENT_FREE;
        if (block_is_prev_free(b) != prev_free)
            return TLSF_INV_PREV_FREE;
        if (block_is_free(b)) {
            if (block_is_aligned(b))
                return TLSF_INV_FREE_FLAGS;
            if (block_next(b)->prev_phys_block != b)
                return TLSF_INV_BACK_LINK;
            if (live_test(p, block_to_ptr(b)))
                return TLSF_INV_LIVE_BITMAP;
            w->free_count++;
            w->free_sum += size;
        } else {
            if (!live_test(p, block_to_ptr(b)))
                return TLSF_INV_LIVE_BITMAP;
            used++;
            w->used_sum += size;
        }
        prev_free = block_is_free(b);
        b = block_next(b);
    }
    /* As many set bits as used blocks, each at a used payload: no stray bit. */
    words = (size_t)((p->area - BLOCK_START_OFFSET) - (const char *)p->live) / WORD_SIZE;
    for (i = 0; i < words; ++i)
        for (size_t x = p->live[i]; x; x &= x - 1)
            bits++;
    if (bits != used)
        return TLSF_INV_LIVE_BITMAP;
    w->used_count += used;
    w->pool_bytes += p->bytes;
    return TLSF_INV_OK;
}

/* ------------------------------------------------------------------------
 * Public API.
 * ---------------------------------------------------------------------- */

size_t tlsf_size(void) { return CONTROL_SIZE; }
size_t tlsf_align_size(void) { return ALIGN_SIZE; }
size_t tlsf_block_size_min(void) { return BLOCK_SIZE_MIN - WORD_SIZE; }
size_t tlsf_block_size_max(void) { return BLOCK_SIZE_MAX - WORD_SIZE; }

size_t tlsf_pool_overhead(size_t pool_bytes)
{
    pool_layout_t lay;
    if (!pool_layout(pool_bytes, &lay))
        return pool_bytes;
    return pool_bytes - (lay.sentinel - lay.first_block - WORD_SIZE);
}

size_t tlsf_pool_size_for(size_t bytes, size_t align)
{
    size_t need = adjust_request_size(bytes);
    size_t pool;
    pool_layout_t lay;
    if (!need)
        return 0;
    if (align > 1 && (!is_pow2(align) || align > TLSF_ALIGN_MAX))
        return 0;
    if (align > ALIGN_SIZE)
        need += align + BLOCK_SIZE_MIN; /* as block_alloc_aligned searches */
    if (need > BLOCK_SIZE_MAX)
        return 0;
    /* The fresh pool's one free block heads its list, so block_locate_free
     * finds it once its stride reaches `need`. stride(pool) never grows
     * faster than pool, so stepping by the deficit lands on the minimum. */
    pool = need + ALIGN_SIZE + align_up(sizeof(pool_header_t), ALIGN_SIZE);
    for (;;) {
        size_t stride;
        if (!pool_layout(pool, &lay)) {
            pool += ALIGN_SIZE;
            continue;
        }
        stride = lay.sentinel - lay.first_block;
        if (stride >= need)
            return stride > BLOCK_SIZE_MAX ? 0 : pool;
        if (pool > SIZE_MAX - (need - stride))
            return 0;
        pool += need - stride;
    }
}

tlsf_t tlsf_create(void *mem, size_t bytes)
{
    control_t *c;
    int fl, sl;
    if (!range_ok(mem, bytes) || bytes < CONTROL_SIZE)
        return NULL;
    c = (control_t *)mem;
    c->block_null.next_free = &c->block_null;
    c->block_null.prev_free = &c->block_null;
    c->block_null.prev_phys_block = NULL;
    c->block_null.size = 0;
    c->fl_bitmap = 0;
    for (fl = 0; fl < FL_INDEX_COUNT; ++fl) {
        c->sl_bitmap[fl] = 0;
        for (sl = 0; sl < SL_INDEX_COUNT; ++sl)
            c->blocks[fl * SL_INDEX_COUNT + sl] = &c->block_null;
    }
    c->pools = NULL;
    c->last_hit = NULL;
    c->merge_hint = 0;
    c->pool_bytes = 0;
    c->area_sum = 0;
    c->used_count = c->used_sum = 0;
    c->free_count = 0;
    if (pool_init(c, (char *)mem + CONTROL_SIZE, bytes - CONTROL_SIZE, mem, bytes, 1) != TLSF_OK)
        return NULL;
    return c;
}

int tlsf_add_pool(tlsf_t t, void *mem, size_t bytes)
{
    const pool_header_t *p;
    const char *lo = (const char *)mem;
    pool_layout_t lay;
    int rc;
    if (!t || !range_ok(mem, bytes))
        return TLSF_ERR_ARG;
    /* The region on its own first, then against the pools. */
    rc = pool_size_check(bytes, &lay);
    if (rc != TLSF_OK)
        return rc;
    for (p = t->pools; p; p = p->next)
        if ((uintptr_t)lo < (uintptr_t)p->range_end &&
            (uintptr_t)lo + bytes > (uintptr_t)p->range_begin)
            return TLSF_ERR_OVERLAP;
    return pool_init(t, mem, bytes, mem, bytes, 0);
}

int tlsf_remove_pool(tlsf_t t, void *mem)
{
    pool_header_t **link;
    if (!t || !mem)
        return TLSF_ERR_ARG;
    if (mem == (void *)t)
        return TLSF_ERR_FIRST_POOL;
    for (link = &t->pools; *link; link = &(*link)->next) {
        pool_header_t *p = *link;
        block_header_t *b;
        if ((void *)p != mem)
            continue;
        if (p->first)
            return TLSF_ERR_FIRST_POOL;
        b = pool_first_block(p);
        if (!block_is_free(b) || (char *)block_next(b) != p->limit)
            return TLSF_ERR_POOL_IN_USE;
        block_remove(t, b);
        t->area_sum -= block_size(b);
        *link = p->next;
        if (t->last_hit == p)
            t->last_hit = NULL;
        t->pool_bytes -= p->bytes;
        return TLSF_OK;
    }
    return TLSF_ERR_NOT_POOL;
}

tlsf_pool_t tlsf_get_pool(tlsf_t t)
{
    return t ? (tlsf_pool_t)t->pools : NULL;
}

void *tlsf_malloc(tlsf_t t, size_t bytes)
{
    size_t size = adjust_request_size(bytes);
    if (NALLOC_UNLIKELY(!t || !size))
        return NULL;
    return heap_malloc(t, size);
}

void *tlsf_memalign(tlsf_t t, size_t align, size_t bytes)
{
    if (!t || !is_pow2(align) || align > TLSF_ALIGN_MAX)
        return NULL;
    if (align <= ALIGN_SIZE)
        return tlsf_malloc(t, bytes);
    return block_alloc_aligned(t, align, bytes);
}

void *tlsf_realloc(tlsf_t t, void *ptr, size_t bytes)
{
    pool_header_t *p;
    block_header_t *b, *next;
    size_t size, cur, next_size;
    void *moved;
    if (!ptr)
        return tlsf_malloc(t, bytes);
    if (!t || !(p = live_pool(t, ptr)))
        return NULL;
    size = adjust_request_size(bytes);
    if (!size)
        return NULL;
    b = block_from_ptr(ptr);
    cur = block_size(b);
    if (size == cur)
        return ptr;
    next = block_next(b);
    next_size = block_is_free(next) ? block_size(next) : 0;

    /* In place: shrink, or grow into a free successor. The successor is
     * absorbed first so a shrink's tail merges with it. */
    if (size <= cur + next_size) {
        if (next_size) {
            block_remove(t, next);
            block_absorb(b, next);
        }
        block_trim_used(t, b, size);
        t->used_sum = t->used_sum - cur + block_size(b);
        return ptr;
    }

    /* Slide into a free predecessor: needs no other free memory. Not for
     * memalign'd blocks, whose address carries an alignment promise. */
    if (!block_is_aligned(b) && block_is_prev_free(b)) {
        block_header_t *prev = block_prev(b);
        size_t total = block_size(prev) + cur + next_size;
        if (total >= size) {
            void *dst = block_to_ptr(prev);
            block_remove(t, prev);
            if (next_size)
                block_remove(t, next);
            live_clear(p, ptr);
            /* Moves the old header word too (it is inside the new payload);
             * all metadata was read above. */
            memmove(dst, ptr, cur - WORD_SIZE);
            prev->size = total; /* used, predecessor of a free block is used */
            block_trim_used(t, prev, size);
            live_set(p, dst);
            t->used_sum = t->used_sum - cur + block_size(prev);
            return dst;
        }
    }

    moved = block_is_aligned(b) ? block_alloc_aligned(t, natural_align(ptr), bytes)
                                : tlsf_malloc(t, bytes);
    if (!moved)
        return NULL;
    /* Growing: the new block is larger than the old payload. */
    memcpy(moved, ptr, cur - WORD_SIZE);
    block_release(t, p, b);
    return moved;
}

int tlsf_free_checked(tlsf_t t, void *ptr)
{
    if (!ptr)
        return TLSF_OK;
    if (NALLOC_UNLIKELY(!t))
        return TLSF_ERR_NOT_OWNED;
    return heap_free(t, ptr);
}

void tlsf_free(tlsf_t t, void *ptr)
{
    if (NALLOC_LIKELY(t && ptr))
        (void)heap_free(t, ptr);
}

int tlsf_owns(tlsf_t t, const void *ptr)
{
    return t && live_pool(t, ptr) != NULL;
}

size_t tlsf_block_size(const void *ptr)
{
    return ptr ? block_usable(block_from_ptr(ptr)) : 0;
}

int tlsf_check(tlsf_t t)
{
    const pool_header_t *p;
    walk_totals_t w = {0, 0, 0, 0, 0};
    size_t listed;
    int rc;
    if (!t)
        return TLSF_ERR_ARG;
    rc = check_lists(t, &listed);
    if (rc)
        return rc;
    for (p = t->pools; p; p = p->next) {
        rc = check_pool(p, &w);
        if (rc)
            return rc;
    }
    if (w.free_count != listed)
        return TLSF_INV_FREE_NOT_LISTED;
    if (w.free_count != t->free_count || w.free_sum != t->area_sum - t->used_sum ||
        w.used_count != t->used_count || w.used_sum != t->used_sum ||
        w.pool_bytes != t->pool_bytes)
        return TLSF_INV_STATS;
    return TLSF_INV_OK;
}

const char *tlsf_invariant_name(int code)
{
    switch (code) {
    case TLSF_INV_OK: return "all invariants hold";
    case TLSF_INV_BITMAP_FL: return "first-level bitmap disagrees with the second-level maps";
    case TLSF_INV_BITMAP_SL: return "second-level bitmap disagrees with free-list emptiness";
    case TLSF_INV_LIST_FOREIGN: return "free list entry lies outside every pool";
    case TLSF_INV_LIST_LINKS: return "free list links are inconsistent or cyclic";
    case TLSF_INV_LIST_NOT_FREE: return "free list holds a block not marked free";
    case TLSF_INV_LIST_MAPPING: return "free list holds a block of the wrong size class";
    case TLSF_INV_BLOCK_SIZE: return "block size is misaligned, too small or runs past its pool";
    case TLSF_INV_SENTINEL: return "pool does not end with its sentinel block";
    case TLSF_INV_ADJACENT_FREE: return "two adjacent blocks are both free";
    case TLSF_INV_PREV_FREE: return "PREV_FREE flag disagrees with the previous block";
    case TLSF_INV_FREE_FLAGS: return "free block carries the ALIGNED flag";
    case TLSF_INV_BACK_LINK: return "back link after a free block does not point to it";
    case TLSF_INV_LIVE_BITMAP: return "live bitmap disagrees with the used blocks";
    case TLSF_INV_FREE_NOT_LISTED: return "free block missing from the free lists";
    case TLSF_INV_STATS: return "statistics counters disagree with the blocks";
    case TLSF_ERR_ARG: return "no heap";
    default: return "unknown invariant";
    }
}

void tlsf_stats(tlsf_t t, tlsf_stats_t *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!t)
        return;
    out->pool_bytes = t->pool_bytes;
    out->used_blocks = t->used_count;
    out->free_blocks = t->free_count;
    out->used_bytes = t->used_sum - t->used_count * WORD_SIZE;
    out->free_bytes = (t->area_sum - t->used_sum) - t->free_count * WORD_SIZE;
    if (t->fl_bitmap) {
        /* The top non-empty list holds the largest block; its blocks span
         * less than one size class, so scan it. */
        int fl = tlsf_fls(t->fl_bitmap);
        int sl = tlsf_fls(t->sl_bitmap[fl]);
        size_t best = 0;
        const block_header_t *b;
        for (b = t->blocks[fl * SL_INDEX_COUNT + sl]; b != &t->block_null; b = b->next_free)
            if (block_size(b) > best)
                best = block_size(b);
        out->largest_free_block = best - WORD_SIZE;
    }
}

void tlsf_walk_pool(tlsf_pool_t pool, tlsf_walker fn, void *user)
{
    const pool_header_t *p = (const pool_header_t *)pool;
    block_header_t *b;
    if (!p || !fn)
        return;
    for (b = pool_first_block(p); !block_is_last(b); b = block_next(b))
        fn(block_to_ptr(b), block_usable(b), !block_is_free(b), user);
}

void tlsf_walk(tlsf_t t, tlsf_walker fn, void *user)
{
    const pool_header_t *p;
    if (!t)
        return;
    for (p = t->pools; p; p = p->next)
        tlsf_walk_pool((tlsf_pool_t)(uintptr_t)p, fn, user);
}
