/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The site protocol (docs/floating.md, "Protocol"): every POST carries a
 * SITE REQUEST signed by the client's device key. It is checked in one
 * order for all endpoints (a document, of the endpoint's type, for this
 * site, fresh, from an enrolled client, not seen before) and then handed
 * to the endpoint's function; a heartbeat's "not seen before" is checked
 * in its renewal's transaction. */

#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

#include "json-object.h"
#include "request.h"
#include "site.h"
#include "timeutil.h"

/* How long a nonce is remembered: 2 windows, so a request still inside
 * the window is still remembered. */
#define NONCE_KEEP (2 * SITE_REQUEST_WINDOW)

/* The holders named in an all-in-use refusal, at most. */
#define HOLDERS_SHOWN 20

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

typedef int (*SiteHandler)(Site *s, const SiteRequest *rq, int64_t now, SiteReply *reply);

static json_object *reply_object(SiteReply *reply) {
        json_object_put(reply->body);
        reply->status = 200;
        reply->body = json_object_new_object();
        return reply->body;
}

static void add_string(json_object *o, const char *name, const char *value) {
        json_object_object_add(o, name, json_object_new_string(value));
}

static int reply_replay(const SiteRequest *rq, SiteReply *reply) {
        return site_reply_error(reply, 409, "replay", "this request (nonce %s) was already received", rq->nonce);
}

static const SiteLicense *license_by_digest(const Site *s, const char *digest) {
        for (size_t i = 0; i < s->n_licenses; i++)
                if (streq(s->licenses[i].digest, digest))
                        return &s->licenses[i];
        return NULL;
}

/* The seats of feature f of l at now: 0 if l has none then. */
static uint32_t license_seats(const License *l, const char *feature, int64_t now) {
        const LicenseFeature *f = license_find_feature(l, feature);

        if (!f || (l->not_before != TIME_UNSET && now < l->not_before) ||
            (l->not_after != TIME_UNSET && now >= l->not_after) || (f->expires != TIME_UNSET && now >= f->expires))
                return 0;
        return f->limit;
}

/* lease_ttl and borrow_max, which SIGHUP may change: one request uses
 * the values it read once. */
static void site_durations(Site *s, int64_t *lease_ttl, int64_t *borrow_max) {
        pthread_mutex_lock(&s->config_lock);
        *lease_ttl = s->lease_ttl;
        *borrow_max = s->borrow_max;
        pthread_mutex_unlock(&s->config_lock);
}

/* Signs l and answers with it, the license it draws on and the TTL it was given. */
static int reply_lease(Site *s, Lease *l, int64_t ttl, SiteReply *reply) {
        _cleanup_free_ char *text = NULL;
        const SiteLicense *sl = license_by_digest(s, l->license);
        char t[RFC3339_MAX];
        json_object *o;
        int r;

        free(l->site);
        l->site = strdup(s->id);
        if (!l->site || !sl)
                return site_reply_error(reply, 500, "internal", "the lease's license is not loaded");
        r = lease_sign(l, s->key, &text);
        if (r < 0)
                return site_reply_error(reply, 500, "internal", "cannot sign the lease: %s", strerror(-r));
        o = reply_object(reply);
        add_string(o, "lease", text);
        add_string(o, "license", sl->text);
        add_string(o, "lease_id", l->id);
        add_string(o, "expires", time_format_rfc3339(l->expires, t));
        json_object_object_add(o, "ttl", json_object_new_int64(ttl));
        return 0;
}

static int handle_enrol(Site *s, const SiteRequest *rq, int64_t now, SiteReply *reply) {
        CoreError err = {};
        int r;

        r = site_storage_enrol(s->storage, rq->token, rq->machine_id, rq->device_key, rq->host, now, &err);
        if (r < 0)
                return site_reply_error(reply, 500, "internal", "%s", core_error_message(&err, r));
        if (r == 0)
                return site_reply_error(reply, 403, "bad-token",
                                        "the join token is unknown, used or expired: make a new one with "
                                        "'licensed-site token'");
        add_string(reply_object(reply), "site", s->id);
        return 0;
}

