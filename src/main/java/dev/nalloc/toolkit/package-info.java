/**
 * General-purpose allocators on the {@link dev.nalloc.NativeAllocator} interface, to be picked
 * by configuration: {@link dev.nalloc.toolkit.SystemAllocator} (the C library's, with exact bad-free
 * detection), {@link dev.nalloc.toolkit.ArenaAllocator} and {@link dev.nalloc.toolkit.LinearAllocator}
 * (bump allocation, freed all at once), {@link dev.nalloc.toolkit.BlockPool} and
 * {@link dev.nalloc.toolkit.ConcurrentBlockPool} (fixed-size blocks), and
 * {@link dev.nalloc.toolkit.DebugAllocator} (leak reports, guard bytes, double frees with both
 * sites) around any of them.
 */
package dev.nalloc.toolkit;
