/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Trials on PostgreSQL: the product's trial offer (the public trial
 * route) and the vendor's reset of a machine's trial. Whether a machine
 * had a trial is read in the activation's first batch (activate_step(),
 * storage-postgres.c), under the offer's row lock. */

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

/* The trials of the machine: a NULL id matches no row. */
#define MACHINE_TRIALS "FROM trial WHERE product = $1 AND (machine_id = $2 OR hardware_id = $3)"

int pg_trial_reset(Storage *storage, const char *product, const char *machine_id, const char *hardware_id,
                   int64_t now, unsigned *ret_trials, unsigned *ret_released, CoreError *err) {
        _cleanup_(tx_abort) Tx t = {};
        Stmt st[3] = {};
        int r, released = 0;

        r = tx_begin(pg_storage(storage), &t, err);
        if (r < 0)
                return r;
        /* The entitlement's row first, as every change of a seat takes it
         * (migration 3's count is that row's): here the offer's, whose key
         * the machine's trial activations name. Its lock also orders the
         * reset against a trial of the product starting at once. Then the
         * seats, then the trials. */
        stmt_bind(&st[0],
                  "SELECT 1 FROM entitlement WHERE key IN (SELECT a.key FROM activation a WHERE a.license_id IN "
                  "(SELECT license_id " MACHINE_TRIALS ")) ORDER BY key FOR UPDATE",
                  "ttt", product, machine_id, hardware_id);
        stmt_bind(&st[1],
                  "UPDATE activation SET released = $4 WHERE released = 0 AND license_id IN "
                  "(SELECT license_id " MACHINE_TRIALS ")",
                  "ttti", product, machine_id, hardware_id, now);
        stmt_bind(&st[2], "DELETE " MACHINE_TRIALS, "ttt", product, machine_id, hardware_id);
        r = tx_batch(&t, st, ELEMENTSOF(st), false, err);
        if (r >= 0) {
                released = atoi(PQcmdTuples(st[1].res));
                r = atoi(PQcmdTuples(st[2].res));
        }
        stmts_done(st, ELEMENTSOF(st));
        if (r == 0)
                r = storage_trial_reset_none(product, machine_id, hardware_id, err);
        r = tx_end(&t, r, true, err);
        if (r < 0)
                return r;
        *ret_trials = (unsigned) r;
        *ret_released = (unsigned) released;
        return 0;
}
