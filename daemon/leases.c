/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Leases of floating features (docs/floating.md), on the client.
 *
 * CheckOut of a feature the joined site floats takes a lease for the
 * calling bus connection (POST /v1/checkout); heartbeats keep it, each
 * ttl/2 after the last one; Return, or the connection going away (the
 * process exits or crashes: sd_bus_track), gives it back (POST
 * /v1/return). A heartbeat that fails is retried, and the lease keeps
 * answering until its own `expires`, never after. A lease the site no
 * longer knows (404) is dropped at once.
 *
 * Borrowed leases (leases-borrow.c) share the set, the timers and the
 * verification here, and are taken by the same request; the
 * administrator's calls are in leases-admin.c.
 *
 * Every lease a site sends is checked with lease_check_chain() before it
 * is used: vendor -> floating license -> site key -> lease -> this
 * machine, now. */

#include <errno.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus-contract.h"
#include "event-timer.h"
#include "json-object.h"
#include "leases-internal.h"
#include "log.h"
#include "pending-call.h"
#include "strutil.h"

/* A failed heartbeat is tried again this often (or sooner, for a short TTL). */
#define HEARTBEAT_RETRY_MAX 30

void held_free(HeldLease *hl) {
        if (!hl)
                return;
        sd_bus_track_unref(hl->track);
        sd_event_source_disable_unref(hl->timer);
        free(hl->holder);
        free(hl->lease_text);
        free(hl->license_text);
        lease_done(&hl->lease);
        free(hl);
}

static void held_unlink(Context *c, HeldLease *hl) {
        for (HeldLease **p = &c->leases; *p; p = &(*p)->next)
                if (*p == hl) {
                        *p = hl->next;
                        break;
                }
        hl->next = NULL;
}

unsigned leases_total(Context *c) {
        unsigned n = 0;
        for (HeldLease *hl = c->leases; hl; hl = hl->next)
                if (!held_borrowed(hl))
                        n++;
        return n;
}

static unsigned leases_of(Context *c, const char *product, const char *feature) {
        unsigned n = 0;
        for (HeldLease *hl = c->leases; hl; hl = hl->next)
                if (streq(hl->lease.product, product) && streq(hl->lease.feature, feature))
                        n++;
        return n;
}

void leases_free_all(Context *c) {
        while (c->leases) {
                HeldLease *hl = c->leases;
                c->leases = hl->next;
                held_free(hl);
        }
}

/* Gives a taken lease back to the site, in the background: whatever the
 * answer, the seat is no longer this machine's to use (at worst the site
 * frees it after the TTL). */
static void return_done(const HttpResult *res, void *userdata) {
        if (res->error < 0 || res->status != 200)
                log_info("Could not give a lease back to the site server (%s); it ends there after its TTL.",
                         res->error < 0 ? (res->message ?: strerror(-res->error)) : "refused");
}

static void give_back(Context *c, const Lease *l) {
        _cleanup_free_ char *body = NULL, *url = NULL;
        SiteRequest sr = {.type = SITE_REQUEST_RETURN, .lease = l->id};

        if (!c->site || !streq(c->site->id, l->site))
                return;
        url = site_endpoint(c->site, "/v1/return");
        if (!url || site_request_body(c, &sr, &body) < 0 ||
            http_site_request(c->http, url, body, c->site->fingerprint, SITE_REQUEST_TIMEOUT_USEC, return_done,
                              NULL) < 0)
                log_warning("Could not give lease %s back to the site; it ends there after its TTL.", l->id);
}

void held_drop(Context *c, HeldLease *hl, bool give) {
        if (give && !held_borrowed(hl))
                give_back(c, &hl->lease);
        held_unlink(c, hl);
        verdict_cache_drop(&c->verdict_cache);
        context_idle_touch(c);
        if (hl->in_flight) {
                hl->dropped = true; /* the heartbeat's answer frees it */
                sd_event_source_set_enabled(hl->timer, SD_EVENT_OFF);
                return;
        }
        held_free(hl);
}

static int on_holder_gone(sd_bus_track *track, void *userdata) {
        HeldLease *hl = userdata;

        log_debug("Lease %s of %s/%s given back: %s left the bus.", hl->lease.id, hl->lease.product,
                  hl->lease.feature, hl->holder);
        held_drop(hl->c, hl, true);
        return 0;
}

