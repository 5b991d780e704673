/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Which verdict a feature gets when several licenses of its product speak
 * for it (CheckFeature, the snapshot): evaluate() judges one license, this
 * folds their verdicts into the one the caller hears. Pure, like
 * evaluate(): verdicts in, verdict out. Rules: docs/evaluation.md. */

#include "evaluate.h"

/* The verdict before any license is folded in: nothing grants the feature,
 * and that changes only when a license is installed. */
#define VERDICT_NOT_INSTALLED ((Verdict){.reason = REASON_NOT_INSTALLED})

/* Folds the verdict v of one more license into *best. Licensed beats grace
 * beats any denial, and "not installed" loses to everything; between equals
 * the one that expires later wins, and the first one between verdicts that
 * expire together. best->valid_until becomes the earliest instant at which
 * any folded verdict may change, since any of them may change the winner. */
void verdict_aggregate(Verdict *best, const Verdict *v);
