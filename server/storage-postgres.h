/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Private to the PostgreSQL backend (storage-postgres*.c): its storage
 * object, the pool of connections and transactions on them
 * (storage-postgres-pool.c), and the statement helpers the operations
 * (storage-postgres*.c) are written with. */

#include <assert.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>

#include "storage-backend.h"

/* pg_advisory_xact_lock()'s key for migrations: "licensed" in ASCII. */
#define MIGRATION_LOCK INT64_C(0x6c6963656e736564)
/* The most parameters of one statement (an entitlement insert has 17). */
#define PARAMS_MAX 24

/* A statement prepared on a connection: its SQL and the number in its
 * name ("s<name>"). Names are never reused on a connection, so one whose
 * PREPARE failed halfway can be prepared again under another. */
typedef struct PgPrepared {
        char *sql;
        unsigned name;
        bool ok; /* the database answered the PREPARE */
} PgPrepared;

typedef struct PgSlot {
        PGconn *conn; /* NULL until made, or after it broke */
        bool busy;
        /* The statements prepared on conn: every statement is prepared
         * once per connection and then only executed, which spares the
         * database a parse and a plan per statement. Dropped with conn. */
        PgPrepared *prepared;
        size_t n_prepared;
        unsigned next_name;
} PgSlot;

typedef struct PgStorage {
        Storage storage; /* first: a Storage * is a PgStorage * */
        char *conninfo;
        unsigned timeout_ms;
        pthread_mutex_t lock; /* guards the slots' busy flags, nothing of the database */
        pthread_cond_t freed;
        size_t n_slots;
        PgSlot slots[];
} PgStorage;

/* One transaction on one connection of the pool. BEGIN is not a round
 * trip of its own: it goes with the transaction's first statements
 * (tx_batch()). */
typedef struct Tx {
        PgStorage *s;
        PgSlot *slot;
        PGconn *c;
        bool reused; /* the connection was kept from an earlier use of the slot */
        bool begun;  /* BEGIN was answered and no COMMIT yet */
} Tx;

/* One statement of a batch (tx_batch()): the SQL (its text finds the
 * statement prepared on the connection) and its parameters as text. */
typedef struct Stmt {
        const char *sql;
        int n;
        const char *values[PARAMS_MAX];
        char numbers[PARAMS_MAX][24];
        PGresult *res; /* after tx_batch() succeeded: its result */
} Stmt;

#define BATCH_MAX 4

