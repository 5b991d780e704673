/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-event.h>

#include "build-info.h"
#include "curl-api.h"
#include "event-timer.h"
#include "http.h"
#include "log.h"
#include "time-units.h"

typedef struct Request Request;
struct Request {
        Request *next, *prev; /* in HttpClient.requests */
        HttpClient *client;
        CURL *easy;
        struct curl_slist *headers;
        char *body_out;
        char *buf;
        size_t len, cap;
        bool too_big;
        char errbuf[CURL_ERROR_SIZE];
        HttpDoneFunc done;
        void *userdata;
        char *pin;             /* site requests: the certificate fingerprint required, or NULL */
        char fingerprint[65];  /* site requests: the one seen, "" before the handshake */
};

struct HttpClient {
        sd_event *event;
        int64_t timeout;
        char *proxy;
        char *ca_file;
        size_t response_max;
        unsigned max_host_connections, max_total_connections;
        bool quick_exit;
        const CurlApi *curl; /* and multi: set up by the first request (client_start()) */
        CURLM *multi;
        sd_event_source *timer;
        Request *requests;
};

/* Socket and timer plumbing -------------------------------------------------- */

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);
static void check_done(HttpClient *h);
static int client_start(HttpClient *h);

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userdata, void *socketp) {
        HttpClient *h = userdata;
        sd_event_source *s = socketp;
        uint32_t events = 0;
        int r;

        if (what == CURL_POLL_REMOVE) {
                if (s) {
                        sd_event_source_disable_unref(s);
                        h->curl->multi_assign(h->multi, fd, NULL);
                }
                return 0;
        }
        if (what & CURL_POLL_IN)
                events |= EPOLLIN;
        if (what & CURL_POLL_OUT)
                events |= EPOLLOUT;
        if (s)
                return sd_event_source_set_io_events(s, events) < 0 ? -1 : 0;
        r = sd_event_add_io(h->event, &s, fd, events, on_io, h);
        if (r < 0) {
                log_warning_errno(r, "Failed to watch an HTTP socket: %m");
                return -1;
        }
        h->curl->multi_assign(h->multi, fd, s);
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        HttpClient *h = userdata;
        int action = 0, running;

        if (revents & EPOLLIN)
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                action |= CURL_CSELECT_ERR;
        h->curl->multi_socket_action(h->multi, fd, action, &running);
        check_done(h);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        HttpClient *h = userdata;
        int running;

        h->curl->multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        check_done(h);
        return 0;
}

static int on_timer_change(CURLM *multi, long timeout_ms, void *userdata) {
        HttpClient *h = userdata;
        int r;

        if (timeout_ms < 0) {
                if (h->timer)
                        (void) sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
                return 0;
        }
        r = event_timer_arm(h->event, &h->timer, (uint64_t) timeout_ms * 1000, 1000, on_timer, h);
        return r < 0 ? -1 : 0;
}

/* Requests ------------------------------------------------------------------- */

static size_t on_data(char *data, size_t size, size_t n, void *userdata) {
        Request *rq = userdata;
        size_t k = size * n, max = rq->client->response_max;

        if (rq->len + k > max) {
                rq->too_big = true;
                return 0; /* makes curl fail the transfer */
        }
        if (rq->len + k + 1 > rq->cap) {
                size_t ncap = (rq->len + k + 1) * 2;
                char *b = realloc(rq->buf, ncap > max + 1 ? max + 1 : ncap);
                if (!b)
                        return 0;
                rq->buf = b;
                rq->cap = ncap > max + 1 ? max + 1 : ncap;
        }
        memcpy(rq->buf + rq->len, data, k);
        rq->len += k;
        rq->buf[rq->len] = 0;
        return k;
}

static void request_free(Request *rq) {
        if (!rq)
                return;
        if (rq->prev)
                rq->prev->next = rq->next;
        else if (rq->client->requests == rq)
                rq->client->requests = rq->next;
        if (rq->next)
                rq->next->prev = rq->prev;
        if (rq->easy) {
                rq->client->curl->multi_remove_handle(rq->client->multi, rq->easy);
                rq->client->curl->easy_cleanup(rq->easy);
        }
        if (rq->headers)
                rq->client->curl->slist_free_all(rq->headers);
        free(rq->body_out);
        free(rq->buf);
        free(rq->pin);
        free(rq);
}