int held_verify(Context *c, HeldLease *hl, const char *lease_text, const char *license_text, int64_t at,
                CoreError *err) {
        _cleanup_(license_done) License lic = LICENSE_INIT;
        Lease ls = LEASE_INIT;
        const LicenseFeature *f;
        int r;

        r = lease_check_chain(license_text, strlen(license_text), lease_text, strlen(lease_text), &c->products,
                              c->machine_id, c->device_key_b64, at, &lic, &ls, err);
        if (r < 0)
                return r;
        f = license_find_feature(&lic, ls.feature);
        free(hl->lease_text);
        free(hl->license_text);
        lease_done(&hl->lease);
        hl->lease = ls;
        hl->lease_text = strdup(lease_text);
        hl->license_text = strdup(license_text);
        if (!hl->lease_text || !hl->license_text)
                return -ENOMEM;
        hl->until = ls.borrowed_until != TIME_UNSET ? ls.borrowed_until : ls.expires;
        if (lic.not_after != TIME_UNSET && lic.not_after < hl->until)
                hl->until = lic.not_after;
        if (f && f->expires != TIME_UNSET && f->expires < hl->until)
                hl->until = f->expires;
        hl->limit = f ? f->limit : 0;
        return 0;
}

/* Timers ------------------------------------------------------------------------ */

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

void held_schedule(HeldLease *hl, int64_t at) {
        Context *c = hl->c;
        int64_t delay = at - context_now(c);

        if (delay < 1)
                delay = 1;
        if (event_timer_arm(c->event, &hl->timer, (uint64_t) delay * USEC_PER_SEC, USEC_PER_SEC / 10, on_timer, hl) < 0)
                log_warning("Cannot arm the timer of lease %s; it will not be renewed.", hl->lease.id);
}

static void heartbeat_failed(HeldLease *hl, const char *why) {
        Context *c = hl->c;
        int64_t now = context_now(c), retry = hl->ttl / 10;
        char ts[RFC3339_MAX];

        log_warning("Lease %s of %s/%s: heartbeat failed (%s); it keeps working until %s.", hl->lease.id,
                    hl->lease.product, hl->lease.feature, why, time_format_rfc3339(hl->until, ts));
        if (retry < 1)
                retry = 1;
        if (retry > HEARTBEAT_RETRY_MAX)
                retry = HEARTBEAT_RETRY_MAX;
        held_schedule(hl, now + retry < hl->until ? now + retry : hl->until);
}

static void heartbeat_done(const HttpResult *res, void *userdata) {
        HeldLease *hl = userdata;
        Context *c = hl->c;
        _cleanup_(site_answer_done) SiteAnswer a;
        const char *lease = NULL, *license = NULL;
        CoreError err = {};
        int r;

        hl->in_flight = false;
        if (hl->dropped) {
                held_free(hl);
                return;
        }
        site_answer_parse(res, "", &a);
        if (a.outcome == SITE_UNREACHABLE) {
                heartbeat_failed(hl, a.message);
                return;
        }
        if (a.outcome == SITE_REFUSED) {
                log_warning("Lease %s of %s/%s ends: the site refused its heartbeat (%s).", hl->lease.id,
                            hl->lease.product, hl->lease.feature, a.message);
                held_drop(c, hl, false);
                return;
        }
        r = a.outcome == SITE_OK ? json_get_string(a.json, "lease", true, &lease, &err) : -EBADMSG;
        if (r >= 0)
                r = json_get_string(a.json, "license", true, &license, &err);
        if (r >= 0) {
                /* The renewed lease must be the same lease. */
                _cleanup_free_ char *id = strdup(hl->lease.id);
                r = id ? held_verify(c, hl, lease, license, context_now(c), &err) : -ENOMEM;
                if (r >= 0 && !streq(id, hl->lease.id))
                        r = core_error_set(&err, EXDEV, "the site answered with another lease");
        }
        if (r < 0) {
                log_warning("Lease %s: the site's heartbeat answer does not hold (%s); the lease ends.", hl->lease.id,
                            core_error_message(&err, r));
                held_drop(c, hl, true);
                return;
        }
        verdict_cache_drop(&c->verdict_cache);
        held_schedule(hl, context_now(c) + (hl->ttl / 2 > 0 ? hl->ttl / 2 : 1));
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        HeldLease *hl = userdata;
        Context *c = hl->c;
        _cleanup_free_ char *body = NULL, *url = NULL;
        SiteRequest sr = {.type = SITE_REQUEST_HEARTBEAT, .lease = hl->lease.id};
        int r;

        if (context_now(c) >= hl->until) {
                log_notice("Lease %s of %s/%s has ended.", hl->lease.id, hl->lease.product, hl->lease.feature);
                if (held_borrowed(hl))
                        borrowed_remove(c, hl->lease.id);
                held_drop(c, hl, false);
                return 0;
        }
        if (held_borrowed(hl)) {
                held_schedule(hl, hl->until);
                return 0;
        }
        if (!c->site || !streq(c->site->id, hl->lease.site)) {
                heartbeat_failed(hl, "this machine no longer is in that site");
                return 0;
        }
        url = site_endpoint(c->site, "/v1/heartbeat");
        r = url ? site_request_body(c, &sr, &body) : -ENOMEM;
        if (r >= 0)
                r = http_site_request(c->http, url, body, c->site->fingerprint, SITE_REQUEST_TIMEOUT_USEC,
                                      heartbeat_done, hl);
        if (r < 0) {
                heartbeat_failed(hl, strerror(-r));
                return 0;
        }
        hl->in_flight = true;
        return 0;
}

