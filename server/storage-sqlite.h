/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Private to the SQLite backend (storage-sqlite*.c): its storage object,
 * the statements every connection prepares (their SQL is in
 * storage-sqlite.c) and the row helpers the operations
 * (storage-sqlite*.c) are written with. */

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite-pool.h"
#include "storage-backend.h"

typedef struct SqliteStorage {
        Storage storage; /* first: a Storage * is a SqliteStorage * */
        SqlPool *pool;
} SqliteStorage;

static inline SqliteStorage *sqlite_storage(Storage *s) {
        assert(s && s->backend == &storage_backend_sqlite);
        return (SqliteStorage *) s;
}

/* Every statement, prepared once per connection (sqlite-pool.h). */
enum {
        SQL_SCHEMA_VERSION,
        SQL_SCHEMA_VERSION_ADD,
        SQL_ENTITLEMENT_GET,
        SQL_ENTITLEMENT_LIST,
        SQL_ENTITLEMENT_EXISTS,
        SQL_ENTITLEMENT_CREATE,
        SQL_ENTITLEMENT_UPGRADE,
        SQL_ENTITLEMENT_REVOKE,
        SQL_ACTIVATION_GET,
        SQL_ACTIVATION_LIST,
        SQL_ACTIVATION_OF_MACHINE,
        SQL_ACTIVATION_RENEW,
        SQL_ACTIVATION_INSERT,
        SQL_ACTIVATION_SEEN,
        SQL_NONCE_USE,
        SQL_ACTIVATION_RELEASE,
        SQL_RELEASE_MACHINE,
        SQL_ENTITLEMENT_QUERY,
        SQL_PRODUCT_LIST,
        SQL_TOKEN_CREATE,
        SQL_TOKEN_LIST,
        SQL_TOKEN_REVOKE,
        SQL_TOKEN_USE,
        SQL_TOKEN_GET,
        SQL_PORTAL_RELEASES_SINCE,
        SQL_PORTAL_RELEASE_RECORD,
        SQL_TRIAL_GET,
        SQL_TRIAL_INSERT,
        SQL_TRIAL_OFFER,
        SQL_TRIAL_RESET_RELEASE,
        SQL_TRIAL_RESET,
        _SQL_MAX,
};

#define EXEC sql_conn_exec

/* A "no" of the seat logic (StorageResult): the sentence goes into err, the
 * answer is the return value. */
#define ANSWER STORAGE_ANSWER

static inline char *column_strdup(sqlite3_stmt *st, int i) {
        const unsigned char *v = sqlite3_column_text(st, i);
        return v ? strdup((const char *) v) : NULL;
}

static inline int column_dup(sqlite3_stmt *st, int i, char **ret) {
        if (sqlite3_column_type(st, i) == SQLITE_NULL) {
                *ret = NULL;
                return 0;
        }
        *ret = column_strdup(st, i);
        return *ret ? 0 : -ENOMEM;
}

typedef int (*FromRow)(sqlite3_stmt *st, void *ret, CoreError *err);

/* Steps through st into the growing array of size-byte records *list. On
 * failure *list holds the *n records made so far, for the caller to free. */
static inline int collect_stmt(SqlConn *c, sqlite3_stmt *st, size_t size, FromRow from_row, void **list,
                               size_t *n, CoreError *err) {
        int r;

        while ((r = sql_conn_step(c, st, err)) > 0) {
                void *m = realloc(*list, (*n + 1) * size);
                if (!m)
                        return -ENOMEM;
                *list = m;
                r = from_row(st, (char *) m + *n * size, err);
                if (r < 0)
                        return r;
                (*n)++;
        }
        return r;
}

/* The same for statement id, bound to the text arg (if not NULL). */
static inline int collect_rows(SqlConn *c, unsigned id, const char *arg, size_t size, FromRow from_row,
                               void **list, size_t *n, CoreError *err) {
        _cleanup_sql_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = sql_conn_stmt(c, id, &st, err, arg ? "t" : "", arg);
        return r < 0 ? r : collect_stmt(c, st, size, from_row, list, n, err);
}

/* Reads the row that statement id, with the one text parameter arg,
 * selects: 1 if there is one, 0 if not. */
static inline int read_row(SqlConn *c, unsigned id, const char *arg, FromRow from_row, void *ret,
                           CoreError *err) {
        _cleanup_sql_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = sql_conn_stmt(c, id, &st, err, "t", arg);
        if (r >= 0)
                r = sql_conn_step(c, st, err);
        if (r <= 0)
                return r;
        r = from_row(st, ret, err);
        return r < 0 ? r : 1;
}

/* A row of ENTITLEMENT_COLUMNS into the Entitlement ret. */
int sqlite_entitlement_from_row(sqlite3_stmt *st, void *ret, CoreError *err);

/* 0 if the key exists, -ENOENT with a sentence if not. */
int sqlite_entitlement_exists(SqlConn *c, const char *key, CoreError *err);

/* The vendor's and the admin API's operations (storage-sqlite-admin.c). */
int sqlite_entitlement_create(Storage *storage, const Entitlement *e, CoreError *err);
int sqlite_entitlement_list(Storage *storage, Entitlement **ret, size_t *ret_n, CoreError *err);
int sqlite_entitlement_upgrade(Storage *storage, const Entitlement *e, CoreError *err);
int sqlite_entitlement_revoke(Storage *storage, const char *key, CoreError *err);
int sqlite_entitlement_query(Storage *storage, const EntitlementQuery *q, Entitlement **ret, size_t *ret_n,
                             CoreError *err);
int sqlite_product_list(Storage *storage, ProductSummary **ret, size_t *ret_n, CoreError *err);
int sqlite_token_create(Storage *storage, const Token *t, CoreError *err);
int sqlite_token_list(Storage *storage, Token **ret, size_t *ret_n, CoreError *err);
int sqlite_token_revoke(Storage *storage, const char *name, int64_t now, CoreError *err);
int sqlite_token_use(Storage *storage, const char *hash, int64_t now, Token *ret, CoreError *err);

/* Brings the schema to this version's (storage-sqlite-migrate.c): a
 * sql_pool_write() function, data the database's path for the errors. */
int sqlite_migrate(SqlConn *c, void *data, CoreError *err);

/* A write on an activation or on a machine's seats (storage-sqlite.c). */
typedef struct ActivationChange {
        int64_t id;
        const char *key, *machine_id, *nonce;
        int64_t revision;
        int64_t now;
        unsigned n;
} ActivationChange;

/* Frees the seats w->machine_id holds of w->key (a sql_pool_write()
 * function on an ActivationChange): their number in w->n, or -ENOENT
 * (none held, or the key is unknown). The portal's release calls it in
 * its own transaction. */
int sqlite_release_machine_write(SqlConn *c, void *data, CoreError *err);

/* Trials (storage-sqlite-trial.c). */
int sqlite_trial_check(SqlConn *c, const ActivationClaim *claim, CoreError *err);
int sqlite_trial_offer(Storage *storage, const char *product, char key[static LICENSE_KEY_STRING_SIZE],
                       CoreError *err);
int sqlite_trial_reset(Storage *storage, const char *product, const char *machine_id, const char *hardware_id,
                       int64_t now, unsigned *ret_trials, unsigned *ret_released, CoreError *err);

/* The customer portal (storage-sqlite-portal.c). */
int sqlite_portal_release(Storage *storage, const PortalReleaseClaim *c, unsigned *ret_n,
                          int64_t *ret_oldest, CoreError *err);
int sqlite_portal_releases(Storage *storage, const char *key, int64_t since, unsigned *ret_n,
                           int64_t *ret_oldest, CoreError *err);
