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
