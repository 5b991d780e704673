# SPDX-License-Identifier: LGPL-2.1-or-later
"""licensectl end to end against licensed on a private bus: the offline
round trip an administrator follows in docs/, output formats, exit codes."""
import json
import os
import re
import shlex
import subprocess

import pytest

from conftest import binary, run
from machine import request_from_url

PRODUCT = "com.example.app"


@pytest.fixture
def ctl(stack):
    exe = binary("licensectl")

    def _run(*args, check=True, input=None):
        return run([exe, f"--bus-address={stack.bus.address}", "--no-pager", *args], check=check, input=input)

    return _run


def test_offline_activation_move_and_checks(stack, ctl, vendor, tmp_path):
    key = vendor("key", "new").stdout.strip()
    req = tmp_path / "request.txt"
    out = ctl("activate", "--offline", "--qr=never", "--output", str(req), key)
    assert "https://vendor.example/offline" in out.stdout + out.stderr
    assert "licensectl install" in out.stdout + out.stderr
    assert req.read_text().startswith("-----BEGIN LICENSED ACTIVATION REQUEST-----")
    assert os.stat(req).st_mode & 0o077 == 0

    lic = tmp_path / "license.txt"
    vendor("answer", "--signing-key", stack.signing_key, "--request", str(req), "--id", "acme-1", "--licensee",
           "ACME", "--feature", "reports", "--feature", "export:expires=2026-01-01", "--output", str(lic))
    p = ctl("install", str(lic))
    assert "acme-1" in p.stdout

    # check: 0 licensed, 1 not licensed; --quiet prints nothing
    assert ctl("check", PRODUCT, "reports").returncode == 0
    p = ctl("check", "--quiet", PRODUCT, "reports")
    assert p.returncode == 0 and p.stdout == ""
    p = ctl("check", PRODUCT, "export", check=False)
    assert p.returncode == 1 and "feature-expired" in p.stdout
    p = ctl("check", PRODUCT, "nope", check=False)
    assert p.returncode == 1 and "not-installed" in p.stdout
    j = json.loads(ctl("--json", "check", PRODUCT, "reports").stdout)
    assert j["licensed"] is True and j["reason"] == "licensed"

    # status / list / show, human and JSON
    assert "acme-1" in ctl("status").stdout
    lst = json.loads(ctl("--json", "list").stdout)
    assert [l["id"] for l in lst] == ["acme-1"]
    show = ctl("show", "acme-1").stdout
    assert "ACME" in show and "reports" in show
    j = json.loads(ctl("--json", "show", "acme-1").stdout)
    assert j["licensee"] == "ACME" and j["status"] == "licensed"
    assert [f["name"] for f in j["features"]] == ["reports", "export"]

    # export gives back a license that verifies
    exported = ctl("export", "acme-1").stdout
    assert vendor("inspect", "--public-key", stack.public_key, "-", input=exported).returncode == 0

    # offline validation: request out, receipt in
    vreq = tmp_path / "vreq.txt"
    ctl("validate", "--offline", "--output", str(vreq), "acme-1")
    receipt = tmp_path / "receipt.txt"
    receipt.write_text(vendor("receipt", "--signing-key", stack.signing_key, "--request", str(vreq)).stdout)
    ctl("install", str(receipt))
    # acme-1 needs no validation, but it was validated: show says when (issue 16)
    j = json.loads(ctl("--json", "show", "acme-1").stdout)
    assert j["validation_interval_sec"] == 0 and j["last_validation"]
    assert "Last validation" in ctl("show", "acme-1").stdout

    # move: deactivate offline, the proof checks out at the vendor
    proof = tmp_path / "proof.txt"
    ctl("deactivate", "--offline", "--output", str(proof), "acme-1")
    assert vendor("check-proof", str(proof)).returncode == 0
    assert ctl("check", PRODUCT, "reports", check=False).returncode == 1
    assert json.loads(ctl("--json", "list").stdout) == []


def test_typo_caught_locally_and_errors(stack, ctl, vendor):
    key = vendor("key", "new").stdout.strip()
    bad = key[:7] + ("0" if key[7] != "0" else "1") + key[8:]
    p = ctl("activate", "--offline", bad, check=False)
    assert p.returncode == 2 and "group 2" in p.stderr
    p = ctl("install", "/nonexistent/file", check=False)
    assert p.returncode != 0 and "/nonexistent/file" in p.stderr
    p = ctl("show", "no-such-license", check=False)
    assert p.returncode == 4 and "No license no-such-license" in p.stderr
    p = ctl("frobnicate", check=False)
    assert p.returncode == 2


