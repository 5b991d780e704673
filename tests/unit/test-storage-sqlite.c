/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SQLite backend on a file, where it has a pool of reading connections
 * and group-commits its writes (server/sqlite-pool.h): many threads taking
 * seats of one key at once never take more than its seats, and the count
 * of active seats the entitlement keeps (migration 2) is right, both when
 * migration 2 fills it in from the activations of an older database and
 * as seats are taken and freed afterwards. */
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

#include "test-util.h"
#include "license-key.h"
#include "storage.h"

#define PRODUCT "com.example.app"
#define THREADS 16
#define MACHINES_PER_THREAD 5
#define SEATS 5

typedef struct Fixture {
        char dir[64];
        char path[96];
        Storage *storage;
        char key[LICENSE_KEY_STRING_SIZE];
} Fixture;

static int setup(void **state) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        Fixture *f = calloc(1, sizeof(*f));
        CoreError err = {};

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/test-storage-sqlite.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/server.db", f->dir);
        assert_int_equal(storage_open(f->path, &f->storage, &err), 0);
        assert_int_equal(license_key_generate(f->key), 0);
        memcpy(e.key, f->key, sizeof(e.key));
        e.license.product = strdup(PRODUCT);
        e.license.licensee = strdup("ACME Corp");
        e.license.type = LICENSE_PERPETUAL;
        e.license.revision = 1;
        e.seats = SEATS;
        assert_int_equal(storage_entitlement_create(f->storage, &e, &err), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        char p[128];

        storage_close(f->storage);
        for (const char *const *suffix = (const char *const[]){"", "-wal", "-shm", NULL}; *suffix; suffix++) {
                snprintf(p, sizeof(p), "%s%s", f->path, *suffix);
                (void) unlink(p);
        }
        assert_int_equal(rmdir(f->dir), 0);
        free(f);
        return 0;
}

static int activate(Fixture *f, unsigned machine, CoreError *err) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        _cleanup_(activation_done) Activation a = {};
        char machine_id[33], license_id[32];

        snprintf(machine_id, sizeof(machine_id), "%032x", machine);
        snprintf(license_id, sizeof(license_id), "lic-%u", machine);
        return storage_activate(f->storage,
                                &(ActivationClaim){
                                        .key = f->key,
                                        .product = PRODUCT,
                                        .license_id = license_id,
                                        .machine_id = machine_id,
                                        .device_key = "ZGV2aWNla2V5",
                                        .nonce = "00112233445566778899aabbccddeeff",
                                        .now = T0,
                                },
                                &e, &a, err);
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
                int r = activate(w->f, w->first + i, &err);

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
                                      "DROP TRIGGER activation_takes_seat;"
                                      "DROP TRIGGER activation_seat_changed;"
                                      "DROP TRIGGER activation_frees_seat;"
                                      "ALTER TABLE entitlement DROP COLUMN active;"
                                      "DELETE FROM schema_version WHERE version > 1;"
                                      "COMMIT;",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void test_migration_counts(void **state) {
        Fixture *f = *state;
        CoreError err = {};
        unsigned n;

        for (unsigned m = 0; m < 3; m++)
                assert_int_equal(activate(f, m, &err), STORAGE_OK);
        assert_int_equal(storage_release_machine(f->storage, f->key, "00000000000000000000000000000001", T0 + 1,
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
        assert_int_equal(activate(f, 1, &err), STORAGE_OK);
        assert_int_equal(active_of(f), 3);
        assert_int_equal(activate(f, 7, &err), STORAGE_OK);
        assert_int_equal(active_of(f), 4);
        assert_int_equal(activate(f, 7, &err), STORAGE_OK); /* holds it already */
        assert_int_equal(active_of(f), 4);
        assert_int_equal(storage_release_machine(f->storage, f->key, "00000000000000000000000000000000", T0 + 2,
                                                 &n, &err),
                         0);
        assert_int_equal(active_of(f), 3);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_concurrent_seats, setup, teardown),
                cmocka_unit_test_setup_teardown(test_migration_counts, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
