/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* /etc/licensed/licensed.conf (libconfig). Every setting is optional; a
 * missing file means all defaults. See docs/configuration.md. */

#include <stdint.h>

#include "error.h"
#include "timeutil.h"

typedef struct Config {
        int64_t idle_timeout;     /* daemon exits after this long idle; 0 = never. Default 30s */
        int64_t max_grace_period; /* caps every license's grace period. Default 30d */
        int64_t clock_tolerance;  /* how far the clock may go back before clock-rollback. Default 1h */
        int64_t grace_warning;    /* journal warnings start this long before grace ends. Default 7d */
        int64_t http_timeout;     /* whole request to the server. Default 30s */
        char *ca_file;            /* CA bundle for the server, NULL = system default */
        char *proxy;              /* HTTP(S) proxy URL, NULL = none (libcurl env vars ignored) */
} Config;

#define CONFIG_DEFAULT_IDLE_TIMEOUT (30)
#define CONFIG_DEFAULT_MAX_GRACE_PERIOD (30 * SEC_PER_DAY)
#define CONFIG_DEFAULT_CLOCK_TOLERANCE (SEC_PER_HOUR)
#define CONFIG_DEFAULT_GRACE_WARNING (7 * SEC_PER_DAY)
#define CONFIG_DEFAULT_HTTP_TIMEOUT (30)

/* Named licensed_config_* because libconfig already owns config_init(),
 * config_destroy() and friends. */
void licensed_config_init(Config *c);

/* Loads path over the defaults already in c. -ENOENT is not an error (defaults
 * stay). Durations accept an integer (seconds) or a string like "14d".
 * Unknown settings are errors, so a typo does not silently do nothing.
 * Errors name the file and line. */
int licensed_config_load(Config *c, const char *path, CoreError *err);

void licensed_config_done(Config *c);
