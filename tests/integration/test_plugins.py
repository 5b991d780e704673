# SPDX-License-Identifier: LGPL-2.1-or-later
"""liblicensed, its snapshot fast path, pam_licensed and the examples,
against licensed on a private bus."""
import datetime
import os
import shutil
import struct
import subprocess
import time

import pytest

from conftest import BUILD, SOURCE, run
from harness import PY, SERVICE, Bus, wait_for
from licensing import PRODUCT, activate

CHECK = os.path.join(BUILD, "plugin", "check-feature")
LIBRARY = os.path.join(BUILD, "plugin", "liblicensed.so.1")
PAM_MODULE = os.path.join(BUILD, "plugin", "pam_licensed.so")
EXAMPLES = os.path.join(SOURCE, "examples")

# exit codes of check-feature and of the examples
LICENSED, NOT_LICENSED, CANNOT_ASK = 0, 1, 3

# core/snapshot.h: SnapshotHeader, native byte order
# core/snapshot.h, format version 2 (docs/client-library.md)
SNAPSHOT_VERSION = 2
HEADER = struct.Struct("=8sIIIIQQQqqqQQQQQQ")
FIELDS = ("magic version header_size entry_size superseded generation size checksum written_at time_high_water "
          "clock_tolerance n_entries entries_offset index_offset n_buckets strings_offset strings_size").split()


def sanitizer_runtime():
    """The ASan runtime if this build is instrumented (build-asan): programs
    not built here (pamtester, a Makefile build) must preload it to load
    ours, and valgrind cannot run it."""
    for line in run(["ldd", LIBRARY]).stdout.splitlines():
        if "libasan" in line and "=>" in line:
            return line.split("=>")[1].split()[0]
    return None


def fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def read_header(data):
    return dict(zip(FIELDS, HEADER.unpack_from(data)))


def with_header(data, **changes):
    """The snapshot with header fields changed and the checksum made right
    again, as if the daemon had written it so."""
    h = read_header(data)
    h.update(changes, checksum=0, superseded=0)
    raw = HEADER.pack(*(h[f] for f in FIELDS)) + data[HEADER.size:]
    h["checksum"] = fnv1a(raw)
    return HEADER.pack(*(h[f] for f in FIELDS)) + data[HEADER.size:]


def parse(text):
    """check-feature's output: "key=value ..." lines, and description=SENTENCE."""
    out = {}
    for line in text.splitlines():
        if line.startswith("description="):
            out.setdefault("description", line.split("=", 1)[1])
            continue
        for word in line.split(" "):
            if "=" in word:
                k, v = word.split("=", 1)
                out.setdefault(k, v)
    return out


def check(env, product, feature, *options, wrapper=(), timeout=60):
    """Runs check-feature; returns (exit code, {key: value}, output)."""
    p = subprocess.run([*wrapper, CHECK, *options, product, feature], capture_output=True, text=True,
                       env=env, timeout=timeout)
    return p.returncode, parse(p.stdout), p.stdout + p.stderr


def utc(seconds_from_now):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds_from_now)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def lib(stack, vendor):
    """licensed with one license (reports, seats: licensed; export: its own
    term ended) and the environment that points liblicensed at it."""
    if not os.path.exists(CHECK):
        pytest.fail(f"{CHECK} is missing: build the plugin/ directory")
    activate(stack, vendor, "--feature", "export:expires=2020-01-01")
    s = type("Lib", (), {})()
    s.stack = stack
    runtime_dir = getattr(stack.daemon, "runtime_dir", None)
    s.snapshot = os.path.join(runtime_dir, "snapshot") if runtime_dir else None
    s.env = dict(os.environ, LICENSED_BUS_ADDRESS=stack.bus.address,
                 LICENSED_SNAPSHOT=s.snapshot or "", LICENSED_TIMEOUT_MS="5000")
    return s


@pytest.fixture
def snap(lib):
    """The snapshot that licensed writes in its runtime directory."""
    if not lib.snapshot:
        pytest.skip("the integration harness does not give licensed a --runtime-dir, so there is no snapshot")
    wait_for(lambda: os.path.exists(lib.snapshot), what="the snapshot")
    return lib


# -- the library over D-Bus ---------------------------------------------------


