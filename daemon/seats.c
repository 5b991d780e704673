/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "log.h"
#include "seats.h"

struct Seat {
        Seat *next;
        Context *context;
        char *product;
        char *feature;
        char *holder; /* unique bus name */
        sd_bus_track *track;
};

static void seat_free(Seat *s) {
        if (!s)
                return;
        sd_bus_track_unref(s->track);
        free(s->product);
        free(s->feature);
        free(s->holder);
        free(s);
}

static Seat *seat_find(Context *c, const char *holder, const char *product, const char *feature) {
        for (Seat *s = c->seats; s; s = s->next)
                if (streq(s->holder, holder) && streq(s->product, product) && streq(s->feature, feature))
                        return s;
        return NULL;
}

/* Unlinks, frees and tells the bus that usage changed. */
static void seat_remove(Context *c, Seat *seat) {
        for (Seat **p = &c->seats; *p; p = &(*p)->next)
                if (*p == seat) {
                        *p = seat->next;
                        break;
                }
        const ProductEntries *pe = context_product_entries(c, seat->product);
        for (size_t i = 0; i < pe->n; i++)
                (void) license_dbus_emit_changed(c, pe->items[i]);
        seat_free(seat);
        context_idle_touch(c);
}

static int on_holder_gone(sd_bus_track *track, void *userdata) {
        Seat *seat = userdata;

        log_debug("Seat of %s/%s freed: %s left the bus.", seat->product, seat->feature, seat->holder);
        seat_remove(seat->context, seat);
        return 0;
}

unsigned seats_in_use(Context *c, const char *product, const char *feature) {
        unsigned n = 0;
        for (Seat *s = c->seats; s; s = s->next)
                if (streq(s->product, product) && streq(s->feature, feature))
                        n++;
        return n;
}

unsigned seats_total(Context *c) {
        unsigned n = 0;
        for (Seat *s = c->seats; s; s = s->next)
                n++;
        return n;
}

bool seats_held_by(Context *c, sd_bus_message *m, const char *product, const char *feature) {
        const char *sender = sd_bus_message_get_sender(m);
        return sender && seat_find(c, sender, product, feature);
}

int seats_take(Context *c, sd_bus_message *m, const char *product, const char *feature) {
        const char *sender = sd_bus_message_get_sender(m);
        Seat *seat;
        int r;

        if (!sender)
                return -EINVAL;
        if (seat_find(c, sender, product, feature))
                return 0;
        seat = calloc(1, sizeof(*seat));
        if (!seat)
                return -ENOMEM;
        seat->context = c;
        seat->product = strdup(product);
        seat->feature = strdup(feature);
        seat->holder = strdup(sender);
        if (!seat->product || !seat->feature || !seat->holder) {
                seat_free(seat);
                return -ENOMEM;
        }
        r = sd_bus_track_new(c->bus, &seat->track, on_holder_gone, seat);
        if (r >= 0)
                r = sd_bus_track_add_sender(seat->track, m);
        if (r < 0) {
                seat_free(seat);
                return r;
        }
        seat->next = c->seats;
        c->seats = seat;
        const ProductEntries *pe = context_product_entries(c, product);
        for (size_t i = 0; i < pe->n; i++)
                (void) license_dbus_emit_changed(c, pe->items[i]);
        return 1;
}

bool seats_return(Context *c, sd_bus_message *m, const char *product, const char *feature) {
        const char *sender = sd_bus_message_get_sender(m);
        Seat *seat = sender ? seat_find(c, sender, product, feature) : NULL;

        if (!seat)
                return false;
        seat_remove(c, seat);
        return true;
}

void seats_free_all(Context *c) {
        while (c->seats) {
                Seat *s = c->seats;
                c->seats = s->next;
                seat_free(s);
        }
}
