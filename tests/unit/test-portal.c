/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The customer portal's pieces without HTTP (portal.h): form bodies and
 * their Content-Type, the branding options' checks, HTML escaping, and the
 * session table with the time passed in (idle timeout, the least recently
 * used session evicted, notices said once, sign-out). */
#include "test-util.h"
#include <stdlib.h>

#include "portal.h"

static void test_form(void **state) {
        static const char body[] = "csrf=ab12&key=dh4gx+7kq2m%2D%41&empty=&x=%zz&nul=%00";
        char *v = NULL;

        assert_int_equal(portal_form_get(body, strlen(body), "csrf", &v), 0);
        assert_string_equal(v, "ab12");
        free(v);
        assert_int_equal(portal_form_get(body, strlen(body), "key", &v), 0);
        assert_string_equal(v, "dh4gx 7kq2m-A");
        free(v);
        assert_int_equal(portal_form_get(body, strlen(body), "empty", &v), 0);
        assert_string_equal(v, "");
        free(v);
        /* absent, a prefix of a name, a bad escape, a NUL byte */
        assert_int_equal(portal_form_get(body, strlen(body), "missing", &v), 0);
        assert_null(v);
        assert_int_equal(portal_form_get(body, strlen(body), "cs", &v), 0);
        assert_null(v);
        assert_int_equal(portal_form_get(body, strlen(body), "x", &v), -EINVAL);
        assert_int_equal(portal_form_get(body, strlen(body), "nul", &v), -EINVAL);
        /* a cut-off escape at the end of the body */
        assert_int_equal(portal_form_get("a=%4", 4, "a", &v), -EINVAL);
        assert_int_equal(portal_form_get(NULL, 0, "a", &v), 0);
        assert_null(v);

        assert_true(portal_content_type_is_form("application/x-www-form-urlencoded"));
        assert_true(portal_content_type_is_form("Application/X-WWW-Form-Urlencoded; charset=UTF-8"));
        assert_false(portal_content_type_is_form("application/x-www-form-urlencodedx"));
        assert_false(portal_content_type_is_form("multipart/form-data"));
        assert_false(portal_content_type_is_form(NULL));

        /* The paths whose 404/405 is the portal's page, not the API's JSON. */
        assert_true(portal_path("/portal"));
        assert_true(portal_path("/portal/"));
        assert_true(portal_path("/portal/nosuch"));
        assert_false(portal_path("/portalx"));
        assert_false(portal_path("/portal%00x"));
        assert_false(portal_path("/Portal"));
        assert_false(portal_path("/v1/portal"));
        assert_false(portal_path("/"));
        assert_false(portal_path(NULL));
}

static void test_options(void **state) {
        CoreError err = {};

        assert_int_equal(portal_check_color("#0b5CAD", &err), 0);
        assert_int_equal(portal_check_color("0b5cad", &err), -EINVAL);
        assert_string_equal(err.message, "--portal-color: '0b5cad' is not a colour #rrggbb (such as #0b5cad)");
        assert_int_equal(portal_check_color("#0b5ca", &err), -EINVAL);
        assert_int_equal(portal_check_color("#0b5cag", &err), -EINVAL);

        assert_int_equal(portal_check_logo_url("https://cdn.example.com/logo.png?v=2", &err), 0);
        assert_int_equal(portal_check_logo_url("http://cdn.example.com/logo.png", &err), -EINVAL);
        assert_int_equal(portal_check_logo_url("https://", &err), -EINVAL);
        assert_int_equal(portal_check_logo_url("https:///x", &err), -EINVAL);
        assert_int_equal(portal_check_logo_url("https://a.example/\"onerror=x", &err), -EINVAL);
        assert_int_equal(portal_check_logo_url("https://a.example/ x", &err), -EINVAL);
        assert_int_equal(portal_check_logo_url("https://a.example/;script-src *", &err), -EINVAL);

        assert_int_equal(portal_check_support("support@acme.example", &err), 0);
        assert_int_equal(portal_check_support("https://acme.example/help", &err), 0);
        assert_int_equal(portal_check_support("support", &err), -EINVAL);
        assert_int_equal(portal_check_support("@acme.example", &err), -EINVAL);
        assert_int_equal(portal_check_support("a@b@acme.example", &err), -EINVAL);
        assert_int_equal(portal_check_support("a<b>@acme.example", &err), -EINVAL);

        assert_int_equal(portal_check_title("Acme <Licensing> & \"Co\"", &err), 0);
        assert_int_equal(portal_check_title("", &err), -EINVAL);
        assert_int_equal(portal_check_title("a\nb", &err), -EINVAL);
}

