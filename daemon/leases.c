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
 * A borrowed lease (POST /v1/borrow) belongs to the machine, not to a
 * connection: it is kept in the state directory with the license it
 * draws on, checked again with lease_check_chain() at every start, and
 * answers until `borrowed-until` with no site at all.
 *
 * Every lease a site sends is checked with lease_check_chain() before it
 * is used: vendor -> floating license -> site key -> lease -> this
 * machine, now. */

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus-contract.h"
#include "fileio.h"
#include "json-object.h"
#include "log.h"
#include "pending-call.h"
#include "site-client.h"
#include "strutil.h"

#define LEASE_FILE_MAX (64 * 1024)
/* A failed heartbeat is tried again this often (or sooner, for a short TTL). */
#define HEARTBEAT_RETRY_MAX 30

struct HeldLease {
        HeldLease *next;
        Context *c;
        char *holder; /* unique bus name; NULL for a borrowed lease */
        sd_bus_track *track;
        char *lease_text;
        char *license_text;
        Lease lease;    /* as verified */
        int64_t until;  /* the end: expires or borrowed-until, and never after the license's */
        int64_t ttl;    /* seconds between grant and expiry the site works with */
        uint32_t limit; /* the feature's seats */
        sd_event_source *timer;
        bool in_flight; /* a heartbeat is out: freed by its answer if dropped meanwhile */
        bool dropped;
};

static bool held_borrowed(const HeldLease *hl) {
        return hl->lease.borrowed_until != TIME_UNSET;
}

