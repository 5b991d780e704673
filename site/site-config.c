/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* site-config.h with libconfig and core/conf-file.c, the way licensed.conf
 * is read, so both files word their errors the same way. */

#include <grp.h>
#include <pthread.h>
#include <libconfig.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf-file.h"
#include "license.h"
#include "product.h"
#include "macro.h"
#include "site-config.h"
#include "text-check.h"

#define DURATION_EXAMPLE "7d"
#define NAME_MAX_LEN 256
#define GROUPS_MAX 1024

static const char *const settings[] = {"listen", "lease_ttl", "borrow_max", "show_holders", "features"};
static const char *const feature_settings[] = {"product", "feature", "reserve", "max"};
static const char *const who_names[_SITE_WHO_MAX] = {
        [SITE_WHO_USER] = "user",
        [SITE_WHO_HOST] = "host",
        [SITE_WHO_GROUP] = "group",
};

const char *site_who_to_string(SiteWho w) {
        return w >= 0 && w < _SITE_WHO_MAX ? who_names[w] : NULL;
}

static void feature_done(SiteFeatureConfig *f) {
        for (size_t i = 0; i < f->n_reserve; i++)
                free(f->reserve[i].name);
        for (size_t i = 0; i < f->n_max; i++)
                free(f->max[i].name);
        free(f->reserve);
        free(f->max);
        free(f->product);
        free(f->feature);
}

void site_config_done(SiteConfig *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n_features; i++)
                feature_done(&c->features[i]);
        free(c->features);
        free(c->listen);
        *c = (SiteConfig) SITE_CONFIG_INIT;
}

const SiteFeatureConfig *site_config_find(const SiteConfig *c, const char *product, const char *feature) {
        for (size_t i = 0; c && i < c->n_features; i++)
                if (streq(c->features[i].product, product) && streq(c->features[i].feature, feature))
                        return &c->features[i];
        return NULL;
}

/* A name: printable, no comma (the groups column is comma-separated), not empty. */
static bool name_is_valid(const char *v) {
        return v[0] && strlen(v) < NAME_MAX_LEN && !strchr(v, ',') && utf8_is_printable(v, strlen(v), false);
}

/* One { user|host|group = NAME; seats = N; } of a reserve or max list. */
static int parse_rule(const config_setting_t *e, const char *list, const char *path, SiteRule *ret,
                      bool *any_group, CoreError *err) {
        static const char *const known[] = {"user", "host", "group", "seats"};
        const config_setting_t *seats;
        const char *v = NULL;
        int found = 0, r;

        if (!config_setting_is_group(e))
                return conf_setting_error(err, EINVAL, path, e,
                                          "each entry of %s must be a group like { user = \"alice\"; seats = 1; }",
                                          list);
        r = conf_check_unknown_settings(e, known, ELEMENTSOF(known), path, err);
        if (r < 0)
                return r;
        for (SiteWho w = 0; w < _SITE_WHO_MAX; w++) {
                const config_setting_t *s;
                const char *x;
                r = conf_get_string(e, who_names[w], false, path, &s, &x, err);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                if (!name_is_valid(x))
                        return conf_setting_error(err, EINVAL, path, s,
                                                  "%s must be a name without commas, not '%.80s'", who_names[w],
                                                  conf_printable_value(x));
                found++;
                ret->who = w;
                v = x;
        }
        if (found != 1)
                return conf_setting_error(err, EINVAL, path, e,
                                          "each entry of %s names exactly one of user, host or group", list);
        seats = config_setting_get_member(e, "seats");
        if (!seats || config_setting_type(seats) != CONFIG_TYPE_INT || config_setting_get_int(seats) < 0)
                return conf_setting_error(err, EINVAL, path, seats ?: e,
                                          "each entry of %s needs seats, a whole number of 0 or more", list);
        ret->seats = (uint32_t) config_setting_get_int(seats);
        ret->name = strdup(v);
        if (!ret->name)
                return -ENOMEM;
        if (ret->who == SITE_WHO_GROUP)
                *any_group = true;
        return 0;
}

static int parse_rules(const config_setting_t *f, const char *list, const char *path, SiteRule **ret, size_t *ret_n,
                       bool *any_group, CoreError *err) {
        const config_setting_t *s = config_setting_get_member(f, list);
        int n, r;

        if (!s)
                return 0;
        if (!config_setting_is_list(s))
                return conf_setting_error(err, EINVAL, path, s, "%s must be a list: ( { user = \"alice\"; seats = 1; } )",
                                          list);
        n = config_setting_length(s);
        *ret = calloc(n ?: 1, sizeof(**ret));
        if (!*ret)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                r = parse_rule(config_setting_get_elem(s, i), list, path, &(*ret)[i], any_group, err);
                if (r < 0)
                        return r;
                (*ret_n)++;
        }
        return 0;
}

