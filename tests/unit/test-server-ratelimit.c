/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-address token buckets of licensed-server (server-ratelimit.c),
 * with the time passed in: the burst, the refill and its Retry-After, one
 * bucket per IPv4 address and per IPv6 /64, and a table that stays its
 * size under a flood of addresses, forgetting idle ones first. And the
 * metrics' text (server-metrics.c), which the integration tier parses. */
#include "test-util.h"
#include <arpa/inet.h>
#include <netinet/in.h>

#include "server.h"

#define SEC 1000000ULL

static struct sockaddr_storage v4(const char *text) {
        struct sockaddr_storage ss = {};
        struct sockaddr_in *sa = (struct sockaddr_in *) &ss;

        sa->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, text, &sa->sin_addr), 1);
        return ss;
}

static struct sockaddr_storage v6(const char *text) {
        struct sockaddr_storage ss = {};
        struct sockaddr_in6 *sa = (struct sockaddr_in6 *) &ss;

        sa->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, text, &sa->sin6_addr), 1);
        return ss;
}

static bool take(RateLimit *rl, struct sockaddr_storage ss, uint64_t now, unsigned *retry) {
        return ratelimit_take(rl, (struct sockaddr *) &ss, now, retry);
}

static void test_burst_then_refill(void **state) {
        RateLimit *rl = NULL;
        unsigned retry = 0;
        uint64_t t = 1000 * SEC;

        assert_int_equal(ratelimit_new(2, 3, 64, &rl), 0);
        for (int i = 0; i < 3; i++)
                assert_true(take(rl, v4("192.0.2.1"), t, &retry));
        assert_false(take(rl, v4("192.0.2.1"), t, &retry));
        assert_int_equal(retry, 1); /* half a second to the next token, said in whole seconds */
        /* another address has its own bucket */
        assert_true(take(rl, v4("192.0.2.2"), t, &retry));
        /* 2 a second: after 0.5 s one token, not two */
        assert_true(take(rl, v4("192.0.2.1"), t + SEC / 2, &retry));
        assert_false(take(rl, v4("192.0.2.1"), t + SEC / 2, &retry));
        /* a long pause refills to the burst, no more */
        t += 100 * SEC;
        for (int i = 0; i < 3; i++)
                assert_true(take(rl, v4("192.0.2.1"), t, &retry));
        assert_false(take(rl, v4("192.0.2.1"), t, &retry));
        /* a clock that went backwards refills nothing and breaks nothing */
        assert_false(take(rl, v4("192.0.2.1"), t - SEC, &retry));
        ratelimit_free(rl);
}

static void test_check_takes_nothing(void **state) {
        struct sockaddr_storage a = v4("192.0.2.7");
        RateLimit *rl = NULL;
        unsigned retry = 0;
        uint64_t t = 1000 * SEC;

        assert_int_equal(ratelimit_new(1, 2, 64, &rl), 0);
        for (int i = 0; i < 10; i++)
                assert_true(ratelimit_check(rl, (struct sockaddr *) &a, t, &retry));
        assert_true(take(rl, a, t, &retry));
        assert_true(take(rl, a, t, &retry));
        assert_false(ratelimit_check(rl, (struct sockaddr *) &a, t, &retry));
        assert_int_equal(retry, 1);
        assert_true(ratelimit_check(rl, (struct sockaddr *) &a, t + SEC, &retry));
        ratelimit_free(rl);
}

static void test_retry_after_slow_rate(void **state) {
        RateLimit *rl = NULL;
        unsigned retry = 0;
        double rate;
        CoreError err = {};

        assert_int_equal(ratelimit_parse_rate("6/min", &rate, &err), 0);
        assert_true(rate > 0.0999 && rate < 0.1001);
        assert_int_equal(ratelimit_new(rate, 1, 8, &rl), 0);
        assert_true(take(rl, v4("198.51.100.7"), SEC, &retry));
        assert_false(take(rl, v4("198.51.100.7"), SEC, &retry));
        assert_int_equal(retry, 10);
        assert_false(take(rl, v4("198.51.100.7"), 5 * SEC, &retry));
        assert_int_equal(retry, 6);
        assert_true(take(rl, v4("198.51.100.7"), 11 * SEC, &retry));
        ratelimit_free(rl);
}

