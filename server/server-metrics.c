/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The counters behind /metrics, their text, and the listener that serves
 * them. Relaxed atomics are enough: each number is a count on its own, and
 * a scrape that sees one request in the histogram a moment before it sees
 * it in requests_total is still a true picture a moment apart. */

#include <assert.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>

#include "build-info.h"
#include "server-metrics.h"
#include "server.h"

#define STATUSES (METRICS_STATUS_MAX - METRICS_STATUS_MIN + 1)

static const double bucket_le[METRICS_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                  0.1,   0.25,   0.5,   1,    2.5,   10};

static const struct {
        const char *name, *help;
} counter_info[_COUNTER_MAX] = {
        [COUNTER_ACTIVATIONS] = {"activations_total", "Activations answered with a signed license."},
        [COUNTER_VALIDATIONS] = {"validations_total", "Validations answered with a signed receipt."},
        [COUNTER_SEAT_LIMIT] = {"seat_limit_refusals_total", "Activations refused because every seat is taken."},
        [COUNTER_REVOKED] = {"revoked_answers_total", "Answers telling a machine that its license is revoked."},
        [COUNTER_DATABASE_ERRORS] = {"database_errors_total", "Requests and health checks the database failed."},
        [COUNTER_RATE_LIMITED] = {"rate_limited_requests_total", "Requests refused with 429 by the rate limit."},
};

int server_metrics_init(ServerMetrics *m) {
        route_table(&m->routes);
        m->requests = calloc((m->routes + 1) * STATUSES, sizeof(*m->requests));
        return m->requests ? 0 : -ENOMEM;
}

void server_metrics_done(ServerMetrics *m) {
        server_metrics_stop(m);
        free(m->requests);
        m->requests = NULL;
}

void server_metrics_request(ServerMetrics *m, size_t route, unsigned status, uint64_t duration_usec) {
        size_t b = 0;

        if (!m->requests)
                return;
        if (route >= m->routes)
                route = m->routes;
        if (status >= METRICS_STATUS_MIN && status <= METRICS_STATUS_MAX)
                atomic_fetch_add_explicit(&m->requests[route * STATUSES + (status - METRICS_STATUS_MIN)], 1,
                                          memory_order_relaxed);
        while (b < METRICS_BUCKETS && (double) duration_usec / 1e6 > bucket_le[b])
                b++;
        atomic_fetch_add_explicit(&m->buckets[b], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&m->duration_usec, duration_usec, memory_order_relaxed);
}

void server_metrics_count(ServerMetrics *m, ServerCounter c) {
        assert(c >= 0 && c < _COUNTER_MAX);
        atomic_fetch_add_explicit(&m->counters[c], 1, memory_order_relaxed);
}

void server_metrics_pool(ServerMetrics *m, uint64_t in_use, uint64_t size) {
        atomic_store_explicit(&m->pool_in_use, in_use, memory_order_relaxed);
        atomic_store_explicit(&m->pool_size, size, memory_order_relaxed);
        atomic_store_explicit(&m->pool_known, true, memory_order_release);
}

static uint64_t get(atomic_uint_fast64_t *v) {
        return atomic_load_explicit(v, memory_order_relaxed);
}

static void header(FILE *f, const char *name, const char *type, const char *help) {
        fprintf(f, "# HELP licensed_server_%s %s\n# TYPE licensed_server_%s %s\n", name, help, name, type);
}

static void render_requests(ServerMetrics *m, FILE *f) {
        header(f, "requests_total", "counter", "HTTP requests answered, by method, route and status.");
        for (size_t r = 0; r <= m->routes; r++)
                for (unsigned st = 0; st < STATUSES; st++) {
                        uint64_t n = get(&m->requests[r * STATUSES + st]);
                        const Route *route = r < m->routes ? &route_table(NULL)[r] : NULL;

                        if (n == 0)
                                continue;
                        fprintf(f,
                                "licensed_server_requests_total{method=\"%s\",route=\"%s\",status=\"%u\"} "
                                "%" PRIu64 "\n",
                                route ? route->method : "", route ? route->path : "unmatched",
                                st + METRICS_STATUS_MIN, n);
                }
}

