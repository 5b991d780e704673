/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Starting from the start image (core/start-image.h): the entries are built
 * from it when it was made from the licenses directory and products as they
 * are now, the bus name is taken, and every license file is then compared
 * with what the image said, a chunk per event-loop iteration so the bus
 * keeps answering. A file that differs, is gone or is new is loaded (and
 * verified) the normal way and the change announced. The image is written
 * again after changes (debounced) and at exit. The trust argument is in
 * docs/architecture.md, "The start image". */

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>

#include "build-info.h"
#include "context.h"
#include "event-timer.h"
#include "log.h"
#include "text-check.h"

/* Files compared per event-loop iteration: a few milliseconds of reading. */
#define CHECK_CHUNK 256
/* A bulk call's many small changes make one write. */
#define WRITE_DELAY_USEC (1 * USEC_PER_SEC)

static const char domain[] = "licensed start-image 1";

static void digest_add(EVP_MD_CTX *ctx, const void *p, size_t n) {
        (void) EVP_DigestUpdate(ctx, &n, sizeof(n)); /* lengths first: no two inputs hash alike */
        (void) EVP_DigestUpdate(ctx, p, n);
}

static void digest_string(EVP_MD_CTX *ctx, const char *s) {
        digest_add(ctx, s ?: "", s ? strlen(s) + 1 : 0);
}

/* What, besides licenses/, an entry built from the image depends on: this
 * daemon's version (its evaluation and format), this machine's identity,
 * and every product's trust keys and policy. A product file changed,
 * added or removed changes it, and the image is not used. */
static int made_from(Context *c, uint8_t out[static START_IMAGE_MADE_FROM_SIZE]) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned n = 0;
        int r = -EIO;

        if (!ctx)
                return -ENOMEM;
        if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
                goto finish;
        digest_string(ctx, domain);
        digest_string(ctx, PACKAGE_VERSION);
        digest_string(ctx, c->machine_id);
        digest_string(ctx, c->device_key_b64);
        digest_add(ctx, &c->products.n_products, sizeof(c->products.n_products));
        for (size_t i = 0; i < c->products.n_products; i++) {
                const Product *p = &c->products.products[i];

                digest_string(ctx, p->id);
                digest_add(ctx, &p->validation_interval, sizeof(p->validation_interval));
                digest_add(ctx, &p->grace_period, sizeof(p->grace_period));
                digest_add(ctx, &p->n_trust_keys, sizeof(p->n_trust_keys));
                for (size_t k = 0; k < p->n_trust_keys; k++) {
                        uint8_t raw[ED25519_PUBLIC_KEY_SIZE];

                        if (ed25519_public_raw(p->trust_keys[k].key, raw) < 0)
                                goto finish;
                        digest_string(ctx, p->trust_keys[k].id);
                        digest_add(ctx, raw, sizeof(raw));
                }
        }
        if (EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == START_IMAGE_MADE_FROM_SIZE)
                r = 0;
finish:
        EVP_MD_CTX_free(ctx);
        return r;
}

static int current_source(Context *c, StartImageSource *ret) {
        int r = store_licenses_identity(&c->store, ret);
        return r < 0 ? r : made_from(c, ret->made_from);
}

/* Writing ------------------------------------------------------------------ */

static int image_write(Context *c) {
        _cleanup_free_ void *data = NULL;
        StartImageSource src = {};
        StartImageWriter w;
        size_t size;
        int r;

        /* The identity of licenses/ as it is now, with the entries as they
         * are now: everything the daemon wrote there is in them. */
        r = current_source(c, &src);
        if (r < 0)
                return r;
        start_image_writer_begin(&w, &src);
        for (size_t i = 0; i < c->n_entries; i++)
                start_image_writer_add(&w, c->entries[i]->text_digest, &c->entries[i]->license,
                                       &c->entries[i]->state);
        r = start_image_writer_finish(&w, &data, &size);
        if (r < 0)
                return r;
        r = store_save_image(&c->store, data, size);
        if (r < 0)
                return r;
        c->image_dirty = false;
        log_debug("Wrote the start image (%zu license(s), %zu bytes).", c->n_entries, size);
        return 0;
}

