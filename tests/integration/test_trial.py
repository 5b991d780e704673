# SPDX-License-Identifier: LGPL-2.1-or-later
"""Verified trials and the deactivation_requires_maintenance policy, with
the real parts on loopback (licensed-server on SQLite and PostgreSQL,
licensed, licensectl, licensed-vendor): a trial once per machine and
product, also after the daemon's state was wiped, and by the hardware id
also after a reinstall (a new machine id); offline through the page's
route; its end under libfaketime on the daemon only; and a
deactivation refused when maintenance is over, naming the date, while the
vendor's release of a lost machine still works."""
import hashlib
import hmac
import json
import os
import shutil

import pytest

from conftest import binary, db_sql, run, write_product
from licensed_server import LicensedServer
from test_end_to_end import Machine
from test_server import db  # noqa: F401 (the fixture: SQLite and PostgreSQL)
from test_time import faked

PRODUCT = "com.example.app"


@pytest.fixture
def world(tmp_path, vendor_keys, vendor, db):
    server = LicensedServer(db, vendor_keys[0])
    products = str(tmp_path / "products")
    write_product(products, PRODUCT, vendor_keys[1], server_url=server.url)
    conf = str(tmp_path / "licensed.conf")
    with open(conf, "w") as f:
        f.write('idle_timeout = 0;\nhttp_timeout = "10s";\n')
    w = type("World", (), {})()
    w.db, w.server, w.tmp, w.vendor = db, server, tmp_path, vendor
    w.machine = Machine(tmp_path, "a", products, conf)
    try:
        yield w
    finally:
        w.machine.stop()
        server.stop()


def offer(w, *extra):
    return w.vendor("entitlement", "create", "--db", w.db, "--product", PRODUCT, "--licensee", "Trial",
                    "--type", "trial", "--trial-days", "14", "--seats", "100", "--feature", "reports",
                    *extra).stdout.strip()


def test_trial_once_per_machine_even_after_wiping_the_state(world):
    m = world.machine
    p = m.ctl("trial", PRODUCT, check=False)
    assert p.returncode == 4 and f"{PRODUCT} has no trial on this server" in p.stderr, p.stderr

    key = offer(world)
    shown = json.loads(world.vendor("--json", "entitlement", "show", "--db", world.db, "--key", key).stdout)
    assert shown["trial_days"] == 14 and shown["type"] == "trial"

    out = m.ctl("trial", PRODUCT).stdout
    assert "Started the trial with license" in out and "trial" in out, out
    assert m.ctl("check", PRODUCT, "reports").returncode == 0
    lid = json.loads(m.ctl("--json", "list").stdout)[0]["id"]
    assert json.loads(m.ctl("--json", "show", lid).stdout)["type"] == "trial"
    shown = m.ctl("show", lid).stdout
    assert "14 days left" in shown or "13 days left" in shown, shown
    # the same days in the JSON of status and show
    (row,) = status_json(world)["licenses"]
    assert row["id"] == lid and row["trial_days_left"] in (13, 14), row
    assert json.loads(m.ctl("--json", "show", lid).stdout)["trial_days_left"] == row["trial_days_left"]

    # a second trial: refused, naming when the first started
    p = m.ctl("trial", PRODUCT, check=False)
    assert p.returncode == 4, p.stderr
    assert "had its trial of com.example.app already: it started on 20" in p.stderr, p.stderr

    # the daemon's state wiped (a new device key): still the same machine
    m.daemon.stop()
    shutil.rmtree(m.daemon.state_dir)
    m.daemon.start()
    assert m.ctl("check", PRODUCT, "reports", check=False).returncode == 1
    p = m.ctl("trial", PRODUCT, check=False)
    assert p.returncode == 4 and "had its trial" in p.stderr, p.stderr
    assert m.ctl("check", PRODUCT, "reports", check=False).returncode == 1

    # one trial row, one activation of the offer
    acts = json.loads(world.vendor("--json", "activations", "--db", world.db, "--key", key).stdout)
    assert len(acts) == 1
    # the offer's key is no customer's key: activating with it would skip the rule
    p = m.ctl("activate", key, check=False)
    assert p.returncode == 4 and "is not known to this server" in p.stderr, p.stderr


