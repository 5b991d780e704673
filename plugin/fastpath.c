/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The snapshot cache, with no lock and no system call per check.
 *
 * A Mapping is one mapped, checked snapshot file, immutable once made and
 * shared by reference count. Each thread keeps its own pointer to the
 * mapping it last used (thread-local, holding one reference), so a check
 * reads only that thread's pointer, the mapping's superseded flag and the
 * index: no lock, no atomic read-modify-write, no system call. At most once
 * per second of the caller's clock a thread asks where the snapshot is
 * (liblicensed reads the environment) and stat()s that path, as a safety net
 * for a replacement that was not marked superseded (the daemon died between
 * the rename and the mark); so a changed environment counts within a
 * second.
 *
 * Moving on to a new file is the slow path. One process-wide slot, `latest`,
 * under a mutex, holds the newest mapping, so N threads map and check a new
 * file once, not N times. The mutex is only ever tried, never waited for:
 * whoever does not get it maps the file privately for that one call. So a
 * fork() while another thread holds it cannot deadlock the child (it keeps
 * its own thread's mapping, which it inherited and which stays valid, and
 * maps privately when that one goes stale), and nothing needs
 * pthread_atfork().
 *
 * References: `latest` holds one, each thread that uses a mapping holds
 * one. The last one dropped unmaps it; nobody can be reading it then,
 * because a reader holds a reference. A thread's reference is dropped when
 * it moves on, or by a pthread key destructor when it exits. When
 * liblicensed is unloaded (a PAM module is dlclose()d) the key is deleted
 * first, so no destructor runs in unloaded code afterwards; the mappings
 * that other live threads held are then left mapped (a bounded leak, never
 * a dangling read). */

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "fastpath.h"
#include "macro.h"
#include "snapshot.h"

typedef struct Mapping {
        unsigned n_ref; /* atomic */
        void *data;
        size_t size;
        Snapshot snapshot;
        dev_t dev;
        ino_t ino;
        char path[]; /* the path it was opened as */
} Mapping;

static pthread_mutex_t latest_lock = PTHREAD_MUTEX_INITIALIZER;
static Mapping *latest; /* under latest_lock */

/* initial-exec: read at a fixed offset from the thread pointer, not through
 * __tls_get_addr() on every check. A library dlopen()ed with such variables
 * (pam_licensed pulls liblicensed in) takes them from the static TLS space
 * glibc keeps spare for this (rtld.optional_static_tls, 512 bytes by
 * default); these are 16. */
#define THREAD_LOCAL __thread __attribute__((tls_model("initial-exec")))
static THREAD_LOCAL Mapping *thread_mapping;
static THREAD_LOCAL int64_t thread_checked; /* the caller's second of this thread's last stat() */

static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_key;
static bool thread_key_ok;

static void mapping_unref(Mapping *m) {
        if (!m || __atomic_sub_fetch(&m->n_ref, 1, __ATOMIC_ACQ_REL) > 0)
                return;
        munmap(m->data, m->size);
        free(m);
}

static Mapping *mapping_ref(Mapping *m) {
        __atomic_add_fetch(&m->n_ref, 1, __ATOMIC_RELAXED);
        return m;
}

static int mapping_open(const char *path, Mapping **ret) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ Mapping *m = NULL;
        size_t len = strlen(path);
        struct stat st;
        void *data;
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
        m = malloc(sizeof(Mapping) + len + 1);
        if (!m)
                return -ENOMEM;
        *m = (Mapping){.n_ref = 1, .size = (size_t) st.st_size, .dev = st.st_dev, .ino = st.st_ino};
        memcpy(m->path, path, len + 1);
        data = mmap(NULL, m->size, PROT_READ, MAP_SHARED, fd, 0);
        if (data == MAP_FAILED)
                return -errno;
        r = snapshot_open(data, m->size, &m->snapshot);
        if (r < 0) {
                munmap(data, m->size);
                return r;
        }
        m->data = data;
        *ret = TAKE_PTR(m);
        return 0;
}

