/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's small state files (daemon/store.c) in a temporary state
 * directory: what they look like byte for byte (the same as before the
 * codec of core/fields.h read them), that they read back, and that damage
 * is refused. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-util.h"
#include "fileio.h"
#include "store.h"
#include "strutil.h"

_Static_assert(sizeof(((LicenseState *) NULL)->validation_nonce) == LICENSE_NONCE_STRING_SIZE,
               "a LicenseState holds one nonce");

#define NONCE "00112233445566778899aabbccddeeff"

typedef struct Loaded {
        unsigned n_found, n_damaged;
        LicenseState st;
        char why[256];
} Loaded;

static void on_found(const char *id, const char *text, size_t len, const LicenseState *st, void *userdata) {
        Loaded *l = userdata;

        assert_string_equal(id, "x1");
        license_state_done(&l->st);
        l->st = *st; /* the store frees its copy after the call */
        l->st.last_error = st->last_error ? strdup(st->last_error) : NULL;
        l->n_found++;
}

static void on_damaged(const char *path, const char *why, const char *moved_to, void *userdata) {
        Loaded *l = userdata;

        snprintf(l->why, sizeof(l->why), "%s", why);
        l->n_damaged++;
}

static int setup(void **state) {
        char tmpl[] = "/tmp/test-store-XXXXXX";
        Store *s = calloc(1, sizeof(Store));

        if (!s || !mkdtemp(tmpl))
                return -1;
        if (store_open(s, tmpl) < 0)
                return -1;
        *state = s;
        return 0;
}

static int teardown(void **state) {
        Store *s = *state;
        _cleanup_free_ char *cmd = NULL;

        if (asprintf(&cmd, "rm -rf '%s'", s->dir) > 0)
                (void) system(cmd);
        store_done(s);
        free(s);
        return 0;
}

static char *read_text(Store *s, const char *subdir, const char *name, const char *suffix) {
        _cleanup_free_ char *path = store_path(s, subdir, name, suffix);
        char *text = NULL;

        assert_int_equal(read_file(path, 8192, &text, NULL), 0);
        return text;
}

static void write_text(Store *s, const char *subdir, const char *name, const char *suffix, const char *text) {
        _cleanup_free_ char *path = store_path(s, subdir, name, suffix);
        assert_int_equal(write_file_atomic(path, text, strlen(text), 0600), 0);
}

static void test_state_file(void **state) {
        Store *s = *state;
        LicenseState st = {
                .installed = T0,
                .last_validation = T0 + SEC_PER_DAY,
                .last_attempt = T0 + 2 * SEC_PER_DAY,
                .revoked = true,
                .validation_nonce = NONCE,
                .last_error = (char *) "the server said: no",
                .announced = "grace",
                .warned_days_left = 3,
        };
        _cleanup_free_ char *text = NULL;
        Loaded l = {};

        write_text(s, "licenses", "x1", ".lic", "any text: the store does not verify\n");
        assert_int_equal(store_save_state(s, "x1", &st), 0);
        text = read_text(s, "licenses", "x1", ".state");
        assert_string_equal(text, "licensed-state: 1\n"
                                  "installed: 2026-01-01T00:00:00Z\n"
                                  "last-validation: 2026-01-02T00:00:00Z\n"
                                  "last-attempt: 2026-01-03T00:00:00Z\n"
                                  "revoked: yes\n"
                                  "validation-nonce: " NONCE "\n"
                                  "last-error: the server said: no\n"
                                  "announced: grace\n"
                                  "warned-days-left: 3\n");
        assert_int_equal(store_load_licenses(s, on_found, on_damaged, &l), 0);
        assert_int_equal(l.n_found, 1);
        assert_int_equal(l.n_damaged, 0);
        assert_int_equal(l.st.installed, st.installed);
        assert_int_equal(l.st.last_validation, st.last_validation);
        assert_int_equal(l.st.last_attempt, st.last_attempt);
        assert_true(l.st.revoked);
        assert_string_equal(l.st.validation_nonce, st.validation_nonce);
        assert_string_equal(l.st.last_error, st.last_error);
        license_state_done(&l.st);
        assert_string_equal(l.st.announced, st.announced);
        assert_int_equal(l.st.warned_days_left, st.warned_days_left);

        /* What is not known is not written. */
        st = (LicenseState) {.installed = T0};
        assert_int_equal(store_save_state(s, "x1", &st), 0);
        free(text);
        text = read_text(s, "licenses", "x1", ".state");
        assert_string_equal(text, "licensed-state: 1\ninstalled: 2026-01-01T00:00:00Z\nrevoked: no\n");
}

static void expect_damaged_state(Store *s, const char *text, const char *needle) {
        _cleanup_free_ char *lic = store_path(s, "licenses", "x1", ".lic");
        struct stat sb;
        Loaded l = {};

        write_text(s, "licenses", "x1", ".lic", "any text\n");
        write_text(s, "licenses", "x1", ".state", text);
        assert_int_equal(store_load_licenses(s, on_found, on_damaged, &l), 0);
        if (l.n_damaged != 1 || !strstr(l.why, needle))
                fail_msg("state '%s': expected damage '%s', got %u: '%s'", text, needle, l.n_damaged, l.why);
        /* The license stays, with a fresh state: installed when written. */
        assert_int_equal(l.n_found, 1);
        assert_int_equal(stat(lic, &sb), 0);
        assert_int_equal(l.st.installed, (int64_t) sb.st_mtime);
        assert_false(l.st.revoked);
}

