/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Time in licensed is whole seconds since the Unix epoch, UTC, as int64_t.
 * 0 means "not set" (no expiry, never validated): no license predates 1970. */

#include <stdbool.h>
#include <stdint.h>

#include <assert.h>

#include "error.h"

#define TIME_UNSET INT64_C(0)
#define SEC_PER_MINUTE INT64_C(60)
#define SEC_PER_HOUR INT64_C(3600)
#define SEC_PER_DAY INT64_C(86400)

/* Longest text produced by time_format_rfc3339(), with NUL. */
#define RFC3339_MAX 32

/* Parses "2026-11-22T10:00:00Z" (the canonical form) and also a bare date
 * "2026-11-22" (midnight UTC). Anything else, including local offsets, is
 * rejected: licenses are compared across time zones, so only UTC is used. */
int time_parse_rfc3339(const char *s, int64_t *ret, CoreError *err);

/* Writes "YYYY-MM-DDTHH:MM:SSZ" into buf; returns buf. */
char *time_format_rfc3339(int64_t t, char buf[static RFC3339_MAX]);

/* Parses a duration: a number with an optional unit s, m, h, d or w
 * ("14d", "90m", "3600"). Bare numbers are seconds. */
int duration_parse(const char *s, int64_t *ret, CoreError *err);

/* Formats a duration in the largest whole unit ("14d", "2h", "45s"). */
char *duration_format(int64_t d, char buf[static 32]);

/* Whole days left from now until end, rounding up, never negative. */
int64_t days_left(int64_t now, int64_t end);

/* Current wall-clock time. */
int64_t now_realtime(void);
