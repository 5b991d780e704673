/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The set of installed licenses: loading, lookup, evaluation, and telling
 * the bus when a verdict changes. */

#include <assert.h>
#include <stdlib.h>

#include "context.h"
#include "events.h"
#include "seats.h"
#include "snapshot.h"
#include "log.h"
#include "timeutil.h"

/* Persist the clock at most this often from the check path; state changes
 * persist it at once. */
#define CLOCK_SAVE_INTERVAL (10 * SEC_PER_MINUTE)
/* Re-evaluate at least this often, whatever the next known deadline. */
#define REEVALUATE_MAX_DELAY SNAPSHOT_REFRESH_INTERVAL

void entry_free(Entry *e) {
        if (!e)
                return;
        free(e->id);
        free(e->object_path);
        free(e->text);
        free(e->feature_reasons);
        license_done(&e->license);
        free(e);
}

Entry *context_find_entry(Context *c, const char *id) {
        return hashmap_get(&c->by_id, id);
}

const ProductEntries *context_product_entries(Context *c, const char *product) {
        static const ProductEntries none = {};
        ProductEntries *pe = hashmap_get(&c->by_product, product);
        return pe ?: &none;
}

/* Index maintenance: every change to c->entries goes through these two. */
static int index_add(Context *c, Entry *e) {
        ProductEntries *pe = hashmap_get(&c->by_product, e->license.product);
        Entry **n;
        int r;

        if (!pe) {
                pe = calloc(1, sizeof(*pe));
                if (!pe || !(pe->product = strdup(e->license.product))) {
                        free(pe);
                        return -ENOMEM;
                }
                r = hashmap_put(&c->by_product, pe->product, pe);
                if (r < 0) {
                        free(pe->product);
                        free(pe);
                        return r;
                }
        }
        n = realloc(pe->items, (pe->n + 1) * sizeof(Entry *));
        if (!n)
                return -ENOMEM;
        pe->items = n;
        pe->items[pe->n++] = e;
        r = hashmap_put(&c->by_id, e->id, e);
        if (r < 0) {
                pe->n--;
                return r;
        }
        return 0;
}

static void index_remove(Context *c, Entry *e) {
        ProductEntries *pe = hashmap_get(&c->by_product, e->license.product);

        hashmap_remove(&c->by_id, e->id);
        if (!pe)
                return;
        for (size_t i = 0; i < pe->n; i++)
                if (pe->items[i] == e) {
                        pe->items[i] = pe->items[--pe->n];
                        break;
                }
        if (pe->n == 0) {
                hashmap_remove(&c->by_product, pe->product);
                free(pe->product);
                free(pe->items);
                free(pe);
        }
}

void context_index_done(Context *c) {
        for (size_t i = 0; i < c->by_product.n_slots; i++) {
                ProductEntries *pe = c->by_product.slots[i].key ? c->by_product.slots[i].value : NULL;
                if (pe) {
                        free(pe->product);
                        free(pe->items);
                        free(pe);
                }
        }
        hashmap_done(&c->by_product);
        hashmap_done(&c->by_id);
}

int context_add_entry(Context *c, const char *id, const char *text, License *l, const Product *p,
                      const LicenseState *st, Entry **ret) {
        Entry *e, *old;
        int r;

        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->context = c;
        e->id = strdup(id);
        e->text = strdup(text);
        e->feature_reasons = calloc(l->n_features ?: 1, sizeof(Reason));
        if (!e->id || !e->text || !e->feature_reasons) {
                entry_free(e);
                return -ENOMEM;
        }
        r = sd_bus_path_encode(LICENSED_LICENSE_PATH_PREFIX, id, &e->object_path);
        if (r < 0) {
                entry_free(e);
                return r;
        }
        e->license = *l;
        license_init(l);
        e->product = p;
        e->state = *st;
        /* Feature signals start afresh; the journal continues from what was
         * last announced, even across restarts and idle exits. */
        for (size_t i = 0; i < e->license.n_features; i++)
                e->feature_reasons[i] = _REASON_INVALID;
        /* No record means nothing but "licensed" was ever announced: a healthy
         * license costs no write. */
        e->status = st->announced[0] ? reason_from_string(st->announced) : REASON_LICENSED;
        e->warned_days_left = st->warned_days_left > 0 ? st->warned_days_left : -1;

        old = context_find_entry(c, id);
        if (!old) {
                Entry **n = realloc(c->entries, (c->n_entries + 1) * sizeof(Entry *));
                if (!n) {
                        entry_free(e);
                        return -ENOMEM;
                }
                c->entries = n;
        }
        r = index_add(c, e);
        if (r < 0) {
                entry_free(e);
                return r;
        }
        if (old) {
                /* index_add() replaced the id mapping; drop old's product slot. */
                ProductEntries *pe = hashmap_get(&c->by_product, old->license.product);
                for (size_t i = 0; pe && i < pe->n; i++)
                        if (pe->items[i] == old) {
                                pe->items[i] = pe->items[--pe->n];
                                break;
                        }
                for (size_t i = 0; i < c->n_entries; i++)
                        if (c->entries[i] == old)
                                c->entries[i] = e;
                entry_free(old);
        } else
                c->entries[c->n_entries++] = e;
        if (ret)
                *ret = e;
        return 0;
}

