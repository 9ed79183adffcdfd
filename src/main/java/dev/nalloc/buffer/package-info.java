/**
 * Memory as typed values: bounds-checked primitive arrays in native memory
 * ({@link dev.nalloc.buffer.NativeBuffer} and its five element types) over any
 * {@link dev.nalloc.NativeAllocator}, and {@link dev.nalloc.buffer.ByteBufferAllocator}, direct
 * {@code ByteBuffer}s like {@code ByteBuffer.allocateDirect}'s that are nalloc blocks freed
 * explicitly.
 */
package dev.nalloc.buffer;
