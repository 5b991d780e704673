/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A token bucket per client address: each address may make `burst`
 * requests at once and `rate` a second after that. The table of addresses
 * has a fixed size, set-associative: an address new to a full set takes
 * the place of an idle one (its bucket full again, so nothing is lost by
 * forgetting it), else of the one seen least recently. A flood of
 * addresses therefore costs no memory; what it can do is make the table
 * forget a busy client early, which lets that client in, never out.
 * IPv6 clients are counted per /64, the block one host usually holds.
 * Time is passed in, for the tests. docs/operations.md, "Rate limit". */

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "error.h"

typedef struct RateLimit RateLimit;

/* slots: the number of addresses remembered, rounded up to a whole number
 * of sets. rate > 0 and burst >= 1. */
int ratelimit_new(double rate, unsigned burst, size_t slots, RateLimit **ret);
RateLimit *ratelimit_free(RateLimit *rl);

/* Takes a token of the client at sa at now_usec (a monotonic clock).
 * true: go ahead. false: refused, and *ret_retry_after is the whole number
 * of seconds (>= 1) until a token is back. An address of another family
 * (none) is allowed. Thread-safe. */
bool ratelimit_take(RateLimit *rl, const struct sockaddr *sa, uint64_t now_usec, unsigned *ret_retry_after);
/* As ratelimit_take(), but takes nothing: whether a token is there. */
bool ratelimit_check(RateLimit *rl, const struct sockaddr *sa, uint64_t now_usec, unsigned *ret_retry_after);

/* How many addresses the table holds now, and at most. */
size_t ratelimit_used(RateLimit *rl);
size_t ratelimit_capacity(RateLimit *rl);

/* Parses "RATE/s" or "RATE/min" (RATE a positive decimal number, e.g.
 * "10/s", "0.5/s", "120/min") into tokens a second; "off" gives 0. */
int ratelimit_parse_rate(const char *text, double *ret, CoreError *err);
