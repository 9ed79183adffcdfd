package dev.nalloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A TlsfHeap is confined to one thread at a time, checked: the second thread gets an exception. */
class TlsfHeapConfinementTest {

    /**
     * Thread A is stopped inside a call (its chunk allocator waits); thread B's call on the same
     * heap must be refused, naming both threads, and A's call must then complete on an intact
     * heap.
     */
    @Test
    void aCallWhileAnotherThreadIsInsideIsRefusedNamingBoth() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountingChunks system = new CountingChunks();
        ChunkAllocator stalling = new ChunkAllocator() {
            @Override
            public long allocateChunk(long minBytes) {
                inside.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return system.allocateChunk(minBytes);
            }

            @Override
            public void freeChunk(long address, long bytes) {
                system.freeChunk(address, bytes);
            }
        };
        AtomicReference<TlsfHeap> heapRef = new AtomicReference<>();
        AtomicLong grown = new AtomicLong();
        Thread a = new Thread(() -> {
            TlsfHeap heap = TlsfHeap.create(TlsfHeap.minimumBytes() + 4096, new ChunkAllocator() {
                boolean first = true;

                @Override
                public long allocateChunk(long minBytes) {
                    if (first) {
                        first = false;
                        return system.allocateChunk(minBytes);
                    }
                    return stalling.allocateChunk(minBytes);
                }

                @Override
                public void freeChunk(long address, long bytes) {
                    system.freeChunk(address, bytes);
                }
            });
            heapRef.set(heap);
            grown.set(heap.malloc(64 << 10)); // grows: stalls inside the call
        }, "holder");
        a.start();
        assertTrue(inside.await(30, TimeUnit.SECONDS), "thread A reached the chunk allocator");
        TlsfHeap heap = heapRef.get();
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> heap.malloc(16));
        assertTrue(refused.getMessage().contains("thread=" + Thread.currentThread().getName()), refused.getMessage());
        assertTrue(refused.getMessage().contains("thread=holder"), refused.getMessage());
        assertThrows(IllegalStateException.class, heap::close, "close() from another thread while A is inside");
        release.countDown();
        a.join(TimeUnit.SECONDS.toMillis(30));
        assertTrue(grown.get() != 0, "thread A's call completed");
        // A is done: handing the heap over between calls is legal
        heap.check();
        heap.free(grown.get());
        assertEquals(0, heap.stats().usedBlocks());
        heap.close();
        assertEquals(0, system.live());
    }

    @Test
    void handingTheHeapToAnotherThreadBetweenCallsIsLegal() throws Exception {
        TlsfHeap heap = TlsfHeap.create(1 << 20);
        long p = heap.malloc(100);
        AtomicLong q = new AtomicLong();
        Thread other = new Thread(() -> {
            heap.free(p);
            q.set(heap.malloc(200));
        });
        other.start();
        other.join();
        assertTrue(q.get() != 0);
        assertTrue(heap.size(q.get()) >= 200);
        heap.free(q.get());
        heap.check();
        heap.close();
    }

    @Test
    void sharedHeapsNeverHandOver() throws Exception {
        try (SharedTlsfHeap heap = SharedTlsfHeap.create(1 << 20)) {
            Thread[] threads = new Thread[4];
            for (int t = 0; t < threads.length; t++) {
                threads[t] = new Thread(() -> {
                    for (int i = 0; i < 10_000; i++) {
                        heap.free(heap.malloc(32));
                    }
                });
                threads[t].start();
            }
            for (Thread t : threads) {
                t.join();
            }
            heap.check();
        }
    }

    /** Two threads at once, and close() from another thread, in a JVM of their own. */
    @ParameterizedTest
    @ValueSource(strings = {"twoThreads", "closeFromAnotherThread"})
    void misuseFromTwoThreadsNeverDamagesTheHeap(String scenario) {
        ForkedJvm.run(TlsfHeapRace.class, 120, scenario).assertOk();
    }
}
