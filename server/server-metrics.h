/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* licensed-server's metrics in the Prometheus text format (version 0.0.4),
 * served only on --metrics-listen ADDRESS:PORT, by a libmicrohttpd daemon
 * of its own so that the public listener never answers /metrics. The
 * counters are C11 atomics: the worker threads add to them without a lock
 * and a scrape reads each one once. docs/operations.md lists the metrics. */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "error.h"

typedef enum ServerCounter {
        COUNTER_ACTIVATIONS,     /* seats granted (an activation, a re-activation of the same machine) */
        COUNTER_VALIDATIONS,     /* validations answered with a receipt, valid or revoked */
        COUNTER_SEAT_LIMIT,      /* activations refused: every seat taken */
        COUNTER_REVOKED,         /* answers that told a machine its license is revoked */
        COUNTER_DATABASE_ERRORS, /* requests that failed in the database, health checks included */
        COUNTER_RATE_LIMITED,    /* requests refused with 429 */
        _COUNTER_MAX,
} ServerCounter;

/* Request duration buckets, in seconds (upper bounds; +Inf is implied). */
#define METRICS_BUCKETS 12
#define METRICS_STATUS_MIN 100
#define METRICS_STATUS_MAX 599

typedef struct ServerMetrics {
        /* [route][status - 100]; route == route count: a request no route
         * took (404, 405) */
        atomic_uint_fast64_t *requests;
        size_t routes;
        atomic_uint_fast64_t buckets[METRICS_BUCKETS + 1]; /* not cumulative; the last is +Inf */
        atomic_uint_fast64_t duration_usec;
        atomic_uint_fast64_t counters[_COUNTER_MAX];
        /* The database's connection pool, once a backend reports it. */
        atomic_bool pool_known;
        atomic_uint_fast64_t pool_in_use;
        atomic_uint_fast64_t pool_size;

        /* Called before each scrape (may be NULL): to read gauges such as
         * the pool's from where they live. */
        void (*refresh)(struct ServerMetrics *m, void *userdata);
        void *refresh_userdata;

        struct MHD_Daemon *httpd;
        struct sockaddr_storage listen;
        socklen_t listen_len;
} ServerMetrics;

int server_metrics_init(ServerMetrics *m);
void server_metrics_done(ServerMetrics *m);

/* route: index in the routing table, or (size_t) -1 for none. */
void server_metrics_request(ServerMetrics *m, size_t route, unsigned status, uint64_t duration_usec);
void server_metrics_count(ServerMetrics *m, ServerCounter c);
/* For a storage backend with a pool of connections. */
void server_metrics_pool(ServerMetrics *m, uint64_t in_use, uint64_t size);

/* The exposition text; returns 0 or -ENOMEM. */
int server_metrics_render(ServerMetrics *m, char **ret);

/* The listener of /metrics on m->listen (set by the caller). */
int server_metrics_start(ServerMetrics *m, CoreError *err);
void server_metrics_stop(ServerMetrics *m);
/* "http://127.0.0.1:9100/metrics" with the port actually bound. */
void server_metrics_url(ServerMetrics *m, char *buf, size_t size);
