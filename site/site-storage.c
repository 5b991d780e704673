/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* site-storage.h on SQLite. Statements are written with '?' parameters and
 * bound from a small type string ('s' text, 'n' int64), the way
 * server/storage-sqlite.c does it for licensed-server; the schema is
 * versioned with PRAGMA user_version, migrations append-only. */

#include <assert.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "site-storage.h"
#include "timeutil.h"

#define BUSY_TIMEOUT_MS 5000

struct SiteStorage {
        sqlite3 *db;
        pthread_mutex_t lock;
};

/* A lease ends at borrowed-until if it is borrowed, else at expires; the
 * queries use the very expression the index lease_by_end is made of. */
#define LEASE_END_EXPR "CASE WHEN borrowed_until > 0 THEN borrowed_until ELSE expires END"
#define LEASE_END "(" LEASE_END_EXPR ")"

static const char *const migrations[] = {
        "CREATE TABLE client ("
        "  machine_id TEXT PRIMARY KEY,"
        "  device_key TEXT NOT NULL,"
        "  host TEXT NOT NULL,"
        "  enrolled INTEGER NOT NULL"
        ") STRICT;"
        "CREATE TABLE token (digest TEXT PRIMARY KEY, expires INTEGER NOT NULL) STRICT;"
        "CREATE TABLE nonce (nonce TEXT PRIMARY KEY, seen INTEGER NOT NULL) STRICT;"
        "CREATE TABLE lease ("
        "  id TEXT PRIMARY KEY,"
        "  license TEXT NOT NULL,"
        "  product TEXT NOT NULL,"
        "  feature TEXT NOT NULL,"
        "  machine_id TEXT NOT NULL,"
        "  device_key TEXT NOT NULL,"
        "  user TEXT NOT NULL,"
        "  host TEXT NOT NULL,"
        "  granted INTEGER NOT NULL,"
        "  expires INTEGER NOT NULL,"
        "  borrowed_until INTEGER NOT NULL DEFAULT 0"
        ") STRICT;"
        "CREATE INDEX lease_by_pool ON lease(license, feature);",
        /* 2: the groups of the lease's user on the site machine, ",a,b,",
         * which group reservations and limits count (site.conf). */
        "ALTER TABLE lease ADD COLUMN groups TEXT NOT NULL DEFAULT '';"
        /* Every request forgets the nonces older than the window, and every
         * grant the leases that ended: without these, both were a scan of
         * the whole table per request (bench/site.sh, docs/performance.md). */
        "CREATE INDEX nonce_by_seen ON nonce(seen);"
        "CREATE INDEX lease_by_end ON lease(" LEASE_END_EXPR ");",
        /* 3: administrator clients (licensed-site token --admin): the
         * token says so, and the enrolment it makes keeps it, until the
         * machine enrols again with a plain token. */
        "ALTER TABLE token ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE client ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;",
};

#define LEASE_COLUMNS                                                                                       \
        "id, license, product, feature, machine_id, device_key, user, host, granted, expires, borrowed_until"

DEFINE_TRIVIAL_CLEANUP_FUNC(sqlite3_stmt *, sqlite3_finalize);

static int sql_error(SiteStorage *s, int rc, CoreError *err) {
        int e = (rc & 0xff) == SQLITE_BUSY ? EBUSY : (rc & 0xff) == SQLITE_FULL ? ENOSPC
                : (rc & 0xff) == SQLITE_NOMEM                                 ? ENOMEM
                : (rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_PERM ? EACCES
                                                                                 : EIO;
        return core_error_set(err, e, "site database: %s", s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
}

static int sql_prepare(SiteStorage *s, sqlite3_stmt **ret, CoreError *err, const char *sql, const char *types,
                       va_list ap) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

        for (int i = 0; rc == SQLITE_OK && types[i]; i++)
                rc = types[i] == 's' ? sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT)
                                     : sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        if (rc != SQLITE_OK) {
                sqlite3_finalize(st);
                return sql_error(s, rc, err);
        }
        *ret = st;
        return 0;
}