static int errno_from_curl(CURLcode code) {
        switch (code) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY: return -EHOSTUNREACH;
        case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CACERT_BADFILE: return -EKEYREJECTED;
        case CURLE_WRITE_ERROR: return -EFBIG;
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE: return -ECONNRESET;
        default: return -EIO;
        }
}

static void check_done(HttpClient *h) {
        CURLMsg *msg;
        int left;

        while ((msg = h->curl->multi_info_read(h->multi, &left))) {
                Request *rq = NULL;
                HttpResult res = {};

                if (msg->msg != CURLMSG_DONE)
                        continue;
                h->curl->easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &rq);
                if (msg->data.result == CURLE_OK) {
                        h->curl->easy_getinfo(rq->easy, CURLINFO_RESPONSE_CODE, &res.status);
                        h->curl->easy_getinfo(rq->easy, CURLINFO_CONTENT_TYPE, &res.content_type);
                        /* Seconds or an HTTP date, as libcurl reads either;
                         * not an answer to trust blindly: capped by whoever
                         * waits for it. */
                        curl_off_t after = 0;
                        if (h->curl->easy_getinfo(rq->easy, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0)
                                res.retry_after = (int64_t) after;
                        res.body = rq->buf ?: "";
                        res.body_len = rq->len;
                } else if (rq->pin && rq->fingerprint[0] && !streq(rq->pin, rq->fingerprint)) {
                        res.error = -EKEYREJECTED;
                        res.message = "the server's certificate is not the pinned one (its SHA-256 fingerprint "
                                      "changed): another machine answers at that address, or the site made a "
                                      "new certificate";
                } else {
                        res.error = rq->too_big ? -EFBIG : errno_from_curl(msg->data.result);
                        res.message = rq->too_big ? "the answer is larger than any license server sends"
                                      : rq->errbuf[0] ? rq->errbuf
                                                      : h->curl->easy_strerror(msg->data.result);
                }
                res.fingerprint = rq->fingerprint[0] ? rq->fingerprint : NULL;
                rq->done(&res, rq->userdata);
                request_free(rq);
        }
}

/* A request, set up with what every request has; the caller adds what is
 * particular and then calls request_start(). */
static int request_new(HttpClient *h, const char *url, const char *body, uint64_t timeout_usec, HttpDoneFunc done,
                       void *userdata, Request **ret) {
        uint64_t timeout_ms = (timeout_usec + 999) / 1000;
        Request *rq;
        int r;

        if (timeout_ms > (uint64_t) h->timeout * 1000)
                timeout_ms = (uint64_t) h->timeout * 1000;
        r = client_start(h);
        if (r < 0)
                return r;

        rq = calloc(1, sizeof(*rq));
        if (!rq)
                return -ENOMEM;
        rq->client = h;
        rq->done = done;
        rq->userdata = userdata;
        rq->body_out = body ? strdup(body) : NULL;
        rq->easy = h->curl->easy_init();
        rq->headers = h->curl->slist_append(NULL, "Content-Type: application/json");
        if (rq->headers)
                rq->headers = h->curl->slist_append(rq->headers, "Accept: application/json");
        /* No "Expect: 100-continue": it costs a round trip (or a second's
         * wait) on every request bigger than 1 KiB, which ours are. */
        if (rq->headers)
                rq->headers = h->curl->slist_append(rq->headers, "Expect:");
        if ((body && !rq->body_out) || !rq->easy || !rq->headers) {
                request_free(rq);
                return -ENOMEM;
        }
        h->curl->easy_setopt(rq->easy, CURLOPT_URL, url);
        h->curl->easy_setopt(rq->easy, CURLOPT_PRIVATE, rq);
        if (rq->body_out)
                h->curl->easy_setopt(rq->easy, CURLOPT_POSTFIELDS, rq->body_out);
        h->curl->easy_setopt(rq->easy, CURLOPT_HTTPHEADER, rq->headers);
        h->curl->easy_setopt(rq->easy, CURLOPT_WRITEFUNCTION, on_data);
        h->curl->easy_setopt(rq->easy, CURLOPT_WRITEDATA, rq);
        h->curl->easy_setopt(rq->easy, CURLOPT_ERRORBUFFER, rq->errbuf);
        h->curl->easy_setopt(rq->easy, CURLOPT_USERAGENT, "licensed/" PACKAGE_VERSION);
        h->curl->easy_setopt(rq->easy, CURLOPT_NOSIGNAL, 1L);
        h->curl->easy_setopt(rq->easy, CURLOPT_TIMEOUT_MS, (long) timeout_ms);
        h->curl->easy_setopt(rq->easy, CURLOPT_CONNECTTIMEOUT_MS, (long) (timeout_ms < 10000 ? timeout_ms : 10000));
        h->curl->easy_setopt(rq->easy, CURLOPT_PROTOCOLS_STR, "http,https");
        h->curl->easy_setopt(rq->easy, CURLOPT_FOLLOWLOCATION, 0L);
        h->curl->easy_setopt(rq->easy, CURLOPT_SSL_VERIFYPEER, 1L);
        h->curl->easy_setopt(rq->easy, CURLOPT_SSL_VERIFYHOST, 2L);
        if (h->quick_exit)
                h->curl->easy_setopt(rq->easy, CURLOPT_QUICK_EXIT, 1L);
        *ret = rq;
        return 0;
}