def status_json(w, offset=None):
    """licensectl --json status, its clock moved by offset (libfaketime)."""
    env = {**os.environ, **faked(offset)} if offset else None
    return json.loads(run([binary("licensectl"), f"--bus-address={w.machine.bus.address}", "--no-pager",
                           "--json", "status"], env=env).stdout)


def test_trial_ends_after_its_days(world):
    offer(world, "--validation-interval", "30d")  # no grace on the way: the trial's end alone
    m = world.machine
    m.ctl("trial", PRODUCT)
    assert m.ctl("check", PRODUCT, "reports").returncode == 0
    # the daemon only lives 13 days on: the trial warns, then 15: it is over
    m.daemon.stop()
    m.daemon.extra_env = faked("+13d")
    m.daemon.start()
    assert m.ctl("check", PRODUCT, "reports").returncode == 0
    assert "the trial ends in 1 day;" in m.daemon.read_log()
    assert status_json(world, "+13d")["licenses"][0]["trial_days_left"] == 1
    m.daemon.stop()
    m.daemon.extra_env = faked("+15d")
    m.daemon.start()
    p = m.ctl("check", PRODUCT, "reports", check=False)
    assert p.returncode == 1 and "expired" in p.stdout, p.stdout
    # over: 0 days left, as the plain status's "ended"
    assert status_json(world, "+15d")["licenses"][0]["trial_days_left"] == 0
    assert "com.example.app, ended (license" in run(
        [binary("licensectl"), f"--bus-address={m.bus.address}", "--no-pager", "status"],
        env={**os.environ, **faked("+15d")}).stdout


def test_offline_trial_through_the_page(world):
    offer(world)
    m = world.machine
    req = world.tmp / "trial.req"
    m.ctl("trial", "--offline", "--qr=never", "--output", str(req), PRODUCT)
    text = req.read_text()
    assert "BEGIN LICENSED TRIAL REQUEST" in text
    # pasted on the page as an activation: told what it is
    r = world.server.post("/v1/offline", {"kind": "activation", "request": text})
    assert r.status == 400 and "This is a trial request; use Offline trial." in r.error[1]
    r = world.server.post("/v1/offline", {"kind": "trial", "request": text})
    assert r.status == 200, r.body
    lic = world.tmp / "trial.lic"
    lic.write_text(r.json["license"])
    m.ctl("install", str(lic))
    assert m.ctl("check", PRODUCT, "reports").returncode == 0
    # the same rule offline: a second request from this machine is refused
    m.ctl("trial", "--offline", "--qr=never", "--output", str(req), PRODUCT)
    r = world.server.post("/v1/offline", {"kind": "trial", "request": req.read_text()})
    assert r.status == 409 and r.error[0] == "trial-used"


