package dev.nalloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a scenario's {@code main} in a JVM of its own, so a race that crashes the JVM or hangs a
 * thread fails one test with the child's output instead of taking the test run down. The child
 * is the same JVM as this one (the JDK 17 surefire run or the JDK 22+ failsafe run, where the
 * library comes from the packaged jar) with this JVM's command-line options (such as
 * {@code --enable-native-access}), test class path, JavaCPP cache and system properties that
 * matter, so it exercises the same implementation; the scenario prints {@code OK} as its last
 * line when every assertion it makes held.
 */
public final class ForkedJvm {
    private ForkedJvm() {}

    /** What the child printed (stdout and stderr, interleaved) and how it ended. */
    public record Result(int exitCode, String output) {
        /** Asserts a clean exit whose last line is {@code OK}; returns the output. */
        public String assertOk() {
            assertEquals(0, exitCode, () -> "child JVM exit code " + exitCode + " (134: abort, 139: SIGSEGV), output:\n"
                    + output);
            List<String> lines = output.strip().lines().toList();
            assertTrue(!lines.isEmpty() && lines.get(lines.size() - 1).equals("OK"), () -> "last line OK:\n" + output);
            return output;
        }
    }

    /**
     * Runs {@code mainClass.main(args)} in a new JVM and waits at most {@code timeoutSeconds};
     * fails the calling test, with the child's output, when it has not ended by then (a hang),
     * after killing it.
     */
    public static Result run(Class<?> mainClass, long timeoutSeconds, String... args) {
        return run(List.of(), mainClass, timeoutSeconds, args);
    }

    /**
     * As {@link #run(Class, long, String...)}, with {@code jvmOptions} after this JVM's own (so a
     * {@code -D} given here wins), e.g. {@code -Ddev.nalloc.binding=jni}.
     */
    public static Result run(List<String> jvmOptions, Class<?> mainClass, long timeoutSeconds, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-cp");
        command.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!option.startsWith("-agentlib:jdwp")) { // a debugger port cannot be bound twice
                command.add(option);
            }
        }
        for (String property : List.of("org.bytedeco.javacpp.cachedir", "dev.nalloc.fastPath", "dev.nalloc.binding")) {
            String value = System.getProperty(property);
            if (value != null) {
                command.add("-D" + property + "=" + value);
            }
        }
        command.addAll(jvmOptions);
        command.add("-XX:+ErrorFileToStdout"); // a crash report lands in the output we show
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
            ByteArrayOutputStream output = new ByteArrayOutputStream();
            Thread pump = new Thread(() -> copy(process.getInputStream(), output), "forked-jvm-output");
            pump.setDaemon(true);
            pump.start();
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor();
                pump.join(5_000);
                fail("child JVM " + mainClass.getSimpleName() + " did not end within " + timeoutSeconds
                        + " s (a hang), output:\n" + text(output));
            }
            pump.join(10_000);
            return new Result(process.exitValue(), text(output));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        byte[] buffer = new byte[8192];
        try {
            for (int n; (n = in.read(buffer)) > 0; ) {
                synchronized (out) {
                    out.write(buffer, 0, n);
                }
            }
        } catch (IOException e) {
            // the child is gone; what was read is what we show
        }
    }

    private static String text(ByteArrayOutputStream out) {
        synchronized (out) {
            return out.toString(StandardCharsets.UTF_8);
        }
    }
}
