/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* storage.h over SQLite (storage_backend_sqlite): one file, WAL journal,
 * a busy timeout so that several processes (server instances,
 * licensed-vendor) can share it, and a schema_version table with numbered migrations. Within a process one
 * connection is shared, serialized by a mutex; every public function is
 * one transaction. Features and properties are JSON in their columns
 * (storage_features_to_json()). */

#include <assert.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "storage-backend.h"
#include "strutil.h"
#include "timeutil.h"

#define BUSY_TIMEOUT_MS 5000

typedef struct SqliteStorage {
        Storage storage; /* first: a Storage * is a SqliteStorage * */
        sqlite3 *db;
        pthread_mutex_t lock;
} SqliteStorage;

static SqliteStorage *sqlite_storage(Storage *s) {
        assert(s && s->backend == &storage_backend_sqlite);
        return (SqliteStorage *) s;
}

/* Migration N brings the schema from version N to N + 1. Append only. */
static const char *const migrations[] = {
        "CREATE TABLE entitlement ("
        "  key TEXT PRIMARY KEY,"
        "  product TEXT NOT NULL,"
        "  licensee TEXT NOT NULL,"
        "  type TEXT NOT NULL,"
        "  not_before INTEGER NOT NULL DEFAULT 0,"
        "  not_after INTEGER NOT NULL DEFAULT 0,"
        "  maintenance_until INTEGER NOT NULL DEFAULT 0,"
        "  features TEXT NOT NULL DEFAULT '[]',"
        "  properties TEXT NOT NULL DEFAULT '{}',"
        "  validation_interval INTEGER NOT NULL DEFAULT -1,"
        "  grace_period INTEGER NOT NULL DEFAULT -1,"
        "  server_url TEXT,"
        "  seats INTEGER NOT NULL CHECK (seats >= 1),"
        "  revoked INTEGER NOT NULL DEFAULT 0,"
        "  revision INTEGER NOT NULL DEFAULT 1,"
        "  created INTEGER NOT NULL,"
        "  updated INTEGER NOT NULL"
        ") STRICT;"
        "CREATE TABLE activation ("
        "  id INTEGER PRIMARY KEY,"
        "  key TEXT NOT NULL REFERENCES entitlement(key),"
        "  license_id TEXT NOT NULL UNIQUE,"
        "  machine_id TEXT NOT NULL,"
        "  device_key TEXT NOT NULL,"
        "  hostname TEXT,"
        "  nonce TEXT NOT NULL,"
        "  revision INTEGER NOT NULL,"
        "  activated INTEGER NOT NULL,"
        "  last_seen INTEGER NOT NULL,"
        "  released INTEGER NOT NULL DEFAULT 0"
        ") STRICT;"
        "CREATE INDEX activation_by_key ON activation(key, released);"
        "CREATE UNIQUE INDEX activation_by_machine ON activation(key, machine_id, device_key);"
        /* Nonces of deactivation proofs already acted on: a proof works once. */
        "CREATE TABLE used_nonce (nonce TEXT PRIMARY KEY, used INTEGER NOT NULL) STRICT;",
        /* 1 -> 2: admin API tokens, by the SHA-256 of the token (never the token). */
        "CREATE TABLE admin_token ("
        "  id INTEGER PRIMARY KEY,"
        "  name TEXT NOT NULL UNIQUE,"
        "  scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),"
        "  hash TEXT NOT NULL UNIQUE,"
        "  created INTEGER NOT NULL,"
        "  expires INTEGER NOT NULL DEFAULT 0,"
        "  last_used INTEGER NOT NULL DEFAULT 0,"
        "  revoked INTEGER NOT NULL DEFAULT 0"
        ") STRICT;"
        "CREATE INDEX entitlement_by_created ON entitlement(created, key);",
};

#define SCHEMA_VERSION ((int64_t) ELEMENTSOF(migrations))

/* Statements ------------------------------------------------------------- */

static void unlockp(pthread_mutex_t **m) {
        if (*m)
                pthread_mutex_unlock(*m);
}
#define LOCKED(s)                                                                                           \
        _cleanup_(unlockp) pthread_mutex_t *_lock_ = ({                                                     \
                pthread_mutex_lock(&(s)->lock);                                                             \
                &(s)->lock;                                                                                 \
        })

DEFINE_TRIVIAL_CLEANUP_FUNC(sqlite3_stmt *, sqlite3_finalize);
#define _cleanup_stmt_ _cleanup_(sqlite3_finalizep)

