/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"
#include "test-files.h"

static char *data_path(const char *rel) {
        return test_data_path("config", rel);
}

static int setup(void **state) {
        return test_tmpdir_setup(state, "test-config");
}

static void assert_defaults(const Config *c) {
        assert_int_equal(c->idle_timeout, CONFIG_DEFAULT_IDLE_TIMEOUT);
        assert_int_equal(c->max_grace_period, CONFIG_DEFAULT_MAX_GRACE_PERIOD);
        assert_int_equal(c->clock_tolerance, CONFIG_DEFAULT_CLOCK_TOLERANCE);
        assert_int_equal(c->grace_warning, CONFIG_DEFAULT_GRACE_WARNING);
        assert_int_equal(c->http_timeout, CONFIG_DEFAULT_HTTP_TIMEOUT);
        assert_null(c->ca_file);
        assert_null(c->proxy);
}

static void test_defaults(void **state) {
        Config c;

        (void) state;
        licensed_config_init(&c);
        assert_defaults(&c);
        assert_int_equal(c.idle_timeout, 30);
        assert_int_equal(c.max_grace_period, 30 * SEC_PER_DAY);
        assert_int_equal(c.clock_tolerance, SEC_PER_HOUR);
        assert_int_equal(c.http_timeout, 30);
        licensed_config_done(&c);
        licensed_config_done(&c); /* idempotent */
}

static void test_missing_file(void **state) {
        const TestState *st = *state;
        _cleanup_free_ char *path = NULL;
        CoreError err = {};
        Config c;

        assert_true(asprintf(&path, "%s/no-such-licensed.conf", st->tmpdir) >= 0);
        licensed_config_init(&c);
        assert_int_equal(licensed_config_load(&c, path, &err), 0);
        assert_string_equal(err.message, "");
        assert_defaults(&c);
        licensed_config_done(&c);
}

static void test_empty_file(void **state) {
        _cleanup_free_ char *path = test_write_tmp(*state, "empty.conf", "# nothing set\n");
        CoreError err = {};
        Config c;

        licensed_config_init(&c);
        assert_int_equal(licensed_config_load(&c, path, &err), 0);
        assert_defaults(&c);
        licensed_config_done(&c);
}

/* systemd/licensed.conf, the file the package installs: it sets nothing,
 * and each commented-out duration is the default it claims to be. */
static void test_shipped_file(void **state) {
        _cleanup_free_ char *path = NULL, *text = NULL, *uncommented = NULL;
        const char *root = getenv("TEST_SOURCE_ROOT");
        CoreError err = {};
        Config c;
        FILE *f;
        size_t n;

        assert_non_null(root);
        assert_true(asprintf(&path, "%s/systemd/licensed.conf", root) >= 0);
        licensed_config_init(&c);
        assert_int_equal(licensed_config_load(&c, path, &err), 0);
        assert_defaults(&c);
        licensed_config_done(&c);

        f = fopen(path, "re");
        assert_non_null(f);
        text = calloc(1, 8192);
        assert_non_null(text);
        n = fread(text, 1, 8191, f);
        fclose(f);
        assert_true(n > 0 && n < 8191);
        uncommented = calloc(1, 8192);
        assert_non_null(uncommented);
        for (const char *line = text; *line;) {
                const char *end = strchrnul(line, '\n');
                bool duration = false;
                for (const char *const *s = (const char *const[]) {"#idle_timeout", "#max_grace_period",
                                                                    "#clock_tolerance", "#grace_warning",
                                                                    "#http_timeout", NULL};
                     *s; s++)
                        duration = duration || strncmp(line, *s, strlen(*s)) == 0;
                strncat(uncommented, line + (duration ? 1 : 0), (size_t) (end - line) - (duration ? 1 : 0));
                strcat(uncommented, "\n");
                line = *end ? end + 1 : end;
        }
        free(path);
        path = test_write_tmp(*state, "shipped.conf", uncommented);
        licensed_config_init(&c);
        assert_int_equal(licensed_config_load(&c, path, &err), 0);
        assert_defaults(&c);
        licensed_config_done(&c);
}