static int parse_feature(const config_setting_t *e, const char *path, SiteFeatureConfig *f, bool *any_group,
                         CoreError *err) {
        const config_setting_t *s;
        const char *v;
        int r;

        if (!config_setting_is_group(e))
                return conf_setting_error(err, EINVAL, path, e,
                                          "each entry of features must be a group { product = ...; feature = ...; }");
        r = conf_check_unknown_settings(e, feature_settings, ELEMENTSOF(feature_settings), path, err);
        if (r < 0)
                return r;
        /* A name that cannot be a product's or a feature's would make a
         * rule that never matches: refused like any other mistake. */
        r = conf_get_string(e, "product", true, path, &s, &v, err);
        if (r < 0)
                return r;
        if (!product_id_is_valid(v))
                return conf_setting_error(err, EINVAL, path, s, "'%.80s' is not a product id (like com.example.cad)",
                                          conf_printable_value(v));
        f->product = strdup(v);
        r = conf_get_string(e, "feature", true, path, &s, &v, err);
        if (r < 0)
                return r;
        if (!license_name_is_valid(v))
                return conf_setting_error(err, EINVAL, path, s, "'%.80s' is not a feature name",
                                          conf_printable_value(v));
        f->feature = strdup(v);
        if (!f->product || !f->feature)
                return -ENOMEM;
        r = parse_rules(e, "reserve", path, &f->reserve, &f->n_reserve, any_group, err);
        if (r >= 0)
                r = parse_rules(e, "max", path, &f->max, &f->n_max, any_group, err);
        return r;
}

static int parse_features(const config_setting_t *root, const char *path, SiteConfig *n, CoreError *err) {
        const config_setting_t *s = config_setting_get_member(root, "features");
        int len, r;

        if (!s)
                return 0;
        if (!config_setting_is_list(s))
                return conf_setting_error(err, EINVAL, path, s,
                                          "features must be a list: ( { product = ...; feature = ...; } )");
        len = config_setting_length(s);
        n->features = calloc(len ?: 1, sizeof(*n->features));
        if (!n->features)
                return -ENOMEM;
        for (int i = 0; i < len; i++) {
                const config_setting_t *e = config_setting_get_elem(s, i);
                r = parse_feature(e, path, &n->features[i], &n->any_group, err);
                n->n_features++;
                if (r < 0)
                        return r;
                if (site_config_find(n, n->features[i].product, n->features[i].feature) != &n->features[i])
                        return conf_setting_error(err, EINVAL, path, e,
                                                  "feature %s of %s is configured twice: merge the entries",
                                                  n->features[i].feature, n->features[i].product);
        }
        return 0;
}

int site_config_load(SiteConfig *c, const char *path, CoreError *err) {
        _cleanup_(config_destroy) config_t cfg;
        _cleanup_(site_config_done) SiteConfig n = SITE_CONFIG_INIT;
        const config_setting_t *root, *s;
        const char *v;
        int r;

        config_init(&cfg);
        r = conf_file_read_settings(&cfg, path, /* missing_ok= */ true, settings, ELEMENTSOF(settings), &root,
                                    err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;

        r = conf_get_string(root, "listen", false, path, &s, &v, err);
        if (r < 0)
                return r;
        if (r > 0 && !(n.listen = strdup(v)))
                return -ENOMEM;
        r = conf_get_duration(root, "lease_ttl", "2m", path, &n.lease_ttl, err);
        if (r < 0)
                return r;
        if (r > 0 && n.lease_ttl < 2)
                return conf_setting_error(err, EINVAL, path, config_setting_get_member(root, "lease_ttl"),
                                          "lease_ttl must be at least 2 seconds");
        r = conf_get_duration(root, "borrow_max", DURATION_EXAMPLE, path, &n.borrow_max, err);
        if (r < 0)
                return r;
        s = config_setting_get_member(root, "show_holders");
        if (s && config_setting_type(s) != CONFIG_TYPE_BOOL)
                return conf_setting_error(err, EINVAL, path, s, "show_holders must be true or false, not %s",
                                          conf_setting_type_to_string(s));
        n.show_holders = s && config_setting_get_bool(s);
        r = parse_features(root, path, &n, err);
        if (r < 0)
                return r;

        site_config_done(c);
        *c = n;
        n = (SiteConfig) SITE_CONFIG_INIT;
        return 0;
}

int site_user_groups(const char *user, char **ret) {
        _cleanup_free_ char *list = strdup(",");
        gid_t groups[GROUPS_MAX];
        int n = GROUPS_MAX;
        struct passwd *pw;

        if (!list)
                return -ENOMEM;
        /* The lookups run in the HTTP thread: getpwnam() and getgrgid()
         * are not reentrant, the _r forms need buffers; one lock is enough
         * for a lookup done only when a group rule exists. */
        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        pthread_mutex_lock(&lock);
        pw = getpwnam(user);
        if (pw && getgrouplist(user, pw->pw_gid, groups, &n) < 0)
                n = 0;
        for (int i = 0; pw && i < n; i++) {
                struct group *g = getgrgid(groups[i]);
                char *m;
                if (!g || !name_is_valid(g->gr_name))
                        continue;
                if (asprintf(&m, "%s%s,", list, g->gr_name) < 0) {
                        pthread_mutex_unlock(&lock);
                        return -ENOMEM;
                }
                free(list);
                list = m;
        }
        pthread_mutex_unlock(&lock);
        *ret = TAKE_PTR(list);
        return 0;
}
