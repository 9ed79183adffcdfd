package dev.nalloc.toolkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nalloc.ForkedJvm;
import dev.nalloc.NativeAllocator;
import dev.nalloc.TlsfHeap;
import dev.nalloc.internal.Blocks;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Leaks named by allocation site, double frees named by both sites, guard bytes, both modes. */
class DebugAllocatorTest {
    private TlsfHeap heap;

    @BeforeEach
    void create() {
        heap = TlsfHeap.create(1 << 20);
    }

    @AfterEach
    void close() {
        assertEquals(0, heap.stats().usedBlocks(), "the debug allocator gave everything back");
        heap.check();
        heap.close();
    }

    /** Allocates from a named method, so the report must name it. */
    private static long leakyDecoder(NativeAllocator a) {
        return a.malloc(100);
    }

    @Test
    void leaksAreReportedWithTheirAllocationSite() {
        DebugAllocator debug = new DebugAllocator("codec", heap, LeakReporting.THROW, true);
        long kept = leakyDecoder(debug);
        long freed = debug.malloc(10);
        assertEquals(110, debug.liveBytes());
        debug.free(freed);
        assertEquals(100, debug.liveBytes());
        assertEquals(1, debug.liveBlocks().size());
        assertEquals(kept, debug.liveBlocks().get(0).address());
        IllegalStateException report = assertThrows(IllegalStateException.class, debug::close);
        String m = report.getMessage();
        assertTrue(m.startsWith("DebugAllocator 'codec': 1 leaked block (100 bytes)"), m);
        assertTrue(m.contains(Blocks.hex(kept)), m);
        assertTrue(m.contains("allocated by thread " + Thread.currentThread().getName()), m);
        assertTrue(m.contains("DebugAllocatorTest.leakyDecoder(DebugAllocatorTest.java:"), m);
        assertTrue(!m.contains("at " + DebugAllocator.class.getName() + "."), "its own frames are skipped: " + m);
        debug.close(); // closed already: nothing
    }

    @Test
    void logModeLogsAndFreesWithoutThrowing() {
        DebugAllocator debug = new DebugAllocator("quiet", heap, LeakReporting.LOG, false);
        debug.malloc(64);
        debug.malloc(64, 256);
        debug.close(); // logs a warning, frees both
        assertThrows(IllegalStateException.class, () -> debug.malloc(1));
    }

    @Test
    void aDoubleFreeNamesWhereTheBlockWasAllocatedAndFreed() {
        try (DebugAllocator debug = new DebugAllocator("net", heap, LeakReporting.THROW, true)) {
            long p = leakyDecoder(debug);
            freeInHandler(debug, p);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> debug.free(p));
            String m = e.getMessage();
            assertTrue(m.contains("double free"), m);
            assertTrue(m.contains("leakyDecoder"), "allocation site: " + m);
            assertTrue(m.contains("freeInHandler"), "first free's site: " + m);
            IllegalArgumentException foreign = assertThrows(IllegalArgumentException.class, () -> debug.free(p + 16));
            assertTrue(foreign.getMessage().contains("not a live block"), foreign.getMessage());
            assertThrows(IllegalArgumentException.class, () -> debug.size(p));
            assertTrue(debug.liveBlocks().isEmpty(), "nothing changed");
        }
    }

    private static void freeInHandler(NativeAllocator a, long p) {
        a.free(p);
    }

    @Test
    void overrunsAndUnderrunsAreCaughtOnFreeAndTheBlockIsStillReleased() {
        try (DebugAllocator debug = new DebugAllocator("grid", heap, LeakReporting.THROW, true)) {
            long p = debug.malloc(40);
            Blocks.view(p, 40).put(39, (byte) 1); // inside: fine
            long q = debug.malloc(40);
            Blocks.view(q + 40, 1).put(0, (byte) 0); // one byte past the end
            debug.check(); // p is intact, q is not: check names q
            assertTrue(false, "check() should have thrown");
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage().contains("overrun (byte 0 after its end changed)"), e.getMessage());
        }
    }

    @Test
    void guardDamageOnFreeIsReportedAfterRelease() {
        DebugAllocator debug = new DebugAllocator("grid", heap, LeakReporting.THROW, false);
        long p = debug.malloc(24);
        Blocks.view(p - 3, 1).put(0, (byte) 0); // three bytes before the start
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> debug.free(p));
        assertTrue(e.getMessage().contains("underrun (byte 3 before its start changed)"), e.getMessage());
        assertTrue(e.getMessage().contains("stack traces off"), e.getMessage());
        assertTrue(debug.liveBlocks().isEmpty(), "released anyway");
        long q = debug.realloc(0, 10);
        q = debug.realloc(q, 5000);
        assertEquals(5000, debug.size(q));
        debug.free(q);
        debug.close();
        assertNull(null);
    }

    /**
     * The backing allocator closed first: every call that would read a block's guards reports the
     * order instead (it read unmapped memory and crashed the JVM). In a child JVM.
     */
    @Test
    void closingTheBackingFirstIsReportedAndNoGuardIsRead() throws Exception {
        String out = ForkedJvm.run(DebugAllocatorCloseOrder.class, 120).assertOk();
        assertTrue(out.contains("DebugAllocator 'order', close: its backing allocator TlsfHeap[closed] was closed "
                + "before it (close the DebugAllocator first)"), out);
    }

    /** Over an allocator that frees only in bulk: no single frees, and the records stay true. */
    @Test
    void overABulkOnlyAllocatorFreeIsRefusedAndTheBlockStaysRecorded() {
        try (ArenaAllocator arena = new ArenaAllocator(heap, 4096)) {
            DebugAllocator debug = new DebugAllocator("frame", arena, LeakReporting.THROW, false);
            assertEquals(false, debug.supportsFree(), "as the arena");
            long p = debug.malloc(100);
            assertThrows(UnsupportedOperationException.class, () -> debug.free(p));
            UnsupportedOperationException again = assertThrows(UnsupportedOperationException.class, () -> debug.free(p),
                    "still live: not a double free");
            assertTrue(again.getMessage().contains("cannot free single blocks"), again.getMessage());
            assertEquals(100, debug.size(p));
            long q = debug.realloc(p, 300); // moves; the old block is dropped, not freed
            assertEquals(300, debug.size(q));
            assertThrows(IllegalArgumentException.class, () -> debug.size(p), "p was replaced by realloc");
            debug.check();
            IllegalStateException report = assertThrows(IllegalStateException.class, debug::close);
            assertTrue(report.getMessage().startsWith("DebugAllocator 'frame': 1 leaked block (300 bytes)"),
                    report.getMessage());
            assertTrue(report.getMessage().contains(Blocks.hex(q)), report.getMessage());
        }
    }

    /** A block the backing no longer holds (the arena was reset under it) is reported, not read. */
    @Test
    void aBlockReleasedBehindItsBackIsReportedAndDropped() {
        try (ArenaAllocator arena = new ArenaAllocator(heap, 4096)) {
            DebugAllocator debug = new DebugAllocator("reset", arena, LeakReporting.THROW, false);
            long p = debug.malloc(64);
            arena.reset();
            IllegalStateException e = assertThrows(IllegalStateException.class, debug::check);
            assertTrue(e.getMessage().contains("is no longer held by"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> debug.size(p), "dropped from the records");
            debug.close(); // nothing live any more: no report
        }
    }
}
