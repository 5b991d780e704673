#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The benchmark (a measurement, not a test): builds what it needs in the
# build directory ($1, default "build"), starts two private buses, each with
# a licensed from that build (one with 1 installed license, one with the
# largest of BENCH_LICENSES), measures, and prints one table; then, for each
# size in BENCH_LICENSES (default "1,1000,10000"), a daemon of its own
# (start, restart, memory, CheckFeature/Ping, fast path); then the
# validation run of bench/validate.sh if there is one; then the figures of
# issue 13 against their targets. Method and results: docs/performance.md.
#
#   bench/run.sh [BUILDDIR]
#   BENCH_LICENSES=1000,10000,100000 bench/run.sh build-rel
#
# The bus processes (dbus-daemon, licensed) run on one CPU and every client
# on another (taskset), so that ratios do not depend on where the scheduler
# puts them.
#
# Every process it starts is stopped by its PID at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
build=${1:-build}
[[ $build == /* ]] || build=$top/$build
sizes=${BENCH_LICENSES:-1,1000,10000}
secs=${BENCH_SECONDS:-1}   # per measurement round
rounds=${BENCH_ROUNDS:-5}  # CheckFeature/Ping rounds, alternating
calls=${BENCH_CALLS:-20000} # latency samples per daemon

say() { printf '%s\n' "$*" >&2; }

IFS=, read -ra size_list <<<"$sizes"
n_many=0
for n in "${size_list[@]}"; do
        [[ $n =~ ^[1-9][0-9]*$ ]] || { say "BENCH_LICENSES: '$n' is not a number of licenses"; exit 2; }
        ((n > n_many)) && n_many=$n
done
# The product the benchmark asks holds this many licenses (bench/make-licenses
# BUSY): the busiest product, 1,000 licenses from 1,000 up.
busy_of() { echo $(($1 < 1000 ? $1 : 1000)); }
busy_many=$(busy_of "$n_many")

# Two CPUs this process may use: the first for the bus processes, the second
# for the clients.
read -r cpu_bus cpu_client < <(python3 -c 'import os; print(*sorted(os.sched_getaffinity(0))[:2])')
if [ -n "${cpu_client:-}" ] && command -v taskset >/dev/null; then
        on_bus_cpu=(taskset -c "$cpu_bus")
        on_client_cpu=(taskset -c "$cpu_client")
        pinning="dbus-daemon and licensed on CPU $cpu_bus, the measuring client on CPU $cpu_client"
else
        on_bus_cpu=()
        on_client_cpu=()
        pinning="not pinned (one CPU, or no taskset)"
fi

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

# stop_pid
. "$top/bench/lib.sh"

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
        "${on_bus_cpu[@]}" dbus-daemon --config-file="$top/tests/integration/data/bus.conf" --print-address=1 --print-pid=1 \
                --fork >"$work/$1.bus" 2>/dev/null
        pids+=("$(sed -n 2p "$work/$1.bus")")
        printf -v "bus_$1" '%s' "$(sed -n 1p "$work/$1.bus")"
}

start_daemon() { # NAME ADDRESS: licensed on DIR=$work/NAME; sets pid_<NAME>, start_<NAME>
        local d=$work/$1 out=$work/$1.spawn
        rm -f "$out"
        "${on_bus_cpu[@]}" "$client" spawn "$2" "$d/licensed.log" -- "$licensed" --bus-address="$2" --state-dir="$d/state" \
                --runtime-dir="$d/run" --products-dir="$d/products" --config="$d/licensed.conf" >"$out" &
        waiters+=($!)
        for _ in $(seq 600); do
                grep -qs '^start_ms=' "$out" && break
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
say "Generating 1 and $n_many licenses ($busy_many of them for the product asked)"
"$build/bench/make-licenses" "$work/one" 1 >"$work/make-one"
"$build/bench/make-licenses" "$work/many" "$n_many" "$busy_many" >"$work/make-many"
first_one=$(value first "$work/make-one")
gen_ms=$(value elapsed_ms "$work/make-many")

say "Starting two buses and two daemons"
start_bus one
start_bus many
start_daemon one "$bus_one"
start_daemon many "$bus_many"
rss_start_one=$(rss_kib "$pid_one")
rss_start_many=$(rss_kib "$pid_many")

P=com.example.bench F=reports # the busiest product (bench/make-licenses BUSY)

say "Fast path (liblicensed, snapshot)"
LICENSED_SNAPSHOT=$work/one/run/snapshot "${on_client_cpu[@]}" "$client" fastpath $P $F 2 >"$work/fast-one"
LICENSED_SNAPSHOT=$work/many/run/snapshot "${on_client_cpu[@]}" "$client" fastpath $P $F 2 >"$work/fast-many"

say "D-Bus CheckFeature vs Peer.Ping, interleaved, $rounds rounds of ${secs}s"
"${on_client_cpu[@]}" "$client" dbus "$bus_one" $P $F "$rounds" "$secs" >"$work/dbus-one"
"${on_client_cpu[@]}" "$client" dbus "$bus_many" $P $F "$rounds" "$secs" >"$work/dbus-many"

say "liblicensed's D-Bus path (a private connection per check)"
LICENSED_BUS_ADDRESS=$bus_one LICENSED_SNAPSHOT= "${on_client_cpu[@]}" "$client" library $P $F 2 >"$work/library-one"

say "Naive check: verify the signed license on every check"
"${on_client_cpu[@]}" "$client" verify "$work/one/products" "$first_one" $F 2 >"$work/verify"

say "CheckFeature latency, 1 vs $n_many licenses ($busy_many in the product asked), $calls calls each"
"${on_client_cpu[@]}" "$client" latency "$bus_one" "$bus_many" $P $F "$calls" >"$work/latency"

rss_one=$(rss_kib "$pid_one")
rss_many=$(rss_kib "$pid_many")
stop_pid "$pid_one"
stop_pid "$pid_many"

# The sweep: one size at a time, each on a bus and a daemon of its own ------
for n in "${size_list[@]}"; do
        name=size$n
        say "Sweep: $n licenses ($(busy_of "$n") in the product asked)"
        "$build/bench/make-licenses" "$work/$name" "$n" "$(busy_of "$n")" >"$work/make-$name"
        start_bus "$name"
        bus=bus_$name
        start_daemon "$name" "${!bus}"
        first=start_$name
        printf -v "first_$name" '%s' "${!first}"
        # Again on the same state directory: what every start after the
        # first costs (caches licensed keeps in its state directory).
        pid=pid_$name
        stop_pid "${!pid}"
        start_daemon "$name" "${!bus}"
        pid=pid_$name
        printf -v "rss_start_$name" '%s' "$(rss_kib "${!pid}")"
        LICENSED_SNAPSHOT=$work/$name/run/snapshot "${on_client_cpu[@]}" "$client" fastpath $P $F "$secs" \
                >"$work/fast-$name"
        "${on_client_cpu[@]}" "$client" dbus "${!bus}" $P $F "$rounds" "$secs" >"$work/dbus-$name"
        printf -v "rss_$name" '%s' "$(rss_kib "${!pid}")"
        stop_pid "${!pid}"
        stop_pid "$(sed -n 2p "$work/$name.bus")"
        rm -rf "${work:?}/$name/state/licenses" # the disk space of the next size
done

# Validation against a local licensed-server, by bench/validate.sh ----------
if [ -x "$top/bench/validate.sh" ]; then
        say "Validation: bench/validate.sh"
        "${on_client_cpu[@]}" "$top/bench/validate.sh" "$build" >"$work/validate" 2>"$work/validate.err" ||
                { say "bench/validate.sh failed:"; cat "$work/validate.err" >&2; }
else
        : >"$work/validate"
fi

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

D-Bus rates: CheckFeature and Ping interleaved in chunks of 20 calls for $rounds rounds of ${secs}s; fast path, library and naive: 2 s each after a warm-up; latency: $calls calls per daemon, the two daemons alternating every 10 calls. The product asked, com.example.bench, holds 1 and $busy_many of the licenses. CPUs: $pinning. Load average at the start: $load. Generating the $n_many licenses took $gen_ms ms.
EOF

# The sweep table --------------------------------------------------------------
cat <<EOF

| licenses (in the product asked) | daemon start, first | daemon start, again | VmRSS after start | VmRSS after the run | CheckFeature / Ping, product asked (spread) | fast path, one thread |
|---|---|---|---|---|---|---|
EOF
for n in "${size_list[@]}"; do
        name=size$n
        v_first=first_$name v_again=start_$name v_rss0=rss_start_$name v_rss1=rss_$name
        printf '| %s (%s) | %s ms | %s ms | %s | %s | %s (%s-%s) | %s (%s ns) |\n' "$n" "$(busy_of "$n")" \
                "${!v_first}" "${!v_again}" "$(mib "${!v_rss0}")" "$(mib "${!v_rss1}")" \
                "$(ratio "$(value check_rate "$work/dbus-$name")" "$(value ping_rate "$work/dbus-$name")")" \
                "$(value ratio_min "$work/dbus-$name")" "$(value ratio_max "$work/dbus-$name")" \
                "$(fmt_rate "$(value rate "$work/fast-$name")")" "$(value ns_per_call "$work/fast-$name")"
done

# The figures of issue 13, against its targets ---------------------------------
# "met"/"not met", not yes/no: the three targets above keep their own column.
reached() { # VALUE OP TARGET; nothing when VALUE is empty (not measured)
        [ -n "$1" ] || return 0
        awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "met" : "**not met**" }'
}
both() { # VERDICT VERDICT: met when both were measured and met
        if [ -z "$1" ] || [ -z "$2" ]; then printf 'n/a'; elif [ "$1" = met ] && [ "$2" = met ]; then printf 'met'; else printf '**not met**'; fi
}
sweep_value() { # KIND N: a figure of the sweep, empty when N was not in it
        local n v
        for n in "${size_list[@]}"; do
                [ "$n" = "$2" ] || continue
                v=$1_size$n
                printf '%s' "${!v}"
                return
        done
}
or_not_measured() { [ -n "$1" ] && printf '%s' "$1" || printf 'not measured'; }
validate_cell() { # N: "S s, F failed", or why not
        local s f
        if [ ! -x "$top/bench/validate.sh" ]; then
                printf 'n/a (bench/validate.sh missing)'
                return
        fi
        s=$(value "validate_$1_seconds" "$work/validate") f=$(value "validate_$1_failed" "$work/validate")
        [ -n "$s" ] && printf '%s s, %s failed' "$s" "${f:-?}" || printf 'n/a (not in the output of bench/validate.sh)'
}
validate_met() { # N MAX_SECONDS
        local s f
        s=$(value "validate_$1_seconds" "$work/validate") f=$(value "validate_$1_failed" "$work/validate")
        [ -n "$s" ] && [ -n "$f" ] || return 0
        awk -v s="$s" -v f="$f" -v m="$2" 'BEGIN { print (s <= m && f == 0) ? "met" : "**not met**" }'
}

check_busy=$(awk -v a="$check_many" -v b="$ping_many" 'BEGIN { print a / b }')
again_10k=$(sweep_value start 10000) again_100k=$(sweep_value start 100000)
rss_100k=$(sweep_value rss_start 100000)
cat <<EOF

| figure (issue 13) | measured | target | |
|---|---|---|---|
| fast path, checks/s, one thread | $(fmt_rate "$fast_one") ($(value ns_per_call "$work/fast-one") ns) | >= 30 M/s | $(reached "$fast_one" ">=" 30000000) |
| fast path, times CheckFeature | $(ratio "$fast_one" "$check_one") | >= 2000x | $(reached "$fast_vs_dbus" ">=" 2000) |
| CheckFeature / Peer.Ping, product with $busy_many licenses | $(ratio "$check_many" "$ping_many") ($(value ratio_min "$work/dbus-many")-$(value ratio_max "$work/dbus-many")) | >= 0.9x | $(reached "$check_busy" ">=" 0.9) |
| later daemon starts (after the first), 10k / 100k licenses | $(or_not_measured "${again_10k:+$again_10k ms}") / $(or_not_measured "${again_100k:+$again_100k ms}") | <= 50 ms / <= 300 ms | $(both "$(reached "$again_10k" "<=" 50)" "$(reached "$again_100k" "<=" 300)") |
| validate 1k / 10k licenses, local licensed-server | $(validate_cell 1000) / $(validate_cell 10000) | <= 10 s / <= 60 s, 0 failed | $(both "$(validate_met 1000 10)" "$(validate_met 10000 60)") |
| daemon VmRSS after start, 1 / 100k licenses | $(mib "$rss_start_one") / $(or_not_measured "${rss_100k:+$(mib "$rss_100k")}") | <= 8 MiB / <= 60 MiB | $(both "$(reached "$rss_start_one" "<=" 8192)" "$(reached "$rss_100k" "<=" 61440)") |

Sweep: BENCH_LICENSES=$sizes, each size on its own bus and daemon, one after the other; "again" is a second start on the same state directory. A figure not measured needs its size in BENCH_LICENSES (BENCH_LICENSES=1000,10000,100000 for all of them).
EOF
