# SPDX-License-Identifier: LGPL-2.1-or-later
"""The journal events are defined in three places that must agree: the
daemon (daemon/events.h), the catalog journalctl -x reads
(systemd/licensed.catalog) and the monitoring reference (docs/journal.md).
A MESSAGE_ID added, changed or dropped in one of them fails here."""
import os
import re

from conftest import SOURCE

ID = re.compile(r"[0-9a-f]{32}")


def read(*path):
    with open(os.path.join(SOURCE, *path)) as f:
        return f.read()


def daemon_ids():
    return dict(re.findall(r'#define (EVENT_[A-Z_]+) "([0-9a-f]{32})"', read("daemon", "events.h")))


def catalog_entries():
    """{MESSAGE_ID: text of its entry}"""
    parts = re.split(r"^-- ([0-9a-f]{32})\n", read("systemd", "licensed.catalog"), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def test_every_event_has_a_catalog_entry_and_a_doc_section():
    ids = daemon_ids()
    assert len(ids) >= 12, ids
    assert len(set(ids.values())) == len(ids), "two events share a MESSAGE_ID"
    catalog = catalog_entries()
    assert set(catalog) == set(ids.values()), (set(ids.values()) ^ set(catalog))
    doc = read("docs", "journal.md")
    table = set(re.findall(r"^\| [^|]+ \| `([0-9a-f]{32})` \|", doc, flags=re.M))
    sections = set(re.findall(r"^### .* — `([0-9a-f]{32})`$", doc, flags=re.M))
    assert table == set(ids.values()), table ^ set(ids.values())
    assert sections == set(ids.values()), sections ^ set(ids.values())


def test_catalog_entries_are_complete():
    for mid, text in catalog_entries().items():
        headers = dict(re.findall(r"^([A-Z][A-Za-z-]+): (.+)$", text.split("\n\n")[0], flags=re.M))
        assert {"Subject", "Defined-By", "Support"} <= set(headers), (mid, headers)
        assert headers["Defined-By"] == "licensed"
        body = text.split("\n\n", 1)[1].strip()
        assert len(body) > 80, f"{mid}: the entry should explain what happened and what to do"
        # every @FIELD@ it uses is a field the daemon sends
        for field in re.findall(r"@([A-Z_]+)@", text):
            assert field in ("LICENSE_ID", "PRODUCT", "FEATURE", "REASON", "DAYS_LEFT", "MESSAGE"), (mid, field)
