/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The site this machine joined (docs/floating.md): joining (fetch the
 * site, pin its certificate, enrol the device key with a join token), what
 * is kept of it in the state directory, the floating licenses it serves,
 * and the pieces every request to it shares (signing a SITE REQUEST,
 * sorting out an answer). */

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus-contract.h"
#include "fileio.h"
#include "json-object.h"
#include "log.h"
#include "pending-call.h"
#include "request.h"
#include "site-client.h"
#include "strutil.h"
#include "text-check.h"

#define SITE_CONF_MAX 4096
#define SITE_LICENSES_MAX (4 * 1024 * 1024)
#define SITE_URL_MAX 512

void site_client_free(SiteClient *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_licenses; i++) {
                free(s->licenses[i].text);
                license_done(&s->licenses[i].license);
        }
        free(s->licenses);
        free(s->url);
        free(s->key);
        free(s);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(SiteClient *, site_client_free);

static bool fingerprint_is_valid(const char *s) {
        if (strlen(s) != SITE_FINGERPRINT_HEX_LEN)
                return false;
        for (const char *p = s; *p; p++)
                if (!strchr("0123456789abcdef", *p))
                        return false;
        return true;
}

/* Accepts the fingerprint as licensed-site prints it (AB:CD:...) or as 64
 * hex digits, in any case; writes 64 lower-case hex digits. */
static int fingerprint_normalize(const char *in, char out[static SITE_FINGERPRINT_HEX_LEN + 1]) {
        size_t n = 0;

        for (const char *p = in; *p; p++) {
                if (*p == ':')
                        continue;
                if (n >= SITE_FINGERPRINT_HEX_LEN)
                        return -EINVAL;
                out[n++] = (char) (*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
        }
        out[n] = 0;
        return fingerprint_is_valid(out) ? 0 : -EINVAL;
}

static bool url_is_valid(const char *url) {
        if (strncmp(url, "https://", 8) != 0 || strlen(url) > SITE_URL_MAX || !url[8])
                return false;
        for (const char *p = url; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7f || *p == '?' || *p == '#')
                        return false;
        return true;
}

char *site_endpoint(const SiteClient *s, const char *path) {
        char *url;
        return asprintf(&url, "%s%s", s->url, path) < 0 ? NULL : url;
}

/* The state directory's site/ ------------------------------------------------- */

static char *site_path(Context *c, const char *name) {
        _cleanup_free_ char *dir = store_path(&c->store, NULL, "site", NULL);

        if (!dir || (mkdir(dir, 0700) < 0 && errno != EEXIST))
                return NULL;
        return store_path(&c->store, "site", name, NULL);
}

/* Verifies the site's licenses against the products' trust keys and keeps
 * the floating ones bound to this very site. A license of a product not
 * installed here is skipped: nothing here would ask for it. */
static int site_take_licenses(Context *c, SiteClient *s, json_object *list) {
        size_t n = list ? json_object_array_length(list) : 0;

        for (size_t i = 0; i < n; i++) {
                json_object *item = json_object_array_get_idx(list, i);
                _cleanup_(license_done) License lic = LICENSE_INIT;
                const char *text = json_object_is_type(item, json_type_string) ? json_object_get_string(item) : NULL;
                CoreError err = {};
                SiteLicense *a;
                int r;

                if (!text)
                        return -EBADMSG;
                r = license_verify_with_products(text, strlen(text), &c->products, &lic, NULL, &err);
                if (r < 0) {
                        log_info("Skipping a license of site %s: %s", s->id, core_error_message(&err, r));
                        continue;
                }
                if (lic.type != LICENSE_FLOATING || !lic.machine_id || !streq(lic.machine_id, s->id) ||
                    !lic.device_key || !streq(lic.device_key, s->key)) {
                        log_warning("Skipping license %s of site %s: it is not a floating license bound to that "
                                    "site.",
                                    lic.id, s->id);
                        continue;
                }
                a = reallocarray(s->licenses, s->n_licenses + 1, sizeof(SiteLicense));
                if (!a)
                        return -ENOMEM;
                s->licenses = a;
                a[s->n_licenses].text = strdup(text);
                if (!a[s->n_licenses].text)
                        return -ENOMEM;
                a[s->n_licenses].license = lic;
                license_init(&lic);
                s->n_licenses++;
        }
        return 0;
}

static int site_save(Context *c, const SiteClient *s, json_object *licenses) {
        _cleanup_free_ char *conf = NULL, *conf_path = site_path(c, "site.conf"),
                            *lic_path = site_path(c, "licenses");
        const char *text;
        int r;

        if (!conf_path || !lic_path)
                return -ENOMEM;
        /* The list as the site sent it, inside an object. */
        json_object *o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "licenses", json_object_get(licenses));
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        r = write_file_atomic(lic_path, text, strlen(text), 0600);
        json_object_put(o);
        if (r < 0)
                return r;
        if (asprintf(&conf, "url %s\nsite %s\nkey %s\nfingerprint %s\n", s->url, s->id, s->key, s->fingerprint) < 0)
                return -ENOMEM;
        /* Written last: the site is joined once this file is in place. */
        return write_file_atomic(conf_path, conf, strlen(conf), 0600);
}

