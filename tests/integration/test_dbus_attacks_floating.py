# SPDX-License-Identifier: LGPL-2.1-or-later
"""The daemon's floating and trial D-Bus methods attacked on their
documented contract (docs/dbus-api.md): wrong signatures, empty, oversized
and invalid names, durations that are zero, past, negative, huge or
garbage, a trial of a product that is not installed, many CheckOut/Return
from one connection, calls in flight, and connections that vanish mid
call. Each gets a specific D-Bus error, licensed keeps running, and no
lease is left held at the site."""
import json
import os
import time

import dbus
import pytest

from harness import MANAGER, MANAGER_PATH, SERVICE, wait_for
from site_server import PRODUCT
from test_floating import BUS_ERROR, borrowed_files, machines, site_used  # noqa: F401 (fixture)
from test_site import make_site

INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"
UNKNOWN_METHOD = "org.freedesktop.DBus.Error.UnknownMethod"


@pytest.fixture
def joined(tmp_path, vendor, vendor_keys, machines):  # noqa: F811
    site = make_site(tmp_path, vendor, vendor_keys, seats=2)
    try:
        m = machines("m", site)
        yield site, m
    finally:
        site.stop()


def raw_call(m, method, signature, args, conn=None, timeout=60):
    return (conn or m.conn).call_blocking(SERVICE, MANAGER_PATH, MANAGER, method, signature, args, timeout=timeout)


def error_name(m, method, signature, args):
    with pytest.raises(dbus.exceptions.DBusException) as e:
        raw_call(m, method, signature, args)
    return e.value.get_dbus_name(), e.value.get_dbus_message()


def alive(m):
    """licensed still answers, and has not restarted."""
    assert m.daemon.proc.poll() is None
    assert m.check()[1] in ("no-lease", "licensed")


BAD_NAMES = ["", "x" * 100000, "com.example.cad\n", "../etc/passwd", "com example", "CAD", "c\x01d", "é"]


def test_wrong_signatures(joined):
    site, m = joined
    calls = {
        "CheckOut": [("s", [PRODUCT]), ("ssb", [PRODUCT, "cad", True]), ("su", [PRODUCT, 1]), ("", [])],
        "Return": [("s", [PRODUCT]), ("i", [1])],
        "Borrow": [("sss", [PRODUCT, "cad", "1d"]), ("ssib", [PRODUCT, "cad", -1, False]),
                   ("sst", [PRODUCT, "cad", 1])],
        "ReturnBorrowed": [("ss", [PRODUCT, "cad"]), ("sbb", [PRODUCT, False, False])],
        "JoinSite": [("sss", ["https://127.0.0.1:1", "t", "f"]), ("b", [True])],
        "LeaveSite": [("s", ["x"])],
        "SiteStatus": [("s", ["x"])],
        "ReleaseSiteLease": [("s", ["0" * 32]), ("ub", [1, False])],
        "StartTrial": [("s", [PRODUCT]), ("bs", [False, PRODUCT])],
        "RequestOfflineTrial": [("", []), ("sbs", [PRODUCT, False, "x"])],
    }
    for method, sigs in calls.items():
        for sig, args in sigs:
            name, message = error_name(m, method, sig, args)
            assert name in (INVALID_ARGS, UNKNOWN_METHOD), (method, sig, name, message)
    alive(m)
    assert site_used(m)[0] == {"cad": (0, 2)}


