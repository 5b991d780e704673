# SPDX-License-Identifier: LGPL-2.1-or-later
"""licensed-server attacked on its documented contract: malformed HTTP,
path tricks, wrong methods, query strings where none are expected, hostile
JSON, hostile portal forms, cookies and CSRF tokens, HTML in what a
license or a machine put in the database, and admin tokens that may not
write. Every refusal is a clear JSON error (a page for the portal) with
its status, never a crash, a hang or a 500; after each attack the server
still answers, and the admin API shows the database as it was.

The tests that touch the database run on both backends (the db fixture of
test_server.py). Sign-ins are rate limited per address: a test that signs
in many times comes from its own loopback address (127.0.0.N)."""
import http.client
import json
import re
import socket
import threading
import time
import urllib.parse

import pytest

pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
from licensed_server import LicensedServer  # noqa: E402
from machine import PRODUCT, new_nonce  # noqa: E402
from test_admin_api import Admin, make_token  # noqa: E402
from test_portal import Client  # noqa: E402
from test_server import activate, db, machine, raw, sqlite_only  # noqa: F401,E402

SOURCES = iter(range(2, 250))


@pytest.fixture
def site(db, vendor_keys, vendor):
    """A server on db with a write and a read token, and one entitlement
    whose licensee and machine's host name are HTML."""
    server = LicensedServer(db, vendor_keys[0])
    s = type("Site", (), {})()
    s.db, s.server, s.vendor = db, server, vendor
    s.write = make_token(vendor, db, "write", "shop")
    s.read = make_token(vendor, db, "read", "crm")
    s.admin = Admin(server, s.write)
    r = s.admin.post("/v1/admin/entitlements", {
        "product": PRODUCT, "licensee": 'ACME <script>alert("l")</script> & \'Co\'', "seats": 3,
        "features": ["x-f"]})
    assert r.status == 201, r.body
    s.key = r.json["license_key"]
    s.device = machine()
    r = activate(server, s.device, s.key, hostname='"><img src=x onerror=alert(1)>.example.com')
    assert r.status == 200, r.body
    s.license_id = r.json["license_id"]
    try:
        yield s
    finally:
        s.server.stop()


def state(site):
    """What the admin API shows of the database: every entitlement and
    every activation (last-seen times left out: validations move them)."""
    ents = site.admin.get("/v1/admin/entitlements?limit=1000")
    acts = site.admin.get("/v1/admin/activations")
    assert ents.status == 200 and acts.status == 200, (ents.body, acts.body)
    for a in acts.json["activations"]:
        a.pop("last_seen", None)
    return ents.json["entitlements"], acts.json["activations"]


def assert_portal_page(r, status, sentence):
    """Under /portal an error is the portal's page for a person, not JSON
    (docs/portal.md, "Security")."""
    assert r.status == status, (status, r.body)
    assert r.headers["Content-Type"] == "text/html; charset=utf-8", r.headers
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"], r.headers
    assert sentence in r.body.decode() and 'href="/portal"' in r.body.decode(), r.body


def assert_json_error(r, status, code=None, message=None):
    assert r.status == status, (status, r.body)
    assert r.headers["Content-Type"] == "application/json", r.headers
    got_code, got_message = r.error
    assert got_message, r.body
    if code:
        assert got_code == code, r.body
    if message:
        assert message in got_message, got_message


def raw_reply(server, data, timeout=10):
    """(status, headers text, body) of what raw() got back."""
    out = raw(server, data, timeout)
    head, _, body = out.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", head)
    assert m, out[:300]
    return int(m.group(1)), head.decode("latin-1"), body


# Malformed HTTP -----------------------------------------------------------------

