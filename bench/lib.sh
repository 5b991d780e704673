# SPDX-License-Identifier: LGPL-2.1-or-later
# Shell functions the bench scripts share (sourced, not run). A script
# keeps the PIDs of the processes it started in its array pids.

# Stops one process the script started, by its PID, waits up to 30 s for it
# to go, and forgets it.
stop_pid() { # PID
        local p kept=()
        kill "$1" 2>/dev/null || true
        for _ in $(seq 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
        for p in "${pids[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
        pids=("${kept[@]}")
}

# A TCP port free on 127.0.0.1 now.
free_port() {
        /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# What a commit waits for: the median of 200 fdatasync()s of one 4 KiB
# write each, in DIR, where the databases live (ms).
fsync_ms() { # DIR
        /usr/bin/python3 - "$1" <<'EOF'
import os, statistics, sys, time
path = os.path.join(sys.argv[1], "fsync-probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
times = []
for _ in range(200):
    start = time.monotonic()
    os.write(fd, b"x" * 4096)
    os.fdatasync(fd)
    times.append(time.monotonic() - start)
os.close(fd)
os.unlink(path)
print(f"{statistics.median(times) * 1e3:.2f}")
EOF
}
