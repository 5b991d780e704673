/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Floating licenses (docs/floating.md), this machine's side:
 *   licensectl site join URL --token TOKEN [--fingerprint SHA256]
 *   licensectl site leave
 *   licensectl site status
 *   licensectl site release LEASE
 *   licensectl borrow PRODUCT FEATURE --for DURATION
 *   licensectl return PRODUCT FEATURE | LEASE */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl-bus.h"
#include "ctl-output.h"
#include "timeutil.h"

/* 64 hex digits as licensed-site prints them: AB:CD:... */
static void fingerprint_pretty(const char *hex, char out[static 96]) {
        size_t n = 0;

        for (size_t i = 0; hex[i] && hex[i + 1] && n + 3 < 96; i += 2) {
                if (n)
                        out[n++] = ':';
                out[n++] = (char) (hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 'a' + 'A' : hex[i]);
                out[n++] = (char) (hex[i + 1] >= 'a' && hex[i + 1] <= 'f' ? hex[i + 1] - 'a' + 'A' : hex[i + 1]);
        }
        out[n] = 0;
}

/* The small answers: {"K1": V1, "K2": V2, ...} from NULL-terminated pairs. */
static int print_json_pairs(const char *key, ...) {
        json_object *o = json_object_new_object();
        va_list ap;

        if (!o)
                return ctl_oom();
        va_start(ap, key);
        for (const char *k = key; k; k = va_arg(ap, const char *))
                json_object_object_add(o, k, va_arg(ap, json_object *));
        va_end(ap);
        return json_print(o);
}

static bool ask_yes(const char *question) {
        char answer[16] = "";

        fputs(question, stdout);
        fflush(stdout);
        if (!fgets(answer, sizeof(answer), stdin))
                return false;
        return answer[0] == 'y' || answer[0] == 'Y';
}

static int site_join(Ctl *c, const char *url) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *site, *fingerprint = c->fingerprint;
        char pretty[96];
        int r;

        if (!c->token)
                return report_error(CTL_EXIT_USAGE, "site join needs --token TOKEN: 'licensed-site token' on the "
                                                    "site server makes one.");
        if (!fingerprint) {
                /* Ask what the site's certificate is, show it, and join
                 * only once a person has said it is the right one. */
                r = ctl_call(c, "JoinSite", CTL_TIMEOUT_LONG_USEC, &reply, "sssb", url, "", "", c->interactive);
                if (r == 0)
                        r = ctl_read_reply(reply, "JoinSite", "ss", &site, &fingerprint);
                if (r != 0)
                        return r;
                fingerprint_pretty(fingerprint, pretty);
                if (!c->interactive)
                        return report_error(CTL_EXIT_FAILURE,
                                            "site %s at %s presents the certificate with SHA-256 fingerprint %s. "
                                            "Compare it with what 'licensed-site status' shows on the site server, "
                                            "then run: licensectl site join %s --token %s --fingerprint %s",
                                            site, url, pretty, url, c->token, fingerprint);
                printf("Site %s at %s\nCertificate SHA-256 fingerprint:\n  %s\n", site, url, pretty);
                if (!ask_yes("Is this the fingerprint 'licensed-site status' shows on the site server? [y/N] "))
                        return report_error(CTL_EXIT_FAILURE, "not joined: the fingerprint was not confirmed.");
        }
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *joined = NULL;
        r = ctl_call(c, "JoinSite", CTL_TIMEOUT_LONG_USEC, &joined, "sssb", url, c->token, fingerprint,
                     c->interactive);
        if (r == 0)
                r = ctl_read_reply(joined, "JoinSite", "ss", &site, &fingerprint);
        if (r != 0)
                return r;
        fingerprint_pretty(fingerprint, pretty);
        if (c->json)
                return print_json_pairs("site", json_object_new_string(site), "url", json_object_new_string(url),
                                        "fingerprint", json_object_new_string(pretty), NULL);
        printf("Joined site %s at %s (certificate %s).\n", site, url, pretty);
        return CTL_EXIT_SUCCESS;
}

static int site_leave(Ctl *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *site;
        int r;

        r = ctl_call(c, "LeaveSite", CTL_TIMEOUT_LONG_USEC, &reply, "b", c->interactive);
        if (r == 0)
                r = ctl_read_reply(reply, "LeaveSite", "s", &site);
        if (r != 0)
                return r;
        if (c->json)
                return print_json_pairs("left", json_object_new_string(site), NULL);
        printf("Left site %s.\n", site);
        return CTL_EXIT_SUCCESS;
}

static void json_putp(json_object **o) {
        json_object_put(*o);
}

/* {"id" (unless NULL), "product", "feature"}: the start of an entry of
 * the three lists site status prints (NULL when out of memory). */
