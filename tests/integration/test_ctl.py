# SPDX-License-Identifier: LGPL-2.1-or-later
"""licensectl end to end against licensed on a private bus: the offline
round trip an administrator follows in docs/, output formats, exit codes."""
import json
import os

import pytest

from conftest import binary, run

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
