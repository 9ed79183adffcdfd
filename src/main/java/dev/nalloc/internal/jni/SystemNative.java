package dev.nalloc.internal.jni;

import dev.nalloc.TlsfHeap;
import java.nio.ByteBuffer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.NoException;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.annotation.Raw;

/**
 * JNI bindings of the helpers in {@code nalloc_java.h} that the public API needs beyond the two
 * allocators: aligned memory from the system allocator (for {@code TlsfHeap} pools and
 * {@code SystemAllocator}) and a zero-copy direct {@link ByteBuffer} over a native block.
 *
 * <p>Addresses are plain {@code long}s, every method is {@link NoException}, nothing is checked
 * on the Java side; {@link #nalloc_direct_buffer} is the only method that allocates a Java object
 * (the buffer itself).
 */
@Properties(inherit = NallocLibrary.class)
@NoException
public final class SystemNative {
    static {
        Loader.load();
    }

    private SystemNative() {}

    /**
     * {@code posix_memalign} ({@code _aligned_malloc} on Windows): {@code bytes} bytes aligned to
     * {@code alignment} (a power of two, at least 8), or 0. Release with {@link #nalloc_system_free}.
     */
    public static native @Cast("void*") long nalloc_system_alloc(@Cast("size_t") long alignment, @Cast("size_t") long bytes);

    /** Releases memory from {@link #nalloc_system_alloc}; 0 is ignored. */
    public static native void nalloc_system_free(@Cast("void*") long address);

    /**
     * A direct buffer over {@code [address, address + capacity)} (JNI {@code NewDirectByteBuffer}),
     * big-endian, position 0, limit = capacity. {@code capacity} must be 0..{@link Integer#MAX_VALUE}.
     */
    @Raw(withEnv = true)
    public static native ByteBuffer nalloc_direct_buffer(@Cast("void*") long address, long capacity);

    /**
     * The address of a direct buffer's memory at its position (JavaCPP passes the buffer as
     * {@code GetDirectBufferAddress} plus position).
     */
    public static native long nalloc_buffer_address(ByteBuffer buffer);
}
