# Shared by the scripts (sourced, from the repository root): the project version and the
# JDK 22+ that builds and tests the FFM adapter.

# The project version, read from the root pom.xml: the <version> that follows the project's own
# <artifactId>nalloc</artifactId>. A text read rather than `mvn help:evaluate`, which takes
# seconds per call and needs a plugin resolved; the root pom has no <parent>, so the project's
# version is the first <version> after that artifactId.
nalloc_version() {
  local v
  v=$(awk '/<artifactId>nalloc<\/artifactId>/ { seen = 1 }
           seen && match($0, /<version>[^<]*<\/version>/) { print substr($0, RSTART + 9, RLENGTH - 19); exit }' pom.xml)
  if [ -z "$v" ]; then echo "no project version found in pom.xml" >&2; return 1; fi
  echo "$v"
}

# The JDK 22+ for the FFM adapter: $JDK22_HOME if set, else the newest JDK 22+ under
# /usr/lib/jvm (by the JAVA_VERSION of its release file); empty if there is none.
find_jdk22() {
  if [ -n "${JDK22_HOME:-}" ]; then echo "$JDK22_HOME"; return; fi
  local home n best=0 found=
  for home in /usr/lib/jvm/*/; do
    home=${home%/}
    [ -x "$home/bin/javac" ] && [ -r "$home/release" ] || continue
    n=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
    if [ -n "$n" ] && [ "$n" -ge 22 ] && [ "$n" -gt "$best" ]; then best=$n; found=$home; fi
  done
  echo "$found"
}

# This machine's platform in JavaCPP's spelling (linux-x86_64, linux-arm64, macosx-arm64, ...),
# the classifier of the platform jar a local build makes and the JVM here can load. Other
# platforms' jars may sit beside it in target/ after scripts/build-platforms.sh.
host_platform() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=macosx ;;
    MINGW* | MSYS* | CYGWIN*) os=windows ;;
    *) echo "unknown OS: $(uname -s)" >&2; return 1 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "unknown architecture: $(uname -m)" >&2; return 1 ;;
  esac
  echo "$os-$arch"
}
