package dev.nalloc.toolkit;

import dev.nalloc.NativeAllocator;
import dev.nalloc.internal.Blocks;
import java.util.Arrays;

/**
 * A block (fixed-size pool) allocator: blocks of one fixed size, handed out and taken back in O(1)
 * from a free list, with no header per block. Initialised over a parent allocator (it grows by
 * chunks of {@code blocksPerChunk} blocks, which go back to the parent on {@link #close()}) or
 * over a fixed buffer the caller owns (it never grows; {@link #allocBlock()} returns 0 when every
 * block is out).
 * <pre>{@code
 * try (BlockPool nodes = BlockPool.over(heap, 48, 16, 1024)) {
 *     long n = nodes.allocBlock();
 *     ...
 *     nodes.freeBlock(n);
 * }
 * }</pre>
 *
 * <p>Free-list links and an allocated bit per block live in Java arrays beside the chunks, never
 * in the blocks themselves: the pool needs no minimum block size, and a double free or a foreign
 * or interior address is detected exactly ({@link IllegalArgumentException}, pool unchanged).
 *
 * <p><b>Thread safety:</b> none; use {@link ConcurrentBlockPool} to share a pool.
 */
public final class BlockPool extends BlockPoolBase {
    private ChunkIndex index = ChunkIndex.EMPTY;
    private int[] next = new int[0];        // per block: next free block + 1, 0 = end
    private long[] allocated = new long[0]; // per block: 1 bit
    private long[] chunkBase = new long[0]; // chunk number -> base
    private int chunks;
    private int head; // first free block + 1, 0 = none
    private long live;
    private boolean closed;

    private BlockPool(PoolLayout layout) {
        super(layout);
        if (!layout.grows()) {
            addChunk(layout.bufferAddress);
        }
    }

    /**
     * A pool that takes chunks of {@code blocksPerChunk} blocks from {@code parent} as needed.
     *
     * @param parent gives and takes back the chunks (must support single frees)
     * @param blockSize bytes per block, 1 to 2<sup>40</sup>
     * @param alignment of every block, a power of two up to {@value NativeAllocator#ALIGNMENT_MAX}
     * @param blocksPerChunk blocks per chunk, {@code >= 1}
     * @return a new, empty pool
     * @throws IllegalArgumentException if an argument is out of range
     */
    public static BlockPool over(NativeAllocator parent, long blockSize, long alignment, int blocksPerChunk) {
        return new BlockPool(PoolLayout.growing(parent, blockSize, alignment, blocksPerChunk));
    }

    /**
     * A pool over {@code [address, address + bytes)}, memory the caller owns and keeps valid; it
     * holds as many aligned blocks as fit and never grows.
     *
     * @param address start of the buffer
     * @param bytes size of the buffer
     * @param blockSize bytes per block
     * @param alignment of every block
     * @return a new pool with every block free
     * @throws IllegalArgumentException if an argument is out of range
     */
    public static BlockPool over(long address, long bytes, long blockSize, long alignment) {
        return new BlockPool(PoolLayout.fixed(address, bytes, blockSize, alignment));
    }

    private boolean addChunk(long base) {
        int n = layout.blocksPerChunk;
        int first = chunks * n;
        if ((long) first + n > Integer.MAX_VALUE - 1) {
            return false;
        }
        int c = chunks++;
        chunkBase = Arrays.copyOf(chunkBase, chunks);
        chunkBase[c] = base;
        index = index.with(base, c);
        next = Arrays.copyOf(next, first + n);
        allocated = Arrays.copyOf(allocated, (first + n + 63) >>> 6);
        for (int i = n - 1; i >= 0; i--) { // push in reverse: blocks come out in address order
            next[first + i] = head;
            head = first + i + 1;
        }
        return true;
    }

    @Override
    void checkOpen() {
        if (closed) {
            throw Blocks.closed("BlockPool");
        }
    }

    /**
     * One block of {@link #blockSize()} bytes.
     *
     * @return its address, or 0 when the pool is exhausted (fixed buffer, or the parent is full)
     * @throws IllegalStateException if closed
     */
    @Override
    public long allocBlock() {
        checkOpen();
        if (head == 0) {
            if (!layout.grows()) {
                return 0;
            }
            long base = layout.parent.malloc(layout.chunkBytes(), layout.alignment);
            if (base == 0) {
                return 0;
            }
            if (!addChunk(base)) {
                layout.parent.free(base);
                return 0;
            }
        }
        int i = head - 1;
        head = next[i];
        allocated[i >>> 6] |= 1L << i;
        live++;
        return address(i);
    }

    private long address(int i) {
        int n = layout.blocksPerChunk;
        return chunkBase[i / n] + (long) (i % n) * layout.stride;
    }

    @Override
    boolean isLive(long address) {
        return indexOf(address) >= 0;
    }

    /** Block index of a live block, or -1. */
    private int indexOf(long address) {
        int i = index.blockAt(layout, address);
        return i >= 0 && (allocated[i >>> 6] & (1L << i)) != 0 ? i : -1;
    }

    /**
     * Returns a block to the pool. 0 is ignored.
     *
     * @param address a live block of this pool
     * @throws IllegalArgumentException if {@code address} is not a live block (double free,
     *         foreign or interior address); the pool is unchanged
     * @throws IllegalStateException if closed
     */
    @Override
    public void freeBlock(long address) {
        checkOpen();
        if (address == 0) {
            return;
        }
        int i = indexOf(address);
        if (i < 0) {
            throw Blocks.notLive(address, "pool", "double free or foreign pointer");
        }
        allocated[i >>> 6] &= ~(1L << i);
        next[i] = head;
        head = i + 1;
        live--;
    }

    /** False: use {@link ConcurrentBlockPool} to share a pool. */
    @Override
    public boolean isThreadSafe() {
        return false;
    }

    /**
     * Blocks handed out and not yet freed.
     *
     * @return live blocks
     */
    public long liveBlocks() {
        return live;
    }

    /**
     * Blocks the pool holds, free or not.
     *
     * @return capacity in blocks
     */
    public long capacity() {
        return (long) chunks * layout.blocksPerChunk;
    }

    /** Hands every chunk back to the parent (none for a fixed buffer). Calling it again does nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (layout.grows()) {
            for (int c = 0; c < chunks; c++) {
                layout.parent.free(chunkBase[c]);
            }
        }
    }

    @Override
    public String toString() {
        return closed ? "BlockPool[closed]" : "BlockPool[blockSize=" + layout.blockSize + ", live=" + live + " of "
                + capacity() + "]";
    }
}
