package dev.nalloc.internal.door;

import dev.nalloc.internal.jni.GatedSmmallocNative;

/**
 * The bucket allocator's calls behind its gate ({@code nalloc_sm_gated.h}): {@code gate} is the
 * {@code nalloc_gate*} of {@code nalloc_sm_open}. On a shut gate, pointer and size results are 0
 * and status results {@link GatedSmmallocNative#NALLOC_SM_CLOSED}. This version binds through JNI
 * ({@link GatedSmmallocNative}).
 */
public final class SmmallocDoor {
    private SmmallocDoor() {}

    /** A block of {@code bytes} aligned to {@code alignment} (0: default), or 0. */
    public static long malloc(long gate, long bytes, long alignment) {
        return GatedSmmallocNative.nalloc_sm_malloc(gate, bytes, alignment);
    }

    /** {@code sm_free_checked}'s status, or {@code NALLOC_SM_CLOSED}. */
    public static int free(long gate, long address) {
        return GatedSmmallocNative.nalloc_sm_free(gate, address);
    }

    /** {@code sm_realloc}: the (possibly moved) block, or 0. */
    public static long realloc(long gate, long address, long bytes, long alignment) {
        return GatedSmmallocNative.nalloc_sm_realloc(gate, address, bytes, alignment);
    }

    /** Usable bytes of a live block, else 0. */
    public static long msize(long gate, long address) {
        return GatedSmmallocNative.nalloc_sm_msize(gate, address);
    }

    /** The bucket of a live bucket block, -1 for anything else, or {@code NALLOC_SM_CLOSED}. */
    public static int mbucket(long gate, long address) {
        return GatedSmmallocNative.nalloc_sm_mbucket(gate, address);
    }

    /** 1 for a live block, 0 otherwise, or {@code NALLOC_SM_CLOSED}. */
    public static int owns(long gate, long address) {
        return GatedSmmallocNative.nalloc_sm_owns(gate, address);
    }

    /**
     * Frees the valid pointers of {@code addresses[0..count)}, sets each freed entry to 0 and
     * returns how many were refused; -1 when closed (nothing freed).
     *
     * @throws IndexOutOfBoundsException if {@code count} is negative or beyond the array
     */
    public static long freeBatch(long gate, long[] addresses, int count) {
        return GatedSmmallocNative.nalloc_sm_free_batch(gate, addresses, count);
    }

    /** Shuts the gate, waits for the calls inside and destroys the allocator. Once only. */
    public static void close(long gate) {
        GatedSmmallocNative.nalloc_sm_close(gate);
    }
}
