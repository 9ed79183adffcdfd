package dev.nalloc.toolkit;

import java.util.Arrays;

/**
 * One region that hands out blocks by bumping a pointer, and remembers them: the core shared by
 * {@link LinearAllocator} and {@link ArenaAllocator}. Not thread-safe.
 *
 * <p>Blocks are recorded in allocation order, so their addresses are increasing and a block is
 * found by binary search: that is what lets {@code size} and {@code realloc} refuse an address
 * that is not a block start (a foreign or interior pointer) instead of reading past a block.
 * They are recorded as offsets from the base (0 to the region's size, never negative), so the
 * signed search stays right for a region anywhere in the unsigned address space.
 */
final class BumpChunk {
    final long base;
    final long limit;
    private long top;
    private long[] starts = new long[16]; // offsets from base
    private long[] sizes = new long[16];
    private int count;

    BumpChunk(long base, long bytes) {
        this.base = base;
        this.limit = base + bytes;
        this.top = base;
    }

    /** A block of {@code size} bytes aligned to {@code alignment} (power of two), or 0 if full. */
    long alloc(long size, long alignment) {
        long start = (top + alignment - 1) & -alignment;
        long usable = Math.max(size, 1); // distinct addresses even for size 0
        // unsigned: addresses in the upper half are negative longs
        if (Long.compareUnsigned(start, top) < 0 || Long.compareUnsigned(start, limit) > 0
                || usable > limit - start) {
            return 0; // also when rounding up overflowed
        }
        if (count == starts.length) {
            starts = Arrays.copyOf(starts, count * 2);
            sizes = Arrays.copyOf(sizes, count * 2);
        }
        starts[count] = start - base;
        sizes[count] = usable;
        count++;
        top = start + usable;
        return start;
    }

    boolean contains(long address) {
        return Long.compareUnsigned(address - base, limit - base) < 0; // unsigned: any half of the address space
    }

    /** Index of the block starting at {@code address}, or -1. */
    int find(long address) {
        // an address below base gives a negative offset, which matches no entry
        int i = Arrays.binarySearch(starts, 0, count, address - base);
        return i >= 0 ? i : -1;
    }

    long size(int index) {
        return sizes[index];
    }

    boolean isLast(int index) {
        return index == count - 1;
    }

    /** Resizes the last block in place if the region allows it. */
    boolean resizeLast(long size) {
        long usable = Math.max(size, 1);
        long start = base + starts[count - 1];
        if (usable > limit - start) {
            return false;
        }
        sizes[count - 1] = usable;
        top = start + usable;
        return true;
    }

    int blocks() {
        return count;
    }

    long used() {
        return top - base;
    }

    long capacity() {
        return limit - base;
    }

    void reset() {
        top = base;
        count = 0;
    }
}
