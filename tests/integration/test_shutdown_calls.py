# SPDX-License-Identifier: LGPL-2.1-or-later
"""A call still waiting on the licensing server when licensed is stopped is
answered by licensed itself (daemon/pending-call.c), at once, instead of
being dropped with the process; licensed still exits cleanly (and, under
the valgrind tier's wrapper, without a leak)."""
import threading
import time

import dbus

from harness import SERVICE, MANAGER, MANAGER_PATH, wait_for
from test_online import KEY, PRODUCT, online  # noqa: F401 (the fixture)


def stop_during(online, method, *args, settle=0.0):
    """Calls method in a thread, stops licensed settle seconds after the
    server has seen its request, and checks what the caller got."""
    conn = online.bus.connect()
    manager = dbus.Interface(conn.get_object(SERVICE, MANAGER_PATH), MANAGER)
    result = {}
    n = len(online.server.requests)

    def call():
        try:
            result["ok"] = getattr(manager, method)(*args, timeout=60)
        except dbus.exceptions.DBusException as e:
            result["error"] = (e.get_dbus_name(), e.get_dbus_message())

    t = threading.Thread(target=call)
    t.start()
    wait_for(lambda: len(online.server.requests) > n, what=f"{method}'s request at the server")
    time.sleep(settle)
    t0 = time.monotonic()
    online.daemon.stop()  # SIGTERM; fails the test unless licensed exits 0
    t.join(30)
    assert not t.is_alive()
    assert "ok" not in result, result
    # licensed's own words, not the bus's "recipient disconnected": the
    # same NoReply name, so clients take it as before.
    assert result.get("error") == ("org.freedesktop.DBus.Error.NoReply",
                                   "licensed is shutting down and did not finish this call; call again."), result
    assert time.monotonic() - t0 < 10


def test_activate_waiting_on_the_server(online):  # noqa: F811
    online.server.mode = "slow"  # answers well, after stall_seconds
    online.server.stall_seconds = 20
    stop_during(online, "Activate", PRODUCT, KEY, False)


def test_validate_between_retries(online):  # noqa: F811
    online.client.manager.Activate(PRODUCT, KEY, False, timeout=30)
    online.server.mode = "500"  # licensed waits 2 s, then asks again
    stop_during(online, "Validate", "srv-1", False, settle=0.5)
