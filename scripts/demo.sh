#!/usr/bin/env bash
# The main job: builds the jars (skipping tests) and runs the demo — a worker
# pool with Smmalloc thread caches passing small messages between threads,
# and a TlsfHeap holding variable-size records — from the packaged jars
# alone (the main jar, this platform's classifier jar and JavaCPP) plus the
# demo's own classes (src/demo/java, compiled to target/demo-classes).
#
#   scripts/demo.sh [seconds-per-run=2] [threads=3]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

mvn -B -q -ntp -DskipTests -Dmaven.test.skip.exec=true package
mvn -B -q -ntp dependency:build-classpath -Dmdep.includeScope=runtime \
    -Dmdep.outputFile=target/runtime-classpath.txt >/dev/null
version=$(nalloc_version)
# this machine's platform jar: the platforms stage of scripts/test.sh leaves others beside it
platform_jar=target/nalloc-$version-$(host_platform).jar
cp="target/demo-classes:target/nalloc-$version.jar:$platform_jar:$(cat target/runtime-classpath.txt)"
exec java -cp "$cp" dev.nalloc.demo.NallocDemo "$@"
