package dev.nalloc.toolkit;

import dev.nalloc.NativeAllocator;
import dev.nalloc.internal.Blocks;



/**
 * The {@link NativeAllocator} face shared by {@link BlockPool} and {@link ConcurrentBlockPool}:
 * a block pool serves any request that fits one block, and {@code realloc} keeps the block while
 * the new size fits. The subclasses supply the free list; this class only maps the general
 * interface onto it.
 */
abstract class BlockPoolBase implements NativeAllocator {
    final PoolLayout layout;

    BlockPoolBase(PoolLayout layout) {
        this.layout = layout;
    }

    /**
     * One block of {@link #blockSize()} bytes.
     *
     * @return its address, or 0 when the pool is exhausted (fixed buffer, or the parent is full)
     * @throws IllegalStateException if closed
     */
    public abstract long allocBlock();

    /**
     * Returns a block to the pool. 0 is ignored.
     *
     * @param address a live block of this pool
     * @throws IllegalArgumentException if {@code address} is not a live block (double free,
     *         foreign or interior address); the pool is unchanged
     * @throws IllegalStateException if closed
     */
    public abstract void freeBlock(long address);

    /** Whether {@code address} is a live block of this pool. */
    abstract boolean isLive(long address);

    abstract void checkOpen();

    /** {@inheritDoc} Any size up to {@link #blockSize()}; larger requests return 0. */
    @Override
    public final long malloc(long size) {
        Blocks.checkSize(size);
        checkOpen();
        return size <= layout.blockSize ? allocBlock() : 0;
    }

    /**
     * {@inheritDoc} Alignments up to the pool's own: a larger one can never be met by any block,
     * so it is refused rather than reported as exhaustion.
     *
     * @throws IllegalArgumentException also if {@code alignment} exceeds the pool's block alignment
     */
    @Override
    public final long malloc(long size, long alignment) {
        Blocks.checkSize(size);
        Blocks.checkAlignment(alignment);
        if (alignment > layout.alignment) {
            throw new IllegalArgumentException("alignment=" + alignment + " exceeds this pool's block alignment="
                    + layout.alignment);
        }
        checkOpen();
        return size <= layout.blockSize ? allocBlock() : 0;
    }

    /** {@inheritDoc} The block itself while {@code size <= blockSize()}, else 0. */
    @Override
    public final long realloc(long address, long size) {
        Blocks.checkSize(size);
        checkOpen();
        if (address == 0) {
            return malloc(size);
        }
        size(address); // validates
        return size <= layout.blockSize ? address : 0;
    }

    /** {@inheritDoc} The same as {@link #freeBlock(long)}. */
    @Override
    public final void free(long address) {
        freeBlock(address);
    }

    /** {@inheritDoc} Always {@link #blockSize()} for a live block. */
    @Override
    public final long size(long address) {
        checkOpen();
        if (!isLive(address)) {
            throw Blocks.notLive(address, "pool", "double free or foreign pointer");
        }
        return layout.blockSize;
    }

    /**
     * The size of every block.
     *
     * @return bytes
     */
    public final long blockSize() {
        return layout.blockSize;
    }
}
