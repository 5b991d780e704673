/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The SQLite connections of one database in one process (storage-sqlite.c
 * uses them; docs/performance.md, "licensed-server"):
 *
 *  - reads run on a pool of connections, one per concurrent reader, taken
 *    and given back per call: in WAL mode they run beside each other and
 *    beside the writer, and no lock of ours is held while they run;
 *  - writes run on the one writer connection, with group commit: a write
 *    is queued; the first thread to find no batch running leads one: it
 *    opens BEGIN IMMEDIATE, runs every queued write in a SAVEPOINT of its
 *    own (a write that fails or answers "no" is rolled back alone) and
 *    commits them all with one fsync (synchronous = FULL), then wakes
 *    their threads. A write is acknowledged only after that commit, so
 *    batching changes no durability, only how many writes share an fsync.
 *    Other processes (a second server, licensed-vendor) are kept out by
 *    SQLite's own write lock and the busy timeout.
 *
 * Every connection keeps its prepared statements (the table given at
 * open, prepared on first use with SQLITE_PREPARE_PERSISTENT), reset and
 * cleared after each use.
 *
 * An in-memory database (":memory:") is one database per connection, so
 * it has only the writer connection, and reads run on it as writes do. */

#include <sqlite3.h>
#include <stddef.h>

#include "error.h"
#include "macro.h"

typedef struct SqlConn SqlConn;
typedef struct SqlPool SqlPool;

/* A read or a write, run on c inside the transaction the pool opened.
 * Returns 0 to keep what it wrote, or non-zero (a StorageResult answer or
 * negative errno) to roll its own writes back; the value is passed on to
 * the caller. */
typedef int (*SqlWork)(SqlConn *c, void *data, CoreError *err);

/* Opens the writer connection of path (WAL, synchronous FULL, foreign
 * keys, the busy timeout); statements[i] is the SQL of statement i. */
int sql_pool_open(const char *path, const char *const *statements, size_t n_statements, SqlPool **ret,
                  CoreError *err);
/* When no call runs any more. */
SqlPool *sql_pool_free(SqlPool *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(SqlPool *, sql_pool_free);

/* Runs fn as one write transaction (group commit, above); its result, or
 * negative errno if the batch could not begin or commit. */
int sql_pool_write(SqlPool *p, SqlWork fn, void *data, CoreError *err);

/* Runs fn on a reading connection, in one read transaction. */
int sql_pool_read(SqlPool *p, SqlWork fn, void *data, CoreError *err);

sqlite3 *sql_conn_db(SqlConn *c);

/* Statement id of the table, prepared once per connection, with the
 * arguments bound; types has one letter per argument: 't' text (NULL
 * binds NULL), 'i' int64. The caller resets it with sql_stmt_resetp (the
 * _cleanup_sql_stmt_ variable). */
int sql_conn_stmt(SqlConn *c, unsigned id, sqlite3_stmt **ret, CoreError *err, const char *types, ...);

/* Steps once: 1 for a row, 0 when done, negative errno. */
int sql_conn_step(SqlConn *c, sqlite3_stmt *st, CoreError *err);

/* Runs statement id to its end; the number of rows it changed, or negative
 * errno (-EEXIST for a constraint). */
int sql_conn_exec(SqlConn *c, unsigned id, CoreError *err, const char *types, ...);

/* Runs SQL text, not kept (migrations). */
int sql_conn_script(SqlConn *c, const char *sql, CoreError *err);

/* The errno and sentence of SQLite result code rc on c. */
int sql_conn_error(SqlConn *c, int rc, CoreError *err);

static inline void sql_stmt_resetp(sqlite3_stmt **st) {
        if (*st) {
                sqlite3_reset(*st);
                sqlite3_clear_bindings(*st);
        }
}
#define _cleanup_sql_stmt_ _cleanup_(sql_stmt_resetp)
