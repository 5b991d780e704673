/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The snapshot cache. One mapping per process, checked once (checksum,
 * offsets, order) and then used without a system call until the daemon
 * marks it superseded or, at most once a second, a stat() of the path shows
 * another file there. Per lookup only the clock rules of snapshot_lookup()
 * run.
 *
 * Locking never blocks: readers try the read lock, a refresh tries the
 * write lock, and whoever does not get the lock maps the file privately for
 * that one call. So a fork() while another thread holds the lock cannot
 * deadlock the child (it only loses the cache), and nothing needs
 * pthread_atfork(). The mapping itself is inherited by a child and stays
 * valid there: nothing in the cache belongs to one process. */

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "fastpath.h"
#include "macro.h"
#include "snapshot.h"

/* How often a cached mapping is compared with the file at its path, as a
 * safety net for a replacement that was not marked superseded (the daemon
 * died between the rename and the mark). */
#define RECHECK_USEC UINT64_C(1000000)

typedef struct Mapping {
        void *data;
        size_t size;
        Snapshot snapshot;
        dev_t dev;
        ino_t ino;
} Mapping;

typedef struct Cache {
        Mapping mapping;
        char path[PATH_MAX];
        uint64_t checked; /* CLOCK_MONOTONIC µs of the last stat(); written under the read lock */
} Cache;

static pthread_rwlock_t cache_lock = PTHREAD_RWLOCK_INITIALIZER;
static Cache cache;

static uint64_t now_monotonic_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000) + (uint64_t) ts.tv_nsec / 1000;
}

static void mapping_done(Mapping *m) {
        if (m->data)
                munmap(m->data, m->size);
        *m = (Mapping){};
}

static int mapping_open(const char *path, Mapping *ret) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        Mapping m = {};
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_size < (off_t) sizeof(SnapshotHeader) ||
            st.st_size > SNAPSHOT_MAX_SIZE)
                return -EBADMSG;
        /* Only the daemon may write it: a file others could change under the
         * mapping is not believed. */
        if (st.st_mode & (S_IWGRP | S_IWOTH))
                return -EPERM;
        m.size = (size_t) st.st_size;
        m.data = mmap(NULL, m.size, PROT_READ, MAP_SHARED, fd, 0);
        if (m.data == MAP_FAILED)
                return -errno;
        m.dev = st.st_dev;
        m.ino = st.st_ino;
        r = snapshot_open(m.data, m.size, &m.snapshot);
        if (r < 0) {
                mapping_done(&m);
                return r;
        }
        *ret = m;
        return 0;
}

/* Whether the cached mapping is the current file at path. Called under
 * either lock; the stat() time is a hint, so racing writers are fine. */
static bool cache_current(Cache *c, const char *path, uint64_t mono) {
        uint64_t checked = __atomic_load_n(&c->checked, __ATOMIC_RELAXED);
        struct stat st;

        if (!c->mapping.data || !streq(c->path, path) || snapshot_superseded(&c->mapping.snapshot))
                return false;
        if (mono - checked < RECHECK_USEC)
                return true;
        if (stat(path, &st) < 0 || st.st_dev != c->mapping.dev || st.st_ino != c->mapping.ino)
                return false;
        __atomic_store_n(&c->checked, mono, __ATOMIC_RELAXED);
        return true;
}

/* Under the write lock. */
static int cache_refresh(Cache *c, const char *path, uint64_t mono) {
        Mapping m;
        int r;

        if (cache_current(c, path, mono))
                return 0; /* another thread was quicker */
        mapping_done(&c->mapping);
        r = mapping_open(path, &m);
        if (r < 0)
                return r;
        c->mapping = m;
        snprintf(c->path, sizeof(c->path), "%s", path);
        c->checked = mono;
        return 0;
}

int fastpath_check(const char *path, const char *product, const char *feature, int64_t release_date,
                   int64_t now, Verdict *ret) {
        uint64_t mono = now_monotonic_usec();
        Mapping m;
        int r;

        if (strlen(path) < sizeof(cache.path)) {
                if (pthread_rwlock_tryrdlock(&cache_lock) == 0) {
                        bool current = cache_current(&cache, path, mono);
                        if (current)
                                r = snapshot_lookup(&cache.mapping.snapshot, product, feature, release_date,
                                                    now, ret);
                        pthread_rwlock_unlock(&cache_lock);
                        if (current)
                                return r;
                }
                if (pthread_rwlock_trywrlock(&cache_lock) == 0) {
                        r = cache_refresh(&cache, path, mono);
                        if (r >= 0)
                                r = snapshot_lookup(&cache.mapping.snapshot, product, feature, release_date,
                                                    now, ret);
                        pthread_rwlock_unlock(&cache_lock);
                        return r;
                }
        }

        /* Contended, or the lock was inherited held across fork(): this call
         * maps the file for itself. */
        r = mapping_open(path, &m);
        if (r < 0)
                return r;
        r = snapshot_lookup(&m.snapshot, product, feature, release_date, now, ret);
        mapping_done(&m);
        return r;
}

/* When liblicensed is unloaded (a PAM module is dlclose()d) or the program
 * exits: unmap, unless another thread is inside a lookup right now. */
__attribute__((destructor)) static void fastpath_unmap(void) {
        if (pthread_rwlock_trywrlock(&cache_lock) != 0)
                return;
        mapping_done(&cache.mapping);
        cache.path[0] = 0;
        pthread_rwlock_unlock(&cache_lock);
}