/* CheckFeature ------------------------------------------------------------------ */

bool leases_check_feature(Context *c, const char *product, const char *feature, int64_t now, Verdict *ret) {
        const SiteLicense *sl;
        HeldLease *best = NULL;

        for (HeldLease *hl = c->leases; hl; hl = hl->next)
                if (streq(hl->lease.product, product) && streq(hl->lease.feature, feature) && now < hl->until &&
                    (!best || hl->until > best->until))
                        best = hl;
        if (best) {
                /* A borrowed lease is believed offline: a clock set back must
                 * not make it last longer, as for a license. */
                if (c->time_high_water != TIME_UNSET && now < c->time_high_water - c->config.clock_tolerance)
                        *ret = (Verdict) {.reason = REASON_CLOCK_ROLLBACK, .expires = best->until,
                                          .grace_end = TIME_UNSET, .valid_until = TIME_UNSET, .limit = best->limit};
                else
                        *ret = (Verdict) {.reason = REASON_LICENSED, .licensed = true, .expires = best->until,
                                          .grace_end = TIME_UNSET, .valid_until = best->until, .limit = best->limit};
                return true;
        }
        sl = site_client_find_license(c, product, feature);
        if (!sl)
                return false;
        *ret = (Verdict) {.reason = REASON_NO_LEASE, .expires = TIME_UNSET, .grace_end = TIME_UNSET,
                          .valid_until = TIME_UNSET, .limit = license_find_feature(&sl->license, feature)->limit};
        return true;
}

/* CheckOut (and Borrow) ---------------------------------------------------------- */

typedef struct TakeCall {
        Context *c;
        PendingCall *call;
        char *url;
        char *product;
        char *feature;
        uint32_t limit;
        bool borrow;
} TakeCall;

static void take_call_free(void *userdata) {
        TakeCall *tc = userdata;

        if (!tc)
                return;
        pending_call_free(tc->call);
        free(tc->url);
        free(tc->product);
        free(tc->feature);
        free(tc);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(TakeCall *, take_call_free);

static HeldLease *held_find(Context *c, const char *holder, const char *product, const char *feature);

/* A CheckOut answered while another CheckOut of the same feature from the
 * same connection was with the site, and got its lease first: the
 * connection holds one lease per feature, so this one answers with that
 * lease, whatever the site said to it. True if it answered. */
static bool take_answer_held(TakeCall *tc) {
        Context *c = tc->c;
        HeldLease *held;

        if (tc->borrow)
                return false;
        held = held_find(c, sd_bus_message_get_sender(pending_call_message(tc->call)), tc->product, tc->feature);
        if (!held || context_now(c) >= held->until)
                return false;
        (void) pending_call_return(tc->call, "bsuu", true, reason_to_string(REASON_LICENSED),
                                   (uint32_t) leases_of(c, tc->product, tc->feature), held->limit);
        return true;
}

static void take_refused(TakeCall *tc, const SiteAnswer *a) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Context *c = tc->c;
        Reason reason;

        if (take_answer_held(tc))
                return;

        /* CheckOut answers "no" with a reason for the two refusals a
         * program must expect; the rest are errors to fix. */
        if (!tc->borrow && (a->outcome == SITE_UNREACHABLE || streq(a->code, "all-in-use"))) {
                reason = a->outcome == SITE_UNREACHABLE ? REASON_SITE_UNREACHABLE : REASON_FLOATING_IN_USE;
                log_notice("No lease of %s/%s: %s", tc->product, tc->feature, a->message);
                context_note_denial(c, tc->product, tc->feature, reason);
                (void) pending_call_return(tc->call, "bsuu", false, reason_to_string(reason),
                                           (uint32_t) (reason == REASON_FLOATING_IN_USE ? tc->limit : 0), tc->limit);
                return;
        }
        site_answer_to_bus_error(a, &error);
        (void) pending_call_error(tc->call, &error);
}

