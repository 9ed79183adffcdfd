package dev.nalloc.bench;

import dev.nalloc.CacheWarmup;
import dev.nalloc.SharedTlsfHeap;
import dev.nalloc.Smmalloc;
import dev.nalloc.ThreadCache;
import dev.nalloc.TlsfHeap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.lwjgl.system.jemalloc.JEmalloc;
import org.lwjgl.system.libc.LibCStdlib;
import org.lwjgl.system.rpmalloc.RPmalloc;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import sun.misc.Unsafe;

/**
 * One allocation and its release ("a pair") of {@link #size} bytes per operation, for each
 * allocator, reported as average nanoseconds per operation <em>per thread</em>. The concrete
 * subclasses fix the thread count: {@link OneThread} ({@code @Threads(1)}) and {@link TwoThreads}
 * ({@code @Threads(2)}: both threads run the same pair loop at once, so ns/op is the time one
 * thread needs for one pair while the other thread competes; total throughput is 2 / (ns/op)).
 *
 * <p>Every benchmark hands the address (or buffer) to a {@link Blackhole} before freeing it, so
 * the allocation cannot be optimised away. Allocators are created in {@code @Setup(Level.Trial)}
 * and closed in {@code @TearDown}; none of them is timed.
 *
 * <ul>
 *   <li>{@code unsafe}: {@code Unsafe.allocateMemory} + {@code freeMemory}, the baseline of the
 *       ratios printed by {@code scripts/bench-java.sh}.</li>
 *   <li>{@code libcMalloc}: glibc {@code malloc} + {@code free}, each one plain JNI call
 *       (LWJGL's {@link LibCStdlib#nmalloc} and {@link LibCStdlib#nfree}): what a JNI binding of
 *       malloc costs.</li>
 *   <li>{@code smmallocCache} / {@code smmallocNoCache}: one shared {@link Smmalloc} (16 buckets,
 *       16..256 B); with a thread cache that each JMH worker thread opens in its own
 *       {@code @Setup} and closes in its {@code @TearDown}, or with none (every pair goes to the
 *       lock-free global buckets, which the two threads then contend on).</li>
 *   <li>{@code smmallocFast}: the same thread cache through {@link ThreadCache#malloc} and
 *       {@link ThreadCache#free}, the Java fast path (no JNI call while the cache is neither empty
 *       nor full). {@code smmallocFastView}: the same plus a {@code ByteBuffer} view from
 *       {@link ThreadCache#view} (liveness checked and buffer made in Java).</li>
 *   <li>{@code tlsfHeap}: a {@link TlsfHeap} per thread ({@code Scope.Thread}), the intended
 *       single-threaded use. {@code sharedTlsfHeap}: one {@link SharedTlsfHeap} for all threads
 *       (its monitor is contended on two threads).</li>
 *   <li>{@code smmallocView}: {@code smmallocCache} plus a zero-copy {@code ByteBuffer} view of
 *       the block ({@link Smmalloc#view(long)}: one usable-size JNI call, then the buffer, made in Java
 *       where the JDK allows it, else by JNI {@code NewDirectByteBuffer}), the replacement for
 *       {@code allocateDirect}.</li>
 *   <li>{@code allocateDirect}: {@code ByteBuffer.allocateDirect} alone. The buffer is dropped at
 *       once; its memory is freed later by its Cleaner after a GC (and {@code allocateDirect}
 *       itself triggers {@code System.gc()} when {@code -XX:MaxDirectMemorySize} (= heap size,
 *       1 GiB here) is reached), so this is allocation plus the <em>amortised</em> GC/Cleaner
 *       cost, and depends on heap size and collector. Java 17 has no public API to free a
 *       direct buffer.</li>
 *   <li>{@code allocateDirectFree}: {@code allocateDirect} + {@code sun.misc.Unsafe.invokeCleaner},
 *       the explicit free that Netty and Lucene use (the only way on 17, through
 *       {@code jdk.unsupported}): the like-for-like pair. Note that {@code allocateDirect} zeroes
 *       the memory, nothing else here does (except the Arena benchmark on JDK 22+).</li>
 * </ul>
 *
 * <p>Peers, other native allocators a JVM program can already use (benchmark dependencies only):
 *
 * <ul>
 *   <li>{@code jemallocLwjgl}: jemalloc's {@code je_malloc} + {@code je_free} through LWJGL's
 *       binding ({@link JEmalloc#nje_malloc} and {@link JEmalloc#nje_free}, one JNI call each,
 *       like {@code libcMalloc}), on the jemalloc that LWJGL ships.</li>
 *   <li>{@code rpmallocLwjgl}: rpmalloc's {@code rpmalloc} + {@code rpfree} through LWJGL
 *       ({@link RPmalloc#nrpmalloc} and {@link RPmalloc#nrpfree}, one JNI call each). rpmalloc
 *       wants {@code rpmalloc_initialize} once per process and
 *       {@code rpmalloc_thread_initialize} on every thread that calls it: the first in a
 *       benchmark-scoped {@code @Setup}, the second in each worker thread's own.</li>
 *   <li>{@code nettyPooled}: {@code PooledByteBufAllocator.DEFAULT.directBuffer(size)} +
 *       {@code release()}, Netty's pooled direct buffers with its per-thread caches: what Java
 *       network code that wants a pooled off-heap buffer (not a bare address) uses today, so
 *       compare it with the view rows as much as with the address rows.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Thread)
public abstract class AllocPairs {
    /** Buckets of 16, 32, ..., 256 B. */
    static final int SM_BUCKETS = 16;
    static final long SM_BUCKET_BYTES = 4 << 20;
    static final long SM_CACHE_BYTES_PER_BUCKET = 4096;
    static final long TLSF_POOL_BYTES = 1 << 20;

    static final Unsafe UNSAFE = unsafe();

    @Param({"16", "64", "256"})
    public int size;

    private static Unsafe unsafe() {
        try {
            Field f = Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            return (Unsafe) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** One {@link Smmalloc} shared by all worker threads. */
    @State(Scope.Benchmark)
    public static class SmAllocator {
        public Smmalloc sm;

        @Setup(Level.Trial)
        public void create() {
            sm = new Smmalloc(SM_BUCKETS, SM_BUCKET_BYTES);
        }

        @TearDown(Level.Trial)
        public void close() {
            sm.close();
        }
    }

    /** The calling worker thread's cache of the shared {@link Smmalloc}. */
    @State(Scope.Thread)
    public static class SmThreadCache {
        public Smmalloc sm;
        public ThreadCache cache;

        @Setup(Level.Trial)
        public void open(SmAllocator allocator) {
            sm = allocator.sm;
            cache = sm.threadCache(SM_CACHE_BYTES_PER_BUCKET, CacheWarmup.HOT);
        }

        @TearDown(Level.Trial)
        public void close() {
            cache.close(); // throws if JMH ran the teardown on another thread than the setup
        }
    }

    /** A {@link TlsfHeap} per worker thread. */
    @State(Scope.Thread)
    public static class ThreadTlsf {
        public TlsfHeap heap;

        @Setup(Level.Trial)
        public void create() {
            heap = TlsfHeap.create(TLSF_POOL_BYTES);
        }

        @TearDown(Level.Trial)
        public void close() {
            heap.close();
        }
    }

    /** One {@link SharedTlsfHeap} for all worker threads. */
    @State(Scope.Benchmark)
    public static class SharedTlsf {
        public SharedTlsfHeap heap;

        @Setup(Level.Trial)
        public void create() {
            heap = SharedTlsfHeap.create(TLSF_POOL_BYTES);
        }

        @TearDown(Level.Trial)
        public void close() {
            heap.close();
        }
    }

    /**
     * rpmalloc's process-wide state: initialised once for all worker threads and never finalised.
     * JMH may run this state's teardown on the thread that finishes first, before another worker
     * thread's own teardown, and {@code rpmalloc_thread_finalize} after {@code rpmalloc_finalize}
     * crashes (SIGSEGV on two threads); the fork's exit releases everything anyway.
     */
    @State(Scope.Benchmark)
    public static class RpmallocProcess {
        @Setup(Level.Trial)
        public void initialize() {
            // rpmalloc_initialize returns 0 on success, which LWJGL's boolean overload reports as
            // false: the int of the native call says what happened
            int status = RPmalloc.nrpmalloc_initialize();
            if (status != 0) {
                throw new IllegalStateException("rpmalloc_initialize failed: " + status);
            }
        }
    }

    /** rpmalloc's per-thread heap: each worker thread initialises its own before its first call. */
    @State(Scope.Thread)
    public static class RpmallocThread {
        @Setup(Level.Trial)
        public void initialize(RpmallocProcess process) {
            RPmalloc.rpmalloc_thread_initialize();
        }

        @TearDown(Level.Trial)
        public void finalizeThread() {
            RPmalloc.rpmalloc_thread_finalize(true);
        }
    }

    static final PooledByteBufAllocator NETTY = PooledByteBufAllocator.DEFAULT;

    @Benchmark
    public void unsafe(Blackhole bh) {
        long p = UNSAFE.allocateMemory(size);
        bh.consume(p);
        UNSAFE.freeMemory(p);
    }

    @Benchmark
    public void libcMalloc(Blackhole bh) {
        long p = LibCStdlib.nmalloc(size);
        bh.consume(p);
        LibCStdlib.nfree(p);
    }

    @Benchmark
    public void smmallocCache(SmThreadCache c, Blackhole bh) {
        long p = c.sm.malloc(size);
        bh.consume(p);
        c.sm.free(p);
    }

    @Benchmark
    public void smmallocFast(SmThreadCache c, Blackhole bh) {
        long p = c.cache.malloc(size);
        bh.consume(p);
        c.cache.free(p);
    }

    @Benchmark
    public void smmallocFastView(SmThreadCache c, Blackhole bh) {
        long p = c.cache.malloc(size);
        bh.consume(c.cache.view(p));
        c.cache.free(p);
    }

    @Benchmark
    public void smmallocNoCache(SmAllocator a, Blackhole bh) {
        long p = a.sm.malloc(size);
        bh.consume(p);
        a.sm.free(p);
    }

    @Benchmark
    public void tlsfHeap(ThreadTlsf t, Blackhole bh) {
        long p = t.heap.malloc(size);
        bh.consume(p);
        t.heap.free(p);
    }

    @Benchmark
    public void sharedTlsfHeap(SharedTlsf t, Blackhole bh) {
        long p = t.heap.malloc(size);
        bh.consume(p);
        t.heap.free(p);
    }

    @Benchmark
    public void smmallocView(SmThreadCache c, Blackhole bh) {
        long p = c.sm.malloc(size);
        bh.consume(c.sm.view(p));
        c.sm.free(p);
    }

    @Benchmark
    public void jemallocLwjgl(Blackhole bh) {
        long p = JEmalloc.nje_malloc(size);
        bh.consume(p);
        JEmalloc.nje_free(p);
    }

    @Benchmark
    public void rpmallocLwjgl(RpmallocThread t, Blackhole bh) {
        long p = RPmalloc.nrpmalloc(size);
        bh.consume(p);
        RPmalloc.nrpfree(p);
    }

    @Benchmark
    public void nettyPooled(Blackhole bh) {
        ByteBuf b = NETTY.directBuffer(size);
        bh.consume(b);
        b.release();
    }

    @Benchmark
    public ByteBuffer allocateDirect() {
        return ByteBuffer.allocateDirect(size);
    }

    @Benchmark
    public void allocateDirectFree(Blackhole bh) {
        ByteBuffer b = ByteBuffer.allocateDirect(size);
        bh.consume(b);
        UNSAFE.invokeCleaner(b);
    }
}
