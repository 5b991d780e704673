/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one context of licensed: it owns the event loop, the bus, the config,
 * the products, the store and the installed licenses. main() makes one,
 * runs it, and maps the result to an exit code. */

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

/* The installed set and what is done with it live in their own modules
 * (entries.h, clock.h, verdicts.h, announce.h); every module that holds a
 * Context uses them, so they come with it. */
#include "announce.h"
#include "bus-contract.h"
#include "clock.h"
#include "config.h"
#include "entries.h"
#include "evaluate.h"
#include "hashmap.h"
#include "license.h"
#include "pending-call.h"
#include "product.h"
#include "store.h"
#include "time-units.h"
#include "timeutil.h"
#include "verdicts.h"

typedef struct Context Context;

typedef struct Options {
        const char *bus_address; /* NULL: the system bus */
        const char *state_dir;
        const char *runtime_dir;
        const char *config_file;
        const char *const *product_dirs; /* increasing precedence */
        size_t n_product_dirs;
} Options;

struct Context {
        sd_event *event;
        sd_bus *bus;
        Options options;
        Config config;
        ProductSet products;
        Store store;

        EVP_PKEY *device_key;
        char *device_key_b64;
        char machine_id[33];

        Entry **entries;
        size_t n_entries;
        Hashmap by_id;      /* id -> Entry */
        Hashmap by_product; /* product -> ProductEntries */
        VerdictCache verdict_cache; /* CheckFeature's answers (verdicts.c) */

        int64_t time_high_water; /* latest trusted wall-clock time */
        int64_t hw_boottime;     /* CLOCK_BOOTTIME seconds when time_high_water was set */
        char boot_id[33];
        int64_t clock_saved;     /* what is on disk */
        sd_event_source *reevaluate_source;
        sd_event_source *idle_source;

        struct HttpClient *http;
        struct Seat *seats;
        struct SiteClient *site;   /* the joined site (site-client.h), NULL if none */
        struct HeldLease *leases;  /* floating leases held (leases.c) */
        PendingCalls calls;       /* polkit checks and server requests in flight: no idle exit */
        bool exiting;             /* the bus name is being released (or was) */
        bool exit_when_idle;      /* SIGUSR1 (a package upgrade): exit at the first idle moment */
        bool name_released;       /* the bus confirmed it: new calls go to a new licensed */
        bool announce;            /* false during start-up: the first evaluation is not news */
        /* During start-up: the snapshot is written after the name is owned
         * (first_snapshot_source), not by the first evaluation. */
        bool snapshot_after_name;
        sd_event_source *first_snapshot_source;
        /* Deferred announcements (announce.h): while defer_depth > 0,
         * re-evaluation and state announcements are only owed. */
        unsigned defer_depth;
        bool owe_reevaluate;
        bool owe_state_changed;
        /* The start image (start-image.c): rewritten debounced after a
         * change; while image_check_dir is open, the files are being
         * compared with the entries built from it. */
        sd_event_source *image_write_source;
        sd_event_source *image_check_source;
        DIR *image_check_dir;
        unsigned image_checked, image_changed;
        bool image_dirty;
        Denial denials[DENIALS_MAX];
        size_t next_denial; /* ring index */
};

int context_new(const Options *o, Context **ret);
Context *context_free(Context *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Context *, context_free);
int context_run(Context *c);

/* Idle exit (context.c): any bus traffic pushes the deadline back. */
void context_idle_touch(Context *c);

/* Tells systemd the one-line summary (systemctl status). */
void context_notify_status(Context *c);

/* device.c ------------------------------------------------------------- */
int context_load_device(Context *c);

/* dbus registration (manager-dbus.c, license-dbus.c) -------------------- */
int manager_dbus_register(Context *c);
/* The Manager's signals and properties: emitted here, nowhere else. */
void manager_dbus_emit_feature_changed(Context *c, const char *product, const char *feature, const Verdict *v);
void manager_dbus_emit_state_changed(Context *c);
int license_dbus_register(Context *c);
int license_dbus_emit_added(Context *c, Entry *e);
int license_dbus_emit_removed(Context *c, const char *id, const char *path);
int license_dbus_emit_changed(Context *c, Entry *e);