def test_invalid_names(joined):
    site, m = joined
    for bad in BAD_NAMES:
        for method, sig, args in (("CheckOut", "ss", [bad, "cad"]), ("CheckOut", "ss", [PRODUCT, bad]),
                                  ("Return", "ss", [bad, "cad"]), ("Return", "ss", [PRODUCT, bad]),
                                  ("Borrow", "sstb", [bad, "cad", 2**62, False]),
                                  ("Borrow", "sstb", [PRODUCT, bad, 2**62, False]),
                                  ("StartTrial", "sb", [bad, False]), ("RequestOfflineTrial", "sb", [bad, False]),
                                  ("ReleaseSiteLease", "sb", [bad, False])):
            name, message = error_name(m, method, sig, args)
            assert name == INVALID_ARGS, (method, repr(bad)[:40], name, message)
            assert len(message) < 1000, (method, "the message quotes the whole argument")
    # ReturnBorrowed: a lease id, or a product and a feature, checked like the others
    for what, feature in (("", ""), ("", "cad"), ("x" * 100000, ""), ("0" * 31, ""), ("0" * 31 + "G", ""),
                          ("../x", ""), (PRODUCT, "x" * 100000), ("x" * 100000, "cad"), ("not a product", "cad"),
                          (PRODUCT, "no/feature")):
        name, message = error_name(m, "ReturnBorrowed", "ssb", [what, feature, False])
        assert name == INVALID_ARGS, (what[:20], feature[:20], name, message[:100])
        assert len(message) < 1000
    for what, feature in (("0" * 32, ""), (PRODUCT, "nope"), (PRODUCT, "cad")):
        name, message = error_name(m, "ReturnBorrowed", "ssb", [what, feature, False])
        assert name == BUS_ERROR + "NoSeat", (what, feature, name, message)
    # a product that is installed but a feature the site does not float
    assert m.checkout(feature="nope")[:2] == (False, "not-installed")
    assert error_name(m, "Return", "ss", [PRODUCT, "nope"])[0] == BUS_ERROR + "NoSeat"
    name, _ = error_name(m, "Borrow", "sstb", [PRODUCT, "nope", int((time.time() + 3600) * 1e6), False])
    assert name == BUS_ERROR + "NotSupported"
    alive(m)
    assert site_used(m)[0] == {"cad": (0, 2)}


def test_join_site_garbage(joined):
    site, m = joined
    for url, token, fp in (("", "", ""), ("not a url", "t", "aa" * 32), ("http://127.0.0.1:1", "t", "aa" * 32),
                           ("https://127.0.0.1:99999", "t", "aa" * 32), ("https://" + "x" * 100000, "t", "aa" * 32),
                           (f"https://127.0.0.1:{site.port}", "t", "zz"),
                           (f"https://127.0.0.1:{site.port}", "t", "aa" * 31),
                           (f"https://127.0.0.1:{site.port}", "", "aa" * 32),
                           (f"https://127.0.0.1:{site.port}", "x" * 100000, site.fingerprint),
                           (f"https://127.0.0.1:{site.port}", "0" * 32, site.fingerprint)):
        with pytest.raises(dbus.exceptions.DBusException) as e:
            m.manager().JoinSite(url, token, fp, False, timeout=60)
        name = e.value.get_dbus_name()
        assert name in (INVALID_ARGS, BUS_ERROR + "ServerUnreachable", BUS_ERROR + "ServerRefused"), \
            (url[:30], token[:10], fp[:10], name, e.value.get_dbus_message()[:200])
        assert len(e.value.get_dbus_message()) < 2000
    # the site joined before is still the one in force
    alive(m)
    assert site_used(m)[0] == {"cad": (0, 2)}
    assert m.checkout()[:2] == (True, "licensed")


def test_borrow_durations(joined):
    site, m = joined
    now = time.time()
    # D-Bus: until is microseconds since the epoch
    for until in (0, 1, int(now * 1e6), int((now - 3600) * 1e6)):
        name, message = error_name(m, "Borrow", "sstb", [PRODUCT, "cad", until, False])
        assert name == INVALID_ARGS and "time to come" in message, (until, name, message)
    for until in (int((now + 99999 * 86400) * 1e6), 2**63 - 1, 2**63, 2**64 - 1):
        name, message = error_name(m, "Borrow", "sstb", [PRODUCT, "cad", until, False])
        assert name in (INVALID_ARGS, BUS_ERROR + "ServerRefused"), (until, name, message)
    # licensectl borrow --for
    for value in ("0", "-1d", "garbage", "1x", "", "99999999999999999999d"):
        p = m.ctl("borrow", PRODUCT, "cad", "--for", value, check=False)
        assert p.returncode != 0 and p.stderr.strip(), (value, p.returncode, p.stderr)
        assert "Traceback" not in p.stderr and "Borrowed" not in p.stdout
    p = m.ctl("borrow", PRODUCT, "cad", "--for", "0", check=False)
    assert "a lease is borrowed for some time" in p.stderr, p.stderr
    p = m.ctl("borrow", PRODUCT, "cad", "--for", "99999d", check=False)
    assert p.returncode == 4 and "borrow" in p.stderr, p.stderr
    alive(m)
    assert borrowed_files(m) == []
    assert site_used(m)[0] == {"cad": (0, 2)}
    # and a good one still works
    m.ctl("borrow", PRODUCT, "cad", "--for", "1h")
    assert site_used(m)[0] == {"cad": (1, 2)}


