/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The site's administrator calls, on the client (docs/floating.md):
 * SiteStatus (the site's seats and leases beside the ones this daemon
 * holds) and ReleaseSiteLease (POST /v1/release: an administrator frees
 * any lease, anyone this machine's own). */

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus-contract.h"
#include "leases-internal.h"
#include "log.h"
#include "strutil.h"

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
        _cleanup_(site_call_freep) SiteCall *tc = userdata;
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
        SiteRequest sr = {.type = SITE_REQUEST_STATUS};

        if (!c->site)
                return sd_bus_reply_method_errorf(m, BUS_ERROR_NOT_SUPPORTED,
                                                  "This machine has joined no site (licensectl site join URL).");
        return site_call_send(c, m, "/v1/status", &sr, NULL, status_done);
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
        _cleanup_(site_call_freep) SiteCall *gc = userdata;
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
        char host[LEASE_TEXT_MAX + 1] = "";
        SiteRequest sr = {.type = SITE_REQUEST_RELEASE, .host = host};

        if (!c->site)
                return sd_bus_reply_method_errorf(m, BUS_ERROR_NOT_SUPPORTED,
                                                  "This machine has joined no site (licensectl site join URL).");
        (void) gethostname(host, sizeof(host) - 1);
        if (!host[0])
                strcpy(host, "localhost");
        return site_call_send(c, m, "/v1/release", &sr, id, release_done);
}