def test_deactivation_requires_maintenance(world):
    v = world.vendor
    key = v("entitlement", "create", "--db", world.db, "--product", PRODUCT, "--licensee", "Policy Ltd",
            "--feature", "reports", "--maintenance-until", "2026-03-01T00:00:00Z",
            "--deactivation-requires-maintenance").stdout.strip()
    assert "deactivation requires maintenance" in v("entitlement", "show", "--db", world.db, "--key", key).stdout
    m = world.machine
    m.ctl("activate", key)
    lid = json.loads(m.ctl("--json", "list").stdout)[0]["id"]
    # no trial: no days left in the JSON
    assert status_json(world)["licenses"][0]["trial_days_left"] is None
    assert json.loads(m.ctl("--json", "show", lid).stdout)["trial_days_left"] is None

    # online: refused, naming the date; the license stays
    p = m.ctl("deactivate", lid, check=False)
    assert p.returncode == 4, p.stderr
    assert "Deactivation needs active maintenance; it ended on 2026-03-01." in p.stderr, p.stderr
    assert "--offline" not in p.stderr
    assert m.ctl("check", PRODUCT, "reports").returncode == 0

    # offline: the proof is refused by the page and by release --proof
    proof = world.tmp / "proof"
    m.ctl("deactivate", "--offline", "--qr=never", "--output", str(proof), lid)
    r = world.server.post("/v1/offline", {"kind": "deactivation", "request": proof.read_text()})
    assert r.status == 403 and r.error == ("maintenance-expired",
                                             "Deactivation needs active maintenance; it ended on 2026-03-01.")
    p = v("release", "--db", world.db, "--key", key, "--proof", str(proof), check=False)
    assert p.returncode != 0 and "it ended on 2026-03-01" in p.stderr, p.stderr
    acts = json.loads(v("--json", "activations", "--db", world.db, "--key", key).stdout)
    assert acts[0]["active"] is True

    # the vendor's release of a lost machine is not bound by it
    v("release", "--db", world.db, "--key", key, "--machine-id", acts[0]["machine_id"])
    acts = json.loads(v("--json", "activations", "--db", world.db, "--key", key).stdout)
    assert acts[0]["active"] is False

    # with maintenance renewed, the machine's own deactivation works again
    v("upgrade", "--db", world.db, "--key", key, "--maintenance-until", "2099-01-01T00:00:00Z")
    m.ctl("activate", key)
    lid = json.loads(m.ctl("--json", "list").stdout)[0]["id"]
    m.ctl("deactivate", lid)
    assert m.ctl("check", PRODUCT, "reports", check=False).returncode == 1
    # and the policy can be lifted
    v("upgrade", "--db", world.db, "--key", key, "--deactivation-requires-maintenance=no")
    assert json.loads(v("--json", "entitlement", "show", "--db", world.db, "--key",
                        key).stdout)["deactivation_requires_maintenance"] is False


def test_offline_trial_in_chromium(world, request):
    """The page's Trial tab, opened from the link that carries the request
    (as licensectl prints it and its QR code holds), answers with the trial
    license; the same machine's second request is refused with the
    sentence naming when its trial started."""
    if request.node.callspec.params["db"] != "sqlite":
        pytest.skip("the page does not depend on the backend")
    from machine import request_url
    from test_server import Browser, open_page, submit

    offer(world)
    m = world.machine
    req = world.tmp / "trial.req"
    m.ctl("trial", "--offline", "--qr=never", "--output", str(req), PRODUCT)
    page = world.server.url + "/offline"
    browser = Browser(str(world.tmp))
    try:
        for domain in ("Page", "Network", "Log", "Runtime"):
            browser.call(f"{domain}.enable")
        state = open_page(browser, request_url(page, req.read_text()))
        assert state["title"] == "Offline trial" and state["kind"] == "This is a trial request.", state
        state = submit(browser)
        assert state["result"] and state["resultTitle"] == "Your trial license", state
        lic = world.tmp / state["download"]
        lic.write_text(state["license"])
        m.ctl("install", str(lic))
        assert m.ctl("check", PRODUCT, "reports").returncode == 0

        m.ctl("trial", "--offline", "--qr=never", "--output", str(req), PRODUCT)
        state = open_page(browser, request_url(page, req.read_text()))
        state = submit(browser)
        assert state["error"].startswith("No trial: this machine had its trial of com.example.app already"), state
    finally:
        browser.close()