/* A statement to read rows from with sql_row(). */
static int sql_query(SiteStorage *s, sqlite3_stmt **ret, CoreError *err, const char *sql, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = sql_prepare(s, ret, err, sql, types, ap);
        va_end(ap);
        return r;
}

/* 1: a row, 0: done. */
static int sql_row(SiteStorage *s, sqlite3_stmt *st, CoreError *err) {
        int rc = sqlite3_step(st);
        return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : sql_error(s, rc, err);
}

/* Runs a statement without rows: the number of rows it changed. */
static int sql_do(SiteStorage *s, CoreError *err, const char *sql, const char *types, ...) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        va_list ap;
        int r;

        va_start(ap, types);
        r = sql_prepare(s, &st, err, sql, types, ap);
        va_end(ap);
        if (r < 0)
                return r;
        r = sql_row(s, st, err);
        return r < 0 ? r : sqlite3_changes(s->db);
}

/* A transaction around every public function, under the mutex. */
static int tx_begin(SiteStorage *s, CoreError *err) {
        int rc;

        pthread_mutex_lock(&s->lock);
        rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
                pthread_mutex_unlock(&s->lock);
                return sql_error(s, rc, err);
        }
        return 0;
}

/* Commits if r >= 0, rolls back otherwise; returns r or the commit's error. */
static int tx_end(SiteStorage *s, int r, CoreError *err) {
        if (r >= 0) {
                int rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
                if (rc != SQLITE_OK)
                        r = sql_error(s, rc, err);
        }
        if (r < 0 && !sqlite3_get_autocommit(s->db))
                (void) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int migrate(SiteStorage *s, CoreError *err) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int64_t version;
        char pragma[64];
        int r;

        r = sql_query(s, &st, err, "PRAGMA user_version", "");
        if (r >= 0)
                r = sql_row(s, st, err);
        if (r < 0)
                return r;
        version = r > 0 ? sqlite3_column_int64(st, 0) : 0;
        if (version > (int64_t) ELEMENTSOF(migrations))
                return core_error_set(err, EPROTONOSUPPORT,
                                      "the site database has schema version %" PRIi64 ", newer than this "
                                      "licensed-site knows (%zu)",
                                      version, ELEMENTSOF(migrations));
        for (; version < (int64_t) ELEMENTSOF(migrations); version++) {
                snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %" PRIi64, version + 1);
                r = sqlite3_exec(s->db, migrations[version], NULL, NULL, NULL);
                if (r == SQLITE_OK)
                        r = sqlite3_exec(s->db, pragma, NULL, NULL, NULL);
                if (r != SQLITE_OK)
                        return sql_error(s, r, err);
        }
        return 0;
}

