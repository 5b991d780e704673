/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The start image's format (core/start-image.c): licenses and their states
 * read back as written, byte for byte when written again; and every
 * truncation, every flipped bit, and a well-checked image with a bad field
 * is refused, never read as a smaller or different set. */
#include "start-image.h"
#include "test-util.h"

static const StartImageSource source = {.dev = 1, .ino = 2, .mtime_ns = 3, .ctime_ns = 4, .made_from = {5, 6}};

/* Two licenses: a plain one and one with every optional field set. */
static void make_licenses(License l[2], LicenseState st[2]) {
        l[0] = (License) LICENSE_INIT;
        l[0].id = strdup("lic-1");
        l[0].product = strdup("com.example.app");
        l[0].type = LICENSE_PERPETUAL;
        l[0].issued = 1000;
        st[0] = (LicenseState) {.installed = 7, .last_validation = -1};

        l[1] = (License) LICENSE_INIT;
        l[1].id = strdup("lic-2");
        l[1].revision = 3;
        l[1].product = strdup("com.example.app");
        l[1].licensee = strdup("ACME Corp");
        l[1].type = LICENSE_SUBSCRIPTION;
        l[1].not_after = 2000;
        l[1].key = strdup("KEY-1");
        l[1].machine_id = strdup("0123456789abcdef0123456789abcdef");
        l[1].device_key = strdup("ZGV2aWNl");
        l[1].nonce = strdup("00ff");
        l[1].server_url = strdup("https://licensing.example");
        l[1].validation_interval = 86400;
        l[1].grace_period = 0;
        assert_int_equal(license_add_feature(&l[1], "reports", -1, 0, NULL), 0);
        assert_int_equal(license_add_feature(&l[1], "seats", 1500, 5, NULL), 0);
        assert_int_equal(license_set_property(&l[1], "edition", "Enterprise", NULL), 0);
        st[1] = (LicenseState) {.installed = 8, .last_validation = 9, .last_attempt = 10, .revoked = true,
                                .warned_days_left = 3};
        strcpy(st[1].validation_nonce, "0123456789abcdef0123456789abcdef");
        strcpy(st[1].announced, "grace");
        st[1].last_error = strdup("the server said no");
}

static void write_image(const License l[2], const LicenseState st[2], void **ret, size_t *ret_size) {
        static const uint8_t digests[2][START_IMAGE_DIGEST_SIZE] = {{1}, {2, 3}};
        StartImageWriter w;

        start_image_writer_begin(&w, &source);
        for (size_t i = 0; i < 2; i++)
                start_image_writer_add(&w, digests[i], &l[i], &st[i]);
        assert_int_equal(start_image_writer_finish(&w, ret, ret_size), 0);
}

typedef struct Collected {
        License l[4];
        LicenseState st[4];
        uint8_t digests[4][START_IMAGE_DIGEST_SIZE];
        size_t n;
} Collected;

static int collect(const uint8_t digest[static START_IMAGE_DIGEST_SIZE], License *l, const Product *p,
                   LicenseState *st, void *userdata) {
        Collected *c = userdata;

        assert_true(c->n < 4);
        memcpy(c->digests[c->n], digest, START_IMAGE_DIGEST_SIZE);
        c->l[c->n] = *l;
        license_init(l);
        c->st[c->n] = *st;
        c->n++;
        return 0;
}

static void collected_done(Collected *c) {
        for (size_t i = 0; i < c->n; i++) {
                license_done(&c->l[i]);
                free(c->st[i].last_error);
        }
        c->n = 0;
}

/* A copy in a buffer of exactly size bytes, so ASan sees any overread. */
static int parse_copy(const void *data, size_t size, Collected *c) {
        _cleanup_free_ void *copy = malloc(size ?: 1);
        StartImageSource src;
        uint64_t count;
        int r;

        assert_non_null(copy);
        memcpy(copy, data, size);
        r = start_image_parse(copy, size, &src, &count, NULL, collect, c);
        if (r >= 0) {
                assert_memory_equal(&src, &source, sizeof(src));
                assert_int_equal(count, c->n);
        }
        return r;
}

