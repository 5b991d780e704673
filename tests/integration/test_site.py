# SPDX-License-Identifier: LGPL-2.1-or-later
"""licensed-site, the site server for floating licenses (docs/floating.md),
on loopback with real TLS: the floating license activated offline with the
site's own request, Python clients speaking the protocol, seats counted
in the site's database across restarts, and the leases checked with
lease_check_chain() (licensed-site check-lease)."""
import base64
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from conftest import write_product
from machine import armor, dearmor, tamper
from site_server import (EVENT_ALL_IN_USE, EVENT_BORROWED, EVENT_EXPIRED, EVENT_GRANTED, PRODUCT, SiteClient, SiteServer,
                  check_lease, lease_fields)


def make_site(tmp_path, vendor, vendor_keys, seats=3, ttl="2m", name="site"):
    """A started site server serving a floating license of PRODUCT with
    `seats` seats of feature cad, activated with the site's own request."""
    signing_key, public_key = vendor_keys
    products = str(tmp_path / "products")
    write_product(products, PRODUCT, public_key)
    site = SiteServer(str(tmp_path / name), products, ttl=ttl)
    site.start()  # the first start makes the site id and key
    key = vendor("key", "new").stdout.strip()
    req = tmp_path / f"{name}.req"
    req.write_text(site.cli("--product", PRODUCT, "activation-request", key).stdout)
    lic = tmp_path / f"{name}.lic"
    vendor("answer", "--signing-key", signing_key, "--request", str(req), "--id", f"{name}-float",
           "--licensee", "ACME Corp", "--type", "floating", "--feature", f"cad:limit={seats}", "--output",
           str(lic))
    out = site.cli("install", str(lic)).stdout
    assert f"Installed floating license {name}-float" in out
    site.stop()
    site.start()
    return site


@pytest.fixture
def site(tmp_path, vendor, vendor_keys):
    s = make_site(tmp_path, vendor, vendor_keys)
    yield s
    s.stop()


def test_three_seats_five_clients(site, tmp_path):
    clients = [SiteClient(site, user=f"user{i}") for i in range(5)]
    for c in clients:
        c.enrol()
    answers = [c.checkout() for c in clients]
    granted = [a for a in answers if a.status == 200]
    denied = [a for a in answers if a.status != 200]
    assert len(granted) == 3 and len(denied) == 2
    for a in denied:
        assert a.status == 409
        code, message = a.error
        assert code == "all-in-use"
        assert "all floating seats in use: 3 of 3 seats of feature cad" in message

    # Each lease is the client's, signed by the site key the license names.
    for c, a in zip(clients, answers[:3]):
        j = a.json
        f = lease_fields(j["lease"])
        assert f["machine-id"] == c.machine_id and f["device-key"] == c.pub
        assert f["site"] == site.site_id and f["product"] == PRODUCT and f["feature"] == "cad"
        assert f["user"] == c.user and f["host"] == c.host and f["id"] == j["lease_id"]
        assert j["ttl"] == 120
        out = check_lease(site, tmp_path, c, j["license"], j["lease"]).stdout
        assert f"Lease {j['lease_id']} of {PRODUCT} feature cad from site {site.site_id}" in out
        # and no one else's
        p = check_lease(site, tmp_path, clients[4], j["license"], j["lease"], check=False)
        assert p.returncode != 0 and "granted to another machine" in p.stderr

    assert len(site.events(EVENT_GRANTED)) == 3
    assert len(site.events(EVENT_ALL_IN_USE)) == 2
    assert "SEATS" not in site.events(EVENT_ALL_IN_USE)[0]  # the sentence, fields go to the journal
    status = clients[0].post("status", clients[0].document("status")).json
    assert status["features"] == [{"product": PRODUCT, "feature": "cad", "license": "site-float", "seats": 3,
                                   "used": 3}]

    # Returning one frees its seat for the next client.
    assert clients[0].give_back(answers[0].json["lease_id"]).json == {"returned": answers[0].json["lease_id"]}
    assert clients[3].checkout().status == 200
    assert clients[4].checkout().status == 409


