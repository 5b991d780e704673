# SPDX-License-Identifier: LGPL-2.1-or-later
"""licensed-vendor's side of the offline documents (docs/offline.md): answer,
receipt, check-proof and check-request.

The machine side (licensectl activate --offline, ...) is played here by
Python: requests are built and signed with the `cryptography` module exactly
as the format says, which also checks the format is implementable from its
documentation alone."""
import datetime
import json

import pytest

pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
from machine import MACHINE_ID, NONCE, PRODUCT, Device, armor, dearmor, tamper, verify  # noqa: E402


@pytest.fixture
def signing_key(vendor, tmp_path):
    vendor("keygen", "--output", str(tmp_path / "vendor"))
    return tmp_path / "vendor.key", tmp_path / "vendor.pub"


@pytest.fixture
def license_key(vendor):
    return vendor("key", "new").stdout.strip()


@pytest.fixture
def device():
    return Device()


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def answer(vendor, key, request, *extra, check=True, input=None):
    return vendor("answer", "--signing-key", str(key), "--request", str(request), "--id", "acme-0001",
                  "--licensee", "ACME Corp", *extra, check=check, input=input)


def test_answer_binds_the_license_to_the_request(vendor, tmp_path, signing_key, license_key, device):
    key, pub = signing_key
    req = write(tmp_path, "req.txt", device.sign("activation", key=license_key))
    lic = tmp_path / "l.lic"
    answer(vendor, key, req, "--type", "subscription", "--not-after", "2030-01-01", "--feature", "reports",
           "--output", str(lic))

    j = json.loads(vendor("--json", "inspect", "--public-key", str(pub), str(lic)).stdout)
    assert j["signature"]["valid"] is True
    l = j["license"]
    assert l["id"] == "acme-0001" and l["product"] == PRODUCT and l["licensee"] == "ACME Corp"
    assert l["machine_id"] == MACHINE_ID
    assert l["device_key"] == device.pub
    assert l["nonce"] == NONCE
    groups = license_key.split("-")
    assert l["key"] == "-".join([groups[0], "*****", "*****", "*****", groups[4]])
    assert license_key not in lic.read_text() and license_key not in json.dumps(j)
    assert [f["name"] for f in l["features"]] == ["reports"]


def test_answer_reads_stdin_and_takes_a_spec(vendor, tmp_path, signing_key, license_key, device):
    key, pub = signing_key
    spec = write(tmp_path, "spec.conf", f'product = "{PRODUCT}";\nfeatures = ( "reports" );\n')
    out = answer(vendor, key, "-", "--spec", str(spec), input=device.sign("activation", key=license_key)).stdout
    assert out.startswith("-----BEGIN LICENSED LICENSE-----\n")
    text = vendor("inspect", "--public-key", str(pub), "-", input=out).stdout
    assert MACHINE_ID in text and "Signature: good" in text


def test_answer_rejects_a_tampered_request(vendor, tmp_path, signing_key, license_key, device):
    key, _ = signing_key
    text = device.sign("activation", key=license_key)
    kind, headers, body = dearmor(text)
    # The machine id changed after signing.
    edited = tamper(text, MACHINE_ID.encode(), b"f" * 32)
    p = answer(vendor, key, write(tmp_path, "req.txt", edited), check=False)
    assert p.returncode != 0
    assert "NOT VALID" in p.stderr and "signature does not match" in p.stderr
    assert p.stdout == ""

    # Signed by another key than the device key it carries.
    other = Device()
    forged = armor(kind, other.key_id, other.key.sign(body), body)
    p = answer(vendor, key, write(tmp_path, "forged.txt", forged), check=False)
    assert p.returncode != 0 and "does not match the device key" in p.stderr

    # Not a request at all.
    p = answer(vendor, key, write(tmp_path, "junk.txt", "hello\n"), check=False)
    assert p.returncode != 0 and "no '-----BEGIN LICENSED ...-----' line found" in p.stderr


def test_answer_needs_an_activation_request(vendor, tmp_path, signing_key, license_key, device):
    key, _ = signing_key
    p = answer(vendor, key, write(tmp_path, "v.txt", device.sign("validation")), check=False)
    assert p.returncode != 0 and "this is a VALIDATION REQUEST, not an ACTIVATION REQUEST" in p.stderr

    p = vendor("answer", "--signing-key", str(key), "--id", "x", "--licensee", "y", check=False)
    assert p.returncode != 0 and "--request FILE is required" in p.stderr

    req = write(tmp_path, "a.txt", device.sign("activation", key=license_key))
    p = vendor("answer", "--signing-key", str(key), "--request", str(req), "--licensee", "y", check=False)
    assert p.returncode != 0 and "--id is required" in p.stderr


def test_answer_product_and_binding_must_agree(vendor, tmp_path, signing_key, license_key, device):
    key, _ = signing_key
    req = write(tmp_path, "req.txt", device.sign("activation", key=license_key))

    p = answer(vendor, key, req, "--product", "com.other.tool", check=False)
    assert p.returncode != 0
    assert f"the product given (com.other.tool) is not the request's ({PRODUCT})" in p.stderr

    spec = write(tmp_path, "spec.conf", 'product = "com.other.tool";\n')
    p = answer(vendor, key, req, "--spec", str(spec), check=False)
    assert p.returncode != 0 and "is not the request's" in p.stderr

    p = answer(vendor, key, req, "--machine-id", "f" * 32, check=False)
    assert p.returncode != 0 and "the machine id given" in p.stderr

    # Agreeing values are fine.
    answer(vendor, key, req, "--product", PRODUCT, "--nonce", NONCE, "--license-key", license_key)