def test_cannot_reach_daemon(tmp_path):
    exe = binary("licensectl")
    p = run([exe, f"--bus-address=unix:path={tmp_path}/nothing", "check", PRODUCT, "reports"], check=False)
    assert p.returncode == 3 and "cannot reach licensed" in p.stderr
    p = run([exe, f"--bus-address=unix:path={tmp_path}/nothing", "status"], check=False)
    assert p.returncode == 3


def test_list_filters_sort_validate_exit_and_env(stack, ctl, vendor, tmp_path):
    """list --product/--status/--sort; validate fails (exit 1) when a license
    is in trouble even if it needs no server, naming it; the bus address
    can come from $LICENSECTL_BUS_ADDRESS."""
    def install(lid, *fields):
        req = tmp_path / f"{lid}.req"
        ctl("activate", "--offline", "--qr=never", "--output", str(req), vendor("key", "new").stdout.strip())
        lic = tmp_path / f"{lid}.lic"
        vendor("answer", "--signing-key", stack.signing_key, "--request", str(req), "--id", lid, "--licensee",
               "ACME", "--feature", "reports", *fields, "--output", str(lic))
        ctl("install", str(lic))

    install("b-late", "--type", "subscription", "--not-after", "2099-01-01T00:00:00Z")
    install("a-early", "--type", "subscription", "--not-after", "2098-01-01T00:00:00Z")
    install("c-never")

    # every license fine, none with a server: validate skips them all, exit 0
    p = ctl("validate")
    assert p.returncode == 0 and p.stderr == "", p.stdout + p.stderr

    ids = lambda *args: [l["id"] for l in json.loads(ctl("--json", "list", *args).stdout)]  # noqa: E731
    assert ids() == ["a-early", "b-late", "c-never"]
    assert ids("--sort=expiry") == ["a-early", "b-late", "c-never"]  # "never" last
    assert ids("--product", PRODUCT, "--status", "licensed") == ["a-early", "b-late", "c-never"]
    assert ids("--product", "com.example.other") == []
    assert ids("--status", "revoked") == []
    p = ctl("list", "--sort=colour", check=False)
    assert p.returncode == 2 and "--sort=colour" in p.stderr
    p = ctl("list", "--status=happy", check=False)
    assert p.returncode == 2 and "--status=happy" in p.stderr

    # an offline receipt revokes b-late: validate (no server involved) fails and says so
    vreq = tmp_path / "vreq.txt"
    ctl("validate", "--offline", "--output", str(vreq), "b-late")
    receipt = tmp_path / "receipt.txt"
    receipt.write_text(vendor("receipt", "--signing-key", stack.signing_key, "--request", str(vreq),
                              "--revoked").stdout)
    ctl("install", str(receipt))
    assert ids("--status", "revoked") == ["b-late"]
    assert ids("--sort=status") == ["a-early", "c-never", "b-late"]  # licensed before revoked, then by id
    p = ctl("validate", check=False)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "License b-late is revoked" in p.stderr
    assert "a-early" not in p.stderr
    # one license: only its own trouble counts
    assert ctl("validate", "a-early").returncode == 0
    assert ctl("validate", "b-late", check=False).returncode == 1
    # JSON stays an array of outcomes; the exit status says the rest
    p = ctl("--json", "validate", check=False)
    assert p.returncode == 1 and {o["id"] for o in json.loads(p.stdout)} == {"a-early", "b-late", "c-never"}

    # the bus address from the environment
    p = run([binary("licensectl"), "--no-pager", "--json", "list"], check=False,
            env=dict(os.environ, LICENSECTL_BUS_ADDRESS=stack.bus.address))
    assert p.returncode == 0 and len(json.loads(p.stdout)) == 3, p.stderr


def on_terminal(stack, *args, env=None):
    """licensectl on a pseudo-terminal (script(1)): what a person sees."""
    cmd = shlex.join([binary("licensectl"), f"--bus-address={stack.bus.address}", *args])
    p = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, TERM="xterm", **(env or {})), stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout


