/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <sys/stat.h>

#include "fileio.h"
#include "test-files.h"

static int setup(void **state) {
        return test_tmpdir_setup(state, "test-fileio");
}

/* How many entries DIR holds, besides . and .. */
static int count_entries(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static void test_write_read(void **state) {
        const TestState *st = *state;
        _cleanup_free_ char *path = NULL, *text = NULL, *again = NULL;
        struct stat sb;
        size_t len;

        assert_true(asprintf(&path, "%s/file", st->tmpdir) > 0);
        assert_int_equal(write_file_atomic(path, "hello\n", 6, 0640), 0);
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(sb.st_mode & 07777, 0640); /* the mode asked for, whatever the umask */
        assert_int_equal(read_file(path, 100, &text, &len), 0);
        assert_int_equal(len, 6);
        assert_string_equal(text, "hello\n"); /* NUL-terminated */

        /* replaced whole, and no temporary left next to it */
        assert_int_equal(write_file_atomic(path, "", 0, 0600), 0);
        assert_int_equal(read_file(path, 100, &again, NULL), 0);
        assert_string_equal(again, "");
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(sb.st_mode & 07777, 0600);
        assert_int_equal(count_entries(st->tmpdir), 1);
        assert_int_equal(unlink(path), 0);
}

static void test_write_fails(void **state) {
        const TestState *st = *state;
        _cleanup_free_ char *path = NULL;

        assert_true(asprintf(&path, "%s/missing/file", st->tmpdir) > 0);
        assert_int_equal(write_file_atomic(path, "x", 1, 0600), -ENOENT);
        assert_int_equal(count_entries(st->tmpdir), 0);
}

static void test_read_limits(void **state) {
        const TestState *st = *state;
        _cleanup_free_ char *path = NULL, *text = NULL;
        char *none = NULL;
        size_t len;

        path = test_write_tmp(st, "ten", "0123456789");
        assert_int_equal(read_file(path, 10, &text, &len), 0);
        assert_int_equal(len, 10);
        assert_int_equal(read_file(path, 9, &none, &len), -EFBIG);
        assert_null(none);
        assert_int_equal(read_file(st->tmpdir, 10, &none, &len), -EISDIR);
        assert_int_equal(read_file("/nonexistent/file", 10, &none, &len), -ENOENT);
        assert_null(none);
        assert_int_equal(unlink(path), 0);
}

static void test_read_stream(void **state) {
        static char big[20000];
        _cleanup_free_ char *text = NULL;
        char *none = NULL;
        size_t len;
        FILE *f;

        /* longer than one read, so the buffer grows */
        memset(big, 'x', sizeof(big));
        f = fmemopen(big, sizeof(big), "r");
        assert_non_null(f);
        assert_int_equal(read_stream(f, sizeof(big), &text, &len), 0);
        assert_int_equal(len, sizeof(big));
        assert_int_equal(strlen(text), sizeof(big));
        fclose(f);

        /* a stream has no size to look at first: it is cut off while read */
        f = fmemopen(big, sizeof(big), "r");
        assert_non_null(f);
        assert_int_equal(read_stream(f, sizeof(big) - 1, &none, &len), -EFBIG);
        assert_null(none);
        fclose(f);
}

static void test_fsync_parent_dir(void **state) {
        const TestState *st = *state;
        _cleanup_free_ char *path = NULL;

        assert_true(asprintf(&path, "%s/anything", st->tmpdir) > 0);
        assert_int_equal(fsync_parent_dir(path), 0);
        assert_int_equal(fsync_parent_dir("/nonexistent/dir/file"), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_write_read),       cmocka_unit_test(test_write_fails),
                cmocka_unit_test(test_read_limits),      cmocka_unit_test(test_read_stream),
                cmocka_unit_test(test_fsync_parent_dir),
        };
        return cmocka_run_group_tests(tests, setup, test_tmpdir_teardown);
}
