/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Trials on SQLite: whether a machine had one of a product (the seat
 * logic's check, in the activation's transaction, storage-sqlite.c), the
 * product's trial offer (the public trial route) and the vendor's reset
 * of a machine's trial. */

#include <inttypes.h>

#include "storage-sqlite.h"

/* STORAGE_OK if the machine of claim never started a trial of its product,
 * by its machine id or its hardware id, else STORAGE_TRIAL_USED naming when
 * it did. */
int sqlite_trial_check(SqlConn *c, const ActivationClaim *claim, CoreError *err) {
        _cleanup_sql_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = sql_conn_stmt(c, SQL_TRIAL_GET, &st, err, "ttt", claim->product, claim->machine_id,
                          claim->hardware_id);
        if (r >= 0)
                r = sql_conn_step(c, st, err);
        if (r < 0)
                return r;
        if (r == 0)
                return STORAGE_OK;
        return storage_trial_used(sqlite3_column_int64(st, 0), claim->product, err);
}

/* The public trial route's read: the product's trial offer. */
static int key_from_row(sqlite3_stmt *st, void *ret, CoreError *err) {
        const char *key = (const char *) sqlite3_column_text(st, 0);

        if (!key || strlen(key) >= LICENSE_KEY_STRING_SIZE)
                return core_error_set(err, EBADMSG, "database: a trial offer has a bad key");
        strcpy(ret, key);
        return 0;
}

typedef struct OfferRead {
        const char *product;
        char *key;
} OfferRead;

static int trial_offer_read(SqlConn *c, void *data, CoreError *err) {
        OfferRead *o = data;
        int r = read_row(c, SQL_TRIAL_OFFER, o->product, key_from_row, o->key, err);

        return r == 0 ? -ENOENT : r < 0 ? r : 0;
}

int sqlite_trial_offer(Storage *storage, const char *product, char key[static LICENSE_KEY_STRING_SIZE],
                              CoreError *err) {
        return sql_pool_read(sqlite_storage(storage)->pool, trial_offer_read,
                             &(OfferRead){.product = product, .key = key}, err);
}

typedef struct TrialReset {
        const char *product, *machine_id, *hardware_id;
        int64_t now;
        unsigned trials, released;
} TrialReset;

static int trial_reset_write(SqlConn *c, void *data, CoreError *err) {
        TrialReset *w = data;
        int r;

        r = EXEC(c, SQL_TRIAL_RESET_RELEASE, err, "ittt", w->now, w->product, w->machine_id, w->hardware_id);
        if (r < 0)
                return r;
        w->released = (unsigned) r;
        r = EXEC(c, SQL_TRIAL_RESET, err, "ttt", w->product, w->machine_id, w->hardware_id);
        if (r < 0)
                return r;
        if (r == 0)
                return storage_trial_reset_none(w->product, w->machine_id, w->hardware_id, err);
        w->trials = (unsigned) r;
        return 0;
}

int sqlite_trial_reset(Storage *storage, const char *product, const char *machine_id, const char *hardware_id,
                       int64_t now, unsigned *ret_trials, unsigned *ret_released, CoreError *err) {
        TrialReset w = {.product = product, .machine_id = machine_id, .hardware_id = hardware_id, .now = now};
        int r;

        r = sql_pool_write(sqlite_storage(storage)->pool, trial_reset_write, &w, err);
        if (r < 0)
                return r;
        *ret_trials = w.trials;
        *ret_released = w.released;
        return 0;
}
