/* libFuzzer harness for the bucket allocator: the input is a program of
 * allocator operations (with and without a thread cache, on buckets small
 * enough to run dry and spill into the fallback) run against a model of the
 * live blocks. After every step sm_check must pass, the statistics must
 * count exactly the model's live blocks, and every block must still hold
 * the pattern written into it. */
#include "fuzz_input.h"
#include "smmalloc.h"

#include <stdint.h>

#define SLOTS 96
#define BUCKETS 4
#define BUCKET_BYTES 4096

typedef struct {
    unsigned char *ptr;
    size_t size;
    size_t align;
    uint32_t tag;
} slot;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static slot slots[SLOTS];
static unsigned char *recently_freed[8];
static uint32_t next_tag;

static size_t fuzz_align(fuzz_input *in)
{
    uint32_t v = fuzz_u8(in) % 17;
    /* 0: default; up to 2^13, past the buckets' SM_ALIGN_MAX (the fallback's);
     * one beyond SM_ALIGN_FALLBACK_MAX, which must fail */
    return v == 16 ? 2 * SM_ALIGN_FALLBACK_MAX : v >= 14 ? 0 : (size_t)1 << v;
}

static void verify_slot(sm_allocator a, const slot *s)
{
    FUZZ_ASSERT(fuzz_verify(s->ptr, s->size, s->tag));
    FUZZ_ASSERT(sm_owns(a, s->ptr));
    FUZZ_ASSERT(sm_msize(a, s->ptr) >= s->size);
    FUZZ_ASSERT(((uintptr_t)s->ptr % s->align) == 0);
    int32_t b = sm_mbucket(a, s->ptr);
    FUZZ_ASSERT(b >= -1 && b < BUCKETS);
    if (b >= 0) FUZZ_ASSERT(sm_msize(a, s->ptr) == (size_t)16 * (size_t)(b + 1));
}

static void release(sm_allocator a, slot *s)
{
    if (!s->ptr) return;
    verify_slot(a, s);
    FUZZ_ASSERT(sm_free_checked(a, s->ptr) == SM_OK);
    recently_freed[next_tag % 8] = s->ptr;
    s->ptr = NULL;
}

static void store(slot *s, void *p, size_t bytes, size_t align)
{
    s->ptr = (unsigned char *)p;
    s->size = bytes;
    s->align = align ? align : SM_ALIGN_DEFAULT;
    s->tag = ++next_tag;
    fuzz_fill(p, bytes, s->tag);
}

static int is_live(const void *p)
{
    for (int i = 0; i < SLOTS; ++i)
        if (slots[i].ptr && slots[i].ptr == p) return 1;
    return 0;
}

static unsigned char *suspicious_pointer(fuzz_input *in)
{
    static unsigned char outside[64];
    uint32_t kind = fuzz_u8(in) % 3, i = fuzz_u8(in);
    slot *s = &slots[i % SLOTS];
    switch (kind) {
    case 0: return recently_freed[i % 8];
    case 1: return s->ptr ? s->ptr + 1 + (i % (s->size ? s->size : 1)) : NULL;
    default: return outside + (i % 64);
    }
}

