# SPDX-License-Identifier: LGPL-2.1-or-later
"""licensed against a licensing server on loopback that answers well, and
against one that fails in every way a server or network can: a clear
named error each time, the stored license untouched, the grace period
running, and the bus never blocked."""
import os
import signal
import threading
import time

import dbus
import pytest

from conftest import BUILD, binary, write_product
from fakeserver import FakeServer
from harness import Bus, Client, Daemon, Polkit

PRODUCT = "com.example.app"
KEY = "00001-00002-00003-00004-00005"


@pytest.fixture
def online(tmp_path, vendor_keys, vendor):
    server = FakeServer(binary("licensed-vendor"), vendor_keys[0])
    products = str(tmp_path / "products")
    write_product(products, PRODUCT, vendor_keys[1], server_url=server.url)
    conf = str(tmp_path / "licensed.conf")
    with open(conf, "w") as f:
        f.write('idle_timeout = 0;\nhttp_timeout = "4s";\n')
    bus = Bus(str(tmp_path))
    polkit = Polkit(bus)
    daemon = Daemon(bus, str(tmp_path / "state"), products, config=conf)
    o = type("Online", (), {})()
    o.server, o.bus, o.daemon, o.client, o.tmp = server, bus, daemon, Client(bus), tmp_path
    o.signing_key, o.public_key, o.conf = vendor_keys[0], vendor_keys[1], conf
    try:
        yield o
    finally:
        o.daemon.stop()  # the one a test left there (it may have started another)
        polkit.stop()
        bus.stop()
        server.stop()


def dbus_error(call, *args):
    with pytest.raises(dbus.exceptions.DBusException) as e:
        call(*args)
    return e.value.get_dbus_name(), e.value.get_dbus_message()


def licenses_dir(o):
    d = os.path.join(o.daemon.state_dir, "licenses")
    return {f: open(os.path.join(d, f)).read() for f in sorted(os.listdir(d))}


def test_online_activation_validation_deactivation(online):
    m = online.client.manager
    path = m.Activate(PRODUCT, KEY, False, timeout=30)
    assert str(path).endswith("srv_2d1")
    assert online.client.check(PRODUCT, "reports") == (True, "licensed")
    assert online.server.requests[-1][0] == "/v1/activate"
    results = [(str(a), str(b)) for a, b, _ in m.Validate("", False, timeout=30)]
    assert results == [("srv-1", "ok")]
    assert online.server.requests[-1][0] == "/v1/validate"
    assert str(m.Deactivate("srv-1", False, False, timeout=30)) == ""
    assert online.server.requests[-1][0] == "/v1/deactivate"
    assert online.client.check(PRODUCT, "reports") == (False, "not-installed")


@pytest.mark.parametrize("mode,error,words", [
    ("refuse-seat", "ServerRefused", "seat limit reached"),
    ("500", "ServerUnreachable", "HTTP 500"),
    ("garbage", "BadServerResponse", "not a JSON object"),
    ("wrong-types", "BadServerResponse", "not a string"),
    ("huge", "ServerUnreachable", "larger than any"),
    ("reset", "ServerUnreachable", ""),
    ("drip", "ServerUnreachable", "timed out"),
    ("wrong-content-type", "BadServerResponse", "text/html"),
])
def test_activation_against_a_failing_server(online, mode, error, words):
    online.server.mode = mode
    name, msg = dbus_error(online.client.manager.Activate, PRODUCT, KEY, False)
    assert name == f"org.licensed.License1.Error.{error}", (name, msg)
    assert words in msg
    assert licenses_dir(online) == {}
    assert online.client.check(PRODUCT, "reports") == (False, "not-installed")


def test_connection_refused(online):
    online.server.stop()
    name, msg = dbus_error(online.client.manager.Activate, PRODUCT, KEY, False)
    assert name == "org.licensed.License1.Error.ServerUnreachable" and "Could not reach" in msg


def test_libcurl_is_loaded_at_the_first_request(online):
    """licensed starts and answers without libcurl; the first request loads
    it, and a libcurl.so.4 that is not libcurl is named, not crashed on."""
    online.daemon.stop()
    fake = os.path.join(BUILD, "tests", "integration", "fakecurl")
    online.daemon = Daemon(online.bus, str(online.tmp / "state"), str(online.tmp / "products"),
                           config=online.conf, extra_env={"LD_LIBRARY_PATH": fake})
    maps = open(f"/proc/{online.daemon.proc.pid}/maps").read()
    assert "libcurl" not in maps
    assert online.client.check(PRODUCT, "reports") == (False, "not-installed")
    name, msg = dbus_error(online.client.manager.Activate, PRODUCT, KEY, False)
    assert "shared library" in msg
    assert "libcurl.so.4 has no curl_global_init" in online.daemon.read_log()