static void test_full_strings(void **state) {
        _cleanup_free_ char *path = data_path("full.conf");
        CoreError err = {};
        Config c;

        (void) state;
        licensed_config_init(&c);
        assert_int_equal(licensed_config_load(&c, path, &err), 0);
        assert_int_equal(c.idle_timeout, 5 * SEC_PER_MINUTE);
        assert_int_equal(c.max_grace_period, 14 * SEC_PER_DAY);
        assert_int_equal(c.clock_tolerance, 90 * SEC_PER_MINUTE);
        assert_int_equal(c.http_timeout, 10);
        assert_string_equal(c.ca_file, "/etc/ssl/certs/example-ca.pem");
        assert_string_equal(c.proxy, "http://proxy.example.com:3128");
        licensed_config_done(&c);
        assert_null(c.ca_file);
        assert_null(c.proxy);
}

static void test_integers(void **state) {
        _cleanup_free_ char *path = data_path("integers.conf");
        CoreError err = {};
        Config c;

        (void) state;
        licensed_config_init(&c);
        assert_int_equal(licensed_config_load(&c, path, &err), 0);
        assert_int_equal(c.idle_timeout, 0);
        assert_int_equal(c.max_grace_period, SEC_PER_DAY);
        assert_int_equal(c.clock_tolerance, 2 * SEC_PER_HOUR);
        assert_int_equal(c.http_timeout, 5);
        assert_null(c.ca_file);
        assert_null(c.proxy);
        licensed_config_done(&c);
}

/* Each setting alone, as integer and as string. */
static void test_each_setting(void **state) {
        static const struct {
                const char *content;
                size_t offset; /* of the int64_t field expected to change */
                int64_t value;
        } cases[] = {
                {"idle_timeout = 0;", offsetof(Config, idle_timeout), 0},
                {"idle_timeout = \"0\";", offsetof(Config, idle_timeout), 0},
                {"idle_timeout = 120;", offsetof(Config, idle_timeout), 120},
                {"idle_timeout = \"2m\";", offsetof(Config, idle_timeout), 120},
                {"idle_timeout = \"45s\";", offsetof(Config, idle_timeout), 45},
                {"max_grace_period = \"60d\";", offsetof(Config, max_grace_period), 60 * SEC_PER_DAY},
                {"max_grace_period = 0;", offsetof(Config, max_grace_period), 0},
                {"max_grace_period = 5000000000L;", offsetof(Config, max_grace_period), INT64_C(5000000000)},
                {"clock_tolerance = \"1w\";", offsetof(Config, clock_tolerance), 7 * SEC_PER_DAY},
                {"clock_tolerance = 0;", offsetof(Config, clock_tolerance), 0},
                {"grace_warning = \"10d\";", offsetof(Config, grace_warning), 10 * SEC_PER_DAY},
                {"grace_warning = 0;", offsetof(Config, grace_warning), 0},
                {"clock_tolerance = 0x10;", offsetof(Config, clock_tolerance), 16},
                {"http_timeout = 1;", offsetof(Config, http_timeout), 1},
                {"http_timeout = \"3h\";", offsetof(Config, http_timeout), 3 * SEC_PER_HOUR},
                {"http_timeout : \"90\"", offsetof(Config, http_timeout), 90},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *path = test_write_tmp(*state, "one.conf", cases[i].content);
                CoreError err = {};
                Config c, d;

                licensed_config_init(&c);
                licensed_config_init(&d);
                if (licensed_config_load(&c, path, &err) < 0)
                        fail_msg("case %zu: %s", i, err.message);
                *(int64_t *) ((uint8_t *) &d + cases[i].offset) = cases[i].value;
                if (memcmp(&c, &d, sizeof(Config)) != 0)
                        fail_msg("case %zu: \"%s\" gave the wrong values", i, cases[i].content);
                licensed_config_done(&c);
        }
}

