package dev.nalloc;

import dev.nalloc.buffer.NativeBuffer;
import dev.nalloc.toolkit.ArenaAllocator;
import dev.nalloc.toolkit.BlockPool;
import dev.nalloc.toolkit.ConcurrentBlockPool;
import dev.nalloc.toolkit.DebugAllocator;
import dev.nalloc.toolkit.LinearAllocator;
import dev.nalloc.toolkit.SystemAllocator;



/**
 * The operations every nalloc allocator offers, so code that only allocates, resizes and frees
 * can be written once and the allocator chosen by configuration: {@link TlsfHeap},
 * {@link SharedTlsfHeap}, {@link Smmalloc}, {@link SystemAllocator}, {@link ArenaAllocator},
 * {@link LinearAllocator}, {@link BlockPool}, {@link ConcurrentBlockPool} and
 * {@link DebugAllocator} implement it, and the typed buffers ({@link NativeBuffer}) are made over
 * any of them.
 *
 * <p>Addresses are raw native addresses held in a {@code long}; 0 is the null address. The
 * contract shared by every implementation:
 * <ul>
 *   <li>Blocks are aligned to at least 16 bytes; {@link #malloc(long, long)} aligns to any power
 *       of two up to {@value #ALIGNMENT_MAX}.</li>
 *   <li>{@link #malloc(long)} returns 0 when the allocator cannot satisfy the request, as C's
 *       {@code malloc} (and LWJGL's {@code nmemAlloc}) do; nothing is corrupted and the
 *       allocator stays usable. A size of 0 yields a unique minimum-size block that must be
 *       freed like any other.</li>
 *   <li>{@link #realloc(long, long)} with address 0 is {@code malloc(size)}; when the request
 *       cannot be satisfied it returns 0 and the old block stays valid and unchanged.</li>
 *   <li>{@link #free(long)} of 0 does nothing.</li>
 *   <li>Bad input never crashes the JVM: a negative size or a bad alignment throws
 *       {@link IllegalArgumentException}; so does {@code free}, {@code realloc} or {@code size}
 *       of an address that is not a live block of this allocator (a foreign or interior pointer,
 *       or a block already freed and not handed out again), and the allocator is left
 *       unchanged.</li>
 *   <li>Every method throws {@link IllegalStateException} once the allocator is closed;
 *       {@link #close()} itself may be called again and then does nothing. Closing releases
 *       every block still allocated.</li>
 * </ul>
 * Whether an allocator may be used from several threads at once is stated by
 * {@link #isThreadSafe()}; code that hands an allocator to other threads (a {@code Cleaner}, a
 * shared FFM arena) asks it and refuses a single-threaded one.
 */
public interface NativeAllocator extends AutoCloseable {

    /** Largest alignment {@link #malloc(long, long)} accepts: 4096 bytes, one page. */
    long ALIGNMENT_MAX = 4096;

    /**
     * Allocates a block of at least {@code size} bytes, aligned to 16 bytes.
     *
     * @param size requested bytes, {@code >= 0}
     * @return the block's address, or 0 when the request cannot be satisfied
     * @throws IllegalArgumentException if {@code size} is negative
     * @throws IllegalStateException if the allocator is closed
     */
    long malloc(long size);

    /**
     * Allocates a block of at least {@code size} bytes whose address is a multiple of
     * {@code alignment}.
     *
     * @param size requested bytes, {@code >= 0}
     * @param alignment a power of two from 1 to {@value #ALIGNMENT_MAX}
     * @return the block's address, or 0 when the request cannot be satisfied
     * @throws IllegalArgumentException if {@code size} is negative or {@code alignment} is not a
     *         power of two in range
     * @throws IllegalStateException if the allocator is closed
     */
    long malloc(long size, long alignment);

    /**
     * Resizes a block, moving it when it cannot be resized in place; the first
     * {@code min(old usable size, size)} bytes are kept.
     *
     * @param address a live block of this allocator, or 0 to allocate
     * @param size new requested bytes, {@code >= 0}
     * @return the block's (possibly new) address; 0 when the request cannot be satisfied, and
     *         then {@code address} is still valid and unchanged
     * @throws IllegalArgumentException if {@code size} is negative or {@code address} is not a
     *         live block of this allocator
     * @throws IllegalStateException if the allocator is closed
     */
    long realloc(long address, long size);

    /**
     * Frees a block. 0 is ignored.
     *
     * @param address a live block of this allocator, or 0
     * @throws IllegalArgumentException if {@code address} is not a live block of this allocator
     *         (double free or foreign pointer); nothing is changed
     * @throws IllegalStateException if the allocator is closed
     */
    void free(long address);

    /**
     * The usable size of a block: at least the size requested, all of it writable.
     *
     * @param address a live block of this allocator
     * @return usable bytes
     * @throws IllegalArgumentException if {@code address} is not a live block of this allocator
     * @throws IllegalStateException if the allocator is closed
     */
    long size(long address);

    /**
     * Whether {@link #free(long)} gives single blocks back. False for allocators that only free
     * everything at once ({@link ArenaAllocator}, {@link LinearAllocator}): their {@code free}
     * throws {@link UnsupportedOperationException}, and code that must free blocks one by one
     * should ask first.
     *
     * @return true unless the allocator frees only in bulk
     */
    default boolean supportsFree() {
        return true;
    }

    /**
     * Whether every method but {@link #close()} may be called by several threads at once, and a
     * block freed by another thread than the one that allocated it. True for {@link SharedTlsfHeap},
     * {@link Smmalloc}, {@link SystemAllocator} and {@link ConcurrentBlockPool}; false for
     * {@link TlsfHeap}, {@link BlockPool}, {@link ArenaAllocator} and {@link LinearAllocator}, which
     * must be confined to one thread at a time; {@link DebugAllocator} answers as the allocator it
     * wraps. Places that call an allocator from threads of their own (the safety net of
     * {@link dev.nalloc.buffer.ByteBufferAllocator}, a shared FFM arena) refuse an allocator that
     * answers false with {@link IllegalArgumentException}.
     *
     * @return true when concurrent calls are safe
     */
    boolean isThreadSafe();

    /**
     * Releases the allocator and every block still allocated from it; later calls throw
     * {@link IllegalStateException}. Calling it again does nothing.
     */
    @Override
    void close();
}
