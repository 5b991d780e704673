/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/stat.h>

#include "config.h"
#include "strutil.h"

#define CONFIG_FILE_SIZE_MAX (1024 * 1024)
#define CONFIG_URL_MAX 2048
#define MESSAGE_MAX sizeof(((CoreError *) NULL)->message)

static const char *const config_settings[] = {
        "idle_timeout", "max_grace_period", "clock_tolerance", "http_timeout", "ca_file", "proxy",
};

static const char *setting_type_to_string(const config_setting_t *s) {
        switch (config_setting_type(s)) {
        case CONFIG_TYPE_GROUP:
                return "a group";
        case CONFIG_TYPE_INT:
        case CONFIG_TYPE_INT64:
                return "an integer";
        case CONFIG_TYPE_FLOAT:
                return "a float";
        case CONFIG_TYPE_STRING:
                return "a string";
        case CONFIG_TYPE_BOOL:
                return "a boolean";
        case CONFIG_TYPE_ARRAY:
                return "an array";
        case CONFIG_TYPE_LIST:
                return "a list";
        default:
                return "of unknown type";
        }
}

/* "FILE:LINE: message", or "FILE: message" when libconfig has no line. */
_printf_(5, 6) static int setting_error(CoreError *err, int error, const char *path,
                                        const config_setting_t *s, const char *fmt, ...) {
        char msg[MESSAGE_MAX];
        const char *file = path;
        unsigned line = 0;
        va_list ap;

        if (!err)
                return error < 0 ? error : -error;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        if (s) {
                if (config_setting_source_file(s))
                        file = config_setting_source_file(s);
                line = config_setting_source_line(s);
        }
        if (line > 0)
                return core_error_set(err, error, "%s:%u: %s", file, line, msg);
        return core_error_set(err, error, "%s: %s", file, msg);
}

/* Opens path as a regular file (never blocking on a FIFO) and parses it.
 * -ENOENT is returned without a message. */
static int read_config_file(config_t *cfg, const char *path, CoreError *err) {
        _cleanup_close_ int fd = -1;
        _cleanup_fclose_ FILE *f = NULL;
        struct stat st;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                if (r == -ENOENT)
                        return r;
                return core_error_set(err, r, "%s: cannot open: %s", path, strerror(-r));
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                return core_error_set(err, r, "%s: cannot stat: %s", path, strerror(-r));
        }
        if (!S_ISREG(st.st_mode))
                return core_error_set(err, EINVAL, "%s: not a regular file", path);
        if (st.st_size > CONFIG_FILE_SIZE_MAX)
                return core_error_set(err, EFBIG, "%s: file is larger than %d bytes", path,
                                      CONFIG_FILE_SIZE_MAX);

        f = fdopen(fd, "r");
        if (!f) {
                r = -errno;
                return core_error_set(err, r, "%s: cannot open: %s", path, strerror(-r));
        }
        fd = -1; /* owned by f now */

        if (config_read(cfg, f) != CONFIG_TRUE) {
                const char *file = config_error_file(cfg) ?: path;

                if (config_error_type(cfg) == CONFIG_ERR_FILE_IO)
                        return core_error_set(err, EIO, "%s: %s", file,
                                              config_error_text(cfg) ?: "read error");
                return core_error_set(err, EINVAL, "%s:%d: %s", file, config_error_line(cfg),
                                      config_error_text(cfg) ?: "syntax error");
        }
        return 0;
}

static int check_unknown_settings(const config_setting_t *root, const char *path, CoreError *err) {
        int n = config_setting_length(root);

        for (int i = 0; i < n; i++) {
                const config_setting_t *s = config_setting_get_elem(root, (unsigned) i);
                const char *name = config_setting_name(s);
                bool known = false;

                for (size_t j = 0; j < ELEMENTSOF(config_settings); j++)
                        if (name && streq(name, config_settings[j])) {
                                known = true;
                                break;
                        }
                if (!known)
                        return setting_error(err, EINVAL, path, s, "unknown setting '%s'", name ?: "?");
        }
        return 0;
}

