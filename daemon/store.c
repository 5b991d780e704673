/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "armor.h"
#include "fields.h"
#include "fileio.h"
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

static void store_remove_temporaries(Store *s) {
        remove_temporaries_in(s->dir);
        for (size_t i = 0; i < ELEMENTSOF(subdirs); i++) {
                _cleanup_free_ char *p = NULL;
                if (!streq(subdirs[i], "quarantine") && asprintf(&p, "%s/%s", s->dir, subdirs[i]) >= 0)
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

static int state_format(const LicenseState *st, char **ret, size_t *ret_len) {
        FieldWriter w = {};

        field_write(&w, "licensed-state", "1");
        field_write_time(&w, "installed", st->installed);
        field_write_time(&w, "last-validation", st->last_validation);
        field_write_time(&w, "last-attempt", st->last_attempt);
        field_write(&w, "revoked", st->revoked ? "yes" : "no");
        if (st->validation_nonce[0])
                field_write(&w, "validation-nonce", st->validation_nonce);
        if (st->last_error[0])
                field_write(&w, "last-error", st->last_error);
        if (st->announced[0])
                field_write(&w, "announced", st->announced);
        if (st->warned_days_left > 0)
                field_writef(&w, "warned-days-left", "%lld", (long long) st->warned_days_left);
        return field_writer_finish(&w, ret, ret_len);
}

static int state_parse(const char *text, size_t len, LicenseState *ret, CoreError *err) {
        _cleanup_(fields_done) Fields f = {};
        LicenseState st = {};
        bool version = false;
        int r;

        r = fields_parse(text, len, &f, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < f.n; i++) {
                const char *n = f.items[i].name, *v = f.items[i].value;
                int64_t *t = NULL;

                if (streq(n, "licensed-state"))
                        version = streq(v, "1");
                else if (streq(n, "installed"))
                        t = &st.installed;
                else if (streq(n, "last-validation"))
                        t = &st.last_validation;
                else if (streq(n, "last-attempt"))
                        t = &st.last_attempt;
                else if (streq(n, "revoked")) {
                        if (!streq(v, "yes") && !streq(v, "no"))
                                return core_error_set(err, EBADMSG, "line %u: revoked must be yes or no",
                                                      f.items[i].line);
                        st.revoked = streq(v, "yes");
                } else if (streq(n, "validation-nonce")) {
                        if (!hex_is_valid(v, 32))
                                return core_error_set(err, EBADMSG, "line %u: bad nonce", f.items[i].line);
                        memcpy(st.validation_nonce, v, 33);
                } else if (streq(n, "last-error"))
                        snprintf(st.last_error, sizeof(st.last_error), "%s", v);
                else if (streq(n, "announced")) {
                        if (strlen(v) >= sizeof(st.announced))
                                return core_error_set(err, EBADMSG, "line %u: bad announced status", f.items[i].line);
                        snprintf(st.announced, sizeof(st.announced), "%s", v);
                } else if (streq(n, "warned-days-left")) {
                        char *end;
                        errno = 0;
                        st.warned_days_left = strtoll(v, &end, 10);
                        if (errno || *end || st.warned_days_left < 0)
                                return core_error_set(err, EBADMSG, "line %u: bad warned-days-left", f.items[i].line);
                }
                else
                        return core_error_set(err, EBADMSG, "line %u: unknown field '%s'", f.items[i].line, n);
                if (t && time_parse_rfc3339(v, t, err) < 0)
                        return core_error_set(err, EBADMSG, "line %u: bad time", f.items[i].line);
        }
        if (!version)
                return core_error_set(err, EBADMSG, "not a licensed state file (version 1)");
        *ret = st;
        return 0;
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
        return write_file_atomic(path, text, len, 0600);
}

int store_save_license(Store *s, const char *id, const char *text, const LicenseState *st) {
        _cleanup_free_ char *path = store_path(s, "licenses", id, ".lic");
        bool existed;
        int r;

        if (!path)
                return -ENOMEM;
        existed = access(path, F_OK) >= 0;
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
        if (rename(path, dest) < 0)
                return -errno;
        (void) fsync_parent_dir(dest);
        (void) fsync_parent_dir(path);
        if (ret_moved)
                *ret_moved = TAKE_PTR(dest);
        return 0;
}

static bool has_suffix(const char *s, const char *suffix, size_t *ret_stem) {
        size_t n = strlen(s), k = strlen(suffix);
        if (n <= k || !streq(s + n - k, suffix))
                return false;
        *ret_stem = n - k;
        return true;
}

int store_load_licenses(Store *s, StoreLicenseFunc found, StoreDamagedFunc damaged, void *userdata) {
        _cleanup_free_ char *dirpath = store_path(s, NULL, "licenses", NULL);
        DIR *d;
        struct dirent *de;

        if (!dirpath)
                return -ENOMEM;
        d = opendir(dirpath);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                _cleanup_free_ char *id = NULL, *lic = NULL, *statepath = NULL, *text = NULL, *stext = NULL;
                LicenseState st = {};
                struct stat sb;
                size_t stem, len, slen;
                CoreError err = {};
                int r;

                if (de->d_name[0] == '.')
                        continue;
                /* A crash during write_file_atomic() leaves "NAME.#random": the
                 * rename never happened, so the old file (if any) is intact. */
                if (strstr(de->d_name, ".#")) {
                        (void) unlinkat(dirfd(d), de->d_name, 0);
                        continue;
                }
                if (has_suffix(de->d_name, ".state", &stem)) {
                        _cleanup_free_ char *stem_name = strndup(de->d_name, stem), *l = NULL;
                        l = stem_name ? store_path(s, "licenses", stem_name, ".lic") : NULL;
                        if (l && access(l, F_OK) < 0 && errno == ENOENT)
                                (void) unlinkat(dirfd(d), de->d_name, 0); /* orphan of a removal */
                        continue;
                }
                if (!has_suffix(de->d_name, ".lic", &stem))
                        continue;
                id = strndup(de->d_name, stem);
                lic = store_path(s, "licenses", de->d_name, NULL);
                if (!id || !lic)
                        return closedir(d), -ENOMEM;
                if (!identifier_is_valid(id, LICENSE_ID_MAX)) {
                        _cleanup_free_ char *moved = NULL;
                        if (store_quarantine(s, lic, &moved) >= 0 && damaged)
                                damaged(lic, "file name is not a valid license id", moved, userdata);
                        continue;
                }
                r = read_file(lic, ARMOR_MAX_SIZE, &text, &len);
                if (r < 0) {
                        _cleanup_free_ char *moved = NULL;
                        if (store_quarantine(s, lic, &moved) >= 0 && damaged)
                                damaged(lic, strerror(-r), moved, userdata);
                        continue;
                }
                statepath = store_path(s, "licenses", id, ".state");
                if (!statepath)
                        return closedir(d), -ENOMEM;
                r = read_file(statepath, STATE_FILE_MAX, &stext, &slen);
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
                        st.installed = stat(lic, &sb) >= 0 ? (int64_t) sb.st_mtime : now_realtime();
                }
                found(id, text, len, &st, userdata);
        }
        closedir(d);
        return 0;
}