static void render_histogram(ServerMetrics *m, FILE *f) {
        uint64_t cumulative = 0;

        header(f, "request_duration_seconds", "histogram",
               "Time from a request's headers to its answer being queued.");
        for (size_t b = 0; b <= METRICS_BUCKETS; b++) {
                cumulative += get(&m->buckets[b]);
                if (b < METRICS_BUCKETS)
                        fprintf(f, "licensed_server_request_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                                bucket_le[b], cumulative);
                else
                        fprintf(f, "licensed_server_request_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n",
                                cumulative);
        }
        fprintf(f, "licensed_server_request_duration_seconds_sum %.6f\n", (double) get(&m->duration_usec) / 1e6);
        fprintf(f, "licensed_server_request_duration_seconds_count %" PRIu64 "\n", cumulative);
}

int server_metrics_render(ServerMetrics *m, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f;

        f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        render_requests(m, f);
        render_histogram(m, f);
        for (ServerCounter c = 0; c < _COUNTER_MAX; c++) {
                header(f, counter_info[c].name, "counter", counter_info[c].help);
                fprintf(f, "licensed_server_%s %" PRIu64 "\n", counter_info[c].name, get(&m->counters[c]));
        }
        if (atomic_load_explicit(&m->pool_known, memory_order_acquire)) {
                header(f, "database_connections_in_use", "gauge", "Database connections lent out.");
                fprintf(f, "licensed_server_database_connections_in_use %" PRIu64 "\n", get(&m->pool_in_use));
                header(f, "database_connections", "gauge", "Database connections in the pool.");
                fprintf(f, "licensed_server_database_connections %" PRIu64 "\n", get(&m->pool_size));
        }
        header(f, "build_info", "gauge", "The running version; always 1.");
        fprintf(f, "licensed_server_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(text);
        return 0;
}

/* The listener ----------------------------------------------------------- */

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *type, char *text) {
        struct MHD_Response *resp;
        enum MHD_Result ret;

        resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(text);
                return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        ret = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

/* Leaves every %XX escape of the path as it is. Decoded, %00 ended the C
 * string early, so that "/metrics%00x" was served as /metrics; the one path
 * here needs no escape, so an escaped one is simply not it (404). */
static size_t unescape_none(void *cls, struct MHD_Connection *c, char *s) {
        return strlen(s);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        ServerMetrics *m = cls;
        char *text = NULL;

        if (!streq(url, "/metrics"))
                return answer(c, 404, "text/plain; charset=utf-8", strdup("only /metrics is here\n"));
        if (!streq(method, "GET") && !streq(method, "HEAD"))
                return answer(c, 405, "text/plain; charset=utf-8", strdup("GET /metrics\n"));
        if (m->refresh)
                m->refresh(m, m->refresh_userdata);
        if (server_metrics_render(m, &text) < 0)
                return MHD_NO;
        return answer(c, 200, "text/plain; version=0.0.4; charset=utf-8", text);
}

int server_metrics_start(ServerMetrics *m, CoreError *err) {
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

        if (m->listen.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        /* One thread: a scrape every few seconds from one collector. */
        m->httpd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m, MHD_OPTION_EXTERNAL_LOGGER,
                                    server_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, &m->listen,
                                    MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_CONNECTION_LIMIT, 16u,
                                    MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_UNESCAPE_CALLBACK,
                                    unescape_none, NULL, MHD_OPTION_END);
        if (!m->httpd)
                return core_error_set(err, EADDRNOTAVAIL,
                                      "cannot listen for /metrics (address in use or not local?)");
        return 0;
}

void server_metrics_stop(ServerMetrics *m) {
        if (m->httpd)
                MHD_stop_daemon(m->httpd);
        m->httpd = NULL;
}

void server_metrics_url(ServerMetrics *m, char *buf, size_t size) {
        server_format_url(&m->listen, m->httpd, "http", "/metrics", buf, size);
}
