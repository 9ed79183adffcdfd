package dev.nalloc.internal;

import dev.nalloc.ThreadCache;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Plain loads, stores and one compare-and-swap on native addresses, for the Java fast path of
 * {@link ThreadCache}: what lets a cached malloc+free pair run without a native call. This is the
 * JDK 22+ implementation (the multi-release jar's {@code META-INF/versions/22}), on the FFM API
 * and without {@code sun.misc.Unsafe}, whose memory access methods warn from JDK 24 on (JEP 498)
 * and are to be removed (JEP 471).
 *
 * <p>Every access goes through one segment, {@link #ALL}, that starts at address 0 and spans the
 * whole positive address range, so a native address is its own offset. Because the segment is a
 * {@code static final} constant of the global scope, the JIT folds its base, size, read-only
 * and thread-confinement tests, and each accessor compiles to the same instruction as Unsafe's
 * plus a compare against the upper bound and a load and test of the scope's state, which it
 * keeps. A segment per
 * cache ({@code MemorySegment.ofAddress(base).reinterpret(span)}) would bound accesses more
 * tightly but is not a constant, so each access would load its base and size from the segment
 * object; the caches' counts, slots, statistics and the gate's words also lie in different
 * native allocations, which no single per-cache segment covers.
 *
 * <p>Plain loads and stores go through the unaligned layouts ({@code JAVA_INT_UNALIGNED},
 * {@code JAVA_LONG_UNALIGNED}), whose alignment test folds away: with the aligned ones every access
 * keeps a test and a branch, and the larger compiled code inlines less. On JDK 25 (x86-64) a
 * cached 64 B malloc+free pair took about 12 ns of CPU time this way, 14 to 16 ns with aligned
 * plain accesses, and 10 ns with the Unsafe implementation on the same JVM. The words are
 * naturally aligned in C anyway, and x86-64 and AArch64 use the same instruction for both. The
 * compare-and-swap, the volatile and the release accesses need an aligned layout
 * ({@code JAVA_INT}, {@code JAVA_LONG}; the unaligned ones refuse them) and keep its test: five
 * of the pair's twenty-odd accesses. {@code VarHandle.withInvokeExactBehavior()} made no
 * measurable difference (the calls below already have the exact types), so it is not used.
 *
 * <p>{@code MemorySegment.reinterpret} is a restricted method: with
 * {@code --enable-native-access=ALL-UNNAMED} (or the module that holds nalloc) it is silent.
 * Without it, JDK 22 and 23 would print a warning, so there the fast path stays off (as JNI, the
 * binding, prints none); JDK 24 and 25 print one warning, which JNI libraries get there too; a
 * JDK that denies native access throws. Whenever it is off, {@link #STATUS} says why. The system property
 * {@code dev.nalloc.fastPath=false} turns it off; without the fast path every {@link ThreadCache}
 * call takes the native path: the same results, several times slower.
 */
public final class RawMemory {
    private RawMemory() {}

    /** Address 0 to {@code Long.MAX_VALUE}: offset = address. {@code NULL} when off. */
    private static final MemorySegment ALL;

    /*
     * The layouts' var handles take (MemorySegment, long offset): called below with exactly those
     * static types and the exact value type, so each call links to its access method directly.
     * PLAIN_*: plain get and set (see the class comment); INT, LONG: the atomic access modes.
     */
    private static final VarHandle PLAIN_INT = ValueLayout.JAVA_INT_UNALIGNED.varHandle();
    private static final VarHandle PLAIN_LONG = ValueLayout.JAVA_LONG_UNALIGNED.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    /**
     * Whether the accessors below may be called. When false, calling them fails; callers test this
     * constant first, so the JIT folds the test away.
     */
    public static final boolean ENABLED;

    /** Why the fast path is on or off, for {@link ThreadCache#toString()} and diagnostics. */
    public static final String STATUS;

    static {
        MemorySegment all = MemorySegment.NULL;
        String status;
        int feature = Runtime.version().feature();
        if (System.getProperty("dev.nalloc.fastPath", "").equals("false")) {
            status = "off (dev.nalloc.fastPath=false)";
        } else if (feature < 24 && !RawMemory.class.getModule().isNativeAccessEnabled()) {
            // JDK 22 and 23 print a warning for a restricted method without the flag, and none for
            // JNI: a library must not add a warning its users did not ask for (the binding makes
            // the same choice, see dev.nalloc.internal.door.Binding)
            status = "off (JDK " + feature + " without --enable-native-access=ALL-UNNAMED, where the FFM"
                    + " fast path would make the JDK print a warning)";
        } else {
            try {
                all = addressSpace();
                status = "on (FFM MemorySegment)";
            } catch (RuntimeException | LinkageError e) {
                // IllegalCallerException where native access is denied to this module
                status = "off (MemorySegment.reinterpret refused: " + e
                        + "; run with --enable-native-access=ALL-UNNAMED, or the module holding nalloc)";
            }
        }
        ALL = all;
        ENABLED = all.byteSize() != 0;
        STATUS = status;
    }

    /** Restricted: the JDK checks this class's module for native access here, once. */
    @SuppressWarnings("restricted")
    private static MemorySegment addressSpace() {
        return MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    }

    /** The address-space segment, for {@link DirectBufferFactory}'s views; {@code NULL} when off. */
    static MemorySegment all() {
        return ALL;
    }

    /** A plain load of the 32-bit word at {@code address}. */
    public static int getInt(long address) {
        return (int) PLAIN_INT.get(ALL, address);
    }

    /** A plain store of the 32-bit word at {@code address}. */
    public static void putInt(long address, int value) {
        PLAIN_INT.set(ALL, address, value);
    }

    /** A plain load of the 64-bit word at {@code address}. */
    public static long getLong(long address) {
        return (long) PLAIN_LONG.get(ALL, address);
    }

    /** A plain store of the 64-bit word at {@code address}. */
    public static void putLong(long address, long value) {
        PLAIN_LONG.set(ALL, address, value);
    }

    /** Compare-and-swap of the 32-bit word at {@code address}; true when it held {@code expected}. */
    public static boolean casInt(long address, int expected, int value) {
        return INT.compareAndSet(ALL, address, expected, value);
    }

    /** A volatile (sequentially consistent) load of the 32-bit word at {@code address}. */
    public static int getIntVolatile(long address) {
        return (int) INT.getVolatile(ALL, address);
    }

    /** A volatile (sequentially consistent) store of the 64-bit word at {@code address}. */
    public static void putLongVolatile(long address, long value) {
        LONG.setVolatile(ALL, address, value);
    }

    /** A release store of the 64-bit word at {@code address}. */
    public static void putLongRelease(long address, long value) {
        LONG.setRelease(ALL, address, value);
    }

    /**
     * Keeps later loads from moving above earlier loads and stores in the compiled code: the same
     * intrinsic as Unsafe's {@code loadFence}, which C2 treats as a barrier for every memory access.
     */
    public static void loadFence() {
        VarHandle.acquireFence();
    }

    /** Sets {@code bytes} bytes at {@code address} to {@code value}. */
    public static void setMemory(long address, long bytes, byte value) {
        ALL.asSlice(address, bytes).fill(value);
    }
}
