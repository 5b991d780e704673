# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers shared by the integration tests that need an installed license:
offline activation through the daemon and licensed-vendor."""
import dbus
import pytest

PRODUCT = "com.example.app"
KEY = "00001-00002-00003-00004-00005"


def request_activation(stack, key=KEY, product=PRODUCT):
    req, url = stack.client.manager.RequestOfflineActivation(product, key, False)
    return str(req), str(url)


def answer(stack, vendor, request, *extra, lid="lic-1"):
    p = stack.tmp / f"{lid}-{abs(hash(request)) % 10**8}.lic"
    vendor("answer", "--signing-key", stack.signing_key, "--request", "-", "--id", lid, "--licensee", "Test Ltd",
           "--feature", "reports", "--feature", "seats:limit=2", "--output", str(p), *extra, input=request)
    return p.read_text()


def activate(stack, vendor, *extra, lid="lic-1"):
    """Offline activation round trip; extra are licensed-vendor fields."""
    req, _ = request_activation(stack)
    text = answer(stack, vendor, req, *extra, lid=lid)
    path = stack.client.manager.InstallLicense(text, False)
    return text, str(path)


def dbus_error(call, *args):
    with pytest.raises(dbus.exceptions.DBusException) as e:
        call(*args)
    return e.value.get_dbus_name(), e.value.get_dbus_message()
