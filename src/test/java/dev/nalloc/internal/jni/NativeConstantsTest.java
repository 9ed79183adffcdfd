package dev.nalloc.internal.jni;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The Java compile-time constants must equal the C headers' macros and enums. */
class NativeConstantsTest {

    @Test
    void tlsfConstantsMatchHeader() {
        assertEquals(NativeConstants.TLSF_ALIGN_MAX(), TlsfNative.TLSF_ALIGN_MAX);
        assertEquals(NativeConstants.TLSF_OK(), TlsfNative.TLSF_OK);
        assertEquals(NativeConstants.TLSF_ERR_ARG(), TlsfNative.TLSF_ERR_ARG);
        assertEquals(NativeConstants.TLSF_ERR_TOO_SMALL(), TlsfNative.TLSF_ERR_TOO_SMALL);
        assertEquals(NativeConstants.TLSF_ERR_TOO_BIG(), TlsfNative.TLSF_ERR_TOO_BIG);
        assertEquals(NativeConstants.TLSF_ERR_OVERLAP(), TlsfNative.TLSF_ERR_OVERLAP);
        assertEquals(NativeConstants.TLSF_ERR_NOT_POOL(), TlsfNative.TLSF_ERR_NOT_POOL);
        assertEquals(NativeConstants.TLSF_ERR_POOL_IN_USE(), TlsfNative.TLSF_ERR_POOL_IN_USE);
        assertEquals(NativeConstants.TLSF_ERR_FIRST_POOL(), TlsfNative.TLSF_ERR_FIRST_POOL);
        assertEquals(NativeConstants.TLSF_ERR_NOT_OWNED(), TlsfNative.TLSF_ERR_NOT_OWNED);
        assertEquals(NativeConstants.TLSF_INV_OK(), TlsfNative.TLSF_INV_OK);
        assertEquals(NativeConstants.TLSF_INV_COUNT(), TlsfNative.TLSF_INV_COUNT);
        // tlsf_stats(long, long) writes a tlsf_stats_t: TLSF_STATS_LONGS size_t fields.
        assertEquals(TlsfNative.TLSF_STATS_LONGS * Long.BYTES, NativeConstants.sizeof_tlsf_stats_t());
    }

    /** The Java fast path writes a reader's {@code inside} and reads a gate's {@code state} by address. */
    @Test
    void gateConstantsAndLayoutMatchHeader() {
        assertEquals(NativeConstants.NALLOC_GATE_OPEN(), GateNative.GATE_OPEN);
        assertEquals(NativeConstants.NALLOC_GATE_HELD(), GateNative.GATE_HELD);
        assertEquals(NativeConstants.NALLOC_GATE_SHUT(), GateNative.GATE_SHUT);
        assertEquals(NativeConstants.offsetof_gate_state(), GateNative.GATE_STATE_OFFSET);
        assertEquals(NativeConstants.offsetof_reader_inside(), GateNative.READER_INSIDE_OFFSET);
        assertEquals(Integer.BYTES, NativeConstants.sizeof_gate_state());
        assertEquals(Long.BYTES, NativeConstants.sizeof_reader_inside());
        assertEquals(NativeConstants.NALLOC_SM_CLOSED(), GatedSmmallocNative.NALLOC_SM_CLOSED);
    }

    @Test
    void smmallocConstantsMatchHeader() {
        assertEquals(NativeConstants.SM_CACHE_COLD(), SmmallocNative.SM_CACHE_COLD);
        assertEquals(NativeConstants.SM_CACHE_WARM(), SmmallocNative.SM_CACHE_WARM);
        assertEquals(NativeConstants.SM_CACHE_HOT(), SmmallocNative.SM_CACHE_HOT);
        assertEquals(NativeConstants.SM_MAX_BUCKETS(), SmmallocNative.SM_MAX_BUCKETS);
        assertEquals(NativeConstants.SM_BUCKET_SIZE_MIN(), SmmallocNative.SM_BUCKET_SIZE_MIN);
        assertEquals(NativeConstants.SM_BUCKET_SIZE_MAX(), SmmallocNative.SM_BUCKET_SIZE_MAX);
        assertEquals(NativeConstants.SM_BLOCK_GRANULE(), SmmallocNative.SM_BLOCK_GRANULE);
        assertEquals(NativeConstants.SM_ALIGN_DEFAULT(), SmmallocNative.SM_ALIGN_DEFAULT);
        assertEquals(NativeConstants.SM_ALIGN_MAX(), SmmallocNative.SM_ALIGN_MAX);
        assertEquals(NativeConstants.SM_ALIGN_FALLBACK_MAX(), SmmallocNative.SM_ALIGN_FALLBACK_MAX);
        assertEquals(NativeConstants.SM_OK(), SmmallocNative.SM_OK);
        assertEquals(NativeConstants.SM_ERR_DOUBLE_FREE(), SmmallocNative.SM_ERR_DOUBLE_FREE);
        assertEquals(NativeConstants.SM_CHECK_NO_MEMORY(), SmmallocNative.SM_CHECK_NO_MEMORY);
        assertEquals(NativeConstants.SM_ERR_NOT_OWNED(), SmmallocNative.SM_ERR_NOT_OWNED);
        assertEquals(SmmallocNative.SM_BUCKET_STATS_LONGS * Long.BYTES, NativeConstants.sizeof_sm_bucket_stats());
        // size_t bucket_count + buckets[SM_MAX_BUCKETS] + 4 uint64_t counters
        assertEquals(Long.BYTES * (1 + 4) + SmmallocNative.SM_MAX_BUCKETS * NativeConstants.sizeof_sm_bucket_stats(),
                NativeConstants.sizeof_sm_stats());
    }

