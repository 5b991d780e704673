/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The customer portal's self-service release on PostgreSQL
 * (storage_portal_release()): the vendor's limit, the release and its
 * record in one transaction. The entitlement's row is locked first, so two
 * releases of one key at once are counted one after the other and cannot
 * both pass the limit. And the count of those releases for the portal's
 * page. */

#include <inttypes.h>

#include "storage-postgres.h"

/* The count and the oldest time (0 when none) of the key's self-service
 * releases since since: 0, or negative errno. */
static int releases_since(Tx *t, const char *key, int64_t since, int64_t *ret_n, int64_t *ret_oldest,
                          CoreError *err) {
        _cleanup_result_ PGresult *res = NULL;
        int r;

        r = query(t, &res, err,
                  "SELECT count(*), coalesce(min(released), 0) FROM portal_release WHERE key = $1 AND released >= $2",
                  "ti", key, since);
        if (r < 0)
                return r;
        *ret_n = column_int(res, 0, 0);
        *ret_oldest = column_int(res, 0, 1);
        return 0;
}

int pg_portal_release(Storage *storage, const PortalReleaseClaim *c, unsigned *ret_n, int64_t *ret_oldest,
                      CoreError *err) {
        _cleanup_(tx_abort) Tx t = {};
        int r;

        *ret_oldest = 0;
        r = tx_begin(pg_storage(storage), &t, err);
        if (r >= 0)
                r = EXEC(&t, err, "SELECT 1 FROM entitlement WHERE key = $1 FOR UPDATE", "t", c->key);
        if (r >= 0 && c->limit > 0) {
                int64_t n, oldest;

                r = releases_since(&t, c->key, c->since, &n, &oldest, err);
                if (r >= 0 && n >= (int64_t) c->limit) {
                        *ret_oldest = oldest;
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

/* The portal page's count of the releases in the window. */
int pg_portal_releases(Storage *storage, const char *key, int64_t since, unsigned *ret_n, int64_t *ret_oldest,
                       CoreError *err) {
        _cleanup_(tx_abort) Tx t = {};
        int64_t n = 0, oldest = 0;
        int r;

        r = tx_begin(pg_storage(storage), &t, err);
        if (r >= 0)
                r = releases_since(&t, key, since, &n, &oldest, err);
        r = tx_end(&t, r, true, err);
        if (r < 0)
                return r;
        *ret_n = (unsigned) n;
        *ret_oldest = oldest;
        return 0;
}
