package dev.nalloc.internal;

import dev.nalloc.ThreadCache;
import java.lang.reflect.Field;
import sun.misc.Unsafe;

/**
 * Plain loads, stores and one compare-and-swap on native addresses, for the Java fast path of
 * {@link ThreadCache}: what lets a cached malloc+free pair run without a JNI transition.
 *
 * <p>Backed by {@code sun.misc.Unsafe} (module {@code jdk.unsupported}), whose address-based
 * accessors HotSpot compiles to single instructions. Why not something newer: JDK 17, the
 * baseline, has no final FFM API, and a {@code VarHandle} over a {@code MemorySegment} needs
 * JDK 22. Why it is off by default from JDK 24: JEP 498 makes the first use of these methods
 * print a warning on standard error (and a later JDK will throw), which a library must not
 * inflict on its users unasked.
 *
 * <p>The system property {@code dev.nalloc.fastPath} decides: {@code true} uses Unsafe on any
 * JDK (on 24+ add {@code --sun-misc-unsafe-memory-access=allow} to silence the JDK's warning),
 * {@code false} never does, unset means "on JDK 17 to 23". Without it every {@link ThreadCache}
 * call takes the JNI path: the same results, several times slower.
 */
public final class RawMemory {
    private RawMemory() {}

    /** Null when the fast path is off; {@link #STATUS} says why. */
    public static final Unsafe U;

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
        STATUS = status;
    }
}
