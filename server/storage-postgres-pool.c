/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PostgreSQL backend's connections: a bounded pool, made when first
 * needed, each with a statement timeout; transactions on them; and the
 * statement helpers with their errors (SQLSTATE to errno). A connection
 * that broke is dropped and made anew on next use; a transaction whose
 * first batch finds its connection dead (the database restarted
 * meanwhile) is retried once on a new one, since nothing of it lasted.
 *
 * Statements are prepared once per connection and run in batches (pipeline
 * mode, tx_batch()): a transaction is as many round trips as it has points
 * where the server must look at an answer before it knows what to send. */

#include <inttypes.h>
#include <stdarg.h>
#include <time.h>

#include "storage-postgres.h"
#include "strutil.h"
#include "timeutil.h"

/* libpq's messages end in a newline and may go on over several lines. */
const char *first_line(const char *m, char *buf, size_t size) {
        snprintf(buf, size, "%.*s", (int) strcspn(m ?: "", "\n"), m ?: "");
        return buf;
}

/* Errors ----------------------------------------------------------------- */

/* The errno for a failed statement: what a caller may do about it follows
 * from the SQLSTATE class (PostgreSQL, appendix A). */
static int sqlstate_errno(const char *state) {
        if (!state)
                return ENOTCONN; /* no answer from the server at all */
        if (streq(state, "23505"))
                return EEXIST;
        if (startswith(state, "23"))
                return EINVAL;
        if (streq(state, "57014")) /* query_canceled: statement_timeout */
                return ETIMEDOUT;
        if (startswith(state, "40") || streq(state, "55P03") || streq(state, "53300"))
                return EBUSY; /* serialization failure, deadlock, lock wait, too many connections */
        if (startswith(state, "08") || startswith(state, "57P"))
                return ENOTCONN; /* connection exception, shutdown */
        if (streq(state, "53100"))
                return ENOSPC;
        if (startswith(state, "53"))
                return ENOMEM;
        if (streq(state, "42501"))
                return EACCES;
        if (streq(state, "25006"))
                return EROFS;
        return EIO;
}

static int result_error(PGconn *c, const PGresult *res, CoreError *err) {
        char line[256];
        int e;

        if (PQstatus(c) == CONNECTION_BAD)
                e = ENOTCONN;
        else
                e = sqlstate_errno(res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL);
        return core_error_set(err, e, "database: %s",
                              first_line(res ? PQresultErrorMessage(res) : PQerrorMessage(c), line,
                                         sizeof(line))[0]
                                      ? line
                                      : "no answer from PostgreSQL");
}

/* Statements ------------------------------------------------------------- */

static void stmt_bindv(Stmt *st, const char *sql, const char *types, va_list ap) {
        PQclear(st->res);
        *st = (Stmt){.sql = sql};
        for (; types[st->n]; st->n++) {
                int i = st->n;

                assert(i < PARAMS_MAX);
                if (types[i] == 't')
                        st->values[i] = va_arg(ap, const char *);
                else {
                        snprintf(st->numbers[i], sizeof(st->numbers[i]), "%" PRId64, va_arg(ap, int64_t));
                        st->values[i] = st->numbers[i];
                }
        }
}

void stmt_bind(Stmt *st, const char *sql, const char *types, ...) {
        va_list ap;

        va_start(ap, types);
        stmt_bindv(st, sql, types, ap);
        va_end(ap);
}

void stmts_done(Stmt *st, size_t n) {
        for (size_t i = 0; i < n; i++) {
                PQclear(st[i].res);
                st[i].res = NULL;
        }
}

/* Prepared statements ------------------------------------------------------- */

static void prepared_free(PgSlot *slot, size_t from) {
        for (size_t i = from; i < slot->n_prepared; i++)
                free(slot->prepared[i].sql);
        slot->n_prepared = from;
}

void slot_drop(PgSlot *slot) {
        if (slot->conn)
                PQfinish(slot->conn);
        slot->conn = NULL;
        prepared_free(slot, 0);
        free(slot->prepared);
        slot->prepared = NULL;
}

/* The statement of sql on the slot's connection, or a new entry for it
 * (ok false until the database answered its PREPARE); NULL on ENOMEM. */
static PgPrepared *prepared_get(PgSlot *slot, const char *sql, bool *ret_new) {
        PgPrepared *m;

        /* A few dozen statements at most: a scan is cheaper than the round
         * trip it saves by far. */
        for (size_t i = 0; i < slot->n_prepared; i++)
                if (streq(slot->prepared[i].sql, sql)) {
                        *ret_new = false;
                        return &slot->prepared[i];
                }
        m = realloc(slot->prepared, (slot->n_prepared + 1) * sizeof(PgPrepared));
        if (!m)
                return NULL;
        slot->prepared = m;
        m = &slot->prepared[slot->n_prepared];
        *m = (PgPrepared){.sql = strdup(sql), .name = slot->next_name};
        if (!m->sql)
                return NULL;
        slot->n_prepared++;
        slot->next_name++;
        *ret_new = true;
        return m;
}

