#!/usr/bin/env bash
# Builds the classifier jar of every platform this Linux x86_64 machine can
# build (linux-x86_64 natively, linux-arm64 and windows-x86_64 cross, see the
# cross-* profiles in pom.xml), installs them in the local Maven repository,
# and checks each one:
#   - the library sits at JavaCPP's path dev/nalloc/internal/jni/<platform>/ (jar tf),
#   - it is built for the right machine (file) and needs only what the target
#     has (arm64: NEEDED entries; Windows: imported DLLs must be system DLLs),
#   - it loads and works: linux-x86_64 and linux-arm64 in a real JVM
#     (dev.nalloc.LoadCheck; arm64 = Debian's arm64 JDK under
#     qemu-aarch64, scripts/fetch-arm64-jdk.sh), windows-x86_64 through its JNI
#     exports under wine (src/test/c/jni_library_smoke.c; no Windows JVM here).
# Then installs the nalloc-platform aggregate (platforms/pom.xml).
#
#   scripts/build-platforms.sh [platform ...]   default: all three
#
# Needs: gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user
#        gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 wine (what .ci/run installs).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

platforms=${*:-linux-x86_64 linux-arm64 windows-x86_64}
version=$(nalloc_version)
javacpp=$(sed -n 's|.*<javacpp.version>\(.*\)</javacpp.version>.*|\1|p' pom.xml)
javacpp_jar=$HOME/.m2/repository/org/bytedeco/javacpp/$javacpp/javacpp-$javacpp.jar
out=${NALLOC_BUILD_ROOT:-build}/platforms
mkdir -p "$out"
summary=()
fail() { echo "build-platforms: $*" >&2; exit 1; }
step() { printf '\n=== %s\n' "$*"; }

for platform in $platforms; do
  step "$platform: mvn install -Djavacpp.platform=$platform"
  # -DskipTests: the host build's tests ran already (scripts/test.sh java); a cross
  # build's library cannot load in this JVM anyway (the cross profiles skip them).
  mvn -B -q -ntp install -DskipTests -Djavacpp.platform="$platform"
  jar=target/nalloc-$version-$platform.jar
  [ -f "$jar" ] || fail "$jar was not built"
  case $platform in
    windows-*) lib=dev/nalloc/internal/jni/$platform/jninalloc.dll ;;
    macosx-*) lib=dev/nalloc/internal/jni/$platform/libjninalloc.dylib ;;
    *) lib=dev/nalloc/internal/jni/$platform/libjninalloc.so ;;
  esac
  listing=$(unzip -l "$jar")
  grep -q " $lib\$" <<<"$listing" || fail "$jar has no $lib"
  # GraalVM native-image metadata written by JavaCPP for this library (not testable here:
  # no GraalVM on this machine kind)
  config=$(unzip -p "$jar" "META-INF/native-image/$platform/dev.nalloc/jninalloc/resource-config.json" 2>/dev/null) || config=
  grep -qF "$(basename "$lib")" <<<"$config" || fail "$jar has no native-image resource config for its library"
  rm -rf "$out/$platform" && mkdir -p "$out/$platform"
  unzip -q -o "$jar" "$lib" -d "$out/$platform"
  file_out=$(file -b "$out/$platform/$lib")
  echo "jar tf $jar: $lib ($file_out)"
  case $platform in
    linux-x86_64)
      [[ $file_out == *x86-64* ]] || fail "not an x86-64 library: $file_out"
      result=$(java -Dorg.bytedeco.javacpp.cachedir="$out/cache-$platform" \
        -cp "target/nalloc-$version.jar:$jar:$javacpp_jar" dev.nalloc.LoadCheck | tail -n 1)
      how="LoadCheck in this JVM: $result" ;;
    linux-arm64)
      [[ $file_out == *aarch64* ]] || fail "not an aarch64 library: $file_out"
      needed=$(aarch64-linux-gnu-readelf -d "$out/$platform/$lib" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | tr '\n' ' ')
      echo "NEEDED: $needed"
      arm_java=$(scripts/fetch-arm64-jdk.sh | tail -n 1)
      arm_root=$(cd "$(dirname "$arm_java")/../../../../.." && pwd)
      result=$(qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH="$arm_root/lib/aarch64-linux-gnu" \
        "$arm_java" -Dorg.bytedeco.javacpp.cachedir="$out/cache-$platform" \
        -cp "target/nalloc-$version.jar:$jar:$javacpp_jar" dev.nalloc.LoadCheck | tail -n 1)
      how="LoadCheck in Debian's arm64 JDK 17 under qemu-aarch64: $result" ;;
    windows-x86_64)
      [[ $file_out == *PE32+*x86-64* ]] || fail "not a 64-bit Windows DLL: $file_out"
      dlls=$(x86_64-w64-mingw32-objdump -p "$out/$platform/$lib" | sed -n 's/.*DLL Name: //p' | tr '\n' ' ')
      echo "imports: $dlls"
      for dll in $dlls; do
        case ${dll,,} in
          kernel32.dll | msvcrt.dll | psapi.dll | advapi32.dll | ntdll.dll) ;;
          *) fail "the DLL needs $dll, which a Windows machine does not have by itself" ;;
        esac
      done
      x86_64-w64-mingw32-gcc-win32 -std=c11 -O2 -Wall -Wextra -Werror \
        -o "$out/$platform/jni_library_smoke.exe" src/test/c/jni_library_smoke.c
      cp "$out/$platform/$lib" "$out/$platform/"
      # A prefix of our own, its services started first with stdio on /dev/null, and the
      # output through a file: wine's background services outlive the program and would
      # hold a pipe open, so $(wine ... | tail) could wait for ever.
      export WINEPREFIX=$(cd "$out" && pwd)/wineprefix WINEDEBUG=-all
      wineboot </dev/null >/dev/null 2>&1 || true
      (cd "$out/$platform" && wine ./jni_library_smoke.exe jninalloc.dll </dev/null >smoke.log 2>&1) || true
      wineserver -k 2>/dev/null || true
      result=$(tail -n 1 "$out/$platform/smoke.log")
      how="JNI exports called under wine: $result" ;;
    *) fail "no check for $platform" ;;
  esac
  [[ $result == OK* ]] || fail "$platform smoke test: $result"
  summary+=("$(printf '%-15s %s' "$platform" "$how")")
done

step "nalloc-platform: mvn -f platforms/pom.xml install"
mvn -B -q -ntp -f platforms/pom.xml install

step "summary"
printf '%s\n' "${summary[@]}"
