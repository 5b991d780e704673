/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The site benchmark's client (bench/site.sh): many lightweight clients of
 * one licensed-site, each a machine id and an Ed25519 device key signing
 * its SITE REQUESTs with core's site_request_sign(), as licensed will.
 * Prints "key=value" lines; site.sh makes the table. Times are
 * CLOCK_MONOTONIC, each one request and its answer on a kept-alive TLS
 * connection (libcurl). The certificate is not checked: loopback only.
 *
 *   site-client URL SITE PRODUCT FEATURE TOKENS CONCURRENCY SECONDS SAMPLES
 *
 * 1. enrols one client per join token in the file TOKENS;
 * 2. grant latency: SAMPLES checkouts by one client, each returned
 *    (untimed) before the next;
 * 3. every client checks out one lease and keeps it;
 * 4. heartbeat latency: SAMPLES heartbeats by one client in a row;
 * 5. load: CONCURRENCY threads, each its own connection and its share of
 *    the clients, heartbeat back to back for SECONDS: the sustained rate,
 *    its latency, and any answer but 200;
 * and the number of requests of all of it (requests=). */

#include <curl/curl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "crypto.h"
#include "lease.h"
#include "macro.h"
#include "report-error.h"
#include "request.h"
#include "strutil.h"
#include "timeutil.h"

#define ANSWER_MAX (256 * 1024)
#define CLIENTS_MAX 100000
#define THREADS_MAX 256

typedef struct Client {
        EVP_PKEY *key;
        char *pub;
        char machine_id[LICENSE_NONCE_STRING_SIZE];
        char host[32];
        char *lease; /* the kept lease's id */
} Client;

typedef struct Bench {
        const char *url, *site, *product, *feature;
        Client *clients;
        size_t n_clients;
} Bench;

typedef struct Worker {
        const Bench *b;
        size_t first, step; /* the clients it heartbeats: first, first+step, ... */
        double seconds;
        uint64_t *ns; /* latency of each heartbeat */
        size_t n, cap;
        uint64_t failed;
        pthread_t thread;
} Worker;

/* Every request posted, by all threads: the site's CPU time is divided by it. */
static uint64_t n_requests;

static uint64_t now_nsec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

static _Noreturn void die(const char *what, const char *detail) {
        report_error(-EIO, "%s: %s", what, detail);
        exit(EXIT_FAILURE);
}

static size_t on_data(char *p, size_t size, size_t n, void *userdata) {
        return capped_buffer_append(userdata, p, size * n) < 0 ? 0 : size * n;
}

static CURL *connection(void) {
        CURL *c = curl_easy_init();

        if (!c)
                die("curl", "cannot make a handle");
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        return c;
}

/* Signs rq as client cl, posts it to endpoint: the HTTP status; *ret (if
 * given) the parsed answer. */
static long post(CURL *c, const Bench *b, const char *endpoint, Client *cl, SiteRequest *rq, json_object **ret) {
        static const char *const hdr = "Content-Type: application/json";
        struct curl_slist *headers = curl_slist_append(NULL, hdr);
        CappedBuffer answer = {.max = ANSWER_MAX};
        char nonce[LICENSE_NONCE_STRING_SIZE], url[512];
        _cleanup_free_ char *text = NULL;
        json_object *body;
        long status = 0;
        CURLcode rc;

        if (nonce_generate(nonce) < 0)
                die("nonce", "no random bytes");
        rq->site = (char *) b->site;
        rq->machine_id = cl->machine_id;
        rq->device_key = cl->pub;
        rq->nonce = nonce;
        rq->created = now_realtime();
        if (site_request_sign(rq, cl->key, &text) < 0)
                die("site_request_sign", "cannot sign the request");
        body = json_object_new_object();
        json_object_object_add(body, "request", json_object_new_string(text));
        snprintf(url, sizeof(url), "%s/v1/%s", b->url, endpoint);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, json_object_to_json_string(body));
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
        rc = curl_easy_perform(c);
        __atomic_add_fetch(&n_requests, 1, __ATOMIC_RELAXED);
        json_object_put(body);
        curl_slist_free_all(headers);
        if (rc != CURLE_OK)
                die(url, curl_easy_strerror(rc));
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (ret)
                *ret = answer.data ? json_tokener_parse(answer.data) : NULL;
        free(answer.data);
        return status;
}

