package dev.nalloc.buffer;

import dev.nalloc.NativeAllocator;
import dev.nalloc.SharedTlsfHeap;
import dev.nalloc.Smmalloc;
import dev.nalloc.internal.Blocks;
import dev.nalloc.internal.DirectBufferFactory;
import dev.nalloc.toolkit.SystemAllocator;
import java.lang.ref.Cleaner;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Direct {@link ByteBuffer}s from a nalloc allocator, freed explicitly: the one-line switch for
 * {@code ByteBuffer.allocateDirect} call sites.
 * <pre>{@code
 * ByteBufferAllocator buffers = new ByteBufferAllocator(smmalloc, ByteBufferAllocator.SafetyNet.REPORT);
 * ByteBuffer b = buffers.allocateDirect(4096);     // was: ByteBuffer.allocateDirect(4096)
 * ...
 * buffers.free(b);                                  // was: wait for a GC
 * }</pre>
 * The buffers behave like {@code allocateDirect}'s: zeroed, big-endian, position 0, limit =
 * capacity, and their slices and duplicates keep them reachable. They are freed when
 * {@link #free(ByteBuffer)} is called, which is what makes them cheap: no GC, no
 * {@code -XX:MaxDirectMemorySize} accounting, no {@code System.gc()} storms when direct memory runs
 * low. A buffer used after {@code free} reads or corrupts memory that may belong to another block,
 * exactly as after {@code Unsafe.invokeCleaner}; drop every reference (and slice) first.
 *
 * <p><b>Safety net.</b> With {@link SafetyNet#FREE} or {@link SafetyNet#REPORT}, each buffer is
 * also registered with a {@link Cleaner}: a buffer that becomes unreachable without being freed is
 * freed after a GC (REPORT also logs it, with the stack trace of its allocation, through
 * {@link System.Logger} {@code dev.nalloc.buffer.ByteBufferAllocator}). The net costs a registration per
 * buffer (and with REPORT a stack trace); {@link SafetyNet#NONE} leaves a forgotten buffer leaked,
 * like a forgotten {@code malloc}.
 *
 * <p><b>Errors.</b> {@code free} takes exactly the buffer object {@code allocateDirect} returned:
 * a heap buffer, another allocator's, a slice or duplicate (even one with the same address and
 * capacity), or a buffer already freed is an {@link IllegalArgumentException}, and nothing is
 * freed. Each live buffer is recorded (address &rarr; a weak reference to it) for that check.
 * {@code allocateDirect} throws {@link OutOfMemoryError} when the allocator is exhausted, as
 * {@code ByteBuffer.allocateDirect} does.
 *
 * <p><b>Thread safety:</b> as the wrapped allocator's; with a thread-safe allocator
 * ({@link Smmalloc}, {@link SharedTlsfHeap}, {@link SystemAllocator}) buffers may be allocated and
 * freed from any thread. The Cleaner frees from its own thread: a safety net needs an allocator
 * whose {@link NativeAllocator#isThreadSafe()} is true, and the constructor refuses any other.
 */
public final class ByteBufferAllocator {
    /** What happens to a buffer that becomes unreachable without {@link #free(ByteBuffer)}. */
    public enum SafetyNet {
        /**
         * Nothing: it leaks, as a forgotten malloc does (with its small record). No Cleaner
         * registration.
         */
        NONE,
        /** A {@link Cleaner} frees it after a GC. */
        FREE,
        /** As FREE, and a warning names the buffer and where it was allocated. */
        REPORT
    }

    private static final Cleaner CLEANER = Cleaner.create();
    private static final System.Logger LOG = System.getLogger(ByteBufferAllocator.class.getName());

    private final NativeAllocator allocator;
    private final SafetyNet net;
    /** The live buffers, by address: what free() checks and, with a net, must cancel. */
    private final ConcurrentHashMap<Long, Guard> guarded = new ConcurrentHashMap<>();
    private final AtomicLong rescued = new AtomicLong();

    /**
     * Buffers from {@code allocator}.
     *
     * @param allocator where the memory comes from
     * @param net what happens to forgotten buffers
     * @throws IllegalArgumentException if a safety net is asked of an allocator that is not
     *         {@linkplain NativeAllocator#isThreadSafe() thread-safe} (the Cleaner's thread would
     *         free into it concurrently), or the allocator cannot free single blocks
     */
    public ByteBufferAllocator(NativeAllocator allocator, SafetyNet net) {
        this.allocator = Objects.requireNonNull(allocator, "allocator");
        this.net = Objects.requireNonNull(net, "net");
        if (net != SafetyNet.NONE && !allocator.isThreadSafe()) {
            throw new IllegalArgumentException("net=" + net + " frees from the Cleaner's thread, but allocator="
                    + allocator + " is not thread-safe: use SafetyNet.NONE or a thread-safe allocator");
        }
        if (!allocator.supportsFree()) {
            throw new IllegalArgumentException(allocator + " cannot free single blocks");
        }
    }

    /**
     * A live buffer's record, and with a net its Cleaner action: frees at most once, whoever comes
     * first. The buffer is held weakly, so the record neither keeps it reachable (the Cleaner
     * must see it become unreachable) nor lets a slice or duplicate pass for it.
     */
    private final class Guard implements Runnable {
        final long address;
        final int capacity;
        final WeakReference<ByteBuffer> buffer;
        final Throwable allocatedAt; // REPORT only
        final AtomicBoolean done = new AtomicBoolean();
        Cleaner.Cleanable cleanable; // null without a net

        Guard(long address, int capacity, ByteBuffer buffer, Throwable allocatedAt) {
            this.address = address;
            this.capacity = capacity;
            this.buffer = new WeakReference<>(buffer);
            this.allocatedAt = allocatedAt;
        }

        @Override
        public void run() { // by the Cleaner: the buffer was never freed
            if (done.compareAndSet(false, true)) {
                guarded.remove(address, this);
                rescued.incrementAndGet();
                try {
                    allocator.free(address);
                } catch (IllegalStateException closed) {
                    return; // the allocator was closed: it released the block itself
                }
                if (net == SafetyNet.REPORT) {
                    LOG.log(System.Logger.Level.WARNING, "direct ByteBuffer of " + capacity + " bytes at "
                            + Blocks.hex(address) + " was never freed; freed after GC. Allocated at:", allocatedAt);
                }
            }
        }
    }

    /**
     * A zeroed, big-endian direct buffer of {@code capacity} bytes, as
     * {@code ByteBuffer.allocateDirect(capacity)}.
     *
     * @param capacity bytes, {@code >= 0}
     * @return the buffer; free it with {@link #free(ByteBuffer)}
     * @throws IllegalArgumentException if {@code capacity} is negative
     * @throws OutOfMemoryError if the allocator cannot give the memory
     * @throws IllegalStateException if the allocator is closed
     */
    public ByteBuffer allocateDirect(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity=" + capacity + " is negative");
        }
        long p = allocator.malloc(capacity);
        if (p == 0) {
            throw new OutOfMemoryError(allocator + " cannot allocate a direct buffer of " + capacity + " bytes");
        }
        Blocks.fill(p, capacity, (byte) 0);
        ByteBuffer b = DirectBufferFactory.view(p, capacity).order(ByteOrder.BIG_ENDIAN);
        Guard g = new Guard(p, capacity, b, net == SafetyNet.REPORT ? new Throwable("allocateDirect") : null);
        guarded.put(p, g);
        if (net != SafetyNet.NONE) {
            g.cleanable = CLEANER.register(b, g);
        }
        return b;
    }

    /**
     * Frees a buffer made by {@link #allocateDirect}.
     *
     * @param buffer the buffer object {@link #allocateDirect} returned (not a slice or duplicate)
     * @throws IllegalArgumentException if the buffer is not one of this allocator's live buffers;
     *         nothing is freed
     * @throws IllegalStateException if the allocator is closed
     */
    public void free(ByteBuffer buffer) {
        Objects.requireNonNull(buffer, "buffer");
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("a heap buffer is not a native block");
        }
        long p = Blocks.address(buffer);
        Guard g = guarded.get(p);
        // identity, not address and capacity: a duplicate or a head slice shares both, and freeing
        // through it would leave the buffer itself live over a freed block
        if (g == null || g.buffer.get() != buffer || !g.done.compareAndSet(false, true)) {
            throw Blocks.notLive(p, "ByteBufferAllocator", "not a buffer it handed out, or freed already: a slice, "
                    + "a duplicate, or another allocator's");
        }
        guarded.remove(p, g);
        try {
            allocator.free(p);
        } finally {
            if (g.cleanable != null) {
                g.cleanable.clean(); // deregisters; run() sees done and does nothing
            }
        }
    }

    /**
     * How many forgotten buffers the safety net has freed so far.
     *
     * @return a count
     */
    public long rescuedBuffers() {
        return rescued.get();
    }

    @Override
    public String toString() {
        return "ByteBufferAllocator[" + allocator + ", " + net + "]";
    }
}
