package dev.nalloc.internal;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;

/**
 * Smoke check of a deployment: loads the JNI library from the classpath, builds a TLSF heap in
 * a native buffer and an smmalloc allocator, allocates and frees on both, and prints {@code OK}.
 * Exit status 0 on success, 1 on a failed check. Run with the nalloc jar, its platform jar and
 * javacpp's jar on the classpath:
 * <pre>java -cp nalloc.jar:nalloc-linux-x86_64.jar:javacpp.jar dev.nalloc.internal.LoadCheck</pre>
 */
public final class LoadCheck {
    private LoadCheck() {}

    public static void main(String[] args) {
        String library = NallocLibrary.load();
        System.out.println("platform " + Loader.getPlatform() + ", library " + library);

        long heapBytes = 1 << 20;
        Pointer mem = Pointer.malloc(heapBytes);
        check(mem != null && !mem.isNull(), "native buffer");
        try {
            long tlsf = TlsfNative.tlsf_create(mem.address(), heapBytes);
            check(tlsf != 0, "tlsf_create");
            long p = TlsfNative.tlsf_malloc(tlsf, 100);
            check(p != 0, "tlsf_malloc");
            check(TlsfNative.tlsf_owns(tlsf, p) == 1, "tlsf_owns");
            check(TlsfNative.tlsf_free_checked(tlsf, p) == TlsfNative.TLSF_OK, "tlsf_free_checked");
            check(TlsfNative.tlsf_owns(tlsf, p) == 0, "tlsf_owns after free");
            check(TlsfNative.tlsf_check(tlsf) == TlsfNative.TLSF_INV_OK, "tlsf_check");
        } finally {
            Pointer.free(mem);
        }

        long sm = SmmallocNative.sm_allocator_create(4, SmmallocNative.SM_BUCKET_SIZE_MIN);
        check(sm != 0, "sm_allocator_create");
        try {
            long q = SmmallocNative.sm_malloc(sm, 32, 0);
            check(q != 0, "sm_malloc");
            check(SmmallocNative.sm_owns(sm, q) == 1, "sm_owns");
            check(SmmallocNative.sm_free_checked(sm, q) == SmmallocNative.SM_OK, "sm_free_checked");
        } finally {
            SmmallocNative.sm_allocator_destroy(sm);
        }
        System.out.println("OK");
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            System.out.println("FAILED: " + what);
            System.exit(1);
        }
    }
}
