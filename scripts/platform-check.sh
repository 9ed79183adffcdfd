#!/usr/bin/env bash
# The user's view of nalloc-platform: a fresh project that depends on
# dev.nalloc:nalloc-platform only. With -Djavacpp.platform=linux-x86_64 it must
# resolve nalloc's classes plus that one classifier jar, and run; without it,
# every platform's jar. Needs the artifacts in the local repository
# (scripts/build-platforms.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
version=$(nalloc_version)
dir=${NALLOC_BUILD_ROOT:-build}/platform-consumer
rm -rf "$dir" && mkdir -p "$dir/src/main/java/demo"
cat > "$dir/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>demo</groupId>
  <artifactId>consumer</artifactId>
  <version>1</version>
  <properties>
    <maven.compiler.release>17</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <build>
    <plugins>
      <plugin>
        <artifactId>maven-compiler-plugin</artifactId>
        <version>3.14.0</version>
      </plugin>
    </plugins>
  </build>
  <dependencies>
    <dependency>
      <groupId>dev.nalloc</groupId>
      <artifactId>nalloc-platform</artifactId>
      <version>$version</version>
    </dependency>
  </dependencies>
</project>
POM
cat > "$dir/src/main/java/demo/Main.java" <<'JAVA'
package demo;

import dev.nalloc.CacheWarmup;
import dev.nalloc.Smmalloc;
import dev.nalloc.ThreadCache;
import dev.nalloc.TlsfHeap;

public class Main {
    public static void main(String[] args) {
        try (Smmalloc sm = new Smmalloc(8, 1 << 20); ThreadCache cache = sm.threadCache(1024, CacheWarmup.WARM);
                TlsfHeap heap = TlsfHeap.create(1 << 20)) {
            long a = cache.malloc(64);
            long b = heap.malloc(1000);
            cache.free(a);
            heap.free(b);
            try {
                cache.free(a);
                System.out.println("FAILED: double free accepted");
                System.exit(1);
            } catch (IllegalArgumentException expected) {
                System.out.println("consumer OK on " + org.bytedeco.javacpp.Loader.getPlatform());
            }
        }
    }
}
JAVA
mvnc() { mvn -B -q -ntp -f "$dir/pom.xml" "$@"; }
nalloc_jars() { sed -n 's/.*\(dev\.nalloc:nalloc:jar:[^ ]*\).*/\1/p' "$1" | sed 's/:compile.*//' | sort; }

mvnc dependency:list -Djavacpp.platform=linux-x86_64 -DoutputFile=deps-one.txt
one=$(nalloc_jars "$dir/deps-one.txt")
echo "with -Djavacpp.platform=linux-x86_64:"; sed 's/^/  /' <<<"$one"
[ "$(wc -l <<<"$one")" = 2 ] || { echo "expected nalloc + one classifier" >&2; exit 1; }
grep -q ":linux-x86_64:" <<<"$one" || { echo "linux-x86_64 missing" >&2; exit 1; }

mvnc dependency:list -DoutputFile=deps-all.txt
all=$(nalloc_jars "$dir/deps-all.txt")
echo "without it:"; sed 's/^/  /' <<<"$all"
for p in linux-x86_64 linux-arm64 windows-x86_64; do
  grep -q ":$p:" <<<"$all" || { echo "$p missing from the full platform" >&2; exit 1; }
done

mvnc package -Djavacpp.platform=linux-x86_64
mvnc dependency:build-classpath -Djavacpp.platform=linux-x86_64 -Dmdep.outputFile=cp.txt
result=$(java -Dorg.bytedeco.javacpp.cachedir="$dir/cache" -cp "$dir/target/classes:$(cat "$dir/cp.txt")" demo.Main)
echo "$result"
[[ $result == "consumer OK on linux-x86_64" ]]
