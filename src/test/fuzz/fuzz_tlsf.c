/* libFuzzer harness for the TLSF heap: the input is a program of heap
 * operations run against a model of the live blocks. After every step the
 * heap must pass tlsf_check, agree with the model's block count, and every
 * block must still hold the pattern written into it. */
#include "fuzz_input.h"
#include "tlsf.h"

#include <stdint.h>

#define SLOTS 64
#define EXTRA_POOLS 2
#define FIRST_BYTES (256u * 1024u)
#define EXTRA_BYTES (64u * 1024u)

typedef struct {
    unsigned char *ptr;
    size_t size;   /* bytes the caller asked for and filled */
    size_t align;  /* alignment the block must keep */
    uint32_t tag;
} slot;

static _Alignas(16) unsigned char first_region[FIRST_BYTES];
static _Alignas(16) unsigned char extra_region[EXTRA_POOLS][EXTRA_BYTES];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static slot slots[SLOTS];
static int extra_added[EXTRA_POOLS];
static unsigned char *recently_freed[8];
static uint32_t next_tag;

static void verify_slot(const slot *s)
{
    FUZZ_ASSERT(fuzz_verify(s->ptr, s->size, s->tag));
    FUZZ_ASSERT(tlsf_block_size(s->ptr) >= s->size);
    FUZZ_ASSERT(((uintptr_t)s->ptr % s->align) == 0);
}

static void remember_freed(unsigned char *p)
{
    recently_freed[next_tag % 8] = p;
}

static void release(tlsf_t t, slot *s)
{
    if (!s->ptr) return;
    verify_slot(s);
    FUZZ_ASSERT(tlsf_free_checked(t, s->ptr) == TLSF_OK);
    remember_freed(s->ptr);
    s->ptr = NULL;
}

static void store(slot *s, void *p, size_t bytes, size_t align)
{
    s->ptr = (unsigned char *)p;
    s->size = bytes;
    s->align = align < tlsf_align_size() ? tlsf_align_size() : align;
    s->tag = ++next_tag;
    fuzz_fill(s->ptr, bytes, s->tag);
}

static int is_live(const void *p)
{
    for (int i = 0; i < SLOTS; ++i)
        if (slots[i].ptr && slots[i].ptr == p) return 1;
    return 0;
}

static int pool_has_live_block(int k)
{
    const unsigned char *lo = extra_region[k], *hi = lo + EXTRA_BYTES;
    for (int i = 0; i < SLOTS; ++i)
        if (slots[i].ptr && slots[i].ptr >= lo && slots[i].ptr < hi) return 1;
    return 0;
}

/* A pointer the heap may or may not own: the free must be refused exactly
 * when it is not a live block. */
static unsigned char *suspicious_pointer(fuzz_input *in)
{
    static unsigned char outside[64]; /* never part of a pool */
    uint32_t kind = fuzz_u8(in) % 5, i = fuzz_u8(in);
    slot *s = &slots[i % SLOTS];
    switch (kind) {
    case 0: return recently_freed[i % 8];
    case 1: return s->ptr ? s->ptr + 1 + (i % (s->size ? s->size : 1)) : NULL;
    case 2: return first_region + fuzz_u16(in) % FIRST_BYTES;
    case 3: return extra_region[i % EXTRA_POOLS] + fuzz_u16(in) % EXTRA_BYTES;
    default: return outside + i % sizeof outside;
    }
}

