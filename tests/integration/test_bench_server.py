# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/server.sh still runs and prints its whole table. This checks that
the benchmark works, not how fast anything is: performance is measured by
running the benchmark (docs/performance.md), never asserted in a test."""
import os
import re
import subprocess

from conftest import BUILD, SOURCE

REQUESTS = ("activate", "validate")
DATABASES = ["SQLite", "PostgreSQL, 1 instance", "PostgreSQL, 2 instances"]
# A measured cell: rate (p50 / p99 ms), CPU per request[, ratio to the sign floor]
CELL = re.compile(r"^\d+(\.\d)?k?/s \(\d+\.\d / \d+\.\d ms\), \d+ µs CPU(, \d+\.\d\dx)?$")


def postgres_backend_built():
    with open(os.path.join(BUILD, "build.ninja")) as f:
        return "storage-postgres" in f.read()


def test_server_benchmark_prints_its_table():
    env = dict(os.environ, BENCH_SERVER_QUICK="1")
    env.pop("BENCH_SERVER_OLD", None)
    p = subprocess.run([os.path.join(SOURCE, "bench", "server.sh"), BUILD], capture_output=True, text=True,
                       env=env, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    table = [line for line in p.stdout.splitlines() if line.startswith("| ")]
    assert table[0] == "| database | request | c=1 | c=8 | c=32 |", p.stdout
    for database in DATABASES:
        for request in REQUESTS:
            rows = [line for line in table if line.startswith(f"| {database} | {request} |")]
            assert len(rows) == 1, f"no row {database} {request} in\n{p.stdout}"
            cells = [cell.strip() for cell in rows[0].strip("|").split("|")[2:]]
            assert len(cells) == 3, rows[0]
            for cell in cells:
                if database.startswith("PostgreSQL") and not postgres_backend_built():
                    assert cell == "backend not built", rows[0]
                    continue
                if database.startswith("PostgreSQL") and cell == "PostgreSQL is not installed":
                    continue
                assert CELL.match(cell), f"{cell!r} in {rows[0]}"
                # activations carry their ratio to the sign floor, and the
                # benchmark sends only requests the server must grant
                assert (", " in cell.split("CPU")[1]) == (request == "activate"), rows[0]
                assert "not 200" not in cell, rows[0]
    for op in ("sign", "verify"):
        row = [line for line in table if line.startswith(f"| ed25519, openssl speed, 1 core | {op} |")]
        assert len(row) == 1 and re.search(r"\| \d+(\.\d)?k?/s \|", row[0]), p.stdout
    assert "BENCH_SERVER_OLD" in p.stdout  # the old path: not measured, and how to
