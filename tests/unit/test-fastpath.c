/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* liblicensed's fast path (plugin/fastpath.c) against snapshot files built
 * here with core/snapshot.c: answers from the file, the cases where it must
 * send the caller to the daemon, the cache following a file that is
 * replaced (marked superseded, or not) and a location that changes (asked
 * once per second of the caller's clock), and threads reading while the
 * file is replaced under them. */
#include <pthread.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-util.h"
#include "fastpath.h"
#include "snapshot.h"

#define PRODUCT "com.example.app"
#define NOW (T0 + 60)

static char dir[] = "/tmp/test-fastpath-XXXXXX";

/* What locate() answers: liblicensed reads it from the environment. */
static const char *located;

static const char *locate(void) {
        return located;
}

/* fastpath_check() with the snapshot at path. */
static int check_at(const char *path, const char *product, const char *feature, int64_t now, Verdict *v) {
        located = path;
        return fastpath_check(locate, product, feature, TIME_UNSET, now, v);
}

/* Writes a snapshot whose one feature "reports" has the given reason, as a
 * new file renamed over path (as the daemon does), with mode. */
static void write_snapshot(const char *path, Reason reason, uint64_t generation, mode_t mode) {
        SnapshotRecord records[] = {{
                .product = PRODUCT,
                .feature = "reports",
                .verdict = {.reason = reason, .licensed = reason == REASON_LICENSED},
        }};
        SnapshotInfo info = {.generation = generation, .written_at = T0, .time_high_water = T0,
                             .clock_tolerance = SEC_PER_HOUR};
        _cleanup_free_ void *data = NULL;
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        size_t size;

        assert_int_equal(snapshot_build(records, ELEMENTSOF(records), &info, &data, &size), 0);
        assert_true(asprintf(&tmp, "%s.tmp", path) > 0);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, size), (ssize_t) size);
        assert_int_equal(fchmod(fd, mode), 0);
        assert_int_equal(rename(tmp, path), 0);
}

/* What the daemon does to the file it replaced. */
static void mark_superseded(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
        uint32_t one = 1;

        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, &one, sizeof(one), offsetof(SnapshotHeader, superseded)), sizeof(one));
}

static char *path_in_dir(const char *name) {
        char *p = NULL;
        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        return p;
}

static int setup(void **state) {
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
        static const char *const names[] = {"snapshot", "other", "writable", "damaged", "missing"};

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *p = path_in_dir(names[i]);
                (void) unlink(p);
        }
        return rmdir(dir);
}

static void test_answers(void **state) {
        _cleanup_free_ char *path = path_in_dir("snapshot");
        Verdict v;

        write_snapshot(path, REASON_LICENSED, 1, 0644);
        assert_int_equal(check_at(path, PRODUCT, "reports", NOW, &v), 0);
        assert_int_equal(v.reason, REASON_LICENSED);
        assert_true(v.licensed);
        /* Again, from the cached mapping. */
        assert_int_equal(check_at(path, PRODUCT, "reports", NOW, &v), 0);
        assert_int_equal(v.reason, REASON_LICENSED);

        /* What the file cannot answer goes to the daemon. */
        assert_int_equal(check_at(path, PRODUCT, "export", NOW, &v), -ENOENT);
        assert_int_equal(check_at(path, "com.example.other", "reports", NOW, &v), -ENOENT);
        assert_int_equal(check_at(path, PRODUCT, "reports", T0 - 2 * SEC_PER_HOUR, &v), -EDOM);
        assert_int_equal(check_at(path, PRODUCT, "reports", T0 + SNAPSHOT_MAX_AGE + 1, &v),
                         -ESTALE);
}

