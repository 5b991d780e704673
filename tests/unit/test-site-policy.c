/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* site.conf's reservations and limits: read by site/site-config.c,
 * enforced by site_storage_grant_policy() in the grant's transaction (also
 * after a reopen), and a lease released by the administrator. */
#include <stdlib.h>
#include <unistd.h>

#include "test-util.h"
#include "site-config.h"
#include "site-storage.h"
#include "strutil.h"

#define KEY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define POOL_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define POOL_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char dir[] = "/tmp/test-site-policy.XXXXXX";
static char path[128], conf[128];

static int setup(void **state) {
        if (!mkdtemp(dir))
                return -1;
        snprintf(path, sizeof(path), "%s/site.db", dir);
        snprintf(conf, sizeof(conf), "%s/site.conf", dir);
        return 0;
}

static int teardown(void **state) {
        char cmd[160];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static SiteStorage *open_db(void) {
        SiteStorage *s = NULL;
        assert_int_equal(site_storage_open(path, &s, NULL), 0);
        return s;
}

/* The id of the lease take() asked for last. */
static char last_id[LEASE_ID_STRING_SIZE];

/* One lease for user@host with groups at T0: 1, or 0 with *denial. */
static int take(SiteStorage *s, const SitePool *pools, size_t n, const SitePolicy *policy, const char *user,
                const char *host, const char *groups, SiteDenial *denial, const SiteRule **rule) {
        static unsigned counter;
        _cleanup_(lease_done) Lease l = LEASE_INIT;
        char id[LEASE_ID_STRING_SIZE], machine[LEASE_ID_STRING_SIZE];
        unsigned used, seats;
        int r;

        snprintf(id, sizeof(id), "%032x", ++counter);
        memcpy(last_id, id, sizeof(id));
        snprintf(machine, sizeof(machine), "%032x", counter);
        l = (Lease) {
                .id = strdup(id), .product = strdup("com.example.cad"), .feature = strdup("cad"),
                .machine_id = strdup(machine), .device_key = strdup(KEY), .user = strdup(user),
                .host = strdup(host), .granted = T0, .expires = T0 + 120,
        };
        r = site_storage_grant_policy(s, &l, groups, pools, n, policy, T0, NULL, NULL, &used, &seats, denial, rule,
                                      NULL);
        assert_true(r >= 0);
        return r;
}

static void test_reserve(void **state) {
        SiteRule reserve[] = {{SITE_WHO_USER, (char *) "alice", 1}, {SITE_WHO_GROUP, (char *) "cad", 1}};
        SitePolicy policy = {.reserve = reserve, .n_reserve = 2};
        SitePool pools[] = {{POOL_A, 2}, {POOL_B, 2}}; /* the rules span the pools */
        SiteStorage *s = open_db();
        SiteDenial d;

        assert_int_equal(take(s, pools, 2, &policy, "bob", "ws-1", ",users,", &d, NULL), 1);
        assert_int_equal(take(s, pools, 2, &policy, "carol", "ws-2", ",users,", &d, NULL), 1);
        /* 2 left, both reserved; "cadet" and "xcad" are not "cad" */
        assert_int_equal(take(s, pools, 2, &policy, "dave", "ws-3", ",cadet,xcad,", &d, NULL), 0);
        assert_int_equal(d, SITE_DENIAL_RESERVED);
        /* a restart counts the same */
        site_storage_close(s);
        s = open_db();
        assert_int_equal(take(s, pools, 2, &policy, "erin", "ws-4", ",users,cad,", &d, NULL), 1);
        /* the group's reservation is used now: still one kept for alice */
        assert_int_equal(take(s, pools, 2, &policy, "frank", "ws-5", ",cad,", &d, NULL), 0);
        assert_int_equal(d, SITE_DENIAL_RESERVED);
        assert_int_equal(take(s, pools, 2, &policy, "alice", "ws-6", ",", &d, NULL), 1);
        assert_int_equal(take(s, pools, 2, &policy, "alice", "ws-7", ",", &d, NULL), 0);
        assert_int_equal(d, SITE_DENIAL_ALL_IN_USE);
        site_storage_close(s);
        assert_int_equal(unlink(path), 0);
}

static void test_max_and_release(void **state) {
        SiteRule max[] = {{SITE_WHO_HOST, (char *) "kiosk", 1}, {SITE_WHO_GROUP, (char *) "interns", 0}};
        SitePolicy policy = {.max = max, .n_max = 2};
        SitePool pool = {POOL_A, 5};
        SiteStorage *s = open_db();
        _cleanup_(lease_done) Lease released = LEASE_INIT;
        const SiteRule *rule = NULL;
        char bobs[LEASE_ID_STRING_SIZE];
        SiteDenial d;

        assert_int_equal(take(s, &pool, 1, &policy, "bob", "kiosk", ",", &d, NULL), 1);
        memcpy(bobs, last_id, sizeof(bobs));
        assert_int_equal(take(s, &pool, 1, &policy, "carol", "kiosk", ",", &d, &rule), 0);
        assert_int_equal(d, SITE_DENIAL_MAX);
        assert_ptr_equal(rule, &max[0]);
        assert_int_equal(take(s, &pool, 1, &policy, "ivy", "ws-1", ",staff,interns,", &d, &rule), 0);
        assert_ptr_equal(rule, &max[1]);
        /* no policy: only the seats */
        assert_int_equal(take(s, &pool, 1, NULL, "ivy", "ws-2", ",interns,", &d, NULL), 1);

        /* released by id, whoever holds it; a second time there is none */
        assert_int_equal(site_storage_release(s, bobs, &released, NULL), 1);
        assert_string_equal(released.user, "bob");
        assert_int_equal(site_storage_release(s, bobs, &released, NULL), 0);
        assert_int_equal(take(s, &pool, 1, &policy, "carol", "kiosk", ",", &d, NULL), 1);
        site_storage_close(s);
        assert_int_equal(unlink(path), 0);
}

static void test_heartbeat_once(void **state) {
        SitePool pool = {POOL_A, 1};
        SiteStorage *s = open_db();
        _cleanup_(lease_done) Lease got = LEASE_INIT, again = LEASE_INIT;
        char machine[LEASE_ID_STRING_SIZE];
        SiteDenial d;

        assert_int_equal(take(s, &pool, 1, NULL, "bob", "ws-1", ",", &d, NULL), 1);
        memcpy(machine, last_id, sizeof(machine)); /* take() gives the machine the lease's number */
        assert_int_equal(site_storage_heartbeat(s, "00112233445566778899aabbccddeeff", 600, last_id, machine, T0 + 60,
                                                T0 + 180, &got, NULL),
                         1);
        assert_int_equal(got.expires, T0 + 180);
        /* the same nonce again: a replay, nothing renewed */
        assert_int_equal(site_storage_heartbeat(s, "00112233445566778899aabbccddeeff", 600, last_id, machine, T0 + 61,
                                                T0 + 300, &again, NULL),
                         -EALREADY);
        assert_null(again.id);
        /* a fresh one renews; another machine's renews nothing */
        assert_int_equal(site_storage_heartbeat(s, "ffeeddccbbaa99887766554433221100", 600, last_id,
                                                "ffffffffffffffffffffffffffffffff", T0 + 62, T0 + 300, &again, NULL),
                         0);
        site_storage_close(s);
        assert_int_equal(unlink(path), 0);
}

static void write_conf(const char *text) {
        FILE *f = fopen(conf, "we");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

static void test_config(void **state) {
        _cleanup_(site_config_done) SiteConfig c = SITE_CONFIG_INIT;
        const SiteFeatureConfig *f;
        CoreError err = {};

        write_conf("show_holders = true;\nborrow_max = \"3d\";\n"
                   "features = ( { product = \"p\"; feature = \"f\";\n"
                   "  reserve = ( { user = \"alice\"; seats = 1; }, { host = \"ws-17\"; seats = 2; } );\n"
                   "  max = ( { group = \"interns\"; seats = 0; } ); } );\n");
        assert_int_equal(site_config_load(&c, conf, &err), 0);
        assert_true(c.show_holders && c.any_group);
        assert_int_equal(c.borrow_max, 3 * SEC_PER_DAY);
        assert_int_equal(c.lease_ttl, SITE_CONFIG_UNSET);
        assert_null(c.listen);
        f = site_config_find(&c, "p", "f");
        assert_non_null(f);
        assert_null(site_config_find(&c, "p", "g"));
        assert_int_equal(f->n_reserve, 2);
        assert_int_equal(f->reserve[1].who, SITE_WHO_HOST);
        assert_string_equal(f->reserve[1].name, "ws-17");
        assert_int_equal(f->reserve[1].seats, 2);
        assert_int_equal(f->n_max, 1);
        assert_int_equal(f->max[0].who, SITE_WHO_GROUP);

        /* A bad file: an error with its line, and c as it was. */
        write_conf("features = ( { product = \"p\"; feature = \"f\"; },\n"
                   "             { product = \"p\"; feature = \"f\"; } );\n");
        assert_int_equal(site_config_load(&c, conf, &err), -EINVAL);
        assert_non_null(strstr(core_error_message(&err, -EINVAL), "site.conf:2: feature f of p is configured twice"));
        err = (CoreError) {};
        write_conf("features = ( { product = \"p\"; feature = \"f\"; max = ( { group = \"a,b\"; seats = 1; } ); } );\n");
        assert_int_equal(site_config_load(&c, conf, &err), -EINVAL);
        assert_non_null(strstr(core_error_message(&err, -EINVAL), "group must be a name without commas"));
        err = (CoreError) {};
        assert_true(c.show_holders);
        assert_non_null(site_config_find(&c, "p", "f"));

        /* A missing file: the defaults, c untouched. */
        assert_int_equal(unlink(conf), 0);
        assert_int_equal(site_config_load(&c, conf, &err), 0);
        assert_true(c.show_holders);
}

static void test_user_groups(void **state) {
        _cleanup_free_ char *root = NULL, *nobody = NULL;

        assert_int_equal(site_user_groups("root", &root), 0);
        assert_non_null(strstr(root, ",root,"));
        assert_int_equal(root[0], ',');
        assert_int_equal(site_user_groups("no-such-user-here", &nobody), 0);
        assert_string_equal(nobody, ",");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reserve),
                cmocka_unit_test(test_max_and_release),
                cmocka_unit_test(test_heartbeat_once),
                cmocka_unit_test(test_config),
                cmocka_unit_test(test_user_groups),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