def test_lease_expires_without_heartbeat(tmp_path, vendor, vendor_keys):
    site = make_site(tmp_path, vendor, vendor_keys, seats=2, ttl="3s")
    try:
        a, b, c = (SiteClient(site) for _ in range(3))
        for x in (a, b, c):
            x.enrol()
        la = a.checkout().json["lease_id"]
        lb = b.checkout().json["lease_id"]
        assert c.checkout().error[0] == "all-in-use"
        # b heartbeats, a does not: after the TTL a's seat is free, b's is not.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            hb = b.heartbeat(lb)
            assert hb.status == 200, hb.body
            time.sleep(1)
        assert lease_fields(hb.json["lease"])["id"] == lb
        got = c.checkout()
        assert got.status == 200, got.body
        assert a.heartbeat(la).error[0] == "unknown-lease"
        assert b.heartbeat(lb).status == 200
        # the sweep has told the journal
        deadline = time.monotonic() + 5
        while not site.events(EVENT_EXPIRED) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert any(la in e for e in site.events(EVENT_EXPIRED))
    finally:
        site.stop()


def test_restart_keeps_leases_and_the_count(site, tmp_path):
    clients = [SiteClient(site) for _ in range(4)]
    for c in clients:
        c.enrol()
    leases = [c.checkout().json["lease_id"] for c in clients[:3]]
    site.stop()
    site.start()
    assert clients[3].checkout().error[0] == "all-in-use"
    for c, l in zip(clients, leases):
        r = c.heartbeat(l)
        assert r.status == 200, r.body
        assert lease_fields(r.json["lease"])["site"] == site.site_id
    out = site.cli("status").stdout
    assert f"Site: {site.site_id}" in out
    assert all(l in out for l in leases)
    assert "Enrolled clients: 4" in out
    # the fingerprint the site prints is the certificate it serves
    fp = [l for l in out.splitlines() if l.startswith("Certificate SHA-256: ")][0].split(": ")[1]
    assert fp.replace(":", "").lower() == site.fingerprint


def test_crash_keeps_the_count(site):
    """SIGKILLed right after the grants: the leases were committed with them."""
    clients = [SiteClient(site) for _ in range(4)]
    for c in clients:
        c.enrol()
    assert [c.checkout().status for c in clients] == [200, 200, 200, 409]
    site.crash()
    site.start()
    assert clients[3].checkout().error[0] == "all-in-use"


def test_concurrent_checkouts_respect_the_seats(site):
    """12 clients at once for 3 seats: exactly 3 leases."""
    import concurrent.futures

    clients = [SiteClient(site) for _ in range(12)]
    for c in clients:
        c.enrol()
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(lambda c: c.checkout().status, clients))
    assert sorted(statuses) == [200] * 3 + [409] * 9
    assert len(site.events(EVENT_GRANTED)) == 3