static void test_escape(void **state) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        assert_non_null(f);
        portal_html_escape(f, "<a href=\"x\">'&'</a>");
        portal_html_escape(f, NULL);
        fclose(f);
        assert_string_equal(text, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        free(text);
}

#define SEC 1000000ULL

static void test_sessions(void **state) {
        PortalSessions t = {};
        PortalSession a, b, c, got;

        assert_int_equal(portal_sessions_init(&t, 2, 60), 0);
        assert_int_equal(portal_session_create(&t, "KEY-A", 1 * SEC, &a), 0);
        assert_int_equal(strlen(a.id), 64);
        assert_int_equal(strlen(a.csrf), 64);
        assert_string_not_equal(a.id, a.csrf);
        assert_string_equal(a.key, "KEY-A");

        /* found, and its idle time starts again */
        assert_int_equal(portal_session_use(&t, a.id, 50 * SEC, &got), 0);
        assert_string_equal(got.key, "KEY-A");
        assert_string_equal(got.csrf, a.csrf);
        assert_int_equal(portal_session_use(&t, a.id, 100 * SEC, &got), 0);

        /* a notice is said once */
        portal_session_notice(&t, a.id, "released");
        assert_int_equal(portal_session_use(&t, a.id, 101 * SEC, &got), 0);
        assert_string_equal(got.notice, "released");
        assert_int_equal(portal_session_use(&t, a.id, 102 * SEC, &got), 0);
        assert_string_equal(got.notice, "");

        /* unknown ids, of any length */
        assert_int_equal(portal_session_use(&t, "", 102 * SEC, &got), -ENOENT);
        {
                char wrong[PORTAL_TOKEN_SIZE];

                assert_int_equal(portal_random_token(wrong), 0);
                assert_int_equal(portal_session_use(&t, wrong, 102 * SEC, &got), -ENOENT);

                memcpy(wrong, a.id, sizeof(wrong));
                wrong[63] = wrong[63] == '0' ? '1' : '0';
                assert_int_equal(portal_session_use(&t, wrong, 102 * SEC, &got), -ENOENT);
        }

        /* a full table: the least recently used session makes room */
        assert_int_equal(portal_session_create(&t, "KEY-B", 103 * SEC, &b), 0);
        assert_int_equal(portal_session_use(&t, a.id, 104 * SEC, &got), 0);
        assert_int_equal(portal_session_create(&t, "KEY-C", 105 * SEC, &c), 0);
        assert_int_equal(portal_session_use(&t, b.id, 106 * SEC, &got), -ENOENT);
        assert_int_equal(portal_session_use(&t, a.id, 106 * SEC, &got), 0);
        assert_int_equal(portal_session_use(&t, c.id, 106 * SEC, &got), 0);

        /* idle longer than the timeout: expired once, then unknown */
        assert_int_equal(portal_session_use(&t, a.id, 167 * SEC, &got), -ETIMEDOUT);
        assert_int_equal(portal_session_use(&t, a.id, 167 * SEC, &got), -ENOENT);

        /* signed out */
        portal_session_remove(&t, c.id);
        assert_int_equal(portal_session_use(&t, c.id, 107 * SEC, &got), -ENOENT);
        portal_sessions_done(&t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_form),
                cmocka_unit_test(test_options),
                cmocka_unit_test(test_escape),
                cmocka_unit_test(test_sessions),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
