package dev.nalloc;

import dev.nalloc.internal.RawMemory;
import java.lang.reflect.Field;
import sun.misc.Unsafe;

/**
 * Raw memory access for tests, independent of whether the library's own fast path
 * ({@link RawMemory}) is on: the tests must read and write blocks on every JDK, including 24+
 * where nalloc leaves Unsafe alone by default.
 */
public final class TestMemory {
    private TestMemory() {}

    public static final Unsafe U;

    static {
        try {
            Field f = Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            U = (Unsafe) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
