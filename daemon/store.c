/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "armor.h"
#include "fields.h"
#include "fileio.h"
#include "start-image.h"
#include "store.h"
#include "strutil.h"
#include "timeutil.h"

#define STATE_FILE_MAX 8192

static const char *const subdirs[] = {"licenses", "pending", "deactivated", "quarantine"};

static int mkdir_mode(const char *path, mode_t mode) {
        if (mkdir(path, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* A crash inside write_file_atomic() leaves "NAME.#random": the rename never
 * happened, so the file it was replacing is intact and the temporary is
 * garbage. */
static void remove_temporaries_in(const char *path) {
        DIR *d = opendir(path);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && strstr(de->d_name, ".#"))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
}

/* Not licenses/: its loader removes them as it reads the directory (a full
 * load, or the start image's check), and reading 100,000 names here was a
 * tenth of a start from the image. */
static void store_remove_temporaries(Store *s) {
        remove_temporaries_in(s->dir);
        for (size_t i = 0; i < ELEMENTSOF(subdirs); i++) {
                _cleanup_free_ char *p = NULL;
                if (!streq(subdirs[i], "quarantine") && !streq(subdirs[i], "licenses") &&
                    asprintf(&p, "%s/%s", s->dir, subdirs[i]) >= 0)
                        remove_temporaries_in(p);
        }
}

int store_open(Store *s, const char *dir) {
        int r;

        assert(s);
        assert(dir);

        /* StateDirectory= creates it with 0700 under systemd; by hand we do. */
        r = mkdir_mode(dir, 0700);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(subdirs); i++) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/%s", dir, subdirs[i]) < 0)
                        return -ENOMEM;
                r = mkdir_mode(p, 0700);
                if (r < 0)
                        return r;
        }
        s->dir = strdup(dir);
        if (!s->dir)
                return -ENOMEM;
        store_remove_temporaries(s);
        return 0;
}

void store_done(Store *s) {
        free(s->dir);
        s->dir = NULL;
}

char *store_path(const Store *s, const char *subdir, const char *name, const char *suffix) {
        char *p;

        if (asprintf(&p, "%s%s%s/%s%s", s->dir, subdir ? "/" : "", subdir ?: "", name, suffix ?: "") < 0)
                return NULL;
        return p;
}

/* State files ------------------------------------------------------------ */

/* The state files are read and written through the codec of core/fields.h,
 * as the signed documents are: each is a table, and each value is judged by
 * the one validator of its kind. */

enum {
        ST_FORMAT, ST_INSTALLED, ST_LAST_VALIDATION, ST_LAST_ATTEMPT, ST_REVOKED, ST_NONCE, ST_LAST_ERROR,
        ST_ANNOUNCED, ST_WARNED,
        _ST_MAX,
};

#define AT(m) .offset = offsetof(LicenseState, m)
#define INLINE_MAX(m) (sizeof(((LicenseState *) NULL)->m) - 1)

static const FieldSpec state_fields[_ST_MAX] = {
        [ST_FORMAT] = {"licensed-state", FIELD_VERSION, .flags = FIELD_REQUIRED},
        [ST_INSTALLED] = {"installed", FIELD_TIME, AT(installed)},
        [ST_LAST_VALIDATION] = {"last-validation", FIELD_TIME, AT(last_validation)},
        [ST_LAST_ATTEMPT] = {"last-attempt", FIELD_TIME, AT(last_attempt)},
        [ST_REVOKED] = {"revoked", FIELD_BOOL, AT(revoked)},
        [ST_NONCE] = {"validation-nonce", FIELD_HEX, .flags = FIELD_INLINE, AT(validation_nonce),
                      .max = LICENSE_NONCE_HEX_LEN},
        [ST_LAST_ERROR] = {"last-error", FIELD_TEXT, AT(last_error), .max = LICENSE_STATE_ERROR_MAX},
        [ST_ANNOUNCED] = {"announced", FIELD_TEXT, .flags = FIELD_INLINE, AT(announced),
                          .max = INLINE_MAX(announced)},
        [ST_WARNED] = {"warned-days-left", FIELD_COUNT, AT(warned_days_left)},
};