static int parse_conf_line(char *line, const char *name, char **ret) {
        size_t n = strlen(name);

        if (strncmp(line, name, n) != 0 || line[n] != ' ' || !line[n + 1])
                return -EBADMSG;
        *ret = line + n + 1;
        return 0;
}

int site_client_load(Context *c) {
        _cleanup_free_ char *conf_path = site_path(c, "site.conf"), *lic_path = site_path(c, "licenses");
        _cleanup_free_ char *conf = NULL, *lics = NULL;
        _cleanup_(site_client_freep) SiteClient *s = NULL;
        json_object *list = NULL;
        char *lines[4], *save = NULL, *url, *id, *key, *fp;
        size_t len;
        int r;

        if (!conf_path || !lic_path)
                return log_oom();
        r = read_file(conf_path, SITE_CONF_MAX, &conf, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_warning_errno(r, "Failed to read %s, not using the site: %m", conf_path);
        for (size_t i = 0; i < 4; i++)
                lines[i] = strtok_r(i == 0 ? conf : NULL, "\n", &save);
        if (!lines[3] || parse_conf_line(lines[0], "url", &url) < 0 || parse_conf_line(lines[1], "site", &id) < 0 ||
            parse_conf_line(lines[2], "key", &key) < 0 || parse_conf_line(lines[3], "fingerprint", &fp) < 0 ||
            !url_is_valid(url) || strlen(id) != LEASE_ID_HEX_LEN || !fingerprint_is_valid(fp)) {
                log_warning("%s is damaged; join the site again (licensectl site join).", conf_path);
                return 0;
        }
        s = calloc(1, sizeof(*s));
        if (!s || !(s->url = strdup(url)) || !(s->key = strdup(key)))
                return log_oom();
        strcpy(s->id, id);
        strcpy(s->fingerprint, fp);

        r = read_file(lic_path, SITE_LICENSES_MAX, &lics, &len);
        if (r >= 0) {
                CoreError err = {};
                json_object *o = NULL;
                r = json_parse_object(lics, len, &o, &err);
                if (r >= 0) {
                        list = json_object_get(json_object_object_get(o, "licenses"));
                        r = json_object_is_type(list, json_type_array) ? 0 : -EBADMSG;
                }
                json_object_put(o);
        }
        if (r >= 0)
                r = site_take_licenses(c, s, list);
        json_object_put(list);
        if (r < 0)
                log_warning_errno(r, "Failed to read the floating licenses of site %s from %s: %m", s->id, lic_path);
        log_debug("Joined site %s at %s, %zu floating license(s).", s->id, s->url, s->n_licenses);
        site_client_free(c->site);
        c->site = TAKE_PTR(s);
        return 0;
}

const SiteLicense *site_client_find_license(Context *c, const char *product, const char *feature) {
        if (!c->site)
                return NULL;
        for (size_t i = 0; i < c->site->n_licenses; i++) {
                const SiteLicense *sl = &c->site->licenses[i];
                if (streq(sl->license.product, product) && license_find_feature(&sl->license, feature))
                        return sl;
        }
        return NULL;
}

/* Requests and answers -------------------------------------------------------- */

int site_request_body(Context *c, SiteRequest *r, char **ret_body) {
        _cleanup_free_ char *text = NULL;
        char nonce[LICENSE_NONCE_STRING_SIZE];
        json_object *o;
        int k;

        k = nonce_generate(nonce);
        if (k < 0)
                return k;
        r->site = c->site->id;
        r->machine_id = c->machine_id;
        r->device_key = c->device_key_b64;
        r->nonce = nonce;
        r->created = context_now(c);
        k = site_request_sign(r, c->device_key, &text);
        /* Borrowed, not owned: the caller's request keeps its own fields. */
        r->site = r->machine_id = r->device_key = r->nonce = NULL;
        if (k < 0)
                return k;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "request", json_object_new_string(text));
        *ret_body = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return *ret_body ? 0 : -ENOMEM;
}

