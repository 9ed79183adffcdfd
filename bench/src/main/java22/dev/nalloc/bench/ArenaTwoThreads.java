package dev.nalloc.bench;

import org.openjdk.jmh.annotations.Threads;

/** {@link ArenaPairs} on two threads at once; ns/op is per thread. */
@Threads(2)
public class ArenaTwoThreads extends ArenaPairs {}
