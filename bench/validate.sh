#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Online validation at scale (a measurement, not a test): for each N in
# BENCH_VALIDATE (default 1000,10000), makes N online licenses that a local
# licensed-server knows (bench/make-licenses --server), starts that server,
# a private bus and a licensed from the build directory ($1, default
# "build"), and times `licensectl validate` (the path of the daily timer:
# one Validate call for every license, licensectl's 90 s timeout). Prints,
# per N:
#
#   validate_<N>_seconds=   wall time of licensectl validate
#   validate_<N>_ok=        licenses validated
#   validate_<N>_failed=    licenses not validated (all N if the call timed out)
#   validate_<N>_exit=      licensectl's exit status (0: every license validated)
#   validate_<N>_daemon_cpu= CPU seconds licensed spent in the call (user+system)
#   validate_<N>_server_cpu= CPU seconds licensed-server spent meanwhile
#
# bench/run.sh calls it; docs/performance.md has the method and results.
# BENCH_LICENSED=PATH runs another licensed (a build of an older commit,
# to compare) with this build's tools. Every process it starts is stopped
# by its PID at the end.
#
#   bench/validate.sh [BUILDDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
build=${1:-build}
[[ $build == /* ]] || build=$top/$build
sizes=${BENCH_VALIDATE:-1000,10000}

say() { printf '%s\n' "$*" >&2; }

if [ ! -f "$build/build.ninja" ]; then
        say "Setting up $build"
        meson setup "$build" >/dev/null
fi
say "Building in $build"
ninja -C "$build" bench/bench-client bench/make-licenses daemon/licensed ctl/licensectl server/licensed-server \
        >/dev/null

client=$build/bench/bench-client
licensed=${BENCH_LICENSED:-$build/daemon/licensed}
work=$(mktemp -d /tmp/licensed-validate.XXXXXX)
pids=() # this size's licensed-server, dbus-daemon and licensed
waiters=()

# Each size's processes are stopped before the next size starts, so that
# they take nothing from its measurement; at exit, whatever is left.
stop_all() {
        local p
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        for p in "${waiters[@]}"; do wait "$p" 2>/dev/null || true; done
        pids=()
        waiters=()
}
trap 'stop_all; rm -rf "$work"' EXIT

cpu_seconds() { # PID: user+system time so far
        awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}

wait_for() { # PATTERN FILE PID WHAT: until FILE has a line matching PATTERN, or PID died
        local i
        for ((i = 0; i < 1200; i++)); do
                grep -qs "$1" "$2" && return 0
                if ! kill -0 "$3" 2>/dev/null; then
                        say "$4 did not start:"
                        cat "$2" "${5:-/dev/null}" >&2
                        exit 1
                fi
                sleep 0.1
        done
        say "$4 did not start in 120 s"
        exit 1
}

# free_port
. "$top/bench/lib.sh"

run_one() { # N
        local n=$1 d=$work/v$1 port bus out start end status=0 server_pid daemon_pid cpu0 scpu0
        port=$(free_port)
        say "Making $n online licenses and the server's database"
        "$build/bench/make-licenses" "$d" "$n" --server "http://127.0.0.1:$port" >"$work/make-$n"

        # The daemon's throughput is measured, not the server's per-address
        # limit (with it, one address gets about 2,000 validations a call:
        # docs/operations.md, "Rate limit").
        local rate=()
        "$build/server/licensed-server" --help | grep -q -- --rate-limit && rate=(--rate-limit off)
        "$build/server/licensed-server" --db "$d/server.db" --signing-key "$d/vendor.key" \
                --listen "127.0.0.1:$port" "${rate[@]}" >"$d/server.log" 2>&1 &
        server_pid=$!
        pids+=($!)
        wait_for 'listening on' "$d/server.log" "$server_pid" licensed-server

        dbus-daemon --config-file="$top/tests/integration/data/bus.conf" --print-address=1 --print-pid=1 \
                --fork >"$d.bus" 2>/dev/null
        pids+=("$(sed -n 2p "$d.bus")")
        bus=$(sed -n 1p "$d.bus")

        out=$d.spawn
        "$client" spawn "$bus" "$d/licensed.log" -- "$licensed" --bus-address="$bus" \
                --state-dir="$d/state" --runtime-dir="$d/run" --products-dir="$d/products" \
                --config="$d/licensed.conf" >"$out" &
        waiters+=($!)
        wait_for '^start_ms=' "$out" "${waiters[-1]}" licensed "$d/licensed.log"
        daemon_pid=$(sed -n 's/^pid=//p' "$out")
        pids+=("$daemon_pid")

        say "licensectl validate, $n licenses"
        cpu0=$(cpu_seconds "$daemon_pid")
        scpu0=$(cpu_seconds "$server_pid")
        start=$(date +%s.%N)
        "$build/ctl/licensectl" --bus-address="$bus" --no-ask-password --no-pager --json validate \
                >"$d.json" 2>"$d.err" || status=$?
        end=$(date +%s.%N)
        awk -v n="$n" -v a="$cpu0" -v b="$(cpu_seconds "$daemon_pid")" -v c="$scpu0" -v d="$(cpu_seconds "$server_pid")" \
                'BEGIN { printf "validate_%s_daemon_cpu=%.1f\nvalidate_%s_server_cpu=%.1f\n", n, b - a, n, d - c }'
        /usr/bin/python3 - "$n" "$d.json" "$start" "$end" "$status" <<'EOF'
import json, sys
n, path, start, end, status = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
try:
    results = json.load(open(path))
except ValueError:
    results = []  # the call failed (timed out): nothing was validated that licensectl heard of
ok = sum(1 for r in results if r["outcome"] == "ok")
print(f"validate_{n}_seconds={end - start:.1f}")
print(f"validate_{n}_ok={ok}")
print(f"validate_{n}_failed={n - ok}")
print(f"validate_{n}_exit={status}")
EOF
        [ "$status" = 0 ] || sed 's/^/  licensectl: /' "$d.err" | head -3 >&2
        stop_all
        rm -rf "$d"
}

IFS=, read -ra ns <<<"$sizes"
for n in "${ns[@]}"; do
        run_one "$n"
done
