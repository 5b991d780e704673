#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs every test tier and ends with one line "N passed, N failed[, N skipped]"
# summing them all. Exits non-zero if anything failed, including a tier that
# ran no test at all. Used by README.md and .ci/run.
#
#   tools/run-tests.sh            all tiers
#   TIERS="unit integration" tools/run-tests.sh   a subset (for development)
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD

tools/install-deps.sh || { echo "dependencies could not be installed"; echo "0 passed, 1 failed"; exit 1; }

TIERS=${TIERS:-"unit integration system asan-unit asan-integration fuzz"}
PY=/usr/bin/python3 # Debian's, with python3-pytest and python3-dbusmock
total_passed=0 total_failed=0 total_skipped=0
summary=()

record() { # NAME PASSED FAILED SKIPPED
        local name=$1 p=$2 f=$3 s=$4
        if [ $((p + f + s)) -eq 0 ]; then
                echo "tier $name ran no test: counted as a failure"
                f=1
        fi
        summary+=("$(printf '%-18s %4d passed, %d failed, %d skipped' "$name" "$p" "$f" "$s")")
        total_passed=$((total_passed + p))
        total_failed=$((total_failed + f))
        total_skipped=$((total_skipped + s))
}

build() { # DIR [MESON OPTIONS...]
        local dir=$1
        shift
        if [ -f "$dir/build.ninja" ]; then
                meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1
        else
                meson setup "$dir" "$@" >"$dir.setup.log" 2>&1
        fi || { cat "$dir.setup.log"; return 1; }
        ninja -C "$dir" >"$dir.build.log" 2>&1 || { tail -50 "$dir.build.log"; return 1; }
}

unit_tier() { # NAME BUILDDIR
        local name=$1 dir=$2
        echo "=== $name"
        meson test -C "$dir" --suite unit --print-errorlogs --num-processes 2 >"$dir/unit.log" 2>&1
        grep -E '^ *[0-9]+/[0-9]+ ' "$dir/unit.log" | sed 's/^/  /'
        grep -q -E 'FAIL|ERROR' "$dir/unit.log" && sed -n '/Summary of Failures/,$p' "$dir/unit.log"
        record "$name" $($PY tests/tally.py meson "$dir/meson-logs/testlog.json")
}

pytest_tier() { # NAME BUILDDIR SUITE (a directory under tests/)
        local name=$1 dir=$2 suite=$3
        echo "=== $name"
        LICENSED_BUILD_DIR="$top/$dir" $PY -m pytest "tests/$suite" -q -p no:cacheprovider \
                --junitxml="$top/$dir/$suite.xml" -o junit_family=xunit2 2>&1 | tail -40
        record "$name" $($PY tests/tally.py junit "$dir/$suite.xml")
}

want() { [[ " $TIERS " == *" $1 "* ]]; }

if want unit || want integration; then
        if build build-ci -Dwerror=true -Dbuildtype=debugoptimized -Dpostgres=enabled; then
                want unit && unit_tier unit build-ci
                want integration && pytest_tier integration build-ci integration
        else
                record build-ci 0 1 0
        fi
fi

# Real systemd in a booted container, licensed installed as an
# administrator gets it: the Debian packages of this tree (build-deb/), and
# the same tree as an older version (build-deb-old/) to upgrade from, with
# apt; one case installs build-system/ (the default prefix, /usr/local) with
# meson install. The Debian rootfs is built once per machine (about 1.5 min)
# and cached outside the tree. In CI (CI=true) not being able to boot one is
# a failure.
if want system; then
        if build build-system -Dwerror=true -Dbuildtype=debugoptimized --prefix=/usr/local &&
                DEB_BUILD_OPTIONS=nocheck tools/build-debs.sh build-deb >/dev/null &&
                DEB_BUILD_OPTIONS=nocheck tools/build-debs.sh build-deb-old 0.0.9 >/dev/null; then
                tests/system/rootfs.sh >/dev/null || echo "system: the rootfs could not be built (see above)"
                LICENSED_DEB_DIR="$top/build-deb" LICENSED_DEB_OLD_DIR="$top/build-deb-old" \
                        pytest_tier system build-system system
        else
                record build-system 0 1 0
        fi
fi

if want asan-unit || want asan-integration; then
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
        export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
        if build build-asan -Dwerror=true -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
                -Dpostgres=enabled; then
                want asan-unit && unit_tier asan-unit build-asan
                want asan-integration && pytest_tier asan-integration build-asan integration
        else
                record build-asan 0 1 0
        fi
        unset ASAN_OPTIONS UBSAN_OPTIONS
fi

# libFuzzer targets (tests/fuzz/, clang, build-fuzz/): the committed crash
# inputs replayed, then each target fuzzed for FUZZ_SECONDS (default 20); one
# case per target. See tests/fuzz/README.md.
fuzz_tier() {
        echo "=== fuzz"
        tests/fuzz/run-tier.sh build-fuzz build-fuzz.tally
        record fuzz $(cat build-fuzz.tally 2>/dev/null || echo 0 1 0)
}

want fuzz && fuzz_tier

echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
line="$total_passed passed, $total_failed failed"
[ "$total_skipped" -gt 0 ] && line="$line, $total_skipped skipped"
echo "$line"
[ "$total_failed" -eq 0 ]
