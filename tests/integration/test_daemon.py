# SPDX-License-Identifier: LGPL-2.1-or-later
"""licensed over a real private bus: the offline round trip, every install
error, upgrades, deactivation and moving, polkit, restarts, damaged state."""
import os
import re
import xml.etree.ElementTree as ET

import dbus
import pytest

from conftest import SOURCE, run, write_product
from harness import LICENSE, MANAGER, MANAGER_PATH, SERVICE, Daemon, call_as
from licensing import KEY, PRODUCT, activate, answer, dbus_error, request_activation


def test_introspection_matches_the_xml(stack, vendor):
    """The XML in dbus/ is the API's source of truth: every interface,
    member, argument, property access and annotation (for example which
    properties are constant, which emit PropertiesChanged, which methods
    need privileges) is what the running daemon says."""
    activate(stack, vendor)

    def annotations(el):
        return tuple(sorted((a.get("name"), a.get("value")) for a in el.findall("annotation")))

    def interfaces(xml_text):
        root = ET.fromstring(xml_text)
        out = {}
        for iface in root.findall("interface"):
            name = iface.get("name")
            if name.startswith("org.freedesktop.DBus"):
                continue
            members = {("interface", annotations(iface))}
            for m in iface.findall("method"):
                members.add(("method", m.get("name"),
                             tuple((a.get("name"), a.get("type"), a.get("direction", "in")) for a in m.findall("arg")),
                             annotations(m)))
            for s in iface.findall("signal"):
                members.add(("signal", s.get("name"), tuple((a.get("name"), a.get("type")) for a in s.findall("arg")),
                             annotations(s)))
            for p in iface.findall("property"):
                members.add(("property", p.get("name"), p.get("type"), p.get("access"), annotations(p)))
            out[name] = members
        return out

    with open(os.path.join(SOURCE, "dbus", "org.licensed.License1.xml")) as f:
        expected = interfaces(f.read())
    conn = stack.client.conn
    live = interfaces(conn.get_object(SERVICE, MANAGER_PATH).Introspect(dbus_interface="org.freedesktop.DBus.Introspectable"))
    lic_path = stack.client.manager.GetLicense("lic-1")
    live.update(interfaces(conn.get_object(SERVICE, lic_path).Introspect(dbus_interface="org.freedesktop.DBus.Introspectable")))
    assert set(live) == set(expected)
    for name in expected:
        assert live[name] == expected[name], f"{name}: only live {live[name] - expected[name]}, only xml {expected[name] - live[name]}"
    # and busctl, as an administrator would look
    out = run(["busctl", f"--address={stack.bus.address}", "introspect", SERVICE, MANAGER_PATH]).stdout
    assert ".CheckFeature" in out and ".InstallLicense" in out


# licensectl's side of the contract -------------------------------------------
# ctl reads properties through CtlProperty tables given to ctl_get_all() and
# through sd_bus_get_property*(); both skip or fail quietly on a name or type
# licensed does not have. Read from the C source exactly, so a misspelt name,
# a wrong signature or a field of the wrong C type fails here.

CTL_FIELD_TYPES = {"s": "const char *", "o": "const char *", "u": "uint32_t", "t": "uint64_t", "b": "bool"}


def c_source(path):
    """The file without comments (strings kept: a URL holds "//")."""
    with open(path) as f:
        text = f.read()
    return re.sub(r'"(?:\\.|[^"\\\n])*"|/\*.*?\*/|//[^\n]*',
                  lambda m: m.group(0) if m.group(0).startswith('"') else " ", text, flags=re.S)


def bus_contract_names():
    with open(os.path.join(SOURCE, "util", "bus-contract.h")) as f:
        return dict(re.findall(r'^#define (\w+) "([^"]*)"$', f.read(), flags=re.M))


