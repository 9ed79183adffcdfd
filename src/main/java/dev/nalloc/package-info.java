/**
 * The two allocators and what belongs to them: {@link dev.nalloc.TlsfHeap} and
 * {@link dev.nalloc.SharedTlsfHeap} (TLSF: variable sizes, O(1), bounded worst case),
 * {@link dev.nalloc.Smmalloc} with its {@link dev.nalloc.ThreadCache}s, executors and thread
 * factory (small blocks from many threads), their statistics, and the one interface every nalloc
 * allocator implements, {@link dev.nalloc.NativeAllocator}.
 *
 * <p>Around this package: {@code dev.nalloc.toolkit} (general-purpose allocators over any
 * {@code NativeAllocator}), {@code dev.nalloc.buffer} (typed buffers, {@code ByteBuffer}s),
 * {@code dev.nalloc.lwjgl} and, on JDK 22+, {@code dev.nalloc.ffm} (adapters). The packages under
 * {@code dev.nalloc.internal} are not API and may change in any release.
 */
package dev.nalloc;
