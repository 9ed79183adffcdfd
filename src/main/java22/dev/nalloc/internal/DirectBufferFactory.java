package dev.nalloc.internal;

import dev.nalloc.internal.jni.SystemNative;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Direct {@link ByteBuffer}s over native memory that nalloc owns, without copying: the JDK 22+
 * implementation (the multi-release jar's {@code META-INF/versions/22}), on the FFM API and
 * without {@code sun.misc.Unsafe}.
 *
 * <p>JNI's {@code NewDirectByteBuffer} costs a JNI transition plus an upcall into the buffer's
 * constructor. Where {@link RawMemory} is on, a view is a slice of its address-space segment
 * turned into a buffer ({@code MemorySegment.asByteBuffer}): an ordinary direct buffer of the
 * global scope, with no cleaner, so the GC never frees the memory under it, made without a native
 * call or a restricted method, and set to native order as JNI's views are here.
 */
public final class DirectBufferFactory {
    private DirectBufferFactory() {}

    /** The address-space segment, or {@code NULL}: JNI. */
    private static final MemorySegment ALL = RawMemory.all();
    private static final boolean FAST = ALL.byteSize() != 0;

    /** The address of a direct buffer's memory (its capacity starts there). */
    public static long address(ByteBuffer buffer) {
        if (FAST) {
            // a buffer's segment spans position..limit: its address is the buffer's plus position
            return MemorySegment.ofBuffer(buffer).address() - buffer.position();
        }
        return SystemNative.nalloc_buffer_address(buffer.duplicate().clear());
    }

    /** Whether views are made without JNI on this JVM. */
    public static boolean isFast() {
        return FAST;
    }

    /** A native-order direct buffer over {@code [address, address + length)}. */
    public static ByteBuffer view(long address, int length) {
        if (FAST) {
            return ALL.asSlice(address, length).asByteBuffer().order(ByteOrder.nativeOrder());
        }
        ByteBuffer buffer = SystemNative.nalloc_direct_buffer(address, length);
        if (buffer == null) {
            throw new UnsupportedOperationException("this JVM does not support JNI direct buffers");
        }
        return buffer.order(ByteOrder.nativeOrder());
    }
}