def c_structs(text):
    """typedef struct X {...} X; -> {X: {field: C type}}."""
    out = {}
    for name, body in re.findall(r"typedef struct (\w+) \{(.*?)\} \1;", text, flags=re.S):
        fields = {}
        for decl in body.split(";"):
            decl = " ".join(decl.split())
            if not decl:
                continue
            base, _, names = decl.partition(" ")
            while names and names.split()[0] in ("char", "int", "long", "unsigned"):  # "const char *x"
                word, _, names = names.partition(" ")
                base += " " + word
            for n in names.split(","):
                stars = n.count("*")
                fields[n.replace("*", "").strip()] = base + (" " + "*" * stars if stars else "")
        out[name] = fields
    return out


def ctl_property_reads():
    """Every property licensectl reads: (file, interface, name, signature,
    C type of the field it lands in or None)."""
    names = bus_contract_names()
    reads = []
    for fn in sorted(os.listdir(os.path.join(SOURCE, "ctl"))):
        if not fn.endswith(".c"):
            continue
        text = c_source(os.path.join(SOURCE, "ctl", fn))
        # the structs the properties land in: the file's own, or its header's
        header = os.path.join(SOURCE, "ctl", fn[:-2] + ".h")
        structs = c_structs(text + ("\n" + c_source(header) if os.path.exists(header) else ""))
        tables = {}
        for table, body in re.findall(r"static const CtlProperty (\w+)\[\] = \{(.*?)\n\};", text, flags=re.S):
            entries = re.findall(r'\{\s*"(\w+)"\s*,\s*"([^"]+)"\s*,\s*(\w+)\s*,\s*offsetof\(\s*(\w+)\s*,\s*(\w+)\s*\)\s*\}',
                                 body)
            braces = re.sub(r'"[^"]*"', '""', body).count("{")  # "a{ss}" is no entry
            assert braces == len(entries) + 1, f"{fn}: {table} has an entry this test cannot read"
            tables[table] = entries
        used = set()
        for iface, table in re.findall(r"ctl_get_all\(\s*[^,]+,\s*[^,]+,\s*(\w+)\s*,\s*(\w+)\s*,", text):
            assert iface in names and table in tables, f"{fn}: ctl_get_all(..., {iface}, {table}, ...)"
            used.add(table)
            for prop, sig, parse, struct, field in tables[table]:
                ctype = None
                if parse == "NULL":
                    assert struct in structs and field in structs[struct], f"{fn}: {struct}.{field}"
                    ctype = structs[struct][field]
                    assert ctype == CTL_FIELD_TYPES.get(sig), \
                        f"{fn}: {prop} ({sig}) is read into {struct}.{field}, a {ctype}"
                reads.append((fn, names[iface], prop, sig, ctype))
        assert used == set(tables), f"{fn}: tables no ctl_get_all() names: {set(tables) - used}"
        calls = re.findall(r"sd_bus_get_property(\w*)\(([^;]*)\)\s*[;<|&)]", text)
        assert len(calls) == text.count("sd_bus_get_property"), f"{fn}: a property read this test cannot read"
        for kind, args in calls:
            args = [a.strip() for a in args.split(",")]
            sig = {"_string": "s", "_strv": "as"}.get(kind)
            if kind == "_trivial":
                sig = args[6].strip("'")
            elif kind == "":
                sig = args[7].strip('"')
            assert sig and args[3] in names and re.fullmatch(r'"\w+"', args[4]), f"{fn}: sd_bus_get_property{kind}({args})"
            reads.append((fn, names[args[3]], args[4].strip('"'), sig, None))
    return reads