static void step(tlsf_t t, fuzz_input *in)
{
    uint32_t op = fuzz_u8(in) % 9;
    slot *s = &slots[fuzz_u8(in) % SLOTS];
    switch (op) {
    case 0: case 1: { /* malloc */
        size_t n = fuzz_size(in, 14);
        release(t, s);
        void *p = tlsf_malloc(t, n);
        if (p) store(s, p, n, 0);
        break;
    }
    case 2: { /* memalign, including alignments it must refuse */
        size_t align = (size_t)1 << (fuzz_u8(in) % 14);
        size_t n = fuzz_size(in, 13);
        release(t, s);
        void *p = tlsf_memalign(t, align, n);
        if (align > TLSF_ALIGN_MAX) FUZZ_ASSERT(p == NULL);
        if (p) store(s, p, n, align);
        break;
    }
    case 3: { /* realloc keeps contents and alignment */
        size_t n = fuzz_size(in, 14);
        if (!s->ptr) break;
        verify_slot(s);
        void *p = tlsf_realloc(t, s->ptr, n);
        if (!p) { verify_slot(s); break; }
        size_t kept = n < s->size ? n : s->size;
        FUZZ_ASSERT(fuzz_verify(p, kept, s->tag));
        FUZZ_ASSERT(((uintptr_t)p % s->align) == 0);
        if (p != s->ptr) remember_freed(s->ptr);
        s->ptr = (unsigned char *)p;
        s->size = n;
        s->tag = ++next_tag;
        fuzz_fill(p, n, s->tag);
        break;
    }
    case 4: release(t, s); break;
    case 5: { /* double, interior and foreign frees */
        unsigned char *p = suspicious_pointer(in);
        int live = p && is_live(p);
        FUZZ_ASSERT(tlsf_owns(t, p) == live);
        if (!live && p) {
            FUZZ_ASSERT(tlsf_free_checked(t, p) == TLSF_ERR_NOT_OWNED);
            FUZZ_ASSERT(tlsf_realloc(t, p, 16) == NULL);
        }
        break;
    }
    case 6: { /* pools come and go */
        int k = (int)(fuzz_u8(in) % EXTRA_POOLS);
        if (!extra_added[k]) {
            FUZZ_ASSERT(tlsf_add_pool(t, extra_region[k], EXTRA_BYTES) == TLSF_OK);
            extra_added[k] = 1;
        } else {
            int rc = tlsf_remove_pool(t, extra_region[k]);
            FUZZ_ASSERT(rc == (pool_has_live_block(k) ? TLSF_ERR_POOL_IN_USE : TLSF_OK));
            if (rc == TLSF_OK) extra_added[k] = 0;
        }
        break;
    }
    case 7: { /* sizes that must fail without wrapping */
        size_t n = SIZE_MAX - (size_t)fuzz_u8(in);
        FUZZ_ASSERT(tlsf_malloc(t, n) == NULL);
        FUZZ_ASSERT(tlsf_memalign(t, 64, n) == NULL);
        if (s->ptr) FUZZ_ASSERT(tlsf_realloc(t, s->ptr, n) == NULL);
        break;
    }
    default: { /* free, then malloc of the same size must succeed */
        if (!s->ptr || s->align > tlsf_align_size()) break;
        size_t n = s->size;
        release(t, s);
        void *p = tlsf_malloc(t, n);
        FUZZ_ASSERT(p != NULL);
        store(s, p, n, 0);
        break;
    }
    }
}

static void check_heap(tlsf_t t)
{
    FUZZ_ASSERT(tlsf_check(t) == 0);
    tlsf_stats_t st;
    tlsf_stats(t, &st);
    size_t live = 0;
    for (int i = 0; i < SLOTS; ++i) live += slots[i].ptr != NULL;
    FUZZ_ASSERT(st.used_blocks == live);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(slots, 0, sizeof slots);
    memset(extra_added, 0, sizeof extra_added);
    memset(recently_freed, 0, sizeof recently_freed);
    tlsf_t t = tlsf_create(first_region, FIRST_BYTES);
    FUZZ_ASSERT(t != NULL);

    fuzz_input in = { data, size };
    while (in.left > 0) {
        step(t, &in);
        check_heap(t);
    }
    for (int i = 0; i < SLOTS; ++i) release(t, &slots[i]);
    check_heap(t);
    tlsf_stats_t st;
    tlsf_stats(t, &st);
    FUZZ_ASSERT(st.used_blocks == 0 && st.used_bytes == 0);
    return 0;
}
