package dev.nalloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nalloc.internal.RawMemory;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.jar.JarFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Java fast path of {@link ThreadCache}: blocks handed out and taken back in Java over the C
 * thread cache, with every guarantee of the JNI path (exceptions for bad frees, blocks freed on
 * other threads, nothing lost when a thread dies), checked against the C allocator's own
 * statistics and invariant walk.
 */
class ThreadCacheFastPathTest {
    private static final int BUCKETS = 8;
    private Smmalloc sm;

    @BeforeEach
    void create() {
        sm = new Smmalloc(BUCKETS, 1 << 20);
    }

    @AfterEach
    void close() {
        sm.close();
    }

    private long inUse() {
        return sm.stats().buckets().stream().mapToLong(SmmallocStats.BucketStats::blocksInUse).sum();
    }

    private long cached() {
        return sm.stats().buckets().stream().mapToLong(SmmallocStats.BucketStats::blocksCached).sum();
    }

    @Test
    void fastPathIsOnForThisJdk() {
        // On by default on JDK 17 to 23 (Unsafe) and, from the packaged jar's META-INF/versions/22,
        // on JDK 22+ (FFM): the build runs this on JDK 17 and on its JDK 22+. A silent fall-back
        // to JNI would pass every other test here and lose the speed.
        boolean ffm = ffmRawMemoryInUse();
        try (ThreadCache cache = sm.threadCache(4096, CacheWarmup.WARM)) {
            assertEquals(ffm || Runtime.version().feature() < 24, cache.isFastPath(), ThreadCache.fastPathStatus());
            assertSame(sm, cache.allocator());
            assertSame(Thread.currentThread(), cache.owner());
            assertTrue(cache.toString().contains("fast path"), cache.toString());
        }
    }

    /** Whether this JVM runs the JDK 22+ RawMemory: JDK 22+ and a jar holding it in META-INF/versions/22. */
    static boolean ffmRawMemoryInUse() {
        if (Runtime.version().feature() < 22) {
            return false;
        }
        try {
            Path location = Paths.get(RawMemory.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isDirectory(location)) {
                return false; // target/classes: the JDK 17 classes only
            }
            try (JarFile jar = new JarFile(location.toFile())) {
                return jar.getEntry("META-INF/versions/22/dev/nalloc/internal/RawMemory.class") != null;
            }
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void servesEveryBucketAndFallsBackAboveThem() {
        try (ThreadCache cache = sm.threadCache(4096, CacheWarmup.HOT)) {
            for (long size = 1; size <= 16 * BUCKETS; size++) {
                long p = cache.malloc(size);
                assertNotEquals(0, p);
                assertEquals((size - 1) / 16, sm.bucket(p), "size " + size);
                assertEquals(16 * ((size + 15) / 16), sm.size(p));
                TestMemory.U.setMemory(p, sm.size(p), (byte) 0x5A); // the whole block is writable
                cache.free(p);
            }
            long zero = cache.malloc(0);
            assertEquals(0, sm.bucket(zero)); // a minimum block, as Smmalloc.malloc(0)
            cache.free(zero);
            long big = cache.malloc(16 * BUCKETS + 1);
            assertEquals(-1, sm.bucket(big)); // the system fallback
            assertEquals(16 * BUCKETS + 1, sm.size(big), 15);
            cache.free(big);
            cache.free(0);
            assertEquals(0, inUse());
            sm.check();
        }
    }

    @Test
    void pairsStayInJavaAndCountLikeC() {
        try (ThreadCache cache = sm.threadCache(4096, CacheWarmup.HOT)) {
            SmmallocStats.BucketStats before = sm.stats().buckets().get(3);
            long first = cache.malloc(64);
            cache.free(first);
            for (int i = 0; i < 10_000; i++) {
                long p = cache.malloc(64);
                assertEquals(first, p); // LIFO: the block just freed comes back
                cache.free(p);
            }
            SmmallocStats.BucketStats after = sm.stats().buckets().get(3);
            assertEquals(10_001, after.cacheHits() - before.cacheHits());
            assertEquals(before.globalHits(), after.globalHits()); // never refilled from the bucket
            assertEquals(before.blocksCached(), after.blocksCached());
            sm.check();
        }
    }

    @Test
    void doubleFreeAndBadAddressesAreExceptionsAndChangeNothing() {
        try (ThreadCache cache = sm.threadCache(4096, CacheWarmup.WARM)) {
            long a = cache.malloc(48);
            long b = cache.malloc(48);
            cache.free(a);
            IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> cache.free(a));
            assertTrue(twice.getMessage().contains("double free"), twice.getMessage());
            assertThrows(IllegalArgumentException.class, () -> sm.free(a)); // the C path agrees
            assertThrows(IllegalArgumentException.class, () -> cache.free(b + 16)); // interior, next unit
            assertThrows(IllegalArgumentException.class, () -> cache.free(b + 8)); // not a block start
            long neverHanded = b + 48L * 1000; // inside the bucket, beyond the bump frontier
            assertThrows(IllegalArgumentException.class, () -> cache.free(neverHanded));
            long foreign = TestMemory.U.allocateMemory(64);
            try {
                assertThrows(IllegalArgumentException.class, () -> cache.free(foreign));
            } finally {
                TestMemory.U.freeMemory(foreign);
            }
            assertEquals(1, inUse()); // only b is live, nothing was corrupted
            sm.check();
            cache.free(b);
            assertEquals(0, inUse());
            long again = cache.malloc(48);
            assertEquals(2, sm.bucket(again)); // still serving
            cache.free(again);
            sm.check();
        }
    }

    @Test
    void refillsWhenEmptyAndHandsBackWhenFull() {
        // 256 B per bucket of 16 B blocks: a capacity of 16 blocks, crossed many times each way.
        try (ThreadCache cache = sm.threadCache(256, CacheWarmup.COLD)) {
            long[] blocks = new long[1000];
            Set<Long> distinct = new HashSet<>();
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = cache.malloc(16);
                assertTrue(distinct.add(blocks[i]), "handed out twice: " + blocks[i]);
            }
            assertEquals(blocks.length, inUse());
            for (long p : blocks) {
                cache.free(p);
            }
            assertEquals(0, inUse());
            assertTrue(cached() <= 16, "cached=" + cached());
            sm.check();
        }
    }