static void test_refused_files(void **state) {
        _cleanup_free_ char *missing = path_in_dir("missing"), *writable = path_in_dir("writable"),
                            *damaged = path_in_dir("damaged");
        _cleanup_close_ int fd = -1;
        Verdict v;

        assert_int_equal(check_at(missing, PRODUCT, "reports", NOW, &v), -ENOENT);

        /* Others could change it under the mapping: not believed. */
        write_snapshot(writable, REASON_LICENSED, 1, 0664);
        assert_int_equal(check_at(writable, PRODUCT, "reports", NOW, &v), -EPERM);

        /* A file of the right size with the wrong bytes. */
        fd = open(damaged, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        for (size_t i = 0; i < sizeof(SnapshotHeader); i++)
                assert_int_equal(write(fd, "x", 1), 1);
        assert_int_equal(check_at(damaged, PRODUCT, "reports", NOW, &v), -EBADMSG);
}

static void test_replaced(void **state) {
        _cleanup_free_ char *path = path_in_dir("snapshot"), *other = path_in_dir("other");
        Verdict v;

        write_snapshot(path, REASON_LICENSED, 1, 0644);
        assert_int_equal(check_at(path, PRODUCT, "reports", NOW, &v), 0);
        assert_int_equal(v.reason, REASON_LICENSED);

        /* The daemon's way: a new file, then the old one marked. The very
         * next lookup sees the new verdict. */
        _cleanup_close_ int old = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(old >= 0);
        write_snapshot(path, REASON_REVOKED, 2, 0644);
        {
                char self[64];
                snprintf(self, sizeof(self), "/proc/self/fd/%d", old);
                mark_superseded(self);
        }
        assert_int_equal(check_at(path, PRODUCT, "reports", NOW, &v), 0);
        assert_int_equal(v.reason, REASON_REVOKED);

        /* A daemon that died before marking: within the same second the
         * mapping is kept; the stat() in the next second finds the new file. */
        write_snapshot(path, REASON_EXPIRED, 3, 0644);
        assert_int_equal(check_at(path, PRODUCT, "reports", NOW, &v), 0);
        assert_int_equal(v.reason, REASON_REVOKED);
        assert_int_equal(check_at(path, PRODUCT, "reports", NOW + 1, &v), 0);
        assert_int_equal(v.reason, REASON_EXPIRED);

        /* Another location is another file, from the next second on. */
        write_snapshot(other, REASON_LICENSED, 1, 0644);
        assert_int_equal(check_at(other, PRODUCT, "reports", NOW + 1, &v), 0);
        assert_int_equal(v.reason, REASON_EXPIRED);
        assert_int_equal(check_at(other, PRODUCT, "reports", NOW + 2, &v), 0);
        assert_int_equal(v.reason, REASON_LICENSED);
        assert_int_equal(check_at(path, PRODUCT, "reports", NOW + 3, &v), 0);
        assert_int_equal(v.reason, REASON_EXPIRED);

        /* No snapshot at all (LICENSED_SNAPSHOT=""). */
        assert_int_equal(check_at(NULL, PRODUCT, "reports", NOW + 4, &v), -ENOENT);
}

typedef struct Reader {
        int64_t now;
        unsigned answers, refusals;
        bool wrong;
} Reader;

static bool readers_stop;

static void *reader_run(void *userdata) {
        Reader *r = userdata;
        Verdict v;

        /* until the writer is done (bounded all the same) */
        for (int i = 0; i < 100000000 && !__atomic_load_n(&readers_stop, __ATOMIC_RELAXED); i++) {
                /* each thread's clock ticks on its own, to take the slow path too */
                int k = fastpath_check(locate, PRODUCT, "reports", TIME_UNSET, r->now + i / 5000, &v);
                if (k == 0) {
                        r->answers++;
                        if (v.reason != REASON_LICENSED && v.reason != REASON_REVOKED)
                                r->wrong = true;
                } else
                        r->refusals++;
        }
        return NULL;
}

/* Four threads check while the file is replaced and marked a hundred
 * times: every answer is one of the verdicts written, and no mapping is
 * unmapped under a reader (the asan-unit tier would see it). */
static void test_threads_while_replaced(void **state) {
        _cleanup_free_ char *path = path_in_dir("snapshot");
        Reader readers[4];
        pthread_t threads[4];

        write_snapshot(path, REASON_LICENSED, 1, 0644);
        located = path;
        for (size_t i = 0; i < ELEMENTSOF(threads); i++) {
                readers[i] = (Reader){.now = NOW + 10};
                assert_int_equal(pthread_create(&threads[i], NULL, reader_run, &readers[i]), 0);
        }
        for (int g = 2; g < 102; g++) {
                _cleanup_close_ int old = open(path, O_RDONLY | O_CLOEXEC);
                char self[64];

                assert_true(old >= 0);
                write_snapshot(path, g % 2 ? REASON_LICENSED : REASON_REVOKED, (uint64_t) g, 0644);
                snprintf(self, sizeof(self), "/proc/self/fd/%d", old);
                mark_superseded(self);
                usleep(500);
        }
        __atomic_store_n(&readers_stop, true, __ATOMIC_RELAXED);
        for (size_t i = 0; i < ELEMENTSOF(threads); i++) {
                assert_int_equal(pthread_join(threads[i], NULL), 0);
                assert_false(readers[i].wrong);
                assert_true(readers[i].answers > 0);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_answers),
                cmocka_unit_test(test_refused_files),
                cmocka_unit_test(test_replaced),
                cmocka_unit_test(test_threads_while_replaced),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
