/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* site/site-storage.c: seats counted in the database, never more than the
 * pools hold, also after the database is closed and opened again (a
 * restart); expiry, renewal, return, tokens, nonces. */
#include <stdlib.h>
#include <unistd.h>

#include "test-util.h"
#include "site-storage.h"
#include "strutil.h"

#define CLIENT "0123456789abcdef0123456789abcdef"
#define KEY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define POOL_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define POOL_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char dir[] = "/tmp/test-site-storage.XXXXXX";
static char path[128];

static int setup(void **state) {
        if (!mkdtemp(dir))
                return -1;
        snprintf(path, sizeof(path), "%s/site.db", dir);
        return 0;
}

static int teardown(void **state) {
        char cmd[160];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static SiteStorage *fresh(void) {
        SiteStorage *s = NULL;
        char wal[160], shm[160];

        snprintf(wal, sizeof(wal), "%s-wal", path);
        snprintf(shm, sizeof(shm), "%s-shm", path);
        (void) unlink(path);
        (void) unlink(wal);
        (void) unlink(shm);
        assert_int_equal(site_storage_open(path, &s, NULL), 0);
        return s;
}

static SiteStorage *reopen(SiteStorage *s) {
        site_storage_close(s);
        s = NULL;
        assert_int_equal(site_storage_open(path, &s, NULL), 0);
        return s;
}

/* Asks for one lease at now: 1 granted, 0 all in use. */
static int take(SiteStorage *s, const SitePool *pools, size_t n, int64_t now, int64_t ttl, unsigned *used,
                unsigned *seats, char **ret_license) {
        static unsigned counter;
        _cleanup_(lease_done) Lease l = LEASE_INIT;
        char id[LEASE_ID_STRING_SIZE];
        int r;

        snprintf(id, sizeof(id), "%032x", ++counter);
        l = (Lease) {
                .id = strdup(id), .product = strdup("com.example.cad"), .feature = strdup("cad"),
                .machine_id = strdup(CLIENT), .device_key = strdup(KEY), .user = strdup("alice"),
                .host = strdup("ws"), .granted = now, .expires = now + ttl,
        };
        r = site_storage_grant(s, &l, pools, n, now, NULL, NULL, used, seats, NULL);
        assert_true(r >= 0);
        if (ret_license)
                *ret_license = r > 0 ? strdup(l.license) : NULL;
        return r;
}

static void test_seats_across_reopen(void **state) {
        SiteStorage *s = fresh();
        SitePool pool = {POOL_A, 3};
        unsigned used, seats;

        for (int i = 0; i < 3; i++)
                assert_int_equal(take(s, &pool, 1, T0, 120, &used, &seats, NULL), 1);
        assert_int_equal(used, 3);
        assert_int_equal(seats, 3);
        assert_int_equal(take(s, &pool, 1, T0, 120, &used, &seats, NULL), 0);

        /* A restart reads them back. */
        s = reopen(s);
        assert_int_equal(take(s, &pool, 1, T0 + 60, 120, &used, &seats, NULL), 0);
        assert_int_equal(used, 3);
        /* At their expiry they are gone. */
        assert_int_equal(take(s, &pool, 1, T0 + 120, 120, &used, &seats, NULL), 1);
        assert_int_equal(used, 1);
        site_storage_close(s);
}

static void test_pools(void **state) {
        SiteStorage *s = fresh();
        SitePool pools[] = {{POOL_A, 1}, {POOL_B, 2}};
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
        unsigned used, seats;

        assert_int_equal(take(s, pools, 2, T0, 120, &used, &seats, &a), 1);
        assert_int_equal(take(s, pools, 2, T0, 120, &used, &seats, &b), 1);
        assert_int_equal(take(s, pools, 2, T0, 120, &used, &seats, &c), 1);
        assert_string_equal(a, POOL_A);
        assert_string_equal(b, POOL_B);
        assert_string_equal(c, POOL_B);
        assert_int_equal(used, 3);
        assert_int_equal(seats, 3);
        assert_int_equal(take(s, pools, 2, T0, 120, &used, &seats, NULL), 0);
        site_storage_close(s);
}

static void count_expired(const Lease *l, void *userdata) {
        assert_string_equal(l->feature, "cad");
        (*(unsigned *) userdata)++;
}

static void test_renew_return_expire(void **state) {
        SiteStorage *s = fresh();
        SitePool pool = {POOL_A, 2};
        _cleanup_(lease_done) Lease got = LEASE_INIT;
        unsigned used, seats, expired = 0, n;
        Lease *list = NULL;
        size_t n_list = 0;

        assert_int_equal(take(s, &pool, 1, T0, 100, &used, &seats, NULL), 1); /* id ...1 of this test */
        assert_int_equal(take(s, &pool, 1, T0, 100, &used, &seats, NULL), 1);
        assert_int_equal(site_storage_list(s, T0, &list, &n_list, NULL), 0);
        assert_int_equal(n_list, 2);
        /* Renew the first one; another client cannot. */
        assert_int_equal(site_storage_renew(s, list[0].id, "ffffffffffffffffffffffffffffffff", T0 + 50, T0 + 150,
                                            &got, NULL),
                         0);
        assert_int_equal(site_storage_renew(s, list[0].id, CLIENT, T0 + 50, T0 + 150, &got, NULL), 1);
        assert_int_equal(got.expires, T0 + 150);
        assert_string_equal(got.license, POOL_A);
        /* At T0 + 100 the second one ended: told once, then gone. */
        assert_int_equal(site_storage_expire(s, T0 + 100, count_expired, &expired, NULL), 1);
        assert_int_equal(expired, 1);
        assert_int_equal(site_storage_count(s, POOL_A, "cad", T0 + 100, &n, NULL), 0);
        assert_int_equal(n, 1);
        /* A late heartbeat does not bring it back. */
        lease_done(&got);
        assert_int_equal(site_storage_renew(s, list[1].id, CLIENT, T0 + 101, T0 + 201, &got, NULL), 0);
        /* Returned: gone; twice: nothing. */
        assert_int_equal(site_storage_return(s, list[0].id, CLIENT, NULL), 1);
        assert_int_equal(site_storage_return(s, list[0].id, CLIENT, NULL), 0);
        assert_int_equal(site_storage_count(s, POOL_A, "cad", T0 + 100, &n, NULL), 0);
        assert_int_equal(n, 0);
        for (size_t i = 0; i < n_list; i++)
                lease_done(&list[i]);
        free(list);
        site_storage_close(s);
}

static void test_tokens_and_nonces(void **state) {
        SiteStorage *s = fresh();
        unsigned clients = 0;

        assert_int_equal(site_storage_add_token(s, "abababababababababababababababab", T0 + 100, NULL), 0);
        assert_int_equal(site_storage_client_is_enrolled(s, CLIENT, KEY, NULL), 0);
        /* expired */
        assert_int_equal(site_storage_enrol(s, "abababababababababababababababab", CLIENT, KEY, "ws", T0 + 100, NULL),
                         0);
        assert_int_equal(site_storage_add_token(s, "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", T0 + 100, NULL), 0);
        assert_int_equal(site_storage_enrol(s, "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", CLIENT, KEY, "ws", T0, NULL), 1);
        /* once */
        assert_int_equal(site_storage_enrol(s, "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", CLIENT, KEY, "ws", T0, NULL), 0);
        assert_int_equal(site_storage_client_is_enrolled(s, CLIENT, KEY, NULL), 1);
        assert_int_equal(site_storage_client_is_enrolled(s, CLIENT, "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=", NULL),
                         0);
        assert_int_equal(site_storage_clients(s, &clients, NULL), 0);
        assert_int_equal(clients, 1);

        assert_int_equal(site_storage_use_nonce(s, "00112233445566778899aabbccddeeff", T0, 600, NULL), 1);
        assert_int_equal(site_storage_use_nonce(s, "00112233445566778899aabbccddeeff", T0 + 10, 600, NULL), 0);
        /* forgotten after the window */
        assert_int_equal(site_storage_use_nonce(s, "00112233445566778899aabbccddeeff", T0 + 601, 600, NULL), 1);
        site_storage_close(s);
}

/* An administrator token enrols an administrator; a plain one, later,
 * takes it away. A client releases its own lease only, an administrator
 * any (site_storage_release_by(NULL)). */
static void test_admins_and_release(void **state) {
        SitePool pool = {.digest = POOL_A, .seats = 2};
        _cleanup_(lease_done) Lease got = LEASE_INIT;
        SiteAdmin *admins = NULL;
        Lease *list = NULL;
        size_t n_admins = 0, n_list = 0;
        unsigned used, seats;
        SiteStorage *s = fresh();

        assert_int_equal(site_storage_add_token_admin(s, "abababababababababababababababab", T0 + 100, true, NULL), 0);
        assert_int_equal(site_storage_enrol(s, "abababababababababababababababab", CLIENT, KEY, "ws", T0, NULL), 1);
        assert_int_equal(site_storage_client_is_admin(s, CLIENT, NULL), 1);
        assert_int_equal(site_storage_client_is_admin(s, "ffffffffffffffffffffffffffffffff", NULL), 0);
        assert_int_equal(site_storage_admins(s, &admins, &n_admins, NULL), 0);
        assert_int_equal(n_admins, 1);
        assert_string_equal(admins[0].machine_id, CLIENT);
        assert_string_equal(admins[0].host, "ws");
        site_admin_free_many(admins, n_admins);
        /* An expired administrator token changes nothing. */
        assert_int_equal(site_storage_add_token(s, "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", T0 + 100, NULL), 0);
        assert_int_equal(site_storage_enrol(s, "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", CLIENT, KEY, "ws", T0 + 100, NULL),
                         0);
        assert_int_equal(site_storage_client_is_admin(s, CLIENT, NULL), 1);
        assert_int_equal(site_storage_add_token(s, "efefefefefefefefefefefefefefefef", T0 + 100, NULL), 0);
        assert_int_equal(site_storage_enrol(s, "efefefefefefefefefefefefefefefef", CLIENT, KEY, "ws", T0, NULL), 1);
        assert_int_equal(site_storage_client_is_admin(s, CLIENT, NULL), 0);
        assert_int_equal(site_storage_admins(s, &admins, &n_admins, NULL), 0);
        assert_int_equal(n_admins, 0);
        free(admins);

        assert_int_equal(take(s, &pool, 1, T0, 100, &used, &seats, NULL), 1);
        assert_int_equal(site_storage_list_of(s, T0, CLIENT, &list, &n_list, NULL), 0);
        assert_int_equal(n_list, 1);
        assert_int_equal(site_storage_release_by(s, list[0].id, "ffffffffffffffffffffffffffffffff", &got, NULL),
                         -EPERM);
        lease_done(&got);
        assert_int_equal(site_storage_count(s, POOL_A, "cad", T0, &used, NULL), 0);
        assert_int_equal(used, 1);
        assert_int_equal(site_storage_release_by(s, list[0].id, CLIENT, &got, NULL), 1);
        assert_string_equal(got.host, "ws");
        assert_int_equal(site_storage_release_by(s, list[0].id, NULL, &got, NULL), 0);
        for (size_t i = 0; i < n_list; i++)
                lease_done(&list[i]);
        free(list);
        assert_int_equal(site_storage_list_of(s, T0, "ffffffffffffffffffffffffffffffff", &list, &n_list, NULL), 0);
        assert_int_equal(n_list, 0);
        free(list);
        site_storage_close(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_seats_across_reopen),
                cmocka_unit_test(test_pools),
                cmocka_unit_test(test_renew_return_expire),
                cmocka_unit_test(test_tokens_and_nonces),
                cmocka_unit_test(test_admins_and_release),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
