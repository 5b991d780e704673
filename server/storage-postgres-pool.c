/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PostgreSQL backend's connections: a bounded pool, made when first
 * needed, each with a statement timeout; transactions on them; and the
 * statement helpers with their errors (SQLSTATE to errno). A connection
 * that broke is dropped and made anew on next use; a transaction whose
 * BEGIN finds its connection dead (the database restarted meanwhile) is
 * retried once on a new one, since nothing of it reached the database. */

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

/* Runs sql with parameters $1...: types has one letter per argument, 't'
 * text (NULL is NULL), 'i' int64. Returns 0 with the
 * result in *ret, or negative errno. */
int query(Tx *t, PGresult **ret, CoreError *err, const char *sql, const char *types, ...) {
        char numbers[PARAMS_MAX][24];
        const char *values[PARAMS_MAX];
        PGresult *res;
        ExecStatusType st;
        va_list ap;
        int n = 0, r;

        va_start(ap, types);
        for (; types[n]; n++) {
                assert(n < PARAMS_MAX);
                if (types[n] == 't')
                        values[n] = va_arg(ap, const char *);
                else {
                        snprintf(numbers[n], sizeof(numbers[n]), "%" PRId64, va_arg(ap, int64_t));
                        values[n] = numbers[n];
                }
        }
        va_end(ap);

        res = PQexecParams(t->c, sql, n, NULL, values, NULL, NULL, 0);
        st = PQresultStatus(res);
        if (res && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) {
                *ret = res;
                return 0;
        }
        r = result_error(t->c, res, err);
        PQclear(res);
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
 * transaction (a ROLLBACK that failed), is dropped here, so the next user
 * makes a new one. */
static void slot_give(PgStorage *s, PgSlot *slot) {
        if (slot->conn &&
            (PQstatus(slot->conn) != CONNECTION_OK || PQtransactionStatus(slot->conn) != PQTRANS_IDLE)) {
                PQfinish(slot->conn);
                slot->conn = NULL;
        }
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

/* Opens a transaction. A connection the pool kept may have died since its
 * last use (the database restarted): if BEGIN finds it so, nothing was
 * sent, so one new connection gets a second try. */
int tx_begin(PgStorage *s, Tx *t, CoreError *err) {
        int r;

        *t = (Tx){.s = s};
        r = slot_take(s, &t->slot, err);
        if (r < 0)
                return r;
        for (int attempt = 0;; attempt++) {
                bool reused = t->slot->conn;

                r = reused ? 0 : connect_db(s, &t->slot->conn, err);
                if (r >= 0) {
                        t->c = t->slot->conn;
                        r = exec_script(t->c, "BEGIN", err);
                }
                if (r >= 0)
                        return 0;
                if (!(reused && attempt == 0 && PQstatus(t->slot->conn) == CONNECTION_BAD))
                        break;
                PQfinish(t->slot->conn);
                t->slot->conn = NULL;
        }
        tx_release(t);
        return r;
}

/* Ends the transaction: commits if r >= 0 and commit, else rolls back.
 * Returns r, or the commit's error. */
int tx_end(Tx *t, int r, bool commit, CoreError *err) {
        if (!t->c)
                return r;
        if (r >= 0 && commit) {
                int q = exec_script(t->c, "COMMIT", err);
                if (q < 0)
                        r = q;
        } else if (PQstatus(t->c) == CONNECTION_OK)
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
