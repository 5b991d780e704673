# SPDX-License-Identifier: LGPL-2.1-or-later
"""Operating licensed-server (docs/operations.md): the Prometheus metrics
on their own listener, readiness that asks the database, the per-client
rate limit, the events' MESSAGE_IDs in the log, and SIGHUP swapping the TLS
certificate without dropping a connection.

The journal side of the log (structured fields under systemd) is checked
in the system tier (tests/system/test_server_unit.py)."""
import http.client
import json
import math
import os
import re
import signal
import socket
import ssl
import time

import pytest

pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
from licensed_server import LicensedServer  # noqa: E402
from machine import Device, new_machine_id, new_nonce  # noqa: E402

from conftest import SOURCE, binary, run  # noqa: E402

STARTED = "eb62b33ef5e0452cb105bb8afbc99c9a"
ACTIVATED = "0f6c9e00163f4907a44ccc7cf803ca8f"
SEAT_LIMIT = "ed236b0530c94edd8b44a28d0cb45491"
REVOKED_SEEN = "a4e02fac24ce45958c1e837b47983038"
DATABASE_UNREACHABLE = "1134014b6cbf443d80641a7c4ca8d59d"


# A Prometheus text format (0.0.4) parser, strict enough to fail on what a
# scraper would reject ---------------------------------------------------------

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$")
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')


def parse_labels(text):
    labels, pos = {}, 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        assert m, f"bad label set at {text[pos:]!r}"
        assert m.group(1) not in labels, f"label {m.group(1)} twice"
        labels[m.group(1)] = re.sub(r"\\(.)", lambda e: {"n": "\n"}.get(e.group(1), e.group(1)), m.group(2))
        pos = m.end()
    return labels


def parse_value(text):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf"))
    return float(text)


def parse_metrics(text):
    """{family: {"type": ..., "help": ..., "samples": [(name, labels, value)]}}"""
    assert text.endswith("\n"), "the exposition ends with a newline"
    families, types = {}, {}
    for line in text.splitlines():
        assert line.strip(), "no blank lines"
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            kind, name, rest = line[2:6], *line[7:].split(" ", 1)
            fam = families.setdefault(name, {"type": None, "help": None, "samples": []})
            if kind == "TYPE":
                assert rest in ("counter", "gauge", "histogram", "summary", "untyped"), line
                assert fam["type"] is None and not fam["samples"], f"TYPE of {name} after its samples"
                fam["type"] = types[name] = rest
            else:
                fam["help"] = rest
            continue
        assert not line.startswith("#"), line
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        name, labels, value = m.group(1), parse_labels(m.group(2) or ""), parse_value(m.group(3))
        family = re.sub(r"_(bucket|sum|count)$", "", name) if re.sub(r"_(bucket|sum|count)$", "", name) in types \
            and types[re.sub(r"_(bucket|sum|count)$", "", name)] == "histogram" else name
        assert family in families and families[family]["type"], f"{name} has no TYPE before it"
        families[family]["samples"].append((name, labels, value))
    for name, fam in families.items():
        if fam["type"] == "counter":
            assert all(v >= 0 and v == int(v) for _, _, v in fam["samples"]), name
        if fam["type"] == "histogram":
            check_histogram(name, fam["samples"])
    return families


def check_histogram(name, samples):
    buckets = [(s[1]["le"], s[2]) for s in samples if s[0] == name + "_bucket"]
    bounds = [parse_value(le) for le, _ in buckets]
    assert bounds == sorted(bounds) and bounds[-1] == math.inf, bounds
    counts = [c for _, c in buckets]
    assert counts == sorted(counts), f"{name}: buckets are cumulative"
    count = [s[2] for s in samples if s[0] == name + "_count"]
    assert count == [counts[-1]], f"{name}: _count is the +Inf bucket"
    assert len([s for s in samples if s[0] == name + "_sum"]) == 1