int site_send(Context *c, sd_bus_message *m, PendingCall **ret_call, SiteRequest *sr, const char *url,
              uint64_t timeout_usec, HttpDoneFunc done, PendingCallCancel cancel, void *userdata) {
        _cleanup_free_ char *body = NULL;
        int r;

        /* Answered here: 0 (or the reply's error), never 1, which a
         * successful reply also returns and which tells the caller that
         * done() now owns userdata (it did not: a borrow whose request
         * could not be built leaked its call). */
        r = pending_call_new(&c->calls, m, ret_call);
        if (r < 0) {
                r = sd_bus_reply_method_errno(m, r, NULL);
                return r < 0 ? r : 0;
        }
        r = site_request_body(c, sr, &body);
        if (r >= 0)
                r = http_site_request(c->http, url, body, c->site->fingerprint, timeout_usec, done, userdata);
        if (r < 0) {
                r = pending_call_errno(*ret_call, r);
                return r < 0 ? r : 0;
        }
        pending_call_set_cancel(*ret_call, cancel, userdata);
        return 1;
}

static void copy_printable(char *dst, size_t size, const char *src) {
        snprintf(dst, size, "%s", src);
        utf8_make_printable(dst);
}

void site_answer_parse(const HttpResult *res, const char *url, SiteAnswer *ret) {
        json_object *o = NULL;
        CoreError err = {};
        int r;

        *ret = (SiteAnswer) {};
        if (res->error < 0) {
                ret->outcome = SITE_UNREACHABLE;
                snprintf(ret->message, sizeof(ret->message), "the site server %.150s cannot be reached: %.300s", url,
                         res->message ?: strerror(-res->error));
                return;
        }
        r = json_parse_object(res->body, res->body_len, &o, &err);
        if (res->status != 200) {
                json_object *e = r >= 0 ? json_object_object_get(o, "error") : NULL;
                json_object *code = e ? json_object_object_get(e, "code") : NULL;
                const char *m = r >= 0 ? json_error_message(o) : NULL;

                ret->outcome = res->status >= 500 ? SITE_UNREACHABLE : SITE_REFUSED;
                copy_printable(ret->code, sizeof(ret->code),
                               json_object_is_type(code, json_type_string) ? json_object_get_string(code) : "");
                snprintf(ret->message, sizeof(ret->message), "the site server %.150s answered HTTP %ld: %.300s", url,
                         res->status, m ?: "no reason given");
                utf8_make_printable(ret->message);
                json_object_put(o);
                return;
        }
        if (r < 0) {
                ret->outcome = SITE_BAD_ANSWER;
                snprintf(ret->message, sizeof(ret->message), "the site server %.150s answered something that is "
                         "not a JSON object (%.300s)", url, core_error_message(&err, r));
                return;
        }
        ret->outcome = SITE_OK;
        ret->json = o;
}

void site_answer_done(SiteAnswer *a) {
        json_object_put(a->json);
        a->json = NULL;
}