def test_wrong_signature_machine_or_nonce_is_refused(online, vendor, tmp_path):
    m = online.client.manager
    mid, dk = str(online.client.props()["MachineId"]), str(online.client.props()["DeviceKey"])
    vendor("keygen", "--output", str(tmp_path / "rogue"))
    rogue = tmp_path / "rogue.lic"
    other = tmp_path / "other.lic"
    old = tmp_path / "old.lic"
    base = ["--id", "srv-1", "--product", PRODUCT, "--licensee", "X", "--feature", "reports"]
    # an old nonce: answer a request that a newer one replaced
    req, _ = m.RequestOfflineActivation(PRODUCT, KEY, False)
    m.RequestOfflineActivation(PRODUCT, KEY, False)
    vendor("answer", "--signing-key", online.signing_key, "--request", "-", "--id", "srv-1", "--licensee", "X",
           "--feature", "reports", "--output", str(old), input=str(req))
    vendor("issue", "--signing-key", str(tmp_path / "rogue.key"), *base, "--machine-id", mid, "--device-key", dk,
           "--output", str(rogue))
    vendor("issue", "--signing-key", online.signing_key, *base, "--machine-id", "e" * 32, "--device-key", dk,
           "--output", str(other))
    online.server.altered = {"rogue-signature": rogue.read_text(), "other-machine": other.read_text(),
                             "old-nonce": old.read_text()}
    for mode, error in [("rogue-signature", "UntrustedKey"), ("other-machine", "WrongMachine"),
                        ("old-nonce", "NonceMismatch")]:
        online.server.mode = mode
        name, msg = dbus_error(m.Activate, PRODUCT, KEY, False)
        assert name == f"org.licensed.License1.Error.{error}", (mode, name, msg)
        assert licenses_dir(online) == {}

    # the same answers at validation, as an "upgrade" beside a good receipt:
    # the validation fails, saying why, and the stored license is untouched
    online.server.mode = "good"
    m.Activate(PRODUCT, KEY, False, timeout=30)
    before = licenses_dir(online)
    for mode, words in [("rogue-signature", "trust"), ("other-machine", "machine"), ("old-nonce", "")]:
        online.server.mode = mode
        (lid, outcome, message), = [tuple(str(x) for x in r) for r in m.Validate("srv-1", False, timeout=30)]
        assert outcome == "failed", (mode, outcome, message)
        assert words in message.lower(), (mode, message)
        after = licenses_dir(online)
        # the license is untouched; its state only records the failed attempt
        assert after["srv-1.lic"] == before["srv-1.lic"], mode
        last_ok = [l for l in before["srv-1.state"].splitlines() if l.startswith("last-validation:")]
        assert last_ok and last_ok[0] in after["srv-1.state"].splitlines(), (mode, after["srv-1.state"])
        assert online.client.check(PRODUCT, "reports") == (True, "licensed")


def test_online_activation_keeps_a_pending_offline_request(online, vendor, tmp_path):
    """Trying online must not cancel an offline request already on its way
    to the vendor; activating again on the same machine is fine."""
    m = online.client.manager
    req, _ = m.RequestOfflineActivation(PRODUCT, KEY, False)
    online.server.mode = "500"
    dbus_error(m.Activate, PRODUCT, KEY, False)
    lic = tmp_path / "offline.lic"
    vendor("answer", "--signing-key", online.signing_key, "--request", "-", "--id", "srv-1", "--licensee", "X",
           "--feature", "reports", "--output", str(lic), input=str(req))
    m.InstallLicense(lic.read_text(), False)
    online.server.mode = "good"
    m.Activate(PRODUCT, KEY, False, timeout=30)  # same id and revision, fresh answer: replaces
    assert online.client.check(PRODUCT, "reports") == (True, "licensed")
    assert str(online.client.license_props("srv-1")["Licensee"]) == "Fake Ltd"


def test_licenses_needing_no_validation_are_not_sent(online, vendor):
    m = online.client.manager
    online.server.extra_answer_args = ["--validation-interval", "0"]
    m.Activate(PRODUCT, KEY, False, timeout=30)
    n = len(online.server.requests)
    results = [(str(a), str(b)) for a, b, _ in m.Validate("", False, timeout=30)]
    assert results == [("srv-1", "skipped")]
    assert len(online.server.requests) == n


def test_validation_failure_keeps_the_license_and_grace(online):
    m = online.client.manager
    m.Activate(PRODUCT, KEY, False, timeout=30)
    before = licenses_dir(online)["srv-1.lic"]
    for mode in ("500", "garbage", "wrong-types", "reset", "wrong-content-type"):
        online.server.mode = mode
        results = m.Validate("srv-1", False, timeout=60)
        assert [str(r[1]) for r in results] == ["failed"], (mode, results)
        assert licenses_dir(online)["srv-1.lic"] == before
        assert online.client.check(PRODUCT, "reports") == (True, "licensed")
    online.server.stop()
    results = m.Validate("", False, timeout=60)
    assert str(results[0][1]) == "failed" and "Could not reach" in str(results[0][2])
    log = online.daemon.read_log()
    assert "a3a121cd96be44088571fa0a4e1bd943" in log  # validation failed event