static void test_ipv6_per_64(void **state) {
        RateLimit *rl = NULL;
        unsigned retry = 0;

        assert_int_equal(ratelimit_new(1, 2, 64, &rl), 0);
        /* one host's /64: any address in it shares the bucket */
        assert_true(take(rl, v6("2001:db8:1:2::1"), SEC, &retry));
        assert_true(take(rl, v6("2001:db8:1:2:ffff::9"), SEC, &retry));
        assert_false(take(rl, v6("2001:db8:1:2:abcd::1"), SEC, &retry));
        /* the next /64 is another client */
        assert_true(take(rl, v6("2001:db8:1:3::1"), SEC, &retry));
        /* an IPv4-mapped address is that IPv4 client */
        assert_true(take(rl, v6("::ffff:192.0.2.9"), SEC, &retry));
        assert_true(take(rl, v4("192.0.2.9"), SEC, &retry));
        assert_false(take(rl, v6("::ffff:192.0.2.9"), SEC, &retry));
        assert_true(take(rl, v4("192.0.2.10"), SEC, &retry));
        /* no address (a Unix socket): not limited */
        assert_true(ratelimit_take(rl, NULL, SEC, &retry));
        ratelimit_free(rl);
}

static void test_flood_of_addresses_is_bounded(void **state) {
        RateLimit *rl = NULL;
        unsigned retry = 0;
        uint64_t t = SEC;
        char text[32];
        size_t refused = 0;

        assert_int_equal(ratelimit_new(1, 2, 100, &rl), 0);
        assert_int_equal(ratelimit_capacity(rl), 128); /* whole sets of 8 */
        /* a busy client, out of tokens */
        assert_true(take(rl, v4("203.0.113.1"), t, &retry));
        assert_true(take(rl, v4("203.0.113.1"), t, &retry));
        assert_false(take(rl, v4("203.0.113.1"), t, &retry));
        /* 100000 other addresses in the same second */
        for (unsigned i = 0; i < 100000; i++) {
                snprintf(text, sizeof(text), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
                if (!take(rl, v4(text), t, &retry))
                        refused++;
        }
        assert_int_equal(refused, 0); /* each one's first request */
        assert_int_equal(ratelimit_used(rl), 128);
        ratelimit_free(rl);
}

static void test_idle_entries_go_first(void **state) {
        RateLimit *rl = NULL;
        unsigned retry = 0;
        char text[32];

        /* one set of 8: every address meets every other */
        assert_int_equal(ratelimit_new(1, 2, 8, &rl), 0);
        /* a busy client, seen first (at 0.5 s) and out of tokens, then seven
         * clients at 1 s that use a token each */
        assert_true(take(rl, v4("192.0.2.1"), SEC / 2, &retry));
        assert_true(take(rl, v4("192.0.2.1"), SEC / 2, &retry));
        assert_false(take(rl, v4("192.0.2.1"), SEC / 2, &retry));
        for (unsigned i = 0; i < 7; i++) {
                snprintf(text, sizeof(text), "192.0.2.%u", 100 + i);
                assert_true(take(rl, v4(text), SEC, &retry));
        }
        /* at 2 s the seven are full again (idle); the busy one has 1.5
         * tokens, and is the least recently seen. Seven new addresses take
         * the idle ones' places, not its, so it keeps its 1.5 tokens. */
        for (unsigned i = 0; i < 7; i++) {
                snprintf(text, sizeof(text), "198.51.100.%u", i + 1);
                assert_true(take(rl, v4(text), 2 * SEC, &retry));
        }
        assert_true(take(rl, v4("192.0.2.1"), 2 * SEC, &retry));
        assert_false(take(rl, v4("192.0.2.1"), 2 * SEC, &retry)); /* still remembered */
        assert_int_equal(ratelimit_used(rl), 8);
        ratelimit_free(rl);
}

static void test_parse_rate(void **state) {
        static const char *const bad[] = {"", "10", "10/h", "/s", "0/s", "-1/s", "x/s", "10/s ", "nan/s",
                                          "inf/s", "1e400/s"};
        CoreError err = {};
        double rate = -1;

        assert_int_equal(ratelimit_parse_rate("10/s", &rate, &err), 0);
        assert_true(rate == 10);
        assert_int_equal(ratelimit_parse_rate("0.5/s", &rate, &err), 0);
        assert_true(rate == 0.5);
        assert_int_equal(ratelimit_parse_rate("120/min", &rate, &err), 0);
        assert_true(rate == 2);
        assert_int_equal(ratelimit_parse_rate("off", &rate, &err), 0);
        assert_true(rate == 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(ratelimit_parse_rate(bad[i], &rate, &err), -EINVAL);
                assert_non_null(strstr(err.message, "RATE/s"));
        }
        assert_int_equal(ratelimit_new(0, 1, 8, &(RateLimit *){NULL}), -EINVAL);
        assert_int_equal(ratelimit_new(1, 0, 8, &(RateLimit *){NULL}), -EINVAL);
}

static void test_metrics_text(void **state) {
        _cleanup_free_ char *text = NULL;
        ServerMetrics m = {};

        assert_int_equal(server_metrics_init(&m), 0);
        server_metrics_request(&m, route_index(&route_table(NULL)[1]), 200, 3000);   /* 3 ms */
        server_metrics_request(&m, route_index(&route_table(NULL)[1]), 200, 700000); /* 0.7 s */
        server_metrics_request(&m, SIZE_MAX, 404, 100);
        server_metrics_count(&m, COUNTER_VALIDATIONS);
        assert_int_equal(server_metrics_render(&m, &text), 0);
        assert_non_null(strstr(text, "licensed_server_requests_total{method=\"POST\",route=\"/v1/validate\","
                                     "status=\"200\"} 2\n"));
        assert_non_null(strstr(text, "licensed_server_requests_total{method=\"\",route=\"unmatched\","
                                     "status=\"404\"} 1\n"));
        assert_non_null(strstr(text, "licensed_server_request_duration_seconds_bucket{le=\"0.001\"} 1\n"));
        assert_non_null(strstr(text, "licensed_server_request_duration_seconds_bucket{le=\"0.005\"} 2\n"));
        assert_non_null(strstr(text, "licensed_server_request_duration_seconds_bucket{le=\"0.5\"} 2\n"));
        assert_non_null(strstr(text, "licensed_server_request_duration_seconds_bucket{le=\"1\"} 3\n"));
        assert_non_null(strstr(text, "licensed_server_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert_non_null(strstr(text, "licensed_server_request_duration_seconds_sum 0.703100\n"));
        assert_non_null(strstr(text, "licensed_server_request_duration_seconds_count 3\n"));
        assert_non_null(strstr(text, "licensed_server_validations_total 1\n"));
        assert_non_null(strstr(text, "licensed_server_activations_total 0\n"));
        /* no pool reported: no gauge that would say 0 */
        assert_null(strstr(text, "database_connections"));
        free(text);
        text = NULL;
        server_metrics_pool(&m, 3, 8);
        assert_int_equal(server_metrics_render(&m, &text), 0);
        assert_non_null(strstr(text, "licensed_server_database_connections_in_use 3\n"));
        server_metrics_done(&m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_burst_then_refill),
                cmocka_unit_test(test_check_takes_nothing),
                cmocka_unit_test(test_retry_after_slow_rate),
                cmocka_unit_test(test_ipv6_per_64),
                cmocka_unit_test(test_flood_of_addresses_is_bounded),
                cmocka_unit_test(test_idle_entries_go_first),
                cmocka_unit_test(test_parse_rate),
                cmocka_unit_test(test_metrics_text),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
