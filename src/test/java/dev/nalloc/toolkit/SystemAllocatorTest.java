package dev.nalloc.toolkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.nalloc.ForkedJvm;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

/** What the contract suite does not see: the registry's counters and frees from other threads. */
class SystemAllocatorTest {

    @Test
    void countsLiveBlocksAndBytesAndFreesEverythingOnClose() {
        SystemAllocator sys = new SystemAllocator();
        long a = sys.malloc(10);
        long b = sys.malloc(0, 64); // one usable byte, 64-aligned
        assertEquals(0, b % 64);
        assertEquals(2, sys.liveBlocks());
        assertEquals(11, sys.liveBytes());
        assertEquals(1, sys.size(b));
        sys.free(a);
        assertEquals(1, sys.liveBlocks());
        assertEquals(1, sys.liveBytes());
        sys.close(); // frees b
        assertThrows(IllegalStateException.class, sys::liveBlocks);
        sys.close();
    }

    @Test
    void blocksMayBeFreedByOtherThreads() throws Exception {
        try (SystemAllocator sys = new SystemAllocator()) {
            ConcurrentLinkedQueue<Long> handed = new ConcurrentLinkedQueue<>();
            Thread[] producers = new Thread[4];
            for (int t = 0; t < producers.length; t++) {
                producers[t] = new Thread(() -> {
                    for (int i = 0; i < 2000; i++) {
                        handed.add(sys.malloc(16 + i % 200));
                    }
                });
                producers[t].start();
            }
            for (Thread t : producers) {
                t.join();
            }
            assertEquals(8000, sys.liveBlocks());
            Thread consumer = new Thread(() -> handed.forEach(sys::free));
            consumer.start();
            consumer.join();
            assertEquals(0, sys.liveBlocks());
            assertEquals(0, sys.liveBytes());
            long p = handed.peek();
            assertThrows(IllegalArgumentException.class, () -> sys.free(p), "all freed once");
        }
    }

    /**
     * close() racing realloc on other threads: every racing call completes or throws
     * IllegalStateException, and no call copies into or out of a block close() freed (which
     * crashed the JVM). In a child JVM, so a regression fails this test instead of the build.
     */
    @Test
    void closeRacingReallocLeavesEveryCallCompleteOrRefused() throws Exception {
        ForkedJvm.run(SystemAllocatorCloseRace.class, 120).assertOk();
    }

    @Test
    void callsAfterCloseAreRefusedAndFreeNothing() {
        SystemAllocator sys = new SystemAllocator();
        long p = sys.malloc(64);
        sys.close();
        assertThrows(IllegalStateException.class, () -> sys.realloc(p, 128));
        assertThrows(IllegalStateException.class, () -> sys.free(p));
        assertThrows(IllegalStateException.class, () -> sys.size(p));
        assertThrows(IllegalStateException.class, () -> sys.malloc(8));
    }
}
