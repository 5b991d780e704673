/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The hardware id a trial request carries (docs/protocol.md, "Trials"):
 * derived from the firmware's system UUID, which a reinstall of the OS
 * keeps while /etc/machine-id is made anew. Reading the UUID needs root,
 * so "licensed --write-hardware-id=PATH" runs as root before the daemon
 * (licensed.service's ExecStartPre=+) and leaves only the derived id for
 * the unprivileged daemon to read. The raw UUID never leaves the machine:
 * what is sent is HMAC-SHA256 keyed with licensed's application id, the
 * same per-application idea as the machine id. */

#include "request.h"

#define HARDWARE_ID_HEX_LEN MACHINE_REQUEST_HARDWARE_ID_HEX_LEN
#define HARDWARE_ID_FILE "hardware-id"
#define DMI_PRODUCT_UUID_PATH "/sys/class/dmi/id/product_uuid"

/* The hardware id of a system UUID as the firmware reports it (any case,
 * surrounding whitespace allowed): 0 with out filled in, -EINVAL for text
 * that is not a UUID, -ENODATA for a placeholder firmware writes when it
 * has no real UUID (all zeros, all F, 03000200-0400-0500-0006-000700080009). */
int hardware_id_derive(const char *uuid, char out[static HARDWARE_ID_HEX_LEN + 1]);

/* Reads the UUID at dmi_path and writes its hardware id plus a newline to
 * path atomically, mode 0644: 1. Without a usable UUID (no such file, a
 * placeholder, junk, unreadable) it removes path instead and returns 0,
 * with why in *ret_why (a negative errno as hardware_id_derive() or
 * reading dmi_path gave it), so that a machine whose UUID went away does
 * not keep sending an old id. Negative errno if path could not be written
 * or removed. */
int hardware_id_write(const char *dmi_path, const char *path, int *ret_why);

/* The hardware id in runtime_dir/hardware-id, strictly 32 lower-case hex
 * digits and a newline: 0, -ENOENT if there is none, -EBADMSG if the file
 * holds anything else, other negative errno if it could not be read. */
int hardware_id_read(const char *runtime_dir, char out[static HARDWARE_ID_HEX_LEN + 1]);
