# SPDX-License-Identifier: LGPL-2.1-or-later
"""licensed on a booted system, as an administrator sees it with systemctl,
busctl and journalctl: bus activation and idle exit, the validation timer
and its journal entries, grace running out and clock rollback with
libfaketime in a drop-in, polkit with a non-root user, kill -9, hardening,
and a unit gated with ExecCondition=."""
import json
import os
import shlex
import subprocess

import pytest

from harness import vendor, wait_until

PRODUCT = "com.example.app"
KEY = "00001-00002-00003-00004-00005"

# daemon/events.h; docs/journal.md
EVENT_INSTALLED = "4a3fd295de4e442ab22779d6af72c580"
EVENT_DEACTIVATED = "b3ab3912b21344b8b688989c1752a6c0"
EVENT_VALIDATION_OK = "5384d94f8d0f4099975cb419f698a3ea"
EVENT_VALIDATION_FAILED = "a3a121cd96be44088571fa0a4e1bd943"
EVENT_GRACE_EXPIRED = "14c8af12986f49b8a1ba092a412ed2a8"
EVENT_REVOKED = "2a768a71ffcc43c498850e85530e3a93"
EVENT_CLOCK_ROLLBACK = "c6302f90bfac44ccacae61b8d613433b"
EVENT_FEATURE_DENIED = "ed8a542524e24fdf9f13163b489978ba"


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
    cursor = machine.journal_cursor()
    activate(machine, keys, "sys-1", "--validation-interval", "1d", "--grace-period", "14d")
    e = machine.wait_journal(after=cursor, MESSAGE_ID=EVENT_INSTALLED)[-1]
    assert e["LICENSE_ID"] == "sys-1" and e["PRODUCT"] == PRODUCT, e
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
    # enabled by its [Install] section, daily, catching up after downtime,
    # spread over hours so a fleet does not hit the server at once
    assert m.systemctl("is-enabled", "licensed-validate.timer").stdout.strip() == "enabled"
    t = m.show("licensed-validate.timer", "Persistent", "RandomizedDelayUSec", "TimersCalendar", "ActiveState")
    assert t["Persistent"] == "yes" and t["RandomizedDelayUSec"] == "4h" and t["ActiveState"] == "active", t
    assert "OnCalendar=*-*-* 00:00:00" in t["TimersCalendar"], t
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


def test_offline_validation_revocation_and_deactivation_events(licensed, keys):
    """A receipt validates (validation-ok), a revoking receipt revokes
    (revoked), deactivation removes (deactivated): each in the journal with
    its MESSAGE_ID, and the validate service fails on the revoked license
    although it needs no server."""
    m = licensed
    activate(m, keys, "sys-2")  # no validation policy: offline only

    def receipt(lid, *extra):
        m.run("licensectl", "--no-ask-password", "validate", "--offline", "--output", "/root/vreq.txt", lid)
        m.write("/root/receipt.txt", vendor("receipt", "--signing-key", keys[0], "--request", "-", *extra,
                                            input=m.read("/root/vreq.txt")))
        m.run("licensectl", "--no-ask-password", "install", "/root/receipt.txt")

    cursor = m.journal_cursor()
    receipt("sys-2")
    e = m.wait_journal(after=cursor, MESSAGE_ID=EVENT_VALIDATION_OK)[-1]
    assert e["LICENSE_ID"] == "sys-2", e
    receipt("sys-2", "--revoked")
    e = m.wait_journal(after=cursor, MESSAGE_ID=EVENT_REVOKED)[-1]
    assert e["LICENSE_ID"] == "sys-2", e
    p = m.systemctl("start", "licensed-validate.service", check=False)
    assert p.returncode != 0
    # licensectl's stderr reaches the journal through a stream: wait for it
    # (in its table, or in a line of its own when validation did not say so)
    wait_until(lambda: any("sys-2" in e.get("MESSAGE", "") and "revoked" in e.get("MESSAGE", "")
                           for e in m.journal(after=cursor, unit="licensed-validate.service")),
               what="the validate service to name the revoked license in the journal")
    m.run("licensectl", "--no-ask-password", "deactivate", "--offline", "--output", "/root/proof.txt", "sys-2")
    e = m.wait_journal(after=cursor, MESSAGE_ID=EVENT_DEACTIVATED)[-1]
    assert e["LICENSE_ID"] == "sys-2", e
    vendor("check-proof", "-", input=m.read("/root/proof.txt"))


def test_kill_9_loses_nothing(licensed, keys):
    """kill -9 of the real service while it installs a license, again and
    again: afterwards every license committed before is there, a new one is
    either wholly there or not, and nothing is damaged."""
    m = licensed
    before = {l["id"] for l in json.loads(m.run("licensectl", "--json", "list").stdout)}
    for i in range(5):
        lid = f"k9-{i}"
        m.run("licensectl", "--no-ask-password", "activate", "--offline", "--qr=never", "--output",
              "/root/req.txt", KEY)
        m.write(f"/root/{lid}.txt", vendor("answer", "--signing-key", keys[0], "--request", "-", "--id", lid,
                                           "--licensee", "System Test", "--feature", "k9",
                                           input=m.read("/root/req.txt")))
        m.check_feature(PRODUCT, "x")  # running, whatever the idle timer did meanwhile
        pid = m.show("licensed.service", "MainPID")["MainPID"]
        assert pid != "0"
        # the install in flight, and kill -9 of the daemon a moment later
        m.run("sh", "-c", f"licensectl --no-ask-password install /root/{lid}.txt >/dev/null 2>&1 & "
                          f"sleep 0.0{i * 2}; kill -9 {pid}", check=False)
        wait_until(lambda: m.show("licensed.service", "MainPID")["MainPID"] != pid, what="licensed to be gone")
        # five kills in a few seconds would trip systemd's start rate limit
        # (StartLimitBurst=5), which is right for a crash loop, not for this test
        m.systemctl("reset-failed", "licensed.service", check=False)
        ids = {l["id"] for l in json.loads(m.run("licensectl", "--json", "list").stdout)}
        assert before <= ids, before - ids
        if lid in ids:
            assert m.check_feature(PRODUCT, "k9") == (True, "licensed")
            before.add(lid)
    assert m.run("ls", "-A", "/var/lib/licensed/quarantine", check=False).stdout.strip() == ""


