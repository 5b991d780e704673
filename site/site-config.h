/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* /etc/licensed/site.conf (libconfig, like licensed.conf): the options
 * licensed-site also takes as flags (the flags win), show_holders, and the
 * reservations and limits per feature (docs/floating.md, "Reservations and
 * limits"). A missing file is the defaults; a bad one is an error
 * "FILE:LINE: ..." and nothing of it is used. */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "site-storage.h"

#define SITE_CONFIG_PATH "/etc/licensed/site.conf"

typedef struct SiteFeatureConfig {
        char *product;
        char *feature;
        SiteRule *reserve;
        size_t n_reserve;
        SiteRule *max;
        size_t n_max;
} SiteFeatureConfig;

typedef struct SiteConfig {
        char *listen;       /* NULL: not set */
        int64_t lease_ttl;  /* SITE_CONFIG_UNSET: not set */
        int64_t borrow_max; /* SITE_CONFIG_UNSET: not set (0 is "no borrowing") */
        bool show_holders;
        SiteFeatureConfig *features;
        size_t n_features;
        bool any_group; /* some rule is for a group: resolve the user's groups */
} SiteConfig;

#define SITE_CONFIG_UNSET INT64_C(-1)
#define SITE_CONFIG_INIT {.lease_ttl = SITE_CONFIG_UNSET, .borrow_max = SITE_CONFIG_UNSET}

int site_config_load(SiteConfig *c, const char *path, CoreError *err);
void site_config_done(SiteConfig *c);

/* The rules of product's feature, or NULL if there are none. */
const SiteFeatureConfig *site_config_find(const SiteConfig *c, const char *product, const char *feature);

const char *site_who_to_string(SiteWho w);

/* The groups of user on this machine (getgrouplist()), as ",a,b,"; ","
 * if the user is unknown here. */
int site_user_groups(const char *user, char **ret);
