package dev.nalloc;

import static dev.nalloc.Subjects.assertWorks;
import static dev.nalloc.Subjects.fill;
import static dev.nalloc.Subjects.holds;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@link Smmalloc} on one thread: what the contract test does not cover. */
class SmmallocTest {
    private static final int BUCKETS = 8;
    private static final long BUCKET_BYTES = 64 * 1024;

    @Test
    void constructorChecksTheLimits() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Smmalloc(0, BUCKET_BYTES));
        assertEquals("bucketCount=0 is not in 1..64", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Smmalloc(65, BUCKET_BYTES));
        e = assertThrows(IllegalArgumentException.class, () -> new Smmalloc(1, 4095));
        assertEquals("bucketSizeBytes=4095 is not in 4096..1073741824", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Smmalloc(1, (1L << 30) + 1));
        try (Smmalloc smallest = new Smmalloc(1, 4096); Smmalloc largest = new Smmalloc(64, 4096)) {
            assertEquals(1, smallest.bucketCount());
            assertEquals(64, largest.bucketCount());
            assertEquals(63, largest.bucket(largest.malloc(1024)));
        }
    }

    @Test
    void sizesMapToBuckets() {
        try (Smmalloc sm = new Smmalloc(BUCKETS, BUCKET_BYTES)) {
            for (int size = 0; size <= 16 * BUCKETS; size += 8) {
                long p = sm.malloc(size);
                int bucket = Math.max(0, (size - 1) / 16);
                assertEquals(bucket, sm.bucket(p), "size=" + size);
                assertEquals(16L * (bucket + 1), sm.size(p), "size=" + size);
                sm.free(p);
                assertEquals(-1, sm.bucket(p), "a freed block is in no bucket");
            }
            long big = sm.malloc(16 * BUCKETS + 1);
            assertEquals(-1, sm.bucket(big), "too large for a bucket: fallback");
            assertTrue(sm.size(big) > 16 * BUCKETS);
            assertEquals(-1, sm.bucket(0));
            assertEquals(-1, sm.bucket(0x10));
            sm.free(big);
            sm.check();
        }
    }

    @Test
    void doubleFreeIsAlwaysNamed() {
        try (Smmalloc sm = new Smmalloc(BUCKETS, BUCKET_BYTES)) {
            for (int i = 0; i < 100; i++) {
                long p = sm.malloc(32);
                sm.free(p);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sm.free(p));
                assertEquals("address=0x" + Long.toHexString(p) + " is not a live block of this allocator (double free)",
                        e.getMessage());
            }
            long fallback = sm.malloc(4000);
            sm.free(fallback);
            assertThrows(IllegalArgumentException.class, () -> sm.free(fallback), "fallback double free");
            assertWorks(sm);
        }
    }

    @Test
    void batchFreeFreesTheValidBlocksAndReportsTheOthers() {
        try (Smmalloc sm = new Smmalloc(BUCKETS, BUCKET_BYTES)) {
            long a = sm.malloc(16);
            long b = sm.malloc(64);
            long c = sm.malloc(5000); // fallback
            long freed = sm.malloc(32);
            sm.free(freed);
            long[] batch = {a, 0, freed, b, c + 16, c, 777};
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sm.free(batch, 6));
            assertEquals("refused=2 of count=6 are not live blocks of this allocator (double free or foreign pointer):"
                    + " addresses[2]=0x" + Long.toHexString(freed) + ", addresses[4]=0x" + Long.toHexString(c + 16)
                    + "; the other blocks were freed and their entries set to 0", e.getMessage());
            assertArrayEquals(new long[] {0, 0, freed, 0, c + 16, 0, 777}, batch,
                    "freed entries zeroed, refused ones and those past count untouched");
            for (long p : new long[] {a, b, c}) {
                assertThrows(IllegalArgumentException.class, () -> sm.size(p), "freed by the batch");
            }
            long[] good = new long[20];
            for (int i = 0; i < good.length; i++) {
                good[i] = sm.malloc(16 + i * 8);
            }
            sm.free(good, good.length);
            assertArrayEquals(new long[20], good);
            sm.free(good, 0);
            assertEquals(0, sm.stats().bucketBlocksInUse());
            assertWorks(sm);
        }
    }

    @Test
    void batchFreeChecksItsBounds() {
        try (Smmalloc sm = new Smmalloc(BUCKETS, BUCKET_BYTES)) {
            long p = sm.malloc(16);
            long[] one = {p};
            assertThrows(IndexOutOfBoundsException.class, () -> sm.free(one, 2));
            assertThrows(IndexOutOfBoundsException.class, () -> sm.free(one, -1));
            assertThrows(NullPointerException.class, () -> sm.free(null, 0));
            assertEquals(p, one[0], "nothing freed");
            assertEquals(16, sm.size(p));
            sm.free(one, 1);
            assertWorks(sm);
        }
    }

    @Test
    void reallocWithAlignment() {
        try (Smmalloc sm = new Smmalloc(BUCKETS, BUCKET_BYTES)) {
            long p = sm.realloc(0, 40, 32);
            assertNotEquals(0, p);
            assertEquals(0, p % 32);
            fill(sm, p, 40, 6);
            long q = sm.realloc(p, 100, 64);
            assertEquals(0, q % 64);
            assertTrue(holds(sm, q, 40, 6));
            long r = sm.realloc(q, 3000, 256); // to the fallback
            assertEquals(0, r % 256);
            assertEquals(-1, sm.bucket(r));
            assertTrue(holds(sm, r, 40, 6));
            long s = sm.realloc(r, 20);
            assertEquals(1, sm.bucket(s), "back into a bucket");
            assertTrue(holds(sm, s, 20, 6));
            assertThrows(IllegalArgumentException.class, () -> sm.realloc(s, 10, 3));
            assertThrows(IllegalArgumentException.class, () -> sm.realloc(s, -1, 16));
            assertThrows(IllegalArgumentException.class, () -> sm.realloc(s + 16, 10, 16));
            assertTrue(holds(sm, s, 20, 6), "refused reallocs leave the block alone");
            sm.free(s);
            assertWorks(sm);
        }
    }

    @Test
    void statsFollowTheBlocks() {
        try (Smmalloc sm = new Smmalloc(BUCKETS, BUCKET_BYTES)) {
            SmmallocStats empty = sm.stats();
            assertEquals(BUCKETS, empty.buckets().size());
            for (int i = 0; i < BUCKETS; i++) {
                SmmallocStats.BucketStats b = empty.buckets().get(i);
                assertEquals(16L * (i + 1), b.blockSize());
                assertEquals(BUCKET_BYTES / (16 * (i + 1)), b.blocksTotal());
                assertEquals(0, b.blocksInUse());
            }
            assertThrows(UnsupportedOperationException.class, () -> empty.buckets().clear());

            long a = sm.malloc(16);
            long b = sm.malloc(20);
            long big = sm.malloc(2000);
            SmmallocStats s = sm.stats();
            assertEquals(1, s.buckets().get(0).blocksInUse());
            assertEquals(1, s.buckets().get(1).blocksInUse());
            assertEquals(2, s.bucketBlocksInUse());
            assertEquals(1, s.fallbackBlocksInUse());
            assertEquals(sm.size(big), s.fallbackBytesInUse());
            assertTrue(s.fallbackAllocs() >= 1);
            assertEquals(0, s.threadCaches());
            assertEquals(2, s.buckets().get(0).globalHits() + s.buckets().get(1).globalHits(), "no cache: shared lists");
            sm.free(a);
            sm.free(b);
            sm.free(big);
            assertEquals(0, sm.stats().bucketBlocksInUse());
            assertEquals(0, sm.stats().fallbackBlocksInUse());
        }
    }

    @Test
    void exhaustedBucketsFallBackToTheSystem() {
        try (Smmalloc sm = new Smmalloc(1, 4096)) { // 256 blocks of 16 bytes
            Set<Long> blocks = new HashSet<>();
            for (int i = 0; i < 300; i++) {
                assertTrue(blocks.add(sm.malloc(16)));
            }
            SmmallocStats s = sm.stats();
            assertEquals(256, s.buckets().get(0).blocksInUse());
            assertEquals(44, s.buckets().get(0).fallbacks());
            assertEquals(44, s.fallbackBlocksInUse());
            long[] all = blocks.stream().mapToLong(Long::longValue).toArray();
            sm.free(all, all.length);
            sm.check();
        }
    }

    @Test
    void threadCacheLifecycleOnOneThread() {
        try (Smmalloc sm = new Smmalloc(BUCKETS, BUCKET_BYTES)) {
            assertFalse(sm.hasThreadCache());
            sm.createThreadCache(1024, CacheWarmup.HOT);
            assertTrue(sm.hasThreadCache());
            SmmallocStats hot = sm.stats();
            assertEquals(1, hot.threadCaches());
            assertEquals(1024 / 16, hot.buckets().get(0).blocksCached(), "HOT fills to capacity");
            long p = sm.malloc(16);
            assertEquals(1, sm.stats().buckets().get(0).cacheHits());
            sm.free(p);
            sm.createThreadCache(1024, CacheWarmup.COLD); // replaces the cache
            assertEquals(1, sm.stats().threadCaches());
            assertEquals(0, sm.stats().blocksCached(), "COLD starts empty");
            sm.destroyThreadCache();
            assertFalse(sm.hasThreadCache());
            assertEquals(0, sm.stats().threadCaches());
            sm.destroyThreadCache(); // none: no-op
            assertThrows(IllegalArgumentException.class, () -> sm.createThreadCache(0, CacheWarmup.WARM));
            assertThrows(IllegalArgumentException.class, () -> sm.createThreadCache(-1, CacheWarmup.WARM));
            assertThrows(NullPointerException.class, () -> sm.createThreadCache(1024, null));
            assertFalse(sm.hasThreadCache(), "refused arguments create nothing");
            sm.check();
        }
    }

    @Test
    void twoInstancesOnOneThreadNeverExchangeBlocks() {
        try (Smmalloc a = new Smmalloc(BUCKETS, BUCKET_BYTES); Smmalloc b = new Smmalloc(BUCKETS, BUCKET_BYTES);
             ThreadCache ca = a.threadCache(4096, CacheWarmup.WARM); ThreadCache cb = b.threadCache(4096, CacheWarmup.WARM)) {
            Set<Long> fromA = new HashSet<>();
            Set<Long> fromB = new HashSet<>();
            for (int i = 0; i < 2000; i++) {
                int size = 16 + (i % 8) * 16;
                long pa = a.malloc(size);
                long pb = b.malloc(size);
                fromA.add(pa);
                fromB.add(pb);
                assertEquals(-1, b.bucket(pa), "a's block is not b's");
                assertEquals(-1, a.bucket(pb), "b's block is not a's");
                assertThrows(IllegalArgumentException.class, () -> b.free(pa));
                assertThrows(IllegalArgumentException.class, () -> a.size(pb));
                a.free(pa); // into a's cache
                b.free(pb); // into b's cache
            }
            fromA.retainAll(fromB);
            assertTrue(fromA.isEmpty(), "no address served by both");
            a.check();
            b.check();
        }
    }

    @Test
    void everyMethodThrowsAfterClose() {
        Smmalloc sm = new Smmalloc(BUCKETS, BUCKET_BYTES);
        long p = sm.malloc(16);
        sm.createThreadCache(1024, CacheWarmup.WARM);
        assertEquals("Smmalloc[buckets=8]", sm.toString());
        sm.close();
        sm.close();
        assertEquals("Smmalloc[closed]", sm.toString());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> sm.bucket(p));
        assertEquals("Smmalloc is closed", e.getMessage());
        assertThrows(IllegalStateException.class, () -> sm.realloc(p, 10, 16));
        assertThrows(IllegalStateException.class, () -> sm.free(new long[] {p}, 1));
        assertThrows(IllegalStateException.class, sm::stats);
        assertThrows(IllegalStateException.class, sm::check);
        assertThrows(IllegalStateException.class, sm::hasThreadCache);
        assertThrows(IllegalStateException.class, () -> sm.createThreadCache(1024, CacheWarmup.COLD));
        assertThrows(IllegalStateException.class, sm::destroyThreadCache);
        assertThrows(IllegalStateException.class, () -> sm.threadCache(1024, CacheWarmup.COLD));
        assertThrows(IllegalStateException.class, () -> sm.view(p, 1));
        assertEquals(8, sm.bucketCount(), "plain configuration stays readable");
    }
}
