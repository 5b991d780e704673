/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* storage.h over SQLite (storage_backend_sqlite): one file, WAL journal,
 * a busy timeout so that several processes (server instances,
 * licensed-vendor) can share it, and a schema_version table with numbered
 * migrations. Within a process, reads run on a pool of connections beside
 * each other and writes are group-committed on one writer connection
 * (sqlite-pool.h); every public function is one transaction. Features and
 * properties are JSON in their columns (storage_features_to_json()). */

#include <assert.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "sqlite-pool.h"
#include "storage-backend.h"
#include "strutil.h"
#include "timeutil.h"

typedef struct SqliteStorage {
        Storage storage; /* first: a Storage * is a SqliteStorage * */
        SqlPool *pool;
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
        /* 1 -> 2: admin API tokens, by the SHA-256 of the token (never the
         * token); the admin list's order and cursor. */
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
        /* 2 -> 3: the count of active activations kept in the entitlement, so
         * that reading one is not a count(*) over its activations. Triggers
         * keep it in every transaction that changes an activation's seat,
         * whoever writes (an older licensed-vendor included). */
        "ALTER TABLE entitlement ADD COLUMN active INTEGER NOT NULL DEFAULT 0;"
        "UPDATE entitlement SET active = "
        "  (SELECT count(*) FROM activation a WHERE a.key = entitlement.key AND a.released = 0);"
        "CREATE TRIGGER activation_takes_seat AFTER INSERT ON activation WHEN NEW.released = 0 BEGIN"
        "  UPDATE entitlement SET active = active + 1 WHERE key = NEW.key;"
        "END;"
        "CREATE TRIGGER activation_seat_changed AFTER UPDATE OF released, key ON activation"
        "  WHEN (OLD.released = 0) != (NEW.released = 0) OR OLD.key != NEW.key BEGIN"
        "  UPDATE entitlement SET active = active - (OLD.released = 0) WHERE key = OLD.key;"
        "  UPDATE entitlement SET active = active + (NEW.released = 0) WHERE key = NEW.key;"
        "END;"
        "CREATE TRIGGER activation_frees_seat AFTER DELETE ON activation WHEN OLD.released = 0 BEGIN"
        "  UPDATE entitlement SET active = active - 1 WHERE key = OLD.key;"
        "END;",
        /* 3 -> 4: the releases customers made themselves in the portal, for
         * the vendor's limit of so many per 30 days (docs/portal.md). */
        "CREATE TABLE portal_release ("
        "  id INTEGER PRIMARY KEY,"
        "  key TEXT NOT NULL REFERENCES entitlement(key),"
        "  machine_id TEXT NOT NULL,"
        "  released INTEGER NOT NULL"
        ") STRICT;"
        "CREATE INDEX portal_release_by_key ON portal_release(key, released);",
        /* 4 -> 5: trials and the deactivation policy. An entitlement with
         * trial_days > 0 is its product's trial offer; trial holds one row
         * per product and machine that ever started a trial, so that a
         * second one is refused (docs/protocol.md, "Trials"). */
        "ALTER TABLE entitlement ADD COLUMN trial_days INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE entitlement ADD COLUMN deactivation_requires_maintenance INTEGER NOT NULL DEFAULT 0;"
        "CREATE TABLE trial ("
        "  product TEXT NOT NULL,"
        "  machine_id TEXT NOT NULL,"
        "  license_id TEXT NOT NULL,"
        "  started INTEGER NOT NULL,"
        "  UNIQUE (product, machine_id)"
        ") STRICT;",
};

#define SCHEMA_VERSION ((int64_t) ELEMENTSOF(migrations))

/* Statements ------------------------------------------------------------- */

#define ENTITLEMENT_COLUMNS                                                                                 \
        "e.key, e.product, e.licensee, e.type, e.not_before, e.not_after, e.maintenance_until, "            \
        "e.features, e.properties, e.validation_interval, e.grace_period, e.server_url, e.seats, "          \
        "e.revoked, e.revision, e.created, e.updated, e.active, e.trial_days, "                              \
        "e.deactivation_requires_maintenance"

#define ACTIVATION_COLUMNS                                                                                  \
        "id, key, license_id, machine_id, device_key, hostname, nonce, revision, activated, last_seen, "    \
        "released"

#define TOKEN_COLUMNS "id, name, scope, hash, created, expires, last_used, revoked"

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
        _SQL_MAX,
};