static json_object *json_entry(const char *id, const char *product, const char *feature) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        if (id)
                json_object_object_add(o, "id", json_object_new_string(id));
        json_object_object_add(o, "product", json_object_new_string(product));
        json_object_object_add(o, "feature", json_object_new_string(feature));
        return o;
}

/* The site's list: every lease for an administrator, else this machine's
 * (the daemon reads it from POST /v1/status). */
static int read_site_leases(Ctl *c, sd_bus_message *reply, json_object *o) {
        const char *id, *product, *feature, *host, *user;
        uint64_t since, expires, borrowed;
        json_object *list = json_object_new_array();
        int admin, r;

        if (!list)
                return ctl_oom();
        json_object_object_add(o, "site_leases", list);
        if (sd_bus_message_read(reply, "b", &admin) < 0 || sd_bus_message_enter_container(reply, 'a', "(sssssttt)") < 0)
                return report_error(CTL_EXIT_FAILURE, "licensed's answer to SiteStatus cannot be read.");
        json_object_object_add(o, "admin", json_object_new_boolean(admin));
        if (!c->json)
                printf("\n%s\n%-32s %-24s %-16s %-16s %-12s %-20s %-20s %s\n",
                       admin ? "Leases at the site (all of them: this machine is an administrator of the site):"
                             : "Leases of this machine at the site:",
                       "LEASE", "PRODUCT", "FEATURE", "HOST", "USER", "SINCE", "EXPIRES", "BORROWED UNTIL");
        while ((r = sd_bus_message_read(reply, "(sssssttt)", &id, &product, &feature, &host, &user, &since, &expires,
                                        &borrowed)) > 0) {
                char a[CTL_TIME_MAX], b[CTL_TIME_MAX], d[CTL_TIME_MAX];
                json_object *l = json_entry(id, product, feature);

                if (!l)
                        return ctl_oom();
                json_object_object_add(l, "host", json_object_new_string(host));
                json_object_object_add(l, "user", json_object_new_string(user));
                json_object_object_add(l, "since", json_timestamp(since));
                json_object_object_add(l, "expires", json_timestamp(expires));
                json_object_object_add(l, "borrowed_until", borrowed ? json_timestamp(borrowed) : NULL);
                json_object_array_add(list, l);
                if (!c->json)
                        printf("%-32s %-24s %-16s %-16s %-12s %-20s %-20s %s\n", id, product, feature, host, user,
                               format_timestamp(since, a, "-"), format_timestamp(expires, b, "-"),
                               borrowed ? format_timestamp(borrowed, d, "-") : "-");
        }
        if (r < 0 || sd_bus_message_exit_container(reply) < 0)
                return report_error(CTL_EXIT_FAILURE, "licensed's answer to SiteStatus cannot be read.");
        return 0;
}

static int site_release(Ctl *c, const char *lease) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *id;
        int r;

        r = ctl_call(c, "ReleaseSiteLease", CTL_TIMEOUT_LONG_USEC, &reply, "sb", lease, c->interactive);
        if (r == 0)
                r = ctl_read_reply(reply, "ReleaseSiteLease", "s", &id);
        if (r != 0)
                return r;
        if (c->json)
                return print_json_pairs("released", json_object_new_string(id), NULL);
        printf("Released lease %s at the site; its seat is free.\n", id);
        return CTL_EXIT_SUCCESS;
}

