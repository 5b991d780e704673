/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The integration tier's liblicensed client (test_plugins.py).
 *
 *   check-feature [--no-snapshot|--snapshot-only] [--release-date=USEC]
 *                 [--repeat=N] [--threads=N] [--fork] [--again] [--time] PRODUCT FEATURE
 *   check-feature --checkout [--fork] PRODUCT FEATURE
 *
 * Prints one line "licensed=B reason=R expires=T grace_end=T source=S" (or
 * "error=-N message") and exits 0 licensed, 1 not licensed, 3 cannot ask,
 * 2 usage, 4 answers disagreed between repeats, threads or the child.
 * --again asks once more after a line on stdin, in the same process (the
 * snapshot stays mapped in between), and exits with that answer's code.
 * --time prints the mean time per check in nanoseconds: a measurement for
 * people, not a test.
 *
 * --checkout takes a seat (licensed_seat_checkout()), prints the verdict
 * line with "seat=1" (an object) or "seat=0" (none), waits for a line or EOF
 * on stdin, gives the seat back, prints "returned" and exits 0 (granted),
 * 1 (not granted) or 3 (cannot ask). With --fork, a child forked while the
 * seat is held calls licensed_seat_return() on its copy, prints
 * "child=PID returned", and then lives on (up to a minute) without the
 * connection: the seat must stay the parent's.
 *
 * --default-bus opens the program's default system bus connection
 * (sd_bus_default_system()) first, asks over D-Bus (no snapshot), then
 * checks that the default connection is still open, still the same
 * connection (unique name) and still works (a Ping to the bus), and that
 * the library took no reference to it; prints "default-bus=untouched" or
 * "default-bus=CHANGED: why" (exit 4). */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "licensed.h"

typedef struct Job {
        const char *product, *feature;
        uint64_t release_date;
        unsigned flags;
        unsigned long repeat;
        int r;
        licensed_verdict v;
        bool disagreed;
} Job;

static bool same(int r1, const licensed_verdict *a, int r2, const licensed_verdict *b) {
        if (r1 != r2)
                return false;
        if (r1 < 0)
                return true;
        return a->licensed == b->licensed && strcmp(a->reason, b->reason) == 0 &&
               a->expires_usec == b->expires_usec && a->grace_end_usec == b->grace_end_usec &&
               a->source == b->source;
}

static void *run_job(void *userdata) {
        Job *j = userdata;

        for (unsigned long i = 0; i < j->repeat; i++) {
                licensed_verdict v;
                int r = licensed_check_feature_flags(j->product, j->feature, j->release_date, &v, j->flags);
                if (i == 0) {
                        j->r = r;
                        j->v = v;
                } else if (!same(r, &v, j->r, &j->v))
                        j->disagreed = true;
        }
        return NULL;
}

static int print_result(const Job *j) {
        if (j->r < 0) {
                printf("error=%d %s\n", j->r, strerror(-j->r));
                return 3;
        }
        printf("licensed=%d reason=%s expires=%" PRIu64 " grace_end=%" PRIu64 " source=%s\n", j->v.licensed,
               j->v.reason, j->v.expires_usec, j->v.grace_end_usec,
               j->v.source == LICENSED_SOURCE_SNAPSHOT ? "snapshot" : "daemon");
        printf("description=%s\n", licensed_reason_description(j->v.reason));
        return j->v.licensed ? 0 : 1;
}

static int checkout(const char *product, const char *feature, bool do_fork) {
        licensed_seat *seat = NULL;
        licensed_verdict v;
        char line[16];
        int r;

        r = licensed_seat_checkout(product, feature, &seat, &v);
        if (r < 0) {
                printf("error=%d %s\n", r, strerror(-r));
                return 3;
        }
        printf("licensed=%d reason=%s expires=%" PRIu64 " grace_end=%" PRIu64 " source=%s seat=%d\n", v.licensed,
               v.reason, v.expires_usec, v.grace_end_usec,
               v.source == LICENSED_SOURCE_SNAPSHOT ? "snapshot" : "daemon", seat != NULL);
        fflush(stdout);
        if (do_fork && seat) {
                pid_t pid = fork();
                if (pid < 0)
                        return 3;
                if (pid == 0) {
                        /* Not the parent's seat to give back: only this
                         * process's copy of the connection goes. */
                        licensed_seat_return(seat);
                        printf("child=%d returned\n", (int) getpid());
                        fflush(stdout);
                        fclose(stdin);
                        sleep(60);
                        _exit(0);
                }
        }
        if (!fgets(line, sizeof(line), stdin))
                line[0] = 0; /* end of input: return the seat all the same */
        licensed_seat_return(seat);
        printf("returned\n");
        return v.licensed ? 0 : 1;
}