static int request_start(HttpClient *h, Request *rq) {
        if (h->curl->multi_add_handle(h->multi, rq->easy) != CURLM_OK) {
                request_free(rq);
                return -EIO;
        }
        rq->next = h->requests;
        if (h->requests)
                h->requests->prev = rq;
        h->requests = rq;
        return 0;
}

int http_post_json_within(HttpClient *h, const char *url, const char *body, uint64_t timeout_usec, HttpDoneFunc done,
                          void *userdata) {
        Request *rq;
        int r;

        assert(h);
        assert(url);
        assert(body);
        assert(done);

        r = request_new(h, url, body, timeout_usec, done, userdata, &rq);
        if (r < 0)
                return r;
        /* Only the configured proxy: a daemon must not pick up whatever
         * environment it was started with. */
        h->curl->easy_setopt(rq->easy, CURLOPT_PROXY, h->proxy ?: "");
        if (h->ca_file)
                h->curl->easy_setopt(rq->easy, CURLOPT_CAINFO, h->ca_file);
        return request_start(h, rq);
}

/* Site requests: the pin ------------------------------------------------------
 * libcurl's own pinning (CURLOPT_PINNEDPUBLICKEY) pins the public key; a
 * site is pinned by its certificate's fingerprint, the one licensed-site
 * status prints. So the chain check is replaced by ours on the OpenSSL
 * context libcurl makes (Debian's libcurl4 is built on OpenSSL): it records
 * the leaf's SHA-256 and accepts it only if it is the pin. */

typedef void (*SetCertVerifyFunc)(SSL_CTX *ctx, int (*cb)(X509_STORE_CTX *, void *), void *arg);

static int on_verify_cert(X509_STORE_CTX *store, void *arg) {
        Request *rq = arg;
        X509 *cert = X509_STORE_CTX_get0_cert(store);
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned n = 0;

        if (!cert || X509_digest(cert, EVP_sha256(), md, &n) != 1 || n != 32) {
                X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
                return 0;
        }
        for (unsigned i = 0; i < n; i++)
                snprintf(rq->fingerprint + 2 * i, 3, "%02x", md[i]);
        if (rq->pin && !streq(rq->pin, rq->fingerprint)) {
                X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
                return 0;
        }
        return 1;
}

static CURLcode on_ssl_ctx(CURL *easy, void *ssl_ctx, void *userdata) {
        SetCertVerifyFunc set = (SetCertVerifyFunc) curl_api_symbol("SSL_CTX_set_cert_verify_callback");

        /* Without it nothing would check the pin: refuse the connection. */
        if (!set)
                return CURLE_SSL_CERTPROBLEM;
        set(ssl_ctx, on_verify_cert, userdata);
        return CURLE_OK;
}

