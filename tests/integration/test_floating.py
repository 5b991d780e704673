# SPDX-License-Identifier: LGPL-2.1-or-later
"""Floating licenses, the client side (docs/floating.md): licensed daemons
that join a licensed-site over real TLS on loopback, take leases for
CheckOut, keep them with heartbeats, give them back, borrow them for
offline use, and refuse leases that do not hold.

Every client machine is its own licensed with its own private bus, state
directory, device key and machine id (/etc/machine-id bind-mounted in a
private mount namespace, so that the site sees distinct machines)."""
import glob
import json
import os
import shutil
import subprocess
import time

import dbus
import pytest

from conftest import binary, run, write_product
from harness import MANAGER, MANAGER_PATH, SERVICE, Bus, Daemon, wait_for
from machine import tamper
from site_server import PRODUCT
from test_site import make_site
from test_time import faked

BUS_ERROR = "org.licensed.License1.Error."


class Machine:
    """A client machine: a bus and a licensed of its own."""

    def __init__(self, tmp, name, products, site=None):
        self.dir = os.path.join(str(tmp), name)
        os.makedirs(self.dir)
        self.machine_id = os.urandom(16).hex()
        mid = os.path.join(self.dir, "machine-id")
        with open(mid, "w") as f:
            f.write(self.machine_id + "\n")
        wrap = os.path.join(self.dir, "wrap")
        with open(wrap, "w") as f:
            f.write("#!/bin/sh\nexec unshare -m sh -c 'mount --bind \"$0\" /etc/machine-id && exec \"$@\"' "
                    f"{mid} \"$@\"\n")
        os.chmod(wrap, 0o755)
        self.bus = Bus(self.dir)
        self.daemon = self.wrapped(lambda: Daemon(self.bus, os.path.join(self.dir, "state"), products))
        self.conn = self.bus.connect()
        if site:
            self.join(site)

    def wrapped(self, start):
        """Runs start() with licensed started in this machine's mount namespace."""
        old = os.environ.get("LICENSED_DAEMON_WRAPPER")
        os.environ["LICENSED_DAEMON_WRAPPER"] = f"{os.path.join(self.dir, 'wrap')} {old or ''}".strip()
        try:
            return start()
        finally:
            if old is None:
                del os.environ["LICENSED_DAEMON_WRAPPER"]
            else:
                os.environ["LICENSED_DAEMON_WRAPPER"] = old

    def manager(self, conn=None):
        return dbus.Interface((conn or self.conn).get_object(SERVICE, MANAGER_PATH), MANAGER)

    def join(self, site, token=None, fingerprint=None):
        return self.manager().JoinSite(f"https://127.0.0.1:{site.port}", token or site.token(),
                                       fingerprint or site.fingerprint, False, timeout=60)

    def check(self, feature="cad"):
        licensed, reason, expires, _ = self.manager().CheckFeature(PRODUCT, feature, dbus.UInt64(0))
        return bool(licensed), str(reason), int(expires) // 1_000_000

    def checkout(self, conn=None, feature="cad"):
        granted, reason, used, limit = self.manager(conn).CheckOut(PRODUCT, feature, timeout=60)
        return bool(granted), str(reason), int(used), int(limit)

    def ctl(self, *args, check=True, input=None):
        return run([binary("licensectl"), f"--bus-address={self.bus.address}", "--no-pager", *args], check=check,
                   input=input)

    def restart(self, env=None):
        self.conn.close()
        self.daemon.stop()
        self.daemon.extra_env = env or {}
        self.wrapped(self.daemon.start)
        self.conn = self.bus.connect()

    def stop(self):
        try:
            self.conn.close()
            if self.daemon.proc:
                self.daemon.stop()
        finally:
            self.bus.stop()


@pytest.fixture
def machines(tmp_path):
    made = []

    def make(name, site=None, products=None):
        m = Machine(tmp_path, name, products or str(tmp_path / "products"), site)
        made.append(m)
        return m

    yield make
    for m in made:
        m.stop()


def fixed_port(site):
    """Restarts of this site keep its port, so that joined clients find it."""
    site.args += ["--listen", f"127.0.0.1:{site.port}"]


def site_used(m):
    url, site_id, fp, features, leases, *_ = m.manager().SiteStatus(timeout=30)
    return {str(f[1]): (int(f[3]), int(f[2])) for f in features}, leases


