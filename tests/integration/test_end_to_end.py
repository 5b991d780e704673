# SPDX-License-Identifier: LGPL-2.1-or-later
"""The whole online story with real parts on loopback: a vendor runs
licensed-server and creates a key; machines running licensed activate,
validate, get upgraded, get revoked and move their license, all with the
documented commands (licensed-vendor, licensectl). Also over HTTPS with a
test-made CA, and refused with an untrusted certificate."""
import json
import os

import pytest

from conftest import binary, run, write_product
from harness import Bus, Daemon, Polkit
from licensed_server import LicensedServer

PRODUCT = "com.example.app"


class Machine:
    """A machine: its own bus, daemon and state; licensectl against it."""

    def __init__(self, tmp, name, products, conf):
        self.bus = Bus(str(tmp))
        self.polkit = Polkit(self.bus)
        self.daemon = Daemon(self.bus, str(tmp / f"state-{name}"), products, config=conf)

    def ctl(self, *args, check=True):
        return run([binary("licensectl"), f"--bus-address={self.bus.address}", "--no-pager", "--no-ask-password",
                    *args], check=check, timeout=120)

    def stop(self):
        self.daemon.stop()
        self.polkit.stop()
        self.bus.stop()


@pytest.fixture
def world(tmp_path, vendor_keys, vendor):
    db = str(tmp_path / "vendor.db")
    server = LicensedServer(db, vendor_keys[0])
    products = str(tmp_path / "products")
    write_product(products, PRODUCT, vendor_keys[1], server_url=server.url)
    conf = str(tmp_path / "licensed.conf")
    with open(conf, "w") as f:
        f.write('idle_timeout = 0;\nhttp_timeout = "10s";\n')
    machines = []
    w = type("World", (), {})()
    w.db, w.server, w.tmp, w.vendor = db, server, tmp_path, vendor

    def machine(name):
        m = Machine(tmp_path, name, products, conf)
        machines.append(m)
        return m

    w.machine = machine
    try:
        yield w
    finally:
        for m in machines:
            m.stop()
        server.stop()


def test_online_life_of_a_license(world):
    v = world.vendor
    key = v("entitlement", "create", "--db", world.db, "--product", PRODUCT, "--licensee", "Online Ltd",
            "--seats", "1", "--feature", "reports", "--validation-interval", "1d", "--grace-period", "14d"
            ).stdout.strip()
    a = world.machine("a")

    # activate
    out = a.ctl("activate", key).stdout
    lid = json.loads(a.ctl("--json", "list").stdout)[0]["id"]
    assert a.ctl("check", PRODUCT, "reports").returncode == 0
    assert a.ctl("check", PRODUCT, "analytics", check=False).returncode == 1
    acts = json.loads(v("--json", "activations", "--db", world.db, "--key", key).stdout)
    assert len([x for x in acts if not x.get("released")]) == 1

    # the one seat is taken: a second machine is refused with a clear error
    b = world.machine("b")
    p = b.ctl("activate", key, check=False)
    assert p.returncode == 4 and "seat limit" in p.stderr, p.stderr

    # validate
    assert a.ctl("validate").returncode == 0

    # upgrade at the vendor: seen at the next validation
    v("upgrade", "--db", world.db, "--key", key, "--feature", "analytics", "--maintenance-until", "2030-01-01")
    assert a.ctl("check", PRODUCT, "analytics", check=False).returncode == 1
    a.ctl("validate")
    assert a.ctl("check", PRODUCT, "analytics").returncode == 0
    assert json.loads(a.ctl("--json", "show", lid).stdout)["revision"] >= 2

    # move: deactivate online frees the seat; b activates
    a.ctl("deactivate", lid)
    assert a.ctl("check", PRODUCT, "reports", check=False).returncode == 1
    b.ctl("activate", key)
    assert b.ctl("check", PRODUCT, "analytics").returncode == 0

    # revoke: b stops being licensed at its next validation
    v("revoke", "--db", world.db, "--key", key)
    assert b.ctl("check", PRODUCT, "reports").returncode == 0
    p = b.ctl("validate", check=False)
    assert p.returncode == 1 and "revoked" in p.stdout
    p = b.ctl("check", PRODUCT, "reports", check=False)
    assert p.returncode == 1 and "revoked" in p.stdout


def test_lost_machine_released_by_the_vendor(world):
    v = world.vendor
    key = v("entitlement", "create", "--db", world.db, "--product", PRODUCT, "--licensee", "Lost Ltd",
            "--feature", "reports").stdout.strip()
    a = world.machine("a")
    a.ctl("activate", key)
    acts = json.loads(v("--json", "activations", "--db", world.db, "--key", key).stdout)
    machine_id = acts[0]["machine_id"]
    a.stop()  # the machine is lost
    v("release", "--db", world.db, "--key", key, "--machine-id", machine_id)
    b = world.machine("b")
    b.ctl("activate", key)
    assert b.ctl("check", PRODUCT, "reports").returncode == 0


