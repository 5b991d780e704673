# SPDX-License-Identifier: LGPL-2.1-or-later
"""The customer portal of licensed-server (/portal, docs/portal.md): in a
real headless Chromium (signing in, the entitlement and its machines, a
release, a license download, a wrong key, an expired session), and the
security rules over plain HTTP (cookies, CSRF, another key's machines,
the sign-in rate limit, the release limit). The screenshots of the
Chromium tests go to the test's directory, and to $LICENSED_SCREENSHOT_DIR
when set (tools/portal-screenshots.sh: docs/images/)."""
import base64
import calendar
import json
import os
import re
import shutil
import time
import urllib.parse

import pytest

from licensed_server import LicensedServer  # noqa: E402
from machine import PRODUCT, new_nonce  # noqa: E402
from test_server import (LICENSEE, Browser, activate, active_seats, admin, assert_self_contained, db,  # noqa: F401,E402
                         entitlement, inspect, machine)

from conftest import binary, run  # noqa: E402

sqlite_only = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
RELEASE_EVENT = "1f63f374cb184632b820f09aec71c22f"


@pytest.fixture
def portal(db, vendor_keys, tmp_path):
    """Starts licensed-server with extra options (each its own log); stops
    them all after."""
    servers = []

    def _start(*extra):
        log = str(tmp_path / f"server-{len(servers)}.log")
        servers.append(LicensedServer(db, vendor_keys[0], extra=extra, log_path=log))
        return servers[-1]
    try:
        yield _start
    finally:
        for s in servers:
            s.stop()


class Client:
    """A browser as far as cookies go, on plain http.client: redirects are
    not followed, so every answer is seen."""

    def __init__(self, server):
        self.server = server
        self.cookies = {}
        self.set_cookie = []

    def request(self, method, path, fields=None, content_type="application/x-www-form-urlencoded"):
        """fields: a dict to encode, or the body as it is (str)."""
        headers = {}
        body = None
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if fields is not None:
            body = (fields if isinstance(fields, str) else urllib.parse.urlencode(fields)).encode()
            headers["Content-Type"] = content_type
        c = self.connection()
        try:
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            self.remember(r)
            return r.status, r.headers, r.read().decode()
        finally:
            c.close()

    def connection(self):
        return self.server.connection()

    def remember(self, r):
        """Keeps the cookies a response sets, forgets those it deletes."""
        self.set_cookie = r.headers.get_all("Set-Cookie") or []
        for line in self.set_cookie:
            name, value = line.split(";")[0].split("=", 1)
            if "Max-Age=0" in line:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, fields, **kw):
        return self.request("POST", path, fields, **kw)

    def sign_in_token(self):
        status, _, body = self.get("/portal")
        assert status == 200
        return re.search(r'name="csrf" value="([0-9a-f]{64})"', body).group(1)

    def sign_in(self, key):
        status, headers, body = self.post("/portal/sign-in", {"csrf": self.sign_in_token(), "key": key})
        assert status == 303 and headers["Location"] == "/portal", body
        self.sign_in_cookies = self.set_cookie
        status, _, body = self.get("/portal")
        assert status == 200 and ('id="activations"' in body or "No machine has activated" in body), body
        return re.search(r'name="csrf" value="([0-9a-f]{64})"', body).group(1), body


def activate_machine(server, key, hostname):
    d = machine()
    r = activate(server, d, key, hostname=hostname, nonce=new_nonce())
    assert r.status == 200, r.body
    return d, r.json["license_id"]


# Plain HTTP: the security rules --------------------------------------------------


