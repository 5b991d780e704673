# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared fixtures: where the build is, and running its programs."""
import os
import subprocess

import pytest

BUILD = os.environ.get("LICENSED_BUILD_DIR") or os.path.join(os.path.dirname(__file__), "..", "..", "build")
BUILD = os.path.abspath(BUILD)
SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def binary(name):
    for sub in ("server", "ctl", "daemon"):
        path = os.path.join(BUILD, sub, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"{name} not found in {BUILD}; build first")


def run(args, check=True, input=None, timeout=60, env=None):
    """Runs a command; returns CompletedProcess with text output."""
    p = subprocess.run(args, capture_output=True, text=True, input=input, timeout=timeout, env=env)
    if check and p.returncode != 0:
        raise AssertionError(f"{args} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


@pytest.fixture
def vendor(tmp_path):
    """Runs licensed-vendor."""
    exe = binary("licensed-vendor")

    def _run(*args, check=True, input=None):
        return run([exe, *args], check=check, input=input)

    return _run
