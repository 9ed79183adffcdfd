#!/usr/bin/env bash
# JMH benchmarks of one malloc+free pair (16, 64, 256 B; 1 and 2 threads): Smmalloc with and
# without a thread cache, TlsfHeap, SharedTlsfHeap, a Smmalloc ByteBuffer view, glibc malloc/free
# through JNI, Unsafe.allocateMemory/freeMemory, ByteBuffer.allocateDirect (alone, and with an
# explicit Unsafe.invokeCleaner free), on JDK 22+ Arena.ofConfined() allocate + close, and peers:
# jemalloc and rpmalloc through LWJGL, Netty's pooled direct buffers (each with its ratio to Unsafe).
# On JDK 22+ the forks run with --enable-native-access=ALL-UNNAMED, as users are told to, and from
# 23 with --sun-misc-unsafe-memory-access=allow for the Unsafe baseline row and LWJGL (nalloc uses
# no Unsafe on 22+).
#
#   scripts/bench-java.sh [--quick] [-- JMH options, e.g. 'OneThread\.tlsf' -p size=64]
#
#   --quick   1 fork, 2 x 0.5 s warmup, 3 x 0.5 s measurement:  ~7 min on 2 cores, both JDKs
#   default   2 forks, 5 x 1 s warmup, 5 x 1 s measurement:      ~45 min on 2 cores, both JDKs
#
# Installs nalloc (tests skipped), builds bench/target/benchmarks.jar (the bench/ project) with
# the JDK Maven uses, and runs it. When that JDK is older than 22 and a JDK 22+ is found
# (JDK22_HOME, else the newest under /usr/lib/jvm), the jar is rebuilt with it (adding the Arena
# benchmark, compiled with --release 22) and every benchmark runs a second time on it. Results:
# bench/target/jmh/jdk<N>.json (JMH's -rf json), jdk<N>.log (JMH's output) and summary.md, the
# table printed at the end: ns/op per thread and the ratio to Unsafe.allocateMemory of the same
# size, threads and run. Set NO_JDK22=1 to skip the second JDK. Maven is called as plain `mvn`:
# MAVEN_OPTS (e.g. -Dmaven.repo.local=<dir>) applies to every build, as to any other.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

quick=0
jmh_extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) quick=1; shift ;;
        --) shift; jmh_extra=("$@"); break ;;
        -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [[ $quick == 1 ]]; then
    jmh_opts=(-f 1 -wi 2 -w 500ms -i 3 -r 500ms)
else
    jmh_opts=(-f 2 -wi 5 -w 1s -i 5 -r 1s)
fi

jar=bench/target/benchmarks.jar
out=bench/target/jmh
start=$SECONDS

major() { # java.specification.version of a java binary: 17, 25, ... (1.8 -> 1)
    local settings
    settings=$("$1" -XshowSettings:properties -version 2>&1)
    awk -F'= ' '/java.specification.version/ { split($2, v, "."); print v[1]; exit }' <<<"$settings"
}

quiet_unsafe() { # JDK 23+ warns about sun.misc.Unsafe memory access (JEP 471) unless allowed
    if [[ $(major "$1") -ge 23 ]]; then echo "--sun-misc-unsafe-memory-access=allow"; fi
}

mvn_on() { # $1 = JAVA_HOME for Maven ("" = Maven's default), further args to mvn
    local home=$1; shift
    if [[ -n $home ]]; then
        JAVA_HOME=$home MAVEN_OPTS="${MAVEN_OPTS:-} $(quiet_unsafe "$home/bin/java")" mvn -B -q -ntp "$@"
    else
        mvn -B -q -ntp "$@"
    fi
}

build() { # $1 = JAVA_HOME for Maven ("" = Maven's default)
    # no stale entries in META-INF/BenchmarkList from another JDK's build
    rm -rf bench/target/classes bench/target/generated-sources
    echo "== build: mvn -f bench/pom.xml package (JDK ${1:-default})"
    mvn_on "$1" -f bench/pom.xml -Dnalloc.version="$version" package
}

fork_flags() { # JVM flags of the benchmark forks: the default flags a user gives (README), plus
    # quiet Unsafe for the baseline row. JDK 24+ warns when JavaCPP's Loader calls
    # System.loadLibrary (JEP 472) and JDK 22+ when nalloc's FFM code calls a restricted method,
    # unless native access is enabled.
    local n; n=$(major "$1")
    if [[ $n -ge 23 ]]; then
        echo "--sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED"
    elif [[ $n -ge 22 ]]; then echo "--enable-native-access=ALL-UNNAMED"; fi
}

run() { # $1 = java binary; JMH results -> $out/jdk<N>.{json,log}
    local java=$1 n flag forks
    n=$(major "$java")
    flag=$(quiet_unsafe "$java")
    forks=$(fork_flags "$java")
    local args=("${jmh_opts[@]}" -rf json -rff "$out/jdk$n.json")
    [[ -n $forks ]] && args+=(-jvmArgsPrepend "$forks")
    echo "== JMH on JDK $n ($java): ${jmh_opts[*]} ${jmh_extra[*]:-}"
    # JMH's full output goes to the log; the terminal gets one progress line per benchmark.
    $java $flag -jar "$jar" "${args[@]}" "${jmh_extra[@]}" 2>&1 | tee "$out/jdk$n.log" |
        awk '/^# Benchmark:/ { b = $3; q = ""; sub(/^dev\.nalloc\.bench\./, "", b) }
             /^# Parameters:/ { q = $3 " " $4 " " $5 }
             /^# Run progress:/ { print "  [" $4 " " $5 " " $6 " " $7 "] " b " " q; fflush() }
             /<failure>|Exception|^ERROR/ { print; fflush() }'
    if grep -q '<failure>' "$out/jdk$n.log"; then
        echo "some benchmarks failed on JDK $n, see $out/jdk$n.log" >&2
        failed=1
    fi
    summary_args+=("JDK $n=$out/jdk$n.json")
}

version=$(nalloc_version)
java0=${JAVA_HOME:+$JAVA_HOME/bin/}java
n0=$(major "$java0")

# The bench project depends on the nalloc artifacts (main jar + this platform's classifier
# jar) from the local Maven repository, so the root project is installed first.
echo "== install: mvn -DskipTests install (nalloc $version)"
mvn_on "" -DskipTests install

failed=0
summary_args=()
mkdir -p "$out"
build ""
run "$java0"

if [[ $n0 -lt 22 && -z ${NO_JDK22:-} ]]; then
    jdk22=$(find_jdk22)
    if [[ -n $jdk22 ]]; then
        build "$jdk22"
        run "$jdk22/bin/java"
    else
        echo "== no JDK 22+ found (set JDK22_HOME): the Arena benchmark is skipped"
    fi
fi

echo
$java0 -cp "$jar" dev.nalloc.bench.Summary "${summary_args[@]}" | tee "$out/summary.md"
echo
echo "results in $out/ ($(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s)"
exit $failed
