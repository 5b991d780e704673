/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SQLite connections of one database: a pool of readers and one writer
 * with group commit. See sqlite-pool.h. */

#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>

#include "sqlite-pool.h"
#include "strutil.h"

#define BUSY_TIMEOUT_MS 5000
/* Writes one batch commits at most: bounds how long the first of them
 * waits for the last. The server has fewer worker threads than this. */
#define BATCH_MAX 64

/* The pool's own statements, after the caller's table. */
enum {
        OWN_BEGIN_IMMEDIATE,
        OWN_BEGIN,
        OWN_COMMIT,
        OWN_ROLLBACK,
        OWN_SAVEPOINT,
        OWN_RELEASE,
        OWN_ROLLBACK_TO,
        _OWN_MAX,
};

static const char *const own_statements[_OWN_MAX] = {
        [OWN_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
        [OWN_BEGIN] = "BEGIN",
        [OWN_COMMIT] = "COMMIT",
        [OWN_ROLLBACK] = "ROLLBACK",
        [OWN_SAVEPOINT] = "SAVEPOINT one_write",
        [OWN_RELEASE] = "RELEASE one_write",
        [OWN_ROLLBACK_TO] = "ROLLBACK TO one_write",
};

struct SqlConn {
        SqlPool *pool;
        sqlite3 *db;
        sqlite3_stmt **stmts; /* the caller's n_statements, then the pool's _OWN_MAX */
        SqlConn *next;        /* in the pool's idle list */
};

/* A write waiting for, or in, a batch. */
typedef struct SqlJob {
        SqlWork fn;
        void *data;
        CoreError *err;
        int result;
        bool done;
        pthread_cond_t wake; /* done, or first in the queue with no batch running */
        struct SqlJob *next;
} SqlJob;

struct SqlPool {
        char *path;
        bool in_memory;
        const char *const *statements;
        size_t n_statements;

        SqlConn *writer; /* used by the leader of the batch only */

        pthread_mutex_t lock; /* the queue, the leader flag and the idle readers */
        SqlJob *queue, **queue_tail;
        bool leading; /* a thread runs a batch */
        SqlConn *idle;
};

sqlite3 *sql_conn_db(SqlConn *c) {
        return c->db;
}

int sql_conn_error(SqlConn *c, int rc, CoreError *err) {
        int e;

        switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                e = EBUSY;
                break;
        case SQLITE_CONSTRAINT:
                e = EEXIST;
                break;
        case SQLITE_NOMEM:
                e = ENOMEM;
                break;
        case SQLITE_READONLY:
                e = EROFS;
                break;
        case SQLITE_FULL:
                e = ENOSPC;
                break;
        case SQLITE_CANTOPEN:
        case SQLITE_PERM:
                e = EACCES;
                break;
        default:
                e = EIO;
                break;
        }
        return core_error_set(err, e, "database: %s",
                              c && c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
}

int sql_conn_script(SqlConn *c, const char *sql, CoreError *err) {
        int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : sql_conn_error(c, rc, err);
}

static int stmt_bind(SqlConn *c, unsigned id, sqlite3_stmt **ret, CoreError *err, const char *types,
                     va_list ap) {
        size_t n = c->pool->n_statements + _OWN_MAX;
        sqlite3_stmt *st;
        int rc = SQLITE_OK;

        assert(id < n);
        if (!c->stmts[id]) {
                const char *sql = id < c->pool->n_statements ? c->pool->statements[id]
                                                               : own_statements[id - c->pool->n_statements];
                rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->stmts[id], NULL);
                if (rc != SQLITE_OK)
                        return sql_conn_error(c, rc, err);
        }
        st = c->stmts[id];
        for (int i = 0; types[i] && rc == SQLITE_OK; i++) {
                if (types[i] == 't') {
                        const char *v = va_arg(ap, const char *);
                        /* SQLITE_STATIC: the arguments outlive the statement's use,
                         * which ends with the caller's reset. */
                        rc = v ? sqlite3_bind_text(st, i + 1, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i + 1);
                } else
                        rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        }
        if (rc != SQLITE_OK) {
                sql_stmt_resetp(&st);
                return sql_conn_error(c, rc, err);
        }
        *ret = st;
        return 0;
}

