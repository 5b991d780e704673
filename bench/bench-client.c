/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The benchmark's measuring client (bench/run.sh). Every mode prints
 * "key=value" lines; run.sh makes the table. Times are CLOCK_MONOTONIC;
 * every mode warms up before it measures.
 *
 *   bench-client fastpath PRODUCT FEATURE SECONDS
 *       liblicensed answering from the snapshot (LICENSED_SNAPSHOT), in one
 *       process: checks per second.
 *   bench-client dbus ADDRESS PRODUCT FEATURE ROUNDS SECONDS
 *       on one persistent sd-bus connection: CheckFeature and
 *       org.freedesktop.DBus.Peer.Ping to the same daemon, interleaved in
 *       chunks of 20 calls for ROUNDS rounds of SECONDS: the rate of each,
 *       and the spread of their ratio over the rounds.
 *   bench-client library PRODUCT FEATURE SECONDS
 *       liblicensed's own D-Bus path (a private connection per check).
 *   bench-client latency ADDRESS_A ADDRESS_B PRODUCT FEATURE CALLS
 *       CheckFeature latency to two daemons, in alternating blocks of 10
 *       calls so that both see the same machine: median and p99 of each.
 *   bench-client verify PRODUCTS_DIR LICENSE_FILE FEATURE SECONDS
 *       the naive check: license_verify_with_products() and evaluate() of a
 *       license already read into memory, per second.
 *   bench-client spawn ADDRESS LOG -- COMMAND...
 *       starts COMMAND (the daemon, output to LOG) and prints its pid and
 *       the time until it owns org.licensed.License1 on ADDRESS; then waits
 *       for it to exit and exits with its status. */

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "bus-contract.h"
#include "evaluate.h"
#include "fileio.h"
#include "license.h"
#include "licensed.h"
#include "macro.h"
#include "product.h"
#include "report-error.h"
#include "timeutil.h"


static uint64_t now_nsec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

static _Noreturn void die(const char *what, int r) {
        exit(report_error(1, "%s: %s", what, strerror(r < 0 ? -r : r)));
}

typedef int (*OneFunc)(void *userdata);

/* Calls one() in batches for at least seconds; returns calls per second. */
static double measure_rate(OneFunc one, void *userdata, double seconds, unsigned batch) {
        uint64_t start = now_nsec(), end = start + (uint64_t) (seconds * 1e9), now, n = 0;
        int r;

        do {
                for (unsigned i = 0; i < batch; i++) {
                        r = one(userdata);
                        if (r < 0)
                                die("a call failed while measuring", r);
                }
                n += batch;
                now = now_nsec();
        } while (now < end);
        return (double) n * 1e9 / (double) (now - start);
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

/* fastpath ---------------------------------------------------------------- */

typedef struct Check {
        const char *product, *feature;
        unsigned flags;
        unsigned source;
} Check;

static int one_library_check(void *userdata) {
        Check *c = userdata;
        licensed_verdict v;
        int r;

        r = licensed_check_feature_flags(c->product, c->feature, 0, &v, c->flags);
        if (r < 0)
                return r;
        if (!v.licensed || v.source != c->source)
                return -EBADE; /* not the answer this benchmark is about */
        return 0;
}

static int mode_fastpath(char **argv) {
        Check c = {argv[0], argv[1], LICENSED_CHECK_SNAPSHOT_ONLY, LICENSED_SOURCE_SNAPSHOT};
        double seconds = atof(argv[2]), rate;

        (void) measure_rate(one_library_check, &c, 0.2, 1000); /* warm up: map, fault in, caches */
        rate = measure_rate(one_library_check, &c, seconds, 1000);
        printf("rate=%.0f\nns_per_call=%.1f\n", rate, 1e9 / rate);
        return 0;
}

static int mode_library(char **argv) {
        Check c = {argv[0], argv[1], LICENSED_CHECK_NO_SNAPSHOT, LICENSED_SOURCE_DAEMON};
        double seconds = atof(argv[2]), rate;

        (void) measure_rate(one_library_check, &c, 0.2, 1);
        rate = measure_rate(one_library_check, &c, seconds, 1);
        printf("rate=%.0f\nus_per_call=%.1f\n", rate, 1e6 / rate);
        return 0;
}

/* dbus ---------------------------------------------------------------------- */

typedef struct Call {
        sd_bus *bus;
        const char *product, *feature;
} Call;

static int one_check_feature(void *userdata) {
        Call *c = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *reason;
        uint64_t expires, grace_end;
        int licensed, r;

        r = sd_bus_call_method(c->bus, LICENSED_BUS_NAME, LICENSED_MANAGER_PATH, LICENSED_MANAGER_INTERFACE,
                               "CheckFeature", &error, &reply,
                               "sst", c->product, c->feature, UINT64_C(0));
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "bstt", &licensed, &reason, &expires, &grace_end);
        if (r < 0)
                return r;
        return licensed ? 0 : -EBADE;
}

