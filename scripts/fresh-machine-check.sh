#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Proves the README's commands work on a machine with only Debian bookworm's base system and git:
# a minbase chroot (debootstrap) gets a clone of this repository, runs scripts/install-deps.sh,
# and then configures and builds pare with every optional part on, and scripts/check-deps.sh
# checks the packages that build used. With --full it runs both README commands there instead
# (the whole test suite: about as long as CI).
#
# Needs root (debootstrap, chroot, mounts) and the Debian mirror. The pristine base system is
# cached as a tarball in $PARE_FRESH_CACHE (default /var/cache/pare-fresh), and so are the .deb
# files apt downloads; neither changes what gets installed: each run starts from the bare base.
# Usage: scripts/fresh-machine-check.sh [--full]
set -euo pipefail
cd "$(dirname "$0")/.."
full=0
[ "${1:-}" = --full ] && full=1
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
if [ "$full" = 1 ]; then
  readme=$(awk '/^```sh$/{b=1; next} /^```$/{if(b) exit} b' README.md | sed 's/ *#.*//')
  echo "== fresh: the README's commands =="
  echo "$readme"
  in_root "set -e; $(echo "$readme" | paste -sd';')"
else
  echo "== fresh: install-deps.sh, configure everything, build the library and one test =="
  in_root "scripts/install-deps.sh && \
    cmake -S . -B build/fresh -DCMAKE_BUILD_TYPE=Release -DPARE_BUILD_TESTS=ON \
      -DPARE_BUILD_BENCHMARKS=ON -DPARE_BUILD_EXAMPLES=ON -DPARE_BUILD_COMPILED=ON && \
    cmake --build build/fresh -j$(nproc) --target pare_compiled pare_simd_tests pare_gemm_int8_bench pare_cli && \
    scripts/check-deps.sh build/fresh"
fi
echo "== fresh: passed after $((SECONDS - start)) s =="