static int default_bus_untouched(Job *job) {
        sd_bus *bus = NULL, *again = NULL;
        const char *before, *after, *changed = NULL;
        char saved[256];
        int r;

        r = sd_bus_default_system(&bus);
        if (r >= 0)
                r = sd_bus_get_unique_name(bus, &before);
        if (r < 0) {
                printf("error=%d cannot open the default bus: %s\n", r, strerror(-r));
                return 3;
        }
        snprintf(saved, sizeof(saved), "%s", before);
        job->flags |= LICENSED_CHECK_NO_SNAPSHOT;
        run_job(job);
        r = print_result(job);
        if (r == 3)
                return 3;

        if (!sd_bus_is_open(bus))
                changed = "closed";
        else if (sd_bus_get_unique_name(bus, &after) < 0 || strcmp(saved, after) != 0)
                changed = "another connection";
        else if (sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.Peer",
                                    "Ping", NULL, NULL, NULL) < 0)
                changed = "does not work";
        else if (sd_bus_default_system(&again) < 0 || again != bus)
                changed = "not the default any more";
        sd_bus_unref(again);
        if (changed) {
                printf("default-bus=CHANGED: %s\n", changed);
                return 4;
        }
        printf("default-bus=untouched\n");
        sd_bus_flush_close_unref(bus);
        return r;
}

static uint64_t now_nsec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                {"no-snapshot", no_argument, NULL, 'n'},
                {"snapshot-only", no_argument, NULL, 's'},
                {"release-date", required_argument, NULL, 'r'},
                {"repeat", required_argument, NULL, 'R'},
                {"threads", required_argument, NULL, 't'},
                {"fork", no_argument, NULL, 'f'},
                {"time", no_argument, NULL, 'T'},
                {"again", no_argument, NULL, 'a'},
                {"checkout", no_argument, NULL, 'c'},
                {"default-bus", no_argument, NULL, 'D'},
                {},
        };
        Job job = {.repeat = 1};
        unsigned long n_threads = 0;
        bool do_fork = false, do_time = false, do_again = false, do_checkout = false, do_default_bus = false;
        pthread_t threads[64];
        Job jobs[64];
        uint64_t start;
        int c, ret;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'n':
                        job.flags |= LICENSED_CHECK_NO_SNAPSHOT;
                        break;
                case 's':
                        job.flags |= LICENSED_CHECK_SNAPSHOT_ONLY;
                        break;
                case 'r':
                        job.release_date = strtoull(optarg, NULL, 10);
                        break;
                case 'R':
                        job.repeat = strtoul(optarg, NULL, 10);
                        break;
                case 't':
                        n_threads = strtoul(optarg, NULL, 10);
                        break;
                case 'f':
                        do_fork = true;
                        break;
                case 'T':
                        do_time = true;
                        break;
                case 'a':
                        do_again = true;
                        break;
                case 'c':
                        do_checkout = true;
                        break;
                case 'D':
                        do_default_bus = true;
                        break;
                default:
                        return 2;
                }
        if (argc - optind != 2 || job.repeat == 0 || n_threads > 64) {
                fprintf(stderr, "usage: check-feature [OPTIONS] PRODUCT FEATURE (liblicensed %s)\n",
                        licensed_version());
                return 2;
        }
        job.product = argv[optind];
        job.feature = argv[optind + 1];
        if (do_checkout)
                return checkout(job.product, job.feature, do_fork);
        if (do_default_bus)
                return default_bus_untouched(&job);

        start = now_nsec();
        run_job(&job);
        if (do_time)
                printf("time_per_check_ns=%" PRIu64 "\n", (now_nsec() - start) / job.repeat);
        ret = print_result(&job);
        if (job.disagreed)
                ret = 4;
        if (do_again) {
                char line[16];
                fflush(stdout);
                if (!fgets(line, sizeof(line), stdin))
                        return 2;
                run_job(&job);
                ret = print_result(&job);
        }

        /* The same question from other threads at once, and from a child. */
        for (unsigned long i = 0; i < n_threads; i++) {
                jobs[i] = job;
                if (pthread_create(&threads[i], NULL, run_job, &jobs[i]) != 0)
                        return 3;
        }
        for (unsigned long i = 0; i < n_threads; i++) {
                pthread_join(threads[i], NULL);
                if (jobs[i].disagreed || !same(jobs[i].r, &jobs[i].v, job.r, &job.v))
                        ret = 4;
        }
        if (do_fork) {
                int status;
                pid_t pid = fork();
                if (pid < 0)
                        return 3;
                if (pid == 0) {
                        Job child = job;
                        run_job(&child);
                        _exit(child.disagreed || !same(child.r, &child.v, job.r, &job.v) ? 4 : 0);
                }
                if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        ret = 4;
        }
        if (ret == 4)
                printf("answers disagreed\n");
        return ret;
}
