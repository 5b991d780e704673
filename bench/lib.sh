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
