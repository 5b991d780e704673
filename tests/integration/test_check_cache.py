# SPDX-License-Identifier: LGPL-2.1-or-later
"""CheckFeature answers from a cache (daemon/verdicts.c). With many
licenses of one product, its answers follow an expiry that happens while
the daemon runs (asked before, during and after), then an install, and a
denial still reaches the journal. Exactness against evaluation itself is
tests/unit/test-verdict-cache.c; this is the daemon around it."""
import datetime
import time

from licensing import PRODUCT, activate
from test_time import restart_with

N = 12


def test_answers_follow_an_expiry_and_an_install(stack, vendor):
    # Licenses that all end at a midnight some 30 days ahead.
    end = (int(time.time()) // 86400 + 30) * 86400
    day = datetime.datetime.fromtimestamp(end, datetime.timezone.utc).strftime("%Y-%m-%d")
    for i in range(N):
        activate(stack, vendor, "--not-after", day, lid=f"cache-{i}")
    # The daemon's clock 4 s before that midnight, moving at real speed.
    restart_with(stack, f"+{end - 4 - int(time.time())}")
    started = time.monotonic()
    assert stack.client.check(PRODUCT, "reports") == (True, "licensed")
    while time.monotonic() - started < 2:
        assert stack.client.check(PRODUCT, "reports") == (True, "licensed")  # from the cache
    while time.monotonic() - started < 6:
        time.sleep(0.1)
    assert stack.client.check(PRODUCT, "reports") == (False, "expired")
    assert stack.client.check(PRODUCT, "reports", release=1) == (False, "expired")
    log = stack.daemon.read_log()
    assert "Feature reports of com.example.app was denied" in log, log

    # An install: the next answer is the new license's.
    activate(stack, vendor, lid="cache-new")
    assert stack.client.check(PRODUCT, "reports") == (True, "licensed")
    assert stack.client.check(PRODUCT, "seats") == (True, "licensed")