int site_storage_open(const char *path, SiteStorage **ret, CoreError *err) {
        _cleanup_free_ SiteStorage *s = NULL;
        int rc, r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
                r = core_error_set(err, EACCES, "cannot open the site database %s: %s", path,
                                   s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
                sqlite3_close(s->db);
                return r;
        }
        /* Leases are the customer's seats: the database is the site's alone. */
        (void) chmod(path, 0600);
        sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
        rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON",
                          NULL, NULL, NULL);
        r = rc == SQLITE_OK ? 0 : sql_error(s, rc, err);
        if (r >= 0) {
                pthread_mutex_init(&s->lock, NULL);
                r = tx_begin(s, err);
                if (r >= 0)
                        r = tx_end(s, migrate(s, err), err);
                if (r < 0)
                        pthread_mutex_destroy(&s->lock);
        }
        if (r < 0) {
                sqlite3_close(s->db);
                return r;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

void site_storage_close(SiteStorage *s) {
        if (!s)
                return;
        sqlite3_close(s->db);
        pthread_mutex_destroy(&s->lock);
        free(s);
}

/* The transaction of a token function, with the token's digest (what is stored). */
static int tx_begin_token(SiteStorage *s, const char *token, char digest[static LEASE_DIGEST_STRING_SIZE],
                          CoreError *err) {
        int r = lease_license_digest(token, strlen(token), digest);
        return r < 0 ? r : tx_begin(s, err);
}

int site_storage_add_token_admin(SiteStorage *s, const char *token, int64_t expires, bool admin, CoreError *err) {
        char d[LEASE_DIGEST_STRING_SIZE];
        int r;

        r = tx_begin_token(s, token, d, err);
        if (r < 0)
                return r;
        r = sql_do(s, err, "INSERT INTO token (digest, expires, admin) VALUES (?, ?, ?)", "snn", d, expires,
                   (int64_t) admin);
        return tx_end(s, r < 0 ? r : 0, err);
}

int site_storage_add_token(SiteStorage *s, const char *token, int64_t expires, CoreError *err) {
        return site_storage_add_token_admin(s, token, expires, false, err);
}

int site_storage_enrol(SiteStorage *s, const char *token, const char *machine_id, const char *device_key,
                       const char *host, int64_t now, CoreError *err) {
        char d[LEASE_DIGEST_STRING_SIZE];
        int r;

        r = tx_begin_token(s, token, d, err);
        if (r < 0)
                return r;
        /* The client row takes the token's admin flag: re-enrolling with
         * a plain token drops it. */
        r = sql_do(s, err,
                   "INSERT INTO client (machine_id, device_key, host, enrolled, admin) "
                   "SELECT ?, ?, ?, ?, admin FROM token WHERE digest = ? AND expires > ? "
                   "ON CONFLICT (machine_id) DO UPDATE SET device_key = excluded.device_key, "
                   "host = excluded.host, enrolled = excluded.enrolled, admin = excluded.admin",
                   "sssnsn", machine_id, device_key, host, now, d, now);
        if (r > 0)
                r = sql_do(s, err, "DELETE FROM token WHERE digest = ?", "s", d);
        return tx_end(s, r, err);
}

int site_storage_client_is_enrolled(SiteStorage *s, const char *machine_id, const char *device_key,
                                    CoreError *err) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int r;

        r = tx_begin(s, err);
        if (r < 0)
                return r;
        r = sql_query(s, &st, err, "SELECT 1 FROM client WHERE machine_id = ? AND device_key = ?", "ss",
                      machine_id, device_key);
        if (r >= 0)
                r = sql_row(s, st, err);
        return tx_end(s, r, err);
}

static int use_nonce_locked(SiteStorage *s, const char *nonce, int64_t now, int64_t keep, CoreError *err) {
        int r = sql_do(s, err, "DELETE FROM nonce WHERE seen < ?", "n", now - keep);

        if (r >= 0)
                r = sql_do(s, err, "INSERT INTO nonce (nonce, seen) VALUES (?, ?) ON CONFLICT DO NOTHING", "sn",
                           nonce, now);
        return r;
}

int site_storage_use_nonce(SiteStorage *s, const char *nonce, int64_t now, int64_t keep, CoreError *err) {
        int r;

        r = tx_begin(s, err);
        if (r < 0)
                return r;
        return tx_end(s, use_nonce_locked(s, nonce, now, keep, err), err);
}

static int dup_column(sqlite3_stmt *st, int i, char **ret) {
        const unsigned char *v = sqlite3_column_text(st, i);

        *ret = strdup(v ? (const char *) v : "");
        return *ret ? 0 : -ENOMEM;
}

/* A row of LEASE_COLUMNS into l (which the caller frees, also on failure). */
static int lease_from_row(sqlite3_stmt *st, Lease *l) {
        char **text[] = {&l->id, &l->license, &l->product, &l->feature, &l->machine_id, &l->device_key,
                         &l->user, &l->host};

        for (size_t i = 0; i < ELEMENTSOF(text); i++)
                if (dup_column(st, (int) i, text[i]) < 0)
                        return -ENOMEM;
        l->granted = sqlite3_column_int64(st, 8);
        l->expires = sqlite3_column_int64(st, 9);
        l->borrowed_until = sqlite3_column_int64(st, 10);
        return 0;
}

