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
import types

from conftest import BUILD, run, write_product
from harness import Bus, Daemon, wait_for
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


def full_start(stack):
    """A start that loads every license file: without the start image
    (tested below), which would spare the load and verified.cache with it."""
    image = os.path.join(stack.daemon.state_dir, "licenses.image")
    if os.path.exists(image):
        os.unlink(image)
    stack.daemon.start()


def full_restart(stack):
    stack.daemon.stop()
    full_start(stack)


def cached_stack(stack, vendor):
    """Two licenses, and a restart that writes verified.cache for them."""
    activate(stack, vendor)
    activate(stack, vendor, lid="lic-2")
    cold = verdicts(stack)
    full_restart(stack)
    assert read_cache(stack) == {digest(stack.public_key, lic_path(stack, lid)) for lid in ("lic-1", "lic-2")}
    return cold


def test_cached_start_answers_as_a_cold_one(stack, vendor):
    cold = cached_stack(stack, vendor)
    assert verdicts(stack) == cold
    assert os.stat(cache_path(stack)).st_mode & 0o777 == 0o600
    before = os.stat(cache_path(stack)).st_mtime_ns
    full_restart(stack)  # nothing new: the cache is not written again
    assert verdicts(stack) == cold
    assert os.stat(cache_path(stack)).st_mtime_ns == before


def test_a_forged_file_is_refused_after_a_cached_start(stack, vendor):
    cached_stack(stack, vendor)
    stack.daemon.stop()
    with open(lic_path(stack, "lic-2"), "r+") as f:
        t = f.read()
        f.seek(0)
        f.write(tamper(t))
    full_start(stack)
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
    full_start(stack)
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
        full_start(stack)
        assert verdicts(stack) == cold
        with open(cache_path(stack), "rb") as f:
            assert f.read() == good
    # Writable by others: not ours alone, so not believed, and replaced.
    stack.daemon.stop()
    os.chmod(cache_path(stack), 0o666)
    full_start(stack)
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


# The start image (licenses.image, daemon/start-image.c) -------------------

IMAGE_LOADED = "from the start image"
CHECKED = "license files against the start image"


def image_path(stack):
    return os.path.join(stack.daemon.state_dir, "licenses.image")


def log_count(stack, text):
    return stack.daemon.read_log().count(text)


def start_counting(stack, text):
    """Starts the daemon; returns how often text was in its log before."""
    before = log_count(stack, text)
    stack.daemon.start()
    return before


def wait_checked(stack, before):
    """Waits (bounded) for the background check's line, returns it."""
    wait_for(lambda: log_count(stack, CHECKED) > before, timeout=20, what="the start image's check")
    return [ln for ln in stack.daemon.read_log().splitlines() if CHECKED in ln][-1]


def tamper_in_place(path):
    """The same inode: licenses/ looks the same to the image's identity."""
    with open(path, "r+") as f:
        t = f.read()
        f.seek(0)
        f.write(tamper(t))


def start_from_image(stack):
    """Starts, insists it was from the image; returns the check lines before."""
    checks = log_count(stack, CHECKED)
    before = start_counting(stack, IMAGE_LOADED)
    assert log_count(stack, IMAGE_LOADED) == before + 1
    return checks


def license_states(stack):
    return {lid: dict(stack.client.license_props(lid)) for lid in verdicts(stack)[0]}


def imaged_stack(stack, vendor):
    """Two licenses, a start that writes the image, and one from it."""
    cold = cached_stack(stack, vendor)
    stack.daemon.stop()
    assert os.path.exists(image_path(stack))
    assert os.stat(image_path(stack)).st_mode & 0o777 == 0o600
    before = start_counting(stack, IMAGE_LOADED)
    assert log_count(stack, IMAGE_LOADED) == before + 1
    return cold


def test_a_start_from_the_image_answers_as_a_full_one(stack, vendor):
    cold = imaged_stack(stack, vendor)
    imaged = (verdicts(stack), license_states(stack))
    assert imaged[0] == cold
    stack.daemon.stop()
    os.unlink(image_path(stack))
    before = start_counting(stack, IMAGE_LOADED)
    assert log_count(stack, IMAGE_LOADED) == before  # a full load
    assert (verdicts(stack), license_states(stack)) == imaged


