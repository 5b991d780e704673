# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared fixtures: where the build is, and running its programs."""
import os
import sqlite3
import subprocess

import pytest

BUILD = os.environ.get("LICENSED_BUILD_DIR") or os.path.join(os.path.dirname(__file__), "..", "..", "build")
BUILD = os.path.abspath(BUILD)
SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def binary(name):
    for sub in ("server", "site", "ctl", "daemon"):
        path = os.path.join(BUILD, sub, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"{name} not found in {BUILD}; build first")


def run(args, check=True, input=None, timeout=60, env=None):
    """Runs a command; returns CompletedProcess with text output."""
    p = subprocess.run(args, capture_output=True, text=True, input=input, timeout=timeout, env=env)
    if check and p.returncode != 0:
        raise AssertionError(f"{args} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


@pytest.fixture
def vendor(tmp_path):
    """Runs licensed-vendor."""
    exe = binary("licensed-vendor")

    def _run(*args, check=True, input=None):
        return run([exe, *args], check=check, input=input)

    return _run


@pytest.fixture
def vendor_keys(vendor, tmp_path):
    """A fresh vendor signing key pair for a test."""
    prefix = tmp_path / "vendor"
    vendor("keygen", "--output", str(prefix))
    return str(prefix) + ".key", str(prefix) + ".pub"


def write_product(products_dir, product_id, pub_path, **extra):
    os.makedirs(products_dir, exist_ok=True)
    with open(pub_path) as f:
        pub = f.read().strip()
    lines = [f'id = "{product_id}";', f'name = "Test product {product_id}";', f'trusted_keys = [ "{pub}" ];']
    for k, v in extra.items():
        lines.append(f'{k} = "{v}";')
    with open(os.path.join(products_dir, product_id + ".conf"), "w") as f:
        f.write("\n".join(lines) + "\n")


@pytest.fixture
def stack(tmp_path, vendor_keys):
    """A private bus with mock polkitd and licensed serving com.example.app."""
    from harness import Bus, Client, Daemon, Polkit

    products = str(tmp_path / "products")
    write_product(products, "com.example.app", vendor_keys[1], offline_url="https://vendor.example/offline")
    bus = Bus(str(tmp_path))
    polkit = daemon = None
    try:
        polkit = Polkit(bus)
        daemon = Daemon(bus, str(tmp_path / "state"), products)
        s = type("Stack", (), {})()
        s.bus, s.polkit, s.daemon, s.client = bus, polkit, daemon, Client(bus)
        s.products, s.tmp = products, tmp_path
        s.signing_key, s.public_key = vendor_keys
        yield s
    finally:
        if daemon:
            daemon.stop()
        if polkit:
            polkit.stop()
        bus.stop()


# The server's database, on either backend ---------------------------------------


@pytest.fixture(scope="session")
def postgres_server():
    """One private PostgreSQL for the test session (postgres.py). In CI it
    must start: a failure there is a failure, not a skip."""
    from postgres import Postgres, available

    why = available()
    if why is None:
        try:
            pg = Postgres()
        except Exception as e:  # noqa: BLE001 - reported below
            why = f"PostgreSQL did not start: {e}"
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    try:
        yield pg
    finally:
        pg.cleanup()


@pytest.fixture
def postgres_db(postgres_server):
    """The URI of a new empty PostgreSQL database for one test."""
    return postgres_server.uri(postgres_server.create_database())


def is_postgres(db):
    return db.startswith(("postgresql://", "postgres://"))


def db_sql(db, statement):
    """Runs one SQL statement on a --db value of either backend; returns the
    rows as tuples of strings."""
    if is_postgres(db):
        p = run(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", statement])
        return [tuple(line.split("\t")) for line in p.stdout.splitlines() if line]
    with sqlite3.connect(db) as c:
        rows = [tuple("" if v is None else str(v) for v in row) for row in c.execute(statement).fetchall()]
    c.close()
    return rows
