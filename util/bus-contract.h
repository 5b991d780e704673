/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The D-Bus contract of licensed, in one place for the daemon, licensectl,
 * the plugins and the benchmark: the names (dbus/org.licensed.License1.xml
 * is the API's source of truth; docs/dbus-api.md describes it), the error
 * names a client may see with their errno values, the application id
 * licenses are bound with, how a program opens its bus, and which failures
 * mean "licensed cannot be asked" rather than "licensed said no". */

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>

#define LICENSED_BUS_NAME "org.licensed.License1"
#define LICENSED_MANAGER_PATH "/org/licensed/License1"
#define LICENSED_LICENSE_PATH_PREFIX "/org/licensed/License1/license"
#define LICENSED_MANAGER_INTERFACE "org.licensed.License1.Manager"
#define LICENSED_LICENSE_INTERFACE "org.licensed.License1.License"

/* org.licensed.License1.Error.*: every name a client may see. */
#define BUS_ERROR_PREFIX "org.licensed.License1.Error."
#define BUS_ERROR_NO_SUCH_LICENSE BUS_ERROR_PREFIX "NoSuchLicense"
#define BUS_ERROR_NO_SUCH_PRODUCT BUS_ERROR_PREFIX "NoSuchProduct"
#define BUS_ERROR_INVALID_KEY BUS_ERROR_PREFIX "InvalidKey"
#define BUS_ERROR_INVALID_LICENSE BUS_ERROR_PREFIX "InvalidLicense"
#define BUS_ERROR_BAD_SIGNATURE BUS_ERROR_PREFIX "BadSignature"
#define BUS_ERROR_UNTRUSTED_KEY BUS_ERROR_PREFIX "UntrustedKey"
#define BUS_ERROR_WRONG_MACHINE BUS_ERROR_PREFIX "WrongMachine"
#define BUS_ERROR_NOT_BOUND BUS_ERROR_PREFIX "NotBound"
#define BUS_ERROR_NONCE_MISMATCH BUS_ERROR_PREFIX "NonceMismatch"
#define BUS_ERROR_STALE_REVISION BUS_ERROR_PREFIX "StaleRevision"
#define BUS_ERROR_NOT_SUPPORTED BUS_ERROR_PREFIX "NotSupported"
#define BUS_ERROR_STORAGE_FAILURE BUS_ERROR_PREFIX "StorageFailure"
#define BUS_ERROR_NO_SEAT BUS_ERROR_PREFIX "NoSeat"
#define BUS_ERROR_EXITING BUS_ERROR_PREFIX "Exiting"
#define BUS_ERROR_SERVER_UNREACHABLE BUS_ERROR_PREFIX "ServerUnreachable"
#define BUS_ERROR_SERVER_REFUSED BUS_ERROR_PREFIX "ServerRefused"
#define BUS_ERROR_BAD_SERVER_RESPONSE BUS_ERROR_PREFIX "BadServerResponse"

/* Each error name above with the errno sd_bus_error_get_errno() (and so
 * sd_bus_call()) gives for it once a client adds the map with
 * sd_bus_error_add_map(). Clients only: in licensed the map would also turn
 * a handler's plain errno into one of these names. */
extern const sd_bus_error_map licensed_bus_error_map[];

/* licensed's application id for sd_id128_get_machine_app_specific(): the
 * machine id itself never leaves the machine, only this keyed hash of it,
 * which licenses are bound to. Changing it unbinds every license in the
 * field. bench/make-licenses.c binds its licenses with it too. */
#define LICENSED_APP_ID SD_ID128_MAKE(6b, 1e, 0d, 5f, a2, 93, 4c, 7e, b8, 51, 3d, c4, 09, e7, 2a, f6)

/* Opens the bus licensed is on: ADDRESS if not empty (a private bus, as a
 * bus client that negotiates the peer's credentials), else the system bus.
 * DESCRIPTION names the connection in sd-bus's debug output. Returns
 * negative errno; *ret only on success. */
int licensed_bus_open(const char *address, const char *description, sd_bus **ret);

/* Whether a failed call means licensed could not be asked (no bus, no
 * daemon, the bus could not or systemd would not start it, the bus policy
 * refused the call, no answer in time), as opposed to an answer from
 * licensed. E is the error reply, if any; R the call's return value.
 * Returns the errno that says which: ECONNREFUSED (nobody to ask),
 * ECONNRESET (the connection went away), ETIMEDOUT (no answer in time); or
 * 0 when licensed answered. */
int licensed_bus_unreachable_errno(const sd_bus_error *e, int r);