def test_three_seats_five_clients(tmp_path, vendor, vendor_keys, machines):
    site = make_site(tmp_path, vendor, vendor_keys, seats=3)
    try:
        clients = [machines(f"c{i}", site) for i in range(5)]
        # Joined: the floating feature is known, and no lease is held yet.
        assert clients[0].check() == (False, "no-lease", 0)
        answers = [c.checkout() for c in clients]
        granted = [a for a in answers if a[0]]
        assert len(granted) == 3
        assert all(a == (False, "floating-in-use", 3, 3) for a in answers if not a[0])
        holders = [c for c, a in zip(clients, answers) if a[0]]
        others = [c for c, a in zip(clients, answers) if not a[0]]
        assert granted[0][1:] == ("licensed", 1, 3)
        for c in holders:
            licensed, reason, expires = c.check()
            assert (licensed, reason) == (True, "licensed") and time.time() < expires <= time.time() + 121
        for c in others:
            assert c.check()[:2] == (False, "no-lease")
        used, leases = site_used(clients[0])
        assert used == {"cad": (3, 3)}
        assert len(leases) == 1 and str(leases[0][1]) == PRODUCT
        # The fast path must not answer for a floating feature: no snapshot entry.
        snap = os.path.join(holders[0].daemon.runtime_dir, "snapshot")
        assert not os.path.exists(snap) or b"cad" not in open(snap, "rb").read()

        # A holder asking again keeps its one lease.
        assert holders[0].checkout()[:3] == (True, "licensed", 1)
        assert site_used(clients[0])[0] == {"cad": (3, 3)}

        # The holder's bus connection goes away: its lease goes back to the site.
        holders[0].conn.close()
        holders[0].conn = holders[0].bus.connect()
        wait_for(lambda: site_used(clients[1])[0] == {"cad": (2, 3)}, what="the lease given back")
        assert holders[0].check()[:2] == (False, "no-lease")
        assert others[0].checkout()[:2] == (True, "licensed")

        # Return on the bus gives it back too.
        others[0].manager().Return(PRODUCT, "cad")
        wait_for(lambda: site_used(clients[1])[0] == {"cad": (2, 3)}, what="the returned lease")

        st = json.loads(clients[1].ctl("site", "status", "--json").stdout)
        assert st["site"] == site.site_id and st["features"] == [{"product": PRODUCT, "feature": "cad", "seats": 3,
                                                                  "used": 2}]
        assert st["leases"][0]["borrowed"] is False
    finally:
        site.stop()


def test_join_pins_the_certificate(tmp_path, vendor, vendor_keys, machines):
    site = make_site(tmp_path, vendor, vendor_keys, seats=1)
    try:
        m = machines("c0")
        url = f"https://127.0.0.1:{site.port}"
        # Not joined: a floating feature is just not installed here.
        assert m.checkout() == (False, "not-installed", 0, 0)
        with pytest.raises(dbus.exceptions.DBusException) as e:
            m.join(site, fingerprint="ab" * 32)
        assert e.value.get_dbus_name() == BUS_ERROR + "ServerUnreachable"
        assert "not the pinned one" in e.value.get_dbus_message()
        with pytest.raises(dbus.exceptions.DBusException) as e:
            m.join(site, token="0" * 32)
        assert e.value.get_dbus_name() == BUS_ERROR + "ServerRefused"
        assert m.checkout() == (False, "not-installed", 0, 0)
        assert not os.path.exists(os.path.join(m.daemon.state_dir, "site", "site.conf"))

        # Without --fingerprint and nobody to confirm it: the exact command.
        token = site.token()
        p = m.ctl("site", "join", url, "--token", token, "--no-ask-password", check=False)
        pretty = ":".join(site.fingerprint[i:i + 2] for i in range(0, 64, 2)).upper()
        assert p.returncode == 4
        assert f"licensectl site join {url} --token {token} --fingerprint {site.fingerprint}" in p.stderr
        assert pretty in p.stderr
        # With it (as licensed-site prints it, colons and all): joined.
        out = m.ctl("site", "join", url, "--token", token, "--fingerprint", pretty).stdout
        assert f"Joined site {site.site_id}" in out
        conf = os.path.join(m.daemon.state_dir, "site", "site.conf")
        assert os.stat(conf).st_mode & 0o777 == 0o600
        assert f"fingerprint {site.fingerprint}" in open(conf).read()
        assert m.checkout()[:2] == (True, "licensed")
        # Joined across a restart.
        m.restart()
        assert m.check()[:2] == (False, "no-lease")
        # The site not there: CheckOut says so.
        site.stop()
        assert m.checkout() == (False, "site-unreachable", 0, 1)
    finally:
        site.stop()


def test_killed_client_seat_returns_after_ttl(tmp_path, vendor, vendor_keys, machines):
    site = make_site(tmp_path, vendor, vendor_keys, seats=1, ttl="4s")
    try:
        a, b = machines("a", site), machines("b", site)
        assert a.checkout()[:2] == (True, "licensed")
        # Heartbeats keep it well past its TTL.
        time.sleep(9)
        assert a.check()[:2] == (True, "licensed")
        assert b.checkout()[:2] == (False, "floating-in-use")
        # The machine dies: no heartbeat, no return; the site frees the seat after the TTL.
        a.daemon.kill()
        t0 = time.monotonic()
        wait_for(lambda: b.checkout()[0], timeout=15, what="the dead client's seat")
        assert time.monotonic() - t0 > 1
    finally:
        site.stop()