static int site_status(Ctl *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(json_putp) json_object *o = NULL, *features = NULL, *leases = NULL;
        const char *url, *site, *fingerprint, *product, *feature, *id, *holder;
        uint32_t seats, used;
        uint64_t until;
        char pretty[96], buf[CTL_TIME_MAX];
        int borrowed, r;

        r = ctl_call(c, "SiteStatus", CTL_TIMEOUT_LONG_USEC, &reply, NULL);
        if (r == 0)
                r = ctl_read_reply(reply, "SiteStatus", "sss", &url, &site, &fingerprint);
        if (r != 0)
                return r;
        fingerprint_pretty(fingerprint, pretty);
        o = json_object_new_object();
        features = json_object_new_array();
        leases = json_object_new_array();
        if (!o || !features || !leases)
                return ctl_oom();
        if (!c->json)
                printf("Site %s at %s\nCertificate: %s\n\nSeats:\n", site, url, pretty);
        if (sd_bus_message_enter_container(reply, 'a', "(ssuu)") < 0)
                return report_error(CTL_EXIT_FAILURE, "licensed's answer to SiteStatus cannot be read.");
        while ((r = sd_bus_message_read(reply, "(ssuu)", &product, &feature, &seats, &used)) > 0) {
                json_object *f = json_entry(NULL, product, feature);
                if (!f)
                        return ctl_oom();
                json_object_object_add(f, "seats", json_object_new_int64(seats));
                json_object_object_add(f, "used", json_object_new_int64(used));
                json_object_array_add(features, f);
                if (!c->json)
                        printf("  %s %s: %u of %u in use\n", product, feature, used, seats);
        }
        if (r < 0 || sd_bus_message_exit_container(reply) < 0 ||
            sd_bus_message_enter_container(reply, 'a', "(sssstb)") < 0)
                return report_error(CTL_EXIT_FAILURE, "licensed's answer to SiteStatus cannot be read.");
        if (!c->json)
                printf("\nLeases held by this machine:\n");
        while ((r = sd_bus_message_read(reply, "(sssstb)", &id, &product, &feature, &holder, &until, &borrowed)) > 0) {
                json_object *l = json_entry(id, product, feature);
                if (!l)
                        return ctl_oom();
                json_object_object_add(l, "holder", json_string_or_null(*holder ? holder : NULL));
                json_object_object_add(l, "until", json_timestamp(until));
                json_object_object_add(l, "borrowed", json_object_new_boolean(borrowed));
                json_object_array_add(leases, l);
                if (!c->json)
                        printf("  %s %s %s %s until %s\n", id, product, feature, borrowed ? "borrowed" : holder,
                               format_timestamp(until, buf, "-"));
        }
        if (r < 0 || sd_bus_message_exit_container(reply) < 0)
                return report_error(CTL_EXIT_FAILURE, "licensed's answer to SiteStatus cannot be read.");
        r = read_site_leases(c, reply, o);
        if (r != 0)
                return r;
        if (!c->json)
                return CTL_EXIT_SUCCESS;
        json_object_object_add(o, "site", json_object_new_string(site));
        json_object_object_add(o, "url", json_object_new_string(url));
        json_object_object_add(o, "fingerprint", json_object_new_string(pretty));
        json_object_object_add(o, "features", TAKE_PTR(features));
        json_object_object_add(o, "leases", TAKE_PTR(leases));
        return json_print(TAKE_PTR(o));
}

int verb_site(int argc, char *argv[], void *userdata) {
        Ctl *c = userdata;
        const char *what = argv[1];

        if (streq(what, "join")) {
                if (argc != 3)
                        return report_error(CTL_EXIT_USAGE, "site join needs the site server's URL.");
                return site_join(c, argv[2]);
        }
        if (streq(what, "release")) {
                if (argc != 3)
                        return report_error(CTL_EXIT_USAGE,
                                            "site release needs a lease id, as 'licensectl site status' shows it.");
                return site_release(c, argv[2]);
        }
        if (argc != 2)
                return report_error(CTL_EXIT_USAGE, "site %s takes no argument.", what);
        if (streq(what, "leave"))
                return site_leave(c);
        if (streq(what, "status"))
                return site_status(c);
        return report_error(CTL_EXIT_USAGE, "site %s: use site join, site leave, site status or site release.", what);
}

int verb_borrow(_unused_ int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Ctl *c = userdata;
        const char *id;
        uint64_t until;
        char buf[CTL_TIME_MAX];
        int r;

        if (c->borrow_for <= 0)
                return report_error(CTL_EXIT_USAGE, "borrow needs --for DURATION, e.g. --for 3d.");
        r = ctl_call(c, "Borrow", CTL_TIMEOUT_LONG_USEC, &reply, "sstb", argv[1], argv[2],
                     (uint64_t) (time(NULL) + c->borrow_for) * USEC_PER_SEC, c->interactive);
        if (r == 0)
                r = ctl_read_reply(reply, "Borrow", "st", &id, &until);
        if (r != 0)
                return r;
        if (c->json)
                return print_json_pairs("lease", json_object_new_string(id), "borrowed_until", json_timestamp(until),
                                        NULL);
        printf("Borrowed %s %s until %s (lease %s).\n", argv[1], argv[2], format_timestamp(until, buf, "-"), id);
        return CTL_EXIT_SUCCESS;
}

int verb_return(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Ctl *c = userdata;
        const char *id;
        int r;

        r = ctl_call(c, "ReturnBorrowed", CTL_TIMEOUT_LONG_USEC, &reply, "ssb", argv[1], argc > 2 ? argv[2] : "",
                     c->interactive);
        if (r == 0)
                r = ctl_read_reply(reply, "ReturnBorrowed", "s", &id);
        if (r != 0)
                return r;
        if (c->json)
                return print_json_pairs("returned", json_object_new_string(id), NULL);
        printf("Returned lease %s.\n", id);
        return CTL_EXIT_SUCCESS;
}
