# SPDX-License-Identifier: LGPL-2.1-or-later
"""licensed-site attacked on its documented contract (docs/floating.md,
"Protocol"): bodies that are not the JSON asked for, SITE REQUESTs with
wrong types, unknown, repeated or misplaced fields, oversized bodies,
leases of another client, replayed and reordered heartbeats, a lease
returned twice, join tokens that are wrong, used or expired. Each gets its
specific 4xx error, the seat count stays right, and the server keeps
serving."""
import http.client
import json
import secrets
import time

import pytest

from machine import armor, dearmor, fields
from site_server import PRODUCT, REQUEST_FIELDS, SiteClient, lease_fields, rfc3339
from test_site import make_site


@pytest.fixture
def site(tmp_path, vendor, vendor_keys):
    s = make_site(tmp_path, vendor, vendor_keys, seats=2)
    yield s
    s.stop()


def raw(site, path, body, content_type="application/json", method="POST"):
    c = site.connection()
    try:
        headers = {"Content-Type": content_type} if content_type else {}
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def error_of(status_body):
    status, body = status_body
    return status, json.loads(body)["error"]["code"]


def signed(client, lines):
    """A SITE REQUEST of exactly these 'name: value' lines, signed by client."""
    body = "".join(f"{k}: {v}\n" for k, v in lines).encode()
    return armor("SITE REQUEST", client.kid, client.key.sign(body), body)


def common(client, type):
    return [("licensed-site-request", "1"), ("type", type), ("site", client.site.site_id),
            ("machine-id", client.machine_id), ("device-key", client.pub), ("nonce", secrets.token_hex(16)),
            ("created", rfc3339(time.time()))]


def assert_serving(site, client):
    """The server answers, and its count is what the leases say."""
    st = client.post("status", client.document("status"))
    assert st.status == 200, st.body
    assert site.proc.poll() is None
    return st.json


