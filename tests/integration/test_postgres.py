# SPDX-License-Identifier: LGPL-2.1-or-later
"""Several licensed-server processes on one PostgreSQL database
(server/storage-postgres.c): what must hold across instances is enforced by
the database, and a database that goes away costs 503s, not data. A real
PostgreSQL 15 (postgres.py), a fresh database per test; servers on port 0,
stopped by PID; every wait bounded."""
import concurrent.futures
import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
from licensed_server import LicensedServer  # noqa: E402
from machine import PRODUCT, Device, dearmor, fields, new_machine_id, new_nonce, verify  # noqa: E402

from conftest import binary, db_sql, run  # noqa: E402


@pytest.fixture
def servers(postgres_db, vendor_keys):
    """Starts n instances on the test's database; stops them all after."""
    started = []

    def _start(n=2, extra=()):
        new = [LicensedServer(postgres_db, vendor_keys[0], extra=extra) for _ in range(n)]
        started.extend(new)
        return new

    try:
        yield _start
    finally:
        for s in started:
            if s.proc.poll() is None or s.proc.returncode == 0:
                s.stop()


def admin(db, verb, *args, check=True):
    return run([binary("licensed-vendor"), *verb.split(), "--db", db, *args], check=check)


def create_key(db, seats):
    return admin(db, "entitlement create", "--product", PRODUCT, "--licensee", "ACME Corp", "--seats",
                 str(seats)).stdout.strip()


def activate(server, device, key):
    return server.post("/v1/activate", {"request": device.sign("activation", key=key, nonce=new_nonce())})


def validate(server, device, license_id, revision):
    return server.post("/v1/validate", {"request": device.sign("validation", license_id=license_id,
                                                               revision=str(revision), nonce=new_nonce())})


def revision_of(license_text):
    return int(fields(dearmor(license_text)[2])["revision"])


def in_parallel(fn, items, workers=32):
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items, timeout=120))


def test_seat_limit_holds_across_instances(postgres_db, servers):
    """32 machines at once through three instances, 5 seats: the
    entitlement's row lock lets exactly 5 in."""
    instances = servers(3)
    key = create_key(postgres_db, 5)
    devices = [Device(machine_id=new_machine_id()) for _ in range(32)]
    barrier = threading.Barrier(len(devices), timeout=30)

    def go(i):
        barrier.wait()
        return activate(instances[i % 3], devices[i], key)

    replies = in_parallel(go, range(len(devices)))
    statuses = sorted(r.status for r in replies)
    assert statuses == [200] * 5 + [409] * 27, statuses
    assert all(r.error[0] == "seat-limit" for r in replies if r.status == 409)
    assert db_sql(postgres_db, f"SELECT count(*) FROM activation WHERE key = '{key}' AND released = 0") == [("5",)]
    (e,) = json.loads(admin(postgres_db, "entitlement list", "--json").stdout)
    assert e["active"] == 5


def test_revoke_through_one_is_seen_by_the_other(postgres_db, servers, vendor_keys):
    a, b = servers(2)
    key = create_key(postgres_db, 2)
    d = Device(machine_id=new_machine_id())
    r = activate(a, d, key)
    assert r.status == 200
    lid = r.json["license_id"]
    assert validate(b, d, lid, 1).json["status"] == "valid"
    admin(postgres_db, "revoke", "--key", key)
    r = validate(b, d, lid, 1)
    assert r.status == 200 and r.json["status"] == "revoked"
    with open(vendor_keys[1]) as f:
        assert verify(r.json["receipt"], f.read(), "VALIDATION RECEIPT")["status"] == "revoked"
    assert activate(a, Device(machine_id=new_machine_id()), key).error[0] == "revoked"