/* The leases that ended by now: told to expired, then removed. */
static int expire_locked(SiteStorage *s, int64_t now, SiteExpiredFunc expired, void *userdata, CoreError *err) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int r;

        if (expired) {
                r = sql_query(s, &st, err, "SELECT " LEASE_COLUMNS " FROM lease WHERE " LEASE_END " <= ?", "n",
                              now);
                while (r >= 0 && (r = sql_row(s, st, err)) > 0) {
                        _cleanup_(lease_done) Lease l = LEASE_INIT;
                        if (lease_from_row(st, &l) < 0)
                                return -ENOMEM;
                        expired(&l, userdata);
                }
                if (r < 0)
                        return r;
        }
        return sql_do(s, err, "DELETE FROM lease WHERE " LEASE_END " <= ?", "n", now);
}

int site_storage_expire(SiteStorage *s, int64_t now, SiteExpiredFunc expired, void *userdata, CoreError *err) {
        int r;

        r = tx_begin(s, err);
        if (r < 0)
                return r;
        return tx_end(s, expire_locked(s, now, expired, userdata, err), err);
}

static int count_locked(SiteStorage *s, const char *digest, const char *feature, int64_t now, unsigned *ret,
                        CoreError *err) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int r;

        r = sql_query(s, &st, err,
                      "SELECT count(*) FROM lease WHERE license = ? AND feature = ? AND " LEASE_END " > ?", "ssn",
                      digest, feature, now);
        if (r >= 0)
                r = sql_row(s, st, err);
        if (r < 0)
                return r;
        *ret = (unsigned) sqlite3_column_int64(st, 0);
        return 0;
}

/* The condition a rule's who puts on a lease row; its one parameter is the name. */
static const char *const who_condition[_SITE_WHO_MAX] = {
        [SITE_WHO_USER] = "user = ?",
        [SITE_WHO_HOST] = "host = ?",
        [SITE_WHO_GROUP] = "instr(groups, ',' || ? || ',') > 0",
};

static bool rule_matches(const SiteRule *r, const Lease *l, const char *groups) {
        switch (r->who) {
        case SITE_WHO_USER:
                return streq(r->name, l->user);
        case SITE_WHO_HOST:
                return streq(r->name, l->host);
        case SITE_WHO_GROUP: {
                size_t n = strlen(r->name);
                for (const char *p = strstr(groups, r->name); p; p = strstr(p + 1, r->name))
                        if (p > groups && p[-1] == ',' && p[n] == ',')
                                return true;
                return false;
        }
        default:
                return false;
        }
}

/* The leases of l's product and feature that hold at now and that r's who matches. */
static int count_rule_locked(SiteStorage *s, const Lease *l, const SiteRule *r, int64_t now, unsigned *ret,
                             CoreError *err) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_free_ char *sql = NULL;
        int k;

        if (asprintf(&sql, "SELECT count(*) FROM lease WHERE product = ? AND feature = ? AND " LEASE_END
                           " > ? AND %s",
                     who_condition[r->who]) < 0)
                return -ENOMEM;
        k = sql_query(s, &st, err, sql, "ssns", l->product, l->feature, now, r->name);
        if (k >= 0)
                k = sql_row(s, st, err);
        if (k < 0)
                return k;
        *ret = (unsigned) sqlite3_column_int64(st, 0);
        return 0;
}

/* Whether policy lets l have one of the free seats left (free of them):
 * SITE_DENIAL_NONE, or why not. */
