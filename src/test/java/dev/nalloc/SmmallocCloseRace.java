package dev.nalloc;

import dev.nalloc.internal.door.Binding;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Scenarios run in a JVM of their own by {@link SmmallocCloseRaceTest}: worker threads call an
 * {@link Smmalloc} through one door while the main thread closes it (as a shutdown hook would)
 * or checks it (as a health endpoint would). A racing call must complete normally or throw
 * {@link IllegalStateException}; no thread may hang; the JVM must not die. Prints {@code OK} last
 * when all of that held, exits with 1 (a broken rule) or 2 (a hang) otherwise.
 */
public final class SmmallocCloseRace {
    private SmmallocCloseRace() {}

    private static final int WORKERS = 3;
    private static final int ROUNDS = 50;

    /** One worker's loop body: calls the allocator through its door, over and over. */
    private interface Door {
        void loop(Smmalloc sm, SplittableRandom random, AtomicBoolean stop);
    }

    private static final Map<String, Door> DOORS = Map.of(
            "jni", SmmallocCloseRace::jniPairs,
            "everyCall", SmmallocCloseRace::everyCall,
            "cCache", SmmallocCloseRace::cCache,
            "fastPath", SmmallocCloseRace::fastPath);

    public static void main(String[] args) throws Exception {
        String door = args[0];
        long calls;
        if (door.equals("executor")) {
            calls = executorRounds();
        } else if (door.equals("check")) {
            calls = checkWhileAllocating();
        } else {
            calls = closeRounds(DOORS.get(door));
        }
        System.out.println(door + ": " + calls + " calls; ThreadCache fast path " + ThreadCache.fastPathStatus()
                + "; binding " + Binding.status());
        System.out.println("OK");
    }

    private static void jniPairs(Smmalloc sm, SplittableRandom random, AtomicBoolean stop) {
        while (!stop.get()) {
            sm.free(sm.malloc(32));
        }
    }

    /** Every call of the allocator, mixed, with live blocks kept across calls. */
    private static void everyCall(Smmalloc sm, SplittableRandom random, AtomicBoolean stop) {
        long[] live = new long[64];
        long views = 0;
        while (!stop.get()) {
            int i = random.nextInt(live.length);
            switch (random.nextInt(8)) {
                case 0 -> { sm.free(live[i]); live[i] = sm.malloc(random.nextInt(1, 300)); }
                case 1 -> { sm.free(live[i]); live[i] = sm.malloc(random.nextInt(1, 300), 64); }
                case 2 -> { if (live[i] != 0) { live[i] = reallocOrKeep(sm, live[i], random.nextInt(1, 2000)); } }
                case 3 -> { if (live[i] != 0) { sm.size(live[i]); } }
                case 4 -> sm.bucket(live[i]);
                // a view is raw: it must not be used once the block may be gone (as here)
                case 5 -> { if (live[i] != 0) { ByteBuffer view = sm.view(live[i]); views += view.capacity(); } }
                case 6 -> {
                    long[] batch = {sm.malloc(16), sm.malloc(48), sm.malloc(4000)};
                    sm.free(batch, batch.length);
                }
                default -> sm.stats();
            }
        }
    }

    private static long reallocOrKeep(Smmalloc sm, long address, long size) {
        long p = sm.realloc(address, size);
        return p != 0 ? p : address;
    }

    /** The C thread cache behind the plain calls. */
    private static void cCache(Smmalloc sm, SplittableRandom random, AtomicBoolean stop) {
        sm.createThreadCache(1024, CacheWarmup.WARM);
        long[] held = new long[200];
        while (!stop.get()) {
            for (int k = 0; k < held.length; k++) { // past the capacity: refills and drains
                held[k] = sm.malloc(32);
            }
            for (long p : held) {
                sm.free(p);
            }
        }
    }

    /** The Java fast path of a ThreadCache, with its refills and drains through C. */
    private static void fastPath(Smmalloc sm, SplittableRandom random, AtomicBoolean stop) {
        ThreadCache cache = sm.threadCache(1024, CacheWarmup.HOT);
        long[] held = new long[100];
        while (!stop.get()) {
            int n = random.nextInt(held.length);
            for (int k = 0; k < n; k++) {
                held[k] = cache.malloc(16 + 16 * random.nextInt(8));
            }
            for (int k = 0; k < n; k++) {
                cache.free(held[k]);
            }
            cache.free(cache.malloc(64));
        }
    }

