/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The methods that talk to a product's licensing server (docs/protocol.md).
 * Each takes the method call, sends its request without blocking the bus,
 * and replies when the server has answered (or could not be reached). */

#include <systemd/sd-bus.h>

#include "context.h"

/* key NULL: ask for the product's trial (POST /v1/trial). */
int online_activate(Context *c, sd_bus_message *m, const char *product, const char *key);
/* id NULL or "" for every license. */
int online_validate(Context *c, sd_bus_message *m, const char *id);
int online_deactivate(Context *c, sd_bus_message *m, Entry *e);
