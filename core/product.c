/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <dirent.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "conf-file.h"
#include "product.h"
#include "text-check.h"

#define PRODUCT_ID_MAX 128
#define PRODUCT_NAME_MAX 256
#define PRODUCT_TRUST_KEYS_MAX 16

/* Quoted when a duration setting has the wrong type. */
#define DURATION_EXAMPLE "14d"

#define MESSAGE_MAX sizeof(((CoreError *) NULL)->message)

static const char *const product_settings[] = {
        "id", "name", "trusted_keys", "server_url", "offline_url", "validation_interval", "grace_period",
};

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

static const char *const url_schemes[] = {
        "http://",
        "https://",
};

static int get_url(const config_setting_t *root, const char *name, const char *path, char **ret,
                   CoreError *err) {
        const config_setting_t *s;
        const char *v;
        int r;

        r = conf_get_string(root, name, false, path, &s, &v, err);
        if (r <= 0)
                return r;
        if (!conf_url_is_valid(v, url_schemes, ELEMENTSOF(url_schemes)))
                return conf_setting_error(
                        err, EINVAL, path, s,
                        "%s must be an http:// or https:// URL without spaces, not '%.80s'", name,
                        conf_printable_value(v));
        *ret = strdup(v);
        if (!*ret)
                return -ENOMEM;
        return 0;
}

static int parse_trusted_keys(const config_setting_t *root, const char *path, Product *p, CoreError *err) {
        const config_setting_t *s;
        int n;

        s = config_setting_get_member(root, "trusted_keys");
        if (!s)
                return conf_setting_error(err, EINVAL, path, NULL,
                                          "required setting 'trusted_keys' is missing");
        if (!config_setting_is_array(s) && !config_setting_is_list(s))
                return conf_setting_error(
                        err, EINVAL, path, s,
                        "trusted_keys must be an array of base64 strings like [ \"...\" ], not %s",
                        conf_setting_type_to_string(s));
        /* Errors about one key name the line of "trusted_keys =": libconfig stamps an
         * element with the line of the token after it, wrong for the last element. */
        n = config_setting_length(s);
        if (n < 1 || n > PRODUCT_TRUST_KEYS_MAX)
                return conf_setting_error(err, EINVAL, path, s,
                                          "trusted_keys must list 1 to %d keys, not %d",
                                          PRODUCT_TRUST_KEYS_MAX, n);

        p->trust_keys = calloc((size_t) n, sizeof(TrustKey));
        if (!p->trust_keys)
                return -ENOMEM;

        for (int i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
                TrustKey *k = p->trust_keys + p->n_trust_keys;
                CoreError kerr = {};
                int r;

                if (config_setting_type(e) != CONFIG_TYPE_STRING)
                        return conf_setting_error(err, EINVAL, path, s,
                                                  "trusted_keys[%d] must be a string, not %s", i,
                                                  conf_setting_type_to_string(e));

                r = ed25519_public_from_base64(config_setting_get_string(e), &k->key, &kerr);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return conf_setting_error(err, EINVAL, path, s,
                                                  "trusted_keys[%d] is not a valid Ed25519 public key: %s",
                                                  i, core_error_message(&kerr, r));
                p->n_trust_keys++;

                r = key_id_from_key(k->key, k->id);
                if (r < 0)
                        return conf_setting_error(err, r, path, s,
                                                  "trusted_keys[%d] is not a valid Ed25519 public key: %s",
                                                  i, strerror(-r));
                for (size_t j = 0; j + 1 < p->n_trust_keys; j++)
                        if (streq(p->trust_keys[j].id, k->id))
                                return conf_setting_error(
                                        err, EINVAL, path, s,
                                        "trusted_keys[%d] is the same key as trusted_keys[%zu]", i, j);
        }
        return 0;
}

