# SPDX-License-Identifier: LGPL-2.1-or-later
"""licensed-site.service from the licensed-site package under real systemd:
it starts as shipped, makes its site, `licensed-site status` works, the
floating license activated with the site's own request is served, a
client (Python, speaking the protocol of docs/floating.md, in the
container's network namespace) gets a lease, the lease and the count
survive a restart of the service, `licensed-site release` frees it with a
journal event, and the unit is sandboxed. Then the client side under the
same real systemd: licensed (bus-activated from its package) joins the
site with `licensectl site join`, borrows the one seat, answers
CheckFeature from the lease, refuses a second program's CheckOut while the
seat is away, and gives it back."""
import hashlib
import json
import os
import re
import subprocess
import sys

import pytest

import conftest as system_conftest
from conftest import boot
from harness import DEBS, SOURCE, _integration_conftest, deb_files, vendor, wait_until

sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))
pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
# The integration tier's site client (site_server.py) imports its own
# conftest by that name: give it that one while it loads.
sys.modules["conftest"] = _integration_conftest()
try:
    from licensed_server import Response  # noqa: E402
    from site_server import EVENT_GRANTED, PRODUCT, SiteClient  # noqa: E402
finally:
    sys.modules["conftest"] = system_conftest

UNIT = "licensed-site.service"
EVENT_RELEASED = "c41e8d2a6f3b4c7d9e0a1b2c3d4e5f60"
PORT = 7071

# Posts (or gets) in the container's network namespace, and says which
# certificate the site showed.
CLIENT = r"""
import hashlib, http.client, json, ssl, sys
method, path = sys.argv[1], sys.argv[2]
body = sys.stdin.read() or None
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # pinned by the caller, below
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[3]), timeout=10, context=ctx)
c.connect()
cert = hashlib.sha256(c.sock.getpeercert(binary_form=True)).hexdigest()
c.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
r = c.getresponse()
print(json.dumps({"status": r.status, "body": r.read().decode(), "cert": cert}))
"""


