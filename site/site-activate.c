/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The site server's own activation: the ACTIVATION REQUEST licensectl
 * would make (core/request.c), with the site id as machine id and the
 * site key as device key, printed for the vendor (offline) or posted to
 * licensed-server's /v1/activate (online, docs/protocol.md). licensed
 * drives libcurl from its event loop (daemon/http.c); here one blocking
 * request from a command is all there is, so the easy interface does. */

#include <curl/curl.h>
#include <stdlib.h>
#include <unistd.h>

#include "json-object.h"
#include "license-key.h"
#include "request.h"
#include "strutil.h"
#include "site.h"
#include "timeutil.h"

#define ANSWER_MAX (512 * 1024)
#define TIMEOUT_SEC 30L

int site_activation_request(Site *s, const char *product, const char *key_input, char **ret, CoreError *err) {
        char key[LICENSE_KEY_STRING_SIZE], nonce[LICENSE_NONCE_STRING_SIZE], host[256] = "";
        MachineRequest rq;
        int r;

        if (!product || !product_id_is_valid(product))
                return core_error_set(err, EINVAL, "--product ID is needed (a valid product id)");
        r = license_key_normalize(key_input, key, err);
        if (r < 0)
                return r;
        r = nonce_generate(nonce);
        if (r < 0)
                return core_error_set(err, r, "no random bytes: %s", strerror(-r));
        (void) gethostname(host, sizeof(host) - 1);
        rq = (MachineRequest) {
                .type = MACHINE_REQUEST_ACTIVATION,
                .product = (char *) product,
                .key = key,
                .machine_id = s->id,
                .device_key = s->key_base64,
                .nonce = nonce,
                .created = now_realtime(),
                .hostname = host[0] ? host : NULL,
        };
        r = machine_request_sign(&rq, s->key, ret);
        if (r < 0)
                return core_error_set(err, r, "cannot make the activation request: %s", strerror(-r));
        return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *userdata) {
        /* Less than asked makes curl fail the transfer. */
        return capped_buffer_append(userdata, p, size * n) < 0 ? 0 : size * n;
}

static size_t endswith_slash(const char *s) {
        return s[0] && s[strlen(s) - 1] == '/';
}

DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_slist *, curl_slist_free_all);
DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

int site_activate_online(const char *server_url, const char *ca_file, const char *request, char **ret_license,
                         CoreError *err) {
        _cleanup_(curl_easy_cleanupp) CURL *c = NULL;
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_(json_object_putp) json_object *body = NULL, *answer = NULL;
        _cleanup_free_ char *url = NULL, *data = NULL;
        char curl_error[CURL_ERROR_SIZE] = "";
        const char *license = NULL;
        CappedBuffer b = {.max = ANSWER_MAX};
        long status = 0;
        CURLcode rc;
        int r;

        /* "https://licensing.example.com" or with a trailing slash */
        if (asprintf(&url, "%.*s/v1/activate", (int) (strlen(server_url) - endswith_slash(server_url)), server_url) < 0)
                return -ENOMEM;
        body = json_object_new_object();
        if (!body || json_object_object_add(body, "request", json_object_new_string(request)) < 0)
                return -ENOMEM;
        data = strdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
        c = curl_easy_init();
        headers = curl_slist_append(NULL, "Content-Type: application/json");
        if (!data || !c || !headers)
                return -ENOMEM;
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, TIMEOUT_SEC);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_error);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        if (ca_file)
                curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
        rc = curl_easy_perform(c);
        if (rc != CURLE_OK) {
                free(b.data);
                return core_error_set(err, b.too_large ? EFBIG : EHOSTUNREACH, "%s: %s", url,
                                      b.too_large ? "the answer is larger than 512 KiB"
                                                  : curl_error[0] ? curl_error : curl_easy_strerror(rc));
        }
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        r = json_parse_object(b.data ?: "", b.len, &answer, err);
        free(b.data);
        if (r < 0) {
                core_error_prefix(err, "%s answered HTTP %ld, not JSON: ", url, status);
                return -EBADMSG;
        }
        if (status != 200)
                return core_error_set(err, EACCES, "%s refused the activation (HTTP %ld): %s", url, status,
                                      json_error_message(answer) ?: "no message");
        r = json_get_string(answer, "license", true, &license, err);
        if (r < 0)
                return r;
        *ret_license = strdup(license);
        return *ret_license ? 0 : -ENOMEM;
}
