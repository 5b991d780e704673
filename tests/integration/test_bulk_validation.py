# SPDX-License-Identifier: LGPL-2.1-or-later
"""Validating many licenses in one call (the daily timer's Validate): every
license finishes against a healthy licensed-server, the daemon re-evaluates,
writes the snapshot and announces its state once for the whole call, the
licenses that a server refuses are named one by one, and no server sees more
than the per-host connection cap at once."""
import os
import socket
import struct

import dbus
import pytest

from conftest import BUILD, binary, run
from fakeserver import FakeServer
from harness import MANAGER, MANAGER_PATH, SERVICE, Bus, Client, Daemon, Polkit
from licensed_server import LicensedServer

MAX_HOST_CONNECTIONS = 8  # HTTP_MAX_HOST_CONNECTIONS, daemon/http.h


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_licenses(d, n, url):
    """n online licenses bound to this machine (bench/make-licenses): the
    products name url as their server, and d/server.db knows every one."""
    run([os.path.join(BUILD, "bench", "make-licenses"), d, str(n), "--server", url])


class Machine:
    def __init__(self, d):
        self.bus = Bus(d)
        self.polkit = Polkit(self.bus)
        self.daemon = Daemon(self.bus, os.path.join(d, "state"), os.path.join(d, "products"),
                             config=os.path.join(d, "licensed.conf"))
        self.client = Client(self.bus)

    def generation(self):
        """The snapshot's generation: one more on every write."""
        with open(os.path.join(self.daemon.runtime_dir, "snapshot"), "rb") as f:
            return struct.unpack_from("<Q", f.read(32), 24)[0]

    def stop(self):
        self.daemon.stop()
        self.polkit.stop()
        self.bus.stop()


@pytest.fixture
def machines():
    made = []
    yield lambda d: made.append(Machine(d)) or made[-1]
    for m in made:
        m.stop()


def manager_properties_changed(machine, call):
    """Runs call() and counts the Manager's PropertiesChanged signals it
    caused (the state announcements)."""
    from dbus.mainloop.glib import DBusGMainLoop
    from gi.repository import GLib

    conn = dbus.bus.BusConnection(machine.bus.address, mainloop=DBusGMainLoop())
    seen = []
    conn.add_signal_receiver(lambda iface, *a: seen.append(str(iface)), signal_name="PropertiesChanged",
                             dbus_interface="org.freedesktop.DBus.Properties", bus_name=SERVICE,
                             path=MANAGER_PATH)
    ctx = GLib.MainContext.default()
    for _ in range(20):  # the match rule reaches the bus
        ctx.iteration(False)
    result = call()
    # The daemon announces before it replies: the signals are on their way.
    machine.client.conn.get_object(SERVICE, MANAGER_PATH).Ping(dbus_interface="org.freedesktop.DBus.Peer")
    for _ in range(200):
        ctx.iteration(False)
    conn.close()
    return result, [i for i in seen if i == MANAGER]


def test_many_licenses_in_one_call(tmp_path, machines):
    d = str(tmp_path / "m")
    port = free_port()
    make_licenses(d, 300, f"http://127.0.0.1:{port}")
    server = LicensedServer(os.path.join(d, "server.db"), os.path.join(d, "vendor.key"),
                            listen=f"127.0.0.1:{port}")
    try:
        m = machines(d)
        before = m.generation()
        results, announced = manager_properties_changed(
            m, lambda: m.client.manager.Validate("", False, timeout=120))
        outcomes = {str(i): str(o) for i, o, _ in results}
        assert len(outcomes) == 300
        assert set(outcomes.values()) == {"ok"}
        # Each receipt is stored on its own; the announcements come once.
        assert m.generation() == before + 1
        assert len(announced) == 1
        states = os.listdir(os.path.join(d, "state", "licenses"))
        assert len([s for s in states if s.endswith(".state")]) == 300
        lp = m.client.license_props("bench-00123")
        assert lp["LastValidation"] > 0
        assert m.client.check("com.example.bench", "reports") == (True, "licensed")
    finally:
        server.stop()


def test_a_rate_limiting_server_is_asked_again_when_it_says(tmp_path, machines):
    """More licenses than the server lets one address ask at once: the
    daemon waits out each 429's Retry-After and validates every license at
    the server's rate, instead of failing those beyond the burst."""
    d = str(tmp_path / "m")
    port = free_port()
    make_licenses(d, 60, f"http://127.0.0.1:{port}")
    server = LicensedServer(os.path.join(d, "server.db"), os.path.join(d, "vendor.key"),
                            listen=f"127.0.0.1:{port}", extra=("--rate-limit", "20/s", "--rate-burst", "10"))
    try:
        m = machines(d)
        results = m.client.manager.Validate("", False, timeout=120)
        outcomes = {str(i): str(o) for i, o, _ in results}
        assert len(outcomes) == 60 and set(outcomes.values()) == {"ok"}, outcomes
    finally:
        server.stop()


@pytest.fixture
def fake(tmp_path, machines):
    """40 online licenses on a machine whose server is a FakeServer (which
    signs with their vendor key): (server, state directory, machine)."""
    d = str(tmp_path / "m")
    server = FakeServer(binary("licensed-vendor"), os.path.join(d, "vendor.key"))
    try:
        make_licenses(d, 40, server.url)
        yield server, d, machines(d)
    finally:
        server.stop()


def test_a_server_refusing_some_licenses_names_each(fake):
    server, d, m = fake
    server.mode = "fail-some"
    server.fail_ids = {"bench-00003", "bench-00017", "bench-00039"}
    before = m.generation()
    p = run([binary("licensectl"), f"--bus-address={m.bus.address}", "--no-ask-password", "--no-pager", "validate"],
            check=False, timeout=120)
    assert p.returncode != 0  # the timer's service fails
    failed = {line.split()[0] for line in p.stdout.splitlines() if " failed " in line}
    assert failed == server.fail_ids
    for lid in server.fail_ids:
        assert "no answer for " + lid in p.stdout
    assert len([line for line in p.stdout.splitlines() if " ok " in line]) == 37
    assert m.generation() == before + 1
    # Refused is not transient: one request per license.
    assert len([r for r in server.requests if r[0] == "/v1/validate"]) == 40
    with open(os.path.join(d, "state", "licenses", "bench-00017.state")) as f:
        assert "no answer for bench-00017" in f.read()  # the attempt is recorded


def test_connections_to_one_server_are_capped(fake):
    server, _, m = fake
    server.mode = "slow"
    server.stall_seconds = 0.5
    results = m.client.manager.Validate("", False, timeout=120)
    assert len(results) == 40
    assert {str(o) for _, o, _ in results} == {"ok"}
    # In parallel, but never more than the cap at once.
    assert 2 <= server.connections_max <= MAX_HOST_CONNECTIONS
