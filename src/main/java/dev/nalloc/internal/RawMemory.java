package dev.nalloc.internal;

import dev.nalloc.ThreadCache;
import java.lang.reflect.Field;
import sun.misc.Unsafe;

/**
 * Plain loads, stores and one compare-and-swap on native addresses, for the Java fast path of
 * {@link ThreadCache}: what lets a cached malloc+free pair run without a JNI transition.
 *
 * <p>This is the JDK 17 to 21 implementation, backed by {@code sun.misc.Unsafe} (module
 * {@code jdk.unsupported}), whose address-based accessors HotSpot compiles to single
 * instructions: JDK 17, the baseline, has no final FFM API. JDK 22+ load the FFM implementation
 * from the multi-release jar's {@code META-INF/versions/22} instead, which uses no Unsafe.
 *
 * <p>This class still runs on JDK 22+ where the jar is not read as multi-release (its classes
 * unpacked, or shaded without the {@code Multi-Release: true} manifest entry). There it is off
 * by default from JDK 24, where JEP 498 makes the first use of these methods print a warning on
 * standard error (and a later JDK will throw), which a library must not inflict on its users
 * unasked. The system property {@code dev.nalloc.fastPath} decides: {@code true} uses Unsafe on
 * any JDK (on 24+ add {@code --sun-misc-unsafe-memory-access=allow} to silence the JDK's
 * warning), {@code false} never does, unset means "on JDK 17 to 23". Without it every
 * {@link ThreadCache} call takes the JNI path: the same results, several times slower.
 */
public final class RawMemory {
    private RawMemory() {}

    /** Null when the fast path is off; {@link #STATUS} says why. */
    private static final Unsafe U;

    /**
     * Whether the accessors below may be called. When false, calling them fails; callers test this
     * constant first, so the JIT folds the test away.
     */
    public static final boolean ENABLED;

    /** Why the fast path is on or off, for {@link ThreadCache#toString()} and diagnostics. */
    public static final String STATUS;

    static {
        Unsafe u = null;
        String status;
        String setting = System.getProperty("dev.nalloc.fastPath", "");
        int feature = Runtime.version().feature();
        if (setting.equals("false")) {
            status = "off (dev.nalloc.fastPath=false)";
        } else if (!setting.equals("true") && feature >= 24) {
            status = "off by default on JDK " + feature + " (sun.misc.Unsafe memory access warns, JEP 498); "
                    + "-Ddev.nalloc.fastPath=true enables it";
        } else {
            try {
                Field f = Unsafe.class.getDeclaredField("theUnsafe");
                f.setAccessible(true);
                u = (Unsafe) f.get(null);
                status = "on (sun.misc.Unsafe)";
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                status = "off (sun.misc.Unsafe unavailable: " + e + ")";
            }
        }
        U = u;
        ENABLED = u != null;
        STATUS = status;
    }

    /** Unsafe itself, for {@link DirectBufferFactory}'s field writes; null when off. */
    static Unsafe unsafe() {
        return U;
    }

    /** A plain load of the 32-bit word at {@code address}. */
    public static int getInt(long address) {
        return U.getInt(address);
    }

    /** A plain store of the 32-bit word at {@code address}. */
    public static void putInt(long address, int value) {
        U.putInt(address, value);
    }

    /** A plain load of the 64-bit word at {@code address}. */
    public static long getLong(long address) {
        return U.getLong(address);
    }

    /** A plain store of the 64-bit word at {@code address}. */
    public static void putLong(long address, long value) {
        U.putLong(address, value);
    }

    /** Compare-and-swap of the 32-bit word at {@code address}; true when it held {@code expected}. */
    public static boolean casInt(long address, int expected, int value) {
        return U.compareAndSwapInt(null, address, expected, value);
    }

    /** A volatile (sequentially consistent) load of the 32-bit word at {@code address}. */
    public static int getIntVolatile(long address) {
        return U.getIntVolatile(null, address);
    }

    /** A volatile (sequentially consistent) store of the 64-bit word at {@code address}. */
    public static void putLongVolatile(long address, long value) {
        U.putLongVolatile(null, address, value);
    }

    /** A release store of the 64-bit word at {@code address}. */
    public static void putLongRelease(long address, long value) {
        U.putOrderedLong(null, address, value);
    }

    /** Keeps later loads from moving above earlier loads and stores in the compiled code. */
    public static void loadFence() {
        U.loadFence();
    }

    /** Sets {@code bytes} bytes at {@code address} to {@code value}. */
    public static void setMemory(long address, long bytes, byte value) {
        U.setMemory(address, bytes, value);
    }
}
