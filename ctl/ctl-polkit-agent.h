/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A polkit text agent for licensectl, as systemctl has one: when a change
 * may need a password and licensectl runs on a terminal, pkttyagent is
 * started for this process, so that polkit can ask for the password right
 * here instead of refusing for want of an agent. */

#include "licensectl.h"

/* Starts pkttyagent once, for this process, if c->interactive, stdin is a
 * terminal, the caller is not root (root needs no password) and licensectl
 * talks to the system bus. Waits (at most 5 s) until the agent has
 * registered. Any failure only means no agent: the call goes on, and
 * polkit may refuse. */
void polkit_agent_open_if_needed(Ctl *c);

/* Stops the agent, if one was started. */
void polkit_agent_close(Ctl *c);