def test_terminal_only_behaviour(stack, ctl, vendor, tmp_path):
    """On a terminal: a QR code for the offline request, colours, a pager;
    none of them in a pipe, and each can be turned off."""
    key = vendor("key", "new").stdout.strip()
    out_file = tmp_path / "req.txt"
    code, out = on_terminal(stack, "activate", "--offline", "--output", str(out_file), key)
    assert code == 0 and ("\u2580" in out or "\u2588" in out or "\u2584" in out), out  # block characters
    code, out = on_terminal(stack, "activate", "--offline", "--qr=never", "--output", str(out_file), key)
    assert code == 0 and not any(ch in out for ch in "\u2580\u2584\u2588"), out
    p = ctl("activate", "--offline", "--output", str(out_file), key)  # a pipe: no QR code
    assert not any(ch in p.stdout + p.stderr for ch in "\u2580\u2584\u2588")

    lic = tmp_path / "lic.txt"
    vendor("answer", "--signing-key", stack.signing_key, "--request", str(out_file), "--id", "term-1",
           "--licensee", "ACME", "--feature", "reports", "--output", str(lic))
    ctl("install", str(lic))
    # colours on a terminal, not with NO_COLOR, not in a pipe
    code, out = on_terminal(stack, "--no-pager", "list")
    assert code == 0 and "\x1b[" in out and "term-1" in out, repr(out)
    code, out = on_terminal(stack, "--no-pager", "list", env={"NO_COLOR": "1"})
    assert code == 0 and "\x1b[" not in out and "term-1" in out, repr(out)
    assert "\x1b[" not in ctl("list").stdout
    # the pager on a terminal ($PAGER), not with --no-pager
    pager = {"PAGER": "sed s/^/PAGED:/"}
    code, out = on_terminal(stack, "list", env=pager)
    assert code == 0 and "PAGED:" in out and "term-1" in out, out
    code, out = on_terminal(stack, "--no-pager", "list", env=pager)
    assert code == 0 and "PAGED:" not in out and "term-1" in out, out


def page_url(text):
    m = re.search(r"https://vendor\.example/offline#request=\S+", text)
    assert m, text
    return m.group(0)


def test_offline_documents_travel_in_a_url(stack, ctl, vendor, tmp_path):
    """activate/validate/deactivate --offline print the offline page's URL
    with the document in its fragment (what the page rebuilds, see
    test_server.py), and the QR code holds that URL, or the plain page
    when the terminal is too narrow for it, saying so."""
    key = vendor("key", "new").stdout.strip()
    req = tmp_path / "request.txt"
    out = ctl("activate", "--offline", "--qr=never", "--output", str(req), key).stdout
    url = page_url(out)
    assert url.startswith("https://vendor.example/offline#request=a.")
    assert request_from_url(url) == req.read_text()
    assert len(url) < 600  # a QR code of version 16 or so on this host name

    lic = tmp_path / "license.txt"
    vendor("answer", "--signing-key", stack.signing_key, "--request", str(req), "--id", "url-1", "--licensee",
           "ACME", "--feature", "reports", "--output", str(lic))
    ctl("install", str(lic))
    j = json.loads(ctl("--json", "activate", "--offline", key).stdout)
    assert j["url"] == "https://vendor.example/offline" and request_from_url(j["request_url"]) == j["request"]
    vreq = tmp_path / "vreq.txt"
    url = page_url(ctl("validate", "--offline", "--output", str(vreq), "url-1").stdout)
    assert url.split("#request=")[1].startswith("v.") and request_from_url(url) == vreq.read_text()
    j = json.loads(ctl("--json", "validate", "--offline", "url-1").stdout)
    assert j["id"] == "url-1" and request_from_url(j["request_url"]) == j["request"]

    # the QR code: the whole URL on a wide terminal, the plain page on a narrow one
    def terminal(cols, *args):
        cmd = shlex.join([binary("licensectl"), f"--bus-address={stack.bus.address}", *args])
        p = subprocess.run(["script", "-qec", f"stty cols {cols} rows 60; {cmd}", "/dev/null"],
                           capture_output=True, text=True, timeout=60, env=dict(os.environ, TERM="xterm"),
                           stdin=subprocess.DEVNULL)
        assert p.returncode == 0, p.stdout
        return p.stdout

    out = terminal(120, "--no-pager", "validate", "--offline", "--output", str(vreq), "url-1")
    assert "\u2588" in out and "does not fit" not in out, out
    out = terminal(60, "--no-pager", "validate", "--offline", "--output", str(vreq), "url-1")
    assert "\u2588" in out and "(The validation request does not fit in a QR code this terminal can show: " \
        "this one opens https://vendor.example/offline; carry the validation request there as a file and paste " \
        "it.)" in out, out
    assert request_from_url(page_url(out)) == vreq.read_text()

    proof = tmp_path / "proof.txt"
    url = page_url(ctl("deactivate", "--offline", "--output", str(proof), "url-1").stdout)
    assert url.split("#request=")[1].startswith("d.") and request_from_url(url) == proof.read_text()


