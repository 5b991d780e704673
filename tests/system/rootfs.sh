#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds, once per machine, the Debian 12 root file system that the system
# test tier boots with systemd-nspawn, and prints its path.
#
#   tests/system/rootfs.sh          build if missing, print the path
#   tests/system/rootfs.sh --path   print the path it would have, build nothing
#
# The cache lives outside the work tree, in $LICENSED_ROOTFS_CACHE
# (default /var/cache/licensed-test), named after a hash of this script, so a
# change of the recipe builds a new one. A lock keeps two runs from building at
# once; the build goes into NAME.tmp and is renamed when complete, so a
# half-built tree is never used. Needs root, debootstrap and Debian's archive.
set -euo pipefail

SUITE=bookworm
# debootstrap installs these; polkitd fails to configure inside debootstrap.
INCLUDE=systemd,systemd-sysv,dbus
# Installed afterwards in a chroot: polkit (bus-activated, as on a real
# system), the libraries the project's programs link against, libfaketime for
# time travel in a drop-in, and a few tools the tests use inside.
PACKAGES=(
        polkitd
        libsystemd0 libssl3 libconfig9 libjson-c5 libcurl4 libmicrohttpd12 libsqlite3-0 libqrencode4 libpam0g
        libpq5
        libfaketime faketime
        procps
        # what an administrator's shell has: completion of licensectl is tested
        bash-completion
)

cache=${LICENSED_ROOTFS_CACHE:-/var/cache/licensed-test}
self=$(readlink -f "$0")
hash=$(sha256sum "$self" | cut -c1-12)
rootfs=$cache/rootfs-$hash

if [ "${1:-}" = --path ]; then
        echo "$rootfs"
        exit 0
fi
[ -f "$rootfs/.complete" ] && { echo "$rootfs"; exit 0; }

[ "$(id -u)" -eq 0 ] || { echo "rootfs.sh: needs root" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "rootfs.sh: debootstrap is not installed" >&2; exit 1; }

# The Debian archive the host's apt uses: the only one reachable.
mirror() {
        local f url
        for f in /etc/apt/sources.list.d/*.sources; do
                [ -f "$f" ] || continue
                # deb822: the URIs of a stanza whose Suites has SUITE and whose Types has deb
                url=$(awk -v suite="$SUITE" '
                        BEGIN { RS = ""; FS = "\n" }
                        {
                                uris = ""; ok_suite = 0; ok_type = 0
                                for (i = 1; i <= NF; i++) {
                                        if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); uris = $i }
                                        if ($i ~ /^Suites:/ && (" " $i " ") ~ (" " suite " ")) ok_suite = 1
                                        if ($i ~ /^Types:/ && (" " $i " ") ~ / deb /) ok_type = 1
                                }
                                if (ok_suite && ok_type && uris != "") { split(uris, u, " "); print u[1]; exit }
                        }' "$f")
                [ -n "$url" ] && { echo "$url"; return; }
        done
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
                [ -f "$f" ] || continue
                # one-line: deb [options] URL SUITE COMPONENTS...
                url=$(awk -v suite="$SUITE" '
                        $1 == "deb" {
                                for (i = 2; i < NF; i++)
                                        if ($i !~ /^\[/ && $(i + 1) == suite) { print $i; exit }
                        }' "$f")
                [ -n "$url" ] && { echo "$url"; return; }
        done
        echo http://deb.debian.org/debian
}

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
# Someone else may have built it while we waited for the lock.
[ -f "$rootfs/.complete" ] && { echo "$rootfs"; exit 0; }

tmp=$rootfs.tmp
mounted=()
cleanup() {
        local i
        for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
                umount -l "${mounted[i]}" 2>/dev/null || true
        done
        mounted=()
}
trap cleanup EXIT
bind() { # for the chroot: /proc, /sys, /dev
        mount --bind "/$1" "$tmp/$1" && mounted+=("$tmp/$1")
}

start=$SECONDS
# A run killed mid-build may have left its mounts: never delete through them.
{ findmnt -rn -o TARGET | grep -F "$tmp/" || true; } | sort -r | xargs -r -n1 umount -l
rm -rf --one-file-system "$tmp"
url=$(mirror)
echo "rootfs.sh: building $rootfs from $url (a few minutes, once per machine)" >&2
debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$tmp" "$url" >"$cache/debootstrap.log" 2>&1 || {
        tail -30 "$cache/debootstrap.log" >&2
        exit 1
}

bind proc
bind sys
bind dev
# No service starts in the chroot.
printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
chmod 755 "$tmp/usr/sbin/policy-rc.d"
chroot "$tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >"$cache/apt.log" 2>&1 || {
        tail -30 "$cache/apt.log" >&2
        exit 1
}
chroot "$tmp" apt-get clean
rm -f "$tmp/usr/sbin/policy-rc.d"
cleanup

# Booted as a container: an empty machine-id is filled at boot; nothing
# reaches for the network (the container has only loopback); no getty.
: >"$tmp/etc/machine-id"
echo licensed-test >"$tmp/etc/hostname"
for unit in apt-daily.timer apt-daily-upgrade.timer console-getty.service getty@.service \
        systemd-networkd.service systemd-networkd.socket systemd-resolved.service systemd-timesyncd.service; do
        ln -sf /dev/null "$tmp/etc/systemd/system/$unit"
done
touch "$tmp/.complete"
mv "$tmp" "$rootfs"
# Older recipes' trees, unless a running test still has one under its overlay.
for old in "$cache"/rootfs-*; do
        [ "$old" = "$rootfs" ] && continue
        grep -qF "lowerdir=${old}," /proc/self/mountinfo || grep -qF "lowerdir=${old}:" /proc/self/mountinfo ||
                rm -rf --one-file-system "$old"
done
echo "rootfs.sh: built in $((SECONDS - start)) s" >&2
echo "$rootfs"
