# SPDX-License-Identifier: LGPL-2.1-or-later
"""A licensing server on loopback that misbehaves on purpose. Each mode is
one way a real server or network fails; "good" answers correctly by
asking licensed-vendor, so the daemon's happy path is exercised too."""
import base64
import json
import re
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeServer:
    def __init__(self, vendor_exe, signing_key, licensee="Fake Ltd"):
        self.vendor_exe = vendor_exe
        self.signing_key = signing_key
        self.licensee = licensee
        self.mode = "good"
        self.requests = []
        self.proxied = []  # absolute URLs asked for as an HTTP proxy
        self.times = []  # time.monotonic() of each request, as self.requests
        self.extra_answer_args = []
        self.stall_seconds = 30
        self.fail_ids = set()  # "fail-some": the license ids refused
        self.connections_open = 0
        self.connections_max = 0  # the most connections open at once
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                with outer.lock:
                    outer.connections_open += 1
                    outer.connections_max = max(outer.connections_max, outer.connections_open)

            def finish(self):
                with outer.lock:
                    outer.connections_open -= 1
                super().finish()

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                path = self.path
                if path.startswith("http://"):
                    # asked as a proxy: "POST http://host/v1/... HTTP/1.1"
                    outer.proxied.append(path)
                    path = "/" + path.split("/", 3)[3]
                outer.times.append(time.monotonic())
                outer.requests.append((path, body))
                outer.handle(self, path, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    # answers ---------------------------------------------------------------

    def vendor(self, *args, input=None):
        p = subprocess.run([self.vendor_exe, *args], input=input, capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise RuntimeError(p.stderr)
        return p.stdout

    def good_answer(self, path, request):
        if path == "/v1/activate":
            lic = self.vendor("answer", "--signing-key", self.signing_key, "--request", "-", "--id", "srv-1",
                              "--licensee", self.licensee, "--feature", "reports", "--validation-interval", "1d",
                              "--grace-period", "14d", *self.extra_answer_args, input=request)
            return {"license": lic}
        if path == "/v1/validate":
            return {"status": "valid", "receipt": self.vendor("receipt", "--signing-key", self.signing_key,
                                                               "--request", "-", input=request)}
        if path == "/v1/deactivate":
            return {"status": "released"}
        return None

    @staticmethod
    def armored_body(text):
        """The body of an armored document, decoded ("" if it is none)."""
        lines = (text or "").strip().splitlines()
        try:
            blank = lines.index("")
            return base64.b64decode("".join(lines[blank + 1:-1])).decode()
        except (ValueError, UnicodeDecodeError):
            return ""

    @staticmethod
    def send(h, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else body.encode()
        h.send_response(status)
        h.send_header("Connection", "close")  # so a stopped server is really gone
        h.close_connection = True
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def handle(self, h, path, body):
        mode = self.mode
        try:
            request = json.loads(body).get("request") or json.loads(body).get("proof")
        except ValueError:
            request = None
        if mode == "good":
            ans = self.good_answer(path, request)
            return self.send(h, 200 if ans else 404, json.dumps(ans or {"error": {"code": "x", "message": "?"}}))
        if mode == "fail-some":
            m = re.search(r"^license-id: (\S+)$", self.armored_body(request), re.M)
            if m and m.group(1) in self.fail_ids:
                return self.send(h, 403, json.dumps({"error": {"code": "revoked",
                                                               "message": f"no answer for {m.group(1)}"}}))
            ans = self.good_answer(path, request)
            return self.send(h, 200, json.dumps(ans))
        if mode == "refuse-seat":
            return self.send(h, 409, json.dumps({"error": {"code": "seat-limit",
                                                           "message": "seat limit reached: 2 of 2 machines"}}))
        if mode == "500":
            return self.send(h, 500, "Internal Server Error", "text/plain")
        if mode == "garbage":
            return self.send(h, 200, b"\x00\xffnot json at all<html>")
        if mode == "wrong-types":
            return self.send(h, 200, json.dumps({"license": 42, "status": ["valid"], "receipt": {"a": 1}}))
        if mode == "wrong-content-type":
            ans = self.good_answer(path, request)
            return self.send(h, 200, json.dumps(ans), "text/html")
        if mode == "huge":
            return self.send(h, 200, json.dumps({"license": "A" * (2 * 1024 * 1024)}))
        if mode == "reset":
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", "1000")
            h.end_headers()
            h.wfile.write(b'{"license": "-----BEGIN')
            h.wfile.flush()
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            h.connection.close()
            return
        if mode == "drip":
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", "100000")
            h.end_headers()
            for _ in range(100):
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(0.2)
            return
        if mode == "slow":
            time.sleep(self.stall_seconds)
            return self.send(h, 200, json.dumps(self.good_answer(path, request)))
        if mode == "stall":
            time.sleep(self.stall_seconds)
            return self.send(h, 503, json.dumps({"error": {"code": "busy", "message": "busy"}}))
        if mode in ("rogue-signature", "other-machine", "old-nonce"):
            ans = self.good_answer(path, request)
            ans["license"] = self.altered[mode]
            return self.send(h, 200, json.dumps(ans))
        raise RuntimeError(f"unknown mode {mode}")