def test_daemon_answers(lib):
    code, out, text = check(lib.env, PRODUCT, "reports", "--no-snapshot")
    assert code == LICENSED, text
    assert out["reason"] == "licensed" and out["source"] == "daemon" and out["expires"] == "0"
    code, out, text = check(lib.env, PRODUCT, "export", "--no-snapshot")
    assert code == NOT_LICENSED, text
    assert out["reason"] == "feature-expired" and out["expires"] == str(1577836800 * 10**6)
    assert out["description"] == "this feature's own term has ended"
    code, out, text = check(lib.env, PRODUCT, "nothing", "--no-snapshot")
    assert (code, out["reason"]) == (NOT_LICENSED, "not-installed"), text
    code, out, text = check(lib.env, "com.unknown.product", "x")
    assert (code, out["reason"]) == (NOT_LICENSED, "not-installed"), text


@pytest.mark.parametrize("product,feature", [("Bad Product", "reports"), (PRODUCT, "Bad Feature"), ("", "x"),
                                             (PRODUCT, "x" * 100)])
def test_bad_arguments(lib, product, feature):
    code, out, text = check(lib.env, product, feature)
    assert code == CANNOT_ASK and out["error"] == "-22", text  # -EINVAL, without asking anyone


def test_daemon_absent(lib, tmp_path):
    lib.stack.daemon.stop()
    env = dict(lib.env, LICENSED_SNAPSHOT="")
    code, out, text = check(env, PRODUCT, "reports")
    assert code == CANNOT_ASK and out["error"] == "-111", text  # -ECONNREFUSED: no one owns the name
    env["LICENSED_BUS_ADDRESS"] = f"unix:path={tmp_path}/no-such-socket"
    code, out, text = check(env, PRODUCT, "reports")
    assert code == CANNOT_ASK and out["error"] == "-2", text  # -ENOENT: no bus


def test_timeout(tmp_path):
    """A daemon that never answers: -ETIMEDOUT after LICENSED_TIMEOUT_MS."""
    bus = Bus(str(tmp_path))
    mute = subprocess.Popen([PY, "-c", "import dbus, sys, time\n"
                             "c = dbus.bus.BusConnection(sys.argv[1])\n"
                             f"c.request_name('{SERVICE}')\n"
                             "print('ready', flush=True)\n"
                             "time.sleep(60)\n", bus.address], stdout=subprocess.PIPE, text=True)
    try:
        assert mute.stdout.readline().strip() == "ready"
        env = dict(os.environ, LICENSED_BUS_ADDRESS=bus.address, LICENSED_SNAPSHOT="", LICENSED_TIMEOUT_MS="300")
        start = time.monotonic()
        code, out, text = check(env, PRODUCT, "reports")
        assert code == CANNOT_ASK and out["error"] == "-110", text  # -ETIMEDOUT
        assert time.monotonic() - start < 5
    finally:
        mute.kill()
        mute.wait()
        bus.stop()


def test_threads_and_fork_agree(lib):
    for opt in ("--no-snapshot", "--snapshot-only") if lib.snapshot else ("--no-snapshot",):
        code, out, text = check(lib.env, PRODUCT, "reports", opt, "--threads=8", "--repeat=20", "--fork")
        assert code == LICENSED, text


def test_valgrind_clean(lib):
    """No leaks and no errors on every path: daemon, snapshot, not licensed,
    cannot ask, bad arguments, threads."""
    if sanitizer_runtime():
        pytest.skip("an ASan build: valgrind cannot run it, and ASan checks the same paths in the other tests")
    vg = shutil.which("valgrind")
    if not vg:
        pytest.fail("valgrind is not installed (tools/install-deps.sh installs it)")
    wrapper = (vg, "--leak-check=full", "--show-leak-kinds=definite,indirect,possible",
               "--errors-for-leak-kinds=definite,indirect,possible", "--error-exitcode=99", "--quiet")
    runs = [((PRODUCT, "reports", "--no-snapshot"), LICENSED), ((PRODUCT, "export", "--no-snapshot"), NOT_LICENSED),
            ((PRODUCT, "reports", "--no-snapshot", "--threads=4", "--repeat=3"), LICENSED),
            (("Bad Product", "x"), CANNOT_ASK)]
    if lib.snapshot:
        runs += [((PRODUCT, "reports", "--threads=4", "--repeat=50"), LICENSED),
                 ((PRODUCT, "unlisted"), NOT_LICENSED)]
    for args, expected in runs:
        code, out, text = check(lib.env, *args, wrapper=wrapper, timeout=120)
        assert code == expected, f"{args}: {text}"
    for feature, expected in (("seats", LICENSED), ("reports", LICENSED), ("export", NOT_LICENSED)):
        p = subprocess.run([*wrapper, CHECK, "--checkout", PRODUCT, feature], input="", capture_output=True,
                           text=True, env=lib.env, timeout=120)
        assert p.returncode == expected and "returned" in p.stdout, f"checkout {feature}: {p.stdout}{p.stderr}"
    lib.stack.daemon.stop()
    code, out, text = check(dict(lib.env, LICENSED_SNAPSHOT=""), PRODUCT, "reports", wrapper=wrapper, timeout=120)
    assert code == CANNOT_ASK, text


