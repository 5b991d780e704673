#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Counts individual test cases of one tier and prints "PASSED FAILED SKIPPED".

meson:  testlog.json, counting TAP "ok"/"not ok" lines of each program; a
        program that failed without a TAP failure line (a crash) counts as
        one failure.
junit:  a pytest --junitxml file.
"""
import json
import sys
import xml.etree.ElementTree as ET


def tally_meson(path):
    passed = failed = skipped = 0
    with open(path) as f:
        for line in f:
            t = json.loads(line)
            out = t.get("stdout") or ""
            ok = notok = skip = 0
            for l in out.splitlines():
                if l.startswith("not ok "):
                    notok += 1
                elif l.startswith("ok "):
                    if "# SKIP" in l:
                        skip += 1
                    else:
                        ok += 1
            if t["result"] not in ("OK", "SKIP") and notok == 0:
                notok = 1
            if ok + notok + skip == 0:
                if t["result"] == "OK":
                    ok = 1
                elif t["result"] == "SKIP":
                    skip = 1
            passed += ok
            failed += notok
            skipped += skip
    return passed, failed, skipped


def tally_junit(path):
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = failed = skipped = 0
    for s in suites:
        total += int(s.get("tests", 0))
        failed += int(s.get("failures", 0)) + int(s.get("errors", 0))
        skipped += int(s.get("skipped", 0))
    return total - failed - skipped, failed, skipped


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    try:
        p, f, s = tally_meson(path) if kind == "meson" else tally_junit(path)
    except (OSError, ValueError, ET.ParseError) as e:
        print(f"tally: cannot read {path}: {e}", file=sys.stderr)
        p, f, s = 0, 1, 0
    print(p, f, s)