def test_list_columns_grep_sort_and_install_summary(stack, ctl, vendor, tmp_path):
    """list --columns/--grep/--sort=licensee; install says what it
    installed (issue 16)."""
    def install(lid, licensee, *fields):
        req = tmp_path / f"{lid}.req"
        ctl("activate", "--offline", "--qr=never", "--output", str(req), vendor("key", "new").stdout.strip())
        lic = tmp_path / f"{lid}.lic"
        vendor("answer", "--signing-key", stack.signing_key, "--request", str(req), "--id", lid, "--licensee",
               licensee, "--feature", "reports", *fields, "--output", str(lic))
        return ctl("install", str(lic)).stdout

    out = install("a-1", "Zeta GmbH", "--type", "subscription", "--not-after", "2099-01-01T00:00:00Z",
                  "--maintenance-until", "2027-01-01T00:00:00Z", "--feature", "export:expires=2098-01-01T00:00:00Z")
    lines = out.splitlines()
    assert lines[4].startswith("          Expires: 2099-01-01 00:00:00 UTC"), out
    del lines[4]
    assert lines == [
        "Installed license a-1 (revision 1).",
        "          Product: com.example.app",
        "             Type: subscription",
        "         Features: reports, export (until 2098-01-01)",
        "           Status: licensed",
    ], out
    install("b-1", "acme", "--feature", "seats:limit=5", "--property", "site=Berlin")
    j = json.loads(ctl("--json", "install", str(tmp_path / "b-1.lic")).stdout)
    assert j["id"] == "b-1" and j["product"] == PRODUCT and j["type"] == "perpetual"
    assert j["features"] == ["reports", "seats"] and j["expires"] is None and j["status"] == "licensed"

    ids = lambda *args: [l["id"] for l in json.loads(ctl("--json", "list", *args).stdout)]  # noqa: E731
    assert ids("--sort=licensee") == ["b-1", "a-1"]  # acme before Zeta, whatever the case
    assert ids("--grep", "gmbh") == ["a-1"]
    assert ids("--grep", "SEATS") == ["b-1"]  # a feature
    assert ids("--grep", "berlin") == ["b-1"]  # a property
    assert ids("--grep", "subscription") == ["a-1"]  # the type
    assert ids("--grep", "nothing-like-it") == []

    out = ctl("list", "--columns=+type,maintenance,usage,last-validation", "--sort=licensee").stdout
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "PRODUCT", "LICENSEE", "STATUS", "EXPIRES", "TYPE", "MAINTENANCE", "USAGE",
                                "LAST", "VALIDATION"], out
    assert lines[1].split()[:4] == ["b-1", PRODUCT, "acme", "licensed"]
    assert "perpetual" in lines[1] and "all versions" in lines[1] and "seats 0/5" in lines[1]
    assert "subscription" in lines[2] and "2027-01-01" in lines[2] and "2099-01-01" in lines[2]
    out = ctl("list", "--columns=id,features,revision", "--grep", "zeta").stdout
    assert [l.split() for l in out.splitlines()[:2]] == [["ID", "FEATURES", "REV"], ["a-1", "reports,export", "1"]], out
    j = json.loads(ctl("--json", "list", "--columns=+type,usage,maintenance").stdout)
    b = next(x for x in j if x["id"] == "b-1")
    assert b["type"] == "perpetual" and b["usage"] == [{"feature": "seats", "in_use": 0, "limit": 5}]
    assert b["maintenance_until"] is None and b["licensee"] == "acme"

    p = ctl("list", "--columns=id,colour", check=False)
    assert p.returncode == 2 and "there is no column 'colour'; use id, product" in p.stderr
    p = ctl("list", "--grep=", check=False)
    assert p.returncode == 2 and "--grep needs the text" in p.stderr
    p = ctl("status", "--grep", "x", check=False)
    assert p.returncode == 2 and "--grep does not apply to 'status'" in p.stderr