void context_remove_entry(Context *c, Entry *e) {
        index_remove(c, e);
        for (size_t i = 0; i < c->n_entries; i++)
                if (c->entries[i] == e) {
                        memmove(c->entries + i, c->entries + i + 1, (c->n_entries - i - 1) * sizeof(Entry *));
                        c->n_entries--;
                        break;
                }
        entry_free(e);
}

typedef struct LoadState {
        Context *c;
        unsigned loaded, failed;
} LoadState;

static void loaded_one(const char *id, const char *text, size_t len, const LicenseState *st, void *userdata) {
        LoadState *ls = userdata;
        Context *c = ls->c;
        _cleanup_(license_done) License l = LICENSE_INIT;
        const Product *p = NULL;
        CoreError err = {};
        int r;

        /* Stored licenses are verified again at every start: the state dir
         * is not trusted more than the license itself. */
        r = license_verify_with_products(text, len, &c->products, &l, &p, &err);
        if (r >= 0 && !streq(l.id, id))
                r = core_error_set(&err, EBADMSG, "file name says %s but the license is %s", id, l.id);
        if (r < 0) {
                _cleanup_free_ char *path = store_path(&c->store, "licenses", id, ".lic"), *moved = NULL;

                /* A product file may simply be missing (uninstalled, or a typo
                 * in products.d): keep the license where it is for that case. */
                if (r == -ENOKEY || r == -ENOENT) {
                        log_warning("License %s is not usable and stays stored: %s", id,
                                    core_error_message(&err, r));
                        ls->failed++;
                        return;
                }
                if (path && store_quarantine(&c->store, path, &moved) >= 0)
                        log_error("License %s is damaged and was moved to %s: %s", id, moved,
                                  core_error_message(&err, r));
                ls->failed++;
                return;
        }
        r = context_add_entry(c, id, text, &l, p, st, NULL);
        if (r < 0) {
                log_error_errno(r, "Failed to add license %s: %m", id);
                ls->failed++;
                return;
        }
        ls->loaded++;
}

static void damaged_one(const char *path, const char *why, const char *moved_to, void *userdata) {
        size_t n = strlen(path);

        if (n > 6 && streq(path + n - 6, ".state"))
                log_error("%s is damaged (%s) and was moved to %s; its license keeps working, as installed at "
                          "the file's time and never validated",
                          path, why, moved_to);
        else
                log_error("%s cannot be used (%s) and was moved to %s; that license is not loaded", path, why,
                          moved_to);
}

int context_load_licenses(Context *c) {
        LoadState ls = {.c = c};
        int r;

        r = store_load_licenses(&c->store, loaded_one, damaged_one, &ls);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s/licenses: %m", c->store.dir);
        log_info("Loaded %u license(s)%s.", ls.loaded, ls.failed ? ", some could not be used (see above)" : "");
        return 0;
}

/* Evaluation -------------------------------------------------------------- */

static int64_t boottime_now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_BOOTTIME, &ts);
        return (int64_t) ts.tv_sec;
}

void context_save_clock(Context *c) {
        ClockMark m = {.high_water = c->time_high_water, .boottime = c->hw_boottime};
        int r;

        memcpy(m.boot_id, c->boot_id, sizeof(m.boot_id));
        r = store_save_clock(&c->store, &m);
        if (r < 0)
                log_warning_errno(r, "Failed to save the clock high-water mark: %m");
        else
                c->clock_saved = c->time_high_water;
}

