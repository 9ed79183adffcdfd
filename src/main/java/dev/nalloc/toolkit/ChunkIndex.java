package dev.nalloc.toolkit;

import java.util.Arrays;

/**
 * Where a block pool's chunks are, for turning an address back into a block: the chunk bases in
 * increasing order, each with its chunk number. Immutable (adding a chunk makes a new index), so
 * {@link ConcurrentBlockPool} can publish it through one volatile write and every reader sees a
 * consistent pair of arrays.
 *
 * <p>Addresses are unsigned: bases are kept with their top bit flipped ({@link #key}), which maps
 * unsigned order onto the signed order {@link Arrays#binarySearch(long[], long)} sorts by, so
 * chunks in the upper half of the address space (negative longs) sort above the lower half.
 */
final class ChunkIndex {
    static final ChunkIndex EMPTY = new ChunkIndex(new long[0], new int[0]);

    private final long[] sortedBases; // key(base), increasing
    private final int[] numberOfSorted;

    private ChunkIndex(long[] sortedBases, int[] numberOfSorted) {
        this.sortedBases = sortedBases;
        this.numberOfSorted = numberOfSorted;
    }

    private static long key(long address) {
        return address ^ Long.MIN_VALUE;
    }

    /** This index plus chunk {@code number} at {@code base} (a base not in the index yet). */
    ChunkIndex with(long base, int number) {
        int n = sortedBases.length;
        int at = -Arrays.binarySearch(sortedBases, key(base)) - 1;
        long[] bases = new long[n + 1];
        int[] numbers = new int[n + 1];
        System.arraycopy(sortedBases, 0, bases, 0, at);
        System.arraycopy(numberOfSorted, 0, numbers, 0, at);
        bases[at] = key(base);
        numbers[at] = number;
        System.arraycopy(sortedBases, at, bases, at + 1, n - at);
        System.arraycopy(numberOfSorted, at, numbers, at + 1, n - at);
        return new ChunkIndex(bases, numbers);
    }

    /**
     * The pool-wide index (chunk number × blocks per chunk + index in the chunk) of the block that
     * starts at {@code address}, or -1 when no chunk has a block starting there. Live or free is
     * the caller's question.
     */
    int blockAt(PoolLayout layout, long address) {
        int at = Arrays.binarySearch(sortedBases, key(address));
        if (at < 0) {
            at = -at - 2; // the chunk whose base is below address
        }
        if (at < 0) {
            return -1;
        }
        long off = address - key(sortedBases[at]); // key() is its own inverse
        if (Long.compareUnsigned(off, layout.chunkBytes()) >= 0 || off % layout.stride != 0) {
            return -1;
        }
        return numberOfSorted[at] * layout.blocksPerChunk + (int) (off / layout.stride);
    }
}
