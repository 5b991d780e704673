#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The main job: build licensed and run it end to end on a private D-Bus bus,
# without installing anything into the system. Prints every step.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

tools/install-deps.sh
echo "### Building"
if [ -f build/build.ninja ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
ninja -C build >/dev/null

work=$(mktemp -d /tmp/licensed-demo.XXXXXX)
bus_pid= daemon_pid= server_pid=
cleanup() {
        [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
        [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
        [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT

vendor="$top/build/server/licensed-vendor"
step() { printf '\n### %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
cd "$work"

step "Vendor: create a signing key and a license key for the customer"
show "$vendor" keygen --output vendor
key=$("$vendor" key new)
echo "License key: $key"

step "Vendor: run the licensing server (loopback only)"
"$top/build/server/licensed-server" --db vendor.db --signing-key vendor.key --listen 127.0.0.1:0 >server.log 2>&1 &
server_pid=$!
for _ in $(seq 100); do
        url=$(sed -n 's|.*listening on \(http://[^ ]*\) .*|\1|p' server.log | head -1)
        [ -n "$url" ] && break
        sleep 0.1
done
[ -n "$url" ] || { cat server.log; exit 1; }
echo "licensed-server is at $url"

step "Machine: a private bus and licensed serving the product"
mkdir -p products
cat >products/com.example.app.conf <<CONF
id = "com.example.app";
name = "Example App";
trusted_keys = [ "$(cat vendor.pub)" ];
server_url = "$url";
offline_url = "$url/offline";
CONF
cat products/com.example.app.conf
echo 'idle_timeout = 0;' >licensed.conf
dbus-daemon --config-file="$top/tests/integration/data/bus.conf" --print-address=1 --print-pid=1 --fork >bus.out 2>/dev/null
address=$(sed -n 1p bus.out)
bus_pid=$(sed -n 2p bus.out)
"$top/build/daemon/licensed" --bus-address="$address" --state-dir=state --runtime-dir=run \
        --products-dir=products --config=licensed.conf >licensed.log 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do
        busctl --address="$address" status org.licensed.License1 >/dev/null 2>&1 && break
        sleep 0.1
done
ctl() { printf '$ licensectl %s\n' "$*"; "$top/build/ctl/licensectl" --bus-address="$address" --no-pager "$@"; }

step "Admin: nothing is licensed yet"
ctl check com.example.app reports || echo "(exit status $?: not licensed)"

step "Admin: a typo in the key is caught before anything is sent"
typo="${key:0:13}$( [ "${key:13:1}" = 0 ] && echo 1 || echo 0 )${key:14}"
ctl activate --offline "$typo" || echo "(exit status $?)"

step "Admin: offline activation, step 1 - a signed request to carry to the vendor"
ctl activate --offline --qr=never --output request.txt "$key"
cat request.txt

step "Vendor: answer the request with a license bound to that machine"
show "$vendor" answer --signing-key vendor.key --request request.txt --id demo-0001 \
        --licensee "Demo Customer Ltd" --type subscription --not-after 2027-12-31 \
        --maintenance-until 2027-06-30 --feature reports --feature seats:limit=5 \
        --property edition=Enterprise --output license.txt

step "Admin: offline activation, step 2 - install the license"
ctl install license.txt
ctl status
ctl show demo-0001

step "Applications ask: licensed features, an unlicensed one, a version past maintenance"
ctl check com.example.app reports
ctl check com.example.app analytics || echo "(exit status $?: not licensed)"
ctl check --release-date 2027-09-01 com.example.app reports || echo "(exit status $?: not licensed)"
printf '$ busctl call ... CheckFeature sst com.example.app reports 0\n'
busctl --address="$address" call org.licensed.License1 /org/licensed/License1 \
        org.licensed.License1.Manager CheckFeature sst com.example.app reports 0

step "A tampered license is refused and nothing changes"
sed '6s/./X/10' license.txt >tampered.txt
ctl install tampered.txt || echo "(exit status $?: refused)"

step "Admin: move the license - deactivate offline, the proof goes to the vendor"
ctl deactivate --offline --output proof.txt demo-0001
show "$vendor" check-proof proof.txt
ctl list

step "Online: the vendor creates an entitlement on the server (1 seat)"
online_key=$("$vendor" entitlement create --db vendor.db --product com.example.app --licensee "Online Customer" \
        --seats 1 --feature reports --validation-interval 1d --grace-period 14d)
echo "License key: $online_key"

step "Admin: online activation - the daemon talks to the server without blocking the bus"
ctl activate "$online_key"
ctl check com.example.app reports
ctl validate

step "Vendor: upgrade the entitlement; the machine sees it at its next validation"
show "$vendor" upgrade --db vendor.db --key "$online_key" --feature analytics
ctl check com.example.app analytics || echo "(exit status $?: not yet)"
ctl validate
ctl check com.example.app analytics

step "Vendor: revoke; the machine stops being licensed at its next validation"
show "$vendor" revoke --db vendor.db --key "$online_key"
ctl validate || echo "(exit status $?: a license was revoked)"
ctl check com.example.app reports || echo "(exit status $?: not licensed)"
show "$vendor" activations --db vendor.db --key "$online_key"

step "The daemon's journal events"
grep MESSAGE_ID licensed.log || true

printf '\nDemo finished.\n'
