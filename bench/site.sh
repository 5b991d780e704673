#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# licensed-site under load (a measurement, not a test): lease grant and
# heartbeat latency (p50/p99) on loopback, and how many clients
# heartbeating every 30 s one site server holds on this machine, beside
# `openssl speed ed25519` sign on one core in the same run (a lease is one
# signature); prints one table. Method and results: docs/performance.md.
#
#   bench/site.sh [BUILDDIR]
#
# A site with a floating license of BENCH_SITE_CLIENTS seats (a vendor key
# made for the run), that many clients enrolled with join tokens, each
# holding one lease (bench/site-client: each client its own machine id and
# Ed25519 device key, signing its requests with core's code). Grant
# latency: one client checking out and returning; heartbeat latency: one
# client heartbeating in a row; load: BENCH_SITE_CONCURRENCY connections
# heartbeating back to back, round-robin over all the leases, for
# BENCH_SITE_SECONDS. Sustained heartbeats/s x 30 = the clients one site
# holds at the default 30 s heartbeat (and TTL 2m). Client and server share
# the machine's CPUs.
#
#   BENCH_SITE_CLIENTS      simulated clients (default 200)
#   BENCH_SITE_CONCURRENCY  connections of the load (default 8)
#   BENCH_SITE_SECONDS      of the load (default 5)
#   BENCH_SITE_SAMPLES      latency samples (default 300)
#   BENCH_SITE_QUICK=1      a few clients, 1 s: checks the script (tests)
#   TMPDIR                  where the site's state and database go (default /tmp;
#                           /dev/shm shows what the fsyncs cost)
#
# Loopback only; every process it starts is stopped by its PID at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
build=${1:-build}
[[ $build == /* ]] || build=$top/$build
n_clients=${BENCH_SITE_CLIENTS:-200}
concurrency=${BENCH_SITE_CONCURRENCY:-8}
secs=${BENCH_SITE_SECONDS:-5}
samples=${BENCH_SITE_SAMPLES:-300}
speed_secs=3
if [ -n "${BENCH_SITE_QUICK:-}" ]; then
        n_clients=8 concurrency=4 secs=1 samples=20 speed_secs=1
fi
heartbeat_every=30
product=com.example.bench

say() { printf '%s\n' "$*" >&2; }

if [ ! -f "$build/build.ninja" ]; then
        say "Setting up $build"
        meson setup "$build" >/dev/null
fi
say "Building in $build"
ninja -C "$build" bench/site-client site/licensed-site server/licensed-vendor >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/licensed-site-bench.XXXXXX")
pids=()

# stop_pid, free_port, fsync_ms
. "$top/bench/lib.sh"

cleanup() {
        local p
        for p in "${pids[@]}"; do stop_pid "$p"; done
        rm -rf "$work"
}
trap cleanup EXIT

say "openssl speed ed25519, ${speed_secs}s"
read -r sign_rate verify_rate < <(openssl speed -seconds "$speed_secs" ed25519 2>/dev/null |
        awk '/Ed25519/ && NF >= 4 { print $(NF - 1), $NF }' | tail -1)

site=("$build/site/licensed-site" --state-dir "$work/site" --products-dir "$work/products" --config "$work/site.conf") # none: the defaults
vendor=("$build/server/licensed-vendor")
log=$work/site.log
port=

start_site() {
        local p
        port=$(free_port)
        "${site[@]}" --listen "127.0.0.1:$port" run >>"$log" 2>&1 &
        p=$!
        pids+=("$p")
        for _ in $(seq 300); do
                grep -q "Listening on https://127.0.0.1:$port" "$log" && { site_pid=$p; return; }
                kill -0 "$p" 2>/dev/null || { say "licensed-site did not start:"; cat "$log" >&2; exit 1; }
                sleep 0.1
        done
        say "licensed-site did not start listening"; exit 1
}

# The vendor's key and product, the site activated offline with its own request.
mkdir -p "$work/products"
"${vendor[@]}" keygen --output "$work/vendor" >/dev/null
printf 'id = "%s";\nname = "Bench";\ntrusted_keys = [ "%s" ];\n' "$product" "$(cat "$work/vendor.pub")" \
        >"$work/products/$product.conf"
start_site
stop_pid "$site_pid"
key=$("${vendor[@]}" key new)
"${site[@]}" --product "$product" activation-request "$key" >"$work/site.req"
"${vendor[@]}" answer --signing-key "$work/vendor.key" --request "$work/site.req" --id bench-float \
        --licensee Bench --type floating --feature "cad:limit=$n_clients" --output "$work/site.lic" >/dev/null
"${site[@]}" install "$work/site.lic" >/dev/null
site_id=$(cat "$work/site/site.id")
say "$n_clients join tokens"
for _ in $(seq "$n_clients"); do "${site[@]}" token 2>/dev/null; done >"$work/tokens"
start_site
fsync=$(fsync_ms "$work")

say "$n_clients clients, load: $concurrency connections for ${secs}s"
"$build/bench/site-client" "https://127.0.0.1:$port" "$site_id" "$product" cad "$work/tokens" "$concurrency" \
        "$secs" "$samples" >"$work/result"
# user + system of all its threads, since its start (which did little
# else): divided by every request of the run.
cpu_ticks=$(awk '{ print $14 + $15 }' "/proc/$site_pid/stat")
declare -A r
while IFS='=' read -r k v; do r[$k]=$v; done <"$work/result"

fmt_rate() { awk -v r="$1" 'BEGIN { if (r >= 1e4) printf "%.1fk/s", r / 1e3; else printf "%.0f/s", r }'; }
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
cat <<EOF
licensed-site benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ): ${cpu:-unknown CPU}, $(nproc) CPUs, Linux $(uname -r), build $(basename "$build")

| measure | result |
|---|---|
| lease grant, 1 client (p50 / p99) | ${r[grant_p50_ms]} / ${r[grant_p99_ms]} ms |
| heartbeat, 1 client (p50 / p99) | ${r[heartbeat_p50_ms]} / ${r[heartbeat_p99_ms]} ms |
| heartbeats sustained, ${r[concurrency]} connections over ${r[clients]} leases | $(fmt_rate "${r[load_rate]}") (${r[load_p50_ms]} / ${r[load_p99_ms]} ms), ${r[load_failed]} not 200 |
| clients held at one heartbeat per ${heartbeat_every} s | $(awk -v r="${r[load_rate]}" -v e="$heartbeat_every" 'BEGIN { printf "%.0f", r * e }') |
| site server CPU per request | $(awk -v t="$cpu_ticks" -v hz="$(getconf CLK_TCK)" -v n="${r[requests]}" 'BEGIN { printf "%.0f", t / hz / n * 1e6 }') µs |
| ed25519 sign, openssl speed, 1 core | $(fmt_rate "$sign_rate") |
| fdatasync of 4 KiB in the site's directory, median | $fsync ms |

Clients = sustained heartbeats/s x ${heartbeat_every}. CPU per request: the site's user + system
time over all ${r[requests]} requests of the run (enrolments, grants, returns, heartbeats). The client (bench/site-client) signs each
request with Ed25519 and runs on the same CPUs as the server. Load average at the end:
$(cut -d' ' -f1-3 /proc/loadavg).
EOF
