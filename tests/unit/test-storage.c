/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The server's database (server/storage.h) on an in-memory SQLite
 * database: entitlements, the seat logic and its answers (StorageResult),
 * revocation, release by proof (once) and by the vendor, the admin API's
 * queries. With LICENSED_TEST_POSTGRES=URI (a database it may empty) the
 * same tests run again on PostgreSQL (server/storage-postgres.c), each on
 * an empty schema. Then on a SQLite file, where it has a pool of reading
 * connections and group-commits its writes (server/sqlite-pool.h): many
 * threads taking seats of one key at once never take more than its seats,
 * and the count of active seats the entitlement keeps (migration 3) is
 * right, both when the migration fills it in from the activations of an
 * older database and as seats are taken and freed afterwards. */
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

#include "build-info.h"
#include "test-util.h"
#include "license-key.h"
#include "storage.h"

#if HAVE_POSTGRES
#include <libpq-fe.h>
#endif

#define PRODUCT "com.example.app"
#define MACHINE_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define MACHINE_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define MACHINE_C "cccccccccccccccccccccccccccccccc"

/* The database the tests run on: STORAGE_IN_MEMORY or a PostgreSQL URI. */
static const char *database = STORAGE_IN_MEMORY;

/* A PostgreSQL database as storage_open() finds a new one: empty. */
static void empty_database(void) {
#if HAVE_POSTGRES
        PGconn *c;
        PGresult *res;

        if (!storage_path_is_postgres(database))
                return;
        c = PQconnectdb(database);
        assert_int_equal(PQstatus(c), CONNECTION_OK);
        res = PQexec(c, "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public");
        assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
        PQclear(res);
        PQfinish(c);
#endif
}

typedef struct Fixture {
        Storage *storage;
        char key[LICENSE_KEY_STRING_SIZE];
        char dir[64]; /* on a file: its directory and path */
        char path[96];
} Fixture;

/* Creates key with seats seats of PRODUCT with one feature. */
static int create_key(Storage *storage, const char *key, uint32_t seats) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        CoreError err = {};

        snprintf(e.key, sizeof(e.key), "%s", key);
        e.license.product = strdup(PRODUCT);
        e.license.licensee = strdup("ACME Corp");
        e.license.type = LICENSE_PERPETUAL;
        e.license.revision = 1;
        assert_int_equal(license_add_feature(&e.license, "reports", TIME_UNSET, 0, NULL), 0);
        e.seats = seats;
        return storage_entitlement_create(storage, &e, &err);
}

/* The database path (a file or STORAGE_IN_MEMORY) with one key of seats
 * seats. */
static Fixture *fixture_new(const char *path, uint32_t seats) {
        Fixture *f = calloc(1, sizeof(*f));
        CoreError err = {};

        assert_non_null(f);
        if (streq(path, STORAGE_IN_MEMORY)) {
                empty_database();
                path = database;
        } else {
                snprintf(f->dir, sizeof(f->dir), "/tmp/test-storage.XXXXXX");
                assert_non_null(mkdtemp(f->dir));
                snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, path);
                path = f->path;
        }
        assert_int_equal(storage_open(path, &f->storage, &err), 0);
        assert_int_equal(license_key_generate(f->key), 0);
        assert_int_equal(create_key(f->storage, f->key, seats), 0);
        return f;
}

/* Two seats, in memory. */
static int setup(void **state) {
        *state = fixture_new(STORAGE_IN_MEMORY, 2);
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        char p[128];

        storage_close(f->storage);
        if (f->dir[0]) {
                for (const char *const *suffix = (const char *const[]){"", "-wal", "-shm", NULL}; *suffix;
                     suffix++) {
                        snprintf(p, sizeof(p), "%s%s", f->path, *suffix);
                        (void) unlink(p);
                }
                assert_int_equal(rmdir(f->dir), 0);
        }
        free(f);
        return 0;
}

/* Activates key for machine; the license id is derived from the machine. */
static int activate(Fixture *f, const char *key, const char *product, const char *machine,
                    Entitlement *ret_e, Activation *ret_a, CoreError *err) {
        char license_id[64];

        snprintf(license_id, sizeof(license_id), "lic-%.8s", machine);
        return storage_activate(f->storage,
                                &(ActivationClaim){
                                        .key = key,
                                        .product = product,
                                        .license_id = license_id,
                                        .machine_id = machine,
                                        .device_key = "ZGV2aWNla2V5",
                                        .nonce = "00112233445566778899aabbccddeeff",
                                        .now = T0,
                                },
                                ret_e, ret_a, err);
}

