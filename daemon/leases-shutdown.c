/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The leases taken for programs go back to the site when licensed stops
 * (docs/floating.md).
 *
 * Such a lease ends with the daemon that took it: its holder's bus
 * connection goes with the daemon, and the next licensed knows nothing of
 * it. Left alone, the site would count the seat until the lease's TTL ran
 * out. So once the event loop has ended (SIGTERM, SIGINT), every one still
 * valid is returned (POST /v1/return), all at once, and licensed waits for
 * the answers LEASES_EXIT_BUDGET_USEC at most in all: a site that is down,
 * or accepts the connection and never answers, costs that and no more,
 * and those seats come back after the TTL as before. Borrowed leases stay:
 * they are meant to outlive the daemon.
 *
 * The requests run on an event loop and an HTTP client of their own: the
 * daemon's loop has exited and sd-event does not run it again, and nothing
 * but these answers is waited for meanwhile (no bus call is taken). */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "leases-internal.h"
#include "log.h"
#include "strutil.h"

/* Every lease together: systemd's stop waits for this, and so does the
 * administrator who typed it. A LAN site answers in milliseconds. */
#define LEASES_EXIT_BUDGET_USEC (2 * USEC_PER_SEC)
/* After the requests' own timeout, for libcurl to report it; whatever is
 * still out then is given up. */
#define LEASES_EXIT_GRACE_USEC (USEC_PER_SEC / 4)
/* Connections at once to the site (each site request has its own). */
#define LEASES_EXIT_CONNECTIONS_MAX 32U

typedef struct ExitReturns {
        sd_event *event;
        const char *url;
        const char *site;
        unsigned out; /* requests not answered yet */
        unsigned returned;
} ExitReturns;

typedef struct ExitReturn {
        ExitReturns *all;
        const HeldLease *hl; /* the set is left as it is until context_free() */
        bool answered;
} ExitReturn;

static void exit_return_failed(ExitReturn *er, const char *why) {
        char ts[RFC3339_MAX];

        log_warning("Could not return lease %s of %s/%s to site %s (%s); the site frees it at %s.",
                    er->hl->lease.id, er->hl->lease.product, er->hl->lease.feature, er->all->site, why,
                    time_format_rfc3339(er->hl->lease.expires, ts));
}

static void exit_return_done(const HttpResult *res, void *userdata) {
        ExitReturn *er = userdata;
        ExitReturns *all = er->all;
        _cleanup_(site_answer_done) SiteAnswer a;

        site_answer_parse(res, all->url, &a);
        if (a.outcome == SITE_OK) {
                log_info("Returned lease %s of %s/%s to site %s.", er->hl->lease.id, er->hl->lease.product,
                         er->hl->lease.feature, all->site);
                all->returned++;
        } else if (a.outcome == SITE_REFUSED && streq(a.code, "unknown-lease")) {
                /* Ended or released there already: the seat is free either way. */
                log_info("Lease %s of %s/%s was no longer held at site %s.", er->hl->lease.id, er->hl->lease.product,
                         er->hl->lease.feature, all->site);
                all->returned++;
        } else
                exit_return_failed(er, a.message);
        er->answered = true;
        if (--all->out == 0)
                (void) sd_event_exit(all->event, 0);
}

static uint64_t monotonic_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static int on_budget_spent(sd_event_source *s, uint64_t usec, void *userdata) {
        ExitReturns *all = userdata;

        return sd_event_exit(all->event, 0);
}

/* The leases to return: taken (not borrowed), from the site joined, not
 * ended. One that ended the site has let go already. */
static bool exit_return_wanted(Context *c, const HeldLease *hl, int64_t now) {
        return !held_borrowed(hl) && c->site && streq(c->site->id, hl->lease.site) && now < hl->until;
}

void leases_return_at_exit(Context *c) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(http_client_freep) HttpClient *http = NULL;
        _cleanup_free_ ExitReturn *ers = NULL;
        _cleanup_free_ char *url = NULL;
        ExitReturns all = {};
        uint64_t start = monotonic_usec(), deadline = start + LEASES_EXIT_BUDGET_USEC, at, left;
        int64_t now = context_now(c);
        unsigned n = 0, i = 0, connections;
        int r;

        for (HeldLease *hl = c->leases; hl; hl = hl->next)
                if (exit_return_wanted(c, hl, now))
                        n++;
        if (n == 0)
                return;

        ers = calloc(n, sizeof(*ers));
        url = site_endpoint(c->site, "/v1/return");
        if (!ers || !url) {
                log_oom();
                return;
        }
        all = (ExitReturns) {.url = url, .site = c->site->id};
        connections = n < LEASES_EXIT_CONNECTIONS_MAX ? n : LEASES_EXIT_CONNECTIONS_MAX;
        r = sd_event_new(&event);
        if (r >= 0)
                r = http_client_new(event,
                                    &(HttpOptions) {
                                            .timeout = c->config.http_timeout,
                                            .max_host_connections = connections,
                                            .max_total_connections = connections,
                                            .quick_exit = true,
                                    },
                                    &http);
        if (r >= 0)
                r = sd_event_add_time(event, NULL, CLOCK_MONOTONIC, deadline + LEASES_EXIT_GRACE_USEC, 0,
                                      on_budget_spent, &all);
        if (r < 0) {
                log_warning_errno(r, "Cannot return the %u lease(s) taken for programs to site %s (%m); "
                                  "the site frees them after their TTL.", n, c->site->id);
                return;
        }
        all.event = event;

        for (HeldLease *hl = c->leases; hl; hl = hl->next) {
                _cleanup_free_ char *body = NULL;
                SiteRequest sr = {.type = SITE_REQUEST_RETURN, .lease = hl->lease.id};
                ExitReturn *er;

                if (!exit_return_wanted(c, hl, now))
                        continue;
                er = &ers[i++];
                *er = (ExitReturn) {.all = &all, .hl = hl};
                /* What is left of the budget: signing takes its time too. */
                at = monotonic_usec();
                left = at + USEC_PER_MSEC < deadline ? deadline - at : 0;
                r = left > 0 ? site_request_body(c, &sr, &body) : -ETIMEDOUT;
                if (r >= 0)
                        r = http_site_request(http, url, body, c->site->fingerprint, left, exit_return_done, er);
                if (r < 0) {
                        exit_return_failed(er, r == -ETIMEDOUT ? "no time left" : strerror(-r));
                        er->answered = true;
                        continue;
                }
                all.out++;
        }

        if (all.out > 0) {
                r = sd_event_loop(event);
                if (r < 0)
                        log_warning_errno(r, "Returning leases at exit: the event loop failed: %m");
        }
        for (i = 0; i < n; i++)
                if (!ers[i].answered)
                        exit_return_failed(&ers[i], "no answer in time");
        log_info("Returned %u of %u lease(s) taken for programs to site %s on exit, in %" PRIu64 " ms.",
                 all.returned, n, c->site->id, (monotonic_usec() - start) / USEC_PER_MSEC);
}