static void take_done(const HttpResult *res, void *userdata) {
        _cleanup_(take_call_freep) TakeCall *tc = userdata;
        _cleanup_(site_answer_done) SiteAnswer a;
        HeldLease *hl = NULL;
        Context *c = tc->c;
        const char *lease = NULL, *license = NULL, *sender;
        json_object *ttl;
        CoreError err = {};
        int r;

        site_answer_parse(res, tc->url, &a);
        if (a.outcome != SITE_OK) {
                take_refused(tc, &a);
                return;
        }
        r = json_get_string(a.json, "lease", true, &lease, &err);
        if (r >= 0)
                r = json_get_string(a.json, "license", true, &license, &err);
        hl = r >= 0 ? calloc(1, sizeof(*hl)) : NULL;
        if (r >= 0 && !hl)
                r = -ENOMEM;
        if (r >= 0) {
                hl->c = c;
                hl->lease = (Lease) LEASE_INIT;
                r = held_verify(c, hl, lease, license, context_now(c), &err);
        }
        if (r >= 0 && (!streq(hl->lease.product, tc->product) || !streq(hl->lease.feature, tc->feature) ||
                       held_borrowed(hl) != tc->borrow))
                r = core_error_set(&err, EXDEV, "the lease is not for what was asked");
        if (r < 0) {
                if (hl && hl->lease.id)
                        give_back(c, &hl->lease);
                held_free(hl);
                (void) pending_call_errorf(tc->call, BUS_ERROR_BAD_SERVER_RESPONSE,
                                           "The site's lease was refused: %s.", core_error_message(&err, r));
                return;
        }
        ttl = json_object_object_get(a.json, "ttl");
        hl->ttl = json_object_is_type(ttl, json_type_int) ? json_object_get_int64(ttl) : hl->lease.expires - hl->lease.granted;
        if (hl->ttl <= 0)
                hl->ttl = hl->lease.expires - hl->lease.granted;

        if (tc->borrow) {
                r = borrowed_save(c, hl);
                if (r < 0) {
                        give_back(c, &hl->lease);
                        held_free(hl);
                        (void) pending_call_errorf(tc->call, BUS_ERROR_STORAGE_FAILURE,
                                                   "Cannot keep the borrowed lease in the state directory: %s.",
                                                   strerror(-r));
                        return;
                }
        } else {
                if (take_answer_held(tc)) {
                        give_back(c, &hl->lease);
                        held_free(hl);
                        return;
                }
                sender = sd_bus_message_get_sender(pending_call_message(tc->call));
                hl->holder = sender ? strdup(sender) : NULL;
                r = hl->holder ? sd_bus_track_new(c->bus, &hl->track, on_holder_gone, hl) : -ENOMEM;
                if (r >= 0)
                        r = sd_bus_track_add_sender(hl->track, pending_call_message(tc->call));
                /* The program may have gone while the site was answering;
                 * the track only sees a name leave that is there now. */
                if (r >= 0) {
                        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
                        r = sd_bus_get_name_creds(c->bus, hl->holder, 0, &creds);
                }
                if (r < 0) {
                        give_back(c, &hl->lease);
                        held_free(hl);
                        (void) pending_call_errno(tc->call, r);
                        return;
                }
        }
        hl->next = c->leases;
        c->leases = hl;
        verdict_cache_drop(&c->verdict_cache);
        held_schedule(hl, held_borrowed(hl) ? hl->until : context_now(c) + (hl->ttl / 2 > 0 ? hl->ttl / 2 : 1));
        log_info("Lease %s of %s/%s from site %s%s.", hl->lease.id, hl->lease.product, hl->lease.feature,
                 hl->lease.site, held_borrowed(hl) ? ", borrowed" : "");
        if (tc->borrow)
                (void) pending_call_return(tc->call, "st", hl->lease.id, usec_from_sec(hl->until));
        else
                (void) pending_call_return(tc->call, "bsuu", true, reason_to_string(REASON_LICENSED),
                                           (uint32_t) leases_of(c, tc->product, tc->feature), hl->limit);
}

/* Who asks, for the lease's user field. */
static void caller_name(sd_bus_message *m, char *buf, size_t size) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid;

        if (sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds) < 0 || sd_bus_creds_get_euid(creds, &uid) < 0) {
                snprintf(buf, size, "unknown");
                return;
        }
        struct passwd pw, *res = NULL;
        char pwbuf[1024];
        if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res && pw.pw_name[0])
                snprintf(buf, size, "%s", pw.pw_name);
        else
                snprintf(buf, size, "uid %u", (unsigned) uid);
}

