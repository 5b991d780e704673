/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Trials on SQLite: whether a machine had one of a product (the seat
 * logic's check, in the activation's transaction, storage-sqlite.c) and
 * the product's trial offer (the public trial route). */

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