    @Test
    void blocksCrossThreadsBothWays() throws Exception {
        BlockingQueue<Long> toWorker = new ArrayBlockingQueue<>(4096);
        BlockingQueue<Long> toMain = new ArrayBlockingQueue<>(4096);
        int n = 3000;
        try (ThreadCache cache = sm.threadCache(1024, CacheWarmup.WARM)) {
            Thread worker = new Thread(() -> {
                try (ThreadCache mine = sm.threadCache(1024, CacheWarmup.WARM)) {
                    for (int i = 0; i < n; i++) {
                        long p = toWorker.take();
                        TestMemory.U.putLong(p, TestMemory.U.getLong(p) + 1);
                        mine.free(p); // main's block comes home to the worker's cache
                        long q = mine.malloc(32);
                        TestMemory.U.putLong(q, i);
                        toMain.put(q);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            worker.start();
            for (int i = 0; i < n; i++) {
                long p = cache.malloc(32);
                TestMemory.U.putLong(p, 41);
                toWorker.put(p);
                long q = toMain.poll(30, TimeUnit.SECONDS);
                assertEquals(i, TestMemory.U.getLong(q));
                if ((i & 1) == 0) {
                    cache.free(q);
                } else {
                    sm.free(q);
                }
            }
            worker.join();
        }
        assertEquals(0, inUse());
        assertEquals(0, cached());
        sm.check();
    }

    @Test
    void aThreadThatDiesWithAFullCacheLosesNothing() throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                ThreadCache cache = sm.threadCache(4096, CacheWarmup.HOT); // never closed
                List<Long> blocks = new ArrayList<>();
                for (int i = 0; i < 500; i++) {
                    blocks.add(cache.malloc(16 + i % 100));
                }
                for (long p : blocks) {
                    cache.free(p);
                }
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        t.join();
        assertNull(failure.get());
        // join() returns when the Java thread is done; the C exit hook runs as the OS thread ends,
        // a moment later: wait for that event.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (sm.stats().threadCaches() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertEquals(0, sm.stats().threadCaches()); // the C thread-exit hook retired it
        assertEquals(0, cached());
        assertEquals(0, inUse());
        sm.check();
    }

    @Test
    void misuseIsRefusedWithoutTouchingTheCache() throws Exception {
        ThreadCache cache = sm.threadCache(4096, CacheWarmup.WARM);
        long p = cache.malloc(64);
        AtomicReference<Throwable> fromOther = new AtomicReference<>();
        Thread other = new Thread(() -> {
            try {
                cache.malloc(64);
            } catch (Throwable e) {
                fromOther.set(e);
            }
        });
        other.start();
        other.join();
        assertTrue(fromOther.get() instanceof IllegalStateException, String.valueOf(fromOther.get()));
        assertThrows(IllegalArgumentException.class, () -> cache.malloc(-1));
        cache.free(p);
        cache.close();
        assertFalse(cache.isFastPath());
        assertThrows(IllegalStateException.class, () -> cache.malloc(64));
        assertThrows(IllegalStateException.class, () -> cache.free(p));
        cache.close(); // twice: nothing
        assertEquals(0, inUse());
        sm.check();
    }

    @Test
    void callsAfterTheAllocatorIsClosedThrow() {
        Smmalloc other = new Smmalloc(4, 1 << 16);
        ThreadCache cache = other.threadCache(1024, CacheWarmup.HOT);
        long p = cache.malloc(16);
        other.close();
        assertThrows(IllegalStateException.class, () -> cache.malloc(16));
        assertThrows(IllegalStateException.class, () -> cache.free(p));
        cache.close(); // the allocator already released it
        assertThrows(IllegalStateException.class, other::currentThreadCache);
    }

    @Test
    void destroyingOrReplacingTheCacheThroughTheAllocatorSwitchesTheFastPathOff() {
        ThreadCache first = sm.threadCache(4096, CacheWarmup.WARM);
        assertSame(first, sm.currentThreadCache());
        long p = first.malloc(32);
        ThreadCache second = sm.threadCache(1024, CacheWarmup.COLD); // replaces the C cache
        assertFalse(first.isFastPath());
        assertEquals(RawMemory.ENABLED, second.isFastPath());
        assertSame(second, sm.currentThreadCache());
        first.free(p); // still correct, through JNI into the new cache
        long q = first.malloc(32);
        second.free(q);
        sm.destroyThreadCache();
        assertFalse(second.isFastPath());
        assertNull(sm.currentThreadCache());
        long r = second.malloc(32); // no cache at all: the shared lists
        second.free(r);
        assertEquals(0, inUse());
        sm.check();
        second.close();
        first.close();
    }

    @Test
    void factoryThreadsFindTheirCache() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2, sm.threadFactory(4096, CacheWarmup.WARM));
        try {
            List<Future<Long>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                results.add(pool.submit(() -> {
                    ThreadCache cache = sm.currentThreadCache();
                    long sum = 0;
                    for (int i = 0; i < 2000; i++) {
                        long p = cache.malloc(16 + i % 112);
                        TestMemory.U.putLong(p, i);
                        sum += TestMemory.U.getLong(p);
                        cache.free(p);
                    }
                    return cache.isFastPath() == (RawMemory.ENABLED) ? sum : -1;
                }));
            }
            for (Future<Long> r : results) {
                assertEquals(1999L * 2000 / 2, r.get());
            }
        } finally {
            pool.shutdown();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        }
        assertEquals(0, inUse());
        assertNull(sm.currentThreadCache()); // this thread never had one
    }

