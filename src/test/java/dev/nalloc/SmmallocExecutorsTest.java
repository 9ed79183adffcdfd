package dev.nalloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Worker threads own their caches for life; elastic pools hand caches back as they shrink. */
class SmmallocExecutorsTest {

    private static void awaitCaches(Smmalloc sm, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (sm.stats().threadCaches() != expected && System.nanoTime() < deadline) {
            Thread.sleep(2); // waits for an event (threads exiting), not for a duration
        }
        assertEquals(expected, sm.stats().threadCaches());
    }

    @Test
    void fixedPoolWorkersAllocateThroughTheirOwnCache() throws Exception {
        try (Smmalloc sm = new Smmalloc(8, 1 << 20)) {
            ExecutorService pool = SmmallocExecutors.newFixedThreadPool(sm, 3, 2048, CacheWarmup.WARM);
            List<Future<Long>> results = new ArrayList<>();
            for (int t = 0; t < 12; t++) {
                results.add(pool.submit(() -> {
                    ThreadCache cache = sm.currentThreadCache();
                    assertNotNull(cache, "every worker has a cache");
                    long sum = 0;
                    for (int i = 0; i < 1000; i++) {
                        long p = cache.malloc(8 + i % 120);
                        sum += sm.bucket(p) >= 0 ? 1 : 0;
                        cache.free(p);
                    }
                    return sum;
                }));
            }
            for (Future<Long> r : results) {
                assertEquals(1000L, r.get());
            }
            assertEquals(3, sm.stats().threadCaches());
            pool.shutdown();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
            awaitCaches(sm, 0);
            assertEquals(0, sm.stats().bucketBlocksInUse());
            assertEquals(0, sm.stats().blocksCached(), "retired caches gave their blocks back");
            sm.check();
        }
    }

    @Test
    void anElasticPoolGrowsAndShrinksWithItsCaches() throws Exception {
        try (Smmalloc sm = new Smmalloc(8, 1 << 20)) {
            ExecutorService pool = SmmallocExecutors.newElasticThreadPool(sm, 1, 4, Duration.ofMillis(50), 1024,
                    CacheWarmup.HOT);
            CountDownLatch allRunning = new CountDownLatch(4);
            CountDownLatch release = new CountDownLatch(1);
            List<Future<?>> busy = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                busy.add(pool.submit(() -> {
                    long p = sm.currentThreadCache().malloc(100);
                    allRunning.countDown();
                    release.await();
                    sm.free(p);
                    return null;
                }));
            }
            assertTrue(allRunning.await(30, TimeUnit.SECONDS));
            assertEquals(4, sm.stats().threadCaches(), "grown to four workers, each with a cache");
            assertThrows(java.util.concurrent.RejectedExecutionException.class, () -> pool.submit(() -> 1));
            release.countDown();
            for (Future<?> f : busy) {
                f.get();
            }
            awaitCaches(sm, 1); // three idle workers retired after 50 ms; the core one stays
            long cachedByOne = sm.stats().blocksCached();
            assertTrue(cachedByOne > 0 && cachedByOne <= 8 * 64, "only the core worker's cache: " + cachedByOne);
            pool.shutdown();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
            awaitCaches(sm, 0);
            assertEquals(0, sm.stats().blocksCached());
            assertEquals(0, sm.stats().bucketBlocksInUse());
            sm.check();
        }
    }

    @Test
    void aCachedPoolStartsEmpty() throws Exception {
        try (Smmalloc sm = new Smmalloc(4, 1 << 16)) {
            ExecutorService pool = SmmallocExecutors.newCachedThreadPool(sm, 512, CacheWarmup.COLD);
            assertEquals(0, sm.stats().threadCaches());
            assertTrue(pool.submit(() -> sm.currentThreadCache() != null).get());
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
            awaitCaches(sm, 0);
        }
    }
}
