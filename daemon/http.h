/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* HTTP(S) POST of JSON to a licensing server, on libcurl's multi interface
 * driven by sd-event: the bus keeps answering while a request is in flight.
 * Timeouts, CA file and proxy are the client's options (licensed takes them
 * from licensed.conf). Responses are capped in size; only http and https
 * are spoken; TLS peers are always verified (and, independently, every
 * license the server sends is verified against the product's trust keys). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct HttpClient HttpClient;

typedef struct HttpOptions {
        int64_t timeout;     /* seconds for a whole request; connecting takes at most 10 of them */
        const char *proxy;   /* NULL: none (the environment's proxy variables are never used) */
        const char *ca_file; /* NULL: the system's CA bundle */
        size_t response_max; /* bytes; 0: HTTP_RESPONSE_MAX */
        /* Connections open at once to one host, and in all; 0: the defaults
         * below. Requests beyond them wait in the client for a connection,
         * and connections are kept alive for the next request. */
        unsigned max_host_connections;
        unsigned max_total_connections;
        /* For requests made as the process exits: a request that ends
         * (its timeout) while its host name is still being looked up
         * leaves the lookup's thread behind instead of waiting for it
         * (CURLOPT_QUICK_EXIT), which a DNS server that does not answer
         * would make last many seconds. */
        bool quick_exit;
} HttpOptions;

typedef struct HttpResult {
        int error;            /* 0, or negative errno for transport failures */
        const char *message;  /* what went wrong in transport terms, or NULL */
        long status;          /* HTTP status when error == 0 */
        const char *content_type; /* as sent, or NULL */
        const char *body;     /* NUL-terminated, may be empty */
        size_t body_len;
        const char *fingerprint; /* site requests: SHA-256 of the peer's certificate, 64 hex, or NULL */
        int64_t retry_after;     /* seconds from a Retry-After header (429, 503), 0 if none */
} HttpResult;

typedef void (*HttpDoneFunc)(const HttpResult *result, void *userdata);

#define HTTP_RESPONSE_MAX (512 * 1024)
/* A licensing server serves many machines: a daemon with thousands of
 * licenses must not take all of its connections (licensed-server accepts
 * 256) to validate them. */
#define HTTP_MAX_HOST_CONNECTIONS 8
#define HTTP_MAX_TOTAL_CONNECTIONS 32

/* The client runs on EVENT (it takes a reference); the options are copied. */
int http_client_new(sd_event *event, const HttpOptions *options, HttpClient **ret);
/* Requests in flight are dropped: their done functions are never called. */
HttpClient *http_client_free(HttpClient *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(HttpClient *, http_client_free);

/* POSTs body (JSON) to url. done is called exactly once, later, from the
 * event loop (never from inside this call), unless the client is freed
 * first. */
int http_post_json(HttpClient *h, const char *url, const char *body, HttpDoneFunc done, void *userdata);
/* The same, but the request takes at most timeout_usec in all (never more
 * than the client's timeout): for a caller that must answer by a deadline. */
int http_post_json_within(HttpClient *h, const char *url, const char *body, uint64_t timeout_usec, HttpDoneFunc done,
                          void *userdata);

/* A request to a licensed-site (docs/floating.md) on the LAN: GET when body
 * is NULL, else a JSON POST. TLS is trusted by the pin alone, the SHA-256 of
 * the server's certificate (64 lower-case hex): no CA, no host name, no
 * proxy, no connection or TLS session reused (each request verifies the
 * pin on a fresh handshake). With pin NULL any certificate is taken, for
 * the one request that shows the fingerprint before joining; its
 * fingerprint is in the result either way. */
int http_site_request(HttpClient *h, const char *url, const char *body, const char *pin, uint64_t timeout_usec,
                      HttpDoneFunc done, void *userdata);