static int one_ping(void *userdata) {
        Call *c = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

        return sd_bus_call_method(c->bus, LICENSED_BUS_NAME, LICENSED_MANAGER_PATH, "org.freedesktop.DBus.Peer",
                                  "Ping", &error, &reply,
                                  NULL);
}

static void bus_connect(const char *address, sd_bus **ret) {
        int r = licensed_bus_open(address, "bench-client", ret);

        if (r < 0)
                die(address, r);
}

/* Times n calls of one(); adds the calls and the time to *calls, *nsec. */
static void timed_calls(OneFunc one, void *userdata, unsigned n, uint64_t *calls, uint64_t *nsec) {
        uint64_t start = now_nsec();

        for (unsigned i = 0; i < n; i++) {
                int r = one(userdata);
                if (r < 0)
                        die("a call failed while measuring", r);
        }
        *nsec += now_nsec() - start;
        *calls += n;
}

#define DBUS_CHUNK 20u

/* CheckFeature and Ping interleaved in chunks of DBUS_CHUNK calls, so that
 * whatever else the machine does hits both alike; each method's rate is its
 * calls over the time spent in them. Each round also gives a ratio, to show
 * the spread. */
static int mode_dbus(char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        unsigned rounds = (unsigned) atoi(argv[3]);
        double seconds = atof(argv[4]), ratio[64];
        uint64_t check_calls = 0, check_ns = 0, ping_calls = 0, ping_ns = 0;
        Call c;

        if (rounds == 0 || rounds > ELEMENTSOF(ratio))
                die("rounds", EINVAL);
        bus_connect(argv[0], &bus);
        c = (Call){bus, argv[1], argv[2]};
        (void) measure_rate(one_check_feature, &c, 0.3, 1);
        (void) measure_rate(one_ping, &c, 0.3, 1);
        for (unsigned i = 0; i < rounds; i++) {
                uint64_t cc = 0, cn = 0, pc = 0, pn = 0, end = now_nsec() + (uint64_t) (seconds * 1e9);

                while (now_nsec() < end) {
                        timed_calls(one_check_feature, &c, DBUS_CHUNK, &cc, &cn);
                        timed_calls(one_ping, &c, DBUS_CHUNK, &pc, &pn);
                }
                ratio[i] = ((double) cc / (double) cn) / ((double) pc / (double) pn);
                check_calls += cc;
                check_ns += cn;
                ping_calls += pc;
                ping_ns += pn;
        }
        qsort(ratio, rounds, sizeof(double), cmp_double);
        printf("check_rate=%.0f\nping_rate=%.0f\n", (double) check_calls * 1e9 / (double) check_ns,
               (double) ping_calls * 1e9 / (double) ping_ns);
        printf("ratio_min=%.2f\nratio_median=%.2f\nratio_max=%.2f\n", ratio[0], ratio[rounds / 2],
               ratio[rounds - 1]);
        return 0;
}

/* latency ------------------------------------------------------------------- */

#define LATENCY_BLOCK 10u

static void print_percentiles(const char *prefix, uint64_t *ns, size_t n) {
        qsort(ns, n, sizeof(uint64_t), cmp_u64);
        printf("%s_median_us=%.1f\n%s_p99_us=%.1f\n%s_calls=%zu\n", prefix, (double) ns[n / 2] / 1e3, prefix,
               (double) ns[(n * 99) / 100] / 1e3, prefix, n);
}

static int mode_latency(char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *a = NULL, *b = NULL;
        _cleanup_free_ uint64_t *lat_a = NULL, *lat_b = NULL;
        unsigned long calls = strtoul(argv[4], NULL, 10);
        size_t n_a = 0, n_b = 0;
        Call ca, cb;

        if (calls < LATENCY_BLOCK)
                die("calls", EINVAL);
        bus_connect(argv[0], &a);
        bus_connect(argv[1], &b);
        ca = (Call){a, argv[2], argv[3]};
        cb = (Call){b, argv[2], argv[3]};
        lat_a = calloc(calls, sizeof(uint64_t));
        lat_b = calloc(calls, sizeof(uint64_t));
        if (!lat_a || !lat_b)
                die("memory", ENOMEM);
        (void) measure_rate(one_check_feature, &ca, 0.3, 1);
        (void) measure_rate(one_check_feature, &cb, 0.3, 1);
        while (n_a < calls || n_b < calls) {
                for (unsigned i = 0; i < LATENCY_BLOCK && n_a < calls; i++) {
                        uint64_t t = now_nsec();
                        int r = one_check_feature(&ca);
                        if (r < 0)
                                die("CheckFeature (a)", r);
                        lat_a[n_a++] = now_nsec() - t;
                }
                for (unsigned i = 0; i < LATENCY_BLOCK && n_b < calls; i++) {
                        uint64_t t = now_nsec();
                        int r = one_check_feature(&cb);
                        if (r < 0)
                                die("CheckFeature (b)", r);
                        lat_b[n_b++] = now_nsec() - t;
                }
        }
        print_percentiles("a", lat_a, n_a);
        print_percentiles("b", lat_b, n_b);
        return 0;
}

