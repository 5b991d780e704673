#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The benchmark (a measurement, not a test): builds what it needs in the
# build directory ($1, default "build"), starts two private buses, each with
# a licensed from that build (one with 1 installed license, one with
# BENCH_LICENSES, default 10,000), measures, and prints one table.
# Method and results: docs/performance.md. Takes about a minute.
#
#   bench/run.sh [BUILDDIR]
#
# Every process it starts is stopped by its PID at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
build=${1:-build}
[[ $build == /* ]] || build=$top/$build
n_many=${BENCH_LICENSES:-10000}
secs=${BENCH_SECONDS:-1}   # per measurement round
rounds=${BENCH_ROUNDS:-5}  # CheckFeature/Ping rounds, alternating
calls=${BENCH_CALLS:-20000} # latency samples per daemon

say() { printf '%s\n' "$*" >&2; }

if [ ! -f "$build/build.ninja" ]; then
        say "Setting up $build"
        meson setup "$build" >/dev/null
fi
if ! grep -q 'bench/bench-client' "$build/build.ninja"; then
        say "$build has no bench/ targets: the top-level meson.build needs subdir('bench')"
        exit 1
fi
say "Building in $build"
ninja -C "$build" bench/bench-client bench/make-licenses daemon/licensed >/dev/null

client=$build/bench/bench-client
licensed=$build/daemon/licensed
work=$(mktemp -d /tmp/licensed-bench.XXXXXX)
pids=() # dbus-daemons and licensed, stopped at exit
waiters=()

cleanup() {
        local p
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        for p in "${waiters[@]}"; do wait "$p" 2>/dev/null || true; done
        rm -rf "$work"
}
trap cleanup EXIT

value() { # KEY FILE
        sed -n "s/^$1=//p" "$2" | head -1
}

start_bus() { # NAME: sets bus_<NAME>
        dbus-daemon --config-file="$top/tests/integration/data/bus.conf" --print-address=1 --print-pid=1 \
                --fork >"$work/$1.bus" 2>/dev/null
        pids+=("$(sed -n 2p "$work/$1.bus")")
        printf -v "bus_$1" '%s' "$(sed -n 1p "$work/$1.bus")"
}

start_daemon() { # NAME ADDRESS: licensed on DIR=$work/NAME; sets pid_<NAME>, start_<NAME>
        local d=$work/$1 out=$work/$1.spawn
        "$client" spawn "$2" "$d/licensed.log" -- "$licensed" --bus-address="$2" --state-dir="$d/state" \
                --runtime-dir="$d/run" --products-dir="$d/products" --config="$d/licensed.conf" >"$out" &
        waiters+=($!)
        for _ in $(seq 600); do
                grep -q '^start_ms=' "$out" && break
                kill -0 "${waiters[-1]}" 2>/dev/null || { say "licensed ($1) did not start:"; cat "$d/licensed.log" >&2; exit 1; }
                sleep 0.1
        done
        pids+=("$(value pid "$out")")
        printf -v "pid_$1" '%s' "$(value pid "$out")"
        printf -v "start_$1" '%s' "$(value start_ms "$out")"
        for _ in $(seq 100); do [ -f "$d/run/snapshot" ] && break; sleep 0.1; done
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

load=$(cut -d' ' -f1-3 /proc/loadavg)
say "Generating 1 and $n_many licenses"
"$build/bench/make-licenses" "$work/one" 1 >"$work/make-one"
"$build/bench/make-licenses" "$work/many" "$n_many" >"$work/make-many"
first_one=$(value first "$work/make-one")
gen_ms=$(value elapsed_ms "$work/make-many")

say "Starting two buses and two daemons"
start_bus one
start_bus many
start_daemon one "$bus_one"
start_daemon many "$bus_many"
rss_start_one=$(rss_kib "$pid_one")
rss_start_many=$(rss_kib "$pid_many")

P=com.example.bench F=reports

say "Fast path (liblicensed, snapshot)"
LICENSED_SNAPSHOT=$work/one/run/snapshot "$client" fastpath $P $F 2 >"$work/fast-one"
LICENSED_SNAPSHOT=$work/many/run/snapshot "$client" fastpath $P $F 2 >"$work/fast-many"

say "D-Bus CheckFeature vs Peer.Ping, interleaved, $rounds rounds of ${secs}s"
"$client" dbus "$bus_one" $P $F "$rounds" "$secs" >"$work/dbus-one"
"$client" dbus "$bus_many" $P $F "$rounds" "$secs" >"$work/dbus-many"

say "liblicensed's D-Bus path (a private connection per check)"
LICENSED_BUS_ADDRESS=$bus_one LICENSED_SNAPSHOT= "$client" library $P $F 2 >"$work/library-one"

say "Naive check: verify the signed license on every check"
"$client" verify "$work/one/products" "$first_one" $F 2 >"$work/verify"

say "CheckFeature latency, 1 vs $n_many licenses, $calls calls each"
"$client" latency "$bus_one" "$bus_many" $P $F "$calls" >"$work/latency"

rss_one=$(rss_kib "$pid_one")
rss_many=$(rss_kib "$pid_many")

# The table --------------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
buildtype=$(python3 -c 'import json, sys
opts = json.load(open(sys.argv[1]))
v = {o["name"]: o["value"] for o in opts}
print(v["buildtype"] + (", sanitize=" + ",".join(v["b_sanitize"]) if v.get("b_sanitize") not in (None, "none", []) else ""))' \
        "$build/meson-info/intro-buildoptions.json" 2>/dev/null || echo "?")
fmt_rate() { awk -v r="$1" 'BEGIN { if (r >= 1e6) printf "%.2f M/s", r / 1e6; else if (r >= 1e4) printf "%.1f k/s", r / 1e3; else printf "%.0f /s", r }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { x = a / b; if (x >= 100) printf "%.0fx", x; else printf "%.2fx", x }'; }
met() { # VALUE OP TARGET
        awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "yes" : "**no**" }'
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

fast_one=$(value rate "$work/fast-one") fast_many=$(value rate "$work/fast-many")
check_one=$(value check_rate "$work/dbus-one") ping_one=$(value ping_rate "$work/dbus-one")
check_many=$(value check_rate "$work/dbus-many") ping_many=$(value ping_rate "$work/dbus-many")
lib_one=$(value rate "$work/library-one") verify=$(value rate "$work/verify")
med_one=$(value a_median_us "$work/latency") p99_one=$(value a_p99_us "$work/latency")
med_many=$(value b_median_us "$work/latency") p99_many=$(value b_p99_us "$work/latency")
fast_vs_dbus=$(awk -v a="$fast_one" -v b="$check_one" 'BEGIN { print a / b }')
check_vs_ping=$(awk -v a="$check_one" -v b="$ping_one" 'BEGIN { print a / b }')
check_vs_ping_many=$(awk -v a="$check_many" -v b="$ping_many" 'BEGIN { print a / b }')
lat_ratio=$(awk -v a="$med_many" -v b="$med_one" 'BEGIN { print a / b }')

cat <<EOF

licensed benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ): $cpu, $(nproc) CPUs, Linux $(uname -r), build $(basename "$build") ($buildtype)

| measurement | 1 license | $n_many licenses | ratio | target | met |
|---|---|---|---|---|---|
| fast path: liblicensed checks from the snapshot, one process | $(fmt_rate "$fast_one") ($(value ns_per_call "$work/fast-one") ns) | $(fmt_rate "$fast_many") ($(value ns_per_call "$work/fast-many") ns) | | | |
| D-Bus CheckFeature, one persistent sd-bus connection | $(fmt_rate "$check_one") | $(fmt_rate "$check_many") | | | |
| D-Bus Peer.Ping, same connection, same daemon | $(fmt_rate "$ping_one") | $(fmt_rate "$ping_many") | | | |
| fast path / CheckFeature | | | $(ratio "$fast_one" "$check_one") | >= 100x | $(met "$fast_vs_dbus" ">=" 100) |
| CheckFeature / Ping (spread over the rounds) | $(ratio "$check_one" "$ping_one") ($(value ratio_min "$work/dbus-one")-$(value ratio_max "$work/dbus-one")) | $(ratio "$check_many" "$ping_many") ($(value ratio_min "$work/dbus-many")-$(value ratio_max "$work/dbus-many")) | | >= 0.8x | $(met "$check_vs_ping" ">=" 0.8) / $(met "$check_vs_ping_many" ">=" 0.8) |
| liblicensed's D-Bus path (private connection per check) | $(fmt_rate "$lib_one") | | | | |
| naive: verify the signed license + evaluate, per check | $(fmt_rate "$verify") | | fast path $(ratio "$fast_one" "$verify") faster | | |
| CheckFeature latency, median | $med_one µs | $med_many µs | $(ratio "$med_many" "$med_one") | <= 1.2x | $(met "$lat_ratio" "<=" 1.2) |
| CheckFeature latency, p99 | $p99_one µs | $p99_many µs | $(ratio "$p99_many" "$p99_one") | | |
| daemon start (exec to owning the bus name) | $start_one ms | $start_many ms | | | |
| daemon RSS (VmRSS) after start | $(mib "$rss_start_one") | $(mib "$rss_start_many") | | | |
| daemon RSS (VmRSS) after the run | $(mib "$rss_one") | $(mib "$rss_many") | | | |

D-Bus rates: CheckFeature and Ping interleaved in chunks of 20 calls for $rounds rounds of ${secs}s; fast path, library and naive: 2 s each after a warm-up; latency: $calls calls per daemon, the two daemons alternating every 10 calls. Load average at the start: $load. Generating the $n_many licenses took $gen_ms ms.
EOF