static void test_entitlement(void **state) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        Fixture *f = *state;
        CoreError err = {};

        assert_int_equal(storage_ping(f->storage, &err), 0);
        assert_int_equal(storage_entitlement_get(f->storage, f->key, &e, &err), 0);
        assert_string_equal(e.key, f->key);
        assert_string_equal(e.license.product, PRODUCT);
        assert_int_equal(e.license.n_features, 1);
        assert_string_equal(e.license.features[0].name, "reports");
        assert_int_equal(e.seats, 2);
        assert_int_equal(e.active, 0);
        assert_int_equal(e.license.revision, 1);
        assert_false(e.revoked);

        /* The same key twice; a key nobody created (the vendor's verbs hear errno). */
        assert_int_equal(storage_entitlement_create(f->storage, &e, &err), -EEXIST);
        assert_int_equal(storage_entitlement_get(f->storage, "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", &e, &err),
                         -ENOENT);
        assert_non_null(strstr(err.message, "not known"));
}

static void test_activate(void **state) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        _cleanup_(activation_done) Activation a = {};
        _cleanup_(activation_done) Activation got = {};
        Fixture *f = *state;
        CoreError err = {};

        assert_int_equal(activate(f, f->key, PRODUCT, MACHINE_A, &e, &a, &err), STORAGE_OK);
        assert_int_equal(e.active, 1);
        assert_string_equal(a.machine_id, MACHINE_A);
        assert_string_equal(a.license_id, "lic-aaaaaaaa");
        assert_int_equal(a.revision, 1);
        assert_int_equal(a.released, TIME_UNSET);

        assert_int_equal(storage_activation_get(f->storage, "lic-aaaaaaaa", &got, &err), STORAGE_OK);
        assert_int_equal(got.id, a.id);
        activation_done(&got);
        assert_int_equal(storage_activation_get(f->storage, "lic-nobody", &got, &err),
                         STORAGE_UNKNOWN_LICENSE);
        assert_non_null(strstr(err.message, "lic-nobody"));
}

static void test_seat_limit(void **state) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        _cleanup_(activation_done) Activation a = {};
        Fixture *f = *state;
        CoreError err = {};

        assert_int_equal(activate(f, f->key, PRODUCT, MACHINE_A, &e, &a, &err), STORAGE_OK);
        entitlement_done(&e);
        activation_done(&a);
        assert_int_equal(activate(f, f->key, PRODUCT, MACHINE_B, &e, &a, &err), STORAGE_OK);
        assert_int_equal(e.active, 2);
        entitlement_done(&e);
        activation_done(&a);

        /* Full: a third machine is told so, with the counts... */
        assert_int_equal(activate(f, f->key, PRODUCT, MACHINE_C, &e, &a, &err), STORAGE_NO_SEAT);
        assert_int_equal(e.seats, 2);
        assert_int_equal(e.active, 2);
        assert_non_null(strstr(err.message, "seat limit reached: 2 of 2"));
        entitlement_done(&e);

        /* ...while a machine that holds a seat gets it back. */
        assert_int_equal(activate(f, f->key, PRODUCT, MACHINE_A, &e, &a, &err), STORAGE_OK);
        assert_int_equal(e.active, 2);
}

static void test_answers(void **state) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        _cleanup_(activation_done) Activation a = {};
        Fixture *f = *state;
        CoreError err = {};

        assert_int_equal(activate(f, "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", PRODUCT, MACHINE_A, &e, &a, &err),
                         STORAGE_UNKNOWN_KEY);
        assert_int_equal(activate(f, f->key, "com.example.other", MACHINE_A, &e, &a, &err),
                         STORAGE_WRONG_PRODUCT);
        assert_non_null(strstr(err.message, "not for com.example.other"));

        assert_int_equal(storage_entitlement_revoke(f->storage, f->key, &err), 0);
        assert_int_equal(activate(f, f->key, PRODUCT, MACHINE_A, &e, &a, &err), STORAGE_REVOKED);
        assert_int_equal(storage_entitlement_get(f->storage, f->key, &e, &err), 0);
        assert_true(e.revoked);
        assert_int_equal(e.active, 0); /* no "no" wrote anything */
        assert_int_equal(storage_entitlement_revoke(f->storage, "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", &err),
                         -ENOENT);
}

/* Activates MACHINE_A, which must succeed, and returns its activation. */
static void activate_a(Fixture *f, Activation *ret) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        CoreError err = {};

        assert_int_equal(activate(f, f->key, PRODUCT, MACHINE_A, &e, ret, &err), STORAGE_OK);
}

static void test_release_by_proof(void **state) {
        _cleanup_(activation_done) Activation a = {}, got = {};
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        Fixture *f = *state;
        CoreError err = {};

        activate_a(f, &a);
        assert_int_equal(storage_activation_release(f->storage, a.id, "proof-nonce-1", T0 + 10, &err),
                         STORAGE_OK);
        assert_int_equal(storage_activation_get(f->storage, a.license_id, &got, &err), STORAGE_OK);
        assert_int_equal(got.released, T0 + 10);
        assert_int_equal(storage_entitlement_get(f->storage, f->key, &e, &err), 0);
        assert_int_equal(e.active, 0);

        /* The same proof again is refused, whatever it names. */
        assert_int_equal(storage_activation_release(f->storage, a.id, "proof-nonce-1", T0 + 20, &err),
                         STORAGE_PROOF_USED);
        /* A new proof for a released seat is fine, and changes nothing. */
        assert_int_equal(storage_activation_release(f->storage, a.id, "proof-nonce-2", T0 + 30, &err),
                         STORAGE_OK);
        activation_done(&got);
        assert_int_equal(storage_activation_get(f->storage, a.license_id, &got, &err), STORAGE_OK);
        assert_int_equal(got.released, T0 + 10);
}