def test_ctl_reads_only_properties_the_xml_has():
    """Every property licensectl reads is in dbus/org.licensed.License1.xml
    (which the test above holds to the running daemon) with the type ctl
    reads it as."""
    root = ET.parse(os.path.join(SOURCE, "dbus", "org.licensed.License1.xml")).getroot()
    xml = {(i.get("name"), p.get("name")): p.get("type") for i in root.findall("interface")
           for p in i.findall("property")}
    reads = ctl_property_reads()
    # status (Manager), a license's properties (show, list, install) and the Id after an install
    assert {fn for fn, *_ in reads} >= {"ctl-status.c", "ctl-license.c", "ctl-bus.c"}
    assert len(reads) >= 26
    for fn, iface, name, sig, _ in reads:
        assert (iface, name) in xml, f"{fn} reads {iface}.{name}, which the XML does not have"
        assert xml[(iface, name)] == sig, f"{fn} reads {iface}.{name} as {sig}, the XML says {xml[(iface, name)]}"


def test_nothing_installed(stack):
    assert stack.client.check(PRODUCT, "reports") == (False, "not-installed")
    assert stack.client.check("com.unknown.product", "x") == (False, "not-installed")
    p = stack.client.props()
    assert p["State"] == "empty" and p["LicenseCount"] == 0
    assert len(p["MachineId"]) == 32


@pytest.mark.parametrize("product,feature", [("Bad Product", "reports"), (PRODUCT, "Bad Feature"),
                                             ("../etc", "x"), (PRODUCT, "x" * 100), ("", "")])
def test_check_feature_rejects_bad_arguments(stack, product, feature):
    name, msg = dbus_error(stack.client.manager.CheckFeature, product, feature, dbus.UInt64(0))
    assert name == "org.freedesktop.DBus.Error.InvalidArgs"
    assert "is not a" in msg


def test_offline_round_trip(stack, vendor):
    req, url = request_activation(stack)
    assert req.startswith("-----BEGIN LICENSED ACTIVATION REQUEST-----")
    assert url == "https://vendor.example/offline"
    info = vendor("check-request", "-", input=req).stdout
    assert KEY in info  # the vendor sees the full key, to look up the entitlement
    text = answer(stack, vendor, req)
    path = stack.client.manager.InstallLicense(text, False)
    assert path == "/org/licensed/License1/license/lic_2d1"
    assert stack.client.check(PRODUCT, "reports") == (True, "licensed")
    assert stack.client.check(PRODUCT, "seats") == (True, "licensed")
    assert stack.client.check(PRODUCT, "other") == (False, "not-installed")
    props = stack.client.license_props("lic-1")
    assert props["Licensee"] == "Test Ltd" and props["Status"] == "licensed"
    assert props["Key"] == "00001-*****-*****-*****-00005"
    feats = {f[0]: f for f in props["Features"]}
    assert feats["seats"][5] == 2 and feats["reports"][1]
    lst = stack.client.manager.ListLicenses()
    assert [(str(x[0]), str(x[1]), str(x[3])) for x in lst] == [("lic-1", PRODUCT, "licensed")]
    assert stack.client.props()["State"] == "ok"
    # Export gives the license back, verifiable by anyone with the public key
    exported = str(stack.client.manager.Export("lic-1"))
    assert vendor("inspect", "--public-key", stack.public_key, "-", input=exported).returncode == 0
    # and it survives a restart
    stack.daemon.restart()
    assert stack.client.check(PRODUCT, "reports") == (True, "licensed")


def test_install_same_file_twice_is_fine(stack, vendor):
    text, path = activate(stack, vendor)
    assert stack.client.manager.InstallLicense(text, False) == path


def test_text_around_the_license_is_tolerated(stack, vendor):
    req, _ = request_activation(stack)
    text = answer(stack, vendor, req)
    mail = "Hello,\r\nhere is your license:\r\n\r\n" + text.replace("\n", "\r\n") + "\r\nBest regards\r\n"
    stack.client.manager.InstallLicense(mail, False)
    assert stack.client.check(PRODUCT, "reports") == (True, "licensed")
    assert str(stack.client.manager.Export("lic-1")).startswith("-----BEGIN LICENSED LICENSE-----\nKey-Id:")


