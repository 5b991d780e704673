# SPDX-License-Identifier: LGPL-2.1-or-later
"""Idle exit and bus activation on a private bus with a service file: the
daemon leaves after idle_timeout, releasing its name first, and the next
call starts it again with its state intact."""
import os
import signal
import time

import dbus
import dbus.exceptions

from conftest import binary, write_product
from harness import SERVICE, Bus, Client, Daemon, wait_for


def owner_pid(conn):
    return int(conn.get_object("org.freedesktop.DBus", "/org/freedesktop/DBus").GetConnectionUnixProcessID(
        SERVICE, dbus_interface="org.freedesktop.DBus"))


def activating_bus(tmp_path, public_key, config, **product):
    """A private bus that starts licensed on demand (a D-Bus service file),
    with com.example.app installed and CONFIG as licensed.conf. Returns
    (bus, state dir, products dir, config path)."""
    products = str(tmp_path / "products")
    write_product(products, "com.example.app", public_key, **product)
    state = str(tmp_path / "state")
    conf = str(tmp_path / "licensed.conf")
    with open(conf, "w") as f:
        f.write(config)
    services = tmp_path / "services"
    services.mkdir()
    (services / "org.licensed.License1.service").write_text(
        "[D-BUS Service]\nName=org.licensed.License1\n"
        f"Exec=/bin/sh -c 'exec {binary('licensed')} --bus-address=$DBUS_STARTER_ADDRESS --state-dir={state} "
        f"--products-dir={products} --config={conf} --runtime-dir={state}.run >>{tmp_path}/activated.log 2>&1'\n")
    return Bus(str(tmp_path), service_dir=str(services)), state, products, conf


def test_idle_exit_and_reactivation(tmp_path, vendor_keys):
    bus, state, products, conf = activating_bus(tmp_path, vendor_keys[1], 'idle_timeout = "1s";\n')
    daemon = None
    activated_pid = None
    try:
        daemon = Daemon(bus, state, products, config=conf)
        client = Client(bus)
        first_pid = daemon.proc.pid
        assert client.check("com.example.app", "x") == (False, "not-installed")
        # idle: exits by itself, cleanly, after giving up the name
        daemon.proc.wait(timeout=15)
        assert daemon.proc.returncode == 0
        assert "Idle for 1s, exiting" in daemon.read_log()
        daemon.proc = None
        assert not client.conn.name_has_owner(SERVICE)
        # the next call activates a new one, which answers
        assert client.check("com.example.app", "x") == (False, "not-installed")
        activated_pid = owner_pid(client.conn)
        assert activated_pid != first_pid
        # which also leaves when idle
        wait_for(lambda: not os.path.exists(f"/proc/{activated_pid}"), timeout=15, what="activated daemon to exit")
        activated_pid = None
    finally:
        if activated_pid and os.path.exists(f"/proc/{activated_pid}"):
            os.kill(activated_pid, 15)
        if daemon and daemon.proc:
            daemon.stop()
        bus.stop()


def test_no_call_is_lost_around_idle_exit(tmp_path, vendor_keys):
    """Calls that reach licensed while it gives up its bus name on idle are
    answered before it exits, even when the answer waits for the licensing
    server; calls after that activate a new licensed. Each round freezes
    the daemon past its idle deadline, wakes it, and sends a Validate a
    little later each time, so that some land just before the name is
    released: every call must get a real answer, never a lost reply."""
    from fakeserver import FakeServer

    server = FakeServer(binary("licensed-vendor"), vendor_keys[0])
    bus, state, products, conf = activating_bus(tmp_path, vendor_keys[1],
                                                'idle_timeout = "1s";\nhttp_timeout = "10s";\n',
                                                server_url=server.url)
    daemon = None
    started = set()
    try:
        daemon = Daemon(bus, state, products, config=conf)
        client = Client(bus)
        client.manager.Activate("com.example.app", "00001-00002-00003-00004-00005", False, timeout=30)
        server.mode, server.stall_seconds = "slow", 0.5
        for i in range(10):
            # a running licensed (activated by this call if none is)
            client.check("com.example.app", "reports")
            pid = owner_pid(client.conn)
            started.add(pid)
            os.kill(pid, signal.SIGSTOP)
            time.sleep(1.2)  # past idle_timeout, frozen
            conn = bus.connect()
            os.kill(pid, signal.SIGCONT)
            time.sleep(i * 0.0002)
            try:
                reply = conn.call_blocking(SERVICE, "/org/licensed/License1", "org.licensed.License1.Manager",
                                           "Validate", "sb", ("", False), timeout=30)
            except dbus.exceptions.DBusException as e:
                raise AssertionError(f"round {i}: a call around idle exit got {e.get_dbus_name()}: "
                                     f"{e.get_dbus_message()}")
            assert [str(r[1]) for r in reply] == ["ok"], reply
            conn.close()
            # whoever answered leaves on idle, cleanly
            wait_for(lambda: not os.path.exists(f"/proc/{pid}") or
                     (daemon.proc is not None and daemon.proc.pid == pid and daemon.proc.poll() is not None),
                     timeout=20, what="licensed to exit on idle")
            if daemon.proc is not None and daemon.proc.pid == pid:
                assert daemon.proc.returncode == 0, daemon.read_log()
                daemon.proc = None
                daemon.log.close()
    finally:
        for pid in started:
            if os.path.exists(f"/proc/{pid}"):
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGTERM)
        if daemon and daemon.proc:
            daemon.stop()
        bus.stop()
        server.stop()