def value(families, name, **labels):
    """The sample of name with exactly these labels; 0 for a counter
    series not (yet) exported."""
    family = families[re.sub(r"_(bucket|sum|count)$", "", name)] if name not in families else families[name]
    for n, l, v in family["samples"]:
        if n == name and l == labels:
            return v
    assert family["type"] == "counter", f"no {name}{labels}"
    return 0


def test_parser_rejects_what_a_scraper_would():
    good = ("# TYPE a counter\na 1\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
            "h_sum 3\nh_count 2\n")
    assert value(parse_metrics(good), "h_count") == 2
    for bad in ("a 1\n",  # no TYPE
                "# TYPE a counter\na{x=1} 1\n",  # unquoted label
                "# TYPE a counter\na 1",  # no final newline
                "# TYPE a counter\na -1\n",  # a counter below 0
                good.replace('h_bucket{le="+Inf"} 2', 'h_bucket{le="+Inf"} 0'),  # not cumulative
                good.replace("h_count 2", "h_count 3")):
        with pytest.raises(AssertionError):
            parse_metrics(bad)


# Fixtures -------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "server.db")


def start(db, vendor_keys, *extra, **kw):
    return LicensedServer(db, vendor_keys[0], extra=extra, **kw)


@pytest.fixture
def server(db, vendor_keys):
    s = start(db, vendor_keys, "--metrics-listen", "127.0.0.1:0")
    try:
        yield s
    finally:
        s.stop()


def metrics_address(server):
    m = re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", server.read_log())
    assert m, server.read_log()
    return int(m.group(1))


