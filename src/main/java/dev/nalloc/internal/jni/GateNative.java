package dev.nalloc.internal.jni;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.NoException;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * JNI bindings of {@code nalloc_gate.h}: what the Java fast paths need to take part in the
 * gate protocol themselves (the calling thread's reader record, whether readers may skip the
 * fence) and the process-wide barrier for protocols of the same shape.
 *
 * <p>The Java side of a reader: store the gate's address into the record's first word
 * ({@link #READER_INSIDE_OFFSET}), then read the gate's state word ({@link #GATE_STATE_OFFSET});
 * {@link #GATE_OPEN} means go on; leave by storing 0 with release order. Where
 * {@link #nalloc_gate_light()} is 0 the store must be a volatile (sequentially consistent) one.
 */
@Properties(inherit = NallocLibrary.class)
@NoException
public final class GateNative {
    static {
        Loader.load();
    }

    private GateNative() {}

    // nalloc_gate.h, checked against the header by NativeConstantsTest
    public static final int GATE_OPEN = 0;
    public static final int GATE_HELD = 1;
    public static final int GATE_SHUT = 2;
    public static final int GATE_STATE_OFFSET = 0;
    public static final int READER_INSIDE_OFFSET = 0;

    /** 1 when readers need no fence (a process-wide barrier exists here), else 0. */
    public static native int nalloc_gate_light();

    /** The calling thread's reader record ({@code nalloc_gate_reader*}), 0 when memory is exhausted. */
    public static native @Cast("nalloc_gate_reader*") long nalloc_gate_reader_of_thread();

    /** Every other thread has executed a full fence when this returns (where light). */
    public static native void nalloc_gate_barrier();

    /** Frees a gate; only once no thread can enter it any more. */
    public static native void nalloc_gate_free(@Cast("nalloc_gate*") long gate);
}
