# SPDX-License-Identifier: LGPL-2.1-or-later
"""licensed-site's administration (docs/floating.md, "Reservations and
limits", "Release a lease"): site.conf with reservations and limits per
user, host and group enforced by the grant, show_holders, a bad file
refused with its line, reloading on SIGHUP, `licensed-site release` and
`status --json`."""
import grp
import json
import os
import pwd
import signal
import time

import pytest

from site_server import PRODUCT, SiteClient
from test_site import make_site

EVENT_RELEASED = "c41e8d2a6f3b4c7d9e0a1b2c3d4e5f60"
EVENT_LIMITED = "d8f3a5c7e9b14d2f86a0c2e4f6a8b0c2"


def configured(site, tmp_path, text):
    """Restarts site with --config FILE holding text."""
    conf = tmp_path / "site.conf"
    conf.write_text(text)
    site.stop()
    if "--config" not in site.args:
        site.args += ["--config", str(conf)]
    site.start()
    return conf


@pytest.fixture
def new_site(tmp_path, vendor, vendor_keys):
    """Makes started sites (make_site()), with a site.conf if given; stops them at the end."""
    made = []

    def make(seats, ttl="2m", conf=None):
        site = make_site(tmp_path, vendor, vendor_keys, seats=seats, ttl=ttl)
        made.append(site)
        if conf is not None:
            configured(site, tmp_path, conf)
        return site

    yield make
    for site in made:
        site.stop()


def clients(site, *specs):
    """Enrolled clients, each (user, host)."""
    out = []
    for user, host in specs:
        c = SiteClient(site, user=user, host=host)
        c.enrol()
        out.append(c)
    return out


def test_reservations_hold(new_site):
    site = new_site(3, conf=f"""
features = ( {{ product = "{PRODUCT}"; feature = "cad";
               reserve = ( {{ user = "alice"; seats = 1; }}, {{ host = "ws-17"; seats = 1; }} ); }} );
""")
    bob, carol, alice, ws17, alice2 = clients(site, ("bob", "ws-1"), ("carol", "ws-2"), ("alice", "ws-3"),
                                              ("dave", "ws-17"), ("alice", "ws-4"))
    # 3 seats, 2 reserved: one for everyone else.
    assert bob.checkout().status == 200
    code, message = carol.checkout().error
    assert code == "all-in-use"
    assert "1 of 3 seats of feature cad" in message and "the 2 left are reserved" in message
    assert len(site.events(EVENT_LIMITED)) == 1
    # The reserved seats go to whom they are for.
    assert alice.checkout().status == 200
    assert ws17.checkout().status == 200
    # A reservation is a floor, not a second pool: alice's second is refused (all taken).
    code, message = alice2.checkout().error
    assert code == "all-in-use" and "3 of 3 seats" in message


def test_reservation_kept_after_restart(new_site):
    """The rules count the leases in the database: a restart changes nothing."""
    site = new_site(2, conf=f"""
features = ( {{ product = "{PRODUCT}"; feature = "cad"; reserve = ( {{ user = "alice"; seats = 1; }} ); }} );
""")
    bob, carol, alice = clients(site, ("bob", "ws-1"), ("carol", "ws-2"), ("alice", "ws-3"))
    assert bob.checkout().status == 200
    site.stop()
    site.start()
    assert carol.checkout().status == 409
    assert alice.checkout().status == 200
    assert carol.checkout().status == 409


def test_max_per_user_and_group(new_site):
    # A user that exists here, so that the site resolves its groups (getgrouplist()).
    me = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(pwd.getpwuid(os.getuid()).pw_gid).gr_name
    site = new_site(3, conf=f"""
features = ( {{ product = "{PRODUCT}"; feature = "cad";
               max = ( {{ group = "{group}"; seats = 1; }}, {{ user = "bob"; seats = 0; }} ); }} );
""")
    a, b, c, d = clients(site, (me, "ws-1"), (me, "ws-2"), ("bob", "ws-3"), ("nosuchuser-x", "ws-4"))
    assert a.checkout().status == 200
    code, message = b.checkout().error
    assert code == "limit-reached"
    assert f"the site limits group {group} to 1 seat(s) of feature cad" in message
    code, message = c.checkout().error
    assert code == "limit-reached" and "limits user bob to 0 seat(s)" in message
    # An unknown user is in no group here: only the seats count.
    assert d.checkout().status == 200
    assert len(site.events(EVENT_LIMITED)) == 2


def test_show_holders(new_site, tmp_path):
    site = new_site(1)
    x, y = clients(site, ("alice", "ws-1"), ("bob", "ws-2"))
    assert x.checkout().status == 200
    code, message = y.checkout().error
    assert code == "all-in-use" and "alice@ws-1" not in message
    configured(site, tmp_path, "show_holders = true;\n")
    code, message = y.checkout().error
    assert code == "all-in-use" and message.endswith("; held by alice@ws-1")