/* The sentence of a denial, and the holders if site.conf shows them. */
static int reply_denied(Site *s, const Lease *l, SiteDenial denial, const SiteRule *rule, unsigned used,
                        unsigned seats, bool show_holders, int64_t now, SiteReply *reply) {
        _cleanup_free_ char *holders = NULL, *why = NULL, *tail = NULL;
        CoreError err = {};

        if (show_holders && site_storage_holders(s->storage, l->product, l->feature, now, HOLDERS_SHOWN, &holders,
                                                 &err) < 0)
                holders = NULL;
        if (holders && holders[0] && asprintf(&tail, "; held by %s", holders) < 0)
                tail = NULL;
        if (denial == SITE_DENIAL_MAX) {
                site_event(SITE_EVENT_LIMITED, LOG_WARNING, l, used, seats,
                           "Lease of %s feature %s denied to %s@%s: the limit of %u seat(s) for %s %s is reached",
                           l->product, l->feature, l->user, l->host, rule->seats, site_who_to_string(rule->who),
                           rule->name);
                return site_reply_error(reply, 409, "limit-reached",
                                        "the site limits %s %s to %u seat(s) of feature %s of %s, all taken%s",
                                        site_who_to_string(rule->who), rule->name, rule->seats, l->feature,
                                        l->product, tail ?: "");
        }
        if (denial == SITE_DENIAL_RESERVED) {
                site_event(SITE_EVENT_LIMITED, LOG_WARNING, l, used, seats,
                           "Lease of %s feature %s denied to %s@%s: the %u free seat(s) are reserved for others",
                           l->product, l->feature, l->user, l->host, seats - used);
                return site_reply_error(reply, 409, "all-in-use",
                                        "all floating seats in use: %u of %u seats of feature %s of %s are taken "
                                        "and the %u left are reserved for other users, hosts or groups%s",
                                        used, seats, l->feature, l->product, seats - used, tail ?: "");
        }
        site_event(SITE_EVENT_ALL_IN_USE, LOG_WARNING, l, used, seats,
                   "All floating seats of %s feature %s are in use (%u of %u): denied to %s@%s", l->product,
                   l->feature, used, seats, l->user, l->host);
        return site_reply_error(reply, 409, "all-in-use",
                                "all floating seats in use: %u of %u seats of feature %s of %s are taken%s", used,
                                seats, l->feature, l->product, tail ?: "");
}

/* Grants l under site.conf's rules for its feature: 1, or 0 with the
 * reply filled (denied, or an error). */
static int grant(Site *s, Lease *l, const SitePool *pools, size_t n, int64_t now, unsigned *used, unsigned *seats,
                 SiteReply *reply) {
        _cleanup_free_ char *groups = NULL;
        const SiteFeatureConfig *f;
        SitePolicy policy = {};
        SiteDenial denial = SITE_DENIAL_NONE;
        const SiteRule *rule = NULL;
        CoreError err = {};
        bool show_holders;
        int r;

        pthread_mutex_lock(&s->config_lock);
        f = site_config_find(&s->config, l->product, l->feature);
        if (f)
                policy = (SitePolicy) {.reserve = f->reserve, .n_reserve = f->n_reserve, .max = f->max,
                                       .n_max = f->n_max};
        show_holders = s->config.show_holders;
        r = s->config.any_group ? site_user_groups(l->user, &groups) : 0;
        if (r >= 0)
                r = site_storage_grant_policy(s->storage, l, groups, pools, n, f ? &policy : NULL, now,
                                              site_event_expired, s, used, seats, &denial, &rule, &err);
        if (r == 0) {
                /* The rule belongs to the configuration: word the denial under the lock. */
                free(l->id);
                l->id = NULL;
                reply_denied(s, l, denial, rule, *used, *seats, show_holders, now, reply);
        }
        pthread_mutex_unlock(&s->config_lock);
        if (r < 0)
                site_reply_error(reply, 503, "unavailable", "%s", core_error_message(&err, r));
        return r;
}