#undef AT
#undef INLINE_MAX

_Static_assert(sizeof(((LicenseState *) NULL)->validation_nonce) == LICENSE_NONCE_STRING_SIZE,
               "validation_nonce holds a nonce");

static const DocumentSpec state_spec = {
        .what = "state",
        .version = "1",
        .fields = state_fields,
        .n_fields = _ST_MAX,
};

static int state_format(const LicenseState *st, char **ret, size_t *ret_len) {
        uint32_t include = FIELDS_ALL;

        /* Not written at its "none" value, so a state file says only what is known. */
        if (st->warned_days_left <= 0)
                include &= ~(UINT32_C(1) << ST_WARNED);
        return document_encode(&state_spec, st, include, ret, ret_len);
}

void license_state_done(LicenseState *st) {
        free(st->last_error);
        st->last_error = NULL;
}

static int state_parse(const char *text, size_t len, LicenseState *ret, CoreError *err) {
        _cleanup_(license_state_done) LicenseState st = {};
        int r;

        r = document_decode(&state_spec, text, len, &st, NULL, NULL, err);
        if (r < 0)
                return r;
        *ret = st;
        st = (LicenseState) {};
        return 0;
}

/* Every change to licenses/ goes through the functions below, which tell
 * the owner (the start image is then out of date, daemon/start-image.c). */
static void changed(Store *s) {
        if (s->changed)
                s->changed(s->changed_userdata);
}

int store_save_state(Store *s, const char *id, const LicenseState *st) {
        _cleanup_free_ char *path = store_path(s, "licenses", id, ".state"), *text = NULL;
        size_t len;
        int r;

        if (!path)
                return -ENOMEM;
        r = state_format(st, &text, &len);
        if (r < 0)
                return r;
        changed(s);
        return write_file_atomic(path, text, len, 0600);
}

int store_save_license(Store *s, const char *id, const char *text, const LicenseState *st) {
        _cleanup_free_ char *path = store_path(s, "licenses", id, ".lic");
        bool existed;
        int r;

        if (!path)
                return -ENOMEM;
        existed = access(path, F_OK) >= 0;
        changed(s);
        /* State first: the license is committed by its .lic rename, so a
         * failure before that changes nothing (an orphan .state of a new
         * license is removed here, or at the next load). */
        r = store_save_state(s, id, st);
        if (r < 0)
                return r;
        r = write_file_atomic(path, text, strlen(text), 0600);
        if (r < 0 && !existed) {
                _cleanup_free_ char *state = store_path(s, "licenses", id, ".state");
                if (state)
                        (void) unlink(state);
        }
        return r;
}

int store_remove_license(Store *s, const char *id) {
        _cleanup_free_ char *lic = store_path(s, "licenses", id, ".lic"),
                            *state = store_path(s, "licenses", id, ".state");

        if (!lic || !state)
                return -ENOMEM;
        changed(s);
        if (unlink(lic) < 0 && errno != ENOENT)
                return -errno;
        /* From here on the license is gone; a left-over state file is cleaned
         * up at the next load. */
        (void) unlink(state);
        return fsync_parent_dir(lic);
}

int store_quarantine(Store *s, const char *path, char **ret_moved) {
        _cleanup_free_ char *copy = strdup(path), *dest = NULL;
        const char *base;

        if (!copy)
                return -ENOMEM;
        base = strrchr(copy, '/');
        base = base ? base + 1 : copy;
        if (asprintf(&dest, "%s/quarantine/%s.%lld", s->dir, base, (long long) now_realtime()) < 0)
                return -ENOMEM;
        changed(s);
        if (rename(path, dest) < 0)
                return -errno;
        (void) fsync_parent_dir(dest);
        (void) fsync_parent_dir(path);
        if (ret_moved)
                *ret_moved = TAKE_PTR(dest);
        return 0;
}

/* read_file() relative to the licenses directory, without stdio: the
 * start reads two small files per license, and a path walk and a stdio
 * buffer each were a third of a start with 10,000 of them. */
