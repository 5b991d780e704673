# SPDX-License-Identifier: LGPL-2.1-or-later
"""licensed-server from the build tree on loopback, for the integration
tier: started on port 0 (the kernel picks a free port, the server logs the
URL it bound), stopped by its PID, and failed loudly if it reported a
sanitizer finding or did not exit cleanly."""
import http.client
import json
import os
import re
import ssl
import subprocess
import time

from conftest import binary

MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "ERROR SUMMARY: [1-9]",
           "definitely lost: [1-9]")


def stop_server(proc, log, read_log, name):
    """SIGTERM, then SIGKILL after 10 s; fails if the log shows a sanitizer
    finding or the program did not exit with 0."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    log.close()
    text = read_log()
    for marker in MARKERS:
        if re.search(marker, text):
            raise AssertionError(f"{name} reported '{marker}':\n{text[-6000:]}")
    if proc.returncode != 0:
        raise AssertionError(f"{name} exited with {proc.returncode} on SIGTERM:\n{text[-3000:]}")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def error(self):
        """(code, message) of a JSON error reply."""
        e = self.json["error"]
        return e["code"], e["message"]


class LicensedServer:
    def __init__(self, db, signing_key, listen="127.0.0.1:0", extra=(), cafile=None, timeout=30, log_path=None,
                 default_rate_limit=False):
        self.db = db
        if log_path is None and db.startswith(("postgresql://", "postgres://")):
            # beside the signing key: the test's own directory
            log_path = os.path.join(os.path.dirname(signing_key), f"server-{os.urandom(4).hex()}.log")
        self.log_path = log_path or db + ".server.log"
        self.log = open(self.log_path, "a")
        # Tests drive the server from one address far faster than any
        # client: the per-address rate limit is off unless a test sets it
        # (test_server_ops.py tests it, and the default with
        # default_rate_limit=True).
        if not default_rate_limit and not any(str(a).startswith("--rate-limit") for a in extra):
            extra = (*extra, "--rate-limit", "off")
        args = [binary("licensed-server"), "--db", db, "--signing-key", signing_key, "--listen", listen, *extra]
        wrapper = os.environ.get("LICENSED_DAEMON_WRAPPER")  # e.g. valgrind
        if wrapper:
            args = wrapper.split() + args
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        self.cafile = cafile
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(r"listening on (https?)://(\S+):(\d+) ", self.read_log())
            if m:
                self.scheme, host, self.port = m.group(1), m.group(2), int(m.group(3))
                self.host = host.strip("[]")
                break
            if self.proc.poll() is not None:
                self.log.close()
                raise RuntimeError(f"licensed-server exited with {self.proc.returncode}:\n{self.read_log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("licensed-server did not start listening")
            time.sleep(0.05)
        self.url = f"{self.scheme}://{host}:{self.port}"

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def connection(self, timeout=10):
        if self.scheme == "https":
            ctx = ssl.create_default_context(cafile=self.cafile)
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, content_type="application/json", headers=None, timeout=10):
        """One request on a fresh connection. body: bytes, str, or an object
        sent as JSON."""
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        h = dict(headers or {})
        if body is not None and content_type:
            h["Content-Type"] = content_type
        c = self.connection(timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return Response(r.status, dict(r.getheaders()), r.read())
        finally:
            c.close()

    def post(self, path, body, **kw):
        return self.request("POST", path, body, **kw)

    def alive(self):
        return self.proc.poll() is None and self.request("GET", "/v1/health").json["status"] == "ok"

    def stop(self):
        stop_server(self.proc, self.log, self.read_log, "licensed-server")
