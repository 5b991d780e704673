/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "bus-contract.h"
#include "events.h"
#include "http.h"
#include "json-object.h"
#include "log.h"
#include "online.h"
#include "operations.h"
#include "pending-call.h"
#include "request.h"
#include "strutil.h"

/* Transient failures (refused, reset, 5xx) are tried this many times in
 * all, within one call (see validate_answer()). */
#define RETRY_ATTEMPTS 3

/* The license's server, or its product's; NULL if neither has one. */
static const char *entry_server_url(const Entry *e) {
        return e->license.server_url ?: e->product->server_url;
}

static char *endpoint(const char *base, const char *path) {
        size_t n = strlen(base);
        char *url;

        while (n > 0 && base[n - 1] == '/')
                n--;
        if (asprintf(&url, "%.*s%s", (int) n, base, path) < 0)
                return NULL;
        return url;
}

static char *json_body(const char *name, const char *value) {
        json_object *o = json_object_new_object();
        char *s;

        if (!o)
                return NULL;
        json_object_object_add(o, name, json_object_new_string(value));
        s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return s;
}

/* Turns an HTTP result into a JSON object, or fills error with why not. */
static json_object *parse_answer(const HttpResult *res, const char *url, sd_bus_error *error) {
        json_object *o = NULL;
        CoreError err = {};
        int r;

        if (res->error < 0) {
                sd_bus_error_setf(error, BUS_ERROR_SERVER_UNREACHABLE,
                                  "Could not reach the licensing server %s: %s.", url,
                                  res->message ?: strerror(-res->error));
                return NULL;
        }
        r = json_parse_object(res->body, res->body_len, &o, &err);
        if (res->status != 200) {
                _cleanup_free_ char *text = NULL;
                const char *m = r >= 0 ? json_error_message(o) : NULL;

                /* The server's words go into a D-Bus error and onto a
                 * terminal: printable UTF-8, or nothing. */
                if (m) {
                        text = strndup(m, 512);
                        if (text)
                                utf8_make_printable(text);
                }
                /* 5xx: the server is in trouble, as good as unreachable (and
                 * worth a retry); 4xx: it refused this request. */
                sd_bus_error_setf(error, res->status >= 500 ? BUS_ERROR_SERVER_UNREACHABLE : BUS_ERROR_SERVER_REFUSED,
                                  "The licensing server %s answered HTTP %ld: %s", url, res->status,
                                  text ? text : "no reason given");
                json_object_put(o);
                return NULL;
        }
        if (!res->content_type || strncasecmp(res->content_type, "application/json", 16) != 0) {
                _cleanup_free_ char *type = res->content_type ? strndup(res->content_type, 128) : NULL;

                if (type)
                        utf8_make_printable(type); /* a header: any bytes at all */
                sd_bus_error_setf(error, BUS_ERROR_BAD_SERVER_RESPONSE,
                                  "The licensing server %s answered %s, not JSON; nothing was changed.", url,
                                  type ?: "without a content type");
                json_object_put(o);
                return NULL;
        }
        if (r == -ENOMEM) {
                sd_bus_error_set_errno(error, r);
                return NULL;
        }
        if (r < 0) {
                sd_bus_error_setf(error, BUS_ERROR_BAD_SERVER_RESPONSE,
                                  "The licensing server %s answered something that is not a JSON object (%s); "
                                  "nothing was changed.",
                                  url, core_error_message(&err, r));
                return NULL;
        }
        return o;
}

/* A string member, or NULL if absent; sets error if required and absent, or
 * present but not a string. */
static const char *get_string(json_object *o, const char *name, bool required, sd_bus_error *error) {
        const char *v;
        CoreError err = {};
        int r;

        r = json_get_string(o, name, required, &v, &err);
        if (r < 0) {
                sd_bus_error_setf(error, BUS_ERROR_BAD_SERVER_RESPONSE,
                                  "The licensing server's answer is not what licensed expects: %s; nothing was "
                                  "changed.",
                                  core_error_message(&err, r));
                return NULL;
        }
        return v;
}

static bool transient(const HttpResult *res) {
        return res->error == -ECONNREFUSED || res->error == -ECONNRESET || (res->error == 0 && res->status >= 500);
}

/* Activation -------------------------------------------------------------------- */

typedef struct ActivateCall {
        Context *c;
        PendingCall *call;
        char *url;
        char nonce[33];
        bool trial;
} ActivateCall;

