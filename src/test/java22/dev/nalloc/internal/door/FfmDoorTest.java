package dev.nalloc.internal.door;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nalloc.ChunkAllocator;
import dev.nalloc.ForkedJvm;
import dev.nalloc.SharedTlsfHeap;
import dev.nalloc.Smmalloc;
import dev.nalloc.SmmallocCloseRace;
import dev.nalloc.TlsfHeap;
import dev.nalloc.TlsfHeapRace;
import dev.nalloc.internal.jni.LwjglNative;
import dev.nalloc.internal.jni.SmmallocNative;
import dev.nalloc.toolkit.SystemAllocator;
import dev.nalloc.toolkit.SystemAllocatorCloseRace;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The allocators' error handling and shutdown races through the FFM door: double frees, foreign
 * pointers, batch frees with refused entries, calls after and during {@code close()}; and the hot
 * calls allocate no Java object.
 */
class FfmDoorTest {
    @BeforeAll
    static void ffmDoor() {
        assertEquals("ffm", Binding.kind(), Binding.status());
    }

    @Test
    void smmallocRefusesDoubleFreesAndForeignPointers() {
        try (Smmalloc sm = new Smmalloc(8, 64 * 1024); TlsfHeap heap = TlsfHeap.create(1 << 20)) {
            long p = sm.malloc(64);
            assertNotEquals(0, p);
            assertEquals(64, sm.size(p));
            assertEquals(3, sm.bucket(p));
            long q = sm.realloc(p, 100);
            assertEquals(6, sm.bucket(q)); // 100 bytes: the 112-byte bucket
            sm.free(q);
            assertThrows(IllegalArgumentException.class, () -> sm.free(q));
            long foreign = heap.malloc(64);
            assertThrows(IllegalArgumentException.class, () -> sm.free(foreign));
            assertThrows(IllegalArgumentException.class, () -> sm.free(foreign + 16));
            assertThrows(IllegalArgumentException.class, () -> sm.realloc(foreign, 32));
            assertEquals(-1, sm.bucket(foreign));
            heap.free(foreign);
            long aligned = sm.malloc(32, 256);
            assertEquals(0, aligned % 256);
            sm.free(aligned);
            sm.check();
        }
    }