static inline PgStorage *pg_storage(Storage *s) {
        assert(s && s->backend == &storage_backend_postgres);
        return (PgStorage *) s;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(PGresult *, PQclear);
#define _cleanup_result_ _cleanup_(PQclearp)
#define ANSWER STORAGE_ANSWER

typedef int (*FromRow)(const PGresult *res, int row, void *ret, CoreError *err);

/* libpq's messages end in a newline and may go on over several lines. */
const char *first_line(const char *m, char *buf, size_t size);

/* Sets st to sql with parameters $1...: types has one letter per
 * argument, 't' text (NULL is NULL), 'i' int64. */
void stmt_bind(Stmt *st, const char *sql, const char *types, ...);

/* Frees the results of n statements. */
void stmts_done(Stmt *st, size_t n);

/* Runs n statements in one round trip (libpq's pipeline mode): BEGIN
 * first if the transaction has not begun, the PREPARE of a statement not
 * yet prepared on this connection before its execution, and with commit
 * COMMIT last. The database runs them one after the other as if sent one
 * by one (READ COMMITTED: each sees what was committed before it
 * started, a lock taken by one holds for those after it); the first that
 * fails fails the batch and the rest are not run. 0 with each result in
 * st[i].res, or negative errno. */
int tx_batch(Tx *t, Stmt *st, size_t n, bool commit, CoreError *err);

/* Runs sql with parameters $1... (types as stmt_bind()) as a batch of
 * one. Returns 0 with the result in *ret, or negative errno. */
int query(Tx *t, PGresult **ret, CoreError *err, const char *sql, const char *types, ...);

/* Runs statements without parameters (several, separated by ';'). */
int exec_script(PGconn *c, const char *sql, CoreError *err);

int64_t column_int(const PGresult *res, int row, int col);

bool column_bool(const PGresult *res, int row, int col);

int column_dup(const PGresult *res, int row, int col, char **ret);

/* Turns every row of res into an element (of size bytes) of a new array.
 * On failure *list holds the *n elements made so far, for the caller to
 * free. */
int collect_rows(const PGresult *res, size_t size, FromRow from_row, void **list, size_t *n,
                        CoreError *err);

/* Reads the row that sql, with the one text parameter arg, selects: 1 if
 * there is one, 0 if not. */
int read_row(Tx *t, const char *sql, const char *arg, FromRow from_row, void *ret, CoreError *err);

/* Opens a transaction: takes a connection of the pool, made anew if the
 * slot has none. BEGIN goes with the first batch: a connection the pool
 * kept may have died since its last use (the database restarted); if the
 * first batch finds it so and had no COMMIT, nothing of the transaction
 * can have been done, so it gets a second try on a new connection. */
int tx_begin(PgStorage *s, Tx *t, CoreError *err);

/* Closes the slot's connection and forgets what was prepared on it. */
void slot_drop(PgSlot *slot);

/* Ends the transaction: commits if r >= 0 and commit, else rolls back.
 * Returns r, or the commit's error. */
int tx_end(Tx *t, int r, bool commit, CoreError *err);

/* A transaction that commits when the function returns r >= 0 (see FINISH).
 * Callers declare `_cleanup_(tx_abort) Tx t` so an early return rolls
 * back. */
void tx_abort(Tx *t);

/* Lists the rows sql (with no parameter, types "", or one text parameter
 * arg, types "t") selects, in one transaction, as an array of size-byte
 * elements. */
int list_rows(PgStorage *s, const char *sql, const char *types, const char *arg, size_t size,
                     FromRow from_row, void (*free_array)(void *list, size_t n), void **ret, size_t *ret_n,
                     CoreError *err);

/* Runs a statement for its effect; returns the number of rows it changed. */
#define EXEC(t, err, sql, types, ...)                                                                       \
        ({                                                                                                  \
                _cleanup_result_ PGresult *_res_ = NULL;                                                    \
                int _r_ = query((t), &_res_, (err), (sql), (types), ##__VA_ARGS__);                         \
                _r_ >= 0 ? atoi(PQcmdTuples(_res_)) : _r_;                                                  \
        })

/* The entitlement columns and their reader, shared by the operations. */
#define PG_ENTITLEMENT_COLUMNS                                                                              \
        "e.key, e.product, e.licensee, e.type, e.not_before, e.not_after, e.maintenance_until, "            \
        "e.features, e.properties, e.validation_interval, e.grace_period, e.server_url, e.seats, "          \
        "e.revoked, e.revision, e.created, e.updated, e.active, e.trial_days, "                             \
        "e.deactivation_requires_maintenance"
int pg_entitlement_from_row(const PGresult *res, int row, void *ret, CoreError *err);
void pg_entitlement_array_free(void *list, size_t n);

/* Inside transaction t: frees the seats machine_id holds of key; how many,
 * or -ENOENT (none held, or the key is unknown). */
int pg_release_machine_tx(Tx *t, const char *key, const char *machine_id, int64_t now, CoreError *err);

/* Brings the schema to this version's (storage-postgres-migrate.c). */
int pg_migrate(PgStorage *s, CoreError *err);

/* The product's trial offer and the vendor's trial reset
 * (storage-postgres-trial.c). */
int pg_trial_offer(Storage *storage, const char *product, char key[static LICENSE_KEY_STRING_SIZE],
                   CoreError *err);
int pg_trial_reset(Storage *storage, const char *product, const char *machine_id, const char *hardware_id,
                   int64_t now, unsigned *ret_trials, unsigned *ret_released, CoreError *err);

/* The customer portal's self-service release (storage-postgres-portal.c). */
int pg_portal_release(Storage *storage, const PortalReleaseClaim *c, unsigned *ret_n, int64_t *ret_oldest,
                      CoreError *err);
int pg_portal_releases(Storage *storage, const char *key, int64_t since, unsigned *ret_n, int64_t *ret_oldest,
                       CoreError *err);

/* The admin API's operations (storage-postgres-admin.c). */
int pg_entitlement_query(Storage *storage, const EntitlementQuery *q, Entitlement **ret, size_t *ret_n,
                         CoreError *err);
int pg_product_list(Storage *storage, ProductSummary **ret, size_t *ret_n, CoreError *err);
int pg_token_create(Storage *storage, const Token *t, CoreError *err);
int pg_token_list(Storage *storage, Token **ret, size_t *ret_n, CoreError *err);
int pg_token_revoke(Storage *storage, const char *name, int64_t now, CoreError *err);
int pg_token_use(Storage *storage, const char *hash, int64_t now, Token *ret, CoreError *err);
