package dev.nalloc.internal;

import dev.nalloc.Smmalloc;
import java.util.Objects;
import java.util.function.ToLongFunction;

/**
 * The C handles behind public allocator objects, for nalloc's own code in other packages
 * (today {@code dev.nalloc.lwjgl}, whose C entry points need the {@code sm_allocator} of its
 * {@link Smmalloc}). Not API: the handle is deliberately absent from {@link Smmalloc}'s public
 * methods, and this bridge (the JDK's "shared secrets" pattern) lets a sibling package reach it
 * without widening that API. {@link Smmalloc} registers its accessor when its class initialises.
 */
public final class Handles {
    private static volatile ToLongFunction<Smmalloc> smmalloc;

    private Handles() {}

    /**
     * Called once by {@link Smmalloc}'s static initializer.
     *
     * @param access reads an allocator's handle, 0 once it is closed
     * @throws IllegalStateException if an accessor is already registered
     */
    public static synchronized void registerSmmalloc(ToLongFunction<Smmalloc> access) {
        Objects.requireNonNull(access, "access");
        if (smmalloc != null) {
            throw new IllegalStateException("Smmalloc accessor already registered");
        }
        smmalloc = access;
    }

    /**
     * The {@code sm_allocator} of {@code allocator}.
     *
     * @param allocator an open allocator
     * @return its handle, never 0
     * @throws IllegalStateException if the allocator is closed
     */
    public static long smmalloc(Smmalloc allocator) {
        Objects.requireNonNull(allocator, "allocator");
        // an instance exists, so Smmalloc's class initializer has run and registered the accessor
        long h = smmalloc.applyAsLong(allocator);
        if (h == 0) {
            throw new IllegalStateException("Smmalloc is closed");
        }
        return h;
    }
}