static void test_release_machine(void **state) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        _cleanup_(activation_done) Activation a = {};
        Fixture *f = *state;
        CoreError err = {};
        unsigned n = 0;

        assert_int_equal(activate(f, f->key, PRODUCT, MACHINE_A, &e, &a, &err), STORAGE_OK);
        entitlement_done(&e);
        activation_done(&a);
        assert_int_equal(activate(f, f->key, PRODUCT, MACHINE_B, &e, &a, &err), STORAGE_OK);
        entitlement_done(&e);
        activation_done(&a);

        assert_int_equal(storage_release_machine(f->storage, f->key, MACHINE_A, T0 + 5, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_int_equal(storage_release_machine(f->storage, f->key, MACHINE_A, T0 + 6, &n, &err), -ENOENT);
        /* The freed seat goes to a new machine. */
        assert_int_equal(activate(f, f->key, PRODUCT, MACHINE_C, &e, &a, &err), STORAGE_OK);
        assert_int_equal(e.active, 2);
}

static void test_upgrade(void **state) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        Fixture *f = *state;
        CoreError err = {};

        assert_int_equal(storage_entitlement_get(f->storage, f->key, &e, &err), 0);
        e.seats = 3;
        assert_int_equal(storage_entitlement_upgrade(f->storage, &e, &err), 0);
        /* Based on revision 1 again: someone else changed it meanwhile. */
        assert_int_equal(storage_entitlement_upgrade(f->storage, &e, &err), -ESTALE);
        entitlement_done(&e);
        assert_int_equal(storage_entitlement_get(f->storage, f->key, &e, &err), 0);
        assert_int_equal(e.license.revision, 2);
        assert_int_equal(e.seats, 3);
}

static int validate(Fixture *f, const char *license_id, const char *machine, const char *product,
                    uint32_t revision, int64_t now, Activation *ret_a, Entitlement *ret_e, CoreError *err) {
        return storage_validate(f->storage,
                                &(ValidationClaim){
                                        .license_id = license_id,
                                        .machine_id = machine,
                                        .device_key = "ZGV2aWNla2V5",
                                        .product = product,
                                        .revision = revision,
                                        .now = now,
                                },
                                ret_a, ret_e, err);
}

/* One transaction reads, checks and records; the answers write nothing. */
static void test_validate(void **state) {
        _cleanup_(activation_done) Activation a = {}, got = {}, seen = {};
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT, up = ENTITLEMENT_INIT;
        Fixture *f = *state;
        CoreError err = {};

        activate_a(f, &a);
        assert_int_equal(validate(f, "lic-nothere", MACHINE_A, PRODUCT, 1, T0 + 1, &got, &e, &err),
                         STORAGE_UNKNOWN_LICENSE);
        assert_int_equal(validate(f, a.license_id, MACHINE_B, PRODUCT, 1, T0 + 1, &got, &e, &err),
                         STORAGE_WRONG_MACHINE);
        assert_int_equal(validate(f, a.license_id, MACHINE_A, "com.example.other", 1, T0 + 1, &got, &e, &err),
                         STORAGE_WRONG_PRODUCT);
        assert_int_equal(storage_activation_get(f->storage, a.license_id, &seen, &err), STORAGE_OK);
        assert_int_equal(seen.last_seen, T0);

        /* The vendor upgrades: the machine holds revision 2 after the answer. */
        assert_int_equal(storage_entitlement_get(f->storage, f->key, &up, &err), 0);
        up.seats = 3;
        assert_int_equal(storage_entitlement_upgrade(f->storage, &up, &err), 0);
        assert_int_equal(validate(f, a.license_id, MACHINE_A, PRODUCT, 1, T0 + 7, &got, &e, &err), STORAGE_OK);
        assert_string_equal(got.license_id, a.license_id);
        assert_int_equal(e.license.revision, 2);
        assert_int_equal(storage_revision_after_validation(&e, &got, 1), 2);
        activation_done(&seen);
        assert_int_equal(storage_activation_get(f->storage, a.license_id, &seen, &err), STORAGE_OK);
        assert_int_equal(seen.last_seen, T0 + 7);
        assert_int_equal(seen.revision, 2);

        /* Revoked: the machine keeps what it holds. */
        assert_int_equal(storage_entitlement_revoke(f->storage, f->key, &err), 0);
        entitlement_done(&up);
        assert_int_equal(storage_entitlement_get(f->storage, f->key, &up, &err), 0);
        assert_int_equal(storage_revision_after_validation(&up, &got, 1), 1);
}

