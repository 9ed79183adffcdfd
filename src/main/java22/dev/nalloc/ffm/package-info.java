/**
 * Java's foreign function and memory API (JDK 22+) backed by nalloc:
 * {@link dev.nalloc.ffm.NallocArena}, an {@link java.lang.foreign.Arena} whose segments are
 * nalloc blocks freed on {@code close()}, and {@link dev.nalloc.ffm.NallocSegmentAllocator}, a
 * {@link java.lang.foreign.SegmentAllocator} with a per-segment free.
 *
 * <p>These classes are compiled with {@code --release 22} into
 * {@code META-INF/versions/22/} of nalloc's multi-release jar: a JDK 22 or later sees them, a
 * JDK 17 to 21 does not (the rest of the jar works unchanged there).
 */
package dev.nalloc.ffm;