static int policy_check_locked(SiteStorage *s, const Lease *l, const char *groups, const SitePolicy *policy,
                               unsigned free, int64_t now, SiteDenial *ret, const SiteRule **ret_rule,
                               CoreError *err) {
        unsigned held, kept = 0;
        int r;

        *ret = SITE_DENIAL_NONE;
        for (size_t i = 0; i < policy->n_max; i++) {
                if (!rule_matches(&policy->max[i], l, groups))
                        continue;
                r = count_rule_locked(s, l, &policy->max[i], now, &held, err);
                if (r < 0)
                        return r;
                if (held >= policy->max[i].seats) {
                        *ret = SITE_DENIAL_MAX;
                        *ret_rule = &policy->max[i];
                        return 0;
                }
        }
        /* A reservation keeps its seats not yet taken by those it is for. */
        for (size_t i = 0; i < policy->n_reserve; i++) {
                if (rule_matches(&policy->reserve[i], l, groups))
                        continue;
                r = count_rule_locked(s, l, &policy->reserve[i], now, &held, err);
                if (r < 0)
                        return r;
                if (held < policy->reserve[i].seats)
                        kept += policy->reserve[i].seats - held;
        }
        if (kept >= free)
                *ret = SITE_DENIAL_RESERVED;
        return 0;
}

int site_storage_grant_policy(SiteStorage *s, Lease *l, const char *groups, const SitePool *pools, size_t n_pools,
                              const SitePolicy *policy, int64_t now, SiteExpiredFunc expired, void *userdata,
                              unsigned *ret_used, unsigned *ret_seats, SiteDenial *ret_denial,
                              const SiteRule **ret_rule, CoreError *err) {
        const SitePool *chosen = NULL;
        SiteDenial denial = SITE_DENIAL_NONE;
        const SiteRule *rule = NULL;
        unsigned used = 0, seats = 0;
        int r;

        assert(l && l->id && l->feature && l->product);

        r = tx_begin(s, err);
        if (r < 0)
                return r;
        r = expire_locked(s, now, expired, userdata, err);
        for (size_t i = 0; r >= 0 && i < n_pools; i++) {
                unsigned n;
                r = count_locked(s, pools[i].digest, l->feature, now, &n, err);
                if (r < 0)
                        break;
                if (!chosen && n < pools[i].seats)
                        chosen = &pools[i];
                used += n;
                seats += pools[i].seats;
        }
        if (r >= 0 && !chosen)
                denial = SITE_DENIAL_ALL_IN_USE;
        if (r >= 0 && chosen && policy)
                r = policy_check_locked(s, l, groups ?: "", policy, seats - used, now, &denial, &rule, err);
        if (r >= 0 && denial == SITE_DENIAL_NONE) {
                used++;
                free(l->license);
                l->license = strdup(chosen->digest);
                r = l->license ? 0 : -ENOMEM;
                if (r >= 0)
                        r = sql_do(s, err,
                                   "INSERT INTO lease (" LEASE_COLUMNS ", groups) "
                                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                   "ssssssssnnns", l->id, l->license, l->product, l->feature, l->machine_id,
                                   l->device_key, l->user, l->host, l->granted, l->expires, l->borrowed_until,
                                   groups ?: "");
        }
        r = tx_end(s, r, err);
        if (r < 0)
                return r;
        *ret_used = used;
        *ret_seats = seats;
        if (ret_denial)
                *ret_denial = denial;
        if (ret_rule)
                *ret_rule = rule;
        return denial == SITE_DENIAL_NONE;
}

int site_storage_grant(SiteStorage *s, Lease *l, const SitePool *pools, size_t n_pools, int64_t now,
                       SiteExpiredFunc expired, void *userdata, unsigned *ret_used, unsigned *ret_seats,
                       CoreError *err) {
        return site_storage_grant_policy(s, l, NULL, pools, n_pools, NULL, now, expired, userdata, ret_used,
                                         ret_seats, NULL, NULL, err);
}

