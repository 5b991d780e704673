#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs a command only while FEATURE of PRODUCT is licensed, with licensectl:
#
#   check-feature.sh PRODUCT FEATURE [COMMAND...]
#
# "licensectl check" exits 0 if licensed, 1 if not, 3 if it cannot ask.
# LICENSECTL names the binary (default: licensectl in PATH);
# LICENSED_BUS_ADDRESS selects another bus than the system bus.
set -u

if [ $# -lt 2 ]; then
    echo "usage: $0 PRODUCT FEATURE [COMMAND...]" >&2
    exit 2
fi
product=$1 feature=$2
shift 2

licensectl=${LICENSECTL:-licensectl}
if [ -n "${LICENSED_BUS_ADDRESS:-}" ]; then
    "$licensectl" --bus-address="$LICENSED_BUS_ADDRESS" check --quiet "$product" "$feature"
else
    "$licensectl" check --quiet "$product" "$feature"
fi
status=$?

case $status in
0)
    echo "$feature of $product is licensed."
    if [ $# -gt 0 ]; then
        exec "$@"
    fi
    ;;
1)
    echo "$feature of $product is not licensed." >&2
    ;;
*)
    echo "Cannot ask the license service (licensectl exited with $status)." >&2
    ;;
esac
exit "$status"