/* Forgets the entries whose PREPARE the database did not answer. */
static void prepared_sweep(PgSlot *slot) {
        size_t k = 0;

        for (size_t i = 0; i < slot->n_prepared; i++) {
                if (slot->prepared[i].ok)
                        slot->prepared[k++] = slot->prepared[i];
                else
                        free(slot->prepared[i].sql);
        }
        slot->n_prepared = k;
}

/* Batches (pipeline mode) ---------------------------------------------------- */

/* Bounds the reads of a pipeline's results: a connection that broke
 * midway must not keep a worker reading. */
#define PIPELINE_READS_MAX 64

/* The next command's result in the pipeline, with the NULL that ends it
 * read too; NULL if the connection broke. */
static PGresult *pipeline_result(PGconn *c) {
        PGresult *res = PQgetResult(c), *extra;

        if (res && PQresultStatus(res) != PGRES_PIPELINE_SYNC)
                /* one result per command: none expected */
                for (int i = 0; i < PIPELINE_READS_MAX && (extra = PQgetResult(c)); i++)
                        PQclear(extra);
        return res;
}

/* Folds a command's result into r: the first failure of the batch wins
 * (the commands after it are only "aborted"). Returns the new r; the
 * result is kept in *keep if given and the command succeeded. */
static int batch_take(PGconn *c, PGresult *res, int r, PGresult **keep, CoreError *err) {
        ExecStatusType st = PQresultStatus(res);

        if (r >= 0 && !(res && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)))
                r = result_error(c, res, err);
        if (r >= 0 && keep)
                *keep = res;
        else
                PQclear(res);
        return r;
}

static int batch_send(Tx *t, Stmt *st, size_t n, bool commit, bool *prepare, CoreError *err) {
        PGconn *c = t->c;
        char name[16];

        if (!t->begun && !PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
                return result_error(c, NULL, err);
        for (size_t i = 0; i < n; i++) {
                PgPrepared *p = prepared_get(t->slot, st[i].sql, &prepare[i]);

                if (!p)
                        return -ENOMEM;
                snprintf(name, sizeof(name), "s%u", p->name);
                if (prepare[i] && !PQsendPrepare(c, name, st[i].sql, st[i].n, NULL))
                        return result_error(c, NULL, err);
                if (!PQsendQueryPrepared(c, name, st[i].n, st[i].values, NULL, NULL, 0))
                        return result_error(c, NULL, err);
        }
        if (commit && !PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0))
                return result_error(c, NULL, err);
        if (!PQpipelineSync(c))
                return result_error(c, NULL, err);
        return 0;
}

/* One try of tx_batch(). */
static int batch_run(Tx *t, Stmt *st, size_t n, bool commit, CoreError *err) {
        bool prepare[BATCH_MAX] = {}, begin = !t->begun;
        size_t first_new = t->slot->n_prepared;
        PGconn *c = t->c;
        PGresult *res;
        int r;

        assert(n <= BATCH_MAX);
        stmts_done(st, n);
        if (!PQenterPipelineMode(c))
                return result_error(c, NULL, err);
        r = batch_send(t, st, n, commit, prepare, err);
        if (r >= 0) {
                /* The answers, in the order of the commands. */
                if (begin) {
                        r = batch_take(c, pipeline_result(c), r, NULL, err);
                        t->begun = r >= 0;
                }
                for (size_t i = 0; i < n; i++) {
                        if (prepare[i]) {
                                int q = batch_take(c, pipeline_result(c), r, NULL, err);
                                t->slot->prepared[first_new++].ok = q >= 0;
                                r = q;
                        }
                        r = batch_take(c, pipeline_result(c), r, &st[i].res, err);
                }
                if (commit) {
                        r = batch_take(c, pipeline_result(c), r, NULL, err);
                        if (r >= 0)
                                t->begun = false; /* committed */
                }
                /* Up to the sync; a connection that broke has nothing more. */
                for (int i = 0; i < PIPELINE_READS_MAX && (res = PQgetResult(c)); i++) {
                        bool sync = PQresultStatus(res) == PGRES_PIPELINE_SYNC;

                        PQclear(res);
                        if (sync)
                                break;
                }
        }
        prepared_sweep(t->slot);
        /* Fails only with results left unread: then the connection is
         * not fit for the next user, and slot_give() drops it. */
        (void) PQexitPipelineMode(c);
        if (r < 0)
                stmts_done(st, n);
        return r;
}