class ContainerSite:
    """What SiteClient needs of a site, for the one in the container."""

    def __init__(self, m):
        self.m = m
        out = m.run("licensed-site", "status").stdout
        self.site_id = re.search(r"^Site: ([0-9a-f]{32})$", out, flags=re.M).group(1)
        self.fingerprint = re.search(r"^Certificate SHA-256: ([0-9A-F:]+)$", out, flags=re.M).group(1)
        self.fingerprint = self.fingerprint.replace(":", "").lower()

    def token(self):
        return self.m.run("licensed-site", "token", user="licensed-site").stdout.strip()

    def request(self, method, path, body=None):
        p = subprocess.run(["nsenter", f"--target={self.m.leader}", "--net", "--", sys.executable, "-c", CLIENT,
                            method, path, str(PORT)],
                           input=json.dumps(body) if body is not None else "", capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 0, p.stderr
        r = json.loads(p.stdout)
        assert r["cert"] == self.fingerprint, "not the certificate licensed-site status shows"
        return Response(r["status"], {}, r["body"].encode())


@pytest.fixture(scope="module")
def m():
    machine = boot(install="deb")
    try:
        site_debs = deb_files(DEBS, "licensed-site")
        if not site_debs:
            pytest.fail(f"no licensed-site package in {DEBS}")
        machine.apt_install(site_debs)
        yield machine
    finally:
        machine.stop()


def answering(site):
    try:
        return site.request("GET", "/v1/site").status == 200
    except (AssertionError, subprocess.TimeoutExpired):
        return False


def test_site_service(m, tmp_path, keys):
    signing_key, public_key = keys
    m.install_product(PRODUCT, public_key)
    m.systemctl("enable", "--now", UNIT)
    m.wait_for_state(UNIT, "active")
    exposure = m.run("systemd-analyze", "security", UNIT, check=False).stdout
    level = float([l for l in exposure.splitlines() if "Overall exposure level" in l][-1].split(":")[1].split()[0])
    assert level <= 2.5, exposure

    # The first start made the site; status reads it (root, as an administrator).
    site = ContainerSite(m)
    wait_until(lambda: answering(site), timeout=15, what="licensed-site to answer")
    st = json.loads(m.run("licensed-site", "--json", "status").stdout)
    assert st["site"] == site.site_id and st["features"] == [] and st["leases"] == []

    # The floating license, activated offline with the site's own request,
    # made by the service's user so the service owns what it writes.
    key = vendor("key", "new").strip()
    req = m.run("licensed-site", "--product", PRODUCT, "activation-request", key, user="licensed-site").stdout
    (tmp_path / "site.req").write_text(req)
    vendor("answer", "--signing-key", signing_key, "--request", str(tmp_path / "site.req"), "--id", "sys-float",
           "--licensee", "System Test", "--type", "floating", "--feature", "cad:limit=1", "--output",
           str(tmp_path / "site.lic"))
    m.write("/tmp/site.lic", (tmp_path / "site.lic").read_text())
    m.run("licensed-site", "install", "/tmp/site.lic", user="licensed-site")
    m.systemctl("restart", UNIT)
    m.wait_for_state(UNIT, "active")
    wait_until(lambda: answering(site), timeout=15, what="licensed-site to answer after the restart")

    # A client enrols with a join token and takes the one seat.
    cursor = m.journal_cursor()
    a, b = SiteClient(site, host="ws-a", user="alice"), SiteClient(site, host="ws-b", user="bob")
    a.enrol()
    b.enrol()
    r = a.checkout()
    assert r.status == 200, r.body
    lease = r.json["lease_id"]
    assert b.checkout().error[0] == "all-in-use"
    e = m.wait_journal(after=cursor, MESSAGE_ID=EVENT_GRANTED)[-1]
    assert (e["LEASE_ID"], e["CLIENT_USER"], e["CLIENT_HOST"], e["_SYSTEMD_UNIT"]) == (lease, "alice", "ws-a", UNIT)

    # A restart keeps the lease and the count.
    m.systemctl("restart", UNIT)
    m.wait_for_state(UNIT, "active")
    wait_until(lambda: answering(site), timeout=15, what="licensed-site to answer after the restart")
    assert a.heartbeat(lease).status == 200
    assert b.checkout().error[0] == "all-in-use"
    (l,) = json.loads(m.run("licensed-site", "--json", "status").stdout)["leases"]
    assert (l["id"], l["user"], l["host"]) == (lease, "alice", "ws-a")
    text = m.run("licensed-site", "status").stdout
    assert re.search(rf"^{PRODUCT} +cad +sys-float +1 +1$", text, flags=re.M), text

    # The administrator frees it; bob gets the seat.
    cursor = m.journal_cursor()
    out = m.run("licensed-site", "release", lease).stdout
    assert f"Released lease {lease}" in out
    e = m.wait_journal(after=cursor, MESSAGE_ID=EVENT_RELEASED)[-1]
    assert (e["LEASE_ID"], e["CLIENT_USER"]) == (lease, "alice")
    assert a.heartbeat(lease).error[0] == "unknown-lease"
    assert b.checkout().status == 200
    assert EVENT_RELEASED in m.run("journalctl", "--list-catalog").stdout
    # The database stays the service's after root's verbs.
    owners = m.sh("stat -c '%U %n' /var/lib/licensed-site/site.db*").stdout
    assert all(line.startswith("licensed-site ") for line in owners.splitlines()), owners
    m.systemctl("disable", "--now", UNIT)


def test_licensed_client_of_the_site(m):
    """licensed from its package as a client of the site in the same
    container, reached on 127.0.0.1 and pinned by the fingerprint that
    `licensed-site status` shows."""
    m.systemctl("enable", "--now", UNIT)
    m.wait_for_state(UNIT, "active")
    site = ContainerSite(m)
    wait_until(lambda: answering(site), timeout=15, what="licensed-site to answer")
    # The previous test's leases go, so the one seat is free.
    for lease in json.loads(m.run("licensed-site", "--json", "status").stdout)["leases"]:
        m.run("licensed-site", "release", lease["id"])

    # Not joined yet: the feature is not licensed here.
    assert m.check_feature(PRODUCT, "cad") == (False, "not-installed")
    url = f"https://127.0.0.1:{PORT}"
    out = m.run("licensectl", "site", "join", url, "--token", site.token(), "--fingerprint", site.fingerprint).stdout
    assert f"Joined site {site.site_id}" in out, out
    assert m.run("systemctl", "is-active", "licensed.service", check=False).stdout.strip() == "active"
    # Joined, but no lease held: CheckFeature says so.
    assert m.check_feature(PRODUCT, "cad") == (False, "no-lease")

    # A borrowed lease: the seat is this machine's until it comes back.
    out = m.run("licensectl", "borrow", PRODUCT, "cad", "--for", "2h").stdout
    lease = re.search(r"\(lease ([0-9a-f]+)\)", out).group(1)
    assert m.check_feature(PRODUCT, "cad") == (True, "licensed")
    st = json.loads(m.run("licensectl", "--json", "site", "status").stdout)
    assert st["site"] == site.site_id
    assert [(l["id"], l["borrowed"]) for l in st["leases"]] == [(lease, True)]
    (held,) = json.loads(m.run("licensed-site", "--json", "status").stdout)["leases"]
    assert held["id"] == lease and held["borrowed_until"]

    # The seat is away: another program's CheckOut is refused, with the reason.
    r = m.call("CheckOut", "ss", PRODUCT, "cad")
    assert r["data"][0] is False and r["data"][1] == "floating-in-use", r

    # Given back: the site has the seat again, and the feature is no longer
    # licensed here.
    out = m.run("licensectl", "return", PRODUCT, "cad").stdout
    assert f"Returned lease {lease}" in out
    assert json.loads(m.run("licensed-site", "--json", "status").stdout)["leases"] == []
    assert m.check_feature(PRODUCT, "cad") == (False, "no-lease")
    m.run("licensectl", "site", "leave")
    m.systemctl("disable", "--now", UNIT)