# What libmicrohttpd refuses itself, before the server sees a request: its
# own short HTML page (docs/protocol.md, "Errors").
HTTP_GARBAGE = [
    (b"GET /v1/health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"y" * 100) for i in range(400))
     + b"\r\n", 431),
    (b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX: " + b"y" * 40000 + b"\r\n\r\n", 431),
    (b"GET /v1/" + b"a" * 40000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"POST /v1/activate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}", 400),
    (b"POST /v1/activate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n{}", 400),
    (b"POST /v1/activate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"zz\r\n{}\r\n0\r\n\r\n", 400),
    (b"POST /v1/activate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"ffffffffffffffffff\r\n{}\r\n0\r\n\r\n", 413),
    (b"GET /v1/health HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    (b"GET /v1/health\r\n\r\n", 400),
]


@sqlite_only
def test_http_the_library_refuses(site):
    before = state(site)
    for data, status in HTTP_GARBAGE:
        got, head, _ = raw_reply(site.server, data)
        assert got == status, (data[:80], head)
    assert site.server.alive() and state(site) == before


@sqlite_only
def test_bodies_past_the_limit_and_short_bodies(site):
    before = state(site)
    # Announced too large: refused before the body is read, as JSON...
    status, head, body = raw_reply(site.server, b"POST /v1/activate HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                   b"application/json\r\nContent-Length: 999999\r\nExpect: 100-continue\r\n\r\n")
    assert status == 413 and json.loads(body)["error"]["code"] == "too-large"
    # ... chunked past the limit, on an admin route too
    chunk = b"a" * 8192
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(10)) + b"0\r\n\r\n"
    status, _, body = raw_reply(site.server, b"POST /v1/admin/entitlements HTTP/1.1\r\nHost: x\r\nAuthorization: "
                                b"Bearer " + site.write.encode() + b"\r\nContent-Type: application/json\r\n"
                                b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunked)
    assert status == 413 and json.loads(body)["error"]["code"] == "too-large"
    # A body shorter than its Content-Length, then the end: no answer, no change.
    for path in (b"/v1/activate", b"/v1/admin/entitlements"):
        out = raw(site.server, b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                  site.write.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                  b'{"product": "com.example.app", "licensee": "x"}')
        assert out == b"", out[:200]
    # A GET with a body: the body is not read as anything.
    status, _, body = raw_reply(site.server, b"GET /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                b"Connection: close\r\n\r\nhello")
    assert status == 200 and json.loads(body)["status"] == "ok"
    assert site.server.alive() and state(site) == before


@sqlite_only
def test_slowloris_is_bounded(db, vendor_keys):
    """Many connections that send half a request and stop: each is closed
    after --timeout, and others are served meanwhile."""
    s = LicensedServer(db, vendor_keys[0], extra=("--timeout", "2"))
    socks = []
    try:
        for i in range(40):
            c = socket.create_connection((s.host, s.port), timeout=10)
            c.sendall(b"POST /v1/activate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" if i % 2 else
                      b"POST /v1/activate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 50\r\n\r\n{")
            socks.append(c)
        assert s.alive()
        start = time.monotonic()
        for c in socks:
            try:
                assert c.recv(100) == b""
            except ConnectionResetError:
                pass
        assert time.monotonic() - start < 8
        assert s.alive()
    finally:
        for c in socks:
            c.close()
        s.stop()


# Routes, methods, paths ----------------------------------------------------------

ROUTES = [("POST", "/v1/activate"), ("POST", "/v1/validate"), ("POST", "/v1/deactivate"), ("POST", "/v1/offline"),
          ("POST", "/v1/trial"), ("GET", "/v1/health"), ("GET", "/v1/openapi.json"), ("GET", "/"),
          ("GET", "/offline"), ("GET", "/portal"), ("POST", "/portal/sign-in"), ("POST", "/portal/sign-out"),
          ("POST", "/portal/release"), ("GET", "/portal/license/{key}"), ("GET", "/v1/admin/entitlements"),
          ("POST", "/v1/admin/entitlements"), ("GET", "/v1/admin/entitlements/{key}"),
          ("POST", "/v1/admin/entitlements/{key}/upgrade"), ("POST", "/v1/admin/entitlements/{key}/revoke"),
          ("GET", "/v1/admin/entitlements/{key}/activations"), ("POST", "/v1/admin/entitlements/{key}/release"),
          ("GET", "/v1/admin/activations"), ("GET", "/v1/admin/products"), ("GET", "/v1/admin/keys")]


@sqlite_only
def test_wrong_methods_on_every_route(site):
    before = state(site)
    for method, pattern in ROUTES:
        path = pattern.replace("{key}", site.key)
        allowed = {m for m, p in ROUTES if p == pattern}
        allow = ", ".join((["GET", "HEAD"] if "GET" in allowed else []) + (["POST"] if "POST" in allowed else []))
        for wrong in ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "get"):
            if wrong in allowed:
                continue
            r = site.server.request(wrong, path, b"{}" if wrong in ("POST", "PUT", "PATCH") else None,
                                    headers={"Authorization": "Bearer " + site.write})
            if path.startswith("/portal"):
                assert_portal_page(r, 405, f"does not answer {wrong} requests")
            else:
                assert_json_error(r, 405, "method-not-allowed", f"{wrong} is not allowed on {path}")
            assert r.headers["Allow"] == allow, (path, r.headers)
    assert site.server.alive() and state(site) == before


PATH_TRICKS = ["/portal/../v1/health", "/v1/%2e%2e/v1/health", "/v1/./health", "//v1/health", "/v1//health",
               "/v1/health/", "/V1/HEALTH", "/v1/health%00", "/v1/health%00.json", "/v1/admin/keys%00x",
               "/portal%00", "/v1/health%2F", "/v1/health#x", "http://evil/v1/health", "*",
               "/v1/admin/entitlements/%2e%2e/activations/x", "/v1/" + "a" * 3000]


@sqlite_only
def test_path_tricks_are_not_found(site):
    """No path reaches a route it does not spell: no dot segments, no
    doubled or trailing slashes, no case folding, and no encoded NUL that
    would end the path early (%00)."""
    before = state(site)
    for path in PATH_TRICKS:
        for method in ("GET", "POST"):
            r = site.server.request(method, path, b"{}" if method == "POST" else None,
                                    headers={"Authorization": "Bearer " + site.write})
            if path.startswith("/portal/"):
                assert_portal_page(r, 404, "The portal has no page at this address.")
            else:
                assert_json_error(r, 404, "not-found", "there is nothing at ")
    # A key in the path with a NUL after it is not the key.
    r = site.admin.get(f"/v1/admin/entitlements/{site.key}%00/activations")
    assert r.status in (400, 404), r.body
    # an encoded character that is not a NUL is the character
    assert site.server.request("GET", "/v1/%68ealth").json["status"] == "ok"
    assert site.server.alive() and state(site) == before


@sqlite_only
def test_query_strings(site):
    """The public routes ignore a query string (a cache buster); an admin
    route refuses a parameter it does not take, as it refuses an unknown
    member of a body."""
    before = state(site)
    r = site.server.request("GET", "/v1/health?x=1&y")
    assert r.status == 200 and r.json["status"] == "ok"
    r = site.server.post("/v1/activate?request=x", {"nothing": 1})
    assert_json_error(r, 400, "bad-request", '"request"')
    for path in ("/v1/admin/products?x=1", "/v1/admin/activations?key=" + site.key, "/v1/admin/keys?all=1",
                 f"/v1/admin/entitlements/{site.key}?x=1", f"/v1/admin/entitlements/{site.key}/activations?x=1",
                 "/v1/admin/entitlements?foo=1"):
        r = site.admin.get(path)
        assert_json_error(r, 400, "bad-request", "unknown member")
    # the parameters that are taken, with hostile values
    for query, message in [("limit=0", '"limit"'), ("limit=99999999999999999999", '"limit"'),
                           ("limit=-1", '"limit"'), ("limit=1e3", '"limit"'), ("state=%00", '"state"'),
                           ("state=<x>", '"state"'), ("cursor=%25", '"cursor"'), ("cursor=" + "A" * 4000, '"cursor"'),
                           ("product=%01", '"product" is not printable UTF-8'), ("%ff=1", "name is not printable")]:
        r = site.admin.get("/v1/admin/entitlements?" + query)
        assert_json_error(r, 400, "bad-request", message)
    # %00 stays text: no filter is cut short into a shorter one
    for query in ("product=%00", "licensee=A%00B", "licensee=ACME%00"):
        r = site.admin.get("/v1/admin/entitlements?" + query)
        assert r.status == 200 and r.json["entitlements"] == [], (query, r.body)
    # an admin POST takes no query string: it would be a change not made
    r = site.admin.post(f"/v1/admin/entitlements/{site.key}/upgrade?seats=9", {"licensee": "Changed"})
    assert_json_error(r, 400, "bad-request", "not in the query string")
    assert site.server.alive() and state(site) == before


def test_non_utf8_in_a_query_is_no_500(site):
    """PostgreSQL refuses a parameter that is not UTF-8 with an error: the
    server refuses it first, on either backend."""
    before = state(site)
    for query in ("product=%ff", "licensee=%c3%28", "licensee=%ed%a0%80", "state=%c0%80", "cursor=%fe"):
        r = site.admin.get("/v1/admin/entitlements?" + query)
        assert_json_error(r, 400, "bad-request", "is not printable UTF-8")
    assert site.admin.get("/v1/admin/entitlements?licensee=" + urllib.parse.quote("ACME <script>")).json[
        "entitlements"][0]["license_key"] == site.key
    assert site.server.alive() and state(site) == before


# JSON -----------------------------------------------------------------------------

PUBLIC_POSTS = {"/v1/activate": "request", "/v1/validate": "request", "/v1/deactivate": "proof",
                "/v1/offline": "request", "/v1/trial": "request"}
WRONG_TYPES = [5, -1, 1.5, 1e308, True, None, [], ["x"], {}, {"a": "b"}, 18446744073709551616]


def test_public_json_of_every_wrong_type(site):
    before = state(site)
    for path, member in PUBLIC_POSTS.items():
        for value in WRONG_TYPES:
            r = site.server.post(path, {member: value})
            assert_json_error(r, 400, "bad-request", f'"{member}"')
        for body in (b"{}", b'{"extra": 1}', b'{"' + member.encode() + b'": "x\\u0000y"}',
                     b'{"' + member.encode() + b'": "\xc3\x28"}', b'{"a":' * 3000 + b"1" + b"}" * 3000,
                     b'{"' + member.encode() + b'": 1' + b"0" * 400 + b"}"):
            r = site.server.post(path, body)
            assert r.status == 400 and r.headers["Content-Type"] == "application/json", (path, body[:40], r.body)
    for value in WRONG_TYPES + ["", "ACTIVATION", "activation\n", "license"]:
        r = site.server.post("/v1/offline", {"kind": value, "request": "x"})
        assert_json_error(r, 400, "bad-request", '"kind" is "activation"')
    assert site.server.alive() and state(site) == before


def test_nul_in_a_json_string_is_refused(site):
    """json-c decodes \\u0000 into the string, and C would cut it there: a
    licensee "A\\u0000B" must not become "A"."""
    before = state(site)
    P = "/v1/admin/entitlements"
    for body in ({"product": PRODUCT, "licensee": "A\u0000B"}, {"product": PRODUCT + "\u0000x", "licensee": "A"},
                 {"product": PRODUCT, "licensee": "A", "features": ["f\u0000g"]},
                 {"product": PRODUCT, "licensee": "A", "properties": {"a": "b\u0000c"}},
                 {"product": PRODUCT, "licensee": "A", "properties": {"a\u0000z": "b"}},
                 {"product": PRODUCT, "licensee": "A", "license_key": site.key + "\u0000"}):
        r = site.admin.post(P, body)
        assert_json_error(r, 400, "invalid-json", "NUL")
    r = site.admin.post(f"{P}/{site.key}/upgrade", {"licensee": "B\u0000C"})
    assert_json_error(r, 400, "invalid-json", "NUL")
    r = site.admin.post(f"{P}/{site.key}/release", {"machine_id": site.device.machine_id + "\u0000"})
    assert_json_error(r, 400, "invalid-json", "NUL")
    # an escaped backslash before "u0000" is no NUL
    r = site.admin.post(P, {"product": PRODUCT, "licensee": "A\\u0000B"})
    assert r.status == 201 and r.json["licensee"] == "A\\u0000B", r.body
    site.admin.post(f"{P}/{r.json['license_key']}/revoke")
    after = state(site)
    assert [e for e in after[0] if e["license_key"] != r.json["license_key"]] == before[0]


def test_admin_json_of_every_wrong_type(site):
    before = state(site)
    P = "/v1/admin/entitlements"
    base = {"product": PRODUCT, "licensee": "A"}
    fields = {"product": '"product"', "licensee": '"licensee"', "type": '"type"', "not_after": '"not_after"',
              "seats": '"seats"', "license_key": '"license_key"', "features": '"features"',
              "properties": '"properties"', "trial_days": '"trial_days"',
              "deactivation_requires_maintenance": '"deactivation_requires_maintenance"'}
    for name, message in fields.items():
        for value in WRONG_TYPES:
            good = {"features": [["x"]], "properties": [{"a": "b"}], "seats": [5],
                    "deactivation_requires_maintenance": [True]}.get(name, []) + [None, [], {}]
            if any(value == g and type(value) is type(g) for g in good):
                continue  # nothing given, or good
            r = site.admin.post(P, {**base, name: value})
            assert r.status == 400 and r.error[0] == "bad-request", (name, value, r.body)
    for body, message in [({}, "a product is required"), ({**base, "extra": 1}, 'unknown member "extra"'),
                          ({**base, "licensee": "A" * 60000}, "not valid"),
                          ({**base, "licensee": "A\nB: c"}, "not valid"),
                          ({**base, "features": ["f%d" % i for i in range(3000)]}, "more than 256 features"),
                          ({**base, "server_url": "javascript:alert(1)"}, "http")]:
        r = site.admin.post(P, body)
        assert_json_error(r, 400, "bad-request", message)
    K = f"{P}/{site.key}"
    for path, body, message in [
            (f"{K}/upgrade", {"remove_features": [5]}, '"remove_features"'),
            (f"{K}/upgrade", {"remove_features": [None]}, '"remove_features"'),
            (f"{K}/upgrade", {"remove_features": [{"a": 1}]}, '"remove_features"'),
            (f"{K}/upgrade", {"remove_features": "x-f"}, '"remove_features"'),
            (f"{K}/upgrade", {"revision": "abc", "seats": 2}, '"revision"'),
            (f"{K}/upgrade", {"seats": 0}, '"seats"'), (f"{K}/upgrade", {}, "nothing to change"),
            (f"{K}/revoke", {"x": 1}, 'unknown member "x"'),
            (f"{K}/release", {"machine_id": "a", "proof": "b"}, "either"), (f"{K}/release", {}, "either"),
            (f"{K}/release", {"machine_id": 5}, '"machine_id"'),
            (f"{K}/release", {"proof": "-----BEGIN LICENSED DEACTIVATION PROOF-----\nxx\n"}, None)]:
        r = site.admin.post(path, body)
        assert_json_error(r, 400, "bad-request", message)
    # duplicate members: the last one counts, as documented
    r = site.server.request("POST", P, b'{"product": "x", "product": "' + PRODUCT.encode() + b'", "licensee": "D"}',
                            headers={"Authorization": "Bearer " + site.write})
    assert r.status == 201 and r.json["product"] == PRODUCT, r.body
    site.admin.post(f"{P}/{r.json['license_key']}/revoke")
    after = state(site)
    assert [e for e in after[0] if e["license_key"] != r.json["license_key"]] == before[0]
    assert after[1] == before[1]


# Admin tokens ---------------------------------------------------------------------


def vendor_view(site):
    """The licenses as licensed-vendor reads them from the database itself."""
    ents = json.loads(site.vendor("--json", "entitlement", "list", "--db", site.db).stdout)
    acts = json.loads(site.vendor("--json", "activations", "--db", site.db).stdout)
    return ents, [{k: v for k, v in a.items() if k != "last_seen"} for a in acts]


def test_tokens_that_may_not_write_change_nothing(site):
    before, on_disk = state(site), vendor_view(site)
    expired = make_token(site.vendor, site.db, "write", "old", "--expires", "2020-01-01T00:00:00Z")
    writes = [("/v1/admin/entitlements", {"product": PRODUCT, "licensee": "X"}),
              (f"/v1/admin/entitlements/{site.key}/upgrade", {"seats": 9}),
              (f"/v1/admin/entitlements/{site.key}/revoke", {}),
              (f"/v1/admin/entitlements/{site.key}/release", {"machine_id": site.device.machine_id})]
    # ("bearer" in any case and more than one space are the token: RFC 7235, 6750)
    headers = [None, "", "Bearer", "Bearer ", "Basic " + site.write, "Bearer" + site.write,
               "Bearer " + site.write + " x", "Bearer " + site.write[:-1], "Bearer " + site.write + "%00",
               "Bearer " + "A" * 5000, "Bearer " + expired, "Bearer " + site.read]
    for path, body in writes:
        for h in headers:
            r = site.server.post(path, body, headers={} if h is None else {"Authorization": h})
            if h == "Bearer " + site.read:
                assert_json_error(r, 403, "forbidden", "needs a write token")
            else:
                assert_json_error(r, 401, "unauthorized")
                assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert site.server.alive() and state(site) == before and vendor_view(site) == on_disk


# The portal -------------------------------------------------------------------------


class Browser(Client):
    """test_portal's Client from a loopback source address of its own (so
    that each test's sign-ins have their own rate limit bucket)."""

    def __init__(self, server, source=None):
        super().__init__(server)
        self.source = source or f"127.0.0.{next(SOURCES)}"

    def connection(self):
        return http.client.HTTPConnection(self.server.host, self.server.port, timeout=10,
                                          source_address=(self.source, 0))

    def token(self, path="/portal"):
        status, _, body = self.request("GET", path)
        assert status == 200, body
        return re.search(r'name="csrf" value="([0-9a-f]{64})"', body).group(1)

    def sign_in(self, key):
        status, _, body = self.request("POST", "/portal/sign-in", {"csrf": self.token(), "key": key})
        assert status == 303, body
        return self.token()


def page_says(body, text):
    assert body.startswith("<!DOCTYPE html>"), body[:300]
    assert text in body, body


def test_sign_in_forms(site):
    before = state(site)

    def sign_in(form_of):
        b = Browser(site.server)
        return b.request("POST", "/portal/sign-in", form_of(b.token()))

    cases = [
        (lambda t: f"csrf={t}&key={site.key.lower()}", 303, None),
        (lambda t: f"csrf={t}&key=+{site.key.replace('-', '+')}+", 303, None),
        (lambda t: f"csrf={t}&key={site.key}&key=AAAAA", 303, None),  # the first of a name counts
        (lambda t: f"csrf={t}&&=&&key={site.key}&", 303, None),
        (lambda t: f"csrf={t}&key=" + urllib.parse.quote("\uff31" + site.key[1:]), 400, "not a license key"),
        (lambda t: f"csrf={t}&key=%ff%fe", 400, "not a license key"),
        (lambda t: f"csrf={t}&key=" + "A" * 60000, 400, "too long"),
        (lambda t: f"csrf={t}&key={site.key}%00", 400, "not valid in a form"),
        (lambda t: f"csrf={t}&key={site.key}\x00junk", 400, "not valid in a form"),
        (lambda t: f"csrf={t}&key=%zz", 400, "not valid in a form"),
        (lambda t: f"csrf={t}&key={site.key}%4", 400, "not valid in a form"),
        (lambda t: f"csrf={t}", 400, "the form had no key"),
        (lambda t: f"csrf={t}&key=", 400, "not a license key"),
        (lambda t: f"csrf={t}&KEY={site.key}", 400, "the form had no key"),
        (lambda t: f"key={site.key}", 403, "The sign-in form had expired"),
        (lambda t: f"csrf=0&csrf={t}&key={site.key}", 403, "The sign-in form had expired"),
        (lambda t: f"csrf={t.upper()}&key={site.key}", 403, "The sign-in form had expired"),
        (lambda t: f"csrf={t}%00&key={site.key}", 403, "The sign-in form had expired"),
    ]
    for form_of, status, text in cases:
        got, headers, body = sign_in(form_of)
        assert got == status, (form_of("T")[:80], body)
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        if text:
            page_says(body, text)
    # too large, announced or chunked: a page, not JSON
    b = Browser(site.server)
    status, headers, body = b.request("POST", "/portal/sign-in", f"csrf={b.token()}&key={site.key}&" + "x" * 70000)
    assert status == 413 and headers["Content-Type"] == "text/html; charset=utf-8"
    page_says(body, "The form was too large.")
    assert site.server.alive() and state(site) == before


def test_sessions_cookies_and_csrf(site):
    """A forged or foreign session cookie is no session; the CSRF token of
    another session (of the same key) is refused; another key's signed-in
    customer sees nothing of this key."""
    before = state(site)
    other = site.admin.post("/v1/admin/entitlements", {"product": PRODUCT, "licensee": "Other"}).json["license_key"]
    before = state(site)
    mine, theirs = Browser(site.server), Browser(site.server)
    csrf = mine.sign_in(site.key)
    their_csrf = theirs.sign_in(other)
    second = Browser(site.server)
    second_csrf = second.sign_in(site.key)

    for cookie in ("0" * 64, "<script>", "a" * 5000, mine.cookies["licensed_portal"].upper(),
                   mine.cookies["licensed_portal"][:-1], mine.cookies["licensed_portal"] + "0", ""):
        b = Browser(site.server)
        b.cookies["licensed_portal"] = cookie
        status, _, body = b.request("POST", "/portal/release", {"csrf": csrf, "license_id": site.license_id})
        assert status == 401, (cookie[:20], body)
        page_says(body, "Sign in")
    # the CSRF token of another session, of the same key or another: 403
    for token in (second_csrf, their_csrf, csrf[::-1], "", csrf + "0"):
        status, _, body = mine.request("POST", "/portal/release", {"csrf": token, "license_id": site.license_id})
        assert status == 403, body
        page_says(body, "The form was not sent from this portal")
    # another key's customer: the machine is "no such machine"
    status, _, body = theirs.request("POST", "/portal/release", {"csrf": their_csrf, "license_id": site.license_id})
    assert status == 404
    status, _, body = theirs.request("GET", f"/portal/license/{site.license_id}")
    assert status == 404 and "BEGIN LICENSED" not in body
    # form fields missing, doubled, oversized, odd
    for form in ({"csrf": csrf}, {"csrf": csrf, "license_id": ""}, {"csrf": csrf, "license_id": "x" * 10000},
                 {"csrf": csrf, "license_id": site.license_id + "\u0000"},
                 {"csrf": csrf, "license_id": "' OR 1=1 --"}, {"csrf": csrf, "license_id": site.license_id.upper()}):
        status, _, body = mine.request("POST", "/portal/release", form)
        assert status in (400, 404), (form, body)
        assert body.startswith("<!DOCTYPE html>")
    status, _, body = mine.request("POST", "/portal/release", f"license_id=x&csrf={csrf}&license_id={site.license_id}")
    assert status == 404, body  # the first license_id counts
    status, _, body = mine.request("GET", "/portal/license/%00" + site.license_id)
    assert status in (400, 404)
    assert site.server.alive() and state(site) == before
    # the sign-out of another session's token leaves both signed in
    status, _, _ = mine.request("POST", "/portal/sign-out", {"csrf": second_csrf})
    assert status == 403
    assert "licensed_portal" in mine.cookies and mine.request("GET", "/portal")[0] == 200


def test_release_twice_at_once(site):
    """Two sessions release the same machine at the same moment: one
    release, one 409, one seat freed, one release counted."""
    a, b = Browser(site.server), Browser(site.server)
    csrf_a, csrf_b = a.sign_in(site.key), b.sign_in(site.key)
    results = []
    go = threading.Barrier(2)

    def release(browser, csrf):
        go.wait(10)
        results.append(browser.request("POST", "/portal/release", {"csrf": csrf, "license_id": site.license_id}))

    threads = [threading.Thread(target=release, args=args) for args in ((a, csrf_a), (b, csrf_b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    statuses = sorted(r[0] for r in results)
    assert statuses == [303, 409], [(r[0], r[2][:300]) for r in results]
    (act,) = state(site)[1]
    assert act["released"] is not None
    (ent,) = [e for e in state(site)[0] if e["license_key"] == site.key]
    assert ent["active"] == 0
    # one release counted against the limit: two more are allowed (3 per 30 days)
    for _ in range(2):
        r = activate(site.server, site.device, site.key)
        assert r.status == 200, r.body
        status, _, body = a.request("POST", "/portal/release", {"csrf": csrf_a, "license_id": site.license_id})
        assert status == 303, body
    r = activate(site.server, site.device, site.key)
    status, _, body = a.request("POST", "/portal/release", {"csrf": csrf_a, "license_id": site.license_id})
    assert status == 409 and "No release possible now" in body


def test_what_the_database_holds_is_escaped(site):
    """The licensee and a machine's host name are the
    customer's or the vendor's text: escaped in the page, never markup."""
    b = Browser(site.server)
    b.sign_in(site.key)
    status, headers, body = b.request("GET", "/portal")
    assert status == 200
    assert "<script>" not in body and "<img" not in body
    assert "ACME &lt;script&gt;alert(&quot;l&quot;)&lt;/script&gt; &amp; &#39;Co&#39;" in body
    assert "x-f" in body  # a feature name is 1-64 of a-z 0-9 . _ -: no markup gets in
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;.example.com" in body
    assert "script-src" not in headers["Content-Security-Policy"]
    # the download's header carries the server's license id, nothing of the host name
    status, headers, text = b.request("GET", f"/portal/license/{site.license_id}")
    assert status == 200 and headers["Content-Disposition"] == f'attachment; filename="{site.license_id}.lic"'


@sqlite_only
def test_branding_cannot_inject(db, vendor_keys):
    """Branding options with a line break, markup or a script URL are
    refused at start, or escaped in the page."""
    from conftest import binary, run
    for option, value in (("--portal-title", "A\r\nSet-Cookie: x=1"), ("--portal-support", "javascript:alert(1)"),
                          ("--portal-logo-url", 'https://x/"><script>'), ("--portal-color", "red;}body{x:y"),
                          ("--portal-logo-url", "http://x/logo.png"), ("--portal-support", "help+<x>@example.com"),
                          ("--portal-support", "https://example.com/help?a=<b>")):
        p = run([binary("licensed-server"), "--db", db, "--signing-key", vendor_keys[0], "--listen", "127.0.0.1:0",
                 option, value], check=False, timeout=10)
        assert p.returncode != 0 and option in p.stderr, (option, value, p.stderr)
    s = LicensedServer(db, vendor_keys[0], extra=("--portal-title", 'A "<b>" & \'c\'', "--portal-support",
                                                   "https://example.com/help?a=1&b=2"))
    try:
        status, headers, body = Browser(s).request("GET", "/portal")
        assert status == 200 and "<b>" not in body and "A &quot;&lt;b&gt;&quot; &amp; &#39;c&#39;" in body
        assert 'href="https://example.com/help?a=1&amp;b=2"' in body
        assert all("\n" not in v for v in headers.values())
    finally:
        s.stop()


@sqlite_only
def test_a_path_cannot_forge_log_lines(site):
    """The path is logged: %0a, %0d and %1b in it are no new line and no
    terminal escape in the log."""
    for path in ("/v1/health%0aFORGED:%20200%20ok", "/nothing%0d%0aFORGED:%20200%20ok", "/x%1b[2JFORGED"):
        r = site.server.request("GET", path)
        assert r.status in (200, 404)
    log = site.server.read_log()
    assert "\x1b" not in log
    assert not [line for line in log.splitlines() if line.startswith("FORGED")], log[-2000:]
    assert "?FORGED: 200 ok" in log


@sqlite_only
def test_ambiguous_body_length_is_refused_and_closed(site):
    """Two Content-Length headers, or one with Transfer-Encoding: a proxy
    and the server could split the bytes into requests differently
    (request smuggling). Refused with 400, the connection closed, and the
    bytes after the first body never read as a request."""
    before = state(site)
    smuggled = (b"POST /v1/admin/entitlements HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + site.write.encode() +
                b"\r\nContent-Type: application/json\r\nContent-Length: 47\r\n\r\n"
                b'{"product": "com.example.app", "licensee": "S"}')
    chunked = b"2\r\n{}\r\n0\r\n\r\n"
    for framing, body in ((b"Content-Length: 2\r\nContent-Length: %d\r\n" % (2 + len(smuggled)), b"{}"),
                          (b"Content-Length: 2\r\nContent-Length: 2\r\n", b"{}"),
                          (b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n" % len(chunked), chunked),
                          (b"Transfer-Encoding: chunked\r\nContent-Length: 2\r\n", chunked)):
        out = raw(site.server, b"POST /v1/activate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
                  framing + b"\r\n" + body + smuggled)
        assert out.count(b"HTTP/1.1 ") == 1, out
        status, head, reply = raw_reply(site.server, b"POST /v1/activate HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                        b"application/json\r\n" + framing + b"\r\n" + body)
        assert status == 400 and "Connection: close" in head
        assert "ambiguous" in json.loads(reply)["error"]["message"]
    # one Content-Length, and a second request after it: both answered
    out = raw(site.server, b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert out.count(b"HTTP/1.1 200 ") == 2
    assert site.server.alive() and state(site) == before


def concurrently(n, fn):
    """fn(i) for i in range(n) on n threads released at once; the results."""
    go = threading.Barrier(n)
    results = [None] * n

    def run(i):
        go.wait(10)
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_racing_admin_writes(site):
    """The same new key created by eight callers at once: one 201, the rest
    409 `exists`; eight upgrades at the same revision: one 200, the rest
    409 `conflict`. Never a 500 from a unique index or a lost update."""
    key = site.vendor("key", "new").stdout.strip()
    rs = concurrently(8, lambda i: site.admin.post("/v1/admin/entitlements", {
        "product": PRODUCT, "licensee": f"Racer {i}", "license_key": key}))
    assert sorted(r.status for r in rs) == [201] + [409] * 7, [(r.status, r.body) for r in rs]
    assert all(r.error[0] == "exists" for r in rs if r.status == 409)
    revision = site.admin.get(f"/v1/admin/entitlements/{key}").json["revision"]
    rs = concurrently(8, lambda i: site.admin.post(f"/v1/admin/entitlements/{key}/upgrade", {
        "revision": revision, "seats": i + 2}))
    assert sorted(r.status for r in rs) == [200] + [409] * 7, [(r.status, r.body) for r in rs]
    (won,) = [r for r in rs if r.status == 200]
    now = site.admin.get(f"/v1/admin/entitlements/{key}").json
    assert now["revision"] == revision + 1 and now["seats"] == won.json["seats"]
    # and revokes at once: each answers the revoked entitlement
    rs = concurrently(4, lambda i: site.admin.post(f"/v1/admin/entitlements/{key}/revoke"))
    assert all(r.status == 200 and r.json["revoked"] for r in rs), [(r.status, r.body) for r in rs]
    assert site.server.alive()


def test_hostile_signed_requests(site):
    """A machine signs its requests with its own key, so every field of one
    is the attacker's: each hostile value is a 400 `invalid-request` (or
    taken as harmless text), never a 500 on either backend."""
    from machine import KINDS, armor
    kinds = {**KINDS, "trial": "TRIAL REQUEST"}
    d = machine()

    def signed(kind, replace, over):
        base = {"key": site.key} if kind == "activation" else {"license_id": None, "revision": None} \
            if kind == "trial" else {}
        body = d.body(kind, **{**base, **over})
        if replace:
            body = body.replace(*replace)
        return armor(kinds[kind], d.key_id, d.key.sign(body), body)

    before = state(site)
    for kind, path, member in (("activation", "/v1/activate", "request"), ("validation", "/v1/validate", "request"),
                               ("deactivation", "/v1/deactivate", "proof"), ("trial", "/v1/trial", "request")):
        for replace, over in [((b"build-01.example.com", b"\xff\xfe.example.com"), {}),
                              ((b"build-01.example.com", b"a\x1b[31mb"), {}),
                              ((b"build-01.example.com", b"a\x00b"), {}),
                              (None, {"hostname": "h" * 5000}), (None, {"nonce": "zz" * 16}),
                              (None, {"machine_id": "0" * 31}), (None, {"created": "9999-99-99T99:99:99Z"}),
                              (None, {"revision": "4294967296"}), (None, {"license_id": "x" * 500}),
                              (None, {"license_id": "'; DROP TABLE activation; --"}),
                              (None, {"product": "com.example.app\u00e9"}), (None, {"hardware_id": "g" * 64}),
                              ((b"\ntype: ", b"\ntype: \x01"), {}), (None, {"nonce": new_nonce() + "\t"})]:
            r = site.server.post(path, {member: signed(kind, replace, over)})
            assert r.status == 400 and r.error[0] in ("invalid-request", "invalid-signature"), (kind, over, r.body)
    assert site.server.alive() and state(site) == before


def test_a_revoked_key_has_no_license_to_download(site):
    """The download is "the license the server would send that machine
    now": for a revoked key, none (an activation is refused, a validation
    answers revoked), so a customer cannot keep fetching fresh licenses
    for a key the vendor revoked."""
    b = Browser(site.server)
    b.sign_in(site.key)
    status, _, text = b.request("GET", f"/portal/license/{site.license_id}")
    assert status == 200 and text.startswith("-----BEGIN LICENSED LICENSE-----")
    assert site.admin.post(f"/v1/admin/entitlements/{site.key}/revoke").status == 200
    status, headers, body = b.request("GET", f"/portal/license/{site.license_id}")
    assert status == 403 and headers["Content-Type"] == "text/html; charset=utf-8", body[:300]
    page_says(body, "revoked")
    assert "BEGIN LICENSED" not in body
    status, _, body = b.request("GET", "/portal")
    assert status == 200 and "revoked by the vendor" in body


def test_refused_admin_tokens_count_against_the_rate_limit(site, vendor_keys, tmp_path):
    """A good admin token is never rate limited (a shop calls in bulk); a
    refused one costs the address a token of its bucket, so that a
    stranger cannot flood the admin routes with lookups: after the burst,
    429 with Retry-After, a good token from that address too, until the
    bucket refills."""
    site.server.stop()
    site.server = LicensedServer(site.db, vendor_keys[0], extra=("--rate-limit", "2/s", "--rate-burst", "5"),
                                 log_path=str(tmp_path / "limited.log"))
    site.admin = Admin(site.server, site.write)
    for _ in range(20):
        assert site.admin.get("/v1/admin/products").status == 200
    for _ in range(5):
        assert site.admin.get("/v1/admin/products", token="lsd_" + "A" * 43).status == 401
    r = site.admin.get("/v1/admin/products", token="lsd_" + "A" * 43)
    assert_json_error(r, 429, "rate-limited")
    assert int(r.headers["Retry-After"]) >= 1
    r = site.admin.get("/v1/admin/products")
    assert_json_error(r, 429, "rate-limited")
    time.sleep(1.2)
    assert site.admin.get("/v1/admin/products").status == 200