int64_t context_now(Context *c) {
        int64_t now = now_realtime(), boot = boottime_now();

        /* Real time passes at least as fast as CLOCK_BOOTTIME, which no one
         * can set: the mark moves with it, and moves further when the wall
         * clock is ahead. A wall clock behind the mark is what evaluate()
         * reports as clock-rollback. */
        if (c->hw_boottime > 0 && boot > c->hw_boottime) {
                c->time_high_water += boot - c->hw_boottime;
                c->hw_boottime = boot;
        }
        if (now > c->time_high_water) {
                c->time_high_water = now;
                c->hw_boottime = boot;
        }
        if (c->time_high_water - c->clock_saved >= CLOCK_SAVE_INTERVAL)
                context_save_clock(c);
        return now;
}

void entry_local_state(const Context *c, const Entry *e, LocalState *ret) {
        const char *server = e->license.server_url ?: e->product->server_url;
        /* The license's own policy rules; the product default applies only
         * where there is a server to validate against, or a license from an
         * offline-only vendor would run out for want of a server. */
        int64_t interval = e->license.validation_interval >= 0 ? e->license.validation_interval
                           : server                            ? e->product->validation_interval
                                                               : 0;
        int64_t grace = e->license.grace_period >= 0 ? e->license.grace_period : e->product->grace_period;

        if (grace > c->config.max_grace_period)
                grace = c->config.max_grace_period;
        *ret = (LocalState) {
                .machine_id = c->machine_id,
                .device_key = c->device_key_b64,
                .revoked = e->state.revoked,
                .installed = e->state.installed,
                .last_validation = e->state.last_validation,
                .time_high_water = c->time_high_water,
                .clock_tolerance = c->config.clock_tolerance,
                .validation_interval = interval,
                .grace_period = grace,
        };
}

Reason entry_status(Context *c, const Entry *e, int64_t now) {
        LocalState st;
        Verdict v;

        entry_local_state(c, e, &st);
        evaluate(&e->license, &st, NULL, now, TIME_UNSET, &v);
        return v.reason;
}

/* Which verdict to report when several licenses speak for one feature:
 * licensed beats grace beats any denial; among denials the one that tells
 * the administrator most about what to do. */
static int verdict_rank(const Verdict *v) {
        switch (v->reason) {
        case REASON_LICENSED: return 100;
        case REASON_GRACE: return 90;
        case REASON_NOT_INSTALLED: return 0;
        default: return 10;
        }
}

/* Whether a ends after b, where TIME_UNSET means never. */
static bool expires_later(int64_t a, int64_t b) {
        if (a == TIME_UNSET)
                return b != TIME_UNSET;
        return b != TIME_UNSET && a > b;
}

void context_check_feature(Context *c, const char *product, const char *feature, int64_t release_date,
                           bool want_seat, Verdict *ret) {
        int64_t now = context_now(c);
        const ProductEntries *pe = context_product_entries(c, product);
        Verdict best = {.reason = REASON_NOT_INSTALLED};

        for (size_t i = 0; i < pe->n; i++) {
                Entry *e = pe->items[i];
                LocalState st;
                Verdict v;

                entry_local_state(c, e, &st);
                st.want_seat = want_seat;
                st.seats_in_use = want_seat ? seats_in_use(c, product, feature) : 0;
                evaluate(&e->license, &st, feature, now, release_date, &v);
                if (verdict_rank(&v) > verdict_rank(&best) ||
                    (verdict_rank(&v) == verdict_rank(&best) && expires_later(v.expires, best.expires)))
                        best = v;
        }
        *ret = best;
}

void context_note_denial(Context *c, const char *product, const char *feature, Reason reason) {
        int64_t now = context_now(c);
        Denial *d;

        for (size_t i = 0; i < DENIALS_MAX; i++) {
                d = &c->denials[i];
                if (d->logged && d->reason == reason && streq(d->product, product) && streq(d->feature, feature)) {
                        if (now - d->logged < DENIAL_LOG_INTERVAL && now >= d->logged)
                                return;
                        goto log;
                }
        }
        d = &c->denials[c->next_denial];
        c->next_denial = (c->next_denial + 1) % DENIALS_MAX;
        snprintf(d->product, sizeof(d->product), "%s", product);
        snprintf(d->feature, sizeof(d->feature), "%s", feature);
        d->reason = reason;
log:
        d->logged = now;
        event_emit(EVENT_FEATURE_DENIED, LOG_NOTICE,
                   &(EventFields) {.product = product, .feature = feature, .reason = reason_to_string(reason),
                                   .days_left = -1},
                   "Feature %s of %s was denied: %s.", feature, product, reason_to_description(reason));
}

/* Change announcements ------------------------------------------------------ */

