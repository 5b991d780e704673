# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/site.sh still runs and prints its whole table. This checks that
the benchmark works, not how fast anything is: performance is measured by
running the benchmark (docs/performance.md), never asserted in a test."""
import os
import re
import subprocess

from conftest import BUILD, SOURCE

MS = r"\d+\.\d\d / \d+\.\d\d ms"
ROWS = {
    "lease grant, 1 client (p50 / p99)": rf"^{MS}$",
    "heartbeat, 1 client (p50 / p99)": rf"^{MS}$",
    "heartbeats sustained, 4 connections over 8 leases": rf"^\d+(\.\d)?k?/s \({MS}\), 0 not 200$",
    "clients held at one heartbeat per 30 s": r"^\d+$",
    "site server CPU per request": r"^\d+ µs$",
    "ed25519 sign, openssl speed, 1 core": r"^\d+(\.\d)?k?/s$",
    "fdatasync of 4 KiB in the site's directory, median": r"^\d+\.\d\d ms$",
}


def test_site_benchmark_prints_its_table():
    env = dict(os.environ, BENCH_SITE_QUICK="1")
    p = subprocess.run([os.path.join(SOURCE, "bench", "site.sh"), BUILD], capture_output=True, text=True, env=env,
                       timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    table = [line for line in p.stdout.splitlines() if line.startswith("| ")]
    assert table[0] == "| measure | result |", p.stdout
    cells = dict(tuple(c.strip() for c in line.strip("|").split("|")) for line in table[1:])
    assert set(cells) == set(ROWS), p.stdout
    for row, pattern in ROWS.items():
        assert re.match(pattern, cells[row]), f"{row}: {cells[row]!r}"
    # clients = rate x 30, from the rate before it was rounded for the table (to 1/s, or 0.1k/s)
    load = cells["heartbeats sustained, 4 connections over 8 leases"]
    rate = float(re.match(r"[\d.]+", load).group()) * (1000 if "k/s" in load else 1)
    assert abs(int(cells["clients held at one heartbeat per 30 s"]) - rate * 30) <= 30 * 50 + 1
