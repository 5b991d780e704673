# SPDX-License-Identifier: LGPL-2.1-or-later
"""Real parts on loopback for the integration tier: a private dbus-daemon,
python-dbusmock's polkitd on it, and licensed from the build tree. Every
process started here is stopped by its PID."""
import os
import re
import signal
import subprocess
import time

import dbus

from conftest import BUILD, SOURCE, binary, run

BUS_CONF = os.path.join(SOURCE, "tests", "integration", "data", "bus.conf")
SERVICE = "org.licensed.License1"
MANAGER_PATH = "/org/licensed/License1"
MANAGER = "org.licensed.License1.Manager"
LICENSE = "org.licensed.License1.License"
PY = "/usr/bin/python3"


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


def stop(proc, timeout=10):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


class Bus:
    """A private bus. With service_dir, it activates services from there
    (as the system bus does with dbus/org.licensed.License1.service)."""

    def __init__(self, tmp, service_dir=None):
        conf = BUS_CONF
        if service_dir:
            # A session-type bus activates by exec'ing directly; a system-type
            # one would need the setuid launch helper.
            with open(BUS_CONF) as f:
                text = f.read()
            text = text.replace("<type>system</type>", f"<type>session</type>\n  <servicedir>{service_dir}</servicedir>")
            conf = os.path.join(tmp, "bus-activation.conf")
            with open(conf, "w") as f:
                f.write(text)
        self.proc = subprocess.Popen(["dbus-daemon", "--config-file", conf, "--nofork", "--print-address=1"],
                                     stdout=subprocess.PIPE, text=True)
        self.address = self.proc.stdout.readline().strip()
        if not self.address:
            stop(self.proc)
            raise RuntimeError("dbus-daemon did not start")

    def connect(self):
        return dbus.bus.BusConnection(self.address)

    def stop(self):
        stop(self.proc)


class Polkit:
    """python-dbusmock's polkitd template on the private bus."""

    def __init__(self, bus):
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address)
        self.proc = subprocess.Popen([PY, "-m", "dbusmock", "--system", "--template", "polkitd"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        conn = bus.connect()
        wait_for(lambda: conn.name_has_owner("org.freedesktop.PolicyKit1"), what="mock polkitd")
        self.mock = dbus.Interface(conn.get_object("org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority"),
                                   "org.freedesktop.DBus.Mock")

    def allow(self, *verbs):
        self.mock.SetAllowed(dbus.Array([f"org.licensed.License1.{v}" for v in verbs], signature="s"))

    def stop(self):
        stop(self.proc)


class Daemon:
    """licensed from the build tree, on the private bus."""

    def __init__(self, bus, state_dir, products_dir, config=None, extra_env=None):
        self.bus = bus
        self.state_dir = state_dir
        self.products_dir = products_dir
        self.config = config or state_dir + ".conf"
        if not config:
            # Tests stop the daemon themselves; idle exit has its own test.
            with open(self.config, "w") as f:
                f.write("idle_timeout = 0;\n")
        self.runtime_dir = state_dir + ".run"  # never the host's /run/licensed
        self.log_path = state_dir + ".log"
        self.extra_env = extra_env or {}
        self.proc = None
        self.start()

    def start(self):
        args = [binary("licensed"), f"--bus-address={self.bus.address}", f"--state-dir={self.state_dir}",
                f"--products-dir={self.products_dir}", f"--config={self.config}",
                f"--runtime-dir={self.runtime_dir}"]
        wrapper = os.environ.get("LICENSED_DAEMON_WRAPPER")  # e.g. valgrind
        if wrapper:
            args = wrapper.split() + args
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, **self.extra_env))
        conn = self.bus.connect()
        wait_for(lambda: conn.name_has_owner(SERVICE) or self.proc.poll() is not None, timeout=30,
                 what="licensed on the bus")
        if self.proc.poll() is not None:
            raise RuntimeError(f"licensed exited with {self.proc.returncode}:\n{self.read_log()}")
        conn.close()

    def stop(self):
        """Stops licensed by SIGTERM and insists on a clean exit: under
        ASan/UBSan/valgrind a finding makes the test fail, not just a log."""
        if not self.proc:
            return
        stop(self.proc)
        code = self.proc.returncode
        self.log.close()
        self.proc = None
        log = self.read_log()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                       "ERROR SUMMARY: [1-9]", "definitely lost: [1-9]"):
            if re.search(marker, log):
                raise AssertionError(f"licensed reported '{marker}':\n{log[-6000:]}")
        if code != 0:
            raise AssertionError(f"licensed exited with {code} on SIGTERM:\n{log[-3000:]}")

    def kill(self):
        self.proc.kill()
        self.proc.wait(10)
        self.log.close()
        self.proc = None

    def restart(self):
        self.stop()
        conn = self.bus.connect()
        wait_for(lambda: not conn.name_has_owner(SERVICE), what="the name to be released")
        self.start()

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()


class Client:
    """Calls the daemon with dbus-python, as root (the test process)."""

    def __init__(self, bus):
        self.conn = bus.connect()

    @property
    def manager(self):
        return dbus.Interface(self.conn.get_object(SERVICE, MANAGER_PATH), MANAGER)

    def props(self, path=MANAGER_PATH, iface=MANAGER):
        return self.conn.get_object(SERVICE, path).GetAll(iface, dbus_interface="org.freedesktop.DBus.Properties")

    def license_props(self, lid):
        return self.props(self.manager.GetLicense(lid), LICENSE)

    def seats_in_use(self, lid, feature):
        """The in_use column of the license's Features property."""
        feats = {str(f[0]): f for f in self.license_props(lid)["Features"]}
        return int(feats[feature][6])

    def check(self, product, feature, release=0):
        licensed, reason, expires, grace_end = self.manager.CheckFeature(product, feature, dbus.UInt64(release))
        return bool(licensed), str(reason)


CALL_AS_SCRIPT = r"""
import dbus, json, sys
address, method, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
conn = dbus.bus.BusConnection(address)
m = dbus.Interface(conn.get_object("org.licensed.License1", "/org/licensed/License1"), "org.licensed.License1.Manager")
try:
    r = getattr(m, method)(*args)
    print(json.dumps({"ok": True, "result": json.loads(json.dumps(r, default=str))}))
except dbus.exceptions.DBusException as e:
    print(json.dumps({"ok": False, "name": e.get_dbus_name(), "message": e.get_dbus_message()}))
"""


def call_as(user, address, method, *args):
    """Calls a Manager method as another user (to exercise polkit with a
    non-root caller). Returns a dict: ok, and result or name + message."""
    import grp
    import json
    import pwd
    group = grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name
    p = run(["setpriv", f"--reuid={user}", f"--regid={group}", "--clear-groups", PY, "-c", CALL_AS_SCRIPT, address,
             method, json.dumps(list(args))])
    return json.loads(p.stdout)
