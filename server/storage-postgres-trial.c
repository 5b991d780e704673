/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Trials on PostgreSQL: the product's trial offer (the public trial
 * route). Whether a machine had a trial is read in the activation's first
 * batch (activate_step(), storage-postgres.c), under the offer's row
 * lock. */

#include "storage-postgres.h"

static int key_from_row(const PGresult *res, int row, void *ret, CoreError *err) {
        const char *key = PQgetvalue(res, row, 0);

        if (strlen(key) >= LICENSE_KEY_STRING_SIZE)
                return core_error_set(err, EBADMSG, "database: a trial offer has a bad key");
        strcpy(ret, key);
        return 0;
}

int pg_trial_offer(Storage *storage, const char *product, char key[static LICENSE_KEY_STRING_SIZE],
                          CoreError *err) {
        _cleanup_(tx_abort) Tx t = {};
        int r;

        r = tx_begin(pg_storage(storage), &t, err);
        if (r >= 0)
                r = read_row(&t,
                             "SELECT key FROM entitlement WHERE product = $1 AND trial_days > 0 AND NOT revoked "
                             "ORDER BY created DESC, key COLLATE \"C\" DESC LIMIT 1",
                             product, key_from_row, key, err);
        r = tx_end(&t, r, true, err);
        return r == 0 ? -ENOENT : r < 0 ? r : 0;
}