    /** Rounds of: workers through the door, then close() from this thread after 0..20 ms. */
    private static long closeRounds(Door door) throws Exception {
        AtomicLong calls = new AtomicLong();
        SplittableRandom random = new SplittableRandom(42);
        for (int round = 0; round < ROUNDS; round++) {
            Smmalloc sm = new Smmalloc(8, 16 << 20);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> broken = new AtomicReference<>();
            List<Thread> workers = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                SplittableRandom own = random.split();
                Thread t = new Thread(() -> {
                    try {
                        door.loop(sm, own, stop);
                    } catch (IllegalStateException expected) {
                        // the race with close(): a clean refusal
                    } catch (Throwable t2) {
                        broken.compareAndSet(null, t2);
                    }
                    calls.incrementAndGet();
                }, "worker-" + w);
                t.setDaemon(true);
                workers.add(t);
                t.start();
            }
            Thread.sleep(random.nextInt(21));
            sm.close();
            stop.set(true);
            joinAll(workers);
            if (broken.get() != null) {
                System.out.println("round " + round + ": a racing call neither completed nor threw IllegalStateException");
                broken.get().printStackTrace(System.out);
                System.exit(1);
            }
            expectClosed(sm);
        }
        return calls.get();
    }

    private static void expectClosed(Smmalloc sm) {
        try {
            sm.malloc(16);
        } catch (IllegalStateException expected) {
            return;
        }
        System.out.println("malloc after close() did not throw");
        System.exit(1);
    }

    /** Workers of a SmmallocExecutors pool, each on its own cache, while the allocator closes. */
    private static long executorRounds() throws Exception {
        long done = 0;
        for (int round = 0; round < ROUNDS / 2; round++) {
            Smmalloc sm = new Smmalloc(8, 16 << 20);
            ExecutorService pool = SmmallocExecutors.newFixedThreadPool(sm, WORKERS, 1024, CacheWarmup.WARM);
            AtomicBoolean stop = new AtomicBoolean();
            List<Future<?>> tasks = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                tasks.add(pool.submit(() -> {
                    while (!stop.get()) {
                        ThreadCache cache = sm.currentThreadCache();
                        cache.free(cache.malloc(48));
                    }
                    return null;
                }));
            }
            Thread.sleep(round % 21);
            sm.close();
            stop.set(true);
            for (Future<?> task : tasks) {
                try {
                    task.get(30, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    if (!(e.getCause() instanceof IllegalStateException)) {
                        e.getCause().printStackTrace(System.out);
                        System.exit(1);
                    }
                } catch (java.util.concurrent.TimeoutException e) {
                    hang();
                }
                done++;
            }
            pool.shutdown();
            if (!pool.awaitTermination(30, TimeUnit.SECONDS)) {
                hang();
            }
        }
        return done;
    }

    /**
     * check() called over and over while workers allocate and free through both doors: no
     * thread may hang, nothing may be damaged, and afterwards every block is accounted for.
     */
    private static long checkWhileAllocating() throws Exception {
        Smmalloc sm = new Smmalloc(8, 16 << 20);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> broken = new AtomicReference<>();
        AtomicLong pairs = new AtomicLong();
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < WORKERS; w++) {
            boolean fast = w % 2 == 0;
            Thread t = new Thread(() -> {
                try (ThreadCache cache = fast ? sm.threadCache(1024, CacheWarmup.WARM) : null) {
                    long[] held = new long[64];
                    while (!stop.get()) {
                        for (int k = 0; k < held.length; k++) {
                            held[k] = fast ? cache.malloc(32) : sm.malloc(32);
                            Smmalloc.class.getName(); // keep the loop from being too tight to preempt
                        }
                        for (long p : held) {
                            if (fast) {
                                cache.free(p);
                            } else {
                                sm.free(p);
                            }
                        }
                        pairs.addAndGet(held.length);
                    }
                } catch (Throwable e) {
                    broken.compareAndSet(null, e);
                }
            }, "worker-" + w);
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
        long checks = 0;
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
        while (System.nanoTime() < end) {
            sm.check(); // throws on a broken invariant
            checks++;
        }
        stop.set(true);
        joinAll(workers);
        if (broken.get() != null) {
            broken.get().printStackTrace(System.out);
            System.exit(1);
        }
        sm.check();
        SmmallocStats stats = sm.stats();
        long inUse = stats.buckets().stream().mapToLong(SmmallocStats.BucketStats::blocksInUse).sum();
        if (inUse != 0 || checks == 0 || pairs.get() == 0) {
            System.out.println("after the checks: blocksInUse=" + inUse + " checks=" + checks + " pairs=" + pairs);
            System.exit(1);
        }
        System.out.println("checks=" + checks + " pairs=" + pairs);
        sm.close();
        return checks;
    }

    private static void joinAll(List<Thread> threads) throws InterruptedException {
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(30));
            if (t.isAlive()) {
                hang();
            }
        }
    }

    private static void hang() {
        System.out.println("a thread did not end: hang");
        Thread.getAllStackTraces().forEach((t, frames) -> {
            System.out.println(t.getName() + " " + t.getState());
            for (StackTraceElement f : frames) {
                System.out.println("    at " + f);
            }
        });
        System.exit(2);
    }
}