def test_policies_through_the_admin_api(world):
    """The admin API sets and checks both: a trial offer needs the trial
    type and no not_after; a release by proof obeys the deactivation policy,
    a release by machine id does not."""
    from test_admin_api import Admin, make_token

    admin = Admin(world.server, make_token(world.vendor, world.db, "write", "shop"))
    base = {"product": PRODUCT, "licensee": "API Ltd", "features": ["reports"]}
    r = admin.post("/v1/admin/entitlements", {**base, "trial_days": 30})
    assert r.status == 400 and "must have the type trial, not perpetual" in r.error[1], r.body
    r = admin.post("/v1/admin/entitlements", {**base, "type": "trial", "trial_days": 30,
                                              "not_after": "2030-01-01T00:00:00Z"})
    assert r.status == 400 and "a trial offer has no \"not_after\"" in r.error[1], r.body
    r = admin.post("/v1/admin/entitlements", {**base, "trial_days": 0, "type": "trial"})
    assert r.status == 400 and "\"trial_days\" must be a whole number from 1 to 3650" in r.error[1], r.body
    r = admin.post("/v1/admin/entitlements", {**base, "deactivation_requires_maintenance": "yes"})
    assert r.status == 400 and "must be true or false" in r.error[1], r.body

    r = admin.post("/v1/admin/entitlements", {**base, "maintenance_until": "2026-03-01T00:00:00Z",
                                              "deactivation_requires_maintenance": True})
    assert r.status == 201 and r.json["deactivation_requires_maintenance"] is True, r.body
    assert r.json["trial_days"] == 0
    key = r.json["license_key"]
    m = world.machine
    m.ctl("activate", key)
    lid = json.loads(m.ctl("--json", "list").stdout)[0]["id"]
    proof = world.tmp / "proof"
    m.ctl("deactivate", "--offline", "--qr=never", "--output", str(proof), lid)
    r = admin.post(f"/v1/admin/entitlements/{key}/release", {"proof": proof.read_text()})
    assert r.status == 403 and r.error == ("maintenance-expired",
                                           "Deactivation needs active maintenance; it ended on 2026-03-01."), r.body
    r = admin.post(f"/v1/admin/entitlements/{key}/upgrade", {"deactivation_requires_maintenance": False})
    assert r.status == 200 and r.json["deactivation_requires_maintenance"] is False, r.body
    # lifted: the same proof (its nonce was not used up) frees the seat now
    r = admin.post(f"/v1/admin/entitlements/{key}/release", {"proof": proof.read_text()})
    assert r.status == 200 and r.json["released"] == 1, r.body


TRIAL_RESET_EVENT = "dd9b39d05f764fa79db54b6d736f0c7e"


def test_vendor_resets_a_machines_trial(world):
    """licensed-vendor trial reset (a support case): through the admin API
    with a journal event, and on the database; the machine then starts a
    trial again, which runs its full days from the new start."""
    from test_admin_api import make_token

    key = offer(world)
    m = world.machine
    m.ctl("trial", PRODUCT)
    mid = status_json(world)["machine_id"]
    (row,) = trial_rows(world)
    assert row[0] == mid, (row, mid)

    def reset(*args, check=False):
        return world.vendor("trial", "reset", "--db", world.db, *args, check=check)

    # bad input, each a sentence; nothing changes
    for args, message in (((PRODUCT,), "--machine-id ID or --hardware-id ID is required (or both)"),
                          (("--machine-id", mid), "PRODUCT is required"),
                          ((PRODUCT, "--machine-id", "XYZ"), '"machine_id" must be 32 lower-case hex digits'),
                          ((PRODUCT, "--hardware-id", mid.upper()), '"hardware_id" must be 32 lower-case hex'),
                          (("No Such/Product", "--machine-id", mid), '"product" is not a product id'),
                          ((PRODUCT, "--machine-id", "0" * 32),
                           f"no trial of {PRODUCT} was started with the machine id {'0' * 32} (a machine "
                           "refused after a reinstall is found by its hardware id)"),
                          (("com.other.tool", "--machine-id", mid),
                           f"no trial of com.other.tool was started with the machine id {mid}")):
        p = reset(*args)
        assert p.returncode != 0 and message in p.stderr, (args, p.stderr)
    assert len(trial_rows(world)) == 1
    assert m.ctl("trial", PRODUCT, check=False).returncode == 4

    # The trial began 10 days ago (as the database says): a new trial must
    # not inherit that start, it gets its full 14 days.
    db_sql(world.db, f"UPDATE activation SET activated = activated - 864000 WHERE machine_id = '{mid}'")

    # through the admin API: a write token, the event names the token and the machine
    token_file = world.tmp / "token"
    token_file.write_text(make_token(world.vendor, world.db, "write", "support") + "\n")
    remote = ["--server", world.server.url, "--token-file", str(token_file)]
    out = world.vendor("trial", "reset", *remote, PRODUCT, "--machine-id", mid).stdout
    assert out.strip() == (f"{mid}: forgot 1 trial of {PRODUCT} and freed 1 seat of its trial license; "
                           "it can start a new trial"), out
    log = world.server.read_log()
    assert f"token 'support' reset the trial of {PRODUCT} on machine id {mid}, hardware id (not given) " \
           f"(1 trial forgotten): it can start a new trial [MESSAGE_ID={TRIAL_RESET_EVENT}]" in log, log
    assert trial_rows(world) == []
    (act,) = json.loads(world.vendor("--json", "activations", "--db", world.db, "--key", key).stdout)
    assert act["released"] is not None, act
    # twice: there is nothing left to reset, a 404 through the API
    p = world.vendor("trial", "reset", *remote, PRODUCT, "--machine-id", mid, check=False)
    assert p.returncode != 0 and f"no trial of {PRODUCT} was started with the machine id {mid}" in p.stderr, \
        p.stderr

    # the machine starts its trial again, for the full days
    assert "Started the trial with license" in m.ctl("trial", PRODUCT).stdout
    assert m.ctl("check", PRODUCT, "reports").returncode == 0
    assert status_json(world)["licenses"][0]["trial_days_left"] in (13, 14)
    # and once again it is one trial: refused
    p = m.ctl("trial", PRODUCT, check=False)
    assert p.returncode == 4 and "had its trial" in p.stderr, p.stderr

    # on the database, by the machine id and a hardware id together: --json answers
    answer = json.loads(world.vendor("--json", "trial", "reset", "--db", world.db, PRODUCT, "--machine-id", mid,
                                     "--hardware-id", "f" * 32).stdout)
    assert answer == {"product": PRODUCT, "machine_id": mid, "hardware_id": "f" * 32, "trials": 1,
                      "released": 1}, answer
    assert trial_rows(world) == []


