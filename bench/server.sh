#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# licensed-server under load (a measurement, not a test): activations and
# validations per second at 1, 8 and 32 concurrent connections, with the
# median and 99th percentile latency, for each database path, beside
# `openssl speed ed25519` (sign and verify per second on one core) in the
# same run; prints one table. Method and results: docs/performance.md.
#
#   bench/server.sh [BUILDDIR]
#
# Rows (each on a database of its own, made by bench/make-requests):
#   SQLite, old path   licensed-server built from BENCH_SERVER_OLD=COMMIT (a
#                      git commit of this tree, built in a temp directory;
#                      its database made by that commit's bench/make-requests,
#                      or, if it has none, taken back to schema version 1)
#   SQLite             this build
#   PostgreSQL, 1 instance, old path
#                      with BENCH_SERVER_OLD, its licensed-server on a
#                      database its own bench/make-requests made (so of its
#                      schema version); "not measured" if that commit has
#                      no bench/make-requests
#   PostgreSQL, 1 and 2 instances
#                      a private cluster (initdb, pg_ctl, as the postgres
#                      user when run as root) on a unix socket in a temp
#                      directory; 2 instances: two servers on one database,
#                      two wrk, each with half the connections (c=1: one
#                      wrk, one instance); p50/p99 are the larger of the two.
#                      "backend not built" while this build has no
#                      PostgreSQL backend (server/storage-postgres.c).
#
# Activations: every request is another machine (bench/make-requests), the
# three concurrencies start at different thirds of the file; a run that
# gets through more than its third activates machines again, which the
# server answers the same way (the seat is held already). Validations cycle
# through machines activated beforehand. Any answer but 200 is counted and
# shown. wrk runs on the same machine: server and client share the CPUs.
#
#   BENCH_SERVER_SECONDS  per wrk run (default 3)
#   BENCH_SERVER_REQUESTS activation requests made per database (default 30000)
#   BENCH_SERVER_THREADS  licensed-server --threads (default: its own)
#   BENCH_SERVER_OLD      a commit to build for the "old path" rows
#   BENCH_SERVER_QUICK=1  1 s runs, few requests: checks the script (tests)
#
# Loopback only; every process it starts is stopped by its PID at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
build=${1:-build}
[[ $build == /* ]] || build=$top/$build
secs=${BENCH_SERVER_SECONDS:-3}
n_requests=${BENCH_SERVER_REQUESTS:-30000}
n_validate=2000
speed_secs=3
if [ -n "${BENCH_SERVER_QUICK:-}" ]; then
        secs=1 n_requests=1500 n_validate=200 speed_secs=1
fi
old=${BENCH_SERVER_OLD:-}
concurrencies=(1 8 32)

say() { printf '%s\n' "$*" >&2; }

command -v wrk >/dev/null || { say "wrk is not installed (Debian package wrk)"; exit 1; }
if [ ! -f "$build/build.ninja" ]; then
        say "Setting up $build"
        meson setup "$build" >/dev/null
fi
say "Building in $build"
ninja -C "$build" bench/make-requests server/licensed-server >/dev/null

work=$(mktemp -d /tmp/licensed-server-bench.XXXXXX)
chmod 755 "$work" # the postgres user reaches its socket directory through it
pids=()           # servers, wrk, the PostgreSQL postmaster
pg_data=

# stop_pid, free_port
. "$top/bench/lib.sh"

cleanup() {
        local p
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        for p in "${pids[@]}"; do
                for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        done
        rm -rf "$work"
}
trap cleanup EXIT

# The sign floor: ed25519 on one core, in this run.
say "openssl speed ed25519, ${speed_secs}s"
read -r sign_rate verify_rate < <(openssl speed -seconds "$speed_secs" ed25519 2>/dev/null |
        awk '/Ed25519/ && NF >= 4 { print $(NF - 1), $NF }' | tail -1)

fsync_before=$(fsync_ms "$work")

# The old path's server: BENCH_SERVER_OLD built in a temp directory.
old_server=
old_make=
if [ -n "$old" ]; then
        say "Building licensed-server at $old (BENCH_SERVER_OLD)"
        mkdir "$work/old-src"
        git -C "$top" archive "$old" | tar -x -C "$work/old-src"
        buildtype=$(/usr/bin/python3 -c 'import json, sys
print({o["name"]: o["value"] for o in json.load(open(sys.argv[1]))}["buildtype"])' \
                "$build/meson-info/intro-buildoptions.json")
        meson setup --buildtype "$buildtype" "$work/old-build" "$work/old-src" >/dev/null
        ninja -C "$work/old-build" server/licensed-server >/dev/null
        old_server=$work/old-build/server/licensed-server
        ninja -C "$work/old-build" bench/make-requests >/dev/null 2>&1 &&
                old_make=$work/old-build/bench/make-requests
fi

# Schema version 2 (the active count) taken out again, for the old server.
downgrade_to_v1() { # DBFILE
        /usr/bin/python3 - "$1" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.executescript("""BEGIN;
DROP TRIGGER activation_takes_seat; DROP TRIGGER activation_seat_changed; DROP TRIGGER activation_frees_seat;
ALTER TABLE entitlement DROP COLUMN active; DELETE FROM schema_version WHERE version > 1; COMMIT;""")
EOF
}

# A private PostgreSQL cluster on a unix socket in $work/pg.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
as_pg=()
[ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)
pg_user=$(id -un)
start_postgres() {
        mkdir "$work/pg"
        [ ${#as_pg[@]} = 0 ] || chown postgres "$work/pg"
        "${as_pg[@]}" "$pg_bin/initdb" -D "$work/pg/data" -U "$pg_user" --auth=trust -E UTF8 >"$work/pg/initdb.log"
        "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w \
                -o "-k $work/pg -c listen_addresses='' -c max_connections=300" start >/dev/null
        pg_data=$work/pg/data
        pids+=("$(head -1 "$pg_data/postmaster.pid")")
}

has_postgres_backend() {
        grep -q 'storage-postgres' "$build/build.ninja"
}

# A database for ROW with its requests: sets db_<ROW> (the --db argument),
# or returns 1 with the reason in why_<ROW>. MAKE: the make-requests
# binary (default this build's).
make_database() { # ROW KIND (sqlite|old|pg) [MAKE]
        local d=$work/$1 uri make=${3:-$build/bench/make-requests}
        mkdir "$d"
        case $2 in
        pg)
                "${as_pg[@]}" "$pg_bin/createdb" -h "$work/pg" -U "$pg_user" "$1"
                uri="postgresql:///$1?host=$work/pg"
                ;;
        *) uri=$d/server.db ;;
        esac
        if ! "$make" "$d" "$uri" "$n_requests" "$n_validate" >"$d/make.out" 2>"$d/make.err"; then
                printf -v "why_$1" '%s' "make-requests failed (below)"
                notes+=("$(label_of "$1"): $(head -1 "$d/make.err")")
                return 1
        fi
        # The old commit's make-requests made a database of its own schema.
        [ "$2" = old ] && [ -z "${3:-}" ] && downgrade_to_v1 "$uri"
        printf -v "db_$1" '%s' "$uri"
}

# Starts a licensed-server on DB; sets url (http://127.0.0.1:PORT).
start_server() { # BINARY DB DIR NAME
        local port log=$3/$4.log p rate=()
        port=$(free_port)
        # wrk is one client address: the per-address rate limit (a server
        # that has one) would answer it 429 instead of measuring the server.
        "$1" --help | grep -q -- --rate-limit && rate=(--rate-limit off)
        "$1" --db "$2" --signing-key "$3/vendor.key" --listen "127.0.0.1:$port" "${rate[@]}" \
                ${BENCH_SERVER_THREADS:+--threads "$BENCH_SERVER_THREADS"} >"$log" 2>&1 &
        p=$!
        pids+=("$p")
        for _ in $(seq 300); do
                grep -qs 'listening on' "$log" && break
                kill -0 "$p" 2>/dev/null || { say "licensed-server did not start:"; cat "$log" >&2; exit 1; }
                sleep 0.1
        done
        url=http://127.0.0.1:$port
        server_pids+=("$p")
}

# One wrk run; prints server.lua's line of figures.
run_wrk() { # URL FILE PATH OFFSET CONNECTIONS
        local threads=$(($5 < 2 ? $5 : 2))
        wrk -t"$threads" -c"$5" -d"${secs}s" --timeout 10s -s "$top/bench/server.lua" "$1" -- \
                "$2" "$3" "$4" "$threads" | grep '^requests='
}

# CPU time (ticks) PostgreSQL used so far: the postmaster and its children
# (the backends of the servers' connections, the WAL writer...); 0 without.
db_ticks() {
        local p t=0 pm
        [ -n "$pg_data" ] || { echo 0; return; }
        pm=$(head -1 "$pg_data/postmaster.pid")
        for p in "$pm" $(pgrep -P "$pm"); do
                t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
        done
        echo "$t"
}

# CPU time (ticks) the servers of the row used so far.
server_ticks() {
        local p t=0
        for p in "${server_pids[@]}"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
        echo "$t"
}

field() { # NAME LINE
        sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p" <<<"$2"
}

# Measures one row: ROW's servers on its database, every concurrency, both
# requests; sets res_<ROW>_<act|val>_<C> to "rate p50_us p99_us failed
# cpu_us db_us" (cpu_us: the servers' CPU time per request; db_us:
# PostgreSQL's, 0 for SQLite, whose work is in the server's).
measure() { # ROW BINARY INSTANCES
        local row=$1 d=$work/$1 db=db_$1 urls=() c op file path off lines rate p50 p99 failed t0 cpu d0 dbcpu
        server_pids=()
        for i in $(seq "$3"); do
                start_server "$2" "${!db}" "$d" "server$i"
                urls+=("$url")
        done
        for op in act val; do
                [ $op = act ] && { file=$d/activate.json path=/v1/activate; } ||
                        { file=$d/validate.json path=/v1/validate; }
                for i in "${!concurrencies[@]}"; do
                        c=${concurrencies[$i]}
                        off=$([ $op = act ] && echo $((i * n_requests / 3)) || echo 0)
                        say "  $row: $path, $c connections"
                        t0=$(server_ticks) d0=$(db_ticks)
                        if [ "$3" = 1 ] || [ "$c" = 1 ]; then
                                lines=$(run_wrk "${urls[0]}" "$file" "$path" "$off" "$c")
                        else
                                lines=$( (run_wrk "${urls[0]}" "$file" "$path" "$off" $((c / 2)) &
                                          run_wrk "${urls[1]}" "$file" "$path" $((off + n_requests / 6)) $((c / 2)) &
                                          wait))
                        fi
                        # Rates add up; of the latencies, the larger.
                        read -r rate p50 p99 failed < <(while read -r l; do
                                echo "$(field requests "$l") $(field seconds "$l") $(field p50_us "$l") \
                                        $(field p99_us "$l") $(field non200 "$l") $(field socket_errors "$l")"
                        done <<<"$lines" | awk '{ r += $1 / $2; if ($3 > a) a = $3; if ($4 > b) b = $4; f += $5 + $6 }
                                END { printf "%.0f %d %d %d\n", r, a, b, f }')
                        cpu=$(awk -v t="$(($(server_ticks) - t0))" -v hz="$(getconf CLK_TCK)" -v r="$rate" -v s="$secs" \
                                'BEGIN { printf "%.0f", (r > 0 ? t / hz * 1e6 / (r * s) : 0) }')
                        dbcpu=$(awk -v t="$(($(db_ticks) - d0))" -v hz="$(getconf CLK_TCK)" -v r="$rate" -v s="$secs" \
                                'BEGIN { printf "%.0f", (r > 0 ? t / hz * 1e6 / (r * s) : 0) }')
                        printf -v "res_${row}_${op}_$c" '%s' "$rate $p50 $p99 $failed $cpu $dbcpu"
                done
        done
        for p in "${server_pids[@]}"; do stop_pid "$p"; done
}

rows=()
notes=() # why a row was not measured, in full
label_of() {
        case $1 in
        old) echo "SQLite, old path ($old)" ;;
        sqlite) echo "SQLite" ;;
        pg1) echo "PostgreSQL, 1 instance" ;;
        pg2) echo "PostgreSQL, 2 instances" ;;
        pgold) echo "PostgreSQL, 1 instance, old path ($old)" ;;
        esac
}

if [ -n "$old_server" ]; then
        say "SQLite, old path"
        rows+=(old)
        make_database old old $old_make && measure old "$old_server" 1
fi
say "SQLite"
rows+=(sqlite)
make_database sqlite sqlite && measure sqlite "$build/server/licensed-server" 1

pg_rows=(pg1 pg2)
[ -n "$old_server" ] && pg_rows=(pgold pg1 pg2)
rows+=("${pg_rows[@]}")
if ! has_postgres_backend; then
        for row in "${pg_rows[@]}"; do printf -v "why_$row" '%s' "backend not built"; done
elif [ -z "$pg_bin" ]; then
        for row in "${pg_rows[@]}"; do printf -v "why_$row" '%s' "PostgreSQL is not installed"; done
else
        say "PostgreSQL: a private cluster"
        start_postgres
        if [ -n "$old_server" ] && [ -z "$old_make" ]; then
                why_pgold="not measured: $old has no bench/make-requests"
        elif [ -n "$old_server" ]; then
                say "PostgreSQL, 1 instance, old path"
                make_database pgold pg "$old_make" && measure pgold "$old_server" 1
        fi
        for n in 1 2; do
                say "PostgreSQL, $n instance(s)"
                make_database "pg$n" pg && measure "pg$n" "$build/server/licensed-server" "$n"
        done
fi

# The table ----------------------------------------------------------------------
fmt_rate() { awk -v r="$1" 'BEGIN { if (r >= 1e4) printf "%.1fk/s", r / 1e3; else printf "%.0f/s", r }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
cell() { # ROW OP C
        local v=res_$1_$2_$3 rate p50 p99 failed cpu out
        read -r rate p50 p99 failed cpu _ <<<"${!v}"
        out="$(fmt_rate "$rate") ($(ms "$p50") / $(ms "$p99") ms), $cpu µs CPU"
        [ "$2" = act ] && out+=", $(awk -v a="$rate" -v s="$sign_rate" 'BEGIN { printf "%.2fx", a / s }')"
        [ "$failed" = 0 ] || out+=", **$failed not 200**"
        printf '%s' "$out"
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
cat <<EOF

licensed-server benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ): $cpu, $(nproc) CPUs, Linux $(uname -r), build $(basename "$build"), wrk ${secs}s per cell

| database | request | c=1 | c=8 | c=32 |
|---|---|---|---|---|
EOF
for row in "${rows[@]}"; do
        why=why_$row
        for op in act val; do
                req=$([ $op = act ] && echo "activate" || echo "validate")
                if [ -n "${!why:-}" ]; then
                        printf '| %s | %s | %s | %s | %s |\n' "$(label_of "$row")" "$req" "${!why}" "${!why}" "${!why}"
                else
                        printf '| %s | %s | %s | %s | %s |\n' "$(label_of "$row")" "$req" "$(cell "$row" $op 1)" \
                                "$(cell "$row" $op 8)" "$(cell "$row" $op 32)"
                fi
        done
done
printf '| ed25519, openssl speed, 1 core | sign | %s | | |\n' "$(fmt_rate "$sign_rate")"
printf '| ed25519, openssl speed, 1 core | verify | %s | | |\n' "$(fmt_rate "$verify_rate")"
cat <<EOF

Cells: requests per second (p50 / p99 latency), the server's CPU time per
request (user + system, all its threads), for activations also the rate
over the sign floor (ed25519 signatures per second on one core, above).
fdatasync of 4 KiB in the databases' directory, median: $fsync_before ms
before the run, $(fsync_ms "$work") ms after. Load average at the end:
$(cut -d' ' -f1-3 /proc/loadavg).
EOF
# PostgreSQL's own CPU per request, beside the server's of the cells.
for row in "${rows[@]}"; do
        why=why_$row
        [[ $row == pg* ]] && [ -z "${!why:-}" ] || continue
        line="PostgreSQL's CPU per request (all its processes), $(label_of "$row"):"
        for op in act val; do
                for c in "${concurrencies[@]}"; do
                        v=res_${row}_${op}_$c
                        read -r _ _ _ _ _ dbcpu <<<"${!v}"
                        line+=" $([ $op = act ] && echo activate || echo validate) c=$c ${dbcpu:-?} µs;"
                done
        done
        echo "${line%;}."
done
[ -z "$old" ] && echo "SQLite, old path: not measured (BENCH_SERVER_OLD=COMMIT builds it)."
for note in "${notes[@]}"; do echo "$note"; done
exit 0
