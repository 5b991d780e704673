/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/stat.h>

#include "crypto.h"
#include "key-file.h"
#include "test-files.h"

static int setup(void **state) {
        return test_tmpdir_setup(state, "test-key-file");
}

static void test_save_load(void **state) {
        const TestState *st = *state;
        _cleanup_pkey_ EVP_PKEY *key = NULL, *loaded = NULL;
        _cleanup_free_ char *path = NULL;
        char id[KEY_ID_STRING_SIZE], loaded_id[KEY_ID_STRING_SIZE];
        struct stat sb;

        assert_true(asprintf(&path, "%s/device.key", st->tmpdir) > 0);
        assert_int_equal(ed25519_generate(&key), 0);
        assert_int_equal(ed25519_save_private(key, path, NULL), 0);
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(sb.st_mode & 07777, 0600);

        assert_int_equal(ed25519_load_private(path, &loaded, NULL), 0);
        assert_int_equal(key_id_from_key(key, id), 0);
        assert_int_equal(key_id_from_key(loaded, loaded_id), 0);
        assert_string_equal(id, loaded_id);
        assert_int_equal(unlink(path), 0);
}

static void test_load_refuses(void **state) {
        const TestState *st = *state;
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        _cleanup_free_ char *path = NULL, *notpem = NULL, *missing = NULL;
        EVP_PKEY *none = NULL;
        CoreError err = {};

        /* readable by others */
        assert_true(asprintf(&path, "%s/open.key", st->tmpdir) > 0);
        assert_int_equal(ed25519_generate(&key), 0);
        assert_int_equal(ed25519_save_private(key, path, NULL), 0);
        assert_int_equal(chmod(path, 0644), 0);
        assert_int_equal(ed25519_load_private(path, &none, &err), -EPERM);
        assert_null(none);
        assert_contains(err.message, "is readable by others (mode 0644); chmod 0600 it");
        assert_int_equal(unlink(path), 0);

        /* not a key */
        notpem = test_write_tmp(st, "notpem.key", "hello\n");
        assert_int_equal(chmod(notpem, 0600), 0);
        err = (CoreError){};
        assert_int_equal(ed25519_load_private(notpem, &none, &err), -EBADMSG);
        assert_contains(err.message, "is not a PEM private key");
        assert_int_equal(unlink(notpem), 0);

        assert_true(asprintf(&missing, "%s/missing.key", st->tmpdir) > 0);
        err = (CoreError){};
        assert_int_equal(ed25519_load_private(missing, &none, &err), -ENOENT);
        assert_has_prefix(err.message, "cannot open private key ");
        assert_null(none);
}

static void test_save_fails(void **state) {
        const TestState *st = *state;
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        _cleanup_free_ char *path = NULL;
        CoreError err = {};

        assert_true(asprintf(&path, "%s/missing/device.key", st->tmpdir) > 0);
        assert_int_equal(ed25519_generate(&key), 0);
        assert_int_equal(ed25519_save_private(key, path, &err), -ENOENT);
        assert_has_prefix(err.message, "cannot write ");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_save_load),
                cmocka_unit_test(test_load_refuses),
                cmocka_unit_test(test_save_fails),
        };
        return cmocka_run_group_tests(tests, setup, test_tmpdir_teardown);
}
