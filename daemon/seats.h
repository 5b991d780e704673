/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Seats of counted features: one per client bus connection and feature,
 * held until Return or until the connection goes away (sd_bus_track sees
 * the name vanish when the process exits or crashes). */

#include <systemd/sd-bus.h>

#include "context.h"

typedef struct Seat Seat;

/* Seats of product/feature in use. */
unsigned seats_in_use(Context *c, const char *product, const char *feature);
/* Seats held by anyone (idle exit waits while there are any). */
unsigned seats_total(Context *c);

/* Whether the sender of m holds a seat of product/feature. */
bool seats_held_by(Context *c, sd_bus_message *m, const char *product, const char *feature);

/* Gives the sender of m a seat; the caller has checked the limit. */
int seats_take(Context *c, sd_bus_message *m, const char *product, const char *feature);
/* Frees the seat the sender of m holds; false if it holds none, which is
 * the caller's answer to give, not a failure. */
bool seats_return(Context *c, sd_bus_message *m, const char *product, const char *feature);

void seats_free_all(Context *c);
