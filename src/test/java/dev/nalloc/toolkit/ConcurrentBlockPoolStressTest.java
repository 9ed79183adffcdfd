package dev.nalloc.toolkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;


import dev.nalloc.internal.Blocks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Four stress patterns for a lock-free block allocator (one block over and over; random own
 * blocks; one shared bucket every thread adds to and takes from; random batches), with every core
 * spinning (at least 4 threads, so that two cores are oversubscribed and preemption lands inside
 * the CAS windows): each block is stamped with its owner and address while held, and any block
 * handed out twice, lost or corrupted fails the test, as does any broken invariant afterwards.
 */
class ConcurrentBlockPoolStressTest {
    private static final int THREADS = Math.max(4, Runtime.getRuntime().availableProcessors() * 2);
    private static final int OPS = 200_000;
    private static final long BLOCK = 32;

    private interface Pattern {
        /** Runs one thread's share; returns the number of errors seen. */
        long run(ConcurrentBlockPool pool, int thread, SplittableRandom random);
    }

    private static void stamp(long p, int thread) {
        var v = Blocks.view(p, (int) BLOCK);
        v.putLong(0, p);
        v.putLong(8, thread);
        v.putLong(16, ~p);
    }

    private static boolean stamped(long p, int thread) {
        var v = Blocks.view(p, (int) BLOCK);
        return v.getLong(0) == p && v.getLong(8) == thread && v.getLong(16) == ~p;
    }

    private static void stress(Pattern pattern) throws Exception {
        stress(pattern, pool -> 0);
    }