def test_refusals(site, tmp_path):
    c = SiteClient(site)
    # never enrolled
    code, message = c.checkout().error
    assert code == "not-enrolled" and "enrol it with a join token" in message
    # a token works once
    token = site.token()
    c.enrol(token)
    other = SiteClient(site)
    r = other.post("enrol", other.document("enrol", token=token, host=other.host))
    assert r.status == 403 and r.error[0] == "bad-token"

    ok = c.checkout().json
    # a lease signed by another site key, with the same content
    kind, headers, body = dearmor(ok["lease"])
    forged = armor(kind, headers["Key-Id"], ed25519.Ed25519PrivateKey.generate().sign(body), body)
    p = check_lease(site, tmp_path, c, ok["license"], forged, check=False)
    assert p.returncode != 0 and "signature does not match" in p.stderr
    other_key = ed25519.Ed25519PrivateKey.generate()
    from machine import key_id
    from cryptography.hazmat.primitives import serialization
    raw = other_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    forged = armor(kind, key_id(raw), other_key.sign(body), body)
    p = check_lease(site, tmp_path, c, ok["license"], forged, check=False)
    assert p.returncode != 0 and "not from the site of license site-float" in p.stderr
    # an edited lease (the expiry moved on, signature kept)
    f = lease_fields(ok["lease"])
    edited = tamper(ok["lease"], f"expires: {f['expires']}".encode(), b"expires: 2099-01-01T00:00:00Z")
    p = check_lease(site, tmp_path, c, ok["license"], edited, check=False)
    assert p.returncode != 0 and "altered or damaged" in p.stderr
    # the genuine one is fine
    check_lease(site, tmp_path, c, ok["license"], ok["lease"])

    # an edited request
    doc = c.document("checkout", product=PRODUCT, feature="cad", user="alice", host=c.host)
    r = c.post("checkout", tamper(doc, b"user: alice", b"user: mallo"))
    assert r.status == 401 and r.error[0] == "bad-signature"
    # a replayed request
    doc = c.document("status")
    assert c.post("status", doc).status == 200
    r = c.post("status", doc)
    assert r.status == 409 and r.error[0] == "replay"
    # an old one
    r = c.post("status", c.document("status", created="2026-01-01T00:00:00Z"))
    assert r.error[0] == "replay"
    # for another site
    r = c.post("status", c.document("status", site_id="f" * 32))
    assert r.status == 403 and r.error[0] == "wrong-site"
    # the right key pair but not the enrolled one (another device key, same machine id)
    impostor = SiteClient(site)
    impostor.machine_id = c.machine_id
    assert impostor.heartbeat(ok["lease_id"]).error[0] == "not-enrolled"
    # another enrolled client cannot renew or return it
    other.enrol()
    assert other.heartbeat(ok["lease_id"]).error[0] == "unknown-lease"
    assert other.give_back(ok["lease_id"]).error[0] == "unknown-lease"
    # a type sent to another endpoint; a feature the license does not count
    assert c.post("checkout", c.document("status")).error[0] == "bad-request"
    r = c.checkout(feature="sim")
    assert r.status == 404 and r.error[0] == "no-floating-license"
    # not JSON, not our document
    r = site.request("POST", "/v1/checkout", {"request": "hello"})
    assert r.status == 400
    r = site.request("GET", "/v1/checkout")
    assert r.status == 405
    info = site.request("GET", "/v1/site").json
    assert info["site"] == site.site_id and info["licenses"] == [ok["license"]]


def test_borrow(site, tmp_path):
    c, d = SiteClient(site), SiteClient(site)
    c.enrol()
    d.enrol()
    r = c.borrow(time.time() + 8 * 86400)
    assert r.status == 400 and r.error[0] == "borrow-too-long"
    until = int(time.time()) + 3 * 86400
    r = c.borrow(until)
    assert r.status == 200, r.body
    f = lease_fields(r.json["lease"])
    assert "borrowed-until" in f
    out = check_lease(site, tmp_path, c, r.json["license"], r.json["lease"]).stdout
    assert f["borrowed-until"] in out
    assert len(site.events(EVENT_BORROWED)) == 1
    status = site.cli("status").stdout
    assert f["borrowed-until"] in status
    # it holds a seat: two more, then none
    assert d.checkout().status == 200 and d.checkout().status == 200
    assert d.checkout().error[0] == "all-in-use"
    assert c.give_back(r.json["lease_id"]).status == 200
    assert d.checkout().status == 200