int sql_conn_stmt(SqlConn *c, unsigned id, sqlite3_stmt **ret, CoreError *err, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = stmt_bind(c, id, ret, err, types, ap);
        va_end(ap);
        return r;
}

int sql_conn_step(SqlConn *c, sqlite3_stmt *st, CoreError *err) {
        int rc = sqlite3_step(st);

        if (rc == SQLITE_ROW)
                return 1;
        if (rc == SQLITE_DONE)
                return 0;
        return sql_conn_error(c, rc, err);
}

int sql_conn_exec(SqlConn *c, unsigned id, CoreError *err, const char *types, ...) {
        _cleanup_sql_stmt_ sqlite3_stmt *st = NULL;
        va_list ap;
        int r;

        va_start(ap, types);
        r = stmt_bind(c, id, &st, err, types, ap);
        va_end(ap);
        if (r >= 0)
                r = sql_conn_step(c, st, err);
        return r < 0 ? r : sqlite3_changes(c->db);
}

static int own_exec(SqlConn *c, unsigned own, CoreError *err) {
        return sql_conn_exec(c, (unsigned) c->pool->n_statements + own, err, "");
}

/* Connections ------------------------------------------------------------------ */

static void conn_free(SqlConn *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->pool->n_statements + _OWN_MAX; i++)
                sqlite3_finalize(c->stmts[i]);
        free(c->stmts);
        sqlite3_close_v2(c->db);
        free(c);
}

