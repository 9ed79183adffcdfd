package dev.nalloc.toolkit;

import dev.nalloc.NativeAllocator;
import dev.nalloc.TlsfHeap;
import dev.nalloc.internal.Blocks;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An allocator for development and tests, wrapping any other: it records every live block (size,
 * allocating thread and, optionally, the allocation's stack trace), surrounds each block with guard
 * bytes, and on {@link #close()} reports the blocks still live, naming where each was allocated,
 * as ZiggyAlloc's {@code DebugMemoryAllocator} does.
 * <pre>{@code
 * try (DebugAllocator debug = new DebugAllocator("codec", heap, LeakReporting.THROW, true)) {
 *     long frame = debug.malloc(4096);
 *     ...
 * }   // IllegalStateException: 1 leaked block ... allocated by thread main at Codec.decode(Codec.java:42)
 * }</pre>
 *
 * <p><b>What it catches</b>, besides what the wrapped allocator catches:
 * <ul>
 *   <li>a double free, and a free of an address that is not a live block: the
 *       {@link IllegalArgumentException} names where the block was allocated and where it was freed
 *       the first time (the last 4096 freed blocks are remembered);</li>
 *   <li>an overrun or underrun: {@value #GUARD} guard bytes before and after each block hold a
 *       pattern that {@code free}, {@code realloc}, {@link #check()} and {@code close} verify; a
 *       damaged guard is an {@link IllegalStateException} naming the block and its allocation site
 *       (the block is released all the same, so the allocator stays consistent);</li>
 *   <li>leaks, on {@code close()}: logged or thrown ({@link LeakReporting}); the leaked blocks are
 *       then freed through the wrapped allocator, which this class never closes (its owner does);</li>
 *   <li>the wrong close order: close this allocator before the wrapped one. Before it reads a
 *       block's guards or frees it, it asks the wrapped allocator whether it still holds the
 *       block ({@code size}); when that allocator is closed, {@code free}, {@code realloc},
 *       {@link #check()} and {@code close} throw {@link IllegalStateException} saying so and touch
 *       no memory, since the wrapped allocator released it ({@code close} still ends this one). A
 *       block the wrapped allocator no longer holds although it is open (freed or reset behind
 *       this one's back) is dropped from the records with an {@link IllegalStateException}.</li>
 * </ul>
 *
 * <p><b>Allocators that free only in bulk</b> ({@link ArenaAllocator}, {@link LinearAllocator}):
 * {@link #supportsFree()} answers as the wrapped allocator does, {@code free} then throws
 * {@link UnsupportedOperationException} with the block still recorded (a later {@code free} is
 * not taken for a double free, the leak report still names it), {@code realloc} drops the old
 * block from the records without freeing it, and {@code close} reports the leaks and leaves the
 * memory to the wrapped allocator's reset or close.
 *
 * <p><b>Cost.</b> Every call takes a lock, a hash-map entry and the guard writes and checks; with
 * stack capture on, {@code malloc} also records a stack trace (microseconds). The README's
 * performance table measures both against the wrapped allocator.
 *
 * <p><b>Thread safety:</b> {@link #isThreadSafe()} answers as the wrapped allocator does. Calls
 * are serialized by this object's lock, so a thread-safe allocator stays thread-safe; a
 * single-threaded one ({@link TlsfHeap}) is not made safe for code that checks, since its owner
 * may still call it directly.
 */
public final class DebugAllocator implements NativeAllocator {
    /** Guard bytes on each side of a block (also the minimum front offset, so 16-byte alignment holds). */
    public static final int GUARD = 16;
    private static final byte PATTERN = (byte) 0xFD;
    private static final int FREED_HISTORY = 4096;
    private static final System.Logger LOG = System.getLogger(DebugAllocator.class.getName());

    /** A live block as the debug allocator sees it. */
    public record Block(long address, long size, String thread, StackTraceElement[] allocatedAt) {
        /** Where it was allocated, for reports. */
        String site() {
            return frames(allocatedAt);
        }
    }

    /** One line per frame, or a note when stacks are not captured. */
    private static String frames(StackTraceElement[] stack) {
        if (stack == null) {
            return " (stack traces off: new DebugAllocator(..., true) records them)";
        }
        StringBuilder b = new StringBuilder();
        for (StackTraceElement e : stack) {
            b.append("\n        at ").append(e);
        }
        return b.toString();
    }

    private record Live(Block block, long raw, long front) {}

    private record Freed(Block block, String thread, StackTraceElement[] freedAt) {}

    private final String name;
    private final NativeAllocator backing;
    private final LeakReporting reporting;
    private final boolean captureStacks;
    private final Map<Long, Live> live = new HashMap<>();
    private final Map<Long, Freed> freed = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Freed> eldest) {
            return size() > FREED_HISTORY;
        }
    };
    private long liveBytes;
    private boolean closed;

    /**
     * A debug allocator named {@code name} over {@code backing}.
     *
     * @param name used in every report
     * @param backing the allocator that holds the blocks (with their guards); not closed by this one
     * @param reporting what {@link #close()} does with leaks
     * @param captureStacks whether to record each allocation's stack trace (slow, precise reports)
     */
    public DebugAllocator(String name, NativeAllocator backing, LeakReporting reporting, boolean captureStacks) {
        this.name = Objects.requireNonNull(name, "name");
        this.backing = Objects.requireNonNull(backing, "backing");
        this.reporting = Objects.requireNonNull(reporting, "reporting");
        this.captureStacks = captureStacks;
    }

    private void checkOpen() {
        if (closed) {
            throw Blocks.closed("DebugAllocator '" + name + "'");
        }
    }

    private StackTraceElement[] here() {
        if (!captureStacks) {
            return null;
        }
        StackTraceElement[] all = new Throwable().getStackTrace();
        int skip = 0;
        while (skip < all.length && all[skip].getClassName().equals(DebugAllocator.class.getName())) {
            skip++;
        }
        return java.util.Arrays.copyOfRange(all, skip, all.length);
    }

    @Override
    public long malloc(long size) {
        return malloc(size, 16);
    }

    @Override
    public synchronized long malloc(long size, long alignment) {
        checkOpen();
        Blocks.checkSize(size);
        Blocks.checkAlignment(alignment);
        long front = Math.max(GUARD, alignment);
        if (size > Long.MAX_VALUE - front - GUARD) {
            return 0;
        }
        long raw = backing.malloc(front + Math.max(size, 1) + GUARD, alignment);
        if (raw == 0) {
            return 0;
        }
        long p = raw + front;
        long usable = Math.max(size, 1); // malloc(0): a unique block with one usable byte
        Blocks.fill(p - GUARD, GUARD, PATTERN);
        Blocks.fill(p + usable, GUARD, PATTERN);
        Block block = new Block(p, usable, Thread.currentThread().getName(), here());
        live.put(p, new Live(block, raw, front));
        freed.remove(p); // the address is live again
        liveBytes += usable;
        return p;
    }

    @Override
    public synchronized long realloc(long address, long size) {
        checkOpen();
        Blocks.checkSize(size);
        if (address == 0) {
            return malloc(size);
        }
        Live old = liveOrThrow(address, "realloc");
        checkHeld(old, "realloc");
        long p = malloc(size, 16);
        if (p == 0) {
            return 0;
        }
        Blocks.copy(address, p, Math.min(old.block.size, size));
        release(address, old, backing.supportsFree());
        return p;
    }

    @Override
    public synchronized void free(long address) {
        checkOpen();
        if (address == 0) {
            return;
        }
        Live l = liveOrThrow(address, "free");
        if (!backing.supportsFree()) {
            throw new UnsupportedOperationException("DebugAllocator '" + name + "': " + backing
                    + " cannot free single blocks; address=" + Blocks.hex(address) + " stays live");
        }
        checkHeld(l, "free");
        release(address, l, true);
    }

    /** True when the backing allocator still holds the raw block; its closed state is not asked. */
    private boolean backingHolds(Live l) {
        try {
            backing.size(l.raw);
            return true;
        } catch (IllegalArgumentException released) {
            return false;
        }
    }

    /**
     * Makes sure the backing allocator still holds a block before its guards are read or it is
     * freed: the backing's {@code size} throws IllegalStateException when it is closed (its memory
     * may be unmapped), and a block it no longer holds is dropped from the records.
     */
    private void checkHeld(Live l, String what) {
        boolean held;
        try {
            held = backingHolds(l);
        } catch (IllegalStateException closed) {
            throw backingClosed(what, closed);
        }
        if (!held) {
            forget(l);
            throw new IllegalStateException("DebugAllocator '" + name + "', " + what + ": block "
                    + Blocks.hex(l.block.address) + " (" + l.block.size + " bytes) is no longer held by " + backing
                    + " (freed or reset through it directly); it was allocated by thread " + l.block.thread
                    + l.block.site());
        }
    }

    private IllegalStateException backingClosed(String what, IllegalStateException cause) {
        return new IllegalStateException("DebugAllocator '" + name + "', " + what + ": its backing allocator "
                + backing + " was closed before it (close the DebugAllocator first); its " + live.size()
                + " live block(s) were released by that close and are not touched", cause);
    }

    private void forget(Live l) {
        live.remove(l.block.address);
        liveBytes -= l.block.size;
    }

    private Live liveOrThrow(long address, String what) {
        Live l = live.get(address);
        if (l != null) {
            return l;
        }
        Freed f = freed.get(address);
        if (f != null) {
            throw new IllegalArgumentException("address=" + Blocks.hex(address) + " is not a live block of this "
                    + "allocator (double free, DebugAllocator '" + name + "', " + what + "): it was allocated ("
                    + f.block.size + " bytes) by thread "
                    + f.block.thread + f.block.site() + "\n    and freed by thread " + f.thread
                    + (f.freedAt == null ? "" : frames(f.freedAt)));
        }
        throw new IllegalArgumentException("address=" + Blocks.hex(address) + " is not a live block of this "
                + "allocator (double free or foreign pointer, DebugAllocator '" + name + "', " + what
                + "): not allocated here, an interior address, or freed more than " + FREED_HISTORY + " frees ago");
    }

    /**
     * Frees a validated block the backing still holds, verifying its guards first; the block is
     * released either way. The records change only once the backing's free has succeeded.
     */
    private void release(long address, Live l, boolean freeBacking) {
        String damage = guardDamage(l);
        if (freeBacking) {
            backing.free(l.raw);
        }
        forget(l);
        freed.put(address, new Freed(l.block, Thread.currentThread().getName(), here()));
        if (damage != null) {
            throw new IllegalStateException(damage);
        }
    }

    /** A description of damaged guards, or null when both are intact. */
    private String guardDamage(Live l) {
        long p = l.block.address;
        int before = damaged(p - GUARD);
        int after = damaged(p + l.block.size);
        if (before < 0 && after < 0) {
            return null;
        }
        return "DebugAllocator '" + name + "': block " + Blocks.hex(p) + " (" + l.block.size + " bytes) was "
                + (after >= 0 ? "overrun (byte " + after + " after its end changed)" : "")
                + (before >= 0 && after >= 0 ? " and " : "")
                + (before >= 0 ? "underrun (byte " + (GUARD - before) + " before its start changed)" : "")
                + "; it was allocated by thread " + l.block.thread + l.block.site();
    }

    /** Index of the first guard byte that lost the pattern, or -1. */
    private static int damaged(long guard) {
        var v = Blocks.view(guard, GUARD);
        for (int i = 0; i < GUARD; i++) {
            if (v.get(i) != PATTERN) {
                return i;
            }
        }
        return -1;
    }

    /** As the wrapped allocator: a bulk-only allocator stays bulk-only behind this one. */
    @Override
    public boolean supportsFree() {
        return backing.supportsFree();
    }

    /** As the wrapped allocator (see the class notes). */
    @Override
    public boolean isThreadSafe() {
        return backing.isThreadSafe();
    }

    /** {@inheritDoc} Exactly the requested size, at least 1 (guards are not usable). */
    @Override
    public synchronized long size(long address) {
        checkOpen();
        return liveOrThrow(address, "size").block.size;
    }

    /**
     * Verifies the guards of every live block.
     *
     * @throws IllegalStateException describing the first damaged block
     */
    public synchronized void check() {
        checkOpen();
        for (Live l : new ArrayList<>(live.values())) {
            checkHeld(l, "check");
            String damage = guardDamage(l);
            if (damage != null) {
                throw new IllegalStateException(damage);
            }
        }
    }

    /**
     * The blocks currently live, in no particular order.
     *
     * @return a snapshot
     */
    public synchronized List<Block> liveBlocks() {
        checkOpen();
        List<Block> out = new ArrayList<>(live.size());
        for (Live l : live.values()) {
            out.add(l.block);
        }
        return out;
    }

    /**
     * Bytes currently live (requested sizes).
     *
     * @return bytes
     */
    public synchronized long liveBytes() {
        return liveBytes;
    }

    /**
     * Reports the blocks still live ({@link LeakReporting}), frees them through the wrapped
     * allocator (unless it frees only in bulk) and ends this one; calling it again does nothing.
     * With {@code THROW} the exception comes after everything is freed.
     *
     * @throws IllegalStateException with the leak report, in {@code THROW} mode, if blocks leaked;
     *         in any mode if blocks are live and the wrapped allocator was closed first (this one
     *         is closed all the same, and no block is touched)
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Live> gone = new ArrayList<>(); // released behind this one's back: no guards to read
        try {
            for (Live l : live.values()) {
                if (!backingHolds(l)) {
                    gone.add(l);
                }
            }
        } catch (IllegalStateException backingClosedFirst) {
            IllegalStateException e = backingClosed("close", backingClosedFirst);
            clearRecords();
            throw e;
        }
        String report = leakReport(gone);
        if (backing.supportsFree()) {
            for (Live l : live.values()) {
                if (!gone.contains(l)) {
                    backing.free(l.raw);
                }
            }
        }
        clearRecords();
        if (report != null) {
            if (reporting == LeakReporting.THROW) {
                throw new IllegalStateException(report);
            }
            LOG.log(System.Logger.Level.WARNING, report);
        }
    }

    private void clearRecords() {
        live.clear();
        freed.clear();
        liveBytes = 0;
    }

    /** The leak report: every live block, guards read only for those not in {@code gone}. */
    private String leakReport(List<Live> gone) {
        if (live.isEmpty()) {
            return null;
        }
        StringBuilder b = new StringBuilder("DebugAllocator '").append(name).append("': ").append(live.size())
                .append(live.size() == 1 ? " leaked block (" : " leaked blocks (").append(liveBytes).append(" bytes)");
        for (Live l : live.values()) {
            b.append("\n  ").append(Blocks.hex(l.block.address)).append(", ").append(l.block.size)
                    .append(" bytes, allocated by thread ").append(l.block.thread).append(l.block.site());
            if (gone.contains(l)) {
                b.append("\n    and it is no longer held by ").append(backing).append(" (freed or reset through it)");
            } else if (guardDamage(l) != null) {
                b.append("\n    and its guards are damaged");
            }
        }
        return b.toString();
    }

    @Override
    public synchronized String toString() {
        return closed ? "DebugAllocator['" + name + "', closed]" : "DebugAllocator['" + name + "', live=" + live.size()
                + " over " + backing + "]";
    }
}
