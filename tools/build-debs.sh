#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the Debian packages of this tree (debian/) with dpkg-buildpackage,
# in a copy of the tree, so the work tree stays clean and the .deb files
# land in one place:
#
#   tools/build-debs.sh OUTDIR [VERSION]
#
# OUTDIR gets the .deb, .buildinfo and .changes files (and src/, the copy
# built in). With VERSION, the copy's debian/changelog gets an entry for
# that version on top: the system tier builds the same tree as an older
# version, to test upgrades. DEB_BUILD_OPTIONS is passed on (nocheck skips
# the unit tests). Build dependencies: tools/install-deps.sh.
set -euo pipefail

out=${1:?usage: tools/build-debs.sh OUTDIR [VERSION]}
version=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

rm -rf "$out/src"
mkdir "$out/src"
# What git knows of (tracked, or new and not ignored), as in the work tree.
(cd "$top" && git ls-files -z --cached --others --exclude-standard) |
        (cd "$top" && xargs -0 cp --parents -a -t "$out/src" 2>/dev/null || true)
# Files deleted in the work tree but still in the index are skipped above.
[ -f "$out/src/debian/control" ] || { echo "build-debs: no debian/ in $top" >&2; exit 1; }

if [ -n "$version" ]; then
        entry=$(printf 'licensed (%s) unstable; urgency=medium\n\n  * The same tree, built as version %s (an older version, to test upgrades).\n\n -- %s  %s\n\n' \
                "$version" "$version" "$(sed -n 's/^ -- \(.*>\)  .*/\1/p' "$out/src/debian/changelog" | head -1)" \
                "$(date -R -d @0)")
        printf '%s\n' "$entry" | cat - "$out/src/debian/changelog" >"$out/src/debian/changelog.new"
        mv "$out/src/debian/changelog.new" "$out/src/debian/changelog"
        # That release would have introduced the symbols it has, so its
        # packages can be installed together.
        sed -i "s/^\( [^ ]*\) [^ ]*\$/\1 $version/" "$out/src/debian/liblicensed1.symbols"
fi

cd "$out/src"
dpkg-buildpackage -us -uc -b -j"$(nproc)" >"$out/build.log" 2>&1 || {
        tail -60 "$out/build.log" >&2
        echo "build-debs: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
        exit 1
}
# dpkg-buildpackage writes beside the source tree: that is $out.
ls "$out"/*.deb