static const char *const statements[_SQL_MAX] = {
        [SQL_SCHEMA_VERSION] = "SELECT max(version) FROM schema_version",
        [SQL_SCHEMA_VERSION_ADD] = "INSERT INTO schema_version (version) VALUES (?)",
        [SQL_ENTITLEMENT_GET] = "SELECT " ENTITLEMENT_COLUMNS " FROM entitlement e WHERE e.key = ?",
        [SQL_ENTITLEMENT_LIST] = "SELECT " ENTITLEMENT_COLUMNS " FROM entitlement e ORDER BY e.created, e.key",
        [SQL_ENTITLEMENT_EXISTS] = "SELECT 1 FROM entitlement WHERE key = ?",
        [SQL_ENTITLEMENT_CREATE] =
                "INSERT INTO entitlement (key, product, licensee, type, not_before, not_after, "
                "maintenance_until, features, properties, validation_interval, grace_period, server_url, "
                "seats, revision, created, updated, trial_days, deactivation_requires_maintenance) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
        [SQL_ENTITLEMENT_UPGRADE] =
                "UPDATE entitlement SET licensee = ?, type = ?, not_before = ?, not_after = ?, "
                "maintenance_until = ?, features = ?, properties = ?, validation_interval = ?, "
                "grace_period = ?, server_url = ?, seats = ?, revision = revision + 1, updated = ?, "
                "trial_days = ?, deactivation_requires_maintenance = ? WHERE key = ? AND revision = ?",
        [SQL_ENTITLEMENT_REVOKE] = "UPDATE entitlement SET revoked = 1, updated = ? WHERE key = ?",
        [SQL_ACTIVATION_GET] = "SELECT " ACTIVATION_COLUMNS " FROM activation WHERE license_id = ?",
        [SQL_ACTIVATION_LIST] = "SELECT " ACTIVATION_COLUMNS " FROM activation WHERE ?1 IS NULL OR key = ?1 "
                                "ORDER BY activated, id",
        /* The same machine is the same machine id and device key. */
        [SQL_ACTIVATION_OF_MACHINE] =
                "SELECT id, released FROM activation WHERE key = ? AND machine_id = ? AND device_key = ?",
        [SQL_ACTIVATION_RENEW] =
                "UPDATE activation SET hostname = ?, nonce = ?, revision = ?, last_seen = ?, released = 0, "
                "activated = CASE WHEN released = 0 THEN activated ELSE ? END WHERE id = ?",
        [SQL_ACTIVATION_INSERT] =
                "INSERT INTO activation (key, license_id, machine_id, device_key, hostname, nonce, revision, "
                "activated, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [SQL_ACTIVATION_SEEN] = "UPDATE activation SET revision = ?, last_seen = ? WHERE id = ?",
        [SQL_NONCE_USE] = "INSERT INTO used_nonce (nonce, used) VALUES (?, ?)",
        [SQL_ACTIVATION_RELEASE] = "UPDATE activation SET released = ? WHERE id = ? AND released = 0",
        [SQL_RELEASE_MACHINE] =
                "UPDATE activation SET released = ? WHERE key = ? AND machine_id = ? AND released = 0",
        /* The admin API. instr(), not LIKE: a licensee may contain % or _,
         * and LIKE folds ASCII case only. The limit -1 is "no limit". */
        [SQL_ENTITLEMENT_QUERY] =
                "SELECT " ENTITLEMENT_COLUMNS " FROM entitlement e "
                "WHERE (?1 IS NULL OR e.product = ?1) "
                "AND (?2 = 0 OR (?2 = 1 AND e.revoked = 0) OR (?2 = 2 AND e.revoked <> 0)) "
                "AND (?3 IS NULL OR instr(e.licensee, ?3) > 0) "
                "AND (?5 IS NULL OR e.created > ?4 OR (e.created = ?4 AND e.key > ?5)) "
                "ORDER BY e.created, e.key LIMIT ?6",
        [SQL_PRODUCT_LIST] = "SELECT product, count(*), sum(active) FROM entitlement GROUP BY product ORDER BY product",
        [SQL_TOKEN_CREATE] = "INSERT INTO admin_token (name, scope, hash, created, expires) VALUES (?, ?, ?, ?, ?)",
        [SQL_TOKEN_LIST] = "SELECT " TOKEN_COLUMNS " FROM admin_token ORDER BY created, id",
        [SQL_TOKEN_REVOKE] = "UPDATE admin_token SET revoked = ? WHERE name = ? AND revoked = 0",
        [SQL_TOKEN_USE] = "UPDATE admin_token SET last_used = ? WHERE hash = ?",
        [SQL_TOKEN_GET] = "SELECT " TOKEN_COLUMNS " FROM admin_token WHERE hash = ?",
        [SQL_PORTAL_RELEASES_SINCE] = "SELECT count(*), min(released) FROM portal_release WHERE key = ? AND released >= ?",
        [SQL_PORTAL_RELEASE_RECORD] = "INSERT INTO portal_release (key, machine_id, released) VALUES (?, ?, ?)",
        [SQL_TRIAL_GET] = "SELECT started FROM trial WHERE product = ? AND machine_id = ?",
        [SQL_TRIAL_INSERT] = "INSERT INTO trial (product, machine_id, license_id, started) VALUES (?, ?, ?, ?)",
        [SQL_TRIAL_OFFER] = "SELECT key FROM entitlement WHERE product = ? AND trial_days > 0 AND revoked = 0 "
                            "ORDER BY created DESC, key DESC LIMIT 1",
};