def test_trial_of_a_product_not_installed(joined):
    site, m = joined
    for method in ("StartTrial", "RequestOfflineTrial"):
        name, message = error_name(m, method, "sb", ["com.example.absent", False])
        assert name == BUS_ERROR + "NoSuchProduct" and "com.example.absent" in message, (method, name, message)
    # the installed product has no server_url: StartTrial is NotSupported, not a crash
    name, message = error_name(m, "StartTrial", "sb", [PRODUCT, False])
    assert name == BUS_ERROR + "NotSupported", (name, message)
    p = m.ctl("trial", "com.example.absent", check=False)
    assert p.returncode != 0 and "com.example.absent" in p.stderr
    alive(m)


def test_many_checkouts_and_returns_from_one_connection(joined):
    site, m = joined
    for _ in range(20):
        assert m.checkout()[:2] == (True, "licensed")
        assert m.checkout()[:3] == (True, "licensed", 1)  # asking again keeps the one lease
        m.manager().Return(PRODUCT, "cad")
        assert error_name(m, "Return", "ss", [PRODUCT, "cad"])[0] == BUS_ERROR + "NoSeat"
    assert site_used(m)[0] == {"cad": (0, 2)}
    alive(m)


def test_checkouts_in_flight_from_one_connection(joined):
    """Several CheckOut of one feature sent at once by one connection: one
    lease for that connection, as for one CheckOut, given back by one Return."""
    site, m = joined
    conn = m.bus.connect()
    for _ in range(5):
        msg = dbus.lowlevel.MethodCallMessage(SERVICE, MANAGER_PATH, MANAGER, "CheckOut")
        msg.append(PRODUCT, "cad", signature="ss")
        conn.send_message(msg)
    conn.flush()
    # the answers are not read here: the leases this machine holds say it
    holders = lambda: [l for l in m.manager().SiteStatus(timeout=30)[4] if str(l[3]) == conn.get_unique_name()]
    wait_for(lambda: holders(), timeout=20, what="a lease for the connection")
    time.sleep(2)  # the other four have had their answers
    assert len(holders()) == 1, holders()
    assert site_used(m)[0] == {"cad": (1, 2)}
    obj = conn.get_object(SERVICE, MANAGER_PATH)
    dbus.Interface(obj, MANAGER).Return(PRODUCT, "cad")
    assert site_used(m)[0] == {"cad": (0, 2)}
    conn.close()
    alive(m)


def test_connection_that_vanishes_mid_call(joined):
    site, m = joined
    for _ in range(3):
        conn = m.bus.connect()
        msg = dbus.lowlevel.MethodCallMessage(SERVICE, MANAGER_PATH, MANAGER, "CheckOut")
        msg.append(PRODUCT, "cad", signature="ss")
        conn.send_message(msg)
        conn.flush()
        conn.close()
    # the leases the site granted them meanwhile are given back
    wait_for(lambda: site_used(m)[0] == {"cad": (0, 2)}, timeout=20, what="the vanished callers' leases back")
    # a holder that takes a lease and then goes
    conn = m.bus.connect()
    assert m.checkout(conn)[:2] == (True, "licensed")
    conn.close()
    wait_for(lambda: site_used(m)[0] == {"cad": (0, 2)}, timeout=20, what="the vanished holder's lease back")
    # nothing is held for them on this machine either
    _, _, _, _, leases, *_ = m.manager().SiteStatus(timeout=30)
    assert list(leases) == []
    alive(m)


def tree_digest(path):
    """Names and contents under path, to see that nothing was touched."""
    out = {}
    for root, dirs, files in os.walk(path):
        for f in files:
            p = os.path.join(root, f)
            if os.path.isfile(p) and not os.path.islink(p):
                with open(p, "rb") as fh:
                    out[os.path.relpath(p, path)] = fh.read()
    return out


