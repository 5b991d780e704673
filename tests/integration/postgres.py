# SPDX-License-Identifier: LGPL-2.1-or-later
"""A private PostgreSQL 15 for the integration tier, from Debian's packages:
initdb into a temporary directory as the unprivileged user postgres (when
the tests run as root; else as the user running them), the server started
in the foreground as a child of the test, listening on nothing but a unix
socket in that directory, stopped by its PID. A test gets a database of
its own (CREATE DATABASE) and its URI, as licensed-server --db takes it."""
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

BIN = "/usr/lib/postgresql/15/bin"
PSQL = "/usr/bin/psql"
USER = "postgres"  # the role initdb makes, and the OS user the server runs as under root


def available():
    """Why PostgreSQL cannot run here, or None."""
    for exe in (os.path.join(BIN, "initdb"), os.path.join(BIN, "postgres"), PSQL):
        if not os.access(exe, os.X_OK):
            return f"{exe} is missing (install postgresql-15)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(USER)
        except KeyError:
            return f"there is no user {USER} to run PostgreSQL as"
    return None


class Postgres:
    def __init__(self):
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix="licensed-pg-")  # short: a socket path has at most 107 bytes
        self.data = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "postgres.log")
        self.as_user = {}
        if os.geteuid() == 0:
            pw = pwd.getpwnam(USER)
            # The server runs as postgres: it must reach its directory
            # and own its data and socket directory.
            os.chmod(self.dir, 0o755)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.as_user = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        try:
            self._run([os.path.join(BIN, "initdb"), "-D", self.data, "-U", USER, "-A", "trust", "-E", "UTF8",
                       "--no-sync", "--no-instructions"])
            self.start()
        except BaseException:
            self.cleanup()
            raise

    def _run(self, args):
        p = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=self.dir, **self.as_user)
        if p.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")

    def start(self, timeout=30):
        """Starts the server (again) on the same data; returns once it takes
        connections."""
        assert self.proc is None
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "postgres"), "-D", self.data, "-c", "listen_addresses=", "-c",
             f"unix_socket_directories={self.dir}", "-c", "max_connections=200", "-c", "fsync=off", "-c",
             "full_page_writes=off", "-c", "shared_buffers=32MB"],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.dir, **self.as_user)
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            p = subprocess.run([os.path.join(BIN, "pg_isready"), "-h", self.dir, "-U", USER, "-q"],
                               capture_output=True, timeout=10)
            if p.returncode == 0:
                return
            if self.proc.poll() is not None:
                self.proc = None
                raise RuntimeError(f"postgres exited:\n{self.read_log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"postgres did not start:\n{self.read_log()}")
            time.sleep(0.1)

    def stop(self, timeout=30):
        """Fast shutdown (SIGINT to its PID): open sessions are ended,
        what was committed stays."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def read_log(self):
        try:
            with open(self.log_path) as f:
                return f.read()[-4000:]
        except FileNotFoundError:
            return ""

    def uri(self, database):
        return f"postgresql:///{database}?host={self.dir}&user={USER}"

    def psql(self, database, sql):
        """Runs sql; returns the rows, one tuple of strings per row."""
        p = subprocess.run([PSQL, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-h", self.dir,
                            "-U", USER, "-d", database, "-c", sql], capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError(f"psql failed: {p.stderr}")
        return [tuple(line.split("\t")) for line in p.stdout.splitlines() if line]

    def create_database(self):
        """A new empty database; returns its name."""
        name = "t_" + uuid.uuid4().hex[:16]
        self.psql("postgres", f"CREATE DATABASE {name}")
        return name
