/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/http: the HTTP client on its own sd-event loop against a small
 * responder on loopback (libmicrohttpd, in its own threads): an answer, an
 * HTTP error, a body over the cap, a refused connection, the timeout, and a
 * client freed with a request in flight. Every wait is bounded. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "http.h"

#define WAIT_USEC (10 * 1000000ULL) /* well above the 1-2 s any case takes */
#define BIG_BODY (64 * 1024)
#define SLOW_SECONDS 3

typedef struct Upload {
        char data[4096];
        size_t len;
} Upload;

static const char *header(struct MHD_Connection *c, const char *name) {
        return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name) ?: "";
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type, const void *body,
                               size_t len) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_MUST_COPY);
        enum MHD_Result ret;

        if (!resp)
                return MHD_NO;
        MHD_add_response_header(resp, "Content-Type", type);
        ret = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

/* /echo: the request body back, if it was a JSON POST; /missing: 404;
 * /big: more than the test's cap; /slow: an answer after SLOW_SECONDS. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *data, size_t *size, void **con_cls) {
        Upload *u = *con_cls;

        if (!u) {
                u = calloc(1, sizeof(*u));
                if (!u)
                        return MHD_NO;
                *con_cls = u;
                return MHD_YES;
        }
        if (*size > 0) {
                size_t k = *size < sizeof(u->data) - 1 - u->len ? *size : sizeof(u->data) - 1 - u->len;
                memcpy(u->data + u->len, data, k);
                u->len += k;
                *size = 0;
                return MHD_YES;
        }
        if (strcmp(method, "POST") != 0 || strcmp(header(c, "Content-Type"), "application/json") != 0 ||
            strcmp(header(c, "Accept"), "application/json") != 0)
                return respond(c, 415, "text/plain", "not a JSON POST", 15);
        if (strcmp(url, "/echo") == 0)
                return respond(c, 200, "application/json", u->data, u->len);
        if (strcmp(url, "/missing") == 0)
                return respond(c, 404, "application/json", "{\"error\":\"no such thing\"}", 25);
        if (strcmp(url, "/big") == 0) {
                static char big[BIG_BODY];
                memset(big, 'x', sizeof(big));
                return respond(c, 200, "application/json", big, sizeof(big));
        }
        if (strcmp(url, "/slow") == 0) {
                sleep(SLOW_SECONDS);
                return respond(c, 200, "application/json", "{}", 2);
        }
        return respond(c, 500, "text/plain", "?", 1);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode code) {
        free(*con_cls);
        *con_cls = NULL;
}

typedef struct Outcome {
        unsigned calls;
        int error;
        long status;
        char *content_type;
        char *body;
        size_t body_len;
        char *message;
} Outcome;

static void on_done(const HttpResult *res, void *userdata) {
        Outcome *o = userdata;

        o->calls++;
        o->error = res->error;
        o->status = res->status;
        o->content_type = res->content_type ? strdup(res->content_type) : NULL;
        o->body = res->body ? strndup(res->body, res->body_len) : NULL;
        o->body_len = res->body_len;
        o->message = res->message ? strdup(res->message) : NULL;
}

static void outcome_done(Outcome *o) {
        free(o->content_type);
        free(o->body);
        free(o->message);
}

typedef struct Fixture {
        struct MHD_Daemon *mhd;
        unsigned port;
        sd_event *event;
} Fixture;

/* One responder and one loop for the group: each test makes its own client. */
static int group_setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

        assert_non_null(f);
        f->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
                                  on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &sa,
                                  MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
        assert_non_null(f->mhd);
        f->port = MHD_get_daemon_info(f->mhd, MHD_DAEMON_INFO_BIND_PORT)->port;
        assert_true(f->port > 0);
        assert_int_equal(sd_event_new(&f->event), 0);
        *state = f;
        return 0;
}

static int group_teardown(void **state) {
        Fixture *f = *state;

        MHD_stop_daemon(f->mhd);
        sd_event_unref(f->event);
        free(f);
        return 0;
}

static HttpClient *client(Fixture *f, const HttpOptions *o) {
        HttpClient *h = NULL;

        assert_int_equal(http_client_new(f->event, o, &h), 0);
        assert_non_null(h);
        return h;
}

/* POSTs to path on port and runs the loop until the answer; returns the
 * seconds it took. */
static double post(Fixture *f, HttpClient *h, unsigned port, const char *path, const char *body, Outcome *o) {
        char url[128];
        uint64_t start, now;

        snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
        assert_int_equal(http_post_json(h, url, body, on_done, o), 0);
        assert_int_equal(o->calls, 0); /* never from inside the call */
        assert_true(sd_event_now(f->event, CLOCK_MONOTONIC, &start) >= 0);
        do {
                assert_true(sd_event_run(f->event, 100000) >= 0);
                assert_true(sd_event_now(f->event, CLOCK_MONOTONIC, &now) >= 0);
                assert_true(now - start < WAIT_USEC);
        } while (o->calls == 0);
        assert_int_equal(o->calls, 1);
        return (double) (now - start) / 1e6;
}

