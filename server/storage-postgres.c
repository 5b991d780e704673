/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* storage.h over PostgreSQL (storage_backend_postgres), on libpq, for
 * several server instances on one database. What must hold across
 * instances is the database's to enforce, never a lock of this process:
 * the seat count is taken under a row lock on the entitlement (SELECT ...
 * FOR UPDATE), a deactivation proof's nonce is a primary key, an upgrade is
 * a compare-and-set of the revision, one activation per machine is a
 * unique index. Every public function is one transaction (READ COMMITTED).
 *
 * Within a process: a bounded pool of connections, made when first needed,
 * each with a statement timeout. A connection that broke is dropped and
 * made anew on next use; a transaction whose first batch finds its
 * connection dead (the database restarted meanwhile) is retried once on a
 * new one, since nothing of it lasted. Failures to reach the database
 * are the transient errnos of storage.h. Features and properties are JSON
 * in their columns, as in SQLite (storage_features_to_json()).
 *
 * This file: opening, entitlements and the seat logic (activate, validate,
 * release). The pool is storage-postgres-pool.c, the migrations
 * storage-postgres-migrate.c, the trials storage-postgres-trial.c, the
 * portal's releases storage-postgres-portal.c, the admin API's operations
 * storage-postgres-admin.c. */

#include <assert.h>
#include <inttypes.h>
#include <time.h>

#include "storage-postgres.h"
#include "strutil.h"
#include "timeutil.h"

/* Opening ------------------------------------------------------------------- */

static void pg_close(Storage *storage) {
        PgStorage *s = pg_storage(storage);

        for (size_t i = 0; i < s->n_slots; i++)
                slot_drop(&s->slots[i]);
        pthread_cond_destroy(&s->freed);
        pthread_mutex_destroy(&s->lock);
        free(s->conninfo);
        free(s);
}

static int pg_open_with(const char *path, const StorageOptions *o, Storage **ret, CoreError *err) {
        _cleanup_(storage_closep) Storage *storage = NULL;
        pthread_condattr_t attr;
        PQconninfoOption *parsed;
        char *message = NULL;
        PgStorage *s;
        int r;

        assert(path);
        assert(o && o->pool_size >= 1 && o->timeout_ms >= 1);

        /* A malformed URI is the caller's typo, not an unreachable server. */
        parsed = PQconninfoParse(path, &message);
        if (!parsed) {
                char line[256], *quoted;

                first_line(message ?: "out of memory", line, sizeof(line));
                /* libpq quotes the URI, password included: not for a log */
                quoted = strstr(line, " in URI: ");
                if (quoted)
                        *quoted = 0;
                r = core_error_set(err, EINVAL, "bad PostgreSQL URI: %s", line);
                PQfreemem(message);
                return r;
        }
        PQconninfoFree(parsed);

        s = calloc(1, sizeof(*s) + o->pool_size * sizeof(PgSlot));
        if (!s)
                return -ENOMEM;
        s->storage.backend = &storage_backend_postgres;
        storage = &s->storage;
        pthread_mutex_init(&s->lock, NULL);
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&s->freed, &attr);
        pthread_condattr_destroy(&attr);
        s->n_slots = o->pool_size;
        s->timeout_ms = o->timeout_ms;
        s->conninfo = strdup(path);
        if (!s->conninfo)
                return -ENOMEM;
        r = pg_migrate(s, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(storage);
        return 0;
}

static int pg_open(const char *path, Storage **ret, CoreError *err) {
        return pg_open_with(path, &(StorageOptions){STORAGE_POOL_DEFAULT, STORAGE_TIMEOUT_MS_DEFAULT}, ret,
                            err);
}

/* Readiness: a real round trip on a connection of the pool. */
static int pg_ping(Storage *storage, CoreError *err) {
        _cleanup_(tx_abort) Tx t = {};
        int r;

        r = tx_begin(pg_storage(storage), &t, err);
        if (r >= 0)
                r = EXEC(&t, err, "SELECT max(version) FROM schema_version", "");
        r = tx_end(&t, r, true, err);
        return r < 0 ? r : 0;
}

