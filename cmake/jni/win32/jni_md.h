/* The machine-dependent part of jni.h for Windows, for cross-compiling the
 * JNI DLL on a Linux host whose JDK ships only include/linux/jni_md.h.
 *
 * The Linux variant is wrong for Windows on two counts that break the ABI:
 * it types jlong as `long`, which is 32 bits under Windows' LLP64 model, and
 * it exports with ELF visibility attributes instead of __declspec. The JNI
 * specification fixes what the definitions must be (jint 32 bits, jlong 64
 * bits, jbyte signed 8 bits, JNICALL the platform's standard calling
 * convention), and these are the Windows JDK's choices for them.
 *
 * Used only by the windows-x86_64 cross build (pom.xml, profile
 * cross-windows-x86_64), which puts this directory ahead of the JDK's. */
#ifndef _JAVASOFT_JNI_MD_H_
#define _JAVASOFT_JNI_MD_H_

#ifndef JNIEXPORT
#define JNIEXPORT __declspec(dllexport)
#endif
#define JNIIMPORT __declspec(dllimport)
#define JNICALL __stdcall

typedef long jint; /* 32 bits on Windows */
typedef long long jlong;
typedef signed char jbyte;

#endif
