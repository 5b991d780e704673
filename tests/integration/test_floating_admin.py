# SPDX-License-Identifier: LGPL-2.1-or-later
"""Administrators of a floating-license site (docs/floating.md,
"Administrator clients"): a machine enrolled with `licensed-site token
--admin` sees every lease of the site with its host and user in
`licensectl site status`, and frees any of them with `licensectl site
release`; any other client sees and frees only its own."""
import json
import socket

from site_server import PRODUCT, SiteClient
from test_floating import machines  # noqa: F401 (the fixture)
from test_floating import site_used
from test_site import make_site
from harness import wait_for

RELEASED = "c41e8d2a6f3b4c7d9e0a1b2c3d4e5f60"


def own_lease_id(m):
    return str(site_used(m)[1][0][0])


def status(m):
    return json.loads(m.ctl("site", "status", "--json").stdout)


def test_admin_sees_and_releases_any_lease(tmp_path, vendor, vendor_keys, machines):  # noqa: F811
    site = make_site(tmp_path, vendor, vendor_keys, seats=1, ttl="4s")
    try:
        admin = machines("admin")
        admin.join(site, token=site.cli("--admin", "token").stdout.strip())
        holder, third = machines("holder", site), machines("third", site)
        admins = json.loads(site.cli("--json", "status").stdout)["admins"]
        # One administrator, of the three enrolled machines.
        assert len(admins) == 1 and admins[0]["host"] == socket.gethostname()
        assert json.loads(site.cli("--json", "status").stdout)["clients"] == 3
        assert "Administrators: " in site.cli("status").stdout

        assert holder.checkout()[:2] == (True, "licensed")
        assert third.checkout()[:2] == (False, "floating-in-use")
        lease = own_lease_id(holder)

        st = status(admin)
        assert st["admin"] is True
        assert [(l["id"], l["host"], l["feature"]) for l in st["site_leases"]] == [(lease, socket.gethostname(),
                                                                                   "cad")]
        entry = st["site_leases"][0]
        assert entry["user"] and entry["since"] and entry["expires"] and entry["borrowed_until"] is None
        assert "this machine is an administrator" in admin.ctl("site", "status").stdout
        # The holder sees its own lease at the site, and no more.
        assert status(holder)["admin"] is False
        assert [l["id"] for l in status(holder)["site_leases"]] == [lease]
        assert status(third)["site_leases"] == []

        out = admin.ctl("site", "release", lease).stdout
        assert f"Released lease {lease}" in out
        events = site.events(RELEASED)
        assert len(events) == 1 and lease in events[0] and f"on {socket.gethostname()}" in events[0]
        # The holder's next heartbeat is refused: it drops the lease.
        wait_for(lambda: holder.check()[:2] == (False, "no-lease"), timeout=15, what="the released lease dropped")
        assert third.checkout()[:2] == (True, "licensed")
        # Released twice: the site knows it no more.
        p = admin.ctl("site", "release", lease, check=False)
        assert p.returncode != 0 and "no lease" in p.stderr

        # Enrolled again with a plain token: no longer an administrator.
        admin.join(site)
        assert status(admin)["admin"] is False
        assert json.loads(site.cli("--json", "status").stdout)["admins"] == []
    finally:
        site.stop()


def test_client_releases_only_its_own(tmp_path, vendor, vendor_keys, machines):  # noqa: F811
    site = make_site(tmp_path, vendor, vendor_keys, seats=2)
    try:
        a, b = machines("a", site), machines("b", site)
        assert a.checkout()[0] and b.checkout()[0]
        a_lease, b_lease = own_lease_id(a), own_lease_id(b)
        assert [l["id"] for l in status(b)["site_leases"]] == [b_lease]

        p = b.ctl("site", "release", a_lease, check=False)
        assert p.returncode != 0
        assert "only an administrator of the site can release it" in p.stderr, p.stderr
        assert a.check()[:2] == (True, "licensed")
        assert site_used(a)[0] == {"cad": (2, 2)}
        assert site.events(RELEASED) == []

        # Its own: released at the site, and forgotten here at once.
        assert f"Released lease {b_lease}" in b.ctl("site", "release", b_lease).stdout
        assert b.check()[:2] == (False, "no-lease")
        assert site_used(a)[0] == {"cad": (1, 2)}

        p = b.ctl("site", "release", "not-a-lease", check=False)
        assert p.returncode != 0 and "is not a lease id" in p.stderr
    finally:
        site.stop()


def test_protocol_release_and_status(tmp_path, vendor, vendor_keys):
    """The site's side alone, with hand-made SITE REQUESTs: the codes and
    the answer's scope."""
    site = make_site(tmp_path, vendor, vendor_keys, seats=3)
    try:
        admin, alice, bob = SiteClient(site, host="admin-ws"), SiteClient(site), SiteClient(site, user="bob")
        admin.enrol(token=site.cli("--admin", "token").stdout.strip())
        alice.enrol()
        bob.enrol()
        a_lease = json.loads(alice.checkout().body)["lease_id"]
        b_lease = json.loads(bob.checkout().body)["lease_id"]

        st = json.loads(alice.post("status", alice.document("status")).body)
        assert (st["admin"], st["scope"]) == (False, "own")
        assert [(l["id"], l["host"], l["user"]) for l in st["leases"]] == [(a_lease, alice.host, "alice")]
        st = json.loads(admin.post("status", admin.document("status")).body)
        assert (st["admin"], st["scope"]) == (True, "all")
        assert sorted(l["id"] for l in st["leases"]) == sorted([a_lease, b_lease])

        r = alice.post("release", alice.document("release", lease=b_lease, host=alice.host))
        assert r.status == 403 and json.loads(r.body)["error"]["code"] == "not-admin"
        assert bob.heartbeat(b_lease).status == 200
        # A release needs the requesting host; a status request takes no lease.
        r = alice.post("release", alice.document("release", lease=a_lease))
        assert r.status == 400
        r = alice.post("release", alice.document("release", lease=a_lease, host=alice.host))
        assert r.status == 200 and json.loads(r.body)["released"] == a_lease
        r = admin.post("release", admin.document("release", lease=b_lease, host=admin.host))
        assert r.status == 200 and json.loads(r.body)["user"] == "bob"
        event = site.events(RELEASED)[-1]
        assert b_lease in event and "on admin-ws" in event
        assert json.loads(bob.heartbeat(b_lease).body)["error"]["code"] == "unknown-lease"
        r = admin.post("release", admin.document("release", lease=b_lease, host=admin.host))
        assert r.status == 404 and json.loads(r.body)["error"]["code"] == "unknown-lease"
    finally:
        site.stop()
