/**
 * Not API: the doors through which nalloc's classes make their hot native calls, one small class
 * per native area ({@link dev.nalloc.internal.door.TlsfDoor}, {@link dev.nalloc.internal.door.SmmallocDoor},
 * {@link dev.nalloc.internal.door.GateDoor}, {@link dev.nalloc.internal.door.SystemDoor},
 * {@link dev.nalloc.internal.door.LwjglDoor}).
 *
 * <p>The multi-release jar picks the implementation: this one (JDK 17 to 21) delegates one to one
 * to the JavaCPP JNI bindings of {@code dev.nalloc.internal.jni}; the one in
 * {@code META-INF/versions/22} (same classes, same signatures) calls exported C functions of the
 * same {@code libjninalloc} through {@code java.lang.foreign} downcall handles, unless
 * {@code -Ddev.nalloc.binding=jni} asks for JNI. {@link dev.nalloc.internal.door.Binding} tells
 * which door is in use. Arguments and results are the C calls' own, pointers as {@code long}s;
 * nothing is checked here.
 */
package dev.nalloc.internal.door;
