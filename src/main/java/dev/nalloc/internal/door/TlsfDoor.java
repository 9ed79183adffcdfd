package dev.nalloc.internal.door;

import dev.nalloc.internal.jni.TlsfNative;

/**
 * The hot calls of a TLSF heap ({@code tlsf.h}): {@code heap} is a {@code tlsf_t}, and one thread
 * at a time may use it. This version binds through JNI ({@link TlsfNative}).
 */
public final class TlsfDoor {
    private TlsfDoor() {}

    /** {@code tlsf_malloc}: a block, or 0. */
    public static long malloc(long heap, long bytes) {
        return TlsfNative.tlsf_malloc(heap, bytes);
    }

    /** {@code tlsf_memalign}: a block aligned to {@code alignment}, or 0. */
    public static long memalign(long heap, long alignment, long bytes) {
        return TlsfNative.tlsf_memalign(heap, alignment, bytes);
    }

    /** {@code tlsf_realloc}: the (possibly moved) block, or 0 with {@code address} unchanged. */
    public static long realloc(long heap, long address, long bytes) {
        return TlsfNative.tlsf_realloc(heap, address, bytes);
    }

    /** {@code tlsf_free_checked}: {@code TLSF_OK}, or {@code TLSF_ERR_NOT_OWNED} for a non-live block. */
    public static int freeChecked(long heap, long address) {
        return TlsfNative.tlsf_free_checked(heap, address);
    }

    /** {@code tlsf_owns}: 1 for a live block of the heap, else 0. */
    public static int owns(long heap, long address) {
        return TlsfNative.tlsf_owns(heap, address);
    }

    /** Usable bytes of a live block of the heap, else 0. */
    public static long usableSize(long heap, long address) {
        return TlsfNative.nalloc_tlsf_usable_size(heap, address);
    }
}