    @Test
    void randomTrafficAgreesWithAModel() {
        Random random = new Random(7);
        long[] live = new long[512];
        int[] sizes = new int[live.length];
        try (ThreadCache cache = sm.threadCache(512, CacheWarmup.COLD)) {
            for (int step = 0; step < 100_000; step++) {
                int slot = random.nextInt(live.length);
                if (live[slot] != 0) {
                    assertEquals(0x1234_0000L + slot, TestMemory.U.getLong(live[slot]));
                    if (random.nextBoolean()) {
                        cache.free(live[slot]);
                    } else {
                        sm.free(live[slot]);
                    }
                    long freed = live[slot];
                    assertThrows(IllegalArgumentException.class, () -> cache.free(freed));
                    live[slot] = 0;
                } else {
                    int size = 1 + random.nextInt(16 * BUCKETS + 40); // some go to the fallback
                    long p = random.nextInt(4) == 0 ? sm.malloc(size) : cache.malloc(size);
                    assertTrue(sm.size(p) >= size);
                    TestMemory.U.putLong(p, 0x1234_0000L + slot);
                    live[slot] = p;
                    sizes[slot] = size;
                }
            }
            long bucketLive = 0;
            for (int i = 0; i < live.length; i++) {
                if (live[i] != 0 && sizes[i] <= 16 * BUCKETS) {
                    bucketLive++;
                }
            }
            assertEquals(bucketLive, inUse());
            sm.check();
            for (long p : live) {
                cache.free(p);
            }
        }
        assertEquals(0, inUse());
        sm.check();
    }
}
