package dev.nalloc.toolkit;

/**
 * What {@link DebugAllocator#close()} does with blocks still live, as ZiggyAlloc's
 * {@code MemoryLeakReportingMode}. (ZiggyAlloc's third mode, breaking into the debugger, has no
 * Java counterpart: set an exception breakpoint on {@code THROW} instead.)
 */
public enum LeakReporting {
    /** Log the report as a warning through {@link System.Logger} ({@code dev.nalloc.toolkit.DebugAllocator}). */
    LOG,
    /** Throw {@link IllegalStateException} with the report as its message. */
    THROW
}
