/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* liblicensed's fast path: the daemon's snapshot (core/snapshot.h), mapped
 * once and kept while it is current. Internal to liblicensed. */

#include <stdint.h>

#include "evaluate.h"

/* The verdict from the snapshot at path, at wall-clock now (seconds). 0 on an
 * answer; otherwise a negative errno that says why the daemon must be asked:
 * the file's absence or damage (-ENOENT, -EBADMSG, -EPROTONOSUPPORT, -EPERM
 * for a file others may write), or snapshot_lookup()'s reasons. */
int fastpath_check(const char *path, const char *product, const char *feature, int64_t release_date,
                   int64_t now, Verdict *ret);
