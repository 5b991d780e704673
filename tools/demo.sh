#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The main job: build licensed and run it end to end in a scratch directory,
# without installing anything into the system. Each step prints what it does.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

tools/install-deps.sh
echo "### Building"
if [ -f build/build.ninja ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
ninja -C build >/dev/null

work=$(mktemp -d /tmp/licensed-demo.XXXXXX)
cleanup() {
        rm -rf "$work"
}
trap cleanup EXIT
vendor="$top/build/server/licensed-vendor"
step() { printf '\n### %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

cd "$work"
step "The vendor creates a signing key pair"
show "$vendor" keygen --output vendor

step "The vendor makes a license key for a customer"
key=$("$vendor" key new)
echo "$key"

step "A typo in the key is caught locally, naming the group"
typo="${key:0:13}$( [ "${key:13:1}" = 0 ] && echo 1 || echo 0 )${key:14}"
show "$vendor" key check "$typo" || true

step "The vendor issues a signed subscription license"
show "$vendor" issue --signing-key vendor.key --id demo-0001 --product com.example.app \
        --licensee "Demo Customer Ltd" --type subscription --not-after 2027-12-31 \
        --maintenance-until 2027-06-30 --feature reports --feature seats:limit=5 \
        --property edition=Enterprise --license-key "$key" --output demo.lic
cat demo.lic

step "Anyone with the public key can verify it and read its fields"
show "$vendor" inspect --public-key vendor.pub demo.lic

step "One changed character in the body and it is rejected"
sed '6s/./X/10' demo.lic >tampered.lic
show "$vendor" inspect --public-key vendor.pub tampered.lic || echo "(exit status $?: rejected, as it must be)"

printf '\nDemo finished.\n'