    @Test
    void smmallocBatchFreeRefusesAndZeroes() {
        try (Smmalloc sm = new Smmalloc(8, 64 * 1024)) {
            long[] batch = new long[8];
            for (int i = 0; i < batch.length; i++) {
                batch[i] = sm.malloc(16 + i);
            }
            long freedEarly = batch[2];
            sm.free(freedEarly);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sm.free(batch, batch.length));
            assertTrue(e.getMessage().startsWith("refused=1 of count=8"), e.getMessage());
            long[] expected = new long[8];
            expected[2] = freedEarly;
            assertArrayEquals(expected, batch);
            assertThrows(IndexOutOfBoundsException.class, () -> sm.free(batch, 9));
            assertEquals(0, sm.stats().bucketBlocksInUse());
        }
    }

    @Test
    void smmallocCallsAfterCloseThrowIllegalState() {
        Smmalloc sm = new Smmalloc(4, 64 * 1024);
        long p = sm.malloc(16);
        sm.close();
        assertThrows(IllegalStateException.class, () -> sm.malloc(16));
        assertThrows(IllegalStateException.class, () -> sm.free(p));
        assertThrows(IllegalStateException.class, () -> sm.free(new long[] {p}, 1));
    }

    @Test
    void tlsfHeapsRefuseDoubleFreesAndForeignPointers() {
        try (TlsfHeap heap = TlsfHeap.create(1 << 20); SharedTlsfHeap shared = SharedTlsfHeap.create(1 << 20)) {
            long p = heap.malloc(100);
            long q = heap.malloc(100, 4096);
            assertEquals(0, q % 4096);
            assertTrue(heap.size(p) >= 100);
            long r = heap.realloc(p, 5000);
            assertNotEquals(0, r);
            heap.free(r);
            assertThrows(IllegalArgumentException.class, () -> heap.free(r));
            assertThrows(IllegalArgumentException.class, () -> heap.size(r));
            assertThrows(IllegalArgumentException.class, () -> heap.realloc(r, 10));
            long s = shared.malloc(100);
            assertThrows(IllegalArgumentException.class, () -> heap.free(s));
            assertThrows(IllegalArgumentException.class, () -> shared.free(q));
            shared.free(s);
            heap.free(q);
            heap.check();
            shared.check();
        }
    }

    @Test
    void growingTlsfHeapAndSystemAllocator() {
        try (SystemAllocator system = new SystemAllocator();
                TlsfHeap heap = TlsfHeap.create(64 * 1024, new ChunkAllocator() {
                    @Override
                    public long allocateChunk(long minBytes) {
                        return system.malloc(minBytes, 64);
                    }

                    @Override
                    public void freeChunk(long address, long bytes) {
                        system.free(address);
                    }
                })) {
            long big = heap.malloc(1 << 20); // beyond the first chunk: the heap grows
            assertNotEquals(0, big);
            heap.free(big);
            long aligned = system.malloc(100, 4096);
            assertEquals(0, aligned % 4096);
            system.free(aligned);
        }
    }

    @Test
    void reallocsBelowAndAboveTheCriticalCopyLimitKeepTheContents() {
        long big = 4 * Binding.CRITICAL_COPY_MAX;
        try (Smmalloc sm = new Smmalloc(8, 64 * 1024); TlsfHeap heap = TlsfHeap.create(16 * big)) {
            long p = sm.malloc(64);
            MemorySegment.ofAddress(p).reinterpret(64).fill((byte) 7);
            p = sm.realloc(p, big); // plain handle: a fallback block
            assertEquals(7, MemorySegment.ofAddress(p).reinterpret(big).get(ValueLayout.JAVA_BYTE, 63));
            p = sm.realloc(p, 32); // critical handle: back to a bucket
            assertEquals(1, sm.bucket(p));
            assertEquals(7, MemorySegment.ofAddress(p).reinterpret(32).get(ValueLayout.JAVA_BYTE, 31));
            sm.free(p);
            long q = heap.malloc(64);
            MemorySegment.ofAddress(q).reinterpret(64).fill((byte) 9);
            q = heap.realloc(q, big);
            assertEquals(9, MemorySegment.ofAddress(q).reinterpret(big).get(ValueLayout.JAVA_BYTE, 63));
            q = heap.realloc(q, Binding.CRITICAL_COPY_MAX);
            assertEquals(9, MemorySegment.ofAddress(q).reinterpret(64).get(ValueLayout.JAVA_BYTE, 0));
            heap.free(q);
        }
    }

    @Test
    void lwjglCallocBelowAndAboveTheCriticalCopyLimit() {
        // the LWJGL entry points' process-global allocator, installed once and never destroyed
        // (LwjglNative's contract); this JVM runs no LWJGL adapter that could have installed another
        long allocator = SmmallocNative.sm_allocator_create(8, 1 << 20);
        assertEquals(1, LwjglNative.nalloc_lwjgl_install(allocator));
        for (long[] numSize : new long[][] {{4, 16}, {1, Binding.CRITICAL_COPY_MAX}, {3, Binding.CRITICAL_COPY_MAX}, {1 << 20, 2}}) {
            long bytes = numSize[0] * numSize[1];
            long p = LwjglDoor.calloc(numSize[0], numSize[1]);
            assertNotEquals(0, p);
            MemorySegment block = MemorySegment.ofAddress(p).reinterpret(bytes);
            assertEquals(-1, block.mismatch(MemorySegment.ofArray(new byte[(int) bytes])), "zeroed");
            block.fill((byte) 1); // the next calloc may get this block back: it must clear it again
            assertEquals(SmmallocNative.SM_OK, SmmallocNative.sm_free_checked(allocator, p));
        }
        assertEquals(0, LwjglDoor.calloc(1L << 33, 1L << 33)); // size_t overflow
        assertEquals(0, LwjglDoor.calloc(-1, 2));
        long p = LwjglDoor.alignedAlloc(allocator, 100, 4096);
        assertEquals(0, p % 4096);
        assertEquals(SmmallocNative.SM_OK, SmmallocNative.sm_free_checked(allocator, p));
    }

    @ParameterizedTest
    @ValueSource(strings = {"jni", "everyCall", "cCache", "executor", "check"})
    void smmallocCloseRacesThroughTheFfmDoor(String scenario) {
        String out = ForkedJvm.run(SmmallocCloseRace.class, 300, scenario).assertOk();
        assertTrue(out.contains("; binding ffm ("), out);
    }

    @ParameterizedTest
    @ValueSource(strings = {"twoThreads", "closeFromAnotherThread"})
    void tlsfHeapRacesThroughTheFfmDoor(String scenario) {
        ForkedJvm.run(TlsfHeapRace.class, 120, scenario).assertOk();
    }

    @Test
    void systemAllocatorCloseRaceThroughTheFfmDoor() {
        ForkedJvm.run(SystemAllocatorCloseRace.class, 120).assertOk();
    }

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final int CALLS = 200_000;
    /** Far below one byte per call: one object per call would be at least 16 bytes x CALLS. */
    private static final long SLACK_BYTES = 64 * 1024;

    @Test
    void hotCallsAllocateNothing() {
        try (Smmalloc sm = new Smmalloc(8, 1 << 20); TlsfHeap heap = TlsfHeap.create(1 << 22)) {
            long[] batch = new long[16];
            loop(sm, heap, batch, 100_000); // link, compile
            long before = THREADS.getCurrentThreadAllocatedBytes();
            long sink = loop(sm, heap, batch, CALLS);
            long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocated < SLACK_BYTES, allocated + " bytes allocated over " + CALLS + " iterations (" + sink + ")");
        }
    }

    private static long loop(Smmalloc sm, TlsfHeap heap, long[] batch, int n) {
        long sink = 0;
        for (int i = 0; i < n; i++) {
            long p = sm.malloc(16 + (i & 127));
            long q = heap.malloc(16 + (i & 255));
            sink += sm.size(p) + heap.size(q);
            sm.free(p);
            heap.free(q);
            if ((i & 1023) == 0) {
                for (int k = 0; k < batch.length; k++) {
                    batch[k] = sm.malloc(32);
                }
                sm.free(batch, batch.length);
            }
        }
        return sink;
    }
}
