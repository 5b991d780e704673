# SPDX-License-Identifier: LGPL-2.1-or-later
"""The harness itself: the container boots with real systemd, dbus, journald
and bus-activated polkitd; the build is installed; the helpers work; the
first call activates licensed."""
import os
import re

import pytest

from harness import MANAGER_PATH, SERVICE, SOURCE

STARTUP_FINISHED = "eed00a68ffd84e31882105fd973abdd1"  # systemd's "Startup finished" (userspace)


def test_boots_to_running(machine):
    state = machine.run("systemctl", "is-system-running", check=False).stdout.strip()
    failed = machine.run("systemctl", "--failed", "--no-legend", check=False).stdout
    assert state in ("running", "degraded"), f"{state}; failed units:\n{failed}"
    assert machine.run("cat", "/proc/1/comm").stdout.strip() == "systemd"


def test_bus_works(machine):
    names = machine.busctl("list", "--no-legend").stdout
    assert "org.freedesktop.systemd1" in names
    assert "org.freedesktop.PolicyKit1" in names  # activatable


def test_polkit_is_bus_activated(machine):
    out = machine.busctl("introspect", "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority").stdout
    assert ".CheckAuthorization" in out
    assert machine.is_active("polkit.service") == "active"


def test_build_is_installed(machine):
    for path in ("/usr/libexec/licensed", "/usr/bin/licensectl", "/usr/bin/licensed-vendor", "/usr/sbin/licensed-server"):
        assert machine.run("test", "-x", path, check=False).returncode == 0, f"{path} is not installed"
    missing = [p for p in machine.installed if not machine.exists(p)]
    assert not missing
    # Every installed program and library finds its libraries in the container.
    for path in machine.installed:
        if path.startswith(("/usr/bin/", "/usr/libexec/")) or ".so" in path:
            ldd = machine.run("ldd", path, check=False).stdout
            assert "not found" not in ldd, f"{path}:\n{ldd}"
    machine.run("licensed-vendor", "--help")
    # the manual pages the units and the journal catalog point at (the
    # packages compress them; meson install does not)
    for page in ("man1/licensectl.1", "man8/licensed.8", "man1/licensed-vendor.1", "man8/licensed-server.8",
                 "man3/liblicensed.3", "man8/pam_licensed.8"):
        found = [p for p in machine.installed if re.search(rf"/share/man/{page}(\.gz)?$", p)]
        assert found, f"{page} is not installed"
        assert machine.run("zcat", "-f", found[0]).stdout.startswith(".nh\n.TH "), found[0]


def test_helpers(machine, tmp_path):
    # files, written from inside
    machine.write("/etc/licensed-test/a b.txt", "hello\n", mode=0o600)
    assert machine.read("/etc/licensed-test/a b.txt") == "hello\n"
    assert machine.run("stat", "-c", "%a", "/etc/licensed-test/a b.txt").stdout.strip() == "600"
    machine.remove("/etc/licensed-test")
    # products.d
    pub = tmp_path / "k.pub"
    pub.write_text("ed25519:AAAA\n")
    path = machine.install_product("com.example.helper", str(pub))
    assert 'id = "com.example.helper";' in machine.read(path)
    machine.remove(path)
    # drop-ins
    machine.drop_in("systemd-hostnamed.service", "test", "[Service]\nEnvironment=LICENSED_TEST=1\n")
    assert "LICENSED_TEST=1" in machine.show("systemd-hostnamed.service", "Environment")["Environment"]
    machine.remove_drop_in("systemd-hostnamed.service", "test")
    assert "LICENSED_TEST" not in machine.show("systemd-hostnamed.service", "Environment")["Environment"]
    # the journal, by MESSAGE_ID, and from a cursor on
    assert machine.journal(MESSAGE_ID=STARTUP_FINISHED, _PID=1)
    cursor = machine.journal_cursor()
    machine.run("logger", "-t", "licensed-test", "after the cursor")
    entries = machine.journal(after=cursor, SYSLOG_IDENTIFIER="licensed-test")
    assert [e["MESSAGE"] for e in entries] == ["after the cursor"]
    # another user
    machine.add_user("alice")
    assert machine.run("id", "-un", user="alice").stdout.strip() == "alice"


@pytest.mark.skipif(not os.path.exists(os.path.join(SOURCE, "systemd", "licensed.service.in")),
                    reason="systemd/licensed.service is not written yet")
def test_first_call_activates_licensed(machine):
    assert machine.is_active("licensed.service") == "inactive"
    r = machine.busctl("call", SERVICE, MANAGER_PATH, "org.licensed.License1.Manager", "CheckFeature", "sst",
                       "com.example.app", "x", "0")
    assert r.stdout.startswith("bstt ")
    assert machine.is_active("licensed.service") == "active"
    # as a non-root user too
    machine.add_user("bob")
    assert machine.check_feature("com.example.app", "x", user="bob")[0] is False


def test_reboot_keeps_files_and_journal(fresh_machine):
    m = fresh_machine
    boot_id = m.read("/proc/sys/kernel/random/boot_id")
    m.write("/var/lib/licensed-test/kept", "yes\n")
    m.run("logger", "-t", "licensed-test", "before the reboot")
    m.reboot()
    assert m.read("/proc/sys/kernel/random/boot_id") != boot_id
    assert m.read("/var/lib/licensed-test/kept") == "yes\n"
    assert [e["MESSAGE"] for e in m.journal(SYSLOG_IDENTIFIER="licensed-test")] == ["before the reboot"]
    assert m.run("systemctl", "is-system-running").stdout.strip() in ("running", "degraded")


def test_faketime_moves_a_units_clock(machine):
    machine.write("/etc/systemd/system/clock-probe.service",
                  "[Service]\nType=oneshot\nExecStart=/bin/date +clock-probe:%%s\n")
    machine.faketime("clock-probe.service", "+20d")
    cursor = machine.journal_cursor()
    machine.systemctl("start", "clock-probe.service")
    real = int(machine.run("date", "+%s").stdout)
    out = [e["MESSAGE"] for e in machine.journal(after=cursor, unit="clock-probe.service")
           if e["MESSAGE"].startswith("clock-probe:")]
    assert len(out) == 1
    assert abs(int(out[0].split(":")[1]) - real - 20 * 86400) < 60
    machine.remove_drop_in("clock-probe.service", "faketime")
    machine.remove("/etc/systemd/system/clock-probe.service")
    machine.daemon_reload()