int product_load_file(const char *path, Product *ret, CoreError *err) {
        _cleanup_(config_destroy) config_t cfg;
        _cleanup_(product_done) Product p = {};
        const config_setting_t *root, *s;
        const char *v;
        int r;

        assert(path);
        assert(ret);

        config_init(&cfg);

        r = conf_file_read(&cfg, path, /* missing_ok= */ false, err);
        if (r < 0)
                return r;

        root = config_root_setting(&cfg);
        r = conf_check_unknown_settings(root, product_settings, ELEMENTSOF(product_settings), path, err);
        if (r < 0)
                return r;

        r = conf_get_string(root, "id", true, path, &s, &v, err);
        if (r < 0)
                return r;
        if (!product_id_is_valid(v))
                return conf_setting_error(
                        err, EINVAL, path, s,
                        "id '%.140s' is not a valid product id (1-128 characters of a-z, 0-9, '.', "
                        "'_' and '-', starting with a letter or digit)",
                        conf_printable_value(v));
        p.id = strdup(v);
        if (!p.id)
                return -ENOMEM;

        r = conf_get_string(root, "name", true, path, &s, &v, err);
        if (r < 0)
                return r;
        if (v[0] == '\0' || strlen(v) > PRODUCT_NAME_MAX || !utf8_is_printable(v, strlen(v), false))
                return conf_setting_error(err, EINVAL, path, s,
                                          "name must be 1 to %d bytes of printable UTF-8 text",
                                          PRODUCT_NAME_MAX);
        p.name = strdup(v);
        if (!p.name)
                return -ENOMEM;

        r = parse_trusted_keys(root, path, &p, err);
        if (r < 0)
                return r;

        r = get_url(root, "server_url", path, &p.server_url, err);
        if (r < 0)
                return r;
        r = get_url(root, "offline_url", path, &p.offline_url, err);
        if (r < 0)
                return r;

        p.validation_interval = PRODUCT_DEFAULT_VALIDATION_INTERVAL;
        r = conf_get_duration(root, "validation_interval", DURATION_EXAMPLE, path, &p.validation_interval,
                              err);
        if (r < 0)
                return r;
        p.grace_period = PRODUCT_DEFAULT_GRACE_PERIOD;
        r = conf_get_duration(root, "grace_period", DURATION_EXAMPLE, path, &p.grace_period, err);
        if (r < 0)
                return r;

        p.source_path = strdup(path);
        if (!p.source_path)
                return -ENOMEM;

        *ret = p;
        p = (Product){};
        return 0;
}

void product_done(Product *p) {
        if (!p)
                return;
        free(p->id);
        free(p->name);
        free(p->server_url);
        free(p->offline_url);
        free(p->source_path);
        for (size_t i = 0; i < p->n_trust_keys; i++)
                EVP_PKEY_free(p->trust_keys[i].key);
        free(p->trust_keys);
        *p = (Product){};
}

/* One file name seen in the directories; path NULL means masked. */
typedef struct ProductFile {
        char *name;
        char *path;
} ProductFile;

typedef struct ProductFileList {
        ProductFile *files;
        size_t n_files;
} ProductFileList;

static void product_file_list_done(ProductFileList *l) {
        for (size_t i = 0; i < l->n_files; i++) {
                free(l->files[i].name);
                free(l->files[i].path);
        }
        free(l->files);
        *l = (ProductFileList){};
}

static int product_file_cmp(const void *a, const void *b) {
        const ProductFile *x = a, *y = b;
        return strcmp(x->name, y->name);
}

static bool file_name_is_product(const char *name) {
        size_t n = strlen(name);

        /* Hidden files (editor backups, half-written files) are not products. */
        return name[0] != '.' && n > 5 && streq(name + n - 5, ".conf");
}

static void warnf(ProductWarnFunc warn, void *userdata, const char *path, const char *fmt, ...)
        _printf_(4, 5);
static void warnf(ProductWarnFunc warn, void *userdata, const char *path, const char *fmt, ...) {
        char msg[MESSAGE_MAX];
        va_list ap;

        if (!warn)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        warn(path, msg, userdata);
}

/* Records name -> path, replacing what an earlier directory had. */
static int product_file_list_put(ProductFileList *l, const char *name, char *path) {
        ProductFile *f;

        for (size_t i = 0; i < l->n_files; i++)
                if (streq(l->files[i].name, name)) {
                        free(l->files[i].path);
                        l->files[i].path = path;
                        return 0;
                }

        f = realloc(l->files, (l->n_files + 1) * sizeof(ProductFile));
        if (!f)
                return -ENOMEM;
        l->files = f;
        f[l->n_files].name = strdup(name);
        if (!f[l->n_files].name)
                return -ENOMEM;
        f[l->n_files].path = path;
        l->n_files++;
        return 0;
}

