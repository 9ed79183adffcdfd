package dev.nalloc.ffm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nalloc.NativeAllocator;
import dev.nalloc.Smmalloc;
import dev.nalloc.TlsfHeap;
import dev.nalloc.toolkit.ArenaAllocator;
import dev.nalloc.toolkit.BlockPool;
import dev.nalloc.toolkit.ConcurrentBlockPool;
import dev.nalloc.toolkit.DebugAllocator;
import dev.nalloc.toolkit.LeakReporting;
import dev.nalloc.toolkit.LinearAllocator;
import dev.nalloc.toolkit.SystemAllocator;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class NallocArenaTest {

    static List<Allocators> allocators() {
        return Allocators.all().toList();
    }

    static List<Allocators> threadSafeAllocators() {
        return Allocators.threadSafe().toList();
    }

    @Test
    void classesComeFromTheMultiReleaseJar() {
        String where = String.valueOf(NallocArena.class.getResource("NallocArena.class"));
        assertTrue(where.startsWith("jar:") && where.contains("!/META-INF/versions/22/dev/nalloc/ffm/"),
                "dev.nalloc.ffm loaded from the jar's versioned section: " + where);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allocators")
    void segmentsAreNallocBlocksAndCloseFreesThemAll(Allocators kind) {
        try (NativeAllocator a = kind.create()) {
            long before = Allocators.blocksInUse(a);
            List<MemorySegment> segments = new ArrayList<>();
            NallocArena arena = NallocArena.ofConfined(a);
            long[] sizes = {0, 1, 7, 16, 24, 100, 128, 129, 1000, 4096, 10_000};
            for (long size : sizes) {
                MemorySegment s = arena.allocate(size);
                assertEquals(size, s.byteSize(), "exactly byteSize");
                assertTrue(s.isNative());
                assertEquals(arena.scope(), s.scope(), "the arena's scope");
                assertTrue(a.size(s.address()) >= size, "a live block of the allocator (size() would throw)");
                segments.add(s);
            }
            assertEquals(before + sizes.length, Allocators.blocksInUse(a), "one block per segment");
            if (a instanceof Smmalloc sm) {
                assertTrue(sm.bucket(segments.get(3).address()) >= 0, "a 16-byte segment is a bucket block");
            }
            for (int i = 0; i < segments.size(); i++) {
                for (int j = i + 1; j < segments.size(); j++) {
                    assertTrue(segments.get(i).asOverlappingSlice(segments.get(j)).isEmpty(), "no overlap");
                }
            }
            Allocators.check(a);
            arena.close();
            assertEquals(before, Allocators.blocksInUse(a), "close() freed every block");
            Allocators.check(a);
            assertFalse(arena.scope().isAlive());
            for (MemorySegment s : segments) {
                if (s.byteSize() > 0) {
                    assertThrows(IllegalStateException.class, () -> s.get(JAVA_BYTE, 0), "access after close");
                }
            }
            assertThrows(IllegalStateException.class, () -> arena.allocate(16), "allocate after close");
            assertThrows(IllegalStateException.class, arena::close, "close twice, as JDK arenas");
            assertEquals(before, Allocators.blocksInUse(a), "refused calls allocate nothing");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allocators")
    void alignmentIsHonouredUpToTheMaximum(Allocators kind) {
        try (NativeAllocator a = kind.create(); Arena arena = NallocArena.ofConfined(a)) {
            for (long align = 1; align <= NativeAllocator.ALIGNMENT_MAX; align <<= 1) {
                for (long size : new long[] {1, 48, 3000}) {
                    MemorySegment s = arena.allocate(size, align);
                    assertEquals(0, s.address() % align, "size " + size + " aligned to " + align);
                    assertEquals(size, s.byteSize());
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allocators")
    void contentsAreZeroedReadableAndWritable(Allocators kind) {
        try (NativeAllocator a = kind.create()) {
            // dirty a block, free it, and get it back through the arena: it must read as zero
            long dirty = a.malloc(256);
            MemorySegment.ofAddress(dirty).reinterpret(256).fill((byte) 0x5a);
            a.free(dirty);
            try (Arena arena = NallocArena.ofConfined(a)) {
                MemorySegment s = arena.allocate(256, 16);
                for (long i = 0; i < 256; i++) {
                    assertEquals(0, s.get(JAVA_BYTE, i), "zero-initialized at " + i);
                }
                s.set(JAVA_LONG, 0, 0x0123_4567_89ab_cdefL);
                s.set(JAVA_DOUBLE, 8, Math.PI);
                for (int i = 4; i < 64; i++) {
                    s.setAtIndex(JAVA_INT, i, i * 31);
                }
                assertEquals(0x0123_4567_89ab_cdefL, s.get(JAVA_LONG, 0));
                assertEquals(Math.PI, s.get(JAVA_DOUBLE, 8));
                for (int i = 4; i < 64; i++) {
                    assertEquals(i * 31, s.getAtIndex(JAVA_INT, i));
                }
                assertThrows(IndexOutOfBoundsException.class, () -> s.get(JAVA_BYTE, 256), "bounded by byteSize");
                MemorySegment ints = arena.allocate(JAVA_INT, 10);
                assertEquals(40, ints.byteSize());
                assertEquals(0, ints.address() % JAVA_INT.byteAlignment());
            }
            Allocators.check(a);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allocators")
    void badRequestsAreIllegalArgumentsAndAllocateNothing(Allocators kind) {
        try (NativeAllocator a = kind.create(); Arena arena = NallocArena.ofConfined(a)) {
            long before = Allocators.blocksInUse(a);
            assertThrows(IllegalArgumentException.class, () -> arena.allocate(-1));
            assertThrows(IllegalArgumentException.class, () -> arena.allocate(16, 0));
            assertThrows(IllegalArgumentException.class, () -> arena.allocate(16, -8));
            assertThrows(IllegalArgumentException.class, () -> arena.allocate(16, 24));
            assertThrows(IllegalArgumentException.class, () -> arena.allocate(16, NativeAllocator.ALIGNMENT_MAX * 2));
            assertEquals(before, Allocators.blocksInUse(a));
        }
    }

    @Test
    void exhaustionIsOutOfMemoryErrorAndTheArenaKeepsWorking() {
        try (TlsfHeap heap = TlsfHeap.create(Allocators.HEAP_BYTES); Arena arena = NallocArena.ofConfined(heap)) {
            MemorySegment kept = arena.allocate(1000);
            assertThrows(OutOfMemoryError.class, () -> arena.allocate(Allocators.HEAP_BYTES * 2));
            assertEquals(1, heap.stats().usedBlocks());
            kept.set(JAVA_INT, 0, 7);
            assertEquals(7, arena.allocate(JAVA_INT, 7).byteSize() / 4);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allocators")
    void confinedArenaRefusesOtherThreads(Allocators kind) throws Exception {
        try (NativeAllocator a = kind.create(); Arena arena = NallocArena.ofConfined(a)) {
            MemorySegment s = arena.allocate(64);
            long before = Allocators.blocksInUse(a);
            assertInstanceOf(WrongThreadException.class, onOtherThread(() -> s.get(JAVA_LONG, 0)), "access");
            assertInstanceOf(WrongThreadException.class, onOtherThread(() -> arena.allocate(64)), "allocate");
            assertInstanceOf(WrongThreadException.class, onOtherThread(arena::close), "close");
            assertEquals(before, Allocators.blocksInUse(a), "a refused allocate touched no allocator");
            assertTrue(arena.scope().isAlive());
            s.set(JAVA_LONG, 0, 1L);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("threadSafeAllocators")
    void sharedArenaWorksAcrossThreads(Allocators kind) throws Exception {
        try (NativeAllocator a = kind.create()) {
            long before = Allocators.blocksInUse(a);
            NallocArena arena = NallocArena.ofShared(a);
            MemorySegment mine = arena.allocate(64);
            AtomicReference<MemorySegment> theirs = new AtomicReference<>();
            CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 100; i++) {
                    theirs.set(arena.allocate(JAVA_LONG, 4));
                }
                mine.set(JAVA_LONG, 0, 99L);
            }).get();
            assertEquals(99L, mine.get(JAVA_LONG, 0));
            theirs.get().set(JAVA_LONG, 24, 5L);
            assertEquals(before + 101, Allocators.blocksInUse(a));
            CompletableFuture.runAsync(arena::close).get(); // closed by another thread
            assertEquals(before, Allocators.blocksInUse(a));
            assertThrows(IllegalStateException.class, () -> mine.get(JAVA_LONG, 0));
            Allocators.check(a);
        }
    }

    @Test
    void sharedArenaRefusesASingleThreadedHeap() {
        try (TlsfHeap heap = TlsfHeap.create(Allocators.HEAP_BYTES)) {
            assertThrows(IllegalArgumentException.class, () -> NallocArena.ofShared(heap));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allocators")
    void jdkApisThatTakeASegmentAllocator(Allocators kind) {
        try (NativeAllocator a = kind.create()) {
            long before = Allocators.blocksInUse(a);
            try (Arena arena = NallocArena.ofConfined(a)) {
                SegmentAllocator allocator = arena;
                MemorySegment text = allocator.allocateFrom("nalloc über FFM");
                assertEquals("nalloc über FFM", text.getString(0));
                assertTrue(a.size(text.address()) >= text.byteSize(), "allocateFrom used a nalloc block");
                MemorySegment longs = allocator.allocateFrom(JAVA_LONG, 1L, 2L, 3L);
                assertEquals(3L, longs.getAtIndex(JAVA_LONG, 2));
                assertEquals(before + 2, Allocators.blocksInUse(a));
            }
            assertEquals(before, Allocators.blocksInUse(a));
        }
    }

    @Test
    void closingTheAllocatorFirstLeavesNothingToFree() {
        Smmalloc sm = new Smmalloc(8, 64 * 1024);
        Arena arena = NallocArena.ofConfined(sm);
        MemorySegment s = arena.allocate(32);
        sm.close(); // releases every block; the arena's frees must not throw
        arena.close();
        assertThrows(IllegalStateException.class, () -> s.get(JAVA_BYTE, 0));
    }

    @Test
    void aBlockFreedByHandIsReportedByClose() {
        try (TlsfHeap heap = TlsfHeap.create(Allocators.HEAP_BYTES)) {
            Arena arena = NallocArena.ofConfined(heap);
            MemorySegment s = arena.allocate(32);
            arena.allocate(32);
            heap.free(s.address());
            assertThrows(IllegalArgumentException.class, arena::close, "the double free surfaces");
            assertFalse(arena.scope().isAlive());
            assertEquals(0, heap.stats().usedBlocks(), "the other block was freed anyway");
            heap.check();
        }
    }

    /** A shared arena calls its allocator from any thread: every single-threaded one is refused. */
    @Test
    void ofSharedRefusesEveryAllocatorThatIsNotThreadSafe() {
        try (SystemAllocator sys = new SystemAllocator();
                TlsfHeap heap = TlsfHeap.create(Allocators.HEAP_BYTES);
                BlockPool pool = BlockPool.over(sys, 64, 16, 64);
                ArenaAllocator frames = new ArenaAllocator(sys);
                LinearAllocator linear = LinearAllocator.over(sys, 4096);
                DebugAllocator debugHeap = new DebugAllocator("heap", heap, LeakReporting.LOG, false);
                ConcurrentBlockPool shared = ConcurrentBlockPool.over(sys, 64, 16, 64)) {
            for (NativeAllocator single : List.<NativeAllocator>of(heap, pool, frames, linear, debugHeap)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> NallocArena.ofShared(single), single.toString());
                assertTrue(e.getMessage().contains("is not thread-safe"), e.getMessage());
            }
            try (Arena arena = NallocArena.ofShared(shared)) {
                arena.allocate(64);
                assertEquals(1, shared.liveBlocks());
            }
            assertEquals(0, shared.liveBlocks());
        }
    }

    /**
     * A confined arena over an allocator that frees only in bulk: close() makes the segments
     * inaccessible and leaves the memory to the allocator's reset or close (it threw
     * UnsupportedOperationException from the first single free).
     */
    @Test
    void confinedArenaOverABulkOnlyAllocatorLeavesTheBlocksToIt() {
        try (SystemAllocator sys = new SystemAllocator(); ArenaAllocator frames = new ArenaAllocator(sys, 4096)) {
            Arena arena = NallocArena.ofConfined(frames);
            MemorySegment a = arena.allocate(100);
            MemorySegment b = arena.allocate(JAVA_LONG, 4);
            b.setAtIndex(JAVA_LONG, 3, 42);
            assertEquals(2, frames.blocks());
            arena.close();
            assertFalse(arena.scope().isAlive());
            assertThrows(IllegalStateException.class, () -> a.get(JAVA_BYTE, 0));
            assertEquals(2, frames.blocks(), "freed in bulk, by the arena allocator");
            frames.reset();
            assertEquals(0, frames.blocks());
        }
    }

    private static Throwable onOtherThread(Runnable action) throws InterruptedException {
        try {
            CompletableFuture.runAsync(action).get();
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }
}
