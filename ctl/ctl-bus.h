/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Talking to licensed: connecting, calling with a bounded timeout, reading
 * properties, and turning D-Bus errors into one sentence and an exit status.
 * Every function here that can fail prints the reason and returns an exit
 * status (0 = success), see licensectl.h. */

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "bus-contract.h"
#include "licensectl.h"

/* Reading state: the daemon answers from memory. */
#define CTL_TIMEOUT_USEC (25 * USEC_PER_SEC)
/* Anything that may talk to a vendor's server or wait for a polkit password. */
#define CTL_TIMEOUT_LONG_USEC (90 * USEC_PER_SEC)

/* Connects c->bus if it is not yet: --bus-address, $LICENSECTL_BUS_ADDRESS,
 * or the system bus. */
int ctl_bus_connect(Ctl *c);

/* Prints the failure of a call (r < 0, error possibly set): the daemon's
 * message, or "cannot reach licensed: ..." for a missing bus, service or
 * answer. Returns CTL_EXIT_UNREACHABLE or CTL_EXIT_FAILURE. */
int ctl_bus_error(const sd_bus_error *error, int r);

/* Calls method of the object at path. types/...: the arguments as for
 * sd_bus_message_append(); NULL for none. */
int ctl_call_at(Ctl *c, const char *path, const char *interface, const char *method, uint64_t timeout_usec,
                sd_bus_message **ret_reply, const char *types, ...);

/* Calls method of the manager object: ctl_call(c, method, timeout_usec,
 * ret_reply, types, ...). */
#define ctl_call(c, method, timeout_usec, ret_reply, ...)                                                          \
        ctl_call_at(c, LICENSED_MANAGER_PATH, LICENSED_MANAGER_INTERFACE, method, timeout_usec, ret_reply, __VA_ARGS__)

/* As ctl_call(), but an error of licensed's own (not "cannot reach
 * licensed") is not printed: it is moved to *ret_error and the negative
 * errno returned, for the caller to look at and report with
 * ctl_bus_error(). Other failures are printed and return an exit status
 * (> 0). */
int ctl_call_or_error(Ctl *c, const char *method, uint64_t timeout_usec, sd_bus_error *ret_error,
                      sd_bus_message **ret_reply, const char *types, ...);

/* Reads the answer to method as sd_bus_message_read() does; says so if
 * it cannot be read. */
int ctl_read_reply(sd_bus_message *reply, const char *method, const char *types, ...);

/* Reads a property into a field of a struct; see ctl_get_all(). */
typedef int (*CtlPropertyParse)(sd_bus_message *m, void *field);

typedef struct CtlProperty {
        const char *name;
        const char *signature; /* "s", "o", "u", "t", "b", or any with parse */
        CtlPropertyParse parse; /* NULL for the basic types above */
        size_t offset;         /* of the field in the struct */
} CtlProperty;

/* GetAll on path/interface; fills the fields of data named in map (array
 * ending with an empty entry). Unknown properties and properties with an
 * unexpected signature are skipped, fields of missing ones stay as they
 * were. Strings point into *ret_reply, which the caller keeps and unrefs. */
int ctl_get_all(Ctl *c, const char *path, const char *interface, const CtlProperty map[], void *data,
                sd_bus_message **ret_reply);

/* The path of license id (GetLicense). */
int ctl_get_license_path(Ctl *c, const char *id, sd_bus_message **ret_reply, const char **ret_path);

/* The Id of the license at path; falls back to decoding the path. */
int ctl_license_id(Ctl *c, const char *path, char **ret);
