package dev.nalloc.bench;

import org.openjdk.jmh.annotations.Threads;

/** {@link AllocPairs} on one thread. */
@Threads(1)
public class OneThread extends AllocPairs {}
