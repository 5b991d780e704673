/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>
#include <time.h>

#include "build-info.h"
#include "context.h"
#include "event-timer.h"
#include "http.h"
#include "seats.h"
#include "site-client.h"
#include "snapshot.h"
#include "log.h"
#include "timeutil.h"

static int on_bus_message(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);
static void calls_drained(void *userdata);

static void warn_product(const char *path, const char *message, void *userdata) {
        /* The message names the file and line already. */
        log_warning("Ignoring product file: %s", message);
}

static int context_connect_bus(Context *c) {
        int r;

        r = licensed_bus_open(c->options.bus_address, "licensed", &c->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to %s: %m", c->options.bus_address ?: "the system bus");
        /* Not closed when the event loop exits (sd-bus's default):
         * context_free() still answers the calls in flight on it. */
        r = sd_bus_set_close_on_exit(c->bus, false);
        if (r < 0)
                return log_error_errno(r, "Failed to keep the bus open until the end: %m");
        return 0;
}

static void store_changed(void *userdata) {
        context_image_changed(userdata);
}

static int context_load_clock(Context *c) {
        sd_id128_t boot;
        ClockMark m = {};
        struct timespec ts;
        int r;

        if (sd_id128_get_boot(&boot) >= 0)
                sd_id128_to_string(boot, c->boot_id);
        clock_gettime(CLOCK_BOOTTIME, &ts);

        r = store_load_clock(&c->store, &m);
        if (r < 0 && r != -ENOENT) {
                _cleanup_free_ char *path = store_path(&c->store, NULL, "clock", NULL), *moved = NULL;
                /* Losing the mark only loses rollback protection for the past;
                 * it is rebuilt from now on. */
                if (path && store_quarantine(&c->store, path, &moved) >= 0)
                        log_error("The clock file is damaged and was moved to %s.", moved);
                m = (ClockMark) {};
        }
        c->time_high_water = m.high_water;
        c->clock_saved = m.high_water;
        /* Same boot: CLOCK_BOOTTIME tells how much time really passed while
         * licensed was not running. After a reboot only the mark is known. */
        if (c->boot_id[0] && streq(m.boot_id, c->boot_id) && m.boottime > 0 && ts.tv_sec >= m.boottime)
                c->hw_boottime = m.boottime;
        else
                c->hw_boottime = (int64_t) ts.tv_sec;
        (void) context_now(c);
        return 0;
}

/* The first snapshot, once the name is ours and the calls already waiting
 * are answered: it evaluates every feature of every product again (a
 * third of a 100,000-license start). Until it is written a client finds
 * the previous daemon's snapshot (written from the same state, its
 * verdicts bounded in time as always) or none, and asks over D-Bus. */
static int on_first_snapshot(sd_event_source *s, void *userdata) {
        Context *c = userdata;

        c->snapshot_after_name = false;
        c->first_snapshot_source = sd_event_source_unref(c->first_snapshot_source);
        (void) snapshot_write(c);
        return 0;
}

int context_new(const Options *o, Context **ret) {
        _cleanup_(context_freep) Context *c = NULL;
        CoreError err = {};
        int r;

        /* Blocked before the bus name is ours: a SIGTERM from then on must
         * reach the event loop, not kill the process mid-way. */
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGUSR1);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        c = calloc(1, sizeof(*c));
        if (!c)
                return log_oom();
        c->options = *o;
        c->calls = (PendingCalls) {.drained = calls_drained, .userdata = c};
        licensed_config_init(&c->config);

        r = licensed_config_load(&c->config, o->config_file, &err);
        if (r < 0)
                return log_error_errno(r, "%s", core_error_message(&err, r));
        r = product_set_load(&c->products, o->product_dirs, o->n_product_dirs, warn_product, c);
        if (r < 0)
                return log_error_errno(r, "Failed to load products: %m");
        if (c->products.n_products == 0)
                log_warning("No usable product files (none in the products.d directories, or none that "
                            "loaded: see above); every check will answer not-installed.");

        r = store_open(&c->store, o->state_dir);
        if (r < 0)
                return log_error_errno(r, "Failed to open the state directory %s: %m", o->state_dir);
        c->store.changed = store_changed;
        c->store.changed_userdata = c;
        r = context_load_device(c);
        if (r < 0)
                return r;
        r = context_load_clock(c);
        if (r < 0)
                return r;

        r = sd_event_default(&c->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");
        r = http_client_new(c->event,
                            &(HttpOptions) {
                                    .timeout = c->config.http_timeout,
                                    .proxy = c->config.proxy,
                                    .ca_file = c->config.ca_file,
                            },
                            &c->http);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the HTTP client: %m");
        r = context_load_licenses(c);
        if (r < 0)
                return r;
        r = site_client_load(c);
        if (r < 0)
                return r;
        r = leases_load_borrowed(c);
        if (r < 0)
                return r;
        /* Connect only now: the bus daemon drops a connection that does not
         * finish authenticating within its auth_timeout (30 s on the system
         * bus), and a first start that checks 100,000 signatures takes
         * longer than that on a slow machine. Nothing above needs the bus. */
        r = context_connect_bus(c);
        if (r < 0)
                return r;
        r = manager_dbus_register(c);
        if (r < 0)
                return r;
        r = license_dbus_register(c);
        if (r < 0)
                return r;

        r = sd_bus_attach_event(c->bus, c->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
        r = sd_bus_add_filter(c->bus, NULL, on_bus_message, c);
        if (r < 0)
                return log_error_errno(r, "Failed to watch bus traffic: %m");
        /* Pings systemd's watchdog from the loop itself when WatchdogSec= is set. */
        r = sd_event_set_watchdog(c->event, true);
        if (r < 0)
                log_warning_errno(r, "Failed to enable the watchdog: %m");

        /* The first evaluation comes before the name: a call finds every
         * status current. The snapshot it would write comes after (see
         * on_first_snapshot()). */
        c->snapshot_after_name = true;
        context_reevaluate(c);

        /* Take the name last: once it is ours, calls arrive, and everything
         * they need is in place. */
        r = sd_bus_request_name(c->bus, LICENSED_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire the bus name %s (is licensed running already?): %m",
                                       LICENSED_BUS_NAME);
        c->announce = true;
        r = sd_event_add_defer(c->event, &c->first_snapshot_source, on_first_snapshot, c);
        if (r >= 0)
                r = sd_event_source_set_priority(c->first_snapshot_source, SD_EVENT_PRIORITY_IDLE);
        if (r < 0)
                (void) on_first_snapshot(NULL, c);
        *ret = TAKE_PTR(c);
        return 0;
}

Context *context_free(Context *c) {
        if (!c)
                return NULL;
        /* First, while the bus is still there: a caller waiting on polkit
         * or a licensing server gets an answer, and each call frees what
         * it holds (its polkit query, its server requests' state). */
        pending_calls_cancel_all(&c->calls, "licensed is shutting down and did not finish this call; call again.");
        for (size_t i = 0; i < c->n_entries; i++)
                entry_free(c->entries[i]);
        free(c->entries);
        context_index_done(c);
        verdict_cache_done(&c->verdict_cache);
        seats_free_all(c);
        leases_free_all(c);
        site_client_free(c->site);
        http_client_free(c->http);
        sd_event_source_unref(c->reevaluate_source);
        sd_event_source_unref(c->idle_source);
        sd_event_source_unref(c->first_snapshot_source);
        context_image_done(c);
        sd_bus_flush_close_unref(c->bus);
        sd_event_unref(c->event);
        EVP_PKEY_free(c->device_key);
        free(c->device_key_b64);
        store_done(&c->store);
        product_set_done(&c->products);
        licensed_config_done(&c->config);
        free(c);
        return NULL;
}

/* Idle exit -------------------------------------------------------------------
 * After idle_timeout without a call, licensed gives up its bus name and
 * exits once the bus confirms and every call that arrived before that is
 * answered: such a call was queued to us first, and may still wait for
 * polkit or the licensing server. A call that arrives after the release
 * goes to the bus, which activates a new licensed (under systemd once this
 * one has exited: STOPPING=1 makes the start wait for the stop). Seats
 * are not handed out while exiting (see method_check_out()).
 *
 * SIGUSR1 asks for the same exit at the first idle moment instead of after
 * idle_timeout: the package's postinst sends it on upgrade, so the next call
 * starts the new binary and no call in flight or seat held is cut off (a
 * restart would do both). Idle is checked again every second until then. */

#define EXIT_WHEN_IDLE_RETRY_USEC USEC_PER_SEC

static void exit_if_done(Context *c) {
        if (c->exiting && c->name_released && pending_calls_count(&c->calls) == 0) {
                log_debug("Bus name released and no call pending; exiting.");
                (void) sd_event_exit(c->event, 0);
        }
}

/* The last polkit check or server request has been answered: when licensed
 * is exiting on idle, that lets it go. */
static void calls_drained(void *userdata) {
        exit_if_done(userdata);
}

static int on_name_released(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Context *c = userdata;

        c->name_released = true;
        if (pending_calls_count(&c->calls) > 0)
                log_debug("Bus name released; exiting once %u call(s) in flight are answered.",
                          pending_calls_count(&c->calls));
        exit_if_done(c);
        return 0;
}

static int on_idle(sd_event_source *s, uint64_t usec, void *userdata) {
        Context *c = userdata;
        int r;

        if (pending_calls_count(&c->calls) > 0 || seats_total(c) > 0 || leases_total(c) > 0) {
                context_idle_touch(c); /* a password being typed, a server answering, a seat held */
                return 0;
        }
        if (c->exit_when_idle)
                log_info("Idle, exiting as asked (SIGUSR1); the next call starts licensed again.");
        else
                log_info("Idle for %llds, exiting; the next call starts licensed again.",
                         (long long) c->config.idle_timeout);
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Idle, exiting.");
        c->exiting = true;
        r = sd_bus_release_name_async(c->bus, NULL, LICENSED_BUS_NAME, on_name_released, c);
        if (r < 0) {
                log_warning_errno(r, "Failed to release the bus name, exiting anyway: %m");
                return sd_event_exit(c->event, 0);
        }
        return 0;
}

void context_idle_touch(Context *c) {
        int r;

        if (c->exiting || (c->config.idle_timeout <= 0 && !c->exit_when_idle))
                return;
        /* Asked to exit: calls do not push the check back, or a client that
         * calls every half second would keep the old binary forever. */
        if (c->exit_when_idle && c->idle_source) {
                int enabled = SD_EVENT_OFF;
                if (sd_event_source_get_enabled(c->idle_source, &enabled) >= 0 && enabled != SD_EVENT_OFF)
                        return;
        }
        r = event_timer_arm(c->event, &c->idle_source,
                            c->exit_when_idle ? EXIT_WHEN_IDLE_RETRY_USEC
                                              : (uint64_t) c->config.idle_timeout * USEC_PER_SEC,
                            UINT64_C(100000), on_idle, c);
        if (r < 0)
                log_warning_errno(r, "Failed to arm the idle timer, staying up: %m");
}

static int on_bus_message(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        uint8_t type;

        if (sd_bus_message_get_type(m, &type) >= 0 && type == SD_BUS_MESSAGE_METHOD_CALL)
                context_idle_touch(userdata);
        return 0; /* let it through to the handlers */
}

void context_notify_status(Context *c) {
        _cleanup_free_ char *summary = NULL;

        if (context_summary(c, &summary) >= 0)
                (void) sd_notifyf(false, "STATUS=%s", summary);
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Context *c = userdata;

        (void) sd_notify(false, "STOPPING=1\nSTATUS=Shutting down.");
        return sd_event_exit(c->event, 0);
}

static int on_exit_when_idle_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Context *c = userdata;

        if (c->exit_when_idle || c->exiting)
                return 0;
        log_info("Asked to exit once idle (SIGUSR1, e.g. a package upgrade).");
        c->exit_when_idle = true;
        if (c->idle_source) { /* armed for idle_timeout: look now instead */
                uint64_t now;
                (void) sd_event_now(c->event, CLOCK_MONOTONIC, &now);
                (void) sd_event_source_set_time(c->idle_source, now);
                (void) sd_event_source_set_enabled(c->idle_source, SD_EVENT_ONESHOT);
        } else
                context_idle_touch(c);
        return 0;
}

int context_run(Context *c) {
        _cleanup_free_ char *summary = NULL;
        int r;

        r = sd_event_add_signal(c->event, NULL, SIGTERM, on_exit_signal, c);
        if (r >= 0)
                r = sd_event_add_signal(c->event, NULL, SIGINT, on_exit_signal, c);
        if (r >= 0)
                r = sd_event_add_signal(c->event, NULL, SIGUSR1, on_exit_when_idle_signal, c);
        if (r < 0)
                return log_error_errno(r, "Failed to handle signals: %m");

        if (context_summary(c, &summary) >= 0)
                (void) sd_notifyf(false, "READY=1\nSTATUS=%s", summary);
        log_info("licensed %s ready: %s", PACKAGE_VERSION, summary ?: "");
        context_idle_touch(c);

        r = sd_event_loop(c->event);
        (void) context_now(c);
        context_save_clock(c);
        context_image_flush(c);
        /* Last: it may wait on the site (2 s at most), and what is above
         * is this machine's own state. */
        leases_return_at_exit(c);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}