static int db_error(SqliteStorage *s, int rc, CoreError *err) {
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
        return core_error_set(err, e, "database: %s", s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
}

/* types: one letter per argument: 't' text (NULL binds NULL), 'i' int64. */
static int prepare(SqliteStorage *s, sqlite3_stmt **ret, CoreError *err, const char *sql, const char *types, ...) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        va_list ap;
        int rc;

        rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return db_error(s, rc, err);
        va_start(ap, types);
        for (int i = 0; types[i] && rc == SQLITE_OK; i++) {
                if (types[i] == 't') {
                        const char *v = va_arg(ap, const char *);
                        rc = v ? sqlite3_bind_text(st, i + 1, v, -1, SQLITE_TRANSIENT)
                               : sqlite3_bind_null(st, i + 1);
                } else
                        rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        }
        va_end(ap);
        if (rc != SQLITE_OK)
                return db_error(s, rc, err);
        *ret = TAKE_PTR(st);
        return 0;
}

/* Steps once: 1 for a row, 0 when done. */
static int step(SqliteStorage *s, sqlite3_stmt *st, CoreError *err) {
        int rc = sqlite3_step(st);

        if (rc == SQLITE_ROW)
                return 1;
        if (rc == SQLITE_DONE)
                return 0;
        return db_error(s, rc, err);
}

/* Runs a statement that returns no rows; returns the number of rows changed. */
#define EXEC(s, err, sql, types, ...)                                                                       \
        ({                                                                                                  \
                _cleanup_stmt_ sqlite3_stmt *_st_ = NULL;                                                   \
                int _r_ = prepare((s), &_st_, (err), (sql), (types), ##__VA_ARGS__);                        \
                if (_r_ >= 0)                                                                               \
                        _r_ = step((s), _st_, (err));                                                       \
                _r_ >= 0 ? sqlite3_changes((s)->db) : _r_;                                                  \
        })

static int exec_script(SqliteStorage *s, const char *sql, CoreError *err) {
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : db_error(s, rc, err);
}

/* A write transaction: BEGIN IMMEDIATE takes the write lock up front, so a
 * read-then-write (the seat count) cannot race another process. */
static int begin(SqliteStorage *s, CoreError *err) {
        return exec_script(s, "BEGIN IMMEDIATE", err);
}

static int commit(SqliteStorage *s, CoreError *err) {
        return exec_script(s, "COMMIT", err);
}

static void rollback(SqliteStorage *s) {
        if (!sqlite3_get_autocommit(s->db))
                (void) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Ends a transaction: commits if r >= 0, else rolls back. Returns r or the
 * commit's error. */
static int finish(SqliteStorage *s, int r, CoreError *err) {
        if (r >= 0) {
                int q = commit(s, err);
                if (q >= 0)
                        return r;
                r = q;
        }
        rollback(s);
        return r;
}

/* A "no" of the seat logic (StorageResult): the sentence goes into err, the
 * answer is the return value. */
#define ANSWER STORAGE_ANSWER

static char *column_strdup(sqlite3_stmt *st, int i) {
        const unsigned char *v = sqlite3_column_text(st, i);
        return v ? strdup((const char *) v) : NULL;
}

static int column_dup(sqlite3_stmt *st, int i, char **ret) {
        if (sqlite3_column_type(st, i) == SQLITE_NULL) {
                *ret = NULL;
                return 0;
        }
        *ret = column_strdup(st, i);
        return *ret ? 0 : -ENOMEM;
}

/* Steps through st and turns each row into the next element (of size
 * bytes) of a growing array. On failure *list holds the *n elements made
 * so far, for the caller to free. */
static int collect_rows(SqliteStorage *s, sqlite3_stmt *st, size_t size,
                        int (*from_row)(sqlite3_stmt *st, void *ret, CoreError *err), void **list, size_t *n,
                        CoreError *err) {
        int r;

        while ((r = step(s, st, err)) > 0) {
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

/* Reads the row that sql, with the one text parameter arg, selects: 1 if
 * there is one, 0 if not. */
static int read_row(SqliteStorage *s, const char *sql, const char *arg,
                    int (*from_row)(sqlite3_stmt *st, void *ret, CoreError *err), void *ret, CoreError *err) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = prepare(s, &st, err, sql, "t", arg);
        if (r >= 0)
                r = step(s, st, err);
        if (r <= 0)
                return r;
        r = from_row(st, ret, err);
        return r < 0 ? r : 1;
}

/* Opening and migration ------------------------------------------------------ */

static int migrate(SqliteStorage *s, const char *path, CoreError *err) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int64_t version = 0;
        int r;

        r = begin(s, err);
        if (r < 0)
                return r;
        r = exec_script(s, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT",
                        err);
        if (r >= 0)
                r = prepare(s, &st, err, "SELECT max(version) FROM schema_version", "");
        if (r >= 0)
                r = step(s, st, err);
        if (r > 0)
                version = sqlite3_column_int64(st, 0);
        if (r >= 0 && version > SCHEMA_VERSION)
                r = core_error_set(err, EPROTONOSUPPORT,
                                   "database %s has schema version %" PRId64
                                   ", this version knows up to %" PRId64 ": update licensed",
                                   path, version, SCHEMA_VERSION);
        for (int64_t v = version; r >= 0 && v < SCHEMA_VERSION; v++) {
                r = exec_script(s, migrations[v], err);
                if (r >= 0)
                        r = EXEC(s, err, "INSERT INTO schema_version (version) VALUES (?)", "i", v + 1);
        }
        sqlite3_finalize(TAKE_PTR(st));
        return finish(s, r, err);
}

static int sqlite_open(const char *path, Storage **ret, CoreError *err) {
        _cleanup_(storage_closep) Storage *storage = NULL;
        SqliteStorage *s;
        int fd, rc, r;

        assert(path);
        assert(ret);

        /* Create it 0600 ourselves: it holds every license key in clear.
         * SQLite gives its -wal and -shm files the database's mode. The
         * descriptor is closed before SQLite opens the file: closing any
         * descriptor of a file drops all of the process's POSIX locks on
         * it, SQLite's included. */
        if (!streq(path, STORAGE_IN_MEMORY)) {
                fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0)
                        return core_error_set(err, errno, "cannot open database %s: %s", path,
                                              strerror(errno));
                close(fd);
        }

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->storage.backend = &storage_backend_sqlite;
        storage = &s->storage;
        pthread_mutex_init(&s->lock, NULL);
        rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
                r = db_error(s, rc, err);
                core_error_prefix(err, "%s: ", path);
                return r;
        }
        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
        r = exec_script(s,
                        "PRAGMA journal_mode = WAL;"
                        "PRAGMA synchronous = FULL;"
                        "PRAGMA foreign_keys = ON;",
                        err);
        if (r >= 0)
                r = migrate(s, path, err);
        if (r < 0) {
                if (!strstr(err ? err->message : "", path))
                        core_error_prefix(err, "%s: ", path);
                return r;
        }
        *ret = TAKE_PTR(storage);
        return 0;
}

