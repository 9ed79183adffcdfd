package dev.nalloc.internal.door;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The multi-release jar picks the door by JDK: JNI on 17 to 21, the FFM downcalls on 22+ (the
 * failsafe run of this suite against the packaged jar, with {@code --enable-native-access}),
 * unless {@code -Ddev.nalloc.binding=jni} was given. A class directory (surefire's
 * target/classes) is not multi-release: there it is JNI on any JDK.
 */
class BindingKindTest {
    @Test
    void theDoorMatchesTheJdk() {
        boolean jniAsked = "jni".equalsIgnoreCase(System.getProperty(Binding.PROPERTY));
        boolean fromJar = Binding.class.getProtectionDomain().getCodeSource().getLocation().getPath().endsWith(".jar");
        String expected = Runtime.version().feature() >= 22 && fromJar && !jniAsked ? "ffm" : "jni";
        assertEquals(expected, Binding.kind(), Binding.status());
        assertTrue(Binding.status().startsWith(expected + " ("), Binding.status());
    }
}
