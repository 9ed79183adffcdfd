package dev.nalloc.internal.door;

import dev.nalloc.internal.jni.GateNative;
import java.lang.invoke.MethodHandle;

/**
 * The gate's calls that sit on a user's path ({@code nalloc_gate.h}). JDK 22+ version: a plain
 * (not critical) downcall, since the barrier is a system call that waits for every CPU; or JNI
 * when {@link Binding#kind()} says so.
 */
public final class GateDoor {
    private GateDoor() {}

    private static final boolean FFM = Binding.FFM;
    private static final MethodHandle BARRIER = Binding.downcall("nalloc_ffm_gate_barrier", false, null);

    /** Returns when every other thread has executed a full fence (where {@code nalloc_gate_light()}). */
    public static void barrier() {
        if (!FFM) {
            GateNative.nalloc_gate_barrier();
            return;
        }
        try {
            BARRIER.invokeExact();
        } catch (Throwable t) {
            throw Binding.rethrow(t);
        }
    }
}
