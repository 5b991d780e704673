# SPDX-License-Identifier: LGPL-2.1-or-later
"""licensed-server on loopback (docs/protocol.md) and its administration
through licensed-vendor against the same database: every test that touches
the database runs on both backends, a SQLite file and a PostgreSQL database
(the db fixture), with the same assertions; the ones about HTTP alone run
on SQLite.

Machines are played by Python (machine.py): their requests are the signed
documents of docs/offline.md. Every server is started on port 0 and stopped
by its PID; every wait is bounded."""
import json
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
from licensed_server import LicensedServer  # noqa: E402
from machine import PRODUCT, Device, armor, new_machine_id, new_nonce, request_url, tamper, verify  # noqa: E402

from conftest import binary, db_sql, is_postgres, run  # noqa: E402

LICENSEE = "ACME Corp"


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path):
    """The --db value: a SQLite file, or the URI of a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "server.db")
    return request.getfixturevalue("postgres_db")


# For the tests of HTTP alone: the backend does not matter.
sqlite_only = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


@pytest.fixture
def server(db, vendor_keys):
    s = LicensedServer(db, vendor_keys[0])
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def admin(vendor, db):
    """licensed-vendor against the server's database."""
    def _run(verb, *args, check=True, input=None):
        words = verb.split()
        return vendor(*words, "--db", db, *args, check=check, input=input)
    return _run


@pytest.fixture
def entitlement(admin):
    """Creates an entitlement and returns its license key."""
    def _create(*args, product=PRODUCT):
        return admin("entitlement create", "--product", product, "--licensee", LICENSEE, *args).stdout.strip()
    return _create


def machine(**kw):
    return Device(machine_id=new_machine_id(), **kw)


def activate(server, device, key, path="/v1/activate", **over):
    over.setdefault("nonce", new_nonce())
    return server.post(path, {"request": device.sign("activation", key=key, **over)})


def validate(server, device, license_id, revision, **over):
    over.setdefault("nonce", new_nonce())
    return server.post("/v1/validate", {"request": device.sign("validation", license_id=license_id,
                                                               revision=str(revision), **over)})


def deactivate(server, device, license_id, revision=1, **over):
    over.setdefault("nonce", new_nonce())
    return server.post("/v1/deactivate", {"proof": device.sign("deactivation", license_id=license_id,
                                                               revision=str(revision), **over)})


def inspect(vendor, pub, text):
    """The license as licensed-vendor inspect --json sees it; it must verify."""
    j = json.loads(vendor("--json", "inspect", "--public-key", pub, "-", input=text).stdout)
    assert j["signature"]["valid"] is True
    return j["license"]


def active_seats(admin, key):
    (e,) = [e for e in json.loads(admin("entitlement list", "--json").stdout) if e["license_key"] == key]
    return e["active"]


# Activation --------------------------------------------------------------------


def test_health_help_version(server):
    r = server.request("GET", "/v1/health")
    assert r.status == 200 and r.headers["Content-Type"] == "application/json"
    assert r.json["status"] == "ok" and r.json["version"]
    exe = binary("licensed-server")
    assert run([exe, "--version"]).stdout.startswith("licensed-server ")
    assert "--signing-key" in run([exe, "--help"]).stdout
    p = run([exe, "--signing-key", "x"], check=False)
    assert p.returncode != 0 and "--db FILE|URI is required" in p.stderr


def test_activate_end_to_end(server, entitlement, admin, vendor, vendor_keys):
    key = entitlement("--seats", "3", "--type", "subscription", "--not-after", "2030-01-01", "--feature", "reports",
                      "--feature", "seats:limit=5", "--property", "edition=Pro", "--maintenance-until",
                      "2029-01-01", "--validation-interval", "1d", "--grace-period", "2w", "--server-url",
                      server.url)
    d = machine()
    nonce = new_nonce()
    r = activate(server, d, key, nonce=nonce)
    assert r.status == 200, r.body
    text = r.json["license"]
    l = inspect(vendor, vendor_keys[1], text)
    assert l["id"] == r.json["license_id"] and len(l["id"]) <= 64
    assert l["revision"] == 1
    assert l["product"] == PRODUCT and l["licensee"] == LICENSEE and l["type"] == "subscription"
    assert l["not_after"] == "2030-01-01T00:00:00Z" and l["maintenance_until"] == "2029-01-01T00:00:00Z"
    assert l["machine_id"] == d.machine_id and l["device_key"] == d.pub and l["nonce"] == nonce
    g = key.split("-")
    assert l["key"] == f"{g[0]}-*****-*****-*****-{g[4]}" and key not in text
    assert [(f["name"], f.get("limit")) for f in l["features"]] == [("reports", None), ("seats", 5)]
    assert l["properties"] == {"edition": "Pro"}
    assert l["validation_interval"] == 86400 and l["grace_period"] == 14 * 86400 and l["server_url"] == server.url

    (a,) = json.loads(admin("activations", "--json", "--key", key).stdout)
    assert a["license_id"] == l["id"] and a["machine_id"] == d.machine_id and a["active"] is True
    assert a["hostname"] == "build-01.example.com" and a["revision"] == 1
    assert l["id"] in admin("activations").stdout


