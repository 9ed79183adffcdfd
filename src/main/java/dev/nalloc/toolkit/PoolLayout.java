package dev.nalloc.toolkit;

import dev.nalloc.NativeAllocator;
import dev.nalloc.internal.Blocks;
import java.util.Objects;

/**
 * The geometry shared by {@link BlockPool} and {@link ConcurrentBlockPool}: block size, stride
 * and alignment, and where blocks come from (a parent allocator, chunk by chunk, or one fixed
 * buffer). Immutable.
 */
final class PoolLayout {
    final long blockSize;
    final long stride;
    final long alignment;
    final int blocksPerChunk;
    final NativeAllocator parent; // null: one fixed buffer
    final long bufferAddress;
    final long bufferBytes;

    private PoolLayout(long blockSize, long alignment, int blocksPerChunk, NativeAllocator parent, long bufferAddress,
            long bufferBytes) {
        this.blockSize = blockSize;
        this.alignment = alignment;
        this.stride = (blockSize + alignment - 1) & -alignment;
        this.blocksPerChunk = blocksPerChunk;
        this.parent = parent;
        this.bufferAddress = bufferAddress;
        this.bufferBytes = bufferBytes;
    }

    private static void checkBlock(long blockSize, long alignment) {
        if (blockSize < 1 || blockSize > (1L << 40)) {
            throw new IllegalArgumentException("blockSize=" + blockSize + " is not in 1..2^40");
        }
        Blocks.checkAlignment(alignment);
    }

    static PoolLayout growing(NativeAllocator parent, long blockSize, long alignment, int blocksPerChunk) {
        Objects.requireNonNull(parent, "parent");
        checkBlock(blockSize, alignment);
        if (blocksPerChunk < 1) {
            throw new IllegalArgumentException("blocksPerChunk=" + blocksPerChunk + " is below 1");
        }
        if (!parent.supportsFree()) {
            throw new IllegalArgumentException("parent " + parent + " cannot free single chunks");
        }
        PoolLayout l = new PoolLayout(blockSize, alignment, blocksPerChunk, parent, 0, 0);
        if (l.stride > Long.MAX_VALUE / blocksPerChunk) {
            throw new IllegalArgumentException("blockSize x blocksPerChunk overflows");
        }
        return l;
    }

    static PoolLayout fixed(long address, long bytes, long blockSize, long alignment) {
        checkBlock(blockSize, alignment);
        Blocks.checkRange(address, bytes);
        long first = (address + alignment - 1) & -alignment;
        // unsigned: first may sit past the range's end, or (rounding up near 2^64) wrap to 0
        long pad = first - address;
        long usable = Long.compareUnsigned(pad, bytes) >= 0 ? 0 : bytes - pad;
        long stride = (blockSize + alignment - 1) & -alignment;
        long n = usable <= 0 ? 0 : usable / stride;
        return new PoolLayout(blockSize, alignment, (int) Math.min(n, Integer.MAX_VALUE - 1), null, first, bytes);
    }

    boolean grows() {
        return parent != null;
    }

    long chunkBytes() {
        return stride * blocksPerChunk;
    }
}
