package dev.nalloc.toolkit;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Child-JVM scenario of {@link SystemAllocatorTest}: threads realloc blocks of 1-2 MiB (which
 * glibc maps and unmaps on their own, so a copy into or out of a freed one faults at once) while
 * the main thread closes the allocator. Every racing call must complete or throw
 * IllegalStateException; anything else, or a crash, fails. Prints OK.
 */
public final class SystemAllocatorCloseRace {
    private SystemAllocatorCloseRace() {}

    public static void main(String[] args) throws Exception {
        int rounds = 200;
        int threads = 3;
        int closedSeen = 0;
        for (int round = 0; round < rounds; round++) {
            SystemAllocator sys = new SystemAllocator();
            CountDownLatch running = new CountDownLatch(threads);
            AtomicReference<Throwable> wrong = new AtomicReference<>();
            Thread[] workers = new Thread[threads];
            int[] stoppedByClose = new int[threads];
            for (int t = 0; t < threads; t++) {
                int id = t;
                workers[t] = new Thread(() -> {
                    try {
                        long p = sys.malloc(1 << 20);
                        running.countDown();
                        for (int i = 0; ; i++) {
                            long q = sys.realloc(p, (1 << 20) + ((i & 1) << 20));
                            if (q != 0) {
                                p = q;
                            }
                        }
                    } catch (IllegalStateException closed) {
                        stoppedByClose[id] = 1;
                    } catch (Throwable e) {
                        wrong.set(e);
                    } finally {
                        running.countDown();
                    }
                });
                workers[t].start();
            }
            running.await();
            sys.close();
            for (Thread w : workers) {
                w.join();
            }
            if (wrong.get() != null) {
                throw new AssertionError("round " + round + ": a racing call threw something else", wrong.get());
            }
            for (int s : stoppedByClose) {
                closedSeen += s;
            }
        }
        if (closedSeen != rounds * threads) {
            throw new AssertionError("every worker ends by IllegalStateException: " + closedSeen);
        }
        System.out.println("workers stopped by close: " + closedSeen);
        System.out.println("OK");
    }
}