static void image_write_now(Context *c) {
        int r;

        /* Entries not yet compared with their files would be written as
         * if they had been: the check's end writes instead. */
        if (!c->image_dirty || c->image_check_dir)
                return;
        r = image_write(c);
        if (r < 0) {
                /* An image that no longer matches is never used (its
                 * licenses/ identity differs); removing it spares reading it. */
                log_warning_errno(r, "Failed to write %s/" START_IMAGE_FILE ", the next start loads every "
                                  "license file: %m", c->store.dir);
                (void) store_remove_image(&c->store);
        }
}

static int on_write_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        image_write_now(userdata);
        return 0;
}

void context_image_changed(Context *c) {
        int r;

        c->image_dirty = true;
        if (!c->event)
                return;
        r = event_timer_arm(c->event, &c->image_write_source, WRITE_DELAY_USEC, 0, on_write_timer, c);
        if (r < 0)
                log_warning_errno(r, "Failed to arm the start image's timer, written at exit: %m");
}

void context_image_flush(Context *c) {
        image_write_now(c);
}

void context_image_done(Context *c) {
        c->image_write_source = sd_event_source_unref(c->image_write_source);
        c->image_check_source = sd_event_source_unref(c->image_check_source);
        if (c->image_check_dir) {
                closedir(c->image_check_dir);
                c->image_check_dir = NULL;
        }
}

/* The background check ------------------------------------------------------ */

static void drop_entry(Context *c, Entry *e) {
        _cleanup_free_ char *id = strdup(e->id), *path = entry_object_path(e);

        context_remove_entry(c, e);
        if (id && path)
                (void) license_dbus_emit_removed(c, id, path);
}