#define EXEC sql_conn_exec

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

typedef int (*FromRow)(sqlite3_stmt *st, void *ret, CoreError *err);

/* Steps through st into the growing array of size-byte records *list. On
 * failure *list holds the *n records made so far, for the caller to free. */
static int collect_stmt(SqlConn *c, sqlite3_stmt *st, size_t size, FromRow from_row, void **list, size_t *n,
                        CoreError *err) {
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
static int collect_rows(SqlConn *c, unsigned id, const char *arg, size_t size, FromRow from_row, void **list,
                        size_t *n, CoreError *err) {
        _cleanup_sql_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = sql_conn_stmt(c, id, &st, err, arg ? "t" : "", arg);
        return r < 0 ? r : collect_stmt(c, st, size, from_row, list, n, err);
}

/* Reads the row that statement id, with the one text parameter arg,
 * selects: 1 if there is one, 0 if not. */
static int read_row(SqlConn *c, unsigned id, const char *arg, FromRow from_row, void *ret, CoreError *err) {
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

/* Opening and migration ------------------------------------------------------ */

static int migrate(SqlConn *c, void *data, CoreError *err) {
        const char *path = data;
        _cleanup_sql_stmt_ sqlite3_stmt *st = NULL;
        int64_t version = 0;
        int r;

        r = sql_conn_script(c, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT",
                            err);
        if (r >= 0)
                r = sql_conn_stmt(c, SQL_SCHEMA_VERSION, &st, err, "");
        if (r >= 0)
                r = sql_conn_step(c, st, err);
        if (r > 0)
                version = sqlite3_column_int64(st, 0);
        sql_stmt_resetp(&st);
        if (r >= 0 && version > SCHEMA_VERSION)
                r = core_error_set(err, EPROTONOSUPPORT,
                                   "database %s has schema version %" PRId64
                                   ", this version knows up to %" PRId64 ": update licensed",
                                   path, version, SCHEMA_VERSION);
        for (int64_t v = version; r >= 0 && v < SCHEMA_VERSION; v++) {
                r = sql_conn_script(c, migrations[v], err);
                if (r >= 0)
                        r = EXEC(c, SQL_SCHEMA_VERSION_ADD, err, "i", v + 1);
        }
        return r < 0 ? r : 0;
}

static int sqlite_open(const char *path, Storage **ret, CoreError *err) {
        _cleanup_(storage_closep) Storage *storage = NULL;
        SqliteStorage *s;
        int fd, r;

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
        r = sql_pool_open(path, statements, _SQL_MAX, &s->pool, err);
        if (r >= 0)
                r = sql_pool_write(s->pool, migrate, (void *) path, err);
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

        sql_pool_free(s->pool);
        free(s);
}

static int ping_read(SqlConn *c, void *data, CoreError *err) {
        _cleanup_sql_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = sql_conn_stmt(c, SQL_SCHEMA_VERSION, &st, err, "");
        if (r >= 0)
                r = sql_conn_step(c, st, err);
        return r < 0 ? r : 0;
}

/* Readiness: one real read of the schema, on a connection as any request
 * reads. */
static int sqlite_ping(Storage *storage, CoreError *err) {
        return sql_pool_read(sqlite_storage(storage)->pool, ping_read, NULL, err);
}

/* Entitlements ---------------------------------------------------------- */

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
        e.trial_days = (uint32_t) sqlite3_column_int64(st, 18);
        e.deactivation_requires_maintenance = sqlite3_column_int64(st, 19) != 0;
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
static int entitlement_read(SqlConn *c, const char *key, Entitlement *ret, CoreError *err) {
        int r;

        r = read_row(c, SQL_ENTITLEMENT_GET, key, entitlement_from_row, ret, err);
        if (r == 0)
                return ANSWER(err, STORAGE_UNKNOWN_KEY, "the license key %s is not known to this server", key);
        return r < 0 ? r : STORAGE_OK;
}

typedef struct EntitlementGet {
        const char *key;
        Entitlement e;
} EntitlementGet;

static int entitlement_get_read(SqlConn *c, void *data, CoreError *err) {
        EntitlementGet *g = data;
        int r;

        r = entitlement_read(c, g->key, &g->e, err);
        /* The vendor's verbs only report it: a failure like any other. */
        return r == STORAGE_UNKNOWN_KEY ? -ENOENT : r;
}

static int sqlite_entitlement_get(Storage *storage, const char *key, Entitlement *ret, CoreError *err) {
        EntitlementGet g = {.key = key, .e = ENTITLEMENT_INIT};
        int r;

        r = sql_pool_read(sqlite_storage(storage)->pool, entitlement_get_read, &g, err);
        if (r < 0) {
                entitlement_done(&g.e);
                return r;
        }
        *ret = g.e;
        return 0;
}

typedef struct EntitlementWrite {
        const Entitlement *e;
        const char *features, *properties;
        int64_t now;
} EntitlementWrite;

static int entitlement_create_write(SqlConn *c, void *data, CoreError *err) {
        const EntitlementWrite *w = data;
        const Entitlement *e = w->e;
        const License *l = &e->license;
        int r;

        r = EXEC(c, SQL_ENTITLEMENT_CREATE, err, "ttttiiittiitiiiii", e->key, l->product, l->licensee,
                 license_type_to_string(l->type), l->not_before, l->not_after, l->maintenance_until, w->features,
                 w->properties, l->validation_interval, l->grace_period, l->server_url, (int64_t) e->seats,
                 w->now, w->now, (int64_t) e->trial_days, (int64_t) e->deactivation_requires_maintenance);
        if (r == -EEXIST)
                return core_error_set(err, EEXIST, "the license key %s exists already", e->key);
        return r < 0 ? r : 0;
}

/* Runs fn, a write of e with its features and properties as JSON. */
static int entitlement_write(SqliteStorage *s, const Entitlement *e, SqlWork fn, CoreError *err) {
        _cleanup_free_ char *features = NULL, *properties = NULL;
        int r;

        r = storage_features_to_json(&e->license, &features, &properties);
        if (r < 0)
                return r;
        return sql_pool_write(s->pool, fn,
                              &(EntitlementWrite){.e = e,
                                                  .features = features,
                                                  .properties = properties,
                                                  .now = now_realtime()},
                              err);
}

static int sqlite_entitlement_create(Storage *storage, const Entitlement *e, CoreError *err) {
        assert(e->seats >= 1);
        return entitlement_write(sqlite_storage(storage), e, entitlement_create_write, err);
}

typedef struct EntitlementList {
        void *list;
        size_t n;
} EntitlementList;

static int entitlement_list_read(SqlConn *c, void *data, CoreError *err) {
        EntitlementList *l = data;
        return collect_rows(c, SQL_ENTITLEMENT_LIST, NULL, sizeof(Entitlement), entitlement_from_row, &l->list,
                            &l->n, err);
}

static int sqlite_entitlement_list(Storage *storage, Entitlement **ret, size_t *ret_n, CoreError *err) {
        EntitlementList l = {};
        int r;

        r = sql_pool_read(sqlite_storage(storage)->pool, entitlement_list_read, &l, err);
        if (r < 0) {
                entitlement_array_free(l.list, l.n);
                return r;
        }
        *ret = l.list;
        *ret_n = l.n;
        return 0;
}

/* 0 if the key exists, -ENOENT with a sentence if not. */
static int entitlement_exists(SqlConn *c, const char *key, CoreError *err) {
        _cleanup_sql_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = sql_conn_stmt(c, SQL_ENTITLEMENT_EXISTS, &st, err, "t", key);
        if (r >= 0)
                r = sql_conn_step(c, st, err);
        if (r == 0)
                return core_error_set(err, ENOENT, "the license key %s is not known to this server", key);
        return r < 0 ? r : 0;
}

static int entitlement_upgrade_write(SqlConn *c, void *data, CoreError *err) {
        const EntitlementWrite *w = data;
        const Entitlement *e = w->e;
        const License *l = &e->license;
        int r;

        r = EXEC(c, SQL_ENTITLEMENT_UPGRADE, err, "ttiiittiitiiiiti", l->licensee,
                 license_type_to_string(l->type), l->not_before, l->not_after, l->maintenance_until, w->features,
                 w->properties, l->validation_interval, l->grace_period, l->server_url, (int64_t) e->seats, w->now,
                 (int64_t) e->trial_days, (int64_t) e->deactivation_requires_maintenance, e->key,
                 (int64_t) l->revision);
        if (r == 0) {
                r = entitlement_exists(c, e->key, err);
                if (r >= 0)
                        r = core_error_set(err, ESTALE,
                                           "the entitlement %s was changed meanwhile; try again", e->key);
        }
        return r < 0 ? r : 0;
}

static int sqlite_entitlement_upgrade(Storage *storage, const Entitlement *e, CoreError *err) {
        return entitlement_write(sqlite_storage(storage), e, entitlement_upgrade_write, err);
}

static int entitlement_revoke_write(SqlConn *c, void *data, CoreError *err) {
        const char *key = data;
        int r;

        r = EXEC(c, SQL_ENTITLEMENT_REVOKE, err, "it", now_realtime(), key);
        if (r == 0)
                r = entitlement_exists(c, key, err);
        return r < 0 ? r : 0;
}

static int sqlite_entitlement_revoke(Storage *storage, const char *key, CoreError *err) {
        return sql_pool_write(sqlite_storage(storage)->pool, entitlement_revoke_write, (void *) key, err);
}

/* Activations ------------------------------------------------------------ */

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
static int activation_read(SqlConn *c, const char *license_id, Activation *ret, CoreError *err) {
        int r;

        r = read_row(c, SQL_ACTIVATION_GET, license_id, activation_from_row, ret, err);
        if (r == 0)
                return ANSWER(err, STORAGE_UNKNOWN_LICENSE, "no license %s was activated on this server",
                              license_id);
        return r < 0 ? r : STORAGE_OK;
}

typedef struct ActivationGet {
        const char *license_id;
        Activation a;
} ActivationGet;

static int activation_get_read(SqlConn *c, void *data, CoreError *err) {
        ActivationGet *g = data;
        return activation_read(c, g->license_id, &g->a, err);
}

static int sqlite_activation_get(Storage *storage, const char *license_id, Activation *ret, CoreError *err) {
        ActivationGet g = {.license_id = license_id};
        int r;

        r = sql_pool_read(sqlite_storage(storage)->pool, activation_get_read, &g, err);
        if (r != STORAGE_OK) {
                activation_done(&g.a);
                return r;
        }
        *ret = g.a;
        return STORAGE_OK;
}

typedef struct ActivationList {
        const char *key;
        void *list;
        size_t n;
} ActivationList;

static int activation_list_read(SqlConn *c, void *data, CoreError *err) {
        ActivationList *l = data;
        return collect_rows(c, SQL_ACTIVATION_LIST, l->key, sizeof(Activation), activation_from_row, &l->list,
                            &l->n, err);
}

static int sqlite_activation_list(Storage *storage, const char *key, Activation **ret, size_t *ret_n,
                                  CoreError *err) {
        ActivationList l = {.key = key};
        int r;

        r = sql_pool_read(sqlite_storage(storage)->pool, activation_list_read, &l, err);
        if (r < 0) {
                activation_array_free(l.list, l.n);
                return r;
        }
        *ret = l.list;
        *ret_n = l.n;
        return 0;
}

/* A write that reads back an entitlement and an activation (activation,
 * validation): what the caller gets on STORAGE_OK. */
typedef struct SeatWrite {
        const void *claim;
        Entitlement e;
        Activation a;
} SeatWrite;

#define SEAT_WRITE_INIT(c) {.claim = (c), .e = ENTITLEMENT_INIT}

static void seat_write_done(SeatWrite *w) {
        entitlement_done(&w->e);
        activation_done(&w->a);
}

/* STORAGE_OK if the machine of claim never started a trial of its product,
 * else STORAGE_TRIAL_USED naming when it did. */
static int trial_check(SqlConn *c, const ActivationClaim *claim, CoreError *err) {
        _cleanup_sql_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = sql_conn_stmt(c, SQL_TRIAL_GET, &st, err, "tt", claim->product, claim->machine_id);
        if (r >= 0)
                r = sql_conn_step(c, st, err);
        if (r < 0)
                return r;
        if (r == 0)
                return STORAGE_OK;
        return storage_trial_used(sqlite3_column_int64(st, 0), claim->product, err);
}

/* The seat logic: STORAGE_OK with the seat taken, another StorageResult
 * before anything is written, or negative errno. */
static int activate_seat(SqlConn *c, const ActivationClaim *claim, Entitlement *e, CoreError *err) {
        _cleanup_sql_stmt_ sqlite3_stmt *st = NULL;
        bool has_seat = false;
        int64_t id = 0;
        int r;

        r = entitlement_read(c, claim->key, e, err);
        if (r != STORAGE_OK)
                return r;
        if (e->trial_days > 0 && !claim->trial)
                return storage_not_a_key(claim->key, err);
        if (!streq(e->license.product, claim->product))
                return ANSWER(err, STORAGE_WRONG_PRODUCT, "the license key is for %s, not for %s",
                              e->license.product, claim->product);
        if (e->revoked)
                return ANSWER(err, STORAGE_REVOKED, "the license key has been revoked by the vendor");

        r = sql_conn_stmt(c, SQL_ACTIVATION_OF_MACHINE, &st, err, "ttt", claim->key, claim->machine_id,
                          claim->device_key);
        if (r >= 0)
                r = sql_conn_step(c, st, err);
        if (r < 0)
                return r;
        if (r > 0) {
                id = sqlite3_column_int64(st, 0);
                has_seat = sqlite3_column_int64(st, 1) == TIME_UNSET;
        }
        sql_stmt_resetp(&st);
        if (claim->trial) {
                r = trial_check(c, claim, err);
                if (r != STORAGE_OK)
                        return r;
        }
        if (!has_seat && e->active >= e->seats)
                return ANSWER(err, STORAGE_NO_SEAT,
                              "seat limit reached: %" PRIu32 " of %" PRIu32 " machines are active; "
                              "deactivate one or ask the vendor",
                              e->active, e->seats);
        /* The triggers of migration 2 count the seat in the entitlement. */
        if (id > 0)
                r = EXEC(c, SQL_ACTIVATION_RENEW, err, "ttiiii", claim->hostname, claim->nonce,
                         (int64_t) e->license.revision, claim->now, claim->now, id);
        else
                r = EXEC(c, SQL_ACTIVATION_INSERT, err, "ttttttiii", claim->key, claim->license_id,
                         claim->machine_id, claim->device_key, claim->hostname, claim->nonce,
                         (int64_t) e->license.revision, claim->now, claim->now);
        if (r >= 0 && claim->trial)
                r = EXEC(c, SQL_TRIAL_INSERT, err, "ttti", claim->product, claim->machine_id, claim->license_id,
                         claim->now);
        if (r < 0)
                return r;
        if (!has_seat)
                e->active++;
        return STORAGE_OK;
}

static int activate_write(SqlConn *c, void *data, CoreError *err) {
        SeatWrite *w = data;
        const ActivationClaim *claim = w->claim;
        int r;

        r = activate_seat(c, claim, &w->e, err);
        if (r == STORAGE_OK) {
                r = activation_read(c, claim->license_id, &w->a, err);
                /* Written a moment ago in this transaction: missing now means
                 * a broken database, not an answer. */
                if (r == STORAGE_UNKNOWN_LICENSE)
                        r = -ENOENT;
        }
        return r;
}

static int sqlite_activate(Storage *storage, const ActivationClaim *c, Entitlement *ret_e, Activation *ret_a,
                           CoreError *err) {
        _cleanup_(seat_write_done) SeatWrite w = SEAT_WRITE_INIT(c);
        int r;

        r = sql_pool_write(sqlite_storage(storage)->pool, activate_write, &w, err);
        if (r == STORAGE_OK || r == STORAGE_NO_SEAT) {
                *ret_e = w.e;
                w.e = (Entitlement) ENTITLEMENT_INIT;
        }
        if (r != STORAGE_OK)
                return r;
        *ret_a = w.a;
        w.a = (Activation){};
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

static int validate_write(SqlConn *c, void *data, CoreError *err) {
        SeatWrite *w = data;
        const ValidationClaim *claim = w->claim;
        int r;

        r = activation_read(c, claim->license_id, &w->a, err);
        if (r == STORAGE_OK) {
                r = entitlement_read(c, w->a.key, &w->e, err);
                /* An activation names an existing key (a foreign key). */
                if (r == STORAGE_UNKNOWN_KEY)
                        r = -ENOENT;
        }
        if (r == STORAGE_OK)
                r = validation_checks(claim, &w->a, &w->e, err);
        if (r != STORAGE_OK) /* an answer or a failure: nothing written */
                return r;
        r = EXEC(c, SQL_ACTIVATION_SEEN, err, "iii",
                 (int64_t) storage_revision_after_validation(&w->e, &w->a, claim->revision), claim->now,
                 w->a.id);
        return r < 0 ? r : STORAGE_OK;
}

static int sqlite_validate(Storage *storage, const ValidationClaim *c, Activation *ret_a, Entitlement *ret_e,
                           CoreError *err) {
        _cleanup_(seat_write_done) SeatWrite w = SEAT_WRITE_INIT(c);
        int r;

        r = sql_pool_write(sqlite_storage(storage)->pool, validate_write, &w, err);
        if (r != STORAGE_OK)
                return r;
        *ret_a = w.a;
        w.a = (Activation){};
        *ret_e = w.e;
        w.e = (Entitlement) ENTITLEMENT_INIT;
        return STORAGE_OK;
}

typedef struct ActivationChange {
        int64_t id;
        const char *key, *machine_id, *nonce;
        int64_t revision;
        int64_t now;
        unsigned n;
} ActivationChange;

static int activation_seen_write(SqlConn *c, void *data, CoreError *err) {
        const ActivationChange *w = data;
        int r = EXEC(c, SQL_ACTIVATION_SEEN, err, "iii", w->revision, w->now, w->id);
        return r < 0 ? r : 0;
}

static int sqlite_activation_seen(Storage *storage, int64_t id, uint32_t revision, int64_t now,
                                  CoreError *err) {
        return sql_pool_write(sqlite_storage(storage)->pool, activation_seen_write,
                              &(ActivationChange){.id = id, .revision = revision, .now = now}, err);
}

static int activation_release_write(SqlConn *c, void *data, CoreError *err) {
        const ActivationChange *w = data;
        int r;

        r = EXEC(c, SQL_NONCE_USE, err, "ti", w->nonce, w->now);
        if (r == -EEXIST)
                return ANSWER(err, STORAGE_PROOF_USED, "this deactivation proof was used before");
        if (r >= 0)
                r = EXEC(c, SQL_ACTIVATION_RELEASE, err, "ii", w->now, w->id);
        return r < 0 ? r : STORAGE_OK;
}

static int sqlite_activation_release(Storage *storage, int64_t id, const char *proof_nonce, int64_t now,
                                     CoreError *err) {
        return sql_pool_write(sqlite_storage(storage)->pool, activation_release_write,
                              &(ActivationChange){.id = id, .nonce = proof_nonce, .now = now}, err);
}

static int release_machine_write(SqlConn *c, void *data, CoreError *err) {
        ActivationChange *w = data;
        int r;

        r = EXEC(c, SQL_RELEASE_MACHINE, err, "itt", w->now, w->key, w->machine_id);
        if (r == 0) {
                r = entitlement_exists(c, w->key, err);
                if (r >= 0)
                        r = core_error_set(err, ENOENT, "machine %s holds no seat of %s", w->machine_id, w->key);
        }
        if (r < 0)
                return r;
        w->n = (unsigned) r;
        return 0;
}

static int sqlite_release_machine(Storage *storage, const char *key, const char *machine_id, int64_t now,
                                  unsigned *ret_n, CoreError *err) {
        ActivationChange w = {.key = key, .machine_id = machine_id, .now = now};
        int r;

        r = sql_pool_write(sqlite_storage(storage)->pool, release_machine_write, &w, err);
        if (r < 0)
                return r;
        *ret_n = w.n;
        return 0;
}

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
        r = release_machine_write(c, &release, err);
        if (r >= 0)
                r = EXEC(c, SQL_PORTAL_RELEASE_RECORD, err, "tti", pc->key, pc->machine_id, pc->now);
        if (r < 0)
                return r;
        w->n = release.n;
        return 0;
}

static int sqlite_portal_release(Storage *storage, const PortalReleaseClaim *c, unsigned *ret_n,
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

/* The admin API: queries, products, tokens -----------------------------------
 * (storage.h, "The admin API"). */

typedef struct RowList {
        void *list;
        size_t n;
        const EntitlementQuery *query;
} RowList;

/* A read of records into l, freed with free_array on failure. */
static int read_list(SqliteStorage *s, SqlWork fn, RowList *l, void (*free_array)(void *list, size_t n),
                     void **ret, size_t *ret_n, CoreError *err) {
        int r;

        r = sql_pool_read(s->pool, fn, l, err);
        if (r < 0) {
                free_array(l->list, l->n);
                return r;
        }
        *ret = l->list;
        *ret_n = l->n;
        return 0;
}

static int entitlement_query_read(SqlConn *c, void *data, CoreError *err) {
        RowList *l = data;
        const EntitlementQuery *q = l->query;
        _cleanup_sql_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = sql_conn_stmt(c, SQL_ENTITLEMENT_QUERY, &st, err, "tititi", q->product, (int64_t) q->state,
                          q->licensee, q->after_created, q->after_key,
                          q->limit > 0 ? (int64_t) q->limit : INT64_C(-1));
        return r < 0 ? r : collect_stmt(c, st, sizeof(Entitlement), entitlement_from_row, &l->list, &l->n, err);
}

static void free_entitlements(void *list, size_t n) {
        entitlement_array_free(list, n);
}

static int sqlite_entitlement_query(Storage *storage, const EntitlementQuery *q, Entitlement **ret,
                                    size_t *ret_n, CoreError *err) {
        return read_list(sqlite_storage(storage), entitlement_query_read, &(RowList){.query = q},
                         free_entitlements, (void **) ret, ret_n, err);
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

static int product_list_read(SqlConn *c, void *data, CoreError *err) {
        RowList *l = data;
        return collect_rows(c, SQL_PRODUCT_LIST, NULL, sizeof(ProductSummary), product_from_row, &l->list, &l->n,
                            err);
}

static void free_products(void *list, size_t n) {
        product_summary_array_free(list, n);
}

static int sqlite_product_list(Storage *storage, ProductSummary **ret, size_t *ret_n, CoreError *err) {
        return read_list(sqlite_storage(storage), product_list_read, &(RowList){}, free_products, (void **) ret,
                         ret_n, err);
}

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

static int token_create_write(SqlConn *c, void *data, CoreError *err) {
        const Token *t = data;
        int r;

        r = EXEC(c, SQL_TOKEN_CREATE, err, "tttii", t->name, token_scope_to_string(t->scope), t->hash, t->created,
                 t->expires);
        if (r == -EEXIST)
                return core_error_set(err, EEXIST, "a token called '%s' exists already", t->name);
        return r < 0 ? r : 0;
}

static int sqlite_token_create(Storage *storage, const Token *t, CoreError *err) {
        return sql_pool_write(sqlite_storage(storage)->pool, token_create_write, (void *) t, err);
}

static int token_list_read(SqlConn *c, void *data, CoreError *err) {
        RowList *l = data;
        return collect_rows(c, SQL_TOKEN_LIST, NULL, sizeof(Token), token_from_row, &l->list, &l->n, err);
}

static void free_tokens(void *list, size_t n) {
        token_array_free(list, n);
}

static int sqlite_token_list(Storage *storage, Token **ret, size_t *ret_n, CoreError *err) {
        return read_list(sqlite_storage(storage), token_list_read, &(RowList){}, free_tokens, (void **) ret, ret_n,
                         err);
}

typedef struct TokenChange {
        const char *name, *hash;
        int64_t now;
        Token *token; /* token_use_write(): the row after the change */
} TokenChange;

static int token_revoke_write(SqlConn *c, void *data, CoreError *err) {
        const TokenChange *w = data;
        int r;

        r = EXEC(c, SQL_TOKEN_REVOKE, err, "it", w->now, w->name);
        if (r == 0)
                return core_error_set(err, ENOENT, "there is no token '%s' that is not revoked", w->name);
        return r < 0 ? r : 0;
}

static int sqlite_token_revoke(Storage *storage, const char *name, int64_t now, CoreError *err) {
        return sql_pool_write(sqlite_storage(storage)->pool, token_revoke_write,
                              &(TokenChange){.name = name, .now = now}, err);
}

static int token_use_write(SqlConn *c, void *data, CoreError *err) {
        TokenChange *w = data;
        int r;

        r = EXEC(c, SQL_TOKEN_USE, err, "it", w->now, w->hash);
        if (r == 0)
                return core_error_set(err, ENOENT, "no token has this hash");
        if (r >= 0)
                r = read_row(c, SQL_TOKEN_GET, w->hash, token_from_row, w->token, err);
        if (r == 0)
                return core_error_set(err, ENOENT, "no token has this hash");
        return r < 0 ? r : 0;
}

static int sqlite_token_use(Storage *storage, const char *hash, int64_t now, Token *ret, CoreError *err) {
        return sql_pool_write(sqlite_storage(storage)->pool, token_use_write,
                              &(TokenChange){.hash = hash, .now = now, .token = ret}, err);
}

static int key_from_row(sqlite3_stmt *st, void *ret, CoreError *err) {
        const char *key = (const char *) sqlite3_column_text(st, 0);

        if (!key || strlen(key) >= LICENSE_KEY_STRING_SIZE)
                return core_error_set(err, EBADMSG, "database: a trial offer has a bad key");
        strcpy(ret, key);
        return 0;
}

typedef struct OfferRead {
        const char *product;
        char *key;
} OfferRead;

static int trial_offer_read(SqlConn *c, void *data, CoreError *err) {
        OfferRead *o = data;
        int r = read_row(c, SQL_TRIAL_OFFER, o->product, key_from_row, o->key, err);

        return r == 0 ? -ENOENT : r < 0 ? r : 0;
}

static int sqlite_trial_offer(Storage *storage, const char *product, char key[static LICENSE_KEY_STRING_SIZE],
                              CoreError *err) {
        return sql_pool_read(sqlite_storage(storage)->pool, trial_offer_read,
                             &(OfferRead){.product = product, .key = key}, err);
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
        .portal_release = sqlite_portal_release,
        .trial_offer = sqlite_trial_offer,
        .entitlement_query = sqlite_entitlement_query,
        .product_list = sqlite_product_list,
        .token_create = sqlite_token_create,
        .token_list = sqlite_token_list,
        .token_revoke = sqlite_token_revoke,
        .token_use = sqlite_token_use,
};
