package dev.nalloc;

import dev.nalloc.internal.Blocks;
import dev.nalloc.toolkit.DebugAllocator;
import dev.nalloc.toolkit.LeakReporting;
import dev.nalloc.toolkit.SystemAllocator;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The allocators under test behind one face, for the contract tests: each {@link Subject} knows
 * how to make a fresh allocator and how to view and check one.
 */
final class Subjects {
    private Subjects() {}

    static final long HEAP_BYTES = 1 << 20;

    /** A kind of allocator: how to make one, view a block, verify its invariants. */
    record Subject(String name, Supplier<NativeAllocator> factory) {
        NativeAllocator create() {
            return factory.get();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Subject> all() {
        return Stream.of(
                new Subject("TlsfHeap", () -> TlsfHeap.create(HEAP_BYTES)),
                new Subject("TlsfHeap+chunks", () -> TlsfHeap.create(64 * 1024, new CountingChunks())),
                new Subject("SharedTlsfHeap", () -> SharedTlsfHeap.create(HEAP_BYTES)),
                new Subject("Smmalloc", () -> new Smmalloc(8, 64 * 1024)),
                new Subject("SystemAllocator", SystemAllocator::new),
                new Subject("DebugAllocator", () -> new DebugAllocator("contract", new SystemAllocator(),
                        LeakReporting.LOG, false)));
    }

    static ByteBuffer view(NativeAllocator a, long address) {
        if (a instanceof TlsfHeap h) {
            return h.view(address);
        } else if (a instanceof SharedTlsfHeap h) {
            return h.view(address);
        } else if (a instanceof Smmalloc sm) {
            return sm.view(address);
        } else {
            return Blocks.view(address, a.size(address));
        }
    }

    static ByteBuffer view(NativeAllocator a, long address, int length) {
        if (a instanceof TlsfHeap h) {
            return h.view(address, length);
        } else if (a instanceof SharedTlsfHeap h) {
            return h.view(address, length);
        } else if (a instanceof Smmalloc sm) {
            return sm.view(address, length);
        } else {
            return Blocks.view(address, length, a.size(address));
        }
    }

    static void check(NativeAllocator a) {
        if (a instanceof TlsfHeap h) {
            h.check();
        } else if (a instanceof SharedTlsfHeap h) {
            h.check();
        } else if (a instanceof Smmalloc sm) {
            sm.check();
        } else if (a instanceof DebugAllocator debug) {
            debug.check();
        } else if (a instanceof SystemAllocator sys) {
            sys.liveBlocks(); // nothing to walk; throws once closed
        } else {
            throw new AssertionError("no check for " + a);
        }
    }

    /** Fills [0, length) of the block with a pattern derived from seed. */
    static void fill(NativeAllocator a, long address, int length, int seed) {
        ByteBuffer b = view(a, address, length);
        for (int i = 0; i < length; i++) {
            b.put(i, (byte) (seed + i * 31));
        }
    }

    /** True when [0, length) of the block holds the pattern of seed. */
    static boolean holds(NativeAllocator a, long address, int length, int seed) {
        ByteBuffer b = view(a, address, length);
        for (int i = 0; i < length; i++) {
            if (b.get(i) != (byte) (seed + i * 31)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The allocator still works after a refused call: it allocates, writes, reads and frees, and
     * its invariants hold.
     */
    static void assertWorks(NativeAllocator a) {
        long p = a.malloc(200);
        if (p == 0) {
            throw new AssertionError("malloc(200) failed on " + a);
        }
        fill(a, p, 200, 7);
        if (!holds(a, p, 200, 7)) {
            throw new AssertionError("block contents lost on " + a);
        }
        a.free(p);
        check(a);
    }

    /** Marks a block with a pattern derived from its own address, so any thread can verify it. */
    static void stamp(NativeAllocator a, long address) {
        fill(a, address, 16, (int) (address >>> 4));
    }

    static boolean stamped(NativeAllocator a, long address) {
        return holds(a, address, 16, (int) (address >>> 4));
    }

    /**
     * Puts a stamped block into {@code slots[slot]}; the block it displaces (put there by any
     * thread) is verified and freed here. Returns 1 if that block had lost its stamp, else 0.
     */
    static int handOff(NativeAllocator a, AtomicLongArray slots, int slot, long address) {
        long old = slots.getAndSet(slot, address);
        if (old == 0) {
            return 0;
        }
        int lost = stamped(a, old) ? 0 : 1;
        a.free(old);
        return lost;
    }

    /** Verifies and frees what is left in the slots; returns the number of lost stamps. */
    static int drain(NativeAllocator a, AtomicLongArray slots) {
        int lost = 0;
        for (int i = 0; i < slots.length(); i++) {
            lost += handOff(a, slots, i, 0);
        }
        return lost;
    }
}