int site_storage_holders(SiteStorage *s, const char *product, const char *feature, int64_t now, size_t max,
                         char **ret, CoreError *err) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_free_ char *list = NULL;
        size_t n = 0;
        int r;

        r = tx_begin(s, err);
        if (r < 0)
                return r;
        r = sql_query(s, &st, err,
                      "SELECT user, host FROM lease WHERE product = ? AND feature = ? AND " LEASE_END
                      " > ? ORDER BY granted, id",
                      "ssn", product, feature, now);
        while (r >= 0 && (r = sql_row(s, st, err)) > 0) {
                char *m = NULL;
                if (n++ == max) {
                        r = asprintf(&m, "%s, ...", list ?: "");
                        free(list);
                        list = r < 0 ? NULL : m;
                        r = list ? 0 : -ENOMEM;
                        break;
                }
                r = asprintf(&m, "%s%s%s@%s", list ?: "", list ? ", " : "", sqlite3_column_text(st, 0),
                             sqlite3_column_text(st, 1));
                free(list);
                list = r < 0 ? NULL : m;
                if (!list)
                        r = -ENOMEM;
        }
        r = tx_end(s, r, err);
        if (r < 0)
                return r;
        *ret = list ? TAKE_PTR(list) : strdup("");
        return *ret ? 0 : -ENOMEM;
}

int site_storage_release_by(SiteStorage *s, const char *id, const char *machine_id, Lease *ret, CoreError *err) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int r;

        r = tx_begin(s, err);
        if (r < 0)
                return r;
        r = sql_query(s, &st, err, "SELECT " LEASE_COLUMNS " FROM lease WHERE id = ?", "s", id);
        if (r >= 0)
                r = sql_row(s, st, err);
        if (r > 0)
                r = lease_from_row(st, ret) < 0 ? -ENOMEM : 1;
        /* Read first, so that a refusal can tell "not yours" from "none". */
        if (r > 0 && machine_id && !streq(ret->machine_id, machine_id))
                r = -EPERM;
        if (r > 0)
                r = sql_do(s, err, "DELETE FROM lease WHERE id = ?", "s", id);
        return tx_end(s, r, err);
}

int site_storage_release(SiteStorage *s, const char *id, Lease *ret, CoreError *err) {
        return site_storage_release_by(s, id, NULL, ret, err);
}

static int renew_locked(SiteStorage *s, const char *id, const char *machine_id, int64_t now, int64_t expires,
                        Lease *ret, CoreError *err) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int r;

        r = sql_do(s, err,
                   "UPDATE lease SET expires = max(expires, ?) WHERE id = ? AND machine_id = ? AND " LEASE_END
                   " > ?",
                   "nssn", expires, id, machine_id, now);
        if (r > 0)
                r = sql_query(s, &st, err, "SELECT " LEASE_COLUMNS " FROM lease WHERE id = ?", "s", id);
        if (r >= 0 && st)
                r = sql_row(s, st, err);
        if (r > 0)
                r = lease_from_row(st, ret) < 0 ? -ENOMEM : 1;
        return r;
}

int site_storage_renew(SiteStorage *s, const char *id, const char *machine_id, int64_t now, int64_t expires,
                       Lease *ret, CoreError *err) {
        int r;

        r = tx_begin(s, err);
        if (r < 0)
                return r;
        return tx_end(s, renew_locked(s, id, machine_id, now, expires, ret, err), err);
}

int site_storage_heartbeat(SiteStorage *s, const char *nonce, int64_t keep, const char *id, const char *machine_id,
                           int64_t now, int64_t expires, Lease *ret, CoreError *err) {
        int r;

        r = tx_begin(s, err);
        if (r < 0)
                return r;
        r = use_nonce_locked(s, nonce, now, keep, err);
        if (r == 0)
                r = -EALREADY;
        if (r > 0)
                r = renew_locked(s, id, machine_id, now, expires, ret, err);
        return tx_end(s, r, err);
}