/* NAME.lic of an entry built from the image, or one the image did not know. */
static void check_file(Context *c, int dir_fd, const char *name, const char *id) {
        _cleanup_free_ char *text = NULL;
        Entry *e = context_find_entry(c, id);
        bool differs;
        size_t len;

        if (e && !e->unchecked)
                return; /* installed or replaced since the start: verified then */
        c->image_checked++;
        if (e && store_read_license_at(dir_fd, name, &text, &len) >= 0 && strlen(text) == len &&
            entry_text_is(e, text)) {
                e->unchecked = false;
                return;
        }
        differs = e != NULL;
        if (differs) {
                log_warning("License file %s/licenses/%s is not what the start image holds: it is verified "
                            "again.",
                            c->store.dir, name);
                drop_entry(c, e);
        }
        if (context_load_license_at(c, dir_fd, name) == -ENOMEM)
                log_oom();
        e = context_find_entry(c, id);
        if (e)
                (void) license_dbus_emit_added(c, e);
        /* A file the image did not know is a change if it became a license
         * or was moved aside; not one that stays stored unused (its product
         * is missing), as at every full start. */
        if (differs || e || faccessat(dir_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                c->image_changed++;
}

static void check_done(Context *c) {
        unsigned gone = 0;

        closedir(c->image_check_dir);
        c->image_check_dir = NULL;
        (void) sd_event_source_set_enabled(c->image_check_source, SD_EVENT_OFF);
        /* What is still unchecked had no file. */
        for (size_t i = c->n_entries; i > 0; i--)
                if (c->entries[i - 1]->unchecked) {
                        log_warning("License %s of the start image has no file any more: removed.",
                                    c->entries[i - 1]->id);
                        drop_entry(c, c->entries[i - 1]);
                        gone++;
                }
        c->image_changed += gone;
        log_info("Checked %u license files against the start image: %u changed.", c->image_checked,
                 c->image_changed);
        if (c->image_changed > 0) {
                verdict_cache_drop(&c->verdict_cache);
                context_reevaluate(c);
                context_state_changed(c);
                context_image_changed(c);
        }
        if (c->image_dirty)
                context_image_changed(c);
}

static int on_check(sd_event_source *s, void *userdata) {
        Context *c = userdata;

        for (unsigned i = 0; i < CHECK_CHUNK; i++) {
                _cleanup_free_ char *id = NULL;
                struct dirent *de;
                size_t n;

                errno = 0;
                de = readdir(c->image_check_dir);
                if (!de) {
                        check_done(c);
                        return 0;
                }
                n = strlen(de->d_name);
                if (de->d_name[0] == '.')
                        continue;
                if (strstr(de->d_name, ".#")) {
                        /* A write's temporary: the loader removes it, as at a full start. */
                        (void) context_load_license_at(c, dirfd(c->image_check_dir), de->d_name);
                        continue;
                }
                if (n <= 4 || !streq(de->d_name + n - 4, ".lic"))
                        continue;
                id = strndup(de->d_name, n - 4);
                if (!id)
                        return log_oom();
                if (!identifier_is_valid(id, LICENSE_ID_MAX)) {
                        /* The loader quarantines it, as at a full start. */
                        (void) context_load_license_at(c, dirfd(c->image_check_dir), de->d_name);
                        continue;
                }
                check_file(c, dirfd(c->image_check_dir), de->d_name, id);
        }
        return 0;
}

/* Loading ---------------------------------------------------------------- */

static int add_one(const uint8_t digest[static START_IMAGE_DIGEST_SIZE], License *l, const Product *p,
                   LicenseState *st, void *userdata) {
        _cleanup_(license_done) License owned = *l;
        _cleanup_free_ char *last_error = st->last_error;
        Context *c = userdata;
        Entry *e;
        int r;

        /* Already compacted as context_add_entry() would (the arena, the
         * shared strings): it only takes it over. A repeated id means the
         * image is not what was written. */
        license_init(l);
        if (context_find_entry(c, owned.id))
                return -EBADMSG;
        r = context_add_entry_digest(c, digest, &owned, p, st, &e);
        if (r < 0)
                return r;
        e->unchecked = true;
        return 0;
}

int context_load_image(Context *c) {
        _cleanup_free_ char *data = NULL;
        StartImageSource have = {}, want = {};
        size_t size;
        int r;

        r = store_load_image(&c->store, &data, &size);
        if (r == -ENOENT) {
                log_debug("No start image: every license file is loaded.");
                return 0;
        }
        if (r >= 0)
                r = start_image_peek(data, size, &have);
        if (r < 0) {
                log_internal(LOG_NOTICE, r,
                             "Ignoring %s/" START_IMAGE_FILE " (%m): every license file is loaded, and the "
                             "image written anew.",
                             c->store.dir);
                return 0;
        }
        r = current_source(c, &want);
        if (r < 0) {
                log_warning_errno(r, "Failed to tell whether the start image is current, not using it: %m");
                return 0;
        }
        if (memcmp(&have, &want, sizeof(have)) != 0) {
                log_info("The start image is out of date (licenses/ or the products changed since it was "
                         "written): every license file is loaded.");
                return 0;
        }
        r = start_image_parse(data, size, NULL, NULL,
                              &(StartImageShared) {
                                      .shared = (const char *const[]) {c->machine_id, c->device_key_b64, NULL},
                                      .products = &c->products,
                              },
                              add_one, c);
        if (r >= 0)
                r = store_open_licenses(&c->store, &c->image_check_dir);
        if (r >= 0) {
                r = sd_event_add_defer(c->event, &c->image_check_source, on_check, c);
                if (r >= 0)
                        /* After the bus: a call waiting is answered first. */
                        r = sd_event_source_set_priority(c->image_check_source, SD_EVENT_PRIORITY_IDLE);
                if (r >= 0)
                        /* A chunk per iteration until check_done() turns it off (a
                         * defer source is one-shot unless told). */
                        r = sd_event_source_set_enabled(c->image_check_source, SD_EVENT_ON);
        }
        if (r < 0) {
                log_internal(LOG_NOTICE, r,
                             "Ignoring %s/" START_IMAGE_FILE " (%m): every license file is loaded, and the "
                             "image written anew.",
                             c->store.dir);
                context_image_done(c);
                context_drop_entries(c);
                return 0;
        }
        log_info("Loaded %zu license(s) from the start image; their files are checked in the background.",
                 c->n_entries);
        return 1;
}
