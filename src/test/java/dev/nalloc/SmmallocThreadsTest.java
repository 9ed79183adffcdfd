package dev.nalloc;

import static dev.nalloc.Subjects.drain;
import static dev.nalloc.Subjects.handOff;
import static dev.nalloc.Subjects.stamp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** {@link Smmalloc} from many threads: thread factory, cache scopes, thread exit. */
class SmmallocThreadsTest {
    private static final int THREADS = 4;
    private static final int SLOTS = 1024;

    @Test
    void executorThreadsGetCachesAndFreeEachOthersBlocks() throws Exception {
        try (Smmalloc sm = new Smmalloc(8, 1 << 20)) {
            List<Thread> workers = new CopyOnWriteArrayList<>();
            ThreadFactory tracking = r -> {
                Thread t = Executors.defaultThreadFactory().newThread(r);
                workers.add(t);
                return t;
            };
            ExecutorService pool = Executors.newFixedThreadPool(THREADS,
                    new SmmallocThreadFactory(sm, 4096, CacheWarmup.WARM, tracking));
            AtomicLongArray slots = new AtomicLongArray(SLOTS);
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < THREADS * 2; t++) {
                int seed = t;
                results.add(pool.submit(() -> {
                    if (!sm.hasThreadCache()) {
                        return -1_000_000;
                    }
                    return messages(sm, slots, seed, 20_000);
                }));
            }
            int errors = 0;
            for (Future<Integer> f : results) {
                errors += f.get();
            }
            assertEquals(THREADS, sm.stats().threadCaches(), "one cache per live worker");
            pool.shutdown();
            assertTrue(pool.awaitTermination(1, TimeUnit.MINUTES));
            assertEquals(0, errors, "workers without a cache, or blocks that lost their pattern");
            // A pool reports termination from inside its workers' run(), before the factory's
            // finally destroys their caches: join the threads themselves.
            assertEquals(THREADS, workers.size());
            for (Thread t : workers) {
                t.join();
            }

            // The workers destroyed their caches in their finally blocks, before terminating.
            SmmallocStats s = sm.stats();
            assertEquals(0, s.threadCaches());
            assertEquals(0, s.blocksCached());
            long cacheHits = s.buckets().stream().mapToLong(SmmallocStats.BucketStats::cacheHits).sum();
            assertTrue(cacheHits > 0, "the caches served allocations");
            assertEquals(0, drain(sm, slots));
            assertEquals(0, sm.stats().bucketBlocksInUse());
            assertEquals(0, sm.stats().fallbackBlocksInUse());
            sm.check();
        }
    }

    /** Allocates patterned blocks, swaps them through shared slots, verifies and frees what comes back. */
    private static int messages(Smmalloc sm, AtomicLongArray slots, int seed, int count) {
        SplittableRandom random = new SplittableRandom(seed);
        int errors = 0;
        for (int i = 0; i < count; i++) {
            long p = sm.malloc(16 + random.nextInt(160)); // a few go past the buckets
            if (p == 0) {
                errors++;
                continue;
            }
            stamp(sm, p);
            errors += handOff(sm, slots, random.nextInt(SLOTS), p);
        }
        return errors;
    }

    @Test
    void aThreadThatExitsWithItsCacheLosesNoMemory() throws Exception {
        try (Smmalloc sm = new Smmalloc(8, 1 << 20)) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    sm.createThreadCache(4096, CacheWarmup.HOT);
                    long[] blocks = new long[100];
                    for (int i = 0; i < blocks.length; i++) {
                        blocks[i] = sm.malloc(16 + (i % 8) * 16);
                    }
                    sm.free(blocks, blocks.length); // into this thread's cache
                } catch (Throwable e) {
                    failure.set(e);
                }
                // ends without destroyThreadCache
            });
            t.start();
            t.join();
            assertNull(failure.get());
            // Thread.join returns when the Java thread is done; the C thread-exit hook runs when
            // the OS thread ends, a moment later. Wait for that event (not for a duration).
            SmmallocStats s = sm.stats();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (s.threadCaches() != 0 && System.nanoTime() < deadline) {
                Thread.sleep(1);
                s = sm.stats();
            }
            assertEquals(0, s.threadCaches(), "the exit hook destroyed the cache");
            assertEquals(0, s.blocksCached(), "and returned its blocks");
            assertEquals(0, s.bucketBlocksInUse());
            sm.check();
            assertNotNull(sm.threadCache(64, CacheWarmup.HOT), "the blocks are available again");
            sm.destroyThreadCache();
        }
    }

    @Test
    void threadCacheScope() throws Exception {
        try (Smmalloc sm = new Smmalloc(8, 1 << 20)) {
            ThreadCache cache;
            try (ThreadCache c = sm.threadCache(2048, CacheWarmup.WARM)) {
                cache = c;
                assertSame(Thread.currentThread(), c.owner());
                assertTrue(sm.hasThreadCache());
                assertEquals(1, sm.stats().threadCaches());
                sm.free(sm.malloc(48));
                assertTrue(c.toString().endsWith(" open]"), c.toString());
            }
            assertFalse(sm.hasThreadCache(), "closed with the scope");
            assertEquals(0, sm.stats().threadCaches());
            assertTrue(cache.toString().endsWith(" closed]"));
            cache.close(); // twice: nothing

            ThreadCache other = sm.threadCache(2048, CacheWarmup.COLD);
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    other.close();
                } catch (Throwable e) {
                    thrown.set(e);
                }
            }, "intruder");
            t.start();
            t.join();
            assertTrue(thrown.get() instanceof IllegalStateException, String.valueOf(thrown.get()));
            assertEquals("thread=intruder cannot close the ThreadCache of thread=" + Thread.currentThread().getName(),
                    thrown.get().getMessage());
            assertTrue(sm.hasThreadCache(), "a refused close leaves the cache alone");
            sm.close();
            other.close(); // after the allocator: nothing to do
        }
    }

    @Test
    void factoryWrapsItsDelegate() throws Exception {
        try (Smmalloc sm = new Smmalloc(8, 1 << 20)) {
            ThreadFactory named = r -> new Thread(r, "sm-worker");
            SmmallocThreadFactory factory = new SmmallocThreadFactory(sm, 1024, CacheWarmup.COLD, named);
            AtomicBoolean hadCache = new AtomicBoolean();
            AtomicReference<String> name = new AtomicReference<>();
            Thread t = factory.newThread(() -> {
                hadCache.set(sm.hasThreadCache());
                name.set(Thread.currentThread().getName());
            });
            t.start();
            t.join();
            assertTrue(hadCache.get());
            assertEquals("sm-worker", name.get());
            assertEquals(0, sm.stats().threadCaches(), "destroyed in finally");

            Thread failing = factory.newThread(() -> {
                throw new IllegalStateException("task failed");
            });
            failing.setUncaughtExceptionHandler((th, e) -> { });
            failing.start();
            failing.join();
            assertEquals(0, sm.stats().threadCaches(), "destroyed even when the task throws");

            assertNull(new SmmallocThreadFactory(sm, 1024, CacheWarmup.COLD, r -> null).newThread(() -> { }));
            assertThrows(IllegalArgumentException.class, () -> sm.threadFactory(0, CacheWarmup.WARM));
            assertThrows(NullPointerException.class, () -> sm.threadFactory(1024, null));
            assertThrows(NullPointerException.class, () -> new SmmallocThreadFactory(null, 1024, CacheWarmup.WARM));
            assertThrows(NullPointerException.class, () -> new SmmallocThreadFactory(sm, 1024, CacheWarmup.WARM, null));
            assertThrows(NullPointerException.class, () -> factory.newThread(null));
        }
    }

    @Test
    void threadsStartingAfterCloseRunWithoutACache() throws Exception {
        Smmalloc sm = new Smmalloc(8, 1 << 20);
        SmmallocThreadFactory factory = sm.threadFactory(1024, CacheWarmup.HOT);
        sm.close();
        AtomicBoolean ran = new AtomicBoolean();
        Thread t = factory.newThread(() -> ran.set(true));
        t.start();
        t.join();
        assertTrue(ran.get(), "the task still runs");
    }

    @Test
    void closeWhileWorkersHoldIdleCachesIsSafe() throws Exception {
        Smmalloc sm = new Smmalloc(8, 1 << 20);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS, sm.threadFactory(4096, CacheWarmup.HOT));
        List<Future<?>> warm = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
            warm.add(pool.submit(() -> sm.free(sm.malloc(32))));
        }
        for (Future<?> f : warm) {
            f.get();
        }
        sm.close(); // workers idle, caches alive: they become orphans the threads release
        Future<?> after = pool.submit(() -> sm.malloc(16));
        Throwable cause = assertThrows(java.util.concurrent.ExecutionException.class, after::get).getCause();
        assertTrue(cause instanceof IllegalStateException, String.valueOf(cause));
        pool.shutdown();
        assertTrue(pool.awaitTermination(1, TimeUnit.MINUTES), "workers end cleanly after close");
    }

    @Test
    void manyThreadsWithoutCachesShareTheLockFreeLists() throws Exception {
        try (Smmalloc sm = new Smmalloc(4, 1 << 16)) {
            AtomicLongArray slots = new AtomicLongArray(SLOTS);
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int seed = 100 + t;
                results.add(pool.submit(() -> messages(sm, slots, seed, 20_000)));
            }
            int errors = 0;
            for (Future<Integer> f : results) {
                errors += f.get();
            }
            pool.shutdown();
            assertTrue(pool.awaitTermination(1, TimeUnit.MINUTES));
            assertEquals(0, errors);
            long[] left = new long[SLOTS];
            for (int i = 0; i < SLOTS; i++) {
                left[i] = slots.get(i);
            }
            sm.free(left, SLOTS);
            SmmallocStats s = sm.stats();
            assertEquals(0, s.bucketBlocksInUse());
            assertEquals(0, s.fallbackBlocksInUse());
            assertEquals(0, s.threadCaches());
            sm.check();
        }
    }
}
