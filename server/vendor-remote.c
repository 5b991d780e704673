/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensed-vendor --server URL: the admin verbs as calls to the admin API
 * of licensed-server (docs/protocol.md, "Admin API"), on libcurl's easy
 * interface. The answers are the JSON the --db mode computes locally
 * (admin-ops.h), so the verbs print the same either way. */

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

#include "fileio.h"
#include "json-object.h"
#include "strutil.h"
#include "vendor.h"

/* An answer larger than this is not one the admin API gives. */
#define REMOTE_BODY_MAX (256 * 1024 * 1024)
#define REMOTE_TIMEOUT_SEC 60

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata) {
        /* Less than asked makes curl fail the transfer. */
        return capped_buffer_append(userdata, ptr, size * nmemb) < 0 ? 0 : size * nmemb;
}

/* server + path + the members of in as a query string. */
static int make_url(CURL *c, const char *server, const char *path, json_object *in, char **ret) {
        _cleanup_free_ char *url = NULL;
        size_t n;
        char sep = '?';

        n = strlen(server);
        while (n > 0 && server[n - 1] == '/')
                n--;
        if (asprintf(&url, "%.*s%s", (int) n, server, path) < 0)
                return -ENOMEM;
        if (in) {
                json_object_object_foreach(in, name, value) {
                        _cleanup_free_ char *joined = NULL;
                        char *k = curl_easy_escape(c, name, 0), *v = curl_easy_escape(c, json_object_get_string(value), 0);
                        int q = k && v ? asprintf(&joined, "%s%c%s=%s", url, sep, k, v) : -1;

                        curl_free(k);
                        curl_free(v);
                        if (q < 0)
                                return -ENOMEM;
                        free(url);
                        url = TAKE_PTR(joined);
                        sep = '&';
                }
        }
        *ret = TAKE_PTR(url);
        return 0;
}

/* The errno a failed answer stands for, as the --db mode would fail. */
static int status_errno(long status) {
        switch (status) {
        case 400: return -EINVAL;
        case 401: return -EACCES;
        case 403: return -EPERM;
        case 404: return -ENOENT;
        case 409: return -EEXIST;
        case 503: return -EAGAIN;
        default: return -EPROTO;
        }
}

int vendor_remote_call(const char *server, const char *token, const char *ca_file, const char *method,
                       const char *path, json_object *in, json_object **ret, CoreError *err) {
        _cleanup_free_ char *url = NULL, *auth = NULL;
        struct curl_slist *headers = NULL;
        CappedBuffer b = {.max = REMOTE_BODY_MAX};
        json_object *answer = NULL;
        const char *message;
        long status = 0;
        CURLcode rc;
        CURL *c;
        int r;

        c = curl_easy_init();
        if (!c)
                return -ENOMEM;
        r = make_url(c, server, path, streq(method, "GET") ? in : NULL, &url);
        if (r >= 0 && asprintf(&auth, "Authorization: Bearer %s", token) < 0)
                r = -ENOMEM;
        if (r < 0) {
                curl_easy_cleanup(c);
                return r;
        }
        headers = curl_slist_append(headers, auth);
        headers = curl_slist_append(headers, "Accept: application/json");
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, (long) REMOTE_TIMEOUT_SEC);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "licensed-vendor");
        if (ca_file)
                curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
        if (streq(method, "POST")) {
                headers = curl_slist_append(headers, "Content-Type: application/json");
                curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS,
                                 in ? json_object_to_json_string_ext(in, JSON_C_TO_STRING_PLAIN) : "{}");
        }
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
        curl_slist_free_all(headers);
        /* The header held the token: do not leave it in freed memory. */
        explicit_bzero(auth, strlen(auth));

        if (rc != CURLE_OK) {
                free(b.data);
                return core_error_set(err, b.too_large ? EFBIG : EHOSTUNREACH, "%s: %s", server,
                                      b.too_large ? "the answer is too large" : curl_easy_strerror(rc));
        }
        r = json_parse_object(b.data ?: "", b.len, &answer, NULL);
        free(b.data);
        if (r < 0)
                return core_error_set(err, EPROTO, "%s answered %ld without a JSON object (is it licensed-server?)",
                                      server, status);
        if (status < 200 || status > 299) {
                message = json_error_message(answer);
                r = core_error_set(err, -status_errno(status), "%s (HTTP %ld)", message ?: "no message", status);
                json_object_put(answer);
                return r;
        }
        *ret = answer;
        return 0;
}

int vendor_remote_token(const char *token_file, char **ret, CoreError *err) {
        _cleanup_free_ char *text = NULL;
        const char *env = getenv("LICENSED_TOKEN");
        size_t len;
        int r;

        if (!token_file) {
                if (!env || !*env)
                        return core_error_set(err, EINVAL,
                                              "--server needs a token: --token-file FILE or $LICENSED_TOKEN");
                text = strdup(env);
                if (!text)
                        return -ENOMEM;
        } else {
                r = read_file(token_file, 4096, &text, &len);
                if (r < 0)
                        return core_error_set(err, -r, "cannot read the token file %s: %s", token_file,
                                              strerror(-r));
        }
        memmove(text, strstrip(text), strlen(strstrip(text)) + 1);
        if (!*text || strpbrk(text, " \t\r\n"))
                return core_error_set(err, EINVAL, "the token%s%s is empty or not one line",
                                      token_file ? " file " : "", token_file ?: "");
        *ret = TAKE_PTR(text);
        return 0;
}
