# SPDX-License-Identifier: LGPL-2.1-or-later
"""licensed-server.service as the package ships it, under real systemd:
it starts as shipped once a signing key exists, is sandboxed (systemd-analyze
security <= 2.0), logs to the journal with the events' MESSAGE_IDs and
fields and no doubled prefix, and `systemctl reload` swaps the TLS
certificate that new connections see. The container has no curl or
openssl: the host's openssl and python run in the container's network
namespace (nsenter --net) as its clients."""
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import boot
from harness import SOURCE, wait_until

sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))
pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
from machine import PRODUCT, Device, new_machine_id, new_nonce  # noqa: E402

UNIT = "licensed-server.service"
# server/server-log.h; docs/journal.md
STARTED = "eb62b33ef5e0452cb105bb8afbc99c9a"
ACTIVATED = "0f6c9e00163f4907a44ccc7cf803ca8f"
SEAT_LIMIT = "ed236b0530c94edd8b44a28d0cb45491"
REVOKED_SEEN = "a4e02fac24ce45958c1e837b47983038"

CLIENT = r"""
import http.client, json, ssl, sys
method, port, path, tls = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "tls"
body = sys.stdin.read() or None
if tls:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=ctx)
else:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
c.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
r = c.getresponse()
print(json.dumps({"status": r.status, "body": r.read().decode()}))
"""


@pytest.fixture(scope="module")
def m():
    machine = boot(install="deb")
    try:
        yield machine
    finally:
        machine.stop()


def in_netns(m, *argv, input=None):
    return subprocess.run(["nsenter", f"--target={m.leader}", "--net", "--", *argv], input=input,
                          capture_output=True, text=True, timeout=30)


def http(m, method, path, body=None, port=7070, tls=False):
    p = in_netns(m, sys.executable, "-c", CLIENT, method, str(port), path, "tls" if tls else "plain",
                 input=json.dumps(body) if body is not None else "")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    return r["status"], r["body"]


def served_cn(m, port):
    p = in_netns(m, "openssl", "s_client", "-connect", f"127.0.0.1:{port}", input="")
    found = re.search(r"subject=\s*CN\s*=\s*(\S+)", p.stdout)
    return found.group(1) if found else None


def exposure(m, unit):
    out = m.run("systemd-analyze", "security", unit, check=False).stdout
    line = [line for line in out.splitlines() if "Overall exposure level" in line][-1]
    return float(line.split(":")[1].split()[0])


def vendor_in(m, *args):
    return m.run("licensed-vendor", *args).stdout


def test_the_shipped_unit(m, tmp_path):
    # As shipped: a key, then enable --now
    m.run("licensed-vendor", "keygen", "--output", "/etc/licensed-server/signing")
    cursor = m.journal_cursor()
    m.systemctl("enable", "--now", UNIT)
    m.wait_for_state(UNIT, "active")
    assert exposure(m, UNIT) <= 2.0
    wait_until(lambda: http(m, "GET", "/v1/health")[0] == 200, timeout=10, what="the server to answer")
    status, body = http(m, "GET", "/v1/health")
    assert json.loads(body)["database"] == "ok"

    # The journal: structured, its own priority, no "licensed-server:" in MESSAGE
    started = m.wait_journal(after=cursor, MESSAGE_ID=STARTED)[-1]
    assert started["_SYSTEMD_UNIT"] == UNIT and started["SYSLOG_IDENTIFIER"] == "licensed-server"
    assert started["PRIORITY"] == "5" and started["MESSAGE"].startswith("listening on http://127.0.0.1:7070 ")
    lines = m.journal(after=cursor, unit=UNIT)
    requests = [e for e in lines if "GET /v1/health: 200" in e.get("MESSAGE", "")]
    assert requests and all(e["PRIORITY"] == "6" for e in requests), requests
    assert not [e for e in lines if str(e.get("MESSAGE", "")).startswith("licensed-server:")]

    # Events with their fields: an activation, the seat limit, a revocation seen
    db = "/var/lib/licensed-server/vendor.db"
    key = vendor_in(m, "entitlement", "create", "--db", db, "--product", PRODUCT, "--licensee", "Unit Test",
                    "--seats", "1").strip()
    a, b = Device(machine_id=new_machine_id()), Device(machine_id=new_machine_id())
    status, body = http(m, "POST", "/v1/activate", {"request": a.sign("activation", key=key, nonce=new_nonce())})
    assert status == 200, body
    lid = json.loads(body)["license_id"]
    status, _ = http(m, "POST", "/v1/activate", {"request": b.sign("activation", key=key, nonce=new_nonce())})
    assert status == 409
    vendor_in(m, "revoke", "--db", db, "--key", key)
    status, body = http(m, "POST", "/v1/validate", {"request": a.sign("validation", license_id=lid, revision="1",
                                                                       nonce=new_nonce())})
    assert status == 200 and json.loads(body)["status"] == "revoked"

    e = m.wait_journal(after=cursor, MESSAGE_ID=ACTIVATED)[-1]
    assert (e["LICENSE_ID"], e["PRODUCT"], e["MACHINE_ID"], e["PRIORITY"]) == (lid, PRODUCT, a.machine_id, "6")
    assert e["LICENSE_KEY"] != key and e["LICENSE_KEY"][:5] == key[:5], e["LICENSE_KEY"]
    e = m.wait_journal(after=cursor, MESSAGE_ID=SEAT_LIMIT)[-1]
    assert (e["MACHINE_ID"], e["PRIORITY"]) == (b.machine_id, "4")
    e = m.wait_journal(after=cursor, MESSAGE_ID=REVOKED_SEEN)[-1]
    assert (e["LICENSE_ID"], e["MACHINE_ID"], e["PRIORITY"]) == (lid, a.machine_id, "5")
    everything = m.run("journalctl", "-u", UNIT, "-o", "json", "--no-pager").stdout
    assert key not in everything, "a license key in clear in the journal"
    # the catalog is indexed: journalctl -x explains the events
    listed = m.run("journalctl", "--list-catalog").stdout
    for mid in (STARTED, ACTIVATED, SEAT_LIMIT, REVOKED_SEEN):
        assert mid in listed, mid
    out = m.run("journalctl", "-x", "--no-pager", f"MESSAGE_ID={SEAT_LIMIT}").stdout
    assert "every seat of that entitlement is taken" in out, out