static void sqlite_close(Storage *storage) {
        SqliteStorage *s = sqlite_storage(storage);

        sqlite3_close_v2(s->db);
        pthread_mutex_destroy(&s->lock);
        free(s);
}

/* Readiness: one real read of the schema, under the same lock as any
 * request. */
static int sqlite_ping(Storage *storage, CoreError *err) {
        SqliteStorage *s = sqlite_storage(storage);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        LOCKED(s);
        r = prepare(s, &st, err, "SELECT max(version) FROM schema_version", "");
        if (r >= 0)
                r = step(s, st, err);
        return r < 0 ? r : 0;
}

/* Entitlements ---------------------------------------------------------- */

#define ENTITLEMENT_COLUMNS                                                                                 \
        "e.key, e.product, e.licensee, e.type, e.not_before, e.not_after, e.maintenance_until, "            \
        "e.features, e.properties, e.validation_interval, e.grace_period, e.server_url, e.seats, "          \
        "e.revoked, e.revision, e.created, e.updated, "                                                     \
        "(SELECT count(*) FROM activation a WHERE a.key = e.key AND a.released = 0)"

static int entitlement_from_row(sqlite3_stmt *st, void *ret, CoreError *err) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        License *l = &e.license;
        const char *key = (const char *) sqlite3_column_text(st, 0);
        int r;

        if (!key || strlen(key) >= sizeof(e.key))
                return core_error_set(err, EBADMSG, "database: an entitlement has a bad key");
        strcpy(e.key, key);
        r = column_dup(st, 1, &l->product);
        if (r >= 0)
                r = column_dup(st, 2, &l->licensee);
        if (r >= 0)
                r = column_dup(st, 11, &l->server_url);
        if (r < 0)
                return r;
        l->type = license_type_from_string((const char *) sqlite3_column_text(st, 3));
        l->not_before = sqlite3_column_int64(st, 4);
        l->not_after = sqlite3_column_int64(st, 5);
        l->maintenance_until = sqlite3_column_int64(st, 6);
        l->validation_interval = sqlite3_column_int64(st, 9);
        l->grace_period = sqlite3_column_int64(st, 10);
        l->revision = (uint32_t) sqlite3_column_int64(st, 14);
        e.seats = (uint32_t) sqlite3_column_int64(st, 12);
        e.revoked = sqlite3_column_int64(st, 13) != 0;
        e.created = sqlite3_column_int64(st, 15);
        e.updated = sqlite3_column_int64(st, 16);
        e.active = (uint32_t) sqlite3_column_int64(st, 17);
        if (!l->product || !l->licensee || l->type < 0)
                return core_error_set(err, EBADMSG,
                                      "database: entitlement %s has a bad product, licensee or type", key);
        r = storage_features_from_json(l, (const char *) sqlite3_column_text(st, 7),
                               (const char *) sqlite3_column_text(st, 8), err);
        if (r < 0) {
                core_error_prefix(err, "database: entitlement %s: ", key);
                return r;
        }
        *(Entitlement *) ret = e;
        e = (Entitlement) ENTITLEMENT_INIT;
        return 0;
}

