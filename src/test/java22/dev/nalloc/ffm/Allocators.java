package dev.nalloc.ffm;

import dev.nalloc.NativeAllocator;
import dev.nalloc.SharedTlsfHeap;
import dev.nalloc.Smmalloc;
import dev.nalloc.TlsfHeap;
import java.util.function.Supplier;
import java.util.stream.Stream;

/** The three nalloc allocators, with what the tests ask of each: blocks in use, check(). */
record Allocators(String name, Supplier<NativeAllocator> factory) {
    static final long HEAP_BYTES = 1 << 20;

    static Stream<Allocators> all() {
        return Stream.of(
                new Allocators("TlsfHeap", () -> TlsfHeap.create(HEAP_BYTES)),
                new Allocators("SharedTlsfHeap", () -> SharedTlsfHeap.create(HEAP_BYTES)),
                new Allocators("Smmalloc", () -> new Smmalloc(8, 64 * 1024)));
    }

    /** The thread-safe ones, for shared arenas. */
    static Stream<Allocators> threadSafe() {
        return all().filter(a -> !a.name.equals("TlsfHeap"));
    }

    NativeAllocator create() {
        return factory.get();
    }

    /** Blocks allocated and not freed, from the allocator's own counters. */
    static long blocksInUse(NativeAllocator a) {
        if (a instanceof TlsfHeap h) {
            return h.stats().usedBlocks();
        } else if (a instanceof SharedTlsfHeap h) {
            return h.stats().usedBlocks();
        } else {
            var s = ((Smmalloc) a).stats();
            return s.bucketBlocksInUse() + s.fallbackBlocksInUse();
        }
    }

    static void check(NativeAllocator a) {
        if (a instanceof TlsfHeap h) {
            h.check();
        } else if (a instanceof SharedTlsfHeap h) {
            h.check();
        } else {
            ((Smmalloc) a).check();
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
