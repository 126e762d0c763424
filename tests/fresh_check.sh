#!/bin/sh
# fresh_check.sh - the README's two commands on a fresh Debian 12, as a new user runs them:
# debootstrap a minbase bookworm root into a folder, add only git, ca-certificates and
# make, clone this repository (its committed HEAD) into it with git, then run `make demo`
# and `make check` there, as the root user of that system (in a mount namespace of its
# own pivoted to the folder; see in_root).  `make fresh-check` runs it.
#
#   tests/fresh_check.sh [FOLDER]     default FOLDER: build/fresh (removed first)
#
# Needs root, debootstrap, unshare (util-linux) and the network (it downloads several
# hundred MB of packages, python3-torch the largest, and takes 10-20 minutes).  /proc,
# /sys, /dev (with /dev/shm and /dev/pts) are mounted into the root while it runs and
# unmounted on exit, even on failure or Ctrl-C.  Environment: MIRROR (default
# http://deb.debian.org/debian), KEEP=1 keeps FOLDER afterwards.  Exit status: that of
# the first failing step, 0 when both commands pass.
set -eu
MIRROR=${MIRROR:-http://deb.debian.org/debian}
top=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-$top/build/fresh}

[ "$(id -u)" = 0 ] || { echo "fresh_check.sh: needs root (debootstrap, mount, pivot_root)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "fresh_check.sh: needs debootstrap" >&2; exit 2; }

mounted=""
cleanup() {
	status=$?
	for m in $mounted; do umount -l "$root/$m" 2>/dev/null || true; done
	if [ "${KEEP:-0}" != 1 ] && [ -d "$root" ] && ! grep -q " $root/" /proc/mounts; then
		rm -rf "$root"
	fi
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

step() { echo "== fresh-check: $*"; }

# A root left by an earlier run (its mounts gone: we check) is replaced.
if grep -q " $root/" /proc/mounts; then
	echo "fresh_check.sh: something is still mounted under $root; unmount it first" >&2
	exit 2
fi
rm -rf "$root"
mkdir -p "$root"

step "debootstrap --variant=minbase bookworm $root"
debootstrap --variant=minbase --include=git,ca-certificates,make bookworm "$root" "$MIRROR" \
	>"$root.debootstrap.log" 2>&1 || { tail -n 20 "$root.debootstrap.log"; exit 1; }
rm -f "$root.debootstrap.log"
cp /etc/resolv.conf "$root/etc/resolv.conf"

mount -t proc proc "$root/proc" && mounted="proc $mounted"
mount -t sysfs sysfs "$root/sys" && mounted="sys $mounted"
mount --bind /dev "$root/dev" && mounted="dev $mounted"
mount -t tmpfs tmpfs "$root/dev/shm" && mounted="dev/shm $mounted"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts" && mounted="dev/pts $mounted"

# The committed HEAD, through a bundle: the clone is made by the root's own git.
step "git clone (HEAD $(git -C "$top" rev-parse --short HEAD))"
git -C "$top" bundle create "$root/tmp/gradcheck.bundle" HEAD >/dev/null 2>&1
# Runs $1 in the root as its root user.  Not chroot: inside a chroot the kernel refuses
# new user namespaces, so bubblewrap (the sandbox of --sandbox and grade) could not run.
# Instead a mount namespace of its own whose root is pivoted to the folder, as a
# container or a real machine has it.
in_root() {
	unshare --mount --propagation private /bin/sh -c '
		mount --rbind "$1" "$1" && cd "$1" && pivot_root . mnt && umount -l /mnt && cd / &&
		exec /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			LANG=C.UTF-8 /bin/sh -c "$2"' in_root "$root" "$1"
}
in_root 'git -c advice.detachedHead=false clone -q /tmp/gradcheck.bundle /root/gradcheck && cd /root/gradcheck && git log --oneline -1'

step "make demo"
in_root 'cd /root/gradcheck && make demo'
step "make check"
in_root 'cd /root/gradcheck && make check'
step "both commands passed on a fresh Debian $(cat "$root/etc/debian_version")"
