# SPDX-License-Identifier: LGPL-2.1-or-later
"""The daemon under valgrind through a whole scenario (install, checks,
seats, offline validation, a failing online validation, deactivation):
no invalid access, no uninitialised use, no leak. Not in the ASan build,
which valgrind cannot run; there ASan/LeakSanitizer do this job."""
import os

import dbus
import pytest

from conftest import write_product
from harness import Bus, Client, Daemon, Polkit

PRODUCT = "com.example.app"
VALGRIND = ("valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,"
            "indirect --error-exitcode=99 --track-origins=yes")


@pytest.mark.skipif("ASAN_OPTIONS" in os.environ, reason="valgrind cannot run an ASan build")
def test_daemon_under_valgrind(tmp_path, vendor_keys, vendor, monkeypatch):
    products = str(tmp_path / "products")
    write_product(products, PRODUCT, vendor_keys[1], server_url="http://127.0.0.1:9")
    conf = str(tmp_path / "licensed.conf")
    with open(conf, "w") as f:
        f.write('idle_timeout = 0;\nhttp_timeout = "2s";\n')
    monkeypatch.setenv("LICENSED_DAEMON_WRAPPER", VALGRIND)
    bus = Bus(str(tmp_path))
    polkit = Polkit(bus)
    daemon = Daemon(bus, str(tmp_path / "state"), products, config=conf)
    try:
        # really under memcheck, not merely started
        assert "memcheck" in os.readlink(f"/proc/{daemon.proc.pid}/exe")
        c = Client(bus)
        m = c.manager
        req, _ = m.RequestOfflineActivation(PRODUCT, "00001-00002-00003-00004-00005", False, timeout=60)
        lic = tmp_path / "l.lic"
        vendor("answer", "--signing-key", vendor_keys[0], "--request", "-", "--id", "v-1", "--licensee", "V",
               "--feature", "reports", "--feature", "seats:limit=1", "--validation-interval", "1d",
               "--output", str(lic), input=str(req))
        m.InstallLicense(lic.read_text(), False, timeout=60)
        assert c.check(PRODUCT, "reports") == (True, "licensed")
        assert c.check(PRODUCT, "nope") == (False, "not-installed")
        with pytest.raises(dbus.exceptions.DBusException):
            m.InstallLicense("garbage", False, timeout=60)
        holder = bus.connect()
        assert bool(dbus.Interface(holder.get_object("org.licensed.License1", "/org/licensed/License1"),
                                   "org.licensed.License1.Manager").CheckOut(PRODUCT, "seats", timeout=60)[0])
        holder.close()
        vreq = str(m.RequestOfflineValidation("v-1", False, timeout=60))
        m.InstallLicense(vendor("receipt", "--signing-key", vendor_keys[0], "--request", "-", input=vreq).stdout,
                         False, timeout=60)
        results = m.Validate("", False, timeout=120)  # nothing listens on :9: fails, with retries
        assert str(results[0][1]) == "failed"
        c.props()
        c.license_props("v-1")
        m.Deactivate("v-1", True, False, timeout=60)
    finally:
        daemon.stop()  # fails the test on any valgrind finding or a non-zero exit
        polkit.stop()
        bus.stop()