static void test_strings(void **state) {
        static const struct {
                const char *content;
                const char *ca_file;
                const char *proxy;
        } cases[] = {
                {"ca_file = \"/etc/ssl/ca.pem\";", "/etc/ssl/ca.pem", NULL},
                {"proxy = \"http://proxy:3128\";", NULL, "http://proxy:3128"},
                {"proxy = \"https://user:pw@proxy.example.com:8443/\";", NULL,
                 "https://user:pw@proxy.example.com:8443/"},
                {"proxy = \"socks5h://127.0.0.1:1080\";", NULL, "socks5h://127.0.0.1:1080"},
                {"proxy = \"HTTP://PROXY\"; ca_file = \"/a b/c.pem\";", "/a b/c.pem", "HTTP://PROXY"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *path = test_write_tmp(*state, "strings.conf", cases[i].content);
                CoreError err = {};
                Config c;

                licensed_config_init(&c);
                if (licensed_config_load(&c, path, &err) < 0)
                        fail_msg("case %zu: %s", i, err.message);
                if (!streq_ptr(c.ca_file, cases[i].ca_file) || !streq_ptr(c.proxy, cases[i].proxy))
                        fail_msg("case %zu: got ca_file=%s proxy=%s", i, c.ca_file ?: "(null)",
                                 c.proxy ?: "(null)");
                assert_int_equal(c.http_timeout, CONFIG_DEFAULT_HTTP_TIMEOUT);
                licensed_config_done(&c);
        }
}

static void test_errors(void **state) {
        static const struct {
                const char *content;
                const char *error; /* expected message after "PATH" */
        } cases[] = {
                /* bad durations */
                {"idle_timeout = \"soon\";", ":1: idle_timeout: 'soon' is not a duration"},
                {"idle_timeout = \"30 s\";", ":1: idle_timeout: '30 s' is not a duration"},
                {"idle_timeout = \"-1\";", ":1: idle_timeout: '-1' is not a duration"},
                {"\nclock_tolerance = -5;", ":2: clock_tolerance must be a duration of 0 or more seconds"},
                {"max_grace_period = 1.5;", ":1: max_grace_period must be a duration (integer seconds or a "
                                            "string like \"30s\"), not a float"},
                {"idle_timeout = true;",
                 ":1: idle_timeout must be a duration (integer seconds or a string like "
                 "\"30s\"), not a boolean"},
                {"idle_timeout = [ 1 ];", ":1: idle_timeout must be a duration"},
                {"max_grace_period = 9223372036854775807L;",
                 ":1: max_grace_period must be a duration of 0 or more seconds"},
                {"http_timeout = 0;", ":1: http_timeout must be more than 0 seconds"},
                {"idle_timeout = 5;\n\nhttp_timeout = \"0s\";",
                 ":3: http_timeout must be more than 0 seconds"},
                /* bad strings */
                {"ca_file = \"ca.pem\";", ":1: ca_file must be an absolute path, not 'ca.pem'"},
                {"ca_file = \"\";", ":1: ca_file must be an absolute path, not ''"},
                {"ca_file = 5;", ":1: ca_file must be a string, not an integer"},
                {"proxy = \"proxy:3128\";", ":1: proxy must be a URL like http://proxy.example.com:3128"},
                {"proxy = \"ftp://proxy\";", ":1: proxy must be a URL like"},
                {"proxy = \"http://\";", ":1: proxy must be a URL like"},
                {"proxy = \"http://a b:1\";", ":1: proxy must be a URL like"},
                {"proxy = \"\";", ":1: proxy must be a URL like"},
                {"proxy = { host = \"x\"; };", ":1: proxy must be a string, not a group"},
                /* unknown settings */
                {"idle_timeout = 5;\nidle_timout = 10;", ":2: unknown setting 'idle_timout'"},
                {"http = { timeout = 5; };", ":1: unknown setting 'http'"},
                /* syntax errors */
                {"idle_timeout = 5;\nhttp_timeout 10;\n", ":2: syntax error"},
                {"idle_timeout = 5;\nidle_timeout = 6;\n", ":2: duplicate setting name"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *path = test_write_tmp(*state, "bad.conf", cases[i].content);
                _cleanup_free_ char *expected = NULL;
                CoreError err = {};
                Config c;
                int r;

                assert_true(asprintf(&expected, "%s%s", path, cases[i].error) >= 0);
                licensed_config_init(&c);
                r = licensed_config_load(&c, path, &err);
                if (r != -EINVAL || strncmp(err.message, expected, strlen(expected)) != 0)
                        fail_msg("case %zu: got %d \"%s\", expected \"%s\"", i, r, err.message, expected);
                assert_defaults(&c);
                licensed_config_done(&c);
        }
}

/* A file loads over what is already there; a bad file changes nothing. */
static void test_layering(void **state) {
        _cleanup_free_ char *full = data_path("full.conf"), *partial = data_path("partial.conf");
        _cleanup_free_ char *bad =
                test_write_tmp(*state, "layer-bad.conf",
                               "idle_timeout = 1;\nca_file = \"/other.pem\";\nproxy = \"nope\";\n");
        _cleanup_free_ char *ca = test_write_tmp(*state, "layer-ca.conf", "ca_file = \"/other.pem\";\n");
        CoreError err = {};
        Config c;

        licensed_config_init(&c);
        assert_int_equal(licensed_config_load(&c, full, &err), 0);
        assert_int_equal(licensed_config_load(&c, partial, &err), 0);
        assert_int_equal(c.http_timeout, 60);
        assert_int_equal(c.idle_timeout, 5 * SEC_PER_MINUTE);
        assert_string_equal(c.ca_file, "/etc/ssl/certs/example-ca.pem");
        assert_string_equal(c.proxy, "http://proxy.example.com:3128");

        assert_int_equal(licensed_config_load(&c, bad, &err), -EINVAL);
        assert_non_null(strstr(err.message, ":3: proxy must be a URL"));
        assert_int_equal(c.idle_timeout, 5 * SEC_PER_MINUTE);
        assert_string_equal(c.ca_file, "/etc/ssl/certs/example-ca.pem");

        assert_int_equal(licensed_config_load(&c, ca, &err), 0);
        assert_string_equal(c.ca_file, "/other.pem");
        assert_string_equal(c.proxy, "http://proxy.example.com:3128");
        licensed_config_done(&c);
}

static void test_not_regular(void **state) {
        const TestState *st = *state;
        CoreError err = {};
        Config c;

        licensed_config_init(&c);
        assert_int_equal(licensed_config_load(&c, st->tmpdir, &err), -EINVAL);
        assert_non_null(strstr(err.message, "not a regular file"));
        assert_int_equal(strncmp(err.message, st->tmpdir, strlen(st->tmpdir)), 0);
        assert_defaults(&c);

        /* err may be NULL */
        assert_int_equal(licensed_config_load(&c, st->tmpdir, NULL), -EINVAL);
        licensed_config_done(&c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),   cmocka_unit_test(test_missing_file),
                cmocka_unit_test(test_empty_file), cmocka_unit_test(test_full_strings),
                cmocka_unit_test(test_integers),   cmocka_unit_test(test_each_setting),
                cmocka_unit_test(test_strings),    cmocka_unit_test(test_errors),
                cmocka_unit_test(test_layering),   cmocka_unit_test(test_not_regular),
                cmocka_unit_test(test_shipped_file),
        };

        return cmocka_run_group_tests_name("config", tests, setup, test_tmpdir_teardown);
}