/* The admin API's queries: filters, paging by (created, key), products. */
static void create(Fixture *f, const char *product, const char *licensee, char key[static LICENSE_KEY_STRING_SIZE]) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        CoreError err = {};

        assert_int_equal(license_key_generate(key), 0);
        memcpy(e.key, key, LICENSE_KEY_STRING_SIZE);
        e.license.product = strdup(product);
        e.license.licensee = strdup(licensee);
        e.license.type = LICENSE_PERPETUAL;
        e.license.revision = 1;
        e.seats = 1;
        assert_int_equal(storage_entitlement_create(f->storage, &e, &err), 0);
}

static size_t query(Fixture *f, const EntitlementQuery *q, Entitlement **ret) {
        CoreError err = {};
        size_t n = 0;

        assert_int_equal(storage_entitlement_query(f->storage, q, ret, &n, &err), 0);
        return n;
}

static void test_entitlement_query(void **state) {
        Fixture *f = *state;
        char k1[LICENSE_KEY_STRING_SIZE], k2[LICENSE_KEY_STRING_SIZE], k3[LICENSE_KEY_STRING_SIZE];
        Entitlement *list = NULL, *all = NULL;
        ProductSummary *p = NULL;
        CoreError err = {};
        size_t n, n_all;

        create(f, PRODUCT, "50% off_Ltd", k1);
        create(f, "com.example.other", "Müller GmbH", k2);
        create(f, PRODUCT, "müller kg", k3);
        assert_int_equal(storage_entitlement_revoke(f->storage, k3, &err), 0);

        n_all = query(f, &(EntitlementQuery){}, &all);
        assert_int_equal(n_all, 4);
        /* the substring is literal: % and _ are no wildcards, case counts */
        n = query(f, &(EntitlementQuery){.licensee = "% off_"}, &list);
        assert_int_equal(n, 1);
        assert_string_equal(list[0].key, k1);
        entitlement_array_free(list, n);
        assert_int_equal(query(f, &(EntitlementQuery){.licensee = "0_"}, &list), 0);
        entitlement_array_free(list, 0);
        n = query(f, &(EntitlementQuery){.licensee = "Müller"}, &list);
        assert_int_equal(n, 1);
        assert_string_equal(list[0].key, k2);
        entitlement_array_free(list, n);
        n = query(f, &(EntitlementQuery){.product = PRODUCT, .state = ENTITLEMENT_STATE_ACTIVE}, &list);
        assert_int_equal(n, 2);
        entitlement_array_free(list, n);
        n = query(f, &(EntitlementQuery){.state = ENTITLEMENT_STATE_REVOKED}, &list);
        assert_int_equal(n, 1);
        assert_string_equal(list[0].key, k3);
        entitlement_array_free(list, n);

        /* pages of 3 after a position give the rest, in order */
        n = query(f, &(EntitlementQuery){.limit = 3}, &list);
        assert_int_equal(n, 3);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(list[i].key, all[i].key);
        entitlement_array_free(list, n);
        n = query(f, &(EntitlementQuery){.after_created = all[2].created, .after_key = all[2].key, .limit = 3}, &list);
        assert_int_equal(n, 1);
        assert_string_equal(list[0].key, all[3].key);
        entitlement_array_free(list, n);
        entitlement_array_free(all, n_all);

        assert_int_equal(storage_product_list(f->storage, &p, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_string_equal(p[0].product, PRODUCT); /* by name */
        assert_int_equal(p[0].entitlements, 3);
        assert_string_equal(p[1].product, "com.example.other");
        assert_int_equal(p[1].entitlements, 1);
        product_summary_array_free(p, n);
}

/* On a file ----------------------------------------------------------------- */

#define THREADS 16
#define MACHINES_PER_THREAD 5
#define SEATS 5

static int setup_file(void **state) {
        *state = fixture_new("server.db", SEATS);
        return 0;
}

/* Activates machine number machine. */
static int activate_n(Fixture *f, unsigned machine, CoreError *err) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        _cleanup_(activation_done) Activation a = {};
        char machine_id[33];

        /* activate() names the license after the first 8 digits */
        snprintf(machine_id, sizeof(machine_id), "%08x%024x", machine, 0u);
        return activate(f, f->key, PRODUCT, machine_id, &e, &a, err);
}

typedef struct Worker {
        Fixture *f;
        unsigned first;
        unsigned ok, no_seat, failed;
} Worker;

/* Activates its machines, reading the entitlement between activations. */
static void *worker(void *data) {
        Worker *w = data;

        for (unsigned i = 0; i < MACHINES_PER_THREAD; i++) {
                _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
                CoreError err = {};
                int r = activate_n(w->f, w->first + i, &err);

                if (r == STORAGE_OK)
                        w->ok++;
                else if (r == STORAGE_NO_SEAT)
                        w->no_seat++;
                else
                        w->failed++;
                if (storage_entitlement_get(w->f->storage, w->f->key, &e, &err) < 0 || e.active > SEATS)
                        w->failed++;
        }
        return NULL;
}

static unsigned active_of(Fixture *f) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        CoreError err = {};

        assert_int_equal(storage_entitlement_get(f->storage, f->key, &e, &err), 0);
        return e.active;
}

