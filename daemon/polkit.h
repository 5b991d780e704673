/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Authorizing callers of changing methods: root always; others through
 * polkit's CheckAuthorization, asked asynchronously so the bus keeps
 * answering while an administrator types a password; without polkit on
 * the bus, only root. */

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "context.h"

#define POLKIT_ACTION_PREFIX "org.licensed.License1."

/* Called once the caller is authorized; it must reply to m. */
typedef int (*AuthorizedFunc)(Context *c, sd_bus_message *m);

/* Returns 1 when the call is taken care of (authorized and continued, or
 * pending, or denied with an error reply), negative errno on failure to even
 * ask. verb is "activate", "deactivate", "validate" or "install". */
int polkit_authorize(Context *c, sd_bus_message *m, const char *verb, bool interactive, AuthorizedFunc cont);