/* Whether m is still the file at path: not superseded, the same path, and
 * the same inode there. */
static bool mapping_current(Mapping *m, const char *path) {
        struct stat st;

        if (snapshot_superseded(&m->snapshot) || !streq(m->path, path))
                return false;
        return stat(path, &st) == 0 && st.st_dev == m->dev && st.st_ino == m->ino;
}

static void thread_key_destroy(void *m) {
        mapping_unref(m);
}

static void thread_key_init(void) {
        thread_key_ok = pthread_key_create(&thread_key, thread_key_destroy) == 0;
}

/* A referenced mapping of the current file at path: `latest` if it still
 * is, else a new one that becomes `latest`. -EBUSY if another thread holds
 * the lock (or held it across fork()). */
static int latest_get(const char *path, Mapping **ret) {
        Mapping *m;
        int r = 0;

        if (pthread_mutex_trylock(&latest_lock) != 0)
                return -EBUSY;
        if (!latest || !mapping_current(latest, path)) {
                r = mapping_open(path, &m);
                if (r >= 0) {
                        mapping_unref(latest);
                        latest = m;
                }
        }
        if (r >= 0)
                *ret = mapping_ref(latest);
        pthread_mutex_unlock(&latest_lock);
        return r;
}

/* The slow path: this thread moves on to the current file. */
static int thread_refresh(const char *path, int64_t now) {
        Mapping *m;
        int r;

        (void) pthread_once(&thread_key_once, thread_key_init);
        if (!thread_key_ok)
                return -ENOSPC; /* no destructor: do not keep one per thread */
        r = latest_get(path, &m);
        if (r < 0)
                return r;
        if (pthread_setspecific(thread_key, m) != 0) {
                mapping_unref(m);
                return -ENOMEM;
        }
        mapping_unref(thread_mapping);
        thread_mapping = m;
        thread_checked = now;
        return 0;
}

int fastpath_check(FastpathLocate locate, const char *product, const char *feature, int64_t release_date,
                   int64_t now, Verdict *ret) {
        Mapping *m = thread_mapping;
        const char *path;
        int r;

        /* The steady state: this second's mapping. The lookup itself checks
         * that it is not superseded since; -ESTALE (superseded, or too old)
         * takes the slow path below, which tells the two apart. */
        if (m && now == thread_checked) {
                r = snapshot_lookup(&m->snapshot, product, feature, release_date, now, ret);
                if (r != -ESTALE)
                        return r;
        }

        path = locate();
        if (!path)
                return -ENOENT;
        if (m && mapping_current(m, path)) {
                thread_checked = now;
                return snapshot_lookup(&m->snapshot, product, feature, release_date, now, ret);
        }
        r = thread_refresh(path, now);
        if (r >= 0)
                return snapshot_lookup(&thread_mapping->snapshot, product, feature, release_date, now, ret);
        if (r != -EBUSY && r != -ENOSPC && r != -ENOMEM)
                return r; /* the file is missing or damaged: ask the daemon */

        /* Contended, or the lock was inherited held across fork(): this call
         * maps the file for itself. */
        r = mapping_open(path, &m);
        if (r < 0)
                return r;
        r = snapshot_lookup(&m->snapshot, product, feature, release_date, now, ret);
        mapping_unref(m);
        return r;
}

/* When liblicensed is unloaded or the program exits: no destructor may run
 * in unloaded code, so the key goes first; then this thread's mapping and
 * `latest`, unless another thread is moving `latest` right now. */
__attribute__((destructor)) static void fastpath_unmap(void) {
        if (thread_key_ok) {
                (void) pthread_key_delete(thread_key);
                thread_key_ok = false;
        }
        mapping_unref(TAKE_PTR(thread_mapping));
        if (pthread_mutex_trylock(&latest_lock) != 0)
                return;
        mapping_unref(TAKE_PTR(latest));
        pthread_mutex_unlock(&latest_lock);
}