int site_storage_return(SiteStorage *s, const char *id, const char *machine_id, CoreError *err) {
        int r;

        r = tx_begin(s, err);
        if (r < 0)
                return r;
        return tx_end(s, sql_do(s, err, "DELETE FROM lease WHERE id = ? AND machine_id = ?", "ss", id, machine_id),
                      err);
}

int site_storage_count(SiteStorage *s, const char *digest, const char *feature, int64_t now, unsigned *ret,
                       CoreError *err) {
        int r;

        r = tx_begin(s, err);
        if (r < 0)
                return r;
        return tx_end(s, count_locked(s, digest, feature, now, ret, err), err);
}

int site_storage_list(SiteStorage *s, int64_t now, Lease **ret, size_t *ret_n, CoreError *err) {
        return site_storage_list_of(s, now, NULL, ret, ret_n, err);
}

int site_storage_list_of(SiteStorage *s, int64_t now, const char *machine_id, Lease **ret, size_t *ret_n,
                         CoreError *err) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        Lease *list = NULL;
        size_t n = 0;
        int r;

        r = tx_begin(s, err);
        if (r < 0)
                return r;
        r = sql_query(s, &st, err,
                      "SELECT " LEASE_COLUMNS " FROM lease WHERE " LEASE_END " > ? AND (? = '' OR machine_id = ?) "
                      "ORDER BY granted, id",
                      "nss", now, machine_id ?: "", machine_id ?: "");
        while (r >= 0 && (r = sql_row(s, st, err)) > 0) {
                Lease *m = realloc(list, (n + 1) * sizeof(*list));
                if (!m) {
                        r = -ENOMEM;
                        break;
                }
                list = m;
                list[n++] = (Lease) LEASE_INIT;
                if (lease_from_row(st, &list[n - 1]) < 0)
                        r = -ENOMEM;
        }
        r = tx_end(s, r, err);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        lease_done(&list[i]);
                free(list);
                return r;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

int site_storage_clients(SiteStorage *s, unsigned *ret, CoreError *err) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int r;

        r = tx_begin(s, err);
        if (r < 0)
                return r;
        r = sql_query(s, &st, err, "SELECT count(*) FROM client", "");
        if (r >= 0)
                r = sql_row(s, st, err);
        if (r > 0)
                *ret = (unsigned) sqlite3_column_int64(st, 0);
        return tx_end(s, r < 0 ? r : 0, err);
}

int site_storage_client_is_admin(SiteStorage *s, const char *machine_id, CoreError *err) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        int r;

        r = tx_begin(s, err);
        if (r < 0)
                return r;
        r = sql_query(s, &st, err, "SELECT 1 FROM client WHERE machine_id = ? AND admin != 0", "s", machine_id);
        if (r >= 0)
                r = sql_row(s, st, err);
        return tx_end(s, r, err);
}

void site_admin_free_many(SiteAdmin *list, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(list[i].machine_id);
                free(list[i].host);
        }
        free(list);
}

int site_storage_admins(SiteStorage *s, SiteAdmin **ret, size_t *ret_n, CoreError *err) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
        SiteAdmin *list = NULL;
        size_t n = 0;
        int r;

        r = tx_begin(s, err);
        if (r < 0)
                return r;
        r = sql_query(s, &st, err, "SELECT machine_id, host FROM client WHERE admin != 0 ORDER BY host, machine_id",
                      "");
        while (r >= 0 && (r = sql_row(s, st, err)) > 0) {
                SiteAdmin *m = realloc(list, (n + 1) * sizeof(*list));
                if (!m) {
                        r = -ENOMEM;
                        break;
                }
                list = m;
                list[n++] = (SiteAdmin) {};
                if (dup_column(st, 0, &list[n - 1].machine_id) < 0 || dup_column(st, 1, &list[n - 1].host) < 0)
                        r = -ENOMEM;
        }
        r = tx_end(s, r, err);
        if (r < 0) {
                site_admin_free_many(list, n);
                return r;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}