def verify_receipt(text, pub):
    f = verify(text, pub.read_text(), "VALIDATION RECEIPT")
    assert dearmor(text)[2].decode().splitlines()[0] == "licensed-receipt: 1"
    return f


@pytest.mark.parametrize("revoked", [False, True])
def test_receipt(vendor, tmp_path, signing_key, device, revoked):
    key, pub = signing_key
    req = write(tmp_path, "v.txt", device.sign("validation"))
    out = tmp_path / "receipt.txt"
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    vendor("receipt", "--signing-key", str(key), "--request", str(req), "--output", str(out),
           *(["--revoked"] if revoked else []))
    f = verify_receipt(out.read_text(), pub)
    assert f["license-id"] == "acme-0001"
    assert f["product"] == PRODUCT
    assert f["machine-id"] == MACHINE_ID
    assert f["nonce"] == NONCE
    assert f["status"] == ("revoked" if revoked else "valid")
    validated = datetime.datetime.strptime(f["validated"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)
    assert before <= validated <= before + datetime.timedelta(minutes=1)


def test_receipt_rejects_what_is_not_a_good_validation_request(vendor, tmp_path, signing_key, license_key,
                                                                 device):
    key, _ = signing_key
    p = vendor("receipt", "--signing-key", str(key), "--request", "-", check=False,
               input=device.sign("activation", key=license_key))
    assert p.returncode != 0 and "not a VALIDATION REQUEST" in p.stderr

    edited = tamper(device.sign("validation"), b"revision: 2", b"revision: 3")
    p = vendor("receipt", "--signing-key", str(key), "--request", "-", input=edited, check=False)
    assert p.returncode != 0 and "signature does not match" in p.stderr and p.stdout == ""

    p = vendor("receipt", "--signing-key", str(key), check=False)
    assert p.returncode != 0 and "--request FILE is required" in p.stderr


def test_check_proof(vendor, tmp_path, device):
    proof = write(tmp_path, "proof.txt", device.sign("deactivation"))
    out = vendor("check-proof", str(proof)).stdout
    for want in ("DEACTIVATION PROOF", "acme-0001 (revision 2)", PRODUCT, MACHINE_ID, device.key_id,
                 "2026-01-01T00:00:00Z", NONCE, "Signature: good"):
        assert want in out

    j = json.loads(vendor("check-proof", "--json", str(proof)).stdout)
    assert j["signature"]["valid"] is True
    r = j["request"]
    assert r["type"] == "deactivation" and r["license_id"] == "acme-0001" and r["revision"] == 2
    assert r["device_key_id"] == device.key_id and r["nonce"] == NONCE and r["created"] == "2026-01-01T00:00:00Z"
    assert json.loads(vendor("--json", "check-proof", "-", input=proof.read_text()).stdout)["signature"]["valid"]


def test_check_proof_rejects_tampering(vendor, tmp_path, device):
    edited = tamper(device.sign("deactivation"), b"acme-0001", b"acme-0002")
    p = vendor("check-proof", "-", input=edited, check=False)
    assert p.returncode == 1 and "NOT VALID" in p.stderr and "signature does not match" in p.stderr
    assert p.stdout == ""

    p = vendor("check-proof", "--json", "-", input=edited, check=False)
    assert p.returncode == 1
    j = json.loads(p.stdout)
    assert j["signature"]["valid"] is False and "signature does not match" in j["signature"]["error"]
    assert "request" not in j

    # The body says deactivation but the armor says validation request.
    p = vendor("check-proof", "-", input=device.sign("deactivation", kind="VALIDATION REQUEST"), check=False)
    assert p.returncode == 1 and "not a DEACTIVATION PROOF" in p.stderr


def test_check_request(vendor, tmp_path, license_key, device):
    out = vendor("check-request", "-", input=device.sign("activation", key=license_key)).stdout
    assert "ACTIVATION REQUEST" in out and license_key in out and "build-01.example.com" in out

    j = json.loads(vendor("--json", "check-request", "-", input=device.sign("validation")).stdout)
    assert j["request"]["type"] == "validation" and j["request"]["revision"] == 2

    p = vendor("check-request", "-", input=device.sign("deactivation"), check=False)
    assert p.returncode == 1 and "use check-proof" in p.stderr

    p = vendor("check-request", "-", input=device.sign("validation", kind="ACTIVATION REQUEST"), check=False)
    assert p.returncode == 1 and "the armor says activation request but the body says type validation" in p.stderr

    # Required and forbidden fields are named.
    p = vendor("check-request", "-", input=device.sign("activation", key=license_key, nonce=None), check=False)
    assert p.returncode == 1 and "required field 'nonce' is missing from the activation request" in p.stderr
    p = vendor("check-request", "-", input=device.sign("validation", key=license_key), check=False)
    assert p.returncode == 1 and "'key' is not a field of the validation request" in p.stderr
