#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Regenerates the screenshots of docs/portal.md (docs/images/portal-*.png):
# runs the portal's Chromium tests (tests/integration/test_portal.py, the
# SQLite run) with $LICENSED_SCREENSHOT_DIR set, so the pictures are the
# ones a passing test run took.
#
#   tools/portal-screenshots.sh [BUILD_DIR]   (default build-dev)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-dev}
ninja -C "$build"
LICENSED_BUILD_DIR=$PWD/$build LICENSED_SCREENSHOT_DIR=$PWD/docs/images \
        /usr/bin/python3 -m pytest -q tests/integration/test_portal.py -k "chromium and sqlite"
ls -l docs/images/portal-*.png
