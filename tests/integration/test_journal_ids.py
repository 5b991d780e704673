# SPDX-License-Identifier: LGPL-2.1-or-later
"""The journal events are defined in three places that must agree: the
program (daemon/events.h, server/server-log.h), the catalog journalctl -x
reads (systemd/licensed.catalog, systemd/licensed-server.catalog) and the
monitoring reference (docs/journal.md). A MESSAGE_ID added, changed or
dropped in one of them fails here."""
import os
import re

from conftest import SOURCE

ID = re.compile(r"[0-9a-f]{32}")


def read(*path):
    with open(os.path.join(SOURCE, *path)) as f:
        return f.read()


def daemon_ids():
    return dict(re.findall(r'#define (EVENT_[A-Z_]+) "([0-9a-f]{32})"', read("daemon", "events.h")))


def server_ids():
    return dict(re.findall(r'#define (SERVER_EVENT_[A-Z_]+) "([0-9a-f]{32})"', read("server", "server-log.h")))


def catalog_entries(name="licensed.catalog"):
    """{MESSAGE_ID: text of its entry}"""
    parts = re.split(r"^-- ([0-9a-f]{32})\n", read("systemd", name), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def doc_ids():
    doc = read("docs", "journal.md")
    table = set(re.findall(r"^\| [^|]+ \| `([0-9a-f]{32})` \|", doc, flags=re.M))
    sections = set(re.findall(r"^### .* — `([0-9a-f]{32})`$", doc, flags=re.M))
    return table, sections


def test_every_event_has_a_catalog_entry_and_a_doc_section():
    ids = daemon_ids()
    assert len(ids) >= 12, ids
    assert len(set(ids.values())) == len(ids), "two events share a MESSAGE_ID"
    catalog = catalog_entries()
    assert set(catalog) == set(ids.values()), (set(ids.values()) ^ set(catalog))
    table, sections = doc_ids()
    every = set(ids.values()) | set(server_ids().values())
    assert table == every, table ^ every
    assert sections == every, sections ^ every


def test_every_server_event_has_a_catalog_entry():
    ids = server_ids()
    assert set(ids) == {"SERVER_EVENT_STARTED", "SERVER_EVENT_ACTIVATED", "SERVER_EVENT_SEAT_LIMIT",
                        "SERVER_EVENT_REVOKED_SEEN", "SERVER_EVENT_DATABASE_UNREACHABLE",
                        "SERVER_EVENT_TOKEN_REFUSED", "SERVER_EVENT_PORTAL_RELEASE",
                        "SERVER_EVENT_TRIAL_RESET"}, ids
    assert len(set(ids.values())) == len(ids), "two events share a MESSAGE_ID"
    assert not set(ids.values()) & set(daemon_ids().values()), "the server reuses a daemon's MESSAGE_ID"
    catalog = catalog_entries("licensed-server.catalog")
    assert set(catalog) == set(ids.values()), set(ids.values()) ^ set(catalog)
    header = read("server", "server-log.h")
    struct = header[header.index("typedef struct ServerEventFields"):header.index("} ServerEventFields;")]
    fields = {n.upper() for n in re.findall(r"const char \*([a-z_]+);", struct)}
    source = read("server", "server-log.c")
    for name in fields:
        assert f'add(&l, "{name}"' in source, f"field {name} is not sent"
    for mid, text in catalog.items():
        headers = dict(re.findall(r"^([A-Z][A-Za-z-]+): (.+)$", text.split("\n\n")[0], flags=re.M))
        assert {"Subject", "Defined-By", "Support"} <= set(headers), (mid, headers)
        assert headers["Defined-By"] == "licensed-server"
        assert len(text.split("\n\n", 1)[1].strip()) > 80, mid
        for field in re.findall(r"@([A-Z_]+)@", text):
            assert field in fields | {"MESSAGE"}, (mid, field)


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