/* Entitlements ---------------------------------------------------------- */

#define ENTITLEMENT_COLUMNS PG_ENTITLEMENT_COLUMNS

int pg_entitlement_from_row(const PGresult *res, int row, void *ret, CoreError *err) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        License *l = &e.license;
        const char *key = PQgetvalue(res, row, 0);
        int r;

        if (strlen(key) >= sizeof(e.key))
                return core_error_set(err, EBADMSG, "database: an entitlement has a bad key");
        strcpy(e.key, key);
        r = column_dup(res, row, 1, &l->product);
        if (r >= 0)
                r = column_dup(res, row, 2, &l->licensee);
        if (r >= 0)
                r = column_dup(res, row, 11, &l->server_url);
        if (r < 0)
                return r;
        l->type = license_type_from_string(PQgetvalue(res, row, 3));
        l->not_before = column_int(res, row, 4);
        l->not_after = column_int(res, row, 5);
        l->maintenance_until = column_int(res, row, 6);
        l->validation_interval = column_int(res, row, 9);
        l->grace_period = column_int(res, row, 10);
        l->revision = (uint32_t) column_int(res, row, 14);
        e.seats = (uint32_t) column_int(res, row, 12);
        e.revoked = column_bool(res, row, 13);
        e.created = column_int(res, row, 15);
        e.updated = column_int(res, row, 16);
        e.active = (uint32_t) column_int(res, row, 17);
        e.trial_days = (uint32_t) column_int(res, row, 18);
        e.deactivation_requires_maintenance = column_bool(res, row, 19);
        r = storage_entitlement_check(&e, PQgetvalue(res, row, 7), PQgetvalue(res, row, 8), err);
        if (r < 0)
                return r;
        *(Entitlement *) ret = e;
        e = (Entitlement) ENTITLEMENT_INIT;
        return 0;
}

/* STORAGE_OK, STORAGE_UNKNOWN_KEY or negative errno. */
static int entitlement_read(Tx *t, const char *key, Entitlement *ret, CoreError *err) {
        int r;

        r = read_row(t, "SELECT " ENTITLEMENT_COLUMNS " FROM entitlement e WHERE e.key = $1", key,
                     pg_entitlement_from_row, ret, err);
        if (r == 0)
                return ANSWER(err, STORAGE_UNKNOWN_KEY, "the license key %s is not known to this server", key);
        return r < 0 ? r : STORAGE_OK;
}

static int pg_entitlement_get(Storage *storage, const char *key, Entitlement *ret, CoreError *err) {
        _cleanup_(tx_abort) Tx t = {};
        int r;

        r = tx_begin(pg_storage(storage), &t, err);
        if (r >= 0)
                r = entitlement_read(&t, key, ret, err);
        r = tx_end(&t, r, true, err);
        /* The vendor's verbs only report it: a failure like any other. */
        return r == STORAGE_UNKNOWN_KEY ? -ENOENT : r;
}

static int pg_entitlement_create(Storage *storage, const Entitlement *e, CoreError *err) {
        _cleanup_free_ char *features = NULL, *properties = NULL;
        _cleanup_(tx_abort) Tx t = {};
        const License *l = &e->license;
        int64_t now = now_realtime();
        int r;

        assert(e->seats >= 1);
        r = storage_features_to_json(l, &features, &properties);
        if (r >= 0)
                r = tx_begin(pg_storage(storage), &t, err);
        if (r >= 0)
                r = EXEC(&t, err,
                         "INSERT INTO entitlement (key, product, licensee, type, not_before, not_after, "
                         "maintenance_until, features, properties, validation_interval, grace_period, "
                         "server_url, seats, revision, created, updated, trial_days, "
                         "deactivation_requires_maintenance) "
                         "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $15, $16, $17)",
                         "ttttiiittiitiiiit", e->key, l->product, l->licensee, license_type_to_string(l->type),
                         l->not_before, l->not_after, l->maintenance_until, features, properties,
                         l->validation_interval, l->grace_period, l->server_url, (int64_t) e->seats, now,
                         now, (int64_t) e->trial_days,
                         e->deactivation_requires_maintenance ? "true" : "false");
        r = tx_end(&t, r, true, err);
        if (r == -EEXIST)
                return core_error_set(err, EEXIST, "the license key %s exists already", e->key);
        return r < 0 ? r : 0;
}

