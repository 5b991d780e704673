# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/run.sh still runs and prints its whole table. This checks that the
benchmark works, not how fast anything is: performance is measured by
running the benchmark (docs/performance.md), never asserted in a test."""
import os
import re
import subprocess

from conftest import BUILD, SOURCE

ROWS = [
    "fast path: liblicensed checks from the snapshot",
    "D-Bus CheckFeature, one persistent sd-bus connection",
    "D-Bus Peer.Ping, same connection, same daemon",
    "fast path / CheckFeature",
    "CheckFeature / Ping",
    "liblicensed's D-Bus path",
    "naive: verify the signed license",
    "CheckFeature latency, median",
    "CheckFeature latency, p99",
    "daemon start",
    "daemon RSS (VmRSS) after start",
    "daemon RSS (VmRSS) after the run",
]


def test_benchmark_prints_its_table():
    env = dict(os.environ, BENCH_LICENSES="30", BENCH_SECONDS="0.2", BENCH_ROUNDS="2", BENCH_CALLS="200")
    p = subprocess.run([os.path.join(SOURCE, "bench", "run.sh"), BUILD], capture_output=True, text=True, env=env,
                       timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    table = [line for line in p.stdout.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| measurement | 1 license | 30 licenses |"), p.stdout
    for name in ROWS:
        row = [line for line in table if line.startswith("| " + name)]
        assert len(row) == 1, f"no row {name!r} in\n{p.stdout}"
        # every row has a measured number, none is empty or "nan"
        assert re.search(r"\d", row[0].split("|")[2] + row[0].split("|")[4]), row[0]
        assert "nan" not in row[0] and "inf" not in row[0], row[0]
    # the three targets are reported, met or not
    assert sum(1 for line in table if re.search(r"\| (yes|\*\*no\*\*)", line)) == 3, p.stdout