# -- counted seats through the library --------------------------------------------


def seats_in_use(lib, feature="seats"):
    return lib.stack.client.seats_in_use("lic-1", feature)


class Holder:
    """check-feature --checkout: takes a seat and holds it until told."""

    def __init__(self, env, feature="seats", *options):
        self.proc = subprocess.Popen([CHECK, "--checkout", *options, PRODUCT, feature], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.first = self.proc.stdout.readline()
        self.out = parse(self.first)

    def give_back(self):
        """A line on stdin: the program returns its seat and exits."""
        rest, _ = self.proc.communicate("done\n", timeout=30)
        return self.proc.returncode, rest

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def test_seat_checkout_counted_and_returned(lib):
    holders = []
    try:
        a = Holder(lib.env)
        holders.append(a)
        assert (a.out["licensed"], a.out["reason"], a.out["seat"], a.out["source"]) == ("1", "licensed", "1",
                                                                                        "daemon"), a.first
        b = Holder(lib.env)
        holders.append(b)
        assert b.out["seat"] == "1", b.first
        assert seats_in_use(lib) == 2
        # the limit (2) is reached: an answer, not an error, and no seat
        c = Holder(lib.env)
        holders.append(c)
        assert (c.out["licensed"], c.out["reason"], c.out["seat"]) == ("0", "limit-reached", "0"), c.first
        code, rest = c.give_back()
        assert code == NOT_LICENSED and "returned" in rest
        # asking is not taking: CheckFeature still says licensed
        assert check(lib.env, PRODUCT, "seats", "--no-snapshot")[1]["reason"] == "licensed"
        # licensed_seat_return() calls Return: the seat is free when it returns
        code, rest = a.give_back()
        assert code == LICENSED and "returned" in rest, rest
        assert seats_in_use(lib) == 1
        d = Holder(lib.env)
        holders.append(d)
        assert d.out["seat"] == "1", d.first
        # kill -9: the kernel closes the connection and the daemon frees the seat
        b.kill()
        wait_for(lambda: seats_in_use(lib) == 1, what="the seat of a killed holder to be freed")
        d.kill()
        wait_for(lambda: seats_in_use(lib) == 0, what="the seat of a killed holder to be freed")
    finally:
        for h in holders:
            h.kill()


def test_seat_checkout_uncounted_and_denied(lib, tmp_path):
    # licensed but not counted: a seat object that holds nothing
    h = Holder(lib.env, "reports")
    try:
        assert (h.out["licensed"], h.out["reason"], h.out["seat"]) == ("1", "licensed", "1"), h.first
        assert seats_in_use(lib, "reports") == 0
        code, rest = h.give_back()
        assert code == LICENSED and "returned" in rest
    finally:
        h.kill()
    # not licensed: the verdict says why, with CheckFeature's expiry
    h = Holder(lib.env, "export")
    code, rest = h.give_back()
    assert code == NOT_LICENSED and h.out["reason"] == "feature-expired" and h.out["seat"] == "0", h.first
    assert h.out["expires"] == str(1577836800 * 10**6)
    h = Holder(lib.env, "nothing")
    code, rest = h.give_back()
    assert code == NOT_LICENSED and h.out["reason"] == "not-installed", h.first
    # bad arguments: -EINVAL without asking
    p = subprocess.run([CHECK, "--checkout", "Bad Product", "seats"], input="", capture_output=True, text=True,
                       env=lib.env, timeout=30)
    assert p.returncode == CANNOT_ASK and "error=-22" in p.stdout, p.stdout
    # cannot ask: not the same as not granted
    lib.stack.daemon.stop()
    h = Holder(lib.env)
    code, rest = h.give_back()
    assert code == CANNOT_ASK and h.out["error"] == "-111", h.first
    env = dict(lib.env, LICENSED_BUS_ADDRESS=f"unix:path={tmp_path}/no-such-socket")
    h = Holder(env)
    code, rest = h.give_back()
    assert code == CANNOT_ASK and h.out["error"] == "-2", h.first


def test_seat_after_fork_stays_the_parents(lib):
    """A child that calls licensed_seat_return() on its inherited copy gives
    nothing back and drops its copy of the connection: the seat stays held
    by the parent, and still goes with the parent alone."""
    h = Holder(lib.env, "seats", "--fork")
    child = None
    try:
        assert h.out["seat"] == "1", h.first
        line = h.proc.stdout.readline()
        assert line.startswith("child="), line
        child = int(line.split()[0].split("=")[1])
        assert seats_in_use(lib) == 1
        h.kill()
        wait_for(lambda: seats_in_use(lib) == 0, what="the seat to go with the parent, the child still running")
        os.kill(child, 0)  # the child is still alive, so its copy was closed
    finally:
        h.kill()
        if child:
            try:
                os.kill(child, 9)
            except ProcessLookupError:
                pass


# -- the snapshot fast path ----------------------------------------------------


def test_snapshot_file(snap):
    st = os.stat(snap.snapshot)
    assert st.st_mode & 0o777 == 0o644
    assert os.stat(os.path.dirname(snap.snapshot)).st_mode & 0o777 == 0o755
    with open(snap.snapshot, "rb") as f:
        data = f.read()
    h = read_header(data)
    assert h["magic"] == b"LICDSNAP" and h["version"] == SNAPSHOT_VERSION and h["size"] == len(data)
    assert h["n_entries"] == 3  # export, reports, seats
    assert h["n_buckets"] == 8 and h["strings_offset"] == h["index_offset"] + 8 * 4
    assert abs(h["written_at"] - time.time()) < 60
    assert with_header(data) == data  # the checksum is what this test computes
    names = data[h["strings_offset"]:].split(b"\0")
    assert names[:4] == [PRODUCT.encode(), b"export", b"reports", b"seats"]


def test_snapshot_answers_without_the_daemon(snap):
    code, out, text = check(snap.env, PRODUCT, "reports")
    assert code == LICENSED and out["source"] == "snapshot", text
    # the daemon gone: what the snapshot lists still answers, from the snapshot alone
    snap.stack.daemon.stop()
    code, out, text = check(snap.env, PRODUCT, "reports")
    assert code == LICENSED and out["source"] == "snapshot", text
    code, out, text = check(snap.env, PRODUCT, "export")
    assert code == NOT_LICENSED and out["reason"] == "feature-expired" and out["source"] == "snapshot", text
    # what it does not list needs the daemon: "cannot ask", not "not licensed"
    code, out, text = check(snap.env, PRODUCT, "unlisted")
    assert code == CANNOT_ASK, text
    code, out, text = check(snap.env, "com.other.product", "reports")
    assert code == CANNOT_ASK, text
    code, out, text = check(snap.env, PRODUCT, "reports", "--snapshot-only")
    assert code == LICENSED, text
    code, out, text = check(snap.env, PRODUCT, "unlisted", "--snapshot-only")
    assert code == CANNOT_ASK and out["error"] == "-61", text  # -ENODATA


def test_snapshot_entry_expires_with_its_verdict(snap, vendor):
    """A feature whose term ends soon: the snapshot answers until then and
    not a second longer, even with the daemon gone."""
    activate(snap.stack, vendor, "--feature", f"trial:expires={utc(4)}", lid="lic-2")
    wait_for(lambda: check(snap.env, PRODUCT, "trial", "--snapshot-only")[0] == LICENSED, what="trial in the snapshot")
    snap.stack.daemon.stop()
    code, out, text = check(snap.env, PRODUCT, "trial")
    assert code == LICENSED and out["source"] == "snapshot", text
    expires = int(out["expires"]) / 10**6
    time.sleep(max(0, expires - time.time()) + 0.2)
    code, out, text = check(snap.env, PRODUCT, "trial")
    assert code == CANNOT_ASK, text
    # the rest of the file still holds
    assert check(snap.env, PRODUCT, "reports")[0] == LICENSED


def test_release_date_beyond_maintenance_asks_the_daemon(snap, vendor):
    snap.stack.client.manager.Deactivate("lic-1", True, False)
    activate(snap.stack, vendor, "--maintenance-until", "2026-06-01", lid="lic-m")
    before = str(1767225600 * 10**6)  # 2026-01-01
    after = str(1790000000 * 10**6)  # 2026-09-22
    wait_for(lambda: check(snap.env, PRODUCT, "reports", f"--release-date={after}")[1].get("reason") ==
             "maintenance-expired", what="the new license")
    code, out, text = check(snap.env, PRODUCT, "reports", f"--release-date={before}")
    assert code == LICENSED and out["source"] == "snapshot", text
    code, out, text = check(snap.env, PRODUCT, "reports", f"--release-date={after}")
    assert code == NOT_LICENSED and out["reason"] == "maintenance-expired" and out["source"] == "daemon", text


def corrupt_variants(data):
    h = read_header(data)
    now = int(time.time())
    flipped = bytearray(data)
    flipped[h["strings_offset"] + 2] ^= 0x20
    return {
        "truncated": data[:len(data) - 3],
        "header only": data[:HEADER.size],
        "bit flip": bytes(flipped),
        "empty": b"",
        "garbage": os.urandom(len(data)),
        "wrong version": with_header(data, version=SNAPSHOT_VERSION + 1),
        "the previous version": with_header(data, version=1),
        "bad offset": with_header(data, strings_offset=h["strings_offset"] + 8),
        "too many entries": with_header(data, n_entries=h["n_entries"] + 1000),
        "older than an hour": with_header(data, written_at=now - 3601, time_high_water=now - 3601),
        "written in the future (clock rolled back)": with_header(data, written_at=now + 2 * 3600 + 60,
                                                                 time_high_water=now + 2 * 3600 + 60),
    }


def test_stale_or_corrupt_snapshot_falls_back(snap, tmp_path):
    with open(snap.snapshot, "rb") as f:
        data = f.read()
    for name, content in corrupt_variants(data).items():
        path = tmp_path / "bad-snapshot"
        path.write_bytes(content)
        os.chmod(path, 0o644)
        env = dict(snap.env, LICENSED_SNAPSHOT=str(path))
        code, out, text = check(env, PRODUCT, "reports")
        assert code == LICENSED and out["source"] == "daemon", f"{name}: {text}"
        code, out, text = check(env, PRODUCT, "reports", "--snapshot-only")
        assert code == CANNOT_ASK, f"{name}: {text}"
    # a good copy answers, but not when others may write it
    path = tmp_path / "good-snapshot"
    path.write_bytes(data)
    os.chmod(path, 0o644)
    env = dict(snap.env, LICENSED_SNAPSHOT=str(path))
    assert check(env, PRODUCT, "reports")[1]["source"] == "snapshot"
    os.chmod(path, 0o666)
    assert check(env, PRODUCT, "reports")[1]["source"] == "daemon"
    # a directory, a missing file
    for p in (tmp_path, tmp_path / "missing"):
        code, out, text = check(dict(snap.env, LICENSED_SNAPSHOT=str(p)), PRODUCT, "reports")
        assert code == LICENSED and out["source"] == "daemon", text


def test_mapped_snapshot_follows_changes(snap):
    """In one process: the library keeps the snapshot mapped, and a change
    (deactivation) reaches it at once: the daemon marks the old file
    superseded and writes a new one without the license."""
    p = subprocess.Popen([CHECK, "--again", PRODUCT, "reports"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True, env=snap.env)
    try:
        first = parse(p.stdout.readline())
        assert (first["reason"], first["source"]) == ("licensed", "snapshot")
        with open(snap.snapshot, "rb") as f:
            old = read_header(f.read())
        snap.stack.client.manager.Deactivate("lic-1", True, False)
        with open(snap.snapshot, "rb") as f:
            new = read_header(f.read())
        assert new["generation"] == old["generation"] + 1 and new["n_entries"] == 0
        out, _ = p.communicate("again\n", timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    second = parse(out)  # after the first answer's description line
    assert p.returncode == NOT_LICENSED, out
    assert (second["reason"], second["source"]) == ("not-installed", "daemon")


def test_the_programs_default_bus_is_left_alone(lib):
    """The program's own default system bus connection is the same, open
    and working after the library asked over the system bus (here the
    private bus, as DBUS_SYSTEM_BUS_ADDRESS)."""
    env = {k: v for k, v in lib.env.items() if k != "LICENSED_BUS_ADDRESS"}
    env["DBUS_SYSTEM_BUS_ADDRESS"] = lib.stack.bus.address
    for feature, expected in (("reports", LICENSED), ("export", NOT_LICENSED)):
        p = subprocess.run([CHECK, "--default-bus", PRODUCT, feature], capture_output=True, text=True, env=env,
                           timeout=30)
        assert p.returncode == expected and "default-bus=untouched" in p.stdout, p.stdout + p.stderr
        assert "source=daemon" in p.stdout, p.stdout


def test_exports_only_the_api():
    out = run(["nm", "-D", "--defined-only", LIBRARY]).stdout
    symbols = sorted(line.split()[-1].split("@")[0] for line in out.splitlines() if " T " in line)
    assert symbols == ["licensed_check_feature", "licensed_check_feature_flags", "licensed_reason_description",
                       "licensed_seat_checkout", "licensed_seat_return", "licensed_version"]
    out = run(["nm", "-D", "--defined-only", PAM_MODULE]).stdout
    assert [line.split()[-1] for line in out.splitlines() if " T " in line] == ["pam_sm_acct_mgmt"]


# -- pam_licensed ----------------------------------------------------------------


def pam(env, tmp_path, options, extra_lines=()):
    """pamtester's acct_mgmt for a service with pam_licensed OPTIONS, under
    pam_wrapper. Returns (success, output)."""
    wrapper = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so"
    if not os.path.exists(wrapper) or not shutil.which("pamtester"):
        pytest.fail("pam_wrapper and pamtester are needed (tools/install-deps.sh installs them)")
    services = tmp_path / "pam.d"
    services.mkdir(exist_ok=True)
    (services / "other").write_text("account required pam_deny.so\n")
    (services / "licensed-test").write_text(f"account required {PAM_MODULE} {options}\n" +
                                            "".join(line + "\n" for line in extra_lines))
    asan = sanitizer_runtime()
    env = dict(env, LD_PRELOAD=f"{asan} {wrapper}" if asan else wrapper, PAM_WRAPPER="1",
               PAM_WRAPPER_SERVICE_DIR=str(services), ASAN_OPTIONS="detect_leaks=0")
    p = subprocess.run(["pamtester", "-v", "licensed-test", "nobody", "acct_mgmt"], capture_output=True, text=True,
                       env=env, timeout=60)
    return p.returncode == 0, p.stdout + p.stderr


def test_pam_licensed_and_not(lib, tmp_path):
    ok, out = pam(lib.env, tmp_path, f"product={PRODUCT} feature=reports debug")
    assert ok and "account management done" in out, out
    ok, out = pam(lib.env, tmp_path, f"product={PRODUCT} feature=export")
    assert not ok, out
    assert "export of com.example.app is not licensed on this machine: this feature's own term has ended." in out
    assert "Permission denied" in out  # PAM_PERM_DENIED
    ok, out = pam(lib.env, tmp_path, f"product={PRODUCT} feature=analytics [message=Buy the analytics option]")
    assert not ok and "Buy the analytics option" in out, out
    # a release date is passed on (this license has no maintenance limit)
    ok, out = pam(lib.env, tmp_path, f"product={PRODUCT} feature=reports release_date=2026-01-01")
    assert ok, out


def test_pam_daemon_absent(lib, tmp_path):
    lib.stack.daemon.stop()
    env = dict(lib.env, LICENSED_SNAPSHOT="")
    ok, out = pam(env, tmp_path, f"product={PRODUCT} feature=reports")
    assert not ok and "The license service is not available." in out, out
    assert "Authentication service cannot retrieve authentication info" in out  # PAM_AUTHINFO_UNAVAIL
    # message= replaces the sentence for "cannot ask" too
    ok, out = pam(env, tmp_path, f"product={PRODUCT} feature=reports unreachable=deny [message=Call the helpdesk]")
    assert not ok and "Call the helpdesk" in out and "not available" not in out, out
    ok, out = pam(env, tmp_path, f"product={PRODUCT} feature=reports unreachable=allow")
    assert ok, out
    # ignore: the rest of the stack decides
    ok, out = pam(env, tmp_path, f"product={PRODUCT} feature=reports unreachable=ignore",
                  ["account required pam_permit.so"])
    assert ok, out
    ok, out = pam(env, tmp_path, f"product={PRODUCT} feature=reports unreachable=ignore",
                  ["account required pam_deny.so"])
    assert not ok, out


@pytest.mark.parametrize("options", ["product=com.example.app", "feature=reports", "product=Bad! feature=x",
                                     "product=com.example.app feature=reports release_date=2026-02-30",
                                     "product=com.example.app feature=reports unreachable=maybe",
                                     "product=com.example.app feature=reports colour=blue"])
def test_pam_configuration_errors_deny(lib, tmp_path, options):
    ok, out = pam(lib.env, tmp_path, options)
    assert not ok, out


# -- examples -------------------------------------------------------------------


def test_example_c(lib, tmp_path):
    exe = os.path.join(BUILD, "plugin", "example-check-feature")
    env = lib.env
    assert run([exe, PRODUCT, "reports"], env=env).stdout == "reports of com.example.app is licensed (licensed).\n"
    p = run([exe, PRODUCT, "export"], env=env, check=False)
    assert p.returncode == NOT_LICENSED and "this feature's own term has ended (feature-expired)" in p.stdout
    # with its own Makefile and pkg-config, against the build tree
    if not shutil.which("make"):
        pytest.fail("make is needed to build the example with its Makefile")
    for f in ("check-feature.c", "Makefile"):
        shutil.copy(os.path.join(EXAMPLES, f), tmp_path / f)
    run(["make", "-C", str(tmp_path)], env=dict(env, PKG_CONFIG_PATH=os.path.join(BUILD, "meson-uninstalled")))
    built_env = dict(env, LD_LIBRARY_PATH=os.path.join(BUILD, "plugin"))
    if sanitizer_runtime():
        built_env.update(LD_PRELOAD=sanitizer_runtime(), ASAN_OPTIONS="detect_leaks=0")
    assert run([str(tmp_path / "check-feature"), PRODUCT, "reports"], env=built_env).returncode == LICENSED
    lib.stack.daemon.stop()
    p = run([exe, PRODUCT, "reports"], env=dict(env, LICENSED_SNAPSHOT=""), check=False)
    assert p.returncode == CANNOT_ASK and "Cannot ask the license service" in p.stderr


def test_example_python(lib):
    script = os.path.join(EXAMPLES, "check_feature.py")
    addr = f"--bus-address={lib.stack.bus.address}"
    p = run([PY, script, addr, PRODUCT, "reports"])
    assert p.stdout == "reports of com.example.app is licensed (licensed).\n"
    p = run([PY, script, addr, PRODUCT, "export"], check=False)
    assert p.returncode == NOT_LICENSED and "(feature-expired)" in p.stdout
    lib.stack.daemon.stop()
    p = run([PY, script, addr, PRODUCT, "reports"], check=False)
    assert p.returncode == CANNOT_ASK and "Cannot ask the license service" in p.stderr


def test_example_shell(lib, tmp_path):
    licensectl = os.path.join(BUILD, "ctl", "licensectl")
    if not os.path.exists(licensectl):
        pytest.skip(f"{licensectl} is not built yet (licensectl is being written in ctl/)")
    script = os.path.join(EXAMPLES, "check-feature.sh")
    env = dict(os.environ, LICENSECTL=licensectl, LICENSED_BUS_ADDRESS=lib.stack.bus.address)
    marker = tmp_path / "ran"
    p = run([script, PRODUCT, "reports", "touch", str(marker)], env=env)
    assert "reports of com.example.app is licensed." in p.stdout and marker.exists()
    marker.unlink()
    p = run([script, PRODUCT, "export", "touch", str(marker)], env=env, check=False)
    assert p.returncode == NOT_LICENSED and not marker.exists()
    lib.stack.daemon.stop()
    p = run([script, PRODUCT, "reports"], env=env, check=False)
    assert p.returncode == CANNOT_ASK and "Cannot ask" in p.stderr