/* Also the call's cancel function (the HTTP client drops its request). */
static void activate_call_free(void *userdata) {
        ActivateCall *ac = userdata;

        if (!ac)
                return;
        pending_call_free(ac->call);
        free(ac->url);
        free(ac);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(ActivateCall *, activate_call_free);

static void activate_done(const HttpResult *res, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(activate_call_freep) ActivateCall *ac = userdata;
        Context *c = ac->c;
        json_object *o;
        const char *license;
        Entry *e = NULL;
        int r = -EIO;

        o = parse_answer(res, ac->url, &error);
        license = o ? get_string(o, "license", true, &error) : NULL;
        /* Everything a server sends is verified like an offline license:
         * signature, product trust, binding to this machine, nonce. */
        if (license)
                r = op_install(c, license, ac->nonce, &e, &error);
        if (r >= 0) {
                event_emit(EVENT_ACTIVATED, LOG_NOTICE,
                           &(EventFields) {.license_id = e->id, .product = e->license.product, .days_left = -1},
                           "%s license %s for %s online.", ac->trial ? "Started the trial with" : "Activated",
                           e->id, e->license.product);
                _cleanup_free_ char *path = entry_object_path(e);
                r = path ? pending_call_return(ac->call, "o", path) : pending_call_errno(ac->call, -ENOMEM);
        } else
                r = pending_call_error(ac->call, &error);
        if (r < 0)
                log_warning_errno(r, "Failed to reply to Activate: %m");
        json_object_put(o);
}

int online_activate(Context *c, sd_bus_message *m, const char *product, const char *key) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *request = NULL, *body = NULL;
        _cleanup_(activate_call_freep) ActivateCall *ac = NULL;
        const Product *p = product_set_find(&c->products, product);
        char nonce[33];
        int r;

        if (!p->server_url)
                return sd_bus_reply_method_errorf(m, BUS_ERROR_NOT_SUPPORTED,
                                                  "Product %s has no licensing server; %s offline "
                                                  "(licensectl %s --offline %s).",
                                                  product, key ? "activate" : "start the trial",
                                                  key ? "activate" : "trial", key ? "KEY" : product);
        r = op_request_activation(c, product, key, false, &request, nonce, &error);
        if (r < 0)
                return sd_bus_reply_method_error(m, &error);
        ac = calloc(1, sizeof(*ac));
        if (!ac)
                return sd_bus_reply_method_errno(m, -ENOMEM, NULL);
        r = pending_call_new(&c->calls, m, &ac->call);
        if (r < 0)
                return sd_bus_reply_method_errno(m, r, NULL);
        ac->c = c;
        ac->trial = !key;
        memcpy(ac->nonce, nonce, sizeof(nonce));
        body = json_body("request", request);
        ac->url = endpoint(p->server_url, key ? "/v1/activate" : "/v1/trial");
        r = body && ac->url ? http_post_json(c->http, ac->url, body, activate_done, ac) : -ENOMEM;
        if (r < 0)
                return pending_call_errno(ac->call, r);
        pending_call_set_cancel(ac->call, activate_call_free, ac);
        TAKE_PTR(ac); /* activate_done() frees it */
        return 1;
}

/* Validation --------------------------------------------------------------------
 * One call validates one or all licenses and replies when the last one is
 * done. Each result: id, outcome, message.
 *
 * With thousands of licenses the call is a queue: the licenses validated
 * longest ago go first, at most VALIDATE_IN_FLIGHT requests are out at once
 * (the HTTP client opens at most HTTP_MAX_HOST_CONNECTIONS to a server and
 * reuses them; the rest of the window waits there for a free connection, so
 * a connection never idles while licensed handles an answer), and a request
 * the server could not take goes back into the queue after a pause. Every
 * receipt is stored on its own as it arrives, but inside a deferral scope
 * (announce.h): the licenses are re-evaluated, the snapshot written and the
 * state announced once, when the call ends. */

#define VALIDATE_IN_FLIGHT (2 * HTTP_MAX_HOST_CONNECTIONS)
/* The call ends this long after it started, whatever the number of
 * licenses: licensectl waits 90 s for it. Every request (first or retry)
 * must end by then: it gets http_timeout or what is left of the budget,
 * and none is sent with less than VALIDATE_REQUEST_MIN_USEC left, which a
 * healthy server needs by far less than. */
#define VALIDATE_BUDGET_USEC (75 * USEC_PER_SEC)
#define VALIDATE_REQUEST_MIN_USEC (5 * USEC_PER_SEC)

