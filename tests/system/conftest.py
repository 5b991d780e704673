# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures of the system tier: a booted container with the build installed.

Where the host cannot boot one (not root, no systemd-nspawn, no rootfs), the
tests are skipped with the reason, except in CI (CI=true), where that is a
failure: the tier must not pass by running nothing."""
import pytest

from harness import IN_CI, Machine, Unavailable, vendor


def boot(**kw):
    m = Machine(**kw)
    try:
        m.start()
        return m
    except Unavailable as e:
        reason = str(e)
    if IN_CI:
        pytest.fail(f"cannot boot a container in CI: {reason}", pytrace=False)
    pytest.skip(f"cannot boot a container here: {reason}")


def booted():
    m = boot()
    try:
        yield m
    finally:
        m.stop()


@pytest.fixture(scope="module")
def machine():
    """One container for a test module (boots in a few seconds): tests in a
    module share it, so they leave it as they found it or come last."""
    yield from booted()


@pytest.fixture
def fresh_machine():
    """A container of the test's own, for tests that change it for good."""
    yield from booted()


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    """A vendor signing key pair made on the host: (private, public) paths."""
    d = tmp_path_factory.mktemp("vendor")
    vendor("keygen", "--output", str(d / "vendor"))
    return str(d / "vendor.key"), str(d / "vendor.pub")