def scrape(server, path="/metrics"):
    c = http.client.HTTPConnection("127.0.0.1", metrics_address(server), timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.getheader("Content-Type"), r.read().decode()
    finally:
        c.close()


def metrics(server):
    status, ctype, text = scrape(server)
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4"), (status, ctype)
    return parse_metrics(text)


def create(vendor, db, *args):
    return vendor("entitlement", "create", "--db", db, "--product", "com.example.app", "--licensee", "Ops",
                  *args).stdout.strip()


def activate(server, device, key):
    return server.post("/v1/activate", {"request": device.sign("activation", key=key, nonce=new_nonce())})


def validate(server, device, lid):
    return server.post("/v1/validate", {"request": device.sign("validation", license_id=lid, revision="1",
                                                               nonce=new_nonce())})


# Metrics -----------------------------------------------------------------------------


def test_metrics_count_the_calls(server, vendor, db):
    before = metrics(server)
    assert value(before, "licensed_server_build_info", version="0.1.0") == 1
    assert value(before, "licensed_server_activations_total") == 0
    assert "licensed_server_database_connections" not in before  # SQLite has no pool to report

    key = create(vendor, db, "--seats", "1")
    a, b = Device(machine_id=new_machine_id()), Device(machine_id=new_machine_id())
    r = activate(server, a, key)
    assert r.status == 200
    lid = r.json["license_id"]
    assert activate(server, b, key).status == 409
    assert validate(server, a, lid).json["status"] == "valid"
    vendor("revoke", "--db", db, "--key", key)
    assert validate(server, a, lid).json["status"] == "revoked"
    assert activate(server, b, key).error[0] == "revoked"
    assert server.request("GET", "/nowhere").status == 404

    m = metrics(server)
    assert value(m, "licensed_server_activations_total") == 1
    assert value(m, "licensed_server_seat_limit_refusals_total") == 1
    assert value(m, "licensed_server_validations_total") == 2
    assert value(m, "licensed_server_revoked_answers_total") == 2  # a validation and an activation
    assert value(m, "licensed_server_database_errors_total") == 0
    assert value(m, "licensed_server_rate_limited_requests_total") == 0
    req = "licensed_server_requests_total"
    assert value(m, req, method="POST", route="/v1/activate", status="200") == 1
    assert value(m, req, method="POST", route="/v1/activate", status="409") == 1
    assert value(m, req, method="POST", route="/v1/activate", status="403") == 1
    assert value(m, req, method="POST", route="/v1/validate", status="200") == 2
    assert value(m, req, method="", route="unmatched", status="404") == 1
    total = sum(v for _, _, v in m["licensed_server_requests_total"]["samples"])
    assert value(m, "licensed_server_request_duration_seconds_count") == total == 6
    assert 0 < value(m, "licensed_server_request_duration_seconds_sum") < 60

    # The events an operator alerts on, each with its MESSAGE_ID
    log = server.read_log()
    for mid in (STARTED, ACTIVATED, SEAT_LIMIT, REVOKED_SEEN):
        assert f"[MESSAGE_ID={mid}]" in log, mid
    assert "licensed-server: licensed-server:" not in log
    assert key not in log, "the key in clear"


def test_metrics_only_on_their_listener(server):
    r = server.request("GET", "/metrics")
    assert r.status == 404 and r.error[0] == "not-found"
    status, _, _ = scrape(server, "/v1/health")
    assert status == 404
    # only the exact path: an escape is not decoded into it, %00 least of all
    # (decoded, it ended the path, and /metrics%00x was served as /metrics)
    for path in ("/metrics%00x", "/metrics%00", "/%6detrics", "/metrics%2f", "/metrics/", "/metricsx", "/"):
        status, ctype, text = scrape(server, path)
        assert status == 404 and text == "only /metrics is here\n", (path, status, text)
    assert scrape(server, "/metrics?x=1")[0] == 200  # a query string is not the path
    # a collector polls: the listener carries on
    assert metrics(server)


def test_no_metrics_listener_by_default(db, vendor_keys):
    s = start(db, vendor_keys)
    try:
        assert "metrics on" not in s.read_log()
        assert s.request("GET", "/metrics").status == 404
    finally:
        s.stop()


def test_bad_options_are_refused(db, vendor_keys):
    for args, message in ((["--metrics-listen", "localhost:9100"], "'localhost' is not an IPv4 address"),
                          (["--rate-limit", "10"], "'10' is not RATE/s, RATE/min (RATE > 0) or off"),
                          (["--rate-limit", "5/h"], "is not RATE/s"),
                          (["--rate-burst", "0"], "--rate-burst: '0' is not a number from 1 to")):
        p = run([binary("licensed-server"), "--db", db, "--signing-key", vendor_keys[0], *args], check=False)
        assert p.returncode != 0 and message in p.stderr, (args, p.stderr)


# Readiness ---------------------------------------------------------------------------


def test_health_asks_the_database(server, db):
    r = server.request("GET", "/v1/health")
    assert r.status == 200 and r.json["status"] == "ok" and r.json["database"] == "ok"
    # The database destroyed under the running server: the file, its
    # write-ahead log and its shared index overwritten.
    for path in (db, db + "-wal", db + "-shm"):
        if os.path.exists(path):
            with open(path, "r+b") as f:
                f.write(b"x" * os.path.getsize(path))
    r = server.request("GET", "/v1/health")
    assert r.status == 503, r.body
    assert r.error == ("database-unavailable", "the database does not answer; try again later")
    assert r.headers["Retry-After"] == "5"
    assert server.request("GET", "/v1/health").status == 503
    m = metrics(server)
    assert value(m, "licensed_server_database_errors_total") == 2
    assert value(m, "licensed_server_requests_total", method="GET", route="/v1/health", status="503") == 2
    log = server.read_log()
    # one event for the outage, not one for each failed request; the
    # details in the log, not in the answer
    assert log.count(f"[MESSAGE_ID={DATABASE_UNREACHABLE}]") == 1, log
    assert "file is not a database" in log


# Rate limit ---------------------------------------------------------------------------


def test_rate_limit_refuses_then_recovers(db, vendor_keys):
    s = start(db, vendor_keys, "--rate-limit", "2/s", "--rate-burst", "3", "--metrics-listen", "127.0.0.1:0")
    try:
        t0 = time.monotonic()
        assert [s.request("GET", "/v1/health").status for _ in range(3)] == [200] * 3
        r = s.request("GET", "/v1/health")
        assert time.monotonic() - t0 < 0.45, "too slow for this test's arithmetic"
        assert r.status == 429
        assert r.error == ("rate-limited", "too many requests from this address; try again in 1 s")
        assert r.headers["Retry-After"] == "1"
        # a POST with a body gets the same, and the connection stays usable
        r = s.post("/v1/activate", {"request": "x"})
        assert r.status == 429 and r.headers["Retry-After"] == "1"
        # the metrics listener is not limited
        m = metrics(s)
        assert value(m, "licensed_server_rate_limited_requests_total") == 2
        time.sleep(0.6)  # one token back at 2 a second
        assert s.request("GET", "/v1/health").status == 200
        assert s.request("GET", "/v1/health").status == 429
        time.sleep(1.6)  # the burst back
        assert [s.request("GET", "/v1/health").status for _ in range(3)] == [200] * 3
        assert "429 rate-limited" in s.read_log()
    finally:
        s.stop()


def test_rate_limit_off(db, vendor_keys):
    s = start(db, vendor_keys, "--rate-limit", "off")
    try:
        assert "rate limit: off" in s.read_log()
        assert all(s.request("GET", "/v1/health").status == 200 for _ in range(600))
    finally:
        s.stop()


def test_default_rate_limit(db, vendor_keys, tmp_path):
    """The default (20/s after a burst of 500) lets a machine validate
    hundreds of licenses at once (test_bulk_validation.py does 300)."""
    s = start(db, vendor_keys, default_rate_limit=True)
    try:
        assert "rate limit: 20 requests a second per client address after a burst of 500" in s.read_log()
        assert all(s.request("GET", "/v1/health").status == 200 for _ in range(100))
    finally:
        s.stop()
    s = start(str(tmp_path / "other.db"), vendor_keys, "--rate-limit", "90/min", "--rate-burst", "7")
    try:
        assert "rate limit: 1.5 requests a second per client address after a burst of 7" in s.read_log()
    finally:
        s.stop()


# TLS reload ---------------------------------------------------------------------------


def make_cert(tmp_path, name):
    cert, key = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
         "-addext", "subjectAltName=IP:127.0.0.1"])
    return cert.read_bytes(), key.read_bytes()


