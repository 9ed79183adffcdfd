#!/usr/bin/env bash
# Puts an arm64 JDK 17 runtime (Debian's openjdk-17-jre-headless:arm64 and its
# zlib) into build/arm64-jdk, unpacked, not installed: the x86_64 JDK stays the
# system's, and qemu-aarch64 runs the arm64 one for the classifier jar's smoke
# test (scripts/build-platforms.sh). Needs root for dpkg --add-architecture;
# prints the java path on success.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${NALLOC_BUILD_ROOT:-build}/arm64-jdk
java=$dest/usr/lib/jvm/java-17-openjdk-arm64/bin/java
if [ -x "$java" ]; then echo "$java"; exit 0; fi
foreign=$(dpkg --print-foreign-architectures)
if ! grep -qx arm64 <<<"$foreign"; then
  dpkg --add-architecture arm64
  apt-get update -qq
fi
mkdir -p "$dest/debs"
( cd "$dest/debs" && apt-get download -qq openjdk-17-jre-headless:arm64 zlib1g:arm64 2>&1 | grep -v "unsandboxed" || true )
for deb in "$dest"/debs/*.deb; do dpkg-deb -x "$deb" "$dest"; done
[ -x "$java" ] || { echo "fetch-arm64-jdk: $java missing after unpacking" >&2; exit 1; }
echo "$java"