typedef struct ValidateCall ValidateCall;

typedef struct ValidateOne {
        ValidateCall *call;
        char *id;
        char *url;
        char *body;
        int64_t last_validation; /* the queue's order */
        unsigned attempt;
        sd_event_source *retry;
        const char *outcome; /* static string */
        char message[512];
} ValidateOne;

struct ValidateCall {
        Context *c;
        PendingCall *call;
        ValidateOne *items;
        size_t n, remaining;
        ValidateOne **queue; /* ring of n: each item is in it at most once */
        size_t queue_head, queue_len;
        size_t in_flight;
        uint64_t started; /* CLOCK_MONOTONIC */
};

static void validate_call_reply(ValidateCall *vc) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(pending_call_message(vc->call), &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sss)");
        for (size_t i = 0; r >= 0 && i < vc->n; i++)
                r = sd_bus_message_append(reply, "(sss)", vc->items[i].id, vc->items[i].outcome,
                                          vc->items[i].message);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = pending_call_send(vc->call, reply);
        else
                (void) pending_call_errno(vc->call, r); /* could not build it: say so rather than nothing */
        if (r < 0)
                log_warning_errno(r, "Failed to reply to Validate: %m");
}

/* Also the call's cancel function: the retry timers go with it, and the
 * HTTP client drops its requests. */
static void validate_call_free(void *userdata) {
        ValidateCall *vc = userdata;

        for (size_t i = 0; i < vc->n; i++) {
                free(vc->items[i].id);
                free(vc->items[i].url);
                free(vc->items[i].body);
                sd_event_source_disable_unref(vc->items[i].retry);
        }
        free(vc->items);
        free(vc->queue);
        pending_call_free(vc->call);
        free(vc);
}

/* Drops one reference: the last one announces what changed (outside any
 * deferral scope, see validate_step_end()), replies and frees the call. */
static void validate_call_release(ValidateCall *vc) {
        if (--vc->remaining > 0)
                return;
        context_flush_deferred(vc->c);
        validate_call_reply(vc);
        validate_call_free(vc);
}

/* Every entry into the call from the event loop is a step: it holds a
 * reference, so that no completion inside it can free the call, and defers
 * announcements until the call ends. */
static void validate_step_begin(ValidateCall *vc) {
        vc->remaining++;
        context_defer_begin(vc->c);
}

static void validate_step_end(ValidateCall *vc) {
        context_defer_end(vc->c);
        validate_call_release(vc);
}

static void one_done(ValidateOne *one, const char *outcome, const char *fmt, ...) _printf_(3, 4);
static void one_done(ValidateOne *one, const char *outcome, const char *fmt, ...) {
        va_list ap;

        one->outcome = outcome;
        va_start(ap, fmt);
        vsnprintf(one->message, sizeof(one->message), fmt, ap);
        va_end(ap);
        /* It quotes the server and may be cut inside a character: the
         * Validate reply carries it, and D-Bus strings must be UTF-8. */
        utf8_make_printable(one->message);
        validate_call_release(one->call);
}

/* The server could not be reached or refused: keep the license, record the
 * attempt, and say where the grace period stands. */
static void validation_failed(Context *c, ValidateOne *one, const char *why) {
        Entry *e = context_find_entry(c, one->id);
        char error[LICENSE_STATE_ERROR_MAX + 1];
        LicenseState st;
        LocalState ls;
        Verdict v;
        int r;

        if (!e) {
                one_done(one, "failed", "%s (the license was removed meanwhile)", why);
                return;
        }
        st = e->state;
        st.last_attempt = context_now(c);
        snprintf(error, sizeof(error), "%s", why);
        utf8_make_printable(error); /* cut to size; the state file takes printable text only */
        st.last_error = strdup(error);
        r = st.last_error ? store_save_state(&c->store, e->id, &st) : -ENOMEM;
        if (r < 0) {
                log_warning_errno(r, "Failed to record the failed validation of %s: %m", e->id);
                free(st.last_error);
        } else {
                free(e->state.last_error);
                e->state = st;
        }
        entry_local_state(c, e, &ls);
        evaluate(&e->license, &ls, NULL, context_now(c), TIME_UNSET, &v);
        event_emit(EVENT_VALIDATION_FAILED, LOG_WARNING,
                   &(EventFields) {.license_id = e->id, .product = e->license.product,
                                   .reason = reason_to_string(v.reason),
                                   .days_left = v.reason == REASON_GRACE ? days_left(context_now(c), v.grace_end) : -1},
                   "Validation of license %s of %s failed: %s", e->id, e->license.product, why);
        if (v.reason == REASON_GRACE)
                one_done(one, "failed", "%s; in grace, %lld days left", why,
                         (long long) days_left(context_now(c), v.grace_end));
        else
                one_done(one, "failed", "%s; status %s", why, reason_to_string(v.reason));
        context_reevaluate(c);
}

