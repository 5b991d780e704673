# SPDX-License-Identifier: LGPL-2.1-or-later
"""Counted seats: one per client connection, freed by Return or when the
client goes away, visible in the Features property; no idle exit while
seats are held."""
import os
import signal
import subprocess
import time

import dbus
import pytest

import json

from conftest import binary, run, write_product
from harness import MANAGER, MANAGER_PATH, PY, SERVICE, Bus, Client, Daemon, wait_for

PRODUCT = "com.example.app"


def install_counted(stack, vendor, limit=2):
    req, _ = stack.client.manager.RequestOfflineActivation(PRODUCT, "00001-00002-00003-00004-00005", False)
    lic = stack.tmp / "seats.lic"
    vendor("answer", "--signing-key", stack.signing_key, "--request", "-", "--id", "s-1", "--licensee", "T",
           "--feature", f"seats:limit={limit}", "--feature", "reports", "--output", str(lic), input=str(req))
    stack.client.manager.InstallLicense(lic.read_text(), False)


def manager(conn):
    return dbus.Interface(conn.get_object(SERVICE, MANAGER_PATH), MANAGER)


def in_use(stack):
    return stack.client.seats_in_use("s-1", "seats")


def test_seats_are_counted_and_freed(stack, vendor):
    install_counted(stack, vendor)
    a, b, c = (stack.bus.connect() for _ in range(3))
    granted, reason, used, limit = manager(a).CheckOut(PRODUCT, "seats")
    assert (bool(granted), str(reason), int(used), int(limit)) == (True, "licensed", 1, 2)
    # asking again while holding one changes nothing
    assert int(manager(a).CheckOut(PRODUCT, "seats")[2]) == 1
    assert bool(manager(b).CheckOut(PRODUCT, "seats")[0])
    granted, reason, used, limit = manager(c).CheckOut(PRODUCT, "seats")
    assert (bool(granted), str(reason), int(used)) == (False, "limit-reached", 2)
    assert in_use(stack) == 2
    # CheckFeature is not a checkout: still licensed for anyone asking
    assert stack.client.check(PRODUCT, "seats") == (True, "licensed")
    # Return frees one
    manager(a).Return(PRODUCT, "seats")
    assert bool(manager(c).CheckOut(PRODUCT, "seats")[0])
    # a client that goes away loses its seat
    b.close()
    wait_for(lambda: in_use(stack) == 1, what="the seat of a closed connection to be freed")
    # returning what one does not hold is an error
    with pytest.raises(dbus.exceptions.DBusException) as e:
        manager(a).Return(PRODUCT, "seats")
    assert e.value.get_dbus_name() == "org.licensed.License1.Error.NoSeat"
    # an uncounted feature is granted without a seat
    granted, reason, used, limit = manager(a).CheckOut(PRODUCT, "reports")
    assert (bool(granted), int(used), int(limit)) == (True, 0, 0)


def test_licensectl_show_counts_seats(stack, vendor):
    """An administrator sees the limit and the seats in use in licensectl
    show, as a table and as JSON."""
    install_counted(stack, vendor, limit=3)
    held = [stack.bus.connect() for _ in range(2)]
    for conn in held:
        assert bool(manager(conn).CheckOut(PRODUCT, "seats")[0])

    def show(*args):
        return run([binary("licensectl"), f"--bus-address={stack.bus.address}", "--no-pager", *args, "show",
                    "s-1"]).stdout

    rows = {line.split()[0]: line.split() for line in show().splitlines() if line.startswith(("seats ", "reports "))}
    # FEATURE LICENSED REASON EXPIRES LIMIT IN-USE
    assert rows["seats"][-2:] == ["3", "2"], rows
    assert rows["reports"][-2:] == ["-", "-"], rows

    def seats_json():
        (f,) = [f for f in json.loads(show("--json"))["features"] if f["name"] == "seats"]
        return f["limit"], f["in_use"]

    assert seats_json() == (3, 2)
    held[0].close()
    wait_for(lambda: seats_json() == (3, 1), what="licensectl show to count the freed seat")