static void held_free(HeldLease *hl) {
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

static char *borrowed_path(Context *c, const char *id, const char *suffix) {
        _cleanup_free_ char *site = store_path(&c->store, NULL, "site", NULL),
                            *dir = store_path(&c->store, "site", "borrowed", NULL);

        if (!site || !dir || (mkdir(site, 0700) < 0 && errno != EEXIST) || (mkdir(dir, 0700) < 0 && errno != EEXIST))
                return NULL;
        return store_path(&c->store, "site/borrowed", id, suffix);
}

static void borrowed_remove(Context *c, const char *id) {
        _cleanup_free_ char *lease = borrowed_path(c, id, ".lease"), *lic = borrowed_path(c, id, ".lic");

        if (lease)
                (void) unlink(lease);
        if (lic)
                (void) unlink(lic);
        if (lease)
                (void) fsync_parent_dir(lease);
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

/* Drops a lease from the set; a taken one is given back if give. */
static void held_drop(Context *c, HeldLease *hl, bool give) {
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

/* Checks a lease the site sent (or that was stored) and fills in hl. At
 * is the instant to check it at. */
static int held_verify(Context *c, HeldLease *hl, const char *lease_text, const char *license_text, int64_t at,
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

static void held_schedule(HeldLease *hl, int64_t at) {
        Context *c = hl->c;
        int64_t delay = at - context_now(c);
        uint64_t when;

        if (delay < 1)
                delay = 1;
        (void) sd_event_now(c->event, CLOCK_MONOTONIC, &when);
        when += (uint64_t) delay * USEC_PER_SEC;
        if (hl->timer) {
                (void) sd_event_source_set_time(hl->timer, when);
                (void) sd_event_source_set_enabled(hl->timer, SD_EVENT_ONESHOT);
        } else if (sd_event_add_time(c->event, &hl->timer, CLOCK_MONOTONIC, when, USEC_PER_SEC / 10, on_timer, hl) < 0)
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

/* CheckOut and Borrow ---------------------------------------------------------- */

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

static int borrowed_save(Context *c, const HeldLease *hl) {
        _cleanup_free_ char *lease = borrowed_path(c, hl->lease.id, ".lease"),
                            *lic = borrowed_path(c, hl->lease.id, ".lic");
        int r;

        if (!lease || !lic)
                return -ENOMEM;
        /* The license first: a .lease is complete only with its .lic. */
        r = write_file_atomic(lic, hl->license_text, strlen(hl->license_text), 0600);
        if (r >= 0)
                r = write_file_atomic(lease, hl->lease_text, strlen(hl->lease_text), 0600);
        return r;
}

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

static int take(Context *c, sd_bus_message *m, const char *product, const char *feature, int64_t borrow_until) {
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
        return take(c, m, product, feature, TIME_UNSET);
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

int leases_borrow(Context *c, sd_bus_message *m, const char *product, const char *feature, int64_t until) {
        if (!c->site)
                return sd_bus_reply_method_errorf(m, BUS_ERROR_NOT_SUPPORTED,
                                                  "This machine has joined no site (licensectl site join URL).");
        if (!site_client_find_license(c, product, feature))
                return sd_bus_reply_method_errorf(m, BUS_ERROR_NOT_SUPPORTED,
                                                  "Site %s has no floating license of %s with feature %s.",
                                                  c->site->id, product, feature);
        return take(c, m, product, feature, until);
}

/* Returning a borrowed lease ------------------------------------------------------ */

typedef struct GiveCall {
        Context *c;
        PendingCall *call;
        char *url;
        char *id;
} GiveCall;

static void give_call_free(void *userdata) {
        GiveCall *gc = userdata;

        if (!gc)
                return;
        pending_call_free(gc->call);
        free(gc->url);
        free(gc->id);
        free(gc);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(GiveCall *, give_call_free);

static void give_done(const HttpResult *res, void *userdata) {
        _cleanup_(give_call_freep) GiveCall *gc = userdata;
        _cleanup_(site_answer_done) SiteAnswer a;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Context *c = gc->c;

        site_answer_parse(res, gc->url, &a);
        /* unknown-lease: the site has already let it go (it ended, or an
         * administrator released it); either way it is back. */
        if (a.outcome != SITE_OK && !(a.outcome == SITE_REFUSED && streq(a.code, "unknown-lease"))) {
                site_answer_to_bus_error(&a, &error);
                (void) pending_call_error(gc->call, &error);
                return;
        }
        for (HeldLease *hl = c->leases; hl; hl = hl->next)
                if (held_borrowed(hl) && streq(hl->lease.id, gc->id)) {
                        borrowed_remove(c, hl->lease.id);
                        held_drop(c, hl, false);
                        break;
                }
        log_notice("Returned borrowed lease %s.", gc->id);
        (void) pending_call_return(gc->call, "s", gc->id);
}

int leases_return_borrowed(Context *c, sd_bus_message *m, const char *what, const char *feature) {
        _cleanup_(give_call_freep) GiveCall *gc = NULL;
        HeldLease *found = NULL;
        SiteRequest sr = {.type = SITE_REQUEST_RETURN};
        int r;

        for (HeldLease *hl = c->leases; hl && !found; hl = hl->next)
                if (held_borrowed(hl) && (isempty(feature) ? streq(hl->lease.id, what)
                                                           : streq(hl->lease.product, what) &&
                                                                     streq(hl->lease.feature, feature)))
                        found = hl;
        if (!found)
                return sd_bus_reply_method_errorf(m, BUS_ERROR_NO_SEAT, "No borrowed lease %s%s%s is held here.", what,
                                                  isempty(feature) ? "" : "/", feature);
        if (!c->site || !streq(c->site->id, found->lease.site))
                return sd_bus_reply_method_errorf(m, BUS_ERROR_NOT_SUPPORTED,
                                                  "Lease %s is from site %s, which this machine is not joined to.",
                                                  found->lease.id, found->lease.site);
        gc = calloc(1, sizeof(*gc));
        if (!gc || !(gc->id = strdup(found->lease.id)) || !(gc->url = site_endpoint(c->site, "/v1/return")))
                return sd_bus_reply_method_errno(m, -ENOMEM, NULL);
        gc->c = c;
        sr.lease = gc->id;
        r = site_send(c, m, &gc->call, &sr, gc->url, SITE_REQUEST_TIMEOUT_USEC, give_done, give_call_free, gc);
        if (r == 1)
                TAKE_PTR(gc); /* give_done() frees it */
        return r;
}

/* ReleaseSiteLease ----------------------------------------------------------------- */

/* The site has let lease id go (released, or it was unknown there): a
 * lease this daemon holds under that id is forgotten, a borrowed one
 * removed from the state directory too. */
static void forget_held(Context *c, const char *id) {
        for (HeldLease *hl = c->leases; hl; hl = hl->next)
                if (streq(hl->lease.id, id)) {
                        log_notice("Lease %s of %s/%s was released at the site; forgetting it.", id,
                                   hl->lease.product, hl->lease.feature);
                        if (held_borrowed(hl))
                                borrowed_remove(c, id);
                        held_drop(c, hl, false);
                        return;
                }
}

static void release_done(const HttpResult *res, void *userdata) {
        _cleanup_(give_call_freep) GiveCall *gc = userdata;
        _cleanup_(site_answer_done) SiteAnswer a;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        site_answer_parse(res, gc->url, &a);
        if (a.outcome != SITE_OK) {
                /* unknown-lease: whatever this daemon held under that id is gone at the site too. */
                if (a.outcome == SITE_REFUSED && streq(a.code, "unknown-lease"))
                        forget_held(gc->c, gc->id);
                site_answer_to_bus_error(&a, &error);
                (void) pending_call_error(gc->call, &error);
                return;
        }
        forget_held(gc->c, gc->id);
        log_notice("Released lease %s at site %s.", gc->id, gc->c->site ? gc->c->site->id : "?");
        (void) pending_call_return(gc->call, "s", gc->id);
}

int leases_release_site_lease(Context *c, sd_bus_message *m, const char *id) {
        _cleanup_(give_call_freep) GiveCall *gc = NULL;
        char host[LEASE_TEXT_MAX + 1] = "";
        SiteRequest sr = {.type = SITE_REQUEST_RELEASE, .host = host};
        int r;

        if (!c->site)
                return sd_bus_reply_method_errorf(m, BUS_ERROR_NOT_SUPPORTED,
                                                  "This machine has joined no site (licensectl site join URL).");
        (void) gethostname(host, sizeof(host) - 1);
        if (!host[0])
                strcpy(host, "localhost");
        gc = calloc(1, sizeof(*gc));
        if (!gc || !(gc->id = strdup(id)) || !(gc->url = site_endpoint(c->site, "/v1/release")))
                return sd_bus_reply_method_errno(m, -ENOMEM, NULL);
        gc->c = c;
        sr.lease = gc->id;
        r = site_send(c, m, &gc->call, &sr, gc->url, SITE_REQUEST_TIMEOUT_USEC, release_done, give_call_free, gc);
        if (r == 1)
                TAKE_PTR(gc); /* release_done() frees it */
        return r;
}

/* Borrowed leases at start ------------------------------------------------------ */

static void load_borrowed_one(Context *c, const char *id) {
        _cleanup_free_ char *lease_path = borrowed_path(c, id, ".lease"), *lic_path = borrowed_path(c, id, ".lic");
        _cleanup_free_ char *lease = NULL, *lic = NULL;
        HeldLease *hl;
        CoreError err = {};
        int64_t now = context_now(c), at;
        size_t len;
        int r;

        if (!lease_path || !lic_path)
                return;
        /* licensed writes both as regular files; anything else put there
         * (a FIFO would block the start in open()) is not read. */
        for (size_t i = 0; i < 2; i++) {
                const char *path = i == 0 ? lease_path : lic_path;
                struct stat st;
                if (lstat(path, &st) >= 0 && !S_ISREG(st.st_mode)) {
                        log_warning("Ignoring borrowed lease %s: %s is not a regular file.", lease_path, path);
                        return;
                }
        }
        r = read_file(lease_path, LEASE_FILE_MAX, &lease, &len);
        if (r >= 0)
                r = read_file(lic_path, LEASE_FILE_MAX, &lic, &len);
        if (r < 0) {
                log_warning_errno(r, "Cannot read borrowed lease %s: %m", lease_path);
                return;
        }
        hl = calloc(1, sizeof(*hl));
        if (!hl) {
                log_oom();
                return;
        }
        hl->c = c;
        hl->lease = (Lease) LEASE_INIT;
        /* Checked at the latest time trusted: a clock set back must neither
         * drop a lease that still holds nor revive one that ended. */
        at = c->time_high_water != TIME_UNSET && c->time_high_water > now ? c->time_high_water : now;
        r = held_verify(c, hl, lease, lic, at, &err);
        if (r < 0 || !held_borrowed(hl)) {
                if (r == -ETIME) {
                        log_notice("Borrowed lease %s has ended: %s", id, core_error_message(&err, r));
                        borrowed_remove(c, id);
                } else
                        log_warning("Ignoring borrowed lease %s: %s", lease_path,
                                    r < 0 ? core_error_message(&err, r) : "it is not borrowed");
                held_free(hl);
                return;
        }
        /* Files are found, returned and removed by the lease's id: a copy
         * under another name would be held twice, and outlive a return. */
        if (!streq(hl->lease.id, id)) {
                log_warning("Ignoring borrowed lease %s: it holds lease %s, not %s.", lease_path, hl->lease.id, id);
                held_free(hl);
                return;
        }
        hl->next = c->leases;
        c->leases = hl;
        held_schedule(hl, hl->until);
        log_debug("Borrowed lease %s of %s/%s holds until %" PRIi64 ".", id, hl->lease.product, hl->lease.feature,
                  hl->until);
}

int leases_load_borrowed(Context *c) {
        _cleanup_free_ char *probe = borrowed_path(c, "x", NULL);
        _cleanup_free_ char *dir = store_path(&c->store, "site", "borrowed", NULL);
        DIR *d;
        struct dirent *de;

        if (!probe || !dir)
                return log_oom();
        d = opendir(dir);
        if (!d)
                return 0;
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name);
                char id[LEASE_ID_STRING_SIZE];

                if (n != LEASE_ID_HEX_LEN + 6 || !streq(de->d_name + LEASE_ID_HEX_LEN, ".lease"))
                        continue;
                memcpy(id, de->d_name, LEASE_ID_HEX_LEN);
                id[LEASE_ID_HEX_LEN] = 0;
                load_borrowed_one(c, id);
        }
        closedir(d);
        return 0;
}

/* SiteStatus --------------------------------------------------------------------- */

static uint64_t json_usec(json_object *o, const char *name) {
        const char *v = json_object_get_string(json_object_object_get(o, name));
        int64_t t;

        return v && time_parse_rfc3339(v, &t, NULL) >= 0 && t > 0 ? usec_from_sec(t) : 0;
}

/* The site's own list of leases: every one for an administrator ("admin":
 * true), else this machine's; b then a(sssssttt). */
static int append_site_leases(sd_bus_message *reply, json_object *answer) {
        json_object *leases = json_object_object_get(answer, "leases");
        int r;

        r = sd_bus_message_append(reply, "b", json_object_get_boolean(json_object_object_get(answer, "admin")));
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sssssttt)");
        for (size_t i = 0; r >= 0 && json_object_is_type(leases, json_type_array) && i < json_object_array_length(leases);
             i++) {
                json_object *e = json_object_array_get_idx(leases, i);
                const char *id = json_object_get_string(json_object_object_get(e, "id")),
                           *product = json_object_get_string(json_object_object_get(e, "product")),
                           *feature = json_object_get_string(json_object_object_get(e, "feature")),
                           *host = json_object_get_string(json_object_object_get(e, "host")),
                           *user = json_object_get_string(json_object_object_get(e, "user"));

                if (!id || !product || !feature)
                        continue;
                r = sd_bus_message_append(reply, "(sssssttt)", id, product, feature, host ?: "", user ?: "",
                                          json_usec(e, "since"), json_usec(e, "expires"),
                                          json_usec(e, "borrowed_until"));
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static void status_done(const HttpResult *res, void *userdata) {
        _cleanup_(take_call_freep) TakeCall *tc = userdata;
        _cleanup_(site_answer_done) SiteAnswer a;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Context *c = tc->c;
        json_object *features;
        int r;

        site_answer_parse(res, tc->url, &a);
        if (a.outcome != SITE_OK) {
                site_answer_to_bus_error(&a, &error);
                (void) pending_call_error(tc->call, &error);
                return;
        }
        features = json_object_object_get(a.json, "features");
        r = sd_bus_message_new_method_return(pending_call_message(tc->call), &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "sss", c->site ? c->site->url : "", c->site ? c->site->id : "",
                                          c->site ? c->site->fingerprint : "");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssuu)");
        for (size_t i = 0; r >= 0 && json_object_is_type(features, json_type_array) &&
                           i < json_object_array_length(features);
             i++) {
                json_object *f = json_object_array_get_idx(features, i);
                const char *product = json_object_get_string(json_object_object_get(f, "product"));
                const char *feature = json_object_get_string(json_object_object_get(f, "feature"));
                int seats = json_object_get_int(json_object_object_get(f, "seats"));
                int used = json_object_get_int(json_object_object_get(f, "used"));

                if (!product || !feature)
                        continue;
                r = sd_bus_message_append(reply, "(ssuu)", product, feature, (uint32_t) seats, (uint32_t) used);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sssstb)");
        for (HeldLease *hl = c->leases; r >= 0 && hl; hl = hl->next)
                r = sd_bus_message_append(reply, "(sssstb)", hl->lease.id, hl->lease.product, hl->lease.feature,
                                          hl->holder ?: "", usec_from_sec(hl->until), held_borrowed(hl));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = append_site_leases(reply, a.json);
        if (r < 0)
                (void) pending_call_errno(tc->call, r);
        else
                (void) pending_call_send(tc->call, reply);
}

int leases_site_status(Context *c, sd_bus_message *m) {
        _cleanup_(take_call_freep) TakeCall *tc = NULL;
        SiteRequest sr = {.type = SITE_REQUEST_STATUS};
        int r;

        if (!c->site)
                return sd_bus_reply_method_errorf(m, BUS_ERROR_NOT_SUPPORTED,
                                                  "This machine has joined no site (licensectl site join URL).");
        tc = calloc(1, sizeof(*tc));
        if (!tc || !(tc->url = site_endpoint(c->site, "/v1/status")))
                return sd_bus_reply_method_errno(m, -ENOMEM, NULL);
        tc->c = c;
        r = site_send(c, m, &tc->call, &sr, tc->url, SITE_REQUEST_TIMEOUT_USEC, status_done, take_call_free, tc);
        if (r == 1)
                TAKE_PTR(tc); /* status_done() frees it */
        return r;
}