/* Whether a request sent at this time still has enough of the call's budget. */
static bool validate_in_time(ValidateCall *vc, uint64_t at) {
        return at + VALIDATE_REQUEST_MIN_USEC <= vc->started + VALIDATE_BUDGET_USEC;
}

static void validate_enqueue(ValidateOne *one) {
        ValidateCall *vc = one->call;

        assert(vc->queue_len < vc->n);
        vc->queue[(vc->queue_head + vc->queue_len++) % vc->n] = one;
}

static int send_validation(ValidateOne *one);

/* Sends from the queue while the window has room. Once no request could
 * end in time, the rest of the queue is answered at once, each license
 * by name. Called within a step. */
static void validate_pump(ValidateCall *vc) {
        uint64_t now;

        (void) sd_event_now(vc->c->event, CLOCK_MONOTONIC, &now);
        while (vc->queue_len > 0) {
                bool in_time = validate_in_time(vc, now);
                ValidateOne *one;

                if (in_time && vc->in_flight >= VALIDATE_IN_FLIGHT)
                        break;
                one = vc->queue[vc->queue_head];
                vc->queue_head = (vc->queue_head + 1) % vc->n;
                vc->queue_len--;
                if (!in_time)
                        one_done(one, "failed",
                                 "not asked: validating %zu licenses took longer than the %llu s this call may "
                                 "take; it goes first the next time",
                                 vc->n, (unsigned long long) (VALIDATE_BUDGET_USEC / USEC_PER_SEC));
                else if (send_validation(one) < 0)
                        validation_failed(vc->c, one, "could not send the request");
                else
                        vc->in_flight++;
        }
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        ValidateOne *one = userdata;
        ValidateCall *vc = one->call;

        one->retry = sd_event_source_disable_unref(one->retry);
        validate_step_begin(vc);
        validate_enqueue(one);
        validate_pump(vc);
        validate_step_end(vc);
        return 0;
}

/* Handles one answer; within a step. */
static void validate_answer(ValidateOne *one, const HttpResult *res) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        ValidateCall *vc = one->call;
        Context *c = vc->c;
        json_object *o;
        const char *status, *receipt, *license;
        Entry *e;
        int r;

        /* Transient failures (refused, reset, 5xx) are tried again after 2 s
         * and 6 s, if the retry can end within the call's budget: the timer
         * runs again tomorrow. A server that limits this machine's rate (429)
         * is asked again when it says (Retry-After, 1 to 30 s), as often as
         * the budget allows: a machine with more licenses than the server's
         * burst then validates at the server's rate instead of failing the
         * rest. */
        bool limited = res->error == 0 && res->status == 429;
        if ((transient(res) && one->attempt < RETRY_ATTEMPTS) || limited) {
                uint64_t now, at;
                (void) sd_event_now(c->event, CLOCK_MONOTONIC, &now);
                if (limited)
                        at = now + (uint64_t) (res->retry_after < 1 ? 1 : res->retry_after > 30 ? 30 : res->retry_after) *
                                           USEC_PER_SEC;
                else
                        at = now + (one->attempt == 1 ? 2 : 6) * USEC_PER_SEC;
                if (validate_in_time(vc, at)) {
                        r = sd_event_add_time(c->event, &one->retry, CLOCK_MONOTONIC, at, 1000, on_retry, one);
                        if (r >= 0)
                                return;
                }
        }
        o = parse_answer(res, one->url, &error);
        if (!o) {
                validation_failed(c, one, error.message);
                return;
        }
        status = get_string(o, "status", true, &error);
        receipt = status ? get_string(o, "receipt", true, &error) : NULL;
        license = receipt ? get_string(o, "license", false, &error) : NULL;
        if (!receipt || sd_bus_error_is_set(&error)) {
                validation_failed(c, one, error.message);
                json_object_put(o);
                return;
        }
        /* An upgraded license first (it answers this very request), then the
         * receipt; both are verified like anything installed offline. */
        if (license) {
                r = op_install(c, license, NULL, &e, &error);
                if (r < 0) {
                        validation_failed(c, one, error.message);
                        json_object_put(o);
                        return;
                }
        }
        r = op_install(c, receipt, NULL, &e, &error);
        if (r < 0) {
                validation_failed(c, one, error.message);
                json_object_put(o);
                return;
        }
        if (e->state.revoked)
                one_done(one, "revoked", "the vendor revoked this license");
        else
                one_done(one, "ok", "%s", license ? "validated; a newer license was installed" : "validated");
        json_object_put(o);
}