void pg_entitlement_array_free(void *list, size_t n) {
        entitlement_array_free(list, n);
}

static int pg_entitlement_list(Storage *storage, Entitlement **ret, size_t *ret_n, CoreError *err) {
        return list_rows(pg_storage(storage),
                         "SELECT " ENTITLEMENT_COLUMNS " FROM entitlement e ORDER BY e.created, e.key", "", NULL,
                         sizeof(Entitlement), pg_entitlement_from_row, pg_entitlement_array_free, (void **) ret,
                         ret_n, err);
}

/* 0 if the key exists, -ENOENT with a sentence if not. */
static int entitlement_exists(Tx *t, const char *key, CoreError *err) {
        int r = EXEC(t, err, "SELECT 1 FROM entitlement WHERE key = $1", "t", key);

        if (r == 0)
                return core_error_set(err, ENOENT, "the license key %s is not known to this server", key);
        return r < 0 ? r : 0;
}

static int pg_entitlement_upgrade(Storage *storage, const Entitlement *e, CoreError *err) {
        _cleanup_free_ char *features = NULL, *properties = NULL;
        _cleanup_(tx_abort) Tx t = {};
        const License *l = &e->license;
        int r;

        r = storage_features_to_json(l, &features, &properties);
        if (r >= 0)
                r = tx_begin(pg_storage(storage), &t, err);
        /* Compare-and-set: an upgrade racing this one, through any instance,
         * holds the row until it commits; then this WHERE sees its
         * revision and changes nothing. */
        if (r >= 0)
                r = EXEC(&t, err,
                         "UPDATE entitlement SET licensee = $1, type = $2, not_before = $3, not_after = $4, "
                         "maintenance_until = $5, features = $6, properties = $7, validation_interval = $8, "
                         "grace_period = $9, server_url = $10, seats = $11, revision = revision + 1, "
                         "updated = $12, trial_days = $15, deactivation_requires_maintenance = $16 "
                         "WHERE key = $13 AND revision = $14",
                         "ttiiittiitiitiit", l->licensee, license_type_to_string(l->type), l->not_before,
                         l->not_after, l->maintenance_until, features, properties, l->validation_interval,
                         l->grace_period, l->server_url, (int64_t) e->seats, now_realtime(), e->key,
                         (int64_t) l->revision, (int64_t) e->trial_days,
                         e->deactivation_requires_maintenance ? "true" : "false");
        if (r == 0) {
                r = entitlement_exists(&t, e->key, err);
                if (r >= 0)
                        r = core_error_set(err, ESTALE,
                                           "the entitlement %s was changed meanwhile; try again", e->key);
        }
        r = tx_end(&t, r, true, err);
        return r < 0 ? r : 0;
}

static int pg_entitlement_revoke(Storage *storage, const char *key, CoreError *err) {
        _cleanup_(tx_abort) Tx t = {};
        int r;

        r = tx_begin(pg_storage(storage), &t, err);
        if (r >= 0)
                r = EXEC(&t, err, "UPDATE entitlement SET revoked = true, updated = $1 WHERE key = $2", "it",
                         now_realtime(), key);
        if (r == 0)
                r = entitlement_exists(&t, key, err);
        r = tx_end(&t, r, true, err);
        return r < 0 ? r : 0;
}

/* Activations ------------------------------------------------------------ */

#define ACTIVATION_COLUMNS                                                                                  \
        "id, key, license_id, machine_id, device_key, hostname, nonce, revision, activated, last_seen, "    \
        "released"

