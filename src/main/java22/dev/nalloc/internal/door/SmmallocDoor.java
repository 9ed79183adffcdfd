package dev.nalloc.internal.door;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.nalloc.internal.jni.GatedSmmallocNative;
import java.lang.invoke.MethodHandle;

/**
 * The bucket allocator's calls behind its gate ({@code nalloc_sm_gated.h}): {@code gate} is the
 * {@code nalloc_gate*} of {@code nalloc_sm_open}. On a shut gate, pointer and size results are 0
 * and status results {@link GatedSmmallocNative#NALLOC_SM_CLOSED}. JDK 22+ version: critical
 * downcalls for the calls that enter the gate (allocation work, but a realloc to a large size,
 * which may copy that much, takes a plain one; a shut gate turns them back at
 * once, and the only wait, for a {@code check()} holding the gate, ends with that walk, which
 * runs through JNI and so never waits for a safepoint), a plain one for {@link #close} (it waits
 * for the calls inside), or JNI ({@link GatedSmmallocNative}) when {@link Binding#kind()} says so.
 */
public final class SmmallocDoor {
    private SmmallocDoor() {}

    private static final boolean FFM = Binding.FFM;
    private static final MethodHandle MALLOC = Binding.downcall("nalloc_ffm_sm_malloc", true, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle FREE = Binding.downcall("nalloc_ffm_sm_free", true, JAVA_INT, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle REALLOC = Binding.downcall("nalloc_ffm_sm_realloc", true, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    /** For sizes above {@link Binding#CRITICAL_COPY_MAX}: the move may copy that much. */
    private static final MethodHandle REALLOC_LARGE = Binding.downcall("nalloc_ffm_sm_realloc", false, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle MSIZE = Binding.downcall("nalloc_ffm_sm_msize", true, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle MBUCKET = Binding.downcall("nalloc_ffm_sm_mbucket", true, JAVA_INT, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle OWNS = Binding.downcall("nalloc_ffm_sm_owns", true, JAVA_INT, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle CLOSE = Binding.downcall("nalloc_ffm_sm_close", false, null, JAVA_LONG);

    /** A block of {@code bytes} aligned to {@code alignment} (0: default), or 0. */
    public static long malloc(long gate, long bytes, long alignment) {
        if (!FFM) {
            return GatedSmmallocNative.nalloc_sm_malloc(gate, bytes, alignment);
        }
        try {
            return (long) MALLOC.invokeExact(gate, bytes, alignment);
        } catch (Throwable t) {
            throw Binding.rethrow(t);
        }
    }

    /** {@code sm_free_checked}'s status, or {@code NALLOC_SM_CLOSED}. */
    public static int free(long gate, long address) {
        if (!FFM) {
            return GatedSmmallocNative.nalloc_sm_free(gate, address);
        }
        try {
            return (int) FREE.invokeExact(gate, address);
        } catch (Throwable t) {
            throw Binding.rethrow(t);
        }
    }

    /** {@code sm_realloc}: the (possibly moved) block, or 0. */
    public static long realloc(long gate, long address, long bytes, long alignment) {
        if (!FFM) {
            return GatedSmmallocNative.nalloc_sm_realloc(gate, address, bytes, alignment);
        }
        try {
            return Long.compareUnsigned(bytes, Binding.CRITICAL_COPY_MAX) <= 0
                    ? (long) REALLOC.invokeExact(gate, address, bytes, alignment)
                    : (long) REALLOC_LARGE.invokeExact(gate, address, bytes, alignment);
        } catch (Throwable t) {
            throw Binding.rethrow(t);
        }
    }

    /** Usable bytes of a live block, else 0. */
    public static long msize(long gate, long address) {
        if (!FFM) {
            return GatedSmmallocNative.nalloc_sm_msize(gate, address);
        }
        try {
            return (long) MSIZE.invokeExact(gate, address);
        } catch (Throwable t) {
            throw Binding.rethrow(t);
        }
    }

    /** The bucket of a live bucket block, -1 for anything else, or {@code NALLOC_SM_CLOSED}. */
    public static int mbucket(long gate, long address) {
        if (!FFM) {
            return GatedSmmallocNative.nalloc_sm_mbucket(gate, address);
        }
        try {
            return (int) MBUCKET.invokeExact(gate, address);
        } catch (Throwable t) {
            throw Binding.rethrow(t);
        }
    }

    /** 1 for a live block, 0 otherwise, or {@code NALLOC_SM_CLOSED}. */
    public static int owns(long gate, long address) {
        if (!FFM) {
            return GatedSmmallocNative.nalloc_sm_owns(gate, address);
        }
        try {
            return (int) OWNS.invokeExact(gate, address);
        } catch (Throwable t) {
            throw Binding.rethrow(t);
        }
    }

    /**
     * Frees the valid pointers of {@code addresses[0..count)}, sets each freed entry to 0 and
     * returns how many were refused; -1 when closed (nothing freed).
     *
     * <p>Through JNI on every JDK: JavaCPP pins the array without making an object, where a
     * downcall would need a heap {@code MemorySegment} per call, and one transition serves the
     * whole batch, so a cheaper one would gain little.
     *
     * @throws IndexOutOfBoundsException if {@code count} is negative or beyond the array
     */
    public static long freeBatch(long gate, long[] addresses, int count) {
        return GatedSmmallocNative.nalloc_sm_free_batch(gate, addresses, count);
    }

    /** Shuts the gate, waits for the calls inside and destroys the allocator. Once only. */
    public static void close(long gate) {
        if (!FFM) {
            GatedSmmallocNative.nalloc_sm_close(gate);
            return;
        }
        try {
            CLOSE.invokeExact(gate);
        } catch (Throwable t) {
            throw Binding.rethrow(t);
        }
    }
}