    /** {@code drain} frees what the pattern leaves behind after the threads end; returns errors. */
    private static void stress(Pattern pattern, java.util.function.ToLongFunction<ConcurrentBlockPool> drain)
            throws Exception {
        SystemAllocator parent = new SystemAllocator();
        ConcurrentBlockPool pool = ConcurrentBlockPool.over(parent, BLOCK, 16, 64);
        CountDownLatch start = new CountDownLatch(1);
        AtomicLong errors = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                    errors.addAndGet(pattern.run(pool, id, new SplittableRandom(id * 7919L + 1)));
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "stress-" + t);
            th.setDaemon(true); // a stuck worker must not keep the test JVM alive
            threads.add(th);
            th.start();
        }
        start.countDown();
        for (Thread th : threads) {
            th.join(TimeUnit.MINUTES.toMillis(2));
            // A worker still running is a lost block or a livelock in the pool. The pool and its
            // parent then stay open on purpose: closing them under a running worker would turn
            // the test failure into a crash of the test JVM.
            assertFalse(th.isAlive(), () -> th.getName() + " did not finish within 2 minutes, at:\n"
                    + Arrays.stream(th.getStackTrace()).map(f -> "    at " + f).collect(Collectors.joining("\n")));
        }
        try {
            if (failure.get() != null) {
                throw new AssertionError("a worker failed", failure.get());
            }
            errors.addAndGet(drain.applyAsLong(pool));
            assertEquals(0, errors.get(), "blocks handed out twice or corrupted");
            assertEquals(0, pool.liveBlocks(), "every block came back");
            pool.check();
            pool.close();
            assertEquals(0, parent.liveBlocks());
        } finally {
            parent.close();
        }
    }

    @Test
    void allocateAndFreeOneBlockOverAndOver() throws Exception {
        stress((pool, thread, random) -> {
            long errors = 0;
            for (int i = 0; i < OPS; i++) {
                long p = pool.allocBlock();
                stamp(p, thread);
                errors += stamped(p, thread) ? 0 : 1;
                pool.freeBlock(p);
            }
            return errors;
        });
    }

    @Test
    void randomlyAllocateOrFreeOwnBlocks() throws Exception {
        stress((pool, thread, random) -> {
            long[] mine = new long[256];
            int held = 0;
            long errors = 0;
            for (int i = 0; i < OPS; i++) {
                if (held > 0 && (held == mine.length || random.nextBoolean())) {
                    int k = random.nextInt(held);
                    errors += stamped(mine[k], thread) ? 0 : 1;
                    pool.freeBlock(mine[k]);
                    mine[k] = mine[--held];
                } else {
                    long p = pool.allocBlock();
                    stamp(p, thread);
                    mine[held++] = p;
                }
            }
            while (held > 0) {
                errors += stamped(mine[--held], thread) ? 0 : 1;
                pool.freeBlock(mine[held]);
            }
            return errors;
        });
    }

    @Test
    void everyThreadAddsToAndTakesFromOneSharedBucket() throws Exception {
        AtomicLongArray shared = new AtomicLongArray(512);
        stress((pool, thread, random) -> {
            long errors = 0;
            for (int i = 0; i < OPS; i++) {
                int slot = random.nextInt(shared.length());
                long p = 0;
                if (random.nextBoolean()) {
                    p = pool.allocBlock();
                    var v = Blocks.view(p, (int) BLOCK);
                    v.putLong(0, p);
                    v.putLong(16, ~p);
                }
                long old = shared.getAndSet(slot, p); // freed by whichever thread takes it out
                if (old != 0) {
                    var v = Blocks.view(old, (int) BLOCK);
                    errors += v.getLong(0) == old && v.getLong(16) == ~old ? 0 : 1;
                    pool.freeBlock(old);
                }
            }
            return errors;
        }, pool -> {
            long errors = 0;
            for (int i = 0; i < shared.length(); i++) {
                long p = shared.getAndSet(i, 0);
                if (p != 0) {
                    var v = Blocks.view(p, (int) BLOCK);
                    errors += v.getLong(0) == p && v.getLong(16) == ~p ? 0 : 1;
                    pool.freeBlock(p);
                }
            }
            return errors;
        });
    }

    @Test
    void allocateARandomNumberThenFreeARandomNumber() throws Exception {
        stress((pool, thread, random) -> {
            long[] mine = new long[1024];
            int held = 0;
            long errors = 0;
            for (int done = 0; done < OPS; ) {
                int grab = random.nextInt(mine.length - held + 1);
                for (int k = 0; k < grab; k++) {
                    mine[held] = pool.allocBlock();
                    stamp(mine[held++], thread);
                }
                int drop = random.nextInt(held + 1);
                for (int k = 0; k < drop; k++) {
                    errors += stamped(mine[--held], thread) ? 0 : 1;
                    pool.freeBlock(mine[held]);
                }
                done += grab + drop;
            }
            while (held > 0) {
                errors += stamped(mine[--held], thread) ? 0 : 1;
                pool.freeBlock(mine[held]);
            }
            return errors;
        });
    }

    /**
     * ABA made to happen: a thread is stopped between reading the head (A, successor B) and its
     * CAS while this thread pops A, pops B and pushes A back. The head shows A again; only the
     * tag tells the stopped thread that its successor B is stale (B is in use). Without the tag
     * its CAS would succeed and B would be handed out twice.
     */
    @Test
    void theTagDefeatsABA() throws Exception {
        try (SystemAllocator parent = new SystemAllocator()) {
            ConcurrentBlockPool pool = ConcurrentBlockPool.over(parent, BLOCK, 16, 8);
            long warm = pool.allocBlock(); // the first chunk: blocks in address order
            pool.freeBlock(warm);
            CountDownLatch inWindow = new CountDownLatch(1);
            CountDownLatch resume = new CountDownLatch(1);
            AtomicLong stoppedGot = new AtomicLong();
            Thread stopped = new Thread(() -> stoppedGot.set(pool.allocBlock()));
            ConcurrentBlockPool.popWindowHook = () -> {
                if (Thread.currentThread() == stopped && inWindow.getCount() > 0) {
                    inWindow.countDown();
                    try {
                        resume.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            try {
                stopped.start();
                inWindow.await();
                long a = pool.allocBlock();
                long b = pool.allocBlock();
                pool.freeBlock(a); // head is A again, now followed by C
                resume.countDown();
                stopped.join();
                assertEquals(a, stoppedGot.get(), "the stopped thread retried and got A");
                long c = pool.allocBlock();
                org.junit.jupiter.api.Assertions.assertNotEquals(b, c, "B is in use: never handed out twice");
                assertEquals(3, pool.liveBlocks());
                pool.check();
                pool.freeBlock(b);
                pool.freeBlock(c);
                pool.freeBlock(stoppedGot.get());
                pool.check();
            } finally {
                ConcurrentBlockPool.popWindowHook = null;
                pool.close();
            }
        }
    }
}