static int activation_from_row(const PGresult *res, int row, void *ret, CoreError *err) {
        _cleanup_(activation_done) Activation a = {};
        int r;

        a.id = column_int(res, row, 0);
        snprintf(a.key, sizeof(a.key), "%s", PQgetvalue(res, row, 1));
        r = column_dup(res, row, 2, &a.license_id);
        if (r >= 0)
                r = column_dup(res, row, 3, &a.machine_id);
        if (r >= 0)
                r = column_dup(res, row, 4, &a.device_key);
        if (r >= 0)
                r = column_dup(res, row, 5, &a.hostname);
        if (r >= 0)
                r = column_dup(res, row, 6, &a.nonce);
        if (r < 0)
                return r;
        a.revision = (uint32_t) column_int(res, row, 7);
        a.activated = column_int(res, row, 8);
        a.last_seen = column_int(res, row, 9);
        a.released = column_int(res, row, 10);
        *(Activation *) ret = a;
        a = (Activation){};
        return 0;
}

/* STORAGE_OK, STORAGE_UNKNOWN_LICENSE or negative errno. */
static int activation_read(Tx *t, const char *license_id, Activation *ret, CoreError *err) {
        int r;

        r = read_row(t, "SELECT " ACTIVATION_COLUMNS " FROM activation WHERE license_id = $1", license_id,
                     activation_from_row, ret, err);
        if (r == 0)
                return ANSWER(err, STORAGE_UNKNOWN_LICENSE, "no license %s was activated on this server",
                              license_id);
        return r < 0 ? r : STORAGE_OK;
}

static int pg_activation_get(Storage *storage, const char *license_id, Activation *ret, CoreError *err) {
        _cleanup_(tx_abort) Tx t = {};
        int r;

        r = tx_begin(pg_storage(storage), &t, err);
        if (r >= 0)
                r = activation_read(&t, license_id, ret, err);
        return tx_end(&t, r, true, err);
}

static void activation_array_freep(void *list, size_t n) {
        activation_array_free(list, n);
}

static int pg_activation_list(Storage *storage, const char *key, Activation **ret, size_t *ret_n,
                              CoreError *err) {
        return list_rows(pg_storage(storage),
                         "SELECT " ACTIVATION_COLUMNS " FROM activation WHERE $1::text IS NULL OR key = $1 "
                         "ORDER BY activated, id",
                         "t", key, sizeof(Activation), activation_from_row, activation_array_freep, (void **) ret,
                         ret_n, err);
}

/* The entitlement of a batch's result: STORAGE_OK, STORAGE_UNKNOWN_KEY or
 * negative errno. */
static int entitlement_of(const PGresult *res, const char *key, Entitlement *ret, CoreError *err) {
        if (PQntuples(res) == 0)
                return ANSWER(err, STORAGE_UNKNOWN_KEY, "the license key %s is not known to this server", key);
        return pg_entitlement_from_row(res, 0, ret, err);
}

/* An activation and a validation have one shape: a transaction whose
 * first batch reads under a row lock, checks in C that decide, and one
 * batch that writes the activation and commits. A SeatStep does the reads
 * and the checks: STORAGE_OK with the write bound in *write, another
 * StorageResult before anything is written, or negative errno. */
typedef int (*SeatStep)(Tx *t, const void *claim, Entitlement *e, Activation *a, Stmt *write,
                        CoreError *err);

/* Runs step and its write; with returning, the write's RETURNING row is
 * the activation handed out, else the one step read. ret_e is filled in
 * on STORAGE_OK and STORAGE_NO_SEAT, ret_a on STORAGE_OK. Only a write
 * is committed; an answer writes nothing. */
static int seat_transaction(Storage *storage, SeatStep step, const void *claim, bool returning,
                            Entitlement *ret_e, Activation *ret_a, CoreError *err) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        _cleanup_(activation_done) Activation a = {};
        _cleanup_(tx_abort) Tx t = {};
        Stmt write = {};
        int r;

        r = tx_begin(pg_storage(storage), &t, err);
        if (r < 0)
                return r;
        r = step(&t, claim, &e, &a, &write, err);
        if (r == STORAGE_OK)
                r = tx_batch(&t, &write, 1, true, err);
        if (r == STORAGE_OK && returning) {
                activation_done(&a);
                a = (Activation){};
                /* Written by this very statement: no row means a broken
                 * database, not an answer. */
                r = PQntuples(write.res) == 1 ? activation_from_row(write.res, 0, &a, err) : -ENOENT;
        }
        stmts_done(&write, 1);
        r = tx_end(&t, r, r == STORAGE_OK, err);
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

