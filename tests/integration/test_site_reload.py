# SPDX-License-Identifier: LGPL-2.1-or-later
"""SIGHUP on licensed-site rereads lease_ttl and borrow_max as well as the
rules (docs/floating.md, licensed-site(8)): new leases and heartbeats use
the new values, leases already granted keep their expiry, a flag still
wins, and a changed listen is only warned about (it needs a restart)."""
import signal
import socket
import time

from site_server import SiteClient, lease_fields
from test_site_admin import clients, new_site, wait_log  # noqa: F401 (fixture)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hup(site, conf, text, expect):
    conf.write_text(text)
    site.proc.send_signal(signal.SIGHUP)
    wait_log(site, expect)


def test_reload_lease_ttl_and_borrow_max(new_site, tmp_path):
    site = new_site(5)
    conf = tmp_path / "site.conf"
    listen = f'listen = "127.0.0.1:{free_port()}";\n'
    conf.write_text(listen + 'lease_ttl = "2m";\nborrow_max = "1d";\n')
    site.stop()
    site.args = ["--config", str(conf)]  # no flags: site.conf decides
    site.listen = None
    site.start()
    a, b = clients(site, ("alice", "ws-1"), ("bob", "ws-2"))
    first = a.checkout().json
    assert first["ttl"] == 120
    assert a.borrow(time.time() + 2 * 86400).error[0] == "borrow-too-long"

    hup(site, conf, 'lease_ttl = "30s";\nborrow_max = "3d";\nlisten = "127.0.0.1:1";\n', "Reloaded")
    log = site.read_log()
    assert "lease_ttl is now 30s (was 2m)" in log
    assert "borrow_max is now 3d (was 1d)" in log
    assert "listen changed in" in log and "127.0.0.1:1" in log and "until it is restarted" in log
    # still listening where it was
    new = b.checkout().json
    assert new["ttl"] == 30
    f = lease_fields(new["lease"])
    assert abs(time.mktime(time.strptime(f["expires"], "%Y-%m-%dT%H:%M:%SZ")) - time.mktime(time.gmtime()) - 30) <= 3
    # the lease granted before keeps its expiry: a heartbeat never shortens it
    hb = a.heartbeat(first["lease_id"]).json
    assert hb["ttl"] == 30 and lease_fields(hb["lease"])["expires"] == first["expires"]
    r = b.borrow(time.time() + 2 * 86400)
    assert r.status == 200, r.body

    # Removing them from site.conf brings the defaults back.
    hup(site, conf, listen, "lease_ttl is now 2m (was 30s)")
    assert "borrow_max is now 1w (was 3d)" in site.read_log()
    assert a.checkout().json["ttl"] == 120

    # A bad value keeps the ones in force.
    hup(site, conf, listen + 'lease_ttl = "1s";\n', "Not reloading")
    assert "lease_ttl must be at least 2 seconds" in site.read_log()
    assert a.checkout().json["ttl"] == 120


def test_reload_flag_still_wins(new_site, tmp_path):
    site = new_site(2, ttl="45s", conf='borrow_max = "1d";\n')
    (a,) = clients(site, ("alice", "ws-1"))
    conf = tmp_path / "site.conf"
    hup(site, conf, 'lease_ttl = "10m";\nborrow_max = "2d";\n', "Reloaded")
    log = site.read_log()
    assert "lease_ttl = 10m in site.conf is not used: --lease-ttl 45s on the command line wins." in log
    assert "lease_ttl is now" not in log and "listen changed" not in log
    assert a.checkout().json["ttl"] == 45
    assert a.borrow(time.time() + 36 * 3600).status == 200