int site_answer_to_bus_error(const SiteAnswer *a, sd_bus_error *error) {
        const char *name = a->outcome == SITE_UNREACHABLE ? BUS_ERROR_SERVER_UNREACHABLE
                           : a->outcome == SITE_REFUSED   ? BUS_ERROR_SERVER_REFUSED
                                                          : BUS_ERROR_BAD_SERVER_RESPONSE;
        /* A capital first letter and a full stop: the bus error is a sentence. */
        return sd_bus_error_setf(error, name, "%c%s.", a->message[0] == 't' ? 'T' : a->message[0], a->message + 1);
}

/* Joining ----------------------------------------------------------------------
 * Two steps on one call: GET /v1/site with the pin (no pin: only say what
 * the fingerprint is), then POST /v1/enrol with the token; the site is
 * saved only when both succeeded. */

typedef struct JoinCall {
        Context *c;
        PendingCall *call;
        SiteClient *site;  /* what is being joined */
        json_object *licenses;
        char *token;
        char *url;         /* of the request in flight */
} JoinCall;

static void join_call_free(void *userdata) {
        JoinCall *jc = userdata;

        if (!jc)
                return;
        pending_call_free(jc->call);
        site_client_free(jc->site);
        json_object_put(jc->licenses);
        free(jc->token);
        free(jc->url);
        free(jc);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(JoinCall *, join_call_free);

static int join_fail(JoinCall *jc, const SiteAnswer *a) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        site_answer_to_bus_error(a, &error);
        return pending_call_error(jc->call, &error);
}

static void enrol_done(const HttpResult *res, void *userdata) {
        _cleanup_(join_call_freep) JoinCall *jc = userdata;
        _cleanup_(site_answer_done) SiteAnswer a;
        Context *c = jc->c;
        int r;

        site_answer_parse(res, jc->url, &a);
        if (a.outcome != SITE_OK) {
                (void) join_fail(jc, &a);
                return;
        }
        r = site_save(c, jc->site, jc->licenses);
        if (r < 0) {
                (void) pending_call_errorf(jc->call, BUS_ERROR_STORAGE_FAILURE,
                                           "Enrolled with site %s, but could not save it in the state directory: "
                                           "%s.",
                                           jc->site->id, strerror(-r));
                return;
        }
        log_notice("Joined site %s at %s (certificate %s), %zu floating license(s).", jc->site->id, jc->site->url,
                   jc->site->fingerprint, jc->site->n_licenses);
        /* Leases of another site stay where they are: borrowed ones are
         * checked against their own license, taken ones end with their
         * holders. */
        site_client_free(c->site);
        c->site = TAKE_PTR(jc->site);
        context_reevaluate(c); /* the snapshot leaves out what the site floats */
        (void) pending_call_return(jc->call, "ss", c->site->id, c->site->fingerprint);
}

static void site_info_done(const HttpResult *res, void *userdata) {
        _cleanup_(join_call_freep) JoinCall *jc = userdata;
        _cleanup_(site_answer_done) SiteAnswer a;
        _cleanup_free_ char *body = NULL;
        Context *c = jc->c;
        const char *id = NULL, *key = NULL;
        CoreError err = {};
        int r;

        site_answer_parse(res, jc->url, &a);
        if (a.outcome != SITE_OK) {
                (void) join_fail(jc, &a);
                return;
        }
        if (json_get_string(a.json, "site", true, &id, &err) < 0 || json_get_string(a.json, "key", true, &key, &err) < 0 ||
            strlen(id) != LEASE_ID_HEX_LEN || !json_object_is_type(json_object_object_get(a.json, "licenses"), json_type_array)) {
                (void) pending_call_errorf(jc->call, BUS_ERROR_BAD_SERVER_RESPONSE,
                                           "%s is not a licensed-site: its answer has no site id, key and licenses.",
                                           jc->site->url);
                return;
        }
        strcpy(jc->site->id, id);
        /* Without a pin asked for, only tell what answered: nothing is
         * trusted or saved until the administrator confirms it. */
        if (!jc->token) {
                (void) pending_call_return(jc->call, "ss", id, res->fingerprint ?: "");
                return;
        }
        jc->site->key = strdup(key);
        jc->licenses = json_object_get(json_object_object_get(a.json, "licenses"));
        r = jc->site->key ? site_take_licenses(c, jc->site, jc->licenses) : -ENOMEM;
        if (r < 0) {
                (void) pending_call_errorf(jc->call, BUS_ERROR_BAD_SERVER_RESPONSE,
                                           "The site's list of licenses is not a list of license texts.");
                return;
        }

        /* The enrolment request is made for this site: site_request_body()
         * reads c->site, which is the old one (or none) until the join is
         * done. */
        SiteClient *old = c->site;
        SiteRequest sr = {.type = SITE_REQUEST_ENROL, .token = jc->token, .host = NULL};
        char host[256] = "";
        (void) gethostname(host, sizeof(host) - 1);
        sr.host = host[0] ? host : (char *) "localhost";
        c->site = jc->site;
        r = site_request_body(c, &sr, &body);
        c->site = old;
        free(jc->url);
        jc->url = site_endpoint(jc->site, "/v1/enrol");
        if (r >= 0)
                r = jc->url ? http_site_request(c->http, jc->url, body, jc->site->fingerprint,
                                                SITE_REQUEST_TIMEOUT_USEC, enrol_done, jc)
                            : -ENOMEM;
        if (r < 0) {
                (void) pending_call_errno(jc->call, r);
                return;
        }
        TAKE_PTR(jc);
}

