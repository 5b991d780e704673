#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Asks licensed over D-Bus (dbus-python) whether FEATURE of PRODUCT is
licensed.

    check_feature.py [--bus-address=ADDRESS] PRODUCT FEATURE

Exits 0 if licensed, 1 if not, 3 if licensed cannot be asked: the same
codes as "licensectl check". Without --bus-address it uses the system bus
(LICENSED_BUS_ADDRESS in the environment also selects another bus)."""
import argparse
import os
import sys

import dbus

SERVICE = "org.licensed.License1"
PATH = "/org/licensed/License1"
MANAGER = "org.licensed.License1.Manager"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bus-address", default=os.environ.get("LICENSED_BUS_ADDRESS"))
    parser.add_argument("product")
    parser.add_argument("feature")
    args = parser.parse_args()

    try:
        bus = dbus.bus.BusConnection(args.bus_address) if args.bus_address else dbus.SystemBus()
        manager = dbus.Interface(bus.get_object(SERVICE, PATH), MANAGER)
        # 0: no release date, so maintenance is not checked.
        licensed, reason, expires, grace_end = manager.CheckFeature(args.product, args.feature, dbus.UInt64(0),
                                                                    timeout=5)
    except dbus.exceptions.DBusException as e:
        # Not the same as "not licensed": the program decides what fits.
        print(f"Cannot ask the license service: {e.get_dbus_message() or e}", file=sys.stderr)
        return 3

    if not licensed:
        print(f"{args.feature} of {args.product} is not licensed ({reason}).")
        return 1
    until = f", until {int(expires) // 10**6} (seconds since the epoch)" if expires else ""
    print(f"{args.feature} of {args.product} is licensed ({reason}{until}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
