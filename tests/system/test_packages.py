# SPDX-License-Identifier: LGPL-2.1-or-later
"""licensed as a Debian administrator gets it: the packages this tree builds
(tools/build-debs.sh), checked by lintian, installed with apt into a booted
Debian with real systemd; what their maintainer scripts do on install,
upgrade from the previous version, remove and purge; bash completion in an
interactive shell; the shipped units' sandboxing; licensectl's exit status
when licensed cannot be asked. And meson install at the default prefix,
/usr/local, passing the same smoke test (docs/installing.md)."""
import os
import re
import shlex
import subprocess

import pytest

from conftest import boot
from harness import DEBS, DEBS_OLD, PACKAGES, SOURCE, deb_files, vendor, wait_until

PRODUCT = "com.example.app"
KEY = "00001-00002-00003-00004-00005"
VERSION = "0.1.0"  # meson.build and debian/changelog
OLD_VERSION = "0.0.9"  # tools/run-tests.sh builds build-deb-old as this


def catalog_ids():
    with open(os.path.join(SOURCE, "systemd", "licensed.catalog")) as f:
        return re.findall(r"^-- ([0-9a-f]{32})$", f.read(), flags=re.M)


def activate(m, keys, lid, feature="reports"):
    """The offline round trip, as an administrator does it inside, with the
    vendor's answer made on the host. The product file goes where a vendor's
    package puts it."""
    if not m.exists(f"/usr/lib/licensed/products.d/{PRODUCT}.conf"):
        m.install_product(PRODUCT, keys[1], directory="/usr/lib/licensed/products.d")
        # read only at start (admin-guide.md, "Install a vendor's product file")
        m.systemctl("try-restart", "licensed.service")
    m.run("licensectl", "--no-ask-password", "activate", "--offline", "--qr=never", "--output", "/root/req.txt", KEY)
    lic = vendor("answer", "--signing-key", keys[0], "--request", "-", "--id", lid, "--licensee", "Package Test",
                 "--feature", feature, input=m.read("/root/req.txt"))
    m.write("/root/lic.txt", lic)
    m.run("licensectl", "--no-ask-password", "install", "/root/lic.txt")


def package_version(m, package):
    p = m.run("dpkg-query", "--show", "--showformat=${Status} ${Version}", package, check=False)
    return p.stdout.strip() if p.returncode == 0 else None


def daemon_version(m):
    out = m.busctl("get-property", "org.licensed.License1", "/org/licensed/License1",
                   "org.licensed.License1.Manager", "Version").stdout
    return out.split('"')[1]


def exposure(m, unit):
    out = m.run("systemd-analyze", "security", unit, check=False).stdout
    line = [l for l in out.splitlines() if "Overall exposure level" in l][-1]
    return float(line.split(":")[1].split()[0])


def smoke(m, keys, lid):
    """What every install must pass: bus activation on the first call, an
    offline activation end to end, a check as root and as another user, the
    timer enabled, the catalog indexed, the manual pages there."""
    assert m.is_active("licensed.service") == "inactive"
    assert m.check_feature(PRODUCT, "reports") == (False, "not-installed")
    assert m.is_active("licensed.service") == "active"  # started by the call
    activate(m, keys, lid)
    assert m.check_feature(PRODUCT, "reports") == (True, "licensed")
    p = m.run("licensectl", "check", PRODUCT, "reports", user=m.add_user("carol"), check=False)
    assert p.returncode == 0 and p.stdout.startswith("licensed"), (p.stdout, p.stderr)
    assert m.run("stat", "-c", "%a %U", "/var/lib/licensed").stdout.split() == ["700", "licensed"]
    assert m.systemctl("is-enabled", "licensed-validate.timer").stdout.strip() == "enabled"
    assert m.is_active("licensed-validate.timer") == "active"
    listed = m.run("journalctl", "--list-catalog").stdout
    missing = [i for i in catalog_ids() if i not in listed]
    assert not missing, f"not in journalctl --list-catalog: {missing}"
    assert m.sh("ls /usr/share/man/man1/licensectl.1* /usr/local/share/man/man1/licensectl.1* 2>/dev/null || true"
                ).stdout.strip(), "no licensectl(1)"


# The packages, on the host


def test_packages_are_built():
    for p in PACKAGES:
        assert deb_files(DEBS, p), f"no {p} in {DEBS}"
        assert deb_files(DEBS_OLD, p), f"no {p} in {DEBS_OLD}"


