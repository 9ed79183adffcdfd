package dev.nalloc.internal;

import dev.nalloc.internal.jni.SystemNative;
import java.lang.reflect.Field;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import sun.misc.Unsafe;

/**
 * Direct {@link ByteBuffer}s over native memory that nalloc owns, without copying.
 *
 * <p>JNI's {@code NewDirectByteBuffer} costs about 150 ns (a JNI transition plus an upcall into
 * the buffer's constructor), ten times a cached malloc+free. Where {@link RawMemory} is available
 * the buffer is instead made the way LWJGL makes its views: an instance of the JDK's direct buffer
 * class created without its constructor, its {@code address}, {@code capacity}, {@code limit} and
 * {@code mark} fields set through their offsets, then {@code order(nativeOrder())}. That touches
 * private JDK fields, so the class proves the technique once at start-up on a scratch block (the
 * buffer must report the capacity and read and write exactly the bytes at the address) and uses
 * JNI for good if anything differs. The result is an ordinary direct buffer: no cleaner, no
 * attachment, so the GC never frees the memory under it.
 */
public final class DirectBufferFactory {
    private DirectBufferFactory() {}

    private static final Unsafe U = RawMemory.unsafe();
    /** The direct buffer class of this JDK ({@code java.nio.DirectByteBuffer}), or null: JNI. */
    private static final Class<?> DIRECT;
    private static final long ADDRESS;
    private static final long CAPACITY;
    private static final long LIMIT;
    private static final long MARK;

    static {
        Class<?> direct = null;
        long address = -1, capacity = -1, limit = -1, mark = -1;
        if (U != null) {
            long scratch = 0;
            try {
                scratch = U.allocateMemory(64);
                ByteBuffer template = SystemNative.nalloc_direct_buffer(scratch, 64);
                Class<?> c = template.getClass();
                address = U.objectFieldOffset(Buffer.class.getDeclaredField("address"));
                capacity = U.objectFieldOffset(Buffer.class.getDeclaredField("capacity"));
                limit = U.objectFieldOffset(Buffer.class.getDeclaredField("limit"));
                mark = U.objectFieldOffset(Buffer.class.getDeclaredField("mark"));
                if (works(c, address, capacity, limit, mark, scratch)) {
                    direct = c;
                }
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                direct = null; // a JDK without these fields: JNI it is
            } finally {
                if (scratch != 0) {
                    U.freeMemory(scratch);
                }
            }
        }
        DIRECT = direct;
        ADDRESS = address;
        CAPACITY = capacity;
        LIMIT = limit;
        MARK = mark;
    }

    private static ByteBuffer make(Class<?> c, long a, long cap, long lim, long mk, long address, int length)
            throws InstantiationException {
        ByteBuffer b = (ByteBuffer) U.allocateInstance(c);
        U.putLong(b, a, address);
        U.putInt(b, cap, length);
        U.putInt(b, lim, length);
        U.putInt(b, mk, -1);
        return b.order(ByteOrder.nativeOrder());
    }

    /** The technique on a scratch block: every observable property must be right. */
    private static boolean works(Class<?> c, long a, long cap, long lim, long mk, long scratch)
            throws InstantiationException {
        for (int i = 0; i < 64; i++) {
            U.putByte(scratch + i, (byte) i);
        }
        ByteBuffer b = make(c, a, cap, lim, mk, scratch + 8, 48);
        if (!b.isDirect() || b.isReadOnly() || b.capacity() != 48 || b.limit() != 48 || b.position() != 0
                || b.order() != ByteOrder.nativeOrder() || b.get(0) != 8 || b.get(47) != 55) {
            return false;
        }
        b.putLong(8, 0x0102030405060708L);
        b.position(4).mark().position(10).reset();
        ByteBuffer s = b.slice();
        return U.getLong(scratch + 16) == 0x0102030405060708L && b.position() == 4 && s.capacity() == 44
                && s.get(0) == 12 && b.duplicate().get(47) == 55;
    }

    /** The address of a direct buffer's memory (its capacity starts there). */
    public static long address(ByteBuffer buffer) {
        if (DIRECT != null) {
            return U.getLong(buffer, ADDRESS);
        }
        return SystemNative.nalloc_buffer_address(buffer.duplicate().clear());
    }

    /** Whether views are made without JNI on this JVM. */
    public static boolean isFast() {
        return DIRECT != null;
    }

    /** A native-order direct buffer over {@code [address, address + length)}. */
    public static ByteBuffer view(long address, int length) {
        if (DIRECT != null) {
            try {
                return make(DIRECT, ADDRESS, CAPACITY, LIMIT, MARK, address, length);
            } catch (InstantiationException e) {
                throw new AssertionError("worked at start-up", e);
            }
        }
        ByteBuffer buffer = SystemNative.nalloc_direct_buffer(address, length);
        if (buffer == null) {
            throw new UnsupportedOperationException("this JVM does not support JNI direct buffers");
        }
        return buffer.order(ByteOrder.nativeOrder());
    }
}
