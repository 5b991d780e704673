#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The include rules of docs/architecture.md ("Layers"), checked on every
#include "..." of the tree's C files:

- core/ includes only core/ (and the generated build-info.h);
- util/ includes only util/ and core/;
- a program (daemon/, ctl/, plugin/, server/, site/) includes util/, core/ and
  itself, never another program's files.

tests/ and bench/ are not checked: a test may reach into what it tests.

Prints each violation as FILE:LINE: and exits 1 if there is any.

    check-includes.py SOURCE_ROOT
"""
import os
import re
import sys

LAYERS = {
    "core": {"core"},
    "util": {"util", "core"},
    "daemon": {"daemon", "util", "core"},
    "ctl": {"ctl", "util", "core"},
    "plugin": {"plugin", "util", "core"},
    "server": {"server", "util", "core"},
    "site": {"site", "util", "core"},
}
GENERATED = {"build-info.h"}


def main():
    root = sys.argv[1]
    where = {}  # header name -> directory that holds it
    for d in LAYERS:
        for name in os.listdir(os.path.join(root, d)):
            if name.endswith(".h"):
                where.setdefault(name, set()).add(d)
    bad = []
    checked = 0
    for d, allowed in LAYERS.items():
        for name in sorted(os.listdir(os.path.join(root, d))):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(d, name)
            with open(os.path.join(root, path)) as f:
                for lineno, line in enumerate(f, 1):
                    m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                    if not m:
                        continue
                    checked += 1
                    header = m.group(1)
                    if header in GENERATED:
                        continue
                    homes = where.get(os.path.basename(header))
                    if not homes:
                        bad.append(f"{path}:{lineno}: includes \"{header}\", which is in no layer")
                    elif not homes & allowed:
                        bad.append(f"{path}:{lineno}: {d}/ may not include {'/'.join(sorted(homes))}/{header}")
    for b in bad:
        print(b)
    print(f"check-includes: {checked} includes checked, {len(bad)} against the rules")
    return 1 if bad else 0


sys.exit(main())
