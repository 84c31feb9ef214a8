#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Proves that scripts/install-deps.sh installs everything the build used, without trusting this
# machine's history: every system file a build touched — headers (the compiler's .d files), shared
# libraries the built programs load (ldd), programs and files CMake found (CMakeCache.txt) — is
# mapped to its Debian package, and each package must be one install-deps.sh names, one of their
# dependencies, or part of the base system (Priority required/important, or Essential).
# Usage: scripts/check-deps.sh BUILD_DIR... (after building). Exit 1 names each missing package.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { echo "usage: $0 BUILD_DIR..." >&2; exit 2; }

# The packages install-deps.sh installs: its list, plus the extras scripts/ pass to it.
mapfile -t listed < <(
  { sed -n '/^packages=(/,/)/p' scripts/install-deps.sh | tr -d '()"' | sed 's/packages=//; s/\$@//'
    grep -ho 'install-deps.sh [a-z0-9.+ -]*' scripts/*.sh | sed 's/install-deps.sh//'; } |
    tr ' ' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | sort -u)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. Files the builds used.
for b in "$@"; do
  [ -d "$b" ] || { echo "check-deps: no build folder $b" >&2; exit 2; }
  find "$b" -name '*.o.d' -print0 | xargs -0 -r cat | tr ' \\' '\n\n' | sed 's/:$//' |
    grep -E '^/(usr|lib|etc)/' || true
  find "$b" -type f -perm -u+x -print0 |
    while IFS= read -r -d '' exe; do
      [ "$(head -c4 "$exe" | tr -d '\177')" = ELF ] || continue
      ldd "$exe" 2>/dev/null | awk '/=> \// {print $3}'
    done
  [ -f "$b/CMakeCache.txt" ] &&
    grep -oE '=/(usr|lib)/[^;[:space:]]+' "$b/CMakeCache.txt" | sed 's/^=//' || true
done | sort -u > "$tmp/files"

# 2. Their packages, from dpkg's own file lists (one pass instead of a dpkg -S per file). Each
# file is looked up as written and resolved (/usr/lib/.../libopenblas.so is an alternatives
# link; /lib is /usr/lib and /usr/bin is /bin on a merged-/usr system); folders are skipped, since dpkg lists every
# package that put a file in /usr/lib as an owner of that folder.
while read -r f; do
  [ -f "$f" ] || continue
  real=$(readlink -f "$f")
  for p in "$f" "$real" "${f/#\/lib\//\/usr\/lib\/}" "${real/#\/lib\//\/usr\/lib\/}" "${f#/usr}" \
           "${real#/usr}"; do
    printf '%s\t%s\n' "$f" "$p"
  done
done < "$tmp/files" > "$tmp/lookups"
for l in /var/lib/dpkg/info/*.list; do
  pkg=${l##*/}
  pkg=${pkg%.list}
  sed "s|\$|\t${pkg%%:*}|" "$l"
done > "$tmp/dpkg-files"
awk -F'\t' 'NR == FNR {owner[$1] = $2; next} ($2 in owner) && !seen[$1]++ {print owner[$2] " " $1}' \
  "$tmp/dpkg-files" "$tmp/lookups" | sort -u > "$tmp/owners"
cut -d' ' -f1 "$tmp/owners" | sort -u > "$tmp/used"

# 3. What install-deps.sh brings in, and the base system.
apt-cache depends --recurse --installed --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances "${listed[@]}" 2>/dev/null |
  sed -n 's/^ *\(Pre\)\{0,1\}Depends: <\{0,1\}\([^ >]*\)>\{0,1\}.*/\2/p; s/^\([a-z0-9][^ ]*\)$/\1/p' |
  sed 's/:.*//' | sort -u > "$tmp/closure"
printf '%s\n' "${listed[@]}" >> "$tmp/closure"
dpkg-query -W -f='${Package} ${Priority} ${Essential}\n' |
  awk '$2 == "required" || $2 == "important" || $3 == "yes" {print $1}' >> "$tmp/closure"
sort -u -o "$tmp/closure" "$tmp/closure"

missing=$(comm -23 "$tmp/used" "$tmp/closure")
unowned=$(cut -d' ' -f2 "$tmp/owners" | sort -u | comm -13 - <(grep -v '^/etc/' "$tmp/files" | while read -r f; do [ -f "$f" ] && echo "$f"; done | sort -u))
if [ -n "$unowned" ]; then
  echo "check-deps: $(echo "$unowned" | wc -l) files the build used belong to no Debian package:" >&2
  echo "$unowned" | head -5 | sed 's/^/  /' >&2
  if echo "$unowned" | grep -q '^/usr/local/'; then
    echo "check-deps: the build used software installed by hand under /usr/local" >&2
    exit 1
  fi
fi
echo "check-deps: $(wc -l < "$tmp/files") system files from $(wc -l < "$tmp/used") packages; install-deps.sh names ${#listed[@]} packages"
if [ -n "$missing" ]; then
  echo "check-deps: these packages were used by the build but scripts/install-deps.sh does not install them:" >&2
  for p in $missing; do
    echo "  $p (e.g. $(awk -v p="$p" '$1 == p {print $2; exit}' "$tmp/owners"))" >&2
  done
  exit 1
fi
echo "check-deps: every package the build used is installed by scripts/install-deps.sh"