static int read_fd(int fd, size_t max_size, char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap;
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (S_ISREG(st.st_mode) && (size_t) st.st_size > max_size)
                return -EFBIG;
        /* One byte more than the size: a read that fills it means the file
         * grew, and the loop goes on up to max_size. */
        cap = (S_ISREG(st.st_mode) ? (size_t) st.st_size : 4096) + 2;
        for (;;) {
                ssize_t k;

                if (len + 1 >= cap) {
                        size_t ncap = cap * 2 < max_size + 2 ? cap * 2 : max_size + 2;
                        char *n;
                        if (len > max_size)
                                return -EFBIG;
                        n = realloc(buf, ncap);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                        cap = ncap;
                } else if (!buf && !(buf = malloc(cap)))
                        return -ENOMEM;
                k = read(fd, buf + len, cap - len - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
        }
        if (len > max_size)
                return -EFBIG;
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

static int read_at(int dir_fd, const char *name, size_t max_size, char **ret, size_t *ret_len) {
        /* O_NONBLOCK: a FIFO planted here must not hang the start in
         * open(); it reads as empty, a damaged file. */
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

        if (fd < 0)
                return -errno;
        return read_fd(fd, max_size, ret, ret_len);
}

static bool has_suffix(const char *s, const char *suffix, size_t *ret_stem) {
        size_t n = strlen(s), k = strlen(suffix);
        if (n <= k || !streq(s + n - k, suffix))
                return false;
        *ret_stem = n - k;
        return true;
}

int store_load_license_at(Store *s, int dir_fd, const char *name, StoreLicenseFunc found,
                          StoreDamagedFunc damaged, void *userdata) {
        _cleanup_free_ char *id = NULL, *lic = NULL, *statepath = NULL, *text = NULL, *stext = NULL;
        LicenseState st = {};
        struct stat sb;
        size_t stem, len, slen;
        CoreError err = {};
        int r;

        if (name[0] == '.')
                return 0;
        /* A crash during write_file_atomic() leaves "NAME.#random": the
         * rename never happened, so the old file (if any) is intact. */
        if (strstr(name, ".#")) {
                (void) unlinkat(dir_fd, name, 0);
                return 0;
        }
        if (has_suffix(name, ".state", &stem)) {
                _cleanup_free_ char *l = NULL;
                if (asprintf(&l, "%.*s.lic", (int) stem, name) < 0)
                        l = NULL;
                if (l && faccessat(dir_fd, l, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
                        (void) unlinkat(dir_fd, name, 0); /* orphan of a removal */
                return 0;
        }
        if (!has_suffix(name, ".lic", &stem))
                return 0;
        id = strndup(name, stem);
        lic = store_path(s, "licenses", name, NULL);
        if (!id || !lic)
                return -ENOMEM;
        if (!identifier_is_valid(id, LICENSE_ID_MAX)) {
                _cleanup_free_ char *moved = NULL;
                if (store_quarantine(s, lic, &moved) >= 0 && damaged)
                        damaged(lic, "file name is not a valid license id", moved, userdata);
                return 0;
        }
        r = read_at(dir_fd, name, ARMOR_MAX_SIZE, &text, &len);
        if (r < 0) {
                _cleanup_free_ char *moved = NULL;
                if (store_quarantine(s, lic, &moved) >= 0 && damaged)
                        damaged(lic, strerror(-r), moved, userdata);
                return 0;
        }
        statepath = store_path(s, "licenses", id, ".state");
        if (!statepath)
                return -ENOMEM;
        r = read_at(dir_fd, strrchr(statepath, '/') + 1, STATE_FILE_MAX, &stext, &slen);
        if (r >= 0)
                r = state_parse(stext, slen, &st, &err);
        if (r < 0 && r != -ENOENT) {
                _cleanup_free_ char *moved = NULL;
                if (store_quarantine(s, statepath, &moved) >= 0 && damaged)
                        damaged(statepath, core_error_message(&err, r), moved, userdata);
        }
        if (r < 0) {
                /* No usable state: installed when the file was written, never validated. */
                st = (LicenseState) {};
                st.installed = fstatat(dir_fd, name, &sb, 0) >= 0 ? (int64_t) sb.st_mtime : now_realtime();
        }
        found(id, text, len, &st, userdata);
        license_state_done(&st);
        return 0;
}

int store_read_license_at(int dir_fd, const char *name, char **ret, size_t *ret_len) {
        return read_at(dir_fd, name, ARMOR_MAX_SIZE, ret, ret_len);
}

int store_open_licenses(Store *s, DIR **ret) {
        _cleanup_free_ char *dirpath = store_path(s, NULL, "licenses", NULL);
        DIR *d;

        if (!dirpath)
                return -ENOMEM;
        d = opendir(dirpath);
        if (!d)
                return -errno;
        *ret = d;
        return 0;
}

int store_load_licenses(Store *s, StoreLicenseFunc found, StoreDamagedFunc damaged, void *userdata) {
        struct dirent *de;
        DIR *d;
        int r;

        r = store_open_licenses(s, &d);
        if (r < 0)
                return r;
        while ((de = readdir(d))) {
                r = store_load_license_at(s, dirfd(d), de->d_name, found, damaged, userdata);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r < 0 ? r : 0;
}

int store_licenses_identity(Store *s, StartImageSource *ret) {
        _cleanup_free_ char *dirpath = store_path(s, NULL, "licenses", NULL);
        struct stat st;

        if (!dirpath)
                return -ENOMEM;
        if (stat(dirpath, &st) < 0)
                return -errno;
        ret->dev = st.st_dev;
        ret->ino = st.st_ino;
        ret->mtime_ns = (int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        ret->ctime_ns = (int64_t) st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
        return 0;
}

/* Pending requests, proofs, clock --------------------------------------- */

static int save_bytes(Store *s, const char *subdir, const char *name, const char *suffix, const void *data,
                      size_t len) {
        _cleanup_free_ char *path = store_path(s, subdir, name, suffix);
        if (!path)
                return -ENOMEM;
        return write_file_atomic(path, data, len, 0600);
}

static int save_small(Store *s, const char *subdir, const char *name, const char *suffix, const char *text) {
        return save_bytes(s, subdir, name, suffix, text, strlen(text));
}

/* pending/PRODUCT.activation: the nonce of the latest offline activation
 * request, and when it was made (for the administrator). */
typedef struct Pending {
        char nonce[LICENSE_NONCE_STRING_SIZE];
        int64_t created;
} Pending;

enum { PD_NONCE, PD_CREATED, _PD_MAX };

static const FieldSpec pending_fields[_PD_MAX] = {
        [PD_NONCE] = {"nonce", FIELD_HEX, .flags = FIELD_REQUIRED | FIELD_INLINE,
                      .offset = offsetof(Pending, nonce), .max = LICENSE_NONCE_HEX_LEN},
        [PD_CREATED] = {"created", FIELD_TIME, .offset = offsetof(Pending, created)},
};

static const DocumentSpec pending_spec = {
        .what = "pending request",
        .version = NULL,
        .fields = pending_fields,
        .n_fields = _PD_MAX,
};

int store_save_pending(Store *s, const char *product, const char *nonce) {
        _cleanup_free_ char *text = NULL;
        Pending p = {.created = now_realtime()};
        size_t len;
        int r;

        if (strlen(nonce) >= sizeof(p.nonce))
                return -EINVAL;
        strcpy(p.nonce, nonce);
        r = document_encode(&pending_spec, &p, FIELDS_ALL, &text, &len);
        if (r < 0)
                return r;
        return save_small(s, "pending", product, ".activation", text);
}

int store_load_pending(Store *s, const char *product, char out[static LICENSE_NONCE_STRING_SIZE]) {
        _cleanup_free_ char *path = store_path(s, "pending", product, ".activation"), *text = NULL;
        Pending p = {};
        size_t len;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_file(path, 4096, &text, &len);
        if (r < 0)
                return r;
        r = document_decode(&pending_spec, text, len, &p, NULL, NULL, NULL);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        memcpy(out, p.nonce, sizeof(p.nonce));
        return 0;
}

int store_remove_pending(Store *s, const char *product) {
        _cleanup_free_ char *path = store_path(s, "pending", product, ".activation");
        if (!path)
                return -ENOMEM;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int store_save_proof(Store *s, const char *id, const char *proof) {
        return save_small(s, "deactivated", id, ".proof", proof);
}

/* "boot-id: unknown" when the boot id could not be read. Any other value
 * that is not a boot id also means unknown (docs/state.md): the mark then
 * only loses its same-boot shortcut, which is no reason to call the whole
 * clock damaged. */
static int parse_boot_id(void *doc, const Field *f, CoreError *err) {
        ClockMark *m = doc;

        if (hex_is_valid(f->value, MACHINE_ID_HEX_LEN))
                memcpy(m->boot_id, f->value, sizeof(m->boot_id));
        else
                m->boot_id[0] = 0;
        return 0;
}

static void format_boot_id(FieldWriter *w, const char *name, const void *doc) {
        const ClockMark *m = doc;
        field_write(w, name, m->boot_id[0] ? m->boot_id : "unknown");
}

enum { CL_HIGH_WATER, CL_BOOT_ID, CL_BOOTTIME, _CL_MAX };

static const FieldSpec clock_fields[_CL_MAX] = {
        [CL_HIGH_WATER] = {"high-water", FIELD_TIME, .flags = FIELD_REQUIRED,
                           .offset = offsetof(ClockMark, high_water)},
        [CL_BOOT_ID] = {"boot-id", FIELD_CUSTOM, .parse = parse_boot_id, .format = format_boot_id},
        [CL_BOOTTIME] = {"boottime", FIELD_COUNT, .offset = offsetof(ClockMark, boottime)},
};

static const DocumentSpec clock_spec = {
        .what = "clock",
        .version = NULL,
        .fields = clock_fields,
        .n_fields = _CL_MAX,
};

int store_save_clock(Store *s, const ClockMark *m) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = document_encode(&clock_spec, m, FIELDS_ALL, &text, &len);
        if (r < 0)
                return r;
        return save_small(s, NULL, "clock", NULL, text);
}

int store_load_clock(Store *s, ClockMark *ret) {
        _cleanup_free_ char *path = store_path(s, NULL, "clock", NULL), *text = NULL;
        ClockMark m = {};
        size_t len;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_file(path, 4096, &text, &len);
        if (r < 0)
                return r;
        r = document_decode(&clock_spec, text, len, &m, NULL, NULL, NULL);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        *ret = m;
        return 0;
}

/* A file of the state dir that spares work (verified.cache, the start
 * image): only a regular file the daemon itself wrote may do that,
 * whatever the directory's mode. -EBADMSG if larger than max. */
static int read_owned(Store *s, const char *name, size_t max, char **ret, size_t *ret_size) {
        _cleanup_free_ char *path = store_path(s, NULL, name, NULL);
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0022))
                return -EPERM;
        r = read_fd(fd, max, ret, ret_size);
        return r == -EFBIG ? -EBADMSG : r;
}

int store_load_verified(Store *s, VerifiedCache *ret) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        assert(ret);
        r = read_owned(s, "verified.cache", VERIFIED_CACHE_MAX_SIZE, &data, &size);
        if (r < 0)
                return r;
        return verified_cache_parse(data, size, ret);
}

int store_load_image(Store *s, char **ret, size_t *ret_size) {
        return read_owned(s, START_IMAGE_FILE, START_IMAGE_MAX_SIZE + 32, ret, ret_size);
}

int store_save_image(Store *s, const void *data, size_t size) {
        return save_bytes(s, NULL, START_IMAGE_FILE, NULL, data, size);
}

int store_remove_image(Store *s) {
        _cleanup_free_ char *path = store_path(s, NULL, START_IMAGE_FILE, NULL);

        if (!path)
                return -ENOMEM;
        return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int store_save_verified(Store *s, const VerifiedCache *c) {
        _cleanup_free_ void *data = NULL;
        size_t size;
        int r;

        assert(c);
        r = verified_cache_format(c, &data, &size);
        return r < 0 ? r : save_bytes(s, NULL, "verified.cache", NULL, data, size);
}