/* STORAGE_OK, STORAGE_UNKNOWN_KEY or negative errno. */
static int entitlement_read(SqliteStorage *s, const char *key, Entitlement *ret, CoreError *err) {
        int r;

        r = read_row(s, "SELECT " ENTITLEMENT_COLUMNS " FROM entitlement e WHERE e.key = ?", key,
                     entitlement_from_row, ret, err);
        if (r == 0)
                return ANSWER(err, STORAGE_UNKNOWN_KEY, "the license key %s is not known to this server", key);
        return r < 0 ? r : STORAGE_OK;
}

static int sqlite_entitlement_get(Storage *storage, const char *key, Entitlement *ret, CoreError *err) {
        SqliteStorage *s = sqlite_storage(storage);
        int r;

        LOCKED(s);
        r = entitlement_read(s, key, ret, err);
        /* The vendor's verbs only report it: a failure like any other. */
        return r == STORAGE_UNKNOWN_KEY ? -ENOENT : r;
}

static int sqlite_entitlement_create(Storage *storage, const Entitlement *e, CoreError *err) {
        SqliteStorage *s = sqlite_storage(storage);
        _cleanup_free_ char *features = NULL, *properties = NULL;
        const License *l = &e->license;
        int64_t now = now_realtime();
        int r;

        assert(e->seats >= 1);
        r = storage_features_to_json(l, &features, &properties);
        if (r < 0)
                return r;
        LOCKED(s);
        r = EXEC(s, err,
                 "INSERT INTO entitlement (key, product, licensee, type, not_before, not_after, "
                 "maintenance_until, "
                 "features, properties, validation_interval, grace_period, server_url, seats, revision, "
                 "created, "
                 "updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                 "ttttiiittiitiii", e->key, l->product, l->licensee, license_type_to_string(l->type),
                 l->not_before, l->not_after, l->maintenance_until, features, properties,
                 l->validation_interval, l->grace_period, l->server_url, (int64_t) e->seats, now, now);
        if (r == -EEXIST)
                return core_error_set(err, EEXIST, "the license key %s exists already", e->key);
        return r < 0 ? r : 0;
}