def test_site_restart_keeps_leases(tmp_path, vendor, vendor_keys, machines):
    site = make_site(tmp_path, vendor, vendor_keys, seats=2, ttl="4s")
    fixed_port(site)
    try:
        a, b, c = machines("a", site), machines("b", site), machines("c", site)
        assert a.checkout()[0] and b.checkout()[0]
        site.stop()
        site.start()
        assert c.checkout()[:2] == (False, "floating-in-use")
        time.sleep(6)  # beyond the TTL: the heartbeats reached the restarted site
        assert a.check()[:2] == (True, "licensed") and b.check()[:2] == (True, "licensed")
        assert site_used(c)[0] == {"cad": (2, 2)}
    finally:
        site.stop()


def borrowed_files(m):
    return sorted(glob.glob(os.path.join(m.daemon.state_dir, "site", "borrowed", "*")))


def test_borrow_offline_and_its_end(tmp_path, vendor, vendor_keys, machines):
    site = make_site(tmp_path, vendor, vendor_keys, seats=2)
    try:
        m, other = machines("m", site), machines("o", site)
        out = m.ctl("borrow", PRODUCT, "cad", "--for", "1d", "--json").stdout
        assert '"lease"' in out
        licensed, reason, until = m.check()
        assert (licensed, reason) == (True, "licensed") and abs(until - (time.time() + 86400)) < 60
        assert len(borrowed_files(m)) == 2
        assert site_used(other)[0] == {"cad": (1, 2)}
        # Beyond the site's --borrow-max (7d): refused.
        p = m.ctl("borrow", PRODUCT, "cad", "--for", "30d", check=False)
        assert p.returncode == 4 and "borrow" in p.stderr

        # No site, and a restart (a reboot): still licensed, offline.
        site.stop()
        m.restart()
        assert m.check()[:2] == (True, "licensed")
        # A day and more later, it has ended, and is gone.
        m.restart(faked("+2d"))
        assert m.check()[:2] == (False, "no-lease")
        assert borrowed_files(m) == []
    finally:
        site.stop()


def test_return_borrowed_early(tmp_path, vendor, vendor_keys, machines):
    site = make_site(tmp_path, vendor, vendor_keys, seats=1)
    try:
        m, other = machines("m", site), machines("o", site)
        m.ctl("borrow", PRODUCT, "cad", "--for", "3d")
        assert other.checkout()[:2] == (False, "floating-in-use")
        out = m.ctl("return", PRODUCT, "cad").stdout
        assert out.startswith("Returned lease ")
        assert borrowed_files(m) == [] and m.check()[:2] == (False, "no-lease")
        assert other.checkout()[:2] == (True, "licensed")
        p = m.ctl("return", PRODUCT, "cad", check=False)
        assert p.returncode == 4 and "No borrowed lease" in p.stderr
    finally:
        site.stop()


def test_leases_that_do_not_hold_are_refused(tmp_path, vendor, vendor_keys, machines):
    site = make_site(tmp_path, vendor, vendor_keys, seats=3)
    other_site = make_site(tmp_path, vendor, vendor_keys, seats=3, name="other")
    try:
        m, n = machines("m", site), machines("n", site)
        m.ctl("borrow", PRODUCT, "cad", "--for", "1d")
        n.ctl("borrow", PRODUCT, "cad", "--for", "1d")
        mine = borrowed_files(m)
        lease_path = [p for p in mine if p.endswith(".lease")][0]
        lease_id = os.path.basename(lease_path)[:-6]
        lic_text = open(lease_path[:-6] + ".lic").read()
        good = open(lease_path).read()
        # A lease of the other site (same product, this machine) with this site's license.
        m.join(other_site)
        m.ctl("borrow", PRODUCT, "cad", "--for", "1d")
        other_lease = [p for p in borrowed_files(m) if p.endswith(".lease") and p != lease_path][0]
        foreign = open(other_lease).read()
        n_lease = [p for p in borrowed_files(n) if p.endswith(".lease")][0]
        cases = {
            "edited": (tamper(good, b"user: ", b"user: x"), "altered"),
            "another site's": (foreign, "is not from the site of license site-float"),
            "another machine's (replayed)": (open(n_lease).read(), "was granted to another machine"),
        }
        for what, (text, why) in cases.items():
            for p in borrowed_files(m):
                os.unlink(p)
            with open(os.path.join(os.path.dirname(lease_path), lease_id + ".lic"), "w") as f:
                f.write(lic_text)
            with open(os.path.join(os.path.dirname(lease_path), lease_id + ".lease"), "w") as f:
                f.write(text)
            seen = len(m.daemon.read_log())
            m.restart()
            assert m.check()[:2] == (False, "no-lease"), what
            log = m.daemon.read_log()[seen:]
            assert "Ignoring borrowed lease" in log and why in log, what
        # The good one, back in place, holds.
        with open(os.path.join(os.path.dirname(lease_path), lease_id + ".lease"), "w") as f:
            f.write(good)
        m.restart()
        assert m.check()[:2] == (True, "licensed")
    finally:
        other_site.stop()
        site.stop()


