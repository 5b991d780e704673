# SPDX-License-Identifier: LGPL-2.1-or-later
"""licensed-vendor: keys, issuing, and inspecting what it issued."""
import json
import os
import stat

import pytest


@pytest.fixture
def signing_key(vendor, tmp_path):
    vendor("keygen", "--output", str(tmp_path / "vendor"))
    return tmp_path / "vendor.key", tmp_path / "vendor.pub"


def issue(vendor, key, out, *extra):
    return vendor("issue", "--signing-key", str(key), "--id", "t-1", "--product", "com.example.app",
                  "--licensee", "Test Ltd", "--output", str(out), *extra)


def test_keygen_modes_and_no_overwrite(vendor, tmp_path, signing_key):
    key, pub = signing_key
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert len(pub.read_text().strip()) == 44  # base64 of 32 bytes
    p = vendor("keygen", "--output", str(tmp_path / "vendor"), check=False)
    assert p.returncode != 0 and "refusing to overwrite" in p.stderr
    assert key.read_bytes()  # untouched


def test_issue_then_inspect(vendor, tmp_path, signing_key):
    key, pub = signing_key
    lic = tmp_path / "l.lic"
    issue(vendor, key, lic, "--type", "subscription", "--not-after", "2030-01-01", "--feature", "reports",
          "--feature", "seats:limit=3", "--property", "edition=Pro")
    text = lic.read_text()
    assert text.startswith("-----BEGIN LICENSED LICENSE-----\n")
    out = vendor("inspect", "--public-key", str(pub), str(lic)).stdout
    assert "Signature: good" in out and "Test Ltd" in out and "seats, 3 seats" in out
    j = json.loads(vendor("--json", "inspect", "--public-key", str(pub), str(lic)).stdout)
    assert j["signature"]["valid"] is True
    assert j["license"]["type"] == "subscription"
    assert [f["name"] for f in j["license"]["features"]] == ["reports", "seats"]
    assert j["license"]["properties"] == {"edition": "Pro"}


def test_any_edit_of_the_body_is_rejected(vendor, tmp_path, signing_key):
    key, pub = signing_key
    lic = tmp_path / "l.lic"
    issue(vendor, key, lic, "--feature", "reports")
    lines = lic.read_text().split("\n")
    body = [i for i, l in enumerate(lines) if l and not l.startswith("-----") and ":" not in l]
    assert body
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    rejected = 0
    for i in body:
        for pos in range(0, len(lines[i]), 7):
            c = lines[i][pos]
            if c == "=":
                continue
            n = alphabet[(alphabet.index(c) + 1) % 64]
            edited = list(lines)
            edited[i] = lines[i][:pos] + n + lines[i][pos + 1:]
            p = vendor("inspect", "--public-key", str(pub), "-", input="\n".join(edited), check=False)
            assert p.returncode == 1, edited[i]
            assert "NOT VALID" in p.stderr
            rejected += 1
    assert rejected > 5


def test_wrong_public_key_rejected(vendor, tmp_path, signing_key):
    key, _ = signing_key
    vendor("keygen", "--output", str(tmp_path / "other"))
    lic = tmp_path / "l.lic"
    issue(vendor, key, lic)
    p = vendor("inspect", "--public-key", str(tmp_path / "other.pub"), str(lic), check=False)
    assert p.returncode == 1 and "not by the expected key" in p.stderr
    p = vendor("--json", "inspect", "--public-key", str(tmp_path / "other.pub"), str(lic), check=False)
    assert p.returncode == 1 and json.loads(p.stdout)["signature"]["valid"] is False


def test_spec_file_and_flag_override(vendor, tmp_path, signing_key):
    key, pub = signing_key
    spec = tmp_path / "spec.conf"
    spec.write_text('''
id = "spec-1";
product = "com.example.app";
licensee = "Spec Corp";
type = "trial";
not_after = "2031-01-01";
features = ( "reports", { name = "seats"; limit = 4; } );
properties = { tier = "gold"; };
grace_period = 86400;
''')
    lic = tmp_path / "s.lic"
    vendor("issue", "--signing-key", str(key), "--spec", str(spec), "--licensee", "Flag Corp", "--output", str(lic))
    j = json.loads(vendor("--json", "inspect", "--public-key", str(pub), str(lic)).stdout)["license"]
    assert j["id"] == "spec-1" and j["licensee"] == "Flag Corp" and j["type"] == "trial"
    assert j["features"][1] == {"name": "seats", "limit": 4}
    assert j["grace_period"] == 86400