/* The seat logic of an activation (a SeatStep). */
static int activate_step(Tx *t, const void *claim, Entitlement *e, Activation *a, Stmt *write,
                         CoreError *err) {
        const ActivationClaim *c = claim;
        Stmt st[3] = {};
        bool has_seat = false;
        int64_t id = 0;
        int r;

        /* The entitlement's row lock serializes every activation of the key
         * across all instances: whoever holds it counts the seats and takes
         * one. The count is a column of the locked row (migration 3), and
         * FOR UPDATE answers the row as the last holder of the lock
         * committed it; the machine's activation, read by a statement of
         * its own after the lock (READ COMMITTED), is as committed then.
         * One round trip for both. */
        stmt_bind(&st[0], "SELECT " ENTITLEMENT_COLUMNS " FROM entitlement e WHERE e.key = $1 FOR UPDATE", "t",
                  c->key);
        /* The same machine is the same machine id and device key. */
        stmt_bind(&st[1],
                  "SELECT id, released FROM activation WHERE key = $1 AND machine_id = $2 AND device_key = $3",
                  "ttt", c->key, c->machine_id, c->device_key);
        /* A trial: whether this machine had one of the product, by its
         * machine id or its hardware id (NULL, without one, matches no
         * row). The offer's row lock serializes its trials; the unique
         * constraints stand behind it. */
        if (c->trial)
                stmt_bind(&st[2],
                          "SELECT started FROM trial WHERE product = $1 AND (machine_id = $2 OR hardware_id = $3) "
                          "ORDER BY started LIMIT 1",
                          "ttt", c->product, c->machine_id, c->hardware_id);
        r = tx_batch(t, st, c->trial ? 3 : 2, false, err);
        if (r >= 0)
                r = entitlement_of(st[0].res, c->key, e, err);
        /* A trial offer's key is not a customer's key. */
        if (r == STORAGE_OK && e->trial_days > 0 && !c->trial)
                r = storage_not_a_key(c->key, err);
        if (r == STORAGE_OK && PQntuples(st[1].res) > 0) {
                id = column_int(st[1].res, 0, 0);
                has_seat = column_int(st[1].res, 0, 1) == TIME_UNSET;
        }
        if (r == STORAGE_OK && c->trial && PQntuples(st[2].res) > 0)
                r = storage_trial_used(column_int(st[2].res, 0, 0), c->product, err);
        stmts_done(st, ELEMENTSOF(st));
        if (r == STORAGE_OK)
                r = storage_activation_checks(c, e, has_seat, err);
        if (r != STORAGE_OK)
                return r;
        if (c->trial) {
                /* Before the activation's write: both or neither commit. */
                r = EXEC(t, err,
                         "INSERT INTO trial (product, machine_id, license_id, started, hardware_id) "
                         "VALUES ($1, $2, $3, $4, $5)",
                         "tttit", c->product, c->machine_id, c->license_id, c->now, c->hardware_id);
                if (r < 0)
                        return r;
        }
        if (id > 0)
                stmt_bind(write,
                          "UPDATE activation SET hostname = $1, nonce = $2, revision = $3, last_seen = $4, "
                          "released = 0, activated = CASE WHEN released = 0 THEN activated ELSE $5 END "
                          "WHERE id = $6 RETURNING " ACTIVATION_COLUMNS,
                          "ttiiii", c->hostname, c->nonce, (int64_t) e->license.revision, c->now, c->now, id);
        else
                stmt_bind(write,
                          "INSERT INTO activation (key, license_id, machine_id, device_key, hostname, nonce, "
                          "revision, activated, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
                          "RETURNING " ACTIVATION_COLUMNS,
                          "ttttttiii", c->key, c->license_id, c->machine_id, c->device_key, c->hostname,
                          c->nonce, (int64_t) e->license.revision, c->now, c->now);
        if (!has_seat)
                e->active++;
        return STORAGE_OK;
}

