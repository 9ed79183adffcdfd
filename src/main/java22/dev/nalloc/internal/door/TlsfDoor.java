package dev.nalloc.internal.door;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.nalloc.internal.jni.TlsfNative;
import java.lang.invoke.MethodHandle;

/**
 * The hot calls of a TLSF heap ({@code tlsf.h}): {@code heap} is a {@code tlsf_t}, and one thread
 * at a time may use it. JDK 22+ version: critical downcalls (allocation work, no blocking, no
 * callbacks; a realloc to a large size, which may copy that much, takes a plain one), or JNI
 * ({@link TlsfNative}) when {@link Binding#kind()} says so.
 */
public final class TlsfDoor {
    private TlsfDoor() {}

    private static final boolean FFM = Binding.FFM;
    private static final MethodHandle MALLOC = Binding.downcall("nalloc_ffm_tlsf_malloc", true, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle MEMALIGN = Binding.downcall("nalloc_ffm_tlsf_memalign", true, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle REALLOC = Binding.downcall("nalloc_ffm_tlsf_realloc", true, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    /** For sizes above {@link Binding#CRITICAL_COPY_MAX}: the move may copy that much. */
    private static final MethodHandle REALLOC_LARGE = Binding.downcall("nalloc_ffm_tlsf_realloc", false, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle FREE_CHECKED = Binding.downcall("nalloc_ffm_tlsf_free_checked", true, JAVA_INT, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle OWNS = Binding.downcall("nalloc_ffm_tlsf_owns", true, JAVA_INT, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle USABLE_SIZE = Binding.downcall("nalloc_ffm_tlsf_usable_size", true, JAVA_LONG, JAVA_LONG, JAVA_LONG);

    /** {@code tlsf_malloc}: a block, or 0. */
    public static long malloc(long heap, long bytes) {
        if (!FFM) {
            return TlsfNative.tlsf_malloc(heap, bytes);
        }
        try {
            return (long) MALLOC.invokeExact(heap, bytes);
        } catch (Throwable t) {
            throw Binding.rethrow(t);
        }
    }

    /** {@code tlsf_memalign}: a block aligned to {@code alignment}, or 0. */
    public static long memalign(long heap, long alignment, long bytes) {
        if (!FFM) {
            return TlsfNative.tlsf_memalign(heap, alignment, bytes);
        }
        try {
            return (long) MEMALIGN.invokeExact(heap, alignment, bytes);
        } catch (Throwable t) {
            throw Binding.rethrow(t);
        }
    }

    /** {@code tlsf_realloc}: the (possibly moved) block, or 0 with {@code address} unchanged. */
    public static long realloc(long heap, long address, long bytes) {
        if (!FFM) {
            return TlsfNative.tlsf_realloc(heap, address, bytes);
        }
        try {
            return Long.compareUnsigned(bytes, Binding.CRITICAL_COPY_MAX) <= 0
                    ? (long) REALLOC.invokeExact(heap, address, bytes)
                    : (long) REALLOC_LARGE.invokeExact(heap, address, bytes);
        } catch (Throwable t) {
            throw Binding.rethrow(t);
        }
    }

    /** {@code tlsf_free_checked}: {@code TLSF_OK}, or {@code TLSF_ERR_NOT_OWNED} for a non-live block. */
    public static int freeChecked(long heap, long address) {
        if (!FFM) {
            return TlsfNative.tlsf_free_checked(heap, address);
        }
        try {
            return (int) FREE_CHECKED.invokeExact(heap, address);
        } catch (Throwable t) {
            throw Binding.rethrow(t);
        }
    }

    /** {@code tlsf_owns}: 1 for a live block of the heap, else 0. */
    public static int owns(long heap, long address) {
        if (!FFM) {
            return TlsfNative.tlsf_owns(heap, address);
        }
        try {
            return (int) OWNS.invokeExact(heap, address);
        } catch (Throwable t) {
            throw Binding.rethrow(t);
        }
    }

    /** Usable bytes of a live block of the heap, else 0. */
    public static long usableSize(long heap, long address) {
        if (!FFM) {
            return TlsfNative.nalloc_tlsf_usable_size(heap, address);
        }
        try {
            return (long) USABLE_SIZE.invokeExact(heap, address);
        } catch (Throwable t) {
            throw Binding.rethrow(t);
        }
    }
}
