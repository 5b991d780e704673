# SPDX-License-Identifier: LGPL-2.1-or-later
"""licensed on a booted system, as an administrator sees it with systemctl,
busctl and journalctl: bus activation and idle exit, the validation timer
and its journal entries, grace running out and clock rollback with
libfaketime in a drop-in, polkit with a non-root user, kill -9, hardening,
and a unit gated with ExecCondition=."""
import json
import os
import subprocess

import pytest

from harness import BUILD, wait_until

PRODUCT = "com.example.app"
KEY = "00001-00002-00003-00004-00005"
VENDOR = os.path.join(BUILD, "server", "licensed-vendor")

EVENT_INSTALLED = "4a3fd295de4e442ab22779d6af72c580"
EVENT_VALIDATION_FAILED = "a3a121cd96be44088571fa0a4e1bd943"
EVENT_FEATURE_DENIED = "ed8a542524e24fdf9f13163b489978ba"


def vendor(*args, input=None):
    p = subprocess.run([VENDOR, *args], input=input, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("vendor")
    vendor("keygen", "--output", str(d / "vendor"))
    return str(d / "vendor.key"), str(d / "vendor.pub")


def activate(machine, keys, lid, *extra):
    """The offline round trip, as an administrator does it inside, with the
    vendor's answer made on the host."""
    machine.run("licensectl", "--no-ask-password", "activate", "--offline", "--qr=never", "--output", "/root/req.txt",
                KEY)
    req = machine.read("/root/req.txt")
    lic = vendor("answer", "--signing-key", keys[0], "--request", "-", "--id", lid, "--licensee", "System Test",
                 "--feature", "reports", *extra, input=req)
    machine.write("/root/lic.txt", lic)
    machine.run("licensectl", "--no-ask-password", "install", "/root/lic.txt")


@pytest.fixture(scope="module")
def licensed(machine, keys):
    machine.install_product(PRODUCT, keys[1], server_url="http://127.0.0.1:9")  # nothing listens there
    machine.write("/etc/licensed/licensed.conf", 'idle_timeout = "3s";\n')
    activate(machine, keys, "sys-1", "--validation-interval", "1d", "--grace-period", "14d")
    return machine


def test_first_call_activates_and_idle_exit(licensed):
    m = licensed
    assert m.check_feature(PRODUCT, "reports") == (True, "licensed")
    assert m.is_active("licensed.service") == "active"
    tree = m.busctl("tree", "org.licensed.License1").stdout
    assert "/org/licensed/License1/license/sys_2d1" in tree
    assert ".CheckFeature" in m.busctl("introspect", "org.licensed.License1", "/org/licensed/License1").stdout
    status = m.systemctl("status", "licensed.service", check=False).stdout
    assert "1 license: 1 active" in status  # sd_notify STATUS=
    # idle: gone after 3 s, having released its name; the next call brings it back
    m.wait_for_state("licensed.service", "inactive", timeout=30)
    assert m.show("licensed.service", "Result")["Result"] == "success"
    assert m.check_feature(PRODUCT, "reports") == (True, "licensed")
    assert m.is_active("licensed.service") == "active"
    # and it runs as its own user with the hardening of the unit
    pid = m.show("licensed.service", "MainPID")["MainPID"]
    assert m.run("ps", "-o", "user=", "-p", pid).stdout.strip() == "licensed"


def test_exec_condition_gates_a_unit(licensed):
    """licensectl check --quiet as ExecCondition=: a unit whose feature is not
    licensed is skipped, not failed; a licensed one runs."""
    m = licensed
    for name, feature in (("gated-yes", "reports"), ("gated-no", "analytics")):
        m.write(f"/etc/systemd/system/{name}.service",
                f"[Service]\nType=oneshot\nExecCondition=/usr/bin/licensectl check --quiet {PRODUCT} {feature}\n"
                "ExecStart=/bin/true\nRemainAfterExit=yes\n")
    m.daemon_reload()
    m.systemctl("start", "gated-yes.service")
    assert m.is_active("gated-yes.service") == "active"
    m.systemctl("start", "gated-no.service", check=False)
    s = m.show("gated-no.service", "ActiveState", "Result")
    assert s["ActiveState"] == "inactive" and s["Result"] == "success", s  # skipped, not failed
    log = m.run("journalctl", "-u", "gated-no.service", "--no-pager").stdout
    assert "condition" in log.lower(), log


def test_timer_and_validation_service(licensed):
    m = licensed
    timers = m.systemctl("list-timers", "--all", "--no-legend").stdout
    assert "licensed-validate.timer" in timers
    cursor = m.journal_cursor()
    p = m.systemctl("start", "licensed-validate.service", check=False)
    assert p.returncode != 0  # the server cannot be reached: the service fails, as OnFailure= would see
    assert m.show("licensed-validate.service", "Result")["Result"] != "success"
    entries = m.wait_journal(after=cursor, MESSAGE_ID=EVENT_VALIDATION_FAILED)
    e = entries[-1]
    assert e["LICENSE_ID"] == "sys-1" and e["PRODUCT"] == PRODUCT
    assert "Could not reach" in e["MESSAGE"]
    # the journal catalog explains it
    assert "grace period" in m.run("journalctl", "-x", f"MESSAGE_ID={EVENT_VALIDATION_FAILED}", "--no-pager").stdout
    # the license is still in force
    assert m.check_feature(PRODUCT, "reports") == (True, "licensed")


def test_grace_runs_out_then_clock_rollback(licensed):
    m = licensed
    m.faketime("licensed.service", "+20d")
    m.systemctl("stop", "licensed.service", check=False)
    cursor = m.journal_cursor()
    assert m.check_feature(PRODUCT, "reports") == (False, "validation-required")
    e = m.wait_journal(after=cursor, MESSAGE_ID=EVENT_FEATURE_DENIED)[-1]
    assert e["REASON"] == "validation-required" and e["FEATURE"] == "reports"
    out = m.run("licensectl", "check", PRODUCT, "reports", check=False)
    assert out.returncode == 1 and "validation-required" in out.stdout
    # back to the real clock: 20 days behind what licensed has seen
    m.remove_drop_in("licensed.service", "faketime")
    m.systemctl("stop", "licensed.service", check=False)
    assert m.check_feature(PRODUCT, "reports") == (False, "clock-rollback")


def test_non_root_user(machine, keys):
    m = machine
    user = m.add_user("alice")
    p = m.run("licensectl", "check", PRODUCT, "reports", user=user, check=False)
    assert p.returncode == 1 and "not licensed:" in p.stdout, p  # reading is open: an answer, not an error
    pending_before = m.run("ls", "/var/lib/licensed/pending").stdout
    p = m.run("licensectl", "--no-ask-password", "activate", "--offline", "--qr=never", KEY, user=user, check=False)
    assert p.returncode == 4, (p.stdout, p.stderr)
    assert "uthoriz" in p.stderr or "uthentication" in p.stderr
    assert m.run("ls", "/var/lib/licensed/pending").stdout == pending_before


def test_kill_9_loses_nothing(machine):
    m = machine
    m.check_feature(PRODUCT, "x")  # make sure it runs
    pid = m.show("licensed.service", "MainPID")["MainPID"]
    m.run("kill", "-9", pid)
    wait_until(lambda: m.is_active("licensed.service") != "active", what="licensed to be gone")
    ids = [l["id"] for l in json.loads(m.run("licensectl", "--json", "list").stdout)]
    assert "sys-1" in ids


def test_hardening(machine):
    out = machine.run("systemd-analyze", "security", "licensed.service", check=False).stdout
    line = [l for l in out.splitlines() if "Overall exposure level" in l][-1]
    exposure = float(line.split(":")[1].split()[0])
    assert exposure <= 2.0, line