def test_a_file_tampered_in_place_is_refused_once_checked(stack, vendor):
    imaged_stack(stack, vendor)
    stack.daemon.stop()
    tamper_in_place(lic_path(stack, "lic-2"))
    checks = start_from_image(stack)
    # Never handed out as lic-2, even before the check is done.
    assert str(stack.client.manager.Export("lic-1")).startswith("-----")
    dbus_error(stack.client.manager.Export, "lic-2")
    assert wait_checked(stack, checks).endswith("Checked 2 license files against the start image: 1 changed.")
    assert verdicts(stack)[0] == ["lic-1"]
    quarantine = os.listdir(os.path.join(stack.daemon.state_dir, "quarantine"))
    assert any(q.startswith("lic-2.lic.") for q in quarantine)
    # The next start knows: the image was written again without lic-2.
    stack.daemon.restart()
    assert verdicts(stack)[0] == ["lic-1"]


def test_an_unchanged_start_checks_and_changes_nothing(stack, vendor):
    cold = imaged_stack(stack, vendor)
    assert wait_checked(stack, 0).endswith("Checked 2 license files against the start image: 0 changed.")
    assert verdicts(stack) == cold


def test_a_file_added_or_removed_means_a_full_load(stack, vendor):
    cold = imaged_stack(stack, vendor)
    stack.daemon.stop()
    os.rename(lic_path(stack, "lic-2"), os.path.join(stack.daemon.state_dir, "lic-2.away"))
    before = start_counting(stack, IMAGE_LOADED)
    assert log_count(stack, IMAGE_LOADED) == before
    assert "start image is out of date" in stack.daemon.read_log()
    assert verdicts(stack)[0] == ["lic-1"]
    stack.daemon.stop()
    os.rename(os.path.join(stack.daemon.state_dir, "lic-2.away"), lic_path(stack, "lic-2"))
    before = start_counting(stack, IMAGE_LOADED)
    assert log_count(stack, IMAGE_LOADED) == before
    assert verdicts(stack) == cold


def test_a_changed_product_means_a_full_load(stack, vendor, tmp_path):
    imaged_stack(stack, vendor)
    prefix = tmp_path / "other"
    vendor("keygen", "--output", str(prefix))
    stack.daemon.stop()
    write_product(stack.products, PRODUCT, str(prefix) + ".pub", offline_url="https://vendor.example/offline")
    before = start_counting(stack, IMAGE_LOADED)
    assert log_count(stack, IMAGE_LOADED) == before
    assert stack.client.check(PRODUCT, "reports") != (True, "licensed")


def test_a_damaged_or_foreign_image_means_a_full_load_and_is_rewritten(stack, vendor):
    cold = imaged_stack(stack, vendor)
    stack.daemon.stop()
    with open(image_path(stack), "rb") as f:
        good = f.read()
    damaged = [good[:5], good[:-1], good + b"\0", b"", good[:100] + bytes([good[100] ^ 1]) + good[101:],
               b"LICDSI02" + good[8:]]
    for data in damaged:
        with open(image_path(stack), "wb") as f:
            f.write(data)
        before = start_counting(stack, IMAGE_LOADED)
        assert log_count(stack, IMAGE_LOADED) == before
        assert verdicts(stack) == cold
        stack.daemon.stop()
        before = start_counting(stack, IMAGE_LOADED)  # rewritten: used again
        assert log_count(stack, IMAGE_LOADED) == before + 1
        assert verdicts(stack) == cold
        stack.daemon.stop()
    # Writable by others: not ours alone, so not believed, and replaced.
    os.chmod(image_path(stack), 0o666)
    before = start_counting(stack, IMAGE_LOADED)
    assert log_count(stack, IMAGE_LOADED) == before
    assert verdicts(stack) == cold
    stack.daemon.stop()
    assert os.stat(image_path(stack)).st_mode & 0o777 == 0o600


def test_more_files_than_one_chunk_are_all_checked(tmp_path):
    """The check reads 256 files per event-loop iteration: all of them are
    read, and a tampered one past the first chunk is found."""
    d = str(tmp_path / "m")
    run([os.path.join(BUILD, "bench", "make-licenses"), d, "600"])
    bus = Bus(str(tmp_path))
    daemon = None
    try:
        daemon = Daemon(bus, os.path.join(d, "state"), os.path.join(d, "products"),
                        config=os.path.join(d, "licensed.conf"))
        daemon.stop()  # writes the image
        stack = types.SimpleNamespace(daemon=daemon)
        for changed in (0, 1):
            if changed:
                tamper_in_place(os.path.join(d, "state", "licenses", "bench-00599.lic"))
            checks = start_from_image(stack)
            assert wait_checked(stack, checks).endswith(
                f"Checked 600 license files against the start image: {changed} changed.")
            daemon.stop()
        assert "bench-00599.lic" not in os.listdir(os.path.join(d, "state", "licenses"))
    finally:
        if daemon:
            daemon.stop()
        bus.stop()