static void test_damaged_state(void **state) {
        static const struct {
                const char *text, *needle;
        } table[] = {
                {"garbage\x01\n", "not 'name: value'"},
                {"installed: 2026-01-01T00:00:00Z\n", "'licensed-state' is missing"},
                {"installed: 2026-01-01T00:00:00Z\nlicensed-state: 1\n", "format line must come first"},
                {"licensed-state: 2\n", "state format version 2 is not supported"},
                {"licensed-state: 1\nrevoked: maybe\n", "revoked must be yes or no"},
                {"licensed-state: 1\nrevoked: no\nrevoked: yes\n", "'revoked' appears twice"},
                {"licensed-state: 1\nvalidation-nonce: 0011\n", "validation-nonce must be 32 lower-case hex"},
                {"licensed-state: 1\nwarned-days-left: 07\n", "bad warned-days-left"},
                {"licensed-state: 1\nwarned-days-left: -1\n", "bad warned-days-left"},
                {"licensed-state: 1\nannounced: 123456789012345678901234\n", "announced is longer than 23"},
                {"licensed-state: 1\ninstalled: soon\n", "installed is not a UTC time"},
                {"licensed-state: 1\ncolor: red\n", "unknown field 'color'"},
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                expect_damaged_state(*state, table[i].text, table[i].needle);
}

static void test_pending(void **state) {
        Store *s = *state;
        _cleanup_free_ char *text = NULL;
        char nonce[LICENSE_NONCE_STRING_SIZE];

        assert_int_equal(store_load_pending(s, "com.example.app", nonce), -ENOENT);
        assert_int_equal(store_save_pending(s, "com.example.app", NONCE), 0);
        text = read_text(s, "pending", "com.example.app", ".activation");
        assert_true(strlen(text) == strlen("nonce: " NONCE "\ncreated: 2026-01-01T00:00:00Z\n"));
        assert_true(startswith(text, "nonce: " NONCE "\ncreated: "));
        assert_int_equal(store_load_pending(s, "com.example.app", nonce), 0);
        assert_string_equal(nonce, NONCE);

        write_text(s, "pending", "com.example.app", ".activation", "nonce: 0011\n");
        assert_int_equal(store_load_pending(s, "com.example.app", nonce), -EBADMSG);
        write_text(s, "pending", "com.example.app", ".activation", "created: 2026-01-01T00:00:00Z\n");
        assert_int_equal(store_load_pending(s, "com.example.app", nonce), -EBADMSG);
        assert_int_equal(store_remove_pending(s, "com.example.app"), 0);
        assert_int_equal(store_load_pending(s, "com.example.app", nonce), -ENOENT);
}

static void test_clock(void **state) {
        Store *s = *state;
        _cleanup_free_ char *text = NULL;
        ClockMark m = {.high_water = T0, .boottime = 42}, got;

        assert_int_equal(store_save_clock(s, &m), 0);
        text = read_text(s, NULL, "clock", NULL);
        assert_string_equal(text, "high-water: 2026-01-01T00:00:00Z\nboot-id: unknown\nboottime: 42\n");
        assert_int_equal(store_load_clock(s, &got), 0);
        assert_int_equal(got.high_water, m.high_water);
        assert_string_equal(got.boot_id, "");
        assert_int_equal(got.boottime, m.boottime);

        strcpy(m.boot_id, NONCE);
        assert_int_equal(store_save_clock(s, &m), 0);
        free(text);
        text = read_text(s, NULL, "clock", NULL);
        assert_string_equal(text, "high-water: 2026-01-01T00:00:00Z\nboot-id: " NONCE "\nboottime: 42\n");
        assert_int_equal(store_load_clock(s, &got), 0);
        assert_string_equal(got.boot_id, NONCE);

        /* A boot id that is not one is unknown (docs/state.md), not damage. */
        write_text(s, NULL, "clock", NULL, "high-water: 2026-01-01T00:00:00Z\nboot-id: somewhere\n");
        assert_int_equal(store_load_clock(s, &got), 0);
        assert_string_equal(got.boot_id, "");

        static const char *const damaged[] = {
                "boot-id: unknown\nboottime: 42\n",
                "high-water: 2026-01-01T00:00:00Z\nboottime: 042\n",
                "high-water: 2026-01-01T00:00:00Z\nboottime: -1\n",
                "high-water: 2026-01-01T00:00:00Z\nhigh-water: 2026-01-02T00:00:00Z\n",
                "high-water: 2026-01-01T00:00:00Z\nlow-water: 1\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(damaged); i++) {
                write_text(s, NULL, "clock", NULL, damaged[i]);
                if (store_load_clock(s, &got) != -EBADMSG)
                        fail_msg("clock accepted: %s", damaged[i]);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_state_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_damaged_state, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pending, setup, teardown),
                cmocka_unit_test_setup_teardown(test_clock, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
