/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* HTTP(S) POST of JSON to a licensing server, on libcurl's multi interface
 * driven by sd-event: the bus keeps answering while a request is in flight.
 * Timeouts, CA file and proxy come from licensed.conf. Responses are capped
 * in size; only http and https are spoken; TLS peers are always verified
 * (and, independently, every license the server sends is verified against
 * the product's trust keys). */

#include <stddef.h>

typedef struct Context Context;
typedef struct HttpClient HttpClient;

typedef struct HttpResult {
        int error;            /* 0, or negative errno for transport failures */
        const char *message;  /* what went wrong in transport terms, or NULL */
        long status;          /* HTTP status when error == 0 */
        const char *content_type; /* as sent, or NULL */
        const char *body;     /* NUL-terminated, may be empty */
        size_t body_len;
} HttpResult;

typedef void (*HttpDoneFunc)(Context *c, const HttpResult *result, void *userdata);

#define HTTP_RESPONSE_MAX (512 * 1024)

int http_client_new(Context *c, HttpClient **ret);
HttpClient *http_client_free(HttpClient *h);

/* POSTs body (JSON) to url. done is called exactly once, later, from the
 * event loop (never from inside this call). */
int http_post_json(HttpClient *h, const char *url, const char *body, HttpDoneFunc done, void *userdata);

/* Number of requests in flight (idle exit waits for them). */
unsigned http_pending(const HttpClient *h);