    @Test
    void threadCacheLayoutMatchesHeader() {
        assertEquals(NativeConstants.SM_LAYOUT_BASE(), SmmallocNative.SM_LAYOUT_BASE);
        assertEquals(NativeConstants.SM_LAYOUT_DATA_SPAN(), SmmallocNative.SM_LAYOUT_DATA_SPAN);
        assertEquals(NativeConstants.SM_LAYOUT_STRIDE_LOG2(), SmmallocNative.SM_LAYOUT_STRIDE_LOG2);
        assertEquals(NativeConstants.SM_LAYOUT_BUCKET_COUNT(), SmmallocNative.SM_LAYOUT_BUCKET_COUNT);
        assertEquals(NativeConstants.SM_LAYOUT_MARK_USED(), SmmallocNative.SM_LAYOUT_MARK_USED);
        assertEquals(NativeConstants.SM_LAYOUT_HEADER(), SmmallocNative.SM_LAYOUT_HEADER);
        assertEquals(NativeConstants.SM_LAYOUT_HEAD(), SmmallocNative.SM_LAYOUT_HEAD);
        assertEquals(NativeConstants.SM_LAYOUT_CUR_LO(), SmmallocNative.SM_LAYOUT_CUR_LO);
        assertEquals(NativeConstants.SM_LAYOUT_CUR_HI(), SmmallocNative.SM_LAYOUT_CUR_HI);
        assertEquals(NativeConstants.SM_LAYOUT_DATA(), SmmallocNative.SM_LAYOUT_DATA);
        assertEquals(NativeConstants.SM_LAYOUT_BLOCK_SIZE(), SmmallocNative.SM_LAYOUT_BLOCK_SIZE);
        assertEquals(NativeConstants.SM_LAYOUT_SIDE(), SmmallocNative.SM_LAYOUT_SIDE);
        assertEquals(NativeConstants.SM_LAYOUT_MAGIC(), SmmallocNative.SM_LAYOUT_MAGIC);
        assertEquals(NativeConstants.SM_LAYOUT_UNITS(), SmmallocNative.SM_LAYOUT_UNITS);
        assertEquals(NativeConstants.SM_LAYOUT_HITS(), SmmallocNative.SM_LAYOUT_HITS);
        assertEquals(NativeConstants.SM_LAYOUT_FREES(), SmmallocNative.SM_LAYOUT_FREES);
        assertEquals(NativeConstants.SM_LAYOUT_BUCKET(), SmmallocNative.SM_LAYOUT_BUCKET);
    }

    @Test
    void lwjglShimIndicesMatchHeader() {
        assertEquals(NativeConstants.NALLOC_LWJGL_MALLOC(), LwjglNative.NALLOC_LWJGL_MALLOC);
        assertEquals(NativeConstants.NALLOC_LWJGL_CALLOC(), LwjglNative.NALLOC_LWJGL_CALLOC);
        assertEquals(NativeConstants.NALLOC_LWJGL_REALLOC(), LwjglNative.NALLOC_LWJGL_REALLOC);
        assertEquals(NativeConstants.NALLOC_LWJGL_FREE(), LwjglNative.NALLOC_LWJGL_FREE);
        assertEquals(NativeConstants.NALLOC_LWJGL_ALIGNED_ALLOC(), LwjglNative.NALLOC_LWJGL_ALIGNED_ALLOC);
        assertEquals(NativeConstants.NALLOC_LWJGL_ALIGNED_FREE(), LwjglNative.NALLOC_LWJGL_ALIGNED_FREE);
    }
}