static int handle_take(Site *s, const SiteRequest *rq, int64_t now, SiteReply *reply) {
        _cleanup_(lease_done) Lease l = LEASE_INIT;
        _cleanup_free_ SitePool *pools = NULL;
        char id[LICENSE_NONCE_STRING_SIZE], t[RFC3339_MAX];
        unsigned used = 0, seats = 0;
        int64_t ttl, borrow_max;
        size_t n = 0;
        int r;

        site_durations(s, &ttl, &borrow_max);
        if (rq->type == SITE_REQUEST_BORROW && (rq->borrow_until <= now || rq->borrow_until > now + borrow_max))
                return site_reply_error(reply, 400, "borrow-too-long",
                                        "a lease can be borrowed until a time in the next %s, not until %s",
                                        duration_format(borrow_max, (char[32]) {}),
                                        time_format_rfc3339(rq->borrow_until, t));
        pools = calloc(s->n_licenses ?: 1, sizeof(*pools));
        if (!pools)
                return site_reply_error(reply, 500, "internal", "out of memory");
        for (size_t i = 0; i < s->n_licenses; i++) {
                uint32_t k = streq(s->licenses[i].license.product, rq->product)
                                     ? license_seats(&s->licenses[i].license, rq->feature, now)
                                     : 0;
                if (k > 0)
                        pools[n++] = (SitePool) {.digest = s->licenses[i].digest, .seats = k};
        }
        if (n == 0)
                return site_reply_error(reply, 404, "no-floating-license",
                                        "this site has no floating license for feature %s of %s", rq->feature,
                                        rq->product);

        if (nonce_generate(id) < 0)
                return site_reply_error(reply, 500, "internal", "no random bytes for a lease id");
        l = (Lease) {
                .id = strdup(id),
                .product = strdup(rq->product),
                .feature = strdup(rq->feature),
                .machine_id = strdup(rq->machine_id),
                .device_key = strdup(rq->device_key),
                .user = strdup(rq->user),
                .host = strdup(rq->host),
                .granted = now,
                .expires = now + ttl,
                .borrowed_until = rq->type == SITE_REQUEST_BORROW ? rq->borrow_until : TIME_UNSET,
        };
        if (!l.id || !l.product || !l.feature || !l.machine_id || !l.device_key || !l.user || !l.host)
                return site_reply_error(reply, 500, "internal", "out of memory");
        r = grant(s, &l, pools, n, now, &used, &seats, reply);
        if (r <= 0)
                return 0;
        if (l.borrowed_until != TIME_UNSET)
                site_event(SITE_EVENT_BORROWED, LOG_INFO, &l, used, seats,
                           "Lease %s of %s feature %s borrowed by %s@%s until %s (%u of %u seats in use)", l.id,
                           l.product, l.feature, l.user, l.host, time_format_rfc3339(l.borrowed_until, t), used,
                           seats);
        else
                site_event(SITE_EVENT_GRANTED, LOG_INFO, &l, used, seats,
                           "Lease %s of %s feature %s granted to %s@%s (%u of %u seats in use)", l.id, l.product,
                           l.feature, l.user, l.host, used, seats);
        return reply_lease(s, &l, ttl, reply);
}

static int handle_heartbeat(Site *s, const SiteRequest *rq, int64_t now, SiteReply *reply) {
        _cleanup_(lease_done) Lease l = LEASE_INIT;
        int64_t ttl, borrow_max;
        CoreError err = {};
        int r;

        site_durations(s, &ttl, &borrow_max);
        r = site_storage_heartbeat(s->storage, rq->nonce, NONCE_KEEP, rq->lease, rq->machine_id, now, now + ttl,
                                   &l, &err);
        if (r == -EALREADY)
                return reply_replay(rq, reply);
        if (r < 0)
                return site_reply_error(reply, 503, "unavailable", "%s", core_error_message(&err, r));
        if (r == 0)
                return site_reply_error(reply, 404, "unknown-lease",
                                        "this client holds no lease %s (it ended, was returned, or is not "
                                        "yours): check out again",
                                        rq->lease);
        return reply_lease(s, &l, ttl, reply);
}

static int handle_return(Site *s, const SiteRequest *rq, int64_t now, SiteReply *reply) {
        CoreError err = {};
        int r;

        r = site_storage_return(s->storage, rq->lease, rq->machine_id, &err);
        if (r < 0)
                return site_reply_error(reply, 503, "unavailable", "%s", core_error_message(&err, r));
        if (r == 0)
                return site_reply_error(reply, 404, "unknown-lease", "this client holds no lease %s", rq->lease);
        add_string(reply_object(reply), "returned", rq->lease);
        return 0;
}

static void add_time(json_object *o, const char *name, int64_t t) {
        char buf[RFC3339_MAX];
        json_object_object_add(o, name, t != TIME_UNSET ? json_object_new_string(time_format_rfc3339(t, buf)) : NULL);
}

/* 1 if the requesting machine is an administrator of the site, 0 if not;
 * < 0 with the reply filled. */
static int requester_is_admin(Site *s, const SiteRequest *rq, SiteReply *reply) {
        CoreError err = {};
        int r = site_storage_client_is_admin(s->storage, rq->machine_id, &err);

        if (r < 0)
                site_reply_error(reply, 503, "unavailable", "%s", core_error_message(&err, r));
        return r;
}