def test_server_down_when_validation_is_due_starts_grace(online):
    """With the validation due (interval 2 s here) and the server gone, the
    license is in its grace period: still licensed, reason grace, with the
    end of grace (14 days after the last success) in the answer."""
    m = online.client.manager
    online.server.extra_answer_args = ["--validation-interval", "2s"]
    m.Activate(PRODUCT, KEY, False, timeout=30)
    assert online.client.check(PRODUCT, "reports") == (True, "licensed")
    online.server.stop()
    time.sleep(2.5)
    results = m.Validate("srv-1", False, timeout=60)
    assert str(results[0][1]) == "failed" and "grace" in str(results[0][2]), results
    licensed, reason, expires, grace_end = m.CheckFeature(PRODUCT, "reports", 0)
    assert (bool(licensed), str(reason)) == (True, "grace")
    last = int(online.client.license_props("srv-1")["LastValidation"])
    assert int(grace_end) == last + 14 * 86400 * 10**6, (grace_end, last)
    assert "cddf6b16aa9d47948995de783b8423c3" in online.daemon.read_log()  # grace entered event


def test_transient_failures_are_retried(online):
    m = online.client.manager
    m.Activate(PRODUCT, KEY, False, timeout=30)
    online.server.mode = "500"
    n = len(online.server.requests)
    results = m.Validate("srv-1", False, timeout=60)
    assert str(results[0][1]) == "failed"
    assert len(online.server.requests) - n == 3  # three attempts
    # backing off: the second attempt after about 2 s, the third 6 s later
    gaps = [b - a for a, b in zip(online.server.times[n:], online.server.times[n + 1:])]
    assert 1.8 <= gaps[0] <= 4 and 5.5 <= gaps[1] <= 9, gaps


def test_a_stalled_server_does_not_block_the_bus(online, tmp_path):
    """While a validation waits 30 s on a stalled server, CheckFeature keeps
    answering at once."""
    with open(online.conf, "w") as f:
        f.write('idle_timeout = 0;\nhttp_timeout = "40s";\n')
    online.daemon.restart()
    m = online.client.manager
    m.Activate(PRODUCT, KEY, False, timeout=30)
    online.server.mode = "stall"
    online.server.stall_seconds = 30
    conn = online.bus.connect()
    result = {}

    def validate():
        mm = dbus.Interface(conn.get_object("org.licensed.License1", "/org/licensed/License1"),
                            "org.licensed.License1.Manager")
        result["r"] = mm.Validate("srv-1", False, timeout=120)

    t = threading.Thread(target=validate)
    t0 = time.monotonic()
    t.start()
    time.sleep(1)
    worst = 0.0
    calls = 0
    while time.monotonic() - t0 < 29:
        s = time.monotonic()
        assert online.client.check(PRODUCT, "reports") == (True, "licensed")
        worst = max(worst, time.monotonic() - s)
        calls += 1
        time.sleep(0.05)
    t.join(120)
    assert "r" in result
    print(f"CheckFeature during a 30 s stall: {calls} calls, worst {worst * 1000:.1f} ms")
    assert worst < 0.5, f"CheckFeature took {worst:.3f} s while the server stalled"



def test_proxy_from_the_configuration(online, tmp_path):
    """proxy = "..." in licensed.conf: requests go through it (here the fake
    server acting as an HTTP proxy) to a server name only the proxy could
    reach; the environment's http_proxy is ignored."""
    products = str(tmp_path / "products-proxied")
    write_product(products, PRODUCT, online.public_key, server_url="http://licensing.invalid")
    online.daemon.stop()
    with open(online.conf, "w") as f:
        f.write(f'idle_timeout = 0;\nhttp_timeout = "4s";\nproxy = "{online.server.url}";\n')
    online.daemon.products_dir = products
    online.daemon.start()
    client = Client(online.bus)
    client.manager.Activate(PRODUCT, KEY, False, timeout=30)
    assert online.server.proxied == ["http://licensing.invalid/v1/activate"]
    assert client.check(PRODUCT, "reports") == (True, "licensed")
    # without the setting, the name does not resolve: no hidden proxy from the environment
    online.daemon.stop()
    with open(online.conf, "w") as f:
        f.write('idle_timeout = 0;\nhttp_timeout = "4s";\n')
    online.daemon.extra_env = dict(online.daemon.extra_env or {}, http_proxy=online.server.url,
                                   HTTP_PROXY=online.server.url, all_proxy=online.server.url)
    online.daemon.start()
    client = Client(online.bus)
    (lid, outcome, message), = [tuple(str(x) for x in r) for r in client.manager.Validate("", False, timeout=60)]
    assert outcome == "failed" and "licensing.invalid" in message, message
    assert len(online.server.proxied) == 1