def tamper(text):
    lines = text.split("\n")
    i = next(i for i, l in enumerate(lines) if l and ":" not in l and not l.startswith("-----"))
    c = lines[i][5]
    lines[i] = lines[i][:5] + ("A" if c != "A" else "B") + lines[i][6:]
    return "\n".join(lines)


def test_install_errors_change_nothing(stack, vendor, tmp_path):
    req, _ = request_activation(stack)
    good = answer(stack, vendor, req)
    m = stack.client.manager

    # tampered
    assert dbus_error(m.InstallLicense, tamper(good), False)[0] == "org.licensed.License1.Error.BadSignature"
    # truncated and garbage
    name, msg = dbus_error(m.InstallLicense, good[:len(good) // 2], False)
    assert name == "org.licensed.License1.Error.InvalidLicense" and "truncated" in msg
    assert dbus_error(m.InstallLicense, "hello", False)[0] == "org.licensed.License1.Error.InvalidLicense"
    # a request is not a license
    name, msg = dbus_error(m.InstallLicense, req, False)
    assert "ACTIVATION REQUEST" in msg
    # signed by a key no product trusts
    vendor("keygen", "--output", str(tmp_path / "rogue"))
    rogue = tmp_path / "rogue.lic"
    vendor("answer", "--signing-key", str(tmp_path / "rogue.key"), "--request", "-", "--id", "lic-1",
           "--licensee", "X", "--feature", "reports", "--output", str(rogue), input=req)
    name, msg = dbus_error(m.InstallLicense, rogue.read_text(), False)
    assert name == "org.licensed.License1.Error.UntrustedKey"
    # not bound to a machine
    unbound = tmp_path / "unbound.lic"
    vendor("issue", "--signing-key", stack.signing_key, "--id", "u-1", "--product", PRODUCT, "--licensee", "X",
           "--output", str(unbound))
    assert dbus_error(m.InstallLicense, unbound.read_text(), False)[0] == "org.licensed.License1.Error.NotBound"
    # bound to another machine
    other = tmp_path / "other.lic"
    vendor("issue", "--signing-key", stack.signing_key, "--id", "o-1", "--product", PRODUCT, "--licensee", "X",
           "--machine-id", "f" * 32, "--device-key", "i9Yz/Evri598a63NwLaEK/QhVCNTY2Lg0oSmub/nWrI=",
           "--output", str(other))
    name, msg = dbus_error(m.InstallLicense, other.read_text(), False)
    assert name == "org.licensed.License1.Error.WrongMachine" and "f" * 32 in msg
    # huge
    name, _ = dbus_error(m.InstallLicense, "A" * (300 * 1024), False)
    assert name == "org.licensed.License1.Error.InvalidLicense"

    assert stack.client.props()["LicenseCount"] == 0
    assert os.listdir(os.path.join(stack.daemon.state_dir, "licenses")) == []
    # the good one still installs after all that
    m.InstallLicense(good, False)
    assert stack.client.check(PRODUCT, "reports") == (True, "licensed")


def test_newer_request_invalidates_older(stack, vendor):
    old_req, _ = request_activation(stack)
    new_req, _ = request_activation(stack)
    old_lic = answer(stack, vendor, old_req)
    name, msg = dbus_error(stack.client.manager.InstallLicense, old_lic, False)
    assert name == "org.licensed.License1.Error.NonceMismatch" and "newer request" in msg
    stack.client.manager.InstallLicense(answer(stack, vendor, new_req), False)
    assert stack.client.check(PRODUCT, "reports") == (True, "licensed")


def test_upgrade_with_higher_revision(stack, vendor):
    activate(stack, vendor, "--maintenance-until", "2026-06-01")
    assert stack.client.check(PRODUCT, "reports", 1790000000 * 10**6) == (False, "maintenance-expired")
    assert stack.client.check(PRODUCT, "analytics") == (False, "not-installed")
    mid = str(stack.client.props()["MachineId"])
    dk = str(stack.client.props()["DeviceKey"])
    up = stack.tmp / "up.lic"
    base = ["--signing-key", stack.signing_key, "--id", "lic-1", "--product", PRODUCT, "--licensee", "Test Ltd",
            "--machine-id", mid, "--device-key", dk, "--feature", "reports", "--feature", "analytics",
            "--maintenance-until", "2027-06-01", "--output", str(up)]
    vendor("issue", "--revision", "2", *base)
    stack.client.manager.InstallLicense(up.read_text(), False)
    assert stack.client.check(PRODUCT, "analytics") == (True, "licensed")
    assert stack.client.check(PRODUCT, "reports", 1790000000 * 10**6) == (True, "licensed")
    assert stack.client.license_props("lic-1")["Revision"] == 2
    # going back is refused
    vendor("issue", "--revision", "1", *base)
    name, _ = dbus_error(stack.client.manager.InstallLicense, up.read_text(), False)
    assert name == "org.licensed.License1.Error.StaleRevision"
    assert stack.client.license_props("lic-1")["Revision"] == 2
    # also when the older revision answers a request that is not pending
    # here: the revision is what is wrong with it (issue 16)
    vendor("issue", "--revision", "1", "--nonce", "ab" * 16, *base)
    name, msg = dbus_error(stack.client.manager.InstallLicense, up.read_text(), False)
    assert name == "org.licensed.License1.Error.StaleRevision", msg
    assert "revision 1 is not newer than the installed revision 2" in msg


def test_deactivate_and_move_to_another_machine(stack, vendor, tmp_path):
    text, _ = activate(stack, vendor)
    m = stack.client.manager
    name, msg = dbus_error(m.Deactivate, "lic-1", False, False)
    assert name == "org.licensed.License1.Error.NotSupported" and "--offline" in msg
    proof = str(m.Deactivate("lic-1", True, False))
    assert proof.startswith("-----BEGIN LICENSED DEACTIVATION PROOF-----")
    out = vendor("check-proof", "-", input=proof).stdout
    assert "lic-1" in out
    assert stack.client.check(PRODUCT, "reports") == (False, "not-installed")
    assert dbus_error(m.Export, "lic-1")[0] == "org.licensed.License1.Error.NoSuchLicense"
    assert os.path.exists(os.path.join(stack.daemon.state_dir, "deactivated", "lic-1.proof"))
    # the old license file is useless after the move, and on another machine
    name, _ = dbus_error(m.InstallLicense, text, False)
    assert name == "org.licensed.License1.Error.NonceMismatch"

    # machine B: another daemon, own state (own device key), on its own bus
    from harness import Bus, Client
    bus_b = Bus(str(tmp_path))
    daemon_b = Daemon(bus_b, str(tmp_path / "state-b"), stack.products)
    try:
        b = Client(bus_b)
        name, _ = dbus_error(b.manager.InstallLicense, text, False)
        assert name == "org.licensed.License1.Error.WrongMachine"
        req, _ = b.manager.RequestOfflineActivation(PRODUCT, KEY, False)
        lic_b = answer(stack, vendor, str(req), lid="lic-1")
        b.manager.InstallLicense(lic_b, False)
        assert b.check(PRODUCT, "reports") == (True, "licensed")
        # and B's license is of no use on A
        assert dbus_error(m.InstallLicense, lic_b, False)[0] == "org.licensed.License1.Error.WrongMachine"
    finally:
        daemon_b.stop()
        bus_b.stop()


def test_offline_validation_and_revocation(stack, vendor):
    activate(stack, vendor, "--validation-interval", "1d", "--grace-period", "14d")
    m = stack.client.manager
    before = stack.client.license_props("lic-1")["LastValidation"]
    req = str(m.RequestOfflineValidation("lic-1", False))
    assert req.startswith("-----BEGIN LICENSED VALIDATION REQUEST-----")
    receipt = vendor("receipt", "--signing-key", stack.signing_key, "--request", "-", input=req).stdout
    path = m.InstallLicense(receipt, False)
    assert str(path).endswith("lic_2d1")
    assert stack.client.license_props("lic-1")["LastValidation"] >= before
    # the same receipt again: its request was answered already
    assert dbus_error(m.InstallLicense, receipt, False)[0] == "org.licensed.License1.Error.NonceMismatch"
    # revoked
    req = str(m.RequestOfflineValidation("lic-1", False))
    revoked = vendor("receipt", "--signing-key", stack.signing_key, "--request", "-", "--revoked", input=req).stdout
    m.InstallLicense(revoked, False)
    assert stack.client.check(PRODUCT, "reports") == (False, "revoked")
    assert stack.client.license_props("lic-1")["Status"] == "revoked"
    stack.daemon.restart()
    assert stack.client.check(PRODUCT, "reports") == (False, "revoked")


def test_validate_is_honest_about_online(stack, vendor):
    activate(stack, vendor)
    results = stack.client.manager.Validate("", False)
    assert [(str(r[0]), str(r[1])) for r in results] == [("lic-1", "skipped")]
    assert dbus_error(stack.client.manager.Validate, "nope", False)[0] == "org.licensed.License1.Error.NoSuchLicense"


def test_unknown_product_and_key_errors(stack):
    m = stack.client.manager
    name, msg = dbus_error(m.RequestOfflineActivation, "com.other.app", KEY, False)
    assert name == "org.licensed.License1.Error.NoSuchProduct"
    name, msg = dbus_error(m.RequestOfflineActivation, PRODUCT, "00001-00002-0000X-00004-00005", False)
    assert name == "org.licensed.License1.Error.InvalidKey" and "group 3" in msg
    name, msg = dbus_error(m.Activate, PRODUCT, KEY, False)
    assert name == "org.licensed.License1.Error.NotSupported"
    assert dbus_error(m.GetLicense, "../../etc/passwd")[0] == "org.freedesktop.DBus.Error.InvalidArgs"


def test_polkit_denies_unprivileged_callers(stack, vendor):
    req, _ = request_activation(stack)
    text = answer(stack, vendor, req)
    addr = stack.bus.address
    # reading is open to everyone
    r = call_as("nobody", addr, "CheckFeature", PRODUCT, "reports", 0)
    assert r["ok"] and r["result"][1] == "not-installed"
    # changing is not, unless polkit says so
    r = call_as("nobody", addr, "InstallLicense", text, False)
    assert not r["ok"] and r["name"] == "org.freedesktop.DBus.Error.AccessDenied"
    assert "Not authorized for org.licensed.License1.install" in r["message"]
    r = call_as("nobody", addr, "RequestOfflineActivation", PRODUCT, KEY, False)
    assert not r["ok"] and "org.licensed.License1.activate" in r["message"]
    assert stack.client.props()["LicenseCount"] == 0
    # the denied request did not replace the pending one: the answer still installs
    stack.polkit.allow("install")
    r = call_as("nobody", addr, "InstallLicense", text, False)
    assert r["ok"], r
    assert stack.client.check(PRODUCT, "reports") == (True, "licensed")
    r = call_as("nobody", addr, "Deactivate", "lic-1", True, False)
    assert not r["ok"] and "org.licensed.License1.deactivate" in r["message"]
    assert stack.client.check(PRODUCT, "reports") == (True, "licensed")


def test_without_polkit_only_root(stack, vendor):
    stack.polkit.stop()
    r = call_as("nobody", stack.bus.address, "RequestOfflineActivation", PRODUCT, KEY, False)
    assert not r["ok"] and "polkit is not available" in r["message"]
    activate(stack, vendor)  # root still can


def test_damaged_state_is_set_aside(stack, vendor):
    activate(stack, vendor)
    activate(stack, vendor, lid="lic-2")
    lic_dir = os.path.join(stack.daemon.state_dir, "licenses")
    stack.daemon.stop()
    with open(os.path.join(lic_dir, "lic-1.state"), "w") as f:
        f.write("garbage\x01\n")
    with open(os.path.join(lic_dir, "lic-2.lic"), "r+") as f:
        t = f.read()
        f.seek(0)
        f.write(tamper(t))
    with open(os.path.join(lic_dir, "lic-3.lic.#abc123"), "w") as f:
        f.write("half-written")
    stack.daemon.start()
    # lic-1 keeps working without its state; lic-2 is quarantined, not deleted
    assert stack.client.check(PRODUCT, "reports") == (True, "licensed")
    ids = [str(x[0]) for x in stack.client.manager.ListLicenses()]
    assert ids == ["lic-1"]
    quarantine = os.listdir(os.path.join(stack.daemon.state_dir, "quarantine"))
    assert any(q.startswith("lic-2.lic.") for q in quarantine)
    assert any(q.startswith("lic-1.state.") for q in quarantine)
    assert not os.path.exists(os.path.join(lic_dir, "lic-3.lic.#abc123"))
    log = stack.daemon.read_log()
    assert "damaged" in log


def test_kill_during_operations_loses_nothing(stack, vendor):
    text, _ = activate(stack, vendor)
    stack.daemon.kill()
    stack.daemon.start()
    assert stack.client.check(PRODUCT, "reports") == (True, "licensed")


def test_signals_on_every_change(stack, vendor):
    """LicenseAdded/Removed, FeatureChanged, PropertiesChanged and the
    ObjectManager signals, as a client listening on the bus sees them."""
    from gi.repository import GLib
    from dbus.mainloop.glib import DBusGMainLoop
    import threading

    loop_conn = dbus.bus.BusConnection(stack.bus.address, mainloop=DBusGMainLoop())
    seen = []
    lock = threading.Lock()

    def record(*args, **kw):
        with lock:
            seen.append((kw["member"], [str(a) if not isinstance(a, (dbus.Array, dbus.Dictionary)) else a for a in args]))

    loop_conn.add_signal_receiver(record, sender_keyword="sender", member_keyword="member", bus_name=SERVICE)
    ctx = GLib.MainContext.default()

    def pump(until, timeout=5.0):
        import time
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ctx.iteration(False)
            with lock:
                if until(seen):
                    return
            time.sleep(0.01)
        raise AssertionError(f"signals seen: {seen}")

    pump(lambda s: True, 0.2)  # let the match rule reach the bus
    activate(stack, vendor)
    pump(lambda s: {"LicenseAdded", "InterfacesAdded", "FeatureChanged", "PropertiesChanged"} <= {m for m, _ in s})
    fc = [a for m, a in seen if m == "FeatureChanged"]
    assert [PRODUCT, "reports", "1", "licensed"] in fc
    seen.clear()
    stack.client.manager.Deactivate("lic-1", True, False)
    pump(lambda s: {"LicenseRemoved", "InterfacesRemoved", "FeatureChanged", "PropertiesChanged"} <= {m for m, _ in s})
    fc = [a for m, a in seen if m == "FeatureChanged"]
    assert [PRODUCT, "reports", "0", "not-installed"] in fc
    loop_conn.close()


def test_perpetual_license_wins_over_an_expiring_one(stack, vendor):
    """Two licenses grant the same feature: the answer is the better one, and
    'never expires' is better than any date."""
    activate(stack, vendor, "--type", "subscription", "--not-after", "2030-01-01", lid="sub-1")
    activate(stack, vendor, lid="perp-1")
    licensed, reason, expires, _ = stack.client.manager.CheckFeature(PRODUCT, "reports", dbus.UInt64(0))
    assert (bool(licensed), str(reason), int(expires)) == (True, "licensed", 0)