static void test_concurrent_seats(void **state) {
        Fixture *f = *state;
        Worker w[THREADS] = {};
        pthread_t t[THREADS];
        unsigned ok = 0, no_seat = 0, failed = 0;
        Activation *list = NULL;
        size_t n = 0, held = 0;
        CoreError err = {};

        for (unsigned i = 0; i < THREADS; i++) {
                w[i] = (Worker){.f = f, .first = i * MACHINES_PER_THREAD};
                assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
        }
        for (unsigned i = 0; i < THREADS; i++) {
                assert_int_equal(pthread_join(t[i], NULL), 0);
                ok += w[i].ok;
                no_seat += w[i].no_seat;
                failed += w[i].failed;
        }
        assert_int_equal(failed, 0);
        assert_int_equal(ok, SEATS);
        assert_int_equal(no_seat, THREADS * MACHINES_PER_THREAD - SEATS);
        assert_int_equal(active_of(f), SEATS);
        assert_int_equal(storage_activation_list(f->storage, f->key, &list, &n, &err), 0);
        for (size_t i = 0; i < n; i++)
                held += list[i].released == TIME_UNSET;
        assert_int_equal(n, SEATS);
        assert_int_equal(held, SEATS);
        activation_array_free(list, n);
}

/* Takes the database back to schema version 1, as an older licensed-server
 * left it: no active column, no triggers. */
