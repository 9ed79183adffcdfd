/**
 * Not API: the JavaCPP bindings of the C core and of the JNI glue, compiled into one native
 * library, {@code libjninalloc}, found on the classpath by {@code Loader.load()}. Every class of
 * this package is a binding class; the build hands the whole package to JavaCPP.
 */
package dev.nalloc.internal.jni;