def test_upgrades_and_validations_keep_revisions_monotonic(postgres_db, servers):
    """Machines validate through two instances while the vendor upgrades
    the key again and again: the revision each machine holds never goes
    back, and ends at the last one."""
    a, b = servers(2)
    key = create_key(postgres_db, 4)
    devices = [Device(machine_id=new_machine_id()) for _ in range(4)]
    held = {}
    for d in devices:
        r = activate(a, d, key)
        assert r.status == 200
        held[d.machine_id] = (r.json["license_id"], revision_of(r.json["license"]))
    upgrades = 8
    stop = threading.Event()
    errors = []

    def machine_loop(i):
        d = devices[i]
        lid, rev = held[d.machine_id]
        seen = [rev]
        deadline = time.monotonic() + 90
        n = 0
        while time.monotonic() < deadline:
            if stop.is_set() and n > 0 and seen[-1] == upgrades + 1:
                break
            n += 1
            r = validate((a, b)[(i + n) % 2], d, lid, seen[-1])
            if r.status != 200 or r.json["status"] != "valid":
                errors.append((r.status, r.body))
                break
            if "license" in r.json:
                seen.append(revision_of(r.json["license"]))
        return seen

    with concurrent.futures.ThreadPoolExecutor(len(devices)) as pool:
        futures = [pool.submit(machine_loop, i) for i in range(len(devices))]
        for n in range(upgrades):
            admin(postgres_db, "upgrade", "--key", key, "--property", f"round={n}")
        stop.set()
        histories = [f.result(timeout=120) for f in futures]
    assert not errors, errors
    for seen in histories:
        assert seen == sorted(seen) and len(seen) == len(set(seen)), seen
        assert seen[-1] == upgrades + 1, seen
    rows = db_sql(postgres_db, f"SELECT revision FROM activation WHERE key = '{key}'")
    assert rows == [(str(upgrades + 1),)] * len(devices)


def test_kill_one_instance_mid_load(postgres_db, servers):
    """kill -9 of one instance while activations pour in through both: every
    answered activation is stored once, nothing is stored twice, and what
    the killed one left unanswered can be done again through the other."""
    a, b = servers(2)
    key = create_key(postgres_db, 1000)
    devices = [Device(machine_id=new_machine_id()) for _ in range(240)]
    answered, failed = {}, []
    lock = threading.Lock()
    killed = threading.Event()

    def go(i):
        # once 40 are in, in the thick of it: kill -9 the first instance
        with lock:
            if len(answered) >= 40 and not killed.is_set():
                os.kill(a.proc.pid, signal.SIGKILL)
                killed.set()
        try:
            r = activate((a, b)[i % 2], devices[i], key)
        except OSError:
            failed.append(i)  # the killed instance's connections
            return
        if r.status == 200:
            answered[devices[i].machine_id] = r.json["license_id"]

    in_parallel(go, range(len(devices)), workers=16)
    assert killed.is_set() and a.proc.wait(10) == -signal.SIGKILL
    assert failed and len(answered) + len(failed) == len(devices)

    rows = db_sql(postgres_db, f"SELECT machine_id, license_id FROM activation WHERE key = '{key}'")
    stored = dict(rows)
    assert len(stored) == len(rows), "a machine stored twice"
    for machine_id, lid in answered.items():
        assert stored.get(machine_id) == lid
    # The rest again, through the survivor: each machine once, in the end all.
    for d in devices:
        if d.machine_id not in answered:
            assert activate(b, d, key).status == 200
    rows = db_sql(postgres_db, f"SELECT count(*), count(DISTINCT machine_id) FROM activation WHERE key = '{key}'")
    assert rows == [(str(len(devices)), str(len(devices)))]
    a.log.close()