def test_lintian_has_no_errors_or_warnings():
    changes = [os.path.join(DEBS, n) for n in os.listdir(DEBS) if n.endswith(".changes")]
    assert len(changes) == 1, changes
    p = subprocess.run(["lintian", "--fail-on", "error,warning", "--pedantic", *changes], capture_output=True,
                       text=True, timeout=600)
    tags = [l for l in p.stdout.splitlines() if re.match(r"^[EW]: ", l)]
    assert p.returncode == 0 and not tags, p.stdout + p.stderr


def test_package_contents():
    """Each package holds what docs/installing.md says, and nothing of
    another's."""
    def contents(package):
        out = subprocess.run(["dpkg-deb", "--contents", deb_files(DEBS, package)[0]], capture_output=True,
                             text=True, check=True).stdout
        return {line.split()[5].lstrip(".") for line in out.splitlines()}

    want = {
        "licensed": ["/usr/libexec/licensed", "/usr/bin/licensectl", "/lib/systemd/system/licensed.service",
                     "/lib/systemd/system/licensed-validate.timer", "/usr/lib/sysusers.d/licensed.conf",
                     "/usr/lib/tmpfiles.d/licensed.conf", "/usr/lib/systemd/catalog/licensed.catalog",
                     "/usr/share/dbus-1/system.d/org.licensed.License1.conf",
                     "/usr/share/dbus-1/system-services/org.licensed.License1.service",
                     "/usr/share/polkit-1/actions/org.licensed.License1.policy",
                     "/usr/share/bash-completion/completions/licensectl", "/usr/share/man/man1/licensectl.1.gz",
                     "/usr/share/man/man8/licensed.8.gz", "/usr/lib/licensed/products.d/",
                     "/etc/licensed/products.d/", "/usr/share/doc/licensed/admin-guide.md"],
        "liblicensed1": ["/usr/lib/x86_64-linux-gnu/liblicensed.so.1"],
        "liblicensed-dev": ["/usr/include/licensed.h", "/usr/lib/x86_64-linux-gnu/liblicensed.so",
                            "/usr/lib/x86_64-linux-gnu/pkgconfig/liblicensed.pc",
                            "/usr/share/man/man3/liblicensed.3.gz"],
        "libpam-licensed": ["/lib/x86_64-linux-gnu/security/pam_licensed.so", "/usr/share/man/man8/pam_licensed.8.gz"],
        "licensed-server": ["/usr/sbin/licensed-server", "/usr/bin/licensed-vendor",
                            "/lib/systemd/system/licensed-server.service", "/usr/lib/sysusers.d/licensed-server.conf",
                            "/usr/lib/systemd/catalog/licensed-server.catalog",
                            "/usr/share/man/man8/licensed-server.8.gz", "/usr/share/man/man1/licensed-vendor.1.gz",
                            "/usr/share/bash-completion/completions/licensed-vendor"],
    }
    held = {p: contents(p) for p in PACKAGES}
    for package, paths in want.items():
        missing = [x for x in paths if x not in held[package]]
        assert not missing, f"{package} lacks {missing}"
    # liblicensed1 is the shared library only (and its docs)
    assert {x for x in held["liblicensed1"] if not x.endswith("/") and not x.startswith("/usr/share/doc/")} == {
        "/usr/lib/x86_64-linux-gnu/liblicensed.so.1", "/usr/lib/x86_64-linux-gnu/liblicensed.so.1.0.0"}
    for a in PACKAGES:
        for b in PACKAGES:
            if a < b:
                both = {x for x in held[a] & held[b] if not x.endswith("/")}
                assert not both, f"{a} and {b} both hold {both}"
    # the symbols file went into the library's package
    ctl = subprocess.run(["dpkg-deb", "--ctrl-tarfile", deb_files(DEBS, "liblicensed1")[0]], capture_output=True,
                         check=True).stdout
    names = subprocess.run(["tar", "-t"], input=ctl, capture_output=True, check=True).stdout.decode()
    assert "./symbols" in names.split()


