# SPDX-License-Identifier: LGPL-2.1-or-later
"""A booted Debian with real systemd, dbus, journald and polkitd, for the
system tier.

Machine copies the cached rootfs (tests/system/rootfs.sh) as an overlay,
boots it with `systemd-nspawn -b --register=no --keep-unit`, and runs
commands inside with `nsenter -t <leader> -a`. It installs the project as an
administrator would: by default the Debian packages that tools/build-debs.sh
made (LICENSED_DEB_DIR, default build-deb/), with `apt-get install ./…deb`
in the booted system, so their maintainer scripts run under real systemd;
or, with install="meson", the build (LICENSED_BUILD_DIR, default
build-system/, configured with the default prefix /usr/local) with `meson
install --destdir` before boot. The build also provides the host-side tools
(licensed-vendor, the timerfd shim). Every process and mount it makes is
stopped or undone by its PID or path.

    with Machine() as m:
        m.run("busctl", "list")
        m.install_product("com.example.app", public_key_path)
        m.drop_in("licensed.service", "faketime", "[Service]\\nEnvironment=FAKETIME=+20d\\n")
        m.journal(MESSAGE_ID="...")
"""
import ctypes
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time

SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.abspath(os.environ.get("LICENSED_BUILD_DIR") or os.path.join(SOURCE, "build-system"))
DEBS = os.path.abspath(os.environ.get("LICENSED_DEB_DIR") or os.path.join(SOURCE, "build-deb"))
# The same tree built as an older version, for upgrades (tools/run-tests.sh).
DEBS_OLD = os.path.abspath(os.environ.get("LICENSED_DEB_OLD_DIR") or os.path.join(SOURCE, "build-deb-old"))
PACKAGES = ("licensed", "liblicensed1", "liblicensed-dev", "libpam-licensed", "licensed-server")
DEB_CACHE = "/var/cache/licensed-test-debs"
ROOTFS_SH = os.path.join(SOURCE, "tests", "system", "rootfs.sh")
SCRATCH = os.environ.get("LICENSED_SYSTEM_SCRATCH", "/var/tmp")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

SERVICE = "org.licensed.License1"
MANAGER_PATH = "/org/licensed/License1"
MANAGER = "org.licensed.License1.Manager"
LICENSE = "org.licensed.License1.License"
ADMIN_PRODUCTS_DIR = "/etc/licensed/products.d"
VENDOR_PRODUCTS_DIR = "/usr/lib/licensed/products.d"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
TIMERFD_SHIM = "/usr/local/lib/licensed-test/libtimerfd-real.so"

VENDOR = os.path.join(BUILD, "server", "licensed-vendor")  # the vendor's side runs on the host

PR_SET_PDEATHSIG = 1
BOOT_TIMEOUT = 120
STOP_TIMEOUT = 30


class Unavailable(Exception):
    """This host cannot boot a container (no root, no nspawn, no rootfs...)."""