static void test_round_trip(void **state) {
        License l[2];
        LicenseState st[2];
        _cleanup_free_ void *data = NULL, *again = NULL;
        size_t size, again_size;
        Collected c = {};
        StartImageWriter w;

        make_licenses(l, st);
        write_image(l, st, &data, &size);
        assert_int_equal(parse_copy(data, size, &c), 0);
        assert_int_equal(c.n, 2);
        assert_string_equal(c.l[0].id, "lic-1");
        assert_null(c.l[0].licensee);
        assert_null(c.st[0].last_error);
        assert_int_equal(c.l[1].revision, 3);
        assert_int_equal(c.l[1].type, LICENSE_SUBSCRIPTION);
        assert_int_equal(c.l[1].n_features, 2);
        assert_string_equal(c.l[1].features[1].name, "seats");
        assert_int_equal(c.l[1].features[1].limit, 5);
        assert_int_equal(c.l[1].features[1].expires, 1500);
        assert_string_equal(c.l[1].properties[0].value, "Enterprise");
        assert_string_equal(c.l[1].server_url, "https://licensing.example");
        assert_true(c.st[1].revoked);
        assert_string_equal(c.st[1].announced, "grace");
        assert_string_equal(c.st[1].validation_nonce, "0123456789abcdef0123456789abcdef");
        assert_string_equal(c.st[1].last_error, "the server said no");
        assert_int_equal(c.st[1].warned_days_left, 3);
        assert_int_equal(c.digests[1][1], 3);

        /* Written again from what was read: the same bytes. */
        start_image_writer_begin(&w, &source);
        for (size_t i = 0; i < c.n; i++)
                start_image_writer_add(&w, c.digests[i], &c.l[i], &c.st[i]);
        assert_int_equal(start_image_writer_finish(&w, &again, &again_size), 0);
        assert_int_equal(again_size, size);
        assert_memory_equal(again, data, size);

        collected_done(&c);
        for (size_t i = 0; i < 2; i++) {
                license_done(&l[i]);
                free(st[i].last_error);
        }
}

static void test_empty(void **state) {
        _cleanup_free_ void *data = NULL;
        StartImageWriter w;
        Collected c = {};
        size_t size;

        start_image_writer_begin(&w, &source);
        assert_int_equal(start_image_writer_finish(&w, &data, &size), 0);
        assert_int_equal(parse_copy(data, size, &c), 0);
        assert_int_equal(c.n, 0);
}

static void test_every_truncation_and_flip_is_refused(void **state) {
        License l[2];
        LicenseState st[2];
        _cleanup_free_ uint8_t *data = NULL;
        size_t size;

        make_licenses(l, st);
        write_image(l, st, (void **) &data, &size);
        for (size_t n = 0; n < size; n++) {
                Collected c = {};
                assert_int_equal(parse_copy(data, n, &c), -EBADMSG);
                assert_int_equal(c.n, 0);
        }
        for (size_t i = 0; i < size; i++)
                for (unsigned bit = 0; bit < 8; bit++) {
                        Collected c = {};
                        data[i] ^= 1u << bit;
                        assert_int_equal(parse_copy(data, size, &c), -EBADMSG);
                        assert_int_equal(c.n, 0);
                        data[i] ^= 1u << bit;
                }
        for (size_t i = 0; i < 2; i++) {
                license_done(&l[i]);
                free(st[i].last_error);
        }
}

/* The check is right but a field is not: an image the writer would not
 * have made from valid licenses is refused all the same. */
