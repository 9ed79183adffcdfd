package dev.nalloc;

/**
 * A snapshot of a {@link TlsfHeap}'s counters ({@link TlsfHeap#stats()}). Byte counts are
 * usable payload bytes, so {@link #overheadBytes()} is what the heap's own structures cost.
 *
 * @param poolBytes bytes of every region the heap manages (the first region, including the
 *        control structure, plus every pool added by growth)
 * @param usedBytes sum of the usable sizes of the allocated blocks
 * @param freeBytes sum of the usable sizes of the free blocks
 * @param largestFreeBlock usable bytes of the largest free block, 0 if none: the largest
 *        request that certainly succeeds without growing is somewhat smaller
 * @param usedBlocks blocks allocated and not yet freed
 * @param freeBlocks free blocks (after coalescing); a high count relative to
 *        {@code usedBlocks} means fragmentation
 * @param pools number of pools: 1 for a heap over one pool, 1 + the chunks added by growth for
 *        a heap with a {@link ChunkAllocator}
 */
public record TlsfStats(long poolBytes, long usedBytes, long freeBytes, long largestFreeBlock,
                        long usedBlocks, long freeBlocks, int pools) {

    /**
     * Bytes neither used nor free: control structure, pool headers, live bitmaps, one header
     * word per block, sentinels and alignment padding.
     *
     * @return {@code poolBytes - usedBytes - freeBytes}
     */
    public long overheadBytes() {
        return poolBytes - usedBytes - freeBytes;
    }
}
