/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <limits.h>

#include "conf-file.h"
#include "config.h"
#include "text-check.h"

/* Quoted when a duration setting has the wrong type. */
#define DURATION_EXAMPLE "30s"

static const char *const config_settings[] = {
        "idle_timeout", "max_grace_period", "clock_tolerance", "grace_warning", "http_timeout", "ca_file", "proxy",
};

static const char *const proxy_schemes[] = {
        "http://", "https://", "socks4://", "socks4a://", "socks5://", "socks5h://",
};

void licensed_config_init(Config *c) {
        assert(c);

        *c = (Config){
                .idle_timeout = CONFIG_DEFAULT_IDLE_TIMEOUT,
                .max_grace_period = CONFIG_DEFAULT_MAX_GRACE_PERIOD,
                .clock_tolerance = CONFIG_DEFAULT_CLOCK_TOLERANCE,
                .grace_warning = CONFIG_DEFAULT_GRACE_WARNING,
                .http_timeout = CONFIG_DEFAULT_HTTP_TIMEOUT,
        };
}

int licensed_config_load(Config *c, const char *path, CoreError *err) {
        _cleanup_(config_destroy) config_t cfg;
        _cleanup_free_ char *ca_file = NULL, *proxy = NULL;
        const config_setting_t *root, *s;
        Config n;
        const char *v;
        int r;

        assert(c);
        assert(path);

        config_init(&cfg);

        r = conf_file_read_settings(&cfg, path, /* missing_ok= */ true, config_settings,
                                    ELEMENTSOF(config_settings), &root, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;

        /* Parse into a copy so that a bad file leaves c exactly as it was. */
        n = *c;

        r = conf_get_duration(root, "idle_timeout", DURATION_EXAMPLE, path, &n.idle_timeout, err);
        if (r < 0)
                return r;
        r = conf_get_duration(root, "max_grace_period", DURATION_EXAMPLE, path, &n.max_grace_period, err);
        if (r < 0)
                return r;
        r = conf_get_duration(root, "clock_tolerance", DURATION_EXAMPLE, path, &n.clock_tolerance, err);
        if (r < 0)
                return r;
        r = conf_get_duration(root, "grace_warning", DURATION_EXAMPLE, path, &n.grace_warning, err);
        if (r < 0)
                return r;
        r = conf_get_duration(root, "http_timeout", DURATION_EXAMPLE, path, &n.http_timeout, err);
        if (r < 0)
                return r;
        if (r > 0 && n.http_timeout == 0)
                return conf_setting_error(err, EINVAL, path, config_setting_get_member(root, "http_timeout"),
                                          "http_timeout must be more than 0 seconds");

        r = conf_get_string(root, "ca_file", false, path, &s, &v, err);
        if (r < 0)
                return r;
        if (r > 0) {
                if (v[0] != '/' || strlen(v) >= PATH_MAX || !utf8_is_printable(v, strlen(v), false))
                        return conf_setting_error(err, EINVAL, path, s,
                                                  "ca_file must be an absolute path, not '%.80s'",
                                                  conf_printable_value(v));
                ca_file = strdup(v);
                if (!ca_file)
                        return -ENOMEM;
        }

        r = conf_get_string(root, "proxy", false, path, &s, &v, err);
        if (r < 0)
                return r;
        if (r > 0) {
                if (!conf_url_is_valid(v, proxy_schemes, ELEMENTSOF(proxy_schemes)))
                        return conf_setting_error(
                                err, EINVAL, path, s,
                                "proxy must be a URL like http://proxy.example.com:3128 (schemes "
                                "http, https, socks4, socks4a, socks5, socks5h), not '%.80s'",
                                conf_printable_value(v));
                proxy = strdup(v);
                if (!proxy)
                        return -ENOMEM;
        }

        c->idle_timeout = n.idle_timeout;
        c->max_grace_period = n.max_grace_period;
        c->clock_tolerance = n.clock_tolerance;
        c->grace_warning = n.grace_warning;
        c->http_timeout = n.http_timeout;
        if (ca_file) {
                free(c->ca_file);
                c->ca_file = TAKE_PTR(ca_file);
        }
        if (proxy) {
                free(c->proxy);
                c->proxy = TAKE_PTR(proxy);
        }
        return 0;
}

void licensed_config_done(Config *c) {
        if (!c)
                return;
        free(c->ca_file);
        free(c->proxy);
        *c = (Config){};
}
