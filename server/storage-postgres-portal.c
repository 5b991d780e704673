/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The customer portal's self-service release on PostgreSQL
 * (storage_portal_release()): the vendor's limit, the release and its
 * record in one transaction. The entitlement's row is locked first, so two
 * releases of one key at once are counted one after the other and cannot
 * both pass the limit. */

#include <inttypes.h>

#include "storage-postgres.h"

int pg_portal_release(Storage *storage, const PortalReleaseClaim *c, unsigned *ret_n, int64_t *ret_oldest,
                      CoreError *err) {
        _cleanup_(tx_abort) Tx t = {};
        int r;

        *ret_oldest = 0;
        r = tx_begin(pg_storage(storage), &t, err);
        if (r >= 0)
                r = EXEC(&t, err, "SELECT 1 FROM entitlement WHERE key = $1 FOR UPDATE", "t", c->key);
        if (r >= 0 && c->limit > 0) {
                _cleanup_result_ PGresult *res = NULL;

                r = query(&t, &res, err,
                          "SELECT count(*), coalesce(min(released), 0) FROM portal_release "
                          "WHERE key = $1 AND released >= $2",
                          "ti", c->key, c->since);
                if (r >= 0 && column_int(res, 0, 0) >= (int64_t) c->limit) {
                        *ret_oldest = column_int(res, 0, 1);
                        r = core_error_set(err, EDQUOT, "%u self-service releases in the window already",
                                           c->limit);
                }
        }
        if (r >= 0)
                r = pg_release_machine_tx(&t, c->key, c->machine_id, c->now, err);
        if (r >= 0) {
                *ret_n = (unsigned) r;
                r = EXEC(&t, err, "INSERT INTO portal_release (key, machine_id, released) VALUES ($1, $2, $3)",
                         "tti", c->key, c->machine_id, c->now);
        }
        r = tx_end(&t, r, true, err);
        return r < 0 ? r : 0;
}