static void enrol(CURL *c, const Bench *b, Client *cl, const char *token) {
        SiteRequest rq = {.type = SITE_REQUEST_ENROL, .token = (char *) token, .host = cl->host};

        if (post(c, b, "enrol", cl, &rq, NULL) != 200)
                die("enrol", "the site refused a join token");
}

/* A checkout: the lease id. */
static char *checkout(CURL *c, const Bench *b, Client *cl) {
        SiteRequest rq = {.type = SITE_REQUEST_CHECKOUT, .product = (char *) b->product,
                          .feature = (char *) b->feature, .user = (char *) "bench", .host = cl->host};
        json_object *answer = NULL, *id;
        long status = post(c, b, "checkout", cl, &rq, &answer);
        char *ret;

        if (status != 200 || !json_object_object_get_ex(answer, "lease_id", &id))
                die("checkout", status == 409 ? "all seats in use: the license needs a seat per client"
                                              : "the site refused it");
        ret = strdup(json_object_get_string(id));
        json_object_put(answer);
        if (!ret)
                die("checkout", "out of memory");
        return ret;
}

static long heartbeat(CURL *c, const Bench *b, Client *cl) {
        SiteRequest rq = {.type = SITE_REQUEST_HEARTBEAT, .lease = cl->lease};
        return post(c, b, "heartbeat", cl, &rq, NULL);
}

