/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What this machine knows about an installed license beside its signed
 * text: licenses/ID.state (daemon/store.c), and the start image
 * (core/start-image.h), which is why it lives in core/. */

#include <stdbool.h>
#include <stdint.h>

#include "license.h"

typedef struct LicenseState {
        int64_t installed;
        int64_t last_validation; /* TIME_UNSET: never */
        int64_t last_attempt;    /* last validation attempt, successful or not */
        bool revoked;
        char validation_nonce[LICENSE_NONCE_STRING_SIZE]; /* pending offline validation request, "" if none */
        /* The last validation failure, NULL if none. Owned, and rarely set:
         * kept inline it was a fifth of what an installed license cost.
         * Copies of a LicenseState share it until one of them sets it
         * anew (and frees the old one where it stops being used). */
        char *last_error;
        char announced[24];        /* status last announced in the journal, "" for licensed */
        int64_t warned_days_left;  /* last grace warning's days left, 0 if none */
} LicenseState;

#define LICENSE_STATE_ERROR_MAX 255