static void downgrade_to_v1(const char *path) {
        sqlite3 *db;

        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
                                      "BEGIN;"
                                      "DROP TABLE trial;"
                                      "ALTER TABLE entitlement DROP COLUMN trial_days;"
                                      "ALTER TABLE entitlement DROP COLUMN deactivation_requires_maintenance;"
                                      "DROP TRIGGER activation_takes_seat;"
                                      "DROP TRIGGER activation_seat_changed;"
                                      "DROP TRIGGER activation_frees_seat;"
                                      "ALTER TABLE entitlement DROP COLUMN active;"
                                      "DROP TABLE admin_token;"
                                      "DROP TABLE portal_release;"
                                      "DROP INDEX entitlement_by_created;"
                                      "DELETE FROM schema_version WHERE version > 1;"
                                      "COMMIT;",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* Entitlement creations in batches: a creation that fails (the key exists)
 * is rolled back alone, the others of its batch are kept. */
typedef struct Creator {
        Fixture *f;
        const char *shared;
        int own, twice;
} Creator;

static void *creator(void *data) {
        Creator *c = data;
        char key[LICENSE_KEY_STRING_SIZE];

        assert_int_equal(license_key_generate(key), 0);
        c->own = create_key(c->f->storage, key, 1);
        c->twice = create_key(c->f->storage, c->shared, 1);
        return NULL;
}

static void test_concurrent_create(void **state) {
        Fixture *f = *state;
        Creator c[THREADS];
        pthread_t t[THREADS];
        char shared[LICENSE_KEY_STRING_SIZE];
        Entitlement *list = NULL;
        size_t n = 0;
        unsigned created = 0, exists = 0;
        CoreError err = {};

        assert_int_equal(license_key_generate(shared), 0);
        for (unsigned i = 0; i < THREADS; i++) {
                c[i] = (Creator){.f = f, .shared = shared};
                assert_int_equal(pthread_create(&t[i], NULL, creator, &c[i]), 0);
        }
        for (unsigned i = 0; i < THREADS; i++) {
                assert_int_equal(pthread_join(t[i], NULL), 0);
                assert_int_equal(c[i].own, 0);
                created += c[i].twice == 0;
                exists += c[i].twice == -EEXIST;
        }
        assert_int_equal(created, 1);
        assert_int_equal(exists, THREADS - 1);
        /* the fixture's key, one per thread, the shared one */
        assert_int_equal(storage_entitlement_list(f->storage, &list, &n, &err), 0);
        assert_int_equal(n, 1 + THREADS + 1);
        entitlement_array_free(list, n);
}

static void test_migration_counts(void **state) {
        Fixture *f = *state;
        CoreError err = {};
        unsigned n;

        for (unsigned m = 0; m < 3; m++)
                assert_int_equal(activate_n(f, m, &err), STORAGE_OK);
        assert_int_equal(storage_release_machine(f->storage, f->key, "00000001000000000000000000000000", T0 + 1,
                                                 &n, &err),
                         0);
        assert_int_equal(active_of(f), 2);

        storage_close(f->storage);
        downgrade_to_v1(f->path);
        f->storage = NULL;
        assert_int_equal(storage_open(f->path, &f->storage, &err), 0);
        /* Filled in from the activations by the migration... */
        assert_int_equal(active_of(f), 2);
        /* ...and kept by the triggers: a released machine back, a new one,
         * one freed by the vendor. */
        assert_int_equal(activate_n(f, 1, &err), STORAGE_OK);
        assert_int_equal(active_of(f), 3);
        assert_int_equal(activate_n(f, 7, &err), STORAGE_OK);
        assert_int_equal(active_of(f), 4);
        assert_int_equal(activate_n(f, 7, &err), STORAGE_OK); /* holds it already */
        assert_int_equal(active_of(f), 4);
        assert_int_equal(storage_release_machine(f->storage, f->key, "00000000000000000000000000000000", T0 + 2,
                                                 &n, &err),
                         0);
        assert_int_equal(active_of(f), 3);
}

/* A trial offer: the policies read back; each machine id gets one trial
 * of the product, whatever its device key; the offer's key does not
 * activate as a key. */
#define TRIAL_CLAIM(k, id, machine)                                                                         \
        (ActivationClaim) {                                                                                 \
                .key = (k), .product = PRODUCT, .license_id = (id), .machine_id = (machine),                 \
                .device_key = "ZGV2aWNla2V5", .nonce = "00112233445566778899aabbccddeeff", .now = T0,         \
                .trial = true,                                                                              \
        }

/* Creates PRODUCT's trial offer (14 days, 10 seats) in offer. */
static void create_trial_offer(Fixture *f, Entitlement *offer) {
        CoreError err = {};

        assert_int_equal(license_key_generate(offer->key), 0);
        offer->license.product = strdup(PRODUCT);
        offer->license.licensee = strdup("Trial");
        offer->license.type = LICENSE_TRIAL;
        offer->license.revision = 1;
        offer->seats = 10;
        offer->trial_days = 14;
        offer->deactivation_requires_maintenance = true;
        assert_int_equal(storage_entitlement_create(f->storage, offer, &err), 0);
}

static void test_trial(void **state) {
        _cleanup_(entitlement_done) Entitlement offer = ENTITLEMENT_INIT, e = ENTITLEMENT_INIT;
        _cleanup_(activation_done) Activation a = {};
        char found[LICENSE_KEY_STRING_SIZE];
        Fixture *f = *state;
        CoreError err = {};
        ActivationClaim c;

        create_trial_offer(f, &offer);
        c = TRIAL_CLAIM(offer.key, "trial-1", MACHINE_A);
        /* the fixture's key is no offer; this one is */
        assert_int_equal(storage_trial_offer(f->storage, "com.example.other", found, &err), -ENOENT);
        assert_int_equal(storage_trial_offer(f->storage, PRODUCT, found, &err), 0);
        assert_string_equal(found, offer.key);
        assert_int_equal(storage_entitlement_get(f->storage, offer.key, &e, &err), 0);
        assert_int_equal(e.trial_days, 14);
        assert_true(e.deactivation_requires_maintenance);
        entitlement_done(&e);

        assert_int_equal(storage_activate(f->storage, &c, &e, &a, &err), STORAGE_OK);
        entitlement_done(&e);
        activation_done(&a);
        /* the same machine id with a new device key (its state wiped) */
        c.license_id = "trial-2";
        c.device_key = "b3RoZXJrZXk=";
        c.now = T0 + 100;
        assert_int_equal(storage_activate(f->storage, &c, &e, &a, &err), STORAGE_TRIAL_USED);
        assert_non_null(strstr(err.message, "this machine had its trial of " PRODUCT " already: it started on "));
        entitlement_done(&e);
        /* another machine may */
        c.machine_id = MACHINE_B;
        assert_int_equal(storage_activate(f->storage, &c, &e, &a, &err), STORAGE_OK);
        entitlement_done(&e);
        activation_done(&a);
        /* the offer's key as a customer's key */
        assert_int_equal(activate(f, offer.key, PRODUCT, MACHINE_C, &e, &a, &err), STORAGE_UNKNOWN_KEY);
}

/* Trials by hardware id: a machine reinstalled (a new machine id, the same
 * hardware id) is refused; other hardware ids are other machines; machines
 * without one (NULL) are told apart by their machine ids alone. */
static void test_trial_hardware_id(void **state) {
        static const char *const hw1 = "0123456789abcdef0123456789abcdef", *const hw2 =
                "fedcba9876543210fedcba9876543210";
        static const struct {
                const char *license_id, *machine_id, *hardware_id;
                int answer;
        } steps[] = {
                {"trial-1", MACHINE_A, hw1, STORAGE_OK},
                /* reinstalled: new machine id, same hardware */
                {"trial-2", MACHINE_B, hw1, STORAGE_TRIAL_USED},
                /* the old machine id on new hardware (a disk moved over) */
                {"trial-3", MACHINE_A, hw2, STORAGE_TRIAL_USED},
                {"trial-4", MACHINE_B, hw2, STORAGE_OK},
                /* no hardware id: two machines, two trials */
                {"trial-5", MACHINE_C, NULL, STORAGE_OK},
                {"trial-6", "dddddddddddddddddddddddddddddddd", NULL, STORAGE_OK},
                {"trial-7", MACHINE_C, NULL, STORAGE_TRIAL_USED},
                /* the machine without one, later with one: still its machine id */
                {"trial-8", MACHINE_C, "00000000000000000000000000000001", STORAGE_TRIAL_USED},
        };
        _cleanup_(entitlement_done) Entitlement offer = ENTITLEMENT_INIT;
        Fixture *f = *state;

        create_trial_offer(f, &offer);
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
                _cleanup_(activation_done) Activation a = {};
                ActivationClaim c = TRIAL_CLAIM(offer.key, steps[i].license_id, steps[i].machine_id);
                CoreError err = {};

                c.hardware_id = steps[i].hardware_id;
                c.device_key = "b3RoZXJrZXk="; /* a new one each time would change nothing */
                c.now = T0 + (int64_t) i;
                print_message("step %zu: %s\n", i, steps[i].license_id);
                assert_int_equal(storage_activate(f->storage, &c, &e, &a, &err), steps[i].answer);
                if (steps[i].answer == STORAGE_TRIAL_USED)
                        assert_non_null(strstr(err.message, "this machine had its trial of " PRODUCT " already"));
        }
}

