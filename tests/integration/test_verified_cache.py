# SPDX-License-Identifier: LGPL-2.1-or-later
"""verified.cache: a start with an unchanged state dir answers as a cold
start does; a license file changed on disk after a cached start is verified
again (a forged one is quarantined, another validly signed one is taken);
a damaged, truncated or foreign cache is ignored and rebuilt; a changed
trust key is not helped by the cache."""
import base64
import hashlib
import os
import struct

from conftest import write_product
from licensing import PRODUCT, activate, answer, dbus_error, request_activation
from test_daemon import tamper

HEADER = 16
DIGEST = 32


def cache_path(stack):
    return os.path.join(stack.daemon.state_dir, "verified.cache")


def lic_path(stack, lid):
    return os.path.join(stack.daemon.state_dir, "licenses", lid + ".lic")


def digest(pub_path, lic_file):
    """What core/verified-cache.c computes for a license file and its key."""
    with open(pub_path) as f:
        raw = base64.b64decode(f.read().strip())
    with open(lic_file, "rb") as f:
        text = f.read()
    return hashlib.sha256(b"licensed verified-cache 1\0" + raw + text).digest()


def read_cache(stack):
    with open(cache_path(stack), "rb") as f:
        data = f.read()
    assert data[:8] == b"LICDVC01"
    (count,) = struct.unpack("=Q", data[8:16])
    assert len(data) == HEADER + (count + 1) * DIGEST
    assert hashlib.sha256(data[:-DIGEST]).digest() == data[-DIGEST:]
    return {data[HEADER + i * DIGEST:HEADER + (i + 1) * DIGEST] for i in range(count)}


def verdicts(stack):
    ids = sorted(str(x[0]) for x in stack.client.manager.ListLicenses())
    return ids, [stack.client.check(PRODUCT, f) for f in ("reports", "seats", "absent")]


def cached_stack(stack, vendor):
    """Two licenses, and a restart that writes verified.cache for them."""
    activate(stack, vendor)
    activate(stack, vendor, lid="lic-2")
    cold = verdicts(stack)
    stack.daemon.restart()
    assert read_cache(stack) == {digest(stack.public_key, lic_path(stack, lid)) for lid in ("lic-1", "lic-2")}
    return cold


def test_cached_start_answers_as_a_cold_one(stack, vendor):
    cold = cached_stack(stack, vendor)
    assert verdicts(stack) == cold
    assert os.stat(cache_path(stack)).st_mode & 0o777 == 0o600
    before = os.stat(cache_path(stack)).st_mtime_ns
    stack.daemon.restart()  # nothing new: the cache is not written again
    assert verdicts(stack) == cold
    assert os.stat(cache_path(stack)).st_mtime_ns == before


def test_a_forged_file_is_refused_after_a_cached_start(stack, vendor):
    cached_stack(stack, vendor)
    stack.daemon.stop()
    with open(lic_path(stack, "lic-2"), "r+") as f:
        t = f.read()
        f.seek(0)
        f.write(tamper(t))
    stack.daemon.start()
    assert verdicts(stack)[0] == ["lic-1"]
    quarantine = os.listdir(os.path.join(stack.daemon.state_dir, "quarantine"))
    assert any(q.startswith("lic-2.lic.") for q in quarantine)
    assert read_cache(stack) == {digest(stack.public_key, lic_path(stack, "lic-1"))}


def test_another_valid_file_is_verified_and_taken(stack, vendor):
    cached_stack(stack, vendor)
    req, _ = request_activation(stack)
    other = answer(stack, vendor, req, "--feature", "export", lid="lic-1")
    stack.daemon.stop()
    with open(lic_path(stack, "lic-1"), "w") as f:
        f.write(other)
    stack.daemon.start()
    assert stack.client.check(PRODUCT, "export") == (True, "licensed")
    assert str(stack.client.manager.Export("lic-1")) == other
    assert digest(stack.public_key, lic_path(stack, "lic-1")) in read_cache(stack)


def test_a_damaged_or_foreign_cache_is_ignored_and_rebuilt(stack, vendor):
    cold = cached_stack(stack, vendor)
    with open(cache_path(stack), "rb") as f:
        good = f.read()
    damaged = [good[:5], good[:-1], good + b"\0", b"", good[:20] + bytes([good[20] ^ 1]) + good[21:],
               b"LICDVC02" + good[8:]]
    for data in damaged:
        stack.daemon.stop()
        with open(cache_path(stack), "wb") as f:
            f.write(data)
        stack.daemon.start()
        assert verdicts(stack) == cold
        with open(cache_path(stack), "rb") as f:
            assert f.read() == good
    # Writable by others: not ours alone, so not believed, and replaced.
    stack.daemon.stop()
    os.chmod(cache_path(stack), 0o666)
    stack.daemon.start()
    assert verdicts(stack) == cold
    assert os.stat(cache_path(stack)).st_mode & 0o777 == 0o600


def test_a_changed_trust_key_is_not_helped_by_the_cache(stack, vendor, tmp_path):
    cold = cached_stack(stack, vendor)
    prefix = tmp_path / "other"
    vendor("keygen", "--output", str(prefix))
    stack.daemon.stop()
    write_product(stack.products, PRODUCT, str(prefix) + ".pub", offline_url="https://vendor.example/offline")
    stack.daemon.start()
    # Signed by a key the product no longer trusts: not usable, kept on disk.
    assert stack.client.check(PRODUCT, "reports") != (True, "licensed")
    assert os.path.exists(lic_path(stack, "lic-1"))
    stack.daemon.stop()
    write_product(stack.products, PRODUCT, stack.public_key, offline_url="https://vendor.example/offline")
    stack.daemon.start()
    assert verdicts(stack) == cold


def test_export_hands_out_only_the_installed_bytes(stack, vendor):
    """The daemon keeps the SHA-256 of a license's text, not the text:
    Export reads the file back, and refuses it once it changed on disk."""
    text, _ = activate(stack, vendor)
    assert str(stack.client.manager.Export("lic-1")) == text
    with open(lic_path(stack, "lic-1"), "w") as f:
        f.write(tamper(text))
    name, message = dbus_error(stack.client.manager.Export, "lic-1")
    assert name == "org.licensed.License1.Error.StorageFailure"
    assert "changed on disk" in message
    with open(lic_path(stack, "lic-1"), "w") as f:
        f.write(text)
    assert str(stack.client.manager.Export("lic-1")) == text
