package dev.nalloc.ffm;

import dev.nalloc.NativeAllocator;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * An {@link Arena} whose segments are blocks of a nalloc {@link NativeAllocator}: a drop-in for
 * {@link Arena#ofConfined()} and {@link Arena#ofShared()} where {@code allocate} takes memory from
 * a {@link dev.nalloc.TlsfHeap}, {@link dev.nalloc.SharedTlsfHeap} or {@link dev.nalloc.Smmalloc}
 * instead of the system allocator, and {@link #close()} gives every block back.
 *
 * {@snippet :
 * try (Smmalloc sm = new Smmalloc(8, 16 << 20);
 *      Arena arena = NallocArena.ofConfined(sm)) {
 *     MemorySegment point = arena.allocate(ValueLayout.JAVA_INT, 2);
 *     point.setAtIndex(ValueLayout.JAVA_INT, 1, 42);
 *     MemorySegment name = arena.allocateFrom("nalloc");   // any SegmentAllocator API
 * } // arena closed first: blocks freed, segments dead; then the allocator
 * }
 *
 * <p><b>Lifetime: the JDK's own.</b> Each arena holds a real JDK arena ({@code Arena.ofConfined()}
 * or {@code Arena.ofShared()}) and every segment is a block re-scoped to it with
 * {@link MemorySegment#reinterpret(long, Arena, java.util.function.Consumer)}, the block's free
 * being the cleanup action. So {@link #scope()}, {@link #close()} and every access check are the
 * JDK's: after {@code close()} each segment of the arena throws {@link IllegalStateException} on
 * access, closing twice throws {@link IllegalStateException}, and a confined arena's segments
 * throw {@link WrongThreadException} on access from another thread. {@code close()} frees every
 * block the arena handed out. A block whose allocator was closed before the arena needs no free
 * (closing an allocator releases its blocks) and is skipped. The JDK reports an exception from a
 * free (say, the block was freed by hand through the allocator) after running every other
 * cleanup, from {@code close()}.
 *
 * <p><b>Allocators that free only in bulk</b> ({@link NativeAllocator#supportsFree()} false:
 * {@code ArenaAllocator}, {@code LinearAllocator}) are accepted: {@code close()} then makes the
 * arena's segments inaccessible and frees nothing, and the allocator's own {@code reset()} or
 * {@code close()} releases the blocks in bulk, as with {@code NativeBuffer}s over such an
 * allocator. Reset or close it only after the arena is closed.
 *
 * <p><b>Segments</b> are native, exactly {@code byteSize} bytes (the block may be larger),
 * aligned to {@code byteAlignment}, zero-initialized as the JDK arenas' segments are, and never
 * overlap while the arena is open.
 *
 * <p><b>Errors.</b> {@code allocate} throws {@link IllegalArgumentException} for a negative size
 * or an alignment that is not a power of two (Arena's contract) or that is above
 * {@link NativeAllocator#ALIGNMENT_MAX} (nalloc's limit), {@link IllegalStateException} once the
 * arena (or the allocator) is closed, {@link WrongThreadException} from a thread other than a
 * confined arena's owner, and {@link OutOfMemoryError} when the allocator cannot satisfy the
 * request (what a JDK arena throws when the system allocator fails). The checks come before the
 * allocator is called, so a refused call leaves the allocator untouched.
 *
 * <p><b>Threads.</b> A confined arena calls its allocator from its owner thread only (allocate
 * and close are both confined), so it may sit on a single-threaded {@code TlsfHeap} used by that
 * thread. A shared arena is allocated from and closed by any thread, so its allocator must be
 * thread-safe: {@link #ofShared} refuses an allocator whose
 * {@link NativeAllocator#isThreadSafe()} is false ({@code TlsfHeap}, {@code BlockPool},
 * {@code ArenaAllocator}...; use a {@code SharedTlsfHeap}, {@code Smmalloc},
 * {@code ConcurrentBlockPool}...).
 *
 * <p><b>Native access.</b> {@code reinterpret} is a restricted method: run with
 * {@code --enable-native-access=ALL-UNNAMED} (or the module's name), which JavaCPP's library
 * loading on JDK 24+ wants anyway, or the JDK prints a warning on first use.
 */
public final class NallocArena implements Arena {
    private final NativeAllocator allocator;
    /** False for a bulk-only allocator: segments then get no cleanup, the allocator frees in bulk. */
    private final boolean freesBlocks;
    /** The JDK arena whose scope every segment carries. */
    private final Arena scope;
    /** The owner thread of a confined arena; null when shared. */
    private final Thread owner;

    private NallocArena(NativeAllocator allocator, Arena scope, Thread owner) {
        this.allocator = allocator;
        this.freesBlocks = allocator.supportsFree();
        this.scope = scope;
        this.owner = owner;
    }

    /**
     * An arena confined to the calling thread, as {@link Arena#ofConfined()}. It does not own
     * the allocator: close the arena before the allocator.
     *
     * @param allocator any nalloc allocator; used by this thread only through the arena. One that
     *        frees only in bulk frees nothing on the arena's close (see the class notes)
     * @return a new open arena
     */
    public static NallocArena ofConfined(NativeAllocator allocator) {
        Objects.requireNonNull(allocator, "allocator");
        return new NallocArena(allocator, Arena.ofConfined(), Thread.currentThread());
    }

    /**
     * An arena any thread may allocate from and close, as {@link Arena#ofShared()}. It does not
     * own the allocator: close the arena before the allocator.
     *
     * @param allocator a thread-safe nalloc allocator ({@code SharedTlsfHeap}, {@code Smmalloc},
     *        {@code SystemAllocator}, {@code ConcurrentBlockPool}...)
     * @return a new open arena
     * @throws IllegalArgumentException if {@code allocator} is not
     *         {@linkplain NativeAllocator#isThreadSafe() thread-safe} (a {@code TlsfHeap}, a
     *         {@code BlockPool}...)
     */
    public static NallocArena ofShared(NativeAllocator allocator) {
        Objects.requireNonNull(allocator, "allocator");
        if (!allocator.isThreadSafe()) {
            throw new IllegalArgumentException("a shared arena is used by any thread, but allocator=" + allocator
                    + " is not thread-safe: use a thread-safe one (SharedTlsfHeap, Smmalloc...) or ofConfined");
        }
        return new NallocArena(allocator, Arena.ofShared(), null);
    }

    /** @return the allocator the blocks come from */
    public NativeAllocator allocator() {
        return allocator;
    }

    /**
     * A zeroed segment of {@code byteSize} bytes over a new block, in this arena's scope.
     *
     * @param byteSize bytes, {@code >= 0}
     * @param byteAlignment a power of two up to {@value NativeAllocator#ALIGNMENT_MAX}
     * @return a native segment of exactly {@code byteSize} bytes
     * @throws IllegalArgumentException if {@code byteSize < 0}, or {@code byteAlignment} is not a
     *         power of two or is above {@value NativeAllocator#ALIGNMENT_MAX}
     * @throws IllegalStateException if the arena or the allocator is closed
     * @throws WrongThreadException if the arena is confined and this is not its owner thread
     * @throws OutOfMemoryError if the allocator cannot satisfy the request
     */
    @Override
    @SuppressWarnings("restricted") // reinterpret: see "Native access" in the class notes
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        Requests.check(byteSize, byteAlignment);
        if (owner != null && Thread.currentThread() != owner) {
            throw new WrongThreadException("Attempted access outside owning thread");
        }
        if (!scope.scope().isAlive()) {
            throw new IllegalStateException("Already closed");
        }
        long address = Requests.malloc(allocator, byteSize, byteAlignment);
        MemorySegment segment;
        try {
            segment = MemorySegment.ofAddress(address).reinterpret(byteSize, scope, freesBlocks ? this::release : null);
        } catch (RuntimeException | Error e) {
            // a shared arena closed by another thread since the check above: the block is ours
            if (freesBlocks) {
                allocator.free(address);
            }
            throw e;
        }
        return segment.fill((byte) 0);
    }

    /** The cleanup action of every segment: frees its block (given a zero-length segment). */
    private void release(MemorySegment block) {
        try {
            allocator.free(block.address());
        } catch (IllegalStateException allocatorClosed) {
            // closing the allocator released every block already
        }
    }

    @Override
    public MemorySegment.Scope scope() {
        return scope.scope();
    }

    /**
     * Closes the arena: every segment becomes inaccessible and every block is freed, as
     * {@link Arena#close()} states (by the allocator's own reset or close when it frees only in
     * bulk).
     *
     * @throws IllegalStateException if the arena is already closed, or a segment of a shared
     *         arena is in use by a downcall
     * @throws WrongThreadException if the arena is confined and this is not its owner thread
     */
    @Override
    public void close() {
        scope.close();
    }

    @Override
    public String toString() {
        return "NallocArena[" + (owner != null ? "confined to " + owner.getName() : "shared")
                + (scope.scope().isAlive() ? "" : ", closed") + ", " + allocator + "]";
    }
}