def make_ca_and_server_cert(tmp_path):
    """A test CA, and a server certificate it signs for 127.0.0.1 only (the
    chain a vendor's real CA would give)."""
    ca, ca_key = tmp_path / "ca.pem", tmp_path / "ca.key"
    cert, key, csr = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "server.csr"
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run(["openssl", "req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca), "-days", "2",
         "-subj", "/CN=licensed test CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign"])
    run(["openssl", "req", *ec, "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1"])
    ext = tmp_path / "server.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
         "-out", str(cert), "-days", "2", "-extfile", str(ext)])
    os.chmod(key, 0o600)
    return str(ca), str(cert), str(key)


def test_https_with_a_ca_file_and_refusal_without(tmp_path, vendor_keys, vendor):
    ca, cert, key = make_ca_and_server_cert(tmp_path)
    db = str(tmp_path / "vendor.db")
    server = LicensedServer(db, vendor_keys[0], extra=("--tls-cert", cert, "--tls-key", key), cafile=ca)
    products = str(tmp_path / "products")
    write_product(products, PRODUCT, vendor_keys[1], server_url=server.url)
    lkey = vendor("entitlement", "create", "--db", db, "--product", PRODUCT, "--licensee", "TLS Ltd",
                  "--feature", "reports").stdout.strip()
    machines = []
    try:
        # without the CA: the certificate is refused, nothing installed
        conf = str(tmp_path / "untrusting.conf")
        with open(conf, "w") as f:
            f.write("idle_timeout = 0;\n")
        m = Machine(tmp_path, "untrusting", products, conf)
        machines.append(m)
        p = m.ctl("activate", lkey, check=False)
        assert p.returncode == 4 and "Could not reach" in p.stderr and "certificate" in p.stderr.lower(), p.stderr
        assert json.loads(m.ctl("--json", "list").stdout) == []
        # with the CA in licensed.conf: works
        conf = str(tmp_path / "trusting.conf")
        with open(conf, "w") as f:
            f.write(f'idle_timeout = 0;\nca_file = "{ca}";\n')
        # ... but not under a name the certificate does not carry
        wrong_name = str(tmp_path / "products-localhost")
        write_product(wrong_name, PRODUCT, vendor_keys[1], server_url=server.url.replace("127.0.0.1", "localhost"))
        m3 = Machine(tmp_path, "wrong-name", wrong_name, conf)
        machines.append(m3)
        p = m3.ctl("activate", lkey, check=False)
        assert p.returncode == 4 and "Could not reach" in p.stderr, p.stderr
        assert "subject name" in p.stderr, p.stderr
        assert json.loads(m3.ctl("--json", "list").stdout) == []
        m2 = Machine(tmp_path, "trusting", products, conf)
        machines.append(m2)
        m2.ctl("activate", lkey)
        assert m2.ctl("check", PRODUCT, "reports").returncode == 0
    finally:
        for m in machines:
            m.stop()
        server.stop()


def test_the_key_finds_its_product_and_offline_is_suggested(world, vendor_keys):
    """With several products on one server, the key alone activates: the
    server answers wrong-product for the others (issue 16). Products on
    different servers are not all sent the key. A failed online activation
    ends with the exact --offline command."""
    v = world.vendor
    products = str(world.tmp / "products")
    # the same server (another path), tried before com.example.app and com.example.zzz
    write_product(products, "com.example.aaa", vendor_keys[1], server_url=world.server.url + "/")
    write_product(products, "com.example.zzz", vendor_keys[1], server_url=world.server.url)
    key = v("entitlement", "create", "--db", world.db, "--product", "com.example.zzz", "--licensee", "Zed Ltd",
            "--feature", "reports").stdout.strip()
    a = world.machine("a")
    out = a.ctl("activate", key).stdout
    assert "Activated license " in out and "Product: com.example.zzz" in out and "Features: reports" in out, out
    assert a.ctl("check", "com.example.zzz", "reports").returncode == 0
    # a key the server does not know is refused at the first product, with the server's words
    p = a.ctl("activate", v("key", "new").stdout.strip(), check=False)
    assert p.returncode == 4 and "is not known to this server" in p.stderr and "--offline" not in p.stderr
    # offline, the machine cannot ask: --product is needed
    p = a.ctl("activate", "--offline", key, check=False)
    assert p.returncode == 2 and "several products are installed: use --product (one of: com.example.aaa, " \
        "com.example.app, com.example.zzz)." in p.stderr, p.stderr

    # another vendor's server among them: the key is not sent around
    write_product(products, "com.other.tool", vendor_keys[1], server_url="http://127.0.0.1:9/")
    b = world.machine("b")
    p = b.ctl("activate", key, check=False)
    assert p.returncode == 2 and "their license servers differ, so the key is not sent to each" in p.stderr
    assert "use --product (one of: com.example.aaa, com.example.app, com.example.zzz, com.other.tool)" in p.stderr

    # the server cannot be reached: the exact offline command
    p = b.ctl("activate", "--product", "com.other.tool", key, check=False)
    assert p.returncode == 4 and "Could not reach the licensing server" in p.stderr, p.stderr
    assert p.stderr.endswith("To activate without the network, run:\n"
                             f"  licensectl activate --offline --product com.other.tool {key}\n"), p.stderr