def test_seat_limit_and_same_machine(server, entitlement, admin):
    key = entitlement("--seats", "2")
    a, b, c = machine(), machine(), machine()
    ids = [activate(server, d, key).json["license_id"] for d in (a, b)]

    r = activate(server, c, key)
    assert r.status == 409
    assert r.error == ("seat-limit",
                       "seat limit reached: 2 of 2 machines are active; deactivate one or ask the vendor")

    # The same machine (machine id and device key) again: its own seat, the same license id.
    r = activate(server, a, key)
    assert r.status == 200 and r.json["license_id"] == ids[0]
    assert active_seats(admin, key) == 2

    # Same machine id, another device key: another machine.
    twin = Device(machine_id=a.machine_id)
    assert activate(server, twin, key).status == 409


def test_concurrent_activations_respect_the_seats(server, entitlement, admin):
    key = entitlement("--seats", "3")
    devices = [machine() for _ in range(10)]
    results = [None] * len(devices)

    def go(i):
        results[i] = activate(server, devices[i], key).status

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(devices))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [200] * 3 + [409] * 7
    assert active_seats(admin, key) == 3


def test_two_servers_share_one_database(server, db, vendor_keys, entitlement, admin):
    """The database is SQLite in WAL mode, or PostgreSQL, with its schema
    version recorded, so several server processes (and licensed-vendor) can
    use one database: the seat limit holds across them."""
    if not is_postgres(db):
        assert db_sql(db, "PRAGMA journal_mode") == [("wal",)]
    assert int(db_sql(db, "SELECT max(version) FROM schema_version")[0][0]) >= 1
    second = LicensedServer(db, vendor_keys[0])
    try:
        key = entitlement("--seats", "3")
        devices = [machine() for _ in range(8)]
        results = [None] * len(devices)

        def go(i):
            results[i] = activate((server, second)[i % 2], devices[i], key).status

        threads = [threading.Thread(target=go, args=(i,)) for i in range(len(devices))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(results) == [200] * 3 + [409] * 5, results
        assert active_seats(admin, key) == 3
    finally:
        second.stop()


def test_deactivate_frees_the_seat(server, entitlement, admin):
    key = entitlement("--seats", "1")
    a, b = machine(), machine()
    lid = activate(server, a, key).json["license_id"]
    assert activate(server, b, key).status == 409

    # Another machine cannot free a's seat.
    r = deactivate(server, b, lid)
    assert r.status == 403 and r.error[0] == "wrong-machine"

    nonce = new_nonce()
    r = deactivate(server, a, lid, nonce=nonce)
    assert r.status == 200 and r.json == {"status": "released"}
    assert active_seats(admin, key) == 0
    assert activate(server, b, key).status == 200

    # The same proof works once.
    r = deactivate(server, a, lid, nonce=nonce)
    assert r.status == 409 and r.error == ("proof-used", "this deactivation proof was used before")

    r = deactivate(server, a, "nope-0001")
    assert r.status == 404 and r.error[0] == "unknown-license"


def test_validate_revoke(server, entitlement, admin, vendor_keys):
    pub = open(vendor_keys[1]).read()
    key = entitlement("--seats", "2", "--feature", "reports")
    d = machine()
    lid = activate(server, d, key).json["license_id"]

    nonce = new_nonce()
    r = validate(server, d, lid, 1, nonce=nonce)
    assert r.status == 200 and r.json["status"] == "valid" and "license" not in r.json
    f = verify(r.json["receipt"], pub, "VALIDATION RECEIPT")
    assert f["status"] == "valid" and f["nonce"] == nonce and f["license-id"] == lid
    assert f["machine-id"] == d.machine_id and f["product"] == PRODUCT

    assert "revoked" in admin("revoke", "--key", key).stdout
    r = validate(server, d, lid, 1)
    assert r.status == 200 and r.json["status"] == "revoked" and "license" not in r.json
    assert verify(r.json["receipt"], pub, "VALIDATION RECEIPT")["status"] == "revoked"

    r = activate(server, machine(), key)
    assert r.status == 403 and r.error == ("revoked", "the license key has been revoked by the vendor")
    assert json.loads(admin("entitlement list", "--json").stdout)[0]["revoked"] is True


def test_upgrade_reaches_the_machine_at_validation(server, entitlement, admin, vendor, vendor_keys):
    key = entitlement("--feature", "reports", "--maintenance-until", "2027-01-01")
    d = machine()
    r = activate(server, d, key)
    lid = r.json["license_id"]
    assert inspect(vendor, vendor_keys[1], r.json["license"])["revision"] == 1

    out = admin("upgrade", "--key", key, "--feature", "export", "--feature", "reports:limit=3",
                "--maintenance-until", "2028-01-01").stdout
    assert "revision 1 -> 2" in out

    nonce = new_nonce()
    r = validate(server, d, lid, 1, nonce=nonce)
    assert r.status == 200 and r.json["status"] == "valid"
    l = inspect(vendor, vendor_keys[1], r.json["license"])
    assert l["id"] == lid and l["revision"] == 2 and l["nonce"] == nonce
    assert l["machine_id"] == d.machine_id and l["device_key"] == d.pub
    assert l["maintenance_until"] == "2028-01-01T00:00:00Z"
    assert sorted((f["name"], f.get("limit")) for f in l["features"]) == [("export", None), ("reports", 3)]

    # Once the machine holds revision 2 there is nothing newer to send.
    r = validate(server, d, lid, 2)
    assert r.status == 200 and "license" not in r.json
    (a,) = json.loads(admin("activations", "--json").stdout)
    assert a["revision"] == 2

    # A new activation gets the new revision directly.
    assert inspect(vendor, vendor_keys[1], activate(server, d, key).json["license"])["revision"] == 2

    p = admin("upgrade", "--key", key, check=False)
    assert p.returncode != 0 and "nothing to change" in p.stderr
    p = admin("upgrade", "--key", key, "--remove-feature", "nope", check=False)
    assert p.returncode != 0 and "no feature 'nope'" in p.stderr


def test_release_lost_machine(server, entitlement, admin):
    key = entitlement("--seats", "1")
    lost, new = machine(), machine()
    lid = activate(server, lost, key).json["license_id"]
    assert activate(server, new, key).status == 409

    out = admin("release", "--key", key, "--machine-id", lost.machine_id).stdout
    assert "released 1 seat" in out
    assert activate(server, new, key).status == 200
    # The lost machine comes back: its seat is gone.
    r = validate(server, lost, lid, 1)
    assert r.status == 200 and r.json["status"] == "revoked"
    (a, _) = json.loads(admin("activations", "--json", "--key", key).stdout)
    assert a["active"] is False and a["released"]

    p = admin("release", "--key", key, "--machine-id", lost.machine_id, check=False)
    assert p.returncode != 0 and "holds no seat" in p.stderr


def test_release_by_proof(server, entitlement, admin, tmp_path):
    """licensed-vendor release --key KEY --proof: the deactivation proof a
    customer mailed frees its seat, once, and only the seat of the machine
    that signed it."""
    key = entitlement("--seats", "1")
    other_key = entitlement()
    d, thief, next_machine = machine(), machine(), machine()
    lid = activate(server, d, key).json["license_id"]
    assert activate(server, next_machine, key).status == 409

    forged = tmp_path / "forged.proof"
    forged.write_text(thief.sign("deactivation", license_id=lid, revision="1"))
    p = admin("release", "--key", key, "--proof", str(forged), check=False)
    assert p.returncode != 0 and f"the license {lid} is bound to another machine" in p.stderr, p.stderr

    proof = tmp_path / "proof.txt"
    proof.write_text("From the customer:\n\n" + d.sign("deactivation", license_id=lid, revision="1",
                                                          nonce=new_nonce()))
    p = admin("release", "--key", other_key, "--proof", str(proof), check=False)
    assert p.returncode != 0 and f"license {lid}, which is not an activation of {other_key}" in p.stderr, p.stderr
    assert active_seats(admin, key) == 1

    out = admin("release", "--key", key, "--proof", str(proof)).stdout
    assert out == f"{key}: released 1 seat of machine {d.machine_id}\n"
    assert active_seats(admin, key) == 0
    assert activate(server, next_machine, key).status == 200
    # replayed: refused, by the server too
    p = admin("release", "--key", key, "--proof", "-", check=False, input=proof.read_text())
    assert p.returncode != 0 and "this deactivation proof was used before" in p.stderr, p.stderr
    r = server.post("/v1/deactivate", {"proof": proof.read_text()})
    assert r.status == 409 and r.error[0] == "proof-used"

    bad = [
        (["--key", key, "--proof", str(proof), "--machine-id", d.machine_id], "--machine-id MACHINE or --proof FILE"),
        (["--key", key], "--machine-id MACHINE or --proof FILE is required"),
        (["--machine-id", d.machine_id], "--key KEY is required"),
        (["--key", key, "--proof", str(tmp_path / "missing")], "missing"),
    ]
    for args, message in bad:
        p = admin("release", *args, check=False)
        assert p.returncode != 0 and message in p.stderr, p.stderr
    request = tmp_path / "request.txt"
    request.write_text(d.sign("activation", key=key))
    p = admin("release", "--key", key, "--proof", str(request), check=False)
    assert p.returncode != 0 and "ACTIVATION REQUEST" in p.stderr, p.stderr


def test_offline_endpoint_is_activation(server, entitlement, vendor, vendor_keys):
    key = entitlement()
    d = machine()
    r = activate(server, d, key, path="/v1/offline")
    assert r.status == 200
    assert inspect(vendor, vendor_keys[1], r.json["license"])["machine_id"] == d.machine_id


def offline(server, kind, text):
    return server.post("/v1/offline", {"kind": kind, "request": text})


def test_offline_round_trips(server, entitlement, admin, vendor, vendor_keys):
    """POST /v1/offline with a kind: the offline page's activation,
    validation (receipt, and the upgrade when there is one) and
    deactivation (the seat freed, the proof refused a second time)."""
    pub = open(vendor_keys[1]).read()
    key = entitlement("--seats", "1", "--feature", "reports")
    d, other = machine(), machine()
    r = offline(server, "activation", d.sign("activation", key=key, nonce=new_nonce()))
    assert r.status == 200, r.body
    lid = r.json["license_id"]
    assert inspect(vendor, vendor_keys[1], r.json["license"])["machine_id"] == d.machine_id

    nonce = new_nonce()
    r = offline(server, "validation", d.sign("validation", license_id=lid, revision="1", nonce=nonce))
    assert r.status == 200 and r.json["status"] == "valid" and r.json["license_id"] == lid, r.body
    f = verify(r.json["receipt"], pub, "VALIDATION RECEIPT")
    assert f["nonce"] == nonce and f["license-id"] == lid and "license" not in r.json
    admin("upgrade", "--key", key, "--feature", "export")
    r = offline(server, "validation", d.sign("validation", license_id=lid, revision="1", nonce=new_nonce()))
    assert r.status == 200 and inspect(vendor, vendor_keys[1], r.json["license"])["revision"] == 2

    assert offline(server, "activation", other.sign("activation", key=key)).status == 409
    proof = d.sign("deactivation", license_id=lid, revision="2", nonce=new_nonce())
    r = offline(server, "deactivation", proof)
    assert r.status == 200 and r.json == {"status": "released", "license_id": lid}, r.body
    assert active_seats(admin, key) == 0
    r = offline(server, "deactivation", proof)
    assert r.status == 409 and r.error == ("proof-used", "this deactivation proof was used before")
    assert offline(server, "activation", other.sign("activation", key=key)).status == 200
    # a machine that deactivated validates as revoked
    r = offline(server, "validation", d.sign("validation", license_id=lid, revision="2"))
    assert r.status == 200 and r.json["status"] == "revoked"


def test_offline_wrong_kind_is_a_sentence(server, entitlement):
    key = entitlement()
    d = machine()
    act = d.sign("activation", key=key)
    val = d.sign("validation", license_id="x-1", revision="1")
    proof = d.sign("deactivation", license_id="x-1", revision="1")
    r = activate(server, d, key)
    license = r.json["license"]
    receipt = validate(server, d, r.json["license_id"], 1).json["receipt"]
    something = armor("SOMETHING", "0" * 16, b"\0" * 64, b"x")
    cases = [
        ("activation", val, "This is a validation request; use Offline validation."),
        ("activation", proof, "This is a deactivation proof; use Offline deactivation."),
        ("validation", act, "This is an activation request; use Offline activation."),
        ("deactivation", val, "This is a validation request; use Offline validation."),
        ("validation", license, "This is a license, the answer to an activation "
         "request: install it on the machine with 'licensectl install FILE'."),
        ("activation", receipt, "This is a validation receipt"),
        ("deactivation", something,
         "This is a LICENSED SOMETHING, not a document for Offline deactivation."),
    ]
    for kind, text, message in cases:
        r = offline(server, kind, text)
        assert r.status == 400 and r.error[0] == "wrong-kind", r.body
        assert message in r.error[1], r.error
    # without a kind it is activation, as before the other two were there
    r = server.post("/v1/offline", {"request": val})
    assert r.status == 400 and r.error[1] == "This is a validation request; use Offline validation."
    r = offline(server, "renewal", act)
    assert r.status == 400 and r.error[0] == "bad-request" and '"kind" is "activation"' in r.error[1]
    r = server.post("/v1/offline", {"kind": "validation"})
    assert r.status == 400 and '"request": a string holding the armored validation request' in r.error[1]
    r = offline(server, "validation", "no armor at all")
    assert r.status == 400 and r.error[0] == "invalid-request" and "no '-----BEGIN LICENSED" in r.error[1]
    r = offline(server, "validation", tamper(val, d.machine_id.encode(), b"f" * 32))
    assert r.status == 400 and r.error[0] == "invalid-signature"


def test_machine_request_errors(server, entitlement):
    key = entitlement()
    other_key = entitlement(product="com.other.tool")
    d = machine()

    cases = [
        (d.sign("activation", key=key[:4] + ("1" if key[4] == "0" else "0") + key[5:]), 400, "invalid-request",
         "group 1 looks wrong"),
        (d.sign("activation", key=run([binary("licensed-vendor"), "key", "new"]).stdout.strip()), 404,
         "unknown-key", "is not known to this server"),
        (d.sign("activation", key=other_key), 403, "wrong-product", "is for com.other.tool, not for " + PRODUCT),
        (tamper(d.sign("activation", key=key), d.machine_id.encode(), b"f" * 32), 400, "invalid-signature",
         "the signature does not match"),
        (d.sign("validation"), 400, "invalid-request", "this is a VALIDATION REQUEST, not an ACTIVATION REQUEST"),
        ("hello", 400, "invalid-request", "no '-----BEGIN LICENSED ...-----' line found"),
    ]
    for text, status, code, message in cases:
        r = server.post("/v1/activate", {"request": text})
        assert (r.status, r.error[0]) == (status, code), r.body
        assert message in r.error[1]

    lid = activate(server, d, key).json["license_id"]
    r = validate(server, machine(), lid, 1)
    assert r.status == 403 and r.error == ("wrong-machine", f"the license {lid} is bound to another machine")
    r = validate(server, d, "acme-0001", 1)
    assert r.status == 404 and r.error == ("unknown-license", "no license acme-0001 was activated on this server")
    r = validate(server, d, lid, 1, product="com.other.tool")
    assert r.status == 403 and r.error == ("wrong-product", f"the license {lid} is for {PRODUCT}, not for com.other.tool")


# Garbage --------------------------------------------------------------------------

BIG = b'{"request": "' + b"a" * (80 * 1024) + b'"}'

GARBAGE = [
    # (method, path, body, content type, status, code, message part)
    ("POST", "/v1/activate", b"{not json", "application/json", 400, "invalid-json", "not valid JSON"),
    ("POST", "/v1/activate", b'{"request": "x"} trailing', "application/json", 400, "invalid-json", "not valid"),
    ("POST", "/v1/activate", b"", "application/json", 400, "invalid-json", "the body is empty"),
    ("POST", "/v1/activate", b"[1, 2]", "application/json", 400, "bad-request", "must be a JSON object"),
    ("POST", "/v1/activate", b'"request"', "application/json", 400, "bad-request", "must be a JSON object"),
    ("POST", "/v1/activate", b'{"request": 5}', "application/json", 400, "bad-request",
     '"request": a string holding the armored ACTIVATION REQUEST'),
    ("POST", "/v1/activate", b'{"request": null}', "application/json", 400, "bad-request", '"request"'),
    ("POST", "/v1/activate", b'{"proof": "x"}', "application/json", 400, "bad-request", '"request"'),
    ("POST", "/v1/deactivate", b'{"request": "x"}', "application/json", 400, "bad-request", '"proof"'),
    ("POST", "/v1/validate", b'{"request": ["x"]}', "application/json", 400, "bad-request", "VALIDATION REQUEST"),
    ("POST", "/v1/activate", b'{"request": "\xff\xfe"}', "application/json", 400, "invalid-json", "not valid"),
    ("POST", "/v1/activate", b'{"request": "a\x00b"}', "application/json", 400, "invalid-json", "NUL"),
    ("POST", "/v1/activate", b"[" * 100 + b"]" * 100, "application/json", 400, "invalid-json", "not valid"),
    ("POST", "/v1/activate", BIG, "application/json", 413, "too-large", "larger than 65536 bytes"),
    ("POST", "/v1/activate", b'{"request": "x"}', "text/plain", 415, "unsupported-media-type",
     "Content-Type: application/json (got text/plain)"),
    ("POST", "/v1/activate", b'{"request": "x"}', None, 415, "unsupported-media-type", "no Content-Type"),
    ("POST", "/v1/activate", b'{"request": "x"}', "application/json; charset=latin1", 415, "unsupported-media-type",
     "latin1"),
    ("POST", "/v1/activate", b'{"request": "x"}', "application/jsonp", 415, "unsupported-media-type", "jsonp"),
    ("GET", "/v1/activate", None, None, 405, "method-not-allowed", "GET is not allowed on /v1/activate"),
    ("POST", "/v1/health", b"{}", "application/json", 405, "method-not-allowed", "POST is not allowed"),
    ("GET", "/v2/activate", None, None, 404, "not-found", "there is nothing at /v2/activate"),
    ("DELETE", "/", None, None, 405, "method-not-allowed", "DELETE"),
]


@sqlite_only
@pytest.mark.parametrize("method,path,body,ctype,status,code,message", GARBAGE,
                         ids=[f"{g[4]}-{i}" for i, g in enumerate(GARBAGE)])
def test_garbage_gets_a_clear_json_error(server, method, path, body, ctype, status, code, message):
    r = server.request(method, path, body, content_type=ctype)
    assert r.status == status, r.body
    assert r.headers["Content-Type"] == "application/json"
    got_code, got_message = r.error
    assert got_code == code and message in got_message, got_message
    if status == 405:
        assert r.headers["Allow"] in ("POST", "GET, HEAD")
    assert server.alive()


@sqlite_only
def test_charset_utf8_is_accepted(server):
    r = server.request("POST", "/v1/activate", b'{"request": "x"}', content_type="Application/JSON; charset=UTF-8")
    assert r.status == 400 and r.error[0] == "invalid-request"


def raw(server, data, timeout=10):
    """Sends data on a new connection, ends the sending side (so the server
    sees the end of an incomplete request at once), and returns what the
    server sent back until it closed."""
    with socket.create_connection((server.host, server.port), timeout=timeout) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server closed first: what it sent still counts
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                return out  # the server closed with our bytes unread: what came before counts
            if not chunk:
                return out
            out += chunk


@sqlite_only
def test_chunked_oversized_and_raw_garbage(server):
    # Chunked, so no Content-Length tells the server in advance.
    chunk = b"a" * 4096
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
    out = raw(server, b"POST /v1/activate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body)
    assert out.startswith(b"HTTP/1.1 413 ") and b'"too-large"' in out

    # A body far beyond any limit is cut off rather than read.
    huge = b"POST /v1/activate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n"
    out = raw(server, huge + b"{" * 1000)
    assert out.startswith(b"HTTP/1.1 413 ")

    for junk in (b"GARBAGE\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(200),
                 b"GET / HTTP/1.1\r\n" + b"X: " + b"y" * 70000 + b"\r\n\r\n", os.urandom(4096)):
        raw(server, junk)
        assert server.alive()


@sqlite_only
def test_slow_client_is_timed_out(db, vendor_keys):
    s = LicensedServer(db, vendor_keys[0], extra=("--timeout", "1"))
    try:
        with socket.create_connection((s.host, s.port), timeout=10) as c:
            c.sendall(b"POST /v1/activate HTTP/1.1\r\nHost: x\r\n")  # and then nothing
            start = time.monotonic()
            try:
                assert c.recv(100) == b""  # closed by the server
            except ConnectionResetError:
                pass
            elapsed = time.monotonic() - start
        assert elapsed < 5, f"the server kept a silent client {elapsed:.1f} s"
        assert s.alive()
    finally:
        s.stop()


# Deployment --------------------------------------------------------------------


@sqlite_only
def test_https(tmp_path, db, vendor_keys):
    """The server serves HTTPS itself with a certificate the test makes."""
    import ssl
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"])
    os.chmod(key, 0o644)
    p = run([binary("licensed-server"), "--db", db, "--signing-key", vendor_keys[0], "--tls-cert", str(cert),
             "--tls-key", str(key)], check=False)
    assert p.returncode != 0 and "readable by others" in p.stderr
    os.chmod(key, 0o600)

    s = LicensedServer(db, vendor_keys[0], extra=("--tls-cert", str(cert), "--tls-key", str(key)),
                       cafile=str(cert))
    try:
        assert s.url.startswith("https://127.0.0.1:")
        assert s.request("GET", "/v1/health").json["status"] == "ok"
        # Without the test CA the certificate is refused.
        s.cafile = None
        with pytest.raises(ssl.SSLCertVerificationError):
            s.request("GET", "/v1/health")
        # Plain HTTP to the TLS port gets no answer, and the server carries on.
        assert not raw(s, b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/")
        s.cafile = str(cert)
        assert s.alive()
    finally:
        s.stop()


@sqlite_only
def test_ipv6_listen(db, vendor_keys):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        pytest.skip("no ::1")
    s = LicensedServer(db, vendor_keys[0], listen="[::1]:0")
    try:
        assert s.url.startswith("http://[::1]:")
        assert s.alive()
    finally:
        s.stop()


@sqlite_only
def test_bad_options(db, vendor_keys):
    exe = binary("licensed-server")
    for args, message in [
        (["--listen", "localhost:7070"], "is not an IPv4 address"),
        (["--listen", "127.0.0.1"], "expected ADDRESS:PORT"),
        (["--listen", "127.0.0.1:99999"], "bad port"),
        (["--listen", "[::1:7070"], "expected [IPV6]:PORT"),
        (["--tls-cert", "/nonexistent"], "--tls-cert and --tls-key come together"),
        (["--threads", "0"], "--threads: '0' is not a number from 1 to 64"),
        (["--db-pool", "0"], "--db-pool: '0' is not a number from 1 to 256"),
        (["--db-timeout", "1s"], "--db-timeout: '1s' is not a number from 1 to 600000"),
    ]:
        p = run([exe, "--db", db, "--signing-key", vendor_keys[0], *args], check=False)
        assert p.returncode != 0 and message in p.stderr, p.stderr
    p = run([exe, "--db", db, "--signing-key", "/nonexistent"], check=False)
    assert p.returncode != 0 and "/nonexistent" in p.stderr


# Administration ------------------------------------------------------------------


def test_admin_verbs(admin, entitlement, db):
    p = admin("entitlement create", "--product", PRODUCT, check=False)
    assert p.returncode != 0 and "--licensee is required" in p.stderr
    p = admin("entitlement create", "--product", "Not A Product", "--licensee", "x", check=False)
    assert p.returncode != 0 and "product" in p.stderr
    p = admin("entitlement create", "--product", PRODUCT, "--licensee", "x", "--type", "trial", check=False)
    assert p.returncode != 0 and "a trial license needs not-after" in p.stderr
    p = admin("entitlement create", "--product", PRODUCT, "--licensee", "x", "--seats", "0", check=False)
    assert p.returncode != 0 and "--seats" in p.stderr

    key = entitlement("--seats", "4", "--feature", "reports")
    p = admin("entitlement create", "--product", PRODUCT, "--licensee", "x", "--license-key", key, check=False)
    assert p.returncode != 0 and "exists already" in p.stderr
    mine = "AKKMR-E631E-MTNVW-0ZB05-JGQ22"
    assert entitlement("--license-key", mine.lower().replace("-", "")) == mine

    table = admin("entitlement list").stdout.splitlines()
    assert table[0].split()[:4] == ["KEY", "PRODUCT", "LICENSEE", "SEATS"]
    assert any(key in line and "0/4" in line and "reports" in line for line in table)
    j = json.loads(admin("entitlement create", "--product", PRODUCT, "--licensee", "y", "--json").stdout)
    assert j["licensee"] == "y" and j["seats"] == 1 and j["revision"] == 1 and j["active"] == 0

    typo = key[:-1] + ("0" if key[-1] != "0" else "1")
    p = admin("revoke", "--key", typo, check=False)
    assert p.returncode != 0 and "group 5 looks wrong" in p.stderr
    p = admin("revoke", "--key", run([binary("licensed-vendor"), "key", "new"]).stdout.strip(), check=False)
    assert p.returncode != 0 and "not known" in p.stderr
    p = admin("revoke", check=False)
    assert p.returncode != 0 and "--key KEY is required" in p.stderr
    p = run([binary("licensed-vendor"), "revoke", "--key", key], check=False)
    assert p.returncode != 0 and "--db FILE|URI is required" in p.stderr
    p = admin("entitlement frobnicate", check=False)
    assert p.returncode != 0 and "unknown subcommand" in p.stderr
    assert admin("activations").stdout.startswith("LICENSE")
    assert json.loads(admin("activations", "--json").stdout) == []

    # The database is private: it holds every license key in clear.
    if not is_postgres(db):
        assert os.stat(db).st_mode & 0o077 == 0


def test_newer_database_is_refused(admin, entitlement, db):
    entitlement()
    db_sql(db, "INSERT INTO schema_version (version) VALUES (99)")
    p = admin("entitlement list", check=False)
    assert p.returncode != 0 and "schema version 99" in p.stderr and "update licensed" in p.stderr


# The offline page in a browser ------------------------------------------------------


class Browser:
    """Headless Chromium driven over the DevTools protocol (websocket)."""

    def __init__(self, tmp):
        websocket = pytest.importorskip("websocket")
        exe = shutil.which("chromium")
        if not exe:
            pytest.skip("chromium is not installed")
        self.profile = os.path.join(tmp, "chromium")
        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-proxy-server", f"--user-data-dir={self.profile}", "--remote-debugging-address=127.0.0.1",
             "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            port_file = os.path.join(self.profile, "DevToolsActivePort")
            deadline = time.monotonic() + 60
            while not (os.path.exists(port_file) and len(open(port_file).read().split()) >= 2):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("chromium did not start its DevTools endpoint")
                time.sleep(0.1)
            port = int(open(port_file).read().split()[0])
            deadline = time.monotonic() + 30
            while True:
                import urllib.request
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as f:
                    pages = [t for t in json.load(f) if t["type"] == "page"]
                if pages or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30,
                                                  suppress_origin=True)
        except BaseException:
            self.close()
            raise
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m["result"]
            self.events.append(m)

    def eval(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait(self, expression, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = self.eval(expression)
            if v:
                return v
            time.sleep(0.1)
        raise TimeoutError(f"waiting for {expression}")

    def close(self):
        if getattr(self, "ws", None):
            try:
                self.call("Browser.close")
            except Exception:
                pass
            self.ws.close()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)  # the session chromium was started in, and only it
            self.proc.wait(10)


PAGE_STATE = """JSON.stringify({
  result: !document.getElementById("result").hidden,
  error: document.getElementById("error").hidden ? null : document.getElementById("error").textContent,
  license: document.getElementById("license").value,
  download: document.getElementById("download").download,
  href: document.getElementById("download").href,
})"""


def paste_and_submit(browser, text):
    browser.eval(f"""document.getElementById("result").hidden = true;
document.getElementById("error").hidden = true;
document.getElementById("request").value = {json.dumps(text)};
document.getElementById("submit").click(); true""")
    browser.wait('!document.getElementById("result").hidden || !document.getElementById("error").hidden')
    return json.loads(browser.eval(PAGE_STATE))


@sqlite_only
def test_offline_page_in_chromium(server, entitlement, vendor, vendor_keys, tmp_path):
    key = entitlement("--feature", "reports")
    d = machine()
    browser = Browser(str(tmp_path))
    try:
        browser.call("Page.enable")
        browser.call("Network.enable")
        browser.call("Log.enable")
        browser.call("Runtime.enable")
        browser.call("Page.navigate", url=server.url + "/offline")
        browser.wait('document.readyState === "complete" && !!document.getElementById("submit")')
        assert browser.eval("document.title") == "Offline activation"

        # The request code as 'licensectl activate --offline' prints it, with
        # CRLF line ends as if pasted from a mail.
        request = d.sign("activation", key=key, nonce=new_nonce()).replace("\n", "\r\n")
        state = paste_and_submit(browser, request)
        assert state["result"] and state["error"] is None, state
        l = inspect(vendor, vendor_keys[1], state["license"])
        assert l["machine_id"] == d.machine_id and l["product"] == PRODUCT
        assert state["download"] == l["id"] + ".lic" and state["href"].startswith("blob:")

        # A bad code shows the server's reason.
        state = paste_and_submit(browser, "this is not a request")
        assert not state["result"]
        assert "No license: no '-----BEGIN LICENSED ...-----' line found" in state["error"]
        # One seat, and d holds it.
        state = paste_and_submit(browser, machine().sign("activation", key=key))
        assert "No license: seat limit reached: 1 of 1 machines are active" in state["error"]
    finally:
        browser.close()

    assert_self_contained(browser, server)


def assert_self_contained(browser, server):
    """Everything the browser loaded came from the server itself, and the
    Content-Security-Policy refused nothing."""
    urls = [e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
    assert urls and all(u.startswith(server.url) for u in urls), urls
    logs = [json.dumps(e["params"]) for e in browser.events
            if e.get("method") in ("Log.entryAdded", "Runtime.consoleAPICalled", "Runtime.exceptionThrown")]
    assert not [l for l in logs if "Content Security Policy" in l or "Refused" in l], logs


PAGE_FULL_STATE = """JSON.stringify({
  title: document.title,
  hash: location.hash,
  request: document.getElementById("request").value,
  kind: document.getElementById("kind").hidden ? null : document.getElementById("kind").textContent,
  switchTo: document.getElementById("switch").hidden ? null : document.getElementById("switch").textContent,
  result: !document.getElementById("result").hidden,
  resultTitle: document.getElementById("result-title").textContent,
  resultText: document.getElementById("result-text").textContent,
  answerShown: !document.getElementById("answer").hidden,
  error: document.getElementById("error").hidden ? null : document.getElementById("error").textContent,
  license: document.getElementById("license").value,
  download: document.getElementById("download").download,
})"""


def open_page(browser, url):
    """Loads url afresh (a new document, not a same-page fragment change)."""
    browser.call("Page.navigate", url="about:blank")
    browser.wait('location.href === "about:blank"')
    browser.call("Page.navigate", url=url)
    browser.wait('document.readyState === "complete" && !!document.getElementById("submit")')
    return json.loads(browser.eval(PAGE_FULL_STATE))


def submit(browser):
    browser.eval("""document.getElementById("result").hidden = true;
document.getElementById("error").hidden = true;
document.getElementById("submit").click(); true""")
    browser.wait('!document.getElementById("result").hidden || !document.getElementById("error").hidden')
    return json.loads(browser.eval(PAGE_FULL_STATE))


def same_document(a, b):
    return a.replace("\r\n", "\n").strip() == b.replace("\r\n", "\n").strip()


def test_offline_page_round_trips_from_urls(server, entitlement, vendor, vendor_keys, tmp_path):
    """The three round trips in a browser, each opened from the URL that
    carries the request in its fragment (as licensectl prints it and its QR
    code holds), and a wrong kind of document refused with a sentence."""
    pub = open(vendor_keys[1]).read()
    key = entitlement("--seats", "1", "--feature", "reports")
    d = machine()
    page = server.url + "/offline"
    browser = Browser(str(tmp_path))
    try:
        for domain in ("Page", "Network", "Log", "Runtime"):
            browser.call(f"{domain}.enable")

        # activation
        request = d.sign("activation", key=key, nonce=new_nonce())
        state = open_page(browser, request_url(page, request))
        assert state["title"] == "Offline activation" and state["hash"] == "", state
        assert same_document(state["request"], request), state["request"]
        assert state["kind"] == "This is an activation request." and state["switchTo"] is None
        state = submit(browser)
        assert state["result"] and state["error"] is None and state["resultTitle"] == "Your license", state
        l = inspect(vendor, vendor_keys[1], state["license"])
        assert l["machine_id"] == d.machine_id and state["download"] == l["id"] + ".lic"
        lid = l["id"]

        # validation
        nonce = new_nonce()
        state = open_page(browser, request_url(page, d.sign("validation", license_id=lid, revision="1",
                                                             nonce=nonce)))
        assert state["title"] == "Offline validation" and state["kind"] == "This is a validation request."
        state = submit(browser)
        assert state["result"] and state["resultTitle"] == "Your validation receipt", state
        assert f"License {lid} is valid." in state["resultText"] and state["download"] == lid + ".receipt"
        f = verify(state["license"], pub, "VALIDATION RECEIPT")
        assert f["nonce"] == nonce and f["license-id"] == lid

        # deactivation: the seat is freed, the same proof refused after
        state = open_page(browser, request_url(page, d.sign("deactivation", license_id=lid, revision="1",
                                                             nonce=new_nonce())))
        assert state["title"] == "Offline deactivation" and state["kind"] == "This is a deactivation proof."
        state = submit(browser)
        assert state["result"] and state["resultTitle"] == "Seat freed" and not state["answerShown"], state
        assert f"The seat of license {lid} is free" in state["resultText"]
        state = submit(browser)
        assert state["error"] == "The seat was not freed: this deactivation proof was used before", state
        # the seat is free: another machine activates
        state = open_page(browser, request_url(page, machine().sign("activation", key=key)))
        assert submit(browser)["result"]

        # a validation request pasted on the activation tab: said at once,
        # and refused with the server's sentence
        open_page(browser, page + "#activation")
        browser.eval(f"""const r = document.getElementById("request");
r.value = {json.dumps(d.sign("validation", license_id=lid, revision="1"))};
r.dispatchEvent(new Event("input")); true""")
        state = json.loads(browser.eval(PAGE_FULL_STATE))
        assert state["kind"] == "This is a validation request; use Offline validation."
        assert state["switchTo"] == "Go to Offline validation"
        state = submit(browser)
        assert state["error"] == "This is a validation request; use Offline validation.", state
        browser.eval('document.getElementById("switch").click(); true')
        assert json.loads(browser.eval(PAGE_FULL_STATE))["title"] == "Offline validation"

        # an activation request pasted where a proof goes
        open_page(browser, page + "#deactivation")
        browser.eval(f'document.getElementById("request").value = {json.dumps(request)}; true')
        state = submit(browser)
        assert state["error"] == "This is an activation request; use Offline activation.", state

        # a link cut short
        state = open_page(browser, request_url(page, request)[:-40].rsplit(".", 1)[0])
        assert state["error"].startswith("The link does not hold a whole request"), state
    finally:
        browser.close()

    # the request never reached the server: fragments are not sent
    urls = [e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
    assert urls and not [u for u in urls if "request=" in u], urls
    logs = [json.dumps(e["params"]) for e in browser.events
            if e.get("method") in ("Log.entryAdded", "Runtime.consoleAPICalled", "Runtime.exceptionThrown")]
    assert not [l for l in logs if "Content Security Policy" in l or "Refused" in l], logs
