package dev.nalloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a scenario that crashed the JVM before it was fixed in a JVM of its own, with this test
 * JVM's class path and JavaCPP cache: a regression is then a failed test (the child's exit
 * status and output in the message) rather than a lost build.
 */
public final class ChildJvm {
    private ChildJvm() {}

    /**
     * Runs {@code main} in a fresh JVM and asserts that it exits with 0 and that its last line of
     * output is {@code OK}.
     *
     * @param main a class with a {@code main(String[])} method, on the test class path
     * @param args its arguments
     * @return everything the child printed (stdout and stderr merged)
     */
    public static String runOk(Class<?> main, String... args) throws IOException, InterruptedException {
        Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(),
                "-XX:ErrorFile=" + Paths.get("target", "hs_err_child_%p.log").toAbsolutePath(),
                "-XX:-CreateCoredumpOnCrash",
                "-cp", System.getProperty("java.class.path")));
        String cache = System.getProperty("org.bytedeco.javacpp.cachedir");
        if (cache != null) {
            command.add(1, "-Dorg.bytedeco.javacpp.cachedir=" + cache);
        }
        command.add(main.getName());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        Process process = builder.start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), main.getSimpleName() + " finished");
        assertEquals(0, process.exitValue(), main.getSimpleName() + " exit status (134 or 139: the JVM crashed), "
                + "output:\n" + output);
        List<String> lines = output.lines().toList();
        assertEquals("OK", lines.isEmpty() ? "" : lines.get(lines.size() - 1), output);
        return output;
    }
}
