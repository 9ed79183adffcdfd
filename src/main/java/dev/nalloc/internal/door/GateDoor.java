package dev.nalloc.internal.door;

import dev.nalloc.internal.jni.GateNative;

/** The gate's calls that sit on a user's path ({@code nalloc_gate.h}). This version binds through JNI. */
public final class GateDoor {
    private GateDoor() {}

    /** Returns when every other thread has executed a full fence (where {@code nalloc_gate_light()}). */
    public static void barrier() {
        GateNative.nalloc_gate_barrier();
    }
}
