/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/stat.h>

#include "conf-file.h"
#include "text-check.h"
#include "timeutil.h"

#define MESSAGE_MAX sizeof(((CoreError *) NULL)->message)

int conf_file_read(config_t *cfg, const char *path, bool missing_ok, CoreError *err) {
        _cleanup_close_ int fd = -1;
        _cleanup_fclose_ FILE *f = NULL;
        struct stat st;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                if (r == -ENOENT && missing_ok)
                        return r;
                return core_error_set(err, r, "%s: cannot open: %s", path, strerror(-r));
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                return core_error_set(err, r, "%s: cannot stat: %s", path, strerror(-r));
        }
        if (!S_ISREG(st.st_mode))
                return core_error_set(err, EINVAL, "%s: not a regular file", path);
        if (st.st_size > CONF_FILE_SIZE_MAX)
                return core_error_set(err, EFBIG, "%s: file is larger than %d bytes", path,
                                      CONF_FILE_SIZE_MAX);

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

int conf_file_read_settings(config_t *cfg, const char *path, bool missing_ok, const char *const *known,
                            size_t n_known, const config_setting_t **ret_root, CoreError *err) {
        int r = conf_file_read(cfg, path, missing_ok, err);

        if (r < 0)
                return r;
        *ret_root = config_root_setting(cfg);
        return conf_check_unknown_settings(*ret_root, known, n_known, path, err);
}

const char *conf_setting_type_to_string(const config_setting_t *s) {
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

int conf_setting_error(CoreError *err, int error, const char *path, const config_setting_t *s,
                       const char *fmt, ...) {
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

int conf_check_unknown_settings(const config_setting_t *root, const char *const *known, size_t n_known,
                                const char *path, CoreError *err) {
        int n = config_setting_length(root);

        for (int i = 0; i < n; i++) {
                const config_setting_t *s = config_setting_get_elem(root, (unsigned) i);
                const char *name = config_setting_name(s);
                bool found = false;

                for (size_t j = 0; j < n_known; j++)
                        if (name && streq(name, known[j])) {
                                found = true;
                                break;
                        }
                if (!found)
                        return conf_setting_error(err, EINVAL, path, s, "unknown setting '%s'", name ?: "?");
        }
        return 0;
}

int conf_get_string(const config_setting_t *root, const char *name, bool required, const char *path,
                    const config_setting_t **ret_setting, const char **ret, CoreError *err) {
        const config_setting_t *s;

        s = config_setting_get_member(root, name);
        if (!s) {
                if (required)
                        return conf_setting_error(err, EINVAL, path, NULL,
                                                  "required setting '%s' is missing", name);
                *ret_setting = NULL;
                *ret = NULL;
                return 0;
        }
        if (config_setting_type(s) != CONFIG_TYPE_STRING)
                return conf_setting_error(err, EINVAL, path, s, "%s must be a string, not %s", name,
                                          conf_setting_type_to_string(s));
        *ret_setting = s;
        *ret = config_setting_get_string(s);
        return 1;
}

int conf_get_duration(const config_setting_t *root, const char *name, const char *example, const char *path,
                      int64_t *ret, CoreError *err) {
        const config_setting_t *s;

        s = config_setting_get_member(root, name);
        if (!s)
                return 0;

        switch (config_setting_type(s)) {
        case CONFIG_TYPE_INT:
        case CONFIG_TYPE_INT64: {
                long long v = config_setting_get_int64(s);

                if (v < 0 || v > INT64_MAX / 4)
                        return conf_setting_error(err, EINVAL, path, s,
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
                        return conf_setting_error(err, r, path, s, "%s: %s", name,
                                                  core_error_message(&derr, r));
                *ret = v;
                return 1;
        }
        default:
                return conf_setting_error(
                        err, EINVAL, path, s,
                        "%s must be a duration (integer seconds or a string like \"%s\"), not %s", name,
                        example, conf_setting_type_to_string(s));
        }
}

bool conf_url_is_valid(const char *s, const char *const *schemes, size_t n_schemes) {
        const char *rest = NULL;

        if (strlen(s) > CONF_URL_MAX)
                return false;
        for (size_t i = 0; i < n_schemes; i++)
                if (strncasecmp(s, schemes[i], strlen(schemes[i])) == 0) {
                        rest = s + strlen(schemes[i]);
                        break;
                }
        if (!rest || !*rest || *rest == '/')
                return false; /* no host */
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f)
                        return false;
        return true;
}

const char *conf_printable_value(const char *s) {
        return utf8_is_printable(s, strlen(s), false) ? s : "(unprintable)";
}