/* Records what was announced, so a restart neither repeats nor misses it. */
static void remember_announced(Context *c, Entry *e) {
        LicenseState st = e->state;
        int r;

        snprintf(st.announced, sizeof(st.announced), "%s",
                 e->status == REASON_LICENSED ? "" : reason_to_string(e->status) ?: "");
        st.warned_days_left = e->warned_days_left > 0 ? e->warned_days_left : 0;
        if (streq(st.announced, e->state.announced) && st.warned_days_left == e->state.warned_days_left)
                return;
        r = store_save_state(&c->store, e->id, &st);
        if (r < 0)
                log_warning_errno(r, "Failed to record the announced status of %s: %m", e->id);
        else
                e->state = st;
}

/* Journal events for a license whose status changed from old to v->reason. */
static void announce_status(Context *c, Entry *e, Reason old, const Verdict *v, int64_t now) {
        EventFields f = {.license_id = e->id, .product = e->license.product,
                         .reason = reason_to_string(v->reason), .days_left = -1};

        /* Nothing announced before (a new license, or state from before this
         * was recorded): its status now is where the journal starts. */
        if (old == _REASON_INVALID) {
                e->warned_days_left = -1;
                return;
        }

        switch (v->reason) {
        case REASON_GRACE:
                f.days_left = days_left(now, v->grace_end);
                if (old != REASON_GRACE) {
                        event_emit(EVENT_GRACE_ENTERED, LOG_WARNING, &f,
                                   "License %s of %s could not be validated and is in its grace period: "
                                   "%lld days left.",
                                   e->id, e->license.product, (long long) f.days_left);
                        e->warned_days_left = f.days_left;
                } else if (c->config.grace_warning > 0 && f.days_left * SEC_PER_DAY <= c->config.grace_warning &&
                           f.days_left != e->warned_days_left) {
                        /* grace_warning (licensed.conf) before the end, one a day */
                        event_emit(EVENT_GRACE_WARNING, LOG_WARNING, &f,
                                   "License %s of %s: the grace period ends in %lld days; validate it.", e->id,
                                   e->license.product, (long long) f.days_left);
                        e->warned_days_left = f.days_left;
                }
                return;
        case REASON_VALIDATION_REQUIRED:
                if (old != v->reason)
                        event_emit(EVENT_GRACE_EXPIRED, LOG_ERR, &f,
                                   "License %s of %s: the grace period is over and its features are no longer "
                                   "licensed until it is validated.",
                                   e->id, e->license.product);
                break;
        case REASON_EXPIRED:
                if (old != v->reason)
                        event_emit(EVENT_EXPIRED, LOG_ERR, &f, "License %s of %s has expired.", e->id,
                                   e->license.product);
                break;
        case REASON_REVOKED:
                if (old != v->reason)
                        event_emit(EVENT_REVOKED, LOG_ERR, &f, "License %s of %s was revoked by the vendor.", e->id,
                                   e->license.product);
                break;
        case REASON_CLOCK_ROLLBACK:
                if (old != v->reason)
                        event_emit(EVENT_CLOCK_ROLLBACK, LOG_ERR, &f,
                                   "The system clock is behind a time licensed already saw; license %s of %s is "
                                   "not honoured until the clock is fixed.",
                                   e->id, e->license.product);
                break;
        default:
                break;
        }
        e->warned_days_left = -1;
}

static int on_reevaluate_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        context_reevaluate(userdata);
        return 0;
}