int http_site_request(HttpClient *h, const char *url, const char *body, const char *pin, uint64_t timeout_usec,
                      HttpDoneFunc done, void *userdata) {
        Request *rq;
        int r;

        assert(h);
        assert(url);
        assert(done);

        r = request_new(h, url, body, timeout_usec, done, userdata, &rq);
        if (r < 0)
                return r;
        if (pin) {
                rq->pin = strdup(pin);
                if (!rq->pin) {
                        request_free(rq);
                        return -ENOMEM;
                }
        }
        if (!body)
                h->curl->easy_setopt(rq->easy, CURLOPT_HTTPGET, 1L);
        h->curl->easy_setopt(rq->easy, CURLOPT_PROTOCOLS_STR, "https");
        h->curl->easy_setopt(rq->easy, CURLOPT_PROXY, "");
        h->curl->easy_setopt(rq->easy, CURLOPT_SSL_VERIFYHOST, 0L);
        /* No CA bundle either: the pin is the whole check, and a machine
         * without ca-certificates (a minimal install) has no bundle, which
         * libcurl would fail to load before the handshake. */
        h->curl->easy_setopt(rq->easy, CURLOPT_CAINFO, NULL);
        h->curl->easy_setopt(rq->easy, CURLOPT_CAPATH, NULL);
        h->curl->easy_setopt(rq->easy, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
        h->curl->easy_setopt(rq->easy, CURLOPT_SSL_CTX_DATA, rq);
        h->curl->easy_setopt(rq->easy, CURLOPT_SSL_SESSIONID_CACHE, 0L);
        h->curl->easy_setopt(rq->easy, CURLOPT_FRESH_CONNECT, 1L);
        h->curl->easy_setopt(rq->easy, CURLOPT_FORBID_REUSE, 1L);
        return request_start(h, rq);
}

int http_post_json(HttpClient *h, const char *url, const char *body, HttpDoneFunc done, void *userdata) {
        assert(h);
        return http_post_json_within(h, url, body, (uint64_t) h->timeout * USEC_PER_SEC, done, userdata);
}

int http_client_new(sd_event *event, const HttpOptions *options, HttpClient **ret) {
        _cleanup_(http_client_freep) HttpClient *h = NULL;

        assert(event);
        assert(options);
        assert(ret);

        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->event = sd_event_ref(event);
        h->timeout = options->timeout;
        h->response_max = options->response_max ?: HTTP_RESPONSE_MAX;
        h->proxy = options->proxy ? strdup(options->proxy) : NULL;
        h->ca_file = options->ca_file ? strdup(options->ca_file) : NULL;
        h->max_host_connections = options->max_host_connections ?: HTTP_MAX_HOST_CONNECTIONS;
        h->max_total_connections = options->max_total_connections ?: HTTP_MAX_TOTAL_CONNECTIONS;
        h->quick_exit = options->quick_exit;
        if ((options->proxy && !h->proxy) || (options->ca_file && !h->ca_file))
                return -ENOMEM;
        *ret = TAKE_PTR(h);
        return 0;
}

/* Loads libcurl and sets up the multi handle, on the first request (see
 * curl-api.h for why not at start). */
static int client_start(HttpClient *h) {
        const CurlApi *curl;
        const char *why;
        int r;

        if (h->multi)
                return 0;
        r = curl_api_get(&curl, &why);
        if (r < 0) {
                log_error("Cannot talk to licensing servers: %s", why);
                return -ELIBACC;
        }
        if (curl->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -EIO;
        h->curl = curl;
        h->multi = curl->multi_init();
        if (!h->multi)
                return -ENOMEM;
        curl->multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl->multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
        curl->multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
        curl->multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
        /* Capped per host and in all; the connection cache keeps as many
         * as may be open, so each is reused (keep-alive) instead of a new
         * TCP (and TLS) handshake per request. */
        curl->multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) h->max_host_connections);
        curl->multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long) h->max_total_connections);
        curl->multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long) h->max_total_connections);
        return 0;
}

HttpClient *http_client_free(HttpClient *h) {
        if (!h)
                return NULL;
        /* Requests still in flight are dropped without a word: whoever
         * waits on them is told by its owner (licensed cancels its pending
         * calls, see context_free()). */
        while (h->requests)
                request_free(h->requests);
        if (h->multi)
                h->curl->multi_cleanup(h->multi);
        if (h->curl)
                h->curl->global_cleanup(); /* balances client_start()'s global_init */
        sd_event_source_disable_unref(h->timer);
        sd_event_unref(h->event);
        free(h->proxy);
        free(h->ca_file);
        free(h);
        return NULL;
}
