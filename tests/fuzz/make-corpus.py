#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Regenerates the seed corpora in tests/fuzz/corpus/ from real documents:
the committed test vectors (tests/vectors/), the unit test data
(tests/unit/data/), machine documents signed as docs/offline.md says (the
integration tier's machine.py), and what licensed-vendor answers to them.

    tests/fuzz/make-corpus.py [BUILD_DIR]     (default: build)

Needs licensed-vendor in BUILD_DIR/server and python3-cryptography. Writes
each corpus afresh; the result is committed (keep it small: a few KiB per
target)."""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

top = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(top / "tests" / "integration"))
import machine  # noqa: E402

build = Path(sys.argv[1] if len(sys.argv) > 1 else top / "build").resolve()
vendor_bin = build / "server" / "licensed-vendor"
vectors = top / "tests" / "vectors"
data = top / "tests" / "unit" / "data"
out = top / "tests" / "fuzz" / "corpus"

tmp = Path(tempfile.mkdtemp(prefix="licensed-corpus."))
# licensed-vendor refuses a signing key that others can read; a checkout
# does not keep the committed test key's mode.
signing_key = tmp / "vendor.key"
shutil.copy(vectors / "vendor.key", signing_key)
signing_key.chmod(0o600)


def vendor(*args, input=None):
    return subprocess.run([str(vendor_bin), *args], input=input, capture_output=True, text=True,
                          check=True).stdout


def body_of(text):
    return machine.dearmor(text)[2]


corpus = {}


def add(target, name, content):
    if isinstance(content, str):
        content = content.encode()
    corpus.setdefault(target, {})[name] = content


# Keys ------------------------------------------------------------------------
keys = vendor("key", "new", "--count", "3").split()
add("license-key", "canonical", keys[0])
add("license-key", "lower-no-dashes", keys[1].lower().replace("-", ""))
add("license-key", "spaces-lookalikes", " ".join(keys[2].split("-")).replace("1", "l").replace("0", "O"))
add("license-key", "typo", keys[0][:7] + ("Z" if keys[0][7] != "Z" else "Y") + keys[0][8:])
add("license-key", "four-groups", keys[0][:23])

# Machine documents -------------------------------------------------------------
dev = machine.Device()
activation = dev.sign("activation", key=keys[0])
validation = dev.sign("validation", license_id="lic-1", revision="1")
deactivation = dev.sign("deactivation", license_id="lic-1", revision="1", hostname=None)
for name, text in [("activation", activation), ("validation", validation), ("deactivation", deactivation)]:
    add("request", name, text)
    add("armor", name, text)
    add("fields", name, body_of(text))
# a trial with the hardware id (docs/protocol.md, "Trials")
trial = dev.sign("trial", kind="TRIAL REQUEST", license_id=None, revision=None, hardware_id="19e130f9dbe08d432e9b66a28f71e42b")
add("request", "trial-hardware-id", trial)
add("fields", "trial-hardware-id", body_of(trial))
add("request", "activation-crlf-indented", "Hello,\r\n\r\n" + "".join(
    "    " + l + "\r\n" for l in activation.splitlines()) + "\r\nRegards\r\n")

# What the vendor signs ------------------------------------------------------------
answered = vendor("answer", "--signing-key", str(signing_key), "--request", "-", "--id", "lic-1",
                  "--licensee", "Fuzz Ltd", "--type", "subscription", "--not-after", "2027-01-01",
                  "--feature", "reports", "--feature", "seats:limit=5,expires=2026-06-01",
                  "--property", "edition=Enterprise", "--validation-interval", "1d", "--grace-period", "2w",
                  "--server-url", "https://licensing.example.com", input=activation)
receipt = vendor("receipt", "--signing-key", str(signing_key), "--request", "-", input=validation)
revoked = vendor("receipt", "--signing-key", str(signing_key), "--request", "-", "--revoked", input=validation)

add("license-verify", "answered", answered)
add("armor", "answered-crlf", answered.replace("\n", "\r\n"))
for name, text in [("receipt", receipt), ("revoked", revoked)]:
    add("receipt", name, text)
    add("receipt-body", name, body_of(text))
    add("armor", name, text)
add("fields", "receipt", body_of(receipt))
for lic in sorted(vectors.glob("*.lic")):
    add("license-verify", lic.stem, lic.read_text())
    if lic.stem in ("perpetual", "subscription", "trial", "bound"):
        add("license-body", lic.stem, body_of(lic.read_text()))
add("armor", "subscription", (vectors / "subscription.lic").read_text())
add("armor", "truncated", (vectors / "truncated.lic").read_text())
add("license-body", "answered", body_of(answered))
add("fields", "answered", body_of(answered))
full = body_of(answered).replace(b"type: subscription\n",
                                 b"type: subscription\nnot-before: 2026-01-02T00:00:00Z\n"
                                 b"maintenance-until: 2026-12-31\n")
add("license-body", "all-fields", full)
add("license-body", "other-product", body_of(answered).replace(b"com.example.app", b"com.example.other"))

# Server answers (server/server-handlers.c) -----------------------------------------------
add("server-json", "activate", json.dumps({"license": answered}))
add("server-json", "validate", json.dumps({"status": "valid", "receipt": receipt}))
add("server-json", "validate-upgrade", json.dumps({"status": "valid", "receipt": receipt, "license": answered}))
add("server-json", "revoked", json.dumps({"status": "revoked", "receipt": revoked}))
add("server-json", "deactivate", json.dumps({"status": "released"}))
add("server-json", "error", json.dumps({"error": {"code": "invalid-key", "message": "No such license key."}}))
add("server-json", "wrong-types", json.dumps({"status": 1, "receipt": ["x"], "license": None}))

# Files ----------------------------------------------------------------------------
for f in sorted((data / "config").glob("*.conf")):
    add("config", f.stem, f.read_bytes())
for f in sorted((data / "product").glob("*.conf")) + sorted((data / "product" / "vendor").glob("*.conf")):
    if f.is_file():
        add("product", f"{f.parent.name}-{f.stem}", f.read_bytes())

# Times and durations ----------------------------------------------------------------
for i, s in enumerate(["2026-11-22T10:00:00Z", "2026-11-22", "2024-02-29", "1970-01-01T00:00:01Z",
                       "9999-12-31T23:59:59Z", "14d", "90m", "3600", "2w", "12h", "1s"]):
    add("timeutil", f"t{i:02}", s)
# fuzz-document's table (all-kinds.h) has a field of every value kind.
add("document", "minimal", "test-doc: 1\nnumber: 0\n")
add("document", "all-kinds", "test-doc: 1\nnumber: 42\ncount: 7\nwhen: 2026-01-01T00:00:00Z\nperiod: 2w\n"
    "flag: yes\ncolor: green\nid: acme-0001\nproduct: com.example.app\nhex: 0123456789abcdef0123456789abcdef\n"
    "pub: i9Yz/Evri598a63NwLaEK/QhVCNTY2Lg0oSmub/nWrI=\nkey: 0Q2P5-RVSNN-V0YDN-QGWVJ-B7Y90\n"
    "url: https://licensing.example.com\ntext: ACME Corp\nshort-hex: deadbeef\ntag: a\ntag: b\n")

# Write ----------------------------------------------------------------------------
for target, files in corpus.items():
    d = out / target
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    for name, content in files.items():
        (d / name).write_bytes(content)
shutil.rmtree(tmp)
total = sum(len(c) for files in corpus.values() for c in files.values())
print(f"{sum(len(f) for f in corpus.values())} files, {total} bytes in {out}")