int leases_take(Context *c, sd_bus_message *m, const char *product, const char *feature, int64_t borrow_until) {
        _cleanup_(take_call_freep) TakeCall *tc = NULL;
        const SiteLicense *sl = site_client_find_license(c, product, feature);
        char user[LEASE_TEXT_MAX + 1], host[LEASE_TEXT_MAX + 1] = "";
        SiteRequest sr = {.type = borrow_until != TIME_UNSET ? SITE_REQUEST_BORROW : SITE_REQUEST_CHECKOUT,
                          .product = (char *) product, .feature = (char *) feature, .user = user, .host = host,
                          .borrow_until = borrow_until};
        int r;

        caller_name(m, user, sizeof(user));
        (void) gethostname(host, sizeof(host) - 1);
        if (!host[0])
                strcpy(host, "localhost");
        tc = calloc(1, sizeof(*tc));
        if (!tc)
                return sd_bus_reply_method_errno(m, -ENOMEM, NULL);
        tc->c = c;
        tc->borrow = borrow_until != TIME_UNSET;
        tc->limit = sl ? license_find_feature(&sl->license, feature)->limit : 0;
        tc->product = strdup(product);
        tc->feature = strdup(feature);
        tc->url = site_endpoint(c->site, tc->borrow ? "/v1/borrow" : "/v1/checkout");
        if (!tc->product || !tc->feature || !tc->url)
                return sd_bus_reply_method_errno(m, -ENOMEM, NULL);
        r = site_send(c, m, &tc->call, &sr, tc->url, tc->borrow ? SITE_REQUEST_TIMEOUT_USEC : SITE_CHECKOUT_TIMEOUT_USEC,
                      take_done, take_call_free, tc);
        if (r == 1)
                TAKE_PTR(tc); /* take_done() frees it */
        return r;
}

static HeldLease *held_find(Context *c, const char *holder, const char *product, const char *feature) {
        for (HeldLease *hl = c->leases; hl; hl = hl->next)
                if (hl->holder && holder && streq(hl->holder, holder) && streq(hl->lease.product, product) &&
                    streq(hl->lease.feature, feature))
                        return hl;
        return NULL;
}

int leases_check_out(Context *c, sd_bus_message *m, const char *product, const char *feature) {
        HeldLease *hl = held_find(c, sd_bus_message_get_sender(m), product, feature);

        /* A holder asking again keeps its lease while it holds. */
        if (hl && context_now(c) < hl->until)
                return sd_bus_reply_method_return(m, "bsuu", true, reason_to_string(REASON_LICENSED),
                                                  (uint32_t) leases_of(c, product, feature), hl->limit);
        if (hl)
                held_drop(c, hl, false);
        return leases_take(c, m, product, feature, TIME_UNSET);
}

int leases_return(Context *c, sd_bus_message *m, const char *product, const char *feature) {
        HeldLease *hl = held_find(c, sd_bus_message_get_sender(m), product, feature);

        if (!hl)
                return 0;
        held_drop(c, hl, true);
        return 1;
}

void leases_return_all_taken(Context *c) {
        for (HeldLease *hl = c->leases, *next; hl; hl = next) {
                next = hl->next;
                if (!held_borrowed(hl))
                        held_drop(c, hl, true);
        }
}

/* Bus calls waiting on the site ------------------------------------------------- */

void site_call_free(void *userdata) {
        SiteCall *gc = userdata;

        if (!gc)
                return;
        pending_call_free(gc->call);
        free(gc->url);
        free(gc->id);
        free(gc);
}

int site_call_send(Context *c, sd_bus_message *m, const char *path, SiteRequest *sr, const char *id,
                   HttpDoneFunc done) {
        _cleanup_(site_call_freep) SiteCall *gc = calloc(1, sizeof(*gc));
        int r;

        if (!gc || (id && !(gc->id = strdup(id))) || !(gc->url = site_endpoint(c->site, path)))
                return sd_bus_reply_method_errno(m, -ENOMEM, NULL);
        gc->c = c;
        sr->lease = gc->id;
        r = site_send(c, m, &gc->call, sr, gc->url, SITE_REQUEST_TIMEOUT_USEC, done, site_call_free, gc);
        if (r == 1)
                TAKE_PTR(gc); /* done() frees it */
        return r;
}
