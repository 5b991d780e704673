# SPDX-License-Identifier: LGPL-2.1-or-later
"""Idle exit and bus activation on a private bus with a service file: the
daemon leaves after idle_timeout, releasing its name first, and the next
call starts it again with its state intact."""
import os
import time

import dbus

from conftest import binary, write_product
from harness import SERVICE, Bus, Client, Daemon, wait_for


def owner_pid(conn):
    return int(conn.get_object("org.freedesktop.DBus", "/org/freedesktop/DBus").GetConnectionUnixProcessID(
        SERVICE, dbus_interface="org.freedesktop.DBus"))


def test_idle_exit_and_reactivation(tmp_path, vendor_keys):
    products = str(tmp_path / "products")
    write_product(products, "com.example.app", vendor_keys[1])
    state = str(tmp_path / "state")
    conf = str(tmp_path / "licensed.conf")
    with open(conf, "w") as f:
        f.write('idle_timeout = "1s";\n')
    services = tmp_path / "services"
    services.mkdir()
    log = str(tmp_path / "activated.log")
    (services / "org.licensed.License1.service").write_text(
        "[D-BUS Service]\nName=org.licensed.License1\n"
        f"Exec=/bin/sh -c 'exec {binary('licensed')} --bus-address=$DBUS_STARTER_ADDRESS --state-dir={state} "
        f"--products-dir={products} --config={conf} --runtime-dir={state}.run >>{log} 2>&1'\n")
    bus = Bus(str(tmp_path), service_dir=str(services))
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