static int pg_activate(Storage *storage, const ActivationClaim *c, Entitlement *ret_e, Activation *ret_a,
                       CoreError *err) {
        return seat_transaction(storage, activate_step, c, true, ret_e, ret_a, err);
}

/* The checks of a validation (a SeatStep). */
static int validate_step(Tx *t, const void *claim, Entitlement *e, Activation *a, Stmt *write,
                         CoreError *err) {
        const ValidationClaim *c = claim;
        Stmt st[2] = {};
        int r;

        /* The activation's row lock orders this against a validation or
         * re-activation of the same machine through another instance, so
         * the revision recorded never goes back. The entitlement, read by
         * a statement of its own after the lock, is as committed then. */
        stmt_bind(&st[0], "SELECT " ACTIVATION_COLUMNS " FROM activation WHERE license_id = $1 FOR UPDATE", "t",
                  c->license_id);
        stmt_bind(&st[1],
                  "SELECT " ENTITLEMENT_COLUMNS " FROM entitlement e "
                  "WHERE e.key = (SELECT key FROM activation WHERE license_id = $1)",
                  "t", c->license_id);
        r = tx_batch(t, st, ELEMENTSOF(st), false, err);
        if (r >= 0 && PQntuples(st[0].res) == 0)
                r = ANSWER(err, STORAGE_UNKNOWN_LICENSE, "no license %s was activated on this server",
                           c->license_id);
        if (r == STORAGE_OK)
                r = activation_from_row(st[0].res, 0, a, err);
        if (r == STORAGE_OK) {
                r = entitlement_of(st[1].res, a->key, e, err);
                /* An activation names an existing key (a foreign key). */
                if (r == STORAGE_UNKNOWN_KEY)
                        r = -ENOENT;
        }
        stmts_done(st, ELEMENTSOF(st));
        if (r == STORAGE_OK)
                r = storage_validation_checks(c, a, e, err);
        if (r != STORAGE_OK) /* an answer or a failure: nothing written */
                return r;
        stmt_bind(write, "UPDATE activation SET revision = $1, last_seen = $2 WHERE id = $3", "iii",
                  (int64_t) storage_revision_after_validation(e, a, c->revision), c->now, a->id);
        return STORAGE_OK;
}

static int pg_validate(Storage *storage, const ValidationClaim *c, Activation *ret_a, Entitlement *ret_e,
                       CoreError *err) {
        return seat_transaction(storage, validate_step, c, false, ret_e, ret_a, err);
}

static int pg_activation_seen(Storage *storage, int64_t id, uint32_t revision, int64_t now, CoreError *err) {
        _cleanup_(tx_abort) Tx t = {};
        int r;

        r = tx_begin(pg_storage(storage), &t, err);
        if (r >= 0)
                r = EXEC(&t, err, "UPDATE activation SET revision = $1, last_seen = $2 WHERE id = $3", "iii",
                         (int64_t) revision, now, id);
        r = tx_end(&t, r, true, err);
        return r < 0 ? r : 0;
}

/* The seat's count is the entitlement's (migration 3): a release locks
 * that row before it changes an activation, in the order an activation
 * takes them, so that the two never wait for each other. */
#define LOCK_ENTITLEMENT_OF_ACTIVATION                                                                      \
        "SELECT 1 FROM entitlement WHERE key = (SELECT key FROM activation WHERE id = $1) FOR UPDATE"

