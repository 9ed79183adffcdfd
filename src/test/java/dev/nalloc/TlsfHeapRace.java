package dev.nalloc;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Scenarios run in a JVM of their own by {@link TlsfHeapConfinementTest}: one TlsfHeap misused
 * from two threads at once, and closed from another thread while in use. Every call must
 * complete or throw {@link IllegalStateException}, the heap must pass {@link TlsfHeap#check()}
 * afterwards with exactly the blocks the threads still hold, and the JVM must not die. Prints
 * {@code OK} last; exits with 1 on a broken rule.
 */
public final class TlsfHeapRace {
    private TlsfHeapRace() {}

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "twoThreads" -> twoThreads();
            case "closeFromAnotherThread" -> closeFromAnotherThread();
            default -> throw new IllegalArgumentException(args[0]);
        }
        System.out.println("OK");
    }

    /** Both threads allocate, fill, verify and free their own blocks on one heap for a second. */
    private static void twoThreads() throws Exception {
        TlsfHeap heap = TlsfHeap.create(8 << 20);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong refused = new AtomicLong();
        AtomicLong done = new AtomicLong();
        AtomicReference<Throwable> broken = new AtomicReference<>();
        long[][] live = new long[2][256];
        Thread[] threads = new Thread[2];
        for (int t = 0; t < 2; t++) {
            long[] mine = live[t];
            int id = t;
            threads[t] = new Thread(() -> {
                SplittableRandom random = new SplittableRandom(id);
                try {
                    while (!stop.get()) {
                        int i = random.nextInt(mine.length);
                        try {
                            // the blocks' contents are read and written without a heap call
                            if (mine[i] != 0) {
                                if (TestMemory.U.getLong(mine[i]) != mine[i]) {
                                    throw new AssertionError("block " + mine[i] + " was overwritten");
                                }
                                heap.free(mine[i]);
                                mine[i] = 0;
                            } else {
                                long p = heap.malloc(random.nextInt(8, 512));
                                if (p != 0) {
                                    TestMemory.U.putLong(p, p);
                                    mine[i] = p;
                                }
                            }
                            done.incrementAndGet();
                        } catch (IllegalStateException concurrent) {
                            refused.incrementAndGet();
                        }
                    }
                } catch (Throwable e) {
                    broken.compareAndSet(null, e);
                }
            }, "user-" + t);
            threads[t].setDaemon(true);
            threads[t].start();
        }
        Thread.sleep(1000);
        stop.set(true);
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(30));
            if (t.isAlive()) {
                fail("thread " + t.getName() + " did not end");
            }
        }
        if (broken.get() != null) {
            broken.get().printStackTrace(System.out);
            fail("a call neither completed nor threw IllegalStateException");
        }
        heap.check(); // the heap is intact: this thread takes it over, no one else is inside
        long held = 0;
        for (long[] mine : live) {
            for (long p : mine) {
                if (p != 0) {
                    heap.free(p);
                    held++;
                }
            }
        }
        if (heap.stats().usedBlocks() != 0) {
            fail("blocks left after freeing the " + held + " the threads held: " + heap.stats());
        }
        heap.check();
        heap.close();
        System.out.println("calls=" + done + " refused=" + refused);
    }

    /** A thread uses the heap while this one closes it: refused while inside, done once not. */
    private static void closeFromAnotherThread() throws Exception {
        for (int round = 0; round < 20; round++) {
            TlsfHeap heap = TlsfHeap.create(1 << 20);
            AtomicReference<Throwable> broken = new AtomicReference<>();
            Thread user = new Thread(() -> {
                try {
                    for (;;) {
                        heap.free(heap.malloc(64));
                    }
                } catch (IllegalStateException closedOrConcurrent) {
                    // the heap was closed under it, or it came second: both clean
                } catch (Throwable e) {
                    broken.compareAndSet(null, e);
                }
            }, "user");
            user.setDaemon(true);
            user.start();
            Thread.sleep(round % 5);
            for (int attempt = 0; ; attempt++) {
                try {
                    heap.close();
                    break;
                } catch (IllegalStateException inUse) {
                    if (attempt > 100_000) {
                        fail("close() refused " + attempt + " times");
                    }
                    Thread.onSpinWait();
                }
            }
            user.join(TimeUnit.SECONDS.toMillis(30));
            if (user.isAlive() || broken.get() != null) {
                if (broken.get() != null) {
                    broken.get().printStackTrace(System.out);
                }
                fail("round " + round + ": the user thread hung or failed");
            }
        }
    }

    private static void fail(String why) {
        System.out.println(why);
        System.exit(1);
    }
}
