/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* liblicensed's fast path: the daemon's snapshot (core/snapshot.h), mapped
 * once and kept while it is current. Internal to liblicensed. */

#include <stdint.h>

#include "evaluate.h"

/* Where the snapshot is now, or NULL for none: asked at most once per
 * second of the caller's clock per thread, and whenever the mapping it has
 * is stale. */
typedef const char *(*FastpathLocate)(void);

/* The verdict from the snapshot that locate() names, at wall-clock now
 * (seconds). 0 on an answer; otherwise a negative errno that says why the
 * daemon must be asked: no snapshot (-ENOENT, also for locate() returning
 * NULL), its damage (-EBADMSG, -EPROTONOSUPPORT, -EPERM for a file others
 * may write), or snapshot_lookup()'s reasons. */
int fastpath_check(FastpathLocate locate, const char *product, const char *feature, int64_t release_date,
                   int64_t now, Verdict *ret);
