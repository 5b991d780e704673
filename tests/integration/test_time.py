# SPDX-License-Identifier: LGPL-2.1-or-later
"""Time travel for the daemon only, with libfaketime (the host clock is
never touched): grace, validation-required, expiry and clock rollback,
with their journal events."""
import pytest

import os

from conftest import BUILD
from harness import Daemon

PRODUCT = "com.example.app"
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


def faked(offset):
    # Only the wall clock moves; CLOCK_BOOTTIME is what a reboot-free
    # machine would really have, so keep monotonic clocks real.
    shim = os.path.join(BUILD, "tests", "integration", "libtimerfd-real.so")
    return {"LD_PRELOAD": f"{shim}:{FAKETIME_LIB}", "FAKETIME": offset, "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "FAKETIME_NO_CACHE": "1", "ASAN_OPTIONS": "verify_asan_link_order=0:detect_leaks=1:abort_on_error=1"}


def restart_with(stack, offset):
    stack.daemon.stop()
    stack.daemon.extra_env = faked(offset) if offset else {}
    stack.daemon.start()


def install(stack, vendor, *extra):
    req, _ = stack.client.manager.RequestOfflineActivation(PRODUCT, "00001-00002-00003-00004-00005", False)
    lic = stack.tmp / "t.lic"
    vendor("answer", "--signing-key", stack.signing_key, "--request", "-", "--id", "t-1", "--licensee", "T",
           "--feature", "reports", "--output", str(lic), *extra, input=str(req))
    stack.client.manager.InstallLicense(lic.read_text(), False)


def test_grace_then_validation_required(stack, vendor):
    install(stack, vendor, "--validation-interval", "1d", "--grace-period", "14d")
    assert stack.client.check(PRODUCT, "reports") == (True, "licensed")
    restart_with(stack, "+3d")
    assert stack.client.check(PRODUCT, "reports") == (True, "grace")
    props = stack.client.license_props("t-1")
    assert props["Status"] == "grace" and props["GraceEnd"] > 0
    assert "in grace (11 days left)" in str(stack.client.props()["Summary"])
    restart_with(stack, "+15d")
    assert stack.client.check(PRODUCT, "reports") == (False, "validation-required")
    assert stack.client.props()["State"] == "trouble"
    # a receipt restores it at once (the vendor's clock is the real one, ours is ahead: capped to now)
    req = str(stack.client.manager.RequestOfflineValidation("t-1", False))
    receipt = vendor("receipt", "--signing-key", stack.signing_key, "--request", "-", input=req).stdout
    stack.client.manager.InstallLicense(receipt, False)
    # validated "now" by the vendor's (real) clock: 15 days ago by ours, so still beyond grace
    assert stack.client.check(PRODUCT, "reports") == (False, "validation-required")


def test_events_while_running(stack, vendor):
    """Grace is entered while the daemon runs: the timer wakes it and the
    journal event is sent without any call."""
    install(stack, vendor, "--validation-interval", "1d", "--grace-period", "14d")
    restart_with(stack, "+86397")  # due in ~3 s
    assert stack.client.check(PRODUCT, "reports") == (True, "licensed")
    import time
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and "entered its grace" not in stack.daemon.read_log() \
            and "grace period" not in stack.daemon.read_log():
        time.sleep(0.2)
    log = stack.daemon.read_log()
    assert "cddf6b16aa9d47948995de783b8423c3" in log, log
    assert stack.client.check(PRODUCT, "reports") == (True, "grace")


def test_clock_rollback(stack, vendor):
    install(stack, vendor)
    assert stack.client.check(PRODUCT, "reports") == (True, "licensed")
    restart_with(stack, "+10d")  # the daemon sees (and remembers) a later time
    assert stack.client.check(PRODUCT, "reports") == (True, "licensed")
    restart_with(stack, None)  # back to the real clock: 10 days behind what it saw
    assert stack.client.check(PRODUCT, "reports") == (False, "clock-rollback")
    # the denial is in the journal, with the reason
    log = stack.daemon.read_log()
    assert "ed8a542524e24fdf9f13163b489978ba" in log and "system clock is behind" in log, log
    restart_with(stack, "+10d")  # the clock is right again
    assert stack.client.check(PRODUCT, "reports") == (True, "licensed")


def test_expiry(stack, vendor):
    install(stack, vendor, "--type", "trial", "--not-after", "2027-01-01")
    restart_with(stack, "@2027-01-02 00:00:00")
    assert stack.client.check(PRODUCT, "reports") == (False, "expired")


def test_grace_events_survive_restarts(stack, vendor):
    """A daemon that exits when idle still announces each transition once:
    grace entered when it next starts, not again after that; grace over at
    the next start after it ended."""
    install(stack, vendor, "--validation-interval", "1d", "--grace-period", "14d")
    restart_with(stack, "+3d")
    stack.client.check(PRODUCT, "reports")
    assert stack.daemon.read_log().count("cddf6b16aa9d47948995de783b8423c3") == 1  # grace entered
    restart_with(stack, "+3d")
    stack.client.check(PRODUCT, "reports")
    assert stack.daemon.read_log().count("cddf6b16aa9d47948995de783b8423c3") == 1  # not repeated
    restart_with(stack, "+10d")  # 4 days left: a warning, once
    stack.client.check(PRODUCT, "reports")
    restart_with(stack, "+10d")
    assert stack.daemon.read_log().count("0a2a867396a54a58991f50b90e7713f2") == 1
    restart_with(stack, "+15d")
    assert stack.client.check(PRODUCT, "reports") == (False, "validation-required")
    assert stack.daemon.read_log().count("14c8af12986f49b8a1ba092a412ed2a8") == 1  # grace over


def test_max_grace_period_caps_the_license(stack, vendor):
    """The administrator's max_grace_period in licensed.conf caps what the
    license asks for: 14 days of grace become 5."""
    install(stack, vendor, "--validation-interval", "1d", "--grace-period", "14d")
    conf = stack.tmp / "capped.conf"
    conf.write_text('idle_timeout = 0;\nmax_grace_period = "5d";\n')
    stack.daemon.config = str(conf)
    restart_with(stack, "+3d")
    assert stack.client.check(PRODUCT, "reports") == (True, "grace")
    # grace ends 5 days after the last validation (the install), not 14
    installed = int(stack.client.license_props("t-1")["LastValidation"])
    assert int(stack.client.license_props("t-1")["GraceEnd"]) == installed + 5 * 86400 * 10**6
    restart_with(stack, "+7d")
    assert stack.client.check(PRODUCT, "reports") == (False, "validation-required")
    # without the cap the same license would still be in grace at +7 days
    conf.write_text("idle_timeout = 0;\n")
    restart_with(stack, "+7d")
    assert stack.client.check(PRODUCT, "reports") == (True, "grace")


def test_grace_warning_is_configurable(stack, vendor):
    """grace_warning in licensed.conf: with "12d", 11 days left already
    warns (the default, 7 days, would not); with 0, nothing warns."""
    install(stack, vendor, "--validation-interval", "1d", "--grace-period", "14d")
    conf = stack.tmp / "warn.conf"
    stack.daemon.config = str(conf)
    conf.write_text('idle_timeout = 0;\ngrace_warning = "12d";\n')
    restart_with(stack, "+2d")  # in grace: 12 days left
    assert stack.client.check(PRODUCT, "reports") == (True, "grace")
    restart_with(stack, "+3d")  # 11 days left
    stack.client.check(PRODUCT, "reports")
    assert stack.daemon.read_log().count("0a2a867396a54a58991f50b90e7713f2") == 1
    conf.write_text("idle_timeout = 0;\ngrace_warning = 0;\n")
    restart_with(stack, "+12d")  # 2 days left, and no warning wanted
    stack.client.check(PRODUCT, "reports")
    assert stack.daemon.read_log().count("0a2a867396a54a58991f50b90e7713f2") == 1  # still only the first
