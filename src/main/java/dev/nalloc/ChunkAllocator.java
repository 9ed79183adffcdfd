package dev.nalloc;

/**
 * Where a growing {@link TlsfHeap} gets its memory from ({@link TlsfHeap#create(long,
 * ChunkAllocator)}), as in XenoAtom.Allocators: the heap asks for a chunk when it needs one and
 * hands every chunk back when it is closed (or trimmed).
 *
 * <p>The heap calls these methods from the thread that is calling into the heap (for a
 * {@link SharedTlsfHeap}, while holding its lock); an implementation must not call back into the
 * heap it serves. Exceptions thrown here propagate to the heap's caller; the heap stays
 * consistent.
 */
public interface ChunkAllocator {

    /**
     * Allocates a chunk of at least {@code minBytes} bytes. The heap uses exactly
     * {@code minBytes} of it. A chunk should be aligned to 16 bytes; if it is not, the heap aligns
     * its start up inside the chunk and uses up to 15 bytes less.
     *
     * @param minBytes bytes needed, {@code > 0}
     * @return the chunk's address, or 0 when no more memory is available (the allocation that
     *         needed it then returns 0)
     */
    long allocateChunk(long minBytes);

    /**
     * Takes back a chunk; called exactly once per chunk with the address returned by
     * {@link #allocateChunk} and the {@code minBytes} it was asked for.
     *
     * @param address the chunk's address as returned by {@link #allocateChunk}
     * @param bytes the size that was requested for it
     */
    void freeChunk(long address, long bytes);
}