/* The leases an administrator sees (every one), or a client (its own). */
static int add_leases(Site *s, const SiteRequest *rq, bool admin, int64_t now, json_object *o, SiteReply *reply) {
        json_object *list = json_object_new_array();
        Lease *leases = NULL;
        CoreError err = {};
        size_t n = 0;
        int r;

        json_object_object_add(o, "leases", list);
        add_string(o, "scope", admin ? "all" : "own");
        r = site_storage_list_of(s->storage, now, admin ? NULL : rq->machine_id, &leases, &n, &err);
        if (r < 0)
                return site_reply_error(reply, 503, "unavailable", "%s", core_error_message(&err, r)), r;
        for (size_t k = 0; k < n; k++) {
                json_object *e = json_object_new_object();
                add_string(e, "id", leases[k].id);
                add_string(e, "product", leases[k].product);
                add_string(e, "feature", leases[k].feature);
                add_string(e, "host", leases[k].host);
                add_string(e, "user", leases[k].user);
                add_string(e, "machine_id", leases[k].machine_id);
                add_time(e, "since", leases[k].granted);
                add_time(e, "expires", leases[k].expires);
                add_time(e, "borrowed_until", leases[k].borrowed_until);
                json_object_array_add(list, e);
                lease_done(&leases[k]);
        }
        free(leases);
        return 0;
}

static int handle_status(Site *s, const SiteRequest *rq, int64_t now, SiteReply *reply) {
        json_object *list = json_object_new_array(), *answer;
        int admin;

        admin = requester_is_admin(s, rq, reply);
        if (admin < 0)
                return json_object_put(list), 0;
        answer = reply_object(reply);
        json_object_object_add(answer, "features", list);
        json_object_object_add(answer, "admin", json_object_new_boolean(admin));
        if (add_leases(s, rq, admin, now, answer, reply) < 0)
                return 0;
        for (size_t i = 0; i < s->n_licenses; i++) {
                const License *l = &s->licenses[i].license;
                for (size_t j = 0; j < l->n_features; j++) {
                        json_object *o = json_object_new_object();
                        CoreError err = {};
                        unsigned used = 0;
                        int r;

                        r = site_storage_count(s->storage, s->licenses[i].digest, l->features[j].name, now, &used,
                                               &err);
                        if (r < 0)
                                return site_reply_error(reply, 503, "unavailable", "%s",
                                                        core_error_message(&err, r));
                        add_string(o, "product", l->product);
                        add_string(o, "feature", l->features[j].name);
                        add_string(o, "license", l->id);
                        json_object_object_add(o, "seats",
                                               json_object_new_int64(license_seats(l, l->features[j].name, now)));
                        json_object_object_add(o, "used", json_object_new_int64(used));
                        json_object_array_add(list, o);
                }
        }
        return 0;
}

/* An administrator frees any lease, any client its own: the same as
 * 'licensed-site release', and the holder's next heartbeat is refused. */
static int handle_release(Site *s, const SiteRequest *rq, int64_t now, SiteReply *reply) {
        _cleanup_(lease_done) Lease l = LEASE_INIT;
        CoreError err = {};
        int admin, r;

        admin = requester_is_admin(s, rq, reply);
        if (admin < 0)
                return 0;
        r = site_storage_release_by(s->storage, rq->lease, admin ? NULL : rq->machine_id, &l, &err);
        if (r == -EPERM)
                /* Who holds it is not told: show_holders decides that. */
                return site_reply_error(reply, 403, "not-admin",
                                        "lease %s is held by another machine; only an administrator of the site "
                                        "can release it",
                                        rq->lease);
        if (r < 0)
                return site_reply_error(reply, 503, "unavailable", "%s", core_error_message(&err, r));
        if (r == 0)
                return site_reply_error(reply, 404, "unknown-lease", "there is no lease %s at this site", rq->lease);
        site_event_released(&l, rq->host);
        json_object *o = reply_object(reply);
        add_string(o, "released", l.id);
        add_string(o, "product", l.product);
        add_string(o, "feature", l.feature);
        add_string(o, "host", l.host);
        add_string(o, "user", l.user);
        return 0;
}

static const struct {
        const char *path;
        SiteRequestType type;
        SiteHandler handler;
} routes[] = {
        {"/v1/enrol", SITE_REQUEST_ENROL, handle_enrol},
        {"/v1/checkout", SITE_REQUEST_CHECKOUT, handle_take},
        {"/v1/heartbeat", SITE_REQUEST_HEARTBEAT, handle_heartbeat},
        {"/v1/return", SITE_REQUEST_RETURN, handle_return},
        {"/v1/borrow", SITE_REQUEST_BORROW, handle_take},
        {"/v1/status", SITE_REQUEST_STATUS, handle_status},
        {"/v1/release", SITE_REQUEST_RELEASE, handle_release},
};

