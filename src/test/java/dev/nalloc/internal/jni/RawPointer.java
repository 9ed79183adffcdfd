package dev.nalloc.internal.jni;

import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/** Test helper: a JavaCPP view of a raw native address, to read and write block contents. */
final class RawPointer extends Pointer {
    private RawPointer(long address) {
        this.address = address;
    }

    static LongPointer longsAt(long address) {
        return new LongPointer(new RawPointer(address));
    }
}
