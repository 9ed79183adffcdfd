package dev.nalloc;

import dev.nalloc.internal.jni.SystemNative;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link ChunkAllocator} over the system allocator that records every chunk it hands out and
 * takes back, with an optional byte budget (beyond it: 0), an optional misalignment of the
 * addresses it returns, and optional failures.
 */
final class CountingChunks implements ChunkAllocator {
    /** A chunk as the heap saw it: address and requested bytes. */
    record Chunk(long address, long bytes) {
    }

    final List<Chunk> allocated = new ArrayList<>();
    final List<Chunk> freed = new ArrayList<>();
    long budget = Long.MAX_VALUE;
    /** Added to every returned address (the system block is this much larger). */
    int misalign;
    RuntimeException failAllocate;
    /** When set, every freeChunk (after recording and releasing) throws a new exception. */
    boolean failFrees;
    /** When non-zero, the next allocateChunk returns this address (not system memory). */
    long fake;

    long live() {
        return allocated.size() - freed.size();
    }

    long bytesAllocated() {
        return allocated.stream().mapToLong(Chunk::bytes).sum();
    }

    @Override
    public long allocateChunk(long minBytes) {
        if (failAllocate != null) {
            throw failAllocate;
        }
        if (fake != 0) {
            long address = fake;
            fake = 0;
            allocated.add(new Chunk(address, minBytes));
            return address;
        }
        if (minBytes > budget) {
            return 0;
        }
        long system = SystemNative.nalloc_system_alloc(64, minBytes + misalign);
        if (system == 0) {
            return 0;
        }
        budget -= minBytes;
        Chunk chunk = new Chunk(system + misalign, minBytes);
        allocated.add(chunk);
        return chunk.address();
    }

    @Override
    public void freeChunk(long address, long bytes) {
        Chunk chunk = new Chunk(address, bytes);
        if (!allocated.contains(chunk) || freed.contains(chunk)) {
            throw new AssertionError("freeChunk of a chunk never handed out or freed twice: " + chunk);
        }
        freed.add(chunk);
        if (!isFake(chunk)) {
            SystemNative.nalloc_system_free(address - misalign);
        }
        if (failFrees) {
            throw new RuntimeException("freeChunk failed #" + freed.size());
        }
    }

    /** Addresses handed out by {@link #returnFakeNext}: not system memory. */
    final List<Long> fakes = new ArrayList<>();

    private boolean isFake(Chunk chunk) {
        return fakes.contains(chunk.address());
    }

    /** The next allocateChunk returns {@code address} (e.g. inside memory the heap already owns). */
    void returnFakeNext(long address) {
        fake = address;
        fakes.add(address);
    }
}
