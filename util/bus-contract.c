/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "bus-contract.h"
#include "macro.h"
#include "strutil.h"

const sd_bus_error_map licensed_bus_error_map[] = {
        SD_BUS_ERROR_MAP(BUS_ERROR_NO_SUCH_LICENSE, ENOENT),
        SD_BUS_ERROR_MAP(BUS_ERROR_NO_SUCH_PRODUCT, ENXIO),
        SD_BUS_ERROR_MAP(BUS_ERROR_INVALID_KEY, EINVAL),
        SD_BUS_ERROR_MAP(BUS_ERROR_INVALID_LICENSE, EBADMSG),
        SD_BUS_ERROR_MAP(BUS_ERROR_BAD_SIGNATURE, EKEYREJECTED),
        SD_BUS_ERROR_MAP(BUS_ERROR_UNTRUSTED_KEY, ENOKEY),
        SD_BUS_ERROR_MAP(BUS_ERROR_WRONG_MACHINE, EXDEV),
        SD_BUS_ERROR_MAP(BUS_ERROR_NOT_BOUND, EBADMSG),
        SD_BUS_ERROR_MAP(BUS_ERROR_NONCE_MISMATCH, ESTALE),
        SD_BUS_ERROR_MAP(BUS_ERROR_STALE_REVISION, ESTALE),
        SD_BUS_ERROR_MAP(BUS_ERROR_NOT_SUPPORTED, EOPNOTSUPP),
        SD_BUS_ERROR_MAP(BUS_ERROR_STORAGE_FAILURE, EIO),
        SD_BUS_ERROR_MAP(BUS_ERROR_NO_SEAT, ENOENT),
        SD_BUS_ERROR_MAP(BUS_ERROR_EXITING, EAGAIN),
        SD_BUS_ERROR_MAP(BUS_ERROR_SERVER_UNREACHABLE, EHOSTUNREACH),
        SD_BUS_ERROR_MAP(BUS_ERROR_SERVER_REFUSED, EPERM),
        SD_BUS_ERROR_MAP(BUS_ERROR_BAD_SERVER_RESPONSE, EPROTO),
        SD_BUS_ERROR_MAP_END,
};

int licensed_bus_open(const char *address, const char *description, sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        assert(ret);

        if (isempty(address)) {
                r = sd_bus_open_system_with_description(&bus, description);
                if (r < 0)
                        return r;
        } else {
                r = sd_bus_new(&bus);
                if (r < 0)
                        return r;
                if (description)
                        (void) sd_bus_set_description(bus, description);
                r = sd_bus_set_address(bus, address);
                if (r < 0)
                        return r;
                r = sd_bus_set_bus_client(bus, true);
                if (r < 0)
                        return r;
                /* licensed asks who calls (polkit, root); clients lose nothing */
                (void) sd_bus_negotiate_creds(bus, true, SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID);
                r = sd_bus_start(bus);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(bus);
        return 0;
}

int licensed_bus_unreachable_errno(const sd_bus_error *e, int r) {
        static const struct {
                const char *name;
                int error;
        } names[] = {
                {SD_BUS_ERROR_SERVICE_UNKNOWN, ECONNREFUSED},
                {SD_BUS_ERROR_NAME_HAS_NO_OWNER, ECONNREFUSED},
                {SD_BUS_ERROR_NO_SERVER, ECONNREFUSED},
                {SD_BUS_ERROR_DISCONNECTED, ECONNRESET},
                {SD_BUS_ERROR_NO_REPLY, ETIMEDOUT},
                {SD_BUS_ERROR_TIMEOUT, ETIMEDOUT},
                {"org.freedesktop.DBus.Error.TimedOut", ETIMEDOUT},
        };

        if (e && sd_bus_error_is_set(e)) {
                for (size_t i = 0; i < ELEMENTSOF(names); i++)
                        if (sd_bus_error_has_name(e, names[i].name))
                                return names[i].error;
                /* The bus could not start licensed (bus activation), or
                 * systemd would not (a masked or broken unit). */
                if (startswith(e->name, "org.freedesktop.DBus.Error.Spawn.") ||
                    startswith(e->name, "org.freedesktop.systemd1."))
                        return ECONNREFUSED;
                /* The bus policy refused the call before it reached licensed
                 * (dbus-daemon's and dbus-broker's words). licensed's own
                 * AccessDenied, from polkit, says "Not authorized for". */
                if (sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED) && e->message &&
                    (startswith(e->message, "Rejected send message") ||
                     startswith(e->message, "Rejected receive message") ||
                     startswith(e->message, "Sender is not authorized")))
                        return ECONNREFUSED;
                return 0;
        }

        switch (-r) {
        case ECONNREFUSED:
        case ENOENT: /* no socket */
        case EHOSTUNREACH:
                return ECONNREFUSED;
        case ECONNRESET:
        case ENOTCONN:
        case EPIPE:
        case ESHUTDOWN:
                return ECONNRESET;
        case ETIMEDOUT:
                return ETIMEDOUT;
        default:
                return 0;
        }
}
