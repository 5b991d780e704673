/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Borrowed leases (docs/floating.md), on the client.
 *
 * A borrowed lease (POST /v1/borrow) belongs to the machine, not to a
 * connection: it is kept in the state directory with the license it
 * draws on, checked again with lease_check_chain() at every start, and
 * answers until `borrowed-until` with no site at all. It is taken by the
 * same request as a program's lease (leases_take()), and held, timed and
 * answered from in the same set (leases.c); what is its own is here:
 * Borrow, the files, loading them at start, and ReturnBorrowed. */

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus-contract.h"
#include "fileio.h"
#include "leases-internal.h"
#include "log.h"
#include "strutil.h"

static char *borrowed_path(Context *c, const char *id, const char *suffix) {
        _cleanup_free_ char *site = store_path(&c->store, NULL, "site", NULL),
                            *dir = store_path(&c->store, "site", "borrowed", NULL);

        if (!site || !dir || (mkdir(site, 0700) < 0 && errno != EEXIST) || (mkdir(dir, 0700) < 0 && errno != EEXIST))
                return NULL;
        return store_path(&c->store, "site/borrowed", id, suffix);
}

void borrowed_remove(Context *c, const char *id) {
        _cleanup_free_ char *lease = borrowed_path(c, id, ".lease"), *lic = borrowed_path(c, id, ".lic");

        if (lease)
                (void) unlink(lease);
        if (lic)
                (void) unlink(lic);
        if (lease)
                (void) fsync_parent_dir(lease);
}

int borrowed_save(Context *c, const HeldLease *hl) {
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

/* Borrow ------------------------------------------------------------------------ */

int leases_borrow(Context *c, sd_bus_message *m, const char *product, const char *feature, int64_t until) {
        if (!c->site)
                return sd_bus_reply_method_errorf(m, BUS_ERROR_NOT_SUPPORTED,
                                                  "This machine has joined no site (licensectl site join URL).");
        if (!site_client_find_license(c, product, feature))
                return sd_bus_reply_method_errorf(m, BUS_ERROR_NOT_SUPPORTED,
                                                  "Site %s has no floating license of %s with feature %s.",
                                                  c->site->id, product, feature);
        return leases_take(c, m, product, feature, until);
}

/* Returning a borrowed lease ------------------------------------------------------ */
static void give_done(const HttpResult *res, void *userdata) {
        _cleanup_(site_call_freep) SiteCall *gc = userdata;
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
        HeldLease *found = NULL;
        SiteRequest sr = {.type = SITE_REQUEST_RETURN};

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
        return site_call_send(c, m, "/v1/return", &sr, found->lease.id, give_done);
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