def test_database_down_is_503_then_recovery(postgres_server, postgres_db, servers):
    """PostgreSQL stops under load: the server answers 503 "unavailable"
    with Retry-After, writes nothing half-done, and once PostgreSQL is back
    the same process answers again with every committed row in place."""
    (s,) = servers(1, extra=("--db-timeout", "2000"))
    key = create_key(postgres_db, 1000)
    before = [Device(machine_id=new_machine_id()) for _ in range(10)]
    assert all(activate(s, d, key).status == 200 for d in before)

    results = []
    going = threading.Event()

    def load():
        while not going.is_set():
            d = Device(machine_id=new_machine_id())
            r = activate(s, d, key)
            results.append((d.machine_id, r))

    loaders = [threading.Thread(target=load) for _ in range(4)]
    try:
        for t in loaders:
            t.start()
        time.sleep(0.3)
        postgres_server.stop()
        deadline = time.monotonic() + 20
        down = []
        while len(down) < 5 and time.monotonic() < deadline:
            down = [r for _, r in results if r.status == 503]
            time.sleep(0.1)
        going.set()
        for t in loaders:
            t.join(30)
    finally:
        going.set()
        if postgres_server.proc is None:
            postgres_server.start()

    unavailable = [r for _, r in results if r.status == 503]
    assert unavailable, [r.status for _, r in results]
    for r in unavailable:
        assert r.error[0] == "unavailable" and "database is unavailable" in r.error[1]
        assert int(r.headers["Retry-After"]) > 0
    assert all(r.status in (200, 503) for _, r in results), {r.status for _, r in results}
    assert "store the activation" in s.read_log()

    # The same process, PostgreSQL back: answers, and nothing was lost.
    ok = [activate(s, Device(machine_id=new_machine_id()), key) for _ in range(3)]
    assert [r.status for r in ok] == [200] * 3, [r.body for r in ok]
    stored = {m for (m,) in db_sql(postgres_db, f"SELECT machine_id FROM activation WHERE key = '{key}'")}
    assert {d.machine_id for d in before} <= stored
    assert {m for m, r in results if r.status == 200} <= stored
    # A 503 after a COMMIT the database did but could not confirm is
    # possible; a seat taken twice or half a row is not.
    assert db_sql(postgres_db, f"SELECT count(*) = count(DISTINCT machine_id) FROM activation") == [("t",)]
    assert s.request("GET", "/v1/health").status == 200