static void validate_done(const HttpResult *res, void *userdata) {
        ValidateOne *one = userdata;
        ValidateCall *vc = one->call;

        validate_step_begin(vc);
        assert(vc->in_flight > 0);
        vc->in_flight--;
        validate_answer(one, res);
        validate_pump(vc);
        validate_step_end(vc);
}

static int send_validation(ValidateOne *one) {
        ValidateCall *vc = one->call;
        Context *c = vc->c;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *request = NULL;
        Entry *e = context_find_entry(c, one->id);
        uint64_t now;
        int r;

        if (!e)
                return -ENOENT;
        (void) sd_event_now(c->event, CLOCK_MONOTONIC, &now);
        assert(validate_in_time(vc, now));
        /* A fresh request (and nonce) per attempt. */
        r = op_request_validation(c, e, &request, &error);
        if (r < 0)
                return r;
        free(one->body);
        one->body = json_body("request", request);
        if (!one->body)
                return -ENOMEM;
        one->attempt++;
        /* At most what is left of the call's budget (http.c caps it at http_timeout). */
        return http_post_json_within(c->http, one->url, one->body, vc->started + VALIDATE_BUDGET_USEC - now,
                                     validate_done, one);
}

/* Never validated (0) first, then the longest ago. */
static int one_compare(const void *a, const void *b) {
        const ValidateOne *x = *(ValidateOne *const *) a, *y = *(ValidateOne *const *) b;

        if (x->last_validation != y->last_validation)
                return x->last_validation < y->last_validation ? -1 : 1;
        return x < y ? -1 : x > y; /* stable: the installed order */
}

int online_validate(Context *c, sd_bus_message *m, const char *id) {
        ValidateCall *vc;
        size_t n = 0;
        int r;

        vc = calloc(1, sizeof(*vc));
        if (!vc)
                return sd_bus_reply_method_errno(m, -ENOMEM, NULL);
        vc->c = c;
        vc->items = calloc(c->n_entries ?: 1, sizeof(ValidateOne));
        vc->queue = calloc(c->n_entries ?: 1, sizeof(ValidateOne *));
        if (!vc->items || !vc->queue) {
                free(vc->items);
                free(vc->queue);
                free(vc);
                return sd_bus_reply_method_errno(m, -ENOMEM, NULL);
        }
        r = pending_call_new(&c->calls, m, &vc->call);
        if (r < 0) {
                validate_call_free(vc);
                return sd_bus_reply_method_errno(m, r, NULL);
        }
        for (size_t i = 0; i < c->n_entries; i++) {
                Entry *e = c->entries[i];
                ValidateOne *one = &vc->items[n];
                const char *url = entry_server_url(e);
                LocalState st;

                if (!isempty(id) && !streq(id, e->id))
                        continue;
                /* Nothing to ask a server about a license that needs no validation. */
                entry_local_state(c, e, &st);
                if (st.validation_interval <= 0)
                        url = NULL;
                one->call = vc;
                one->id = strdup(e->id);
                one->url = url ? endpoint(url, "/v1/validate") : NULL;
                one->last_validation = e->state.last_validation;
                if (!one->id || (url && !one->url)) {
                        vc->n = n + 1;
                        r = pending_call_errno(vc->call, -ENOMEM);
                        validate_call_free(vc);
                        return r;
                }
                n++;
        }
        vc->n = n;
        pending_call_set_cancel(vc->call, validate_call_free, vc);
        (void) sd_event_now(c->event, CLOCK_MONOTONIC, &vc->started);

        /* One reference per license; the first step holds one more. */
        vc->remaining = n;
        validate_step_begin(vc);
        for (size_t i = 0; i < n; i++) {
                ValidateOne *one = &vc->items[i];
                if (!one->url)
                        one_done(one, "skipped", "needs no online validation (no server, or no validation interval)");
                else
                        vc->queue[vc->queue_len++] = one;
        }
        qsort(vc->queue, vc->queue_len, sizeof(ValidateOne *), one_compare);
        validate_pump(vc);
        validate_step_end(vc);
        return 1;
}