static void test_answer(void **state) {
        Fixture *f = *state;
        HttpClient *h = client(f, &(HttpOptions) {.timeout = 5});
        Outcome o = {};

        post(f, h, f->port, "/echo", "{\"request\":\"hello\"}", &o);
        assert_int_equal(o.error, 0);
        assert_int_equal(o.status, 200);
        assert_string_equal(o.content_type, "application/json");
        assert_string_equal(o.body, "{\"request\":\"hello\"}");
        assert_int_equal(o.body_len, strlen(o.body));
        assert_null(o.message);
        outcome_done(&o);

        /* The same client again: nothing left over from the first. */
        o = (Outcome) {};
        post(f, h, f->port, "/echo", "{}", &o);
        assert_int_equal(o.status, 200);
        assert_string_equal(o.body, "{}");
        outcome_done(&o);
        http_client_free(h);
}

static void test_http_error(void **state) {
        Fixture *f = *state;
        HttpClient *h = client(f, &(HttpOptions) {.timeout = 5});
        Outcome o = {};

        /* Not a transport failure: the status and body are the caller's to judge. */
        post(f, h, f->port, "/missing", "{}", &o);
        assert_int_equal(o.error, 0);
        assert_int_equal(o.status, 404);
        assert_string_equal(o.body, "{\"error\":\"no such thing\"}");
        outcome_done(&o);
        http_client_free(h);
}

static void test_body_over_cap(void **state) {
        Fixture *f = *state;
        HttpClient *h = client(f, &(HttpOptions) {.timeout = 5, .response_max = 4096});
        Outcome o = {};

        post(f, h, f->port, "/big", "{}", &o);
        assert_int_equal(o.error, -EFBIG);
        assert_non_null(o.message);
        assert_non_null(strstr(o.message, "larger than any license server sends"));
        outcome_done(&o);

        /* The default cap lets the same answer through. */
        http_client_free(h);
        h = client(f, &(HttpOptions) {.timeout = 5});
        o = (Outcome) {};
        post(f, h, f->port, "/big", "{}", &o);
        assert_int_equal(o.error, 0);
        assert_int_equal(o.body_len, BIG_BODY);
        outcome_done(&o);
        http_client_free(h);
}

static void test_refused(void **state) {
        Fixture *f = *state;
        HttpClient *h = client(f, &(HttpOptions) {.timeout = 5});
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(sa);
        Outcome o = {};
        int fd;

        /* A port that is bound but not listening refuses, and stays ours
         * for the test. */
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        post(f, h, ntohs(sa.sin_port), "/echo", "{}", &o);
        assert_int_equal(o.error, -ECONNREFUSED);
        assert_non_null(o.message);
        close(fd);
        outcome_done(&o);
        http_client_free(h);
}

static void test_timeout(void **state) {
        Fixture *f = *state;
        HttpClient *h = client(f, &(HttpOptions) {.timeout = 1});
        Outcome o = {};
        double took;

        took = post(f, h, f->port, "/slow", "{}", &o);
        assert_int_equal(o.error, -ETIMEDOUT);
        assert_true(took < SLOW_SECONDS);
        outcome_done(&o);
        http_client_free(h);
}

/* A caller's deadline shorter than the client's timeout wins. */
static void test_within_deadline(void **state) {
        Fixture *f = *state;
        HttpClient *h = client(f, &(HttpOptions) {.timeout = 30});
        Outcome o = {};
        uint64_t start, now;
        char url[128];

        snprintf(url, sizeof(url), "http://127.0.0.1:%u/slow", f->port);
        assert_true(sd_event_now(f->event, CLOCK_MONOTONIC, &start) >= 0);
        assert_int_equal(http_post_json_within(h, url, "{}", 300 * 1000, on_done, &o), 0);
        do {
                assert_true(sd_event_run(f->event, 100000) >= 0);
                assert_true(sd_event_now(f->event, CLOCK_MONOTONIC, &now) >= 0);
                assert_true(now - start < WAIT_USEC);
        } while (o.calls == 0);
        assert_int_equal(o.error, -ETIMEDOUT);
        assert_true(now - start < (uint64_t) SLOW_SECONDS * 1000000);
        outcome_done(&o);
        http_client_free(h);
}

static void test_free_in_flight(void **state) {
        Fixture *f = *state;
        HttpClient *h = client(f, &(HttpOptions) {.timeout = 5});
        Outcome o = {};
        char url[128];

        snprintf(url, sizeof(url), "http://127.0.0.1:%u/slow", f->port);
        assert_int_equal(http_post_json(h, url, "{}", on_done, &o), 0);
        for (int i = 0; i < 5; i++) /* connected and sent */
                assert_true(sd_event_run(f->event, 20000) >= 0);
        http_client_free(h);
        for (int i = 0; i < 5; i++)
                assert_true(sd_event_run(f->event, 20000) >= 0);
        assert_int_equal(o.calls, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_answer),
                cmocka_unit_test(test_http_error),
                cmocka_unit_test(test_body_over_cap),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_timeout),
                cmocka_unit_test(test_within_deadline),
                cmocka_unit_test(test_free_in_flight),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
