#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The "fuzz" tier of tools/run-tests.sh: builds the libFuzzer targets with
# clang in BUILD_DIR (-Dfuzz=true), then for every target
#   1. replays each file in tests/fuzz/regressions/<target>/ (crashes found
#      before: they must stay fixed), and
#   2. fuzzes for FUZZ_SECONDS (default 20) from the committed seeds in
#      tests/fuzz/corpus/<target>/ plus what earlier runs found
#      (BUILD_DIR/fuzz-corpus/<target>/, not committed),
# with -timeout=5 and -rss_limit_mb=1024. A target is one test case: it
# passes if both exit 0. Runs FUZZ_JOBS targets at a time (default: the
# number of CPUs, at most 4). Writes "PASSED FAILED SKIPPED" to TALLY_FILE.
#
#   tests/fuzz/run-tier.sh BUILD_DIR TALLY_FILE
#   FUZZ_TARGETS="armor request" FUZZ_SECONDS=60 tests/fuzz/run-tier.sh build-fuzz /tmp/tally
set -uo pipefail
cd "$(dirname "$0")/../.."
dir=$1 tally=$2
secs=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-$(nproc)}
[ "$jobs" -gt 4 ] && jobs=4
fuzz=tests/fuzz
echo "0 1 0" >"$tally" # until the end proves otherwise

if ! command -v clang >/dev/null; then
        echo "clang is not installed (apt-get install clang): the fuzz targets cannot be built"
        exit 1
fi
if [ -f "$dir/build.ninja" ]; then
        meson setup --reconfigure "$dir" -Dfuzz=true >"$dir.setup.log" 2>&1
else
        CC=clang meson setup "$dir" -Dfuzz=true -Dbuildtype=debugoptimized >"$dir.setup.log" 2>&1
fi || { cat "$dir.setup.log"; exit 1; }
# Only the targets (alias "fuzz"), not the rest of the tree.
ninja -C "$dir" fuzz >"$dir.build.log" 2>&1 || { tail -50 "$dir.build.log"; exit 1; }

targets=${FUZZ_TARGETS:-$(sed -n "s/^ *'fuzz-\([a-z-]*\)',$/\1/p" $fuzz/meson.build)}
results=$dir/fuzz-results
rm -rf "$results"
mkdir -p "$results"

# One target; writes $results/NAME (ok|fail) and $results/NAME.txt (what to print).
run_one() {
        local name=$1 exe=$dir/tests/fuzz/fuzz-$1 out=$results/$1.txt
        local corpus=$dir/fuzz-corpus/$1 artifacts=$dir/fuzz-artifacts/$1/ log=$dir/fuzz-$1.log
        local opts=(-timeout=5 -rss_limit_mb=1024) dict=() regressions=() ok=1 rc

        mkdir -p "$corpus" "$artifacts"
        [ -f "$fuzz/$name.dict" ] && dict=(-dict="$fuzz/$name.dict")
        [ -d "$fuzz/regressions/$name" ] &&
                mapfile -t regressions < <(find "$fuzz/regressions/$name" -type f ! -name '*.md' | sort)

        if [ ${#regressions[@]} -gt 0 ]; then
                "$exe" "${opts[@]}" "${regressions[@]}" </dev/null >"$log.replay" 2>&1
                rc=$?
                if [ $rc -ne 0 ]; then
                        ok=0
                        {
                                echo "  fuzz-$name: FAILED replaying a regression (exit $rc):" \
                                        "$(grep -a '^Running: ' "$log.replay" | tail -1 | cut -d' ' -f2-)"
                                grep -a -m1 -E '^fuzz: |^==[0-9]+==ERROR|^SUMMARY' "$log.replay" | sed 's/^/    /'
                                echo "    log: $log.replay"
                        } >>"$out"
                fi
        fi

        "$exe" "${opts[@]}" "${dict[@]}" -max_total_time="$secs" -print_final_stats=1 \
                -artifact_prefix="$artifacts" "$corpus" "$fuzz/corpus/$name" </dev/null >"$log" 2>&1
        rc=$?
        local runs eps
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
        if [ $rc -ne 0 ]; then
                ok=0
                {
                        echo "  fuzz-$name: FAILED (exit $rc) after ${runs:-?} runs:" \
                                "$(grep -a -o 'Test unit written to .*' "$log" | tail -1 | cut -d' ' -f5-)"
                        grep -a -m1 -E '^fuzz: ' "$log" | cut -c1-300 | sed 's/^/    /'
                        grep -a -m1 -E '^SUMMARY: ' "$log" | sed 's/^/    /'
                        grep -a -E '^ +#[0-9]+ .* in ' "$log" | grep -v -E 'libFuzzer|fuzzer::|__sanitizer|libc\.so|abort|raise|_start|pthread_kill|fuzz_fail' |
                                head -8 | sed 's/^ */      /'
                        echo "    log: $log"
                        echo "    reproduce: $exe FILE; minimize: $exe -minimize_crash=1 -runs=100000 FILE;" \
                                "then add it to $fuzz/regressions/$name/"
                } >>"$out"
        else
                printf '  fuzz-%-16s ok: %s runs in %ss, %s exec/s, %d regression inputs replayed\n' "$name" \
                        "${runs:-?}" "$secs" "${eps:-?}" ${#regressions[@]} >>"$out"
        fi
        [ $ok -eq 1 ] && echo ok >"$results/$name" || echo fail >"$results/$name"
}

for name in $targets; do
        if [ ! -x "$dir/tests/fuzz/fuzz-$name" ]; then
                echo "  fuzz-$name: no such target" >"$results/$name.txt"
                echo fail >"$results/$name"
                continue
        fi
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
                wait -n
        done
        run_one "$name" &
done
wait

passed=0 failed=0
for name in $targets; do
        cat "$results/$name.txt" 2>/dev/null
        if [ "$(cat "$results/$name" 2>/dev/null)" = ok ]; then
                passed=$((passed + 1))
        else
                failed=$((failed + 1))
        fi
done
echo "$passed $failed 0" >"$tally"
[ "$failed" -eq 0 ]
