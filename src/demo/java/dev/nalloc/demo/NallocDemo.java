package dev.nalloc.demo;

import dev.nalloc.CacheWarmup;
import dev.nalloc.ChunkAllocator;
import dev.nalloc.NativeAllocator;
import dev.nalloc.Smmalloc;
import dev.nalloc.SmmallocStats;
import dev.nalloc.SmmallocThreadFactory;
import dev.nalloc.ThreadCache;
import dev.nalloc.TlsfHeap;
import dev.nalloc.TlsfStats;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import sun.misc.Unsafe;

/**
 * The two allocators at work, each next to {@code Unsafe.allocateMemory} doing the same work in
 * the same run:
 * <ol>
 *   <li><b>messages</b>: worker threads from a {@link SmmallocThreadFactory} (each
 *       with a thread cache) allocate 16-128 byte messages from a {@link Smmalloc}, write them,
 *       hand them to whichever thread comes next through a shared mailbox, and that thread
 *       verifies and frees them: once through each worker's {@link ThreadCache} (the Java fast
 *       path), once through {@code Smmalloc.malloc}/{@code free} (JNI);</li>
 *   <li><b>records</b>: one thread keeps variable-size records (32-4096 bytes) in a
 *       {@link TlsfHeap} that grows through a {@link ChunkAllocator}, inserting, updating
 *       (realloc) and deleting them in a table of id &rarr; address.</li>
 * </ol>
 * Prints throughput and the allocators' statistics. Memory is read and written with
 * {@code sun.misc.Unsafe} so that every allocator does exactly the same memory work.
 *
 * <p>Usage: {@code NallocDemo [seconds per run, default 2] [worker threads, default 3]}.
 */
public final class NallocDemo {
    private static final Unsafe UNSAFE = unsafe();
    private static final int MAILBOX_SLOTS = 4096;
    private static final int RECORD_IDS = 16384;
    private static final long WARMUP_NANOS = 300_000_000L;

    private NallocDemo() {}

    /**
     * Runs the demo.
     *
     * @param args optional: seconds per run, worker threads (2-4 recommended)
     * @throws Exception if a worker fails
     */
    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2.0;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        long nanos = (long) (seconds * 1e9);
        System.out.printf("nalloc demo: %d worker threads, %.1f s per run, Java %s%n",
                threads, seconds, System.getProperty("java.version"));

        NativeAllocator unsafe = new UnsafeAllocator();
        try (Smmalloc smmalloc = new Smmalloc(8, 4 << 20)) {
            // Worker threads with a WARM cache each; the delegate records them so that they can be
            // joined (an executor reports termination before its threads' caches are destroyed).
            List<Thread> started = new CopyOnWriteArrayList<>();
            ThreadFactory recording = r -> {
                Thread t = Executors.defaultThreadFactory().newThread(r);
                started.add(t);
                return t;
            };
            ExecutorService workers = Executors.newFixedThreadPool(threads,
                    new SmmallocThreadFactory(smmalloc, 4096, CacheWarmup.WARM, recording));
            try {
                System.out.println("messages: 16-128 B, written, handed to another thread, verified, freed");
                messages(smmalloc, true, workers, threads, WARMUP_NANOS);
                messages(smmalloc, false, workers, threads, WARMUP_NANOS);
                messages(unsafe, false, workers, threads, WARMUP_NANOS);
                Result fast = messages(smmalloc, true, workers, threads, nanos);
                Result sm = messages(smmalloc, false, workers, threads, nanos);
                Result un = messages(unsafe, false, workers, threads, nanos);
                System.out.printf("  Smmalloc, worker's ThreadCache     %,13.0f malloc+free/s  errors=%d  (%s)%n",
                        fast.rate(), fast.errors, fast.path);
                System.out.printf("  Smmalloc.malloc/free (JNI)         %,13.0f malloc+free/s  errors=%d%n", sm.rate(), sm.errors);
                System.out.printf("  Unsafe.allocateMemory, same work   %,13.0f malloc+free/s  errors=%d  "
                        + "(ThreadCache %.2fx, Smmalloc %.2fx)%n", un.rate(), un.errors, fast.rate() / un.rate(),
                        sm.rate() / un.rate());
                printSmmallocStats(smmalloc.stats(), "while the workers hold their caches");
            } finally {
                workers.shutdown();
                workers.awaitTermination(1, TimeUnit.MINUTES);
                for (Thread t : started) {
                    t.join();
                }
            }
            SmmallocStats after = smmalloc.stats();
            smmalloc.check();
            System.out.printf("  after shutdown: thread caches=%d, blocks in use=%d, cached=%d, check() OK%n",
                    after.threadCaches(), after.bucketBlocksInUse() + after.fallbackBlocksInUse(), after.blocksCached());
        }

