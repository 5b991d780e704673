# SPDX-License-Identifier: LGPL-2.1-or-later
"""The count of active seats PostgreSQL keeps in the entitlement (migration
3 of server/storage-postgres.c, a trigger on activation): filled in from the
activations of a database made before it, and kept right by activations,
deactivations and releases racing on one key through two instances, which
lock the entitlement before the activation, so they never deadlock (a
deadlock would be a 503 here). A real PostgreSQL 15 (postgres.py)."""
import concurrent.futures
import json

import pytest

pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
from licensed_server import LicensedServer  # noqa: E402
from machine import PRODUCT, Device, new_machine_id, new_nonce  # noqa: E402

from conftest import binary, db_sql, run  # noqa: E402

# Migrations 5, 4 and 3 undone: what a database of version 2 looks like.
BACK_TO_VERSION_2 = """BEGIN;
DROP TABLE trial;
ALTER TABLE entitlement DROP COLUMN trial_days;
ALTER TABLE entitlement DROP COLUMN deactivation_requires_maintenance;
DROP TABLE portal_release;
DROP TRIGGER activation_seat ON activation;
DROP TRIGGER activation_seat_changed ON activation;
DROP FUNCTION activation_seat();
ALTER TABLE entitlement DROP COLUMN active;
DELETE FROM schema_version WHERE version > 2;
COMMIT;"""


def admin(db, *args, check=True):
    return run([binary("licensed-vendor"), *args, "--db", db], check=check)


def create_key(db, seats):
    return admin(db, "entitlement", "create", "--product", PRODUCT, "--licensee", "ACME Corp", "--seats",
                 str(seats)).stdout.strip()


def activate(server, device, key):
    return server.post("/v1/activate", {"request": device.sign("activation", key=key, nonce=new_nonce())})


def deactivate(server, device, license_id):
    return server.post("/v1/deactivate", {"proof": device.sign("deactivation", license_id=license_id,
                                                               revision="1", nonce=new_nonce())})


def counted(db, key):
    """The entitlement's count and the count of its active activations."""
    (row,) = db_sql(db, f"SELECT active, (SELECT count(*) FROM activation a WHERE a.key = e.key "
                        f"AND a.released = 0) FROM entitlement e WHERE key = '{key}'")
    return int(row[0]), int(row[1])


def test_migration_3_counts_the_seats_taken_before(postgres_db, vendor_keys):
    server = LicensedServer(postgres_db, vendor_keys[0])
    try:
        key = create_key(postgres_db, 3)
        devices = [Device(machine_id=new_machine_id()) for _ in range(3)]
        lids = [activate(server, d, key).json["license_id"] for d in devices]
        assert deactivate(server, devices[0], lids[0]).status == 200
    finally:
        server.stop()
    db_sql(postgres_db, BACK_TO_VERSION_2)

    server = LicensedServer(postgres_db, vendor_keys[0])
    try:
        assert db_sql(postgres_db, "SELECT max(version) FROM schema_version") == [("6",)]
        assert counted(postgres_db, key) == (2, 2)
        (e,) = json.loads(admin(postgres_db, "entitlement", "list", "--json").stdout)
        assert e["active"] == 2
        # The third seat is free, the fourth is not.
        assert activate(server, Device(machine_id=new_machine_id()), key).status == 200
        r = activate(server, Device(machine_id=new_machine_id()), key)
        assert r.status == 409 and r.error[0] == "seat-limit"
        assert counted(postgres_db, key) == (3, 3)
    finally:
        server.stop()


def test_count_stays_right_under_racing_seat_changes(postgres_db, vendor_keys):
    """Eight machines on a key with four seats, through two instances at
    once: each activates, deactivates and activates again, while
    licensed-vendor releases machines by id. Every answer is one of the
    seat logic's (never a 503), and the count is the activations'."""
    servers = [LicensedServer(postgres_db, vendor_keys[0]) for _ in range(2)]
    try:
        key = create_key(postgres_db, 4)
        devices = [Device(machine_id=new_machine_id()) for _ in range(8)]

        def churn(i):
            server, d, statuses = servers[i % 2], devices[i], []
            for _ in range(3):
                r = activate(server, d, key)
                statuses.append(r.status)
                if r.status == 200:
                    statuses.append(deactivate(server, d, r.json["license_id"]).status)
            return statuses

        def release(i):
            p = admin(postgres_db, "release", "--key", key, "--machine-id", devices[i].machine_id, check=False)
            assert p.returncode == 0 or "holds no seat" in p.stderr, p.stderr
            return []

        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            jobs = [pool.submit(churn, i) for i in range(8)] + [pool.submit(release, i) for i in range(4)]
            statuses = [s for j in jobs for s in j.result(timeout=120)]
        assert statuses and set(statuses) <= {200, 409}, statuses
        active, activations = counted(postgres_db, key)
        assert active == activations <= 4
    finally:
        for s in servers:
            s.stop()
