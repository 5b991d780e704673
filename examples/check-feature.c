/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Asks liblicensed whether FEATURE of PRODUCT is licensed, as a program
 * would before it turns the feature on. Build: make (see Makefile).
 *
 *   check-feature PRODUCT FEATURE
 *
 * Exits 0 if licensed, 1 if not, 3 if licensed cannot be asked: the same
 * codes as "licensectl check". */

#include <stdio.h>
#include <string.h>

#include <licensed.h>

int main(int argc, char *argv[]) {
        licensed_verdict v;
        int r;

        if (argc != 3) {
                fprintf(stderr, "usage: %s PRODUCT FEATURE\n", argv[0]);
                return 2;
        }

        /* 0: no release date, so maintenance is not checked. A program
         * passes the release date of its own version here. */
        r = licensed_check_feature(argv[1], argv[2], 0, &v);
        if (r < 0) {
                /* Not the same as "not licensed": decide what fits. */
                fprintf(stderr, "Cannot ask the license service: %s\n", strerror(-r));
                return 3;
        }
        if (!v.licensed) {
                printf("%s of %s is not licensed: %s (%s).\n", argv[2], argv[1],
                       licensed_reason_description(v.reason), v.reason);
                return 1;
        }
        printf("%s of %s is licensed (%s).\n", argv[2], argv[1], v.reason);
        return 0;
}