static int pg_activation_release(Storage *storage, int64_t id, const char *proof_nonce, int64_t now,
                                 CoreError *err) {
        _cleanup_(tx_abort) Tx t = {};
        Stmt st[2] = {};
        int r;

        r = tx_begin(pg_storage(storage), &t, err);
        if (r < 0)
                return r;
        /* The primary key decides which of two racing uses of one proof
         * wins; the loser waits for the winner's commit and inserts
         * nothing. */
        stmt_bind(&st[0], LOCK_ENTITLEMENT_OF_ACTIVATION, "i", id);
        stmt_bind(&st[1], "INSERT INTO used_nonce (nonce, used) VALUES ($1, $2) ON CONFLICT DO NOTHING", "ti",
                  proof_nonce, now);
        r = tx_batch(&t, st, ELEMENTSOF(st), false, err);
        if (r >= 0)
                r = atoi(PQcmdTuples(st[1].res));
        stmts_done(st, ELEMENTSOF(st));
        if (r == 0) {
                tx_end(&t, 0, false, err);
                return ANSWER(err, STORAGE_PROOF_USED, "this deactivation proof was used before");
        }
        if (r >= 0) {
                stmt_bind(&st[0], "UPDATE activation SET released = $1 WHERE id = $2 AND released = 0", "ii",
                          now, id);
                r = tx_batch(&t, st, 1, true, err);
                stmts_done(st, 1);
        }
        r = tx_end(&t, r, true, err);
        return r < 0 ? r : STORAGE_OK;
}

/* Releases machine_id's seat of key inside t: the number of activations
 * released (1), or -ENOENT when it holds none. The entitlement's row is
 * locked first, as in pg_activation_release(): the seat count is that
 * row's (migration 3). The portal's release calls it too. */
int pg_release_machine_tx(Tx *t, const char *key, const char *machine_id, int64_t now, CoreError *err) {
        Stmt st[2] = {};
        int r;

        stmt_bind(&st[0], "SELECT 1 FROM entitlement WHERE key = $1 FOR UPDATE", "t", key);
        stmt_bind(&st[1],
                  "UPDATE activation SET released = $1 WHERE key = $2 AND machine_id = $3 AND released = 0",
                  "itt", now, key, machine_id);
        r = tx_batch(t, st, ELEMENTSOF(st), false, err);
        if (r >= 0)
                r = atoi(PQcmdTuples(st[1].res));
        stmts_done(st, ELEMENTSOF(st));
        if (r == 0) {
                r = entitlement_exists(t, key, err);
                if (r >= 0)
                        r = core_error_set(err, ENOENT, "machine %s holds no seat of %s", machine_id, key);
        }
        return r;
}

static int pg_release_machine(Storage *storage, const char *key, const char *machine_id, int64_t now,
                              unsigned *ret_n, CoreError *err) {
        _cleanup_(tx_abort) Tx t = {};
        int r;

        r = tx_begin(pg_storage(storage), &t, err);
        if (r >= 0)
                r = pg_release_machine_tx(&t, key, machine_id, now, err);
        r = tx_end(&t, r, true, err);
        if (r < 0)
                return r;
        *ret_n = (unsigned) r;
        return 0;
}

static int pg_pool_stats(Storage *storage, unsigned *ret_in_use, unsigned *ret_size) {
        PgStorage *s = pg_storage(storage);
        unsigned busy = 0;

        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < s->n_slots; i++)
                busy += s->slots[i].busy;
        pthread_mutex_unlock(&s->lock);
        *ret_in_use = busy;
        *ret_size = (unsigned) s->n_slots;
        return 0;
}

const StorageBackend storage_backend_postgres = {
        .name = "postgresql",
        .open = pg_open,
        .open_with = pg_open_with,
        .close = pg_close,
        .ping = pg_ping,
        .pool_stats = pg_pool_stats,
        .entitlement_create = pg_entitlement_create,
        .entitlement_get = pg_entitlement_get,
        .entitlement_list = pg_entitlement_list,
        .entitlement_upgrade = pg_entitlement_upgrade,
        .entitlement_revoke = pg_entitlement_revoke,
        .activate = pg_activate,
        .activation_get = pg_activation_get,
        .activation_list = pg_activation_list,
        .validate = pg_validate,
        .activation_seen = pg_activation_seen,
        .activation_release = pg_activation_release,
        .release_machine = pg_release_machine,
        .portal_release = pg_portal_release,
        .portal_releases = pg_portal_releases,
        .trial_offer = pg_trial_offer,
        .trial_reset = pg_trial_reset,
        .entitlement_query = pg_entitlement_query,
        .product_list = pg_product_list,
        .token_create = pg_token_create,
        .token_list = pg_token_list,
        .token_revoke = pg_token_revoke,
        .token_use = pg_token_use,
};