def test_bodies_that_are_not_the_json_asked_for(site):
    c = SiteClient(site)
    c.enrol()
    doc = c.document("status")
    for body in (b"", b"{", b"[]", b"null", b'"x"', b"{}", b'{"request": 5}', b'{"request": ["x"]}',
                 b'{"request": {"a": 1}}', b'{"request": true}', b'{"request": "x"} trailing',
                 b'{"request": "\x00"}', b'{"request": "a\\u0000b"}', b"\xff\xfe{}", b"[" * 5000 + b"]" * 5000,
                 json.dumps({"request": doc.replace("SITE REQUEST", "FLOATING LEASE")}).encode(),
                 json.dumps({"request": doc[:len(doc) // 2]}).encode()):
        status, code = error_of(raw(site, "/v1/status", body))
        assert (status, code) == (400, "bad-request"), body[:40]
    # the genuine one, once, with a stray member beside it: members other than
    # "request" are not read (JSON as licensed-server's)
    assert raw(site, "/v1/status", json.dumps({"request": doc, "extra": 1}).encode())[0] == 200
    # a repeated "request": JSON has one value per name; the one verified is the last
    twice = b'{"request": "garbage", "request": ' + json.dumps(c.document("status")).encode() + b"}"
    assert raw(site, "/v1/status", twice)[0] == 200
    assert error_of(raw(site, "/v1/status", json.dumps({"request": doc}).encode(), content_type=None)) == \
        (415, "unsupported-media-type")
    assert error_of(raw(site, "/v1/status", json.dumps({"request": doc}).encode(), content_type="text/plain")) == \
        (415, "unsupported-media-type")
    # oversized: refused without being read into memory
    big = json.dumps({"request": doc + " " * (70 * 1024)}).encode()
    assert error_of(raw(site, "/v1/status", big)) == (413, "too-large")
    # methods and paths
    assert error_of(raw(site, "/v1/checkout", b"", method="PUT")) == (405, "method-not-allowed")
    assert error_of(raw(site, "/v1/site", b"{}", method="POST")) == (405, "method-not-allowed")
    assert error_of(raw(site, "/v1/../v1/status", b"{}"))[0] in (400, 404)
    assert error_of(raw(site, "/v1/nothing", b"{}")) == (404, "not-found")
    assert_serving(site, c)


def test_requests_with_wrong_fields(site):
    c = SiteClient(site)
    c.enrol()
    lease = c.checkout().json["lease_id"]
    take = [("product", PRODUCT), ("feature", "cad"), ("user", "alice"), ("host", c.host)]
    bad = {
        # wrong types in fields
        "created not a time": ("status", lambda l: [(k, "yesterday" if k == "created" else v) for k, v in l]),
        "nonce not hex": ("status", lambda l: [(k, "zz" * 16 if k == "nonce" else v) for k, v in l]),
        "machine-id too long": ("status", lambda l: [(k, v * 2 if k == "machine-id" else v) for k, v in l]),
        "device-key not a key": ("status", lambda l: [(k, "AAAA" if k == "device-key" else v) for k, v in l]),
        "site not hex": ("status", lambda l: [(k, "site" if k == "site" else v) for k, v in l]),
        "unknown type": ("status", lambda l: [(k, "steal" if k == "type" else v) for k, v in l]),
        "format 2": ("status", lambda l: [(k, "2" if k == "licensed-site-request" else v) for k, v in l]),
        # unknown, repeated, missing and misplaced fields
        "unknown field": ("status", lambda l: l + [("admin", "yes")]),
        "repeated field": ("status", lambda l: l + [("nonce", secrets.token_hex(16))]),
        "a lease in a status request": ("status", lambda l: l + [("lease", lease)]),
        "no nonce": ("status", lambda l: [(k, v) for k, v in l if k != "nonce"]),
        "checkout without user": ("checkout", lambda l: l + [x for x in take if x[0] != "user"]),
        "feature not a name": ("checkout", lambda l: l + [(k, "../cad" if k == "feature" else v) for k, v in take]),
        "product not a name": ("checkout", lambda l: l + [(k, "not a product" if k == "product" else v)
                                                         for k, v in take]),
        "user too long": ("checkout", lambda l: l + [(k, "u" * 300 if k == "user" else v) for k, v in take]),
        "host with a control character": ("checkout", lambda l: l + [(k, "ws\x1b[2J" if k == "host" else v)
                                                                    for k, v in take]),
        "borrow-until not a time": ("borrow", lambda l: l + take + [("borrow-until", "tomorrow")]),
        "borrow-until negative": ("borrow", lambda l: l + take + [("borrow-until", "-1")]),
        "lease not hex": ("heartbeat", lambda l: l + [("lease", "../" + lease)]),
        "lease too long": ("return", lambda l: l + [("lease", lease + "00")]),
        "token not hex": ("enrol", lambda l: l + [("token", "x" * 32), ("host", c.host)]),
    }
    endpoint = {"status": "status", "checkout": "checkout", "borrow": "borrow", "heartbeat": "heartbeat",
                "return": "return", "enrol": "enrol"}
    for what, (type, edit) in bad.items():
        doc = signed(c, edit(common(c, type)))
        r = c.post(endpoint[type], doc)
        assert (r.status, r.error[0]) == (400, "bad-request"), (what, r.body)
    # lines that are not 'name: value', the order changed, a CR
    for body in (b"licensed-site-request: 1\ngarbage\n", b"\n".join(reversed(
            dearmor(c.document("status"))[2].splitlines())) + b"\n",
            dearmor(c.document("status"))[2].replace(b"\n", b"\r\n")):
        r = c.post("status", armor("SITE REQUEST", c.kid, c.key.sign(body), body))
        assert (r.status, r.error[0]) == (400, "bad-request"), (body, r.body)
    # a borrow into the past, or beyond borrow_max, or an absurd time
    for until in (time.time() - 60, time.time() + 8 * 86400, 4102444800 * 2):
        r = c.borrow(until)
        assert (r.status, r.error[0]) in ((400, "borrow-too-long"), (400, "bad-request")), (until, r.body)
    st = assert_serving(site, c)
    assert st["features"][0]["used"] == 1 and [l["id"] for l in st["leases"]] == [lease]


def test_another_clients_lease(site):
    a, b = SiteClient(site, user="alice"), SiteClient(site, user="bob")
    a.enrol()
    b.enrol()
    la = a.checkout().json
    for endpoint in ("heartbeat", "return"):
        r = b.post(endpoint, b.document(endpoint, lease=la["lease_id"]))
        assert (r.status, r.error[0]) == (404, "unknown-lease"), r.body
    r = b.post("release", b.document("release", lease=la["lease_id"], host=b.host))
    assert (r.status, r.error[0]) == (403, "not-admin")
    assert "alice" not in r.error[1] and a.host not in r.error[1]
    # b's status does not show a's lease; a's lease still holds and renews
    st = assert_serving(site, b)
    assert st["scope"] == "own" and st["leases"] == [] and st["features"][0]["used"] == 1
    hb = a.heartbeat(la["lease_id"])
    assert hb.status == 200 and lease_fields(hb.json["lease"])["machine-id"] == a.machine_id
    # a request signed by b's key but naming a's machine id
    doc = b.document("return", lease=la["lease_id"], machine_id=a.machine_id)
    r = b.post("return", doc)
    assert (r.status, r.error[0]) == (403, "not-enrolled")
    # a's request re-signed by b (b's key id, a's body)
    kind, headers, body = dearmor(a.document("return", lease=la["lease_id"]))
    r = b.post("return", armor(kind, b.kid, b.key.sign(body), body))
    assert (r.status, r.error[0]) == (401, "bad-signature")
    assert assert_serving(site, a)["features"][0]["used"] == 1


def test_replayed_and_reordered_heartbeats_and_a_double_return(site):
    a = SiteClient(site)
    a.enrol()
    lease = a.checkout().json["lease_id"]
    older = a.document("heartbeat", lease=lease, created=rfc3339(time.time() - 60))
    newer = a.document("heartbeat", lease=lease)
    r1 = a.post("heartbeat", newer)
    assert r1.status == 200
    time.sleep(1.1)
    # sent late: accepted (its nonce is new and it is in the window), but it
    # never moves the expiry back
    r2 = a.post("heartbeat", older)
    assert r2.status == 200
    assert lease_fields(r2.json["lease"])["expires"] >= lease_fields(r1.json["lease"])["expires"]
    for doc in (newer, older):
        r = a.post("heartbeat", doc)
        assert (r.status, r.error[0]) == (409, "replay")
    # a heartbeat from beyond the window, either way
    for t in (time.time() - 600, time.time() + 600):
        r = a.post("heartbeat", a.document("heartbeat", lease=lease, created=rfc3339(t)))
        assert (r.status, r.error[0]) == (409, "replay")
    ret = a.document("return", lease=lease)
    assert a.post("return", ret).json == {"returned": lease}
    assert a.post("return", ret).error[0] == "replay"
    r = a.give_back(lease)
    assert (r.status, r.error[0]) == (404, "unknown-lease")
    r = a.heartbeat(lease)
    assert (r.status, r.error[0]) == (404, "unknown-lease")
    assert assert_serving(site, a)["features"][0]["used"] == 0


def test_join_tokens(site):
    c = SiteClient(site)
    for token in (secrets.token_hex(16), "0" * 32):
        r = c.post("enrol", c.document("enrol", token=token, host=c.host))
        assert (r.status, r.error[0]) == (403, "bad-token")
    token = site.token()
    c.enrol(token)
    again = c.post("enrol", c.document("enrol", token=token, host=c.host))
    assert (again.status, again.error[0]) == (403, "bad-token")
    d = SiteClient(site)
    r = d.post("enrol", d.document("enrol", token=token, host=d.host))
    assert (r.status, r.error[0]) == (403, "bad-token")
    expired = site.cli("--valid", "1s", "token").stdout.strip()
    time.sleep(2.1)
    r = d.post("enrol", d.document("enrol", token=expired, host=d.host))
    assert (r.status, r.error[0]) == (403, "bad-token")
    # a token for another site's id is refused before the token is looked at, and not used up
    fresh = site.token()
    r = d.post("enrol", d.document("enrol", token=fresh, host=d.host, site_id="e" * 32))
    assert (r.status, r.error[0]) == (403, "wrong-site")
    d.enrol(fresh)
    assert d.checkout().status == 200
    # not enrolled: nothing but enrol works
    e = SiteClient(site)
    for endpoint, doc in (("status", e.document("status")), ("checkout", e.document(
            "checkout", product=PRODUCT, feature="cad", user="u", host=e.host))):
        r = e.post(endpoint, doc)
        assert (r.status, r.error[0]) == (403, "not-enrolled")


def test_many_connections_that_go_away(site):
    """Clients that connect and vanish mid-request do not hold the server."""
    c = SiteClient(site)
    c.enrol()
    doc = json.dumps({"request": c.document("status")}).encode()
    for i in range(40):
        conn = site.connection()
        conn.putrequest("POST", "/v1/status")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(doc)))
        conn.endheaders()
        conn.send(doc[: i * 7 % len(doc)])
        conn.close()
    assert_serving(site, c)


BAD_RULES = {
    "seats negative": ("max = ( { user = \"alice\"; seats = -1; } );", "needs seats, a whole number of 0 or more"),
    "seats a string": ("max = ( { user = \"alice\"; seats = \"1\"; } );", "needs seats, a whole number of 0 or more"),
    "seats a huge number": ("max = ( { user = \"alice\"; seats = 99999999999L; } );", "needs seats"),
    "two names": ("max = ( { user = \"alice\"; host = \"ws-1\"; seats = 1; } );", "exactly one of user, host or group"),
    "no name": ("max = ( { seats = 1; } );", "exactly one of user, host or group"),
    "unknown who": ("max = ( { uid = 1000; seats = 1; } );", "uid"),
    "a comma in a name": ("max = ( { group = \"a,b\"; seats = 1; } );", "without commas"),
    "an empty name": ("max = ( { user = \"\"; seats = 1; } );", "without commas"),
    "not a list": ("max = { user = \"alice\"; seats = 1; };", "must be a list"),
    "not a product": ("", "is not a product id"),
    "not a feature": ("", "is not a feature name"),
}


def feature_entry(rules, product=PRODUCT, feature="cad"):
    return f'{{ product = "{product}"; feature = "{feature}"; {rules} }}'


@pytest.mark.parametrize("what", sorted(BAD_RULES))
def test_invalid_rules_on_sighup_keep_the_old_ones(tmp_path, vendor, vendor_keys, what):
    import signal
    from test_site_admin import configured, wait_log
    site = make_site(tmp_path, vendor, vendor_keys, seats=2)
    try:
        bar_alice = 'max = ( { user = "alice"; seats = 0; } );'
        good = f"features = ( {feature_entry(bar_alice)} );\n"
        conf = configured(site, tmp_path, good)
        a = SiteClient(site, user="alice")
        a.enrol()
        assert a.checkout().error[0] == "limit-reached"
        rules, why = BAD_RULES[what]
        entry = feature_entry(rules, product="not a product!") if what == "not a product" else \
            feature_entry(rules, feature="cad feature") if what == "not a feature" else feature_entry(rules)
        conf.write_text(f"features = ( {entry} );\n")
        site.proc.send_signal(signal.SIGHUP)
        wait_log(site, "Not reloading")
        line = next(l for l in site.read_log().splitlines() if "Not reloading" in l)
        assert f"{conf}:1:" in line and why in line, line
        assert a.checkout().error[0] == "limit-reached"
        assert site.proc.poll() is None
    finally:
        site.stop()
