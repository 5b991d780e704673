#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A longer fuzzing run of one target (or of all, one after another), for
# development and before releases; the test suite's tier runs each target
# for only 20 s (tests/fuzz/run-tier.sh).
#
#   tests/fuzz/run-long.sh TARGET|all [SECONDS] [LIBFUZZER OPTIONS...]
#   tests/fuzz/run-long.sh request 3600 -jobs=4 -workers=4
#
# TARGET is a name from tests/fuzz/meson.build without "fuzz-" (armor,
# license-body, ...). SECONDS defaults to 600 per target. Builds in
# build-fuzz (BUILD_DIR=... for another) with clang. The corpus grows in
# BUILD_DIR/fuzz-corpus/TARGET (seeded from tests/fuzz/corpus/TARGET, which
# is not written to); crashes land in BUILD_DIR/fuzz-artifacts/TARGET/.
set -uo pipefail
cd "$(dirname "$0")/../.."
fuzz=tests/fuzz
dir=${BUILD_DIR:-build-fuzz}

if [ $# -lt 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
        sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'
        echo "targets: $(sed -n "s/^ *'fuzz-\([a-z-]*\)',$/\1/p" $fuzz/meson.build | tr '\n' ' ')"
        exit 0
fi
target=$1
secs=${2:-600}
shift $(($# >= 2 ? 2 : 1))

if [ -f "$dir/build.ninja" ]; then
        meson setup --reconfigure "$dir" -Dfuzz=true >/dev/null
else
        CC=clang meson setup "$dir" -Dfuzz=true -Dbuildtype=debugoptimized >/dev/null
fi || exit 1
ninja -C "$dir" fuzz >/dev/null || { ninja -C "$dir" fuzz; exit 1; }

if [ "$target" = all ]; then
        targets=$(sed -n "s/^ *'fuzz-\([a-z-]*\)',$/\1/p" $fuzz/meson.build)
else
        targets=$target
fi

status=0
for t in $targets; do
        exe=$dir/tests/fuzz/fuzz-$t
        [ -x "$exe" ] || { echo "no fuzz target '$t' (see $0 --help)"; exit 2; }
        mkdir -p "$dir/fuzz-corpus/$t" "$dir/fuzz-artifacts/$t"
        dict=()
        [ -f "$fuzz/$t.dict" ] && dict=(-dict="$fuzz/$t.dict")
        echo "=== fuzz-$t for ${secs}s"
        "$exe" -timeout=5 -rss_limit_mb=1024 -max_total_time="$secs" -print_final_stats=1 "${dict[@]}" \
                -artifact_prefix="$dir/fuzz-artifacts/$t/" "$@" "$dir/fuzz-corpus/$t" "$fuzz/corpus/$t" </dev/null
        rc=$?
        if [ $rc -ne 0 ]; then
                status=1
                echo "fuzz-$t FAILED (exit $rc); inputs in $dir/fuzz-artifacts/$t/:"
                ls -1 "$dir/fuzz-artifacts/$t/"
                echo "minimize: $exe -minimize_crash=1 -runs=100000 FILE, then commit it to $fuzz/regressions/$t/"
        fi
done
exit $status