def test_seat_of_a_killed_process_is_freed(stack, vendor):
    install_counted(stack, vendor, limit=1)
    holder = subprocess.Popen([PY, "-c", f"""
import dbus, sys, time
conn = dbus.bus.BusConnection({stack.bus.address!r})
m = dbus.Interface(conn.get_object({SERVICE!r}, {MANAGER_PATH!r}), {MANAGER!r})
print(bool(m.CheckOut({PRODUCT!r}, "seats")[0]), flush=True)
time.sleep(60)
"""], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"
        assert str(stack.client.manager.CheckOut(PRODUCT, "seats")[1]) == "limit-reached"
        holder.kill()
        holder.wait(10)
        wait_for(lambda: bool(stack.client.manager.CheckOut(PRODUCT, "seats")[0]), what="the seat to be freed")
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)


def test_no_idle_exit_while_seats_are_held(tmp_path, vendor_keys, vendor):
    products = str(tmp_path / "products")
    write_product(products, PRODUCT, vendor_keys[1])
    conf = str(tmp_path / "licensed.conf")
    with open(conf, "w") as f:
        f.write('idle_timeout = "1s";\n')
    bus = Bus(str(tmp_path))
    daemon = Daemon(bus, str(tmp_path / "state"), products, config=conf)
    try:
        client = Client(bus)
        req, _ = client.manager.RequestOfflineActivation(PRODUCT, "00001-00002-00003-00004-00005", False)
        lic = tmp_path / "l.lic"
        vendor("answer", "--signing-key", vendor_keys[0], "--request", "-", "--id", "s-1", "--licensee", "T",
               "--feature", "seats:limit=1", "--output", str(lic), input=str(req))
        client.manager.InstallLicense(lic.read_text(), False)
        holder = bus.connect()
        assert bool(manager(holder).CheckOut(PRODUCT, "seats")[0])
        time.sleep(3)
        assert daemon.proc.poll() is None, "licensed exited while a seat was held"
        manager(holder).Return(PRODUCT, "seats")
        daemon.proc.wait(timeout=15)
        assert daemon.proc.returncode == 0
        daemon.proc = None
    finally:
        if daemon.proc:
            daemon.stop()
        bus.stop()


def test_sigusr1_exits_once_no_seat_is_held(stack, vendor):
    """SIGUSR1 (systemctl reload, the package's upgrade): licensed exits at
    its first idle moment, however long idle_timeout is (here: never), but
    not while a program holds a seat, and calls keep being answered until
    then; afterwards the name is free for the next licensed."""
    install_counted(stack, vendor)
    holder = stack.bus.connect()
    assert bool(manager(holder).CheckOut(PRODUCT, "seats")[0])
    proc = stack.daemon.proc
    proc.send_signal(signal.SIGUSR1)
    # it stays, and answers, while the seat is held
    for _ in range(8):
        time.sleep(0.3)
        assert proc.poll() is None, stack.daemon.read_log()
        assert stack.client.check(PRODUCT, "reports") == (True, "licensed")
    manager(holder).Return(PRODUCT, "seats")
    wait_for(lambda: proc.poll() is not None, timeout=10, what="licensed to exit once the seat is returned")
    assert proc.returncode == 0, stack.daemon.read_log()
    log = stack.daemon.read_log()
    assert "Asked to exit once idle (SIGUSR1" in log and "Idle, exiting as asked" in log, log
    conn = stack.bus.connect()
    assert not conn.name_has_owner(SERVICE)
    # a new one starts as usual and still has the license
    stack.daemon.log.close()
    stack.daemon.start()
    assert stack.client.check(PRODUCT, "reports") == (True, "licensed")


def test_sigusr1_does_not_wait_for_calls_that_keep_coming(stack, vendor):
    """A client that calls every 200 ms does not keep the old licensed alive
    after SIGUSR1: the idle check is not pushed back by each call."""
    install_counted(stack, vendor)
    proc = stack.daemon.proc
    proc.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            stack.client.check(PRODUCT, "reports")
        except dbus.exceptions.DBusException:
            pass  # the name is being released: the caller would activate a new one
        time.sleep(0.2)
    assert proc.poll() == 0, stack.daemon.read_log()
    stack.daemon.log.close()
    stack.daemon.start()