/* GET /v1/site: public, what a client needs to check the leases. */
static void handle_site(Site *s, SiteReply *reply) {
        json_object *o = reply_object(reply), *list = json_object_new_array();

        add_string(o, "site", s->id);
        add_string(o, "key", s->key_base64);
        for (size_t i = 0; i < s->n_licenses; i++)
                json_object_array_add(list, json_object_new_string(s->licenses[i].text));
        json_object_object_add(o, "licenses", list);
}

/* The checks every signed request passes, in this order; fills the reply
 * and returns < 0 on the first that fails. */
static int check_request(Site *s, const char *body, size_t len, SiteRequestType type, int64_t now,
                         SiteRequest *rq, SiteReply *reply) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        const char *text = NULL;
        CoreError err = {};
        int r;

        r = json_parse_object(body ?: "", body ? len : 0, &o, &err);
        if (r >= 0)
                r = json_get_string(o, "request", true, &text, &err);
        if (r < 0)
                return site_reply_error(reply, 400, "bad-request", "%s", core_error_message(&err, r)), -EINVAL;
        r = site_request_verify(text, strlen(text), rq, &err);
        if (r == -ENOKEY || r == -EKEYREJECTED)
                return site_reply_error(reply, 401, "bad-signature", "%s", core_error_message(&err, r)), r;
        if (r < 0)
                return site_reply_error(reply, 400, "bad-request", "%s", core_error_message(&err, r)), r;
        if (rq->type != type)
                return site_reply_error(reply, 400, "bad-request", "a %s request was sent to the %s endpoint",
                                        site_request_type_to_string(rq->type), site_request_type_to_string(type)),
                       -EINVAL;
        if (!streq(rq->site, s->id))
                return site_reply_error(reply, 403, "wrong-site", "the request is for site %s; this is site %s",
                                        rq->site, s->id),
                       -EXDEV;
        if (rq->created < now - SITE_REQUEST_WINDOW || rq->created > now + SITE_REQUEST_WINDOW)
                return site_reply_error(reply, 409, "replay",
                                        "the request was made more than 5 minutes from the site's time: a "
                                        "replay, or a clock that is off"),
                       -ETIME;
        if (type != SITE_REQUEST_ENROL) {
                r = site_storage_client_is_enrolled(s->storage, rq->machine_id, rq->device_key, &err);
                if (r < 0)
                        return site_reply_error(reply, 503, "unavailable", "%s", core_error_message(&err, r)), r;
                if (r == 0)
                        return site_reply_error(reply, 403, "not-enrolled",
                                                "machine %s is not enrolled with this device key at this site: "
                                                "enrol it with a join token first",
                                                rq->machine_id),
                               -EPERM;
        }
        /* A heartbeat records its nonce in the transaction of its renewal
         * (handle_heartbeat()): the hot path pays one commit, not two. */
        if (type == SITE_REQUEST_HEARTBEAT)
                return 0;
        r = site_storage_use_nonce(s->storage, rq->nonce, now, NONCE_KEEP, &err);
        if (r < 0)
                return site_reply_error(reply, 503, "unavailable", "%s", core_error_message(&err, r)), r;
        if (r == 0)
                return reply_replay(rq, reply), -EALREADY;
        return 0;
}

void site_handle(Site *s, const char *method, const char *path, const char *body, size_t len, SiteReply *reply) {
        int64_t now = now_realtime();

        if (streq(path, "/v1/site")) {
                if (!streq(method, "GET") && !streq(method, "HEAD"))
                        site_reply_error(reply, 405, "method-not-allowed", "%s is not allowed on %s", method, path);
                else
                        handle_site(s, reply);
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(routes); i++) {
                _cleanup_(site_request_done) SiteRequest rq = SITE_REQUEST_INIT;

                if (!streq(path, routes[i].path))
                        continue;
                if (!streq(method, "POST")) {
                        site_reply_error(reply, 405, "method-not-allowed", "%s is not allowed on %s", method, path);
                        return;
                }
                if (check_request(s, body, len, routes[i].type, now, &rq, reply) >= 0)
                        routes[i].handler(s, &rq, now, reply);
                return;
        }
        site_reply_error(reply, 404, "not-found", "there is nothing at %s", path);
}
