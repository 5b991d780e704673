/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensectl: connecting to licensed, calls, properties, error sentences. */

#include <stdarg.h>

#include "ctl-bus.h"
#include "ctl-polkit-agent.h"
#include "strutil.h"

#define UNREACHABLE_HINT "(is the bus running? is licensed installed?)"

int ctl_bus_connect(Ctl *c) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *address, *where;
        int r;

        assert(c);

        if (c->bus)
                return 0;

        /* licensed's error names with their errno, for sd_bus_call()'s result */
        (void) sd_bus_error_add_map(licensed_bus_error_map);
        address = c->bus_address ?: getenv("LICENSECTL_BUS_ADDRESS");
        where = isempty(address) ? "the system bus" : address;
        r = licensed_bus_open(address, "licensectl", &bus);
        if (r < 0)
                return report_error(CTL_EXIT_UNREACHABLE,
                                    "cannot reach licensed: cannot connect to %s: %s " UNREACHABLE_HINT,
                                    where, strerror(-r));

        /* Both the flag on every message and the "b interactive" argument:
         * polkit looks at the former, licensed passes on the latter. */
        (void) sd_bus_set_allow_interactive_authorization(bus, c->interactive);
        c->bus = TAKE_PTR(bus);
        return 0;
}

int ctl_bus_error(const sd_bus_error *error, int r) {
        const char *message;

        if (error && sd_bus_error_is_set(error))
                message = error->message ?: error->name;
        else
                message = strerror(r < 0 ? -r : r);

        if (r == -ETIMEDOUT) /* our timeout, or the bus's NoReply with its long text */
                message = "no answer in time";
        if (licensed_bus_unreachable_errno(error, r) != 0)
                return report_error(CTL_EXIT_UNREACHABLE, "cannot reach licensed: %s " UNREACHABLE_HINT,
                                    message);

        if (error && sd_bus_error_has_name(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
                return report_error(
                        CTL_EXIT_FAILURE,
                        "%s Run it as root, or on a terminal without --no-ask-password to be asked "
                        "for a password.",
                        message);

        return report_error(CTL_EXIT_FAILURE, "%s", message);
}

/* The methods licensed authorizes with polkit (docs/dbus-api.md). */
static bool method_may_ask_password(const char *method) {
        static const char *const changing[] = {
                "Activate",   "RequestOfflineActivation", "InstallLicense",
                "Deactivate", "Validate",                 "RequestOfflineValidation",
                "JoinSite",   "LeaveSite",                "Borrow",
                "ReturnBorrowed",
        };

        for (size_t i = 0; i < ELEMENTSOF(changing); i++)
                if (streq(method, changing[i]))
                        return true;
        return false;
}

static int call_va(Ctl *c, const char *path, const char *interface, const char *method, uint64_t timeout_usec,
                   sd_bus_error *ret_error, sd_bus_message **ret_reply, const char *types, va_list ap) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        assert(c);
        assert(method);

        r = ctl_bus_connect(c);
        if (r != 0)
                return r;
        if (method_may_ask_password(method))
                polkit_agent_open_if_needed(c);

        r = sd_bus_message_new_method_call(c->bus, &m, LICENSED_BUS_NAME, path, interface, method);
        if (r >= 0 && types)
                r = sd_bus_message_appendv(m, types, ap);
        if (r < 0)
                /* Strings that are not UTF-8 end up here. */
                return report_error(CTL_EXIT_FAILURE, "cannot pass the arguments of %s to licensed: %s",
                                    method, strerror(-r));

        r = sd_bus_call(c->bus, m, timeout_usec, &error, &reply);
        if (r < 0 && ret_error && licensed_bus_unreachable_errno(&error, r) == 0) {
                sd_bus_error_move(ret_error, &error);
                return r;
        }
        if (r < 0)
                return ctl_bus_error(&error, r);

        if (ret_reply)
                *ret_reply = TAKE_PTR(reply);
        return 0;
}

int ctl_call_at(Ctl *c, const char *path, const char *interface, const char *method, uint64_t timeout_usec,
                sd_bus_message **ret_reply, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = call_va(c, path, interface, method, timeout_usec, NULL, ret_reply, types, ap);
        va_end(ap);
        return r;
}

int ctl_call_or_error(Ctl *c, const char *method, uint64_t timeout_usec, sd_bus_error *ret_error,
                      sd_bus_message **ret_reply, const char *types, ...) {
        va_list ap;
        int r;

        assert(ret_error);

        va_start(ap, types);
        r = call_va(c, LICENSED_MANAGER_PATH, LICENSED_MANAGER_INTERFACE, method, timeout_usec, ret_error,
                    ret_reply, types, ap);
        va_end(ap);
        return r;
}

int ctl_read_reply(sd_bus_message *reply, const char *method, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = sd_bus_message_readv(reply, types, ap);
        va_end(ap);
        if (r < 0)
                return report_error(CTL_EXIT_FAILURE,
                                    "licensed sent an answer to %s that cannot be read: %s", method,
                                    strerror(-r));
        return 0;
}

static int parse_basic(sd_bus_message *m, char type, void *field) {
        int b, r;

        switch (type) {
        case 's':
        case 'o':
        case 'u':
        case 't':
                return sd_bus_message_read_basic(m, type, field);
        case 'b':
                r = sd_bus_message_read_basic(m, 'b', &b);
                if (r >= 0)
                        *(bool *) field = b;
                return r;
        default:
                return -EINVAL;
        }
}

static const CtlProperty *property_find(const CtlProperty map[], const char *name) {
        for (const CtlProperty *p = map; p->name; p++)
                if (streq(p->name, name))
                        return p;
        return NULL;
}

static int parse_properties(sd_bus_message *m, const CtlProperty map[], void *data) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const CtlProperty *p;
                const char *name, *contents;

                r = sd_bus_message_read_basic(m, 's', &name);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r < 0)
                        return r;
                p = property_find(map, name);
                if (!p || !streq(contents, p->signature))
                        r = sd_bus_message_skip(m, "v");
                else {
                        void *field = (uint8_t *) data + p->offset;

                        r = sd_bus_message_enter_container(m, 'v', contents);
                        if (r < 0)
                                return r;
                        r = p->parse ? p->parse(m, field) : parse_basic(m, p->signature[0], field);
                        if (r < 0)
                                return r;
                        r = sd_bus_message_exit_container(m);
                }
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int ctl_get_all(Ctl *c, const char *path, const char *interface, const CtlProperty map[], void *data,
                sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        assert(ret_reply);

        r = ctl_call_at(c, path, "org.freedesktop.DBus.Properties", "GetAll", CTL_TIMEOUT_USEC, &reply, "s",
                        interface);
        if (r != 0)
                return r;
        r = parse_properties(reply, map, data);
        if (r < 0)
                return report_error(CTL_EXIT_FAILURE,
                                    "licensed sent properties of %s that cannot be read: %s", path,
                                    strerror(-r));
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

int ctl_get_license_path(Ctl *c, const char *id, sd_bus_message **ret_reply, const char **ret_path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = ctl_call(c, "GetLicense", CTL_TIMEOUT_USEC, &reply, "s", id);
        if (r != 0)
                return r;
        r = ctl_read_reply(reply, "GetLicense", "o", ret_path);
        if (r != 0)
                return r;
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

int ctl_license_id(Ctl *c, const char *path, char **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        char *id = NULL;

        assert(c->bus);

        /* The call that returned path succeeded: whatever happens here, do
         * not turn that success into a failure. */
        if (sd_bus_get_property_string(c->bus, LICENSED_BUS_NAME, path, LICENSED_LICENSE_INTERFACE, "Id", &error,
                                       &id) < 0 ||
            !id || !*id) {
                free(id);
                id = NULL;
                if (sd_bus_path_decode(path, LICENSED_LICENSE_PATH_PREFIX, &id) <= 0)
                        id = strdup(path);
        }
        if (!id)
                return ctl_oom();
        *ret = id;
        return 0;
}
