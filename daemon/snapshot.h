/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The fast-path snapshot (core/snapshot.h, docs/client-library.md): every
 * feature of every installed license with its verdict, published in the
 * runtime directory for liblicensed to map. */

#include "../core/snapshot.h" /* the format; this header shares its name */
#include "context.h"

/* Evaluates everything and atomically replaces <runtime_dir>/snapshot
 * (mode 0644; the directory is created 0755 if missing), then marks the file
 * it replaced as superseded. Call it whenever verdicts may have changed, and
 * at least every SNAPSHOT_REFRESH_INTERVAL. Logs a warning and returns
 * negative errno on failure: clients then ask over D-Bus. */
int snapshot_write(Context *c);