def test_borrowed_files_that_do_not_hold(joined, tmp_path, vendor, vendor_keys):
    """Whatever lies in site/borrowed/, licensed starts, logs why it ignores
    a file, answers no-lease, and leaves the stored licenses alone."""
    site, m = joined
    req, _ = m.manager().RequestOfflineActivation(PRODUCT, "00001-00002-00003-00004-00005", False)
    lic = tmp_path / "local.lic"
    vendor("answer", "--signing-key", vendor_keys[0], "--request", "-", "--id", "local-1", "--licensee", "T",
           "--feature", "view", "--output", str(lic), input=str(req))
    m.manager().InstallLicense(lic.read_text(), False)
    m.ctl("borrow", PRODUCT, "cad", "--for", "1d")
    lease_path = [p for p in borrowed_files(m) if p.endswith(".lease")][0]
    lic_path = lease_path[:-6] + ".lic"
    folder, lease_id = os.path.dirname(lease_path), os.path.basename(lease_path)[:-6]
    good_lease, good_lic = open(lease_path).read(), open(lic_path).read()
    licenses = os.path.join(m.daemon.state_dir, "licenses")
    stored = tree_digest(licenses)
    other_id = "f" * 32

    def put(name, text):
        with open(os.path.join(folder, name), "w") as f:
            f.write(text)

    cases = {
        "truncated": (lambda: put(lease_id + ".lease", good_lease[:len(good_lease) // 2]), "Ignoring borrowed lease"),
        "empty": (lambda: put(lease_id + ".lease", ""), "Ignoring borrowed lease"),
        "garbage": (lambda: put(lease_id + ".lease", "\x00\x01garbage" * 100), "Ignoring borrowed lease"),
        "the license truncated": (lambda: put(lease_id + ".lic", good_lic[:100]), "Ignoring borrowed lease"),
        "the license missing": (lambda: os.unlink(lic_path), "Cannot read borrowed lease"),
        "the license of another product": (lambda: put(lease_id + ".lic", lic.read_text()), "Ignoring borrowed lease"),
        "oversized": (lambda: put(lease_id + ".lease", good_lease + " " * (2 << 20)), "Cannot read borrowed lease"),
        "a directory": (lambda: (os.unlink(lease_path), os.mkdir(lease_path)), "not a regular file"),
        "a FIFO": (lambda: (os.unlink(lease_path), os.mkfifo(lease_path)), "not a regular file"),
        "a link to /dev/zero": (lambda: (os.unlink(lease_path), os.symlink("/dev/zero", lease_path)),
                                "not a regular file"),
        "renamed (another lease id's file name)": (
            lambda: (os.rename(lease_path, os.path.join(folder, other_id + ".lease")),
                     os.rename(lic_path, os.path.join(folder, other_id + ".lic"))), f"holds lease {lease_id}"),
    }
    for what, (damage, why) in cases.items():
        for p in os.listdir(folder):
            p = os.path.join(folder, p)
            os.rmdir(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
        put(lease_id + ".lease", good_lease)
        put(lease_id + ".lic", good_lic)
        damage()
        seen = len(m.daemon.read_log())
        m.restart()
        assert m.daemon.proc.poll() is None, what
        assert m.check()[:2] == (False, "no-lease"), what
        log = m.daemon.read_log()[seen:]
        assert why in log, (what, log[-2000:])
        assert tree_digest(licenses) == stored, what
        assert m.check("view")[:2] == (True, "licensed"), what
    # the genuine files, back in place, hold again
    for p in os.listdir(folder):
        p = os.path.join(folder, p)
        os.rmdir(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
    put(lease_id + ".lease", good_lease)
    put(lease_id + ".lic", good_lic)
    m.restart()
    assert m.check()[:2] == (True, "licensed")


@pytest.mark.parametrize("name", ["site/site.conf", "site/licenses", "licenses/planted.lic"])
def test_a_fifo_in_the_state_directory_does_not_hang_the_start(joined, name):
    site, m = joined
    path = os.path.join(m.daemon.state_dir, name)
    if os.path.exists(path):
        os.unlink(path)
    os.mkfifo(path)
    seen = len(m.daemon.read_log())
    m.restart()
    assert m.daemon.proc.poll() is None
    assert m.ctl("list").returncode == 0
    log = m.daemon.read_log()[seen:]
    if name.startswith("site/"):
        # the site is not used, and the log says why
        assert m.check()[:2] == (False, "not-installed")
        assert "join the site again" in log or "Failed to read the floating licenses" in log, log
    else:
        assert m.check()[:2] == (False, "no-lease")
        assert "planted" in log, log
