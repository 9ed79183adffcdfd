package dev.nalloc.toolkit;

import java.util.Arrays;

/**
 * The live blocks of an allocator that cannot tell its own blocks from foreign addresses (the
 * system allocator, the arena): address &rarr; size in an open-addressing table of primitive
 * {@code long}s, so recording a block allocates no object. Not thread-safe: callers lock.
 *
 * <p>Linear probing with backward-shift deletion (no tombstones, so lookups stay short however
 * many blocks come and go); the table doubles at half full. Address 0 marks an empty slot, which
 * no live block has.
 */
final class LiveBlocks {
    private long[] keys = new long[16];
    private long[] values = new long[16];
    private int count;
    private long bytes;

    private static int home(long key, int mask) {
        long h = (key >>> 4) * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 32) & mask;
    }

    private int slot(long key) {
        int mask = keys.length - 1;
        int i = home(key, mask);
        while (keys[i] != 0 && keys[i] != key) {
            i = (i + 1) & mask;
        }
        return i;
    }

    /** Records a new block; {@code address} must not be live. */
    void put(long address, long size) {
        if (2 * (count + 1) > keys.length) {
            grow();
        }
        int i = slot(address);
        keys[i] = address;
        values[i] = size;
        count++;
        bytes += size;
    }

    /** The size of a live block, or -1. */
    long get(long address) {
        if (address == 0) {
            return -1;
        }
        int i = slot(address);
        return keys[i] == address ? values[i] : -1;
    }

    /** Forgets a live block and returns its size, or -1 when {@code address} is not live. */
    long remove(long address) {
        if (address == 0) {
            return -1;
        }
        int mask = keys.length - 1;
        int i = slot(address);
        if (keys[i] != address) {
            return -1;
        }
        long size = values[i];
        count--;
        bytes -= size;
        // Backward shift: pull later entries of the probe run into the hole when their home
        // position allows it, so no entry ever sits behind an empty slot.
        int hole = i;
        for (int j = (i + 1) & mask; keys[j] != 0; j = (j + 1) & mask) {
            int h = home(keys[j], mask);
            boolean movable = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j);
            if (movable) {
                keys[hole] = keys[j];
                values[hole] = values[j];
                hole = j;
            }
        }
        keys[hole] = 0;
        values[hole] = 0;
        return size;
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new long[oldKeys.length * 2];
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != 0) {
                int j = slot(oldKeys[i]);
                keys[j] = oldKeys[i];
                values[j] = oldValues[i];
            }
        }
    }

    int count() {
        return count;
    }

    long bytes() {
        return bytes;
    }

    /** Calls {@code action} on every live block (address, size), then forgets them all. */
    void drain(BlockAction action) {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != 0) {
                action.accept(keys[i], values[i]);
            }
        }
        Arrays.fill(keys, 0);
        Arrays.fill(values, 0);
        count = 0;
        bytes = 0;
    }

    /** (address, size) of a block. */
    interface BlockAction {
        void accept(long address, long size);
    }
}