def test_password_asked_on_a_terminal(licensed, keys):
    """An administrator who is not root, logged in on a terminal: licensectl
    starts pkttyagent, polkit asks for the password right there, and with
    it the license is installed. Without a terminal the same user is
    refused (test_non_root_user). The terminal is a tmux pane on the host;
    inside, systemd-run gives licensectl a login session (PAMName=login,
    pam_systemd), as ssh or a console login would."""
    m = licensed
    user = m.add_user("bob")
    m.run("usermod", "-aG", "sudo", user)  # an administrator for Debian's polkit rules
    m.run("chpasswd", input=f"{user}:s3cret-pw\n")
    m.run("licensectl", "--no-ask-password", "activate", "--offline", "--qr=never", "--output", "/root/req.txt", KEY)
    m.write("/tmp/bob.lic", vendor("answer", "--signing-key", keys[0], "--request", "-", "--id", "tty-1",
                                   "--licensee", "System Test", "--feature", "tty", input=m.read("/root/req.txt")))
    session = f"licensed-test-{os.getpid()}"
    cmd = shlex.join(m.command("systemd-run", "--quiet", "--pty", "--wait", f"--uid={user}", "-p", "PAMName=login",
                               "/usr/bin/licensectl", "install", "/tmp/bob.lic"))

    def screen():
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True,
                              timeout=10).stdout

    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "40",
                    f"{cmd}; echo EXIT=$?; sleep 120"], check=True, timeout=10)
    try:
        try:
            wait_until(lambda: "Password:" in screen(), timeout=30, what="polkit's password prompt")
        except TimeoutError:
            raise AssertionError(f"no password prompt; the terminal shows:\n{screen()}")
        assert "Authentication is required to install a software license" in screen(), screen()
        subprocess.run(["tmux", "send-keys", "-t", session, "s3cret-pw", "Enter"], check=True, timeout=10)
        wait_until(lambda: "EXIT=" in screen(), timeout=30, what="licensectl to finish")
        assert "EXIT=0" in screen(), screen()
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, timeout=10)
    assert "tty-1" in {l["id"] for l in json.loads(m.run("licensectl", "--json", "list").stdout)}
    assert m.check_feature(PRODUCT, "tty") == (True, "licensed")
    # no agent is left behind
    assert "pkttyagent" not in m.run("ps", "-eo", "comm").stdout


def test_grace_runs_out_then_clock_rollback(licensed):
    m = licensed
    m.faketime("licensed.service", "+20d")
    m.systemctl("stop", "licensed.service", check=False)
    cursor = m.journal_cursor()
    assert m.check_feature(PRODUCT, "reports") == (False, "validation-required")
    e = m.wait_journal(after=cursor, MESSAGE_ID=EVENT_FEATURE_DENIED)[-1]
    assert e["REASON"] == "validation-required" and e["FEATURE"] == "reports"
    # the journal says the grace period is over, once, with what to do
    e = m.wait_journal(after=cursor, MESSAGE_ID=EVENT_GRACE_EXPIRED, LICENSE_ID="sys-1")
    assert len(e) == 1 and "grace period is over" in e[0]["MESSAGE"], e
    out = m.run("licensectl", "check", PRODUCT, "reports", check=False)
    assert out.returncode == 1 and "validation-required" in out.stdout
    # back to the real clock: 20 days behind what licensed has seen
    m.remove_drop_in("licensed.service", "faketime")
    m.systemctl("stop", "licensed.service", check=False)
    cursor = m.journal_cursor()
    assert m.check_feature(PRODUCT, "reports") == (False, "clock-rollback")
    e = m.wait_journal(after=cursor, MESSAGE_ID=EVENT_CLOCK_ROLLBACK, LICENSE_ID="sys-1")[-1]
    assert e["PRODUCT"] == PRODUCT, e
    assert "clock" in m.run("journalctl", "-x", f"MESSAGE_ID={EVENT_CLOCK_ROLLBACK}", "--no-pager").stdout


def test_non_root_user(licensed):
    m = licensed
    user = m.add_user("alice")
    p = m.run("licensectl", "check", PRODUCT, "reports", user=user, check=False)
    assert p.returncode == 1 and "not licensed:" in p.stdout, p  # reading is open: an answer, not an error
    pending_before = m.run("ls", "/var/lib/licensed/pending").stdout
    p = m.run("licensectl", "--no-ask-password", "activate", "--offline", "--qr=never", KEY, user=user, check=False)
    assert p.returncode == 4, (p.stdout, p.stderr)
    assert "uthoriz" in p.stderr or "uthentication" in p.stderr
    assert m.run("ls", "/var/lib/licensed/pending").stdout == pending_before


def test_hardening(machine):
    out = machine.run("systemd-analyze", "security", "licensed.service", check=False).stdout
    line = [l for l in out.splitlines() if "Overall exposure level" in l][-1]
    exposure = float(line.split(":")[1].split()[0])
    assert exposure <= 2.0, line
