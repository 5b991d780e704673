/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* License keys: what a customer types. Five groups of five Crockford base32
 * symbols, "7QK2M-ZP0XH-...". In each group the first four symbols carry data
 * (5 x 4 x 5 = 100 random bits) and the fifth is a check symbol over that
 * group and its position, so a typo is caught locally and the error names the
 * group. Input is case-insensitive, dashes and spaces are optional, and the
 * look-alikes I and L read as 1, O as 0. See docs/license-key.md. */

#include <stdbool.h>

#include "error.h"

#define LICENSE_KEY_GROUPS 5
#define LICENSE_KEY_GROUP_LEN 5
/* "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX" plus NUL */
#define LICENSE_KEY_STRING_SIZE (LICENSE_KEY_GROUPS * (LICENSE_KEY_GROUP_LEN + 1))

/* A new random key in canonical form (upper case, dashes). */
int license_key_generate(char out[static LICENSE_KEY_STRING_SIZE]);

/* Checks a typed key and writes its canonical form. Errors are -EINVAL with
 * a sentence such as "group 3 looks wrong (check symbol does not match)",
 * "'U' in group 2 is not a license key character", "the key has 4 groups,
 * expected 5". */
int license_key_normalize(const char *input, char out[static LICENSE_KEY_STRING_SIZE], CoreError *err);

/* "7QK2M-*****-*****-*****-4RT9A": first and last group kept, for display. */
void license_key_mask(const char *canonical, char out[static LICENSE_KEY_STRING_SIZE]);
