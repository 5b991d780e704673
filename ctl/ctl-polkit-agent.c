/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl-polkit-agent.h"

#define PKTTYAGENT "/usr/bin/pkttyagent"
#define AGENT_READY_TIMEOUT_MS 5000

void polkit_agent_open_if_needed(Ctl *c) {
        char fd_arg[32], pid_arg[32];
        int notify[2];
        pid_t pid, parent;

        if (c->agent_pid > 0 || !c->interactive || !isatty(STDIN_FILENO) || geteuid() == 0)
                return;
        /* A private bus (tests, the demo) has no polkit of its own to talk to. */
        if (c->bus_address || getenv("LICENSECTL_BUS_ADDRESS"))
                return;
        if (access(PKTTYAGENT, X_OK) < 0)
                return;
        if (pipe2(notify, O_CLOEXEC) < 0)
                return;

        /* pkttyagent closes the notify fd once it is registered. It is
         * registered for this process; polkit finds it through the login
         * session this process runs in (docs/architecture.md). */
        snprintf(fd_arg, sizeof(fd_arg), "--notify-fd=%d", notify[1]);
        snprintf(pid_arg, sizeof(pid_arg), "--process=%d", (int) getpid());
        parent = getpid();
        pid = fork();
        if (pid < 0) {
                close(notify[0]);
                close(notify[1]);
                return;
        }
        if (pid == 0) {
                /* The agent goes with licensectl, however licensectl ends
                 * (kill of its pid alone, timeout(1)), not left on the
                 * terminal; and if licensectl is gone already, at once. */
                if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
                        _exit(EXIT_FAILURE);
                /* The agent's end must survive exec; stdin/stdout/stderr are
                 * the terminal it asks on. */
                if (fcntl(notify[1], F_SETFD, 0) < 0)
                        _exit(EXIT_FAILURE);
                execl(PKTTYAGENT, PKTTYAGENT, fd_arg, "--fallback", pid_arg, (char *) NULL);
                _exit(EXIT_FAILURE);
        }
        close(notify[1]);

        /* EOF on our end: registered, or gone (then polkit simply has no
         * agent for us, as before). */
        struct pollfd p = {.fd = notify[0], .events = POLLIN};
        (void) poll(&p, 1, AGENT_READY_TIMEOUT_MS);
        close(notify[0]);
        c->agent_pid = pid;
}

void polkit_agent_close(Ctl *c) {
        if (c->agent_pid <= 0)
                return;
        (void) kill(c->agent_pid, SIGTERM);
        /* A stopped agent (SIGTTIN: licensectl ran in the background) would
         * keep SIGTERM pending forever. */
        (void) kill(c->agent_pid, SIGCONT);
        (void) waitpid(c->agent_pid, NULL, 0);
        c->agent_pid = 0;
}