/* The vendor's trial reset: the machine's trial forgotten, by machine id or
 * hardware id, and its trial license's seat freed, so that its next trial
 * is one again, starting then; nothing found is -ENOENT and changes
 * nothing. */
static void test_trial_reset(void **state) {
        static const char *const hw1 = "0123456789abcdef0123456789abcdef", *const hw2 =
                "fedcba9876543210fedcba9876543210";
        _cleanup_(entitlement_done) Entitlement offer = ENTITLEMENT_INIT, e = ENTITLEMENT_INIT;
        _cleanup_(activation_done) Activation a = {};
        unsigned trials = 99, released = 99;
        Fixture *f = *state;
        CoreError err = {};
        ActivationClaim c;

        create_trial_offer(f, &offer);
        c = TRIAL_CLAIM(offer.key, "trial-a", MACHINE_A);
        c.hardware_id = hw1;
        assert_int_equal(storage_activate(f->storage, &c, &e, &a, &err), STORAGE_OK);
        entitlement_done(&e);
        activation_done(&a);
        c = TRIAL_CLAIM(offer.key, "trial-b", MACHINE_B);
        c.hardware_id = hw2;
        assert_int_equal(storage_activate(f->storage, &c, &e, &a, &err), STORAGE_OK);
        entitlement_done(&e);
        activation_done(&a);

        assert_int_equal(storage_trial_reset(f->storage, PRODUCT, MACHINE_C, NULL, T0 + 5, &trials, &released, &err),
                         -ENOENT);
        assert_string_equal(err.message, "no trial of " PRODUCT " was started with the machine id " MACHINE_C
                                         " (a machine refused after a reinstall is found by its hardware id)");
        assert_int_equal(storage_trial_reset(f->storage, "com.example.other", MACHINE_A, hw1, T0 + 5, &trials,
                                             &released, &err),
                         -ENOENT);
        assert_int_equal(trials, 99);
        assert_int_equal(storage_entitlement_get(f->storage, offer.key, &e, &err), 0);
        assert_int_equal(e.active, 2);
        entitlement_done(&e);

        /* by the machine id: its seat is free, and it starts anew */
        assert_int_equal(storage_trial_reset(f->storage, PRODUCT, MACHINE_A, NULL, T0 + 10, &trials, &released, &err),
                         0);
        assert_int_equal(trials, 1);
        assert_int_equal(released, 1);
        assert_int_equal(storage_activation_get(f->storage, "trial-a", &a, &err), STORAGE_OK);
        assert_int_equal(a.released, T0 + 10);
        activation_done(&a);
        c = TRIAL_CLAIM(offer.key, "trial-a", MACHINE_A);
        c.hardware_id = hw1;
        c.now = T0 + 20;
        assert_int_equal(storage_activate(f->storage, &c, &e, &a, &err), STORAGE_OK);
        assert_int_equal(e.active, 2);
        assert_int_equal(a.activated, T0 + 20); /* the trial's new start: its end is 14 days from it */
        entitlement_done(&e);
        activation_done(&a);
        c.now = T0 + 30;
        assert_int_equal(storage_activate(f->storage, &c, &e, &a, &err), STORAGE_TRIAL_USED);
        entitlement_done(&e);

        /* by the hardware id alone (a reinstalled machine's new id finds nothing) */
        assert_int_equal(storage_trial_reset(f->storage, PRODUCT, NULL, hw2, T0 + 40, &trials, &released, &err), 0);
        assert_int_equal(trials, 1);
        assert_int_equal(released, 1);
        /* both ids, each finding a trial of its own; the second's seat was free already */
        c = TRIAL_CLAIM(offer.key, "trial-c", MACHINE_C);
        c.hardware_id = hw2;
        assert_int_equal(storage_activate(f->storage, &c, &e, &a, &err), STORAGE_OK);
        entitlement_done(&e);
        assert_int_equal(storage_activation_release(f->storage, a.id, "11112222333344445555666677778888", T0 + 45,
                                                    &err),
                         STORAGE_OK);
        activation_done(&a);
        assert_int_equal(storage_trial_reset(f->storage, PRODUCT, MACHINE_A, hw2, T0 + 50, &trials, &released, &err),
                         0);
        assert_int_equal(trials, 2);
        assert_int_equal(released, 1);
        assert_int_equal(storage_entitlement_get(f->storage, offer.key, &e, &err), 0);
        assert_int_equal(e.active, 0);
}