def test_manual_pages_as_installed(tmp_path):
    """The pages the packages install: no warnings from man (tables fit 80
    columns), a NAME line whatis reads, every document named is installed
    by some package, and no link to a Markdown file of the source tree."""
    shipped = set()
    for deb in deb_files(DEBS):
        subprocess.run(["dpkg-deb", "-x", deb, str(tmp_path)], check=True)
    for root, _, files in os.walk(tmp_path):
        shipped.update(os.path.join(root, f)[len(str(tmp_path)):] for f in files)
    pages = sorted(p for p in shipped if re.search(r"/share/man/man[0-9]/[^/]+\.[0-9]\.gz$", p))
    assert len(pages) == 7, pages  # licensectl, licensed, licensed-vendor, licensed-server, licensed-site, liblicensed, pam_licensed
    for page in pages:
        path = str(tmp_path) + page
        p = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", path], capture_output=True, text=True,
                           env={**{k: v for k, v in os.environ.items() if k != "MAN_KEEP_FORMATTING"}, "MANWIDTH": "80"}, timeout=60)
        assert p.returncode == 0 and not p.stderr.strip(), f"{page}: {p.stderr}"
        assert not [l for l in p.stdout.splitlines() if l.startswith(("┌", "│", "├", "└")) and len(l) > 80], page
        whatis = subprocess.run(["lexgrog", path], capture_output=True, text=True).stdout
        assert " - " in whatis, f"{page}: {whatis}"
        docs = set(re.findall(r"/usr/share/doc/[a-z0-9-]+/[A-Za-z0-9_.-]+\.md", p.stdout))
        assert docs <= shipped, f"{page} names documents no package installs: {docs - shipped}"
        assert not re.search(r"\]\(|\.\./", p.stdout), page


# Installed with apt, in a booted Debian


@pytest.fixture(scope="module")
def installed(keys):
    m = boot(install="deb")
    try:
        yield m
    finally:
        m.stop()


def test_install_smoke(installed, keys):
    m = installed
    for p in PACKAGES:
        assert package_version(m, p) == f"install ok installed {VERSION}", p
    smoke(m, keys, "pkg-1")
    # the user came from sysusers.d, the directories from tmpfiles.d and the package
    assert m.run("getent", "passwd", "licensed").stdout.split(":")[5] == "/var/lib/licensed"
    for d in ("/usr/lib/licensed/products.d", "/etc/licensed/products.d"):
        assert m.run("test", "-d", d, check=False).returncode == 0, d
    # licensed-server is installed, not enabled or started: it has no key yet
    assert m.systemctl("is-enabled", "licensed-server.service", check=False).stdout.strip() == "disabled"
    assert m.is_active("licensed-server.service") == "inactive"
    assert m.run("getent", "passwd", "licensed-server", check=False).returncode == 0


def test_shipped_units_are_sandboxed(installed):
    m = installed
    assert exposure(m, "licensed.service") <= 1.5
    assert exposure(m, "licensed-validate.service") <= 2.0
    # and the sandbox does not stop it from working: it asks licensed over the bus
    m.systemctl("start", "licensed-validate.service", check=False)
    log = m.run("journalctl", "-u", "licensed-validate.service", "--no-pager", "-o", "cat").stdout
    assert "cannot reach licensed" not in log, log
    assert "pkg-1" in log or "Validated" in log or "licensed" in log, log


def test_server_unit_starts_as_shipped(installed, keys):
    """With a signing key in place, the shipped unit starts under its own
    user, reads the key through LoadCredential= and answers on 127.0.0.1."""
    m = installed
    m.run("licensed-vendor", "keygen", "--output", "/etc/licensed-server/signing")
    m.systemctl("enable", "--now", "licensed-server.service")
    m.wait_for_state("licensed-server.service", "active")
    pid = m.show("licensed-server.service", "MainPID")["MainPID"]
    assert m.run("ps", "-o", "user=", "-p", pid).stdout.strip() == "licensed-server"
    # no curl in the container: bash's /dev/tcp
    health = wait_until(lambda: m.run("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/7070 && "
                                      "printf 'GET /v1/health HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3",
                                      check=False).stdout, timeout=10, what="the server to answer")
    assert " 200 " in health.splitlines()[0] and '"ok"' in health, health
    assert m.run("stat", "-c", "%a %U", "/var/lib/licensed-server/vendor.db").stdout.split() == ["600",
                                                                                                 "licensed-server"]
    m.systemctl("disable", "--now", "licensed-server.service")


def test_see_also_names_real_pages(installed):
    """Every page named in SEE ALSO is there on the installed system."""
    m = installed
    for page in [p for p in m.installed if "/share/man/" in p]:
        text = m.run("zcat", "-f", page).stdout
        see_also = text.split(".SH SEE ALSO", 1)[1] if ".SH SEE ALSO" in text else ""
        see_also = re.sub(r"\\f[A-Z]", "", see_also)  # font changes: "\fB\fCname\fR(1)"
        for name, section in re.findall(r"([A-Za-z0-9_.-]+)\(([0-9])\)", see_also):
            found = m.sh(f"ls /usr/share/man/man{section}/{name}.{section}* 2>/dev/null || true").stdout.strip()
            assert found, f"{page} names {name}({section}), which is not installed"


