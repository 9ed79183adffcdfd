package dev.nalloc;

import java.util.List;

/**
 * A snapshot of a {@link Smmalloc}'s counters ({@link Smmalloc#stats()}). Taken while other
 * threads allocate, the counters are each exact but may be slightly out of date with one
 * another. Counters only grow; {@code *InUse} and {@code blocksCached} are gauges.
 *
 * @param buckets one entry per bucket, index = bucket number (unmodifiable)
 * @param fallbackAllocs allocations passed to the system allocator, for any reason: too large
 *        for every bucket, an alignment no bucket block size is a multiple of, or an exhausted
 *        bucket
 * @param fallbackBlocksInUse fallback blocks allocated and not yet freed
 * @param fallbackBytesInUse sum of the usable sizes of those blocks
 * @param threadCaches live thread caches for this allocator
 */
public record SmmallocStats(List<BucketStats> buckets, long fallbackAllocs, long fallbackBlocksInUse,
                            long fallbackBytesInUse, long threadCaches) {

    /**
     * Copies {@code buckets} into an unmodifiable list.
     *
     * @param buckets one entry per bucket
     * @param fallbackAllocs see the record description
     * @param fallbackBlocksInUse see the record description
     * @param fallbackBytesInUse see the record description
     * @param threadCaches see the record description
     */
    public SmmallocStats {
        buckets = List.copyOf(buckets);
    }

    /**
     * Sum of {@link BucketStats#blocksInUse()} over the buckets (fallback blocks not included).
     *
     * @return bucket blocks allocated and not yet freed
     */
    public long bucketBlocksInUse() {
        long sum = 0;
        for (BucketStats b : buckets) {
            sum += b.blocksInUse();
        }
        return sum;
    }

    /**
     * Sum of {@link BucketStats#blocksCached()} over the buckets.
     *
     * @return free blocks sitting in live thread caches
     */
    public long blocksCached() {
        long sum = 0;
        for (BucketStats b : buckets) {
            sum += b.blocksCached();
        }
        return sum;
    }

    /**
     * The counters of one bucket.
     *
     * @param blockSize size of every block of the bucket: 16 &times; (bucket number + 1)
     * @param blocksTotal capacity of the bucket in blocks
     * @param blocksTouched blocks ever prepared for handing out (their pages are resident)
     * @param blocksInUse blocks allocated and not yet freed
     * @param blocksCached free blocks sitting in live thread caches
     * @param cacheHits allocations served by a thread cache
     * @param globalHits allocations served by the shared free list
     * @param fallbacks allocations of this size that went to the system allocator because the
     *        bucket was exhausted
     */
    public record BucketStats(long blockSize, long blocksTotal, long blocksTouched, long blocksInUse,
                              long blocksCached, long cacheHits, long globalHits, long fallbacks) {
    }
}