/* Deactivation -------------------------------------------------------------------- */

typedef struct DeactivateCall {
        Context *c;
        PendingCall *call;
        char *id;
        char *url;
        char *proof;
} DeactivateCall;

/* Also the call's cancel function (the HTTP client drops its request). */
static void deactivate_call_free(void *userdata) {
        DeactivateCall *dc = userdata;

        if (!dc)
                return;
        pending_call_free(dc->call);
        free(dc->id);
        free(dc->url);
        free(dc->proof);
        free(dc);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(DeactivateCall *, deactivate_call_free);

/* Whether the server refused a deactivation by the entitlement's policy
 * (docs/protocol.md, "deactivation_requires_maintenance"): then an offline
 * proof would be refused as well, and is not worth suggesting. */
static bool refused_by_policy(const HttpResult *res) {
        json_object *o = NULL;
        const char *code;
        bool policy;

        if (res->error < 0 || res->status != 403 || json_parse_object(res->body, res->body_len, &o, NULL) < 0)
                return false;
        code = json_error_code(o);
        policy = code && streq(code, "maintenance-expired");
        json_object_put(o);
        return policy;
}

static void deactivate_done(const HttpResult *res, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(deactivate_call_freep) DeactivateCall *dc = userdata;
        _cleanup_free_ char *local_proof = NULL;
        Context *c = dc->c;
        json_object *o;
        Entry *e;
        int r;

        o = parse_answer(res, dc->url, &error);
        if (o && !get_string(o, "status", true, &error))
                o = (json_object_put(o), NULL);
        if (!o && refused_by_policy(res)) {
                r = pending_call_errorf(dc->call, error.name, "%s The license is still installed.", error.message);
                goto finish;
        }
        if (!o) {
                /* Nothing removed: the seat is still taken on the server. */
                r = pending_call_errorf(dc->call, error.name,
                                        "%s The license is still installed; deactivate offline (licensectl "
                                        "deactivate --offline %s) to remove it and send the proof to your vendor.",
                                        error.message, dc->id);
                goto finish;
        }
        json_object_put(o);
        e = context_find_entry(c, dc->id);
        r = e ? op_deactivate(c, e, &local_proof, &error) : 0;
        if (r < 0)
                r = pending_call_error(dc->call, &error);
        else
                /* The server freed the seat: no proof for the administrator to carry. */
                r = pending_call_return(dc->call, "s", "");
finish:
        if (r < 0)
                log_warning_errno(r, "Failed to reply to Deactivate: %m");
}

int online_deactivate(Context *c, sd_bus_message *m, Entry *e) {
        _cleanup_(deactivate_call_freep) DeactivateCall *dc = NULL;
        _cleanup_free_ char *body = NULL;
        const char *url = entry_server_url(e);
        MachineRequest rq = {
                .type = MACHINE_REQUEST_DEACTIVATION,
                .product = e->license.product,
                .license_id = e->id,
                .revision = e->license.revision,
                .machine_id = c->machine_id,
                .device_key = c->device_key_b64,
        };
        char nonce[33];
        int r;

        if (!url)
                return sd_bus_reply_method_errorf(m, BUS_ERROR_NOT_SUPPORTED,
                                                  "License %s has no licensing server; deactivate offline "
                                                  "(licensectl deactivate --offline %s).",
                                                  e->id, e->id);
        dc = calloc(1, sizeof(*dc));
        if (!dc)
                return sd_bus_reply_method_errno(m, -ENOMEM, NULL);
        r = pending_call_new(&c->calls, m, &dc->call);
        if (r < 0)
                return sd_bus_reply_method_errno(m, r, NULL);
        dc->c = c;
        r = nonce_generate(nonce);
        rq.nonce = nonce;
        rq.created = context_now(c);
        if (r >= 0)
                r = machine_request_sign(&rq, c->device_key, &dc->proof);
        dc->id = strdup(e->id);
        dc->url = endpoint(url, "/v1/deactivate");
        body = dc->proof ? json_body("proof", dc->proof) : NULL;
        if (r >= 0 && (!dc->id || !dc->url || !body))
                r = -ENOMEM;
        if (r >= 0)
                r = http_post_json(c->http, dc->url, body, deactivate_done, dc);
        if (r < 0)
                return pending_call_errno(dc->call, r);
        pending_call_set_cancel(dc->call, deactivate_call_free, dc);
        TAKE_PTR(dc); /* deactivate_done() frees it */
        return 1;
}