static void test_bad_fields_are_refused(void **state) {
        static const char *const bad_ids[] = {"", "no spaces", "-lead"};
        License l[2];
        LicenseState st[2];

        make_licenses(l, st);
        for (size_t k = 0; k < ELEMENTSOF(bad_ids) + 2; k++) {
                _cleanup_free_ void *data = NULL;
                char *saved_id = l[0].id, *saved_name = l[1].features[0].name;
                Collected c = {};
                size_t size;

                if (k < ELEMENTSOF(bad_ids))
                        l[0].id = (char *) bad_ids[k];
                else if (k == ELEMENTSOF(bad_ids))
                        l[1].features[0].name = (char *) "Upper Case";
                else
                        l[0].id = NULL; /* required */
                write_image(l, st, &data, &size);
                assert_int_equal(parse_copy(data, size, &c), -EBADMSG);
                assert_int_equal(c.n, 0);
                l[0].id = saved_id;
                l[1].features[0].name = saved_name;
        }
        for (size_t i = 0; i < 2; i++) {
                license_done(&l[i]);
                free(st[i].last_error);
        }
}

typedef struct Shared {
        const Product *want;
        const char *machine_id;
        unsigned n;
} Shared;

static int check_shared(const uint8_t digest[static START_IMAGE_DIGEST_SIZE], License *l, const Product *p,
                        LicenseState *st, void *userdata) {
        Shared *sh = userdata;

        assert_ptr_equal(p, sh->want);
        assert_ptr_equal(l->product, sh->want->id);
        if (l->machine_id)
                assert_ptr_equal(l->machine_id, sh->machine_id);
        assert_non_null(l->arena);
        sh->n++;
        license_done(l);
        free(st->last_error);
        return 0;
}

/* Strings equal to a shared one point there, the product is the set's, and
 * a product missing from the set refuses the image. */
static void test_shared_strings_and_products(void **state) {
        static const char machine_id[] = "0123456789abcdef0123456789abcdef";
        Product products[2] = {{.id = (char *) "com.example.other"}, {.id = (char *) "com.example.app"}};
        ProductSet set = {.products = products, .n_products = 2}, other = {.products = products, .n_products = 1};
        Shared sh = {.want = &products[1], .machine_id = machine_id};
        License l[2];
        LicenseState st[2];
        _cleanup_free_ void *data = NULL;
        size_t size;

        make_licenses(l, st);
        write_image(l, st, &data, &size);
        assert_int_equal(start_image_parse(data, size, NULL, NULL,
                                           &(StartImageShared) {.shared = (const char *const[]) {machine_id, NULL},
                                                                .products = &set},
                                           check_shared, &sh),
                         0);
        assert_int_equal(sh.n, 2);
        sh.n = 0;
        assert_int_equal(start_image_parse(data, size, NULL, NULL, &(StartImageShared) {.products = &other},
                                           check_shared, &sh),
                         -EBADMSG);
        assert_int_equal(sh.n, 0);
        for (size_t i = 0; i < 2; i++) {
                license_done(&l[i]);
                free(st[i].last_error);
        }
}

static int refuse_second(const uint8_t digest[static START_IMAGE_DIGEST_SIZE], License *l, const Product *p,
                         LicenseState *st, void *userdata) {
        unsigned *n = userdata;

        license_done(l);
        free(st->last_error);
        return ++*n == 2 ? -EEXIST : 0;
}

static void test_callback_failure_stops(void **state) {
        License l[2];
        LicenseState st[2];
        _cleanup_free_ void *data = NULL;
        unsigned n = 0;
        size_t size;

        make_licenses(l, st);
        write_image(l, st, &data, &size);
        assert_int_equal(start_image_parse(data, size, NULL, NULL, NULL, refuse_second, &n), -EEXIST);
        assert_int_equal(n, 2);
        for (size_t i = 0; i < 2; i++) {
                license_done(&l[i]);
                free(st[i].last_error);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_every_truncation_and_flip_is_refused),
                cmocka_unit_test(test_bad_fields_are_refused),
                cmocka_unit_test(test_callback_failure_stops),
                cmocka_unit_test(test_shared_strings_and_products),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
