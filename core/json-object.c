/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "json-object.h"

/* Whether body has the escape \u0000 in it. json-c decodes it into the
 * string, where every C reader of the string stops early: a licensee
 * "A\u0000B" would become "A". A backslash escapes the character after it
 * (so "\\u0000" is no NUL); outside a string a backslash is a syntax
 * error the parser reports anyway. */
static bool has_escaped_nul(const char *body, size_t len) {
        for (size_t i = 0; i + 1 < len; i++)
                if (body[i] == '\\') {
                        if (body[i + 1] == 'u' && len - i >= 6 && memcmp(body + i + 2, "0000", 4) == 0)
                                return true;
                        i++;
                }
        return false;
}

int json_parse_object(const char *body, size_t len, json_object **ret, CoreError *err) {
        enum json_tokener_error e;
        json_tokener *tok;
        json_object *o;
        size_t end;

        assert(body || len == 0);
        assert(ret);

        if (len == 0)
                return core_error_set(err, EBADMSG, "the body is empty, not a JSON object");
        if (memchr(body, 0, len))
                return core_error_set(err, EBADMSG, "the body contains a NUL byte");
        if (has_escaped_nul(body, len))
                return core_error_set(err, EBADMSG, "the body contains a NUL character (\\u0000)");
        if (len > INT32_MAX)
                return core_error_set(err, EBADMSG, "the body is too large");

        tok = json_tokener_new_ex(JSON_DEPTH_MAX);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        o = json_tokener_parse_ex(tok, body, (int) len);
        e = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);

        if (e == json_tokener_continue) {
                json_object_put(o);
                return core_error_set(err, EBADMSG, "the body is not valid JSON: it ends too early");
        }
        if (e != json_tokener_success) {
                json_object_put(o);
                return core_error_set(err, EBADMSG, "the body is not valid JSON: %s at byte %zu",
                                      json_tokener_error_desc(e), end);
        }
        /* Only whitespace may follow; body need not be NUL-terminated. */
        size_t rest = end;
        while (rest < len && (body[rest] == ' ' || body[rest] == '\t' || body[rest] == '\r' || body[rest] == '\n'))
                rest++;
        if (rest != len) {
                json_object_put(o);
                return core_error_set(err, EBADMSG,
                                      "the body is not valid JSON: there is more text after the value, at byte %zu",
                                      end);
        }
        if (!json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return core_error_set(err, EDOM, "the body is JSON but not an object");
        }
        *ret = o;
        return 0;
}

int json_get_string(json_object *o, const char *name, bool required, const char **ret, CoreError *err) {
        json_object *v;

        assert(o);
        assert(name);
        assert(ret);

        if (!json_object_object_get_ex(o, name, &v) || json_object_is_type(v, json_type_null)) {
                if (required)
                        return core_error_set(err, ENOENT, "there is no \"%s\"", name);
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return core_error_set(err, EBADMSG, "\"%s\" is not a string", name);
        *ret = json_object_get_string(v);
        return 0;
}

static const char *error_member(json_object *o, const char *name) {
        json_object *e, *v;

        if (o && json_object_object_get_ex(o, "error", &e) && json_object_object_get_ex(e, name, &v) &&
            json_object_is_type(v, json_type_string))
                return json_object_get_string(v);
        return NULL;
}

const char *json_error_message(json_object *o) {
        return error_member(o, "message");
}

const char *json_error_code(json_object *o) {
        return error_member(o, "code");
}
