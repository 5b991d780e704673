/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state directory of licensed-site (docs/floating.md): site.id, the
 * site key, and the floating licenses in licenses/. */

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fileio.h"
#include "key-file.h"
#include "log.h"
#include "request.h"
#include "site.h"
#include "text-check.h"

#define ID_FILE_MAX 128

static int path_in(const Site *s, const char *name, char **ret) {
        return asprintf(ret, "%s/%s", s->state_dir, name) < 0 ? -ENOMEM : 0;
}

/* The site id: made once, then the floating license is bound to it. */
static int load_site_id(Site *s, bool create, CoreError *err) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        char id[LICENSE_NONCE_STRING_SIZE + 1]; /* and the newline of the file */
        size_t len;
        int r;

        if (path_in(s, "site.id", &path) < 0)
                return -ENOMEM;
        r = read_file(path, ID_FILE_MAX, &text, &len);
        if (r == -ENOENT && create) {
                /* 16 random bytes, as a request nonce is made. */
                r = nonce_generate(id);
                if (r < 0)
                        return core_error_set(err, r, "cannot make a site id: %s", strerror(-r));
                strcat(id, "\n");
                r = write_file_atomic(path, id, strlen(id), 0644);
                if (r < 0)
                        return core_error_set(err, r, "cannot write %s: %s", path, strerror(-r));
                log_info("Made the site id %.32s.", id);
                text = strndup(id, LEASE_ID_HEX_LEN);
                if (!text)
                        return -ENOMEM;
        } else if (r < 0)
                return core_error_set(err, r, "cannot read %s: %s", path, strerror(-r));
        if (strlen(text) > 0 && text[strlen(text) - 1] == '\n')
                text[strlen(text) - 1] = 0;
        if (!hex_is_valid(text, LEASE_ID_HEX_LEN))
                return core_error_set(err, EBADMSG, "%s does not hold a site id (32 hex digits)", path);
        memcpy(s->id, text, LEASE_ID_STRING_SIZE);
        return 0;
}

static int load_site_key(Site *s, bool create, CoreError *err) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (path_in(s, "site.key", &path) < 0)
                return -ENOMEM;
        r = ed25519_load_private(path, &s->key, err);
        if (r == -ENOENT && create) {
                *err = (CoreError) {};
                r = ed25519_generate(&s->key);
                if (r < 0)
                        return core_error_set(err, r, "cannot make the site key: %s", strerror(-r));
                r = ed25519_save_private(s->key, path, err);
                if (r < 0)
                        return r;
                log_info("Made the site key %s.", path);
        } else if (r < 0)
                return r;
        return ed25519_public_base64(s->key, &s->key_base64);
}

int site_state_open(Site *s, const char *state_dir, bool create, CoreError *err) {
        _cleanup_free_ char *licenses = NULL;
        int r;

        s->state_dir = strdup(state_dir);
        if (!s->state_dir)
                return -ENOMEM;
        if (!create) {
                r = load_site_id(s, false, err);
                if (r == -ENOENT)
                        return core_error_set(err, ENOENT,
                                              "%s has no site yet: start licensed-site (the service) once first",
                                              state_dir);
                return r < 0 ? r : load_site_key(s, false, err);
        }
        if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
                return core_error_set(err, errno, "cannot make the state directory %s: %m", state_dir);
        if (path_in(s, "licenses", &licenses) < 0)
                return -ENOMEM;
        if (mkdir(licenses, 0755) < 0 && errno != EEXIST)
                return core_error_set(err, errno, "cannot make %s: %m", licenses);
        r = load_site_id(s, true, err);
        if (r < 0)
                return r;
        return load_site_key(s, true, err);
}

int site_license_check(const Site *s, const License *l, CoreError *err) {
        if (l->type != LICENSE_FLOATING)
                return core_error_set(err, EMEDIUMTYPE,
                                      "license %s is a %s license; a site server serves floating licenses only",
                                      l->id, license_type_to_string(l->type));
        if (!streq_ptr(l->machine_id, s->id) || !streq_ptr(l->device_key, s->key_base64))
                return core_error_set(err, EXDEV,
                                      "license %s is bound to %s, not to this site (%s): activate it with a "
                                      "request from this site server",
                                      l->id, l->machine_id ?: "no machine", s->id);
        return 0;
}

static int verify_license(Site *s, const char *text, size_t len, License *ret, CoreError *err) {
        _cleanup_(license_done) License l = LICENSE_INIT;
        int r;

        r = license_verify_with_products(text, len, &s->products, &l, NULL, err);
        if (r < 0)
                return r;
        r = site_license_check(s, &l, err);
        if (r < 0)
                return r;
        *ret = l;
        license_init(&l);
        return 0;
}

static int add_license(Site *s, const char *text, size_t len, CoreError *err) {
        SiteLicense *m, *sl;
        int r;

        m = realloc(s->licenses, (s->n_licenses + 1) * sizeof(*m));
        if (!m)
                return -ENOMEM;
        s->licenses = m;
        sl = &m[s->n_licenses];
        *sl = (SiteLicense) {.license = LICENSE_INIT};
        r = verify_license(s, text, len, &sl->license, err);
        if (r < 0)
                return r;
        sl->text = strndup(text, len);
        if (!sl->text || lease_license_digest(text, len, sl->digest) < 0) {
                license_done(&sl->license);
                free(sl->text);
                return -ENOMEM;
        }
        s->n_licenses++;
        return 0;
}

static int license_file_name(const struct dirent *d) {
        size_t n = strlen(d->d_name);
        return d->d_name[0] != '.' && n > 4 && streq(d->d_name + n - 4, ".lic");
}

int site_state_load_licenses(Site *s, CoreError *err) {
        _cleanup_free_ char *dir = NULL;
        struct dirent **names = NULL;
        int n;

        if (path_in(s, "licenses", &dir) < 0)
                return -ENOMEM;
        n = scandir(dir, &names, license_file_name, alphasort);
        if (n < 0)
                return core_error_set(err, errno, "cannot read %s: %m", dir);
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL, *text = NULL;
                CoreError e = {};
                size_t len;
                int r;

                if (asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0)
                        path = NULL;
                r = path ? read_file(path, ARMOR_MAX_SIZE, &text, &len) : -ENOMEM;
                if (r >= 0)
                        r = add_license(s, text, len, &e);
                if (r < 0)
                        log_warning("Skipping %s: %s", path ?: names[i]->d_name, core_error_message(&e, r));
        }
        for (int i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return 0;
}

int site_state_install(Site *s, const char *text, size_t len, License *ret, CoreError *err) {
        _cleanup_(license_done) License l = LICENSE_INIT;
        _cleanup_free_ char *path = NULL;
        int r;

        r = verify_license(s, text, len, &l, err);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/licenses/%s.lic", s->state_dir, l.id) < 0)
                return -ENOMEM;
        r = write_file_atomic(path, text, len, 0644);
        if (r < 0)
                return core_error_set(err, r, "cannot write %s: %s", path, strerror(-r));
        *ret = l;
        license_init(&l);
        return 0;
}

void site_done(Site *s) {
        for (size_t i = 0; i < s->n_licenses; i++) {
                license_done(&s->licenses[i].license);
                free(s->licenses[i].text);
        }
        free(s->licenses);
        site_config_done(&s->config);
        product_set_done(&s->products);
        site_storage_close(s->storage);
        EVP_PKEY_free(s->key);
        free(s->key_base64);
        free(s->state_dir);
        free(s->tls_cert);
        if (s->tls_key)
                erase_and_free(s->tls_key, strlen(s->tls_key));
}