def install(cert_path, key_path, pair):
    """Replaces the files as a renewal does: new files renamed over the old."""
    for path, data, mode in ((cert_path, pair[0], 0o644), (key_path, pair[1], 0o600)):
        tmp = str(path) + ".new"
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as f:
            f.write(data)
        os.rename(tmp, path)


def wait_log(server, text, timeout=10):
    deadline = time.monotonic() + timeout
    while text not in server.read_log():
        assert time.monotonic() < deadline, f"no {text!r} in the log:\n{server.read_log()}"
        time.sleep(0.1)


def peer_cn(conn):
    return dict(x[0] for x in conn.sock.getpeercert()["subject"])["commonName"]


def tls_context(*certs):
    ctx = ssl.create_default_context()
    for c in certs:
        ctx.load_verify_locations(cadata=c.decode())
    return ctx


def test_sighup_swaps_the_certificate_and_keeps_connections(tmp_path, db, vendor_keys):
    one, two = make_cert(tmp_path, "one"), make_cert(tmp_path, "two")
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    install(cert, key, one)
    s = start(db, vendor_keys, "--tls-cert", str(cert), "--tls-key", str(key), "--timeout", "30")
    ctx = tls_context(one[0], two[0])

    def fresh():
        c = http.client.HTTPSConnection("127.0.0.1", s.port, timeout=10, context=ctx)
        c.request("GET", "/v1/health")
        r = c.getresponse()
        assert r.status == 200 and json.loads(r.read())["status"] == "ok"
        return c

    try:
        kept = fresh()  # a keep-alive connection, open across the reload
        assert peer_cn(kept) == "one"
        install(cert, key, two)
        s.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while True:
            c = fresh()
            cn = peer_cn(c)
            c.close()
            if cn == "two":
                break
            assert time.monotonic() < deadline, "the new certificate was not served"
            time.sleep(0.1)
        # the connection made before still works, on the old certificate
        for _ in range(3):
            kept.request("GET", "/v1/health")
            r = kept.getresponse()
            assert r.status == 200 and json.loads(r.read())["status"] == "ok"
        assert peer_cn(kept) == "one"
        assert "replaced listener stopped" not in s.read_log()
        kept.close()
        wait_log(s, "reload: the replaced listener stopped (its last connection closed)")
        assert "reload: new connections get the certificate of" in s.read_log()

        # A broken pair on the next reload: refused, the server keeps serving "two".
        cert.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
        s.proc.send_signal(signal.SIGHUP)
        wait_log(s, f"reload: {cert}: no PEM certificate could be read; still serving the previous certificate")
        c = fresh()
        assert peer_cn(c) == "two"
        c.close()
        # a key that is not the certificate's
        install(cert, key, (two[0], one[1]))
        s.proc.send_signal(signal.SIGHUP)
        wait_log(s, f"reload: {key} is not the key of the certificate in {cert}; still serving")
        c = fresh()
        assert peer_cn(c) == "two"
        c.close()
        # and a key others may read is refused as at start
        install(cert, key, one)
        os.chmod(key, 0o644)
        s.proc.send_signal(signal.SIGHUP)
        wait_log(s, "readable by others")
        c = fresh()
        assert peer_cn(c) == "two"
        c.close()
    finally:
        s.stop()