static void step(sm_allocator a, fuzz_input *in)
{
    uint32_t op = fuzz_u8(in) % 9;
    slot *s = &slots[fuzz_u8(in) % SLOTS];
    switch (op) {
    case 0: case 1: {
        size_t n = fuzz_size(in, 11), align = fuzz_align(in);
        release(a, s);
        void *p = sm_malloc(a, n, align);
        if (align > SM_ALIGN_FALLBACK_MAX) FUZZ_ASSERT(p == NULL);
        else FUZZ_ASSERT(p != NULL); /* the fallback always has room here */
        if (p) store(s, p, n, align);
        break;
    }
    case 2: {
        size_t n = fuzz_size(in, 11), align = fuzz_align(in);
        if (!s->ptr) break;
        verify_slot(a, s);
        void *p = sm_realloc(a, s->ptr, n, align);
        if (!p) { FUZZ_ASSERT(align > SM_ALIGN_FALLBACK_MAX); verify_slot(a, s); break; }
        size_t kept = n < s->size ? n : s->size;
        FUZZ_ASSERT(fuzz_verify(p, kept, s->tag));
        if (p != s->ptr) recently_freed[next_tag % 8] = s->ptr;
        store(s, p, n, align);
        break;
    }
    case 3: release(a, s); break;
    case 4: {
        unsigned char *p = suspicious_pointer(in);
        int live = p && is_live(p);
        FUZZ_ASSERT(sm_owns(a, p) == live);
        if (!live && p) {
            int rc = sm_free_checked(a, p);
            FUZZ_ASSERT(rc == SM_ERR_DOUBLE_FREE || rc == SM_ERR_NOT_OWNED);
            FUZZ_ASSERT(sm_msize(a, p) == 0);
            FUZZ_ASSERT(sm_mbucket(a, p) == -1);
            FUZZ_ASSERT(sm_realloc(a, p, 16, 0) == NULL);
        }
        break;
    }
    case 5: { /* a batch of live blocks plus one pointer that may be bad */
        void *batch[9];
        slot *from[8];
        size_t n = 0;
        uint32_t count = fuzz_u8(in) % 8;
        for (uint32_t k = 0; k < count; ++k) {
            slot *t = &slots[fuzz_u8(in) % SLOTS];
            int dup = 0;
            for (size_t j = 0; j < n; ++j) dup |= from[j] == t;
            if (!t->ptr || dup) continue;
            verify_slot(a, t);
            from[n] = t;
            batch[n++] = t->ptr;
        }
        unsigned char *bad = suspicious_pointer(in);
        int bad_refused = bad && !is_live(bad);
        if (bad_refused) batch[n] = bad;
        size_t refused = sm_free_batch_checked(a, batch, n + (size_t)bad_refused);
        FUZZ_ASSERT(refused == (size_t)bad_refused);
        for (size_t j = 0; j < n; ++j) {
            FUZZ_ASSERT(batch[j] == NULL);
            recently_freed[(next_tag + j) % 8] = from[j]->ptr;
            from[j]->ptr = NULL;
        }
        if (bad_refused) FUZZ_ASSERT(batch[n] == bad);
        break;
    }
    case 6: {
        uint32_t v = fuzz_u8(in);
        if (v % 4 == 0) {
            sm_allocator_thread_cache_destroy(a);
            FUZZ_ASSERT(!sm_allocator_thread_cache_exists(a));
        } else {
            size_t bytes = (size_t)(fuzz_u8(in) % 8) * 64;
            sm_allocator_thread_cache_create(a, (sm_cache_warmup)(v % 3), bytes);
            FUZZ_ASSERT(sm_allocator_thread_cache_exists(a) == (bytes > 0));
        }
        break;
    }
    default: { /* sizes that must fail without wrapping */
        size_t n = SIZE_MAX - (size_t)fuzz_u8(in);
        FUZZ_ASSERT(sm_malloc(a, n, 0) == NULL);
        if (s->ptr) { FUZZ_ASSERT(sm_realloc(a, s->ptr, n, 0) == NULL); verify_slot(a, s); }
        break;
    }
    }
}

static void check_allocator(sm_allocator a)
{
    FUZZ_ASSERT(sm_check(a) == 0);
    sm_stats st;
    sm_get_stats(a, &st);
    uint64_t in_use = st.fallback_blocks_in_use;
    for (size_t b = 0; b < st.bucket_count; ++b) in_use += st.buckets[b].blocks_in_use;
    uint64_t live = 0;
    for (int i = 0; i < SLOTS; ++i) live += slots[i].ptr != NULL;
    FUZZ_ASSERT(in_use == live);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(slots, 0, sizeof slots);
    memset(recently_freed, 0, sizeof recently_freed);
    sm_allocator a = sm_allocator_create(BUCKETS, BUCKET_BYTES);
    FUZZ_ASSERT(a != NULL);

    fuzz_input in = { data, size };
    while (in.left > 0) {
        step(a, &in);
        check_allocator(a);
    }
    for (int i = 0; i < SLOTS; ++i) release(a, &slots[i]);
    check_allocator(a);
    /* Sometimes leave the cache behind: destroy must cope with it. */
    if (size == 0 || data[size - 1] % 2 == 0) sm_allocator_thread_cache_destroy(a);
    sm_allocator_destroy(a);
    return 0;
}