        System.out.println("records: ids 0.." + (RECORD_IDS - 1) + ", 32-4096 B, insert / update (realloc) / delete");
        UnsafeChunks chunks = new UnsafeChunks();
        try (TlsfHeap heap = TlsfHeap.create(1 << 20, chunks)) {
            records(heap, WARMUP_NANOS, null);
            records(unsafe, WARMUP_NANOS, null);
            TlsfStats[] stats = new TlsfStats[1];
            Result tlsf = records(heap, nanos, () -> stats[0] = heap.stats());
            Result un = records(unsafe, nanos, null);
            System.out.printf("  TlsfHeap (grows by chunks)         %,13.0f ops/s          errors=%d%n", tlsf.rate(), tlsf.errors);
            System.out.printf("  Unsafe.allocate/reallocate/free    %,13.0f ops/s          errors=%d  (TlsfHeap %.2fx)%n",
                    un.rate(), un.errors, tlsf.rate() / un.rate());
            TlsfStats s = stats[0];
            System.out.printf("  TlsfHeap stats: pools=%d (chunks asked=%d), pool=%s, used=%s in %d blocks, free=%s in %d blocks%n",
                    s.pools(), chunks.count, mib(s.poolBytes()), mib(s.usedBytes()), s.usedBlocks(), mib(s.freeBytes()), s.freeBlocks());
            System.out.printf("                  largest free=%s, overhead=%s (%.1f%%)%n", mib(s.largestFreeBlock()),
                    mib(s.overheadBytes()), 100.0 * s.overheadBytes() / s.poolBytes());
            heap.check();
            System.out.printf("  after deleting every record: used blocks=%d, check() OK, trim() gave back %s%n",
                    heap.stats().usedBlocks(), mib(heap.trim()));
        }
        System.out.printf("  after close: chunks handed back=%d of %d%n", chunks.freed, chunks.count);
    }

    // ---- messages ----

    private static final class Result {
        long ops;
        long errors;
        long nanos;
        String path = "";

        double rate() {
            return ops * 1e9 / nanos;
        }
    }

    /** {@code viaCache}: the workers use their own {@link ThreadCache} (allocator is a Smmalloc). */
    private static Result messages(NativeAllocator allocator, boolean viaCache, ExecutorService workers, int threads,
            long nanos) throws Exception {
        AtomicLongArray mailbox = new AtomicLongArray(MAILBOX_SLOTS);
        List<Future<long[]>> futures = new ArrayList<>();
        long start = System.nanoTime();
        long deadline = start + nanos;
        for (int t = 0; t < threads; t++) {
            long seed = t * 0x9E3779B97F4A7C15L + 1;
            futures.add(workers.submit(() -> messageWorker(allocator, viaCache, mailbox, seed, deadline)));
        }
        Result result = new Result();
        for (Future<long[]> f : futures) {
            long[] r = f.get();
            result.ops += r[0];
            result.errors += r[1];
            result.path = r[2] == 1 ? "fast path: no JNI call per message" : "fast path off: through JNI";
        }
        result.nanos = System.nanoTime() - start;
        for (int i = 0; i < MAILBOX_SLOTS; i++) { // left-overs: freed by this thread
            long p = mailbox.getAndSet(i, 0);
            if (p != 0) {
                result.errors += verifyMessage(p) ? 0 : 1;
                allocator.free(p);
            }
        }
        return result;
    }

    /** Returns {malloc+free pairs, errors}. */
    private static long[] messageWorker(NativeAllocator allocator, boolean viaCache, AtomicLongArray mailbox,
            long seed, long deadline) {
        // A message may be freed by another worker than the one that allocated it: through its
        // own cache, where it stays (blocks come home to whichever thread frees them).
        ThreadCache cache = viaCache ? ((Smmalloc) allocator).currentThreadCache() : null;
        SplittableRandom random = new SplittableRandom(seed);
        long ops = 0;
        long errors = 0;
        while ((ops & 255) != 0 || System.nanoTime() < deadline) {
            int size = 16 + 8 * random.nextInt(15);
            long p = cache != null ? cache.malloc(size) : allocator.malloc(size);
            if (p == 0) {
                errors++;
                continue;
            }
            writeMessage(p, size, seed + ops);
            long old = mailbox.getAndSet(random.nextInt(MAILBOX_SLOTS), p);
            if (old != 0) {
                errors += verifyMessage(old) ? 0 : 1;
                if (cache != null) {
                    cache.free(old);
                } else {
                    allocator.free(old);
                }
            }
            ops++;
        }
        return new long[] {ops, errors, cache != null && cache.isFastPath() ? 1 : 0};
    }

    /** [seq:8][size:4][~size:4][seq * offset ...]. */
    private static void writeMessage(long p, int size, long seq) {
        UNSAFE.putLong(p, seq);
        UNSAFE.putInt(p + 8, size);
        UNSAFE.putInt(p + 12, ~size);
        for (int off = 16; off < size; off += 8) {
            UNSAFE.putLong(p + off, seq * off);
        }
    }

    private static boolean verifyMessage(long p) {
        long seq = UNSAFE.getLong(p);
        int size = UNSAFE.getInt(p + 8);
        boolean ok = UNSAFE.getInt(p + 12) == ~size && size >= 16 && size <= 128;
        for (int off = 16; ok && off < size; off += 8) {
            ok = UNSAFE.getLong(p + off) == seq * off;
        }
        return ok;
    }

    private static void printSmmallocStats(SmmallocStats s, String when) {
        System.out.printf("  Smmalloc stats %s: thread caches=%d, fallback allocs=%d%n", when, s.threadCaches(), s.fallbackAllocs());
        System.out.println("    bucket  block   in use   cached  touched    cache hits   global hits");
        for (int b = 0; b < s.buckets().size(); b++) {
            SmmallocStats.BucketStats bs = s.buckets().get(b);
            System.out.printf("    %6d %6d %8d %8d %8d %13d %13d%n", b, bs.blockSize(), bs.blocksInUse(), bs.blocksCached(),
                    bs.blocksTouched(), bs.cacheHits(), bs.globalHits());
        }
    }

    // ---- records ----

    private static Result records(NativeAllocator allocator, long nanos, Runnable beforeCleanup) {
        long[] table = new long[RECORD_IDS];
        SplittableRandom random = new SplittableRandom(42);
        Result result = new Result();
        long start = System.nanoTime();
        long deadline = start + nanos;
        while ((result.ops & 255) != 0 || System.nanoTime() < deadline) {
            int id = random.nextInt(RECORD_IDS);
            long p = table[id];
            int size = 32 + (random.nextInt(4065) & ~7);
            if (p == 0) {
                p = allocator.malloc(size);
                if (p == 0) {
                    result.errors++;
                } else {
                    writeRecord(p, id, size);
                    table[id] = p;
                }
            } else if (!verifyRecord(p, id)) {
                result.errors++;
                table[id] = 0; // leave a damaged record alone
            } else if (random.nextInt(3) != 0) {
                long q = allocator.realloc(p, size);
                if (q == 0 || UNSAFE.getLong(q) != id) {
                    result.errors++;
                } else {
                    writeRecord(q, id, size);
                    table[id] = q;
                }
            } else {
                allocator.free(p);
                table[id] = 0;
            }
            result.ops++;
        }
        result.nanos = System.nanoTime() - start;
        if (beforeCleanup != null) {
            beforeCleanup.run();
        }
        for (long p : table) {
            if (p != 0) {
                allocator.free(p);
            }
        }
        return result;
    }

    /** [id:8][size:4][pad:4] ... [id ^ size:8] at the end. */
    private static void writeRecord(long p, int id, int size) {
        UNSAFE.putLong(p, id);
        UNSAFE.putInt(p + 8, size);
        UNSAFE.putLong(p + size - 8, id ^ (long) size);
    }

    private static boolean verifyRecord(long p, int id) {
        int size = UNSAFE.getInt(p + 8);
        return UNSAFE.getLong(p) == id && size >= 32 && size <= 4096 && UNSAFE.getLong(p + size - 8) == (id ^ (long) size);
    }

    private static String mib(long bytes) {
        return String.format("%.2f MiB", bytes / 1048576.0);
    }

    // ---- the baseline ----

    /** Unsafe.allocateMemory behind the same interface, so both runs execute the same code. */
    private static final class UnsafeAllocator implements NativeAllocator {
        @Override
        public long malloc(long size) {
            return UNSAFE.allocateMemory(size);
        }

        @Override
        public long malloc(long size, long alignment) {
            throw new UnsupportedOperationException("Unsafe has no aligned allocation");
        }

        @Override
        public long realloc(long address, long size) {
            return UNSAFE.reallocateMemory(address, size);
        }

        @Override
        public void free(long address) {
            UNSAFE.freeMemory(address);
        }

        @Override
        public long size(long address) {
            throw new UnsupportedOperationException("Unsafe does not know block sizes");
        }

        @Override
        public boolean isThreadSafe() {
            return true; // malloc/free underneath
        }

        @Override
        public void close() {
        }
    }

    /** Chunks from Unsafe.allocateMemory (16-byte aligned by glibc), counted. */
    private static final class UnsafeChunks implements ChunkAllocator {
        int count;
        int freed;

        @Override
        public long allocateChunk(long minBytes) {
            count++;
            return UNSAFE.allocateMemory(minBytes);
        }

        @Override
        public void freeChunk(long address, long bytes) {
            freed++;
            UNSAFE.freeMemory(address);
        }
    }

    private static Unsafe unsafe() {
        try {
            Field f = Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            return (Unsafe) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