def _integration_conftest():
    """The integration tier's helpers (write_product), loaded under their own
    name so they don't clash with this tier's conftest."""
    path = os.path.join(SOURCE, "tests", "integration", "conftest.py")
    spec = importlib.util.spec_from_file_location("integration_conftest", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def vendor(*args, input=None):
    """licensed-vendor ARGS on the host (the vendor's machine); its output."""
    p = subprocess.run([VENDOR, *args], input=input, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


def wait_until(predicate, timeout=10.0, what="condition", interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def _host(args, timeout=300, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


def check_host(install="deb", debs=DEBS):
    """Raises Unavailable with a reason if this host cannot run the tier."""
    if os.geteuid() != 0:
        raise Unavailable("the system tier needs root (systemd-nspawn, mounts)")
    for tool in ("systemd-nspawn", "nsenter", "debootstrap", "meson"):
        if not shutil.which(tool):
            raise Unavailable(f"{tool} is not installed (tools/install-deps.sh installs it)")
    if not os.path.exists(os.path.join(BUILD, "build.ninja")):
        raise Unavailable(f"no build in {BUILD} (tools/run-tests.sh makes it)")
    if install == "deb":
        missing = [p for p in PACKAGES if not deb_files(debs, p)]
        if missing:
            raise Unavailable(f"no .deb for {', '.join(missing)} in {debs} (tools/build-debs.sh makes them)")
    if install == "meson":
        opts = {o["name"]: o["value"] for o in json.loads(_host(["meson", "introspect", "--buildoptions", BUILD]).stdout)}
        if opts.get("prefix") != "/usr/local":
            raise Unavailable(f"{BUILD} has prefix {opts.get('prefix')}; the meson install case tests the default, /usr/local")


def deb_files(directory, package=None):
    """The .deb files in DIRECTORY (of PACKAGE only), debug symbols left out."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    return [os.path.join(directory, n) for n in names
            if n.endswith(".deb") and "-dbgsym_" not in n and (package is None or n.startswith(package + "_"))]


def rootfs():
    """The cached rootfs, built first if missing (a few minutes)."""
    p = _host([ROOTFS_SH], timeout=1800)
    if p.returncode != 0:
        raise Unavailable(f"rootfs.sh failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return p.stdout.strip().splitlines()[-1]


def _ns_pid_chain(pid):
    """The NSpid line of /proc/PID/status: PIDs from the outermost namespace in."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("NSpid:"):
                return line.split()[1:]
    return []


def _parent(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _start_time(pid):
    """A process's start time, to tell it from a later one with its PID."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _descends_from(pid, ancestor):
    while pid > 1:
        if pid == ancestor:
            return True
        pid = _parent(pid)
    return False


def _find_leader(nspawn_pid):
    """The container's PID 1 as the host sees it: a descendant of nspawn that
    is PID 1 of the namespace right below ours."""
    depth = len(_ns_pid_chain(os.getpid()))
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            chain = _ns_pid_chain(pid)
            if len(chain) == depth + 1 and chain[-1] == "1" and _descends_from(pid, nspawn_pid):
                return pid
        except (OSError, IndexError, ValueError):
            continue
    return None


def _own_root_cgroups():
    """The cgroup hierarchies nspawn places a container in (name=systemd and
    unified on a hybrid host, the one tree on a unified host) where this
    process sits at the root. There, nspawn --keep-unit would make /payload and
    /supervisor, shared by every container at once; Machine gives each its own
    cgroup instead. Under a systemd host, in a unit's cgroup, there are none."""
    mine = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            mine[controllers] = path
    if os.path.exists("/sys/fs/cgroup/systemd/cgroup.procs"):
        candidates = [("/sys/fs/cgroup/systemd", "name=systemd"), ("/sys/fs/cgroup/unified", "")]
    else:
        candidates = [("/sys/fs/cgroup", "")]
    return [root for root, key in candidates
            if os.path.exists(os.path.join(root, "cgroup.procs")) and mine.get(key) == "/"]


def _remove_cgroup(path):
    for dirpath, _, _ in os.walk(path, topdown=False):
        try:
            os.rmdir(dirpath)
        except OSError:
            pass


def _remove_stale():
    """What test processes that were killed left (their nspawn was halted by
    PR_SET_PDEATHSIG): scratch trees, their overlays unmounted first, and
    cgroups. Only those whose process is gone."""
    for root in _own_root_cgroups():
        top = os.path.join(root, "licensed-test")
        for entry in os.listdir(top) if os.path.isdir(top) else []:
            m = re.fullmatch(r"licensed-test-(\d+)-\d+", entry)
            if m and not os.path.exists(f"/proc/{m.group(1)}"):
                _remove_cgroup(os.path.join(top, entry))
    for entry in os.listdir(SCRATCH):
        m = re.fullmatch(r"licensed-system-(\d+)-.*", entry)
        if not m or os.path.exists(f"/proc/{m.group(1)}"):
            continue
        path = os.path.join(SCRATCH, entry)
        root = os.path.join(path, "root")
        if os.path.ismount(root) and _host(["umount", root]).returncode != 0:
            continue
        _host(["rm", "-rf", "--one-file-system", path])


_machines = 0


class Machine:
    """One booted container. Use as a context manager, or call start()/stop()."""

    def __init__(self, name=None, private_network=True, install="deb", debs=DEBS):
        global _machines
        _machines += 1
        self.name = name or f"licensed-test-{os.getpid()}-{_machines}"
        self.private_network = private_network
        self.install = install  # "deb", "meson" or None
        self.debs = debs
        self.nspawn = None
        self.leader = None
        self.leader_start = None
        self.workdir = None
        self.root = None
        self.overlay = False
        self.console_path = None
        self._console = None
        self.cgroups = []
        self.installed = []
        self.state = None

    # lifecycle

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        check_host(self.install, self.debs)
        lower = rootfs()
        _remove_stale()
        self.workdir = tempfile.mkdtemp(prefix=f"licensed-system-{os.getpid()}-", dir=SCRATCH)
        try:
            self._prepare_root(lower)
            if self.install == "meson":
                self.install_build()
            self._boot()
            if self.install == "deb":
                self.install_debs(self.debs)
        except BaseException:
            self.stop()
            raise

    def _prepare_root(self, lower):
        """An overlay on the cached rootfs (instant), or a copy where overlayfs
        is not to be had."""
        upper, work, merged = (os.path.join(self.workdir, d) for d in ("upper", "work", "root"))
        for d in (upper, work, merged):
            os.mkdir(d)
        p = _host(["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={lower},upperdir={upper},workdir={work}",
                   merged])
        if p.returncode == 0:
            self.overlay = True
        else:
            p = _host(["cp", "-a", "--reflink=auto", lower + "/.", merged])
            if p.returncode != 0:
                raise Unavailable(f"cannot copy the rootfs: {p.stderr}")
        self.root = merged

    def install_build(self):
        """`meson install --destdir` into the stopped container's tree, then
        what docs/installing.md tells an administrator to do once: ldconfig,
        the journal catalog, and enabling the timer. Users, tmpfiles and the
        bus policy are taken up at boot."""
        p = _host(["meson", "install", "-C", BUILD, "--destdir", self.root, "--quiet"])
        if p.returncode != 0:
            raise AssertionError(f"meson install failed:\n{p.stdout}\n{p.stderr}")
        installed = json.loads(_host(["meson", "introspect", "--installed", BUILD]).stdout).values()
        chroot = ["chroot", self.root, "env", "-i", f"PATH={PATH}"]
        _host(chroot + ["ldconfig"])
        _host(chroot + ["journalctl", "--update-catalog"])
        p = _host(["systemctl", f"--root={self.root}", "enable", "licensed-validate.timer"])
        if p.returncode != 0:
            raise AssertionError(f"cannot enable licensed-validate.timer: {p.stderr}")
        self.installed = sorted(installed)

    def apt_install(self, debs, *extra):
        """apt-get install ./X.deb ... inside the booted system, as an
        administrator does: dependencies from what is installed (the
        container has no network), maintainer scripts under real systemd.
        Returns the CompletedProcess."""
        self.run("mkdir", "-p", DEB_CACHE)
        paths = []
        for deb in debs:
            path = f"{DEB_CACHE}/{os.path.basename(deb)}"
            self.copy_in(deb, path, 0o644)
            paths.append(path)
        return self.run("apt-get", "install", "--yes", "--allow-downgrades", *extra, *paths,
                        env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=300)

    def install_debs(self, directory, packages=PACKAGES):
        """The project's packages from DIRECTORY; self.installed becomes the
        files they hold."""
        debs = [d for p in packages for d in deb_files(directory, p)]
        self.apt_install(debs)
        files = self.sh('dpkg -L "$@" | while read -r f; do [ -f "$f" ] && echo "$f"; done; true', "sh",
                        *packages)
        self.installed = sorted(files.stdout.splitlines())

    def _boot(self):
        args = ["systemd-nspawn", "--boot", "--register=no", "--keep-unit", "--quiet", "--console=read-only",
                f"--machine={self.name}", f"--directory={self.root}"]
        if self.private_network:
            args.append("--private-network")
        self.console_path = os.path.join(self.workdir, "console.log")
        self._console = open(self.console_path, "a")
        for root in _own_root_cgroups():
            path = os.path.join(root, "licensed-test", self.name)
            os.makedirs(path, exist_ok=True)
            self.cgroups.append(path)

        def prepare():  # in the child, before exec
            # Halted (SIGTERM) if the test process dies without stopping it.
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
            for path in self.cgroups:
                with open(os.path.join(path, "cgroup.procs"), "w") as f:
                    f.write("0")

        self.nspawn = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._console,
                                       stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=prepare)
        try:
            self.leader = wait_until(lambda: self._exited_early() or _find_leader(self.nspawn.pid), timeout=30,
                                     what="the container's init")
            if self.nspawn.poll() is not None:
                raise Unavailable(f"systemd-nspawn exited with {self.nspawn.returncode}:\n{self.console()}")
            self.leader_start = _start_time(self.leader)
            self._wait_running()
        except TimeoutError as e:
            raise Unavailable(f"{e}\n{self.console()}") from None

    def _exited_early(self):
        return self.nspawn.poll() is not None

    def _wait_running(self):
        deadline = time.monotonic() + BOOT_TIMEOUT
        state = ""
        while time.monotonic() < deadline:
            if self.nspawn.poll() is not None:
                raise Unavailable(f"the container stopped while booting ({self.nspawn.returncode}):\n{self.console()}")
            p = self.run("systemctl", "is-system-running", "--wait", check=False,
                         timeout=max(1, deadline - time.monotonic()))
            state = p.stdout.strip()
            if state in ("running", "degraded"):
                self.state = state
                return
            if state in ("maintenance", "stopping"):
                break
            # "offline" or no answer: systemd has not yet made
            # /run/systemd/system or its bus
            time.sleep(0.2)
        raise Unavailable(f"the container did not boot: is-system-running says {state!r}\n{self.console()}")

    def _halt(self):
        """Stops the container: nspawn forwards SIGTERM to its systemd as
        SIGRTMIN+3, a clean halt; then, by PID, whatever is left."""
        if self.nspawn and self.nspawn.poll() is None:
            self.nspawn.send_signal(signal.SIGTERM)
            try:
                self.nspawn.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.nspawn.kill()
                self.nspawn.wait(10)
        if self.leader and _start_time(self.leader) == self.leader_start:
            try:
                os.kill(self.leader, signal.SIGKILL)  # ends its whole PID namespace
            except OSError:
                pass
        self.nspawn = None
        self.leader = None
        for path in self.cgroups:
            _remove_cgroup(path)
        self.cgroups = []
        if self._console:
            self._console.close()
            self._console = None

    def reboot(self):
        """Halts the container and boots the same tree again: a new boot id,
        files and the persistent journal kept."""
        self._halt()
        self._boot()

    def stop(self):
        """Stops the container, undoes the overlay and removes the scratch tree."""
        self._halt()
        if self.root and self.overlay:
            _host(["umount", self.root])
            self.overlay = False
        if self.workdir:
            if os.environ.get("LICENSED_SYSTEM_KEEP"):
                print(f"kept {self.workdir}")
            else:
                _host(["rm", "-rf", "--one-file-system", self.workdir])
            self.workdir = None
            self.root = None

    def console(self, tail=4000):
        """What the container printed on its console (systemd's boot messages)."""
        try:
            with open(self.console_path, errors="replace") as f:
                return f.read()[-tail:]
        except (OSError, TypeError):
            return ""

    # running things inside

    def command(self, *args, user=None, env=None):
        """The host argv that runs ARGS inside the container, with a clean
        environment, as root or as USER."""
        environ = {"PATH": PATH, "LANG": "C.UTF-8", "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0", "TERM": "dumb"}
        environ.update(env or {})
        argv = ["nsenter", f"--target={self.leader}", "--all", "--root", "--wd", "env", "-i"]
        argv += [f"{k}={v}" for k, v in environ.items()]
        if user:
            argv += ["setpriv", f"--reuid={user}", f"--regid={self.group_of(user)}", "--init-groups"]
        return argv + [str(a) for a in args]

    def run(self, *args, check=True, input=None, timeout=60, user=None, env=None):
        """Runs ARGS inside; returns a CompletedProcess (text unless INPUT is bytes)."""
        text = not isinstance(input, bytes)
        p = subprocess.run(self.command(*args, user=user, env=env), capture_output=True, text=text, input=input,
                           timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"in the container, {shlex.join(map(str, args))} failed ({p.returncode}):\n"
                                 f"{p.stdout}\n{p.stderr}")
        return p

    def sh(self, script, *args, **kw):
        """Runs a shell script inside (ARGS are its $0, $1, ...)."""
        return self.run("sh", "-ec", script, *args, **kw)

    def group_of(self, user):
        return self.run("id", "-gn", user).stdout.strip()

    def add_user(self, name):
        """A non-root user inside (for polkit checks); returns its name."""
        if self.run("id", name, check=False).returncode != 0:
            self.run("useradd", "--create-home", "--shell", "/bin/sh", name)
        return name

    # files: always written from inside, so that no symlink in the container's
    # tree can lead a write out to the host

    def write(self, path, content, mode=0o644):
        data = content.encode() if isinstance(content, str) else content
        self.run("sh", "-ec", 'mkdir -p "$(dirname "$1")"; cat >"$1"; chmod "$2" "$1"', "sh", path, f"{mode:o}",
                 input=data)

    def read(self, path):
        return self.run("cat", path).stdout

    def exists(self, path):
        return self.run("test", "-e", path, check=False).returncode == 0

    def remove(self, path):
        self.run("rm", "-rf", path)

    def copy_in(self, host_path, path, mode=None):
        with open(host_path, "rb") as f:
            data = f.read()
        self.write(path, data, mode if mode is not None else os.stat(host_path).st_mode & 0o7777)

    def install_product(self, product_id, public_key_path, directory=ADMIN_PRODUCTS_DIR, **extra):
        """A product definition, as tests/integration/conftest.py writes it,
        into DIRECTORY inside (the admin's by default). Returns its path."""
        write_product = _integration_conftest().write_product
        with tempfile.TemporaryDirectory() as tmp:
            write_product(tmp, product_id, public_key_path, **extra)
            path = f"{directory}/{product_id}.conf"
            self.copy_in(os.path.join(tmp, product_id + ".conf"), path, 0o644)
        return path

    # systemd

    def systemctl(self, *args, check=True, **kw):
        return self.run("systemctl", *args, check=check, **kw)

    def daemon_reload(self):
        self.systemctl("daemon-reload")

    def is_active(self, unit):
        return self.systemctl("is-active", unit, check=False).stdout.strip()

    def wait_for_state(self, unit, state, timeout=30):
        wait_until(lambda: self.is_active(unit) == state, timeout=timeout, what=f"{unit} to be {state}")

    def show(self, unit, *props):
        """systemctl show UNIT -p PROPS as a dict."""
        out = self.systemctl("show", unit, *[f"--property={p}" for p in props]).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def drop_in(self, unit, name, content):
        """Writes /etc/systemd/system/UNIT.d/NAME.conf and reloads systemd.
        Returns its path (for remove_drop_in)."""
        path = f"/etc/systemd/system/{unit}.d/{name}.conf"
        self.write(path, content)
        self.daemon_reload()
        return path

    def remove_drop_in(self, unit, name):
        self.remove(f"/etc/systemd/system/{unit}.d/{name}.conf")
        self.daemon_reload()

    def faketime(self, unit, spec, name="faketime"):
        """Moves UNIT's wall clock with libfaketime (FAKETIME=SPEC, e.g. "+15d"
        or "@2030-01-01 00:00:00") through a drop-in, as
        tests/integration/test_time.py does: monotonic clocks stay real, and
        the build's libtimerfd-real.so, copied in, is preloaded first so that
        sd-event's timers keep working. Takes effect when the unit next
        starts; never the host's clock. Returns the drop-in's path."""
        shim = TIMERFD_SHIM
        if not self.exists(shim):
            self.copy_in(os.path.join(BUILD, "tests", "integration", "libtimerfd-real.so"), shim, 0o755)
        return self.drop_in(unit, name, "[Service]\n"
                            f'Environment="LD_PRELOAD={shim}:{LIBFAKETIME}" "FAKETIME={spec}"\n'
                            "Environment=FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_NO_CACHE=1\n")

    # D-Bus

    def busctl(self, *args, check=True, **kw):
        return self.run("busctl", *args, check=check, **kw)

    def call(self, method, signature="", *args, check=True, user=None, timeout=60):
        """Calls a Manager method with busctl; returns the reply as JSON
        ({"type": ..., "data": [...]}), or the CompletedProcess when it failed
        and check is False."""
        argv = ["busctl", "--json=short", "call", SERVICE, MANAGER_PATH, MANAGER, method]
        if signature:
            argv += [signature, *args]
        p = self.run(*argv, check=check, user=user, timeout=timeout)
        return json.loads(p.stdout) if p.returncode == 0 else p

    def check_feature(self, product, feature, release=0, **kw):
        """CheckFeature through busctl: (licensed, reason)."""
        r = self.call("CheckFeature", "sst", product, feature, release, **kw)
        return bool(r["data"][0]), r["data"][1]

    # journal

    def journal_cursor(self):
        """The journal's current end, to read only what comes after it."""
        out = self.run("journalctl", "--quiet", "--lines=0", "--show-cursor").stdout
        for line in out.splitlines():
            if line.startswith("-- cursor: "):
                return line[len("-- cursor: "):]
        return None

    def journal(self, *matches, after=None, unit=None, **fields):
        """Journal entries as dicts: FIELD=VALUE keyword matches (e.g.
        MESSAGE_ID=...), raw journalctl match strings, optionally only after
        a cursor from journal_cursor() or of one unit. What was logged
        before the call is in (journalctl --sync)."""
        self.run("journalctl", "--sync", check=False)
        argv = ["journalctl", "--output=json", "--no-pager", "--quiet"]
        if after:
            # --cursor, not --after-cursor: journalctl 252 with a match skips
            # the first matching entry after a cursor that does not match.
            argv.append(f"--cursor={after}")
        if unit:
            argv.append(f"--unit={unit}")
        argv += list(matches) + [f"{k}={v}" for k, v in fields.items()]
        out = self.run(*argv, check=False).stdout
        entries = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        return [e for e in entries if e.get("__CURSOR") != after]

    def wait_journal(self, *matches, timeout=30, **kw):
        """journal(...) once it has at least one entry (for what a service
        logs after the call that caused it has returned)."""
        return wait_until(lambda: self.journal(*matches, **kw), timeout=timeout, interval=0.3,
                          what=f"journal entries {matches} {kw}")