static void give_back(CURL *c, const Bench *b, Client *cl, char *lease) {
        SiteRequest rq = {.type = SITE_REQUEST_RETURN, .lease = lease};

        if (post(c, b, "return", cl, &rq, NULL) != 200)
                die("return", "the site refused it");
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static void print_percentiles(const char *prefix, uint64_t *ns, size_t n) {
        qsort(ns, n, sizeof(*ns), cmp_u64);
        printf("%s_p50_ms=%.2f\n%s_p99_ms=%.2f\n", prefix, ns[n / 2] / 1e6, prefix,
               ns[n * 99 / 100 < n ? n * 99 / 100 : n - 1] / 1e6);
}

static void *work(void *userdata) {
        Worker *w = userdata;
        CURL *c = connection();
        uint64_t end = now_nsec() + (uint64_t) (w->seconds * 1e9);

        for (size_t i = w->first; now_nsec() < end; i = i + w->step < w->b->n_clients ? i + w->step : w->first) {
                uint64_t t0 = now_nsec();
                long status = heartbeat(c, w->b, &w->b->clients[i]);
                if (status != 200)
                        w->failed++;
                if (w->n == w->cap) {
                        w->cap = w->cap ? 2 * w->cap : 4096;
                        w->ns = realloc(w->ns, w->cap * sizeof(*w->ns));
                        if (!w->ns)
                                die("heartbeat", "out of memory");
                }
                w->ns[w->n++] = now_nsec() - t0;
        }
        curl_easy_cleanup(c);
        return NULL;
}

int main(int argc, char *argv[]) {
        Bench b = {};
        Worker *workers;
        uint64_t *ns, t0, elapsed, failed = 0;
        size_t n_threads, samples, total = 0, cap = 0;
        char **tokens = NULL, *line = NULL;
        double seconds;
        FILE *f;
        CURL *c;

        if (argc != 9) {
                fprintf(stderr, "usage: site-client URL SITE PRODUCT FEATURE TOKENS CONCURRENCY SECONDS SAMPLES\n");
                return EXIT_FAILURE;
        }
        b = (Bench) {.url = argv[1], .site = argv[2], .product = argv[3], .feature = argv[4]};
        n_threads = strtoul(argv[6], NULL, 10);
        seconds = strtod(argv[7], NULL);
        samples = strtoul(argv[8], NULL, 10);
        f = fopen(argv[5], "re");
        if (!f)
                die(argv[5], strerror(errno));
        while (getline(&line, &cap, f) > 0 && b.n_clients < CLIENTS_MAX) {
                tokens = realloc(tokens, (b.n_clients + 1) * sizeof(*tokens));
                if (!tokens || !(tokens[b.n_clients++] = strdup(strstrip(line))))
                        die("tokens", "out of memory");
        }
        free(line);
        fclose(f);
        if (b.n_clients == 0 || n_threads == 0 || n_threads > THREADS_MAX || n_threads > b.n_clients ||
            samples == 0 || seconds <= 0)
                die("site-client", "needs tokens, 1 to 256 threads (at most one per client), samples and seconds");

        curl_global_init(CURL_GLOBAL_DEFAULT);
        b.clients = calloc(b.n_clients, sizeof(*b.clients));
        if (!b.clients)
                die("clients", "out of memory");
        c = connection();
        for (size_t i = 0; i < b.n_clients; i++) {
                Client *cl = &b.clients[i];
                if (ed25519_generate(&cl->key) < 0 || ed25519_public_base64(cl->key, &cl->pub) < 0 ||
                    nonce_generate(cl->machine_id) < 0)
                        die("client", "cannot make a device key");
                snprintf(cl->host, sizeof(cl->host), "bench-%zu", i);
                enrol(c, &b, cl, tokens[i]);
        }

        ns = calloc(samples, sizeof(*ns));
        if (!ns)
                die("samples", "out of memory");
        for (size_t i = 0; i < samples; i++) {
                char *lease;
                t0 = now_nsec();
                lease = checkout(c, &b, &b.clients[0]);
                ns[i] = now_nsec() - t0;
                give_back(c, &b, &b.clients[0], lease);
                free(lease);
        }
        print_percentiles("grant", ns, samples);

        for (size_t i = 0; i < b.n_clients; i++)
                b.clients[i].lease = checkout(c, &b, &b.clients[i]);
        for (size_t i = 0; i < samples; i++) {
                t0 = now_nsec();
                if (heartbeat(c, &b, &b.clients[0]) != 200)
                        die("heartbeat", "the site refused a heartbeat of a held lease");
                ns[i] = now_nsec() - t0;
        }
        print_percentiles("heartbeat", ns, samples);
        free(ns);
        curl_easy_cleanup(c);

        workers = calloc(n_threads, sizeof(*workers));
        if (!workers)
                die("workers", "out of memory");
        t0 = now_nsec();
        for (size_t i = 0; i < n_threads; i++) {
                workers[i] = (Worker) {.b = &b, .first = i, .step = n_threads, .seconds = seconds};
                if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) != 0)
                        die("pthread_create", strerror(errno));
        }
        for (size_t i = 0; i < n_threads; i++) {
                pthread_join(workers[i].thread, NULL);
                total += workers[i].n;
                failed += workers[i].failed;
        }
        elapsed = now_nsec() - t0;
        ns = calloc(total ?: 1, sizeof(*ns));
        if (!ns)
                die("load", "out of memory");
        total = 0;
        for (size_t i = 0; i < n_threads; i++) {
                memcpy(ns + total, workers[i].ns, workers[i].n * sizeof(*ns));
                total += workers[i].n;
                free(workers[i].ns);
        }
        printf("clients=%zu\nconcurrency=%zu\nrequests=%" PRIu64 "\nload_heartbeats=%zu\nload_failed=%" PRIu64
               "\nload_rate=%.1f\n",
               b.n_clients, n_threads, n_requests, total, failed, total / (elapsed / 1e9));
        if (total > 0)
                print_percentiles("load", ns, total);
        free(ns);
        free(workers);
        for (size_t i = 0; i < b.n_clients; i++) {
                EVP_PKEY_free(b.clients[i].key);
                free(b.clients[i].pub);
                free(b.clients[i].lease);
                free(tokens[i]);
        }
        free(tokens);
        free(b.clients);
        curl_global_cleanup();
        return EXIT_SUCCESS;
}
