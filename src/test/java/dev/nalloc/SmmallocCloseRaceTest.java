package dev.nalloc;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Smmalloc#close()} and {@link Smmalloc#check()} racing worker threads through every
 * door, each scenario in its own JVM ({@link SmmallocCloseRace}): a crash or a hang fails the
 * scenario's test instead of the run.
 */
class SmmallocCloseRaceTest {
    @ParameterizedTest
    @ValueSource(strings = {"jni", "everyCall", "cCache", "fastPath", "executor", "check"})
    void racingCallsCompleteOrThrowIllegalStateException(String door) {
        String output = ForkedJvm.run(SmmallocCloseRace.class, 300, door).assertOk();
        // the child runs the same implementation as this JVM (the JDK 22+ one included)
        assertTrue(output.contains("ThreadCache fast path " + ThreadCache.fastPathStatus()), output);
    }
}
