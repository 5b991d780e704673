/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libcurl, loaded when the first request is made instead of when licensed
 * starts. Most of the time licensed talks to no server: linked in,
 * libcurl and what it pulls in (a TLS library, Kerberos, LDAP, SSH,
 * nghttp2, ...) were about 40% of an idle daemon's resident memory and a
 * dozen libraries to map at every start. docs/performance.md has the
 * figures.
 *
 * The table holds exactly the functions daemon/http.c calls, resolved from
 * libcurl.so.4 (the soname of Debian's libcurl4, which the licensed package
 * depends on by name since the linker no longer records it). Loaded once,
 * never unloaded: OpenSSL's and libcurl's global state do not survive a
 * dlclose(). */

#include <curl/curl.h>

typedef struct CurlApi {
        CURLcode (*global_init)(long flags);
        void (*global_cleanup)(void);
        CURL *(*easy_init)(void);
        void (*easy_cleanup)(CURL *easy);
        CURLcode (*easy_setopt)(CURL *easy, CURLoption option, ...);
        CURLcode (*easy_getinfo)(CURL *easy, CURLINFO info, ...);
        const char *(*easy_strerror)(CURLcode code);
        CURLM *(*multi_init)(void);
        CURLMcode (*multi_cleanup)(CURLM *multi);
        CURLMcode (*multi_setopt)(CURLM *multi, CURLMoption option, ...);
        CURLMcode (*multi_add_handle)(CURLM *multi, CURL *easy);
        CURLMcode (*multi_remove_handle)(CURLM *multi, CURL *easy);
        CURLMcode (*multi_assign)(CURLM *multi, curl_socket_t fd, void *p);
        CURLMcode (*multi_socket_action)(CURLM *multi, curl_socket_t fd, int ev_bitmask, int *running);
        CURLMsg *(*multi_info_read)(CURLM *multi, int *msgs_in_queue);
        struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
        void (*slist_free_all)(struct curl_slist *list);
} CurlApi;

/* The table, loading libcurl on the first call (thread-safe). -ENOENT or
 * -ELIBBAD with a sentence in ret_error (static storage) when it cannot
 * be loaded. */
int curl_api_get(const CurlApi **ret, const char **ret_error);

/* Another symbol of libcurl or of what it links (its TLS library), once it
 * is loaded: for the site client's certificate pin (http.c), which must not
 * link libssl into an idle daemon either. NULL if there is none. */
void *curl_api_symbol(const char *name);