static int conn_open(SqlPool *p, SqlConn **ret, CoreError *err) {
        SqlConn *c;
        int rc, r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->pool = p;
        c->stmts = calloc(p->n_statements + _OWN_MAX, sizeof(*c->stmts));
        if (!c->stmts) {
                free(c);
                return -ENOMEM;
        }
        /* NOMUTEX: a connection is used by one thread at a time (the
         * leader of a batch, or the reader that took it). */
        rc = sqlite3_open_v2(p->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK)
                r = sql_conn_error(c, rc, err);
        else {
                sqlite3_extended_result_codes(c->db, 1);
                sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
                /* FULL: in WAL mode a commit fsyncs the WAL, so an
                 * acknowledged activation survives a power failure
                 * (NORMAL would sync only at checkpoints). */
                r = sql_conn_script(c,
                                    "PRAGMA journal_mode = WAL;"
                                    "PRAGMA synchronous = FULL;"
                                    "PRAGMA foreign_keys = ON;",
                                    err);
        }
        if (r < 0) {
                conn_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

int sql_pool_open(const char *path, const char *const *statements, size_t n_statements, SqlPool **ret,
                  CoreError *err) {
        _cleanup_(sql_pool_freep) SqlPool *p = NULL;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        pthread_mutex_init(&p->lock, NULL);
        p->queue_tail = &p->queue;
        p->statements = statements;
        p->n_statements = n_statements;
        p->in_memory = streq(path, ":memory:");
        p->path = strdup(path);
        if (!p->path)
                return -ENOMEM;
        r = conn_open(p, &p->writer, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

SqlPool *sql_pool_free(SqlPool *p) {
        if (!p)
                return NULL;
        assert(!p->leading && !p->queue);
        while (p->idle) {
                SqlConn *c = p->idle;
                p->idle = c->next;
                conn_free(c);
        }
        conn_free(p->writer);
        pthread_mutex_destroy(&p->lock);
        free(p->path);
        free(p);
        return NULL;
}

/* Group commit ------------------------------------------------------------------- */

/* Every job of the batch failed with r, its sentence in why. */
static void batch_fail(SqlJob *batch, int r, const CoreError *why) {
        for (SqlJob *j = batch; j; j = j->next)
                j->result = core_error_set(j->err, -r, "%s", core_error_message(why, r));
}

/* One write in its savepoint; false if its failure ended the whole
 * transaction (SQLite rolls back by itself on some errors, e.g. a full
 * disk), which undoes the batch's earlier writes too. */
static bool batch_run_one(SqlConn *c, SqlJob *j) {
        j->result = own_exec(c, OWN_SAVEPOINT, j->err);
        if (j->result >= 0)
                j->result = j->fn(c, j->data, j->err);
        if (sqlite3_get_autocommit(c->db))
                return false;
        if (j->result != 0)
                (void) own_exec(c, OWN_ROLLBACK_TO, NULL);
        (void) own_exec(c, OWN_RELEASE, NULL);
        return true;
}

static void batch_run(SqlPool *p, SqlJob *batch) {
        SqlConn *c = p->writer;
        CoreError why = {};
        int r;

        r = own_exec(c, OWN_BEGIN_IMMEDIATE, &why);
        for (SqlJob *j = batch; r >= 0 && j; j = j->next)
                if (!batch_run_one(c, j))
                        r = core_error_set(&why, EIO,
                                           "database: the transaction was rolled back (%s); try again",
                                           core_error_message(j->err, j->result));
        if (r >= 0)
                r = own_exec(c, OWN_COMMIT, &why);
        if (r < 0) {
                if (!sqlite3_get_autocommit(c->db))
                        (void) own_exec(c, OWN_ROLLBACK, NULL);
                batch_fail(batch, r, &why);
        }
}

int sql_pool_write(SqlPool *p, SqlWork fn, void *data, CoreError *err) {
        SqlJob job = {.fn = fn, .data = data, .err = err};

        pthread_cond_init(&job.wake, NULL);
        pthread_mutex_lock(&p->lock);
        *p->queue_tail = &job;
        p->queue_tail = &job.next;
        while (!job.done) {
                SqlJob *batch, **last;
                unsigned n = 0;

                /* Each waiter sleeps on its own condition: one wake-up per
                 * write, not every waiting thread per batch. */
                if (p->leading || p->queue != &job) {
                        pthread_cond_wait(&job.wake, &p->lock);
                        continue;
                }
                /* First in the queue and no batch running: lead one. Take
                 * the queue (up to BATCH_MAX), run it unlocked. */
                p->leading = true;
                batch = p->queue;
                for (last = &p->queue; *last && n < BATCH_MAX; last = &(*last)->next)
                        n++;
                p->queue = *last;
                *last = NULL;
                if (!p->queue)
                        p->queue_tail = &p->queue;
                pthread_mutex_unlock(&p->lock);

                batch_run(p, batch);

                pthread_mutex_lock(&p->lock);
                for (SqlJob *j = batch, *next; j; j = next) {
                        next = j->next; /* j may be gone once its thread sees done */
                        j->done = true;
                        if (j != &job)
                                pthread_cond_signal(&j->wake);
                }
                p->leading = false;
                if (p->queue) /* the next leader */
                        pthread_cond_signal(&p->queue->wake);
        }
        pthread_mutex_unlock(&p->lock);
        pthread_cond_destroy(&job.wake);
        return job.result;
}

/* Reads ------------------------------------------------------------------------- */

static int reader_take(SqlPool *p, SqlConn **ret, CoreError *err) {
        pthread_mutex_lock(&p->lock);
        *ret = p->idle;
        if (*ret)
                p->idle = (*ret)->next;
        pthread_mutex_unlock(&p->lock);
        return *ret ? 0 : conn_open(p, ret, err);
}

static void reader_give_back(SqlPool *p, SqlConn *c) {
        pthread_mutex_lock(&p->lock);
        c->next = p->idle;
        p->idle = c;
        pthread_mutex_unlock(&p->lock);
}

int sql_pool_read(SqlPool *p, SqlWork fn, void *data, CoreError *err) {
        SqlConn *c;
        int r;

        if (p->in_memory) /* one connection: the writer's */
                return sql_pool_write(p, fn, data, err);
        r = reader_take(p, &c, err);
        if (r < 0)
                return r;
        /* A read transaction: the reads of fn see one state of the
         * database. Nothing to commit; ROLLBACK ends it. */
        r = own_exec(c, OWN_BEGIN, err);
        if (r >= 0)
                r = fn(c, data, err);
        if (!sqlite3_get_autocommit(c->db))
                (void) own_exec(c, OWN_ROLLBACK, NULL);
        reader_give_back(p, c);
        return r;
}