def test_instances_starting_at_once_migrate_once(postgres_db, vendor_keys):
    """Three instances start at once on an empty database: the advisory
    lock lets one create the schema, the others find it made."""
    started, errors = [], []

    def start():
        try:
            started.append(LicensedServer(postgres_db, vendor_keys[0]))
        except Exception as e:  # noqa: BLE001 - asserted below
            errors.append(e)

    threads = [threading.Thread(target=start) for _ in range(3)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert len(started) == 3 and all(s.alive() for s in started)
        # each migration once: no version twice, none missing
        versions = db_sql(postgres_db, "SELECT version FROM schema_version ORDER BY version")
        assert versions == [(str(v),) for v in range(1, len(versions) + 1)] and len(versions) >= 2
    finally:
        for s in started:
            s.stop()


def test_bad_uri_and_unreachable_database(tmp_path, vendor_keys):
    exe = binary("licensed-server")
    p = run([exe, "--db", "postgresql://u:secret@[::1", "--signing-key", vendor_keys[0]], check=False)
    assert p.returncode != 0 and "bad PostgreSQL URI" in p.stderr and "secret" not in p.stderr
    sock = tmp_path / "nothing"
    sock.mkdir()
    p = run([exe, "--db", f"postgresql:///x?host={sock}", "--signing-key", vendor_keys[0], "--db-timeout", "1000"],
            check=False)
    assert p.returncode != 0 and "cannot connect to PostgreSQL" in p.stderr
    p = admin(f"postgres:///x?host={sock}", "entitlement list", check=False)
    assert p.returncode != 0 and "cannot connect to PostgreSQL" in p.stderr


def test_storage_unit_tests_on_postgres(postgres_db):
    """tests/unit/test-storage.c, every case again on PostgreSQL."""
    exe = os.path.join(os.path.dirname(os.path.dirname(binary("licensed-server"))), "tests", "unit",
                       "test-storage")
    p = run([exe], env=dict(os.environ, LICENSED_TEST_POSTGRES=postgres_db), check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    # one group on SQLite, one on PostgreSQL
    assert len(re.findall(r"\[  PASSED  \] [1-9]\d* test", p.stdout + p.stderr)) == 2, p.stdout + p.stderr


def hold_row_lock(db, key, seconds):
    """A psql session that locks the entitlement's row for `seconds`, as a
    slow transaction of another instance would; returns once it holds it."""
    p = subprocess.Popen(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", db], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    p.stdin.write(f"BEGIN; SELECT 1 FROM entitlement WHERE key = '{key}' FOR UPDATE;\n"
                  f"\\echo locked\nSELECT pg_sleep({seconds}); COMMIT;\n")
    p.stdin.close()
    lines = []
    while not lines or lines[-1] not in ("locked", ""):  # "": psql ended (failed)
        lines.append(p.stdout.readline().strip())
    assert lines[-2:] == ["1", "locked"], lines
    return p


def test_statement_timeout_is_503(postgres_db, servers):
    """A statement that waits past --db-timeout (here on a row lock a slow
    transaction holds) is cancelled by PostgreSQL: 503 with Retry-After,
    nothing written; once the lock is gone the same request works."""
    (s,) = servers(1, extra=("--db-timeout", "500"))
    key = create_key(postgres_db, 5)
    d = Device(machine_id=new_machine_id())
    holder = hold_row_lock(postgres_db, key, 3)
    try:
        started = time.monotonic()
        r = activate(s, d, key)
        took = time.monotonic() - started
    finally:
        holder.wait(30)
    assert r.status == 503 and r.error[0] == "unavailable" and r.headers["Retry-After"] == "5", r.body
    assert took < 2.5, took
    assert "statement timeout" in s.read_log()
    assert db_sql(postgres_db, "SELECT count(*) FROM activation") == [("0",)]
    assert activate(s, d, key).status == 200


def test_pool_is_bounded(postgres_db, servers):
    """--db-pool 2 with 8 worker threads under load: never more than two
    connections to the database, and every request answered."""
    (s,) = servers(1, extra=("--db-pool", "2", "--threads", "8"))
    key = create_key(postgres_db, 1000)
    counts = []
    done = threading.Event()

    def watch():
        while not done.is_set():
            counts.append(int(db_sql(postgres_db, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                                  "current_database() AND pid <> pg_backend_pid() "
                                                  "AND backend_type = 'client backend'")[0][0]))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        replies = in_parallel(lambda i: activate(s, Device(machine_id=new_machine_id()), key), range(80),
                              workers=16)
    finally:
        done.set()
        watcher.join(30)
    assert [r.status for r in replies] == [200] * 80
    assert counts and max(counts) <= 2 and max(counts) >= 1, counts


def test_password_stays_out_of_the_log(postgres_server, vendor_keys):
    """The URI's password (ignored here: trust authentication) is masked in
    the server's log line."""
    name = postgres_server.create_database()
    for uri, shown in [
        (f"postgresql://postgres:s3cret@/{name}?host={postgres_server.dir}", "postgresql://postgres:***@/"),
        (f"postgres:///{name}?host={postgres_server.dir}&user=postgres&password=s3cret", "&password=***"),
    ]:
        s = LicensedServer(uri, vendor_keys[0])
        try:
            log = s.read_log()
        finally:
            s.stop()
        assert shown in log and "s3cret" not in log, log


def test_pool_use_in_the_metrics(postgres_db, servers):
    """/metrics of a PostgreSQL server shows its pool: the size given by
    --db-pool and the connections lent out (none between requests)."""
    from test_server_ops import metrics
    (s,) = servers(1, extra=("--db-pool", "3", "--metrics-listen", "127.0.0.1:0"))
    assert activate(s, Device(machine_id=new_machine_id()), create_key(postgres_db, 1)).status == 200
    families = metrics(s)
    gauges = {name: value for f in families.values() for name, _, value in f["samples"]}
    assert gauges["licensed_server_database_connections"] == 3
    assert gauges["licensed_server_database_connections_in_use"] == 0