@pytest.mark.parametrize("args,message", [
    (["--feature", "Bad Name"], "not a valid feature name"),
    (["--feature", "x:limit=0"], "limit must be a positive number"),
    (["--not-after", "tomorrow"], "not a UTC time"),
    (["--type", "forever"], "not perpetual, subscription, trial or floating"),
    (["--type", "trial"], "needs not-after"),
    (["--machine-id", "0123456789abcdef0123456789abcdef"], "not valid"),
    (["--license-key", "ABCDE-FGHJK"], "groups"),
    (["--property", "noequals"], "NAME=VALUE"),
])
def test_issue_errors(vendor, tmp_path, signing_key, args, message):
    key, _ = signing_key
    out = tmp_path / "x.lic"
    p = vendor(
        "issue", "--signing-key", str(key), "--id", "t-1", "--product", "com.example.app", "--licensee", "T",
        "--output", str(out), *args, check=False)
    assert p.returncode != 0
    assert message in p.stderr, p.stderr
    assert not out.exists()  # nothing half-written


def test_spec_errors_name_the_line(vendor, tmp_path, signing_key):
    key, _ = signing_key
    spec = tmp_path / "bad.conf"
    spec.write_text('id = "x";\nproduct = "com.example.app";\ncolour = "red";\n')
    p = vendor("issue", "--signing-key", str(key), "--spec", str(spec), check=False)
    assert p.returncode != 0 and f"{spec}:3: unknown setting 'colour'" in p.stderr
    spec.write_text('id = "x"\nproduct = ;\n')
    p = vendor("issue", "--signing-key", str(key), "--spec", str(spec), check=False)
    assert p.returncode != 0 and f"{spec}:2:" in p.stderr


@pytest.mark.parametrize("feature,message", [
    ('{ name = "seats"; limt = 5; }', "limt"),
    ('{ name = "seats"; limit = "5"; }', "limit must be an integer"),
    ('{ limit = 5; }', "needs name"),
])
def test_spec_feature_groups_are_strict(vendor, tmp_path, signing_key, feature, message):
    key, _ = signing_key
    spec = tmp_path / "f.conf"
    spec.write_text(f'id = "x";\nproduct = "com.example.app";\nlicensee = "L";\nfeatures = ( {feature} );\n')
    out = tmp_path / "f.lic"
    p = vendor("issue", "--signing-key", str(key), "--spec", str(spec), "--output", str(out), check=False)
    assert p.returncode != 0 and message in p.stderr, p.stderr
    assert not out.exists()


def test_private_key_permissions_enforced(vendor, tmp_path, signing_key):
    key, _ = signing_key
    os.chmod(key, 0o644)
    p = vendor("issue", "--signing-key", str(key), "--id", "a", "--product", "com.example.app", "--licensee", "L",
               check=False)
    assert p.returncode != 0 and "readable by others" in p.stderr


def test_key_new_and_check(vendor):
    keys = vendor("key", "new", "--count", "20").stdout.split()
    assert len(keys) == 20 and len(set(keys)) == 20
    for k in keys:
        assert vendor("key", "check", k.lower().replace("-", "")).stdout.strip() == k
    bad = keys[0][:7] + ("0" if keys[0][7] != "0" else "1") + keys[0][8:]
    p = vendor("key", "check", bad, check=False)
    assert p.returncode != 0 and "group 2 looks wrong" in p.stderr


def test_license_key_is_stored_masked(vendor, tmp_path, signing_key):
    key, pub = signing_key
    k = vendor("key", "new").stdout.strip()
    lic = tmp_path / "k.lic"
    issue(vendor, key, lic, "--license-key", k.lower())
    j = json.loads(vendor("--json", "inspect", "--public-key", str(pub), str(lic)).stdout)["license"]
    g = k.split("-")
    assert j["key"] == f"{g[0]}-*****-*****-*****-{g[4]}"


def test_help_everywhere(vendor):
    assert "Commands:" in vendor("--help").stdout
    for verb in (["keygen"], ["key", "new"], ["issue"], ["inspect"]):
        assert vendor(*verb, "--help").stdout
    p = vendor("frobnicate", check=False)
    assert p.returncode != 0 and "unknown command" in p.stderr


def test_validation_interval_zero_is_issued_with_a_warning(vendor, tmp_path, signing_key):
    """A license that never validates never hears of a revocation: the
    vendor is told so when issuing it, and only then (issue 16)."""
    key, _ = signing_key
    p = issue(vendor, key, tmp_path / "never.lic", "--validation-interval", "0")
    assert (tmp_path / "never.lic").read_text().startswith("-----BEGIN LICENSED LICENSE-----")
    assert "issue: warning: --validation-interval 0" in p.stderr and "never learn that it was revoked" in p.stderr
    p = issue(vendor, key, tmp_path / "daily.lic", "--validation-interval", "1d")
    assert p.stderr == ""
    p = issue(vendor, key, tmp_path / "default.lic")
    assert p.stderr == ""
    db = str(tmp_path / "server.db")
    p = vendor("entitlement", "create", "--db", db, "--product", "com.example.app", "--licensee", "ACME",
               "--validation-interval", "0")
    assert p.stdout.strip() and "entitlement create: warning: --validation-interval 0" in p.stderr
