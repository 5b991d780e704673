/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the files of the client's leases share (site-client.h has their
 * public side): leases.c the leases taken for programs (CheckOut, Return,
 * heartbeats, CheckFeature) and the life of every held lease,
 * leases-borrow.c the borrowed ones (kept in the state directory),
 * leases-admin.c SiteStatus and ReleaseSiteLease. */

#include "site-client.h"

/* A borrowed lease file, and the license beside it, is at most this big. */
#define LEASE_FILE_MAX (64 * 1024)

struct HeldLease {
        HeldLease *next;
        Context *c;
        char *holder; /* unique bus name; NULL for a borrowed lease */
        sd_bus_track *track;
        char *lease_text;
        char *license_text;
        Lease lease;    /* as verified */
        int64_t until;  /* the end: expires or borrowed-until, and never after the license's */
        int64_t ttl;    /* seconds between grant and expiry the site works with */
        uint32_t limit; /* the feature's seats */
        sd_event_source *timer;
        bool in_flight; /* a heartbeat is out: freed by its answer if dropped meanwhile */
        bool dropped;
};

static inline bool held_borrowed(const HeldLease *hl) {
        return hl->lease.borrowed_until != TIME_UNSET;
}

/* leases.c ------------------------------------------------------------------ */

void held_free(HeldLease *hl);
/* Drops a lease from the set; a taken one is given back if give. */
void held_drop(Context *c, HeldLease *hl, bool give);
/* Checks a lease the site sent (or that was stored) and fills in hl. At
 * is the instant to check it at. */
int held_verify(Context *c, HeldLease *hl, const char *lease_text, const char *license_text, int64_t at,
                CoreError *err);
/* Arms hl's timer for at (seconds, the context's clock). */
void held_schedule(HeldLease *hl, int64_t at);
/* CheckOut (borrow_until TIME_UNSET) or Borrow: asks the site for a lease
 * and answers m when it has answered. */
int leases_take(Context *c, sd_bus_message *m, const char *product, const char *feature, int64_t borrow_until);

/* A bus call that waits on one site request (about lease id, if any). */
typedef struct SiteCall {
        Context *c;
        PendingCall *call;
        char *url;
        char *id;
} SiteCall;

void site_call_free(void *userdata);
DEFINE_TRIVIAL_CLEANUP_FUNC(SiteCall *, site_call_free);
/* Sends sr (its lease set to id, or NULL) to path of the joined site for
 * the bus call m, with a SiteCall that done() gets and frees. Returns as
 * site_send(). */
int site_call_send(Context *c, sd_bus_message *m, const char *path, SiteRequest *sr, const char *id,
                   HttpDoneFunc done);

/* leases-borrow.c ------------------------------------------------------------ */

/* Stores a borrowed lease and its license in site/borrowed/. */
int borrowed_save(Context *c, const HeldLease *hl);
/* Removes a borrowed lease's files. */
void borrowed_remove(Context *c, const char *id);
