/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The customer portal's storage on SQLite: the self-service releases
 * (portal_release) and the vendor's limit on them. */

#include "storage-sqlite.h"

/* The customer portal's self-service release: the limit, the release and its
 * record in one write transaction, so two at once cannot both pass it. */
typedef struct PortalReleaseWork {
        const PortalReleaseClaim *claim;
        unsigned n;
        int64_t oldest;
} PortalReleaseWork;

static int portal_release_write(SqlConn *c, void *data, CoreError *err) {
        PortalReleaseWork *w = data;
        const PortalReleaseClaim *pc = w->claim;
        ActivationChange release = {.key = pc->key, .machine_id = pc->machine_id, .now = pc->now};
        int r;

        if (pc->limit > 0) {
                _cleanup_sql_stmt_ sqlite3_stmt *st = NULL;

                r = sql_conn_stmt(c, SQL_PORTAL_RELEASES_SINCE, &st, err, "ti", pc->key, pc->since);
                if (r >= 0)
                        r = sql_conn_step(c, st, err);
                if (r < 0)
                        return r;
                if (r > 0 && sqlite3_column_int64(st, 0) >= (int64_t) pc->limit) {
                        w->oldest = sqlite3_column_int64(st, 1);
                        return core_error_set(err, EDQUOT, "%u self-service releases in the window already",
                                              pc->limit);
                }
        }
        r = sqlite_release_machine_write(c, &release, err);
        if (r >= 0)
                r = EXEC(c, SQL_PORTAL_RELEASE_RECORD, err, "tti", pc->key, pc->machine_id, pc->now);
        if (r < 0)
                return r;
        w->n = release.n;
        return 0;
}

int sqlite_portal_release(Storage *storage, const PortalReleaseClaim *c, unsigned *ret_n,
                                 int64_t *ret_oldest, CoreError *err) {
        PortalReleaseWork w = {.claim = c};
        int r;

        r = sql_pool_write(sqlite_storage(storage)->pool, portal_release_write, &w, err);
        *ret_oldest = w.oldest;
        if (r < 0)
                return r;
        *ret_n = w.n;
        return 0;
}