# The trial's hardware id (docs/protocol.md, "Trials"): licensed.service's
# ExecStartPre writes it into the runtime directory; here the tests write
# it there themselves, and give the daemon a machine id of its own with a
# bind mount of /etc/machine-id in a private mount namespace (as
# test_floating.py's machines), so that a "reinstall" is a new machine id
# and a wiped state directory on the same hardware.
HW1 = "11111111111111111111111111111111"
HW2 = "22222222222222222222222222222222"


def boot(w, machine_id, hardware_id, wipe=False):
    """(Re)starts the machine's licensed as if the OS had this machine id and
    the firmware gave this hardware id (None: no file; else the file's text)."""
    d = w.machine.daemon
    d.stop()
    if wipe:
        shutil.rmtree(d.state_dir)
    os.makedirs(d.runtime_dir, exist_ok=True)
    hw = os.path.join(d.runtime_dir, "hardware-id")
    if hardware_id is None:
        if os.path.exists(hw):
            os.unlink(hw)
    else:
        with open(hw, "w") as f:
            f.write(hardware_id)
    mid = str(w.tmp / "machine-id")
    with open(mid, "w") as f:
        f.write(machine_id + "\n")
    wrap = str(w.tmp / "wrap")
    with open(wrap, "w") as f:
        f.write(f"#!/bin/sh\nexec unshare -m sh -c 'mount --bind \"$0\" /etc/machine-id && exec \"$@\"' {mid} \"$@\"\n")
    os.chmod(wrap, 0o755)
    old = os.environ.get("LICENSED_DAEMON_WRAPPER")
    os.environ["LICENSED_DAEMON_WRAPPER"] = f"{wrap} {old or ''}".strip()
    try:
        d.start()
    finally:
        if old is None:
            del os.environ["LICENSED_DAEMON_WRAPPER"]
        else:
            os.environ["LICENSED_DAEMON_WRAPPER"] = old


def trial_rows(w):
    return sorted(db_sql(w.db, "SELECT machine_id, hardware_id FROM trial ORDER BY started, machine_id"))