@sqlite_only
def test_no_cookie_gets_the_sign_in_page_with_strict_cookies(portal):
    server = portal()
    client = Client(server)
    status, headers, body = client.get("/portal")
    assert status == 200 and 'action="/portal/sign-in"' in body and "License key" in body
    (cookie,) = client.set_cookie
    assert cookie.startswith("licensed_portal_sign_in=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/portal" in cookie
    assert "Secure" not in cookie  # plain HTTP here; test_portal_https has it
    csp = headers["Content-Security-Policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert "form-action 'self'" in csp and headers["X-Frame-Options"] == "DENY"
    # nothing else without a session: the sign-in page says why
    for method, path in (("GET", "/portal/license/DH4GX-0123456789abcdef"), ("POST", "/portal/release"),
                         ("POST", "/portal/sign-out")):
        status, _, body = Client(server).request(method, path, {"license_id": "x"} if method == "POST" else None)
        assert status == 401 and "Sign in with your license key first." in body, (path, body)


def test_sign_in_csrf_other_keys_and_release(portal, entitlement, admin):
    server = portal()
    key = entitlement("--seats", "3")
    other = entitlement("--seats", "3")
    _, mine = activate_machine(server, key, "mine.example.com")
    _, theirs = activate_machine(server, other, "theirs.example.com")

    client = Client(server)
    # the sign-in form without its token, or with another one: 403
    client.get("/portal")
    status, _, body = client.post("/portal/sign-in", {"key": key})
    assert status == 403 and "The sign-in form had expired" in body
    status, _, body = client.post("/portal/sign-in", {"key": key, "csrf": "0" * 64})
    assert status == 403
    # a typed key: lower case, spaces
    csrf, body = client.sign_in("  " + key.lower().replace("-", " - ") + " ")
    (session,) = [c for c in client.sign_in_cookies if c.startswith("licensed_portal=")]
    assert "HttpOnly" in session and "SameSite=Strict" in session and "Path=/portal" in session
    assert "licensed_portal" in client.cookies and len(client.cookies["licensed_portal"]) == 64
    assert "licensed_portal_sign_in" not in client.cookies
    assert PRODUCT in body and LICENSEE in body and "mine.example.com" in body
    assert "theirs.example.com" not in body and theirs not in body
    assert "1 of 3 in use" in body

    # another key's machine: not found, for a download and a release alike
    status, _, body = client.get(f"/portal/license/{theirs}")
    assert status == 404 and "This license key has no machine with that license." in body
    status, _, body = client.post("/portal/release", {"csrf": csrf, "license_id": theirs})
    assert status == 404
    assert active_seats(admin, other) == 1

    # no CSRF token, or a wrong one: 403, and nothing released
    status, _, body = client.post("/portal/release", {"license_id": mine})
    assert status == 403 and "The form was not sent from this portal" in body
    status, _, body = client.post("/portal/release", {"license_id": mine, "csrf": csrf[::-1]})
    assert status == 403
    # not a form: refused before anything is read
    status, headers, body = client.post("/portal/release", {"license_id": mine, "csrf": csrf},
                                        content_type="application/json")
    assert status == 415 and "The form was not sent by this portal" in body
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert active_seats(admin, key) == 1

    # the license of my machine
    status, headers, text = client.get(f"/portal/license/{mine}")
    assert status == 200 and text.startswith("-----BEGIN LICENSED LICENSE-----"), text
    assert headers["Content-Disposition"] == f'attachment; filename="{mine}.lic"'

    # the release, then the page says so once
    status, headers, _ = client.post("/portal/release", {"csrf": csrf, "license_id": mine})
    assert status == 303 and headers["Location"] == "/portal"
    assert active_seats(admin, key) == 0
    status, _, body = client.get("/portal")
    assert "The machine mine.example.com was released" in body and "Released 20" in body
    status, _, body = client.get("/portal")
    assert "was released:" not in body
    # a released machine has no license to download, and is not released twice
    status, _, body = client.get(f"/portal/license/{mine}")
    assert status == 404 and "This machine was released" in body
    status, _, body = client.post("/portal/release", {"csrf": csrf, "license_id": mine})
    assert status == 409 and "was released already" in body

    # the vendor hears of it
    log = server.read_log()
    assert "released machine" in log and f"[MESSAGE_ID={RELEASE_EVENT}]" in log
    assert key not in log  # masked only

    # sign out: the session is gone, its cookie deleted
    status, headers, _ = client.post("/portal/sign-out", {"csrf": csrf})
    assert status == 303 and "licensed_portal" not in client.cookies
    assert any(c.startswith("licensed_portal=;") and "Max-Age=0" in c for c in client.set_cookie)


@sqlite_only
def test_wrong_keys_are_sentences_and_guessing_hits_the_rate_limit(portal, entitlement, vendor, tmp_path):
    server = portal()
    key = entitlement()
    client = Client(server)
    status, _, body = client.post("/portal/sign-in", {"csrf": client.sign_in_token(), "key": "hello"})
    assert status == 400 and "That is not a license key:" in body
    # a well-formed key this server does not have (made in another database)
    unknown = vendor("entitlement", "create", "--db", str(tmp_path / "other.db"), "--product", PRODUCT,
                     "--licensee", LICENSEE).stdout.strip()
    status, _, body = client.post("/portal/sign-in", {"csrf": client.sign_in_token(), "key": unknown})
    assert status == 401 and "No license has this key. Check it against the e-mail or invoice" in body
    attempts = 2
    statuses = []
    while attempts < 12:
        status, headers, body = client.post("/portal/sign-in", {"csrf": client.sign_in_token(), "key": "hello"})
        statuses.append(status)
        attempts += 1
    assert statuses[-1] == 429, statuses
    assert "Too many sign-in attempts from your address." in body and int(headers["Retry-After"]) >= 1
    # over the limit, even the right key waits
    status, _, _ = client.post("/portal/sign-in", {"csrf": client.sign_in_token(), "key": key})
    assert status == 429
    assert "sign-in attempts over the limit" in server.read_log()


def test_release_limit(portal, entitlement, admin):
    server = portal("--portal-release-limit", "1", "--portal-support", "help@example.com")
    key = entitlement("--seats", "3")
    _, a = activate_machine(server, key, "a.example.com")
    _, b = activate_machine(server, key, "b.example.com")
    client = Client(server)
    csrf, _ = client.sign_in(key)
    assert client.post("/portal/release", {"csrf": csrf, "license_id": a})[0] == 303
    status, _, body = client.post("/portal/release", {"csrf": csrf, "license_id": b})
    assert status == 409, body
    assert "You have released 1 machine in the last 30 days, as many as the vendor allows." in body
    assert re.search(r"The next release is possible on 20\d\d-\d\d-\d\d \d\d:\d\d UTC; until then, contact support",
                     body), body
    assert "mailto:help@example.com" in body
    assert active_seats(admin, key) == 1
    # the limit is per key: another key's customer releases as before
    other = entitlement("--seats", "1")
    _, c = activate_machine(server, other, "c.example.com")
    other_client = Client(server)
    csrf, _ = other_client.sign_in(other)
    assert other_client.post("/portal/release", {"csrf": csrf, "license_id": c})[0] == 303


def releases_used(body):
    m = re.search(r'<span id="releases-used">(\d+) of (\d+) releases? used in the last 30 days</span>', body)
    return (int(m.group(1)), int(m.group(2))) if m else None


def test_the_page_shows_how_much_of_the_release_limit_is_used(portal, entitlement, admin):
    server = portal("--portal-release-limit", "2")
    key = entitlement("--seats", "4")
    machines = [activate_machine(server, key, f"m{i}.example.com") for i in range(4)]
    client = Client(server)
    csrf, body = client.sign_in(key)
    assert releases_used(body) == (0, 2) and 'id="next-release"' not in body, body
    assert "You can release 2 machines in any 30 days" in body

    assert client.post("/portal/release", {"csrf": csrf, "license_id": machines[0][1]})[0] == 303
    body = client.get("/portal")[2]
    assert releases_used(body) == (1, 2) and 'id="next-release"' not in body, body
    # the vendor's release is not the customer's: it does not count
    admin("release", "--key", key, "--machine-id", machines[1][0].machine_id)
    body = client.get("/portal")[2]
    assert releases_used(body) == (1, 2), body

    before = time.time()
    assert client.post("/portal/release", {"csrf": csrf, "license_id": machines[2][1]})[0] == 303
    after = time.time()
    body = client.get("/portal")[2]
    assert releases_used(body) == (2, 2), body
    # all used: the day of the next one, 30 days after the oldest (to the minute shown)
    when = re.search(r'The next release is possible on <span id="next-release">'
                     r'(\d\d\d\d-\d\d-\d\d \d\d:\d\d) UTC</span>', body)
    assert when, body
    shown = calendar.timegm(time.strptime(when.group(1), "%Y-%m-%d %H:%M"))
    assert before + 30 * 86400 - 60 <= shown <= after + 30 * 86400, (when.group(1), before)
    # and the release past the limit names the same day
    status, _, refused = client.post("/portal/release", {"csrf": csrf, "license_id": machines[3][1]})
    assert status == 409 and f"The next release is possible on {when.group(1)} UTC" in refused, refused

    # another key: its own count
    other = entitlement("--seats", "1")
    activate_machine(server, other, "o.example.com")
    assert releases_used(Client(server).sign_in(other)[1]) == (0, 2)


@sqlite_only
def test_without_a_release_limit_the_page_counts_nothing(portal, entitlement):
    server = portal("--portal-release-limit", "0")
    key = entitlement("--seats", "2")
    activate_machine(server, key, "a.example.com")
    _, body = Client(server).sign_in(key)
    assert 'id="release-policy"' in body and "releases-used" not in body and "in any 30 days" not in body, body


@sqlite_only
def test_the_servers_rate_limit_is_a_page_too(portal):
    server = portal("--rate-limit", "1/min", "--rate-burst", "2")
    client = Client(server)
    assert client.get("/portal")[0] == 200 and client.get("/portal")[0] == 200
    status, headers, body = client.get("/portal")
    assert status == 429 and int(headers["Retry-After"]) >= 1
    assert "Too many requests from your address. Try again in" in body and "<!DOCTYPE html>" in body


@sqlite_only
def test_options_are_checked_and_escaped(portal, db, vendor_keys, entitlement):
    for option, value, sentence in (("--portal-color", "red", "is not a colour #rrggbb"),
                                     ("--portal-logo-url", "http://example.com/logo.png", "is not an https:// URL"),
                                     ("--portal-logo-url", "https://example.com/a;b", "is not an https:// URL"),
                                     ("--portal-support", "nobody", "neither an e-mail address"),
                                     ("--portal-idle-timeout", "0", "is not a number from 1 to 86400"),
                                     ("--portal-release-limit", "-1", "is not a number from 0 to 1000")):
        r = run([binary("licensed-server"), "--db", db, "--signing-key", vendor_keys[0], option, value], check=False)
        assert r.returncode != 0 and sentence in r.stderr, (option, r.stderr)

    server = portal("--portal-title", 'Acme <script>alert("x")</script>', "--portal-logo-url",
                    "https://cdn.example.com/acme/logo.png?v=2", "--portal-color", "#aa3300")
    status, headers, body = Client(server).get("/portal")
    assert "<script>" not in body and "Acme &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body
    assert 'src="https://cdn.example.com/acme/logo.png?v=2"' in body and "--accent:#aa3300" in body
    assert "img-src https://cdn.example.com;" in headers["Content-Security-Policy"]

    off = portal("--no-portal")
    status, _, _ = Client(off).get("/portal")
    assert status == 404
    assert "customer portal: off" in off.read_log()


def api_error(status, headers, body):
    """The licensing API's JSON error: (status, code), or None for a page."""
    if not headers["Content-Type"].startswith("application/json"):
        return None
    return status, json.loads(body)["error"]["code"]


@sqlite_only
def test_unknown_portal_urls_are_the_portals_pages(portal):
    server = portal()
    client = Client(server)
    _, home, _ = client.get("/portal")
    security = ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy", "X-Content-Type-Options",
                "Cache-Control")

    def page(method, path, status, title, fields=None):
        got, headers, body = client.request(method, path, fields)
        assert got == status, (method, path, got, body)
        assert headers["Content-Type"] == "text/html; charset=utf-8", (method, path, headers)
        for name in security:
            assert headers[name] == home[name], (method, path, name)
        assert "<!DOCTYPE html>" in body and f"<h1>{title}</h1>" in body, body
        assert '<a class="action" href="/portal">Back to the portal</a>' in body, body
        assert "<script" not in body
        return headers, body

    for path in ("/portal/nosuch", "/portal/", "/portal/license/", "/portal/license/a/b", "/portal/sign-in/x",
                 "/portal/license/" + "A" * 65):
        _, body = page("GET", path, 404, "Page not found")
        assert "The portal has no page at this address." in body
    # a form posted to no page: the body is read past, the page still says it
    page("POST", "/portal/nosuch", 404, "Page not found", {"csrf": "x", "key": "y"})

    for method, path, allow in (("PUT", "/portal", "GET, HEAD"), ("DELETE", "/portal", "GET, HEAD"),
                                ("POST", "/portal", "GET, HEAD"), ("GET", "/portal/release", "POST"),
                                ("GET", "/portal/sign-in", "POST"), ("PATCH", "/portal/sign-out", "POST"),
                                ("POST", "/portal/license/L-1", "GET, HEAD")):
        headers, body = page(method, path, 405, "This page cannot be used this way",
                             {"a": "b"} if method != "GET" else None)
        assert headers["Allow"] == allow, (method, path, headers["Allow"])
        assert f"This address of the portal does not answer {method} requests." in body

    # HEAD: the page's status and headers, no body
    c = server.connection()
    try:
        c.request("HEAD", "/portal/nosuch")
        r = c.getresponse()
        assert r.status == 404 and r.getheader("Content-Security-Policy") == home["Content-Security-Policy"]
        assert r.read() == b""
    finally:
        c.close()

    # outside /portal the API answers as ever, in JSON
    for method, path, status, code in (("GET", "/nosuch", 404, "not-found"), ("GET", "/portalx", 404, "not-found"),
                                       ("GET", "/portal%00x", 404, "not-found"),
                                       ("PUT", "/v1/health", 405, "method-not-allowed"),
                                       ("GET", "/v1/activate", 405, "method-not-allowed")):
        got = client.request(method, path)
        assert api_error(*got) == (status, code), (method, path, got)
    log = server.read_log()
    assert "GET /portal/nosuch: 404 portal: The portal has no page at this address." in log, log


@sqlite_only
def test_without_the_portal_every_portal_url_is_the_apis_404(portal):
    client = Client(portal("--no-portal"))
    for method, path in (("GET", "/portal"), ("PUT", "/portal"), ("POST", "/portal"), ("HEAD", "/portal"),
                         ("GET", "/portal/release"), ("POST", "/portal/sign-in"), ("GET", "/portal/nosuch"),
                         ("GET", "/portal/license/L-1")):
        status, headers, body = client.request(method, path, {"a": "b"} if method == "POST" else None)
        assert status == 404 and "Allow" not in headers, (method, path, status, headers)
        if method != "HEAD":
            assert api_error(status, headers, body) == (404, "not-found"), (method, path, body)


# In a browser -----------------------------------------------------------------------


def screenshot(browser, tmp_path, name):
    """A PNG of the page into the test's directory and, when set,
    $LICENSED_SCREENSHOT_DIR (docs/images/ by tools/portal-screenshots.sh)."""
    height = browser.eval("Math.ceil(document.documentElement.scrollHeight)")
    browser.call("Emulation.setDeviceMetricsOverride", width=1000, height=max(int(height), 400), deviceScaleFactor=1,
                 mobile=False)
    png = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
    assert png.startswith(b"\x89PNG")
    path = tmp_path / "screenshots" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(png)
    out = os.environ.get("LICENSED_SCREENSHOT_DIR")
    if out:
        os.makedirs(out, exist_ok=True)
        shutil.copy(path, os.path.join(out, name))


def load(browser, url=None, click=None):
    """Navigates to url, or clicks the element the selector click names
    (a form's button: the server answers with a redirect), and waits for the
    new page."""
    browser.eval("window.__old = true")
    if url:
        browser.call("Page.navigate", url=url)
    else:
        browser.eval(f"document.querySelector({json.dumps(click)}).click(); true")
    browser.wait('!window.__old && document.readyState === "complete"')


PAGE = """JSON.stringify({
  title: document.title,
  h1: document.querySelector("h1") ? document.querySelector("h1").textContent : null,
  error: document.querySelector(".error") ? document.querySelector(".error").textContent : null,
  notice: document.querySelector(".notice") ? document.querySelector(".notice").textContent : null,
  facts: Object.fromEntries([...document.querySelectorAll("#entitlement dt")].map(
    (dt) => [dt.textContent, dt.nextElementSibling.textContent])),
  features: [...document.querySelectorAll("#features tr")].slice(1).map(
    (tr) => [...tr.cells].map((c) => c.textContent)),
  machines: [...document.querySelectorAll("#activations tr")].slice(1).map(
    (tr) => [...tr.cells].slice(0, 4).map((c) => c.innerText)),
})"""


def state(browser):
    return json.loads(browser.eval(PAGE))


def type_key(browser, key):
    browser.eval(f'document.getElementById("key").value = {json.dumps(key)}; true')


def test_portal_in_chromium(portal, entitlement, admin, vendor, vendor_keys, tmp_path):
    """Sign in, the entitlement and its machines, a download, a release, a
    wrong key, sign out; no request leaves the server, the CSP refuses
    nothing, and the screenshots are taken."""
    server = portal("--portal-title", "Acme Licensing", "--portal-support", "support@acme.example",
                    "--portal-release-limit", "3")
    key = entitlement("--seats", "3", "--type", "subscription", "--not-after", "2031-01-01",
                      "--maintenance-until", "2027-06-30", "--feature", "reports", "--feature", "export:limit=5",
                      "--feature", "api:expires=2028-01-01")
    _, build = activate_machine(server, key, "build-01.acme.example")
    activate_machine(server, key, "laptop-anna.acme.example")
    browser = Browser(str(tmp_path))
    try:
        for domain in ("Page", "Network", "Log", "Runtime"):
            browser.call(f"{domain}.enable")
        load(browser, server.url + "/portal")
        assert state(browser)["h1"] == "Sign in with your license key"
        assert browser.eval("document.title") == "Sign in — Acme Licensing"
        screenshot(browser, tmp_path, "portal-sign-in.png")

        # a wrong key: a sentence, the form again
        type_key(browser, "DH4GX-7KQ2M-PPPPP-ZZZZZ-11111")
        load(browser, click="#sign-in")
        s = state(browser)
        assert s["error"].startswith("That is not a license key:"), s
        assert s["error"].endswith("A key is five groups of five letters and digits."), s
        screenshot(browser, tmp_path, "portal-wrong-key.png")

        # the key as a person types it
        type_key(browser, key.lower())
        load(browser, click="#sign-in")
        s = state(browser)
        assert s["h1"] == PRODUCT and s["error"] is None, s
        assert s["facts"]["Licensee"] == LICENSEE and s["facts"]["Type"] == "subscription"
        assert s["facts"]["Seats"] == "2 of 3 in use" and s["facts"]["State"] == "active"
        assert s["facts"]["Valid until"] == "2031-01-01 00:00 UTC"
        assert s["facts"]["Maintenance until"] == "2027-06-30 00:00 UTC"
        assert s["facts"]["License key"].startswith(key[:5]) and "*****" in s["facts"]["License key"]
        assert ["reports", "no limit", "as long as the license"] in s["features"]
        assert ["export", "5", "as long as the license"] in s["features"]
        assert ["api", "no limit", "2028-01-01 00:00 UTC"] in s["features"]
        hosts = [m[0].split("\n")[0] for m in s["machines"]]
        assert hosts == ["build-01.acme.example", "laptop-anna.acme.example"], s["machines"]
        assert all(m[3] == "Active" for m in s["machines"])
        screenshot(browser, tmp_path, "portal-entitlement.png")

        # the license of a machine, as the browser downloads it
        downloads = tmp_path / "downloads"
        downloads.mkdir()
        browser.call("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(downloads))
        browser.eval('document.querySelector("#activations tr:nth-child(2) a").click(); true')
        target = downloads / f"{build}.lic"
        deadline = time.monotonic() + 20
        while not target.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        text = target.read_text()
        l = inspect(vendor, vendor_keys[1], text)
        assert l["id"] == build and l["product"] == PRODUCT and l["licensee"] == LICENSEE

        # release the first machine
        load(browser, click="#activations tr:nth-child(2) form button")
        s = state(browser)
        assert s["notice"].startswith("The machine build-01.acme.example was released: its seat is free"), s
        assert s["facts"]["Seats"] == "1 of 3 in use" and s["machines"][0][3].startswith("Released 20"), s
        assert active_seats(admin, key) == 1
        screenshot(browser, tmp_path, "portal-released.png")

        # the offline pages are a link away
        links = browser.eval('[...document.querySelectorAll("a[href^=\\"/offline\\"]")].map((a) => a.textContent)')
        assert links == ["Offline activation", "Offline validation", "Offline deactivation"]

        load(browser, click="#sign-out")
        assert state(browser)["h1"] == "Sign in with your license key"
        assert browser.eval("document.cookie") == ""  # HttpOnly: no script sees the cookies
    finally:
        browser.close()

    assert_self_contained(browser, server)


@sqlite_only
def test_expired_session_in_chromium(portal, entitlement, tmp_path):
    """After the idle timeout the page is the sign-in page, saying why."""
    server = portal("--portal-idle-timeout", "2", "--portal-title", "Acme Licensing")
    key = entitlement()
    browser = Browser(str(tmp_path))
    try:
        browser.call("Page.enable")
        browser.call("Runtime.enable")
        load(browser, server.url + "/portal")
        type_key(browser, key)
        load(browser, click="#sign-in")
        assert state(browser)["h1"] == PRODUCT
        time.sleep(3)
        load(browser, server.url + "/portal")
        s = state(browser)
        assert s["h1"] == "Sign in with your license key"
        assert s["error"] == "You were signed out after 2 seconds without activity. Sign in again.", s
        screenshot(browser, tmp_path, "portal-expired.png")
    finally:
        browser.close()


@sqlite_only
def test_cookies_are_secure_on_https(tmp_path, db, vendor_keys, entitlement):
    cert, tls_key = tmp_path / "cert.pem", tmp_path / "key.pem"
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(tls_key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"])
    os.chmod(tls_key, 0o600)
    key = entitlement()
    s = LicensedServer(db, vendor_keys[0], extra=("--tls-cert", str(cert), "--tls-key", str(tls_key)),
                       cafile=str(cert), log_path=str(tmp_path / "https.log"))
    try:
        client = Client(s)
        client.get("/portal")
        (cookie,) = client.set_cookie
        assert cookie.endswith("; Secure") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        client.sign_in(key)
        (session,) = [c for c in client.sign_in_cookies if c.startswith("licensed_portal=")]
        assert "; Secure" in session and "HttpOnly" in session and "SameSite=Strict" in session
    finally:
        s.stop()