def test_install_refuses_what_is_not_for_this_site(site, tmp_path, vendor, vendor_keys):
    signing_key, _ = vendor_keys
    key = vendor("key", "new").stdout.strip()
    req = tmp_path / "own.req"
    req.write_text(site.cli("--product", PRODUCT, "activation-request", key).stdout)
    # not floating
    lic = tmp_path / "sub.lic"
    vendor("answer", "--signing-key", signing_key, "--request", str(req), "--id", "sub", "--licensee", "ACME",
           "--type", "perpetual", "--feature", "cad", "--output", str(lic))
    p = site.cli("install", str(lic), check=False)
    assert p.returncode != 0 and "serves floating licenses only" in p.stderr
    # a floating license without seats is not a license
    p = vendor("answer", "--signing-key", signing_key, "--request", str(req), "--id", "x", "--licensee", "ACME",
               "--type", "floating", "--feature", "cad", "--output", str(tmp_path / "x.lic"), check=False)
    assert p.returncode != 0
    # bound to another machine (another site's request)
    other = make_site(tmp_path, vendor, vendor_keys, name="other")
    try:
        req2 = tmp_path / "other2.req"
        req2.write_text(other.cli("--product", PRODUCT, "activation-request", key).stdout)
        lic2 = tmp_path / "other2.lic"
        vendor("answer", "--signing-key", signing_key, "--request", str(req2), "--id", "o2", "--licensee", "ACME",
               "--type", "floating", "--feature", "cad:limit=1", "--output", str(lic2))
        p = site.cli("install", str(lic2), check=False)
        assert p.returncode != 0 and "not to this site" in p.stderr
    finally:
        other.stop()


def test_event_ids_agree():
    """site/site.h, systemd/licensed-site.catalog and docs/floating.md name
    the same MESSAGE_IDs, and each catalog entry uses only fields the site sends."""
    import os
    import re
    from conftest import SOURCE

    def read(*p):
        with open(os.path.join(SOURCE, *p)) as f:
            return f.read()

    ids = dict(re.findall(r'#define (SITE_EVENT_[A-Z_]+) "([0-9a-f]{32})"', read("site", "site.h")))
    assert len(ids) == 6 and len(set(ids.values())) == 6
    assert ids["SITE_EVENT_GRANTED"] == EVENT_GRANTED and ids["SITE_EVENT_EXPIRED"] == EVENT_EXPIRED
    parts = re.split(r"^-- ([0-9a-f]{32})\n", read("systemd", "licensed-site.catalog"), flags=re.M)
    catalog = dict(zip(parts[1::2], parts[2::2]))
    assert set(catalog) == set(ids.values())
    for mid, text in catalog.items():
        for field in re.findall(r"@([A-Z_]+)@", text):
            assert field in ("LEASE_ID", "PRODUCT", "FEATURE", "CLIENT_HOST", "CLIENT_USER", "SEATS_USED", "SEATS",
                             "BORROWED_UNTIL"), (mid, field)
    table = set(re.findall(r"^\| [^|]+ \| `([0-9a-f]{32})` \|", read("docs", "floating.md"), flags=re.M))
    assert table == set(ids.values())


def test_online_activation_against_licensed_server(tmp_path, vendor, vendor_keys):
    """licensed-site activate: the site's ACTIVATION REQUEST posted to
    licensed-server's /v1/activate, the floating license it answers
    installed and served."""
    from licensed_server import LicensedServer

    db = str(tmp_path / "vendor.db")
    key = vendor("entitlement", "create", "--db", db, "--product", PRODUCT, "--licensee", "ACME Corp", "--type",
                 "floating", "--feature", "cad:limit=2", "--seats", "1").stdout.strip()
    server = LicensedServer(db, vendor_keys[0])
    products = str(tmp_path / "products")
    write_product(products, PRODUCT, vendor_keys[1], server_url=server.url)
    site = SiteServer(str(tmp_path / "site"), products)
    try:
        site.start()
        # a key the server does not know
        p = site.cli("--product", PRODUCT, "activate", vendor("key", "new").stdout.strip(), check=False)
        assert p.returncode != 0 and "refused the activation (HTTP 404)" in p.stderr
        out = site.cli("--product", PRODUCT, "activate", key).stdout
        assert "Activated and installed floating license" in out
        site.stop()
        site.start()
        clients = [SiteClient(site) for _ in range(3)]
        for c in clients:
            c.enrol()
        assert [c.checkout().status for c in clients] == [200, 200, 409]
        # the server holds the site as the key's one activated machine
        (a,) = __import__("json").loads(vendor("activations", "--db", db, "--json", "--key", key).stdout)
        assert a["machine_id"] == site.site_id
    finally:
        try:
            site.stop()
        finally:
            server.stop()  # also when the site server's stop reports a finding
