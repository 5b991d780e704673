/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one context of licensed: it owns the event loop, the bus, the config,
 * the products, the store and the installed licenses. main() makes one,
 * runs it, and maps the result to an exit code. */

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bus-contract.h"
#include "config.h"
#include "evaluate.h"
#include "hashmap.h"
#include "license.h"
#include "pending-call.h"
#include "product.h"
#include "store.h"
#include "time-units.h"
#include "timeutil.h"

typedef struct Context Context;
typedef struct Entry Entry;

/* The licenses of one product, for lookups that must not scan them all. */
typedef struct ProductEntries {
        char *product;
        Entry **items;
        size_t n;
} ProductEntries;

/* An installed license. */
struct Entry {
        Context *context; /* owner; the bus vtable's userdata is the Entry */
        char *id;
        char *object_path;
        char *text; /* armored, exactly as installed: what Export returns */
        License license;
        const Product *product;
        LicenseState state;
        Reason *feature_reasons; /* last announced reason per feature, for FeatureChanged */
        Reason status;           /* last announced license-level status */
        int64_t warned_days_left; /* last grace warning sent, -1 if none */
};

/* A recently logged denial, so a program asking in a loop does not flood
 * the journal. */
typedef struct Denial {
        char product[129];
        char feature[65];
        Reason reason;
        int64_t logged;
} Denial;

#define DENIALS_MAX 64
#define DENIAL_LOG_INTERVAL SEC_PER_HOUR

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

        int64_t time_high_water; /* latest trusted wall-clock time */
        int64_t hw_boottime;     /* CLOCK_BOOTTIME seconds when time_high_water was set */
        char boot_id[33];
        int64_t clock_saved;     /* what is on disk */
        sd_event_source *reevaluate_source;
        sd_event_source *idle_source;

        struct HttpClient *http;
        struct Seat *seats;
        PendingCalls calls;       /* polkit checks and server requests in flight: no idle exit */
        bool exiting;             /* the bus name is being released (or was) */
        bool exit_when_idle;      /* SIGUSR1 (a package upgrade): exit at the first idle moment */
        bool name_released;       /* the bus confirmed it: new calls go to a new licensed */
        bool announce;            /* false during start-up: the first evaluation is not news */
        Denial denials[DENIALS_MAX];
        size_t next_denial; /* ring index */
};

int context_new(const Options *o, Context **ret);
Context *context_free(Context *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Context *, context_free);
int context_run(Context *c);

/* licenses.c: the installed set ----------------------------------------- */

void entry_free(Entry *e);
Entry *context_find_entry(Context *c, const char *id);
/* The licenses of a product (never NULL; n may be 0). */
const ProductEntries *context_product_entries(Context *c, const char *product);
/* Verifies and adds (or, for an upgrade, replaces) a license read from disk
 * or handed in; takes ownership of *l. */
int context_add_entry(Context *c, const char *id, const char *text, License *l, const Product *p,
                      const LicenseState *st, Entry **ret);
void context_remove_entry(Context *c, Entry *e);
void context_index_done(Context *c);
int context_load_licenses(Context *c);

/* The local state evaluate() needs for an entry. */
void entry_local_state(const Context *c, const Entry *e, LocalState *ret);
/* Best verdict for product/feature over all installed licenses. With
 * want_seat, a counted feature whose seats are all taken is limit-reached. */
void context_check_feature(Context *c, const char *product, const char *feature, int64_t release_date,
                           bool want_seat, Verdict *ret);
Reason entry_status(Context *c, const Entry *e, int64_t now);
/* Logs a "feature denied" event for a caller, at most once an hour for the
 * same product, feature and reason. */
void context_note_denial(Context *c, const char *product, const char *feature, Reason reason);

/* Current time, raising the high-water mark as it goes. */
int64_t context_now(Context *c);
void context_save_clock(Context *c);
/* Re-evaluates everything, emits FeatureChanged/PropertiesChanged for what
 * changed, and arms a timer for the next instant a verdict may change. */
void context_reevaluate(Context *c);
/* After any change to the installed set or a license's state: the Manager's
 * properties, systemd's STATUS= and the clock mark. */
void context_state_changed(Context *c);

/* Idle exit (context.c): any bus traffic pushes the deadline back. */
void context_idle_touch(Context *c);

/* Tells systemd the one-line summary (systemctl status). */
void context_notify_status(Context *c);

/* Manager-level overview for the State/Summary properties and sd_notify. */
const char *context_state(Context *c);
int context_summary(Context *c, char **ret);
int64_t context_next_validation(Context *c);

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
