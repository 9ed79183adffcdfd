package dev.nalloc.internal.door;

/**
 * Which binding the doors of this package use. On JDK 17 to 21 always JNI (JavaCPP); the JDK 22+
 * version of this class (multi-release jar) picks the FFM API unless the system property
 * {@value #PROPERTY} is {@code jni}.
 */
public final class Binding {
    /** The system property that chooses the binding on JDK 22+: {@code ffm} (default) or {@code jni}. */
    public static final String PROPERTY = "dev.nalloc.binding";

    private Binding() {}

    /**
     * The binding in use.
     *
     * @return {@code "jni"} here; {@code "ffm"} or {@code "jni"} on JDK 22+
     */
    public static String kind() {
        return "jni";
    }

    /**
     * The binding in use and why, for diagnostics.
     *
     * @return a one-line description
     */
    public static String status() {
        return "jni (JavaCPP; the FFM binding needs JDK 22+, this is JDK " + Runtime.version().feature() + ")";
    }
}
