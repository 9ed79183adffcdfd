package dev.nalloc.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The FFM API's pair (JDK 22+, compiled with {@code --release 22} only when the build runs on
 * JDK 22 or later): {@code Arena.ofConfined()}, one {@code allocate(size)} (malloc underneath, and
 * zeroed), {@code close()} (free). Same settings as {@link AllocPairs} so its ratio to
 * {@code AllocPairs.unsafe} from the same run is meaningful.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Thread)
public abstract class ArenaPairs {
    @Param({"16", "64", "256"})
    public int size;

    @Benchmark
    public void arenaConfined(Blackhole bh) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(size);
            bh.consume(s.address());
        }
    }
}