def test_bad_config_refused_with_its_line(new_site, tmp_path):
    site = new_site(1)
    site.stop()
    conf = tmp_path / "bad.conf"
    cases = [
        ("show_holders = true;\nfeatures = ( { product = \"p\" ", ":2"),
        ("show_holders = \"yes\";\n", ":1: show_holders must be true or false"),
        ("\n\nfeatures = ( { product = \"p\"; feature = \"f\";\n reserve = ( { user = \"a\"; } ); } );\n",
         ":4: each entry of reserve needs seats"),
        ("features = ( { product = \"p\"; feature = \"f\"; max = ( { user = \"a\"; host = \"h\"; seats = 1; } ); } );",
         ":1: each entry of max names exactly one of user, host or group"),
        ("lease_ttl = \"1s\";\n", ":1: lease_ttl must be at least 2 seconds"),
        ("colour = 3;\n", ":1: unknown setting 'colour'"),
    ]
    for text, expected in cases:
        conf.write_text(text)
        for verb in (["run"], ["status"]):
            p = site.cli("--config", str(conf), "--listen", "127.0.0.1:0", *verb, check=False)
            assert p.returncode != 0, (text, verb)
            assert f"{conf}{expected}" in p.stderr, p.stderr
    # A missing file is the defaults.
    p = site.cli("--config", str(tmp_path / "none.conf"), "status")
    assert "Site:" in p.stdout


def test_flags_win_over_config(new_site):
    site = new_site(1, ttl="45s", conf='lease_ttl = "10m";\nborrow_max = "1d";\n')
    (c,) = clients(site, ("alice", "ws-1"))
    assert c.checkout().json["ttl"] == 45  # --lease-ttl 45s
    code, message = c.borrow(time.time() + 2 * 86400).error
    assert code == "borrow-too-long" and "in the next 1d" in message


def wait_log(site, text):
    deadline = time.monotonic() + 10
    while text not in site.read_log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert text in site.read_log()


def test_reload_on_sighup(new_site, tmp_path):
    site = new_site(2, conf="show_holders = false;\n")
    conf = tmp_path / "site.conf"
    (a, b) = clients(site, ("alice", "ws-1"), ("bob", "ws-2"))
    conf.write_text(f'features = ( {{ product = "{PRODUCT}"; feature = "cad"; '
                    f'max = ( {{ user = "alice"; seats = 0; }} ); }} );\n')
    site.proc.send_signal(signal.SIGHUP)
    wait_log(site, "Reloaded")
    assert a.checkout().error[0] == "limit-reached"
    # A bad file keeps the rules in force.
    conf.write_text("features = (\n")
    site.proc.send_signal(signal.SIGHUP)
    wait_log(site, "Not reloading")
    assert a.checkout().error[0] == "limit-reached"
    assert b.checkout().status == 200


def test_release_and_status_json(new_site):
    site = new_site(1)
    a, b = clients(site, ("alice", "ws-1"), ("bob", "ws-2"))
    lease = a.checkout().json["lease_id"]
    assert b.checkout().status == 409

    st = json.loads(site.cli("--json", "status").stdout)
    assert st["site"] == site.site_id and st["clients"] == 2
    assert st["features"] == [{"product": PRODUCT, "feature": "cad", "license": "site-float", "seats": 1,
                               "used": 1}]
    (l,) = st["leases"]
    assert l["id"] == lease and l["host"] == "ws-1" and l["user"] == "alice"
    assert l["machine_id"] == a.machine_id and l["borrowed_until"] is None
    assert l["since"].endswith("Z") and l["expires"] > l["since"]
    text = site.cli("status").stdout
    assert lease in text and "ws-1" in text and "alice" in text

    p = site.cli("release", lease)
    assert f"Released lease {lease} of {PRODUCT} feature cad (held by alice@ws-1)" in p.stdout
    assert f"[MESSAGE_ID={EVENT_RELEASED}]" in p.stderr
    assert json.loads(site.cli("--json", "status").stdout)["leases"] == []
    # The holder learns it at its next heartbeat; the seat is free now.
    assert a.heartbeat(lease).error[0] == "unknown-lease"
    assert b.borrow(time.time() + 3600).status == 200
    (l,) = json.loads(site.cli("--json", "status").stdout)["leases"]
    assert l["user"] == "bob" and l["borrowed_until"] is not None

    p = site.cli("release", lease, check=False)
    assert p.returncode != 0 and f"there is no lease {lease} at this site" in p.stderr


def test_heartbeat_replay_refused(new_site):
    """A heartbeat records its nonce in its renewal's transaction: a replay is
    still refused, and renews nothing."""
    site = new_site(1)
    (a,) = clients(site, ("alice", "ws-1"))
    lease = a.checkout().json["lease_id"]
    doc = a.document("heartbeat", lease=lease)
    first = a.post("heartbeat", doc)
    assert first.status == 200
    r = a.post("heartbeat", doc)
    assert r.status == 409 and r.error == ("replay", f"this request (nonce {lease_nonce(doc)}) was already received")
    # one for a lease that is gone is remembered too
    doc = a.document("heartbeat", lease="0" * 32)
    assert a.post("heartbeat", doc).error[0] == "unknown-lease"
    assert a.post("heartbeat", doc).error[0] == "replay"


def lease_nonce(document):
    from machine import dearmor, fields
    return fields(dearmor(document)[2])["nonce"]
