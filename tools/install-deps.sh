#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs what building, the demo and the tests need, from Debian 12's
# archive only. Idempotent: runs apt-get only when something is missing.
set -euo pipefail

packages=(
        # build
        gcc make meson ninja-build pkg-config go-md2man
        libsystemd-dev libssl-dev libconfig-dev libjson-c-dev
        libcurl4-openssl-dev libmicrohttpd-dev libsqlite3-dev libpq-dev libqrencode-dev libpam0g-dev
        # where the bus and bash-completion read their files (their pkg-config files)
        libdbus-1-dev bash-completion
        # the Debian packages (tools/build-debs.sh) and their check
        debhelper dpkg-dev lintian
        # runtime pieces the demo and tests start for real
        dbus openssl
        # tests
        libcmocka-dev python3 python3-pytest python3-cryptography python3-dbus python3-dbusmock python3-gi
        chromium python3-websocket
        postgresql-15 # the PostgreSQL backend's tests start a private server (tests/integration/postgres.py)
        libpam-wrapper pamtester faketime valgrind
        wrk # bench/server.sh (tests/integration/test_bench_server.py)
        clang libclang-rt-14-dev # libFuzzer and the sanitizer runtimes are only a Recommends of clang
        # system tier
        debootstrap systemd-container tmux
)

missing=()
for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: missing packages: ${missing[*]}; run as root to install them" >&2
        exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