def test_reload_swaps_the_certificate(m, tmp_path):
    """HTTPS and metrics by a drop-in, as docs/vendor-guide.md shows; a
    renewed certificate is picked up by `systemctl reload`."""
    for name in ("one", "two"):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", str(tmp_path / f"{name}.key"), "-out", str(tmp_path / f"{name}.crt"),
                        "-days", "2", "-subj", f"/CN={name}"], check=True, capture_output=True)

    def put(name):
        m.run("mkdir", "-p", "/etc/licensed-server/tls")
        m.copy_in(str(tmp_path / f"{name}.crt"), "/etc/licensed-server/tls/cert.pem.new", 0o644)
        m.copy_in(str(tmp_path / f"{name}.key"), "/etc/licensed-server/tls/key.pem.new", 0o600)
        m.sh("cd /etc/licensed-server/tls && chown licensed-server: cert.pem.new key.pem.new && "
             "mv cert.pem.new cert.pem && mv key.pem.new key.pem")

    put("one")
    m.drop_in(UNIT, "tls", "[Service]\nEnvironment=LISTEN=127.0.0.1:7443\n"
                           "Environment=\"OPTIONS=--tls-cert /etc/licensed-server/tls/cert.pem "
                           "--tls-key /etc/licensed-server/tls/key.pem --metrics-listen 127.0.0.1:9101\"\n")
    m.systemctl("restart", UNIT)
    m.wait_for_state(UNIT, "active")
    assert wait_until(lambda: served_cn(m, 7443), timeout=10, what="HTTPS") == "one"
    pid = m.show(UNIT, "MainPID")["MainPID"]

    cursor = m.journal_cursor()
    put("two")
    m.systemctl("reload", UNIT)
    wait_until(lambda: served_cn(m, 7443) == "two", timeout=15, what="the new certificate")
    assert m.show(UNIT, "MainPID")["MainPID"] == pid, "a reload, not a restart"
    assert m.is_active(UNIT) == "active"
    e = m.wait_journal(after=cursor, unit=UNIT, MESSAGE="reload: new connections get the certificate of "
                                                        "/etc/licensed-server/tls/cert.pem")[-1]
    assert e["PRIORITY"] == "5"
    assert http(m, "GET", "/v1/health", port=7443, tls=True)[0] == 200

    # the metrics listener, on loopback only, and not on the public one
    status, text = http(m, "GET", "/metrics", port=9101)
    assert status == 200 and 'licensed_server_build_info{version="' in text
    assert re.search(r"^licensed_server_requests_total\{method=\"GET\",route=\"/v1/health\",status=\"200\"\} \d+$",
                     text, flags=re.M), text
    assert http(m, "GET", "/metrics", port=7443, tls=True)[0] == 404
    assert exposure(m, UNIT) <= 2.0

    m.remove_drop_in(UNIT, "tls")
    m.systemctl("disable", "--now", UNIT)
