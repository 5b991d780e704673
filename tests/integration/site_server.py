# SPDX-License-Identifier: LGPL-2.1-or-later
"""licensed-site from the build tree on loopback, and clients of it played
by Python: each client has its own machine id and Ed25519 device key (the
`cryptography` module) and signs SITE REQUESTs exactly as docs/floating.md
describes them, over real TLS, pinning the site's self-signed certificate
by the SHA-256 fingerprint the site prints (as `licensectl site join` will)."""
import base64
import datetime
import hashlib
import http.client
import json
import os
import re
import secrets
import ssl
import subprocess
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from conftest import binary, run
from licensed_server import Response, stop_server
from machine import armor, dearmor, fields, key_id

PRODUCT = "com.example.cad"

EVENT_GRANTED = "5b0e3a1c7d9f4e62a8c4b1d2e3f40516"
EVENT_ALL_IN_USE = "9c2d4e6f80a14b3c95d7e8f9a0b1c2d3"
EVENT_EXPIRED = "2e4f6a8c0b1d4f3e8a7c6b5d4e3f2a10"
EVENT_BORROWED = "7a9c1e3f5b7d49e1a3c5e7f9b1d3f5a7"

# The order of core/lease.c's table: one accepted encoding.
REQUEST_FIELDS = ("licensed-site-request", "type", "site", "machine-id", "device-key", "nonce", "created",
                  "token", "lease", "product", "feature", "user", "host", "borrow-until")


def rfc3339(t):
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class SiteServer:
    """One licensed-site; start() and stop() may be called again (a restart
    keeps its state directory, and gets a new port)."""

    def __init__(self, state_dir, products_dir, ttl="2m", extra=()):
        self.state_dir, self.products_dir = state_dir, products_dir
        self.args = ["--lease-ttl", ttl, *extra]
        self.proc = None
        self.log_path = state_dir + ".log"
        self.listen = "127.0.0.1:0"  # None: site.conf's listen (on 127.0.0.1)

    def cli(self, *args, check=True, input=None):
        return run([binary("licensed-site"), "--state-dir", self.state_dir, "--products-dir", self.products_dir,
                    *args], check=check, input=input)

    def start(self, timeout=30):
        self.offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        self.log = open(self.log_path, "a")
        args = [binary("licensed-site"), "--state-dir", self.state_dir, "--products-dir", self.products_dir,
                *(["--listen", self.listen] if self.listen else []), *self.args]
        wrapper = os.environ.get("LICENSED_DAEMON_WRAPPER")
        if wrapper:
            args = wrapper.split() + args
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(r"Listening on https://127\.0\.0\.1:(\d+) \(site ([0-9a-f]{32}), .* SHA-256 ([0-9A-F:]+)\)",
                          self.read_log())
            if m:
                self.port, self.site_id = int(m.group(1)), m.group(2)
                self.fingerprint = m.group(3).replace(":", "").lower()
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"licensed-site exited with {self.proc.returncode}:\n{self.read_log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("licensed-site did not start listening")
            time.sleep(0.05)

    def read_log(self):
        """What this run (since the last start) logged."""
        with open(self.log_path) as f:
            f.seek(self.offset)
            return f.read()

    def events(self, message_id):
        return [l for l in self.read_log().splitlines() if f"[MESSAGE_ID={message_id}]" in l]

    def stop(self):
        if self.proc is not None:
            proc, self.proc = self.proc, None
            stop_server(proc, self.log, self.read_log, "licensed-site")

    def crash(self):
        """SIGKILL: no chance to close the database."""
        self.proc.kill()
        self.proc.wait(10)
        self.proc = None
        self.log.close()

    def connection(self, fingerprint=None, timeout=10):
        """A TLS connection that trusts exactly the pinned certificate."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # self-signed: pinned below instead
        c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=ctx)
        c.connect()
        got = hashlib.sha256(c.sock.getpeercert(binary_form=True)).hexdigest()
        if got != (fingerprint or self.fingerprint):
            c.close()
            raise ssl.SSLError(f"certificate {got} is not the pinned one")
        return c

    def request(self, method, path, body=None):
        c = self.connection()
        try:
            headers = {}
            if body is not None:
                body = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            return Response(r.status, dict(r.getheaders()), r.read())
        finally:
            c.close()

    def token(self):
        return self.cli("token").stdout.strip()


class SiteClient:
    """A client machine: machine id, device key, host, user."""

    def __init__(self, site, host=None, user="alice"):
        self.site = site
        self.machine_id = secrets.token_hex(16)
        self.key = ed25519.Ed25519PrivateKey.generate()
        raw = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.pub = base64.b64encode(raw).decode()
        self.kid = key_id(raw)
        self.host = host or f"ws-{self.machine_id[:6]}"
        self.user = user

    def document(self, type, key=None, site_id=None, **over):
        f = {"licensed-site-request": "1", "type": type, "site": site_id or self.site.site_id,
             "machine-id": self.machine_id, "device-key": self.pub, "nonce": secrets.token_hex(16),
             "created": rfc3339(time.time())}
        f.update({k.replace("_", "-"): v for k, v in over.items()})
        body = "".join(f"{k}: {f[k]}\n" for k in REQUEST_FIELDS if f.get(k) is not None).encode()
        return armor("SITE REQUEST", self.kid, (key or self.key).sign(body), body)

    def post(self, endpoint, document):
        return self.site.request("POST", f"/v1/{endpoint}", {"request": document})

    def enrol(self, token=None):
        r = self.post("enrol", self.document("enrol", token=token or self.site.token(), host=self.host))
        assert r.status == 200, r.body
        return r

    def checkout(self, feature="cad", product=PRODUCT):
        return self.post("checkout", self.document("checkout", product=product, feature=feature, user=self.user,
                                                   host=self.host))

    def borrow(self, until, feature="cad"):
        return self.post("borrow", self.document("borrow", product=PRODUCT, feature=feature, user=self.user,
                                                 host=self.host, borrow_until=rfc3339(until)))

    def heartbeat(self, lease_id):
        return self.post("heartbeat", self.document("heartbeat", lease=lease_id))

    def give_back(self, lease_id):
        return self.post("return", self.document("return", lease=lease_id))


def lease_fields(text):
    kind, headers, body = dearmor(text)
    assert kind == "FLOATING LEASE"
    return fields(body)


def check_lease(site, tmp_path, client, license_text, lease_text, check=True):
    """licensed-site check-lease: lease_check_chain() as the client will run it."""
    lic, lease = tmp_path / f"lic-{secrets.token_hex(4)}", tmp_path / f"lease-{secrets.token_hex(4)}"
    lic.write_text(license_text)
    lease.write_text(lease_text)
    return site.cli("--machine-id", client.machine_id, "--device-key", client.pub, "check-lease", str(lic),
                    str(lease), check=check)
