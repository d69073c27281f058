#!/usr/bin/env bash
# Prints the home directory of the newest JDK on this machine whose feature version is >= $1
# (default 25), or exits 1 with a message. Looks at $JAVA_HOME, `java` on PATH, /usr/lib/jvm/*,
# /usr/java/*, /opt/*, /usr/local/*, ~/.sdkman/candidates/java/*, ~/.jdks/*. Source-free: no
# machine path is hard-coded beyond these conventional locations.
#   JAVA25=$(bench/find_jdk.sh 25)/bin/java
set -u
MIN=${1:-25}

feature_version() {  # $1 = JDK home -> feature version number, or nothing
  local home=$1 v=""
  [[ -x $home/bin/java ]] || return 0
  if [[ -f $home/release ]]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$home/release")
  fi
  if [[ -z $v ]]; then
    v=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\).*/\1/p' | head -1)
  fi
  [[ $v == 1 ]] && v=8
  echo "$v"
}

cands=()
[[ -n ${JAVA_HOME:-} ]] && cands+=("$JAVA_HOME")
if command -v java >/dev/null 2>&1; then
  j=$(readlink -f "$(command -v java)"); cands+=("$(dirname "$(dirname "$j")")")
fi
for d in /usr/lib/jvm/* /usr/java/* /opt/* /usr/local/* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
  [[ -d $d && -x $d/bin/java && -x $d/bin/javac ]] && cands+=("$d")
done

best="" bestv=0
for h in "${cands[@]}"; do
  h=$(readlink -f "$h")
  v=$(feature_version "$h")
  [[ -n $v ]] || continue
  if (( v >= MIN && v > bestv )); then best=$h; bestv=$v; fi
done
if [[ -z $best ]]; then
  echo "find_jdk.sh: no JDK >= $MIN found (set JAVA_HOME, or install one under /usr/lib/jvm)" >&2
  exit 1
fi
echo "$best"
