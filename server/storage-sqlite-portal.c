/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The customer portal's storage on SQLite: the self-service releases
 * (portal_release), the vendor's limit on them, and their count for the
 * portal's page. */

#include "storage-sqlite.h"

/* The customer portal's self-service release: the limit, the release and its
 * record in one write transaction, so two at once cannot both pass it. */
typedef struct PortalReleaseWork {
        const PortalReleaseClaim *claim;
        unsigned n;
        int64_t oldest;
} PortalReleaseWork;

/* The count and the oldest time of the key's self-service releases since
 * since: 0, or negative errno. */
static int releases_since(SqlConn *c, const char *key, int64_t since, int64_t *ret_n, int64_t *ret_oldest,
                          CoreError *err) {
        _cleanup_sql_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = sql_conn_stmt(c, SQL_PORTAL_RELEASES_SINCE, &st, err, "ti", key, since);
        if (r >= 0)
                r = sql_conn_step(c, st, err);
        if (r < 0)
                return r;
        *ret_n = r > 0 ? sqlite3_column_int64(st, 0) : 0;
        *ret_oldest = r > 0 ? sqlite3_column_int64(st, 1) : 0; /* min() of none is NULL: 0 */
        return 0;
}

static int portal_release_write(SqlConn *c, void *data, CoreError *err) {
        PortalReleaseWork *w = data;
        const PortalReleaseClaim *pc = w->claim;
        ActivationChange release = {.key = pc->key, .machine_id = pc->machine_id, .now = pc->now};
        int r;

        if (pc->limit > 0) {
                int64_t n, oldest;

                r = releases_since(c, pc->key, pc->since, &n, &oldest, err);
                if (r < 0)
                        return r;
                if (n >= (int64_t) pc->limit) {
                        w->oldest = oldest;
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

int sqlite_portal_release(Storage *storage, const PortalReleaseClaim *c, unsigned *ret_n, int64_t *ret_oldest,
                          CoreError *err) {
        PortalReleaseWork w = {.claim = c};
        int r;

        r = sql_pool_write(sqlite_storage(storage)->pool, portal_release_write, &w, err);
        *ret_oldest = w.oldest;
        if (r < 0)
                return r;
        *ret_n = w.n;
        return 0;
}

/* The portal page's count of the releases in the window: a read. */
typedef struct ReleasesRead {
        const char *key;
        int64_t since, n, oldest;
} ReleasesRead;

static int portal_releases_read(SqlConn *c, void *data, CoreError *err) {
        ReleasesRead *q = data;
        return releases_since(c, q->key, q->since, &q->n, &q->oldest, err);
}

int sqlite_portal_releases(Storage *storage, const char *key, int64_t since, unsigned *ret_n,
                           int64_t *ret_oldest, CoreError *err) {
        ReleasesRead q = {.key = key, .since = since};
        int r;

        r = sql_pool_read(sqlite_storage(storage)->pool, portal_releases_read, &q, err);
        if (r < 0)
                return r;
        *ret_n = (unsigned) q.n;
        *ret_oldest = q.oldest;
        return 0;
}