static int sqlite_entitlement_list(Storage *storage, Entitlement **ret, size_t *ret_n, CoreError *err) {
        SqliteStorage *s = sqlite_storage(storage);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        void *list = NULL;
        size_t n = 0;
        int r;

        LOCKED(s);
        r = prepare(s, &st, err,
                    "SELECT " ENTITLEMENT_COLUMNS " FROM entitlement e ORDER BY e.created, e.key", "");
        if (r >= 0)
                r = collect_rows(s, st, sizeof(Entitlement), entitlement_from_row, &list, &n, err);
        if (r < 0) {
                entitlement_array_free(list, n);
                return r;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

/* 0 if the key exists, -ENOENT with a sentence if not. */
static int entitlement_exists(SqliteStorage *s, const char *key, CoreError *err) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = prepare(s, &st, err, "SELECT 1 FROM entitlement WHERE key = ?", "t", key);
        if (r >= 0)
                r = step(s, st, err);
        if (r == 0)
                return core_error_set(err, ENOENT, "the license key %s is not known to this server", key);
        return r < 0 ? r : 0;
}

static int sqlite_entitlement_upgrade(Storage *storage, const Entitlement *e, CoreError *err) {
        SqliteStorage *s = sqlite_storage(storage);
        _cleanup_free_ char *features = NULL, *properties = NULL;
        const License *l = &e->license;
        int r;

        r = storage_features_to_json(l, &features, &properties);
        if (r < 0)
                return r;
        LOCKED(s);
        r = EXEC(s, err,
                 "UPDATE entitlement SET licensee = ?, type = ?, not_before = ?, not_after = ?, "
                 "maintenance_until = ?, features = ?, properties = ?, validation_interval = ?, "
                 "grace_period = ?, "
                 "server_url = ?, seats = ?, revision = revision + 1, updated = ? WHERE key = ? AND "
                 "revision = ?",
                 "ttiiittiitiiti", l->licensee, license_type_to_string(l->type), l->not_before, l->not_after,
                 l->maintenance_until, features, properties, l->validation_interval, l->grace_period,
                 l->server_url, (int64_t) e->seats, now_realtime(), e->key, (int64_t) l->revision);
        if (r == 0) {
                r = entitlement_exists(s, e->key, err);
                if (r >= 0)
                        r = core_error_set(err, ESTALE,
                                           "the entitlement %s was changed meanwhile; try again", e->key);
        }
        return r < 0 ? r : 0;
}

static int sqlite_entitlement_revoke(Storage *storage, const char *key, CoreError *err) {
        SqliteStorage *s = sqlite_storage(storage);
        int r;

        LOCKED(s);
        r = EXEC(s, err, "UPDATE entitlement SET revoked = 1, updated = ? WHERE key = ?", "it",
                 now_realtime(), key);
        if (r == 0)
                r = entitlement_exists(s, key, err);
        return r < 0 ? r : 0;
}

/* Activations ------------------------------------------------------------ */

#define ACTIVATION_COLUMNS                                                                                  \
        "id, key, license_id, machine_id, device_key, hostname, nonce, revision, activated, last_seen, "    \
        "released"

static int activation_from_row(sqlite3_stmt *st, void *ret, CoreError *err) {
        _cleanup_(activation_done) Activation a = {};
        const char *key = (const char *) sqlite3_column_text(st, 1);
        int r;

        a.id = sqlite3_column_int64(st, 0);
        snprintf(a.key, sizeof(a.key), "%s", key ?: "");
        r = column_dup(st, 2, &a.license_id);
        if (r >= 0)
                r = column_dup(st, 3, &a.machine_id);
        if (r >= 0)
                r = column_dup(st, 4, &a.device_key);
        if (r >= 0)
                r = column_dup(st, 5, &a.hostname);
        if (r >= 0)
                r = column_dup(st, 6, &a.nonce);
        if (r < 0)
                return r;
        a.revision = (uint32_t) sqlite3_column_int64(st, 7);
        a.activated = sqlite3_column_int64(st, 8);
        a.last_seen = sqlite3_column_int64(st, 9);
        a.released = sqlite3_column_int64(st, 10);
        *(Activation *) ret = a;
        a = (Activation){};
        return 0;
}

/* STORAGE_OK, STORAGE_UNKNOWN_LICENSE or negative errno. */
static int activation_read(SqliteStorage *s, const char *license_id, Activation *ret, CoreError *err) {
        int r;

        r = read_row(s, "SELECT " ACTIVATION_COLUMNS " FROM activation WHERE license_id = ?", license_id,
                     activation_from_row, ret, err);
        if (r == 0)
                return ANSWER(err, STORAGE_UNKNOWN_LICENSE, "no license %s was activated on this server",
                              license_id);
        return r < 0 ? r : STORAGE_OK;
}

static int sqlite_activation_get(Storage *storage, const char *license_id, Activation *ret, CoreError *err) {
        SqliteStorage *s = sqlite_storage(storage);
        LOCKED(s);
        return activation_read(s, license_id, ret, err);
}

static int sqlite_activation_list(Storage *storage, const char *key, Activation **ret, size_t *ret_n, CoreError *err) {
        SqliteStorage *s = sqlite_storage(storage);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        void *list = NULL;
        size_t n = 0;
        int r;

        LOCKED(s);
        r = prepare(s, &st, err,
                    "SELECT " ACTIVATION_COLUMNS " FROM activation WHERE ?1 IS NULL OR key = ?1 "
                    "ORDER BY activated, id",
                    "t", key);
        if (r >= 0)
                r = collect_rows(s, st, sizeof(Activation), activation_from_row, &list, &n, err);
        if (r < 0) {
                activation_array_free(list, n);
                return r;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

/* The seat logic, inside the transaction storage_activate() opened:
 * STORAGE_OK with the seat taken, another StorageResult before anything is
 * written, or negative errno. */
static int activate_locked(SqliteStorage *s, const ActivationClaim *c, Entitlement *e, CoreError *err) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        bool has_seat = false;
        int64_t id = 0;
        int r;

        r = entitlement_read(s, c->key, e, err);
        if (r != STORAGE_OK)
                return r;
        if (!streq(e->license.product, c->product))
                return ANSWER(err, STORAGE_WRONG_PRODUCT, "the license key is for %s, not for %s",
                              e->license.product, c->product);
        if (e->revoked)
                return ANSWER(err, STORAGE_REVOKED, "the license key has been revoked by the vendor");

        /* The same machine is the same machine id and device key. */
        r = prepare(s, &st, err,
                    "SELECT id, released FROM activation WHERE key = ? AND machine_id = ? AND "
                    "device_key = ?",
                    "ttt", c->key, c->machine_id, c->device_key);
        if (r >= 0)
                r = step(s, st, err);
        if (r < 0)
                return r;
        if (r > 0) {
                id = sqlite3_column_int64(st, 0);
                has_seat = sqlite3_column_int64(st, 1) == TIME_UNSET;
        }
        if (!has_seat && e->active >= e->seats)
                return ANSWER(err, STORAGE_NO_SEAT,
                              "seat limit reached: %" PRIu32 " of %" PRIu32 " machines are active; "
                              "deactivate one or ask the vendor",
                              e->active, e->seats);
        if (id > 0)
                r = EXEC(s, err,
                         "UPDATE activation SET hostname = ?, nonce = ?, revision = ?, last_seen = ?, "
                         "released = 0, "
                         "activated = CASE WHEN released = 0 THEN activated ELSE ? END WHERE id = ?",
                         "ttiiii", c->hostname, c->nonce, (int64_t) e->license.revision, c->now, c->now, id);
        else
                r = EXEC(s, err,
                         "INSERT INTO activation (key, license_id, machine_id, device_key, hostname, nonce, "
                         "revision, "
                         "activated, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         "ttttttiii", c->key, c->license_id, c->machine_id, c->device_key, c->hostname,
                         c->nonce, (int64_t) e->license.revision, c->now, c->now);
        if (r < 0)
                return r;
        if (!has_seat)
                e->active++;
        return 0;
}

static int sqlite_activate(Storage *storage, const ActivationClaim *c, Entitlement *ret_e, Activation *ret_a,
                     CoreError *err) {
        SqliteStorage *s = sqlite_storage(storage);
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        _cleanup_(activation_done) Activation a = {};
        int r;

        LOCKED(s);
        r = begin(s, err);
        if (r < 0)
                return r;
        r = activate_locked(s, c, &e, err);
        if (r == STORAGE_OK) {
                r = activation_read(s, c->license_id, &a, err);
                /* Written a moment ago in this transaction: missing now means
                 * a broken database, not an answer. */
                if (r == STORAGE_UNKNOWN_LICENSE)
                        r = -ENOENT;
        }
        if (r == STORAGE_OK)
                r = finish(s, r, err);
        else
                rollback(s);
        if (r == STORAGE_OK || r == STORAGE_NO_SEAT) {
                *ret_e = e;
                e = (Entitlement) ENTITLEMENT_INIT;
        }
        if (r != STORAGE_OK)
                return r;
        *ret_a = a;
        a = (Activation){};
        return STORAGE_OK;
}

/* The checks of a validation, before anything is written: STORAGE_OK or
 * the answer. */
static int validation_checks(const ValidationClaim *c, const Activation *a, const Entitlement *e,
                             CoreError *err) {
        if (!streq(a->machine_id, c->machine_id) || !streq(a->device_key, c->device_key))
                return ANSWER(err, STORAGE_WRONG_MACHINE, "the license %s is bound to another machine",
                              a->license_id);
        if (!streq(e->license.product, c->product))
                return ANSWER(err, STORAGE_WRONG_PRODUCT, "the license %s is for %s, not for %s",
                              a->license_id, e->license.product, c->product);
        return STORAGE_OK;
}

static int sqlite_validate(Storage *storage, const ValidationClaim *c, Activation *ret_a, Entitlement *ret_e,
                           CoreError *err) {
        SqliteStorage *s = sqlite_storage(storage);
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        _cleanup_(activation_done) Activation a = {};
        int r;

        LOCKED(s);
        r = begin(s, err);
        if (r < 0)
                return r;
        r = activation_read(s, c->license_id, &a, err);
        if (r == STORAGE_OK) {
                r = entitlement_read(s, a.key, &e, err);
                /* An activation names an existing key (a foreign key). */
                if (r == STORAGE_UNKNOWN_KEY)
                        r = -ENOENT;
        }
        if (r == STORAGE_OK)
                r = validation_checks(c, &a, &e, err);
        if (r != STORAGE_OK) { /* an answer or a failure: nothing written */
                rollback(s);
                return r;
        }
        r = EXEC(s, err, "UPDATE activation SET revision = ?, last_seen = ? WHERE id = ?", "iii",
                 (int64_t) storage_revision_after_validation(&e, &a, c->revision), c->now, a.id);
        r = finish(s, r, err);
        if (r < 0)
                return r;
        *ret_a = a;
        a = (Activation){};
        *ret_e = e;
        e = (Entitlement) ENTITLEMENT_INIT;
        return STORAGE_OK;
}

static int sqlite_activation_seen(Storage *storage, int64_t id, uint32_t revision, int64_t now, CoreError *err) {
        SqliteStorage *s = sqlite_storage(storage);
        int r;

        LOCKED(s);
        r = EXEC(s, err, "UPDATE activation SET revision = ?, last_seen = ? WHERE id = ?", "iii",
                 (int64_t) revision, now, id);
        return r < 0 ? r : 0;
}

static int sqlite_activation_release(Storage *storage, int64_t id, const char *proof_nonce, int64_t now,
                               CoreError *err) {
        SqliteStorage *s = sqlite_storage(storage);
        int r;

        LOCKED(s);
        r = begin(s, err);
        if (r < 0)
                return r;
        r = EXEC(s, err, "INSERT INTO used_nonce (nonce, used) VALUES (?, ?)", "ti", proof_nonce, now);
        if (r == -EEXIST) {
                rollback(s);
                return ANSWER(err, STORAGE_PROOF_USED, "this deactivation proof was used before");
        }
        if (r >= 0)
                r = EXEC(s, err, "UPDATE activation SET released = ? WHERE id = ? AND released = 0", "ii",
                         now, id);
        r = finish(s, r, err);
        return r < 0 ? r : STORAGE_OK;
}

static int sqlite_release_machine(Storage *storage, const char *key, const char *machine_id, int64_t now,
                            unsigned *ret_n, CoreError *err) {
        SqliteStorage *s = sqlite_storage(storage);
        int r;

        LOCKED(s);
        r = EXEC(s, err,
                 "UPDATE activation SET released = ? WHERE key = ? AND machine_id = ? AND released = 0",
                 "itt", now, key, machine_id);
        if (r == 0) {
                r = entitlement_exists(s, key, err);
                if (r >= 0)
                        r = core_error_set(err, ENOENT, "machine %s holds no seat of %s", machine_id, key);
        }
        if (r < 0)
                return r;
        *ret_n = (unsigned) r;
        return 0;
}


/* The admin API: queries, products, tokens ------------------------------------
 * (storage.h, "The admin API"). Only the helpers above: prepare, step, EXEC,
 * LOCKED, collect_rows. */

/* Steps through st into a new array of size-byte records for *ret: on
 * failure the records made so far are freed with free_array. */
static int list_rows(SqliteStorage *s, sqlite3_stmt *st, size_t size,
                     int (*from_row)(sqlite3_stmt *st, void *ret, CoreError *err),
                     void (*free_array)(void *list, size_t n), void **ret, size_t *ret_n, CoreError *err) {
        void *list = NULL;
        size_t n = 0;
        int r;

        r = collect_rows(s, st, size, from_row, &list, &n, err);
        if (r < 0) {
                free_array(list, n);
                return r;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

static void free_entitlements(void *list, size_t n) {
        entitlement_array_free(list, n);
}

static void free_products(void *list, size_t n) {
        product_summary_array_free(list, n);
}

static void free_tokens(void *list, size_t n) {
        token_array_free(list, n);
}

static int sqlite_entitlement_query(Storage *storage, const EntitlementQuery *q, Entitlement **ret,
                                    size_t *ret_n, CoreError *err) {
        SqliteStorage *s = sqlite_storage(storage);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        LOCKED(s);
        /* instr(), not LIKE: a licensee may contain % or _, and LIKE folds
         * ASCII case only. The limit -1 of SQLite is "no limit". */
        r = prepare(s, &st, err,
                    "SELECT " ENTITLEMENT_COLUMNS " FROM entitlement e "
                    "WHERE (?1 IS NULL OR e.product = ?1) "
                    "AND (?2 = 0 OR (?2 = 1 AND e.revoked = 0) OR (?2 = 2 AND e.revoked <> 0)) "
                    "AND (?3 IS NULL OR instr(e.licensee, ?3) > 0) "
                    "AND (?5 IS NULL OR e.created > ?4 OR (e.created = ?4 AND e.key > ?5)) "
                    "ORDER BY e.created, e.key LIMIT ?6",
                    "tititi", q->product, (int64_t) q->state, q->licensee, q->after_created, q->after_key,
                    q->limit > 0 ? (int64_t) q->limit : INT64_C(-1));
        return r < 0 ? r : list_rows(s, st, sizeof(Entitlement), entitlement_from_row, free_entitlements, (void **) ret, ret_n, err);
}

static int product_from_row(sqlite3_stmt *st, void *ret, CoreError *err) {
        ProductSummary *p = ret;

        p->product = column_strdup(st, 0);
        if (!p->product)
                return -ENOMEM;
        p->entitlements = (uint32_t) sqlite3_column_int64(st, 1);
        p->active = (uint32_t) sqlite3_column_int64(st, 2);
        return 0;
}

static int sqlite_product_list(Storage *storage, ProductSummary **ret, size_t *ret_n, CoreError *err) {
        SqliteStorage *s = sqlite_storage(storage);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        LOCKED(s);
        r = prepare(s, &st, err,
                    "SELECT e.product, count(*), "
                    "sum((SELECT count(*) FROM activation a WHERE a.key = e.key AND a.released = 0)) "
                    "FROM entitlement e GROUP BY e.product ORDER BY e.product",
                    "");
        return r < 0 ? r : list_rows(s, st, sizeof(ProductSummary), product_from_row, free_products, (void **) ret, ret_n, err);
}

#define TOKEN_COLUMNS "id, name, scope, hash, created, expires, last_used, revoked"

static int token_from_row(sqlite3_stmt *st, void *ret, CoreError *err) {
        Token t = {.id = sqlite3_column_int64(st, 0)};
        const char *hash = (const char *) sqlite3_column_text(st, 3);

        t.scope = token_scope_from_string((const char *) sqlite3_column_text(st, 2));
        if ((int) t.scope < 0 || !hash || strlen(hash) != TOKEN_HASH_HEX_SIZE - 1)
                return core_error_set(err, EBADMSG, "database: token %" PRId64 " has a bad scope or hash",
                                      t.id);
        strcpy(t.hash, hash);
        t.name = column_strdup(st, 1);
        if (!t.name)
                return -ENOMEM;
        t.created = sqlite3_column_int64(st, 4);
        t.expires = sqlite3_column_int64(st, 5);
        t.last_used = sqlite3_column_int64(st, 6);
        t.revoked = sqlite3_column_int64(st, 7);
        *(Token *) ret = t;
        return 0;
}

static int sqlite_token_create(Storage *storage, const Token *t, CoreError *err) {
        SqliteStorage *s = sqlite_storage(storage);
        int r;

        LOCKED(s);
        r = EXEC(s, err, "INSERT INTO admin_token (name, scope, hash, created, expires) VALUES (?, ?, ?, ?, ?)",
                 "tttii", t->name, token_scope_to_string(t->scope), t->hash, t->created, t->expires);
        if (r == -EEXIST)
                return core_error_set(err, EEXIST, "a token called '%s' exists already", t->name);
        return r < 0 ? r : 0;
}

static int sqlite_token_list(Storage *storage, Token **ret, size_t *ret_n, CoreError *err) {
        SqliteStorage *s = sqlite_storage(storage);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        LOCKED(s);
        r = prepare(s, &st, err, "SELECT " TOKEN_COLUMNS " FROM admin_token ORDER BY created, id", "");
        return r < 0 ? r : list_rows(s, st, sizeof(Token), token_from_row, free_tokens, (void **) ret, ret_n, err);
}

static int sqlite_token_revoke(Storage *storage, const char *name, int64_t now, CoreError *err) {
        SqliteStorage *s = sqlite_storage(storage);
        int r;

        LOCKED(s);
        r = EXEC(s, err, "UPDATE admin_token SET revoked = ? WHERE name = ? AND revoked = 0", "it", now, name);
        if (r == 0)
                return core_error_set(err, ENOENT, "there is no token '%s' that is not revoked", name);
        return r < 0 ? r : 0;
}

static int sqlite_token_use(Storage *storage, const char *hash, int64_t now, Token *ret, CoreError *err) {
        SqliteStorage *s = sqlite_storage(storage);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        void *list = NULL;
        size_t n = 0;
        int r;

        LOCKED(s);
        r = EXEC(s, err, "UPDATE admin_token SET last_used = ? WHERE hash = ?", "it", now, hash);
        if (r == 0)
                return core_error_set(err, ENOENT, "no token has this hash");
        if (r >= 0)
                r = prepare(s, &st, err, "SELECT " TOKEN_COLUMNS " FROM admin_token WHERE hash = ?", "t", hash);
        if (r >= 0)
                r = collect_rows(s, st, sizeof(Token), token_from_row, &list, &n, err);
        if (r >= 0 && n != 1)
                r = core_error_set(err, ENOENT, "no token has this hash");
        if (r >= 0) {
                *ret = *(Token *) list;
                n = 0;
        }
        token_array_free(list, n);
        return r < 0 ? r : 0;
}

const StorageBackend storage_backend_sqlite = {
        .name = "sqlite",
        .open = sqlite_open,
        .close = sqlite_close,
        .ping = sqlite_ping,
        .entitlement_create = sqlite_entitlement_create,
        .entitlement_get = sqlite_entitlement_get,
        .entitlement_list = sqlite_entitlement_list,
        .entitlement_upgrade = sqlite_entitlement_upgrade,
        .entitlement_revoke = sqlite_entitlement_revoke,
        .activate = sqlite_activate,
        .activation_get = sqlite_activation_get,
        .activation_list = sqlite_activation_list,
        .validate = sqlite_validate,
        .activation_seen = sqlite_activation_seen,
        .activation_release = sqlite_activation_release,
        .release_machine = sqlite_release_machine,
        .entitlement_query = sqlite_entitlement_query,
        .product_list = sqlite_product_list,
        .token_create = sqlite_token_create,
        .token_list = sqlite_token_list,
        .token_revoke = sqlite_token_revoke,
        .token_use = sqlite_token_use,
};