/* Integer seconds or a duration string; absent leaves *ret alone. */
static int get_duration(const config_setting_t *root, const char *name, const char *path, int64_t *ret,
                        CoreError *err) {
        const config_setting_t *s;

        s = config_setting_get_member(root, name);
        if (!s)
                return 0;

        switch (config_setting_type(s)) {
        case CONFIG_TYPE_INT:
        case CONFIG_TYPE_INT64: {
                long long v = config_setting_get_int64(s);

                if (v < 0 || v > INT64_MAX / 4)
                        return setting_error(err, EINVAL, path, s,
                                             "%s must be a duration of 0 or more seconds", name);
                *ret = (int64_t) v;
                return 1;
        }
        case CONFIG_TYPE_STRING: {
                CoreError derr = {};
                int64_t v;
                int r;

                r = duration_parse(config_setting_get_string(s), &v, &derr);
                if (r < 0)
                        return setting_error(err, r, path, s, "%s: %s", name, core_error_message(&derr, r));
                *ret = v;
                return 1;
        }
        default:
                return setting_error(
                        err, EINVAL, path, s,
                        "%s must be a duration (integer seconds or a string like \"30s\"), not %s", name,
                        setting_type_to_string(s));
        }
}

/* Returns 1 and the string if the setting exists, 0 if not. */
static int get_string(const config_setting_t *root, const char *name, const char *path,
                      const config_setting_t **ret_setting, const char **ret, CoreError *err) {
        const config_setting_t *s;

        s = config_setting_get_member(root, name);
        if (!s)
                return 0;
        if (config_setting_type(s) != CONFIG_TYPE_STRING)
                return setting_error(err, EINVAL, path, s, "%s must be a string, not %s", name,
                                     setting_type_to_string(s));
        *ret_setting = s;
        *ret = config_setting_get_string(s);
        return 1;
}

static bool proxy_is_valid(const char *s) {
        static const char *const schemes[] = {
                "http://", "https://", "socks4://", "socks4a://", "socks5://", "socks5h://",
        };
        const char *rest = NULL;

        if (strlen(s) > CONFIG_URL_MAX)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(schemes); i++)
                if (strncasecmp(s, schemes[i], strlen(schemes[i])) == 0) {
                        rest = s + strlen(schemes[i]);
                        break;
                }
        if (!rest || !*rest || *rest == '/')
                return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f)
                        return false;
        return true;
}

static const char *printable_or(const char *s) {
        return utf8_is_printable(s, strlen(s), false) ? s : "(unprintable)";
}

void licensed_config_init(Config *c) {
        assert(c);

        *c = (Config){
                .idle_timeout = CONFIG_DEFAULT_IDLE_TIMEOUT,
                .max_grace_period = CONFIG_DEFAULT_MAX_GRACE_PERIOD,
                .clock_tolerance = CONFIG_DEFAULT_CLOCK_TOLERANCE,
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

        r = read_config_file(&cfg, path, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;

        root = config_root_setting(&cfg);
        r = check_unknown_settings(root, path, err);
        if (r < 0)
                return r;

        /* Parse into a copy so that a bad file leaves c exactly as it was. */
        n = *c;

        r = get_duration(root, "idle_timeout", path, &n.idle_timeout, err);
        if (r < 0)
                return r;
        r = get_duration(root, "max_grace_period", path, &n.max_grace_period, err);
        if (r < 0)
                return r;
        r = get_duration(root, "clock_tolerance", path, &n.clock_tolerance, err);
        if (r < 0)
                return r;
        r = get_duration(root, "http_timeout", path, &n.http_timeout, err);
        if (r < 0)
                return r;
        if (r > 0 && n.http_timeout == 0)
                return setting_error(err, EINVAL, path, config_setting_get_member(root, "http_timeout"),
                                     "http_timeout must be more than 0 seconds");

        r = get_string(root, "ca_file", path, &s, &v, err);
        if (r < 0)
                return r;
        if (r > 0) {
                if (v[0] != '/' || strlen(v) >= PATH_MAX || !utf8_is_printable(v, strlen(v), false))
                        return setting_error(err, EINVAL, path, s,
                                             "ca_file must be an absolute path, not '%.80s'",
                                             printable_or(v));
                ca_file = strdup(v);
                if (!ca_file)
                        return -ENOMEM;
        }

        r = get_string(root, "proxy", path, &s, &v, err);
        if (r < 0)
                return r;
        if (r > 0) {
                if (!proxy_is_valid(v))
                        return setting_error(
                                err, EINVAL, path, s,
                                "proxy must be a URL like http://proxy.example.com:3128 (schemes "
                                "http, https, socks4, socks4a, socks5, socks5h), not '%.80s'",
                                printable_or(v));
                proxy = strdup(v);
                if (!proxy)
                        return -ENOMEM;
        }

        c->idle_timeout = n.idle_timeout;
        c->max_grace_period = n.max_grace_period;
        c->clock_tolerance = n.clock_tolerance;
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
