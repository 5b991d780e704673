/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Announcing changes: re-evaluation, signals and journal events. */

#include <stdint.h>

#include "evaluate.h"
#include "timeutil.h"

typedef struct Context Context;

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

/* Logs a "feature denied" event for a caller, at most once an hour for the
 * same product, feature and reason. */
void context_note_denial(Context *c, const char *product, const char *feature, Reason reason);

/* A deferral scope: between context_defer_begin() and context_defer_end()
 * (nestable), context_reevaluate() and context_state_changed() only note
 * that they are owed; context_flush_deferred() does what is owed, once.
 * A caller that stores many changes one by one (a Validate call with a
 * receipt per license) opens a scope around each step and flushes at its
 * end: every change is on disk as it arrives, but the re-evaluation, the
 * snapshot, the clock and the Manager's PropertiesChanged happen once.
 * Anyone else's re-evaluation in between pays what is owed as well. */
void context_defer_begin(Context *c);
void context_defer_end(Context *c);
void context_flush_deferred(Context *c);

/* Re-evaluates everything, emits FeatureChanged/PropertiesChanged for what
 * changed, and arms a timer for the next instant a verdict may change. */
void context_reevaluate(Context *c);
/* After any change to the installed set or a license's state: the Manager's
 * properties, systemd's STATUS= and the clock mark. */
void context_state_changed(Context *c);
