package dev.nalloc.internal.door;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nalloc.ForkedJvm;
import java.util.List;
import org.junit.jupiter.api.Test;

/** On JDK 22+ the doors use the FFM binding by default, and {@code -Ddev.nalloc.binding} chooses. */
class BindingTest {
    @Test
    void ffmIsTheDefault() {
        assertEquals("ffm", Binding.kind(), Binding.status());
        assertTrue(Binding.status().startsWith("ffm (java.lang.foreign downcalls into "), Binding.status());
        assertTrue(Binding.status().contains("jninalloc"), Binding.status());
    }

    @Test
    void propertyJniSwitchesToTheJniBinding() {
        String out = ForkedJvm.run(List.of("-D" + Binding.PROPERTY + "=jni"), BindingProbe.class, 120).assertOk();
        assertTrue(out.contains("binding=jni; status=jni (" + Binding.PROPERTY + "=jni)"), out);
    }

    @Test
    void propertyFfmKeepsTheFfmBinding() {
        String out = ForkedJvm.run(List.of("-D" + Binding.PROPERTY + "=ffm"), BindingProbe.class, 120).assertOk();
        assertTrue(out.contains("binding=ffm; status=ffm (java.lang.foreign"), out);
    }
}
