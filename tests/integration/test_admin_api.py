# SPDX-License-Identifier: LGPL-2.1-or-later
"""The admin API of licensed-server (docs/protocol.md, "Admin API") on
loopback, with Python's http.client as the vendor's web shop or CRM: the
life of a key driven only over HTTP while a real daemon holds it, the
token rules for every admin route, tokens kept out of the database and the
log, the OpenAPI document against what the server answers, --admin-listen,
and licensed-vendor --server printing what licensed-vendor --db prints."""
import json
import os
import re
from urllib.parse import quote

import pytest

from conftest import SOURCE, binary, db_sql, is_postgres, run, write_product
from licensed_server import LicensedServer
from test_end_to_end import Machine, make_ca_and_server_cert

PRODUCT = "com.example.app"
UNKNOWN_KEY = "AKKMR-E631E-MTNVW-0ZB05-JGQ22"


def make_token(vendor, db, scope, name, *extra):
    out = vendor("token", "create", "--db", db, "--scope", scope, "--name", name, *extra).stdout
    return out.splitlines()[-1]


class Admin:
    """http.client calls of the admin API with one token."""

    def __init__(self, server, token):
        self.server, self.token = server, token

    def call(self, method, path, body=None, token=None):
        headers = {}
        if (token or self.token) != "":
            headers["Authorization"] = "Bearer " + (token or self.token)
        if method == "POST" and body is None:
            body = {}
        return self.server.request(method, path, body, headers=headers)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path):
    """The --db value: a SQLite file, or the URI of a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "vendor.db")
    return request.getfixturevalue("postgres_db")


@pytest.fixture
def site(db, vendor_keys, vendor, tmp_path):
    server = LicensedServer(db, vendor_keys[0])
    s = type("Site", (), {})()
    s.db, s.server, s.tmp, s.vendor, s.keys = db, server, tmp_path, vendor, vendor_keys
    s.write = make_token(vendor, db, "write", "shop")
    s.read = make_token(vendor, db, "read", "crm")
    s.admin = Admin(server, s.write)
    try:
        yield s
    finally:
        s.server.stop()  # the one a test left there (it may have started another)


def test_token_verbs(site):
    v = site.vendor
    out = v("token", "create", "--db", site.db, "--scope", "read").stdout.splitlines()
    assert re.fullmatch(r"lsd_[A-Za-z0-9_-]{43}", out[-1]), out
    assert "shown once" in out[0]
    tokens = json.loads(v("--json", "token", "list", "--db", site.db).stdout)
    assert [t["name"] for t in tokens][:2] == ["shop", "crm"]
    assert [t["scope"] for t in tokens][:2] == ["write", "read"]
    table = v("token", "list", "--db", site.db).stdout.splitlines()
    assert table[0].split()[:3] == ["NAME", "SCOPE", "CREATED"]
    p = v("token", "create", "--db", site.db, "--scope", "write", "--name", "shop", check=False)
    assert p.returncode != 0 and "exists already" in p.stderr
    p = v("token", "create", "--db", site.db, "--scope", "admin", check=False)
    assert p.returncode != 0 and "--scope must be read or write" in p.stderr
    p = v("token", "create", "--db", site.db, check=False)
    assert p.returncode != 0 and "--scope read|write is required" in p.stderr
    p = v("token", "create", "--db", site.db, "--scope", "read", "--expires", "soon", check=False)
    assert p.returncode != 0 and "--expires" in p.stderr
    v("token", "revoke", "--db", site.db, "--name", "crm")
    p = v("token", "revoke", "--db", site.db, "--name", "crm", check=False)
    assert p.returncode != 0 and "no token 'crm'" in p.stderr
    assert site.admin.get("/v1/admin/products", token=site.read).status == 401


def test_life_of_a_key_over_the_api(site):
    """create -> a daemon activates -> list -> upgrade -> the machine's
    validation picks it up -> revoke -> its validation says revoked."""
    api = site.admin
    r = api.post("/v1/admin/entitlements", {"product": PRODUCT, "licensee": "Web Shop Customer", "seats": 1,
                                           "features": ["reports"], "validation_interval": "1d"})
    assert r.status == 201, r.body
    key = r.json["license_key"]
    assert r.json["revision"] == 1 and r.json["active"] == 0 and r.json["features"] == [{"name": "reports"}]

    products = str(site.tmp / "products")
    write_product(products, PRODUCT, site.keys[1], server_url=site.server.url)
    conf = str(site.tmp / "licensed.conf")
    with open(conf, "w") as f:
        f.write('idle_timeout = 0;\nhttp_timeout = "10s";\n')
    m = Machine(site.tmp, "a", products, conf)
    try:
        m.ctl("activate", key)
        assert m.ctl("check", PRODUCT, "reports").returncode == 0

        r = api.get("/v1/admin/entitlements?product=" + PRODUCT + "&state=active&licensee=Shop")
        assert r.status == 200 and [e["license_key"] for e in r.json["entitlements"]] == [key]
        assert r.json["entitlements"][0]["active"] == 1 and r.json["next_cursor"] is None
        assert api.get("/v1/admin/entitlements?state=revoked").json["entitlements"] == []
        acts = api.get(f"/v1/admin/entitlements/{key}/activations").json["activations"]
        assert len(acts) == 1 and acts[0]["active"] is True

        r = api.post(f"/v1/admin/entitlements/{key}/upgrade", {"revision": 1, "features": ["analytics"]})
        assert r.status == 200 and r.json["revision"] == 2, r.body
        assert m.ctl("check", PRODUCT, "analytics", check=False).returncode == 1
        m.ctl("validate")
        assert m.ctl("check", PRODUCT, "analytics").returncode == 0
        assert api.get(f"/v1/admin/entitlements/{key}/activations").json["activations"][0]["revision"] == 2

        r = api.post(f"/v1/admin/entitlements/{key}/revoke")
        assert r.status == 200 and r.json["revoked"] is True
        p = m.ctl("validate", check=False)
        assert p.returncode == 1 and "revoked" in p.stdout
        p = m.ctl("check", PRODUCT, "reports", check=False)
        assert p.returncode == 1 and "revoked" in p.stdout
    finally:
        m.stop()
    assert api.get("/v1/admin/products").json["products"] == [{"product": PRODUCT, "entitlements": 1, "active": 1}]
    keys = api.get("/v1/admin/keys").json["keys"]
    assert len(keys) == 1 and keys[0]["algorithm"] == "ed25519" and len(keys[0]["key_id"]) == 16


def test_paging(site):
    api = site.admin
    made = [api.post("/v1/admin/entitlements", {"product": PRODUCT, "licensee": f"Customer {i}"}).json["license_key"]
            for i in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        r = api.get("/v1/admin/entitlements?limit=3" + (f"&cursor={quote(cursor)}" if cursor else ""))
        assert r.status == 200, r.body
        seen += [e["license_key"] for e in r.json["entitlements"]]
        pages += 1
        cursor = r.json["next_cursor"]
        if not cursor:
            break
    # each once, in the list's order (created, then key: several share a second)
    assert sorted(seen) == sorted(made) and len(set(seen)) == 7 and pages == 3
    created = {e["license_key"]: e["created"] for e in api.get("/v1/admin/entitlements").json["entitlements"]}
    assert seen == sorted(seen, key=lambda k: (created[k], k))
    r = api.get("/v1/admin/entitlements?limit=0")
    assert r.status == 400 and r.error[0] == "bad-request"
    r = api.get("/v1/admin/entitlements?cursor=garbage")
    assert r.status == 400 and "cursor" in r.error[1]


def admin_routes():
    """(method, path) of every admin route, from docs/openapi.json."""
    with open(os.path.join(SOURCE, "docs", "openapi.json")) as f:
        doc = json.load(f)
    return [(m.upper(), p) for p, ops in doc["paths"].items() for m in ops if p.startswith("/v1/admin/")]


def test_token_matrix(site):
    """401 for a missing, malformed, unknown, expired or revoked token on
    every admin route; 403 for a read token on a write route; a good token
    gets past the check (whatever the route then says)."""
    v, api = site.vendor, site.admin
    key = api.post("/v1/admin/entitlements", {"product": PRODUCT, "licensee": "Matrix"}).json["license_key"]
    expired = make_token(v, site.db, "write", "expired", "--expires", "2020-01-01T00:00:00Z")
    revoked = make_token(v, site.db, "write", "revoked")
    v("token", "revoke", "--db", site.db, "--name", "revoked")
    routes = admin_routes()
    assert len(routes) == 11
    for method, pattern in routes:
        path = pattern.replace("{key}", key)
        for token, status in [("", 401), ("lsd_" + "A" * 43, 401), (expired, 401), (revoked, 401)]:
            r = api.call(method, path, token=token) if token else site.server.request(
                method, path, {} if method == "POST" else None)
            assert r.status == status, (method, path, token, r.body)
            assert r.headers["WWW-Authenticate"].startswith("Bearer"), (method, path)
            assert r.error[0] == "unauthorized"
        r = site.server.request(method, path, {} if method == "POST" else None,
                                headers={"Authorization": "Basic c2hvcDpzZWNyZXQ="})
        assert r.status == 401
        r = api.call(method, path, token=site.read)
        if method == "POST":
            assert r.status == 403 and r.error[0] == "forbidden", (method, path, r.body)
        else:
            assert r.status == 200, (method, path, r.body)
        r = api.call(method, path, {"nonsense": 1} if method == "POST" else None, token=site.write)
        assert r.status not in (401, 403), (method, path, r.body)


def test_tokens_never_in_clear(site):
    api = site.admin
    api.post("/v1/admin/entitlements", {"product": PRODUCT, "licensee": "Secret"})
    api.get("/v1/admin/entitlements")
    api.get("/v1/admin/products", token=site.read)
    api.post("/v1/admin/entitlements", {"product": PRODUCT, "licensee": "x"}, token=site.read)
    api.get("/v1/admin/products", token=site.write[:-1] + ("A" if site.write[-1] != "A" else "B"))
    site.server.stop()
    log = site.server.read_log()
    blobs = [log.encode()]
    if is_postgres(site.db):
        for table in ("admin_token", "entitlement", "activation"):
            blobs.append(repr(db_sql(site.db, f"SELECT * FROM {table}")).encode())
    for suffix in ("", "-wal", "-shm"):
        if not is_postgres(site.db) and os.path.exists(site.db + suffix):
            with open(site.db + suffix, "rb") as f:
                blobs.append(f.read())
    for token in (site.write, site.read):
        for blob in blobs:
            assert token.encode() not in blob and token[4:].encode() not in blob
    # every admin call is logged with the token's name; refusals too
    assert re.search(r"POST /v1/admin/entitlements: 201 token 'shop'", log), log
    assert re.search(r"GET /v1/admin/products: 200 token 'crm'", log), log
    assert "admin token refused: the token 'crm' may only read" in log
    assert "admin token refused: the token is not known to this server" in log


def test_openapi_matches_the_server(site):
    r = site.server.request("GET", "/v1/openapi.json")
    assert r.status == 200 and r.headers["Content-Type"] == "application/json"
    with open(os.path.join(SOURCE, "docs", "openapi.json")) as f:
        assert r.json == json.load(f)
    doc = r.json
    assert doc["openapi"].startswith("3.")
    key = site.admin.post("/v1/admin/entitlements", {"product": PRODUCT, "licensee": "Doc"}).json["license_key"]
    # every documented operation is answered (not 404 or 405)...
    documented = set()
    for pattern, ops in doc["paths"].items():
        for method in ops:
            documented.add((method.upper(), pattern))
            r = site.admin.call(method.upper(), pattern.replace("{key}", key),
                                {} if method == "post" else None)
            assert r.status not in (404, 405), (method, pattern, r.status, r.body)
    # ...and nothing undocumented is: the other method on each path is 405
    for pattern in doc["paths"]:
        for method in ("GET", "POST", "PUT", "DELETE"):
            if (method, pattern) in documented:
                continue
            r = site.admin.call(method, pattern.replace("{key}", key), {} if method != "GET" else None)
            assert r.status == 405, (method, pattern, r.status)
    for path in ("/v1/admin", "/v1/admin/", "/v1/admin/entitlements/" + key + "/nothing", "/v1/admin/tokens"):
        assert site.admin.get(path).status == 404


def test_admin_listen_moves_the_admin_routes(tmp_path, vendor_keys, vendor):
    db = str(tmp_path / "sep.db")
    token = make_token(vendor, db, "write", "ops")
    server = LicensedServer(db, vendor_keys[0], extra=["--admin-listen", "127.0.0.1:0"])
    try:
        m = re.search(r"admin API on http://127\.0\.0\.1:(\d+) only", server.read_log())
        assert m, server.read_log()
        admin_port = int(m.group(1))
        assert admin_port != server.port
        auth = {"Authorization": "Bearer " + token}
        main = server.request("GET", "/v1/admin/products", headers=auth)
        assert main.status == 404 and main.error[0] == "not-found"
        r = server.request("POST", "/v1/admin/entitlements", {"product": PRODUCT, "licensee": "x"}, headers=auth)
        assert r.status == 404
        assert server.request("GET", "/v1/health").status == 200

        server.port = admin_port
        assert server.request("GET", "/v1/admin/products", headers=auth).status == 200
        r = server.request("POST", "/v1/admin/entitlements", {"product": PRODUCT, "licensee": "x"}, headers=auth)
        assert r.status == 201
        assert server.request("GET", "/v1/health").status == 404
        assert server.request("POST", "/v1/activate", {"request": "x"}).status == 404
    finally:
        server.stop()
    p = run([binary("licensed-server"), "--db", db, "--signing-key", vendor_keys[0],
             "--admin-listen", "localhost:1"], check=False)
    assert p.returncode != 0 and "--admin-listen" in p.stderr


def test_vendor_remote_prints_what_local_prints(site, tmp_path):
    v = site.vendor
    token_file = tmp_path / "token"
    token_file.write_text(site.write + "\n")
    os.chmod(token_file, 0o600)
    local = ["--db", site.db]
    remote = ["--server", site.server.url, "--token-file", str(token_file)]

    k1 = v("entitlement", "create", *local, "--product", PRODUCT, "--licensee", "Müller GmbH", "--seats", "3",
           "--feature", "reports:limit=5", "--property", "tier=gold").stdout.strip()
    k2 = v("entitlement", "create", *remote, "--product", "com.example.other", "--licensee", "Zoë Ltd").stdout.strip()
    assert re.fullmatch(r"[0-9A-Z]{5}(-[0-9A-Z]{5}){4}", k2)
    v("upgrade", *remote, "--key", k1, "--feature", "analytics", "--remove-feature", "reports")
    v("revoke", *local, "--key", k2)

    verbs = [
        ["entitlement", "list"],
        ["entitlement", "list", "--product", PRODUCT],
        ["entitlement", "list", "--state", "revoked"],
        ["entitlement", "list", "--licensee", "ller"],
        ["entitlement", "show", "--key", k1],
        ["activations"],
        ["activations", "--key", k1],
        ["products"],
    ]
    for verb in verbs:
        for json_flag in ([], ["--json"]):
            a = v(*json_flag, *verb, *local)
            b = v(*json_flag, *verb, *remote)
            assert a.stdout == b.stdout, (verb, json_flag, a.stdout, b.stdout)
    table = v("entitlement", "list", *remote).stdout.splitlines()
    # UTF-8 widths: the column after LICENSEE starts at the same place on every line
    col = table[0].index("SEATS")
    assert all(len(line) > col and line[col - 1] == " " for line in table), table
    assert len(table) == 3

    # the same refusals, with the same words
    for verb in (["revoke", "--key", UNKNOWN_KEY], ["entitlement", "show", "--key", UNKNOWN_KEY],
                 ["release", "--key", k1, "--machine-id", "f" * 32],
                 ["upgrade", "--key", k1, "--remove-feature", "nope"]):
        a = v(*verb, *local, check=False)
        b = v(*verb, *remote, check=False)
        assert a.returncode != 0 and b.returncode != 0, verb
        assert a.stderr.strip() in b.stderr, (verb, a.stderr, b.stderr)

    # LICENSED_TOKEN instead of a file; no token at all; a read token writing
    env = dict(os.environ, LICENSED_TOKEN=site.read)
    exe = binary("licensed-vendor")
    assert run([exe, "products", "--server", site.server.url], env=env).stdout == v("products", *local).stdout
    p = run([exe, "revoke", "--server", site.server.url, "--key", k1], env=env, check=False)
    assert p.returncode != 0 and "may only read" in p.stderr and "HTTP 403" in p.stderr
    env.pop("LICENSED_TOKEN")
    p = run([exe, "products", "--server", site.server.url], env=env, check=False)
    assert p.returncode != 0 and "--token-file FILE or $LICENSED_TOKEN" in p.stderr
    p = v("products", "--server", "http://127.0.0.1:1", "--token-file", str(token_file), check=False)
    assert p.returncode != 0 and "127.0.0.1:1" in p.stderr
    p = v("products", *local, "--server", site.server.url, check=False)
    assert p.returncode != 0 and "exclude each other" in p.stderr


def test_vendor_remote_over_https(tmp_path, vendor_keys, vendor):
    """--ca-file trusts the server's private CA; without it the
    certificate is refused, and nothing is done."""
    ca, cert, key = make_ca_and_server_cert(tmp_path)
    db = str(tmp_path / "tls.db")
    token = make_token(vendor, db, "write", "tls")
    server = LicensedServer(db, vendor_keys[0], extra=("--tls-cert", cert, "--tls-key", key), cafile=ca)
    env = dict(os.environ, LICENSED_TOKEN=token)
    exe = binary("licensed-vendor")
    create = [exe, "entitlement", "create", "--server", server.url, "--product", PRODUCT, "--licensee", "TLS"]
    try:
        p = run(create, env=env, check=False)
        assert p.returncode != 0 and "certificate" in p.stderr.lower(), p.stderr
        key1 = run(create + ["--ca-file", ca], env=env).stdout.strip()
        assert [e["license_key"] for e in json.loads(vendor("--json", "entitlement", "list", "--db", db).stdout)] == [key1]
    finally:
        server.stop()
    p = vendor("products", "--db", db, "--ca-file", ca, check=False)
    assert p.returncode != 0 and "are for --server" in p.stderr