def test_a_key_that_is_not_the_certificates_is_refused_at_start(tmp_path, db, vendor_keys):
    one, two = make_cert(tmp_path, "one"), make_cert(tmp_path, "two")
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    install(cert, key, (one[0], two[1]))
    p = run([binary("licensed-server"), "--db", db, "--signing-key", vendor_keys[0], "--tls-cert", str(cert),
             "--tls-key", str(key)], check=False)
    assert p.returncode == 1
    assert p.stderr == f"licensed-server: {key} is not the key of the certificate in {cert}\n"


def test_sighup_without_tls_changes_nothing(db, vendor_keys):
    s = start(db, vendor_keys)
    try:
        s.proc.send_signal(signal.SIGHUP)
        wait_log(s, "reload: plain HTTP")
        assert s.alive()
    finally:
        s.stop()


def test_reloads_many_times_under_traffic(tmp_path, db, vendor_keys):
    """More reloads than listeners kept draining, with connections open:
    nothing crashes or leaks (the asan tier runs this too)."""
    pairs = [make_cert(tmp_path, "one"), make_cert(tmp_path, "two")]
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    install(cert, key, pairs[0])
    s = start(db, vendor_keys, "--tls-cert", str(cert), "--tls-key", str(key))
    ctx = tls_context(pairs[0][0], pairs[1][0])
    held = []
    try:
        for i in range(8):
            c = http.client.HTTPSConnection("127.0.0.1", s.port, timeout=10, context=ctx)
            c.request("GET", "/v1/health")
            assert c.getresponse().read()
            held.append(c)
            install(cert, key, pairs[(i + 1) % 2])
            s.proc.send_signal(signal.SIGHUP)
            time.sleep(0.3)
        assert s.read_log().count("reload: new connections get") == 8
        for c in held:  # each on its own listener, some stopped by now
            try:
                c.request("GET", "/v1/health")
                c.getresponse().read()
            except (OSError, http.client.HTTPException):
                pass
        c = http.client.HTTPSConnection("127.0.0.1", s.port, timeout=10, context=ctx)
        c.request("GET", "/v1/health")
        assert c.getresponse().status == 200
        c.close()
    finally:
        for c in held:
            c.close()
        s.stop()