static int connect_db(PgStorage *s, PGconn **ret, CoreError *err);

int tx_batch(Tx *t, Stmt *st, size_t n, bool commit, CoreError *err) {
        bool first = !t->begun;
        int r;

        r = batch_run(t, st, n, commit, err);
        /* A kept connection found dead by the transaction's first batch:
         * without a COMMIT in it, nothing the database may have run of it
         * lasts, so one new connection gets a second try. */
        if (r < 0 && first && !commit && t->reused && PQstatus(t->c) == CONNECTION_BAD) {
                slot_drop(t->slot);
                t->reused = false;
                t->begun = false;
                r = connect_db(t->s, &t->slot->conn, err);
                if (r >= 0) {
                        t->c = t->slot->conn;
                        r = batch_run(t, st, n, commit, err);
                }
        }
        return r;
}

int query(Tx *t, PGresult **ret, CoreError *err, const char *sql, const char *types, ...) {
        Stmt st = {};
        va_list ap;
        int r;

        va_start(ap, types);
        stmt_bindv(&st, sql, types, ap);
        va_end(ap);
        r = tx_batch(t, &st, 1, false, err);
        if (r >= 0)
                *ret = TAKE_PTR(st.res);
        return r;
}

/* Runs statements without parameters (several, separated by ';'). */
int exec_script(PGconn *c, const char *sql, CoreError *err) {
        _cleanup_result_ PGresult *res = PQexec(c, sql);

        if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK)
                return 0;
        return result_error(c, res, err);
}