int site_client_join(Context *c, sd_bus_message *m, const char *url, const char *token, const char *fingerprint) {
        _cleanup_(join_call_freep) JoinCall *jc = NULL;
        size_t n = strlen(url);
        int r;

        if (!url_is_valid(url))
                return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS,
                                                  "'%.80s' is not a site server URL (https://HOST:PORT).", url);
        jc = calloc(1, sizeof(*jc));
        if (!jc || !(jc->site = calloc(1, sizeof(SiteClient))))
                return sd_bus_reply_method_errno(m, -ENOMEM, NULL);
        while (n > 0 && url[n - 1] == '/')
                n--;
        jc->site->url = strndup(url, n);
        if (!jc->site->url)
                return sd_bus_reply_method_errno(m, -ENOMEM, NULL);
        if (!isempty(fingerprint)) {
                if (fingerprint_normalize(fingerprint, jc->site->fingerprint) < 0)
                        return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS,
                                                          "'%.100s' is not a SHA-256 fingerprint (64 hex digits, "
                                                          "colons allowed).",
                                                          fingerprint);
                jc->token = strdup(token);
                if (!jc->token)
                        return sd_bus_reply_method_errno(m, -ENOMEM, NULL);
        }
        r = pending_call_new(&c->calls, m, &jc->call);
        if (r < 0)
                return sd_bus_reply_method_errno(m, r, NULL);
        jc->c = c;
        jc->url = site_endpoint(jc->site, "/v1/site");
        r = jc->url ? http_site_request(c->http, jc->url, NULL, jc->token ? jc->site->fingerprint : NULL,
                                        SITE_REQUEST_TIMEOUT_USEC, site_info_done, jc)
                    : -ENOMEM;
        if (r < 0)
                return pending_call_errno(jc->call, r);
        pending_call_set_cancel(jc->call, join_call_free, jc);
        TAKE_PTR(jc);
        return 1;
}

int site_client_leave(Context *c, sd_bus_message *m) {
        _cleanup_free_ char *conf_path = site_path(c, "site.conf"), *lic_path = site_path(c, "licenses");
        _cleanup_free_ char *id = NULL;

        if (!c->site)
                return sd_bus_reply_method_errorf(m, BUS_ERROR_NOT_SUPPORTED, "This machine has joined no site.");
        if (!conf_path || !lic_path)
                return sd_bus_reply_method_errno(m, -ENOMEM, NULL);
        if (unlink(conf_path) < 0 && errno != ENOENT)
                return sd_bus_reply_method_errorf(m, BUS_ERROR_STORAGE_FAILURE, "Cannot remove %s: %m.", conf_path);
        (void) unlink(lic_path);
        (void) fsync_parent_dir(conf_path);
        leases_return_all_taken(c);
        id = strdup(c->site->id);
        log_notice("Left site %s.", c->site->id);
        site_client_free(c->site);
        c->site = NULL;
        context_reevaluate(c);
        return sd_bus_reply_method_return(m, "s", id ?: "");
}
