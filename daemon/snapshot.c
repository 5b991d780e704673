/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writes the fast-path snapshot: one entry per (product, feature) that an
 * installed license names, with the verdict CheckFeature would give now and
 * the instant until which it holds. */

#include <assert.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "snapshot.h"
#include "site-client.h"

static int entry_compare_product(const void *a, const void *b) {
        const Entry *x = *(Entry *const *) a, *y = *(Entry *const *) b;

        return strcmp(x->license.product, y->license.product);
}

static int record_compare_feature(const void *a, const void *b) {
        return strcmp(((const SnapshotRecord *) a)->feature, ((const SnapshotRecord *) b)->feature);
}

/* Whether evaluate() got as far as the maintenance rule with this verdict,
 * so that a release date could change it. */
static bool reaches_maintenance(Reason r) {
        return r == REASON_LICENSED || r == REASON_GRACE || r == REASON_VALIDATION_REQUIRED;
}

/* Fills in the records of one product, whose licenses are group[0..n). */
static void fill_product(Context *c, Entry **group, size_t n, SnapshotRecord *records, size_t n_records,
                         int64_t now) {
        for (size_t i = 0; i < n_records; i++) {
                SnapshotRecord *rec = &records[i];
                int64_t valid_until = TIME_UNSET, release_limit = TIME_UNSET;

                /* The best verdict is the daemon's own answer; it holds until
                 * any of the product's licenses may change its mind. */
                for (size_t k = 0; k < n; k++) {
                        const License *l = &group[k]->license;
                        LocalState st;
                        Verdict v;

                        entry_local_state(c, group[k], &st);
                        evaluate(l, &st, rec->feature, now, TIME_UNSET, &v);
                        if (v.valid_until != TIME_UNSET &&
                            (valid_until == TIME_UNSET || v.valid_until < valid_until))
                                valid_until = v.valid_until;
                        if (reaches_maintenance(v.reason) && l->maintenance_until != TIME_UNSET &&
                            (release_limit == TIME_UNSET || l->maintenance_until < release_limit))
                                release_limit = l->maintenance_until;
                }
                context_check_feature(c, rec->product, rec->feature, TIME_UNSET, false, &rec->verdict);
                rec->verdict.valid_until = valid_until;
                rec->release_limit = release_limit;
        }
}

/* One record per distinct (product, feature), verdicts filled in. */
static int collect_records(Context *c, int64_t now, SnapshotRecord **ret, size_t *ret_n) {
        _cleanup_free_ Entry **sorted = NULL;
        _cleanup_free_ SnapshotRecord *records = NULL;
        size_t n_features = 0, n = 0;

        for (size_t i = 0; i < c->n_entries; i++)
                n_features += c->entries[i]->license.n_features;
        sorted = calloc(c->n_entries ?: 1, sizeof(Entry *));
        records = calloc(n_features ?: 1, sizeof(SnapshotRecord));
        if (!sorted || !records)
                return -ENOMEM;
        if (c->n_entries == 0)
                goto done;
        memcpy(sorted, c->entries, c->n_entries * sizeof(Entry *));
        qsort(sorted, c->n_entries, sizeof(Entry *), entry_compare_product);

        for (size_t g = 0, end; g < c->n_entries; g = end) {
                const char *product = sorted[g]->license.product;
                size_t first = n;

                for (end = g; end < c->n_entries && streq(sorted[end]->license.product, product); end++)
                        for (size_t k = 0; k < sorted[end]->license.n_features; k++) {
                                /* Floated by the joined site: a lease may
                                 * license it where the local licenses do
                                 * not, and only the daemon knows
                                 * (leases.c). Left out, it is asked for. */
                                if (site_client_find_license(c, product, sorted[end]->license.features[k].name))
                                        continue;
                                records[n++] = (SnapshotRecord){
                                        .product = product,
                                        .feature = sorted[end]->license.features[k].name,
                                };
                        }
                /* Several licenses of a product may name the same feature. */
                qsort(records + first, n - first, sizeof(SnapshotRecord), record_compare_feature);
                size_t unique = first;
                for (size_t i = first; i < n; i++)
                        if (unique == first || !streq(records[unique - 1].feature, records[i].feature))
                                records[unique++] = records[i];
                n = unique;
                fill_product(c, sorted + g, end - g, records + first, n - first, now);
        }
done:
        *ret = TAKE_PTR(records);
        *ret_n = n;
        return 0;
}

/* Opens the file about to be replaced, to mark it superseded afterwards,
 * and returns the generation the new one gets. */
static uint64_t open_previous(const char *path, int *ret_fd) {
        _cleanup_close_ int fd = -1;
        SnapshotHeader h;
        struct stat st;

        *ret_fd = -1;
        fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t) st.st_size < sizeof(h))
                return 1;
        if (pread(fd, &h, sizeof(h), 0) != (ssize_t) sizeof(h) ||
            memcmp(h.magic, SNAPSHOT_MAGIC, sizeof(h.magic)) != 0)
                return 1;
        *ret_fd = TAKE_FD(fd);
        return h.version == SNAPSHOT_VERSION ? h.generation + 1 : 1;
}

int snapshot_write(Context *c) {
        _cleanup_free_ SnapshotRecord *records = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ void *data = NULL;
        _cleanup_close_ int old_fd = -1;
        const char *dir = c->options.runtime_dir;
        int64_t now = context_now(c);
        size_t n = 0, size;
        uint32_t one = 1;
        int r;

        assert(dir);

        if (mkdir(dir, 0755) >= 0) {
                /* mkdir() honours the umask (0077 under the unit); clients must see in. */
                if (chmod(dir, 0755) < 0)
                        return log_warning_errno(-errno, "Failed to make %s readable: %m", dir);
        } else if (errno != EEXIST)
                return log_warning_errno(-errno, "Failed to create %s: %m", dir);
        if (asprintf(&path, "%s/" SNAPSHOT_FILE_NAME, dir) < 0)
                return log_oom();

        r = collect_records(c, now, &records, &n);
        if (r < 0)
                return log_warning_errno(r, "Failed to evaluate the features for the snapshot: %m");
        SnapshotInfo info = {
                .generation = open_previous(path, &old_fd),
                .written_at = now,
                .time_high_water = c->time_high_water,
                .clock_tolerance = c->config.clock_tolerance,
        };
        r = snapshot_build(records, n, &info, &data, &size);
        if (r < 0)
                return log_warning_errno(r, "Failed to build the snapshot: %m");
        r = write_file_atomic(path, data, size, 0644);
        if (r < 0)
                return log_warning_errno(r, "Failed to write %s: %m", path);
        /* Readers that mapped the old file drop it at their next lookup. */
        if (old_fd >= 0 &&
            pwrite(old_fd, &one, sizeof(one), offsetof(SnapshotHeader, superseded)) != sizeof(one))
                log_warning_errno(-errno, "Failed to mark the previous snapshot as superseded: %m");
        log_debug("Wrote %s: generation %llu, %zu feature(s).", path, (unsigned long long) info.generation,
                  n);
        return 0;
}