def test_trial_once_per_hardware_even_after_a_reinstall(world):
    offer(world)
    m = world.machine
    first_mid = os.urandom(16).hex()  # /etc/machine-id's; the server sees licensed's app-specific id of it
    boot(world, first_mid, HW1 + "\n")
    assert "Started the trial with license" in m.ctl("trial", PRODUCT).stdout
    ((_, hw),) = trial_rows(world)
    assert hw == HW1

    # reinstalled: the state gone, a new /etc/machine-id, the same firmware
    boot(world, os.urandom(16).hex(), HW1 + "\n", wipe=True)
    p = m.ctl("trial", PRODUCT, check=False)
    assert p.returncode == 4 and "had its trial of com.example.app already: it started on 20" in p.stderr, \
        p.stderr
    assert m.ctl("check", PRODUCT, "reports", check=False).returncode == 1
    # the same answer offline, through the page
    req = world.tmp / "trial.req"
    m.ctl("trial", "--offline", "--qr=never", "--output", str(req), PRODUCT)
    r = world.server.post("/v1/offline", {"kind": "trial", "request": req.read_text()})
    assert r.status == 409 and r.error[0] == "trial-used", r.body
    assert len(trial_rows(world)) == 1

    # other hardware, another machine id: another machine, its own trial
    boot(world, os.urandom(16).hex(), HW2 + "\n", wipe=True)
    assert "Started the trial with license" in m.ctl("trial", PRODUCT).stdout
    assert m.ctl("check", PRODUCT, "reports").returncode == 0
    rows = trial_rows(world)
    assert len(rows) == 2 and sorted(r[1] for r in rows) == [HW1, HW2], rows

    # a malformed file is ignored with a warning: the trial goes by the
    # machine id alone, and its row has no hardware id
    boot(world, os.urandom(16).hex(), "ABCDEF0123456789ABCDEF0123456789\n", wipe=True)
    assert "Started the trial with license" in m.ctl("trial", PRODUCT).stdout
    assert "Ignoring " in m.daemon.read_log() and "hardware-id: not 32 lower-case hex digits" in m.daemon.read_log()
    rows = trial_rows(world)
    assert len(rows) == 3 and sorted(r[1] for r in rows) == ["", HW1, HW2], rows
    # the first machine id on other hardware (the disk moved over): refused
    boot(world, first_mid, "33333333333333333333333333333333\n", wipe=True)
    p = m.ctl("trial", PRODUCT, check=False)
    assert p.returncode == 4 and "had its trial" in p.stderr, p.stderr
    # no hardware id at all (no DMI): a new machine id is a new machine
    boot(world, os.urandom(16).hex(), None, wipe=True)
    assert "Started the trial with license" in m.ctl("trial", PRODUCT).stdout
    assert len(trial_rows(world)) == 4

    # support: reinstalled on the first hardware again, refused; its new
    # machine id finds no trial, the hardware id does, and after the reset
    # it starts one
    boot(world, os.urandom(16).hex(), HW1 + "\n", wipe=True)
    assert m.ctl("trial", PRODUCT, check=False).returncode == 4
    mid = status_json(world)["machine_id"]
    p = world.vendor("trial", "reset", "--db", world.db, PRODUCT, "--machine-id", mid, check=False)
    assert p.returncode != 0 and "is found by its hardware id" in p.stderr, p.stderr
    out = world.vendor("trial", "reset", "--db", world.db, PRODUCT, "--hardware-id", HW1).stdout
    assert f"{HW1}: forgot 1 trial of {PRODUCT} and freed 1 seat" in out, out
    assert "Started the trial with license" in m.ctl("trial", PRODUCT).stdout
    assert (mid, HW1) in trial_rows(world) and len(trial_rows(world)) == 4


def test_write_hardware_id(tmp_path):
    """The unit's ExecStartPre mode: the id of this machine's DMI UUID, or
    no file at all where there is none (here, perhaps: a container)."""
    out = tmp_path / "hardware-id"
    out.write_text("stale\n")
    p = run([binary("licensed"), f"--write-hardware-id={out}"])
    assert p.returncode == 0
    try:
        with open("/sys/class/dmi/id/product_uuid") as f:
            uuid = f.read().strip().lower()
    except OSError:
        uuid = None
    placeholders = ("00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
                    "03000200-0400-0500-0006-000700080009")
    if uuid is None or uuid in placeholders:
        assert not out.exists() and "No usable system UUID" in p.stdout + p.stderr
    else:
        key = bytes.fromhex("6b1e0d5fa2934c7eb8513dc409e72af6")  # LICENSED_APP_ID
        assert out.read_text() == hmac.new(key, uuid.encode(), hashlib.sha256).hexdigest()[:32] + "\n"
        assert out.stat().st_mode & 0o777 == 0o644
