# SPDX-License-Identifier: LGPL-2.1-or-later
"""Floating leases when licensed stops (docs/floating.md): the leases taken
for programs go back to the site at once, within a short budget even when
the site is down or never answers, and borrowed leases stay."""
import os
import socket
import threading
import time

from site_server import PRODUCT
from test_floating import borrowed_files, fixed_port, machines, site_used  # noqa: F401 (fixture)
from test_site import make_site

# leases-shutdown.c: 2 s for every lease together, and a quarter second for
# libcurl to report its timeout. The margin is for a loaded test machine.
BUDGET = 2.25
MARGIN = 1.5


def stop_timed(m):
    """SIGTERM to m's licensed, with the program's bus connection still
    open (so that nothing but the shutdown gives its lease back); returns
    the seconds until it exited."""
    t0 = time.monotonic()
    m.daemon.stop()
    return time.monotonic() - t0


def site_leases(m):
    """The site's own list, as m's licensed shows it: (id, borrowed)."""
    *_, leases = m.manager().SiteStatus(timeout=30)
    return sorted((str(l[0]), int(l[7]) != 0) for l in leases)


def test_sigterm_returns_the_program_leases_not_the_borrowed(tmp_path, vendor, vendor_keys, machines):
    # A TTL of an hour: a lease the site frees now was given back, not expired.
    site = make_site(tmp_path, vendor, vendor_keys, seats=3, ttl="1h")
    try:
        a, b = machines("a", site), machines("b", site)
        second = a.bus.connect()
        assert a.checkout()[:2] == (True, "licensed")
        assert a.checkout(second)[:2] == (True, "licensed")
        borrowed = a.ctl("borrow", PRODUCT, "cad", "--for", "1d", "--json").stdout
        assert '"lease"' in borrowed
        assert site_used(b)[0] == {"cad": (3, 3)}
        assert b.checkout()[:2] == (False, "floating-in-use")

        assert stop_timed(a) < BUDGET + MARGIN
        # Right away: only the borrowed lease is still counted at the site.
        assert site_used(b)[0] == {"cad": (1, 3)}
        log = a.daemon.read_log()
        assert log.count("Returned lease ") == 2
        assert f"Returned 2 of 2 lease(s) taken for programs to site {site.site_id} on exit" in log
        assert "Could not return" not in log
        assert b.checkout()[:2] == (True, "licensed")

        # The borrowed lease outlives the daemon, as before.
        second.close()
        a.conn.close()
        a.wrapped(a.daemon.start)
        a.conn = a.bus.connect()
        assert len(borrowed_files(a)) == 2
        assert a.check()[:2] == (True, "licensed")
        assert site_used(b)[0] == {"cad": (2, 3)}
        # The site's list, as a machine sees its own: the borrowed one alone.
        assert [borrowed for _, borrowed in site_leases(a)] == [True]
    finally:
        site.stop()


class SilentListener:
    """Accepts TCP connections on 127.0.0.1:port and never answers: a site
    that hangs (a stopped VM, a full accept queue behind a proxy)."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.held = []
        self.accepted = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.held.append(conn)
            self.accepted += 1

    def close(self):
        self.done.set()
        self.thread.join(5)
        for c in self.held:
            c.close()
        self.sock.close()


def test_sigterm_with_a_stopped_or_hanging_site_is_bounded(tmp_path, vendor, vendor_keys, machines):
    # 2 leases left at the site by the first stop, 2 more, 1 borrowed.
    site = make_site(tmp_path, vendor, vendor_keys, seats=5, ttl="1h")
    fixed_port(site)
    site.stop()
    site.start()
    listener = None
    try:
        a = machines("a", site)
        second = a.bus.connect()
        assert a.checkout()[:2] == (True, "licensed")
        assert a.checkout(second)[:2] == (True, "licensed")
        a.ctl("borrow", PRODUCT, "cad", "--for", "1d")

        # The site is down (connection refused): said so, and quick.
        site.stop()
        assert stop_timed(a) < BUDGET + MARGIN
        log = a.daemon.read_log()
        assert log.count("Could not return lease ") == 2
        assert "Returned 0 of 2 lease(s) taken for programs" in log
        # The borrowed lease survives the restart, as before.
        a.restart()
        assert len(borrowed_files(a)) == 2
        assert a.check()[:2] == (True, "licensed")

        site.start()
        assert a.checkout()[:2] == (True, "licensed")
        assert a.checkout(second)[:2] == (True, "licensed")
        # The site accepts connections and never answers: both returns wait
        # together, and the daemon still ends within the budget.
        site.stop()
        listener = SilentListener(site.port)
        took = stop_timed(a)
        assert took < BUDGET + MARGIN, took
        assert listener.accepted >= 2  # it did try, both at once
        log = a.daemon.read_log()
        assert log.count("Could not return lease ") == 4
        assert log.count("Returned 0 of 2 lease(s) taken for programs") == 2
        listener.close()
        listener = None
        a.restart()
        assert len(borrowed_files(a)) == 2
        assert a.check()[:2] == (True, "licensed")
        second.close()
    finally:
        if listener:
            listener.close()
        site.stop()


def test_sigterm_with_a_site_name_that_does_not_resolve_is_bounded(tmp_path, vendor, vendor_keys, machines):
    """The site joined by name, and the DNS server silent when licensed
    stops: libcurl's lookup thread is left behind (CURLOPT_QUICK_EXIT),
    not waited for (timeout:5 attempts:2, 10 s at least)."""
    site = make_site(tmp_path, vendor, vendor_keys, seats=2, ttl="1h")
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        dns.bind(("127.0.0.77", 53))  # receives the queries, answers none
        a = machines("a")
        hosts, resolv = os.path.join(a.dir, "hosts"), os.path.join(a.dir, "resolv.conf")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 localhost\n127.0.0.1 site.test\n")
        with open(resolv, "w") as f:
            f.write("nameserver 127.0.0.77\noptions timeout:5 attempts:2\n")
        wrap = os.path.join(a.dir, "wrap")
        mid = os.path.join(a.dir, "machine-id")
        with open(wrap, "w") as f:
            f.write("#!/bin/sh\nexec unshare -m sh -c 'mount --bind \"$0\" /etc/machine-id && "
                    f"mount --bind {hosts} /etc/hosts && mount --bind {resolv} /etc/resolv.conf && "
                    f"exec \"$@\"' {mid} \"$@\"\n")
        a.restart()
        a.manager().JoinSite(f"https://site.test:{site.port}", site.token(), site.fingerprint, False, timeout=60)
        assert a.checkout()[:2] == (True, "licensed")
        # The name is the DNS server's to answer now (the same file: the bind mount holds its inode).
        with open(hosts, "w") as f:
            f.write("127.0.0.1 localhost\n")

        took = stop_timed(a)
        assert took < BUDGET + MARGIN, took
        log = a.daemon.read_log()
        assert "Could not return lease " in log and "Returned 0 of 1 lease(s)" in log
    finally:
        dns.close()
        site.stop()