/* verify -------------------------------------------------------------------- */

typedef struct Verify {
        const ProductSet *products;
        const char *text;
        size_t len;
        const char *feature;
} Verify;

static int one_verify(void *userdata) {
        Verify *v = userdata;
        _cleanup_(license_done) License l = LICENSE_INIT;
        const Product *p;
        CoreError err = {};
        LocalState st;
        Verdict verdict;
        int r;

        license_init(&l);
        r = license_verify_with_products(v->text, v->len, v->products, &l, &p, &err);
        if (r < 0)
                return r;
        /* The license's own binding as this machine's: what a naive client
         * could at best do without the daemon's state. */
        st = (LocalState){
                .machine_id = l.machine_id,
                .device_key = l.device_key,
                .installed = l.issued,
                .last_validation = TIME_UNSET,
                .time_high_water = TIME_UNSET,
                .validation_interval = 0,
                .grace_period = p->grace_period,
        };
        evaluate(&l, &st, v->feature, now_realtime(), TIME_UNSET, &verdict);
        return verdict.licensed ? 0 : -EBADE;
}

static int mode_verify(char **argv) {
        _cleanup_(product_set_done) ProductSet products = {};
        _cleanup_free_ char *text = NULL;
        const char *dirs[] = {argv[0]};
        double seconds = atof(argv[3]), rate;
        size_t len;
        Verify v;
        int r;

        r = product_set_load(&products, dirs, 1, NULL, NULL);
        if (r < 0)
                die(argv[0], r);
        r = read_file(argv[1], 1024 * 1024, &text, &len);
        if (r < 0)
                die(argv[1], r);
        v = (Verify){&products, text, len, argv[2]};
        (void) measure_rate(one_verify, &v, 0.2, 1);
        rate = measure_rate(one_verify, &v, seconds, 1);
        printf("rate=%.0f\nus_per_call=%.1f\n", rate, 1e6 / rate);
        return 0;
}

/* spawn --------------------------------------------------------------------- */

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        bool *owned = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) >= 0 && streq(name, LICENSED_BUS_NAME) &&
            *new_owner)
                *owned = true;
        return 0;
}

static int mode_spawn(char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        bool owned = false;
        uint64_t start;
        int status, r;
        pid_t pid;

        bus_connect(argv[0], &bus);
        r = sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                "NameOwnerChanged", on_owner_changed, &owned);
        if (r < 0)
                die("match", r);
        start = now_nsec();
        pid = fork();
        if (pid < 0)
                die("fork", -errno);
        if (pid == 0) {
                int fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
                        _exit(127);
                execv(argv[3], argv + 3);
                _exit(127);
        }
        while (!owned) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        die("bus", r);
                if (r > 0)
                        continue;
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        fprintf(stderr, "bench-client: %s exited before it owned %s\n", argv[3], LICENSED_BUS_NAME);
                        return 1;
                }
                (void) sd_bus_wait(bus, 100 * 1000);
        }
        printf("pid=%d\nstart_ms=%.1f\n", (int) pid, (double) (now_nsec() - start) / 1e6);
        fflush(stdout);
        sd_bus_flush_close_unref(TAKE_PTR(bus));
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        die("waitpid", -errno);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char *argv[]) {
        static const struct {
                const char *name;
                int n_args;
                int (*run)(char **argv);
        } modes[] = {
                {"fastpath", 3, mode_fastpath}, {"library", 3, mode_library}, {"dbus", 5, mode_dbus},
                {"latency", 5, mode_latency},   {"verify", 4, mode_verify},
        };

        if (argc >= 6 && streq(argv[1], "spawn") && streq(argv[4], "--"))
                return mode_spawn(argv + 2);
        for (size_t i = 0; argc >= 2 && i < ELEMENTSOF(modes); i++)
                if (streq(argv[1], modes[i].name)) {
                        if (argc - 2 != modes[i].n_args)
                                break;
                        return modes[i].run(argv + 2);
                }
        fprintf(stderr, "usage: bench-client fastpath|library|dbus|latency|verify|spawn ... (see the source)\n");
        return 2;
}