def test_failed_heartbeats_keep_the_lease_until_it_expires(tmp_path, vendor, vendor_keys, machines):
    site = make_site(tmp_path, vendor, vendor_keys, seats=1, ttl="4s")
    try:
        m = machines("m", site)
        assert m.checkout()[:2] == (True, "licensed")
        site.stop()
        licensed, reason, expires = m.check()
        assert (licensed, reason) == (True, "licensed") and expires <= time.time() + 5
        wait_for(lambda: "keeps working until" in m.daemon.read_log(), timeout=10, what="a failed heartbeat")
        wait_for(lambda: m.check()[:2] == (False, "no-lease"), timeout=10, what="the lease to end")
        assert time.time() >= expires
    finally:
        site.stop()


def test_borrowed_lease_and_clock_rollback(tmp_path, vendor, vendor_keys, machines):
    site = make_site(tmp_path, vendor, vendor_keys, seats=1)
    try:
        m = machines("m", site)
        m.ctl("borrow", PRODUCT, "cad", "--for", "3d")
        m.restart(faked("+1d"))
        assert m.check()[:2] == (True, "licensed")
        # Back to the real time: behind what licensed has already seen.
        m.restart()
        assert m.check()[:2] == (False, "clock-rollback")
        assert len(borrowed_files(m)) == 2  # kept: the clock, not the lease, is wrong
    finally:
        site.stop()


def test_local_license_wins_and_the_snapshot_leaves_floating_features_out(tmp_path, vendor, vendor_keys, machines):
    site = make_site(tmp_path, vendor, vendor_keys, seats=1)
    try:
        m = machines("m", site)
        req, _ = m.manager().RequestOfflineActivation(PRODUCT, "00001-00002-00003-00004-00005", False)
        lic = tmp_path / "local.lic"
        vendor("answer", "--signing-key", vendor_keys[0], "--request", "-", "--id", "local-1", "--licensee", "T",
               "--feature", "cad", "--feature", "view", "--output", str(lic), input=str(req))
        m.manager().InstallLicense(lic.read_text(), False)
        # Licensed by the local license: no lease taken, the site's seat stays free.
        assert m.check()[:2] == (True, "licensed")
        assert m.checkout()[:2] == (True, "licensed")
        assert site_used(m)[0] == {"cad": (0, 1)}
        # The fast path answers "view" but leaves "cad", which the site floats, to the daemon.
        snap = open(os.path.join(m.daemon.runtime_dir, "snapshot"), "rb").read()
        assert b"\0view\0" in snap and b"\0cad\0" not in snap
    finally:
        site.stop()


def test_library_checkout_takes_and_returns_a_lease(tmp_path, vendor, vendor_keys, machines):
    """liblicensed's licensed_seat_checkout() (as the PAM module uses it)
    takes a lease for a floating feature and gives it back."""
    check = os.path.join(os.environ.get("LICENSED_BUILD_DIR", ""), "plugin", "check-feature")
    site = make_site(tmp_path, vendor, vendor_keys, seats=1)
    try:
        m, other = machines("m", site), machines("o", site)
        env = dict(os.environ, LICENSED_BUS_ADDRESS=m.bus.address, LICENSED_SNAPSHOT="", LICENSED_TIMEOUT_MS="5000")
        p = subprocess.Popen([check, "--checkout", PRODUCT, "cad"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, env=env)
        try:
            first = p.stdout.readline()
            assert "licensed=1" in first and "seat=1" in first, first
            assert other.checkout()[:2] == (False, "floating-in-use")
            # CheckFeature from another process of the machine: licensed while the lease is held.
            q = subprocess.run([check, PRODUCT, "cad"], env=env, capture_output=True, text=True, timeout=30)
            assert q.returncode == 0 and "reason=licensed" in q.stdout and "source=daemon" in q.stdout, q.stdout
            rest, _ = p.communicate("done\n", timeout=30)
            assert p.returncode == 0 and "returned" in rest
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(10)
        wait_for(lambda: other.checkout()[0], what="the library's lease given back")
    finally:
        site.stop()