void context_reevaluate(Context *c) {
        int64_t now = context_now(c), next = TIME_UNSET;
        bool any_changed = false;
        int r;

        for (size_t i = 0; i < c->n_entries; i++) {
                Entry *e = c->entries[i];
                LocalState st;
                Verdict v;
                bool changed = false;

                entry_local_state(c, e, &st);
                for (size_t k = 0; k < e->license.n_features; k++) {
                        const char *name = e->license.features[k].name;

                        evaluate(&e->license, &st, name, now, TIME_UNSET, &v);
                        if (v.valid_until != TIME_UNSET && v.valid_until > now &&
                            (next == TIME_UNSET || v.valid_until < next))
                                next = v.valid_until;
                        if (v.reason == e->feature_reasons[k])
                                continue;
                        e->feature_reasons[k] = v.reason;
                        changed = true;
                        if (!c->announce)
                                continue;
                        manager_dbus_emit_feature_changed(c, e->license.product, name, &v);
                }
                evaluate(&e->license, &st, NULL, now, TIME_UNSET, &v);
                int64_t warned = e->warned_days_left;
                announce_status(c, e, e->status, &v, now);
                if (v.reason == REASON_GRACE && (next == TIME_UNSET || now + SEC_PER_DAY < next))
                        next = now + SEC_PER_DAY; /* daily, for the warnings */
                if (v.reason != e->status || e->warned_days_left != warned) {
                        changed = changed || v.reason != e->status;
                        e->status = v.reason;
                        remember_announced(c, e);
                }
                if (changed && c->announce) {
                        any_changed = true;
                        (void) license_dbus_emit_changed(c, e);
                }
        }
        if (any_changed)
                context_state_changed(c);

        /* The fast path for clients: verdicts and until when they hold. */
        (void) snapshot_write(c);

        /* Wake up when the next verdict may change (expiry, end of grace),
         * and at least every SNAPSHOT_REFRESH_INTERVAL, so the snapshot never
         * grows old enough for clients to refuse it; the delay runs on
         * CLOCK_MONOTONIC, so a wall clock that jumps is noticed too. */
        int64_t delay = next == TIME_UNSET ? REEVALUATE_MAX_DELAY : next - now;
        uint64_t mono;

        if (delay > REEVALUATE_MAX_DELAY)
                delay = REEVALUATE_MAX_DELAY;
        if (delay < 1)
                delay = 1;
        (void) sd_event_now(c->event, CLOCK_MONOTONIC, &mono);
        mono += (uint64_t) delay * USEC_PER_SEC;
        if (!c->reevaluate_source) {
                r = sd_event_add_time(c->event, &c->reevaluate_source, CLOCK_MONOTONIC, mono,
                                      USEC_PER_SEC /* 1 s accuracy */, on_reevaluate_timer, c);
                if (r < 0)
                        log_warning_errno(r, "Failed to arm the re-evaluation timer: %m");
                return;
        }
        (void) sd_event_source_set_time(c->reevaluate_source, mono);
        (void) sd_event_source_set_enabled(c->reevaluate_source, SD_EVENT_ONESHOT);
}

void context_state_changed(Context *c) {
        context_save_clock(c); /* a state change is a time worth remembering */
        context_notify_status(c);
        manager_dbus_emit_state_changed(c);
}

/* Overview ------------------------------------------------------------------- */

const char *context_state(Context *c) {
        int64_t now = context_now(c);
        bool grace = false, trouble = false;

        if (c->n_entries == 0)
                return "empty";
        for (size_t i = 0; i < c->n_entries; i++) {
                Reason r = entry_status(c, c->entries[i], now);
                if (r == REASON_GRACE)
                        grace = true;
                else if (r != REASON_LICENSED)
                        trouble = true;
        }
        return trouble ? "trouble" : grace ? "grace" : "ok";
}

int context_summary(Context *c, char **ret) {
        int64_t now = context_now(c), next = context_next_validation(c), min_grace = TIME_UNSET;
        unsigned active = 0, grace = 0, other = 0;
        char nextbuf[80] = "", gracebuf[64] = "", ts[RFC3339_MAX];

        for (size_t i = 0; i < c->n_entries; i++) {
                Entry *e = c->entries[i];
                Reason r = entry_status(c, e, now);
                if (r == REASON_LICENSED)
                        active++;
                else if (r == REASON_GRACE) {
                        LocalState st;
                        Verdict v;
                        grace++;
                        entry_local_state(c, e, &st);
                        evaluate(&e->license, &st, NULL, now, TIME_UNSET, &v);
                        if (min_grace == TIME_UNSET || v.grace_end < min_grace)
                                min_grace = v.grace_end;
                } else
                        other++;
        }
        if (grace > 0) {
                int64_t d = days_left(now, min_grace);
                snprintf(gracebuf, sizeof(gracebuf), " (%lld day%s left)", (long long) d, d == 1 ? "" : "s");
        }
        if (next != TIME_UNSET)
                snprintf(nextbuf, sizeof(nextbuf), "; next validation %s", time_format_rfc3339(next, ts));
        if (asprintf(ret, "%zu license%s: %u active, %u in grace%s, %u not licensed%s", c->n_entries,
                     c->n_entries == 1 ? "" : "s", active, grace, gracebuf, other, nextbuf) < 0)
                return -ENOMEM;
        return 0;
}

int64_t context_next_validation(Context *c) {
        int64_t next = TIME_UNSET;

        for (size_t i = 0; i < c->n_entries; i++) {
                Entry *e = c->entries[i];
                LocalState st;
                int64_t due;

                entry_local_state(c, e, &st);
                if (st.validation_interval <= 0 || e->state.revoked)
                        continue;
                due = (e->state.last_validation ?: e->state.installed) + st.validation_interval;
                if (next == TIME_UNSET || due < next)
                        next = due;
        }
        return next;
}