int64_t column_int(const PGresult *res, int row, int col) {
        return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

bool column_bool(const PGresult *res, int row, int col) {
        return PQgetvalue(res, row, col)[0] == 't';
}

int column_dup(const PGresult *res, int row, int col, char **ret) {
        if (PQgetisnull(res, row, col)) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(PQgetvalue(res, row, col));
        return *ret ? 0 : -ENOMEM;
}


/* Turns every row of res into an element (of size bytes) of a new array.
 * On failure *list holds the *n elements made so far, for the caller to
 * free. */
int collect_rows(const PGresult *res, size_t size, FromRow from_row, void **list, size_t *n,
                        CoreError *err) {
        int rows = PQntuples(res), r;

        *list = calloc((size_t) rows + 1, size);
        if (!*list)
                return -ENOMEM;
        for (int i = 0; i < rows; i++) {
                r = from_row(res, i, (char *) *list + *n * size, err);
                if (r < 0)
                        return r;
                (*n)++;
        }
        return 0;
}

/* Reads the row that sql, with the one text parameter arg, selects: 1 if
 * there is one, 0 if not. */
int read_row(Tx *t, const char *sql, const char *arg, FromRow from_row, void *ret, CoreError *err) {
        _cleanup_result_ PGresult *res = NULL;
        int r;

        r = query(t, &res, err, sql, "t", arg);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return 0;
        r = from_row(res, 0, ret, err);
        return r < 0 ? r : 1;
}

/* Connections and the pool -------------------------------------------------- */

static void drop_notice(void *userdata, const char *message) {
        /* "relation already exists, skipping" and the like: not the log's business */
}

/* A new connection with the session settings. -ECONNREFUSED if the
 * database cannot be reached. */
static int connect_db(PgStorage *s, PGconn **ret, CoreError *err) {
        char connect_timeout[16], settings[96], line[256];
        /* Before dbname: the URI, expanded in its place, overrides these. */
        const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
        const char *const values[] = {connect_timeout, program_invocation_short_name, s->conninfo, NULL};
        PGconn *c;
        int r;

        snprintf(connect_timeout, sizeof(connect_timeout), "%u", (s->timeout_ms + 999) / 1000);
        c = PQconnectdbParams(keys, values, 1);
        if (!c)
                return -ENOMEM;
        if (PQstatus(c) != CONNECTION_OK) {
                r = core_error_set(err, ECONNREFUSED, "cannot connect to PostgreSQL: %s",
                                   first_line(PQerrorMessage(c), line, sizeof(line)));
                PQfinish(c);
                return r;
        }
        PQsetNoticeProcessor(c, drop_notice, NULL);
        snprintf(settings, sizeof(settings), "SET statement_timeout = %u; SET client_min_messages = warning",
                 s->timeout_ms);
        r = exec_script(c, settings, err);
        if (r < 0) {
                PQfinish(c);
                return r;
        }
        *ret = c;
        return 0;
}

static void timespec_add_ms(struct timespec *ts, unsigned ms) {
        ts->tv_sec += ms / 1000;
        ts->tv_nsec += (long) (ms % 1000) * 1000000L;
        if (ts->tv_nsec >= 1000000000L) {
                ts->tv_sec++;
                ts->tv_nsec -= 1000000000L;
        }
}

/* Takes a free slot, one with a connection if there is one, waiting at
 * most the timeout for one to be freed: -EBUSY if none was. */
static int slot_take(PgStorage *s, PgSlot **ret, CoreError *err) {
        struct timespec deadline;
        PgSlot *found = NULL;
        int r = 0;

        clock_gettime(CLOCK_MONOTONIC, &deadline);
        timespec_add_ms(&deadline, s->timeout_ms);
        pthread_mutex_lock(&s->lock);
        while (!found && r == 0) {
                for (size_t i = 0; i < s->n_slots; i++)
                        if (!s->slots[i].busy && (!found || (!found->conn && s->slots[i].conn)))
                                found = &s->slots[i];
                if (!found)
                        r = pthread_cond_timedwait(&s->freed, &s->lock, &deadline);
        }
        if (found)
                found->busy = true;
        pthread_mutex_unlock(&s->lock);
        if (!found)
                return core_error_set(err, EBUSY, "all %zu database connections stayed busy for %u ms",
                                      s->n_slots, s->timeout_ms);
        *ret = found;
        return 0;
}

/* Gives the slot back; a connection that broke, or that is still inside a
 * transaction (a ROLLBACK that failed) or a pipeline (results left
 * unread), is dropped here, so the next user makes a new one. */
static void slot_give(PgStorage *s, PgSlot *slot) {
        if (slot->conn &&
            (PQstatus(slot->conn) != CONNECTION_OK || PQtransactionStatus(slot->conn) != PQTRANS_IDLE ||
             PQpipelineStatus(slot->conn) != PQ_PIPELINE_OFF))
                slot_drop(slot);
        pthread_mutex_lock(&s->lock);
        slot->busy = false;
        pthread_cond_signal(&s->freed);
        pthread_mutex_unlock(&s->lock);
}

static void tx_release(Tx *t) {
        if (t->slot)
                slot_give(t->s, t->slot);
        *t = (Tx){};
}

int tx_begin(PgStorage *s, Tx *t, CoreError *err) {
        int r;

        *t = (Tx){.s = s};
        r = slot_take(s, &t->slot, err);
        if (r < 0)
                return r;
        t->reused = t->slot->conn;
        r = t->reused ? 0 : connect_db(s, &t->slot->conn, err);
        if (r < 0) {
                tx_release(t);
                return r;
        }
        t->c = t->slot->conn;
        return 0;
}

/* Ends the transaction: commits if r >= 0 and commit, else rolls back.
 * Returns r, or the commit's error. A transaction whose last batch
 * committed, or that ran no statement, has nothing left to send. */
int tx_end(Tx *t, int r, bool commit, CoreError *err) {
        if (!t->c)
                return r;
        if (r >= 0 && commit) {
                int q = t->begun ? exec_script(t->c, "COMMIT", err) : 0;
                if (q < 0)
                        r = q;
        } else if (PQstatus(t->c) == CONNECTION_OK && PQtransactionStatus(t->c) != PQTRANS_IDLE)
                (void) exec_script(t->c, "ROLLBACK", NULL);
        tx_release(t);
        return r;
}

/* A transaction that commits when the function returns r >= 0 (see FINISH).
 * Callers declare `_cleanup_(tx_abort) Tx t` so an early return rolls
 * back. */
void tx_abort(Tx *t) {
        (void) tx_end(t, -ECANCELED, false, NULL);
}

/* Lists the rows sql (with no parameter, types "", or one text parameter
 * arg, types "t") selects, in one transaction, as an array of size-byte
 * elements. */
int list_rows(PgStorage *s, const char *sql, const char *types, const char *arg, size_t size,
                     FromRow from_row, void (*free_array)(void *list, size_t n), void **ret, size_t *ret_n,
                     CoreError *err) {
        _cleanup_result_ PGresult *res = NULL;
        _cleanup_(tx_abort) Tx t = {};
        void *list = NULL;
        size_t n = 0;
        int r;

        r = tx_begin(s, &t, err);
        if (r >= 0)
                r = query(&t, &res, err, sql, types, arg);
        r = tx_end(&t, r, true, err);
        if (r >= 0)
                r = collect_rows(res, size, from_row, &list, &n, err);
        if (r < 0) {
                free_array(list, n);
                return r;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}