/* Pending requests, proofs, clock --------------------------------------- */

static int save_small(Store *s, const char *subdir, const char *name, const char *suffix, const char *text,
                      mode_t mode) {
        _cleanup_free_ char *path = store_path(s, subdir, name, suffix);
        if (!path)
                return -ENOMEM;
        return write_file_atomic(path, text, strlen(text), mode);
}

int store_save_pending(Store *s, const char *product, const char *nonce) {
        _cleanup_free_ char *text = NULL;
        char ts[RFC3339_MAX];

        if (asprintf(&text, "nonce: %s\ncreated: %s\n", nonce, time_format_rfc3339(now_realtime(), ts)) < 0)
                return -ENOMEM;
        return save_small(s, "pending", product, ".activation", text, 0600);
}

int store_load_pending(Store *s, const char *product, char out[static 33]) {
        _cleanup_free_ char *path = store_path(s, "pending", product, ".activation"), *text = NULL;
        _cleanup_(fields_done) Fields f = {};
        size_t len;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_file(path, 4096, &text, &len);
        if (r < 0)
                return r;
        r = fields_parse(text, len, &f, NULL);
        if (r < 0)
                return r;
        for (size_t i = 0; i < f.n; i++)
                if (streq(f.items[i].name, "nonce") && hex_is_valid(f.items[i].value, 32)) {
                        memcpy(out, f.items[i].value, 33);
                        return 0;
                }
        return -EBADMSG;
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
        return save_small(s, "deactivated", id, ".proof", proof, 0600);
}

int store_save_clock(Store *s, const ClockMark *m) {
        char text[160], ts[RFC3339_MAX];

        snprintf(text, sizeof(text), "high-water: %s\nboot-id: %s\nboottime: %lld\n",
                 time_format_rfc3339(m->high_water, ts), m->boot_id[0] ? m->boot_id : "unknown",
                 (long long) m->boottime);
        return save_small(s, NULL, "clock", NULL, text, 0600);
}

int store_load_clock(Store *s, ClockMark *ret) {
        _cleanup_free_ char *path = store_path(s, NULL, "clock", NULL), *text = NULL;
        _cleanup_(fields_done) Fields f = {};
        ClockMark m = {};
        bool have_hw = false;
        size_t len;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_file(path, 4096, &text, &len);
        if (r < 0)
                return r;
        r = fields_parse(text, len, &f, NULL);
        if (r < 0)
                return -EBADMSG;
        for (size_t i = 0; i < f.n; i++) {
                const char *n = f.items[i].name, *v = f.items[i].value;
                if (streq(n, "high-water")) {
                        if (time_parse_rfc3339(v, &m.high_water, NULL) < 0)
                                return -EBADMSG;
                        have_hw = true;
                } else if (streq(n, "boot-id")) {
                        if (hex_is_valid(v, 32))
                                memcpy(m.boot_id, v, 33);
                } else if (streq(n, "boottime")) {
                        char *end;
                        errno = 0;
                        m.boottime = strtoll(v, &end, 10);
                        if (errno || *end || m.boottime < 0)
                                return -EBADMSG;
                } else
                        return -EBADMSG;
        }
        if (!have_hw)
                return -EBADMSG;
        *ret = m;
        return 0;
}