static int collect_dir(ProductFileList *l, const char *dir, ProductWarnFunc warn, void *userdata) {
        _cleanup_(closedirp) DIR *d = NULL;
        size_t dlen = strlen(dir);
        const char *sep = dlen > 0 && dir[dlen - 1] == '/' ? "" : "/";
        struct dirent *de;
        int r;

        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT)
                        return 0;
                if (errno == ENOMEM)
                        return -ENOMEM;
                warnf(warn, userdata, dir, "%s: cannot open directory: %s", dir, strerror(errno));
                return 0;
        }

        for (;;) {
                _cleanup_free_ char *path = NULL;
                struct stat st;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                warnf(warn, userdata, dir, "%s: cannot read directory: %s", dir,
                                      strerror(errno));
                        break;
                }
                if (!file_name_is_product(de->d_name))
                        continue;

                if (asprintf(&path, "%s%s%s", dir, sep, de->d_name) < 0) {
                        path = NULL;
                        return -ENOMEM;
                }

                if (fstatat(dirfd(d), de->d_name, &st, 0) < 0) {
                        warnf(warn, userdata, path, "%s: cannot stat: %s", path, strerror(errno));
                        continue;
                }
                if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) {
                        /* A symlink to /dev/null masks the file of this name in earlier dirs. */
                        r = product_file_list_put(l, de->d_name, NULL);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!S_ISREG(st.st_mode))
                        continue;

                r = product_file_list_put(l, de->d_name, path);
                if (r < 0)
                        return r;
                path = NULL; /* owned by the list now */
        }
        return 0;
}

int product_set_load(ProductSet *set, const char *const *dirs, size_t n_dirs, ProductWarnFunc warn,
                     void *userdata) {
        _cleanup_(product_file_list_done) ProductFileList files = {};
        _cleanup_(product_set_done) ProductSet s = {};
        int r;

        assert(set);
        assert(dirs || n_dirs == 0);

        for (size_t i = 0; i < n_dirs; i++) {
                r = collect_dir(&files, dirs[i], warn, userdata);
                if (r < 0)
                        return r;
        }

        if (files.n_files > 0)
                qsort(files.files, files.n_files, sizeof(ProductFile), product_file_cmp);

        for (size_t i = 0; i < files.n_files; i++) {
                const char *path = files.files[i].path;
                const Product *other;
                CoreError err = {};
                Product p;
                Product *a;

                if (!path)
                        continue; /* masked */

                r = product_load_file(path, &p, &err);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        if (warn)
                                warn(path, core_error_message(&err, r), userdata);
                        continue;
                }

                other = product_set_find(&s, p.id);
                if (other) {
                        warnf(warn, userdata, path,
                              "%s: product '%s' is already defined in %s, ignoring this file", path, p.id,
                              other->source_path);
                        product_done(&p);
                        continue;
                }

                a = realloc(s.products, (s.n_products + 1) * sizeof(Product));
                if (!a) {
                        product_done(&p);
                        return -ENOMEM;
                }
                s.products = a;
                s.products[s.n_products++] = p;
        }

        *set = s;
        s = (ProductSet){};
        return 0;
}

void product_set_done(ProductSet *set) {
        if (!set)
                return;
        for (size_t i = 0; i < set->n_products; i++)
                product_done(set->products + i);
        free(set->products);
        *set = (ProductSet){};
}

const Product *product_set_find(const ProductSet *set, const char *id) {
        if (!set || !id)
                return NULL;
        for (size_t i = 0; i < set->n_products; i++)
                if (streq(set->products[i].id, id))
                        return set->products + i;
        return NULL;
}

EVP_PKEY *product_find_trust_key(const Product *p, const char *key_id) {
        if (!p || !key_id)
                return NULL;
        for (size_t i = 0; i < p->n_trust_keys; i++)
                if (streq(p->trust_keys[i].id, key_id))
                        return p->trust_keys[i].key;
        return NULL;
}

bool product_id_is_valid(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n < 1 || n > PRODUCT_ID_MAX)
                return false;
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
                      s[i] == '_' || s[i] == '-'))
                        return false;
        return true;
}

EVP_PKEY *product_set_find_any_key(const ProductSet *set, const char *key_id) {
        EVP_PKEY *key = NULL;

        for (size_t i = 0; set && i < set->n_products && !key; i++)
                key = product_find_trust_key(&set->products[i], key_id);
        return key;
}

int product_set_check_signer(const ProductSet *set, const char *product_id, const char *key_id, EVP_PKEY *key,
                             const char *what, const Product **ret_product, CoreError *err) {
        const Product *p = product_set_find(set, product_id);
        EVP_PKEY *own;

        if (!p)
                return core_error_set(err, ENOENT, "the %s is for product %s, which is not installed on this machine",
                                      what, product_id);
        own = product_find_trust_key(p, key_id);
        if (!own || EVP_PKEY_eq(own, key) != 1)
                return core_error_set(err, EPERM, "the %s for %s is signed by key %s, which %s does not trust", what,
                                      product_id, key_id, product_id);
        if (ret_product)
                *ret_product = p;
        return 0;
}
