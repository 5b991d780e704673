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

# The figures of issue 13: measured, or saying why not (a size not in
# BENCH_LICENSES, bench/validate.sh missing).
FIGURES = [
    "fast path, checks/s, one thread",
    "fast path, times CheckFeature",
    "CheckFeature / Peer.Ping, product with 30 licenses",
    "later daemon starts (after the first), 10k / 100k licenses",
    "validate 1k / 10k licenses, local licensed-server",
    "daemon VmRSS after start, 1 / 100k licenses",
]


def test_benchmark_prints_its_table():
    env = dict(os.environ, BENCH_LICENSES="1,30", BENCH_SECONDS="0.2", BENCH_ROUNDS="2", BENCH_CALLS="200")
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
    # the sweep: one row per size, every cell measured
    for size, busy in (("1", "1"), ("30", "30")):
        row = [line for line in table if line.startswith(f"| {size} ({busy}) |")]
        assert len(row) == 1, f"no sweep row for {size} licenses in\n{p.stdout}"
        cells = [cell.strip() for cell in row[0].strip("|").split("|")]
        assert len(cells) == 7 and all(re.search(r"\d", cell) for cell in cells), row[0]
        assert "nan" not in row[0] and "inf" not in row[0], row[0]
    for name in FIGURES:
        row = [line for line in table if line.startswith("| " + name + " |")]
        assert len(row) == 1, f"no figure {name!r} in\n{p.stdout}"
        measured = row[0].split("|")[2]
        assert re.search(r"\d|not measured|n/a \(", measured), row[0]
        assert re.search(r"\| (met|\*\*not met\*\*|n/a) \|$", row[0]), row[0]