def test_bash_completion(installed):
    """An administrator's interactive bash completes verbs, options, their
    values and the installed license ids (asked from licensed)."""
    m = installed
    session = f"licensed-compl-{os.getpid()}"
    cmd = shlex.join(m.command("bash", "--rcfile", "/usr/share/bash-completion/bash_completion", "-i",
                               env={"TERM": "xterm"}))

    def screen():
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True,
                              timeout=10).stdout

    def type_(keys, expect, what):
        subprocess.run(["tmux", "send-keys", "-t", session, *keys], check=True, timeout=10)
        try:
            wait_until(lambda: expect in screen(), timeout=15, what=what)
        except TimeoutError:
            raise AssertionError(f"{what}: the terminal shows:\n{screen()}")

    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "40", cmd], check=True,
                   timeout=10)
    try:
        wait_until(lambda: "#" in screen(), timeout=15, what="the prompt")
        # (capture-pane drops trailing blanks: "show " reads "show")
        type_(["licensectl sh", "Tab"], "licensectl show", "the verb to complete")
        type_(["Tab", "Tab"], "pkg-1", "the license ids to be offered")
        type_(["C-u", "licensectl list --so", "Tab"], "--sort=", "an option to complete")
        type_(["exp", "Tab"], "--sort=expiry", "an option's value to complete")
        type_(["C-u", "licensectl check com.ex", "Tab"], f"check {PRODUCT}", "the product to complete")
        type_(["C-u", "licensed-vendor entitlement cr", "Tab"], "entitlement create", "a sub-verb to complete")
        type_([" --sea", "Tab"], "--seats", "a vendor verb's option, from its --help")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, timeout=10)


def test_exit_status_3_when_licensed_cannot_be_asked(installed):
    """A masked unit and a bus policy that refuses the call are "cannot ask
    licensed" (3), like no daemon at all, not "licensed said no" (4)."""
    m = installed
    m.systemctl("stop", "licensed.service")
    m.systemctl("mask", "licensed.service")
    try:
        p = m.run("licensectl", "status", check=False)
        assert p.returncode == 3, (p.returncode, p.stderr)
        assert "cannot reach licensed" in p.stderr and "masked" in p.stderr.lower(), p.stderr
        p = m.run("licensectl", "check", PRODUCT, "reports", check=False)
        assert p.returncode == 3, (p.returncode, p.stderr)
    finally:
        m.systemctl("unmask", "licensed.service")
    policy = "/usr/share/dbus-1/system.d/org.licensed.License1.conf"
    m.run("mv", policy, "/root/policy.conf")
    m.systemctl("reload", "dbus.service")
    try:
        p = m.run("licensectl", "status", user=m.add_user("dave"), check=False)
        assert p.returncode == 3, (p.returncode, p.stderr)
        assert "cannot reach licensed" in p.stderr, p.stderr
    finally:
        m.run("mv", "/root/policy.conf", policy)
        m.systemctl("reload", "dbus.service")
    assert m.check_feature(PRODUCT, "reports") == (True, "licensed")


def test_reload_makes_a_running_licensed_exit_once_idle(installed):
    m = installed
    assert m.check_feature(PRODUCT, "reports") == (True, "licensed")
    pid = m.show("licensed.service", "MainPID")["MainPID"]
    cursor = m.journal_cursor()
    m.systemctl("reload", "licensed.service")
    m.wait_for_state("licensed.service", "inactive")
    assert m.show("licensed.service", "Result")["Result"] == "success"
    msgs = [e["MESSAGE"] for e in m.journal(after=cursor, unit="licensed.service")]
    assert any("Asked to exit once idle" in x for x in msgs), msgs
    assert m.check_feature(PRODUCT, "reports") == (True, "licensed")
    assert m.show("licensed.service", "MainPID")["MainPID"] not in ("0", pid)
    # and not running: a reload is nothing to do
    m.systemctl("stop", "licensed.service")
    m.systemctl("try-reload-or-restart", "licensed.service")
    assert m.is_active("licensed.service") == "inactive"


