#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Proves the README's commands work on a machine with only Debian bookworm's base system and git:
# a minbase chroot (debootstrap) gets a clone of this repository (its last commit) and runs
# scripts/install-deps.sh, then
#   (default)  configures pare with every optional part on (tests, benchmarks and their peers,
#              examples, HDF5, pare::compiled) — what CI runs (.ci/run), a few minutes;
#   --build    also builds the library, a test, a benchmark with every peer and the CLI, and runs
#              scripts/check-deps.sh on that build;
#   --full     runs both README commands there instead (the whole test suite: as long as CI).
#
# Needs root (debootstrap, chroot, mounts) and the Debian mirror. The pristine base system is
# cached as a tarball in $PARE_FRESH_CACHE (default /var/cache/pare-fresh), and so are the .deb
# files apt downloads; neither changes what gets installed: each run starts from the bare base.
# Usage: scripts/fresh-machine-check.sh [--build | --full]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-configure}
[ "$(id -u)" -eq 0 ] || { echo "fresh-machine-check: needs root (debootstrap, chroot)" >&2; exit 2; }
cache=${PARE_FRESH_CACHE:-/var/cache/pare-fresh}
mirror=${PARE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$cache/archives/partial"
scripts/install-deps.sh debootstrap

base="$cache/bookworm-minbase-git.tar"
if [ ! -f "$base" ]; then
  echo "== fresh: debootstrap bookworm minbase (cached for later runs) =="
  stage=$(mktemp -d /var/tmp/pare-debootstrap.XXXXXX)
  debootstrap --variant=minbase --include=git,ca-certificates bookworm "$stage" "$mirror" >/dev/null
  tar -C "$stage" -cf "$base.tmp" . && mv "$base.tmp" "$base"
  rm -rf "$stage"
fi

root=$(mktemp -d /var/tmp/pare-fresh.XXXXXX)
cleanup() {
  for m in var/cache/apt/archives dev/pts dev proc sys; do
    mountpoint -q "$root/$m" && umount -l "$root/$m"
  done
  rm -rf "$root"
}
trap cleanup EXIT
tar -C "$root" -xf "$base"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount --bind "$cache/archives" "$root/var/cache/apt/archives"
cp /etc/resolv.conf "$root/etc/resolv.conf"
git clone -q . "$root/pare"

in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 bash -c "cd /pare && $1"; }
start=$SECONDS
configure="scripts/install-deps.sh && cmake -S . -B build/fresh -DCMAKE_BUILD_TYPE=Release \
  -DPARE_BUILD_TESTS=ON -DPARE_BUILD_BENCHMARKS=ON -DPARE_BUILD_EXAMPLES=ON \
  -DPARE_BUILD_COMPILED=ON -DPARE_WITH_HDF5=ON"
case "$mode" in
  configure)
    echo "== fresh: install-deps.sh, then configure with every optional part on =="
    in_root "$configure" | tee "$root/configure.log"
    # Optional parts are skipped with a status line when missing: here, none may be.
    if grep -E "^-- pare: .*(not found|skipped|not registered|not built)" "$root/configure.log"; then
      echo "fresh-machine-check: install-deps.sh left the optional parts above without their packages" >&2
      exit 1
    fi
    ;;
  --build)
    echo "== fresh: install-deps.sh, configure everything, build the library, a test, a benchmark, the CLI =="
    in_root "$configure && cmake --build build/fresh -j$(nproc) --target pare_compiled \
      pare_simd_tests pare_gemm_int8_bench pare_cli && scripts/check-deps.sh build/fresh"
    ;;
  --full)
    readme=$(awk '/^```sh$/{b=1; next} /^```$/{if(b) exit} b' README.md | sed 's/ *#.*//')
    echo "== fresh: the README's commands =="
    echo "$readme"
    in_root "set -e; $(echo "$readme" | paste -sd';')"
    ;;
  *)
    echo "usage: $0 [--build | --full]" >&2
    exit 2
    ;;
esac
echo "== fresh: passed after $((SECONDS - start)) s =="
