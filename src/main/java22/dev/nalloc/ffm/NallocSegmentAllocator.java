package dev.nalloc.ffm;

import dev.nalloc.NativeAllocator;
import dev.nalloc.SharedTlsfHeap;
import dev.nalloc.Smmalloc;
import dev.nalloc.TlsfHeap;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.util.Objects;

/**
 * A {@link SegmentAllocator} whose segments are blocks of a nalloc {@link NativeAllocator}
 * ({@link dev.nalloc.TlsfHeap}, {@link dev.nalloc.SharedTlsfHeap}, {@link dev.nalloc.Smmalloc}),
 * freed one by one with {@link #free(MemorySegment)}: {@code malloc}/{@code free} with a
 * {@link MemorySegment} in the middle. For segments whose lifetime is checked by the JDK, use
 * {@link NallocArena} instead.
 *
 * <p><b>Segments.</b> {@link #allocate(long, long)} returns a native segment of exactly
 * {@code byteSize} bytes (the block behind it may be larger) at an address aligned to
 * {@code byteAlignment}, zero-initialized as the JDK's arenas' segments are. Its scope is the
 * global scope, as {@link MemorySegment#ofAddress(long)}'s: the JDK never invalidates it.
 *
 * <p><b>Why a per-segment free, and why it is raw.</b> Without it a block of this allocator could
 * only be returned through {@code allocator().free(segment.address())}, so {@link #free} is that
 * call with the checks a segment allows (native, global scope, the start of a live block). It
 * cannot invalidate the segment: the JDK closes scopes, not single segments, and giving each
 * segment an arena of its own would cost a JDK arena per block, which is what nalloc is there to
 * avoid. So, as with {@code TlsfHeap.view} buffers, a segment used after {@code free} reads or
 * corrupts other memory. Use this class where the lifetime is managed by hand (C-style data
 * structures, memory handed to native code that frees it through nalloc); use
 * {@link NallocArena} when access after release must be an exception.
 *
 * <p><b>Errors.</b> {@link IllegalArgumentException} for a negative {@code byteSize} or a
 * {@code byteAlignment} that is not a power of two (SegmentAllocator's contract), and for an
 * alignment above {@link NativeAllocator#ALIGNMENT_MAX} (nalloc's limit; the JDK's own arenas
 * accept any). When the allocator cannot satisfy a request, {@link OutOfMemoryError}, what
 * {@code Arena.ofConfined().allocate} throws when the system allocator fails: a segment
 * allocator has no null result to return. {@link IllegalStateException} once the allocator is
 * closed (from the allocator).
 *
 * <p><b>Threads.</b> Exactly those of the allocator: a {@code TlsfHeap} is used by one thread at
 * a time, a {@code SharedTlsfHeap} or a {@code Smmalloc} by any. This class keeps no state of
 * its own.
 */
public final class NallocSegmentAllocator implements SegmentAllocator {
    private static final MemorySegment.Scope GLOBAL = Arena.global().scope();

    private final NativeAllocator allocator;

    private NallocSegmentAllocator(NativeAllocator allocator) {
        this.allocator = Objects.requireNonNull(allocator, "allocator");
    }

    /**
     * A segment allocator over {@code allocator}. It does not own the allocator: closing the
     * allocator (which releases every block) stays the caller's job.
     *
     * @param allocator a nalloc allocator
     * @return a new segment allocator
     */
    public static NallocSegmentAllocator of(NativeAllocator allocator) {
        return new NallocSegmentAllocator(allocator);
    }

    /** @return the allocator the blocks come from */
    public NativeAllocator allocator() {
        return allocator;
    }

    /**
     * A zeroed segment of {@code byteSize} bytes over a new block, global scope.
     *
     * @param byteSize bytes, {@code >= 0} (0 gives a zero-length segment over a unique block)
     * @param byteAlignment a power of two up to {@value NativeAllocator#ALIGNMENT_MAX}
     * @return a native segment of exactly {@code byteSize} bytes
     * @throws IllegalArgumentException if {@code byteSize < 0}, or {@code byteAlignment} is not a
     *         power of two or is above {@value NativeAllocator#ALIGNMENT_MAX}
     * @throws OutOfMemoryError if the allocator cannot satisfy the request
     * @throws IllegalStateException if the allocator is closed
     */
    @Override
    @SuppressWarnings("restricted") // reinterpret: see "Native access" in NallocArena's notes
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        Requests.check(byteSize, byteAlignment);
        long address = Requests.malloc(allocator, byteSize, byteAlignment);
        return MemorySegment.ofAddress(address).reinterpret(byteSize).fill((byte) 0);
    }

    /**
     * Frees the block behind a segment from {@link #allocate(long, long)}. The segment stays
     * accessible as far as the JDK is concerned (see the class notes): drop it.
     *
     * @param segment a segment from this allocator, or one over the same block (any size)
     * @throws IllegalArgumentException if {@code segment} is a heap segment, belongs to an arena
     *         (close the arena instead), or does not start at a live block of the allocator
     *         (double free, slice, foreign memory); nothing is freed
     * @throws IllegalStateException if the allocator is closed
     */
    public void free(MemorySegment segment) {
        Objects.requireNonNull(segment, "segment");
        if (!segment.isNative()) {
            throw new IllegalArgumentException("segment " + segment + " is not native");
        }
        if (!GLOBAL.equals(segment.scope())) {
            throw new IllegalArgumentException("segment " + segment
                    + " belongs to an arena; its block is freed when the arena is closed");
        }
        allocator.free(segment.address());
    }

    @Override
    public String toString() {
        return "NallocSegmentAllocator[" + allocator + "]";
    }
}