def test_remove_keeps_state_purge_deletes_it(installed):
    m = installed
    m.run("apt-get", "remove", "--yes", "licensed", env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=300)
    assert package_version(m, "licensed").startswith("deinstall ok config-files")
    assert m.exists("/var/lib/licensed/licenses/pkg-1.lic"), m.run("ls", "-laR", "/var/lib/licensed").stdout
    assert m.exists("/etc/licensed")
    assert m.is_active("licensed.service") in ("inactive", "unknown")
    assert not m.exists("/usr/libexec/licensed")
    # reinstalled: the license is back, licensed as before
    m.install_debs(DEBS, ["licensed"])
    assert m.check_feature(PRODUCT, "reports") == (True, "licensed")
    m.run("apt-get", "purge", "--yes", "licensed", env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=300)
    assert package_version(m, "licensed") in (None, "unknown ok not-installed", "deinstall ok not-installed")
    for path in ("/var/lib/licensed", "/etc/licensed"):
        assert not m.exists(path), f"{path} is left after purge"
    assert m.systemctl("is-enabled", "licensed-validate.timer", check=False).stdout.strip() != "enabled"


# Upgrading from the previous version


def test_upgrade_keeps_licenses_and_the_next_call_runs_the_new_binary(keys):
    m = boot(install="deb", debs=DEBS_OLD)
    try:
        assert package_version(m, "licensed") == f"install ok installed {OLD_VERSION}"
        activate(m, keys, "up-1")
        assert m.check_feature(PRODUCT, "reports") == (True, "licensed")
        assert daemon_version(m) == VERSION  # the same tree: the binary says its meson version
        pid = m.show("licensed.service", "MainPID")["MainPID"]
        cursor = m.journal_cursor()
        m.install_debs(DEBS)
        for p in PACKAGES:
            assert package_version(m, p) == f"install ok installed {VERSION}", p
        # the running daemon was told to exit when idle, not killed
        wait_until(lambda: m.show("licensed.service", "MainPID")["MainPID"] != pid, timeout=30,
                   what="the old licensed to exit")
        msgs = [e["MESSAGE"] for e in m.journal(after=cursor, unit="licensed.service")]
        assert any("Asked to exit once idle" in x for x in msgs), msgs
        assert not any("Shutting down" in x for x in msgs), msgs
        # the license is still licensed, by a licensed started from the new package
        assert m.check_feature(PRODUCT, "reports") == (True, "licensed")
        exe = m.run("readlink", f"/proc/{m.show('licensed.service', 'MainPID')['MainPID']}/exe").stdout.strip()
        assert exe == "/usr/libexec/licensed"
        assert m.systemctl("is-enabled", "licensed-validate.timer").stdout.strip() == "enabled"
        assert "up-1" in m.run("licensectl", "list").stdout
    finally:
        m.stop()


# meson install, at the default prefix


def test_meson_install_at_the_default_prefix(keys):
    m = boot(install="meson")
    try:
        for path in ("/usr/local/libexec/licensed", "/usr/local/bin/licensectl", "/usr/local/sbin/licensed-server"):
            assert m.exists(path), path
        # where the bus, polkit and systemd read, whatever the prefix
        for path in ("/usr/share/dbus-1/system.d/org.licensed.License1.conf",
                     "/usr/share/dbus-1/system-services/org.licensed.License1.service",
                     "/usr/share/polkit-1/actions/org.licensed.License1.policy",
                     "/lib/systemd/system/licensed.service", "/usr/lib/systemd/catalog/licensed.catalog"):
            assert m.exists(path), path
        assert "/usr/local/libexec/licensed" in m.read("/lib/systemd/system/licensed.service")
        smoke(m, keys, "meson-1")
        # the unit's ExecStartPre=+ (as root) left the trial's hardware id, or,
        # in a container without DMI, none and said why (docs/protocol.md)
        hw = "/run/licensed/hardware-id"
        if m.exists(hw):
            assert re.fullmatch(r"[0-9a-f]{32}\n", m.read(hw))
            assert m.run("stat", "-c", "%a %U", hw).stdout.split() == ["644", "root"]
        else:
            msgs = [e.get("MESSAGE", "") for e in m.journal(unit="licensed.service")]
            assert any(x.startswith("No usable system UUID in /sys/class/dmi/id/product_uuid") for x in msgs), msgs
        # the state is where the unit's StateDirectory= puts it
        assert "--state-dir" not in m.show("licensed.service", "ExecStart")["ExecStart"]
        assert m.run("ls", "/var/lib/licensed").stdout.strip()
        assert not m.exists("/usr/local/var/lib/licensed")
        # the PAM module is where PAM finds it by name
        assert m.exists("/usr/lib/x86_64-linux-gnu/security/pam_licensed.so")
    finally:
        m.stop()
