/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hardware id of trial requests (daemon/hardware-id.c): HMAC-SHA256 of
 * the lower-cased system UUID keyed with licensed's application id, never
 * of a firmware placeholder; written atomically mode 0644 or removed; read
 * back strictly. The expected ids were computed apart, with Python's hmac. */
#include "test-files.h"
#include "hardware-id.h"
#include "macro.h"

/* python3 -c 'import hmac; print(hmac.new(bytes.fromhex("6b1e0d5fa2934c7eb8513dc409e72af6"),
 *             b"4c4c4544-0042-3510-8052-b4c04f4e4b32", "sha256").hexdigest()[:32])' */
#define UUID "4c4c4544-0042-3510-8052-b4c04f4e4b32"
#define UUID_ID "19e130f9dbe08d432e9b66a28f71e42b"

static int setup(void **state) {
        return test_tmpdir_setup(state, "test-hardware-id");
}

static int teardown(void **state) {
        return test_tmpdir_teardown(state);
}

static void test_derive(void **state) {
        char id[HARDWARE_ID_HEX_LEN + 1];

        assert_int_equal(hardware_id_derive(UUID, id), 0);
        assert_string_equal(id, UUID_ID);
        /* as sysfs has it, and in upper case: the same machine */
        assert_int_equal(hardware_id_derive(UUID "\n", id), 0);
        assert_string_equal(id, UUID_ID);
        assert_int_equal(hardware_id_derive("4C4C4544-0042-3510-8052-B4C04F4E4B32\n", id), 0);
        assert_string_equal(id, UUID_ID);
        assert_int_equal(hardware_id_derive("ec2a7b8e-1d2f-4c3b-9a8e-0123456789ab", id), 0);
        assert_string_equal(id, "70b2daba677a74bae81cdceebadb244a");
}

static void test_placeholders_and_junk(void **state) {
        static const char *const placeholders[] = {
                "00000000-0000-0000-0000-000000000000\n",
                "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF\n",
                "ffffffff-ffff-ffff-ffff-ffffffffffff",
                "03000200-0400-0500-0006-000700080009\n",
        };
        static const char *const junk[] = {
                "", "\n", "Not Settable\n", "4c4c4544004235108052b4c04f4e4b32",
                "4c4c4544-0042-3510-8052-b4c04f4e4b3", "4c4c4544-0042-3510-8052-b4c04f4e4b32x",
                "4c4c4544-0042-3510-8052_b4c04f4e4b32", "4c4c4544-0042-3510-8052-b4c04f4e4g32",
        };
        char id[HARDWARE_ID_HEX_LEN + 1];

        for (size_t i = 0; i < ELEMENTSOF(placeholders); i++) {
                print_message("placeholder %zu\n", i);
                assert_int_equal(hardware_id_derive(placeholders[i], id), -ENODATA);
        }
        for (size_t i = 0; i < ELEMENTSOF(junk); i++) {
                print_message("junk %zu: '%s'\n", i, junk[i]);
                assert_int_equal(hardware_id_derive(junk[i], id), -EINVAL);
        }
}

static char *read_back(const char *path) {
        FILE *f = fopen(path, "re");
        char *s = calloc(1, 128);

        assert_non_null(f);
        assert_non_null(s);
        assert_true(fread(s, 1, 127, f) > 0);
        fclose(f);
        return s;
}

static void test_write(void **state) {
        TestState *st = *state;
        _cleanup_free_ char *dmi = test_write_tmp(st, "product_uuid", UUID "\n"), *out = NULL, *text = NULL;
        char id[HARDWARE_ID_HEX_LEN + 1];
        struct stat s;
        int why = 0;

        assert_true(asprintf(&out, "%s/" HARDWARE_ID_FILE, st->tmpdir) > 0);
        umask(0077); /* as in licensed.service: the file is still for all to read */
        assert_int_equal(hardware_id_write(dmi, out, &why), 1);
        text = read_back(out);
        assert_string_equal(text, UUID_ID "\n");
        assert_int_equal(stat(out, &s), 0);
        assert_int_equal(s.st_mode & 07777, 0644);
        assert_int_equal(hardware_id_read(st->tmpdir, id), 0);
        assert_string_equal(id, UUID_ID);

        /* The UUID became a placeholder (a board swapped, a VM reconfigured):
         * the old id goes, and so does it when there is no DMI at all. */
        free(test_write_tmp(st, "product_uuid", "00000000-0000-0000-0000-000000000000\n"));
        assert_int_equal(hardware_id_write(dmi, out, &why), 0);
        assert_int_equal(why, -ENODATA);
        assert_int_equal(access(out, F_OK), -1);
        assert_int_equal(hardware_id_read(st->tmpdir, id), -ENOENT);
        free(test_write_tmp(st, "product_uuid", UUID "\n"));
        assert_int_equal(hardware_id_write(dmi, out, &why), 1);
        assert_int_equal(unlink(dmi), 0);
        assert_int_equal(hardware_id_write(dmi, out, &why), 0);
        assert_int_equal(why, -ENOENT);
        assert_int_equal(access(out, F_OK), -1);
        /* nothing to remove: still fine */
        assert_int_equal(hardware_id_write(dmi, out, &why), 0);
}

static void test_read_strict(void **state) {
        static const char *const bad[] = {
                UUID_ID,                         /* no newline */
                UUID_ID "\n\n",                  /* more */
                "19E130F9DBE08D432E9B66A28F71E42B\n", /* upper case */
                "19e130f9dbe08d432e9b66a28f71e42\n",  /* 31 digits */
                UUID "\n",                       /* the raw UUID */
                "19e130f9dbe08d432e9b66a28f71e42b\n"
                "19e130f9dbe08d432e9b66a28f71e42b\n", /* twice */
        };
        TestState *st = *state;
        char id[HARDWARE_ID_HEX_LEN + 1];

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                print_message("bad %zu\n", i);
                free(test_write_tmp(st, HARDWARE_ID_FILE, bad[i]));
                assert_int_equal(hardware_id_read(st->tmpdir, id), -EBADMSG);
        }
        free(test_write_tmp(st, HARDWARE_ID_FILE, UUID_ID "\n"));
        assert_int_equal(hardware_id_read(st->tmpdir, id), 0);
        assert_string_equal(id, UUID_ID);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_derive),
                cmocka_unit_test(test_placeholders_and_junk),
                cmocka_unit_test(test_write),
                cmocka_unit_test(test_read_strict),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
