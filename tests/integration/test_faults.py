# SPDX-License-Identifier: LGPL-2.1-or-later
"""Faults on a real file system: a full disk and a read-only state
directory (a small tmpfs), and kill -9 at random points of changing
operations. Afterwards the old licenses are in force, nothing is
half-written, and every committed license is there."""
import os
import random
import subprocess
import time

import dbus
import pytest

from harness import Daemon

PRODUCT = "com.example.app"
KEY = "00001-00002-00003-00004-00005"


@pytest.fixture
def small_fs(tmp_path):
    mnt = tmp_path / "fs"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def answer(stack, vendor, req, lid):
    lic = stack.tmp / f"{lid}.lic"
    vendor("answer", "--signing-key", stack.signing_key, "--request", "-", "--id", lid, "--licensee", "T",
           "--feature", f"f-{lid}", "--validation-interval", "1d", "--output", str(lic), input=str(req))
    return lic.read_text()


def activate(stack, vendor, lid):
    req, _ = stack.client.manager.RequestOfflineActivation(PRODUCT, KEY, False)
    return stack.client.manager.InstallLicense(answer(stack, vendor, req, lid), False)


def move_state_to(stack, mnt):
    """Runs the stack's daemon with its state on the small file system."""
    stack.daemon.stop()
    stack.daemon.state_dir = str(mnt / "state")
    stack.daemon.start()


def fill(mnt):
    """Fills the file system; returns the filler's path."""
    filler = mnt / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def leftovers(state_dir):
    out = []
    for root, _, files in os.walk(state_dir):
        out += [os.path.join(root, f) for f in files if ".#" in f]
    return out


def dbus_error(call, *args):
    with pytest.raises(dbus.exceptions.DBusException) as e:
        call(*args)
    return e.value.get_dbus_name(), e.value.get_dbus_message()


def test_disk_full(stack, vendor, small_fs):
    move_state_to(stack, small_fs)
    activate(stack, vendor, "a")
    req, _ = stack.client.manager.RequestOfflineActivation(PRODUCT, KEY, False)
    text_b = answer(stack, vendor, req, "b")
    vreq = str(stack.client.manager.RequestOfflineValidation("a", False))
    receipt = vendor("receipt", "--signing-key", stack.signing_key, "--request", "-", input=vreq).stdout
    before = dict(stack.client.license_props("a"))

    filler = fill(small_fs)
    name, msg = dbus_error(stack.client.manager.InstallLicense, text_b, False)
    assert name == "org.licensed.License1.Error.StorageFailure" and "No space left" in msg
    name, msg = dbus_error(stack.client.manager.InstallLicense, receipt, False)
    assert name == "org.licensed.License1.Error.StorageFailure"
    name, _ = dbus_error(stack.client.manager.RequestOfflineActivation, PRODUCT, KEY, False)
    assert name == "org.licensed.License1.Error.StorageFailure"
    # the old license is in force, nothing half-written, nothing of b
    assert stack.client.check(PRODUCT, "f-a") == (True, "licensed")
    assert stack.client.check(PRODUCT, "f-b") == (False, "not-installed")
    assert dict(stack.client.license_props("a"))["LastValidation"] == before["LastValidation"]
    assert leftovers(stack.daemon.state_dir) == []
    assert sorted(os.listdir(os.path.join(stack.daemon.state_dir, "licenses"))) == ["a.lic", "a.state"]

    # room again: the same documents go in
    os.unlink(filler)
    stack.client.manager.InstallLicense(text_b, False)
    stack.client.manager.InstallLicense(receipt, False)
    assert stack.client.check(PRODUCT, "f-b") == (True, "licensed")
    stack.daemon.restart()
    assert stack.client.check(PRODUCT, "f-a") == (True, "licensed")
    assert stack.client.check(PRODUCT, "f-b") == (True, "licensed")


def test_read_only_state_directory(stack, vendor, small_fs):
    move_state_to(stack, small_fs)
    activate(stack, vendor, "a")
    req, _ = stack.client.manager.RequestOfflineActivation(PRODUCT, KEY, False)
    text_b = answer(stack, vendor, req, "b")
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    try:
        name, msg = dbus_error(stack.client.manager.InstallLicense, text_b, False)
        assert name == "org.licensed.License1.Error.StorageFailure" and "Read-only" in msg
        name, _ = dbus_error(stack.client.manager.Deactivate, "a", True, False)
        assert name == "org.licensed.License1.Error.StorageFailure"
        assert stack.client.check(PRODUCT, "f-a") == (True, "licensed")
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_fs)], check=True)
    stack.client.manager.InstallLicense(text_b, False)
    assert stack.client.check(PRODUCT, "f-b") == (True, "licensed")


def send(conn, method, signature, *args):
    msg = dbus.lowlevel.MethodCallMessage("org.licensed.License1", "/org/licensed/License1",
                                          "org.licensed.License1.Manager", method)
    msg.append(*args, signature=signature)
    conn.send_message(msg)


def test_kill_9_at_random_points(stack, vendor):
    """Many runs: changing operations in flight (install, deactivate,
    validate), kill -9 at a random instant, restart. Whatever was committed
    is there; nothing loads half-written; the daemon always comes back."""
    rng = random.Random(7)
    acknowledged = set()
    removed = set()
    validated = 0
    for i in range(25):
        lid = f"k{i}"
        req, _ = stack.client.manager.RequestOfflineActivation(PRODUCT, KEY, False)
        text = answer(stack, vendor, req, lid)
        conn = stack.bus.connect()
        # Raw messages: sent at once, the replies are not waited for.
        send(conn, "InstallLicense", "sb", text, False)
        victim = None
        if acknowledged - removed and rng.random() < 0.5:
            victim = rng.choice(sorted(acknowledged - removed))
            send(conn, "Deactivate", "sbb", victim, True, False)
        if acknowledged - removed and rng.random() < 0.5:
            # an offline validation: the receipt's install writes the
            # license's validation state, racing the kill
            target = rng.choice(sorted(acknowledged - removed - {victim}) or [None])
            if target:
                vreq = stack.client.manager.RequestOfflineValidation(target, False)
                receipt = vendor("receipt", "--signing-key", stack.signing_key, "--request", "-",
                                 input=str(vreq)).stdout
                send(conn, "InstallLicense", "sb", receipt, False)
                validated += 1
        conn.flush()
        time.sleep(rng.random() * 0.03)
        stack.daemon.kill()
        conn.close()
        stack.daemon.start()
        ids = {str(x[0]) for x in stack.client.manager.ListLicenses()}
        if victim and victim not in ids:
            removed.add(victim)
        # the install either happened or not; if it happened it is complete
        if lid in ids:
            acknowledged.add(lid)
        # a deactivation, once done, stays done
        assert not (removed & ids), (removed, ids)
        # every license committed before, and not deactivated since, is there
        # and in force, whether its validation went through or not
        assert acknowledged - removed <= ids, (acknowledged - removed) - ids
        for other in acknowledged - removed:
            assert stack.client.check(PRODUCT, f"f-{other}") == (True, "licensed"), other
        # a write cut short by the kill leaves a temp file; the next start removes it
        assert leftovers(stack.daemon.state_dir) == []
        quarantine = os.listdir(os.path.join(stack.daemon.state_dir, "quarantine"))
        assert quarantine == [], f"something was damaged: {quarantine}"
    assert validated, "no validation was ever in flight"
    assert acknowledged, "no install ever completed before the kill"
