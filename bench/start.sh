#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Start-up time and memory of the daemon by number of installed licenses (a
# measurement, not a test). For each N in BENCH_LICENSES (default
# 1,10000,100000) it makes N licenses once, then for each build directory
# given starts a licensed from that build twice on a private bus, on its own
# copy of the state (the first start finds no verified.cache, the second
# does), and prints, per build and N:
#
#   build=DIR n=N start_ms_first=... start_ms=... rss_kib=...
#
# start_ms is the second start (the time until the daemon owns its bus name,
# from bench-client spawn); rss_kib its VmRSS once the snapshot is written.
# Giving two builds (the base commit's and this tree's) measures them side by
# side in one run:
#
#   bench/start.sh build-rel /tmp/base/build-rel
#
# Every process it starts is stopped by its PID at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
[ $# -ge 1 ] || set -- build
IFS=, read -r -a sizes <<<"${BENCH_LICENSES:-1,10000,100000}"
work=$(mktemp -d /tmp/licensed-start.XXXXXX)
pids=()

cleanup() {
        local p
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        rm -rf "$work"
}
trap cleanup EXIT

say() { printf '%s\n' "$*" >&2; }
value() { sed -n "s/^$1=//p" "$2" | head -1; }

builds=()
for b in "$@"; do
        [[ $b == /* ]] || b=$top/$b
        ninja -C "$b" bench/bench-client bench/make-licenses daemon/licensed >/dev/null
        builds+=("$b")
done

dbus-daemon --config-file="$top/tests/integration/data/bus.conf" --print-address=1 --print-pid=1 --fork \
        >"$work/bus" 2>/dev/null
pids+=("$(sed -n 2p "$work/bus")")
bus=$(sed -n 1p "$work/bus")

start_once() { # BUILD DIR OUT: starts, waits for the snapshot, prints pid in OUT
        local b=$1 d=$2 out=$3 waiter
        "$b/bench/bench-client" spawn "$bus" "$d/licensed.log" -- "$b/daemon/licensed" --bus-address="$bus" \
                --state-dir="$d/state" --runtime-dir="$d/run" --products-dir="$d/products" \
                --config="$d/licensed.conf" >"$out" &
        waiter=$!
        for _ in $(seq 3000); do
                grep -q '^start_ms=' "$out" && break
                kill -0 "$waiter" 2>/dev/null || { say "licensed did not start:"; cat "$d/licensed.log" >&2; exit 1; }
                sleep 0.05
        done
        for _ in $(seq 3000); do [ -f "$d/run/snapshot" ] && break; sleep 0.05; done
        sleep 0.5 # let the first announcements settle before reading VmRSS
        awk '/^VmRSS:/ {print $2}' "/proc/$(value pid "$out")/status" >"$out.rss"
        kill "$(value pid "$out")"
        wait "$waiter" || true
        rm -f "$d/run/snapshot"
}

for n in "${sizes[@]}"; do
        say "Making $n licenses"
        "${builds[0]}/bench/make-licenses" "$work/src-$n" "$n" >/dev/null
        for b in "${builds[@]}"; do
                d=$work/run-$n
                rm -rf "$d"
                cp -a "$work/src-$n" "$d"
                start_once "$b" "$d" "$work/first"
                start_once "$b" "$d" "$work/second"
                printf 'build=%s n=%s start_ms_first=%s start_ms=%s rss_kib=%s\n' "$b" "$n" \
                        "$(value start_ms "$work/first")" "$(value start_ms "$work/second")" "$(cat "$work/second.rss")"
        done
        rm -rf "$work/src-$n" "$work/run-$n"
done
