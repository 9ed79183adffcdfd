package dev.nalloc.bench;

import org.openjdk.jmh.annotations.Threads;

/** {@link ArenaPairs} on one thread. */
@Threads(1)
public class ArenaOneThread extends ArenaPairs {}
