package dev.nalloc.internal.jni;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.MemberGetter;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.NoException;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * The C headers' macros, enum values and struct sizes as the compiler sees them, read through
 * JavaCPP {@link MemberGetter}s. Used by tests to check that the compile-time constants of
 * {@link TlsfNative}, {@link SmmallocNative}, {@link GateNative} and {@link GatedSmmallocNative}
 * match their C headers.
 */
@Properties(inherit = NallocLibrary.class)
@NoException
final class NativeConstants {
    static {
        Loader.load();
    }

    private NativeConstants() {}

    @MemberGetter static native int TLSF_ALIGN_MAX();
    @MemberGetter static native int TLSF_OK();
    @MemberGetter static native int TLSF_ERR_ARG();
    @MemberGetter static native int TLSF_ERR_TOO_SMALL();
    @MemberGetter static native int TLSF_ERR_TOO_BIG();
    @MemberGetter static native int TLSF_ERR_OVERLAP();
    @MemberGetter static native int TLSF_ERR_NOT_POOL();
    @MemberGetter static native int TLSF_ERR_POOL_IN_USE();
    @MemberGetter static native int TLSF_ERR_FIRST_POOL();
    @MemberGetter static native int TLSF_ERR_NOT_OWNED();
    @MemberGetter static native int TLSF_INV_OK();
    @MemberGetter static native int TLSF_INV_COUNT();
    @MemberGetter @Name("sizeof(tlsf_stats_t)") static native @Cast("size_t") long sizeof_tlsf_stats_t();

    @MemberGetter static native int SM_CACHE_COLD();
    @MemberGetter static native int SM_CACHE_WARM();
    @MemberGetter static native int SM_CACHE_HOT();
    @MemberGetter static native int SM_MAX_BUCKETS();
    @MemberGetter static native @Cast("size_t") long SM_BUCKET_SIZE_MIN();
    @MemberGetter static native @Cast("size_t") long SM_BUCKET_SIZE_MAX();
    @MemberGetter static native int SM_BLOCK_GRANULE();
    @MemberGetter static native int SM_ALIGN_DEFAULT();
    @MemberGetter static native int SM_ALIGN_MAX();
    @MemberGetter static native @Cast("size_t") long SM_ALIGN_FALLBACK_MAX();
    @MemberGetter static native int SM_OK();
    @MemberGetter static native int SM_ERR_DOUBLE_FREE();
    @MemberGetter static native int SM_ERR_NOT_OWNED();
    @MemberGetter static native int SM_CHECK_NO_MEMORY();
    @MemberGetter static native int SM_LAYOUT_BASE();
    @MemberGetter static native int SM_LAYOUT_DATA_SPAN();
    @MemberGetter static native int SM_LAYOUT_STRIDE_LOG2();
    @MemberGetter static native int SM_LAYOUT_BUCKET_COUNT();
    @MemberGetter static native int SM_LAYOUT_MARK_USED();
    @MemberGetter static native int SM_LAYOUT_HEADER();
    @MemberGetter static native int SM_LAYOUT_HEAD();
    @MemberGetter static native int SM_LAYOUT_CUR_LO();
    @MemberGetter static native int SM_LAYOUT_CUR_HI();
    @MemberGetter static native int SM_LAYOUT_DATA();
    @MemberGetter static native int SM_LAYOUT_BLOCK_SIZE();
    @MemberGetter static native int SM_LAYOUT_SIDE();
    @MemberGetter static native int SM_LAYOUT_MAGIC();
    @MemberGetter static native int SM_LAYOUT_UNITS();
    @MemberGetter static native int SM_LAYOUT_HITS();
    @MemberGetter static native int SM_LAYOUT_FREES();
    @MemberGetter static native int SM_LAYOUT_BUCKET();
    @MemberGetter @Name("sizeof(sm_stats)") static native @Cast("size_t") long sizeof_sm_stats();
    @MemberGetter @Name("sizeof(sm_bucket_stats)") static native @Cast("size_t") long sizeof_sm_bucket_stats();

    @MemberGetter static native int NALLOC_GATE_OPEN();
    @MemberGetter static native int NALLOC_GATE_HELD();
    @MemberGetter static native int NALLOC_GATE_SHUT();
    @MemberGetter @Name("offsetof(nalloc_gate, state)") static native @Cast("size_t") long offsetof_gate_state();
    @MemberGetter @Name("offsetof(nalloc_gate_reader, inside)") static native @Cast("size_t") long offsetof_reader_inside();
    @MemberGetter @Name("sizeof(((nalloc_gate *)0)->state)") static native @Cast("size_t") long sizeof_gate_state();
    @MemberGetter @Name("sizeof(((nalloc_gate_reader *)0)->inside)") static native @Cast("size_t") long sizeof_reader_inside();
    @MemberGetter static native int NALLOC_SM_CLOSED();

    @MemberGetter static native int NALLOC_LWJGL_MALLOC();
    @MemberGetter static native int NALLOC_LWJGL_CALLOC();
    @MemberGetter static native int NALLOC_LWJGL_REALLOC();
    @MemberGetter static native int NALLOC_LWJGL_FREE();
    @MemberGetter static native int NALLOC_LWJGL_ALIGNED_ALLOC();
    @MemberGetter static native int NALLOC_LWJGL_ALIGNED_FREE();
}