/* The portal page's count of self-service releases in the window, as the
 * release counts them. */
static void test_portal_releases(void **state) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        _cleanup_(activation_done) Activation a = {};
        Fixture *f = *state;
        CoreError err = {};
        int64_t oldest = -1;
        unsigned n = 99;

        assert_int_equal(storage_portal_releases(f->storage, f->key, T0 - 100, &n, &oldest, &err), 0);
        assert_int_equal(n, 0);
        assert_int_equal(oldest, 0);
        for (const char *const *m = (const char *const[]){MACHINE_A, MACHINE_B, NULL}; *m; m++) {
                assert_int_equal(activate(f, f->key, PRODUCT, *m, &e, &a, &err), STORAGE_OK);
                entitlement_done(&e);
                activation_done(&a);
        }
        for (int i = 0; i < 2; i++) {
                PortalReleaseClaim c = {.key = f->key, .machine_id = i ? MACHINE_B : MACHINE_A, .now = T0 + 10 * i,
                                        .since = T0 - 100, .limit = 3};
                unsigned released = 0;

                assert_int_equal(storage_portal_release(f->storage, &c, &released, &oldest, &err), 0);
        }
        assert_int_equal(storage_portal_releases(f->storage, f->key, T0 - 100, &n, &oldest, &err), 0);
        assert_int_equal(n, 2);
        assert_int_equal(oldest, T0);
        /* the window moved past the first */
        assert_int_equal(storage_portal_releases(f->storage, f->key, T0 + 1, &n, &oldest, &err), 0);
        assert_int_equal(n, 1);
        assert_int_equal(oldest, T0 + 10);
        /* another key's count is its own */
        assert_int_equal(storage_portal_releases(f->storage, "00000-00000-00000-00000-00000", T0 - 100, &n, &oldest,
                                                 &err),
                         0);
        assert_int_equal(n, 0);
}

/* The tests that run on any backend, first on SQLite in memory. */
#define BACKEND_TESTS                                                                                       \
        cmocka_unit_test_setup_teardown(test_entitlement, setup, teardown),                                 \
        cmocka_unit_test_setup_teardown(test_activate, setup, teardown),                                    \
        cmocka_unit_test_setup_teardown(test_seat_limit, setup, teardown),                                  \
        cmocka_unit_test_setup_teardown(test_answers, setup, teardown),                                     \
        cmocka_unit_test_setup_teardown(test_release_by_proof, setup, teardown),                            \
        cmocka_unit_test_setup_teardown(test_release_machine, setup, teardown),                             \
        cmocka_unit_test_setup_teardown(test_upgrade, setup, teardown),                                     \
        cmocka_unit_test_setup_teardown(test_validate, setup, teardown),                                    \
        cmocka_unit_test_setup_teardown(test_entitlement_query, setup, teardown),                           \
        cmocka_unit_test_setup_teardown(test_trial, setup, teardown),                                       \
        cmocka_unit_test_setup_teardown(test_trial_hardware_id, setup, teardown),                           \
        cmocka_unit_test_setup_teardown(test_trial_reset, setup, teardown),                                 \
        cmocka_unit_test_setup_teardown(test_portal_releases, setup, teardown)

int main(void) {
        const struct CMUnitTest sqlite_tests[] = {
                BACKEND_TESTS,
                /* SQLite on a file: its pool and group commit, its migration. */
                cmocka_unit_test_setup_teardown(test_concurrent_seats, setup_file, teardown),
                cmocka_unit_test_setup_teardown(test_concurrent_create, setup_file, teardown),
                cmocka_unit_test_setup_teardown(test_migration_counts, setup_file, teardown),
        };
        const struct CMUnitTest postgres_tests[] = {BACKEND_TESTS};
        const char *pg = getenv("LICENSED_TEST_POSTGRES");
        int failed;

        failed = cmocka_run_group_tests_name("sqlite", sqlite_tests, NULL, NULL);
        if (pg && *pg) {
                database = pg;
                failed += cmocka_run_group_tests_name("postgres", postgres_tests, NULL, NULL);
        }
        return failed;
}
