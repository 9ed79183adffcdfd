package dev.nalloc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nalloc.CacheWarmup;
import dev.nalloc.Smmalloc;
import dev.nalloc.TestMemory;
import dev.nalloc.ThreadCache;
import dev.nalloc.internal.jni.SystemNative;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * Views made without JNI must be indistinguishable from JNI's {@code NewDirectByteBuffer} views
 * (in native order): same address, bounds, order and behaviour under slicing and duplication.
 */
class DirectBufferFactoryTest {

    @Test
    void viewsAreMadeInJavaOnThisJdk() {
        // On the baseline JDK the Unsafe technique must hold; losing it silently costs ~150 ns a view.
        assertEquals(RawMemory.ENABLED, DirectBufferFactory.isFast(), RawMemory.STATUS);
    }

    @Test
    void aViewBehavesLikeAJniView() {
        long p = TestMemory.U.allocateMemory(256);
        try {
            for (int i = 0; i < 256; i++) {
                TestMemory.U.putByte(p + i, (byte) (i * 7));
            }
            ByteBuffer fast = DirectBufferFactory.view(p + 16, 200);
            ByteBuffer jni = SystemNative.nalloc_direct_buffer(p + 16, 200).order(ByteOrder.nativeOrder());
            assertTrue(fast.isDirect());
            assertFalse(fast.isReadOnly());
            assertEquals(jni.capacity(), fast.capacity());
            assertEquals(jni.limit(), fast.limit());
            assertEquals(0, fast.position());
            assertEquals(ByteOrder.nativeOrder(), fast.order());
            assertEquals(jni, fast); // equal remaining contents
            assertEquals(jni.getLong(40), fast.getLong(40));
            fast.putInt(100, 0xCAFEBABE);
            assertEquals(0xCAFEBABE, jni.getInt(100));
            assertEquals(0xCAFEBABE, TestMemory.U.getInt(p + 116));
            assertThrows(IndexOutOfBoundsException.class, () -> fast.get(200));
            assertThrows(IndexOutOfBoundsException.class, () -> fast.putLong(196, 1L));
            fast.position(192);
            assertThrows(BufferOverflowException.class, () -> fast.putLong(1L).putLong(2L));
            ByteBuffer slice = fast.position(50).slice();
            assertEquals(150, slice.capacity());
            assertEquals(jni.get(50), slice.get(0));
            ByteBuffer copy = ByteBuffer.allocate(200);
            copy.put(fast.clear());
            assertEquals(jni.clear(), copy.flip());
        } finally {
            TestMemory.U.freeMemory(p);
        }
    }

    @Test
    void bufferAddressesAgreeWithJni() {
        ByteBuffer b = ByteBuffer.allocateDirect(100);
        b.position(30);
        long viaJni = SystemNative.nalloc_buffer_address(b.duplicate().clear());
        assertNotEquals(0, viaJni);
        assertEquals(viaJni, DirectBufferFactory.address(b)); // the buffer's start, not its position
        assertEquals(viaJni + 30, SystemNative.nalloc_buffer_address(b));
    }

    @Test
    void threadCacheViewsCheckLiveness() {
        try (Smmalloc sm = new Smmalloc(8, 1 << 20); ThreadCache cache = sm.threadCache(2048, CacheWarmup.WARM)) {
            long p = cache.malloc(40);
            ByteBuffer view = cache.view(p);
            assertEquals(48, view.capacity());
            assertEquals(ByteOrder.nativeOrder(), view.order());
            view.putLong(0, 77L);
            assertEquals(77L, sm.view(p).getLong(0));
            assertThrows(IllegalArgumentException.class, () -> cache.view(p + 16));
            long big = cache.malloc(1000); // fallback block: the JNI view
            assertEquals(sm.size(big), cache.view(big).capacity());
            cache.free(big);
            cache.free(p);
            assertThrows(IllegalArgumentException.class, () -> cache.view(p)); // freed
            assertThrows(IllegalArgumentException.class, () -> cache.view(big));
            sm.check();
        }
    }
}
